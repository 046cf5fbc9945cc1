/* Parquet reader: Thrift decoder (incl. malformed input), footers, schema
 * mapping, nesting, and every test-data file read without a crash. */
#include "parquet_internal.h"
#include "test_harness.h"

#include <dirent.h>
#include <sys/stat.h>

/* ---- Thrift ---------------------------------------------------------------- */

static void test_thrift_fields(void) {
    /* struct { 1: i32 = -3, 3: binary "ab", 20 (long form): i64 = 300, 4: bool true, stop } */
    const uint8_t d[] = {0x15, 0x05, 0x28, 0x02, 'a', 'b', 0x06, 0x28, 0xd8, 0x04, 0x11, 0x00};
    struct hx_tc tc;
    hx_tc_init(&tc, d, sizeof d);
    int16_t last, id;
    int t;
    CHECK_EQ_INT(hx_tc_struct_begin(&tc, &last), HOIST_OK);
    CHECK_EQ_INT(hx_tc_field(&tc, &last, &t, &id), HOIST_OK);
    CHECK_EQ_INT(id, 1);
    CHECK_EQ_INT(t, HX_TC_I32);
    int32_t v;
    CHECK_EQ_INT(hx_tc_i32(&tc, &v), HOIST_OK);
    CHECK_EQ_INT(v, -3);
    CHECK_EQ_INT(hx_tc_field(&tc, &last, &t, &id), HOIST_OK);
    CHECK_EQ_INT(id, 3);
    const uint8_t *b;
    size_t bl;
    CHECK_EQ_INT(hx_tc_binary(&tc, &b, &bl), HOIST_OK);
    CHECK_EQ_INT(bl, 2);
    CHECK_EQ_INT(hx_tc_field(&tc, &last, &t, &id), HOIST_OK);
    CHECK_EQ_INT(id, 20);
    int64_t v64;
    CHECK_EQ_INT(hx_tc_i64(&tc, &v64), HOIST_OK);
    CHECK_EQ_INT(v64, 300);
    CHECK_EQ_INT(hx_tc_field(&tc, &last, &t, &id), HOIST_OK);
    CHECK_EQ_INT(id, 21);
    CHECK_EQ_INT(t, HX_TC_TRUE);
    CHECK_EQ_INT(hx_tc_field(&tc, &last, &t, &id), HOIST_OK);
    CHECK_EQ_INT(t, HX_TC_STOP);
    hx_tc_struct_end(&tc);
    CHECK(tc.p == tc.end);
}

static void test_thrift_skip_and_malformed(void) {
    /* list<struct{1: map<i32,binary>{1:"x"}, 2: list<bool>[t,f], 3: double}> */
    const uint8_t d[] = {0x1c, 0x1b, 0x01, 0x58, 0x02, 0x01, 'x', 0x19, 0x21, 0x01, 0x02,
                         0x17, 0,    0,    0,    0,    0,    0,   0xf0, 0x3f, 0x00};
    struct hx_tc tc;
    hx_tc_init(&tc, d, sizeof d);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_LIST), HOIST_OK);
    CHECK(tc.p == tc.end);
    /* every truncation is an error, never a read past the end */
    for (size_t n = 0; n < sizeof d; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, d, n);
        hx_tc_init(&tc, copy, n);
        CHECK(hx_tc_skip(&tc, HX_TC_LIST) != HOIST_OK);
        free(copy);
    }
    /* a list claiming more elements than bytes */
    const uint8_t big[] = {0xf5, 0xff, 0xff, 0xff, 0xff, 0x07};
    hx_tc_init(&tc, big, sizeof big);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_LIST), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "overruns");
    /* nesting beyond the depth limit */
    uint8_t deep[200];
    for (int i = 0; i < 199; i++) deep[i] = 0x1c; /* field 1, struct */
    deep[199] = 0;
    hx_tc_init(&tc, deep, sizeof deep);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_STRUCT), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "deeper");
    /* an over-long varint */
    const uint8_t lv[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    hx_tc_init(&tc, lv, sizeof lv);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_STRUCT), HOIST_ERR_PARQUET_CORRUPT);
    /* a bad type nibble */
    const uint8_t bt[] = {0x1e, 0x00};
    hx_tc_init(&tc, bt, sizeof bt);
    CHECK_EQ_INT(hx_tc_skip(&tc, HX_TC_STRUCT), HOIST_ERR_PARQUET_CORRUPT);
}

