/* Tests for src/csv/csv_write.c: text read by the CSV reader and written
 * back comes out as RFC 4180 text with every value as pyarrow writes it;
 * quoting of delimiters, quotes, line breaks and null-string look-alikes;
 * options (delimiter, header off, null string, quote everything, quoting
 * off refusing a value that needs it); decimals of every width, negative
 * and scaled; nested types refused; every allocation failed in turn is
 * NOMEM and leaks nothing (under ASan). */
#include "test_harness.h"
#include "util_internal.h"

#include <stdint.h>

/* NULL when out of memory (the allocation-failure test makes it so). */
static struct hoist_csv_options *opts(int delim, int quote, int header, const char *null_str, int quote_strings) {
    struct hoist_csv_options *o;
    if (hoist_csv_options_new(&o) != HOIST_OK) return NULL;
    if ((delim && hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, delim) != HOIST_OK) ||
        hoist_csv_options_set_int(o, HOIST_CSV_QUOTE, quote) != HOIST_OK ||
        (header >= 0 && hoist_csv_options_set_int(o, HOIST_CSV_HEADER, header) != HOIST_OK) ||
        (quote_strings && hoist_csv_options_set_int(o, HOIST_CSV_QUOTE_STRINGS, 1) != HOIST_OK) ||
        (null_str && hoist_csv_options_set_strings(o, HOIST_CSV_NULL_VALUES, &null_str, 1) != HOIST_OK)) {
        hoist_csv_options_free(o);
        return NULL;
    }
    return o;
}

/* Reads `in` (types inferred) and writes it back with wopts: the text, or
 * NULL with *st set. */
static char *round_trip(const char *in, struct hoist_csv_options *wopts, enum hoist_status *st) {
    struct ArrowArrayStream s;
    struct hoist_csv_options *ro = opts(0, '"', 1, NULL, 0);
    if (!ro) {
        *st = HOIST_ERR_NOMEM;
        return NULL;
    }
    *st = hoist_csv_read_memory(in, strlen(in), ro, &s, NULL, 0);
    hoist_csv_options_free(ro);
    if (*st != HOIST_OK) return NULL;
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) != 0) {
        s.release(&s);
        *st = HOIST_ERR_NOMEM;
        return NULL;
    }
    struct hoist_csv_writer *w = NULL;
    *st = hoist_csv_writer_new(wopts, &sc, &w);
    struct hx_buf out;
    hx_buf_init(&out);
    for (bool first = true; *st == HOIST_OK; first = false) {
        struct ArrowArray b;
        if (s.get_next(&s, &b) != 0) {
            *st = HOIST_ERR_NOMEM;
            break;
        }
        if (!b.release && !first) break;
        const void *text;
        size_t len;
        *st = hoist_csv_writer_write(w, b.release ? &b : NULL, &text, &len);
        bool end = !b.release;
        if (b.release) b.release(&b);
        if (*st == HOIST_OK && hx_buf_append(&out, text, len) != HOIST_OK) *st = HOIST_ERR_NOMEM;
        if (end) break;
    }
    hoist_csv_writer_free(w);
    sc.release(&sc);
    s.release(&s);
    if (*st != HOIST_OK) {
        hx_buf_reset(&out);
        return NULL;
    }
    if (hx_buf_append(&out, "", 1) != HOIST_OK) {
        hx_buf_reset(&out);
        *st = HOIST_ERR_NOMEM;
        return NULL;
    }
    return hx_buf_detach(&out);
}

static const char *IN = "id,x,ok,day,at,s\n"
                        "1,0.1,true,2020-01-02,2020-01-02 03:04:05.25,plain\n"
                        "-2,1e20,false,1969-12-31,1969-12-31T23:59:59.999999,\"a,b\"\n"
                        "3,,,,,\"say \"\"hi\"\"\nthere\"\n"
                        "4,0.0000015,true,2000-02-29,2000-02-29 00:00:00,\"\"\n";

