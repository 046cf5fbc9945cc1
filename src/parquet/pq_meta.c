/* FileMetaData (parquet.thrift) → struct hoist_pq_file, and the Arrow field
 * tree derived from the Parquet schema the way Arrow C++ does it
 * (cpp/src/parquet/arrow/schema.cc, LogicalTypes.md backward-compatibility rules). */
#include "parquet_internal.h"

#include <stdio.h>
#include <string.h>

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

static int is_int(int t) { return t == HX_TC_I8 || t == HX_TC_I16 || t == HX_TC_I32 || t == HX_TC_I64; }

/* Integer field of any integer wire type, or skip a mistyped one (pitfall
 * 1.8.2: dict-page-offset-zero carries field 15 as a list). */
static hx_status rd_int(struct hx_tc *tc, int t, int64_t *out) {
    if (!is_int(t)) return hx_tc_skip(tc, t);
    return hx_tc_int(tc, t, out);
}
static hx_status rd_int32(struct hx_tc *tc, int t, int *out) {
    int64_t v = *out;
    HX_TRY(rd_int(tc, t, &v));
    HX_FAIL_IF(v < INT32_MIN || v > INT32_MAX, HOIST_ERR_PARQUET_CORRUPT, "footer: integer out of range");
    *out = (int)v;
    return HOIST_OK;
}
static hx_status rd_str(struct hx_tc *tc, int t, char **out) {
    if (t != HX_TC_BINARY) return hx_tc_skip(tc, t);
    const uint8_t *d;
    size_t n;
    HX_TRY(hx_tc_binary(tc, &d, &n));
    hx_free(*out);
    *out = hx_strndup((const char *)d, n);
    if (!*out) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the footer");
    return HOIST_OK;
}

#define FIELDS_BEGIN(tc)                                                                                               \
    int16_t last_;                                                                                                     \
    HX_TRY(hx_tc_struct_begin((tc), &last_));                                                                          \
    for (;;) {                                                                                                         \
        int t;                                                                                                         \
        int16_t id;                                                                                                    \
        HX_TRY(hx_tc_field((tc), &last_, &t, &id));                                                                    \
        if (t == HX_TC_STOP) break;                                                                                    \
        switch (id) {
#define FIELDS_END(tc)                                                                                                 \
    default: HX_TRY(hx_tc_skip((tc), t));                                                                              \
        }                                                                                                              \
        }                                                                                                              \
        hx_tc_struct_end(tc);

static hx_status parse_time_unit(struct hx_tc *tc, int *unit) {
    FIELDS_BEGIN(tc)
case 1:
    *unit = PQU_MILLIS;
    HX_TRY(hx_tc_skip(tc, t));
    break;
case 2:
    *unit = PQU_MICROS;
    HX_TRY(hx_tc_skip(tc, t));
    break;
case 3:
    *unit = PQU_NANOS;
    HX_TRY(hx_tc_skip(tc, t));
    break;
    FIELDS_END(tc)
    return HOIST_OK;
}

static hx_status parse_time_like(struct hx_tc *tc, struct hx_pq_element *e) {
    FIELDS_BEGIN(tc)
case 1:
    if (t == HX_TC_TRUE || t == HX_TC_FALSE)
        e->lt_utc = t == HX_TC_TRUE;
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 2:
    if (t == HX_TC_STRUCT)
        HX_TRY(parse_time_unit(tc, &e->lt_unit));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
    FIELDS_END(tc)
    return HOIST_OK;
}

static hx_status parse_logical(struct hx_tc *tc, struct hx_pq_element *e) {
    FIELDS_BEGIN(tc)
case 5:
    e->logical = PQL_DECIMAL;
    if (t != HX_TC_STRUCT) {
        HX_TRY(hx_tc_skip(tc, t));
        break;
    }
    {
        FIELDS_BEGIN(tc)
    case 1: HX_TRY(rd_int32(tc, t, &e->lt_scale)); break;
    case 2:
        HX_TRY(rd_int32(tc, t, &e->lt_precision));
        break;
        FIELDS_END(tc)
    }
    break;
case 7:
case 8:
    e->logical = id == 7 ? PQL_TIME : PQL_TIMESTAMP;
    if (t == HX_TC_STRUCT)
        HX_TRY(parse_time_like(tc, e));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 10:
    e->logical = PQL_INTEGER;
    if (t != HX_TC_STRUCT) {
        HX_TRY(hx_tc_skip(tc, t));
        break;
    }
    {
        FIELDS_BEGIN(tc)
    case 1: HX_TRY(rd_int32(tc, t, &e->lt_bits)); break;
    case 2:
        if (t == HX_TC_TRUE || t == HX_TC_FALSE)
            e->lt_signed = t == HX_TC_TRUE;
        else
            HX_TRY(hx_tc_skip(tc, t));
        break;
        FIELDS_END(tc)
    }
    break;
case 1:
case 2:
case 3:
case 4:
case 6:
case 11:
case 12:
case 13:
case 14:
case 15:
    e->logical = id;
    HX_TRY(hx_tc_skip(tc, t));
    break;
    FIELDS_END(tc)
    return HOIST_OK;
}

