/* The multipart steps of store.h (hx_store_multipart_*): create, upload
 * parts, complete, abort and list pending uploads, each one call on its own
 * event loop, built on the same request builders as put_many
 * (src/s3/s3_multipart.c). */
#include "store_s3_call.h"

#include <stdio.h>
#include <string.h>

enum mkind { M_CREATE, M_PART, M_COMPLETE, M_ABORT, M_LIST };

/* What one call is about: the object (or, for M_LIST, the prefix). */
struct mtarget {
    struct hx_url u;
    const char *url;
    const char *upload_id;
};

struct mreq {
    struct hx_net_req req; /* first: prepare/on_done get it back by cast */
    struct hx_s3_resp s3r;
    struct hx_store_call *c;
    const struct mtarget *t;
    enum mkind kind;
    /* inputs */
    const char *content_type, *meta; /* M_CREATE */
    struct hx_store_part *part;      /* M_PART */
    const struct hx_buf *xml;        /* M_COMPLETE */
    int if_none_match;               /* M_COMPLETE */
    int checksum;                    /* the upload's (enum hx_crc_kind) */
    char full[16];                   /* M_COMPLETE: the object's FULL_OBJECT checksum */
    char sha[65];                    /* M_COMPLETE */
    struct hx_s3_upload_page *page;  /* M_LIST: pages accumulate here */
    struct hx_s3_pager pager;        /* M_LIST: stops markers that repeat */
    /* outputs */
    char *upload_id; /* M_CREATE */
    hx_status status;
    char *err;
};

static hx_status mreq_prepare(struct hx_net_req *req) {
    struct mreq *m = (struct mreq *)req;
    struct hx_s3 *s3 = &m->c->st->s3;
    const struct hx_url *u = &m->t->u;
    switch (m->kind) {
    case M_CREATE: return hx_s3_mpu_create_request(s3, req, u->bucket, u->key, m->content_type, m->meta, m->checksum);
    case M_PART: {
        struct hx_store_part *p = m->part;
        if (m->checksum != HX_CRC_NONE && p->checksum[0] == '\0')
            p->crc = hx_s3_body_crc(m->checksum, p->data, p->size, p->checksum);
        return hx_s3_mpu_part_request(s3, req, u->bucket, u->key, m->t->upload_id, p->number, p->data, p->size,
                                      m->checksum, p->checksum);
    }
    case M_COMPLETE:
        return hx_s3_mpu_complete_request(s3, req, u->bucket, u->key, m->t->upload_id, m->xml, m->sha, m->if_none_match,
                                          m->checksum, m->full);
    case M_ABORT: return hx_s3_mpu_abort_request(s3, req, u->bucket, u->key, m->t->upload_id);
    case M_LIST:
        return hx_s3_mpu_list_request(s3, req, u->bucket, u->key, m->page->next_key_marker,
                                      m->page->next_upload_id_marker);
    }
    HX_FAIL(HOIST_ERR_INTERNAL, "multipart: request kind %d", (int)m->kind);
}

static void mreq_fail(struct mreq *m, hx_status st, char *err) {
    m->status = st;
    m->err = err ? err : hx_asprintf("%s: %s", m->t->url, hoist_strerror(st));
}

/* What a 2xx answer means for each kind; a failure goes into m. */
static enum hx_net_action mreq_ok(struct mreq *m) {
    struct hx_net_req *req = &m->req;
    const char *url = m->t->url;
    char scode[64], msg[256];
    switch (m->kind) {
    case M_CREATE: {
        hx_status s = hx_s3_xml_find(req->body.data, req->body.len, "UploadId", &m->upload_id);
        if (s != HOIST_OK) mreq_fail(m, s, hx_asprintf("%s: starting the upload: %s", url, hoist_errmsg()));
        break;
    }
    case M_PART:
        snprintf(m->part->etag, sizeof m->part->etag, "%s", req->resp.etag);
        if (m->part->etag[0] == '\0')
            mreq_fail(m, HOIST_ERR_S3_BAD_RESPONSE,
                      hx_asprintf("%s: part %d uploaded without an ETag", url, m->part->number));
        break;
    case M_COMPLETE:
        /* CompleteMultipartUpload can fail after a 200 with an <Error> body. */
        if (hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg)) {
            if (hx_s3_transient(500, scode) && hx_net_can_retry(req)) return HX_NET_RETRY;
            mreq_fail(m, hx_s3_status_for(500, scode),
                      hx_asprintf("%s: completing the upload: %s: %s", url, scode, msg));
        }
        break;
    case M_ABORT: break;
    case M_LIST: {
        hx_status s = hx_s3_parse_uploads(req->body.data, req->body.len, 1, m->page);
        if (s == HOIST_OK && m->page->is_truncated) {
            /* a key can have many uploads: the pair is what must advance */
            char *pair = hx_asprintf("%s %s", m->page->next_key_marker,
                                     m->page->next_upload_id_marker ? m->page->next_upload_id_marker : "");
            s = pair ? hx_s3_pager_next(&m->pager, url, "the key and upload-id markers", pair)
                     : hx_error(HOIST_ERR_NOMEM, "out of memory");
            hx_free(pair);
            if (s != HOIST_OK) {
                mreq_fail(m, s, hx_strdup(hoist_errmsg()));
                break;
            }
        }
        if (s != HOIST_OK) {
            mreq_fail(m, s, hx_asprintf("%s: %s", url, hoist_errmsg()));
        } else if (m->page->is_truncated) {
            req->attempt = 0;
            hx_net_loop_submit(&m->c->loop, req, 0); /* the next page */
        }
        break;
    }
    }
    return HX_NET_DONE;
}

