/* The public object store API: config, client, and the many-at-once calls,
 * which validate their items and hand each to the backend of its URL scheme. */
#include "store_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- config --------------------------------------------------------- */

hx_status hoist_store_config_new(struct hoist_store_config **out) {
    HX_FAIL_IF(out == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_config_new: out is NULL");
    *out = NULL;
    struct hoist_store_config *c = hx_calloc(1, sizeof *c);
    HX_FAIL_IF(c == NULL, HOIST_ERR_NOMEM, "out of memory");
    c->no_sign = c->verify_tls = -1;
    c->concurrency = c->part_size = c->max_retries = c->stall_timeout = c->connect_timeout = -1;
    c->min_rate = -1;
    *out = c;
    return HOIST_OK;
}

void hoist_store_config_free(struct hoist_store_config *c) {
    if (c == NULL) return;
    hx_free(c->endpoint);
    hx_free(c->region);
    hx_free(c->profile);
    hx_free(c->access_key);
    if (c->secret_key) memset(c->secret_key, 0, strlen(c->secret_key));
    hx_free(c->secret_key);
    if (c->session_token) memset(c->session_token, 0, strlen(c->session_token));
    hx_free(c->session_token);
    hx_free(c->addressing);
    hx_free(c->tmpdir);
    hx_free(c->sse);
    hx_free(c->sse_kms_key_id);
    hx_free(c->ca_bundle);
    hx_free(c->checksum);
    hx_free(c->role_arn);
    hx_free(c);
}

static hx_status copy_opt(char **dst, const char *v, const char *what) {
    HX_FAIL_IF(v == NULL, HOIST_ERR_INVALID_ARG, "%s: value is NULL", what);
    char *d = hx_strdup(v);
    HX_FAIL_IF(d == NULL, HOIST_ERR_NOMEM, "out of memory");
    hx_free(*dst);
    *dst = d;
    return HOIST_OK;
}

hx_status hoist_store_config_set_str(struct hoist_store_config *c, enum hoist_store_option opt, const char *v) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_config_set_str: config is NULL");
    switch (opt) {
    case HOIST_STORE_ENDPOINT:
        HX_FAIL_IF(v && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0, HOIST_ERR_INVALID_ARG,
                   "endpoint '%s' must start with http:// or https://", v);
        return copy_opt(&c->endpoint, v, "endpoint");
    case HOIST_STORE_REGION: return copy_opt(&c->region, v, "region");
    case HOIST_STORE_PROFILE: return copy_opt(&c->profile, v, "profile");
    case HOIST_STORE_ACCESS_KEY_ID: return copy_opt(&c->access_key, v, "access key id");
    case HOIST_STORE_SECRET_ACCESS_KEY: return copy_opt(&c->secret_key, v, "secret access key");
    case HOIST_STORE_SESSION_TOKEN: return copy_opt(&c->session_token, v, "session token");
    case HOIST_STORE_TMPDIR: return copy_opt(&c->tmpdir, v, "tmpdir");
    case HOIST_STORE_SSE:
        HX_FAIL_IF(v == NULL || (strcmp(v, "AES256") && strcmp(v, "aws:kms") && strcmp(v, "aws:kms:dsse")),
                   HOIST_ERR_INVALID_ARG, "sse must be \"AES256\", \"aws:kms\" or \"aws:kms:dsse\"");
        return copy_opt(&c->sse, v, "sse");
    case HOIST_STORE_CHECKSUM:
        HX_FAIL_IF(v == NULL || hx_s3_checksum_parse(v) < 0, HOIST_ERR_INVALID_ARG,
                   "checksum must be \"when_supported\", \"when_required\" or \"always\"");
        return copy_opt(&c->checksum, v, "checksum");
    case HOIST_STORE_ROLE_ARN:
        HX_FAIL_IF(v == NULL || strncmp(v, "arn:", 4) != 0, HOIST_ERR_INVALID_ARG,
                   "role must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
        return copy_opt(&c->role_arn, v, "role");
    case HOIST_STORE_CA_BUNDLE: return copy_opt(&c->ca_bundle, v, "ca bundle");
    case HOIST_STORE_SSE_KMS_KEY_ID: return copy_opt(&c->sse_kms_key_id, v, "sse kms key id");
    case HOIST_STORE_ADDRESSING:
        HX_FAIL_IF(v == NULL || (strcmp(v, "path") && strcmp(v, "virtual") && strcmp(v, "auto")), HOIST_ERR_INVALID_ARG,
                   "addressing must be \"path\", \"virtual\" or \"auto\"");
        return copy_opt(&c->addressing, v, "addressing");
    default: break;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "store option %d does not take a string", (int)opt);
}

hx_status hoist_store_config_set_int(struct hoist_store_config *c, enum hoist_store_option opt, int64_t v) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_config_set_int: config is NULL");
    switch (opt) {
    case HOIST_STORE_NO_SIGN_REQUEST:
    case HOIST_STORE_VERIFY_TLS:
    case HOIST_STORE_FSYNC:
    case HOIST_STORE_FOLLOW_SYMLINKS:
        HX_FAIL_IF(v != 0 && v != 1, HOIST_ERR_INVALID_ARG, "option %d takes 0 or 1, not %lld", (int)opt, (long long)v);
        if (opt == HOIST_STORE_NO_SIGN_REQUEST)
            c->no_sign = (int)v;
        else if (opt == HOIST_STORE_VERIFY_TLS)
            c->verify_tls = (int)v;
        else if (opt == HOIST_STORE_FSYNC)
            c->fsync = (int)v;
        else
            c->follow_symlinks = (int)v;
        return HOIST_OK;
    case HOIST_STORE_INJECT_FAILURES:
        HX_FAIL_IF(v < 0 || v > 100, HOIST_ERR_INVALID_ARG, "inject failures must be 0..100 (%%), not %lld",
                   (long long)v);
        c->inject_failures = (int)v;
        return HOIST_OK;
    case HOIST_STORE_CONCURRENCY:
        HX_FAIL_IF(v < 0 || v > 4096, HOIST_ERR_INVALID_ARG, "concurrency must be 0 (auto) to 4096, not %lld",
                   (long long)v);
        c->concurrency = v;
        return HOIST_OK;
    case HOIST_STORE_PART_SIZE:
        HX_FAIL_IF(v != 0 && (v < 64 * 1024 || v > (int64_t)5 << 30), HOIST_ERR_INVALID_ARG,
                   "part size must be 0 (auto) or 64 KiB to 5 GiB, not %lld", (long long)v);
        c->part_size = v;
        return HOIST_OK;
    case HOIST_STORE_MAX_RETRIES:
        HX_FAIL_IF(v < 0 || v > 100, HOIST_ERR_INVALID_ARG, "max retries must be 0 to 100, not %lld", (long long)v);
        c->max_retries = v;
        return HOIST_OK;
    case HOIST_STORE_STALL_TIMEOUT:
    case HOIST_STORE_CONNECT_TIMEOUT:
        HX_FAIL_IF(v < 1 || v > 3600, HOIST_ERR_INVALID_ARG, "timeouts must be 1 to 3600 seconds, not %lld",
                   (long long)v);
        if (opt == HOIST_STORE_STALL_TIMEOUT)
            c->stall_timeout = v;
        else
            c->connect_timeout = v;
        return HOIST_OK;
    case HOIST_STORE_MIN_RATE:
        HX_FAIL_IF(v < 0 || v > ((int64_t)1 << 40), HOIST_ERR_INVALID_ARG,
                   "minimum rate must be 0 (no limit) to 1 TiB/s (in bytes/s), not %lld", (long long)v);
        c->min_rate = v;
        return HOIST_OK;
    default: break;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "store option %d does not take an integer", (int)opt);
}

