/* Levels → Arrow: validity bitmaps, list offsets and leaf values spread to
 * their slots (Dremel record shredding reversed; parquet-format README
 * "Nested Encoding", Arrow C++ cpp/src/parquet/level_conversion.cc ideas). */
#include "parquet_internal.h"

#include <string.h>

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

struct nb {
    const struct hx_pq_anode *a;
    int parent;
    struct hx_arrow_buf valid; /* bitmap, NULL buffer = all valid */
    struct hx_arrow_buf offs;  /* lists/maps */
    int64_t n;                 /* slots */
    int recorded;
};

struct asm_ctx {
    const struct hoist_pq_file *f;
    const struct hx_pq_anode *field;
    struct hx_pq_leaf_data *leaves; /* indexed by leaf - field->first_leaf */
    struct nb *nbs;
    int nnb, capnb;
    unsigned flags;
};

static hx_status collect(struct asm_ctx *cx, const struct hx_pq_anode *a, int parent, int depth) {
    HX_FAIL_IF(depth > 128, HOIST_ERR_PARQUET_CORRUPT, "schema nested too deep");
    if (cx->nnb == cx->capnb) {
        int cap = cx->capnb ? cx->capnb * 2 : 16;
        struct nb *p = hx_realloc(cx->nbs, (size_t)cap * sizeof *p);
        if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
        cx->nbs = p;
        cx->capnb = cap;
    }
    int me = cx->nnb++;
    memset(&cx->nbs[me], 0, sizeof cx->nbs[me]);
    cx->nbs[me].a = a;
    cx->nbs[me].parent = parent;
    if (a->kind != AN_LEAF)
        for (int i = 0; i < a->nchildren; i++) HX_TRY(collect(cx, &a->children[i], me, depth + 1));
    return HOIST_OK;
}

static void set_bit(uint8_t *b, int64_t i, int v) {
    if (v)
        b[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        b[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}
static int get_bit(const uint8_t *b, int64_t i) { return (b[i >> 3] >> (i & 7)) & 1; }

/* Appends one end offset to a list or map node, in its offset width (once
 * per list record, hence inline). */
static inline HX_ALWAYS_INLINE hx_status append_offset(struct nb *nb, int64_t o) {
    HX_TRY(hx_arrow_buf_reserve(&nb->offs, 8));
    if (nb->a->large)
        memcpy(nb->offs.data + nb->offs.len, &o, 8);
    else {
        HX_FAIL_IF(o > INT32_MAX, HOIST_ERR_LIMIT, "list with more than 2^31 elements");
        int32_t o32 = (int32_t)o;
        memcpy(nb->offs.data + nb->offs.len, &o32, 4);
    }
    nb->offs.len += nb->a->large ? 8 : 4;
    return HOIST_OK;
}

/* Validity for n rows from def levels: bit = def >= threshold, eight at a time. */
HX_VECTORIZE static hx_status bitmap_from_def(const uint16_t *def, int64_t n, int threshold, struct hx_arrow_buf *out) {
    size_t bytes = (size_t)(n + 7) / 8;
    HX_TRY(hx_arrow_buf_reserve(out, bytes));
    uint8_t *b = out->data;
    uint16_t t = (uint16_t)threshold;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16_t *d = def + i;
        b[i >> 3] = (uint8_t)((d[0] >= t) | (d[1] >= t) << 1 | (d[2] >= t) << 2 | (d[3] >= t) << 3 | (d[4] >= t) << 4 |
                              (d[5] >= t) << 5 | (d[6] >= t) << 6 | (d[7] >= t) << 7);
    }
    if (i < n) b[i >> 3] = 0;
    for (; i < n; i++) set_bit(b, i, def[i] >= t);
    out->len = bytes;
    return HOIST_OK;
}

/* The general walk over one leaf's levels. */
static hx_status walk_leaf(struct asm_ctx *cx, int leaf_nb) {
    int path[130], depth = 0;
    for (int k = leaf_nb; k >= 0; k = cx->nbs[k].parent) path[depth++] = k;
    for (int i = 0; i < depth / 2; i++) {
        int t = path[i];
        path[i] = path[depth - 1 - i];
        path[depth - 1 - i] = t;
    }
    const struct hx_pq_anode *leaf = cx->nbs[leaf_nb].a;
    struct hx_pq_leaf_data *ld = &cx->leaves[leaf->leaf - cx->field->first_leaf];
    int rec[130];
    int64_t cnt[130] = {0};
    for (int k = 0; k < depth; k++) {
        struct nb *nb = &cx->nbs[path[k]];
        rec[k] = !nb->recorded;
        if (rec[k] && nb->a->kind != AN_LEAF && nb->a->first_leaf != leaf->leaf) rec[k] = 0;
        if (rec[k] && (nb->a->kind == AN_LIST || nb->a->kind == AN_MAP)) {
            HX_TRY(hx_arrow_buf_reserve(&nb->offs, 8));
            nb->offs.len = 0;
        }
    }
    const uint16_t *def = ld->def, *rep = ld->rep;
    for (int64_t i = 0; i < ld->n_levels; i++) {
        int r = rep ? rep[i] : 0, d = def ? def[i] : 0;
        for (int k = 0; k < depth; k++) {
            struct nb *nb = &cx->nbs[path[k]];
            const struct hx_pq_anode *a = nb->a;
            if (r > a->slot_rep) continue;
            if (d < a->slot_def) break;
            if (rec[k]) {
                if ((cnt[k] & 63) == 0) {
                    HX_TRY(hx_arrow_buf_reserve(&nb->valid, 8));
                    memset(nb->valid.data + nb->valid.len, 0, 8);
                    nb->valid.len += 8;
                }
                set_bit(nb->valid.data, cnt[k], d >= a->def);
                if (a->kind == AN_LIST || a->kind == AN_MAP) HX_TRY(append_offset(nb, cnt[k + 1]));
            }
            cnt[k]++;
        }
    }
    for (int k = 0; k < depth; k++) {
        struct nb *nb = &cx->nbs[path[k]];
        const struct hx_pq_anode *a = nb->a;
        if (rec[k]) {
            if (a->kind == AN_LIST || a->kind == AN_MAP) HX_TRY(append_offset(nb, cnt[k + 1]));
            nb->n = cnt[k];
            nb->recorded = 1;
            nb->valid.len = (size_t)(cnt[k] + 7) / 8;
        } else if (cnt[k] != nb->n) {
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "column '%s' has %lld entries where its sibling has %lld", leaf->name,
                    (long long)cnt[k], (long long)nb->n);
        }
    }
    return HOIST_OK;
}

