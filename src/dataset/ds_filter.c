/*
 * ds_filter.c — the parsed filter (ds_filter_parse.c) at work: literals
 * converted to each column's domain (bind), row groups and pages ruled out
 * by statistics (prune), and rows kept or dropped on Arrow arrays (eval),
 * with decimals compared exactly in their column's scale.
 *
 * SQL three-valued logic: a comparison with a null is NULL and a row is kept
 * only when the whole filter is TRUE. The parser has pushed NOT into the
 * leaves, so pruning and evaluation only see AND/OR over leaves.
 */
#include "dataset_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

/* ---- decimals --------------------------------------------------------------
 * Decimal columns are compared in their own scale with integer arithmetic:
 * a literal such as 12.345 against scale 2 becomes 1234 plus "a fraction
 * above it" rather than a double, so no rounding can move a row across the
 * boundary (x > 12.345 is x >= 12.35). 256 bits hold every decimal256. */

bool hx_ds_decimal_format(const char *fmt, int *precision, int *scale, int *bits) {
    if (!fmt || fmt[0] != 'd' || fmt[1] != ':') return false;
    const char *p = fmt + 2;
    char *end;
    errno = 0;
    long prec = strtol(p, &end, 10);
    if (end == p || *end != ',' || errno || prec < 1 || prec > 76) return false;
    p = end + 1;
    long sc = strtol(p, &end, 10);
    if (end == p || errno || sc < -1000 || sc > 1000) return false;
    long bw = 128;
    if (*end == ',') {
        p = end + 1;
        bw = strtol(p, &end, 10);
        if (end == p || errno) return false;
    }
    if (*end != '\0' || (bw != 32 && bw != 64 && bw != 128 && bw != 256)) return false;
    *precision = (int)prec;
    *scale = (int)sc;
    *bits = (int)bw;
    return true;
}

static void dec_from_i64(uint64_t w[4], int64_t v) {
    w[0] = (uint64_t)v;
    w[1] = w[2] = w[3] = v < 0 ? UINT64_MAX : 0;
}

void hx_ds_decimal_from_i64(int64_t v, uint64_t w[4]) { dec_from_i64(w, v); }

static void dec_from_i128(uint64_t w[4], __int128 v) {
    w[0] = (uint64_t)v;
    w[1] = (uint64_t)((unsigned __int128)v >> 64);
    w[2] = w[3] = v < 0 ? UINT64_MAX : 0;
}

/* Loads element j of a decimal array of `bits` width (little-endian, as
 * Arrow stores them on every platform hoist builds for). */
static void dec_load(const void *buf, int64_t j, int bits, uint64_t w[4]) {
    const uint8_t *p = (const uint8_t *)buf + j * (bits / 8);
    if (bits == 32) {
        int32_t v;
        memcpy(&v, p, 4);
        dec_from_i64(w, v);
    } else if (bits == 64) {
        int64_t v;
        memcpy(&v, p, 8);
        dec_from_i64(w, v);
    } else if (bits == 128) {
        __int128 v;
        memcpy(&v, p, 16);
        dec_from_i128(w, v);
    } else {
        memcpy(w, p, 32);
    }
}

void hx_ds_decimal_from_be(const uint8_t *b, size_t n, uint64_t w[4]) {
    /* sign-extend to 32 bytes, then read them as little-endian words */
    uint8_t le[32];
    memset(le, (b[0] & 0x80) ? 0xff : 0, sizeof le);
    for (size_t i = 0; i < n && i < sizeof le; i++) le[i] = b[n - 1 - i];
    dec_load(le, 0, 256, w);
}

static int dec_cmp_words(const uint64_t a[4], const uint64_t b[4]) {
    bool na = (a[3] >> 63) != 0, nb = (b[3] >> 63) != 0;
    if (na != nb) return na ? -1 : 1;
    /* Same sign: two's complement orders like unsigned. */
    for (int k = 3; k >= 0; k--)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* Orders two decimal values of one scale as the numbers they stand for
 * (dec + dec_frac / 2 stands in for "between dec and dec + 1"). */
static int dec_cmp(const struct ds_value *a, const struct ds_value *b) {
    if (a->dec_inf != b->dec_inf) return a->dec_inf < b->dec_inf ? -1 : 1;
    if (a->dec_inf) return 0;
    int c = dec_cmp_words(a->dec, b->dec);
    if (c) return c;
    return (a->dec_frac > b->dec_frac) - (a->dec_frac < b->dec_frac);
}

/* w = w * 10 + digit on a non-negative magnitude below 10^76 (fits). */
static void dec_mul10_add(uint64_t w[4], unsigned digit) {
    unsigned __int128 carry = digit;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 x = (unsigned __int128)w[k] * 10u + carry;
        w[k] = (uint64_t)x;
        carry = x >> 64;
    }
}

