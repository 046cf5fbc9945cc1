/* The values of one page in their final Arrow representation: conversion
 * of fixed physical values, byte arrays (PLAIN, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY), the dictionary page and dictionary-encoded pages, and
 * dictionary outputs (Encodings.md). Page walking and levels are in
 * pq_column.c; the state both share is in pq_column.h. */
#include "pq_column.h"

#include <string.h>

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

static hx_status grow(void **p, size_t *cap, size_t need) {
    if (need <= *cap) return HOIST_OK;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n = n > SIZE_MAX / 2 ? need : n * 2;
    void *q = hx_realloc(*p, n);
    if (!q) HX_FAIL(HOIST_ERR_NOMEM, "out of memory (%zu bytes)", n);
    *p = q;
    *cap = n;
    return HOIST_OK;
}

/* ---- conversion of fixed physical values to the output form ------------- */

static void store_dec_from_i64(uint8_t *dst, int64_t v, int width) {
    if (width < 8) { /* decimal32 (precision <= 9 fits): the low bytes, little-endian */
        int32_t v4 = (int32_t)v;
        memcpy(dst, &v4, 4);
        return;
    }
    memcpy(dst, &v, 8);
    memset(dst + 8, v < 0 ? 0xff : 0, (size_t)width - 8);
}

static hx_status be_to_dec(const uint8_t *src, size_t len, uint8_t *dst, int width) {
    HX_FAIL_IF(len > (size_t)width, HOIST_ERR_PARQUET_CORRUPT, "decimal of %zu bytes does not fit %d bytes", len,
               width);
    uint8_t fill = (len > 0 && (src[0] & 0x80)) ? 0xff : 0;
    for (size_t i = 0; i < len; i++) dst[i] = src[len - 1 - i];
    memset(dst + len, fill, (size_t)width - len);
    return HOIST_OK;
}

static void int96_to_ts(const uint8_t *src, int64_t k, uint8_t *dst) {
    uint64_t nanos;
    uint32_t jd; /* unsigned, as Arrow C++ reads it (int96_from_spark's last row) */
    memcpy(&nanos, src, 8);
    memcpy(&jd, src + 8, 4);
    int64_t days = (int64_t)jd - 2440588;
    uint64_t v;
    if (k == 1) {
        /* Wraps like Arrow C++ for dates outside the int64 ns range (int96_from_spark). */
        v = (uint64_t)days * 86400000000000ull + nanos;
    } else {
        v = (uint64_t)days * (uint64_t)(86400000000000ll / k) + (uint64_t)((int64_t)nanos / k);
    }
    memcpy(dst, &v, 8);
}

/* Converts n physical values (src, phys_width each) into n output values. */
static hx_status convert_fixed(const struct hx_pq_colctx *cx, const uint8_t *src, size_t n, uint8_t *dst) {
    const struct hx_pq_anode *a = cx->a;
    int w = a->out_width, pw = cx->phys_width;
    switch (a->conv) {
    case CV_COPY: memcpy(dst, src, n * (size_t)w); break;
    case CV_I32_I8:
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            dst[i] = (uint8_t)v;
        }
        break;
    case CV_I32_I16:
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            uint16_t s = (uint16_t)v;
            memcpy(dst + 2 * i, &s, 2);
        }
        break;
    case CV_I64_I32:
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, src + 8 * i, 8);
            uint32_t s = (uint32_t)v;
            memcpy(dst + 4 * i, &s, 4);
        }
        break;
    case CV_I32_I64:
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            int64_t s = v;
            memcpy(dst + 8 * i, &s, 8);
        }
        break;
    case CV_I32_MUL:
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            int64_t s = (int64_t)v * a->conv_k;
            memcpy(dst + 8 * i, &s, 8);
        }
        break;
    case CV_I32_DIV:
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            v = (int32_t)(v / a->conv_k);
            memcpy(dst + 4 * i, &v, 4);
        }
        break;
    case CV_I64_DIV:
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, src + 8 * i, 8);
            v /= a->conv_k;
            memcpy(dst + 8 * i, &v, 8);
        }
        break;
    case CV_I32_DEC:
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            store_dec_from_i64(dst + (size_t)w * i, v, w);
        }
        break;
    case CV_I64_DEC:
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, src + 8 * i, 8);
            store_dec_from_i64(dst + (size_t)w * i, v, w);
        }
        break;
    case CV_BE_DEC:
        for (size_t i = 0; i < n; i++) HX_TRY(be_to_dec(src + (size_t)pw * i, (size_t)pw, dst + (size_t)w * i, w));
        break;
    case CV_INT96:
        for (size_t i = 0; i < n; i++) int96_to_ts(src + 12 * i, a->conv_k, dst + 8 * i);
        break;
    default: HX_FAIL(HOIST_ERR_INTERNAL, "bad conversion %d", (int)a->conv);
    }
    return HOIST_OK;
}

/* ---- byte arrays ----------------------------------------------------------- */

/* A decoded run of byte arrays (offsets into bytes), for the slow paths. */
struct barr {
    int64_t *off; /* n + 1 */
    uint8_t *bytes;
    size_t n;
    size_t off_cap, bytes_cap;
    const uint8_t *borrowed; /* when bytes point into the page */
};

static void barr_free(struct barr *b) {
    hx_free(b->off);
    hx_free(b->bytes);
}

static const uint8_t *barr_data(const struct barr *b) { return b->borrowed ? b->borrowed : b->bytes; }

