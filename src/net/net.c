/* The HTTP engine: libcurl multi loop, shared connection cache, retries. */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr) {
    (void)handle;
    (void)access;
    struct hx_net *net = userptr;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&net->locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *userptr) {
    (void)handle;
    struct hx_net *net = userptr;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&net->locks[data]);
}

hx_status hx_net_new(const struct hx_net_config *cfg, struct hx_net **out) {
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    HX_FAIL_IF(curl_init_result != CURLE_OK, HOIST_ERR_NET, "libcurl initialisation failed: %s",
               curl_easy_strerror(curl_init_result));
    struct hx_net *net = hx_calloc(1, sizeof *net);
    HX_FAIL_IF(net == NULL, HOIST_ERR_NOMEM, "out of memory creating the HTTP engine");
    net->cfg = *cfg;
    if (net->cfg.concurrency < 1) net->cfg.concurrency = 1;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&net->locks[i], NULL);
    pthread_mutex_init(&net->pool_lock, NULL);
    net->share = curl_share_init();
    if (net->share == NULL) {
        hx_net_free(net);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating the connection cache");
    }
    curl_share_setopt(net->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(net->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(net->share, CURLSHOPT_USERDATA, net);
    curl_share_setopt(net->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(net->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    *out = net;
    return HOIST_OK;
}

void hx_net_free(struct hx_net *net) {
    if (net == NULL) return;
    for (int i = 0; i < net->npool; i++) {
        struct hx_net_idle_multi *m = &net->pool[i];
        for (int k = 0; k < m->nidle; k++) curl_easy_cleanup(m->idle[k]);
        hx_free(m->idle);
        curl_multi_cleanup(m->multi);
    }
    if (net->share) curl_share_cleanup(net->share);
    pthread_mutex_destroy(&net->pool_lock);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&net->locks[i]);
    hx_free(net);
}

void hx_net_req_cleanup(struct hx_net_req *req) {
    hx_buf_reset(&req->url);
    hx_buf_reset(&req->body);
    if (req->headers) curl_slist_free_all(req->headers);
    req->headers = NULL;
}

void hx_net_req_reset_response(struct hx_net_req *req) {
    memset(&req->resp, 0, sizeof req->resp);
    req->resp.content_length = -1;
    req->resp.range_start = req->resp.range_end = req->resp.range_total = -1;
    req->body.len = 0;
    req->received = 0;
    req->stored = 0;
    req->sent = 0;
    req->crc = 0;
    req->crc_kind = 0;
    req->abort_status = HOIST_OK;
    req->body_too_long = 0;
    req->abort_msg[0] = '\0';
    req->errbuf[0] = '\0';
    req->stopped_early = 0;
}

/* ---- backoff ----------------------------------------------------------- */

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void) {
    if (rng_state == 0)
        rng_state = ((uint64_t)(hx_now() * 1e9)) ^ (uint64_t)(uintptr_t)&rng_state ^ 0x9E3779B97F4A7C15ull;
    /* xorshift64*: plenty for spreading retries apart */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

double hx_net_backoff_seconds(int attempt) {
    const double base = 0.05, cap = 20.0;
    double ceiling = base;
    for (int i = 0; i < attempt && ceiling < cap; i++) ceiling *= 2;
    if (ceiling > cap) ceiling = cap;
    return ceiling * ((double)(rng_next() >> 11) / (double)(1ull << 53));
}

int hx_net_curl_transient(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
    case CURLE_TOO_MANY_REDIRECTS: return 0;
    default: return 1;
    }
}

/* ---- callbacks ----------------------------------------------------------- */

static int header_is(const char *line, size_t len, const char *name, const char **value, size_t *vlen) {
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0) return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static void copy_field(char *dst, size_t cap, const char *v, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int64_t parse_i64(const char *v, size_t n, int *ok) {
    int64_t x = 0;
    size_t i = 0;
    *ok = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
        if (x > (INT64_MAX - 9) / 10) return 0;
        x = x * 10 + (v[i] - '0');
    }
    *ok = i > 0;
    return x;
}

static void parse_content_range(struct hx_net_resp *r, const char *v, size_t n) {
    /* "bytes 0-9/100", or "bytes STAR/100" on a 416 (RFC 9110 14.4) */
    if (n < 6 || strncasecmp(v, "bytes ", 6) != 0) return;
    v += 6;
    n -= 6;
    const char *slash = memchr(v, '/', n);
    if (slash == NULL) return;
    int ok;
    if (slash[1] != '*') {
        int64_t t = parse_i64(slash + 1, (size_t)(v + n - slash - 1), &ok);
        if (ok) r->range_total = t;
    }
    const char *dash = memchr(v, '-', (size_t)(slash - v));
    if (dash == NULL) return;
    int ok2;
    int64_t a = parse_i64(v, (size_t)(dash - v), &ok);
    int64_t b = parse_i64(dash + 1, (size_t)(slash - dash - 1), &ok2);
    if (ok && ok2 && b >= a) {
        r->range_start = a;
        r->range_end = b;
    }
}

/* Gives one header (name NULL: a new response starts) to the owner's hook;
 * a failure aborts the transfer with the hook's status and message. */
static hx_status pass_header(struct hx_net_req *req, const char *name, size_t nlen, const char *value, size_t vlen) {
    if (req->on_header_line == NULL) return HOIST_OK;
    hx_status st = req->on_header_line(req->header_ctx, name, nlen, value, vlen);
    if (st != HOIST_OK) {
        req->abort_status = st;
        hx_error_copy(req->abort_msg, sizeof req->abort_msg);
    }
    return st;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata) {
    struct hx_net_req *req = userdata;
    size_t len = size * nitems;
    struct hx_net_resp *r = &req->resp;
    const char *v;
    size_t n;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say) replaces the previous one. */
        memset(r, 0, sizeof *r);
        r->content_length = -1;
        r->range_start = r->range_end = r->range_total = -1;
        const char *sp = memchr(line, ' ', len);
        if (sp) {
            int ok;
            r->status = (long)parse_i64(sp + 1, len - (size_t)(sp + 1 - line), &ok);
        }
        return pass_header(req, NULL, 0, NULL, 0) == HOIST_OK ? len : 0;
    }
    if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        if (r->status >= 100 && r->status < 200) return len; /* interim response */
        r->headers_done = 1;
        if (r->status >= 200 && r->status < 300 && req->on_headers) {
            hx_status st = req->on_headers(req);
            if (st != HOIST_OK) {
                req->abort_status = st;
                hx_error_copy(req->abort_msg, sizeof req->abort_msg);
                return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
            }
        }
        return len;
    }
    int ok;
    if (header_is(line, len, "content-length", &v, &n)) {
        int64_t x = parse_i64(v, n, &ok);
        if (ok) r->content_length = x;
    } else if (header_is(line, len, "content-range", &v, &n)) {
        parse_content_range(r, v, n);
    } else if (header_is(line, len, "etag", &v, &n)) {
        copy_field(r->etag, sizeof r->etag, v, n);
    } else if (header_is(line, len, "content-type", &v, &n)) {
        copy_field(r->content_type, sizeof r->content_type, v, n);
    } else if (header_is(line, len, "last-modified", &v, &n)) {
        copy_field(r->last_modified, sizeof r->last_modified, v, n);
    }
    /* Every header also goes to the owner's hook (the S3 layer reads its
     * x-amz-* headers there): net knows HTTP only. */
    const char *colon = memchr(line, ':', len);
    if (req->on_header_line && colon && colon > line) {
        const char *end = line + len;
        v = colon + 1;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
        if (pass_header(req, line, (size_t)(colon - line), v, (size_t)(end - v)) != HOIST_OK) return 0;
    }
    return len;
}

