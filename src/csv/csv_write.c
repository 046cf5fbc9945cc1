/* The CSV writer: Arrow record batches to CSV text in memory (no I/O; the
 * dataset layer's ds_csv_write.c sends the text to a file or object). RFC
 * 4180: fields holding the delimiter, the quote, CR or LF are quoted with
 * the quote doubled inside; LF ends each row; a header row of the column
 * names first. Values are written the way pyarrow's CSV writer writes them,
 * so pyarrow.csv reads the text back to equal values: shortest round-trip
 * floats ("0.1", "1e+20", "nan"), ISO 8601 dates, times and timestamps
 * with the unit's digits of fraction ("2020-01-01 10:00:00.250000", a "Z"
 * when the type has a zone), decimals with their scale ("-1.50"),
 * true/false, and nulls as the null string (default empty). */
#include "csv_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hoist_csv_writer {
    struct ArrowSchema schema; /* a copy: struct of the columns */
    uint8_t delim, quote;
    bool header, header_done, quote_strings;
    bool at_start; /* nothing written yet: a leading BOM would be taken for the file's */
    char *null_str;
    size_t null_len;
    struct hx_buf out;
};

/* ---- types ------------------------------------------------------------- */

static bool decimal_format(const char *f, int *scale, int *bits) {
    int prec = 0;
    *bits = 128;
    if (f[0] != 'd' || f[1] != ':') return false;
    int n = sscanf(f + 2, "%d,%d,%d", &prec, scale, bits);
    return n >= 2 && (*bits == 32 || *bits == 64 || *bits == 128 || *bits == 256);
}

/* Formats the writer can write (dictionaries: of such values). */
static bool supported(const struct ArrowSchema *s) {
    const char *f = s->format;
    if (s->dictionary) return strchr("cCsSiIlL", f[0]) && !f[1] && supported(s->dictionary);
    if (f[0] && !f[1]) return strchr("nbcCsSiIlLfguUzZ", f[0]) != NULL;
    if (!strcmp(f, "vu") || !strcmp(f, "vz") || !strcmp(f, "tdD") || !strcmp(f, "tdm")) return true;
    if (f[0] == 't' && f[1] == 's' && strchr("smun", f[2]) && f[3] == ':') return true;
    if (f[0] == 't' && f[1] == 't' && f[2] && strchr("smun", f[2]) && !f[3]) return true;
    int scale, bits;
    return decimal_format(f, &scale, &bits);
}

/* ---- one value ---------------------------------------------------------- */

static bool is_valid(const struct ArrowArray *a, int64_t j) {
    const uint8_t *v = a->n_buffers ? a->buffers[0] : NULL;
    return !v || a->null_count == 0 || ((v[j >> 3] >> (j & 7)) & 1);
}

static int64_t unit_per_second(char u) { return u == 's' ? 1 : u == 'm' ? 1000 : u == 'u' ? 1000000 : 1000000000; }

static int unit_digits(char u) { return u == 's' ? 0 : u == 'm' ? 3 : u == 'u' ? 6 : 9; }

/* "HH:MM:SS[.fff]" of a time of day (or of a timestamp's day) in buf. */
static int clock_text(char *buf, size_t cap, int64_t secs_of_day, int64_t frac, char unit) {
    int n = snprintf(buf, cap, "%02d:%02d:%02d", (int)(secs_of_day / 3600), (int)(secs_of_day / 60 % 60),
                     (int)(secs_of_day % 60));
    if (unit != 's' && n > 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, ".%0*" PRId64, unit_digits(unit), frac);
    return n;
}

/* An unscaled two's complement integer of `bits` (little-endian words) as
 * decimal text with `scale` digits after the point. */
static void decimal_text(const uint8_t *p, int bits, int scale, char *buf, size_t cap) {
    uint32_t w[8] = {0};
    size_t nw = (size_t)bits / 32;
    memcpy(w, p, nw * 4);
    bool neg = (w[nw - 1] >> 31) & 1;
    if (neg) { /* negate: invert and add one */
        uint64_t carry = 1;
        for (size_t i = 0; i < nw; i++) {
            uint64_t x = (uint64_t)(uint32_t)~w[i] + carry;
            w[i] = (uint32_t)x;
            carry = x >> 32;
        }
    }
    char digits[90];
    size_t nd = 0;
    for (;;) { /* repeated division by 10 over the words, most significant first */
        bool zero = true;
        uint64_t rem = 0;
        for (size_t i = nw; i-- > 0;) {
            uint64_t cur = (rem << 32) | w[i];
            w[i] = (uint32_t)(cur / 10);
            rem = cur % 10;
            if (w[i]) zero = false;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero) break;
    }
    while ((int)nd <= scale) digits[nd++] = '0'; /* at least one digit before the point */
    size_t k = 0;
    if (neg && k + 1 < cap) buf[k++] = '-';
    for (size_t i = nd; i-- > 0 && k + 2 < cap;) {
        buf[k++] = digits[i];
        if (scale > 0 && i == (size_t)scale) buf[k++] = '.';
    }
    buf[k] = '\0';
}

