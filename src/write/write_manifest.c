/* The _SUCCESS manifest (WRITER_API.md section 3): made and read with
 * jansson. jansson allocates with its own (process-wide) functions: hoist
 * leaves them alone so a host program using jansson is not disturbed, and
 * copies every result into hx_ memory before returning. */
#include "write_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *simple_type(const char *f) {
    static const struct {
        const char *fmt, *name;
    } names[] = {{"n", "null"},         {"b", "bool"},         {"c", "int8"},         {"C", "uint8"},
                 {"s", "int16"},        {"S", "uint16"},       {"i", "int32"},        {"I", "uint32"},
                 {"l", "int64"},        {"L", "uint64"},       {"e", "float16"},      {"f", "float"},
                 {"g", "double"},       {"z", "binary"},       {"Z", "large_binary"}, {"u", "string"},
                 {"U", "large_string"}, {"tdD", "date32"},     {"tdm", "date64"},     {"tts", "time32[s]"},
                 {"ttm", "time32[ms]"}, {"ttu", "time64[us]"}, {"ttn", "time64[ns]"}, {"+s", "struct"},
                 {"+l", "list"},        {"+L", "large_list"},  {"+m", "map"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(f, names[i].fmt) == 0) return names[i].name;
    return NULL;
}

hx_status hx_write_type_name(const struct ArrowSchema *s, struct hx_buf *out) {
    const char *f = s->format;
    if (s->dictionary) {
        HX_TRY(hx_buf_append_str(out, "dictionary<"));
        HX_TRY(hx_write_type_name(s->dictionary, out));
        return hx_buf_append_str(out, ">");
    }
    const char *n = simple_type(f);
    if (n && (strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0) && s->n_children == 1) {
        HX_TRY(hx_buf_printf(out, "%s<", n));
        HX_TRY(hx_write_type_name(s->children[0], out));
        return hx_buf_append_str(out, ">");
    }
    if (n) return hx_buf_append_str(out, n);
    const char *unit =
        f[0] == 't' && f[1] == 's' && f[3] == ':' ? hx_arrow_time_unit_name(hx_arrow_time_unit(f[2])) : NULL;
    if (unit) {
        return f[4] ? hx_buf_printf(out, "timestamp[%s, tz=%s]", unit, f + 4)
                    : hx_buf_printf(out, "timestamp[%s]", unit);
    }
    if (f[0] == 'd' && f[1] == ':') return hx_buf_printf(out, "decimal(%s)", f + 2);
    if (f[0] == 'w' && f[1] == ':') return hx_buf_printf(out, "fixed_size_binary[%s]", f + 2);
    return hx_buf_append_str(out, f); /* the Arrow format string itself */
}

hx_status hx_write_check_json_object(const char *json) {
    json_error_t e;
    json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, &e);
    int ok = v != NULL && json_is_object(v);
    json_decref(v);
    HX_FAIL_IF(!ok, HOIST_ERR_INVALID_ARG, "lineage must be a JSON object%s%s", v ? "" : ": ", v ? "" : e.text);
    return HOIST_OK;
}

/* Every call below can only fail on allocation; one check at the end
 * (json_dumps of a tree with a NULL hole returns NULL) covers them. */
static json_t *file_entry(const struct hx_wfile *f, const struct hoist_write_config *cfg) {
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(f->relpath));
    json_object_set_new(o, "rows", json_integer(f->rows));
    json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
    json_object_set_new(o, "row_groups", json_integer(f->row_groups));
    if (cfg->npartition_by > 0 && f->part) {
        json_t *p = json_object();
        for (size_t i = 0; i < cfg->npartition_by && i < f->part->nvalues; i++)
            json_object_set_new(p, cfg->partition_by[i],
                                f->part->values[i] ? json_string(f->part->values[i]) : json_null());
        json_object_set_new(o, "partition", p);
    }
    return o;
}

static const char *existing_name(enum hx_write_existing e) {
    return e == HX_EXISTING_OVERWRITE ? "overwrite" : e == HX_EXISTING_APPEND ? "append" : "error";
}

