/*
 * pq_write_dict.c — dictionaries for RLE_DICTIONARY chunks (Encodings.md
 * "Dictionary Encoding"): the chunk's distinct values in first-seen order
 * with an index per value, abandoned once their PLAIN size passes the
 * limit (the chunk is then written PLAIN, as DuckDB decides per row group)
 * or as soon as a first sample of values shows it would, and the value
 * order of an Arrow dictionary's entries for statistics.
 */
#include "pq_write_internal.h"

#include <math.h>
#include <string.h>

/* Values hashed when the dictionary's prospects are judged: early, and
 * again (HX_PQW_DICT_SETTLED) on a larger sample, which tells a column just
 * short of unique from one whose dictionary fits; the chunk encoder holds
 * its pages back until then. */
enum { PROBE_VALUES = 16384 };

/* After the first `seen` of n values gave `distinct` entries of
 * `entry_bytes` PLAIN bytes: is a dictionary under limit out of reach?
 * Hashing a high-cardinality column to the limit only to drop the work
 * cost ~13 % of an encode. Drawing `seen` values uniformly from D distinct
 * ones is expected to show D (1 - exp(-seen / D)) of them, which grows with
 * D; so when more show than a D of 1.5x the limit's worth of entries would
 * show, the column holds more than that and the dictionary cannot fit.
 * Skewed data shows fewer distinct values than uniform, so the test errs
 * towards trying the dictionary (the slow path of before, never a worse
 * file). Deterministic: the data alone decides. */
static int dict_hopeless(int64_t seen, size_t distinct, int64_t entry_bytes, int64_t n, int64_t limit) {
    if (distinct == 0 || seen <= 0) return 0;
    double avg = (double)entry_bytes / (double)distinct;
    double d = 1.5 * (double)limit / avg; /* entries that would pass the limit with room to spare */
    if (d >= (double)n) return 0;         /* not that many values in the chunk */
    return (double)distinct > d * (1.0 - exp(-(double)seen / d));
}

void hx_pqw_dict_free(struct hx_pqw_dict *d) {
    hx_free(d->keys);
    hx_free(d->kslots);
    hx_free(d->slots);
    hx_pqw_leafbuf_reset(&d->entries);
    memset(d, 0, sizeof *d);
}

/* Tables up to this many slots stay for the leaf's next chunk (the common
 * small dictionary); larger ones are freed, so a row group of many
 * high-cardinality leaves does not keep a table per leaf. */
enum { KEEP_SLOTS = 1 << 14 };

void hx_pqw_dict_clear(struct hx_pqw_dict *d) {
    if (d->kcap > KEEP_SLOTS || d->cap > KEEP_SLOTS) {
        hx_free(d->keys);
        hx_free(d->kslots);
        hx_free(d->slots);
        d->keys = NULL, d->kslots = NULL, d->slots = NULL;
        d->kcap = d->cap = 0;
    }
    if (d->kslots) memset(d->kslots, 0, d->kcap * sizeof *d->kslots);
    if (d->slots) memset(d->slots, 0, d->cap * sizeof *d->slots);
    hx_pqw_leafbuf_clear(&d->entries);
    d->n = 0;
    d->plain_bytes = 0;
    d->seen = 0;
}

/* murmur3's 64-bit finalizer: every input bit reaches the low bits the
 * table uses (doubles such as 12.5 have long runs of zero low bits). */
static inline size_t hash_w(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return (size_t)(x ^ (x >> 33));
}

