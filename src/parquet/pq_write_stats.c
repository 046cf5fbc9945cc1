/*
 * pq_write_stats.c — min/max/null-count statistics in each column's sort
 * order (parquet.thrift ColumnOrder TYPE_ORDER): unsigned ints compare as
 * unsigned, strings and binary as unsigned bytes, decimals as big-endian
 * two's complement, floats without NaN with min ±0 written as -0 and max ±0
 * as +0. Long byte-array bounds are truncated (PARQUET-2352): the min to a
 * prefix, the max to a prefix with its last byte incremented, cut at a
 * UTF-8 boundary for strings, with the exactness flags cleared.
 */
#include "pq_write_internal.h"

#include <math.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void hx_pqw_stats_reset(struct hx_pqw_stats *s) {
    hx_free(s->min);
    hx_free(s->max);
    memset(s, 0, sizeof *s);
}

static float half_to_float(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* Signed big-endian of possibly different lengths: sign-extend the shorter. */
static int cmp_decimal(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int na = al && (a[0] & 0x80), nb = bl && (b[0] & 0x80);
    if (na != nb) return na ? -1 : 1;
    size_t n = al > bl ? al : bl;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = i + al < n ? (na ? 0xff : 0) : a[i + al - n];
        uint8_t y = i + bl < n ? (nb ? 0xff : 0) : b[i + bl - n];
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

#define CMP3(x, y) ((x) < (y) ? -1 : (x) > (y))

int hx_pqw_compare(enum hx_pqw_order order, const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    switch (order) {
    case SO_BOOL: return CMP3(a[0], b[0]);
    case SO_I32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return CMP3(x, y);
    }
    case SO_U32: {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return CMP3(x, y);
    }
    case SO_I64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return CMP3(x, y);
    }
    case SO_U64: {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return CMP3(x, y);
    }
    case SO_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return CMP3(x, y);
    }
    case SO_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return CMP3(x, y);
    }
    case SO_F16: {
        uint16_t x, y;
        memcpy(&x, a, 2);
        memcpy(&y, b, 2);
        float fx = half_to_float(x), fy = half_to_float(y);
        return CMP3(fx, fy);
    }
    case SO_DEC: return cmp_decimal(a, al, b, bl);
    case SO_BYTES: return cmp_bytes(a, al, b, bl);
    case SO_NONE: return 0;
    }
    return 0;
}

static hx_status set_bound(uint8_t **dst, size_t *dst_len, const void *src, size_t len) {
    uint8_t *p = hx_malloc(len ? len : 1);
    if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory keeping statistics");
    memcpy(p, src, len);
    hx_free(*dst);
    *dst = p;
    *dst_len = len;
    return HOIST_OK;
}

