/* The s3:// backend's metadata calls: info_many (HEAD), list (ListObjectsV2
 * pages), delete_many (DeleteObjects batches) and bucket create/delete. */
#include "store_s3_call.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- info_many ---------------------------------------------------------- */

struct iobj {
    struct hx_net_req req;
    struct hx_s3_resp s3r; /* its S3 headers */
    struct hoist_info_item *item;
    struct hx_url *u;
    struct hoist_store *st;
};

static hx_status iobj_prepare(struct hx_net_req *req) {
    struct iobj *o = (struct iobj *)req;
    req->sink = HX_SINK_NONE;
    return hx_s3_build_request(&o->st->s3, req, "HEAD", o->u->bucket, o->u->key, NULL, NULL, NULL, 0);
}

static enum hx_net_action iobj_done(struct hx_net_req *req, CURLcode code) {
    struct iobj *o = (struct iobj *)req;
    hx_status st;
    char *err;
    enum hx_s3_outcome out = hx_s3_classify(req, code, o->item->url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_FAIL) {
        o->item->status = st;
        o->item->error = err;
        return HX_NET_DONE;
    }
    hx_store_s3_fill_info(&o->item->info, o->item->url, &req->resp, &o->s3r,
                          req->resp.content_length > 0 ? (uint64_t)req->resp.content_length : 0);
    o->item->status = HOIST_OK;
    return HX_NET_DONE;
}

hx_status hx_store_s3_info(struct hoist_store *st, struct hoist_info_item *items, size_t n, struct hx_url *urls) {
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, NULL, NULL));
    struct iobj *objs = hx_calloc(n, sizeof *objs);
    if (objs == NULL) {
        hx_net_loop_cleanup(&c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (urls[i].kind != HX_URL_S3) continue;
        struct iobj *o = &objs[i];
        o->item = &items[i];
        o->u = &urls[i];
        o->st = st;
        if (urls[i].key[0] == '\0') {
            items[i].status = hx_error(HOIST_ERR_BAD_URL, "%s: no key", items[i].url);
            items[i].error = hx_store_errdup();
            continue;
        }
        o->req.owner = o;
        o->req.prepare = iobj_prepare;
        hx_s3_resp_attach(&o->s3r, &o->req);
        o->req.on_done = iobj_done;
        o->req.sink_fd = -1;
        hx_net_loop_submit(&c.loop, &o->req, 0);
    }
    hx_status s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    for (size_t i = 0; i < n; i++) {
        hx_net_req_cleanup(&objs[i].req);
        hx_s3_resp_cleanup(&objs[i].s3r);
    }
    hx_free(objs);
    return s;
}

/* ---- list -------------------------------------------------------------------- */

struct lobj {
    struct hx_net_req req;
    struct hx_s3_resp s3r; /* its S3 headers */
    struct hoist_store *st;
    const char *prefix_url;
    struct hx_url *u;
    char *prefix; /* key prefix: "" or ends with '/' */
    int recursive;
    int one_page; /* hx_store_s3_list_page: stop after this page */
    char *token;
    struct hx_s3_pager pager; /* stops a listing whose tokens repeat */
    struct hx_s3_list_page page;
    hx_status status;
    char *err;
};

static hx_status lobj_prepare(struct hx_net_req *req) {
    struct lobj *o = (struct lobj *)req;
    struct hx_buf q;
    hx_buf_init(&q);
    hx_status s = HOIST_OK;
    /* canonical order: parameters sorted by name */
    if (o->token) {
        s = hx_buf_append_str(&q, "continuation-token=");
        if (s == HOIST_OK) s = hx_s3_uri_encode(&q, o->token, strlen(o->token), 0);
        if (s == HOIST_OK) s = hx_buf_append_str(&q, "&");
    }
    if (s == HOIST_OK && !o->recursive) s = hx_buf_append_str(&q, "delimiter=%2F&");
    if (s == HOIST_OK) s = hx_buf_append_str(&q, "encoding-type=url&list-type=2&max-keys=1000&prefix=");
    if (s == HOIST_OK) s = hx_s3_uri_encode(&q, o->prefix, strlen(o->prefix), 0);
    req->sink = HX_SINK_BUF;
    req->body_cap = XML_BODY_CAP;
    if (s == HOIST_OK) s = hx_s3_build_request(&o->st->s3, req, "GET", o->u->bucket, NULL, q.data, NULL, NULL, 0);
    hx_buf_reset(&q);
    return s;
}

