/* Filters on decimal columns (Arrow "d:P,S[,BITS]"): format parsing, exact
 * literal conversion in the column's scale, evaluation for 32/64/128/256-bit
 * decimals (nulls, negatives, slices, IN lists), bind errors and pruning
 * with decimal min/max. */
#include "dataset_internal.h"
#include "test_harness.h"
#include "test_ds_util.h"

#include <stdlib.h>
#include <string.h>

static void test_format(void) {
    int p = 0, s = 0, b = 0;
    CHECK(hx_ds_decimal_format("d:9,2", &p, &s, &b));
    CHECK_EQ_INT(p, 9);
    CHECK_EQ_INT(s, 2);
    CHECK_EQ_INT(b, 128);
    CHECK(hx_ds_decimal_format("d:76,10,256", &p, &s, &b));
    CHECK_EQ_INT(b, 256);
    CHECK(hx_ds_decimal_format("d:5,-2", &p, &s, &b));
    CHECK_EQ_INT(s, -2);
    CHECK(hx_ds_decimal_format("d:9,2,32", &p, &s, &b) && b == 32);
    CHECK(hx_ds_decimal_format("d:18,3,64", &p, &s, &b) && b == 64);
    const char *bad[] = {"d", "d:", "d:9", "d:9,", "d:9,2,100", "d:0,2", "d:77,2", "d:9,2x", "g", "d:9,2,128,1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (hx_ds_decimal_format(bad[i], &p, &s, &b)) fprintf(stderr, "accepted %s\n", bad[i]);
        CHECK(!hx_ds_decimal_format(bad[i], &p, &s, &b));
    }
    CHECK_EQ_INT(hx_ds_format_vkind("d:38,4"), DS_V_DECIMAL);
    CHECK_EQ_INT(hx_ds_format_vkind("d:38,4,256"), DS_V_DECIMAL);
    CHECK_EQ_INT(hx_ds_format_vkind("d:38"), DS_V_NONE);
}

/* Unscaled values as 256-bit little-endian two's complement words. */
static void words_from_i128(__int128 v, uint64_t w[4]) {
    w[0] = (uint64_t)v;
    w[1] = (uint64_t)((unsigned __int128)v >> 64);
    w[2] = w[3] = v < 0 ? UINT64_MAX : 0;
}

/* One column of 8 rows stored at `bits` width; row 2 is null. Values at
 * scale 2: 12.34, 12.35, null, -12.34, -12.35, 0, 12.00, 3.00. */
static const int64_t k_vals[8] = {1234, 1235, 0, -1234, -1235, 0, 1200, 300};

struct col {
    uint8_t valid;
    uint8_t data[8 * 32];
    const void *bufs[2];
    struct ArrowArray a;
};

static void make_col(struct col *c, int bits) {
    memset(c, 0, sizeof *c);
    c->valid = 0xff & ~(1u << 2);
    for (int i = 0; i < 8; i++) {
        uint64_t w[4];
        words_from_i128(k_vals[i], w);
        memcpy(c->data + i * (bits / 8), w, (size_t)bits / 8); /* little-endian: low bytes first */
    }
    c->bufs[0] = &c->valid;
    c->bufs[1] = c->data;
    c->a = (struct ArrowArray){.length = 8, .null_count = 1, .n_buffers = 2, .buffers = c->bufs};
}

static const struct dsu_eval_case k_cases[] = {
    {"x > 12.345", "01000000"}, /* x >= 12.35 at scale 2 */
    {"x >= 12.345", "01000000"},
    {"x < 12.345", "10011111"},
    {"x <= 12.345", "10011111"},
    {"x = 12.345", "00000000"},
    {"x != 12.345", "11011111"},
    {"x = 3", "00000001"},
    {"x = 12", "00000010"},
    {"x = 12.00", "00000010"},
    {"x = 12.3400", "10000000"},
    {"x > 12.34", "01000000"},
    {"x >= 12.34", "11000000"},
    {"x > -12.345", "11010111"},
    {"x < -12.345", "00001000"},
    {"x <= -12.34", "00011000"},
    {"x < -12.34", "00001000"},
    {"x IN (12.34, 3, 12.345)", "10000001"},
    {"x NOT IN (0, 12.35)", "10011011"},
    {"x > 1e100", "00000000"},
    {"x < 1e100", "11011111"},
    {"x > -1e100", "11011111"},
    {"x > 1234e-2", "01000000"},
    {"12.345 < x", "01000000"},
    {"x > 0.001", "11000011"},
    {"x >= -0.001", "11000111"},
    {"x > -0.001", "11000111"},
    {"x < -0.001", "00011000"},
    {"x = 0", "00000100"},
    {"x = -0.000", "00000100"},
    {"x = 1e-100", "00000000"},
    {"x < 1e-100", "00011100"},
    {"x IS NULL", "00100000"},
    {"NOT x > 12.345", "10011111"},
    {"x < 123456789012345678901234567890", "11011111"}, /* beyond int64: still exact */
    {"x > 0 AND x < 12.341", "10000011"},
};

