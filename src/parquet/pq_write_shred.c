/*
 * pq_write_shred.c — Arrow arrays into one leaf's definition/repetition
 * levels and dense physical values (parquet-format README "Nested
 * Encoding"; Dremel). Each leaf is shredded on its own from the root down
 * its path, so leaves run as independent tasks. Every slot of the leaf — a
 * value, a null, a null or empty list — gives one (rep, def) pair; only
 * pairs at the leaf's max definition level carry a value. Values are
 * converted to the Parquet physical form here (widened ints, big-endian
 * decimals, date64 in days), so the chunk encoder sees one layout per
 * physical type.
 */
#include "pq_write_internal.h"

#include <string.h>

void hx_pqw_leafbuf_reset(struct hx_pqw_leafbuf *b) {
    if (b->dict) {
        hx_pqw_leafbuf_reset(b->dict);
        hx_free(b->dict);
    }
    hx_arrow_buf_reset(&b->idx);
    hx_arrow_buf_reset(&b->def);
    hx_arrow_buf_reset(&b->rep);
    hx_arrow_buf_reset(&b->vals);
    hx_arrow_buf_reset(&b->offs);
    memset(b, 0, sizeof *b);
}

void hx_pqw_leafbuf_clear(struct hx_pqw_leafbuf *b) {
    b->def.len = b->rep.len = b->vals.len = b->offs.len = 0;
    b->n_levels = b->n_values = b->n_rows = 0;
    b->dict_mode = b->dict_off = 0;
    b->def_all_max = 0;
    b->idx.len = 0;
    if (b->dict) hx_pqw_leafbuf_clear(b->dict);
}

void hx_pqw_leafbuf_drop_front(struct hx_pqw_leafbuf *b, int64_t levels, int64_t values, int64_t rows) {
    if (levels == 0 && values == 0) return;
    size_t dl = (size_t)levels * 2;
    if (b->def.len) {
        memmove(b->def.data, b->def.data + dl, b->def.len - dl);
        b->def.len -= dl;
    }
    if (b->rep.len) {
        memmove(b->rep.data, b->rep.data + dl, b->rep.len - dl);
        b->rep.len -= dl;
    }
    size_t keep = (size_t)(b->n_values - values);
    /* (a buffer never written to has no memory: NULL must not reach memmove) */
    if (b->dict_mode) {
        if (b->idx.data) memmove(b->idx.data, b->idx.data + (size_t)values * 4, keep * 4);
        b->idx.len = keep * 4;
    } else if (b->offs.len) {
        /* byte arrays: the bytes of the values kept, offsets rebased */
        int64_t *off = (int64_t *)(void *)b->offs.data;
        int64_t start = off[values];
        if (b->vals.data) memmove(b->vals.data, b->vals.data + start, b->vals.len - (size_t)start);
        b->vals.len -= (size_t)start;
        for (size_t i = 0; i <= keep; i++) off[i] = off[(size_t)values + i] - start;
        b->offs.len = (keep + 1) * 8;
    } else if (b->n_values > 0) {
        size_t w = b->vals.len / (size_t)b->n_values;
        if (b->vals.data) memmove(b->vals.data, b->vals.data + (size_t)values * w, keep * w);
        b->vals.len = keep * w;
    }
    b->n_levels -= levels;
    b->n_values -= values;
    b->n_rows -= rows;
}

uint64_t hx_pqw_leafbuf_bytes(const struct hx_pqw_leafbuf *b) {
    return (b->def_all_max ? (uint64_t)b->n_levels * 2 : b->def.len) + b->rep.len + b->vals.len + b->offs.len +
           b->idx.len + (b->dict ? hx_pqw_leafbuf_bytes(b->dict) : 0);
}

enum { MAX_PATH = 130 };

struct shred {
    const struct hx_pqw_leaf *leaf;
    const struct hx_pqw_node *path[MAX_PATH];
    int child[MAX_PATH]; /* index of path[k + 1] among path[k]'s children */
    int npath;
    struct hx_pqw_leafbuf *b;
    int has_def, has_rep;
};

static int bit(const void *bits, int64_t i) { return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1; }

static int is_null(const struct ArrowArray *a, int64_t j) {
    return a->null_count != 0 && a->buffers[0] && !bit(a->buffers[0], j);
}

static hx_status nullable_violation(const struct hx_pqw_node *n) {
    HX_FAIL(HOIST_ERR_INVALID_ARG, "field '%s' is declared non-nullable but contains nulls", n->name);
}

