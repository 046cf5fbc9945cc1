/* The separate multipart steps of store.h against the local S3 server
 * (skipped unless HOIST_TEST_S3=1): create, parts, list pending, complete,
 * abort, and their argument checks. */
#include "store_internal.h"
#include "test_store_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static struct hoist_store *store;
static char burl[96];

static int pending_has(const char *prefix, const char *url, const char *upload_id) {
    struct hx_store_pending_upload *up = NULL;
    size_t n = 0;
    CHECK_EQ_INT(hx_store_multipart_list(store, prefix, &up, &n), HOIST_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(up[i].url, url) == 0 && strcmp(up[i].upload_id, upload_id) == 0) found = 1;
    hx_store_pending_uploads_free(up, n);
    return found;
}

static void test_create_parts_complete(void) {
    char url[200], prefix[200];
    snprintf(url, sizeof url, "%s/mp/obj ü.bin", burl);
    snprintf(prefix, sizeof prefix, "%s/mp/", burl);
    size_t n1 = (size_t)5 << 20, n2 = 12345;
    uint8_t *data = malloc(n1 + n2);
    for (size_t i = 0; i < n1 + n2; i++) data[i] = (uint8_t)(i * 31 + (i >> 13));
    char *id = NULL;
    int ck = -1;
    CHECK_EQ_INT(hx_store_multipart_create(store, url, "application/x-test", "{\"k\": \"v\"}", &id, &ck), HOIST_OK);
    CHECK(id != NULL && id[0] != '\0');
    CHECK_EQ_INT(ck, HX_CRC_64NVME); /* SeaweedFS takes FULL_OBJECT CRC64NVME uploads */
    if (id == NULL) return;
    CHECK(pending_has(prefix, url, id));
    /* parts out of order in the array: numbers decide the layout */
    struct hx_store_part parts[2] = {{.number = 2, .data = data + n1, .size = n2},
                                     {.number = 1, .data = data, .size = n1}};
    CHECK_EQ_INT(hx_store_multipart_upload_parts(store, url, id, ck, parts, 2, NULL, NULL), HOIST_OK);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(parts[i].status, HOIST_OK);
        CHECK(parts[i].etag[0] != '\0' && strlen(parts[i].checksum) == 12); /* base64 of 8 bytes */
        CHECK(parts[i].error == NULL);
    }
    /* complete wants ascending numbers */
    CHECK_EQ_INT(hx_store_multipart_complete(store, url, id, ck, parts, 2, 0), HOIST_ERR_INVALID_ARG);
    struct hx_store_part sorted[2] = {parts[1], parts[0]};
    CHECK_EQ_INT(hx_store_multipart_complete(store, url, id, ck, sorted, 2, 0), HOIST_OK);
    CHECK(!pending_has(prefix, url, id));
    struct hoist_get_item g = {.url = url, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, 0, NULL, NULL), HOIST_OK);
    CHECK_EQ_INT(g.size, n1 + n2);
    CHECK(g.data && memcmp(g.data, data, n1 + n2) == 0);
    CHECK(g.info.content_type && strcmp(g.info.content_type, "application/x-test") == 0);
    CHECK(g.info.metadata_json && strstr(g.info.metadata_json, "\"k\"") != NULL);
    hoist_store_get_item_reset(&g);
    /* the object has a FULL_OBJECT checksum (the parts' CRCs joined): a
     * client in checksum mode "always" refuses a download it cannot verify */
    struct hoist_store_config *cfg = NULL;
    struct hoist_store *strict = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_CHECKSUM, "always"), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &strict), HOIST_OK);
    struct hoist_get_item v = {.url = url, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(strict, &v, 1, 0, NULL, NULL), HOIST_OK);
    CHECK(v.data && v.size == n1 + n2 && memcmp(v.data, data, n1 + n2) == 0);
    hoist_store_get_item_reset(&v);
    hoist_store_free(strict);
    hoist_store_config_free(cfg);
    hx_free(id);
    free(data);
}

