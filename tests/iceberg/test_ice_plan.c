/* Tests of the Iceberg read planner (src/iceberg) against tables pyiceberg
 * wrote (tests/iceberg/make_fixtures.py): every case of expected.tsv is
 * planned by hoist and must select the data files pyiceberg's own planning
 * selects, or fail with the same refusal. Then the decoders on hostile
 * input: every fixture file truncated and bit-flipped must give HOIST_OK or
 * an error naming the file, never a crash (run under ASan/UBSan), and the
 * single-value encodings of bounds decode as the spec says. */
#include "iceberg_internal.h"
#include "test_harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* make_fixtures.py's ROOT: pyiceberg wrote these absolute locations. */
#define FIXTURE_ROOT "/tmp/hoist-iceberg-fixture"

static char data_dir[4096];

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static int mkdirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Copies one fixture file to its place under FIXTURE_ROOT (temp + rename:
 * a concurrent run never sees half a file). */
static int install_one(const char *src, const struct stat *st, int kind, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (kind != FTW_F || !strstr(src, "/warehouse/")) return 0;
    const char *rel = strstr(src, "/warehouse/");
    char dst[4096], tmp[4200], dir[4096];
    snprintf(dst, sizeof dst, "%s%s", FIXTURE_ROOT, rel);
    snprintf(dir, sizeof dir, "%s", dst);
    *strrchr(dir, '/') = '\0';
    if (mkdirs(dir) != 0) return -1;
    size_t len;
    char *bytes = slurp(src, &len);
    if (!bytes) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp%d", dst, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    int rc = f && fwrite(bytes, 1, len, f) == len ? 0 : -1;
    if (f) rc |= fclose(f);
    free(bytes);
    return rc == 0 ? rename(tmp, dst) : -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The plan's data file names, sorted and joined by "," (as expected.tsv has them). */
static char *plan_names(const struct hoist_iceberg_plan *plan) {
    size_t n = hoist_iceberg_plan_num_files(plan);
    char **names = calloc(n + 1, sizeof *names);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        const char *p = hoist_iceberg_plan_file(plan, i, NULL, NULL);
        names[i] = (char *)(strrchr(p, '/') ? strrchr(p, '/') + 1 : p);
        total += strlen(names[i]) + 1;
    }
    qsort(names, n, sizeof *names, cmp_str);
    char *out = calloc(total, 1);
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, ",");
        strcat(out, names[i]);
    }
    free(names);
    return out;
}

static void test_plans_match_pyiceberg(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/expected.tsv", data_dir);
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (!text) return;
    struct hoist_store *store = NULL;
    CHECK_EQ_INT(hoist_store_new(NULL, &store), HOIST_OK);
    int cases = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *f[5];
        char *save = NULL, *p = line;
        int k = 0;
        /* fields may be empty (the last one: no files) */
        for (; k < 5; k++) {
            f[k] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        (void)save;
        if (k < 4) continue;
        if (k == 4) f[4] = p;
        char url[4200];
        snprintf(url, sizeof url, "file://%s/warehouse/db/%s/metadata/%s", FIXTURE_ROOT, f[0], f[1]);
        int64_t snapshot = strcmp(f[2], "-") == 0 ? -1 : strtoll(f[2], NULL, 10);
        const char *filter = strcmp(f[3], "-") == 0 ? NULL : f[3];
        struct hoist_iceberg_plan *plan = NULL;
        enum hoist_status st = hoist_iceberg_plan_new(store, url, filter, snapshot, &plan);
        cases++;
        if (strncmp(f[4], "ERROR:", 6) == 0) {
            if (st == HOIST_OK) fprintf(stderr, "case %s %s %s: planned, expected %s\n", f[0], f[2], f[3], f[4]);
            CHECK_EQ_INT(st, HOIST_ERR_UNSUPPORTED);
            CHECK_CONTAINS(hoist_errmsg(), f[4] + 6);
            CHECK(plan == NULL);
        } else {
            if (st != HOIST_OK) fprintf(stderr, "case %s %s %s: %s\n", f[0], f[2], f[3], hoist_errmsg());
            CHECK_EQ_INT(st, HOIST_OK);
            if (plan) {
                char *got = plan_names(plan);
                if (strcmp(got, f[4]) != 0) fprintf(stderr, "case %s %s filter %s\n", f[0], f[2], f[3]);
                CHECK_STR(got, f[4]);
                free(got);
            }
        }
        hoist_iceberg_plan_free(plan);
    }
    CHECK(cases >= 20);
    hoist_store_free(store);
    free(text);
}

