/* SigV4 signing, hashes, URI encoding and request building for S3. */
#include "s3_cred.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char hexd[] = "0123456789abcdef";

static void to_hex(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[in[i] >> 4];
        out[2 * i + 1] = hexd[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void hx_sha256_hex(const void *data, size_t n, char out[65]) {
    uint8_t d[32];
    SHA256(data, n, d);
    to_hex(d, 32, out);
}

static void base64(const uint8_t *in, size_t n, char *out) { EVP_EncodeBlock((unsigned char *)out, in, (int)n); }

void hx_md5_base64(const void *data, size_t n, char out[25]) {
    uint8_t d[16];
    unsigned int dl = 0;
    EVP_Digest(data, n, d, &dl, EVP_md5(), NULL);
    base64(d, 16, out);
}

void hx_crc_base64(uint32_t crc, char out[9]) {
    uint8_t b[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    base64(b, 4, out);
}

static void hmac(const uint8_t *key, size_t klen, const char *msg, size_t mlen, uint8_t out[32]) {
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &len);
}

void hx_s3_signing_key(const char *secret, const char *date8, const char *region, uint8_t out[32]) {
    hx_s3_sigv4_key(secret, date8, region, "s3", out);
}

void hx_s3_sigv4_key(const char *secret, const char *date8, const char *region, const char *service, uint8_t out[32]) {
    char k0[256];
    int n = snprintf(k0, sizeof k0, "AWS4%s", secret);
    if (n < 0 || (size_t)n >= sizeof k0) n = (int)sizeof k0 - 1;
    uint8_t a[32], b[32], c[32];
    hmac((const uint8_t *)k0, (size_t)n, date8, strlen(date8), a);
    hmac(a, 32, region, strlen(region), b);
    hmac(b, 32, service, strlen(service), c);
    hmac(c, 32, "aws4_request", 12, out);
    /* the secret-derived key material must not linger on the stack */
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    OPENSSL_cleanse(c, sizeof c);
}

hx_status hx_s3_sigv4_authorization(const char *method, const char *canonical_uri, const char *canonical_query,
                                    const struct hx_s3_header *headers, size_t n, const char *payload_hash,
                                    const char *amz_date, const char *region, const char *access_key,
                                    const uint8_t signing_key[32], struct hx_buf *out) {
    return hx_s3_sigv4_authorization_for("s3", method, canonical_uri, canonical_query, headers, n, payload_hash,
                                         amz_date, region, access_key, signing_key, out);
}

/* A header value as the canonical request has it (AWS "Create a canonical
 * request": Trimall, i.e. no leading or trailing blanks and each run of
 * blanks inside as one space). The server canonicalizes what it received
 * this way, so a value sent with "x  y" must be signed as "x y"; the value
 * on the wire stays as the caller gave it. */
static hx_status append_trimall(struct hx_buf *out, const char *v) {
    while (*v == ' ' || *v == '\t') v++;
    while (*v) {
        size_t word = strcspn(v, " \t");
        HX_TRY(hx_buf_append(out, v, word));
        v += word;
        while (*v == ' ' || *v == '\t') v++;
        if (*v) HX_TRY(hx_buf_append(out, " ", 1));
    }
    return HOIST_OK;
}

hx_status hx_s3_sigv4_authorization_for(const char *service, const char *method, const char *canonical_uri,
                                        const char *canonical_query, const struct hx_s3_header *headers, size_t n,
                                        const char *payload_hash, const char *amz_date, const char *region,
                                        const char *access_key, const uint8_t signing_key[32], struct hx_buf *out) {
    struct hx_buf creq, signed_names;
    hx_buf_init(&creq);
    hx_buf_init(&signed_names);
    hx_status st = HOIST_OK;
    st = hx_buf_printf(&creq, "%s\n%s\n%s\n", method, canonical_uri, canonical_query ? canonical_query : "");
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        st = hx_buf_printf(&creq, "%s:", headers[i].name);
        if (st == HOIST_OK) st = append_trimall(&creq, headers[i].value);
        if (st == HOIST_OK) st = hx_buf_append(&creq, "\n", 1);
        if (st == HOIST_OK) st = hx_buf_printf(&signed_names, i ? ";%s" : "%s", headers[i].name);
    }
    if (st == HOIST_OK) st = hx_buf_printf(&creq, "\n%s\n%s", signed_names.data ? signed_names.data : "", payload_hash);
    if (st != HOIST_OK) goto done;
    char creq_hash[65];
    hx_sha256_hex(creq.data, creq.len, creq_hash);
    char date8[9];
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    char sts[512];
    int sl = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date8, region,
                      service, creq_hash);
    if (sl < 0 || (size_t)sl >= sizeof sts) {
        st = hx_error(HOIST_ERR_INVALID_ARG, "region name too long");
        goto done;
    }
    uint8_t sig[32];
    hmac(signing_key, 32, sts, (size_t)sl, sig);
    char sighex[65];
    to_hex(sig, 32, sighex);
    out->len = 0;
    st = hx_buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                       access_key, date8, region, service, signed_names.data, sighex);