static hx_status parse_element(struct hx_tc *tc, struct hx_pq_element *e) {
    e->type = -1;
    e->converted = -1;
    e->repetition = PQR_REQUIRED;
    FIELDS_BEGIN(tc)
case 1: HX_TRY(rd_int32(tc, t, &e->type)); break;
case 2: HX_TRY(rd_int32(tc, t, &e->type_length)); break;
case 3: HX_TRY(rd_int32(tc, t, &e->repetition)); break;
case 4: HX_TRY(rd_str(tc, t, &e->name)); break;
case 5: HX_TRY(rd_int32(tc, t, &e->num_children)); break;
case 6: HX_TRY(rd_int32(tc, t, &e->converted)); break;
case 7: HX_TRY(rd_int32(tc, t, &e->scale)); break;
case 8: HX_TRY(rd_int32(tc, t, &e->precision)); break;
case 10:
    if (t == HX_TC_STRUCT)
        HX_TRY(parse_logical(tc, e));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
    FIELDS_END(tc)
    return HOIST_OK;
}

static hx_status parse_stats(struct hx_tc *tc, struct hx_pq_stat_raw *s) {
    s->present = 1;
    s->min_exact = s->max_exact = -1;
    FIELDS_BEGIN(tc)
case 1:
    if (t == HX_TC_BINARY)
        HX_TRY(hx_tc_binary(tc, &s->max_old, &s->max_old_len));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 2:
    if (t == HX_TC_BINARY)
        HX_TRY(hx_tc_binary(tc, &s->min_old, &s->min_old_len));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 3:
    if (is_int(t)) {
        HX_TRY(hx_tc_int(tc, t, &s->null_count));
        s->has_null_count = 1;
    } else {
        HX_TRY(hx_tc_skip(tc, t));
    }
    break;
case 5:
    if (t == HX_TC_BINARY)
        HX_TRY(hx_tc_binary(tc, &s->max, &s->max_len));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 6:
    if (t == HX_TC_BINARY)
        HX_TRY(hx_tc_binary(tc, &s->min, &s->min_len));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 7:
    s->max_exact = t == HX_TC_TRUE;
    if (t != HX_TC_TRUE && t != HX_TC_FALSE) HX_TRY(hx_tc_skip(tc, t));
    break;
case 8:
    s->min_exact = t == HX_TC_TRUE;
    if (t != HX_TC_TRUE && t != HX_TC_FALSE) HX_TRY(hx_tc_skip(tc, t));
    break;
    FIELDS_END(tc)
    return HOIST_OK;
}

/* ColumnMetaData's required fields hoist reads (parquet.thrift), as bits
 * of *seen: type, codec, num_values, the two sizes, data_page_offset. */
#define META_REQUIRED 0x3f
/* The fewest bytes a ColumnChunk passing check_chunk takes on the wire:
 * field 3's header, the six required fields of at least two bytes each and
 * two stop bytes. A chunk list longer than the bytes left / this is refused
 * before its chunks (sizeof(struct hx_pq_chunk) each) are allocated. */
#define MIN_CHUNK_BYTES 15

static int int_seen(int t) { return is_int(t); }

static hx_status parse_col_meta(struct hx_tc *tc, struct hx_pq_chunk *c, unsigned *seen) {
    c->has_meta = 1;
    FIELDS_BEGIN(tc)
case 1:
    *seen |= int_seen(t) << 0;
    HX_TRY(rd_int32(tc, t, &c->type));
    break;
case 4:
    *seen |= int_seen(t) << 1;
    HX_TRY(rd_int32(tc, t, &c->codec));
    break;
case 5:
    *seen |= int_seen(t) << 2;
    HX_TRY(rd_int(tc, t, &c->num_values));
    break;
case 6:
    *seen |= int_seen(t) << 3;
    HX_TRY(rd_int(tc, t, &c->total_uncompressed));
    break;
case 7:
    *seen |= int_seen(t) << 4;
    HX_TRY(rd_int(tc, t, &c->total_compressed));
    break;
case 9:
    *seen |= int_seen(t) << 5;
    HX_TRY(rd_int(tc, t, &c->data_page_offset));
    break;
case 11: HX_TRY(rd_int(tc, t, &c->dict_page_offset)); break;
case 12:
    if (t == HX_TC_STRUCT)
        HX_TRY(parse_stats(tc, &c->stats));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
    FIELDS_END(tc)
    return HOIST_OK;
}

/* Checks one chunk as soon as it is read, so a footer of millions of empty
 * chunk structs fails at the first rather than after all are allocated.
 * Like Arrow's Thrift decoder, a chunk must carry ColumnMetaData with its
 * required fields. */