static void test_page_header(void) {
    /* PageHeader{1: DATA_PAGE(0), 2: 10, 3: 8, 4: crc 5, 5: DataPageHeader{1: 3, 2: PLAIN, 3: RLE, 4: RLE}} */
    const uint8_t d[] = {0x15, 0x00, 0x15, 0x14, 0x15, 0x10, 0x15, 0x0a, 0x1c, 0x15,
                         0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00};
    struct hx_pq_page_header h;
    size_t hl;
    CHECK_EQ_INT(hx_pq_parse_page_header(d, sizeof d, &h, &hl), HOIST_OK);
    CHECK_EQ_INT(hl, sizeof d);
    CHECK_EQ_INT(h.type, PQP_DATA);
    CHECK_EQ_INT(h.uncompressed_size, 10);
    CHECK_EQ_INT(h.compressed_size, 8);
    CHECK(h.has_crc && h.crc == 5);
    CHECK_EQ_INT(h.num_values, 3);
    CHECK_EQ_INT(h.def_encoding, PQE_RLE);
    CHECK_EQ_INT(hx_pq_parse_page_header(d, 5, &h, &hl), HOIST_ERR_PARQUET_CORRUPT);
    const uint8_t nosize[] = {0x15, 0x00, 0x00};
    CHECK_EQ_INT(hx_pq_parse_page_header(nosize, sizeof nosize, &h, &hl), HOIST_ERR_PARQUET_CORRUPT);
    CHECK_CONTAINS(hoist_errmsg(), "sizes");
}

static void test_footer_errors(void) {
    uint64_t fs;
    const uint8_t notpq[16] = "hello world 1234";
    CHECK_EQ_INT(hoist_pq_footer_size(notpq, 16, 16, "x.parquet", &fs), HOIST_ERR_PARQUET_NOT_PARQUET);
    CHECK_CONTAINS(hoist_errmsg(), "x.parquet");
    uint8_t enc[16] = {0};
    memcpy(enc + 12, "PARE", 4);
    CHECK_EQ_INT(hoist_pq_footer_size(enc, 16, 16, "e.parquet", &fs), HOIST_ERR_PARQUET_ENCRYPTED);
    CHECK_CONTAINS(hoist_errmsg(), "encrypted Parquet is not supported");
    uint8_t big[16] = {0};
    memcpy(big + 12, "PAR1", 4);
    big[8] = 0xff;
    CHECK_EQ_INT(hoist_pq_footer_size(big, 16, 16, "b.parquet", &fs), HOIST_ERR_PARQUET_CORRUPT);
    struct hoist_pq_reader *r = (void *)1;
    CHECK_EQ_INT(hoist_pq_reader_open_memory(notpq, 4, "tiny", 0, &r), HOIST_ERR_PARQUET_NOT_PARQUET);
    CHECK(r == NULL);
    CHECK_EQ_INT(hoist_pq_reader_open_file("/nonexistent/x.parquet", 0, &r), HOIST_ERR_NOT_FOUND);
    /* a garbage footer */
    uint8_t g[64];
    memcpy(g, "PAR1", 4);
    for (int i = 4; i < 56; i++) g[i] = (uint8_t)(i * 37);
    uint32_t len = 52;
    memcpy(g + 56, &len, 4);
    memcpy(g + 60, "PAR1", 4);
    {
        hx_status st = hoist_pq_reader_open_memory(g, sizeof g, "garbage", 0, &r);
        CHECK(st == HOIST_ERR_PARQUET_CORRUPT || st == HOIST_ERR_PARQUET_UNSUPPORTED);
        CHECK_CONTAINS(hoist_errmsg(), "garbage");
    }
}

static char *path_of(const char *rel) { return hx_asprintf("%s/%s", th_testdata(), rel); }