static int is_nan(enum hx_pqw_order o, const uint8_t *p) {
    if (o == SO_FLOAT) {
        float x;
        memcpy(&x, p, 4);
        return x != x;
    }
    if (o == SO_DOUBLE) {
        double x;
        memcpy(&x, p, 8);
        return x != x;
    }
    if (o == SO_F16) {
        uint16_t h;
        memcpy(&h, p, 2);
        return (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
    }
    return 0;
}

/* parquet.thrift TYPE_ORDER for floats: a zero min is written -0, a zero max +0. */
static void fix_zero(enum hx_pqw_order o, uint8_t *mn, uint8_t *mx) {
    if (o == SO_FLOAT) {
        float a, b;
        memcpy(&a, mn, 4);
        memcpy(&b, mx, 4);
        if (a == 0) a = -0.0f;
        if (b == 0) b = 0.0f;
        memcpy(mn, &a, 4);
        memcpy(mx, &b, 4);
    } else if (o == SO_DOUBLE) {
        double a, b;
        memcpy(&a, mn, 8);
        memcpy(&b, mx, 8);
        if (a == 0) a = -0.0;
        if (b == 0) b = 0.0;
        memcpy(mn, &a, 8);
        memcpy(mx, &b, 8);
    } else if (o == SO_F16) {
        uint16_t a, b;
        memcpy(&a, mn, 2);
        memcpy(&b, mx, 2);
        if ((a & 0x7fff) == 0) a = 0x8000;
        if ((b & 0x7fff) == 0) b = 0;
        memcpy(mn, &a, 2);
        memcpy(mx, &b, 2);
    }
}

/* Fixed-width bounds: typed loops for the common orders, four lanes so
 * each comparison chain waits on its own lane's previous result rather
 * than on every value before it (one chain is bound by the compare's
 * latency). Equal values may come from any lane: for integers they are
 * the same bytes, floats' zeros are settled by fix_zero. */
#define MINMAX_LOOP(T)                                                                                                 \
    do {                                                                                                               \
        const T *x = (const T *)(const void *)base;                                                                    \
        T lo[4], hi[4];                                                                                                \
        for (int k = 0; k < 4; k++) lo[k] = hi[k] = x[0];                                                              \
        int64_t i = 0;                                                                                                 \
        for (; i + 4 <= n; i += 4)                                                                                     \
            for (int k = 0; k < 4; k++) {                                                                              \
                T y = x[i + k];                                                                                        \
                lo[k] = y < lo[k] ? y : lo[k];                                                                         \
                hi[k] = y > hi[k] ? y : hi[k];                                                                         \
            }                                                                                                          \
        for (; i < n; i++) {                                                                                           \
            lo[0] = x[i] < lo[0] ? x[i] : lo[0];                                                                       \
            hi[0] = x[i] > hi[0] ? x[i] : hi[0];                                                                       \
        }                                                                                                              \
        for (int k = 1; k < 4; k++) {                                                                                  \
            if (lo[k] < lo[0]) lo[0] = lo[k];                                                                          \
            if (hi[k] > hi[0]) hi[0] = hi[k];                                                                          \
        }                                                                                                              \
        memcpy(mnb, &lo[0], sizeof lo[0]);                                                                             \
        memcpy(mxb, &hi[0], sizeof hi[0]);                                                                             \
    } while (0)

/* Floats without NaN (NaN fails both comparisons, so it never wins), NaNs
 * counted; lanes as MINMAX_LOOP. */
#define FLOAT_LOOP(T, INF)                                                                                             \
    do {                                                                                                               \
        const T *x = (const T *)(const void *)base;                                                                    \
        T lo[4] = {INF, INF, INF, INF}, hi[4] = {-INF, -INF, -INF, -INF};                                              \
        int64_t nans[4] = {0, 0, 0, 0}, i = 0;                                                                         \
        for (; i + 4 <= n; i += 4)                                                                                     \
            for (int k = 0; k < 4; k++) {                                                                              \
                T y = x[i + k];                                                                                        \
                lo[k] = y < lo[k] ? y : lo[k];                                                                         \
                hi[k] = y > hi[k] ? y : hi[k];                                                                         \
                nans[k] += y != y;                                                                                     \
            }                                                                                                          \
        for (; i < n; i++) {                                                                                           \
            lo[0] = x[i] < lo[0] ? x[i] : lo[0];                                                                       \
            hi[0] = x[i] > hi[0] ? x[i] : hi[0];                                                                       \
            nans[0] += x[i] != x[i];                                                                                   \
        }                                                                                                              \
        for (int k = 1; k < 4; k++) {                                                                                  \
            if (lo[k] < lo[0]) lo[0] = lo[k];                                                                          \
            if (hi[k] > hi[0]) hi[0] = hi[k];                                                                          \
            nans[0] += nans[k];                                                                                        \
        }                                                                                                              \
        found = nans[0] < n;                                                                                           \
        out->nan_count = nans[0];                                                                                      \
        memcpy(mnb, &lo[0], sizeof lo[0]);                                                                             \
        memcpy(mxb, &hi[0], sizeof hi[0]);                                                                             \
    } while (0)

/* Doubles without NaN as FLOAT_LOOP; with SSE2 (the x86-64 baseline) two
 * per instruction: MINPD(x, lo) is x < lo ? x : lo, the same selection,
 * so NaN never wins there either. Returns whether a non-NaN value exists. */
static int double_bounds(const double *x, int64_t n, uint8_t *mnb, uint8_t *mxb, int64_t *nan_count) {
    int found;
#ifdef __SSE2__
    __m128d lo0 = _mm_set1_pd(INFINITY), lo1 = lo0, hi0 = _mm_set1_pd(-INFINITY), hi1 = hi0;
    __m128i nan0 = _mm_setzero_si128(), nan1 = nan0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128d a = _mm_loadu_pd(x + i), b = _mm_loadu_pd(x + i + 2);
        lo0 = _mm_min_pd(a, lo0);
        lo1 = _mm_min_pd(b, lo1);
        hi0 = _mm_max_pd(a, hi0);
        hi1 = _mm_max_pd(b, hi1);
        nan0 = _mm_sub_epi64(nan0, _mm_castpd_si128(_mm_cmpunord_pd(a, a))); /* all ones = -1 per NaN */
        nan1 = _mm_sub_epi64(nan1, _mm_castpd_si128(_mm_cmpunord_pd(b, b)));
    }
    double l[4], h[4];
    int64_t c[4];
    _mm_storeu_pd(l, lo0), _mm_storeu_pd(l + 2, lo1), _mm_storeu_pd(h, hi0), _mm_storeu_pd(h + 2, hi1);
    _mm_storeu_si128((__m128i *)(void *)c, nan0), _mm_storeu_si128((__m128i *)(void *)(c + 2), nan1);
    double lo = l[0], hi = h[0];
    int64_t nans = c[0] + c[1] + c[2] + c[3];
    for (int k = 1; k < 4; k++) {
        if (l[k] < lo) lo = l[k];
        if (h[k] > hi) hi = h[k];
    }
    for (; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
        nans += x[i] != x[i];
    }
    found = nans < n;
    *nan_count = nans;
    memcpy(mnb, &lo, 8);
    memcpy(mxb, &hi, 8);
#else
    const uint8_t *base = (const uint8_t *)x;
    struct {
        int64_t nan_count;
    } o, *out = &o;
    FLOAT_LOOP(double, (double)INFINITY);
    *nan_count = o.nan_count;
#endif
    return found;
}

