/* arrow_flatbuf.c — reading flatbuffers from untrusted bytes, for the Arrow
 * IPC reader (arrow_ipc_read.c) and the Parquet reader's ARROW:schema
 * (pq_arrow_schema.c). The Arrow format's Schema/Message tables are read by
 * hand (no flatbuffers dependency); every read is bounds-checked and any
 * invalid reference reads as "absent" (position 0), which the callers treat
 * as a missing field or a malformed message. flatbuffers' internals doc:
 * a table starts with an int32 soffset back to its vtable; the vtable holds
 * uint16 vtable size, table size, then one uint16 offset per field (0 =
 * absent); references are uint32 offsets forward from where they are stored. */
#include "arrow_internal.h"

#include <string.h>

static bool u32_at(const struct hx_arrow_fb *fb, size_t pos, uint32_t *v) {
    if (pos > fb->n || fb->n - pos < 4) return false;
    memcpy(v, fb->b + pos, 4);
    return true;
}

size_t hx_arrow_fb_root(const struct hx_arrow_fb *fb) {
    uint32_t off;
    if (!u32_at(fb, 0, &off) || off == 0 || off >= fb->n) return 0;
    return off;
}

size_t hx_arrow_fb_field(const struct hx_arrow_fb *fb, size_t tab, int i) {
    uint32_t so;
    if (!tab || i < 0 || !u32_at(fb, tab, &so)) return 0;
    int64_t vt = (int64_t)tab - (int32_t)so;
    if (vt < 0 || (uint64_t)vt + 4 > fb->n) return 0;
    uint16_t vsize, off;
    memcpy(&vsize, fb->b + vt, 2);
    if ((size_t)(4 + 2 * i + 2) > vsize || (uint64_t)vt + vsize > fb->n) return 0;
    memcpy(&off, fb->b + vt + 4 + 2 * i, 2);
    if (off == 0 || tab + off >= fb->n) return 0;
    return tab + off;
}

int64_t hx_arrow_fb_int(const struct hx_arrow_fb *fb, size_t tab, int i, int size, int64_t dflt) {
    size_t p = hx_arrow_fb_field(fb, tab, i);
    if (!p || fb->n - p < (size_t)size) return dflt;
    if (size == 1) return (int8_t)fb->b[p];
    if (size == 2) {
        int16_t v;
        memcpy(&v, fb->b + p, 2);
        return v;
    }
    if (size == 4) {
        int32_t v;
        memcpy(&v, fb->b + p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, fb->b + p, 8);
    return v;
}

size_t hx_arrow_fb_ref(const struct hx_arrow_fb *fb, size_t tab, int i) {
    size_t p = hx_arrow_fb_field(fb, tab, i);
    uint32_t off;
    if (!p || !u32_at(fb, p, &off)) return 0;
    if (off == 0 || (uint64_t)p + off >= fb->n) return 0;
    return p + off;
}

bool hx_arrow_fb_vec(const struct hx_arrow_fb *fb, size_t vec, size_t elem_size, uint32_t *len) {
    if (!vec || !u32_at(fb, vec, len)) return false;
    return (uint64_t)*len * elem_size <= fb->n - vec - 4;
}

size_t hx_arrow_fb_vec_table(const struct hx_arrow_fb *fb, size_t vec, uint32_t i) {
    size_t p = vec + 4 + (size_t)i * 4;
    uint32_t off;
    if (!u32_at(fb, p, &off) || off == 0 || (uint64_t)p + off >= fb->n) return 0;
    return p + off;
}

bool hx_arrow_fb_str(const struct hx_arrow_fb *fb, size_t s, const char **str, uint32_t *len) {
    if (!s || !u32_at(fb, s, len) || (uint64_t)*len > fb->n - s - 4) return false;
    *str = (const char *)fb->b + s + 4;
    return true;
}
