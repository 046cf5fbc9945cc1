/* Allocation hooks: every allocation in hoist goes through here, so a user can
 * plug in an allocator and a test can fail the Nth allocation. */
#include "util_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct hoist_allocator current = {malloc, calloc, realloc, free};

/* 0 = disabled; otherwise the number of allocations left before one fails. */
static _Atomic uint64_t fail_countdown;

void hoist_set_allocator(const struct hoist_allocator *allocator) {
    if (allocator == NULL || allocator->malloc_fn == NULL || allocator->calloc_fn == NULL ||
        allocator->realloc_fn == NULL || allocator->free_fn == NULL) {
        current = (struct hoist_allocator){malloc, calloc, realloc, free};
        return;
    }
    current = *allocator;
}

void hx_alloc_fail_after(uint64_t n) { atomic_store(&fail_countdown, n); }

static bool injected_failure(void) {
    uint64_t left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (left != 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &left, left - 1)) return left == 1;
    }
    return false;
}

void *hx_malloc(size_t size) {
    if (injected_failure()) return NULL;
    return current.malloc_fn(size ? size : 1);
}

void *hx_calloc(size_t count, size_t size) {
    if (injected_failure()) return NULL;
    if (count == 0 || size == 0) count = size = 1;
    return current.calloc_fn(count, size);
}

void *hx_realloc(void *ptr, size_t size) {
    if (injected_failure()) return NULL;
    return current.realloc_fn(ptr, size ? size : 1);
}

void hx_free(void *ptr) {
    if (ptr) current.free_fn(ptr);
}

void hoist_free(void *ptr) { hx_free(ptr); }

char *hx_strndup(const char *s, size_t n) {
    char *p = hx_malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *hx_strdup(const char *s) { return hx_strndup(s, strlen(s)); }

char *hx_asprintf(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n < 0 ? NULL : hx_malloc((size_t)n + 1);
    if (p) vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

/* The aligned block keeps the raw pointer just below the aligned address, so
 * any user allocator works without needing an aligned variant. */
#define HX_ALIGN 64

void *hx_aligned_alloc(size_t size) {
    size_t total;
    if (!hx_add_size(size, HX_ALIGN + sizeof(void *), &total)) return NULL;
    char *raw = hx_malloc(total);
    if (!raw) return NULL;
    uintptr_t base = (uintptr_t)(raw + sizeof(void *));
    uintptr_t aligned = (base + HX_ALIGN - 1) & ~(uintptr_t)(HX_ALIGN - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

void hx_aligned_free(void *ptr) {
    if (ptr) hx_free(((void **)ptr)[-1]);
}

/* ---- growable buffer ---- */

void hx_buf_init(struct hx_buf *buf) { *buf = (struct hx_buf){0}; }

void hx_buf_reset(struct hx_buf *buf) {
    hx_free(buf->data);
    *buf = (struct hx_buf){0};
}

hx_status hx_buf_reserve(struct hx_buf *buf, size_t extra) {
    size_t need;
    /* +1 keeps room for the NUL that hx_buf_detach and string users rely on */
    if (!hx_add_size(buf->len, extra, &need) || !hx_add_size(need, 1, &need))
        HX_FAIL(HOIST_ERR_NOMEM, "buffer size overflow");
    if (need <= buf->cap) return HOIST_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = hx_realloc(buf->data, cap);
    if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    buf->data = p;
    buf->cap = cap;
    return HOIST_OK;
}

hx_status hx_buf_append(struct hx_buf *buf, const void *data, size_t len) {
    HX_TRY(hx_buf_reserve(buf, len));
    if (len) memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return HOIST_OK;
}

hx_status hx_buf_append_str(struct hx_buf *buf, const char *s) {
    return hx_buf_append(buf, s, strlen(s));
}

hx_status hx_buf_printf(struct hx_buf *buf, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        HX_FAIL(HOIST_ERR_INVALID_ARG, "bad format string");
    }
    hx_status s = hx_buf_reserve(buf, (size_t)n);
    if (s == HOIST_OK) {
        vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap2);
        buf->len += (size_t)n;
    }
    va_end(ap2);
    return s;
}

char *hx_buf_detach(struct hx_buf *buf) {
    if (buf->data == NULL && hx_buf_reserve(buf, 0) != HOIST_OK) return NULL;
    buf->data[buf->len] = '\0';
    char *p = buf->data;
    *buf = (struct hx_buf){0};
    return p;
}
