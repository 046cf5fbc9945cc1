/* The page index (parquet-format PageIndex.md): every column chunk's
 * OffsetIndex (where each data page is and its first row) and ColumnIndex
 * (per-page min/max/null counts), and decoding selected rows of a field from
 * only the pages that hold them. */
#include "parquet_internal.h"

#include <stdlib.h>
#include <string.h>

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

struct pi_chunk {
    int has_oi;
    size_t first, npages;          /* into index->pages */
    uint64_t chunk_off, chunk_len; /* hx_pq_chunk_range */
};

struct hoist_pq_page_index {
    const struct hoist_pq_file *file;
    uint8_t *bytes;          /* copy of the page index range: byte statistics point here */
    struct pi_chunk *chunks; /* [row group * nleaves + leaf] */
    struct hoist_pq_page *pages;
    size_t npages;
};

static const char *leaf_name(const struct hoist_pq_file *f, int leaf) {
    const char *n = f->elements[f->leaves[leaf].element].name;
    return n ? n : "?";
}

/* One index structure's bytes per ColumnChunk fields 4-7; *len = 0 when the
 * chunk has none. */
static hx_status struct_span(const struct hoist_pq_file *f, int rg, int leaf, int64_t off, int64_t len,
                             const char *what, uint64_t *o, uint64_t *l) {
    *o = *l = 0;
    if ((off == -1 && len == -1) || len == 0) return HOIST_OK;
    HX_FAIL_IF(off < 4 || len < 0 || (uint64_t)off > f->file_size || (uint64_t)len > f->file_size - (uint64_t)off,
               HOIST_ERR_PARQUET_CORRUPT,
               "%s: row group %d, column '%s': %s [%lld, +%lld) lies outside the %llu-byte file", f->name, rg,
               leaf_name(f, leaf), what, (long long)off, (long long)len, (unsigned long long)f->file_size);
    *o = (uint64_t)off;
    *l = (uint64_t)len;
    return HOIST_OK;
}

static hx_status chunk_spans(const struct hoist_pq_file *f, int rg, int leaf, uint64_t *oi_off, uint64_t *oi_len,
                             uint64_t *ci_off, uint64_t *ci_len) {
    const struct hx_pq_chunk *c = &f->row_groups[rg].chunks[leaf];
    HX_TRY(struct_span(f, rg, leaf, c->offset_index_offset, c->offset_index_length, "offset index", oi_off, oi_len));
    return struct_span(f, rg, leaf, c->column_index_offset, c->column_index_length, "column index", ci_off, ci_len);
}

hx_status hoist_pq_file_page_index_range(const struct hoist_pq_file *f, uint64_t *offset, uint64_t *length) {
    HX_FAIL_IF(!f || !offset || !length, HOIST_ERR_INVALID_ARG, "hoist_pq_file_page_index_range: NULL argument");
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int rg = 0; rg < f->nrow_groups; rg++)
        for (int leaf = 0; leaf < f->nleaves; leaf++) {
            uint64_t o[2], l[2];
            HX_TRY(chunk_spans(f, rg, leaf, &o[0], &l[0], &o[1], &l[1]));
            for (int k = 0; k < 2; k++) {
                if (!l[k]) continue;
                if (o[k] < lo) lo = o[k];
                if (o[k] + l[k] > hi) hi = o[k] + l[k];
            }
        }
    *offset = hi ? lo : 0;
    *length = hi ? hi - lo : 0;
    return HOIST_OK;
}

/* ---- Thrift -------------------------------------------------------------- */

/* OffsetIndex {1: list<PageLocation {1: offset, 2: compressed_page_size,
 * 3: first_row_index}>}: appends the chunk's pages to *pages. */
static hx_status parse_offset_index(const uint8_t *p, size_t len, struct hoist_pq_page **pages, size_t *n,
                                    size_t *cap) {
    struct hx_tc tc;
    hx_tc_init(&tc, p, len);
    int16_t last;
    int got_list = 0;
    HX_TRY(hx_tc_struct_begin(&tc, &last));
    for (;;) {
        int t;
        int16_t id;
        HX_TRY(hx_tc_field(&tc, &last, &t, &id));
        if (t == HX_TC_STOP) break;
        if (id != 1 || t != HX_TC_LIST || got_list) {
            HX_TRY(hx_tc_skip(&tc, t));
            continue;
        }
        got_list = 1;
        int et;
        uint32_t cnt;
        HX_TRY(hx_tc_list(&tc, &et, &cnt));
        HX_FAIL_IF(et != HX_TC_STRUCT, HOIST_ERR_PARQUET_CORRUPT, "offset index: page locations are not structs");
        if (*n + cnt > *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            while (nc < *n + cnt) nc *= 2;
            struct hoist_pq_page *np = hx_realloc(*pages, nc * sizeof *np);
            if (!np) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the page index");
            *pages = np;
            *cap = nc;
        }
        for (uint32_t i = 0; i < cnt; i++) {
            struct hoist_pq_page *pg = &(*pages)[*n + i];
            memset(pg, 0, sizeof *pg);
            int64_t v[3] = {0, 0, 0};
            int got = 0;
            int16_t l2;
            HX_TRY(hx_tc_struct_begin(&tc, &l2));
            for (;;) {
                int t2;
                int16_t id2;
                HX_TRY(hx_tc_field(&tc, &l2, &t2, &id2));
                if (t2 == HX_TC_STOP) break;
                if (id2 >= 1 && id2 <= 3 && (t2 == HX_TC_I8 || t2 == HX_TC_I16 || t2 == HX_TC_I32 || t2 == HX_TC_I64)) {
                    HX_TRY(hx_tc_int(&tc, t2, &v[id2 - 1]));
                    got |= 1 << (id2 - 1);
                } else {
                    HX_TRY(hx_tc_skip(&tc, t2));
                }
            }
            hx_tc_struct_end(&tc);
            HX_FAIL_IF(got != 7, HOIST_ERR_PARQUET_CORRUPT, "offset index: page %u lacks a required field", i);
            HX_FAIL_IF(v[0] < 0 || v[1] <= 0 || v[1] > INT32_MAX || v[2] < 0, HOIST_ERR_PARQUET_CORRUPT,
                       "offset index: page %u has offset %lld, size %lld, first row %lld", i, (long long)v[0],
                       (long long)v[1], (long long)v[2]);
            pg->offset = (uint64_t)v[0];
            pg->length = (uint64_t)v[1];
            pg->first_row = v[2];
        }
        *n += cnt;
    }
    hx_tc_struct_end(&tc);
    HX_FAIL_IF(!got_list, HOIST_ERR_PARQUET_CORRUPT, "offset index without page locations");
    return HOIST_OK;
}