static enum hx_net_action lobj_done(struct hx_net_req *req, CURLcode code) {
    struct lobj *o = (struct lobj *)req;
    hx_status st;
    char *err;
    enum hx_s3_outcome out = hx_s3_classify(req, code, o->prefix_url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_FAIL) {
        o->status = st;
        o->err = err;
        return HX_NET_DONE;
    }
    st = hx_s3_parse_list(req->body.data, req->body.len, 1, &o->page);
    if (st != HOIST_OK) {
        o->status = st;
        o->err = hx_asprintf("%s: %s", o->prefix_url, hoist_errmsg());
        return HX_NET_DONE;
    }
    if (o->page.is_truncated && !o->one_page) {
        st = hx_s3_pager_next(&o->pager, o->prefix_url, "continuation token", o->page.next_token);
        if (st != HOIST_OK) {
            o->status = st;
            o->err = hx_strdup(hoist_errmsg());
            return HX_NET_DONE;
        }
        hx_free(o->token);
        o->token = o->page.next_token;
        o->page.next_token = NULL;
        req->attempt = 0;
        hx_net_loop_submit(req->loop, req, 1);
    }
    return HX_NET_DONE;
}

static int cmp_item(const void *a, const void *b) {
    return strcmp(((const struct hx_s3_list_item *)a)->key, ((const struct hx_s3_list_item *)b)->key);
}

hx_status hx_store_s3_list(struct hoist_store *st, const char *const *prefixes, size_t n, struct hx_url *urls,
                           int recursive, struct hoist_list *per) {
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, NULL, NULL));
    struct lobj *objs = hx_calloc(n, sizeof *objs);
    if (objs == NULL) {
        hx_net_loop_cleanup(&c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status s = HOIST_OK;
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        if (urls[i].kind != HX_URL_S3) continue;
        struct lobj *o = &objs[i];
        o->st = st;
        o->u = &urls[i];
        o->prefix_url = prefixes[i];
        o->recursive = recursive;
        /* metaflow semantics: a prefix is a directory, so "log" lists
         * "log/..." and never "log_other/..." */
        const char *k = urls[i].key;
        size_t kl = strlen(k);
        o->prefix = kl == 0 ? hx_strdup("") : k[kl - 1] == '/' ? hx_strdup(k) : hx_asprintf("%s/", k);
        if (o->prefix == NULL) {
            s = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        o->req.owner = o;
        o->req.prepare = lobj_prepare;
        hx_s3_resp_attach(&o->s3r, &o->req);
        o->req.on_done = lobj_done;
        o->req.sink_fd = -1;
        hx_net_loop_submit(&c.loop, &o->req, 0);
    }
    if (s == HOIST_OK) s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        if (objs[i].status != HOIST_OK)
            s = hx_error(objs[i].status, "%s", objs[i].err ? objs[i].err : "listing failed");
    }
    struct hx_buf url;
    hx_buf_init(&url);
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        struct lobj *o = &objs[i];
        if (o->u == NULL) continue;
        if (o->page.count > 1) qsort(o->page.items, o->page.count, sizeof *o->page.items, cmp_item);
        size_t cap = 0;
        for (size_t k = 0; k < o->page.count && s == HOIST_OK; k++) {
            struct hx_s3_list_item *it = &o->page.items[k];
            url.len = 0;
            s = hx_buf_printf(&url, "s3://%s/%s", o->u->bucket, it->key);
            if (s == HOIST_OK)
                s = hx_store_list_push(&per[i], &cap, url.data, o->prefix_url, it->size, it->last_modified, it->etag,
                                       it->is_prefix);
        }
    }
    hx_buf_reset(&url);
    for (size_t i = 0; i < n; i++) {
        hx_net_req_cleanup(&objs[i].req);
        hx_s3_resp_cleanup(&objs[i].s3r);
        hx_s3_list_page_reset(&objs[i].page);
        hx_free(objs[i].prefix);
        hx_free(objs[i].token);
        hx_s3_pager_reset(&objs[i].pager);
        hx_free(objs[i].err);
    }
    hx_free(objs);
    return s;
}

