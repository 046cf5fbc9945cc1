/*
 * ds_arrow.c — the few Arrow array operations a dataset load needs: copies
 * of schemas, null and constant columns, widening casts, row filters and the
 * struct batch. Arrays made here own 64-byte aligned buffers freed by their
 * own release (Arrow C data interface: the producer's release frees its
 * private data, children and dictionary).
 */
#include "dataset_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- schemas ------------------------------------------------------------------ */

struct own_schema {
    char *format, *name, *metadata;
    struct ArrowSchema **child_ptrs;
    struct ArrowSchema *children;
    struct ArrowSchema *dict;
};

static void own_schema_release(struct ArrowSchema *s) {
    struct own_schema *p = s->private_data;
    if (p) {
        for (int64_t i = 0; i < s->n_children; i++)
            if (p->children[i].release) p->children[i].release(&p->children[i]);
        if (p->dict && p->dict->release) p->dict->release(p->dict);
        hx_free(p->dict);
        hx_free(p->children);
        hx_free(p->child_ptrs);
        hx_free(p->format);
        hx_free(p->name);
        hx_free(p->metadata);
        hx_free(p);
    }
    s->release = NULL;
}

/* Arrow metadata: int32 count, then per pair int32 len + bytes (twice). */
static size_t metadata_len(const char *m) {
    if (!m) return 0;
    int32_t n;
    memcpy(&n, m, 4);
    size_t off = 4;
    for (int32_t i = 0; i < n * 2; i++) {
        int32_t l;
        memcpy(&l, m + off, 4);
        off += 4 + (size_t)l;
    }
    return off;
}

static hx_status schema_init(struct ArrowSchema *out, const char *format, const char *name, const char *metadata,
                             int64_t flags, size_t n_children) {
    memset(out, 0, sizeof *out);
    struct own_schema *p = hx_calloc(1, sizeof *p);
    if (!p) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    out->private_data = p;
    out->release = own_schema_release;
    out->flags = flags;
    p->format = hx_strdup(format ? format : "n");
    p->name = name ? hx_strdup(name) : NULL;
    size_t ml = metadata_len(metadata);
    if (ml) {
        p->metadata = hx_malloc(ml);
        if (p->metadata) memcpy(p->metadata, metadata, ml);
    }
    if (n_children) {
        p->children = hx_calloc(n_children, sizeof *p->children);
        p->child_ptrs = hx_calloc(n_children, sizeof *p->child_ptrs);
    }
    if (!p->format || (name && !p->name) || (ml && !p->metadata) ||
        (n_children && (!p->children || !p->child_ptrs))) {
        own_schema_release(out);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_children; i++) p->child_ptrs[i] = &p->children[i];
    out->format = p->format;
    out->name = p->name;
    out->metadata = p->metadata;
    out->children = n_children ? p->child_ptrs : NULL;
    out->n_children = 0; /* counted up as children are filled, so release frees only those */
    return HOIST_OK;
}

hx_status hx_ds_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst) {
    HX_TRY(schema_init(dst, src->format, src->name, src->metadata, src->flags, (size_t)src->n_children));
    struct own_schema *p = dst->private_data;
    for (int64_t i = 0; i < src->n_children; i++) {
        hx_status st = hx_ds_schema_copy(src->children[i], &p->children[i]);
        if (st != HOIST_OK) {
            dst->release(dst);
            return st;
        }
        dst->n_children = i + 1;
    }
    if (src->dictionary) {
        p->dict = hx_calloc(1, sizeof *p->dict);
        hx_status st = p->dict ? hx_ds_schema_copy(src->dictionary, p->dict) : hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st != HOIST_OK) {
            hx_free(p->dict);
            p->dict = NULL;
            dst->release(dst);
            return st;
        }
        dst->dictionary = p->dict;
    }
    return HOIST_OK;
}

hx_status hx_ds_schema_leaf(const char *name, const char *format, int64_t flags, struct ArrowSchema *out) {
    return schema_init(out, format, name, NULL, flags, 0);
}

