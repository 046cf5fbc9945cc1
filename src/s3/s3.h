/*
 * s3.h — the s3 module's interface (the store layer includes it): the S3
 * protocol: settings and credentials chain, SigV4, key encoding, request
 * building, XML responses, x-amz-* response headers, error mapping.
 *
 * Threads: a struct hx_s3 is shared by all threads of a client; signing is
 * thread-safe (the cached signing key is locked). XML parsers and encoders
 * are pure functions.
 * Secrets (secret key, session token) never go into messages or logs.
 */
#ifndef HOIST_S3_H
#define HOIST_S3_H

#include "net.h"
#include "util_internal.h"

#include <pthread.h>

/* ---- settings ----------------------------------------------------------- */

/* Options given explicitly (NULL / -1 = unset). */
struct hx_s3_explicit {
    const char *endpoint, *region, *profile;
    const char *access_key, *secret_key, *session_token;
    const char *addressing;           /* "path", "virtual", "auto" */
    const char *sse, *sse_kms_key_id; /* server-side encryption of puts */
    const char *checksum;             /* "when_supported", "when_required", "always" */
    const char *role_arn;             /* assume this role with the credentials found */
    int no_sign;                      /* 1 = anonymous */
};

enum hx_s3_addressing { HX_S3_ADDR_AUTO = 0, HX_S3_ADDR_PATH = 1, HX_S3_ADDR_VIRTUAL = 2 };

/* Flexible checksums (SDK setting request_checksum_calculation; some
 * S3-compatible stores reject x-amz-checksum-* headers). */
enum hx_s3_checksum {
    HX_S3_CK_WHEN_SUPPORTED = 0, /* CRC32C on uploads; checksum mode on whole GETs */
    HX_S3_CK_WHEN_REQUIRED = 1,  /* no x-amz-checksum-* at all; Content-MD5 on uploads */
    HX_S3_CK_ALWAYS = 2          /* as when_supported, and a whole GET must carry a checksum */
};
/* The mode for a setting's text, or -1. */
int hx_s3_checksum_parse(const char *s);

/* Resolved settings. Strings are owned. */
struct hx_s3_settings {
    char *endpoint;      /* scheme://host[:port], no trailing '/' */
    int endpoint_is_aws; /* the default AWS endpoint (virtual addressing allowed) */
    char *region;
    char *access_key, *secret_key, *session_token;
    int anonymous;
    int have_credentials;
    enum hx_s3_addressing addressing;
    char *profile;
    char *sse, *sse_kms_key_id; /* NULL: none sent */
    enum hx_s3_checksum checksum;
    char *role_arn;
    char creds_source[64]; /* "options", "environment", "profile default" (for messages) */
    char missing_why[600]; /* why no static credentials were found */
    /* For the credential chain, which runs at the first request when no
     * static credentials were found (s3_cred_chain.c). */
    char *cred_file, *conf_file;
    int profile_explicit;
    int region_defaulted;    /* no region was set anywhere (us-east-1 assumed) */
    const char *deferred_to; /* the provider that will fetch ("IMDS", ...) or NULL */
};

/* Fills out from explicit > environment > ~/.aws files (docs/store.md).
 * Finding no credentials is not an error here (file:// needs none); the
 * first S3 request fails with HOIST_ERR_CREDENTIALS instead. A bad endpoint
 * or unreadable profile is an error. */
HOIST_NODISCARD hx_status hx_s3_settings_resolve(const struct hx_s3_explicit *ex, struct hx_s3_settings *out);
/* 1 when r can be a region: one hostname label (letters, digits, inner '-',
 * 1 to 63 bytes). It goes into hostnames and the signing scope. */
int hx_s3_region_valid(const char *r);
void hx_s3_settings_reset(struct hx_s3_settings *s);

/* Reads `key` of section `section` ("default", "profile x", or "x") of an
 * INI file; subkey non-NULL reads a nested "s3 =" block entry. Returns a
 * copy in *out (NULL if absent). Missing file: HOIST_OK with *out NULL. */
