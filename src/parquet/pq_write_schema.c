/*
 * pq_write_schema.c — the Arrow schema as a Parquet schema: one node per
 * Arrow field with its physical type, annotations (LogicalType and the
 * matching ConvertedType, LogicalTypes.md "Compatibility"), definition and
 * repetition levels, and the value conversion the shredder applies. The
 * mapping is Arrow C++'s (cpp/src/parquet/arrow/schema.cc) so pyarrow reads
 * the files back to the same types; lists and maps use the 3-level shapes
 * with the names LogicalTypes.md requires of writers.
 */
#include "pq_write_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum {
    CT_UTF8 = 0,
    CT_MAP = 1,
    CT_LIST = 3,
    CT_DECIMAL = 5,
    CT_DATE = 6,
    CT_TIME_MILLIS = 7,
    CT_TIME_MICROS = 8,
    CT_TS_MILLIS = 9,
    CT_TS_MICROS = 10,
    CT_UINT_8 = 11,
    CT_UINT_16 = 12,
    CT_UINT_32 = 13,
    CT_UINT_64 = 14,
    CT_INT_8 = 15,
    CT_INT_16 = 16
};

static void set_leaf(struct hx_pqw_node *n, int ptype, enum hx_pqw_conv conv, int in_width, enum hx_pqw_order order) {
    n->ptype = ptype;
    n->conv = conv;
    n->in_width = in_width;
    n->order = order;
}

static void set_int(struct hx_pqw_node *n, int bits, int sign, int converted) {
    n->logical = PQL_INTEGER;
    n->lt_bits = bits;
    n->lt_signed = sign;
    n->converted = converted;
}

/* Arrow C++ DecimalType::DecimalSize: fewest bytes holding `precision` digits. */
static int decimal_size(int precision) {
    int bytes = 1;
    while (bytes < 32) {
        /* largest positive value of a bytes-byte two's complement number has
         * floor(log10(2^(8*bytes-1) - 1)) digits */
        double digits = (8.0 * bytes - 1) * 0.30102999566398120;
        if ((double)precision <= digits) break;
        bytes++;
    }
    return bytes;
}

static hx_status unsupported(const char *name, const char *fmt) {
    HX_FAIL(HOIST_ERR_UNSUPPORTED, "field '%s': Arrow type '%s' cannot be written to Parquet", name, fmt);
}

static hx_status map_time(struct hx_pqw_node *n, const char *f) {
    int unit = hx_arrow_time_unit(f[2]); /* 0 s, 1 ms, 2 us, 3 ns */
    if (unit < 0) return unsupported(n->name, f);
    if (f[1] == 't') { /* time32 s/ms, time64 us/ns */
        if (f[3]) return unsupported(n->name, f);
        n->logical = PQL_TIME;
        n->lt_utc = 0; /* pyarrow's write_time_adjusted_to_utc default */
        if (unit <= 1) {
            set_leaf(n, PQT_INT32, unit == 0 ? WC_MUL32 : WC_COPY, 4, SO_I32);
            n->conv_k = 1000;
            n->lt_unit = PQU_MILLIS;
            n->converted = CT_TIME_MILLIS;
        } else {
            set_leaf(n, PQT_INT64, WC_COPY, 8, SO_I64);
            n->lt_unit = unit == 2 ? PQU_MICROS : PQU_NANOS;
            n->converted = unit == 2 ? CT_TIME_MICROS : -1;
        }
        return HOIST_OK;
    }
    if (f[1] == 's') { /* timestamp: seconds have no Parquet unit and become ms (Arrow C++) */
        if (f[3] != ':') return unsupported(n->name, f);
        set_leaf(n, PQT_INT64, unit == 0 ? WC_MUL64 : WC_COPY, 8, SO_I64);
        n->conv_k = 1000;
        n->logical = PQL_TIMESTAMP;
        n->lt_utc = f[4] != 0;
        n->lt_unit = unit <= 1 ? PQU_MILLIS : unit == 2 ? PQU_MICROS : PQU_NANOS;
        /* ARROW-5878: legacy annotation for millis/micros even when local */
        n->converted = unit <= 1 ? CT_TS_MILLIS : unit == 2 ? CT_TS_MICROS : -1;
        return HOIST_OK;
    }
    if (f[1] == 'D') { /* duration: plain INT64, restored from ARROW:schema */
        if (f[3]) return unsupported(n->name, f);
        set_leaf(n, PQT_INT64, WC_COPY, 8, SO_I64);
        return HOIST_OK;
    }
    return unsupported(n->name, f);
}