static void test_plan_details(void) {
    /* the current "parted" snapshot after the copy-on-write delete: two live
     * files of three rows and two rows, a schema of six columns */
    char path[4200], url[4300];
    snprintf(path, sizeof path, "%s/expected.tsv", data_dir);
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (!text) return;
    char *line = strstr(text, "parted\t00003-");
    CHECK(line != NULL);
    if (!line) {
        free(text);
        return;
    }
    char *name = line + strlen("parted\t");
    *strchr(name, '\t') = '\0';
    snprintf(url, sizeof url, "file://%s/warehouse/db/parted/metadata/%s", FIXTURE_ROOT, name);
    struct hoist_store *store = NULL;
    CHECK_EQ_INT(hoist_store_new(NULL, &store), HOIST_OK);
    struct hoist_iceberg_plan *plan = NULL;
    CHECK_EQ_INT(hoist_iceberg_plan_new(store, url, NULL, -1, &plan), HOIST_OK);
    CHECK_EQ_INT(hoist_iceberg_plan_num_files(plan), 2);
    int64_t rows = 0, total = 0, size = 0;
    for (size_t i = 0; i < hoist_iceberg_plan_num_files(plan); i++) {
        CHECK(hoist_iceberg_plan_file(plan, i, &rows, &size) != NULL);
        CHECK(size > 0);
        total += rows;
    }
    CHECK_EQ_INT(total, 5);
    CHECK(hoist_iceberg_plan_file(plan, 2, NULL, NULL) == NULL);
    CHECK_CONTAINS(hoist_iceberg_plan_schema_json(plan), "\"fare\"");
    struct hoist_iceberg_plan_stats s;
    hoist_iceberg_plan_get_stats(plan, &s, sizeof s);
    CHECK(s.snapshot_id > 0);
    CHECK(s.manifests >= 2);
    CHECK_EQ_INT(s.data_files, 2);
    CHECK(s.metadata_bytes > 0);
    hoist_iceberg_plan_free(plan);
    /* a filter that prunes by the partition summaries skips whole manifests */
    CHECK_EQ_INT(hoist_iceberg_plan_new(store, url, "month = 3", -1, &plan), HOIST_OK);
    hoist_iceberg_plan_get_stats(plan, &s, sizeof s);
    CHECK_EQ_INT(hoist_iceberg_plan_num_files(plan), 1);
    CHECK(s.manifests_pruned >= 1);
    hoist_iceberg_plan_free(plan);
    /* unknown snapshot; a filter that does not bind prunes nothing (the load reports it) */
    CHECK_EQ_INT(hoist_iceberg_plan_new(store, url, NULL, 12345, &plan), HOIST_ERR_NOT_FOUND);
    CHECK_CONTAINS(hoist_errmsg(), "12345");
    CHECK_EQ_INT(hoist_iceberg_plan_new(store, url, "nope = 1", -1, &plan), HOIST_OK);
    CHECK_EQ_INT(hoist_iceberg_plan_num_files(plan), 2);
    hoist_iceberg_plan_free(plan);
    CHECK_EQ_INT(hoist_iceberg_plan_new(store, url, "month = ", -1, &plan), HOIST_OK);
    hoist_iceberg_plan_free(plan);
    /* a missing metadata file is the store's error, naming it */
    CHECK(hoist_iceberg_plan_new(store, "file:///nonexistent/x.metadata.json", NULL, -1, &plan) != HOIST_OK);
    CHECK_CONTAINS(hoist_errmsg(), "x.metadata.json");
    CHECK(plan == NULL);
    CHECK_EQ_INT(hoist_iceberg_plan_new(NULL, url, NULL, -1, &plan), HOIST_ERR_INVALID_ARG);
    hoist_store_free(store);
    free(text);
}