static void dec_negate(uint64_t w[4]) {
    unsigned __int128 carry = 1;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 x = (unsigned __int128)(~w[k]) + carry;
        w[k] = (uint64_t)x;
        carry = x >> 64;
    }
}

/* Converts the numeric literal text at s (as the tokenizer accepted it:
 * [+-]digits[.digits][e[+-]digits]) to the decimal domain at `scale`. */
static void dec_from_text(const char *s, int scale, struct ds_value *v) {
    memset(v, 0, sizeof *v);
    v->kind = DS_V_DECIMAL;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    /* Significant digits (leading zeros dropped) and where the point is.
     * parse_literal rejected tokens of 64 characters or more. */
    char digits[64];
    int nd = 0, frac_digits = 0;
    bool seen_point = false;
    for (; (isdigit((unsigned char)*s) || *s == '.') && nd < (int)sizeof digits; s++) {
        if (*s == '.') {
            seen_point = true;
            continue;
        }
        if (seen_point) frac_digits++;
        if (nd == 0 && *s == '0') continue;
        digits[nd++] = *s;
    }
    long exp10 = 0;
    if (*s == 'e' || *s == 'E') {
        errno = 0;
        exp10 = strtol(s + 1, NULL, 10);
        if (errno || exp10 > 100000) exp10 = 100000;
        if (exp10 < -100000) exp10 = -100000;
    }
    if (nd == 0) return; /* zero, whatever the exponent */
    /* value = digits * 10^k in units of the scale */
    long k = exp10 - frac_digits + scale;
    long int_digits = nd + k;
    if (int_digits > 76) {
        /* >= 10^76: beyond every decimal256 (precision <= 76). */
        v->dec_inf = neg ? -1 : 1;
        return;
    }
    int keep = k >= 0 ? nd : (int)(int_digits > 0 ? int_digits : 0);
    for (int i = 0; i < keep; i++) dec_mul10_add(v->dec, (unsigned)(digits[i] - '0'));
    for (long i = 0; i < k; i++) dec_mul10_add(v->dec, 0);
    bool frac = false;
    for (int i = keep; i < nd; i++) frac = frac || digits[i] != '0';
    if (neg) {
        /* floor(-(m + f)) = -(m + 1) for 0 < f < 1 */
        if (frac) {
            unsigned __int128 carry = 1;
            for (int w = 0; w < 4 && carry; w++) {
                unsigned __int128 x = (unsigned __int128)v->dec[w] + carry;
                v->dec[w] = (uint64_t)x;
                carry = x >> 64;
            }
        }
        dec_negate(v->dec);
    }
    v->dec_frac = frac;
}

/* ---- binding -------------------------------------------------------------- */

enum ds_vkind hx_ds_format_vkind(const char *fmt) {
    if (!fmt || !*fmt) return DS_V_NONE;
    if (fmt[1] == '\0') {
        switch (fmt[0]) {
        case 'c':
        case 'C':
        case 's':
        case 'S':
        case 'i':
        case 'I':
        case 'l':
        case 'L': return DS_V_INT;
        case 'e':
        case 'f':
        case 'g': return DS_V_DOUBLE;
        case 'u':
        case 'U':
        case 'z':
        case 'Z': return DS_V_BYTES;
        case 'b': return DS_V_BOOL;
        default: return DS_V_NONE;
        }
    }
    if (fmt[0] == 't' && (fmt[1] == 'd' || fmt[1] == 's' || fmt[1] == 't' || fmt[1] == 'D')) return DS_V_INT;
    int prec, scale, bits;
    if (hx_ds_decimal_format(fmt, &prec, &scale, &bits)) return DS_V_DECIMAL;
    return DS_V_NONE;
}

/* Arrow unit of a temporal format per second: ts{s,m,u,n}, tt{s,m,u,n}. */
static int64_t unit_per_second(const char *fmt) {
    switch (fmt[2]) {
    case 's': return 1;
    case 'm': return 1000;
    case 'u': return 1000000;
    case 'n': return 1000000000;
    default: return 0;
    }
}