/* Physical type and annotations of a leaf from its (value) format. */
static hx_status map_leaf(struct hx_pqw_node *n, const char *f) {
    n->kind = PQW_LEAF;
    n->converted = -1;
    n->logical = PQL_NONE;
    if (f[0] && f[1] == 0) {
        switch (f[0]) {
        case 'n':
            set_leaf(n, PQT_INT32, WC_NULL, 0, SO_NONE);
            n->logical = PQL_UNKNOWN;
            n->nullable = 1;
            return HOIST_OK;
        case 'b': set_leaf(n, PQT_BOOLEAN, WC_BOOL, 0, SO_BOOL); return HOIST_OK;
        case 'c':
            set_leaf(n, PQT_INT32, WC_I8, 1, SO_I32);
            set_int(n, 8, 1, CT_INT_8);
            return HOIST_OK;
        case 'C':
            set_leaf(n, PQT_INT32, WC_U8, 1, SO_U32);
            set_int(n, 8, 0, CT_UINT_8);
            return HOIST_OK;
        case 's':
            set_leaf(n, PQT_INT32, WC_I16, 2, SO_I32);
            set_int(n, 16, 1, CT_INT_16);
            return HOIST_OK;
        case 'S':
            set_leaf(n, PQT_INT32, WC_U16, 2, SO_U32);
            set_int(n, 16, 0, CT_UINT_16);
            return HOIST_OK;
        case 'i': set_leaf(n, PQT_INT32, WC_COPY, 4, SO_I32); return HOIST_OK;
        case 'I':
            set_leaf(n, PQT_INT32, WC_COPY, 4, SO_U32);
            set_int(n, 32, 0, CT_UINT_32);
            return HOIST_OK;
        case 'l': set_leaf(n, PQT_INT64, WC_COPY, 8, SO_I64); return HOIST_OK;
        case 'L':
            set_leaf(n, PQT_INT64, WC_COPY, 8, SO_U64);
            set_int(n, 64, 0, CT_UINT_64);
            return HOIST_OK;
        case 'e':
            set_leaf(n, PQT_FLBA, WC_COPY, 2, SO_F16);
            n->type_length = 2;
            n->logical = PQL_FLOAT16;
            return HOIST_OK;
        case 'f': set_leaf(n, PQT_FLOAT, WC_COPY, 4, SO_FLOAT); return HOIST_OK;
        case 'g': set_leaf(n, PQT_DOUBLE, WC_COPY, 8, SO_DOUBLE); return HOIST_OK;
        case 'z': set_leaf(n, PQT_BYTE_ARRAY, WC_BIN32, 0, SO_BYTES); return HOIST_OK;
        case 'Z': set_leaf(n, PQT_BYTE_ARRAY, WC_BIN64, 0, SO_BYTES); return HOIST_OK;
        case 'u':
        case 'U':
            set_leaf(n, PQT_BYTE_ARRAY, f[0] == 'u' ? WC_BIN32 : WC_BIN64, 0, SO_BYTES);
            n->logical = PQL_STRING;
            n->converted = CT_UTF8;
            return HOIST_OK;
        default: return unsupported(n->name, f);
        }
    }
    if (strcmp(f, "vz") == 0 || strcmp(f, "vu") == 0) {
        set_leaf(n, PQT_BYTE_ARRAY, WC_VIEW, 0, SO_BYTES);
        if (f[1] == 'u') n->logical = PQL_STRING, n->converted = CT_UTF8;
        return HOIST_OK;
    }
    if (f[0] == 'w' && f[1] == ':') {
        char *end;
        long w = strtol(f + 2, &end, 10);
        if (*end || w < 1 || w > INT32_MAX) return unsupported(n->name, f);
        set_leaf(n, PQT_FLBA, WC_COPY, (int)w, SO_BYTES);
        n->type_length = (int)w;
        return HOIST_OK;
    }
    if (f[0] == 'd' && f[1] == ':') {
        char *end;
        long p = strtol(f + 2, &end, 10), s = 0, bits = 128;
        if (*end == ',') s = strtol(end + 1, &end, 10);
        if (*end == ',') bits = strtol(end + 1, &end, 10);
        if (*end || p < 1 || p > 76 || (bits != 32 && bits != 64 && bits != 128 && bits != 256))
            return unsupported(n->name, f);
        set_leaf(n, PQT_FLBA, WC_DEC, (int)(bits / 8), SO_DEC);
        n->type_length = decimal_size((int)p);
        if (n->type_length > n->in_width) return unsupported(n->name, f);
        n->logical = PQL_DECIMAL;
        n->converted = CT_DECIMAL;
        n->precision = (int)p;
        n->scale = (int)s;
        return HOIST_OK;
    }
    if (f[0] == 't' && f[1] == 'd' && (f[2] == 'D' || f[2] == 'm') && !f[3]) {
        set_leaf(n, PQT_INT32, f[2] == 'D' ? WC_COPY : WC_DIV64_32, f[2] == 'D' ? 4 : 8, SO_I32);
        n->conv_k = 86400000; /* date64 ms -> days, C division as Arrow C++ */
        n->logical = PQL_DATE;
        n->converted = CT_DATE;
        return HOIST_OK;
    }
    if (f[0] == 't') return map_time(n, f);
    return unsupported(n->name, f);
}