/* Shortest round-trip text in Arrow's style (double-conversion's
 * ToShortest with decimal notation for decimal exponents -6..9, else
 * "d.ddde+X"): "0.000001", "1e-7", "123456789", "1e+10", "-0", "nan". */
static void float_text(double d, bool single, char *buf, size_t cap) {
    if (isnan(d)) {
        snprintf(buf, cap, "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, cap, d < 0 ? "-inf" : "inf");
        return;
    }
    char e[40];
    for (int p = 0; p <= 16; p++) { /* p + 1 significant digits */
        snprintf(e, sizeof e, "%.*e", p, d);
        if (single ? strtof(e, NULL) == (float)d : strtod(e, NULL) == d) break;
    }
    /* e is [-]D[.DDD]e±XX: collect the digits and the exponent */
    bool neg = e[0] == '-';
    char digits[24];
    size_t nd = 0;
    const char *q = e + neg;
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int x = atoi(q + 1);
    size_t k = 0;
    if (neg) buf[k++] = '-';
    if (x >= -6 && x < 10) {
        if (x < 0) {
            buf[k++] = '0';
            buf[k++] = '.';
            for (int z = -1; z > x; z--) buf[k++] = '0';
            for (size_t i = 0; i < nd; i++) buf[k++] = digits[i];
        } else {
            for (int i = 0; i <= x; i++) buf[k++] = (size_t)i < nd ? digits[i] : '0';
            if (nd > (size_t)x + 1) {
                buf[k++] = '.';
                for (size_t i = (size_t)x + 1; i < nd; i++) buf[k++] = digits[i];
            }
        }
        buf[k] = '\0';
        return;
    }
    buf[k++] = digits[0];
    if (nd > 1) {
        buf[k++] = '.';
        for (size_t i = 1; i < nd; i++) buf[k++] = digits[i];
    }
    snprintf(buf + k, cap - k, "e%c%d", x < 0 ? '-' : '+', x < 0 ? -x : x);
}

/* Text of value j of array a (schema s), either in buf (NUL-terminated) or
 * as *str and *len pointing into the array (strings, binaries). */
static void value_text(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t j, char *buf, size_t cap,
                       const char **str, size_t *len) {
    const char *f = s->format;
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    *str = NULL;
    buf[0] = '\0';
    if (f[0] && !f[1]) {
        switch (f[0]) {
        case 'b': snprintf(buf, cap, "%s", (((const uint8_t *)v)[j >> 3] >> (j & 7)) & 1 ? "true" : "false"); return;
        case 'c': snprintf(buf, cap, "%d", ((const int8_t *)v)[j]); return;
        case 'C': snprintf(buf, cap, "%u", ((const uint8_t *)v)[j]); return;
        case 's': snprintf(buf, cap, "%d", ((const int16_t *)v)[j]); return;
        case 'S': snprintf(buf, cap, "%u", ((const uint16_t *)v)[j]); return;
        case 'i': snprintf(buf, cap, "%" PRId32, ((const int32_t *)v)[j]); return;
        case 'I': snprintf(buf, cap, "%" PRIu32, ((const uint32_t *)v)[j]); return;
        case 'l': snprintf(buf, cap, "%" PRId64, ((const int64_t *)v)[j]); return;
        case 'L': snprintf(buf, cap, "%" PRIu64, ((const uint64_t *)v)[j]); return;
        case 'f': float_text(((const float *)v)[j], true, buf, cap); return;
        case 'g': float_text(((const double *)v)[j], false, buf, cap); return;
        case 'u':
        case 'z': {
            const int32_t *off = v;
            *str = (const char *)a->buffers[2] + off[j];
            *len = (size_t)(off[j + 1] - off[j]);
            return;
        }
        case 'U':
        case 'Z': {
            const int64_t *off = v;
            *str = (const char *)a->buffers[2] + off[j];
            *len = (size_t)(off[j + 1] - off[j]);
            return;
        }
        default: return;
        }
    }
    if (f[0] == 'v') { /* string/binary view: 16-byte views, inline up to 12 bytes */
        const uint8_t *view = (const uint8_t *)v + 16 * (size_t)j;
        int32_t n, buf_index, offset;
        memcpy(&n, view, 4);
        *len = (size_t)n;
        if (n <= 12) {
            *str = (const char *)view + 4;
        } else {
            memcpy(&buf_index, view + 8, 4);
            memcpy(&offset, view + 12, 4);
            *str = (const char *)a->buffers[2 + buf_index] + offset;
        }
        return;
    }
    if (f[0] == 't' && f[1] == 'd') {
        int64_t days = f[2] == 'D' ? ((const int32_t *)v)[j] : ((const int64_t *)v)[j] / 86400000;
        if (f[2] == 'm' && ((const int64_t *)v)[j] % 86400000 < 0) days--;
        int64_t y;
        unsigned m, d;
        hx_civil_from_days(days, &y, &m, &d);
        snprintf(buf, cap, "%04" PRId64 "-%02u-%02u", y, m, d);
        return;
    }
    if (f[0] == 't' && (f[1] == 's' || f[1] == 't')) {
        char unit = f[2];
        int64_t t = f[1] == 't' && (unit == 's' || unit == 'm') ? ((const int32_t *)v)[j] : ((const int64_t *)v)[j];
        int64_t per = unit_per_second(unit), secs = t / per, frac = t % per;
        if (frac < 0) {
            frac += per;
            secs--;
        }
        if (f[1] == 't') {
            clock_text(buf, cap, secs, frac, unit);
            return;
        }
        int64_t days = secs / 86400, rem = secs % 86400;
        if (rem < 0) {
            rem += 86400;
            days--;
        }
        int64_t y;
        unsigned m, d;
        hx_civil_from_days(days, &y, &m, &d);
        int n = snprintf(buf, cap, "%04" PRId64 "-%02u-%02u ", y, m, d);
        n += clock_text(buf + n, cap - (size_t)n, rem, frac, unit);
        if (f[4] && (size_t)n + 1 < cap) snprintf(buf + n, cap - (size_t)n, "Z"); /* stored as UTC */
        return;
    }
    int scale, bits;
    if (decimal_format(f, &scale, &bits))
        decimal_text((const uint8_t *)v + (size_t)j * (size_t)(bits / 8), bits, scale, buf, cap);
}

/* ---- fields --------------------------------------------------------------- */

static hx_status put_field(struct hoist_csv_writer *w, const char *s, size_t n, bool is_string) {
    bool quote = is_string && w->quote_strings;
    for (size_t i = 0; i < n && !quote; i++) {
        uint8_t c = (uint8_t)s[i];
        quote = c == w->delim || c == '\n' || c == '\r' || (w->quote && c == w->quote);
    }
    /* a string spelled like the null string would read back as null */
    if (!quote && is_string && n == w->null_len && memcmp(s, w->null_str, n) == 0) quote = true;
    /* readers drop a UTF-8 BOM that starts the text: keep a value's own */
    if (!quote && w->at_start && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) quote = true;
    w->at_start = false;
    if (!quote) return hx_buf_append(&w->out, s, n);
    HX_FAIL_IF(!w->quote, HOIST_ERR_INVALID_ARG,
               "CSV writer: a value needs quoting (holds '%c', a line break or "
               "the null string) but quoting is off",
               w->delim);
    HX_TRY(hx_buf_reserve(&w->out, 2 * n + 2));
    char *o = w->out.data + w->out.len;
    *o++ = (char)w->quote;
    for (size_t i = 0; i < n; i++) {
        if ((uint8_t)s[i] == w->quote) *o++ = (char)w->quote;
        *o++ = s[i];
    }
    *o++ = (char)w->quote;
    w->out.len = (size_t)(o - w->out.data);
    return HOIST_OK;
}

static hx_status put_value(struct hoist_csv_writer *w, const struct ArrowSchema *s, const struct ArrowArray *a,
                           int64_t j) {
    if (s->format[0] == 'n' || !is_valid(a, j)) return hx_buf_append(&w->out, w->null_str, w->null_len);
    if (s->dictionary) { /* the index picks the dictionary's value */
        const void *v = a->buffers[1];
        int64_t k;
        switch (s->format[0]) {
        case 'c': k = ((const int8_t *)v)[j]; break;
        case 'C': k = ((const uint8_t *)v)[j]; break;
        case 's': k = ((const int16_t *)v)[j]; break;
        case 'S': k = ((const uint16_t *)v)[j]; break;
        case 'i': k = ((const int32_t *)v)[j]; break;
        case 'I': k = ((const uint32_t *)v)[j]; break;
        default: k = ((const int64_t *)v)[j]; break;
        }
        HX_FAIL_IF(k < 0 || k >= a->dictionary->length, HOIST_ERR_ARROW_INVALID,
                   "CSV writer: dictionary index %lld out of range", (long long)k);
        return put_value(w, s->dictionary, a->dictionary, a->dictionary->offset + k);
    }
    char buf[128];
    const char *str;
    size_t len = 0;
    value_text(s, a, j, buf, sizeof buf, &str, &len);
    if (str) return put_field(w, str, len, true);
    return put_field(w, buf, strlen(buf), false);
}

static hx_status put_header(struct hoist_csv_writer *w) {
    w->header_done = true;
    if (!w->header) return HOIST_OK;
    for (int64_t c = 0; c < w->schema.n_children; c++) {
        if (c) HX_TRY(hx_buf_append(&w->out, &w->delim, 1));
        const char *name = w->schema.children[c]->name ? w->schema.children[c]->name : "";
        HX_TRY(put_field(w, name, strlen(name), w->quote_strings));
    }
    return hx_buf_append(&w->out, "\n", 1);
}

/* ---- public ------------------------------------------------------------------ */

hx_status hoist_csv_writer_new(const struct hoist_csv_options *opts, const struct ArrowSchema *schema,
                               struct hoist_csv_writer **out) {
    HX_FAIL_IF(!out || !schema, HOIST_ERR_INVALID_ARG, "hoist_csv_writer_new: NULL argument");
    *out = NULL;
    HX_FAIL_IF(!schema->format || strcmp(schema->format, "+s") != 0, HOIST_ERR_INVALID_ARG,
               "hoist_csv_writer_new: the schema is not a struct of columns");
    for (int64_t c = 0; c < schema->n_children; c++)
        HX_FAIL_IF(!supported(schema->children[c]), HOIST_ERR_UNSUPPORTED,
                   "CSV writer: column '%s' has type '%s', which CSV cannot hold (nested or unknown)",
                   schema->children[c]->name ? schema->children[c]->name : "", schema->children[c]->format);
    struct hoist_csv_options o;
    HX_TRY(hx_csv_options_copy(opts, &o));
    struct hoist_csv_writer *w = hx_calloc(1, sizeof *w);
    hx_status st = w ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "CSV writer: out of memory");
    if (st == HOIST_OK) {
        hx_buf_init(&w->out);
        w->at_start = true;
        w->delim = o.delimiter < 0 ? ',' : (uint8_t)o.delimiter;
        w->quote = (uint8_t)o.quote;
        w->header = o.header != 0;
        w->quote_strings = o.quote_strings != 0;
        const char *ns = o.null_values.set && o.null_values.n ? o.null_values.v[0] : "";
        w->null_len = strlen(ns);
        if (!(w->null_str = hx_strdup(ns))) st = hx_error(HOIST_ERR_NOMEM, "CSV writer: out of memory");
    }
    if (st == HOIST_OK) st = hx_arrow_schema_copy(schema, &w->schema);
    for (size_t i = 0; st == HOIST_OK && i < w->null_len; i++)
        if ((uint8_t)w->null_str[i] == w->delim || w->null_str[i] == '\n' || w->null_str[i] == '\r' ||
            (w->quote && (uint8_t)w->null_str[i] == w->quote))
            st = hx_error(HOIST_ERR_INVALID_ARG, "CSV writer: the null string '%s' holds a special character",
                          w->null_str);
    hx_csv_options_reset(&o);
    if (st != HOIST_OK) {
        hoist_csv_writer_free(w);
        return st;
    }
    *out = w;
    return HOIST_OK;
}

