/* Fuzzes the filter language (src/dataset/ds_filter_parse.c, ds_filter.c):
 * the input is an expression; one that parses is bound to a fixed set of
 * columns of every type filters compare, then pruned against statistics and
 * evaluated on a few rows with nulls, so literals of every kind meet every
 * column domain. */
#include "dataset_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NROWS 5
#define NCOLS 9

static const char *const names[NCOLS] = {"x", "l", "y", "s", "d", "ts", "b", "m", "odd name"};
static const char *const formats[NCOLS] = {"i", "l", "g", "u", "tdD", "tsu:", "b", "d:10,2", "L"};

/* Column buffers: row 2 is null everywhere. */
static const uint8_t validity = 0x1b; /* rows 0,1,3,4 */
static const int32_t v_i32[NROWS] = {-1, 0, 7, 2147483647, 19000};
static const int64_t v_i64[NROWS] = {INT64_MIN, -5, 0, 42, INT64_MAX};
static const double v_f64[NROWS] = {-0.0, 1.5, 0.0, 1e300, 0.0 / 0.0};
static const int32_t s_off[NROWS + 1] = {0, 0, 3, 3, 6, 10};
static const char s_data[] = "CRDCSHit's";
static const int64_t v_ts[NROWS] = {0, 1704067200000000LL, 0, -1, 253402300799000000LL};
static const uint8_t v_bool = 0x05;
static uint8_t v_dec[NROWS * 16];
static const uint64_t v_u64[NROWS] = {0, 1, 0, UINT64_MAX, 9223372036854775808ull};

static void array(struct ArrowArray *a, const void **bufs, int nbuf, const void *b1, const void *b2) {
    memset(a, 0, sizeof *a);
    a->length = NROWS;
    a->null_count = 1;
    a->n_buffers = nbuf;
    bufs[0] = &validity;
    bufs[1] = b1;
    bufs[2] = b2;
    a->buffers = bufs;
}

static void colstats(struct ds_colstats *s, int col) {
    memset(s, 0, sizeof *s);
    s->known = col != 3; /* one column without statistics */
    s->has_null_count = true;
    s->null_count = 1;
    s->num_values = NROWS;
    s->has_minmax = true;
    switch (col) {
    case 2:
        s->min.kind = s->max.kind = DS_V_DOUBLE;
        s->min.d = -0.0;
        s->max.d = 1e300;
        break;
    case 7:
        s->min.kind = s->max.kind = DS_V_DECIMAL;
        hx_ds_decimal_from_i64(-12345, s->min.dec);
        hx_ds_decimal_from_i64(99999, s->max.dec);
        break;
    case 6:
        s->min.kind = s->max.kind = DS_V_BOOL;
        s->max.i = 1;
        break;
    default:
        s->min.kind = s->max.kind = DS_V_INT;
        s->min.i = -100;
        s->max.i = 19000;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Expressions are C strings: the text ends at the first NUL. */
    char *expr = malloc(size + 1);
    if (!expr) return 0;
    memcpy(expr, data, size);
    expr[size] = '\0';
    struct ds_filter *f = NULL;
    hx_status st = hx_ds_filter_parse(expr, &f);
    free(expr);
    if (st != HOIST_OK) {
        if (f || st != HOIST_ERR_FILTER) abort(); /* only syntax errors; out of memory is not expected here */
        return 0;
    }
    if (hx_ds_filter_bind(f, names, formats, NCOLS) == HOIST_OK) {
        struct ds_colstats stats[NCOLS];
        for (int c = 0; c < NCOLS; c++) colstats(&stats[c], c);
        volatile bool may = hx_ds_filter_may_match(f, stats);
        (void)may;
        for (int r = 0; r < NROWS; r++) {
            uint64_t w[4]; /* decimal128: the low two words, little-endian */
            hx_ds_decimal_from_i64(v_i32[r], w);
            memcpy(v_dec + 16 * r, w, 16);
        }
        const void *bufs[NCOLS][3];
        struct ArrowArray arr[NCOLS];
        array(&arr[0], bufs[0], 2, v_i32, NULL);
        array(&arr[1], bufs[1], 2, v_i64, NULL);
        array(&arr[2], bufs[2], 2, v_f64, NULL);
        array(&arr[3], bufs[3], 3, s_off, s_data);
        array(&arr[4], bufs[4], 2, v_i32, NULL);
        array(&arr[5], bufs[5], 2, v_ts, NULL);
        array(&arr[6], bufs[6], 2, &v_bool, NULL);
        array(&arr[7], bufs[7], 2, v_dec, NULL);
        array(&arr[8], bufs[8], 2, v_u64, NULL);
        const struct ArrowArray *cols[NCOLS];
        for (int c = 0; c < NCOLS; c++) cols[c] = &arr[c];
        cols[4] = NULL; /* a column absent from the file: all null */
        uint8_t keep[NROWS];
        if (hx_ds_filter_eval(f, cols, formats, NULL, NROWS, keep) == HOIST_OK)
            for (int r = 0; r < NROWS; r++)
                if (keep[r] > 1) abort();
    }
    hx_ds_filter_free(f);
    return 0;
}
