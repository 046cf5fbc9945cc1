/*
 * hoist.h — the one public header of libhoist.
 *
 * hoist moves tables between object storage (S3 and S3-compatible stores, or
 * local files) and in-memory Apache Arrow. Anything not declared here is not
 * API.
 *
 * Conventions (see docs/c-api.md):
 *  - Every function that can fail returns enum hoist_status (HOIST_OK == 0).
 *    On failure a thread-local message, read with hoist_errmsg(), names the
 *    object and the cause. It stays valid until the next hoist call on the
 *    same thread.
 *  - Constructors take `**out` and set `*out = NULL` on failure. Every
 *    _free/_close accepts NULL.
 *  - Arguments are borrowed for the duration of the call unless stated.
 *    Memory hoist hands out as `void *`/`char *` is freed with hoist_free().
 *  - Thread safety is stated per object below.
 */
#ifndef HOIST_H
#define HOIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HOIST_BUILDING) && defined(__GNUC__)
#define HOIST_API __attribute__((visibility("default")))
#else
#define HOIST_API
#endif

#if defined(__GNUC__)
#define HOIST_NODISCARD __attribute__((warn_unused_result))
#else
#define HOIST_NODISCARD
#endif

#define HOIST_VERSION_MAJOR 0
#define HOIST_VERSION_MINOR 1
#define HOIST_VERSION_PATCH 0
#define HOIST_VERSION_STRING "0.1.0"

/* ======================================================================
 * Status codes. Grouped by module in pinned ranges; never renumbered.
 * docs/errors.md lists each with its cause and fix.
 * ====================================================================== */
enum hoist_status {
    HOIST_OK = 0,

    /* generic: 1..99 */
    HOIST_ERR_NOMEM = 1,          /* an allocation failed */
    HOIST_ERR_INVALID_ARG = 2,    /* a caller passed a bad argument */
    HOIST_ERR_IO = 3,             /* local file system I/O failed */
    HOIST_ERR_UNSUPPORTED = 4,    /* a valid request hoist does not support */
    HOIST_ERR_CANCELLED = 5,      /* the caller cancelled the operation */
    HOIST_ERR_INTERNAL = 6,       /* a bug in hoist: please report it */
    HOIST_ERR_LIMIT = 7,          /* a configured limit (memory budget, size) was exceeded */
    HOIST_ERR_USAGE = 8,          /* bad command line or expression syntax */
    HOIST_ERR_NOT_FOUND = 9,      /* a local file or named item does not exist */
    HOIST_ERR_EXISTS = 10,        /* the destination exists and overwrite was refused */

    /* network, store and S3: 100..199 */
    HOIST_ERR_NET = 100,              /* connection failed, reset or timed out (after retries) */
    HOIST_ERR_TLS = 101,              /* TLS handshake or certificate verification failed */
    HOIST_ERR_HTTP = 102,             /* an unexpected HTTP status without a mapped S3 code */
    HOIST_ERR_S3_NO_SUCH_KEY = 103,   /* NoSuchKey / 404 on an object */
    HOIST_ERR_S3_NO_SUCH_BUCKET = 104,
    HOIST_ERR_S3_ACCESS_DENIED = 105, /* AccessDenied / 403 */
    HOIST_ERR_S3_BAD_SIGNATURE = 106, /* SignatureDoesNotMatch, InvalidAccessKeyId */
    HOIST_ERR_S3_INVALID_RANGE = 107, /* InvalidRange / 416 */
    HOIST_ERR_S3_SLOW_DOWN = 108,     /* SlowDown / 503 (after retries) */
    HOIST_ERR_S3_SERVER = 109,        /* InternalError / 5xx (after retries) */
    HOIST_ERR_S3_TIMEOUT = 110,       /* RequestTimeout or stalled transfer (after retries) */
    HOIST_ERR_S3_PRECONDITION = 111,  /* PreconditionFailed: object exists (no-overwrite) */
    HOIST_ERR_S3_BAD_RESPONSE = 112,  /* malformed XML, wrong length, checksum mismatch */
    HOIST_ERR_BAD_URL = 113,          /* a URL or key hoist cannot use */
    HOIST_ERR_CREDENTIALS = 114,      /* credentials missing or unreadable */
    HOIST_ERR_UNSAFE_KEY = 115,       /* a key would write outside the destination */
    HOIST_ERR_S3_BUCKET_NOT_EMPTY = 116,
    HOIST_ERR_S3_BUCKET_EXISTS = 117,
    HOIST_ERR_S3_OTHER = 118,         /* another S3 error code; the message has it */

