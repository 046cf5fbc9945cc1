/* One column of one chunk, from lexed fields straight into the Arrow
 * buffers of its type: validity bitmap, values (or offsets and UTF-8 data).
 * A value that does not convert stops the column and says which type it
 * would need, so the reader can widen (inferred types) or report it (types
 * the caller set). */
#include "csv_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static inline bool bit_get(const uint8_t *b, int64_t i) { return (b[i >> 3] >> (i & 7)) & 1; }
static inline void bit_set(uint8_t *b, int64_t i) { b[i >> 3] |= (uint8_t)(1u << (i & 7)); }

struct colbufs {
    uint8_t *validity;
    uint8_t *values;
    struct hx_arrow_buf data;
};

static void colbufs_free(struct colbufs *b) {
    hx_aligned_free(b->validity);
    hx_aligned_free(b->values);
    hx_arrow_buf_reset(&b->data);
}

static size_t value_width(enum hx_csv_type t) {
    switch (t) {
    case HX_CSV_INT64:
    case HX_CSV_FLOAT64:
    case HX_CSV_TIMESTAMP:
    case HX_CSV_TIMESTAMP_UTC: return 8;
    case HX_CSV_DATE32:
    case HX_CSV_STRING: return 4; /* int32 offsets, one more than rows */
    default: return 0;
    }
}

/* Fresh column memory costs a page fault per 4 KiB page at its first
 * write (a tenth of a read's CPU: 37k faults for a 133 MiB table). Asking
 * the kernel to map a buffer's whole pages in one call does the same work
 * without a trap per page; pages already mapped (reused memory) are only
 * looked up. Kernels before 5.14 refuse the advice: then the faults stay. */
static void prefault(void *p, size_t n) {
#if defined(MADV_POPULATE_WRITE)
    static long page;
    if (!page) page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || n < 4 * (size_t)page) return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~((uintptr_t)page - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}

static hx_status alloc_bufs(enum hx_csv_type t, int64_t n, struct colbufs *b) {
    size_t bitmap = ((size_t)n + 7) / 8;
    b->validity = hx_aligned_alloc(bitmap ? bitmap : 1);
    size_t vbytes = t == HX_CSV_BOOL ? bitmap : value_width(t) * ((size_t)n + (t == HX_CSV_STRING));
    if (t != HX_CSV_NULL) b->values = hx_aligned_alloc(vbytes ? vbytes : 1); /* never NULL: consumers read it */
    if (!b->validity || (t != HX_CSV_NULL && !b->values)) {
        colbufs_free(b);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory converting a CSV column (%lld rows)", (long long)n);
    }
    memset(b->validity, 0, bitmap ? bitmap : 1);
    if (t == HX_CSV_BOOL) memset(b->values, 0, bitmap ? bitmap : 1);
    if (t != HX_CSV_NULL) prefault(b->values, vbytes);
    return HOIST_OK;
}

/* Converts one non-null value; false when it does not fit t. */
static inline bool put_value(const struct hx_csv_convert_ctx *cx, enum hx_csv_type t, const uint8_t *s, size_t n,
                             struct colbufs *b, int64_t k, hx_status *st, bool *bad_utf8) {
    switch (t) {
    case HX_CSV_INT64: return hx_csv_parse_int64(s, n, (int64_t *)b->values + k);
    case HX_CSV_FLOAT64: return hx_csv_parse_float64(s, n, (double *)b->values + k);
    case HX_CSV_DATE32: return hx_csv_parse_date32(s, n, (int32_t *)b->values + k);
    case HX_CSV_TIMESTAMP:
    case HX_CSV_TIMESTAMP_UTC: {
        bool zoned;
        return hx_csv_parse_timestamp(s, n, (int64_t *)b->values + k, &zoned) && zoned == (t == HX_CSV_TIMESTAMP_UTC);
    }
    case HX_CSV_BOOL:
        if (hx_csv_words_has(cx->trues, s, n)) {
            bit_set(b->values, k);
            return true;
        }
        return hx_csv_words_has(cx->falses, s, n);
    case HX_CSV_STRING: {
        if (!hx_csv_utf8_valid(s, n)) {
            *bad_utf8 = true;
            return false;
        }
        int32_t *offs = (int32_t *)b->values;
        if (n > (size_t)INT32_MAX - b->data.len) {
            *st = hx_error(HOIST_ERR_LIMIT, "a CSV chunk holds over 2 GiB of text in one column");
            return false;
        }
        if (n) {
            /* reserved for the whole column up front: the call is the rare case */
            if (b->data.len + n + 64 > b->data.cap && (*st = hx_arrow_buf_reserve(&b->data, n)) != HOIST_OK)
                return false;
            memcpy(b->data.data + b->data.len, s, n);
            b->data.len += n;
        }
        offs[k + 1] = (int32_t)b->data.len;
        return true;
    }
    default: return false;
    }
}

