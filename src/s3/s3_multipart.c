/* S3 multipart uploads on the wire: the requests (CreateMultipartUpload,
 * UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
 * ListMultipartUploads) and the Complete document, shared by put_many and
 * the store's separate multipart calls. Each builder sets the request's
 * method, URL, signed headers, body and response sink for one attempt; and
 * the headers every object-creating request carries (type, encryption). */
#include "s3.h"

#include <stdio.h>
#include <string.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Create and Complete answer with a small XML document (an UploadId, an
 * ETag, or an error hidden in a 200: S3 docs, CompleteMultipartUpload). */
#define SMALL_XML_CAP (1 << 16)
#define LIST_XML_CAP ((size_t)16 << 20)

static void no_body(struct hx_net_req *req) {
    req->sink = HX_SINK_NONE;
    req->has_body = 0;
    req->body_data = NULL;
    req->body_len = 0;
}

/* "uploadId=<encoded id>" (plus a prefix such as "partNumber=N&"). */
static hx_status upload_query(struct hx_buf *q, const char *before, const char *upload_id) {
    hx_buf_init(q);
    hx_status s = hx_buf_append_str(q, before);
    if (s == HOIST_OK) s = hx_buf_append_str(q, "uploadId=");
    if (s == HOIST_OK) s = hx_s3_uri_encode(q, upload_id, strlen(upload_id), 0);
    if (s != HOIST_OK) hx_buf_reset(q);
    return s;
}

size_t hx_s3_object_headers(const struct hx_s3 *s3, const char *content_type, struct hx_s3_header *h) {
    size_t n = 0;
    h[n++] = (struct hx_s3_header){"content-type", content_type ? content_type : "binary/octet-stream"};
    /* UploadPart carries no SSE headers: parts inherit the upload's. */
    if (s3->set.sse) h[n++] = (struct hx_s3_header){"x-amz-server-side-encryption", s3->set.sse};
    if (s3->set.sse_kms_key_id)
        h[n++] = (struct hx_s3_header){"x-amz-server-side-encryption-aws-kms-key-id", s3->set.sse_kms_key_id};
    return n;
}

/* The algorithm header and its name in a Complete document. */
static const char *checksum_header(int checksum) {
    return checksum == HX_CRC_64NVME ? "x-amz-checksum-crc64nvme" : "x-amz-checksum-crc32c";
}

hx_status hx_s3_mpu_create_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                   const char *content_type, const char *meta_header, int checksum) {
    struct hx_s3_header h[3 + HX_S3_OBJECT_HEADERS];
    size_t nh = hx_s3_object_headers(s3, content_type, h);
    if (meta_header) h[nh++] = (struct hx_s3_header){"x-amz-meta-metaflow-user-attributes", meta_header};
    /* Parts then carry their CRC, which the server checks (BadDigest). A
     * FULL_OBJECT type makes the object's checksum the CRC of its bytes
     * (S3 user guide, "Checking object integrity": CRC32, CRC32C and
     * CRC64NVME can be full-object; CRC64NVME only is), which a download
     * can verify; the default COMPOSITE one is a CRC of the parts' CRCs. */
    if (checksum == HX_CRC_64NVME) {
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-algorithm", "CRC64NVME"};
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-type", "FULL_OBJECT"};
    } else if (checksum == HX_CRC_32C) {
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-algorithm", "CRC32C"};
    }
    no_body(req);
    req->sink = HX_SINK_BUF;
    req->body_cap = SMALL_XML_CAP;
    req->has_body = 1;
    req->body_data = (const uint8_t *)"";
    return hx_s3_build_request(s3, req, "POST", bucket, key, "uploads=", EMPTY_SHA256, h, nh);
}

hx_status hx_s3_mpu_part_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                 const char *upload_id, int number, const uint8_t *data, uint64_t len, int checksum,
                                 const char *value) {
    /* The part's CRC (declared at the create) guards the body, so the
     * payload goes UNSIGNED, without a SHA-256 on the I/O thread. */
    struct hx_s3_header h[1];
    char md5[25];
    if (checksum == HX_CRC_NONE) {
        /* every S3 implementation checks Content-MD5 (BadDigest) */
        hx_md5_base64(len ? data : (const uint8_t *)"", (size_t)len, md5);
        h[0] = (struct hx_s3_header){"content-md5", md5};
    } else {
        h[0] = (struct hx_s3_header){checksum_header(checksum), value};
    }
    char before[32];
    snprintf(before, sizeof before, "partNumber=%d&", number);
    struct hx_buf q;
    HX_TRY(upload_query(&q, before, upload_id));
    no_body(req);
    req->has_body = 1;
    req->body_data = len ? data : (const uint8_t *)"";
    req->body_len = len;
    hx_status s = hx_s3_build_request(s3, req, "PUT", bucket, key, q.data, NULL, h, 1);
    hx_buf_reset(&q);
    return s;
}