static hx_status bind_lit(const struct ds_filter *f, const struct ds_node *n, struct ds_lit *lit, const char *fmt) {
    enum ds_vkind vk = hx_ds_format_vkind(fmt);
    const char *name = n->column;
    memset(&lit->v, 0, sizeof lit->v);
    bool temporal = fmt[0] == 't';
    bool is_date32 = strcmp(fmt, "tdD") == 0, is_date64 = strcmp(fmt, "tdm") == 0;
    bool is_ts = fmt[0] == 't' && fmt[1] == 's';
    switch (vk) {
    case DS_V_INT:
        if (lit->kind == DS_L_INT && !temporal) {
            lit->v.kind = DS_V_INT;
            lit->v.i = lit->i;
            return HOIST_OK;
        }
        if (lit->kind == DS_L_FLOAT && !temporal) {
            lit->v.kind = DS_V_DOUBLE;
            lit->v.d = lit->d;
            return HOIST_OK;
        }
        if (temporal && (is_date32 || is_date64 || is_ts) &&
            (lit->kind == DS_L_STRING || lit->kind == DS_L_DATE || lit->kind == DS_L_TIMESTAMP)) {
            int64_t us;
            if (!hx_ds_parse_timestamp_us(lit->s, lit->slen, &us))
                return hx_ds_filter_syntax_error(f->text, lit->pos, (int)lit->slen + 2,
                                                 "not a date or timestamp for a temporal column");
            lit->v.kind = DS_V_INT;
            if (is_date32) {
                /* A date column against a timestamp literal: compare days,
                 * rounding so that `d >= '2024-01-01 12:00'` excludes that day. */
                __int128 day = 86400000000LL;
                __int128 q = us / day;
                if (us % day != 0) {
                    /* Keep the literal's position between days exact by
                     * comparing in microseconds instead. */
                    lit->v.kind = DS_V_DOUBLE;
                    lit->v.d = (double)us / 86400e6;
                    return HOIST_OK;
                }
                lit->v.i = q;
            } else if (is_date64) {
                lit->v.i = us / 1000;
            } else {
                int64_t ups = unit_per_second(fmt);
                lit->v.i = ups >= 1000000 ? (__int128)us * (ups / 1000000) : (__int128)us / (1000000 / ups);
            }
            return HOIST_OK;
        }
        if (temporal && lit->kind == DS_L_INT) {
            lit->v.kind = DS_V_INT;
            lit->v.i = lit->i;
            return HOIST_OK;
        }
        break;
    case DS_V_DOUBLE:
        if (lit->kind == DS_L_INT || lit->kind == DS_L_FLOAT) {
            lit->v.kind = DS_V_DOUBLE;
            lit->v.d = lit->kind == DS_L_INT ? (double)lit->i : lit->d;
            return HOIST_OK;
        }
        break;
    case DS_V_BYTES:
        if (lit->kind == DS_L_STRING) {
            lit->v.kind = DS_V_BYTES;
            lit->v.b = (const uint8_t *)lit->s;
            lit->v.blen = lit->slen;
            return HOIST_OK;
        }
        break;
    case DS_V_DECIMAL:
        if (lit->kind == DS_L_INT || lit->kind == DS_L_FLOAT) {
            /* From the literal's text, not its double: exact in any scale. */
            int prec, scale, bits;
            (void)hx_ds_decimal_format(fmt, &prec, &scale, &bits);
            dec_from_text(f->text + lit->pos, scale, &lit->v);
            return HOIST_OK;
        }
        break;
    case DS_V_BOOL:
        if (lit->kind == DS_L_BOOL || (lit->kind == DS_L_INT && (lit->i == 0 || lit->i == 1))) {
            lit->v.kind = DS_V_BOOL;
            lit->v.i = lit->i;
            return HOIST_OK;
        }
        break;
    default: {
        char what[160];
        snprintf(what, sizeof what, "column '%s' has type '%s', which filters do not support", name, fmt);
        return hx_ds_filter_syntax_error(f->text, n->column_pos, (int)strlen(name), what);
    }
    }
    static const char *const lk[] = {"an integer", "a number", "a string", "a boolean", "a date", "a timestamp"};
    char what[200];
    snprintf(what, sizeof what, "%s does not match the type of column '%s' (%s)", lk[lit->kind], name, fmt);
    return hx_ds_filter_syntax_error(f->text, lit->pos, 1, what);
}