hx_status hx_store_s3_list_page(struct hoist_store *st, const char *prefix_url, struct hx_url *u, int recursive,
                                char **token, struct hoist_list *out) {
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, NULL, NULL));
    struct lobj o;
    memset(&o, 0, sizeof o);
    o.st = st;
    o.u = u;
    o.prefix_url = prefix_url;
    o.recursive = recursive;
    o.one_page = 1;
    o.token = *token;
    const char *k = u->key;
    size_t kl = strlen(k);
    o.prefix = kl == 0 ? hx_strdup("") : k[kl - 1] == '/' ? hx_strdup(k) : hx_asprintf("%s/", k);
    hx_status s = o.prefix ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (s == HOIST_OK) {
        o.req.owner = &o;
        o.req.prepare = lobj_prepare;
        hx_s3_resp_attach(&o.s3r, &o.req);
        o.req.on_done = lobj_done;
        o.req.sink_fd = -1;
        hx_net_loop_submit(&c.loop, &o.req, 0);
        s = hx_net_loop_run(&c.loop);
    }
    hx_net_loop_cleanup(&c.loop);
    if (s == HOIST_OK && o.status != HOIST_OK) s = hx_error(o.status, "%s", o.err ? o.err : "listing failed");
    /* The same token twice would list the same page forever. */
    if (s == HOIST_OK && o.page.is_truncated &&
        (o.page.next_token == NULL || (*token && strcmp(*token, o.page.next_token) == 0)))
        s = hx_error(HOIST_ERR_S3_BAD_RESPONSE, "%s: the server repeated a continuation token", prefix_url);
    hx_free(*token);
    *token = NULL;
    if (s == HOIST_OK && o.page.is_truncated) {
        *token = o.page.next_token;
        o.page.next_token = NULL;
    }
    if (s == HOIST_OK && o.page.count > 1) qsort(o.page.items, o.page.count, sizeof *o.page.items, cmp_item);
    struct hx_buf url;
    hx_buf_init(&url);
    size_t cap = 0;
    for (size_t k = 0; k < o.page.count && s == HOIST_OK; k++) {
        struct hx_s3_list_item *it = &o.page.items[k];
        url.len = 0;
        s = hx_buf_printf(&url, "s3://%s/%s", u->bucket, it->key);
        if (s == HOIST_OK)
            s = hx_store_list_push(out, &cap, url.data, prefix_url, it->size, it->last_modified, it->etag,
                                   it->is_prefix);
    }
    hx_buf_reset(&url);
    hx_net_req_cleanup(&o.req);
    hx_s3_resp_cleanup(&o.s3r);
    hx_s3_list_page_reset(&o.page);
    hx_free(o.prefix);
    hx_free(o.err);
    return s;
}

/* ---- delete_many (DeleteObjects: up to 1,000 keys per request) ------------ */

struct dbatch {
    struct hx_net_req req;
    struct hx_s3_resp s3r; /* its S3 headers */
    struct hoist_store *st;
    const char *bucket;
    const char *key; /* single DELETE when set (keys XML cannot carry) */
    const char *url; /* first URL of the batch, for messages */
    struct hx_buf xml;
    char md5[25], sha[65];
    hx_status status;
    char *err;
};