static hx_status fixed_bounds(const struct hx_pqw_leaf *leaf, const uint8_t *base, int64_t n, size_t w,
                              struct hx_pqw_stats *out) {
    enum hx_pqw_order o = leaf->node->order;
    uint8_t mnb[8], mxb[8];
    const uint8_t *mn = NULL, *mx = NULL;
    switch (o) {
    case SO_BOOL:
        MINMAX_LOOP(uint8_t);
        mn = mnb, mx = mxb;
        break;
    case SO_I32:
        MINMAX_LOOP(int32_t);
        mn = mnb, mx = mxb;
        break;
    case SO_U32:
        MINMAX_LOOP(uint32_t);
        mn = mnb, mx = mxb;
        break;
    case SO_I64:
        MINMAX_LOOP(int64_t);
        mn = mnb, mx = mxb;
        break;
    case SO_U64:
        MINMAX_LOOP(uint64_t);
        mn = mnb, mx = mxb;
        break;
    case SO_NONE: return HOIST_OK;
    case SO_FLOAT:
    case SO_DOUBLE: {
        int found = 0;
        if (o == SO_DOUBLE)
            found = double_bounds((const double *)(const void *)base, n, mnb, mxb, &out->nan_count);
        else
            FLOAT_LOOP(float, INFINITY);
        if (!found) {
            out->all_nan = 1;
            return HOIST_OK;
        }
        fix_zero(o, mnb, mxb);
        mn = mnb, mx = mxb;
        break;
    }
    default:
        /* floats (NaN skipped), float16, FLBA, decimals: generic compare */
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = base + (size_t)i * w;
            if (is_nan(o, p)) {
                out->nan_count++;
                continue;
            }
            if (!mn || hx_pqw_compare(o, p, w, mn, w) < 0) mn = p;
            if (!mx || hx_pqw_compare(o, p, w, mx, w) > 0) mx = p;
        }
        if (!mn) {
            out->all_nan = 1;
            return HOIST_OK;
        }
        memcpy(mnb, mn, w <= 8 ? w : 0);
        memcpy(mxb, mx, w <= 8 ? w : 0);
        if (w <= 8) mn = mnb, mx = mxb;
        fix_zero(o, mnb, mxb);
        break;
    }
    HX_TRY(set_bound(&out->min, &out->min_len, mn, w));
    HX_TRY(set_bound(&out->max, &out->max_len, mx, w));
    out->has_minmax = 1;
    out->min_exact = out->max_exact = 1;
    return HOIST_OK;
}

