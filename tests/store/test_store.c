/* Unit tests of the store that need no server: config setters, URL
 * parsing, hostile keys, and the file:// backend behind the public API. */
#include "store_internal.h"
#include "store_s3_call.h"
#include "test_store_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void test_config(void) {
    struct hoist_store_config *c;
    CHECK_EQ_INT(hoist_store_config_new(&c), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_CONCURRENCY, 64), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_CONCURRENCY, -1), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_PART_SIZE, 100), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_PART_SIZE, 16 << 20), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_VERIFY_TLS, 2), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_STALL_TIMEOUT, 0), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_int(c, HOIST_STORE_REGION, 1), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_str(c, HOIST_STORE_CONCURRENCY, "1"), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_str(c, HOIST_STORE_ENDPOINT, "ftp://x"), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_str(c, HOIST_STORE_ENDPOINT, "http://127.0.0.1:9"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(c, HOIST_STORE_ADDRESSING, "sideways"), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_config_set_str(c, HOIST_STORE_ADDRESSING, "path"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(c, HOIST_STORE_REGION, NULL), HOIST_ERR_INVALID_ARG);
    struct hoist_store *s = (struct hoist_store *)1;
    CHECK_EQ_INT(hoist_store_new(c, &s), HOIST_OK);
    CHECK(s != NULL && s->concurrency == 64 && s->part_size == (16u << 20));
    hoist_store_free(s);
    hoist_store_config_free(c);
    hoist_store_config_free(NULL);
    hoist_store_free(NULL);
    CHECK_EQ_INT(hoist_store_config_new(NULL), HOIST_ERR_INVALID_ARG);
}

static void test_urls(void) {
    struct hx_url u;
    CHECK_EQ_INT(hx_store_parse_url("s3://b/k/e y", &u), HOIST_OK);
    CHECK(u.kind == HX_URL_S3);
    CHECK_STR(u.bucket, "b");
    CHECK_STR(u.key, "k/e y");
    hx_url_reset(&u);
    CHECK_EQ_INT(hx_store_parse_url("s3://b", &u), HOIST_OK);
    CHECK_STR(u.key, "");
    hx_url_reset(&u);
    CHECK_EQ_INT(hx_store_parse_url("s3:///k", &u), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_store_parse_url("gs://b/k", &u), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_store_parse_url("", &u), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_store_parse_url("file://relative", &u), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_store_parse_url("file:///a/../../etc/passwd", &u), HOIST_ERR_UNSAFE_KEY);
    CHECK_EQ_INT(hx_store_parse_url("file:///tmp/x", &u), HOIST_OK);
    CHECK(u.kind == HX_URL_FILE);
    CHECK_STR(u.path, "/tmp/x");
    hx_url_reset(&u);
    CHECK_EQ_INT(hx_store_parse_url("file://localhost/tmp/x", &u), HOIST_OK);
    CHECK_STR(u.path, "/tmp/x");
    hx_url_reset(&u);
    CHECK_EQ_INT(hx_store_parse_url("rel/path.parquet", &u), HOIST_OK);
    CHECK_STR(u.path, "rel/path.parquet");
    hx_url_reset(&u);
    char longkey[1100] = "s3://b/";
    memset(longkey + 7, 'k', 1025);
    longkey[7 + 1025] = '\0';
    CHECK_EQ_INT(hx_store_parse_url(longkey, &u), HOIST_ERR_BAD_URL);
    longkey[7 + 1024] = '\0';
    CHECK_EQ_INT(hx_store_parse_url(longkey, &u), HOIST_OK);
    hx_url_reset(&u);
}

