/* The s3:// backend's get_many: a probe GET per object learns its size, then
 * ranged part GETs land straight in the caller's buffer, an allocation or a
 * temp file that is renamed into place when the object is complete. */
#include "store_s3_call.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct gobj;
struct gpart {
    struct hx_net_req req; /* first: prepare/on_done get it back by cast */
    struct hx_s3_resp s3r; /* its S3 headers */
    struct gobj *obj;
    uint64_t off, len; /* object byte range of this request (probe: once known) */
    uint64_t crc;      /* CRC of its bytes, once done (the object has a full-object checksum) */
    int is_probe;
    char range[64]; /* the Range header sent ("" for none), what a 206 must answer */
};

struct gobj {
    struct gpart probe;
    struct hoist_get_item *item;
    struct hx_url *u;
    struct hx_store_call *c;
    int known, whole_body, done, failed, sizing;
    uint64_t total, start, len, ps;
    uint8_t *mem;
    int fd;
    char *tmp_path;
    struct gpart *parts; /* parts after the probe */
    int nparts, left;
    char etag[136];
    int crc_kind;      /* the object's full-object checksum to verify (enum hx_crc_kind), or 0 */
    uint64_t crc_want; /* its value */
    hx_status status;
    char *err;
    struct hx_prefault_item pfi;
};

static void gobj_fail(struct gobj *o, hx_status st, char *err) {
    if (o->failed) {
        hx_free(err);
        return;
    }
    o->failed = 1;
    o->status = st;
    o->err = err;
}

static hx_status gpart_prepare(struct hx_net_req *req) {
    struct gpart *p = (struct gpart *)req;
    struct gobj *o = p->obj;
    if (o->failed) return HOIST_ERR_CANCELLED; /* the object already failed: skip */
    char range[64] = "";
    const struct hoist_get_item *it = o->item;
    if (p->is_probe && !o->known && it->offset == 0 && it->length < 0 && !it->suffix) {
        /* A whole object: a plain GET, so the server can send the stored
         * checksum with it (none comes with a range). A large object is cut
         * after its first part; ranged parts fetch the rest. */
        range[0] = '\0';
    } else if (!p->is_probe || o->known) {
        uint64_t last = p->len ? p->off + p->len - 1 : p->off;
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)p->off, (unsigned long long)last);
    } else if (o->item->suffix) {
        snprintf(range, sizeof range, "bytes=-%lld", (long long)o->item->length);
    } else {
        uint64_t want = o->item->length < 0 ? o->c->st->part_size : (uint64_t)o->item->length;
        if (want > o->c->st->part_size) want = o->c->st->part_size;
        if (want == 0) want = 1;
        snprintf(range, sizeof range, "bytes=%lld-%llu", (long long)o->item->offset,
                 (unsigned long long)o->item->offset + want - 1);
    }
    struct hx_s3_header h[3];
    size_t nh = 0;
    memcpy(p->range, range, sizeof p->range);
    if (range[0]) h[nh++] = (struct hx_s3_header){"range", range};
    if (p->is_probe && o->c->st->s3.set.checksum != HX_S3_CK_WHEN_REQUIRED)
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-mode", "ENABLED"};
    else if (o->etag[0])
        h[nh++] = (struct hx_s3_header){"if-match", o->etag}; /* the object must not change under us */
    req->sink = o->mem ? HX_SINK_MEM : o->fd >= 0 ? HX_SINK_FD : HX_SINK_NONE;
    if (!p->is_probe) {
        req->sink_mem = o->mem;
        req->sink_fd = o->fd;
        req->sink_off = p->off - o->start;
        req->sink_cap = p->len;
        req->sink_skip = 0;
        req->sink_lenient = 0;
    }
    return hx_s3_build_request(&o->c->st->s3, req, "GET", o->u->bucket, o->u->key, NULL, NULL, h, nh);
}