/* Length of the longest prefix of p[0..n) not ending inside a UTF-8 character. */
static size_t utf8_cut(const uint8_t *p, size_t full, size_t n) {
    if (n >= full) return full;
    while (n > 0 && (p[n] & 0xc0) == 0x80) n--;
    return n;
}

static hx_status truncate_bounds(struct hx_pqw_stats *s, int utf8) {
    if (s->min_len > HX_PQW_STAT_TRUNC) {
        size_t k = utf8 ? utf8_cut(s->min, s->min_len, HX_PQW_STAT_TRUNC) : HX_PQW_STAT_TRUNC;
        s->min_len = k;
        s->min_exact = 0;
    }
    if (s->max_len > HX_PQW_STAT_TRUNC) {
        size_t k = utf8 ? utf8_cut(s->max, s->max_len, HX_PQW_STAT_TRUNC) : HX_PQW_STAT_TRUNC;
        /* Increment the last byte that can grow and stays valid (ASCII below
         * 0x7f for strings, as DuckDB does); the prefix up to it is then
         * larger than any value starting with the original prefix. */
        while (k > 0 && s->max[k - 1] >= (utf8 ? 0x7f : 0xff)) k--;
        if (k > 0) {
            s->max[k - 1]++;
            s->max_len = k;
            s->max_exact = 0;
        }
    }
    return HOIST_OK;
}

/* The bounds of a byte-array page once its smallest (mi) and largest (ma)
 * values are found: copied, exact, then truncated as the spec allows. */
static hx_status byte_array_bounds(const struct hx_pqw_node *n, const int64_t *off, const uint8_t *d, int64_t mi,
                                   int64_t ma, struct hx_pqw_stats *out) {
    HX_TRY(set_bound(&out->min, &out->min_len, d + off[mi], (size_t)(off[mi + 1] - off[mi])));
    HX_TRY(set_bound(&out->max, &out->max_len, d + off[ma], (size_t)(off[ma + 1] - off[ma])));
    out->has_minmax = 1;
    out->min_exact = out->max_exact = 1;
    return truncate_bounds(out, n->logical == PQL_STRING);
}

hx_status hx_pqw_stats_compute(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *b, int64_t v0, int64_t v1,
                               struct hx_pqw_stats *out) {
    const struct hx_pqw_node *n = leaf->node;
    if (v1 <= v0 || n->order == SO_NONE) return HOIST_OK;
    if (n->ptype == PQT_BYTE_ARRAY) {
        const int64_t *off = (const int64_t *)(const void *)b->offs.data;
        const uint8_t *d = b->vals.data;
        int64_t mi = v0, ma = v0;
        for (int64_t i = v0 + 1; i < v1; i++) {
            const uint8_t *p = d + off[i];
            size_t l = (size_t)(off[i + 1] - off[i]);
            if (cmp_bytes(p, l, d + off[mi], (size_t)(off[mi + 1] - off[mi])) < 0) mi = i;
            if (cmp_bytes(p, l, d + off[ma], (size_t)(off[ma + 1] - off[ma])) > 0) ma = i;
        }
        return byte_array_bounds(n, off, d, mi, ma, out);
    }
    size_t w = n->ptype == PQT_BOOLEAN                          ? 1
               : n->ptype == PQT_INT32 || n->ptype == PQT_FLOAT ? 4
               : n->ptype == PQT_FLBA                           ? (size_t)n->type_length
                                                                : 8;
    return fixed_bounds(leaf, b->vals.data + (size_t)v0 * w, v1 - v0, w, out);
}

