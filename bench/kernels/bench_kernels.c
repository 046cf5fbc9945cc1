/* Micro-benchmark of the Parquet decoding kernels (not a test).
 * Build by hand from the repository root:
 *   gcc -O2 -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc/util -Isrc/parquet \
 *       bench/kernels/bench_kernels.c src/parquet/pq_{codec,rle,delta,bss,dict}.c
 * src/util/{alloc,error,log,sys,threadpool}.c \ -o /tmp/bench_kernels $(pkg-config --libs libzstd snappy liblz4
 * libbrotlidec libdeflate zlib) -lpthread -lm Prints values/s or MB/s per kernel; each figure is the best of 5 runs.
 * hx_unpack_u32 takes its AVX2 path where the CPU has AVX2 (widths <= 25). */
#include "pq_kernels.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static volatile uint32_t sink;

/* Best-of-5 seconds for fn(arg) repeated `reps` times. */
#define BEST_OF(reps, body)                                                                                            \
    ({                                                                                                                 \
        double best_ = 1e9;                                                                                            \
        for (int r_ = 0; r_ < 5; r_++) {                                                                               \
            double t0_ = now();                                                                                        \
            for (int k_ = 0; k_ < (reps); k_++) {                                                                      \
                body;                                                                                                  \
            }                                                                                                          \
            double t_ = (now() - t0_) / (reps);                                                                        \
            if (t_ < best_) best_ = t_;                                                                                \
        }                                                                                                              \
        best_;                                                                                                         \
    })

