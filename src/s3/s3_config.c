/* Settings (endpoint, region, addressing, profile files) and the static
 * credentials found without I/O: explicit options, then the chain in eager
 * mode (s3_cred_chain.c); the rest of the chain runs at the first request. */
#include "s3_cred.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim(char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* AWS config files are INI files with "[section]" headers and "key = value"
 * lines; an indented line after "s3 =" belongs to that nested block (AWS CLI
 * topic "config-vars": nested settings). */
hx_status hx_s3_ini_get(const char *path, const char *section, const char *key, const char *subkey, char **out) {
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) return HOIST_OK;
        HX_FAIL(HOIST_ERR_CREDENTIALS, "%s: cannot read: %s", path, strerror(errno));
    }
    /* The whole file at once, so a line of any length (a session token is
     * often longer than 4 KiB) is read whole: fgets into a fixed buffer cut
     * it silently and read its tail as a line of its own. */
    const size_t cap = (size_t)1 << 20;
    char *text = hx_malloc(cap + 1);
    if (text == NULL) {
        fclose(f);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t len = fread(text, 1, cap + 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || len > cap) {
        hx_free(text);
        HX_FAIL(HOIST_ERR_CREDENTIALS,
                read_error ? "%s: cannot read it" : "%s: larger than 1 MiB, refusing to parse it", path);
    }
    text[len] = '\0';
    int in_section = 0, in_block = 0;
    hx_status st = HOIST_OK;
    for (char *line = text, *next; line < text + len; line = next) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        next = nl ? nl + 1 : text + len;
        if (nl) *nl = '\0';
        int indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e == NULL) continue;
            *e = '\0';
            char *name = trim(s + 1);
            in_section = strcmp(name, section) == 0;
            in_block = 0;
            continue;
        }
        if (!in_section) continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) continue;
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        if (!indented) in_block = 0;
        if (!indented && *v == '\0') {
            in_block = subkey && strcmp(k, key) == 0;
            continue;
        }
        int match = subkey ? (in_block && indented && strcmp(k, subkey) == 0) : (!indented && strcmp(k, key) == 0);
        if (match) {
            hx_free(*out);
            *out = hx_strdup(v);
            if (*out == NULL) {
                st = hx_error(HOIST_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
        }
    }
    OPENSSL_cleanse(text, len); /* credentials files hold secrets */
    hx_free(text);
    if (st != HOIST_OK) {
        hx_free(*out);
        *out = NULL;
    }
    return st;
}

static const char *env(const char *name) { return hx_s3_env(name); }

/* A region becomes a DNS label (s3.<region>.amazonaws.com, the STS host),
 * part of the signature's credential scope ("date/region/s3/...", where a
 * '/' would shift the fields) and text in CreateBucket's XML body. So it
 * must be one hostname label: letters, digits and inner '-', at most 63
 * (botocore's validate_region_name, so what the AWS CLI accepts works here
 * too). Anything else is refused before it reaches a URL. */
int hx_s3_region_valid(const char *r) {
    size_t n = strlen(r);
    if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)r[i]) && r[i] != '-') return 0;
    return 1;
}

int hx_s3_checksum_parse(const char *s) {
    if (strcasecmp(s, "when_supported") == 0) return HX_S3_CK_WHEN_SUPPORTED;
    if (strcasecmp(s, "when_required") == 0) return HX_S3_CK_WHEN_REQUIRED;
    if (strcasecmp(s, "always") == 0) return HX_S3_CK_ALWAYS;
    return -1;
}

