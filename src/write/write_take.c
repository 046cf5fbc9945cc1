/* Arrow "take": a new array of the rows at given indices, for splitting a
 * batch into its partitions in one pass (a mask filter per partition would
 * cost rows x partitions). src/arrow has filters but no take yet; this file
 * is the take, owning its output (no buffer shared with the input). */
#include "write_internal.h"

#include <string.h>

static hx_status take_rec(const struct ArrowArray *in, const struct ArrowSchema *s, const int64_t *idx, int64_t n,
                          struct ArrowArray *out);

/* A positive decimal prefix of s, or 0. */
static int atoi_safe(const char *s) {
    long v = 0;
    for (; *s >= '0' && *s <= '9' && v < 1000000; s++) v = v * 10 + (*s - '0');
    return (int)v;
}

static int64_t bitmap_bytes(int64_t n) { return (n + 7) / 8; }

static inline int bit_get(const uint8_t *b, int64_t i) { return (b[i >> 3] >> (i & 7)) & 1; }
static inline void bit_set(uint8_t *b, int64_t i) { b[i >> 3] |= (uint8_t)(1u << (i & 7)); }

/* A zeroed aligned block of at least 1 byte, owned by buffer i of a. */
static hx_status alloc_buf(struct ArrowArray *a, int i, size_t size, void **p) {
    void *b = hx_aligned_alloc(size ? size : 1);
    HX_FAIL_IF(b == NULL, HOIST_ERR_NOMEM, "out of memory splitting a batch (%zu bytes)", size);
    memset(b, 0, size ? size : 1);
    hx_arrow_array_set_buffer(a, i, b);
    *p = b;
    return HOIST_OK;
}

/* Byte width of a fixed-width format; 0 for others, -1 for boolean bits. */
static int fixed_width(const char *f) {
    switch (f[0]) {
    case 'b': return f[1] == '\0' ? -1 : 0;
    case 'c':
    case 'C': return f[1] == '\0' ? 1 : 0;
    case 's':
    case 'S':
    case 'e': return f[1] == '\0' ? 2 : 0;
    case 'i':
    case 'I':
    case 'f': return f[1] == '\0' ? 4 : 0;
    case 'l':
    case 'L':
    case 'g': return f[1] == '\0' ? 8 : 0;
    case 'w': return f[1] == ':' ? atoi_safe(f + 2) : 0;
    case 'd': {
        /* d:precision,scale[,bitwidth] */
        const char *c = strchr(f, ',');
        const char *c2 = c ? strchr(c + 1, ',') : NULL;
        int bits = c2 ? atoi_safe(c2 + 1) : 128;
        return bits == 32 || bits == 64 || bits == 128 || bits == 256 ? bits / 8 : 0;
    }
    case 't':
        if (f[1] == 'd') return f[2] == 'D' ? 4 : f[2] == 'm' ? 8 : 0;
        if (f[1] == 't') return f[2] == 's' || f[2] == 'm' ? 4 : 8;
        if (f[1] == 's' || f[1] == 'D') return 8;
        if (f[1] == 'i') return f[2] == 'M' ? 4 : f[2] == 'D' ? 8 : f[2] == 'n' ? 16 : 0;
        return 0;
    default: return 0;
    }
}

static hx_status take_validity(const struct ArrowArray *in, const int64_t *idx, int64_t n, struct ArrowArray *out) {
    const uint8_t *src = in->null_count != 0 && in->n_buffers > 0 ? in->buffers[0] : NULL;
    out->null_count = 0;
    if (src == NULL) return HOIST_OK;
    uint8_t *dst = NULL;
    HX_TRY(alloc_buf(out, 0, (size_t)bitmap_bytes(n), (void **)&dst));
    int64_t nulls = 0;
    for (int64_t k = 0; k < n; k++) {
        if (bit_get(src, idx[k] + in->offset))
            bit_set(dst, k);
        else
            nulls++;
    }
    out->null_count = nulls;
    return HOIST_OK;
}

