/*
 * pq_write_column.c — one leaf's rows into a column chunk, page by page as
 * they arrive: data pages (v1 or v2) cut at row boundaries near the target
 * size, each with its levels, values, header, statistics and offset-index
 * entry, and at the chunk's end an optional dictionary page (placed before
 * the data pages). Only the encoded pages and the rest of an unfinished
 * page are held, never the row group's values (as Arrow C++'s column
 * writers). The chunk is built in memory with offsets relative to its
 * start; the writer rebases them when it emits the bytes. Deterministic:
 * the bytes depend only on the data, its batches and the options, never
 * on threads.
 */
#include "pq_write_internal.h"

#include <string.h>

void hx_pqw_chunk_reset(struct hx_pqw_chunk *c) {
    hx_buf_reset(&c->bytes);
    hx_buf_reset(&c->dict_page);
    hx_buf_reset(&c->bloom);
    hx_pqw_stats_reset(&c->stats);
    for (size_t i = 0; i < c->npages; i++) {
        hx_free(c->pages[i].min);
        hx_free(c->pages[i].max);
    }
    hx_free(c->pages);
    memset(c, 0, sizeof *c);
}

/* ---- pages ------------------------------------------------------------------ */

struct enc {
    const struct hx_pqw_encode_cfg *cfg;
    const struct hx_pqw_leaf *leaf;
    const struct hx_pqw_leafbuf *b; /* the values paged: the leaf buffer or gathered */
    struct hx_pqw_chunk *out;
    struct hx_pqw_colenc *ce;
    struct hx_pqw_compressor comp;
    int use_dict, dict_bits;
    int value_enc; /* PQE_* of data pages */
    size_t width;  /* fixed-width value bytes */
    struct hx_buf body, levels, comp_buf, header;
    /* entry numbers of b's values: the built dictionary's (ce->idx) or an
     * Arrow dictionary's (b->idx, entries in b->dict, ordered by rank[]
     * for page statistics) */
    const uint32_t *idx;
    int arrow_dict;
    struct hx_pqw_leafbuf gathered; /* an Arrow dictionary buffer made plain */
};

static const uint8_t *entry_at(const struct enc *e, uint32_t i, size_t *len) {
    int ba = e->leaf->node->ptype == PQT_BYTE_ARRAY;
    if (e->arrow_dict) return hx_pqw_value_at(e->b->dict, ba, e->width, i, len);
    return hx_pqw_value_at(&e->ce->dict.entries, ba, e->width, i, len);
}

/* Page bounds of values [v0, v1): an Arrow dictionary's by comparing the
 * ranks of its entries, others from the values. */
/* A built dictionary's page: its bounds are those of the distinct entries
 * it uses, marked in one pass over the indices (a store per value, no
 * comparison), then compared once each. Worth it when the page has well
 * more values than the dictionary entries; NaN entries need the count of
 * NaN values, so a page using one is computed from its values. */
static hx_status built_dict_page_stats(struct enc *e, int64_t v0, int64_t v1, struct hx_pqw_stats *out, int *done) {
    size_t nd = e->ce->dict.n;
    *done = 0;
    if (nd == 0 || (int64_t)nd * 2 > v1 - v0) return HOIST_OK;
    uint8_t *used = hx_calloc(nd, 1);
    uint32_t *which = hx_malloc(nd * sizeof *which);
    if (!used || !which) {
        hx_free(used);
        hx_free(which);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory computing page statistics");
    }
    const uint32_t *idx = e->idx;
    for (int64_t i = v0; i < v1; i++) used[idx[i]] = 1;
    size_t m = 0;
    for (size_t k = 0; k < nd; k++)
        if (used[k]) which[m++] = (uint32_t)k;
    struct hx_pqw_stats s = {0};
    hx_status st = hx_pqw_stats_compute_entries(e->leaf, &e->ce->dict.entries, which, m, &s);
    hx_free(used);
    hx_free(which);
    if (st == HOIST_OK && s.nan_count == 0) {
        *out = s;
        *done = 1;
    } else {
        hx_pqw_stats_reset(&s);
    }
    return st;
}

static hx_status page_stats(struct enc *e, int64_t v0, int64_t v1, struct hx_pqw_stats *out) {
    const int32_t *rank = e->arrow_dict ? e->ce->rank : NULL;
    if (!e->arrow_dict && e->use_dict) {
        int done;
        HX_TRY(built_dict_page_stats(e, v0, v1, out, &done));
        if (done) return HOIST_OK;
    }
    if (!rank) return hx_pqw_stats_compute(e->leaf, e->b, v0, v1, out);
    if (v1 <= v0 || e->leaf->node->order == SO_NONE) return HOIST_OK;
    int32_t lo = -1, hi = -1;
    uint32_t lo_e = 0, hi_e = 0;
    for (int64_t i = v0; i < v1; i++) {
        uint32_t x = e->idx[i];
        int32_t r = rank[x];
        if (r < 0) {
            out->nan_count++;
            continue;
        }
        if (lo < 0 || r < lo) lo = r, lo_e = x;
        if (r > hi) hi = r, hi_e = x;
    }
    if (lo < 0) {
        out->all_nan = 1;
        return HOIST_OK;
    }
    struct hx_pqw_stats a = {0}, b = {0};
    const struct hx_pqw_leafbuf *vals = e->b->dict;
    hx_status st = hx_pqw_stats_compute(e->leaf, vals, lo_e, lo_e + 1, &a);
    if (st == HOIST_OK) st = hx_pqw_stats_compute(e->leaf, vals, hi_e, hi_e + 1, &b);
    if (st == HOIST_OK) {
        out->has_minmax = a.has_minmax && b.has_minmax;
        out->min = a.min, out->min_len = a.min_len, out->min_exact = a.min_exact;
        out->max = b.max, out->max_len = b.max_len, out->max_exact = b.max_exact;
        a.min = b.max = NULL;
    }
    hx_pqw_stats_reset(&a);
    hx_pqw_stats_reset(&b);
    return st;
}

