/* Tests for src/util/crc.c: CRC-64/NVME against the published check value
 * and values from the AWS CRT (awscrt.checksums.crc64nvme, what botocore and
 * moto use), and joining CRCs of consecutive ranges for all three kinds
 * against a bit-at-a-time reference. */
#include "test_harness.h"
#include "util_internal.h"

#include <stdlib.h>
#include <string.h>

/* Bit-at-a-time CRC with all-ones init and final xor, reflected polynomial poly. */
static uint64_t crc_bitwise(uint64_t poly, int width, const uint8_t *p, size_t n) {
    uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1, c = mask;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ poly : c >> 1;
    }
    return c ^ mask;
}

static const struct {
    int kind, width;
    uint64_t poly;
} KINDS[] = {
    {HX_CRC_32C, 32, 0x82F63B78ull}, {HX_CRC_32, 32, 0xEDB88320ull}, {HX_CRC_64NVME, 64, 0x9A6C9329AC4BC9B5ull}};

static void test_crc64nvme_vectors(void) {
    CHECK(hx_crc64nvme_update(0, "", 0) == 0);
    /* the CRC-64/NVME check value (CRC catalogue: "CRC-64/NVME") */
    CHECK(hx_crc64nvme_update(0, "123456789", 9) == 0xAE8B14860A799888ull);
    uint8_t z[32] = {0};
    CHECK(hx_crc64nvme_update(0, z, 32) == 0xCF3473434D4ECF3Bull); /* awscrt */
    CHECK(hx_crc64nvme_update(0, "Hello world", 11) == 0x38E259D03F312ADBull);
    uint8_t seq[1024];
    for (int i = 0; i < 1024; i++) seq[i] = (uint8_t)i;
    CHECK(hx_crc64nvme_update(0, seq, sizeof seq) == 0x888D8D2F18D01447ull);
    /* continuing across calls at every split (the sliced loop and the byte tail) */
    for (size_t cut = 0; cut <= 37; cut++) {
        uint64_t c = hx_crc64nvme_update(hx_crc64nvme_update(0, seq, cut), seq + cut, sizeof seq - cut);
        CHECK(c == 0x888D8D2F18D01447ull);
    }
    CHECK(crc_bitwise(0x9A6C9329AC4BC9B5ull, 64, (const uint8_t *)"123456789", 9) == 0xAE8B14860A799888ull);
}

/* The folding path (64 bytes and more, on x86-64 with PCLMULQDQ) against
 * the table and a bit-at-a-time reference: every length to 600 bytes (each
 * tail after the 64- and 16-byte blocks), unaligned starts, a continued CRC. */
static void test_crc64nvme_paths_agree(void) {
    uint8_t buf[700];
    srand(11);
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rand();
    int bad = 0;
    for (size_t off = 0; off < 4; off++)
        for (size_t n = 0; n <= 600; n++) {
            uint64_t ref = crc_bitwise(0x9A6C9329AC4BC9B5ull, 64, buf + off, n);
            if (hx_crc64nvme_update(0, buf + off, n) != ref || hx_crc64nvme_update_table(0, buf + off, n) != ref) bad++;
        }
    CHECK_EQ_INT(bad, 0);
    uint64_t part = hx_crc64nvme_update(0, buf, 100);
    CHECK(hx_crc64nvme_update(part, buf + 100, 500) == hx_crc64nvme_update_table(0, buf, 600));
}

/* The AVX-512 folding path (256-byte blocks, on CPUs with VPCLMULQDQ; the
 * 128-bit one elsewhere) over long buffers against the table: every length
 * from 256 to 1,300 bytes (one to five blocks and each tail), then lengths
 * near 16 KiB (libcurl's write size) and 64 KiB, unaligned starts, and a CRC
 * continued across calls of odd sizes. */