/* CRC32C (Castagnoli), for callers checking bodies (S3's checksums). SSE4.2 has an
 * instruction for it; the table version covers other CPUs. */
static uint32_t crc32c_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_hw;

#if defined(__x86_64__)
static void crc32c_long_init(void);
#endif

static void crc32c_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^ crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
    if (crc_hw) crc32c_long_init();
#endif
}

#if defined(__x86_64__)
/* The crc32 instruction has a 3-cycle latency and a 1-cycle throughput: one
 * dependent chain runs at a third of the unit's speed (5.4 GB/s here). Three
 * chains over adjacent CRC_LONG-byte blocks are joined with a table that
 * advances a CRC register over CRC_LONG zero bytes (CRC is linear:
 * reg(A||B) = zeros_|B|(reg(A)) ^ reg(B, from 0)). */
#define CRC_LONG 8192
static uint32_t crc32c_long[4][256];

__attribute__((target("sse4.2"))) static void crc32c_long_init(void) {
    uint32_t basis[32];
    for (int b = 0; b < 32; b++) {
        uint64_t c = (uint64_t)1 << b;
        for (int i = 0; i < CRC_LONG / 8; i++) c = __builtin_ia32_crc32di(c, 0);
        basis[b] = (uint32_t)c;
    }
    for (int k = 0; k < 4; k++)
        for (uint32_t v = 0; v < 256; v++) {
            uint32_t t = 0;
            for (int bit = 0; bit < 8; bit++)
                if (v >> bit & 1) t ^= basis[8 * k + bit];
            crc32c_long[k][v] = t;
        }
}