/* Spreads dense leaf values to their slots, backwards in place. */
static hx_status spread(const struct hx_pq_anode *a, int dict, struct hx_pq_leaf_data *ld, const uint8_t *valid,
                        int64_t n) {
    int64_t j = ld->n_values;
    if (a->conv == CV_NULL) return HOIST_OK;
    if (a->conv == CV_BINARY && !dict) {
        size_t ow = a->large ? 8 : 4;
        HX_TRY(hx_arrow_buf_reserve(&ld->offsets, (size_t)(n + 1) * ow - ld->offsets.len));
        uint8_t *o = ld->offsets.data;
        if (ow == 8) {
            int64_t *O = (int64_t *)(void *)o;
            O[n] = O[j];
            for (int64_t i = n - 1; i >= 0; i--) {
                if (get_bit(valid, i)) j--;
                O[i] = O[j];
            }
        } else {
            int32_t *O = (int32_t *)(void *)o;
            O[n] = O[j];
            for (int64_t i = n - 1; i >= 0; i--) {
                if (get_bit(valid, i)) j--;
                O[i] = O[j];
            }
        }
        ld->offsets.len = (size_t)(n + 1) * ow;
        return HOIST_OK;
    }
    if (a->conv == CV_BOOL) {
        HX_TRY(hx_arrow_buf_reserve(&ld->values, (size_t)(n + 7) / 8 + 8));
        uint8_t *b = ld->values.data;
        for (int64_t i = n - 1; i >= 0; i--) {
            int v = 0;
            if (get_bit(valid, i)) v = get_bit(b, --j);
            set_bit(b, i, v);
        }
        ld->values.len = (size_t)(n + 7) / 8;
        return HOIST_OK;
    }
    size_t w = dict ? 4 : (size_t)a->out_width;
    HX_TRY(hx_arrow_buf_reserve(&ld->values, (size_t)n * w - ld->values.len));
    uint8_t *v = ld->values.data;
#define SPREAD_T(T)                                                                                                    \
    do {                                                                                                               \
        T *tv = (T *)(void *)v;                                                                                        \
        for (int64_t i = n - 1; i >= 0; i--) tv[i] = get_bit(valid, i) ? tv[--j] : (T)0;                               \
    } while (0)
    if (w == 1)
        SPREAD_T(uint8_t);
    else if (w == 2)
        SPREAD_T(uint16_t);
    else if (w == 4)
        SPREAD_T(uint32_t);
    else if (w == 8)
        SPREAD_T(uint64_t);
    else
        for (int64_t i = n - 1; i >= 0; i--) {
            if (get_bit(valid, i)) {
                j--;
                if (j != i) memmove(v + (size_t)i * w, v + (size_t)j * w, w);
            } else {
                memset(v + (size_t)i * w, 0, w);
            }
        }
    ld->values.len = (size_t)n * w;
    return HOIST_OK;
}

