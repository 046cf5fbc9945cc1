/* Public Parquet API: footers, file objects, field decoding, readers over
 * bytes in memory and record-batch streams. No I/O: opening a path is the
 * dataset layer's (src/dataset/ds_pq_file.c, through hx_pq_reader_open_owned). */
#include "parquet_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

hx_status hoist_pq_footer_size(const void *tail, size_t tail_len, uint64_t file_size, const char *name,
                               uint64_t *footer_size) {
    const uint8_t *t = tail;
    if (!name) name = "(parquet)";
    HX_FAIL_IF(!tail || !footer_size, HOIST_ERR_INVALID_ARG, "%s: no footer bytes given", name);
    HX_FAIL_IF(tail_len < 8 || file_size < 12 || tail_len > file_size, HOIST_ERR_PARQUET_NOT_PARQUET,
               "%s: %llu bytes is too small for a Parquet file", name, (unsigned long long)file_size);
    const uint8_t *m = t + tail_len - 4;
    HX_FAIL_IF(memcmp(m, "PARE", 4) == 0, HOIST_ERR_PARQUET_ENCRYPTED,
               "%s: encrypted Parquet is not supported (encrypted footer)", name);
    HX_FAIL_IF(memcmp(m, "PAR1", 4) != 0, HOIST_ERR_PARQUET_NOT_PARQUET, "%s: not a Parquet file (no PAR1 magic)",
               name);
    uint32_t len;
    memcpy(&len, t + tail_len - 8, 4);
    HX_FAIL_IF((uint64_t)len + 8 > file_size, HOIST_ERR_PARQUET_CORRUPT,
               "%s: footer length %u exceeds the %llu-byte file", name, len, (unsigned long long)file_size);
    *footer_size = (uint64_t)len + 8;
    return HOIST_OK;
}

void hoist_pq_file_free(struct hoist_pq_file *f) {
    if (!f) return;
    for (int i = 0; i < f->nelements; i++) hx_free(f->elements[i].name);
    hx_free(f->elements);
    hx_free(f->leaves);
    for (int i = 0; i < f->nrow_groups; i++) hx_free(f->row_groups[i].chunks);
    hx_free(f->row_groups);
    hx_free(f->created_by);
    hx_free(f->schema_metadata);
    hx_pq_anode_free(&f->root);
    hx_free(f->footer);
    hx_free(f->name);
    hx_free(f);
}

