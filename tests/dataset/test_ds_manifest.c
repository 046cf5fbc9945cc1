/* Unit tests of the `_SUCCESS` manifest reader (ds_manifest.c): which texts
 * are manifests, which are markers to ignore, which are rejected (hostile
 * numbers, wrong types, unsafe paths, deep nesting), and matching the listed
 * files against a listing. */
#include "dataset_internal.h"
#include "test_harness.h"

#include <stdlib.h>
#include <string.h>

static hx_status parse(const char *text, struct ds_manifest **m) {
    return hx_ds_manifest_parse(text, strlen(text), "s3://b/d/_SUCCESS", m);
}

static void test_valid(void) {
    struct ds_manifest *m = NULL;
    const char *t =
        "{\"format\": \"hoist-manifest\", \"version\": 1, \"write_id\": \"w1\","
        " \"files\": [{\"path\": \"month=11/part-w1-1.parquet\", \"rows\": 3, \"bytes\": 4567,"
        " \"partition\": {\"month\": \"11\"}},"
        " {\"path\": \"month=10/part-w1-0.parquet\"}],"
        " \"rows\": 3, \"schema\": [{\"name\": \"fare\", \"type\": \"double\"}], \"lineage\": {\"sql\": \"x\"}}";
    CHECK_EQ_INT(parse(t, &m), HOIST_OK);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_INT(m->nfiles, 2);
    /* manifest order, not sorted */
    CHECK_STR(m->files[0].path, "month=11/part-w1-1.parquet");
    CHECK_EQ_INT(m->files[0].bytes, 4567);
    CHECK_STR(m->files[1].path, "month=10/part-w1-0.parquet");
    CHECK_EQ_INT(m->files[1].bytes, -1);
    hx_ds_manifest_free(m);

    CHECK_EQ_INT(parse("{\"format\":\"hoist-manifest\",\"version\":1,\"files\":[]}", &m), HOIST_OK);
    CHECK(m != NULL && m->nfiles == 0);
    hx_ds_manifest_free(m);
}

/* Markers that are not hoist manifests: the load lists the prefix as before. */
static void test_not_a_manifest(void) {
    const char *texts[] = {
        "",   /* Spark, Hadoop */
        "\n", /* a newline only */
        "not json at all",
        "[1, 2, 3]",
        "{\"name\": \"org.apache.hadoop.fs.s3a.commit.files.SuccessData/1\", \"filenames\": [\"/x\"]}",
        "{\"format\": \"delta\", \"version\": 1, \"files\": [{\"path\": \"../x\"}]}",
        "{\"format\": 7}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct ds_manifest *m = (struct ds_manifest *)1;
        hx_status st = parse(texts[i], &m);
        if (st != HOIST_OK) fprintf(stderr, "text %zu: %s\n", i, hoist_errmsg());
        CHECK_EQ_INT(st, HOIST_OK);
        CHECK(m == NULL);
    }
}

static void expect_reject(const char *text, hx_status want, const char *needle) {
    struct ds_manifest *m = (struct ds_manifest *)1;
    hx_status st = parse(text, &m);
    if (st != want) fprintf(stderr, "%.120s -> %d %s\n", text, st, hoist_errmsg());
    CHECK_EQ_INT(st, want);
    CHECK(m == NULL);
    CHECK_CONTAINS(hoist_errmsg(), needle);
    CHECK_CONTAINS(hoist_errmsg(), "s3://b/d/_SUCCESS");
}

#define HM "{\"format\":\"hoist-manifest\",\"version\":1,"

static void test_hostile(void) {
    /* numbers */
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\",\"bytes\":123456789012345678901234567890}]}",
                  HOIST_ERR_UNSUPPORTED, "not a valid hoist manifest");
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\",\"bytes\":1e400}]}", HOIST_ERR_UNSUPPORTED,
                  "not a valid hoist manifest");
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\",\"bytes\":1e30}]}", HOIST_ERR_UNSUPPORTED, "'bytes'");
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\",\"bytes\":-1}]}", HOIST_ERR_UNSUPPORTED, "'bytes'");
    expect_reject("{\"format\":\"hoist-manifest\",\"version\":99999999999999999999999,\"files\":[]}",
                  HOIST_ERR_UNSUPPORTED, "not a valid hoist manifest");
    expect_reject("{\"format\":\"hoist-manifest\",\"version\":2,\"files\":[]}", HOIST_ERR_UNSUPPORTED, "version 2");
    /* wrong types */
    expect_reject("{\"format\":\"hoist-manifest\",\"version\":\"1\",\"files\":[]}", HOIST_ERR_UNSUPPORTED, "'version'");
    expect_reject(HM "\"files\":{\"path\":\"a.parquet\"}}", HOIST_ERR_UNSUPPORTED, "'files' is not a list");
    expect_reject(HM "\"files\":\"a.parquet\"}", HOIST_ERR_UNSUPPORTED, "'files' is not a list");
    expect_reject(HM "\"version\":1}", HOIST_ERR_UNSUPPORTED, "not a valid hoist manifest"); /* duplicate key */
    expect_reject(HM "\"files\":[\"a.parquet\"]}", HOIST_ERR_UNSUPPORTED, "files[0]: not an object");
    expect_reject(HM "\"files\":[{\"path\":7}]}", HOIST_ERR_UNSUPPORTED, "'path'");
    expect_reject(HM "\"files\":[{\"bytes\":7}]}", HOIST_ERR_UNSUPPORTED, "'path'");
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\",\"bytes\":\"7\"}]}", HOIST_ERR_UNSUPPORTED, "'bytes'");
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\"},{\"path\":\"a.parquet\"}]}", HOIST_ERR_UNSUPPORTED,
                  "listed twice");
    /* broken JSON that says it is a hoist manifest fails rather than being ignored */
    expect_reject(HM "\"files\":[{\"path\":\"a.parquet\"}", HOIST_ERR_UNSUPPORTED, "line 1");
    /* unsafe paths */
    const char *unsafe[] = {"../x.parquet",     "a/../../x.parquet", "a/..", "/etc/passwd",
                            "./a.parquet",      "a//b.parquet",      "",     "s3://other/x.parquet",
                            "a/\\u0001.parquet"};
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, HM "\"files\":[{\"path\":\"ok.parquet\"},{\"path\":\"%s\"}]}", unsafe[i]);
        expect_reject(text, HOIST_ERR_UNSAFE_KEY, "files[1] path");
    }
    expect_reject(HM "\"files\":[{\"path\":\"a\\u0000b\"}]}", HOIST_ERR_UNSUPPORTED, "not a valid hoist manifest");
    /* a path longer than any S3 key */
    char *longp = malloc(4096);
    int k = snprintf(longp, 4096, HM "\"files\":[{\"path\":\"");
    memset(longp + k, 'a', 2000);
    snprintf(longp + k + 2000, 4096 - (size_t)k - 2000, "\"}]}");
    expect_reject(longp, HOIST_ERR_UNSAFE_KEY, "longer than 1024");
    free(longp);
}