/* Stores the definition levels a def_all_max buffer left out. */
static hx_status store_levels(struct hx_pqw_leafbuf *b, int max_def) {
    if (!b->def_all_max) return HOIST_OK;
    size_t n = (size_t)b->n_levels;
    HX_TRY(hx_arrow_buf_reserve(&b->def, n * 2));
    uint16_t *dl = (uint16_t *)(void *)b->def.data;
    for (size_t i = 0; i < n; i++) dl[i] = (uint16_t)max_def;
    b->def.len = n * 2;
    b->def_all_max = 0;
    return HOIST_OK;
}

static hx_status push_level(struct shred *s, int rep, int def) {
    struct hx_pqw_leafbuf *b = s->b;
    if (s->has_def) {
        HX_TRY(hx_arrow_buf_reserve(&b->def, 2));
        uint16_t d = (uint16_t)def;
        memcpy(b->def.data + b->def.len, &d, 2);
        b->def.len += 2;
    }
    if (s->has_rep) {
        HX_TRY(hx_arrow_buf_reserve(&b->rep, 2));
        uint16_t r = (uint16_t)rep;
        memcpy(b->rep.data + b->rep.len, &r, 2);
        b->rep.len += 2;
    }
    b->n_levels++;
    return HOIST_OK;
}

static hx_status put_bytes(struct hx_pqw_leafbuf *b, const void *p, size_t n) {
    HX_TRY(hx_arrow_buf_reserve(&b->vals, n));
    memcpy(b->vals.data + b->vals.len, p, n);
    b->vals.len += n;
    return HOIST_OK;
}

static hx_status put_binary(struct hx_pqw_leafbuf *b, const uint8_t *p, size_t n) {
    HX_TRY(put_bytes(b, p, n));
    HX_TRY(hx_arrow_buf_reserve(&b->offs, 8));
    int64_t end = (int64_t)b->vals.len;
    memcpy(b->offs.data + b->offs.len, &end, 8);
    b->offs.len += 8;
    return HOIST_OK;
}

/* Value j (physical index, offset applied) of array a, converted. */
static hx_status put_value(struct hx_pqw_leafbuf *b, const struct hx_pqw_node *n, const struct ArrowArray *a,
                           int64_t j) {
    const uint8_t *v = a->buffers[1];
    b->n_values++;
    switch (n->conv) {
    case WC_NULL: return HOIST_OK;
    case WC_BOOL: {
        uint8_t x = (uint8_t)bit(v, j);
        return put_bytes(b, &x, 1);
    }
    case WC_COPY: return put_bytes(b, v + (size_t)j * (size_t)n->in_width, (size_t)n->in_width);
    case WC_I8: {
        int32_t x = ((const int8_t *)v)[j];
        return put_bytes(b, &x, 4);
    }
    case WC_U8: {
        int32_t x = ((const uint8_t *)v)[j];
        return put_bytes(b, &x, 4);
    }
    case WC_I16: {
        int16_t y;
        memcpy(&y, v + 2 * j, 2);
        int32_t x = y;
        return put_bytes(b, &x, 4);
    }
    case WC_U16: {
        uint16_t y;
        memcpy(&y, v + 2 * j, 2);
        int32_t x = y;
        return put_bytes(b, &x, 4);
    }
    case WC_MUL32: {
        int32_t y;
        memcpy(&y, v + 4 * j, 4);
        int32_t x = (int32_t)(uint32_t)((uint64_t)(int64_t)y * (uint64_t)n->conv_k);
        return put_bytes(b, &x, 4);
    }
    case WC_DIV64_32: {
        int64_t y;
        memcpy(&y, v + 8 * j, 8);
        int32_t x = (int32_t)(y / n->conv_k);
        return put_bytes(b, &x, 4);
    }
    case WC_MUL64: {
        int64_t y;
        memcpy(&y, v + 8 * j, 8);
        int64_t x = (int64_t)((uint64_t)y * (uint64_t)n->conv_k);
        return put_bytes(b, &x, 8);
    }
    case WC_DEC: {
        /* little-endian two's complement -> big-endian, keeping the low bytes */
        const uint8_t *p = v + (size_t)j * (size_t)n->in_width;
        uint8_t be[32];
        for (int k = 0; k < n->type_length; k++) be[k] = p[n->type_length - 1 - k];
        return put_bytes(b, be, (size_t)n->type_length);
    }
    case WC_BIN32: {
        int32_t o[2];
        memcpy(o, (const int32_t *)v + j, 8);
        HX_FAIL_IF(o[1] < o[0], HOIST_ERR_INVALID_ARG, "field '%s': offsets decrease", n->name);
        return put_binary(b, (const uint8_t *)a->buffers[2] + o[0], (size_t)(o[1] - o[0]));
    }
    case WC_BIN64: {
        int64_t o[2];
        memcpy(o, (const int64_t *)v + j, 16);
        HX_FAIL_IF(o[1] < o[0], HOIST_ERR_INVALID_ARG, "field '%s': offsets decrease", n->name);
        return put_binary(b, (const uint8_t *)a->buffers[2] + o[0], (size_t)(o[1] - o[0]));
    }
    case WC_VIEW: {
        const uint8_t *view = v + 16 * (size_t)j;
        int32_t len, bufi, off;
        memcpy(&len, view, 4);
        if (len <= 12) return put_binary(b, view + 4, (size_t)(len < 0 ? 0 : len));
        memcpy(&bufi, view + 8, 4);
        memcpy(&off, view + 12, 4);
        HX_FAIL_IF(bufi < 0 || off < 0 || 2 + (int64_t)bufi >= a->n_buffers - 1, HOIST_ERR_INVALID_ARG,
                   "field '%s': a view points at data buffer %d, which the array lacks", n->name, bufi);
        /* the last buffer holds the data buffers' sizes (C Data Interface) */
        const int64_t *sizes = a->buffers[a->n_buffers - 1];
        HX_FAIL_IF(sizes && (int64_t)off + len > sizes[bufi], HOIST_ERR_INVALID_ARG,
                   "field '%s': a view runs past the end of data buffer %d", n->name, bufi);
        return put_binary(b, (const uint8_t *)a->buffers[2 + bufi] + off, (size_t)len);
    }
    }
    return HOIST_OK;
}