/* The chunk's pages must tile its rows and lie, in order, inside it. */
static hx_status check_pages(struct hoist_pq_page *pg, size_t n, int64_t rows, uint64_t chunk_off, uint64_t chunk_len) {
    HX_FAIL_IF(n == 0 && rows > 0, HOIST_ERR_PARQUET_CORRUPT, "offset index lists no pages for %lld rows",
               (long long)rows);
    for (size_t i = 0; i < n; i++) {
        HX_FAIL_IF(pg[i].offset < chunk_off || pg[i].length > chunk_len ||
                       pg[i].offset - chunk_off > chunk_len - pg[i].length,
                   HOIST_ERR_PARQUET_CORRUPT,
                   "offset index: page %zu [%llu, +%llu) lies outside the column chunk [%llu, +%llu)", i,
                   (unsigned long long)pg[i].offset, (unsigned long long)pg[i].length, (unsigned long long)chunk_off,
                   (unsigned long long)chunk_len);
        if (i == 0) {
            HX_FAIL_IF(pg[0].first_row != 0, HOIST_ERR_PARQUET_CORRUPT,
                       "offset index: the first page starts at row %lld, not 0", (long long)pg[0].first_row);
        } else {
            HX_FAIL_IF(pg[i].offset < pg[i - 1].offset + pg[i - 1].length, HOIST_ERR_PARQUET_CORRUPT,
                       "offset index: page %zu at %llu overlaps or precedes page %zu", i,
                       (unsigned long long)pg[i].offset, i - 1);
            HX_FAIL_IF(pg[i].first_row <= pg[i - 1].first_row, HOIST_ERR_PARQUET_CORRUPT,
                       "offset index: page %zu starts at row %lld, not after page %zu (row %lld)", i,
                       (long long)pg[i].first_row, i - 1, (long long)pg[i - 1].first_row);
        }
        HX_FAIL_IF(pg[i].first_row >= rows && !(rows == 0 && i == 0), HOIST_ERR_PARQUET_CORRUPT,
                   "offset index: page %zu starts at row %lld of a %lld-row row group", i, (long long)pg[i].first_row,
                   (long long)rows);
        pg[i].num_rows = (i + 1 < n ? pg[i + 1].first_row : rows) - pg[i].first_row;
        pg[i].stats.num_values = pg[i].num_rows;
    }
    return HOIST_OK;
}

/* Writers with statistics off have written ColumnIndexes calling every page
 * null (parquet-mr: datapage_v1-*-checksum.parquet). A page wrongly called
 * null would make a reader skip rows, so the null claims must agree with the
 * schema, the null counts and the chunk's null count, or the chunk's
 * ColumnIndex is not used at all. */
static int trust_nulls(const struct hoist_pq_file *f, const struct hx_pq_anode *a, const struct hx_pq_chunk *c,
                       const struct hoist_pq_page *pg, size_t n, const uint8_t *null_page, int has_nc) {
    int any_null = 0, nc_known = has_nc;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        any_null |= null_page[i];
        if (has_nc && !pg[i].stats.has_null_count) nc_known = 0;
        if (has_nc && pg[i].stats.has_null_count) {
            if (pg[i].stats.null_count > pg[i].num_rows) return 0;
            if (null_page[i] && pg[i].stats.null_count != pg[i].num_rows) return 0;
            sum += pg[i].stats.null_count;
        }
    }
    if (any_null && f->leaves[a->leaf].max_def == 0) return 0;
    if (any_null && !nc_known) return 0;
    if (nc_known && c->stats.present && c->stats.has_null_count && c->stats.null_count != sum) return 0;
    return 1;
}

/* ColumnIndex {1: null_pages, 2: min_values, 3: max_values, 4: boundary_order,
 * 5: null_counts}: each list has one entry per page of the OffsetIndex. With
 * `a` (a flat field's leaf) the pages get statistics. */
