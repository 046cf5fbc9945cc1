/* The s3:// engines: get/put/info/list/delete many objects on one event loop. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XML_BODY_CAP ((size_t)16 << 20)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- shared per-call state ---------------------------------------------- */

struct call {
    struct hoist_store *st;
    struct hx_net_loop loop;
    hoist_progress_fn progress;
    void *userdata;
    struct hoist_progress prog;
    double last_tick;
    int upload; /* progress counts bytes sent */
    struct hx_prefault *pf; /* get_many: prefaults big DEST_ALLOC blocks */
    size_t sizing;          /* get_many: objects whose size is not known yet */
};

static int call_tick(struct hx_net_loop *loop, void *ud) {
    struct call *c = ud;
    if (c->progress == NULL) return 0;
    double now = hx_now();
    if (now - c->last_tick < 0.05) return 0;
    c->last_tick = now;
    uint64_t b = c->upload ? loop->bytes_out : loop->bytes_in;
    c->prog.bytes_done = c->prog.bytes_total && b > c->prog.bytes_total ? c->prog.bytes_total : b;
    return c->progress(&c->prog, c->userdata);
}

static hx_status call_init(struct call *c, struct hoist_store *st, hoist_progress_fn progress, void *userdata) {
    memset(c, 0, sizeof *c);
    c->st = st;
    c->progress = progress;
    c->userdata = userdata;
    HX_TRY(hx_net_loop_init(&c->loop, st->net));
    /* The net is sized for the widest call (small puts); the rest use the
     * throughput-based count. */
    c->loop.concurrency = st->concurrency;
    c->loop.tick = call_tick;
    c->loop.tick_data = c;
    return HOIST_OK;
}

enum outcome { OUT_OK, OUT_RETRY, OUT_FAIL };

/* Sorts a finished attempt into success, retry or failure; on failure *st
 * and *err (hx_free) say what happened, naming url. */
static enum outcome classify(struct hx_net_req *req, CURLcode code, const char *url, hx_status *st, char **err) {
    *err = NULL;
    if (req->abort_status != HOIST_OK) {
        *st = req->abort_status;
        if (*st != HOIST_ERR_CANCELLED) *err = hx_asprintf("%s: %s", url, req->abort_msg);
        return OUT_FAIL;
    }
    char tries[48] = "";
    if (req->attempt > 0) snprintf(tries, sizeof tries, " (after %d attempts)", req->attempt + 1);
    if (code != CURLE_OK) {
        if (hx_net_curl_transient(code) && hx_net_can_retry(req)) return OUT_RETRY;
        *st = hx_net_curl_status(code);
        *err = hx_asprintf("%s: %s%s%s%s", url, curl_easy_strerror(code), req->errbuf[0] ? ": " : "", req->errbuf,
                           tries);
        return OUT_FAIL;
    }
    long http = req->resp.status;
    if (http >= 200 && http < 300) return OUT_OK;
    char scode[64], msg[256];
    hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg);
    if (hx_s3_transient(http, scode) && hx_net_can_retry(req)) return OUT_RETRY;
    *st = hx_s3_status_for(http, scode);
    if (scode[0] == '\0' && http == 404) snprintf(scode, sizeof scode, "NoSuchKey");
    char hint[96] = "";
    if (req->resp.bucket_region[0] && (http == 301 || http == 400))
        snprintf(hint, sizeof hint, " (the bucket is in region %s: set AWS_REGION or the region option)",
                 req->resp.bucket_region);
    *err = hx_asprintf("%s: HTTP %ld%s%s%s%s%s%s", url, http, scode[0] ? " " : "", scode, msg[0] ? ": " : "", msg,
                       hint, tries);
    return OUT_FAIL;
}

static char *dup_or_null(const char *s) { return s && s[0] ? hx_strdup(s) : NULL; }

