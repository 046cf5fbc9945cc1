/* Integration tests of the store against the local S3 server (skipped
 * unless HOIST_TEST_S3=1 with the server's AWS_* environment). */
#include "store_internal.h"
#include "test_store_util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct hoist_store *store;
static char bucket[64];
static char burl[80];
static char tmpdir[256];

static char *url_of(const char *key) { return hx_asprintf("%s/%s", burl, key); }

static enum hoist_status put_mem(const char *key, const void *data, size_t n, unsigned flags) {
    char *u = url_of(key);
    struct hoist_put_item it = {.url = u, .data = data, .size = n};
    enum hoist_status st = hoist_store_put_many(store, &it, 1, flags, NULL, NULL);
    hoist_store_put_item_reset(&it);
    hx_free(u);
    return st;
}

static void roundtrip(size_t n, uint32_t seed) {
    uint8_t *data = malloc(n ? n : 1);
    th_fill_bytes(data, n, seed);
    char key[64];
    snprintf(key, sizeof key, "rt/size-%zu", n);
    CHECK_EQ_INT(put_mem(key, data, n, 0), HOIST_OK);
    char *u = url_of(key);
    /* into hoist memory */
    struct hoist_get_item g = {.url = u, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, 0, NULL, NULL), HOIST_OK);
    CHECK_EQ_INT(g.size, n);
    CHECK_EQ_INT(g.info.size, n);
    CHECK(g.data != NULL && memcmp(g.data, data, n) == 0);
    hoist_store_get_item_reset(&g);
    /* into a caller buffer, and a too small one */
    uint8_t *buf = malloc(n + 1);
    struct hoist_get_item b = {.url = u, .length = -1, .dest = HOIST_DEST_BUFFER, .buffer = buf, .buffer_size = n + 1};
    CHECK_EQ_INT(hoist_store_get_many(store, &b, 1, 0, NULL, NULL), HOIST_OK);
    CHECK(b.data == buf && b.size == n && memcmp(buf, data, n) == 0);
    hoist_store_get_item_reset(&b);
    if (n > 0) {
        struct hoist_get_item s = {
            .url = u, .length = -1, .dest = HOIST_DEST_BUFFER, .buffer = buf, .buffer_size = n - 1};
        CHECK_EQ_INT(hoist_store_get_many(store, &s, 1, 0, NULL, NULL), HOIST_ERR_LIMIT);
        CHECK_CONTAINS(s.error, key);
        hoist_store_get_item_reset(&s);
    }
    /* into a file */
    char path[400];
    snprintf(path, sizeof path, "%s/sub/dir/file-%zu", tmpdir, n);
    struct hoist_get_item f = {.url = u, .length = -1, .dest = HOIST_DEST_FILE, .path = path};
    CHECK_EQ_INT(hoist_store_get_many(store, &f, 1, 0, NULL, NULL), HOIST_OK);
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (fp) {
        uint8_t *back = malloc(n + 1);
        size_t r = fread(back, 1, n + 1, fp);
        CHECK_EQ_INT(r, n);
        CHECK(memcmp(back, data, n) == 0);
        free(back);
        fclose(fp);
    }
    hoist_store_get_item_reset(&f);
    free(buf);
    free(data);
    hx_free(u);
}

static void test_roundtrips(void) {
    roundtrip(0, 1);
    roundtrip(1, 2);
    roundtrip((5u << 20) - 1, 3);
    roundtrip(5u << 20, 4);
    roundtrip((5u << 20) + 1, 5);
    roundtrip(64u << 20, 6); /* multipart up, ranged parts down */
}

