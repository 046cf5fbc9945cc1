/* The Parquet encoder against hoist's own reader: a table of flat, string,
 * list and struct columns with nulls is written (several row groups, both
 * page versions, dictionary on and off, 1 and 3 threads) into memory, read
 * back with hoist_pq_reader_open_memory and compared value by value; every
 * allocation of a small write is failed in turn (no crash, no leak under
 * ASan/LSan, a clean status); the sink can stop a write; bad input gives
 * clear errors; a filling row group holds pages, not its values. */
#include "pq_write_internal.h"
#include "test_harness.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N = 2500 };

/* ---- building the input batch -------------------------------------------- */

static void *buf(struct ArrowArray *a, int i, size_t bytes) {
    void *p = hx_aligned_alloc(bytes ? bytes : 1);
    memset(p, 0, bytes ? bytes : 1);
    hx_arrow_array_set_buffer(a, i, p);
    return p;
}

static void set_bit(uint8_t *bits, int64_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }

static int v_null(int64_t i) { return i % 3 == 0; }
static int s_null(int64_t i) { return i % 5 == 0; }
static int l_null(int64_t i) { return i % 6 == 0; }
static int st_null(int64_t i) { return i % 7 == 0; }
static int d_null(int64_t i) { return i % 4 == 1; }
static const char *const d_words[] = {"x", "yy", "zzz"};

