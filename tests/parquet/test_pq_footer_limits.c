/* Hostile footers (pq_meta.c, pq_thrift.c): counts that the bytes cannot
 * hold, lists and strings past the Thrift limits, footers past the size cap
 * and column chunks without metadata are refused before the memory they
 * would take is allocated. Footers are written here with a small Thrift
 * compact encoder; an allocator hook measures the peak of live bytes. */
#include "parquet_internal.h"
#include "test_harness.h"

#include <stdlib.h>
#include <string.h>

/* ---- peak memory through hoist's allocator hooks ----------------------- */

static size_t live, peak;

static void *t_malloc(size_t n) {
    size_t *p = malloc(n + 16);
    if (!p) return NULL;
    p[0] = n;
    live += n;
    if (live > peak) peak = live;
    return (char *)p + 16;
}
static void *t_calloc(size_t c, size_t n) {
    if (n && c > SIZE_MAX / n) return NULL;
    void *p = t_malloc(c * n);
    if (p) memset(p, 0, c * n);
    return p;
}
static void t_free(void *p) {
    if (!p) return;
    size_t *h = (size_t *)((char *)p - 16);
    live -= h[0];
    free(h);
}
static void *t_realloc(void *p, size_t n) {
    if (!p) return t_malloc(n);
    size_t *h = (size_t *)((char *)p - 16);
    size_t old = h[0];
    size_t *q = realloc(h, n + 16);
    if (!q) return NULL;
    q[0] = n;
    live = live - old + n;
    if (live > peak) peak = live;
    return (char *)q + 16;
}
static const struct hoist_allocator counting = {t_malloc, t_calloc, t_realloc, t_free};

/* ---- a Thrift compact writer -------------------------------------------- */

struct w {
    uint8_t *b;
    size_t n, cap;
};