static uint32_t crc32c_shift_long(uint32_t c) {
    return crc32c_long[0][c & 0xff] ^ crc32c_long[1][(c >> 8) & 0xff] ^ crc32c_long[2][(c >> 16) & 0xff] ^
           crc32c_long[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 3 * CRC_LONG) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + CRC_LONG;
        do {
            uint64_t w0, w1, w2;
            memcpy(&w0, p, 8);
            memcpy(&w1, p + CRC_LONG, 8);
            memcpy(&w2, p + 2 * CRC_LONG, 8);
            c = __builtin_ia32_crc32di(c, w0);
            c1 = __builtin_ia32_crc32di(c1, w1);
            c2 = __builtin_ia32_crc32di(c2, w2);
            p += 8;
        } while (p < end);
        c = crc32c_shift_long((uint32_t)c) ^ (uint32_t)c1;
        c = crc32c_shift_long((uint32_t)c) ^ (uint32_t)c2;
        p += 2 * CRC_LONG;
        n -= 3 * CRC_LONG;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t hx_crc32c_update(uint32_t crc, const void *data, size_t n) {
    pthread_once(&crc_once, crc32c_init);
    const uint8_t *p = data;
    crc = ~crc;
#if defined(__x86_64__)
    if (crc_hw) return ~crc32c_hw(crc, p, n);
#endif
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^ crc32c_table[5][(lo >> 16) & 0xff] ^
              crc32c_table[4][lo >> 24] ^ crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
              crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
    struct hx_net_req *req = userdata;
    size_t n = size * nmemb;
    req->loop->bytes_in += n;
    long status = req->resp.status;
    if (status < 200 || status >= 300) {
        /* Error bodies are small XML documents; keep the first 64 KiB. */
        size_t room = req->body.len < 65536 ? 65536 - req->body.len : 0;
        if (room && hx_buf_append(&req->body, data, n < room ? n : room) != HOIST_OK) return 0;
        return n;
    }
    uint64_t off = req->received;
    req->received += n;
    const char *src = data;
    size_t len = n;
    switch (req->sink) {
    case HX_SINK_NONE: return n;
    case HX_SINK_BUF:
        if (req->body.len + n > req->body_cap) {
            req->body_too_long = 1;
            snprintf(req->abort_msg, sizeof req->abort_msg, "response body larger than %zu bytes", req->body_cap);
            return 0;
        }
        if (hx_buf_append(&req->body, data, n) != HOIST_OK) {
            req->abort_status = HOIST_ERR_NOMEM;
            return 0;
        }
        return n;
    case HX_SINK_MEM:
    case HX_SINK_FD: break;
    }
    if (off < req->sink_skip) {
        uint64_t drop = req->sink_skip - off;
        if (drop >= len) return n;
        src += drop;
        len -= (size_t)drop;
    }
    if (req->stored + len > req->sink_cap) {
        if (!req->sink_lenient && !req->sink_stop_at_cap) {
            req->body_too_long = 1;
            snprintf(req->abort_msg, sizeof req->abort_msg, "server sent more than the %llu bytes expected",
                     (unsigned long long)req->sink_cap);
            return 0;
        }
        len = (size_t)(req->sink_cap - req->stored);
        if (len == 0) return n;
    }
    uint64_t at = req->sink_off + req->stored;
    if (req->sink == HX_SINK_MEM) {
        memcpy(req->sink_mem + at, src, len);
    } else {
        size_t done = 0;
        while (done < len) {
            ssize_t w = pwrite(req->sink_fd, src + done, len - done, (off_t)(at + done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                req->abort_status = HOIST_ERR_IO;
                snprintf(req->abort_msg, sizeof req->abort_msg, "writing the local file: %s",
                         strerror(w < 0 ? errno : ENOSPC));
                return 0;
            }
            done += (size_t)w;
        }
    }
    if (req->crc_kind == HX_CRC_32C)
        req->crc = hx_crc32c_update((uint32_t)req->crc, src, len);
    else if (req->crc_kind == HX_CRC_32)
        req->crc = libdeflate_crc32((uint32_t)req->crc, src, len); /* PCLMUL: 2.6x zlib's crc32 here */
    else if (req->crc_kind == HX_CRC_64NVME)
        req->crc = hx_crc64nvme_update(req->crc, src, len);
    req->stored += len;
    /* the owner's look at the stream (it may lower sink_cap, not below stored) */
    if (req->on_stored && req->stored >= req->on_stored_at) req->on_stored(req);
    if (req->sink_stop_at_cap && req->stored == req->sink_cap) {
        /* The rest of this body is fetched by other ranged requests. */
        req->stopped_early = 1;
        return 0;
    }
    return n;
}

static size_t on_read(char *buffer, size_t size, size_t nitems, void *userdata) {
    struct hx_net_req *req = userdata;
    size_t cap = size * nitems;
    uint64_t left = req->body_len - req->sent;
    size_t n = left < cap ? (size_t)left : cap;
    if (n) memcpy(buffer, req->body_data + req->sent, n);
    req->sent += n;
    req->loop->bytes_out += n;
    return n;
}

static int on_seek(void *userdata, curl_off_t offset, int origin) {
    struct hx_net_req *req = userdata;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > req->body_len) return CURL_SEEKFUNC_CANTSEEK;
    req->sent = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* ---- loop ------------------------------------------------------------- */

hx_status hx_net_loop_init(struct hx_net_loop *loop, struct hx_net *net) {
    memset(loop, 0, sizeof *loop);
    loop->net = net;
    loop->concurrency = net->cfg.concurrency;
    loop->active = hx_calloc((size_t)loop->concurrency, sizeof *loop->active);
    HX_FAIL_IF(loop->active == NULL, HOIST_ERR_NOMEM, "out of memory creating an HTTP event loop");
    pthread_mutex_lock(&net->pool_lock);
    if (net->npool > 0) {
        struct hx_net_idle_multi *m = &net->pool[--net->npool];
        loop->multi = m->multi;
        loop->idle = m->idle;
        loop->nidle = m->nidle;
    }
    pthread_mutex_unlock(&net->pool_lock);
    if (loop->multi) return HOIST_OK;
    loop->multi = curl_multi_init();
    loop->idle = hx_calloc((size_t)loop->concurrency, sizeof *loop->idle);
    if (loop->multi == NULL || loop->idle == NULL) {
        hx_free(loop->idle);
        hx_free(loop->active);
        if (loop->multi) curl_multi_cleanup(loop->multi);
        memset(loop, 0, sizeof *loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating an HTTP event loop");
    }
    /* Keep every connection of the pool alive between transfers; libcurl's
     * default (4 x handles added) would close most of them as a call winds down. */
    curl_multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, (long)loop->concurrency * 2 + 4);
    return HOIST_OK;
}

static void drop_running(struct hx_net_loop *loop, int keep_must_finish) {
    int kept = 0;
    for (int i = 0; i < loop->running; i++) {
        struct hx_net_req *req = loop->active[i];
        if (keep_must_finish && req->must_finish) {
            loop->active[kept++] = req;
            continue;
        }
        curl_multi_remove_handle(loop->multi, req->easy);
        curl_easy_cleanup(req->easy);
        req->easy = NULL;
    }
    loop->running = kept;
}

static void finish(struct hx_net_loop *loop, struct hx_net_req *req, CURLcode code);

/* Finishes every transfer curl reports done since the last call. */
static void finish_completed(struct hx_net_loop *loop) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(loop->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        struct hx_net_req *req = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        finish(loop, req, msg->data.result);
    }
}

/* After a cancel: let the must_finish transfers complete, start nothing new. */
static void drain(struct hx_net_loop *loop) {
    while (loop->running > 0) {
        int still = 0;
        if (curl_multi_perform(loop->multi, &still) != CURLM_OK) break;
        finish_completed(loop);
        if (loop->running > 0) curl_multi_poll(loop->multi, NULL, 0, 100, NULL);
    }
    loop->waiting = NULL;
    loop->queue_head = loop->queue_tail = NULL;
}

void hx_net_loop_cleanup(struct hx_net_loop *loop) {
    struct hx_net *net = loop->net;
    if (loop->multi) {
        drop_running(loop, 0);
        int kept = 0;
        if (!loop->cancelled) {
            pthread_mutex_lock(&net->pool_lock);
            if (net->npool < HX_NET_POOL) {
                net->pool[net->npool++] = (struct hx_net_idle_multi){loop->multi, loop->idle, loop->nidle};
                kept = 1;
            }
            pthread_mutex_unlock(&net->pool_lock);
        }
        if (!kept) {
            curl_multi_cleanup(loop->multi);
            for (int i = 0; i < loop->nidle; i++) curl_easy_cleanup(loop->idle[i]);
            hx_free(loop->idle);
        }
    }
    hx_free(loop->active);
    memset(loop, 0, sizeof *loop);
}

void hx_net_loop_submit(struct hx_net_loop *loop, struct hx_net_req *req, int urgent) {
    req->loop = loop;
    req->next = NULL;
    if (req->max_retries == 0 && req->attempt == 0) req->max_retries = loop->net->cfg.max_retries;
    if (urgent) {
        req->next = loop->queue_head;
        loop->queue_head = req;
        if (loop->queue_tail == NULL) loop->queue_tail = req;
    } else {
        if (loop->queue_tail)
            loop->queue_tail->next = req;
        else
            loop->queue_head = req;
        loop->queue_tail = req;
    }
}

static void schedule_retry(struct hx_net_loop *loop, struct hx_net_req *req) {
    req->attempt++;
    atomic_fetch_add(&loop->net->retries, 1);
    req->not_before = hx_now() + hx_net_backoff_seconds(req->attempt);
    req->next = loop->waiting;
    loop->waiting = req;
}

/* Failure injection (metaflow.S3's inject_failure_rate): a first attempt
 * fails before anything is sent, so the retry machinery must absorb it and
 * no request is ever applied twice. 100 % fails every attempt, as
 * metaflow's rate 100 does (its test of exhausted retries). */
static int inject_failure(const struct hx_net_loop *loop, const struct hx_net_req *req) {
    static _Thread_local uint64_t x;
    int pct = loop->net->cfg.inject_failure_pct;
    if (pct >= 100) return 1;
    if (pct <= 0 || req->attempt > 0 || !hx_net_can_retry(req)) return 0;
    if (x == 0) x = (uint64_t)(uintptr_t)&x ^ (uint64_t)(hx_now() * 1e9) ^ 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (int)(x % 100) < pct;
}

static void start(struct hx_net_loop *loop, struct hx_net_req *req) {
    hx_net_req_reset_response(req);
    req->loop = loop;
    hx_status st = req->prepare(req);
    if (st != HOIST_OK) {
        req->abort_status = st;
        hx_error_copy(req->abort_msg, sizeof req->abort_msg);
        req->on_done(req, CURLE_ABORTED_BY_CALLBACK);
        return;
    }
    if (inject_failure(loop, req)) {
        snprintf(req->errbuf, sizeof req->errbuf, "injected failure (it failed on purpose, before sending)");
        if (req->on_done(req, CURLE_SEND_ERROR) == HX_NET_RETRY && !loop->cancelled) {
            schedule_retry(loop, req);
            req->not_before = hx_now(); /* nothing reached the server: no need to back off */
        }
        return;
    }
    CURL *e;
    if (loop->nidle > 0) {
        e = loop->idle[--loop->nidle];
        curl_easy_reset(e);
    } else {
        e = curl_easy_init();
    }
    if (e == NULL) {
        req->abort_status = HOIST_ERR_NOMEM;
        snprintf(req->abort_msg, sizeof req->abort_msg, "out of memory starting a transfer");
        req->on_done(req, CURLE_OUT_OF_MEMORY);
        return;
    }
    const struct hx_net_config *cfg = &loop->net->cfg;
    curl_easy_setopt(e, CURLOPT_SHARE, loop->net->share);
    curl_easy_setopt(e, CURLOPT_URL, req->url.data);
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)cfg->connect_timeout_s);
    /* Stall detection: under 1 byte/s for stall_timeout seconds fails the
     * transfer with CURLE_OPERATION_TIMEDOUT, which is then retried. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)cfg->stall_timeout_s);
    req->started = hx_now(); /* the slower-than-min_rate deadline (enforce_min_rate) */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->verify_tls ? 2L : 0L);
    if (cfg->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Keys may contain "./" and "../": send the path exactly as signed. */
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    /* Big bodies: recv calls of up to 512 KiB, not libcurl's 16 KiB (its
     * write callbacks stay at most 16 KiB each). 8 x 64 MiB from nginx,
     * whole-object GETs included: 7,225 recv calls -> 2,561. A whole-object
     * GET settles its sink only in on_headers, so it says big_body. */
    if (req->big_body || ((req->sink == HX_SINK_MEM || req->sink == HX_SINK_FD) && req->sink_cap > 1 << 20))
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (req->has_body || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, req);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, req);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
        if (req->body_len > 1 << 20) curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
        if (strcmp(req->method, "PUT") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    req->easy = e;
    CURLMcode mc = curl_multi_add_handle(loop->multi, e);
    if (mc != CURLM_OK) {
        req->easy = NULL;
        curl_easy_cleanup(e);
        req->abort_status = HOIST_ERR_NET;
        snprintf(req->abort_msg, sizeof req->abort_msg, "cannot start a transfer: %s", curl_multi_strerror(mc));
        req->on_done(req, CURLE_FAILED_INIT);
        return;
    }
    loop->active[loop->running++] = req;
}

