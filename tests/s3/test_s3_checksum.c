/* Tests for src/s3/s3_checksum.c: which stored checksum a whole-object
 * download verifies (botocore's priority, COMPOSITE and "-N" values
 * skipped, malformed values refused) and the header format of values. */
#include "s3.h"
#include "test_harness.h"

#include <string.h>

static struct hx_s3_resp resp(const char *c64, const char *c32c, const char *c32, const char *type) {
    struct hx_s3_resp r;
    memset(&r, 0, sizeof r);
    snprintf(r.checksum_crc64nvme, sizeof r.checksum_crc64nvme, "%s", c64);
    snprintf(r.checksum_crc32c, sizeof r.checksum_crc32c, "%s", c32c);
    snprintf(r.checksum_crc32, sizeof r.checksum_crc32, "%s", c32);
    snprintf(r.checksum_type, sizeof r.checksum_type, "%s", type);
    return r;
}

static void test_pick(void) {
    uint64_t v = 0;
    struct hx_s3_resp r = resp("rosUhgp5mIg=", "4waSgw==", "y/Q5Jg==", "FULL_OBJECT");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_64NVME);
    CHECK(v == 0xAE8B14860A799888ull); /* CRC64NVME of "123456789" */
    r = resp("", "4waSgw==", "y/Q5Jg==", "");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_32C);
    CHECK(v == 0xE3069283ull);
    r = resp("", "", "y/Q5Jg==", "FULL_OBJECT");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_32);
    CHECK(v == 0xCBF43926ull);
    /* a checksum of the parts' checksums cannot be checked from the bytes */
    r = resp("", "4waSgw==-3", "", "COMPOSITE");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_NONE);
    r = resp("", "4waSgw==-3", "", "");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_NONE);
    r = resp("", "4waSgw==", "", "COMPOSITE");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_NONE);
    /* malformed: wrong length, stray characters, misplaced padding */
    const char *bad[] = {"4waSg==", "4waSgw=", "4wa*gw==", "4w=Sgw==", "rosUhgp5mIg", "4waSgw==4waSgw=="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = resp("", bad[i], "", "");
        CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_NONE);
    }
    r = resp("4waSgw==", "", "", ""); /* a 4-byte value is no CRC64NVME */
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_NONE);
    r = resp("", "", "", "");
    CHECK_EQ_INT(hx_s3_full_checksum(&r, &v), HX_CRC_NONE);
}

static void test_format(void) {
    char out[16];
    hx_s3_checksum_base64(HX_CRC_64NVME, 0xAE8B14860A799888ull, out);
    CHECK_STR(out, "rosUhgp5mIg=");
    hx_s3_checksum_base64(HX_CRC_64NVME, 0, out);
    CHECK_STR(out, "AAAAAAAAAAA=");
    hx_s3_checksum_base64(HX_CRC_32C, 0xE3069283ull, out);
    CHECK_STR(out, "4waSgw==");
    CHECK_STR(hx_s3_checksum_name(HX_CRC_64NVME), "CRC64NVME");
    CHECK_STR(hx_s3_checksum_name(HX_CRC_32), "CRC32");
}

int main(void) {
    RUN(test_pick);
    RUN(test_format);
    TEST_MAIN_END();
}