static hx_status check_chunk(const struct hoist_pq_file *f, const struct hx_pq_chunk *c, int leaf, unsigned seen) {
    HX_FAIL_IF(c->has_file_path, HOIST_ERR_PARQUET_UNSUPPORTED, "column %d: column chunk stored in another file", leaf);
    HX_FAIL_IF(!c->has_meta, HOIST_ERR_PARQUET_CORRUPT, "column %d: no column metadata", leaf);
    const struct hx_pq_element *e = &f->elements[f->leaves[leaf].element];
    HX_FAIL_IF((seen & META_REQUIRED) != META_REQUIRED, HOIST_ERR_PARQUET_CORRUPT,
               "column '%s': column metadata lacks required fields (type, codec, num_values, sizes, data_page_offset)",
               e->name ? e->name : "?");
    HX_FAIL_IF(c->type != e->type, HOIST_ERR_PARQUET_CORRUPT, "column '%s': chunk type %d differs from the schema's %d",
               e->name ? e->name : "?", c->type, e->type);
    return HOIST_OK;
}

static hx_status parse_chunk(struct hx_tc *tc, struct hx_pq_chunk *c, unsigned *seen) {
    c->dict_page_offset = -1;
    c->data_page_offset = -1;
    c->offset_index_offset = c->offset_index_length = -1;
    c->column_index_offset = c->column_index_length = -1;
    FIELDS_BEGIN(tc)
case 1:
    c->has_file_path = 1;
    HX_TRY(hx_tc_skip(tc, t));
    break;
case 4: HX_TRY(rd_int(tc, t, &c->offset_index_offset)); break;
case 5: HX_TRY(rd_int(tc, t, &c->offset_index_length)); break;
case 6: HX_TRY(rd_int(tc, t, &c->column_index_offset)); break;
case 7: HX_TRY(rd_int(tc, t, &c->column_index_length)); break;
case 3:
    if (t == HX_TC_STRUCT)
        HX_TRY(parse_col_meta(tc, c, seen));
    else
        HX_TRY(hx_tc_skip(tc, t));
    break;
case 8:
case 9:
    HX_FAIL(HOIST_ERR_PARQUET_ENCRYPTED, "encrypted Parquet is not supported (encrypted column)");
    FIELDS_END(tc)
    if (c->dict_page_offset == 0) c->dict_page_offset = -1; /* pitfall 1.8.3: 0 means absent */
    return HOIST_OK;
}

static hx_status parse_row_group(struct hx_tc *tc, struct hoist_pq_file *f, struct hx_pq_row_group *rg) {
    int got_columns = 0;
    FIELDS_BEGIN(tc)
case 1: {
    if (t != HX_TC_LIST) {
        HX_TRY(hx_tc_skip(tc, t));
        break;
    }
    int et;
    uint32_t n;
    HX_TRY(hx_tc_list_sized(tc, &et, &n, MIN_CHUNK_BYTES));
    HX_FAIL_IF(et != HX_TC_STRUCT || (int64_t)n != f->nleaves || got_columns, HOIST_ERR_PARQUET_CORRUPT,
               "footer: row group has %u column chunks for %d leaf columns", n, f->nleaves);
    got_columns = 1;
    rg->chunks = hx_calloc(n ? n : 1, sizeof *rg->chunks);
    if (!rg->chunks) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the footer");
    for (uint32_t i = 0; i < n; i++) {
        unsigned seen = 0;
        HX_TRY(parse_chunk(tc, &rg->chunks[i], &seen));
        HX_TRY(check_chunk(f, &rg->chunks[i], (int)i, seen));
    }
    break;
}
case 3:
    HX_TRY(rd_int(tc, t, &rg->num_rows));
    break;
    FIELDS_END(tc)
    HX_FAIL_IF(!got_columns && f->nleaves > 0, HOIST_ERR_PARQUET_CORRUPT, "footer: row group without columns");
    HX_FAIL_IF(rg->num_rows < 0, HOIST_ERR_PARQUET_CORRUPT, "footer: negative row count");
    return HOIST_OK;
}

/* ---- schema tree -------------------------------------------------------- */

struct build {
    struct hoist_pq_file *f;
    int pos;    /* next element */
    int leaves; /* next leaf index */
    int depth;
};

/* Assigns leaf indices and levels in schema order. */
static hx_status walk_levels(struct build *b, int def, int rep) {
    HX_FAIL_IF(b->pos >= b->f->nelements, HOIST_ERR_PARQUET_CORRUPT, "footer: schema has fewer elements than declared");
    HX_FAIL_IF(++b->depth > 64, HOIST_ERR_PARQUET_CORRUPT, "footer: schema nested deeper than 64");
    struct hx_pq_element *e = &b->f->elements[b->pos++];
    if (e->repetition == PQR_OPTIONAL)
        def++;
    else if (e->repetition == PQR_REPEATED)
        def++, rep++;
    else
        HX_FAIL_IF(e->repetition != PQR_REQUIRED, HOIST_ERR_PARQUET_CORRUPT, "footer: bad repetition type %d",
                   e->repetition);
    if (e->num_children <= 0) {
        HX_FAIL_IF(e->type < PQT_BOOLEAN || e->type > PQT_FLBA, HOIST_ERR_PARQUET_CORRUPT,
                   "footer: column '%s' has bad physical type %d", e->name ? e->name : "?", e->type);
        HX_FAIL_IF(e->type == PQT_FLBA && e->type_length <= 0, HOIST_ERR_PARQUET_CORRUPT,
                   "footer: column '%s' is FIXED_LEN_BYTE_ARRAY of length %d", e->name, e->type_length);
        struct hx_pq_leaf *l = &b->f->leaves[b->leaves++];
        l->element = (int)(e - b->f->elements);
        l->max_def = def;
        l->max_rep = rep;
    } else {
        for (int i = 0; i < e->num_children; i++) HX_TRY(walk_levels(b, def, rep));
    }
    b->depth--;
    return HOIST_OK;
}