static void test_abort_and_pending(void) {
    char url[200], prefix[200];
    snprintf(url, sizeof url, "%s/ab/x", burl);
    snprintf(prefix, sizeof prefix, "%s/ab", burl);
    char *id = NULL;
    int ck = -1;
    CHECK_EQ_INT(hx_store_multipart_create(store, url, NULL, NULL, &id, &ck), HOIST_OK);
    if (id == NULL) return;
    struct hx_store_part p = {.number = 1, .data = "tiny", .size = 4};
    CHECK_EQ_INT(hx_store_multipart_upload_parts(store, url, id, ck, &p, 1, NULL, NULL), HOIST_OK);
    CHECK(pending_has(prefix, url, id));
    CHECK(!pending_has(burl, url, "not-this-id"));
    CHECK_EQ_INT(hx_store_multipart_abort(store, url, id), HOIST_OK);
    CHECK(!pending_has(prefix, url, id));
    /* nothing became visible */
    struct hoist_info_item it = {.url = url};
    CHECK_EQ_INT(hoist_store_info_many(store, &it, 1, HOIST_RETURN_MISSING), HOIST_OK);
    CHECK_EQ_INT(it.status, HOIST_ERR_S3_NO_SUCH_KEY);
    hoist_store_info_item_reset(&it);
    /* parts of an aborted upload fail, naming the URL */
    CHECK(hx_store_multipart_upload_parts(store, url, id, ck, &p, 1, NULL, NULL) != HOIST_OK);
    CHECK(p.status != HOIST_OK && p.error != NULL);
    CHECK_CONTAINS(p.error, url);
    hx_free(p.error);
    hx_free(id);
}

/* Many uploads completed at once: each item says how it went; one whose
 * upload is gone fails alone, naming its URL, the others are published. */
static void test_complete_many(void) {
    enum { N = 5 };
    char urls[N][200];
    char *ids[N] = {0};
    int ck[N];
    struct hx_store_part parts[N];
    struct hx_store_completion items[N];
    char body[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(urls[i], sizeof urls[i], "%s/many/f%d", burl, i);
        snprintf(body[i], sizeof body[i], "body %d", i);
        CHECK_EQ_INT(hx_store_multipart_create(store, urls[i], NULL, NULL, &ids[i], &ck[i]), HOIST_OK);
        parts[i] = (struct hx_store_part){.number = 1, .data = body[i], .size = strlen(body[i])};
        CHECK_EQ_INT(hx_store_multipart_upload_parts(store, urls[i], ids[i], ck[i], &parts[i], 1, NULL, NULL),
                     HOIST_OK);
        items[i] = (struct hx_store_completion){
            .url = urls[i], .upload_id = ids[i], .checksum = ck[i], .parts = &parts[i], .nparts = 1};
    }
    CHECK_EQ_INT(hx_store_multipart_abort(store, urls[2], ids[2]), HOIST_OK);
    CHECK(hx_store_multipart_complete_many(store, items, N) != HOIST_OK);
    CHECK_CONTAINS(hoist_errmsg(), "f2");
    for (int i = 0; i < N; i++) {
        struct hoist_get_item g = {.url = urls[i], .length = -1};
        CHECK_EQ_INT(hoist_store_get_many(store, &g, 1, HOIST_RETURN_MISSING, NULL, NULL), HOIST_OK);
        if (i == 2) {
            CHECK(items[i].status != HOIST_OK && items[i].error != NULL);
            CHECK_EQ_INT(g.status, HOIST_ERR_S3_NO_SUCH_KEY);
        } else {
            CHECK_EQ_INT(items[i].status, HOIST_OK);
            CHECK(g.status == HOIST_OK && g.size == strlen(body[i]) && memcmp(g.data, body[i], g.size) == 0);
        }
        hoist_store_get_item_reset(&g);
        hx_free(items[i].error);
        hx_free(ids[i]);
    }
    CHECK_EQ_INT(hx_store_multipart_complete_many(store, NULL, 0), HOIST_OK);
}

static void test_arguments(void) {
    char *id = NULL;
    int ck;
    CHECK_EQ_INT(hx_store_multipart_create(store, "file:///tmp/x", NULL, NULL, &id, &ck), HOIST_ERR_UNSUPPORTED);
    CHECK_EQ_INT(hx_store_multipart_create(store, burl, NULL, NULL, &id, &ck), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_store_multipart_create(store, "s3://b/k", NULL, "not json", &id, &ck), HOIST_ERR_INVALID_ARG);
    CHECK(id == NULL);
    struct hx_store_part p = {.number = 0, .data = "x", .size = 1};
    CHECK_EQ_INT(hx_store_multipart_upload_parts(store, "s3://b/k", "id", HX_CRC_64NVME, &p, 1, NULL, NULL),
                 HOIST_ERR_INVALID_ARG);
    p.number = 10001;
    CHECK_EQ_INT(hx_store_multipart_upload_parts(store, "s3://b/k", "id", HX_CRC_64NVME, &p, 1, NULL, NULL),
                 HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hx_store_multipart_complete(store, "s3://b/k", "id", HX_CRC_64NVME, &p, 0, 0), HOIST_ERR_INVALID_ARG);
    struct hx_store_part noetag = {.number = 1};
    CHECK_EQ_INT(hx_store_multipart_complete(store, "s3://b/k", "id", HX_CRC_64NVME, &noetag, 1, 0),
                 HOIST_ERR_INVALID_ARG);
}

