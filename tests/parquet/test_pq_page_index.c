/* Page index: OffsetIndex/ColumnIndex parsing against parquet-mr files,
 * row-selection decoding against whole-field decoding, files without an
 * index, malformed index bytes and allocation failures (clean errors, no
 * leaks under ASan). Python (tests/parquet/test_page_index.py) checks
 * pyarrow-written files value by value. */
#include "parquet_internal.h"
#include "test_harness.h"

#include <stdio.h>

struct blob {
    uint8_t *data;
    size_t size;
};

static int load(const char *rel, struct blob *b) {
    char *p = hx_asprintf("%s/parquet-testing/data/%s", th_testdata(), rel);
    FILE *fp = p ? fopen(p, "rb") : NULL;
    hx_free(p);
    memset(b, 0, sizeof *b);
    if (!fp) {
        fprintf(stderr, "skip: no %s\n", rel);
        return 0;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    b->data = hx_malloc((size_t)n + 1);
    b->size = fread(b->data, 1, (size_t)n, fp);
    fclose(fp);
    return b->size == (size_t)n;
}

static struct hoist_pq_file *open_file(const struct blob *b, const char *name) {
    struct hoist_pq_file *f = NULL;
    hx_status st = hoist_pq_file_new(b->data, b->size, b->size, name, &f);
    CHECK_EQ_INT(st, HOIST_OK);
    return st == HOIST_OK ? f : NULL;
}

static struct hoist_pq_page_index *open_index(const struct hoist_pq_file *f, const struct blob *b) {
    uint64_t off, len;
    CHECK_EQ_INT(hoist_pq_file_page_index_range(f, &off, &len), HOIST_OK);
    struct hoist_pq_page_index *idx = NULL;
    CHECK_EQ_INT(hoist_pq_page_index_new(f, b->data + off, off, (size_t)len, &idx), HOIST_OK);
    return idx;
}

/* A test file (rel), opened as `name`, and its page index; NULL when the
 * file is missing or either fails (*f and b may still need close_indexed). */
static struct hoist_pq_page_index *open_indexed(const char *rel, const char *name, struct blob *b,
                                                struct hoist_pq_file **f) {
    *f = NULL;
    if (!load(rel, b)) return NULL;
    *f = open_file(b, name);
    return *f ? open_index(*f, b) : NULL;
}

static void close_indexed(struct hoist_pq_page_index *idx, struct hoist_pq_file *f, struct blob *b) {
    hoist_pq_page_index_free(idx);
    hoist_pq_file_free(f);
    hx_free(b->data);
}

/* alltypes_tiny_pages_plain.parquet opened as "tiny.parquet", and where its
 * page index lies; NULL, with nothing to free, when it is missing. */
static struct hoist_pq_file *open_tiny(struct blob *b, uint64_t *off, uint64_t *len) {
    if (!load("alltypes_tiny_pages_plain.parquet", b)) return NULL;
    struct hoist_pq_file *f = open_file(b, "tiny.parquet");
    if (!f) {
        hx_free(b->data);
        return NULL;
    }
    CHECK_EQ_INT(hoist_pq_file_page_index_range(f, off, len), HOIST_OK);
    return f;
}

/* Whether row i of x equals row j of y, for flat primitive and string arrays. */
static int valid_at(const struct ArrowArray *a, int64_t i) {
    const uint8_t *v = a->buffers[0];
    i += a->offset;
    return !v || ((v[i >> 3] >> (i & 7)) & 1);
}

static int same_row(const char *fmt, const struct ArrowArray *x, int64_t i, const struct ArrowArray *y, int64_t j) {
    if (valid_at(x, i) != valid_at(y, j)) return 0;
    if (!valid_at(x, i)) return 1;
    i += x->offset, j += y->offset;
    if (fmt[0] == 'b') {
        const uint8_t *a = x->buffers[1], *b = y->buffers[1];
        return ((a[i >> 3] >> (i & 7)) & 1) == ((b[j >> 3] >> (j & 7)) & 1);
    }
    if (fmt[0] == 'u' || fmt[0] == 'z') {
        const int32_t *oa = x->buffers[1], *ob = y->buffers[1];
        int32_t la = oa[i + 1] - oa[i], lb = ob[j + 1] - ob[j];
        return la == lb &&
               memcmp((const uint8_t *)x->buffers[2] + oa[i], (const uint8_t *)y->buffers[2] + ob[j], (size_t)la) == 0;
    }
    size_t w = fmt[0] == 'i' || fmt[0] == 'f' ? 4 : fmt[0] == 'c' || fmt[0] == 'C' ? 1 : fmt[0] == 's' ? 2 : 8;
    return memcmp((const uint8_t *)x->buffers[1] + w * (size_t)i, (const uint8_t *)y->buffers[1] + w * (size_t)j, w) ==
           0;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next_rand(void) { return th_xorshift(&rng); }

/* Sorted disjoint random ranges of [0, n). */
static size_t random_rows(int64_t n, struct hoist_pq_row_range *out, size_t cap) {
    size_t k = 0;
    int64_t at = 0;
    while (k < cap && n > 0) {
        at += (int64_t)(next_rand() % (uint64_t)(n / 4 + 1));
        if (at >= n) break;
        int64_t c = 1 + (int64_t)(next_rand() % (uint64_t)(n / 8 + 1));
        if (c > n - at) c = n - at;
        out[k++] = (struct hoist_pq_row_range){at, c};
        at += c;
    }
    return k;
}

/* Selections through the index (parts = only the ranges it names) equal the
 * same rows of the whole field. */
static void check_selection(const struct hoist_pq_file *f, const struct hoist_pq_page_index *idx, const struct blob *b,
                            int rg, int field, const struct hoist_pq_row_range *rows, size_t nrows) {
    int64_t n = hoist_pq_file_row_group_num_rows(f, rg);
    struct ArrowArray whole, part;
    struct ArrowSchema schema;
    CHECK_EQ_INT(hoist_pq_file_schema(f, 0, &schema), HOIST_OK);
    const char *fmt = schema.children[field]->format;
    struct hoist_pq_row_range all = {0, n};
    CHECK_EQ_INT(hoist_pq_decode_field_rows(f, NULL, rg, field, &(struct hoist_pq_bytes){0, b->data, b->size}, 1, &all,
                                            1, 0, &whole),
                 HOIST_OK);
    size_t nr = 0;
    CHECK_EQ_INT(hoist_pq_page_index_field_ranges(idx, rg, field, rows, nrows, NULL, 0, &nr), HOIST_OK);
    struct hoist_pq_byte_range *br = hx_calloc(nr + 1, sizeof *br);
    struct hoist_pq_bytes *parts = hx_calloc(nr + 1, sizeof *parts);
    size_t nr2 = 0;
    CHECK_EQ_INT(hoist_pq_page_index_field_ranges(idx, rg, field, rows, nrows, br, nr, &nr2), HOIST_OK);
    CHECK_EQ_INT(nr2, nr);
    for (size_t i = 0; i < nr; i++) {
        /* copies, so a read outside them is an ASan error */
        void *c = hx_malloc((size_t)br[i].length);
        memcpy(c, b->data + br[i].offset, (size_t)br[i].length);
        parts[i] = (struct hoist_pq_bytes){br[i].offset, c, (size_t)br[i].length};
        if (i) CHECK(br[i].offset > br[i - 1].offset + br[i - 1].length);
    }
    hx_status st = hoist_pq_decode_field_rows(f, idx, rg, field, parts, nr, rows, nrows, 0, &part);
    CHECK_EQ_INT(st, HOIST_OK);
    if (st != HOIST_OK) fprintf(stderr, "  %s\n", hoist_errmsg());
    if (st == HOIST_OK) {
        int64_t want = 0, bad = 0;
        for (size_t r = 0; r < nrows; r++) want += rows[r].count;
        CHECK_EQ_INT(part.length, want);
        int64_t j = 0;
        for (size_t r = 0; r < nrows && part.length == want; r++)
            for (int64_t i = 0; i < rows[r].count; i++, j++) bad += !same_row(fmt, &part, j, &whole, rows[r].first + i);
        CHECK_EQ_INT(bad, 0);
        part.release(&part);
    }
    for (size_t i = 0; i < nr; i++) hx_free((void *)parts[i].data);
    hx_free(parts);
    hx_free(br);
    whole.release(&whole);
    schema.release(&schema);
}

static void test_tiny_pages(void) {
    struct blob b;
    struct hoist_pq_file *f;
    struct hoist_pq_page_index *idx = open_indexed("alltypes_tiny_pages_plain.parquet", "tiny.parquet", &b, &f);
    if (!idx) goto out;
    int64_t rows = hoist_pq_file_row_group_num_rows(f, 0);
    int nf = hoist_pq_file_num_fields(f), pages_total = 0, stats_seen = 0;
    for (int field = 0; field < nf; field++) {
        const struct hoist_pq_page *pg;
        size_t np;
        CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 0, field, &pg, &np), HOIST_OK);
        CHECK(np > 1);
        pages_total += (int)np;
        int64_t next = 0;
        for (size_t i = 0; i < np; i++) {
            CHECK_EQ_INT(pg[i].first_row, next);
            next += pg[i].num_rows;
            /* the OffsetIndex points at a data page header of its length */
            struct hx_pq_page_header h;
            size_t hl;
            CHECK_EQ_INT(hx_pq_parse_page_header(b.data + pg[i].offset, b.size - pg[i].offset, &h, &hl), HOIST_OK);
            CHECK(h.type == PQP_DATA || h.type == PQP_DATA_V2);
            CHECK_EQ_INT(hl + (size_t)h.compressed_size, pg[i].length);
            CHECK_EQ_INT(h.num_values, pg[i].num_rows);
            stats_seen += pg[i].stats.kind != HOIST_PQ_STAT_NONE;
        }
        CHECK_EQ_INT(next, rows);
    }
    CHECK(pages_total > 100);
    CHECK(stats_seen > 100);
    /* id (field 0) is 0..n-1 in order in this file: page stats are exact */
    const struct hoist_pq_page *pg;
    size_t np;
    CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 0, 0, &pg, &np), HOIST_OK);
    struct hoist_pq_row_range sel[24];
    for (int field = 0; field < nf; field++) {
        for (int t = 0; t < 4; t++) {
            size_t k = random_rows(rows, sel, 24);
            check_selection(f, idx, &b, 0, field, sel, k);
        }
        /* one row at a page boundary, the last row, nothing */
        struct hoist_pq_row_range edge[2] = {{pg[1].first_row - 1, 2}, {rows - 1, 1}};
        check_selection(f, idx, &b, 0, field, edge, 2);
        check_selection(f, idx, &b, 0, field, edge, 0);
    }
    /* bad arguments */
    struct hoist_pq_row_range bad[2] = {{10, 5}, {12, 1}};
    size_t nout;
    CHECK_EQ_INT(hoist_pq_page_index_field_ranges(idx, 0, 0, bad, 2, NULL, 0, &nout), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 1, 0, &pg, &np), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 0, nf, &pg, &np), HOIST_ERR_INVALID_ARG);
    struct ArrowArray a;
    struct hoist_pq_row_range one = {100, 10};
    struct hoist_pq_bytes tiny = {4, b.data + 4, 16};
    CHECK_EQ_INT(hoist_pq_decode_field_rows(f, idx, 0, 0, &tiny, 1, &one, 1, 0, &a), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "parts do not cover");
    CHECK(a.release == NULL);