/* all_max: every level is max (a page of a flat column without nulls),
 * known without reading them. */
static hx_status levels_rle(const uint16_t *lv, size_t n, int max, int all_max, int prefix, struct hx_buf *out) {
    size_t at = out->len;
    if (prefix) HX_TRY(hx_buf_append(out, "\0\0\0\0", 4));
    if (all_max) {
        HX_TRY(hx_rle_encode_repeat((uint32_t)max, n, hx_bit_width((uint64_t)max), out));
    } else {
        HX_TRY(hx_rle_encode_u16(lv, n, hx_bit_width((uint64_t)max), out));
    }
    if (prefix) {
        uint32_t len = (uint32_t)(out->len - at - 4);
        memcpy(out->data + at, &len, 4);
    }
    return HOIST_OK;
}

static hx_status plain_values(struct enc *e, int64_t v0, int64_t v1, struct hx_buf *out) {
    const struct hx_pqw_leafbuf *b = e->b;
    size_t n = (size_t)(v1 - v0);
    int ptype = e->leaf->node->ptype;
    if (n == 0) return HOIST_OK; /* a page of nulls: its value buffer may be NULL */
    if (ptype == PQT_BOOLEAN) return hx_plain_bool_encode(b->vals.data + v0, n, out);
    if (ptype != PQT_BYTE_ARRAY) return hx_buf_append(out, b->vals.data + (size_t)v0 * e->width, n * e->width);
    const int64_t *off = (const int64_t *)(const void *)b->offs.data;
    HX_TRY(hx_buf_reserve(out, (size_t)(off[v1] - off[v0]) + 4 * n));
    uint8_t *p = (uint8_t *)out->data + out->len;
    for (int64_t i = v0; i < v1; i++) {
        uint32_t len = (uint32_t)(off[i + 1] - off[i]);
        memcpy(p, &len, 4);
        memcpy(p + 4, b->vals.data + off[i], len);
        p += 4 + len;
    }
    out->len = (size_t)(p - (uint8_t *)out->data);
    return HOIST_OK;
}

static hx_status delta_lengths(const int64_t *off, int64_t v0, int64_t v1, struct hx_buf *out) {
    size_t n = (size_t)(v1 - v0);
    int32_t *len = hx_malloc((n ? n : 1) * sizeof *len);
    if (!len) HX_FAIL(HOIST_ERR_NOMEM, "out of memory encoding lengths");
    for (size_t i = 0; i < n; i++) len[i] = (int32_t)(off[v0 + (int64_t)i + 1] - off[v0 + (int64_t)i]);
    hx_status st = hx_delta_encode_i32(len, n, out);
    hx_free(len);
    return st;
}

/* DELTA_BYTE_ARRAY: prefix lengths shared with the previous value, then
 * the suffixes as DELTA_LENGTH_BYTE_ARRAY (Encodings.md). */
static hx_status delta_byte_array(struct enc *e, int64_t v0, int64_t v1, struct hx_buf *out) {
    const struct hx_pqw_leafbuf *b = e->b;
    int ba = e->leaf->node->ptype == PQT_BYTE_ARRAY;
    size_t n = (size_t)(v1 - v0);
    int32_t *pre = hx_malloc((n ? n : 1) * 2 * sizeof *pre);
    if (!pre) HX_FAIL(HOIST_ERR_NOMEM, "out of memory encoding DELTA_BYTE_ARRAY");
    int32_t *suf = pre + (n ? n : 1);
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *p = hx_pqw_value_at(b, ba, e->width, (uint32_t)(v0 + (int64_t)i), &len);
        size_t k = 0;
        while (prev && k < len && k < prev_len && p[k] == prev[k]) k++;
        pre[i] = (int32_t)k;
        suf[i] = (int32_t)(len - k);
        prev = p;
        prev_len = len;
    }
    hx_status st = hx_delta_encode_i32(pre, n, out);
    if (st == HOIST_OK) st = hx_delta_encode_i32(suf, n, out);
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        size_t len;
        const uint8_t *p = hx_pqw_value_at(b, ba, e->width, (uint32_t)(v0 + (int64_t)i), &len);
        st = hx_buf_append(out, p + pre[i], (size_t)suf[i]);
    }
    hx_free(pre);
    return st;
}

/* base + off, keeping NULL as is: a page of nulls has no value buffer, and
 * NULL + 0 is undefined behaviour in C. */
static const uint8_t *value_ptr(const uint8_t *base, size_t off) { return base ? base + off : base; }

