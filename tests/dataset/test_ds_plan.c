/* Unit tests of the dataset layer's pure parts: the filter language (parse,
 * errors with a caret, bind, prune, evaluate), Hive keys, data-key rules,
 * partition types, row-group selections, range coalescing, shards. */
#include "test_ds_util.h"

#include <stdlib.h>
#include <string.h>

static void test_parse_ok(void) {
    const char *good[] = {"a > 1",
                          "passenger_count > 1 AND payment_type = 'CRD'",
                          "x IN (1, 2, 3) OR NOT (y IS NULL)",
                          "s NOT IN ('a', 'it''s')",
                          "d >= DATE '2024-01-31' and d < '2024-02-01'",
                          "1 < a",
                          "\"odd name\" <> -2.5e3",
                          "TRUE",
                          "((a = 1))",
                          "b = true AND c IS NOT NULL"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct ds_filter *f = NULL;
        hx_status st = hx_ds_filter_parse(good[i], &f);
        if (st != HOIST_OK) fprintf(stderr, "%s -> %s\n", good[i], hoist_errmsg());
        CHECK_EQ_INT(st, HOIST_OK);
        hx_ds_filter_free(f);
    }
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse("a > 1 AND b IN ('x') AND a < 5", &f), HOIST_OK);
    CHECK_EQ_INT(f->ncolumns, 2);
    CHECK_STR(f->columns[0], "a");
    CHECK_STR(f->columns[1], "b");
    hx_ds_filter_free(f);
    /* literal op column is flipped */
    CHECK_EQ_INT(hx_ds_filter_parse("1 < a", &f), HOIST_OK);
    CHECK_EQ_INT(f->root->op, DS_GT);
    hx_ds_filter_free(f);
    /* NOT pushed into the leaves */
    CHECK_EQ_INT(hx_ds_filter_parse("NOT (a < 1 OR b IS NULL)", &f), HOIST_OK);
    CHECK_EQ_INT(f->root->kind, DS_N_AND);
    CHECK_EQ_INT(f->root->a->op, DS_GE);
    CHECK(f->root->b->negate);
    hx_ds_filter_free(f);
}

static void test_parse_errors(void) {
    struct {
        const char *expr;
        const char *needle;
        int caret_col; /* 0-based column of the caret within the expression */
    } bad[] = {
        {"a >", "end of expression", 3},
        {"a > AND b", "expected a literal", 4},
        {"a = 1 b = 2", "unexpected token", 6},
        {"(a = 1", "unclosed '('", 0},
        {"a IN (1, 2", "end of expression", 10},
        {"a = 'open", "invalid token", 4},
        {"a ! 1", "invalid token", 2},
        {"a = NULL", "IS NULL", 4},
        {"a = b", "two columns", 4},
        {"", "empty expression", 0},
        {"d = DATE '2024-13-01'", "bad date", 9},
        {"a IS 1", "expected NULL", 5},
        {"a = 12abc", "invalid token", 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ds_filter *f = NULL;
        hx_status st = hx_ds_filter_parse(bad[i].expr, &f);
        CHECK_EQ_INT(st, HOIST_ERR_FILTER);
        CHECK(f == NULL);
        const char *m = hoist_errmsg();
        CHECK_CONTAINS(m, bad[i].needle);
        /* Line 3 of the message is the caret under the token. */
        const char *l2 = strchr(m, '\n');
        const char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
        CHECK(l3 != NULL);
        if (l3) {
            const char *caret = strchr(l3, '^');
            CHECK(caret != NULL);
            if (caret) CHECK_EQ_INT(caret - (l3 + 1) - 2, bad[i].caret_col);
        }
    }
}

static void test_bind(void) {
    const char *names[] = {"i", "f", "s", "d", "ts", "b"};
    const char *fmts[] = {"l", "g", "u", "tdD", "tsu:", "b"};
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(
        hx_ds_filter_parse(
            "i > 1.5 AND f < 2 AND s = 'x' AND d >= '2024-01-02' AND ts < '2024-01-01 00:00:01' AND b = TRUE", &f),
        HOIST_OK);
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 6), HOIST_OK);
    hx_ds_filter_free(f);

    CHECK_EQ_INT(hx_ds_filter_parse("nope = 1", &f), HOIST_OK);
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 6), HOIST_ERR_FILTER);
    CHECK_CONTAINS(hoist_errmsg(), "unknown column 'nope'");
    hx_ds_filter_free(f);

    CHECK_EQ_INT(hx_ds_filter_parse("i = 'text'", &f), HOIST_OK);
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 6), HOIST_ERR_FILTER);
    CHECK_CONTAINS(hoist_errmsg(), "a string does not match the type of column 'i'");
    hx_ds_filter_free(f);

    CHECK_EQ_INT(hx_ds_filter_parse("d = 'not a date'", &f), HOIST_OK);
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 6), HOIST_ERR_FILTER);
    hx_ds_filter_free(f);
}