static void make_schema(struct ArrowSchema *s) {
    CHECK_EQ_INT(hx_arrow_schema_init(s, "+s", NULL, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(s, 6), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[0], "l", "id", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[1], "g", "v", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[2], "u", "s", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[3], "+l", "l", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(s->children[3], 1), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[3]->children[0], "i", "item", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[4], "+s", "st", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(s->children[4], 1), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[4]->children[0], "i", "a", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[5], "s", "d", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_dictionary(s->children[5]), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(s->children[5]->dictionary, "u", NULL, 0), HOIST_OK);
}

/* rows [0, n) */
static void make_batch(struct ArrowArray *b, int64_t n) {
    CHECK_EQ_INT(hx_arrow_array_init(b, n, 1, 6), HOIST_OK);
    struct ArrowArray *id = b->children[0], *v = b->children[1], *s = b->children[2], *l = b->children[3],
                      *st = b->children[4];
    CHECK_EQ_INT(hx_arrow_array_init(id, n, 2, 0), HOIST_OK);
    int64_t *idv = buf(id, 1, (size_t)n * 8);
    for (int64_t i = 0; i < n; i++) idv[i] = i * 1000 - 7;

    CHECK_EQ_INT(hx_arrow_array_init(v, n, 2, 0), HOIST_OK);
    uint8_t *vv = buf(v, 0, (size_t)(n + 7) / 8);
    double *vd = buf(v, 1, (size_t)n * 8);
    for (int64_t i = 0; i < n; i++) {
        if (v_null(i))
            v->null_count++;
        else
            set_bit(vv, i), vd[i] = (double)i / 4 - 100;
    }

    CHECK_EQ_INT(hx_arrow_array_init(s, n, 3, 0), HOIST_OK);
    uint8_t *sv = buf(s, 0, (size_t)(n + 7) / 8);
    int32_t *so = buf(s, 1, (size_t)(n + 1) * 4);
    char *sd = buf(s, 2, (size_t)n * 8);
    so[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int len = 0;
        if (s_null(i))
            s->null_count++;
        else
            set_bit(sv, i), len = snprintf(sd + so[i], 8, "s%d", (int)(i % 7));
        so[i + 1] = so[i] + len;
    }

    CHECK_EQ_INT(hx_arrow_array_init(l, n, 2, 1), HOIST_OK);
    uint8_t *lv = buf(l, 0, (size_t)(n + 7) / 8);
    int32_t *lo = buf(l, 1, (size_t)(n + 1) * 4);
    lo[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int k = 0;
        if (l_null(i))
            l->null_count++;
        else
            set_bit(lv, i), k = (int)(i % 4);
        lo[i + 1] = lo[i] + k;
    }
    struct ArrowArray *le = l->children[0];
    CHECK_EQ_INT(hx_arrow_array_init(le, lo[n], 2, 0), HOIST_OK);
    uint8_t *lev = buf(le, 0, (size_t)(lo[n] + 7) / 8);
    int32_t *led = buf(le, 1, (size_t)lo[n] * 4);
    for (int32_t j = 0; j < lo[n]; j++) {
        if (j % 5 == 2)
            le->null_count++;
        else
            set_bit(lev, j), led[j] = j * 3;
    }

    CHECK_EQ_INT(hx_arrow_array_init(st, n, 1, 1), HOIST_OK);
    uint8_t *stv = buf(st, 0, (size_t)(n + 7) / 8);
    for (int64_t i = 0; i < n; i++) {
        if (st_null(i))
            st->null_count++;
        else
            set_bit(stv, i);
    }
    CHECK_EQ_INT(hx_arrow_array_init(st->children[0], n, 2, 0), HOIST_OK);
    int32_t *sta = buf(st->children[0], 1, (size_t)n * 4);
    for (int64_t i = 0; i < n; i++) sta[i] = (int32_t)(i % 100);

    /* an Arrow dictionary column: int16 indices into {"x", "yy", "zzz"} */
    struct ArrowArray *d = b->children[5];
    CHECK_EQ_INT(hx_arrow_array_init(d, n, 2, 0), HOIST_OK);
    uint8_t *dv = buf(d, 0, (size_t)(n + 7) / 8);
    int16_t *di = buf(d, 1, (size_t)n * 2);
    for (int64_t i = 0; i < n; i++) {
        if (d_null(i))
            d->null_count++;
        else
            set_bit(dv, i), di[i] = (int16_t)(i % 3);
    }
    CHECK_EQ_INT(hx_arrow_array_alloc_dictionary(d), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_init(d->dictionary, 3, 3, 0), HOIST_OK);
    int32_t *wo = buf(d->dictionary, 1, 16);
    char *wd = buf(d->dictionary, 2, 8);
    wo[0] = 0;
    for (int k = 0; k < 3; k++) {
        memcpy(wd + wo[k], d_words[k], strlen(d_words[k]));
        wo[k + 1] = wo[k] + (int32_t)strlen(d_words[k]);
    }
}

/* ---- sink ------------------------------------------------------------------- */

struct sink {
    struct hx_buf out;
    size_t stop_after; /* fail once this many bytes were taken (0 = never) */
};

static int sink_fn(void *ud, const void *data, size_t len) {
    struct sink *s = ud;
    if (s->stop_after && s->out.len + len > s->stop_after) return HOIST_ERR_CANCELLED;
    return hx_buf_append(&s->out, data, len) == HOIST_OK ? 0 : HOIST_ERR_NOMEM;
}

static hx_status write_table(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                             const struct hoist_pq_write_options *o, struct sink *s) {
    struct hoist_pq_writer *w = NULL;
    HX_TRY(hoist_pq_writer_new(schema, o, sink_fn, s, &w));
    /* two writes: a slice boundary inside the row group */
    struct ArrowArray half = *batch;
    half.length = batch->length / 2;
    hx_status st = hoist_pq_writer_write(w, &half);
    struct ArrowArray rest = *batch;
    rest.offset = half.length;
    rest.length = batch->length - half.length;
    if (st == HOIST_OK) st = hoist_pq_writer_write(w, &rest);
    if (st == HOIST_OK) st = hoist_pq_writer_close(w);
    hoist_pq_writer_free(w);
    return st;
}

/* ---- checking what the reader gives back --------------------------------------- */

static int bit(const void *bits, int64_t i) { return !bits || ((((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1); }

static void check_batch(const struct ArrowArray *b, int64_t row0) {
    CHECK_EQ_INT(b->n_children, 6);
    if (b->n_children != 6) return;
    const struct ArrowArray *id = b->children[0], *v = b->children[1], *s = b->children[2], *l = b->children[3],
                            *st = b->children[4];
    int bad = 0;
    for (int64_t r = 0; r < b->length && bad < 5; r++) {
        int64_t i = row0 + r;
        const int64_t *idv = id->buffers[1];
        if (idv[id->offset + r] != i * 1000 - 7) bad++, fprintf(stderr, "id row %lld\n", (long long)i);
        if (bit(v->buffers[0], v->offset + r) == v_null(i)) bad++, fprintf(stderr, "v validity %lld\n", (long long)i);
        if (!v_null(i) && ((const double *)v->buffers[1])[v->offset + r] != (double)i / 4 - 100)
            bad++, fprintf(stderr, "v value %lld\n", (long long)i);
        if (bit(s->buffers[0], s->offset + r) == s_null(i)) bad++, fprintf(stderr, "s validity %lld\n", (long long)i);
        if (!s_null(i)) {
            const int32_t *o = s->buffers[1];
            char want[8];
            int wl = snprintf(want, sizeof want, "s%d", (int)(i % 7));
            int64_t k = s->offset + r;
            if (o[k + 1] - o[k] != wl || memcmp((const char *)s->buffers[2] + o[k], want, (size_t)wl) != 0)
                bad++, fprintf(stderr, "s value %lld\n", (long long)i);
        }
        if (bit(l->buffers[0], l->offset + r) == l_null(i)) bad++, fprintf(stderr, "l validity %lld\n", (long long)i);
        if (!l_null(i)) {
            const int32_t *o = l->buffers[1];
            int64_t k = l->offset + r;
            if (o[k + 1] - o[k] != i % 4) bad++, fprintf(stderr, "l length %lld\n", (long long)i);
        }
        if (bit(st->buffers[0], st->offset + r) == st_null(i))
            bad++, fprintf(stderr, "st validity %lld\n", (long long)i);
        if (!st_null(i) && ((const int32_t *)st->children[0]->buffers[1])[st->children[0]->offset + r] != i % 100)
            bad++, fprintf(stderr, "st.a value %lld\n", (long long)i);
        /* read back as a dictionary array (ARROW:schema) or as strings */
        const struct ArrowArray *d = b->children[5];
        if (bit(d->buffers[0], d->offset + r) == d_null(i)) bad++, fprintf(stderr, "d validity %lld\n", (long long)i);
        if (!d_null(i)) {
            const struct ArrowArray *dv = d->dictionary ? d->dictionary : d;
            int64_t k = d->offset + r;
            if (d->dictionary) k = ((const int32_t *)d->buffers[1])[k] + dv->offset;
            const int32_t *o = dv->buffers[1];
            const char *want = d_words[i % 3];
            if (o[k + 1] - o[k] != (int32_t)strlen(want) ||
                memcmp((const char *)dv->buffers[2] + o[k], want, strlen(want)))
                bad++, fprintf(stderr, "d value %lld\n", (long long)i);
        }
    }
    /* list elements: the global element sequence j has value j*3, null at j%5==2 */
    const struct ArrowArray *le = l->children[0];
    const int32_t *lo = l->buffers[1];
    int64_t first = 0; /* elements before row0 */
    for (int64_t i = 0; i < row0; i++) first += l_null(i) ? 0 : i % 4;
    for (int64_t e = lo[l->offset]; e < lo[l->offset + b->length] && bad < 5; e++) {
        int64_t j = first + e - lo[l->offset];
        if (bit(le->buffers[0], le->offset + e) == (j % 5 == 2))
            bad++, fprintf(stderr, "element validity %lld\n", (long long)j);
        else if (j % 5 != 2 && ((const int32_t *)le->buffers[1])[le->offset + e] != j * 3)
            bad++, fprintf(stderr, "element value %lld\n", (long long)j);
    }
    CHECK_EQ_INT(bad, 0);
}

static void read_back(const struct sink *s, int64_t want_rows, int want_rgs) {
    struct hoist_pq_reader *r = NULL;
    CHECK_EQ_INT(hoist_pq_reader_open_memory(s->out.data, s->out.len, "written.parquet", 0, &r), HOIST_OK);
    if (!r) {
        fprintf(stderr, "%s\n", hoist_errmsg());
        return;
    }
    const struct hoist_pq_file *f = hoist_pq_reader_file(r);
    CHECK_EQ_INT(hoist_pq_file_num_rows(f), want_rows);
    CHECK_EQ_INT(hoist_pq_file_num_row_groups(f), want_rgs);
    struct ArrowArrayStream st;
    CHECK_EQ_INT(hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &st), HOIST_OK);
    int64_t row = 0;
    for (;;) {
        struct ArrowArray b;
        int rc = st.get_next(&st, &b);
        CHECK_EQ_INT(rc, 0);
        if (rc != 0) {
            fprintf(stderr, "%s\n", st.get_last_error(&st));
            break;
        }
        if (!b.release) break;
        check_batch(&b, row);
        row += b.length;
        b.release(&b);
    }
    CHECK_EQ_INT(row, want_rows);
    st.release(&st);
    hoist_pq_reader_close(r);
}

static void test_roundtrip(void) {
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_schema(&schema);
    make_batch(&batch, N);
    static const struct {
        const char *codec;
        int version, dict, threads;
        int64_t rg_rows, page;
    } cases[] = {{"snappy", 1, 1, 1, 1000, 1 << 20}, {"zstd:5", 2, 1, 3, 700, 512},
                 {"none", 1, 0, 3, 100000, 300},     {"gzip", 2, 0, 1, 2500, 4096},
                 {"lz4_raw", 1, 1, 2, 999, 100},     {"brotli", 2, 1, 2, 1200, 1 << 20}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct hoist_pq_write_options *o = NULL;
        CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_str(o, HOIST_PQW_COMPRESSION, cases[c].codec), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_DATA_PAGE_VERSION, cases[c].version), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_DICTIONARY, cases[c].dict), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_THREADS, cases[c].threads), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_ROW_GROUP_ROWS, cases[c].rg_rows), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_BYTES, cases[c].page), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_CRC, 1), HOIST_OK);
        struct sink s = {{0}, 0};
        hx_status st = write_table(&schema, &batch, o, &s);
        CHECK_EQ_INT(st, HOIST_OK);
        if (st != HOIST_OK) fprintf(stderr, "case %zu: %s\n", c, hoist_errmsg());
        int rgs = (int)((N + cases[c].rg_rows - 1) / cases[c].rg_rows);
        if (st == HOIST_OK) read_back(&s, N, rgs);
        hx_buf_reset(&s.out);
        hoist_pq_write_options_free(o);
    }
    batch.release(&batch);
    schema.release(&schema);
}