static int64_t dict_index(const struct hx_pqw_node *n, const struct ArrowArray *a, int64_t j) {
    const uint8_t *ix = a->buffers[1];
    int64_t idx;
    switch (n->dict_index_bytes) {
    case 1: idx = n->dict_index_signed ? (int64_t)((const int8_t *)ix)[j] : (int64_t)ix[j]; break;
    case 2: {
        int16_t x;
        memcpy(&x, ix + 2 * j, 2);
        idx = n->dict_index_signed ? (int64_t)x : (int64_t)(uint16_t)x;
        break;
    }
    case 4: {
        int32_t x;
        memcpy(&x, ix + 4 * j, 4);
        idx = n->dict_index_signed ? (int64_t)x : (int64_t)(uint32_t)x;
        break;
    }
    default: memcpy(&idx, ix + 8 * j, 8); break;
    }
    return idx;
}

/* A valid index that points at a null dictionary entry is a null value. */
static int dict_entry_null(const struct hx_pqw_node *n, const struct ArrowArray *a, int64_t j) {
    if (!n->dict_index_bytes || !a->dictionary || a->dictionary->null_count == 0 || !a->dictionary->buffers[0])
        return 0;
    int64_t idx = dict_index(n, a, j);
    return idx >= 0 && idx < a->dictionary->length && !bit(a->dictionary->buffers[0], idx + a->dictionary->offset);
}

static hx_status put_leaf(struct shred *s, const struct hx_pqw_node *n, const struct ArrowArray *a, int64_t j) {
    if (!n->dict_index_bytes) return put_value(s->b, n, a, j);
    struct hx_pqw_leafbuf *b = s->b;
    int64_t idx = dict_index(n, a, j);
    const struct ArrowArray *d = a->dictionary;
    HX_FAIL_IF(!d || idx < 0 || idx >= d->length, HOIST_ERR_INVALID_ARG,
               "field '%s': dictionary index %lld is out of range", n->name, (long long)idx);
    if (b->dict_mode) {
        HX_TRY(hx_arrow_buf_reserve(&b->idx, 4));
        uint32_t x = (uint32_t)idx;
        memcpy(b->idx.data + b->idx.len, &x, 4);
        b->idx.len += 4;
        b->n_values++;
        return HOIST_OK;
    }
    return put_value(b, n, d, idx + d->offset);
}

/* ---- Arrow dictionaries ------------------------------------------------------ */

static void init_offsets(struct hx_pqw_leafbuf *b, const struct hx_pqw_node *n) {
    if (n->ptype == PQT_BYTE_ARRAY && b->offs.len == 0) {
        memset(b->offs.data, 0, 8);
        b->offs.len = 8;
    }
}

/* The dictionary's values in physical form. */
static hx_status convert_dictionary(const struct hx_pqw_node *n, const struct ArrowArray *d,
                                    struct hx_pqw_leafbuf *out) {
    HX_TRY(hx_arrow_buf_reserve(&out->offs, 8));
    init_offsets(out, n);
    for (int64_t j = 0; j < d->length; j++) HX_TRY(put_value(out, n, d, j + d->offset));
    return HOIST_OK;
}

