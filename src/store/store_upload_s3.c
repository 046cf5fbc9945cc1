/* Streamed uploads to s3:// : multipart parts sent from an I/O thread while
 * the caller keeps writing; the object appears only at CompleteMultipartUpload
 * (or at the one PUT of a body smaller than a part, held in memory until the
 * commit). The requests are the s3 layer's (hx_s3_mpu_*_request, shared with
 * put_many); this file owns when they are sent: parts while the caller
 * encodes, every commit together. Listing and aborting orphans are the
 * store's one-shot multipart calls (hx_store_multipart_list/abort). */
#include "store_upload_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_PARTS 10000 /* S3 limit */

enum phase { PH_IDLE, PH_INIT, PH_PUT, PH_COMPLETE, PH_VERIFY, PH_ABORT };

/* The I/O thread and what the caller's thread shares with it (under mu). */
struct s3_io {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the I/O thread: inbox or stop */
    pthread_cond_t done; /* to waiters: a request finished */
    struct hx_net_loop loop;
    struct hx_net_req **inbox;
    size_t ninbox, capinbox;
    int stop;
    hx_status broken;        /* the event loop failed: requests in it are lost */
    int want_concurrency;    /* applied by the I/O thread (it owns the loop) */
    uint64_t inflight, held; /* part bytes in flight; small bodies held */
    /* Part-sized blocks of finished parts kept for the next ones (at most
     * one per part that may be in flight): a new block costs a page fault
     * per 4 KiB, and alloc.c's shared cache gives them up to the encoders'
     * buffers. */
    uint8_t *spare[16];
    int nspare, maxspare;
    struct hx_uploader *up;
};

/* Bytes waiting for a part. A body grows geometrically in malloc'd memory
 * up to SMALL_BODY (thousands of small files may wait for the commit);
 * past that it moves into one part-sized block of hx_aligned_alloc's
 * (mapped directly), which the I/O thread keeps for the next part once the
 * part's PUT ends (s3_io.spare). Before, parts were malloc'd (realloc's
 * doubling made a 5 MiB part an 8 MiB block) and freed by the I/O thread
 * into malloc's arenas, which kept them resident: part of the ~240 MiB the
 * taxi write held over its input. */
struct body {
    uint8_t *data;
    size_t len, cap;
    int big; /* data is hx_aligned_alloc's (free with hx_aligned_free) */
};
#define SMALL_BODY ((size_t)1 << 20)

static void body_free(uint8_t *data, int big) {
    if (big)
        hx_aligned_free(data);
    else
        hx_free(data);
}

static void body_reset(struct body *b) {
    body_free(b->data, b->big);
    *b = (struct body){0};
}

/* A part-sized block: a finished part's, or a new one. */
static uint8_t *block_take(struct s3_io *io, uint64_t ps) {
    uint8_t *d = NULL;
    pthread_mutex_lock(&io->mu);
    if (io->nspare > 0) d = io->spare[--io->nspare];
    pthread_mutex_unlock(&io->mu);
    return d ? d : hx_aligned_alloc((size_t)ps);
}

/* Keeps a finished part's block for the next part (caller holds mu); 0
 * when the caller is to free it. */
static int block_keep_locked(struct s3_io *io, uint8_t *d, int big) {
    if (!big || d == NULL || io->nspare >= io->maxspare) return 0;
    io->spare[io->nspare++] = d;
    return 1;
}