static hx_status parse_column_index(const struct hoist_pq_file *f, const struct hx_pq_anode *a,
                                    const struct hx_pq_chunk *c, const uint8_t *p, size_t len, struct hoist_pq_page *pg,
                                    size_t n) {
    struct hx_tc tc;
    hx_tc_init(&tc, p, len);
    const uint8_t **mn = hx_calloc(n ? 2 * n : 1, sizeof *mn);
    size_t *mnl = hx_calloc(n ? 2 * n : 1, sizeof *mnl);
    uint8_t *null_page = hx_calloc(n ? n : 1, 1);
    if (!mn || !mnl || !null_page) {
        hx_free(mn);
        hx_free(mnl);
        hx_free(null_page);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the page index");
    }
    const uint8_t **mx = mn + n;
    size_t *mxl = mnl + n;
    int got = 0, has_nc = 0;
    hx_status st = HOIST_OK;
    int16_t last;
#define CI_TRY(expr)                                                                                                   \
    do {                                                                                                               \
        st = (expr);                                                                                                   \
        if (st != HOIST_OK) goto done;                                                                                 \
    } while (0)
    CI_TRY(hx_tc_struct_begin(&tc, &last));
    for (;;) {
        int t;
        int16_t id;
        CI_TRY(hx_tc_field(&tc, &last, &t, &id));
        if (t == HX_TC_STOP) break;
        if (t != HX_TC_LIST || id < 1 || id == 4 || id > 5) {
            if (id == 4) got |= 1 << 3;
            CI_TRY(hx_tc_skip(&tc, t));
            continue;
        }
        int et;
        uint32_t cnt;
        CI_TRY(hx_tc_list(&tc, &et, &cnt));
        if (cnt != n) {
            st = CORRUPT("column index lists %u entries in field %d for the offset index's %zu pages", cnt, id, n);
            goto done;
        }
        if ((id == 1 && et != HX_TC_TRUE && et != HX_TC_FALSE) || ((id == 2 || id == 3) && et != HX_TC_BINARY) ||
            (id == 5 && et != HX_TC_I8 && et != HX_TC_I16 && et != HX_TC_I32 && et != HX_TC_I64)) {
            st = CORRUPT("column index: field %d has element type %d", id, et);
            goto done;
        }
        got |= 1 << (id - 1);
        for (uint32_t i = 0; i < cnt; i++) {
            if (id == 1) {
                if (tc.p >= tc.end) {
                    st = CORRUPT("column index: truncated null_pages");
                    goto done;
                }
                null_page[i] = *tc.p++ == 1; /* compact protocol list<bool>: 1 = true */
            } else if (id == 2) {
                CI_TRY(hx_tc_binary(&tc, &mn[i], &mnl[i]));
            } else if (id == 3) {
                CI_TRY(hx_tc_binary(&tc, &mx[i], &mxl[i]));
            } else {
                int64_t v;
                CI_TRY(hx_tc_int(&tc, et, &v));
                pg[i].stats.has_null_count = v >= 0;
                pg[i].stats.null_count = v;
                has_nc = 1;
            }
        }
    }
    hx_tc_struct_end(&tc);
    if ((got & 7) != 7) {
        st = CORRUPT("column index lacks null_pages, min_values or max_values");
        goto done;
    }
    if (a && !trust_nulls(f, a, c, pg, n, null_page, has_nc)) {
        for (size_t i = 0; i < n; i++) pg[i].stats.has_null_count = 0, pg[i].stats.null_count = 0;
        goto done; /* kind NONE, no null pages */
    }
    for (size_t i = 0; i < n; i++) {
        struct hoist_pq_stats *s = &pg[i].stats;
        if (!has_nc) s->has_null_count = 0;
        pg[i].null_page = null_page[i];
        if (!a) continue;
        if (null_page[i]) {
            s->has_null_count = 1;
            s->null_count = pg[i].num_rows;
            continue;
        }
        /* Like min_value/max_value, the ColumnIndex follows the ColumnOrder:
         * without one its order is undefined. */
        if (f->has_column_orders) CI_TRY(hx_pq_stats_convert(f, a, mn[i], mnl[i], mx[i], mxl[i], s));
    }
#undef CI_TRY
done:
    hx_free(mn);
    hx_free(mnl);
    hx_free(null_page);
    return st;
}

/* ---- the index ------------------------------------------------------------ */

void hoist_pq_page_index_free(struct hoist_pq_page_index *idx) {
    if (!idx) return;
    hx_free(idx->bytes);
    hx_free(idx->chunks);
    hx_free(idx->pages);
    hx_free(idx);
}

/* The top-level leaf field of each leaf, or NULL when the leaf is part of a
 * nested field (its pages get no statistics). */
static const struct hx_pq_anode *flat_anode(const struct hoist_pq_file *f, int leaf) {
    for (int i = 0; i < f->root.nchildren; i++) {
        const struct hx_pq_anode *a = &f->root.children[i];
        if (leaf >= a->first_leaf && leaf < a->first_leaf + a->n_leaves) return a->kind == AN_LEAF ? a : NULL;
    }
    return NULL;
}

static hx_status index_chunk(struct hoist_pq_page_index *idx, int rg, int leaf, uint64_t base, size_t *cap) {
    const struct hoist_pq_file *f = idx->file;
    struct pi_chunk *pc = &idx->chunks[(size_t)rg * (size_t)f->nleaves + (size_t)leaf];
    uint64_t oo, ol, co, cl;
    HX_TRY(chunk_spans(f, rg, leaf, &oo, &ol, &co, &cl));
    if (!ol) return HOIST_OK; /* a ColumnIndex alone locates no pages */
    HX_TRY(hx_pq_chunk_range(f, rg, leaf, &pc->chunk_off, &pc->chunk_len));
    size_t n0 = idx->npages, n = n0;
    pc->first = n0;
    hx_status st = parse_offset_index(idx->bytes + (oo - base), (size_t)ol, &idx->pages, &n, cap);
    if (st == HOIST_OK) {
        idx->npages = n;
        pc->npages = n - n0;
        st = check_pages(idx->pages + n0, pc->npages, f->row_groups[rg].num_rows, pc->chunk_off, pc->chunk_len);
    }
    if (st != HOIST_OK) return st;
    pc->has_oi = 1;
    if (cl)
        HX_TRY(parse_column_index(f, flat_anode(f, leaf), &f->row_groups[rg].chunks[leaf], idx->bytes + (co - base),
                                  (size_t)cl, idx->pages + n0, pc->npages));
    return HOIST_OK;
}

