/*
 * ice_avro.c — Iceberg's Avro files, read with avro-c: a manifest list
 * (spec: manifest_file records) and a manifest (spec: manifest_entry
 * records with their data_file). The container format, codecs and the
 * binary decoding are avro-c's; this file maps records to the planner's
 * structs by field name (names are fixed by the spec for both versions;
 * v1 lacks content and sequence numbers, which default to data and 0).
 *
 * avro-c reads from a FILE: the bytes fetched into memory are handed to it
 * through fmemopen. avro-c uses its own allocator, like jansson: its
 * failures come back as errors, and hoist's failure injection does not reach
 * it. That allocator is bounded (below): avro-c trusts the lengths it reads,
 * so a corrupt block or string length would otherwise ask for up to 2^64
 * bytes (the sanitizers abort on that; without them it may exhaust memory).
 */
#include "iceberg_internal.h"

#include <avro.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No single allocation of a manifest's decoding comes near this: a block, a
 * string or an array of a manifest is smaller than the file. */
#define ICE_AVRO_MAX_ALLOC (256u * 1024u * 1024u)

/* avro-c's allocator contract (allocation.h): nsize 0 frees, else realloc.
 * Process-wide, set once; it frees and reallocates with the C library, as
 * avro-c's default does, so memory from before it was set stays compatible. */
static void *bounded_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return nsize > ICE_AVRO_MAX_ALLOC ? NULL : realloc(ptr, nsize);
}

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;
static void set_allocator(void) { avro_set_allocator(bounded_alloc, NULL); }

struct ice_avro {
    FILE *fp;
    avro_file_reader_t reader;
    avro_value_iface_t *iface;
    avro_value_t value;
    bool has_value;
    char *url;
    struct ice_summary *summaries; /* the current manifest_file's partition summaries */
    size_t summaries_cap;
};

void hx_ice_avro_close(struct ice_avro *r) {
    if (!r) return;
    if (r->has_value) avro_value_decref(&r->value);
    if (r->iface) avro_value_iface_decref(r->iface);
    if (r->reader) avro_file_reader_close(r->reader);
    if (r->fp) fclose(r->fp);
    hx_free(r->summaries);
    hx_free(r->url);
    hx_free(r);
}

static hx_status corrupt(const struct ice_avro *r, const char *what) {
    return hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg Avro file: %s", r->url, what);
}

/* The container header (spec: magic, then a map<bytes> of metadata holding
 * "avro.schema" and "avro.codec", then the sync marker), decoded with avro-c
 * before avro_file_reader_fp sees it: that function leaks what it allocated
 * when the header is corrupt (avro-c 1.11 io.c file_read_header returns
 * without freeing), while here every failure frees what it made. A header
 * that passes decodes the same way inside avro_file_reader_fp. */
static hx_status check_header(const void *data, size_t len, const char *url) {
    hx_status st = HOIST_OK;
    avro_reader_t rd = avro_reader_memory((const char *)data + 4, (int64_t)(len - 4));
    avro_schema_t bytes = avro_schema_bytes();
    avro_schema_t map = bytes ? avro_schema_map(bytes) : NULL;
    avro_value_iface_t *iface = map ? avro_generic_class_from_schema(map) : NULL;
    avro_value_t meta, v;
    bool have_meta = iface && avro_generic_value_new(iface, &meta) == 0;
    if (!rd || !have_meta) {
        st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory for the Avro header", url);
    } else if (avro_value_read(rd, &meta) != 0) {
        st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg Avro file: a corrupt header: %s", url, avro_strerror());
    } else {
        const void *text = NULL;
        size_t n = 0;
        avro_schema_t schema = NULL;
        avro_value_iface_t *cls = NULL;
        if (avro_value_get_by_name(&meta, "avro.codec", &v, NULL) == 0 && avro_value_get_bytes(&v, &text, &n) == 0) {
            static const char *const codecs[] = {"null", "deflate", "snappy", "lzma"};
            bool known = false;
            for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
                known |= n == strlen(codecs[i]) && memcmp(text, codecs[i], n) == 0;
            if (!known)
                st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg Avro file: unknown codec '%.*s'", url,
                              (int)(n < 64 ? n : 64), (const char *)text);
        }
        if (st == HOIST_OK &&
            (avro_value_get_by_name(&meta, "avro.schema", &v, NULL) != 0 || avro_value_get_bytes(&v, &text, &n) != 0))
            st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg Avro file: no avro.schema in the header", url);
        if (st == HOIST_OK && avro_schema_from_json_length(text, n, &schema) != 0) {
            /* avro-c 1.11 may leave *schema pointing at what it already freed */
            schema = NULL;
            st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg Avro file: a bad schema: %s", url, avro_strerror());
        }
        if (st == HOIST_OK && !(cls = avro_generic_class_from_schema(schema)))
            st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: Iceberg Avro file: a bad schema: %s", url, avro_strerror());
        if (cls) avro_value_iface_decref(cls);
        if (schema) avro_schema_decref(schema);
    }
    if (have_meta) avro_value_decref(&meta);
    if (iface) avro_value_iface_decref(iface);
    if (map) avro_schema_decref(map);
    if (bytes) avro_schema_decref(bytes);
    if (rd) avro_reader_free(rd);
    return st;
}