hx_status hoist_pq_file_new(const void *tail, size_t tail_len, uint64_t file_size, const char *name,
                            struct hoist_pq_file **out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_pq_file_new: out is NULL");
    *out = NULL;
    if (!name) name = "(parquet)";
    uint64_t fs;
    HX_TRY(hoist_pq_footer_size(tail, tail_len, file_size, name, &fs));
    HX_FAIL_IF(fs > tail_len, HOIST_ERR_INVALID_ARG, "%s: footer needs %llu bytes, %zu given", name,
               (unsigned long long)fs, tail_len);
    struct hoist_pq_file *f = hx_calloc(1, sizeof *f);
    if (!f) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", name);
    f->name = hx_strdup(name);
    f->footer_len = (size_t)fs - 8;
    f->footer = hx_malloc(f->footer_len ? f->footer_len : 1);
    f->file_size = file_size;
    if (!f->name || !f->footer) {
        hoist_pq_file_free(f);
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(f->footer, (const uint8_t *)tail + tail_len - fs, f->footer_len);
    hx_status st = hx_pq_parse_footer(f, f->footer, f->footer_len);
    if (st != HOIST_OK) {
        st = hx_error_prefix(st, "%s", name);
        hoist_pq_file_free(f);
        return st;
    }
    *out = f;
    return HOIST_OK;
}

int64_t hoist_pq_file_num_rows(const struct hoist_pq_file *f) {
    /* The row groups are the truth (FileMetaData.num_rows may be 0:
     * repeated_no_annotation.parquet). */
    int64_t n = 0;
    for (int i = 0; i < f->nrow_groups; i++) n += f->row_groups[i].num_rows;
    return n;
}
int hoist_pq_file_num_row_groups(const struct hoist_pq_file *f) { return f->nrow_groups; }
int64_t hoist_pq_file_row_group_num_rows(const struct hoist_pq_file *f, int rg) {
    if (rg < 0 || rg >= f->nrow_groups) return -1;
    return f->row_groups[rg].num_rows;
}
int hoist_pq_file_num_fields(const struct hoist_pq_file *f) { return f->root.nchildren; }
int hoist_pq_file_field_index(const struct hoist_pq_file *f, const char *name) {
    for (int i = 0; name && i < f->root.nchildren; i++)
        if (strcmp(f->root.children[i].name, name) == 0) return i;
    return -1;
}

static hx_status schema_of_fields(const struct hoist_pq_file *f, const int *fields, int n, unsigned flags,
                                  struct ArrowSchema *out) {
    HX_TRY(hx_arrow_schema_init(out, "+s", "", 0));
    hx_status st = hx_arrow_schema_set_metadata(out, f->schema_metadata, hx_arrow_metadata_size(f->schema_metadata));
    if (st == HOIST_OK) st = hx_arrow_schema_alloc_children(out, n);
    for (int i = 0; st == HOIST_OK && i < n; i++)
        st = hx_pq_anode_schema(&f->root.children[fields[i]], flags, out->children[i]);
    if (st != HOIST_OK) out->release(out);
    return st;
}

hx_status hoist_pq_file_schema(const struct hoist_pq_file *f, unsigned flags, struct ArrowSchema *out) {
    HX_FAIL_IF(!f || !out, HOIST_ERR_INVALID_ARG, "hoist_pq_file_schema: NULL argument");
    int *idx = hx_malloc(sizeof(int) * (size_t)(f->root.nchildren + 1));
    if (!idx) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    for (int i = 0; i < f->root.nchildren; i++) idx[i] = i;
    hx_status st = schema_of_fields(f, idx, f->root.nchildren, flags, out);
    hx_free(idx);
    return st;
}

static hx_status check_rg_field(const struct hoist_pq_file *f, int rg, int field) {
    HX_FAIL_IF(!f, HOIST_ERR_INVALID_ARG, "NULL Parquet file");
    HX_FAIL_IF(rg < 0 || rg >= f->nrow_groups, HOIST_ERR_INVALID_ARG, "%s: no row group %d (the file has %d)", f->name,
               rg, f->nrow_groups);
    HX_FAIL_IF(field < 0 || field >= f->root.nchildren, HOIST_ERR_INVALID_ARG, "%s: no field %d (the file has %d)",
               f->name, field, f->root.nchildren);
    return HOIST_OK;
}

hx_status hoist_pq_file_field_range(const struct hoist_pq_file *f, int rg, int field, uint64_t *offset,
                                    uint64_t *length) {
    HX_TRY(check_rg_field(f, rg, field));
    const struct hx_pq_anode *a = &f->root.children[field];
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < a->n_leaves; i++) {
        uint64_t o, l;
        hx_status st = hx_pq_chunk_range(f, rg, a->first_leaf + i, &o, &l);
        if (st != HOIST_OK) return hx_error_prefix(st, "%s: row group %d, field '%s'", f->name, rg, a->name);
        if (o < lo) lo = o;
        if (o + l > hi) hi = o + l;
    }
    if (a->n_leaves == 0) lo = hi = 0;
    *offset = lo;
    *length = hi - lo;
    return HOIST_OK;
}

/* ---- statistics ------------------------------------------------------------ */