static void test_crc64nvme_long_paths_agree(void) {
    enum { N = (64 << 10) + 300 };
    static uint8_t buf[N];
    srand(12);
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rand();
    int bad = 0;
    for (size_t off = 0; off < 3; off++)
        for (size_t n = 256; n <= 1300; n++)
            if (hx_crc64nvme_update(7, buf + off, n) != hx_crc64nvme_update_table(7, buf + off, n)) bad++;
    const size_t lens[] = {16383, 16384, 16385, 65535, 65536, 65536 + 255, N - 3};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (size_t off = 0; off < 3; off++)
            if (hx_crc64nvme_update(0, buf + off, lens[i]) != hx_crc64nvme_update_table(0, buf + off, lens[i])) bad++;
    CHECK_EQ_INT(bad, 0);
    uint64_t c = 0;
    size_t at = 0, step = 777;
    while (at < N) {
        size_t n = N - at < step ? N - at : step;
        c = hx_crc64nvme_update(c, buf + at, n);
        at += n;
        step = step * 3 % 5000 + 1;
    }
    CHECK(c == hx_crc64nvme_update_table(0, buf, N));
}

static void test_combine(void) {
    size_t n = 100000;
    uint8_t *buf = malloc(n);
    CHECK(buf != NULL);
    if (buf == NULL) return;
    srand(7);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rand();
    size_t cuts[] = {0, 1, 7, 8, 9, 4096, 65536, 99999, 100000};
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        uint64_t whole = crc_bitwise(KINDS[k].poly, KINDS[k].width, buf, n);
        if (KINDS[k].kind == HX_CRC_64NVME) CHECK(hx_crc64nvme_update(0, buf, n) == whole);
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            size_t a = cuts[c];
            uint64_t ca = crc_bitwise(KINDS[k].poly, KINDS[k].width, buf, a);
            uint64_t cb = crc_bitwise(KINDS[k].poly, KINDS[k].width, buf + a, n - a);
            CHECK(hx_crc_combine(KINDS[k].kind, ca, cb, n - a) == whole);
        }
        /* three ranges, joined left to right as a ranged download does */
        uint64_t c1 = crc_bitwise(KINDS[k].poly, KINDS[k].width, buf, 1000);
        uint64_t c2 = crc_bitwise(KINDS[k].poly, KINDS[k].width, buf + 1000, 50000);
        uint64_t c3 = crc_bitwise(KINDS[k].poly, KINDS[k].width, buf + 51000, n - 51000);
        CHECK(hx_crc_combine(KINDS[k].kind, hx_crc_combine(KINDS[k].kind, c1, c2, 50000), c3, n - 51000) == whole);
        /* a wrong piece does not join into the right whole */
        CHECK(hx_crc_combine(KINDS[k].kind, c1 ^ 1, hx_crc_combine(KINDS[k].kind, c2, c3, n - 51000), n - 1000) !=
              whole);
    }
    CHECK(hx_crc_combine(HX_CRC_NONE, 1, 2, 3) == 0);
    free(buf);
}

/* The bit-at-a-time CRC of a few bytes (a COMPOSITE checksum's input): the
 * check values of all three, and continuing across calls. */
static void test_update_small(void) {
    CHECK(hx_crc_update_small(HX_CRC_32C, 0, "123456789", 9) == 0xE3069283ull);
    CHECK(hx_crc_update_small(HX_CRC_32, 0, "123456789", 9) == 0xCBF43926ull);
    CHECK(hx_crc_update_small(HX_CRC_64NVME, 0, "123456789", 9) == 0xAE8B14860A799888ull);
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++)
        for (size_t cut = 0; cut <= 9; cut++) {
            uint64_t c = hx_crc_update_small(KINDS[k].kind, hx_crc_update_small(KINDS[k].kind, 0, "123456789", cut),
                                             "123456789" + cut, 9 - cut);
            CHECK(c == hx_crc_update_small(KINDS[k].kind, 0, "123456789", 9));
        }
    CHECK(hx_crc_update_small(HX_CRC_NONE, 0, "x", 1) == 0);
}

int main(void) {
    RUN(test_crc64nvme_vectors);
    RUN(test_update_small);
    RUN(test_crc64nvme_paths_agree);
    RUN(test_crc64nvme_long_paths_agree);
    RUN(test_combine);
    TEST_MAIN_END();
}