/* Room for len more bytes, up to a part of ps bytes. */
static hx_status body_reserve(struct s3_io *io, struct body *b, size_t len, uint64_t ps) {
    size_t need = b->len + len;
    if (need <= b->cap) return HOIST_OK;
    if (need > SMALL_BODY && ps > SMALL_BODY) {
        uint8_t *d = block_take(io, ps);
        HX_FAIL_IF(d == NULL, HOIST_ERR_NOMEM, "out of memory for an upload part of %llu bytes",
                   (unsigned long long)ps);
        if (b->len) memcpy(d, b->data, b->len);
        body_free(b->data, b->big);
        b->data = d;
        b->cap = (size_t)ps;
        b->big = 1;
        return HOIST_OK;
    }
    size_t cap = b->cap ? b->cap * 2 : 4 << 10;
    while (cap < need) cap *= 2;
    if (cap > ps) cap = (size_t)ps;
    uint8_t *d = hx_realloc(b->data, cap);
    HX_FAIL_IF(d == NULL, HOIST_ERR_NOMEM, "out of memory growing an upload buffer to %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return HOIST_OK;
}

struct s3_upload;
struct s3_part {
    struct hx_net_req req;
    struct s3_upload *o;
    int number;
    uint8_t *data;
    size_t len;
    int big;            /* data is hx_aligned_alloc's */
    char crc[16];       /* its checksum, header format */
    uint64_t crc_value; /* joined into the object's at Complete */
    char etag[136];
};

struct s3_upload {
    struct hx_upload base;
    struct hx_net_req main;
    enum phase phase;
    int main_busy;         /* under mu */
    hx_status main_status; /* under mu */
    char *upload_id;
    struct body buf; /* bytes not yet in a part (or the whole small body) */
    int held;        /* buf holds the whole object, counted in io->held */
    struct s3_part **parts;
    int nparts, capparts;
    int pending;      /* parts in flight; under mu */
    int aborting;     /* parts not yet started are dropped */
    hx_status status; /* first part failure; under mu */
    char *err;
    struct hx_buf xml;
    char sha[65], crc[9], md5[25];
    int ck, ck_chosen; /* the multipart upload's checksum (enum hx_crc_kind), once chosen */
    char full[16];     /* the object's FULL_OBJECT checksum, sent with Complete */
};

static struct s3_io *io_of(const struct hx_upload *u) { return u->up->impl; }

/* ---- the I/O thread ---------------------------------------------------- */

static void take_inbox(struct s3_io *io) {
    io->loop.concurrency = io->want_concurrency;
    for (size_t i = 0; i < io->ninbox; i++) {
        struct hx_net_req *r = io->inbox[i];
        /* Commits and aborts (the main requests, owner NULL) go before queued parts. */
        hx_net_loop_submit(&io->loop, r, r->owner == NULL);
    }
    io->ninbox = 0;
}

static int io_tick(struct hx_net_loop *loop, void *ud) {
    struct s3_io *io = ud;
    pthread_mutex_lock(&io->mu);
    take_inbox(io);
    pthread_mutex_unlock(&io->mu);
    return 0;
}

static void *io_main(void *arg) {
    struct s3_io *io = arg;
    pthread_mutex_lock(&io->mu);
    for (;;) {
        while (io->ninbox == 0 && !io->stop) pthread_cond_wait(&io->wake, &io->mu);
        if (io->ninbox == 0 && io->stop) break;
        take_inbox(io);
        pthread_mutex_unlock(&io->mu);
        hx_status s = hx_net_loop_run(&io->loop);
        pthread_mutex_lock(&io->mu);
        if (s != HOIST_OK) {
            /* Only when libcurl itself fails (out of memory): the requests
             * it held never finish, so every waiter is told instead. */
            HX_WARN("upload I/O loop: %s", hoist_errmsg());
            io->broken = s;
            io->ninbox = 0;
            pthread_cond_broadcast(&io->done);
            while (!io->stop) pthread_cond_wait(&io->wake, &io->mu);
            break;
        }
    }
    pthread_mutex_unlock(&io->mu);
    return NULL;
}

/* Hands a request to the I/O thread; caller holds mu. */
static hx_status enqueue_locked(struct s3_io *io, struct hx_net_req *req) {
    HX_FAIL_IF(io->broken != HOIST_OK, io->broken, "the upload I/O loop failed earlier");
    if (io->ninbox == io->capinbox) {
        size_t cap = io->capinbox ? io->capinbox * 2 : 64;
        struct hx_net_req **n = hx_realloc(io->inbox, cap * sizeof *n);
        HX_FAIL_IF(n == NULL, HOIST_ERR_NOMEM, "out of memory");
        io->inbox = n;
        io->capinbox = cap;
    }
    io->inbox[io->ninbox++] = req;
    pthread_cond_signal(&io->wake);
    curl_multi_wakeup(io->loop.multi);
    return HOIST_OK;
}

static hx_status s3_start(struct hx_uploader *up) {
    struct s3_io *io = hx_calloc(1, sizeof *io);
    HX_FAIL_IF(io == NULL, HOIST_ERR_NOMEM, "out of memory");
    io->up = up;
    hx_status s = hx_net_loop_init(&io->loop, up->st->net);
    if (s != HOIST_OK) {
        hx_free(io);
        return s;
    }
    io->loop.concurrency = io->want_concurrency = up->st->concurrency;
    uint64_t parts = up->max_inflight / up->part_size;
    io->maxspare = parts < 16 ? (int)parts : 16;
    io->loop.tick = io_tick;
    io->loop.tick_data = io;
    pthread_mutex_init(&io->mu, NULL);
    pthread_cond_init(&io->wake, NULL);
    pthread_cond_init(&io->done, NULL);
    if (pthread_create(&io->thread, NULL, io_main, io) != 0) {
        hx_net_loop_cleanup(&io->loop);
        pthread_mutex_destroy(&io->mu);
        pthread_cond_destroy(&io->wake);
        pthread_cond_destroy(&io->done);
        hx_free(io);
        HX_FAIL(HOIST_ERR_NOMEM, "cannot start the upload I/O thread");
    }
    up->impl = io;
    return HOIST_OK;
}

static void s3_stop(struct hx_uploader *up) {
    struct s3_io *io = up->impl;
    pthread_mutex_lock(&io->mu);
    io->stop = 1;
    pthread_cond_signal(&io->wake);
    curl_multi_wakeup(io->loop.multi);
    pthread_mutex_unlock(&io->mu);
    pthread_join(io->thread, NULL);
    hx_net_loop_cleanup(&io->loop);
    pthread_mutex_destroy(&io->mu);
    pthread_cond_destroy(&io->wake);
    pthread_cond_destroy(&io->done);
    for (int i = 0; i < io->nspare; i++) hx_aligned_free(io->spare[i]);
    hx_free(io->inbox);
    hx_free(io);
}

/* ---- requests ---------------------------------------------------------- */

/* Success (0), retry (1) or failure (-1, with *st and a message naming url
 * in *err, hx_free'd by the caller; NULL when cancelled): the s3 layer's
 * one classification of an S3 answer. */
static int classify(struct hx_net_req *req, CURLcode code, const char *url, hx_status *st, char **err) {
    enum hx_s3_outcome o = hx_s3_classify(req, code, url, st, err);
    return o == HX_S3_OK ? 0 : o == HX_S3_RETRY ? 1 : -1;
}

static hx_status part_prepare(struct hx_net_req *req) {
    struct s3_part *p = req->owner;
    struct s3_upload *o = p->o;
    if (o->aborting) HX_FAIL(HOIST_ERR_CANCELLED, "the upload is being aborted");
    /* The part's CRC (declared at the initiate) guards the body, so the
     * payload goes unsigned, as store_s3_put.c's parts do. */
    if (o->ck != HX_CRC_NONE && p->crc[0] == '\0') p->crc_value = hx_s3_body_crc(o->ck, p->data, p->len, p->crc);
    return hx_s3_mpu_part_request(&o->base.up->st->s3, req, o->base.u.bucket, o->base.u.key, o->upload_id, p->number,
                                  p->data, p->len, o->ck, p->crc);
}

static enum hx_net_action part_done(struct hx_net_req *req, CURLcode code) {
    struct s3_part *p = req->owner;
    struct s3_upload *o = p->o;
    struct s3_io *io = io_of(&o->base);
    hx_status st = HOIST_OK;
    char *err = NULL;
    int out = classify(req, code, o->base.url, &st, &err);
    if (out > 0) return HX_NET_RETRY;
    if (out == 0) {
        snprintf(p->etag, sizeof p->etag, "%s", req->resp.etag);
        if (p->etag[0] == '\0') {
            st = HOIST_ERR_S3_BAD_RESPONSE;
            err = hx_asprintf("%s: part %d uploaded without an ETag", o->base.url, p->number);
            out = -1;
        }
    }
    pthread_mutex_lock(&io->mu);
    uint8_t *drop = block_keep_locked(io, p->data, p->big) ? NULL : p->data;
    int big = p->big; /* p is the writer's to free once pending drops: not read after the unlock */
    p->data = NULL;
    if (out < 0 && o->status == HOIST_OK) {
        o->status = st;
        o->err = err;
        err = NULL;
    }
    o->pending--;
    io->inflight -= p->len;
    if (out == 0) atomic_fetch_add(&o->base.up->uploaded, p->len);
    atomic_fetch_sub(&o->base.up->buffered, p->len);
    pthread_cond_broadcast(&io->done);
    pthread_mutex_unlock(&io->mu);
    body_free(drop, big);
    hx_free(err);
    return HX_NET_DONE;
}

static hx_status complete_xml(struct s3_upload *o) {
    struct hx_s3_part_ref *refs = hx_calloc(o->nparts ? (size_t)o->nparts : 1, sizeof *refs);
    HX_FAIL_IF(refs == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (int i = 0; i < o->nparts; i++)
        refs[i] = (struct hx_s3_part_ref){o->parts[i]->number, o->parts[i]->etag, o->parts[i]->crc,
                                          o->parts[i]->crc_value, o->parts[i]->len};
    hx_status s = hx_s3_mpu_complete_xml(&o->xml, refs, (size_t)o->nparts, o->ck, o->full);
    hx_free(refs);
    return s;
}

static hx_status main_prepare(struct hx_net_req *req) {
    struct s3_upload *o = (struct s3_upload *)((char *)req - offsetof(struct s3_upload, main));
    struct hx_s3 *s3 = &o->base.up->st->s3;
    const char *b = o->base.u.bucket, *k = o->base.u.key;
    req->sink = HX_SINK_NONE;
    req->has_body = 0;
    req->body_data = NULL;
    req->body_len = 0;
    switch (o->phase) {
    case PH_INIT:
        /* Once sent, an initiate creates an upload that must be aborted. */
        req->must_finish = 1;
        if (!o->ck_chosen) {
            o->ck = hx_store_mpu_checksum(o->base.up->st);
            o->ck_chosen = 1;
        }
        return hx_s3_mpu_create_request(s3, req, b, k, NULL, NULL, o->ck);
    case PH_PUT: {
        /* a PutObject as store_s3_put.c sends one: the object headers
         * (type, encryption) and the body's checksum, payload unsigned */
        struct hx_s3_header h[HX_S3_OBJECT_HEADERS + 1];
        size_t nh = hx_s3_object_headers(s3, NULL, h);
        if (o->crc[0] == '\0') hx_crc_base64(hx_crc32c_update(0, o->buf.data, o->buf.len), o->crc);
        hx_s3_body_checksum_header(s3, o->buf.data, o->buf.len, o->crc, o->md5, &h[nh++]);
        req->has_body = 1;
        req->body_data = o->buf.len ? o->buf.data : (const uint8_t *)"";
        req->body_len = o->buf.len;
        return hx_s3_build_request(s3, req, "PUT", b, k, NULL, NULL, h, nh);
    }
    case PH_VERIFY: return hx_s3_build_request(s3, req, "HEAD", b, k, NULL, NULL, NULL, 0);
    case PH_COMPLETE:
        return hx_s3_mpu_complete_request(s3, req, b, k, o->upload_id, &o->xml, o->sha, 0, o->ck, o->full);
    case PH_ABORT: return hx_s3_mpu_abort_request(s3, req, b, k, o->upload_id);
    default: break;
    }
    HX_FAIL(HOIST_ERR_INTERNAL, "%s: upload request in phase %d", o->base.url, (int)o->phase);
}

/* Decides what a finished main request means: 0 done (*st, *err say how),
 * 1 retry, 2 send again as a new request (a new phase). Runs on the I/O
 * thread. */
static int main_result(struct s3_upload *o, struct hx_net_req *req, CURLcode code, hx_status *st, char **err) {
    const char *url = o->base.url;
    long http = req->resp.status;
    if (o->phase == PH_VERIFY) {
        if (code == CURLE_OK && req->abort_status == HOIST_OK && http == 200 &&
            req->resp.content_length == (int64_t)o->base.bytes)
            return 0;
        int out = classify(req, code, url, st, err);
        if (out > 0) return 1;
        hx_free(*err);
        *st = HOIST_ERR_S3_OTHER;
        *err = hx_asprintf("%s: the upload vanished (NoSuchUpload) and no complete object is there", url);
        return 0;
    }
    /* An initiate whose answer was lost may have created an upload we never
     * learn the id of: the job sweeps such orphans at its end. */
    if (o->phase == PH_INIT && (code != CURLE_OK || http >= 500)) atomic_store(&o->base.up->maybe_orphans, 1);
    if (o->phase == PH_INIT && code == CURLE_OK && req->abort_status == HOIST_OK) {
        /* a store that refuses FULL_OBJECT: once more the older way */
        int fallback = hx_store_mpu_fallback(o->base.up->st, req, o->ck);
        if (fallback) {
            o->ck = fallback;
            return 2;
        }
    }
    int out = classify(req, code, url, st, err);
    if (out > 0) return 1;
    if (o->phase == PH_ABORT) {
        /* Gone already is as good as aborted. */
        if (out < 0 && http == 404) {
            hx_free(*err);
            *err = NULL;
            *st = HOIST_OK;
        }
        return 0;
    }
    if (out < 0 && o->phase == PH_COMPLETE && req->attempt > 0) {
        /* A retried Complete answers NoSuchUpload when the first attempt
         * completed but its answer was lost: look at the object. */
        char scode[64], msg[8];
        if (hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg) &&
            strcmp(scode, "NoSuchUpload") == 0) {
            hx_free(*err);
            *err = NULL;
            o->phase = PH_VERIFY;
            return 2;
        }
    }
    if (out < 0) return 0;
    if (o->phase == PH_COMPLETE) {
        /* Complete can fail after a 200, with an <Error> body. */
        char scode[64], msg[256];
        if (hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg)) {
            if (hx_s3_transient(500, scode) && hx_net_can_retry(req)) return 1;
            *st = hx_s3_status_for(500, scode);
            *err = hx_asprintf("%s: completing the upload: %s: %s", url, scode, msg);
        }
    } else if (o->phase == PH_INIT) {
        req->must_finish = 0;
        if (hx_s3_xml_find(req->body.data, req->body.len, "UploadId", &o->upload_id) != HOIST_OK) {
            *st = HOIST_ERR_S3_BAD_RESPONSE;
            *err = hx_asprintf("%s: starting the upload: %s", url, hoist_errmsg());
        }
    }
    return 0;
}

