/*
 * s3_cred.h — private to src/s3: the credential providers (one file each,
 * behind the table in s3_cred_chain.c, in the AWS SDKs' order), the
 * process-wide cache of temporary credentials, and the HTTP, JSON and
 * profile helpers the providers share.
 *
 * Threads: providers run on whichever thread refreshes (one at a time per
 * cache entry); they keep no state of their own. The cache is shared by all
 * threads and clients of the process.
 * Secrets (secret keys, session tokens, web identity and container tokens)
 * never go into messages or logs.
 */
#ifndef HOIST_S3_CRED_H
#define HOIST_S3_CRED_H

#include "s3.h"

#include <stdatomic.h>

/* What a provider is given: the profile and files settings resolved. */
struct hx_s3_cred_input {
    const char *profile;
    int profile_explicit;              /* the caller named it (not AWS_PROFILE) */
    const char *cred_file, *conf_file; /* NULL when HOME is unknown */
    const char *region;                /* never NULL */
    int eager;                         /* settings time: no I/O, say HX_CRED_DEFER instead */
    /* With a role: AssumeRole on top, signed with source (static
     * credentials) or, when NULL, with what the chain finds. */
    const char *role_arn;
    const struct hx_s3_cred_value *source;
};

enum hx_cred_found {
    HX_CRED_NONE = 0,  /* not configured here (why says so) */
    HX_CRED_FOUND = 1, /* out is filled */
    HX_CRED_DEFER = 2  /* configured, but fetching needs I/O (eager mode only) */
};

/* Credentials a provider hands back; strings owned. */
struct hx_s3_cred_value {
    char *access_key, *secret_key, *session_token;
    int64_t expiration; /* Unix seconds; 0 = they do not expire */
    char source[64];    /* "web identity", "container", ... (for messages) */
};
/* Wipes the secrets, frees, zeroes. */
void hx_s3_cred_value_reset(struct hx_s3_cred_value *v);
/* Copies a's strings into out (out must be empty). */
HOIST_NODISCARD hx_status hx_s3_cred_value_copy(const struct hx_s3_cred_value *a, struct hx_s3_cred_value *out);

/* One way of finding credentials. load() returns a status other than OK
 * when the provider is configured but fails (the chain stops there, as the
 * SDKs do, and names the provider); otherwise *found says what happened
 * and, for HX_CRED_NONE, why holds a short reason. */
struct hx_s3_cred_provider {
    const char *name;
    HOIST_NODISCARD hx_status (*load)(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out,
                                      enum hx_cred_found *found, char *why, size_t why_cap);
};
extern const struct hx_s3_cred_provider hx_s3_cred_env;          /* s3_cred_env.c */
extern const struct hx_s3_cred_provider hx_s3_cred_web_identity; /* s3_cred_web_identity.c */
extern const struct hx_s3_cred_provider hx_s3_cred_profile;      /* s3_cred_profile.c */
extern const struct hx_s3_cred_provider hx_s3_cred_container;    /* s3_cred_container.c */
extern const struct hx_s3_cred_provider hx_s3_cred_imds;         /* s3_cred_imds.c */

/* ---- the chain and the cache (s3_cred_chain.c) ------------------------- */

/* Runs the providers in order (an explicit profile goes before the
 * environment). In eager mode stops at the first provider that would need
 * I/O (*found = HX_CRED_DEFER). why collects each provider's reason. */
HOIST_NODISCARD hx_status hx_s3_cred_chain_run(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out,
                                               enum hx_cred_found *found, const char **provider, char *why,
                                               size_t why_cap);

/* An immutable snapshot shared by the requests that sign with it. */
struct hx_s3_creds {
    atomic_int refs;
    struct hx_s3_cred_value v;
    uint64_t generation; /* unique per snapshot (keys the signing-key cache) */
    int refreshable;     /* from a provider that can give new ones */
};
void hx_s3_creds_release(struct hx_s3_creds *c);
/* The client's credentials: its static ones, or valid ones from the
 * process-wide cache. *out: release with hx_s3_creds_release. */
HOIST_NODISCARD hx_status hx_s3_creds_acquire(struct hx_s3 *s3, struct hx_s3_creds **out);
/* A snapshot of v (its strings are taken; v is left empty). */
HOIST_NODISCARD hx_status hx_s3_creds_new(struct hx_s3_cred_value *v, int refreshable, struct hx_s3_creds **out);

/* The process-wide entry for in's configuration (created on first use,
 * kept for the life of the process: one per distinct configuration). */
HOIST_NODISCARD hx_status hx_s3_cred_cache_get(const struct hx_s3_cred_input *in, struct hx_s3_cred_cache **out);
/* Valid credentials from the entry: the cached ones, or ones this thread
 * fetches (one thread at a time; the others wait only when there are no
 * valid ones). A failed fetch is remembered for 5 s. *out: release it. */
HOIST_NODISCARD hx_status hx_s3_cred_cache_acquire(struct hx_s3_cred_cache *e, const struct hx_s3_cred_input *in,
                                                   struct hx_s3_creds **out);
