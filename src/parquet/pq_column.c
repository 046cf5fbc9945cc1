/* One leaf column chunk: pages → definition/repetition levels and dense
 * (non-null) values already in their final Arrow representation
 * (parquet-format README "Data Pages", Encodings.md). */
#include "parquet_internal.h"

#include <string.h>
#include <sys/mman.h>

struct colctx {
    const struct hoist_pq_file *f;
    const struct hx_pq_anode *a;
    const struct hx_pq_element *e;
    const struct hx_pq_chunk *c;
    struct hx_pq_leaf_data *out;
    int max_def, max_rep;
    int phys_width; /* bytes per PLAIN value of fixed physical types */
    unsigned flags;
    /* scratch */
    uint8_t *page;
    size_t page_cap;
    uint32_t *idx;
    size_t idx_cap;
    uint8_t *phys;
    size_t phys_cap;
    uint8_t *phys2; /* flat-mode scratch levels */
    size_t phys2_cap;
    uint8_t *dict_buf; /* holds dict_fixed when read_dictionary_direct fills it */
    size_t dict_buf_cap;
    /* dictionary, converted to the output representation */
    int have_dict;
    int64_t dict_n;
    uint8_t *dict_fixed;       /* fixed outputs: dict_n * out_width */
    int64_t *dict_off;         /* byte arrays: dict_n + 1 offsets into dict_bytes */
    uint8_t *dict_bytes;
    /* short dictionaries of short strings: each entry in a 16-byte slot */
    uint8_t *dict_slots;
    uint8_t *dict_len8;
    /* dictionary outputs of PLAIN pages: a hash set over the output dictionary */
    int32_t *ht;
    size_t ht_cap; /* power of two */
};

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

static size_t count_eq_u16(const uint16_t *v, size_t n, uint16_t x);
static uint32_t max_u32(const uint32_t *v, size_t n);

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

/* Scratch whose contents need not survive growth: no copy (realloc would
 * copy, and doubling from 1 KiB copies every page size on the way up). */
static hx_status grow_scratch(void **p, size_t *cap, size_t need) {
    if (need <= *cap) return HOIST_OK;
    size_t n = need + need / 8;
    if (n < 1024) n = 1024;
    hx_free(*p);
    *p = NULL;
    *cap = 0;
    void *q = hx_malloc(n);
    if (!q) HX_FAIL(HOIST_ERR_NOMEM, "out of memory (%zu bytes)", n);
    *p = q;
    *cap = n;
    return HOIST_OK;
}

void hx_pq_scratch_free(struct hx_pq_scratch *s) {
    if (!s) return;
    for (int i = 0; i < HX_PQ_SCRATCH_N; i++) hx_free(s->buf[i]);
    hx_free(s);
}

void hx_pq_leaf_data_reset(struct hx_pq_leaf_data *d) {
    hx_free(d->def);
    hx_free(d->rep);
    hx_abuf_reset(&d->values);
    hx_abuf_reset(&d->offsets);
    hx_abuf_reset(&d->data);
    hx_abuf_reset(&d->dict_offsets);
    hx_abuf_reset(&d->valid);
    hx_abuf_reset(&d->dict_data);
    memset(d, 0, sizeof *d);
}

static int phys_width(const struct hx_pq_element *e) {
    switch (e->type) {
    case PQT_INT32:
    case PQT_FLOAT: return 4;
    case PQT_INT64:
    case PQT_DOUBLE: return 8;
    case PQT_INT96: return 12;
    case PQT_FLBA: return e->type_length;
    default: return 0;
    }
}

/* ---- conversion of fixed physical values to the output form ------------- */

