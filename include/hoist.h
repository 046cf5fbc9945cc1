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
    HOIST_ERR_NOMEM = 1,       /* an allocation failed */
    HOIST_ERR_INVALID_ARG = 2, /* a caller passed a bad argument */
    HOIST_ERR_IO = 3,          /* local file system I/O failed */
    HOIST_ERR_UNSUPPORTED = 4, /* a valid request hoist does not support */
    HOIST_ERR_CANCELLED = 5,   /* the caller cancelled the operation */
    HOIST_ERR_INTERNAL = 6,    /* a bug in hoist: please report it */
    HOIST_ERR_LIMIT = 7,       /* a configured limit (memory budget, size) was exceeded */
    HOIST_ERR_USAGE = 8,       /* bad command line or expression syntax */
    HOIST_ERR_NOT_FOUND = 9,   /* a local file or named item does not exist */
    HOIST_ERR_EXISTS = 10,     /* the destination exists and overwrite was refused */

    /* network, store and S3: 100..199 */
    HOIST_ERR_NET = 100,            /* connection failed, reset or timed out (after retries) */
    HOIST_ERR_TLS = 101,            /* TLS handshake or certificate verification failed */
    HOIST_ERR_HTTP = 102,           /* an unexpected HTTP status without a mapped S3 code */
    HOIST_ERR_S3_NO_SUCH_KEY = 103, /* NoSuchKey / 404 on an object */
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
    HOIST_ERR_S3_OTHER = 118, /* another S3 error code; the message has it */

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
    HOIST_ERR_ARROW_INVALID = 400, /* an Arrow array or schema violates the spec */
    HOIST_ERR_ARROW_TYPE = 401,    /* an Arrow type hoist cannot handle here */

    /* dataset: 500..599 */
    HOIST_ERR_SCHEMA_MISMATCH = 500, /* files of one dataset disagree on a column */
    HOIST_ERR_FILTER = 501,          /* a filter expression is invalid */
    HOIST_ERR_EMPTY_DATASET = 502,   /* a prefix holds no data files */

    /* Apache Iceberg tables (600-699) */
    HOIST_ERR_ICEBERG_CORRUPT = 600 /* malformed table metadata, manifest list or manifest: the message names it */
};

/* Static, never-NULL text for a status (e.g. "out of memory"). */
HOIST_API const char *hoist_strerror(enum hoist_status status);

/* What kind of failure a status is, for callers that react to the kind
 * rather than the exact code (SQLite's primary vs extended result codes):
 * retry a TRANSIENT failure, report NOT_FOUND as a missing object, and so
 * on. Every status belongs to exactly one class; the classes are pinned and
 * never renumbered, and a new status joins an existing class. docs/errors.md
 * lists the class of each status. */
enum hoist_status_class {
    HOIST_CLASS_OK = 0,
    HOIST_CLASS_NOT_FOUND = 1,     /* the named object, bucket, file, column or data does not exist */
    HOIST_CLASS_ACCESS = 2,        /* refused: permissions, credentials, TLS trust */
    HOIST_CLASS_INVALID_INPUT = 3, /* the caller's arguments, URL, expression or data cannot be used as given */
    HOIST_CLASS_CORRUPT_DATA = 4,  /* bytes read (a file, a server response) are malformed */
    HOIST_CLASS_TRANSIENT = 5,     /* network or server trouble that outlasted the retries: try again later */
    HOIST_CLASS_CANCELLED = 6,     /* the caller asked to stop */
    HOIST_CLASS_RESOURCE = 7,      /* out of memory, or over a configured limit */
    HOIST_CLASS_UNSUPPORTED = 8,   /* valid, but a feature hoist does not have */
    HOIST_CLASS_EXISTS = 9,        /* refused because something already exists there */
    HOIST_CLASS_INTERNAL = 10,     /* a bug in hoist, or a status this version does not know */
    HOIST_CLASS_IO = 11,           /* local file system I/O failed (the message has errno's text) */
    HOIST_CLASS_REMOTE = 12        /* the store refused for a reason hoist does not classify */
};

/* The class of a status; HOIST_CLASS_INTERNAL for a value that is not a
 * status. Thread-safe, no side effects. */
HOIST_API enum hoist_status_class hoist_status_class(enum hoist_status status);

/* Static, never-NULL lower_snake name of a class ("not_found",
 * "transient", ...); "unknown" for a value that is not a class. */
HOIST_API const char *hoist_status_class_name(enum hoist_status_class cls);

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
HOIST_API void hoist_allocator_set(const struct hoist_allocator *allocator);

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
    /* sizeof(struct hoist_progress) in the library that filled this: fields
     * are only ever added at the end, so a callback built against a newer
     * header reads a field only when HOIST_PROGRESS_HAS says it is there. */
    size_t struct_size;
    uint64_t bytes_done; /* loads, transfers: bytes moved; writes: bytes encoded */
    uint64_t bytes_total;
    uint64_t objects_done; /* objects transferred; writes: files committed */
    uint64_t objects_total;
    int64_t rows_done;       /* writes: rows taken from the input stream (0 where not counted) */
    uint64_t bytes_uploaded; /* writes: bytes the store has accepted (0 where not counted) */
    /* writes: the most bytes the writer has held at once so far (encoded
     * pages not yet handed to an upload, upload buffers, parts in flight,
     * small files held for the commit), what memory_limit bounds */
    uint64_t bytes_buffered_peak;
};
#define HOIST_PROGRESS_HAS(p, field) ((p)->struct_size >= offsetof(struct hoist_progress, field) + sizeof((p)->field))
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

/* ======================================================================
 * Object store client (src/store, src/s3, src/net).
 *
 * URLs: s3://bucket/key, file:///abs/path, or a plain local path. One client
 * serves any number of threads: calls may run concurrently, each on its own
 * event loop over the client's shared connection pool. Progress callbacks run
 * on the calling thread.
 * ====================================================================== */

struct hoist_store_config;
struct hoist_store;

enum hoist_store_option {
    HOIST_STORE_ENDPOINT = 1,          /* str: e.g. http://127.0.0.1:8333 (else env/profile/AWS) */
    HOIST_STORE_REGION = 2,            /* str */
    HOIST_STORE_PROFILE = 3,           /* str: ~/.aws profile name */
    HOIST_STORE_ACCESS_KEY_ID = 4,     /* str */
    HOIST_STORE_SECRET_ACCESS_KEY = 5, /* str */
    HOIST_STORE_SESSION_TOKEN = 6,     /* str */
    HOIST_STORE_NO_SIGN_REQUEST = 7,   /* int 0/1: anonymous requests */
    HOIST_STORE_VERIFY_TLS = 8,        /* int 0/1, default 1 */
    HOIST_STORE_CONCURRENCY = 9,       /* int: max requests in flight; 0 = automatic */
    HOIST_STORE_PART_SIZE = 10,        /* int: bytes per ranged GET / multipart part; 0 = auto */
    HOIST_STORE_MAX_RETRIES = 11,      /* int: attempts after the first, default 10 */
    HOIST_STORE_STALL_TIMEOUT = 12,    /* int: seconds with no bytes before a retry, default 30 */
    HOIST_STORE_CONNECT_TIMEOUT = 13,  /* int: seconds, default 10 */
    HOIST_STORE_ADDRESSING = 14,       /* str: "path", "virtual" or "auto" (default) */
    HOIST_STORE_TMPDIR = 15,           /* str: temp root for downloads (default METAFLOW_TEMPDIR, TMPDIR, /tmp) */
    HOIST_STORE_SSE = 16,              /* str: server-side encryption of puts: "AES256", "aws:kms" or
                                          "aws:kms:dsse" (default: none sent, the bucket's default applies) */
    HOIST_STORE_SSE_KMS_KEY_ID = 17,   /* str: KMS key id, ARN or alias for "aws:kms" (default: aws/s3) */
    HOIST_STORE_CA_BUNDLE = 18, /* str: PEM file of CAs to trust for https (default AWS_CA_BUNDLE, else the system's) */
    HOIST_STORE_CHECKSUM = 19,  /* str: "when_supported" (default: CRC32C on PUTs, CRC64NVME on parts with a
                                   FULL_OBJECT object checksum, checked on whole downloads when the
                                   store has one), "when_required" (no
                                   x-amz-checksum-* headers, Content-MD5 on uploads: for stores that
                                   reject them), "always" (a whole download must come with a checksum) */
    HOIST_STORE_ROLE_ARN = 20,  /* str: assume this IAM role (STS AssumeRole) with the credentials found
                                   otherwise; refreshed before expiry (metaflow.S3's role=) */
    HOIST_STORE_INJECT_FAILURES = 21, /* int 0..100: tests: that % of first attempts fail (before sending) and
                                         are retried (metaflow.S3's inject_failure_rate); default 0 */
    HOIST_STORE_MIN_RATE = 22,        /* int: bytes/s, default 4096; 0 = no limit. Each request attempt must end within
                                         STALL_TIMEOUT + (bytes it moves) / MIN_RATE seconds, else it fails as a
                                         timeout and is retried (so a server trickling bytes cannot hold it forever) */
    HOIST_STORE_FSYNC = 23,           /* int 0/1: fsync each local file written (and its directory) before it
                                         counts as done; default 0 (the page cache flushes it later) */
    HOIST_STORE_FOLLOW_SYMLINKS = 24  /* int 0/1: local listings follow symlinks (a link to a directory already
                                         being walked is skipped: no loops); default 0: symlinks are skipped */
};

