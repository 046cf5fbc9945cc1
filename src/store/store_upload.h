/*
 * store_upload.h — streamed uploads with deferred visibility: an object is
 * written piece by piece, its bytes leave as they come (S3 multipart parts,
 * or a hidden temp file), and it becomes visible only at commit. A writer of
 * many objects (the dataset writer) keeps them all invisible until the whole
 * job succeeded, then commits them together, or aborts them all.
 *
 * Threads: one struct hx_uploader per job, used by one thread at a time (the
 * job's thread). The s3 backend runs its requests on an I/O thread of its own
 * (started with the uploader), so parts are sent while the caller goes on
 * producing bytes; the caller only waits when the memory budget is full, at
 * finish and at commit.
 *
 * Lifecycle of one upload: open → write* → finish → commit | abort → free.
 * finish makes every byte durable on the store side (all parts uploaded, or a
 * small body held in memory) without making the object visible; commit
 * publishes it (CompleteMultipartUpload, one PUT, or rename); abort discards
 * it (AbortMultipartUpload, drop the body, unlink). hx_upload_free aborts an
 * upload that was neither committed nor aborted.
 */
#ifndef HOIST_STORE_UPLOAD_H
#define HOIST_STORE_UPLOAD_H

#include "store.h"

struct hx_uploader_config {
    uint64_t part_size;    /* S3 part size; 0 = the store's (clamped to 5 MiB .. 5 GiB) */
    uint64_t memory_limit; /* bytes in flight + small bodies held; 0 = 256 MiB */
    /* Bytes of parts in flight at most (within memory_limit); 0 = the
     * parts hx_upload_parts_in_flight() gives, times the part size. */
    uint64_t max_inflight;
    int fsync; /* file://: fsync each file before it is renamed */
    /* s3: start every multipart upload at open, not at the first part (a
     * parked job's uploads are then on the server from the first byte on,
     * where an abort's sweep finds them; small bodies are not held). */
    int initiate_at_open;
};

/* The parts an uploader keeps in flight by default: two per CPU (4 to 16),
 * never more than the store's concurrency. Each part of 5 MiB or more
 * keeps a connection busy (50-100 MB/s to S3), an encoding core makes about
 * 150 MB/s of Parquet, and a part waiting for a connection only holds
 * memory: more parts than the connections can send, or than the encoders
 * can fill, add to the peak RSS and not to the speed. */
int hx_upload_parts_in_flight(const struct hoist_store *st);

struct hx_uploader;
struct hx_upload;

/* An uploader for objects under root_url's scheme (s3:// or file://). */
HOIST_NODISCARD hx_status hx_uploader_new(struct hoist_store *st, const char *root_url,
                                          const struct hx_uploader_config *cfg, struct hx_uploader **out);
/* Aborts every upload still open, then frees. Accepts NULL. */
void hx_uploader_free(struct hx_uploader *up);
/* Bytes the uploader holds right now (buffers, parts in flight, small
 * bodies), and the most it held at once so far. */
uint64_t hx_uploader_buffered(const struct hx_uploader *up);
uint64_t hx_uploader_buffered_peak(const struct hx_uploader *up);
/* The part size in use (a write buffers at most this much per upload). */
uint64_t hx_uploader_part_size(const struct hx_uploader *up);
/* True when an S3 initiate lost its answer (cut connection, 5xx): the
 * server may hold an upload whose id never reached us. The caller, who
 * knows which keys are its own, aborts them with hx_upload_list_pending +
 * hx_upload_abort_pending once its uploads are committed or aborted. */
int hx_uploader_maybe_orphans(const struct hx_uploader *up);
/* Bytes the store has accepted so far (parts uploaded, files written). */
uint64_t hx_uploader_uploaded(const struct hx_uploader *up);

/* Starts an upload to url (same scheme as the uploader's root). Nothing is
 * visible at url until commit. */
HOIST_NODISCARD hx_status hx_upload_open(struct hx_uploader *up, const char *url, struct hx_upload **out);
HOIST_NODISCARD hx_status hx_upload_write(struct hx_upload *u, const void *data, size_t len);
/* All bytes written are sent (or held in memory when the whole object is
 * smaller than a part); the object is still invisible. The last parts may
 * still be in flight: the caller can go on with its next object while they
 * upload, and commit waits for them (and reports their failure). */