static int same_values(const struct hx_pqw_leafbuf *x, const struct hx_pqw_leafbuf *y) {
    return x->n_values == y->n_values && x->vals.len == y->vals.len && x->offs.len == y->offs.len &&
           (x->vals.len == 0 || memcmp(x->vals.data, y->vals.data, x->vals.len) == 0) &&
           (x->offs.len == 0 || memcmp(x->offs.data, y->offs.data, x->offs.len) == 0);
}

hx_status hx_pqw_leafbuf_gather(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *b,
                                struct hx_pqw_leafbuf *out) {
    const struct hx_pqw_node *n = leaf->node;
    const struct hx_pqw_leafbuf *d = b->dict;
    const uint32_t *ix = (const uint32_t *)(const void *)b->idx.data;
    HX_TRY(hx_arrow_buf_reserve(&out->offs, 8));
    init_offsets(out, n);
    if (n->ptype == PQT_BYTE_ARRAY) {
        const int64_t *off = (const int64_t *)(const void *)d->offs.data;
        for (int64_t i = 0; i < b->n_values; i++)
            HX_TRY(put_binary(out, d->vals.data + off[ix[i]], (size_t)(off[ix[i] + 1] - off[ix[i]])));
    } else {
        size_t w = d->n_values ? d->vals.len / (size_t)d->n_values : 0;
        HX_TRY(hx_arrow_buf_reserve(&out->vals, (size_t)b->n_values * w));
        for (int64_t i = 0; i < b->n_values; i++)
            memcpy(out->vals.data + out->vals.len + (size_t)i * w, d->vals.data + (size_t)ix[i] * w, w);
        out->vals.len += (size_t)b->n_values * w;
    }
    out->n_values = b->n_values;
    return HOIST_OK;
}

/* Before shredding a batch of a dictionary leaf: keep indices while every
 * batch of the row group brings the same dictionary values. */
static hx_status dictionary_batch(const struct hx_pqw_leaf *leaf, const struct ArrowArray *a,
                                  struct hx_pqw_leafbuf *b) {
    const struct hx_pqw_node *n = leaf->node;
    if (b->dict_off || !a->dictionary || a->dictionary->null_count != 0) goto plain;
    if (!b->dict) {
        b->dict = hx_calloc(1, sizeof *b->dict);
        if (!b->dict) HX_FAIL(HOIST_ERR_NOMEM, "out of memory keeping a dictionary");
    }
    /* the same dictionary array as last time (slices of one batch): nothing to compare */
    const struct ArrowArray *d = a->dictionary;
    const void *seen[4] = {d->n_buffers > 1 ? d->buffers[1] : NULL, d->n_buffers > 2 ? d->buffers[2] : NULL,
                           (const void *)(intptr_t)d->offset, (const void *)(intptr_t)d->length};
    if (b->n_levels == 0 && !b->dict_mode) {
        hx_pqw_leafbuf_clear(b->dict);
        HX_TRY(convert_dictionary(n, a->dictionary, b->dict));
        b->dict_mode = 1;
        memcpy(b->dict_seen, seen, sizeof seen);
        return HOIST_OK;
    }
    if (!b->dict_mode) goto plain;
    if (!memcmp(b->dict_seen, seen, sizeof seen)) return HOIST_OK;
    struct hx_pqw_leafbuf tmp;
    memset(&tmp, 0, sizeof tmp);
    hx_status st = convert_dictionary(n, a->dictionary, &tmp);
    int same = st == HOIST_OK && same_values(&tmp, b->dict);
    hx_pqw_leafbuf_reset(&tmp);
    HX_TRY(st);
    if (same) {
        memcpy(b->dict_seen, seen, sizeof seen);
        return HOIST_OK;
    }
plain:
    if (b->dict_mode) {
        /* another dictionary: this row group's values become plain */
        struct hx_pqw_leafbuf vals;
        memset(&vals, 0, sizeof vals);
        hx_status gs = hx_pqw_leafbuf_gather(leaf, b, &vals);
        if (gs != HOIST_OK) {
            hx_pqw_leafbuf_reset(&vals);
            return gs;
        }
        hx_arrow_buf_reset(&b->vals);
        hx_arrow_buf_reset(&b->offs);
        b->vals = vals.vals;
        b->offs = vals.offs;
        b->idx.len = 0;
        b->dict_mode = 0;
    }
    b->dict_off = 1;
    return HOIST_OK;
}

/* The leaf's own array in a batch (the one that carries the dictionary). */
static const struct ArrowArray *leaf_array(const struct shred *s, const struct ArrowArray *batch) {
    const struct ArrowArray *a = batch;
    for (int k = 0; k + 1 < s->npath; k++) {
        const struct hx_pqw_node *n = s->path[k];
        a = n->kind == PQW_STRUCT ? a->children[s->child[k]] : a->children[0];
    }
    return a;
}

