/* arrow_compute.c — the array kernels a load needs: numeric type
 * unification, widening casts and row filters over flat, nested and
 * dictionary arrays (arrow.h has the contracts). */
#include "arrow_internal.h"

#include <stdlib.h>
#include <string.h>

static int int_rank(char c, bool *sign) {
    *sign = c == 'c' || c == 's' || c == 'i' || c == 'l';
    switch (c) {
    case 'c':
    case 'C': return 1;
    case 's':
    case 'S': return 2;
    case 'i':
    case 'I': return 3;
    case 'l':
    case 'L': return 4;
    default: return 0;
    }
}

static int float_rank(char c) { return c == 'f' ? 1 : c == 'g' ? 2 : 0; }

bool hx_arrow_unify_format(const char *a, const char *b, const char **unified) {
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
        memset(dst, 0xff, hx_arrow_bitmap_bytes(len));
        return;
    }
    memset(dst, 0, hx_arrow_bitmap_bytes(len));
    for (int64_t i = 0; i < len; i++) {
        int64_t j = i + in->offset;
        if ((src[j >> 3] >> (j & 7)) & 1) dst[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
}

hx_status hx_arrow_array_cast(struct ArrowArray *in, const char *from, const char *to, struct ArrowArray *out) {
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
    int wt = hx_arrow_format_bits(to) / 8;
    bool has_nulls = in->null_count != 0 && in->buffers[0];
    size_t sz[2] = {has_nulls ? hx_arrow_bitmap_bytes(len) : HX_ARROW_NO_BUFFER, (size_t)len * (size_t)wt};
    HX_TRY(hx_arrow_array_make(out, len, 2, sz, 0));
    out->null_count = has_nulls ? in->null_count : 0;
    if (has_nulls) copy_validity(in, hx_arrow_buffer(out, 0), len);
    const void *src = in->buffers[1];
    void *dst = hx_arrow_buffer(out, 1);
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
            case 'C':
                uv = ((const uint8_t *)src)[j];
                iv = (int64_t)uv;
                break;
            case 's': iv = ((const int16_t *)src)[j]; break;
            case 'S':
                uv = ((const uint16_t *)src)[j];
                iv = (int64_t)uv;
                break;
            case 'i': iv = ((const int32_t *)src)[j]; break;
            case 'I':
                uv = ((const uint32_t *)src)[j];
                iv = (int64_t)uv;
                break;
            case 'l': iv = ((const int64_t *)src)[j]; break;
            default:
                uv = ((const uint64_t *)src)[j];
                iv = (int64_t)uv;
                break;
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
    uint8_t *dst = hx_arrow_buffer(out, 0);
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

/* Branch-free (write every value, advance by keep[i], which is 0 or 1): a
 * filter keeps rows in no predictable pattern, and a taken/not-taken branch
 * per row costs more than the copy. The write position stays below out_len,
 * so the loop stops once every kept value is out. Values are moved with
 * fixed-size memcpy (plain loads and stores): src may be a Parquet page,
 * with no alignment. */
void hx_arrow_keep_fixed(uint8_t *dst, const uint8_t *src, const uint8_t *keep, int64_t n, size_t w, int64_t out_len) {
    int64_t k = 0, i = 0;
#define KEEP_LOOP(W)                                                                                                   \
    for (; i < n && k < out_len; i++) {                                                                                \
        memcpy(dst + (size_t)k * (W), src + (size_t)i * (W), (W));                                                     \
        k += keep[i];                                                                                                  \
    }                                                                                                                  \
    break
    switch (w) {
    case 1: KEEP_LOOP(1);
    case 2: KEEP_LOOP(2);
    case 4: KEEP_LOOP(4);
    case 8: KEEP_LOOP(8);
    case 16: KEEP_LOOP(16);
    default:
        for (; i < n; i++)
            if (keep[i]) memcpy(dst + (size_t)(k++) * w, src + (size_t)i * w, w);
    }
#undef KEEP_LOOP
}

/* Offsets of the kept rows of a binary or list array, rebased to 0, into
 * dst (count + 1 of them); returns where the last one ends. */
static int64_t kept_offsets(const struct ArrowArray *in, const uint8_t *keep, bool big, void *dst) {
    int64_t k = 0, pos = 0;
    for (int64_t i = 0; i < in->length; i++) {
        if (!keep[i]) continue;
        int64_t j = i + in->offset;
        int64_t n = big ? ((const int64_t *)in->buffers[1])[j + 1] - ((const int64_t *)in->buffers[1])[j]
                        : ((const int32_t *)in->buffers[1])[j + 1] - ((const int32_t *)in->buffers[1])[j];
        if (big)
            ((int64_t *)dst)[k] = pos;
        else
            ((int32_t *)dst)[k] = (int32_t)pos;
        pos += n;
        k++;
    }
    if (big)
        ((int64_t *)dst)[k] = pos;
    else
        ((int32_t *)dst)[k] = (int32_t)pos;
    return pos;
}

/* Indices are filtered; the dictionary is copied whole (it is small and
 * shared by every row). */
static hx_status filter_dictionary(const struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                                   int64_t out_len, size_t vsz, struct ArrowArray *out) {
    size_t w = (size_t)hx_arrow_format_bits(schema->format) / 8;
    size_t sz[2] = {vsz, (size_t)out_len * w};
    HX_TRY(hx_arrow_array_make(out, out_len, 2, sz, 0));
    filter_validity(in, keep, out_len, out);
    hx_arrow_keep_fixed(hx_arrow_buffer(out, 1), (const uint8_t *)in->buffers[1] + (size_t)in->offset * w, keep,
                        in->length, w, out_len);
    hx_status st = hx_arrow_array_alloc_dictionary(out);
    uint8_t *all = hx_malloc(in->dictionary->length > 0 ? (size_t)in->dictionary->length : 1);
    if (st == HOIST_OK && !all) st = hx_error(HOIST_ERR_NOMEM, "out of memory filtering a dictionary array");
    if (st == HOIST_OK) {
        memset(all, 1, (size_t)in->dictionary->length);
        st = filter_rec(in->dictionary, schema->dictionary, all, in->dictionary->length, out->dictionary);
    }
    hx_free(all);
    if (st != HOIST_OK) out->release(out);
    return st;
}

/* Fixed-width values: bit-packed booleans (bits == 1) or whole bytes. */
static hx_status filter_fixed(const struct ArrowArray *in, int bits, const uint8_t *keep, int64_t out_len, size_t vsz,
                              struct ArrowArray *out) {
    size_t w = (size_t)bits / 8;
    size_t sz[2] = {vsz, bits == 1 ? hx_arrow_bitmap_bytes(out_len) : (size_t)out_len * w};
    HX_TRY(hx_arrow_array_make(out, out_len, 2, sz, 0));
    filter_validity(in, keep, out_len, out);
    if (bits > 1) {
        hx_arrow_keep_fixed(hx_arrow_buffer(out, 1), (const uint8_t *)in->buffers[1] + (size_t)in->offset * w, keep,
                            in->length, w, out_len);
        return HOIST_OK;
    }
    const uint8_t *src = in->buffers[1];
    uint8_t *dst = hx_arrow_buffer(out, 1);
    int64_t k = 0;
    for (int64_t i = 0; i < in->length; i++) {
        if (!keep[i]) continue;
        int64_t j = i + in->offset;
        if ((src[j >> 3] >> (j & 7)) & 1) dst[k >> 3] |= (uint8_t)(1u << (k & 7));
        k++;
    }
    return HOIST_OK;
}

/* Strings and binaries: offsets first (they size the data buffer), then
 * the kept values' bytes. */
static hx_status filter_binary(const struct ArrowArray *in, bool big, const uint8_t *keep, int64_t out_len, size_t vsz,
                               struct ArrowArray *out) {
    size_t sz[3] = {vsz, (size_t)(out_len + 1) * (big ? 8 : 4), HX_ARROW_NO_BUFFER};
    HX_TRY(hx_arrow_array_make(out, out_len, 3, sz, 0));
    filter_validity(in, keep, out_len, out);
    int64_t total = kept_offsets(in, keep, big, hx_arrow_buffer(out, 1));
    void *dd;
    hx_status st = hx_arrow_array_alloc_buffer(out, 2, (size_t)total, &dd);
    if (st != HOIST_OK) {
        out->release(out);
        return st;
    }
    const char *data = in->buffers[2];
    int64_t pos = 0;
    for (int64_t i = 0; i < in->length; i++) {
        if (!keep[i]) continue;
        int64_t j = i + in->offset;
        int64_t s = big ? ((const int64_t *)in->buffers[1])[j] : ((const int32_t *)in->buffers[1])[j];
        int64_t e = big ? ((const int64_t *)in->buffers[1])[j + 1] : ((const int32_t *)in->buffers[1])[j + 1];
        memcpy((char *)dd + pos, data + s, (size_t)(e - s));
        pos += e - s;
    }
    return HOIST_OK;
}

static hx_status filter_struct(const struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                               int64_t out_len, size_t vsz, struct ArrowArray *out) {
    size_t sz[1] = {vsz};
    HX_TRY(hx_arrow_array_make(out, out_len, 1, sz, (size_t)schema->n_children));
    filter_validity(in, keep, out_len, out);
    uint8_t *ck = NULL;
    hx_status st = HOIST_OK;
    for (int64_t c = 0; st == HOIST_OK && c < schema->n_children; c++) {
        const struct ArrowArray *child = in->children[c];
        const uint8_t *cm = keep;
        if (in->offset != 0 || child->length != in->length) {
            /* The struct's row i is the child's row offset + i. */
            if (!ck) ck = hx_calloc(child->length > 0 ? (size_t)child->length : 1, 1);
            if (!ck) {
                st = hx_error(HOIST_ERR_NOMEM, "out of memory filtering a struct array");
                break;
            }
            memset(ck, 0, (size_t)child->length);
            for (int64_t i = 0; i < in->length && i + in->offset < child->length; i++) ck[i + in->offset] = keep[i];
            cm = ck;
        }
        st = filter_rec(child, schema->children[c], cm, out_len, out->children[c]);
    }
    hx_free(ck);
    if (st != HOIST_OK) out->release(out);
    return st;
}

/* Lists, large lists, maps and fixed-size lists: the offsets of the kept
 * rows, and the child filtered by the ranges those rows cover. */
static hx_status filter_list(const struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                             int64_t out_len, size_t vsz, struct ArrowArray *out) {
    const char *f = schema->format;
    bool big = !strcmp(f, "+L"), fsl = !strncmp(f, "+w:", 3);
    int64_t fixed = fsl ? strtol(f + 3, NULL, 10) : 0;
    const struct ArrowArray *child = in->children[0];
    int64_t child_out = 0;
    uint8_t *cm = child_mask_lists(in, keep, child->length, big, fixed, &child_out);
    if (!cm) return hx_error(HOIST_ERR_ARROW_INVALID, "list offsets out of range (or out of memory)");
    size_t sz[2] = {vsz, (size_t)(out_len + 1) * (big ? 8 : 4)};
    hx_status st = hx_arrow_array_make(out, out_len, fsl ? 1 : 2, sz, 1);
    if (st != HOIST_OK) {
        hx_free(cm);
        return st;
    }
    filter_validity(in, keep, out_len, out);
    if (!fsl) (void)kept_offsets(in, keep, big, hx_arrow_buffer(out, 1));
    st = filter_rec(child, schema->children[0], cm, child_out, out->children[0]);
    hx_free(cm);
    if (st != HOIST_OK) out->release(out);
    return st;
}

static hx_status filter_rec(const struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                            int64_t out_len, struct ArrowArray *out) {
    const char *f = schema->format;
    bool has_validity = in->null_count != 0 && in->n_buffers > 0 && in->buffers[0];
    size_t vsz = has_validity ? hx_arrow_bitmap_bytes(out_len) : HX_ARROW_NO_BUFFER;
    if (schema->dictionary) return filter_dictionary(in, schema, keep, out_len, vsz, out);
    int bits = hx_arrow_format_bits(f);
    if (bits == 0 && f[0] == 'n') {
        HX_TRY(hx_arrow_array_make(out, out_len, 0, NULL, 0));
        out->null_count = out_len;
        return HOIST_OK;
    }
    if (bits > 0) return filter_fixed(in, bits, keep, out_len, vsz, out);
    bool big;
    if (hx_arrow_format_is_binary(f, &big)) return filter_binary(in, big, keep, out_len, vsz, out);
    if (!strcmp(f, "+s")) return filter_struct(in, schema, keep, out_len, vsz, out);
    bool list = !strcmp(f, "+l") || !strcmp(f, "+L") || !strcmp(f, "+m") || !strncmp(f, "+w:", 3);
    if (list && schema->n_children == 1 && in->n_children == 1) return filter_list(in, schema, keep, out_len, vsz, out);
    return hx_error(HOIST_ERR_ARROW_TYPE, "filtering rows of type '%s' is not supported", f);
}

hx_status hx_arrow_array_filter(struct ArrowArray *in, const struct ArrowSchema *schema, const uint8_t *keep,
                                int64_t out_len, struct ArrowArray *out) {
    HX_TRY(filter_rec(in, schema, keep, out_len, out));
    in->release(in);
    return HOIST_OK;
}