static void put(struct w *w, uint8_t c) {
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->b = realloc(w->b, w->cap);
    }
    w->b[w->n++] = c;
}
static void varint(struct w *w, uint64_t v) {
    while (v >= 0x80) {
        put(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put(w, (uint8_t)v);
}
static void field(struct w *w, int delta, int type) { put(w, (uint8_t)(delta << 4 | type)); }
static void i64f(struct w *w, int delta, int64_t v) {
    field(w, delta, HX_TC_I64);
    varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
static void i32f(struct w *w, int delta, int32_t v) {
    field(w, delta, HX_TC_I32);
    varint(w, ((uint64_t)(int64_t)v << 1) ^ (uint64_t)((int64_t)v >> 63));
}
static void list_header(struct w *w, uint64_t n, int elem) {
    if (n < 15) {
        put(w, (uint8_t)(n << 4 | (uint64_t)elem));
    } else {
        put(w, (uint8_t)(0xf0 | elem));
        varint(w, n);
    }
}

/* FileMetaData: version, a schema of `leaves` INT64 columns, num_rows; the
 * caller appends field 4 (row groups) and the stop byte. */
static void meta_begin(struct w *w, int leaves) {
    i32f(w, 1, 1);
    field(w, 1, HX_TC_LIST);
    list_header(w, (uint64_t)leaves + 1, HX_TC_STRUCT);
    field(w, 5, HX_TC_I32); /* root: num_children (field 5) */
    varint(w, (uint64_t)leaves << 1);
    put(w, 0);
    for (int i = 0; i < leaves; i++) {
        i32f(w, 1, PQT_INT64); /* type */
        put(w, 0);
    }
    i64f(w, 1, 1); /* num_rows (field 3) */
}

/* A minimal valid column chunk for an INT64 leaf. */
static void chunk(struct w *w) {
    field(w, 3, HX_TC_STRUCT); /* meta_data */
    i32f(w, 1, PQT_INT64);
    i32f(w, 3, 0);  /* codec (4) */
    i64f(w, 1, 1);  /* num_values (5) */
    i64f(w, 1, 10); /* total_uncompressed (6) */
    i64f(w, 1, 10); /* total_compressed (7) */
    i64f(w, 2, 4);  /* data_page_offset (9) */
    put(w, 0);
    put(w, 0);
}

/* Opens footer bytes as the tail of a file: footer + length + PAR1. */
static hx_status open_footer(struct w *w, struct hoist_pq_file **f) {
    uint32_t len = (uint32_t)w->n;
    size_t total = w->n + 8;
    uint8_t *tail = malloc(total);
    memcpy(tail, w->b, w->n);
    memcpy(tail + w->n, &len, 4);
    memcpy(tail + w->n + 4, "PAR1", 4);
    live = peak = 0;
    hoist_allocator_set(&counting);
    hx_status st = hoist_pq_file_new(tail, total, total + 4, "hostile.parquet", f);
    if (st == HOIST_OK) hoist_pq_file_free(*f);
    *f = NULL;
    hoist_allocator_set(NULL);
    free(tail);
    return st;
}

static void test_valid_small_footer(void) {
    struct w w = {0};
    meta_begin(&w, 3);
    field(&w, 1, HX_TC_LIST); /* row groups (4) */
    list_header(&w, 2, HX_TC_STRUCT);
    for (int rg = 0; rg < 2; rg++) {
        field(&w, 1, HX_TC_LIST);
        list_header(&w, 3, HX_TC_STRUCT);
        for (int c = 0; c < 3; c++) chunk(&w);
        i64f(&w, 2, 1); /* num_rows (3) */
        put(&w, 0);
    }
    put(&w, 0);
    struct hoist_pq_file *f = NULL;
    hx_status st = open_footer(&w, &f);
    if (st != HOIST_OK) fprintf(stderr, "%s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    free(w.b);
}

/* A schema list claiming 3M one-byte elements (3 MB of footer): refused by
 * the container limit before 3M elements are allocated. */
static void test_huge_schema_list(void) {
    struct w w = {0};
    i32f(&w, 1, 1);
    field(&w, 1, HX_TC_LIST);
    size_t n = 3000000;
    list_header(&w, n, HX_TC_STRUCT);
    for (size_t i = 0; i < n; i++) put(&w, 0);
    put(&w, 0);
    struct hoist_pq_file *f = NULL;
    CHECK_EQ_INT(open_footer(&w, &f), HOIST_ERR_PARQUET_UNSUPPORTED);
    CHECK_CONTAINS(hoist_errmsg(), "hostile.parquet");
    CHECK_CONTAINS(hoist_errmsg(), "exceeds the limit of 1000000");
    /* the footer's own copy, and nothing in proportion to the claim */
    CHECK(peak < w.n + (1u << 20));
    free(w.b);
}

/* 100,000 leaves and row groups of 100,000 one-byte (empty) column chunks. */
static void write_empty_chunks(struct w *w, int leaves, int rgs) {
    meta_begin(w, leaves);
    field(w, 1, HX_TC_LIST);
    list_header(w, (uint64_t)rgs, HX_TC_STRUCT);
    for (int rg = 0; rg < rgs; rg++) {
        field(w, 1, HX_TC_LIST);
        list_header(w, (uint64_t)leaves, HX_TC_STRUCT);
        for (int c = 0; c < leaves; c++) put(w, 0);
        i64f(w, 2, 1);
        put(w, 0);
    }
    put(w, 0);
}

static void test_empty_chunks(void) {
    int leaves = 100000;
    size_t schema = (size_t)(leaves + 1) * (sizeof(struct hx_pq_element) + sizeof(struct hx_pq_leaf));
    size_t chunks = (size_t)leaves * sizeof(struct hx_pq_chunk); /* one row group's */
    /* One row group: 100 KB cannot hold 100,000 valid chunks (15 bytes
     * each at least), so their 18 MB is never allocated. */
    struct w w = {0};
    write_empty_chunks(&w, leaves, 1);
    struct hoist_pq_file *f = NULL;
    CHECK_EQ_INT(open_footer(&w, &f), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "overruns the data");
    CHECK(peak < w.n + schema + (1u << 20));
    CHECK(peak < chunks);
    free(w.b);
    /* 30 row groups (3 MB): the bytes could hold the first list, so its
     * chunks are allocated, but the first empty chunk fails it; the other
     * 29 (over 500 MB) used to be allocated before any chunk was checked. */
    memset(&w, 0, sizeof w);
    write_empty_chunks(&w, leaves, 30);
    CHECK_EQ_INT(open_footer(&w, &f), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "row group 0: column 0: no column metadata");
    CHECK(peak < w.n + schema + chunks + (1u << 20));
    free(w.b);

    /* The chunk count fits the bytes, but the chunks are empty: the first
     * one fails, before the next row group allocates. */
    memset(&w, 0, sizeof w);
    leaves = 1000;
    meta_begin(&w, leaves);
    field(&w, 1, HX_TC_LIST);
    list_header(&w, 2, HX_TC_STRUCT);
    field(&w, 1, HX_TC_LIST);
    list_header(&w, (uint64_t)leaves, HX_TC_STRUCT);
    for (int c = 0; c < leaves * 20; c++) put(&w, 0);
    CHECK_EQ_INT(open_footer(&w, &f), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "row group 0: column 0: no column metadata");
    free(w.b);

    /* metadata without its required fields */
    memset(&w, 0, sizeof w);
    meta_begin(&w, 1);
    field(&w, 1, HX_TC_LIST);
    list_header(&w, 1, HX_TC_STRUCT);
    field(&w, 1, HX_TC_LIST);
    list_header(&w, 1, HX_TC_STRUCT);
    field(&w, 3, HX_TC_STRUCT);
    i32f(&w, 1, PQT_INT64);
    put(&w, 0);
    for (int c = 0; c < 20; c++) put(&w, 0);
    CHECK_EQ_INT(open_footer(&w, &f), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "lacks required fields");
    free(w.b);
}

/* Limits checked on the header alone: the data behind it is never read, so
 * zero pages from calloc stand in for 100 MB of it. */
static void test_thrift_limits(void) {
    size_t big = HX_TC_MAX_STRING + 64;
    uint8_t *buf = calloc(1, big);
    struct w w = {0};
    varint(&w, HX_TC_MAX_STRING + 1);
    memcpy(buf, w.b, w.n);
    struct hx_tc tc;
    hx_tc_init(&tc, buf, big);
    const uint8_t *d;
    size_t len;
    CHECK_EQ_INT(hx_tc_binary(&tc, &d, &len), HOIST_ERR_PARQUET_UNSUPPORTED);
    CHECK_CONTAINS(hoist_errmsg(), "exceeds the limit of 100000000");
    /* the limit itself is fine */
    w.n = 0;
    varint(&w, HX_TC_MAX_STRING);
    memcpy(buf, w.b, w.n);
    hx_tc_init(&tc, buf, big);
    CHECK_EQ_INT(hx_tc_binary(&tc, &d, &len), HOIST_OK);
    CHECK_EQ_INT(len, HX_TC_MAX_STRING);

    w.n = 0;
    list_header(&w, HX_TC_MAX_CONTAINER + 1, HX_TC_I8);
    memcpy(buf, w.b, w.n);
    hx_tc_init(&tc, buf, big);
    int et;
    uint32_t n;
    CHECK_EQ_INT(hx_tc_list(&tc, &et, &n), HOIST_ERR_PARQUET_UNSUPPORTED);
    hx_tc_init(&tc, buf, big);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_LIST), HOIST_ERR_PARQUET_UNSUPPORTED);
    w.n = 0;
    varint(&w, HX_TC_MAX_CONTAINER + 1);
    put(&w, HX_TC_I8 << 4 | HX_TC_I8);
    memcpy(buf, w.b, w.n);
    hx_tc_init(&tc, buf, big);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_MAP), HOIST_ERR_PARQUET_UNSUPPORTED);
    /* a list whose elements cannot fit is corrupt, whatever the limit */
    w.n = 0;
    list_header(&w, 1000, HX_TC_STRUCT);
    memcpy(buf, w.b, w.n);
    hx_tc_init(&tc, buf, w.n + 999);
    CHECK_EQ_INT(hx_tc_list_sized(&tc, &et, &n, 1), HOIST_ERR_PARQUET_CORRUPT);
    hx_tc_init(&tc, buf, w.n + 1000);
    CHECK_EQ_INT(hx_tc_list_sized(&tc, &et, &n, 1), HOIST_OK);
    hx_tc_init(&tc, buf, w.n + 999 * 15);
    CHECK_EQ_INT(hx_tc_list_sized(&tc, &et, &n, 15), HOIST_ERR_PARQUET_CORRUPT);
    hx_tc_init(&tc, buf, w.n + 1000 * 15);
    CHECK_EQ_INT(hx_tc_list_sized(&tc, &et, &n, 15), HOIST_OK);
    free(buf);
    free(w.b);

    /* the whole footer: refused on its length before a byte is parsed */
    struct hoist_pq_file *f = calloc(1, sizeof *f);
    uint8_t small[16] = {0};
    CHECK_EQ_INT(hx_pq_parse_footer(f, small, (size_t)HX_PQ_MAX_FOOTER_BYTES + 1), HOIST_ERR_PARQUET_UNSUPPORTED);
    CHECK_CONTAINS(hoist_errmsg(), "exceeds the limit of 256 MiB");
    free(f);
}

int main(void) {
    RUN(test_valid_small_footer);
    RUN(test_huge_schema_list);
    RUN(test_empty_chunks);
    RUN(test_thrift_limits);
    TEST_MAIN_END();
}
