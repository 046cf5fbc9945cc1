/* Streamed uploads with deferred visibility: the scheme-independent entry
 * points; the work is done by one table of functions per scheme. */
#include "store_upload_backend.h"

#include <string.h>

#define MIN_PART ((uint64_t)5 << 20) /* S3: every part but the last is at least 5 MiB */
#define MAX_PART ((uint64_t)5 << 30)

static const struct hx_upload_ops *ops_for(enum hx_url_kind kind) {
    return kind == HX_URL_S3 ? &hx_upload_s3_ops : &hx_upload_file_ops;
}

int hx_upload_parts_in_flight(const struct hoist_store *st) {
    unsigned cpus = hx_cpu_count();
    int n = cpus > 8 ? 16 : cpus < 2 ? 4 : (int)(2 * cpus);
    if (n < 4) n = 4;
    if (st->concurrency > 0 && st->concurrency < n) n = st->concurrency;
    return n;
}

hx_status hx_uploader_new(struct hoist_store *st, const char *root_url, const struct hx_uploader_config *cfg,
                          struct hx_uploader **out) {
    *out = NULL;
    struct hx_url u;
    HX_TRY(hx_store_parse_url(root_url, &u));
    enum hx_url_kind kind = u.kind;
    hx_url_reset(&u);
    struct hx_uploader *up = hx_calloc(1, sizeof *up);
    HX_FAIL_IF(up == NULL, HOIST_ERR_NOMEM, "out of memory");
    up->ops = ops_for(kind);
    up->st = st;
    up->kind = kind;
    up->part_size = cfg && cfg->part_size ? cfg->part_size : st->put_part_size;
    if (up->part_size < MIN_PART) up->part_size = MIN_PART;
    if (up->part_size > MAX_PART) up->part_size = MAX_PART;
    up->memory_limit = cfg && cfg->memory_limit ? cfg->memory_limit : (uint64_t)256 << 20;
    up->max_inflight =
        cfg && cfg->max_inflight ? cfg->max_inflight : up->part_size * (uint64_t)hx_upload_parts_in_flight(st);
    /* one part can always be in flight */
    if (up->max_inflight < up->part_size) up->max_inflight = up->part_size;
    up->fsync = cfg ? cfg->fsync : 0;
    up->initiate_at_open = cfg ? cfg->initiate_at_open : 0;
    hx_status s = up->ops->start(up);
    if (s != HOIST_OK) {
        hx_free(up);
        return s;
    }
    *out = up;
    return HOIST_OK;
}

void hx_uploader_free(struct hx_uploader *up) {
    if (up == NULL) return;
    while (up->open) hx_upload_free(up->open);
    up->ops->stop(up);
    hx_free(up);
}

uint64_t hx_uploader_buffered(const struct hx_uploader *up) { return atomic_load(&up->buffered); }
uint64_t hx_uploader_buffered_peak(const struct hx_uploader *up) { return atomic_load(&up->buffered_peak); }

void hx_uploader_add_buffered(struct hx_uploader *up, uint64_t n) {
    uint64_t now = atomic_fetch_add(&up->buffered, n) + n;
    uint64_t peak = atomic_load(&up->buffered_peak);
    while (now > peak && !atomic_compare_exchange_weak(&up->buffered_peak, &peak, now)) {
    }
}
uint64_t hx_uploader_part_size(const struct hx_uploader *up) { return up->part_size; }
int hx_uploader_maybe_orphans(const struct hx_uploader *up) { return atomic_load(&up->maybe_orphans); }
uint64_t hx_uploader_uploaded(const struct hx_uploader *up) { return atomic_load(&up->uploaded); }