static enum hx_net_action main_done(struct hx_net_req *req, CURLcode code) {
    struct s3_upload *o = (struct s3_upload *)((char *)req - offsetof(struct s3_upload, main));
    struct s3_io *io = io_of(&o->base);
    hx_status st = HOIST_OK;
    char *err = NULL;
    int again = main_result(o, req, code, &st, &err);
    if (again == 1) return HX_NET_RETRY;
    if (again == 2) {
        req->attempt = 0;
        req->max_retries = 0;
        hx_net_loop_submit(req->loop, req, 1);
        return HX_NET_DONE;
    }
    pthread_mutex_lock(&io->mu);
    o->main_status = st;
    if (st != HOIST_OK) {
        hx_free(o->err);
        o->err = err;
        err = NULL;
    }
    o->main_busy = 0;
    pthread_cond_broadcast(&io->done);
    pthread_mutex_unlock(&io->mu);
    hx_free(err);
    return HX_NET_DONE;
}

/* Starts the main request of each upload in phase ph (caller holds mu);
 * *sent says how many went. */
static hx_status submit_main_locked(struct s3_upload *const *os, size_t n, enum phase ph, size_t *sent) {
    struct s3_io *io = n ? io_of(&os[0]->base) : NULL;
    for (*sent = 0; *sent < n; (*sent)++) {
        struct s3_upload *o = os[*sent];
        o->phase = ph;
        o->main_busy = 1;
        o->main_status = HOIST_OK;
        o->main.attempt = 0;
        /* submit sets the configured count; cleanup gets more tries: a
         * lost abort leaves storage billed behind */
        o->main.max_retries = ph == PH_ABORT ? 10 : 0;
        hx_status s = enqueue_locked(io, &o->main);
        if (s != HOIST_OK) {
            o->main_busy = 0;
            o->main_status = s;
            return s;
        }
    }
    return HOIST_OK;
}

