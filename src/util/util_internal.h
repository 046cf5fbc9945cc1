/*
 * util_internal.h — errors, allocation, logging, buffers, thread pool,
 * machine queries (sys.c).
 * Internal to libhoist; every other module includes it.
 *
 * Thread safety: everything here is safe to call from any thread. The error
 * message is per thread. A thread pool is shared by its submitters.
 */
#ifndef HOIST_UTIL_INTERNAL_H
#define HOIST_UTIL_INTERNAL_H

#include "hoist.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define HX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HX_LIKELY(x) __builtin_expect(!!(x), 1)
#define HX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define HX_PRINTF(a, b)
#define HX_LIKELY(x) (x)
#define HX_UNLIKELY(x) (x)
#endif

/* Marks a hot loop the compiler should vectorise even at -O2 (GCC only:
 * clang vectorises at -O2 already). */
#if defined(__GNUC__) && !defined(__clang__)
#define HX_VECTORIZE __attribute__((optimize("O3")))
#else
#define HX_VECTORIZE
#endif

typedef enum hoist_status hx_status;

/* ---- errors ---------------------------------------------------------- */

/* Records `status` and a formatted message for hoist_errmsg(); returns status
 * so callers can `return hx_error(...)`. */
HOIST_NODISCARD hx_status hx_error(hx_status status, const char *fmt, ...) HX_PRINTF(2, 3);
HOIST_NODISCARD hx_status hx_errorv(hx_status status, const char *fmt, va_list ap);

/* Prepends "prefix: " to the current thread's message, keeping the status.
 * Used to add the object name as an error travels up ("s3://b/k: ..."). */
HOIST_NODISCARD hx_status hx_error_prefix(hx_status status, const char *fmt, ...) HX_PRINTF(2, 3);

/* Clears the thread's message (successful public calls do this). */
void hx_error_clear(void);

/* Copies the thread's message into buf (for streams that keep their own). */
void hx_error_copy(char *buf, size_t cap);

#define HX_TRY(expr)                                                                                                   \
    do {                                                                                                               \
        hx_status hx_try_status_ = (expr);                                                                             \
        if (HX_UNLIKELY(hx_try_status_ != HOIST_OK)) return hx_try_status_;                                            \
    } while (0)

#define HX_FAIL(code, ...) return hx_error((code), __VA_ARGS__)

#define HX_FAIL_IF(cond, code, ...)                                                                                    \
    do {                                                                                                               \
        if (HX_UNLIKELY(cond)) return hx_error((code), __VA_ARGS__);                                                   \
    } while (0)

/* ---- allocation -------------------------------------------------------- */

void *hx_malloc(size_t size);
void *hx_calloc(size_t count, size_t size);
void *hx_realloc(void *ptr, size_t size);
void hx_free(void *ptr);
char *hx_strdup(const char *s);
char *hx_strndup(const char *s, size_t n);
char *hx_asprintf(const char *fmt, ...) HX_PRINTF(1, 2);

/* 64-byte aligned blocks for Arrow buffers (Arrow columnar spec recommends
 * 64-byte alignment). Free with hx_aligned_free only. */
void *hx_aligned_alloc(size_t size);
void hx_aligned_free(void *ptr);
/* Whether ptr (from hx_aligned_alloc) is a large block mapped for this
 * allocation (or reused from the cache with less than half of it
 * resident); false for a block reused from the cache with its pages mostly
 * resident, or a malloc'd one. Page advice (huge pages, prefaulting) pays
 * only on fresh blocks. */
bool hx_aligned_fresh(const void *ptr);
/* Unmaps the large blocks alloc.c keeps for reuse (see there). */
void hx_big_cache_trim(void);

/* Test hook: make the Nth allocation from now fail (0 disables). Counts all
 * threads. Lets tests check every failure path frees what it took. */
void hx_alloc_fail_after(uint64_t n);

/* Overflow-checked size arithmetic; false on overflow. */
static inline bool hx_mul_size(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool hx_add_size(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

/* Rows a keep mask (bytes 0 or 1) keeps: eight at a time, the product
 * with 0x0101...01 adding a word's bytes into its top byte (at most 8, no
 * carry). Used by the Parquet decoder and the dataset scan alike. */
static inline size_t hx_count_kept(const uint8_t *keep, size_t n) {
    size_t k = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, keep + i, 8);
        k += (size_t)((w * 0x0101010101010101ull) >> 56);
    }
    for (; i < n; i++) k += keep[i];
    return k;
}

/* ---- growable byte buffer -------------------------------------------- */

struct hx_buf {
    char *data;
    size_t len;
    size_t cap;
};