/* Config: a bag of options; unset options come from the environment and
 * ~/.aws files when the client is created (docs/store.md gives the order). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_config_new(struct hoist_store_config **out);
HOIST_API void hoist_store_config_free(struct hoist_store_config *cfg);
/* Setters range-check and copy their input. Wrong type for the option or an
 * out-of-range value: HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_config_set_str(struct hoist_store_config *cfg,
                                                                       enum hoist_store_option opt, const char *value);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_config_set_int(struct hoist_store_config *cfg,
                                                                       enum hoist_store_option opt, int64_t value);

/* Creates a client. cfg may be NULL (all from the environment); it is copied. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_new(const struct hoist_store_config *cfg,
                                                            struct hoist_store **out);
HOIST_API void hoist_store_free(struct hoist_store *store);

/* What is known of an object. Strings belong to the struct; release them with
 * hoist_store_object_info_reset(). metadata_json is the user metadata as a JSON
 * object (metaflow.S3's layout: one x-amz-meta-metaflow-user-attributes
 * header), or NULL when there is none. */
struct hoist_object_info {
    char *url;
    uint64_t size;
    int64_t last_modified; /* Unix seconds, 0 if unknown */
    char *etag;
    char *content_type;
    char *metadata_json;
    char *encryption; /* x-amz-server-side-encryption ("AES256", "aws:kms"), NULL if not reported */
};
HOIST_API void hoist_store_object_info_reset(struct hoist_object_info *info);

/* Where a get writes its bytes. */
enum hoist_dest {
    HOIST_DEST_ALLOC = 0,  /* hoist allocates `data` (free with hoist_free) */
    HOIST_DEST_BUFFER = 1, /* caller memory: buffer/buffer_size; too small = HOIST_ERR_LIMIT */
    HOIST_DEST_FILE = 2    /* a file at `path`, written under a temp name and renamed when whole */
};

/* One object of hoist_store_get_many. Fields marked "in" are read; "out" are
 * written. Zero the struct, then fill the "in" fields. */
struct hoist_get_item {
    const char *url;      /* in */
    int64_t offset;       /* in: first byte (0 = start) */
    int64_t length;       /* in: bytes to read; -1 = to the end */
    int suffix;           /* in: 1 = the last `length` bytes (offset ignored) */
    enum hoist_dest dest; /* in */
    void *buffer;         /* in: HOIST_DEST_BUFFER */
    size_t buffer_size;   /* in: HOIST_DEST_BUFFER */
    const char *path;     /* in: HOIST_DEST_FILE */

    enum hoist_status status;      /* out: HOIST_OK, HOIST_ERR_S3_NO_SUCH_KEY, ... */
    char *error;                   /* out: message when status != OK (hoist_free) */
    void *data;                    /* out: HOIST_DEST_ALLOC bytes (hoist_free) or the caller buffer */
    uint64_t size;                 /* out: bytes written */
    uint64_t range_start;          /* out: offset of data[0] within the object */
    struct hoist_object_info info; /* out: size (whole object), etag, content type, metadata */
};
/* Frees what a get_many put into the item (data when allocated, error, info). */
HOIST_API void hoist_store_get_item_reset(struct hoist_get_item *item);

/* Flags for the *_many calls. */
#define HOIST_RETURN_MISSING 1u /* a missing object is reported in its item, not as a failure */
#define HOIST_NO_OVERWRITE                                                                                             \
    2u /* put: never replace an existing object (atomic If-None-Match); get into                                       \
          files: never replace an existing file (atomic link()); HOIST_ERR_EXISTS */

/* Fetches n objects (or ranges) concurrently; large ones are split into
 * ranged parts written at their offsets. Results stay in input order in the
 * items. Returns HOIST_OK when every item succeeded (or was missing with
 * HOIST_RETURN_MISSING); otherwise the first failing item's status, with a
 * message naming its URL. Items are always filled in, so callers can see
 * which objects failed. progress may be NULL. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_get_many(struct hoist_store *store,
                                                                 struct hoist_get_item *items, size_t n, unsigned flags,
                                                                 hoist_progress_fn progress, void *userdata);

/* One object of hoist_store_put_many: from memory (data/size) or from a file
 * (path). content_type and metadata_json may be NULL. */
struct hoist_put_item {
    const char *url;           /* in */
    const void *data;          /* in: body in memory, or NULL to read `path` */
    uint64_t size;             /* in: body size when data is set */
    const char *path;          /* in: local file to upload when data is NULL */
    const char *content_type;  /* in */
    const char *metadata_json; /* in: a JSON object of user metadata */

    enum hoist_status status; /* out: OK, HOIST_ERR_EXISTS when skipped by HOIST_NO_OVERWRITE, ... */
    char *error;              /* out (hoist_free) */
};
HOIST_API void hoist_store_put_item_reset(struct hoist_put_item *item);

/* Uploads n objects concurrently (multipart for large bodies, aborted on
 * failure so nothing partial is left). With HOIST_NO_OVERWRITE, an object
 * that exists is skipped with item status HOIST_ERR_EXISTS and the call does
 * not fail for it. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_put_many(struct hoist_store *store,
                                                                 struct hoist_put_item *items, size_t n, unsigned flags,
                                                                 hoist_progress_fn progress, void *userdata);

/* HEAD of n objects. Missing objects: see HOIST_RETURN_MISSING. */
struct hoist_info_item {
    const char *url;               /* in */
    enum hoist_status status;      /* out */
    char *error;                   /* out (hoist_free) */
    struct hoist_object_info info; /* out */
};
HOIST_API void hoist_store_info_item_reset(struct hoist_info_item *item);
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_store_info_many(struct hoist_store *store, struct hoist_info_item *items, size_t n, unsigned flags);

/* Server-side copy: each src_url object is copied to dst_url by the store
 * itself (CopyObject; objects larger than the multipart part size as a
 * multipart upload of UploadPartCopy ranges, in parallel), so no byte passes
 * through the client. Type and user metadata are kept; the client's SSE
 * setting applies to the copy. Both URLs must be s3:// on this client's
 * endpoint. The source must not change during the copy (its ETag is a
 * condition). A failed multipart copy is aborted. Per-item results in
 * status/error; the call fails as a whole only when cancelled or out of
 * memory. flags: 0 (HOIST_NO_OVERWRITE is not supported: HOIST_ERR_INVALID_ARG). */
struct hoist_copy_item {
    const char *src_url;      /* in */
    const char *dst_url;      /* in */
    enum hoist_status status; /* out */
    char *error;              /* out (hoist_free) */
    uint64_t size;            /* out: bytes copied */
};
HOIST_API void hoist_store_copy_item_reset(struct hoist_copy_item *item);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_copy_many(struct hoist_store *store,
                                                                  struct hoist_copy_item *items, size_t n,
                                                                  unsigned flags, hoist_progress_fn progress,
                                                                  void *userdata);

/* Listing. One level (recursive = 0: objects and common prefixes directly
 * under each prefix, metaflow list_paths) or all leaves (recursive = 1,
 * metaflow list_recursive). A prefix is a directory: "s3://b/log" lists
 * "s3://b/log/..." and never "s3://b/log_other". Prefixes are listed
 * concurrently; entries come grouped by prefix in input order, sorted by key
 * within a prefix. */
struct hoist_list_entry {
    char *url;    /* full URL (prefixes end with '/') */
    char *prefix; /* the requested prefix it was found under */
    uint64_t size;
    int64_t last_modified;
    char *etag;
    int is_prefix; /* 1 for a common prefix ("directory") */
};
struct hoist_list {
    struct hoist_list_entry *entries;
    size_t count;
};
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_list(struct hoist_store *store, const char *const *prefixes,
                                                             size_t n, int recursive, struct hoist_list *out);
HOIST_API void hoist_store_list_reset(struct hoist_list *list);

/* Streaming listing of one prefix (same semantics and order as
 * hoist_store_list): entries come one at a time and only one page of them
 * (1,000 on S3) is held, so memory does not grow with the number of keys.
 * open does not request anything yet on S3; next fetches a page when the one
 * in hand is used up. *entry is borrowed until the next next/close, and NULL
 * at the end. A failed next can be retried or the iterator closed. A local
 * directory is walked in one go at open. One thread at a time per iterator. */
struct hoist_list_iter;
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_list_open(struct hoist_store *store, const char *prefix,
                                                                  int recursive, struct hoist_list_iter **out);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_list_next(struct hoist_list_iter *it,
                                                                  const struct hoist_list_entry **entry);