static void test_bound_encodings(void) {
    struct ds_value v;
    const uint8_t i4[] = {0xfe, 0xff, 0xff, 0xff}; /* -2, little-endian */
    CHECK(hx_ice_decode_value(ICE_T_INT, i4, 4, &v) && v.kind == DS_V_INT && v.i == -2);
    CHECK(!hx_ice_decode_value(ICE_T_INT, i4, 3, &v));
    CHECK(hx_ice_decode_value(ICE_T_LONG, i4, 4, &v) && v.i == -2); /* an int promoted to long */
    const uint8_t l8[] = {1, 0, 0, 0, 0, 0, 0, 0x80};
    CHECK(hx_ice_decode_value(ICE_T_TIMESTAMP, l8, 8, &v) && v.i == (__int128)(int64_t)0x8000000000000001ull);
    CHECK(!hx_ice_decode_value(ICE_T_TIMESTAMP, l8, 4, &v));
    double d = 2.5, nan = 0.0 / 0.0;
    CHECK(hx_ice_decode_value(ICE_T_DOUBLE, (const uint8_t *)&d, 8, &v) && v.kind == DS_V_DOUBLE && v.d == 2.5);
    CHECK(!hx_ice_decode_value(ICE_T_DOUBLE, (const uint8_t *)&nan, 8, &v)); /* a NaN bound says nothing */
    float f = -1.5f;
    CHECK(hx_ice_decode_value(ICE_T_DOUBLE, (const uint8_t *)&f, 4, &v) && v.d == -1.5); /* float promoted */
    const uint8_t dec[] = {0xff, 0x38}; /* -200 big-endian two's complement */
    CHECK(hx_ice_decode_value(ICE_T_DECIMAL, dec, 2, &v) && v.kind == DS_V_DECIMAL);
    uint64_t want[4];
    hx_ds_decimal_from_i64(-200, want);
    CHECK(memcmp(v.dec, want, sizeof want) == 0);
    CHECK(!hx_ice_decode_value(ICE_T_DECIMAL, dec, 0, &v));
    CHECK(hx_ice_decode_value(ICE_T_STRING, (const uint8_t *)"abc", 3, &v) && v.kind == DS_V_BYTES && v.blen == 3);
    const uint8_t t = 1;
    CHECK(hx_ice_decode_value(ICE_T_BOOLEAN, &t, 1, &v) && v.kind == DS_V_BOOL && v.i == 1);
    CHECK(!hx_ice_decode_value(ICE_T_UUID, dec, 2, &v));
    CHECK(!hx_ice_decode_value(ICE_T_OTHER, dec, 2, &v));
}

/* avro-c 1.11 leaks what it allocated when its own decoding fails on corrupt
 * bytes (avro_value_read of a map or bytes, the codec set-up in
 * avro_file_reader_fp): memory hoist cannot reach, bounded by the allocator
 * cap in ice_avro.c, and lost once per corrupt file. LeakSanitizer is told to
 * ignore leaks from these hostile-input runs only; the plans of intact tables
 * above stay leak-checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:decode_all\n"; }
/* libavro has no frame pointers: only the slow unwinder sees decode_all */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }

/* Runs every decoder entry point over bytes; the status is OK or an error
 * whose message names url. */