static void test_many_small(void) {
    enum { N = 1100 }; /* more than one 1,000-key listing page and DeleteObjects batch */
    struct hoist_put_item *p = calloc(N, sizeof *p);
    struct hoist_get_item *g = calloc(N, sizeof *g);
    char **urls = calloc(N, sizeof *urls);
    uint8_t *data = malloc((size_t)N * 100);
    th_fill_bytes(data, (size_t)N * 100, 9);
    for (int i = 0; i < N; i++) {
        char key[64];
        snprintf(key, sizeof key, "many/obj-%05d", i);
        urls[i] = url_of(key);
        p[i].url = urls[i];
        p[i].data = data + i * 100;
        p[i].size = (uint64_t)(i % 100) + 1;
        g[i].url = urls[i];
        g[i].length = -1;
    }
    double t0 = hx_now();
    CHECK_EQ_INT(hoist_store_put_many(store, p, N, 0, NULL, NULL), HOIST_OK);
    double t1 = hx_now();
    CHECK_EQ_INT(hoist_store_get_many(store, g, N, 0, NULL, NULL), HOIST_OK);
    double t2 = hx_now();
    fprintf(stderr, "  %d small: put %.0f/s, get %.0f/s\n", N, N / (t1 - t0), N / (t2 - t1));
    int bad = 0;
    for (int i = 0; i < N; i++) {
        if (g[i].status != HOIST_OK || g[i].size != p[i].size || memcmp(g[i].data, data + i * 100, g[i].size) != 0)
            bad++;
        hoist_store_get_item_reset(&g[i]);
        hoist_store_put_item_reset(&p[i]);
    }
    CHECK_EQ_INT(bad, 0);
    /* listing > 1000 keys needs pagination; recursive and one level */
    char *pref = url_of("many");
    const char *prefs[1] = {pref};
    struct hoist_list l;
    CHECK_EQ_INT(hoist_store_list(store, prefs, 1, 1, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, N);
    hoist_store_list_reset(&l);
    CHECK_EQ_INT(hoist_store_list(store, prefs, 1, 0, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, N);
    if (l.count == N) {
        CHECK_STR(l.entries[0].prefix, pref);
        CHECK(l.entries[0].size == 1 && !l.entries[0].is_prefix);
        int sorted = 1;
        for (size_t i = 1; i < l.count; i++) sorted &= strcmp(l.entries[i - 1].url, l.entries[i].url) < 0;
        CHECK(sorted);
    }
    hoist_store_list_reset(&l);
    /* info_many */
    struct hoist_info_item inf[3] = {{.url = urls[0]}, {.url = urls[99]}, {.url = pref}};
    CHECK_EQ_INT(hoist_store_info_many(store, inf, 3, HOIST_RETURN_MISSING), HOIST_OK);
    CHECK_EQ_INT(inf[0].info.size, 1);
    CHECK_EQ_INT(inf[1].info.size, 100);
    CHECK(inf[0].info.last_modified > 1600000000);
    CHECK_EQ_INT(inf[2].status, HOIST_ERR_S3_NO_SUCH_KEY);
    for (int i = 0; i < 3; i++) hoist_store_info_item_reset(&inf[i]);
    /* batch delete (two DeleteObjects requests) */
    CHECK_EQ_INT(hoist_store_delete_many(store, (const char *const *)urls, N), HOIST_OK);
    CHECK_EQ_INT(hoist_store_list(store, prefs, 1, 1, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, 0);
    hoist_store_list_reset(&l);
    hx_free(pref);
    for (int i = 0; i < N; i++) hx_free(urls[i]);
    free(urls);
    free(p);
    free(g);
    free(data);
}

static void test_listing_semantics(void) {
    const char *keys[] = {"log/a.txt", "log/sub/b.txt", "log_other/c.txt", "logx", "log/sub/deeper/d.txt"};
    for (size_t i = 0; i < 5; i++) CHECK_EQ_INT(put_mem(keys[i], "x", 1, 0), HOIST_OK);
    char *p1 = url_of("log"), *p2 = url_of("log/");
    const char *prefs[2] = {p1, p2};
    struct hoist_list l;
    CHECK_EQ_INT(hoist_store_list(store, prefs, 2, 1, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, 6);
    for (size_t i = 0; i < l.count; i++)
        CHECK(strstr(l.entries[i].url, "log_other") == NULL && strstr(l.entries[i].url, "logx") == NULL);
    if (l.count == 6) {
        CHECK_STR(l.entries[0].prefix, p1);
        CHECK_STR(l.entries[3].prefix, p2);
    }
    hoist_store_list_reset(&l);
    CHECK_EQ_INT(hoist_store_list(store, prefs, 1, 0, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, 2);
    if (l.count == 2) {
        char *want = url_of("log/a.txt");
        CHECK_STR(l.entries[0].url, want);
        hx_free(want);
        want = url_of("log/sub/");
        CHECK_STR(l.entries[1].url, want);
        CHECK_EQ_INT(l.entries[1].is_prefix, 1);
        hx_free(want);
    }
    hoist_store_list_reset(&l);
    /* bucket root */
    const char *root[1] = {burl};
    CHECK_EQ_INT(hoist_store_list(store, root, 1, 0, &l), HOIST_OK);
    int saw_logx = 0;
    for (size_t i = 0; i < l.count; i++) saw_logx |= strstr(l.entries[i].url, "/logx") != NULL;
    CHECK(saw_logx);
    hoist_store_list_reset(&l);
    hx_free(p1);
    hx_free(p2);
}

static void test_unicode_and_odd_keys(void) {
    const char *keys[] = {"uni/d\xc3\xa9j\xc3\xa0 vu/\xe6\x97\xa5\xe6\x9c\xac.txt", "uni/a+b c%20d#e?f&g=h",
                          "uni/tab\there", "uni/ctrl-\x01\x7f-end", "uni/emoji-\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < 5; i++) {
        char *u = url_of(keys[i]);
        struct hoist_put_item p = {.url = u, .data = keys[i], .size = strlen(keys[i])};
        CHECK_EQ_INT(hoist_store_put_many(store, &p, 1, 0, NULL, NULL), HOIST_OK);
        if (p.error) fprintf(stderr, "  %s\n", p.error);
        hoist_store_put_item_reset(&p);
        struct hoist_get_item g = {.url = u, .length = -1};
        CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, 0, NULL, NULL), HOIST_OK);
        CHECK(g.size == strlen(keys[i]) && memcmp(g.data, keys[i], g.size) == 0);
        hoist_store_get_item_reset(&g);
        hx_free(u);
    }
    char *pref = url_of("uni");
    const char *prefs[1] = {pref};
    struct hoist_list l;
    CHECK_EQ_INT(hoist_store_list(store, prefs, 1, 1, &l), HOIST_OK);
    CHECK_EQ_INT(l.count, 5);
    int found = 0;
    for (size_t i = 0; i < l.count; i++) {
        char *want = url_of(keys[1]);
        found |= strcmp(l.entries[i].url, want) == 0;
        hx_free(want);
    }
    CHECK(found);
    hoist_store_list_reset(&l);
    hx_free(pref);
    /* a 1024-byte key works; 1025 is refused before any request */
    char key[1100];
    memset(key, 'k', sizeof key);
    memcpy(key, "long/", 5);
    /* SeaweedFS stores keys as file paths: keep each segment under 255 bytes */
    for (int i = 100; i < 1024; i += 100) key[i] = '/';
    key[1024] = '\0';
    CHECK_EQ_INT(put_mem(key, "z", 1, 0), HOIST_OK);
    key[1024] = 'k';
    key[1025] = '\0';
    CHECK_EQ_INT(put_mem(key, "z", 1, 0), HOIST_ERR_BAD_URL);
}

static void test_ranges_and_missing(void) {
    size_t n = 20u << 20;
    uint8_t *data = malloc(n);
    th_fill_bytes(data, n, 77);
    CHECK_EQ_INT(put_mem("range/obj", data, n, 0), HOIST_OK);
    char *u = url_of("range/obj");
    char *missing = url_of("range/nope");
    struct hoist_get_item g[6];
    memset(g, 0, sizeof g);
    g[0] = (struct hoist_get_item){.url = u, .offset = 10, .length = 100};
    g[1] = (struct hoist_get_item){.url = u, .offset = (int64_t)n - 5, .length = 100}; /* clipped */
    g[2] = (struct hoist_get_item){.url = u, .suffix = 1, .length = 1000};
    g[3] = (struct hoist_get_item){.url = u, .offset = 1000, .length = (int64_t)(17u << 20)}; /* split into parts */
    g[4] = (struct hoist_get_item){.url = u, .offset = 3, .length = -1};
    g[5] = (struct hoist_get_item){.url = missing, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(store, g, 6, HOIST_RETURN_MISSING, NULL, NULL), HOIST_OK);
    CHECK(g[0].size == 100 && g[0].range_start == 10 && memcmp(g[0].data, data + 10, 100) == 0);
    CHECK(g[1].size == 5 && memcmp(g[1].data, data + n - 5, 5) == 0);
    CHECK(g[2].size == 1000 && g[2].range_start == n - 1000 && memcmp(g[2].data, data + n - 1000, 1000) == 0);
    CHECK(g[3].size == (17u << 20) && memcmp(g[3].data, data + 1000, 17u << 20) == 0);
    CHECK(g[4].size == n - 3 && memcmp(g[4].data, data + 3, n - 3) == 0);
    CHECK_EQ_INT(g[0].info.size, n);
    CHECK_EQ_INT(g[5].status, HOIST_ERR_S3_NO_SUCH_KEY);
    CHECK_CONTAINS(g[5].error, "range/nope");
    for (int i = 0; i < 6; i++) hoist_store_get_item_reset(&g[i]);
    /* without RETURN_MISSING: one error naming the key; other items still filled */
    g[0] = (struct hoist_get_item){.url = u, .offset = 0, .length = 10};
    g[1] = (struct hoist_get_item){.url = missing, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(store, g, 2, 0, NULL, NULL), HOIST_ERR_S3_NO_SUCH_KEY);
    CHECK_CONTAINS(hoist_errmsg(), "range/nope");
    CHECK_CONTAINS(hoist_errmsg(), "404");
    CHECK(g[0].status == HOIST_OK && g[0].size == 10);
    for (int i = 0; i < 2; i++) hoist_store_get_item_reset(&g[i]);
    /* past the end */
    g[0] = (struct hoist_get_item){.url = u, .offset = (int64_t)n + 10, .length = 10};
    CHECK_EQ_INT(hoist_store_get_many(store, g, 1, 0, NULL, NULL), HOIST_ERR_S3_INVALID_RANGE);
    hoist_store_get_item_reset(&g[0]);
    /* missing into a file leaves no file and no temp */
    char path[400];
    snprintf(path, sizeof path, "%s/missing-dir/out", tmpdir);
    g[0] = (struct hoist_get_item){.url = missing, .length = -1, .dest = HOIST_DEST_FILE, .path = path};
    CHECK_EQ_INT(hoist_store_get_many(store, g, 1, 0, NULL, NULL), HOIST_ERR_S3_NO_SUCH_KEY);
    CHECK(access(path, F_OK) != 0);
    hoist_store_get_item_reset(&g[0]);
    /* missing bucket */
    struct hoist_get_item nb = {.url = "s3://hoist-no-such-bucket-xyz/k", .length = -1};
    enum hoist_status st = hoist_store_get_many(store, &nb, 1, 0, NULL, NULL);
    CHECK(st == HOIST_ERR_S3_NO_SUCH_BUCKET || st == HOIST_ERR_S3_NO_SUCH_KEY);
    hoist_store_get_item_reset(&nb);
    hx_free(u);
    hx_free(missing);
    free(data);
}

static void test_metadata_and_no_overwrite(void) {
    char *u = url_of("meta/obj.json");
    struct hoist_put_item p = {.url = u,
                               .data = "{}",
                               .size = 2,
                               .content_type = "application/json",
                               .metadata_json = "{\"a\": 1, \"name\": \"caf\xc3\xa9\"}"};
    CHECK_EQ_INT(hoist_store_put_many(store, &p, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_put_item_reset(&p);
    struct hoist_info_item i = {.url = u};
    CHECK_EQ_INT(hoist_store_info_many(store, &i, 1, 0), HOIST_OK);
    CHECK_STR(i.info.content_type, "application/json");
    CHECK_STR(i.info.metadata_json, "{\"a\": 1, \"name\": \"caf\\u00e9\"}");
    CHECK(i.info.etag != NULL);
    hoist_store_info_item_reset(&i);
    struct hoist_get_item g = {.url = u, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, 0, NULL, NULL), HOIST_OK);
    CHECK_STR(g.info.metadata_json, "{\"a\": 1, \"name\": \"caf\\u00e9\"}");
    CHECK_STR(g.info.content_type, "application/json");
    hoist_store_get_item_reset(&g);
    /* bad metadata is refused before any request */
    p.metadata_json = "[1,2]";
    CHECK_EQ_INT(hoist_store_put_many(store, &p, 1, 0, NULL, NULL), HOIST_ERR_INVALID_ARG);
    hoist_store_put_item_reset(&p);
    /* no-overwrite: the existing object is kept, new ones are written */
    char *u2 = url_of("meta/new.txt");
    struct hoist_put_item q[2] = {{.url = u, .data = "NEW", .size = 3}, {.url = u2, .data = "fresh", .size = 5}};
    for (int round = 0; round < 2; round++) {
        CHECK_EQ_INT(hoist_store_put_many(store, q, 2, HOIST_NO_OVERWRITE, NULL, NULL), HOIST_OK);
        CHECK_EQ_INT(q[0].status, HOIST_ERR_EXISTS);
        CHECK_EQ_INT(q[1].status, round == 0 ? HOIST_OK : HOIST_ERR_EXISTS);
        hoist_store_put_item_reset(&q[0]);
        hoist_store_put_item_reset(&q[1]);
    }
    CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, 0, NULL, NULL), HOIST_OK);
    CHECK(g.size == 2 && memcmp(g.data, "{}", 2) == 0);
    hoist_store_get_item_reset(&g);
    hx_free(u);
    hx_free(u2);
}

/* Blank runs in signed header values (metadata, content type): SigV4 signs
 * them collapsed, the server checks them that way (SeaweedFS answered 403
 * SignatureDoesNotMatch before), and the object keeps the values as sent.
 * One PUT and one multipart upload (the type goes with its create call). */
static void test_header_blanks(void) {
    const char *type = "text/plain;  charset=utf-8", *meta = "{\"a\": \"x  y\"}";
    size_t big = (size_t)12 << 20;
    uint8_t *body = calloc(1, big);
    for (int k = 0; k < 2; k++) {
        char *u = url_of(k ? "blanks/multi" : "blanks/single");
        struct hoist_put_item p = {
            .url = u, .data = body, .size = k ? big : 10, .content_type = type, .metadata_json = meta};
        CHECK_EQ_INT(hoist_store_put_many(store, &p, 1, 0, NULL, NULL), HOIST_OK);
        if (p.error) fprintf(stderr, "  %s\n", p.error);
        CHECK_EQ_INT(p.status, HOIST_OK);
        hoist_store_put_item_reset(&p);
        struct hoist_info_item i = {.url = u};
        CHECK_EQ_INT(hoist_store_info_many(store, &i, 1, 0), HOIST_OK);
        CHECK_STR(i.info.content_type, type);
        CHECK_STR(i.info.metadata_json, meta);
        CHECK_EQ_INT(i.info.size, k ? big : 10);
        hoist_store_info_item_reset(&i);
        hx_free(u);
    }
    free(body);
}

/* A refused signature names both causes the server cannot tell apart,
 * rather than blaming the credentials alone. */
static void test_bad_signature_message(void) {
    struct hoist_store_config *cfg;
    struct hoist_store *s = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ACCESS_KEY_ID, getenv("AWS_ACCESS_KEY_ID")), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_SECRET_ACCESS_KEY, "not-the-secret"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_MAX_RETRIES, 0), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &s), HOIST_OK);
    hoist_store_config_free(cfg);
    if (s == NULL) return;
    const char *root[1] = {burl};
    struct hoist_list l;
    CHECK_EQ_INT(hoist_store_list(s, root, 1, 1, &l), HOIST_ERR_S3_BAD_SIGNATURE);
    CHECK_CONTAINS(hoist_errmsg(), "SignatureDoesNotMatch");
    CHECK_CONTAINS(hoist_errmsg(), "the secret key does not match the access key id, or a signed header");
    hoist_store_free(s);
}