/* Same bytes whatever the thread count. */
static void test_threads_identical(void) {
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_schema(&schema);
    make_batch(&batch, N);
    struct sink a = {{0}, 0}, b = {{0}, 0};
    for (int t = 1; t <= 4; t += 3) {
        struct hoist_pq_write_options *o = NULL;
        CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_THREADS, t), HOIST_OK);
        CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_ROW_GROUP_ROWS, 600), HOIST_OK);
        CHECK_EQ_INT(write_table(&schema, &batch, o, t == 1 ? &a : &b), HOIST_OK);
        hoist_pq_write_options_free(o);
    }
    CHECK(a.out.len > 0 && a.out.len == b.out.len && memcmp(a.out.data, b.out.data, a.out.len) == 0);

    /* on a caller's shared pool: the same bytes again */
    struct hx_pool *pool = NULL;
    CHECK_EQ_INT(hx_pool_new(3, &pool), HOIST_OK);
    struct sink c = {{0}, 0};
    struct hoist_pq_write_options *o = NULL;
    CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_ROW_GROUP_ROWS, 600), HOIST_OK);
    struct hoist_pq_writer *w = NULL;
    CHECK_EQ_INT(hoist_pq_writer_new(&schema, o, sink_fn, &c, &w), HOIST_OK);
    hx_pqw_writer_use_pool(w, pool);
    struct ArrowArray half = batch;
    half.length = batch.length / 2;
    struct ArrowArray rest = batch;
    rest.offset = half.length;
    rest.length = batch.length - half.length;
    CHECK_EQ_INT(hoist_pq_writer_write(w, &half), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_writer_write(w, &rest), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_writer_close(w), HOIST_OK);
    hoist_pq_writer_free(w);
    hx_pool_free(pool);
    hoist_pq_write_options_free(o);
    CHECK(c.out.len == a.out.len && memcmp(a.out.data, c.out.data, a.out.len) == 0);
    hx_buf_reset(&c.out);
    hx_buf_reset(&a.out);
    hx_buf_reset(&b.out);
    batch.release(&batch);
    schema.release(&schema);
}