static hx_status encode_values(struct enc *e, int64_t v0, int64_t v1, struct hx_buf *out) {
    const struct hx_pqw_leafbuf *b = e->b;
    size_t n = (size_t)(v1 - v0);
    switch (e->value_enc) {
    case PQE_RLE_DICTIONARY: {
        uint8_t bw = (uint8_t)e->dict_bits;
        HX_TRY(hx_buf_append(out, &bw, 1));
        return hx_rle_encode_u32(e->idx ? e->idx + v0 : NULL, n, e->dict_bits, out);
    }
    case PQE_DELTA_BINARY_PACKED:
        if (e->leaf->node->ptype == PQT_INT32)
            return hx_delta_encode_i32((const int32_t *)(const void *)value_ptr(b->vals.data, (size_t)v0 * 4), n, out);
        return hx_delta_encode_i64((const int64_t *)(const void *)value_ptr(b->vals.data, (size_t)v0 * 8), n, out);
    case PQE_DELTA_LENGTH_BYTE_ARRAY: {
        const int64_t *off = (const int64_t *)(const void *)b->offs.data;
        HX_TRY(delta_lengths(off, v0, v1, out));
        return hx_buf_append(out, value_ptr(b->vals.data, (size_t)off[v0]), (size_t)(off[v1] - off[v0]));
    }
    case PQE_DELTA_BYTE_ARRAY: return delta_byte_array(e, v0, v1, out);
    case PQE_BYTE_STREAM_SPLIT: return hx_bss_encode(value_ptr(b->vals.data, (size_t)v0 * e->width), n, e->width, out);
    default: return plain_values(e, v0, v1, out);
    }
}

static hx_status emit_page(struct enc *e, struct hx_buf *to, const uint8_t *body, size_t body_len,
                           int64_t uncompressed_len) {
    struct hx_pqw_chunk *c = e->out;
    HX_TRY(hx_buf_append(to, e->header.data, e->header.len));
    HX_TRY(hx_buf_append(to, body, body_len));
    c->total_compressed += (int64_t)(e->header.len + body_len);
    c->total_uncompressed += (int64_t)e->header.len + uncompressed_len;
    return HOIST_OK;
}

/* Starts a page header (type, sizes, CRC of the stored body); the caller
 * adds the data or dictionary sub-header and finishes it. */
static hx_status page_header(struct enc *e, int type, int64_t ulen, int64_t clen, const uint8_t *crc_data,
                             size_t crc_len, struct hx_tw *w) {
    HX_FAIL_IF(ulen > INT32_MAX || clen > INT32_MAX, HOIST_ERR_LIMIT,
               "column '%s': a page of %lld bytes is over Parquet's 2 GiB page limit", e->leaf->dotted,
               (long long)ulen);
    e->header.len = 0;
    hx_tw_init(w, &e->header);
    hx_tw_i32(w, 1, type);
    hx_tw_i32(w, 2, (int32_t)ulen);
    hx_tw_i32(w, 3, (int32_t)clen);
    if (e->cfg->o->page_crc) hx_tw_i32(w, 4, (int32_t)hx_crc32(crc_data, crc_len));
    return HOIST_OK;
}

static hx_status dictionary_page(struct enc *e) {
    int ba = e->leaf->node->ptype == PQT_BYTE_ARRAY;
    size_t n = e->arrow_dict ? (size_t)e->b->dict->n_values : e->ce->dict.n;
    e->body.len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *p = entry_at(e, (uint32_t)i, &len);
        if (ba) {
            uint32_t l = (uint32_t)len;
            HX_TRY(hx_buf_append(&e->body, &l, 4));
        }
        HX_TRY(hx_buf_append(&e->body, p, len));
    }
    e->comp_buf.len = 0;
    HX_TRY(hx_pqw_compress(&e->comp, (const uint8_t *)e->body.data, e->body.len, &e->comp_buf));
    struct hx_tw w;
    HX_TRY(page_header(e, PQP_DICTIONARY, (int64_t)e->body.len, (int64_t)e->comp_buf.len,
                       (const uint8_t *)e->comp_buf.data, e->comp_buf.len, &w));
    hx_tw_struct_begin(&w, 7);
    hx_tw_i32(&w, 1, (int32_t)n);
    hx_tw_i32(&w, 2, PQE_PLAIN);
    hx_tw_struct_end(&w);
    HX_TRY(hx_tw_finish(&w));
    e->out->dict_offset = 0; /* before the data pages, which move up at the chunk's end */
    e->out->n_dict_pages = 1;
    e->out->encodings |= 1u << PQE_PLAIN;
    return emit_page(e, &e->out->dict_page, (const uint8_t *)e->comp_buf.data, e->comp_buf.len, (int64_t)e->body.len);
}

static hx_status add_page_entry(struct enc *e, struct hx_pqw_page *pg) {
    struct hx_pqw_chunk *c = e->out;
    if (c->npages == c->page_cap) {
        size_t nc = c->page_cap ? c->page_cap * 2 : 16;
        struct hx_pqw_page *p = hx_realloc(c->pages, nc * sizeof *p);
        if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory recording pages");
        c->pages = p;
        c->page_cap = nc;
    }
    c->pages[c->npages++] = *pg;
    return HOIST_OK;
}