static hx_status gobj_allocate(struct gobj *o) {
    struct hoist_get_item *it = o->item;
    switch (it->dest) {
    case HOIST_DEST_ALLOC:
        o->mem = hx_malloc_huge(o->len ? o->len : 1);
        HX_FAIL_IF(o->mem == NULL, HOIST_ERR_NOMEM, "out of memory for %llu bytes", (unsigned long long)o->len);
        /* the pages are faulted in ahead of the writes, off this thread */
        if (o->c->pf) hx_prefault_push(o->c->pf, &o->pfi, o->mem, (size_t)o->len);
        return HOIST_OK;
    case HOIST_DEST_BUFFER:
        HX_FAIL_IF(o->len > it->buffer_size, HOIST_ERR_LIMIT, "%llu bytes do not fit the %zu-byte buffer",
                   (unsigned long long)o->len, it->buffer_size);
        o->mem = it->buffer;
        if (o->mem == NULL) o->mem = (uint8_t *)""; /* 0 bytes into a NULL, 0-size buffer */
        return HOIST_OK;
    case HOIST_DEST_FILE:
        HX_TRY(hx_store_temp_for(it->path, &o->fd, &o->tmp_path));
        if (o->len && ftruncate(o->fd, (off_t)o->len) != 0)
            HX_FAIL(HOIST_ERR_IO, "%s: cannot size the file: %s", it->path, strerror(errno));
        return HOIST_OK;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "unknown destination");
}

/* Longest ranged part of a whole-object GET when the part size is auto.
 * Bounds what a retry re-reads. */
#define HX_GET_MAX_STREAM ((uint64_t)64 << 20)

static void gobj_sized(struct gobj *o) {
    if (o->sizing) {
        o->sizing = 0;
        o->c->sizing--;
    }
}

/* Part size for a whole object of len bytes read by a plain GET. Every part
 * after the first costs a request and cuts the first GET short (its
 * connection is closed), which costs the server more than the bytes: so
 * while enough other objects wait to keep every connection busy, an object
 * is one stream (up to HX_GET_MAX_STREAM); only the last objects of a call,
 * or a few big ones, are split, into as many parts as there are idle
 * connections to share (never under the configured part size). */
static uint64_t whole_get_part_size(const struct gobj *o, uint64_t len) {
    const struct hoist_store *st = o->c->st;
    if (!st->part_size_auto) return st->part_size;
    uint64_t conc = (uint64_t)(st->concurrency > 0 ? st->concurrency : 1);
    uint64_t waiting = o->c->sizing;
    uint64_t k = waiting >= conc ? 1 : (conc + waiting) / (waiting + 1);
    uint64_t ps = len / k + (len % k != 0);
    if (ps > HX_GET_MAX_STREAM) ps = HX_GET_MAX_STREAM;
    if (ps < st->part_size) ps = st->part_size;
    return ps;
}

static hx_status gpart_headers(struct hx_net_req *req);

/* After the probe: the probe keeps the first part (or the whole body); the
 * rest of [start, end) is planned as ranged parts written at their offsets
 * and queued at the front. */
static hx_status plan_parts(struct gobj *o, struct gpart *p, const struct hx_net_resp *r, uint64_t start,
                            uint64_t end) {
    p->off = start;
    if (o->whole_body) {
        p->len = o->len;
    } else {
        uint64_t probe_end = r->status == 206 ? (uint64_t)r->range_end + 1 : o->ps;
        if (probe_end > end) probe_end = end;
        p->len = probe_end > start ? probe_end - start : 0;
        uint64_t rest = o->len - p->len, ps = o->ps;
        if (rest > 0) {
            int np = (int)((rest + ps - 1) / ps);
            o->parts = hx_calloc((size_t)np, sizeof *o->parts);
            HX_FAIL_IF(o->parts == NULL, HOIST_ERR_NOMEM, "out of memory");
            o->nparts = np;
            o->left += np;
            for (int i = np - 1; i >= 0; i--) {
                struct gpart *q = &o->parts[i];
                q->obj = o;
                q->off = start + p->len + (uint64_t)i * ps;
                q->len = i == np - 1 ? end - q->off : ps;
                q->req.owner = q;
                q->req.prepare = gpart_prepare;
                hx_s3_resp_attach(&q->s3r, &q->req);
                q->req.on_headers = gpart_headers;
                q->req.on_done = p->req.on_done;
                q->req.sink_fd = -1;
                /* at the front: started objects finish first */
                hx_net_loop_submit(&o->c->loop, &q->req, 1);
            }
        }
    }
    return HOIST_OK;
}

/* A 206 must answer the range it was asked (RFC 9110 14.4, 15.3.7): its
 * Content-Range names a total, first <= last < total; a range "first-last"
 * is answered from byte first up to last or the object's end; a suffix
 * "-n" with the object's last min(n, total) bytes. Sizes, offsets and
 * allocations are derived from these numbers, so a server that answers
 * something else (a total below the start would wrap the length; a suffix
 * larger than asked would size the destination from the server's claim)
 * is refused here, before any of it is used. */