/* Every allocation failed in turn: a clean error each time, and nothing
 * leaks (LSan in the ASan build). */
static void allocation_failures(int threads) {
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_schema(&schema);
    make_batch(&batch, 40);
    struct hoist_pq_write_options *o = NULL;
    CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_THREADS, threads), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_ROW_GROUP_ROWS, 25), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_BYTES, 64), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_bloom_filter(o, "s", 0.05, 100), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_bloom_filter(o, "d", 0.05, 100), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_encoding(o, "v", "byte_stream_split"), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_encoding(o, "l.list.element", "delta_binary_packed"), HOIST_OK);
    int failures = 0, ok_at = 0;
    for (uint64_t k = 1; k < 20000; k++) {
        struct sink s = {{0}, 0};
        hx_alloc_fail_after(k);
        hx_status st = write_table(&schema, &batch, o, &s);
        hx_alloc_fail_after(0);
        hx_buf_reset(&s.out);
        if (st == HOIST_OK) {
            ok_at = (int)k;
            break;
        }
        failures++;
        if (st != HOIST_ERR_NOMEM) {
            fprintf(stderr, "allocation %llu: status %d: %s\n", (unsigned long long)k, st, hoist_errmsg());
            CHECK_EQ_INT(st, HOIST_ERR_NOMEM);
            break;
        }
    }
    CHECK(ok_at > 0);
    CHECK(failures > 50);
    fprintf(stderr, "  %d allocation failures handled (%d threads)\n", failures, threads);
    hoist_pq_write_options_free(o);
    batch.release(&batch);
    schema.release(&schema);
}