static hx_status finish_validity(struct ArrowArray *arr, struct hx_arrow_buf *valid, int64_t n) {
    if (!valid->data) {
        arr->null_count = 0;
        return HOIST_OK;
    }
    arr->null_count = hx_arrow_bitmap_count_nulls(valid->data, n);
    if (arr->null_count == 0)
        hx_arrow_buf_reset(valid);
    else
        hx_arrow_array_set_buffer(arr, 0, hx_arrow_buf_detach(valid));
    return HOIST_OK;
}

/* ---- layouts restored from ARROW:schema -------------------------------------
 * Parquet stores these as plain lists and byte arrays; the reader assembles
 * them that way and rebuilds the restored layout here (Columnar.md). */

/* utf8/binary with int32 offsets -> views: up to 12 bytes inline, longer
 * ones a 4-byte prefix, buffer 0 and their offset into the one data buffer
 * (kept), whose size goes in the trailing variadic-sizes buffer. */
static hx_status offsets_to_views(struct ArrowArray *out) {
    int64_t n = out->length;
    const int32_t *off = out->buffers[1];
    const uint8_t *data = out->buffers[2];
    uint8_t *views = hx_aligned_alloc((size_t)n * 16 + 16);
    int64_t *sizes = hx_aligned_alloc(8);
    if (!views || !sizes) {
        hx_aligned_free(views);
        hx_aligned_free(sizes);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory building a view array of %lld rows", (long long)n);
    }
    memset(views, 0, (size_t)n * 16 + 16);
    for (int64_t i = 0; i < n; i++) {
        int32_t at = off[i], len = off[i + 1] - off[i], buf = 0;
        uint8_t *v = views + 16 * i;
        memcpy(v, &len, 4);
        if (len <= 12) {
            if (len > 0) memcpy(v + 4, data + at, (size_t)len);
        } else {
            memcpy(v + 4, data + at, 4);
            memcpy(v + 8, &buf, 4);
            memcpy(v + 12, &at, 4);
        }
    }
    sizes[0] = off[n];
    hx_arrow_array_set_buffer(out, 1, views);
    hx_arrow_array_set_buffer(out, 3, sizes);
    out->n_buffers = 4;
    return HOIST_OK;
}

/* list offsets (n + 1) -> list view offsets (the same buffer) and sizes. */
static hx_status offsets_to_list_view(struct ArrowArray *out, int large) {
    int64_t n = out->length;
    const uint8_t *off = out->buffers[1];
    size_t w = large ? 8 : 4;
    uint8_t *sizes = hx_aligned_alloc((size_t)n * w + 8);
    HX_FAIL_IF(!sizes, HOIST_ERR_NOMEM, "out of memory building a list view of %lld rows", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (large) {
            int64_t a, b;
            memcpy(&a, off + 8 * i, 8);
            memcpy(&b, off + 8 * i + 8, 8);
            b -= a;
            memcpy(sizes + 8 * i, &b, 8);
        } else {
            int32_t a, b;
            memcpy(&a, off + 4 * i, 4);
            memcpy(&b, off + 4 * i + 4, 4);
            b -= a;
            memcpy(sizes + 4 * i, &b, 4);
        }
    }
    hx_arrow_array_set_buffer(out, 2, sizes);
    out->n_buffers = 3;
    return HOIST_OK;
}

/* Offset i of a 32- or 64-bit offsets buffer, and the store of one. */
static int64_t off_get(const void *o, int large, int64_t i) {
    return large ? ((const int64_t *)o)[i] : ((const int32_t *)o)[i];
}
static void off_put(void *o, int large, int64_t i, int64_t v) {
    if (large)
        ((int64_t *)o)[i] = v;
    else
        ((int32_t *)o)[i] = (int32_t)v;
}