static void fill_info(struct hoist_object_info *info, const char *url, const struct hx_net_resp *r, uint64_t size) {
    hoist_object_info_reset(info);
    info->url = hx_strdup(url);
    info->size = size;
    info->etag = dup_or_null(r->etag);
    info->content_type = dup_or_null(r->content_type);
    info->metadata_json = r->meta_json.len ? hx_strndup(r->meta_json.data, r->meta_json.len) : NULL;
    info->last_modified = r->last_modified[0] ? hx_s3_parse_http_date(r->last_modified) : 0;
}

/* ======================================================================
 * get_many
 * ====================================================================== */

struct gobj;
struct gpart {
    struct hx_net_req req; /* first: prepare/on_done get it back by cast */
    struct gobj *obj;
    uint64_t off, len; /* object byte range of this request (probe: once known) */
    int is_probe;
};

struct gobj {
    struct gpart probe;
    struct hoist_get_item *item;
    struct hx_url *u;
    struct call *c;
    int known, whole_body, done, failed, sizing;
    uint64_t total, start, len, ps;
    uint8_t *mem;
    int fd;
    char *tmp_path;
    struct gpart *parts; /* parts after the probe */
    int nparts, left;
    char etag[136];
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
    if (range[0]) h[nh++] = (struct hx_s3_header){"range", range};
    if (p->is_probe)
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

static hx_status gpart_headers(struct hx_net_req *req) {
    struct gpart *p = (struct gpart *)req;
    struct gobj *o = p->obj;
    const struct hx_net_resp *r = &req->resp;
    if (!p->is_probe) {
        HX_FAIL_IF(r->status != 206 || (uint64_t)r->range_start != p->off, HOIST_ERR_S3_BAD_RESPONSE,
                   "ranged GET of bytes %llu.. answered with HTTP %ld from byte %lld", (unsigned long long)p->off,
                   r->status, (long long)r->range_start);
        return HOIST_OK;
    }
    if (o->known) {
        HX_FAIL_IF(o->etag[0] && r->etag[0] && strcmp(o->etag, r->etag) != 0, HOIST_ERR_S3_PRECONDITION,
                   "the object changed during the download (ETag %s, was %s)", r->etag, o->etag);
    } else {
        struct hoist_get_item *it = o->item;
        uint64_t total, start, end;
        if (r->status == 206) {
            HX_FAIL_IF(r->range_total < 0 || r->range_start < 0, HOIST_ERR_S3_BAD_RESPONSE,
                       "HTTP 206 without a usable Content-Range");
            total = (uint64_t)r->range_total;
            o->ps = o->c->st->part_size; /* the probe's range was fixed when it was sent */
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
        fill_info(&it->info, it->url, r, total);
        o->c->prog.bytes_total += o->len;
        /* Plan the rest as ranged parts written at their offsets. */
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
                    q->req.on_headers = gpart_headers;
                    q->req.on_done = p->req.on_done;
                    q->req.sink_fd = -1;
                    /* at the front: started objects finish first */
                    hx_net_loop_submit(&o->c->loop, &q->req, 1);
                }
            }
        }
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
    /* Verify a stored full-object checksum when this response carries the
     * whole object (COMPOSITE multipart checksums end in "-N": skip those). */
    int whole = o->start == 0 && o->len == o->total && p->len == o->len;
    if (whole && strcmp(r->checksum_type, "COMPOSITE") != 0) {
        if (r->checksum_crc32c[0] && !strchr(r->checksum_crc32c, '-'))
            req->crc_kind = 1;
        else if (r->checksum_crc32[0] && !strchr(r->checksum_crc32, '-'))
            req->crc_kind = 2;
    }
    return HOIST_OK;
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
    enum outcome out = classify(req, code, it->url, &st, &err);
    if (out == OUT_RETRY) return HX_NET_RETRY;
    if (out == OUT_OK) {
        if (req->stored != req->sink_cap) {
            if (hx_net_can_retry(req)) return HX_NET_RETRY;
            out = OUT_FAIL;
            st = HOIST_ERR_S3_BAD_RESPONSE;
            err = hx_asprintf("%s: body of %llu bytes, expected %llu", it->url, (unsigned long long)req->stored,
                              (unsigned long long)req->sink_cap);
        } else if (req->crc_kind) {
            char got[9];
            hx_crc_base64(req->crc, got);
            const char *want = req->crc_kind == 1 ? req->resp.checksum_crc32c : req->resp.checksum_crc32;
            if (strcmp(got, want) != 0) {
                if (hx_net_can_retry(req)) return HX_NET_RETRY;
                out = OUT_FAIL;
                st = HOIST_ERR_S3_BAD_RESPONSE;
                err = hx_asprintf("%s: %s checksum mismatch (got %s, object has %s)", it->url,
                                  req->crc_kind == 1 ? "CRC32C" : "CRC32", got, want);
            }
        }
    }
    if (out == OUT_FAIL) gobj_fail(o, st, err);
    if (p->is_probe && !o->known) {
        o->left = 0; /* no parts were planned */
        gobj_sized(o);
    } else {
        o->left--;
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
        if (it->status != HOIST_ERR_S3_NO_SUCH_KEY) hoist_object_info_reset(&it->info);
    }
    hx_free(o->err);
    hx_free(o->tmp_path);
    hx_net_req_cleanup(&o->probe.req);
    for (int i = 0; i < o->nparts; i++) hx_net_req_cleanup(&o->parts[i].req);
    hx_free(o->parts);
}

