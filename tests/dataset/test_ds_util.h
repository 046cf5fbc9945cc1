/* test_ds_util.h — what the dataset tests share: a filter parse run under
 * every allocation failure in turn, and filter cases checked row by row. */
#ifndef HOIST_TEST_DS_UTIL_H
#define HOIST_TEST_DS_UTIL_H

#include "dataset_internal.h"
#include "test_harness.h"

#include <stdio.h>
#include <string.h>

/* Parses expr failing the 1st, 2nd, ... allocation until a parse succeeds
 * (at most 199 tries): every failure is a clean HOIST_ERR_NOMEM; ASan
 * catches leaks and crashes. */
static inline void dsu_parse_under_alloc_failures(const char *expr) {
    for (uint64_t k = 1; k < 200; k++) {
        hx_alloc_fail_after(k);
        struct ds_filter *f = NULL;
        hx_status st = hx_ds_filter_parse(expr, &f);
        hx_alloc_fail_after(0);
        CHECK(st == HOIST_OK || st == HOIST_ERR_NOMEM);
        hx_ds_filter_free(f);
        if (st == HOIST_OK) break;
    }
}

/* A filter and the rows it keeps, one '0'/'1' a row. */
struct dsu_eval_case {
    const char *expr;
    const char *want;
};

/* Parses, binds and evaluates every case against the one column `x` of
 * `nrows` rows (at most 8); `label` names the failing case on stderr. */
static inline void dsu_check_eval_cases(const struct ArrowArray *col, const char *fmt, int64_t nrows,
                                        const struct dsu_eval_case *cases, size_t ncases, const char *label) {
    const struct ArrowArray *cols[1] = {col};
    const char *names[] = {"x"}, *fmts[] = {fmt};
    for (size_t i = 0; i < ncases; i++) {
        struct ds_filter *f = NULL;
        CHECK_EQ_INT(hx_ds_filter_parse(cases[i].expr, &f), HOIST_OK);
        if (!f) continue;
        CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_OK);
        uint8_t keep[8];
        CHECK_EQ_INT(hx_ds_filter_eval(f, cols, fmts, NULL, nrows, keep), HOIST_OK);
        char got[9];
        for (int64_t k = 0; k < nrows; k++) got[k] = keep[k] ? '1' : '0';
        got[nrows] = '\0';
        if (strcmp(got, cases[i].want)) fprintf(stderr, "%s: %s\n", label, cases[i].expr);
        CHECK_STR(got, cases[i].want);
        hx_ds_filter_free(f);
    }
}

#endif
