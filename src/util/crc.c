/* The CRCs S3's flexible checksums use beyond CRC32C (which net.c keeps with
 * its hardware path): CRC-64/NVME, and joining the CRCs of consecutive byte
 * ranges into the CRC of the whole, so an object fetched as several ranged
 * GETs can be checked against its one full-object checksum.
 *
 * CRC-64/NVME (the S3 name CRC64NVME; also "Rocksoft"): polynomial
 * 0xAD93D23594C93659, reflected in and out, initial value and final xor all
 * ones (the NVM Command Set specification's 64-bit protection information
 * CRC; check value of "123456789" 0xAE8B14860A799888). Debian's ISA-L (2.30)
 * predates its CRC-64 Rocksoft functions, so this implements the published
 * parameters: a slice-by-8 table, and on x86-64 with PCLMULQDQ the folding
 * method of Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ" (a download's CRC runs on the one I/O thread, where the table's
 * ~1 byte/cycle would cap it), with its constants derived at start-up from
 * the polynomial by the same arithmetic that joins CRCs; with AVX-512
 * VPCLMULQDQ the same folding runs four lanes at once. */
#include "util_internal.h"

#include <pthread.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HX_CRC_CLMUL 1
#endif

/* Reflected polynomials (bit i of the value is the coefficient of x^(W-1-i)). */
#define POLY_CRC64NVME 0x9A6C9329AC4BC9B5ull
#define POLY_CRC32 0xEDB88320ull
#define POLY_CRC32C 0x82F63B78ull

/* ---- arithmetic mod P -------------------------------------------------------
 * For a CRC with all-ones initial value and final xor, the CRC of A||B is
 * CRC(A) * x^(8|B|) mod P, xor CRC(B): the conditioning terms cancel (the
 * method of zlib's crc32_combine, done here for any reflected polynomial of
 * width 32 or 64). Products are taken in the reflected representation. */

struct crc_poly {
    uint64_t poly, top; /* top: the bit of x^0 */
};

static uint64_t mulmod(const struct crc_poly *P, uint64_t a, uint64_t b) {
    uint64_t prod = 0;
    for (uint64_t m = P->top; m; m >>= 1) {
        if (a & m) prod ^= b;
        b = b & 1 ? (b >> 1) ^ P->poly : b >> 1; /* b *= x */
    }
    return prod;
}

/* x^(step e) mod P by squaring (step 1 or 8: x^e or x^(8e)). */
static uint64_t xpow_mod(const struct crc_poly *P, unsigned step, uint64_t e) {
    uint64_t result = P->top;     /* x^0 */
    uint64_t sq = P->top >> step; /* x^step */
    while (e) {
        if (e & 1) result = mulmod(P, sq, result);
        sq = mulmod(P, sq, sq);
        e >>= 1;
    }
    return result;
}

uint64_t hx_crc_combine(int kind, uint64_t crc_a, uint64_t crc_b, uint64_t len_b) {
    struct crc_poly P;
    switch (kind) {
    case HX_CRC_32C: P = (struct crc_poly){POLY_CRC32C, 1ull << 31}; break;
    case HX_CRC_32: P = (struct crc_poly){POLY_CRC32, 1ull << 31}; break;
    case HX_CRC_64NVME: P = (struct crc_poly){POLY_CRC64NVME, 1ull << 63}; break;
    default: return 0;
    }
    return mulmod(&P, xpow_mod(&P, 8, len_b), crc_a) ^ crc_b;
}

uint64_t hx_crc_update_small(int kind, uint64_t crc, const void *data, size_t n) {
    uint64_t poly, mask;
    switch (kind) {
    case HX_CRC_32C: poly = POLY_CRC32C, mask = 0xFFFFFFFFull; break;
    case HX_CRC_32: poly = POLY_CRC32, mask = 0xFFFFFFFFull; break;
    case HX_CRC_64NVME: poly = POLY_CRC64NVME, mask = ~0ull; break;
    default: return 0;
    }
    const uint8_t *p = data;
    crc = ~crc & mask;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ poly : crc >> 1;
    }
    return ~crc & mask;
}

/* ---- CRC-64/NVME --------------------------------------------------------- */

static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;
#ifdef HX_CRC_CLMUL
static int crc64_clmul;        /* the CPU has PCLMULQDQ */
static int crc64_vpclmul;      /* and AVX-512 with VPCLMULQDQ */
static uint64_t crc64_fold[6]; /* x^191, x^127, x^575, x^511, x^2111, x^2047 mod P (see crc64_clmul_run) */
#endif

static void crc64_init(void) {
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ POLY_CRC64NVME : c >> 1;
        crc64_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (unsigned i = 0; i < 256; i++)
            crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^ crc64_table[0][crc64_table[t - 1][i] & 0xff];
#ifdef HX_CRC_CLMUL
    const struct crc_poly P = {POLY_CRC64NVME, 1ull << 63};
    const uint64_t exps[6] = {191, 127, 575, 511, 2111, 2047};
    for (int i = 0; i < 6; i++) crc64_fold[i] = xpow_mod(&P, 1, exps[i]);
    crc64_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    crc64_vpclmul = crc64_clmul && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
#endif
}