HOIST_NODISCARD hx_status hx_s3_ini_get(const char *path, const char *section, const char *key, const char *subkey,
                                        char **out);

/* ---- client ------------------------------------------------------------- */

struct hx_s3_creds;
struct hx_s3_cred_cache;

struct hx_s3 {
    struct hx_s3_settings set;
    struct hx_s3_creds *static_creds;    /* options, environment or profile keys */
    struct hx_s3_cred_cache *cred_cache; /* else: the process-wide temporary credentials */
    struct hx_s3_creds *role_source;     /* with a role: the static credentials that assume it */
    uint64_t key_generation;             /* the credentials signing_key was derived from */
    char *scheme_host;                   /* "http://127.0.0.1:8333" */
    char *host;                          /* host[:port] for the Host header */
    pthread_mutex_t key_lock;
    char key_date[9];
    uint8_t signing_key[32];
};

HOIST_NODISCARD hx_status hx_s3_init(struct hx_s3 *s3, const struct hx_s3_explicit *ex);
/* Where the client's credentials come from now ("environment", "web
 * identity", ...; "anonymous"; "none yet" before the chain first ran). */
void hx_s3_creds_source(struct hx_s3 *s3, char *out, size_t cap);
void hx_s3_cleanup(struct hx_s3 *s3);

struct hx_s3_header {
    const char *name; /* lowercase */
    const char *value;
};

/* Builds req->method, req->url and req->headers (replacing old ones) for one
 * signed request. key may be NULL or "" for bucket operations, bucket NULL
 * for the service. query is the canonical query string (sorted, encoded) or
 * NULL. payload_hash NULL means UNSIGNED-PAYLOAD. */
HOIST_NODISCARD hx_status hx_s3_build_request(struct hx_s3 *s3, struct hx_net_req *req, const char *method,
                                              const char *bucket, const char *key, const char *query,
                                              const char *payload_hash, const struct hx_s3_header *extra,
                                              size_t nextra);

/* The headers every object-creating request carries (PutObject,
 * CreateMultipartUpload): the content type (binary/octet-stream when none
 * is given, what AWS stores, so objects read back the same on every
 * S3-compatible store) and the server-side encryption settings. Writes at
 * most HX_S3_OBJECT_HEADERS entries into h (borrowed strings); returns how
 * many. */
#define HX_S3_OBJECT_HEADERS 3
size_t hx_s3_object_headers(const struct hx_s3 *s3, const char *content_type, struct hx_s3_header *h);
/* The integrity header of an upload body (PutObject, UploadPart): its
 * CRC32C (crc32c, base64) or, in when_required mode, its Content-MD5
 * (computed into md5). Writes one entry into h. */
void hx_s3_body_checksum_header(const struct hx_s3 *s3, const uint8_t *data, uint64_t len, const char *crc32c,
                                char md5[25], struct hx_s3_header *h);

/* ---- multipart uploads (s3_multipart.c) ---------------------------------- */

/* Builders of one attempt of each multipart request: they set req's method,
 * URL, signed headers, body (borrowed: keep it alive for the transfer) and
 * sink (Create, Complete and List answer into req->body). upload_id is the
 * one Create returned (its <UploadId>).
 *
 * checksum (an enum hx_crc_kind) is how the upload protects its parts and
 * the object, chosen at Create and the same for its parts and Complete:
 * HX_CRC_64NVME declares CRC64NVME with x-amz-checksum-type FULL_OBJECT
 * (each part carries its CRC64NVME, Complete the whole object's, which the
 * store keeps and returns on GET: downloads verify it); HX_CRC_32C declares
 * CRC32C with the default COMPOSITE type (a store that refuses FULL_OBJECT);
 * HX_CRC_NONE sends no x-amz-checksum-* (checksum mode when_required:
 * parts carry Content-MD5). */