/* Lists the old manifest's files that are kept. */
static void add_old_files(json_t *files, const struct hx_manifest_in *in, int64_t *rows, int64_t *bytes) {
    const char *old = in->old_manifest;
    json_t *prev = json_loads(old, 0, NULL);
    json_t *pf = prev ? json_object_get(prev, "files") : NULL;
    size_t i;
    json_t *e;
    if (json_is_array(pf)) {
        json_array_foreach(pf, i, e) {
            if (!json_is_object(e) || !json_is_string(json_object_get(e, "path"))) continue;
            if (in->keep_old && !in->keep_old(in->keep_ud, json_string_value(json_object_get(e, "path")))) continue;
            json_array_append(files, e);
            *rows += json_integer_value(json_object_get(e, "rows"));
            *bytes += json_integer_value(json_object_get(e, "bytes"));
        }
    }
    json_decref(prev);
}

hx_status hx_write_manifest(const struct hx_manifest_in *in, char **out) {
    *out = NULL;
    const struct hoist_write_config *cfg = in->cfg;
    json_t *m = json_object();
    HX_FAIL_IF(m == NULL, HOIST_ERR_NOMEM, "out of memory");
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    char by[64];
    snprintf(by, sizeof by, "hoist %s", hoist_version());
    json_object_set_new(m, "format", json_string("hoist-manifest"));
    json_object_set_new(m, "version", json_integer(1));
    json_object_set_new(m, "write_id", json_string(in->write_id));
    json_object_set_new(m, "created", json_string(created));
    json_object_set_new(m, "created_by", json_string(by));
    json_t *files = json_array();
    int64_t rows = 0, bytes = 0;
    if (in->old_manifest) add_old_files(files, in, &rows, &bytes);
    for (size_t i = 0; i < in->nfiles; i++) {
        json_array_append_new(files, file_entry(in->files[i], cfg));
        rows += in->files[i]->rows;
        bytes += (int64_t)in->files[i]->bytes;
    }
    json_object_set_new(m, "files", files);
    json_object_set_new(m, "rows", json_integer(rows));
    json_object_set_new(m, "bytes", json_integer(bytes));
    json_t *pb = json_array();
    for (size_t i = 0; i < cfg->npartition_by; i++) json_array_append_new(pb, json_string(cfg->partition_by[i]));
    json_object_set_new(m, "partition_by", pb);
    json_t *schema = json_array();
    hx_status st = HOIST_OK;
    struct hx_buf tn;
    hx_buf_init(&tn);
    for (int64_t i = 0; st == HOIST_OK && i < in->schema->n_children; i++) {
        const struct ArrowSchema *c = in->schema->children[i];
        tn.len = 0;
        st = hx_write_type_name(c, &tn);
        if (st != HOIST_OK) break;
        json_t *col = json_object();
        json_object_set_new(col, "name", json_string(c->name ? c->name : ""));
        json_object_set_new(col, "type", json_string(tn.data));
        json_object_set_new(col, "nullable", json_boolean((c->flags & 2) != 0));
        json_array_append_new(schema, col);
    }
    hx_buf_reset(&tn);
    json_object_set_new(m, "schema", schema);
    json_t *opts = json_object();
    json_object_set_new(opts, "max_rows_per_file", json_integer(cfg->max_rows_per_file));
    json_object_set_new(opts, "max_bytes_per_file", json_integer(cfg->max_bytes_per_file));
    json_object_set_new(opts, "existing", json_string(existing_name(cfg->existing)));
    json_object_set_new(opts, "keep_partition_columns", json_boolean(cfg->keep_partition_columns));
    json_object_set_new(m, "options", opts);
    if (cfg->lineage_json) json_object_set_new(m, "lineage", json_loads(cfg->lineage_json, 0, NULL));
    char *text = st == HOIST_OK ? json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(m);
    if (st != HOIST_OK) return st;
    HX_FAIL_IF(text == NULL, HOIST_ERR_NOMEM, "out of memory writing the manifest");
    *out = hx_strdup(text);
    free(text);
    HX_FAIL_IF(*out == NULL, HOIST_ERR_NOMEM, "out of memory writing the manifest");
    return HOIST_OK;
}