static void test_values_and_quoting(void) {
    enum hoist_status st;
    struct hoist_csv_options *w = opts(0, '"', -1, NULL, 0);
    char *got = round_trip(IN, w, &st);
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK_STR(got, "id,x,ok,day,at,s\n"
                   "1,0.1,true,2020-01-02,2020-01-02 03:04:05.250000,plain\n"
                   "-2,1e+20,false,1969-12-31,1969-12-31 23:59:59.999999,\"a,b\"\n"
                   "3,,,,,\"say \"\"hi\"\"\nthere\"\n"
                   "4,0.0000015,true,2000-02-29,2000-02-29 00:00:00.000000,\"\"\n"); /* "" is not null */
    hx_free(got);
    hoist_csv_options_free(w);

    /* tab, no header, NA for nulls (the string "NA" quoted), strings quoted */
    w = opts('\t', '"', 0, "NA", 1);
    got = round_trip("a,b\n1,NA\n,x\n", w, &st);
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK_STR(got, "1\t\"NA\"\nNA\t\"x\"\n");
    hx_free(got);
    hoist_csv_options_free(w);
    w = opts(0, '"', 1, "NA", 0);
    got = round_trip("a,b\n1,\"NA\"\n2,y\n", w, &st);
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK_STR(got, "a,b\n1,\"NA\"\n2,y\n");
    hx_free(got);
    hoist_csv_options_free(w);

    /* quoting off: a value that needs it is refused */
    w = opts(0, 0, -1, NULL, 0);
    got = round_trip("a\n\"x,y\"\n", w, &st);
    CHECK(got == NULL);
    CHECK_EQ_INT(st, HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "needs quoting");
    hoist_csv_options_free(w);

    /* a table without rows: the header alone */
    got = round_trip("a,b\n", NULL, &st);
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK_STR(got, "a,b\n");
    hx_free(got);
}

static void noop_release(struct ArrowArray *a) { a->release = NULL; }
static void noop_schema_release(struct ArrowSchema *s) { s->release = NULL; }

/* One decimal column of `bits` with values {-150, 7, 0} at scale 2. */
static void check_decimal(int bits, const char *format) {
    uint8_t data[3 * 32];
    int64_t v[3] = {-150, 7, 0};
    size_t w = (size_t)bits / 8;
    for (int i = 0; i < 3; i++) {
        memset(data + i * w, v[i] < 0 ? 0xff : 0, w);
        memcpy(data + i * w, &v[i], w < 8 ? w : 8);
    }
    struct ArrowSchema col = {.format = format, .name = "d", .release = noop_schema_release};
    struct ArrowSchema *cols[1] = {&col};
    struct ArrowSchema sc = {
        .format = "+s", .name = "", .n_children = 1, .children = cols, .release = noop_schema_release};
    const void *bufs[2] = {NULL, data};
    struct ArrowArray a = {.length = 3, .n_buffers = 2, .buffers = bufs, .release = noop_release};
    struct ArrowArray *kids[1] = {&a};
    const void *sbufs[1] = {NULL};
    struct ArrowArray b = {
        .length = 3, .n_buffers = 1, .buffers = sbufs, .n_children = 1, .children = kids, .release = noop_release};
    struct hoist_csv_writer *wr;
    CHECK_EQ_INT(hoist_csv_writer_new(NULL, &sc, &wr), HOIST_OK);
    const void *text;
    size_t len;
    CHECK_EQ_INT(hoist_csv_writer_write(wr, &b, &text, &len), HOIST_OK);
    char got[64];
    snprintf(got, sizeof got, "%.*s", (int)len, (const char *)text);
    CHECK_STR(got, "d\n-1.50\n0.07\n0.00\n");
    hoist_csv_writer_free(wr);
}

static void test_decimals_and_refusals(void) {
    check_decimal(32, "d:9,2,32");
    check_decimal(64, "d:18,2,64");
    check_decimal(128, "d:38,2");
    check_decimal(256, "d:76,2,256");
    struct ArrowSchema item = {.format = "l", .name = "item", .release = noop_schema_release};
    struct ArrowSchema *items[1] = {&item};
    struct ArrowSchema list = {
        .format = "+l", .name = "l", .n_children = 1, .children = items, .release = noop_schema_release};
    struct ArrowSchema *cols[1] = {&list};
    struct ArrowSchema sc = {
        .format = "+s", .name = "", .n_children = 1, .children = cols, .release = noop_schema_release};
    struct hoist_csv_writer *wr;
    CHECK_EQ_INT(hoist_csv_writer_new(NULL, &sc, &wr), HOIST_ERR_UNSUPPORTED);
    CHECK(wr == NULL);
    CHECK_CONTAINS(hoist_errmsg(), "column 'l'");
}

static void test_alloc_failures(void) {
    int ok = 0;
    for (uint64_t fail = 1; fail < 10000 && !ok; fail++) {
        enum hoist_status st;
        hx_alloc_fail_after(fail);
        char *got = round_trip(IN, NULL, &st);
        hx_alloc_fail_after(0);
        if (st == HOIST_OK) {
            ok = 1;
            CHECK(got != NULL);
        } else {
            CHECK_EQ_INT(st, HOIST_ERR_NOMEM);
        }
        hx_free(got);
    }
    CHECK(ok);
}

int main(void) {
    RUN(test_values_and_quoting);
    RUN(test_decimals_and_refusals);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