hx_status hx_store_s3_get(struct hoist_store *st, struct hoist_get_item *items, size_t n, struct hx_url *urls,
                          unsigned flags, hoist_progress_fn progress, void *userdata) {
    (void)flags;
    struct call c;
    HX_TRY(call_init(&c, st, progress, userdata));
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
    if (s != HOIST_OK) return hx_error(s, "get_many: %s", cancelled ? "cancelled by the progress callback" : hoist_errmsg());
    return HOIST_OK;
}

/* ======================================================================
 * put_many
 * ====================================================================== */

enum pphase { PH_HEAD, PH_PUT, PH_INIT, PH_PARTS, PH_COMPLETE, PH_VERIFY, PH_ABORT, PH_DONE };

struct pobj;
struct ppart {
    struct hx_net_req req;
    struct pobj *obj;
    int number; /* 0 = the object's own request */
    uint64_t off, len;
    char sha[65];
    char crc[9]; /* parts: base64 CRC32C of the part */
    char etag[136];
};

struct pobj {
    struct ppart main;
    struct hoist_put_item *item;
    struct hx_url *u;
    struct call *c;
    unsigned flags;
    const uint8_t *data;
    uint64_t size;
    void *map;
    enum pphase phase;
    int failed, done;
    struct ppart *parts;
    int nparts, left;
    char *upload_id;
    char *meta;  /* header-safe metadata JSON */
    struct hx_buf xml;
    char crc[9];
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

/* User metadata travels as one header (metaflow's layout); S3 user metadata
 * must be ASCII and at most 2 KB, so non-ASCII becomes JSON \u escapes (the
 * same JSON value: json.dumps does this by default). */
static hx_status metadata_header(const char *json, char **out) {
    *out = NULL;
    const char *s = json;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    HX_FAIL_IF(n < 2 || s[0] != '{' || s[n - 1] != '}', HOIST_ERR_INVALID_ARG,
               "metadata must be a JSON object ({...})");
    struct hx_buf b;
    hx_buf_init(&b);
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < n && st == HOIST_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r') {
            st = hx_buf_append(&b, " ", 1);
        } else if (c < 0x20 || c == 0x7f) {
            st = hx_error(HOIST_ERR_INVALID_ARG, "metadata has a control character");
        } else if (c < 0x80) {
            st = hx_buf_append(&b, &s[i], 1);
        } else {
            int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
            uint32_t cp = c & (extra == 3 ? 0x07 : extra == 2 ? 0x0f : 0x1f);
            if (extra < 0 || i + (size_t)extra >= n) {
                st = hx_error(HOIST_ERR_INVALID_ARG, "metadata is not valid UTF-8");
                break;
            }
            for (int k = 1; k <= extra; k++) {
                unsigned char cc = (unsigned char)s[i + (size_t)k];
                if ((cc & 0xc0) != 0x80) {
                    st = hx_error(HOIST_ERR_INVALID_ARG, "metadata is not valid UTF-8");
                    break;
                }
                cp = (cp << 6) | (cc & 0x3f);
            }
            if (st != HOIST_OK) break;
            i += (size_t)extra;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                st = hx_buf_printf(&b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                st = hx_buf_printf(&b, "\\u%04x", cp);
            }
        }
    }
    if (st == HOIST_OK && b.len > 2048)
        st = hx_error(HOIST_ERR_LIMIT, "metadata is %zu bytes; S3 allows 2 KB of user metadata", b.len);
    if (st != HOIST_OK) {
        hx_buf_reset(&b);
        return st;
    }
    *out = hx_buf_detach(&b);
    HX_FAIL_IF(*out == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

static int no_overwrite(const struct pobj *o) { return (o->flags & HOIST_NO_OVERWRITE) != 0; }

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
        /* As for single PUTs: the part's CRC32C (declared at the initiate)
         * guards the body, so the payload goes UNSIGNED, without a SHA-256. */
        if (p->crc[0] == '\0') hx_crc_base64(hx_crc32c_update(0, o->data + p->off, p->len), p->crc);
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-crc32c", p->crc};
        char q[600];
        struct hx_buf id;
        hx_buf_init(&id);
        HX_TRY(hx_s3_uri_encode(&id, o->upload_id, strlen(o->upload_id), 0));
        snprintf(q, sizeof q, "partNumber=%d&uploadId=%s", p->number, id.data);
        hx_buf_reset(&id);
        req->has_body = 1;
        req->body_data = o->data + p->off;
        req->body_len = p->len;
        return hx_s3_build_request(s3, req, "PUT", o->u->bucket, o->u->key, q, NULL, h, nh);
    }
    const char *ctype = o->item->content_type;
    switch (o->phase) {
    case PH_HEAD:
    case PH_VERIFY: return hx_s3_build_request(s3, req, "HEAD", o->u->bucket, o->u->key, NULL, NULL, NULL, 0);
    case PH_PUT:
        /* The CRC32C header alone protects the body: the server rejects a
         * body that does not match it (BadDigest), so the payload is sent
         * UNSIGNED (the signature still covers every header, the checksum
         * included). SHA-256 of the body would cost ~10x the CPU of the
         * hardware CRC32C on the one I/O thread, taken from the transfer. */
        if (o->crc[0] == '\0') hx_crc_base64(hx_crc32c_update(0, o->data, o->size), o->crc);
        if (ctype) h[nh++] = (struct hx_s3_header){"content-type", ctype};
        if (o->meta) h[nh++] = (struct hx_s3_header){"x-amz-meta-metaflow-user-attributes", o->meta};
        if (no_overwrite(o)) h[nh++] = (struct hx_s3_header){"if-none-match", "*"};
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-crc32c", o->crc};
        req->has_body = 1;
        req->body_data = o->size ? o->data : (const uint8_t *)"";
        req->body_len = o->size;
        return hx_s3_build_request(s3, req, "PUT", o->u->bucket, o->u->key, NULL, NULL, h, nh);
    case PH_INIT:
        /* Once sent, an initiate creates an upload we must be able to abort:
         * a cancel lets it finish to learn the UploadId. */
        req->must_finish = 1;
        if (ctype) h[nh++] = (struct hx_s3_header){"content-type", ctype};
        if (o->meta) h[nh++] = (struct hx_s3_header){"x-amz-meta-metaflow-user-attributes", o->meta};
        h[nh++] = (struct hx_s3_header){"x-amz-checksum-algorithm", "CRC32C"};
        req->sink = HX_SINK_BUF;
        req->body_cap = 1 << 16;
        req->has_body = 1;
        req->body_data = (const uint8_t *)"";
        return hx_s3_build_request(s3, req, "POST", o->u->bucket, o->u->key, "uploads=", EMPTY_SHA256, h, nh);
    case PH_COMPLETE:
    case PH_ABORT: {
        struct hx_buf q;
        hx_buf_init(&q);
        HX_TRY(hx_buf_append_str(&q, "uploadId="));
        hx_status s = hx_s3_uri_encode(&q, o->upload_id, strlen(o->upload_id), 0);
        if (s == HOIST_OK && o->phase == PH_COMPLETE) {
            hx_sha256_hex(o->xml.data, o->xml.len, p->sha);
            if (no_overwrite(o)) h[nh++] = (struct hx_s3_header){"if-none-match", "*"};
            h[nh++] = (struct hx_s3_header){"content-type", "application/xml"};
            req->sink = HX_SINK_BUF;
            req->body_cap = 1 << 16;
            req->has_body = 1;
            req->body_data = (const uint8_t *)o->xml.data;
            req->body_len = o->xml.len;
            s = hx_s3_build_request(s3, req, "POST", o->u->bucket, o->u->key, q.data, p->sha, h, nh);
        } else if (s == HOIST_OK) {
            s = hx_s3_build_request(s3, req, "DELETE", o->u->bucket, o->u->key, q.data, NULL, NULL, 0);
        }
        hx_buf_reset(&q);
        return s;
    }
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
        q->req.on_done = o->main.req.on_done;
        q->req.sink_fd = -1;
        hx_net_loop_submit(&o->c->loop, &q->req, 1);
    }
    return HOIST_OK;
}

