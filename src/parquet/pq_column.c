/* One leaf column chunk: pages -> definition/repetition levels and dense
 * (non-null) values already in their final Arrow representation
 * (parquet-format README "Data Pages", Encodings.md). This file walks the
 * pages and decodes the levels; pq_values.c decodes each page's values. */
#include "pq_column.h"

#include <string.h>
#include <sys/mman.h>

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

/* Scratch whose contents need not survive growth: no copy (realloc would
 * copy, and doubling from 1 KiB copies every page size on the way up). */
hx_status hx_pq_scratch_grow(void **p, size_t *cap, size_t need) {
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
    hx_arrow_buf_reset(&d->values);
    hx_arrow_buf_reset(&d->offsets);
    hx_arrow_buf_reset(&d->data);
    hx_arrow_buf_reset(&d->dict_offsets);
    hx_arrow_buf_reset(&d->valid);
    hx_arrow_buf_reset(&d->dict_data);
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
static hx_status levels_v1(int enc, const uint8_t *p, size_t len, int max_level, uint16_t *out, size_t n, size_t *used,
                           const char *what) {
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

HX_VECTORIZE static size_t count_eq_u16(const uint16_t *v, size_t n, uint16_t x) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += v[i] == x;
    return c;
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
        if (v)
            b[i >> 3] |= (uint8_t)(1u << (i & 7));
        else
            b[i >> 3] &= (uint8_t) ~(1u << (i & 7));
    }
    if (end - i >= 8) {
        memset(b + (i >> 3), v ? 0xff : 0, (size_t)((end - i) >> 3));
        i += (end - i) & ~(int64_t)7;
    }
    for (; i < end; i++) {
        if (v)
            b[i >> 3] |= (uint8_t)(1u << (i & 7));
        else
            b[i >> 3] &= (uint8_t) ~(1u << (i & 7));
    }
}

/* Definition levels of a flat field straight to validity bits: long runs
 * (the common "no nulls" page) become a memset. */