int count_uploads(void);

/* Runs Python statements (fmt, printf-style) in the virtualenv `py` with
 * json, os and sys imported and `s3` a boto3 client of the test server;
 * returns system()'s status. */
static int run_boto3(const char *py, const char *fmt, ...) HX_PRINTF(2, 3);
static int run_boto3(const char *py, const char *fmt, ...) {
    char stmts[1536], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(stmts, sizeof stmts, fmt, ap);
    va_end(ap);
    snprintf(
        cmd, sizeof cmd,
        "%s -c 'import boto3,json,os,sys; s3=boto3.client(\"s3\",endpoint_url=os.environ[\"AWS_ENDPOINT_URL\"]);%s'",
        py, stmts);
    return system(cmd);
}

/* Interop with metaflow.S3's layout: boto3 writes what metaflow writes
 * (Metadata={"metaflow-user-attributes": json.dumps(d)}), hoist reads it; and
 * hoist's writes read back in boto3 as metaflow would decode them. */
static void test_metaflow_interop(void) {
    char pybuf[512];
    const char *py = stu_venv_python(pybuf, sizeof pybuf);
    if (!py) return;
    CHECK_EQ_INT(run_boto3(py,
                           "s3.put_object(Bucket=\"%s\",Key=\"mf/from-boto3\",Body=b\"abc\",ContentType=\"text/x-mf\","
                           "Metadata={\"metaflow-user-attributes\":json.dumps({\"run\":7,\"name\":\"caf\\u00e9\"})})",
                           bucket),
                 0);
    char *u = url_of("mf/from-boto3");
    struct hoist_info_item i = {.url = u};
    CHECK_EQ_INT(hoist_store_info_many(store, &i, 1, 0), HOIST_OK);
    CHECK_STR(i.info.metadata_json, "{\"run\": 7, \"name\": \"caf\\u00e9\"}");
    CHECK_STR(i.info.content_type, "text/x-mf");
    hoist_store_info_item_reset(&i);
    char *u2 = url_of("mf/from-hoist");
    struct hoist_put_item p = {.url = u2,
                               .data = "xyz",
                               .size = 3,
                               .content_type = "text/x-h",
                               .metadata_json = "{\"k\": [1, 2], \"s\": \"\xc3\xa9\"}"};
    CHECK_EQ_INT(hoist_store_put_many(store, &p, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_put_item_reset(&p);
    CHECK_EQ_INT(run_boto3(py,
                           "h=s3.head_object(Bucket=\"%s\",Key=\"mf/from-hoist\");"
                           "sys.exit(0 if json.loads(h[\"Metadata\"][\"metaflow-user-attributes\"])=={\"k\":[1,2],"
                           "\"s\":\"\\u00e9\"} and h[\"ContentType\"]==\"text/x-h\" else 1)",
                           bucket),
                 0);
    hx_free(u);
    hx_free(u2);
}

static void test_conditional_put(void) {
    /* The atomic path: the server answers If-None-Match with 412 (no HEAD
     * first), for a single PUT and for CompleteMultipartUpload. */
    size_t n = 20u << 20;
    uint8_t *big = malloc(n);
    th_fill_bytes(big, n, 11);
    char *u = url_of("cond/small"), *ub = url_of("cond/big");
    CHECK_EQ_INT(put_mem("cond/small", "first", 5, 0), HOIST_OK);
    CHECK_EQ_INT(put_mem("cond/big", "first", 5, 0), HOIST_OK);
    atomic_store(&store->inm_honored, 1);
    struct hoist_put_item p[2] = {{.url = u, .data = "second", .size = 6}, {.url = ub, .data = big, .size = n}};
    CHECK_EQ_INT(hoist_store_put_many(store, p, 2, HOIST_NO_OVERWRITE, NULL, NULL), HOIST_OK);
    CHECK_EQ_INT(p[0].status, HOIST_ERR_EXISTS);
    CHECK_EQ_INT(p[1].status, HOIST_ERR_EXISTS);
    hoist_store_put_item_reset(&p[0]);
    hoist_store_put_item_reset(&p[1]);
    struct hoist_get_item g[2] = {{.url = u, .length = -1}, {.url = ub, .length = -1}};
    CHECK_EQ_INT(hoist_store_get_many(store, g, 2, 0, NULL, NULL), HOIST_OK);
    CHECK(g[0].size == 5 && memcmp(g[0].data, "first", 5) == 0);
    CHECK(g[1].size == 5 && memcmp(g[1].data, "first", 5) == 0);
    hoist_store_get_item_reset(&g[0]);
    hoist_store_get_item_reset(&g[1]);
    CHECK_EQ_INT(count_uploads(), 0); /* the refused multipart upload was aborted */
    atomic_store(&store->inm_honored, 0);
    free(big);
    hx_free(u);
    hx_free(ub);
}

static int cancel_after(const struct hoist_progress *p, void *ud) {
    int *calls = ud;
    (*calls)++;
    (void)p;
    return 1; /* at the first report: transfers are under way, none complete */
}

/* ListMultipartUploads is not in the public API: ask with a raw request
 * through the internal layers. Returns -1 when the request failed. */
static hx_status uploads_prepare(struct hx_net_req *req) {
    req->sink = HX_SINK_BUF;
    req->body_cap = 1 << 20;
    return hx_s3_build_request(&store->s3, req, "GET", bucket, NULL, "uploads=", NULL, NULL, 0);
}
static enum hx_net_action uploads_done(struct hx_net_req *req, CURLcode code) {
    long *status = req->owner;
    *status = code == CURLE_OK ? req->resp.status : -1;
    return HX_NET_DONE;
}
int count_uploads(void);
int count_uploads(void) {
    struct hx_net_loop loop;
    if (hx_net_loop_init(&loop, store->net) != HOIST_OK) return -1;
    long status = 0;
    struct hx_net_req req;
    memset(&req, 0, sizeof req);
    req.owner = &status;
    req.prepare = uploads_prepare;
    req.on_done = uploads_done;
    req.sink_fd = -1;
    hx_net_loop_submit(&loop, &req, 0);
    int count = -1;
    if (hx_net_loop_run(&loop) == HOIST_OK && status == 200) {
        count = 0;
        for (const char *p = req.body.data; p && (p = strstr(p, "<UploadId>")) != NULL; p++) count++;
    }
    hx_net_loop_cleanup(&loop);
    hx_net_req_cleanup(&req);
    return count;
}

static void test_multipart_and_cancel(void) {
    size_t n = 40u << 20;
    uint8_t *data = malloc(n);
    th_fill_bytes(data, n, 5);
    /* from a file */
    char path[400];
    snprintf(path, sizeof path, "%s/upload.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    char *u = url_of("mp/from-file");
    struct hoist_put_item p = {
        .url = u, .path = path, .content_type = "application/x-test", .metadata_json = "{\"k\":\"v\"}"};
    CHECK_EQ_INT(hoist_store_put_many(store, &p, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_put_item_reset(&p);
    struct hoist_get_item g = {.url = u, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, 0, NULL, NULL), HOIST_OK);
    CHECK(g.size == n && memcmp(g.data, data, n) == 0);
    CHECK_STR(g.info.content_type, "application/x-test");
    CHECK_STR(g.info.metadata_json, "{\"k\":\"v\"}");
    hoist_store_get_item_reset(&g);
    /* a missing local file */
    struct hoist_put_item m = {.url = u, .path = "/nonexistent/hoist/file"};
    CHECK_EQ_INT(hoist_store_put_many(store, &m, 1, 0, NULL, NULL), HOIST_ERR_NOT_FOUND);
    hoist_store_put_item_reset(&m);
    /* cancel a multipart upload midway: no object appears, the upload is aborted */
    char *uc = url_of("mp/cancelled");
    struct hoist_put_item c = {.url = uc, .data = data, .size = n};
    int calls = 0;
    CHECK_EQ_INT(hoist_store_put_many(store, &c, 1, 0, cancel_after, &calls), HOIST_ERR_CANCELLED);
    CHECK(calls > 0);
    CHECK_EQ_INT(c.status, HOIST_ERR_CANCELLED);
    hoist_store_put_item_reset(&c);
    struct hoist_info_item i = {.url = uc};
    CHECK_EQ_INT(hoist_store_info_many(store, &i, 1, 0), HOIST_ERR_S3_NO_SUCH_KEY);
    hoist_store_info_item_reset(&i);
    CHECK_EQ_INT(count_uploads(), 0);
    /* cancel a download into a file: no file, no temp */
    char out[400];
    snprintf(out, sizeof out, "%s/cancel-dir/out.bin", tmpdir);
    struct hoist_get_item gc = {.url = u, .length = -1, .dest = HOIST_DEST_FILE, .path = out};
    calls = 0;
    CHECK_EQ_INT(hoist_store_get_many(store, &gc, 1, 0, cancel_after, &calls), HOIST_ERR_CANCELLED);
    CHECK(access(out, F_OK) != 0);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/cancel-dir", tmpdir);
    DIR *d = opendir(dir);
    int entries = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) entries += e->d_name[0] != '.' || strstr(e->d_name, "hoist-") != NULL;
        closedir(d);
    }
    CHECK_EQ_INT(entries, 0);
    hoist_store_get_item_reset(&gc);
    hx_free(u);
    hx_free(uc);
    free(data);
}

static void test_errors(void) {
    /* wrong secret: a clear, immediate signature error */
    struct hoist_store_config *cfg;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ACCESS_KEY_ID, getenv("AWS_ACCESS_KEY_ID")), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_SECRET_ACCESS_KEY, "wrong-secret"), HOIST_OK);
    struct hoist_store *bad;
    CHECK_EQ_INT(hoist_store_new(cfg, &bad), HOIST_OK);
    char *u = url_of("meta/obj.json");
    struct hoist_get_item g = {.url = u, .length = -1};
    double t0 = hx_now();
    enum hoist_status st = hoist_store_get_many(bad, &g, 1, 0, NULL, NULL);
    CHECK(st == HOIST_ERR_S3_BAD_SIGNATURE || st == HOIST_ERR_S3_ACCESS_DENIED);
    CHECK(hx_now() - t0 < 10.0); /* no retry loop: 10 retries would back off for far longer */
    CHECK(strstr(hoist_errmsg(), "wrong-secret") == NULL);
    CHECK_CONTAINS(hoist_errmsg(), "meta/obj.json");
    hoist_store_get_item_reset(&g);
    hoist_store_free(bad);
    /* nothing listening: fails (after a few quick retries) with a network error */
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, "http://127.0.0.1:1"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_MAX_RETRIES, 2), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &bad), HOIST_OK);
    CHECK_EQ_INT(hoist_store_get_many(bad, &g, 1, 0, NULL, NULL), HOIST_ERR_NET);
    CHECK_CONTAINS(hoist_errmsg(), "meta/obj.json");
    hoist_store_get_item_reset(&g);
    hoist_store_free(bad);
    hoist_store_config_free(cfg);
    hx_free(u);
}