static enum hx_net_action mreq_done(struct hx_net_req *req, CURLcode code) {
    struct mreq *m = (struct mreq *)req;
    long http = req->resp.status;
    if (code == CURLE_OK && req->abort_status == HOIST_OK && !req->body_too_long) {
        int fallback = m->kind == M_CREATE ? hx_store_mpu_fallback(m->c->st, req, m->checksum) : 0;
        if (fallback) {
            /* a store that refuses FULL_OBJECT: once more the older way */
            m->checksum = fallback;
            req->attempt = 0;
            hx_net_loop_submit(&m->c->loop, req, 0);
            return HX_NET_DONE;
        }
        if (m->kind == M_COMPLETE && http == 412 && m->if_none_match) {
            mreq_fail(m, HOIST_ERR_EXISTS, hx_asprintf("%s: exists; not overwritten", m->t->url));
            return HX_NET_DONE;
        }
        if (m->kind == M_ABORT && http == 404) return HX_NET_DONE; /* already gone */
    }
    hx_status st;
    char *err;
    enum hx_s3_outcome out = hx_s3_classify(req, code, m->t->url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_FAIL) {
        mreq_fail(m, st, err);
        return HX_NET_DONE;
    }
    return mreq_ok(m);
}

static void mreq_init(struct mreq *m, struct hx_store_call *c, const struct mtarget *t, enum mkind kind) {
    memset(m, 0, sizeof *m);
    m->c = c;
    m->t = t;
    m->kind = kind;
    m->req.owner = m;
    m->req.prepare = mreq_prepare;
    m->req.on_done = mreq_done;
    m->req.sink_fd = -1;
    hx_s3_resp_attach(&m->s3r, &m->req);
}

static void mreq_cleanup(struct mreq *m) {
    hx_net_req_cleanup(&m->req);
    hx_s3_pager_reset(&m->pager);
    hx_s3_resp_cleanup(&m->s3r);
    hx_free(m->upload_id);
    hx_free(m->err);
}

static hx_status target_parse(struct mtarget *t, const char *url, const char *upload_id, int need_key) {
    memset(t, 0, sizeof *t);
    HX_FAIL_IF(url == NULL, HOIST_ERR_INVALID_ARG, "multipart: NULL URL");
    HX_TRY(hx_store_parse_url(url, &t->u));
    hx_status s = HOIST_OK;
    if (t->u.kind != HX_URL_S3)
        s = hx_error(HOIST_ERR_UNSUPPORTED, "%s: multipart uploads are for s3:// URLs", url);
    else if (need_key && t->u.key[0] == '\0')
        s = hx_error(HOIST_ERR_BAD_URL, "%s: no key to upload to", url);
    else if (need_key && upload_id != NULL && upload_id[0] == '\0')
        s = hx_error(HOIST_ERR_INVALID_ARG, "%s: empty upload id", url);
    if (s != HOIST_OK) {
        hx_url_reset(&t->u);
        return s;
    }
    t->url = url;
    t->upload_id = upload_id;
    return HOIST_OK;
}

/* Runs the n requests of one call; the first request failure (in order) is
 * the call's status, with its message. */
