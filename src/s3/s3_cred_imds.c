/* The EC2 instance metadata provider, IMDSv2: PUT a session token, then
 * read the instance role's name and its credentials (EC2 user guide,
 * "Retrieve security credentials from instance metadata"). Short timeouts,
 * as the SDKs use, so hosts that are not on EC2 fail fast. */
#include "s3_cred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMDS_MAX_BODY (64 * 1024)
#define ROLE_PATH "/latest/meta-data/iam/security-credentials/"

struct imds {
    char base[512];
    long timeout_ms;
    int attempts;
    char token_line[160]; /* "X-aws-ec2-metadata-token: ..." or "" (IMDSv1) */
};

static int imds_disabled(void) { return hx_s3_env_true("AWS_EC2_METADATA_DISABLED"); }

static void imds_setup(struct imds *m) {
    const char *ep = hx_s3_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    snprintf(m->base, sizeof m->base, "%s", ep ? ep : "http://169.254.169.254");
    size_t n = strlen(m->base);
    while (n > 0 && m->base[n - 1] == '/') m->base[--n] = '\0';
    const char *t = hx_s3_env("AWS_METADATA_SERVICE_TIMEOUT"), *a = hx_s3_env("AWS_METADATA_SERVICE_NUM_ATTEMPTS");
    double secs = t ? strtod(t, NULL) : 1.0;
    m->timeout_ms = secs > 0 && secs < 60 ? (long)(secs * 1000) : 1000;
    long na = a ? strtol(a, NULL, 10) : 1;
    m->attempts = na >= 1 && na <= 10 ? (int)na : 1;
    m->token_line[0] = '\0';
}

/* One GET with the session token, retried up to m->attempts times. */
static hx_status imds_get(struct imds *m, const char *path, struct hx_buf *out) {
    char url[1024];
    snprintf(url, sizeof url, "%s%s", m->base, path);
    const char *headers[2] = {m->token_line[0] ? m->token_line : NULL, NULL};
    hx_status st = HOIST_OK;
    for (int i = 0; i < m->attempts; i++) {
        long status = 0;
        st = hx_s3_cred_http("GET", url, headers, NULL, m->timeout_ms, IMDS_MAX_BODY, &status, out);
        if (st == HOIST_OK && status == 200) return HOIST_OK;
        if (st == HOIST_OK) st = hx_error(HOIST_ERR_CREDENTIALS, "IMDS %s: HTTP %ld", url, status);
        if (st == HOIST_ERR_NOMEM) break;
    }
    return st;
}

/* IMDSv2 token; falls back to IMDSv1 only when the PUT is refused with
 * 403/404/405 or times out and AWS_EC2_METADATA_V1_DISABLED is not set
 * (SDK reference, "IMDS credential provider"); a 400 is never retried. */
static hx_status imds_token(struct imds *m) {
    char url[600];
    snprintf(url, sizeof url, "%s/latest/api/token", m->base);
    const char *headers[2] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    struct hx_buf body;
    hx_buf_init(&body);
    long status = 0;
    hx_status st = hx_s3_cred_http("PUT", url, headers, "", m->timeout_ms, 4096, &status, &body);
    if (st == HOIST_OK && status == 200) {
        size_t n = body.len;
        while (n > 0 && (body.data[n - 1] == '\n' || body.data[n - 1] == '\r' || body.data[n - 1] == ' ')) n--;
        if (n == 0 || n > 120 || memchr(body.data, '\n', n)) {
            st = hx_error(HOIST_ERR_CREDENTIALS, "IMDS %s: bad session token", url);
        } else {
            snprintf(m->token_line, sizeof m->token_line, "X-aws-ec2-metadata-token: %.*s", (int)n, body.data);
        }
    } else if (st == HOIST_ERR_NOMEM) {
        /* keep */
    } else if (st == HOIST_OK && status == 400) {
        st = hx_error(HOIST_ERR_CREDENTIALS, "IMDS %s: HTTP 400 (bad token request)", url);
    } else if (st == HOIST_OK && status != 403 && status != 404 && status != 405) {
        st = hx_error(HOIST_ERR_CREDENTIALS, "IMDS %s: HTTP %ld", url, status);
    } else if (hx_s3_env_true("AWS_EC2_METADATA_V1_DISABLED")) {
        st = hx_error_prefix(st == HOIST_OK ? hx_error(HOIST_ERR_CREDENTIALS, "HTTP %ld", status) : st,
                             "IMDS: no IMDSv2 token and AWS_EC2_METADATA_V1_DISABLED is set");
    } else {
        HX_DEBUG("credentials: IMDS gave no session token, trying IMDSv1");
        st = HOIST_OK;
    }
    if (body.data) memset(body.data, 0, body.len);
    hx_buf_reset(&body);
    return st;
}