/* The table CRC of n bytes on the register (no conditioning). */
static uint64_t crc64_table_run(uint64_t crc, const uint8_t *p, size_t n) {
    /* eight bytes per step: the little-endian load puts byte 0 lowest, which
     * is where a reflected CRC takes its next input */
    while (n >= 8) {
        uint64_t w = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                     (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
        w ^= crc;
        crc = crc64_table[7][w & 0xff] ^ crc64_table[6][(w >> 8) & 0xff] ^ crc64_table[5][(w >> 16) & 0xff] ^
              crc64_table[4][(w >> 24) & 0xff] ^ crc64_table[3][(w >> 32) & 0xff] ^ crc64_table[2][(w >> 40) & 0xff] ^
              crc64_table[1][(w >> 48) & 0xff] ^ crc64_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#ifdef HX_CRC_CLMUL
/* Folding, in the reflected representation: a 16-byte block loaded little-
 * endian holds a polynomial A = H x^64 + L (H in the low half). Moving A
 * over the next 128 bits is A x^128 = H x^192 + L x^128, congruent mod P to
 * H (x^192 mod P) + L (x^128 mod P), which fits 128 bits. A carry-less
 * product of two reflected 64-bit values stands for the product times x in
 * this representation, so the constants are x^191 and x^127. Four blocks
 * are folded at once (x^575, x^511: 512 bits ahead) to cover the
 * multiplier's latency, then joined. The register is XORed into the first
 * eight bytes; the last 128-bit value, congruent to the message so far,
 * goes through the table, then the tail. n >= 64. */
#define FOLD(x, k, next)                                                                                               \
    _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128((x), (k), 0x00), _mm_clmulepi64_si128((x), (k), 0x11)), (next))

/* The end of a run: four 128-bit values x0..x3 (64 consecutive bytes' worth,
 * x0 first) congruent to the message so far, then n more bytes at p. */
__attribute__((target("pclmul,sse4.1"))) static uint64_t crc64_clmul_tail(__m128i x0, __m128i x1, __m128i x2,
                                                                          __m128i x3, const uint8_t *p, size_t n) {
    const __m128i k128 = _mm_set_epi64x((long long)crc64_fold[1], (long long)crc64_fold[0]);
    x1 = FOLD(x0, k128, x1);
    x2 = FOLD(x1, k128, x2);
    x3 = FOLD(x2, k128, x3);
    while (n >= 16) {
        x3 = FOLD(x3, k128, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    uint8_t last[16];
    _mm_storeu_si128((__m128i *)last, x3);
    return crc64_table_run(crc64_table_run(0, last, 16), p, n);
}

__attribute__((target("pclmul,sse4.1"))) static uint64_t crc64_clmul_run(uint64_t crc, const uint8_t *p, size_t n) {
    const __m128i k512 = _mm_set_epi64x((long long)crc64_fold[3], (long long)crc64_fold[2]);
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi64_si128((long long)crc));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x0 = FOLD(x0, k512, _mm_loadu_si128((const __m128i *)p));
        x1 = FOLD(x1, k512, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = FOLD(x2, k512, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = FOLD(x3, k512, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    return crc64_clmul_tail(x0, x1, x2, x3, p, n);
}
#undef FOLD

/* The same folding four 128-bit lanes per instruction (AVX-512 VPCLMULQDQ):
 * four 512-bit accumulators cover 256 bytes, each lane moved 2048 bits ahead
 * (x^2111, x^2047); the four are then joined 512 bits at a time, which
 * leaves the x0..x3 of the 128-bit method in the last one's lanes. The
 * 128-bit loop was 6% of a checked download's CPU. n >= 256. */
#define FOLDZ(x, k, next)                                                                                              \
    _mm512_xor_si512(                                                                                                  \
        _mm512_xor_si512(_mm512_clmulepi64_epi128((x), (k), 0x00), _mm512_clmulepi64_epi128((x), (k), 0x11)), (next))
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1"))) static uint64_t
crc64_vpclmul_run(uint64_t crc, const uint8_t *p, size_t n) {
    const __m512i k2048 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)crc64_fold[5], (long long)crc64_fold[4]));
    const __m512i k512 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)crc64_fold[3], (long long)crc64_fold[2]));
    __m512i z0 = _mm512_xor_si512(_mm512_loadu_si512(p),
                                  _mm512_inserti32x4(_mm512_setzero_si512(), _mm_cvtsi64_si128((long long)crc), 0));
    __m512i z1 = _mm512_loadu_si512(p + 64);
    __m512i z2 = _mm512_loadu_si512(p + 128);
    __m512i z3 = _mm512_loadu_si512(p + 192);
    p += 256;
    n -= 256;
    while (n >= 256) {
        z0 = FOLDZ(z0, k2048, _mm512_loadu_si512(p));
        z1 = FOLDZ(z1, k2048, _mm512_loadu_si512(p + 64));
        z2 = FOLDZ(z2, k2048, _mm512_loadu_si512(p + 128));
        z3 = FOLDZ(z3, k2048, _mm512_loadu_si512(p + 192));
        p += 256;
        n -= 256;
    }
    z1 = FOLDZ(z0, k512, z1);
    z2 = FOLDZ(z1, k512, z2);
    z3 = FOLDZ(z2, k512, z3);
    return crc64_clmul_tail(_mm512_extracti32x4_epi32(z3, 0), _mm512_extracti32x4_epi32(z3, 1),
                            _mm512_extracti32x4_epi32(z3, 2), _mm512_extracti32x4_epi32(z3, 3), p, n);
}
#undef FOLDZ
#endif

uint64_t hx_crc64nvme_update(uint64_t crc, const void *data, size_t n) {
    pthread_once(&crc64_once, crc64_init);
    const uint8_t *p = data;
#ifdef HX_CRC_CLMUL
    if (crc64_vpclmul && n >= 256) return ~crc64_vpclmul_run(~crc, p, n);
    if (crc64_clmul && n >= 64) return ~crc64_clmul_run(~crc, p, n);
#endif
    return ~crc64_table_run(~crc, p, n);
}

/* Tests: the table path alone, to check both against each other. */
uint64_t hx_crc64nvme_update_table(uint64_t crc, const void *data, size_t n) {
    pthread_once(&crc64_once, crc64_init);
    return ~crc64_table_run(~crc, data, n);
}