/* ---- client -------------------------------------------------------------- */

/* DESIGN.md: about one connection per 0.4 Gbit/s of the throughput target
 * (aws-c-s3), at least 8; the default target is 10 Gbit/s -> 25. */
#define DEFAULT_CONCURRENCY 25
/* Small PUTs are bound by the server's per-request latency, not by
 * bandwidth: with the default (auto) concurrency, put_many of small objects
 * keeps this many in flight (docs/store.md, Performance). */
#define SMALL_PUT_CONCURRENCY 128
#define DEFAULT_PART_SIZE ((uint64_t)8 << 20)
/* The throughput one connection is taken to carry (the sizing rule above):
 * get_many's target is concurrency x this. */
#define CONN_RATE (0.4e9 / 8)
/* Minimum transfer rate per request (docs/store.md, Limits): 4 KiB/s gives
 * an 8 MiB part 30 s + 34 min. Low, so that many connections sharing a slow
 * link (128 small PUTs on 4 Mbit/s) still pass; a trickling server no
 * longer holds a request forever. */
#define DEFAULT_MIN_RATE 4096
/* Fewer, larger upload parts cost the server less per byte (measured on
 * SeaweedFS: 16 MiB parts beat 8 MiB ones by ~10%); objects up to twice
 * this go as one PUT. */