void hx_s3_body_checksum_header(const struct hx_s3 *s3, const uint8_t *data, uint64_t len, const char *crc32c,
                                char md5[25], struct hx_s3_header *h) {
    if (s3->set.checksum == HX_S3_CK_WHEN_REQUIRED) {
        /* every S3 implementation checks Content-MD5 (BadDigest) */
        hx_md5_base64(len ? data : (const uint8_t *)"", (size_t)len, md5);
        *h = (struct hx_s3_header){"content-md5", md5};
    } else {
        *h = (struct hx_s3_header){"x-amz-checksum-crc32c", crc32c};
    }
}

hx_status hx_s3_mpu_complete_xml(struct hx_buf *out, const struct hx_s3_part_ref *parts, size_t n, int checksum,
                                 char full[16]) {
    const char *elem = checksum == HX_CRC_64NVME ? "ChecksumCRC64NVME" : "ChecksumCRC32C";
    uint64_t whole = 0;
    int joined = checksum == HX_CRC_64NVME;
    out->len = 0;
    HX_TRY(hx_buf_append_str(out, "<CompleteMultipartUpload>"));
    for (size_t i = 0; i < n; i++) {
        HX_TRY(hx_buf_printf(out, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].number));
        HX_TRY(hx_s3_xml_escape(out, parts[i].etag));
        if (checksum != HX_CRC_NONE && parts[i].checksum)
            HX_TRY(hx_buf_printf(out, "</ETag><%s>%s</%s></Part>", elem, parts[i].checksum, elem));
        else
            HX_TRY(hx_buf_append_str(out, "</ETag></Part>"));
        /* CRC(A||B) from CRC(A), CRC(B) and |B|: the parts in order give
         * the object's CRC without its bytes */
        if (joined && parts[i].checksum == NULL) joined = 0;
        if (joined) whole = i == 0 ? parts[i].crc : hx_crc_combine(checksum, whole, parts[i].crc, parts[i].len);
    }
    if (full) {
        full[0] = '\0';
        if (joined && n > 0) hx_s3_checksum_base64(checksum, whole, full);
    }
    return hx_buf_append_str(out, "</CompleteMultipartUpload>");
}

hx_status hx_s3_mpu_complete_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                     const char *upload_id, const struct hx_buf *xml, char sha[65], int if_none_match,
                                     int checksum, const char *full) {
    struct hx_s3_header h[4];
    size_t nh = 0;
    if (if_none_match) h[nh++] = (struct hx_s3_header){"if-none-match", "*"};
    h[nh++] = (struct hx_s3_header){"content-type", "application/xml"};
    if (checksum == HX_CRC_64NVME && full && full[0]) {
        /* the store compares it with what it joins from the parts (BadDigest) */
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-crc64nvme", full};
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-type", "FULL_OBJECT"};
    }
    hx_sha256_hex(xml->data, xml->len, sha);
    struct hx_buf q;
    HX_TRY(upload_query(&q, "", upload_id));
    no_body(req);
    req->sink = HX_SINK_BUF;
    req->body_cap = SMALL_XML_CAP;
    req->has_body = 1;
    req->body_data = (const uint8_t *)xml->data;
    req->body_len = xml->len;
    hx_status s = hx_s3_build_request(s3, req, "POST", bucket, key, q.data, sha, h, nh);
    hx_buf_reset(&q);
    return s;
}

hx_status hx_s3_mpu_abort_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                  const char *upload_id) {
    struct hx_buf q;
    HX_TRY(upload_query(&q, "", upload_id));
    no_body(req);
    hx_status s = hx_s3_build_request(s3, req, "DELETE", bucket, key, q.data, NULL, NULL, 0);
    hx_buf_reset(&q);
    return s;
}

hx_status hx_s3_mpu_list_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *prefix,
                                 const char *key_marker, const char *upload_id_marker) {
    /* Canonical query: parameters sorted by name, values encoded. */
    struct hx_buf q;
    hx_buf_init(&q);
    hx_status s = hx_buf_append_str(&q, "encoding-type=url");
    if (s == HOIST_OK && key_marker && key_marker[0]) {
        s = hx_buf_append_str(&q, "&key-marker=");
        if (s == HOIST_OK) s = hx_s3_uri_encode(&q, key_marker, strlen(key_marker), 0);
    }
    if (s == HOIST_OK) s = hx_buf_append_str(&q, "&prefix=");
    if (s == HOIST_OK && prefix) s = hx_s3_uri_encode(&q, prefix, strlen(prefix), 0);
    if (s == HOIST_OK && upload_id_marker && upload_id_marker[0]) {
        s = hx_buf_append_str(&q, "&upload-id-marker=");
        if (s == HOIST_OK) s = hx_s3_uri_encode(&q, upload_id_marker, strlen(upload_id_marker), 0);
    }
    if (s == HOIST_OK) s = hx_buf_append_str(&q, "&uploads=");
    if (s == HOIST_OK) {
        no_body(req);
        req->sink = HX_SINK_BUF;
        req->body_cap = LIST_XML_CAP;
        s = hx_s3_build_request(s3, req, "GET", bucket, NULL, q.data, NULL, NULL, 0);
    }
    hx_buf_reset(&q);
    return s;
}
