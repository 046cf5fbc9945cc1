/* STS calls for the credential chain: AssumeRole (signed with the source
 * credentials, SigV4 service "sts") and AssumeRoleWithWebIdentity (unsigned:
 * the STS model marks it noAuth). Query protocol: a form-encoded POST,
 * an XML answer (STS API reference, version 2011-06-15). */
#include "s3_cred.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STS_TIMEOUT_MS 5000
#define STS_MAX_BODY (64 * 1024)

/* AWS_ENDPOINT_URL_STS > AWS_ENDPOINT_URL > the regional endpoint (the SDKs'
 * default since 2025: sts_regional_endpoints=regional). */
static char *sts_endpoint(const char *region) {
    const char *e = hx_s3_env("AWS_ENDPOINT_URL_STS");
    if (e == NULL) e = hx_s3_env("AWS_ENDPOINT_URL");
    if (e) {
        char *u = hx_strdup(e);
        if (u == NULL) return NULL;
        /* an endpoint may carry a path; the request goes to that path */
        if (strstr(u, "://") && strchr(strstr(u, "://") + 3, '/') == NULL) {
            char *v = hx_asprintf("%s/", u);
            hx_free(u);
            return v;
        }
        return u;
    }
    const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    return hx_asprintf("https://sts.%s.%s/", region, suffix);
}

static hx_status form_add(struct hx_buf *b, const char *name, const char *value) {
    HX_TRY(hx_buf_printf(b, "%s%s=", b->len ? "&" : "", name));
    return hx_s3_uri_encode(b, value, strlen(value), 0);
}

/* The Authorization and date headers of a signed STS POST. */
static hx_status sign(const char *url, const char *region, const char *body, const struct hx_s3_cred_value *src,
                      char amz_date[17], struct hx_buf *auth) {
    const char *hs = strstr(url, "://");
    HX_FAIL_IF(hs == NULL, HOIST_ERR_CREDENTIALS, "STS endpoint '%s' has no scheme", url);
    hs += 3;
    const char *path = strchr(hs, '/');
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(path ? (size_t)(path - hs) : strlen(hs)), hs);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm);
    char date8[9];
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    char payload_hash[65];
    hx_sha256_hex(body, strlen(body), payload_hash);
    struct hx_s3_header h[4] = {
        {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"host", host},
        {"x-amz-date", amz_date},
        {"x-amz-security-token", src->session_token},
    };
    size_t n = src->session_token ? 4 : 3;
    uint8_t key[32];
    hx_s3_sigv4_key(src->secret_key, date8, region, "sts", key);
    hx_status st = hx_s3_sigv4_authorization_for("sts", "POST", path ? path : "/", "", h, n, payload_hash, amz_date,
                                                 region, src->access_key, key, auth);
    memset(key, 0, sizeof key);
    return st;
}

