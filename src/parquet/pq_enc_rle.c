/*
 * pq_enc_rle.c — the RLE/bit-packed hybrid encoder (Encodings.md "Run Length
 * Encoding / Bit-Packing Hybrid") for levels and dictionary indices, and
 * PLAIN booleans. Run choice as Arrow C++ and arrow-rs make it: 8 or more
 * equal values are an RLE run (the break-even point at bit width 1), other
 * values go to bit-packed runs of whole groups of 8, at most 63 groups so
 * the run header stays one byte. Speed: the search for the next run of 8
 * compares 64 values a step (SSE2 where the target has it, else a portable
 * loop), and literal values are packed straight from the input, 8 at a
 * time by a kernel per bit width up to 16.
 */
#include "pq_write_internal.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
    MAX_LITERAL = 63 * 8,
    SLACK = 16, /* spare bytes past a bit-packed run: group kernels store 16 bytes, keep w */
    SCAN = 64   /* values compared per step of the run search */
};

int hx_bit_width(uint64_t max) { return max ? 64 - __builtin_clzll(max) : 0; }

static uint8_t *grow(struct hx_buf *out, size_t n, hx_status *st) {
    *st = hx_buf_reserve(out, n);
    if (*st != HOIST_OK) return NULL;
    uint8_t *p = (uint8_t *)out->data + out->len;
    out->len += n;
    return p;
}

/* ---- bit packing -------------------------------------------------------------- */

/* Eight values of w <= 16 bits are w bytes: built in two 64-bit words and
 * stored whole (16 bytes, of which the next group overwrites all but w).
 * Inlined per constant w, the shifts are immediates and the branches go. */
static inline __attribute__((always_inline)) void pack_group(const uint32_t *x, int w, uint8_t *p) {
    uint64_t lo = 0, hi = 0, mask = (1ull << w) - 1;
    for (int k = 0; k < 8; k++) {
        int s = k * w;
        uint64_t y = x[k] & mask;
        if (s < 64) {
            lo |= y << s;
            if (s + w > 64) hi |= y >> (64 - s);
        } else {
            hi |= y << (s - 64);
        }
    }
    memcpy(p, &lo, 8);
    memcpy(p + 8, &hi, 8);
}

/* Any width up to 32, 32 bits stored at a time: n * w / 8 bytes exactly. */
static void pack_any(const uint32_t *v, size_t n, int w, uint8_t *p) {
    uint64_t acc = 0;
    int bits = 0;
    uint64_t mask = w == 32 ? 0xffffffffull : (1ull << w) - 1;
    for (size_t i = 0; i < n; i++) {
        acc |= ((uint64_t)v[i] & mask) << bits;
        bits += w;
        if (bits >= 32) {
            uint32_t lo = (uint32_t)acc;
            memcpy(p, &lo, 4);
            p += 4;
            acc >>= 32;
            bits -= 32;
        }
    }
    for (; bits > 0; bits -= 8) {
        *p++ = (uint8_t)acc;
        acc >>= 8;
    }
}

#define PACK_GROUPS(T)                                                                                                 \
    static inline __attribute__((always_inline)) void pack_groups_##T(const T *v, size_t groups, int w, uint8_t *p) {  \
        for (size_t g = 0; g < groups; g++, v += 8, p += w) {                                                          \
            uint32_t x[8];                                                                                             \
            for (int k = 0; k < 8; k++) x[k] = v[k];                                                                   \
            pack_group(x, w, p);                                                                                       \
        }                                                                                                              \
    }
PACK_GROUPS(uint16_t)
PACK_GROUPS(uint32_t)

#define W16(T, F)                                                                                                      \
    F(T, 1)                                                                                                            \
    F(T, 2)                                                                                                            \
    F(T, 3)                                                                                                            \
    F(T, 4) F(T, 5) F(T, 6) F(T, 7) F(T, 8) F(T, 9) F(T, 10) F(T, 11) F(T, 12) F(T, 13) F(T, 14) F(T, 15) F(T, 16)
#define PACK_CASE(T, W)                                                                                                \
    case W: pack_groups_##T(v, groups, W, p); return;

/* Packs `groups` whole groups of 8 values LSB-first: groups * w bytes, and
 * up to SLACK bytes past them are scratch. */
#define PACK(T)                                                                                                        \
    static void pack_##T(const T *v, size_t groups, int w, uint8_t *p) {                                               \
        switch (w) {                                                                                                   \
        case 0: return; W16(T, PACK_CASE)                                                                              \
        default:                                                                                                       \
            for (size_t g = 0; g < groups; g++, v += 8, p += w) {                                                      \
                uint32_t x[8];                                                                                         \
                for (int k = 0; k < 8; k++) x[k] = v[k];                                                               \
                pack_any(x, 8, w, p);                                                                                  \
            }                                                                                                          \
        }                                                                                                              \
    }