out:
    close_indexed(idx, f, &b);
}

static void test_null_pages(void) {
    struct blob b;
    struct hoist_pq_file *f;
    struct hoist_pq_page_index *idx = open_indexed("int32_with_null_pages.parquet", "nullpages.parquet", &b, &f);
    if (idx) {
        const struct hoist_pq_page *pg;
        size_t np;
        int nulls = 0;
        CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 0, 0, &pg, &np), HOIST_OK);
        for (size_t i = 0; i < np; i++) {
            if (pg[i].null_page) {
                nulls++;
                CHECK_EQ_INT(pg[i].stats.kind, HOIST_PQ_STAT_NONE);
                CHECK_EQ_INT(pg[i].stats.null_count, pg[i].num_rows);
                struct hoist_pq_row_range r = {pg[i].first_row, pg[i].num_rows};
                struct ArrowArray a;
                CHECK_EQ_INT(hoist_pq_decode_field_rows(f, idx, 0, 0, &(struct hoist_pq_bytes){0, b.data, b.size}, 1,
                                                        &r, 1, 0, &a),
                             HOIST_OK);
                CHECK_EQ_INT(a.null_count, pg[i].num_rows);
                a.release(&a);
            } else {
                CHECK_EQ_INT(pg[i].stats.kind, HOIST_PQ_STAT_INT);
                CHECK(pg[i].stats.min_i <= pg[i].stats.max_i);
            }
        }
        CHECK(nulls > 0);
    }
    close_indexed(idx, f, &b);
}

