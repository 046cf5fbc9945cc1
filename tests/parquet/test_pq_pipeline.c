/* The threaded stream queues row group k + 1 while k finishes: same batches
 * as the serial path, in order, and releasing a stream with a row group in
 * flight waits for it and frees it (ASan/LSan in make test). */
#include "parquet_internal.h"
#include "test_harness.h"

/* bytes of a flat fixed-width Arrow format, 0 otherwise */
static int width_of(const char *fmt) {
    switch (fmt[0]) {
    case 'c':
    case 'C': return fmt[1] ? 0 : 1;
    case 's':
    case 'S': return 2;
    case 'i':
    case 'I':
    case 'f': return 4;
    case 'l':
    case 'L':
    case 'g': return 8;
    default: return 0;
    }
}

static int read_all(const char *path, unsigned threads, struct ArrowArray *out, int max, struct ArrowSchema *sc) {
    struct hoist_pq_reader *r = NULL;
    if (sc) sc->release = NULL; /* a failed open leaves nothing to release */
    CHECK_EQ_INT(hoist_pq_reader_open_file(path, 0, &r), HOIST_OK);
    if (!r) return 0;
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_pq_reader_stream(r, NULL, 0, NULL, 0, threads, &s), HOIST_OK);
    hoist_pq_reader_close(r); /* the stream keeps the file alive */
    if (sc) CHECK_EQ_INT(s.get_schema(&s, sc), 0);
    int n = 0;
    while (n < max) {
        CHECK_EQ_INT(s.get_next(&s, &out[n]), 0);
        if (!out[n].release) break;
        n++;
    }
    s.release(&s);
    return n;
}

static void test_threaded_equals_serial(void) {
    char *path = hx_asprintf("%s/parquet-testing/data/floating_orders_nan_count.parquet", th_testdata());
    struct ArrowArray a[16], b[16];
    struct ArrowSchema sc;
    int na = read_all(path, 1, a, 16, &sc);
    int nb = read_all(path, 3, b, 16, NULL);
    CHECK_EQ_INT(na, 5);
    CHECK_EQ_INT(nb, na);
    int compared = 0;
    for (int i = 0; i < na && i < nb; i++) {
        CHECK_EQ_INT(a[i].length, b[i].length);
        CHECK_EQ_INT(a[i].n_children, b[i].n_children);
        for (int64_t c = 0; c < a[i].n_children && c < b[i].n_children; c++) {
            const struct ArrowArray *x = a[i].children[c], *y = b[i].children[c];
            CHECK_EQ_INT(x->length, y->length);
            CHECK_EQ_INT(x->null_count, y->null_count);
            int w = width_of(sc.children[c]->format);
            if (w && x->n_buffers == 2 && y->n_buffers == 2 && x->length == y->length) {
                CHECK(memcmp(x->buffers[1], y->buffers[1], (size_t)(x->length * w)) == 0);
                compared++;
            }
        }
    }
    CHECK(compared > 0);
    for (int i = 0; i < na; i++) a[i].release(&a[i]);
    for (int i = 0; i < nb; i++) b[i].release(&b[i]);
    if (sc.release) sc.release(&sc);
    hx_free(path);
}

static void test_release_with_batch_in_flight(void) {
    char *path = hx_asprintf("%s/parquet-testing/data/geospatial/geography-points.parquet", th_testdata());
    for (int keep = 0; keep <= 3; keep++) {
        struct hoist_pq_reader *r = NULL;
        CHECK_EQ_INT(hoist_pq_reader_open_file(path, 0, &r), HOIST_OK);
        if (!r) break;
        struct ArrowArrayStream s;
        CHECK_EQ_INT(hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 2, &s), HOIST_OK);
        for (int i = 0; i < keep; i++) {
            struct ArrowArray x;
            CHECK_EQ_INT(s.get_next(&s, &x), 0);
            CHECK(x.release != NULL);
            if (x.release) x.release(&x);
        }
        s.release(&s); /* row group keep (+1) may still be decoding */
        hoist_pq_reader_close(r);
    }
    hx_free(path);
}

int main(void) {
    RUN(test_threaded_equals_serial);
    RUN(test_release_with_batch_in_flight);
    TEST_MAIN_END();
}