/* One client, several threads at once: each call runs its own loop. */
struct thread_job {
    int id;
    int ok;
};

static void *thread_main(void *arg) {
    struct thread_job *job = arg;
    enum { N = 60 };
    char *urls[N];
    uint8_t bodies[N][64];
    struct hoist_put_item p[N];
    struct hoist_get_item g[N];
    memset(p, 0, sizeof p);
    memset(g, 0, sizeof g);
    for (int i = 0; i < N; i++) {
        char key[64];
        snprintf(key, sizeof key, "threads/t%d/%02d", job->id, i);
        urls[i] = url_of(key);
        th_fill_bytes(bodies[i], sizeof bodies[i], (uint32_t)(job->id * 1000 + i));
        p[i] = (struct hoist_put_item){.url = urls[i], .data = bodies[i], .size = sizeof bodies[i]};
        g[i] = (struct hoist_get_item){.url = urls[i], .length = -1};
    }
    int ok = 1;
    for (int round = 0; round < 3; round++) {
        ok &= hoist_store_put_many(store, p, N, 0, NULL, NULL) == HOIST_OK;
        ok &= hoist_store_get_many(store, g, N, 0, NULL, NULL) == HOIST_OK;
        for (int i = 0; i < N; i++) {
            ok &= g[i].size == sizeof bodies[i] && memcmp(g[i].data, bodies[i], sizeof bodies[i]) == 0;
            hoist_store_get_item_reset(&g[i]);
            hoist_store_put_item_reset(&p[i]);
        }
    }
    ok &= hoist_store_delete_many(store, (const char *const *)urls, N) == HOIST_OK;
    for (int i = 0; i < N; i++) hx_free(urls[i]);
    job->ok = ok;
    return NULL;
}