static inline uint32_t load32(const uint8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* For a given length n <= 8 the hash is injective (each step below is a
 * bijection of the bytes read, and every byte is read), so equal hashes
 * and lengths mean equal values. Short tails are read with overlapping
 * loads rather than a variable-length memcpy, which is a libc call. */
static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    uint64_t x;
    if (n > 8) {
        const uint8_t *end = p + n;
        while (end - p > 8) {
            h = (h ^ load64(p)) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
            p += 8;
        }
        x = load64(end - 8);
    } else if (n == 8) {
        x = load64(p);
    } else if (n >= 4) {
        x = (uint64_t)load32(p) | (uint64_t)load32(p + n - 4) << 32;
    } else if (n > 0) {
        x = (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
    } else {
        x = 0;
    }
    h = (h ^ x) * 0xff51afd7ed558ccdull;
    return hash_w(h ^ (h >> 32));
}

static hx_status dict_grow(struct hx_pqw_dict *d) {
    size_t cap = d->cap ? d->cap * 2 : 1024;
    struct hx_pqw_dslot *s = hx_calloc(cap, sizeof *s);
    if (!s) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building a dictionary");
    for (size_t k = 0; k < d->cap; k++) {
        if (!d->slots[k].entry) continue;
        size_t h = (size_t)d->slots[k].hash & (cap - 1);
        while (s[h].entry) h = (h + 1) & (cap - 1);
        s[h] = d->slots[k];
    }
    hx_free(d->slots);
    d->slots = s;
    d->cap = cap;
    return HOIST_OK;
}

/* Appends a new entry's bytes (byte arrays with their end offset). */
static hx_status entry_add(struct hx_pqw_dict *d, int ba, const uint8_t *p, size_t len) {
    struct hx_pqw_leafbuf *e = &d->entries;
    if (ba && e->offs.len == 0) {
        HX_TRY(hx_arrow_buf_reserve(&e->offs, 8));
        memset(e->offs.data, 0, 8);
        e->offs.len = 8;
    }
    HX_TRY(hx_arrow_buf_reserve(&e->vals, len));
    memcpy(e->vals.data + e->vals.len, p, len);
    e->vals.len += len;
    if (ba) {
        HX_TRY(hx_arrow_buf_reserve(&e->offs, 8));
        int64_t end = (int64_t)e->vals.len;
        memcpy(e->offs.data + e->offs.len, &end, 8);
        e->offs.len += 8;
    }
    e->n_values++;
    d->n++;
    return HOIST_OK;
}

static hx_status ktable_grow(struct hx_pqw_dict *d) {
    size_t cap = d->kcap ? d->kcap * 2 : 1024;
    uint64_t *nk = hx_malloc(cap * sizeof *nk);
    uint32_t *ns = hx_calloc(cap, sizeof *ns);
    if (!nk || !ns) {
        hx_free(nk);
        hx_free(ns);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory building a dictionary");
    }
    for (size_t k = 0; k < d->kcap; k++) {
        if (!d->kslots[k]) continue;
        size_t g = hash_w(d->keys[k]) & (cap - 1);
        while (ns[g]) g = (g + 1) & (cap - 1);
        ns[g] = d->kslots[k];
        nk[g] = d->keys[k];
    }
    hx_free(d->keys);
    hx_free(d->kslots);
    d->keys = nk, d->kslots = ns, d->kcap = cap;
    return HOIST_OK;
}

/* 4- and 8-byte values compared as integers (bit patterns, so -0.0 and
 * +0.0 stay distinct as PLAIN requires). One loop per width, and the
 * checkpoints where the dictionary is judged split the values into
 * stretches, so the per-value loop tests neither; the table's fields are
 * held in locals (reloaded when it grows). */
#define ADD_FIXED(W, T)                                                                                                \
    static hx_status add_fixed_##W(const uint8_t *v, int64_t v0, int64_t v1, int64_t limit, int64_t n_chunk,           \
                                   struct hx_pqw_dict *d, uint32_t *idx, int64_t *taken) {                             \
        if (!d->kslots) HX_TRY(ktable_grow(d));                                                                        \
        int64_t i = v0;                                                                                                \
        while (i < v1) {                                                                                               \
            int64_t s = d->seen;                                                                                       \
            if ((s == PROBE_VALUES || s == HX_PQW_DICT_SETTLED) &&                                                     \
                dict_hopeless(s, d->n, d->plain_bytes, n_chunk, limit))                                                \
                break;                                                                                                 \
            int64_t next = s < PROBE_VALUES          ? PROBE_VALUES                                                    \
                           : s < HX_PQW_DICT_SETTLED ? HX_PQW_DICT_SETTLED                                             \
                                                     : INT64_MAX;                                                      \
            int64_t i0 = i, end = next - s < v1 - i ? i + (next - s) : v1;                                             \
            size_t mask = d->kcap - 1;                                                                                 \
            uint64_t *keys = d->keys;                                                                                  \
            uint32_t *slots = d->kslots;                                                                               \
            int full = 0;                                                                                              \
            for (; i < end; i++) {                                                                                     \
                T raw;                                                                                                 \
                memcpy(&raw, v + (size_t)i * W, W);                                                                    \
                uint64_t x = raw;                                                                                      \
                size_t h = hash_w(x) & mask;                                                                           \
                uint32_t e;                                                                                            \
                while ((e = slots[h]) != 0 && keys[h] != x) h = (h + 1) & mask;                                        \
                if (!e) {                                                                                              \
                    if (d->plain_bytes + W > limit) {                                                                  \
                        full = 1;                                                                                      \
                        break;                                                                                         \
                    }                                                                                                  \
                    HX_TRY(entry_add(d, 0, v + (size_t)i * W, W));                                                     \
                    d->plain_bytes += W;                                                                               \
                    e = (uint32_t)d->n;                                                                                \
                    slots[h] = e;                                                                                      \
                    keys[h] = x;                                                                                       \
                    if (d->n * 2 > d->kcap) {                                                                          \
                        HX_TRY(ktable_grow(d));                                                                        \
                        mask = d->kcap - 1, keys = d->keys, slots = d->kslots;                                         \
                    }                                                                                                  \
                }                                                                                                      \
                idx[i - v0] = e - 1;                                                                                   \
            }                                                                                                          \
            d->seen = s + (i - i0);                                                                                    \
            if (full) break;                                                                                           \
        }                                                                                                              \
        *taken = i - v0;                                                                                               \
        return HOIST_OK;                                                                                               \
    }
ADD_FIXED(4, uint32_t)
ADD_FIXED(8, uint64_t)

