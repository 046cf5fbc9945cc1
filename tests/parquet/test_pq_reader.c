/* Tests for hx_pq_reader_open_owned (src/parquet/pq_reader.c): the reader
 * calls the release hook exactly once, after the reader and every stream
 * made from it are done, and before returning when the open fails. */
#include "parquet_internal.h"
#include "test_harness.h"

static const char *testdata(void) {
    const char *t = getenv("HOIST_TESTDATA");
    return t ? t : "../shared/testdata";
}

struct owned {
    uint8_t *bytes;
    int released;
};

static void release_owned(void *ud) {
    struct owned *o = ud;
    o->released++;
    hx_free(o->bytes);
    o->bytes = NULL;
}

/* The whole of a test file in an hx_malloc'd buffer, or NULL. */
static uint8_t *read_file(const char *rel, size_t *len) {
    char *p = hx_asprintf("%s/%s", testdata(), rel);
    FILE *fp = p ? fopen(p, "rb") : NULL;
    hx_free(p);
    if (!fp) return NULL;
    uint8_t *b = hx_malloc(1 << 20);
    *len = b ? fread(b, 1, 1 << 20, fp) : 0;
    fclose(fp);
    return b;
}

static void test_release_after_last_user(void) {
    size_t n;
    struct owned o = {read_file("parquet-testing/data/alltypes_plain.parquet", &n), 0};
    if (!o.bytes) {
        fprintf(stderr, "skip: no test data\n");
        return;
    }
    struct hoist_pq_reader *r;
    CHECK_EQ_INT(hx_pq_reader_open_owned(o.bytes, n, "owned", 0, release_owned, &o, &r), HOIST_OK);
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &s), HOIST_OK);
    hoist_pq_reader_close(r);
    CHECK_EQ_INT(o.released, 0); /* the stream still reads the bytes */
    struct ArrowArray a;
    int64_t rows = 0;
    while (s.get_next(&s, &a) == 0 && a.release) {
        rows += a.length;
        a.release(&a);
    }
    CHECK_EQ_INT(rows, 8);
    s.release(&s);
    CHECK_EQ_INT(o.released, 1);
}

static void test_release_on_failure(void) {
    struct owned o = {hx_malloc(64), 0};
    memset(o.bytes, 'x', 64);
    struct hoist_pq_reader *r = (struct hoist_pq_reader *)1;
    CHECK_EQ_INT(hx_pq_reader_open_owned(o.bytes, 64, "junk", 0, release_owned, &o, &r), HOIST_ERR_PARQUET_NOT_PARQUET);
    CHECK(r == NULL);
    CHECK_EQ_INT(o.released, 1);
    CHECK_CONTAINS(hoist_errmsg(), "junk");

    o = (struct owned){hx_malloc(1), 0};
    CHECK_EQ_INT(hx_pq_reader_open_owned(o.bytes, 1, "x", 0, release_owned, &o, NULL), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(o.released, 1);
    o = (struct owned){NULL, 0};
    CHECK_EQ_INT(hx_pq_reader_open_owned(NULL, 5, "x", 0, release_owned, &o, &r), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(o.released, 1);
    CHECK(r == NULL);
}

static void test_release_on_allocation_failure(void) {
    size_t n;
    uint8_t *ref = read_file("parquet-testing/data/alltypes_plain.parquet", &n);
    if (!ref) return;
    int succeeded = 0;
    for (uint64_t k = 1; k < 500 && !succeeded; k++) {
        struct owned o = {hx_malloc(n), 0};
        CHECK(o.bytes != NULL);
        if (!o.bytes) break;
        memcpy(o.bytes, ref, n);
        struct hoist_pq_reader *r;
        hx_alloc_fail_after(k);
        hx_status st = hx_pq_reader_open_owned(o.bytes, n, "m", 0, release_owned, &o, &r);
        hx_alloc_fail_after(0);
        if (st == HOIST_OK) {
            succeeded = 1;
            CHECK_EQ_INT(o.released, 0);
            hoist_pq_reader_close(r);
        } else {
            CHECK_EQ_INT(st, HOIST_ERR_NOMEM);
        }
        CHECK_EQ_INT(o.released, 1);
    }
    CHECK(succeeded);
    hx_free(ref);
}

int main(void) {
    RUN(test_release_after_last_user);
    RUN(test_release_on_failure);
    RUN(test_release_on_allocation_failure);
    TEST_MAIN_END();
}