done:
    hx_buf_reset(&creq);
    hx_buf_reset(&signed_names);
    return st;
}

static int unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

hx_status hx_s3_uri_encode(struct hx_buf *out, const char *s, size_t n, int keep_slash) {
    HX_TRY(hx_buf_reserve(out, n * 3));
    char *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = "0123456789ABCDEF"[c >> 4];
            *p++ = "0123456789ABCDEF"[c & 15];
        }
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return HOIST_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

hx_status hx_s3_url_decode(struct hx_buf *out, const char *s, size_t n, int plus_space) {
    HX_TRY(hx_buf_reserve(out, n));
    char *p = out->data + out->len;
    /* the key as the server sent it, for messages (at most 200 bytes) */
    int shown = n > 200 ? 200 : (int)n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = i + 2 < n ? hexval(s[i + 2]) : -1;
            HX_FAIL_IF(h < 0 || l < 0, HOIST_ERR_S3_BAD_RESPONSE, "listed key '%.*s': bad %%-escape", shown, s);
            /* Keys are C strings here: "a%00/b" would become "a", another
             * object's name, which a later delete or copy would act on. */
            HX_FAIL_IF(h == 0 && l == 0, HOIST_ERR_S3_BAD_RESPONSE,
                       "listed key '%.*s' has an encoded NUL byte (%%00): refused, hoist keys cannot hold one", shown,
                       s);
            *p++ = (char)(h * 16 + l);
            i += 2;
        } else if (plus_space && s[i] == '+') {
            *p++ = ' ';
        } else {
            *p++ = s[i];
        }
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return HOIST_OK;
}

/* ---- request building -------------------------------------------------- */

static int bucket_dns_safe(const char *b) {
    size_t n = strlen(b);
    if (n < 3 || n > 63) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return b[0] != '-' && b[n - 1] != '-';
}

static int cmp_header(const void *a, const void *b) {
    return strcmp(((const struct hx_s3_header *)a)->name, ((const struct hx_s3_header *)b)->name);
}

