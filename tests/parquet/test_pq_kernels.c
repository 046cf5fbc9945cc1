/* Tests for the Parquet decoding kernels (src/parquet/pq_kernels.h).
 *
 * Each decoder is checked against a deliberately naive reference encoder
 * written here (bit at a time, one run at a time), over every bit width, run
 * and block boundaries, truncation at every byte and corrupt headers. Inputs
 * are heap copies of exactly their length so the ASan build catches any
 * read past the end. Codecs are round-tripped through each library's own
 * compressor. */
#include "pq_kernels.h"
#include "test_harness.h"

#include <brotli/encode.h>
#include <libdeflate.h>
#include <lz4.h>
#include <snappy-c.h>
#include <pthread.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

/* ---- helpers ---------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    /* xorshift64*: deterministic, so failures reproduce. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static uint64_t mask_bits(int w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

/* A copy of exactly len bytes on the heap (never NULL, even for 0). */
static uint8_t *exact_copy(const uint8_t *src, size_t len) {
    uint8_t *p = malloc(len ? len : 1);
    if (len) memcpy(p, src, len);
    return p;
}

struct bytes {
    uint8_t *p;
    size_t len, cap;
};
static void put(struct bytes *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void put_byte(struct bytes *b, uint8_t v) { put(b, &v, 1); }
static void put_uvarint(struct bytes *b, uint64_t v) {
    while (v >= 0x80) {
        put_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(b, (uint8_t)v);
}
static void put_zigzag(struct bytes *b, int64_t v) { put_uvarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

/* Reference bit packer: LSB-first, one bit at a time (Encodings.md). */
static void ref_pack(struct bytes *b, const uint64_t *v, size_t n, int w) {
    size_t nbytes = (n * (size_t)w + 7) / 8;
    size_t start = b->len;
    for (size_t i = 0; i < nbytes; i++) put_byte(b, 0);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < w; k++)
            if ((v[i] >> k) & 1) {
                size_t bit = i * (size_t)w + (size_t)k;
                b->p[start + bit / 8] |= (uint8_t)(1u << (bit % 8));
            }
}

static const char *last_msg(void) { return hoist_errmsg(); }

/* ---- hx_unpack_u32 ---------------------------------------------------- */

/* hx_keep_u32 (the AVX2 path and the scalar tail) against a plain loop:
 * every length up to 70 and a long one, masks empty, full, sparse, dense. */
static void test_keep_u32(void) {
    uint64_t rng = 12345;
    for (size_t n = 0; n <= 1000; n = n < 70 ? n + 1 : n == 70 ? 1000 : 1001) {
        for (int dens = 0; dens <= 4; dens++) {
            uint32_t v[1000], want[1000];
            uint8_t keep[1000];
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                v[i] = (uint32_t)th_xorshift(&rng);
                keep[i] = (uint8_t)(th_xorshift(&rng) % 4 < (uint64_t)dens);
                if (keep[i]) want[k++] = v[i];
            }
            size_t got = hx_keep_u32(v, keep, n);
            CHECK_EQ_INT((int)got, (int)k);
            CHECK(memcmp(v, want, k * sizeof *v) == 0);
        }
    }
}

static void test_unpack_every_width(void) {
    static const size_t counts[] = {0, 1, 5, 8, 31, 32, 33, 64, 100, 1000, 4099};
    for (int w = 0; w <= 32; w++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n = counts[c];
            uint64_t *v = malloc((n + 1) * sizeof *v);
            for (size_t i = 0; i < n; i++) v[i] = rnd() & mask_bits(w);
            if (n) v[n - 1] = mask_bits(w); /* all ones at the very end */
            struct bytes b = {0};
            ref_pack(&b, v, n, w);
            uint8_t *in = exact_copy(b.p, b.len);
            uint32_t *out = malloc((n + 1) * sizeof *out);
            hx_unpack_u32(in, w, out, n);
            int ok = 1;
            for (size_t i = 0; i < n; i++) ok &= out[i] == (uint32_t)v[i];
            if (!ok) fprintf(stderr, "unpack mismatch w=%d n=%zu\n", w, n);
            CHECK(ok);
            free(v), free(b.p), free(in), free(out);
        }
    }
}

/* ---- RLE / bit-packed hybrid ------------------------------------------ */

/* Reference hybrid encoder. Splits the values into runs: where `runs` says
 * so a stretch of equal values becomes an RLE run, otherwise groups of 8 go
 * bit-packed (the last group padded with zeros). */
static void ref_rle_encode(struct bytes *b, const uint64_t *v, size_t n, int w, int literal_only) {
    size_t i = 0;
    const size_t vbytes = ((size_t)w + 7) / 8;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] == v[i]) j++;
        if (!literal_only && j - i >= 8) {
            put_uvarint(b, (uint64_t)(j - i) << 1);
            for (size_t k = 0; k < vbytes; k++) put_byte(b, (uint8_t)(v[i] >> (8 * k)));
            i = j;
            continue;
        }
        /* A literal run up to the next long repeat, in whole groups. */
        size_t end = i;
        while (end < n) {
            size_t r = end;
            while (r < n && v[r] == v[end]) r++;
            if (!literal_only && r - end >= 8 && end > i) break;
            end = r;
        }
        /* Only the final run may be padded: a literal run in the middle
         * takes whole groups, borrowing values from the run after it. */
        size_t count = end - i;
        if (end < n) count = (count + 7) / 8 * 8 < n - i ? (count + 7) / 8 * 8 : n - i;
        end = i + count;
        size_t groups = (count + 7) / 8;
        uint64_t *tmp = calloc(groups * 8, sizeof *tmp);
        memcpy(tmp, v + i, count * sizeof *tmp);
        put_uvarint(b, (uint64_t)groups << 1 | 1);
        ref_pack(b, tmp, groups * 8, w);
        free(tmp);
        i = end;
    }
}