static void decode_all(const uint8_t *b, size_t n, const char *url) {
    struct ice_meta *m = NULL;
    hx_status st = hx_ice_meta_parse(b, n, url, -1, &m);
    if (st != HOIST_OK) CHECK_CONTAINS(hoist_errmsg(), url);
    hx_ice_meta_free(m);
    if (n < 4 || memcmp(b, "Obj\x01", 4) != 0) return;
    struct ice_meta meta = {0};
    struct ice_field fields[2] = {{.id = 1, .type = ICE_T_LONG, .format = "l"},
                                  {.id = 2, .type = ICE_T_INT, .format = "i"}};
    struct ice_part_field pf = {.source_id = 2, .identity = true};
    struct ice_spec spec = {.id = 0, .fields = &pf, .nfields = 1};
    meta.fields = fields;
    meta.nfields = 2;
    meta.specs = &spec;
    meta.nspecs = 1;
    struct ds_colstats cs[2];
    uint8_t scratch[2][16];
    for (int pass = 0; pass < 2; pass++) {
        struct ice_avro *r = NULL;
        st = hx_ice_avro_open(b, n, url, &r);
        if (st != HOIST_OK) {
            CHECK_CONTAINS(hoist_errmsg(), url);
            return;
        }
        for (int i = 0; i < 100000; i++) {
            bool eof = false;
            if (pass == 0) {
                struct ice_manifest_ref ref;
                st = hx_ice_avro_next_manifest(r, &ref, &eof);
                if (st == HOIST_OK && !eof) hx_ice_manifest_stats(&meta, &spec, &ref, cs);
            } else {
                struct ice_entry e;
                st = hx_ice_avro_next_entry(r, &e, &eof);
                if (st == HOIST_OK && !eof) {
                    char *key = NULL;
                    hx_ice_file_stats(&meta, &spec, &e, cs, scratch);
                    if (hx_ice_entry_partition_key(&e, &key) == HOIST_OK) hx_free(key);
                }
            }
            if (st != HOIST_OK) CHECK_CONTAINS(hoist_errmsg(), url);
            if (st != HOIST_OK || eof) break;
        }
        hx_ice_avro_close(r);
    }
}

static const char *const *fixture_files;
static size_t nfixtures;
static char *fixture_paths[256];

static int collect(const char *src, const struct stat *st, int kind, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (kind == FTW_F && nfixtures < 256 && (strstr(src, ".avro") || strstr(src, ".metadata.json")))
        fixture_paths[nfixtures++] = strdup(src);
    return 0;
}

static void test_hostile_input(void) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/warehouse", data_dir);
    CHECK_EQ_INT(nftw(dir, collect, 16, FTW_PHYS), 0);
    fixture_files = (const char *const *)fixture_paths;
    CHECK(nfixtures >= 20);
    uint64_t rng = 0x1ce6e7a11ull;
    for (size_t i = 0; i < nfixtures; i++) {
        size_t len;
        char *orig = slurp(fixture_files[i], &len);
        CHECK(orig != NULL);
        if (!orig) continue;
        decode_all((const uint8_t *)orig, len, fixture_files[i]); /* the intact file decodes */
        uint8_t *buf = malloc(len + 1);
        /* every truncation of the first 256 bytes, then every 97th */
        for (size_t cut = 0; cut < len; cut += cut < 256 ? 1 : 97) {
            memcpy(buf, orig, cut);
            decode_all(buf, cut, fixture_files[i]);
        }
        /* 300 runs of 1-4 random byte changes each */
        for (int round = 0; round < 300; round++) {
            memcpy(buf, orig, len);
            int flips = 1 + (int)(th_xorshift(&rng) % 4);
            for (int k = 0; k < flips; k++) buf[th_xorshift(&rng) % len] = (uint8_t)th_xorshift(&rng);
            decode_all(buf, len, fixture_files[i]);
        }
        free(buf);
        free(orig);
    }
    for (size_t i = 0; i < nfixtures; i++) free(fixture_paths[i]);
}

int main(void) {
    const char *src = getenv("HOIST_SOURCE_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/tests/iceberg/data", src ? src : ".");
    char warehouse[4200];
    snprintf(warehouse, sizeof warehouse, "%s/warehouse", data_dir);
    if (nftw(warehouse, install_one, 16, FTW_PHYS) != 0) TEST_SKIP("cannot install the fixtures under " FIXTURE_ROOT);
    RUN(test_plans_match_pyiceberg);
    RUN(test_plan_details);
    RUN(test_bound_encodings);
    RUN(test_hostile_input);
    TEST_MAIN_END();
}