#define DEFAULT_PUT_PART_SIZE ((uint64_t)16 << 20)

/* get_many and put_many hand the backends this many items at a time, so the
 * per-item transfer state (~1.6 KB an item on s3://) and the parsed URLs are
 * bounded by the window, not by n (a call of 10 M items held ~16 GB). The
 * pipeline drains once per window: with windows this long the pause is a
 * few round trips in tens of thousands of requests. */
#define ITEM_WINDOW 10000

hx_status hoist_store_new(const struct hoist_store_config *cfg, struct hoist_store **out) {
    HX_FAIL_IF(out == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_new: out is NULL");
    *out = NULL;
    struct hoist_store_config empty;
    if (cfg == NULL) {
        memset(&empty, 0, sizeof empty);
        empty.no_sign = empty.verify_tls = -1;
        empty.concurrency = empty.part_size = empty.max_retries = empty.stall_timeout = empty.connect_timeout = -1;
        empty.min_rate = -1;
        cfg = &empty;
    }
    struct hoist_store *st = hx_calloc(1, sizeof *st);
    HX_FAIL_IF(st == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hx_s3_explicit ex = {
        .endpoint = cfg->endpoint,
        .region = cfg->region,
        .profile = cfg->profile,
        .access_key = cfg->access_key,
        .secret_key = cfg->secret_key,
        .session_token = cfg->session_token,
        .addressing = cfg->addressing,
        .sse = cfg->sse,
        .sse_kms_key_id = cfg->sse_kms_key_id,
        .checksum = cfg->checksum,
        .role_arn = cfg->role_arn,
        .no_sign = cfg->no_sign == 1,
    };
    hx_status s = hx_s3_init(&st->s3, &ex);
    if (s != HOIST_OK) {
        hx_free(st);
        return s;
    }
    st->concurrency = cfg->concurrency > 0 ? (int)cfg->concurrency : DEFAULT_CONCURRENCY;
    st->fsync = cfg->fsync == 1;
    st->item_window = ITEM_WINDOW;
    st->follow_symlinks = cfg->follow_symlinks == 1;
    st->small_put_concurrency = cfg->concurrency > 0 ? st->concurrency : SMALL_PUT_CONCURRENCY;
    st->part_size = cfg->part_size > 0 ? (uint64_t)cfg->part_size : DEFAULT_PART_SIZE;
    st->part_size_auto = cfg->part_size <= 0;
    st->conn_rate = CONN_RATE;
    /* S3 parts are at least 5 MiB except the last (qfacts). */
    st->put_part_size = cfg->part_size > 0 ? st->part_size : DEFAULT_PUT_PART_SIZE;
    if (st->put_part_size < ((uint64_t)5 << 20)) st->put_part_size = (uint64_t)5 << 20;
    const char *tmp = cfg->tmpdir ? cfg->tmpdir : getenv("METAFLOW_TEMPDIR");
    if (tmp == NULL || !tmp[0]) tmp = getenv("TMPDIR");
    if (tmp == NULL || !tmp[0]) tmp = "/tmp";
    st->tmpdir = hx_strdup(tmp);
    /* botocore: verify argument > AWS_CA_BUNDLE; STS, SSO and container
     * endpoints read AWS_CA_BUNDLE themselves (s3_cred_common.c). */
    const char *ca = cfg->ca_bundle ? cfg->ca_bundle : getenv("AWS_CA_BUNDLE");
    if (ca && ca[0] && access(ca, R_OK) != 0) {
        hoist_store_free(st);
        HX_FAIL(HOIST_ERR_INVALID_ARG, "CA bundle %s (%s): %s", ca, cfg->ca_bundle ? "option" : "AWS_CA_BUNDLE",
                strerror(errno));
    }
    if (ca && ca[0] && (st->ca_bundle = hx_strdup(ca)) == NULL) {
        hoist_store_free(st);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    struct hx_net_config nc = {
        .concurrency = st->concurrency > st->small_put_concurrency ? st->concurrency : st->small_put_concurrency,
        .connect_timeout_s = cfg->connect_timeout > 0 ? (int)cfg->connect_timeout : 10,
        .stall_timeout_s = cfg->stall_timeout > 0 ? (int)cfg->stall_timeout : 30,
        .min_rate = cfg->min_rate >= 0 ? cfg->min_rate : DEFAULT_MIN_RATE,
        .max_retries = cfg->max_retries >= 0 ? (int)cfg->max_retries : 10,
        .verify_tls = cfg->verify_tls != 0,
        .ca_file = st->ca_bundle,
        .inject_failure_pct = cfg->inject_failures,
    };
    s = st->tmpdir ? hx_net_new(&nc, &st->net) : hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (s != HOIST_OK) {
        hoist_store_free(st);
        return s;
    }
    hx_error_clear();
    *out = st;
    return HOIST_OK;
}

void hoist_store_free(struct hoist_store *st) {
    if (st == NULL) return;
    hx_net_free(st->net);
    hx_s3_cleanup(&st->s3);
    hx_free(st->tmpdir);
    hx_free(st->ca_bundle);
    hx_free(st);
}

void hoist_store_get_stats(struct hoist_store *st, struct hoist_store_stats *out, size_t size) {
    if (out == NULL) return;
    struct hoist_store_stats s = {0};
    if (st != NULL && st->net != NULL) {
        s.bytes_received = atomic_load(&st->net->bytes_received);
        s.bytes_sent = atomic_load(&st->net->bytes_sent);
        s.requests = atomic_load(&st->net->requests);
        s.retries = atomic_load(&st->net->retries);
    }
    memcpy(out, &s, size < sizeof s ? size : sizeof s);
}

/* ---- dispatch -------------------------------------------------------------- */

/* Backends in the order they run within one call: local files first (they
 * finish synchronously), then the event-loop backends. */
static const struct hx_store_backend *const backends[] = {&hx_store_file_backend, &hx_store_s3_backend};
#define NBACKENDS (sizeof backends / sizeof backends[0])

const struct hx_store_backend *hx_store_backend_for(enum hx_url_kind kind) {
    for (size_t k = 0; k < NBACKENDS; k++)
        if (backends[k]->kind == kind) return backends[k];
    return NULL;
}

/* The parsed URLs of one call and which schemes occur in it. */
struct batch {
    struct hx_url *urls;
    size_t n;
    unsigned kinds; /* bit k: some URL has kind k */
};

static void batch_reset(struct batch *b) {
    if (b->urls)
        for (size_t i = 0; i < b->n; i++) hx_url_reset(&b->urls[i]);
    hx_free(b->urls);
    memset(b, 0, sizeof *b);
}

/* Parses url i, found at base + i * stride (an item's url field) or at
 * urls[i]. On a bad URL, *bad is its index and nothing is kept. */
static hx_status batch_parse(struct batch *b, const char *const *urls, const void *base, size_t stride, size_t n,
                             size_t *bad) {
    memset(b, 0, sizeof *b);
    b->urls = hx_calloc(n ? n : 1, sizeof *b->urls);
    HX_FAIL_IF(b->urls == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *url = urls ? urls[i] : *(const char *const *)((const char *)base + i * stride);
        hx_status s = hx_store_parse_url(url, &b->urls[i]);
        if (s != HOIST_OK) {
            *bad = i;
            b->n = i;
            batch_reset(b);
            return s;
        }
        b->n = i + 1;
        b->kinds |= 1u << b->urls[i].kind;
    }
    return HOIST_OK;
}

static int batch_has(const struct batch *b, const struct hx_store_backend *be) { return (b->kinds >> be->kind) & 1; }

/* A URL that names a bucket rather than an object (s3://b or s3://b/). */
static int names_container(const struct hx_url *u) { return u->key != NULL && u->key[0] == '\0'; }

/* The fields every item type shares, found by offset, so one loop can mark
 * a bad URL and one can pick the first failure for the call's status. */
struct item_fields {
    size_t stride, status, error;
};
#define ITEM_FIELDS(type) ((struct item_fields){sizeof(type), offsetof(type, status), offsetof(type, error)})

static void item_fail(void *items, struct item_fields f, size_t i, hx_status s) {
    char *it = (char *)items + i * f.stride;
    *(enum hoist_status *)(it + f.status) = s;
    *(char **)(it + f.error) = hx_store_errdup();
}

/* The call's result: the first item failure not excused by flags
 * (a missing object under HOIST_RETURN_MISSING, an existing one skipped by
 * HOIST_NO_OVERWRITE). */
static hx_status items_result(const void *items, struct item_fields f, size_t n, unsigned flags) {
    for (size_t i = 0; i < n; i++) {
        const char *it = (const char *)items + i * f.stride;
        hx_status is = *(const enum hoist_status *)(it + f.status);
        if (is == HOIST_OK) continue;
        if ((is == HOIST_ERR_S3_NO_SUCH_KEY || is == HOIST_ERR_NOT_FOUND) && (flags & HOIST_RETURN_MISSING)) continue;
        if (is == HOIST_ERR_EXISTS && (flags & HOIST_NO_OVERWRITE)) continue;
        const char *err = *(char *const *)(it + f.error);
        return hx_error(is, "%s", err ? err : hoist_strerror(is));
    }
    hx_error_clear();
    return HOIST_OK;
}

static hx_status check_get_item(const struct hoist_get_item *it, size_t i) {
    HX_FAIL_IF(it->url == NULL, HOIST_ERR_INVALID_ARG, "get_many: item %zu has no URL", i);
    HX_FAIL_IF(it->dest == HOIST_DEST_FILE && (it->path == NULL || !it->path[0]), HOIST_ERR_INVALID_ARG,
               "%s: file destination without a path", it->url);
    HX_FAIL_IF(it->dest == HOIST_DEST_BUFFER && it->buffer == NULL && it->buffer_size > 0, HOIST_ERR_INVALID_ARG,
               "%s: buffer destination without a buffer", it->url);
    HX_FAIL_IF(it->dest != HOIST_DEST_ALLOC && it->dest != HOIST_DEST_BUFFER && it->dest != HOIST_DEST_FILE,
               HOIST_ERR_INVALID_ARG, "%s: unknown destination %d", it->url, (int)it->dest);
    HX_FAIL_IF(it->offset < 0 || (it->length < 0 && it->length != -1) || (it->suffix && it->length <= 0),
               HOIST_ERR_INVALID_ARG, "%s: bad range (offset %lld, length %lld%s)", it->url, (long long)it->offset,
               (long long)it->length, it->suffix ? ", suffix" : "");
    return HOIST_OK;
}

/* ---- public many-at-once calls ------------------------------------------------- */

/* Progress across windows: each window's reports, offset by what earlier
 * windows did, against the whole call's object count. */
struct window_progress {
    hoist_progress_fn fn;
    void *userdata;
    uint64_t objects_before, bytes_before, objects_total;
    uint64_t window_bytes; /* the largest byte total the window reported */
};

static int window_progress_cb(const struct hoist_progress *p, void *ud) {
    struct window_progress *w = ud;
    struct hoist_progress q = *p;
    if (p->bytes_total > w->window_bytes) w->window_bytes = p->bytes_total;
    q.objects_done += w->objects_before;
    q.objects_total = w->objects_total;
    q.bytes_done += w->bytes_before;
    q.bytes_total += w->bytes_before;
    return w->fn(&q, w->userdata);
}

/* Runs the items in windows through the backends (put: 1, else get). A
 * call-level failure (cancelled, out of memory) is given to every item that
 * had not run yet. */
static hx_status run_windows(struct hoist_store *st, void *items, struct item_fields f, size_t n, unsigned flags,
                             hoist_progress_fn progress, void *userdata, int put) {
    struct window_progress wp = {.fn = progress, .userdata = userdata, .objects_total = n};
    hx_status s = HOIST_OK;
    size_t start = 0;
    size_t window = st->item_window ? st->item_window : ITEM_WINDOW;
    for (; start < n && s == HOIST_OK; start += window) {
        size_t m = n - start < window ? n - start : window;
        char *first = (char *)items + start * f.stride;
        struct batch b;
        size_t bad = 0;
        /* url is the first field of both item types */
        s = batch_parse(&b, NULL, first, f.stride, m, &bad);
        if (s != HOIST_OK) { /* out of memory: the URLs were checked */
            for (size_t i = 0; i < m; i++) item_fail(first, f, i, s);
            start += m;
            break;
        }
        for (size_t i = 0; put && i < m; i++) {
            if (!names_container(&b.urls[i])) continue;
            item_fail(first, f, i,
                      hx_error(HOIST_ERR_BAD_URL, "%s: no key to write", *(const char *const *)(first + i * f.stride)));
            b.urls[i].kind = HX_URL_DONE;
        }
        wp.window_bytes = 0;
        for (size_t k = 0; k < NBACKENDS && s == HOIST_OK; k++) {
            if (!batch_has(&b, backends[k])) continue;
            hoist_progress_fn fn = progress ? window_progress_cb : NULL;
            s = put ? backends[k]->put_many(st, (struct hoist_put_item *)(void *)first, m, b.urls, flags, fn, &wp)
                    : backends[k]->get_many(st, (struct hoist_get_item *)(void *)first, m, b.urls, flags, fn, &wp);
        }
        batch_reset(&b);
        uint64_t bytes = 0;
        for (size_t i = 0; !put && i < m; i++) bytes += ((struct hoist_get_item *)(void *)first)[i].size;
        wp.objects_before += m;
        wp.bytes_before += bytes > wp.window_bytes ? bytes : wp.window_bytes;
    }
    if (s != HOIST_OK) {
        char *msg = hx_store_errdup();
        for (size_t i = start; i < n; i++) {
            char *it = (char *)items + i * f.stride;
            *(enum hoist_status *)(it + f.status) = s;
            *(char **)(it + f.error) = hx_strdup(msg ? msg : hoist_strerror(s));
        }
        s = hx_error(s, "%s", msg ? msg : hoist_strerror(s));
        hx_free(msg);
    }
    return s;
}

/* Every URL parsed before anything moves (one at a time: no memory per
 * item), so a bad one fails the call with nothing done. */
static hx_status check_urls(void *items, struct item_fields f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct hx_url u;
        hx_status s = hx_store_parse_url(*(const char *const *)((char *)items + i * f.stride), &u);
        if (s != HOIST_OK) {
            item_fail(items, f, i, s);
            return s;
        }
        hx_url_reset(&u);
    }
    return HOIST_OK;
}

hx_status hoist_store_get_many(struct hoist_store *st, struct hoist_get_item *items, size_t n, unsigned flags,
                               hoist_progress_fn progress, void *userdata) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "get_many: NULL argument");
    if (n == 0) {
        hx_error_clear();
        return HOIST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        struct hoist_get_item *it = &items[i];
        it->status = HOIST_OK;
        it->error = NULL;
        it->data = NULL;
        it->size = 0;
        it->range_start = 0;
        memset(&it->info, 0, sizeof it->info);
        HX_TRY(check_get_item(it, i));
    }
    HX_TRY(check_urls(items, ITEM_FIELDS(struct hoist_get_item), n));
    /* Files are written under these rules by whichever backend fetches them. */
    struct hx_store_write_ctx saved, ctx = *hx_store_write_ctx_get();
    ctx.flags = flags & HOIST_NO_OVERWRITE;
    ctx.fsync = st->fsync;
    hx_store_write_ctx_set(&saved, &ctx);
    hx_status s = run_windows(st, items, ITEM_FIELDS(struct hoist_get_item), n, flags, progress, userdata, 0);
    hx_store_write_ctx_restore(&saved);
    if (s != HOIST_OK) return s;
    if (progress) {
        /* The final report: everything is done, so its answer cannot cancel. */
        struct hoist_progress p = {.struct_size = sizeof p, .objects_done = n, .objects_total = n};
        for (size_t i = 0; i < n; i++) p.bytes_done += items[i].size;
        p.bytes_total = p.bytes_done;
        (void)progress(&p, userdata);
    }
    return items_result(items, ITEM_FIELDS(struct hoist_get_item), n,
                        flags & (HOIST_RETURN_MISSING | HOIST_NO_OVERWRITE));
}

