/* The credential chain (providers in the AWS SDKs' order) and the
 * process-wide cache of the credentials it finds: one entry per distinct
 * configuration, shared by every thread and client, refreshed ahead of
 * expiry by one thread while the others keep signing with the valid ones.
 * A 3,000-way foreach must not hammer IMDS (metaflow issue #1572). */
#include "s3_cred.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the chain -------------------------------------------------------------- */

/* botocore order: environment, web identity, the profile's files, then the
 * container endpoint, then IMDS. An explicitly chosen profile goes first
 * (as `aws --profile`; it then also turns off the env web identity). */
static const struct hx_s3_cred_provider *const order_default[] = {
    &hx_s3_cred_env, &hx_s3_cred_web_identity, &hx_s3_cred_profile, &hx_s3_cred_container, &hx_s3_cred_imds};
static const struct hx_s3_cred_provider *const order_profile_first[] = {
    &hx_s3_cred_profile, &hx_s3_cred_env, &hx_s3_cred_web_identity, &hx_s3_cred_container, &hx_s3_cred_imds};
#define NPROVIDERS (sizeof order_default / sizeof order_default[0])

hx_status hx_s3_cred_chain_run(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out,
                               enum hx_cred_found *found, const char **provider, char *why, size_t why_cap) {
    const struct hx_s3_cred_provider *const *order = in->profile_explicit ? order_profile_first : order_default;
    *found = HX_CRED_NONE;
    size_t used = why_cap ? strlen(why) : 0;
    for (size_t i = 0; i < NPROVIDERS; i++) {
        char w[300] = "";
        enum hx_cred_found f = HX_CRED_NONE;
        if (!in->eager) HX_DEBUG("credentials: trying %s", order[i]->name);
        hx_status st = order[i]->load(in, out, &f, w, sizeof w);
        if (st != HOIST_OK) {
            if (st == HOIST_ERR_NOMEM) return st;
            return hx_error_prefix(HOIST_ERR_CREDENTIALS, "%s credentials", order[i]->name);
        }
        if (f != HX_CRED_NONE) {
            *found = f;
            if (provider) *provider = order[i]->name;
            if (f == HX_CRED_FOUND) HX_DEBUG("credentials: found by %s (%s)", order[i]->name, out->source);
            return HOIST_OK;
        }
        if (w[0] && used + 3 < why_cap) {
            int n = snprintf(why + used, why_cap - used, "%s%s", used ? "; " : "", w);
            used = n > 0 && (size_t)n < why_cap - used ? used + (size_t)n : why_cap - 1;
        }
    }
    return HOIST_OK;
}

/* ---- the cache ---------------------------------------------------------------- */

struct hx_s3_cred_cache {
    char key[65]; /* SHA-256 of the configuration (never of a secret) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hx_s3_creds *cur;   /* NULL until the first fetch */
    uint64_t stale_generation; /* cur is known expired (an ExpiredToken answer) */
    double fetched_at;         /* wall clock of cur's fetch */
    int refreshing;            /* one thread is running the chain */
    double retry_after;        /* after a failure, no new attempt before this */
    hx_status fail_status;
    char fail_msg[768];
    uint64_t fetches;
    struct hx_s3_cred_cache *next;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hx_s3_cred_cache *registry;
static atomic_uint_fast64_t next_generation = 1;

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What decides which credentials the chain finds, hashed: entries are
 * never keyed on a secret, and a rotation does not add an entry. */
static hx_status config_key(const struct hx_s3_cred_input *in, char out[65]) {
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_ROLE_SESSION_NAME",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_EC2_METADATA_DISABLED",
                                       "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                       "AWS_EC2_METADATA_V1_DISABLED",
                                       "AWS_ENDPOINT_URL_STS",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_SSO",
                                       "HOME"};
    struct hx_buf b;
    hx_buf_init(&b);
    /* a role's entry is per source identity: the access key id is not a secret */
    const char *fixed[] = {in->profile,
                           in->cred_file,
                           in->conf_file,
                           in->region,
                           in->profile_explicit ? "1" : "0",
                           in->role_arn,
                           in->source ? in->source->access_key : NULL};
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && st == HOIST_OK; i++)
        st = hx_buf_append(&b, fixed[i] ? fixed[i] : "", (fixed[i] ? strlen(fixed[i]) : 0) + 1);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0] && st == HOIST_OK; i++) {
        const char *v = hx_s3_env(vars[i]);
        st = hx_buf_printf(&b, "%s=%s", vars[i], v ? v : "");
        if (st == HOIST_OK) st = hx_buf_append(&b, "", 1);
    }
    if (st == HOIST_OK) hx_sha256_hex(b.data, b.len, out);
    hx_buf_reset(&b);
    return st;
}