/* Tasks on pool threads fail too: their errors reach the caller. */
static void test_allocation_failures(void) {
    allocation_failures(1);
    allocation_failures(2);
}

static void test_sink_stops_and_errors(void) {
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_schema(&schema);
    make_batch(&batch, 300);
    struct sink s = {{0}, 100};
    CHECK_EQ_INT(write_table(&schema, &batch, NULL, &s), HOIST_ERR_CANCELLED);
    CHECK_CONTAINS(hoist_errmsg(), "sink");
    hx_buf_reset(&s.out);

    /* non-nullable id with a null */
    struct ArrowArray *id = batch.children[0];
    uint8_t *valid = buf(id, 0, 64);
    memset(valid, 0xff, 64);
    valid[1] = 0xfe;
    id->null_count = 1;
    struct sink s2 = {{0}, 0};
    CHECK_EQ_INT(write_table(&schema, &batch, NULL, &s2), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "'id' is declared non-nullable");
    hx_buf_reset(&s2.out);

    /* a batch with the wrong number of columns */
    struct hoist_pq_writer *w = NULL;
    CHECK_EQ_INT(hoist_pq_writer_new(&schema, NULL, sink_fn, &s2, &w), HOIST_OK);
    struct ArrowArray narrow = batch;
    narrow.n_children = 3;
    CHECK_EQ_INT(hoist_pq_writer_write(w, &narrow), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "3 columns");
    CHECK_EQ_INT(hoist_pq_writer_close(w), HOIST_ERR_INVALID_ARG); /* failed writers only free */
    hoist_pq_writer_free(w);
    hx_buf_reset(&s2.out);

    /* options: unknown column, bad codec, out-of-range values */
    struct hoist_pq_write_options *o = NULL;
    CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_str(o, HOIST_PQW_COMPRESSION, "lzo"), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_pq_write_options_set_str(o, HOIST_PQW_COMPRESSION, "snappy:3"), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_DATA_PAGE_VERSION, 3), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_encoding(o, "l.list.item", "delta_binary_packed"), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_writer_new(&schema, o, sink_fn, &s2, &w), HOIST_ERR_COLUMN_NOT_FOUND);
    CHECK(w == NULL);
    hoist_pq_write_options_free(o);
    CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_encoding(o, "l.list.element", "delta_binary_packed"), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_column_encoding(o, "s", "byte_stream_split"), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_writer_new(&schema, o, sink_fn, &s2, &w), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "column 's'");
    hoist_pq_write_options_free(o);

    batch.release(&batch);
    schema.release(&schema);
}