static hx_status take_fixed(const struct ArrowArray *in, int w, const int64_t *idx, int64_t n, struct ArrowArray *out) {
    if (w < 0) {
        const uint8_t *src = in->buffers[1];
        uint8_t *dst = NULL;
        HX_TRY(alloc_buf(out, 1, (size_t)bitmap_bytes(n), (void **)&dst));
        for (int64_t k = 0; k < n; k++)
            if (bit_get(src, idx[k] + in->offset)) bit_set(dst, k);
        return HOIST_OK;
    }
    const uint8_t *src = in->buffers[1];
    uint8_t *dst = NULL;
    HX_TRY(alloc_buf(out, 1, (size_t)n * (size_t)w, (void **)&dst));
    switch (w) {
    case 4:
        for (int64_t k = 0; k < n; k++) ((uint32_t *)dst)[k] = ((const uint32_t *)src)[idx[k] + in->offset];
        break;
    case 8:
        for (int64_t k = 0; k < n; k++) ((uint64_t *)dst)[k] = ((const uint64_t *)src)[idx[k] + in->offset];
        break;
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + (size_t)k * (size_t)w, src + (size_t)(idx[k] + in->offset) * (size_t)w, (size_t)w);
    }
    return HOIST_OK;
}

static hx_status take_binary(const struct ArrowArray *in, int big, const int64_t *idx, int64_t n,
                             struct ArrowArray *out) {
    const uint8_t *data = in->buffers[2];
    uint64_t total = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t j = idx[k] + in->offset;
        total += big ? (uint64_t)(((const int64_t *)in->buffers[1])[j + 1] - ((const int64_t *)in->buffers[1])[j])
                     : (uint64_t)(((const int32_t *)in->buffers[1])[j + 1] - ((const int32_t *)in->buffers[1])[j]);
    }
    HX_FAIL_IF(!big && total > INT32_MAX, HOIST_ERR_LIMIT, "a partition's strings exceed 2 GiB in one batch");
    void *offs = NULL;
    uint8_t *dst = NULL;
    HX_TRY(alloc_buf(out, 1, (size_t)(n + 1) * (big ? 8 : 4), &offs));
    HX_TRY(alloc_buf(out, 2, (size_t)total, (void **)&dst));
    uint64_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t j = idx[k] + in->offset, s, e;
        if (big) {
            s = ((const int64_t *)in->buffers[1])[j];
            e = ((const int64_t *)in->buffers[1])[j + 1];
            ((int64_t *)offs)[k] = (int64_t)pos;
        } else {
            s = ((const int32_t *)in->buffers[1])[j];
            e = ((const int32_t *)in->buffers[1])[j + 1];
            ((int32_t *)offs)[k] = (int32_t)pos;
        }
        if (e > s) memcpy(dst + pos, data + s, (size_t)(e - s));
        pos += (uint64_t)(e - s);
    }
    if (big)
        ((int64_t *)offs)[n] = (int64_t)pos;
    else
        ((int32_t *)offs)[n] = (int32_t)pos;
    return HOIST_OK;
}

/* Binary and string views (Columnar.md "Variable-size Binary View Layout",
 * what polars hands out): the 16-byte views are taken, and the bytes of the
 * views longer than 12 (kept outside the view) are copied into one new data
 * buffer, so the output owns everything it references. Null rows get an empty
 * view: their input views need not point anywhere valid. */