static void finish(struct hx_net_loop *loop, struct hx_net_req *req, CURLcode code) {
    CURL *e = req->easy;
    curl_multi_remove_handle(loop->multi, e);
    req->easy = NULL;
    for (int i = 0; i < loop->running; i++) {
        if (loop->active[i] == req) {
            loop->active[i] = loop->active[--loop->running];
            break;
        }
    }
    if (loop->nidle < loop->concurrency)
        loop->idle[loop->nidle++] = e;
    else
        curl_easy_cleanup(e);
    struct hx_net *net = loop->net;
    atomic_fetch_add(&net->requests, 1);
    if (code == CURLE_WRITE_ERROR && req->stopped_early && req->abort_status == HOIST_OK)
        code = CURLE_OK;
    else if (code == CURLE_OK && req->resp.status >= 200 && req->resp.status < 300 && req->resp.content_length >= 0 &&
             strcmp(req->method, "HEAD") != 0 && req->received != (uint64_t)req->resp.content_length)
        code = CURLE_PARTIAL_FILE; /* truncated body the server did not flag */
    if (code == CURLE_WRITE_ERROR && req->abort_status == HOIST_OK && !req->body_too_long) code = CURLE_PARTIAL_FILE;
    enum hx_net_action act = req->on_done(req, code);
    if (act == HX_NET_RETRY && !loop->cancelled) schedule_retry(loop, req);
}