/* hoist's own reader uses the page index: pages, their statistics, chunk
 * statistics and decoding row ranges through the OffsetIndex. */
static void test_page_index_read_by_hoist(void) {
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_schema(&schema);
    make_batch(&batch, N);
    struct hoist_pq_write_options *o = NULL;
    CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_ROW_GROUP_ROWS, 1000), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_BYTES, 400), HOIST_OK);
    struct sink s = {{0}, 0};
    CHECK_EQ_INT(write_table(&schema, &batch, o, &s), HOIST_OK);
    struct hoist_pq_reader *r = NULL;
    CHECK_EQ_INT(hoist_pq_reader_open_memory(s.out.data, s.out.len, "pi.parquet", 0, &r), HOIST_OK);
    const struct hoist_pq_file *f = r ? hoist_pq_reader_file(r) : NULL;
    uint64_t off = 0, len = 0;
    if (f) CHECK_EQ_INT(hoist_pq_file_page_index_range(f, &off, &len), HOIST_OK);
    CHECK(len > 0);
    struct hoist_pq_page_index *pi = NULL;
    if (f && len) CHECK_EQ_INT(hoist_pq_page_index_new(f, s.out.data, 0, s.out.len, &pi), HOIST_OK);
    for (int rg = 0; pi && rg < 3; rg++) {
        int64_t rg0 = rg * 1000, rows = rg == 2 ? 500 : 1000;
        const struct hoist_pq_page *pages = NULL;
        size_t np = 0;
        CHECK_EQ_INT(hoist_pq_page_index_pages(pi, rg, 0, &pages, &np), HOIST_OK);
        CHECK(np >= 2); /* 400-byte pages of 10-bit dictionary indices */
        int64_t next = 0;
        for (size_t p = 0; p < np; p++) {
            CHECK_EQ_INT(pages[p].first_row, next);
            CHECK_EQ_INT(pages[p].stats.kind, HOIST_PQ_STAT_INT);
            CHECK_EQ_INT(pages[p].stats.min_i, (rg0 + next) * 1000 - 7);
            CHECK_EQ_INT(pages[p].stats.max_i, (rg0 + next + pages[p].num_rows - 1) * 1000 - 7);
            next += pages[p].num_rows;
        }
        CHECK_EQ_INT(next, rows);
        struct hoist_pq_stats cs;
        CHECK_EQ_INT(hoist_pq_file_field_stats(f, rg, 1, &cs), HOIST_OK);
        CHECK_EQ_INT(cs.kind, HOIST_PQ_STAT_DOUBLE);
        int64_t nulls = 0;
        for (int64_t i = rg0; i < rg0 + rows; i++) nulls += v_null(i);
        CHECK(cs.has_null_count && cs.null_count == nulls);
        CHECK(cs.min_d == (double)(rg0 + (rg0 % 3 == 0)) / 4 - 100);
        /* rows 100..149 and 400..409 of the nested list field through the OffsetIndex */
        struct hoist_pq_row_range want[2] = {{100, 50}, {400, 10}};
        struct hoist_pq_bytes part = {0, s.out.data, s.out.len};
        struct ArrowArray a;
        CHECK_EQ_INT(hoist_pq_decode_field_rows(f, pi, rg, 3, &part, 1, want, 2, 0, &a), HOIST_OK);
        CHECK_EQ_INT(a.length, 60);
        int bad = 0;
        for (int64_t k = 0; k < a.length; k++) {
            int64_t i = rg0 + (k < 50 ? 100 + k : 400 + k - 50);
            const int32_t *lo = a.buffers[1];
            int valid =
                !a.buffers[0] || ((((const uint8_t *)a.buffers[0])[(a.offset + k) >> 3] >> ((a.offset + k) & 7)) & 1);
            if (valid == l_null(i) || (valid && lo[a.offset + k + 1] - lo[a.offset + k] != i % 4)) bad++;
        }
        CHECK_EQ_INT(bad, 0);
        if (a.release) a.release(&a);
    }
    hoist_pq_page_index_free(pi);
    hoist_pq_reader_close(r);
    hx_buf_reset(&s.out);
    hoist_pq_write_options_free(o);
    batch.release(&batch);
    schema.release(&schema);
}

