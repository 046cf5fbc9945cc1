/* The web identity provider (EKS IAM roles for service accounts):
 * AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME] ->
 * STS AssumeRoleWithWebIdentity. Profiles with web_identity_token_file reuse
 * hx_s3_web_identity_fetch. */
#include "s3_cred.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_TOKEN (64 * 1024)

/* Kubelet rotates the projected token, so it is read on every fetch, never
 * cached (botocore FileWebIdentityTokenLoader does the same). */
static hx_status read_token(const char *path, char **out) {
    *out = NULL;
    FILE *f = fopen(path, "r");
    HX_FAIL_IF(f == NULL, HOIST_ERR_CREDENTIALS, "cannot read the token file %s: %s", path, strerror(errno));
    char *buf = hx_malloc(MAX_TOKEN + 1);
    if (buf == NULL) {
        fclose(f);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, MAX_TOKEN + 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
    buf[n < MAX_TOKEN ? n : MAX_TOKEN] = '\0';
    if (n == 0 || n > MAX_TOKEN) {
        memset(buf, 0, MAX_TOKEN + 1);
        hx_free(buf);
        HX_FAIL(HOIST_ERR_CREDENTIALS, "the token file %s is %s", path, n ? "larger than 64 KiB" : "empty");
    }
    *out = buf;
    return HOIST_OK;
}

hx_status hx_s3_web_identity_fetch(const struct hx_s3_cred_input *in, const char *role_arn, const char *token_file,
                                   const char *session_name, struct hx_s3_cred_value *out) {
    char *token = NULL;
    HX_TRY(read_token(token_file, &token));
    char session[64];
    if (session_name == NULL) {
        snprintf(session, sizeof session, "hoist-%lld", (long long)time(NULL));
        session_name = session;
    }
    hx_status st = hx_s3_sts_assume_role_web_identity(in, role_arn, session_name, token, out);
    memset(token, 0, strlen(token));
    hx_free(token);
    return st;
}

static hx_status web_identity_load(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out,
                                   enum hx_cred_found *found, char *why, size_t why_cap) {
    *found = HX_CRED_NONE;
    /* An explicitly chosen profile decides alone (botocore disable_env_vars);
     * a profile's own web_identity_token_file is the profile provider's. */
    if (in->profile_explicit) {
        snprintf(why, why_cap, "web identity: environment ignored for an explicit profile");
        return HOIST_OK;
    }
    const char *file = hx_s3_env("AWS_WEB_IDENTITY_TOKEN_FILE"), *arn = hx_s3_env("AWS_ROLE_ARN");
    if (file == NULL) {
        snprintf(why, why_cap, "AWS_WEB_IDENTITY_TOKEN_FILE not set");
        return HOIST_OK;
    }
    HX_FAIL_IF(arn == NULL, HOIST_ERR_CREDENTIALS, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    if (in->eager) {
        *found = HX_CRED_DEFER;
        return HOIST_OK;
    }
    HX_TRY(hx_s3_web_identity_fetch(in, arn, file, hx_s3_env("AWS_ROLE_SESSION_NAME"), out));
    *found = HX_CRED_FOUND;
    return HOIST_OK;
}

const struct hx_s3_cred_provider hx_s3_cred_web_identity = {"web identity", web_identity_load};
