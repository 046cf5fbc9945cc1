/* The shared config/credentials files provider: for the selected profile,
 * role_arn (with source_profile, credential_source or
 * web_identity_token_file) -> STS AssumeRole, else credential_process, else
 * SSO, else static keys (SDK reference, "Assume role credential provider",
 * "Process credential provider", "IAM Identity Center"). */
#include "s3_cred.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_ROLE_DEPTH 5

struct prof {
    char *role_arn, *source_profile, *credential_source, *web_identity_token_file, *role_session_name, *external_id,
        *credential_process, *sso_session, *sso_account_id, *sso_role_name;
    char *ak, *sk, *tok;
};

static void prof_reset(struct prof *p) {
    char **s = (char **)p;
    for (size_t i = 0; i < sizeof *p / sizeof(char *); i++) {
        if (s[i]) memset(s[i], 0, strlen(s[i]));
        hx_free(s[i]);
    }
    memset(p, 0, sizeof *p);
}

static hx_status prof_read(const struct hx_s3_cred_input *in, const char *name, struct prof *p) {
    memset(p, 0, sizeof *p);
    static const char *const keys[] = {
        "role_arn",          "source_profile", "credential_source",  "web_identity_token_file",
        "role_session_name", "external_id",    "credential_process", "sso_session",
        "sso_account_id",    "sso_role_name",  "aws_access_key_id",  "aws_secret_access_key",
        "aws_session_token"};
    char **slots = (char **)p;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        hx_status st = hx_s3_profile_get(in->cred_file, in->conf_file, name, keys[i], NULL, 1, &slots[i]);
        if (st != HOIST_OK) {
            prof_reset(p);
            return st;
        }
    }
    return HOIST_OK;
}

static hx_status static_keys(const struct prof *p, const char *name, struct hx_s3_cred_value *out) {
    struct hx_s3_cred_value v = {.access_key = p->ak, .secret_key = p->sk, .session_token = p->tok};
    snprintf(v.source, sizeof v.source, "profile %.50s", name);
    return hx_s3_cred_value_copy(&v, out);
}

static hx_status resolve(const struct hx_s3_cred_input *in, const char *name, int depth, struct hx_s3_cred_value *out,
                         enum hx_cred_found *found, char *why, size_t why_cap);

/* The credentials AssumeRole is signed with. */
static hx_status role_source(const struct hx_s3_cred_input *in, const char *name, const struct prof *p, int depth,
                             struct hx_s3_cred_value *src) {
    HX_FAIL_IF(p->source_profile && p->credential_source, HOIST_ERR_CREDENTIALS,
               "profile '%s' has both source_profile and credential_source", name);
    enum hx_cred_found f = HX_CRED_NONE;
    char why[256] = "";
    if (p->source_profile) {
        if (strcmp(p->source_profile, name) == 0) {
            /* a profile may be its own source when it holds static keys */
            HX_FAIL_IF(p->ak == NULL || p->sk == NULL, HOIST_ERR_CREDENTIALS,
                       "profile '%s' is its own source_profile but has no keys", name);
            return static_keys(p, name, src);
        }
        HX_FAIL_IF(depth >= MAX_ROLE_DEPTH, HOIST_ERR_CREDENTIALS,
                   "profile '%s': source_profile chain longer than %d (a cycle?)", name, MAX_ROLE_DEPTH);
        HX_TRY(resolve(in, p->source_profile, depth + 1, src, &f, why, sizeof why));
        HX_FAIL_IF(f != HX_CRED_FOUND, HOIST_ERR_CREDENTIALS, "profile '%s': source_profile '%s' has no credentials",
                   name, p->source_profile);
        return HOIST_OK;
    }
    const char *cs = p->credential_source;
    HX_FAIL_IF(cs == NULL, HOIST_ERR_CREDENTIALS,
               "profile '%s' has role_arn but neither source_profile nor credential_source", name);
    struct hx_s3_cred_input env_in = *in;
    env_in.eager = 0;
    if (strcmp(cs, "Environment") == 0)
        HX_TRY(hx_s3_cred_env.load(&env_in, src, &f, why, sizeof why));
    else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
        HX_TRY(hx_s3_imds_fetch(src, &f, why, sizeof why));
    else if (strcmp(cs, "EcsContainer") == 0)
        HX_TRY(hx_s3_container_fetch(src, &f, why, sizeof why));
    else
        HX_FAIL(HOIST_ERR_CREDENTIALS,
                "profile '%s': credential_source '%s' is not Environment, Ec2InstanceMetadata or EcsContainer", name,
                cs);
    HX_FAIL_IF(f != HX_CRED_FOUND, HOIST_ERR_CREDENTIALS, "profile '%s': credential_source %s: %s", name, cs, why);
    return HOIST_OK;
}

static hx_status assume(const struct hx_s3_cred_input *in, const char *name, const struct prof *p, int depth,
                        struct hx_s3_cred_value *out) {
    char session[64];
    snprintf(session, sizeof session, "hoist-%lld", (long long)time(NULL));
    const char *sname = p->role_session_name ? p->role_session_name : session;
    if (p->web_identity_token_file && !p->source_profile && !p->credential_source)
        return hx_s3_web_identity_fetch(in, p->role_arn, p->web_identity_token_file, sname, out);
    struct hx_s3_cred_value src;
    memset(&src, 0, sizeof src);
    HX_TRY(role_source(in, name, p, depth, &src));
    hx_status st = hx_s3_sts_assume_role(in, &src, p->role_arn, sname, p->external_id, out);
    hx_s3_cred_value_reset(&src);
    if (st == HOIST_OK) snprintf(out->source, sizeof out->source, "profile %.30s role", name);
    return st;
}

static hx_status resolve(const struct hx_s3_cred_input *in, const char *name, int depth, struct hx_s3_cred_value *out,
                         enum hx_cred_found *found, char *why, size_t why_cap) {
    *found = HX_CRED_NONE;
    struct prof p;
    HX_TRY(prof_read(in, name, &p));
    hx_status st = HOIST_OK;
    int dynamic = p.role_arn || p.credential_process || p.sso_account_id || p.sso_role_name || p.sso_session;
    int fetched = 1;
    if (dynamic && in->eager) {
        *found = HX_CRED_DEFER;
        fetched = 0;
    } else if (p.role_arn) {
        st = assume(in, name, &p, depth, out);
    } else if (p.credential_process) {
        st = hx_s3_process_fetch(p.credential_process, out);
    } else if (dynamic) {
        st = hx_s3_sso_fetch(in, name, out);
    } else if (p.ak && p.sk) {
        st = static_keys(&p, name, out);
    } else {
        fetched = 0;
        snprintf(why, why_cap, "profile '%.60s': no keys, role, process or SSO", name);
    }
    if (st == HOIST_OK && fetched) *found = HX_CRED_FOUND;
    if (st != HOIST_OK && depth == 0) st = hx_error_prefix(st, "profile '%s'", name);
    prof_reset(&p);
    return st;
}

static hx_status profile_load(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out,
                              enum hx_cred_found *found, char *why, size_t why_cap) {
    return resolve(in, in->profile, 0, out, found, why, why_cap);
}

const struct hx_s3_cred_provider hx_s3_cred_profile = {"profile", profile_load};