static hx_status complete_xml(struct pobj *o) {
    o->xml.len = 0;
    HX_TRY(hx_buf_append_str(&o->xml, "<CompleteMultipartUpload>"));
    for (int i = 0; i < o->nparts; i++) {
        HX_TRY(hx_buf_printf(&o->xml, "<Part><PartNumber>%d</PartNumber><ETag>", o->parts[i].number));
        HX_TRY(hx_s3_xml_escape(&o->xml, o->parts[i].etag));
        HX_TRY(hx_buf_printf(&o->xml, "</ETag><ChecksumCRC32C>%s</ChecksumCRC32C></Part>", o->parts[i].crc));
    }
    return hx_buf_append_str(&o->xml, "</CompleteMultipartUpload>");
}

static enum hx_net_action ppart_done(struct hx_net_req *req, CURLcode code) {
    struct ppart *p = (struct ppart *)req;
    struct pobj *o = p->obj;
    const char *url = o->item->url;
    hx_status st;
    char *err;
    if (o->phase == PH_ABORT) {
        /* best effort: the upload is gone either way unless the server is down */
        enum outcome out = classify(req, code, url, &st, &err);
        if (out == OUT_RETRY) return HX_NET_RETRY;
        if (out == OUT_FAIL) HX_WARN("%s: could not abort the multipart upload: %s", url, err ? err : "");
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
        enum outcome vout = classify(req, code, url, &st, &err);
        if (vout == OUT_RETRY) return HX_NET_RETRY;
        hx_free(err);
        pobj_fail(o, HOIST_ERR_S3_OTHER,
                  hx_asprintf("%s: the upload vanished (NoSuchUpload) and no complete object is there", url));
        return HX_NET_DONE;
    }
    enum outcome out = classify(req, code, url, &st, &err);
    if (out == OUT_RETRY) return HX_NET_RETRY;
    if (out == OUT_FAIL && p->number == 0 && o->phase == PH_COMPLETE && req->attempt > 0) {
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
    if (out == OUT_OK && p->number == 0 && o->phase == PH_COMPLETE) {
        /* CompleteMultipartUpload can fail after a 200 with an <Error> body. */
        char scode[64], msg[256];
        if (hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg)) {
            if (hx_s3_transient(500, scode) && hx_net_can_retry(req)) return HX_NET_RETRY;
            out = OUT_FAIL;
            st = hx_s3_status_for(500, scode);
            err = hx_asprintf("%s: completing the upload: %s: %s", url, scode, msg);
        }
    }
    if (out == OUT_FAIL) {
        pobj_fail(o, st, err);
        if (p->number > 0) o->left--;
        return HX_NET_DONE;
    }
    if (p->number > 0) {
        snprintf(p->etag, sizeof p->etag, "%s", req->resp.etag);
        o->left--;
        if (p->etag[0] == '\0')
            pobj_fail(o, HOIST_ERR_S3_BAD_RESPONSE, hx_asprintf("%s: part %d uploaded without an ETag", url, p->number));
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
        if (s != HOIST_OK) pobj_fail(o, s, hx_asprintf("%s: starting the upload: %s", url, hoist_errmsg()));
        else o->phase = PH_PARTS;
        break;
    }
    default: pobj_fail(o, HOIST_ERR_INTERNAL, hx_asprintf("%s: unexpected phase %d", url, (int)o->phase)); break;
    }
    return HX_NET_DONE;
}

