/* The s3:// backend's get_many: a probe GET per object learns its size, then
 * ranged part GETs land straight in the caller's buffer, an allocation or a
 * temp file that is renamed into place when the object is complete. A
 * whole object is checked against its stored checksum: a full-object CRC
 * from its requests' CRCs joined, a COMPOSITE one ("-N") from the CRCs of
 * its stored parts, whose sizes GetObjectAttributes lists. */
#include "store_s3_call.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
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
    uint64_t crc;      /* CRC of its bytes, once done (the object has a checksum to verify) */
    int is_probe;
    int s3part;                  /* COMPOSITE: the stored part (0-based) its bytes belong to */
    char range[64];              /* the Range header sent ("" for none), what a 206 must answer */
    struct hx_prefault_item pfi; /* its range, prefaulted in a big HOIST_DEST_ALLOC block */
};

/* The GetObjectAttributes request of an object with a COMPOSITE checksum. */
struct gattr {
    struct hx_net_req req; /* first */
    struct hx_s3_resp s3r;
    struct gobj *obj;
    int marker; /* parts listed so far (the next page's part number marker) */
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
    /* A COMPOSITE checksum (the CRC of the N stored parts' CRCs): the probe
     * stops within part 1 (S3's parts but the last are at least 5 MiB), the
     * part sizes are asked for (attr), and the rest is fetched in ranges
     * that never cross a part's end, so every CRC belongs to one part. */
    int comp_kind, comp_n;
    uint64_t comp_want;
    uint64_t *comp_sizes; /* comp_n sizes as listed, then each part's end offset */
    struct gattr *attr;   /* the GetObjectAttributes request, while it runs */
    int attr_busy;
    hx_status status;
    char *err;
    /* A whole-object GET read as one stream for now; whether to cut it into
     * more is decided once its rate is known (probe_stored). */
    int split_pending;
    double split_t0; /* when its headers came */
};

/* get_many's call: the s3 call state, first (objects reach it by cast), and
 * how many objects are up for a split. */
struct gcall {
    struct hx_store_call c;
    int split_pending;
};

/* S3's smallest part (all but the last): a COMPOSITE object's first 5 MiB
 * are in its part 1 (S3 API: UploadPart). */
#define HX_S3_MIN_PART ((uint64_t)5 << 20)