/* Eight bytes of a validity bitmap from a word, least significant bit
 * first (Arrow's bit order) on any byte order. */
static inline void store_bits(uint8_t *dst, uint64_t w, size_t nbytes) {
    for (size_t i = 0; i < nbytes; i++) dst[i] = (uint8_t)(w >> (8 * i));
}

static int64_t count_kept(const uint8_t *dropped, int64_t nrows) {
    if (!dropped) return nrows;
    int64_t kept = 0;
    for (int64_t r = 0; r < nrows; r++) kept += !bit_get(dropped, r);
    return kept;
}

static hx_status finish_array(enum hx_csv_type t, int64_t n, int64_t nulls, struct colbufs *b, struct ArrowArray *out) {
    int64_t nbuf = t == HX_CSV_NULL ? 0 : t == HX_CSV_STRING ? 3 : 2;
    hx_status st = hx_arrow_array_init(out, n, nbuf, 0);
    if (st != HOIST_OK) {
        colbufs_free(b);
        return st;
    }
    out->null_count = nulls;
    if (t == HX_CSV_NULL) {
        colbufs_free(b);
        return HOIST_OK;
    }
    if (nulls)
        hx_arrow_array_set_buffer(out, 0, b->validity);
    else
        hx_aligned_free(b->validity);
    hx_arrow_array_set_buffer(out, 1, b->values);
    if (t == HX_CSV_STRING) {
        /* an empty column still gets a data buffer: consumers may read it */
        if (!b->data.data && hx_arrow_buf_reserve(&b->data, 1) != HOIST_OK) {
            b->validity = b->values = NULL;
            out->release(out);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory converting a CSV column");
        }
        hx_arrow_array_set_buffer(out, 2, hx_arrow_buf_detach(&b->data));
    }
    return HOIST_OK;
}

/* The loop over a column's rows, inlined once per type (t is a constant at
 * each call below) so the per-value dispatch folds away. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif
static ALWAYS_INLINE hx_status convert_rows(const struct hx_csv_convert_ctx *cx, const uint8_t *base,
                                            const struct hx_csv_field *fields, size_t stride, size_t j, int64_t nrows,
                                            const uint8_t *dropped, const enum hx_csv_type t, struct hx_buf *scratch,
                                            struct colbufs *b, int64_t *nulls_out, struct hx_csv_convert_fail *fail) {
    bool nullable = t != HX_CSV_STRING || cx->strings_can_be_null;
    /* the common case first: a number or time that converts is no null
     * word when no null word converts (NaN excepted: "nan" is one). Loop
     * invariants are read once here: stores into the column's bytes could
     * alias them, so the compiler would load them again for every row. */
    const bool convert_first = nullable &&
                               (t == HX_CSV_INT64 || t == HX_CSV_FLOAT64 || t == HX_CSV_DATE32 ||
                                t == HX_CSV_TIMESTAMP || t == HX_CSV_TIMESTAMP_UTC) &&
                               !cx->nulls->converts[t];
    double *const doubles = (double *)b->values;
    int64_t k = 0, nulls = 0;
    hx_status st = HOIST_OK;
    /* validity bits of rows k & ~63 .. k, stored every 64 rows: all set,
     * a null clears its own, so a value costs no bit operation */
    uint64_t valid = ~(uint64_t)0;