/* Allowance for a response's status line and headers, in bytes. */
#define HEAD_ALLOWANCE (64 * 1024)

/* The bytes an attempt is held to at min_rate so far, or -1 when the
 * deadline does not apply. Counted: the request body while it is being
 * sent, then the response head, then a 2xx body that lands in memory or a
 * file (sized by the client: sink_skip + sink_cap, never the server's
 * Content-Length, which cannot buy a trickle more time). Not counted: an
 * XML body (HX_SINK_BUF) or a discarded one, because S3 answers long
 * server-side work (CompleteMultipartUpload, CopyObject) with a 200 and
 * then blanks, slowly, for minutes; the stall rule still covers those. */
static int64_t planned_bytes(const struct hx_net_req *req) {
    uint64_t n = req->body_len;
    if (req->sent < req->body_len) return (int64_t)n;
    n += HEAD_ALLOWANCE;
    if (!req->resp.headers_done) return (int64_t)n;
    if (req->resp.status < 200 || req->resp.status >= 300) return -1;
    if (req->sink != HX_SINK_MEM && req->sink != HX_SINK_FD) return -1;
    return (int64_t)(n + req->sink_skip + req->sink_cap);
}

/* The stall rule (curl's low-speed limit: under 1 byte/s for stall_timeout)
 * lets a server that sends 2 bytes a second hold a request forever. So an
 * attempt also has a deadline: stall_timeout (to connect and for the server
 * to start answering) plus its planned bytes at min_rate, counted from its
 * start; past it, the attempt fails as a timeout, which is retried like a
 * stall. */
