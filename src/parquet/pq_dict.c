/*
 * pq_dict.c — dictionary gather for fixed-width values, and its fusion with
 * the RLE/bit-packed hybrid that carries the indices (hx_dict_decode_fixed).
 *
 * hx_dict_gather validates indices in a first pass (a max reduction the
 * compiler vectorises) so the gather loop itself carries no bounds branch;
 * hx_dict_decode_fixed validates per run instead and calls the unchecked
 * gather below on small blocks that are still in L1.
 *
 * Dependency: this file uses pq_rle.c (through pq_rle_run.h), never the
 * other way round.
 */
#include "pq_rle_run.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef __x86_64__
#include <immintrin.h>
#endif

/* hx_keep_u32 eight at a time with AVX2: the eight keep bytes become a
 * bit mask, which picks a permutation that packs the kept lanes to the
 * front; the store writes eight lanes at the output position, which never
 * passes the input one, so only lanes already loaded are overwritten. */
static uint32_t keep_perm[256][8];
static int keep_avx2;

__attribute__((constructor)) static void keep_perm_init(void) {
    __builtin_cpu_init();
    keep_avx2 = __builtin_cpu_supports("avx2");
    for (unsigned m = 0; m < 256; m++) {
        unsigned k = 0;
        for (unsigned b = 0; b < 8; b++)
            if (m >> b & 1) keep_perm[m][k++] = b;
        while (k < 8) keep_perm[m][k++] = 0;
    }
}

#ifdef __x86_64__
__attribute__((target("avx2"))) static size_t keep_u32_avx2(uint32_t *v, const uint8_t *keep, size_t n, size_t *done) {
    size_t i = 0, j = 0;
    for (; i + 8 <= n; i += 8) {
        /* bytes 0/1 shifted to their top bit (no bit crosses a byte) */
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_slli_epi64(_mm_loadl_epi64((const __m128i *)(keep + i)), 7)) & 0xff;
        __m256i x = _mm256_loadu_si256((const __m256i *)(v + i));
        __m256i p = _mm256_loadu_si256((const __m256i *)keep_perm[m]);
        _mm256_storeu_si256((__m256i *)(v + j), _mm256_permutevar8x32_epi32(x, p));
        j += (size_t)__builtin_popcount(m);
    }
    *done = i;
    return j;
}
#endif

size_t hx_keep_u32(uint32_t *v, const uint8_t *keep, size_t n) {
    size_t i = 0, j = 0;
#ifdef __x86_64__
    if (keep_avx2) j = keep_u32_avx2(v, keep, n, &i);
#endif
    /* branch-free: the write position j never passes i */
    for (; i < n; i++) {
        v[j] = v[i];
        j += keep[i];
    }
    return j;
}

HX_VECTORIZE uint32_t hx_max_u32(const uint32_t *v, size_t n) {
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

void hx_dict_gather_unchecked(const uint8_t *dict, size_t width, const uint32_t *idx, size_t n, uint8_t *out) {
    /* A constant width lets the compiler turn each memcpy into plain
     * loads and stores; common Parquet/Arrow widths get one each. */
#define GATHER(W)                                                                                                      \
    for (size_t i = 0; i < n; i++) memcpy(out + i * (W), dict + (size_t)idx[i] * (W), (W));                            \
    break
    switch (width) {
    case 1: GATHER(1);
    case 2: GATHER(2);
    case 4: GATHER(4);
    case 8: GATHER(8);
    case 12: GATHER(12);
    case 16: GATHER(16);
    case 32: GATHER(32);
    default:
        for (size_t i = 0; i < n; i++) memcpy(out + i * width, dict + (size_t)idx[i] * width, width);
        break;
    }
#undef GATHER
}

hx_status hx_dict_gather(const uint8_t *dict, size_t dict_n, size_t width, const uint32_t *idx, size_t n,
                         uint8_t *out) {
    if (n == 0) return HOIST_OK;
    uint32_t m = hx_max_u32(idx, n);
    if ((size_t)m >= dict_n) {
        size_t at = 0;
        while (idx[at] != m) at++;
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT,
                "dictionary index %u at value %zu is out of range (dictionary has %zu entries)", m, at, dict_n);
    }
    hx_dict_gather_unchecked(dict, width, idx, n, out);
    return HOIST_OK;
}