static hx_status dbatch_prepare(struct hx_net_req *req) {
    struct dbatch *b = (struct dbatch *)req;
    if (b->key) {
        req->sink = HX_SINK_NONE;
        return hx_s3_build_request(&b->st->s3, req, "DELETE", b->bucket, b->key, NULL, NULL, NULL, 0);
    }
    /* S3 requires Content-MD5 (or a checksum header) on DeleteObjects. */
    struct hx_s3_header h[2] = {{"content-md5", b->md5}, {"content-type", "application/xml"}};
    req->sink = HX_SINK_BUF;
    req->body_cap = XML_BODY_CAP;
    req->has_body = 1;
    req->body_data = (const uint8_t *)b->xml.data;
    req->body_len = b->xml.len;
    return hx_s3_build_request(&b->st->s3, req, "POST", b->bucket, NULL, "delete=", b->sha, h, 2);
}

static enum hx_net_action dbatch_done(struct hx_net_req *req, CURLcode code) {
    struct dbatch *b = (struct dbatch *)req;
    hx_status st;
    char *err;
    enum hx_s3_outcome out = hx_s3_classify(req, code, b->url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_FAIL) {
        if (b->key && st == HOIST_ERR_S3_NO_SUCH_KEY) {
            hx_free(err);
            return HX_NET_DONE;
        }
        b->status = st;
        b->err = err;
        return HX_NET_DONE;
    }
    if (b->key) return HX_NET_DONE;
    struct hx_s3_delete_error *errs;
    size_t ne;
    st = hx_s3_parse_delete(req->body.data, req->body.len, &errs, &ne);
    if (st != HOIST_OK) {
        b->status = st;
        b->err = hx_asprintf("%s: %s", b->url, hoist_errmsg());
        return HX_NET_DONE;
    }
    int retry = 0;
    for (size_t i = 0; i < ne && b->status == HOIST_OK; i++) {
        const char *code_s = errs[i].code ? errs[i].code : "";
        if (strcmp(code_s, "NoSuchKey") == 0) continue;
        if (hx_s3_transient(200, code_s) && hx_net_can_retry(req)) {
            retry = 1; /* deleting again is harmless */
            break;
        }
        b->status = hx_s3_status_for(0, code_s);
        b->err = hx_asprintf("s3://%s/%s: delete failed: %s: %s", b->bucket, errs[i].key ? errs[i].key : "?", code_s,
                             errs[i].message ? errs[i].message : "");
    }
    hx_s3_delete_errors_free(errs, ne);
    return retry ? HX_NET_RETRY : HX_NET_DONE;
}

