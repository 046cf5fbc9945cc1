/* The Arrow IPC file writer: a file of every flat type it handles, checked
 * here at the byte level (magic, messages, footer blocks) and by pyarrow in
 * test_arrow_ipc.py (which runs this program with a directory to keep the
 * file in); refused types, failing streams and failing allocations leave no
 * file behind. */
#include "arrow.h"
#include "test_harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const names[] = {"i", "l", "g", "b", "u", "U", "d", "ts", "t", "n", "C"};
static const char *const formats[] = {"i", "l", "g", "b", "u", "U", "tdD", "tsu:UTC", "ttm", "n", "C"};
enum { NCOLS = 11 };

static void make_schema(struct ArrowSchema *s) {
    CHECK_EQ_INT(hx_arrow_schema_init(s, "+s", "", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(s, NCOLS), HOIST_OK);
    for (int c = 0; c < NCOLS; c++)
        CHECK_EQ_INT(hx_arrow_schema_init(s->children[c], formats[c], names[c], ARROW_FLAG_NULLABLE), HOIST_OK);
}

/* A fixed-width column of n values; valid (bits) may be NULL. */
static void fixed(struct ArrowArray *a, const void *values, size_t width, int64_t n, uint8_t valid) {
    CHECK_EQ_INT(hx_arrow_array_init(a, n, 2, 0), HOIST_OK);
    void *p;
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(a, 1, (size_t)n * width, &p), HOIST_OK);
    memcpy(p, values, (size_t)n * width);
    if (valid != 0xff) {
        uint8_t *v;
        CHECK_EQ_INT(hx_arrow_array_alloc_buffer(a, 0, 1, (void **)&v), HOIST_OK);
        *v = valid;
        a->null_count = hx_arrow_bitmap_count_nulls(v, n);
    }
}

static void strings(struct ArrowArray *a, const char *const *vals, int64_t n, bool large) {
    CHECK_EQ_INT(hx_arrow_array_init(a, n, 3, 0), HOIST_OK);
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) total += vals[i] ? strlen(vals[i]) : 0;
    uint8_t *valid, *data;
    void *off;
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(a, 0, 1, (void **)&valid), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(a, 1, (size_t)(n + 1) * (large ? 8 : 4), &off), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(a, 2, total, (void **)&data), HOIST_OK);
    size_t pos = 0;
    for (int64_t i = 0; i <= n; i++) {
        if (large)
            ((int64_t *)off)[i] = (int64_t)pos;
        else
            ((int32_t *)off)[i] = (int32_t)pos;
        if (i == n) break;
        if (!vals[i]) continue;
        valid[0] |= (uint8_t)(1u << i);
        memcpy(data + pos, vals[i], strlen(vals[i]));
        pos += strlen(vals[i]);
    }
    a->null_count = hx_arrow_bitmap_count_nulls(valid, n);
}

/* Batch 0: 3 rows with nulls. Batch 1: 2 rows whose columns hold 3 (as a
 * --limit leaves them); the third row must not reach the file. */