static void test_threads(void) {
    pthread_t t[4];
    struct thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){.id = i};
        CHECK_EQ_INT(pthread_create(&t[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(jobs[i].ok);
    }
}

/* get_many with an auto part size reads each whole object as one stream
 * while other objects wait for a connection (one request per object), and
 * splits an object only when connections would otherwise idle. A set part
 * size is used as given. Large HOIST_DEST_ALLOC destinations are prefaulted
 * from a helper thread: the data must still be byte-exact and freeable. */
static uint64_t requests_now(struct hoist_store *s) {
    struct hoist_store_stats st;
    hoist_store_get_stats(s, &st, sizeof st);
    return st.requests;
}

static void get_plan_run_rate(int64_t concurrency, int64_t part_size, double conn_rate, char **urls, uint8_t **want,
                              size_t *sizes, size_t k, uint64_t *requests) {
    struct hoist_store_config *cfg = NULL;
    struct hoist_store *s = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_CONCURRENCY, concurrency), HOIST_OK);
    if (part_size) CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_PART_SIZE, part_size), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &s), HOIST_OK);
    hoist_store_config_free(cfg);
    if (s == NULL) return;
    if (conn_rate > 0) s->conn_rate = conn_rate;
    struct hoist_get_item g[4];
    memset(g, 0, sizeof g);
    for (size_t i = 0; i < k; i++) g[i] = (struct hoist_get_item){.url = urls[i], .length = -1};
    uint64_t r0 = requests_now(s);
    CHECK_EQ_INT(hoist_store_get_many(s, g, k, 0, NULL, NULL), HOIST_OK);
    *requests = requests_now(s) - r0;
    for (size_t i = 0; i < k; i++) {
        CHECK_EQ_INT(g[i].size, sizes[i]);
        CHECK(g[i].data != NULL && memcmp(g[i].data, want[i], sizes[i]) == 0);
        hoist_free(g[i].data); /* the documented way to free DEST_ALLOC memory */
        g[i].data = NULL;
        hoist_store_get_item_reset(&g[i]);
    }
    hoist_store_free(s);
}