HOIST_API void hoist_store_list_close(struct hoist_list_iter *it);

/* Deletes n objects (batched DeleteObjects on S3). Missing objects are not
 * an error. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_delete_many(struct hoist_store *store, const char *const *urls,
                                                                    size_t n);

/* Buckets, for local servers and tests: s3://name. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_bucket_create(struct hoist_store *store, const char *url);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_bucket_delete(struct hoist_store *store, const char *url);

/* Recursive download (aws s3 cp --recursive): every object under prefix_url
 * lands in a file under dest_dir (a local path) at its key's name relative
 * to the prefix: with prefix s3://b/p, s3://b/p/x/y.csv becomes
 * dest_dir/x/y.csv. The prefix is a directory, as in hoist_store_list
 * (s3://b/p never picks up s3://b/p_other/...); file:// prefixes work too.
 * "dir/" placeholder objects of size 0 are skipped. Every key is checked
 * (hoist_store_join_path) before anything is downloaded: one that would land
 * outside dest_dir fails the call with HOIST_ERR_UNSAFE_KEY naming it, and
 * nothing is written. Files are written under temp names and renamed when
 * whole; missing parent directories are created. Flags: HOIST_NO_OVERWRITE
 * skips files that exist locally (their entry has status HOIST_ERR_EXISTS
 * and the call does not fail for them).
 * out (may be NULL) receives one entry per object in listing order (release
 * with hoist_store_prefix_files_reset); it is left empty when the call fails
 * before downloading (listing failed, unsafe key). Returns HOIST_OK when
 * every object arrived or was skipped (an empty prefix is HOIST_OK with no
 * entries), otherwise as hoist_store_get_many: the first failing object's
 * status, with the entries saying which failed. progress as in get_many. */
struct hoist_prefix_file {
    char *url;                /* the object */
    char *path;               /* where it was (or would have been) written */
    uint64_t size;            /* bytes written */
    enum hoist_status status; /* HOIST_OK, HOIST_ERR_EXISTS (skipped), or the failure */
    char *error;              /* message when status != OK */
};
struct hoist_prefix_files {
    struct hoist_prefix_file *files;
    size_t count;
};
HOIST_API void hoist_store_prefix_files_reset(struct hoist_prefix_files *files);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_get_prefix(struct hoist_store *store, const char *prefix_url,
                                                                   const char *dest_dir, unsigned flags,
                                                                   hoist_progress_fn progress, void *userdata,
                                                                   struct hoist_prefix_files *out);

/* The one safe mapping of a key (relative to a downloaded prefix) to a local
 * path under dir, used by hoist_store_get_prefix and by callers that name
 * local files after keys. Keys are refused, never rewritten (a rewrite could
 * make two keys collide on one file): "", absolute keys, and keys with an
 * empty, "." or ".." segment ("a//b", "a/", "x/..", "a/../../b") give
 * HOIST_ERR_UNSAFE_KEY. *path is "dir/key" (hoist_free). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_store_join_path(const char *dir, const char *key, char **path);

/* Transfer counters since the client was created (for summaries/benchmarks). */
struct hoist_store_stats {
    uint64_t bytes_received;
    uint64_t bytes_sent;
    uint64_t requests;
    uint64_t retries;
};
/* Fills the first `size` bytes of *out (pass sizeof *out): a program built
 * against an older, shorter struct keeps working when fields are added. */
HOIST_API void hoist_store_get_stats(struct hoist_store *store, struct hoist_store_stats *out, size_t size);

/* ======================================================================
 * Parquet reader (src/parquet, src/arrow). Codecs do no I/O: they decode
 * bytes the caller holds.
 *
 * Two levels:
 *  - struct hoist_pq_file: a parsed footer (schema, row groups, column
 *    chunks, statistics). Immutable once made; share it between threads.
 *    hoist_pq_decode_field() decodes one top-level field of one row group
 *    from the bytes of its column chunks, so a loader can fetch exactly those
 *    ranges and decode them in parallel as they arrive.
 *  - struct hoist_pq_reader: a whole file in memory or mmapped, read into
 *    record batches. One reader per thread.
 * Arrow output follows pyarrow's type mapping (docs/parquet.md). Buffers are
 * 64-byte aligned and owned by the arrays' release callbacks, which may run
 * on any thread after the file or reader is gone.
 * ====================================================================== */

struct hoist_pq_file;
struct hoist_pq_reader;

/* Decode flags. */
#define HOIST_PQ_NO_CRC 1u             /* do not verify page CRCs */
#define HOIST_PQ_DICT_AS_DICTIONARY 2u /* keep dictionary-encoded strings as Arrow dictionary arrays */

/* From the last bytes of a file (at least 8), the number of bytes at the end
 * of the file that hold the footer (metadata + 4-byte length + "PAR1").
 * name is used in messages. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_footer_size(const void *tail, size_t tail_len, uint64_t file_size,
                                                                 const char *name, uint64_t *footer_size);

/* Parses a footer: `footer` holds the last footer_size bytes of a file of
 * file_size bytes (more bytes before them are fine: tail_len >= footer_size).
 * name (URL or path) is copied and used in every message. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_file_new(const void *tail, size_t tail_len, uint64_t file_size,
                                                              const char *name, struct hoist_pq_file **out);
HOIST_API void hoist_pq_file_free(struct hoist_pq_file *file);

HOIST_API int64_t hoist_pq_file_num_rows(const struct hoist_pq_file *file);
HOIST_API int hoist_pq_file_num_row_groups(const struct hoist_pq_file *file);
HOIST_API int64_t hoist_pq_file_row_group_num_rows(const struct hoist_pq_file *file, int row_group);
/* Top-level fields of the Arrow schema (a nested column is one field). */
HOIST_API int hoist_pq_file_num_fields(const struct hoist_pq_file *file);
/* Index of the top-level field called name, or -1. */
HOIST_API int hoist_pq_file_field_index(const struct hoist_pq_file *file, const char *name);
/* The file's Arrow schema: a struct ("+s") with one child per top-level field,
 * with the key-value metadata pyarrow exposes. Caller releases. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_file_schema(const struct hoist_pq_file *file, unsigned flags,
                                                                 struct ArrowSchema *out);
/* The byte range [offset, offset + length) of the file holding every column
 * chunk (dictionary and data pages) of a top-level field in a row group. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_file_field_range(const struct hoist_pq_file *file, int row_group,
                                                                      int field, uint64_t *offset, uint64_t *length);

/* Column chunk statistics of a flat (non-nested) top-level field, converted
 * to the field's Arrow value domain, and only when trustworthy (Parquet
 * rules on sort order, deprecated min/max, NaN, truncation). */
enum hoist_pq_stat_kind {
    HOIST_PQ_STAT_NONE = 0,   /* no usable min/max */
    HOIST_PQ_STAT_INT = 1,    /* signed ints, dates (days), times and timestamps in their Arrow unit */
    HOIST_PQ_STAT_UINT = 2,   /* unsigned ints */
    HOIST_PQ_STAT_DOUBLE = 3, /* float16/32/64 */
    HOIST_PQ_STAT_BYTES = 4,  /* strings and binary, compared as unsigned bytes */
    HOIST_PQ_STAT_BOOL = 5,   /* min_i/max_i are 0/1 */
    HOIST_PQ_STAT_DECIMAL = 6 /* decimals, as unscaled values in the field's scale: min_i/max_i
                                 for INT32/INT64 storage (min_b NULL), else min_b/max_b as
                                 big-endian two's complement (1 to 32 bytes) */
};
struct hoist_pq_stats {
    enum hoist_pq_stat_kind kind;
    int has_null_count;
    int64_t null_count;
    int64_t num_values; /* values including nulls */
    int64_t min_i, max_i;
    uint64_t min_u, max_u;
    double min_d, max_d;
    const uint8_t *min_b, *max_b; /* point into the file object; valid while it lives */
    size_t min_b_len, max_b_len;
};
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_file_field_stats(const struct hoist_pq_file *file, int row_group,
                                                                      int field, struct hoist_pq_stats *out);