HOIST_NODISCARD hx_status hx_s3_mpu_create_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                   const char *key, const char *content_type, const char *meta_header,
                                                   int checksum);
/* value: the part's checksum in the header format (hx_s3_body_crc); the
 * server checks the body against it (BadDigest). Unused for HX_CRC_NONE. */
HOIST_NODISCARD hx_status hx_s3_mpu_part_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                 const char *key, const char *upload_id, int number,
                                                 const uint8_t *data, uint64_t len, int checksum, const char *value);
struct hx_s3_part_ref {
    int number;           /* 1..10000, ascending */
    const char *etag;     /* as UploadPart returned it */
    const char *checksum; /* the part's checksum (header format), or NULL */
    uint64_t crc;         /* its value (hx_s3_body_crc) */
    uint64_t len;         /* the part's length */
};
/* The CompleteMultipartUpload document for parts (replaces out's text),
 * listing each part's checksum of kind checksum. For HX_CRC_64NVME it also
 * joins the parts' CRCs in order (hx_crc_combine) into the whole object's,
 * written to full (header format); full is "" otherwise. full may be NULL
 * when checksum is not HX_CRC_64NVME. */
HOIST_NODISCARD hx_status hx_s3_mpu_complete_xml(struct hx_buf *out, const struct hx_s3_part_ref *parts, size_t n,
                                                 int checksum, char full[16]);
/* xml: from hx_s3_mpu_complete_xml, kept alive for the transfer; sha: space
 * for its SHA-256 (kept alive too). if_none_match: fail with 412 when the
 * key exists. checksum/full: the upload's kind and, for a FULL_OBJECT one,
 * the object's checksum (sent as x-amz-checksum-crc64nvme with
 * x-amz-checksum-type FULL_OBJECT; the store refuses a mismatch). A 200 may
 * still carry an <Error>: check req->body. */
HOIST_NODISCARD hx_status hx_s3_mpu_complete_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                     const char *key, const char *upload_id, const struct hx_buf *xml,
                                                     char sha[65], int if_none_match, int checksum, const char *full);
HOIST_NODISCARD hx_status hx_s3_mpu_abort_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                  const char *key, const char *upload_id);
/* One page of ListMultipartUploads under prefix (markers NULL for the first). */
HOIST_NODISCARD hx_status hx_s3_mpu_list_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                 const char *prefix, const char *key_marker,
                                                 const char *upload_id_marker);

/* ---- server-side copy (s3_copy.c) ----------------------------------------- */

/* CopyObject of src_bucket/src_key to bucket/key (the source's type and
 * metadata are kept: metadata directive COPY), only if the source still has
 * src_etag (x-amz-copy-source-if-match; NULL: unconditional). The answer goes
 * into req->body: a 200 may still carry an <Error> (S3 API: CopyObject). */
HOIST_NODISCARD hx_status hx_s3_copy_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                             const char *key, const char *src_bucket, const char *src_key,
                                             const char *src_etag);
/* CreateMultipartUpload for a copy: the source's content type and metadata
 * header (may be NULL), the SSE settings, no checksum algorithm (copied
 * parts carry none of ours). */
HOIST_NODISCARD hx_status hx_s3_copy_create_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                    const char *key, const char *content_type, const char *meta_header);
/* UploadPartCopy of bytes [first, last] of the source as part `number`. */
HOIST_NODISCARD hx_status hx_s3_copy_part_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                  const char *key, const char *upload_id, int number,
                                                  const char *src_bucket, const char *src_key, const char *src_etag,
                                                  uint64_t first, uint64_t last);

/* ---- SigV4 (AWS docs "Signature Version 4 for Amazon S3") --------------- */

/* Authorization header value. headers: lowercase names, values trimmed,
 * sorted by name, and including host and x-amz-date. amz_date is
 * "YYYYMMDDTHHMMSSZ". signing_key: 32 bytes from hx_s3_signing_key. */