static void store_dec_from_i64(uint8_t *dst, int64_t v, int width) {
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
static hx_status convert_fixed(const struct colctx *cx, const uint8_t *src, size_t n, uint8_t *dst) {
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
static hx_status emit_binary(struct colctx *cx, const struct barr *b, int plain) {
    struct hx_pq_leaf_data *o = cx->out;
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++) total += plain ? barr_len_plain(b, i) : (size_t)(b->off[i + 1] - b->off[i]);
    HX_TRY(hx_abuf_reserve(&o->data, total));
    int large = cx->a->large;
    HX_TRY(hx_abuf_reserve(&o->offsets, b->n * (large ? 8 : 4)));
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
        if (large) memcpy(o->offsets.data + o->offsets.len + 8 * i, &end, 8);
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
static hx_status emit_barr_fixed(struct colctx *cx, const struct barr *b, int plain, uint8_t *dst) {
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
static hx_status build_slots(struct colctx *cx) {
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

static hx_status read_dictionary(struct colctx *cx, const uint8_t *p, size_t len, int32_t n) {
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
static hx_status read_dictionary_direct(struct colctx *cx, const uint8_t *src, size_t src_len, size_t usize,
                                        int32_t n) {
    HX_FAIL_IF(n < 0, HOIST_ERR_PARQUET_CORRUPT, "dictionary page with %d values", (int)n);
    HX_FAIL_IF(cx->have_dict, HOIST_ERR_PARQUET_CORRUPT, "more than one dictionary page");
    size_t need;
    HX_FAIL_IF(!hx_mul_size((size_t)n, (size_t)cx->phys_width, &need) || need > usize, HOIST_ERR_PARQUET_CORRUPT,
               "dictionary page holds %zu bytes, %d values need %zu", usize, (int)n, need);
    void *d = cx->dict_buf;
    HX_TRY(grow_scratch(&d, &cx->dict_buf_cap, usize + 1));
    cx->dict_buf = d;
    if (usize > 0 || src_len > 0) HX_TRY(hx_pq_decompress((enum hx_pq_codec)cx->c->codec, src, src_len, d, usize));
    cx->have_dict = 1;
    cx->dict_n = n;
    cx->dict_fixed = d;
    return HOIST_OK;
}

/* RLE_DICTIONARY / PLAIN_DICTIONARY indices: 1 byte bit width + hybrid runs. */
static hx_status read_indices(struct colctx *cx, const uint8_t *p, size_t len, size_t n) {
    HX_FAIL_IF(!cx->have_dict, HOIST_ERR_PARQUET_CORRUPT, "dictionary-encoded page without a dictionary page");
    void *ip = cx->idx;
    HX_TRY(grow_scratch(&ip, &cx->idx_cap, (n ? n : 1) * sizeof(uint32_t)));
    cx->idx = ip;
    if (n == 0) return HOIST_OK;
    HX_FAIL_IF(len < 1, HOIST_ERR_PARQUET_CORRUPT, "dictionary indices missing");
    int bw = p[0];
    HX_FAIL_IF(bw > 32, HOIST_ERR_PARQUET_CORRUPT, "dictionary index bit width %d", bw);
    HX_TRY(hx_rle_decode_u32(p + 1, len - 1, bw, cx->idx, n, NULL));
    return HOIST_OK;
}

static hx_status check_indices(const struct colctx *cx, size_t n) {
    uint32_t m = max_u32(cx->idx, n);
    HX_FAIL_IF(n && m >= (uint64_t)cx->dict_n, HOIST_ERR_PARQUET_CORRUPT,
               "dictionary index %u out of range (%lld entries)", m, (long long)cx->dict_n);
    return HOIST_OK;
}

/* Short dictionary strings (cx->dict_slots) with the indices decoded 256 at
 * a time into L1: a whole page of indices (4 MB for a 1 Mi-row page) would
 * be written to memory and read back. Caller checked: n > 0, len >= 1, room
 * for 16 bytes a value under 32-bit offsets. */
static hx_status gather_slots_streamed(struct colctx *cx, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const int bw = p[0], large = cx->a->large;
    HX_FAIL_IF(bw > 32, HOIST_ERR_PARQUET_CORRUPT, "dictionary index bit width %d", bw);
    const int check = ((uint64_t)1 << bw) > (uint64_t)cx->dict_n;
    HX_TRY(hx_abuf_reserve(&o->data, 16 * n));
    HX_TRY(hx_abuf_reserve(&o->offsets, n * 8));
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
            uint32_t m = max_u32(idx, (size_t)k);
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

static hx_status ht_rebuild(struct colctx *cx, size_t cap) {
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
static hx_status dict_insert(struct colctx *cx, const struct barr *b, int plain) {
    struct hx_pq_leaf_data *o = cx->out;
    const uint8_t *src = barr_data(b);
    if (!cx->ht) HX_TRY(ht_rebuild(cx, 1024));
    HX_TRY(hx_abuf_reserve(&o->values, b->n * 4));
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
            HX_TRY(hx_abuf_reserve(&o->dict_data, l));
            HX_TRY(hx_abuf_reserve(&o->dict_offsets, 4));
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
    HX_TRY(hx_abuf_reserve(&o->values, (size_t)((o->n_values + (int64_t)n + 7) / 8) - o->values.len + 8));
    uint8_t *dst = o->values.data;
    size_t d = (size_t)o->n_values;
    for (size_t i = 0; i < n; i++) {
        size_t s = bit_off + i;
        int v = (bits[s >> 3] >> (s & 7)) & 1;
        if (v) dst[(d + i) >> 3] |= (uint8_t)(1u << ((d + i) & 7));
        else dst[(d + i) >> 3] &= (uint8_t)~(1u << ((d + i) & 7));
    }
    o->values.len = (size_t)((o->n_values + (int64_t)n + 7) / 8);
    return HOIST_OK;
}

static hx_status decode_values(struct colctx *cx, int enc, const uint8_t *p, size_t len, size_t n) {
    struct hx_pq_leaf_data *o = cx->out;
    const struct hx_pq_anode *a = cx->a;
    int type = cx->e->type;
    if (a->conv == CV_NULL) {
        o->n_values += (int64_t)n;
        return HOIST_OK;
    }
    if (enc == PQE_PLAIN_DICTIONARY || enc == PQE_RLE_DICTIONARY) {
        if (!a->dict && a->conv != CV_BINARY && a->conv != CV_BOOL && n > 0 && cx->have_dict && len >= 1) {
            /* Fixed-width values: indices unpacked and gathered in one pass,
             * never written out as an index array. */
            size_t w = (size_t)a->out_width;
            HX_TRY(hx_abuf_reserve(&o->values, n * w));
            HX_TRY(hx_dict_decode_fixed(cx->dict_fixed, (size_t)cx->dict_n, w, p + 1, len - 1, p[0], n,
                                        o->values.data + o->values.len));
            o->values.len += n * w;
            o->n_values += (int64_t)n;
            return HOIST_OK;
        }
        if (a->conv == CV_BINARY && !a->dict && cx->dict_slots && n > 0 && cx->have_dict && len >= 1 &&
            (a->large || o->data.len + 16 * n <= INT32_MAX)) {
            HX_TRY(gather_slots_streamed(cx, p, len, n));
            o->n_values += (int64_t)n;
            return HOIST_OK;
        }
        HX_TRY(read_indices(cx, p, len, n));
        size_t ow = (size_t)a->out_width;
        /* b-bit indices cannot reach a dictionary of 2^b or more entries */
        if ((a->dict || a->conv == CV_BINARY || ow == 1 || ow == 2) && n > 0 &&
            ((uint64_t)1 << p[0]) > (uint64_t)cx->dict_n)
            HX_TRY(check_indices(cx, n));
        if (a->dict) {
            HX_TRY(hx_abuf_reserve(&o->values, n * 4));
            memcpy(o->values.data + o->values.len, cx->idx, n * 4);
            o->values.len += n * 4;
        } else if (a->conv == CV_BINARY && cx->dict_slots && (a->large || o->data.len + 16 * n <= INT32_MAX)) {
            /* at most 16 bytes a value: no length pass, no 2 GiB check per value */
            HX_TRY(hx_abuf_reserve(&o->data, 16 * n));
            HX_TRY(hx_abuf_reserve(&o->offsets, n * 8));
            uint8_t *dst = o->data.data + o->data.len;
            const uint8_t *slots = cx->dict_slots, *len8 = cx->dict_len8;
            const uint32_t *idx = cx->idx;
            int64_t end = (int64_t)o->data.len;
            if (a->large) {
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
            o->offsets.len += n * (a->large ? 8 : 4);
            o->data.len = (size_t)end;
        } else if (a->conv == CV_BINARY) {
            size_t total = 0;
            for (size_t i = 0; i < n; i++) total += (size_t)(cx->dict_off[cx->idx[i] + 1] - cx->dict_off[cx->idx[i]]);
            int large = a->large;
            HX_FAIL_IF(!large && o->data.len + total > INT32_MAX, HOIST_ERR_LIMIT,
                       "more than 2 GiB of string data in one column chunk (not supported for 32-bit offsets)");
            HX_TRY(hx_abuf_reserve(&o->data, total));
            HX_TRY(hx_abuf_reserve(&o->offsets, n * 8));
            uint8_t *dst = o->data.data + o->data.len;
            int64_t end = (int64_t)o->data.len;
            for (size_t i = 0; i < n; i++) {
                uint32_t k = cx->idx[i];
                size_t l = (size_t)(cx->dict_off[k + 1] - cx->dict_off[k]);
                /* Short values: one fixed 16-byte copy (both buffers have slack). */
                if (l <= 16) memcpy(dst, cx->dict_bytes + cx->dict_off[k], 16);
                else memcpy(dst, cx->dict_bytes + cx->dict_off[k], l);
                dst += l;
                end += (int64_t)l;
                if (large) memcpy(o->offsets.data + o->offsets.len + 8 * i, &end, 8);
                else {
                    int32_t e32 = (int32_t)end;
                    memcpy(o->offsets.data + o->offsets.len + 4 * i, &e32, 4);
                }
            }
            o->offsets.len += n * (large ? 8 : 4);
            o->data.len = (size_t)end;
        } else if (a->conv == CV_BOOL) {
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "dictionary encoding on a BOOLEAN column");
        } else {
            size_t w = ow;
            HX_TRY(hx_abuf_reserve(&o->values, n * w));
            uint8_t *dst = o->values.data + o->values.len;
            /* Narrow widths inline (indices checked above): the kernel's
             * generic path costs a call per value. */
            if (w == 1) {
                for (size_t i = 0; i < n; i++) dst[i] = cx->dict_fixed[cx->idx[i]];
            } else if (w == 2) {
                for (size_t i = 0; i < n; i++) memcpy(dst + 2 * i, cx->dict_fixed + 2 * (size_t)cx->idx[i], 2);
            } else {
                HX_TRY(hx_dict_gather(cx->dict_fixed, (size_t)cx->dict_n, w, cx->idx, n, dst));
            }
            o->values.len += n * w;
        }
        o->n_values += (int64_t)n;
        return HOIST_OK;
    }
    if (a->conv == CV_BOOL) {
        if (enc == PQE_PLAIN) {
            HX_FAIL_IF(len * 8 < n, HOIST_ERR_PARQUET_CORRUPT, "PLAIN booleans: %zu values need more than %zu bytes", n,
                       len);
            HX_TRY(append_bits(o, p, 0, n));
        } else if (enc == PQE_RLE) {
            uint32_t l32;
            HX_FAIL_IF(len < 4, HOIST_ERR_PARQUET_CORRUPT, "RLE booleans without a length");
            memcpy(&l32, p, 4);
            HX_FAIL_IF(l32 > len - 4, HOIST_ERR_PARQUET_CORRUPT, "RLE boolean length %u overruns the page", l32);
            void *ip = cx->idx;
            HX_TRY(grow_scratch(&ip, &cx->idx_cap, (n ? n : 1) * sizeof(uint32_t)));
            cx->idx = ip;
            HX_TRY(hx_rle_decode_u32(p + 4, l32, 1, cx->idx, n, NULL));
            HX_TRY(hx_abuf_reserve(&o->values, (size_t)((o->n_values + (int64_t)n + 7) / 8) - o->values.len + 8));
            size_t d = (size_t)o->n_values;
            for (size_t i = 0; i < n; i++) {
                if (cx->idx[i]) o->values.data[(d + i) >> 3] |= (uint8_t)(1u << ((d + i) & 7));
                else o->values.data[(d + i) >> 3] &= (uint8_t)~(1u << ((d + i) & 7));
            }
            o->values.len = (size_t)((o->n_values + (int64_t)n + 7) / 8);
        } else {
            HX_FAIL(HOIST_ERR_PARQUET_UNSUPPORTED, "encoding %d on a BOOLEAN column", enc);
        }
        o->n_values += (int64_t)n;
        return HOIST_OK;
    }
    if (type == PQT_BYTE_ARRAY || (type == PQT_FLBA && (enc == PQE_DELTA_BYTE_ARRAY))) {
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
                st = hx_abuf_reserve(&o->values, n * (size_t)a->out_width);
                if (st == HOIST_OK) st = emit_barr_fixed(cx, &b, plain, o->values.data + o->values.len);
                if (st == HOIST_OK) o->values.len += n * (size_t)a->out_width;
            }
        }
        barr_free(&b);
        HX_TRY(st);
        o->n_values += (int64_t)n;
        return HOIST_OK;
    }
    /* fixed-width physical types */
    size_t pw = (size_t)cx->phys_width, w = (size_t)a->out_width;
    HX_TRY(hx_abuf_reserve(&o->values, n * w));
    uint8_t *dst = o->values.data + o->values.len;
    int direct = a->conv == CV_COPY;
    uint8_t *tmp = dst;
    if (!direct) {
        void *pp = cx->phys;
        HX_TRY(grow_scratch(&pp, &cx->phys_cap, n * pw + 8));
        cx->phys = pp;
        tmp = cx->phys;
    }
    switch (enc) {
    case PQE_PLAIN: {
        size_t need;
        HX_FAIL_IF(!hx_mul_size(n, pw, &need) || need > len, HOIST_ERR_PARQUET_CORRUPT,
                   "PLAIN values: %zu values of %zu bytes overrun the %zu-byte page", n, pw, len);
        if (direct) memcpy(dst, p, need);
        else tmp = (uint8_t *)p;
        break;
    }
    case PQE_DELTA_BINARY_PACKED:
        if (type == PQT_INT32) HX_TRY(hx_delta_decode_i32(p, len, (int32_t *)(void *)tmp, n, NULL));
        else if (type == PQT_INT64) HX_TRY(hx_delta_decode_i64(p, len, (int64_t *)(void *)tmp, n, NULL));
        else HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED on a non-integer column");
        break;
    case PQE_BYTE_STREAM_SPLIT: {
        /* The value count comes from the page size (Encodings.md); the
         * streams are laid out for all values of the page. */
        HX_FAIL_IF(pw == 0 || len % pw != 0 || len / pw < n, HOIST_ERR_PARQUET_CORRUPT,
                   "BYTE_STREAM_SPLIT data of %zu bytes does not hold %zu values of %zu bytes", len, n, pw);
        size_t total = len / pw;
        if (total == n) {
            HX_TRY(hx_byte_stream_split_decode(p, len, pw, n, tmp));
        } else {
            uint8_t *all = hx_malloc(len);
            if (!all) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
            hx_status st = hx_byte_stream_split_decode(p, len, pw, total, all);
            if (st == HOIST_OK) memcpy(tmp, all, n * pw);
            hx_free(all);
            HX_TRY(st);
        }
        break;
    }
    default: HX_FAIL(HOIST_ERR_PARQUET_UNSUPPORTED, "encoding %d is not supported for this column type", enc);
    }
    if (!direct) HX_TRY(convert_fixed(cx, tmp, n, dst));
    o->values.len += n * w;
    o->n_values += (int64_t)n;
    return HOIST_OK;
}

/* ---- levels ---------------------------------------------------------------- */

static int bit_width(int max_level) {
    int w = 0;
    while ((1 << w) <= max_level) w++;
    return w;
}

/* Deprecated BIT_PACKED levels: MSB-first, no length (Encodings.md). */
static hx_status bitpacked_levels(const uint8_t *p, size_t len, int w, uint16_t *out, size_t n, size_t *used) {
    size_t bytes = (n * (size_t)w + 7) / 8;
    HX_FAIL_IF(bytes > len, HOIST_ERR_PARQUET_CORRUPT, "BIT_PACKED levels overrun the page");
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int b = 0; b < w; b++) {
            size_t bit = i * (size_t)w + (size_t)b;
            v = (v << 1) | ((p[bit >> 3] >> (7 - (bit & 7))) & 1);
        }
        out[i] = (uint16_t)v;
    }
    *used = bytes;
    return HOIST_OK;
}

/* v1 levels: RLE with a 4-byte length, or BIT_PACKED. */
static hx_status levels_v1(int enc, const uint8_t *p, size_t len, int max_level, uint16_t *out, size_t n,
                           size_t *used, const char *what) {
    int w = bit_width(max_level);
    if (enc == PQE_BIT_PACKED) return bitpacked_levels(p, len, w, out, n, used);
    uint32_t l;
    HX_FAIL_IF(len < 4, HOIST_ERR_PARQUET_CORRUPT, "%s levels: missing length", what);
    memcpy(&l, p, 4);
    HX_FAIL_IF(l > len - 4, HOIST_ERR_PARQUET_CORRUPT, "%s levels: length %u overruns the page", what, l);
    hx_status st = hx_rle_decode_u16(p + 4, l, w, out, n, NULL);
    if (st != HOIST_OK) return hx_error_prefix(st, "%s levels", what);
    *used = 4 + (size_t)l;
    return HOIST_OK;
}

/* Hot loops the compiler should vectorise even at -O2. */
#if defined(__GNUC__) && !defined(__clang__)
#define HX_VECTORIZE __attribute__((optimize("O3")))
#else
#define HX_VECTORIZE
#endif

HX_VECTORIZE static size_t count_eq_u16(const uint16_t *v, size_t n, uint16_t x) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += v[i] == x;
    return c;
}

HX_VECTORIZE static uint32_t max_u32(const uint32_t *v, size_t n) {
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

static hx_status check_levels(const uint16_t *lv, size_t n, int max, const char *what) {
    uint16_t m = 0;
    for (size_t i = 0; i < n; i++) m = lv[i] > m ? lv[i] : m;
    HX_FAIL_IF(m > max, HOIST_ERR_PARQUET_CORRUPT, "%s level %u exceeds the maximum %d", what, m, max);
    return HOIST_OK;
}

static void set_bits(uint8_t *b, int64_t start, int64_t count, int v) {
    int64_t i = start, end = start + count;
    for (; i < end && (i & 7); i++) {
        if (v) b[i >> 3] |= (uint8_t)(1u << (i & 7));
        else b[i >> 3] &= (uint8_t)~(1u << (i & 7));
    }
    if (end - i >= 8) {
        memset(b + (i >> 3), v ? 0xff : 0, (size_t)((end - i) >> 3));
        i += (end - i) & ~(int64_t)7;
    }
    for (; i < end; i++) {
        if (v) b[i >> 3] |= (uint8_t)(1u << (i & 7));
        else b[i >> 3] &= (uint8_t)~(1u << (i & 7));
    }
}

/* Definition levels of a flat field straight to validity bits: long runs
 * (the common "no nulls" page) become a memset. */
static hx_status def_to_bits(struct colctx *cx, const uint8_t *p, size_t len, size_t n, size_t *nn_out) {
    struct hx_pq_leaf_data *o = cx->out;
    int64_t bit = o->n_levels;
    HX_TRY(hx_abuf_reserve(&o->valid, (size_t)((bit + (int64_t)n + 7) / 8) - o->valid.len + 8));
    uint8_t *b = o->valid.data;
    uint32_t md = (uint32_t)cx->max_def;
    struct hx_rle_reader r;
    hx_rle_reader_init(&r, p, len, bit_width(cx->max_def));
    uint32_t buf[512];
    size_t done = 0, nn = 0;
    while (done < n) {
        size_t want = n - done < 512 ? n - done : 512;
        if (r.run_left > 0 && !r.run_is_literal) {
            size_t take = r.run_left < n - done ? r.run_left : n - done;
            HX_FAIL_IF(r.run_value > md, HOIST_ERR_PARQUET_CORRUPT, "definition level %u exceeds the maximum %u",
                       r.run_value, md);
            set_bits(b, bit, (int64_t)take, r.run_value == md);
            if (r.run_value == md) nn += take;
            r.run_left -= (uint32_t)take;
            bit += (int64_t)take;
            done += take;
            continue;
        }
        if (md == 1 && r.run_left > 0 && r.run_is_literal) {
            /* 1-bit levels: a bit-packed run already is the validity bitmap */
            size_t take = r.run_left < n - done ? r.run_left : n - done;
            nn += hx_copy_bits(b, (uint64_t)bit, r.literal, r.literal_pos, take);
            r.literal_pos += (uint32_t)take;
            r.run_left -= (uint32_t)take;
            bit += (int64_t)take;
            done += take;
            continue;
        }
        if (r.run_left == 0) want = 1; /* loads the next run */
        else if (want > r.run_left) want = r.run_left;
        int64_t k = hx_rle_reader_next(&r, buf, want);
        if (k < 0) return hx_error_prefix(HOIST_ERR_PARQUET_CORRUPT, "definition levels");
        HX_FAIL_IF(k == 0, HOIST_ERR_PARQUET_CORRUPT, "definition levels: %zu of %zu values present", done, n);
        for (int64_t i = 0; i < k; i++) {
            HX_FAIL_IF(buf[i] > md, HOIST_ERR_PARQUET_CORRUPT, "definition level %u exceeds the maximum %u", buf[i], md);
            int v = buf[i] == md;
            nn += (size_t)v;
            if (v) b[(bit + i) >> 3] |= (uint8_t)(1u << ((bit + i) & 7));
            else b[(bit + i) >> 3] &= (uint8_t)~(1u << ((bit + i) & 7));
        }
        bit += k;
        done += (size_t)k;
    }
    o->valid.len = (size_t)(bit + 7) / 8;
    o->has_valid = 1;
    *nn_out = nn;
    return HOIST_OK;
}

/* ---- pages ------------------------------------------------------------------ */

static hx_status decompress_to_scratch(struct colctx *cx, const uint8_t *src, size_t src_len, size_t dst_len,
                                       const uint8_t **out) {
    void *pg = cx->page;
    HX_TRY(grow_scratch(&pg, &cx->page_cap, dst_len + 8));
    cx->page = pg;
    if (dst_len == 0 && src_len == 0) {
        *out = cx->page;
        return HOIST_OK;
    }
    HX_TRY(hx_pq_decompress((enum hx_pq_codec)cx->c->codec, src, src_len, cx->page, dst_len));
    *out = cx->page;
    return HOIST_OK;
}

static hx_status reserve_levels(struct colctx *cx, size_t *cap, size_t need) {
    struct hx_pq_leaf_data *o = cx->out;
    if (need <= *cap) return HOIST_OK;
    size_t n = *cap ? *cap * 2 : 1024;
    if (n < need) n = need;
    if (cx->max_def > 0 && !(cx->flags & HX_PQ_FLAT_LEAF)) {
        uint16_t *d = hx_realloc(o->def, n * 2);
        if (!d) HX_FAIL(HOIST_ERR_NOMEM, "out of memory for levels");
        o->def = d;
    }
    if (cx->max_rep > 0) {
        uint16_t *r = hx_realloc(o->rep, n * 2);
        if (!r) HX_FAIL(HOIST_ERR_NOMEM, "out of memory for levels");
        o->rep = r;
    }
    *cap = n;
    return HOIST_OK;
}

static hx_status data_page(struct colctx *cx, const struct hx_pq_page_header *h, const uint8_t *raw,
                           size_t *lvl_cap, int64_t limit) {
    struct hx_pq_leaf_data *o = cx->out;
    int v2 = h->type == PQP_DATA_V2;
    HX_FAIL_IF(v2 ? !h->has_v2_header : !h->has_data_header, HOIST_ERR_PARQUET_CORRUPT, "data page without its header");
    HX_FAIL_IF(h->num_values < 0, HOIST_ERR_PARQUET_CORRUPT, "page with %d values", (int)h->num_values);
    size_t n = (size_t)h->num_values;
    HX_FAIL_IF((int64_t)n > limit - o->n_levels, HOIST_ERR_PARQUET_CORRUPT,
               "page has %zu values but only %lld remain in the column chunk", n, (long long)(limit - o->n_levels));
    HX_TRY(reserve_levels(cx, lvl_cap, (size_t)o->n_levels + n));
    int flat_bits = (cx->flags & HX_PQ_FLAT_LEAF) && cx->max_def > 0 && cx->max_rep == 0;
    int flat_done = 0;
    size_t flat_nn = 0;
    uint16_t *def = NULL;
    if (flat_bits) {
        /* only deprecated BIT_PACKED levels use this scratch in flat mode */
        void *ip = cx->phys2;
        HX_TRY(grow_scratch(&ip, &cx->phys2_cap, (n ? n : 1) * 2));
        cx->phys2 = ip;
        def = (uint16_t *)cx->phys2;
    } else if (cx->max_def) {
        def = o->def + o->n_levels;
    }
    uint16_t *rep = cx->max_rep ? o->rep + o->n_levels : NULL;
    const uint8_t *vals;
    size_t vlen;
    size_t csize = (size_t)h->compressed_size, usize = (size_t)h->uncompressed_size;
    if (!v2) {
        const uint8_t *pg = raw;
        if (cx->c->codec != HX_PQ_UNCOMPRESSED) HX_TRY(decompress_to_scratch(cx, raw, csize, usize, &pg));
        else HX_FAIL_IF(usize != csize, HOIST_ERR_PARQUET_CORRUPT, "uncompressed page sizes differ (%zu vs %zu)", usize, csize);
        size_t pos = 0, used;
        if (rep) {
            HX_TRY(levels_v1(h->rep_encoding, pg, usize, cx->max_rep, rep, n, &used, "repetition"));
            pos += used;
        }
        if (flat_bits && h->def_encoding != PQE_BIT_PACKED) {
            uint32_t l;
            HX_FAIL_IF(usize - pos < 4, HOIST_ERR_PARQUET_CORRUPT, "definition levels: missing length");
            memcpy(&l, pg + pos, 4);
            HX_FAIL_IF(l > usize - pos - 4, HOIST_ERR_PARQUET_CORRUPT, "definition levels: length %u overruns the page", l);
            HX_TRY(def_to_bits(cx, pg + pos + 4, l, n, &flat_nn));
            pos += 4 + (size_t)l;
            flat_done = 1;
        } else if (def) {
            HX_TRY(levels_v1(h->def_encoding, pg + pos, usize - pos, cx->max_def, def, n, &used, "definition"));
            pos += used;
        }
        vals = pg + pos;
        vlen = usize - pos;
    } else {
        HX_FAIL_IF(h->def_len < 0 || h->rep_len < 0 || (size_t)h->def_len + (size_t)h->rep_len > csize,
                   HOIST_ERR_PARQUET_CORRUPT, "v2 level lengths (%d + %d) exceed the page (%zu)", (int)h->rep_len,
                   (int)h->def_len, csize);
        size_t rl = (size_t)h->rep_len, dl = (size_t)h->def_len;
        if (rep) {
            hx_status st = hx_rle_decode_u16(raw, rl, bit_width(cx->max_rep), rep, n, NULL);
            if (st != HOIST_OK) return hx_error_prefix(st, "repetition levels");
        }
        if (flat_bits) {
            HX_TRY(def_to_bits(cx, raw + rl, dl, n, &flat_nn));
            flat_done = 1;
        } else if (def) {
            hx_status st = hx_rle_decode_u16(raw + rl, dl, bit_width(cx->max_def), def, n, NULL);
            if (st != HOIST_OK) return hx_error_prefix(st, "definition levels");
        }
        const uint8_t *vraw = raw + rl + dl;
        size_t vc = csize - rl - dl;
        HX_FAIL_IF(usize < rl + dl, HOIST_ERR_PARQUET_CORRUPT, "v2 page uncompressed size below its levels");
        size_t vu = usize - rl - dl;
        int compressed = cx->c->codec != HX_PQ_UNCOMPRESSED && (h->is_compressed || cx->f->cpp_10353_bug);
        if (compressed && vc > 0) {
            HX_TRY(decompress_to_scratch(cx, vraw, vc, vu, &vals));
            vlen = vu;
        } else {
            vals = vraw;
            vlen = vc;
        }
    }
    /* Levels are read with bit_width(max) bits, so only a max that is not
     * of the form 2^w - 1 can be exceeded. */
    if (rep && ((1 << bit_width(cx->max_rep)) - 1) != cx->max_rep)
        HX_TRY(check_levels(rep, n, cx->max_rep, "repetition"));
    size_t nn = n;
    if (flat_done) {
        nn = flat_nn;
    } else if (flat_bits) {
        /* deprecated BIT_PACKED levels: scratch levels, then bits */
        HX_TRY(check_levels(def, n, cx->max_def, "definition"));
        HX_TRY(hx_abuf_reserve(&o->valid, (size_t)((o->n_levels + (int64_t)n + 7) / 8) - o->valid.len + 8));
        nn = 0;
        for (size_t i = 0; i < n; i++) {
            int v = def[i] == cx->max_def;
            nn += (size_t)v;
            set_bits(o->valid.data, o->n_levels + (int64_t)i, 1, v);
        }
        o->valid.len = (size_t)((o->n_levels + (int64_t)n + 7) / 8);
        o->has_valid = 1;
    } else if (def) {
        if (((1 << bit_width(cx->max_def)) - 1) != cx->max_def)
            HX_TRY(check_levels(def, n, cx->max_def, "definition"));
        nn = count_eq_u16(def, n, (uint16_t)cx->max_def);
    }
    if (rep && o->n_levels == 0 && n > 0)
        HX_FAIL_IF(rep[0] != 0, HOIST_ERR_PARQUET_CORRUPT, "first repetition level is %u, not 0", rep[0]);
    HX_TRY(decode_values(cx, h->encoding, vals, vlen, nn));
    o->n_levels += (int64_t)n;
    return HOIST_OK;
}

hx_status hx_pq_chunk_range(const struct hoist_pq_file *f, int rg, int leaf, uint64_t *off, uint64_t *len) {
    const struct hx_pq_chunk *c = &f->row_groups[rg].chunks[leaf];
    int64_t start = c->data_page_offset;
    if (c->dict_page_offset >= 0 && c->dict_page_offset < start) start = c->dict_page_offset;
    HX_FAIL_IF(start < 0 || c->total_compressed < 0 || (uint64_t)start > f->file_size ||
                   (uint64_t)c->total_compressed > f->file_size - (uint64_t)start,
               HOIST_ERR_PARQUET_CORRUPT, "column chunk [%lld, +%lld) lies outside the %llu-byte file",
               (long long)start, (long long)c->total_compressed, (unsigned long long)f->file_size);
    uint64_t l = (uint64_t)c->total_compressed;
    if (f->pad_chunks) {
        /* PARQUET-816: old parquet-mr under-reports the chunk; Arrow C++ pads by 100 bytes. */
        uint64_t room = f->file_size - (uint64_t)start - l;
        l += room < 100 ? room : 100;
    }
    *off = (uint64_t)start;
    *len = l;
    return HOIST_OK;
}

/* A listed page must hold exactly the rows the OffsetIndex gives it, and
 * start a record: the caller cuts rows by those numbers. */
static hx_status check_span(const struct colctx *cx, const struct hx_pq_page_span *sp, int64_t from) {
    const struct hx_pq_leaf_data *o = cx->out;
    int64_t rows = o->n_levels - from;
    if (cx->max_rep > 0) {
        HX_FAIL_IF(rows > 0 && o->rep[from] != 0, HOIST_ERR_PARQUET_CORRUPT,
                   "page does not start at a record boundary (repetition level %u)", o->rep[from]);
        rows = 0;
        for (int64_t i = from; i < o->n_levels; i++) rows += o->rep[i] == 0;
    }
    HX_FAIL_IF(rows != sp->rows, HOIST_ERR_PARQUET_CORRUPT, "page holds %lld rows where the offset index says %lld",
               (long long)rows, (long long)sp->rows);
    return HOIST_OK;
}

/* Strings gathered from a dictionary: the chunk's sizes say nothing of the
 * output, so size it once from the mean entry length (bounded like the other
 * presizing) instead of doubling through every page. */
static hx_status presize_from_dict(struct colctx *cx, int64_t limit, size_t chunk_len) {
    struct hx_pq_leaf_data *o = cx->out;
    uint64_t mean = (uint64_t)cx->dict_off[cx->dict_n] / (uint64_t)cx->dict_n + 1;
    uint64_t bound = (uint64_t)chunk_len * 64 + 65536, rows = (uint64_t)(limit > 0 ? limit : 0);
    uint64_t want = (rows < bound ? rows : bound) * mean;
    if (want > bound * 16) want = bound * 16;
    if (want > o->data.cap) HX_TRY(hx_abuf_reserve(&o->data, (size_t)want - o->data.len));
    return HOIST_OK;
}

/* Output buffers are fresh memory written once: populating their pages in
 * one call spares a fault (a trap, costly in a VM) per 4 KiB page, which
 * otherwise rivals the decoding itself. Only the bytes the declared counts
 * need (not the buffer's rounded-up capacity), so RSS is unchanged. */
static void prefault(void *p, size_t len) {
#ifdef MADV_POPULATE_WRITE
    const uintptr_t pg = 4096;
    if (len < 64 * pg) return;
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + len) & ~(pg - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE); /* advisory: older kernels say EINVAL */
#else
    (void)p;
    (void)len;
#endif
}

/* Pages back to back in chunk, or (pages != NULL) the listed pages one per
 * entry: chunk_len then only bounds the presizing. */
static hx_status decode_leaf(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                             const uint8_t *chunk, size_t chunk_len, const struct hx_pq_page_span *pages,
                             size_t npages, unsigned flags, int64_t rows, struct hx_pq_scratch *scratch,
                             struct hx_pq_leaf_data *out) {
    struct colctx cx = {0};
    if (scratch) {
        cx.page = scratch->buf[0], cx.page_cap = scratch->cap[0];
        cx.idx = scratch->buf[1], cx.idx_cap = scratch->cap[1];
        cx.phys = scratch->buf[2], cx.phys_cap = scratch->cap[2];
        cx.phys2 = scratch->buf[3], cx.phys2_cap = scratch->cap[3];
        cx.dict_buf = scratch->buf[4], cx.dict_buf_cap = scratch->cap[4];
    }
    struct hx_pq_anode eff = *leaf;
    eff.dict = hx_pq_leaf_dict(leaf, flags);
    leaf = &eff;
    cx.f = f;
    cx.a = leaf;
    cx.c = &f->row_groups[rg].chunks[leaf->leaf];
    cx.e = &f->elements[f->leaves[leaf->leaf].element];
    cx.max_def = f->leaves[leaf->leaf].max_def;
    cx.max_rep = f->leaves[leaf->leaf].max_rep;
    cx.phys_width = phys_width(cx.e);
    cx.flags = flags;
    cx.out = out;
    memset(out, 0, sizeof *out);
    hx_status st = HOIST_OK;
    size_t pos = 0, lvl_cap = 0;
    int page_no = 0;
    int64_t limit = cx.max_rep == 0 ? rows : cx.c->num_values;
    if (leaf->conv == CV_BINARY || leaf->dict) {
        /* offsets start with a 0 */
        struct hx_abuf *ob = leaf->dict ? &out->dict_offsets : &out->offsets;
        st = hx_abuf_reserve(ob, 8);
        if (st == HOIST_OK) {
            memset(ob->data, 0, 8);
            ob->len = leaf->large ? 8 : 4;
        }
    }
    if (st == HOIST_OK && limit > 0) {
        /* Pre-size from the declared counts so values land in their final
         * buffer without regrowth, but never trust a count far beyond what
         * the bytes could hold (bigger chunks grow as pages prove them). */
        uint64_t bound = (uint64_t)chunk_len * 64 + 65536;
        size_t want = (size_t)((uint64_t)limit < bound ? (uint64_t)limit : bound);
        size_t w = leaf->dict ? 4 : leaf->conv == CV_BOOL ? 1 : leaf->conv == CV_BINARY ? 0 : (size_t)leaf->out_width;
        if (w) st = hx_abuf_reserve(&out->values, want * w);
        if (st == HOIST_OK && w) prefault(out->values.data, want * w);
        if (st == HOIST_OK && leaf->conv == CV_BINARY && !leaf->dict) {
            st = hx_abuf_reserve(&out->offsets, want * (leaf->large ? 8 : 4));
            if (st == HOIST_OK) prefault(out->offsets.data, want * (leaf->large ? 8 : 4));
        }
        if (st == HOIST_OK && leaf->conv == CV_BINARY && !leaf->dict && cx.c->total_uncompressed > 0)
            st = hx_abuf_reserve(&out->data, (size_t)((uint64_t)cx.c->total_uncompressed < bound
                                                          ? (uint64_t)cx.c->total_uncompressed : bound));
        if (st == HOIST_OK && (cx.max_def || cx.max_rep)) st = reserve_levels(&cx, &lvl_cap, want);
        if (st == HOIST_OK && (flags & HX_PQ_FLAT_LEAF) && cx.max_def > 0 && cx.max_rep == 0)
            st = hx_abuf_reserve(&out->valid, want / 8 + 8);
    }
    size_t next_span = 0, total_len = chunk_len; /* chunk_len is per entry from here on */
    int64_t span_levels = 0;
    if (pages) pos = chunk_len; /* the first entry is taken below */
    while (st == HOIST_OK && (pages ? pos < chunk_len || next_span < npages : out->n_levels < limit)) {
        if (pages && pos >= chunk_len) {
            if (next_span > 0 && (st = check_span(&cx, &pages[next_span - 1], span_levels)) != HOIST_OK) break;
            chunk = pages[next_span].data, chunk_len = pages[next_span].len;
            pos = 0;
            span_levels = out->n_levels;
            next_span++;
            continue;
        }
        if (pos >= chunk_len) {
            st = CORRUPT("column chunk ends after %lld of %lld values", (long long)out->n_levels, (long long)limit);
            break;
        }
        struct hx_pq_page_header h;
        size_t hl;
        st = hx_pq_parse_page_header(chunk + pos, chunk_len - pos, &h, &hl);
        if (st != HOIST_OK) {
            st = hx_error_prefix(st, "page %d header", page_no);
            break;
        }
        pos += hl;
        if ((size_t)h.compressed_size > chunk_len - pos) {
            st = CORRUPT("page %d: %d bytes overrun the column chunk (%zu left)", page_no, (int)h.compressed_size,
                         chunk_len - pos);
            break;
        }
        const uint8_t *raw = chunk + pos;
        pos += (size_t)h.compressed_size;
        if (h.has_crc && !(flags & HOIST_PQ_NO_CRC) &&
            (h.type == PQP_DATA || h.type == PQP_DATA_V2 || h.type == PQP_DICTIONARY)) {
            uint32_t crc = hx_crc32(raw, (size_t)h.compressed_size);
            if (crc != h.crc) {
                st = hx_error(HOIST_ERR_PARQUET_CHECKSUM, "page %d: CRC mismatch (stored %08x, computed %08x)",
                              page_no, h.crc, crc);
                break;
            }
        }
        if (h.type == PQP_DICTIONARY) {
            if (!h.has_dict_header) {
                st = CORRUPT("page %d: dictionary page without its header", page_no);
                break;
            }
            const uint8_t *pg = raw;
            if (cx.c->codec != HX_PQ_UNCOMPRESSED && leaf->conv == CV_COPY && cx.phys_width > 0) {
                st = read_dictionary_direct(&cx, raw, (size_t)h.compressed_size, (size_t)h.uncompressed_size,
                                            h.num_values);
                if (st != HOIST_OK) st = hx_error_prefix(st, "page %d (dictionary)", page_no);
                page_no++;
                continue;
            }
            if (cx.c->codec != HX_PQ_UNCOMPRESSED)
                st = decompress_to_scratch(&cx, raw, (size_t)h.compressed_size, (size_t)h.uncompressed_size, &pg);
            if (st == HOIST_OK) {
                size_t len = cx.c->codec != HX_PQ_UNCOMPRESSED ? (size_t)h.uncompressed_size : (size_t)h.compressed_size;
                st = read_dictionary(&cx, pg, len, h.num_values);
                if (st == HOIST_OK && leaf->conv == CV_BINARY && !leaf->dict && cx.dict_n > 0 && cx.dict_off)
                    st = presize_from_dict(&cx, limit, total_len);
                if (st == HOIST_OK && leaf->dict) {
                    /* The Arrow dictionary is the dictionary page itself. */
                    struct hx_abuf *dd = &out->dict_data, *dof = &out->dict_offsets;
                    size_t total = (size_t)cx.dict_off[cx.dict_n];
                    st = hx_abuf_reserve(dd, total);
                    if (st == HOIST_OK) st = hx_abuf_reserve(dof, (size_t)cx.dict_n * 8);
                    if (st == HOIST_OK && total > INT32_MAX) st = hx_error(HOIST_ERR_LIMIT, "dictionary over 2 GiB");
                    if (st == HOIST_OK) {
                        memcpy(dd->data, cx.dict_bytes, total);
                        dd->len = total;
                        for (int64_t i = 1; i <= cx.dict_n; i++) {
                            int32_t v = (int32_t)cx.dict_off[i];
                            memcpy(dof->data + 4 * i, &v, 4);
                        }
                        dof->len = 4 * ((size_t)cx.dict_n + 1);
                        out->dict_n = cx.dict_n;
                    }
                }
            }
            if (st != HOIST_OK) st = hx_error_prefix(st, "page %d (dictionary)", page_no);
        } else if (h.type == PQP_DATA || h.type == PQP_DATA_V2) {
            st = data_page(&cx, &h, raw, &lvl_cap, limit);
            if (st != HOIST_OK) st = hx_error_prefix(st, "page %d", page_no);
        }
        /* index pages and unknown page types are skipped */
        page_no++;
    }
    if (st == HOIST_OK && pages && next_span > 0) st = check_span(&cx, &pages[next_span - 1], span_levels);
    if (st != HOIST_OK && pages && next_span > 0)
        st = hx_error_prefix(st, "page at offset %llu", (unsigned long long)pages[next_span - 1].offset);
    if (st == HOIST_OK && cx.max_def == 0 && cx.max_rep == 0 && out->n_values != out->n_levels)
        st = CORRUPT("%lld values for %lld rows", (long long)out->n_values, (long long)out->n_levels);
    if (cx.dict_fixed != cx.dict_buf) hx_free(cx.dict_fixed);
    if (scratch) {
        scratch->buf[0] = cx.page, scratch->cap[0] = cx.page_cap;
        scratch->buf[1] = cx.idx, scratch->cap[1] = cx.idx_cap;
        scratch->buf[2] = cx.phys, scratch->cap[2] = cx.phys_cap;
        scratch->buf[3] = cx.phys2, scratch->cap[3] = cx.phys2_cap;
        scratch->buf[4] = cx.dict_buf, scratch->cap[4] = cx.dict_buf_cap;
    } else {
        hx_free(cx.page);
        hx_free(cx.idx);
        hx_free(cx.phys);
        hx_free(cx.phys2);
        hx_free(cx.dict_buf);
    }
    hx_free(cx.dict_off);
    hx_free(cx.dict_bytes);
    hx_free(cx.dict_slots);
    hx_free(cx.dict_len8);
    hx_free(cx.ht);
    if (st != HOIST_OK) hx_pq_leaf_data_reset(out);
    return st;
}

hx_status hx_pq_decode_leaf(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                            const uint8_t *chunk, size_t chunk_len, unsigned flags, int64_t rows,
                            struct hx_pq_scratch *scratch, struct hx_pq_leaf_data *out) {
    return decode_leaf(f, rg, leaf, chunk, chunk_len, NULL, 0, flags, rows, scratch, out);
}

hx_status hx_pq_decode_leaf_pages(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                                  const struct hx_pq_page_span *pages, size_t npages, unsigned flags,
                                  struct hx_pq_scratch *scratch, struct hx_pq_leaf_data *out) {
    int64_t rows = 0;
    size_t bytes = 0;
    for (size_t i = 0; i < npages; i++) rows += pages[i].rows, bytes += pages[i].len;
    static const uint8_t none[1];
    static const struct hx_pq_page_span no_pages[1];
    return decode_leaf(f, rg, leaf, none, bytes, pages ? pages : no_pages, npages, flags, rows, scratch, out);
}