static hx_status build(struct hx_pqw_schema *s, struct hx_pqw_node *n, const struct ArrowSchema *a, const char *name,
                       int parent_def, int parent_rep, int depth);

/* Field metadata Parquet keeps: the field id (Iceberg's, Arrow C++
 * FieldIdFromMetadata) and the extension types with a Parquet logical type. */
static void apply_metadata(struct hx_pqw_node *n, const char *md) {
    size_t vl;
    const char *v = hx_arrow_metadata_find(md, "PARQUET:field_id", &vl);
    if (v && vl > 0 && vl < 16) {
        char num[16], *end;
        memcpy(num, v, vl);
        num[vl] = 0;
        long id = strtol(num, &end, 10);
        if (!*end && id >= 0 && id <= INT32_MAX) n->has_field_id = 1, n->field_id = (int)id;
    }
    v = hx_arrow_metadata_find(md, "ARROW:extension:name", &vl);
    if (!v || n->kind != PQW_LEAF) return;
    if (vl == 10 && !memcmp(v, "arrow.uuid", 10) && n->ptype == PQT_FLBA && n->type_length == 16) n->logical = PQL_UUID;
    if (vl == 10 && !memcmp(v, "arrow.json", 10) && n->ptype == PQT_BYTE_ARRAY)
        n->logical = PQL_JSON, n->converted = 19 /* JSON */;
}

static hx_status build_children(struct hx_pqw_schema *s, struct hx_pqw_node *n, const struct ArrowSchema *a, int def,
                                int rep, int depth) {
    if (a->n_children < 1)
        HX_FAIL(HOIST_ERR_UNSUPPORTED, "field '%s': a struct without fields cannot be written to Parquet", n->name);
    n->children = hx_calloc((size_t)a->n_children, sizeof *n->children);
    if (!n->children) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
    n->nchildren = (int)a->n_children;
    for (int i = 0; i < n->nchildren; i++) {
        const struct ArrowSchema *c = a->children[i];
        if (!c || !c->format) HX_FAIL(HOIST_ERR_INVALID_ARG, "field '%s': child %d has no schema", n->name, i);
        HX_TRY(build(s, &n->children[i], c, c->name ? c->name : "", def, rep, depth + 1));
    }
    return HOIST_OK;
}