static void test_schema_mapping(void) {
    char *p = path_of("parquet-testing/data/alltypes_plain.parquet");
    struct hoist_pq_reader *r;
    if (hoist_pq_reader_open_file(p, 0, &r) != HOIST_OK) {
        fprintf(stderr, "skip schema mapping: %s\n", hoist_errmsg());
        hx_free(p);
        return;
    }
    const struct hoist_pq_file *f = hoist_pq_reader_file(r);
    CHECK_EQ_INT(hoist_pq_file_num_rows(f), 8);
    CHECK_EQ_INT(hoist_pq_file_num_fields(f), 11);
    struct ArrowSchema s;
    CHECK_EQ_INT(hoist_pq_file_schema(f, 0, &s), HOIST_OK);
    const char *want[][2] = {
        {"id", "i"},        {"bool_col", "b"},   {"tinyint_col", "i"},     {"bigint_col", "l"},
        {"float_col", "f"}, {"double_col", "g"}, {"date_string_col", "z"}, {"timestamp_col", "tsn:"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int k = hoist_pq_file_field_index(f, want[i][0]);
        CHECK(k >= 0);
        if (k >= 0) CHECK_STR(s.children[k]->format, want[i][1]);
    }
    CHECK_EQ_INT(hoist_pq_file_field_index(f, "nope"), -1);
    s.release(&s);
    struct ArrowArrayStream st;
    const char *cols[] = {"nope"};
    CHECK_EQ_INT(hoist_pq_reader_stream(r, cols, 1, NULL, 0, 1, &st), HOIST_ERR_COLUMN_NOT_FOUND);
    CHECK_CONTAINS(hoist_errmsg(), "nope");
    /* stats: id is INT32 without column orders -> deprecated min/max usable (signed) or none */
    struct hoist_pq_stats stt;
    CHECK_EQ_INT(hoist_pq_file_field_stats(f, 0, 0, &stt), HOIST_OK);
    CHECK(stt.kind == HOIST_PQ_STAT_NONE || stt.kind == HOIST_PQ_STAT_INT);
    hoist_pq_reader_close(r);
    hx_free(p);
}

/* list<list<list<string>>> and map<string, map<int,bool>> formats and shapes */
static void test_nesting(void) {
    struct {
        const char *file, *field, *format;
        int64_t rows;
    } cases[] = {
        {"parquet-testing/data/nested_lists.snappy.parquet", "a", "+l", 3},
        {"parquet-testing/data/nested_maps.snappy.parquet", "a", "+m", 6},
        {"parquet-testing/data/old_list_structure.parquet", "a", "+l", 1},
        {"parquet-testing/data/repeated_no_annotation.parquet", "phoneNumbers", "+s", 6},
        {"parquet-testing/data/null_list.parquet", "emptylist", "+l", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = path_of(cases[i].file);
        struct hoist_pq_reader *r;
        if (hoist_pq_reader_open_file(p, 0, &r) != HOIST_OK) {
            fprintf(stderr, "skip %s: %s\n", cases[i].file, hoist_errmsg());
            hx_free(p);
            continue;
        }
        const struct hoist_pq_file *f = hoist_pq_reader_file(r);
        int k = hoist_pq_file_field_index(f, cases[i].field);
        CHECK(k >= 0);
        struct ArrowArrayStream st;
        CHECK_EQ_INT(hoist_pq_reader_stream(r, &cases[i].field, 1, NULL, 0, 1, &st), HOIST_OK);
        hoist_pq_reader_close(r); /* the stream outlives the reader */
        struct ArrowSchema s;
        CHECK_EQ_INT(st.get_schema(&st, &s), 0);
        CHECK_STR(s.children[0]->format, cases[i].format);
        s.release(&s);
        struct ArrowArray a;
        int64_t rows = 0;
        while (st.get_next(&st, &a) == 0 && a.release) {
            rows += a.length;
            CHECK_EQ_INT(a.n_children, 1);
            CHECK_EQ_INT(a.children[0]->length, a.length);
            a.release(&a);
        }
        CHECK_EQ_INT(rows, cases[i].rows);
        st.release(&st);
        hx_free(p);
    }
}

/* Reads a file fully through the stream, then again field by field through
 * hoist_pq_decode_field with only the field's bytes in an exact-size buffer
 * (so ASan catches any read outside the range). */
static int read_whole(const char *path, unsigned threads) {
    struct hoist_pq_reader *r;
    hx_status st = hoist_pq_reader_open_file(path, 0, &r);
    if (st != HOIST_OK) {
        CHECK(hoist_errmsg()[0] != '\0');
        return 0;
    }
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_pq_reader_stream(r, NULL, 0, NULL, 0, threads, &s), HOIST_OK);
    struct ArrowSchema sc;
    CHECK_EQ_INT(s.get_schema(&s, &sc), 0);
    sc.release(&sc);
    int ok = 1;
    for (;;) {
        struct ArrowArray a;
        if (s.get_next(&s, &a) != 0) {
            const char *e = s.get_last_error(&s);
            CHECK(e && e[0]);
            ok = 0;
            break;
        }
        if (!a.release) break;
        a.release(&a);
    }
    s.release(&s);
    const struct hoist_pq_file *f = hoist_pq_reader_file(r);
    FILE *fp = fopen(path, "rb");
    for (int rg = 0; fp && rg < hoist_pq_file_num_row_groups(f) && rg < 4; rg++) {
        for (int k = 0; k < hoist_pq_file_num_fields(f); k++) {
            uint64_t off, len;
            if (hoist_pq_file_field_range(f, rg, k, &off, &len) != HOIST_OK || len > (64u << 20)) continue;
            uint8_t *buf = malloc(len ? len : 1);
            if (fseek(fp, (long)off, SEEK_SET) == 0 && fread(buf, 1, len, fp) == len) {
                struct ArrowArray a;
                if (hoist_pq_decode_field(f, rg, k, buf, off, len, 0, &a) == HOIST_OK) a.release(&a);
                struct hoist_pq_stats stt;
                if (hoist_pq_file_field_stats(f, rg, k, &stt) != HOIST_OK) CHECK(hoist_errmsg()[0] != '\0');
            }
            free(buf);
        }
    }
    if (fp) fclose(fp);
    hoist_pq_reader_close(r);
    return ok;
}

static int nfiles, nread;

static void walk(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = hx_asprintf("%s/%s", dir, e->d_name);
        struct stat stt;
        if (stat(p, &stt) == 0 && S_ISDIR(stt.st_mode)) {
            walk(p);
        } else if (strstr(e->d_name, "large_string_map") == NULL && strstr(e->d_name, ".md") == NULL &&
                   strstr(e->d_name, ".csv") == NULL && strstr(e->d_name, ".json") == NULL &&
                   strstr(e->d_name, ".bin") == NULL && strstr(e->d_name, ".py") == NULL &&
                   strstr(e->d_name, "README") == NULL && stt.st_size < (32 << 20)) {
            nfiles++;
            nread += read_whole(p, nfiles % 2 ? 1 : 4);
        }
        hx_free(p);
    }
    closedir(d);
}