/* Waits for the main requests of os[0..n) (caller holds mu): the first
 * failure's status, its message set for hoist_errmsg. */
static hx_status wait_main_locked(struct s3_io *io, struct s3_upload *const *os, size_t n) {
    hx_status first = HOIST_OK;
    for (size_t i = 0; i < n; i++) {
        struct s3_upload *o = os[i];
        while (o->main_busy && io->broken == HOIST_OK) pthread_cond_wait(&io->done, &io->mu);
        if (o->main_busy) o->main_status = io->broken;
        if (o->main_status != HOIST_OK && first == HOIST_OK) {
            first = o->main_status;
            hx_status e = hx_error(first, "%s", o->err ? o->err : hoist_strerror(first));
            (void)e;
        }
    }
    return first;
}

static hx_status run_main(struct s3_upload *const *os, size_t n, enum phase ph) {
    if (n == 0) return HOIST_OK;
    struct s3_io *io = io_of(&os[0]->base);
    size_t sent;
    pthread_mutex_lock(&io->mu);
    hx_status s = submit_main_locked(os, n, ph, &sent);
    hx_status w = wait_main_locked(io, os, sent);
    pthread_mutex_unlock(&io->mu);
    return s != HOIST_OK ? s : w;
}

/* ---- the upload ---------------------------------------------------------- */