static void test_safe_join(void) {
    char *p;
    CHECK_EQ_INT(hx_store_safe_join("/d", "a/b.txt", &p), HOIST_OK);
    CHECK_STR(p, "/d/a/b.txt");
    hx_free(p);
    CHECK_EQ_INT(hx_store_safe_join("/d/", "x..y/.hidden", &p), HOIST_OK);
    CHECK_STR(p, "/d/x..y/.hidden");
    hx_free(p);
    const char *bad[] = {"../x", "/abs", "a/../../b", "a//b", "a/", "", ".", "a/./b", "..", "a/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = (char *)1;
        CHECK_EQ_INT(hx_store_safe_join("/d", bad[i], &p), HOIST_ERR_UNSAFE_KEY);
        CHECK(p == NULL);
    }
    CHECK_CONTAINS(hoist_errmsg(), "/d");
}

static char *path_of(const char *leaf) { return hx_asprintf("%s/%s", dir, leaf); }

static void test_file_backend(void) {
    struct hoist_store *s;
    CHECK_EQ_INT(hoist_store_new(NULL, &s), HOIST_OK);
    char *u1 = hx_asprintf("file://%s/data/a.bin", dir);
    char *u2 = path_of("data/sub/b.txt");
    char *u3 = path_of("data_other/c.txt");
    uint8_t body[1000];
    for (int i = 0; i < 1000; i++) body[i] = (uint8_t)(i * 7);
    struct hoist_put_item p[3] = {{.url = u1, .data = body, .size = 1000, .content_type = "application/x-bin"},
                                  {.url = u2, .data = "hello", .size = 5, .metadata_json = "{\"a\":1}"},
                                  {.url = u3, .data = "", .size = 0}};
    CHECK_EQ_INT(hoist_store_put_many(s, p, 3, 0, NULL, NULL), HOIST_OK);
    for (int i = 0; i < 3; i++) hoist_store_put_item_reset(&p[i]);
    /* no-overwrite keeps the old bytes */
    struct hoist_put_item q = {.url = u2, .data = "other", .size = 5};
    CHECK_EQ_INT(hoist_store_put_many(s, &q, 1, HOIST_NO_OVERWRITE, NULL, NULL), HOIST_OK);
    CHECK_EQ_INT(q.status, HOIST_ERR_EXISTS);
    hoist_store_put_item_reset(&q);
    char *missing = path_of("data/none");
    char *out = path_of("out/dl.bin");
    struct hoist_get_item g[6] = {
        {.url = u1, .length = -1},
        {.url = u1, .offset = 10, .length = 20},
        {.url = u1, .suffix = 1, .length = 100},
        {.url = u2, .length = -1},
        {.url = missing, .length = -1},
        {.url = u1, .offset = 900, .length = -1, .dest = HOIST_DEST_FILE, .path = out},
    };
    CHECK_EQ_INT(hoist_store_get_many(s, g, 6, HOIST_RETURN_MISSING, NULL, NULL), HOIST_OK);
    CHECK(g[0].size == 1000 && memcmp(g[0].data, body, 1000) == 0);
    CHECK(g[1].size == 20 && g[1].range_start == 10 && memcmp(g[1].data, body + 10, 20) == 0);
    CHECK(g[2].size == 100 && memcmp(g[2].data, body + 900, 100) == 0);
    CHECK(g[3].size == 5 && memcmp(g[3].data, "hello", 5) == 0);
    CHECK_EQ_INT(g[4].status, HOIST_ERR_NOT_FOUND);
    CHECK_EQ_INT(g[5].size, 100);
    struct stat sb;
    CHECK(stat(out, &sb) == 0 && sb.st_size == 100);
    CHECK_EQ_INT(g[0].info.size, 1000);
    for (int i = 0; i < 6; i++) hoist_store_get_item_reset(&g[i]);
    g[0] = (struct hoist_get_item){.url = missing, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(s, g, 1, 0, NULL, NULL), HOIST_ERR_NOT_FOUND);
    CHECK_CONTAINS(hoist_errmsg(), "data/none");
    hoist_store_get_item_reset(&g[0]);
    /* info */
    struct hoist_info_item inf = {.url = u2};
    CHECK_EQ_INT(hoist_store_info_many(s, &inf, 1, 0), HOIST_OK);
    CHECK_EQ_INT(inf.info.size, 5);
    hoist_store_info_item_reset(&inf);
    /* list: "data" never matches "data_other" */
    char *pref = hx_asprintf("file://%s/data", dir);
    const char *prefs[1] = {pref};
    struct hoist_list l;
    CHECK_EQ_INT(hoist_store_list(s, prefs, 1, 1, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, 2);
    for (size_t i = 0; i < l.count; i++) CHECK(strstr(l.entries[i].url, "data_other") == NULL);
    if (l.count == 2) CHECK_STR(l.entries[0].url, u1);
    hoist_store_list_reset(&l);
    CHECK_EQ_INT(hoist_store_list(s, prefs, 1, 0, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, 2);
    if (l.count == 2) CHECK_EQ_INT(l.entries[1].is_prefix, 1);
    hoist_store_list_reset(&l);
    /* delete; deleting again is fine */
    const char *dels[2] = {u1, u1};
    CHECK_EQ_INT(hoist_store_delete_many(s, dels, 2), HOIST_OK);
    CHECK(access(u1 + 7, F_OK) != 0);
    /* a hostile file URL is refused */
    struct hoist_get_item h = {.url = "file:///tmp/../etc/passwd", .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(s, &h, 1, 0, NULL, NULL), HOIST_ERR_UNSAFE_KEY);
    CHECK_EQ_INT(h.status, HOIST_ERR_UNSAFE_KEY);
    hoist_store_get_item_reset(&h);
    hx_free(pref);
    hx_free(u1);
    hx_free(u2);
    hx_free(u3);
    hx_free(missing);
    hx_free(out);
    hoist_store_free(s);
}

/* The prefaulter must never change a byte (it races with the writers by
 * design), must tolerate blocks too small to bother with and a stop with
 * nothing pushed, and must ignore pushes after a stop. */
static void test_prefault(void) {
    struct hx_prefault pf;
    hx_prefault_init(&pf, 4);
    hx_prefault_stop(&pf); /* never started */

    size_t n = (9u << 20) + 333;
    uint8_t *a = hx_malloc(n), *b = hx_malloc(n), *small = hx_malloc(4096);
    CHECK(a && b && small);
    if (!a || !b || !small) return;
    for (size_t i = 0; i < n; i++) a[i] = (uint8_t)(i * 31 + 7);
    memset(small, 0x5a, 4096);
    struct hx_prefault_item ia, ib, is;
    hx_prefault_init(&pf, 4);
    hx_prefault_push(&pf, &ia, a, n);        /* already written: must stay as is */
    hx_prefault_push(&pf, &is, small, 4096); /* too small: skipped */
    hx_prefault_push(&pf, &ib, b, n);
    /* write b while the helper may be populating it */
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i * 13 + 1);
    hx_prefault_stop(&pf);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += a[i] != (uint8_t)(i * 31 + 7) || b[i] != (uint8_t)(i * 13 + 1);
    CHECK_EQ_INT(bad, 0);
    for (size_t i = 0; i < 4096; i++) bad += small[i] != 0x5a;
    CHECK_EQ_INT(bad, 0);

    /* after a stop, pushes are ignored (no thread is started again) */
    struct hx_prefault pf2;
    hx_prefault_init(&pf2, 4);
    pf2.stop = 1;
    hx_prefault_push(&pf2, &ia, a, n);
    CHECK_EQ_INT(pf2.started, 0);
    pf2.stop = 0;
    hx_prefault_stop(&pf2);
    hx_free(a);
    hx_free(b);
    hx_free(small);
}

/* The prefaulter keeps ahead of every writer at once: it takes one 2 MiB
 * step of each of the first `window` ranges in turn (a finished range
 * makes room for the next), never the whole of one range while the others
 * wait (the order until 2026-12-02: A0 A1 A2 B0 C0 C1 D0). Steps cover
 * the whole pages inside each range exactly once. */
static void test_prefault_turns(void) {
    struct hx_prefault pf;
    hx_prefault_init(&pf, 2);
    const uintptr_t MiB = (uintptr_t)1 << 20, base = (uintptr_t)1 << 40; /* never touched: take only plans */
    struct hx_prefault_item it[5];
    uintptr_t start[4] = {base, base + 64 * MiB, base + 128 * MiB, base + 192 * MiB};
    size_t len[4] = {6 * MiB, 4 * MiB, 4 * MiB + 100, 5 * MiB}; /* C ends inside a page; D's last step is 1 MiB */
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(hx_prefault_queue(&pf, &it[i], (void *)start[i], len[i]), 1);
    CHECK_EQ_INT(hx_prefault_queue(&pf, &it[4], (void *)(base + 256 * MiB), 4 * MiB - 1), 0); /* too small */
    /* window 2: A and B in turn; B done, C moves up beside A; A done, then
     * C's last step beside D; then D alone */
    const char *want = "A0 B0 A1 B1 C0 A2 C1 D0 D1 D2";
    char got[64] = "";
    uintptr_t at;
    size_t n, sum[4] = {0};
    int steps = 0;
    while (hx_prefault_take(&pf, &at, &n) && steps < 20) {
        int r = (int)((at - base) / (64 * MiB));
        CHECK(r >= 0 && r < 4);
        if (r < 0 || r >= 4) break;
        CHECK_EQ_INT(at, start[r] + sum[r]);
        CHECK(n > 0 && n <= 2 * MiB);
        sum[r] += n;
        size_t used = strlen(got);
        snprintf(got + used, sizeof got - used, "%s%c%d", steps ? " " : "", 'A' + r,
                 (int)((at - start[r]) / (2 * MiB)));
        steps++;
    }
    CHECK_STR(got, want);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(sum[i], len[i] & ~(size_t)4095);
    CHECK(pf.head == NULL && pf.tail == NULL);
    /* a range queued after the queue ran dry is taken at once */
    CHECK_EQ_INT(hx_prefault_queue(&pf, &it[0], (void *)start[0], 4 * MiB), 1);
    CHECK_EQ_INT(hx_prefault_take(&pf, &at, &n), 1);
    CHECK_EQ_INT(at, start[0]);
    CHECK_EQ_INT(hx_prefault_take(&pf, &at, &n), 1);
    CHECK_EQ_INT(hx_prefault_take(&pf, &at, &n), 0);
    hx_prefault_stop(&pf);
}

/* How many streams a whole-object GET becomes once its rate is known:
 * enough for concurrency x conn_rate at that rate, shared among the
 * objects up for a split, none shorter than the part size; one while
 * other requests wait for a connection or the running ones suffice. */
static void test_split_ways(void) {
    const uint64_t MiB = 1u << 20, ps = 8 * MiB;
    const double conn = 50e6; /* 0.4 Gbit/s */
    /* 8 streams of 64 MiB at 50 MB/s each, 25 connections: 17 idle, 3 more each */
    CHECK_EQ_INT(hx_store_s3_split_ways(50e6, conn, 25, 8, 0, 8, 60 * MiB, ps), 4);
    /* a fast local server: 8 streams at 200 MB/s reach 25 x 50 MB/s already */
    CHECK_EQ_INT(hx_store_s3_split_ways(200e6, conn, 25, 8, 0, 8, 60 * MiB, ps), 1);
    /* ... but the last stream of a call, alone, gets company */
    CHECK_EQ_INT(hx_store_s3_split_ways(200e6, conn, 25, 1, 0, 1, 60 * MiB, ps), 7);
    /* requests wait for a connection: they will fill it */
    CHECK_EQ_INT(hx_store_s3_split_ways(1e3, conn, 25, 25, 1, 8, 60 * MiB, ps), 1);
    /* too little left to cut in two parts of at least the part size */
    CHECK_EQ_INT(hx_store_s3_split_ways(1e3, conn, 25, 1, 0, 1, 2 * ps - 1, ps), 1);
    CHECK_EQ_INT(hx_store_s3_split_ways(1e3, conn, 25, 1, 0, 1, 3 * ps + 5, ps), 3);
    /* nothing arrived yet: as many as the connections allow */
    CHECK_EQ_INT(hx_store_s3_split_ways(0, conn, 4, 1, 0, 1, 60 * MiB, ps), 4);
    CHECK_EQ_INT(hx_store_s3_split_ways(50e6, conn, 25, 30, 0, 1, 60 * MiB, ps), 1); /* more running than wanted */
}

/* CRC32C as the download path computes it (three interleaved hardware
 * chains joined by a shift table for long inputs) against a bitwise
 * reference: lengths around the 3 x 8 KiB block edges, odd offsets, and
 * the same data fed in uneven pieces as write callbacks would. */
static uint32_t crc32c_ref(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void test_crc32c_long(void) {
    size_t cap = 3 * 8192 * 3 + 64;
    uint8_t *buf = hx_malloc(cap);
    CHECK(buf != NULL);
    if (!buf) return;
    uint32_t x = 12345;
    for (size_t i = 0; i < cap; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    size_t lens[] = {0,           1, 7, 8, 9, 24575, 24576, 24577, 24576 + 8, 2 * 24576 - 1, 2 * 24576, 2 * 24576 + 13,
                     3 * 8192 * 3};
    int bad = 0;
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++)
        for (size_t off = 0; off < 4; off++) {
            size_t n = lens[li];
            if (off + n > cap) continue;
            uint32_t want = crc32c_ref(0, buf + off, n);
            bad += hx_crc32c_update(0, buf + off, n) != want;
            /* in pieces, continuing the CRC */
            uint32_t c = 0;
            size_t at = 0, step = 5000 + off * 999;
            while (at < n) {
                size_t k = n - at < step ? n - at : step;
                c = hx_crc32c_update(c, buf + off + at, k);
                at += k;
                step = step * 3 + 1;
            }
            bad += c != want;
        }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(hx_crc32c_update(0, "123456789", 9), 0xE3069283u);
    hx_free(buf);
}

static void test_alloc_failures(void) {
    /* Every allocation of a small file:// round trip may fail: no leak, no crash. */
    char *u = path_of("af/x.bin");
    for (uint64_t n = 1; n < 80; n++) {
        struct hoist_store *s = NULL;
        hx_alloc_fail_after(n);
        enum hoist_status st = hoist_store_new(NULL, &s);
        if (st == HOIST_OK) {
            struct hoist_put_item p = {.url = u, .data = "abc", .size = 3};
            st = hoist_store_put_many(s, &p, 1, 0, NULL, NULL);
            hoist_store_put_item_reset(&p);
            struct hoist_get_item g = {.url = u, .length = -1};
            st = hoist_store_get_many(s, &g, 1, 0, NULL, NULL);
            hoist_store_get_item_reset(&g);
            const char *pr[1] = {u};
            struct hoist_list l;
            if (hoist_store_list(s, pr, 1, 1, &l) == HOIST_OK) hoist_store_list_reset(&l);
        }
        hx_alloc_fail_after(0);
        hoist_store_free(s);
        (void)st;
    }
    hx_free(u);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/hoist-store-unit-%d", (int)getpid());
    mkdir(dir, 0700);
    RUN(test_config);
    RUN(test_urls);
    RUN(test_safe_join);
    RUN(test_file_backend);
    RUN(test_alloc_failures);
    RUN(test_prefault);
    RUN(test_prefault_turns);
    RUN(test_split_ways);
    RUN(test_crc32c_long);
    th_remove_tree(dir);
    TEST_MAIN_END();
}