hx_status hx_s3_cred_cache_get(const struct hx_s3_cred_input *in, struct hx_s3_cred_cache **out) {
    char key[65];
    HX_TRY(config_key(in, key));
    pthread_mutex_lock(&registry_mu);
    struct hx_s3_cred_cache *e = registry;
    while (e && strcmp(e->key, key) != 0) e = e->next;
    if (e == NULL && (e = hx_calloc(1, sizeof *e)) != NULL) {
        memcpy(e->key, key, sizeof key);
        pthread_mutex_init(&e->mu, NULL);
        pthread_cond_init(&e->cv, NULL);
        e->next = registry;
        registry = e;
    }
    pthread_mutex_unlock(&registry_mu);
    HX_FAIL_IF(e == NULL, HOIST_ERR_NOMEM, "out of memory");
    *out = e;
    return HOIST_OK;
}

uint64_t hx_s3_cred_cache_fetches(const struct hx_s3_cred_cache *c) {
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    uint64_t n = c->fetches;
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return n;
}

void hx_s3_creds_release(struct hx_s3_creds *c) {
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1) return;
    hx_s3_cred_value_reset(&c->v);
    hx_free(c);
}

hx_status hx_s3_creds_new(struct hx_s3_cred_value *v, int refreshable, struct hx_s3_creds **out) {
    struct hx_s3_creds *c = hx_calloc(1, sizeof *c);
    HX_FAIL_IF(c == NULL, HOIST_ERR_NOMEM, "out of memory");
    atomic_init(&c->refs, 1);
    c->v = *v; /* takes the strings */
    memset(v, 0, sizeof *v);
    c->generation = atomic_fetch_add(&next_generation, 1);
    c->refreshable = refreshable;
    *out = c;
    return HOIST_OK;
}

/* Refresh ahead of expiry by up to 5 minutes (the SDKs use 5 to 15; EC2
 * offers new role credentials 5 minutes early), but never more than half
 * the lifetime, so short-lived credentials are not refreshed constantly.
 * Stop using them a few seconds before they expire (a request may be slow
 * to reach the server). */
static double refresh_window(const struct hx_s3_cred_cache *e) {
    double life = (double)e->cur->v.expiration - e->fetched_at;
    return life / 2 < 300 ? life / 2 : 300;
}
static double hard_margin(const struct hx_s3_cred_cache *e) {
    double life = (double)e->cur->v.expiration - e->fetched_at;
    return life / 10 < 10 ? life / 10 : 10;
}

static struct hx_s3_creds *take(struct hx_s3_creds *c) {
    atomic_fetch_add(&c->refs, 1);
    return c;
}

/* Runs the chain (the caller holds the refreshing flag, not the lock). */
static hx_status fetch_role(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out) {
    struct hx_s3_cred_value src;
    memset(&src, 0, sizeof src);
    enum hx_cred_found found = HX_CRED_FOUND;
    char why[900] = "";
    struct hx_s3_cred_input lazy = *in;
    lazy.eager = 0;
    lazy.role_arn = NULL;
    hx_status st = in->source ? hx_s3_cred_value_copy(in->source, &src)
                              : hx_s3_cred_chain_run(&lazy, &src, &found, NULL, why, sizeof why);
    if (st == HOIST_OK && found != HX_CRED_FOUND)
        st = hx_error(HOIST_ERR_CREDENTIALS, "no credentials to assume role %s with (%s)", in->role_arn, why);
    char session[64];
    snprintf(session, sizeof session, "hoist-%lld", (long long)time(NULL));
    if (st == HOIST_OK) st = hx_s3_sts_assume_role(&lazy, &src, in->role_arn, session, NULL, out);
    if (st == HOIST_OK)
        snprintf(out->source, sizeof out->source, "role %.50s", in->role_arn);
    else if (st != HOIST_ERR_NOMEM)
        st = hx_error_prefix(HOIST_ERR_CREDENTIALS, "role option");
    hx_s3_cred_value_reset(&src);
    return st;
}

