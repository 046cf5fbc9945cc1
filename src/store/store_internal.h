/*
 * store_internal.h — private to src/store: the client behind hoist_store_*,
 * URL parsing, the backend table (s3:// on the net + s3 layers, file://)
 * and helpers the backends share. Other layers include store.h instead.
 *
 * Threads: struct hoist_store is shared; every public call runs its own
 * event loop on the calling thread over the client's shared connections.
 */
#ifndef HOIST_STORE_INTERNAL_H
#define HOIST_STORE_INTERNAL_H

#include "net.h"
#include "s3.h"
#include "store.h"
#include "util_internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define HX_STORE_MAX_KEY 1024

struct hoist_store_config {
    char *endpoint, *region, *profile, *access_key, *secret_key, *session_token, *addressing, *tmpdir, *sse,
        *sse_kms_key_id, *ca_bundle, *checksum, *role_arn;
    int no_sign;                                                                 /* -1 unset */
    int verify_tls;                                                              /* -1 unset */
    int64_t concurrency, part_size, max_retries, stall_timeout, connect_timeout; /* -1 unset */
    int64_t min_rate;                                                            /* -1 unset */
    int inject_failures;                                                         /* 0..100 */
    int fsync, follow_symlinks;                                                  /* 0/1 */
};

struct hoist_store {
    struct hx_s3 s3;
    struct hx_net *net;
    int concurrency;           /* requests in flight per call */
    int small_put_concurrency; /* put_many of small objects (latency-bound); the net's maximum */
    uint64_t part_size;        /* ranged GET part size */
    int part_size_auto;        /* not set by the caller: get_many may use longer parts */
    double conn_rate;          /* bytes/s one connection is taken to carry (DESIGN.md: 0.4 Gbit/s); get_many adds
                                  streams to an object only while its stream is slower than needed to reach
                                  concurrency x conn_rate (tests change it to force or forbid splits) */
    uint64_t put_part_size;    /* multipart part size floor */
    char *tmpdir;
    char *ca_bundle;     /* the net's CA file (NULL: the system's) */
    int fsync;           /* HOIST_STORE_FSYNC */
    size_t item_window;  /* get_many/put_many items per backend call (store.c); tests lower it */
    int follow_symlinks; /* HOIST_STORE_FOLLOW_SYMLINKS */
    /* Learned: the server answered a conditional PUT with 412, so it honours
     * If-None-Match and no-overwrite needs no HEAD first. */
    atomic_int inm_honored;
    /* Learned: the store refused a CreateMultipartUpload with the FULL_OBJECT
     * CRC64NVME checksum, so this client's uploads use COMPOSITE CRC32C. */
    atomic_int full_object_refused;
};

/* How a new multipart upload is protected (an enum hx_crc_kind, see
 * hx_s3_mpu_create_request): FULL_OBJECT CRC64NVME, or COMPOSITE CRC32C on
 * a store that refused it, or nothing in checksum mode when_required. */
static inline int hx_store_mpu_checksum(struct hoist_store *st) {
    if (st->s3.set.checksum == HX_S3_CK_WHEN_REQUIRED) return HX_CRC_NONE;
    return atomic_load(&st->full_object_refused) ? HX_CRC_32C : HX_CRC_64NVME;
}

/* After a failed CreateMultipartUpload sent with checksum: when the store
 * refused the FULL_OBJECT CRC64NVME checksum, remembers that for the client
 * (as inm_honored is learned, once) and returns the kind to start the upload
 * again with; 0 when the failure is anything else. */
static inline int hx_store_mpu_fallback(struct hoist_store *st, const struct hx_net_req *req, int checksum) {
    if (checksum != HX_CRC_64NVME || !hx_s3_full_object_refused(req)) return 0;
    if (!atomic_exchange(&st->full_object_refused, 1))
        HX_WARN("the store refused FULL_OBJECT CRC64NVME multipart checksums; this client's uploads use COMPOSITE "
                "CRC32C ones, which downloads verify only part by part where the store lists the parts");
    return HX_CRC_32C;
}

/* Prefaults large destinations from a helper thread while the event loop
 * downloads into them (store_prefault.c). One per get_many call; the thread
 * starts with the first pushed range. A range is what one request writes,
 * front to back; the thread populates the first `window` queued ranges in
 * turn, a step of each, so it stays ahead of every writer at once instead of
 * finishing one range while the others fault their pages in themselves.
 * Items live in the caller's objects and must stay valid until
 * hx_prefault_stop, which joins the thread: call it before freeing any
 * pushed block. */
struct hx_prefault_item {
    uintptr_t pos, end; /* the whole pages still to populate */
    struct hx_prefault_item *next;
};
struct hx_prefault {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    struct hx_prefault_item *head, *tail;              /* guarded by mu */
    struct hx_prefault_item *cursor, *cursor_prev;     /* the next range in turn, and the one before it */
    int cursor_index;                                  /* cursor's place in the queue */
    int window;                                        /* ranges populated in turn (the requests in flight) */
    int started, running, joinable, stop, unsupported; /* guarded by mu */
    atomic_int stop_fast;
    size_t page;
};
void hx_prefault_init(struct hx_prefault *pf, int window);
/* Queues [ptr, ptr + len) (too small ones are ignored) and starts the thread. */
void hx_prefault_push(struct hx_prefault *pf, struct hx_prefault_item *it, void *ptr, size_t len);
/* The queueing and turn-taking behind push and the thread (for tests): queue
 * links the range without starting a thread; take hands out the next step
 * to populate, 0 when none is queued. Both with mu held. */