static hx_status take_array(const struct hx_pq_anode *a, unsigned flags, struct ArrowArray *arr, const int64_t *src,
                            int64_t m);

/* Validity of slot k: src[k] >= 0 and that slot valid in old. */
static hx_status take_validity(struct ArrowArray *nw, const struct ArrowArray *old, const int64_t *src, int64_t m) {
    uint8_t *valid;
    HX_TRY(hx_arrow_array_alloc_buffer(nw, 0, (size_t)(m + 7) / 8, (void **)&valid));
    const uint8_t *ov = old->n_buffers > 0 ? old->buffers[0] : NULL;
    for (int64_t k = 0; k < m; k++) set_bit(valid, k, src[k] >= 0 && (!ov || get_bit(ov, src[k])));
    nw->null_count = hx_arrow_bitmap_count_nulls(valid, m);
    return HOIST_OK;
}

/* Values of a leaf (fixed width, bits, dictionary indices, byte arrays with
 * 32/64-bit offsets, views) for slots src[0..m). */
static hx_status take_leaf_values(const struct hx_pq_anode *c, int dict, const struct ArrowArray *ch,
                                  struct ArrowArray *nw, const int64_t *src, int64_t m) {
    const uint8_t *vals = ch->buffers[1];
    uint8_t *dst;
    if (c->conv == CV_BINARY && !dict && c->view) {
        const int64_t *sizes = ch->buffers[3];
        uint8_t *data;
        int64_t *nsizes;
        HX_TRY(hx_arrow_array_alloc_buffer(nw, 1, (size_t)m * 16, (void **)&dst));
        HX_TRY(hx_arrow_array_alloc_buffer(nw, 2, (size_t)sizes[0], (void **)&data));
        HX_TRY(hx_arrow_array_alloc_buffer(nw, 3, 8, (void **)&nsizes));
        if (sizes[0]) memcpy(data, ch->buffers[2], (size_t)sizes[0]);
        *nsizes = sizes[0];
        nw->n_buffers = 4;
        for (int64_t k = 0; k < m; k++)
            if (src[k] >= 0) memcpy(dst + 16 * k, vals + 16 * src[k], 16);
        return HOIST_OK;
    }
    if (c->conv == CV_BINARY && !dict) {
        int large = c->large;
        size_t data_len = 0;
        for (int64_t k = 0; k < m; k++)
            if (src[k] >= 0) data_len += (size_t)(off_get(vals, large, src[k] + 1) - off_get(vals, large, src[k]));
        uint8_t *data;
        HX_TRY(hx_arrow_array_alloc_buffer(nw, 1, (size_t)(m + 1) * (large ? 8 : 4), (void **)&dst));
        HX_TRY(hx_arrow_array_alloc_buffer(nw, 2, data_len, (void **)&data));
        const uint8_t *bytes = ch->buffers[2];
        int64_t at = 0;
        for (int64_t k = 0; k < m; k++) {
            off_put(dst, large, k, at);
            if (src[k] < 0) continue;
            int64_t o = off_get(vals, large, src[k]), len = off_get(vals, large, src[k] + 1) - o;
            memcpy(data + at, bytes + o, (size_t)len);
            at += len;
        }
        off_put(dst, large, m, at);
        return HOIST_OK;
    }
    int bits = c->conv == CV_BOOL && !dict;
    size_t w = dict ? 4 : (size_t)c->out_width;
    HX_TRY(hx_arrow_array_alloc_buffer(nw, 1, bits ? (size_t)(m + 7) / 8 : (size_t)m * w, (void **)&dst));
    for (int64_t k = 0; k < m; k++) {
        if (src[k] < 0) continue;
        if (bits)
            set_bit(dst, k, get_bit(vals, src[k]));
        else
            memcpy(dst + (size_t)k * w, vals + (size_t)src[k] * w, w);
    }
    return HOIST_OK;
}