static void colstats_int(struct ds_colstats *s, int64_t lo, int64_t hi, int64_t nulls, int64_t n) {
    memset(s, 0, sizeof *s);
    s->known = s->has_minmax = s->has_null_count = true;
    s->min.kind = s->max.kind = DS_V_INT;
    s->min.i = lo;
    s->max.i = hi;
    s->null_count = nulls;
    s->num_values = n;
}

static bool may(const char *expr, struct ds_colstats *st) {
    const char *names[] = {"a", "s"};
    const char *fmts[] = {"i", "u"};
    struct ds_filter *f = NULL;
    if (hx_ds_filter_parse(expr, &f) != HOIST_OK || hx_ds_filter_bind(f, names, fmts, 2) != HOIST_OK) {
        fprintf(stderr, "%s: %s\n", expr, hoist_errmsg());
        hx_ds_filter_free(f);
        return true;
    }
    bool r = hx_ds_filter_may_match(f, st);
    hx_ds_filter_free(f);
    return r;
}

static void test_prune(void) {
    struct ds_colstats st[2];
    colstats_int(&st[0], 10, 20, 0, 100);
    memset(&st[1], 0, sizeof st[1]);
    st[1].known = st[1].has_minmax = true;
    st[1].min.kind = st[1].max.kind = DS_V_BYTES;
    st[1].min.b = (const uint8_t *)"CRD";
    st[1].min.blen = 3;
    st[1].max.b = (const uint8_t *)"CSH";
    st[1].max.blen = 3;
    CHECK(!may("a > 20", st));
    CHECK(may("a >= 20", st));
    CHECK(!may("a < 10", st));
    CHECK(may("a <= 10", st));
    CHECK(!may("a = 5", st));
    CHECK(may("a = 15", st));
    CHECK(!may("a IN (1, 2, 30)", st));
    CHECK(may("a IN (1, 12)", st));
    CHECK(!may("a IS NULL", st)); /* null_count 0 */
    CHECK(may("a IS NOT NULL", st));
    CHECK(!may("a > 20 AND s = 'CRD'", st));
    CHECK(may("a > 20 OR s = 'CRD'", st));
    CHECK(!may("s = 'DIS'", st));
    CHECK(!may("s < 'CA'", st));
    CHECK(may("NOT (a > 20)", st));
    CHECK(!may("NOT (a <= 20)", st));
    CHECK(!may("FALSE", st));
    colstats_int(&st[0], 10, 10, 0, 100);
    CHECK(!may("a != 10", st));
    CHECK(!may("a NOT IN (10)", st));
    /* all null: comparisons can't match, IS NULL can */
    colstats_int(&st[0], 0, 0, 100, 100);
    st[0].has_minmax = false;
    CHECK(!may("a = 1", st));
    CHECK(may("a IS NULL", st));
    CHECK(!may("a IS NOT NULL", st));
    /* unknown stats never prune */
    memset(&st[0], 0, sizeof st[0]);
    CHECK(may("a = 1", st));
}