hx_status hoist_pq_page_index_new(const struct hoist_pq_file *f, const void *bytes, uint64_t bytes_offset,
                                  size_t bytes_len, struct hoist_pq_page_index **out) {
    HX_FAIL_IF(!f || !out, HOIST_ERR_INVALID_ARG, "hoist_pq_page_index_new: NULL argument");
    *out = NULL;
    HX_FAIL_IF(!bytes && bytes_len, HOIST_ERR_INVALID_ARG, "hoist_pq_page_index_new: bytes is NULL");
    uint64_t off, len;
    HX_TRY(hoist_pq_file_page_index_range(f, &off, &len));
    HX_FAIL_IF(len && (off < bytes_offset || off - bytes_offset > bytes_len || len > bytes_len - (off - bytes_offset)),
               HOIST_ERR_INVALID_ARG, "%s: bytes [%llu, +%zu) do not cover the page index [%llu, +%llu)", f->name,
               (unsigned long long)bytes_offset, bytes_len, (unsigned long long)off, (unsigned long long)len);
    struct hoist_pq_page_index *idx = hx_calloc(1, sizeof *idx);
    if (!idx) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", f->name);
    idx->file = f;
    size_t nch = (size_t)f->nrow_groups * (size_t)f->nleaves;
    idx->chunks = hx_calloc(nch ? nch : 1, sizeof *idx->chunks);
    idx->bytes = hx_malloc(len ? (size_t)len : 1);
    if (!idx->chunks || !idx->bytes) {
        hoist_pq_page_index_free(idx);
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", f->name);
    }
    if (len) memcpy(idx->bytes, (const uint8_t *)bytes + (off - bytes_offset), (size_t)len);
    size_t cap = 0;
    for (int rg = 0; rg < f->nrow_groups; rg++)
        for (int leaf = 0; leaf < f->nleaves; leaf++) {
            hx_status st = index_chunk(idx, rg, leaf, off, &cap);
            if (st != HOIST_OK) {
                st = hx_error_prefix(st, "%s: row group %d, column '%s'", f->name, rg, leaf_name(f, leaf));
                hoist_pq_page_index_free(idx);
                return st;
            }
        }
    *out = idx;
    return HOIST_OK;
}

static hx_status check_rg_field(const struct hoist_pq_file *f, int rg, int field) {
    HX_FAIL_IF(rg < 0 || rg >= f->nrow_groups, HOIST_ERR_INVALID_ARG, "%s: no row group %d (the file has %d)", f->name,
               rg, f->nrow_groups);
    HX_FAIL_IF(field < 0 || field >= f->root.nchildren, HOIST_ERR_INVALID_ARG, "%s: no field %d (the file has %d)",
               f->name, field, f->root.nchildren);
    return HOIST_OK;
}

static const struct pi_chunk *chunk_of(const struct hoist_pq_page_index *idx, int rg, int leaf) {
    return &idx->chunks[(size_t)rg * (size_t)idx->file->nleaves + (size_t)leaf];
}

hx_status hoist_pq_page_index_pages(const struct hoist_pq_page_index *idx, int rg, int field,
                                    const struct hoist_pq_page **pages, size_t *npages) {
    HX_FAIL_IF(!idx || !pages || !npages, HOIST_ERR_INVALID_ARG, "hoist_pq_page_index_pages: NULL argument");
    *pages = NULL;
    *npages = 0;
    const struct hoist_pq_file *f = idx->file;
    HX_TRY(check_rg_field(f, rg, field));
    const struct hx_pq_anode *a = &f->root.children[field];
    HX_FAIL_IF(a->kind != AN_LEAF, HOIST_ERR_INVALID_ARG,
               "%s: field '%s' is nested: its pages do not map to rows (use hoist_pq_page_index_field_ranges)", f->name,
               a->name);
    const struct pi_chunk *pc = chunk_of(idx, rg, a->leaf);
    if (!pc->has_oi) return HOIST_OK;
    *pages = idx->pages + pc->first;
    *npages = pc->npages;
    return HOIST_OK;
}

/* ---- row selections --------------------------------------------------------- */

static hx_status check_rows(const struct hoist_pq_file *f, int rg, const struct hoist_pq_row_range *rows, size_t nrows,
                            int64_t *total) {
    HX_FAIL_IF(!rows && nrows, HOIST_ERR_INVALID_ARG, "row ranges are NULL");
    int64_t n = f->row_groups[rg].num_rows, end = 0, sum = 0;
    for (size_t i = 0; i < nrows; i++) {
        HX_FAIL_IF(rows[i].first < end || rows[i].count < 0 || rows[i].first > n || rows[i].count > n - rows[i].first,
                   HOIST_ERR_INVALID_ARG,
                   "%s: row range %zu [%lld, +%lld) is out of order, overlapping or outside the %lld-row row group %d",
                   f->name, i, (long long)rows[i].first, (long long)rows[i].count, (long long)n, rg);
        end = rows[i].first + rows[i].count;
        sum += rows[i].count;
    }
    *total = sum;
    return HOIST_OK;
}

/* Marks the pages overlapping the rows; returns how many. Both lists are
 * sorted, so one merge walk. */
static size_t select_pages(const struct hoist_pq_page *pg, size_t n, const struct hoist_pq_row_range *rows,
                           size_t nrows, uint8_t *sel) {
    size_t j = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lo = pg[i].first_row, hi = lo + pg[i].num_rows;
        while (j < nrows && (rows[j].count == 0 || rows[j].first + rows[j].count <= lo)) j++;
        sel[i] = j < nrows && rows[j].first < hi && hi > lo;
        k += sel[i];
    }
    return k;
}

