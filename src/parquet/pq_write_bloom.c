/*
 * pq_write_bloom.c — split-block bloom filters per column chunk
 * (BloomFilter.md): 256-bit blocks of eight 32-bit words, XXH64 (seed 0) of
 * each value's PLAIN bytes (byte arrays without their length prefix), block
 * chosen by multiply-shift of the hash's high half, one bit per word from
 * the low half times the spec's salt. Sized from the column's expected
 * distinct values and false-positive rate as Arrow C++ and arrow-rs do.
 */
#include "pq_write_internal.h"

#include <math.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static const uint32_t salt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                 0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

/* Bytes of the bitset: -8 ndv / ln(1 - fpp^(1/8)) bits, a power of two in [32 B, 128 MiB]. */
static size_t bloom_bytes(int64_t ndv, double fpp) {
    double bits = -8.0 * (double)ndv / log(1.0 - pow(fpp, 1.0 / 8.0));
    size_t bytes = 32;
    while (bytes < (size_t)128 << 20 && (double)bytes * 8 < bits) bytes *= 2;
    return bytes;
}

static void insert(uint32_t *words, size_t nblocks, uint64_t h) {
    size_t block = (size_t)(((h >> 32) * (uint64_t)nblocks) >> 32);
    uint32_t key = (uint32_t)h;
    uint32_t *w = words + block * 8;
    for (int i = 0; i < 8; i++) w[i] |= 1u << ((key * salt[i]) >> 27);
}

hx_status hx_pqw_bloom_new(const struct hx_pqw_leaf *leaf, uint32_t **words, size_t *bytes) {
    *bytes = bloom_bytes(leaf->opt.bloom_ndv, leaf->opt.bloom_fpp);
    *words = hx_calloc(*bytes / 4, 4);
    if (!*words) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building a %zu-byte bloom filter", *bytes);
    return HOIST_OK;
}

void hx_pqw_bloom_add(const struct hx_pqw_leaf *leaf, uint32_t *words, size_t bytes, const struct hx_pqw_leafbuf *vals,
                      int64_t v0, int64_t v1) {
    size_t nblocks = bytes / 32;
    const struct hx_pqw_node *n = leaf->node;
    if (n->ptype == PQT_BYTE_ARRAY) {
        const int64_t *off = (const int64_t *)(const void *)vals->offs.data;
        for (int64_t i = v0; i < v1; i++)
            insert(words, nblocks, XXH64(vals->vals.data + off[i], (size_t)(off[i + 1] - off[i]), 0));
    } else {
        size_t w = hx_pqw_value_width(n);
        for (int64_t i = v0; i < v1; i++) insert(words, nblocks, XXH64(vals->vals.data + (size_t)i * w, w, 0));
    }
}

hx_status hx_pqw_bloom_write(const uint32_t *words, size_t bytes, struct hx_buf *out) {
    struct hx_tw t;
    hx_tw_init(&t, out);
    hx_tw_i32(&t, 1, (int32_t)bytes);
    hx_tw_struct_begin(&t, 2); /* algorithm: BLOCK */
    hx_tw_struct_begin(&t, 1);
    hx_tw_struct_end(&t);
    hx_tw_struct_end(&t);
    hx_tw_struct_begin(&t, 3); /* hash: XXHASH */
    hx_tw_struct_begin(&t, 1);
    hx_tw_struct_end(&t);
    hx_tw_struct_end(&t);
    hx_tw_struct_begin(&t, 4); /* compression: UNCOMPRESSED */
    hx_tw_struct_begin(&t, 1);
    hx_tw_struct_end(&t);
    hx_tw_struct_end(&t);
    hx_status st = hx_tw_finish(&t);
    if (st == HOIST_OK) st = hx_buf_append(out, words, bytes); /* little-endian words */
    return st;
}