static void run_cases(int bits, const char *fmt) {
    struct col c;
    make_col(&c, bits);
    dsu_check_eval_cases(&c.a, fmt, 8, k_cases, sizeof k_cases / sizeof k_cases[0], fmt);
}

static void test_eval_widths(void) {
    run_cases(32, "d:9,2,32");
    run_cases(64, "d:18,2,64");
    run_cases(128, "d:9,2");
    run_cases(128, "d:38,2");
    run_cases(256, "d:40,2,256");
}

/* Sliced arrays read from their offset (rows 3..7 of the column). */
static void test_eval_offset(void) {
    struct col c;
    make_col(&c, 128);
    c.a.offset = 3;
    c.a.length = 5;
    const struct ArrowArray *cols[1] = {&c.a};
    const char *names[] = {"x"}, *fmts[] = {"d:9,2"};
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse("x >= 0", &f), HOIST_OK);
    CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_OK);
    uint8_t keep[5];
    CHECK_EQ_INT(hx_ds_filter_eval(f, cols, fmts, NULL, 5, keep), HOIST_OK);
    CHECK(!keep[0] && !keep[1] && keep[2] && keep[3] && keep[4]);
    hx_ds_filter_free(f);
}

/* Values past 128 bits in a decimal256 column; scale 0, precision 76. */
static void mul10_add(uint64_t w[4], unsigned d) {
    unsigned __int128 carry = d;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 x = (unsigned __int128)w[k] * 10u + carry;
        w[k] = (uint64_t)x;
        carry = x >> 64;
    }
}

static void negate(uint64_t w[4]) {
    unsigned __int128 carry = 1;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 x = (unsigned __int128)(~w[k]) + carry;
        w[k] = (uint64_t)x;
        carry = x >> 64;
    }
}

static void test_eval_256_wide(void) {
    /* rows: 10^40, -10^40, 1234567 * 10^69, 10^76 - 1, 5 */
    uint64_t v[5][4];
    memset(v, 0, sizeof v);
    v[0][0] = 1;
    for (int i = 0; i < 40; i++) mul10_add(v[0], 0);
    memcpy(v[1], v[0], sizeof v[1]);
    negate(v[1]);
    v[2][0] = 1234567;
    for (int i = 0; i < 69; i++) mul10_add(v[2], 0);
    for (int i = 0; i < 76; i++) mul10_add(v[3], 9);
    v[4][0] = 5;
    const void *bufs[2] = {NULL, v};
    struct ArrowArray a = {.length = 5, .null_count = 0, .n_buffers = 2, .buffers = bufs};
    static const struct dsu_eval_case cases[] = {
        {"x = 1e40", "10000"},
        {"x = -1e40", "01000"},
        {"x > 1e40", "00110"},
        {"x >= 10000000000000000000000000000000000000000", "10110"},
        {"x < -9999999999999999999999999999999999999999.5", "01000"},
        {"x = 1.234567e75", "00100"},
        {"x > 1.2345669999999999999999999999999999999999e75", "00110"},
        {"x > 1.2345670000000000000000000000000000000001e75", "00010"},
        {"x < 12345670000000000000000000000000000000000e33", "11001"},
        {"x = 9.999999999999999999999999999999999999999999999999999999999e75", "00000"},
        {"x < 1e76", "11111"},
        {"x >= 1e76", "00000"},
        {"x > 4.5", "10111"},
    };
    dsu_check_eval_cases(&a, "d:76,0,256", 5, cases, sizeof cases / sizeof cases[0], "256");
}

