/* The s3:// backend against a hostile or buggy server
 * (tests/store/hostile_server.py on loopback; no S3 server needed): a
 * listing whose continuation tokens repeat, a key with an encoded NUL, a
 * body trickled at 2 bytes/s, and Content-Range answers that do not match
 * the range asked for. Each must end with a clear error, never a hang, a
 * wrapped length or a destination sized by the server's claim. */
#include "store_internal.h"
#include "test_store_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t server_pid;
static int server_port;

static uint64_t requests(struct hoist_store *s) {
    struct hoist_store_stats stats;
    hoist_store_get_stats(s, &stats, sizeof stats);
    return stats.requests;
}

/* A client of a fresh hostile_server.py in `mode` (anonymous, path-style,
 * no retries unless asked); NULL if it cannot start. */
static struct hoist_store *hostile_store(const char *mode, int retries, int stall_s, int64_t min_rate) {
    const char *argv[] = {"python3", "tests/store/hostile_server.py", mode, NULL};
    int port = stu_spawn_port(argv, &server_pid);
    server_port = port;
    CHECK(port > 0);
    if (port <= 0) return NULL;
    struct hoist_store_config *cfg;
    struct hoist_store *s = NULL;
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, ep), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_REGION, "us-east-1"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ADDRESSING, "path"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_NO_SIGN_REQUEST, 1), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_MAX_RETRIES, retries), HOIST_OK);
    if (stall_s) CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_STALL_TIMEOUT, stall_s), HOIST_OK);
    if (min_rate >= 0) CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_MIN_RATE, min_rate), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &s), HOIST_OK);
    hoist_store_config_free(cfg);
    return s;
}

static void stop_server(struct hoist_store *s) {
    hoist_store_free(s);
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    server_pid = 0;
}

/* A server that hands back a token already used would be listed forever
 * (a cycle of three as well): the listing stops with an error at the first
 * repeat instead of collecting duplicates page after page. */
static void test_repeated_token(void) {
    const char *modes[] = {"token-repeat", "token-cycle"};
    for (int m = 0; m < 2; m++) {
        struct hoist_store *s = hostile_store(modes[m], 0, 0, -1);
        if (s == NULL) return;
        const char *root[1] = {"s3://b/p/"};
        struct hoist_list l;
        memset(&l, 0, sizeof l);
        CHECK_EQ_INT(hoist_store_list(s, root, 1, 1, &l), HOIST_ERR_S3_BAD_RESPONSE);
        CHECK_CONTAINS(hoist_errmsg(), "s3://b/p/");
        CHECK_CONTAINS(hoist_errmsg(), "continuation token");
        fprintf(stderr, "  %s\n", hoist_errmsg());
        CHECK(requests(s) < 20);
        hoist_store_list_reset(&l);
        /* ListMultipartUploads: the same with its key and upload-id markers */
        uint64_t before = requests(s);
        struct hx_store_pending_upload *ups = NULL;
        size_t nup = 0;
        CHECK_EQ_INT(hx_store_multipart_list(s, "s3://b/p/", &ups, &nup), HOIST_ERR_S3_BAD_RESPONSE);
        CHECK_CONTAINS(hoist_errmsg(), "s3://b/p/");
        CHECK_CONTAINS(hoist_errmsg(), "markers");
        fprintf(stderr, "  %s\n", hoist_errmsg());
        CHECK(requests(s) - before < 20);
        hx_store_pending_uploads_free(ups, nup);
        stop_server(s);
    }
}

/* "evil/a%00/b" decoded into a C string is "evil/a": listed, then removed
 * with rm -r, it would delete another object. The listing fails and says
 * which listing and why. */