static int cmp_range(const void *x, const void *y) {
    const struct hoist_pq_byte_range *a = x, *b = y;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

struct rangev {
    struct hoist_pq_byte_range *v;
    size_t n, cap;
};

static hx_status push_range(struct rangev *r, uint64_t off, uint64_t len) {
    if (!len) return HOIST_OK;
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        struct hoist_pq_byte_range *p = hx_realloc(r->v, nc * sizeof *p);
        if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
        r->v = p;
        r->cap = nc;
    }
    r->v[r->n++] = (struct hoist_pq_byte_range){off, len};
    return HOIST_OK;
}

/* The pages of one leaf chunk needed for rows: the bytes before its first
 * page (dictionary) and the overlapping pages. */
static hx_status leaf_ranges(const struct hoist_pq_page_index *idx, int rg, int leaf,
                             const struct hoist_pq_row_range *rows, size_t nrows, struct rangev *r) {
    const struct hoist_pq_file *f = idx->file;
    const struct pi_chunk *pc = chunk_of(idx, rg, leaf);
    if (!pc->has_oi) {
        uint64_t o, l;
        HX_TRY(hx_pq_chunk_range(f, rg, leaf, &o, &l));
        return push_range(r, o, l);
    }
    const struct hoist_pq_page *pg = idx->pages + pc->first;
    uint8_t *sel = hx_malloc(pc->npages ? pc->npages : 1);
    if (!sel) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = HOIST_OK;
    if (select_pages(pg, pc->npages, rows, nrows, sel) > 0)
        st = push_range(r, pc->chunk_off, pg[0].offset - pc->chunk_off);
    for (size_t i = 0; st == HOIST_OK && i < pc->npages; i++)
        if (sel[i]) st = push_range(r, pg[i].offset, pg[i].length);
    hx_free(sel);
    return st;
}

hx_status hoist_pq_page_index_field_ranges(const struct hoist_pq_page_index *idx, int rg, int field,
                                           const struct hoist_pq_row_range *rows, size_t nrows,
                                           struct hoist_pq_byte_range *out, size_t cap, size_t *nout) {
    HX_FAIL_IF(!idx || !nout || (!out && cap), HOIST_ERR_INVALID_ARG,
               "hoist_pq_page_index_field_ranges: NULL argument");
    *nout = 0;
    const struct hoist_pq_file *f = idx->file;
    HX_TRY(check_rg_field(f, rg, field));
    int64_t total;
    HX_TRY(check_rows(f, rg, rows, nrows, &total));
    if (total == 0) return HOIST_OK;
    const struct hx_pq_anode *a = &f->root.children[field];
    struct rangev r = {0};
    hx_status st = HOIST_OK;
    for (int i = 0; st == HOIST_OK && i < a->n_leaves; i++)
        st = leaf_ranges(idx, rg, a->first_leaf + i, rows, nrows, &r);
    if (st != HOIST_OK) {
        hx_free(r.v);
        return hx_error_prefix(st, "%s: row group %d, field '%s'", f->name, rg, a->name);
    }
    qsort(r.v, r.n, sizeof *r.v, cmp_range);
    size_t m = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (m > 0 && r.v[i].offset <= r.v[m - 1].offset + r.v[m - 1].length) {
            uint64_t end = r.v[i].offset + r.v[i].length;
            if (end > r.v[m - 1].offset + r.v[m - 1].length) r.v[m - 1].length = end - r.v[m - 1].offset;
        } else {
            r.v[m++] = r.v[i];
        }
    }
    for (size_t i = 0; i < m && i < cap; i++) out[i] = r.v[i];
    *nout = m;
    hx_free(r.v);
    return HOIST_OK;
}

/* ---- decoding selected rows -------------------------------------------------- */

/* The caller's bytes holding [off, off + len), or NULL. Pages come in file
 * order, so the last part found is tried first. */
static const uint8_t *find_part(const struct hoist_pq_bytes *parts, size_t nparts, size_t *hint, uint64_t off,
                                uint64_t len, size_t *room) {
    for (size_t k = 0; k < nparts; k++) {
        size_t i = (*hint + k) % nparts;
        const struct hoist_pq_bytes *p = &parts[i];
        if (!p->data || off < p->offset || off - p->offset > p->length || len > p->length - (off - p->offset)) continue;
        *hint = i;
        if (room) *room = p->length - (size_t)(off - p->offset);
        return (const uint8_t *)p->data + (off - p->offset);
    }
    return NULL;
}

/* Rows of the decoded data: runs of the row group's rows, back to back. */
struct seg {
    int64_t first, count;
};

static int64_t count_bits(const uint8_t *b, int64_t from, int64_t to) {
    int64_t n = 0;
    while (from < to && (from & 7)) n += (b[from >> 3] >> (from & 7)) & 1, from++;
    while (to - from >= 64) {
        uint64_t w;
        memcpy(&w, b + (from >> 3), 8);
        n += __builtin_popcountll(w);
        from += 64;
    }
    while (to - from >= 8) n += __builtin_popcount(b[from >> 3]), from += 8;
    while (from < to) n += (b[from >> 3] >> (from & 7)) & 1, from++;
    return n;
}

static void copy_bits(uint8_t *dst, int64_t d, const uint8_t *src, int64_t s, int64_t n) {
    if (((d ^ s) & 7) == 0) {
        for (; n > 0 && (d & 7); n--, d++, s++) {
            int v = (src[s >> 3] >> (s & 7)) & 1;
            if (v)
                dst[d >> 3] |= (uint8_t)(1u << (d & 7));
            else
                dst[d >> 3] &= (uint8_t) ~(1u << (d & 7));
        }
        if (n >= 8) {
            memcpy(dst + (d >> 3), src + (s >> 3), (size_t)(n >> 3));
            d += n & ~(int64_t)7, s += n & ~(int64_t)7, n &= 7;
        }
    }
    for (; n > 0; n--, d++, s++) {
        int v = (src[s >> 3] >> (s & 7)) & 1;
        if (v)
            dst[d >> 3] |= (uint8_t)(1u << (d & 7));
        else
            dst[d >> 3] &= (uint8_t) ~(1u << (d & 7));
    }
}