/* A tiny int32 array with nulls for eval. */
static void test_eval(void) {
    int32_t vals[6] = {1, 2, 3, 4, 5, 6};
    uint8_t valid = 0x3f & ~(1u << 2); /* row 2 is null */
    const void *bufs[2] = {&valid, vals};
    struct ArrowArray a = {.length = 6, .null_count = 1, .n_buffers = 2, .buffers = bufs};
    int32_t offs[7] = {0, 1, 2, 3, 4, 5, 6};
    const char *chars = "xyzxyz";
    const void *sb[3] = {NULL, offs, chars};
    struct ArrowArray s = {.length = 6, .null_count = 0, .n_buffers = 3, .buffers = sb};
    const struct ArrowArray *cols[2] = {&a, &s};
    const char *names[] = {"a", "s"};
    const char *fmts[] = {"i", "u"};
    struct {
        const char *expr;
        const char *want;
    } cases[] = {
        {"a > 3", "000111"},
        {"a != 3", "110111"},
        {"NOT a > 3", "110000"}, /* null stays out under NOT */
        {"a IS NULL", "001000"},
        {"a IS NOT NULL AND s = 'x'", "100100"},
        {"a IN (1, 5) OR s IN ('z')", "101011"},
        {"s NOT IN ('x', 'y')", "001001"},
        {"a > 2.5", "000111"},
        {"a < 3 OR a > 3", "110111"},
        {"TRUE", "111111"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ds_filter *f = NULL;
        CHECK_EQ_INT(hx_ds_filter_parse(cases[i].expr, &f), HOIST_OK);
        CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 2), HOIST_OK);
        uint8_t keep[6];
        CHECK_EQ_INT(hx_ds_filter_eval(f, cols, fmts, NULL, 6, keep), HOIST_OK);
        char got[7];
        for (int k = 0; k < 6; k++) got[k] = keep[k] ? '1' : '0';
        got[6] = '\0';
        if (strcmp(got, cases[i].want)) fprintf(stderr, "%s\n", cases[i].expr);
        CHECK_STR(got, cases[i].want);
        hx_ds_filter_free(f);
    }
    /* A column absent from the file is all null. */
    const struct ArrowArray *nocols[2] = {NULL, &s};
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse("a IS NULL AND s = 'y'", &f), HOIST_OK);
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 2), HOIST_OK);
    uint8_t keep[6];
    CHECK_EQ_INT(hx_ds_filter_eval(f, nocols, fmts, NULL, 6, keep), HOIST_OK);
    CHECK(keep[1] && keep[4] && !keep[0] && !keep[2]);
    hx_ds_filter_free(f);
}