/* col_of[k]: the bound column of f->columns[k], -1 if there is none. Walks
 * recurse no deeper than DS_FILTER_MAX_DEPTH (the parser's limit). */
static hx_status bind_node(struct ds_filter *f, struct ds_node *n, const int *col_of, const char *const *formats,
                           bool strict) {
    if (!n) return HOIST_OK;
    HX_TRY(bind_node(f, n->a, col_of, formats, strict));
    HX_TRY(bind_node(f, n->b, col_of, formats, strict));
    if (!n->column) return HOIST_OK;
    int idx = n->fcol >= 0 && (size_t)n->fcol < f->ncolumns ? col_of[n->fcol] : -1;
    if (idx < 0 && !strict) return HOIST_OK; /* stays -1: "may match" when pruning */
    if (idx < 0) {
        char what[300];
        snprintf(what, sizeof what, "unknown column '%s'", n->column);
        return hx_ds_filter_syntax_error(f->text, n->column_pos, (int)strlen(n->column), what);
    }
    n->col = idx;
    for (size_t i = 0; i < n->nlits; i++) HX_TRY(bind_lit(f, n, &n->lits[i], formats[idx]));
    return HOIST_OK;
}

static hx_status bind_columns(struct ds_filter *f, const char *const *names, const char *const *formats, size_t ncols,
                              bool strict) {
    /* Names are resolved once per distinct column, not once per leaf. */
    int *col_of = hx_malloc((f->ncolumns ? f->ncolumns : 1) * sizeof *col_of);
    if (!col_of) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    for (size_t k = 0; k < f->ncolumns; k++) {
        col_of[k] = -1;
        for (size_t i = 0; i < ncols; i++)
            if (strcmp(names[i], f->columns[k]) == 0) {
                col_of[k] = (int)i;
                break;
            }
    }
    hx_status st = bind_node(f, f->root, col_of, formats, strict);
    hx_free(col_of);
    return st;
}

hx_status hx_ds_filter_bind(struct ds_filter *f, const char *const *names, const char *const *formats, size_t ncols) {
    return bind_columns(f, names, formats, ncols, true);
}

hx_status hx_ds_filter_bind_some(struct ds_filter *f, const char *const *names, const char *const *formats,
                                 size_t ncols) {
    return bind_columns(f, names, formats, ncols, false);
}

/* ---- pruning --------------------------------------------------------------- */

/* An integer against a double, exactly (a long double is no help: it has
 * 64 bits of mantissa at best, none beyond double's under valgrind, and
 * 2^64 - 2 must stay below 2^64). NaN compares as equal; callers handle it. */
static int cmp_int_double(__int128 i, double d) {
    if (d != d) return 0;
    if (d >= 0x1p127) return -1;
    if (d < -0x1p127) return 1;
    double td = trunc(d);
    __int128 t = (__int128)td; /* exact: |td| < 2^127 and integral */
    if (i != t) return i < t ? -1 : 1;
    double frac = d - td; /* exact: nonzero only when |d| < 2^52 */
    return (frac < 0) - (frac > 0);
}