hx_status hx_ice_avro_open(const void *data, size_t len, const char *url, struct ice_avro **out) {
    *out = NULL;
    /* spec (Avro): an object container file starts with "Obj" 1 */
    if (len < 4 || memcmp(data, "Obj\x01", 4) != 0)
        return hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: not an Avro object container file (no \"Obj\\x01\" magic)",
                        url);
    pthread_once(&alloc_once, set_allocator);
    HX_TRY(check_header(data, len, url));
    struct ice_avro *r = hx_calloc(1, sizeof *r);
    if (!r || !(r->url = hx_strdup(url))) {
        hx_free(r);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    r->fp = fmemopen((void *)data, len, "rb");
    if (!r->fp) {
        hx_ice_avro_close(r);
        return hx_error(HOIST_ERR_NOMEM, "%s: cannot open the Avro bytes in memory", url);
    }
    /* should_close = 0: the FILE is ours to close, also when avro-c fails */
    if (avro_file_reader_fp(r->fp, url, 0, &r->reader) != 0) {
        r->reader = NULL;
        hx_status st = corrupt(r, avro_strerror());
        hx_ice_avro_close(r);
        return st;
    }
    /* get_writer_schema hands out a reference of its own (io.c increfs) */
    avro_schema_t schema = avro_file_reader_get_writer_schema(r->reader);
    if (!schema || !is_avro_record(schema)) {
        if (schema) avro_schema_decref(schema);
        hx_status st = corrupt(r, "the records are not Avro records");
        hx_ice_avro_close(r);
        return st;
    }
    r->iface = avro_generic_class_from_schema(schema);
    avro_schema_decref(schema); /* the class keeps its own reference */
    if (!r->iface || avro_generic_value_new(r->iface, &r->value) != 0) {
        hx_status st = corrupt(r, avro_strerror());
        hx_ice_avro_close(r);
        return st;
    }
    r->has_value = true;
    *out = r;
    return HOIST_OK;
}

/* The record's member `name`, through a ["null", T] union; false when the
 * member is absent or null. */
static bool member(const avro_value_t *rec, const char *name, avro_value_t *out) {
    if (avro_value_get_type(rec) != AVRO_RECORD) return false;
    if (avro_value_get_by_name(rec, name, out, NULL) != 0) return false;
    if (avro_value_get_type(out) == AVRO_UNION) {
        avro_value_t branch;
        if (avro_value_get_current_branch(out, &branch) != 0) return false;
        *out = branch;
    }
    return avro_value_get_type(out) != AVRO_NULL;
}

static bool as_long(const avro_value_t *v, int64_t *out) {
    int32_t i;
    switch (avro_value_get_type(v)) {
    case AVRO_INT32:
        if (avro_value_get_int(v, &i) != 0) return false;
        *out = i;
        return true;
    case AVRO_INT64: return avro_value_get_long(v, out) == 0;
    default: return false;
    }
}

static bool member_long(const avro_value_t *rec, const char *name, int64_t *out) {
    avro_value_t v;
    return member(rec, name, &v) && as_long(&v, out);
}

/* Bytes of a string, bytes or fixed value (strings without avro-c's NUL). */
static bool as_bytes(const avro_value_t *v, const uint8_t **b, size_t *len) {
    const void *p = NULL;
    size_t n = 0;
    switch (avro_value_get_type(v)) {
    case AVRO_STRING: {
        const char *s;
        if (avro_value_get_string(v, &s, &n) != 0) return false;
        p = s;
        n = n ? n - 1 : 0;
        break;
    }
    case AVRO_BYTES:
        if (avro_value_get_bytes(v, &p, &n) != 0) return false;
        break;
    case AVRO_FIXED:
        if (avro_value_get_fixed(v, &p, &n) != 0) return false;
        break;
    default: return false;
    }
    *b = p ? p : (const uint8_t *)"";
    *len = n;
    return true;
}

static bool member_string(const avro_value_t *rec, const char *name, const char **out) {
    avro_value_t v;
    const char *s;
    size_t n;
    if (!member(rec, name, &v) || avro_value_get_type(&v) != AVRO_STRING) return false;
    if (avro_value_get_string(&v, &s, &n) != 0 || !s) return false;
    *out = s;
    return true;
}

/* Reads the next record into r->value; *eof at the end of the file. */
static hx_status read_record(struct ice_avro *r, bool *eof) {
    *eof = false;
    avro_value_reset(&r->value);
    int rc = avro_file_reader_read_value(r->reader, &r->value);
    if (rc == EOF) {
        *eof = true;
        return HOIST_OK;
    }
    return rc == 0 ? HOIST_OK : corrupt(r, avro_strerror());
}

hx_status hx_ice_avro_next_manifest(struct ice_avro *r, struct ice_manifest_ref *out, bool *eof) {
    memset(out, 0, sizeof *out);
    hx_status rs = read_record(r, eof);
    if (rs != HOIST_OK || *eof) return rs;
    int64_t spec_id = 0, content = 0;
    if (!member_string(&r->value, "manifest_path", &out->path)) return corrupt(r, "a manifest without manifest_path");
    if (!member_long(&r->value, "partition_spec_id", &spec_id) || spec_id < INT32_MIN || spec_id > INT32_MAX)
        return corrupt(r, "a manifest without partition_spec_id");
    (void)member_long(&r->value, "content", &content); /* v1: absent, data */
    out->spec_id = (int)spec_id;
    out->content = (int)content;
    (void)member_long(&r->value, "sequence_number", &out->sequence_number);
    avro_value_t parts;
    size_t n = 0;
    if (member(&r->value, "partitions", &parts) && avro_value_get_type(&parts) == AVRO_ARRAY &&
        avro_value_get_size(&parts, &n) == 0 && n > 0) {
        if (n > r->summaries_cap) {
            struct ice_summary *grown = hx_realloc(r->summaries, n * sizeof *grown);
            if (!grown) return hx_error(HOIST_ERR_NOMEM, "out of memory");
            r->summaries = grown;
            r->summaries_cap = n;
        }
        for (size_t i = 0; i < n; i++) {
            struct ice_summary *s = &r->summaries[i];
            memset(s, 0, sizeof *s);
            avro_value_t fs, v, u;
            int b = 1;
            if (avro_value_get_by_index(&parts, i, &fs, NULL) != 0) return corrupt(r, "a bad partition summary");
            if (member(&fs, "contains_null", &v) && avro_value_get_type(&v) == AVRO_BOOLEAN)
                (void)avro_value_get_boolean(&v, &b);
            s->contains_null = b != 0;
            if (!(member(&fs, "lower_bound", &v) && member(&fs, "upper_bound", &u) &&
                  as_bytes(&v, &s->lower, &s->lower_len) && as_bytes(&u, &s->upper, &s->upper_len)))
                s->lower = s->upper = NULL;
        }
        out->summaries = r->summaries;
        out->nsummaries = n;
    }
    return HOIST_OK;
}

hx_status hx_ice_avro_next_entry(struct ice_avro *r, struct ice_entry *out, bool *eof) {
    memset(out, 0, sizeof *out);
    hx_status rs = read_record(r, eof);
    if (rs != HOIST_OK || *eof) return rs;
    int64_t status, content = 0;
    if (!member_long(&r->value, "status", &status) || status < 0 || status > 2)
        return corrupt(r, "a manifest entry without a status of 0, 1 or 2");
    out->status = (int)status;
    out->has_sequence_number = member_long(&r->value, "sequence_number", &out->sequence_number);
    avro_value_t df;
    if (!member(&r->value, "data_file", &df) || avro_value_get_type(&df) != AVRO_RECORD)
        return corrupt(r, "a manifest entry without data_file");
    (void)member_long(&df, "content", &content); /* v1: absent, data */
    out->content = (int)content;
    if (!member_string(&df, "file_path", &out->path)) return corrupt(r, "a data file without file_path");
    if (!member_string(&df, "file_format", &out->format)) return corrupt(r, "a data file without file_format");
    if (!member_long(&df, "record_count", &out->record_count) || out->record_count < 0)
        return corrupt(r, "a data file without record_count");
    if (!member_long(&df, "file_size_in_bytes", &out->file_size) || out->file_size < 0)
        return corrupt(r, "a data file without file_size_in_bytes");
    out->avro_file = &r->value;
    return HOIST_OK;
}

static bool data_file(const struct ice_entry *e, avro_value_t *df) {
    return e->avro_file && member(e->avro_file, "data_file", df);
}

static void put_le(uint8_t *buf, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(v >> (8 * i));
}

bool hx_ice_entry_partition(const struct ice_entry *e, size_t i, enum ice_type t, uint8_t *buf, size_t cap,
                            const uint8_t **val, size_t *len) {
    avro_value_t df, part, v;
    size_t n;
    if (cap < 8 || !data_file(e, &df) || !member(&df, "partition", &part) || avro_value_get_type(&part) != AVRO_RECORD)
        return false;
    if (avro_value_get_size(&part, &n) != 0 || i >= n || avro_value_get_by_index(&part, i, &v, NULL) != 0) return false;
    if (avro_value_get_type(&v) == AVRO_UNION) {
        avro_value_t branch;
        if (avro_value_get_current_branch(&v, &branch) != 0) return false;
        v = branch;
    }
    if (avro_value_get_type(&v) == AVRO_NULL) {
        *val = NULL;
        *len = 0;
        return true;
    }
    int64_t l;
    int b;
    float f;
    double d;
    /* spec: "Binary single-value serialization": little-endian fixed widths */
    switch (t) {
    case ICE_T_INT:
    case ICE_T_DATE:
        if (!as_long(&v, &l)) return false;
        put_le(buf, (uint64_t)l, 4);
        *len = 4;
        break;
    case ICE_T_LONG:
    case ICE_T_TIME:
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ:
    case ICE_T_TIMESTAMP_NS:
    case ICE_T_TIMESTAMPTZ_NS:
        if (!as_long(&v, &l)) return false;
        put_le(buf, (uint64_t)l, 8);
        *len = 8;
        break;
    case ICE_T_BOOLEAN:
        if (avro_value_get_type(&v) != AVRO_BOOLEAN || avro_value_get_boolean(&v, &b) != 0) return false;
        buf[0] = b != 0;
        *len = 1;
        break;
    case ICE_T_FLOAT:
        if (avro_value_get_type(&v) != AVRO_FLOAT || avro_value_get_float(&v, &f) != 0) return false;
        memcpy(buf, &f, 4); /* x86-64 and aarch64: little-endian */
        *len = 4;
        break;
    case ICE_T_DOUBLE:
        if (avro_value_get_type(&v) != AVRO_DOUBLE || avro_value_get_double(&v, &d) != 0) return false;
        memcpy(buf, &d, 8);
        *len = 8;
        break;
    default: return as_bytes(&v, val, len); /* strings, binary, decimals (big-endian), uuid, fixed */
    }
    *val = buf;
    return true;
}

/* spec: the metric maps are Avro arrays of {key: int, value: ...} records
 * (logicalType "map", since Avro maps key by string). */
static bool map_lookup(const struct ice_entry *e, const char *map, int field_id, avro_value_t *out) {
    avro_value_t df, arr;
    size_t n;
    if (!data_file(e, &df) || !member(&df, map, &arr) || avro_value_get_type(&arr) != AVRO_ARRAY ||
        avro_value_get_size(&arr, &n) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        avro_value_t kv, k;
        int64_t key;
        if (avro_value_get_by_index(&arr, i, &kv, NULL) != 0) return false;
        if (member(&kv, "key", &k) && as_long(&k, &key) && key == field_id) return member(&kv, "value", out);
    }
    return false;
}

bool hx_ice_entry_bound(const struct ice_entry *e, const char *map, int field_id, const uint8_t **val, size_t *len) {
    avro_value_t v;
    return map_lookup(e, map, field_id, &v) && as_bytes(&v, val, len);
}

bool hx_ice_entry_count(const struct ice_entry *e, const char *map, int field_id, int64_t *out) {
    avro_value_t v;
    return map_lookup(e, map, field_id, &v) && as_long(&v, out) && *out >= 0;
}

/* Appends text to a growing buffer; false when out of memory. */
static bool key_add(char **buf, size_t *len, size_t *cap, const char *text, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *grown = hx_realloc(*buf, ncap);
        if (!grown) return false;
        *buf = grown;
        *cap = ncap;
    }
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

hx_status hx_ice_entry_partition_key(const struct ice_entry *e, char **out) {
    *out = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n = 0;
    avro_value_t df, part;
    if (!key_add(&buf, &len, &cap, "", 0)) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (data_file(e, &df) && member(&df, "partition", &part) && avro_value_get_type(&part) == AVRO_RECORD &&
        avro_value_get_size(&part, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            avro_value_t v;
            char text[64];
            const uint8_t *b;
            size_t blen;
            int64_t l;
            int flag;
            float f;
            double d;
            bool ok = true;
            if (avro_value_get_by_index(&part, i, &v, NULL) != 0) break;
            if (avro_value_get_type(&v) == AVRO_UNION) {
                avro_value_t branch;
                if (avro_value_get_current_branch(&v, &branch) != 0) break;
                v = branch;
            }
            /* one tagged token per value: equal keys are equal partitions */
            if (avro_value_get_type(&v) == AVRO_NULL) {
                ok = key_add(&buf, &len, &cap, "n;", 2);
            } else if (as_long(&v, &l)) {
                ok = key_add(&buf, &len, &cap, text, (size_t)snprintf(text, sizeof text, "i%lld;", (long long)l));
            } else if (avro_value_get_type(&v) == AVRO_BOOLEAN && avro_value_get_boolean(&v, &flag) == 0) {
                ok = key_add(&buf, &len, &cap, flag ? "t1;" : "t0;", 3);
            } else if (avro_value_get_type(&v) == AVRO_FLOAT && avro_value_get_float(&v, &f) == 0) {
                ok = key_add(&buf, &len, &cap, text, (size_t)snprintf(text, sizeof text, "f%a;", (double)f));
            } else if (avro_value_get_type(&v) == AVRO_DOUBLE && avro_value_get_double(&v, &d) == 0) {
                ok = key_add(&buf, &len, &cap, text, (size_t)snprintf(text, sizeof text, "f%a;", d));
            } else if (as_bytes(&v, &b, &blen)) {
                ok = key_add(&buf, &len, &cap, "b", 1);
                for (size_t k = 0; ok && k < blen; k++)
                    ok = key_add(&buf, &len, &cap, text, (size_t)snprintf(text, sizeof text, "%02x", b[k]));
                ok = ok && key_add(&buf, &len, &cap, ";", 1);
            } else {
                ok = key_add(&buf, &len, &cap, "?;", 2);
            }
            if (!ok) {
                hx_free(buf);
                return hx_error(HOIST_ERR_NOMEM, "out of memory");
            }
        }
    }
    *out = buf;
    return HOIST_OK;
}