static void enforce_min_rate(struct hx_net_loop *loop) {
    const struct hx_net_config *cfg = &loop->net->cfg;
    if (cfg->min_rate <= 0 || loop->running == 0) return;
    double now = hx_now();
    for (int i = 0; i < loop->running;) {
        struct hx_net_req *req = loop->active[i];
        int64_t planned = planned_bytes(req);
        double limit = cfg->stall_timeout_s + (double)planned / (double)cfg->min_rate;
        if (planned < 0 || now - req->started <= limit) {
            i++;
            continue;
        }
        snprintf(req->errbuf, sizeof req->errbuf,
                 "slower than the minimum transfer rate of %lld bytes/s: %llu bytes sent, %llu received in %.1f s "
                 "(the limit for %lld bytes is %.1f s: stall timeout + bytes / minimum rate)",
                 (long long)cfg->min_rate, (unsigned long long)req->sent, (unsigned long long)req->received,
                 now - req->started, (long long)planned, limit);
        finish(loop, req, CURLE_OPERATION_TIMEDOUT); /* moves the last active request to i */
    }
}

static double promote_waiting(struct hx_net_loop *loop) {
    double now = hx_now(), next = -1;
    struct hx_net_req **pp = &loop->waiting;
    while (*pp) {
        struct hx_net_req *r = *pp;
        if (r->not_before <= now) {
            *pp = r->next;
            hx_net_loop_submit(loop, r, 1);
        } else {
            if (next < 0 || r->not_before - now < next) next = r->not_before - now;
            pp = &r->next;
        }
    }
    return next;
}

