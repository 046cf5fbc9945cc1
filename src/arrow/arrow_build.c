/* arrow_build.c — array builders: arrays with zeroed buffers of given
 * sizes, all-null and constant columns, struct batches, and the byte size of
 * an array's buffers (arrow.h has the contracts). */
#include "arrow_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Bits per value of a fixed-width format; -1 if it is not fixed width. */
int hx_arrow_format_bits(const char *f) {
    if (f[0] && f[1] == '\0') {
        switch (f[0]) {
        case 'n': return 0;
        case 'b': return 1;
        case 'c':
        case 'C': return 8;
        case 's':
        case 'S':
        case 'e': return 16;
        case 'i':
        case 'I':
        case 'f': return 32;
        case 'l':
        case 'L':
        case 'g': return 64;
        default: return -1;
        }
    }
    if (f[0] == 't') {
        if (!strcmp(f, "tdD") || !strcmp(f, "tts") || !strcmp(f, "ttm") || !strcmp(f, "tiM")) return 32;
        if (!strcmp(f, "tin")) return 128;
        return 64;
    }
    if (f[0] == 'd' && f[1] == ':') {
        const char *c = strchr(f + 2, ',');
        c = c ? strchr(c + 1, ',') : NULL;
        return c ? (int)strtol(c + 1, NULL, 10) : 128;
    }
    if (f[0] == 'w' && f[1] == ':') return (int)strtol(f + 2, NULL, 10) * 8;
    return -1;
}

hx_status hx_arrow_array_make(struct ArrowArray *out, int64_t length, int n_buffers, const size_t *sizes,
                              size_t n_children) {
    HX_TRY(hx_arrow_array_init(out, length, n_buffers, (int64_t)n_children));
    for (int i = 0; i < n_buffers; i++) {
        if (sizes[i] == HX_ARROW_NO_BUFFER) continue;
        void *data;
        hx_status st = hx_arrow_array_alloc_buffer(out, i, sizes[i], &data);
        if (st != HOIST_OK) {
            out->release(out);
            return st;
        }
    }
    return HOIST_OK;
}

bool hx_arrow_format_is_binary(const char *f, bool *large) {
    *large = f[0] == 'U' || f[0] == 'Z';
    return f[0] && f[1] == '\0' && strchr("uzUZ", f[0]) != NULL;
}

hx_status hx_arrow_array_nulls(const struct ArrowSchema *schema, int64_t length, struct ArrowArray *out) {
    const char *f = schema->format;
    if (schema->dictionary) {
        size_t sz[2] = {hx_arrow_bitmap_bytes(length), (size_t)length * 8};
        HX_TRY(hx_arrow_array_make(out, length, 2, sz, 0));
        out->null_count = length;
        hx_status st = hx_arrow_array_alloc_dictionary(out);
        if (st == HOIST_OK) st = hx_arrow_array_nulls(schema->dictionary, 0, out->dictionary);
        if (st != HOIST_OK) out->release(out);
        return st;
    }
    int bits = hx_arrow_format_bits(f);
    if (bits == 0 && f[0] == 'n') {
        HX_TRY(hx_arrow_array_make(out, length, 0, NULL, 0));
        out->null_count = length;
        return HOIST_OK;
    }
    if (bits > 0) {
        size_t sz[2] = {hx_arrow_bitmap_bytes(length),
                        bits == 1 ? hx_arrow_bitmap_bytes(length) : (size_t)length * (size_t)(bits / 8)};
        HX_TRY(hx_arrow_array_make(out, length, 2, sz, 0));
        out->null_count = length;
        return HOIST_OK;
    }
    bool large;
    if (hx_arrow_format_is_binary(f, &large)) {
        size_t w = large ? 8 : 4;
        size_t sz[3] = {hx_arrow_bitmap_bytes(length), (size_t)(length + 1) * w, 0};
        HX_TRY(hx_arrow_array_make(out, length, 3, sz, 0));
        out->null_count = length;
        return HOIST_OK;
    }
    bool list = !strcmp(f, "+l") || !strcmp(f, "+L") || !strcmp(f, "+m");
    bool fsl = !strncmp(f, "+w:", 3);
    if ((list || fsl) && schema->n_children == 1) {
        size_t w = !strcmp(f, "+L") ? 8 : 4;
        size_t sz[2] = {hx_arrow_bitmap_bytes(length), (size_t)(length + 1) * w};
        HX_TRY(hx_arrow_array_make(out, length, fsl ? 1 : 2, sz, 1));
        out->null_count = length;
        int64_t clen = fsl ? length * strtol(f + 3, NULL, 10) : 0;
        hx_status st = hx_arrow_array_nulls(schema->children[0], clen, out->children[0]);
        if (st != HOIST_OK) out->release(out);
        return st;
    }
    if (!strcmp(f, "+s")) {
        size_t sz[1] = {hx_arrow_bitmap_bytes(length)};
        HX_TRY(hx_arrow_array_make(out, length, 1, sz, (size_t)schema->n_children));
        out->null_count = length;
        for (int64_t i = 0; i < schema->n_children; i++) {
            hx_status st = hx_arrow_array_nulls(schema->children[i], length, out->children[i]);
            if (st != HOIST_OK) {
                out->release(out);
                return st;
            }
        }
        return HOIST_OK;
    }
    return hx_error(HOIST_ERR_ARROW_TYPE, "cannot make a null column of type '%s'", f);
}