static int subtree_end(const struct hoist_pq_file *f, int idx) {
    int n = 1, i = idx;
    while (n > 0 && i < f->nelements) {
        n += f->elements[i].num_children > 0 ? f->elements[i].num_children : 0;
        n--;
        i++;
    }
    return i;
}

static int count_leaves(const struct hoist_pq_file *f, int idx) {
    int end = subtree_end(f, idx), n = 0;
    for (int i = idx; i < end; i++) n += f->elements[i].num_children <= 0;
    return n;
}

static hx_status set_str(char **dst, const char *src) {
    *dst = hx_strdup(src);
    if (!*dst) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building the schema");
    return HOIST_OK;
}

static hx_status leaf_type(struct hoist_pq_file *f, const struct hx_pq_element *e, struct hx_pq_anode *a) {
    char fmt[64];
    a->conv = CV_COPY;
    int lt = e->logical, ct = e->converted;
    int is_dec = lt == PQL_DECIMAL || ct == PQC_DECIMAL;
    int prec = lt == PQL_DECIMAL ? e->lt_precision : e->precision;
    int scale = lt == PQL_DECIMAL ? e->lt_scale : e->scale;
    if (is_dec) {
        HX_FAIL_IF(prec <= 0 || prec > 76 || scale < 0 || scale > prec, HOIST_ERR_PARQUET_CORRUPT,
                   "footer: column '%s' has bad decimal precision %d / scale %d", e->name, prec, scale);
        if (prec > 38)
            snprintf(fmt, sizeof fmt, "d:%d,%d,256", prec, scale);
        else
            snprintf(fmt, sizeof fmt, "d:%d,%d", prec, scale);
        a->out_width = prec > 38 ? 32 : 16;
    }
    switch (e->type) {
    case PQT_BOOLEAN:
        snprintf(fmt, sizeof fmt, "b");
        a->conv = CV_BOOL;
        break;
    case PQT_INT32:
        a->out_width = 4;
        if (is_dec) {
            a->conv = CV_I32_DEC;
            a->out_width = prec > 38 ? 32 : 16;
        } else if (lt == PQL_UNKNOWN) {
            snprintf(fmt, sizeof fmt, "n");
            a->conv = CV_NULL;
        } else if (lt == PQL_DATE || ct == PQC_DATE) {
            snprintf(fmt, sizeof fmt, "tdD");
        } else if ((lt == PQL_TIME && e->lt_unit == PQU_MILLIS) || ct == PQC_TIME_MILLIS) {
            snprintf(fmt, sizeof fmt, "ttm");
        } else {
            int bits = 32, sign = 1;
            if (lt == PQL_INTEGER)
                bits = e->lt_bits, sign = e->lt_signed;
            else if (ct >= PQC_UINT_8 && ct <= PQC_UINT_32)
                bits = 8 << (ct - PQC_UINT_8), sign = 0;
            else if (ct >= PQC_INT_8 && ct <= PQC_INT_32)
                bits = 8 << (ct - PQC_INT_8);
            if (bits == 8)
                snprintf(fmt, sizeof fmt, sign ? "c" : "C"), a->conv = CV_I32_I8, a->out_width = 1;
            else if (bits == 16)
                snprintf(fmt, sizeof fmt, sign ? "s" : "S"), a->conv = CV_I32_I16, a->out_width = 2;
            else
                snprintf(fmt, sizeof fmt, sign ? "i" : "I");
        }
        break;
    case PQT_INT64:
        a->out_width = 8;
        if (is_dec) {
            a->conv = CV_I64_DEC;
            a->out_width = prec > 38 ? 32 : 16;
        } else if (lt == PQL_UNKNOWN) {
            snprintf(fmt, sizeof fmt, "n");
            a->conv = CV_NULL;
        } else if (lt == PQL_TIME || ct == PQC_TIME_MICROS) {
            snprintf(fmt, sizeof fmt, (lt == PQL_TIME && e->lt_unit == PQU_NANOS) ? "ttn" : "ttu");
        } else if (lt == PQL_TIMESTAMP) {
            char u = e->lt_unit == PQU_MILLIS ? 'm' : e->lt_unit == PQU_NANOS ? 'n' : 'u';
            snprintf(fmt, sizeof fmt, "ts%c:%s", u, e->lt_utc ? "UTC" : "");
        } else if (ct == PQC_TIMESTAMP_MILLIS || ct == PQC_TIMESTAMP_MICROS) {
            snprintf(fmt, sizeof fmt, "ts%c:UTC", ct == PQC_TIMESTAMP_MILLIS ? 'm' : 'u');
        } else if ((lt == PQL_INTEGER && !e->lt_signed) || ct == PQC_UINT_64) {
            snprintf(fmt, sizeof fmt, "L");
        } else {
            snprintf(fmt, sizeof fmt, "l");
        }
        break;
    case PQT_INT96:
        snprintf(fmt, sizeof fmt, "tsn:");
        a->conv = CV_INT96;
        a->out_width = 8;
        a->conv_k = 1;
        break;
    case PQT_FLOAT:
        snprintf(fmt, sizeof fmt, "f");
        a->out_width = 4;
        break;
    case PQT_DOUBLE:
        snprintf(fmt, sizeof fmt, "g");
        a->out_width = 8;
        break;
    case PQT_BYTE_ARRAY:
        if (is_dec) {
            a->conv = CV_BE_DEC;
        } else {
            a->conv = CV_BINARY;
            int text = lt == PQL_STRING || lt == PQL_ENUM || lt == PQL_JSON || ct == PQC_UTF8 || ct == PQC_ENUM ||
                       ct == PQC_JSON;
            snprintf(fmt, sizeof fmt, text ? "u" : "z");
        }
        break;
    case PQT_FLBA:
        if (is_dec) {
            a->conv = CV_BE_DEC;
        } else if (lt == PQL_FLOAT16 && e->type_length == 2) {
            snprintf(fmt, sizeof fmt, "e");
            a->out_width = 2;
        } else {
            snprintf(fmt, sizeof fmt, "w:%d", e->type_length);
            a->out_width = e->type_length;
            if (lt == PQL_UUID && e->type_length == 16) {
                struct hx_buf md = {0};
                hx_status st = hx_arrow_metadata_begin(&md);
                if (st == HOIST_OK) st = hx_arrow_metadata_add(&md, "ARROW:extension:name", 20, "arrow.uuid", 10);
                if (st == HOIST_OK) st = hx_arrow_metadata_add(&md, "ARROW:extension:metadata", 24, "", 0);
                if (st != HOIST_OK) {
                    hx_buf_reset(&md);
                    return st;
                }
                a->metadata = hx_buf_detach(&md);
            }
        }
        break;
    }
    (void)f;
    return set_str(&a->format, fmt);
}