/* Decodes top-level field `field` of `row_group`. bytes holds the file's
 * bytes [bytes_offset, bytes_offset + bytes_len), which must cover
 * hoist_pq_file_field_range(). Writes an array of the field's type (as in
 * hoist_pq_file_schema) to *out; the caller releases it. Safe to call
 * concurrently for any fields and row groups of one file. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_decode_field(const struct hoist_pq_file *file, int row_group,
                                                                  int field, const void *bytes, uint64_t bytes_offset,
                                                                  size_t bytes_len, unsigned flags,
                                                                  struct ArrowArray *out);

/* A whole file: from memory (borrowed: keep it alive and unchanged until the
 * reader is closed and every stream made from it is released) or from a
 * local path (mmapped). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_reader_open_memory(const void *data, size_t size, const char *name,
                                                                        unsigned flags, struct hoist_pq_reader **out);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_reader_open_file(const char *path, unsigned flags,
                                                                      struct hoist_pq_reader **out);
HOIST_API void hoist_pq_reader_close(struct hoist_pq_reader *reader);
HOIST_API const struct hoist_pq_file *hoist_pq_reader_file(const struct hoist_pq_reader *reader);

/* Streams record batches (struct arrays, one per row group, in row-group
 * order) of the chosen columns (top-level names; NULL/0 = all) and row
 * groups (NULL/0 = all). threads > 1 decodes columns in parallel (0 = all
 * cores). The stream holds what it needs: it may outlive the reader (but
 * not memory passed to open_memory). Unknown column: HOIST_ERR_COLUMN_NOT_FOUND. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_reader_stream(struct hoist_pq_reader *reader,
                                                                   const char *const *columns, size_t ncolumns,
                                                                   const int *row_groups, size_t nrow_groups,
                                                                   unsigned threads, struct ArrowArrayStream *out);

/* ======================================================================
 * Parquet encoder (src/parquet): Arrow record batches → Parquet bytes,
 * handed to a sink callback in file order (no I/O inside). Columns of a row
 * group are encoded in parallel on an internal worker pool; the bytes are
 * identical whatever the thread count.
 *
 * Thread safety: options objects and writers are used by one thread at a
 * time. The sink runs on the thread that calls write/flush/close.
 * ====================================================================== */

/* Options for one Parquet file (defaults in the enum below). */
struct hoist_pq_write_options;
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_new(struct hoist_pq_write_options **out);
HOIST_API void hoist_pq_write_options_free(struct hoist_pq_write_options *opts);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_copy(const struct hoist_pq_write_options *src,
                                                                        struct hoist_pq_write_options **out);

enum hoist_pq_write_option {
    HOIST_PQW_COMPRESSION =
        1, /* str: "none","snappy","gzip","zstd","lz4_raw","brotli", optional ":LEVEL" ("zstd:3"); default "snappy" */
    HOIST_PQW_ROW_GROUP_ROWS,    /* int: max rows per row group; default 1,048,576 */
    HOIST_PQW_ROW_GROUP_BYTES,   /* int: max uncompressed bytes per row group; default 128 MiB */
    HOIST_PQW_PAGE_BYTES,        /* int: target data page size; default 1 MiB */
    HOIST_PQW_DICT_PAGE_BYTES,   /* int: dictionary size limit before falling back to PLAIN; default 1 MiB */
    HOIST_PQW_DICTIONARY,        /* int 0/1: use RLE_DICTIONARY where possible; default 1 */
    HOIST_PQW_DATA_PAGE_VERSION, /* int 1 or 2; default 1 */
    HOIST_PQW_STATISTICS,        /* int 0/1; default 1 (chunk + page statistics) */
    HOIST_PQW_PAGE_INDEX,        /* int 0/1: ColumnIndex + OffsetIndex; default 1 */
    HOIST_PQW_PAGE_CRC,          /* int 0/1; default 0 */
    HOIST_PQW_CREATED_BY,        /* str; default "hoist version X" */
    HOIST_PQW_THREADS,           /* int: encoder threads, 0 = all cores; default 0 */
    HOIST_PQW_STORE_ARROW_SCHEMA /* int 0/1: ARROW:schema key-value metadata; default 1 */
};
/* Out-of-range values and options of the wrong kind: HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_pq_write_options_set_str(struct hoist_pq_write_options *o, enum hoist_pq_write_option opt, const char *v);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_int(struct hoist_pq_write_options *o,
                                                                           enum hoist_pq_write_option opt, int64_t v);
/* Per column (dotted path of a top-level or nested leaf, e.g. "fare" or
 * "loc.lat"; a list element is "tags.list.element" as in path_in_schema):
 * HOIST_PQW_COMPRESSION and HOIST_PQW_DICTIONARY. A path that names no leaf
 * fails hoist_pq_writer_new with HOIST_ERR_COLUMN_NOT_FOUND. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_column_str(struct hoist_pq_write_options *o,
                                                                                  const char *column,
                                                                                  enum hoist_pq_write_option opt,
                                                                                  const char *v);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_column_int(struct hoist_pq_write_options *o,
                                                                                  const char *column,
                                                                                  enum hoist_pq_write_option opt,
                                                                                  int64_t v);
/* encoding: "plain", "delta_binary_packed", "delta_length_byte_array",
 * "delta_byte_array", "byte_stream_split" (used for the column's pages
 * instead of dictionary encoding). An encoding the column's physical type
 * cannot use fails hoist_pq_writer_new with HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_pq_write_options_set_column_encoding(struct hoist_pq_write_options *o, const char *column, const char *encoding);
/* A split-block bloom filter per chunk of the column, sized for ndv distinct
 * values at false-positive rate fpp (0 < fpp < 1). */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_pq_write_options_set_column_bloom_filter(struct hoist_pq_write_options *o, const char *column, double fpp,
                                               int64_t ndv);
/* Adds a key-value pair to the file's metadata (after the schema's own). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_add_metadata(struct hoist_pq_write_options *o,
                                                                                const char *key, const char *value);

/* The sink: called with the file's bytes in order. Returns 0 to go on,
 * non-zero (a hoist_status) to stop the write with that status. Called on the
 * thread that calls write/flush/close. */
typedef int (*hoist_pq_sink_fn)(void *userdata, const void *data, size_t len);

struct hoist_pq_writer;
/* schema: an Arrow struct schema (format "+s"), borrowed; copied. opts may be
 * NULL (defaults); copied. The magic "PAR1" reaches the sink with the first
 * row group. Unsupported types: HOIST_ERR_UNSUPPORTED. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_new(const struct ArrowSchema *schema,
                                                                const struct hoist_pq_write_options *opts,
                                                                hoist_pq_sink_fn sink, void *userdata,
                                                                struct hoist_pq_writer **out);
/* batch: a struct array matching the schema; borrowed (the writer copies what
 * it needs before returning). Row groups are cut at the configured limits; a
 * full row group is encoded (columns in parallel) and emitted to the sink.
 * A field declared non-nullable that holds nulls: HOIST_ERR_INVALID_ARG.
 * After a failure the writer can only be freed. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_write(struct hoist_pq_writer *w,
                                                                  const struct ArrowArray *batch);
/* Ends the current row group early (e.g. before a file rollover). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_flush(struct hoist_pq_writer *w);
/* Bytes buffered in the writer not yet given to the sink. */
HOIST_API uint64_t hoist_pq_writer_buffered_bytes(const struct hoist_pq_writer *w);
/* Bytes given to the sink so far. */
HOIST_API uint64_t hoist_pq_writer_bytes_written(const struct hoist_pq_writer *w);
HOIST_API int64_t hoist_pq_writer_num_rows(const struct hoist_pq_writer *w);
HOIST_API int hoist_pq_writer_num_row_groups(const struct hoist_pq_writer *w);
/* Flushes the last row group, writes bloom filters, page indexes, footer and
 * magic. The writer must then be freed. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_close(struct hoist_pq_writer *w);
HOIST_API void hoist_pq_writer_free(struct hoist_pq_writer *w);
/* Convenience: writes every batch of stream (consumed and released, also on
 * failure) as one file, then closes it. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_stream(struct ArrowArrayStream *stream,
                                                                  const struct hoist_pq_write_options *opts,
                                                                  hoist_pq_sink_fn sink, void *userdata);

/* ======================================================================
 * Datasets (src/dataset): load a Parquet dataset from object storage into
 * Arrow. docs/datasets.md has the guide and the filter language.
 *
 * A dataset is opened from a prefix ("s3://b/taxi/", "file:///data/taxi/",
 * a local directory), a list of file URLs, or a glob ("s3://b/t/part-*.parquet").
 * Hive directories (`month=2024-01/`) become typed partition columns. Opening
 * lists the files and reads every footer (one suffix range GET each), so the
 * schema, the row groups kept by the filter and the shards are known before
 * any column data moves. Scanning then fetches only the projected column
 * chunks and decodes them on worker threads while later ones download, within
 * one memory budget.
 *
 * Threads: a config is used by one thread at a time. A dataset may be scanned
 * by several threads at once (each scan is independent); its stats are
 * updated by the scans. A stream is used by one thread at a time; its release
 * may run on any thread.
 * ====================================================================== */

struct hoist_dataset_config;
struct hoist_dataset;

HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_new(struct hoist_dataset_config **out);
HOIST_API void hoist_dataset_config_free(struct hoist_dataset_config *cfg);