/* Walks a leaf's levels record by record, counting the values passed. */
struct cursor {
    const struct hx_pq_leaf_data *d;
    int max_def, max_rep;
    int64_t row, level, value;
};

static void advance(struct cursor *c, int64_t row) {
    const struct hx_pq_leaf_data *d = c->d;
    if (row <= c->row) return;
    if (c->max_rep == 0) {
        int64_t to = row;
        if (d->def) {
            int64_t v = 0;
            for (int64_t i = c->level; i < to; i++) v += d->def[i] == c->max_def;
            c->value += v;
        } else if (d->has_valid) {
            c->value += count_bits(d->valid.data, c->level, to);
        } else {
            c->value += to - c->level;
        }
        c->level = to;
        c->row = row;
        return;
    }
    int64_t i = c->level, v = 0;
    while (c->row < row && i < d->n_levels) {
        do {
            v += !d->def || d->def[i] == c->max_def;
            i++;
        } while (i < d->n_levels && d->rep[i] != 0);
        c->row++;
    }
    c->level = i;
    c->value += v;
}

/* Offset i of a binary leaf's offsets buffer (32- or 64-bit). */
static int64_t offset_at(const struct hx_pq_leaf_data *d, int large, int64_t i) {
    if (large) {
        int64_t v;
        memcpy(&v, d->offsets.data + 8 * i, 8);
        return v;
    }
    int32_t v4;
    memcpy(&v4, d->offsets.data + 4 * i, 4);
    return v4;
}

/* Appends binary values v0 .. v0 + k - 1 of d to o, rebasing their offsets
 * (o's buffers are sized for them). */
static void append_binary(struct hx_pq_leaf_data *o, const struct hx_pq_leaf_data *d, int large, int64_t v0,
                          int64_t k) {
    size_t ow = large ? 8 : 4;
    int64_t base = (int64_t)o->data.len, a = offset_at(d, large, v0), end = base;
    for (int64_t i = 1; i <= k; i++) {
        end = offset_at(d, large, v0 + i) - a + base;
        if (large)
            memcpy(o->offsets.data + o->offsets.len, &end, 8);
        else {
            int32_t e4 = (int32_t)end;
            memcpy(o->offsets.data + o->offsets.len, &e4, 4);
        }
        o->offsets.len += ow;
    }
    memcpy(o->data.data + o->data.len, d->data.data + a, (size_t)(end - base));
    o->data.len = (size_t)end;
}

/* Keeps only the rows in `runs` (positions in the `decoded` rows) of a
 * leaf's data, in order. */
static hx_status cut_leaf(const struct hoist_pq_file *f, const struct hx_pq_anode *n, unsigned flags,
                          struct hx_pq_leaf_data *d, int64_t decoded, const struct seg *runs, size_t nruns) {
    struct hx_pq_leaf_data o = {0};
    int dict = hx_pq_leaf_dict(n, flags);
    size_t ow = n->large ? 8 : 4;
    int binary = n->conv == CV_BINARY && !dict;
    size_t w = dict ? 4 : (size_t)n->out_width;
    const struct hx_pq_leaf *lf = &f->leaves[n->leaf];
    /* The walks below trust the levels, values and buffers to agree. */
    struct cursor c = {d, lf->max_def, lf->max_rep, 0, 0, 0};
    if (lf->max_rep == 0 && d->n_levels != decoded)
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "pages hold %lld values for %lld rows", (long long)d->n_levels,
                (long long)decoded);
    advance(&c, lf->max_rep ? INT64_MAX : decoded);
    size_t have = n->conv == CV_NULL            ? SIZE_MAX
                  : binary                      ? (d->offsets.len >= ow ? d->offsets.len / ow - 1 : 0)
                  : n->conv == CV_BOOL && !dict ? d->values.len * 8
                  : w                           ? d->values.len / w
                                                : 0;
    if ((lf->max_rep && c.row != decoded) || c.value != d->n_values || (uint64_t)d->n_values > have)
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT,
                "pages hold %lld rows and %lld values where %lld rows and %lld values were expected", (long long)c.row,
                (long long)d->n_values, (long long)decoded, (long long)c.value);
    c = (struct cursor){d, lf->max_def, lf->max_rep, 0, 0, 0};
    /* sizes first: one allocation per buffer */
    int64_t nl = 0, nv = 0, nbytes = 0;
    for (size_t r = 0; r < nruns; r++) {
        advance(&c, runs[r].first);
        int64_t l0 = c.level, v0 = c.value;
        advance(&c, runs[r].first + runs[r].count);
        nl += c.level - l0;
        nv += c.value - v0;
        if (binary) nbytes += offset_at(d, n->large, c.value) - offset_at(d, n->large, v0);
    }
    hx_status st = HOIST_OK;
    if (d->def && !(o.def = hx_malloc((size_t)(nl ? nl : 1) * 2))) st = HOIST_ERR_NOMEM;
    if (d->rep && !(o.rep = hx_malloc((size_t)(nl ? nl : 1) * 2))) st = HOIST_ERR_NOMEM;
    if (st == HOIST_OK && d->has_valid) st = hx_arrow_buf_reserve(&o.valid, (size_t)(nl + 7) / 8 + 8);
    if (st == HOIST_OK && n->conv != CV_NULL) {
        if (binary) {
            st = hx_arrow_buf_reserve(&o.offsets, (size_t)(nv + 1) * ow);
            if (st == HOIST_OK) st = hx_arrow_buf_reserve(&o.data, (size_t)nbytes + 1);
        } else if (n->conv == CV_BOOL && !dict) {
            st = hx_arrow_buf_reserve(&o.values, (size_t)(nv + 7) / 8 + 8);
        } else {
            st = hx_arrow_buf_reserve(&o.values, (size_t)nv * w + 1);
        }
    }
    if (st != HOIST_OK) {
        hx_pq_leaf_data_reset(&o);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory cutting rows");
    }
    if (binary) memset(o.offsets.data, 0, ow), o.offsets.len = ow;
    c = (struct cursor){d, lf->max_def, lf->max_rep, 0, 0, 0};
    for (size_t r = 0; r < nruns; r++) {
        advance(&c, runs[r].first);
        int64_t l0 = c.level, v0 = c.value;
        advance(&c, runs[r].first + runs[r].count);
        int64_t l1 = c.level, v1 = c.value, k = v1 - v0;
        if (d->def) memcpy(o.def + o.n_levels, d->def + l0, (size_t)(l1 - l0) * 2);
        if (d->rep) memcpy(o.rep + o.n_levels, d->rep + l0, (size_t)(l1 - l0) * 2);
        if (d->has_valid) copy_bits(o.valid.data, o.n_levels, d->valid.data, l0, l1 - l0);
        if (n->conv == CV_NULL) {
            /* no buffers */
        } else if (binary) {
            append_binary(&o, d, n->large, v0, k);
        } else if (n->conv == CV_BOOL && !dict) {
            copy_bits(o.values.data, o.n_values, d->values.data, v0, k);
            o.values.len = (size_t)(o.n_values + k + 7) / 8;
        } else {
            memcpy(o.values.data + o.values.len, d->values.data + (size_t)v0 * w, (size_t)k * w);
            o.values.len += (size_t)k * w;
        }
        o.n_levels += l1 - l0;
        o.n_values += k;
    }
    if (d->has_valid) o.has_valid = 1, o.valid.len = (size_t)(o.n_levels + 7) / 8;
    /* the dictionary stays whole */
    o.dict_n = d->dict_n;
    o.dict_offsets = d->dict_offsets;
    o.dict_data = d->dict_data;
    d->dict_offsets = (struct hx_arrow_buf){0};
    d->dict_data = (struct hx_arrow_buf){0};
    hx_pq_leaf_data_reset(d);
    *d = o;
    return HOIST_OK;
}