hx_status hx_pqw_dict_add(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *b, int64_t v0, int64_t v1,
                          int64_t limit, int64_t n_chunk, struct hx_pqw_dict *d, uint32_t *idx, int64_t *taken) {
    int ba = leaf->node->ptype == PQT_BYTE_ARRAY;
    size_t w = hx_pqw_value_width(leaf->node);
    *taken = 0;
    if (d->seen + (v1 - v0) > (int64_t)UINT32_MAX - 1) return HOIST_OK;
    if (!ba && w == 4) return add_fixed_4(b->vals.data, v0, v1, limit, n_chunk, d, idx, taken);
    if (!ba && w == 8) return add_fixed_8(b->vals.data, v0, v1, limit, n_chunk, d, idx, taken);
    if (!d->slots) HX_TRY(dict_grow(d));
    int64_t i = v0;
    for (; i < v1; i++, d->seen++) {
        if ((d->seen == PROBE_VALUES || d->seen == HX_PQW_DICT_SETTLED) &&
            dict_hopeless(d->seen, d->n, d->plain_bytes, n_chunk, limit))
            break;
        size_t len;
        const uint8_t *p = hx_pqw_value_at(b, ba, w, (uint32_t)i, &len);
        uint64_t hash = hash_bytes(p, len);
        size_t h = (size_t)hash & (d->cap - 1);
        uint32_t e;
        while ((e = d->slots[h].entry) != 0) {
            if (d->slots[h].hash == hash && d->slots[h].len == len) {
                if (len <= 8) break;
                size_t l2;
                const uint8_t *q = hx_pqw_value_at(&d->entries, ba, w, e - 1, &l2);
                if (memcmp(p, q, len) == 0) break;
            }
            h = (h + 1) & (d->cap - 1);
        }
        if (!e) {
            int64_t add = (int64_t)len + (ba ? 4 : 0);
            if (d->plain_bytes + add > limit) break;
            HX_FAIL_IF(len > UINT32_MAX, HOIST_ERR_LIMIT,
                       "column '%s': a value of %zu bytes is too long for a dictionary", leaf->dotted, len);
            HX_TRY(entry_add(d, ba, p, len));
            d->plain_bytes += add;
            e = (uint32_t)d->n;
            d->slots[h] = (struct hx_pqw_dslot){hash, e, (uint32_t)len};
            if (d->n * 2 > d->cap) HX_TRY(dict_grow(d));
        }
        idx[i - v0] = e - 1;
    }
    *taken = i - v0;
    return HOIST_OK;
}

struct ranking {
    const struct hx_pqw_leafbuf *entries;
    const uint32_t *at; /* entry -> value index in entries, or NULL (identity) */
    int ba;
    size_t w;
    enum hx_pqw_order order;
};

/* Merge sort of entry numbers by value (no qsort: the comparison needs context). */
static void sort_entries(const struct ranking *e, uint32_t *a, uint32_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_entries(e, a, tmp, h);
    sort_entries(e, a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    enum hx_pqw_order o = e->order;
    while (i < h && j < n) {
        size_t la, lb;
        const uint8_t *pa = hx_pqw_value_at(e->entries, e->ba, e->w, e->at ? e->at[a[i]] : a[i], &la);
        const uint8_t *pb = hx_pqw_value_at(e->entries, e->ba, e->w, e->at ? e->at[a[j]] : a[j], &lb);
        tmp[k++] = hx_pqw_compare(o, pb, lb, pa, la) < 0 ? a[j++] : a[i++];
    }
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

static int is_nan(enum hx_pqw_order o, const uint8_t *p) {
    if (o == SO_DOUBLE) {
        double x;
        memcpy(&x, p, 8);
        return x != x;
    }
    if (o == SO_FLOAT) {
        float x;
        memcpy(&x, p, 4);
        return x != x;
    }
    if (o == SO_F16) {
        uint16_t x;
        memcpy(&x, p, 2);
        return (x & 0x7c00) == 0x7c00 && (x & 0x3ff);
    }
    return 0;
}

/* rank[entry]: position in value order; -1 for NaN (never a bound). */
static hx_status rank_entries(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *entries, const uint32_t *at,
                              size_t n, int32_t **out) {
    const struct hx_pqw_node *nd = leaf->node;
    struct ranking r = {entries, at, nd->ptype == PQT_BYTE_ARRAY, hx_pqw_value_width(nd), nd->order};
    int32_t *rank = hx_malloc((n ? n : 1) * sizeof *rank);
    uint32_t *ord = hx_malloc((n ? n : 1) * 2 * sizeof *ord);
    if (!rank || !ord) {
        hx_free(rank);
        hx_free(ord);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory ordering a dictionary");
    }
    for (size_t i = 0; i < n; i++) ord[i] = (uint32_t)i;
    sort_entries(&r, ord, ord + n, n);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *p = hx_pqw_value_at(entries, r.ba, r.w, at ? at[ord[i]] : ord[i], &len);
        rank[ord[i]] = is_nan(r.order, p) ? -1 : (int32_t)i;
    }
    hx_free(ord);
    *out = rank;
    return HOIST_OK;
}

hx_status hx_pqw_dict_rank(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *entries, int32_t **out) {
    return rank_entries(leaf, entries, NULL, (size_t)entries->n_values, out);
}