hx_status hx_net_loop_run(struct hx_net_loop *loop) {
    struct hx_net *net = loop->net;
    uint64_t in0 = loop->bytes_in, out0 = loop->bytes_out;
    hx_status result = HOIST_OK;
    for (;;) {
        double wait_next = promote_waiting(loop);
        while (loop->running < loop->concurrency && loop->queue_head) {
            struct hx_net_req *req = loop->queue_head;
            loop->queue_head = req->next;
            if (loop->queue_head == NULL) loop->queue_tail = NULL;
            req->next = NULL;
            start(loop, req);
        }
        if (loop->running == 0 && loop->queue_head == NULL && loop->waiting == NULL) break;
        int still = 0;
        CURLMcode mc = curl_multi_perform(loop->multi, &still);
        if (mc != CURLM_OK) {
            result = hx_error(HOIST_ERR_NET, "HTTP event loop failed: %s", curl_multi_strerror(mc));
            drop_running(loop, 0);
            break;
        }
        finish_completed(loop);
        enforce_min_rate(loop);
        if (loop->tick && loop->tick(loop, loop->tick_data)) {
            loop->cancelled = 1;
            drop_running(loop, 1);
            loop->queue_head = loop->queue_tail = NULL;
            loop->waiting = NULL;
            drain(loop);
            result = hx_error(HOIST_ERR_CANCELLED, "cancelled by the progress callback");
            break;
        }
        if (loop->queue_head && loop->running < loop->concurrency) continue;
        int timeout_ms = 100;
        if (wait_next >= 0 && wait_next * 1000 < timeout_ms) timeout_ms = (int)(wait_next * 1000) + 1;
        if (loop->running > 0)
            curl_multi_poll(loop->multi, NULL, 0, timeout_ms, NULL);
        else if (loop->waiting) {
            struct timespec ts = {0, (long)timeout_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    atomic_fetch_add(&net->bytes_received, loop->bytes_in - in0);
    atomic_fetch_add(&net->bytes_sent, loop->bytes_out - out0);
    return result;
}
