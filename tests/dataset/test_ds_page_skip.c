/* Page skipping end to end on a local file with a page index
 * (parquet-testing's alltypes_tiny_pages.parquet: parquet-mr, 7300 rows in
 * one row group, pages of about 20 rows, id clustered): same rows with and
 * without it, fewer bytes, and every allocation failure of open and load
 * handled without a leak or a crash (run under ASan). */
#include "dataset_internal.h"
#include "test_harness.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TINY_PAGES "/work/shared/testdata/parquet-testing/data/alltypes_tiny_pages.parquet"
#define FILTER "id >= 1000 AND id < 1100 OR string_col = 'x'"

struct result {
    int64_t rows;
    int64_t id_sum;
    uint64_t id_hash;
    struct hoist_dataset_stats stats;
};

static hx_status load(const char *filter, struct result *r) {
    memset(r, 0, sizeof *r);
    const char *url = "file://" TINY_PAGES;
    const char *cols[] = {"id", "string_col", "timestamp_col"};
    struct hoist_dataset_config *cfg = NULL;
    struct hoist_dataset *ds = NULL;
    struct ArrowArrayStream st = {0};
    hx_status s = hoist_dataset_config_new(&cfg);
    if (s == HOIST_OK) s = hoist_dataset_config_set_columns(cfg, cols, 3);
    if (s == HOIST_OK) s = hoist_dataset_config_set_filter(cfg, filter);
    if (s == HOIST_OK) s = hoist_dataset_config_set_threads(cfg, 2);
    if (s == HOIST_OK) s = hoist_dataset_open(NULL, &url, 1, cfg, &ds);
    if (s == HOIST_OK) s = hoist_dataset_load(ds, &st);
    while (s == HOIST_OK) {
        struct ArrowArray b;
        if (st.get_next(&st, &b) != 0 || !b.release) break;
        const struct ArrowArray *id = b.children[0];
        const int32_t *v = (const int32_t *)id->buffers[1];
        for (int64_t i = 0; i < id->length; i++) {
            r->id_sum += v[id->offset + i];
            r->id_hash = r->id_hash * 31 + (uint64_t)v[id->offset + i];
        }
        r->rows += b.length;
        b.release(&b);
    }
    if (ds) hoist_dataset_get_stats(ds, &r->stats, sizeof r->stats);
    if (st.release) st.release(&st);
    hoist_dataset_close(ds);
    hoist_dataset_config_free(cfg);
    return s;
}

static void test_same_rows_fewer_bytes(void) {
    struct result a, b;
    CHECK_EQ_INT(load(FILTER, &a), HOIST_OK);
    setenv("HOIST_NO_PAGE_INDEX", "1", 1);
    CHECK_EQ_INT(load(FILTER, &b), HOIST_OK);
    unsetenv("HOIST_NO_PAGE_INDEX");
    CHECK_EQ_INT(a.rows, 100);
    CHECK_EQ_INT(a.rows, b.rows);
    CHECK_EQ_INT(a.id_sum, b.id_sum);
    CHECK_EQ_INT(a.id_hash, b.id_hash); /* same order too */
    CHECK(a.stats.pages_skipped > 100);
    CHECK(a.stats.rows_skipped_by_page_index > 5000);
    CHECK_EQ_INT(b.stats.pages_skipped, 0);
    /* A filter no page can match prunes the row group. */
    CHECK_EQ_INT(load("id >= 1000 AND id < 1100 AND bigint_col > 1000", &a), HOIST_OK);
    CHECK_EQ_INT(a.rows, 0);
    CHECK_EQ_INT(a.stats.row_groups_pruned, 1);
}

static _Atomic uint64_t n_allocs;
static void *count_malloc(size_t n) {
    n_allocs++;
    return malloc(n);
}
static void *count_calloc(size_t c, size_t n) {
    n_allocs++;
    return calloc(c, n);
}
static void *count_realloc(void *p, size_t n) {
    n_allocs++;
    return realloc(p, n);
}

static void test_alloc_failures(void) {
    /* Every allocation, open through load, may fail: a status comes back,
     * nothing leaks, nothing crashes. First count them. */
    struct result r;
    struct hoist_allocator counting = {count_malloc, count_calloc, count_realloc, free};
    hoist_allocator_set(&counting);
    CHECK_EQ_INT(load(FILTER, &r), HOIST_OK);
    hoist_allocator_set(NULL);
    uint64_t total = n_allocs;
    CHECK(total > 100);
    fprintf(stderr, "%llu allocations in a load\n", (unsigned long long)total);
    for (uint64_t k = 1; k <= total + 20; k++) {
        hx_alloc_fail_after(k);
        hx_status s = load(FILTER, &r);
        hx_alloc_fail_after(0);
        if (s == HOIST_OK) CHECK(r.rows <= 100); /* a failure mid-stream ends it early, with an error */
    }
    CHECK_EQ_INT(load(FILTER, &r), HOIST_OK);
    CHECK_EQ_INT(r.rows, 100);
}

int main(void) {
    RUN(test_same_rows_fewer_bytes);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