/* Pages of a dictionary built here take their bounds from the distinct
 * entries they use: every page's min/max in the page index equal those of
 * its own rows, over a dictionary of ~40 entries that pages of ~450 values
 * use in part; NaN pages (bounds without NaN), -0.0 and +0.0 (min -0, max
 * +0) and strings (unsigned bytes) included. */
static double pb_double(int64_t i) {
    int64_t blk = i / 1500;
    if (blk == 2 && i % 11 == 0) return NAN;
    if (blk == 4) return i % 2 ? -0.0 : 0.0 + (double)(i % 3);
    if (blk == 5) return i % 2 ? 0.0 : -(double)(i % 5);
    return (double)((i * 7) % 13) * 0.5 + (double)blk;
}
static const char *const pb_words[] = {"a", "b\xc3\xa9", "ab", "zz", "", "m", "\xff", "q0", "q1"};
static const char *pb_word(int64_t i) { return pb_words[(i * 5 + i / 900) % (i / 2000 % 2 ? 9 : 4)]; }

static void test_dictionary_page_bounds(void) {
    enum { ROWS = 12000 };
    struct ArrowSchema schema;
    CHECK_EQ_INT(hx_arrow_schema_init(&schema, "+s", NULL, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(&schema, 2), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema.children[0], "g", "d", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema.children[1], "u", "s", 0), HOIST_OK);
    struct ArrowArray batch;
    CHECK_EQ_INT(hx_arrow_array_init(&batch, ROWS, 1, 2), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_init(batch.children[0], ROWS, 2, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_init(batch.children[1], ROWS, 3, 0), HOIST_OK);
    double *dv = buf(batch.children[0], 1, (size_t)ROWS * 8);
    int32_t *so = buf(batch.children[1], 1, (size_t)(ROWS + 1) * 4);
    char *sd = buf(batch.children[1], 2, (size_t)ROWS * 4);
    for (int64_t i = 0; i < ROWS; i++) {
        dv[i] = pb_double(i);
        size_t l = strlen(pb_word(i));
        memcpy(sd + so[i], pb_word(i), l);
        so[i + 1] = so[i] + (int32_t)l;
    }
    struct hoist_pq_write_options *o = NULL;
    CHECK_EQ_INT(hoist_pq_write_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_BYTES, 400), HOIST_OK);
    struct sink sk = {{0}, 0};
    CHECK_EQ_INT(write_table(&schema, &batch, o, &sk), HOIST_OK);
    struct hoist_pq_reader *r = NULL;
    CHECK_EQ_INT(hoist_pq_reader_open_memory(sk.out.data, sk.out.len, "pb.parquet", 0, &r), HOIST_OK);
    const struct hoist_pq_file *f = r ? hoist_pq_reader_file(r) : NULL;
    struct hoist_pq_page_index *pi = NULL;
    if (f) CHECK_EQ_INT(hoist_pq_page_index_new(f, sk.out.data, 0, sk.out.len, &pi), HOIST_OK);
    size_t pages_seen = 0, bad = 0;
    for (int col = 0; pi && col < 2; col++) {
        const struct hoist_pq_page *pages = NULL;
        size_t np = 0;
        CHECK_EQ_INT(hoist_pq_page_index_pages(pi, 0, col, &pages, &np), HOIST_OK);
        CHECK(np >= 10);
        for (size_t p = 0; p < np; p++, pages_seen++) {
            int64_t r0 = pages[p].first_row, r1 = r0 + pages[p].num_rows;
            if (col == 0) {
                double lo = INFINITY, hi = -INFINITY;
                for (int64_t i = r0; i < r1; i++) {
                    double x = dv[i];
                    if (x < lo || (x == 0 && lo == 0 && signbit(x))) lo = x;
                    if (x > hi || (x == 0 && hi == 0 && !signbit(x))) hi = x;
                }
                if (lo == 0) lo = -0.0;
                if (hi == 0) hi = 0.0;
                const struct hoist_pq_stats *st = &pages[p].stats;
                if (st->kind != HOIST_PQ_STAT_DOUBLE || st->min_d != lo || st->max_d != hi ||
                    signbit(st->min_d) != signbit(lo) || signbit(st->max_d) != signbit(hi))
                    bad++;
            } else {
                const char *lo = NULL, *hi = NULL;
                for (int64_t i = r0; i < r1; i++) {
                    const char *w = pb_word(i);
                    if (!lo || strcmp(w, lo) < 0) lo = w; /* strcmp compares as unsigned char */
                    if (!hi || strcmp(w, hi) > 0) hi = w;
                }
                const struct hoist_pq_stats *st = &pages[p].stats;
                if (st->min_b_len != strlen(lo) || memcmp(st->min_b, lo, st->min_b_len) != 0 ||
                    st->max_b_len != strlen(hi) || memcmp(st->max_b, hi, st->max_b_len) != 0)
                    bad++;
            }
        }
    }
    CHECK(pages_seen >= 20);
    CHECK_EQ_INT(bad, 0);
    hoist_pq_page_index_free(pi);
    hoist_pq_reader_close(r);
    hx_buf_reset(&sk.out);
    hoist_pq_write_options_free(o);
    batch.release(&batch);
    schema.release(&schema);
}