hx_status hx_upload_open(struct hx_uploader *up, const char *url, struct hx_upload **out) {
    *out = NULL;
    struct hx_upload *u = hx_calloc(1, up->ops->upload_size);
    HX_FAIL_IF(u == NULL, HOIST_ERR_NOMEM, "out of memory");
    u->up = up;
    u->url = hx_strdup(url);
    if (u->url == NULL) {
        hx_free(u);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status s = hx_store_parse_url(url, &u->u);
    if (s == HOIST_OK && u->u.kind != up->kind)
        s = hx_error(HOIST_ERR_BAD_URL, "%s: not under the same scheme as the upload's destination", url);
    if (s == HOIST_OK && u->u.kind == HX_URL_S3 && u->u.key[0] == '\0')
        s = hx_error(HOIST_ERR_BAD_URL, "%s: an upload needs a key, not just a bucket", url);
    if (s == HOIST_OK) s = up->ops->open(u);
    if (s != HOIST_OK) {
        hx_url_reset(&u->u);
        hx_free(u->url);
        hx_free(u);
        return s;
    }
    u->state = HX_UP_OPEN;
    u->next = up->open;
    if (up->open) up->open->prev = u;
    up->open = u;
    *out = u;
    return HOIST_OK;
}

hx_status hx_upload_write(struct hx_upload *u, const void *data, size_t len) {
    HX_FAIL_IF(u->state != HX_UP_OPEN, HOIST_ERR_INTERNAL, "%s: write after finish", u->url);
    if (len == 0) return HOIST_OK;
    HX_TRY(u->up->ops->write(u, data, len));
    u->bytes += len;
    return HOIST_OK;
}

hx_status hx_upload_finish(struct hx_upload *u) {
    HX_FAIL_IF(u->state != HX_UP_OPEN, HOIST_ERR_INTERNAL, "%s: finished twice", u->url);
    HX_TRY(u->up->ops->finish(u));
    u->state = HX_UP_FINISHED;
    return HOIST_OK;
}

hx_status hx_upload_commit(struct hx_upload *const *u, size_t n) {
    if (n == 0) return HOIST_OK;
    for (size_t i = 0; i < n; i++) {
        HX_FAIL_IF(u[i]->up != u[0]->up, HOIST_ERR_INTERNAL, "commit: uploads of different uploaders");
        HX_FAIL_IF(u[i]->state != HX_UP_FINISHED && u[i]->state != HX_UP_COMMITTED, HOIST_ERR_INTERNAL,
                   "%s: committed before finish", u[i]->url);
    }
    return u[0]->up->ops->commit(u, n);
}

void hx_upload_abort(struct hx_upload *const *u, size_t n) {
    if (n == 0) return;
    u[0]->up->ops->abort(u, n);
}

void hx_upload_free(struct hx_upload *u) {
    if (u == NULL) return;
    struct hx_uploader *up = u->up;
    if (u->state == HX_UP_OPEN || u->state == HX_UP_FINISHED) up->ops->abort(&u, 1);
    up->ops->release(u);
    if (u->prev)
        u->prev->next = u->next;
    else
        up->open = u->next;
    if (u->next) u->next->prev = u->prev;
    hx_url_reset(&u->u);
    hx_free(u->url);
    hx_free(u);
}

const char *hx_upload_url(const struct hx_upload *u) { return u->url; }
uint64_t hx_upload_bytes(const struct hx_upload *u) { return u->bytes; }
int hx_upload_committed(const struct hx_upload *u) { return u->state == HX_UP_COMMITTED; }
uint64_t hx_upload_unsent(const struct hx_upload *u) { return u->up->ops->unsent(u); }

hx_status hx_upload_list_pending(struct hoist_store *st, const char *prefix_url, struct hoist_list *out) {
    memset(out, 0, sizeof *out);
    struct hx_url u;
    HX_TRY(hx_store_parse_url(prefix_url, &u));
    hx_status s = HOIST_OK;
    for (int round = 0; round < 3; round++) {
        s = ops_for(u.kind)->list_pending(st, prefix_url, &u, out);
        if (s == HOIST_OK || s == HOIST_ERR_NOMEM) break;
        hoist_store_list_reset(out);
    }
    hx_url_reset(&u);
    if (s != HOIST_OK) hoist_store_list_reset(out);
    return s;
}

hx_status hx_upload_abort_pending(struct hoist_store *st, const struct hoist_list *pending) {
    hx_status first = HOIST_OK;
    for (size_t i = 0; i < pending->count; i++) {
        struct hx_url u;
        hx_status s = hx_store_parse_url(pending->entries[i].url, &u);
        if (s == HOIST_OK) {
            for (int round = 0; round < 4; round++) {
                s = ops_for(u.kind)->abort_pending(st, &pending->entries[i]);
                if (s == HOIST_OK || s == HOIST_ERR_NOMEM) break;
            }
            hx_url_reset(&u);
        }
        if (s != HOIST_OK && first == HOIST_OK) first = s;
    }
    return first;
}

hx_status hx_upload_delete(struct hoist_store *st, const char *const *urls, size_t n) {
    if (n == 0) return HOIST_OK;
    /* Taking back a failed job's objects matters more than its speed: a
     * few more rounds than the store's own retries (deleting is idempotent). */
    hx_status s = HOIST_OK;
    for (int round = 0; round < 4; round++) {
        s = hoist_store_delete_many(st, urls, n);
        if (s == HOIST_OK || s == HOIST_ERR_NOMEM || s == HOIST_ERR_INVALID_ARG) break;
    }
    return s;
}