/* How many times the entry ran the chain successfully (tests). */
uint64_t hx_s3_cred_cache_fetches(const struct hx_s3_cred_cache *e);
/* The server said the credentials with this access key id expired: makes
 * their entry refresh on next use. 1 when they can be refreshed (so a
 * retry makes sense), 0 for static credentials. */
int hx_s3_creds_expired(const char *access_key);

/* ---- helpers shared by the providers ------------------------------------ */

/* One blocking HTTP exchange on its own easy handle (metadata endpoints and
 * STS are off the data path): no proxy for link-local hosts, AWS_CA_BUNDLE
 * for https, at most max_bytes of body. headers: NULL-terminated "Name: v"
 * lines or NULL. body: sent when non-NULL (method POST/PUT). A transport
 * failure is HOIST_ERR_CREDENTIALS naming url; any HTTP status is returned
 * in *status with the body in out. */
HOIST_NODISCARD hx_status hx_s3_cred_http(const char *method, const char *url, const char *const *headers,
                                          const char *body, long timeout_ms, size_t max_bytes, long *status,
                                          struct hx_buf *out);

/* Credentials from a JSON object (container, IMDS, credential_process, SSO
 * answers): the field names differ per source; exp_field may be NULL or
 * hold an ISO 8601 string (exp_ms 0) or milliseconds since the epoch
 * (exp_ms 1). A missing key or secret is HOIST_ERR_CREDENTIALS naming what. */
struct hx_s3_json_fields {
    const char *object; /* NULL, or the name of a nested object holding the fields */
    const char *access_key, *secret_key, *token, *expiration;
    int exp_ms;
};
HOIST_NODISCARD hx_status hx_s3_cred_from_json(const char *text, size_t len, const struct hx_s3_json_fields *f,
                                               const char *what, struct hx_s3_cred_value *out);

/* Reads key of a profile: credentials file "[name]" first (creds_too), then
 * config file "[profile name]" ("[default]"). *out NULL when absent. */
HOIST_NODISCARD hx_status hx_s3_profile_get(const char *cred_file, const char *conf_file, const char *profile,
                                            const char *key, const char *subkey, int creds_too, char **out);

/* Non-empty environment value or NULL. */
const char *hx_s3_env(const char *name);
/* True for "true"/"1"/"yes" in any case. */
int hx_s3_env_true(const char *name);

/* STS (s3_cred_sts.c): endpoint AWS_ENDPOINT_URL_STS > AWS_ENDPOINT_URL >
 * https://sts.<region>.amazonaws.com (regional, as the SDKs now default). */
HOIST_NODISCARD hx_status hx_s3_sts_assume_role(const struct hx_s3_cred_input *in,
                                                const struct hx_s3_cred_value *source, const char *role_arn,
                                                const char *session_name, const char *external_id,
                                                struct hx_s3_cred_value *out);
HOIST_NODISCARD hx_status hx_s3_sts_assume_role_web_identity(const struct hx_s3_cred_input *in, const char *role_arn,
                                                             const char *session_name, const char *token,
                                                             struct hx_s3_cred_value *out);

/* Web identity with explicit inputs (the env provider and profiles with
 * web_identity_token_file): reads the token file on every call, since
 * kubelet rotates it. */
HOIST_NODISCARD hx_status hx_s3_web_identity_fetch(const struct hx_s3_cred_input *in, const char *role_arn,
                                                   const char *token_file, const char *session_name,
                                                   struct hx_s3_cred_value *out);
/* credential_process (s3_cred_process.c): runs command (split like a shell
 * would, no shell), reads its JSON from stdout. */
HOIST_NODISCARD hx_status hx_s3_process_fetch(const char *command, struct hx_s3_cred_value *out);
/* SSO (s3_cred_sso.c): the token cache `aws sso login` left, then
 * GetRoleCredentials. */
HOIST_NODISCARD hx_status hx_s3_sso_fetch(const struct hx_s3_cred_input *in, const char *profile,
                                          struct hx_s3_cred_value *out);
/* Container and IMDS fetches for credential_source (found = NONE when the
 * source is not configured). */
HOIST_NODISCARD hx_status hx_s3_container_fetch(struct hx_s3_cred_value *out, enum hx_cred_found *found, char *why,
                                                size_t why_cap);
HOIST_NODISCARD hx_status hx_s3_imds_fetch(struct hx_s3_cred_value *out, enum hx_cred_found *found, char *why,
                                           size_t why_cap);
/* The instance's region from IMDS (*out NULL when IMDS is off or silent). */
HOIST_NODISCARD hx_status hx_s3_imds_region(char **out);

/* The container endpoint URL from the environment; *url NULL when not set.
 * An http FULL_URI whose host the SDKs do not allow is HOIST_ERR_CREDENTIALS. */
HOIST_NODISCARD hx_status hx_s3_container_url(char **url);

#endif /* HOIST_S3_CRED_H */
