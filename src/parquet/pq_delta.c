/*
 * pq_delta.c — DELTA_BINARY_PACKED (Encodings.md).
 *
 * Header: <block size> <miniblocks per block> <total count> <zigzag first>.
 * Block: <zigzag min delta> <one bit-width byte per miniblock> <miniblocks>.
 * All arithmetic is done in uint64 so overflow wraps as the spec requires;
 * for INT32 the low 32 bits of the 64-bit sum are the 32-bit wrapping sum.
 */
#include "pq_kernels.h"

#include <string.h>

/* Sanity cap on the block size: the spec gives none, writers use 128..1024,
 * and a huge value only serves to make the bit-width table enormous. */
#define DELTA_MAX_BLOCK_SIZE (1u << 20)

struct delta_header {
    uint64_t block_size, miniblocks, total;
    uint64_t first; /* already un-zigzagged, as an unsigned bit pattern */
    size_t values_per_miniblock;
};

static int read_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return 0;
        uint8_t b = *p++;
        if (shift == 63 && (b & 0x7e)) return 0; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

static inline uint64_t unzigzag(uint64_t u) { return (u >> 1) ^ (0 - (u & 1)); }

static hx_status parse_header(const uint8_t **pp, const uint8_t *end, struct delta_header *h) {
    uint64_t first;
    if (!read_uvarint(pp, end, &h->block_size) || !read_uvarint(pp, end, &h->miniblocks) ||
        !read_uvarint(pp, end, &h->total) || !read_uvarint(pp, end, &first))
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED header is truncated or has an overlong varint");
    h->first = unzigzag(first);
    if (h->block_size == 0 || h->block_size % 128 != 0 || h->block_size > DELTA_MAX_BLOCK_SIZE)
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT,
                "DELTA_BINARY_PACKED block size %llu is not a positive multiple of 128 (up to %u)",
                (unsigned long long)h->block_size, DELTA_MAX_BLOCK_SIZE);
    if (h->miniblocks == 0 || h->block_size % h->miniblocks != 0 || (h->block_size / h->miniblocks) % 32 != 0)
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT,
                "DELTA_BINARY_PACKED block of %llu values cannot hold %llu miniblocks of a multiple of 32 values",
                (unsigned long long)h->block_size, (unsigned long long)h->miniblocks);
    h->values_per_miniblock = (size_t)(h->block_size / h->miniblocks);
    return HOIST_OK;
}

hx_status hx_delta_total_count(const uint8_t *data, size_t len, uint64_t *count) {
    struct delta_header h;
    const uint8_t *p = data;
    HX_TRY(parse_header(&p, data + len, &h));
    *count = h.total;
    return HOIST_OK;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Unpacks c (<= 32) deltas of w bits (0..64) starting at a 32-value
 * boundary, reading only ceil(c*w/8) bytes of in. */
static void unpack_deltas(const uint8_t *in, int w, uint64_t *out, size_t c) {
    if (w <= 32) {
        uint32_t tmp[32];
        hx_unpack_u32(in, w, tmp, c);
        for (size_t i = 0; i < c; i++) out[i] = tmp[i];
        return;
    }
    /* Wide deltas are rare (only for wildly jumping INT64 data): a padded
     * copy keeps the 9-byte reads in bounds. */
    uint8_t buf[32 * 8 + 16] = {0};
    memcpy(buf, in, (c * (size_t)w + 7) / 8);
    const uint64_t mask = w == 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
    for (size_t i = 0; i < c; i++) {
        size_t bit = i * (size_t)w, byte = bit / 8;
        unsigned sh = (unsigned)(bit % 8);
        uint64_t v = load64(buf + byte) >> sh;
        if (sh && sh + (unsigned)w > 64) v |= (uint64_t)buf[byte + 8] << (64 - sh);
        out[i] = v & mask;
    }
}

static inline __attribute__((always_inline)) hx_status delta_decode(const uint8_t *data, size_t len, void *outv,
                                                                    const int is32, size_t n, size_t *consumed) {
    const uint8_t *p = data, *end = data + len;
    struct delta_header h;
    HX_TRY(parse_header(&p, end, &h));
    if ((uint64_t)n > h.total)
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED stream holds %llu values, %zu expected",
                (unsigned long long)h.total, n);
    int32_t *o32 = (int32_t *)outv;
    int64_t *o64 = (int64_t *)outv;
    const int max_width = is32 ? 32 : 64;
    uint64_t last = h.first;
    size_t done = 0;
    if (n > 0) {
        if (is32)
            o32[0] = (int32_t)(uint32_t)last;
        else
            o64[0] = (int64_t)last;
        done = 1;
    }
    uint64_t deltas[32];
    while (done < n) {
        uint64_t zz;
        if (!read_uvarint(&p, end, &zz))
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED block header is truncated after %zu of %zu values",
                    done, n);
        const uint64_t min_delta = unzigzag(zz);
        if ((uint64_t)(end - p) < h.miniblocks)
            HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED miniblock bit widths are truncated");
        const uint8_t *widths = p;
        p += h.miniblocks;
        for (uint64_t m = 0; m < h.miniblocks && done < n; m++) {
            const int w = widths[m];
            if (w > max_width)
                HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED miniblock bit width %d exceeds %d", w,
                        max_width);
            const size_t avail = (size_t)(end - p);
            const size_t count = n - done < h.values_per_miniblock ? n - done : h.values_per_miniblock;
            if ((count * (size_t)w + 7) / 8 > avail)
                HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "DELTA_BINARY_PACKED miniblock is truncated after %zu of %zu values",
                        done, n);
            for (size_t k = 0; k < count; k += 32) {
                const size_t c = count - k < 32 ? count - k : 32;
                unpack_deltas(p + (k / 8) * (size_t)w, w, deltas, c);
                if (is32) {
                    int32_t *o = o32 + done + k;
                    for (size_t i = 0; i < c; i++) {
                        last += min_delta + deltas[i];
                        o[i] = (int32_t)(uint32_t)last;
                    }
                } else {
                    int64_t *o = o64 + done + k;
                    for (size_t i = 0; i < c; i++) {
                        last += min_delta + deltas[i];
                        o[i] = (int64_t)last;
                    }
                }
            }
            done += count;
            /* The last miniblock is padded to full size; skip the padding so
             * *consumed points at what follows the stream. */
            const size_t mb_bytes = h.values_per_miniblock / 8 * (size_t)w;
            p += mb_bytes < avail ? mb_bytes : avail;
        }
    }
    if (consumed) *consumed = (size_t)(p - data);
    return HOIST_OK;
}

hx_status hx_delta_decode_i64(const uint8_t *data, size_t len, int64_t *out, size_t n, size_t *consumed) {
    return delta_decode(data, len, out, 0, n, consumed);
}

hx_status hx_delta_decode_i32(const uint8_t *data, size_t len, int32_t *out, size_t n, size_t *consumed) {
    return delta_decode(data, len, out, 1, n, consumed);
}