/* Child slots of list entries src[0..m) (-1: a null entry, no slots). */
static hx_status list_child_src(const struct ArrowArray *arr, int large, const int64_t *src, int64_t m, int64_t **out,
                                int64_t *out_len, void *new_offsets) {
    int64_t total = 0;
    for (int64_t k = 0; k < m; k++)
        if (src[k] >= 0) total += off_get(arr->buffers[1], large, src[k] + 1) - off_get(arr->buffers[1], large, src[k]);
    int64_t *cs = hx_malloc((size_t)(total + 1) * sizeof *cs);
    HX_FAIL_IF(!cs, HOIST_ERR_NOMEM, "out of memory padding a fixed_size_list");
    int64_t at = 0;
    for (int64_t k = 0; k < m; k++) {
        off_put(new_offsets, large, k, at);
        if (src[k] < 0) continue;
        for (int64_t j = off_get(arr->buffers[1], large, src[k]); j < off_get(arr->buffers[1], large, src[k] + 1); j++)
            cs[at++] = j;
    }
    off_put(new_offsets, large, m, at);
    *out = cs;
    *out_len = total;
    return HOIST_OK;
}

/* Rebuilds arr (as assembled and restored for anode a) with slot k taken
 * from slot src[k], or null for -1: the null child slots a fixed_size_list
 * entry owns, at any depth. */
static hx_status take_array(const struct hx_pq_anode *a, unsigned flags, struct ArrowArray *arr, const int64_t *src,
                            int64_t m) {
    if (a->kind == AN_LEAF && a->conv == CV_NULL) {
        arr->length = m;
        arr->null_count = m;
        return HOIST_OK;
    }
    int dict = a->kind == AN_LEAF && hx_pq_leaf_dict(a, flags);
    struct ArrowArray nw;
    int64_t nbuf = arr->n_buffers, nch = a->kind == AN_LEAF ? 0 : a->nchildren;
    HX_TRY(hx_arrow_array_init(&nw, m, nbuf, nch));
    hx_status st = take_validity(&nw, arr, src, m);
    for (int64_t i = 0; i < nch; i++) { /* children move over, then are taken from */
        *nw.children[i] = *arr->children[i];
        arr->children[i]->release = NULL;
    }
    int64_t *cs = NULL, cn = 0;
    if (st == HOIST_OK && a->kind == AN_LEAF) {
        st = take_leaf_values(a, dict, arr, &nw, src, m);
        nw.dictionary = arr->dictionary; /* moved: a dictionary leaf keeps its values */
        arr->dictionary = NULL;
    } else if (st == HOIST_OK && a->kind == AN_STRUCT) {
        for (int i = 0; st == HOIST_OK && i < a->nchildren; i++)
            st = take_array(&a->children[i], flags, nw.children[i], src, m);
    } else if (st == HOIST_OK && a->fixed_size_list > 0) {
        int64_t size = a->fixed_size_list;
        cn = m * size;
        cs = hx_malloc((size_t)(cn + 1) * sizeof *cs);
        if (!cs) st = hx_error(HOIST_ERR_NOMEM, "out of memory padding a fixed_size_list");
        for (int64_t k = 0; cs && k < m; k++)
            for (int64_t j = 0; j < size; j++) cs[k * size + j] = src[k] >= 0 ? src[k] * size + j : -1;
        if (st == HOIST_OK) st = take_array(&a->children[0], flags, nw.children[0], cs, cn);
    } else if (st == HOIST_OK && a->list_view) { /* entries keep their ranges; the child stays */
        size_t ow = a->large ? 8 : 4;
        uint8_t *o, *z;
        st = hx_arrow_array_alloc_buffer(&nw, 1, (size_t)m * ow, (void **)&o);
        if (st == HOIST_OK) st = hx_arrow_array_alloc_buffer(&nw, 2, (size_t)m * ow, (void **)&z);
        for (int64_t k = 0; st == HOIST_OK && k < m; k++) {
            if (src[k] < 0) continue;
            memcpy(o + (size_t)k * ow, (const uint8_t *)arr->buffers[1] + (size_t)src[k] * ow, ow);
            memcpy(z + (size_t)k * ow, (const uint8_t *)arr->buffers[2] + (size_t)src[k] * ow, ow);
        }
    } else if (st == HOIST_OK) { /* list, large list, map */
        uint8_t *o;
        st = hx_arrow_array_alloc_buffer(&nw, 1, (size_t)(m + 1) * (a->large ? 8 : 4), (void **)&o);
        if (st == HOIST_OK) st = list_child_src(arr, a->large, src, m, &cs, &cn, o);
        if (st == HOIST_OK) st = take_array(&a->children[0], flags, nw.children[0], cs, cn);
    }
    hx_free(cs);
    arr->release(arr);
    if (st != HOIST_OK) {
        nw.release(&nw);
        memset(arr, 0, sizeof *arr);
        return st;
    }
    *arr = nw;
    return HOIST_OK;
}