#define NEXT_ROW()                                                                                                     \
    do {                                                                                                               \
        if (!(++k & 63)) {                                                                                             \
            store_bits(b->validity + ((k >> 6) - 1) * 8, valid, 8);                                                    \
            valid = ~(uint64_t)0;                                                                                      \
        }                                                                                                              \
    } while (0)
    const struct hx_csv_field *fp = fields + j; /* row r's field */
    const size_t ahead = 16 * stride;
    for (int64_t r = 0; r < nrows; r++, fp += stride) {
        if (dropped && bit_get(dropped, r)) continue;
        /* the text of a row a few ahead: a column pass over a chunk of text
         * and its index outgrows L2, so these would miss */
        if (r + 16 < nrows) __builtin_prefetch(base + fp[ahead].off);
        struct hx_csv_field f = *fp;
        const uint8_t *s = base + f.off;
        size_t len = f.len & HX_CSV_FIELD_MAXLEN;
        if (HX_UNLIKELY(f.len & HX_CSV_FIELD_RAW)) {
            if ((st = hx_csv_unescape(cx->d, s, len, scratch)) != HOIST_OK) return st;
            s = (const uint8_t *)scratch->data;
            len = scratch->len;
        }
        if (convert_first) {
            bool unused = false;
            /* floats: the inline parser, whose values are never NaN, so the
             * branch here does not wait for the division's result */
            if (t == HX_CSV_FLOAT64 ? hx_csv_parse_float64_plain(s, len, doubles + k)
                                    : put_value(cx, t, s, len, b, k, &st, &unused)) {
                NEXT_ROW();
                continue;
            }
        }
        if (nullable && hx_csv_words_has(cx->nulls, s, len)) {
            nulls++;
            valid &= ~((uint64_t)1 << (k & 63));
            if (t == HX_CSV_STRING)
                ((int32_t *)b->values)[k + 1] = (int32_t)b->data.len;
            else if (value_width(t) == 8)
                ((int64_t *)b->values)[k] = 0;
            else if (t == HX_CSV_DATE32)
                ((int32_t *)b->values)[k] = 0;
            NEXT_ROW();
            continue;
        }
        bool bad_utf8 = false;
        if (t == HX_CSV_NULL || !put_value(cx, t, s, len, b, k, &st, &bad_utf8)) {
            if (st != HOIST_OK) return st;
            fail->row = r;
            fail->bad_utf8 = bad_utf8;
            fail->wanted =
                bad_utf8 ? HX_CSV_STRING : hx_csv_mask_best(hx_csv_value_types(cx->trues, cx->falses, s, len));
            return HOIST_ERR_CSV_PARSE;
        }
        NEXT_ROW();
    }
#undef NEXT_ROW
    /* the last word's bits past the column's end stay clear */
    if (k & 63)
        store_bits(b->validity + (k >> 6) * 8, valid & (((uint64_t)1 << (k & 63)) - 1), (size_t)((k & 63) + 7) / 8);
    *nulls_out = nulls;
    return HOIST_OK;
}

hx_status hx_csv_convert_column(const struct hx_csv_convert_ctx *cx, const uint8_t *base,
                                const struct hx_csv_field *fields, size_t stride, size_t j, int64_t nrows,
                                const uint8_t *dropped, enum hx_csv_type t, struct hx_buf *scratch,
                                struct ArrowArray *out, struct hx_csv_convert_fail *fail) {
    int64_t n = count_kept(dropped, nrows), nulls = 0;
    struct colbufs b = {0};
    HX_TRY(alloc_bufs(t, n, &b));
    if (t == HX_CSV_STRING) {
        /* the raw lengths bound the text: one allocation, no regrowth */
        size_t total = 0;
        for (int64_t r = 0; r < nrows; r++) total += fields[(size_t)r * stride + j].len & HX_CSV_FIELD_MAXLEN;
        if (total && hx_arrow_buf_reserve(&b.data, total) != HOIST_OK) {
            colbufs_free(&b);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory converting a CSV column (%zu bytes of text)", total);
        }
        if (total) prefault(b.data.data, total);
        ((int32_t *)b.values)[0] = 0;
    }
    hx_status st;
#define CONVERT_AS(T) convert_rows(cx, base, fields, stride, j, nrows, dropped, T, scratch, &b, &nulls, fail)
    switch (t) {
    case HX_CSV_NULL: st = CONVERT_AS(HX_CSV_NULL); break;
    case HX_CSV_INT64: st = CONVERT_AS(HX_CSV_INT64); break;
    case HX_CSV_BOOL: st = CONVERT_AS(HX_CSV_BOOL); break;
    case HX_CSV_FLOAT64: st = CONVERT_AS(HX_CSV_FLOAT64); break;
    case HX_CSV_DATE32: st = CONVERT_AS(HX_CSV_DATE32); break;
    case HX_CSV_TIMESTAMP: st = CONVERT_AS(HX_CSV_TIMESTAMP); break;
    case HX_CSV_TIMESTAMP_UTC: st = CONVERT_AS(HX_CSV_TIMESTAMP_UTC); break;
    default: st = CONVERT_AS(HX_CSV_STRING); break;
    }
#undef CONVERT_AS
    if (st != HOIST_OK) {
        colbufs_free(&b);
        return st;
    }
    return finish_array(t, n, nulls, &b, out);
}
