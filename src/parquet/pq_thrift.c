/* Thrift compact protocol decoding (apache/thrift doc/specs/thrift-compact-protocol.md),
 * bounds-checked, depth-limited and size-limited (string and container
 * limits as Arrow C++ sets them), plus the PageHeader struct. */
#include "parquet_internal.h"

#include <string.h>

#define TRUNC(tc)                                                                                                      \
    hx_error(HOIST_ERR_PARQUET_CORRUPT, "truncated Thrift data at byte %zu", (size_t)((tc)->p - (tc)->start))

void hx_tc_init(struct hx_tc *tc, const uint8_t *data, size_t len) {
    tc->start = tc->p = data;
    tc->end = data + len;
    tc->depth = 0;
}

hx_status hx_tc_varint(struct hx_tc *tc, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (tc->p >= tc->end) return TRUNC(tc);
        uint8_t b = *tc->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return HOIST_OK;
        }
        if (shift == 63) break;
    }
    HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "Thrift varint too long at byte %zu", (size_t)(tc->p - tc->start));
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

hx_status hx_tc_i64(struct hx_tc *tc, int64_t *out) {
    uint64_t v;
    HX_TRY(hx_tc_varint(tc, &v));
    *out = unzigzag(v);
    return HOIST_OK;
}

hx_status hx_tc_i32(struct hx_tc *tc, int32_t *out) {
    int64_t v;
    HX_TRY(hx_tc_i64(tc, &v));
    HX_FAIL_IF(v < INT32_MIN || v > INT32_MAX, HOIST_ERR_PARQUET_CORRUPT, "Thrift i32 out of range at byte %zu",
               (size_t)(tc->p - tc->start));
    *out = (int32_t)v;
    return HOIST_OK;
}

hx_status hx_tc_int(struct hx_tc *tc, int type, int64_t *out) {
    if (type == HX_TC_I8) {
        if (tc->p >= tc->end) return TRUNC(tc);
        *out = (int8_t)*tc->p++;
        return HOIST_OK;
    }
    return hx_tc_i64(tc, out);
}

hx_status hx_tc_binary(struct hx_tc *tc, const uint8_t **data, size_t *len) {
    uint64_t n;
    HX_TRY(hx_tc_varint(tc, &n));
    /* Past the end is corruption; within the data but past the limit, a
     * file hoist declines to read. */
    if (n > (uint64_t)(tc->end - tc->p)) return TRUNC(tc);
    HX_FAIL_IF(n > HX_TC_MAX_STRING, HOIST_ERR_PARQUET_UNSUPPORTED,
               "Thrift string of %llu bytes at byte %zu exceeds the limit of %u", (unsigned long long)n,
               (size_t)(tc->p - tc->start), HX_TC_MAX_STRING);
    *data = tc->p;
    *len = (size_t)n;
    tc->p += n;
    return HOIST_OK;
}

hx_status hx_tc_struct_begin(struct hx_tc *tc, int16_t *last_id) {
    HX_FAIL_IF(++tc->depth > HX_TC_MAX_DEPTH, HOIST_ERR_PARQUET_CORRUPT, "Thrift structs nested deeper than %d",
               HX_TC_MAX_DEPTH);
    *last_id = 0;
    return HOIST_OK;
}

void hx_tc_struct_end(struct hx_tc *tc) { tc->depth--; }

hx_status hx_tc_field(struct hx_tc *tc, int16_t *last_id, int *type, int16_t *id) {
    if (tc->p >= tc->end) return TRUNC(tc);
    uint8_t b = *tc->p++;
    *type = b & 0x0f;
    if (*type == HX_TC_STOP) return HOIST_OK;
    int delta = b >> 4;
    if (delta) {
        *id = (int16_t)(*last_id + delta);
    } else {
        int64_t v;
        HX_TRY(hx_tc_i64(tc, &v));
        HX_FAIL_IF(v < INT16_MIN || v > INT16_MAX, HOIST_ERR_PARQUET_CORRUPT, "bad Thrift field id");
        *id = (int16_t)v;
    }
    HX_FAIL_IF(*type > HX_TC_UUID, HOIST_ERR_PARQUET_CORRUPT, "bad Thrift field type %d at byte %zu", *type,
               (size_t)(tc->p - tc->start));
    *last_id = *id;
    return HOIST_OK;
}

