/* The filter language's size limits (ds_filter_parse.c): expressions nested
 * or chained far beyond any hand-written filter fail with HOIST_ERR_FILTER
 * and a position instead of overflowing the stack, and large expressions
 * within the limits still parse, bind, prune and evaluate correctly. */
#include "dataset_internal.h"
#include "test_harness.h"

#include <stdlib.h>
#include <string.h>

/* s repeated n times between prefix and suffix (caller frees). */
static char *repeat(const char *prefix, const char *s, size_t n, const char *mid, const char *s2, size_t n2) {
    size_t ls = strlen(s), ls2 = s2 ? strlen(s2) : 0;
    size_t cap = strlen(prefix) + ls * n + strlen(mid) + ls2 * n2 + 1;
    char *r = malloc(cap), *w = r;
    w += sprintf(w, "%s", prefix);
    for (size_t i = 0; i < n; i++, w += ls) memcpy(w, s, ls);
    w += sprintf(w, "%s", mid);
    for (size_t i = 0; i < n2; i++, w += ls2) memcpy(w, s2, ls2);
    *w = '\0';
    return r;
}

static void expect_filter_error(const char *expr, const char *needle, int position) {
    struct ds_filter *f = NULL;
    hx_status st = hx_ds_filter_parse(expr, &f);
    CHECK_EQ_INT(st, HOIST_ERR_FILTER);
    CHECK(f == NULL);
    const char *m = hoist_errmsg();
    CHECK_CONTAINS(m, needle);
    if (position > 0) {
        char pos[64];
        snprintf(pos, sizeof pos, "at position %d", position);
        CHECK_CONTAINS(m, pos);
    }
    /* a caret line, and a message of bounded size whatever the expression */
    CHECK_CONTAINS(m, "^");
    CHECK(strlen(m) < 1024);
    hx_ds_filter_free(f);
}

static void test_deep_parentheses(void) {
    char *e = repeat("", "(", 40000, "x = 1", ")", 40000);
    expect_filter_error(e, "nested too deeply (more than 1000 levels)", 1001);
    free(e);
    /* the limit itself is fine */
    e = repeat("", "(", DS_FILTER_MAX_DEPTH, "x = 1", ")", DS_FILTER_MAX_DEPTH);
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse(e, &f), HOIST_OK);
    hx_ds_filter_free(f);
    free(e);
    e = repeat("", "(", DS_FILTER_MAX_DEPTH + 1, "x = 1", ")", DS_FILTER_MAX_DEPTH + 1);
    expect_filter_error(e, "nested too deeply", DS_FILTER_MAX_DEPTH + 1);
    free(e);
}

static void test_deep_not(void) {
    char *e = repeat("", "NOT ", 40000, "x = 1", NULL, 0);
    expect_filter_error(e, "nested too deeply", 4 * 1000 + 1);
    free(e);
    e = repeat("", "not(", 40000, "x = 1", ")", 40000);
    expect_filter_error(e, "nested too deeply", 0);
    free(e);
    /* an even number of NOTs within the limit cancels out */
    e = repeat("", "NOT ", 1000, "x = 1", NULL, 0);
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse(e, &f), HOIST_OK);
    if (f) {
        CHECK_EQ_INT(f->root->kind, DS_N_CMP);
        CHECK_EQ_INT(f->root->op, DS_EQ);
    }
    hx_ds_filter_free(f);
    free(e);
}

static void test_too_many_nodes(void) {
    char *e = repeat("x = 1", " AND x = 1", 300000, "", NULL, 0);
    /* the first term and 50,000 ANDs with their terms make 100,001 nodes: the last term fails */
    expect_filter_error(e, "expression too large (more than 100000", 50000 * 10 + 1);
    free(e);
    e = repeat("x IN (1)", " OR x IS NULL", 200000, "", NULL, 0);
    expect_filter_error(e, "expression too large", 0);
    free(e);
}

/* x over rows 0..n-1 with x[i] = i. */
static void int_array(struct ArrowArray *a, const void **bufs, int32_t *vals, int64_t n) {
    for (int64_t i = 0; i < n; i++) vals[i] = (int32_t)i;
    bufs[0] = NULL;
    bufs[1] = vals;
    memset(a, 0, sizeof *a);
    a->length = n;
    a->n_buffers = 2;
    a->buffers = bufs;
}

static void eval_check(const char *expr, const uint8_t *want, int64_t n) {
    struct ds_filter *f = NULL;
    hx_status pst = hx_ds_filter_parse(expr, &f);
    if (pst != HOIST_OK) fprintf(stderr, "%.300s\n", hoist_errmsg());
    CHECK_EQ_INT(pst, HOIST_OK);
    if (!f) return;
    const char *names[] = {"x"}, *fmts[] = {"i"};
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_OK);
    int32_t vals[16];
    const void *bufs[2];
    struct ArrowArray a;
    int_array(&a, bufs, vals, n);
    const struct ArrowArray *cols[] = {&a};
    uint8_t keep[16];
    CHECK_EQ_INT(hx_ds_filter_eval(f, cols, fmts, NULL, n, keep), HOIST_OK);
    for (int64_t i = 0; i < n; i++) CHECK_EQ_INT(keep[i], want[i]);
    struct ds_colstats st = {.known = true, .has_minmax = true, .has_null_count = true, .num_values = n};
    st.min.kind = st.max.kind = DS_V_INT;
    st.min.i = 0;
    st.max.i = n - 1;
    bool any = false;
    for (int64_t i = 0; i < n; i++) any |= want[i] != 0;
    /* pruning may keep more, never drop a match */
    if (any) CHECK(hx_ds_filter_may_match(f, &st));
    hx_ds_filter_free(f);
}