static uint64_t *runny_values(size_t n, int w) {
    uint64_t *v = malloc((n + 1) * sizeof *v);
    size_t i = 0;
    while (i < n) {
        size_t longer = rnd() % 4 == 0;
        size_t len = 1 + rnd() % (longer ? 300 : 12);
        uint64_t x = rnd() & mask_bits(w);
        int same = rnd() % 2;
        for (size_t k = 0; k < len && i < n; k++, i++) v[i] = same ? x : rnd() & mask_bits(w);
    }
    return v;
}

static void test_rle_roundtrip(void) {
    static const size_t counts[] = {1, 7, 8, 9, 100, 1000, 5000};
    for (int w = 0; w <= 32; w++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n = counts[c];
            for (int literal_only = 0; literal_only < 2; literal_only++) {
                uint64_t *v = runny_values(n, w);
                struct bytes b = {0};
                ref_rle_encode(&b, v, n, w, literal_only);
                uint8_t *in = exact_copy(b.p, b.len);
                uint32_t *out = malloc(n * sizeof *out);
                size_t consumed = 0;
                CHECK_EQ_INT(hx_rle_decode_u32(in, b.len, w, out, n, &consumed), HOIST_OK);
                CHECK_EQ_INT(consumed, b.len);
                int ok = 1;
                for (size_t i = 0; i < n; i++) ok &= out[i] == (uint32_t)v[i];
                if (!ok) fprintf(stderr, "rle u32 mismatch w=%d n=%zu\n", w, n);
                CHECK(ok);
                if (w <= 16) {
                    uint16_t *o16 = malloc(n * sizeof *o16);
                    CHECK_EQ_INT(hx_rle_decode_u16(in, b.len, w, o16, n, &consumed), HOIST_OK);
                    CHECK_EQ_INT(consumed, b.len);
                    ok = 1;
                    for (size_t i = 0; i < n; i++) ok &= o16[i] == (uint16_t)v[i];
                    CHECK(ok);
                    free(o16);
                }
                /* Streaming reader in random chunk sizes; it may also read
                 * the zero padding of the last group, so compare n only. */
                struct hx_rle_reader r;
                hx_rle_reader_init(&r, in, b.len, w);
                memset(out, 0xAB, n * sizeof *out);
                size_t got = 0;
                while (got < n) {
                    size_t want = 1 + rnd() % 70;
                    if (want > n - got) want = n - got;
                    int64_t k = hx_rle_reader_next(&r, out + got, want);
                    CHECK(k > 0);
                    if (k <= 0) break;
                    got += (size_t)k;
                }
                ok = got == n;
                for (size_t i = 0; i < got && i < n; i++) ok &= out[i] == (uint32_t)v[i];
                if (!ok) fprintf(stderr, "rle reader mismatch w=%d n=%zu\n", w, n);
                CHECK(ok);
                free(v), free(b.p), free(in), free(out);
            }
        }
    }
}