static hx_status build_node(struct hoist_pq_file *f, int idx, int pdef, int prep, int force_required, int slot_def,
                            int slot_rep, int depth, struct hx_pq_anode *a);

static hx_status alloc_children(struct hx_pq_anode *a, int n) {
    a->children = hx_calloc((size_t)(n > 0 ? n : 1), sizeof *a->children);
    if (!a->children) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building the schema");
    a->nchildren = n;
    return HOIST_OK;
}

/* The first leaf at or after schema element elem. Leaves are numbered in
 * schema order (walk_levels), so their elements ascend: a binary search
 * keeps building the field tree of a wide file linear-logarithmic rather
 * than quadratic (16,000 columns: 128M steps before). */
static int leaf_index_of(const struct hoist_pq_file *f, int elem) {
    int lo = 0, hi = f->nleaves;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (f->leaves[mid].element < elem)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Children of a group element (struct semantics), starting at levels (def, rep). */
static hx_status build_struct_children(struct hoist_pq_file *f, int idx, int def, int rep, int slot_def, int slot_rep,
                                       int depth, struct hx_pq_anode *a) {
    const struct hx_pq_element *e = &f->elements[idx];
    HX_TRY(alloc_children(a, e->num_children));
    int c = idx + 1;
    for (int i = 0; i < e->num_children; i++) {
        HX_TRY(build_node(f, c, def, rep, 0, slot_def, slot_rep, depth + 1, &a->children[i]));
        c = subtree_end(f, c);
    }
    return HOIST_OK;
}

static hx_status build_node(struct hoist_pq_file *f, int idx, int pdef, int prep, int force_required, int slot_def,
                            int slot_rep, int depth, struct hx_pq_anode *a) {
    HX_FAIL_IF(depth > 64 || idx >= f->nelements, HOIST_ERR_PARQUET_CORRUPT, "footer: bad schema tree");
    const struct hx_pq_element *e = &f->elements[idx];
    int rept = force_required ? PQR_REQUIRED : e->repetition;
    HX_TRY(set_str(&a->name, e->name ? e->name : ""));
    a->first_leaf = leaf_index_of(f, idx);
    a->n_leaves = count_leaves(f, idx);
    a->slot_def = slot_def;
    a->slot_rep = slot_rep;
    a->leaf = -1;

    if (rept == PQR_REPEATED) {
        /* An un-annotated repeated field: a required list of required
         * elements (LogicalTypes.md backward-compatibility rules). */
        a->kind = AN_LIST;
        a->flags = 0;
        a->def = pdef;
        a->rep = prep + 1;
        a->elem_def = pdef + 1;
        HX_TRY(set_str(&a->format, "+l"));
        HX_TRY(alloc_children(a, 1));
        HX_TRY(build_node(f, idx, pdef + 1, prep + 1, 1, a->elem_def, a->rep, depth + 1, &a->children[0]));
        return HOIST_OK;
    }
    int def = pdef + (rept == PQR_OPTIONAL);
    a->def = def;
    a->flags = rept == PQR_OPTIONAL ? ARROW_FLAG_NULLABLE : 0;
    if (e->num_children <= 0) {
        a->kind = AN_LEAF;
        a->leaf = a->first_leaf;
        HX_FAIL_IF(a->leaf >= f->nleaves || f->leaves[a->leaf].max_def != def || f->leaves[a->leaf].max_rep != prep,
                   HOIST_ERR_PARQUET_CORRUPT, "footer: inconsistent levels for column '%s'", a->name);
        return leaf_type(f, e, a);
    }
    int is_list = e->logical == PQL_LIST || e->converted == PQC_LIST;
    int is_map = e->logical == PQL_MAP || e->converted == PQC_MAP || e->converted == PQC_MAP_KEY_VALUE;
    if ((is_list || is_map) && e->num_children == 1 && f->elements[idx + 1].repetition == PQR_REPEATED) {
        int r = idx + 1;
        const struct hx_pq_element *re = &f->elements[r];
        a->rep = prep + 1;
        a->elem_def = def + 1;
        HX_TRY(alloc_children(a, 1));
        if (is_map && re->num_children == 2) {
            /* Arrow C++ rejects optional map keys (incorrect_map_schema.parquet). */
            HX_FAIL_IF(f->elements[r + 1].repetition != PQR_REQUIRED, HOIST_ERR_PARQUET_UNSUPPORTED,
                       "map '%s': keys must be annotated as required", a->name);
            a->kind = AN_MAP;
            HX_TRY(set_str(&a->format, "+m"));
            struct hx_pq_anode *ent = &a->children[0];
            HX_TRY(set_str(&ent->name, "key_value"));
            HX_TRY(set_str(&ent->format, "+s"));
            ent->kind = AN_STRUCT;
            ent->def = a->elem_def;
            ent->slot_def = a->elem_def;
            ent->slot_rep = a->rep;
            ent->leaf = -1;
            ent->first_leaf = leaf_index_of(f, r);
            ent->n_leaves = count_leaves(f, r);
            HX_TRY(build_struct_children(f, r, a->elem_def, a->rep, a->elem_def, a->rep, depth + 1, ent));
            /* Arrow map keys are never null, even when a writer (Presto)
             * declared them optional. */
            ent->children[0].flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
            return HOIST_OK;
        }
        a->kind = AN_LIST;
        HX_TRY(set_str(&a->format, "+l"));
        int elem_is_repeated_node =
            re->num_children <= 0 || re->num_children > 1 ||
            (re->num_children == 1 &&
             (strcmp(re->name ? re->name : "", "array") == 0 ||
              (e->name && re->name && strlen(re->name) == strlen(e->name) + 6 &&
               strncmp(re->name, e->name, strlen(e->name)) == 0 && strcmp(re->name + strlen(e->name), "_tuple") == 0)));
        if (elem_is_repeated_node) {
            HX_TRY(build_node(f, r, def + 1, prep + 1, 1, a->elem_def, a->rep, depth + 1, &a->children[0]));
            if (re->num_children > 0) a->children[0].flags = 0;
        } else {
            HX_TRY(build_node(f, r + 1, def + 1, prep + 1, 0, a->elem_def, a->rep, depth + 1, &a->children[0]));
        }
        return HOIST_OK;
    }
    a->kind = AN_STRUCT;
    HX_TRY(set_str(&a->format, "+s"));
    return build_struct_children(f, idx, def, prep, slot_def, slot_rep, depth, a);
}

/* Byte arrays whose chunk could hold more than 2 GiB get 64-bit offsets
 * (large_string/large_binary): the uncompressed size bounds PLAIN data; a
 * dictionary-encoded chunk that still overflows fails with HOIST_ERR_LIMIT. */
static hx_status widen_large(struct hoist_pq_file *f, struct hx_pq_anode *a) {
    for (int i = 0; a->kind != AN_LEAF && i < a->nchildren; i++) HX_TRY(widen_large(f, &a->children[i]));
    if (a->kind != AN_LEAF || a->conv != CV_BINARY || a->large) return HOIST_OK;
    for (int rg = 0; rg < f->nrow_groups; rg++) {
        if (f->row_groups[rg].chunks[a->leaf].total_uncompressed > INT32_MAX) {
            char *nf = hx_strdup(strcmp(a->format, "u") == 0 ? "U" : "Z");
            if (!nf) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building the schema");
            hx_free(a->format);
            a->format = nf;
            a->large = 1;
            return HOIST_OK;
        }
    }
    return HOIST_OK;
}

void hx_pq_anode_free(struct hx_pq_anode *n) {
    if (!n) return;
    for (int i = 0; i < n->nchildren; i++) hx_pq_anode_free(&n->children[i]);
    hx_free(n->children);
    hx_free(n->name);
    hx_free(n->format);
    hx_free(n->dict_format);
    hx_free(n->metadata);
    memset(n, 0, sizeof *n);
}

hx_status hx_pq_anode_schema(const struct hx_pq_anode *n, unsigned flags, struct ArrowSchema *out) {
    int as_dict = n->kind == AN_LEAF && !n->dict && hx_pq_leaf_dict(n, flags);
    HX_TRY(hx_arrow_schema_init(out, as_dict ? "i" : n->format, n->name, n->flags));
    hx_status st = hx_arrow_schema_set_metadata(out, n->metadata, hx_arrow_metadata_size(n->metadata));
    if (st == HOIST_OK && n->kind != AN_LEAF) st = hx_arrow_schema_alloc_children(out, n->nchildren);
    for (int i = 0; st == HOIST_OK && n->kind != AN_LEAF && i < n->nchildren; i++)
        st = hx_pq_anode_schema(&n->children[i], flags, out->children[i]);
    if (st == HOIST_OK && n->kind == AN_LEAF && (n->dict || as_dict)) {
        st = hx_arrow_schema_alloc_dictionary(out);
        if (st == HOIST_OK) /* a view leaf read as a dictionary has plain utf8/binary values */
            st = hx_arrow_schema_init(out->dictionary, as_dict ? n->format + (n->view ? 1 : 0) : n->dict_format, NULL,
                                      ARROW_FLAG_NULLABLE);
    }
    if (st != HOIST_OK) out->release(out);
    return st;
}

/* ---- FileMetaData ------------------------------------------------------- */

static hx_status parse_kv(struct hx_tc *tc, int t, struct hoist_pq_file *f, struct hx_buf *md,
                          const uint8_t **arrow_schema, size_t *arrow_schema_len) {
    if (t != HX_TC_LIST) return hx_tc_skip(tc, t);
    int et;
    uint32_t n;
    HX_TRY(hx_tc_list(tc, &et, &n));
    if (et != HX_TC_STRUCT) {
        for (uint32_t i = 0; i < n; i++) HX_TRY(hx_tc_skip(tc, et));
        return HOIST_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *k = NULL, *v = NULL;
        size_t kl = 0, vl = 0;
        FIELDS_BEGIN(tc)
    case 1:
        if (t == HX_TC_BINARY)
            HX_TRY(hx_tc_binary(tc, &k, &kl));
        else
            HX_TRY(hx_tc_skip(tc, t));
        break;
    case 2:
        if (t == HX_TC_BINARY)
            HX_TRY(hx_tc_binary(tc, &v, &vl));
        else
            HX_TRY(hx_tc_skip(tc, t));
        break;
        FIELDS_END(tc)
        if (!k) continue;
        if (kl == 12 && memcmp(k, "ARROW:schema", 12) == 0) {
            *arrow_schema = v;
            *arrow_schema_len = vl;
            continue;
        }
        if (md->len == 0) HX_TRY(hx_arrow_metadata_begin(md));
        HX_TRY(hx_arrow_metadata_add(md, (const char *)k, kl, v ? (const char *)v : "", vl));
    }
    (void)f;
    return HOIST_OK;
}

/* "parquet-mr version 1.2.8 (build ...)" → app and version. */
static void writer_gates(struct hoist_pq_file *f) {
    const char *cb = f->created_by ? f->created_by : "";
    int maj = 0, min = 0, pat = 0;
    if (strncmp(cb, "parquet-mr", 10) == 0) {
        const char *v = strstr(cb, "version ");
        if (!v || sscanf(v + 8, "%d.%d.%d", &maj, &min, &pat) < 2) {
            f->pad_chunks = 1;
        } else if (maj < 1 || (maj == 1 && (min < 2 || (min == 2 && pat < 9)))) {
            f->pad_chunks = 1;
        }
    } else if (strncmp(cb, "parquet-cpp", 11) == 0) {
        const char *v = strstr(cb, "version ");
        if (v && sscanf(v + 8, "%d.%d.%d", &maj, &min, &pat) >= 2 && maj < 2) f->cpp_10353_bug = 1;
    }
}

/* FileMetaData field 2: the flattened schema, then the leaves and their
 * levels, so that row groups can be checked against them. */
static hx_status parse_schema(struct hx_tc *tc, struct hoist_pq_file *f) {
    int et;
    uint32_t n;
    HX_TRY(hx_tc_list(tc, &et, &n));
    HX_FAIL_IF(et != HX_TC_STRUCT || n == 0, HOIST_ERR_PARQUET_CORRUPT, "footer: schema is not a list of elements");
    f->elements = hx_calloc(n, sizeof *f->elements);
    if (!f->elements) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the footer");
    f->nelements = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        HX_TRY(parse_element(tc, &f->elements[i]));
        HX_FAIL_IF(f->elements[i].num_children < 0 || (uint32_t)f->elements[i].num_children >= n,
                   HOIST_ERR_PARQUET_CORRUPT, "footer: schema element %u claims %d children", i,
                   f->elements[i].num_children);
    }
    int nleaves = 0;
    for (uint32_t i = 1; i < n; i++) nleaves += f->elements[i].num_children <= 0;
    f->leaves = hx_calloc((size_t)nleaves + 1, sizeof *f->leaves);
    if (!f->leaves) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the footer");
    struct build b = {f, 1, 0, 0};
    for (int i = 0; i < f->elements[0].num_children; i++) HX_TRY(walk_levels(&b, 0, 0));
    HX_FAIL_IF(b.pos != f->nelements, HOIST_ERR_PARQUET_CORRUPT, "footer: schema has %d elements but the tree uses %d",
               f->nelements, b.pos);
    f->nleaves = b.leaves;
    return HOIST_OK;
}