int hx_prefault_queue(struct hx_prefault *pf, struct hx_prefault_item *it, void *ptr, size_t len);
int hx_prefault_take(struct hx_prefault *pf, uintptr_t *at, size_t *len);
void hx_prefault_stop(struct hx_prefault *pf);

enum hx_url_kind { HX_URL_S3 = 0, HX_URL_FILE = 1, HX_URL_DONE = 2 /* already answered */, HX_URL_NKINDS = 3 };

struct hx_url {
    enum hx_url_kind kind;
    char *bucket; /* s3: bucket; points into buf */
    char *key;    /* s3: key ("" when the URL names a bucket); points into buf; NULL for paths */
    char *path;   /* file: local path; points into buf */
    char *buf;
};

/* Splits a URL: s3://bucket[/key], file:///path, or a plain local path.
 * Keys longer than 1024 bytes, empty buckets and unknown schemes are
 * HOIST_ERR_BAD_URL; ".." or empty segments in file:// URLs are
 * HOIST_ERR_UNSAFE_KEY. */
HOIST_NODISCARD hx_status hx_store_parse_url(const char *url, struct hx_url *out);
void hx_url_reset(struct hx_url *u);

/* Creates every missing parent directory of path (mode 0777 & ~umask). */
HOIST_NODISCARD hx_status hx_store_make_parents(const char *path);

/* How local files are written on the calling thread (store_util.c): set by
 * the public call (get_many: flags and fsync; get_prefix: the root), read by
 * hx_store_temp_for/commit_temp in whichever backend writes the file. */
struct hx_store_write_ctx {
    const char *root; /* names below it came from keys: no symlink is followed there (NULL: none) */
    unsigned flags;   /* HOIST_NO_OVERWRITE: commit with link(), never replacing a file */
    int fsync;        /* fsync the file and its directory at commit */
};
void hx_store_write_ctx_set(struct hx_store_write_ctx *saved, const struct hx_store_write_ctx *now);
const struct hx_store_write_ctx *hx_store_write_ctx_get(void);
void hx_store_write_ctx_restore(const struct hx_store_write_ctx *saved);

/* Temp file ".<name>.hoist-XXXXXX" next to path (same directory, so the
 * rename is atomic), created 0666 & ~umask; parents are made (below the
 * context's root without following symlinks: HOIST_ERR_UNSAFE_KEY). *fd is
 * open for writing and *tmp_path is hx_free'd by the caller. */
HOIST_NODISCARD hx_status hx_store_temp_for(const char *path, int *fd, char **tmp_path);
/* Moves a finished temp file into place under the thread's write context:
 * keeps an existing file's mode, fsyncs when asked, and with
 * HOIST_NO_OVERWRITE links instead of renaming (HOIST_ERR_EXISTS when the
 * name exists). The temp file is gone afterwards either way. */
HOIST_NODISCARD hx_status hx_store_commit_temp(int fd, const char *tmp_path, const char *path);

/* Copies a message for an item's `error` field (hoist_free'able). */
char *hx_store_errdup(void);

/* One backend per URL scheme behind a table of functions (curl's
 * Curl_handler), so the public calls parse, validate and dispatch in one
 * place. Each batch function receives the whole batch and handles only the
 * items whose urls[i].kind is its own; per-item outcomes go into the items
 * (status, error), and the returned status is for the call as a whole
 * (cancelled, out of memory, a listing or delete that failed). */
struct hx_store_backend {
    enum hx_url_kind kind;
    HOIST_NODISCARD hx_status (*get_many)(struct hoist_store *st, struct hoist_get_item *items, size_t n,
                                          struct hx_url *urls, unsigned flags, hoist_progress_fn progress,
                                          void *userdata);
    HOIST_NODISCARD hx_status (*put_many)(struct hoist_store *st, struct hoist_put_item *items, size_t n,
                                          struct hx_url *urls, unsigned flags, hoist_progress_fn progress,
                                          void *userdata);
    HOIST_NODISCARD hx_status (*info_many)(struct hoist_store *st, struct hoist_info_item *items, size_t n,
                                           struct hx_url *urls);
    /* Fills per[i] for each of its prefixes i (others are left alone). */
    HOIST_NODISCARD hx_status (*list)(struct hoist_store *st, const char *const *prefixes, size_t n,
                                      struct hx_url *urls, int recursive, struct hoist_list *per);
    /* One page of a streaming listing (hoist_store_list_open) of u, appended
     * to out, sorted. *token is NULL for the first page and is replaced by
     * the next one's (NULL after the last). NULL: the backend lists in one go
     * with `list` (file://: a local walk). */
    HOIST_NODISCARD hx_status (*list_page)(struct hoist_store *st, const char *prefix_url, struct hx_url *u,
                                           int recursive, char **token, struct hoist_list *out);
    HOIST_NODISCARD hx_status (*delete_many)(struct hoist_store *st, const char *const *urls_in, size_t n,
                                             struct hx_url *urls);
    /* NULL when the scheme has no buckets. u is a URL with an empty key. */
    HOIST_NODISCARD hx_status (*bucket)(struct hoist_store *st, const struct hx_url *u, int create);
};

extern const struct hx_store_backend hx_store_s3_backend;   /* store_s3_*.c */
extern const struct hx_store_backend hx_store_file_backend; /* store_file.c */

/* The backend of a URL kind (store.c's table), or NULL (HX_URL_DONE). */
const struct hx_store_backend *hx_store_backend_for(enum hx_url_kind kind);

/* Appends one entry to a list (copies strings). */
HOIST_NODISCARD hx_status hx_store_list_push(struct hoist_list *list, size_t *cap, const char *url, const char *prefix,
                                             uint64_t size, int64_t mtime, const char *etag, int is_prefix);

#endif /* HOIST_STORE_INTERNAL_H */