/* Columns to load, by top-level name (partition columns included), in the
 * output order. n = 0 means all columns (file columns, then partition
 * columns). Names are copied. Unknown names fail at open with
 * HOIST_ERR_COLUMN_NOT_FOUND. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_columns(struct hoist_dataset_config *cfg,
                                                                             const char *const *names, size_t n);
/* on = 1: batches without columns, whose lengths count the rows the filter
 * and sample keep (what `SELECT count(*)` needs; overrides set_columns).
 * The scan fetches the least that gives those counts: nothing beyond the
 * footers when the dataset has a Hive partition column, else the filter's
 * columns, else the one file column with the fewest stored bytes. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_rows_only(struct hoist_dataset_config *cfg,
                                                                               int on);
/* A row filter, e.g. "passenger_count > 1 AND payment_type IN ('CRD', 'CSH')"
 * (NULL or "" clears it). Parsed here: bad syntax is HOIST_ERR_FILTER with a
 * message quoting the expression and pointing at the offending token. Columns
 * are resolved at open. Filter columns need not be among the loaded columns. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_filter(struct hoist_dataset_config *cfg,
                                                                            const char *expr);
/* Keeps each row with probability `fraction` (0 < fraction <= 1), decided by
 * a hash of (seed, file, row), so the same seed gives the same rows however
 * the dataset is scanned or sharded. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_sample(struct hoist_dataset_config *cfg,
                                                                            double fraction, uint64_t seed);
/* At most `rows` rows (in scan order, after filter and sample); -1 = all. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_limit(struct hoist_dataset_config *cfg,
                                                                           int64_t rows);
/* Bytes of column chunks in flight or waiting to be decoded, plus, for a
 * scan, decoded batches its consumer has not taken yet (the loaded table
 * itself is the caller's). 0 = default: 1/8 of physical memory, at most
 * 256 MiB (enough to keep the network busy). A row group bigger than the
 * budget is still loaded, alone, so a load always makes progress. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_memory_limit(struct hoist_dataset_config *cfg,
                                                                                  uint64_t bytes);
/* Decoding threads; 0 = number of cores. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_threads(struct hoist_dataset_config *cfg,
                                                                             unsigned threads);
/* 1 = a file that is not valid Parquet (or has an incompatible schema) is
 * skipped and reported (hoist_dataset_skipped) instead of failing the load. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_skip_bad(struct hoist_dataset_config *cfg,
                                                                              int skip_bad);
/* Hive partitions: 1 (default) turns `key=value/` directories into columns. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_hive(struct hoist_dataset_config *cfg, int enable);
/* Overrides the inferred type of a partition column: type is "int32",
 * "int64", "string" or "date32" (values must parse as that type, else open
 * fails with HOIST_ERR_SCHEMA_MISMATCH). Without an override (as pyarrow):
 * all values integers -> int32 (int64 if one does not fit); all YYYY-MM-DD ->
 * date32; else string. __HIVE_DEFAULT_PARTITION__ is null. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_dataset_config_set_partition_type(struct hoist_dataset_config *cfg, const char *column, const char *type);
/* Flags passed to hoist_pq_decode_field (HOIST_PQ_NO_CRC, HOIST_PQ_DICT_AS_DICTIONARY). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_decode_flags(struct hoist_dataset_config *cfg,
                                                                                  unsigned flags);
/* Store settings for the client hoist_dataset_open makes when it is given no
 * store. Borrowed: keep store_cfg alive until hoist_dataset_open returns. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_dataset_config_set_store_config(struct hoist_dataset_config *cfg, const struct hoist_store_config *store_cfg);
/* Progress of scans (bytes of column chunks fetched of those planned, row
 * groups fetched of those planned). Runs on one of the scan's fetch threads,
 * one call at a time, after each batch of requests; non-zero cancels
 * (HOIST_ERR_CANCELLED). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_progress(struct hoist_dataset_config *cfg,
                                                                              hoist_progress_fn fn, void *userdata);

/* The files' format: HOIST_DATASET_PARQUET (default) or HOIST_DATASET_CSV.
 * CSV files (plain, gzip, zstd or bzip2, by magic bytes) share the schema
 * inferred from the head of the first file (dialect, header, column types;
 * every later file is read with those types, as pyarrow.dataset does);
 * partitions, projection, filter, sample, limit and shards work as for
 * Parquet, with one unit per file (shards are whole files, stats count
 * files as row groups). docs/csv.md has the details. */
enum hoist_dataset_format { HOIST_DATASET_PARQUET = 0, HOIST_DATASET_CSV = 1 };
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_format(struct hoist_dataset_config *cfg,
                                                                            int format);
/* CSV dialect and type options for a CSV dataset (copied; NULL = defaults).
 * Its column list is ignored (use set_columns); a column type set here
 * overrides the inferred one. */
struct hoist_csv_options;
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_config_set_csv_options(struct hoist_dataset_config *cfg,
                                                                                 const struct hoist_csv_options *opts);

/* Opens a dataset: lists, reads footers, unifies schemas, resolves and prunes
 * by the filter. urls: n >= 1 entries, each a prefix (ending in '/' or a
 * directory), a file URL, or a glob (* ? [..] in the key). A file URL may end
 * in a row-group selection "#rg=0-3,7" (what hoist_dataset_shards makes).
 * store: the client to use (borrowed; must outlive the dataset and every
 * stream made from it), or NULL to make one from the config's store settings
 * (or the environment). cfg may be NULL (defaults); it is copied.
 * Errors: HOIST_ERR_EMPTY_DATASET (no data files under a prefix/glob),
 * HOIST_ERR_S3_NO_SUCH_KEY (a listed file is missing), HOIST_ERR_PARQUET_*
 * naming the file (unless skip_bad), HOIST_ERR_SCHEMA_MISMATCH naming both
 * files and the column, HOIST_ERR_COLUMN_NOT_FOUND, HOIST_ERR_FILTER (unknown
 * column or a literal of the wrong type, message with a caret). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_open(struct hoist_store *store, const char *const *urls,
                                                               size_t n, const struct hoist_dataset_config *cfg,
                                                               struct hoist_dataset **out);
/* Frees the dataset; streams made from it stay valid (they hold a reference). */
HOIST_API void hoist_dataset_close(struct hoist_dataset *ds);

/* The output schema (a struct "+s": projected columns, unified across files,
 * then partition columns). Caller releases. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_schema(struct hoist_dataset *ds, struct ArrowSchema *out);

/* Streams record batches (struct arrays with the schema above), one per kept
 * row group, in file order then row-group order; filtered, sampled and
 * limited. Decoding runs ahead of the consumer within the memory budget. An
 * error mid-scan (network after retries, a corrupt chunk) ends the stream with
 * that error from get_next (and get_last_error says what and where); a stream
 * never ends early without an error. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_scan(struct hoist_dataset *ds, struct ArrowArrayStream *out);
/* Loads the whole result before returning: on success *out is a stream over
 * batches already in memory (a table: pyarrow.Table.from_batches takes it
 * without a copy); on any failure nothing is returned. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_load(struct hoist_dataset *ds, struct ArrowArrayStream *out);

/* Splits the dataset's kept row groups into at most n shards balanced by the
 * bytes of their projected column chunks, deterministically (same dataset,
 * config and n -> same shards). By default whole files go to shards; with
 * HOIST_SHARD_ROW_GROUPS files are split between row groups when that balances
 * better. Shard i is a list of file URLs (with "#rg=..." selections when split)
 * that hoist_dataset_open accepts; loading every shard with the same config
 * yields every row exactly once. *count may be < n when there are fewer
 * files/row groups than n. Free with hoist_dataset_shards_free. */
#define HOIST_SHARD_ROW_GROUPS 1u
struct hoist_shard {
    char **urls;
    size_t count;
    uint64_t bytes; /* projected column-chunk bytes */
    int64_t rows;   /* rows before filter and sample */
};
HOIST_API HOIST_NODISCARD enum hoist_status hoist_dataset_shards(struct hoist_dataset *ds, size_t n, unsigned flags,
                                                                 struct hoist_shard **shards, size_t *count);
HOIST_API void hoist_dataset_shards_free(struct hoist_shard *shards, size_t count);

/* What open and the scans so far cost. Times are wall seconds, except
 * decode_seconds: CPU-seconds of the decode workers (decoding, widening,
 * filtering), summed over threads. */
struct hoist_dataset_stats {
    uint64_t files;               /* data files opened */
    uint64_t files_skipped;       /* bad files skipped (skip_bad) */
    uint64_t row_groups;          /* row groups in the files */
    uint64_t row_groups_pruned;   /* skipped by partitions or statistics */
    uint64_t dataset_bytes;       /* sum of the data files' sizes */
    uint64_t bytes_fetched;       /* footers, page indexes and column chunks received */
    uint64_t requests;            /* GET requests issued (ranges, after coalescing) */
    int64_t rows;                 /* rows output by scans */
    int64_t columns;              /* output columns */
    uint64_t output_bytes;        /* bytes of the Arrow buffers output */
    uint64_t peak_pipeline_bytes; /* most bytes held in flight + undecoded */
    double list_seconds;
    double footer_seconds;
    double download_seconds; /* first request to last byte of the scans */
    double decode_seconds;
    double scan_seconds; /* wall time of the scans */
    /* Page skipping (docs/datasets.md): data pages of the loaded flat
     * columns, and rows of row groups kept by their statistics, that the
     * filter ruled out by the page index (not fetched, not decoded). */
    uint64_t pages_skipped;
    int64_t rows_skipped_by_page_index;
    /* Files a filter on Hive keys ruled out by their paths alone: never
     * opened, their footers not read (not in files or row_groups). */
    uint64_t files_pruned;
};
/* Fills the first `size` bytes of *out (pass sizeof *out), so the struct can
 * grow without breaking programs built against an older header. */
