/* Fuzzes the Arrow IPC reader (src/arrow/arrow_ipc_read.c) with hostile
 * files and streams: open, read every batch, and hand each batch that the
 * reader accepts to the Parquet encoder — the consumer `hoist convert` feeds
 * — so an array the reader lets through that is not valid (offsets, views,
 * indices out of range) shows up as an out-of-bounds read here. Errors are
 * expected and fine; crashes, leaks, sanitizer reports and errors without a
 * message are bugs. A batch budget keeps compressed bombs small. */
#include "arrow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int discard(void *ud, const void *data, size_t len) {
    (void)ud, (void)data, (void)len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = hx_malloc(size ? size : 1); /* exactly size bytes, so ASan sees any over-read */
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct ArrowArrayStream s;
    if (hx_arrow_ipc_open(copy, size, "fuzz.arrow", 16u << 20, &s) != HOIST_OK) {
        if (s.release) abort(); /* no stream on failure */
        if (!hoist_errmsg()[0]) abort();
        return 0;
    }
    struct ArrowSchema schema;
    if (s.get_schema(&s, &schema) != 0) abort();
    struct hoist_pq_write_options *o = NULL;
    struct hoist_pq_writer *w = NULL;
    if (hoist_pq_write_options_new(&o) == HOIST_OK &&
        hoist_pq_write_options_set_int(o, HOIST_PQW_THREADS, 1) == HOIST_OK &&
        hoist_pq_writer_new(&schema, o, discard, NULL, &w) != HOIST_OK)
        w = NULL; /* a schema Parquet cannot hold: still read every batch */
    for (int i = 0; i < 10000; i++) {
        struct ArrowArray b;
        memset(&b, 0, sizeof b);
        if (s.get_next(&s, &b) != 0) {
            const char *e = s.get_last_error(&s);
            if (!e || !e[0]) abort(); /* errors must explain themselves */
            break;
        }
        if (!b.release) break;
        if (w && hoist_pq_writer_write(w, &b) != HOIST_OK) {
            hoist_pq_writer_free(w);
            w = NULL;
        }
        b.release(&b);
    }
    if (w && hoist_pq_writer_close(w) != HOIST_OK && !hoist_errmsg()[0]) abort();
    hoist_pq_writer_free(w);
    hoist_pq_write_options_free(o);
    schema.release(&schema);
    s.release(&s);
    return 0;
}