static void amz_now(char out[17]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

#define MAX_HEADERS 24

static hx_status sign_request(struct hx_s3 *s3, const struct hx_s3_creds *creds, struct hx_net_req *req,
                              const char *method, const char *bucket, const char *key, const char *query,
                              const char *payload_hash, const struct hx_s3_header *extra, size_t nextra);

hx_status hx_s3_build_request(struct hx_s3 *s3, struct hx_net_req *req, const char *method, const char *bucket,
                              const char *key, const char *query, const char *payload_hash,
                              const struct hx_s3_header *extra, size_t nextra) {
    const struct hx_s3_settings *set = &s3->set;
    HX_FAIL_IF(nextra + 6 > MAX_HEADERS, HOIST_ERR_INTERNAL, "too many request headers");
    struct hx_s3_creds *creds = NULL;
    if (!set->anonymous) HX_TRY(hx_s3_creds_acquire(s3, &creds));
    hx_status st = sign_request(s3, creds, req, method, bucket, key, query, payload_hash, extra, nextra);
    hx_s3_creds_release(creds);
    return st;
}

static hx_status sign_request(struct hx_s3 *s3, const struct hx_s3_creds *creds, struct hx_net_req *req,
                              const char *method, const char *bucket, const char *key, const char *query,
                              const char *payload_hash, const struct hx_s3_header *extra, size_t nextra) {
    const struct hx_s3_settings *set = &s3->set;
    int virtual_host = 0;
    if (bucket && bucket[0]) {
        if (set->addressing == HX_S3_ADDR_VIRTUAL)
            virtual_host = 1;
        else if (set->addressing == HX_S3_ADDR_AUTO)
            virtual_host = set->endpoint_is_aws && bucket_dns_safe(bucket);
    }
    req->method = method;
    /* Canonical URI: S3 encodes each path segment once and keeps '/'. */
    struct hx_buf *url = &req->url;
    url->len = 0;
    HX_TRY(hx_buf_append_str(url, s3->scheme_host));
    if (virtual_host) {
        /* scheme://bucket.host: rebuild the prefix */
        url->len = 0;
        const char *sep = strstr(s3->scheme_host, "://");
        size_t sl = sep ? (size_t)(sep - s3->scheme_host) + 3 : 0;
        HX_TRY(hx_buf_append(url, s3->scheme_host, sl));
        HX_TRY(hx_buf_printf(url, "%s.%s", bucket, s3->host));
    }
    size_t path_at = url->len;
    HX_TRY(hx_buf_append(url, "/", 1));
    if (bucket && bucket[0] && !virtual_host) {
        HX_TRY(hx_s3_uri_encode(url, bucket, strlen(bucket), 0));
        if (key && key[0]) HX_TRY(hx_buf_append(url, "/", 1));
    }
    if (key && key[0]) HX_TRY(hx_s3_uri_encode(url, key, strlen(key), 1));
    size_t path_end = url->len;
    if (query && query[0]) HX_TRY(hx_buf_printf(url, "?%s", query));

    char host_buf[512];
    if (virtual_host)
        snprintf(host_buf, sizeof host_buf, "%s.%s", bucket, s3->host);
    else
        snprintf(host_buf, sizeof host_buf, "%s", s3->host);
    char amz_date[17];
    amz_now(amz_date);
    const char *phash = payload_hash ? payload_hash : "UNSIGNED-PAYLOAD";

    struct hx_s3_header h[MAX_HEADERS];
    size_t n = 0;
    h[n++] = (struct hx_s3_header){"host", host_buf};
    h[n++] = (struct hx_s3_header){"x-amz-content-sha256", phash};
    h[n++] = (struct hx_s3_header){"x-amz-date", amz_date};
    if (creds && creds->v.session_token) h[n++] = (struct hx_s3_header){"x-amz-security-token", creds->v.session_token};
    for (size_t i = 0; i < nextra; i++) h[n++] = extra[i];
    qsort(h, n, sizeof h[0], cmp_header);

    if (req->headers) curl_slist_free_all(req->headers);
    req->headers = NULL;
    struct hx_buf line;
    hx_buf_init(&line);
    hx_status st = HOIST_OK;
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < n && st == HOIST_OK; i++) {
        if (strcmp(h[i].name, "host") == 0) continue; /* libcurl sends Host from the URL */
        line.len = 0;
        st = hx_buf_printf(&line, "%s: %s", h[i].name, h[i].value);
        if (st != HOIST_OK) break;
        struct curl_slist *nl = curl_slist_append(list, line.data);
        if (nl == NULL) st = hx_error(HOIST_ERR_NOMEM, "out of memory building request headers");
        list = nl ? nl : list;
    }
    if (st == HOIST_OK && creds) {
        char date8[9];
        memcpy(date8, amz_date, 8);
        date8[8] = '\0';
        uint8_t key_copy[32];
        pthread_mutex_lock(&s3->key_lock);
        if (strcmp(s3->key_date, date8) != 0 || s3->key_generation != creds->generation) {
            hx_s3_signing_key(creds->v.secret_key, date8, set->region, s3->signing_key);
            memcpy(s3->key_date, date8, 9);
            s3->key_generation = creds->generation;
        }
        memcpy(key_copy, s3->signing_key, 32);
        pthread_mutex_unlock(&s3->key_lock);
        char saved = url->data[path_end];
        url->data[path_end] = '\0';
        struct hx_buf auth;
        hx_buf_init(&auth);
        st = hx_s3_sigv4_authorization(method, url->data + path_at, query, h, n, phash, amz_date, set->region,
                                       creds->v.access_key, key_copy, &auth);
        url->data[path_end] = saved;
        OPENSSL_cleanse(key_copy, sizeof key_copy);
        if (st == HOIST_OK) {
            line.len = 0;
            st = hx_buf_printf(&line, "Authorization: %s", auth.data);
        }
        hx_buf_reset(&auth);
        if (st == HOIST_OK) {
            struct curl_slist *nl = curl_slist_append(list, line.data);
            if (nl == NULL) st = hx_error(HOIST_ERR_NOMEM, "out of memory building request headers");
            list = nl ? nl : list;
        }
    }
    /* No "Expect: 100-continue" round trip before bodies; no default Accept. */
    if (st == HOIST_OK) {
        struct curl_slist *nl = curl_slist_append(list, "Expect:");
        if (nl) list = nl;
        nl = curl_slist_append(list, "Accept:");
        if (nl) list = nl;
    }
    hx_buf_reset(&line);
    if (st != HOIST_OK) {
        curl_slist_free_all(list);
        return st;
    }
    req->headers = list;
    return HOIST_OK;
}
