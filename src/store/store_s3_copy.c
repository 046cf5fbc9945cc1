/* Server-side copy (hoist_store_copy_many): per item, a HEAD of the source,
 * then one CopyObject, or for objects larger than the multipart part size a
 * multipart upload of parallel UploadPartCopy ranges (as `aws s3 cp` does
 * above its multipart threshold), aborted on failure. All items and parts
 * run on one event loop; no object byte passes through the client. */
#include "store_s3_call.h"

#include <stdio.h>
#include <string.h>

/* S3 limits (qfacts): CopyObject up to 5 GiB; parts 5 MiB..5 GiB, at most
 * 10,000 of them. */
#define COPY_MAX_SINGLE ((uint64_t)5 << 30)
#define COPY_MIN_PART ((uint64_t)5 << 20)
#define COPY_MAX_PARTS 10000

enum cphase { CP_HEAD, CP_COPY, CP_CREATE, CP_PARTS, CP_COMPLETE, CP_ABORT, CP_DONE };

struct cobj;
struct cpart {
    struct hx_net_req req; /* first: the loop hands back &req */
    struct cobj *obj;
    int number;
    uint64_t first, last;
    char etag[136];
};

struct cobj {
    struct hx_net_req req; /* HEAD, CopyObject, Create, Complete, Abort */
    struct hx_s3_resp s3r;
    struct hx_store_call *c;
    struct hoist_copy_item *item;
    struct hx_url src, dst;
    enum cphase phase;
    uint64_t size;
    char etag[136];
    char *content_type, *meta;
    char *upload_id;
    struct cpart *parts;
    int nparts, parts_left;
    hx_status fail_status; /* the failure an abort is cleaning up after */
    char *fail_msg;
    struct hx_buf xml;
    char sha[65];
};

static void obj_fail(struct cobj *o, hx_status st, char *err) {
    if (o->item->status == HOIST_OK) {
        o->item->status = st;
        o->item->error = err ? err : hx_strdup(hoist_strerror(st));
    } else {
        hx_free(err);
    }
}

static hx_status cobj_prepare(struct hx_net_req *req) {
    struct cobj *o = (struct cobj *)req;
    struct hx_s3 *s3 = &o->c->st->s3;
    switch (o->phase) {
    case CP_HEAD:
        req->sink = HX_SINK_NONE;
        return hx_s3_build_request(s3, req, "HEAD", o->src.bucket, o->src.key, NULL, NULL, NULL, 0);
    case CP_COPY: return hx_s3_copy_request(s3, req, o->dst.bucket, o->dst.key, o->src.bucket, o->src.key, o->etag);
    case CP_CREATE:
        /* once sent, the upload exists and must be aborted on failure */
        req->must_finish = 1;
        return hx_s3_copy_create_request(s3, req, o->dst.bucket, o->dst.key, o->content_type, o->meta);
    case CP_COMPLETE:
        return hx_s3_mpu_complete_request(s3, req, o->dst.bucket, o->dst.key, o->upload_id, &o->xml, o->sha, 0,
                                          HX_CRC_NONE, NULL);
    case CP_ABORT:
        req->must_finish = 1;
        return hx_s3_mpu_abort_request(s3, req, o->dst.bucket, o->dst.key, o->upload_id);
    default: return hx_error(HOIST_ERR_INTERNAL, "copy: no request in this phase");
    }
}

static hx_status cpart_prepare(struct hx_net_req *req) {
    struct cpart *p = (struct cpart *)req;
    struct cobj *o = p->obj;
    if (o->item->status != HOIST_OK || o->c->loop.cancelled) return HOIST_ERR_CANCELLED; /* another part failed */
    return hx_s3_copy_part_request(&o->c->st->s3, req, o->dst.bucket, o->dst.key, o->upload_id, p->number,
                                   o->src.bucket, o->src.key, o->etag, p->first, p->last);
}

static enum hx_net_action cobj_done(struct hx_net_req *req, CURLcode code);
static enum hx_net_action cpart_done(struct hx_net_req *req, CURLcode code);

static void resubmit(struct cobj *o, enum cphase phase) {
    o->phase = phase;
    o->req.attempt = 0;
    o->req.must_finish = 0;
    hx_net_loop_submit(&o->c->loop, &o->req, 1);
}