hx_status hx_arrow_array_struct(struct ArrowArray *children, size_t n, int64_t length, struct ArrowArray *out) {
    size_t sz[1] = {HX_ARROW_NO_BUFFER};
    hx_status st = hx_arrow_array_make(out, length, 1, sz, n);
    if (st != HOIST_OK) {
        for (size_t i = 0; i < n; i++)
            if (children[i].release) children[i].release(&children[i]);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        *out->children[i] = children[i];
        children[i].release = NULL;
    }
    return HOIST_OK;
}

static hx_status all_null(const char *format, int64_t length, struct ArrowArray *out) {
    const struct ArrowSchema type = {.format = format};
    return hx_arrow_array_nulls(&type, length, out);
}

hx_status hx_arrow_array_const_string(const char *value, int64_t length, struct ArrowArray *out) {
    size_t vlen = value ? strlen(value) : 0, total;
    if (!hx_mul_size(vlen, (size_t)length, &total))
        HX_FAIL(HOIST_ERR_LIMIT, "constant column of %" PRId64 " x %zu bytes is too large", length, vlen);
    if (!value) return all_null("u", length, out);
    bool large = total > INT32_MAX;
    size_t sz[3] = {HX_ARROW_NO_BUFFER, (size_t)(length + 1) * (large ? 8 : 4), total};
    HX_TRY(hx_arrow_array_make(out, length, 3, sz, 0));
    char *data = hx_arrow_buffer(out, 2);
    for (int64_t i = 0; i < length; i++) memcpy(data + (size_t)i * vlen, value, vlen);
    if (large) {
        int64_t *off = hx_arrow_buffer(out, 1);
        for (int64_t i = 0; i <= length; i++) off[i] = i * (int64_t)vlen;
    } else {
        int32_t *off = hx_arrow_buffer(out, 1);
        for (int64_t i = 0; i <= length; i++) off[i] = (int32_t)(i * (int64_t)vlen);
    }
    return HOIST_OK;
}

hx_status hx_arrow_array_const_fixed(const void *value, size_t width, int64_t length, struct ArrowArray *out) {
    HX_FAIL_IF(width != 1 && width != 2 && width != 4 && width != 8, HOIST_ERR_INVALID_ARG,
               "constant column: value width %zu is not 1, 2, 4 or 8 bytes", width);
    if (!value) return all_null(width == 1 ? "C" : width == 2 ? "S" : width == 4 ? "I" : "L", length, out);
    size_t sz[2] = {HX_ARROW_NO_BUFFER, (size_t)length * width};
    HX_TRY(hx_arrow_array_make(out, length, 2, sz, 0));
    uint8_t *d = hx_arrow_buffer(out, 1);
    for (int64_t i = 0; i < length; i++) memcpy(d + (size_t)i * width, value, width);
    return HOIST_OK;
}

uint64_t hx_arrow_array_bytes(const struct ArrowArray *a, const struct ArrowSchema *s) {
    if (!a || !s) return 0;
    uint64_t n = 0;
    int64_t len = a->length + a->offset;
    if (a->n_buffers > 0 && a->buffers[0]) n += hx_arrow_bitmap_bytes(len);
    const char *f = s->format;
    int bits = hx_arrow_format_bits(f);
    bool large;
    if (bits > 0)
        n += bits == 1 ? hx_arrow_bitmap_bytes(len) : (uint64_t)len * (uint64_t)(bits / 8);
    else if (hx_arrow_format_is_binary(f, &large))
        n += large ? (uint64_t)(len + 1) * 8 + (len > 0 ? (uint64_t)((const int64_t *)a->buffers[1])[len] : 0)
                   : (uint64_t)(len + 1) * 4 + (len > 0 ? (uint64_t)((const int32_t *)a->buffers[1])[len] : 0);
    else if (!strcmp(f, "+l") || !strcmp(f, "+m"))
        n += (uint64_t)(len + 1) * 4;
    else if (!strcmp(f, "+L"))
        n += (uint64_t)(len + 1) * 8;
    for (int64_t i = 0; i < a->n_children && i < s->n_children; i++)
        n += hx_arrow_array_bytes(a->children[i], s->children[i]);
    if (a->dictionary && s->dictionary) n += hx_arrow_array_bytes(a->dictionary, s->dictionary);
    return n;
}