void hoist_csv_writer_free(struct hoist_csv_writer *w) {
    if (!w) return;
    if (w->schema.release) w->schema.release(&w->schema);
    hx_free(w->null_str);
    hx_buf_reset(&w->out);
    hx_free(w);
}

hx_status hoist_csv_writer_write(struct hoist_csv_writer *w, const struct ArrowArray *batch, const void **text,
                                 size_t *len) {
    HX_FAIL_IF(!w || !text || !len, HOIST_ERR_INVALID_ARG, "hoist_csv_writer_write: NULL argument");
    *text = NULL;
    *len = 0;
    w->out.len = 0;
    if (!w->header_done) HX_TRY(put_header(w));
    if (batch) {
        HX_FAIL_IF(batch->n_children != w->schema.n_children, HOIST_ERR_ARROW_INVALID,
                   "hoist_csv_writer_write: a batch of %lld columns, the schema has %lld", (long long)batch->n_children,
                   (long long)w->schema.n_children);
        for (int64_t c = 0; c < batch->n_children; c++)
            HX_FAIL_IF(batch->children[c]->length < batch->offset + batch->length, HOIST_ERR_ARROW_INVALID,
                       "hoist_csv_writer_write: column %lld is shorter than the batch", (long long)c);
        for (int64_t r = 0; r < batch->length; r++) {
            for (int64_t c = 0; c < batch->n_children; c++) {
                if (c) HX_TRY(hx_buf_append(&w->out, &w->delim, 1));
                const struct ArrowArray *a = batch->children[c];
                HX_TRY(put_value(w, w->schema.children[c], a, a->offset + batch->offset + r));
            }
            HX_TRY(hx_buf_append(&w->out, "\n", 1));
        }
    }
    *text = w->out.data ? w->out.data : "";
    *len = w->out.len;
    return HOIST_OK;
}