/* PLAIN BYTE_ARRAY: u32 length + bytes, n times. Offsets point into data. */
static hx_status plain_barr(const uint8_t *p, size_t len, size_t n, struct barr *b) {
    void *o = b->off;
    HX_TRY(grow(&o, &b->off_cap, (n + 1) * sizeof(int64_t)));
    b->off = o;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t l;
        HX_FAIL_IF(len - pos < 4, HOIST_ERR_PARQUET_CORRUPT, "PLAIN byte array %zu of %zu overruns the page", i, n);
        memcpy(&l, p + pos, 4);
        HX_FAIL_IF(l > len - pos - 4, HOIST_ERR_PARQUET_CORRUPT, "PLAIN byte array %zu of %zu overruns the page", i, n);
        /* offsets here are (start) positions; the length is implied by the next */
        b->off[i] = (int64_t)(pos + 4);
        pos += 4 + l;
        (void)0;
    }
    b->off[n] = (int64_t)pos;
    b->n = n;
    b->borrowed = p;
    return HOIST_OK;
}

/* Because PLAIN offsets above include the 4-byte length words, lengths are
 * read back from them: value i is [off[i], next start - 4). */
static inline size_t barr_len_plain(const struct barr *b, size_t i) {
    return (size_t)(b->off[i + 1] - b->off[i]) - (i + 1 < b->n ? 4 : 0);
}

static hx_status delta_lengths_barr(const uint8_t *p, size_t len, size_t n, struct barr *b, size_t *used) {
    void *o = b->off;
    HX_TRY(grow(&o, &b->off_cap, (n + 1) * sizeof(int64_t)));
    b->off = o;
    if (n == 0) {
        b->off[0] = 0;
        b->n = 0;
        b->borrowed = p;
        if (used) *used = 0;
        return HOIST_OK;
    }
    int32_t *lens = hx_malloc(n * sizeof *lens);
    if (!lens) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    size_t consumed = 0;
    hx_status st = hx_delta_decode_i32(p, len, lens, n, &consumed);
    if (st != HOIST_OK) {
        hx_free(lens);
        return hx_error_prefix(st, "DELTA_LENGTH_BYTE_ARRAY lengths");
    }
    size_t pos = consumed;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 0 || (size_t)lens[i] > len - pos) {
            hx_free(lens);
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_LENGTH_BYTE_ARRAY value %zu overruns the page", i);
        }
        b->off[i] = (int64_t)pos;
        pos += (size_t)lens[i];
    }
    b->off[n] = (int64_t)pos;
    hx_free(lens);
    b->n = n;
    b->borrowed = p;
    if (used) *used = pos;
    return HOIST_OK;
}

static hx_status delta_byte_array_barr(const uint8_t *p, size_t len, size_t n, struct barr *b) {
    if (n == 0) {
        void *o0 = b->off;
        HX_TRY(grow(&o0, &b->off_cap, sizeof(int64_t)));
        b->off = o0;
        b->off[0] = 0;
        b->n = 0;
        return HOIST_OK;
    }
    int32_t *pre = hx_malloc(n * sizeof *pre);
    if (!pre) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    size_t consumed = 0;
    hx_status st = hx_delta_decode_i32(p, len, pre, n, &consumed);
    struct barr suf = {0};
    if (st == HOIST_OK) st = delta_lengths_barr(p + consumed, len - consumed, n, &suf, NULL);
    if (st != HOIST_OK) {
        hx_free(pre);
        barr_free(&suf);
        return hx_error_prefix(st, "DELTA_BYTE_ARRAY");
    }
    void *o = b->off;
    st = grow(&o, &b->off_cap, (n + 1) * sizeof(int64_t));
    b->off = o;
    size_t total = 0;
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        size_t prev_len = i ? (size_t)(b->off[i] - b->off[i - 1]) : 0;
        if (pre[i] < 0 || (size_t)pre[i] > prev_len) {
            st = CORRUPT("DELTA_BYTE_ARRAY prefix %d of value %zu is longer than the previous value", pre[i], i);
            break;
        }
        size_t sl = (size_t)(suf.off[i + 1] - suf.off[i]);
        size_t vl = (size_t)pre[i] + sl;
        void *bb = b->bytes;
        st = grow(&bb, &b->bytes_cap, total + vl + 1);
        b->bytes = bb;
        if (st != HOIST_OK) break;
        if (i) memmove(b->bytes + total, b->bytes + b->off[i - 1], (size_t)pre[i]);
        memcpy(b->bytes + total + pre[i], suf.borrowed + suf.off[i], sl);
        b->off[i] = (int64_t)total;
        total += vl;
        b->off[i + 1] = (int64_t)total;
    }
    if (st == HOIST_OK && n == 0) b->off[0] = 0;
    hx_free(pre);
    barr_free(&suf);
    b->n = n;
    b->borrowed = NULL;
    return st;
}