/* Shreds element i (logical, before a->offset) of path[k]'s array. */
static hx_status shred(struct shred *s, int k, const struct ArrowArray *a, int64_t i, int rep, int def) {
    const struct hx_pqw_node *n = s->path[k];
    int64_t j = i + a->offset;
    if (n->kind == PQW_LEAF && n->conv == WC_NULL) return push_level(s, rep, def);
    if (is_null(a, j) || (n->kind == PQW_LEAF && dict_entry_null(n, a, j))) {
        if (!n->nullable) return nullable_violation(n);
        return push_level(s, rep, def);
    }
    int d = n->def;
    switch (n->kind) {
    case PQW_LEAF: HX_TRY(push_level(s, rep, d)); return put_leaf(s, n, a, j);
    case PQW_STRUCT: return shred(s, k + 1, a->children[s->child[k]], j, rep, d);
    case PQW_LIST:
    case PQW_MAP: {
        int64_t start, end;
        if (n->fixed_size) {
            start = j * n->fixed_size;
            end = start + n->fixed_size;
        } else if (n->view) {
            if (n->large) {
                memcpy(&start, (const int64_t *)a->buffers[1] + j, 8);
                memcpy(&end, (const int64_t *)a->buffers[2] + j, 8);
            } else {
                int32_t o, z;
                memcpy(&o, (const int32_t *)a->buffers[1] + j, 4);
                memcpy(&z, (const int32_t *)a->buffers[2] + j, 4);
                start = o, end = z;
            }
            HX_FAIL_IF(start < 0 || end < 0, HOIST_ERR_INVALID_ARG, "field '%s': negative list view", n->name);
            end += start;
        } else if (n->large) {
            memcpy(&start, (const int64_t *)a->buffers[1] + j, 8);
            memcpy(&end, (const int64_t *)a->buffers[1] + j + 1, 8);
        } else {
            int32_t o[2];
            memcpy(o, (const int32_t *)a->buffers[1] + j, 8);
            start = o[0], end = o[1];
        }
        if (start >= end) return push_level(s, rep, d);
        const struct ArrowArray *c = a->children[0];
        HX_FAIL_IF(end > c->length, HOIST_ERR_INVALID_ARG, "field '%s': list offsets run past the child array",
                   n->name);
        for (int64_t e = start; e < end; e++) HX_TRY(shred(s, k + 1, c, e, e == start ? rep : n->rep, d + 1));
        return HOIST_OK;
    }
    }
    return HOIST_OK;
}

/* Small integers widened to INT32 and unit-scaled integers of a column
 * without nulls, in one loop (put_leaf's per-value path costs a call and a
 * capacity check each). Returns 0 when the conversion is not one of them;
 * 1 once done (vals was presized by hx_pqw_shred, reserved here anyway). */
static int widen_flat(struct hx_pqw_leafbuf *b, const struct hx_pqw_node *n, const uint8_t *v, int64_t j0,
                      int64_t nrows) {
    size_t w = n->conv == WC_MUL64 ? 8 : 4;
    switch (n->conv) {
    case WC_I8:
    case WC_U8:
    case WC_I16:
    case WC_U16:
    case WC_MUL32:
    case WC_MUL64: break;
    default: return 0;
    }
    if (hx_arrow_buf_reserve(&b->vals, (size_t)nrows * w) != HOIST_OK) return 0; /* the slow path reports it */
    uint8_t *dst = b->vals.data + b->vals.len;
    size_t m = (size_t)nrows;
    if (n->conv == WC_I8) {
        const int8_t *x = (const int8_t *)v + j0;
        for (size_t i = 0; i < m; i++) {
            int32_t y = x[i];
            memcpy(dst + 4 * i, &y, 4);
        }
    } else if (n->conv == WC_U8) {
        const uint8_t *x = v + j0;
        for (size_t i = 0; i < m; i++) {
            int32_t y = x[i];
            memcpy(dst + 4 * i, &y, 4);
        }
    } else if (n->conv == WC_I16 || n->conv == WC_U16) {
        const uint8_t *x = v + 2 * j0;
        for (size_t i = 0; i < m; i++) {
            uint16_t u;
            memcpy(&u, x + 2 * i, 2);
            int32_t y = n->conv == WC_I16 ? (int32_t)(int16_t)u : (int32_t)u;
            memcpy(dst + 4 * i, &y, 4);
        }
    } else if (n->conv == WC_MUL32) {
        const uint8_t *x = v + 4 * j0;
        for (size_t i = 0; i < m; i++) {
            int32_t y;
            memcpy(&y, x + 4 * i, 4);
            int32_t z = (int32_t)(uint32_t)((uint64_t)(int64_t)y * (uint64_t)n->conv_k);
            memcpy(dst + 4 * i, &z, 4);
        }
    } else {
        const uint8_t *x = v + 8 * j0;
        for (size_t i = 0; i < m; i++) {
            int64_t y;
            memcpy(&y, x + 8 * i, 8);
            int64_t z = (int64_t)((uint64_t)y * (uint64_t)n->conv_k);
            memcpy(dst + 8 * i, &z, 8);
        }
    }
    b->vals.len += m * w;
    b->n_values += nrows;
    return 1;
}

