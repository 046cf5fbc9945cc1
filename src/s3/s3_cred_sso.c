/* The SSO (IAM Identity Center) provider: the access token `aws sso login`
 * left in ~/.aws/sso/cache/<sha1>.json, refreshed when it nears its end
 * with the refresh token through the OIDC CreateToken call (as botocore's
 * SSOTokenProvider does, writing the new token back), then exchanged for
 * role credentials with the portal's GetRoleCredentials (SDK reference,
 * "IAM Identity Center credential provider"). hoist never starts the
 * interactive login. */
#include "s3_cred.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* botocore SSOTokenProvider._REFRESH_WINDOW: a token with less than this
 * left is refreshed (when the cache holds what a refresh needs). */
#define SSO_REFRESH_WINDOW_S (15 * 60)

struct sso_cfg {
    char *session, *start_url, *region, *account, *role;
};

static void sso_cfg_reset(struct sso_cfg *c) {
    hx_free(c->session);
    hx_free(c->start_url);
    hx_free(c->region);
    hx_free(c->account);
    hx_free(c->role);
    memset(c, 0, sizeof *c);
}

static hx_status sso_cfg_read(const struct hx_s3_cred_input *in, const char *profile, struct sso_cfg *c) {
    memset(c, 0, sizeof *c);
    const char *cf = in->conf_file, *kf = in->cred_file;
    HX_TRY(hx_s3_profile_get(kf, cf, profile, "sso_session", NULL, 0, &c->session));
    HX_TRY(hx_s3_profile_get(kf, cf, profile, "sso_account_id", NULL, 0, &c->account));
    HX_TRY(hx_s3_profile_get(kf, cf, profile, "sso_role_name", NULL, 0, &c->role));
    if (c->session && cf) {
        char section[300];
        snprintf(section, sizeof section, "sso-session %s", c->session);
        HX_TRY(hx_s3_ini_get(cf, section, "sso_start_url", NULL, &c->start_url));
        HX_TRY(hx_s3_ini_get(cf, section, "sso_region", NULL, &c->region));
    } else {
        HX_TRY(hx_s3_profile_get(kf, cf, profile, "sso_start_url", NULL, 0, &c->start_url));
        HX_TRY(hx_s3_profile_get(kf, cf, profile, "sso_region", NULL, 0, &c->region));
    }
    HX_FAIL_IF(c->account == NULL || c->role == NULL || c->start_url == NULL || c->region == NULL,
               HOIST_ERR_CREDENTIALS,
               "profile '%s' needs sso_account_id, sso_role_name, sso_start_url and sso_region "
               "(directly or through sso_session)",
               profile);
    return HOIST_OK;
}

static void wipe_json_string(json_t *v) {
    if (json_is_string(v)) OPENSSL_cleanse((void *)json_string_value(v), json_string_length(v));
}

/* Wipes every string of the token document (tokens, client secret) and frees it. */
static void token_doc_free(json_t *root) {
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) wipe_json_string(v);
    json_decref(root);
}

/* The OIDC endpoint: AWS_ENDPOINT_URL_SSO_OIDC (the service id "SSO OIDC"
 * as the SDKs spell service endpoint variables), else the region's. */
static hx_status oidc_url(const struct sso_cfg *c, struct hx_buf *url) {
    const char *ep = hx_s3_env("AWS_ENDPOINT_URL_SSO_OIDC");
    HX_TRY(ep ? hx_buf_printf(url, "%s", ep) : hx_buf_printf(url, "https://oidc.%s.amazonaws.com", c->region));
    while (url->len > 0 && url->data[url->len - 1] == '/') url->data[--url->len] = '\0';
    return hx_buf_printf(url, "/token");
}

/* CreateToken with grant type refresh_token (sso-oidc model: POST /token,
 * unsigned JSON). On success the document gets the new accessToken,
 * expiresAt (now + expiresIn) and, when one came, the new refreshToken.
 * Any failure leaves root as it was and says why. */