static void get_plan_run(int64_t concurrency, int64_t part_size, char **urls, uint8_t **want, size_t *sizes, size_t k,
                         uint64_t *requests) {
    get_plan_run_rate(concurrency, part_size, 0, urls, want, sizes, k, requests);
}

/* A whole object of 16-64 MiB starts as one stream and is split only once
 * its rate says one stream per object falls short of concurrency x
 * conn_rate (and connections idle): a stream faster than that stays one
 * request; a slower one is cut mid-stream and the rest fetched in ranged
 * GETs, byte-exact and checked against the object's full CRC32C (the
 * joined CRCs of a probe cut after its headers, at a length not known
 * when it started). */
static void test_get_split_by_rate(void) {
    size_t n = (40u << 20) + 4321;
    uint8_t *want = malloc(n);
    th_fill_bytes(want, n, 77);
    uint64_t pps = store->put_part_size;
    store->put_part_size = 64u << 20; /* one PUT: a full-object CRC32C, not a COMPOSITE one */
    CHECK_EQ_INT(put_mem("plan/rate-40m", want, n, 0), HOIST_OK);
    store->put_part_size = pps;
    char *u = url_of("plan/rate-40m");
    uint64_t req = 0;
    /* every stream is fast enough (1 byte/s per connection is the target) */
    get_plan_run_rate(8, 0, 1.0, &u, &want, &n, 1, &req);
    CHECK_EQ_INT(req, 1);
    /* no stream is (1 PB/s per connection): cut into as many as fit */
    get_plan_run_rate(8, 0, 1e15, &u, &want, &n, 1, &req);
    CHECK(req >= 2);
    hx_free(u);
    free(want);
}