/* FileMetaData field 4, after the schema. */
static hx_status parse_row_groups(struct hx_tc *tc, struct hoist_pq_file *f) {
    int et;
    uint32_t n;
    HX_TRY(hx_tc_list(tc, &et, &n));
    HX_FAIL_IF(et != HX_TC_STRUCT, HOIST_ERR_PARQUET_CORRUPT, "footer: row groups are not structs");
    f->row_groups = hx_calloc(n ? n : 1, sizeof *f->row_groups);
    if (!f->row_groups) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading the footer");
    f->nrow_groups = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        hx_status st = parse_row_group(tc, f, &f->row_groups[i]);
        if (st != HOIST_OK) return hx_error_prefix(st, "row group %u", i);
    }
    return HOIST_OK;
}

/* The Arrow field tree, then the types ARROW:schema adds (best effort: a
 * schema we cannot use leaves pyarrow-like defaults). */
static hx_status build_field_tree(struct hoist_pq_file *f, const uint8_t *arrow_schema, size_t arrow_schema_len) {
    f->root.kind = AN_STRUCT;
    f->root.leaf = -1;
    f->root.n_leaves = f->nleaves;
    HX_TRY(set_str(&f->root.format, "+s"));
    HX_TRY(set_str(&f->root.name, ""));
    HX_TRY(alloc_children(&f->root, f->elements[0].num_children));
    int c = 1;
    for (int i = 0; i < f->elements[0].num_children; i++) {
        HX_TRY(build_node(f, c, 0, 0, 0, 0, 0, 1, &f->root.children[i]));
        c = subtree_end(f, c);
    }
    HX_TRY(widen_large(f, &f->root));
    if (arrow_schema) {
        hx_status st = hx_pq_apply_arrow_schema(f, (const char *)arrow_schema, arrow_schema_len);
        if (st == HOIST_ERR_NOMEM) return st;
    }
    return HOIST_OK;
}

