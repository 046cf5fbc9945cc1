/*
 * ice_meta.c — an Iceberg table metadata file (JSON, jansson) as what a
 * read plan needs: the snapshot to read and its manifest list, the schema
 * it is read with, the partition specs, and the check that no top-level
 * column was renamed (hoist reads Parquet columns by name, Iceberg maps them
 * by field id: a renamed column would read wrongly from older files).
 */
#include "iceberg_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* jansson keeps its own allocator (see ds_manifest.c): only what this file
 * keeps goes through hx_malloc. */

void hx_ice_meta_free(struct ice_meta *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nfields; i++) hx_free(m->fields[i].name);
    hx_free(m->fields);
    for (size_t i = 0; i < m->nspecs; i++) hx_free(m->specs[i].fields);
    hx_free(m->specs);
    hx_free(m->schema_json);
    hx_free(m->manifest_list);
    hx_free(m);
}

const struct ice_spec *hx_ice_meta_spec(const struct ice_meta *m, int spec_id) {
    for (size_t i = 0; i < m->nspecs; i++)
        if (m->specs[i].id == spec_id) return &m->specs[i];
    return NULL;
}

int hx_ice_meta_field_index(const struct ice_meta *m, int field_id) {
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].id == field_id) return (int)i;
    return -1;
}

static hx_status corrupt(const char *url, const char *what) {
    return hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg table metadata: %s", url, what);
}

/* An integer member (JSON integer), or false. */
static bool get_int(const json_t *obj, const char *key, int64_t *out) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* spec: "Primitive Types" names; the Arrow format is what the filter binds
 * literals with (timestamps in micro- or nanoseconds, as stored). */
static void set_type(struct ice_field *f, const json_t *type) {
    f->type = ICE_T_OTHER;
    f->format[0] = '\0';
    if (!json_is_string(type)) return; /* struct, list, map */
    const char *t = json_string_value(type);
    static const struct {
        const char *name;
        enum ice_type type;
        const char *format;
    } prim[] = {
        {"boolean", ICE_T_BOOLEAN, "b"},
        {"int", ICE_T_INT, "i"},
        {"long", ICE_T_LONG, "l"},
        {"float", ICE_T_FLOAT, "f"},
        {"double", ICE_T_DOUBLE, "g"},
        {"date", ICE_T_DATE, "tdD"},
        {"time", ICE_T_TIME, "ttu"},
        {"timestamp", ICE_T_TIMESTAMP, "tsu:"},
        {"timestamptz", ICE_T_TIMESTAMPTZ, "tsu:UTC"},
        {"timestamp_ns", ICE_T_TIMESTAMP_NS, "tsn:"},
        {"timestamptz_ns", ICE_T_TIMESTAMPTZ_NS, "tsn:UTC"},
        {"string", ICE_T_STRING, "u"},
        {"binary", ICE_T_BINARY, "z"},
        {"uuid", ICE_T_UUID, ""},
    };
    for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++)
        if (strcmp(t, prim[i].name) == 0) {
            f->type = prim[i].type;
            snprintf(f->format, sizeof f->format, "%s", prim[i].format);
            return;
        }
    int p, s;
    if (sscanf(t, "decimal(%d, %d)", &p, &s) == 2 || sscanf(t, "decimal(%d,%d)", &p, &s) == 2) {
        if (p < 1 || p > 38 || s < 0 || s > p) return;
        f->type = ICE_T_DECIMAL;
        snprintf(f->format, sizeof f->format, "d:%d,%d", p, s);
    } else if (strncmp(t, "fixed[", 6) == 0) {
        f->type = ICE_T_FIXED;
    }
}

/* The schemas of the metadata: v2 "schemas", v1 "schema" (and maybe "schemas"). */
static size_t schema_count(const json_t *root, const json_t **single) {
    const json_t *list = json_object_get(root, "schemas");
    *single = json_object_get(root, "schema");
    return json_is_array(list) ? json_array_size(list) : 0;
}

static const json_t *schema_at(const json_t *root, size_t i) {
    return json_array_get(json_object_get(root, "schemas"), i);
}

