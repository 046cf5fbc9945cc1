/* Unit tests of the HTTP engine helpers: backoff bounds, error classes,
 * CRC32C, and a loop with nothing to do. */
#include "net.h"
#include "test_harness.h"

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
    struct hx_net_config cfg = {.concurrency = 4, .connect_timeout_s = 1, .stall_timeout_s = 1, .max_retries = 1,
                                .verify_tls = 1};
    struct hx_net *net;
    CHECK_EQ_INT(hx_net_new(&cfg, &net), HOIST_OK);
    struct hx_net_loop loop;
    CHECK_EQ_INT(hx_net_loop_init(&loop, net), HOIST_OK);
    CHECK_EQ_INT(hx_net_loop_run(&loop), HOIST_OK);
    hx_net_loop_cleanup(&loop);
    hx_net_free(net);
    hx_net_free(NULL);
}

int main(void) {
    RUN(test_backoff);
    RUN(test_classes);
    RUN(test_crc32c);
    RUN(test_empty_loop);
    TEST_MAIN_END();
}
