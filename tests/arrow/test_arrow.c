/* Arrow C Data plumbing (arrow.c): schemas, metadata, arrays, aligned
 * buffers, bitmaps. */
#include "arrow.h"
#include "test_harness.h"

static void test_schema_build_copy(void) {
    struct ArrowSchema s, c;
    CHECK_EQ_INT(hx_arrow_schema_init(&s, "+s", "root", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(&s, 2), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s.children[0], "u", "name", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s.children[1], "i", "dict", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_dictionary(s.children[1]), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s.children[1]->dictionary, "u", NULL, 0), HOIST_OK);
    struct hx_buf md = {0};
    CHECK_EQ_INT(hx_arrow_metadata_begin(&md), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_metadata_add(&md, "k", 1, "value", 5), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_metadata_add(&md, "empty", 5, "", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_set_metadata(&s, md.data, md.len), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_metadata_size(s.metadata), md.len);
    int32_t n;
    memcpy(&n, s.metadata, 4);
    CHECK_EQ_INT(n, 2);
    hx_buf_reset(&md);
    CHECK_EQ_INT(hx_arrow_schema_copy(&s, &c), HOIST_OK);
    s.release(&s);
    CHECK(s.release == NULL);
    CHECK_STR(c.format, "+s");
    CHECK_STR(c.children[0]->name, "name");
    CHECK_EQ_INT(c.children[0]->flags, ARROW_FLAG_NULLABLE);
    CHECK_STR(c.children[1]->dictionary->format, "u");
    CHECK(c.children[1]->dictionary->name == NULL);
    CHECK_EQ_INT(hx_arrow_metadata_size(c.metadata), 4 + 4 + 1 + 4 + 5 + 4 + 5 + 4 + 0);
    c.release(&c);
}

static void test_array_and_bitmap(void) {
    struct ArrowArray a;
    CHECK_EQ_INT(hx_arrow_array_init(&a, 10, 2, 1), HOIST_OK);
    uint8_t *bits = hx_aligned_alloc(64);
    CHECK(((uintptr_t)bits & 63) == 0);
    memset(bits, 0, 64);
    bits[0] = 0xff;
    bits[1] = 0x01; /* 9 valid of 10 */
    CHECK_EQ_INT(hx_arrow_bitmap_count_nulls(bits, 10), 1);
    CHECK_EQ_INT(hx_arrow_bitmap_count_nulls(bits, 8), 0);
    hx_arrow_array_set_buffer(&a, 0, bits);
    CHECK(a.buffers[0] == bits);
    CHECK(a.children[0] != NULL && a.children[0]->release == NULL);
    CHECK_EQ_INT(hx_arrow_array_init(a.children[0], 3, 0, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_dictionary(&a), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_init(a.dictionary, 0, 3, 0), HOIST_OK);
    a.release(&a);
    CHECK(a.release == NULL);
}

static void test_abuf_growth(void) {
    struct hx_arrow_buf b = {0};
    for (int i = 0; i < 1000; i++) {
        CHECK_EQ_INT(hx_arrow_buf_reserve(&b, 7), HOIST_OK);
        memset(b.data + b.len, i & 0xff, 7);
        b.len += 7;
    }
    CHECK(b.cap >= b.len + 64);
    CHECK(((uintptr_t)b.data & 63) == 0);
    CHECK_EQ_INT(b.data[7 * 999], 999 & 0xff);
    void *p = hx_arrow_buf_detach(&b);
    CHECK(b.data == NULL && b.len == 0);
    hx_aligned_free(p);
    CHECK_EQ_INT(hx_arrow_buf_reserve(&b, SIZE_MAX - 10), HOIST_ERR_LIMIT);
    hx_arrow_buf_reset(&b);
}

static void test_alloc_failures(void) {
    /* Every allocation of a small schema build can fail without leaking. */
    for (uint64_t n = 1; n < 40; n++) {
        struct ArrowSchema s;
        hx_alloc_fail_after(n);
        hx_status st = hx_arrow_schema_init(&s, "+s", "r", 0);
        if (st == HOIST_OK) {
            st = hx_arrow_schema_alloc_children(&s, 3);
            for (int i = 0; st == HOIST_OK && i < 3; i++) st = hx_arrow_schema_init(s.children[i], "l", "c", 0);
            struct ArrowSchema c;
            if (st == HOIST_OK && hx_arrow_schema_copy(&s, &c) == HOIST_OK) c.release(&c);
            s.release(&s);
        }
        hx_alloc_fail_after(0);
    }
    CHECK(1);
}

static void test_schema_copy_alloc_failures(void) {
    struct ArrowSchema a = {.format = "i", .name = "a"}, b = {.format = "u", .name = "b"};
    struct ArrowSchema *ch[2] = {&a, &b};
    struct ArrowSchema st = {.format = "+s", .name = "", .n_children = 2, .children = ch};
    for (uint64_t k = 1; k < 100; k++) {
        struct ArrowSchema out = {0};
        hx_alloc_fail_after(k);
        hx_status s = hx_arrow_schema_copy(&st, &out);
        hx_alloc_fail_after(0);
        CHECK(s == HOIST_OK || s == HOIST_ERR_NOMEM);
        if (s == HOIST_OK) {
            CHECK_STR(out.children[1]->name, "b");
            out.release(&out);
            break;
        }
    }
}

/* One parser of the C Data Interface unit letters for the writer's schema,
 * ARROW:schema and manifest code (they had three). */
static void test_time_units(void) {
    CHECK_EQ_INT(hx_arrow_time_unit('s'), HX_UNIT_S);
    CHECK_EQ_INT(hx_arrow_time_unit('m'), HX_UNIT_MS);
    CHECK_EQ_INT(hx_arrow_time_unit('u'), HX_UNIT_US);
    CHECK_EQ_INT(hx_arrow_time_unit('n'), HX_UNIT_NS);
    CHECK_EQ_INT(hx_arrow_time_unit('x'), -1);
    CHECK_EQ_INT(hx_arrow_time_unit('\0'), -1); /* "ts" cut short */
    for (int u = 0; u < 4; u++) CHECK_EQ_INT(hx_arrow_time_unit(hx_arrow_time_unit_char(u)), u);
    CHECK_EQ_INT(hx_arrow_time_unit_char(4), 0);
    CHECK_STR(hx_arrow_time_unit_name(HX_UNIT_MS), "ms");
    CHECK_STR(hx_arrow_time_unit_name(HX_UNIT_NS), "ns");
    CHECK(hx_arrow_time_unit_name(-1) == NULL);
}

int main(void) {
    RUN(test_time_units);
    RUN(test_schema_build_copy);
    RUN(test_array_and_bitmap);
    RUN(test_abuf_growth);
    RUN(test_schema_copy_alloc_failures);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
