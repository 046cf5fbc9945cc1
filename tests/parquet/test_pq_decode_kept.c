/* Tests for hx_pq_decode_field_kept (src/parquet/pq_reader.c, the kept-rows
 * decoding in pq_column.c/pq_values.c): for every field of every row group
 * of the parquet-testing files, and several masks, the output equals
 * decoding every row and then filtering (hx_arrow_array_filter), value for
 * value. Those files cover PLAIN, dictionary, BYTE_STREAM_SPLIT and DELTA
 * encodings, v1 and v2 pages, nulls, INT96 and decimals. */
#include "parquet_internal.h"
#include "test_harness.h"

#include <dirent.h>
#include <stdlib.h>

static uint8_t *read_whole(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    if (fseek(fp, 0, SEEK_END) != 0) {
        fclose(fp);
        return NULL;
    }
    long n = ftell(fp);
    rewind(fp);
    if (n > (2 << 20)) { /* the big files add time, not coverage */
        fclose(fp);
        return NULL;
    }
    uint8_t *b = n > 0 ? hx_malloc((size_t)n) : NULL;
    *len = b ? fread(b, 1, (size_t)n, fp) : 0;
    fclose(fp);
    return b;
}

static int bit(const struct ArrowArray *a, int64_t i) {
    const uint8_t *v = a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (!v || a->null_count == 0) return 1;
    int64_t j = i + a->offset;
    return (v[j >> 3] >> (j & 7)) & 1;
}

/* Bytes per value of the fixed-width formats the kept-rows decoder makes
 * (0 for the others). */
static size_t fixed_width(const char *f) {
    if (!strcmp(f, "c") || !strcmp(f, "C")) return 1;
    if (!strcmp(f, "s") || !strcmp(f, "S") || !strcmp(f, "e")) return 2;
    if (!strcmp(f, "i") || !strcmp(f, "I") || !strcmp(f, "f") || !strcmp(f, "tdD") || !strcmp(f, "tts") ||
        !strcmp(f, "ttm"))
        return 4;
    if (!strcmp(f, "l") || !strcmp(f, "L") || !strcmp(f, "g") || !strcmp(f, "tdm") || !strncmp(f, "ts", 2) ||
        !strncmp(f, "tD", 2) || !strcmp(f, "ttu") || !strcmp(f, "ttn"))
        return 8;
    if (!strncmp(f, "d:", 2)) {
        const char *c = strrchr(f, ',');
        int n = 0;
        for (const char *p = f; *p; p++) n += *p == ',';
        return n == 2 && c ? (size_t)atoi(c + 1) / 8 : 16;
    }
    return 0;
}

/* Value-for-value equality of two arrays of a fixed-width type (nulls'
 * slots are not compared); other types: equal lengths only (they take the
 * decode-then-filter path, the filter's own tests cover it). */
static int same(const struct ArrowArray *x, const struct ArrowArray *y, const struct ArrowSchema *schema) {
    if (x->length != y->length) return 0;
    size_t w = schema->dictionary ? 0 : fixed_width(schema->format);
    if (w == 0 || x->n_buffers != 2 || y->n_buffers != 2) return 1;
    for (int64_t i = 0; i < x->length; i++) {
        int vx = bit(x, i), vy = bit(y, i);
        if (vx != vy) return 0;
        if (vx && memcmp((const uint8_t *)x->buffers[1] + (size_t)(x->offset + i) * w,
                         (const uint8_t *)y->buffers[1] + (size_t)(y->offset + i) * w, w) != 0)
            return 0;
    }
    return 1;
}

/* Masks: none kept, all kept, ~30 % at random, and runs of 1..64 rows. */
static int64_t make_mask(int kind, uint8_t *keep, int64_t n, uint64_t *rng) {
    int64_t k = 0;
    for (int64_t i = 0; i < n;) {
        if (kind == 3) {
            int64_t run = (int64_t)(th_xorshift(rng) % 64) + 1;
            uint8_t v = (uint8_t)(th_xorshift(rng) & 1);
            for (int64_t j = 0; j < run && i < n; j++, i++) k += keep[i] = v;
            continue;
        }
        keep[i] = kind == 0 ? 0 : kind == 1 ? 1 : (uint8_t)(th_xorshift(rng) % 10 < 3);
        k += keep[i++];
    }
    return k;
}

static int checked_fields, kept_paths;