HOIST_NODISCARD hx_status hx_upload_finish(struct hx_upload *u);
/* Publishes n finished uploads (of one uploader) concurrently. On failure
 * some may be committed: hx_upload_committed() says which. */
HOIST_NODISCARD hx_status hx_upload_commit(struct hx_upload *const *u, size_t n);
/* Discards n uploads not yet committed (best effort, never fails: a failed
 * S3 abort is logged). Committed ones are left alone. */
void hx_upload_abort(struct hx_upload *const *u, size_t n);
/* Aborts the upload unless it was committed, then frees it. Accepts NULL. */
void hx_upload_free(struct hx_upload *u);

const char *hx_upload_url(const struct hx_upload *u);
uint64_t hx_upload_bytes(const struct hx_upload *u); /* bytes written so far */
int hx_upload_committed(const struct hx_upload *u);
/* Bytes written but still in this upload's buffer (less than a part). */
uint64_t hx_upload_unsent(const struct hx_upload *u);

/* Uploads begun and never completed under prefix_url: S3 pending multipart
 * uploads (entry url = the key's URL, etag = the upload id) or file://
 * temp files this module leaves while writing (".name.hoist-XXXXXX"). For
 * cleanup tools and tests. */
HOIST_NODISCARD hx_status hx_upload_list_pending(struct hoist_store *st, const char *prefix_url,
                                                 struct hoist_list *out);
/* Aborts (S3) or unlinks (file://) what hx_upload_list_pending listed. */
HOIST_NODISCARD hx_status hx_upload_abort_pending(struct hoist_store *st, const struct hoist_list *pending);
/* Deletes committed objects (a failed job takes back what it published). */
HOIST_NODISCARD hx_status hx_upload_delete(struct hoist_store *st, const char *const *urls, size_t n);

/* ---- parked uploads: committed or aborted by another process ------------
 *
 * A finished upload can be parked instead of committed: every byte is on
 * the store (a small body held in memory becomes a one-part multipart
 * upload), nothing is visible, and what it takes to publish or discard it
 * is handed out as plain data, so a process other than the writer (the
 * driver of a distributed job) can commit or abort it after the writer has
 * gone. Parking never publishes anything, so a writer that outlives an
 * abort cannot make its object appear: an aborted upload cannot be
 * completed (S3 answers NoSuchUpload), a removed temp file cannot be
 * renamed. */
struct hx_parked_upload {
    char *url;                   /* the destination */
    char *upload_id;             /* s3: the multipart upload id; file://: the hidden temp file's URL */
    int checksum;                /* s3: the upload's enum hx_crc_kind */
    struct hx_store_part *parts; /* s3: every part in order (data NULL, etag/checksum/crc/size set) */
    size_t nparts;
};
void hx_parked_upload_reset(struct hx_parked_upload *p);
/* Parks a finished upload (waits for its parts). On success free leaves it
 * pending (hx_upload_abort still discards it); on failure it is still
 * finished (free aborts it). */
HOIST_NODISCARD hx_status hx_upload_park(struct hx_upload *u, struct hx_parked_upload *out);
/* Publishes a parked upload (CompleteMultipartUpload, or the rename of the
 * temp file, which must be a hidden temp name next to the destination). */
HOIST_NODISCARD hx_status hx_parked_upload_commit(struct hoist_store *st, const struct hx_parked_upload *p);
/* Publishes n parked uploads, the S3 ones concurrently; committed[i] says
 * which were (on failure some may be: the caller takes them back). */
HOIST_NODISCARD hx_status hx_parked_upload_commit_many(struct hoist_store *st, const struct hx_parked_upload *p,
                                                       size_t n, int *committed);
/* Discards a parked upload; one already gone is not an error. */
HOIST_NODISCARD hx_status hx_parked_upload_abort(struct hoist_store *st, const struct hx_parked_upload *p);
/* file://: removes the empty directories between url's and root_url's
 * (exclusive), deepest first (a discarded write leaves no empty partition
 * directory). Nothing for s3://. */
void hx_upload_prune_dirs(const char *url, const char *root_url);

#endif /* HOIST_STORE_UPLOAD_H */
