/* The environment provider: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY with
 * AWS_SESSION_TOKEN (or the older AWS_SECURITY_TOKEN, as botocore reads). */
#include "s3_cred.h"

#include <stdio.h>
#include <string.h>

static hx_status env_load(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out, enum hx_cred_found *found,
                          char *why, size_t why_cap) {
    (void)in;
    *found = HX_CRED_NONE;
    const char *ak = hx_s3_env("AWS_ACCESS_KEY_ID"), *sk = hx_s3_env("AWS_SECRET_ACCESS_KEY");
    if (ak == NULL || sk == NULL) {
        snprintf(why, why_cap, "AWS_ACCESS_KEY_ID/SECRET_ACCESS_KEY %s", ak || sk ? "not both set" : "not set");
        return HOIST_OK;
    }
    const char *tok = hx_s3_env("AWS_SECURITY_TOKEN");
    if (tok == NULL) tok = hx_s3_env("AWS_SESSION_TOKEN");
    struct hx_s3_cred_value v = {.access_key = (char *)ak, .secret_key = (char *)sk, .session_token = (char *)tok};
    snprintf(v.source, sizeof v.source, "environment");
    HX_TRY(hx_s3_cred_value_copy(&v, out));
    *found = HX_CRED_FOUND;
    return HOIST_OK;
}

const struct hx_s3_cred_provider hx_s3_cred_env = {"environment", env_load};