static void test_rle_boundaries(void) {
    /* One RLE run of 1000 (2-byte varint header) read only partly. */
    struct bytes b = {0};
    put_uvarint(&b, 1000 << 1);
    put_byte(&b, 5);
    uint32_t out[1200];
    size_t consumed = 0;
    CHECK_EQ_INT(hx_rle_decode_u32(b.p, b.len, 3, out, 10, &consumed), HOIST_OK);
    CHECK_EQ_INT(out[9], 5);
    CHECK_EQ_INT(consumed, 3);
    /* Asking for more than the data holds is corrupt. */
    CHECK_EQ_INT(hx_rle_decode_u32(b.p, b.len, 3, out, 1001, NULL), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(last_msg(), "1000 of 1001");
    /* n = 0 needs no data at all. */
    CHECK_EQ_INT(hx_rle_decode_u32(NULL, 0, 3, out, 0, &consumed), HOIST_OK);
    CHECK_EQ_INT(consumed, 0);
    /* Bit width 0: RLE runs carry no value bytes (bad_data/ARROW-GH-43605). */
    free(b.p);
    b = (struct bytes){0};
    put_uvarint(&b, 20 << 1);
    put_uvarint(&b, 1 << 1 | 1); /* one group of 8 zero-width values: no bytes */
    out[0] = 77;
    CHECK_EQ_INT(hx_rle_decode_u32(b.p, b.len, 0, out, 28, &consumed), HOIST_OK);
    CHECK_EQ_INT(out[0] | out[27], 0);
    CHECK_EQ_INT(consumed, 2);
    /* A final bit-packed run padded beyond n. */
    free(b.p);
    b = (struct bytes){0};
    uint64_t v[16] = {1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 0, 0, 0, 0, 0};
    put_uvarint(&b, 2 << 1 | 1);
    ref_pack(&b, v, 16, 3);
    uint8_t *in = exact_copy(b.p, b.len);
    CHECK_EQ_INT(hx_rle_decode_u32(in, b.len, 3, out, 11, &consumed), HOIST_OK);
    CHECK_EQ_INT(out[10], 3);
    CHECK_EQ_INT(consumed, b.len);
    /* A final run whose padding bytes are missing still yields the values its
     * bytes hold (Arrow reads such files). */
    CHECK_EQ_INT(hx_rle_decode_u32(in, b.len - 1, 3, out, 11, NULL), HOIST_OK);
    CHECK_EQ_INT(out[10], 3);
    CHECK_EQ_INT(hx_rle_decode_u32(in, 3, 3, out, 11, NULL), HOIST_ERR_PARQUET_CORRUPT);
    free(in);
    free(b.p);
    /* Bad widths and overlong headers. */
    uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0};
    CHECK_EQ_INT(hx_rle_decode_u32(junk, 8, 33, out, 1, NULL), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(last_msg(), "bit width 33");
    CHECK_EQ_INT(hx_rle_decode_u32(junk, 8, -1, out, 1, NULL), HOIST_ERR_PARQUET_CORRUPT);
    uint16_t o16[4];
    CHECK_EQ_INT(hx_rle_decode_u16(junk, 8, 17, o16, 1, NULL), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_EQ_INT(hx_rle_decode_u32(junk, 8, 4, out, 1, NULL), HOIST_ERR_PARQUET_CORRUPT);
    struct hx_rle_reader r;
    hx_rle_reader_init(&r, junk, 8, 4);
    CHECK_EQ_INT(hx_rle_reader_next(&r, out, 4), -1);
    hx_rle_reader_init(&r, junk, 0, 4);
    CHECK_EQ_INT(hx_rle_reader_next(&r, out, 4), 0);
    /* The reader exposes RLE runs so callers can fill them wholesale. */
    uint8_t run[] = {50 << 1, 1, 3 << 1, 0};
    hx_rle_reader_init(&r, run, sizeof run, 1);
    CHECK_EQ_INT(hx_rle_reader_next(&r, out, 1), 1);
    CHECK(!r.run_is_literal && r.run_value == 1 && r.run_left == 49);
    r.run_left = 0; /* the caller consumed the rest of the run itself */
    CHECK_EQ_INT(hx_rle_reader_next(&r, out, 10), 3);
    CHECK_EQ_INT(out[0] + out[1] + out[2], 0);
    CHECK_EQ_INT(hx_rle_reader_next(&r, out, 10), 0);
}

/* Every prefix of a valid stream must either decode the same values or be
 * rejected as corrupt; ASan checks nothing past the prefix is read. */
static void test_rle_truncation(void) {
    for (int w = 0; w <= 32; w += (w < 4 ? 1 : 5)) {
        size_t n = 300;
        uint64_t *v = runny_values(n, w);
        struct bytes b = {0};
        ref_rle_encode(&b, v, n, w, 0);
        uint32_t *out = malloc(n * sizeof *out);
        for (size_t len = 0; len < b.len; len++) {
            uint8_t *in = exact_copy(b.p, len);
            hx_status st = hx_rle_decode_u32(in, len, w, out, n, NULL);
            if (st == HOIST_OK) {
                int ok = 1;
                for (size_t i = 0; i < n; i++) ok &= out[i] == (uint32_t)v[i];
                CHECK(ok);
            } else {
                CHECK_EQ_INT(st, HOIST_ERR_PARQUET_CORRUPT);
            }
            struct hx_rle_reader r;
            hx_rle_reader_init(&r, in, len, w);
            int64_t got = 0, k;
            while ((k = hx_rle_reader_next(&r, out, 64)) > 0) got += k;
            CHECK(k == 0 || k == -1);
            if (got > (int64_t)n + 7) fprintf(stderr, "w=%d len=%zu got=%lld\n", w, len, (long long)got);
            CHECK(got <= (int64_t)n + 7);
            free(in);
        }
        free(v), free(b.p), free(out);
    }
}

/* ---- DELTA_BINARY_PACKED ---------------------------------------------- */

static int bits_needed(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* Reference DELTA_BINARY_PACKED encoder over 64- or 32-bit wrapping
 * arithmetic. `width_override` >= 0 forces every miniblock to that width
 * (still correct as long as it is >= what the deltas need). */
static void ref_delta_encode(struct bytes *b, const int64_t *v, size_t n, int is32, size_t block, size_t mbs) {
    size_t per_mb = block / mbs;
    put_uvarint(b, block);
    put_uvarint(b, mbs);
    put_uvarint(b, n);
    put_zigzag(b, n ? v[0] : 0);
    size_t i = 1;
    while (i < n) {
        size_t cnt = n - i < block ? n - i : block;
        int64_t *d = calloc(block, sizeof *d);
        int64_t mind = INT64_MAX;
        for (size_t k = 0; k < cnt; k++) {
            if (is32)
                d[k] = (int32_t)((uint32_t)v[i + k] - (uint32_t)v[i + k - 1]);
            else
                d[k] = (int64_t)((uint64_t)v[i + k] - (uint64_t)v[i + k - 1]);
            if (d[k] < mind) mind = d[k];
        }
        put_zigzag(b, mind);
        size_t used_mbs = (cnt + per_mb - 1) / per_mb;
        int widths[1024];
        uint64_t *rel = calloc(block, sizeof *rel);
        for (size_t m = 0; m < mbs; m++) {
            uint64_t mx = 0;
            for (size_t k = m * per_mb; k < (m + 1) * per_mb && k < cnt; k++) {
                rel[k] = is32 ? (uint32_t)((uint32_t)d[k] - (uint32_t)mind) : (uint64_t)d[k] - (uint64_t)mind;
                if (rel[k] > mx) mx = rel[k];
            }
            widths[m] = m < used_mbs ? bits_needed(mx) : 0xEE; /* unused: arbitrary */
            put_byte(b, (uint8_t)widths[m]);
        }
        for (size_t m = 0; m < used_mbs; m++) ref_pack(b, rel + m * per_mb, per_mb, widths[m]);
        free(d);
        free(rel);
        i += cnt;
    }
}

/* Values whose deltas within each miniblock span exactly w bits. */
static int64_t *delta_values(size_t n, int w, int is32) {
    int64_t *v = malloc((n + 1) * sizeof *v);
    uint64_t cur = rnd();
    int64_t base = (int64_t)rnd() % 1000 - 500;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            uint64_t r = rnd() & mask_bits(w);
            if (i % 16 == 1) r = mask_bits(w);
            if (i % 16 == 2) r = 0;
            cur += (uint64_t)base + r;
        }
        v[i] = is32 ? (int64_t)(int32_t)(uint32_t)cur : (int64_t)cur;
    }
    return v;
}

static void check_delta(const int64_t *v, size_t n, int is32, size_t block, size_t mbs, const char *what) {
    struct bytes b = {0};
    ref_delta_encode(&b, v, n, is32, block, mbs);
    size_t enc_len = b.len;
    put(&b, "TAIL", 4); /* data that follows, as in DELTA_LENGTH_BYTE_ARRAY */
    uint8_t *in = exact_copy(b.p, b.len);
    size_t consumed = 0;
    int ok = 1;
    uint64_t total = 0;
    CHECK_EQ_INT(hx_delta_total_count(in, b.len, &total), HOIST_OK);
    CHECK_EQ_INT(total, n);
    if (is32) {
        int32_t *out = malloc((n + 1) * sizeof *out);
        CHECK_EQ_INT(hx_delta_decode_i32(in, b.len, out, n, &consumed), HOIST_OK);
        for (size_t i = 0; i < n; i++) ok &= out[i] == (int32_t)v[i];
        free(out);
    } else {
        int64_t *out = malloc((n + 1) * sizeof *out);
        CHECK_EQ_INT(hx_delta_decode_i64(in, b.len, out, n, &consumed), HOIST_OK);
        for (size_t i = 0; i < n; i++) ok &= out[i] == v[i];
        /* Fewer values than the stream holds. */
        if (n > 3) {
            CHECK_EQ_INT(hx_delta_decode_i64(in, b.len, out, n / 2, NULL), HOIST_OK);
            for (size_t i = 0; i < n / 2; i++) ok &= out[i] == v[i];
        }
        free(out);
    }
    if (!ok) fprintf(stderr, "delta mismatch: %s n=%zu is32=%d\n", what, n, is32);
    CHECK(ok);
    CHECK_EQ_INT(consumed, enc_len);
    free(in);
    free(b.p);
}

/* A run value with bits above the bit width is corrupt in every decoder
 * (the dictionary paths skip range checks on the strength of it). */
static void test_rle_run_value_wider_than_width(void) {
    /* header 5 << 1 = RLE run of 5; value 0x1ff in 2 bytes at bit width 9 fits,
     * 0x3ff does not; at width 3 one byte 0x08 does not. */
    const uint8_t fits9[] = {10, 0xff, 0x01}, wide9[] = {10, 0xff, 0x03}, wide3[] = {10, 0x08};
    uint32_t out[5];
    uint16_t out16[5];
    CHECK_EQ_INT(hx_rle_decode_u32(fits9, sizeof fits9, 9, out, 5, NULL), HOIST_OK);
    CHECK_EQ_INT((int)out[4], 0x1ff);
    CHECK_EQ_INT(hx_rle_decode_u32(wide9, sizeof wide9, 9, out, 5, NULL), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "does not fit in bit width 9");
    CHECK_EQ_INT(hx_rle_decode_u32(wide3, sizeof wide3, 3, out, 5, NULL), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_EQ_INT(hx_rle_decode_u16(wide3, sizeof wide3, 3, out16, 5, NULL), HOIST_ERR_PARQUET_CORRUPT);
    struct hx_rle_reader r;
    hx_rle_reader_init(&r, wide9, sizeof wide9, 9);
    CHECK(hx_rle_reader_next(&r, out, 5) == -1);
    hx_rle_reader_init(&r, fits9, sizeof fits9, 9);
    CHECK(hx_rle_reader_next(&r, out, 5) == 5);
}

static void test_delta_every_width(void) {
    static const size_t counts[] = {0, 1, 2, 31, 32, 33, 128, 129, 300, 1025};
    for (int is32 = 0; is32 < 2; is32++) {
        for (int w = 0; w <= (is32 ? 32 : 64); w++) {
            for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                int64_t *v = delta_values(counts[c], w, is32);
                check_delta(v, counts[c], is32, 128, 4, "128/4");
                check_delta(v, counts[c], is32, 256, 2, "256/2");
                check_delta(v, counts[c], is32, 128, 1, "128/1");
                free(v);
            }
        }
    }
    /* Extremes wrap: INT64_MIN/MAX alternate (width-64 deltas). */
    int64_t ext[] = {INT64_MIN, INT64_MAX, 0, INT64_MIN, -1, INT64_MAX, 1, 7};
    check_delta(ext, 8, 0, 128, 4, "extremes");
    int64_t ext32[] = {INT32_MIN, INT32_MAX, 0, INT32_MIN, -1, INT32_MAX, 1, 7};
    check_delta(ext32, 8, 1, 128, 4, "extremes32");
}

static void test_delta_corrupt(void) {
    int64_t *v = delta_values(700, 13, 0);
    struct bytes b = {0};
    ref_delta_encode(&b, v, 700, 0, 128, 4);
    int64_t *out = malloc(701 * sizeof *out);
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *in = exact_copy(b.p, len);
        hx_status st = hx_delta_decode_i64(in, len, out, 700, NULL);
        if (st == HOIST_OK) {
            int ok = 1;
            for (size_t i = 0; i < 700; i++) ok &= out[i] == v[i];
            CHECK(ok);
        } else {
            CHECK_EQ_INT(st, HOIST_ERR_PARQUET_CORRUPT);
        }
        free(in);
    }
    /* More values than the stream holds. */
    CHECK_EQ_INT(hx_delta_decode_i64(b.p, b.len, out, 701, NULL), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(last_msg(), "700 values");
    free(b.p);
    free(v);

    struct {
        uint64_t block, mbs;
        const char *msg;
    } bad[] = {{100, 4, "multiple of 128"}, {0, 1, "multiple of 128"}, {128, 0, "miniblocks"},
               {128, 3, "miniblocks"},      {128, 8, "miniblocks"},    {1ull << 40, 1, "multiple of 128"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        b = (struct bytes){0};
        put_uvarint(&b, bad[k].block);
        put_uvarint(&b, bad[k].mbs);
        put_uvarint(&b, 5);
        put_zigzag(&b, 1);
        uint64_t total;
        CHECK_EQ_INT(hx_delta_total_count(b.p, b.len, &total), HOIST_ERR_PARQUET_CORRUPT);
        CHECK_EQ_INT(hx_delta_decode_i64(b.p, b.len, out, 5, NULL), HOIST_ERR_PARQUET_CORRUPT);
        CHECK_CONTAINS(last_msg(), bad[k].msg);
        free(b.p);
    }
    /* Miniblock widths beyond the type. */
    for (int is32 = 0; is32 < 2; is32++) {
        b = (struct bytes){0};
        put_uvarint(&b, 128);
        put_uvarint(&b, 4);
        put_uvarint(&b, 3);
        put_zigzag(&b, 1);
        put_zigzag(&b, 0);
        uint8_t widths[4] = {is32 ? 33 : 65, 0, 0, 0};
        put(&b, widths, 4);
        for (int k = 0; k < 32 * 9; k++) put_byte(&b, 0);
        CHECK_EQ_INT(is32 ? hx_delta_decode_i32(b.p, b.len, (int32_t *)out, 3, NULL)
                          : hx_delta_decode_i64(b.p, b.len, out, 3, NULL),
                     HOIST_ERR_PARQUET_CORRUPT);
        CHECK_CONTAINS(last_msg(), "bit width");
        free(b.p);
    }
    /* Overlong varint in the header. */
    uint8_t ov[12];
    memset(ov, 0xff, sizeof ov);
    uint64_t total;
    CHECK_EQ_INT(hx_delta_total_count(ov, sizeof ov, &total), HOIST_ERR_PARQUET_CORRUPT);
    free(out);
}

/* ---- BYTE_STREAM_SPLIT ------------------------------------------------ */

static void test_bss(void) {
    static const size_t widths[] = {1, 2, 3, 4, 5, 8, 12, 16};
    static const size_t counts[] = {0, 1, 15, 16, 17, 33, 1000};
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            size_t w = widths[wi], n = counts[ci];
            uint8_t *vals = malloc(n * w + 1), *enc = malloc(n * w + 1), *out = malloc(n * w + 1);
            for (size_t i = 0; i < n * w; i++) vals[i] = (uint8_t)rnd();
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < w; k++) enc[k * n + i] = vals[i * w + k];
            uint8_t *in = exact_copy(enc, n * w);
            CHECK_EQ_INT(hx_byte_stream_split_decode(in, n * w, w, n, out), HOIST_OK);
            CHECK(n == 0 || memcmp(out, vals, n * w) == 0);
            if (n) CHECK_EQ_INT(hx_byte_stream_split_decode(in, n * w - 1, w, n, out), HOIST_ERR_PARQUET_CORRUPT);
            free(vals), free(enc), free(out), free(in);
        }
    }
    uint8_t x[4] = {0};
    CHECK_EQ_INT(hx_byte_stream_split_decode(x, 4, 0, 4, x), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_EQ_INT(hx_byte_stream_split_decode(x, 4, SIZE_MAX / 2, 4, x), HOIST_ERR_PARQUET_CORRUPT);
}