/* spec: a field keeps its id for life; a changed name is a rename. */
static hx_status check_renames(const json_t *root, const char *url) {
    const json_t *single;
    size_t n = schema_count(root, &single);
    size_t cap = 0, used = 0;
    struct seen {
        int64_t id;
        const char *name;
    } *seen = NULL;
    hx_status st = HOIST_OK;
    for (size_t s = 0; s <= n && st == HOIST_OK; s++) {
        const json_t *schema = s < n ? schema_at(root, s) : single;
        if (!schema) continue;
        const json_t *fields = json_object_get(schema, "fields");
        for (size_t i = 0; i < json_array_size(fields) && st == HOIST_OK; i++) {
            const json_t *f = json_array_get(fields, i);
            int64_t id;
            const char *name = json_string_value(json_object_get(f, "name"));
            if (!get_int(f, "id", &id) || !name) {
                st = corrupt(url, "a schema field without an integer \"id\" and a \"name\"");
                break;
            }
            size_t k = 0;
            while (k < used && seen[k].id != id) k++;
            if (k < used) {
                if (strcmp(seen[k].name, name) != 0)
                    st = hx_error(HOIST_ERR_UNSUPPORTED,
                                  "Iceberg table %s: column '%s' was renamed to '%s'; hoist reads columns by name "
                                  "and does not map renamed columns yet (read it with pyiceberg, or rewrite the table)",
                                  url, seen[k].name, name);
                continue;
            }
            if (used == cap) {
                size_t ncap = cap ? 2 * cap : 32;
                struct seen *grown = hx_realloc(seen, ncap * sizeof *seen);
                if (!grown) {
                    st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                    break;
                }
                seen = grown;
                cap = ncap;
            }
            seen[used].id = id;
            seen[used++].name = name;
        }
    }
    hx_free(seen);
    return st;
}

static const json_t *find_schema(const json_t *root, int64_t schema_id) {
    const json_t *single;
    size_t n = schema_count(root, &single);
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        if (get_int(schema_at(root, i), "schema-id", &id) && id == schema_id) return schema_at(root, i);
    }
    if (single) {
        int64_t id;
        if (!get_int(single, "schema-id", &id) || id == schema_id) return single;
    }
    return NULL;
}

static hx_status read_schema(struct ice_meta *m, const json_t *schema, const char *url) {
    const json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields)) return corrupt(url, "a schema without \"fields\"");
    size_t n = json_array_size(fields);
    m->fields = hx_calloc(n ? n : 1, sizeof *m->fields);
    if (!m->fields) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fields, i);
        int64_t id;
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!get_int(f, "id", &id) || !name || id < INT32_MIN || id > INT32_MAX)
            return corrupt(url, "a schema field without an integer \"id\" and a \"name\"");
        m->fields[i].id = (int)id;
        m->fields[i].name = hx_strdup(name);
        m->nfields = i + 1;
        if (!m->fields[i].name) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        set_type(&m->fields[i], json_object_get(f, "type"));
    }
    char *text = json_dumps(schema, JSON_COMPACT);
    if (!text) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    m->schema_json = hx_strdup(text);
    free(text); /* jansson's allocation */
    if (!m->schema_json) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

static hx_status read_spec(struct ice_spec *spec, const json_t *fields, const char *url) {
    size_t n = json_array_size(fields);
    spec->fields = hx_calloc(n ? n : 1, sizeof *spec->fields);
    if (!spec->fields) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fields, i);
        int64_t source;
        const char *transform = json_string_value(json_object_get(f, "transform"));
        if (!get_int(f, "source-id", &source) || !transform || source < INT32_MIN || source > INT32_MAX)
            return corrupt(url, "a partition field without \"source-id\" and \"transform\"");
        spec->fields[i].source_id = (int)source;
        spec->fields[i].identity = strcmp(transform, "identity") == 0;
        spec->nfields = i + 1;
    }
    return HOIST_OK;
}

