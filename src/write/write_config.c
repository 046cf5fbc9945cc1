/* The dataset writer's options object (hoist_write_config_*). */
#include "write_internal.h"

#include <string.h>

hx_status hoist_write_config_new(struct hoist_write_config **out) {
    *out = NULL;
    struct hoist_write_config *c = hx_calloc(1, sizeof *c);
    HX_FAIL_IF(c == NULL, HOIST_ERR_NOMEM, "out of memory");
    c->max_open_files = 64;
    c->manifest = 1;
    *out = c;
    return HOIST_OK;
}

static void free_names(struct hoist_write_config *c) {
    for (size_t i = 0; i < c->npartition_by; i++) hx_free(c->partition_by[i]);
    hx_free(c->partition_by);
    c->partition_by = NULL;
    c->npartition_by = 0;
}

void hoist_write_config_free(struct hoist_write_config *c) {
    if (c == NULL) return;
    free_names(c);
    hoist_pq_write_options_free(c->pq);
    hx_free(c->name_template);
    hx_free(c->lineage_json);
    hx_free(c->write_id);
    hx_free(c);
}

hx_status hoist_write_config_set_partition_by(struct hoist_write_config *c, const char *const *columns, size_t n) {
    HX_FAIL_IF(c == NULL || (n > 0 && columns == NULL), HOIST_ERR_INVALID_ARG, "partition_by: NULL argument");
    for (size_t i = 0; i < n; i++) {
        HX_FAIL_IF(columns[i] == NULL || columns[i][0] == '\0', HOIST_ERR_INVALID_ARG,
                   "partition_by: empty column name");
        for (size_t j = 0; j < i; j++)
            HX_FAIL_IF(strcmp(columns[i], columns[j]) == 0, HOIST_ERR_INVALID_ARG,
                       "partition_by: column '%s' given twice", columns[i]);
    }
    char **names = hx_calloc(n ? n : 1, sizeof *names);
    HX_FAIL_IF(names == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        names[i] = hx_strdup(columns[i]);
        if (names[i] == NULL) {
            for (size_t j = 0; j < i; j++) hx_free(names[j]);
            hx_free(names);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
        }
    }
    free_names(c);
    c->partition_by = names;
    c->npartition_by = n;
    return HOIST_OK;
}

hx_status hoist_write_config_set_parquet_options(struct hoist_write_config *c, const struct hoist_pq_write_options *o) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "NULL config");
    struct hoist_pq_write_options *copy = NULL;
    if (o) HX_TRY(hoist_pq_write_options_copy(o, &copy));
    hoist_pq_write_options_free(c->pq);
    c->pq = copy;
    return HOIST_OK;
}

static hx_status set_string(char **dst, const char *v) {
    char *n = v ? hx_strdup(v) : NULL;
    HX_FAIL_IF(v && n == NULL, HOIST_ERR_NOMEM, "out of memory");
    hx_free(*dst);
    *dst = n;
    return HOIST_OK;
}

hx_status hoist_write_config_set_str(struct hoist_write_config *c, enum hoist_write_option opt, const char *v) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "NULL config");
    switch (opt) {
    case HOIST_WRITE_EXISTING:
        if (v == NULL || strcmp(v, "error") == 0)
            c->existing = HX_EXISTING_ERROR;
        else if (strcmp(v, "overwrite") == 0)
            c->existing = HX_EXISTING_OVERWRITE;
        else if (strcmp(v, "append") == 0)
            c->existing = HX_EXISTING_APPEND;
        else
            HX_FAIL(HOIST_ERR_INVALID_ARG, "existing: '%s' is not error, overwrite or append", v);
        return HOIST_OK;
    case HOIST_WRITE_NAME_TEMPLATE:
        if (v != NULL) {
            HX_FAIL_IF(strstr(v, "{n}") == NULL, HOIST_ERR_INVALID_ARG,
                       "name template '%s' has no {n} (files of one partition would collide)", v);
            HX_FAIL_IF(strchr(v, '/') != NULL || v[0] == '.' || v[0] == '_', HOIST_ERR_INVALID_ARG,
                       "name template '%s': no '/', and no leading '.' or '_' (readers skip such files)", v);
        }
        return set_string(&c->name_template, v);
    case HOIST_WRITE_LINEAGE_JSON:
        if (v != NULL) HX_TRY(hx_write_check_json_object(v));
        return set_string(&c->lineage_json, v);
    case HOIST_WRITE_COMMIT:
        if (v == NULL || strcmp(v, "now") == 0)
            c->defer = 0;
        else if (strcmp(v, "defer") == 0)
            c->defer = 1;
        else
            HX_FAIL(HOIST_ERR_INVALID_ARG, "commit: '%s' is not now or defer", v);
        return HOIST_OK;
    case HOIST_WRITE_ID:
        if (v != NULL) HX_TRY(hx_write_check_id(v));
        return set_string(&c->write_id, v);
    default: break;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "write option %d is not a string option", (int)opt);
}

hx_status hoist_write_config_set_int(struct hoist_write_config *c, enum hoist_write_option opt, int64_t v) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "NULL config");
    switch (opt) {
    case HOIST_WRITE_MAX_ROWS_PER_FILE:
        HX_FAIL_IF(v < 0, HOIST_ERR_INVALID_ARG, "max_rows_per_file must be >= 0");
        c->max_rows_per_file = v;
        return HOIST_OK;
    case HOIST_WRITE_MAX_BYTES_PER_FILE:
        HX_FAIL_IF(v < 0, HOIST_ERR_INVALID_ARG, "max_bytes_per_file must be >= 0");
        c->max_bytes_per_file = v;
        return HOIST_OK;
    case HOIST_WRITE_KEEP_PARTITION_COLUMNS:
        HX_FAIL_IF(v != 0 && v != 1, HOIST_ERR_INVALID_ARG, "keep_partition_columns is 0 or 1");
        c->keep_partition_columns = (int)v;
        return HOIST_OK;
    case HOIST_WRITE_MEMORY_LIMIT:
        HX_FAIL_IF(v < 0 || (v > 0 && v < ((int64_t)16 << 20)), HOIST_ERR_INVALID_ARG,
                   "memory_limit must be 0 (default) or at least 16 MiB");
        c->memory_limit = v;
        return HOIST_OK;
    case HOIST_WRITE_MAX_OPEN_FILES:
        HX_FAIL_IF(v < 1 || v > 100000, HOIST_ERR_INVALID_ARG, "max_open_files must be 1..100000");
        c->max_open_files = v;
        return HOIST_OK;
    case HOIST_WRITE_MANIFEST:
        HX_FAIL_IF(v != 0 && v != 1, HOIST_ERR_INVALID_ARG, "manifest is 0 or 1");
        c->manifest = (int)v;
        return HOIST_OK;
    default: break;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "write option %d is not an integer option", (int)opt);
}

hx_status hoist_write_config_set_progress(struct hoist_write_config *c, hoist_progress_fn fn, void *userdata) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "NULL config");
    c->progress = fn;
    c->progress_ud = userdata;
    return HOIST_OK;
}