/* Appends byte arrays to the binary output. lenfn: plain layout or not. */
static hx_status emit_binary(struct hx_pq_colctx *cx, const struct barr *b, int plain) {
    struct hx_pq_leaf_data *o = cx->out;
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++) total += plain ? barr_len_plain(b, i) : (size_t)(b->off[i + 1] - b->off[i]);
    HX_TRY(hx_arrow_buf_reserve(&o->data, total));
    int large = cx->a->large;
    HX_TRY(hx_arrow_buf_reserve(&o->offsets, b->n * (large ? 8 : 4)));
    HX_FAIL_IF(!large && o->data.len + total > INT32_MAX, HOIST_ERR_LIMIT,
               "more than 2 GiB of string data in one column chunk (not supported for 32-bit offsets)");
    const uint8_t *src = barr_data(b);
    uint8_t *dst = o->data.data + o->data.len;
    int64_t end = (int64_t)o->data.len;
    for (size_t i = 0; i < b->n; i++) {
        size_t l = plain ? barr_len_plain(b, i) : (size_t)(b->off[i + 1] - b->off[i]);
        memcpy(dst, src + b->off[i], l);
        dst += l;
        end += (int64_t)l;
        if (large)
            memcpy(o->offsets.data + o->offsets.len + 8 * i, &end, 8);
        else {
            int32_t e32 = (int32_t)end;
            memcpy(o->offsets.data + o->offsets.len + 4 * i, &e32, 4);
        }
    }
    o->offsets.len += b->n * (large ? 8 : 4);
    o->data.len = (size_t)end;
    return HOIST_OK;
}

/* Byte arrays to fixed outputs (FLBA via DELTA_BYTE_ARRAY, decimals). */
static hx_status emit_barr_fixed(struct hx_pq_colctx *cx, const struct barr *b, int plain, uint8_t *dst) {
    const uint8_t *src = barr_data(b);
    int w = cx->a->out_width;
    for (size_t i = 0; i < b->n; i++) {
        size_t l = plain ? barr_len_plain(b, i) : (size_t)(b->off[i + 1] - b->off[i]);
        if (cx->a->conv == CV_BE_DEC) {
            HX_TRY(be_to_dec(src + b->off[i], l, dst + (size_t)w * i, w));
        } else {
            HX_FAIL_IF(l != (size_t)w, HOIST_ERR_PARQUET_CORRUPT, "value of %zu bytes in a %d-byte column", l, w);
            memcpy(dst + (size_t)w * i, src + b->off[i], l);
        }
    }
    return HOIST_OK;
}

/* ---- dictionary ----------------------------------------------------------- */

/* Categorical strings (a few thousand entries of at most 16 bytes) are the
 * common dictionary: copying each value as one 16-byte load/store from a slot
 * table, with lengths in a byte array, avoids two dependent offset loads per
 * value and the pass that sums the lengths first. */
static hx_status build_slots(struct hx_pq_colctx *cx) {
    int64_t n = cx->dict_n;
    if (n <= 0 || n > 65536) return HOIST_OK;
    for (int64_t i = 0; i < n; i++)
        if (cx->dict_off[i + 1] - cx->dict_off[i] > 16) return HOIST_OK;
    cx->dict_slots = hx_calloc((size_t)n, 16);
    cx->dict_len8 = hx_malloc((size_t)n);
    if (!cx->dict_slots || !cx->dict_len8) {
        hx_free(cx->dict_slots);
        hx_free(cx->dict_len8);
        cx->dict_slots = cx->dict_len8 = NULL;
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        size_t l = (size_t)(cx->dict_off[i + 1] - cx->dict_off[i]);
        memcpy(cx->dict_slots + 16 * i, cx->dict_bytes + cx->dict_off[i], l);
        cx->dict_len8[i] = (uint8_t)l;
    }
    return HOIST_OK;
}

hx_status hx_pq_read_dictionary(struct hx_pq_colctx *cx, const uint8_t *p, size_t len, int32_t n) {
    HX_FAIL_IF(n < 0, HOIST_ERR_PARQUET_CORRUPT, "dictionary page with %d values", (int)n);
    HX_FAIL_IF(cx->have_dict, HOIST_ERR_PARQUET_CORRUPT, "more than one dictionary page");
    cx->have_dict = 1;
    cx->dict_n = n;
    const struct hx_pq_anode *a = cx->a;
    if (cx->e->type == PQT_BYTE_ARRAY || (cx->e->type == PQT_FLBA && a->conv == CV_BINARY)) {
        struct barr b = {0};
        hx_status st = plain_barr(p, len, (size_t)n, &b);
        if (st == HOIST_OK) {
            cx->dict_off = hx_malloc(((size_t)n + 1) * sizeof(int64_t));
            size_t total = 0;
            for (int32_t i = 0; i < n; i++) total += barr_len_plain(&b, (size_t)i);
            cx->dict_bytes = hx_malloc(total + 16);
            if (!cx->dict_off || !cx->dict_bytes) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            size_t pos = 0;
            for (int32_t i = 0; st == HOIST_OK && i < n; i++) {
                size_t l = barr_len_plain(&b, (size_t)i);
                memcpy(cx->dict_bytes + pos, p + b.off[i], l);
                cx->dict_off[i] = (int64_t)pos;
                pos += l;
            }
            if (st == HOIST_OK) cx->dict_off[n] = (int64_t)pos;
            if (st == HOIST_OK && a->conv == CV_BINARY) st = build_slots(cx);
            if (st == HOIST_OK && a->conv == CV_BE_DEC) {
                cx->dict_fixed = hx_malloc((size_t)n * (size_t)a->out_width + 1);
                if (!cx->dict_fixed) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                for (int32_t i = 0; st == HOIST_OK && i < n; i++)
                    st = be_to_dec(cx->dict_bytes + cx->dict_off[i], (size_t)(cx->dict_off[i + 1] - cx->dict_off[i]),
                                   cx->dict_fixed + (size_t)a->out_width * i, a->out_width);
            }
        }
        barr_free(&b);
        return st;
    }
    if (a->conv == CV_BOOL || a->conv == CV_NULL) return HOIST_OK;
    size_t need;
    HX_FAIL_IF(!hx_mul_size((size_t)n, (size_t)cx->phys_width, &need) || need > len, HOIST_ERR_PARQUET_CORRUPT,
               "dictionary page holds %zu bytes, %d values need %zu", len, (int)n, need);
    cx->dict_fixed = hx_malloc((size_t)n * (size_t)a->out_width + 1);
    if (!cx->dict_fixed) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    return convert_fixed(cx, p, (size_t)n, cx->dict_fixed);
}