static hx_status refresh_token(const struct sso_cfg *c, json_t *root, const char *path) {
    const char *need[] = {"refreshToken", "clientId", "clientSecret", "registrationExpiresAt"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        HX_FAIL_IF(!json_is_string(json_object_get(root, need[i])), HOIST_ERR_CREDENTIALS,
                   "%s has no %s to refresh the token with", path, need[i]);
    int64_t reg = hx_s3_parse_iso8601(json_string_value(json_object_get(root, "registrationExpiresAt")));
    HX_FAIL_IF(reg <= (int64_t)time(NULL), HOIST_ERR_CREDENTIALS, "the client registration in %s expired", path);
    json_t *req = json_pack("{s:s, s:O, s:O, s:O}", "grantType", "refresh_token", "clientId",
                            json_object_get(root, "clientId"), "clientSecret", json_object_get(root, "clientSecret"),
                            "refreshToken", json_object_get(root, "refreshToken"));
    HX_FAIL_IF(req == NULL, HOIST_ERR_NOMEM, "out of memory");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req); /* its strings are root's (shared references) */
    HX_FAIL_IF(body == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hx_buf url, resp;
    hx_buf_init(&url);
    hx_buf_init(&resp);
    long status = 0;
    hx_status st = oidc_url(c, &url);
    if (st == HOIST_OK) {
        const char *headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
        HX_DEBUG("credentials: SSO OIDC CreateToken (refresh) at %s", url.data);
        st = hx_s3_cred_http("POST", url.data, headers, body, 5000, 64 * 1024, &status, &resp);
    }
    OPENSSL_cleanse(body, strlen(body));
    free(body); /* jansson's allocator */
    json_t *ans = NULL;
    if (st == HOIST_OK && status != 200) {
        /* the OAuth error code (invalid_grant, expired_token...) is no secret */
        ans = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
        json_t *code = ans ? json_object_get(ans, "error") : NULL;
        st = hx_error(HOIST_ERR_CREDENTIALS, "CreateToken at %s: HTTP %ld%s%s", url.data, status,
                      json_is_string(code) ? " " : "", json_is_string(code) ? json_string_value(code) : "");
    } else if (st == HOIST_OK) {
        ans = json_loadb(resp.data, resp.len, 0, NULL);
        json_t *tok = ans ? json_object_get(ans, "accessToken") : NULL,
               *in = ans ? json_object_get(ans, "expiresIn") : NULL;
        json_t *rt = ans ? json_object_get(ans, "refreshToken") : NULL;
        if (!json_is_string(tok) || !json_is_integer(in) || json_integer_value(in) <= 0) {
            st = hx_error(HOIST_ERR_CREDENTIALS, "CreateToken at %s: no accessToken/expiresIn in the answer", url.data);
        } else {
            time_t exp = time(NULL) + (time_t)json_integer_value(in);
            struct tm tm;
            char when[32];
            gmtime_r(&exp, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm); /* what botocore writes */
            wipe_json_string(json_object_get(root, "accessToken"));
            /* copies: ans is wiped below */
            if (json_object_set_new(root, "accessToken", json_string(json_string_value(tok))) != 0 ||
                json_object_set_new(root, "expiresAt", json_string(when)) != 0)
                st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            if (st == HOIST_OK && json_is_string(rt)) {
                wipe_json_string(json_object_get(root, "refreshToken"));
                if (json_object_set_new(root, "refreshToken", json_string(json_string_value(rt))) != 0)
                    st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            }
        }
    }
    if (ans) token_doc_free(ans);
    if (resp.data) OPENSSL_cleanse(resp.data, resp.len);
    hx_buf_reset(&resp);
    hx_buf_reset(&url);
    return st;
}

/* Writes the refreshed document back the way botocore's JSONFileCache does:
 * a private temp file, flushed, renamed over the old one (readers see the
 * old or the new file, never half of one). */
static hx_status save_token(json_t *root, const char *path) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    char *text = json_dumps(root, JSON_COMPACT);
    HX_FAIL_IF(text == NULL, HOIST_ERR_NOMEM, "out of memory");
    size_t len = strlen(text), done = 0;
    hx_status st = HOIST_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) st = hx_error(HOIST_ERR_IO, "%s: %s", tmp, strerror(errno));
    while (st == HOIST_OK && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            st = hx_error(HOIST_ERR_IO, "%s: %s", tmp, strerror(w < 0 ? errno : ENOSPC));
        else
            done += (size_t)w;
    }
    if (st == HOIST_OK && fsync(fd) != 0) st = hx_error(HOIST_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
    if (st == HOIST_OK && rename(tmp, path) != 0) st = hx_error(HOIST_ERR_IO, "%s: %s", path, strerror(errno));
    if (st != HOIST_OK && fd >= 0) unlink(tmp);
    OPENSSL_cleanse(text, len);
    free(text);
    return st;
}

/* The CLI names the cache file after the SHA-1 of the session name, or of
 * the start URL for legacy profiles. A session's token (not a legacy one,
 * which cannot be refreshed) with less than 15 minutes left is refreshed;
 * if that fails, a still-valid token is used and an expired one is an error
 * that says both why and what to run. */