/* One data page of levels [l0, l1) and values [v0, v1), rows from row0. */
static hx_status data_page(struct enc *e, int64_t l0, int64_t l1, int64_t v0, int64_t v1, int64_t row0, int64_t rows) {
    const struct hx_pqw_leaf *leaf = e->leaf;
    const struct hx_pqw_leafbuf *b = e->b;
    const struct hoist_pq_write_options *o = e->cfg->o;
    int v2 = o->page_version == 2;
    size_t nlev = (size_t)(l1 - l0);
    HX_FAIL_IF(nlev > INT32_MAX, HOIST_ERR_LIMIT, "column '%s': a row of %zu values is over a page's 2^31 limit",
               leaf->dotted, nlev);
    e->levels.len = e->body.len = e->comp_buf.len = 0;
    size_t rep_len = 0, def_len = 0;
    if (leaf->max_rep > 0) {
        HX_TRY(levels_rle((const uint16_t *)(const void *)b->rep.data + l0, nlev, leaf->max_rep, 0, !v2, &e->levels));
        rep_len = e->levels.len;
    }
    if (leaf->max_def > 0) {
        /* without repetition a level is max_def exactly when it has a value */
        int all_max = leaf->max_rep == 0 && (size_t)(v1 - v0) == nlev;
        HX_TRY(levels_rle((const uint16_t *)(const void *)b->def.data + l0, nlev, leaf->max_def, all_max, !v2,
                          &e->levels));
        def_len = e->levels.len - rep_len;
    }
    struct hx_buf *vals = v2 ? &e->body : &e->levels; /* v1: one body, compressed whole */
    HX_TRY(encode_values(e, v0, v1, vals));
    int64_t ulen = (int64_t)(e->levels.len + (v2 ? e->body.len : 0));
    const uint8_t *page;
    size_t plen;
    if (v2) {
        HX_TRY(hx_buf_append(&e->comp_buf, e->levels.data, e->levels.len));
        HX_TRY(hx_pqw_compress(&e->comp, (const uint8_t *)e->body.data, e->body.len, &e->comp_buf));
    } else {
        HX_TRY(hx_pqw_compress(&e->comp, (const uint8_t *)e->levels.data, e->levels.len, &e->comp_buf));
    }
    page = (const uint8_t *)e->comp_buf.data;
    plen = e->comp_buf.len;

    struct hx_pqw_page pg = {0};
    pg.first_row = row0;
    pg.null_count = (int64_t)nlev - (v1 - v0);
    pg.null_page = v1 == v0;
    struct hx_pqw_stats st = {0};
    hx_status s = HOIST_OK;
    if (o->statistics) s = page_stats(e, v0, v1, &st);
    st.null_count = pg.null_count;
    if (s == HOIST_OK) s = hx_pqw_stats_merge(leaf->node->order, &e->out->stats, &st);
    if (s == HOIST_OK && st.all_nan) e->out->column_index_ok = 0;

    struct hx_tw w;
    if (s == HOIST_OK) s = page_header(e, v2 ? PQP_DATA_V2 : PQP_DATA, ulen, (int64_t)plen, page, plen, &w);
    if (s == HOIST_OK) {
        /* Page statistics only without a page index (PageIndex.md; as Arrow C++). */
        int page_stats = o->statistics && !o->page_index;
        if (v2) {
            hx_tw_struct_begin(&w, 8);
            hx_tw_i32(&w, 1, (int32_t)nlev);
            hx_tw_i32(&w, 2, (int32_t)pg.null_count);
            hx_tw_i32(&w, 3, (int32_t)rows);
            hx_tw_i32(&w, 4, e->value_enc);
            hx_tw_i32(&w, 5, (int32_t)def_len);
            hx_tw_i32(&w, 6, (int32_t)rep_len);
            hx_tw_bool(&w, 7, e->comp.codec != HX_PQ_UNCOMPRESSED);
            if (page_stats) {
                hx_tw_struct_begin(&w, 8);
                hx_pqw_stats_write(&st, leaf->node->order, &w);
                hx_tw_struct_end(&w);
            }
        } else {
            hx_tw_struct_begin(&w, 5);
            hx_tw_i32(&w, 1, (int32_t)nlev);
            hx_tw_i32(&w, 2, e->value_enc);
            hx_tw_i32(&w, 3, PQE_RLE);
            hx_tw_i32(&w, 4, PQE_RLE);
            if (page_stats) {
                hx_tw_struct_begin(&w, 5);
                hx_pqw_stats_write(&st, leaf->node->order, &w);
                hx_tw_struct_end(&w);
            }
        }
        hx_tw_struct_end(&w);
        s = hx_tw_finish(&w);
    }
    if (s == HOIST_OK) {
        pg.offset = (int64_t)e->out->bytes.len;
        pg.size = (int32_t)(e->header.len + plen);
        if (leaf->node->ptype == PQT_BYTE_ARRAY && e->arrow_dict) {
            for (int64_t i = v0; i < v1; i++) {
                size_t len;
                entry_at(e, e->idx[i], &len);
                pg.unencoded_ba_bytes += (int64_t)len;
            }
        } else if (leaf->node->ptype == PQT_BYTE_ARRAY) {
            const int64_t *off = (const int64_t *)(const void *)b->offs.data;
            pg.unencoded_ba_bytes = off[v1] - off[v0];
        }
        if (e->out->data_offset < 0) e->out->data_offset = pg.offset;
        s = emit_page(e, &e->out->bytes, page, plen, ulen);
    }
    if (s == HOIST_OK) {
        /* the ColumnIndex keeps the page's bounds */
        pg.min = st.min, pg.max = st.max;
        pg.min_len = st.min_len, pg.max_len = st.max_len;
        st.min = st.max = NULL;
        s = add_page_entry(e, &pg);
        if (s != HOIST_OK) {
            hx_free(pg.min);
            hx_free(pg.max);
        }
    }
    hx_pqw_stats_reset(&st);
    if (s == HOIST_OK) {
        e->out->n_data_pages_by_enc[e->value_enc]++;
        e->out->encodings |= 1u << e->value_enc;
        e->out->num_values += (int64_t)nlev;
        e->ce->dict_pages += e->use_dict;
        if (e->ce->bloom && !e->arrow_dict) hx_pqw_bloom_add(leaf, e->ce->bloom, e->ce->bloom_bytes, b, v0, v1);
    }
    return s;
}