/* A compressed dictionary of fixed-width values that need no conversion is
 * decompressed straight into its final buffer: going through the page
 * scratch costs a copy and fresh pages for every column chunk. */
hx_status hx_pq_read_dictionary_direct(struct hx_pq_colctx *cx, const uint8_t *src, size_t src_len, size_t usize,
                                       int32_t n) {
    HX_FAIL_IF(n < 0, HOIST_ERR_PARQUET_CORRUPT, "dictionary page with %d values", (int)n);
    HX_FAIL_IF(cx->have_dict, HOIST_ERR_PARQUET_CORRUPT, "more than one dictionary page");
    size_t need;
    HX_FAIL_IF(!hx_mul_size((size_t)n, (size_t)cx->phys_width, &need) || need > usize, HOIST_ERR_PARQUET_CORRUPT,
               "dictionary page holds %zu bytes, %d values need %zu", usize, (int)n, need);
    void *d = cx->dict_buf;
    HX_TRY(hx_pq_scratch_grow(&d, &cx->dict_buf_cap, usize + 1));
    cx->dict_buf = d;
    if (usize > 0 || src_len > 0) HX_TRY(hx_pq_decompress((enum hx_pq_codec)cx->c->codec, src, src_len, d, usize));
    cx->have_dict = 1;
    cx->dict_n = n;
    cx->dict_fixed = d;
    return HOIST_OK;
}

/* RLE_DICTIONARY / PLAIN_DICTIONARY indices: 1 byte bit width + hybrid runs. */
static hx_status read_indices(struct hx_pq_colctx *cx, const uint8_t *p, size_t len, size_t n) {
    HX_FAIL_IF(!cx->have_dict, HOIST_ERR_PARQUET_CORRUPT, "dictionary-encoded page without a dictionary page");
    void *ip = cx->idx;
    HX_TRY(hx_pq_scratch_grow(&ip, &cx->idx_cap, (n ? n : 1) * sizeof(uint32_t)));
    cx->idx = ip;
    if (n == 0) return HOIST_OK;
    HX_FAIL_IF(len < 1, HOIST_ERR_PARQUET_CORRUPT, "dictionary indices missing");
    int bw = p[0];
    HX_FAIL_IF(bw > 32, HOIST_ERR_PARQUET_CORRUPT, "dictionary index bit width %d", bw);
    HX_TRY(hx_rle_decode_u32(p + 1, len - 1, bw, cx->idx, n, NULL));
    return HOIST_OK;
}

static hx_status check_indices(const struct hx_pq_colctx *cx, size_t n) {
    uint32_t m = hx_max_u32(cx->idx, n);
    HX_FAIL_IF(n && m >= (uint64_t)cx->dict_n, HOIST_ERR_PARQUET_CORRUPT,
               "dictionary index %u out of range (%lld entries)", m, (long long)cx->dict_n);
    return HOIST_OK;
}

/* Short dictionary strings (cx->dict_slots) with the indices decoded 256 at
 * a time into L1: a whole page of indices (4 MB for a 1 Mi-row page) would
 * be written to memory and read back. Caller checked: n > 0, len >= 1, room
 * for 16 bytes a value under 32-bit offsets. */