static hx_status read_specs(struct ice_meta *m, const json_t *root, const char *url) {
    const json_t *specs = json_object_get(root, "partition-specs");
    if (json_is_array(specs)) {
        size_t n = json_array_size(specs);
        m->specs = hx_calloc(n ? n : 1, sizeof *m->specs);
        if (!m->specs) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const json_t *s = json_array_get(specs, i);
            int64_t id;
            if (!get_int(s, "spec-id", &id) || id < INT32_MIN || id > INT32_MAX)
                return corrupt(url, "a partition spec without \"spec-id\"");
            m->specs[i].id = (int)id;
            m->nspecs = i + 1;
            HX_TRY(read_spec(&m->specs[i], json_object_get(s, "fields"), url));
        }
        return HOIST_OK;
    }
    /* spec (v1): "partition-spec" is the only spec, id 0 */
    const json_t *fields = json_object_get(root, "partition-spec");
    m->specs = hx_calloc(1, sizeof *m->specs);
    if (!m->specs) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    m->nspecs = 1;
    return read_spec(&m->specs[0], json_is_array(fields) ? fields : NULL, url);
}

static hx_status parse_root(struct ice_meta *m, const json_t *root, const char *url, int64_t snapshot_id) {
    if (!json_is_object(root)) return corrupt(url, "not a JSON object");
    int64_t version;
    if (!get_int(root, "format-version", &version)) return corrupt(url, "no \"format-version\"");
    if (version != 1 && version != 2)
        return hx_error(HOIST_ERR_UNSUPPORTED, "%s: Iceberg format version %lld; hoist reads versions 1 and 2", url,
                        (long long)version);
    m->format_version = (int)version;
    HX_TRY(check_renames(root, url));
    HX_TRY(read_specs(m, root, url));

    int64_t want = snapshot_id;
    if (want < 0 && (!get_int(root, "current-snapshot-id", &want) || want < 0)) want = -1;
    const json_t *snap = NULL;
    if (want >= 0) {
        const json_t *snaps = json_object_get(root, "snapshots");
        for (size_t i = 0; i < json_array_size(snaps); i++) {
            int64_t id;
            if (get_int(json_array_get(snaps, i), "snapshot-id", &id) && id == want) snap = json_array_get(snaps, i);
        }
        if (!snap && snapshot_id >= 0)
            return hx_error(HOIST_ERR_NOT_FOUND, "%s: Iceberg table has no snapshot %lld", url, (long long)snapshot_id);
        if (!snap) return corrupt(url, "\"current-snapshot-id\" names no snapshot");
    }
    /* The read schema, as pyiceberg's scans choose it: a time-travel read
     * uses the snapshot's own schema (the columns of then), a read of the
     * current snapshot the table's current schema. */
    int64_t schema_id = -1;
    if (!(snapshot_id >= 0 && snap && get_int(snap, "schema-id", &schema_id)) &&
        !get_int(root, "current-schema-id", &schema_id))
        schema_id = -1;
    const json_t *schema = find_schema(root, schema_id);
    if (!schema) schema = json_object_get(root, "schema");
    if (!schema) return corrupt(url, "no schema");
    HX_TRY(read_schema(m, schema, url));
    if (!snap) return HOIST_OK;
    m->has_snapshot = true;
    m->snapshot_id = want;
    const char *list = json_string_value(json_object_get(snap, "manifest-list"));
    if (!list) {
        if (json_object_get(snap, "manifests"))
            return hx_error(HOIST_ERR_UNSUPPORTED,
                            "%s: snapshot %lld lists its manifests inline (an early format-version 1 table); hoist "
                            "reads snapshots with a manifest list (read it with pyiceberg, or rewrite the table)",
                            url, (long long)want);
        return corrupt(url, "a snapshot without \"manifest-list\"");
    }
    m->manifest_list = hx_strdup(list);
    if (!m->manifest_list) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

hx_status hx_ice_meta_parse(const void *data, size_t len, const char *url, int64_t snapshot_id, struct ice_meta **out) {
    *out = NULL;
    if (len >= 2 && ((const uint8_t *)data)[0] == 0x1f && ((const uint8_t *)data)[1] == 0x8b)
        return hx_error(HOIST_ERR_UNSUPPORTED, "%s: gzip-compressed Iceberg metadata is not supported yet", url);
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg table metadata is not JSON: %s (line %d)", url,
                        jerr.text, jerr.line);
    struct ice_meta *m = hx_calloc(1, sizeof *m);
    hx_status st = m ? parse_root(m, root, url, snapshot_id) : hx_error(HOIST_ERR_NOMEM, "out of memory");
    json_decref(root);
    if (st != HOIST_OK) {
        hx_ice_meta_free(m);
        return st;
    }
    *out = m;
    return HOIST_OK;
}
