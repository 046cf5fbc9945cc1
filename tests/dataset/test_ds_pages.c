/* Unit tests of the pure pieces of page skipping: cutting a row group into
 * segments at the page starts of several columns, and building the row
 * selection from the segments the filter may match. */
#include "dataset_internal.h"
#include "test_harness.h"

#include <string.h>

static void test_segment_starts(void) {
    /* Two columns: pages at 0, 100, 250 and at 0, 120, 250, 400 (rows 500). */
    int64_t s[8] = {0, 100, 250, 0, 120, 250, 400};
    size_t n = hx_ds_segment_starts(s, 7, 500);
    CHECK_EQ_INT(n, 5);
    int64_t want[] = {0, 100, 120, 250, 400};
    for (size_t i = 0; i < 5; i++) CHECK_EQ_INT(s[i], want[i]);
    /* Out-of-range starts are dropped and 0 is always there. */
    int64_t t[5] = {700, 30, -4, 30};
    n = hx_ds_segment_starts(t, 4, 500);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(t[0], 0);
    CHECK_EQ_INT(t[1], 30);
    int64_t e[1] = {0};
    CHECK_EQ_INT(hx_ds_segment_starts(e, 0, 10), 1);
    CHECK_EQ_INT(hx_ds_segment_starts(e, 0, 0), 0);
}

static void test_row_ranges(void) {
    struct hoist_pq_row_range *v = NULL;
    size_t n = 0, cap = 0;
    CHECK_EQ_INT(hx_ds_row_ranges_add(&v, &n, &cap, 0, 10), HOIST_OK);
    CHECK_EQ_INT(hx_ds_row_ranges_add(&v, &n, &cap, 10, 5), HOIST_OK); /* touches: merged */
    CHECK_EQ_INT(hx_ds_row_ranges_add(&v, &n, &cap, 20, 0), HOIST_OK); /* empty: ignored */
    CHECK_EQ_INT(hx_ds_row_ranges_add(&v, &n, &cap, 30, 7), HOIST_OK);
    for (int64_t i = 0; i < 20; i++) CHECK_EQ_INT(hx_ds_row_ranges_add(&v, &n, &cap, 100 + 10 * i, 3), HOIST_OK);
    CHECK_EQ_INT(n, 22);
    CHECK_EQ_INT(v[0].first, 0);
    CHECK_EQ_INT(v[0].count, 15);
    CHECK_EQ_INT(v[1].first, 30);
    CHECK_EQ_INT(v[1].count, 7);
    CHECK_EQ_INT(v[21].first, 290);
    hx_free(v);
    /* A failed allocation leaves the list as it was. */
    v = NULL;
    n = cap = 0;
    hx_alloc_fail_after(1);
    CHECK_EQ_INT(hx_ds_row_ranges_add(&v, &n, &cap, 0, 1), HOIST_ERR_NOMEM);
    hx_alloc_fail_after(0);
    CHECK_EQ_INT(n, 0);
    CHECK(v == NULL);
}

/* The selection a sorted column's pages give for a range filter, as the
 * loader builds it: segment by segment, page statistics as pruning input. */
static void test_select_by_pages(void) {
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse("a >= 250 AND a < 420 OR b IS NULL", &f), HOIST_OK);
    const char *names[] = {"a", "b"};
    const char *formats[] = {"l", "l"};
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, formats, 2), HOIST_OK);
    /* a: 5 pages of 100 rows holding 0..499 in order; b: two pages (0-299
     * no nulls, 300-499 all null)... b's all-null page must be kept. */
    int64_t starts[8] = {0, 100, 200, 300, 400, 0, 300};
    size_t n = hx_ds_segment_starts(starts, 7, 500);
    CHECK_EQ_INT(n, 5);
    struct hoist_pq_row_range *sel = NULL;
    size_t nsel = 0, cap = 0;
    for (size_t k = 0; k < n; k++) {
        int64_t b = starts[k], e = k + 1 < n ? starts[k + 1] : 500;
        struct ds_colstats cs[2];
        memset(cs, 0, sizeof cs);
        cs[0].known = cs[0].has_minmax = cs[0].has_null_count = true;
        cs[0].min.kind = cs[0].max.kind = DS_V_INT;
        cs[0].min.i = b;
        cs[0].max.i = e - 1;
        cs[0].num_values = e - b;
        cs[1].known = cs[1].has_null_count = true;
        cs[1].num_values = b < 300 ? 300 : 200;
        cs[1].null_count = b < 300 ? 0 : 200;
        if (hx_ds_filter_may_match(f, cs)) CHECK_EQ_INT(hx_ds_row_ranges_add(&sel, &nsel, &cap, b, e - b), HOIST_OK);
    }
    /* Pages 200-299 (a >= 250), 300-499 (b null). */
    CHECK_EQ_INT(nsel, 1);
    CHECK_EQ_INT(sel[0].first, 200);
    CHECK_EQ_INT(sel[0].count, 300);
    hx_free(sel);
    hx_ds_filter_free(f);
}

int main(void) {
    RUN(test_segment_starts);
    RUN(test_row_ranges);
    RUN(test_select_by_pages);
    TEST_MAIN_END();
}
