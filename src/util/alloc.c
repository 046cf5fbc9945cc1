/* Allocation hooks: every allocation in hoist goes through here, so a user can
 * plug in an allocator and a test can fail the Nth allocation. */
#include "util_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static struct hoist_allocator current = {malloc, calloc, realloc, free};

/* 0 = disabled; otherwise the number of allocations left before one fails. */
static _Atomic uint64_t fail_countdown;

void hoist_allocator_set(const struct hoist_allocator *allocator) {
    /* cached blocks belong to the default allocator: hand them back now */
    hx_big_cache_trim();
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

/* ---- large Arrow buffers -------------------------------------------------
 *
 * With the default allocator, blocks of HX_BIG_MIN bytes or more (column
 * buffers) are mapped directly, and freed ones are kept in a small cache for
 * reuse. Why: a decoded table is written once into fresh memory, and every
 * 4 KiB page of it costs a fault; glibc returns freed big blocks to the
 * kernel, so reading a second file faults all of it in again (a quarter of
 * the decode time). jemalloc/mimalloc (pyarrow, polars) keep such memory for
 * a while; this is the same idea, kept small:
 *  - bounded: the cached blocks' resident bytes never exceed the limit
 *    (HOIST_BUFFER_CACHE_MB, default min(RAM/8, 2 GiB); 0 disables), and at
 *    most HX_BIG_SLOTS blocks;
 *  - it does not raise peak RSS: an allocation the cache cannot serve first
 *    unmaps cached blocks worth at least its own size;
 *  - blocks unused for HX_BIG_DECAY_S seconds are unmapped at the next large
 *    allocation or free (no background thread), and hoist_allocator_set()
 *    empties it;
 *  - thread-safe: one mutex, held only for the bookkeeping and unmapping.
 * User allocator hooks are always honoured: with hooks installed, every
 * block comes from them.
 *
 * A mapped block starts HX_ALIGN bytes into its mapping; the word below the
 * returned pointer holds the mapping length with bit 0 set (bit 1 set too
 * when the mapping is new or a cached one less than half resident:
 * hx_aligned_fresh) and the word
 * below that a magic (a malloc'd block has its raw pointer and a zero
 * there). */
#define HX_BIG_MIN ((size_t)256 << 10)
#define HX_BIG_SLOTS 4096
#define HX_BIG_DECAY_S 5.0
#define HX_BIG_MAGIC ((uintptr_t)0x686f697374626967ull)

struct big_block {
    void *base;
    size_t len;      /* mapping length (page multiple) */
    size_t resident; /* bytes resident when cached (mincore) */
    double freed_at;
};

static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static struct big_block big_cache[HX_BIG_SLOTS]; /* oldest first; guarded by big_mu */
static size_t big_n, big_bytes, big_limit;       /* guarded by big_mu */
static int big_limit_set;                        /* guarded by big_mu */
static size_t page_size;                         /* guarded by big_mu (set once) */

/* Sanitizer builds keep every block on the (instrumented) heap so that
 * overruns of column buffers are still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define HX_BIG_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HX_BIG_ENABLED 0
#endif
#endif
#ifndef HX_BIG_ENABLED
#define HX_BIG_ENABLED 1
#endif

static bool default_allocator(void) { return HX_BIG_ENABLED && current.malloc_fn == malloc && current.free_fn == free; }

/* A fork while another thread holds big_mu would leave the child's copy
 * locked for good: hold it across fork, as malloc does with its own locks. */
static void big_prefork(void) { pthread_mutex_lock(&big_mu); }
static void big_postfork(void) { pthread_mutex_unlock(&big_mu); }
static pthread_once_t big_once = PTHREAD_ONCE_INIT;
static void big_register_atfork(void) { (void)pthread_atfork(big_prefork, big_postfork, big_postfork); }

static void big_lock(void) {
    (void)pthread_once(&big_once, big_register_atfork);
    pthread_mutex_lock(&big_mu);
}

static void big_init_locked(void) {
    if (big_limit_set) return;
    big_limit_set = 1;
    page_size = hx_page_size();
    uint64_t lim = hx_total_memory() / 8;
    if (lim > ((uint64_t)2 << 30)) lim = (uint64_t)2 << 30;
    const char *env = getenv("HOIST_BUFFER_CACHE_MB");
    if (env && *env) {
        char *end;
        unsigned long long mb = strtoull(env, &end, 10);
        if (*end == '\0' && mb <= (SIZE_MAX >> 20)) lim = (uint64_t)mb << 20;
    }
    big_limit = lim > SIZE_MAX ? SIZE_MAX : (size_t)lim;
}

/* Resident bytes of a mapping (its whole length if mincore fails). */
static size_t resident_bytes(void *base, size_t len) {
    unsigned char vec[512];
    size_t pages = len / page_size, res = 0;
    for (size_t i = 0; i < pages; i += sizeof vec) {
        size_t k = pages - i < sizeof vec ? pages - i : sizeof vec;
        if (mincore((char *)base + i * page_size, k * page_size, vec) != 0) return len;
        for (size_t j = 0; j < k; j++) res += vec[j] & 1;
    }
    return res * page_size;
}

static void big_drop_locked(size_t i) {
    (void)munmap(big_cache[i].base, big_cache[i].len);
    big_bytes -= big_cache[i].resident;
    memmove(big_cache + i, big_cache + i + 1, (big_n - i - 1) * sizeof *big_cache);
    big_n--;
}

static void big_decay_locked(double now) {
    size_t k = 0;
    while (k < big_n && now - big_cache[k].freed_at > HX_BIG_DECAY_S) k++;
    if (k == 0) return;
    for (size_t i = 0; i < k; i++) {
        (void)munmap(big_cache[i].base, big_cache[i].len);
        big_bytes -= big_cache[i].resident;
    }
    memmove(big_cache, big_cache + k, (big_n - k) * sizeof *big_cache);
    big_n -= k;
}

static void *big_alloc(size_t size) {
    size_t len;
    if (!hx_add_size(size, HX_ALIGN, &len)) return NULL;
    big_lock();
    big_init_locked();
    len = (len + page_size - 1) & ~(page_size - 1);
    big_decay_locked(hx_now());
    void *base = NULL;
    /* Best fit among blocks at most twice the size: a bigger block would pin
     * resident pages the new owner never touches. Newest first on ties, as
     * its pages are the likeliest to be resident. */
    size_t best = SIZE_MAX;
    for (size_t i = big_n; i-- > 0;) {
        size_t l = big_cache[i].len;
        if (l >= len && l / 2 <= len && (best == SIZE_MAX || l < big_cache[best].len)) best = i;
    }
    uintptr_t fresh = 0;
    if (best != SIZE_MAX) {
        base = big_cache[best].base;
        len = big_cache[best].len;
        /* mostly never touched (a buffer reserved big, filled little): as
         * good as new for page advice */
        if (big_cache[best].resident < len / 2) fresh = 2;
        big_bytes -= big_cache[best].resident;
        memmove(big_cache + best, big_cache + best + 1, (big_n - best - 1) * sizeof *big_cache);
        big_n--;
    } else {
        /* Make room first so the cache never adds to peak RSS. */
        size_t freed = 0;
        while (big_n > 0 && freed < len) {
            freed += big_cache[0].resident;
            big_drop_locked(0);
        }
    }
    pthread_mutex_unlock(&big_mu);
    if (!base) {
        base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) return NULL;
        fresh = 2;
    }
    uintptr_t *p = (uintptr_t *)(void *)((char *)base + HX_ALIGN);
    p[-1] = (uintptr_t)len | fresh | 1;
    p[-2] = HX_BIG_MAGIC;
    return p;
}