static hx_status pobj_source(struct pobj *o) {
    struct hoist_put_item *it = o->item;
    if (it->data || it->path == NULL) {
        o->data = it->data;
        o->size = it->size;
        return HOIST_OK;
    }
    int fd = open(it->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        HX_FAIL(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: cannot open the local file: %s", it->path,
                strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        HX_FAIL(HOIST_ERR_IO, "%s: not a regular file", it->path);
    }
    o->size = (uint64_t)sb.st_size;
    if (o->size > 0) {
        /* Upload straight from the page cache: no read buffer, no copy. */
        void *m = mmap(NULL, (size_t)o->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            HX_FAIL(HOIST_ERR_IO, "%s: cannot map the file: %s", it->path, strerror(errno));
        }
        madvise(m, (size_t)o->size, MADV_SEQUENTIAL);
        o->map = m;
        o->data = m;
    }
    close(fd);
    return HOIST_OK;
}

static int header_safe(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) return 0;
    return 1;
}

hx_status hx_store_s3_put(struct hoist_store *st, struct hoist_put_item *items, size_t n, struct hx_url *urls,
                          unsigned flags, hoist_progress_fn progress, void *userdata) {
    struct call c;
    HX_TRY(call_init(&c, st, progress, userdata));
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
        o->main.req.on_done = ppart_done;
        o->main.req.sink_fd = -1;
        c.prog.objects_total++;
        hx_status s = pobj_source(o);
        if (s == HOIST_OK && items[i].metadata_json) s = metadata_header(items[i].metadata_json, &o->meta);
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
        if (o->map) munmap(o->map, (size_t)o->size);
        hx_net_req_cleanup(&o->main.req);
        for (int k = 0; k < o->nparts; k++) hx_net_req_cleanup(&o->parts[k].req);
        hx_free(o->parts);
    }
    hx_free(objs);
    if (s != HOIST_OK) return hx_error(s, "put_many: %s", cancelled ? "cancelled by the progress callback" : "event loop failed");
    return HOIST_OK;
}