/* parquet-mr with statistics off calls every page null with unknown null
 * counts: that ColumnIndex must not be believed. */
static void test_untrusted_null_pages(void) {
    struct blob b;
    struct hoist_pq_file *f;
    struct hoist_pq_page_index *idx =
        open_indexed("datapage_v1-uncompressed-checksum.parquet", "nostats.parquet", &b, &f);
    if (idx) {
        const struct hoist_pq_page *pg;
        size_t np;
        CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 0, 0, &pg, &np), HOIST_OK);
        CHECK(np > 0);
        for (size_t i = 0; i < np; i++) {
            CHECK_EQ_INT(pg[i].null_page, 0);
            CHECK_EQ_INT(pg[i].stats.kind, HOIST_PQ_STAT_NONE);
            CHECK_EQ_INT(pg[i].stats.has_null_count, 0);
        }
    }
    close_indexed(idx, f, &b);
}

static void test_no_index(void) {
    struct blob b;
    if (!load("alltypes_plain.parquet", &b)) return;
    struct hoist_pq_file *f = open_file(&b, "plain.parquet");
    if (!f) goto out;
    uint64_t off = 1, len = 1;
    CHECK_EQ_INT(hoist_pq_file_page_index_range(f, &off, &len), HOIST_OK);
    CHECK_EQ_INT(len, 0);
    struct hoist_pq_page_index *idx = NULL;
    CHECK_EQ_INT(hoist_pq_page_index_new(f, NULL, 0, 0, &idx), HOIST_OK);
    const struct hoist_pq_page *pg = (const void *)1;
    size_t np = 5;
    CHECK_EQ_INT(hoist_pq_page_index_pages(idx, 0, 0, &pg, &np), HOIST_OK);
    CHECK_EQ_INT(np, 0);
    struct hoist_pq_row_range rows[2] = {{1, 2}, {6, 2}};
    for (int field = 0; field < hoist_pq_file_num_fields(f); field++) {
        uint64_t fo, fl;
        CHECK_EQ_INT(hoist_pq_file_field_range(f, 0, field, &fo, &fl), HOIST_OK);
        struct hoist_pq_byte_range br[4];
        size_t nr;
        CHECK_EQ_INT(hoist_pq_page_index_field_ranges(idx, 0, field, rows, 2, br, 4, &nr), HOIST_OK);
        CHECK_EQ_INT(nr, 1);
        CHECK_EQ_INT(br[0].offset, fo);
        CHECK_EQ_INT(br[0].length, fl);
        check_selection(f, idx, &b, 0, field, rows, 2);
    }
    hoist_pq_page_index_free(idx);
out:
    hoist_pq_file_free(f);
    hx_free(b.data);
}

