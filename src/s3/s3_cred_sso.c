/* The SSO (IAM Identity Center) provider: the access token `aws sso login`
 * left in ~/.aws/sso/cache/<sha1>.json, exchanged for role credentials with
 * the portal's GetRoleCredentials (SDK reference, "IAM Identity Center
 * credential provider"). hoist never starts the interactive login. */
#include "s3_cred.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* The CLI names the cache file after the SHA-1 of the session name, or of
 * the start URL for legacy profiles. */
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
    json_t *tok = json_object_get(root, "accessToken"), *exp = json_object_get(root, "expiresAt");
    hx_status st = HOIST_OK;
    int64_t expires = json_is_string(exp) ? hx_s3_parse_iso8601(json_string_value(exp)) : 0;
    if (!json_is_string(tok) || expires <= 0)
        st = hx_error(HOIST_ERR_CREDENTIALS, "SSO: %s has no accessToken/expiresAt", path);
    else if (expires <= (int64_t)time(NULL))
        st = hx_error(HOIST_ERR_CREDENTIALS, "SSO: the token in %s expired: run `aws sso login`", path);
    else if ((*token = hx_strdup(json_string_value(tok))) == NULL)
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (json_is_string(tok)) OPENSSL_cleanse((void *)json_string_value(tok), json_string_length(tok));
    json_decref(root);
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