static hx_status build(struct hx_pqw_schema *s, struct hx_pqw_node *n, const struct ArrowSchema *a, const char *name,
                       int parent_def, int parent_rep, int depth) {
    HX_FAIL_IF(depth > 64, HOIST_ERR_UNSUPPORTED, "field '%s': nested too deep", name);
    if (!(n->name = hx_strdup(name))) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
    n->format = a->format;
    n->nullable = (a->flags & ARROW_FLAG_NULLABLE) != 0;
    n->first_leaf = s->nleaves;
    n->converted = -1;
    const char *f = a->format;
    if (a->dictionary) {
        static const char idx[] = "cCsSiIlL";
        const char *p = f[0] && !f[1] ? strchr(idx, f[0]) : NULL;
        if (!p || !a->dictionary->format) return unsupported(name, f);
        n->dict_index_bytes = 1 << ((p - idx) / 2);
        n->dict_index_signed = islower((unsigned char)f[0]) != 0;
        f = a->dictionary->format;
        if (f[0] == '+') return unsupported(name, "dictionary of nested values");
    }
    if (f[0] == '+') {
        n->def = parent_def + n->nullable;
        if (f[1] == 's' && !f[2]) {
            n->kind = PQW_STRUCT;
            HX_TRY(build_children(s, n, a, n->def, parent_rep, depth));
            s->nelements += 1;
        } else if ((f[1] == 'l' || f[1] == 'L') && !f[2]) {
            n->kind = PQW_LIST;
            n->large = f[1] == 'L';
        } else if (f[1] == 'v' && (f[2] == 'l' || f[2] == 'L') && !f[3]) {
            n->kind = PQW_LIST; /* list views: the same LIST shape (Arrow C++ ListToNode) */
            n->view = 1;
            n->large = f[2] == 'L';
        } else if (f[1] == 'w' && f[2] == ':') {
            n->kind = PQW_LIST;
            char *end;
            long k = strtol(f + 3, &end, 10);
            n->fixed_size = (int)k;
            HX_FAIL_IF(*end || k < 0 || k > INT32_MAX, HOIST_ERR_INVALID_ARG, "field '%s': bad format '%s'", name, f);
        } else if (f[1] == 'm' && !f[2]) {
            n->kind = PQW_MAP;
        } else {
            return unsupported(name, f);
        }
        if (n->kind != PQW_STRUCT) {
            if (a->n_children != 1 || !a->children[0] || !a->children[0]->format)
                HX_FAIL(HOIST_ERR_INVALID_ARG, "field '%s': a list or map needs exactly one child", name);
            n->rep = parent_rep + 1;
            n->children = hx_calloc(1, sizeof *n->children);
            if (!n->children) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
            n->nchildren = 1;
            const struct ArrowSchema *c = a->children[0];
            struct hx_pqw_node *e = &n->children[0];
            if (n->kind == PQW_LIST) {
                HX_TRY(build(s, e, c, "element", n->def + 1, n->rep, depth + 1));
                s->nelements += 2;
            } else {
                /* the entries struct is the repeated key_value group itself */
                HX_FAIL_IF(strcmp(c->format, "+s") != 0 || c->n_children != 2, HOIST_ERR_INVALID_ARG,
                           "field '%s': map entries must be a struct of key and value", name);
                if (!(e->name = hx_strdup("key_value"))) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
                e->kind = PQW_STRUCT;
                e->format = c->format;
                e->def = n->def + 1;
                e->first_leaf = s->nleaves;
                e->converted = -1;
                e->children = hx_calloc(2, sizeof *e->children);
                if (!e->children) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
                e->nchildren = 2;
                HX_TRY(build(s, &e->children[0], c->children[0], "key", e->def, n->rep, depth + 2));
                /* keys are required (LogicalTypes.md MAP) */
                HX_FAIL_IF(e->children[0].nullable && e->children[0].kind != PQW_LEAF, HOIST_ERR_UNSUPPORTED,
                           "field '%s': nested nullable map keys", name);
                e->children[0].nullable = 0;
                e->children[0].def = e->def;
                HX_TRY(build(s, &e->children[1], c->children[1], "value", e->def, n->rep, depth + 2));
                e->n_leaves = s->nleaves - e->first_leaf;
                s->nelements += 2;
            }
        }
    } else {
        HX_TRY(map_leaf(n, f));
        n->def = parent_def + n->nullable;
        n->leaf = s->nleaves++;
        s->nelements += 1;
        n->rep = parent_rep;
    }
    n->n_leaves = s->nleaves - n->first_leaf;
    apply_metadata(n, a->metadata);
    return HOIST_OK;
}

