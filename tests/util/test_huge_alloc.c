/* hx_malloc_huge (src/util/alloc.c): download destinations. Blocks must be
 * 2 MiB-aligned with the default allocator, released by hx_free and the
 * public hoist_free, served by user allocator hooks when installed, and
 * subject to the failure-injection hook. */
#include "test_harness.h"
#include "util_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((size_t)1 << 20)

static int mallocs, frees;
static void *count_malloc(size_t n) {
    mallocs++;
    return malloc(n);
}
static void *count_calloc(size_t c, size_t n) {
    mallocs++;
    return calloc(c, n);
}
static void *count_realloc(void *p, size_t n) { return realloc(p, n); }
static void count_free(void *p) {
    if (p) frees++;
    free(p);
}

static int pattern_ok(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(i * 7 + 3)) return 0;
    return 1;
}

static void test_default_allocator(void) {
    /* odd sizes, so the rounding to whole huge pages is exercised */
    size_t sizes[] = {4 * MIB, 4 * MIB + 1, 9 * MIB + 4095, 1, 3 * MIB};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        uint8_t *p = hx_malloc_huge(sizes[i]);
        CHECK(p != NULL);
        if (!p) continue;
        if (sizes[i] >= 4 * MIB) CHECK_EQ_INT((uintptr_t)p % (2 * MIB), 0);
        CHECK(pattern_ok(p, sizes[i]));
        if (i % 2)
            hoist_free(p); /* the public way DEST_ALLOC memory is released */
        else
            hx_free(p);
    }
}

static void test_hooks_honoured(void) {
    struct hoist_allocator a = {count_malloc, count_calloc, count_realloc, count_free};
    hoist_allocator_set(&a);
    mallocs = frees = 0;
    uint8_t *p = hx_malloc_huge(6 * MIB + 5);
    CHECK(p != NULL);
    CHECK_EQ_INT(mallocs, 1);
    if (p) CHECK(pattern_ok(p, 6 * MIB + 5));
    hoist_free(p);
    CHECK_EQ_INT(frees, 1);
    hoist_allocator_set(NULL);
}

static void test_failure_injection(void) {
    hx_alloc_fail_after(1);
    CHECK(hx_malloc_huge(8 * MIB) == NULL);
    hx_alloc_fail_after(1);
    CHECK(hx_malloc_huge(100) == NULL);
    hx_alloc_fail_after(0);
    void *p = hx_malloc_huge(8 * MIB);
    CHECK(p != NULL);
    hx_free(p);
    /* an impossible size fails cleanly */
    CHECK(hx_malloc_huge(SIZE_MAX - 100) == NULL);
}

int main(void) {
    RUN(test_default_allocator);
    RUN(test_hooks_honoured);
    RUN(test_failure_injection);
    TEST_MAIN_END();
}
