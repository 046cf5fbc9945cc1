/* The s3:// backend's per-call state (event loop, progress ticks) and the
 * helpers shared by store_s3_get.c, store_s3_put.c and store_s3_meta.c;
 * and the s3 backend's table entry. */
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
    c->prog.struct_size = sizeof c->prog;
    return c->progress(&c->prog, c->userdata);
}

hx_status hx_store_s3_call_init(struct hx_store_call *c, struct hoist_store *st, hoist_progress_fn progress,
                                void *userdata) {
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

char *hx_store_s3_dup_or_null(const char *s) { return s && s[0] ? hx_strdup(s) : NULL; }

void hx_store_s3_fill_info(struct hoist_object_info *info, const char *url, const struct hx_net_resp *r,
                           const struct hx_s3_resp *s3r, uint64_t size) {
    hoist_store_object_info_reset(info);
    info->url = hx_strdup(url);
    info->size = size;
    info->etag = hx_store_s3_dup_or_null(r->etag);
    info->content_type = hx_store_s3_dup_or_null(r->content_type);
    info->metadata_json = s3r->meta_json.len ? hx_strndup(s3r->meta_json.data, s3r->meta_json.len) : NULL;
    info->last_modified = r->last_modified[0] ? hx_s3_parse_http_date(r->last_modified) : 0;
    info->encryption = hx_store_s3_dup_or_null(s3r->sse);
}

const struct hx_store_backend hx_store_s3_backend = {
    .kind = HX_URL_S3,
    .get_many = hx_store_s3_get,
    .put_many = hx_store_s3_put,
    .info_many = hx_store_s3_info,
    .list = hx_store_s3_list,
    .list_page = hx_store_s3_list_page,
    .delete_many = hx_store_s3_delete,
    .bucket = hx_store_s3_bucket,
};
