/* Tests for src/dataset/ds_pq_file.c: hoist_pq_reader_open_file maps the
 * file, hands the mapping to the reader, and the mapping goes away exactly
 * when the reader and its streams are done (checked in /proc/self/maps),
 * on success and on every failure path. */
#include "test_harness.h"
#include "util_internal.h"

static const char *testdata(void) {
    const char *t = getenv("HOIST_TESTDATA");
    return t ? t : "../shared/testdata";
}

/* Whether path is mapped into this process. */
static int is_mapped(const char *path) {
    FILE *fp = fopen("/proc/self/maps", "r");
    if (!fp) return -1;
    char line[4096];
    int found = 0;
    size_t pl = strlen(path);
    while (fgets(line, sizeof line, fp)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n')) line[--l] = '\0';
        if (l >= pl && strcmp(line + l - pl, path) == 0) found = 1;
    }
    fclose(fp);
    return found;
}

static char *real_path(const char *rel) {
    char *p = hx_asprintf("%s/%s", testdata(), rel);
    char *r = realpath(p, NULL); /* /proc/self/maps shows the resolved path */
    hx_free(p);
    return r;
}

static void test_mapping_lives_as_long_as_its_users(void) {
    char *p = real_path("parquet-testing/data/alltypes_plain.parquet");
    if (!p || is_mapped("/") < 0) {
        fprintf(stderr, "skip: no test data or no /proc/self/maps\n");
        free(p);
        return;
    }
    struct hoist_pq_reader *r;
    CHECK_EQ_INT(hoist_pq_reader_open_file(p, 0, &r), HOIST_OK);
    CHECK_EQ_INT(is_mapped(p), 1);
    CHECK_EQ_INT(hoist_pq_file_num_rows(hoist_pq_reader_file(r)), 8);
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &s), HOIST_OK);
    hoist_pq_reader_close(r);
    CHECK_EQ_INT(is_mapped(p), 1); /* the stream still reads it */
    struct ArrowArray a;
    int64_t rows = 0;
    while (s.get_next(&s, &a) == 0 && a.release) {
        rows += a.length;
        a.release(&a);
    }
    CHECK_EQ_INT(rows, 8);
    s.release(&s);
    CHECK_EQ_INT(is_mapped(p), 0);
    free(p);
}

static void test_failures_unmap(void) {
    char *p = real_path("parquet-testing/data/alltypes_plain.parquet");
    if (!p) return;
    int succeeded = 0;
    for (uint64_t k = 1; k < 500 && !succeeded; k++) {
        hx_alloc_fail_after(k);
        struct hoist_pq_reader *r = (struct hoist_pq_reader *)1;
        hx_status st = hoist_pq_reader_open_file(p, 0, &r);
        hx_alloc_fail_after(0);
        if (st == HOIST_OK) {
            succeeded = 1;
            hoist_pq_reader_close(r);
        } else {
            CHECK_EQ_INT(st, HOIST_ERR_NOMEM);
            CHECK(r == NULL);
        }
        CHECK_EQ_INT(is_mapped(p), 0);
    }
    CHECK(succeeded);
    free(p);
}

static void test_open_errors(void) {
    struct hoist_pq_reader *r = (struct hoist_pq_reader *)1;
    CHECK_EQ_INT(hoist_pq_reader_open_file("/nonexistent/x.parquet", 0, &r), HOIST_ERR_NOT_FOUND);
    CHECK(r == NULL);
    CHECK_CONTAINS(hoist_errmsg(), "/nonexistent/x.parquet");
    CHECK_EQ_INT(hoist_pq_reader_open_file(NULL, 0, &r), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_pq_reader_open_file("/tmp", 0, &r), HOIST_ERR_IO);
    /* a file that is not Parquet: the codec's status, the path in the message */
    char *p = real_path("README.md");
    if (p) {
        CHECK_EQ_INT(hoist_pq_reader_open_file(p, 0, &r), HOIST_ERR_PARQUET_NOT_PARQUET);
        CHECK_CONTAINS(hoist_errmsg(), p);
        CHECK_EQ_INT(is_mapped(p), 0);
        free(p);
    }
}

int main(void) {
    RUN(test_mapping_lives_as_long_as_its_users);
    RUN(test_failures_unmap);
    RUN(test_open_errors);
    TEST_MAIN_END();
}