static void node_free(struct hx_pqw_node *n) {
    for (int i = 0; i < n->nchildren; i++) node_free(&n->children[i]);
    hx_free(n->children);
    hx_free(n->name);
}

void hx_pqw_schema_free(struct hx_pqw_schema *s) {
    node_free(&s->root);
    for (int i = 0; s->leaves && i < s->nleaves; i++) {
        hx_free(s->leaves[i].path);
        hx_free(s->leaves[i].dotted);
    }
    hx_free(s->leaves);
    memset(s, 0, sizeof *s);
}

/* Fills leaves[] with each leaf's node, path and levels (pre-order). */
static hx_status collect(struct hx_pqw_schema *s, const struct hx_pqw_node *n, const char **path, int depth) {
    path[depth] = n->name;
    if (n->kind == PQW_LIST || n->kind == PQW_MAP) {
        if (n->kind == PQW_LIST) {
            path[depth + 1] = "list";
            return collect(s, &n->children[0], path, depth + 2);
        }
        const struct hx_pqw_node *e = &n->children[0];
        path[depth + 1] = e->name;
        for (int i = 0; i < e->nchildren; i++) HX_TRY(collect(s, &e->children[i], path, depth + 2));
        return HOIST_OK;
    }
    if (n->kind == PQW_STRUCT) {
        for (int i = 0; i < n->nchildren; i++) HX_TRY(collect(s, &n->children[i], path, depth + 1));
        return HOIST_OK;
    }
    struct hx_pqw_leaf *l = &s->leaves[n->leaf];
    l->node = n;
    l->npath = depth; /* path[1..depth] (path[0] is the root) */
    l->path = hx_calloc((size_t)depth, sizeof *l->path);
    size_t len = 0;
    for (int i = 1; i <= depth; i++) len += strlen(path[i]) + 1;
    l->dotted = hx_malloc(len + 1);
    if (!l->path || !l->dotted) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
    l->dotted[0] = 0;
    size_t pos = 0;
    for (int i = 1; i <= depth; i++) {
        l->path[i - 1] = (char *)path[i];
        size_t k = strlen(path[i]);
        if (i > 1) l->dotted[pos++] = '.';
        memcpy(l->dotted + pos, path[i], k);
        pos += k;
    }
    l->dotted[pos] = 0;
    l->max_def = n->def;
    l->max_rep = n->rep;
    return HOIST_OK;
}

static int encoding_fits(enum hx_pqw_enc e, int ptype) {
    switch (e) {
    case PQW_ENC_DEFAULT:
    case PQW_ENC_PLAIN: return 1;
    case PQW_ENC_DELTA_BINARY_PACKED: return ptype == PQT_INT32 || ptype == PQT_INT64;
    case PQW_ENC_DELTA_LENGTH_BYTE_ARRAY: return ptype == PQT_BYTE_ARRAY;
    case PQW_ENC_DELTA_BYTE_ARRAY: return ptype == PQT_BYTE_ARRAY || ptype == PQT_FLBA;
    case PQW_ENC_BYTE_STREAM_SPLIT:
        return ptype == PQT_FLOAT || ptype == PQT_DOUBLE || ptype == PQT_INT32 || ptype == PQT_INT64 ||
               ptype == PQT_FLBA;
    }
    return 0;
}