/* list -> fixed_size_list: the offsets go; each entry must hold `size`
 * values, and a null entry (no values in Parquet) gets `size` null slots. */
static hx_status list_to_fixed(const struct hx_pq_anode *a, unsigned flags, struct ArrowArray *out) {
    int64_t n = out->length, size = a->fixed_size_list, pad = 0;
    const int32_t *off = out->buffers[1];
    const uint8_t *valid = out->buffers[0];
    for (int64_t i = 0; i < n; i++) {
        int64_t len = (int64_t)off[i + 1] - off[i];
        if (len == size) continue;
        HX_FAIL_IF(len != 0 || !valid || get_bit(valid, i), HOIST_ERR_PARQUET_CORRUPT,
                   "fixed_size_list<%lld> '%s': entry %lld has %lld values", (long long)size, a->name, (long long)i,
                   (long long)len);
        pad++;
    }
    if (pad) {
        int64_t m = n * size;
        int64_t *src = hx_malloc((size_t)m * sizeof *src);
        HX_FAIL_IF(!src, HOIST_ERR_NOMEM, "out of memory padding fixed_size_list '%s'", a->name);
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++) {
            int real = off[i + 1] != off[i];
            for (int64_t j = 0; j < size; j++) src[k++] = real ? off[i] + j : -1;
        }
        hx_status st = take_array(&a->children[0], flags, out->children[0], src, m);
        hx_free(src);
        HX_TRY(st);
    }
    hx_arrow_array_set_buffer(out, 1, NULL);
    out->n_buffers = 1;
    return HOIST_OK;
}

static hx_status build_array(struct asm_ctx *cx, int idx, struct ArrowArray *out, int *next) {
    struct nb *nb = &cx->nbs[idx];
    const struct hx_pq_anode *a = nb->a;
    int64_t n = nb->n;
    *next = idx + 1;
    if (a->kind == AN_LEAF) {
        struct hx_pq_leaf_data *ld = &cx->leaves[a->leaf - cx->field->first_leaf];
        if (a->conv == CV_NULL) {
            HX_TRY(hx_arrow_array_init(out, n, 0, 0));
            out->null_count = n;
            return HOIST_OK;
        }
        int dict = hx_pq_leaf_dict(a, cx->flags);
        int nbuf = (a->conv == CV_BINARY && !dict) ? 3 : 2;
        HX_TRY(hx_arrow_array_init(out, n, nbuf, 0));
        HX_TRY(finish_validity(out, &nb->valid, n));
        if (nbuf == 3) {
            hx_arrow_array_set_buffer(out, 1, hx_arrow_buf_detach(&ld->offsets));
            if (!ld->data.data) HX_TRY(hx_arrow_buf_reserve(&ld->data, 1));
            hx_arrow_array_set_buffer(out, 2, hx_arrow_buf_detach(&ld->data));
            if (a->view) HX_TRY(offsets_to_views(out));
        } else {
            if (!ld->values.data) HX_TRY(hx_arrow_buf_reserve(&ld->values, 1));
            hx_arrow_array_set_buffer(out, 1, hx_arrow_buf_detach(&ld->values));
        }
        if (dict) {
            HX_TRY(hx_arrow_array_alloc_dictionary(out));
            HX_TRY(hx_arrow_array_init(out->dictionary, ld->dict_n, 3, 0));
            if (!ld->dict_data.data) HX_TRY(hx_arrow_buf_reserve(&ld->dict_data, 1));
            hx_arrow_array_set_buffer(out->dictionary, 1, hx_arrow_buf_detach(&ld->dict_offsets));
            hx_arrow_array_set_buffer(out->dictionary, 2, hx_arrow_buf_detach(&ld->dict_data));
        }
        return HOIST_OK;
    }
    int is_list = a->kind == AN_LIST || a->kind == AN_MAP;
    HX_TRY(hx_arrow_array_init(out, n, is_list ? 2 : 1, a->nchildren));
    HX_TRY(finish_validity(out, &nb->valid, n));
    if (is_list) hx_arrow_array_set_buffer(out, 1, hx_arrow_buf_detach(&nb->offs));
    int c = idx + 1;
    for (int i = 0; i < a->nchildren; i++) {
        int nx;
        HX_TRY(build_array(cx, c, out->children[i], &nx));
        if (!is_list && out->children[i]->length != n)
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "struct '%s' has %lld rows but its field '%s' has %lld", a->name,
                    (long long)n, a->children[i].name, (long long)out->children[i]->length);
        c = nx;
    }
    *next = c;
    if (a->kind == AN_LIST && a->fixed_size_list > 0) return list_to_fixed(a, cx->flags, out);
    if (a->kind == AN_LIST && a->list_view) return offsets_to_list_view(out, a->large);
    return HOIST_OK;
}

