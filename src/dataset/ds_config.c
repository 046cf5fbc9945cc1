/*
 * ds_config.c — hoist_dataset_config: the options of hoist_dataset_open,
 * range-checked by their setters so a bad option fails where it is set,
 * not later inside the open.
 */
#include "ds_open_internal.h"

#include <string.h>

void hx_ds_strv_free(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) hx_free(v[i]);
    hx_free(v);
}

hx_status hx_ds_strv_copy(const char *const *src, size_t n, char ***out) {
    *out = NULL;
    if (n == 0) return HOIST_OK;
    char **v = hx_calloc(n, sizeof *v);
    if (!v) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = hx_strdup(src[i]))) {
            hx_ds_strv_free(v, n);
            return hx_error(HOIST_ERR_NOMEM, "out of memory");
        }
    *out = v;
    return HOIST_OK;
}

hx_status hoist_dataset_config_new(struct hoist_dataset_config **out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_dataset_config_new: out is NULL");
    struct hoist_dataset_config *c = hx_calloc(1, sizeof *c);
    *out = c;
    if (!c) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    c->sample = 1.0;
    c->limit = -1;
    c->hive = 1;
    hx_error_clear();
    return HOIST_OK;
}

void hoist_dataset_config_free(struct hoist_dataset_config *c) {
    if (!c) return;
    hx_ds_strv_free(c->columns, c->ncolumns);
    hx_free(c->filter);
    for (size_t i = 0; i < c->nptypes; i++) hx_free(c->ptypes[i].column);
    hx_free(c->ptypes);
    hoist_csv_options_free(c->csv);
    hx_free(c);
}

hx_status hoist_dataset_config_set_columns(struct hoist_dataset_config *c, const char *const *names, size_t n) {
    HX_FAIL_IF(!c || (n && !names), HOIST_ERR_INVALID_ARG, "set_columns: NULL argument");
    for (size_t i = 0; i < n; i++) {
        HX_FAIL_IF(!names[i] || !names[i][0], HOIST_ERR_INVALID_ARG, "set_columns: column %zu has no name", i);
        for (size_t j = 0; j < i; j++)
            HX_FAIL_IF(strcmp(names[i], names[j]) == 0, HOIST_ERR_INVALID_ARG, "set_columns: column '%s' given twice",
                       names[i]);
    }
    char **v;
    HX_TRY(hx_ds_strv_copy(names, n, &v));
    hx_ds_strv_free(c->columns, c->ncolumns);
    c->columns = v;
    c->ncolumns = n;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_rows_only(struct hoist_dataset_config *c, int on) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_rows_only: NULL config");
    c->rows_only = on != 0;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_filter(struct hoist_dataset_config *c, const char *expr) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_filter: NULL config");
    char *copy = NULL;
    if (expr && *expr) {
        struct ds_filter *f;
        HX_TRY(hx_ds_filter_parse(expr, &f));
        hx_ds_filter_free(f);
        if (!(copy = hx_strdup(expr))) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_free(c->filter);
    c->filter = copy;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_sample(struct hoist_dataset_config *c, double fraction, uint64_t seed) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_sample: NULL config");
    HX_FAIL_IF(!(fraction > 0.0 && fraction <= 1.0), HOIST_ERR_INVALID_ARG, "sample fraction %g is not in (0, 1]",
               fraction);
    c->sample = fraction;
    c->seed = seed;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_limit(struct hoist_dataset_config *c, int64_t rows) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_limit: NULL config");
    HX_FAIL_IF(rows < -1, HOIST_ERR_INVALID_ARG, "row limit %lld is negative", (long long)rows);
    c->limit = rows;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_memory_limit(struct hoist_dataset_config *c, uint64_t bytes) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_memory_limit: NULL config");
    HX_FAIL_IF(bytes != 0 && bytes < 65536, HOIST_ERR_INVALID_ARG, "memory limit %llu is below 64 KiB",
               (unsigned long long)bytes);
    c->memory_limit = bytes;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_threads(struct hoist_dataset_config *c, unsigned threads) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_threads: NULL config");
    HX_FAIL_IF(threads > 1024, HOIST_ERR_INVALID_ARG, "threads %u is more than 1024", threads);
    c->threads = threads;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_skip_bad(struct hoist_dataset_config *c, int skip_bad) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_skip_bad: NULL config");
    c->skip_bad = skip_bad != 0;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_hive(struct hoist_dataset_config *c, int enable) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_hive: NULL config");
    c->hive = enable != 0;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_partition_type(struct hoist_dataset_config *c, const char *column,
                                                  const char *type) {
    HX_FAIL_IF(!c || !column || !*column || !type, HOIST_ERR_INVALID_ARG, "set_partition_type: NULL argument");
    enum ds_ptype t;
    if (!strcmp(type, "int32"))
        t = DS_PT_INT32;
    else if (!strcmp(type, "int64"))
        t = DS_PT_INT64;
    else if (!strcmp(type, "string"))
        t = DS_PT_STRING;
    else if (!strcmp(type, "date32"))
        t = DS_PT_DATE32;
    else
        HX_FAIL(HOIST_ERR_INVALID_ARG, "partition type '%s' for '%s' is not int32, int64, string or date32", type,
                column);
    for (size_t i = 0; i < c->nptypes; i++)
        if (!strcmp(c->ptypes[i].column, column)) {
            c->ptypes[i].type = t;
            hx_error_clear();
            return HOIST_OK;
        }
    struct ptype_override *n = hx_realloc(c->ptypes, (c->nptypes + 1) * sizeof *n);
    if (!n) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    c->ptypes = n;
    if (!(n[c->nptypes].column = hx_strdup(column))) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    n[c->nptypes++].type = t;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_decode_flags(struct hoist_dataset_config *c, unsigned flags) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_decode_flags: NULL config");
    HX_FAIL_IF(flags & ~(unsigned)(HOIST_PQ_NO_CRC | HOIST_PQ_DICT_AS_DICTIONARY), HOIST_ERR_INVALID_ARG,
               "unknown decode flags 0x%x", flags);
    c->decode_flags = flags;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_store_config(struct hoist_dataset_config *c, const struct hoist_store_config *sc) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_store_config: NULL config");
    c->store_cfg = sc;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_progress(struct hoist_dataset_config *c, hoist_progress_fn fn, void *userdata) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_progress: NULL config");
    c->progress = fn;
    c->progress_ud = userdata;
    hx_error_clear();
    return HOIST_OK;
}