static hx_status leaf_options(struct hx_pqw_schema *s, const struct hoist_pq_write_options *o) {
    for (int i = 0; i < s->nleaves; i++) {
        struct hx_pqw_leafopt *lo = &s->leaves[i].opt;
        lo->codec = o->codec;
        lo->level = o->level;
        lo->dictionary = o->dictionary && s->leaves[i].node->ptype != PQT_BOOLEAN;
    }
    for (size_t c = 0; c < o->ncols; c++) {
        const struct hx_pqw_colopt *co = &o->cols[c];
        int found = 0;
        for (int i = 0; i < s->nleaves; i++) {
            struct hx_pqw_leaf *l = &s->leaves[i];
            if (strcmp(l->dotted, co->path) != 0) continue;
            found = 1;
            if (co->has_codec) l->opt.codec = co->codec, l->opt.level = co->level;
            if (co->dictionary >= 0) l->opt.dictionary = co->dictionary && l->node->ptype != PQT_BOOLEAN;
            if (co->encoding != PQW_ENC_DEFAULT) {
                HX_FAIL_IF(!encoding_fits(co->encoding, l->node->ptype), HOIST_ERR_INVALID_ARG,
                           "column '%s': its Parquet physical type cannot use the requested encoding", l->dotted);
                l->opt.encoding = co->encoding;
                l->opt.dictionary = 0;
            }
            if (co->bloom_fpp > 0) {
                HX_FAIL_IF(l->node->ptype == PQT_BOOLEAN, HOIST_ERR_INVALID_ARG,
                           "column '%s': bloom filters are not supported for booleans", l->dotted);
                l->opt.bloom_fpp = co->bloom_fpp;
                l->opt.bloom_ndv = co->bloom_ndv;
            }
        }
        HX_FAIL_IF(!found, HOIST_ERR_COLUMN_NOT_FOUND,
                   "Parquet write options name column '%s', which is not a leaf of "
                   "the schema",
                   co->path);
    }
    return HOIST_OK;
}

hx_status hx_pqw_schema_build(const struct ArrowSchema *schema, const struct hoist_pq_write_options *o,
                              struct hx_pqw_schema *s) {
    memset(s, 0, sizeof *s);
    HX_FAIL_IF(!schema || !schema->format || strcmp(schema->format, "+s") != 0, HOIST_ERR_INVALID_ARG,
               "the schema to write must be a struct (format \"+s\")");
    struct hx_pqw_node *r = &s->root;
    r->kind = PQW_STRUCT;
    r->format = schema->format;
    r->converted = -1;
    s->nelements = 1;
    hx_status st;
    r->name = hx_strdup("schema");
    if (!r->name) HX_FAIL(HOIST_ERR_NOMEM, "out of memory mapping the schema");
    if (schema->n_children == 0) HX_FAIL(HOIST_ERR_UNSUPPORTED, "a schema without fields cannot be written to Parquet");
    st = build_children(s, r, schema, 0, 0, 0);
    r->n_leaves = s->nleaves;
    if (st == HOIST_OK) {
        s->leaves = hx_calloc((size_t)s->nleaves, sizeof *s->leaves);
        const char *path[200];
        if (!s->leaves) st = hx_error(HOIST_ERR_NOMEM, "out of memory mapping the schema");
        for (int i = 0; st == HOIST_OK && i < r->nchildren; i++) st = collect(s, &r->children[i], path, 1);
    }
    if (st == HOIST_OK) st = leaf_options(s, o);
    if (st != HOIST_OK) hx_pqw_schema_free(s);
    return st;
}

/* ---- FileMetaData.schema -------------------------------------------------- */

static void write_time_unit(struct hx_tw *w, int unit) {
    hx_tw_struct_begin(w, 2);
    hx_tw_struct_begin(w, (int16_t)unit); /* MILLIS 1, MICROS 2, NANOS 3: empty structs */
    hx_tw_struct_end(w);
    hx_tw_struct_end(w);
}

