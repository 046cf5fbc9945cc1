/* Tests for hoist_status_class / hoist_status_class_name (src/util/error.c):
 * every status has the class docs/errors.md gives it, and no status is
 * left out (a scan of the pinned ranges finds every code hoist_strerror
 * knows and requires it in the table below). */
#include "test_harness.h"
#include "util_internal.h"

static const struct {
    enum hoist_status status;
    enum hoist_status_class cls;
} expected[] = {
    {HOIST_OK, HOIST_CLASS_OK},
    {HOIST_ERR_NOMEM, HOIST_CLASS_RESOURCE},
    {HOIST_ERR_INVALID_ARG, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_IO, HOIST_CLASS_IO},
    {HOIST_ERR_UNSUPPORTED, HOIST_CLASS_UNSUPPORTED},
    {HOIST_ERR_CANCELLED, HOIST_CLASS_CANCELLED},
    {HOIST_ERR_INTERNAL, HOIST_CLASS_INTERNAL},
    {HOIST_ERR_LIMIT, HOIST_CLASS_RESOURCE},
    {HOIST_ERR_USAGE, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_NOT_FOUND, HOIST_CLASS_NOT_FOUND},
    {HOIST_ERR_EXISTS, HOIST_CLASS_EXISTS},
    {HOIST_ERR_NET, HOIST_CLASS_TRANSIENT},
    {HOIST_ERR_TLS, HOIST_CLASS_ACCESS},
    {HOIST_ERR_HTTP, HOIST_CLASS_REMOTE},
    {HOIST_ERR_S3_NO_SUCH_KEY, HOIST_CLASS_NOT_FOUND},
    {HOIST_ERR_S3_NO_SUCH_BUCKET, HOIST_CLASS_NOT_FOUND},
    {HOIST_ERR_S3_ACCESS_DENIED, HOIST_CLASS_ACCESS},
    {HOIST_ERR_S3_BAD_SIGNATURE, HOIST_CLASS_ACCESS},
    {HOIST_ERR_S3_INVALID_RANGE, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_S3_SLOW_DOWN, HOIST_CLASS_TRANSIENT},
    {HOIST_ERR_S3_SERVER, HOIST_CLASS_TRANSIENT},
    {HOIST_ERR_S3_TIMEOUT, HOIST_CLASS_TRANSIENT},
    {HOIST_ERR_S3_PRECONDITION, HOIST_CLASS_EXISTS},
    {HOIST_ERR_S3_BAD_RESPONSE, HOIST_CLASS_CORRUPT_DATA},
    {HOIST_ERR_BAD_URL, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_CREDENTIALS, HOIST_CLASS_ACCESS},
    {HOIST_ERR_UNSAFE_KEY, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_S3_BUCKET_NOT_EMPTY, HOIST_CLASS_EXISTS},
    {HOIST_ERR_S3_BUCKET_EXISTS, HOIST_CLASS_EXISTS},
    {HOIST_ERR_S3_OTHER, HOIST_CLASS_REMOTE},
    {HOIST_ERR_PARQUET_CORRUPT, HOIST_CLASS_CORRUPT_DATA},
    {HOIST_ERR_PARQUET_UNSUPPORTED, HOIST_CLASS_UNSUPPORTED},
    {HOIST_ERR_PARQUET_ENCRYPTED, HOIST_CLASS_UNSUPPORTED},
    {HOIST_ERR_PARQUET_CHECKSUM, HOIST_CLASS_CORRUPT_DATA},
    {HOIST_ERR_PARQUET_NOT_PARQUET, HOIST_CLASS_CORRUPT_DATA},
    {HOIST_ERR_COLUMN_NOT_FOUND, HOIST_CLASS_NOT_FOUND},
    {HOIST_ERR_CSV_PARSE, HOIST_CLASS_CORRUPT_DATA},
    {HOIST_ERR_ARROW_INVALID, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_ARROW_TYPE, HOIST_CLASS_UNSUPPORTED},
    {HOIST_ERR_SCHEMA_MISMATCH, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_FILTER, HOIST_CLASS_INVALID_INPUT},
    {HOIST_ERR_EMPTY_DATASET, HOIST_CLASS_NOT_FOUND},
    {HOIST_ERR_ICEBERG_CORRUPT, HOIST_CLASS_CORRUPT_DATA},
};
enum { N_EXPECTED = sizeof expected / sizeof expected[0] };
enum { N_CLASSES = HOIST_CLASS_REMOTE + 1 };

static void test_every_status_has_its_class(void) {
    for (int i = 0; i < N_EXPECTED; i++) {
        enum hoist_status_class got = hoist_status_class(expected[i].status);
        if (got != expected[i].cls)
            fprintf(stderr, "status %d (%s): class %s, expected %s\n", (int)expected[i].status,
                    hoist_strerror(expected[i].status), hoist_status_class_name(got),
                    hoist_status_class_name(expected[i].cls));
        CHECK_EQ_INT(got, expected[i].cls);
    }
}

/* Every code hoist_strerror knows (the pinned ranges end below 1000) must
 * be in the table, so a new status cannot ship without a tested class. */
static void test_table_covers_every_status(void) {
    int known = 0;
    for (int code = 0; code < 1000; code++) {
        if (strcmp(hoist_strerror((enum hoist_status)code), "unknown status") == 0) continue;
        known++;
        int found = 0;
        for (int i = 0; i < N_EXPECTED; i++) found |= (int)expected[i].status == code;
        if (!found) fprintf(stderr, "status %d (%s) has no expected class\n", code, hoist_strerror(code));
        CHECK(found);
    }
    CHECK_EQ_INT(known, N_EXPECTED);
}

static void test_unknown_status_is_internal(void) {
    CHECK_EQ_INT(hoist_status_class((enum hoist_status)12345), HOIST_CLASS_INTERNAL);
    CHECK_EQ_INT(hoist_status_class((enum hoist_status) - 1), HOIST_CLASS_INTERNAL);
    CHECK_EQ_INT(hoist_status_class((enum hoist_status)99), HOIST_CLASS_INTERNAL);
}

static void test_class_names(void) {
    CHECK_STR(hoist_status_class_name(HOIST_CLASS_OK), "ok");
    CHECK_STR(hoist_status_class_name(HOIST_CLASS_NOT_FOUND), "not_found");
    CHECK_STR(hoist_status_class_name(HOIST_CLASS_TRANSIENT), "transient");
    CHECK_STR(hoist_status_class_name(HOIST_CLASS_REMOTE), "remote");
    CHECK_STR(hoist_status_class_name((enum hoist_status_class)N_CLASSES), "unknown");
    CHECK_STR(hoist_status_class_name((enum hoist_status_class) - 1), "unknown");
    /* names are distinct, and every class is used by some status */
    for (int c = 0; c < N_CLASSES; c++) {
        const char *name = hoist_status_class_name((enum hoist_status_class)c);
        CHECK(strcmp(name, "unknown") != 0);
        for (int d = 0; d < c; d++) CHECK(strcmp(name, hoist_status_class_name((enum hoist_status_class)d)) != 0);
        int used = 0;
        for (int i = 0; i < N_EXPECTED; i++) used |= (int)expected[i].cls == c;
        if (!used) fprintf(stderr, "class %s has no status\n", name);
        CHECK(used);
    }
}

int main(void) {
    RUN(test_every_status_has_its_class);
    RUN(test_table_covers_every_status);
    RUN(test_unknown_status_is_internal);
    RUN(test_class_names);
    TEST_MAIN_END();
}
