/* Unit tests of the HTTP engine helpers: backoff bounds, error classes,
 * CRC32C, a loop with nothing to do, and (with HOIST_TEST_S3=1) the
 * per-request header hook against the local S3 server's HTTP endpoint. */
#include "net.h"
#include "test_harness.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void test_backoff(void) {
    for (int attempt = 1; attempt <= 12; attempt++) {
        double cap = 0.05;
        for (int i = 0; i < attempt && cap < 20; i++) cap *= 2;
        if (cap > 20) cap = 20;
        double mx = 0;
        for (int k = 0; k < 200; k++) {
            double b = hx_net_backoff_seconds(attempt);
            CHECK(b >= 0 && b < cap);
            if (b > mx) mx = b;
        }
        CHECK(mx > cap / 4); /* full jitter spreads over the whole window */
    }
    CHECK(hx_net_backoff_seconds(1000) < 20.0);
}

static void test_classes(void) {
    CHECK(hx_net_curl_transient(CURLE_RECV_ERROR));
    CHECK(hx_net_curl_transient(CURLE_OPERATION_TIMEDOUT));
    CHECK(hx_net_curl_transient(CURLE_PARTIAL_FILE));
    CHECK(hx_net_curl_transient(CURLE_GOT_NOTHING));
    CHECK(hx_net_curl_transient(CURLE_COULDNT_CONNECT));
    CHECK(!hx_net_curl_transient(CURLE_COULDNT_RESOLVE_HOST));
    CHECK(!hx_net_curl_transient(CURLE_PEER_FAILED_VERIFICATION));
    CHECK(!hx_net_curl_transient(CURLE_URL_MALFORMAT));
}

static void test_crc32c(void) {
    CHECK_EQ_INT(hx_crc32c_update(0, "", 0), 0);
    CHECK_EQ_INT(hx_crc32c_update(0, "123456789", 9), 0xE3069283u);
    /* RFC 3720 B.4: 32 bytes of zeros */
    unsigned char z[32] = {0};
    CHECK_EQ_INT(hx_crc32c_update(0, z, 32), 0x8A9136AAu);
}

static void test_empty_loop(void) {
    struct hx_net_config cfg = {
        .concurrency = 4, .connect_timeout_s = 1, .stall_timeout_s = 1, .max_retries = 1, .verify_tls = 1};
    struct hx_net *net;
    CHECK_EQ_INT(hx_net_new(&cfg, &net), HOIST_OK);
    struct hx_net_loop loop;
    CHECK_EQ_INT(hx_net_loop_init(&loop, net), HOIST_OK);
    CHECK_EQ_INT(hx_net_loop_run(&loop), HOIST_OK);
    hx_net_loop_cleanup(&loop);
    hx_net_free(net);
    hx_net_free(NULL);
}

/* What the header hook saw of one request. */
struct seen {
    int resets, headers, content_length_seen;
    int fail_on; /* abort when this many headers were seen (0: never) */
};

static hx_status collect(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen) {
    struct seen *s = ctx;
    if (name == NULL) {
        s->resets++;
        return HOIST_OK;
    }
    CHECK(nlen > 0 && memchr(name, ':', nlen) == NULL);
    CHECK(vlen == 0 || (value[0] != ' ' && value[vlen - 1] != '\n' && value[vlen - 1] != '\r'));
    if (nlen == 14 && strncasecmp(name, "content-length", 14) == 0) s->content_length_seen = 1;
    if (++s->headers == s->fail_on) return hx_error(HOIST_ERR_LIMIT, "hook refused header %d", s->headers);
    return HOIST_OK;
}

struct hreq {
    struct hx_net_req req;
    const char *url;
    CURLcode code;
    int done;
};

static hx_status hreq_prepare(struct hx_net_req *req) {
    struct hreq *h = (struct hreq *)req;
    req->method = "GET";
    req->url.len = 0;
    HX_TRY(hx_buf_append_str(&req->url, h->url));
    req->sink = HX_SINK_BUF;
    req->body_cap = 1 << 20;
    return HOIST_OK;
}

static enum hx_net_action hreq_done(struct hx_net_req *req, CURLcode code) {
    struct hreq *h = (struct hreq *)req;
    h->code = code;
    h->done = 1;
    return HX_NET_DONE;
}

static void run_one(struct hx_net *net, struct hreq *h, struct seen *s) {
    memset(&h->req, 0, sizeof h->req);
    h->req.prepare = hreq_prepare;
    h->req.on_done = hreq_done;
    h->req.on_header_line = collect;
    h->req.header_ctx = s;
    h->req.sink_fd = -1;
    h->done = 0;
    struct hx_net_loop loop;
    CHECK_EQ_INT(hx_net_loop_init(&loop, net), HOIST_OK);
    hx_net_loop_submit(&loop, &h->req, 0);
    CHECK_EQ_INT(hx_net_loop_run(&loop), HOIST_OK);
    hx_net_loop_cleanup(&loop);
}

static void test_header_hook(void) {
    const char *ep = getenv("AWS_ENDPOINT_URL");
    if (getenv("HOIST_TEST_S3") == NULL || strcmp(getenv("HOIST_TEST_S3"), "1") != 0 || ep == NULL) {
        fprintf(stderr, "  (skipped: HOIST_TEST_S3 is not 1 or AWS_ENDPOINT_URL unset)\n");
        return;
    }
    struct hx_net_config cfg = {
        .concurrency = 2, .connect_timeout_s = 5, .stall_timeout_s = 5, .max_retries = 0, .verify_tls = 1};
    struct hx_net *net;
    CHECK_EQ_INT(hx_net_new(&cfg, &net), HOIST_OK);
    struct hreq h = {.url = ep};
    /* every header reaches the hook, after a reset for the response */
    struct seen s = {0};
    run_one(net, &h, &s);
    CHECK(h.done && h.code == CURLE_OK);
    CHECK(h.req.resp.status >= 200);
    CHECK(s.resets >= 1 && s.headers >= 2 && s.content_length_seen);
    CHECK_EQ_INT(h.req.abort_status, HOIST_OK);
    hx_net_req_cleanup(&h.req);
    /* a hook failure stops the transfer with the hook's status and message */
    struct seen f = {.fail_on = 1};
    run_one(net, &h, &f);
    CHECK(h.done && h.code != CURLE_OK);
    CHECK_EQ_INT(h.req.abort_status, HOIST_ERR_LIMIT);
    CHECK_CONTAINS(h.req.abort_msg, "hook refused header 1");
    CHECK_EQ_INT(f.headers, 1);
    hx_net_req_cleanup(&h.req);
    hx_net_free(net);
}

int main(void) {
    RUN(test_backoff);
    RUN(test_classes);
    RUN(test_crc32c);
    RUN(test_empty_loop);
    RUN(test_header_hook);
    TEST_MAIN_END();
}
