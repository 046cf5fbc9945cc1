/* Tests for src/s3/s3_checksum.c and the checksum parts of s3_multipart.c
 * and s3_xml.c: which stored checksum a whole-object download verifies
 * (botocore's priority, COMPOSITE "-N" values apart, malformed values
 * refused), the header format of values, upload body checksums, the
 * FULL_OBJECT value a Complete sends, when a create was a refusal of
 * FULL_OBJECT, and GetObjectAttributes part listings. */
#include "s3.h"
#include "test_harness.h"

#include <stdlib.h>
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

static void test_composite(void) {
    uint64_t v = 0;
    int n = 0;
    struct hx_s3_resp r = resp("", "4waSgw==-3", "", "COMPOSITE");
    CHECK_EQ_INT(hx_s3_composite_checksum(&r, &v, &n), HX_CRC_32C);
    CHECK(v == 0xE3069283ull && n == 3);
    r = resp("", "", "y/Q5Jg==-10000", "");
    CHECK_EQ_INT(hx_s3_composite_checksum(&r, &v, &n), HX_CRC_32);
    CHECK(v == 0xCBF43926ull && n == 10000);
    /* no "-N" (moto's way), or a full-object value: not composite */
    r = resp("", "4waSgw==", "", "COMPOSITE");
    CHECK_EQ_INT(hx_s3_composite_checksum(&r, &v, &n), HX_CRC_NONE);
    r = resp("rosUhgp5mIg=", "", "", "FULL_OBJECT");
    CHECK_EQ_INT(hx_s3_composite_checksum(&r, &v, &n), HX_CRC_NONE);
    const char *bad[] = {"4waSgw==-0",  "4waSgw==-10001", "4waSgw==-",  "4waSgw==-3x",
                         "4waSgw==--3", "4waSg==-3",      "4wa*gw==-3", "4waSgw==-03"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = resp("", bad[i], "", "COMPOSITE");
        CHECK_EQ_INT(hx_s3_composite_checksum(&r, &v, &n), HX_CRC_NONE);
    }
}

/* Complete's FULL_OBJECT value is the CRC64NVME of the whole object, joined
 * from the parts' CRCs; the document lists each part's checksum. */
static void test_complete_full_object(void) {
    size_t n = 3 * 1000 + 17;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 7 + (i >> 5));
    char b64[3][16], full[16];
    struct hx_s3_part_ref refs[3];
    for (int i = 0; i < 3; i++) {
        size_t off = (size_t)i * 1000, len = i == 2 ? n - off : 1000;
        uint64_t v = hx_s3_body_crc(HX_CRC_64NVME, data + off, len, b64[i]);
        CHECK(v == hx_crc64nvme_update(0, data + off, len));
        refs[i] = (struct hx_s3_part_ref){i + 1, "\"e\"", b64[i], v, len};
    }
    struct hx_buf xml;
    hx_buf_init(&xml);
    CHECK_EQ_INT(hx_s3_mpu_complete_xml(&xml, refs, 3, HX_CRC_64NVME, full), HOIST_OK);
    char whole[16];
    hx_s3_checksum_base64(HX_CRC_64NVME, hx_crc64nvme_update(0, data, n), whole);
    CHECK_STR(full, whole);
    CHECK_CONTAINS(xml.data, "<ChecksumCRC64NVME>");
    CHECK_CONTAINS(xml.data, b64[2]);
    /* COMPOSITE CRC32C (the fallback): part values listed, no full value */
    refs[0].checksum = "4waSgw==";
    CHECK_EQ_INT(hx_s3_mpu_complete_xml(&xml, refs, 1, HX_CRC_32C, full), HOIST_OK);
    CHECK_STR(full, "");
    CHECK_CONTAINS(xml.data, "<ChecksumCRC32C>4waSgw==</ChecksumCRC32C>");
    /* when_required: no checksum at all */
    CHECK_EQ_INT(hx_s3_mpu_complete_xml(&xml, refs, 1, HX_CRC_NONE, NULL), HOIST_OK);
    CHECK(strstr(xml.data, "Checksum") == NULL);
    char c32[16];
    hx_s3_body_crc(HX_CRC_32C, "123456789", 9, c32);
    CHECK_STR(c32, "4waSgw==");
    hx_buf_reset(&xml);
    free(data);
}