static hx_status gather_slots_streamed(struct hx_pq_colctx *cx, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const int bw = p[0], large = cx->a->large;
    HX_FAIL_IF(bw > 32, HOIST_ERR_PARQUET_CORRUPT, "dictionary index bit width %d", bw);
    const int check = ((uint64_t)1 << bw) > (uint64_t)cx->dict_n;
    HX_TRY(hx_arrow_buf_reserve(&o->data, 16 * n));
    HX_TRY(hx_arrow_buf_reserve(&o->offsets, n * 8));
    struct hx_rle_reader r;
    hx_rle_reader_init(&r, p + 1, len - 1, bw);
    uint32_t idx[256];
    const uint8_t *slots = cx->dict_slots, *len8 = cx->dict_len8;
    uint8_t *dst = o->data.data + o->data.len, *off = o->offsets.data + o->offsets.len;
    int64_t end = (int64_t)o->data.len;
    for (size_t done = 0; done < n;) {
        int64_t k = hx_rle_reader_next(&r, idx, n - done < 256 ? n - done : 256);
        if (k < 0) return hx_error_prefix(HOIST_ERR_PARQUET_CORRUPT, "dictionary indices");
        HX_FAIL_IF(k == 0, HOIST_ERR_PARQUET_CORRUPT, "dictionary indices end after %zu of %zu values", done, n);
        if (check) {
            uint32_t m = hx_max_u32(idx, (size_t)k);
            HX_FAIL_IF(m >= (uint64_t)cx->dict_n, HOIST_ERR_PARQUET_CORRUPT,
                       "dictionary index %u out of range (%lld entries)", m, (long long)cx->dict_n);
        }
        if (large) {
            for (int64_t i = 0; i < k; i++) {
                uint32_t e = idx[i];
                memcpy(dst, slots + 16 * (size_t)e, 16);
                dst += len8[e];
                end += len8[e];
                memcpy(off + 8 * (done + (size_t)i), &end, 8);
            }
        } else {
            int32_t e32 = (int32_t)end;
            for (int64_t i = 0; i < k; i++) {
                uint32_t e = idx[i];
                memcpy(dst, slots + 16 * (size_t)e, 16);
                dst += len8[e];
                e32 += len8[e];
                memcpy(off + 4 * (done + (size_t)i), &e32, 4);
            }
            end = e32;
        }
        done += (size_t)k;
    }
    o->offsets.len += n * (large ? 8 : 4);
    o->data.len = (size_t)end;
    return HOIST_OK;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static const uint8_t *dict_entry(const struct hx_pq_leaf_data *o, int32_t k, size_t *len) {
    int32_t s0, s1;
    memcpy(&s0, o->dict_offsets.data + 4 * (size_t)k, 4);
    memcpy(&s1, o->dict_offsets.data + 4 * (size_t)k + 4, 4);
    *len = (size_t)(s1 - s0);
    return o->dict_data.data + s0;
}

static hx_status ht_rebuild(struct hx_pq_colctx *cx, size_t cap) {
    int32_t *ht = hx_malloc(cap * sizeof *ht);
    if (!ht) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    memset(ht, 0xff, cap * sizeof *ht);
    const struct hx_pq_leaf_data *o = cx->out;
    for (int64_t k = 0; k < o->dict_n; k++) {
        size_t l;
        const uint8_t *v = dict_entry(o, (int32_t)k, &l);
        size_t h = (size_t)hash_bytes(v, l) & (cap - 1);
        while (ht[h] >= 0) h = (h + 1) & (cap - 1);
        ht[h] = (int32_t)k;
    }
    hx_free(cx->ht);
    cx->ht = ht;
    cx->ht_cap = cap;
    return HOIST_OK;
}

/* Values of non-dictionary pages into a dictionary output: each distinct
 * value once, in order of first appearance, like Arrow's dictionary builder. */
static hx_status dict_insert(struct hx_pq_colctx *cx, const struct barr *b, int plain) {
    struct hx_pq_leaf_data *o = cx->out;
    const uint8_t *src = barr_data(b);
    if (!cx->ht) HX_TRY(ht_rebuild(cx, 1024));
    HX_TRY(hx_arrow_buf_reserve(&o->values, b->n * 4));
    for (size_t i = 0; i < b->n; i++) {
        size_t l = plain ? barr_len_plain(b, i) : (size_t)(b->off[i + 1] - b->off[i]);
        const uint8_t *v = src + b->off[i];
        size_t h = (size_t)hash_bytes(v, l) & (cx->ht_cap - 1);
        int32_t k;
        for (;;) {
            k = cx->ht[h];
            if (k < 0) break;
            size_t el;
            const uint8_t *e = dict_entry(o, k, &el);
            if (el == l && memcmp(e, v, l) == 0) break;
            h = (h + 1) & (cx->ht_cap - 1);
        }
        if (k < 0) {
            HX_FAIL_IF(o->dict_n >= INT32_MAX || o->dict_data.len + l > INT32_MAX, HOIST_ERR_LIMIT,
                       "dictionary over 2 GiB");
            HX_TRY(hx_arrow_buf_reserve(&o->dict_data, l));
            HX_TRY(hx_arrow_buf_reserve(&o->dict_offsets, 4));
            memcpy(o->dict_data.data + o->dict_data.len, v, l);
            o->dict_data.len += l;
            int32_t end = (int32_t)o->dict_data.len;
            memcpy(o->dict_offsets.data + o->dict_offsets.len, &end, 4);
            o->dict_offsets.len += 4;
            k = (int32_t)o->dict_n++;
            cx->ht[h] = k;
            if ((size_t)o->dict_n * 2 > cx->ht_cap) HX_TRY(ht_rebuild(cx, cx->ht_cap * 2));
        }
        memcpy(o->values.data + o->values.len + 4 * i, &k, 4);
    }
    o->values.len += b->n * 4;
    return HOIST_OK;
}

/* ---- values of one page --------------------------------------------------- */

static hx_status append_bits(struct hx_pq_leaf_data *o, const uint8_t *bits, size_t bit_off, size_t n) {
    HX_TRY(hx_arrow_buf_reserve(&o->values, (size_t)((o->n_values + (int64_t)n + 7) / 8) - o->values.len + 8));
    uint8_t *dst = o->values.data;
    size_t d = (size_t)o->n_values;
    for (size_t i = 0; i < n; i++) {
        size_t s = bit_off + i;
        int v = (bits[s >> 3] >> (s & 7)) & 1;
        if (v)
            dst[(d + i) >> 3] |= (uint8_t)(1u << ((d + i) & 7));
        else
            dst[(d + i) >> 3] &= (uint8_t) ~(1u << ((d + i) & 7));
    }
    o->values.len = (size_t)((o->n_values + (int64_t)n + 7) / 8);
    return HOIST_OK;
}

/* Short dictionary strings from decoded indices: at most 16 bytes a value,
 * so no length pass and no 2 GiB check per value (the caller checked the
 * 32-bit offset room for 16 bytes a value). */
static void gather_dict_slots(struct hx_pq_colctx *cx, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const int large = cx->a->large;
    uint8_t *dst = o->data.data + o->data.len;
    const uint8_t *slots = cx->dict_slots, *len8 = cx->dict_len8;
    const uint32_t *idx = cx->idx;
    int64_t end = (int64_t)o->data.len;
    if (large) {
        uint8_t *off = o->offsets.data + o->offsets.len;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = idx[i];
            memcpy(dst, slots + 16 * (size_t)k, 16);
            dst += len8[k];
            end += len8[k];
            memcpy(off + 8 * i, &end, 8);
        }
    } else {
        uint8_t *off = o->offsets.data + o->offsets.len;
        int32_t e32 = (int32_t)end;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = idx[i];
            memcpy(dst, slots + 16 * (size_t)k, 16);
            dst += len8[k];
            e32 += len8[k];
            memcpy(off + 4 * i, &e32, 4);
        }
        end = e32;
    }
    o->offsets.len += n * (large ? 8 : 4);
    o->data.len = (size_t)end;
}