/* ---- dictionary gather ------------------------------------------------ */

static void test_dict_gather(void) {
    static const size_t widths[] = {1, 2, 3, 4, 8, 12, 16, 32};
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        size_t w = widths[wi], dict_n = 37, n = 1001;
        uint8_t *dict = malloc(dict_n * w);
        for (size_t i = 0; i < dict_n * w; i++) dict[i] = (uint8_t)rnd();
        uint8_t *in = exact_copy(dict, dict_n * w);
        uint32_t *idx = malloc(n * sizeof *idx);
        for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)(rnd() % dict_n);
        idx[n - 1] = (uint32_t)dict_n - 1;
        uint8_t *out = malloc(n * w);
        CHECK_EQ_INT(hx_dict_gather(in, dict_n, w, idx, n, out), HOIST_OK);
        int ok = 1;
        for (size_t i = 0; i < n; i++) ok &= memcmp(out + i * w, dict + idx[i] * w, w) == 0;
        CHECK(ok);
        idx[500] = (uint32_t)dict_n;
        CHECK_EQ_INT(hx_dict_gather(in, dict_n, w, idx, n, out), HOIST_ERR_PARQUET_CORRUPT);
        CHECK_CONTAINS(last_msg(), "index 37 at value 500");
        CHECK_EQ_INT(hx_dict_gather(in, 0, w, idx, 0, out), HOIST_OK);
        CHECK_EQ_INT(hx_dict_gather(NULL, 0, w, idx, 1, out), HOIST_ERR_PARQUET_CORRUPT);
        free(dict), free(in), free(idx), free(out);
    }
}

