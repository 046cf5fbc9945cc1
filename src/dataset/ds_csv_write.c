/* hoist_csv_write_url: an Arrow stream written as one CSV file or object.
 * The CSV writer (src/csv/csv_write.c) turns each batch into text; the
 * text goes straight into a streamed upload (src/store/store_upload.h:
 * multipart parts on s3:// sent while later batches are formatted, a hidden
 * temp file on file://), committed only when the whole stream was written,
 * so a failed write leaves nothing at the URL. */
#include "ds_csv_internal.h"
#include "store_upload.h"

#include <string.h>

hx_status hoist_csv_write_url(struct hoist_store *store, const char *url, struct ArrowArrayStream *stream,
                              const struct hoist_csv_options *opts, int64_t *rows) {
    HX_FAIL_IF(!url || !stream || !stream->release, HOIST_ERR_INVALID_ARG, "hoist_csv_write_url: NULL argument");
    if (rows) *rows = 0;
    struct hoist_store *own = NULL;
    if (!store) {
        hx_status s0 = hoist_store_new(NULL, &own);
        if (s0 != HOIST_OK) {
            stream->release(stream);
            return s0;
        }
        store = own;
    }
    struct ArrowSchema schema = {0};
    struct hoist_csv_writer *w = NULL;
    struct hx_uploader *up = NULL;
    struct hx_upload *u = NULL;
    hx_status st = stream->get_schema(stream, &schema) == 0 ? HOIST_OK : HOIST_ERR_ARROW_INVALID;
    if (st != HOIST_OK) {
        const char *m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
        st = hx_error(st, "%s: the input stream has no schema (%s)", url, m ? m : "get_schema failed");
    }
    if (st == HOIST_OK) st = hoist_csv_writer_new(opts, &schema, &w);
    if (st == HOIST_OK) st = hx_uploader_new(store, url, NULL, &up);
    if (st == HOIST_OK) st = hx_upload_open(up, url, &u);
    int64_t n = 0;
    bool any = false;
    while (st == HOIST_OK) {
        struct ArrowArray b;
        if (stream->get_next(stream, &b) != 0) {
            const char *m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
            st = hx_error(HOIST_ERR_ARROW_INVALID, "%s: the input stream failed: %s", url, m ? m : "get_next failed");
            break;
        }
        if (!b.release && any) break;
        const void *text;
        size_t len;
        /* the header goes out with the first batch, or alone for no rows */
        st = hoist_csv_writer_write(w, b.release ? &b : NULL, &text, &len);
        if (b.release) n += b.length;
        bool end = !b.release;
        if (b.release) b.release(&b);
        any = true;
        if (st == HOIST_OK && len) st = hx_upload_write(u, text, len);
        if (end) break;
    }
    if (st == HOIST_OK) st = hx_upload_finish(u);
    if (st == HOIST_OK) st = hx_upload_commit(&u, 1);
    if (st != HOIST_OK && u) hx_upload_abort(&u, 1);
    hx_upload_free(u);
    hx_uploader_free(up);
    hoist_csv_writer_free(w);
    if (schema.release) schema.release(&schema);
    stream->release(stream);
    hoist_store_free(own);
    if (st == HOIST_OK) {
        if (rows) *rows = n;
        hx_error_clear();
    }
    return st;
}