hx_status hx_pq_assemble(const struct hoist_pq_file *f, const struct hx_pq_anode *field, struct hx_pq_leaf_data *leaves,
                         int64_t rows, unsigned flags, struct ArrowArray *out) {
    struct asm_ctx cx = {f, field, leaves, NULL, 0, 0, flags};
    hx_status st = collect(&cx, field, -1, 0);
    int nested = 0;
    for (int i = 0; i < field->n_leaves; i++) nested |= f->leaves[field->first_leaf + i].max_rep > 0;
    for (int i = 0; st == HOIST_OK && i < cx.nnb; i++) {
        struct nb *nb = &cx.nbs[i];
        if (nb->a->kind != AN_LEAF) continue;
        struct hx_pq_leaf_data *ld = &leaves[nb->a->leaf - field->first_leaf];
        if (!nested) {
            /* Flat or struct-only: one slot per row at every node. */
            if (ld->n_levels != rows) {
                st = CORRUPT("column '%s' has %lld values for %lld rows", nb->a->name, (long long)ld->n_levels,
                             (long long)rows);
                break;
            }
            for (int k = i; k >= 0; k = cx.nbs[k].parent) {
                struct nb *p = &cx.nbs[k];
                if (p->recorded) continue;
                p->n = rows;
                p->recorded = 1;
                /* A leaf with a value in every row needs no bitmap. */
                int all_valid = p->a->kind == AN_LEAF && ld->n_values == rows;
                if (all_valid) continue;
                if (p->a->kind == AN_LEAF && ld->has_valid) {
                    p->valid = ld->valid;
                    ld->valid = (struct hx_arrow_buf){0};
                } else if (p->a->def > 0 && ld->def) {
                    st = bitmap_from_def(ld->def, rows, p->a->def, &p->valid);
                }
                if (st != HOIST_OK) break;
            }
            /* the leaf's own validity is recorded by the first pass above when it is the rep leaf */
        } else {
            st = walk_leaf(&cx, i);
        }
        if (st != HOIST_OK) break;
        /* Leaf values to slots. */
        int64_t n = nb->n, valid_count = n;
        if (nb->valid.data) valid_count = n - hx_arrow_bitmap_count_nulls(nb->valid.data, n);
        if (nb->a->conv != CV_NULL && valid_count != ld->n_values) {
            st = CORRUPT("column '%s': %lld values for %lld defined slots", nb->a->name, (long long)ld->n_values,
                         (long long)valid_count);
            break;
        }
        if (nb->valid.data && valid_count != n)
            st = spread(nb->a, hx_pq_leaf_dict(nb->a, flags), ld, nb->valid.data, n);
    }
    if (st == HOIST_OK && cx.nbs[0].n != rows)
        st = CORRUPT("field '%s' has %lld rows, the row group %lld", field->name, (long long)cx.nbs[0].n,
                     (long long)rows);
    if (st == HOIST_OK) {
        int nx;
        st = build_array(&cx, 0, out, &nx);
        if (st != HOIST_OK && out->release) out->release(out);
    }
    for (int i = 0; i < cx.nnb; i++) {
        hx_arrow_buf_reset(&cx.nbs[i].valid);
        hx_arrow_buf_reset(&cx.nbs[i].offs);
    }
    hx_free(cx.nbs);
    return st;
}

hx_status hx_pq_assemble_leaves(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *field,
                                struct hx_pq_leaf_data *leaves, int64_t rows, unsigned flags, struct ArrowArray *out,
                                hx_status st) {
    if (st == HOIST_OK) {
        st = hx_pq_assemble(f, field, leaves, rows, flags, out);
        if (st != HOIST_OK) st = hx_error_prefix(st, "%s: row group %d, field '%s'", f->name, rg, field->name);
    }
    for (int k = 0; k < field->n_leaves; k++) hx_pq_leaf_data_reset(&leaves[k]);
    hx_free(leaves);
    return st;
}