hx_status hoist_store_put_many(struct hoist_store *st, struct hoist_put_item *items, size_t n, unsigned flags,
                               hoist_progress_fn progress, void *userdata) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "put_many: NULL argument");
    if (n == 0) {
        hx_error_clear();
        return HOIST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].status = HOIST_OK;
        items[i].error = NULL;
        HX_FAIL_IF(items[i].url == NULL, HOIST_ERR_INVALID_ARG, "put_many: item %zu has no URL", i);
        HX_FAIL_IF(items[i].data == NULL && items[i].path == NULL && items[i].size > 0, HOIST_ERR_INVALID_ARG,
                   "%s: neither data nor a path to upload", items[i].url);
    }
    HX_TRY(check_urls(items, ITEM_FIELDS(struct hoist_put_item), n));
    struct hx_store_write_ctx saved, ctx = {.flags = flags & HOIST_NO_OVERWRITE, .fsync = st->fsync};
    hx_store_write_ctx_set(&saved, &ctx);
    hx_status s = run_windows(st, items, ITEM_FIELDS(struct hoist_put_item), n, flags, progress, userdata, 1);
    hx_store_write_ctx_restore(&saved);
    if (s != HOIST_OK) return s;
    return items_result(items, ITEM_FIELDS(struct hoist_put_item), n, flags & HOIST_NO_OVERWRITE);
}