HOIST_NODISCARD hx_status hx_s3_sigv4_authorization(const char *method, const char *canonical_uri,
                                                    const char *canonical_query, const struct hx_s3_header *headers,
                                                    size_t n, const char *payload_hash, const char *amz_date,
                                                    const char *region, const char *access_key,
                                                    const uint8_t signing_key[32], struct hx_buf *out);
void hx_s3_signing_key(const char *secret, const char *date8, const char *region, uint8_t out[32]);
/* The same for any service (STS signs AssumeRole with "sts"). */
void hx_s3_sigv4_key(const char *secret, const char *date8, const char *region, const char *service, uint8_t out[32]);
HOIST_NODISCARD hx_status hx_s3_sigv4_authorization_for(const char *service, const char *method,
                                                        const char *canonical_uri, const char *canonical_query,
                                                        const struct hx_s3_header *headers, size_t n,
                                                        const char *payload_hash, const char *amz_date,
                                                        const char *region, const char *access_key,
                                                        const uint8_t signing_key[32], struct hx_buf *out);

void hx_sha256_hex(const void *data, size_t n, char out[65]);
void hx_md5_base64(const void *data, size_t n, char out[25]);
/* ---- full-object checksums (s3_checksum.c) ---------------------------- */

struct hx_s3_resp;

/* The checksum a whole-object GET or HEAD answer lets a client verify: the
 * first of x-amz-checksum-crc64nvme, -crc32c, -crc32 present (botocore's
 * priority among the ones hoist computes) that is a full-object value.
 * COMPOSITE values (a checksum of the part checksums, shown with a "-N"
 * suffix) cannot be checked from the bytes alone and are skipped, as
 * botocore skips them. Returns an enum hx_crc_kind (HX_CRC_NONE when there
 * is nothing to verify, also for a malformed value) and sets *want. */
int hx_s3_full_checksum(const struct hx_s3_resp *r, uint64_t *want);
/* The algorithm's S3 name ("CRC64NVME") and a value in the header's format
 * (base64 of the big-endian digest) for messages. */
const char *hx_s3_checksum_name(int kind);
void hx_s3_checksum_base64(int kind, uint64_t value, char out[16]);

/* The checksum of an upload body of kind HX_CRC_32C or HX_CRC_64NVME: its
 * value, and (b64 not NULL) the header text. */
uint64_t hx_s3_body_crc(int kind, const void *data, uint64_t len, char b64[16]);
/* Whether a failed CreateMultipartUpload answer is a store refusing the
 * FULL_OBJECT checksum type or the CRC64NVME algorithm (HTTP 400 or 501 with
 * InvalidArgument, InvalidRequest or NotImplemented), so the upload can be
 * started again the older way (CRC32C, COMPOSITE). */
int hx_s3_full_object_refused(const struct hx_net_req *req);

/* A COMPOSITE checksum of a whole-object GET or HEAD answer: a CRC32C or
 * CRC32 value with the "-N" suffix S3 gives a CRC of the N parts' CRCs
 * (each part's CRC as big-endian bytes, in part order). Returns the kind
 * (HX_CRC_NONE when there is none, or it is malformed), sets *want and
 * *nparts (1..10000). Values without the suffix are not taken: moto marks
 * COMPOSITE objects by type only, with values it computes with CRC32 for
 * either algorithm. */
int hx_s3_composite_checksum(const struct hx_s3_resp *r, uint64_t *want, int *nparts);
/* GetObjectAttributes for ETag and ObjectParts (part sizes, 1,000 at a
 * time after part number marker): what a COMPOSITE checksum needs to be
 * checked. The answer goes into req->body. */
HOIST_NODISCARD hx_status hx_s3_object_parts_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket,
                                                     const char *key, int marker);
/* One GetObjectAttributes answer: sizes[number - 1] for each listed part
 * (numbers 1..cap; any other is HOIST_ERR_S3_BAD_RESPONSE). */