/* Bits a value adds to a page, for cutting pages near the target size. */
static int64_t value_bits(const struct enc *e, int64_t v) {
    if (e->use_dict) return e->dict_bits;
    switch (e->leaf->node->ptype) {
    case PQT_BOOLEAN: return 1;
    case PQT_BYTE_ARRAY: {
        const int64_t *off = (const int64_t *)(const void *)e->b->offs.data;
        return (off[v + 1] - off[v] + 4) * 8;
    }
    default: return (int64_t)e->width * 8;
    }
}

/* Cuts b into pages and encodes them. Unless final, a last page that is
 * not full stays for the rows still to come: *used_* say how much was
 * paged. rows0: the chunk's rows before b's first. */
static hx_status pages(struct enc *e, int final, int64_t rows0, int64_t *used_l, int64_t *used_v, int64_t *used_r) {
    const struct hx_pqw_leafbuf *b = e->b;
    const uint16_t *rep = e->leaf->max_rep ? (const uint16_t *)(const void *)b->rep.data : NULL;
    const uint16_t *def = e->leaf->max_def && !b->def_all_max ? (const uint16_t *)(const void *)b->def.data : NULL;
    int max_def = e->leaf->max_def;
    int64_t limit = e->cfg->o->page_bytes * 8, max_rows = e->cfg->page_rows;
    int64_t l = 0, v = 0, row = 0;
    int fixed_bits = e->use_dict || e->leaf->node->ptype != PQT_BYTE_ARRAY;
    int64_t fb = fixed_bits ? value_bits(e, 0) : 0;
    *used_l = *used_v = *used_r = 0;
    if (!rep && fixed_bits) {
        /* one level per row and a known size per value: count, don't add */
        int64_t kmax = (limit + fb - 1) / fb;
        while (l < b->n_levels) {
            int64_t l0 = l, v0 = v, end = b->n_levels - l < max_rows ? b->n_levels : l + max_rows, k = 0;
            if (!def) {
                k = end - l < kmax ? end - l : kmax;
                l += k;
            } else {
                for (; l < end && k < kmax; l++) k += def[l] == max_def;
            }
            v += k;
            if (!final && k < kmax && l - l0 < max_rows) break; /* not full: wait for more rows */
            HX_TRY(data_page(e, l0, l, v0, v, rows0 + l0, l - l0));
            *used_l = *used_r = l, *used_v = v;
        }
        return HOIST_OK;
    }
    while (l < b->n_levels) {
        int64_t l0 = l, v0 = v, r0 = row, rows = 0, bits = 0;
        while (l < b->n_levels) {
            if (!rep || rep[l] == 0) {
                if (rows > 0 && (bits >= limit || rows >= max_rows)) break;
                rows++;
            }
            if (!def || def[l] == max_def) {
                bits += fixed_bits ? fb : value_bits(e, v);
                v++;
            }
            l++;
        }
        /* b ends at a row boundary: the page is full if that row closed it */
        if (!final && l == b->n_levels && !(bits >= limit || rows >= max_rows)) break;
        HX_TRY(data_page(e, l0, l, v0, v, rows0 + r0, rows));
        row += rows;
        *used_l = l, *used_v = v, *used_r = row;
    }
    return HOIST_OK;
}

static int value_encoding(const struct hx_pqw_leaf *leaf) {
    switch (leaf->opt.encoding) {
    case PQW_ENC_DELTA_BINARY_PACKED: return PQE_DELTA_BINARY_PACKED;
    case PQW_ENC_DELTA_LENGTH_BYTE_ARRAY: return PQE_DELTA_LENGTH_BYTE_ARRAY;
    case PQW_ENC_DELTA_BYTE_ARRAY: return PQE_DELTA_BYTE_ARRAY;
    case PQW_ENC_BYTE_STREAM_SPLIT: return PQE_BYTE_STREAM_SPLIT;
    default: return PQE_PLAIN;
    }
}

