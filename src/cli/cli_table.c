/* cli_table.c — Arrow data as text for people: one cell, a type's name, and
 * the table `hoist head` prints. Parquet and CSV inputs share it, so the
 * same value reads the same whatever file it came from. */
#include "cli_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cells ------------------------------------------------------------------------ */

static bool valid_at(const struct ArrowArray *a, int64_t i) {
    if (a->null_count == 0 || a->n_buffers == 0 || !a->buffers[0]) return true;
    const uint8_t *bm = a->buffers[0];
    int64_t j = i + a->offset;
    return (bm[j >> 3] >> (j & 7)) & 1;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* A decimal cell ("d:P,S[,bits]": little-endian two's complement of `bits`
 * bits) as plain text with S digits after the point, e.g. -0.05 at scale 2;
 * a negative scale appends zeros. */
static void format_decimal(const uint8_t *p, int bits, int scale, char *buf, size_t cap) {
    uint64_t w[4] = {0, 0, 0, 0};
    const int nbytes = bits / 8;
    memcpy(w, p, (size_t)nbytes);
    const bool neg = (p[nbytes - 1] & 0x80) != 0;
    if (neg) {
        /* sign-extend to 256 bits, then take the magnitude */
        for (int k = nbytes; k < 32; k++) ((uint8_t *)w)[k] = 0xff;
        unsigned __int128 carry = 1;
        for (int k = 0; k < 4; k++) {
            unsigned __int128 x = (unsigned __int128)(~w[k]) + carry;
            w[k] = (uint64_t)x;
            carry = x >> 64;
        }
    }
    char digits[96];
    int n = 0;
    do {
        unsigned __int128 rem = 0;
        for (int k = 3; k >= 0; k--) {
            unsigned __int128 cur = (rem << 64) | w[k];
            w[k] = (uint64_t)(cur / 10);
            rem = cur % 10;
        }
        digits[n++] = (char)('0' + (int)rem);
    } while ((w[0] | w[1] | w[2] | w[3]) != 0 && n < (int)sizeof digits);
    size_t o = 0;
    if (neg && o + 1 < cap) buf[o++] = '-';
    if (scale > 0) {
        /* at least one digit before the point */
        int before = n > scale ? n - scale : 0;
        for (int i = 0; i < before && o + 1 < cap; i++) buf[o++] = digits[n - 1 - i];
        if (before == 0 && o + 1 < cap) buf[o++] = '0';
        if (o + 1 < cap) buf[o++] = '.';
        for (int i = scale - 1; i >= 0 && o + 1 < cap; i--) buf[o++] = i < n ? digits[i] : '0';
    } else {
        for (int i = n - 1; i >= 0 && o + 1 < cap; i--) buf[o++] = digits[i];
        for (int i = 0; i < -scale && digits[n - 1] != '0' && o + 1 < cap; i++) buf[o++] = '0';
    }
    buf[o] = '\0';
}

/* Writes cell i of array a (format fmt) into buf; returns false for null. */
static bool format_cell(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i, char *buf, size_t cap,
                        const char **str, size_t *slen) {
    *str = NULL;
    if (!valid_at(a, i)) return false;
    const char *f = s->format;
    int64_t j = i + a->offset;
    if (s->dictionary && a->dictionary) {
        int64_t k;
        switch (f[0]) {
        case 'c': k = ((const int8_t *)a->buffers[1])[j]; break;
        case 's': k = ((const int16_t *)a->buffers[1])[j]; break;
        case 'i': k = ((const int32_t *)a->buffers[1])[j]; break;
        default: k = ((const int64_t *)a->buffers[1])[j]; break;
        }
        return format_cell(s->dictionary, a->dictionary, k, buf, cap, str, slen);
    }
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    if (f[1] == '\0') {
        switch (f[0]) {
        case 'n': return false;
        case 'b':
            snprintf(buf, cap, "%s", (((const uint8_t *)v)[j >> 3] >> (j & 7)) & 1 ? "true" : "false");
            return true;
        case 'c': snprintf(buf, cap, "%d", ((const int8_t *)v)[j]); return true;
        case 'C': snprintf(buf, cap, "%u", ((const uint8_t *)v)[j]); return true;
        case 's': snprintf(buf, cap, "%d", ((const int16_t *)v)[j]); return true;
        case 'S': snprintf(buf, cap, "%u", ((const uint16_t *)v)[j]); return true;
        case 'i': snprintf(buf, cap, "%" PRId32, ((const int32_t *)v)[j]); return true;
        case 'I': snprintf(buf, cap, "%" PRIu32, ((const uint32_t *)v)[j]); return true;
        case 'l': snprintf(buf, cap, "%" PRId64, ((const int64_t *)v)[j]); return true;
        case 'L': snprintf(buf, cap, "%" PRIu64, ((const uint64_t *)v)[j]); return true;
        case 'f': {
            /* Shortest text that reads back to the same float. */
            float x = ((const float *)v)[j];
            snprintf(buf, cap, "%.7g", x);
            if (strtof(buf, NULL) != x) snprintf(buf, cap, "%.9g", x);
            return true;
        }
        case 'g': {
            double d = ((const double *)v)[j];
            snprintf(buf, cap, "%.15g", d);
            if (strtod(buf, NULL) != d) snprintf(buf, cap, "%.16g", d);
            if (strtod(buf, NULL) != d) snprintf(buf, cap, "%.17g", d);
            return true;
        }
        case 'u':
        case 'z': {
            const int32_t *off = v;
            *str = (const char *)a->buffers[2] + off[j];
            *slen = (size_t)(off[j + 1] - off[j]);
            return true;
        }
        case 'U':
        case 'Z': {
            const int64_t *off = v;
            *str = (const char *)a->buffers[2] + off[j];
            *slen = (size_t)(off[j + 1] - off[j]);
            return true;
        }
        default: break;
        }
    }
    if (!strcmp(f, "tdD") || !strcmp(f, "tdm")) {
        int64_t days = f[2] == 'D' ? ((const int32_t *)v)[j] : ((const int64_t *)v)[j] / 86400000;
        int y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, cap, "%04d-%02u-%02u", y, m, d);
        return true;
    }
    if (f[0] == 't' && f[1] == 's') {
        int64_t t = ((const int64_t *)v)[j], per = f[2] == 's'   ? 1
                                                   : f[2] == 'm' ? 1000
                                                   : f[2] == 'u' ? 1000000
                                                                 : 1000000000;
        int64_t secs = t / per, frac = t % per;
        if (frac < 0) {
            frac += per;
            secs--;
        }
        int64_t days = secs / 86400, rem = secs % 86400;
        if (rem < 0) {
            rem += 86400;
            days--;
        }
        int y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        int n = snprintf(buf, cap, "%04d-%02u-%02u %02d:%02d:%02d", y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
                         (int)(rem % 60));
        if (frac && n > 0 && (size_t)n < cap) {
            int digits = per == 1000 ? 3 : per == 1000000 ? 6 : 9;
            snprintf(buf + n, cap - (size_t)n, ".%0*" PRId64, digits, frac);
        }
        return true;
    }
    if (f[0] == 'd' && f[1] == ':') {
        int prec = 0, scale = 0, bits = 128;
        if (sscanf(f + 2, "%d,%d,%d", &prec, &scale, &bits) >= 2 &&
            (bits == 32 || bits == 64 || bits == 128 || bits == 256)) {
            format_decimal((const uint8_t *)v + (size_t)j * (size_t)(bits / 8), bits, scale, buf, cap);
            return true;
        }
    }
    if (f[0] == 't' && f[1] == 't' && f[2] && !f[3]) {
        /* time of day: time32 s/ms, time64 us/ns */
        int64_t t = f[2] == 's' || f[2] == 'm' ? ((const int32_t *)v)[j] : ((const int64_t *)v)[j];
        int64_t per = f[2] == 's' ? 1 : f[2] == 'm' ? 1000 : f[2] == 'u' ? 1000000 : 1000000000;
        int64_t secs = t / per, frac = t % per;
        int n = snprintf(buf, cap, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
        if (frac && n > 0 && (size_t)n < cap) {
            int digits = per == 1000 ? 3 : per == 1000000 ? 6 : 9;
            snprintf(buf + n, cap - (size_t)n, ".%0*" PRId64, digits, frac);
        }
        return true;
    }
    snprintf(buf, cap, "<%s>", f);
    return true;
}

/* ---- type names ------------------------------------------------------------------ */

const char *cli_type_name(const char *f, char *buf, size_t cap) {
    static const struct {
        const char *fmt, *name;
    } names[] = {{"n", "null"},         {"b", "bool"},         {"c", "int8"},         {"C", "uint8"},
                 {"s", "int16"},        {"S", "uint16"},       {"i", "int32"},        {"I", "uint32"},
                 {"l", "int64"},        {"L", "uint64"},       {"e", "float16"},      {"f", "float"},
                 {"g", "double"},       {"u", "string"},       {"U", "large_string"}, {"z", "binary"},
                 {"Z", "large_binary"}, {"tdD", "date32"},     {"tdm", "date64"},     {"+s", "struct"},
                 {"+l", "list"},        {"+L", "large_list"},  {"+m", "map"},         {"tts", "time32[s]"},
                 {"ttm", "time32[ms]"}, {"ttu", "time64[us]"}, {"ttn", "time64[ns]"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(f, names[i].fmt)) return names[i].name;
    if (f[0] == 't' && f[1] == 's') {
        snprintf(buf, cap, "timestamp[%s%s%s]",
                 f[2] == 's'   ? "s"
                 : f[2] == 'm' ? "ms"
                 : f[2] == 'u' ? "us"
                               : "ns",
                 f[4] ? ", tz=" : "", f[4] ? f + 4 : "");
        return buf;
    }
    if (f[0] == 'd' && f[1] == ':') {
        snprintf(buf, cap, "decimal(%s)", f + 2);
        return buf;
    }
    return f;
}

/* ---- the head table --------------------------------------------------------------- */

/* Frees rows [0, nrows) of ncols cells each. */
static void cells_free(char ***cells, int64_t nrows, int64_t ncols) {
    for (int64_t r = 0; cells && r < nrows; r++) {
        for (int64_t c = 0; cells[r] && c < ncols; c++) free(cells[r][c]);
        free(cells[r]);
    }
    free(cells);
}

int cli_print_head(struct ArrowArrayStream *stream, const struct ArrowSchema *schema, int64_t max_rows) {
    int64_t ncols = schema->n_children, nrows = 0;
    char ***cells = calloc((size_t)max_rows + 1, sizeof *cells);
    size_t *width = calloc((size_t)ncols + 1, sizeof *width);
    if (!cells || !width) {
        free(cells);
        free(width);
        return cli_fail(HOIST_ERR_NOMEM);
    }
    for (int64_t c = 0; c < ncols; c++) width[c] = strlen(schema->children[c]->name);
    while (nrows < max_rows) {
        struct ArrowArray b;
        if (stream->get_next(stream, &b) != 0 || !b.release) break;
        for (int64_t r = 0; r < b.length && nrows < max_rows; r++, nrows++) {
            cells[nrows] = calloc((size_t)ncols + 1, sizeof(char *));
            for (int64_t c = 0; cells[nrows] && c < ncols; c++) {
                char buf[128];
                const char *s;
                size_t sl;
                char *text;
                if (!format_cell(schema->children[c], b.children[c], r + b.offset, buf, sizeof buf, &s, &sl))
                    text = strdup("null");
                else if (s)
                    text = strndup(s, sl > 40 ? 40 : sl);
                else
                    text = strdup(buf);
                cells[nrows][c] = text;
                size_t w = text ? strlen(text) : 0;
                if (w > width[c]) width[c] = w;
            }
        }
        b.release(&b);
    }
    for (int64_t c = 0; c < ncols; c++) printf("%s%-*s", c ? "  " : "", (int)width[c], schema->children[c]->name);
    putchar('\n');
    for (int64_t c = 0; c < ncols; c++) {
        printf("%s", c ? "  " : "");
        for (size_t k = 0; k < width[c]; k++) putchar('-');
    }
    putchar('\n');
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t c = 0; c < ncols; c++) {
            const char *t = cells[r] && cells[r][c] ? cells[r][c] : "";
            const char *fmt = schema->children[c]->format;
            bool numeric = strchr("cCsSiIlLfg", fmt[0]) && fmt[1] == '\0';
            if (numeric)
                printf("%s%*s", c ? "  " : "", (int)width[c], t);
            else
                printf("%s%-*s", c ? "  " : "", (int)width[c], t);
        }
        putchar('\n');
    }
    free(width);
    cells_free(cells, nrows, ncols);
    return CLI_OK;
}