hx_status hx_pq_parse_footer(struct hoist_pq_file *f, const uint8_t *meta, size_t len) {
    struct hx_tc tc0, *tc = &tc0;
    hx_tc_init(tc, meta, len);

    HX_FAIL_IF(len > HX_PQ_MAX_FOOTER_BYTES, HOIST_ERR_PARQUET_UNSUPPORTED,
               "footer of %zu bytes exceeds the limit of %u MiB", len, HX_PQ_MAX_FOOTER_BYTES >> 20);
    struct hx_buf md = {0};
    const uint8_t *arrow_schema = NULL;
    size_t arrow_schema_len = 0;
    int got_schema = 0;
    hx_status st = HOIST_OK;
#undef HX_TRY
#define HX_TRY(expr)                                                                                                   \
    do {                                                                                                               \
        st = (expr);                                                                                                   \
        if (st != HOIST_OK) goto fail;                                                                                 \
    } while (0)
    int16_t last_;
    HX_TRY(hx_tc_struct_begin(tc, &last_));
    for (;;) {
        int t;
        int16_t id;
        HX_TRY(hx_tc_field(tc, &last_, &t, &id));
        if (t == HX_TC_STOP) break;
        switch (id) {
        case 2:
            if (t != HX_TC_LIST || got_schema) {
                HX_TRY(hx_tc_skip(tc, t));
            } else {
                HX_TRY(parse_schema(tc, f));
                got_schema = 1;
            }
            break;
        case 3: HX_TRY(rd_int(tc, t, &f->num_rows)); break;
        case 4:
            if (!got_schema && t == HX_TC_LIST) HX_TRY(CORRUPT("footer: row groups before the schema"));
            if (t != HX_TC_LIST || f->row_groups)
                HX_TRY(hx_tc_skip(tc, t));
            else
                HX_TRY(parse_row_groups(tc, f));
            break;
        case 5: HX_TRY(parse_kv(tc, t, f, &md, &arrow_schema, &arrow_schema_len)); break;
        case 6: HX_TRY(rd_str(tc, t, &f->created_by)); break;
        case 7:
            f->has_column_orders = 1;
            HX_TRY(hx_tc_skip(tc, t));
            break;
        case 8:
            HX_TRY(
                hx_error(HOIST_ERR_PARQUET_ENCRYPTED, "encrypted Parquet is not supported (signed plaintext footer)"));
            break;
        default: HX_TRY(hx_tc_skip(tc, t));
        }
    }
    hx_tc_struct_end(tc);
    if (!got_schema) HX_TRY(CORRUPT("footer: no schema"));
    writer_gates(f);
    HX_TRY(build_field_tree(f, arrow_schema, arrow_schema_len));
    if (md.len) f->schema_metadata = hx_buf_detach(&md);
    hx_buf_reset(&md);
    return HOIST_OK;
fail:
    hx_buf_reset(&md);
    return st;
}