hx_status hx_ds_schema_struct(struct ArrowSchema *children, size_t n, struct ArrowSchema *out) {
    hx_status st = schema_init(out, "+s", "", NULL, 0, n);
    if (st != HOIST_OK) {
        for (size_t i = 0; i < n; i++)
            if (children[i].release) children[i].release(&children[i]);
        return st;
    }
    struct own_schema *p = out->private_data;
    for (size_t i = 0; i < n; i++) {
        p->children[i] = children[i];
        children[i].release = NULL;
    }
    out->n_children = (int64_t)n;
    return HOIST_OK;
}

/* ---- arrays ------------------------------------------------------------------- */

struct own_array {
    const void *bufs[3];
    void *owned[3];
    struct ArrowArray **child_ptrs;
    struct ArrowArray *children;
    struct ArrowArray *dict;
};

static void own_array_release(struct ArrowArray *a) {
    struct own_array *p = a->private_data;
    if (p) {
        for (int i = 0; i < 3; i++) hx_aligned_free(p->owned[i]);
        for (int64_t i = 0; i < a->n_children; i++)
            if (p->children[i].release) p->children[i].release(&p->children[i]);
        if (p->dict && p->dict->release) p->dict->release(p->dict);
        hx_free(p->dict);
        hx_free(p->children);
        hx_free(p->child_ptrs);
        hx_free(p);
    }
    a->release = NULL;
}

/* An array with n_buffers zeroed buffers of the given sizes and room for
 * n_children children (counted as they are set). */