/* A top-level leaf without levels above it: straight loops, and one copy
 * when the values need no conversion. */
static hx_status shred_flat(struct shred *s, const struct hx_pqw_node *n, const struct ArrowArray *a, int64_t row0,
                            int64_t nrows) {
    struct hx_pqw_leafbuf *b = s->b;
    int64_t j0 = row0 + a->offset;
    int nulls = n->conv == WC_NULL || (a->null_count != 0 && a->buffers[0]);
    if (nulls && !n->nullable) {
        for (int64_t i = 0; i < nrows; i++)
            if (n->conv == WC_NULL || !bit(a->buffers[0], j0 + i)) return nullable_violation(n);
    }
    if (s->has_def && !nulls && (b->def_all_max || b->n_levels == 0)) {
        b->def_all_max = 1; /* a present flat value's level is 1 = max_def */
    } else if (s->has_def) {
        HX_TRY(store_levels(b, s->leaf->max_def));
        HX_TRY(hx_arrow_buf_reserve(&b->def, (size_t)nrows * 2));
        uint16_t *dl = (uint16_t *)(b->def.data + b->def.len);
        for (int64_t i = 0; i < nrows; i++)
            dl[i] = (uint16_t)(n->conv == WC_NULL ? 0 : !nulls || bit(a->buffers[0], j0 + i));
        b->def.len += (size_t)nrows * 2;
    }
    b->n_levels += nrows;
    if (n->conv == WC_NULL) return HOIST_OK;
    if (!nulls && n->conv == WC_COPY && !n->dict_index_bytes) {
        HX_TRY(put_bytes(b, (const uint8_t *)a->buffers[1] + (size_t)j0 * (size_t)n->in_width,
                         (size_t)nrows * (size_t)n->in_width));
        b->n_values += nrows;
        return HOIST_OK;
    }
    if (n->conv == WC_COPY && !n->dict_index_bytes) {
        size_t w = (size_t)n->in_width;
        HX_TRY(hx_arrow_buf_reserve(&b->vals, (size_t)nrows * w));
        const uint8_t *src = (const uint8_t *)a->buffers[1] + (size_t)j0 * w;
        uint8_t *dst = b->vals.data + b->vals.len;
        for (int64_t i = 0; i < nrows; i++) {
            memcpy(dst, src + (size_t)i * w, w);
            dst += bit(a->buffers[0], j0 + i) ? w : 0; /* a null's slot is overwritten */
        }
        size_t k = (size_t)(dst - (b->vals.data + b->vals.len)) / w;
        b->vals.len += k * w;
        b->n_values += (int64_t)k;
        return HOIST_OK;
    }
    if (!nulls && (n->conv == WC_BIN32 || n->conv == WC_BIN64) && !n->dict_index_bytes) {
        /* one copy of the bytes, offsets rebased */
        int64_t first, last;
        if (n->conv == WC_BIN32) {
            const int32_t *o = (const int32_t *)a->buffers[1] + j0;
            first = o[0], last = o[nrows];
        } else {
            const int64_t *o = (const int64_t *)a->buffers[1] + j0;
            first = o[0], last = o[nrows];
        }
        HX_FAIL_IF(last < first, HOIST_ERR_INVALID_ARG, "field '%s': offsets decrease", n->name);
        HX_TRY(hx_arrow_buf_reserve(&b->offs, (size_t)nrows * 8));
        int64_t base = (int64_t)b->vals.len - first;
        int64_t *dst = (int64_t *)(void *)(b->offs.data + b->offs.len);
        for (int64_t i = 1; i <= nrows; i++) {
            int64_t o;
            if (n->conv == WC_BIN32)
                o = ((const int32_t *)a->buffers[1])[j0 + i];
            else
                o = ((const int64_t *)a->buffers[1])[j0 + i];
            dst[i - 1] = base + o;
        }
        for (int64_t i = 1; i < nrows; i++)
            HX_FAIL_IF(dst[i] < dst[i - 1], HOIST_ERR_INVALID_ARG, "field '%s': offsets decrease", n->name);
        b->offs.len += (size_t)nrows * 8;
        HX_TRY(put_bytes(b, (const uint8_t *)a->buffers[2] + first, (size_t)(last - first)));
        b->n_values += nrows;
        return HOIST_OK;
    }
    if (!nulls && !n->dict_index_bytes && widen_flat(b, n, (const uint8_t *)a->buffers[1], j0, nrows)) return HOIST_OK;
    if (n->ptype != PQT_BYTE_ARRAY && n->ptype != PQT_BOOLEAN)
        HX_TRY(hx_arrow_buf_reserve(&b->vals, (size_t)nrows * (size_t)(n->ptype == PQT_FLBA ? n->type_length : 8)));
    for (int64_t i = 0; i < nrows; i++)
        if (!nulls || bit(a->buffers[0], j0 + i)) HX_TRY(put_leaf(s, n, a, j0 + i));
    return HOIST_OK;
}

