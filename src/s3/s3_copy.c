/* Server-side copy on the wire: CopyObject, and for large objects a
 * multipart upload whose parts are UploadPartCopy ranges of the source, so
 * no byte passes through the client (S3 API: CopyObject, UploadPartCopy). */
#include "s3.h"

#include <stdio.h>
#include <string.h>

#define COPY_XML_CAP (1 << 16)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* x-amz-copy-source: "/bucket/key", URL-encoded, '/' kept (botocore
 * quotes everything but unreserved characters and '/'). */
static hx_status copy_source(struct hx_buf *out, const char *bucket, const char *key) {
    hx_buf_init(out);
    hx_status st = hx_buf_append(out, "/", 1);
    if (st == HOIST_OK) st = hx_s3_uri_encode(out, bucket, strlen(bucket), 0);
    if (st == HOIST_OK) st = hx_buf_append(out, "/", 1);
    if (st == HOIST_OK) st = hx_s3_uri_encode(out, key, strlen(key), 1);
    if (st != HOIST_OK) hx_buf_reset(out);
    return st;
}

static void answer_in_body(struct hx_net_req *req) {
    req->sink = HX_SINK_BUF;
    req->body_cap = COPY_XML_CAP;
    req->has_body = 0;
    req->body_data = NULL;
    req->body_len = 0;
}

hx_status hx_s3_copy_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                             const char *src_bucket, const char *src_key, const char *src_etag) {
    struct hx_buf src;
    HX_TRY(copy_source(&src, src_bucket, src_key));
    struct hx_s3_header h[4];
    size_t nh = 0;
    h[nh++] = (struct hx_s3_header){"x-amz-copy-source", src.data};
    if (src_etag && src_etag[0]) h[nh++] = (struct hx_s3_header){"x-amz-copy-source-if-match", src_etag};
    /* The directive COPY keeps type and metadata: only encryption is ours. */
    if (s3->set.sse) h[nh++] = (struct hx_s3_header){"x-amz-server-side-encryption", s3->set.sse};
    if (s3->set.sse_kms_key_id)
        h[nh++] = (struct hx_s3_header){"x-amz-server-side-encryption-aws-kms-key-id", s3->set.sse_kms_key_id};
    answer_in_body(req);
    hx_status st = hx_s3_build_request(s3, req, "PUT", bucket, key, NULL, EMPTY_SHA256, h, nh);
    hx_buf_reset(&src);
    return st;
}

hx_status hx_s3_copy_create_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                    const char *content_type, const char *meta_header) {
    struct hx_s3_header h[1 + HX_S3_OBJECT_HEADERS];
    size_t nh = hx_s3_object_headers(s3, content_type, h);
    if (meta_header) h[nh++] = (struct hx_s3_header){"x-amz-meta-metaflow-user-attributes", meta_header};
    answer_in_body(req);
    req->has_body = 1;
    req->body_data = (const uint8_t *)"";
    return hx_s3_build_request(s3, req, "POST", bucket, key, "uploads=", EMPTY_SHA256, h, nh);
}

hx_status hx_s3_copy_part_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                  const char *upload_id, int number, const char *src_bucket, const char *src_key,
                                  const char *src_etag, uint64_t first, uint64_t last) {
    struct hx_buf src, q;
    HX_TRY(copy_source(&src, src_bucket, src_key));
    hx_buf_init(&q);
    hx_status st = hx_buf_printf(&q, "partNumber=%d&uploadId=", number);
    if (st == HOIST_OK) st = hx_s3_uri_encode(&q, upload_id, strlen(upload_id), 0);
    char range[64];
    snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)first, (unsigned long long)last);
    struct hx_s3_header h[3];
    size_t nh = 0;
    h[nh++] = (struct hx_s3_header){"x-amz-copy-source", src.data};
    if (src_etag && src_etag[0]) h[nh++] = (struct hx_s3_header){"x-amz-copy-source-if-match", src_etag};
    h[nh++] = (struct hx_s3_header){"x-amz-copy-source-range", range};
    answer_in_body(req);
    if (st == HOIST_OK) st = hx_s3_build_request(s3, req, "PUT", bucket, key, q.data, EMPTY_SHA256, h, nh);
    hx_buf_reset(&src);
    hx_buf_reset(&q);
    return st;
}