/* The rows of `rows` as positions in decoded data holding the rows of segs. */
static hx_status map_rows(const struct seg *segs, size_t nsegs, const struct hoist_pq_row_range *rows, size_t nrows,
                          struct seg **out, size_t *nout) {
    size_t cap = nrows + nsegs + 1, n = 0;
    struct seg *v = hx_malloc(cap * sizeof *v);
    if (!v) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    size_t s = 0;
    int64_t base = 0; /* decoded position of segs[s] */
    for (size_t i = 0; i < nrows; i++) {
        int64_t lo = rows[i].first, hi = lo + rows[i].count;
        while (lo < hi) {
            while (s < nsegs && segs[s].first + segs[s].count <= lo) base += segs[s].count, s++;
            if (s == nsegs || segs[s].first > lo) {
                hx_free(v);
                HX_FAIL(HOIST_ERR_INTERNAL, "row %lld is on no decoded page", (long long)lo);
            }
            int64_t e = segs[s].first + segs[s].count < hi ? segs[s].first + segs[s].count : hi;
            int64_t pos = base + (lo - segs[s].first);
            if (n > 0 && v[n - 1].first + v[n - 1].count == pos) {
                v[n - 1].count += e - lo;
            } else {
                if (n == cap) {
                    cap *= 2;
                    struct seg *nv = hx_realloc(v, cap * sizeof *nv);
                    if (!nv) {
                        hx_free(v);
                        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
                    }
                    v = nv;
                }
                v[n++] = (struct seg){pos, e - lo};
            }
            lo = e;
        }
    }
    *out = v;
    *nout = n;
    return HOIST_OK;
}

static const struct hx_pq_anode *leaf_anode(const struct hx_pq_anode *a, int leaf) {
    const struct hx_pq_anode *n = a;
    while (n->kind != AN_LEAF) {
        int k = 0;
        while (k + 1 < n->nchildren && n->children[k + 1].first_leaf <= leaf) k++;
        n = &n->children[k];
    }
    return n;
}

/* Decodes one leaf's pages holding rows (all pages without an OffsetIndex)
 * and cuts the rows out. */