static void test_every_file(void) {
    char *a = path_of("parquet-testing");
    char *b = path_of("arrow-testing");
    walk(a);
    walk(b);
    fprintf(stderr, "  %d files, %d read completely\n", nfiles, nread);
    /* About 220 of the files are valid Parquet hoist reads; the rest are
     * corrupt, encrypted or not Parquet and must only fail cleanly. */
    CHECK(nfiles == 0 || nread > 200);
    hx_free(a);
    hx_free(b);
}

static void test_alloc_failure_paths(void) {
    char *p = path_of("parquet-testing/data/nested_maps.snappy.parquet");
    FILE *fp = fopen(p, "rb");
    if (!fp) {
        hx_free(p);
        return;
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    int succeeded = 0;
    for (uint64_t k = 1; k < 2000 && !succeeded; k += 1) {
        hx_alloc_fail_after(k);
        struct hoist_pq_reader *r;
        hx_status st = hoist_pq_reader_open_memory(buf, n, "m", 0, &r);
        if (st == HOIST_OK) {
            struct ArrowArrayStream s;
            st = hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &s);
            if (st == HOIST_OK) {
                struct ArrowArray a;
                int rc;
                while ((rc = s.get_next(&s, &a)) == 0 && a.release) a.release(&a);
                succeeded = rc == 0;
                s.release(&s);
            }
            hoist_pq_reader_close(r);
        } else {
            CHECK(st == HOIST_ERR_NOMEM);
        }
        hx_alloc_fail_after(0);
    }
    CHECK(succeeded);
    hx_free(p);
}