/* The fused index decode + gather must equal hx_rle_decode_u32 followed by
 * a plain gather, for every bit width (including widths whose indices cannot
 * exceed the dictionary, where it skips the check), run mixes, widths with
 * and without a specialised copy, and reject any out-of-range index whether
 * it sits in a bit-packed or an RLE run. */
static void test_dict_decode_fixed(void) {
    static const size_t widths[] = {1, 2, 3, 4, 8, 12, 16};
    static const size_t counts[] = {1, 9, 255, 256, 257, 1000, 3000};
    for (int bw = 0; bw <= 20; bw++) {
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
                size_t w = widths[wi], n = counts[ci];
                /* dictionary exactly 2^bw entries (check elided) or fewer */
                size_t full = (size_t)1 << bw, dict_n = (ci & 1) ? full : full - full / 3;
                if (dict_n == 0) dict_n = 1;
                uint64_t *v = runny_values(n, bw);
                for (size_t i = 0; i < n; i++) v[i] %= dict_n;
                uint8_t *dict = malloc(dict_n * w);
                for (size_t i = 0; i < dict_n * w; i++) dict[i] = (uint8_t)rnd();
                for (int literal_only = 0; literal_only < 2; literal_only++) {
                    struct bytes b = {0};
                    ref_rle_encode(&b, v, n, bw, literal_only);
                    uint8_t *in = exact_copy(b.p, b.len);
                    uint8_t *out = malloc(n * w);
                    CHECK_EQ_INT(hx_dict_decode_fixed(dict, dict_n, w, in, b.len, bw, n, out), HOIST_OK);
                    int ok = 1;
                    for (size_t i = 0; i < n; i++) ok &= memcmp(out + i * w, dict + v[i] * w, w) == 0;
                    if (!ok) fprintf(stderr, "dict decode mismatch bw=%d w=%zu n=%zu\n", bw, w, n);
                    CHECK(ok);
                    /* fewer values than asked for */
                    uint8_t *big = malloc((n + 300) * w);
                    CHECK_EQ_INT(hx_dict_decode_fixed(dict, dict_n, w, in, b.len, bw, n + 300, big),
                                 HOIST_ERR_PARQUET_CORRUPT);
                    free(big), free(out), free(in), free(b.p);
                }
                if (bw > 0 && dict_n < full) {
                    /* one index past the end, in a literal run and in an RLE run */
                    uint64_t *bad = malloc(n * sizeof *bad);
                    for (int rle = 0; rle < 2; rle++) {
                        memcpy(bad, v, n * sizeof *bad);
                        size_t at = n / 2;
                        size_t len = rle ? (n - at < 20 ? n - at : 20) : 1;
                        for (size_t i = at; i < at + len; i++) bad[i] = dict_n;
                        struct bytes b = {0};
                        ref_rle_encode(&b, bad, n, bw, !rle);
                        uint8_t *out = malloc(n * w);
                        CHECK_EQ_INT(hx_dict_decode_fixed(dict, dict_n, w, b.p, b.len, bw, n, out),
                                     HOIST_ERR_PARQUET_CORRUPT);
                        CHECK_CONTAINS(last_msg(), "out of range");
                        if (!rle) {
                            char want[64];
                            snprintf(want, sizeof want, "index %zu at value %zu", dict_n, at);
                            CHECK_CONTAINS(last_msg(), want);
                        }
                        free(out), free(b.p);
                    }
                    free(bad);
                }
                free(dict), free(v);
            }
        }
    }
    uint8_t junk[8] = {0x03, 0xff, 0xff, 0xff, 0xff, 0, 0, 0}, o[64];
    CHECK_EQ_INT(hx_dict_decode_fixed(junk, 2, 4, junk, 8, 33, 1, o), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_EQ_INT(hx_dict_decode_fixed(junk, 2, 4, junk, 0, 1, 1, o), HOIST_ERR_PARQUET_CORRUPT);
    /* empty dictionary: any index is out of range, even from a 0-bit run */
    uint8_t zero_run[2] = {0x10, 0x00};
    CHECK_EQ_INT(hx_dict_decode_fixed(junk, 0, 4, zero_run, 2, 0, 8, o), HOIST_ERR_PARQUET_CORRUPT);
}