hx_status hx_tc_list_sized(struct hx_tc *tc, int *elem_type, uint32_t *n, size_t min_bytes) {
    if (tc->p >= tc->end) return TRUNC(tc);
    size_t at = (size_t)(tc->p - tc->start);
    uint8_t b = *tc->p++;
    *elem_type = b & 0x0f;
    uint64_t size = b >> 4;
    if (size == 15) HX_TRY(hx_tc_varint(tc, &size));
    /* Every element takes at least one byte, except bools packed in the
     * header of a struct, which lists never use. */
    uint64_t left = (uint64_t)(tc->end - tc->p);
    if (min_bytes < 1) min_bytes = 1;
    HX_FAIL_IF(size > left / min_bytes, HOIST_ERR_PARQUET_CORRUPT,
               "Thrift list of %llu elements at byte %zu overruns the data (%llu bytes left, %zu needed per element)",
               (unsigned long long)size, at, (unsigned long long)left, min_bytes);
    HX_FAIL_IF(size > HX_TC_MAX_CONTAINER, HOIST_ERR_PARQUET_UNSUPPORTED,
               "Thrift list of %llu elements at byte %zu exceeds the limit of %u", (unsigned long long)size, at,
               HX_TC_MAX_CONTAINER);
    *n = (uint32_t)size;
    return HOIST_OK;
}

hx_status hx_tc_list(struct hx_tc *tc, int *elem_type, uint32_t *n) { return hx_tc_list_sized(tc, elem_type, n, 1); }

hx_status hx_tc_skip(struct hx_tc *tc, int type) {
    switch (type) {
    case HX_TC_TRUE:
    case HX_TC_FALSE: return HOIST_OK; /* value is in the field header */
    case HX_TC_I8:
        if (tc->p >= tc->end) return TRUNC(tc);
        tc->p++;
        return HOIST_OK;
    case HX_TC_I16:
    case HX_TC_I32:
    case HX_TC_I64: {
        uint64_t v;
        return hx_tc_varint(tc, &v);
    }
    case HX_TC_DOUBLE:
        if (tc->end - tc->p < 8) return TRUNC(tc);
        tc->p += 8;
        return HOIST_OK;
    case HX_TC_UUID:
        if (tc->end - tc->p < 16) return TRUNC(tc);
        tc->p += 16;
        return HOIST_OK;
    case HX_TC_BINARY: {
        const uint8_t *d;
        size_t l;
        return hx_tc_binary(tc, &d, &l);
    }
    case HX_TC_LIST:
    case HX_TC_SET: {
        int et;
        uint32_t n;
        HX_TRY(hx_tc_list(tc, &et, &n));
        HX_FAIL_IF(++tc->depth > HX_TC_MAX_DEPTH, HOIST_ERR_PARQUET_CORRUPT, "Thrift nested too deep");
        for (uint32_t i = 0; i < n; i++) {
            if (et == HX_TC_TRUE || et == HX_TC_FALSE) {
                /* list<bool>: one byte per element */
                if (tc->p >= tc->end) return TRUNC(tc);
                tc->p++;
            } else {
                HX_TRY(hx_tc_skip(tc, et));
            }
        }
        tc->depth--;
        return HOIST_OK;
    }
    case HX_TC_MAP: {
        uint64_t n;
        HX_TRY(hx_tc_varint(tc, &n));
        if (n == 0) return HOIST_OK;
        HX_FAIL_IF(n > (uint64_t)(tc->end - tc->p), HOIST_ERR_PARQUET_CORRUPT, "Thrift map overruns the data");
        HX_FAIL_IF(n > HX_TC_MAX_CONTAINER, HOIST_ERR_PARQUET_UNSUPPORTED,
                   "Thrift map of %llu entries exceeds the limit of %u", (unsigned long long)n, HX_TC_MAX_CONTAINER);
        if (tc->p >= tc->end) return TRUNC(tc);
        uint8_t kv = *tc->p++;
        HX_FAIL_IF(++tc->depth > HX_TC_MAX_DEPTH, HOIST_ERR_PARQUET_CORRUPT, "Thrift nested too deep");
        for (uint64_t i = 0; i < n; i++) {
            HX_TRY(hx_tc_skip(tc, kv >> 4));
            HX_TRY(hx_tc_skip(tc, kv & 0x0f));
        }
        tc->depth--;
        return HOIST_OK;
    }
    case HX_TC_STRUCT: {
        int16_t last;
        HX_TRY(hx_tc_struct_begin(tc, &last));
        for (;;) {
            int t;
            int16_t id;
            HX_TRY(hx_tc_field(tc, &last, &t, &id));
            if (t == HX_TC_STOP) break;
            HX_TRY(hx_tc_skip(tc, t));
        }
        hx_tc_struct_end(tc);
        return HOIST_OK;
    }
    default: HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "bad Thrift type %d", type);
    }
}

static int is_int_type(int t) { return t == HX_TC_I8 || t == HX_TC_I16 || t == HX_TC_I32 || t == HX_TC_I64; }

/* Reads an integer field into *out if its wire type is an integer, else skips. */
static hx_status get_i32(struct hx_tc *tc, int type, int32_t *out) {
    if (!is_int_type(type)) return hx_tc_skip(tc, type);
    int64_t v = 0;
    HX_TRY(hx_tc_int(tc, type, &v));
    HX_FAIL_IF(v < INT32_MIN || v > INT32_MAX, HOIST_ERR_PARQUET_CORRUPT, "page header value out of range");
    *out = (int32_t)v;
    return HOIST_OK;
}