static hx_status run_requests(struct hx_store_call *c, struct mreq *reqs, size_t n) {
    for (size_t i = 0; i < n; i++) hx_net_loop_submit(&c->loop, &reqs[i].req, 0);
    hx_status s = hx_net_loop_run(&c->loop);
    hx_net_loop_cleanup(&c->loop);
    if (s != HOIST_OK)
        return hx_error(s, "%s",
                        s == HOIST_ERR_CANCELLED ? "multipart: cancelled by the progress callback" : hoist_errmsg());
    for (size_t i = 0; i < n; i++)
        if (reqs[i].status != HOIST_OK) return hx_error(reqs[i].status, "%s", reqs[i].err);
    return HOIST_OK;
}

/* One request of one kind; *m is cleaned up by the caller. */
static hx_status run_one(struct hoist_store *st, struct mreq *m, const struct mtarget *t, enum mkind kind,
                         struct hx_store_call *c) {
    HX_TRY(hx_store_s3_call_init(c, st, NULL, NULL));
    mreq_init(m, c, t, kind);
    return HOIST_OK;
}

hx_status hx_store_multipart_create(struct hoist_store *st, const char *url, const char *content_type,
                                    const char *metadata_json, char **upload_id, int *checksum) {
    HX_FAIL_IF(st == NULL || upload_id == NULL || checksum == NULL, HOIST_ERR_INVALID_ARG,
               "multipart_create: NULL argument");
    *upload_id = NULL;
    *checksum = HX_CRC_NONE;
    struct mtarget t;
    HX_TRY(target_parse(&t, url, NULL, 1));
    char *meta = NULL;
    hx_status s = metadata_json ? hx_s3_metadata_header(metadata_json, &meta) : HOIST_OK;
    if (s != HOIST_OK) s = hx_error(s, "%s: %s", url, hoist_errmsg());
    struct hx_store_call c;
    struct mreq m;
    memset(&m, 0, sizeof m);
    if (s == HOIST_OK) s = run_one(st, &m, &t, M_CREATE, &c);
    if (s == HOIST_OK) {
        m.content_type = content_type;
        m.meta = meta;
        m.checksum = hx_store_mpu_checksum(st);
        s = run_requests(&c, &m, 1);
    }
    if (s == HOIST_OK) {
        *checksum = m.checksum;
        *upload_id = m.upload_id;
        m.upload_id = NULL;
        hx_error_clear();
    }
    mreq_cleanup(&m);
    hx_free(meta);
    hx_url_reset(&t.u);
    return s;
}

hx_status hx_store_multipart_upload_parts(struct hoist_store *st, const char *url, const char *upload_id, int checksum,
                                          struct hx_store_part *parts, size_t n, hoist_progress_fn progress,
                                          void *userdata) {
    HX_FAIL_IF(st == NULL || upload_id == NULL || (parts == NULL && n > 0), HOIST_ERR_INVALID_ARG,
               "multipart_upload_parts: NULL argument");
    for (size_t i = 0; i < n; i++) {
        parts[i].status = HOIST_OK;
        parts[i].error = NULL;
        parts[i].etag[0] = parts[i].checksum[0] = '\0';
        parts[i].crc = 0;
        HX_FAIL_IF(parts[i].number < 1 || parts[i].number > 10000, HOIST_ERR_INVALID_ARG,
                   "%s: part number %d is outside 1..10000", url ? url : "multipart", parts[i].number);
        HX_FAIL_IF(parts[i].data == NULL && parts[i].size > 0, HOIST_ERR_INVALID_ARG, "%s: part %d has no data",
                   url ? url : "multipart", parts[i].number);
    }
    if (n == 0) return HOIST_OK;
    struct mtarget t;
    HX_TRY(target_parse(&t, url, upload_id, 1));
    struct hx_store_call c;
    hx_status s = hx_store_s3_call_init(&c, st, progress, userdata);
    struct mreq *reqs = s == HOIST_OK ? hx_calloc(n, sizeof *reqs) : NULL;
    if (s == HOIST_OK && reqs == NULL) {
        hx_net_loop_cleanup(&c.loop);
        s = hx_error(HOIST_ERR_NOMEM, "out of memory for %zu parts", n);
    }
    if (s == HOIST_OK) {
        c.upload = 1;
        c.prog.objects_total = n;
        for (size_t i = 0; i < n; i++) {
            mreq_init(&reqs[i], &c, &t, M_PART);
            reqs[i].part = &parts[i];
            reqs[i].checksum = checksum;
            c.prog.bytes_total += parts[i].size;
        }
        s = run_requests(&c, reqs, n);
        for (size_t i = 0; i < n; i++) {
            parts[i].status = reqs[i].status;
            if (reqs[i].status == HOIST_OK && s == HOIST_ERR_CANCELLED && parts[i].etag[0] == '\0')
                parts[i].status = HOIST_ERR_CANCELLED;
            parts[i].error = reqs[i].err;
            reqs[i].err = NULL;
            mreq_cleanup(&reqs[i]);
        }
        hx_free(reqs);
    }
    hx_url_reset(&t.u);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

/* The Complete body of one upload: parts checked (ETag, ascending), the
 * object's FULL_OBJECT checksum into full. */
static hx_status build_complete(const char *url, const struct hx_store_part *parts, size_t n, int checksum,
                                struct hx_buf *xml, char full[16]) {
    struct hx_s3_part_ref *refs = hx_calloc(n ? n : 1, sizeof *refs);
    HX_FAIL_IF(refs == NULL, HOIST_ERR_NOMEM, "out of memory");
    hx_status s = HOIST_OK;
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        if (parts[i].etag[0] == '\0' || (i > 0 && parts[i].number <= parts[i - 1].number))
            s = hx_error(HOIST_ERR_INVALID_ARG, "%s: part %zu (number %d) has no ETag or is out of order", url, i,
                         parts[i].number);
        refs[i] = (struct hx_s3_part_ref){parts[i].number, parts[i].etag,
                                          parts[i].checksum[0] ? parts[i].checksum : NULL, parts[i].crc, parts[i].size};
    }
    if (s == HOIST_OK) s = hx_s3_mpu_complete_xml(xml, refs, n, checksum, full);
    hx_free(refs);
    return s;
}