static hx_status read_token(const struct sso_cfg *c, char **token) {
    *token = NULL;
    const char *keyed = c->session ? c->session : c->start_url;
    uint8_t d[20];
    SHA1((const unsigned char *)keyed, strlen(keyed), d);
    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    const char *home = hx_s3_env("HOME");
    HX_FAIL_IF(home == NULL, HOIST_ERR_CREDENTIALS, "SSO: HOME is not set, cannot find the token cache");
    char path[1024];
    snprintf(path, sizeof path, "%s/.aws/sso/cache/%s.json", home, hex);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    HX_FAIL_IF(root == NULL, HOIST_ERR_CREDENTIALS, "SSO: no token cache %s (%s): run `aws sso login`", path,
               jerr.text);
    json_t *exp = json_object_get(root, "expiresAt");
    hx_status st = HOIST_OK;
    int64_t expires = json_is_string(exp) ? hx_s3_parse_iso8601(json_string_value(exp)) : 0;
    int64_t now = (int64_t)time(NULL);
    if (!json_is_string(json_object_get(root, "accessToken")) || expires <= 0) {
        st = hx_error(HOIST_ERR_CREDENTIALS, "SSO: %s has no accessToken/expiresAt", path);
    } else if (c->session && expires - now < SSO_REFRESH_WINDOW_S) {
        hx_status r = refresh_token(c, root, path);
        if (r == HOIST_OK) {
            HX_INFO("credentials: SSO token of session '%s' refreshed", c->session);
            expires = hx_s3_parse_iso8601(json_string_value(json_object_get(root, "expiresAt")));
            if (save_token(root, path) != HOIST_OK) /* the new token still works for this process */
                HX_WARN("credentials: could not save the refreshed SSO token: %s", hoist_errmsg());
        } else if (expires <= now) {
            st = hx_error(HOIST_ERR_CREDENTIALS,
                          "SSO: the token in %s expired and refreshing it failed (%s): run "
                          "`aws sso login`",
                          path, hoist_errmsg());
        } else {
            HX_WARN("credentials: refreshing the SSO token failed (%s); using the current one until it expires",
                    hoist_errmsg());
        }
    } else if (expires <= now) {
        st = hx_error(HOIST_ERR_CREDENTIALS, "SSO: the token in %s expired: run `aws sso login`", path);
    }
    if (st == HOIST_OK && (*token = hx_strdup(json_string_value(json_object_get(root, "accessToken")))) == NULL)
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    token_doc_free(root);
    return st;
}

static hx_status get_role_credentials(const struct sso_cfg *c, const char *token, struct hx_s3_cred_value *out) {
    const char *ep = hx_s3_env("AWS_ENDPOINT_URL_SSO");
    struct hx_buf url, body;
    hx_buf_init(&url);
    hx_buf_init(&body);
    hx_status st =
        ep ? hx_buf_printf(&url, "%s", ep) : hx_buf_printf(&url, "https://portal.sso.%s.amazonaws.com", c->region);
    while (st == HOIST_OK && url.len > 0 && url.data[url.len - 1] == '/') url.data[--url.len] = '\0';
    if (st == HOIST_OK) st = hx_buf_printf(&url, "/federation/credentials?account_id=");
    if (st == HOIST_OK) st = hx_s3_uri_encode(&url, c->account, strlen(c->account), 0);
    if (st == HOIST_OK) st = hx_buf_printf(&url, "&role_name=");
    if (st == HOIST_OK) st = hx_s3_uri_encode(&url, c->role, strlen(c->role), 0);
    char *auth = st == HOIST_OK ? hx_asprintf("x-amz-sso_bearer_token: %s", token) : NULL;
    if (st == HOIST_OK && auth == NULL) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    long status = 0;
    if (st == HOIST_OK) {
        const char *headers[3] = {auth, "Accept: application/json", NULL};
        HX_DEBUG("credentials: SSO GetRoleCredentials at %s", url.data);
        st = hx_s3_cred_http("GET", url.data, headers, NULL, 5000, 64 * 1024, &status, &body);
    }
    if (st == HOIST_OK && status != 200)
        st = hx_error(HOIST_ERR_CREDENTIALS, "SSO GetRoleCredentials at %s: HTTP %ld%s", url.data, status,
                      status == 401 || status == 403 ? " (run `aws sso login`)" : "");
    if (st == HOIST_OK) {
        struct hx_s3_json_fields f = {"roleCredentials", "accessKeyId", "secretAccessKey",
                                      "sessionToken",    "expiration",  1};
        st = hx_s3_cred_from_json(body.data, body.len, &f, "SSO GetRoleCredentials", out);
    }
    if (auth) OPENSSL_cleanse(auth, strlen(auth));
    hx_free(auth);
    if (body.data) OPENSSL_cleanse(body.data, body.len);
    hx_buf_reset(&body);
    hx_buf_reset(&url);
    return st;
}

hx_status hx_s3_sso_fetch(const struct hx_s3_cred_input *in, const char *profile, struct hx_s3_cred_value *out) {
    struct sso_cfg c;
    char *token = NULL;
    hx_status st = sso_cfg_read(in, profile, &c);
    if (st == HOIST_OK) st = read_token(&c, &token);
    if (st == HOIST_OK) st = get_role_credentials(&c, token, out);
    if (token) OPENSSL_cleanse(token, strlen(token));
    hx_free(token);
    sso_cfg_reset(&c);
    if (st == HOIST_OK) snprintf(out->source, sizeof out->source, "SSO profile %.40s", profile);
    return st;
}