struct hx_s3_object_parts {
    char etag[136];   /* unquoted */
    int parts_count;  /* <PartsCount>, 0 when absent (no ObjectParts: the store does not list them) */
    int is_truncated; /* more after next_marker */
    int next_marker;
    int listed; /* parts in this answer */
};
HOIST_NODISCARD hx_status hx_s3_parse_object_parts(const char *xml, size_t len, uint64_t *sizes, int cap,
                                                   struct hx_s3_object_parts *out);

/* Base64 of a 32-bit big-endian value (x-amz-checksum-crc32c format). */
void hx_crc_base64(uint32_t crc, char out[9]);

/* Percent-encodes s (RFC 3986 unreserved kept; '/' kept when keep_slash),
 * appending to out. Every other byte, UTF-8 included, becomes %XX. */
HOIST_NODISCARD hx_status hx_s3_uri_encode(struct hx_buf *out, const char *s, size_t n, int keep_slash);
/* Decodes %XX (and '+' as space when plus_space) into out (NUL-terminated).
 * A bad escape, or %00 (a key is a C string: the NUL would cut it short),
 * is HOIST_ERR_S3_BAD_RESPONSE with a message quoting s. */
HOIST_NODISCARD hx_status hx_s3_url_decode(struct hx_buf *out, const char *s, size_t n, int plus_space);

/* ---- XML responses (expat; no DTDs or entities; bounded depth) --------- */

struct hx_s3_list_item {
    char *key; /* decoded */
    uint64_t size;
    int64_t last_modified;
    char *etag;
    int is_prefix;
};
struct hx_s3_list_page {
    struct hx_s3_list_item *items;
    size_t count, cap;
    int is_truncated;
    char *next_token;
};
/* Parses a ListObjectsV2 result; url_encoded when encoding-type=url was sent.
 * Appends to page (items from earlier pages are kept). */
HOIST_NODISCARD hx_status hx_s3_parse_list(const char *xml, size_t len, int url_encoded, struct hx_s3_list_page *page);
void hx_s3_list_page_reset(struct hx_s3_list_page *page);

/* ListMultipartUploads: the uploads started and neither completed nor
 * aborted. Appends to page; url_encoded as for hx_s3_parse_list. */
struct hx_s3_upload {
    char *key; /* decoded */
    char *upload_id;
    int64_t initiated; /* Unix seconds, 0 if unparseable */
};
struct hx_s3_upload_page {
    struct hx_s3_upload *items;
    size_t count, cap;
    int is_truncated;
    char *next_key_marker, *next_upload_id_marker;
};
HOIST_NODISCARD hx_status hx_s3_parse_uploads(const char *xml, size_t len, int url_encoded,
                                              struct hx_s3_upload_page *page);
void hx_s3_upload_page_reset(struct hx_s3_upload_page *page);

/* Follows a paginated listing's markers (continuation token, or key and
 * upload-id markers) and stops one that does not advance: a marker the
 * server already gave (the same one again, or a cycle A -> B -> A) would be
 * listed forever. Brent's cycle detection: O(1) memory however long the
 * listing; a cycle of L pages is seen within about 2L pages.
 * Zero-initialise; hx_s3_pager_reset frees. */
struct hx_s3_pager {
    char *mark; /* the marker of page 2^k */
    uint64_t pages, since_mark, power;
};
/* Records the marker that asks for the next page. A repeat is
 * HOIST_ERR_S3_BAD_RESPONSE with a message naming `what` (the listing's URL),
 * the marker and `name`, what the marker is called ("continuation token"). */
HOIST_NODISCARD hx_status hx_s3_pager_next(struct hx_s3_pager *p, const char *what, const char *name,
                                           const char *marker);
void hx_s3_pager_reset(struct hx_s3_pager *p);

/* From an <Error> document: Code and Message (truncated to their caps).
 * Returns 1 when the document is an S3 error. */
int hx_s3_parse_error(const char *xml, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap);

/* The text of the first element called `name` (e.g. UploadId). */
HOIST_NODISCARD hx_status hx_s3_xml_find(const char *xml, size_t len, const char *name, char **out);