static int ci_has(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

static int unsigned_order_of(const struct hoist_pq_file *f, const struct hx_pq_anode *a) {
    const struct hx_pq_element *e = &f->elements[f->leaves[a->leaf].element];
    return a->format[0] == 'C' || a->format[0] == 'S' || a->format[0] == 'I' || a->format[0] == 'L' ||
           a->conv == CV_BINARY || e->type == PQT_FLBA;
}

hx_status hoist_pq_file_field_stats(const struct hoist_pq_file *f, int rg, int field, struct hoist_pq_stats *out) {
    HX_TRY(check_rg_field(f, rg, field));
    memset(out, 0, sizeof *out);
    const struct hx_pq_anode *a = &f->root.children[field];
    if (a->kind != AN_LEAF) return HOIST_OK;
    const struct hx_pq_chunk *c = &f->row_groups[rg].chunks[a->leaf];
    const struct hx_pq_stat_raw *s = &c->stats;
    out->num_values = c->num_values;
    if (!s->present) return HOIST_OK;
    out->has_null_count = s->has_null_count;
    out->null_count = s->null_count;
    const uint8_t *mn = NULL, *mx = NULL;
    size_t mnl = 0, mxl = 0;
    int unsigned_order = unsigned_order_of(f, a);
    if (s->min && s->max && f->has_column_orders) {
        mn = s->min, mnl = s->min_len, mx = s->max, mxl = s->max_len;
    } else if (s->min_old && s->max_old && !unsigned_order && a->conv != CV_BE_DEC) {
        /* Deprecated fields: signed order only, and parquet-mr < 1.8 wrote
         * corrupt binary stats (PARQUET-251), decimal bytes included. */
        mn = s->min_old, mnl = s->min_old_len, mx = s->max_old, mxl = s->max_old_len;
    }
    if (!mn || !mx) return HOIST_OK;
    return hx_pq_stats_convert(f, a, mn, mnl, mx, mxl, out);
}

/* Decimals sort as signed numbers (SIGNED column order): the unscaled
 * values, in the storage's own form, are enough for a consumer that knows
 * the scale. Only a whole value will do, so byte strings longer than
 * decimal256 are left out. */
static hx_status decimal_stats(const struct hx_pq_anode *a, const uint8_t *mn, size_t mnl, const uint8_t *mx,
                               size_t mxl, struct hoist_pq_stats *out) {
    if (a->conv == CV_I32_DEC || a->conv == CV_I64_DEC) {
        size_t w = a->conv == CV_I32_DEC ? 4 : 8;
        if (mnl != w || mxl != w) return HOIST_OK;
        if (w == 4) {
            int32_t lo, hi;
            memcpy(&lo, mn, 4);
            memcpy(&hi, mx, 4);
            out->min_i = lo, out->max_i = hi;
        } else {
            memcpy(&out->min_i, mn, 8);
            memcpy(&out->max_i, mx, 8);
        }
        out->kind = HOIST_PQ_STAT_DECIMAL;
        return HOIST_OK;
    }
    if (mnl < 1 || mnl > 32 || mxl < 1 || mxl > 32) return HOIST_OK;
    out->kind = HOIST_PQ_STAT_DECIMAL;
    out->min_b = mn, out->min_b_len = mnl, out->max_b = mx, out->max_b_len = mxl;
    return HOIST_OK;
}

hx_status hx_pq_stats_convert(const struct hoist_pq_file *f, const struct hx_pq_anode *a, const uint8_t *mn, size_t mnl,
                              const uint8_t *mx, size_t mxl, struct hoist_pq_stats *out) {
    const struct hx_pq_element *e = &f->elements[f->leaves[a->leaf].element];
    int unsigned_order = unsigned_order_of(f, a);
    if (a->conv == CV_I32_DEC || a->conv == CV_I64_DEC || a->conv == CV_BE_DEC)
        return decimal_stats(a, mn, mnl, mx, mxl, out);
    if (e->type == PQT_INT96 || a->dict || ci_has(a->format, "tD")) return HOIST_OK;
    switch (e->type) {
    case PQT_BOOLEAN:
        if (mnl < 1 || mxl < 1) return HOIST_OK;
        out->kind = HOIST_PQ_STAT_BOOL;
        out->min_i = mn[0] & 1, out->max_i = mx[0] & 1;
        break;
    case PQT_INT32: {
        if (mnl != 4 || mxl != 4 ||
            (a->conv != CV_COPY && a->conv != CV_I32_I8 && a->conv != CV_I32_I16 && a->conv != CV_I32_MUL))
            return HOIST_OK;
        int32_t lo, hi;
        memcpy(&lo, mn, 4);
        memcpy(&hi, mx, 4);
        if (unsigned_order) {
            out->kind = HOIST_PQ_STAT_UINT;
            out->min_u = (uint32_t)lo, out->max_u = (uint32_t)hi;
        } else {
            out->kind = HOIST_PQ_STAT_INT;
            int64_t k = a->conv == CV_I32_MUL ? a->conv_k : 1;
            out->min_i = (int64_t)lo * k, out->max_i = (int64_t)hi * k;
        }
        break;
    }
    case PQT_INT64: {
        if (mnl != 8 || mxl != 8 || (a->conv != CV_COPY && a->conv != CV_I64_DIV)) return HOIST_OK;
        int64_t lo, hi;
        memcpy(&lo, mn, 8);
        memcpy(&hi, mx, 8);
        if (unsigned_order) {
            out->kind = HOIST_PQ_STAT_UINT;
            out->min_u = (uint64_t)lo, out->max_u = (uint64_t)hi;
        } else {
            out->kind = HOIST_PQ_STAT_INT;
            int64_t k = a->conv == CV_I64_DIV ? a->conv_k : 1;
            out->min_i = lo / k, out->max_i = hi / k;
        }
        break;
    }
    case PQT_FLOAT:
    case PQT_DOUBLE: {
        double lo, hi;
        if (e->type == PQT_FLOAT) {
            float a4, b4;
            if (mnl != 4 || mxl != 4) return HOIST_OK;
            memcpy(&a4, mn, 4);
            memcpy(&b4, mx, 4);
            lo = a4, hi = b4;
        } else {
            if (mnl != 8 || mxl != 8) return HOIST_OK;
            memcpy(&lo, mn, 8);
            memcpy(&hi, mx, 8);
        }
        /* NaN bounds are unusable; ±0 may hide the other zero. */
        if (isnan(lo) || isnan(hi)) return HOIST_OK;
        if (lo == 0) lo = -0.0;
        if (hi == 0) hi = 0.0;
        out->kind = HOIST_PQ_STAT_DOUBLE;
        out->min_d = lo, out->max_d = hi;
        break;
    }
    case PQT_BYTE_ARRAY:
        if (a->conv != CV_BINARY) return HOIST_OK;
        out->kind = HOIST_PQ_STAT_BYTES;
        out->min_b = mn, out->min_b_len = mnl, out->max_b = mx, out->max_b_len = mxl;
        break;
    default: return HOIST_OK;
    }
    return HOIST_OK;
}

/* ---- decoding ------------------------------------------------------------------ */

/* keep (a flat field hx_pq_leaf_keepable takes, or NULL): only the rows
 * whose byte is 1, kept of them. */
static hx_status decode_field(const struct hoist_pq_file *f, int rg, int field, const uint8_t *bytes,
                              uint64_t bytes_offset, size_t bytes_len, unsigned flags, const uint8_t *keep,
                              int64_t kept, struct hx_pq_scratch *scratch, struct ArrowArray *out) {
    const struct hx_pq_anode *a = &f->root.children[field];
    int64_t rows = f->row_groups[rg].num_rows;
    struct hx_pq_leaf_data *ld = hx_calloc((size_t)(a->n_leaves > 0 ? a->n_leaves : 1), sizeof *ld);
    if (!ld) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", f->name);
    hx_status st = HOIST_OK;
    int i = 0;
    for (; i < a->n_leaves && st == HOIST_OK; i++) {
        int leaf = a->first_leaf + i;
        uint64_t off, len;
        const char *cname = f->elements[f->leaves[leaf].element].name;
        st = hx_pq_chunk_range(f, rg, leaf, &off, &len);
        if (st == HOIST_OK &&
            (off < bytes_offset || off - bytes_offset > bytes_len || len > bytes_len - (off - bytes_offset))) {
            /* The PARQUET-816 pad may run past what the caller fetched. */
            if (f->pad_chunks && off >= bytes_offset && off - bytes_offset <= bytes_len)
                len = bytes_len - (off - bytes_offset);
            else
                st = hx_error(HOIST_ERR_INVALID_ARG, "bytes [%llu, +%zu) do not cover the column chunk [%llu, +%llu)",
                              (unsigned long long)bytes_offset, bytes_len, (unsigned long long)off,
                              (unsigned long long)len);
        }
        if (st == HOIST_OK) {
            /* find the leaf anode */
            const struct hx_pq_anode *n = a;
            while (n->kind != AN_LEAF) {
                int k = 0;
                while (k + 1 < n->nchildren && n->children[k + 1].first_leaf <= leaf) k++;
                n = &n->children[k];
            }
            unsigned lf = flags | (n == a && f->leaves[leaf].max_rep == 0 ? HX_PQ_FLAT_LEAF : 0);
            if (keep)
                st = hx_pq_decode_leaf_kept(f, rg, n, bytes + (off - bytes_offset), (size_t)len, lf, rows, keep, kept,
                                            scratch, &ld[i]);
            else
                st = hx_pq_decode_leaf(f, rg, n, bytes + (off - bytes_offset), (size_t)len, lf, rows, scratch, &ld[i]);
        }
        if (st != HOIST_OK) st = hx_error_prefix(st, "%s: row group %d, column '%s'", f->name, rg, cname);
    }
    return hx_pq_assemble_leaves(f, rg, a, ld, keep ? kept : rows, flags, out, st);
}

hx_status hoist_pq_decode_field(const struct hoist_pq_file *f, int rg, int field, const void *bytes,
                                uint64_t bytes_offset, size_t bytes_len, unsigned flags, struct ArrowArray *out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_pq_decode_field: out is NULL");
    memset(out, 0, sizeof *out);
    HX_TRY(check_rg_field(f, rg, field));
    HX_FAIL_IF(!bytes && bytes_len, HOIST_ERR_INVALID_ARG, "hoist_pq_decode_field: bytes is NULL");
    return decode_field(f, rg, field, bytes, bytes_offset, bytes_len, flags, NULL, 0, NULL, out);
}

hx_status hx_pq_decode_field_kept(const struct hoist_pq_file *f, int rg, int field, const void *bytes,
                                  uint64_t bytes_offset, size_t bytes_len, unsigned flags, const uint8_t *keep,
                                  int64_t kept, struct ArrowArray *out) {
    HX_FAIL_IF(!out || !keep, HOIST_ERR_INVALID_ARG, "hx_pq_decode_field_kept: NULL argument");
    memset(out, 0, sizeof *out);
    HX_TRY(check_rg_field(f, rg, field));
    HX_FAIL_IF(!bytes && bytes_len, HOIST_ERR_INVALID_ARG, "hx_pq_decode_field_kept: bytes is NULL");
    const struct hx_pq_anode *a = &f->root.children[field];
    if (a->kind == AN_LEAF && f->leaves[a->leaf].max_rep == 0) {
        struct hx_pq_anode eff = *a;
        eff.dict = hx_pq_leaf_dict(a, flags);
        if (hx_pq_leaf_keepable(f, &eff))
            return decode_field(f, rg, field, bytes, bytes_offset, bytes_len, flags, keep, kept, NULL, out);
    }
    /* Any other field: every row, then the kept ones. */
    struct ArrowArray all;
    HX_TRY(decode_field(f, rg, field, bytes, bytes_offset, bytes_len, flags, NULL, 0, NULL, &all));
    if (kept == all.length) {
        *out = all;
        return HOIST_OK;
    }
    struct ArrowSchema schema;
    hx_status st = hx_pq_anode_schema(a, flags, &schema);
    if (st == HOIST_OK) {
        st = hx_arrow_array_filter(&all, &schema, keep, kept, out);
        schema.release(&schema);
    }
    if (st != HOIST_OK) all.release(&all);
    return st;
}

/* ---- readers ------------------------------------------------------------------------ */

/* What a reader and its streams share: the parsed footer and the bytes. */
struct pq_source {
    atomic_int refs;
    struct hoist_pq_file *file;
    const uint8_t *data;
    size_t size;
    hx_pq_release_fn release; /* owned bytes (hx_pq_reader_open_owned), else NULL */
    void *release_ud;
    unsigned flags;
};

static void source_unref(struct pq_source *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    hoist_pq_file_free(s->file);
    if (s->release) s->release(s->release_ud);
    hx_free(s);
}

struct hoist_pq_reader {
    struct pq_source *src;
};

static hx_status open_source(const uint8_t *data, size_t size, const char *name, unsigned flags,
                             hx_pq_release_fn release, void *release_ud, struct hoist_pq_reader **out) {
    struct pq_source *s = hx_calloc(1, sizeof *s);
    struct hoist_pq_reader *r = hx_calloc(1, sizeof *r);
    if (!s || !r) {
        hx_free(s);
        hx_free(r);
        if (release) release(release_ud);
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", name);
    }
    atomic_init(&s->refs, 1);
    s->data = data;
    s->size = size;
    s->release = release;
    s->release_ud = release_ud;
    s->flags = flags;
    r->src = s;
    hx_status st = HOIST_OK;
    if (size >= 4 && memcmp(data, "PARE", 4) == 0)
        st = hx_error(HOIST_ERR_PARQUET_ENCRYPTED, "%s: encrypted Parquet is not supported (PARE magic)", name);
    else if (size < 12)
        st = hx_error(HOIST_ERR_PARQUET_NOT_PARQUET, "%s: %zu bytes is too small for a Parquet file", name, size);
    /* Like Arrow C++, only the trailing magic is required. */
    if (st == HOIST_OK) st = hoist_pq_file_new(data, size, size, name, &s->file);
    if (st != HOIST_OK) {
        hoist_pq_reader_close(r);
        return st;
    }
    hx_error_clear();
    *out = r;
    return HOIST_OK;
}

hx_status hoist_pq_reader_open_memory(const void *data, size_t size, const char *name, unsigned flags,
                                      struct hoist_pq_reader **out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_pq_reader_open_memory: out is NULL");
    *out = NULL;
    HX_FAIL_IF(!data && size, HOIST_ERR_INVALID_ARG, "hoist_pq_reader_open_memory: data is NULL");
    return open_source(data ? data : (const void *)"", size, name ? name : "(memory)", flags, NULL, 0, out);
}

hx_status hx_pq_reader_open_owned(const void *data, size_t size, const char *name, unsigned flags,
                                  hx_pq_release_fn release, void *ud, struct hoist_pq_reader **out) {
    if (out) *out = NULL;
    if (!out || (!data && size)) {
        if (release) release(ud);
        HX_FAIL(HOIST_ERR_INVALID_ARG, "hx_pq_reader_open_owned: %s is NULL", out ? "data" : "out");
    }
    return open_source(data ? data : (const void *)"", size, name ? name : "(memory)", flags, release, ud, out);
}

void hoist_pq_reader_close(struct hoist_pq_reader *r) {
    if (!r) return;
    source_unref(r->src);
    hx_free(r);
}

const struct hoist_pq_file *hoist_pq_reader_file(const struct hoist_pq_reader *r) { return r ? r->src->file : NULL; }

/* ---- streams ------------------------------------------------------------------------ */

struct pq_stream;

struct field_task {
    struct pq_stream *s;
    const struct hoist_pq_file *f;
    const uint8_t *data;
    size_t size;
    int rg, field;
    unsigned flags;
    struct ArrowArray *out;
    hx_status st;
    char err[1024];
};

/* A row group being decoded on the pool: with threads, the next row group's
 * columns are queued while the current one finishes, so workers do not idle
 * at each batch's barrier waiting for its slowest column. */
struct pq_batch {
    int active;
    int rg;
    struct ArrowArray arr;
    struct field_task *tasks;
    struct hx_task_group *g;
    int submitted;
    hx_status st;
};

struct pq_stream {
    struct pq_source *src;
    int *fields;
    int nfields;
    int *rgs;
    int nrgs;
    int next;
    unsigned threads;
    struct hx_pool *pool;
    struct pq_batch ahead[2]; /* row groups next and next + 1 */
    /* scratch of finished tasks, for the next ones (at most one per thread) */
    pthread_mutex_t scratch_mu;
    struct hx_pq_scratch *scratch;
};

static struct hx_pq_scratch *scratch_get(struct pq_stream *s) {
    pthread_mutex_lock(&s->scratch_mu);
    struct hx_pq_scratch *sc = s->scratch;
    if (sc) s->scratch = sc->next;
    pthread_mutex_unlock(&s->scratch_mu);
    return sc ? sc : hx_calloc(1, sizeof *sc); /* NULL: decode without reuse */
}

static void scratch_put(struct pq_stream *s, struct hx_pq_scratch *sc) {
    if (!sc) return;
    pthread_mutex_lock(&s->scratch_mu);
    sc->next = s->scratch;
    s->scratch = sc;
    pthread_mutex_unlock(&s->scratch_mu);
}

static void run_field_task(void *arg) {
    struct field_task *t = arg;
    struct hx_pq_scratch *sc = scratch_get(t->s);
    t->st = decode_field(t->f, t->rg, t->field, t->data, 0, t->size, t->flags, NULL, 0, sc, t->out);
    if (t->st != HOIST_OK) hx_error_copy(t->err, sizeof t->err);
    scratch_put(t->s, sc);
}

static hx_status stream_schema(void *state, struct ArrowSchema *out) {
    struct pq_stream *s = state;
    return schema_of_fields(s->src->file, s->fields, s->nfields, s->src->flags, out);
}

static int64_t field_bytes(const struct hoist_pq_file *f, int rg, int field) {
    const struct hx_pq_anode *a = &f->root.children[field];
    int64_t n = 0;
    for (int i = 0; i < a->n_leaves; i++) n += f->row_groups[rg].chunks[a->first_leaf + i].total_compressed;
    return n;
}

/* Sets up the batch of row group index `k` (tasks, output) without running it. */
static hx_status batch_init(struct pq_stream *s, struct pq_batch *b, int k) {
    const struct hoist_pq_file *f = s->src->file;
    int rg = s->rgs[k];
    memset(b, 0, sizeof *b);
    HX_TRY(hx_arrow_array_init(&b->arr, f->row_groups[rg].num_rows, 1, s->nfields));
    b->tasks = hx_calloc((size_t)(s->nfields > 0 ? s->nfields : 1), sizeof *b->tasks);
    if (!b->tasks) {
        b->arr.release(&b->arr);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < s->nfields; i++) {
        b->tasks[i] = (struct field_task){
            s, f, s->src->data, s->src->size, rg, s->fields[i], s->src->flags, b->arr.children[i], HOIST_OK, {0}};
    }
    b->rg = rg;
    b->active = 1;
    return HOIST_OK;
}

/* Queues a batch's columns on the pool, biggest first (the last task to
 * start bounds the batch's wall time). */
static void batch_submit(struct pq_stream *s, struct pq_batch *b) {
    const struct hoist_pq_file *f = s->src->file;
    int n = s->nfields;
    b->st = hx_task_group_new(s->pool, &b->g);
    if (b->st != HOIST_OK) return;
    int *order = hx_malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    int64_t *size = hx_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        if (order && size) {
            /* insertion sort: a few hundred columns at most per call */
            int64_t z = field_bytes(f, b->rg, s->fields[i]);
            int j = i;
            while (j > 0 && size[j - 1] < z) {
                size[j] = size[j - 1];
                order[j] = order[j - 1];
                j--;
            }
            size[j] = z;
            order[j] = i;
        }
    }
    for (int i = 0; b->st == HOIST_OK && i < n; i++) {
        int t = order && size ? order[i] : i;
        b->st = hx_task_group_submit(b->g, run_field_task, &b->tasks[t]);
        if (b->st == HOIST_OK) b->submitted++;
    }
    if (b->submitted < n) {
        /* mark what never ran, in submission order */
        for (int i = b->submitted; i < n; i++) b->tasks[order && size ? order[i] : i].st = HOIST_ERR_CANCELLED;
    }
    hx_free(order);
    hx_free(size);
}