static void answer(struct hx_net_req *req, long status, const char *body) {
    memset(req, 0, sizeof *req);
    req->resp.status = status;
    hx_buf_init(&req->body);
    if (body) CHECK_EQ_INT(hx_buf_append_str(&req->body, body), HOIST_OK);
}

static void test_full_object_refused(void) {
    struct hx_net_req req;
    answer(&req, 400, "<Error><Code>InvalidArgument</Code><Message>Unsupported header</Message></Error>");
    CHECK(hx_s3_full_object_refused(&req));
    hx_buf_reset(&req.body);
    answer(&req, 501, "<Error><Code>NotImplemented</Code></Error>");
    CHECK(hx_s3_full_object_refused(&req));
    hx_buf_reset(&req.body);
    answer(&req, 501, NULL);
    CHECK(hx_s3_full_object_refused(&req));
    answer(&req, 403, "<Error><Code>AccessDenied</Code></Error>");
    CHECK(!hx_s3_full_object_refused(&req));
    hx_buf_reset(&req.body);
    answer(&req, 400, "<Error><Code>InvalidBucketName</Code></Error>");
    CHECK(!hx_s3_full_object_refused(&req));
    hx_buf_reset(&req.body);
}

static void test_object_parts(void) {
    uint64_t sizes[3] = {0};
    struct hx_s3_object_parts o;
    /* as SeaweedFS answers (AWS's element names; unquoted ETag) */
    const char *page = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><GetObjectAttributesResponse><ETag>4d69-3</ETag>"
                       "<ObjectParts><IsTruncated>true</IsTruncated><MaxParts>2</MaxParts><NextPartNumberMarker>2"
                       "</NextPartNumberMarker><PartNumberMarker>0</PartNumberMarker><PartsCount>3</PartsCount>"
                       "<Part><PartNumber>1</PartNumber><Size>5242880</Size></Part><Part><PartNumber>2</PartNumber>"
                       "<Size>100</Size><ChecksumCRC32C>4waSgw==</ChecksumCRC32C></Part></ObjectParts>"
                       "</GetObjectAttributesResponse>";
    CHECK_EQ_INT(hx_s3_parse_object_parts(page, strlen(page), sizes, 3, &o), HOIST_OK);
    CHECK_STR(o.etag, "4d69-3");
    CHECK(o.parts_count == 3 && o.is_truncated && o.next_marker == 2 && o.listed == 2);
    CHECK(sizes[0] == 5242880 && sizes[1] == 100 && sizes[2] == 0);
    /* no ObjectParts (moto): nothing listed */
    const char *none = "<GetObjectAttributesResponse><ETag>\"x\"</ETag></GetObjectAttributesResponse>";
    CHECK_EQ_INT(hx_s3_parse_object_parts(none, strlen(none), sizes, 3, &o), HOIST_OK);
    CHECK(o.parts_count == 0 && o.listed == 0);
    CHECK_STR(o.etag, "x");
    /* a part number past what the checksum said, a bad size, a part without one */
    const char *bad[] = {"<GetObjectAttributesResponse><ObjectParts><Part><PartNumber>4</PartNumber><Size>1</Size>"
                         "</Part></ObjectParts></GetObjectAttributesResponse>",
                         "<GetObjectAttributesResponse><ObjectParts><Part><PartNumber>1</PartNumber><Size>-1</Size>"
                         "</Part></ObjectParts></GetObjectAttributesResponse>",
                         "<GetObjectAttributesResponse><ObjectParts><Part><PartNumber>1</PartNumber></Part>"
                         "</ObjectParts></GetObjectAttributesResponse>",
                         "<GetObjectAttributesResponse><ObjectParts><PartsCount>x</PartsCount></ObjectParts>"
                         "</GetObjectAttributesResponse>",
                         "<GetObjectAttributesResponse><ObjectParts>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(hx_s3_parse_object_parts(bad[i], strlen(bad[i]), sizes, 3, &o), HOIST_ERR_S3_BAD_RESPONSE);
}

int main(void) {
    RUN(test_pick);
    RUN(test_format);
    RUN(test_composite);
    RUN(test_complete_full_object);
    RUN(test_full_object_refused);
    RUN(test_object_parts);
    TEST_MAIN_END();
}