/* Every byte of the page index changed, and every truncation: a clean
 * HOIST_ERR_PARQUET_CORRUPT naming the file, or an index whose decoding is
 * right or fails cleanly. */
static void test_corrupt_index(void) {
    struct blob b;
    uint64_t off, len;
    struct hoist_pq_file *f = open_tiny(&b, &off, &len);
    if (!f) return;
    uint8_t *copy = hx_malloc((size_t)len);
    int bad_status = 0, rejected = 0, accepted = 0;
    int64_t rows = hoist_pq_file_row_group_num_rows(f, 0);
    /* about 3000 positions spread over the whole index (each parse reads all of it) */
    uint64_t stride = len / 1500 + 1;
    for (uint64_t i = 0; i < len; i += 1 + next_rand() % stride) {
        memcpy(copy, b.data + off, (size_t)len);
        copy[i] ^= (uint8_t)(1u << (next_rand() % 8)) | (i & 1 ? 0x80 : 0);
        struct hoist_pq_page_index *idx = NULL;
        hx_status st = hoist_pq_page_index_new(f, copy, off, (size_t)len, &idx);
        if (st != HOIST_OK) {
            rejected++;
            bad_status += st != HOIST_ERR_PARQUET_CORRUPT || !strstr(hoist_errmsg(), "tiny.parquet");
            CHECK(idx == NULL);
            continue;
        }
        accepted++;
        if (i % 7 == 0) {
            struct hoist_pq_row_range sel[6];
            size_t k = random_rows(rows, sel, 6);
            int field = (int)(next_rand() % (uint64_t)hoist_pq_file_num_fields(f));
            struct ArrowArray a;
            st = hoist_pq_decode_field_rows(f, idx, 0, field, &(struct hoist_pq_bytes){0, b.data, b.size}, 1, sel, k, 0,
                                            &a);
            if (st == HOIST_OK)
                a.release(&a);
            else
                bad_status += st != HOIST_ERR_PARQUET_CORRUPT && st != HOIST_ERR_INVALID_ARG;
        }
        hoist_pq_page_index_free(idx);
    }
    CHECK_EQ_INT(bad_status, 0);
    CHECK(rejected > 0);
    CHECK(accepted > 0);
    /* truncated: zeros after the cut */
    for (uint64_t cut = 0; cut < len; cut += len / 64 + 1) {
        memset(copy, 0, (size_t)len);
        memcpy(copy, b.data + off, (size_t)cut);
        struct hoist_pq_page_index *idx = NULL;
        hx_status st = hoist_pq_page_index_new(f, copy, off, (size_t)len, &idx);
        CHECK(st == HOIST_OK || st == HOIST_ERR_PARQUET_CORRUPT);
        if (st != HOIST_OK) CHECK_CONTAINS(hoist_errmsg(), "row group 0, column '");
        hoist_pq_page_index_free(idx);
    }
    /* bytes not covering the range */
    struct hoist_pq_page_index *idx = NULL;
    CHECK_EQ_INT(hoist_pq_page_index_new(f, b.data + off + 1, off + 1, (size_t)len - 1, &idx), HOIST_ERR_INVALID_ARG);
    hx_free(copy);
    hoist_pq_file_free(f);
    hx_free(b.data);
}