/* Dictionary strings of any length from decoded indices. */
static hx_status gather_dict_binary(struct hx_pq_colctx *cx, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += (size_t)(cx->dict_off[cx->idx[i] + 1] - cx->dict_off[cx->idx[i]]);
    int large = cx->a->large;
    HX_FAIL_IF(!large && o->data.len + total > INT32_MAX, HOIST_ERR_LIMIT,
               "more than 2 GiB of string data in one column chunk (not supported for 32-bit offsets)");
    HX_TRY(hx_arrow_buf_reserve(&o->data, total));
    HX_TRY(hx_arrow_buf_reserve(&o->offsets, n * 8));
    uint8_t *dst = o->data.data + o->data.len;
    int64_t end = (int64_t)o->data.len;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = cx->idx[i];
        size_t l = (size_t)(cx->dict_off[k + 1] - cx->dict_off[k]);
        /* Short values: one fixed 16-byte copy (both buffers have slack). */
        if (l <= 16)
            memcpy(dst, cx->dict_bytes + cx->dict_off[k], 16);
        else
            memcpy(dst, cx->dict_bytes + cx->dict_off[k], l);
        dst += l;
        end += (int64_t)l;
        if (large)
            memcpy(o->offsets.data + o->offsets.len + 8 * i, &end, 8);
        else {
            int32_t e32 = (int32_t)end;
            memcpy(o->offsets.data + o->offsets.len + 4 * i, &e32, 4);
        }
    }
    o->offsets.len += n * (large ? 8 : 4);
    o->data.len = (size_t)end;
    return HOIST_OK;
}

/* Fixed-width dictionary values from decoded (and range-checked) indices. */
static hx_status gather_dict_fixed(struct hx_pq_colctx *cx, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    size_t w = (size_t)cx->a->out_width;
    HX_TRY(hx_arrow_buf_reserve(&o->values, n * w));
    uint8_t *dst = o->values.data + o->values.len;
    /* Narrow widths inline (indices checked by the caller): the kernel's
     * generic path costs a call per value. */
    if (w == 1) {
        for (size_t i = 0; i < n; i++) dst[i] = cx->dict_fixed[cx->idx[i]];
    } else if (w == 2) {
        for (size_t i = 0; i < n; i++) memcpy(dst + 2 * i, cx->dict_fixed + 2 * (size_t)cx->idx[i], 2);
    } else {
        HX_TRY(hx_dict_gather(cx->dict_fixed, (size_t)cx->dict_n, w, cx->idx, n, dst));
    }
    o->values.len += n * w;
    return HOIST_OK;
}

/* RLE_DICTIONARY / PLAIN_DICTIONARY pages. The fused paths never write the
 * indices out; the others decode them into cx->idx first. */
static hx_status decode_dict_values(struct hx_pq_colctx *cx, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const struct hx_pq_anode *a = cx->a;
    if (!a->dict && a->conv != CV_BINARY && a->conv != CV_BOOL && n > 0 && cx->have_dict && len >= 1) {
        /* Fixed-width values: indices unpacked and gathered in one pass,
         * never written out as an index array. */
        size_t w = (size_t)a->out_width;
        HX_TRY(hx_arrow_buf_reserve(&o->values, n * w));
        HX_TRY(hx_dict_decode_fixed(cx->dict_fixed, (size_t)cx->dict_n, w, p + 1, len - 1, p[0], n,
                                    o->values.data + o->values.len));
        o->values.len += n * w;
        return HOIST_OK;
    }
    if (a->conv == CV_BINARY && !a->dict && cx->dict_slots && n > 0 && cx->have_dict && len >= 1 &&
        (a->large || o->data.len + 16 * n <= INT32_MAX))
        return gather_slots_streamed(cx, p, len, n);
    HX_TRY(read_indices(cx, p, len, n));
    size_t ow = (size_t)a->out_width;
    /* b-bit indices cannot reach a dictionary of 2^b or more entries */
    if ((a->dict || a->conv == CV_BINARY || ow == 1 || ow == 2) && n > 0 &&
        ((uint64_t)1 << p[0]) > (uint64_t)cx->dict_n)
        HX_TRY(check_indices(cx, n));
    if (a->dict) {
        HX_TRY(hx_arrow_buf_reserve(&o->values, n * 4));
        memcpy(o->values.data + o->values.len, cx->idx, n * 4);
        o->values.len += n * 4;
        return HOIST_OK;
    }
    if (a->conv == CV_BINARY && cx->dict_slots && (a->large || o->data.len + 16 * n <= INT32_MAX)) {
        HX_TRY(hx_arrow_buf_reserve(&o->data, 16 * n));
        HX_TRY(hx_arrow_buf_reserve(&o->offsets, n * 8));
        gather_dict_slots(cx, n);
        return HOIST_OK;
    }
    if (a->conv == CV_BINARY) return gather_dict_binary(cx, n);
    HX_FAIL_IF(a->conv == CV_BOOL, HOIST_ERR_PARQUET_CORRUPT, "dictionary encoding on a BOOLEAN column");
    return gather_dict_fixed(cx, n);
}