static hx_status array_init(struct ArrowArray *out, int64_t length, int n_buffers, const size_t *sizes,
                            size_t n_children) {
    memset(out, 0, sizeof *out);
    struct own_array *p = hx_calloc(1, sizeof *p);
    if (!p) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    out->private_data = p;
    out->release = own_array_release;
    out->length = length;
    out->n_buffers = n_buffers;
    out->buffers = p->bufs;
    for (int i = 0; i < n_buffers; i++) {
        if (sizes[i] == (size_t)-1) continue; /* absent (e.g. no validity bitmap) */
        p->owned[i] = hx_aligned_alloc(sizes[i] ? sizes[i] : 1);
        if (!p->owned[i]) {
            own_array_release(out);
            return hx_error(HOIST_ERR_NOMEM, "out of memory allocating %zu bytes", sizes[i]);
        }
        memset(p->owned[i], 0, sizes[i] ? sizes[i] : 1);
        p->bufs[i] = p->owned[i];
    }
    if (n_children) {
        p->children = hx_calloc(n_children, sizeof *p->children);
        p->child_ptrs = hx_calloc(n_children, sizeof *p->child_ptrs);
        if (!p->children || !p->child_ptrs) {
            own_array_release(out);
            return hx_error(HOIST_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < n_children; i++) p->child_ptrs[i] = &p->children[i];
        out->children = p->child_ptrs;
    }
    return HOIST_OK;
}

static inline void *obuf(struct ArrowArray *a, int i) { return ((struct own_array *)a->private_data)->owned[i]; }

/* Bits per value of a fixed-width format; -1 if it is not fixed width. */
static int fixed_bits(const char *f) {
    if (f[0] && f[1] == '\0') {
        switch (f[0]) {
        case 'n': return 0;
        case 'b': return 1;
        case 'c': case 'C': return 8;
        case 's': case 'S': case 'e': return 16;
        case 'i': case 'I': case 'f': return 32;
        case 'l': case 'L': case 'g': return 64;
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

static size_t bitmap_bytes(int64_t n) { return (size_t)((n + 7) / 8); }

hx_status hx_ds_array_nulls(const struct ArrowSchema *schema, int64_t length, struct ArrowArray *out) {
    const char *f = schema->format;
    if (schema->dictionary) {
        size_t sz[2] = {bitmap_bytes(length), (size_t)length * 8};
        HX_TRY(array_init(out, length, 2, sz, 0));
        out->null_count = length;
        struct own_array *p = out->private_data;
        p->dict = hx_calloc(1, sizeof *p->dict);
        hx_status st = p->dict ? hx_ds_array_nulls(schema->dictionary, 0, p->dict)
                               : hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st != HOIST_OK) {
            hx_free(p->dict);
            p->dict = NULL;
            out->release(out);
            return st;
        }
        out->dictionary = p->dict;
        return HOIST_OK;
    }
    int bits = fixed_bits(f);
    if (bits == 0 && f[0] == 'n') {
        HX_TRY(array_init(out, length, 0, NULL, 0));
        out->null_count = length;
        return HOIST_OK;
    }
    if (bits > 0) {
        size_t sz[2] = {bitmap_bytes(length), bits == 1 ? bitmap_bytes(length) : (size_t)length * (size_t)(bits / 8)};
        HX_TRY(array_init(out, length, 2, sz, 0));
        out->null_count = length;
        return HOIST_OK;
    }
    if (!strcmp(f, "u") || !strcmp(f, "z") || !strcmp(f, "U") || !strcmp(f, "Z")) {
        size_t w = (f[0] == 'U' || f[0] == 'Z') ? 8 : 4;
        size_t sz[3] = {bitmap_bytes(length), (size_t)(length + 1) * w, 0};
        HX_TRY(array_init(out, length, 3, sz, 0));
        out->null_count = length;
        return HOIST_OK;
    }
    bool list = !strcmp(f, "+l") || !strcmp(f, "+L") || !strcmp(f, "+m");
    bool fsl = !strncmp(f, "+w:", 3);
    if ((list || fsl) && schema->n_children == 1) {
        size_t w = !strcmp(f, "+L") ? 8 : 4;
        size_t sz[2] = {bitmap_bytes(length), (size_t)(length + 1) * w};
        HX_TRY(array_init(out, length, fsl ? 1 : 2, sz, 1));
        out->null_count = length;
        int64_t clen = fsl ? length * strtol(f + 3, NULL, 10) : 0;
        hx_status st = hx_ds_array_nulls(schema->children[0], clen, &((struct own_array *)out->private_data)->children[0]);
        if (st != HOIST_OK) {
            out->release(out);
            return st;
        }
        out->n_children = 1;
        return HOIST_OK;
    }
    if (!strcmp(f, "+s")) {
        size_t sz[1] = {bitmap_bytes(length)};
        HX_TRY(array_init(out, length, 1, sz, (size_t)schema->n_children));
        out->null_count = length;
        struct own_array *p = out->private_data;
        for (int64_t i = 0; i < schema->n_children; i++) {
            hx_status st = hx_ds_array_nulls(schema->children[i], length, &p->children[i]);
            if (st != HOIST_OK) {
                out->release(out);
                return st;
            }
            out->n_children = i + 1;
        }
        return HOIST_OK;
    }
    return hx_error(HOIST_ERR_ARROW_TYPE, "cannot make a null column of type '%s'", f);
}

hx_status hx_ds_array_const(enum ds_ptype t, const char *value, int64_t length, struct ArrowArray *out) {
    if (t == DS_PT_STRING) {
        size_t vlen = value ? strlen(value) : 0;
        size_t total;
        if (!hx_mul_size(vlen, (size_t)length, &total)) return hx_error(HOIST_ERR_LIMIT, "partition column too large");
        bool big = total > INT32_MAX;
        size_t sz[3] = {value ? (size_t)-1 : bitmap_bytes(length), (size_t)(length + 1) * (big ? 8 : 4), total};
        HX_TRY(array_init(out, length, 3, sz, 0));
        if (!value) {
            out->null_count = length;
            return HOIST_OK;
        }
        char *data = obuf(out, 2);
        for (int64_t i = 0; i < length; i++) memcpy(data + (size_t)i * vlen, value, vlen);
        if (big) {
            int64_t *off = obuf(out, 1);
            for (int64_t i = 0; i <= length; i++) off[i] = i * (int64_t)vlen;
        } else {
            int32_t *off = obuf(out, 1);
            for (int64_t i = 0; i <= length; i++) off[i] = (int32_t)(i * (int64_t)vlen);
        }
        return HOIST_OK;
    }
    int64_t v = 0;
    if (value && !hx_ds_parse_pvalue(value, t, &v))
        return hx_error(HOIST_ERR_SCHEMA_MISMATCH, "partition value '%s' does not parse as its column type", value);
    size_t w = t == DS_PT_INT64 ? 8 : 4;
    size_t sz[2] = {value ? (size_t)-1 : bitmap_bytes(length), (size_t)length * w};
    HX_TRY(array_init(out, length, 2, sz, 0));
    if (!value) {
        out->null_count = length;
        return HOIST_OK;
    }
    if (w == 8) {
        int64_t *d = obuf(out, 1);
        for (int64_t i = 0; i < length; i++) d[i] = v;
    } else {
        int32_t *d = obuf(out, 1);
        for (int64_t i = 0; i < length; i++) d[i] = (int32_t)v;
    }
    return HOIST_OK;
}

/* ---- unify and cast --------------------------------------------------------------- */

static int int_rank(char c, bool *sign) {
    *sign = c == 'c' || c == 's' || c == 'i' || c == 'l';
    switch (c) {
    case 'c': case 'C': return 1;
    case 's': case 'S': return 2;
    case 'i': case 'I': return 3;
    case 'l': case 'L': return 4;
    default: return 0;
    }
}

static int float_rank(char c) { return c == 'f' ? 1 : c == 'g' ? 2 : 0; }

bool hx_ds_unify_format(const char *a, const char *b, const char **unified) {
    static const char *const sfmt[] = {"", "c", "s", "i", "l"};
    static const char *const ufmt[] = {"", "C", "S", "I", "L"};
    if (strcmp(a, b) == 0) {
        *unified = a;
        return true;
    }
    if (a[1] || b[1]) return false;
    bool sa, sb;
    int ra = int_rank(a[0], &sa), rb = int_rank(b[0], &sb);
    int fa = float_rank(a[0]), fb = float_rank(b[0]);
    if (ra && rb) {
        if (sa == sb) {
            *unified = sa ? sfmt[ra > rb ? ra : rb] : ufmt[ra > rb ? ra : rb];
            return true;
        }
        int rs = sa ? ra : rb, ru = sa ? rb : ra;
        int r = rs > ru ? rs : ru + 1;
        if (r > 4) return false; /* uint64 with a signed type: no exact common type */
        *unified = sfmt[r];
        return true;
    }
    if ((ra && fb) || (fa && rb) || (fa && fb)) {
        *unified = (fa == 2 || fb == 2 || ra || rb) ? "g" : "f";
        return true;
    }
    return false;
}

static void copy_validity(const struct ArrowArray *in, uint8_t *dst, int64_t len) {
    const uint8_t *src = in->null_count != 0 && in->n_buffers > 0 ? in->buffers[0] : NULL;
    if (!src) {
        memset(dst, 0xff, bitmap_bytes(len));
        return;
    }
    memset(dst, 0, bitmap_bytes(len));
    for (int64_t i = 0; i < len; i++) {
        int64_t j = i + in->offset;
        if ((src[j >> 3] >> (j & 7)) & 1) dst[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
}

hx_status hx_ds_array_cast(struct ArrowArray *in, const char *from, const char *to, struct ArrowArray *out) {
    if (strcmp(from, to) == 0) {
        *out = *in;
        in->release = NULL;
        return HOIST_OK;
    }
    bool sf, st_;
    int rf = int_rank(from[0], &sf), rt = int_rank(to[0], &st_);
    int ff = float_rank(from[0]), ft = float_rank(to[0]);
    if (from[1] || to[1] || !(rf || ff) || !(rt || ft))
        return hx_error(HOIST_ERR_ARROW_TYPE, "cannot convert '%s' to '%s'", from, to);
    int64_t len = in->length;
    int wt = fixed_bits(to) / 8;
    bool has_nulls = in->null_count != 0 && in->buffers[0];
    size_t sz[2] = {has_nulls ? bitmap_bytes(len) : (size_t)-1, (size_t)len * (size_t)wt};
    HX_TRY(array_init(out, len, 2, sz, 0));
    out->null_count = has_nulls ? in->null_count : 0;
    if (has_nulls) copy_validity(in, obuf(out, 0), len);
    const void *src = in->buffers[1];
    void *dst = obuf(out, 1);
    int64_t o = in->offset;
    for (int64_t i = 0; i < len; i++) {
        int64_t j = i + o;
        int64_t iv = 0;
        uint64_t uv = 0;
        double dv = 0;
        if (ff) {
            dv = from[0] == 'f' ? (double)((const float *)src)[j] : ((const double *)src)[j];
        } else {
            switch (from[0]) {
            case 'c': iv = ((const int8_t *)src)[j]; break;
            case 'C': uv = ((const uint8_t *)src)[j]; iv = (int64_t)uv; break;
            case 's': iv = ((const int16_t *)src)[j]; break;
            case 'S': uv = ((const uint16_t *)src)[j]; iv = (int64_t)uv; break;
            case 'i': iv = ((const int32_t *)src)[j]; break;
            case 'I': uv = ((const uint32_t *)src)[j]; iv = (int64_t)uv; break;
            case 'l': iv = ((const int64_t *)src)[j]; break;
            default: uv = ((const uint64_t *)src)[j]; iv = (int64_t)uv; break;
            }
            dv = sf ? (double)iv : (double)uv;
        }
        switch (to[0]) {
        case 'f': ((float *)dst)[i] = (float)dv; break;
        case 'g': ((double *)dst)[i] = dv; break;
        case 'c': ((int8_t *)dst)[i] = (int8_t)iv; break;
        case 'C': ((uint8_t *)dst)[i] = (uint8_t)iv; break;
        case 's': ((int16_t *)dst)[i] = (int16_t)iv; break;
        case 'S': ((uint16_t *)dst)[i] = (uint16_t)iv; break;
        case 'i': ((int32_t *)dst)[i] = (int32_t)iv; break;
        case 'I': ((uint32_t *)dst)[i] = (uint32_t)iv; break;
        case 'l': ((int64_t *)dst)[i] = iv; break;
        default: ((uint64_t *)dst)[i] = (uint64_t)iv; break;
        }
    }
    in->release(in);
    return HOIST_OK;
}

/* ---- filter -------------------------------------------------------------------- */

static hx_status filter_rec(const struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                            int64_t out_len, struct ArrowArray *out);

static hx_status filter_validity(const struct ArrowArray *in, const uint8_t *keep, int64_t out_len,
                                 struct ArrowArray *out) {
    const uint8_t *src = in->null_count != 0 && in->n_buffers > 0 ? in->buffers[0] : NULL;
    if (!src) {
        out->null_count = 0;
        return HOIST_OK;
    }
    uint8_t *dst = obuf(out, 0);
    int64_t k = 0, nulls = 0;
    for (int64_t i = 0; i < in->length; i++) {
        if (!keep[i]) continue;
        int64_t j = i + in->offset;
        if ((src[j >> 3] >> (j & 7)) & 1)
            dst[k >> 3] |= (uint8_t)(1u << (k & 7));
        else
            nulls++;
        k++;
    }
    out->null_count = nulls;
    (void)out_len;
    return HOIST_OK;
}

/* A mask over a child's elements from row ranges [start, end) of kept rows. */
static uint8_t *child_mask_lists(const struct ArrowArray *in, const uint8_t *keep, int64_t child_len, bool big,
                                 int64_t fixed, int64_t *child_out_len) {
    uint8_t *m = hx_calloc(child_len > 0 ? (size_t)child_len : 1, 1);
    if (!m) return NULL;
    int64_t total = 0;
    for (int64_t i = 0; i < in->length; i++) {
        if (!keep[i]) continue;
        int64_t j = i + in->offset, s, e;
        if (fixed) {
            s = j * fixed;
            e = s + fixed;
        } else if (big) {
            s = ((const int64_t *)in->buffers[1])[j];
            e = ((const int64_t *)in->buffers[1])[j + 1];
        } else {
            s = ((const int32_t *)in->buffers[1])[j];
            e = ((const int32_t *)in->buffers[1])[j + 1];
        }
        if (s < 0 || e > child_len || e < s) {
            hx_free(m);
            return NULL;
        }
        memset(m + s, 1, (size_t)(e - s));
        total += e - s;
    }
    *child_out_len = total;
    return m;
}

/* Copies the kept fixed-width values. Branch-free (write every value, advance
 * by keep[i], which is 0 or 1): a filter keeps rows in no predictable
 * pattern, and a taken/not-taken branch per row costs more than the copy.
 * The write position stays below out_len, so the loop stops once every kept
 * value is out. */
static void compress_fixed(uint8_t *dst, const uint8_t *src, const uint8_t *keep, int64_t n, size_t w,
                           int64_t out_len) {
    int64_t k = 0, i = 0;
    switch (w) {
    case 1:
        for (; i < n && k < out_len; i++) {
            dst[k] = src[i];
            k += keep[i];
        }
        break;
    case 2:
        for (; i < n && k < out_len; i++) {
            ((uint16_t *)dst)[k] = ((const uint16_t *)src)[i];
            k += keep[i];
        }
        break;
    case 4:
        for (; i < n && k < out_len; i++) {
            ((uint32_t *)dst)[k] = ((const uint32_t *)src)[i];
            k += keep[i];
        }
        break;
    case 8:
        for (; i < n && k < out_len; i++) {
            ((uint64_t *)dst)[k] = ((const uint64_t *)src)[i];
            k += keep[i];
        }
        break;
    default:
        for (; i < n; i++)
            if (keep[i]) memcpy(dst + (size_t)(k++) * w, src + (size_t)i * w, w);
    }
}

static hx_status filter_rec(const struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                            int64_t out_len, struct ArrowArray *out) {
    const char *f = schema->format;
    bool has_validity = in->null_count != 0 && in->n_buffers > 0 && in->buffers[0];
    size_t vsz = has_validity ? bitmap_bytes(out_len) : (size_t)-1;
    int bits = schema->dictionary ? -1 : fixed_bits(f);
    if (schema->dictionary) {
        /* Indices are filtered; the dictionary is copied whole (it is small
         * and shared by every row). */
        int ib = fixed_bits(f);
        size_t sz[2] = {vsz, (size_t)out_len * (size_t)(ib / 8)};
        HX_TRY(array_init(out, out_len, 2, sz, 0));
        filter_validity(in, keep, out_len, out);
        size_t w = (size_t)ib / 8;
        compress_fixed(obuf(out, 1), (const uint8_t *)in->buffers[1] + (size_t)in->offset * w, keep, in->length, w,
                       out_len);
        struct own_array *p = out->private_data;
        p->dict = hx_calloc(1, sizeof *p->dict);
        hx_status st = HOIST_OK;
        uint8_t *all = hx_malloc(in->dictionary->length > 0 ? (size_t)in->dictionary->length : 1);
        if (!p->dict || !all)
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        else {
            memset(all, 1, (size_t)in->dictionary->length);
            st = filter_rec(in->dictionary, schema->dictionary, all, in->dictionary->length, p->dict);
        }
        hx_free(all);
        if (st != HOIST_OK) {
            hx_free(p->dict);
            p->dict = NULL;
            out->release(out);
            return st;
        }
        out->dictionary = p->dict;
        return HOIST_OK;
    }
    if (bits == 0 && f[0] == 'n') {
        HX_TRY(array_init(out, out_len, 0, NULL, 0));
        out->null_count = out_len;
        return HOIST_OK;
    }
    if (bits == 1) {
        size_t sz[2] = {vsz, bitmap_bytes(out_len)};
        HX_TRY(array_init(out, out_len, 2, sz, 0));
        filter_validity(in, keep, out_len, out);
        const uint8_t *src = in->buffers[1];
        uint8_t *dst = obuf(out, 1);
        int64_t k = 0;
        for (int64_t i = 0; i < in->length; i++) {
            if (!keep[i]) continue;
            int64_t j = i + in->offset;
            if ((src[j >> 3] >> (j & 7)) & 1) dst[k >> 3] |= (uint8_t)(1u << (k & 7));
            k++;
        }
        return HOIST_OK;
    }
    if (bits > 0) {
        size_t w = (size_t)bits / 8;
        size_t sz[2] = {vsz, (size_t)out_len * w};
        HX_TRY(array_init(out, out_len, 2, sz, 0));
        filter_validity(in, keep, out_len, out);
        compress_fixed(obuf(out, 1), (const uint8_t *)in->buffers[1] + (size_t)in->offset * w, keep, in->length, w,
                       out_len);
        return HOIST_OK;
    }
    if (!strcmp(f, "u") || !strcmp(f, "z") || !strcmp(f, "U") || !strcmp(f, "Z")) {
        bool big = f[0] == 'U' || f[0] == 'Z';
        int64_t total = 0;
        for (int64_t i = 0; i < in->length; i++) {
            if (!keep[i]) continue;
            int64_t j = i + in->offset;
            total += big ? ((const int64_t *)in->buffers[1])[j + 1] - ((const int64_t *)in->buffers[1])[j]
                         : ((const int32_t *)in->buffers[1])[j + 1] - ((const int32_t *)in->buffers[1])[j];
        }
        size_t sz[3] = {vsz, (size_t)(out_len + 1) * (big ? 8 : 4), (size_t)total};
        HX_TRY(array_init(out, out_len, 3, sz, 0));
        filter_validity(in, keep, out_len, out);
        const char *data = in->buffers[2];
        char *dd = obuf(out, 2);
        int64_t k = 0, pos = 0;
        for (int64_t i = 0; i < in->length; i++) {
            if (!keep[i]) continue;
            int64_t j = i + in->offset, s, e;
            if (big) {
                s = ((const int64_t *)in->buffers[1])[j];
                e = ((const int64_t *)in->buffers[1])[j + 1];
                ((int64_t *)obuf(out, 1))[k] = pos;
            } else {
                s = ((const int32_t *)in->buffers[1])[j];
                e = ((const int32_t *)in->buffers[1])[j + 1];
                ((int32_t *)obuf(out, 1))[k] = (int32_t)pos;
            }
            memcpy(dd + pos, data + s, (size_t)(e - s));
            pos += e - s;
            k++;
        }
        if (big)
            ((int64_t *)obuf(out, 1))[k] = pos;
        else
            ((int32_t *)obuf(out, 1))[k] = (int32_t)pos;
        return HOIST_OK;
    }
    if (!strcmp(f, "+s")) {
        size_t sz[1] = {vsz};
        HX_TRY(array_init(out, out_len, 1, sz, (size_t)schema->n_children));
        filter_validity(in, keep, out_len, out);
        struct own_array *p = out->private_data;
        uint8_t *ck = NULL;
        for (int64_t c = 0; c < schema->n_children; c++) {
            const struct ArrowArray *child = in->children[c];
            const uint8_t *cm = keep;
            if (in->offset != 0 || child->length != in->length) {
                /* The struct's row i is the child's row offset + i. */
                if (!ck) ck = hx_calloc(child->length > 0 ? (size_t)child->length : 1, 1);
                if (!ck) {
                    out->release(out);
                    return hx_error(HOIST_ERR_NOMEM, "out of memory");
                }
                memset(ck, 0, (size_t)child->length);
                for (int64_t i = 0; i < in->length && i + in->offset < child->length; i++) ck[i + in->offset] = keep[i];
                cm = ck;
            }
            hx_status st = filter_rec(child, schema->children[c], cm, out_len, &p->children[c]);
            if (st != HOIST_OK) {
                hx_free(ck);
                out->release(out);
                return st;
            }
            out->n_children = c + 1;
        }
        hx_free(ck);
        return HOIST_OK;
    }
    bool list = !strcmp(f, "+l") || !strcmp(f, "+L") || !strcmp(f, "+m");
    bool fsl = !strncmp(f, "+w:", 3);
    if ((list || fsl) && schema->n_children == 1 && in->n_children == 1) {
        bool big = !strcmp(f, "+L");
        int64_t fixed = fsl ? strtol(f + 3, NULL, 10) : 0;
        const struct ArrowArray *child = in->children[0];
        int64_t child_out = 0;
        uint8_t *cm = child_mask_lists(in, keep, child->length, big, fixed, &child_out);
        if (!cm) return hx_error(HOIST_ERR_ARROW_INVALID, "list offsets out of range (or out of memory)");
        size_t sz[2] = {vsz, (size_t)(out_len + 1) * (big ? 8 : 4)};
        hx_status st = array_init(out, out_len, fsl ? 1 : 2, sz, 1);
        if (st != HOIST_OK) {
            hx_free(cm);
            return st;
        }
        filter_validity(in, keep, out_len, out);
        if (!fsl) {
            int64_t k = 0, pos = 0;
            for (int64_t i = 0; i < in->length; i++) {
                if (!keep[i]) continue;
                int64_t j = i + in->offset;
                int64_t n = big ? ((const int64_t *)in->buffers[1])[j + 1] - ((const int64_t *)in->buffers[1])[j]
                                : ((const int32_t *)in->buffers[1])[j + 1] - ((const int32_t *)in->buffers[1])[j];
                if (big)
                    ((int64_t *)obuf(out, 1))[k] = pos;
                else
                    ((int32_t *)obuf(out, 1))[k] = (int32_t)pos;
                pos += n;
                k++;
            }
            if (big)
                ((int64_t *)obuf(out, 1))[k] = pos;
            else
                ((int32_t *)obuf(out, 1))[k] = (int32_t)pos;
        }
        st = filter_rec(child, schema->children[0], cm, child_out, &((struct own_array *)out->private_data)->children[0]);
        hx_free(cm);
        if (st != HOIST_OK) {
            out->release(out);
            return st;
        }
        out->n_children = 1;
        return HOIST_OK;
    }
    return hx_error(HOIST_ERR_ARROW_TYPE, "filtering rows of type '%s' is not supported", f);
}

hx_status hx_ds_array_filter(struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                             int64_t out_len, struct ArrowArray *out) {
    HX_TRY(filter_rec(in, schema, keep, out_len, out));
    in->release(in);
    return HOIST_OK;
}

hx_status hx_ds_array_struct(struct ArrowArray *children, size_t n, int64_t length, struct ArrowArray *out) {
    size_t sz[1] = {(size_t)-1};
    hx_status st = array_init(out, length, 1, sz, n);
    if (st != HOIST_OK) {
        for (size_t i = 0; i < n; i++)
            if (children[i].release) children[i].release(&children[i]);
        return st;
    }
    struct own_array *p = out->private_data;
    for (size_t i = 0; i < n; i++) {
        p->children[i] = children[i];
        children[i].release = NULL;
    }
    out->n_children = (int64_t)n;
    return HOIST_OK;
}

uint64_t hx_ds_array_bytes(const struct ArrowArray *a, const struct ArrowSchema *s) {
    if (!a || !s) return 0;
    uint64_t n = 0;
    int64_t len = a->length + a->offset;
    if (a->n_buffers > 0 && a->buffers[0]) n += bitmap_bytes(len);
    const char *f = s->format;
    int bits = fixed_bits(f);
    if (bits > 0)
        n += bits == 1 ? bitmap_bytes(len) : (uint64_t)len * (uint64_t)(bits / 8);
    else if (!strcmp(f, "u") || !strcmp(f, "z"))
        n += (uint64_t)(len + 1) * 4 + (len > 0 ? (uint64_t)((const int32_t *)a->buffers[1])[len] : 0);
    else if (!strcmp(f, "U") || !strcmp(f, "Z"))
        n += (uint64_t)(len + 1) * 8 + (len > 0 ? (uint64_t)((const int64_t *)a->buffers[1])[len] : 0);
    else if (!strcmp(f, "+l") || !strcmp(f, "+m"))
        n += (uint64_t)(len + 1) * 4;
    else if (!strcmp(f, "+L"))
        n += (uint64_t)(len + 1) * 8;
    for (int64_t i = 0; i < a->n_children && i < s->n_children; i++) n += hx_ds_array_bytes(a->children[i], s->children[i]);
    if (a->dictionary && s->dictionary) n += hx_ds_array_bytes(a->dictionary, s->dictionary);
    return n;
}