static hx_status s3_open(struct hx_upload *u) {
    struct s3_upload *o = (struct s3_upload *)u;
    hx_buf_init(&o->xml);
    o->main.owner = NULL;
    o->main.prepare = main_prepare;
    o->main.on_done = main_done;
    o->main.sink_fd = -1;
    if (!u->up->initiate_at_open) return HOIST_OK;
    struct s3_upload *one[1] = {o};
    hx_status s = run_main(one, 1, PH_INIT);
    if (s != HOIST_OK) {
        /* the caller frees u without release: nothing may stay behind */
        hx_net_req_cleanup(&o->main);
        hx_free(o->err);
        o->err = NULL;
        hx_free(o->upload_id);
        o->upload_id = NULL;
    }
    return s;
}

static hx_status first_failure(struct s3_upload *o) {
    struct s3_io *io = io_of(&o->base);
    pthread_mutex_lock(&io->mu);
    hx_status s = o->status;
    hx_status e = s != HOIST_OK ? hx_error(s, "%s", o->err ? o->err : hoist_strerror(s)) : HOIST_OK;
    pthread_mutex_unlock(&io->mu);
    (void)e;
    return s;
}

/* Moves buf into part number nparts+1 and sends it, waiting first while the
 * memory budget is spent. */
static hx_status ship_part(struct s3_upload *o) {
    struct s3_io *io = io_of(&o->base);
    struct hx_uploader *up = o->base.up;
    HX_TRY(first_failure(o));
    HX_FAIL_IF(o->nparts >= MAX_PARTS, HOIST_ERR_LIMIT, "%s: more than %d parts of %llu bytes", o->base.url, MAX_PARTS,
               (unsigned long long)up->part_size);
    if (o->upload_id == NULL) {
        struct s3_upload *one[1] = {o};
        HX_TRY(run_main(one, 1, PH_INIT));
    }
    if (o->nparts == o->capparts) {
        int cap = o->capparts ? o->capparts * 2 : 8;
        struct s3_part **n = hx_realloc(o->parts, (size_t)cap * sizeof *n);
        HX_FAIL_IF(n == NULL, HOIST_ERR_NOMEM, "out of memory");
        o->parts = n;
        o->capparts = cap;
    }
    struct s3_part *p = hx_calloc(1, sizeof *p);
    HX_FAIL_IF(p == NULL, HOIST_ERR_NOMEM, "out of memory");
    p->o = o;
    p->number = o->nparts + 1;
    p->len = o->buf.len;
    p->data = o->buf.data;
    p->big = o->buf.big;
    o->buf = (struct body){0};
    if (p->data == NULL) p->data = hx_malloc(1); /* an empty object's one part */
    if (p->data == NULL) {
        hx_free(p);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    p->req.owner = p;
    p->req.prepare = part_prepare;
    p->req.on_done = part_done;
    p->req.sink_fd = -1;
    o->parts[o->nparts++] = p;
    pthread_mutex_lock(&io->mu);
    while (io->inflight > 0 &&
           (io->inflight + io->held + p->len > up->memory_limit || io->inflight + p->len > up->max_inflight) &&
           io->broken == HOIST_OK)
        pthread_cond_wait(&io->done, &io->mu);
    io->inflight += p->len;
    o->pending++;
    hx_status s = enqueue_locked(io, &p->req);
    if (s != HOIST_OK) {
        io->inflight -= p->len;
        o->pending--;
        atomic_fetch_sub(&up->buffered, p->len);
        body_free(p->data, p->big);
        p->data = NULL;
        o->nparts--;
        hx_free(p);
    }
    pthread_mutex_unlock(&io->mu);
    return s;
}

static hx_status s3_write(struct hx_upload *u, const void *data, size_t len) {
    struct s3_upload *o = (struct s3_upload *)u;
    uint64_t ps = u->up->part_size;
    const char *p = data;
    while (len > 0) {
        size_t room = (size_t)(ps - o->buf.len);
        size_t take = len < room ? len : room;
        HX_TRY(body_reserve(io_of(u), &o->buf, take, ps));
        memcpy(o->buf.data + o->buf.len, p, take);
        o->buf.len += take;
        hx_uploader_add_buffered(u->up, take);
        p += take;
        len -= take;
        if (o->buf.len == ps) HX_TRY(ship_part(o));
    }
    return HOIST_OK;
}

static void wait_parts(struct s3_upload *o) {
    struct s3_io *io = io_of(&o->base);
    pthread_mutex_lock(&io->mu);
    while (o->pending > 0 && io->broken == HOIST_OK) pthread_cond_wait(&io->done, &io->mu);
    if (o->pending > 0 && o->status == HOIST_OK) o->status = io->broken;
    pthread_mutex_unlock(&io->mu);
}

static hx_status s3_finish(struct hx_upload *u) {
    struct s3_upload *o = (struct s3_upload *)u;
    struct s3_io *io = io_of(u);
    if (o->upload_id == NULL) {
        /* The whole object is in buf: keep it for one PUT at commit while
         * the budget allows, else make it a one-part upload now. */
        pthread_mutex_lock(&io->mu);
        int hold = io->held + io->inflight + o->buf.len <= u->up->memory_limit;
        if (hold) io->held += o->buf.len;
        pthread_mutex_unlock(&io->mu);
        if (hold) {
            /* Thousands of small files may wait for the commit: keep only
             * their bytes, not the buffer's growth room. */
            if (o->buf.big) {
                /* the block goes back to the cache for the next parts */
                size_t n = o->buf.len;
                uint8_t *d = hx_malloc(n);
                if (d) {
                    memcpy(d, o->buf.data, n);
                    body_reset(&o->buf);
                    o->buf.data = d;
                    o->buf.len = o->buf.cap = n;
                }
            } else if (o->buf.cap > o->buf.len) {
                uint8_t *d = hx_realloc(o->buf.data, o->buf.len ? o->buf.len : 1);
                if (d) {
                    o->buf.data = d;
                    o->buf.cap = o->buf.len;
                }
            }
            o->held = 1;
            return HOIST_OK;
        }
    }
    if (o->buf.len > 0 || o->nparts == 0) HX_TRY(ship_part(o));
    body_reset(&o->buf);
    /* The last parts are not awaited here: the caller goes on to encode its
     * next file while they upload (the memory budget in ship_part bounds
     * what is in flight); commit waits for them. A part that already
     * failed is reported now. */
    return first_failure(o);
}

/* Waits for o's parts still in flight; only their ETags and checksums are
 * needed from then on. */
static hx_status settle_parts(struct s3_upload *o) {
    wait_parts(o);
    for (int i = 0; i < o->nparts; i++) hx_net_req_cleanup(&o->parts[i]->req);
    return first_failure(o);
}

static void release_held(struct s3_upload *o) {
    if (!o->held) return;
    struct s3_io *io = io_of(&o->base);
    pthread_mutex_lock(&io->mu);
    io->held -= o->buf.len;
    pthread_mutex_unlock(&io->mu);
    atomic_fetch_sub(&o->base.up->buffered, o->buf.len);
    o->held = 0;
    body_reset(&o->buf);
}

static hx_status s3_commit(struct hx_upload *const *us, size_t n) {
    struct s3_upload **puts = hx_calloc(2 * n, sizeof *puts);
    HX_FAIL_IF(puts == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct s3_upload **completes = puts + n;
    size_t np = 0, nc = 0;
    hx_status s = HOIST_OK;
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        struct s3_upload *o = (struct s3_upload *)us[i];
        if (o->base.state == HX_UP_COMMITTED) continue;
        if (o->held)
            puts[np++] = o;
        else {
            s = settle_parts(o);
            if (s == HOIST_OK) s = complete_xml(o);
            completes[nc++] = o;
        }
    }
    if (s == HOIST_OK) {
        /* Every PUT and Complete in flight together: a job commits thousands. */
        struct s3_io *io = io_of(us[0]);
        size_t sp = 0, sc = 0;
        pthread_mutex_lock(&io->mu);
        /* Many small requests: each is a round trip, not a share of the
         * bandwidth, so more of them in flight (as put_many does). */
        if (np + nc > (size_t)us[0]->up->st->concurrency) io->want_concurrency = us[0]->up->st->small_put_concurrency;
        s = submit_main_locked(puts, np, PH_PUT, &sp);
        if (s == HOIST_OK) s = submit_main_locked(completes, nc, PH_COMPLETE, &sc);
        hx_status a = wait_main_locked(io, puts, sp);
        hx_status b = wait_main_locked(io, completes, sc);
        io->want_concurrency = us[0]->up->st->concurrency;
        pthread_mutex_unlock(&io->mu);
        if (s == HOIST_OK) s = a != HOIST_OK ? a : b;
        for (size_t i = 0; i < sp + sc; i++) {
            struct s3_upload *o = i < sp ? puts[i] : completes[i - sp];
            if (o->main_status != HOIST_OK) continue;
            o->base.state = HX_UP_COMMITTED;
            if (o->held) atomic_fetch_add(&o->base.up->uploaded, o->buf.len);
            release_held(o);
            hx_free(o->upload_id);
            o->upload_id = NULL;
            hx_net_req_cleanup(&o->main);
            hx_buf_reset(&o->xml);
        }
        if (s != HOIST_OK) {
            const char *why = NULL;
            for (size_t i = 0; i < sp + sc && !why; i++) {
                struct s3_upload *o = i < sp ? puts[i] : completes[i - sp];
                if (o->main_status != HOIST_OK) why = o->err;
            }
            if (why) s = hx_error(s, "%s", why);
        }
    }
    hx_free(puts);
    return s;
}

static void s3_abort(struct hx_upload *const *us, size_t n) {
    struct s3_upload **todo = hx_calloc(n ? n : 1, sizeof *todo);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct s3_upload *o = (struct s3_upload *)us[i];
        if (o->base.state == HX_UP_COMMITTED || o->base.state == HX_UP_ABORTED) continue;
        o->aborting = 1;
        release_held(o);
        wait_parts(o);
        o->base.state = HX_UP_ABORTED;
        if (o->upload_id == NULL) continue;
        if (todo)
            todo[m++] = o;
        else {
            struct s3_upload *one[1] = {o};
            if (run_main(one, 1, PH_ABORT) != HOIST_OK)
                HX_WARN("%s: could not abort the upload: %s", o->base.url, hoist_errmsg());
        }
    }
    if (m > 0 && run_main(todo, m, PH_ABORT) != HOIST_OK)
        HX_WARN("could not abort every multipart upload: %s", hoist_errmsg());
    hx_free(todo);
}