static void test_nul_key(void) {
    struct hoist_store *s = hostile_store("nul-key", 0, 0, -1);
    if (s == NULL) return;
    const char *root[1] = {"s3://b/evil/"};
    struct hoist_list l;
    memset(&l, 0, sizeof l);
    CHECK_EQ_INT(hoist_store_list(s, root, 1, 1, &l), HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(hoist_errmsg(), "s3://b/evil/");
    CHECK_CONTAINS(hoist_errmsg(), "evil/a%00/b");
    CHECK_CONTAINS(hoist_errmsg(), "NUL");
    fprintf(stderr, "  %s\n", hoist_errmsg());
    CHECK_EQ_INT(l.count, 0);
    hoist_store_list_reset(&l);
    stop_server(s);
}

/* 60 bytes at 2 bytes/s pass the old stall rule (< 1 byte/s) for 30 s. An
 * attempt now gets STALL_TIMEOUT + bytes / MIN_RATE seconds, the bytes being
 * 64 KiB for the response head and the 60 of the body: 2 + 1 s here. */
static void test_trickle(void) {
    struct hoist_store *s = hostile_store("trickle", 0, 2, 65536);
    if (s == NULL) return;
    struct hoist_get_item g = {.url = "s3://b/slow", .length = -1};
    double t0 = hx_now();
    CHECK_EQ_INT(hoist_store_get_many(s, &g, 1, 0, NULL, NULL), HOIST_ERR_S3_TIMEOUT);
    double took = hx_now() - t0;
    CHECK_EQ_INT(g.status, HOIST_ERR_S3_TIMEOUT);
    CHECK_CONTAINS(g.error, "minimum transfer rate");
    fprintf(stderr, "  %s (%.1f s)\n", g.error, took);
    CHECK(took < 10);
    hoist_store_get_item_reset(&g);
    stop_server(s);
}

/* The deadline covers a request body too: a server reading an 8 MiB body at
 * 2 KiB/s is stopped at 2 s + 8 MiB / 4 MiB/s. (Here the stall rule would
 * also fire, a few seconds later: the kernel's send buffer absorbs 2 MiB,
 * then wakes the sender only when much of it drained, so the sender sees
 * no progress; this test checks the deadline counts the body.) */
static void test_slow_reader(void) {
    struct hoist_store *s = hostile_store("slow-reader", 0, 2, (int64_t)4 << 20);
    if (s == NULL) return;
    size_t n = (size_t)8 << 20;
    uint8_t *body = calloc(1, n);
    struct hoist_put_item p = {.url = "s3://b/up", .data = body, .size = n};
    double t0 = hx_now();
    CHECK_EQ_INT(hoist_store_put_many(s, &p, 1, 0, NULL, NULL), HOIST_ERR_S3_TIMEOUT);
    double took = hx_now() - t0;
    CHECK_EQ_INT(p.status, HOIST_ERR_S3_TIMEOUT);
    CHECK_CONTAINS(p.error, "minimum transfer rate");
    fprintf(stderr, "  %s (%.1f s)\n", p.error ? p.error : "", took);
    CHECK(took < 10);
    hoist_store_put_item_reset(&p);
    free(body);
    stop_server(s);
}

/* Content-Range must answer the range asked for. "bytes 1000-1099/10": the
 * total is smaller than the start (the length used to wrap around). */
static void test_range_total_before_start(void) {
    struct hoist_store *s = hostile_store("range-wrap", 0, 0, -1);
    if (s == NULL) return;
    struct hoist_get_item g = {.url = "s3://b/obj", .offset = 1000, .length = 100};
    CHECK_EQ_INT(hoist_store_get_many(s, &g, 1, 0, NULL, NULL), HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_EQ_INT(g.status, HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(g.error, "Content-Range");
    fprintf(stderr, "  %s\n", g.error);
    CHECK(g.data == NULL);
    hoist_store_get_item_reset(&g);
    stop_server(s);
}

/* The last 10 bytes asked for (bytes=-10), 1,000 answered: the destination
 * must not be sized from the server's claim. */
static void test_suffix_larger_than_asked(void) {
    struct hoist_store *s = hostile_store("suffix-big", 0, 0, -1);
    if (s == NULL) return;
    uint8_t buf[16];
    struct hoist_get_item g[2] = {
        {.url = "s3://b/obj", .length = 10, .suffix = 1},
        {.url = "s3://b/obj", .length = 10, .suffix = 1, .dest = HOIST_DEST_BUFFER, .buffer = buf, .buffer_size = 16},
    };
    CHECK_EQ_INT(hoist_store_get_many(s, g, 2, 0, NULL, NULL), HOIST_ERR_S3_BAD_RESPONSE);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(g[i].status, HOIST_ERR_S3_BAD_RESPONSE);
        CHECK_CONTAINS(g[i].error, "Content-Range");
        fprintf(stderr, "  %s\n", g[i].error);
        CHECK_EQ_INT(g[i].size, 0);
        hoist_store_get_item_reset(&g[i]);
    }
    stop_server(s);
}

/* A COMPOSITE checksum whose part listing adds up only modulo 2^64: the
 * sizes are refused (not trusted to cut ranges), the object reads whole and
 * right, unverified; checksum mode "always" says why it cannot verify. */
static void test_composite_sizes_wrap(void) {
    for (int strict = 0; strict < 2; strict++) {
        struct hoist_store *s = hostile_store("composite-wrap", 0, 0, -1);
        if (s == NULL) return;
        if (strict) {
            hoist_store_free(s);
            s = NULL;
            struct hoist_store_config *cfg;
            char ep[64];
            snprintf(ep, sizeof ep, "http://127.0.0.1:%d", server_port);
            CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
            CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, ep), HOIST_OK);
            CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_REGION, "us-east-1"), HOIST_OK);
            CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ADDRESSING, "path"), HOIST_OK);
            CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_NO_SIGN_REQUEST, 1), HOIST_OK);
            CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_CHECKSUM, "always"), HOIST_OK);
            CHECK_EQ_INT(hoist_store_new(cfg, &s), HOIST_OK);
            hoist_store_config_free(cfg);
        }
        struct hoist_get_item g = {.url = "s3://b/obj", .length = -1};
        enum hoist_status want = strict ? HOIST_ERR_S3_BAD_RESPONSE : HOIST_OK;
        CHECK_EQ_INT(hoist_store_get_many(s, &g, 1, 0, NULL, NULL), want);
        if (strict) {
            CHECK_CONTAINS(g.error, "add up to more than the object's size");
            fprintf(stderr, "  %s\n", g.error);
        } else {
            CHECK_EQ_INT(g.size, 12 << 20);
            int bad = 0;
            for (size_t i = 0; g.data && i < g.size; i++) bad += ((const uint8_t *)g.data)[i] != (uint8_t)(i % 251);
            CHECK_EQ_INT(bad, 0);
        }
        hoist_store_get_item_reset(&g);
        stop_server(s);
    }
}

int main(void) {
    RUN(test_composite_sizes_wrap);
    RUN(test_repeated_token);
    RUN(test_nul_key);
    RUN(test_trickle);
    RUN(test_slow_reader);
    RUN(test_range_total_before_start);
    RUN(test_suffix_larger_than_asked);
    TEST_MAIN_END();
}
