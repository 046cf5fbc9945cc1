/*
 * pq_thrift_write.c — the Thrift compact protocol as a writer (page headers,
 * page indexes, the footer). The first failure (only allocation can fail)
 * sticks in the writer and later calls do nothing, so callers serialize a
 * whole structure and check once at hx_tw_finish.
 */
#include "pq_write_internal.h"

#include <string.h>

void hx_tw_init(struct hx_tw *w, struct hx_buf *out) {
    w->out = out;
    w->depth = 0;
    w->last[0] = 0;
    w->st = HOIST_OK;
}

static void put(struct hx_tw *w, const void *p, size_t n) {
    if (w->st == HOIST_OK) w->st = hx_buf_append(w->out, p, n);
}

static void put_byte(struct hx_tw *w, uint8_t b) { put(w, &b, 1); }

static void put_varint(struct hx_tw *w, uint64_t v) {
    uint8_t b[10];
    put(w, b, hx_pqw_varint(b, v));
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

/* Compact protocol: a field id within 15 of the previous one goes in the
 * type byte's high nibble; otherwise the id follows as a zigzag varint. */
static void field(struct hx_tw *w, int16_t id, int type) {
    int16_t last = w->last[w->depth];
    if (id > last && id - last <= 15) {
        put_byte(w, (uint8_t)(((id - last) << 4) | type));
    } else {
        put_byte(w, (uint8_t)type);
        put_varint(w, zigzag(id));
    }
    w->last[w->depth] = id;
}

/* Compact protocol bytes are written raw, not as varints. */
void hx_tw_i8(struct hx_tw *w, int16_t id, int8_t v) {
    field(w, id, HX_TC_I8);
    put_byte(w, (uint8_t)v);
}

void hx_tw_i16(struct hx_tw *w, int16_t id, int16_t v) {
    field(w, id, HX_TC_I16);
    put_varint(w, zigzag(v));
}

void hx_tw_i32(struct hx_tw *w, int16_t id, int32_t v) {
    field(w, id, HX_TC_I32);
    put_varint(w, zigzag(v));
}

void hx_tw_i64(struct hx_tw *w, int16_t id, int64_t v) {
    field(w, id, HX_TC_I64);
    put_varint(w, zigzag(v));
}

void hx_tw_bool(struct hx_tw *w, int16_t id, int v) { field(w, id, v ? HX_TC_TRUE : HX_TC_FALSE); }

void hx_tw_binary(struct hx_tw *w, int16_t id, const void *data, size_t len) {
    field(w, id, HX_TC_BINARY);
    put_varint(w, len);
    put(w, data, len);
}

void hx_tw_string(struct hx_tw *w, int16_t id, const char *s) { hx_tw_binary(w, id, s, strlen(s)); }

static void push(struct hx_tw *w) {
    if (w->depth + 1 >= HX_TW_MAX_DEPTH) {
        if (w->st == HOIST_OK) w->st = hx_error(HOIST_ERR_INTERNAL, "thrift writer: structs nested too deep");
        return;
    }
    w->last[++w->depth] = 0;
}

void hx_tw_struct_begin(struct hx_tw *w, int16_t id) {
    field(w, id, HX_TC_STRUCT);
    push(w);
}

void hx_tw_elem_struct_begin(struct hx_tw *w) { push(w); }

void hx_tw_struct_end(struct hx_tw *w) {
    put_byte(w, HX_TC_STOP);
    if (w->depth > 0) w->depth--;
}

void hx_tw_list_begin(struct hx_tw *w, int16_t id, int elem_type, uint32_t n) {
    field(w, id, HX_TC_LIST);
    if (n < 15) {
        put_byte(w, (uint8_t)((n << 4) | (uint32_t)elem_type));
    } else {
        put_byte(w, (uint8_t)(0xF0 | elem_type));
        put_varint(w, n);
    }
}

void hx_tw_elem_i32(struct hx_tw *w, int32_t v) { put_varint(w, zigzag(v)); }
void hx_tw_elem_i64(struct hx_tw *w, int64_t v) { put_varint(w, zigzag(v)); }
/* Booleans in containers are one byte each: 1 true, 2 false (as TCompactProtocol). */
void hx_tw_elem_bool(struct hx_tw *w, int v) { put_byte(w, v ? HX_TC_TRUE : HX_TC_FALSE); }

void hx_tw_elem_binary(struct hx_tw *w, const void *data, size_t len) {
    put_varint(w, len);
    put(w, data, len);
}

hx_status hx_tw_finish(struct hx_tw *w) {
    put_byte(w, HX_TC_STOP);
    return w->st;
}