static int gobj_crc_kind(const struct gobj *o) { return o->crc_kind ? o->crc_kind : o->comp_kind; }

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
    uint64_t expect = p->len; /* the body's size, as far as known */
    if (p->is_probe && !o->known && it->offset == 0 && it->length < 0 && !it->suffix) {
        /* A whole object: a plain GET, so the server can send the stored
         * checksum with it (none comes with a range). A large object is cut
         * after its first part; ranged parts fetch the rest. */
        range[0] = '\0';
        expect = UINT64_MAX;
    } else if (!p->is_probe || o->known) {
        uint64_t last = p->len ? p->off + p->len - 1 : p->off;
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)p->off, (unsigned long long)last);
    } else if (o->item->suffix) {
        snprintf(range, sizeof range, "bytes=-%lld", (long long)o->item->length);
        expect = (uint64_t)o->item->length;
    } else {
        uint64_t want = o->item->length < 0 ? o->c->st->part_size : (uint64_t)o->item->length;
        if (want > o->c->st->part_size) want = o->c->st->part_size;
        if (want == 0) want = 1;
        expect = want;
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
    /* a probe's sink comes with its headers: whether its body may be big is
     * said here (a whole object's size is not known yet) */
    req->big_body = p->is_probe && expect > (1u << 20);
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
        /* Small pages, not huge ones: where free memory is fragmented or
         * handed back to a hypervisor (free page reporting), a huge page
         * costs a compaction or a host fault per 4 KiB behind it. The 8 x 64
         * MiB get spent 3x the CPU in zeroing huge pages (docs/store.md,
         * Performance). */
        o->mem = hx_malloc(o->len ? o->len : 1);
        HX_FAIL_IF(o->mem == NULL, HOIST_ERR_NOMEM, "out of memory for %llu bytes", (unsigned long long)o->len);
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

/* Part size for a whole object of len bytes read by a plain GET, decided at
 * its headers (objects over HX_GET_MAX_STREAM; smaller ones decide later,
 * from their rate: probe_stored). Every part after the first costs a
 * request and cuts the first GET short (its connection is closed), which
 * costs the server more than the bytes: so while enough other objects wait
 * to keep every connection busy, an object is one stream (up to
 * HX_GET_MAX_STREAM); only the last objects of a call, or a few big ones,
 * are split, into as many parts as there are idle connections to share
 * (never under the configured part size). */
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
static enum hx_net_action gpart_done(struct hx_net_req *req, CURLcode code);

/* The pages of request p's range of an allocated block are faulted in ahead
 * of its writes, off this thread, in the order the requests were planned
 * (the order they start in). */
static void gpart_prefault(struct gobj *o, struct gpart *p) {
    if (o->c->pf && o->item->dest == HOIST_DEST_ALLOC && o->mem && p->len)
        hx_prefault_push(o->c->pf, &p->pfi, o->mem + (p->off - o->start), (size_t)p->len);
}

/* Where the ranged GET starting at off ends: at most the part size on, never
 * past end, nor (when a COMPOSITE checksum is checked) past the end of the
 * stored part *part that holds off. */
static uint64_t piece_end(const struct gobj *o, uint64_t off, uint64_t end, int *part) {
    uint64_t stop = end - off > o->ps ? off + o->ps : end;
    if (o->comp_kind && o->comp_sizes) {
        while (*part < o->comp_n - 1 && o->comp_sizes[*part] <= off) (*part)++;
        if (o->comp_sizes[*part] < stop) stop = o->comp_sizes[*part];
    }
    return stop;
}

/* Ranged GETs for [from, end), queued at the front: started objects finish
 * first. */
static hx_status plan_ranges(struct gobj *o, uint64_t from, uint64_t end) {
    int np = 0, part = 0;
    for (uint64_t off = from; off < end; np++) off = piece_end(o, off, end, &part);
    if (np == 0) return HOIST_OK;
    o->parts = hx_calloc((size_t)np, sizeof *o->parts);
    HX_FAIL_IF(o->parts == NULL, HOIST_ERR_NOMEM, "out of memory");
    o->nparts = np;
    o->left += np;
    part = 0;
    for (int i = 0; i < np; i++) {
        struct gpart *q = &o->parts[i];
        q->obj = o;
        q->off = i == 0 ? from : o->parts[i - 1].off + o->parts[i - 1].len;
        q->len = piece_end(o, q->off, end, &part) - q->off;
        q->s3part = part;
        q->req.owner = q;
        q->req.prepare = gpart_prepare;
        hx_s3_resp_attach(&q->s3r, &q->req);
        q->req.on_headers = gpart_headers;
        q->req.on_done = gpart_done;
        q->req.sink_fd = -1;
        gpart_prefault(o, q);
    }
    for (int i = np - 1; i >= 0; i--) hx_net_loop_submit(&o->c->loop, &o->parts[i].req, 1);
    return HOIST_OK;
}

/* After the probe: the probe keeps the first part (or the whole body); the
 * rest of [start, end) is planned as ranged parts written at their offsets. */
static hx_status plan_parts(struct gobj *o, struct gpart *p, const struct hx_net_resp *r, uint64_t start,
                            uint64_t end) {
    p->off = start;
    if (o->whole_body) {
        p->len = o->len;
        gpart_prefault(o, p);
        return HOIST_OK;
    }
    uint64_t probe_end = r->status == 206 ? (uint64_t)r->range_end + 1 : o->ps;
    if (probe_end > end) probe_end = end;
    p->len = probe_end > start ? probe_end - start : 0;
    gpart_prefault(o, p);
    return plan_ranges(o, start + p->len, end);
}

int hx_store_s3_split_ways(double stream_rate, double conn_rate, int concurrency, int running, int queued, int pending,
                           uint64_t remaining, uint64_t min_part) {
    if (queued || pending < 1 || min_part == 0 || remaining < 2 * min_part) return 1;
    double want = concurrency; /* nothing came yet: as many as allowed */
    if (stream_rate > 0) want = ceil(conn_rate * concurrency / stream_rate);
    if (want > concurrency) want = concurrency;
    int idle = (int)want - running;
    if (idle <= 0) return 1;
    uint64_t ways = 1 + (uint64_t)((idle + pending - 1) / pending);
    if (ways > remaining / min_part) ways = remaining / min_part;
    return (int)ways;
}

/* A whole-object stream's rate is taken after this many bytes, and again
 * after as many more while it is not split. */
#define SPLIT_SAMPLE_BYTES ((uint64_t)4 << 20)

static void split_done(struct gobj *o) {
    if (!o->split_pending) return;
    o->split_pending = 0;
    ((struct gcall *)o->c)->split_pending--;
    o->probe.req.on_stored = NULL;
}

/* The rest of o's stream, from a little past what it has stored, becomes
 * `ways` streams: the running GET now stops at `cut` (where its connection
 * is closed), ranged GETs fetch the rest. */
static void split_stream(struct gobj *o, int ways) {
    struct gpart *p = &o->probe;
    uint64_t at = p->req.stored, rest = o->len - at;
    uint64_t ps = rest / (uint64_t)ways + (rest % (uint64_t)ways != 0);
    uint64_t cut = at + ps;
    o->ps = ps;
    p->len = cut;
    p->req.sink_cap = cut;
    hx_status s = plan_ranges(o, o->start + cut, o->start + o->len);
    if (s != HOIST_OK) gobj_fail(o, s, hx_asprintf("%s: %s", o->item->url, hoist_errmsg()));
}

/* Whole-object GETs of up to HX_GET_MAX_STREAM start as one stream each.
 * Once a stream has run SPLIT_SAMPLE_BYTES, it gets more streams only if
 * connections idle and one stream per running request is too slow for the
 * throughput target (concurrency x conn_rate): on S3 a connection carries
 * ~0.4 Gbit/s and splitting pays; from a fast local server one stream per
 * object already saturates the machine and every cut costs server and
 * client CPU (a closed connection, a request; 8 x 64 MiB from SeaweedFS on
 * 2 cores: 49 requests cost the server 0.5-0.8 CPU-s, 10-26 requests
 * 0.4-0.55). A stream not split is looked at again every
 * SPLIT_SAMPLE_BYTES, so the last streams of a call still fill the
 * connections the others leave idle. Runs inside the write callback, so a
 * stream read whole in one libcurl call is still seen midway. */
static void probe_stored(struct hx_net_req *req) {
    struct gpart *p = (struct gpart *)req;
    struct gobj *o = p->obj;
    const struct hoist_store *st = o->c->st;
    const struct hx_net_loop *loop = &o->c->loop;
    uint64_t got = req->stored, rest = o->len - got;
    req->on_stored_at = got + SPLIT_SAMPLE_BYTES;
    if (!o->split_pending || o->failed || rest < 2 * st->part_size) {
        split_done(o);
        return;
    }
    double secs = hx_now() - o->split_t0;
    int ways =
        hx_store_s3_split_ways(secs > 0 ? (double)got / secs : 0, st->conn_rate, loop->concurrency, loop->running,
                               loop->queue_head != NULL, ((struct gcall *)o->c)->split_pending, rest, st->part_size);
    if (ways > 1) {
        split_done(o);
        split_stream(o, ways);
    }
}

/* A GET's quoted ETag against GetObjectAttributes' unquoted one. */
static int same_etag(const char *quoted, const char *bare) {
    size_t n = strlen(bare), q = strlen(quoted);
    if (q == n + 2 && quoted[0] == '"' && quoted[q - 1] == '"') return strncmp(quoted + 1, bare, n) == 0;
    return strcmp(quoted, bare) == 0;
}

static hx_status gattr_prepare(struct hx_net_req *req) {
    struct gattr *a = (struct gattr *)req;
    struct gobj *o = a->obj;
    if (o->failed) return HOIST_ERR_CANCELLED;
    return hx_s3_object_parts_request(&o->c->st->s3, req, o->u->bucket, o->u->key, a->marker);
}

static void gobj_settle(struct gobj *o);

/* Why the listed parts cannot check the COMPOSITE checksum (static text),
 * or NULL; on NULL, comp_sizes become each part's end offset. */
static const char *composite_plan(struct gobj *o) {
    uint64_t at = 0;
    for (int i = 0; i < o->comp_n; i++) {
        if (o->comp_sizes[i] == 0 && i < o->comp_n - 1) return "a part is missing from the list, or empty";
        if (o->comp_sizes[i] > o->total - at) return "the listed part sizes add up to more than the object's size";
        at += o->comp_sizes[i];
        o->comp_sizes[i] = at;
    }
    if (at != o->total) return "the listed part sizes do not add up to the object's size";
    /* the probe's bytes must all be in part 1 (a store that allows parts
     * under 5 MiB may break this) */
    if (o->comp_sizes[0] < o->probe.len) return "its part 1 is shorter than 5 MiB";
    return NULL;
}

static enum hx_net_action gattr_done(struct hx_net_req *req, CURLcode code) {
    struct gattr *a = (struct gattr *)req;
    struct gobj *o = a->obj;
    const char *url = o->item->url;
    hx_status st;
    char *err = NULL;
    enum hx_s3_outcome out = hx_s3_classify(req, code, url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    char why[320] = "";
    struct hx_s3_object_parts page;
    if (o->failed) {
        /* nothing to plan */
    } else if (out == HX_S3_FAIL) {
        snprintf(why, sizeof why, "GetObjectAttributes failed: %s", err ? err : hoist_strerror(st));
    } else if (hx_s3_parse_object_parts(req->body.data, req->body.len, o->comp_sizes, o->comp_n, &page) != HOIST_OK) {
        snprintf(why, sizeof why, "%s", hoist_errmsg());
    } else if (page.etag[0] && !same_etag(o->etag, page.etag)) {
        gobj_fail(o, HOIST_ERR_S3_PRECONDITION,
                  hx_asprintf("%s: the object changed during the download (ETag %s, was %s)", url, page.etag, o->etag));
    } else if (page.parts_count != o->comp_n) {
        if (page.parts_count == 0)
            snprintf(why, sizeof why, "the store does not list the object's parts");
        else
            snprintf(why, sizeof why, "the store lists %d parts, the checksum says %d", page.parts_count, o->comp_n);
    } else if (page.is_truncated) {
        if (page.next_marker > a->marker && page.listed > 0) {
            a->marker = page.next_marker; /* the next 1,000 */
            req->attempt = 0;
            hx_net_loop_submit(&o->c->loop, req, 1);
            hx_free(err);
            return HX_NET_DONE;
        }
        snprintf(why, sizeof why, "the part listing does not advance");
    } else {
        const char *bad = composite_plan(o);
        if (bad) snprintf(why, sizeof why, "%s", bad);
    }
    hx_free(err);
    if (!o->failed && why[0]) {
        /* not verifiable here: the download goes on unchecked, as botocore's would */
        HX_DEBUG("%s: its COMPOSITE %s checksum is not verified: %s", url, hx_s3_checksum_name(o->comp_kind), why);
        o->comp_kind = HX_CRC_NONE;
        if (o->c->st->s3.set.checksum == HX_S3_CK_ALWAYS)
            gobj_fail(o, HOIST_ERR_S3_BAD_RESPONSE,
                      hx_asprintf("%s: no checksum it can verify (checksum mode \"always\"): the COMPOSITE checksum "
                                  "needs the part sizes, and %s",
                                  url, why));
    }
    if (!o->failed) {
        hx_status s = plan_ranges(o, o->probe.off + o->probe.len, o->start + o->len);
        if (s != HOIST_OK) gobj_fail(o, s, hx_asprintf("%s: %s", url, hoist_errmsg()));
    }
    o->attr_busy = 0;
    o->left--;
    gobj_settle(o);
    return HX_NET_DONE;
}

/* A whole object with a COMPOSITE checksum of N > 1 parts: the probe stops
 * within part 1, and the rest waits for the part sizes. */
static hx_status start_composite(struct gobj *o, struct gpart *p) {
    o->whole_body = 0;
    p->off = 0;
    p->len = o->len < HX_S3_MIN_PART ? o->len : HX_S3_MIN_PART;
    gpart_prefault(o, p);
    o->comp_sizes = hx_calloc((size_t)o->comp_n, sizeof *o->comp_sizes);
    o->attr = hx_calloc(1, sizeof *o->attr);
    HX_FAIL_IF(o->comp_sizes == NULL || o->attr == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct gattr *a = o->attr;
    a->obj = o;
    a->req.owner = a;
    a->req.prepare = gattr_prepare;
    hx_s3_resp_attach(&a->s3r, &a->req);
    a->req.on_done = gattr_done;
    a->req.sink_fd = -1;
    o->attr_busy = 1;
    o->left++;
    hx_net_loop_submit(&o->c->loop, &a->req, 1);
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
    int defer = 0;
    if (r->status == 206) HX_TRY(check_content_range(p, r));
    if (!p->is_probe) {
        HX_FAIL_IF(r->status != 206, HOIST_ERR_S3_BAD_RESPONSE, "ranged GET (%s) answered with HTTP %ld", p->range,
                   r->status);
        HX_FAIL_IF((uint64_t)r->range_total != o->total, HOIST_ERR_S3_BAD_RESPONSE,
                   "the object's size changed during the download (%lld bytes, was %llu)", (long long)r->range_total,
                   (unsigned long long)o->total);
        req->crc_kind = gobj_crc_kind(o);
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
            const struct hoist_store *st = o->c->st;
            o->ps = whole_obj ? whole_get_part_size(o, total) : st->part_size;
            /* up to HX_GET_MAX_STREAM: one stream, split later if its rate asks for it */
            defer = whole_obj && st->part_size_auto && total >= 2 * st->part_size && total <= HX_GET_MAX_STREAM;
            o->whole_body = !(whole_obj && total > o->ps) && !defer;
            if (defer) o->ps = total; /* stops at its (lowered) cap, should it be split */
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
        if (r->status == 200 && start == 0 && end == total) {
            o->crc_kind = hx_s3_full_checksum(&p->s3r, &o->crc_want);
            if (o->crc_kind == HX_CRC_NONE) o->comp_kind = hx_s3_composite_checksum(&p->s3r, &o->comp_want, &o->comp_n);
        }
        HX_FAIL_IF(r->status == 200 && start == 0 && end == total && gobj_crc_kind(o) == HX_CRC_NONE &&
                       o->c->st->s3.set.checksum == HX_S3_CK_ALWAYS,
                   HOIST_ERR_S3_BAD_RESPONSE,
                   "no CRC64NVME/CRC32C/CRC32 checksum to verify (checksum mode \"always\"; the object was "
                   "uploaded without one, or in parts with a COMPOSITE checksum without a \"-N\" part count)");
        o->c->prog.bytes_total += o->len;
        if (o->comp_kind && o->comp_n > 1) {
            HX_TRY(start_composite(o, p));
        } else {
            HX_TRY(plan_parts(o, p, r, start, end));
            if (defer && o->nparts == 0) {
                o->split_pending = 1;
                o->split_t0 = hx_now();
                ((struct gcall *)o->c)->split_pending++;
                req->on_stored = probe_stored;
                req->on_stored_at = SPLIT_SAMPLE_BYTES;
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
    req->crc_kind = gobj_crc_kind(o); /* each part's CRC, joined at the end (gobj_verify) */
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

/* The running COMPOSITE value after one more part's CRC (its big-endian
 * bytes: S3 user guide, "Checking object integrity", multipart uploads). */
static uint64_t composite_add(int kind, uint64_t comp, uint64_t part_crc) {
    uint8_t b[4] = {(uint8_t)(part_crc >> 24), (uint8_t)(part_crc >> 16), (uint8_t)(part_crc >> 8), (uint8_t)part_crc};
    return hx_crc_update_small(kind, comp, b, sizeof b);
}

/* The COMPOSITE value from the requests' CRCs: the CRCs of one stored part's
 * requests are joined (they never cross a part's end; the probe's bytes are
 * part 1's; a part no request covers is empty, CRC 0), then the parts'
 * CRCs are checksummed in order. */
static int check_composite(struct gobj *o, char *got, char *want) {
    int kind = o->comp_kind, i = 0;
    uint64_t comp = 0;
    for (int k = 0; k < o->comp_n; k++) {
        uint64_t part = k == 0 ? o->probe.crc : 0;
        for (; i < o->nparts && o->parts[i].s3part == k; i++)
            part = hx_crc_combine(kind, part, o->parts[i].crc, o->parts[i].len);
        comp = composite_add(kind, comp, part);
    }
    if (i == o->nparts && comp == o->comp_want) return 1;
    char v[16];
    hx_s3_checksum_base64(kind, comp, v);
    snprintf(got, 24, "%s-%d", v, o->comp_n);
    hx_s3_checksum_base64(kind, o->comp_want, v);
    snprintf(want, 24, "%s-%d", v, o->comp_n);
    return 0;
}

static int gobj_verify(struct gobj *o, char got[24], char want[24]) {
    return o->crc_kind ? check_crc(o, got, want) : o->comp_kind ? check_composite(o, got, want) : 1;
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
    if (p->is_probe) split_done(o); /* a retry reads what is left as one stream */
    enum hx_s3_outcome out = hx_s3_classify(req, code, it->url, &st, &err);
    if (out == HX_S3_RETRY) return HX_NET_RETRY;
    if (out == HX_S3_OK) {
        if (req->stored != req->sink_cap) {
            if (hx_net_can_retry(req)) return HX_NET_RETRY;
            out = HX_S3_FAIL;
            st = HOIST_ERR_S3_BAD_RESPONSE;
            err = hx_asprintf("%s: body of %llu bytes, expected %llu", it->url, (unsigned long long)req->stored,
                              (unsigned long long)req->sink_cap);
        } else if (gobj_crc_kind(o)) {
            p->crc = req->crc;
            char got[24], want[24];
            /* One request for the whole object: a mismatch is retried; over
             * several, the CRCs are joined when the last one is done. */
            if (o->nparts == 0 && o->attr == NULL && !gobj_verify(o, got, want)) {
                if (hx_net_can_retry(req)) return HX_NET_RETRY;
                out = HX_S3_FAIL;
                st = HOIST_ERR_S3_BAD_RESPONSE;
                err = hx_asprintf("%s: %s%s checksum mismatch (got %s, object has %s)", it->url,
                                  hx_s3_checksum_name(gobj_crc_kind(o)), o->crc_kind ? "" : " COMPOSITE", got, want);
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
    gobj_settle(o);
    return HX_NET_DONE;
}

/* Once every request of o is over: the joined checksum, then the object. */
static void gobj_settle(struct gobj *o) {
    if (o->left != 0 || o->failed || !o->known) return;
    char got[24], want[24];
    if ((o->nparts > 0 || o->attr) && !gobj_verify(o, got, want)) {
        if (o->crc_kind)
            gobj_fail(o, HOIST_ERR_S3_BAD_RESPONSE,
                      hx_asprintf("%s: %s checksum mismatch over the object's %d ranged GETs (got %s, object has %s)",
                                  o->item->url, hx_s3_checksum_name(o->crc_kind), o->nparts + 1, got, want));
        else
            gobj_fail(o, HOIST_ERR_S3_BAD_RESPONSE,
                      hx_asprintf("%s: %s COMPOSITE checksum mismatch over the object's %d parts, read in %d ranged "
                                  "GETs (got %s, object has %s)",
                                  o->item->url, hx_s3_checksum_name(o->comp_kind), o->comp_n, o->nparts + 1, got,
                                  want));
        return;
    }
    gobj_finish(o);
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
    if (o->attr) {
        hx_net_req_cleanup(&o->attr->req);
        hx_s3_resp_cleanup(&o->attr->s3r);
        hx_free(o->attr);
    }
    hx_free(o->comp_sizes);
    for (int i = 0; i < o->nparts; i++) {
        hx_net_req_cleanup(&o->parts[i].req);
        hx_s3_resp_cleanup(&o->parts[i].s3r);
    }
    hx_free(o->parts);
}

hx_status hx_store_s3_get(struct hoist_store *st, struct hoist_get_item *items, size_t n, struct hx_url *urls,
                          unsigned flags, hoist_progress_fn progress, void *userdata) {
    (void)flags;
    struct gcall g;
    g.split_pending = 0;
    HX_TRY(hx_store_s3_call_init(&g.c, st, progress, userdata));
    struct hx_prefault pf;
    hx_prefault_init(&pf, g.c.loop.concurrency); /* a range per request in flight */
    g.c.pf = &pf;
    struct gobj *objs = hx_calloc(n, sizeof *objs);
    if (objs == NULL) {
        hx_prefault_stop(&pf);
        hx_net_loop_cleanup(&g.c.loop);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory for %zu objects", n);
    }
    for (size_t i = 0; i < n; i++) {
        struct gobj *o = &objs[i];
        o->fd = -1;
        if (urls[i].kind != HX_URL_S3) continue;
        g.c.prog.objects_total++;
        o->item = &items[i];
        o->u = &urls[i];
        o->c = &g.c;
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
        g.c.sizing++;
        hx_net_loop_submit(&g.c.loop, &o->probe.req, 0);
    }
    hx_status s = hx_net_loop_run(&g.c.loop);
    int cancelled = s == HOIST_ERR_CANCELLED;
    hx_net_loop_cleanup(&g.c.loop);
    hx_prefault_stop(&pf); /* before any pushed block can be freed */
    for (size_t i = 0; i < n; i++)
        if (objs[i].item) gobj_cleanup(&objs[i], cancelled);
    hx_free(objs);
    if (s != HOIST_OK)
        return hx_error(s, "get_many: %s", cancelled ? "cancelled by the progress callback" : hoist_errmsg());
    return HOIST_OK;
}
