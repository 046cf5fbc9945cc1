/* What the credential providers share: one blocking HTTP exchange for
 * metadata endpoints and STS, credentials out of JSON answers, and the
 * handling of values that hold secrets. */
#include "s3_cred.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *hx_s3_env(const char *name) {
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

int hx_s3_env_true(const char *name) {
    const char *v = hx_s3_env(name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

static void wipe_free(char *s) {
    if (s == NULL) return;
    OPENSSL_cleanse(s, strlen(s));
    hx_free(s);
}

void hx_s3_cred_value_reset(struct hx_s3_cred_value *v) {
    hx_free(v->access_key);
    wipe_free(v->secret_key);
    wipe_free(v->session_token);
    memset(v, 0, sizeof *v);
}

hx_status hx_s3_cred_value_copy(const struct hx_s3_cred_value *a, struct hx_s3_cred_value *out) {
    memset(out, 0, sizeof *out);
    out->access_key = hx_strdup(a->access_key);
    out->secret_key = hx_strdup(a->secret_key);
    out->session_token = a->session_token ? hx_strdup(a->session_token) : NULL;
    out->expiration = a->expiration;
    memcpy(out->source, a->source, sizeof out->source);
    if (out->access_key == NULL || out->secret_key == NULL || (a->session_token && out->session_token == NULL)) {
        hx_s3_cred_value_reset(out);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    return HOIST_OK;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct sink {
    struct hx_buf *out;
    size_t max;
    int too_long, nomem;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    struct sink *s = ud;
    size_t len = size * n;
    if (s->out->len + len > s->max) {
        s->too_long = 1;
        return 0;
    }
    if (hx_buf_append(s->out, p, len) != HOIST_OK) {
        s->nomem = 1;
        return 0;
    }
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void init_curl(void) { (void)curl_global_init(CURL_GLOBAL_DEFAULT); }

/* Link-local credential endpoints must never go through a proxy (botocore
 * applies http_proxy to IMDS, which breaks it behind corporate proxies). */
#define NO_PROXY_HOSTS "169.254.169.254,169.254.170.2,169.254.170.23,fd00:ec2::254,fd00:ec2::23,localhost,127.0.0.1,::1"

hx_status hx_s3_cred_http(const char *method, const char *url, const char *const *headers, const char *body,
                          long timeout_ms, size_t max_bytes, long *status, struct hx_buf *out) {
    pthread_once(&curl_once, init_curl);
    *status = 0;
    out->len = 0;
    CURL *e = curl_easy_init();
    HX_FAIL_IF(e == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct curl_slist *list = NULL;
    hx_status st = HOIST_OK;
    for (size_t i = 0; headers && headers[i] && st == HOIST_OK; i++) {
        struct curl_slist *nl = curl_slist_append(list, headers[i]);
        if (nl == NULL) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        list = nl ? nl : list;
    }
    struct curl_slist *nl = st == HOIST_OK ? curl_slist_append(list, "Expect:") : NULL;
    if (nl) list = nl;
    struct sink s = {.out = out, .max = max_bytes};
    char errbuf[CURL_ERROR_SIZE] = "";
    if (st == HOIST_OK) {
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "HEAD") == 0) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        if (body) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms * 2);
        curl_easy_setopt(e, CURLOPT_NOPROXY, NO_PROXY_HOSTS);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        const char *ca = hx_s3_env("AWS_CA_BUNDLE");
        if (ca) curl_easy_setopt(e, CURLOPT_CAINFO, ca);
        CURLcode rc = curl_easy_perform(e);
        if (s.nomem) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        } else if (s.too_long) {
            st = hx_error(HOIST_ERR_CREDENTIALS, "%s: answer larger than %zu bytes", url, max_bytes);
        } else if (rc != CURLE_OK) {
            st = hx_error(HOIST_ERR_CREDENTIALS, "%s: %s%s%s", url, curl_easy_strerror(rc), errbuf[0] ? ": " : "",
                          errbuf);
        } else {
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
            st = hx_buf_append(out, "", 0); /* NUL-terminates an empty body too */
        }
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(e);
    return st;
}

/* ---- JSON ------------------------------------------------------------------ */

static int64_t json_expiration(json_t *v, int exp_ms) {
    if (exp_ms && json_is_integer(v)) return (int64_t)(json_integer_value(v) / 1000);
    if (json_is_string(v)) return hx_s3_parse_iso8601(json_string_value(v));
    return -1;
}

hx_status hx_s3_cred_from_json(const char *text, size_t len, const struct hx_s3_json_fields *f, const char *what,
                               struct hx_s3_cred_value *out) {
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    HX_FAIL_IF(root == NULL, HOIST_ERR_CREDENTIALS, "%s: answer is not JSON (line %d: %s)", what, jerr.line, jerr.text);
    json_t *obj = f->object ? json_object_get(root, f->object) : root;
    hx_status st = HOIST_OK;
    if (!json_is_object(obj)) {
        st = hx_error(HOIST_ERR_CREDENTIALS, "%s: answer has no %s object", what, f->object ? f->object : "JSON");
        goto done;
    }
    json_t *ak = json_object_get(obj, f->access_key), *sk = json_object_get(obj, f->secret_key);
    json_t *tok = f->token ? json_object_get(obj, f->token) : NULL;
    json_t *exp = f->expiration ? json_object_get(obj, f->expiration) : NULL;
    if (!json_is_string(ak) || !json_is_string(sk) || json_string_length(ak) == 0 || json_string_length(sk) == 0) {
        /* IMDS and containers answer {"Code": ..., "Message": ...} when the
         * role cannot be used; their text carries no secret. */
        json_t *code = json_object_get(obj, "Code"), *msg = json_object_get(obj, "Message");
        if (!json_is_string(code)) code = json_object_get(obj, "code");
        if (!json_is_string(msg)) msg = json_object_get(obj, "message");
        st = hx_error(HOIST_ERR_CREDENTIALS, "%s: answer has no %s/%s%s%s%s%s%s", what, f->access_key, f->secret_key,
                      json_is_string(code) ? " (" : "", json_is_string(code) ? json_string_value(code) : "",
                      json_is_string(msg) ? ": " : "", json_is_string(msg) ? json_string_value(msg) : "",
                      json_is_string(code) ? ")" : "");
        goto done;
    }
    memset(out, 0, sizeof *out);
    out->access_key = hx_strdup(json_string_value(ak));
    out->secret_key = hx_strdup(json_string_value(sk));
    if (json_is_string(tok) && json_string_length(tok) > 0) out->session_token = hx_strdup(json_string_value(tok));
    if (out->access_key == NULL || out->secret_key == NULL ||
        (json_is_string(tok) && json_string_length(tok) > 0 && out->session_token == NULL)) {
        hx_s3_cred_value_reset(out);
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (exp && !json_is_null(exp)) {
        out->expiration = json_expiration(exp, f->exp_ms);
        if (out->expiration <= 0) {
            hx_s3_cred_value_reset(out);
            st = hx_error(HOIST_ERR_CREDENTIALS, "%s: %s is not a time", what, f->expiration);
        }
    }
done:
    /* jansson keeps the parsed secrets in its own heap blocks: wipe them. */
    if (json_is_object(obj)) {
        json_t *v;
        const char *k;
        json_object_foreach(obj, k, v) {
            if (json_is_string(v)) OPENSSL_cleanse((void *)json_string_value(v), json_string_length(v));
        }
    }
    json_decref(root);
    return st;
}