static void s3_release(struct hx_upload *u) {
    struct s3_upload *o = (struct s3_upload *)u;
    release_held(o);
    if (o->buf.len) atomic_fetch_sub(&u->up->buffered, o->buf.len);
    body_reset(&o->buf);
    hx_buf_reset(&o->xml);
    for (int i = 0; i < o->nparts; i++) {
        hx_net_req_cleanup(&o->parts[i]->req);
        hx_free(o->parts[i]->data);
        hx_free(o->parts[i]);
    }
    hx_free(o->parts);
    hx_net_req_cleanup(&o->main);
    hx_free(o->upload_id);
    hx_free(o->err);
}

static uint64_t s3_unsent(const struct hx_upload *u) {
    const struct s3_upload *o = (const struct s3_upload *)u;
    return o->held ? 0 : o->buf.len;
}

/* ---- parking (store_upload.h: parked uploads) ------------------------------ */

/* A body held for one PUT becomes a one-part multipart upload (S3 takes a
 * last part of any size, so one part of 0..5 MiB is valid): a PUT cannot be
 * prepared now and sent later by another process, a multipart upload can. */
static hx_status s3_park(struct hx_upload *u, struct hx_parked_upload *out) {
    struct s3_upload *o = (struct s3_upload *)u;
    if (o->held) {
        struct s3_io *io = io_of(u);
        pthread_mutex_lock(&io->mu);
        io->held -= o->buf.len; /* still counted in buffered until the part is sent */
        pthread_mutex_unlock(&io->mu);
        o->held = 0;
        HX_TRY(ship_part(o));
    }
    HX_TRY(settle_parts(o));
    HX_FAIL_IF(o->upload_id == NULL || o->nparts == 0, HOIST_ERR_INTERNAL, "%s: parked without an upload", u->url);
    out->parts = hx_calloc((size_t)o->nparts, sizeof *out->parts);
    out->upload_id = hx_strdup(o->upload_id);
    HX_FAIL_IF(out->parts == NULL || out->upload_id == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (int i = 0; i < o->nparts; i++) {
        const struct s3_part *p = o->parts[i];
        struct hx_store_part *q = &out->parts[i];
        q->number = p->number;
        snprintf(q->etag, sizeof q->etag, "%s", p->etag);
        snprintf(q->checksum, sizeof q->checksum, "%s", p->crc);
        q->crc = p->crc_value;
        q->size = p->len;
    }
    out->nparts = (size_t)o->nparts;
    out->checksum = o->ck;
    return HOIST_OK;
}

/* ---- pending uploads ------------------------------------------------------ */

static hx_status s3_list_pending(struct hoist_store *st, const char *prefix_url, const struct hx_url *pu,
                                 struct hoist_list *out) {
    struct hx_store_pending_upload *pending = NULL;
    size_t n = 0, cap = 0;
    HX_TRY(hx_store_multipart_list(st, prefix_url, &pending, &n));
    hx_status s = HOIST_OK;
    for (size_t i = 0; i < n && s == HOIST_OK; i++)
        s = hx_store_list_push(out, &cap, pending[i].url, pu->bucket, 0, 0, pending[i].upload_id, 0);
    hx_store_pending_uploads_free(pending, n);
    return s;
}

static hx_status s3_abort_pending(struct hoist_store *st, const struct hoist_list_entry *e) {
    HX_FAIL_IF(e->etag == NULL, HOIST_ERR_INVALID_ARG, "%s: no upload id", e->url);
    return hx_store_multipart_abort(st, e->url, e->etag);
}

const struct hx_upload_ops hx_upload_s3_ops = {
    .upload_size = sizeof(struct s3_upload),
    .start = s3_start,
    .stop = s3_stop,
    .open = s3_open,
    .write = s3_write,
    .finish = s3_finish,
    .commit = s3_commit,
    .abort = s3_abort,
    .release = s3_release,
    .unsent = s3_unsent,
    .list_pending = s3_list_pending,
    .abort_pending = s3_abort_pending,
    .park = s3_park,
};