hx_status hx_pqw_stats_compute_entries(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *entries,
                                       const uint32_t *which, size_t m, struct hx_pqw_stats *out) {
    const struct hx_pqw_node *n = leaf->node;
    if (m == 0 || n->order == SO_NONE) return HOIST_OK;
    if (n->ptype == PQT_BYTE_ARRAY) {
        const int64_t *off = (const int64_t *)(const void *)entries->offs.data;
        const uint8_t *d = entries->vals.data;
        uint32_t mi = which[0], ma = which[0];
        for (size_t k = 1; k < m; k++) {
            uint32_t i = which[k];
            const uint8_t *p = d + off[i];
            size_t l = (size_t)(off[i + 1] - off[i]);
            if (cmp_bytes(p, l, d + off[mi], (size_t)(off[mi + 1] - off[mi])) < 0) mi = i;
            if (cmp_bytes(p, l, d + off[ma], (size_t)(off[ma + 1] - off[ma])) > 0) ma = i;
        }
        return byte_array_bounds(n, off, d, mi, ma, out);
    }
    /* fixed width: the entries gathered, then the typed loops */
    size_t w = hx_pqw_value_width(n);
    uint8_t *g = hx_malloc(m * w);
    if (!g) HX_FAIL(HOIST_ERR_NOMEM, "out of memory computing statistics");
    const uint8_t *e = entries->vals.data;
    if (w == 8) /* the common widths with a constant size: a move, not a libc call per entry */
        for (size_t k = 0; k < m; k++) memcpy(g + k * 8, e + (size_t)which[k] * 8, 8);
    else if (w == 4)
        for (size_t k = 0; k < m; k++) memcpy(g + k * 4, e + (size_t)which[k] * 4, 4);
    else
        for (size_t k = 0; k < m; k++) memcpy(g + k * w, e + (size_t)which[k] * w, w);
    hx_status st = fixed_bounds(leaf, g, (int64_t)m, w, out);
    hx_free(g);
    return st;
}

hx_status hx_pqw_stats_merge(enum hx_pqw_order order, struct hx_pqw_stats *into, const struct hx_pqw_stats *from) {
    into->null_count += from->null_count;
    into->nan_count += from->nan_count;
    if (from->all_nan && !into->has_minmax) into->all_nan = 1;
    if (!from->has_minmax) return HOIST_OK;
    into->all_nan = 0;
    if (!into->has_minmax || hx_pqw_compare(order, from->min, from->min_len, into->min, into->min_len) < 0) {
        HX_TRY(set_bound(&into->min, &into->min_len, from->min, from->min_len));
        into->min_exact = from->min_exact;
    }
    if (!into->has_minmax || hx_pqw_compare(order, from->max, from->max_len, into->max, into->max_len) > 0) {
        HX_TRY(set_bound(&into->max, &into->max_len, from->max, from->max_len));
        into->max_exact = from->max_exact;
    }
    into->has_minmax = 1;
    return HOIST_OK;
}

void hx_pqw_stats_write(const struct hx_pqw_stats *s, enum hx_pqw_order order, struct hx_tw *w) {
    /* Legacy min/max only for signed orders (parquet.thrift Statistics; as Arrow C++). */
    int legacy = s->has_minmax && order != SO_U32 && order != SO_U64 && order != SO_BYTES && order != SO_NONE;
    if (legacy) {
        hx_tw_binary(w, 1, s->max, s->max_len);
        hx_tw_binary(w, 2, s->min, s->min_len);
    }
    hx_tw_i64(w, 3, s->null_count);
    if (s->has_minmax) {
        hx_tw_binary(w, 5, s->max, s->max_len);
        hx_tw_binary(w, 6, s->min, s->min_len);
        hx_tw_bool(w, 7, s->max_exact);
        hx_tw_bool(w, 8, s->min_exact);
    }
    /* bounds leave NaN out; only nan_count says whether there are any */
    if (order == SO_FLOAT || order == SO_DOUBLE || order == SO_F16) hx_tw_i64(w, 9, s->nan_count);
}