/* A footer whose ColumnChunk points the indexes outside the file. */
static void test_bad_footer_offsets(void) {
    struct blob b;
    if (!load("int32_with_null_pages.parquet", &b)) return;
    struct hoist_pq_file *f = open_file(&b, "offsets.parquet");
    if (f) {
        struct hx_pq_chunk *c = &f->row_groups[0].chunks[0];
        int64_t keep = c->column_index_offset;
        c->column_index_offset = (int64_t)b.size - 2;
        uint64_t off, len;
        CHECK_EQ_INT(hoist_pq_file_page_index_range(f, &off, &len), HOIST_ERR_PARQUET_CORRUPT);
        CHECK_CONTAINS(hoist_errmsg(), "offsets.parquet: row group 0, column 'int32_field': column index");
        c->column_index_offset = keep;
        c->offset_index_length = -7;
        CHECK_EQ_INT(hoist_pq_file_page_index_range(f, &off, &len), HOIST_ERR_PARQUET_CORRUPT);
        CHECK_CONTAINS(hoist_errmsg(), "offset index");
        hoist_pq_file_free(f);
    }
    hx_free(b.data);
}

static void test_alloc_failures(void) {
    struct blob b;
    uint64_t off, len;
    struct hoist_pq_file *f = open_tiny(&b, &off, &len);
    if (!f) return;
    struct hoist_pq_row_range sel[3] = {{5, 100}, {3000, 7}, {7000, 300}};
    int succeeded = 0, bad = 0;
    for (uint64_t k = 1; k < 400 && !succeeded; k++) {
        hx_alloc_fail_after(k);
        struct hoist_pq_page_index *idx = NULL;
        hx_status st = hoist_pq_page_index_new(f, b.data + off, off, (size_t)len, &idx);
        for (int field = 0; st == HOIST_OK && field < hoist_pq_file_num_fields(f); field++) {
            struct ArrowArray a;
            st = hoist_pq_decode_field_rows(f, idx, 0, field, &(struct hoist_pq_bytes){0, b.data, b.size}, 1, sel, 3, 0,
                                            &a);
            if (st == HOIST_OK) a.release(&a);
        }
        hx_alloc_fail_after(0);
        hoist_pq_page_index_free(idx);
        if (st == HOIST_OK)
            succeeded = 1;
        else
            bad += st != HOIST_ERR_NOMEM;
    }
    CHECK(succeeded);
    CHECK_EQ_INT(bad, 0);
    hoist_pq_file_free(f);
    hx_free(b.data);
}

int main(void) {
    RUN(test_tiny_pages);
    RUN(test_null_pages);
    RUN(test_untrusted_null_pages);
    RUN(test_no_index);
    RUN(test_corrupt_index);
    RUN(test_bad_footer_offsets);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
