/* Integer literals above int64 against uint64 columns: exact (a literal
 * parsed as a double would make 2^63 + 1 equal 2^63 and 2^64 - 1 equal
 * nothing), in evaluation and in pruning by min/max. */
#include "dataset_internal.h"
#include "test_harness.h"
#include "test_ds_util.h"

#include <stdlib.h>
#include <string.h>

/* Rows: 0, 1, 2^63 - 1, 2^63, 2^63 + 1, 2^64 - 2, 2^64 - 1, null. */
static const uint64_t k_vals[8] = {
    0, 1, INT64_MAX, (uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX + 2, UINT64_MAX - 1, UINT64_MAX, 0};

static const struct dsu_eval_case k_cases[] = {
    {"x = 18446744073709551615", "00000010"},
    {"x = 18446744073709551614", "00000100"},
    {"x > 18446744073709551614", "00000010"},
    {"x >= 9223372036854775808", "00011110"},
    {"x < 9223372036854775809", "11110000"},
    {"x = 9223372036854775809", "00001000"},
    {"x != 9223372036854775808", "11101110"},
    {"x IN (1, 9223372036854775809, 18446744073709551615)", "01001010"},
    {"x NOT IN (9223372036854775808)", "11101110"},
    {"x > 18446744073709551616", "00000000"}, /* beyond uint64: compared as a number */
    {"x < 18446744073709551616", "11111110"},
    {"x > -1", "11111110"},
    {"x <= 9223372036854775807", "11100000"},
};

static void test_eval(void) {
    uint8_t valid = 0x7f;
    const void *bufs[2] = {&valid, k_vals};
    struct ArrowArray a = {.length = 8, .null_count = 1, .n_buffers = 2, .buffers = bufs};
    dsu_check_eval_cases(&a, "L", a.length, k_cases, sizeof k_cases / sizeof k_cases[0], "L");
}

/* An int64 column against a literal above int64: nothing equals it, every
 * value is below it (the tight int64 loop must not truncate it). */
static void test_int64_column(void) {
    int64_t vals[3] = {INT64_MIN, -1, INT64_MAX};
    const void *bufs[2] = {NULL, vals};
    struct ArrowArray a = {.length = 3, .null_count = 0, .n_buffers = 2, .buffers = bufs};
    static const struct dsu_eval_case cases[] = {{"x < 9223372036854775808", "111"},
                                                 {"x = 9223372036854775808", "000"},
                                                 {"x >= 9223372036854775808", "000"},
                                                 {"x != 18446744073709551615", "111"}};
    dsu_check_eval_cases(&a, "l", a.length, cases, sizeof cases / sizeof cases[0], "l");
}

/* Row-group pruning with uint64 min/max above int64 (as the Parquet reader
 * reports them: unsigned values in the 128-bit range). */
static void test_prune(void) {
    const char *names[] = {"x"}, *fmts[] = {"L"};
    struct ds_colstats st;
    memset(&st, 0, sizeof st);
    st.known = st.has_minmax = st.has_null_count = true;
    st.num_values = 10;
    st.min.kind = st.max.kind = DS_V_INT;
    st.min.i = (__int128)INT64_MAX + 2; /* 2^63 + 1 */
    st.max.i = (__int128)UINT64_MAX - 1;
    static const struct {
        const char *expr;
        bool may;
    } cases[] = {
        {"x = 9223372036854775808", false},  {"x = 9223372036854775809", true},
        {"x > 18446744073709551614", false}, {"x >= 18446744073709551614", true},
        {"x < 9223372036854775809", false},  {"x IN (9223372036854775808, 18446744073709551615)", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ds_filter *f = NULL;
        CHECK_EQ_INT(hx_ds_filter_parse(cases[i].expr, &f), HOIST_OK);
        if (!f) continue;
        CHECK_EQ_INT(hx_ds_filter_bind(f, names, fmts, 1), HOIST_OK);
        if (hx_ds_filter_may_match(f, &st) != cases[i].may) fprintf(stderr, "prune: %s\n", cases[i].expr);
        CHECK(hx_ds_filter_may_match(f, &st) == cases[i].may);
        hx_ds_filter_free(f);
    }
}

int main(void) {
    RUN(test_eval);
    RUN(test_int64_column);
    RUN(test_prune);
    TEST_MAIN_END();
}