static hx_status take_view(const struct ArrowArray *in, const int64_t *idx, int64_t n, struct ArrowArray *out) {
    const uint8_t *views = in->buffers[1], *valid = in->buffers[0];
    const int64_t nvar = in->n_buffers - 3; /* validity, views, data buffers..., their sizes */
    const int64_t *sizes = in->buffers[in->n_buffers - 1];
    uint64_t total = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t j = idx[k] + in->offset;
        int32_t len;
        memcpy(&len, views + 16 * j, 4);
        if ((!valid || (valid[j >> 3] >> (j & 7) & 1)) && len > 12) total += (uint64_t)len;
    }
    HX_FAIL_IF(total > INT32_MAX, HOIST_ERR_LIMIT, "a partition's strings exceed 2 GiB in one batch");
    uint8_t *vout = NULL, *dst = NULL;
    int64_t *sizes_out = NULL;
    HX_TRY(alloc_buf(out, 1, (size_t)(n ? n : 1) * 16, (void **)&vout));
    HX_TRY(alloc_buf(out, 2, (size_t)(total ? total : 1), (void **)&dst));
    HX_TRY(alloc_buf(out, 3, sizeof *sizes_out, (void **)&sizes_out));
    uint32_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t j = idx[k] + in->offset;
        uint8_t *v = vout + 16 * k;
        memset(v, 0, 16);
        if (valid && !(valid[j >> 3] >> (j & 7) & 1)) continue;
        memcpy(v, views + 16 * j, 16);
        int32_t len, bi, off;
        memcpy(&len, v, 4);
        if (len <= 12) continue;
        memcpy(&bi, v + 8, 4);
        memcpy(&off, v + 12, 4);
        HX_FAIL_IF(bi < 0 || bi >= nvar || off < 0 || (int64_t)off + len > sizes[bi], HOIST_ERR_ARROW_INVALID,
                   "a string view points outside its data buffers");
        memcpy(dst + pos, (const uint8_t *)in->buffers[2 + bi] + off, (size_t)len);
        const int32_t zero = 0, at = (int32_t)pos;
        memcpy(v + 8, &zero, 4);
        memcpy(v + 12, &at, 4);
        pos += (uint32_t)len;
    }
    sizes_out[0] = (int64_t)total;
    return HOIST_OK;
}

/* Lists: new offsets, and the child taken at every element of the rows. */
static hx_status take_list(const struct ArrowArray *in, const struct ArrowSchema *s, int big, int64_t fixed,
                           const int64_t *idx, int64_t n, struct ArrowArray *out) {
    int64_t total = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t j = idx[k] + in->offset;
        if (fixed)
            total += fixed;
        else if (big)
            total += ((const int64_t *)in->buffers[1])[j + 1] - ((const int64_t *)in->buffers[1])[j];
        else
            total += ((const int32_t *)in->buffers[1])[j + 1] - ((const int32_t *)in->buffers[1])[j];
    }
    int64_t *cidx = hx_malloc((size_t)(total ? total : 1) * sizeof *cidx);
    HX_FAIL_IF(cidx == NULL, HOIST_ERR_NOMEM, "out of memory splitting a batch");
    void *offs = NULL;
    hx_status st = fixed ? HOIST_OK : alloc_buf(out, 1, (size_t)(n + 1) * (big ? 8 : 4), &offs);
    int64_t pos = 0;
    for (int64_t k = 0; st == HOIST_OK && k < n; k++) {
        int64_t j = idx[k] + in->offset, b, e;
        if (fixed) {
            b = j * fixed;
            e = b + fixed;
        } else if (big) {
            b = ((const int64_t *)in->buffers[1])[j];
            e = ((const int64_t *)in->buffers[1])[j + 1];
            ((int64_t *)offs)[k] = pos;
        } else {
            b = ((const int32_t *)in->buffers[1])[j];
            e = ((const int32_t *)in->buffers[1])[j + 1];
            ((int32_t *)offs)[k] = (int32_t)pos;
        }
        for (int64_t c = b; c < e; c++) cidx[pos++] = c;
    }
    if (st == HOIST_OK && !fixed) {
        if (big)
            ((int64_t *)offs)[n] = pos;
        else
            ((int32_t *)offs)[n] = (int32_t)pos;
    }
    if (st == HOIST_OK) st = take_rec(in->children[0], s->children[0], cidx, total, out->children[0]);
    hx_free(cidx);
    return st;
}

