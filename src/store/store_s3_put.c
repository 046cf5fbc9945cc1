/* The s3:// backend's put_many: one PUT for small objects, multipart uploads
 * (create, parts, complete, abort on failure) for large ones, and the
 * no-overwrite checks (If-None-Match, or HEAD first where it is ignored).
 *
 * A file source is only stat'ed up front; it is opened when its first body
 * request starts and each body (a PUT, a part) is read with pread into a
 * buffer held while that request is in flight (and its retries), then freed.
 * So open files and buffers are bounded by the requests in flight, not by the
 * number of objects (mapping every file up front hit vm.max_map_count at
 * ~65,000 files), and a file truncated under the upload is an error naming
 * it, where a mapping would have killed the process with SIGBUS. The cost is
 * one copy from the page cache (memcpy speed) and, at most, concurrency x
 * part size of buffers (docs/store.md, Limits). */
#include "store_s3_call.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum pphase { PH_HEAD, PH_PUT, PH_INIT, PH_PARTS, PH_COMPLETE, PH_VERIFY, PH_ABORT, PH_DONE };

struct pobj;
struct ppart {
    struct hx_net_req req;
    struct hx_s3_resp s3r; /* its S3 headers */
    struct pobj *obj;
    int number; /* 0 = the object's own request */
    uint64_t off, len;
    char sha[65];
    char crc[16];       /* parts: the part's checksum (header format) */
    uint64_t crc_value; /* its value, joined into the object's at Complete */
    char etag[136];
    uint8_t *buf; /* a file source's body, read for this request (and its retries) */
};

struct pobj {
    struct ppart main;
    struct hoist_put_item *item;
    struct hx_url *u;
    struct hx_store_call *c;
    unsigned flags;
    const uint8_t *data; /* an in-memory source, or NULL */
    uint64_t size;
    const char *path; /* a file source (the item's), read on demand */
    int fd;           /* open while body requests are being prepared, else -1 */
    enum pphase phase;
    int failed, done;
    struct ppart *parts;
    int nparts, left;
    char *upload_id;
    char *meta; /* header-safe metadata JSON */
    struct hx_buf xml;
    char crc[9];
    int ck, ck_chosen; /* the multipart upload's checksum (enum hx_crc_kind), once chosen */
    char full[16];     /* the object's FULL_OBJECT checksum, sent with Complete */
    hx_status status;
    char *err;
};

static void pobj_fail(struct pobj *o, hx_status st, char *err) {
    if (o->failed) {
        hx_free(err);
        return;
    }
    o->failed = 1;
    o->status = st;
    o->err = err;
}

static int no_overwrite(const struct pobj *o) { return (o->flags & HOIST_NO_OVERWRITE) != 0; }

/* The bytes [off, off + len) of the object's source: in place for memory, read
 * into p->buf (once per request, kept for its retries) for a file. */