static void make_batch(struct ArrowArray *b, int which) {
    int64_t n = 3;
    CHECK_EQ_INT(hx_arrow_array_init(b, which ? 2 : 3, 1, NCOLS), HOIST_OK);
    struct ArrowArray **c = b->children;
    int32_t i32[2][3] = {{1, 0, 3}, {4, 5, 6}};
    int64_t i64[2][3] = {{10, 20, 30}, {40, 50, 60}};
    double f64[2][3] = {{0.5, -1.25, 2.0}, {3.5, 4.5, 5.5}};
    uint8_t bools[2] = {0x05, 0x02};
    const char *u[2][3] = {{"a", NULL, "ccc"}, {"dd", "e", "f"}};
    const char *U[2][3] = {{"x", "yy", ""}, {"zzz", "w", "v"}};
    int32_t days[2][3] = {{0, 1, 19000}, {-1, 2, 3}};
    int64_t us[2][3] = {{0, 1000000, -1}, {5, 6, 7}};
    int32_t ms[2][3] = {{0, 1000, 86399999}, {1, 2, 3}};
    uint8_t u8[2][3] = {{0, 255, 7}, {8, 9, 10}};
    fixed(c[0], i32[which], 4, n, which ? 0xff : 0x05);
    fixed(c[1], i64[which], 8, n, 0xff);
    fixed(c[2], f64[which], 8, n, 0xff);
    fixed(c[3], &bools[which], 1, 1, 0xff);
    c[3]->length = n;
    strings(c[4], u[which], n, false);
    strings(c[5], U[which], n, true);
    fixed(c[6], days[which], 4, n, 0xff);
    fixed(c[7], us[which], 8, n, which ? 0xff : 0x03);
    fixed(c[8], ms[which], 4, n, 0xff);
    CHECK_EQ_INT(hx_arrow_array_init(c[9], n, 0, 0), HOIST_OK);
    c[9]->null_count = n;
    fixed(c[10], u8[which], 1, n, 0xff);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static uint8_t buf[1 << 16];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static uint32_t u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Field `id` of the flatbuffer table at t: its absolute position, or 0. */
static size_t fb_field(const uint8_t *base, size_t t, int id) {
    int32_t so;
    memcpy(&so, base + t, 4);
    const uint8_t *vt = base + t - so;
    uint16_t vsize, off;
    memcpy(&vsize, vt, 2);
    if (4 + 2 * (size_t)id >= vsize) return 0;
    memcpy(&off, vt + 4 + 2 * id, 2);
    return off ? t + off : 0;
}

/* The byte-level layout: magic at both ends, schema message first, the
 * footer's record batch blocks pointing at batch messages of the lengths
 * written, end-of-stream marker before the footer. */
static void check_layout(const char *path, uint32_t want_batches) {
    size_t len = 0;
    const uint8_t *f = slurp(path, &len);
    CHECK(f != NULL);
    if (!f) return;
    CHECK(len > 64 && len < (1 << 16));
    CHECK(memcmp(f, "ARROW1\0\0", 8) == 0);
    CHECK(memcmp(f + len - 6, "ARROW1", 6) == 0);
    CHECK_EQ_INT(u32(f + 8), 0xFFFFFFFFu);
    uint32_t flen = u32(f + len - 10);
    CHECK(flen > 0 && flen < len - 24);
    const uint8_t *footer = f + len - 10 - flen;
    CHECK_EQ_INT(u32(footer - 8), 0xFFFFFFFFu); /* end of stream: continuation, length 0 */
    CHECK_EQ_INT(u32(footer - 4), 0);
    size_t root = u32(footer);
    size_t rb = fb_field(footer, root, 3);
    CHECK(rb != 0);
    if (!rb) return;
    size_t vec = rb + u32(footer + rb);
    CHECK_EQ_INT(u32(footer + vec), want_batches);
    for (uint32_t i = 0; i < u32(footer + vec) && i < want_batches; i++) {
        const uint8_t *blk = footer + vec + 4 + 24 * i;
        int64_t off, body;
        int32_t meta;
        memcpy(&off, blk, 8);
        memcpy(&meta, blk + 8, 4);
        memcpy(&body, blk + 16, 8);
        CHECK(off % 8 == 0 && meta % 8 == 0 && body % 8 == 0);
        CHECK(off + meta + body <= (int64_t)(footer - f) - 8);
        CHECK_EQ_INT(u32(f + off), 0xFFFFFFFFu);
        CHECK_EQ_INT(u32(f + off + 4), (uint32_t)meta - 8);
    }
}

static void write_types_file(const char *path) {
    struct ArrowSchema schema;
    struct ArrowArray batches[2];
    struct ArrowArrayStream stream;
    make_schema(&schema);
    make_batch(&batches[0], 0);
    make_batch(&batches[1], 1);
    CHECK_EQ_INT(hoist_arrow_stream_from_arrays(&schema, batches, 2, &stream), HOIST_OK);
    CHECK(schema.release == NULL && batches[0].release == NULL);
    CHECK_EQ_INT(hoist_arrow_ipc_write_file(path, &stream), HOIST_OK);
    stream.release(&stream);
    check_layout(path, 2);
}

static void test_refused_types(const char *path) {
    struct ArrowSchema schema;
    struct ArrowArrayStream stream;
    CHECK_EQ_INT(hx_arrow_schema_init(&schema, "+s", "", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(&schema, 2), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema.children[0], "i", "ok", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema.children[1], "+l", "tags", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(schema.children[1], 1), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema.children[1]->children[0], "u", "item", 0), HOIST_OK);
    CHECK_EQ_INT(hoist_arrow_stream_from_arrays(&schema, NULL, 0, &stream), HOIST_OK);
    CHECK_EQ_INT(hoist_arrow_ipc_write_file(path, &stream), HOIST_ERR_ARROW_TYPE);
    CHECK_CONTAINS(hoist_errmsg(), "column 'tags'");
    CHECK(access(path, F_OK) != 0); /* no partial file */
    stream.release(&stream);
}

/* A stream that fails after its first batch, as a load does on a corrupt
 * file: the writer returns the stream's message and removes the file. */
struct failing {
    int calls;
};
static hx_status failing_schema(void *state, struct ArrowSchema *out) {
    (void)state;
    make_schema(out);
    return HOIST_OK;
}
static hx_status failing_next(void *state, struct ArrowArray *out) {
    struct failing *f = state;
    if (f->calls++ == 0) {
        make_batch(out, 0);
        return HOIST_OK;
    }
    return hx_error(HOIST_ERR_PARQUET_CORRUPT, "x.parquet: row group 1: page header is bad");
}
static void failing_free(void *state) { hx_free(state); }

static void test_failing_stream(const char *path) {
    static const struct hx_arrow_stream_ops ops = {failing_schema, failing_next, failing_free};
    struct ArrowArrayStream stream;
    CHECK_EQ_INT(hx_arrow_stream_init(&stream, &ops, hx_calloc(1, sizeof(struct failing))), HOIST_OK);
    CHECK_EQ_INT(hoist_arrow_ipc_write_file(path, &stream), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "x.parquet: row group 1: page header is bad");
    CHECK(access(path, F_OK) != 0);
    stream.release(&stream);
    struct ArrowArrayStream empty;
    struct ArrowSchema s;
    make_schema(&s);
    CHECK_EQ_INT(hoist_arrow_stream_from_arrays(&s, NULL, 0, &empty), HOIST_OK);
    CHECK_EQ_INT(hoist_arrow_ipc_write_file("/nonexistent-dir/x.arrow", &empty), HOIST_ERR_NOT_FOUND);
    CHECK_CONTAINS(hoist_errmsg(), "/nonexistent-dir/x.arrow");
    CHECK_EQ_INT(hoist_arrow_ipc_write_file(path, &empty), HOIST_OK); /* no batches: still a valid file */
    check_layout(path, 0);
    empty.release(&empty);
    remove(path);
}

/* Every allocation of a write can fail: then the status says so, nothing
 * leaks (ASan) and no file is left. */
static void test_alloc_failures(const char *path) {
    bool done = false;
    for (uint64_t n = 1; n < 400 && !done; n++) {
        struct ArrowSchema schema;
        struct ArrowArray batch;
        struct ArrowArrayStream stream;
        make_schema(&schema);
        make_batch(&batch, 0);
        hx_alloc_fail_after(n);
        hx_status st = hoist_arrow_stream_from_arrays(&schema, &batch, 1, &stream);
        if (st == HOIST_OK) {
            st = hoist_arrow_ipc_write_file(path, &stream);
            stream.release(&stream);
        }
        hx_alloc_fail_after(0);
        CHECK(st == HOIST_OK || st == HOIST_ERR_NOMEM);
        CHECK(st == HOIST_OK || access(path, F_OK) != 0);
        if (st == HOIST_OK) {
            check_layout(path, 1);
            done = true;
        }
    }
    CHECK(done); /* the loop reached a count where nothing failed */
    remove(path);
}

#define RUN_WITH(fn, arg)                                                                                              \
    do {                                                                                                               \
        int before_ = th_failures;                                                                                     \
        fn(arg);                                                                                                       \
        fprintf(stderr, "%s %s\n", th_failures == before_ ? "ok  " : "FAIL", #fn);                                     \
    } while (0)

int main(int argc, char **argv) {
    /* With a directory argument the good file is kept there for pyarrow. */
    char keep[4096], tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/hoist_test_arrow_ipc_%d.arrow", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    snprintf(keep, sizeof keep, "%s/types.arrow", argc > 1 ? argv[1] : "");
    write_types_file(argc > 1 ? keep : tmp);
    if (argc <= 1) remove(tmp);
    RUN_WITH(test_refused_types, tmp);
    RUN_WITH(test_failing_stream, tmp);
    RUN_WITH(test_alloc_failures, tmp);
    TEST_MAIN_END();
}