hx_status hx_store_multipart_complete(struct hoist_store *st, const char *url, const char *upload_id, int checksum,
                                      const struct hx_store_part *parts, size_t n, unsigned flags) {
    HX_FAIL_IF(st == NULL || upload_id == NULL || parts == NULL || n == 0, HOIST_ERR_INVALID_ARG,
               "multipart_complete: NULL argument or no parts");
    struct mtarget t;
    HX_TRY(target_parse(&t, url, upload_id, 1));
    struct hx_buf xml;
    hx_buf_init(&xml);
    char full[16] = "";
    hx_status s = build_complete(url, parts, n, checksum, &xml, full);
    struct hx_store_call c;
    struct mreq m;
    memset(&m, 0, sizeof m);
    if (s == HOIST_OK) s = run_one(st, &m, &t, M_COMPLETE, &c);
    if (s == HOIST_OK) {
        m.checksum = checksum;
        memcpy(m.full, full, sizeof full);
        m.xml = &xml;
        m.if_none_match = (flags & HOIST_NO_OVERWRITE) != 0;
        s = run_requests(&c, &m, 1);
    }
    mreq_cleanup(&m);
    hx_buf_reset(&xml);
    hx_url_reset(&t.u);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

hx_status hx_store_multipart_complete_many(struct hoist_store *st, struct hx_store_completion *items, size_t n) {
    HX_FAIL_IF(st == NULL || (n > 0 && items == NULL), HOIST_ERR_INVALID_ARG, "multipart_complete_many: NULL argument");
    if (n == 0) return HOIST_OK;
    struct mtarget *t = hx_calloc(n, sizeof *t);
    struct mreq *m = hx_calloc(n, sizeof *m);
    struct hx_buf *xml = hx_calloc(n, sizeof *xml);
    int *parsed = hx_calloc(n, sizeof *parsed);
    hx_status s = t && m && xml && parsed ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    struct hx_store_call c;
    int call = 0;
    if (s == HOIST_OK) s = hx_store_s3_call_init(&c, st, NULL, NULL);
    call = s == HOIST_OK;
    for (size_t i = 0; i < n; i++) {
        struct hx_store_completion *it = &items[i];
        it->status = s;
        it->error = NULL;
        if (s != HOIST_OK) continue;
        hx_buf_init(&xml[i]);
        char full[16] = "";
        hx_status e = it->upload_id && it->parts && it->nparts
                          ? target_parse(&t[i], it->url, it->upload_id, 1)
                          : hx_error(HOIST_ERR_INVALID_ARG, "%s: no upload id or no parts", it->url ? it->url : "");
        parsed[i] = e == HOIST_OK;
        if (e == HOIST_OK) e = build_complete(it->url, it->parts, it->nparts, it->checksum, &xml[i], full);
        if (e != HOIST_OK) {
            it->status = e;
            it->error = hx_strdup(hoist_errmsg());
            continue;
        }
        mreq_init(&m[i], &c, &t[i], M_COMPLETE);
        m[i].checksum = it->checksum;
        memcpy(m[i].full, full, sizeof full);
        m[i].xml = &xml[i];
        it->status = HOIST_ERR_INTERNAL; /* until its request says */
        hx_net_loop_submit(&c.loop, &m[i].req, 0);
    }
    if (call) {
        /* Every Complete in flight together: each is a round trip, not bandwidth. */
        hx_status r = hx_net_loop_run(&c.loop);
        hx_net_loop_cleanup(&c.loop);
        for (size_t i = 0; i < n; i++) {
            struct hx_store_completion *it = &items[i];
            if (it->status != HOIST_ERR_INTERNAL) continue;
            it->status = r != HOIST_OK ? r : m[i].status;
            if (it->status != HOIST_OK) it->error = hx_strdup(m[i].err ? m[i].err : hoist_strerror(it->status));
        }
    }
    hx_status first = s;
    for (size_t i = 0; i < n && first == HOIST_OK; i++)
        if (items[i].status != HOIST_OK) first = hx_error(items[i].status, "%s", items[i].error ? items[i].error : "");
    for (size_t i = 0; m && i < n; i++) {
        if (m[i].c) mreq_cleanup(&m[i]);
        if (xml) hx_buf_reset(&xml[i]);
        if (parsed && parsed[i]) hx_url_reset(&t[i].u);
    }
    hx_free(t);
    hx_free(m);
    hx_free(xml);
    hx_free(parsed);
    if (first == HOIST_OK) hx_error_clear();
    return first;
}

hx_status hx_store_multipart_abort(struct hoist_store *st, const char *url, const char *upload_id) {
    HX_FAIL_IF(st == NULL || upload_id == NULL, HOIST_ERR_INVALID_ARG, "multipart_abort: NULL argument");
    struct mtarget t;
    HX_TRY(target_parse(&t, url, upload_id, 1));
    struct hx_store_call c;
    struct mreq m;
    hx_status s = run_one(st, &m, &t, M_ABORT, &c);
    if (s == HOIST_OK) {
        s = run_requests(&c, &m, 1);
        mreq_cleanup(&m);
    }
    hx_url_reset(&t.u);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

void hx_store_pending_uploads_free(struct hx_store_pending_upload *uploads, size_t n) {
    if (uploads == NULL) return;
    for (size_t i = 0; i < n; i++) {
        hx_free(uploads[i].url);
        hx_free(uploads[i].upload_id);
    }
    hx_free(uploads);
}

static hx_status pending_from_page(const struct mtarget *t, const struct hx_s3_upload_page *page,
                                   struct hx_store_pending_upload **out, size_t *n) {
    struct hx_store_pending_upload *p = hx_calloc(page->count ? page->count : 1, sizeof *p);
    HX_FAIL_IF(p == NULL, HOIST_ERR_NOMEM, "out of memory listing uploads");
    for (size_t i = 0; i < page->count; i++) {
        p[i].url = hx_asprintf("s3://%s/%s", t->u.bucket, page->items[i].key);
        p[i].upload_id = hx_strdup(page->items[i].upload_id);
        p[i].initiated = page->items[i].initiated;
        if (p[i].url == NULL || p[i].upload_id == NULL) {
            hx_store_pending_uploads_free(p, i + 1);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory listing uploads");
        }
    }
    *out = p;
    *n = page->count;
    return HOIST_OK;
}

hx_status hx_store_multipart_list(struct hoist_store *st, const char *prefix_url, struct hx_store_pending_upload **out,
                                  size_t *n) {
    HX_FAIL_IF(st == NULL || out == NULL || n == NULL, HOIST_ERR_INVALID_ARG, "multipart_list: NULL argument");
    *out = NULL;
    *n = 0;
    struct mtarget t;
    HX_TRY(target_parse(&t, prefix_url, NULL, 0));
    struct hx_s3_upload_page page;
    memset(&page, 0, sizeof page);
    struct hx_store_call c;
    struct mreq m;
    hx_status s = run_one(st, &m, &t, M_LIST, &c);
    if (s == HOIST_OK) {
        m.page = &page;
        s = run_requests(&c, &m, 1);
        mreq_cleanup(&m);
    }
    if (s == HOIST_OK) s = pending_from_page(&t, &page, out, n);
    hx_s3_upload_page_reset(&page);
    hx_url_reset(&t.u);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}