static hx_status body_bytes(struct pobj *o, struct ppart *p, uint64_t off, uint64_t len, const uint8_t **out) {
    if (o->path == NULL) {
        *out = o->size ? o->data + off : (const uint8_t *)"";
        return HOIST_OK;
    }
    if (p->buf == NULL) {
        if (o->fd < 0 && (o->fd = open(o->path, O_RDONLY | O_CLOEXEC)) < 0)
            HX_FAIL(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: cannot open the local file: %s", o->path,
                    strerror(errno));
        uint8_t *b = hx_malloc(len ? len : 1);
        HX_FAIL_IF(b == NULL, HOIST_ERR_NOMEM, "%s: out of memory for a %llu-byte body", o->path,
                   (unsigned long long)len);
        for (uint64_t done = 0; done < len;) {
            ssize_t r = pread(o->fd, b + done, (size_t)(len - done), (off_t)(off + done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                int e = errno;
                hx_free(b);
                if (r < 0) HX_FAIL(HOIST_ERR_IO, "%s: read failed: %s", o->path, strerror(e));
                HX_FAIL(HOIST_ERR_IO, "%s: the file shrank while uploading (%llu bytes when it started, %llu now)",
                        o->path, (unsigned long long)o->size, (unsigned long long)(off + done));
            }
            done += (uint64_t)r;
        }
        p->buf = b;
    }
    *out = p->buf;
    return HOIST_OK;
}

/* A request is over (not to be retried): its body buffer goes, and so does
 * the file descriptor once the object needs no more bytes. */
static void body_release(struct pobj *o, struct ppart *p) {
    hx_free(p->buf);
    p->buf = NULL;
    if (o->fd >= 0 && (o->done || o->failed || o->phase >= PH_COMPLETE || (p->number == 0 && o->phase == PH_PUT))) {
        close(o->fd);
        o->fd = -1;
    }
}

static hx_status ppart_prepare(struct hx_net_req *req) {
    struct ppart *p = (struct ppart *)req;
    struct pobj *o = p->obj;
    struct hx_s3 *s3 = &o->c->st->s3;
    struct hx_s3_header h[6];
    size_t nh = 0;
    req->sink = HX_SINK_NONE;
    req->has_body = 0;
    req->body_data = NULL;
    req->body_len = 0;
    if (p->number > 0) {
        if (o->failed) return HOIST_ERR_CANCELLED;
        const uint8_t *body;
        HX_TRY(body_bytes(o, p, p->off, p->len, &body));
        if (o->ck != HX_CRC_NONE && p->crc[0] == '\0') p->crc_value = hx_s3_body_crc(o->ck, body, p->len, p->crc);
        return hx_s3_mpu_part_request(s3, req, o->u->bucket, o->u->key, o->upload_id, p->number, body, p->len, o->ck,
                                      p->crc);
    }
    const char *ctype = o->item->content_type;
    switch (o->phase) {
    case PH_HEAD:
    case PH_VERIFY: return hx_s3_build_request(s3, req, "HEAD", o->u->bucket, o->u->key, NULL, NULL, NULL, 0);
    case PH_PUT: {
        /* The CRC32C header alone protects the body: the server rejects a
         * body that does not match it (BadDigest), so the payload is sent
         * UNSIGNED (the signature still covers every header, the checksum
         * included). SHA-256 of the body would cost ~10x the CPU of the
         * hardware CRC32C on the one I/O thread, taken from the transfer. */
        const uint8_t *body;
        HX_TRY(body_bytes(o, p, 0, o->size, &body));
        if (o->crc[0] == '\0') hx_crc_base64(hx_crc32c_update(0, body, o->size), o->crc);
        nh += hx_s3_object_headers(s3, ctype, h + nh);
        if (o->meta) h[nh++] = (struct hx_s3_header){"x-amz-meta-metaflow-user-attributes", o->meta};
        if (no_overwrite(o)) h[nh++] = (struct hx_s3_header){"if-none-match", "*"};
        char md5[25];
        hx_s3_body_checksum_header(s3, body, o->size, o->crc, md5, &h[nh++]);
        req->has_body = 1;
        req->body_data = body;
        req->body_len = o->size;
        return hx_s3_build_request(s3, req, "PUT", o->u->bucket, o->u->key, NULL, NULL, h, nh);
    }
    case PH_INIT:
        /* Once sent, an initiate creates an upload we must be able to abort:
         * a cancel lets it finish to learn the UploadId. */
        req->must_finish = 1;
        if (!o->ck_chosen) {
            o->ck = hx_store_mpu_checksum(o->c->st);
            o->ck_chosen = 1;
        }
        return hx_s3_mpu_create_request(s3, req, o->u->bucket, o->u->key, ctype, o->meta, o->ck);
    case PH_COMPLETE:
        return hx_s3_mpu_complete_request(s3, req, o->u->bucket, o->u->key, o->upload_id, &o->xml, p->sha,
                                          no_overwrite(o), o->ck, o->full);
    case PH_ABORT: return hx_s3_mpu_abort_request(s3, req, o->u->bucket, o->u->key, o->upload_id);
    default: break;
    }
    HX_FAIL(HOIST_ERR_INTERNAL, "put: request in phase %d", (int)o->phase);
}

static void pobj_next(struct pobj *o, enum pphase ph) {
    o->phase = ph;
    o->main.req.attempt = 0;
    o->main.req.max_retries = 0;
    o->main.sha[0] = '\0';
    hx_net_loop_submit(&o->c->loop, &o->main.req, 1);
}

static void pobj_success(struct pobj *o) {
    o->phase = PH_DONE;
    o->done = 1;
    o->item->status = HOIST_OK;
    o->c->prog.objects_done++;
}

static void pobj_exists(struct pobj *o) {
    o->done = 1;
    o->item->status = HOIST_ERR_EXISTS;
    o->item->error = hx_asprintf("%s: exists; not overwritten", o->item->url);
    o->c->prog.objects_done++;
}

static enum pphase upload_phase(const struct pobj *o) {
    return o->size > 2 * o->c->st->put_part_size ? PH_INIT : PH_PUT;
}

static hx_status plan_parts(struct pobj *o) {
    /* Part size grows with the object so no upload needs more than 10,000
     * parts (S3 limit), rounded up to whole MiB. */
    uint64_t ps = o->c->st->put_part_size;
    uint64_t need = (o->size + 9999) / 10000;
    if (need > ps) ps = (need + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
    int np = (int)((o->size + ps - 1) / ps);
    o->parts = hx_calloc((size_t)np, sizeof *o->parts);
    HX_FAIL_IF(o->parts == NULL, HOIST_ERR_NOMEM, "out of memory");
    o->nparts = np;
    o->left = np;
    for (int i = np - 1; i >= 0; i--) {
        struct ppart *q = &o->parts[i];
        q->obj = o;
        q->number = i + 1;
        q->off = (uint64_t)i * ps;
        q->len = i == np - 1 ? o->size - q->off : ps;
        q->req.owner = q;
        q->req.prepare = ppart_prepare;
        hx_s3_resp_attach(&q->s3r, &q->req);
        q->req.on_done = o->main.req.on_done;
        q->req.sink_fd = -1;
        hx_net_loop_submit(&o->c->loop, &q->req, 1);
    }
    return HOIST_OK;
}

static hx_status complete_xml(struct pobj *o) {
    struct hx_s3_part_ref *refs = hx_calloc((size_t)o->nparts, sizeof *refs);
    HX_FAIL_IF(refs == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (int i = 0; i < o->nparts; i++)
        refs[i] = (struct hx_s3_part_ref){o->parts[i].number, o->parts[i].etag, o->parts[i].crc, o->parts[i].crc_value,
                                          o->parts[i].len};
    hx_status s = hx_s3_mpu_complete_xml(&o->xml, refs, (size_t)o->nparts, o->ck, o->full);
    hx_free(refs);
    return s;
}

static enum hx_net_action ppart_finish(struct hx_net_req *req, CURLcode code) {
    struct ppart *p = (struct ppart *)req;
    struct pobj *o = p->obj;
    const char *url = o->item->url;
    hx_status st;
    char *err;
    if (o->phase == PH_ABORT) {
        /* best effort: the upload is gone either way unless the server is down */
        enum hx_s3_outcome out = hx_s3_classify(req, code, url, &st, &err);
        if (out == HX_S3_RETRY) return HX_NET_RETRY;
        if (out == HX_S3_FAIL) HX_WARN("%s: could not abort the multipart upload: %s", url, err ? err : "");
        hx_free(err);
        hx_free(o->upload_id);
        o->upload_id = NULL;
        return HX_NET_DONE;
    }
    long http = req->resp.status;
    if (p->number == 0 && code == CURLE_OK && req->abort_status == HOIST_OK) {
        if (o->phase == PH_HEAD && http == 200) {
            pobj_exists(o);
            return HX_NET_DONE;
        }
        if (o->phase == PH_HEAD && http == 404) {
            pobj_next(o, upload_phase(o));
            return HX_NET_DONE;
        }
        if ((o->phase == PH_PUT || o->phase == PH_COMPLETE) && http == 412 && no_overwrite(o)) {
            atomic_store(&o->c->st->inm_honored, 1);
            pobj_exists(o);
            return HX_NET_DONE;
        }
    }
    if (p->number == 0 && o->phase == PH_VERIFY) {
        if (code == CURLE_OK && http == 200 && req->resp.content_length == (int64_t)o->size) {
            pobj_success(o);
            return HX_NET_DONE;
        }
        enum hx_s3_outcome vout = hx_s3_classify(req, code, url, &st, &err);
        if (vout == HX_S3_RETRY) return HX_NET_RETRY;
        hx_free(err);
        pobj_fail(o, HOIST_ERR_S3_OTHER,
                  hx_asprintf("%s: the upload vanished (NoSuchUpload) and no complete object is there", url));
        return HX_NET_DONE;
    }
    if (p->number == 0 && o->phase == PH_INIT && code == CURLE_OK && req->abort_status == HOIST_OK) {
        /* a store that refuses FULL_OBJECT: once more the older way */
        int fallback = hx_store_mpu_fallback(o->c->st, req, o->ck);
        if (fallback) {
            o->ck = fallback;
            pobj_next(o, PH_INIT);
            return HX_NET_DONE;
        }
    }
    enum hx_s3_outcome out = hx_s3_classify(req, code, url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_FAIL && p->number == 0 && o->phase == PH_COMPLETE && req->attempt > 0) {
        /* A retried CompleteMultipartUpload answers NoSuchUpload when the
         * first attempt completed but its answer was lost: check the object. */
        char scode[64], msg[8];
        if (hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg) &&
            strcmp(scode, "NoSuchUpload") == 0) {
            hx_free(err);
            pobj_next(o, PH_VERIFY);
            return HX_NET_DONE;
        }
    }
    if (out == HX_S3_OK && p->number == 0 && o->phase == PH_COMPLETE) {
        /* CompleteMultipartUpload can fail after a 200 with an <Error> body. */
        char scode[64], msg[256];
        if (hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg)) {
            if (hx_s3_transient(500, scode) && hx_net_can_retry(req)) return HX_NET_RETRY;
            out = HX_S3_FAIL;
            st = hx_s3_status_for(500, scode);
            err = hx_asprintf("%s: completing the upload: %s: %s", url, scode, msg);
        }
    }
    if (out == HX_S3_FAIL) {
        pobj_fail(o, st, err);
        if (p->number > 0) o->left--;
        return HX_NET_DONE;
    }
    if (p->number > 0) {
        snprintf(p->etag, sizeof p->etag, "%s", req->resp.etag);
        o->left--;
        if (p->etag[0] == '\0')
            pobj_fail(o, HOIST_ERR_S3_BAD_RESPONSE,
                      hx_asprintf("%s: part %d uploaded without an ETag", url, p->number));
        if (o->left == 0 && !o->failed) {
            hx_status s = complete_xml(o);
            if (s != HOIST_OK)
                pobj_fail(o, s, hx_asprintf("%s: %s", url, hoist_errmsg()));
            else
                pobj_next(o, PH_COMPLETE);
        }
        return HX_NET_DONE;
    }
    switch (o->phase) {
    case PH_PUT:
    case PH_COMPLETE: pobj_success(o); break;
    case PH_INIT: {
        req->must_finish = 0;
        hx_status s = hx_s3_xml_find(req->body.data, req->body.len, "UploadId", &o->upload_id);
        if (s == HOIST_OK && req->loop->cancelled) break; /* only to abort it */
        if (s == HOIST_OK) s = plan_parts(o);
        if (s != HOIST_OK)
            pobj_fail(o, s, hx_asprintf("%s: starting the upload: %s", url, hoist_errmsg()));
        else
            o->phase = PH_PARTS;
        break;
    }
    default: pobj_fail(o, HOIST_ERR_INTERNAL, hx_asprintf("%s: unexpected phase %d", url, (int)o->phase)); break;
    }
    return HX_NET_DONE;
}

static enum hx_net_action ppart_done(struct hx_net_req *req, CURLcode code) {
    struct ppart *p = (struct ppart *)req;
    enum hx_net_action a = ppart_finish(req, code);
    if (a != HX_NET_RETRY) body_release(p->obj, p);
    return a;
}

static hx_status pobj_source(struct pobj *o) {
    struct hoist_put_item *it = o->item;
    if (it->data || it->path == NULL) {
        o->data = it->data;
        o->size = it->size;
        return HOIST_OK;
    }
    /* Only its size now: it is opened and read when its requests start. */
    struct stat sb;
    if (stat(it->path, &sb) != 0)
        HX_FAIL(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: cannot open the local file: %s", it->path,
                strerror(errno));
    HX_FAIL_IF(!S_ISREG(sb.st_mode), HOIST_ERR_IO, "%s: not a regular file", it->path);
    o->size = (uint64_t)sb.st_size;
    o->path = it->path;
    return HOIST_OK;
}

static int header_safe(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) return 0;
    return 1;
}