/* Deterministic mutations (byte changes, truncations) of small valid files:
 * every one must decode or fail cleanly; ASan/UBSan catch the rest. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { return th_xorshift(&rng_state); }

static void decode_all(const uint8_t *buf, size_t n, unsigned flags) {
    struct hoist_pq_reader *r;
    if (hoist_pq_reader_open_memory(buf, n, "mutant", flags, &r) != HOIST_OK) {
        CHECK(hoist_errmsg()[0] != '\0');
        return;
    }
    struct ArrowArrayStream s;
    if (hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &s) == HOIST_OK) {
        struct ArrowSchema sc;
        if (s.get_schema(&s, &sc) == 0) sc.release(&sc);
        struct ArrowArray a;
        while (s.get_next(&s, &a) == 0 && a.release) a.release(&a);
        s.release(&s);
    }
    hoist_pq_reader_close(r);
}

static void test_mutations(void) {
    const char *files[] = {
        "parquet-testing/data/alltypes_plain.parquet",
        "parquet-testing/data/nested_lists.snappy.parquet",
        "parquet-testing/data/nested_maps.snappy.parquet",
        "parquet-testing/data/datapage_v2.snappy.parquet",
        "parquet-testing/data/delta_length_byte_array.parquet",
        "parquet-testing/data/nullable.impala.parquet",
        "parquet-testing/data/rle_boolean_encoding.parquet",
        "parquet-testing/data/byte_array_decimal.parquet",
        "parquet-testing/data/repeated_no_annotation.parquet",
        "parquet-testing/data/list_columns.parquet",
        "parquet-testing/data/fixed_length_decimal.parquet",
        "parquet-testing/data/int96_from_spark.parquet",
        "parquet-testing/data/delta_encoding_optional_column.parquet",
        "parquet-testing/data/byte_stream_split.zstd.parquet",
        "parquet-testing/data/old_list_structure.parquet",
    };
    int runs = 0;
    /* HOIST_PQ_MUTANTS raises the count for a longer local hunt. */
    int mutants_per_file = getenv("HOIST_PQ_MUTANTS") ? (int)strtol(getenv("HOIST_PQ_MUTANTS"), NULL, 10) : 400;
    if (getenv("HOIST_PQ_SEED"))
        rng_state ^= (uint64_t)strtoull(getenv("HOIST_PQ_SEED"), NULL, 10) * 0x2545f4914f6cdd1dull;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        char *p = path_of(files[fi]);
        FILE *fp = fopen(p, "rb");
        hx_free(p);
        if (!fp) continue;
        static uint8_t orig[1 << 17];
        size_t n = fread(orig, 1, sizeof orig, fp);
        fclose(fp);
        for (int m = 0; m < mutants_per_file; m++) {
            size_t len = n;
            uint8_t *buf = malloc(n);
            memcpy(buf, orig, n);
            int edits = 1 + (int)(rnd() % 4);
            for (int e = 0; e < edits; e++) {
                size_t at = (size_t)(rnd() % n);
                switch (rnd() % 4) {
                case 0: buf[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
                case 1: buf[at] = (uint8_t)rnd(); break;
                case 2: buf[at] = (uint8_t)(rnd() % 2 ? 0xff : 0); break;
                default: /* inside the footer, where structure lives */
                    if (n > 64) buf[n - 9 - (size_t)(rnd() % 56)] = (uint8_t)rnd();
                }
            }
            if (m % 10 == 0) len = (size_t)(rnd() % n); /* truncation */
            uint8_t *exact = malloc(len ? len : 1);
            memcpy(exact, buf, len);
            decode_all(exact, len, m % 2 ? HOIST_PQ_NO_CRC : 0);
            free(exact);
            free(buf);
            runs++;
        }
    }
    fprintf(stderr, "  %d mutants\n", runs);
    CHECK(runs > 0);
}