/* ======================================================================
 * info_many
 * ====================================================================== */

struct iobj {
    struct hx_net_req req;
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
    enum outcome out = classify(req, code, o->item->url, &st, &err);
    if (out == OUT_RETRY) return HX_NET_RETRY;
    if (out == OUT_FAIL) {
        o->item->status = st;
        o->item->error = err;
        return HX_NET_DONE;
    }
    fill_info(&o->item->info, o->item->url, &req->resp,
              req->resp.content_length > 0 ? (uint64_t)req->resp.content_length : 0);
    o->item->status = HOIST_OK;
    return HX_NET_DONE;
}

hx_status hx_store_s3_info(struct hoist_store *st, struct hoist_info_item *items, size_t n, struct hx_url *urls) {
    struct call c;
    HX_TRY(call_init(&c, st, NULL, NULL));
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
        o->req.on_done = iobj_done;
        o->req.sink_fd = -1;
        hx_net_loop_submit(&c.loop, &o->req, 0);
    }
    hx_status s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    for (size_t i = 0; i < n; i++) hx_net_req_cleanup(&objs[i].req);
    hx_free(objs);
    return s;
}

/* ======================================================================
 * list
 * ====================================================================== */

struct lobj {
    struct hx_net_req req;
    struct hoist_store *st;
    const char *prefix_url;
    struct hx_url *u;
    char *prefix; /* key prefix: "" or ends with '/' */
    int recursive;
    char *token;
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
    enum outcome out = classify(req, code, o->prefix_url, &st, &err);
    if (out == OUT_RETRY) return HX_NET_RETRY;
    if (out == OUT_FAIL) {
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
    if (o->page.is_truncated) {
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
    struct call c;
    HX_TRY(call_init(&c, st, NULL, NULL));
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
        o->req.on_done = lobj_done;
        o->req.sink_fd = -1;
        hx_net_loop_submit(&c.loop, &o->req, 0);
    }
    if (s == HOIST_OK) s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        if (objs[i].status != HOIST_OK) s = hx_error(objs[i].status, "%s", objs[i].err ? objs[i].err : "listing failed");
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
        hx_s3_list_page_reset(&objs[i].page);
        hx_free(objs[i].prefix);
        hx_free(objs[i].token);
        hx_free(objs[i].err);
    }
    hx_free(objs);
    return s;
}