hx_status hoist_store_info_many(struct hoist_store *st, struct hoist_info_item *items, size_t n, unsigned flags) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "info_many: NULL argument");
    if (n == 0) {
        hx_error_clear();
        return HOIST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].status = HOIST_OK;
        items[i].error = NULL;
        memset(&items[i].info, 0, sizeof items[i].info);
        HX_FAIL_IF(items[i].url == NULL, HOIST_ERR_INVALID_ARG, "info_many: item %zu has no URL", i);
    }
    struct batch b;
    size_t bad = 0;
    hx_status s = batch_parse(&b, NULL, &items->url, sizeof *items, n, &bad);
    if (s != HOIST_OK) {
        item_fail(items, ITEM_FIELDS(struct hoist_info_item), bad, s);
        return s;
    }
    for (size_t k = 0; k < NBACKENDS && s == HOIST_OK; k++)
        if (batch_has(&b, backends[k])) s = backends[k]->info_many(st, items, n, b.urls);
    batch_reset(&b);
    if (s != HOIST_OK) return s;
    return items_result(items, ITEM_FIELDS(struct hoist_info_item), n, flags & HOIST_RETURN_MISSING);
}

/* Concatenates the per-prefix listings into out, in prefix order. */
static hx_status join_lists(struct hoist_list *per, size_t n, struct hoist_list *out) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += per[i].count;
    if (total > 0) {
        out->entries = hx_malloc(total * sizeof *out->entries);
        HX_FAIL_IF(out->entries == NULL, HOIST_ERR_NOMEM, "out of memory listing");
    }
    for (size_t i = 0; i < n; i++) {
        if (per[i].count) memcpy(out->entries + out->count, per[i].entries, per[i].count * sizeof *out->entries);
        out->count += per[i].count;
        hx_free(per[i].entries);
        per[i].entries = NULL;
        per[i].count = 0;
    }
    return HOIST_OK;
}

