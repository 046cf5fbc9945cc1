/* The s3:// backend's per-call state (event loop, progress ticks) and the
 * sorting of finished requests into success, retry or failure, shared by
 * store_s3_get.c, store_s3_put.c and store_s3_meta.c. */
#include "store_s3_call.h"

#include <stdio.h>
#include <string.h>
static int call_tick(struct hx_net_loop *loop, void *ud) {
    struct hx_store_call *c = ud;
    if (c->progress == NULL) return 0;
    double now = hx_now();
    if (now - c->last_tick < 0.05) return 0;
    c->last_tick = now;
    uint64_t b = c->upload ? loop->bytes_out : loop->bytes_in;
    c->prog.bytes_done = c->prog.bytes_total && b > c->prog.bytes_total ? c->prog.bytes_total : b;
    return c->progress(&c->prog, c->userdata);
}

hx_status hx_store_s3_call_init(struct hx_store_call *c, struct hoist_store *st,
                                hoist_progress_fn progress, void *userdata) {
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

enum hx_store_outcome hx_store_s3_classify(struct hx_net_req *req, CURLcode code, const char *url,
                                           hx_status *st, char **err) {
    *err = NULL;
    if (req->abort_status != HOIST_OK) {
        *st = req->abort_status;
        if (*st != HOIST_ERR_CANCELLED) *err = hx_asprintf("%s: %s", url, req->abort_msg);
        return HX_OUT_FAIL;
    }
    char tries[48] = "";
    if (req->attempt > 0) snprintf(tries, sizeof tries, " (after %d attempts)", req->attempt + 1);
    if (code != CURLE_OK) {
        if (hx_net_curl_transient(code) && hx_net_can_retry(req)) return HX_OUT_RETRY;
        *st = hx_net_curl_status(code);
        *err = hx_asprintf("%s: %s%s%s%s", url, curl_easy_strerror(code),
                           req->errbuf[0] ? ": " : "", req->errbuf, tries);
        return HX_OUT_FAIL;
    }
    long http = req->resp.status;
    if (http >= 200 && http < 300) return HX_OUT_OK;
    char scode[64], msg[256];
    hx_s3_parse_error(req->body.data, req->body.len, scode, sizeof scode, msg, sizeof msg);
    if (hx_s3_transient(http, scode) && hx_net_can_retry(req)) return HX_OUT_RETRY;
    *st = hx_s3_status_for(http, scode);
    if (scode[0] == '\0' && http == 404) snprintf(scode, sizeof scode, "NoSuchKey");
    char hint[96] = "";
    if (req->resp.bucket_region[0] && (http == 301 || http == 400))
        snprintf(hint, sizeof hint,
                 " (the bucket is in region %s: set AWS_REGION or the region option)",
                 req->resp.bucket_region);
    *err = hx_asprintf("%s: HTTP %ld%s%s%s%s%s%s", url, http, scode[0] ? " " : "", scode,
                       msg[0] ? ": " : "", msg, hint, tries);
    return HX_OUT_FAIL;
}

char *hx_store_s3_dup_or_null(const char *s) { return s && s[0] ? hx_strdup(s) : NULL; }

void hx_store_s3_fill_info(struct hoist_object_info *info, const char *url,
                           const struct hx_net_resp *r, uint64_t size) {
    hoist_object_info_reset(info);
    info->url = hx_strdup(url);
    info->size = size;
    info->etag = hx_store_s3_dup_or_null(r->etag);
    info->content_type = hx_store_s3_dup_or_null(r->content_type);
    info->metadata_json = r->meta_json.len ? hx_strndup(r->meta_json.data, r->meta_json.len) : NULL;
    info->last_modified = r->last_modified[0] ? hx_s3_parse_http_date(r->last_modified) : 0;
}

const struct hx_store_backend hx_store_s3_backend = {
    .kind = HX_URL_S3,
    .get_many = hx_store_s3_get,
    .put_many = hx_store_s3_put,
    .info_many = hx_store_s3_info,
    .list = hx_store_s3_list,
    .delete_many = hx_store_s3_delete,
    .bucket = hx_store_s3_bucket,
};