PACK(uint16_t)
PACK(uint32_t)

/* Emits v[0, n) as bit-packed runs of at most MAX_LITERAL values; the last
 * group padded with zeros. */
#define EMIT_LITERAL(T)                                                                                                \
    static hx_status emit_literal_##T(const T *v, size_t n, int w, struct hx_buf *out) {                               \
        while (n > 0) {                                                                                                \
            size_t take = n < MAX_LITERAL ? n : MAX_LITERAL, groups = (take + 7) / 8, whole = take / 8;                \
            HX_TRY(hx_buf_reserve(out, 1 + groups * (size_t)w + SLACK));                                               \
            uint8_t *p = (uint8_t *)out->data + out->len;                                                              \
            p[0] = (uint8_t)((groups << 1) | 1);                                                                       \
            pack_##T(v, whole, w, p + 1);                                                                              \
            if (whole < groups) {                                                                                      \
                T last[8] = {0};                                                                                       \
                memcpy(last, v + whole * 8, (take - whole * 8) * sizeof *v);                                           \
                pack_##T(last, 1, w, p + 1 + whole * (size_t)w);                                                       \
            }                                                                                                          \
            out->len += 1 + groups * (size_t)w;                                                                        \
            v += take;                                                                                                 \
            n -= take;                                                                                                 \
        }                                                                                                              \
        return HOIST_OK;                                                                                               \
    }
EMIT_LITERAL(uint16_t)
EMIT_LITERAL(uint32_t)

static hx_status emit_run(uint32_t value, size_t count, int w, struct hx_buf *out) {
    hx_status st;
    uint8_t hdr[10];
    size_t h = hx_pqw_varint(hdr, (uint64_t)count << 1);
    size_t vb = ((size_t)w + 7) / 8;
    uint8_t *p = grow(out, h + vb, &st);
    if (!p) return st;
    memcpy(p, hdr, h);
    for (size_t i = 0; i < vb; i++) p[h + i] = (uint8_t)(value >> (8 * i));
    return HOIST_OK;
}

/* ---- finding runs ------------------------------------------------------------- */

/* Bit k set when v[k] == v[k + 1], for k < SCAN - 1 (v has SCAN values). */
static inline uint64_t eq_mask_scalar_uint16_t(const uint16_t *v) {
    uint64_t m = 0;
    for (int k = 0; k < SCAN - 1; k++) m |= (uint64_t)(v[k] == v[k + 1]) << k;
    return m;
}
static inline uint64_t eq_mask_scalar_uint32_t(const uint32_t *v) {
    uint64_t m = 0;
    for (int k = 0; k < SCAN - 1; k++) m |= (uint64_t)(v[k] == v[k + 1]) << k;
    return m;
}

#ifdef __SSE2__
/* The same with SSE2 (the x86-64 baseline): 8 or 4 compares per instruction;
 * the last lane compares v[SCAN - 1] with v[SCAN], so v has SCAN + 1 values,
 * and its bit is dropped. */
static inline uint64_t eq_mask_sse2_uint16_t(const uint16_t *v) {
    uint64_t m = 0;
    for (int k = 0; k < SCAN; k += 16) {
        __m128i a = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(const void *)(v + k)),
                                    _mm_loadu_si128((const __m128i *)(const void *)(v + k + 1)));
        __m128i b = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(const void *)(v + k + 8)),
                                    _mm_loadu_si128((const __m128i *)(const void *)(v + k + 9)));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_packs_epi16(a, b)) << k;
    }
    return m & ~(1ull << (SCAN - 1));
}
static inline uint64_t eq_mask_sse2_uint32_t(const uint32_t *v) {
    uint64_t m = 0;
    for (int k = 0; k < SCAN; k += 4) {
        __m128i a = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)(v + k)),
                                    _mm_loadu_si128((const __m128i *)(const void *)(v + k + 1)));
        m |= (uint64_t)(uint32_t)_mm_movemask_ps(_mm_castsi128_ps(a)) << k;
    }
    return m & ~(1ull << (SCAN - 1));
}
#endif

/* Bit k of an equality mask set when bits k..k+6 are: v[k, k + 8) equal. */
static inline uint64_t runs_of_8(uint64_t m) {
    m &= m >> 1;
    m &= m >> 2;
    return m & (m >> 3);
}

/* The first p >= i where 8 equal values start (v[p, p + 8) equal), or n.
 * Whole steps of SCAN + 1 values by the mask kernel (EQ), the tail bit by bit. */