hx_status hx_store_s3_delete(struct hoist_store *st, const char *const *urls_in, size_t n, struct hx_url *urls) {
    struct hx_store_call c;
    HX_TRY(hx_store_s3_call_init(&c, st, NULL, NULL));
    size_t cap = n / 1000 + n + 1, nb = 0;
    struct dbatch *bs = hx_calloc(cap, sizeof *bs);
    if (bs == NULL) {
        hx_net_loop_cleanup(&c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status s = HOIST_OK;
    struct dbatch *cur = NULL;
    int in_batch = 0;
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        if (urls[i].kind != HX_URL_S3) continue;
        struct hx_buf esc;
        hx_buf_init(&esc);
        if (hx_s3_xml_escape(&esc, urls[i].key) != HOIST_OK) {
            hx_buf_reset(&esc);
            struct dbatch *b = &bs[nb++];
            b->st = st;
            b->bucket = urls[i].bucket;
            b->key = urls[i].key;
            b->url = urls_in[i];
            continue;
        }
        if (cur == NULL || in_batch == 1000 || strcmp(cur->bucket, urls[i].bucket) != 0) {
            cur = &bs[nb++];
            cur->st = st;
            cur->bucket = urls[i].bucket;
            cur->url = urls_in[i];
            in_batch = 0;
            s = hx_buf_append_str(&cur->xml, "<Delete><Quiet>true</Quiet>");
        }
        if (s == HOIST_OK) s = hx_buf_printf(&cur->xml, "<Object><Key>%s</Key></Object>", esc.data);
        hx_buf_reset(&esc);
        in_batch++;
    }
    for (size_t i = 0; i < nb && s == HOIST_OK; i++) {
        struct dbatch *b = &bs[i];
        if (!b->key) {
            s = hx_buf_append_str(&b->xml, "</Delete>");
            hx_md5_base64(b->xml.data, b->xml.len, b->md5);
            hx_sha256_hex(b->xml.data, b->xml.len, b->sha);
        }
        b->req.owner = b;
        b->req.prepare = dbatch_prepare;
        hx_s3_resp_attach(&b->s3r, &b->req);
        b->req.on_done = dbatch_done;
        b->req.sink_fd = -1;
        hx_net_loop_submit(&c.loop, &b->req, 0);
    }
    if (s == HOIST_OK) s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    for (size_t i = 0; i < nb; i++) {
        if (s == HOIST_OK && bs[i].status != HOIST_OK) s = hx_error(bs[i].status, "%s", bs[i].err);
        hx_free(bs[i].err);
        hx_buf_reset(&bs[i].xml);
        hx_net_req_cleanup(&bs[i].req);
        hx_s3_resp_cleanup(&bs[i].s3r);
    }
    hx_free(bs);
    return s;
}

/* ---- buckets ----------------------------------------------------------------- */

struct bop {
    struct hx_net_req req;
    struct hx_s3_resp s3r; /* its S3 headers */
    struct hoist_store *st;
    const char *bucket;
    int create;
    struct hx_buf body;
    char sha[65];
    char url[80];
    hx_status status;
    char *err;
};

static hx_status bop_prepare(struct hx_net_req *req) {
    struct bop *b = (struct bop *)req;
    req->sink = HX_SINK_NONE;
    if (!b->create) return hx_s3_build_request(&b->st->s3, req, "DELETE", b->bucket, NULL, NULL, NULL, NULL, 0);
    req->has_body = 1;
    req->body_data = (const uint8_t *)(b->body.data ? b->body.data : "");
    req->body_len = b->body.len;
    return hx_s3_build_request(&b->st->s3, req, "PUT", b->bucket, NULL, NULL, b->sha, NULL, 0);
}

static enum hx_net_action bop_done(struct hx_net_req *req, CURLcode code) {
    struct bop *b = (struct bop *)req;
    enum hx_s3_outcome out = hx_s3_classify(req, code, b->url, &b->status, &b->err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_OK) b->status = HOIST_OK;
    return HX_NET_DONE;
}

hx_status hx_store_s3_bucket(struct hoist_store *st, const struct hx_url *u, int create) {
    const char *bucket = u->bucket;
    struct bop b;
    memset(&b, 0, sizeof b);
    b.st = st;
    b.bucket = bucket;
    b.create = create;
    snprintf(b.url, sizeof b.url, "s3://%.70s", bucket);
    hx_status s = HOIST_OK;
    /* Outside us-east-1, S3 wants the region in the body (CreateBucket). */
    if (create && strcmp(st->s3.set.region, "us-east-1") != 0)
        s = hx_buf_printf(&b.body,
                          "<CreateBucketConfiguration><LocationConstraint>%s</LocationConstraint>"
                          "</CreateBucketConfiguration>",
                          st->s3.set.region);
    hx_sha256_hex(b.body.data ? b.body.data : "", b.body.len, b.sha);
    struct hx_store_call c;
    if (s == HOIST_OK) s = hx_store_s3_call_init(&c, st, NULL, NULL);
    if (s != HOIST_OK) {
        hx_buf_reset(&b.body);
        return s;
    }
    b.req.owner = &b;
    b.req.prepare = bop_prepare;
    hx_s3_resp_attach(&b.s3r, &b.req);
    b.req.on_done = bop_done;
    b.req.sink_fd = -1;
    hx_net_loop_submit(&c.loop, &b.req, 0);
    s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    if (s == HOIST_OK && b.status != HOIST_OK) s = hx_error(b.status, "%s", b.err ? b.err : hoist_strerror(b.status));
    hx_free(b.err);
    hx_buf_reset(&b.body);
    hx_net_req_cleanup(&b.req);
    hx_s3_resp_cleanup(&b.s3r);
    return s;
}