/* Flat columns know their size per row: one allocation for the rows added. */
static hx_status presize(const struct hx_pqw_leaf *leaf, int64_t nrows, struct hx_pqw_leafbuf *out) {
    const struct hx_pqw_node *n = leaf->node;
    if (leaf->max_rep > 0 || nrows <= 0) return HOIST_OK;
    size_t more = (size_t)nrows;
    if (leaf->max_def > 0) HX_TRY(hx_arrow_buf_reserve(&out->def, more * 2));
    if (n->dict_index_bytes || n->conv == WC_NULL) return HOIST_OK;
    if (n->ptype == PQT_BYTE_ARRAY) return hx_arrow_buf_reserve(&out->offs, more * 8);
    return hx_arrow_buf_reserve(&out->vals, more * hx_pqw_value_width(n));
}

hx_status hx_pqw_shred(const struct hx_pqw_schema *sc, const struct hx_pqw_leaf *leaf, const struct ArrowArray *batch,
                       int64_t row0, int64_t nrows, struct hx_pqw_leafbuf *out) {
    HX_TRY(presize(leaf, nrows, out));
    struct shred s;
    s.leaf = leaf;
    s.b = out;
    s.has_def = leaf->max_def > 0;
    s.has_rep = leaf->max_rep > 0;
    s.npath = 0;
    const struct hx_pqw_node *n = &sc->root;
    int li = leaf->node->leaf;
    while (1) {
        if (s.npath >= MAX_PATH) HX_FAIL(HOIST_ERR_UNSUPPORTED, "column '%s' is nested too deep", leaf->dotted);
        s.path[s.npath] = n;
        if (n->kind == PQW_LEAF) break;
        int c = 0;
        while (c + 1 < n->nchildren && li >= n->children[c + 1].first_leaf) c++;
        s.child[s.npath++] = c;
        n = &n->children[c];
    }
    s.npath++;
    if (out->offs.len == 0 && leaf->node->ptype == PQT_BYTE_ARRAY) {
        HX_TRY(hx_arrow_buf_reserve(&out->offs, 8));
        memset(out->offs.data, 0, 8);
        out->offs.len = 8;
    }
    if (leaf->node->dict_index_bytes && leaf->opt.dictionary)
        HX_TRY(dictionary_batch(leaf, leaf_array(&s, batch), out));
    const struct ArrowArray *top = batch->children[s.child[0]];
    row0 += batch->offset; /* a struct's offset applies to its children */
    const struct ArrowArray *la = leaf->node->dict_index_bytes ? leaf_array(&s, batch) : NULL;
    int dict_nulls = la && la->dictionary && la->dictionary->null_count != 0;
    if (s.npath == 2 && !dict_nulls) {
        HX_TRY(shred_flat(&s, leaf->node, top, row0, nrows));
    } else {
        HX_TRY(store_levels(out, leaf->max_def));
        for (int64_t i = 0; i < nrows; i++) HX_TRY(shred(&s, 1, top, row0 + i, 0, 0));
    }
    out->n_rows += nrows;
    return HOIST_OK;
}

/* ---- batch shape check ---------------------------------------------------- */