static void test_hive(void) {
    struct ds_kv *kv;
    size_t n;
    CHECK_EQ_INT(hx_ds_parse_hive("s3://b/taxi/year=2024/month=01/part-0.parquet", &kv, &n), HOIST_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(kv[0].key, "year");
    CHECK_STR(kv[0].value, "2024");
    CHECK_STR(kv[1].key, "month");
    CHECK_STR(kv[1].value, "01");
    hx_ds_kv_free(kv, n);
    CHECK_EQ_INT(hx_ds_parse_hive("s3://b/t/city=New%20York/k=__HIVE_DEFAULT_PARTITION__/x=1.parquet", &kv, &n),
                 HOIST_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(kv[0].value, "New York");
    CHECK(kv[1].value == NULL);
    hx_ds_kv_free(kv, n);
    /* an escaped NUL is kept as written, not decoded into a cut value */
    CHECK_EQ_INT(hx_ds_parse_hive("s3://b/t/city=a%00b/x.parquet", &kv, &n), HOIST_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(kv[0].value, "a%00b");
    hx_ds_kv_free(kv, n);
    /* the bucket is not a partition; the file name is not either */
    CHECK_EQ_INT(hx_ds_parse_hive("s3://a=b/c/d=e.parquet", &kv, &n), HOIST_OK);
    CHECK_EQ_INT(n, 0);
    hx_ds_kv_free(kv, n);
    CHECK_EQ_INT(hx_ds_parse_hive("/data/m=3/f.parquet#rg=0-2", &kv, &n), HOIST_OK);
    CHECK_EQ_INT(n, 1);
    hx_ds_kv_free(kv, n);

    const char *p = "s3://b/t/";
    size_t pl = strlen(p);
    CHECK(hx_ds_is_data_key("s3://b/t/m=1/part-0.parquet", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/_SUCCESS", pl, 0));
    CHECK(!hx_ds_is_data_key("s3://b/t/_SUCCESS", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/m=1/_committed_123", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/m=1/.part-0.parquet.crc", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/m=1/part-0.parquet.crc", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/_temporary/0/part-0.parquet", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/m=1/", pl, 0));
    CHECK(!hx_ds_is_data_key("s3://b/t/m=1_$folder$", pl, 10));
    CHECK(!hx_ds_is_data_key("s3://b/t/m=1/empty.parquet", pl, 0));
    /* an underscore above the dataset root does not hide it */
    CHECK(hx_ds_is_data_key("s3://b/_data/x.parquet", strlen("s3://b/_data/"), 10));

    const char *ints[] = {"1", "2", NULL, "-30"};
    CHECK_EQ_INT(hx_ds_infer_ptype(ints, 4), DS_PT_INT32);
    const char *big[] = {"1", "99999999999"};
    CHECK_EQ_INT(hx_ds_infer_ptype(big, 2), DS_PT_INT64);
    const char *dates[] = {"2024-01-31", "2024-02-29"};
    CHECK_EQ_INT(hx_ds_infer_ptype(dates, 2), DS_PT_DATE32);
    const char *months[] = {"2024-01", "2024-02"};
    CHECK_EQ_INT(hx_ds_infer_ptype(months, 2), DS_PT_STRING);
    const char *mixed[] = {"1", "x"};
    CHECK_EQ_INT(hx_ds_infer_ptype(mixed, 2), DS_PT_STRING);
    int64_t d;
    CHECK(hx_parse_date("1970-01-02", 10, &d) && d == 1);
    CHECK(hx_parse_date("2000-03-01", 10, &d) && d == 11017);
    CHECK(!hx_parse_date("2023-02-29", 10, &d));
    int64_t us;
    CHECK(hx_ds_parse_timestamp_us("1970-01-01 00:00:01.5", 21, &us) && us == 1500000);
    CHECK(hx_ds_parse_timestamp_us("1970-01-02T00:00:00Z", 20, &us) && us == 86400000000LL);
}

static void test_rg_selection(void) {
    size_t base;
    int *rg;
    size_t n;
    CHECK_EQ_INT(hx_ds_parse_rg_selection("s3://b/f.parquet#rg=7,0-3,2", &base, &rg, &n), HOIST_OK);
    CHECK_EQ_INT(base, strlen("s3://b/f.parquet"));
    CHECK_EQ_INT(n, 5);
    CHECK(rg[0] == 0 && rg[3] == 3 && rg[4] == 7);
    char *s = hx_ds_format_rg_selection("s3://b/f.parquet", rg, n);
    CHECK_STR(s, "s3://b/f.parquet#rg=0-3,7");
    hx_free(s);
    hx_free(rg);
    CHECK_EQ_INT(hx_ds_parse_rg_selection("s3://b/f.parquet", &base, &rg, &n), HOIST_OK);
    CHECK(rg == NULL && n == 0);
    CHECK_EQ_INT(hx_ds_parse_rg_selection("s3://b/f.parquet#rg=", &base, &rg, &n), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_ds_parse_rg_selection("s3://b/f.parquet#rg=3-1", &base, &rg, &n), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_ds_parse_rg_selection("s3://b/f.parquet#rg=a", &base, &rg, &n), HOIST_ERR_BAD_URL);
}

static void test_coalesce(void) {
    struct ds_range r[] = {{1000, 100}, {0, 100}, {150, 50}, {5000000, 10}, {1100, 0}, {1050, 100}};
    size_t n = hx_ds_coalesce(r, 6, 64);
    /* [0,100)+[150,200) merge (gap 50); [1000,1150) absorbs overlaps; far one alone */
    CHECK_EQ_INT(n, 3);
    CHECK(r[0].offset == 0 && r[0].length == 200);
    CHECK(r[1].offset == 1000 && r[1].length == 150);
    CHECK(r[2].offset == 5000000 && r[2].length == 10);
    struct ds_range g[] = {{0, 10}, {10 + DS_MAX_GAP, 10}, {20 + 2 * DS_MAX_GAP + 1, 5}};
    n = hx_ds_coalesce(g, 3, DS_MAX_GAP);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(hx_ds_coalesce(NULL, 0, 10), 0);
}

static void test_shards(void) {
    uint64_t bytes[] = {100, 10, 10, 10, 50, 50, 1, 1};
    size_t of[8];
    CHECK_EQ_INT(hx_ds_shard_assign(bytes, 8, 3, of), 3);
    uint64_t load[3] = {0};
    for (int i = 0; i < 8; i++) {
        CHECK(of[i] < 3);
        load[of[i]] += bytes[i];
    }
    /* 232 bytes: LPT gives 100 | 61 | 71, within max(unit) of perfect. */
    uint64_t mx = 0, mn = UINT64_MAX;
    for (int s = 0; s < 3; s++) {
        if (load[s] > mx) mx = load[s];
        if (load[s] < mn) mn = load[s];
    }
    CHECK(mx - mn <= 100);
    CHECK(mx == 100);
    size_t of2[8];
    hx_ds_shard_assign(bytes, 8, 3, of2);
    CHECK(memcmp(of, of2, sizeof of) == 0);               /* deterministic */
    CHECK_EQ_INT(hx_ds_shard_assign(bytes, 2, 5, of), 2); /* fewer units than shards */
    CHECK_EQ_INT(hx_ds_shard_assign(bytes, 0, 5, of), 0);
}

static void test_alloc_failures(void) {
    /* Every allocation of a parse can fail without leaks or crashes. */
    dsu_parse_under_alloc_failures("a IN (1, 2, 'x') AND NOT (b IS NULL OR c >= 2.5)");
}

int main(void) {
    RUN(test_parse_ok);
    RUN(test_parse_errors);
    RUN(test_bind);
    RUN(test_prune);
    RUN(test_eval);
    RUN(test_hive);
    RUN(test_rg_selection);
    RUN(test_coalesce);
    RUN(test_shards);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