/* Deep nesting inside a manifest (and in a foreign _SUCCESS) is bounded by
 * jansson's parser depth: an error or "not a manifest", never a crash. */
static void test_deep_nesting(void) {
    size_t depth = 200000;
    size_t cap = 2 * depth + 256;
    char *t = malloc(cap);
    size_t k = (size_t)snprintf(t, cap, HM "\"lineage\":");
    for (size_t i = 0; i < depth; i++) t[k++] = '[';
    for (size_t i = 0; i < depth; i++) t[k++] = ']';
    snprintf(t + k, cap - k, ",\"files\":[]}");
    struct ds_manifest *m = NULL;
    CHECK_EQ_INT(parse(t, &m), HOIST_ERR_UNSUPPORTED);
    CHECK(m == NULL);
    CHECK_CONTAINS(hoist_errmsg(), "depth");
    free(t);
    /* The same without the marker: some other tool's file, ignored. */
    t = malloc(depth * 2 + 1);
    for (size_t i = 0; i < depth; i++) t[i] = '[';
    for (size_t i = 0; i < depth; i++) t[depth + i] = ']';
    t[2 * depth] = '\0';
    CHECK_EQ_INT(parse(t, &m), HOIST_OK);
    CHECK(m == NULL);
    free(t);
}

static void test_resolve(void) {
    struct ds_manifest *m = NULL;
    CHECK_EQ_INT(parse(HM "\"files\":[{\"path\":\"k=2/b.parquet\",\"bytes\":10},{\"path\":\"k=1/a.parquet\","
                          "\"bytes\":20}]}",
                       &m),
                 HOIST_OK);
    if (!m) return;
    struct hoist_list_entry e[] = {
        {.url = "s3://b/d/k=1/", .is_prefix = 1},           {.url = "s3://b/d/k=1/a.parquet", .size = 200},
        {.url = "s3://b/d/k=1/stray.parquet", .size = 300}, {.url = "s3://b/d/k=2/b.parquet", .size = 0},
        {.url = "s3://b/d/_SUCCESS", .size = 90},
    };
    struct hoist_list list = {e, sizeof e / sizeof e[0]};
    char **urls = NULL;
    uint64_t *sizes = NULL;
    CHECK_EQ_INT(hx_ds_manifest_resolve(m, "s3://b/d/_SUCCESS", "s3://b/d/", &list, &urls, &sizes), HOIST_OK);
    if (urls) {
        CHECK_STR(urls[0], "s3://b/d/k=2/b.parquet");
        CHECK_EQ_INT(sizes[0], 10); /* the listing says 0: the manifest's number */
        CHECK_STR(urls[1], "s3://b/d/k=1/a.parquet");
        CHECK_EQ_INT(sizes[1], 200); /* the listing wins */
        for (size_t i = 0; i < m->nfiles; i++) hx_free(urls[i]);
        hx_free(urls);
        hx_free(sizes);
    }
    /* a listed file that is gone */
    list.count = 3;
    CHECK_EQ_INT(hx_ds_manifest_resolve(m, "s3://b/d/_SUCCESS", "s3://b/d", &list, &urls, &sizes), HOIST_ERR_NOT_FOUND);
    CHECK(urls == NULL && sizes == NULL);
    CHECK_CONTAINS(hoist_errmsg(), "s3://b/d/_SUCCESS lists k=2/b.parquet, which is missing");
    hx_ds_manifest_free(m);
}

/* Every allocation failure (jansson's too) gives NOMEM or a clean result. */
static void test_alloc_failures(void) {
    const char *t = HM "\"files\":[{\"path\":\"a.parquet\",\"bytes\":1},{\"path\":\"b.parquet\"}]}";
    for (int fail_at = 1; fail_at < 200; fail_at++) {
        hx_alloc_fail_after(fail_at);
        struct ds_manifest *m = NULL;
        hx_status st = parse(t, &m);
        hx_alloc_fail_after(0);
        CHECK(st == HOIST_OK || st == HOIST_ERR_NOMEM);
        if (st == HOIST_OK) {
            CHECK(m != NULL && m->nfiles == 2);
            hx_ds_manifest_free(m);
            break;
        }
        CHECK(m == NULL);
    }
}

int main(void) {
    RUN(test_valid);
    RUN(test_not_a_manifest);
    RUN(test_hostile);
    RUN(test_deep_nesting);
    RUN(test_resolve);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