/* BOOLEAN pages: PLAIN is already bit-packed; RLE (v2 pages) goes through
 * the index scratch. */
static hx_status decode_bool_values(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    if (enc == PQE_PLAIN) {
        HX_FAIL_IF(len * 8 < n, HOIST_ERR_PARQUET_CORRUPT, "PLAIN booleans: %zu values need more than %zu bytes", n,
                   len);
        return append_bits(o, p, 0, n);
    }
    HX_FAIL_IF(enc != PQE_RLE, HOIST_ERR_PARQUET_UNSUPPORTED, "encoding %d on a BOOLEAN column", enc);
    uint32_t l32;
    HX_FAIL_IF(len < 4, HOIST_ERR_PARQUET_CORRUPT, "RLE booleans without a length");
    memcpy(&l32, p, 4);
    HX_FAIL_IF(l32 > len - 4, HOIST_ERR_PARQUET_CORRUPT, "RLE boolean length %u overruns the page", l32);
    void *ip = cx->idx;
    HX_TRY(hx_pq_scratch_grow(&ip, &cx->idx_cap, (n ? n : 1) * sizeof(uint32_t)));
    cx->idx = ip;
    HX_TRY(hx_rle_decode_u32(p + 4, l32, 1, cx->idx, n, NULL));
    HX_TRY(hx_arrow_buf_reserve(&o->values, (size_t)((o->n_values + (int64_t)n + 7) / 8) - o->values.len + 8));
    size_t d = (size_t)o->n_values;
    for (size_t i = 0; i < n; i++) {
        if (cx->idx[i])
            o->values.data[(d + i) >> 3] |= (uint8_t)(1u << ((d + i) & 7));
        else
            o->values.data[(d + i) >> 3] &= (uint8_t) ~(1u << ((d + i) & 7));
    }
    o->values.len = (size_t)((o->n_values + (int64_t)n + 7) / 8);
    return HOIST_OK;
}

/* BYTE_ARRAY pages (and FLBA written as DELTA_BYTE_ARRAY): decoded into a
 * barr, then to strings, a dictionary output or fixed-width values. */
static hx_status decode_barr_values(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const struct hx_pq_anode *a = cx->a;
    int type = cx->e->type;
    struct barr b = {0};
    hx_status st;
    int plain = 0;
    if (enc == PQE_PLAIN && type == PQT_BYTE_ARRAY) {
        st = plain_barr(p, len, n, &b);
        plain = 1;
    } else if (enc == PQE_DELTA_LENGTH_BYTE_ARRAY && type == PQT_BYTE_ARRAY) {
        st = delta_lengths_barr(p, len, n, &b, NULL);
    } else if (enc == PQE_DELTA_BYTE_ARRAY) {
        st = delta_byte_array_barr(p, len, n, &b);
    } else {
        st = hx_error(HOIST_ERR_PARQUET_UNSUPPORTED, "encoding %d on a byte-array column", enc);
    }
    if (st == HOIST_OK) {
        if (a->conv == CV_BINARY && a->dict) {
            st = dict_insert(cx, &b, plain);
        } else if (a->conv == CV_BINARY) {
            st = emit_binary(cx, &b, plain);
        } else {
            st = hx_arrow_buf_reserve(&o->values, n * (size_t)a->out_width);
            if (st == HOIST_OK) st = emit_barr_fixed(cx, &b, plain, o->values.data + o->values.len);
            if (st == HOIST_OK) o->values.len += n * (size_t)a->out_width;
        }
    }
    barr_free(&b);
    return st;
}

/* BYTE_STREAM_SPLIT: the value count comes from the page size
 * (Encodings.md); the streams are laid out for all values of the page,
 * which may be more than the n non-null values wanted. */
static hx_status byte_stream_split_values(const uint8_t *p, size_t len, size_t pw, size_t n, uint8_t *dst) {
    HX_FAIL_IF(pw == 0 || len % pw != 0 || len / pw < n, HOIST_ERR_PARQUET_CORRUPT,
               "BYTE_STREAM_SPLIT data of %zu bytes does not hold %zu values of %zu bytes", len, n, pw);
    size_t total = len / pw;
    if (total == n) return hx_byte_stream_split_decode(p, len, pw, n, dst);
    uint8_t *all = hx_malloc(len);
    if (!all) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = hx_byte_stream_split_decode(p, len, pw, total, all);
    if (st == HOIST_OK) memcpy(dst, all, n * pw);
    hx_free(all);
    return st;
}

/* Fixed-width physical types, n values to dst: decoded straight there
 * when no conversion is needed, else into the phys scratch and converted. */