/* Pages are encoded as rows arrive: while a row group fills, the writer
 * holds its encoded pages and at most a page of rows (or the values a
 * dictionary on trial waits for), not a copy of the row group's values
 * (200,000 int64 rows = 1.6 MB raw; 100 distinct values: ~7-bit indices). */
static void test_memory_bounded_by_pages(void) {
    enum { ROWS = 200000, SLICE = 10000 };
    struct ArrowSchema schema;
    CHECK_EQ_INT(hx_arrow_schema_init(&schema, "+s", NULL, 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_alloc_children(&schema, 1), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(schema.children[0], "l", "x", 0), HOIST_OK);
    struct ArrowArray batch;
    CHECK_EQ_INT(hx_arrow_array_init(&batch, ROWS, 1, 1), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_init(batch.children[0], ROWS, 2, 0), HOIST_OK);
    int64_t *x = buf(batch.children[0], 1, (size_t)ROWS * 8);
    for (int64_t i = 0; i < ROWS; i++) x[i] = (i * 7919) % 100;
    struct sink s = {{0}, 0};
    struct hoist_pq_writer *w = NULL;
    CHECK_EQ_INT(hoist_pq_writer_new(&schema, NULL, sink_fn, &s, &w), HOIST_OK);
    uint64_t most = 0;
    for (int64_t r = 0; w && r < ROWS; r += SLICE) {
        struct ArrowArray part = batch;
        part.offset = r;
        part.length = SLICE;
        CHECK_EQ_INT(hoist_pq_writer_write(w, &part), HOIST_OK);
        uint64_t b = hoist_pq_writer_buffered_bytes(w);
        if (b > most) most = b;
    }
    CHECK_EQ_INT(hoist_pq_writer_num_row_groups(w), 0); /* still one open row group */
    CHECK(most < 800000);                               /* values wait for the dictionary's trial (65,536) */
    CHECK_EQ_INT(hoist_pq_writer_close(w), HOIST_OK);
    hoist_pq_writer_free(w);
    struct hoist_pq_reader *rd = NULL;
    CHECK_EQ_INT(hoist_pq_reader_open_memory(s.out.data, s.out.len, "m.parquet", 0, &rd), HOIST_OK);
    if (rd) CHECK_EQ_INT(hoist_pq_file_num_rows(hoist_pq_reader_file(rd)), ROWS);
    hoist_pq_reader_close(rd);
    hx_buf_reset(&s.out);
    batch.release(&batch);
    schema.release(&schema);
}

int main(void) {
    RUN(test_memory_bounded_by_pages);
    RUN(test_page_index_read_by_hoist);
    RUN(test_dictionary_page_bounds);
    RUN(test_roundtrip);
    RUN(test_threads_identical);
    RUN(test_allocation_failures);
    RUN(test_sink_stops_and_errors);
    TEST_MAIN_END();
}