static hx_status def_to_bits(struct hx_pq_colctx *cx, const uint8_t *p, size_t len, size_t n, size_t *nn_out) {
    struct hx_pq_leaf_data *o = cx->out;
    int64_t bit = o->n_levels;
    HX_TRY(hx_arrow_buf_reserve(&o->valid, (size_t)((bit + (int64_t)n + 7) / 8) - o->valid.len + 8));
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
        if (r.run_left == 0)
            want = 1; /* loads the next run */
        else if (want > r.run_left)
            want = r.run_left;
        int64_t k = hx_rle_reader_next(&r, buf, want);
        if (k < 0) return hx_error_prefix(HOIST_ERR_PARQUET_CORRUPT, "definition levels");
        HX_FAIL_IF(k == 0, HOIST_ERR_PARQUET_CORRUPT, "definition levels: %zu of %zu values present", done, n);
        for (int64_t i = 0; i < k; i++) {
            HX_FAIL_IF(buf[i] > md, HOIST_ERR_PARQUET_CORRUPT, "definition level %u exceeds the maximum %u", buf[i],
                       md);
            int v = buf[i] == md;
            nn += (size_t)v;
            if (v)
                b[(bit + i) >> 3] |= (uint8_t)(1u << ((bit + i) & 7));
            else
                b[(bit + i) >> 3] &= (uint8_t) ~(1u << ((bit + i) & 7));
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

static hx_status decompress_to_scratch(struct hx_pq_colctx *cx, const uint8_t *src, size_t src_len, size_t dst_len,
                                       const uint8_t **out) {
    void *pg = cx->page;
    HX_TRY(hx_pq_scratch_grow(&pg, &cx->page_cap, dst_len + 8));
    cx->page = pg;
    if (dst_len == 0 && src_len == 0) {
        *out = cx->page;
        return HOIST_OK;
    }
    HX_TRY(hx_pq_decompress((enum hx_pq_codec)cx->c->codec, src, src_len, cx->page, dst_len));
    *out = cx->page;
    return HOIST_OK;
}

/* ---- values decompressed in place ---------------------------------------
 *
 * PLAIN values used as stored (CV_COPY) need no decoding: a page's bytes
 * can be decompressed straight to the end of the output values instead of
 * to scratch and then copied (a pass over every byte of the biggest columns
 * of a typical file: timestamps and coordinates that dictionaries gave up
 * on). A v1 page carries its definition levels in front of the values in
 * the same compressed stream, so the page is decompressed `hdr` bytes before
 * the end of the output, hdr being the previous page's level bytes (pages
 * of a chunk without nulls have the same few); the hdr bytes of earlier
 * values it overwrites are saved first and put back once the levels are
 * read. If the levels turn out a different size, the values are moved to
 * their place: correct, just the copy again. */
#define IN_PLACE_MAX_HDR 64

struct in_place {
    size_t hdr;
    uint8_t saved[IN_PLACE_MAX_HDR];
};

/* Whether the values of page h can be decompressed into the output; *hdr
 * is where they are expected to start in the decompressed stream. */
static int in_place_ok(const struct hx_pq_colctx *cx, const struct hx_pq_page_header *h, int v2, size_t *hdr) {
    if (cx->c->codec == HX_PQ_UNCOMPRESSED || h->encoding != PQE_PLAIN || cx->a->conv != CV_COPY || cx->phys_width <= 0)
        return 0;
    if (v2 || (cx->max_def == 0 && cx->max_rep == 0)) {
        *hdr = 0; /* no levels in the stream */
        return 1;
    }
    /* v1: only flat leaves, whose RLE definition levels go straight to bits */
    if (cx->max_rep != 0 || !(cx->flags & HX_PQ_FLAT_LEAF) || h->def_encoding == PQE_BIT_PACKED) return 0;
    *hdr = cx->level_bytes;
    return *hdr >= 4 && *hdr <= IN_PLACE_MAX_HDR && *hdr <= cx->out->values.len;
}

static hx_status decompress_in_place(struct hx_pq_colctx *cx, const uint8_t *src, size_t src_len, size_t dst_len,
                                     struct in_place *ip, const uint8_t **out) {
    struct hx_arrow_buf *v = &cx->out->values;
    HX_TRY(hx_arrow_buf_reserve(v, dst_len));
    uint8_t *at = v->data + v->len - ip->hdr;
    memcpy(ip->saved, at, ip->hdr);
    if (dst_len > 0) HX_TRY(hx_pq_decompress((enum hx_pq_codec)cx->c->codec, src, src_len, at, dst_len));
    *out = at;
    return HOIST_OK;
}

/* The page's nn values start at vals (vlen bytes to the stream's end): moved
 * to the end of the output if they are not there, the overwritten bytes put
 * back, and counted in. */
static hx_status settle_in_place(struct hx_pq_colctx *cx, const struct in_place *ip, const uint8_t *vals, size_t vlen,
                                 size_t nn) {
    struct hx_arrow_buf *v = &cx->out->values;
    uint8_t *dst = v->data + v->len;
    size_t need;
    HX_FAIL_IF(!hx_mul_size(nn, (size_t)cx->phys_width, &need) || need > vlen, HOIST_ERR_PARQUET_CORRUPT,
               "PLAIN values: %zu values of %d bytes overrun the %zu-byte page", nn, cx->phys_width, vlen);
    if (vals != dst) memmove(dst, vals, need);
    memcpy(dst - ip->hdr, ip->saved, ip->hdr);
    v->len += need;
    cx->out->n_values += (int64_t)nn;
    return HOIST_OK;
}

static hx_status reserve_levels(struct hx_pq_colctx *cx, size_t *cap, size_t need) {
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

/* Kept-rows decoding (cx->keep): the page's n rows, whose validity bits the
 * level decoding wrote at out->n_levels, are cut down to the kept ones (the
 * bits compacted in place: the write position never passes the read one),
 * and cx->vkeep becomes the mask over the page's nn values. Returns the
 * number of kept rows in *kept. */
static hx_status keep_page_rows(struct hx_pq_colctx *cx, size_t n, size_t nn, int has_bits, size_t *kept) {
    struct hx_pq_leaf_data *o = cx->out;
    const uint8_t *rk = cx->keep + cx->rows_seen;
    int64_t at = o->n_levels;
    size_t k = hx_count_kept(rk, n);
    if (nn == n) {
        /* no nulls: values and rows line up */
        cx->vkeep = rk;
        cx->vkept = k;
        if (has_bits) set_bits(o->valid.data, at, (int64_t)k, 1);
    } else {
        void *vb = cx->vkeep_buf;
        HX_TRY(hx_pq_scratch_grow(&vb, &cx->vkeep_cap, nn ? nn : 1));
        cx->vkeep_buf = vb;
        uint8_t *b = o->valid.data;
        size_t j = 0, kv = 0;
        int64_t w = at;
        for (size_t i = 0; i < n; i++) {
            int64_t r = at + (int64_t)i;
            int v = (b[r >> 3] >> (r & 7)) & 1;
            if (v) {
                cx->vkeep_buf[j++] = rk[i];
                kv += rk[i];
            }
            if (rk[i]) {
                set_bits(b, w, 1, v);
                w++;
            }
        }
        cx->vkeep = cx->vkeep_buf;
        cx->vkept = kv;
    }
    if (has_bits) o->valid.len = (size_t)((at + (int64_t)k + 7) / 8);
    *kept = k;
    return HOIST_OK;
}

static hx_status data_page(struct hx_pq_colctx *cx, const struct hx_pq_page_header *h, const uint8_t *raw,
                           size_t *lvl_cap, int64_t limit) {
    struct hx_pq_leaf_data *o = cx->out;
    int v2 = h->type == PQP_DATA_V2;
    HX_FAIL_IF(v2 ? !h->has_v2_header : !h->has_data_header, HOIST_ERR_PARQUET_CORRUPT, "data page without its header");
    HX_FAIL_IF(h->num_values < 0, HOIST_ERR_PARQUET_CORRUPT, "page with %d values", (int)h->num_values);
    size_t n = (size_t)h->num_values;
    int64_t seen = cx->keep ? cx->rows_seen : o->n_levels;
    HX_FAIL_IF((int64_t)n > limit - seen, HOIST_ERR_PARQUET_CORRUPT,
               "page has %zu values but only %lld remain in the column chunk", n, (long long)(limit - seen));
    HX_TRY(reserve_levels(cx, lvl_cap, (size_t)o->n_levels + n));
    int flat_bits = (cx->flags & HX_PQ_FLAT_LEAF) && cx->max_def > 0 && cx->max_rep == 0;
    int flat_done = 0;
    size_t flat_nn = 0;
    uint16_t *def = NULL;
    if (flat_bits) {
        /* only deprecated BIT_PACKED levels use this scratch in flat mode */
        void *ip = cx->phys2;
        HX_TRY(hx_pq_scratch_grow(&ip, &cx->phys2_cap, (n ? n : 1) * 2));
        cx->phys2 = ip;
        def = (uint16_t *)cx->phys2;
    } else if (cx->max_def) {
        def = o->def + o->n_levels;
    }
    uint16_t *rep = cx->max_rep ? o->rep + o->n_levels : NULL;
    const uint8_t *vals;
    size_t vlen;
    size_t csize = (size_t)h->compressed_size, usize = (size_t)h->uncompressed_size;
    struct in_place ip;
    /* kept rows are picked from the page, which must stay where it is */
    int in_place = !cx->keep && in_place_ok(cx, h, v2, &ip.hdr);
    if (!v2) {
        const uint8_t *pg = raw;
        if (in_place)
            HX_TRY(decompress_in_place(cx, raw, csize, usize, &ip, &pg));
        else if (cx->c->codec != HX_PQ_UNCOMPRESSED)
            HX_TRY(decompress_to_scratch(cx, raw, csize, usize, &pg));
        else
            HX_FAIL_IF(usize != csize, HOIST_ERR_PARQUET_CORRUPT, "uncompressed page sizes differ (%zu vs %zu)", usize,
                       csize);
        size_t pos = 0, used;
        if (rep) {
            HX_TRY(levels_v1(h->rep_encoding, pg, usize, cx->max_rep, rep, n, &used, "repetition"));
            pos += used;
        }
        if (flat_bits && h->def_encoding != PQE_BIT_PACKED) {
            uint32_t l;
            HX_FAIL_IF(usize - pos < 4, HOIST_ERR_PARQUET_CORRUPT, "definition levels: missing length");
            memcpy(&l, pg + pos, 4);
            HX_FAIL_IF(l > usize - pos - 4, HOIST_ERR_PARQUET_CORRUPT, "definition levels: length %u overruns the page",
                       l);
            HX_TRY(def_to_bits(cx, pg + pos + 4, l, n, &flat_nn));
            pos += 4 + (size_t)l;
            flat_done = 1;
        } else if (def) {
            HX_TRY(levels_v1(h->def_encoding, pg + pos, usize - pos, cx->max_def, def, n, &used, "definition"));
            pos += used;
        }
        vals = pg + pos;
        vlen = usize - pos;
        cx->level_bytes = pos;
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
        in_place = in_place && compressed && vc > 0;
        if (in_place) {
            HX_TRY(decompress_in_place(cx, vraw, vc, vu, &ip, &vals));
            vlen = vu;
        } else if (compressed && vc > 0) {
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
        HX_TRY(hx_arrow_buf_reserve(&o->valid, (size_t)((o->n_levels + (int64_t)n + 7) / 8) - o->valid.len + 8));
        nn = 0;
        for (size_t i = 0; i < n; i++) {
            int v = def[i] == cx->max_def;
            nn += (size_t)v;
            set_bits(o->valid.data, o->n_levels + (int64_t)i, 1, v);
        }
        o->valid.len = (size_t)((o->n_levels + (int64_t)n + 7) / 8);
        o->has_valid = 1;
    } else if (def) {
        if (((1 << bit_width(cx->max_def)) - 1) != cx->max_def) HX_TRY(check_levels(def, n, cx->max_def, "definition"));
        nn = count_eq_u16(def, n, (uint16_t)cx->max_def);
    }
    if (rep && o->n_levels == 0 && n > 0)
        HX_FAIL_IF(rep[0] != 0, HOIST_ERR_PARQUET_CORRUPT, "first repetition level is %u, not 0", rep[0]);
    size_t kept = n;
    if (cx->keep) HX_TRY(keep_page_rows(cx, n, nn, flat_bits, &kept));
    hx_status st;
    if (in_place)
        st = settle_in_place(cx, &ip, vals, vlen, nn);
    else
        st = hx_pq_decode_values(cx, h->encoding, vals, vlen, nn);
    cx->vkeep = NULL;
    HX_TRY(st);
    o->n_levels += (int64_t)kept;
    cx->rows_seen += (int64_t)n;
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
static hx_status check_span(const struct hx_pq_colctx *cx, const struct hx_pq_page_span *sp, int64_t from) {
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
static hx_status presize_from_dict(struct hx_pq_colctx *cx, int64_t limit, size_t chunk_len) {
    struct hx_pq_leaf_data *o = cx->out;
    uint64_t mean = (uint64_t)cx->dict_off[cx->dict_n] / (uint64_t)cx->dict_n + 1;
    uint64_t bound = (uint64_t)chunk_len * 64 + 65536, rows = (uint64_t)(limit > 0 ? limit : 0);
    uint64_t want = (rows < bound ? rows : bound) * mean;
    if (want > bound * 16) want = bound * 16;
    if (want > o->data.cap) HX_TRY(hx_arrow_buf_reserve(&o->data, (size_t)want - o->data.len));
    return HOIST_OK;
}

/* Output buffers are fresh memory written once: populating their pages in
 * one call spares a fault (a trap, costly in a VM) per 4 KiB page, which
 * otherwise rivals the decoding itself. Only the bytes the declared counts
 * need (not the buffer's rounded-up capacity), so RSS is unchanged. Not:
 *  - a block reused from the allocator's cache: resident already, walking
 *    its pages again cost a third of a warm decode of a 300-column file;
 *  - the whole 2 MiB pages of a buffer given huge pages (arrow.c,
 *    HX_ARROW_HUGE_MIN): they fault once per 2 MiB anyway, and populating
 *    holds the mm's lock for reading while the pages are zeroed, so another
 *    thread's mmap/munmap of its next buffer (the lock for writing) waited
 *    for all of it. Its small-page head and tail still are.
 * In 512 KiB steps for the same reason: the lock is let go between them,
 * and a step's zeroing (0.3 ms here) is all a writer waits. */
static void populate(uintptr_t a, uintptr_t e) {
#ifdef MADV_POPULATE_WRITE
    const uintptr_t step = (uintptr_t)512 << 10;
    for (; a < e; a += step) {
        uintptr_t n = e - a < step ? e - a : step;
        if (madvise((void *)a, n, MADV_POPULATE_WRITE) != 0) break; /* advisory: older kernels say EINVAL */
    }
#else
    (void)a;
    (void)e;
#endif
}

static void prefault(void *p, size_t len) {
    const uintptr_t pg = 4096, huge = (uintptr_t)2 << 20;
    if (len < 64 * pg || !hx_aligned_fresh(p)) return;
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + len) & ~(pg - 1);
    uintptr_t ha = ((uintptr_t)p + huge - 1) & ~(huge - 1), he = ((uintptr_t)p + len) & ~(huge - 1);
    if (len + 64 < HX_ARROW_HUGE_MIN || he <= ha) {
        populate(a, e);
        return;
    }
    populate(a, ha);
    populate(he, e);
}

/* The per-thread scratch is lent to the context for one chunk and handed
 * back (possibly grown) after it; without scratch the buffers are freed. */
static void scratch_lend(struct hx_pq_colctx *cx, const struct hx_pq_scratch *scratch) {
    if (!scratch) return;
    cx->page = scratch->buf[0], cx->page_cap = scratch->cap[0];
    cx->idx = scratch->buf[1], cx->idx_cap = scratch->cap[1];
    cx->phys = scratch->buf[2], cx->phys_cap = scratch->cap[2];
    cx->phys2 = scratch->buf[3], cx->phys2_cap = scratch->cap[3];
    cx->dict_buf = scratch->buf[4], cx->dict_buf_cap = scratch->cap[4];
}

static void colctx_release(struct hx_pq_colctx *cx, struct hx_pq_scratch *scratch) {
    if (cx->dict_fixed != cx->dict_buf) hx_free(cx->dict_fixed);
    if (scratch) {
        scratch->buf[0] = cx->page, scratch->cap[0] = cx->page_cap;
        scratch->buf[1] = cx->idx, scratch->cap[1] = cx->idx_cap;
        scratch->buf[2] = cx->phys, scratch->cap[2] = cx->phys_cap;
        scratch->buf[3] = cx->phys2, scratch->cap[3] = cx->phys2_cap;
        scratch->buf[4] = cx->dict_buf, scratch->cap[4] = cx->dict_buf_cap;
    } else {
        hx_free(cx->page);
        hx_free(cx->idx);
        hx_free(cx->phys);
        hx_free(cx->phys2);
        hx_free(cx->dict_buf);
    }
    hx_free(cx->vkeep_buf);
    hx_free(cx->sel_buf);
    hx_free(cx->dict_off);
    hx_free(cx->dict_bytes);
    hx_free(cx->dict_slots);
    hx_free(cx->dict_len8);
    hx_free(cx->ht);
}

/* Output buffers before the first page: offsets start with a 0, and the
 * rest is pre-sized from the declared counts so values land in their final
 * buffer without regrowth, but never trusting a count far beyond what the
 * bytes could hold (bigger chunks grow as pages prove them). */
static hx_status presize_outputs(struct hx_pq_colctx *cx, size_t chunk_len, int64_t limit, size_t *lvl_cap) {
    const struct hx_pq_anode *leaf = cx->a;
    struct hx_pq_leaf_data *out = cx->out;
    if (leaf->conv == CV_BINARY || leaf->dict) {
        struct hx_arrow_buf *ob = leaf->dict ? &out->dict_offsets : &out->offsets;
        HX_TRY(hx_arrow_buf_reserve(ob, 8));
        memset(ob->data, 0, 8);
        ob->len = leaf->large ? 8 : 4;
    }
    if (limit <= 0) return HOIST_OK;
    uint64_t bound = (uint64_t)chunk_len * 64 + 65536;
    size_t want = (size_t)((uint64_t)limit < bound ? (uint64_t)limit : bound);
    size_t w = leaf->dict ? 4 : leaf->conv == CV_BOOL ? 1 : leaf->conv == CV_BINARY ? 0 : (size_t)leaf->out_width;
    if (w) {
        HX_TRY(hx_arrow_buf_reserve(&out->values, want * w));
        prefault(out->values.data, want * w);
    }
    if (leaf->conv == CV_BINARY && !leaf->dict) {
        HX_TRY(hx_arrow_buf_reserve(&out->offsets, want * (leaf->large ? 8 : 4)));
        prefault(out->offsets.data, want * (leaf->large ? 8 : 4));
        if (cx->c->total_uncompressed > 0)
            HX_TRY(hx_arrow_buf_reserve(
                &out->data,
                (size_t)((uint64_t)cx->c->total_uncompressed < bound ? (uint64_t)cx->c->total_uncompressed : bound)));
    }
    if (cx->max_def || cx->max_rep) HX_TRY(reserve_levels(cx, lvl_cap, want));
    if ((cx->flags & HX_PQ_FLAT_LEAF) && cx->max_def > 0 && cx->max_rep == 0)
        HX_TRY(hx_arrow_buf_reserve(&out->valid, want / 8 + 8));
    return HOIST_OK;
}

/* A dictionary output's dictionary is the dictionary page itself. */
static hx_status copy_dictionary_out(struct hx_pq_colctx *cx) {
    struct hx_pq_leaf_data *out = cx->out;
    struct hx_arrow_buf *dd = &out->dict_data, *dof = &out->dict_offsets;
    size_t total = (size_t)cx->dict_off[cx->dict_n];
    HX_TRY(hx_arrow_buf_reserve(dd, total));
    HX_TRY(hx_arrow_buf_reserve(dof, (size_t)cx->dict_n * 8));
    HX_FAIL_IF(total > INT32_MAX, HOIST_ERR_LIMIT, "dictionary over 2 GiB");
    memcpy(dd->data, cx->dict_bytes, total);
    dd->len = total;
    for (int64_t i = 1; i <= cx->dict_n; i++) {
        int32_t v = (int32_t)cx->dict_off[i];
        memcpy(dof->data + 4 * i, &v, 4);
    }
    dof->len = 4 * ((size_t)cx->dict_n + 1);
    out->dict_n = cx->dict_n;
    return HOIST_OK;
}

/* A dictionary page (raw as stored); total_len bounds the presizing of
 * strings gathered from it. */
static hx_status dictionary_page(struct hx_pq_colctx *cx, const struct hx_pq_page_header *h, const uint8_t *raw,
                                 int64_t limit, size_t total_len) {
    const struct hx_pq_anode *leaf = cx->a;
    int compressed = cx->c->codec != HX_PQ_UNCOMPRESSED;
    if (compressed && leaf->conv == CV_COPY && cx->phys_width > 0)
        return hx_pq_read_dictionary_direct(cx, raw, (size_t)h->compressed_size, (size_t)h->uncompressed_size,
                                            h->num_values);
    const uint8_t *pg = raw;
    if (compressed)
        HX_TRY(decompress_to_scratch(cx, raw, (size_t)h->compressed_size, (size_t)h->uncompressed_size, &pg));
    size_t len = compressed ? (size_t)h->uncompressed_size : (size_t)h->compressed_size;
    HX_TRY(hx_pq_read_dictionary(cx, pg, len, h->num_values));
    if (leaf->conv == CV_BINARY && !leaf->dict && cx->dict_n > 0 && cx->dict_off)
        HX_TRY(presize_from_dict(cx, limit, total_len));
    if (leaf->dict) HX_TRY(copy_dictionary_out(cx));
    return HOIST_OK;
}

/* Pages back to back in chunk, or (pages != NULL) the listed pages one per
 * entry: chunk_len then only bounds the presizing. keep (chunk rows only,
 * flat leaves): only the rows whose byte is 1, kept of them. */
static hx_status decode_leaf(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                             const uint8_t *chunk, size_t chunk_len, const struct hx_pq_page_span *pages, size_t npages,
                             unsigned flags, int64_t rows, const uint8_t *keep, int64_t kept,
                             struct hx_pq_scratch *scratch, struct hx_pq_leaf_data *out) {
    struct hx_pq_colctx cx = {0};
    scratch_lend(&cx, scratch);
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
    cx.keep = keep;
    memset(out, 0, sizeof *out);
    size_t pos = 0, lvl_cap = 0;
    int page_no = 0;
    int64_t limit = cx.max_rep == 0 ? rows : cx.c->num_values;
    hx_status st = HOIST_OK;
    if (keep &&
        (pages || cx.max_rep != 0 || (cx.max_def > 0 && !(flags & HX_PQ_FLAT_LEAF)) || !hx_pq_leaf_keepable(f, leaf)))
        st = hx_error(HOIST_ERR_INTERNAL, "kept-rows decoding of a column it does not support");
    if (st == HOIST_OK) st = presize_outputs(&cx, chunk_len, keep ? kept : limit, &lvl_cap);
    size_t next_span = 0, total_len = chunk_len; /* chunk_len is per entry from here on */
    int64_t span_levels = 0;
    if (pages) pos = chunk_len; /* the first entry is taken below */
    while (st == HOIST_OK &&
           (pages ? pos < chunk_len || next_span < npages : (keep ? cx.rows_seen : out->n_levels) < limit)) {
        if (pages && pos >= chunk_len) {
            if (next_span > 0 && (st = check_span(&cx, &pages[next_span - 1], span_levels)) != HOIST_OK) break;
            chunk = pages[next_span].data, chunk_len = pages[next_span].len;
            pos = 0;
            span_levels = out->n_levels;
            next_span++;
            continue;
        }
        if (pos >= chunk_len) {
            st = CORRUPT("column chunk ends after %lld of %lld values",
                         (long long)(keep ? cx.rows_seen : out->n_levels), (long long)limit);
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
                st = hx_error(HOIST_ERR_PARQUET_CHECKSUM, "page %d: CRC mismatch (stored %08x, computed %08x)", page_no,
                              h.crc, crc);
                break;
            }
        }
        if (h.type == PQP_DICTIONARY && !h.has_dict_header) {
            st = CORRUPT("page %d: dictionary page without its header", page_no);
            break;
        }
        if (h.type == PQP_DICTIONARY) {
            st = dictionary_page(&cx, &h, raw, limit, total_len);
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
    if (st == HOIST_OK && keep && out->n_levels != kept)
        st = CORRUPT("%lld rows kept of the expected %lld", (long long)out->n_levels, (long long)kept);
    colctx_release(&cx, scratch);
    if (st != HOIST_OK) hx_pq_leaf_data_reset(out);
    return st;
}

hx_status hx_pq_decode_leaf(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf, const uint8_t *chunk,
                            size_t chunk_len, unsigned flags, int64_t rows, struct hx_pq_scratch *scratch,
                            struct hx_pq_leaf_data *out) {
    return decode_leaf(f, rg, leaf, chunk, chunk_len, NULL, 0, flags, rows, NULL, 0, scratch, out);
}

hx_status hx_pq_decode_leaf_kept(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                                 const uint8_t *chunk, size_t chunk_len, unsigned flags, int64_t rows,
                                 const uint8_t *keep, int64_t kept, struct hx_pq_scratch *scratch,
                                 struct hx_pq_leaf_data *out) {
    return decode_leaf(f, rg, leaf, chunk, chunk_len, NULL, 0, flags, rows, keep, kept, scratch, out);
}

hx_status hx_pq_decode_leaf_pages(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                                  const struct hx_pq_page_span *pages, size_t npages, unsigned flags,
                                  struct hx_pq_scratch *scratch, struct hx_pq_leaf_data *out) {
    int64_t rows = 0;
    size_t bytes = 0;
    for (size_t i = 0; i < npages; i++) rows += pages[i].rows, bytes += pages[i].len;
    static const uint8_t none[1];
    static const struct hx_pq_page_span no_pages[1];
    return decode_leaf(f, rg, leaf, none, bytes, pages ? pages : no_pages, npages, flags, rows, NULL, 0, scratch, out);
}