static void test_statistics(void) {
    char *p = path_of("parquet-testing/data/sort_columns.parquet");
    struct hoist_pq_reader *r;
    if (hoist_pq_reader_open_file(p, 0, &r) == HOIST_OK) {
        const struct hoist_pq_file *f = hoist_pq_reader_file(r);
        struct hoist_pq_stats s;
        CHECK_EQ_INT(hoist_pq_file_field_stats(f, 0, 0, &s), HOIST_OK);
        CHECK_EQ_INT(s.kind, HOIST_PQ_STAT_INT);
        CHECK_EQ_INT(s.min_i, 1);
        CHECK_EQ_INT(s.max_i, 2);
        CHECK(s.has_null_count && s.null_count == 1);
        CHECK_EQ_INT(s.num_values, 3);
        CHECK_EQ_INT(hoist_pq_file_field_stats(f, 1, 1, &s), HOIST_OK);
        CHECK_EQ_INT(s.kind, HOIST_PQ_STAT_BYTES);
        CHECK(s.min_b_len == 1 && s.min_b[0] == 'a' && s.max_b_len == 1 && s.max_b[0] == 'c');
        CHECK_EQ_INT(hoist_pq_file_field_stats(f, 2, 0, &s), HOIST_ERR_INVALID_ARG);
        hoist_pq_reader_close(r);
    }
    hx_free(p);
    /* a NaN max (pyarrow 0.8) is not a usable bound */
    p = path_of("parquet-testing/data/nan_in_stats.parquet");
    if (hoist_pq_reader_open_file(p, 0, &r) == HOIST_OK) {
        struct hoist_pq_stats s;
        CHECK_EQ_INT(hoist_pq_file_field_stats(hoist_pq_reader_file(r), 0, 0, &s), HOIST_OK);
        CHECK_EQ_INT(s.kind, HOIST_PQ_STAT_NONE);
        hoist_pq_reader_close(r);
    }
    hx_free(p);
    /* strings without column orders: the deprecated min/max are signed-order only */
    p = path_of("parquet-testing/data/alltypes_plain.parquet");
    if (hoist_pq_reader_open_file(p, 0, &r) == HOIST_OK) {
        const struct hoist_pq_file *f = hoist_pq_reader_file(r);
        struct hoist_pq_stats s;
        CHECK_EQ_INT(hoist_pq_file_field_stats(f, 0, hoist_pq_file_field_index(f, "string_col"), &s), HOIST_OK);
        CHECK_EQ_INT(s.kind, HOIST_PQ_STAT_NONE);
        hoist_pq_reader_close(r);
    }
    hx_free(p);
}

static void test_decode_field_ranges(void) {
    /* hoist_pq_decode_field on bytes that hold only the field's range, and
     * a clean error when they do not cover it */
    char *p = path_of("parquet-testing/data/nested_structs.rust.parquet");
    FILE *fp = fopen(p, "rb");
    hx_free(p);
    if (!fp) return;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    uint8_t *all = malloc((size_t)size);
    fseek(fp, 0, SEEK_SET);
    CHECK(fread(all, 1, (size_t)size, fp) == (size_t)size);
    fclose(fp);
    uint64_t fs;
    CHECK_EQ_INT(hoist_pq_footer_size(all + size - 8, 8, (uint64_t)size, "n.parquet", &fs), HOIST_OK);
    struct hoist_pq_file *f;
    CHECK_EQ_INT(hoist_pq_file_new(all + size - fs, (size_t)fs, (uint64_t)size, "n.parquet", &f), HOIST_OK);
    int nf = hoist_pq_file_num_fields(f);
    CHECK(nf > 0);
    for (int k = 0; k < nf; k++) {
        uint64_t off, len;
        CHECK_EQ_INT(hoist_pq_file_field_range(f, 0, k, &off, &len), HOIST_OK);
        uint8_t *b = malloc(len);
        memcpy(b, all + off, len);
        struct ArrowArray a;
        CHECK_EQ_INT(hoist_pq_decode_field(f, 0, k, b, off, (size_t)len, 0, &a), HOIST_OK);
        if (a.release) {
            CHECK_EQ_INT(a.length, hoist_pq_file_row_group_num_rows(f, 0));
            a.release(&a);
        }
        if (len > 1) {
            CHECK_EQ_INT(hoist_pq_decode_field(f, 0, k, b + 1, off + 1, (size_t)len - 1, 0, &a), HOIST_ERR_INVALID_ARG);
            CHECK_CONTAINS(hoist_errmsg(), "do not cover");
        }
        free(b);
    }
    hoist_pq_file_free(f);
    free(all);
}

int main(void) {
    RUN(test_thrift_fields);
    RUN(test_thrift_skip_and_malformed);
    RUN(test_page_header);
    RUN(test_footer_errors);
    RUN(test_schema_mapping);
    RUN(test_nesting);
    RUN(test_alloc_failure_paths);
    RUN(test_statistics);
    RUN(test_decode_field_ranges);
    RUN(test_every_file);
    RUN(test_mutations);
    TEST_MAIN_END();
}
