/* The array builders (arrow_build.c): all-null columns of flat, nested and
 * dictionary types, constant columns, struct batches and schemas that take
 * their children, byte counts, and that failed allocations leak nothing. */
#include "arrow.h"
#include "test_harness.h"

#include <string.h>

static void test_nulls(void) {
    struct ArrowSchema is = {.format = "tsu:"};
    struct ArrowSchema *isp[1] = {&is};
    struct ArrowSchema st = {.format = "+s", .n_children = 1, .children = isp};
    struct ArrowArray out;
    CHECK_EQ_INT(hx_arrow_array_nulls(&st, 10, &out), HOIST_OK);
    CHECK_EQ_INT(out.null_count, 10);
    CHECK_EQ_INT(out.children[0]->length, 10);
    CHECK_EQ_INT(out.children[0]->null_count, 10);
    CHECK_EQ_INT(((const uint8_t *)out.children[0]->buffers[0])[1], 0); /* validity all zero */
    out.release(&out);
    struct ArrowSchema fsl = {.format = "+w:3"};
    CHECK_EQ_INT(hx_arrow_array_nulls(&fsl, 2, &out), HOIST_ERR_ARROW_TYPE); /* no child schema */
    struct ArrowSchema item = {.format = "u"};
    struct ArrowSchema *itp[1] = {&item};
    fsl.n_children = 1;
    fsl.children = itp;
    CHECK_EQ_INT(hx_arrow_array_nulls(&fsl, 2, &out), HOIST_OK);
    CHECK_EQ_INT(out.children[0]->length, 6); /* a fixed-size list's child has size * length rows */
    CHECK_EQ_INT(((const int32_t *)out.children[0]->buffers[1])[6], 0);
    out.release(&out);
    struct ArrowSchema dv = {.format = "u"};
    struct ArrowSchema ds = {.format = "i", .dictionary = &dv};
    CHECK_EQ_INT(hx_arrow_array_nulls(&ds, 4, &out), HOIST_OK);
    CHECK(out.dictionary != NULL && out.dictionary->length == 0);
    CHECK_EQ_INT(out.null_count, 4);
    out.release(&out);
}

static void test_const(void) {
    struct ArrowArray out;
    CHECK_EQ_INT(hx_arrow_array_const_string("CRD", 4, &out), HOIST_OK);
    CHECK(memcmp(out.buffers[2], "CRDCRDCRDCRD", 12) == 0);
    CHECK_EQ_INT(((const int32_t *)out.buffers[1])[4], 12);
    CHECK(out.buffers[0] == NULL);
    CHECK_EQ_INT(out.null_count, 0);
    out.release(&out);
    CHECK_EQ_INT(hx_arrow_array_const_string(NULL, 5, &out), HOIST_OK);
    CHECK_EQ_INT(out.null_count, 5);
    CHECK_EQ_INT(((const int32_t *)out.buffers[1])[5], 0);
    out.release(&out);
    int64_t v = -7;
    CHECK_EQ_INT(hx_arrow_array_const_fixed(&v, 8, 3, &out), HOIST_OK);
    CHECK_EQ_INT(((const int64_t *)out.buffers[1])[2], -7);
    out.release(&out);
    uint16_t h = 0xBEEF;
    CHECK_EQ_INT(hx_arrow_array_const_fixed(&h, 2, 3, &out), HOIST_OK);
    CHECK_EQ_INT(((const uint16_t *)out.buffers[1])[1], 0xBEEF);
    out.release(&out);
    CHECK_EQ_INT(hx_arrow_array_const_fixed(NULL, 4, 9, &out), HOIST_OK);
    CHECK_EQ_INT(out.null_count, 9);
    out.release(&out);
    CHECK_EQ_INT(hx_arrow_array_const_fixed(&v, 3, 1, &out), HOIST_ERR_INVALID_ARG);
    CHECK(out.release == NULL);
}

static void test_struct_and_bytes(void) {
    struct ArrowArray cols[2], batch;
    int32_t v = 5;
    CHECK_EQ_INT(hx_arrow_array_const_fixed(&v, 4, 4, &cols[0]), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_const_string("ab", 4, &cols[1]), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_struct(cols, 2, 4, &batch), HOIST_OK);
    CHECK(cols[0].release == NULL && cols[1].release == NULL); /* moved */
    CHECK_EQ_INT(batch.n_children, 2);
    CHECK(batch.buffers[0] == NULL);
    struct ArrowSchema fields[2], schema;
    CHECK_EQ_INT(hx_arrow_schema_init(&fields[0], "i", "x", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(&fields[1], "u", "s", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_struct(fields, 2, &schema), HOIST_OK);
    CHECK(fields[0].release == NULL);
    CHECK_STR(schema.format, "+s");
    CHECK_STR(schema.children[1]->name, "s");
    /* 4 int32 + (5 offsets + 8 bytes of "abababab") */
    CHECK_EQ_INT(hx_arrow_array_bytes(&batch, &schema), 16 + 20 + 8);
    batch.release(&batch);
    schema.release(&schema);
}

/* Every allocation of a nested null column and of a struct build can fail:
 * the status says so and ASan finds no leak (the children given to a
 * struct are released when it fails). */
static void test_alloc_failures(void) {
    struct ArrowSchema lc = {.format = "l"};
    struct ArrowSchema *lcp[1] = {&lc};
    struct ArrowSchema list = {.format = "+l", .n_children = 1, .children = lcp};
    struct ArrowSchema *sp[2] = {&list, &lc};
    struct ArrowSchema st = {.format = "+s", .n_children = 2, .children = sp};
    bool done = false;
    for (uint64_t k = 1; k < 100 && !done; k++) {
        struct ArrowArray out, cols[2];
        int64_t v = 1;
        hx_alloc_fail_after(k);
        hx_status s = hx_arrow_array_nulls(&st, 100, &out);
        if (s == HOIST_OK) out.release(&out);
        hx_status s2 = hx_arrow_array_const_fixed(&v, 8, 3, &cols[0]);
        if (s2 == HOIST_OK)
            s2 = hx_arrow_array_const_fixed(&v, 8, 3, &cols[1]);
        else
            cols[1].release = NULL;
        if (s2 == HOIST_OK)
            s2 = hx_arrow_array_struct(cols, 2, 3, &out);
        else if (cols[0].release)
            cols[0].release(&cols[0]);
        hx_alloc_fail_after(0);
        CHECK(s == HOIST_OK || s == HOIST_ERR_NOMEM);
        CHECK(s2 == HOIST_OK || s2 == HOIST_ERR_NOMEM);
        if (s2 == HOIST_OK) out.release(&out);
        done = s == HOIST_OK && s2 == HOIST_OK;
    }
    CHECK(done);
}

int main(void) {
    RUN(test_nulls);
    RUN(test_const);
    RUN(test_struct_and_bytes);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