/* Failure after the upload was created: abort it, then report. */
static void fail_upload(struct cobj *o, hx_status st, char *err) {
    obj_fail(o, st, err);
    if (o->upload_id && o->phase != CP_ABORT) {
        resubmit(o, CP_ABORT);
        return;
    }
    o->phase = CP_DONE;
}

/* Parts of at least the client's upload part size (5 MiB minimum), few
 * enough for the 10,000-part limit, at most 5 GiB. */
static hx_status plan_parts(struct cobj *o) {
    uint64_t ps = o->c->st->put_part_size < COPY_MIN_PART ? COPY_MIN_PART : o->c->st->put_part_size;
    while ((o->size + ps - 1) / ps > COPY_MAX_PARTS) ps *= 2;
    if (ps > COPY_MAX_SINGLE) ps = COPY_MAX_SINGLE;
    o->nparts = (int)((o->size + ps - 1) / ps);
    o->parts = hx_calloc((size_t)o->nparts, sizeof *o->parts);
    HX_FAIL_IF(o->parts == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (int i = 0; i < o->nparts; i++) {
        struct cpart *p = &o->parts[i];
        p->obj = o;
        p->number = i + 1;
        p->first = (uint64_t)i * ps;
        p->last = (i + 1 == o->nparts ? o->size : p->first + ps) - 1;
        p->req.owner = p;
        p->req.prepare = cpart_prepare;
        p->req.on_done = cpart_done;
        p->req.sink_fd = -1;
    }
    return HOIST_OK;
}

/* CopyObject, CopyPart and Complete may answer 200 with an <Error> body
 * (S3 API: CopyObject); that is a failure, retried like a 500. */
static int error_in_200(const struct hx_net_req *req, char **err, const char *url) {
    char code[64], msg[256];
    if (!hx_s3_parse_error(req->body.data, req->body.len, code, sizeof code, msg, sizeof msg)) return 0;
    *err = hx_asprintf("%s: %s: %s", url, code, msg);
    return 1;
}

static enum hx_net_action after_head(struct cobj *o) {
    const struct hx_net_resp *r = &o->req.resp;
    o->size = r->content_length > 0 ? (uint64_t)r->content_length : 0;
    snprintf(o->etag, sizeof o->etag, "%s", r->etag);
    o->item->size = o->size;
    o->c->prog.bytes_total += o->size;
    uint64_t threshold = o->c->st->put_part_size < COPY_MAX_SINGLE ? o->c->st->put_part_size : COPY_MAX_SINGLE;
    if (o->size <= threshold || o->size <= COPY_MIN_PART) {
        resubmit(o, CP_COPY);
        return HX_NET_DONE;
    }
    o->content_type = hx_store_s3_dup_or_null(r->content_type);
    o->meta = o->s3r.meta_json.len ? hx_strndup(o->s3r.meta_json.data, o->s3r.meta_json.len) : NULL;
    hx_status st = plan_parts(o);
    if (st != HOIST_OK) {
        obj_fail(o, st, hx_store_errdup());
        o->phase = CP_DONE;
        return HX_NET_DONE;
    }
    resubmit(o, CP_CREATE);
    return HX_NET_DONE;
}

static enum hx_net_action after_create(struct cobj *o) {
    hx_status st = hx_s3_xml_find(o->req.body.data, o->req.body.len, "UploadId", &o->upload_id);
    if (st != HOIST_OK) {
        obj_fail(o, st, hx_asprintf("%s: CreateMultipartUpload: %s", o->item->dst_url, hoist_errmsg()));
        o->phase = CP_DONE;
        return HX_NET_DONE;
    }
    if (o->c->loop.cancelled) {
        fail_upload(o, HOIST_ERR_CANCELLED, NULL);
        return HX_NET_DONE;
    }
    o->phase = CP_PARTS;
    o->parts_left = o->nparts;
    for (int i = 0; i < o->nparts; i++) hx_net_loop_submit(&o->c->loop, &o->parts[i].req, 1);
    return HX_NET_DONE;
}

static enum hx_net_action cobj_done(struct hx_net_req *req, CURLcode code) {
    struct cobj *o = (struct cobj *)req;
    const char *url = o->phase == CP_HEAD ? o->item->src_url : o->item->dst_url;
    hx_status st;
    char *err;
    enum hx_s3_outcome out = hx_s3_classify(req, code, url, &st, &err);
    if (out == HX_S3_OK && o->phase != CP_HEAD && o->phase != CP_ABORT && o->phase != CP_CREATE &&
        error_in_200(req, &err, url)) {
        out = hx_net_can_retry(req) ? HX_S3_RETRY : HX_S3_FAIL;
        st = HOIST_ERR_S3_SERVER;
        if (out == HX_S3_RETRY) hx_free(err);
    }
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (o->phase == CP_ABORT) {
        /* the copy already failed; a failed abort is worth saying */
        if (out == HX_S3_FAIL) HX_WARN("copy: could not abort the upload of %s: %s", o->item->dst_url, err);
        hx_free(out == HX_S3_FAIL ? err : NULL);
        o->phase = CP_DONE;
        return HX_NET_DONE;
    }
    if (out == HX_S3_FAIL) {
        if (o->phase == CP_COMPLETE)
            fail_upload(o, st, err);
        else {
            obj_fail(o, st, err);
            o->phase = CP_DONE;
        }
        return HX_NET_DONE;
    }
    switch (o->phase) {
    case CP_HEAD: return after_head(o);
    case CP_CREATE: return after_create(o);
    case CP_COPY:
    case CP_COMPLETE:
        o->item->status = HOIST_OK;
        o->c->prog.objects_done++;
        o->phase = CP_DONE;
        return HX_NET_DONE;
    default: return HX_NET_DONE;
    }
}

static void parts_finished(struct cobj *o) {
    if (o->item->status != HOIST_OK || o->c->loop.cancelled) {
        fail_upload(o, o->c->loop.cancelled ? HOIST_ERR_CANCELLED : o->item->status, NULL);
        return;
    }
    struct hx_s3_part_ref *refs = hx_calloc((size_t)o->nparts, sizeof *refs);
    hx_status st = refs ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (int i = 0; refs && i < o->nparts; i++)
        refs[i] = (struct hx_s3_part_ref){.number = o->parts[i].number, .etag = o->parts[i].etag};
    if (st == HOIST_OK) st = hx_s3_mpu_complete_xml(&o->xml, refs, (size_t)o->nparts, HX_CRC_NONE, NULL);
    hx_free(refs);
    if (st != HOIST_OK) {
        fail_upload(o, st, hx_store_errdup());
        return;
    }
    resubmit(o, CP_COMPLETE);
}

static enum hx_net_action cpart_done(struct hx_net_req *req, CURLcode code) {
    struct cpart *p = (struct cpart *)req;
    struct cobj *o = p->obj;
    hx_status st;
    char *err = NULL;
    enum hx_s3_outcome out = HX_S3_FAIL;
    if (req->abort_status == HOIST_ERR_CANCELLED && o->item->status != HOIST_OK) {
        st = HOIST_ERR_CANCELLED; /* skipped after another part failed */
    } else {
        out = hx_s3_classify(req, code, o->item->dst_url, &st, &err);
        if (out == HX_S3_OK && error_in_200(req, &err, o->item->dst_url)) {
            out = hx_net_can_retry(req) ? HX_S3_RETRY : HX_S3_FAIL;
            st = HOIST_ERR_S3_SERVER;
            if (out == HX_S3_RETRY) hx_free(err);
        }
        if (out == HX_S3_RETRY) return HX_NET_RETRY;
    }
    if (out == HX_S3_OK) {
        char *etag = NULL;
        if (hx_s3_xml_find(req->body.data, req->body.len, "ETag", &etag) == HOIST_OK) {
            snprintf(p->etag, sizeof p->etag, "%s", etag);
            o->c->prog.bytes_done += p->last - p->first + 1;
        } else {
            out = HX_S3_FAIL;
            st = HOIST_ERR_S3_BAD_RESPONSE;
            err = hx_asprintf("%s: UploadPartCopy answer has no ETag", o->item->dst_url);
        }
        hx_free(etag);
    }
    if (out != HX_S3_OK) obj_fail(o, st, err); /* the remaining parts see it and stop */
    if (--o->parts_left == 0) parts_finished(o);
    return HX_NET_DONE;
}

static void cobj_cleanup(struct cobj *o) {
    hx_net_req_cleanup(&o->req);
    hx_s3_resp_cleanup(&o->s3r);
    for (int i = 0; o->parts && i < o->nparts; i++) hx_net_req_cleanup(&o->parts[i].req);
    hx_free(o->parts);
    hx_free(o->content_type);
    hx_free(o->meta);
    hx_free(o->upload_id);
    hx_free(o->fail_msg);
    hx_buf_reset(&o->xml);
    hx_url_reset(&o->src);
    hx_url_reset(&o->dst);
}

static hx_status parse_pair(struct cobj *o) {
    struct hoist_copy_item *it = o->item;
    HX_FAIL_IF(it->src_url == NULL || it->dst_url == NULL, HOIST_ERR_INVALID_ARG, "copy: item without URLs");
    HX_TRY(hx_store_parse_url(it->src_url, &o->src));
    HX_TRY(hx_store_parse_url(it->dst_url, &o->dst));
    HX_FAIL_IF(o->src.kind != HX_URL_S3 || o->dst.kind != HX_URL_S3, HOIST_ERR_INVALID_ARG,
               "%s -> %s: server-side copy needs two s3:// URLs", it->src_url, it->dst_url);
    HX_FAIL_IF(!o->src.key[0] || !o->dst.key[0], HOIST_ERR_BAD_URL, "%s -> %s: both URLs need a key", it->src_url,
               it->dst_url);
    return HOIST_OK;
}

/* After a cancel: abort the uploads that were created and not completed,
 * so a cancelled copy leaves no pending upload behind (DESIGN.md). */
static void abort_pending(struct hoist_store *st, struct cobj *objs, size_t n) {
    struct hx_store_call c;
    if (hx_store_s3_call_init(&c, st, NULL, NULL) != HOIST_OK) return;
    for (size_t i = 0; i < n; i++) {
        struct cobj *o = &objs[i];
        if (o->upload_id == NULL || o->phase == CP_DONE || o->phase == CP_ABORT) continue;
        o->c = &c;
        o->phase = CP_ABORT;
        o->req.attempt = 0;
        hx_net_loop_submit(&c.loop, &o->req, 0);
    }
    hx_status s = hx_net_loop_run(&c.loop);
    (void)s;
    hx_net_loop_cleanup(&c.loop);
}

void hoist_store_copy_item_reset(struct hoist_copy_item *item) {
    if (item == NULL) return;
    hx_free(item->error);
    item->error = NULL;
    item->status = HOIST_OK;
    item->size = 0;
}

hx_status hoist_store_copy_many(struct hoist_store *st, struct hoist_copy_item *items, size_t n, unsigned flags,
                                hoist_progress_fn progress, void *userdata) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "copy_many: NULL argument");
    HX_FAIL_IF(flags != 0, HOIST_ERR_INVALID_ARG, "copy_many: flags must be 0");
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, progress, userdata));
    c.prog.objects_total = n;
    struct cobj *objs = n ? hx_calloc(n, sizeof *objs) : NULL;
    if (n && objs == NULL) {
        hx_net_loop_cleanup(&c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct cobj *o = &objs[i];
        o->item = &items[i];
        o->c = &c;
        items[i].status = HOIST_OK;
        items[i].error = NULL;
        items[i].size = 0;
        hx_status s = parse_pair(o);
        if (s != HOIST_OK) {
            obj_fail(o, s, hx_store_errdup());
            o->phase = CP_DONE;
            continue;
        }
        o->req.owner = o;
        o->req.prepare = cobj_prepare;
        o->req.on_done = cobj_done;
        o->req.sink_fd = -1;
        hx_s3_resp_attach(&o->s3r, &o->req);
        hx_net_loop_submit(&c.loop, &o->req, 0);
    }
    hx_status s = hx_net_loop_run(&c.loop);
    if (s == HOIST_ERR_CANCELLED) abort_pending(st, objs, n);
    for (size_t i = 0; i < n; i++) {
        if (s == HOIST_ERR_CANCELLED && objs[i].phase != CP_DONE) obj_fail(&objs[i], s, NULL);
        cobj_cleanup(&objs[i]);
    }
    hx_free(objs);
    hx_net_loop_cleanup(&c.loop);
    if (s != HOIST_OK) return hx_error(s, "copy cancelled");
    for (size_t i = 0; i < n; i++)
        if (items[i].status != HOIST_OK) return hx_error(items[i].status, "%s", items[i].error);
    hx_error_clear();
    return HOIST_OK;
}