void hx_buf_init(struct hx_buf *buf);
void hx_buf_reset(struct hx_buf *buf); /* frees memory */
HOIST_NODISCARD hx_status hx_buf_reserve(struct hx_buf *buf, size_t extra);
HOIST_NODISCARD hx_status hx_buf_append(struct hx_buf *buf, const void *data, size_t len);
HOIST_NODISCARD hx_status hx_buf_append_str(struct hx_buf *buf, const char *s);
HOIST_NODISCARD hx_status hx_buf_printf(struct hx_buf *buf, const char *fmt, ...) HX_PRINTF(2, 3);
/* Gives the buffer's memory (NUL-terminated) to the caller; the buf is reset. */
char *hx_buf_detach(struct hx_buf *buf);

/* ---- CRCs (crc.c) --------------------------------------------------------- */

/* The CRCs of S3's flexible checksums; also the values of hx_net_req.crc_kind. */
enum hx_crc_kind { HX_CRC_NONE = 0, HX_CRC_32C = 1, HX_CRC_32 = 2, HX_CRC_64NVME = 3 };

/* CRC-64/NVME (S3's CRC64NVME) of data, continuing from crc (0 to start). */
uint64_t hx_crc64nvme_update(uint64_t crc, const void *data, size_t n);
/* The same by the portable table alone (tests compare the two paths). */
uint64_t hx_crc64nvme_update_table(uint64_t crc, const void *data, size_t n);
/* The CRC of A||B from crc_a = CRC(A), crc_b = CRC(B) and B's length, for
 * kind HX_CRC_32C, HX_CRC_32 or HX_CRC_64NVME (0 for any other kind). */
uint64_t hx_crc_combine(int kind, uint64_t crc_a, uint64_t crc_b, uint64_t len_b);
/* Any of the three CRCs of a few bytes, bit by bit (a COMPOSITE checksum is
 * the CRC of its parts' CRCs: at most 80 KB); continues from crc (0 to start). */
uint64_t hx_crc_update_small(int kind, uint64_t crc, const void *data, size_t n);

/* ---- logging ------------------------------------------------------------ */

void hx_log(enum hoist_log_level level, const char *fmt, ...) HX_PRINTF(2, 3);
bool hx_log_enabled(enum hoist_log_level level);
#define HX_DEBUG(...) (hx_log_enabled(HOIST_LOG_DEBUG) ? hx_log(HOIST_LOG_DEBUG, __VA_ARGS__) : (void)0)
#define HX_INFO(...) (hx_log_enabled(HOIST_LOG_INFO) ? hx_log(HOIST_LOG_INFO, __VA_ARGS__) : (void)0)
#define HX_WARN(...) (hx_log_enabled(HOIST_LOG_WARN) ? hx_log(HOIST_LOG_WARN, __VA_ARGS__) : (void)0)

/* ---- thread pool ---------------------------------------------------------
 * A fixed set of worker threads running submitted tasks in FIFO order.
 * Tasks are grouped: hx_pool_wait(group) blocks until every task of that
 * group has run, so several users can share one pool. Tasks must not block
 * on the network (DESIGN.md concurrency model).
 */
struct hx_pool;
struct hx_task_group;
typedef void (*hx_task_fn)(void *arg);

/* nthreads 0 = number of online CPUs. */
HOIST_NODISCARD hx_status hx_pool_new(unsigned nthreads, struct hx_pool **out);
void hx_pool_free(struct hx_pool *pool); /* waits for queued tasks */
unsigned hx_pool_size(const struct hx_pool *pool);

HOIST_NODISCARD hx_status hx_task_group_new(struct hx_pool *pool, struct hx_task_group **out);
/* Queues fn(arg) in the group. Fails only on allocation failure. */
HOIST_NODISCARD hx_status hx_task_group_submit(struct hx_task_group *group, hx_task_fn fn, void *arg);
/* Blocks until all tasks submitted to the group so far have finished. */
void hx_task_group_wait(struct hx_task_group *group);
void hx_task_group_free(struct hx_task_group *group); /* waits first */

/* ---- calendar dates (civil.c) -------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t hx_days_from_civil(int64_t y, unsigned m, unsigned d);
void hx_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* "YYYY-MM-DD" (exactly len = 10 bytes, a real calendar day) -> days since
 * 1970-01-01. The one date parser of the CSV codec and the dataset layer. */
bool hx_parse_date(const char *s, size_t len, int64_t *days);
/* The n ASCII digits at s as a number (no sign, no blanks); false on any other byte. */
bool hx_parse_digits(const char *s, size_t n, unsigned *out);

/* ---- machine queries (sys.c) ------------------------------------------- */

/* Number of online CPUs (at least 1). */
unsigned hx_cpu_count(void);
/* Total physical memory in bytes (0 if unknown). */
uint64_t hx_total_memory(void);
/* Memory page size in bytes (4096 if unknown). */
size_t hx_page_size(void);
/* Monotonic clock in seconds. */
double hx_now(void);

#endif /* HOIST_UTIL_INTERNAL_H */
