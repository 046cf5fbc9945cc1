/* What S3 adds to an HTTP response: its x-amz-* headers (read through the
 * net layer's per-request header hook), the mapping of transport failures
 * and S3 error documents to statuses, and the user metadata header. */
#include "s3_cred.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- x-amz-* response headers ---------------------------------------------- */

static void reset_resp(struct hx_s3_resp *r) {
    struct hx_buf meta = r->meta_json;
    meta.len = 0;
    memset(r, 0, sizeof *r);
    r->meta_json = meta;
}

static int named(const char *name, size_t nlen, const char *want) {
    return strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

static void copy_field(char *dst, size_t cap, const char *v, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

hx_status hx_s3_resp_header(void *ctx, const char *name, size_t nlen, const char *v, size_t n) {
    struct hx_s3_resp *r = ctx;
    if (name == NULL) {
        reset_resp(r);
        return HOIST_OK;
    }
    if (nlen < 6 || strncasecmp(name, "x-amz-", 6) != 0) return HOIST_OK;
    if (named(name, nlen, "x-amz-checksum-crc32c")) {
        copy_field(r->checksum_crc32c, sizeof r->checksum_crc32c, v, n);
    } else if (named(name, nlen, "x-amz-checksum-crc32")) {
        copy_field(r->checksum_crc32, sizeof r->checksum_crc32, v, n);
    } else if (named(name, nlen, "x-amz-checksum-crc64nvme")) {
        copy_field(r->checksum_crc64nvme, sizeof r->checksum_crc64nvme, v, n);
    } else if (named(name, nlen, "x-amz-checksum-type")) {
        copy_field(r->checksum_type, sizeof r->checksum_type, v, n);
    } else if (named(name, nlen, "x-amz-bucket-region")) {
        copy_field(r->bucket_region, sizeof r->bucket_region, v, n);
    } else if (named(name, nlen, "x-amz-server-side-encryption")) {
        copy_field(r->sse, sizeof r->sse, v, n);
    } else if (named(name, nlen, "x-amz-request-id")) {
        copy_field(r->request_id, sizeof r->request_id, v, n);
    } else if (named(name, nlen, "x-amz-meta-metaflow-user-attributes")) {
        r->meta_json.len = 0;
        HX_FAIL_IF(hx_buf_append(&r->meta_json, v, n) != HOIST_OK, HOIST_ERR_NOMEM,
                   "out of memory reading object metadata");
        r->meta_json.data[r->meta_json.len] = '\0';
    }
    return HOIST_OK;
}

void hx_s3_resp_attach(struct hx_s3_resp *resp, struct hx_net_req *req) {
    req->on_header_line = hx_s3_resp_header;
    req->header_ctx = resp;
}

const struct hx_s3_resp *hx_s3_resp_of(const struct hx_net_req *req) {
    return req->on_header_line == hx_s3_resp_header ? req->header_ctx : NULL;
}

void hx_s3_resp_cleanup(struct hx_s3_resp *resp) {
    hx_buf_reset(&resp->meta_json);
    memset(resp, 0, sizeof *resp);
}

/* ---- statuses ---------------------------------------------------------------- */

hx_status hx_s3_transport_status(CURLcode code) {
    switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_COULDNT_RESOLVE_HOST: return HOIST_ERR_BAD_URL;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR: return HOIST_ERR_TLS;
    case CURLE_OPERATION_TIMEDOUT: return HOIST_ERR_S3_TIMEOUT;
    case CURLE_OUT_OF_MEMORY: return HOIST_ERR_NOMEM;
    case CURLE_PARTIAL_FILE: return HOIST_ERR_S3_BAD_RESPONSE;
    default: return HOIST_ERR_NET;
    }
}

/* The access key id the request was signed with, from its Authorization
 * header ("... Credential=AKID/date/region/s3/aws4_request, ..."). */
static int signed_access_key(const struct hx_net_req *req, char *out, size_t cap) {
    for (const struct curl_slist *l = req->headers; l; l = l->next) {
        if (strncasecmp(l->data, "Authorization:", 14) != 0) continue;
        const char *c = strstr(l->data, "Credential=");
        if (c == NULL) return 0;
        c += 11;
        size_t n = strcspn(c, "/");
        if (n == 0 || n >= cap) return 0;
        memcpy(out, c, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* Temporary credentials can expire between signing and the server's check
 * (a long transfer, a clock off by a little): the entry that handed them
 * out refreshes, and the request is signed again with new ones. */
static int expired_and_refreshable(const struct hx_net_req *req, const char *scode) {
    if (strcmp(scode, "ExpiredToken") != 0 && strcmp(scode, "TokenRefreshRequired") != 0) return 0;
    char ak[128];
    if (!signed_access_key(req, ak, sizeof ak) || !hx_s3_creds_expired(ak)) return 0;
    HX_INFO("credentials expired (%s): refreshing and retrying", scode);
    return 1;
}

/* What an authentication failure says about its cause. The server's words
 * for SignatureDoesNotMatch ("Check your key and signing method") cover two
 * different faults: a secret key that does not belong to the access key id,
 * and a request whose signed parts differ between the two ends (a header a
 * proxy rewrote, or one the client and the server canonicalized
 * differently). The server cannot tell them apart, so neither can we:
 * name both rather than blame the credentials. */
static const char *auth_hint(const char *scode) {
    if (strcmp(scode, "SignatureDoesNotMatch") == 0)
        return " (the server computed a different request signature: either the secret key does not match the "
               "access key id, or a signed header or the URL was changed on the way, e.g. by a proxy)";
    if (strcmp(scode, "InvalidAccessKeyId") == 0) return " (the server does not know this access key id)";
    if (strcmp(scode, "RequestTimeTooSkewed") == 0)
        return " (this machine's clock differs from the server's by more than 15 minutes)";
    if (strcmp(scode, "ExpiredToken") == 0 || strcmp(scode, "TokenRefreshRequired") == 0)
        return " (the session token has expired: get new temporary credentials)";
    return "";
}

enum hx_s3_outcome hx_s3_classify(const struct hx_net_req *req, CURLcode code, const char *url, hx_status *st,
                                  char **err) {
    *err = NULL;
    if (req->body_too_long) {
        *st = HOIST_ERR_S3_BAD_RESPONSE;
        *err = hx_asprintf("%s: %s", url, req->abort_msg);
        return HX_S3_FAIL;
    }
    if (req->abort_status != HOIST_OK) {
        *st = req->abort_status;
        if (*st != HOIST_ERR_CANCELLED) *err = hx_asprintf("%s: %s", url, req->abort_msg);
        return HX_S3_FAIL;
    }
    char tries[48] = "";
    if (req->attempt > 0) snprintf(tries, sizeof tries, " (after %d attempts)", req->attempt + 1);
    if (code != CURLE_OK) {
        if (hx_net_curl_transient(code) && hx_net_can_retry(req)) return HX_S3_RETRY;
        *st = hx_s3_transport_status(code);
        *err =
            hx_asprintf("%s: %s%s%s%s", url, curl_easy_strerror(code), req->errbuf[0] ? ": " : "", req->errbuf, tries);
        return HX_S3_FAIL;
    }
    long http = req->resp.status;
    if (http >= 200 && http < 300) return HX_S3_OK;
    char scode[64], msg[256];
    hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg);
    if (hx_s3_transient(http, scode) && hx_net_can_retry(req)) return HX_S3_RETRY;
    if (hx_net_can_retry(req) && expired_and_refreshable(req, scode)) return HX_S3_RETRY;
    *st = hx_s3_status_for(http, scode);
    if (scode[0] == '\0' && http == 404) snprintf(scode, sizeof scode, "NoSuchKey");
    char hint[200] = "";
    const struct hx_s3_resp *s3r = hx_s3_resp_of(req);
    if (s3r && s3r->bucket_region[0] && (http == 301 || http == 400))
        snprintf(hint, sizeof hint, " (the bucket is in region %s: set AWS_REGION or the region option)",
                 s3r->bucket_region);
    else
        snprintf(hint, sizeof hint, "%s", auth_hint(scode));
    *err = hx_asprintf("%s: HTTP %ld%s%s%s%s%s%s", url, http, scode[0] ? " " : "", scode, msg[0] ? ": " : "", msg, hint,
                       tries);
    return HX_S3_FAIL;
}

/* ---- user metadata ----------------------------------------------------------- */

/* User metadata travels as one header (metaflow's layout); S3 user metadata
 * must be ASCII and at most 2 KB, so non-ASCII becomes JSON \u escapes (the
 * same JSON value: json.dumps does this by default). */
hx_status hx_s3_metadata_header(const char *json, char **out) {
    *out = NULL;
    const char *s = json;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    HX_FAIL_IF(n < 2 || s[0] != '{' || s[n - 1] != '}', HOIST_ERR_INVALID_ARG,
               "metadata must be a JSON object ({...})");
    struct hx_buf b;
    hx_buf_init(&b);
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < n && st == HOIST_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r') {
            st = hx_buf_append(&b, " ", 1);
        } else if (c < 0x20 || c == 0x7f) {
            st = hx_error(HOIST_ERR_INVALID_ARG, "metadata has a control character");
        } else if (c < 0x80) {
            st = hx_buf_append(&b, &s[i], 1);
        } else {
            int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
            uint32_t cp = c & (extra == 3 ? 0x07 : extra == 2 ? 0x0f : 0x1f);
            if (extra < 0 || i + (size_t)extra >= n) {
                st = hx_error(HOIST_ERR_INVALID_ARG, "metadata is not valid UTF-8");
                break;
            }
            for (int k = 1; k <= extra; k++) {
                unsigned char cc = (unsigned char)s[i + (size_t)k];
                if ((cc & 0xc0) != 0x80) {
                    st = hx_error(HOIST_ERR_INVALID_ARG, "metadata is not valid UTF-8");
                    break;
                }
                cp = (cp << 6) | (cc & 0x3f);
            }
            if (st != HOIST_OK) break;
            i += (size_t)extra;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                st = hx_buf_printf(&b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                st = hx_buf_printf(&b, "\\u%04x", cp);
            }
        }
    }
    if (st == HOIST_OK && b.len > 2048)
        st = hx_error(HOIST_ERR_LIMIT, "metadata is %zu bytes; S3 allows 2 KB of user metadata", b.len);
    if (st != HOIST_OK) {
        hx_buf_reset(&b);
        return st;
    }
    *out = hx_buf_detach(&b);
    HX_FAIL_IF(*out == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}