void hx_pqw_scratch_free(struct hx_pqw_scratch *s) {
    hx_buf_reset(&s->body);
    hx_buf_reset(&s->levels);
    hx_buf_reset(&s->comp_buf);
    hx_buf_reset(&s->header);
    hx_pqw_compressor_free(&s->comp);
    memset(s, 0, sizeof *s);
}

void hx_pqw_colenc_begin(struct hx_pqw_colenc *e, const struct hx_pqw_leaf *leaf, struct hx_pqw_chunk *out) {
    memset(out, 0, sizeof *out);
    out->dict_offset = -1;
    out->data_offset = -1;
    out->codec = leaf->opt.codec;
    out->column_index_ok = 1;
    out->encodings = 1u << PQE_RLE;
    out->unencoded_ba_bytes = leaf->node->ptype == PQT_BYTE_ARRAY ? 0 : -1;
    e->out = out;
    e->dict_state = PQW_DICT_UNDECIDED;
    e->hashed = 0;
    e->dict_pages = 0;
    e->rows = 0;
    e->raw_bytes = 0;
}

void hx_pqw_colenc_free(struct hx_pqw_colenc *e) {
    hx_pqw_dict_free(&e->dict);
    hx_free(e->idx);
    hx_free(e->rank);
    hx_free(e->bloom);
    memset(e, 0, sizeof *e);
}

/* The encoder of one call: the scratch's buffers and compression contexts,
 * moved in (and back out by enc_close). */
static void enc_open(struct enc *e, const struct hx_pqw_encode_cfg *cfg, const struct hx_pqw_leaf *leaf,
                     struct hx_pqw_colenc *ce, const struct hx_pqw_leafbuf *b, struct hx_pqw_scratch *scr) {
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    e->leaf = leaf;
    e->b = b;
    e->out = ce->out;
    e->ce = ce;
    int pt = leaf->node->ptype;
    e->width = pt == PQT_FLBA                       ? (size_t)leaf->node->type_length
               : pt == PQT_INT32 || pt == PQT_FLOAT ? 4
               : pt == PQT_BOOLEAN                  ? 1
                                                    : 8;
    /* a context made for an earlier call serves this one: zstd's is set
     * again when this leaf's level differs; a libdeflate compressor is
     * made for one level */
    hx_pqw_compressor_init(&e->comp, leaf->opt.codec, leaf->opt.level);
    e->comp.zstd = scr->comp.zstd;
    e->comp.zstd_level = scr->comp.zstd_level;
    if (scr->comp.level == leaf->opt.level)
        e->comp.deflate = scr->comp.deflate;
    else if (scr->comp.deflate)
        hx_pqw_compressor_free(&(struct hx_pqw_compressor){.deflate = scr->comp.deflate});
    memset(&scr->comp, 0, sizeof scr->comp);
    e->body = scr->body;
    e->levels = scr->levels;
    e->comp_buf = scr->comp_buf;
    e->header = scr->header;
}

static void enc_close(struct enc *e, struct hx_pqw_scratch *scr) {
    memset(&e->gathered.def, 0, sizeof e->gathered.def); /* borrowed from the leaf buffer */
    memset(&e->gathered.rep, 0, sizeof e->gathered.rep);
    hx_pqw_leafbuf_reset(&e->gathered);
    scr->comp = e->comp;
    scr->body = e->body;
    scr->levels = e->levels;
    scr->comp_buf = e->comp_buf;
    scr->header = e->header;
}

/* The chunk's encoding, decided by its first values: the input's Arrow
 * dictionary when it fits, a dictionary built here when the leaf wants
 * one, else the leaf's value encoding. */
static hx_status decide(const struct hx_pqw_encode_cfg *cfg, const struct hx_pqw_leaf *leaf, struct hx_pqw_colenc *ce,
                        const struct hx_pqw_leafbuf *b) {
    if (b->dict_mode) {
        int ba = leaf->node->ptype == PQT_BYTE_ARRAY;
        int64_t plain = (int64_t)b->dict->vals.len + (ba ? 4 * b->dict->n_values : 0);
        if (plain <= cfg->o->dict_page_bytes && b->dict->n_values > 0 && b->dict->n_values <= INT32_MAX) {
            HX_TRY(hx_pqw_dict_rank(leaf, b->dict, &ce->rank));
            ce->dict_state = PQW_DICT_ARROW;
        } else {
            ce->dict_state = PQW_DICT_OFF; /* too large a dictionary: plain values */
        }
    } else {
        ce->dict_state = leaf->opt.dictionary ? PQW_DICT_BUILD : PQW_DICT_OFF;
    }
    if (leaf->opt.bloom_fpp > 0 && !ce->bloom) HX_TRY(hx_pqw_bloom_new(leaf, &ce->bloom, &ce->bloom_bytes));
    return HOIST_OK;
}

/* The dictionary ends (passed its limit, or the input's changed): its
 * pages stay and the rest of the chunk is plain, or, when no page used it
 * yet, the whole chunk is plain. */
static void dict_end(struct hx_pqw_colenc *ce) {
    ce->dict_state = ce->dict_pages > 0 ? PQW_DICT_DONE : PQW_DICT_OFF;
    if (ce->dict_state == PQW_DICT_OFF) hx_pqw_dict_clear(&ce->dict);
    ce->hashed = 0;
}