hx_status hoist_store_list(struct hoist_store *st, const char *const *prefixes, size_t n, int recursive,
                           struct hoist_list *out) {
    HX_FAIL_IF(st == NULL || out == NULL || (prefixes == NULL && n > 0), HOIST_ERR_INVALID_ARG, "list: NULL argument");
    memset(out, 0, sizeof *out);
    struct batch b;
    size_t bad = 0;
    HX_TRY(batch_parse(&b, prefixes, NULL, 0, n, &bad));
    struct hoist_list *per = hx_calloc(n ? n : 1, sizeof *per);
    if (per == NULL) {
        batch_reset(&b);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status s = HOIST_OK;
    for (size_t k = 0; k < NBACKENDS && s == HOIST_OK; k++)
        if (batch_has(&b, backends[k])) s = backends[k]->list(st, prefixes, n, b.urls, recursive, per);
    if (s == HOIST_OK) s = join_lists(per, n, out);
    for (size_t i = 0; i < n; i++) hoist_store_list_reset(&per[i]);
    hx_free(per);
    batch_reset(&b);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

/* delete_many works through its URLs this many at a time: 8 DeleteObjects
 * requests of 1,000 keys in flight, and memory for 8,000 keys whatever n is
 * (it used to hold per-key request state for all n at once). */
#define DELETE_WINDOW 8000

hx_status hoist_store_delete_many(struct hoist_store *st, const char *const *urls_in, size_t n) {
    HX_FAIL_IF(st == NULL || (urls_in == NULL && n > 0), HOIST_ERR_INVALID_ARG, "delete_many: NULL argument");
    /* Every URL is checked before anything is deleted, so a bad URL deletes
     * nothing; one parsed URL at a time. */
    for (size_t i = 0; i < n; i++) {
        struct hx_url u;
        HX_TRY(hx_store_parse_url(urls_in[i], &u));
        int bad = names_container(&u);
        hx_url_reset(&u);
        HX_FAIL_IF(bad, HOIST_ERR_BAD_URL, "%s: no key to delete (use bucket_delete for buckets)", urls_in[i]);
    }
    hx_status s = HOIST_OK;
    for (size_t start = 0; start < n && s == HOIST_OK; start += DELETE_WINDOW) {
        size_t m = n - start < DELETE_WINDOW ? n - start : DELETE_WINDOW;
        struct batch b;
        size_t bad = 0;
        s = batch_parse(&b, urls_in + start, NULL, 0, m, &bad);
        for (size_t k = 0; k < NBACKENDS && s == HOIST_OK; k++)
            if (batch_has(&b, backends[k])) s = backends[k]->delete_many(st, urls_in + start, m, b.urls);
        batch_reset(&b); /* a no-op after a failed parse */
    }
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

static hx_status bucket_op(struct hoist_store *st, const char *url, int create) {
    HX_FAIL_IF(st == NULL || url == NULL, HOIST_ERR_INVALID_ARG, "bucket: NULL argument");
    struct hx_url u;
    HX_TRY(hx_store_parse_url(url, &u));
    const struct hx_store_backend *be = hx_store_backend_for(u.kind);
    hx_status s;
    if (be == NULL || be->bucket == NULL)
        s = hx_error(HOIST_ERR_BAD_URL, "%s: buckets are s3://name", url);
    else if (!names_container(&u))
        s = hx_error(HOIST_ERR_BAD_URL, "%s: a bucket URL has no key (s3://name)", url);
    else
        s = be->bucket(st, &u, create);
    hx_url_reset(&u);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

hx_status hoist_store_bucket_create(struct hoist_store *st, const char *url) { return bucket_op(st, url, 1); }
hx_status hoist_store_bucket_delete(struct hoist_store *st, const char *url) { return bucket_op(st, url, 0); }