HOIST_API void hoist_dataset_get_stats(struct hoist_dataset *ds, struct hoist_dataset_stats *out, size_t size);

/* Text listing the skipped bad files, one "url: reason" per line ("" when
 * none). Free with hoist_free. NULL on allocation failure. */
HOIST_API char *hoist_dataset_skipped(struct hoist_dataset *ds);

/* ======================================================================
 * Dataset writer (src/write): an Arrow stream → Parquet files under a
 * prefix (Hive "key=value/" partitions) or one Parquet file, all or nothing:
 * every file stays invisible (pending multipart upload, hidden temp file)
 * until the whole stream is written; then all are committed and, for a
 * directory, "_SUCCESS" (a JSON manifest listing them) is written last. A
 * failure or cancel leaves no new object and no pending multipart upload.
 * docs/write.md has the guide.
 *
 * Thread safety: a config is used by one thread at a time; a write runs on
 * the calling thread (plus the store's I/O thread and the encoder's pool).
 * ====================================================================== */
struct hoist_pq_write_options; /* the Parquet encoder's options (above) */
struct hoist_write_config;
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_config_new(struct hoist_write_config **out);
HOIST_API void hoist_write_config_free(struct hoist_write_config *c);
/* Top-level columns whose values name the partition directories, in order
 * (copied). Types: integers, bool, date32, (large) utf8 and dictionaries of
 * those; others fail the write with HOIST_ERR_ARROW_TYPE. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_config_set_partition_by(struct hoist_write_config *c,
                                                                                const char *const *columns, size_t n);
/* Options of every Parquet file (copied); without, the encoder's defaults. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_write_config_set_parquet_options(struct hoist_write_config *c, const struct hoist_pq_write_options *o);
enum hoist_write_option {
    HOIST_WRITE_MAX_ROWS_PER_FILE = 1,  /* int, 0 = unlimited */
    HOIST_WRITE_MAX_BYTES_PER_FILE,     /* int, 0 = unlimited (a file rolls over once past it) */
    HOIST_WRITE_EXISTING,               /* str: "error" (default), "overwrite", "append" */
    HOIST_WRITE_NAME_TEMPLATE,          /* str: default "part-{id}-{n}.parquet"; {id} = write id, {n} = file number */
    HOIST_WRITE_KEEP_PARTITION_COLUMNS, /* int 0/1, default 0 */
    HOIST_WRITE_MEMORY_LIMIT,           /* int bytes; default 256 MiB, at most RAM/4 */
    HOIST_WRITE_MAX_OPEN_FILES,         /* int; default 64 */
    HOIST_WRITE_LINEAGE_JSON,           /* str: a JSON object stored as "lineage" in the manifest */
    HOIST_WRITE_MANIFEST,               /* int 0/1, default 1: write _SUCCESS */
    HOIST_WRITE_COMMIT,                 /* str: "now" (default) or "defer" (see hoist_write_commit_pending) */
    HOIST_WRITE_ID                      /* str: the write id ({id}, 1..47 of A-Z a-z 0-9 . _ -); default a new one */
};
/* Bad values (unknown mode, template without {n} or with '/', negative
 * sizes, lineage that is not a JSON object): HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_config_set_str(struct hoist_write_config *c,
                                                                       enum hoist_write_option opt, const char *v);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_config_set_int(struct hoist_write_config *c,
                                                                       enum hoist_write_option opt, int64_t v);
/* Called on the writing thread after each batch (bytes_done: bytes encoded
 * so far; objects_done: files finished); non-zero cancels the write. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_config_set_progress(struct hoist_write_config *c,
                                                                            hoist_progress_fn fn, void *userdata);

/* Writes every batch of `stream` (consumed and released) under `url`: a URL
 * ending in ".parquet" writes one file; otherwise a dataset directory. All or
 * nothing: on failure or cancel nothing is left visible (no object, no
 * pending multipart upload). On success, *manifest_json (if not NULL)
 * receives the manifest text (free with hoist_free). existing = "error" and
 * something there: HOIST_ERR_EXISTS. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_dataset(struct hoist_store *store, const char *url,
                                                                struct ArrowArrayStream *stream,
                                                                const struct hoist_write_config *cfg,
                                                                char **manifest_json);

/* Deferred commit: one dataset written by many tasks (processes, machines),
 * published once by a driver. Each task calls hoist_write_dataset with
 * HOIST_WRITE_COMMIT "defer" and the driver's HOIST_WRITE_ID (and a name
 * template that keeps tasks apart, e.g. "part-{id}-<task>-{n}.parquet"):
 * its files are written but nothing is completed (S3: every file stays an
 * uncompleted multipart upload, a small one as a one-part upload; file://:
 * a hidden temp file ".<name>.hoist-XXXXXX" beside its destination), no
 * existing check is made (the driver makes it before starting tasks) and
 * *manifest_json receives a pending description instead of a manifest: JSON
 * with "format": "hoist-pending", the root, write id, schema, partitioning
 * and, per file, its path, rows, bytes, row groups, partition values and
 * "upload" (upload id, checksum kind, parts with ETags and checksums, or
 * the temp file). It holds no credential. A task that fails leaves nothing
 * (its own rollback); one that succeeds leaves uploads that only a commit
 * can publish, so a task still running when the driver aborts can never
 * make a file visible. Pending uploads live on the store, not in the task:
 * the task process may exit. Not for a single .parquet URL.
 *
 * hoist_write_commit_pending completes every upload of the n descriptions
 * (all of `url` and one write id) and writes one _SUCCESS listing all their
 * files (cfg: HOIST_WRITE_EXISTING "append" keeps the old manifest's files,
 * "overwrite" those outside the partitions written and deletes the replaced
 * objects after publishing; HOIST_WRITE_LINEAGE_JSON; HOIST_WRITE_MANIFEST 0
 * writes none; NULL cfg: defaults), then aborts any other pending upload of
 * the write id under url (a lost task attempt). If a completion fails, the
 * files already completed are deleted and the rest aborted: nothing is
 * published. *manifest_json (if not NULL) receives the manifest.
 *
 * hoist_write_abort_pending aborts every upload the n descriptions list and
 * then every pending upload under url whose name carries write_id (S3
 * ListMultipartUploads; file:// hidden temp files), which catches tasks that
 * died before reporting; empty partition directories of file:// go too.
 * Best effort over all of them; returns the first failure. write_id NULL:
 * the descriptions' own. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_commit_pending(struct hoist_store *store, const char *url,
                                                                       const char *const *pending_json, size_t n,
                                                                       const struct hoist_write_config *cfg,
                                                                       char **manifest_json);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_write_abort_pending(struct hoist_store *store, const char *url,
                                                                      const char *write_id,
                                                                      const char *const *pending_json, size_t n);

/* ======================================================================
 * CSV (src/csv; files and objects: src/dataset). CSV text to Arrow record
 * batches, from memory, a local file, an S3 object or fed blocks.
 * docs/csv.md has the guide.
 *
 * Dialect: RFC 4180 plus a chosen delimiter, quote and escape character,
 * doubled quotes, quoted line breaks, LF/CRLF/CR line ends, a UTF-8 BOM,
 * comment lines, blank lines (skipped) and a missing final line break.
 * Unset, the delimiter (among , \t ; |) and the presence of a header are
 * sniffed from the data; a file without a header gets columns f0, f1, ...
 *
 * Types: unless set per column, inferred from rows sampled from every part
 * of the input (the head and the start of every chunk) into, in order of
 * preference, int64, bool, double, date32 (YYYY-MM-DD), timestamp[us]
 * (YYYY-MM-DD[T ]HH:MM[:SS[.f]]), timestamp[us, tz=UTC] (the same with a zone:
 * Z, +HH:MM, ...) and string (UTF-8); a column of only nulls is of type null.
 * A later value that does not fit an inferred type widens the column
 * (int64 -> double -> string, date32 -> timestamp, otherwise string); a value
 * that does not fit a type the caller set is an error naming its line and
 * column. Null strings (default: pyarrow's list: "", "NA", "NULL", "null",
 * "NaN", "nan", "N/A", "#N/A", ...) make nulls in non-string columns, and in
 * string columns too with HOIST_CSV_STRINGS_CAN_BE_NULL.
 *
 * Bad input (a row with the wrong number of fields, an unterminated quote,
 * invalid UTF-8 in a string column, a value failing its set type) fails with
 * HOIST_ERR_CSV_PARSE and "name: line L, column C ('col'): cause"; with
 * HOIST_CSV_SKIP_BAD_ROWS such rows are left out and counted
 * (struct hoist_csv_stats). Nothing partial is returned on failure.
 *
 * Threads: an options object or a reader is used by one thread at a time.
 * Parsing runs on a pool of `threads` workers owned by the call or reader.
 * Returned arrays and streams may be released on any thread.
 * ====================================================================== */