/* DeleteObjects result: each <Error> as key/code/message. */
struct hx_s3_delete_error {
    char *key, *code, *message;
};
HOIST_NODISCARD hx_status hx_s3_parse_delete(const char *xml, size_t len, struct hx_s3_delete_error **errors,
                                             size_t *count);
void hx_s3_delete_errors_free(struct hx_s3_delete_error *errors, size_t count);

/* Appends s to out with XML escapes; control characters XML 1.0 cannot carry
 * give HOIST_ERR_BAD_URL. */
HOIST_NODISCARD hx_status hx_s3_xml_escape(struct hx_buf *out, const char *s);

/* ---- errors ------------------------------------------------------------- */

/* Status for an S3 error code (may be "" or NULL) with its HTTP status. */
hx_status hx_s3_status_for(long http_status, const char *code);
/* True when the request should be retried (5xx, SlowDown, RequestTimeout...). */
int hx_s3_transient(long http_status, const char *code);

/* Status for a transport error (a CURLcode) that will not be retried any more. */
hx_status hx_s3_transport_status(CURLcode code);

enum hx_s3_outcome { HX_S3_OK, HX_S3_RETRY, HX_S3_FAIL };

/* Sorts a finished attempt of an S3 request into success, retry (transient
 * HTTP or S3 error, or transport failure, while retries are left) or
 * failure; on failure *st and *err (hx_free; NULL when cancelled) say what
 * happened, naming url, with the S3 code and message and, on a wrong-region
 * answer, the bucket's region (from the response attached with
 * hx_s3_resp_attach). */
enum hx_s3_outcome hx_s3_classify(const struct hx_net_req *req, CURLcode code, const char *url, hx_status *st,
                                  char **err);

/* ---- responses ---------------------------------------------------------- */

/* The S3 headers of a response, read through the net request's header hook. */
struct hx_s3_resp {
    char checksum_crc32c[24]; /* base64, "-N" after a COMPOSITE one */
    char checksum_crc32[24];
    char checksum_crc64nvme[24];
    char checksum_type[24];  /* FULL_OBJECT or COMPOSITE */
    char request_id[64];     /* x-amz-request-id */
    char bucket_region[32];  /* x-amz-bucket-region (on a wrong-region 301) */
    char sse[24];            /* x-amz-server-side-encryption */
    struct hx_buf meta_json; /* x-amz-meta-metaflow-user-attributes (metaflow's layout) */
};
/* Makes req fill resp from each response's headers (reset per response).
 * resp must outlive the request's transfers; free it with hx_s3_resp_cleanup. */
void hx_s3_resp_attach(struct hx_s3_resp *resp, struct hx_net_req *req);
/* The response attached to req, or NULL. */
const struct hx_s3_resp *hx_s3_resp_of(const struct hx_net_req *req);
void hx_s3_resp_cleanup(struct hx_s3_resp *resp);
/* The hook itself (an hx_net_header_fn with ctx = struct hx_s3_resp). */
HOIST_NODISCARD hx_status hx_s3_resp_header(void *ctx, const char *name, size_t name_len, const char *value,
                                            size_t value_len);

/* The metadata header value for a JSON object of user metadata: one
 * x-amz-meta-metaflow-user-attributes header, non-ASCII as JSON \u escapes
 * (S3 metadata is ASCII, at most 2 KB: HOIST_ERR_LIMIT beyond). *out hx_free. */
HOIST_NODISCARD hx_status hx_s3_metadata_header(const char *json, char **out);

/* ISO 8601 "2009-10-12T17:50:30.000Z" and RFC 7231 "Sun, 06 Nov 1994
 * 08:49:37 GMT" to Unix seconds (0 when unparseable). */
int64_t hx_s3_parse_iso8601(const char *s);
int64_t hx_s3_parse_http_date(const char *s);

#endif /* HOIST_S3_H */