/* hx_copy_bits against a bit-at-a-time copy: every source and destination
 * bit offset 0..15, lengths around the byte and 64-bit paths' edges, the
 * source an exact heap copy of the bytes the bits need (ASan catches an
 * overread), and destination bits outside the range left untouched. */
static void test_copy_bits(void) {
    static const size_t lens[] = {0, 1, 7, 8, 9, 63, 64, 71, 72, 73, 130, 1000};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        for (unsigned so = 0; so < 16; so++) {
            for (unsigned doff = 0; doff < 16; doff++) {
                size_t n = lens[li];
                size_t sbytes = (so + n + 7) / 8;
                uint8_t *srcbuf = malloc(sbytes + 1);
                for (size_t i = 0; i < sbytes + 1; i++) srcbuf[i] = (uint8_t)rnd();
                uint8_t *src = exact_copy(srcbuf, sbytes);
                size_t dbytes = (doff + n + 7) / 8 + 2;
                uint8_t *dst = malloc(dbytes), *want = malloc(dbytes);
                for (size_t i = 0; i < dbytes; i++) dst[i] = want[i] = (uint8_t)rnd();
                size_t ones = 0;
                for (size_t i = 0; i < n; i++) {
                    unsigned v = (src[(so + i) >> 3] >> ((so + i) & 7)) & 1;
                    size_t d = doff + i;
                    want[d >> 3] = (uint8_t)((want[d >> 3] & ~(1u << (d & 7))) | (v << (d & 7)));
                    ones += v;
                }
                CHECK_EQ_INT(hx_copy_bits(dst, doff, src, so, n), ones);
                if (memcmp(dst, want, dbytes) != 0) {
                    fprintf(stderr, "copy_bits mismatch n=%zu so=%u do=%u\n", n, so, doff);
                    CHECK(0);
                }
                free(srcbuf), free(src), free(dst), free(want);
            }
        }
    }
}