static void test_large_get_plan(void) {
    enum { K = 4 };
    size_t sizes[K] = {(10u << 20) + 1, (10u << 20) + 4097, 10u << 20, (12u << 20) + 123};
    uint8_t *want[K];
    char *urls[K];
    for (size_t i = 0; i < K; i++) {
        want[i] = malloc(sizes[i]);
        th_fill_bytes(want[i], sizes[i], 100 + (uint32_t)i);
        char key[64];
        snprintf(key, sizeof key, "plan/obj-%zu", i);
        CHECK_EQ_INT(put_mem(key, want[i], sizes[i], 0), HOIST_OK);
        urls[i] = url_of(key);
    }
    uint64_t req = 0;
    /* one connection, four objects: every object is one plain GET */
    get_plan_run(1, 0, urls, want, sizes, K, &req);
    CHECK_EQ_INT(req, K);
    /* the part size given by the caller: 8 MiB parts, two requests each */
    get_plan_run(1, 8 << 20, urls, want, sizes, K, &req);
    CHECK_EQ_INT(req, 2 * K);
    /* eight connections, one 12 MiB object: split so connections share it */
    get_plan_run(8, 0, urls + 3, want + 3, sizes + 3, 1, &req);
    CHECK(req >= 2);
    /* many connections, all four at once: still byte-exact */
    get_plan_run(25, 0, urls, want, sizes, K, &req);
    CHECK(req >= K);
    for (size_t i = 0; i < K; i++) {
        free(want[i]);
        hx_free(urls[i]);
    }
}