static int cmp_values(const struct ds_value *a, const struct ds_value *b) {
    if (a->kind == DS_V_DECIMAL && b->kind == DS_V_DECIMAL) return dec_cmp(a, b);
    if (a->kind == DS_V_BYTES || b->kind == DS_V_BYTES) {
        size_t n = a->blen < b->blen ? a->blen : b->blen;
        int c = n ? memcmp(a->b, b->b, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return (a->blen > b->blen) - (a->blen < b->blen);
    }
    if (a->kind == DS_V_DOUBLE && b->kind == DS_V_DOUBLE) return (a->d > b->d) - (a->d < b->d);
    if (a->kind == DS_V_DOUBLE) return -cmp_int_double(b->i, a->d);
    if (b->kind == DS_V_DOUBLE) return cmp_int_double(a->i, b->d);
    return (a->i > b->i) - (a->i < b->i);
}

static bool comparable(const struct ds_value *a, const struct ds_value *b) {
    bool an = a->kind == DS_V_INT || a->kind == DS_V_DOUBLE || a->kind == DS_V_BOOL;
    bool bn = b->kind == DS_V_INT || b->kind == DS_V_DOUBLE || b->kind == DS_V_BOOL;
    return (an && bn) || (a->kind == DS_V_BYTES && b->kind == DS_V_BYTES) ||
           (a->kind == DS_V_DECIMAL && b->kind == DS_V_DECIMAL);
}

static bool leaf_may_match(const struct ds_node *n, const struct ds_colstats *s) {
    if (!s->known) return true;
    if (s->has_null_count && s->num_values == 0) return false;
    bool all_null = s->has_null_count && s->null_count >= s->num_values;
    if (n->kind == DS_N_IS_NULL) {
        if (!s->has_null_count) return true;
        return n->negate ? !all_null : s->null_count > 0;
    }
    if (all_null) return false;
    if (!s->has_minmax) return true;
    if (n->kind == DS_N_CMP) {
        const struct ds_value *v = &n->lits[0].v;
        if (!comparable(v, &s->min) || !comparable(v, &s->max)) return true;
        int lo = cmp_values(&s->min, v), hi = cmp_values(&s->max, v);
        switch (n->op) {
        case DS_EQ: return lo <= 0 && hi >= 0;
        case DS_NE: return !(lo == 0 && hi == 0);
        case DS_LT: return lo < 0;
        case DS_LE: return lo <= 0;
        case DS_GT: return hi > 0;
        case DS_GE: return hi >= 0;
        }
        return true;
    }
    if (n->kind == DS_N_IN) {
        if (!n->negate) {
            for (size_t i = 0; i < n->nlits; i++) {
                const struct ds_value *v = &n->lits[i].v;
                if (!comparable(v, &s->min)) return true;
                if (cmp_values(&s->min, v) <= 0 && cmp_values(&s->max, v) >= 0) return true;
            }
            return false;
        }
        if (cmp_values(&s->min, &s->max) != 0) return true;
        for (size_t i = 0; i < n->nlits; i++)
            if (comparable(&n->lits[i].v, &s->min) && cmp_values(&s->min, &n->lits[i].v) == 0) return false;
        return true;
    }
    return true;
}

static bool node_may_match(const struct ds_node *n, const struct ds_colstats *stats) {
    switch (n->kind) {
    case DS_N_AND: return node_may_match(n->a, stats) && node_may_match(n->b, stats);
    case DS_N_OR: return node_may_match(n->a, stats) || node_may_match(n->b, stats);
    case DS_N_CONST: return n->const_value;
    case DS_N_NOT: return true;
    default: return n->col < 0 ? true : leaf_may_match(n, &stats[n->col]);
    }
}

bool hx_ds_filter_may_match(const struct ds_filter *f, const struct ds_colstats *stats) {
    return !f || !f->root || node_may_match(f->root, stats);
}

/* ---- evaluation on arrays ------------------------------------------------------
 * Each node yields one byte per row: 0 FALSE, 1 TRUE, 2 NULL (Kleene). */

enum { V_FALSE = 0, V_TRUE = 1, V_NULL = 2 };

static inline bool is_valid(const struct ArrowArray *a, int64_t i) {
    const uint8_t *bm = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (!bm) return true;
    int64_t j = i + a->offset;
    return (bm[j >> 3] >> (j & 7)) & 1;
}

/* Physical integer width (bytes) and signedness of an integer-like format;
 * 0 if it is not one. */
static int int_width(const char *f, bool *sign) {
    *sign = true;
    if (f[1] == '\0') {
        switch (f[0]) {
        case 'c': return 1;
        case 'C': *sign = false; return 1;
        case 's': return 2;
        case 'S': *sign = false; return 2;
        case 'i': return 4;
        case 'I': *sign = false; return 4;
        case 'l': return 8;
        case 'L': *sign = false; return 8;
        default: return 0;
        }
    }
    if (strcmp(f, "tdD") == 0 || strcmp(f, "tts") == 0 || strcmp(f, "ttm") == 0) return 4;
    if (f[0] == 't') return 8; /* tdm, ts?, ttu, ttn, tD? */
    return 0;
}

static inline uint8_t apply_op(enum ds_cmp op, int c) {
    switch (op) {
    case DS_EQ: return c == 0;
    case DS_NE: return c != 0;
    case DS_LT: return c < 0;
    case DS_LE: return c <= 0;
    case DS_GT: return c > 0;
    default: return c >= 0;
    }
}

/* The common case -- an integer or float column against one number --
 * gets a tight loop per physical type (the generic path below goes through
 * __int128 values one row at a time). Returns false when it does not apply. */
#define CMP_LOOP(T, LIT)                                                                                               \
    do {                                                                                                               \
        const T *v = (const T *)a->buffers[1] + a->offset;                                                             \
        switch (n->op) {                                                                                               \
        case DS_EQ:                                                                                                    \
            for (int64_t i = 0; i < len; i++) res[i] = v[i] == (LIT);                                                  \
            break;                                                                                                     \
        case DS_NE:                                                                                                    \
            for (int64_t i = 0; i < len; i++) res[i] = v[i] != (LIT);                                                  \
            break;                                                                                                     \
        case DS_LT:                                                                                                    \
            for (int64_t i = 0; i < len; i++) res[i] = v[i] < (LIT);                                                   \
            break;                                                                                                     \
        case DS_LE:                                                                                                    \
            for (int64_t i = 0; i < len; i++) res[i] = v[i] <= (LIT);                                                  \
            break;                                                                                                     \
        case DS_GT:                                                                                                    \
            for (int64_t i = 0; i < len; i++) res[i] = v[i] > (LIT);                                                   \
            break;                                                                                                     \
        default:                                                                                                       \
            for (int64_t i = 0; i < len; i++) res[i] = v[i] >= (LIT);                                                  \
            break;                                                                                                     \
        }                                                                                                              \
    } while (0)

/* Sets V_NULL where the array's validity bitmap says the row is null: the
 * fast paths compare every row's bytes and mark the nulls after. */
static void mask_nulls(const struct ArrowArray *a, int64_t len, uint8_t *res) {
    const uint8_t *bm = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (bm)
        for (int64_t i = 0; i < len; i++) {
            int64_t j = i + a->offset;
            if (!((bm[j >> 3] >> (j & 7)) & 1)) res[i] = V_NULL;
        }
}

HX_VECTORIZE static bool eval_fast(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, int64_t len,
                                   uint8_t *res) {
    if (n->kind != DS_N_CMP) return false;
    const struct ds_value *lit = &n->lits[0].v;
    bool sign;
    int w = int_width(fmt, &sign);
    if (w && sign && lit->kind == DS_V_INT && lit->i >= INT64_MIN && lit->i <= INT64_MAX) {
        /* A literal outside the column's range still compares right once
         * both sides are int64. */
        int64_t x = (int64_t)lit->i;
        /* In the column's own width when the literal fits it: the loop then
         * vectorises without widening every value to 64 bits. */
        switch (w) {
        case 1:
            if (x >= INT8_MIN && x <= INT8_MAX)
                CMP_LOOP(int8_t, (int8_t)x);
            else
                CMP_LOOP(int8_t, (int64_t)x);
            break;
        case 2:
            if (x >= INT16_MIN && x <= INT16_MAX)
                CMP_LOOP(int16_t, (int16_t)x);
            else
                CMP_LOOP(int16_t, (int64_t)x);
            break;
        case 4:
            if (x >= INT32_MIN && x <= INT32_MAX)
                CMP_LOOP(int32_t, (int32_t)x);
            else
                CMP_LOOP(int32_t, (int64_t)x);
            break;
        default: CMP_LOOP(int64_t, x); break;
        }
    } else if ((fmt[0] == 'g' || fmt[0] == 'f') && fmt[1] == '\0' && lit->kind == DS_V_DOUBLE) {
        /* IEEE comparisons are false for NaN except !=, as required. */
        double x = lit->d;
        if (fmt[0] == 'g')
            CMP_LOOP(double, x);
        else
            CMP_LOOP(float, x);
    } else {
        return false;
    }
    mask_nulls(a, len, res);
    return true;
}

/* A decimal array against a comparison or IN list (literals bound to the
 * column's scale). decimal128 against one literal that fits 128 bits, the
 * common case, compares native __int128 values. Returns false when fmt is
 * not a decimal. */
static bool eval_decimal(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, int64_t len,
                         uint8_t *res) {
    int prec, scale, bits;
    if (!hx_ds_decimal_format(fmt, &prec, &scale, &bits)) return false;
    const uint8_t *buf = a->buffers[1];
    const struct ds_value *lit = n->kind == DS_N_CMP ? &n->lits[0].v : NULL;
    bool lit128 = lit && lit->kind == DS_V_DECIMAL && !lit->dec_inf &&
                  lit->dec[2] == ((lit->dec[1] >> 63) ? UINT64_MAX : 0) && lit->dec[3] == lit->dec[2];
    if (bits == 128 && lit128) {
        __int128 q = (__int128)(((unsigned __int128)lit->dec[1] << 64) | lit->dec[0]);
        enum ds_cmp op = n->op;
        if (lit->dec_frac) {
            /* The literal lies in (q, q + 1): nothing equals it, and below
             * it means <= q. */
            if (op == DS_EQ || op == DS_NE) {
                memset(res, op == DS_NE ? V_TRUE : V_FALSE, (size_t)len);
                goto nulls;
            }
            op = op == DS_LT || op == DS_LE ? DS_LE : DS_GT;
        }
        const uint8_t *p = buf + a->offset * 16;
        for (int64_t i = 0; i < len; i++) {
            __int128 x;
            memcpy(&x, p + i * 16, 16);
            res[i] = apply_op(op, (x > q) - (x < q));
        }
    } else {
        struct ds_value x = {.kind = DS_V_DECIMAL};
        for (int64_t i = 0; i < len; i++) {
            dec_load(buf, i + a->offset, bits, x.dec);
            if (n->kind == DS_N_CMP) {
                res[i] = apply_op(n->op, cmp_values(&x, lit));
            } else {
                uint8_t hit = 0;
                for (size_t k = 0; k < n->nlits && !hit; k++) hit = cmp_values(&x, &n->lits[k].v) == 0;
                res[i] = n->negate ? !hit : hit;
            }
        }
    }
nulls:;
    mask_nulls(a, len, res);
    return true;
}

/* Compares every row of a numeric/bool/string array with the leaf. */
static void eval_leaf_values(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, int64_t len,
                             uint8_t *res) {
    if (eval_fast(n, a, fmt, len, res)) return;
    if (eval_decimal(n, a, fmt, len, res)) return;
    bool sign;
    int w = int_width(fmt, &sign);
    for (int64_t i = 0; i < len; i++) {
        if (!is_valid(a, i)) {
            res[i] = V_NULL;
            continue;
        }
        struct ds_value x = {0};
        int64_t j = i + a->offset;
        if (w) {
            const void *p = a->buffers[1];
            x.kind = DS_V_INT;
            switch (w) {
            case 1: x.i = sign ? (__int128)((const int8_t *)p)[j] : (__int128)((const uint8_t *)p)[j]; break;
            case 2: x.i = sign ? (__int128)((const int16_t *)p)[j] : (__int128)((const uint16_t *)p)[j]; break;
            case 4: x.i = sign ? (__int128)((const int32_t *)p)[j] : (__int128)((const uint32_t *)p)[j]; break;
            default: x.i = sign ? (__int128)((const int64_t *)p)[j] : (__int128)((const uint64_t *)p)[j]; break;
            }
        } else if (fmt[0] == 'f' || fmt[0] == 'g') {
            x.kind = DS_V_DOUBLE;
            x.d = fmt[0] == 'f' ? (double)((const float *)a->buffers[1])[j] : ((const double *)a->buffers[1])[j];
        } else if (fmt[0] == 'b') {
            const uint8_t *bm = a->buffers[1];
            x.kind = DS_V_BOOL;
            x.i = (bm[j >> 3] >> (j & 7)) & 1;
        } else if (fmt[0] == 'u' || fmt[0] == 'z') {
            const int32_t *off = a->buffers[1];
            x.kind = DS_V_BYTES;
            x.b = (const uint8_t *)a->buffers[2] + off[j];
            x.blen = (size_t)(off[j + 1] - off[j]);
        } else if (fmt[0] == 'U' || fmt[0] == 'Z') {
            const int64_t *off = a->buffers[1];
            x.kind = DS_V_BYTES;
            x.b = (const uint8_t *)a->buffers[2] + off[j];
            x.blen = (size_t)(off[j + 1] - off[j]);
        } else {
            res[i] = V_NULL;
            continue;
        }
        if (x.kind == DS_V_DOUBLE && x.d != x.d) {
            /* NaN compares false with everything except != (IEEE, as Arrow compute). */
            if (n->kind == DS_N_CMP)
                res[i] = n->op == DS_NE;
            else
                res[i] = n->negate;
            continue;
        }
        if (n->kind == DS_N_CMP) {
            res[i] = apply_op(n->op, cmp_values(&x, &n->lits[0].v));
        } else {
            uint8_t hit = 0;
            for (size_t k = 0; k < n->nlits && !hit; k++) hit = cmp_values(&x, &n->lits[k].v) == 0;
            res[i] = n->negate ? !hit : hit;
        }
    }
}

static hx_status eval_leaf(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, const char *dict_fmt,
                           int64_t len, uint8_t *res) {
    if (!a) {
        /* Column absent from this file: every value is null. */
        memset(res, n->kind == DS_N_IS_NULL ? (n->negate ? V_FALSE : V_TRUE) : V_NULL, (size_t)len);
        return HOIST_OK;
    }
    if (n->kind == DS_N_IS_NULL) {
        for (int64_t i = 0; i < len; i++) res[i] = is_valid(a, i) != n->negate ? V_FALSE : V_TRUE;
        return HOIST_OK;
    }
    if (a->dictionary && dict_fmt) {
        /* Evaluate once per dictionary entry, then map the indices. */
        const struct ArrowArray *d = a->dictionary;
        uint8_t *dres = hx_malloc(d->length > 0 ? (size_t)d->length : 1);
        if (!dres) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        eval_leaf_values(n, d, dict_fmt, d->length, dres);
        bool sign;
        int w = int_width(fmt, &sign);
        for (int64_t i = 0; i < len; i++) {
            if (!is_valid(a, i)) {
                res[i] = V_NULL;
                continue;
            }
            int64_t j = i + a->offset, k;
            switch (w) {
            case 1: k = ((const int8_t *)a->buffers[1])[j]; break;
            case 2: k = ((const int16_t *)a->buffers[1])[j]; break;
            case 4: k = ((const int32_t *)a->buffers[1])[j]; break;
            default: k = ((const int64_t *)a->buffers[1])[j]; break;
            }
            res[i] = k >= 0 && k < d->length ? dres[k] : V_NULL;
        }
        hx_free(dres);
        return HOIST_OK;
    }
    eval_leaf_values(n, a, fmt, len, res);
    return HOIST_OK;
}

static hx_status eval_node(const struct ds_node *n, const struct ArrowArray *const *cols, const char *const *formats,
                           const char *const *dict_formats, int64_t len, uint8_t *res) {
    if (n->kind == DS_N_CONST) {
        memset(res, n->const_value ? V_TRUE : V_FALSE, (size_t)len);
        return HOIST_OK;
    }
    if (n->kind == DS_N_AND || n->kind == DS_N_OR) {
        /* The taller operand first, into res: a row buffer is then held only
         * while the shorter one is evaluated, so a deep tree holds a few
         * buffers at a time, not one per level. Kleene AND/OR commute. */
        const struct ds_node *first = n->a->height >= n->b->height ? n->a : n->b;
        const struct ds_node *second = first == n->a ? n->b : n->a;
        HX_TRY(eval_node(first, cols, formats, dict_formats, len, res));
        uint8_t *tmp = hx_malloc(len > 0 ? (size_t)len : 1);
        if (!tmp) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        hx_status st = eval_node(second, cols, formats, dict_formats, len, tmp);
        if (st == HOIST_OK) {
            if (n->kind == DS_N_AND) {
                for (int64_t i = 0; i < len; i++)
                    res[i] = (res[i] == V_FALSE || tmp[i] == V_FALSE) ? V_FALSE
                             : (res[i] == V_NULL || tmp[i] == V_NULL) ? V_NULL
                                                                      : V_TRUE;
            } else {
                for (int64_t i = 0; i < len; i++)
                    res[i] = (res[i] == V_TRUE || tmp[i] == V_TRUE)   ? V_TRUE
                             : (res[i] == V_NULL || tmp[i] == V_NULL) ? V_NULL
                                                                      : V_FALSE;
            }
        }
        hx_free(tmp);
        return st;
    }
    if (n->col < 0) return hx_error(HOIST_ERR_INTERNAL, "filter: column '%s' not bound", n->column);
    return eval_leaf(n, cols[n->col], formats[n->col], dict_formats ? dict_formats[n->col] : NULL, len, res);
}

HX_VECTORIZE hx_status hx_ds_filter_eval(const struct ds_filter *f, const struct ArrowArray *const *cols,
                                         const char *const *formats, const char *const *dict_formats, int64_t length,
                                         uint8_t *keep) {
    if (!f || !f->root) {
        memset(keep, 1, (size_t)length);
        return HOIST_OK;
    }
    HX_TRY(eval_node(f->root, cols, formats, dict_formats, length, keep));
    for (int64_t i = 0; i < length; i++) keep[i] = keep[i] == V_TRUE;
    return HOIST_OK;
}