static void test_crc32(void) {
    CHECK_EQ_INT(hx_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(hx_crc32(NULL, 0), 0);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rnd();
    CHECK_EQ_INT(hx_crc32(buf, sizeof buf), crc32(0, buf, sizeof buf));
}

/* ---- codecs ----------------------------------------------------------- */

static uint8_t *sample_data(size_t n) {
    uint8_t *p = malloc(n);
    /* Compressible but not trivial: short repeats over a small alphabet. */
    for (size_t i = 0; i < n; i++) p[i] = (i % 7 == 0) ? (uint8_t)rnd() : (uint8_t)("parquet"[i % 7] + (i / 4096));
    return p;
}

static void put_be32(struct bytes *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static void compress_with(enum hx_pq_codec codec, const uint8_t *src, size_t n, struct bytes *b, int variant) {
    b->len = 0;
    switch (codec) {
    case HX_PQ_UNCOMPRESSED: put(b, src, n); break;
    case HX_PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        char *tmp = malloc(cap);
        CHECK(snappy_compress((const char *)src, n, tmp, &cap) == SNAPPY_OK);
        put(b, tmp, cap);
        free(tmp);
        break;
    }
    case HX_PQ_GZIP: {
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
        size_t cap = libdeflate_gzip_compress_bound(c, n) + libdeflate_zlib_compress_bound(c, n);
        uint8_t *tmp = malloc(cap);
        if (variant == 2) { /* a zlib stream, which Arrow also accepts */
            size_t z = libdeflate_zlib_compress(c, src, n, tmp, cap);
            put(b, tmp, z);
        } else if (variant == 1) { /* two concatenated members */
            size_t half = n / 3;
            size_t z1 = libdeflate_gzip_compress(c, src, half, tmp, cap);
            put(b, tmp, z1);
            size_t z2 = libdeflate_gzip_compress(c, src + half, n - half, tmp, cap);
            put(b, tmp, z2);
        } else {
            size_t z = libdeflate_gzip_compress(c, src, n, tmp, cap);
            put(b, tmp, z);
        }
        libdeflate_free_compressor(c);
        free(tmp);
        break;
    }
    case HX_PQ_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        uint8_t *tmp = malloc(cap);
        size_t z = ZSTD_compress(tmp, cap, src, n, 3);
        CHECK(!ZSTD_isError(z));
        put(b, tmp, z);
        free(tmp);
        break;
    }
    case HX_PQ_BROTLI: {
        size_t cap = BrotliEncoderMaxCompressedSize(n);
        uint8_t *tmp = malloc(cap);
        CHECK(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, n, src, &cap, tmp));
        put(b, tmp, cap);
        free(tmp);
        break;
    }
    case HX_PQ_LZ4_RAW:
    case HX_PQ_LZ4: {
        int cap = LZ4_compressBound((int)n);
        char *tmp = malloc((size_t)cap);
        if (codec == HX_PQ_LZ4 && variant == 1) {
            /* Hadoop framing, several blocks as parquet-mr writes them. */
            size_t blk = 16384;
            for (size_t off = 0; off < n; off += blk) {
                size_t len = n - off < blk ? n - off : blk;
                int z = LZ4_compress_default((const char *)src + off, tmp, (int)len, cap);
                put_be32(b, (uint32_t)len);
                put_be32(b, (uint32_t)z);
                put(b, tmp, (size_t)z);
            }
        } else {
            int z = LZ4_compress_default((const char *)src, tmp, (int)n, cap);
            put(b, tmp, (size_t)z);
        }
        free(tmp);
        break;
    }
    case HX_PQ_LZO: break;
    }
}