/* Waits for the batch, then hands its array to `out` or fails. */
static hx_status batch_finish(struct pq_stream *s, struct pq_batch *b, struct ArrowArray *out) {
    if (b->g) hx_task_group_free(b->g); /* waits */
    b->g = NULL;
    hx_status st = b->st;
    if (st == HOIST_OK) {
        for (int i = 0; i < s->nfields; i++) {
            if (b->tasks[i].st != HOIST_OK && b->tasks[i].st != HOIST_ERR_CANCELLED) {
                st = hx_error(b->tasks[i].st, "%s", b->tasks[i].err);
                break;
            }
        }
    }
    hx_free(b->tasks);
    b->tasks = NULL;
    b->active = 0;
    if (st != HOIST_OK) {
        b->arr.release(&b->arr);
        return st;
    }
    *out = b->arr;
    memset(&b->arr, 0, sizeof b->arr);
    return HOIST_OK;
}

static void batch_discard(struct pq_stream *s, struct pq_batch *b) {
    if (!b->active) return;
    struct ArrowArray tmp;
    if (batch_finish(s, b, &tmp) == HOIST_OK) tmp.release(&tmp);
}

static hx_status stream_next(void *state, struct ArrowArray *out) {
    struct pq_stream *s = state;
    if (s->next >= s->nrgs) return HOIST_OK; /* end: out->release stays NULL */
    hx_status st = HOIST_OK;
    if (s->threads != 1 && s->nfields > 1) {
        if (!s->pool) HX_TRY(hx_pool_new(s->threads, &s->pool));
        for (int k = s->next; k < s->nrgs && k <= s->next + 1; k++) {
            struct pq_batch *b = &s->ahead[k % 2];
            if (b->active) continue;
            st = batch_init(s, b, k);
            if (st != HOIST_OK) break;
            batch_submit(s, b);
        }
        struct pq_batch *cur = &s->ahead[s->next % 2];
        if (st == HOIST_OK && !cur->active) st = hx_error(HOIST_ERR_INTERNAL, "row group batch not queued");
        if (st != HOIST_OK) {
            batch_discard(s, cur);
        } else {
            st = batch_finish(s, cur, out);
        }
        if (st != HOIST_OK) {
            memset(out, 0, sizeof *out);
            return st;
        }
        s->next++;
        return HOIST_OK;
    }
    struct pq_batch b;
    HX_TRY(batch_init(s, &b, s->next));
    for (int i = 0; i < s->nfields; i++) {
        run_field_task(&b.tasks[i]);
        if (b.tasks[i].st != HOIST_OK) break;
    }
    st = batch_finish(s, &b, out);
    if (st != HOIST_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    s->next++;
    return HOIST_OK;
}

static void stream_free(void *state) {
    struct pq_stream *s = state;
    if (!s) return;
    batch_discard(s, &s->ahead[0]);
    batch_discard(s, &s->ahead[1]);
    hx_pool_free(s->pool);
    while (s->scratch) {
        struct hx_pq_scratch *n = s->scratch->next;
        hx_pq_scratch_free(s->scratch);
        s->scratch = n;
    }
    pthread_mutex_destroy(&s->scratch_mu);
    source_unref(s->src);
    hx_free(s->fields);
    hx_free(s->rgs);
    hx_free(s);
}

static const struct hx_arrow_stream_ops pq_stream_ops = {stream_schema, stream_next, stream_free};

hx_status hoist_pq_reader_stream(struct hoist_pq_reader *r, const char *const *columns, size_t ncolumns,
                                 const int *row_groups, size_t nrow_groups, unsigned threads,
                                 struct ArrowArrayStream *out) {
    HX_FAIL_IF(!r || !out, HOIST_ERR_INVALID_ARG, "hoist_pq_reader_stream: NULL argument");
    memset(out, 0, sizeof *out);
    const struct hoist_pq_file *f = r->src->file;
    struct pq_stream *s = hx_calloc(1, sizeof *s);
    if (!s) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&s->scratch_mu, NULL);
    size_t nf = columns && ncolumns ? ncolumns : (size_t)f->root.nchildren;
    size_t nr = row_groups && nrow_groups ? nrow_groups : (size_t)f->nrow_groups;
    s->fields = hx_malloc(sizeof(int) * (nf + 1));
    s->rgs = hx_malloc(sizeof(int) * (nr + 1));
    atomic_fetch_add(&r->src->refs, 1);
    s->src = r->src;
    s->threads = threads;
    if (!s->fields || !s->rgs) {
        stream_free(s);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nf; i++) {
        int k = (int)i;
        if (columns && ncolumns) {
            k = hoist_pq_file_field_index(f, columns[i]);
            if (k < 0) {
                hx_status st = hx_error(HOIST_ERR_COLUMN_NOT_FOUND, "%s: no column '%s'", f->name,
                                        columns[i] ? columns[i] : "(null)");
                stream_free(s);
                return st;
            }
        }
        s->fields[i] = k;
    }
    for (size_t i = 0; i < nr; i++) {
        int k = row_groups && nrow_groups ? row_groups[i] : (int)i;
        if (k < 0 || k >= f->nrow_groups) {
            hx_status st =
                hx_error(HOIST_ERR_INVALID_ARG, "%s: no row group %d (the file has %d)", f->name, k, f->nrow_groups);
            stream_free(s);
            return st;
        }
        s->rgs[i] = k;
    }
    s->nfields = (int)nf;
    s->nrgs = (int)nr;
    return hx_arrow_stream_init(out, &pq_stream_ops, s);
}
