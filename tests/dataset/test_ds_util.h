/* test_ds_util.h — what the dataset tests share: a filter parse run under
 * every allocation failure in turn. */
#ifndef HOIST_TEST_DS_UTIL_H
#define HOIST_TEST_DS_UTIL_H

#include "dataset_internal.h"
#include "test_harness.h"

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

#endif