static hx_status parse_answer(const char *action, const char *url, long status, const struct hx_buf *body,
                              struct hx_s3_cred_value *out, int *retryable) {
    *retryable = 0;
    if (status != 200) {
        char code[64], msg[256];
        hx_s3_parse_error(body->data, body->len, code, sizeof code, msg, sizeof msg);
        /* IDPCommunicationError is transient (botocore _retry.json). */
        *retryable = status >= 500 || strcmp(code, "IDPCommunicationError") == 0 || strcmp(code, "Throttling") == 0;
        HX_FAIL(HOIST_ERR_CREDENTIALS, "STS %s at %s: HTTP %ld%s%s%s%s", action, url, status, code[0] ? " " : "", code,
                msg[0] ? ": " : "", msg);
    }
    static const char *const names[4] = {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"};
    char *v[4] = {NULL, NULL, NULL, NULL};
    hx_status st = HOIST_OK;
    for (int i = 0; i < 4 && st == HOIST_OK; i++) st = hx_s3_xml_find(body->data, body->len, names[i], &v[i]);
    if (st != HOIST_OK) {
        hx_status e = hx_error_prefix(HOIST_ERR_CREDENTIALS, "STS %s at %s", action, url);
        (void)e;
        st = HOIST_ERR_CREDENTIALS;
    } else {
        memset(out, 0, sizeof *out);
        out->access_key = v[0];
        out->secret_key = v[1];
        out->session_token = v[2];
        out->expiration = hx_s3_parse_iso8601(v[3]);
        v[0] = v[1] = v[2] = NULL;
        if (out->expiration <= 0) {
            hx_s3_cred_value_reset(out);
            st = hx_error(HOIST_ERR_CREDENTIALS, "STS %s at %s: Expiration '%s' is not a time", action, url, v[3]);
        }
    }
    hx_free(v[0]);
    if (v[1]) memset(v[1], 0, strlen(v[1]));
    hx_free(v[1]);
    if (v[2]) memset(v[2], 0, strlen(v[2]));
    hx_free(v[2]);
    hx_free(v[3]);
    return st;
}

/* Posts the form (signed with src when non-NULL), up to 3 attempts for
 * transient answers. */
static hx_status sts_call(const struct hx_s3_cred_input *in, const char *action, const struct hx_buf *form,
                          const struct hx_s3_cred_value *src, struct hx_s3_cred_value *out) {
    char *url = sts_endpoint(in->region);
    HX_FAIL_IF(url == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hx_buf body, auth, line_auth, line_date, line_tok;
    hx_buf_init(&body);
    hx_buf_init(&auth);
    hx_buf_init(&line_auth);
    hx_buf_init(&line_date);
    hx_buf_init(&line_tok);
    hx_status st = HOIST_OK;
    HX_DEBUG("credentials: STS %s at %s", action, url);
    for (int attempt = 0; attempt < 3; attempt++) {
        const char *headers[6];
        size_t nh = 0;
        headers[nh++] = "Content-Type: application/x-www-form-urlencoded; charset=utf-8";
        headers[nh++] = "Accept:";
        if (src) {
            char amz_date[17];
            st = sign(url, in->region, form->data, src, amz_date, &auth);
            line_auth.len = line_date.len = line_tok.len = 0;
            if (st == HOIST_OK) st = hx_buf_printf(&line_auth, "Authorization: %s", auth.data);
            if (st == HOIST_OK) st = hx_buf_printf(&line_date, "X-Amz-Date: %s", amz_date);
            if (st == HOIST_OK && src->session_token)
                st = hx_buf_printf(&line_tok, "X-Amz-Security-Token: %s", src->session_token);
            if (st != HOIST_OK) break;
            headers[nh++] = line_auth.data;
            headers[nh++] = line_date.data;
            if (src->session_token) headers[nh++] = line_tok.data;
        }
        headers[nh] = NULL;
        long status = 0;
        st = hx_s3_cred_http("POST", url, headers, form->data, STS_TIMEOUT_MS, STS_MAX_BODY, &status, &body);
        int retryable = st != HOIST_OK && st != HOIST_ERR_NOMEM;
        if (st == HOIST_OK) st = parse_answer(action, url, status, &body, out, &retryable);
        if (st == HOIST_OK || !retryable || attempt == 2) break;
        HX_DEBUG("credentials: STS %s failed (attempt %d), retrying", action, attempt + 1);
        usleep((useconds_t)(200000u << attempt));
    }
    if (line_tok.data) memset(line_tok.data, 0, line_tok.len);
    hx_buf_reset(&line_tok);
    hx_buf_reset(&line_auth);
    hx_buf_reset(&line_date);
    hx_buf_reset(&auth);
    hx_buf_reset(&body);
    hx_free(url);
    return st;
}

hx_status hx_s3_sts_assume_role(const struct hx_s3_cred_input *in, const struct hx_s3_cred_value *source,
                                const char *role_arn, const char *session_name, const char *external_id,
                                struct hx_s3_cred_value *out) {
    struct hx_buf form;
    hx_buf_init(&form);
    hx_status st = form_add(&form, "Action", "AssumeRole");
    if (st == HOIST_OK) st = form_add(&form, "Version", "2011-06-15");
    if (st == HOIST_OK) st = form_add(&form, "RoleArn", role_arn);
    if (st == HOIST_OK) st = form_add(&form, "RoleSessionName", session_name);
    if (st == HOIST_OK && external_id) st = form_add(&form, "ExternalId", external_id);
    if (st == HOIST_OK) st = sts_call(in, "AssumeRole", &form, source, out);
    hx_buf_reset(&form);
    if (st == HOIST_OK) snprintf(out->source, sizeof out->source, "assume role");
    return st;
}

hx_status hx_s3_sts_assume_role_web_identity(const struct hx_s3_cred_input *in, const char *role_arn,
                                             const char *session_name, const char *token,
                                             struct hx_s3_cred_value *out) {
    struct hx_buf form;
    hx_buf_init(&form);
    hx_status st = form_add(&form, "Action", "AssumeRoleWithWebIdentity");
    if (st == HOIST_OK) st = form_add(&form, "Version", "2011-06-15");
    if (st == HOIST_OK) st = form_add(&form, "RoleArn", role_arn);
    if (st == HOIST_OK) st = form_add(&form, "RoleSessionName", session_name);
    if (st == HOIST_OK) st = form_add(&form, "WebIdentityToken", token);
    if (st == HOIST_OK) st = sts_call(in, "AssumeRoleWithWebIdentity", &form, NULL, out);
    if (form.data) memset(form.data, 0, form.len); /* the token is a bearer secret */
    hx_buf_reset(&form);
    if (st == HOIST_OK) snprintf(out->source, sizeof out->source, "web identity");
    return st;
}