static hx_status check_content_range(const struct gpart *p, const struct hx_net_resp *r) {
    const char *asked = p->range[0] ? p->range : "(no Range)";
    HX_FAIL_IF(r->range_start < 0 || r->range_end < r->range_start || r->range_total < 0 ||
                   r->range_end >= r->range_total,
               HOIST_ERR_S3_BAD_RESPONSE, "HTTP 206 to %s without a usable Content-Range (bytes %lld-%lld/%lld)", asked,
               (long long)r->range_start, (long long)r->range_end, (long long)r->range_total);
    uint64_t first = (uint64_t)r->range_start, last = (uint64_t)r->range_end, total = (uint64_t)r->range_total;
    unsigned long long a = 0, b = UINT64_MAX;
    int ok;
    if (sscanf(p->range, "bytes=-%llu", &a) == 1) {
        uint64_t n = a < total ? a : total;
        ok = last == total - 1 && last - first + 1 == n;
    } else {
        if (p->range[0] && sscanf(p->range, "bytes=%llu-%llu", &a, &b) != 2) b = UINT64_MAX;
        uint64_t want_last = b < total - 1 ? b : total - 1;
        ok = first == a && last == want_last;
    }
    HX_FAIL_IF(!ok, HOIST_ERR_S3_BAD_RESPONSE,
               "asked for %s, the server answered Content-Range bytes %llu-%llu/%llu (not that range)", asked,
               (unsigned long long)first, (unsigned long long)last, (unsigned long long)total);
    return HOIST_OK;
}

static hx_status gpart_headers(struct hx_net_req *req) {
    struct gpart *p = (struct gpart *)req;
    struct gobj *o = p->obj;
    const struct hx_net_resp *r = &req->resp;
    if (r->status == 206) HX_TRY(check_content_range(p, r));
    if (!p->is_probe) {
        HX_FAIL_IF(r->status != 206, HOIST_ERR_S3_BAD_RESPONSE, "ranged GET (%s) answered with HTTP %ld", p->range,
                   r->status);
        HX_FAIL_IF((uint64_t)r->range_total != o->total, HOIST_ERR_S3_BAD_RESPONSE,
                   "the object's size changed during the download (%lld bytes, was %llu)", (long long)r->range_total,
                   (unsigned long long)o->total);
        req->crc_kind = o->crc_kind;
        return HOIST_OK;
    }
    if (o->known) {
        HX_FAIL_IF(o->etag[0] && r->etag[0] && strcmp(o->etag, r->etag) != 0, HOIST_ERR_S3_PRECONDITION,
                   "the object changed during the download (ETag %s, was %s)", r->etag, o->etag);
    } else {
        struct hoist_get_item *it = o->item;
        uint64_t total, start, end;
        if (r->status == 206) {
            total = (uint64_t)r->range_total; /* check_content_range: first <= last < total */
            o->ps = o->c->st->part_size;      /* the probe's range was fixed when it was sent */
            if (it->suffix) {
                start = (uint64_t)r->range_start;
                end = total;
            } else {
                start = (uint64_t)it->offset;
                HX_FAIL_IF((uint64_t)r->range_start != start, HOIST_ERR_S3_BAD_RESPONSE,
                           "asked for bytes from %llu, got them from %lld", (unsigned long long)start,
                           (long long)r->range_start);
                end = it->length < 0 ? total : start + (uint64_t)it->length;
                if (end > total) end = total;
            }
        } else {
            HX_FAIL_IF(r->content_length < 0, HOIST_ERR_S3_BAD_RESPONSE, "response without a Content-Length");
            total = (uint64_t)r->content_length;
            int whole_obj = it->offset == 0 && it->length < 0 && !it->suffix;
            gobj_sized(o); /* not waiting itself */
            o->ps = whole_obj ? whole_get_part_size(o, total) : o->c->st->part_size;
            o->whole_body = !(whole_obj && total > o->ps);
            if (it->suffix) {
                uint64_t n = (uint64_t)it->length < total ? (uint64_t)it->length : total;
                start = total - n;
                end = total;
            } else {
                start = (uint64_t)it->offset;
                HX_FAIL_IF(start > total, HOIST_ERR_S3_INVALID_RANGE, "offset %llu is past the end (%llu bytes)",
                           (unsigned long long)start, (unsigned long long)total);
                end = it->length < 0 ? total : start + (uint64_t)it->length;
                if (end > total) end = total;
            }
        }
        o->total = total;
        o->start = start;
        o->len = end - start;
        snprintf(o->etag, sizeof o->etag, "%s", r->etag);
        HX_TRY(gobj_allocate(o));
        o->known = 1;
        gobj_sized(o);
        hx_store_s3_fill_info(&it->info, it->url, r, &p->s3r, total);
        /* A download of the whole object is checked against the stored
         * full-object checksum, however many ranged GETs fetch it: only a
         * plain GET's answer carries one (a ranged answer never does). */
        if (r->status == 200 && start == 0 && end == total) o->crc_kind = hx_s3_full_checksum(&p->s3r, &o->crc_want);
        HX_FAIL_IF(r->status == 200 && start == 0 && end == total && o->crc_kind == HX_CRC_NONE &&
                       o->c->st->s3.set.checksum == HX_S3_CK_ALWAYS,
                   HOIST_ERR_S3_BAD_RESPONSE,
                   "no full-object CRC64NVME/CRC32C/CRC32 to verify (checksum mode \"always\"; the object was "
                   "uploaded without one, or in parts with a COMPOSITE checksum)");
        o->c->prog.bytes_total += o->len;
        HX_TRY(plan_parts(o, p, r, start, end));
    }
    req->sink = o->mem ? HX_SINK_MEM : HX_SINK_FD;
    req->sink_mem = o->mem;
    req->sink_fd = o->fd;
    if (o->whole_body) {
        req->sink_off = 0;
        req->sink_skip = o->start;
        req->sink_cap = o->len;
        req->sink_lenient = 1;
        req->sink_stop_at_cap = 0;
    } else {
        req->sink_off = 0;
        req->sink_skip = 0;
        req->sink_cap = p->len;
        req->sink_lenient = 0;
        req->sink_stop_at_cap = r->status == 200; /* a plain GET of a large object */
    }
    req->crc_kind = o->crc_kind; /* each part's CRC, joined at the end (check_crc) */
    return HOIST_OK;
}