struct hoist_csv_options;
struct hoist_csv_reader;

enum hoist_csv_option {
    HOIST_CSV_DELIMITER = 1,           /* int: a byte; -1 = sniff (default) */
    HOIST_CSV_QUOTE = 2,               /* int: a byte, default '"'; 0 = no quoting */
    HOIST_CSV_ESCAPE = 3,              /* int: a byte (e.g. '\\'); 0 = none (default) */
    HOIST_CSV_DOUBLE_QUOTE = 4,        /* int 0/1: "" inside quotes is a quote (default 1) */
    HOIST_CSV_HEADER = 5,              /* int: 1 first row is a header, 0 not, -1 sniff (default) */
    HOIST_CSV_COMMENT = 6,             /* int: a byte starting comment lines; 0 = none (default) */
    HOIST_CSV_SKIP_BAD_ROWS = 7,       /* int 0/1: leave bad rows out instead of failing */
    HOIST_CSV_THREADS = 8,             /* int: worker threads, 0 = all cores (default) */
    HOIST_CSV_STRINGS_CAN_BE_NULL = 9, /* int 0/1: null strings make nulls in string columns too */
    HOIST_CSV_BLOCK_SIZE = 10,         /* int: bytes per parse chunk (one batch each); 0 = 1 MiB */
    HOIST_CSV_QUOTE_STRINGS = 11       /* writer, int 0/1: quote every string value and header name, as
                                          pyarrow does (default 0: only values that need it, RFC 4180) */
};

enum hoist_csv_list {
    HOIST_CSV_NULL_VALUES = 1,  /* strings read as null (replaces the default list) */
    HOIST_CSV_TRUE_VALUES = 2,  /* default "1", "True", "TRUE", "true" */
    HOIST_CSV_FALSE_VALUES = 3, /* default "0", "False", "FALSE", "false" */
    HOIST_CSV_COLUMNS = 4,      /* columns to output, in this order (default all) */
    HOIST_CSV_COLUMN_NAMES = 5  /* names of all columns; the first row is then data, unless
                                   HOIST_CSV_HEADER is 1 (then that row is skipped) */
};

HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_options_new(struct hoist_csv_options **out);
HOIST_API void hoist_csv_options_free(struct hoist_csv_options *opts);
/* Range-checked: a byte option outside 0..255 (or -1 where allowed), the
 * same byte as delimiter and quote, or a wrong option: HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_options_set_int(struct hoist_csv_options *opts,
                                                                      enum hoist_csv_option opt, int64_t value);
/* Replaces a list (copied). n = 0 with HOIST_CSV_NULL_VALUES means no
 * null strings; with the others it restores the default. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_options_set_strings(struct hoist_csv_options *opts,
                                                                          enum hoist_csv_list list,
                                                                          const char *const *values, size_t n);
/* Sets the type of a column by name: "null", "bool", "int64", "double"
 * (or "float64"), "date32", "timestamp[us]", "timestamp[us, tz=UTC]",
 * "string"; NULL type removes the override. Unknown type names:
 * HOIST_ERR_INVALID_ARG. A name not in the file fails the read with
 * HOIST_ERR_COLUMN_NOT_FOUND. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_options_set_column_type(struct hoist_csv_options *opts,
                                                                              const char *column, const char *type);

/* What a read did. */
struct hoist_csv_stats {
    int64_t rows;          /* rows output */
    uint64_t bytes;        /* input bytes parsed */
    int64_t bad_rows;      /* rows left out (HOIST_CSV_SKIP_BAD_ROWS) */
    uint64_t bad_lines[8]; /* line numbers of the first min(bad_rows, 8) of them */
};

/* Parses all of data[0, len) (borrowed for the call) on `threads` workers.
 * On success *out is a stream over batches already in memory (struct arrays,
 * one per chunk, in input order; no batch when there are no rows) that owns
 * its memory; get_schema gives the columns. opts may be NULL (defaults).
 * stats may be NULL; stats_size is sizeof *stats (only that many bytes are
 * written, so the struct can grow without breaking older programs). Statuses: HOIST_ERR_CSV_PARSE,
 * HOIST_ERR_COLUMN_NOT_FOUND, HOIST_ERR_NOMEM, HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_read_memory(const void *data, size_t len,
                                                                  const struct hoist_csv_options *opts,
                                                                  struct ArrowArrayStream *out,
                                                                  struct hoist_csv_stats *stats, size_t stats_size);

/* Reads a local CSV file: plain (mapped), gzip or zstd (by magic bytes,
 * decompressed as a stream, so memory is the result plus a few blocks).
 * Compressed input is read with the streaming reader below (its type
 * inference rule applies). Adds HOIST_ERR_NOT_FOUND, HOIST_ERR_IO. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_read_file(const char *path, const struct hoist_csv_options *opts,
                                                                struct ArrowArrayStream *out,
                                                                struct hoist_csv_stats *stats, size_t stats_size);

/* Reads a CSV object through a store: s3://bucket/key (a local path or
 * file:// URL goes to hoist_csv_read_file). The object is fetched in 8 MiB
 * ranged GETs, four at a time, the next four downloading (on a thread of
 * their own) while the current ones are decompressed (gzip or zstd, by
 * magic bytes) and parsed by the streaming reader below, so memory is the
 * result plus about 64 MiB of ranges and the reader's buffer; the streaming
 * reader's type inference rule applies.
 * store: borrowed, or NULL to make one from the environment for the call.
 * Adds the store's statuses (HOIST_ERR_S3_NO_SUCH_KEY, ...). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_read_url(struct hoist_store *store, const char *url,
                                                               const struct hoist_csv_options *opts,
                                                               struct ArrowArrayStream *out,
                                                               struct hoist_csv_stats *stats, size_t stats_size);

/* Streaming: feed the text in blocks of any size (split anywhere, even
 * inside a field), take batches as they are ready. The reader gathers
 * 4 x threads chunks (HOIST_CSV_BLOCK_SIZE), at least 4 MiB, of text before
 * each parse; types are inferred from the first such piece (rows sampled all
 * through it), so a later value that does not fit an inferred type fails with
 * HOIST_ERR_CSV_PARSE naming the line and column and asking for the column's
 * type (set it and read again).
 * opts may be NULL; it is copied. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_reader_new(const struct hoist_csv_options *opts,
                                                                 struct hoist_csv_reader **out);
HOIST_API void hoist_csv_reader_free(struct hoist_csv_reader *reader);
/* Copies len bytes in; parses when enough are buffered. After a failure
 * every call returns the same status. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_reader_feed(struct hoist_csv_reader *reader, const void *data,
                                                                  size_t len);
/* The input is complete: parses what is left (a last row without a line
 * break included). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_reader_finish(struct hoist_csv_reader *reader);
/* The output schema (caller releases), known once the first block was
 * parsed or the reader finished; before: HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_reader_schema(struct hoist_csv_reader *reader,
                                                                    struct ArrowSchema *out);
/* Moves the next ready batch into *out (the caller releases it), or leaves
 * out->release NULL when none is ready: after finish that is the end. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_reader_next(struct hoist_csv_reader *reader,
                                                                  struct ArrowArray *out);
/* Fills the first `size` bytes of *out (pass sizeof *out), so the struct can
 * grow without breaking programs built against an older header. */
HOIST_API void hoist_csv_reader_get_stats(const struct hoist_csv_reader *reader, struct hoist_csv_stats *out,
                                          size_t size);

/* ---- writing CSV ----------------------------------------------------------
 * Arrow record batches to CSV text (RFC 4180): a header row of the column
 * names (unless HOIST_CSV_HEADER is 0), fields separated by
 * HOIST_CSV_DELIMITER (',' when unset), a field holding the delimiter, the
 * quote, CR or LF quoted with HOIST_CSV_QUOTE (quotes doubled; with quoting
 * off such a value is HOIST_ERR_INVALID_ARG), LF after each row, nulls as
 * the first HOIST_CSV_NULL_VALUES string (default empty; a string value
 * equal to it is quoted). Values as pyarrow's CSV writer writes them, so
 * pyarrow.csv reads them back equal: integers, shortest round-trip floats
 * (nan, inf), true/false, dates YYYY-MM-DD, times and timestamps ISO 8601
 * with the unit's fraction digits ("2020-01-01 10:00:00.250000", "Z" when
 * the type has a zone: values are UTC), decimals with their scale; strings
 * and binaries as their bytes; dictionary arrays as their values. Nested
 * types: HOIST_ERR_UNSUPPORTED. The other reader options are ignored. */