static hx_status decode_fixed_into(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n,
                                   uint8_t *dst) {
    int type = cx->e->type;
    size_t pw = (size_t)cx->phys_width;
    int direct = cx->a->conv == CV_COPY;
    uint8_t *tmp = dst;
    if (!direct) {
        void *pp = cx->phys;
        HX_TRY(hx_pq_scratch_grow(&pp, &cx->phys_cap, n * pw + 8));
        cx->phys = pp;
        tmp = cx->phys;
    }
    switch (enc) {
    case PQE_PLAIN: {
        size_t need;
        HX_FAIL_IF(!hx_mul_size(n, pw, &need) || need > len, HOIST_ERR_PARQUET_CORRUPT,
                   "PLAIN values: %zu values of %zu bytes overrun the %zu-byte page", n, pw, len);
        if (direct)
            memcpy(dst, p, need);
        else
            tmp = (uint8_t *)p;
        break;
    }
    case PQE_DELTA_BINARY_PACKED:
        if (type == PQT_INT32)
            HX_TRY(hx_delta_decode_i32(p, len, (int32_t *)(void *)tmp, n, NULL));
        else if (type == PQT_INT64)
            HX_TRY(hx_delta_decode_i64(p, len, (int64_t *)(void *)tmp, n, NULL));
        else
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED on a non-integer column");
        break;
    case PQE_BYTE_STREAM_SPLIT: HX_TRY(byte_stream_split_values(p, len, pw, n, tmp)); break;
    default: HX_FAIL(HOIST_ERR_PARQUET_UNSUPPORTED, "encoding %d is not supported for this column type", enc);
    }
    if (!direct) HX_TRY(convert_fixed(cx, tmp, n, dst));
    return HOIST_OK;
}

static hx_status decode_fixed_values(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    size_t w = (size_t)cx->a->out_width;
    HX_TRY(hx_arrow_buf_reserve(&o->values, n * w));
    HX_TRY(decode_fixed_into(cx, enc, p, len, n, o->values.data + o->values.len));
    o->values.len += n * w;
    return HOIST_OK;
}

/* The kept values of a page (hx_pq_decode_leaf_kept; cx->vkeep over its n
 * values). Dictionary pages gather only the kept indices, PLAIN values used
 * as stored are picked from the page, other encodings are decoded whole
 * into scratch first. Only leaves hx_pq_leaf_keepable() accepts come here:
 * fixed-width outputs of fixed-width physical types. */
static hx_status decode_kept_values(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const struct hx_pq_anode *a = cx->a;
    size_t w = (size_t)a->out_width, k = cx->vkept;
    HX_FAIL_IF(a->conv == CV_BINARY || a->conv == CV_BOOL || a->dict || w == 0, HOIST_ERR_INTERNAL,
               "kept-rows decoding of a column it does not support");
    if (k == 0) return HOIST_OK; /* none of the page's values is read */
    HX_TRY(hx_arrow_buf_reserve(&o->values, k * w));
    uint8_t *dst = o->values.data + o->values.len;
    if (enc == PQE_PLAIN_DICTIONARY || enc == PQE_RLE_DICTIONARY) {
        HX_TRY(read_indices(cx, p, len, n));
        /* The kept indices move to the front, then only those are gathered. */
        uint32_t *idx = cx->idx;
        HX_FAIL_IF(hx_keep_u32(idx, cx->vkeep, n) != k, HOIST_ERR_INTERNAL, "kept-rows mask miscounted");
        /* b-bit indices cannot reach a dictionary of 2^b or more entries */
        if (((uint64_t)1 << p[0]) > (uint64_t)cx->dict_n)
            HX_TRY(hx_dict_gather(cx->dict_fixed, (size_t)cx->dict_n, w, idx, k, dst));
        else
            hx_dict_gather_unchecked(cx->dict_fixed, w, idx, k, dst);
    } else if (enc == PQE_PLAIN && a->conv == CV_COPY && (size_t)cx->phys_width == w) {
        size_t need;
        HX_FAIL_IF(!hx_mul_size(n, w, &need) || need > len, HOIST_ERR_PARQUET_CORRUPT,
                   "PLAIN values: %zu values of %zu bytes overrun the %zu-byte page", n, w, len);
        hx_arrow_keep_fixed(dst, p, cx->vkeep, (int64_t)n, w, (int64_t)k);
    } else {
        void *sb = cx->sel_buf;
        HX_TRY(hx_pq_scratch_grow(&sb, &cx->sel_cap, (n ? n : 1) * w));
        cx->sel_buf = sb;
        HX_TRY(decode_fixed_into(cx, enc, p, len, n, cx->sel_buf));
        hx_arrow_keep_fixed(dst, cx->sel_buf, cx->vkeep, (int64_t)n, w, (int64_t)k);
    }
    o->values.len += k * w;
    return HOIST_OK;
}

hx_status hx_pq_decode_values(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n) {
    const struct hx_pq_anode *a = cx->a;
    int type = cx->e->type;
    if (a->conv == CV_NULL) {
        cx->out->n_values += (int64_t)(cx->vkeep ? cx->vkept : n);
        return HOIST_OK;
    }
    if (cx->vkeep) {
        HX_TRY(decode_kept_values(cx, enc, p, len, n));
        cx->out->n_values += (int64_t)cx->vkept;
        return HOIST_OK;
    }
    if (enc == PQE_PLAIN_DICTIONARY || enc == PQE_RLE_DICTIONARY)
        HX_TRY(decode_dict_values(cx, p, len, n));
    else if (a->conv == CV_BOOL)
        HX_TRY(decode_bool_values(cx, enc, p, len, n));
    else if (type == PQT_BYTE_ARRAY || (type == PQT_FLBA && enc == PQE_DELTA_BYTE_ARRAY))
        HX_TRY(decode_barr_values(cx, enc, p, len, n));
    else
        HX_TRY(decode_fixed_values(cx, enc, p, len, n));
    cx->out->n_values += (int64_t)n;
    return HOIST_OK;
}
