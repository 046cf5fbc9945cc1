/* Tests for the RLE/bit-packed hybrid encoder (src/parquet/pq_enc_rle.c).
 *
 * The encoder's run search (SSE2 where the target has it, and the portable
 * one) and its per-width packing kernels are held to a deliberately naive
 * reference written here: maximal runs walked one value at a time, a run of
 * 8 or more aligned to the literal's groups, values packed bit by bit. Every
 * bit width, input lengths around the 8-value groups, the 504-value literal
 * limit and the search's 64-value steps, and run lengths from 1 to past 8. */
#include "pq_write_internal.h"
#include "test_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_bits(uint8_t *p, size_t *bit, uint32_t x, int w) {
    for (int b = 0; b < w; b++, (*bit)++)
        if (x >> b & 1) p[*bit / 8] |= (uint8_t)(1u << (*bit % 8));
}

static void ref_literal(const uint32_t *v, size_t n, int w, struct hx_buf *out) {
    while (n > 0) {
        size_t take = n < 504 ? n : 504, groups = (take + 7) / 8;
        uint8_t *p = calloc(1 + groups * (size_t)w, 1);
        p[0] = (uint8_t)(groups << 1 | 1);
        size_t bit = 8;
        for (size_t i = 0; i < groups * 8; i++) put_bits(p, &bit, i < take ? v[i] : 0, w);
        CHECK(hx_buf_append(out, p, 1 + groups * (size_t)w) == HOIST_OK);
        free(p);
        v += take;
        n -= take;
    }
}

static void ref_run(uint32_t x, size_t count, int w, struct hx_buf *out) {
    uint8_t b[16];
    size_t h = 0;
    uint64_t hdr = (uint64_t)count << 1;
    do {
        b[h++] = (uint8_t)((hdr & 0x7f) | (hdr > 0x7f ? 0x80 : 0));
        hdr >>= 7;
    } while (hdr);
    for (int i = 0; i < (w + 7) / 8; i++) b[h++] = (uint8_t)(x >> (8 * i));
    CHECK(hx_buf_append(out, b, h) == HOIST_OK);
}

static void ref_encode(const uint32_t *v, size_t n, int w, struct hx_buf *out) {
    size_t i = 0, lit = 0;
    while (i < n) {
        size_t run = 1;
        while (i + run < n && v[i + run] == v[i]) run++;
        size_t fill = (8 - (i - lit) % 8) % 8;
        if (run >= 8 && run - fill >= 8) {
            ref_literal(v + lit, i + fill - lit, w, out);
            ref_run(v[i], run - fill, w, out);
            lit = i + run;
        }
        i += run;
    }
    ref_literal(v + lit, n - lit, w, out);
}

static uint64_t rng = 0x243F6A8885A308D3ull;

/* n values of w bits in runs of 1 .. max_run (max_run 1: independent values). */
static void fill(uint32_t *v, size_t n, int w, size_t max_run) {
    uint32_t mask = w == 32 ? 0xffffffffu : (1u << w) - 1;
    for (size_t i = 0; i < n;) {
        uint32_t x = (uint32_t)th_xorshift(&rng) & mask;
        size_t run = 1 + (size_t)(th_xorshift(&rng) % max_run);
        for (size_t k = 0; k < run && i < n; k++) v[i++] = x;
    }
}

static int same(const struct hx_buf *a, const struct hx_buf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void check_one(const uint32_t *v32, size_t n, int w) {
    struct hx_buf ref, a, b, c, d;
    hx_buf_init(&ref), hx_buf_init(&a), hx_buf_init(&b), hx_buf_init(&c), hx_buf_init(&d);
    ref_encode(v32, n, w, &ref);
    /* exact-size inputs on the heap: ASan sees any read past the end */
    uint32_t *x32 = malloc((n ? n : 1) * sizeof *x32);
    memcpy(x32, v32, n * sizeof *x32);
    CHECK(hx_rle_encode_u32(x32, n, w, &a) == HOIST_OK);
    CHECK(hx_rle_encode_u32_portable(x32, n, w, &b) == HOIST_OK);
    int ok = same(&ref, &a) && same(&ref, &b);
    if (w <= 16) {
        uint16_t *x16 = malloc((n ? n : 1) * sizeof *x16);
        for (size_t i = 0; i < n; i++) x16[i] = (uint16_t)v32[i];
        CHECK(hx_rle_encode_u16(x16, n, w, &c) == HOIST_OK);
        CHECK(hx_rle_encode_u16_portable(x16, n, w, &d) == HOIST_OK);
        ok = ok && same(&ref, &c) && same(&ref, &d);
        free(x16);
    }
    CHECK(ok);
    if (!ok) fprintf(stderr, "  differs: n=%zu w=%d\n", n, w);
    free(x32);
    hx_buf_reset(&ref), hx_buf_reset(&a), hx_buf_reset(&b), hx_buf_reset(&c), hx_buf_reset(&d);
}

static void test_matches_reference_all_widths(void) {
    static const size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 57, 63, 64, 65, 66, 121, 503, 504, 505, 1000, 5003};
    static const size_t runs[] = {1, 2, 7, 8, 9, 12, 16, 40, 300};
    uint32_t *v = malloc(5003 * sizeof *v);
    for (int w = 0; w <= 32; w++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
                fill(v, sizes[s], w, runs[r]);
                check_one(v, sizes[s], w);
            }
    free(v);
}

/* Runs of exactly 8 +- 1 placed at every offset of a group and of the
 * search's 64-value step, between independent values. */
static void test_run_edges(void) {
    uint32_t v[300];
    for (int w = 1; w <= 32; w += 5)
        for (size_t at = 0; at < 80; at++)
            for (size_t len = 7; len <= 17; len++) {
                fill(v, 300, w < 2 ? 2 : w, 1);
                for (size_t i = 0; i < 300; i++) v[i] = (uint32_t)(i % 2 ? 1 : 0) | (v[i] & ~1u); /* no runs of 2 */
                if (w == 1)
                    for (size_t i = 0; i < 300; i++) v[i] = (uint32_t)(i % 2);
                for (size_t k = 0; k < len; k++) v[at + k] = v[at];
                check_one(v, 300, w < 2 ? 1 : w);
                check_one(v, at + len, w < 2 ? 1 : w);
            }
}

int main(void) {
    RUN(test_matches_reference_all_widths);
    RUN(test_run_edges);
    TEST_MAIN_END();
}
