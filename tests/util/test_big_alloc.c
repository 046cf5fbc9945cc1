/* Large Arrow buffers (src/util/alloc.c): mapped blocks, the bounded cache
 * of freed ones, and that user allocator hooks and the failure-injection
 * hook still see every block. */
#include "test_harness.h"
#include "util_internal.h"

#include <pthread.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define BIG_PATH 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIG_PATH 0
#endif
#endif
#ifndef BIG_PATH
#define BIG_PATH 1
#endif

#define MIB ((size_t)1 << 20)

static void fill_check(uint8_t *p, size_t n, uint8_t seed, int *ok) {
    for (size_t i = 0; i < n; i += 4096) p[i] = (uint8_t)(seed + i / 4096);
    p[n - 1] = seed;
    for (size_t i = 0; i < n; i += 4096) *ok &= p[i] == (uint8_t)(seed + i / 4096) || i == n - 1;
}

static void test_big_blocks(void) {
    int ok = 1;
    uint8_t *a = hx_aligned_alloc(MIB);
    CHECK(a != NULL);
    CHECK_EQ_INT((uintptr_t)a % 64, 0);
    /* a new mapping is fresh (its pages worth advice), a reused one not */
    CHECK(hx_aligned_fresh(a) == BIG_PATH);
    fill_check(a, MIB, 1, &ok);
    CHECK(ok);
    hx_aligned_free(a);
    /* a freed block is reused for a request of about its size */
    uint8_t *b = hx_aligned_alloc(MIB - 100);
    CHECK(b != NULL);
    if (BIG_PATH) CHECK(b == a);
    CHECK(!hx_aligned_fresh(b));
    fill_check(b, MIB - 100, 7, &ok);
    CHECK(ok);
    hx_aligned_free(b);
    /* but not for one much smaller (it would pin pages never used) */
    uint8_t *c = hx_aligned_alloc(300 << 10);
    CHECK(c != NULL);
    /* (its address may still equal b's: b is unmapped to make room, and the
     * kernel may hand the same range back; its mapped length tells) */
    if (BIG_PATH) CHECK((((const uintptr_t *)(const void *)c)[-1] & ~(uintptr_t)3) < MIB);
    hx_aligned_free(c);
    /* nor is one too small for the request reused */
    uint8_t *d = hx_aligned_alloc(4 * MIB);
    CHECK(d != NULL);
    CHECK_EQ_INT((uintptr_t)d % 64, 0);
    fill_check(d, 4 * MIB, 3, &ok);
    CHECK(ok);
    hx_aligned_free(d);
    /* small blocks still come from malloc, aligned the same way */
    uint8_t *s = hx_aligned_alloc(100);
    CHECK(s != NULL);
    CHECK_EQ_INT((uintptr_t)s % 64, 0);
    CHECK(!hx_aligned_fresh(s));
    hx_aligned_free(s);
    hx_aligned_free(NULL);
    hx_big_cache_trim();
}

/* A cached block mostly never touched (reserved big, filled little) counts
 * as fresh again: its pages still want populating. */
static void test_untouched_block_stays_fresh(void) {
    hx_big_cache_trim();
    uint8_t *a = hx_aligned_alloc(MIB);
    CHECK(a != NULL);
    a[0] = 1; /* one page of 257 resident */
    hx_aligned_free(a);
    uint8_t *b = hx_aligned_alloc(MIB);
    CHECK(b != NULL);
    if (BIG_PATH) CHECK(b == a);
    CHECK(hx_aligned_fresh(b) == BIG_PATH);
    int ok = 1;
    fill_check(b, MIB, 5, &ok); /* now all resident: a reuse is not fresh */
    CHECK(ok);
    hx_aligned_free(b);
    uint8_t *c = hx_aligned_alloc(MIB);
    CHECK(c != NULL);
    CHECK(!hx_aligned_fresh(c));
    hx_aligned_free(c);
    hx_big_cache_trim();
}

static int hook_mallocs, hook_frees;
static void *hook_malloc(size_t n) {
    __atomic_add_fetch(&hook_mallocs, 1, __ATOMIC_RELAXED);
    return malloc(n);
}
static void hook_free(void *p) {
    if (p) __atomic_add_fetch(&hook_frees, 1, __ATOMIC_RELAXED);
    free(p);
}

static void test_hooks_see_big_blocks(void) {
    struct hoist_allocator h = {hook_malloc, calloc, realloc, hook_free};
    hoist_allocator_set(&h);
    void *p = hx_aligned_alloc(8 * MIB);
    CHECK(p != NULL);
    CHECK_EQ_INT(hook_mallocs, 1);
    hx_aligned_free(p);
    CHECK_EQ_INT(hook_frees, 1);
    hoist_allocator_set(NULL);

    hx_alloc_fail_after(1);
    CHECK(hx_aligned_alloc(2 * MIB) == NULL);
    void *q = hx_aligned_alloc(2 * MIB);
    CHECK(q != NULL);
    hx_aligned_free(q);
}

static void *churn(void *arg) {
    int *ok = arg;
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(256 + (i * 37) % 2048) << 10;
        uint8_t *p = hx_aligned_alloc(n);
        if (!p) {
            *ok = 0;
            break;
        }
        fill_check(p, n, (uint8_t)i, ok);
        hx_aligned_free(p);
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t t[4];
    int ok[4] = {1, 1, 1, 1};
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(pthread_create(&t[i], NULL, churn, &ok[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) CHECK(ok[i]);
    hx_big_cache_trim();
}

int main(void) {
    RUN(test_big_blocks);
    RUN(test_untouched_block_stays_fresh);
    RUN(test_hooks_see_big_blocks);
    RUN(test_threads);
    TEST_MAIN_END();
}