    /* Parquet: 200..299 */
    HOIST_ERR_PARQUET_CORRUPT = 200,     /* malformed file: the message says where */
    HOIST_ERR_PARQUET_UNSUPPORTED = 201, /* valid Parquet using a feature hoist lacks */
    HOIST_ERR_PARQUET_ENCRYPTED = 202,   /* encrypted Parquet is not supported */
    HOIST_ERR_PARQUET_CHECKSUM = 203,    /* page CRC mismatch */
    HOIST_ERR_PARQUET_NOT_PARQUET = 204, /* no PAR1 magic */
    HOIST_ERR_COLUMN_NOT_FOUND = 205,    /* a requested column is not in the schema */

    /* CSV: 300..399 */
    HOIST_ERR_CSV_PARSE = 300,

    /* Arrow: 400..499 */
    HOIST_ERR_ARROW_INVALID = 400,   /* an Arrow array or schema violates the spec */
    HOIST_ERR_ARROW_TYPE = 401,      /* an Arrow type hoist cannot handle here */

    /* dataset: 500..599 */
    HOIST_ERR_SCHEMA_MISMATCH = 500, /* files of one dataset disagree on a column */
    HOIST_ERR_FILTER = 501,          /* a filter expression is invalid */
    HOIST_ERR_EMPTY_DATASET = 502    /* a prefix holds no data files */
};

/* Static, never-NULL text for a status (e.g. "out of memory"). */
HOIST_API const char *hoist_strerror(enum hoist_status status);

/* The calling thread's message for its last failed hoist call ("" if none).
 * Valid until the next hoist call on this thread. */
HOIST_API const char *hoist_errmsg(void);

/* Version string, e.g. "0.1.0". */
HOIST_API const char *hoist_version(void);

/* ======================================================================
 * Memory.
 * ====================================================================== */

/* Frees memory hoist handed out (strings, buffers). NULL is a no-op. */
HOIST_API void hoist_free(void *ptr);

/* Replaces the allocator used by all of hoist. Call before any other hoist
 * call, from one thread; passing all NULL restores malloc/calloc/realloc/free.
 * Memory given out must be returned to the same allocator, so do not switch
 * while hoist objects or buffers are alive. The aligned allocations hoist makes
 * for Arrow buffers are carved out of these calls. */
struct hoist_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t count, size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
};
HOIST_API void hoist_set_allocator(const struct hoist_allocator *allocator);

/* ======================================================================
 * Logging. Messages go to stderr at or above the level, which starts from
 * HOIST_LOG=debug|info|warn|error (default warn). Secrets are never logged.
 * ====================================================================== */
enum hoist_log_level {
    HOIST_LOG_DEBUG = 0,
    HOIST_LOG_INFO = 1,
    HOIST_LOG_WARN = 2,
    HOIST_LOG_ERROR = 3,
    HOIST_LOG_OFF = 4
};
HOIST_API void hoist_log_set_level(enum hoist_log_level level);
HOIST_API enum hoist_log_level hoist_log_get_level(void);

/* ======================================================================
 * Progress. Long operations report through one callback type. It runs on
 * the thread that runs the operation's event loop (the I/O thread), so keep
 * it short. Return non-zero to cancel (the operation then fails with
 * HOIST_ERR_CANCELLED). Totals may be 0 while still unknown.
 * ====================================================================== */
struct hoist_progress {
    uint64_t bytes_done;
    uint64_t bytes_total;
    uint64_t objects_done;
    uint64_t objects_total;
};
typedef int (*hoist_progress_fn)(const struct hoist_progress *progress, void *userdata);

/* ======================================================================
 * Arrow C Data Interface and C Stream Interface (Apache Arrow spec, ABI
 * stable). Guarded so this header coexists with Arrow's own.
 * ====================================================================== */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};
#endif /* ARROW_C_STREAM_INTERFACE */

/* ---- store (object store client) ------------------------------------ */
/* (declared by the store module; see below) */

/* ---- parquet (Parquet reader) --------------------------------------- */
/* (declared by the parquet module; see below) */

/* ---- dataset (loading tables) --------------------------------------- */
/* (declared by the dataset module; see below) */

#ifdef __cplusplus
}
#endif
#endif /* HOIST_H */