struct hoist_csv_writer;
/* schema: a struct "+s" of the columns (borrowed; copied). opts may be NULL. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_writer_new(const struct hoist_csv_options *opts,
                                                                 const struct ArrowSchema *schema,
                                                                 struct hoist_csv_writer **out);
HOIST_API void hoist_csv_writer_free(struct hoist_csv_writer *writer);
/* Formats one batch (borrowed; a struct array of the schema) and, on the
 * first call, the header before it; batch NULL: the header alone (for a
 * table without rows). *text / *len: the text, owned by the writer and
 * valid until its next call. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_csv_writer_write(struct hoist_csv_writer *writer, const struct ArrowArray *batch, const void **text, size_t *len);
/* Writes every batch of `stream` (consumed and released) as one CSV file or
 * object at url: a local path, file:// or s3://bucket/key, through a
 * streamed upload (S3 multipart parts sent while later batches are
 * formatted; a hidden temp file renamed at the end locally), so memory is
 * a few parts and nothing is visible at url unless the whole stream was
 * written. store: borrowed, or NULL for one from the environment. *rows
 * (may be NULL) gets the rows written. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_csv_write_url(struct hoist_store *store, const char *url,
                                                                struct ArrowArrayStream *stream,
                                                                const struct hoist_csv_options *opts, int64_t *rows);

/* ======================================================================
 * EXPERIMENTAL API (zstd's ZSTD_STATIC_LINKING_ONLY pattern).
 *
 * Declared only when HOIST_EXPERIMENTAL_API is defined before including
 * this header. These functions work and are tested, but their signatures
 * may change in any 0.x release; a program that uses them should link
 * libhoist statically or pin the exact version. Everything above this line
 * is the stable API: it changes only with a new major version (and, while
 * hoist is 0.x, with a CHANGELOG entry).
 * ====================================================================== */
#if defined(HOIST_EXPERIMENTAL_API) || defined(HOIST_BUILDING)

/* ---- Arrow helpers (src/arrow) ------------------------------------------
 * For programs that hold Arrow data of their own (the Python extension is
 * one). Structs made here are released with their own release callback,
 * which may run on any thread; memory is hoist's allocator's. */

/* Deep copy of a schema (format, name, flags, metadata, children,
 * dictionary) into the caller's struct *out, which the caller releases.
 * src is borrowed. HOIST_ERR_ARROW_INVALID for a NULL format. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_arrow_schema_copy(const struct ArrowSchema *src,
                                                                    struct ArrowSchema *out);

/* A stream over batches the stream then owns: schema and arrays[0..n) are
 * moved into it (their release is set to NULL in the caller's structs; when
 * the call fails other than with HOIST_ERR_INVALID_ARG they are released);
 * the arrays container stays the caller's. get_next hands the batches out in order; get_schema gives
 * copies. Like every hoist stream it keeps its own get_last_error text. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_arrow_stream_from_arrays(struct ArrowSchema *schema,
                                                                           struct ArrowArray *arrays, size_t n,
                                                                           struct ArrowArrayStream *out);

/* A stream of zero-copy views of batches that `owner` keeps: get_next gives
 * an array sharing the buffers of arrays[i] (a consumer may move its
 * children out), get_schema a copy of schema. The stream and every exported
 * batch hold a reference on owner, taken with owner_ref and dropped with
 * owner_unref: one each, whatever the number of children. owner_unref runs
 * on whichever thread releases the last view (release callbacks may run on
 * any thread), so it must be thread-safe. schema and arrays are borrowed
 * for as long as owner is referenced and must not change meanwhile. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_arrow_stream_share(const struct ArrowSchema *schema,
                                                                     const struct ArrowArray *arrays, size_t n,
                                                                     void *owner, void (*owner_ref)(void *owner),
                                                                     void (*owner_unref)(void *owner),
                                                                     struct ArrowArrayStream *out);

/* Writes every batch of stream (borrowed; it is drained, the caller still
 * releases it) to an Arrow IPC file at path (Columnar.md "IPC File
 * Format", readable by pyarrow.ipc.open_file). Flat columns only: a nested
 * or dictionary column fails with HOIST_ERR_ARROW_TYPE naming it. A failure
 * of the stream returns its get_last_error text with the status matching
 * its errno (HOIST_ERR_NOMEM, _INVALID_ARG, _UNSUPPORTED, else HOIST_ERR_IO).
 * On any failure the file is removed: it exists only when complete. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_arrow_ipc_write_file(const char *path,
                                                                       struct ArrowArrayStream *stream);

/* Reads an Arrow IPC file (Columnar.md "IPC File Format": .arrow, Feather
 * v2) or stream ("IPC Streaming Format": .arrows, .ipc) into *out, a stream
 * of record batches the caller releases. The whole input is read (or
 * copied) now and the schema parsed; each batch owns its buffers (copied,
 * and decompressed when written with LZ4_FRAME or ZSTD). Every type the
 * Parquet writer takes, dictionaries included (replacement dictionaries of
 * the stream format too). Malformed data: HOIST_ERR_ARROW_INVALID (checked
 * with hostile input in mind: no batch handed out can make a consumer read
 * out of bounds); unions, intervals, run-end encoding: HOIST_ERR_ARROW_TYPE;
 * big-endian data, Feather v1 and delta dictionaries: HOIST_ERR_UNSUPPORTED.
 * read_memory: data is borrowed for the call. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_arrow_ipc_read_file(const char *path, struct ArrowArrayStream *out);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_arrow_ipc_read_memory(const void *data, size_t size, const char *name,
                                                                        struct ArrowArrayStream *out);

/* ======================================================================
 * Apache Iceberg read planning (src/iceberg), experimental: which data files a read of an
 * Iceberg table's snapshot must load, found from the table's metadata JSON,
 * its manifest list and manifests (Iceberg table spec, format versions 1
 * and 2) without a catalog library. The files are then loaded as a dataset
 * (hoist_dataset_open with Hive keys off). docs/iceberg.md has the guide.
 *
 * Thread safety: a plan is built on the calling thread (its reads run on
 * the store's event loop there); a finished plan is immutable.
 * ====================================================================== */

struct hoist_iceberg_plan;

/* Plans a read of the table whose metadata file is metadata_url (s3:// or
 * file://, read through store): the snapshot snapshot_id, or the current
 * one when snapshot_id < 0; its live data files (manifest entries ADDED or
 * EXISTING), pruned by identity partition values, partition summaries and
 * column bounds/null counts against filter (hoist's filter language; NULL:
 * no pruning; a filter that does not parse or bind to the table's schema
 * prunes nothing, the load reports it). A table without snapshots gives an
 * empty plan.
 * Refused with HOIST_ERR_UNSUPPORTED: a planned data file that delete files
 * apply to (merge-on-read), a data file that is not Parquet, a top-level
 * column renamed between schemas (hoist reads columns by name), format
 * versions other than 1 and 2. Malformed metadata or Avro:
 * HOIST_ERR_ICEBERG_CORRUPT naming the file; store errors as the store
 * reports them; an unknown snapshot_id: HOIST_ERR_NOT_FOUND.
 * *out (hoist_iceberg_plan_free) is NULL on failure. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_iceberg_plan_new(struct hoist_store *store, const char *metadata_url,
                                                                   const char *filter, int64_t snapshot_id,
                                                                   struct hoist_iceberg_plan **out);
HOIST_API void hoist_iceberg_plan_free(struct hoist_iceberg_plan *plan);

HOIST_API size_t hoist_iceberg_plan_num_files(const struct hoist_iceberg_plan *plan);
/* Data file i (< num_files, in manifest order): its location, rows and
 * bytes. The path is borrowed from the plan. NULL when i is out of range. */
HOIST_API const char *hoist_iceberg_plan_file(const struct hoist_iceberg_plan *plan, size_t i, int64_t *record_count,
                                              int64_t *file_size);
/* The schema the snapshot is read with, as Iceberg schema JSON (borrowed). */
HOIST_API const char *hoist_iceberg_plan_schema_json(const struct hoist_iceberg_plan *plan);

struct hoist_iceberg_plan_stats {
    int64_t snapshot_id; /* -1: the table has no snapshot */
    uint64_t manifests;  /* data and delete manifests in the snapshot */
    uint64_t manifests_pruned;
    uint64_t data_files; /* live data files in the manifests read */
    uint64_t data_files_pruned;
    uint64_t delete_files;   /* live delete files */
    uint64_t metadata_bytes; /* metadata JSON + manifest list + manifests fetched */
};
/* Copies min(size, sizeof) bytes of the plan's counters (ABI-safe growth). */
HOIST_API void hoist_iceberg_plan_get_stats(const struct hoist_iceberg_plan *plan, struct hoist_iceberg_plan_stats *out,
                                            size_t size);

#endif /* HOIST_EXPERIMENTAL_API */

#ifdef __cplusplus
}
#endif
#endif /* HOIST_H */
