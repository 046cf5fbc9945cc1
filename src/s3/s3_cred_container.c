/* The container provider (ECS task roles, AWS Batch job roles, EKS Pod
 * Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI against 169.254.170.2,
 * or AWS_CONTAINER_CREDENTIALS_FULL_URI with an Authorization token from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN (AWS SDK reference,
 * "Container credential provider"). */
#include "s3_cred.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONTAINER_TIMEOUT_MS 2000
#define CONTAINER_MAX_BODY 10000 /* aws-c-auth's cap */
#define CONTAINER_ATTEMPTS 3

/* Plain http is allowed only to a loopback address or the ECS / EKS Pod
 * Identity agents' link-local addresses (botocore _validate_allowed_url),
 * since the request carries a bearer token; https may go anywhere. */
static int host_allowed(const char *host) {
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 || strcmp(host, "169.254.170.23") == 0)
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    static const uint8_t loop6[16] = {[15] = 1};
    static const uint8_t pod6[16] = {0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23};
    if (inet_pton(AF_INET6, host, &a6) == 1) return memcmp(&a6, loop6, 16) == 0 || memcmp(&a6, pod6, 16) == 0;
    return 0;
}

hx_status hx_s3_container_url(char **url) {
    *url = NULL;
    const char *rel = hx_s3_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (rel) {
        *url = hx_asprintf("http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel);
        HX_FAIL_IF(*url == NULL, HOIST_ERR_NOMEM, "out of memory");
        return HOIST_OK;
    }
    const char *full = hx_s3_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (full == NULL) return HOIST_OK;
    if (strncasecmp(full, "https://", 8) != 0) {
        HX_FAIL_IF(strncasecmp(full, "http://", 7) != 0, HOIST_ERR_CREDENTIALS,
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is not an http(s) URL", full);
        const char *h = full + 7;
        char host[256];
        size_t n;
        if (*h == '[') {
            const char *e = strchr(h, ']');
            n = e ? (size_t)(e - h - 1) : 0;
            snprintf(host, sizeof host, "%.*s", (int)n, h + 1);
        } else {
            n = strcspn(h, ":/?#");
            snprintf(host, sizeof host, "%.*s", (int)n, h);
        }
        HX_FAIL_IF(!host_allowed(host), HOIST_ERR_CREDENTIALS,
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI host '%s' is not allowed over http (only loopback, "
                   "169.254.170.2, 169.254.170.23 and fd00:ec2::23; use https for other hosts)",
                   host);
    }
    *url = hx_strdup(full);
    HX_FAIL_IF(*url == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

/* The Authorization header line, or NULL; the token file is re-read on each
 * fetch because EKS rotates it. */
static hx_status auth_header(char **line) {
    *line = NULL;
    const char *file = hx_s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    char buf[4096];
    const char *tok = NULL;
    if (file) {
        FILE *f = fopen(file, "r");
        HX_FAIL_IF(f == NULL, HOIST_ERR_CREDENTIALS, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", file,
                   strerror(errno));
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
        buf[n] = '\0';
        tok = buf;
    } else {
        tok = hx_s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (tok == NULL) return HOIST_OK;
    hx_status st = HOIST_OK;
    if (strchr(tok, '\n') || strchr(tok, '\r'))
        st = hx_error(HOIST_ERR_CREDENTIALS, "the container authorization token has a line break");
    else if ((*line = hx_asprintf("Authorization: %s", tok)) == NULL)
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    memset(buf, 0, sizeof buf);
    return st;
}

hx_status hx_s3_container_fetch(struct hx_s3_cred_value *out, enum hx_cred_found *found, char *why, size_t why_cap) {
    *found = HX_CRED_NONE;
    char *url = NULL;
    HX_TRY(hx_s3_container_url(&url));
    if (url == NULL) {
        snprintf(why, why_cap, "AWS_CONTAINER_CREDENTIALS_*_URI not set");
        return HOIST_OK;
    }
    struct hx_buf body;
    hx_buf_init(&body);
    hx_status st = HOIST_OK;
    HX_DEBUG("credentials: container endpoint %s", url);
    for (int attempt = 0; attempt < CONTAINER_ATTEMPTS; attempt++) {
        char *auth = NULL;
        st = auth_header(&auth);
        if (st != HOIST_OK) break;
        const char *headers[3] = {"Accept: application/json", auth, NULL};
        long status = 0;
        st = hx_s3_cred_http("GET", url, headers, NULL, CONTAINER_TIMEOUT_MS, CONTAINER_MAX_BODY, &status, &body);
        if (auth) memset(auth, 0, strlen(auth));
        hx_free(auth);
        if (st == HOIST_OK && status == 200) {
            struct hx_s3_json_fields f = {NULL, "AccessKeyId", "SecretAccessKey", "Token", "Expiration", 0};
            st = hx_s3_cred_from_json(body.data, body.len, &f, url, out);
            break;
        }
        if (st == HOIST_OK) {
            /* no retry on a client error: the token or URI is wrong */
            st = hx_error(HOIST_ERR_CREDENTIALS, "%s: HTTP %ld", url, status);
            if (status >= 400 && status < 500) break;
        }
        if (st == HOIST_ERR_NOMEM || attempt + 1 == CONTAINER_ATTEMPTS) break;
        usleep(200000);
    }
    if (body.data) memset(body.data, 0, body.len);
    hx_buf_reset(&body);
    hx_free(url);
    if (st == HOIST_OK) {
        snprintf(out->source, sizeof out->source, "container");
        *found = HX_CRED_FOUND;
    }
    return st;
}

static hx_status container_load(const struct hx_s3_cred_input *in, struct hx_s3_cred_value *out,
                                enum hx_cred_found *found, char *why, size_t why_cap) {
    if (in->eager) {
        char *url = NULL;
        HX_TRY(hx_s3_container_url(&url));
        *found = url ? HX_CRED_DEFER : HX_CRED_NONE;
        if (url == NULL) snprintf(why, why_cap, "AWS_CONTAINER_CREDENTIALS_*_URI not set");
        hx_free(url);
        return HOIST_OK;
    }
    return hx_s3_container_fetch(out, found, why, why_cap);
}

const struct hx_s3_cred_provider hx_s3_cred_container = {"container", container_load};
