/* Partition columns (ds_arrow.c): a Hive key's value parsed as its column's
 * type and repeated for every row; a value that does not parse is refused. */
#include "dataset_internal.h"
#include "test_harness.h"

#include <string.h>

static void test_partition_columns(void) {
    struct ArrowArray out;
    CHECK_EQ_INT(hx_ds_array_const(DS_PT_STRING, "CRD", 4, &out), HOIST_OK);
    CHECK(memcmp(out.buffers[2], "CRDCRDCRDCRD", 12) == 0);
    CHECK_EQ_INT(((const int32_t *)out.buffers[1])[4], 12);
    CHECK(out.buffers[0] == NULL);
    out.release(&out);
    CHECK_EQ_INT(hx_ds_array_const(DS_PT_DATE32, "1970-01-11", 3, &out), HOIST_OK);
    CHECK_EQ_INT(((const int32_t *)out.buffers[1])[2], 10);
    out.release(&out);
    CHECK_EQ_INT(hx_ds_array_const(DS_PT_INT64, "-9000000000", 2, &out), HOIST_OK);
    CHECK_EQ_INT(((const int64_t *)out.buffers[1])[1], -9000000000LL);
    out.release(&out);
    CHECK_EQ_INT(hx_ds_array_const(DS_PT_INT32, NULL, 3, &out), HOIST_OK);
    CHECK_EQ_INT(out.null_count, 3);
    out.release(&out);
    CHECK_EQ_INT(hx_ds_array_const(DS_PT_INT32, "x", 3, &out), HOIST_ERR_SCHEMA_MISMATCH);
    CHECK_CONTAINS(hoist_errmsg(), "'x'");
}

int main(void) {
    RUN(test_partition_columns);
    TEST_MAIN_END();
}