static hx_status take_rec(const struct ArrowArray *in, const struct ArrowSchema *s, const int64_t *idx, int64_t n,
                          struct ArrowArray *out) {
    const char *f = s->format;
    int w = s->dictionary ? 0 : fixed_width(f);
    int64_t nbuf = 1, nchild = 0;
    int big = 0;
    if (s->dictionary)
        nbuf = 2;
    else if (strcmp(f, "n") == 0)
        nbuf = 0;
    else if (w != 0)
        nbuf = 2;
    else if (strcmp(f, "u") == 0 || strcmp(f, "z") == 0 || (big = strcmp(f, "U") == 0 || strcmp(f, "Z") == 0))
        nbuf = 3;
    else if (strcmp(f, "vu") == 0 || strcmp(f, "vz") == 0)
        nbuf = 4; /* validity, views, one data buffer, its size */
    else if (strcmp(f, "+s") == 0)
        nchild = s->n_children;
    else if (strcmp(f, "+l") == 0 || strcmp(f, "+m") == 0 || (big = strcmp(f, "+L") == 0))
        nbuf = 2, nchild = 1;
    else if (strncmp(f, "+w:", 3) == 0)
        nchild = 1;
    else
        HX_FAIL(HOIST_ERR_ARROW_TYPE, "column '%s': splitting rows of type '%s' is not supported",
                s->name ? s->name : "", f);
    HX_FAIL_IF(in->n_children < nchild || in->n_buffers < (nbuf == 4 ? 3 : nbuf), HOIST_ERR_ARROW_INVALID,
               "column '%s': array does not match its type '%s'", s->name ? s->name : "", f);
    HX_TRY(hx_arrow_array_init(out, n, nbuf, nchild));
    hx_status st = HOIST_OK;
    if (nbuf == 0) {
        out->null_count = n;
        return HOIST_OK;
    }
    st = take_validity(in, idx, n, out);
    if (st == HOIST_OK && s->dictionary) {
        int iw = fixed_width(f);
        st = iw > 0 ? take_fixed(in, iw, idx, n, out)
                    : hx_error(HOIST_ERR_ARROW_INVALID, "dictionary index type '%s'", f);
        /* The dictionary is copied whole: it is shared by every row. */
        int64_t dn = in->dictionary ? in->dictionary->length : 0;
        int64_t *all = st == HOIST_OK ? hx_malloc((size_t)(dn ? dn : 1) * sizeof *all) : NULL;
        if (st == HOIST_OK && all == NULL) st = hx_error(HOIST_ERR_NOMEM, "out of memory splitting a batch");
        for (int64_t i = 0; st == HOIST_OK && i < dn; i++) all[i] = i;
        if (st == HOIST_OK) st = hx_arrow_array_alloc_dictionary(out);
        if (st == HOIST_OK) st = take_rec(in->dictionary, s->dictionary, all, dn, out->dictionary);
        hx_free(all);
    } else if (st == HOIST_OK && w != 0) {
        st = take_fixed(in, w, idx, n, out);
    } else if (st == HOIST_OK && nbuf == 3) {
        st = take_binary(in, big, idx, n, out);
    } else if (st == HOIST_OK && nbuf == 4) {
        st = take_view(in, idx, n, out);
    } else if (st == HOIST_OK && strcmp(f, "+s") == 0) {
        int64_t *cidx = hx_malloc((size_t)(n ? n : 1) * sizeof *cidx);
        if (cidx == NULL) st = hx_error(HOIST_ERR_NOMEM, "out of memory splitting a batch");
        for (int64_t k = 0; st == HOIST_OK && k < n; k++) cidx[k] = idx[k] + in->offset;
        for (int64_t c = 0; st == HOIST_OK && c < nchild; c++)
            st = take_rec(in->children[c], s->children[c], cidx, n, out->children[c]);
        hx_free(cidx);
    } else if (st == HOIST_OK) {
        int64_t fixed = f[1] == 'w' ? atoi_safe(f + 3) : 0;
        if (f[1] == 'w' && fixed <= 0)
            st = hx_error(HOIST_ERR_ARROW_INVALID, "bad fixed-size list '%s'", f);
        else
            st = take_list(in, s, big, fixed, idx, n, out);
    }
    if (st != HOIST_OK) out->release(out);
    return st;
}

hx_status hx_write_take(const struct ArrowArray *in, const struct ArrowSchema *schema, const int64_t *idx, int64_t n,
                        struct ArrowArray *out) {
    memset(out, 0, sizeof *out);
    return take_rec(in, schema, idx, n, out);
}