static hx_status fetch(const struct hx_s3_cred_input *in, struct hx_s3_creds **out) {
    struct hx_s3_cred_value v;
    memset(&v, 0, sizeof v);
    if (in->role_arn) {
        HX_TRY(fetch_role(in, &v));
        hx_status st = hx_s3_creds_new(&v, 1, out);
        hx_s3_cred_value_reset(&v);
        return st;
    }
    enum hx_cred_found found = HX_CRED_NONE;
    char why[900] = "";
    struct hx_s3_cred_input lazy = *in;
    lazy.eager = 0;
    hx_status st = hx_s3_cred_chain_run(&lazy, &v, &found, NULL, why, sizeof why);
    if (st != HOIST_OK) return st;
    HX_FAIL_IF(found != HX_CRED_FOUND, HOIST_ERR_CREDENTIALS,
               "no S3 credentials found (%s); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, "
               "or ask for anonymous access",
               why);
    st = hx_s3_creds_new(&v, v.expiration != 0, out);
    hx_s3_cred_value_reset(&v);
    return st;
}

hx_status hx_s3_cred_cache_acquire(struct hx_s3_cred_cache *e, const struct hx_s3_cred_input *in,
                                   struct hx_s3_creds **out) {
    *out = NULL;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        double now = wall_now();
        struct hx_s3_creds *c = e->cur;
        int fresh = c && c->generation != e->stale_generation;
        int usable = fresh && (c->v.expiration == 0 || now < (double)c->v.expiration - hard_margin(e));
        if (usable && (c->v.expiration == 0 || now < (double)c->v.expiration - refresh_window(e) || e->refreshing ||
                       now < e->retry_after)) {
            *out = take(c);
            break;
        }
        if (e->refreshing) {
            pthread_cond_wait(&e->cv, &e->mu);
            continue;
        }
        if (!usable && now < e->retry_after && e->fail_status != HOIST_OK) {
            /* a failed fetch is remembered briefly, so a batch of requests
             * does not run the chain (and its timeouts) once per request */
            hx_status st = hx_error(e->fail_status, "%s", e->fail_msg);
            pthread_mutex_unlock(&e->mu);
            return st;
        }
        e->refreshing = 1;
        pthread_mutex_unlock(&e->mu);
        struct hx_s3_creds *n = NULL;
        hx_status st = fetch(in, &n);
        pthread_mutex_lock(&e->mu);
        e->refreshing = 0;
        pthread_cond_broadcast(&e->cv);
        if (st == HOIST_OK) {
            hx_s3_creds_release(e->cur);
            e->cur = n;
            e->fetched_at = wall_now();
            e->fetches++;
            e->fail_status = HOIST_OK;
            e->retry_after = 0;
            HX_INFO("credentials: %s, %s", n->v.source, n->v.expiration ? "temporary" : "long-lived");
            *out = take(n);
            break;
        }
        e->retry_after = wall_now() + (usable ? 30 : 5);
        if (usable) {
            /* the old credentials are still valid: keep signing with them */
            HX_WARN("credentials: refresh failed, using the current ones until %lld: %s", (long long)c->v.expiration,
                    hoist_errmsg());
            *out = take(c);
            break;
        }
        e->fail_status = st;
        hx_error_copy(e->fail_msg, sizeof e->fail_msg);
        pthread_mutex_unlock(&e->mu);
        return st;
    }
    pthread_mutex_unlock(&e->mu);
    return HOIST_OK;
}

int hx_s3_creds_expired(const char *access_key) {
    int marked = 0;
    pthread_mutex_lock(&registry_mu);
    for (struct hx_s3_cred_cache *e = registry; e; e = e->next) {
        pthread_mutex_lock(&e->mu);
        if (e->cur && e->cur->refreshable && strcmp(e->cur->v.access_key, access_key) == 0) {
            e->stale_generation = e->cur->generation;
            e->retry_after = 0;
            marked = 1;
        }
        pthread_mutex_unlock(&e->mu);
    }
    pthread_mutex_unlock(&registry_mu);
    return marked;
}