static void write_logical(struct hx_tw *w, const struct hx_pqw_node *n) {
    hx_tw_struct_begin(w, 10);
    hx_tw_struct_begin(w, (int16_t)n->logical);
    switch (n->logical) {
    case PQL_DECIMAL:
        hx_tw_i32(w, 1, n->scale);
        hx_tw_i32(w, 2, n->precision);
        break;
    case PQL_TIME:
    case PQL_TIMESTAMP:
        hx_tw_bool(w, 1, n->lt_utc);
        write_time_unit(w, n->lt_unit);
        break;
    case PQL_INTEGER:
        hx_tw_i8(w, 1, (int8_t)n->lt_bits);
        hx_tw_bool(w, 2, n->lt_signed);
        break;
    default: break;
    }
    hx_tw_struct_end(w);
    hx_tw_struct_end(w);
}

static void element(struct hx_tw *w, const char *name, int ptype, int rep, int nchildren, int converted,
                    const struct hx_pqw_node *leaf, int logical, const struct hx_pqw_node *ids) {
    hx_tw_elem_struct_begin(w);
    if (ptype >= 0) hx_tw_i32(w, 1, ptype);
    if (leaf && leaf->ptype == PQT_FLBA) hx_tw_i32(w, 2, leaf->type_length);
    if (rep >= 0) hx_tw_i32(w, 3, rep);
    hx_tw_string(w, 4, name);
    if (nchildren >= 0) hx_tw_i32(w, 5, nchildren);
    if (converted >= 0) hx_tw_i32(w, 6, converted);
    if (leaf && leaf->logical == PQL_DECIMAL) {
        hx_tw_i32(w, 7, leaf->scale);
        hx_tw_i32(w, 8, leaf->precision);
    }
    if (ids && ids->has_field_id) hx_tw_i32(w, 9, ids->field_id);
    if (leaf && leaf->logical != PQL_NONE) {
        write_logical(w, leaf);
    } else if (logical != PQL_NONE) {
        hx_tw_struct_begin(w, 10);
        hx_tw_struct_begin(w, (int16_t)logical);
        hx_tw_struct_end(w);
        hx_tw_struct_end(w);
    }
    hx_tw_struct_end(w);
}

static void write_node(struct hx_tw *w, const struct hx_pqw_node *n, int repetition) {
    switch (n->kind) {
    case PQW_LEAF: element(w, n->name, n->ptype, repetition, -1, n->converted, n, PQL_NONE, n); break;
    case PQW_STRUCT:
        element(w, n->name, -1, repetition, n->nchildren, -1, NULL, PQL_NONE, n);
        for (int i = 0; i < n->nchildren; i++)
            write_node(w, &n->children[i], n->children[i].nullable ? PQR_OPTIONAL : PQR_REQUIRED);
        break;
    case PQW_LIST: {
        const struct hx_pqw_node *e = &n->children[0];
        element(w, n->name, -1, repetition, 1, CT_LIST, NULL, PQL_LIST, n);
        element(w, "list", -1, PQR_REPEATED, 1, -1, NULL, PQL_NONE, NULL);
        write_node(w, e, e->nullable ? PQR_OPTIONAL : PQR_REQUIRED);
        break;
    }
    case PQW_MAP: {
        const struct hx_pqw_node *e = &n->children[0];
        element(w, n->name, -1, repetition, 1, CT_MAP, NULL, PQL_MAP, n);
        element(w, e->name, -1, PQR_REPEATED, e->nchildren, -1, NULL, PQL_NONE, NULL);
        write_node(w, &e->children[0], PQR_REQUIRED);
        write_node(w, &e->children[1], e->children[1].nullable ? PQR_OPTIONAL : PQR_REQUIRED);
        break;
    }
    }
}

void hx_pqw_schema_write(const struct hx_pqw_schema *s, struct hx_tw *w) {
    hx_tw_list_begin(w, 2, HX_TC_STRUCT, (uint32_t)s->nelements);
    element(w, s->root.name, -1, -1, s->root.nchildren, -1, NULL, PQL_NONE, NULL);
    for (int i = 0; i < s->root.nchildren; i++)
        write_node(w, &s->root.children[i], s->root.children[i].nullable ? PQR_OPTIONAL : PQR_REQUIRED);
}
