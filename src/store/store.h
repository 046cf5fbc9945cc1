/*
 * store.h — the store module's interface for the layers above (the dataset
 * reader and writer): what they may call beyond hoist.h. The store's own
 * files include store_internal.h (private: the client struct, the backend
 * table, the s3:// and file:// backends' helpers), which includes this.
 *
 * Threads: as the public store calls: the client is shared; each call runs
 * its own event loop on the calling thread; progress runs on that thread.
 */
#ifndef HOIST_STORE_H
#define HOIST_STORE_H

#include "util_internal.h"

/* Maps key to a path under dir, refusing keys that would land outside it:
 * "", "/abs", ".", "..", empty segments ("a//b", "a/"). *out is hx_free'd.
 * The one join behind hoist_store_join_path and hoist_store_get_prefix. */
HOIST_NODISCARD hx_status hx_store_safe_join(const char *dir, const char *key, char **out);

/* ---- multipart uploads, one step at a time ------------------------------
 *
 * The steps put_many runs for a large object, callable separately so a
 * writer can stream an object as parts while later bytes are still being
 * produced: create an upload, upload parts (many at once), then complete
 * it or abort it; list what is pending under a prefix to clean up after a
 * crash. s3:// URLs only (a file:// URL is HOIST_ERR_UNSUPPORTED). Parts
 * are 5 MiB to 5 GiB except the last; numbers 1..10000. Nothing is visible
 * under the URL until complete succeeds; an upload neither completed nor
 * aborted keeps its parts (and their cost) on the server. */

/* Starts an upload of url; *upload_id (hx_free) names it in the other calls,
 * *checksum says how its parts and object are protected (an enum
 * hx_crc_kind: FULL_OBJECT CRC64NVME, COMPOSITE CRC32C on a store that
 * refuses that, none in checksum mode when_required): pass it to the other
 * calls. content_type and metadata_json (a JSON object, as in put_many) may
 * be NULL. */
HOIST_NODISCARD hx_status hx_store_multipart_create(struct hoist_store *st, const char *url, const char *content_type,
                                                    const char *metadata_json, char **upload_id, int *checksum);

/* One part: "in" fields are read, "out" written. */
struct hx_store_part {
    int number;        /* in: 1..10000 */
    const void *data;  /* in: borrowed for the call */
    uint64_t size;     /* in */
    char etag[136];    /* out: what complete needs */
    char checksum[16]; /* out: the part's checksum, header format (the server checked the body against it) */
    uint64_t crc;      /* out: its value */
    hx_status status;  /* out */
    char *error;       /* out: message when status != OK (hx_free) */
};
/* Uploads n parts of one upload concurrently (retried per part as any
 * request). Returns HOIST_OK when all arrived, else the first failure (every
 * part's status says which); HOIST_ERR_CANCELLED when progress asked. */
HOIST_NODISCARD hx_status hx_store_multipart_upload_parts(struct hoist_store *st, const char *url,
                                                          const char *upload_id, int checksum,
                                                          struct hx_store_part *parts, size_t n,
                                                          hoist_progress_fn progress, void *userdata);

/* Makes the object visible from parts (all of them, ascending numbers, as
 * uploaded). flags: HOIST_NO_OVERWRITE fails with HOIST_ERR_EXISTS when the
 * key exists (If-None-Match; the upload is then still pending: abort it). */
HOIST_NODISCARD hx_status hx_store_multipart_complete(struct hoist_store *st, const char *url, const char *upload_id,
                                                      int checksum, const struct hx_store_part *parts, size_t n,
                                                      unsigned flags);

/* One upload for hx_store_multipart_complete_many. */
struct hx_store_completion {
    const char *url;                   /* in */
    const char *upload_id;             /* in */
    int checksum;                      /* in: the upload's (enum hx_crc_kind) */
    const struct hx_store_part *parts; /* in: every part, ascending numbers */
    size_t nparts;                     /* in */
    hx_status status;                  /* out */
    char *error;                       /* out: message when status != OK (hx_free) */
};
/* Completes n uploads concurrently (a driver publishing a job's files at
 * once). HOIST_OK when all were completed, else the first failure; each
 * item's status says which. */
HOIST_NODISCARD hx_status hx_store_multipart_complete_many(struct hoist_store *st, struct hx_store_completion *items,
                                                           size_t n);

/* Drops an upload and its parts. An upload that no longer exists is not an error. */
HOIST_NODISCARD hx_status hx_store_multipart_abort(struct hoist_store *st, const char *url, const char *upload_id);

/* Uploads started under prefix_url (s3://bucket[/prefix], a plain key
 * prefix: not only a directory) and neither completed nor aborted. */
struct hx_store_pending_upload {
    char *url; /* s3://bucket/key */
    char *upload_id;
    int64_t initiated; /* Unix seconds, 0 if unknown */
};
HOIST_NODISCARD hx_status hx_store_multipart_list(struct hoist_store *st, const char *prefix_url,
                                                  struct hx_store_pending_upload **out, size_t *n);
void hx_store_pending_uploads_free(struct hx_store_pending_upload *uploads, size_t n);

#endif /* HOIST_STORE_H */