static void big_free(void *base, size_t len) {
    big_lock();
    big_init_locked();
    big_decay_locked(hx_now());
    size_t res = big_limit ? resident_bytes(base, len) : len;
    if (res > big_limit) {
        pthread_mutex_unlock(&big_mu);
        (void)munmap(base, len);
        return;
    }
    while (big_n > 0 && (big_n >= HX_BIG_SLOTS || big_bytes + res > big_limit)) big_drop_locked(0);
    big_cache[big_n++] = (struct big_block){base, len, res, hx_now()};
    big_bytes += res;
    pthread_mutex_unlock(&big_mu);
}

void hx_big_cache_trim(void) {
    big_lock();
    while (big_n > 0) big_drop_locked(big_n - 1);
    pthread_mutex_unlock(&big_mu);
}

void *hx_aligned_alloc(size_t size) {
    if (size >= HX_BIG_MIN && default_allocator()) {
        if (injected_failure()) return NULL;
        return big_alloc(size);
    }
    /* two words below the block, both inside the allocation: the raw
     * pointer and a zero where a mapped block has its magic */
    size_t total;
    if (!hx_add_size(size, HX_ALIGN + 2 * sizeof(void *), &total)) return NULL;
    char *raw = hx_malloc(total);
    if (!raw) return NULL;
    uintptr_t base = (uintptr_t)(raw + 2 * sizeof(void *));
    uintptr_t aligned = (base + HX_ALIGN - 1) & ~(uintptr_t)(HX_ALIGN - 1);
    ((void **)aligned)[-1] = raw;
    ((uintptr_t *)aligned)[-2] = 0;
    return (void *)aligned;
}

bool hx_aligned_fresh(const void *ptr) {
    const uintptr_t *p = ptr;
    return ptr && p[-2] == HX_BIG_MAGIC && (p[-1] & 3) == 3;
}

void hx_aligned_free(void *ptr) {
    if (!ptr) return;
    const uintptr_t *p = ptr;
    if (p[-2] == HX_BIG_MAGIC && (p[-1] & 1)) {
        big_free((char *)ptr - HX_ALIGN, (size_t)(p[-1] & ~(uintptr_t)3));
        return;
    }
    hx_free(((void **)ptr)[-1]);
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

hx_status hx_buf_append_str(struct hx_buf *buf, const char *s) { return hx_buf_append(buf, s, strlen(s)); }

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