/* The CRC of the whole object from its requests' CRCs (the probe's range
 * comes first, the parts follow in order); 1 when it matches the stored one. */
static int check_crc(struct gobj *o, char *got, char *want) {
    uint64_t crc = o->probe.crc;
    for (int i = 0; i < o->nparts; i++) crc = hx_crc_combine(o->crc_kind, crc, o->parts[i].crc, o->parts[i].len);
    if (crc == o->crc_want) return 1;
    hx_s3_checksum_base64(o->crc_kind, crc, got);
    hx_s3_checksum_base64(o->crc_kind, o->crc_want, want);
    return 0;
}

static void gobj_finish(struct gobj *o) {
    struct hoist_get_item *it = o->item;
    if (it->dest == HOIST_DEST_FILE) {
        hx_status s = hx_store_commit_temp(o->fd, o->tmp_path, it->path);
        close(o->fd);
        o->fd = -1;
        hx_free(o->tmp_path);
        o->tmp_path = NULL;
        if (s != HOIST_OK) {
            gobj_fail(o, s, hx_asprintf("%s: %s", it->url, hoist_errmsg()));
            return;
        }
        it->data = NULL;
    } else {
        it->data = o->mem;
        o->mem = NULL;
    }
    it->size = o->len;
    it->range_start = o->start;
    it->status = HOIST_OK;
    o->done = 1;
    o->c->prog.objects_done++;
}

static enum hx_net_action gpart_done(struct hx_net_req *req, CURLcode code) {
    struct gpart *p = (struct gpart *)req;
    struct gobj *o = p->obj;
    hx_status st;
    char *err;
    const struct hoist_get_item *it = o->item;
    enum hx_s3_outcome out = hx_s3_classify(req, code, it->url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_OK) {
        if (req->stored != req->sink_cap) {
            if (hx_net_can_retry(req)) return HX_NET_RETRY;
            out = HX_S3_FAIL;
            st = HOIST_ERR_S3_BAD_RESPONSE;
            err = hx_asprintf("%s: body of %llu bytes, expected %llu", it->url, (unsigned long long)req->stored,
                              (unsigned long long)req->sink_cap);
        } else if (o->crc_kind) {
            p->crc = req->crc;
            char got[16], want[16];
            /* One request for the whole object: a mismatch is retried; over
             * several, the joined CRC is checked when the last one is done. */
            if (o->nparts == 0 && !check_crc(o, got, want)) {
                if (hx_net_can_retry(req)) return HX_NET_RETRY;
                out = HX_S3_FAIL;
                st = HOIST_ERR_S3_BAD_RESPONSE;
                err = hx_asprintf("%s: %s checksum mismatch (got %s, object has %s)", it->url,
                                  hx_s3_checksum_name(o->crc_kind), got, want);
            }
        }
    }
    if (out == HX_S3_FAIL) gobj_fail(o, st, err);
    if (p->is_probe && !o->known) {
        o->left = 0; /* no parts were planned */
        gobj_sized(o);
    } else {
        o->left--;
    }
    if (o->left == 0 && !o->failed && o->known && o->crc_kind && o->nparts > 0) {
        char got[16], want[16];
        if (!check_crc(o, got, want))
            gobj_fail(o, HOIST_ERR_S3_BAD_RESPONSE,
                      hx_asprintf("%s: %s checksum mismatch over the object's %d ranged GETs (got %s, object has %s)",
                                  it->url, hx_s3_checksum_name(o->crc_kind), o->nparts + 1, got, want));
    }
    if (o->left == 0 && !o->failed && o->known) gobj_finish(o);
    return HX_NET_DONE;
}

