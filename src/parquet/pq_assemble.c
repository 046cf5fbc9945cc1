/* Levels → Arrow: validity bitmaps, list offsets and leaf values spread to
 * their slots (Dremel record shredding reversed; parquet-format README
 * "Nested Encoding", Arrow C++ cpp/src/parquet/level_conversion.cc ideas). */
#include "parquet_internal.h"

#include <string.h>

#define CORRUPT(...) hx_error(HOIST_ERR_PARQUET_CORRUPT, __VA_ARGS__)

struct nb {
    const struct hx_pq_anode *a;
    int parent;
    struct hx_abuf valid; /* bitmap, NULL buffer = all valid */
    struct hx_abuf offs;  /* lists/maps */
    int64_t n;            /* slots */
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
    HX_TRY(hx_abuf_reserve(&nb->offs, 8));
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
HX_VECTORIZE static hx_status bitmap_from_def(const uint16_t *def, int64_t n, int threshold, struct hx_abuf *out) {
    size_t bytes = (size_t)(n + 7) / 8;
    HX_TRY(hx_abuf_reserve(out, bytes));
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
            HX_TRY(hx_abuf_reserve(&nb->offs, 8));
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
                    HX_TRY(hx_abuf_reserve(&nb->valid, 8));
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
        HX_TRY(hx_abuf_reserve(&ld->offsets, (size_t)(n + 1) * ow - ld->offsets.len));
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
        HX_TRY(hx_abuf_reserve(&ld->values, (size_t)(n + 7) / 8 + 8));
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
    HX_TRY(hx_abuf_reserve(&ld->values, (size_t)n * w - ld->values.len));
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

static hx_status finish_validity(struct ArrowArray *arr, struct hx_abuf *valid, int64_t n) {
    if (!valid->data) {
        arr->null_count = 0;
        return HOIST_OK;
    }
    arr->null_count = hx_bitmap_count_nulls(valid->data, n);
    if (arr->null_count == 0)
        hx_abuf_reset(valid);
    else
        hx_array_set_buffer(arr, 0, hx_abuf_detach(valid));
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
            HX_TRY(hx_array_init(out, n, 0, 0));
            out->null_count = n;
            return HOIST_OK;
        }
        int dict = hx_pq_leaf_dict(a, cx->flags);
        int nbuf = (a->conv == CV_BINARY && !dict) ? 3 : 2;
        HX_TRY(hx_array_init(out, n, nbuf, 0));
        HX_TRY(finish_validity(out, &nb->valid, n));
        if (nbuf == 3) {
            hx_array_set_buffer(out, 1, hx_abuf_detach(&ld->offsets));
            if (!ld->data.data) HX_TRY(hx_abuf_reserve(&ld->data, 1));
            hx_array_set_buffer(out, 2, hx_abuf_detach(&ld->data));
        } else {
            if (!ld->values.data) HX_TRY(hx_abuf_reserve(&ld->values, 1));
            hx_array_set_buffer(out, 1, hx_abuf_detach(&ld->values));
        }
        if (dict) {
            HX_TRY(hx_array_alloc_dictionary(out));
            HX_TRY(hx_array_init(out->dictionary, ld->dict_n, 3, 0));
            if (!ld->dict_data.data) HX_TRY(hx_abuf_reserve(&ld->dict_data, 1));
            hx_array_set_buffer(out->dictionary, 1, hx_abuf_detach(&ld->dict_offsets));
            hx_array_set_buffer(out->dictionary, 2, hx_abuf_detach(&ld->dict_data));
        }
        return HOIST_OK;
    }
    int is_list = a->kind == AN_LIST || a->kind == AN_MAP;
    HX_TRY(hx_array_init(out, n, is_list ? 2 : 1, a->nchildren));
    HX_TRY(finish_validity(out, &nb->valid, n));
    if (is_list) hx_array_set_buffer(out, 1, hx_abuf_detach(&nb->offs));
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
                    ld->valid = (struct hx_abuf){0};
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
        if (nb->valid.data) valid_count = n - hx_bitmap_count_nulls(nb->valid.data, n);
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
        hx_abuf_reset(&cx.nbs[i].valid);
        hx_abuf_reset(&cx.nbs[i].offs);
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
