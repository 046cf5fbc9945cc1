/* The Arrow IPC reader (src/arrow/arrow_ipc_read.c) from C: files hoist's
 * own IPC writer makes read back equal; pyarrow-written files and streams
 * (the fuzz target's seed corpus: every type, LZ4 and ZSTD, replacement
 * dictionaries) read to their row counts; every allocation failed in turn
 * gives HOIST_ERR_NOMEM and leaks nothing (ASan); every truncation of a
 * compressed stream fails with a message or reads fewer rows. pyarrow
 * compares the values in test_arrow_ipc_read.py. */
#include "arrow.h"
#include "test_harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = hx_malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        hx_free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static const char *corpus_file(const char *name) {
    static char path[1024];
    const char *src = getenv("HOIST_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/fuzz/corpus/fuzz_arrow_ipc/%s", src ? src : ".", name);
    return path;
}

/* Rows of every batch, or -1 (with the stream's message printed) on a failure. */
static int64_t drain(struct ArrowArrayStream *s, int verbose) {
    int64_t rows = 0;
    for (;;) {
        struct ArrowArray a;
        memset(&a, 0, sizeof a);
        if (s->get_next(s, &a) != 0) {
            const char *e = s->get_last_error(s);
            if (verbose) fprintf(stderr, "stream failed: %s\n", e ? e : "(no message)");
            return e && e[0] ? -1 : -2;
        }
        if (!a.release) return rows;
        rows += a.length;
        a.release(&a);
    }
}

static void test_pyarrow_seeds(void) {
    static const struct {
        const char *name;
        int64_t rows;
    } seeds[] = {{"file-None", 6},
                 {"stream-None", 6},
                 {"file-lz4", 6},
                 {"stream-lz4", 6},
                 {"file-zstd", 6},
                 {"stream-zstd", 6},
                 {"stream-dict-replacement", 4}};
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        struct ArrowArrayStream s;
        CHECK_EQ_INT(hoist_arrow_ipc_read_file(corpus_file(seeds[i].name), &s), HOIST_OK);
        if (!s.release) continue;
        struct ArrowSchema schema;
        CHECK_EQ_INT(s.get_schema(&s, &schema), 0);
        CHECK_STR(schema.format, "+s");
        schema.release(&schema);
        CHECK_EQ_INT(drain(&s, 1), seeds[i].rows);
        s.release(&s);
    }
}

/* Columns i (int32 with a null) and u (utf8), three rows. */
static void make_table(struct ArrowSchema *schema, struct ArrowArray *batch) {
    CHECK_EQ_INT(hx_arrow_schema_init(schema, "+s", "", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(schema, 2), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema->children[0], "i", "i", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema->children[1], "u", "u", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_init(batch, 3, 1, 2), HOIST_OK);
    struct ArrowArray *i = batch->children[0], *u = batch->children[1];
    uint8_t *valid;
    int32_t *v, *off;
    char *data;
    CHECK_EQ_INT(hx_arrow_array_init(i, 3, 2, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(i, 0, 1, (void **)&valid), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(i, 1, 12, (void **)&v), HOIST_OK);
    valid[0] = 0x5; /* row 1 null */
    v[0] = 7, v[2] = -9;
    i->null_count = 1;
    CHECK_EQ_INT(hx_arrow_array_init(u, 3, 3, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(u, 1, 16, (void **)&off), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_alloc_buffer(u, 2, 8, (void **)&data), HOIST_OK);
    memcpy(data, "abcdefgh", 8);
    off[0] = 0, off[1] = 1, off[2] = 1, off[3] = 8;
}

static void test_reads_what_hoist_writes(void) {
    char path[] = "/tmp/hoist_ipc_read_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    struct ArrowSchema schema;
    struct ArrowArray batch;
    struct ArrowArrayStream in, out;
    make_table(&schema, &batch);
    CHECK_EQ_INT(hoist_arrow_stream_from_arrays(&schema, &batch, 1, &in), HOIST_OK);
    CHECK_EQ_INT(hoist_arrow_ipc_write_file(path, &in), HOIST_OK);
    in.release(&in);
    CHECK_EQ_INT(hoist_arrow_ipc_read_file(path, &out), HOIST_OK);
    struct ArrowArray a;
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(out.get_next(&out, &a), 0);
    CHECK_EQ_INT(a.length, 3);
    if (a.release && a.n_children == 2) {
        const struct ArrowArray *i = a.children[0], *u = a.children[1];
        const int32_t *v = i->buffers[1], *off = u->buffers[1];
        CHECK_EQ_INT(i->null_count, 1);
        CHECK(i->buffers[0] && (((const uint8_t *)i->buffers[0])[0] & 7) == 5);
        CHECK_EQ_INT(v[0], 7);
        CHECK_EQ_INT(v[2], -9);
        CHECK_EQ_INT(off[3], 8);
        CHECK(memcmp(u->buffers[2], "abcdefgh", 8) == 0);
        a.release(&a);
    }
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(out.get_next(&out, &a), 0);
    CHECK(a.release == NULL); /* end of stream */
    out.release(&out);
    remove(path);
}

static void test_alloc_failures(void) {
    static const char *const names[] = {"file-zstd", "stream-lz4", "stream-dict-replacement"};
    /* HOIST_TEST_ALLOC_STRIDE=k tries every k-th allocation (the valgrind pass of scripts/run-tests) */
    const char *stride_env = getenv("HOIST_TEST_ALLOC_STRIDE");
    uint64_t stride = stride_env && strtol(stride_env, NULL, 10) > 0 ? (uint64_t)strtol(stride_env, NULL, 10) : 1;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        size_t size;
        uint8_t *data = read_all(corpus_file(names[k]), &size);
        CHECK(data != NULL);
        if (!data) continue;
        int done = 0;
        for (uint64_t n = 1; n < 5000 && !done; n += stride) {
            struct ArrowArrayStream s;
            hx_alloc_fail_after(n);
            hx_status st = hoist_arrow_ipc_read_memory(data, size, names[k], &s);
            int64_t rows = st == HOIST_OK ? drain(&s, 0) : -1;
            hx_alloc_fail_after(0);
            if (st == HOIST_OK) s.release(&s);
            CHECK(st == HOIST_OK || st == HOIST_ERR_NOMEM);
            CHECK(rows != -2); /* a failed batch says why */
            done = rows >= 0;
        }
        CHECK(done);
        hx_free(data);
    }
}

static void test_truncations(void) {
    size_t size;
    uint8_t *data = read_all(corpus_file("stream-zstd"), &size);
    CHECK(data != NULL);
    if (!data) return;
    for (size_t cut = 0; cut < size; cut++) {
        struct ArrowArrayStream s;
        hx_status st = hoist_arrow_ipc_read_memory(data, cut, "cut.arrows", &s);
        if (st != HOIST_OK) {
            CHECK(hoist_errmsg()[0] != 0);
            continue;
        }
        int64_t rows = drain(&s, 0);
        CHECK(rows == -1 || (rows >= 0 && rows <= 6));
        s.release(&s);
    }
    hx_free(data);
}

int main(void) {
    RUN(test_pyarrow_seeds);
    RUN(test_reads_what_hoist_writes);
    RUN(test_alloc_failures);
    RUN(test_truncations);
    TEST_MAIN_END();
}