hx_status hx_s3_imds_fetch(struct hx_s3_cred_value *out, enum hx_cred_found *found, char *why, size_t why_cap) {
    *found = HX_CRED_NONE;
    if (imds_disabled()) {
        snprintf(why, why_cap, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
        return HOIST_OK;
    }
    struct imds m;
    imds_setup(&m);
    HX_DEBUG("credentials: IMDS at %s", m.base);
    HX_TRY(imds_token(&m));
    struct hx_buf body;
    hx_buf_init(&body);
    hx_status st = imds_get(&m, ROLE_PATH, &body);
    char role[256] = "";
    if (st == HOIST_OK) {
        size_t n = strcspn(body.data, "\r\n");
        if (n == 0 || n >= sizeof role || memchr(body.data, '/', n))
            st = hx_error(HOIST_ERR_CREDENTIALS, "IMDS: no instance role attached (role list is %s)",
                          n ? "malformed" : "empty");
        else
            snprintf(role, sizeof role, "%.*s", (int)n, body.data);
    }
    if (st == HOIST_OK) {
        char path[512];
        snprintf(path, sizeof path, ROLE_PATH "%s", role);
        st = imds_get(&m, path, &body);
        if (st == HOIST_OK) {
            struct hx_s3_json_fields f = {NULL, "AccessKeyId", "SecretAccessKey", "Token", "Expiration", 0};
            st = hx_s3_cred_from_json(body.data, body.len, &f, "IMDS role credentials", out);
        }
    }
    if (body.data) memset(body.data, 0, body.len);
    hx_buf_reset(&body);
    memset(m.token_line, 0, sizeof m.token_line);
    if (st == HOIST_OK) {
        snprintf(out->source, sizeof out->source, "IMDS role %.40s", role);
        *found = HX_CRED_FOUND;
    }
    return st;
}

hx_status hx_s3_imds_region(char **out) {
    *out = NULL;
    if (imds_disabled()) return HOIST_OK;
    struct imds m;
    imds_setup(&m);
    if (imds_token(&m) != HOIST_OK) return HOIST_OK; /* no region from IMDS: the caller's default stands */
    struct hx_buf body;
    hx_buf_init(&body);
    if (imds_get(&m, "/latest/meta-data/placement/region", &body) == HOIST_OK) {
        size_t n = strcspn(body.data, "\r\n ");
        if (n > 0 && n < 32) *out = hx_strndup(body.data, n);
    }
    hx_buf_reset(&body);
    memset(m.token_line, 0, sizeof m.token_line);
    hx_error_clear();
    return HOIST_OK;
}

/* In the chain a silent or absent IMDS is "not found", not an error: it is
 * the last provider, and botocore's InstanceMetadataProvider returns
 * nothing on failure. */
static hx_status imds_load(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out, enum hx_cred_found *found,
                           char *why, size_t why_cap) {
    if (in->eager) {
        *found = imds_disabled() ? HX_CRED_NONE : HX_CRED_DEFER;
        if (*found == HX_CRED_NONE) snprintf(why, why_cap, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
        return HOIST_OK;
    }
    hx_status st = hx_s3_imds_fetch(out, found, why, why_cap);
    if (st == HOIST_ERR_CREDENTIALS) {
        const char *m = hoist_errmsg();
        snprintf(why, why_cap, "%s%s", strncmp(m, "IMDS", 4) == 0 ? "" : "IMDS ", m);
        *found = HX_CRED_NONE;
        hx_error_clear();
        return HOIST_OK;
    }
    return st;
}

const struct hx_s3_cred_provider hx_s3_cred_imds = {"IMDS", imds_load};