static void check_file(const char *path) {
    size_t len = 0;
    uint8_t *b = read_whole(path, &len);
    struct hoist_pq_file *f = NULL;
    if (!b || hoist_pq_file_new(b, len, len, path, &f) != HOIST_OK) {
        hx_free(b);
        return; /* not a file the reader takes (encrypted, corrupt on purpose, ...) */
    }
    struct ArrowSchema schema;
    if (hoist_pq_file_schema(f, 0, &schema) != HOIST_OK) {
        hoist_pq_file_free(f);
        hx_free(b);
        return;
    }
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int rg = 0; rg < hoist_pq_file_num_row_groups(f); rg++) {
        int64_t rows = hoist_pq_file_row_group_num_rows(f, rg);
        uint8_t *keep = hx_malloc(rows > 0 ? (size_t)rows : 1);
        for (int field = 0; field < hoist_pq_file_num_fields(f); field++) {
            struct ArrowArray all;
            if (hoist_pq_decode_field(f, rg, field, b, 0, len, 0, &all) != HOIST_OK) continue; /* unsupported */
            all.release(&all);
            const struct hx_pq_anode *a = &f->root.children[field];
            if (a->kind == AN_LEAF && f->leaves[a->leaf].max_rep == 0 && hx_pq_leaf_keepable(f, a)) kept_paths++;
            for (int kind = 0; kind < 4; kind++) {
                int64_t kept = make_mask(kind, keep, rows, &rng);
                struct ArrowArray full, want, got;
                CHECK_EQ_INT(hoist_pq_decode_field(f, rg, field, b, 0, len, 0, &full), HOIST_OK);
                CHECK_EQ_INT(hx_arrow_array_filter(&full, schema.children[field], keep, kept, &want), HOIST_OK);
                hx_status st = hx_pq_decode_field_kept(f, rg, field, b, 0, len, 0, keep, kept, &got);
                if (st != HOIST_OK) fprintf(stderr, "%s rg %d field %d: %s\n", path, rg, field, hoist_errmsg());
                CHECK_EQ_INT(st, HOIST_OK);
                if (st != HOIST_OK) {
                    want.release(&want);
                    continue;
                }
                int ok = same(&want, &got, schema.children[field]);
                if (!ok) fprintf(stderr, "%s rg %d field %d mask %d: differs\n", path, rg, field, kind);
                CHECK(ok);
                want.release(&want);
                got.release(&got);
            }
            checked_fields++;
        }
        hx_free(keep);
    }
    schema.release(&schema);
    hoist_pq_file_free(f);
    hx_free(b);
}

static void test_equals_decode_then_filter(void) {
    char *dir = hx_asprintf("%s/parquet-testing/data", th_testdata());
    DIR *d = opendir(dir);
    if (!d) {
        hx_free(dir);
        fprintf(stderr, "skip: no parquet-testing data\n");
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 9 || strcmp(e->d_name + n - 8, ".parquet") != 0) continue;
        if (!strncmp(e->d_name, "large_", 6)) continue; /* decompress to GiBs: time, not coverage */
        char *p = hx_asprintf("%s/%s", dir, e->d_name);
        check_file(p);
        hx_free(p);
    }
    closedir(d);
    hx_free(dir);
    /* the kept-rows decoder itself ran, on many columns */
    CHECK(kept_paths > 20);
    CHECK(checked_fields > 100);
}

/* A mask whose count disagrees with its bytes is caught, not trusted. */
static void test_wrong_count(void) {
    char *p = hx_asprintf("%s/parquet-testing/data/alltypes_plain.parquet", th_testdata());
    size_t len = 0;
    uint8_t *b = read_whole(p, &len);
    hx_free(p);
    if (!b) {
        fprintf(stderr, "skip: no parquet-testing data\n");
        return;
    }
    struct hoist_pq_file *f = NULL;
    CHECK_EQ_INT(hoist_pq_file_new(b, len, len, "alltypes_plain", &f), HOIST_OK);
    int id = hoist_pq_file_field_index(f, "id");
    uint8_t keep[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    struct ArrowArray out;
    CHECK_EQ_INT(hx_pq_decode_field_kept(f, 0, id, b, 0, len, 0, keep, 3, &out), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_EQ_INT(hx_pq_decode_field_kept(f, 0, id, b, 0, len, 0, keep, 4, &out), HOIST_OK);
    CHECK_EQ_INT(out.length, 4);
    const int32_t *v = out.buffers[1];
    /* ids of alltypes_plain's rows 0, 2, 4, 6 */
    CHECK_EQ_INT(v[0], 4);
    CHECK_EQ_INT(v[1], 6);
    CHECK_EQ_INT(v[2], 2);
    CHECK_EQ_INT(v[3], 0);
    out.release(&out);
    hoist_pq_file_free(f);
    hx_free(b);
}

int main(void) {
    RUN(test_equals_decode_then_filter);
    RUN(test_wrong_count);
    TEST_MAIN_END();
}