static hx_status decode_leaf_rows(const struct hoist_pq_file *f, const struct hoist_pq_page_index *idx, int rg,
                                  const struct hx_pq_anode *a, int leaf, const struct hoist_pq_bytes *parts,
                                  size_t nparts, const struct hoist_pq_row_range *rows, size_t nrows, int64_t total,
                                  unsigned flags, struct hx_pq_leaf_data *ld) {
    const struct hx_pq_anode *n = leaf_anode(a, leaf);
    unsigned lf = flags | (n == a && f->leaves[leaf].max_rep == 0 ? HX_PQ_FLAT_LEAF : 0);
    const struct pi_chunk *pc = idx ? chunk_of(idx, rg, leaf) : NULL;
    size_t hint = 0;
    struct seg *segs = NULL, *runs = NULL;
    size_t nsegs = 0, nruns = 0;
    hx_status st = HOIST_OK;
    if (total == 0) return hx_pq_decode_leaf_pages(f, rg, n, NULL, 0, lf, NULL, ld);
    if (pc && pc->has_oi) {
        const struct hoist_pq_page *pg = idx->pages + pc->first;
        uint8_t *sel = hx_malloc(pc->npages + 1);
        struct hx_pq_page_span *sp = hx_malloc((pc->npages + 1) * sizeof *sp);
        segs = hx_malloc((pc->npages + 1) * sizeof *segs);
        if (!sel || !sp || !segs) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        size_t nsp = 0;
        if (st == HOIST_OK && select_pages(pg, pc->npages, rows, nrows, sel) > 0 && pg[0].offset > pc->chunk_off) {
            uint64_t l = pg[0].offset - pc->chunk_off;
            const uint8_t *p = find_part(parts, nparts, &hint, pc->chunk_off, l, NULL);
            if (!p)
                st = hx_error(HOIST_ERR_INVALID_ARG, "parts do not cover the dictionary page [%llu, +%llu)",
                              (unsigned long long)pc->chunk_off, (unsigned long long)l);
            else
                sp[nsp++] = (struct hx_pq_page_span){p, (size_t)l, pc->chunk_off, 0};
        }
        for (size_t i = 0; st == HOIST_OK && i < pc->npages; i++) {
            if (!sel[i]) continue;
            const uint8_t *p = find_part(parts, nparts, &hint, pg[i].offset, pg[i].length, NULL);
            if (!p) {
                st = hx_error(HOIST_ERR_INVALID_ARG, "parts do not cover page %zu [%llu, +%llu)", i,
                              (unsigned long long)pg[i].offset, (unsigned long long)pg[i].length);
                break;
            }
            sp[nsp++] = (struct hx_pq_page_span){p, (size_t)pg[i].length, pg[i].offset, pg[i].num_rows};
            if (nsegs > 0 && segs[nsegs - 1].first + segs[nsegs - 1].count == pg[i].first_row)
                segs[nsegs - 1].count += pg[i].num_rows;
            else
                segs[nsegs++] = (struct seg){pg[i].first_row, pg[i].num_rows};
        }
        if (st == HOIST_OK) st = hx_pq_decode_leaf_pages(f, rg, n, sp, nsp, lf, NULL, ld);
        hx_free(sel);
        hx_free(sp);
    } else {
        uint64_t off, len;
        st = hx_pq_chunk_range(f, rg, leaf, &off, &len);
        size_t room = 0;
        const uint8_t *p = NULL;
        if (st == HOIST_OK) {
            /* The PARQUET-816 pad may run past what the caller fetched. */
            uint64_t need = (uint64_t)f->row_groups[rg].chunks[leaf].total_compressed;
            p = find_part(parts, nparts, &hint, off, need < len ? need : len, &room);
            if (!p)
                st = hx_error(HOIST_ERR_INVALID_ARG, "parts do not cover the column chunk [%llu, +%llu)",
                              (unsigned long long)off, (unsigned long long)len);
        }
        if (st == HOIST_OK)
            st = hx_pq_decode_leaf(f, rg, n, p, (size_t)(len < room ? len : room), lf, f->row_groups[rg].num_rows, NULL,
                                   ld);
        segs = hx_malloc(sizeof *segs);
        if (st == HOIST_OK && !segs) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st == HOIST_OK) segs[nsegs++] = (struct seg){0, f->row_groups[rg].num_rows};
    }
    if (st == HOIST_OK) st = map_rows(segs, nsegs, rows, nrows, &runs, &nruns);
    if (st == HOIST_OK) {
        int64_t decoded = 0;
        for (size_t i = 0; i < nsegs; i++) decoded += segs[i].count;
        if (!(nruns == 1 && runs[0].first == 0 && runs[0].count == decoded))
            st = cut_leaf(f, n, flags, ld, decoded, runs, nruns);
    }
    hx_free(segs);
    hx_free(runs);
    return st;
}

hx_status hoist_pq_decode_field_rows(const struct hoist_pq_file *f, const struct hoist_pq_page_index *idx, int rg,
                                     int field, const struct hoist_pq_bytes *parts, size_t nparts,
                                     const struct hoist_pq_row_range *rows, size_t nrows, unsigned flags,
                                     struct ArrowArray *out) {
    HX_FAIL_IF(!out || !f, HOIST_ERR_INVALID_ARG, "hoist_pq_decode_field_rows: NULL argument");
    memset(out, 0, sizeof *out);
    HX_FAIL_IF(idx && idx->file != f, HOIST_ERR_INVALID_ARG, "%s: the page index belongs to another file", f->name);
    HX_FAIL_IF(!parts && nparts, HOIST_ERR_INVALID_ARG, "hoist_pq_decode_field_rows: parts is NULL");
    HX_TRY(check_rg_field(f, rg, field));
    int64_t total;
    HX_TRY(check_rows(f, rg, rows, nrows, &total));
    const struct hx_pq_anode *a = &f->root.children[field];
    struct hx_pq_leaf_data *ld = hx_calloc((size_t)(a->n_leaves > 0 ? a->n_leaves : 1), sizeof *ld);
    if (!ld) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", f->name);
    hx_status st = HOIST_OK;
    for (int i = 0; i < a->n_leaves && st == HOIST_OK; i++) {
        int leaf = a->first_leaf + i;
        st = decode_leaf_rows(f, idx, rg, a, leaf, parts, nparts, rows, nrows, total, flags, &ld[i]);
        if (st != HOIST_OK) st = hx_error_prefix(st, "%s: row group %d, column '%s'", f->name, rg, leaf_name(f, leaf));
    }
    return hx_pq_assemble_leaves(f, rg, a, ld, total, flags, out, st);
}