/* Looks up b's values not yet in the dictionary. */
static hx_status dict_lookup(const struct hx_pqw_encode_cfg *cfg, const struct hx_pqw_leaf *leaf,
                             struct hx_pqw_colenc *ce, const struct hx_pqw_leafbuf *b) {
    if (ce->idx_cap < (size_t)b->n_values) {
        size_t cap = (size_t)b->n_values + (size_t)b->n_values / 2;
        uint32_t *x = hx_realloc(ce->idx, cap * sizeof *x);
        if (!x) HX_FAIL(HOIST_ERR_NOMEM, "out of memory for %lld dictionary indices", (long long)b->n_values);
        ce->idx = x;
        ce->idx_cap = cap;
    }
    /* the chunk's values, at most: as many as the row group's rows (more
     * for a nested leaf, which has at least as many as it has shown) */
    int64_t expect = ce->dict.seen + (b->n_values - ce->hashed);
    if (expect < cfg->o->row_group_rows) expect = cfg->o->row_group_rows;
    int64_t taken;
    HX_TRY(hx_pqw_dict_add(leaf, b, ce->hashed, b->n_values, cfg->o->dict_page_bytes, expect, &ce->dict,
                           ce->idx + ce->hashed, &taken));
    ce->hashed += taken;
    if (ce->hashed < b->n_values) dict_end(ce);
    return HOIST_OK;
}

/* The chunk's end: an empty chunk's one page, the dictionary page, the
 * bloom filter, null count and boundary order. */
static hx_status chunk_end(struct enc *e) {
    struct hx_pqw_colenc *ce = e->ce;
    struct hx_pqw_chunk *out = e->out;
    const struct hx_pqw_leaf *leaf = e->leaf;
    const struct hoist_pq_write_options *o = e->cfg->o;
    if (out->npages == 0) HX_TRY(data_page(e, 0, 0, 0, 0, ce->rows, 0));
    if (ce->dict_pages > 0) {
        e->arrow_dict = ce->dict_state == PQW_DICT_ARROW || (ce->dict_state == PQW_DICT_DONE && ce->rank);
        HX_TRY(dictionary_page(e));
        /* the data pages follow the dictionary page */
        int64_t shift = (int64_t)out->dict_page.len;
        out->data_offset += shift;
        for (size_t i = 0; i < out->npages; i++) out->pages[i].offset += shift;
        if (ce->bloom && e->arrow_dict)
            hx_pqw_bloom_add(leaf, ce->bloom, ce->bloom_bytes, e->b->dict, 0, e->b->dict->n_values);
    }
    if (ce->bloom) HX_TRY(hx_pqw_bloom_write(ce->bloom, ce->bloom_bytes, &out->bloom));
    out->stats.null_count = 0;
    for (size_t i = 0; i < out->npages; i++) out->stats.null_count += out->pages[i].null_count;
    if (!o->statistics) out->column_index_ok = 0;
    /* boundary order over non-null pages (PageIndex.md; AC-PI DetermineBoundaryOrder) */
    int asc = 1, desc = 1;
    const struct hx_pqw_page *prev = NULL;
    for (size_t i = 0; i < out->npages; i++) {
        const struct hx_pqw_page *p = &out->pages[i];
        if (p->null_page || !p->min) continue;
        if (prev) {
            enum hx_pqw_order ord = leaf->node->order;
            if (hx_pqw_compare(ord, p->min, p->min_len, prev->min, prev->min_len) < 0 ||
                hx_pqw_compare(ord, p->max, p->max_len, prev->max, prev->max_len) < 0)
                asc = 0;
            if (hx_pqw_compare(ord, p->min, p->min_len, prev->min, prev->min_len) > 0 ||
                hx_pqw_compare(ord, p->max, p->max_len, prev->max, prev->max_len) > 0)
                desc = 0;
        }
        prev = p;
    }
    out->boundary_order = leaf->node->order == SO_NONE ? 0 : asc ? 1 : desc ? 2 : 0;
    return HOIST_OK;
}

/* Ready for the leaf's next chunk (the dictionary's small tables stay). */
static void colenc_reset(struct hx_pqw_colenc *ce) {
    hx_pqw_dict_clear(&ce->dict);
    hx_free(ce->rank);
    ce->rank = NULL;
    if (ce->bloom) memset(ce->bloom, 0, ce->bloom_bytes);
    ce->dict_state = PQW_DICT_UNDECIDED;
    ce->hashed = 0;
    ce->dict_pages = 0;
    ce->rows = 0;
}

