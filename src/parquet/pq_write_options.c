/*
 * pq_write_options.c — the encoder's option object: file-wide settings with
 * pyarrow's defaults, per-column overrides, extra key-value metadata. Every
 * setter range-checks its value (STYLE.md: options through setters).
 */
#include "pq_write_internal.h"

#include <string.h>

hx_status hoist_pq_write_options_new(struct hoist_pq_write_options **out) {
    *out = NULL;
    struct hoist_pq_write_options *o = hx_calloc(1, sizeof *o);
    if (!o) HX_FAIL(HOIST_ERR_NOMEM, "out of memory allocating Parquet write options");
    o->codec = HX_PQ_SNAPPY;
    o->level = HX_PQW_LEVEL_DEFAULT;
    o->row_group_rows = 1048576;
    o->row_group_bytes = (int64_t)128 << 20;
    o->page_bytes = 1 << 20;
    o->dict_page_bytes = 1 << 20;
    o->dictionary = 1;
    o->page_version = 1;
    o->statistics = 1;
    o->page_index = 1;
    o->store_schema = 1;
    *out = o;
    hx_error_clear();
    return HOIST_OK;
}

void hoist_pq_write_options_free(struct hoist_pq_write_options *o) {
    if (!o) return;
    for (size_t i = 0; i < o->ncols; i++) hx_free(o->cols[i].path);
    hx_free(o->cols);
    for (size_t i = 0; i < 2 * o->nkv; i++) hx_free(o->kv[i]);
    hx_free(o->kv);
    hx_free(o->created_by);
    hx_free(o);
}