/* A store that refuses the FULL_OBJECT type and CRC64NVME (checksum_relay.py
 * --reject full-object in front of the local server): create falls back to
 * COMPOSITE CRC32C once, the client remembers it (the next create is one
 * request), and the object completes and reads back. */
static void test_full_object_refused(void) {
    const char *ep = getenv("AWS_ENDPOINT_URL");
    CHECK(ep != NULL && strncmp(ep, "http://", 7) == 0);
    if (ep == NULL || strncmp(ep, "http://", 7) != 0) return;
    const char *argv[] = {
        "python3", "tests/s3/checksum_relay.py", "--upstream", ep + 7, "--reject", "full-object", "--until-killed",
        NULL};
    pid_t pid = 0;
    int port = stu_spawn_port(argv, &pid);
    CHECK(port > 0);
    if (port <= 0) return;
    char relay[64], url[200];
    snprintf(relay, sizeof relay, "http://127.0.0.1:%d", port);
    snprintf(url, sizeof url, "%s/refused/obj", burl);
    struct hoist_store_config *cfg = NULL;
    struct hoist_store *s = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, relay), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &s), HOIST_OK);
    hoist_store_config_free(cfg);
    size_t n1 = (size_t)5 << 20, n2 = 999;
    uint8_t *data = malloc(n1 + n2);
    for (size_t i = 0; i < n1 + n2; i++) data[i] = (uint8_t)(i * 13 + (i >> 11));
    struct hoist_store_stats before, after;
    hoist_store_get_stats(s, &before, sizeof before);
    char *id = NULL;
    int ck = -1;
    CHECK_EQ_INT(hx_store_multipart_create(s, url, NULL, NULL, &id, &ck), HOIST_OK);
    hoist_store_get_stats(s, &after, sizeof after);
    CHECK_EQ_INT(ck, HX_CRC_32C);
    CHECK_EQ_INT(after.requests - before.requests, 2); /* refused, then the older way */
    struct hx_store_part parts[2] = {{.number = 1, .data = data, .size = n1},
                                     {.number = 2, .data = data + n1, .size = n2}};
    CHECK_EQ_INT(hx_store_multipart_upload_parts(s, url, id, ck, parts, 2, NULL, NULL), HOIST_OK);
    CHECK(strlen(parts[0].checksum) == 8 && strlen(parts[1].checksum) == 8); /* CRC32C */
    CHECK_EQ_INT(hx_store_multipart_complete(s, url, id, ck, parts, 2, 0), HOIST_OK);
    struct hoist_get_item g = {.url = url, .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(s, &g, 1, 0, NULL, NULL), HOIST_OK);
    CHECK(g.data && g.size == n1 + n2 && memcmp(g.data, data, n1 + n2) == 0);
    hoist_store_get_item_reset(&g);
    hx_free(id);
    /* remembered: the next upload starts the older way at once */
    hoist_store_get_stats(s, &before, sizeof before);
    CHECK_EQ_INT(hx_store_multipart_create(s, url, NULL, NULL, &id, &ck), HOIST_OK);
    hoist_store_get_stats(s, &after, sizeof after);
    CHECK_EQ_INT(ck, HX_CRC_32C);
    CHECK_EQ_INT(after.requests - before.requests, 1);
    if (id) CHECK_EQ_INT(hx_store_multipart_abort(s, url, id), HOIST_OK);
    hx_free(id);
    hoist_store_free(s);
    free(data);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int main(void) {
    if (!th_s3_enabled()) TEST_SKIP("HOIST_TEST_S3 is not 1 (needs the local S3 server)");
    stu_bucket_url(burl, sizeof burl, "hoist-mpu");
    store = stu_store_with_bucket(burl);
    if (!store) return 1;
    RUN(test_create_parts_complete);
    RUN(test_abort_and_pending);
    RUN(test_full_object_refused);
    RUN(test_complete_many);
    RUN(test_arguments);
    /* leave nothing behind: pending uploads, objects, the bucket */
    struct hx_store_pending_upload *up = NULL;
    size_t n = 0;
    if (hx_store_multipart_list(store, burl, &up, &n) == HOIST_OK)
        for (size_t i = 0; i < n; i++)
            CHECK_EQ_INT(hx_store_multipart_abort(store, up[i].url, up[i].upload_id), HOIST_OK);
    hx_store_pending_uploads_free(up, n);
    stu_empty_bucket(store, burl);
    CHECK_EQ_INT(hoist_store_bucket_delete(store, burl), HOIST_OK);
    hoist_store_free(store);
    TEST_MAIN_END();
}
