/*
 * store_s3_call.h — private to the s3:// backend (store_s3_*.c): the state
 * of one public call (its event loop and progress) and the operations of
 * the backend's table entry.
 */
#ifndef HOIST_STORE_S3_CALL_H
#define HOIST_STORE_S3_CALL_H

#include "store_internal.h"

/* Response bodies parsed as XML (listings, multipart, delete results). */
#define XML_BODY_CAP ((size_t)16 << 20)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One public call: one event loop on the calling thread. */
struct hx_store_call {
    struct hoist_store *st;
    struct hx_net_loop loop;
    hoist_progress_fn progress;
    void *userdata;
    struct hoist_progress prog;
    double last_tick;
    int upload;             /* progress counts bytes sent */
    struct hx_prefault *pf; /* get_many: prefaults big DEST_ALLOC blocks */
    size_t sizing;          /* get_many: objects whose size is not known yet */
};

/* Sets up c's loop on st's connections; progress (may be NULL) is ticked
 * from the loop at most every 50 ms and cancels the call when non-zero. */
HOIST_NODISCARD hx_status hx_store_s3_call_init(struct hx_store_call *c, struct hoist_store *st,
                                                hoist_progress_fn progress, void *userdata);

/* get_many: into how many streams (the running one included) to cut the
 * remaining `remaining` bytes of a whole-object GET whose stream carries
 * stream_rate bytes/s, when `running` requests are in flight, `queued`
 * (non-zero) wait for a connection and `pending` objects (this one included)
 * are up for a split. Enough streams to reach concurrency x conn_rate at
 * that rate, shared among the pending objects, none shorter than min_part;
 * 1 while others wait or the connections already suffice. */
int hx_store_s3_split_ways(double stream_rate, double conn_rate, int concurrency, int running, int queued, int pending,
                           uint64_t remaining, uint64_t min_part);

/* A copy of s, or NULL when s is NULL or empty. */
char *hx_store_s3_dup_or_null(const char *s);
/* Fills info from a GET/HEAD response (HTTP and S3 headers). */
void hx_store_s3_fill_info(struct hoist_object_info *info, const char *url, const struct hx_net_resp *r,
                           const struct hx_s3_resp *s3r, uint64_t size);

/* The operations of hx_store_s3_backend (see struct hx_store_backend). */
HOIST_NODISCARD hx_status hx_store_s3_get(struct hoist_store *st, struct hoist_get_item *items, size_t n,
                                          struct hx_url *urls, unsigned flags, hoist_progress_fn progress,
                                          void *userdata);
HOIST_NODISCARD hx_status hx_store_s3_put(struct hoist_store *st, struct hoist_put_item *items, size_t n,
                                          struct hx_url *urls, unsigned flags, hoist_progress_fn progress,
                                          void *userdata);
HOIST_NODISCARD hx_status hx_store_s3_info(struct hoist_store *st, struct hoist_info_item *items, size_t n,
                                           struct hx_url *urls);
HOIST_NODISCARD hx_status hx_store_s3_list(struct hoist_store *st, const char *const *prefixes, size_t n,
                                           struct hx_url *urls, int recursive, struct hoist_list *per);
/* The backend's list_page (store_internal.h): one ListObjectsV2 page. */
HOIST_NODISCARD hx_status hx_store_s3_list_page(struct hoist_store *st, const char *prefix_url, struct hx_url *u,
                                                int recursive, char **token, struct hoist_list *out);
HOIST_NODISCARD hx_status hx_store_s3_delete(struct hoist_store *st, const char *const *urls_in, size_t n,
                                             struct hx_url *urls);
HOIST_NODISCARD hx_status hx_store_s3_bucket(struct hoist_store *st, const struct hx_url *u, int create);

#endif /* HOIST_STORE_S3_CALL_H */