/* ======================================================================
 * delete_many (DeleteObjects: up to 1,000 keys per request)
 * ====================================================================== */

struct dbatch {
    struct hx_net_req req;
    struct hoist_store *st;
    const char *bucket;
    const char *key;     /* single DELETE when set (keys XML cannot carry) */
    const char *url;     /* first URL of the batch, for messages */
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
    enum outcome out = classify(req, code, b->url, &st, &err);
    if (out == OUT_RETRY) return HX_NET_RETRY;
    if (out == OUT_FAIL) {
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
    struct call c;
    HX_TRY(call_init(&c, st, NULL, NULL));
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
    }
    hx_free(bs);
    return s;
}

/* ======================================================================
 * buckets
 * ====================================================================== */

struct bop {
    struct hx_net_req req;
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
    enum outcome out = classify(req, code, b->url, &b->status, &b->err);
    if (out == OUT_RETRY) return HX_NET_RETRY;
    if (out == OUT_OK) b->status = HOIST_OK;
    return HX_NET_DONE;
}

hx_status hx_store_s3_bucket(struct hoist_store *st, const char *bucket, int create) {
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
    struct call c;
    if (s == HOIST_OK) s = call_init(&c, st, NULL, NULL);
    if (s != HOIST_OK) {
        hx_buf_reset(&b.body);
        return s;
    }
    b.req.owner = &b;
    b.req.prepare = bop_prepare;
    b.req.on_done = bop_done;
    b.req.sink_fd = -1;
    hx_net_loop_submit(&c.loop, &b.req, 0);
    s = hx_net_loop_run(&c.loop);
    hx_net_loop_cleanup(&c.loop);
    if (s == HOIST_OK && b.status != HOIST_OK) s = hx_error(b.status, "%s", b.err ? b.err : hoist_strerror(b.status));
    hx_free(b.err);
    hx_buf_reset(&b.body);
    hx_net_req_cleanup(&b.req);
    return s;
}