static hx_status parse_data_header(struct hx_tc *tc, struct hx_pq_page_header *h, int v2) {
    int16_t last;
    HX_TRY(hx_tc_struct_begin(tc, &last));
    for (;;) {
        int t;
        int16_t id;
        HX_TRY(hx_tc_field(tc, &last, &t, &id));
        if (t == HX_TC_STOP) break;
        if (!v2) {
            switch (id) {
            case 1: HX_TRY(get_i32(tc, t, &h->num_values)); break;
            case 2: HX_TRY(get_i32(tc, t, &h->encoding)); break;
            case 3: HX_TRY(get_i32(tc, t, &h->def_encoding)); break;
            case 4: HX_TRY(get_i32(tc, t, &h->rep_encoding)); break;
            default: HX_TRY(hx_tc_skip(tc, t));
            }
        } else {
            switch (id) {
            case 1: HX_TRY(get_i32(tc, t, &h->num_values)); break;
            case 2: HX_TRY(get_i32(tc, t, &h->num_nulls)); break;
            case 3: HX_TRY(get_i32(tc, t, &h->num_rows)); break;
            case 4: HX_TRY(get_i32(tc, t, &h->encoding)); break;
            case 5: HX_TRY(get_i32(tc, t, &h->def_len)); break;
            case 6: HX_TRY(get_i32(tc, t, &h->rep_len)); break;
            case 7:
                if (t == HX_TC_TRUE || t == HX_TC_FALSE)
                    h->is_compressed = t == HX_TC_TRUE;
                else
                    HX_TRY(hx_tc_skip(tc, t));
                break;
            default: HX_TRY(hx_tc_skip(tc, t));
            }
        }
    }
    hx_tc_struct_end(tc);
    return HOIST_OK;
}

static hx_status parse_dict_header(struct hx_tc *tc, struct hx_pq_page_header *h) {
    int16_t last;
    HX_TRY(hx_tc_struct_begin(tc, &last));
    for (;;) {
        int t;
        int16_t id;
        HX_TRY(hx_tc_field(tc, &last, &t, &id));
        if (t == HX_TC_STOP) break;
        if (id == 1)
            HX_TRY(get_i32(tc, t, &h->num_values));
        else if (id == 2)
            HX_TRY(get_i32(tc, t, &h->encoding));
        else
            HX_TRY(hx_tc_skip(tc, t));
    }
    hx_tc_struct_end(tc);
    return HOIST_OK;
}

/* PageHeader fields 5, 7 and 8: the header of a v1 data, dictionary or v2
 * data page, noted in *has; a field of another type is skipped. */
static hx_status parse_kind_header(struct hx_tc *tc, int t, int16_t id, struct hx_pq_page_header *h, int *has) {
    if (t != HX_TC_STRUCT) return hx_tc_skip(tc, t);
    HX_TRY(id == 7 ? parse_dict_header(tc, h) : parse_data_header(tc, h, id == 8));
    *has = 1;
    return HOIST_OK;
}

hx_status hx_pq_parse_page_header(const uint8_t *data, size_t len, struct hx_pq_page_header *h, size_t *header_len) {
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->is_compressed = 1;
    h->uncompressed_size = h->compressed_size = -1;
    struct hx_tc tc;
    hx_tc_init(&tc, data, len);
    int16_t last;
    HX_TRY(hx_tc_struct_begin(&tc, &last));
    for (;;) {
        int t;
        int16_t id;
        HX_TRY(hx_tc_field(&tc, &last, &t, &id));
        if (t == HX_TC_STOP) break;
        switch (id) {
        case 1: HX_TRY(get_i32(&tc, t, &h->type)); break;
        case 2: HX_TRY(get_i32(&tc, t, &h->uncompressed_size)); break;
        case 3: HX_TRY(get_i32(&tc, t, &h->compressed_size)); break;
        case 4: {
            int32_t crc;
            if (is_int_type(t)) {
                HX_TRY(get_i32(&tc, t, &crc));
                h->crc = (uint32_t)crc;
                h->has_crc = 1;
            } else {
                HX_TRY(hx_tc_skip(&tc, t));
            }
            break;
        }
        case 5: HX_TRY(parse_kind_header(&tc, t, id, h, &h->has_data_header)); break;
        case 7: HX_TRY(parse_kind_header(&tc, t, id, h, &h->has_dict_header)); break;
        case 8: HX_TRY(parse_kind_header(&tc, t, id, h, &h->has_v2_header)); break;
        default: HX_TRY(hx_tc_skip(&tc, t));
        }
    }
    hx_tc_struct_end(&tc);
    HX_FAIL_IF(h->compressed_size < 0 || h->uncompressed_size < 0, HOIST_ERR_PARQUET_CORRUPT,
               "page header without valid sizes (compressed %d, uncompressed %d)", (int)h->compressed_size,
               (int)h->uncompressed_size);
    *header_len = (size_t)(tc.p - tc.start);
    return HOIST_OK;
}