static void test_large_but_allowed(void) {
    /* a long OR list (as generated from an ID list) within the limits */
    struct hx_buf b;
    hx_buf_init(&b);
    CHECK_EQ_INT(hx_buf_printf(&b, "x = 3"), HOIST_OK);
    for (int i = 0; i < 49998; i++) CHECK_EQ_INT(hx_buf_printf(&b, " OR x = %d", 100 + i), HOIST_OK);
    CHECK_EQ_INT(hx_buf_printf(&b, " OR x = 7"), HOIST_OK);
    uint8_t want[10] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
    eval_check(b.data, want, 10);
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse(b.data, &f), HOIST_OK);
    if (f) CHECK(f->root->height <= 16); /* balanced: log2(50,000) levels */
    hx_ds_filter_free(f);
    hx_buf_reset(&b);

    /* nested alternation 990 levels deep: x = 0 OR (x != 1 AND (x = 2 OR (x != 3 AND ...))) */
    hx_buf_init(&b);
    int depth = 990;
    for (int i = 0; i < depth; i++)
        CHECK_EQ_INT(hx_buf_printf(&b, i % 2 == 0 ? "x = %d OR (" : "x != %d AND (", i), HOIST_OK);
    CHECK_EQ_INT(hx_buf_printf(&b, "FALSE"), HOIST_OK);
    for (int i = 0; i < depth; i++) CHECK_EQ_INT(hx_buf_printf(&b, ")"), HOIST_OK);
    /* row 0: x = 0 TRUE; row 1: x != 1 FALSE; row 2: x = 2; row 3: FALSE; ... even rows match */
    uint8_t want2[10] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
    eval_check(b.data, want2, 10);
    hx_buf_reset(&b);

    /* the same under NOT: De Morgan down 990 levels */
    hx_buf_init(&b);
    CHECK_EQ_INT(hx_buf_printf(&b, "NOT ("), HOIST_OK);
    for (int i = 0; i < depth; i++)
        CHECK_EQ_INT(hx_buf_printf(&b, i % 2 == 0 ? "x = %d OR (" : "x != %d AND (", i), HOIST_OK);
    CHECK_EQ_INT(hx_buf_printf(&b, "FALSE"), HOIST_OK);
    for (int i = 0; i <= depth; i++) CHECK_EQ_INT(hx_buf_printf(&b, ")"), HOIST_OK);
    uint8_t want3[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    eval_check(b.data, want3, 10);
    hx_buf_reset(&b);
}

/* Many distinct columns: names collected once each, in first-use order. */
static void test_many_columns(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    int n = 20000;
    for (int i = 0; i < n; i++) CHECK_EQ_INT(hx_buf_printf(&b, "%sc%d = 1", i ? " AND " : "", i % (n / 2)), HOIST_OK);
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse(b.data, &f), HOIST_OK);
    if (f) {
        CHECK_EQ_INT(f->ncolumns, n / 2);
        CHECK_STR(f->columns[0], "c0");
        CHECK_STR(f->columns[n / 2 - 1], "c9999");
        const char *names[] = {"c0"}, *fmts[] = {"i"};
        CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_ERR_FILTER);
        CHECK_CONTAINS(hoist_errmsg(), "unknown column 'c1'");
        CHECK_CONTAINS(hoist_errmsg(), "at position 12");
    }
    hx_ds_filter_free(f);
    hx_buf_reset(&b);
}

/* An error deep inside a long expression quotes a window around it. */
static void test_long_error_window(void) {
    char *e = repeat("x = 1", " AND x = 1", 5000, " AND x >", NULL, 0);
    expect_filter_error(e, "unexpected end of expression", (int)strlen(e) + 1);
    const char *m = hoist_errmsg();
    CHECK_CONTAINS(m, "\n  ...");
    const char *l2 = strchr(m, '\n'), *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
    if (l2 && l3) {
        /* the caret sits under the end of the quoted window */
        const char *caret = strchr(l3, '^');
        CHECK(caret && caret - l3 == l3 - l2);
    }
    free(e);
}

/* Allocation failures while building a chain free everything. */
static void test_alloc_failures(void) {
    const char *expr = "a = 1 AND b = 2 AND c = 3 AND d = 4 AND e = 5 OR NOT (f IN (1, 2) AND g IS NULL)";
    for (int k = 1; k < 200; k++) {
        hx_alloc_fail_after((uint64_t)k);
        struct ds_filter *f = NULL;
        hx_status st = hx_ds_filter_parse(expr, &f);
        hx_alloc_fail_after(0);
        CHECK(st == HOIST_OK || st == HOIST_ERR_NOMEM);
        hx_ds_filter_free(f);
        if (st == HOIST_OK) break;
    }
}

int main(void) {
    RUN(test_deep_parentheses);
    RUN(test_deep_not);
    RUN(test_too_many_nodes);
    RUN(test_large_but_allowed);
    RUN(test_many_columns);
    RUN(test_long_error_window);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
