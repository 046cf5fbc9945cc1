/* Tests for src/util: errors, allocation hooks, buffers, logging, pool. */
#include "test_harness.h"
#include "util_internal.h"

#include <pthread.h>
#include <stdatomic.h>

static void test_strerror_and_errmsg(void) {
    CHECK_STR(hoist_strerror(HOIST_OK), "ok");
    CHECK_STR(hoist_strerror(HOIST_ERR_NOMEM), "out of memory");
    CHECK_STR(hoist_strerror((enum hoist_status)12345), "unknown status");
    hx_status s = hx_error(HOIST_ERR_S3_ACCESS_DENIED, "s3://b/%s: HTTP 403 AccessDenied", "k");
    CHECK_EQ_INT(s, HOIST_ERR_S3_ACCESS_DENIED);
    CHECK_STR(hoist_errmsg(), "s3://b/k: HTTP 403 AccessDenied");
    s = hx_error_prefix(s, "while copying %s", "x");
    CHECK_STR(hoist_errmsg(), "while copying x: s3://b/k: HTTP 403 AccessDenied");
    hx_error_clear();
    CHECK_STR(hoist_errmsg(), "");
}

static void *other_thread_errmsg(void *arg) {
    (void)arg;
    return (void *)(hoist_errmsg()[0] == '\0' ? (void *)1 : NULL);
}

static void test_errmsg_is_thread_local(void) {
    hx_status ignored = hx_error(HOIST_ERR_IO, "main thread error");
    CHECK_EQ_INT(ignored, HOIST_ERR_IO);
    pthread_t t;
    void *res = NULL;
    pthread_create(&t, NULL, other_thread_errmsg, NULL);
    pthread_join(t, &res);
    CHECK(res == (void *)1);
    CHECK_STR(hoist_errmsg(), "main thread error");
}

static hx_status try_chain(int fail_at) {
    HX_FAIL_IF(fail_at == 1, HOIST_ERR_INVALID_ARG, "failed at %d", 1);
    HX_TRY(fail_at == 2 ? hx_error(HOIST_ERR_IO, "inner") : HOIST_OK);
    return HOIST_OK;
}

static void test_try_macros(void) {
    CHECK_EQ_INT(try_chain(0), HOIST_OK);
    CHECK_EQ_INT(try_chain(1), HOIST_ERR_INVALID_ARG);
    CHECK_STR(hoist_errmsg(), "failed at 1");
    CHECK_EQ_INT(try_chain(2), HOIST_ERR_IO);
    CHECK_STR(hoist_errmsg(), "inner");
}

static _Atomic int custom_mallocs;
static void *counting_malloc(size_t n) {
    custom_mallocs++;
    return malloc(n);
}

static void test_allocator_hooks(void) {
    struct hoist_allocator a = {counting_malloc, calloc, realloc, free};
    hoist_allocator_set(&a);
    void *p = hx_malloc(10);
    CHECK(p != NULL);
    CHECK_EQ_INT(custom_mallocs, 1);
    hoist_free(p);
    hoist_allocator_set(NULL);
    p = hx_malloc(10);
    CHECK_EQ_INT(custom_mallocs, 1);
    hx_free(p);

    hx_alloc_fail_after(2);
    void *a1 = hx_malloc(1);
    void *a2 = hx_malloc(1);
    void *a3 = hx_malloc(1);
    CHECK(a1 != NULL);
    CHECK(a2 == NULL);
    CHECK(a3 != NULL);
    hx_free(a1);
    hx_free(a3);

    void *al = hx_aligned_alloc(100);
    CHECK(al != NULL && ((uintptr_t)al % 64) == 0);
    memset(al, 0xab, 100);
    hx_aligned_free(al);
    size_t out;
    CHECK(!hx_mul_size(SIZE_MAX, 2, &out));
    CHECK(hx_add_size(1, 2, &out) && out == 3);
}

static void test_buf(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    CHECK_EQ_INT(hx_buf_append_str(&b, "hello"), HOIST_OK);
    CHECK_EQ_INT(hx_buf_printf(&b, " %d %s", 42, "world"), HOIST_OK);
    CHECK_STR(b.data, "hello 42 world");
    for (int i = 0; i < 1000; i++) CHECK_EQ_INT(hx_buf_append(&b, "x", 1), HOIST_OK);
    CHECK_EQ_INT(b.len, 14 + 1000);
    char *s = hx_buf_detach(&b);
    CHECK(s != NULL && strlen(s) == 1014);
    CHECK(b.data == NULL && b.len == 0);
    hx_free(s);

    hx_buf_init(&b);
    hx_alloc_fail_after(1);
    CHECK_EQ_INT(hx_buf_append_str(&b, "x"), HOIST_ERR_NOMEM);
    CHECK(b.len == 0);
    hx_buf_reset(&b);

    char *f = hx_asprintf("%s-%d", "a", 7);
    CHECK_STR(f, "a-7");
    hx_free(f);
}

static _Atomic long pool_sum;
static void add_task(void *arg) { pool_sum += (long)(intptr_t)arg; }

static void test_pool(void) {
    struct hx_pool *pool;
    CHECK_EQ_INT(hx_pool_new(3, &pool), HOIST_OK);
    CHECK_EQ_INT(hx_pool_size(pool), 3);
    struct hx_task_group *g1, *g2;
    CHECK_EQ_INT(hx_task_group_new(pool, &g1), HOIST_OK);
    CHECK_EQ_INT(hx_task_group_new(pool, &g2), HOIST_OK);
    long expect = 0;
    for (int i = 1; i <= 1000; i++) {
        CHECK_EQ_INT(hx_task_group_submit(i % 2 ? g1 : g2, add_task, (void *)(intptr_t)i), HOIST_OK);
        expect += i;
    }
    hx_task_group_wait(g1);
    hx_task_group_wait(g2);
    CHECK_EQ_INT(pool_sum, expect);
    hx_task_group_free(g1);
    hx_task_group_free(g2);
    hx_pool_free(pool);
    hx_pool_free(NULL);
    CHECK(hx_cpu_count() >= 1);
    CHECK(hx_total_memory() > 0);
}

static void test_log_level(void) {
    hoist_log_set_level(HOIST_LOG_ERROR);
    CHECK(!hx_log_enabled(HOIST_LOG_WARN));
    CHECK(hx_log_enabled(HOIST_LOG_ERROR));
    hoist_log_set_level(HOIST_LOG_DEBUG);
    CHECK(hx_log_enabled(HOIST_LOG_DEBUG));
    hoist_log_set_level(HOIST_LOG_WARN);
    CHECK_STR(hoist_version(), HOIST_VERSION_STRING);
}

int main(void) {
    RUN(test_strerror_and_errmsg);
    RUN(test_errmsg_is_thread_local);
    RUN(test_try_macros);
    RUN(test_allocator_hooks);
    RUN(test_buf);
    RUN(test_pool);
    RUN(test_log_level);
    TEST_MAIN_END();
}