hx_status hoist_pq_write_options_copy(const struct hoist_pq_write_options *src, struct hoist_pq_write_options **out) {
    *out = NULL;
    if (!src) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write options: NULL source");
    struct hoist_pq_write_options *o = hx_calloc(1, sizeof *o);
    if (!o) HX_FAIL(HOIST_ERR_NOMEM, "out of memory copying Parquet write options");
    *o = *src;
    o->created_by = NULL;
    o->cols = NULL;
    o->kv = NULL;
    o->ncols = o->nkv = 0;
    int ok = 1;
    if (src->created_by && !(o->created_by = hx_strdup(src->created_by))) ok = 0;
    if (ok && src->ncols) {
        o->cols = hx_calloc(src->ncols, sizeof *o->cols);
        ok = o->cols != NULL;
        for (size_t i = 0; ok && i < src->ncols; i++) {
            o->cols[i] = src->cols[i];
            o->cols[i].path = hx_strdup(src->cols[i].path);
            if (!o->cols[i].path) ok = 0;
            o->ncols = i + 1;
        }
    }
    if (ok && src->nkv) {
        o->kv = hx_calloc(2 * src->nkv, sizeof *o->kv);
        ok = o->kv != NULL;
        for (size_t i = 0; ok && i < src->nkv; i++) {
            o->kv[2 * i] = hx_strdup(src->kv[2 * i]);
            o->kv[2 * i + 1] = hx_strdup(src->kv[2 * i + 1]);
            o->nkv = i + 1;
            if (!o->kv[2 * i] || !o->kv[2 * i + 1]) ok = 0;
        }
    }
    if (!ok) {
        hoist_pq_write_options_free(o);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory copying Parquet write options");
    }
    *out = o;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_pq_write_options_set_str(struct hoist_pq_write_options *o, enum hoist_pq_write_option opt,
                                         const char *v) {
    if (!o || !v) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write options: NULL argument");
    switch (opt) {
    case HOIST_PQW_COMPRESSION: HX_TRY(hx_pqw_parse_codec(v, &o->codec, &o->level)); break;
    case HOIST_PQW_CREATED_BY: {
        char *s = hx_strdup(v);
        if (!s) HX_FAIL(HOIST_ERR_NOMEM, "out of memory setting created_by");
        hx_free(o->created_by);
        o->created_by = s;
        break;
    }
    default: HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write option %d does not take a string", (int)opt);
    }
    hx_error_clear();
    return HOIST_OK;
}

static hx_status check_range(const char *name, int64_t v, int64_t lo, int64_t hi) {
    HX_FAIL_IF(v < lo || v > hi, HOIST_ERR_INVALID_ARG, "Parquet write option %s: %lld is outside [%lld, %lld]", name,
               (long long)v, (long long)lo, (long long)hi);
    return HOIST_OK;
}

hx_status hoist_pq_write_options_set_int(struct hoist_pq_write_options *o, enum hoist_pq_write_option opt, int64_t v) {
    if (!o) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write options: NULL argument");
    const int64_t big = (int64_t)1 << 40;
    switch (opt) {
    case HOIST_PQW_ROW_GROUP_ROWS:
        HX_TRY(check_range("row_group_rows", v, 1, INT32_MAX));
        o->row_group_rows = v;
        break;
    case HOIST_PQW_ROW_GROUP_BYTES:
        HX_TRY(check_range("row_group_bytes", v, 1, big));
        o->row_group_bytes = v;
        break;
    /* pages are i32-sized (parquet.thrift PageHeader); keep well below */
    case HOIST_PQW_PAGE_BYTES:
        HX_TRY(check_range("page_bytes", v, 1, 1 << 30));
        o->page_bytes = v;
        break;
    case HOIST_PQW_DICT_PAGE_BYTES:
        HX_TRY(check_range("dict_page_bytes", v, 0, 1 << 30));
        o->dict_page_bytes = v;
        break;
    case HOIST_PQW_DICTIONARY:
        HX_TRY(check_range("dictionary", v, 0, 1));
        o->dictionary = (int)v;
        break;
    case HOIST_PQW_DATA_PAGE_VERSION:
        HX_TRY(check_range("data_page_version", v, 1, 2));
        o->page_version = (int)v;
        break;
    case HOIST_PQW_STATISTICS:
        HX_TRY(check_range("statistics", v, 0, 1));
        o->statistics = (int)v;
        break;
    case HOIST_PQW_PAGE_INDEX:
        HX_TRY(check_range("page_index", v, 0, 1));
        o->page_index = (int)v;
        break;
    case HOIST_PQW_PAGE_CRC:
        HX_TRY(check_range("page_crc", v, 0, 1));
        o->page_crc = (int)v;
        break;
    case HOIST_PQW_THREADS:
        HX_TRY(check_range("threads", v, 0, 1024));
        o->threads = (int)v;
        break;
    case HOIST_PQW_STORE_ARROW_SCHEMA:
        HX_TRY(check_range("store_arrow_schema", v, 0, 1));
        o->store_schema = (int)v;
        break;
    default: HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write option %d does not take an integer", (int)opt);
    }
    hx_error_clear();
    return HOIST_OK;
}

static hx_status column(struct hoist_pq_write_options *o, const char *path, struct hx_pqw_colopt **out) {
    if (!o || !path || !*path) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write options: NULL or empty column");
    for (size_t i = 0; i < o->ncols; i++)
        if (strcmp(o->cols[i].path, path) == 0) {
            *out = &o->cols[i];
            return HOIST_OK;
        }
    struct hx_pqw_colopt *c = hx_realloc(o->cols, (o->ncols + 1) * sizeof *c);
    if (!c) HX_FAIL(HOIST_ERR_NOMEM, "out of memory adding column options");
    o->cols = c;
    memset(&c[o->ncols], 0, sizeof *c);
    if (!(c[o->ncols].path = hx_strdup(path))) HX_FAIL(HOIST_ERR_NOMEM, "out of memory adding column options");
    c[o->ncols].dictionary = -1;
    c[o->ncols].level = HX_PQW_LEVEL_DEFAULT;
    *out = &c[o->ncols++];
    return HOIST_OK;
}

hx_status hoist_pq_write_options_set_column_str(struct hoist_pq_write_options *o, const char *col,
                                                enum hoist_pq_write_option opt, const char *v) {
    if (opt != HOIST_PQW_COMPRESSION)
        HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write option %d cannot be set per column as a string", (int)opt);
    enum hx_pq_codec codec;
    int level;
    HX_TRY(hx_pqw_parse_codec(v, &codec, &level));
    struct hx_pqw_colopt *c;
    HX_TRY(column(o, col, &c));
    c->has_codec = 1;
    c->codec = codec;
    c->level = level;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_pq_write_options_set_column_int(struct hoist_pq_write_options *o, const char *col,
                                                enum hoist_pq_write_option opt, int64_t v) {
    if (opt != HOIST_PQW_DICTIONARY)
        HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write option %d cannot be set per column as an integer", (int)opt);
    HX_TRY(check_range("dictionary", v, 0, 1));
    struct hx_pqw_colopt *c;
    HX_TRY(column(o, col, &c));
    c->dictionary = (int)v;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_pq_write_options_set_column_encoding(struct hoist_pq_write_options *o, const char *col,
                                                     const char *encoding) {
    static const struct {
        const char *name;
        enum hx_pqw_enc enc;
    } names[] = {{"plain", PQW_ENC_PLAIN},
                 {"delta_binary_packed", PQW_ENC_DELTA_BINARY_PACKED},
                 {"delta_length_byte_array", PQW_ENC_DELTA_LENGTH_BYTE_ARRAY},
                 {"delta_byte_array", PQW_ENC_DELTA_BYTE_ARRAY},
                 {"byte_stream_split", PQW_ENC_BYTE_STREAM_SPLIT}};
    if (!encoding) HX_FAIL(HOIST_ERR_INVALID_ARG, "column encoding: NULL value");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(encoding, names[i].name) != 0) continue;
        struct hx_pqw_colopt *c;
        HX_TRY(column(o, col, &c));
        c->encoding = names[i].enc;
        hx_error_clear();
        return HOIST_OK;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG,
            "column '%s': encoding '%s' is not one of plain, delta_binary_packed, "
            "delta_length_byte_array, delta_byte_array, byte_stream_split",
            col ? col : "", encoding);
}

hx_status hoist_pq_write_options_set_column_bloom_filter(struct hoist_pq_write_options *o, const char *col, double fpp,
                                                         int64_t ndv) {
    HX_FAIL_IF(!(fpp > 0 && fpp < 1), HOIST_ERR_INVALID_ARG, "bloom filter fpp must be in (0, 1)");
    HX_FAIL_IF(ndv < 1, HOIST_ERR_INVALID_ARG, "bloom filter ndv must be at least 1");
    struct hx_pqw_colopt *c;
    HX_TRY(column(o, col, &c));
    c->bloom_fpp = fpp;
    c->bloom_ndv = ndv;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_pq_write_options_add_metadata(struct hoist_pq_write_options *o, const char *key, const char *value) {
    if (!o || !key || !value) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet write options: NULL metadata key or value");
    char **kv = hx_realloc(o->kv, (o->nkv + 1) * 2 * sizeof *kv);
    if (!kv) HX_FAIL(HOIST_ERR_NOMEM, "out of memory adding metadata '%s'", key);
    o->kv = kv;
    char *k = hx_strdup(key), *v = hx_strdup(value);
    if (!k || !v) {
        hx_free(k);
        hx_free(v);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory adding metadata '%s'", key);
    }
    kv[2 * o->nkv] = k;
    kv[2 * o->nkv + 1] = v;
    o->nkv++;
    hx_error_clear();
    return HOIST_OK;
}
