/*
 * pq_rle_run.h — the pieces of the RLE/bit-packed hybrid (Encodings.md) that
 * a fused decoder needs to walk the runs itself: run headers, RLE run
 * values, the values a bit-packed run can supply, and bit unpacking with a
 * known readable size. pq_rle.c implements the hybrid with them and
 * pq_dict.c fuses them with the dictionary gather; the dependency is one way
 * (dictionary -> RLE), so pq_rle.c knows nothing of dictionaries.
 * Private to src/parquet. The helpers are inline because they run once per
 * run, and runs can be a single value.
 */
#ifndef HOIST_PQ_RLE_RUN_H
#define HOIST_PQ_RLE_RUN_H

#include "pq_kernels.h"

/* hx_unpack_u32, told that `avail` bytes (at least ceil(n*w/8)) may be read
 * from in: runs inside a page let the wide loads run up to the page end. */
void hx_unpack_avail(const uint8_t *in, size_t avail, int bit_width, uint32_t *out, size_t n);

/* HOIST_ERR_PARQUET_CORRUPT for a run value wider than the bit width, and
 * for a bit width outside 0..max. */
HOIST_NODISCARD hx_status hx_rle_bad_run_value(uint32_t v, int bit_width);
HOIST_NODISCARD hx_status hx_rle_bad_width(int bit_width, int max);

/* Run headers are ULEB128 varints; Encodings.md caps run lengths at 2^31-1,
 * so anything longer than 5 bytes is corrupt. */
static inline int hx_rle_run_header(const uint8_t **pp, const uint8_t *end, uint32_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (p >= end) return 0;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (v > UINT32_MAX) return 0;
            *out = (uint32_t)v;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

/* An RLE run's value: ceil(bit_width / 8) little-endian bytes whose bits
 * above the bit width must be zero. Refusing others keeps every decoded
 * value below 2^bit_width, which the dictionary paths rely on to skip range
 * checks when the dictionary has at least 2^bit_width entries. Returns
 * false for such a value (still stored in *v, for the message). */
static inline bool hx_rle_run_value(const uint8_t *p, int bit_width, uint32_t *v) {
    const int nbytes = (bit_width + 7) / 8;
    uint32_t x = 0;
    for (int i = 0; i < nbytes; i++) x |= (uint32_t)p[i] << (8 * i);
    *v = x;
    return bit_width >= 32 || (x >> bit_width) == 0;
}

/* Values a bit-packed run of `groups` 8-value groups can really supply from
 * `avail` bytes: writers pad the last run to whole groups, but a truncated
 * final run is read as far as its bytes go (as Arrow does). */
static inline uint64_t hx_rle_literal_available(uint32_t groups, int bit_width, size_t avail) {
    uint64_t declared = (uint64_t)groups * 8;
    if (bit_width == 0) return declared;
    uint64_t fit = (uint64_t)avail * 8 / (uint64_t)bit_width;
    return fit < declared ? fit : declared;
}

#endif /* HOIST_PQ_RLE_RUN_H */