static void test_codecs(void) {
    struct {
        enum hx_pq_codec codec;
        int variant;
        const char *name;
    } cases[] = {{HX_PQ_UNCOMPRESSED, 0, "uncompressed"},
                 {HX_PQ_SNAPPY, 0, "snappy"},
                 {HX_PQ_GZIP, 0, "gzip"},
                 {HX_PQ_GZIP, 1, "gzip 2 members"},
                 {HX_PQ_GZIP, 2, "zlib"},
                 {HX_PQ_ZSTD, 0, "zstd"},
                 {HX_PQ_BROTLI, 0, "brotli"},
                 {HX_PQ_LZ4_RAW, 0, "lz4_raw"},
                 {HX_PQ_LZ4, 1, "lz4 hadoop"},
                 {HX_PQ_LZ4, 0, "lz4 raw block"}};
    static const size_t sizes[] = {1, 100, 70000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        uint8_t *src = sample_data(n);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            struct bytes b = {0};
            compress_with(cases[k].codec, src, n, &b, cases[k].variant);
            uint8_t *in = exact_copy(b.p, b.len);
            uint8_t *dst = malloc(n);
            hx_status st = hx_pq_decompress(cases[k].codec, in, b.len, dst, n);
            if (st != HOIST_OK) fprintf(stderr, "%s n=%zu: %s\n", cases[k].name, n, last_msg());
            CHECK_EQ_INT(st, HOIST_OK);
            CHECK(memcmp(dst, src, n) == 0);
            free(dst);
            /* One byte short and one byte long: corrupt, and nothing is
             * written past the (exactly sized) buffer. */
            dst = malloc(n - 1 ? n - 1 : 1);
            st = hx_pq_decompress(cases[k].codec, in, b.len, dst, n - 1);
            if (st != HOIST_ERR_PARQUET_CORRUPT) fprintf(stderr, "%s n=%zu short: %d\n", cases[k].name, n, st);
            CHECK_EQ_INT(st, HOIST_ERR_PARQUET_CORRUPT);
            free(dst);
            dst = malloc(n + 1);
            st = hx_pq_decompress(cases[k].codec, in, b.len, dst, n + 1);
            if (st != HOIST_ERR_PARQUET_CORRUPT) fprintf(stderr, "%s n=%zu long: %d\n", cases[k].name, n, st);
            CHECK_EQ_INT(st, HOIST_ERR_PARQUET_CORRUPT);
            /* Truncated input never succeeds (except for codecs that
             * cannot tell, which the length check above still covers). */
            if (cases[k].codec != HX_PQ_UNCOMPRESSED && b.len > 1) {
                uint8_t *cut = exact_copy(b.p, b.len - 1);
                st = hx_pq_decompress(cases[k].codec, cut, b.len - 1, dst, n);
                CHECK_EQ_INT(st, HOIST_ERR_PARQUET_CORRUPT);
                free(cut);
            }
            free(dst);
            free(in);
            free(b.p);
        }
        free(src);
    }
    uint8_t x = 0;
    CHECK_EQ_INT(hx_pq_decompress(HX_PQ_LZO, &x, 1, &x, 1), HOIST_ERR_PARQUET_UNSUPPORTED);
    CHECK_CONTAINS(last_msg(), "LZO");
    CHECK_EQ_INT(hx_pq_decompress((enum hx_pq_codec)42, &x, 1, &x, 1), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_EQ_INT(hx_pq_decompress(HX_PQ_ZSTD, NULL, 0, NULL, 0), HOIST_OK);
    CHECK_EQ_INT(hx_pq_decompress(HX_PQ_UNCOMPRESSED, &x, 1, &x, 0), HOIST_ERR_PARQUET_CORRUPT);
    uint8_t garbage[64];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)rnd();
    uint8_t out[256];
    for (int c = 1; c <= 7; c++) {
        if (c == HX_PQ_LZO) continue;
        CHECK_EQ_INT(hx_pq_decompress((enum hx_pq_codec)c, garbage, sizeof garbage, out, sizeof out),
                     HOIST_ERR_PARQUET_CORRUPT);
    }
}

/* Decoders keep per-thread state (the zstd context): concurrent use must
 * agree with the data, and threads that exit must not leak it (LSan). */
struct codec_job {
    const uint8_t *src, *z;
    size_t n, zlen;
    int ok;
};
static void *codec_thread(void *arg) {
    struct codec_job *j = arg;
    uint8_t *dst = malloc(j->n);
    j->ok = 1;
    for (int k = 0; k < 50; k++)
        j->ok &= hx_pq_decompress(HX_PQ_ZSTD, j->z, j->zlen, dst, j->n) == HOIST_OK && memcmp(dst, j->src, j->n) == 0;
    free(dst);
    return NULL;
}
static void test_codecs_threads(void) {
    size_t n = 50000;
    uint8_t *src = sample_data(n);
    struct bytes b = {0};
    compress_with(HX_PQ_ZSTD, src, n, &b, 0);
    pthread_t t[4];
    struct codec_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct codec_job){src, b.p, n, b.len, 0};
        CHECK(pthread_create(&t[i], NULL, codec_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(jobs[i].ok);
    }
    free(src);
    free(b.p);
}

int main(void) {
    RUN(test_keep_u32);
    RUN(test_unpack_every_width);
    RUN(test_rle_roundtrip);
    RUN(test_rle_boundaries);
    RUN(test_rle_truncation);
    RUN(test_rle_run_value_wider_than_width);
    RUN(test_delta_every_width);
    RUN(test_delta_corrupt);
    RUN(test_bss);
    RUN(test_dict_gather);
    RUN(test_dict_decode_fixed);
    RUN(test_copy_bits);
    RUN(test_crc32);
    RUN(test_codecs);
    RUN(test_codecs_threads);
    TEST_MAIN_END();
}