static hx_status check(const struct hx_pqw_node *n, const struct ArrowArray *a, int depth) {
    HX_FAIL_IF(!a || !a->release, HOIST_ERR_INVALID_ARG, "field '%s': missing or released array", n->name);
    HX_FAIL_IF(a->length < 0 || a->offset < 0, HOIST_ERR_INVALID_ARG, "field '%s': negative length or offset", n->name);
    if (n->kind == PQW_LEAF) {
        if (n->conv == WC_NULL) return HOIST_OK;
        int64_t want = n->conv == WC_BIN32 || n->conv == WC_BIN64 ? 3 : 2;
        if (n->dict_index_bytes) {
            HX_FAIL_IF(a->n_buffers != 2 || !a->dictionary, HOIST_ERR_INVALID_ARG,
                       "field '%s': a dictionary array needs indices and a dictionary", n->name);
            HX_FAIL_IF(a->length > 0 && !a->buffers[1], HOIST_ERR_INVALID_ARG, "field '%s': no index buffer", n->name);
            a = a->dictionary;
            HX_FAIL_IF(a->length < 0 || a->offset < 0, HOIST_ERR_INVALID_ARG, "field '%s': bad dictionary", n->name);
        }
        if (n->conv == WC_VIEW) {
            HX_FAIL_IF(a->n_buffers < 3, HOIST_ERR_INVALID_ARG, "field '%s': a view array needs at least 3 buffers",
                       n->name);
        } else {
            HX_FAIL_IF(a->n_buffers != want, HOIST_ERR_INVALID_ARG, "field '%s': %lld buffers, expected %lld", n->name,
                       (long long)a->n_buffers, (long long)want);
        }
        HX_FAIL_IF(a->length > 0 && !a->buffers[1], HOIST_ERR_INVALID_ARG, "field '%s': no value buffer", n->name);
        HX_FAIL_IF(want == 3 && a->length > 0 && !a->buffers[2] && a->n_buffers == 3, HOIST_ERR_INVALID_ARG,
                   "field '%s': no data buffer", n->name);
        return HOIST_OK;
    }
    HX_FAIL_IF(depth > 128, HOIST_ERR_INVALID_ARG, "field '%s': nested too deep", n->name);
    HX_FAIL_IF(a->n_children != (n->kind == PQW_STRUCT ? n->nchildren : 1), HOIST_ERR_INVALID_ARG,
               "field '%s': %lld child arrays, the schema has %d", n->name, (long long)a->n_children,
               n->kind == PQW_STRUCT ? n->nchildren : 1);
    if (n->kind != PQW_STRUCT && !n->fixed_size)
        HX_FAIL_IF(a->n_buffers != 2 + n->view || (a->length > 0 && (!a->buffers[1] || (n->view && !a->buffers[2]))),
                   HOIST_ERR_INVALID_ARG, "field '%s': a list needs %s", n->name,
                   n->view ? "offsets and sizes buffers" : "an offsets buffer");
    if (n->kind == PQW_STRUCT) {
        for (int i = 0; i < n->nchildren; i++) {
            HX_TRY(check(&n->children[i], a->children[i], depth + 1));
            HX_FAIL_IF(a->children[i]->length < a->offset + a->length, HOIST_ERR_INVALID_ARG,
                       "field '%s': child shorter than the struct", n->children[i].name);
        }
        return HOIST_OK;
    }
    if (n->kind == PQW_MAP) {
        const struct hx_pqw_node *e = &n->children[0];
        const struct ArrowArray *c = a->children[0];
        HX_FAIL_IF(!c || c->n_children != 2, HOIST_ERR_INVALID_ARG, "field '%s': map entries need key and value",
                   n->name);
        HX_TRY(check(&e->children[0], c->children[0], depth + 1));
        return check(&e->children[1], c->children[1], depth + 1);
    }
    if (n->fixed_size)
        HX_FAIL_IF(a->children[0]->length < (a->offset + a->length) * n->fixed_size, HOIST_ERR_INVALID_ARG,
                   "field '%s': fixed-size list child too short", n->name);
    return check(&n->children[0], a->children[0], depth + 1);
}

hx_status hx_pqw_check_batch(const struct hx_pqw_schema *s, const struct ArrowArray *batch) {
    HX_FAIL_IF(!batch || !batch->release, HOIST_ERR_INVALID_ARG, "Parquet writer: NULL or released batch");
    HX_FAIL_IF(batch->n_children != s->root.nchildren, HOIST_ERR_INVALID_ARG,
               "Parquet writer: the batch has %lld columns, the schema %d", (long long)batch->n_children,
               s->root.nchildren);
    HX_FAIL_IF(batch->length < 0 || batch->offset < 0, HOIST_ERR_INVALID_ARG, "Parquet writer: bad batch length");
    for (int i = 0; i < s->root.nchildren; i++) {
        HX_TRY(check(&s->root.children[i], batch->children[i], 1));
        HX_FAIL_IF(batch->children[i]->length < batch->offset + batch->length, HOIST_ERR_INVALID_ARG,
                   "Parquet writer: column '%s' is shorter than the batch", s->root.children[i].name);
    }
    return HOIST_OK;
}