hx_status hx_pqw_colenc_feed(const struct hx_pqw_encode_cfg *cfg, const struct hx_pqw_leaf *leaf,
                             struct hx_pqw_colenc *ce, struct hx_pqw_leafbuf *b, struct hx_pqw_scratch *scr,
                             int final) {
    hx_status st = HOIST_OK;
    if (ce->dict_state == PQW_DICT_UNDECIDED && (b->n_levels > 0 || final)) st = decide(cfg, leaf, ce, b);
    /* an Arrow dictionary that changed within the row group: plain from here */
    if (st == HOIST_OK && ce->dict_state == PQW_DICT_ARROW && !b->dict_mode) dict_end(ce);
    if (st == HOIST_OK && ce->dict_state == PQW_DICT_BUILD) st = dict_lookup(cfg, leaf, ce, b);
    struct enc e;
    enc_open(&e, cfg, leaf, ce, b, scr);
    if (st == HOIST_OK && b->dict_mode && ce->dict_state != PQW_DICT_ARROW) {
        /* an Arrow dictionary written as plain values: gather them */
        st = hx_pqw_leafbuf_gather(leaf, b, &e.gathered);
        /* levels stay the leaf buffer's (borrowed, dropped before reset) */
        e.gathered.def = b->def;
        e.gathered.def_all_max = b->def_all_max;
        e.gathered.rep = b->rep;
        e.gathered.n_levels = b->n_levels;
        e.gathered.n_rows = b->n_rows;
        e.b = &e.gathered;
    }
    if (ce->dict_state == PQW_DICT_ARROW) {
        e.arrow_dict = e.use_dict = 1;
        e.idx = (const uint32_t *)(const void *)b->idx.data;
        e.dict_bits = b->dict->n_values > 1 ? hx_bit_width((uint64_t)b->dict->n_values - 1) : 1;
    } else if (ce->dict_state == PQW_DICT_BUILD && ce->dict.n > 0) {
        e.use_dict = 1;
        e.idx = ce->idx;
        e.dict_bits = ce->dict.n > 1 ? hx_bit_width(ce->dict.n - 1) : 1;
    }
    e.value_enc = e.use_dict ? PQE_RLE_DICTIONARY : value_encoding(leaf);
    int64_t ul = 0, uv = 0, ur = 0;
    /* a dictionary still on trial: its values wait (it is judged as value
     * HX_PQW_DICT_SETTLED + 1 is looked up) */
    int hold = !final && ce->dict_state == PQW_DICT_BUILD && ce->dict.seen <= HX_PQW_DICT_SETTLED;
    if (st == HOIST_OK && !hold) st = pages(&e, final, ce->rows, &ul, &uv, &ur);
    if (st == HOIST_OK) {
        hx_pqw_leafbuf_drop_front(b, ul, uv, ur);
        if (ce->dict_state == PQW_DICT_BUILD && uv > 0) { /* no values yet: no index array either */
            memmove(ce->idx, ce->idx + uv, (size_t)(ce->hashed - uv) * sizeof *ce->idx);
            ce->hashed -= uv;
        }
        ce->rows += ur;
    }
    if (st == HOIST_OK && final) {
        e.b = b; /* the Arrow dictionary's entries, if any, for its page */
        st = chunk_end(&e);
    }
    enc_close(&e, scr);
    if (final && st == HOIST_OK) colenc_reset(ce);
    if (st != HOIST_OK) st = hx_error_prefix(st, "column '%s'", leaf->dotted);
    return st;
}

/* ---- page index structures --------------------------------------------------- */

hx_status hx_pqw_column_index(const struct hx_pqw_chunk *c, const struct hx_pqw_leaf *leaf, struct hx_buf *out) {
    (void)leaf;
    struct hx_tw w;
    hx_tw_init(&w, out);
    uint32_t n = (uint32_t)c->npages;
    hx_tw_list_begin(&w, 1, HX_TC_TRUE, n);
    for (size_t i = 0; i < c->npages; i++) hx_tw_elem_bool(&w, c->pages[i].null_page);
    hx_tw_list_begin(&w, 2, HX_TC_BINARY, n);
    for (size_t i = 0; i < c->npages; i++)
        hx_tw_elem_binary(&w, c->pages[i].null_page ? (const uint8_t *)"" : c->pages[i].min,
                          c->pages[i].null_page ? 0 : c->pages[i].min_len);
    hx_tw_list_begin(&w, 3, HX_TC_BINARY, n);
    for (size_t i = 0; i < c->npages; i++)
        hx_tw_elem_binary(&w, c->pages[i].null_page ? (const uint8_t *)"" : c->pages[i].max,
                          c->pages[i].null_page ? 0 : c->pages[i].max_len);
    hx_tw_i32(&w, 4, c->boundary_order);
    hx_tw_list_begin(&w, 5, HX_TC_I64, n);
    for (size_t i = 0; i < c->npages; i++) hx_tw_elem_i64(&w, c->pages[i].null_count);
    return hx_tw_finish(&w);
}

hx_status hx_pqw_offset_index(const struct hx_pqw_chunk *c, struct hx_buf *out) {
    struct hx_tw w;
    hx_tw_init(&w, out);
    hx_tw_list_begin(&w, 1, HX_TC_STRUCT, (uint32_t)c->npages);
    for (size_t i = 0; i < c->npages; i++) {
        hx_tw_elem_struct_begin(&w);
        hx_tw_i64(&w, 1, c->pages[i].offset);
        hx_tw_i32(&w, 2, c->pages[i].size);
        hx_tw_i64(&w, 3, c->pages[i].first_row);
        hx_tw_struct_end(&w);
    }
    if (c->unencoded_ba_bytes >= 0) {
        hx_tw_list_begin(&w, 2, HX_TC_I64, (uint32_t)c->npages);
        for (size_t i = 0; i < c->npages; i++) hx_tw_elem_i64(&w, c->pages[i].unencoded_ba_bytes);
    }
    return hx_tw_finish(&w);
}