int main(void) {
    const size_t n = 1 << 20;
    uint8_t *packed = malloc(n * 4 + 64);
    uint32_t *out = malloc(n * 4 + 64);
    for (size_t i = 0; i < n * 4 + 64; i++) packed[i] = (uint8_t)rnd();

    /* 64 Ki values per call: output stays in L2, so this measures the
     * kernel rather than memory bandwidth. */
    const size_t un = 1 << 16;
    printf("hx_unpack_u32 (%zu values per call), values/s:\n", un);
    for (int w = 1; w <= 32; w++) {
        double t = BEST_OF(200, hx_unpack_u32(packed, w, out, un); sink += out[un - 1]);
        printf("  w=%-2d %6.0f M/s%s", w, un / t / 1e6, w % 4 == 0 ? "\n" : "");
    }

    /* RLE/bit-packed hybrid as dictionary indices look: short literal runs
     * with some repeats, width 10. */
    {
        size_t cap = n * 2, len = 0;
        uint8_t *rle = malloc(cap);
        size_t produced = 0;
        const int w = 10;
        while (produced < n) {
            if (rnd() % 4 == 0) {
                uint32_t run = 8 + rnd() % 100;
                rle[len++] = (uint8_t)((run << 1) & 0x7f) | 0x80;
                rle[len++] = (uint8_t)(run >> 6);
                uint32_t v = (uint32_t)rnd() & 1023;
                rle[len++] = (uint8_t)v;
                rle[len++] = (uint8_t)(v >> 8);
                produced += run;
            } else {
                uint32_t groups = 8; /* 64 values */
                rle[len++] = (uint8_t)(groups << 1 | 1);
                for (uint32_t k = 0; k < groups * (uint32_t)w; k++) rle[len++] = (uint8_t)rnd();
                produced += groups * 8;
            }
        }
        double t = BEST_OF(10, if (hx_rle_decode_u32(rle, len, w, out, n, NULL) != HOIST_OK) abort());
        printf("RLE hybrid decode (w=10, 75%% literal): %.0f M values/s\n", n / t / 1e6);
        /* Levels: long runs (all defined) */
        uint8_t lv[8] = {0x80 | 0, 0x80, 0x80, 0x01, 1}; /* run of 2^21 ones (varint) */
        lv[0] = 0x80;
        lv[1] = 0x80;
        lv[2] = 0x80;
        lv[3] = 0x01; /* header = 1<<21 -> run 2^20 */
        uint16_t *lev = malloc(n * 2);
        t = BEST_OF(20, if (hx_rle_decode_u16(lv, 5, 1, lev, n, NULL) != HOIST_OK) abort());
        printf("RLE level decode (one long run, u16): %.0f M values/s\n", n / t / 1e6);
        /* Levels with interleaved nulls: one bit-packed run, width 1. */
        size_t groups = n / 8;
        uint8_t *bp = malloc(groups + 8);
        size_t bl = 0, g = groups;
        uint8_t hdr[8];
        size_t hl = 0;
        uint64_t h = (uint64_t)g << 1 | 1;
        while (h >= 0x80) {
            hdr[hl++] = (uint8_t)(h | 0x80);
            h >>= 7;
        }
        hdr[hl++] = (uint8_t)h;
        memcpy(bp, hdr, hl);
        bl = hl;
        for (size_t k = 0; k < groups; k++) bp[bl++] = (uint8_t)rnd();
        t = BEST_OF(20, if (hx_rle_decode_u16(bp, bl, 1, lev, n, NULL) != HOIST_OK) abort());
        printf("RLE level decode (bit-packed w=1, u16): %.0f M values/s\n", n / t / 1e6);
        free(bp);
        free(lev);
        free(rle);
    }

    /* Dictionary gather, 1000-entry dictionary. */
    {
        uint32_t *idx = malloc(n * 4);
        for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)(rnd() % 1000);
        uint8_t *dict = malloc(1000 * 16), *o = malloc(n * 16);
        for (size_t i = 0; i < 1000 * 16; i++) dict[i] = (uint8_t)rnd();
        size_t widths[] = {4, 8, 16};
        for (int k = 0; k < 3; k++) {
            size_t wd = widths[k];
            double t = BEST_OF(10, if (hx_dict_gather(dict, 1000, wd, idx, n, o) != HOIST_OK) abort());
            printf("dict gather width %2zu: %.0f M values/s (%.0f MB/s out)\n", wd, n / t / 1e6, n * wd / t / 1e6);
        }
        free(idx), free(dict), free(o);
    }

    /* RLE_DICTIONARY page as pyarrow writes random floats: one bit-packed
     * run of 18-bit indices into a ~2^18-entry float dictionary (1 MiB).
     * Two-pass (indices to memory, then a checked gather) against the fused
     * decode, with the range check needed (dictionary < 2^18) and elided. */
    {
        const size_t pn = 1 << 18, dn_full = 1 << 18, dn_part = 261619;
        const int w = 18;
        size_t groups = pn / 8, len = 0;
        uint8_t *page = malloc(groups * (size_t)w + 16);
        uint64_t h = (uint64_t)groups << 1 | 1;
        while (h >= 0x80) {
            page[len++] = (uint8_t)(h | 0x80);
            h >>= 7;
        }
        page[len++] = (uint8_t)h;
        /* indices < dn_part: pack them bit by bit */
        memset(page + len, 0, groups * (size_t)w);
        for (size_t i = 0; i < pn; i++) {
            uint32_t v = (uint32_t)(rnd() % dn_part);
            for (int b = 0; b < w; b++)
                if ((v >> b) & 1) page[len + (i * w + b) / 8] |= (uint8_t)(1u << ((i * w + b) % 8));
        }
        len += groups * (size_t)w;
        uint8_t *dict = malloc(dn_full * 4), *o = malloc(pn * 4);
        for (size_t i = 0; i < dn_full * 4; i++) dict[i] = (uint8_t)rnd();
        uint32_t *idx = malloc(pn * 4);
        double t = BEST_OF(20, if (hx_rle_decode_u32(page, len, w, idx, pn, NULL) != HOIST_OK ||
                                   hx_dict_gather(dict, dn_part, 4, idx, pn, o) != HOIST_OK) abort());
        printf("dict page w=18 float, two-pass:      %.0f M values/s\n", pn / t / 1e6);
        t = BEST_OF(20, if (hx_dict_decode_fixed(dict, dn_part, 4, page, len, w, pn, o) != HOIST_OK) abort());
        printf("dict page w=18 float, fused+check:   %.0f M values/s\n", pn / t / 1e6);
        t = BEST_OF(20, if (hx_dict_decode_fixed(dict, dn_full, 4, page, len, w, pn, o) != HOIST_OK) abort());
        printf("dict page w=18 float, fused, 2^18:   %.0f M values/s\n", pn / t / 1e6);
        free(page), free(dict), free(o), free(idx);
    }

    /* BYTE_STREAM_SPLIT */
    {
        uint8_t *src = malloc(n * 8), *o = malloc(n * 8);
        for (size_t i = 0; i < n * 8; i++) src[i] = (uint8_t)rnd();
        size_t widths[] = {2, 4, 8};
        for (int k = 0; k < 3; k++) {
            size_t wd = widths[k];
            double t = BEST_OF(10, if (hx_byte_stream_split_decode(src, n * wd, wd, n, o) != HOIST_OK) abort());
            printf("BSS decode width %zu: %.0f M values/s (%.0f MB/s)\n", wd, n / t / 1e6, n * wd / t / 1e6);
        }
        free(src), free(o);
    }

    /* DELTA_BINARY_PACKED: sorted-ish int64 (small deltas, width ~8). */
    {
        size_t cap = n * 3, len = 0;
        uint8_t *d = malloc(cap);
        /* header: block 128, 4 miniblocks, n values, first 0 */
        d[len++] = 0x80;
        d[len++] = 0x01;
        d[len++] = 4;
        size_t v = n;
        while (v >= 0x80) {
            d[len++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        d[len++] = (uint8_t)v;
        d[len++] = 0;
        for (size_t done = 1; done < n; done += 128) {
            d[len++] = 0; /* min delta 0 */
            for (int m = 0; m < 4; m++) d[len++] = 8;
            for (int k = 0; k < 128; k++) d[len++] = (uint8_t)rnd();
        }
        int64_t *o = malloc(n * 8);
        double t = BEST_OF(10, if (hx_delta_decode_i64(d, len, o, n, NULL) != HOIST_OK) abort());
        printf("DELTA_BINARY_PACKED i64 (width 8): %.0f M values/s\n", n / t / 1e6);
        free(d), free(o);
    }

    /* Codecs on 16 MiB of column-like data (small ints + text). */
    {
        size_t sz = 16u << 20;
        uint8_t *raw = malloc(sz), *dst = malloc(sz);
        for (size_t i = 0; i < sz; i += 4) {
            uint32_t x = (uint32_t)(rnd() % 5000);
            if ((i / 4096) % 2) x = 0x61626364u + (uint32_t)(rnd() % 3);
            memcpy(raw + i, &x, 4);
        }
        size_t cap = snappy_max_compressed_length(sz);
        char *c = malloc(cap);
        size_t clen = cap;
        if (snappy_compress((const char *)raw, sz, c, &clen) != SNAPPY_OK) abort();
        double t = BEST_OF(3, if (hx_pq_decompress(HX_PQ_SNAPPY, (uint8_t *)c, clen, dst, sz) != HOIST_OK) abort());
        printf("snappy decompress: %.0f MB/s (ratio %.2f)\n", sz / t / 1e6, (double)sz / clen);
        size_t zcap = ZSTD_compressBound(sz);
        uint8_t *z = malloc(zcap);
        size_t zlen = ZSTD_compress(z, zcap, raw, sz, 3);
        t = BEST_OF(3, if (hx_pq_decompress(HX_PQ_ZSTD, z, zlen, dst, sz) != HOIST_OK) abort());
        printf("zstd(3) decompress: %.0f MB/s (ratio %.2f)\n", sz / t / 1e6, (double)sz / zlen);
        t = BEST_OF(3, sink += hx_crc32(raw, sz));
        printf("crc32: %.0f MB/s\n", sz / t / 1e6);
        free(raw), free(dst), free(c), free(z);
    }
    free(packed);
    free(out);
    return 0;
}