void hx_fill_fixed(uint8_t *out, const uint8_t *value, size_t width, size_t n) {
    if (n == 0) return;
    switch (width) {
    case 1: memset(out, value[0], n); return;
    case 4: {
        uint32_t v;
        memcpy(&v, value, 4);
        for (size_t i = 0; i < n; i++) memcpy(out + 4 * i, &v, 4);
        return;
    }
    case 8: {
        uint64_t v;
        memcpy(&v, value, 8);
        for (size_t i = 0; i < n; i++) memcpy(out + 8 * i, &v, 8);
        return;
    }
    default:
        /* doubling copies: log2(n) memcpy calls whatever the width */
        memcpy(out, value, width);
        for (size_t done = 1; done < n;) {
            size_t c = done < n - done ? done : n - done;
            memcpy(out + done * width, out, c * width);
            done += c;
        }
        return;
    }
}

/* ---- indices decoded and gathered in one pass -------------------------- */

static hx_status bad_dict_index(const uint32_t *v, size_t n, uint32_t m, size_t first, size_t dict_n) {
    size_t at = 0;
    while (at < n && v[at] != m) at++;
    return hx_error(HOIST_ERR_PARQUET_CORRUPT,
                    "dictionary index %u at value %zu is out of range (dictionary has %zu entries)", m, first + at,
                    dict_n);
}

/* Whether any of n values (each < 2^31: bit width <= 31) is >= lim. Two
 * SSE2 ops per 4 values (the values fit a signed compare), no reduction. */
static int any_ge_u31(const uint32_t *v, size_t n, uint32_t lim) {
    size_t i = 0;
    if (lim > INT32_MAX) return 0;
#ifdef __SSE2__
    const __m128i top = _mm_set1_epi32((int)lim - 1);
    __m128i acc = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        acc = _mm_or_si128(acc, _mm_cmpgt_epi32(_mm_loadu_si128((const __m128i *)(const void *)(v + i)), top));
        acc = _mm_or_si128(acc, _mm_cmpgt_epi32(_mm_loadu_si128((const __m128i *)(const void *)(v + i + 4)), top));
    }
    if (_mm_movemask_epi8(acc)) return 1;
#endif
    for (; i < n; i++)
        if (v[i] >= lim) return 1;
    return 0;
}

hx_status hx_dict_decode_fixed(const uint8_t *dict, size_t dict_n, size_t width, const uint8_t *data, size_t len,
                               int bit_width, size_t n, uint8_t *out) {
    if (bit_width < 0 || bit_width > 32) return hx_rle_bad_width(bit_width, 32);
    /* 18-bit indices into a 2^18-entry dictionary cannot be out of range */
    const int check = bit_width >= 32 || ((uint64_t)1 << bit_width) > (uint64_t)dict_n;
    const uint8_t *p = data, *end = data + len;
    /* 256 indices: 1 KiB, stays in L1 between the unpack and the gather */
    uint32_t tmp[256];
    size_t done = 0;
    while (done < n) {
        struct hx_rle_run run;
        HX_TRY(hx_rle_next_run(&p, end, bit_width, done, n, "dictionary indices", &run));
        if (run.literal) {
            /* 256 values of w bits are exactly 32*w bytes: every block
             * after the first starts on a byte boundary */
            const uint8_t *src = run.packed;
            for (size_t k = 0; k < run.take; k += 256) {
                size_t c = run.take - k < 256 ? run.take - k : 256;
                hx_unpack_avail(src, (size_t)(end - src), bit_width, tmp, c);
                src += 32 * (size_t)bit_width;
                if (check && (bit_width >= 32 || dict_n == 0 || any_ge_u31(tmp, c, (uint32_t)dict_n))) {
                    uint32_t m = hx_max_u32(tmp, c);
                    if ((size_t)m >= dict_n) return bad_dict_index(tmp, c, m, done + k, dict_n);
                }
                hx_dict_gather_unchecked(dict, width, tmp, c, out + (done + k) * width);
            }
        } else if (run.take > 0) {
            if ((size_t)run.value >= dict_n)
                HX_FAIL(HOIST_ERR_PARQUET_CORRUPT,
                        "dictionary index %u at value %zu is out of range (dictionary has %zu entries)", run.value,
                        done, dict_n);
            hx_fill_fixed(out + done * width, dict + (size_t)run.value * width, width, run.take);
        }
        done += run.take;
    }
    return HOIST_OK;
}