/* decimal128 at precision 38: the extremes compare exactly. */
static void test_eval_128_extremes(void) {
    __int128 e19 = 10000000000000000000ull;
    __int128 vals[3] = {e19 * e19 - 1, -(e19 * e19 - 1), 1};
    const void *bufs[2] = {NULL, vals};
    struct ArrowArray a = {.length = 3, .null_count = 0, .n_buffers = 2, .buffers = bufs};
    static const struct dsu_eval_case cases[] = {
        {"x = 99999999999999999999999999999999999999", "100"},
        {"x < 99999999999999999999999999999999999999", "011"},
        {"x = -99999999999999999999999999999999999999", "010"},
        {"x > -99999999999999999999999999999999999998.5", "101"},
        {"x < 1e38", "111"},
        {"x > 1e38", "000"},
        {"x IN (1, 99999999999999999999999999999999999999)", "101"},
    };
    dsu_check_eval_cases(&a, "d:38,0", 3, cases, sizeof cases / sizeof cases[0], "128");
}

/* A negative scale: unscaled 12 at scale -2 is 1200. */
static void test_negative_scale(void) {
    int32_t vals[3] = {12, 13, -12};
    const void *bufs[2] = {NULL, vals};
    struct ArrowArray a = {.length = 3, .null_count = 0, .n_buffers = 2, .buffers = bufs};
    static const struct dsu_eval_case cases[] = {
        {"x = 1200", "100"}, {"x > 1250", "010"}, {"x = 1250", "000"}, {"x < -1199.99", "001"}};
    dsu_check_eval_cases(&a, "d:5,-2,32", 3, cases, sizeof cases / sizeof cases[0], "neg scale");
}

static void test_bind_errors(void) {
    const char *names[] = {"x"}, *fmts[] = {"d:9,2"};
    const char *bad[] = {"x = 'abc'", "x = TRUE", "x > DATE '2024-01-01'", "x IN (1, 'a')"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ds_filter *f = NULL;
        CHECK_EQ_INT(hx_ds_filter_parse(bad[i], &f), HOIST_OK);
        if (!f) continue;
        CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_ERR_FILTER);
        CHECK_CONTAINS(hoist_errmsg(), "column 'x'");
        hx_ds_filter_free(f);
    }
    /* Not a number at all is still a parse error. */
    struct ds_filter *f = NULL;
    CHECK_EQ_INT(hx_ds_filter_parse("x > 1.2.3", &f), HOIST_ERR_FILTER);
    CHECK(f == NULL);
}

/* Pruning with decimal min/max (in the column's scale) and without. */
static void test_prune(void) {
    const char *names[] = {"x"}, *fmts[] = {"d:9,2"};
    struct ds_colstats st;
    memset(&st, 0, sizeof st);
    st.known = st.has_minmax = st.has_null_count = true;
    st.num_values = 10;
    st.min.kind = st.max.kind = DS_V_DECIMAL;
    words_from_i128(1200, st.min.dec); /* 12.00 */
    words_from_i128(1234, st.max.dec); /* 12.34 */
    static const struct {
        const char *expr;
        bool may;
    } cases[] = {
        {"x > 12.345", false}, {"x >= 12.34", true}, {"x = 12.345", false}, {"x = 12.3", true},
        {"x < 12", false},     {"x <= 12", true},    {"x < 12.001", true},  {"x IN (11.999, 12.341)", false},
        {"x IN (12.1)", true}, {"x IS NULL", false}, {"x != 12.345", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ds_filter *f = NULL;
        CHECK_EQ_INT(hx_ds_filter_parse(cases[i].expr, &f), HOIST_OK);
        if (!f) continue;
        CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_OK);
        bool may = hx_ds_filter_may_match(f, &st);
        if (may != cases[i].may) fprintf(stderr, "prune: %s\n", cases[i].expr);
        CHECK(may == cases[i].may);
        /* Without min/max (what the Parquet reader reports for decimals
         * today) nothing can be pruned but an all-null chunk. */
        struct ds_colstats none = st;
        none.has_minmax = false;
        none.min.kind = none.max.kind = DS_V_NONE;
        CHECK(hx_ds_filter_may_match(f, &none) == (strcmp(cases[i].expr, "x IS NULL") != 0));
        hx_ds_filter_free(f);
    }
}

int main(void) {
    RUN(test_format);
    RUN(test_eval_widths);
    RUN(test_eval_offset);
    RUN(test_eval_256_wide);
    RUN(test_eval_128_extremes);
    RUN(test_negative_scale);
    RUN(test_bind_errors);
    RUN(test_prune);
    TEST_MAIN_END();
}