hx_status hx_store_s3_put(struct hoist_store *st, struct hoist_put_item *items, size_t n, struct hx_url *urls,
                          unsigned flags, hoist_progress_fn progress, void *userdata) {
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, progress, userdata));
    c.upload = 1;
    struct pobj *objs = hx_calloc(n, sizeof *objs);
    if (objs == NULL) {
        hx_net_loop_cleanup(&c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory for %zu objects", n);
    }
    int check_first = (flags & HOIST_NO_OVERWRITE) && !atomic_load(&st->inm_honored);
    for (size_t i = 0; i < n; i++) {
        struct pobj *o = &objs[i];
        if (urls[i].kind != HX_URL_S3) continue;
        o->item = &items[i];
        o->u = &urls[i];
        o->c = &c;
        o->flags = flags;
        o->main.obj = o;
        o->main.req.owner = &o->main;
        o->main.req.prepare = ppart_prepare;
        hx_s3_resp_attach(&o->main.s3r, &o->main.req);
        o->main.req.on_done = ppart_done;
        o->main.req.sink_fd = -1;
        o->fd = -1;
        c.prog.objects_total++;
        hx_status s = pobj_source(o);
        if (s == HOIST_OK && items[i].metadata_json) s = hx_s3_metadata_header(items[i].metadata_json, &o->meta);
        if (s == HOIST_OK && items[i].content_type && !header_safe(items[i].content_type))
            s = hx_error(HOIST_ERR_INVALID_ARG, "content type has a control character");
        if (s != HOIST_OK) {
            pobj_fail(o, s, hx_asprintf("%s: %s", items[i].url, hoist_errmsg()));
            continue;
        }
        c.prog.bytes_total += o->size;
        /* Without proof that the server honours If-None-Match, look first:
         * HEAD then conditional PUT (a writer racing between the two can
         * still be overwritten on such servers: docs/store.md). */
        o->phase = check_first ? PH_HEAD : upload_phase(o);
        hx_net_loop_submit(&c.loop, &o->main.req, 0);
    }
    /* Mostly small objects: each request is a server round trip, not a
     * bandwidth share, so more of them in flight (docs/store.md). */
    if (c.prog.objects_total > (uint64_t)st->concurrency &&
        c.prog.bytes_total / (c.prog.objects_total ? c.prog.objects_total : 1) < ((uint64_t)1 << 20))
        c.loop.concurrency = st->small_put_concurrency;
    hx_status s = hx_net_loop_run(&c.loop);
    int cancelled = s == HOIST_ERR_CANCELLED;
    /* Abort every multipart upload that did not complete: no leaked parts. */
    struct hx_net_loop *loop = &c.loop;
    loop->tick = NULL;
    loop->cancelled = 0;
    int aborts = 0;
    for (size_t i = 0; i < n; i++) {
        struct pobj *o = &objs[i];
        if (o->item && o->upload_id && o->phase != PH_DONE) {
            o->phase = PH_ABORT;
            o->main.req.attempt = 0;
            o->main.req.max_retries = 3;
            hx_net_loop_submit(loop, &o->main.req, 0);
            aborts++;
        }
    }
    if (aborts) {
        hx_status as = hx_net_loop_run(loop);
        (void)as;
    }
    hx_net_loop_cleanup(&c.loop);
    for (size_t i = 0; i < n; i++) {
        struct pobj *o = &objs[i];
        if (o->item == NULL) continue;
        if (!o->done) {
            o->item->status = o->failed && o->status != HOIST_ERR_CANCELLED ? o->status : HOIST_ERR_CANCELLED;
            o->item->error = o->err ? o->err : hx_asprintf("%s: %s", o->item->url, hoist_strerror(o->item->status));
            o->err = NULL;
        }
        hx_free(o->err);
        hx_free(o->meta);
        hx_free(o->upload_id);
        hx_buf_reset(&o->xml);
        if (o->fd >= 0) close(o->fd);
        hx_free(o->main.buf);
        hx_net_req_cleanup(&o->main.req);
        hx_s3_resp_cleanup(&o->main.s3r);
        for (int k = 0; k < o->nparts; k++) {
            hx_free(o->parts[k].buf);
            hx_net_req_cleanup(&o->parts[k].req);
            hx_s3_resp_cleanup(&o->parts[k].s3r);
        }
        hx_free(o->parts);
    }
    hx_free(objs);
    if (s != HOIST_OK)
        return hx_error(s, "put_many: %s", cancelled ? "cancelled by the progress callback" : "event loop failed");
    return HOIST_OK;
}