/* An object boto3 uploaded with a CRC32 checksum: the GET carries
 * x-amz-checksum-crc32 and hoist verifies it as bytes arrive (many write
 * callbacks for 3 MiB), so a wrong CRC32 would fail the download. */
static void test_crc32_verified(void) {
    char pybuf[512];
    const char *py = stu_venv_python(pybuf, sizeof pybuf);
    if (!py) return;
    CHECK_EQ_INT(run_boto3(py,
                           "s3.put_object(Bucket=\"%s\",Key=\"crc/crc32\",Body=bytes(range(256))*12289,"
                           "ChecksumAlgorithm=\"CRC32\")",
                           bucket),
                 0);
    size_t n = 256u * 12289u;
    char *u = url_of("crc/crc32");
    struct hoist_get_item g = {.url = u, .length = -1};
    enum hoist_status st = hoist_store_get_many(store, &g, 1, 0, NULL, NULL);
    if (st != HOIST_OK) fprintf(stderr, "  %s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK_EQ_INT(g.size, n);
    size_t bad = 0;
    const uint8_t *d = g.data;
    for (size_t i = 0; d && i < n; i++) bad += d[i] != (uint8_t)i;
    CHECK(g.data != NULL && bad == 0);
    hoist_store_get_item_reset(&g);
    hx_free(u);
}

static void test_stats(void) {
    struct hoist_store_stats s;
    hoist_store_get_stats(store, &s, sizeof s);
    CHECK(s.requests > 2000);
    CHECK(s.bytes_received > (64u << 20));
    CHECK(s.bytes_sent > (64u << 20));
}

int main(void) {
    if (!th_s3_enabled()) TEST_SKIP("HOIST_TEST_S3 is not 1 (needs the local S3 server)");
    snprintf(bucket, sizeof bucket, "hoist-store-%d-%ld", (int)getpid(), (long)(hx_now() * 1000) % 100000);
    snprintf(burl, sizeof burl, "s3://%s", bucket);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hoist-store-test-%d", (int)getpid());
    mkdir(tmpdir, 0700);
    store = stu_store_with_bucket(burl);
    if (!store) return 1;
    RUN(test_roundtrips);
    RUN(test_many_small);
    RUN(test_listing_semantics);
    RUN(test_unicode_and_odd_keys);
    RUN(test_ranges_and_missing);
    RUN(test_metadata_and_no_overwrite);
    RUN(test_header_blanks);
    RUN(test_bad_signature_message);
    RUN(test_conditional_put);
    RUN(test_metaflow_interop);
    RUN(test_multipart_and_cancel);
    RUN(test_large_get_plan);
    RUN(test_get_split_by_rate);
    RUN(test_crc32_verified);
    RUN(test_errors);
    RUN(test_threads);
    RUN(test_stats);
    /* clean up the bucket */
    stu_empty_bucket(store, burl);
    CHECK_EQ_INT(hoist_store_bucket_delete(store, burl), HOIST_OK);
    hoist_store_free(store);
    th_remove_tree(tmpdir);
    TEST_MAIN_END();
}