#define NEXT_RUN(T, EQ)                                                                                                \
    static inline size_t next_run_##EQ##_##T(const T *v, size_t i, size_t n) {                                         \
        while (n - i > SCAN) {                                                                                         \
            uint64_t c = runs_of_8(EQ##_##T(v + i));                                                                   \
            if (c) return i + (size_t)__builtin_ctzll(c);                                                              \
            i += SCAN - 7; /* starts i .. i + SCAN - 8 ruled out */                                                    \
        }                                                                                                              \
        for (; n - i >= 8; i++) {                                                                                      \
            size_t k = 1;                                                                                              \
            while (k < 8 && v[i + k] == v[i]) k++;                                                                     \
            if (k == 8) return i;                                                                                      \
        }                                                                                                              \
        return n;                                                                                                      \
    }

/* The encoder. The pending literal is always v[lit, i) (RLE runs flush it),
 * so values are packed straight from v. Between runs of 8 equal values
 * every value is literal, so the search jumps to the next such run; there
 * the run's start is aligned to the literal's groups: its first values
 * complete the last group, and the rest is an RLE run if 8 or more remain
 * (else the whole run stays literal). Runs stop at 2^30 values. */
#define RLE_ENCODE(NAME, T, EQ)                                                                                        \
    hx_status NAME(const T *v, size_t n, int w, struct hx_buf *out) {                                                  \
        size_t i = 0, lit = 0;                                                                                         \
        while (i < n) {                                                                                                \
            i = next_run_##EQ##_##T(v, i, n);                                                                          \
            if (i == n) break;                                                                                         \
            T x = v[i];                                                                                                \
            size_t run = 8;                                                                                            \
            while (i + run < n && v[i + run] == x && run < ((size_t)1 << 30)) run++;                                   \
            size_t fill = (8 - (i - lit) % 8) % 8;                                                                     \
            if (run - fill < 8) {                                                                                      \
                i += run;                                                                                              \
                continue;                                                                                              \
            }                                                                                                          \
            if (fill) { /* continue from the aligned start, as a run found there */                                    \
                i += fill;                                                                                             \
                continue;                                                                                              \
            }                                                                                                          \
            if (i > lit) HX_TRY(emit_literal_##T(v + lit, i - lit, w, out));                                           \
            HX_TRY(emit_run(x, run, w, out));                                                                          \
            i += run;                                                                                                  \
            lit = i;                                                                                                   \
        }                                                                                                              \
        if (n > lit) HX_TRY(emit_literal_##T(v + lit, n - lit, w, out));                                               \
        return HOIST_OK;                                                                                               \
    }

NEXT_RUN(uint16_t, eq_mask_scalar)
NEXT_RUN(uint32_t, eq_mask_scalar)
#ifdef __SSE2__
NEXT_RUN(uint16_t, eq_mask_sse2)
NEXT_RUN(uint32_t, eq_mask_sse2)
RLE_ENCODE(hx_rle_encode_u16, uint16_t, eq_mask_sse2)
RLE_ENCODE(hx_rle_encode_u32, uint32_t, eq_mask_sse2)
#else
RLE_ENCODE(hx_rle_encode_u16, uint16_t, eq_mask_scalar)
RLE_ENCODE(hx_rle_encode_u32, uint32_t, eq_mask_scalar)
#endif
/* the portable kernel, for the tests to hold the SSE2 one to */
RLE_ENCODE(hx_rle_encode_u16_portable, uint16_t, eq_mask_scalar)
RLE_ENCODE(hx_rle_encode_u32_portable, uint32_t, eq_mask_scalar)

hx_status hx_rle_encode_repeat(uint32_t value, size_t n, int w, struct hx_buf *out) {
    if (n < 8 || n >= ((size_t)1 << 30)) {
        uint32_t v[8];
        if (n >= 8) { /* runs this long are cut as the general encoder cuts them */
            HX_TRY(emit_run(value, (size_t)1 << 30, w, out));
            return hx_rle_encode_repeat(value, n - ((size_t)1 << 30), w, out);
        }
        for (size_t i = 0; i < n; i++) v[i] = value;
        return hx_rle_encode_u32(v, n, w, out);
    }
    return emit_run(value, n, w, out);
}

hx_status hx_plain_bool_encode(const uint8_t *v, size_t n, struct hx_buf *out) {
    hx_status st;
    uint8_t *p = grow(out, (n + 7) / 8, &st);
    if (!p) return st;
    memset(p, 0, (n + 7) / 8);
    for (size_t i = 0; i < n; i++) p[i >> 3] |= (uint8_t)((v[i] & 1) << (i & 7));
    return HOIST_OK;
}
