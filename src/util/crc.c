/* The CRCs S3's flexible checksums use beyond CRC32C (which net.c keeps with
 * its hardware path): CRC-64/NVME, and joining the CRCs of consecutive byte
 * ranges into the CRC of the whole, so an object fetched as several ranged
 * GETs can be checked against its one full-object checksum.
 *
 * CRC-64/NVME (the S3 name CRC64NVME; also "Rocksoft"): polynomial
 * 0xAD93D23594C93659, reflected in and out, initial value and final xor all
 * ones (the NVM Command Set specification's 64-bit protection information
 * CRC; check value of "123456789" 0xAE8B14860A799888). Debian's ISA-L (2.30)
 * predates its CRC-64 Rocksoft functions, so this is a table-driven
 * slice-by-8 implementation of the published parameters. */
#include "util_internal.h"

#include <pthread.h>

/* Reflected polynomials (bit i of the value is the coefficient of x^(W-1-i)). */
#define POLY_CRC64NVME 0x9A6C9329AC4BC9B5ull
#define POLY_CRC32 0xEDB88320ull
#define POLY_CRC32C 0x82F63B78ull

static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void) {
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ POLY_CRC64NVME : c >> 1;
        crc64_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (unsigned i = 0; i < 256; i++)
            crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^ crc64_table[0][crc64_table[t - 1][i] & 0xff];
}

uint64_t hx_crc64nvme_update(uint64_t crc, const void *data, size_t n) {
    pthread_once(&crc64_once, crc64_init);
    const uint8_t *p = data;
    crc = ~crc;
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
    return ~crc;
}

/* ---- combining ------------------------------------------------------------
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

/* x^(8 n) mod P by squaring: x^(2^k) for each set bit k of 8 n. */
static uint64_t x8n_mod(const struct crc_poly *P, uint64_t n) {
    uint64_t result = P->top;  /* x^0 */
    uint64_t sq = P->top >> 8; /* x^8 */
    while (n) {
        if (n & 1) result = mulmod(P, sq, result);
        sq = mulmod(P, sq, sq);
        n >>= 1;
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
    return mulmod(&P, x8n_mod(&P, len_b), crc_a) ^ crc_b;
}