static hx_status set_str(char **dst, const char *v) {
    if (*dst || v == NULL) return HOIST_OK;
    *dst = hx_strdup(v);
    HX_FAIL_IF(*dst == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

static hx_status file_path(const char *env_name, const char *leaf, char **out) {
    const char *e = env(env_name);
    if (e) {
        *out = hx_strdup(e);
    } else {
        const char *home = env("HOME");
        *out = home ? hx_asprintf("%s/.aws/%s", home, leaf) : NULL;
        if (home == NULL) return HOIST_OK;
    }
    HX_FAIL_IF(*out == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

/* Reads key from the profile: credentials file "[name]" first, then config
 * file "[profile name]" ("[default]" for the default profile). */
hx_status hx_s3_profile_get(const char *cred_file, const char *conf_file, const char *profile, const char *key,
                            const char *subkey, int creds_too, char **out) {
    *out = NULL;
    if (creds_too && cred_file) HX_TRY(hx_s3_ini_get(cred_file, profile, key, subkey, out));
    if (*out || conf_file == NULL) return HOIST_OK;
    char section[300];
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof section, "default");
    else
        snprintf(section, sizeof section, "profile %s", profile);
    return hx_s3_ini_get(conf_file, section, key, subkey, out);
}

void hx_s3_settings_reset(struct hx_s3_settings *s) {
    hx_free(s->endpoint);
    hx_free(s->region);
    hx_free(s->access_key);
    if (s->secret_key) {
        memset(s->secret_key, 0, strlen(s->secret_key));
        hx_free(s->secret_key);
    }
    if (s->session_token) {
        memset(s->session_token, 0, strlen(s->session_token));
        hx_free(s->session_token);
    }
    hx_free(s->profile);
    hx_free(s->sse);
    hx_free(s->sse_kms_key_id);
    hx_free(s->role_arn);
    hx_free(s->cred_file);
    hx_free(s->conf_file);
    memset(s, 0, sizeof *s);
}

static hx_status resolve(const struct hx_s3_explicit *ex, struct hx_s3_settings *out, char *cred_file,
                         char *conf_file) {
    /* endpoint: option > the AWS variables > profile > metaflow's variable
     * (hoist.S3 passes METAFLOW_S3_ENDPOINT_URL as an explicit option, as
     * metaflow does, so there it still wins). */
    HX_TRY(set_str(&out->endpoint, ex->endpoint));
    HX_TRY(set_str(&out->endpoint, env("AWS_ENDPOINT_URL_S3")));
    HX_TRY(set_str(&out->endpoint, env("AWS_ENDPOINT_URL")));
    HX_TRY(set_str(&out->region, ex->region));
    HX_TRY(set_str(&out->region, env("AWS_REGION")));
    HX_TRY(set_str(&out->region, env("AWS_DEFAULT_REGION")));

    int profile_explicit = ex->profile != NULL;
    HX_TRY(set_str(&out->profile, ex->profile));
    HX_TRY(set_str(&out->profile, env("AWS_PROFILE")));
    HX_TRY(set_str(&out->profile, "default"));

    char *v = NULL;
    if (out->region == NULL) {
        HX_TRY(hx_s3_profile_get(cred_file, conf_file, out->profile, "region", NULL, 0, &v));
        out->region = v;
        v = NULL;
    }
    out->region_defaulted = out->region == NULL;
    HX_TRY(set_str(&out->region, "us-east-1"));
    HX_FAIL_IF(!hx_s3_region_valid(out->region), HOIST_ERR_INVALID_ARG,
               "region '%.80s' is not a region name (letters, digits and '-', at most 63, as in us-east-1)",
               out->region);

    const char *ck = ex->checksum ? ex->checksum : env("AWS_REQUEST_CHECKSUM_CALCULATION");
    if (ck == NULL) {
        HX_TRY(hx_s3_profile_get(cred_file, conf_file, out->profile, "request_checksum_calculation", NULL, 0, &v));
        ck = v;
    }
    int ckm = ck ? hx_s3_checksum_parse(ck) : HX_S3_CK_WHEN_SUPPORTED;
    if (ckm < 0) {
        hx_status e =
            hx_error(HOIST_ERR_INVALID_ARG, "checksum setting '%s' is not when_supported, when_required or always", ck);
        hx_free(v);
        return e;
    }
    hx_free(v);
    v = NULL;
    out->checksum = (enum hx_s3_checksum)ckm;
    HX_TRY(set_str(&out->role_arn, ex->role_arn));
    HX_TRY(set_str(&out->sse, ex->sse));
    HX_TRY(set_str(&out->sse_kms_key_id, ex->sse_kms_key_id));
    HX_FAIL_IF(out->sse_kms_key_id && (out->sse == NULL || strncmp(out->sse, "aws:kms", 7) != 0), HOIST_ERR_INVALID_ARG,
               "a KMS key id needs sse \"aws:kms\" (or \"aws:kms:dsse\")");

    out->anonymous = ex->no_sign == 1;
    out->profile_explicit = profile_explicit;
    if (ex->access_key && ex->secret_key) {
        HX_TRY(set_str(&out->access_key, ex->access_key));
        HX_TRY(set_str(&out->secret_key, ex->secret_key));
        HX_TRY(set_str(&out->session_token, ex->session_token));
        snprintf(out->creds_source, sizeof out->creds_source, "options");
    } else if (ex->access_key || ex->secret_key) {
        HX_FAIL(HOIST_ERR_CREDENTIALS, "an access key id and a secret access key must be given together");
    } else if (!out->anonymous) {
        /* Static credentials (environment, profile keys) are taken now; a
         * provider that needs I/O defers to the first request. */
        struct hx_s3_cred_input in = {out->profile, profile_explicit, cred_file, conf_file, out->region, 1, NULL, NULL};
        struct hx_s3_cred_value cv;
        memset(&cv, 0, sizeof cv);
        enum hx_cred_found found = HX_CRED_NONE;
        HX_TRY(hx_s3_cred_chain_run(&in, &cv, &found, &out->deferred_to, out->missing_why, sizeof out->missing_why));
        if (found == HX_CRED_FOUND) {
            out->access_key = cv.access_key;
            out->secret_key = cv.secret_key;
            out->session_token = cv.session_token;
            snprintf(out->creds_source, sizeof out->creds_source, "%s", cv.source);
        } else {
            out->deferred_to = found == HX_CRED_DEFER ? out->deferred_to : NULL;
        }
    }
    out->have_credentials = out->access_key != NULL;

    if (out->endpoint == NULL) {
        HX_TRY(hx_s3_profile_get(cred_file, conf_file, out->profile, "s3", "endpoint_url", 0, &v));
        if (v == NULL) HX_TRY(hx_s3_profile_get(cred_file, conf_file, out->profile, "endpoint_url", NULL, 0, &v));
        out->endpoint = v;
        v = NULL;
    }
    HX_TRY(set_str(&out->endpoint, env("METAFLOW_S3_ENDPOINT_URL")));

    const char *addr = ex->addressing;
    if (addr == NULL) {
        HX_TRY(hx_s3_profile_get(cred_file, conf_file, out->profile, "s3", "addressing_style", 0, &v));
        addr = v;
    }
    out->addressing = HX_S3_ADDR_AUTO;
    if (addr && strcmp(addr, "path") == 0)
        out->addressing = HX_S3_ADDR_PATH;
    else if (addr && strcmp(addr, "virtual") == 0)
        out->addressing = HX_S3_ADDR_VIRTUAL;
    hx_free(v);

    if (out->endpoint == NULL) {
        out->endpoint = hx_asprintf("https://s3.%s.amazonaws.com", out->region);
        HX_FAIL_IF(out->endpoint == NULL, HOIST_ERR_NOMEM, "out of memory");
        out->endpoint_is_aws = 1;
    } else {
        size_t n = strlen(out->endpoint);
        while (n > 0 && out->endpoint[n - 1] == '/') out->endpoint[--n] = '\0';
        if (strncmp(out->endpoint, "http://", 7) != 0 && strncmp(out->endpoint, "https://", 8) != 0)
            HX_FAIL(HOIST_ERR_BAD_URL, "endpoint '%s' must start with http:// or https://", out->endpoint);
        const char *host = strstr(out->endpoint, "://") + 3;
        if (*host == '\0' || strchr(host, '/') || strchr(host, '?') || strchr(host, '#'))
            HX_FAIL(HOIST_ERR_BAD_URL, "endpoint '%s' must be scheme://host[:port] with no path", out->endpoint);
        const char *aws = strstr(host, "amazonaws.com");
        out->endpoint_is_aws = aws != NULL && aws[13] == '\0';
    }
    return HOIST_OK;
}

hx_status hx_s3_settings_resolve(const struct hx_s3_explicit *ex, struct hx_s3_settings *out) {
    memset(out, 0, sizeof *out);
    hx_status st = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", &out->cred_file);
    if (st == HOIST_OK) st = file_path("AWS_CONFIG_FILE", "config", &out->conf_file);
    if (st == HOIST_OK) st = resolve(ex, out, out->cred_file, out->conf_file);
    if (st != HOIST_OK) hx_s3_settings_reset(out);
    return st;
}

/* EC2 knows its region; ask once per process, and only when nothing set a
 * region and IMDS is where the credentials will come from anyway. */
static pthread_mutex_t imds_region_mu = PTHREAD_MUTEX_INITIALIZER;
static int imds_region_done;
static char imds_region[32];

static hx_status region_from_imds(struct hx_s3_settings *set) {
    pthread_mutex_lock(&imds_region_mu);
    if (!imds_region_done) {
        char *r = NULL;
        hx_status st = hx_s3_imds_region(&r);
        if (st == HOIST_OK && r) snprintf(imds_region, sizeof imds_region, "%s", r);
        hx_free(r);
        imds_region_done = 1;
    }
    char region[32];
    memcpy(region, imds_region, sizeof region);
    pthread_mutex_unlock(&imds_region_mu);
    if (region[0] == '\0') return HOIST_OK;
    if (!hx_s3_region_valid(region)) {
        HX_WARN("IMDS gave region '%.31s', not a region name: keeping us-east-1", region);
        return HOIST_OK;
    }
    char *r = hx_strdup(region);
    char *ep = hx_asprintf("https://s3.%s.amazonaws.com", region);
    if (r == NULL || ep == NULL) {
        hx_free(r);
        hx_free(ep);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    HX_DEBUG("region %s from IMDS", region);
    hx_free(set->region);
    hx_free(set->endpoint);
    set->region = r;
    set->endpoint = ep;
    return HOIST_OK;
}

static hx_status init_creds(struct hx_s3 *s3) {
    struct hx_s3_settings *set = &s3->set;
    if (set->anonymous) return HOIST_OK;
    if (set->have_credentials) {
        struct hx_s3_cred_value v;
        memset(&v, 0, sizeof v);
        struct hx_s3_cred_value src = {set->access_key, set->secret_key, set->session_token, 0, ""};
        snprintf(src.source, sizeof src.source, "%s", set->creds_source);
        HX_TRY(hx_s3_cred_value_copy(&src, &v));
        hx_status st = hx_s3_creds_new(&v, 0, set->role_arn ? &s3->role_source : &s3->static_creds);
        hx_s3_cred_value_reset(&v); /* empty unless creds_new failed */
        if (st != HOIST_OK || set->role_arn == NULL) return st;
    }
    if (set->region_defaulted && set->endpoint_is_aws && set->deferred_to && strcmp(set->deferred_to, "IMDS") == 0)
        HX_TRY(region_from_imds(set));
    struct hx_s3_cred_input in = {set->profile,   set->profile_explicit,
                                  set->cred_file, set->conf_file,
                                  set->region,    0,
                                  set->role_arn,  s3->role_source ? &s3->role_source->v : NULL};
    return hx_s3_cred_cache_get(&in, &s3->cred_cache);
}

hx_status hx_s3_init(struct hx_s3 *s3, const struct hx_s3_explicit *ex) {
    memset(s3, 0, sizeof *s3);
    HX_TRY(hx_s3_settings_resolve(ex, &s3->set));
    pthread_mutex_init(&s3->key_lock, NULL);
    hx_status st = init_creds(s3);
    if (st != HOIST_OK) {
        hx_s3_cleanup(s3);
        return st;
    }
    s3->scheme_host = hx_strdup(s3->set.endpoint);
    const char *h = strstr(s3->set.endpoint, "://");
    s3->host = hx_strdup(h ? h + 3 : s3->set.endpoint);
    if (s3->scheme_host == NULL || s3->host == NULL) {
        hx_s3_cleanup(s3);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    return HOIST_OK;
}

hx_status hx_s3_creds_acquire(struct hx_s3 *s3, struct hx_s3_creds **out) {
    *out = NULL;
    if (s3->static_creds) {
        atomic_fetch_add(&s3->static_creds->refs, 1);
        *out = s3->static_creds;
        return HOIST_OK;
    }
    const struct hx_s3_settings *set = &s3->set;
    HX_FAIL_IF(s3->cred_cache == NULL, HOIST_ERR_CREDENTIALS, "no S3 credentials found (%s)", set->missing_why);
    struct hx_s3_cred_input in = {set->profile,   set->profile_explicit,
                                  set->cred_file, set->conf_file,
                                  set->region,    0,
                                  set->role_arn,  s3->role_source ? &s3->role_source->v : NULL};
    return hx_s3_cred_cache_acquire(s3->cred_cache, &in, out);
}

void hx_s3_creds_source(struct hx_s3 *s3, char *out, size_t cap) {
    if (s3->set.anonymous) {
        snprintf(out, cap, "anonymous");
        return;
    }
    if (s3->static_creds) {
        snprintf(out, cap, "%s", s3->static_creds->v.source);
        return;
    }
    snprintf(out, cap, "%s (fetched at first use)", s3->set.deferred_to ? s3->set.deferred_to : "none");
}

void hx_s3_cleanup(struct hx_s3 *s3) {
    if (s3->set.endpoint) pthread_mutex_destroy(&s3->key_lock);
    hx_s3_creds_release(s3->static_creds);
    hx_s3_creds_release(s3->role_source);
    OPENSSL_cleanse(s3->signing_key, sizeof s3->signing_key);
    hx_free(s3->host);
    hx_free(s3->scheme_host);
    hx_s3_settings_reset(&s3->set);
    memset(s3, 0, sizeof *s3);
}