static void gobj_cleanup(struct gobj *o, int cancelled) {
    struct hoist_get_item *it = o->item;
    if (!o->done) {
        if (it->dest == HOIST_DEST_ALLOC) hx_free(o->mem);
        o->mem = NULL;
        if (o->fd >= 0) close(o->fd);
        o->fd = -1;
        if (o->tmp_path) unlink(o->tmp_path); /* nothing partial stays visible */
        it->status = o->failed ? o->status : HOIST_ERR_CANCELLED;
        if (o->failed && o->status == HOIST_ERR_CANCELLED && !cancelled) it->status = HOIST_ERR_INTERNAL;
        it->error = o->err ? o->err : hx_asprintf("%s: %s", it->url, hoist_strerror(it->status));
        o->err = NULL;
        it->data = NULL;
        it->size = 0;
        if (it->status != HOIST_ERR_S3_NO_SUCH_KEY) hoist_store_object_info_reset(&it->info);
    }
    hx_free(o->err);
    hx_free(o->tmp_path);
    hx_net_req_cleanup(&o->probe.req);
    hx_s3_resp_cleanup(&o->probe.s3r);
    for (int i = 0; i < o->nparts; i++) {
        hx_net_req_cleanup(&o->parts[i].req);
        hx_s3_resp_cleanup(&o->parts[i].s3r);
    }
    hx_free(o->parts);
}

hx_status hx_store_s3_get(struct hoist_store *st, struct hoist_get_item *items, size_t n, struct hx_url *urls,
                          unsigned flags, hoist_progress_fn progress, void *userdata) {
    (void)flags;
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, progress, userdata));
    struct hx_prefault pf;
    hx_prefault_init(&pf);
    c.pf = &pf;
    struct gobj *objs = hx_calloc(n, sizeof *objs);
    if (objs == NULL) {
        hx_prefault_stop(&pf);
        hx_net_loop_cleanup(&c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory for %zu objects", n);
    }
    for (size_t i = 0; i < n; i++) {
        struct gobj *o = &objs[i];
        o->fd = -1;
        if (urls[i].kind != HX_URL_S3) continue;
        c.prog.objects_total++;
        o->item = &items[i];
        o->u = &urls[i];
        o->c = &c;
        o->left = 1;
        if (urls[i].key[0] == '\0') {
            gobj_fail(o, HOIST_ERR_BAD_URL, hx_asprintf("%s: no key to read", items[i].url));
            continue;
        }
        o->probe.obj = o;
        o->probe.is_probe = 1;
        o->probe.req.owner = &o->probe;
        o->probe.req.prepare = gpart_prepare;
        hx_s3_resp_attach(&o->probe.s3r, &o->probe.req);
        o->probe.req.on_headers = gpart_headers;
        o->probe.req.on_done = gpart_done;
        o->probe.req.sink_fd = -1;
        o->sizing = 1;
        c.sizing++;
        hx_net_loop_submit(&c.loop, &o->probe.req, 0);
    }
    hx_status s = hx_net_loop_run(&c.loop);
    int cancelled = s == HOIST_ERR_CANCELLED;
    hx_net_loop_cleanup(&c.loop);
    hx_prefault_stop(&pf); /* before any pushed block can be freed */
    for (size_t i = 0; i < n; i++)
        if (objs[i].item) gobj_cleanup(&objs[i], cancelled);
    hx_free(objs);
    if (s != HOIST_OK)
        return hx_error(s, "get_many: %s", cancelled ? "cancelled by the progress callback" : hoist_errmsg());
    return HOIST_OK;
}
