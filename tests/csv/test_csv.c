/* CSV codec unit tests: dialects with known values, every split point of a
 * tricky input (one-shot chunks and streaming feeds), sniffing, bad input
 * with line and column, option checks, and every allocation failed in turn
 * (ASan then checks nothing leaks). */
#include "csv_internal.h"
#include "test_harness.h"

#include <inttypes.h>
#include <stdarg.h>

/* ---- rendering a result as text, to compare results exactly ------------ */

/* Out of memory while rendering shows up as a mismatch, which is enough. */
static void used(enum hoist_status st) { (void)st; }

static void render_value(struct hx_buf *o, const char *fmt, const struct ArrowArray *a, int64_t i) {
    const uint8_t *valid = a->n_buffers ? a->buffers[0] : NULL;
    if (fmt[0] == 'n' || (valid && !((valid[i >> 3] >> (i & 7)) & 1))) {
        used(hx_buf_append_str(o, "<null>"));
        return;
    }
    if (!strcmp(fmt, "l") || !strncmp(fmt, "tsu", 3))
        used(hx_buf_printf(o, "%" PRId64, ((const int64_t *)a->buffers[1])[i]));
    else if (!strcmp(fmt, "g"))
        used(hx_buf_printf(o, "%.17g", ((const double *)a->buffers[1])[i]));
    else if (!strcmp(fmt, "tdD"))
        used(hx_buf_printf(o, "%d", ((const int32_t *)a->buffers[1])[i]));
    else if (!strcmp(fmt, "b"))
        used(hx_buf_append_str(o, (((const uint8_t *)a->buffers[1])[i >> 3] >> (i & 7)) & 1 ? "T" : "F"));
    else if (!strcmp(fmt, "u")) {
        const int32_t *off = a->buffers[1];
        used(hx_buf_append(o, "'", 1));
        used(hx_buf_append(o, (const char *)a->buffers[2] + off[i], (size_t)(off[i + 1] - off[i])));
        used(hx_buf_append(o, "'", 1));
    }
}

/* "name:format,...|row|row..." or NULL (status in *st) */
static char *render_stream(struct ArrowArrayStream *s) {
    struct hx_buf o;
    hx_buf_init(&o);
    struct ArrowSchema sc;
    if (s->get_schema(s, &sc) != 0) {
        s->release(s);
        return NULL;
    }
    for (int64_t c = 0; c < sc.n_children; c++)
        used(hx_buf_printf(&o, "%s:%s,", sc.children[c]->name, sc.children[c]->format));
    for (;;) {
        struct ArrowArray b;
        if (s->get_next(s, &b) != 0 || !b.release) break;
        for (int64_t r = 0; r < b.length; r++) {
            used(hx_buf_append_str(&o, "|"));
            for (int64_t c = 0; c < b.n_children; c++) {
                render_value(&o, sc.children[c]->format, b.children[c], r);
                used(hx_buf_append_str(&o, ","));
            }
        }
        b.release(&b);
    }
    sc.release(&sc);
    s->release(s);
    return hx_buf_detach(&o);
}

static struct hoist_csv_options *opts_v(const char *spec, va_list ap) {
    struct hoist_csv_options *o;
    if (hoist_csv_options_new(&o) != HOIST_OK) return NULL;
    /* spec: one letter per int option taken from the varargs */
    for (const char *p = spec; *p; p++) {
        int v = va_arg(ap, int);
        enum hoist_csv_option opt = *p == 'd'   ? HOIST_CSV_DELIMITER
                                    : *p == 'q' ? HOIST_CSV_QUOTE
                                    : *p == 'e' ? HOIST_CSV_ESCAPE
                                    : *p == 'D' ? HOIST_CSV_DOUBLE_QUOTE
                                    : *p == 'h' ? HOIST_CSV_HEADER
                                    : *p == 'c' ? HOIST_CSV_COMMENT
                                    : *p == 's' ? HOIST_CSV_SKIP_BAD_ROWS
                                    : *p == 't' ? HOIST_CSV_THREADS
                                    : *p == 'n' ? HOIST_CSV_STRINGS_CAN_BE_NULL
                                                : HOIST_CSV_BLOCK_SIZE;
        if (hoist_csv_options_set_int(o, opt, v) != HOIST_OK) {
            hoist_csv_options_free(o);
            return NULL;
        }
    }
    return o;
}

static struct hoist_csv_options *opts(const char *spec, ...) {
    va_list ap;
    va_start(ap, spec);
    struct hoist_csv_options *o = opts_v(spec, ap);
    va_end(ap);
    return o;
}

/* Reads text with options; returns the rendering or NULL with *st set. */
static char *read_text(const char *text, size_t len, const struct hoist_csv_options *o, enum hoist_status *st) {
    struct ArrowArrayStream s;
    *st = hoist_csv_read_memory(text, len, o, &s, NULL, 0);
    return *st == HOIST_OK ? render_stream(&s) : NULL;
}

static char *read_stream_pieces(const char *text, size_t len, size_t piece, const struct hoist_csv_options *o,
                                enum hoist_status *st) {
    struct hoist_csv_reader *rd;
    if ((*st = hoist_csv_reader_new(o, &rd)) != HOIST_OK) return NULL;
    struct hx_buf rows;
    hx_buf_init(&rows);
    for (size_t i = 0; *st == HOIST_OK && i < len; i += piece)
        *st = hoist_csv_reader_feed(rd, text + i, len - i < piece ? len - i : piece);
    if (*st == HOIST_OK) *st = hoist_csv_reader_finish(rd);
    char *out = NULL;
    struct ArrowSchema sc;
    if (*st == HOIST_OK && (*st = hoist_csv_reader_schema(rd, &sc)) == HOIST_OK) {
        for (int64_t c = 0; c < sc.n_children; c++)
            used(hx_buf_printf(&rows, "%s:%s,", sc.children[c]->name, sc.children[c]->format));
        for (;;) {
            struct ArrowArray b;
            if ((*st = hoist_csv_reader_next(rd, &b)) != HOIST_OK || !b.release) break;
            for (int64_t r = 0; r < b.length; r++) {
                used(hx_buf_append_str(&rows, "|"));
                for (int64_t c = 0; c < b.n_children; c++) {
                    render_value(&rows, sc.children[c]->format, b.children[c], r);
                    used(hx_buf_append_str(&rows, ","));
                }
            }
            b.release(&b);
        }
        sc.release(&sc);
        if (*st == HOIST_OK) out = hx_buf_detach(&rows);
    }
    hx_buf_reset(&rows);
    hoist_csv_reader_free(rd);
    return out;
}

static void expect(const char *text, struct hoist_csv_options *o, const char *want) {
    enum hoist_status st;
    char *got = read_text(text, strlen(text), o, &st);
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK_STR(got, want);
    hx_free(got);
    hoist_csv_options_free(o);
}

static void test_dialects(void) {
    expect("a,b\n1,x\n2,y\n", NULL, "a:l,b:u,|1,'x',|2,'y',");
    expect("a,b\r\n1,\"x\r\ny\"\r\n", NULL, "a:l,b:u,|1,'x\r\ny',");
    expect("\xef\xbb\xbf"
           "a;b\n1;\"q\"\"t\"\n\n",
           NULL, "a:l,b:u,|1,'q\"t',");
    expect("a|b\n1|2", NULL, "a:l,b:l,|1,2,");
    expect("a,b\n1,\"x\\\"y\"\n", opts("eD", '\\', 0), "a:l,b:u,|1,'x\"y',");
    expect("#c,1\na,b\n#c\n1,2\n", opts("c", '#'), "a:l,b:l,|1,2,");
    expect("1,2\n3,4\n", NULL, "f0:l,f1:l,|1,2,|3,4,");
    expect("a,b\n1,2\n", opts("h", 0), "f0:u,f1:u,|'a','b',|'1','2',");
    expect("a,b\nNA,\n1,\n", NULL, "a:l,b:n,|<null>,<null>,|1,<null>,");
    expect("a,b\nNA,\n1,x\n", NULL, "a:l,b:u,|<null>,'',|1,'x',");
    expect("a,b\nNA,\n1,x\n", opts("n", 1), "a:l,b:u,|<null>,<null>,|1,'x',");
    expect("t,d,f\n2020-01-01T00:00:01.5Z,1970-01-02,1e3\n", NULL, "t:tsu:UTC,d:tdD,f:g,|1577836801500000,1,1000,");
    expect("b\ntrue\nFALSE\n\n", NULL, "b:b,|T,|F,");
    expect("a,b\n'x,y',1\n", opts("q", '\''), "a:u,b:l,|'x,y',1,");
}

/* Every block size from 1 byte up cuts the input at every position, so
 * speculative chunk starts land inside quotes, between CR and LF, after an
 * escape; the result must not change, nor when fed in pieces of any size. */
static void test_every_split_point(void) {
    static const char plain[] = "k,v,w\r\n\"a\r\nb\",1,\"q\"\"\n\"\r\n\"\",2,\",\"\r\n"
                                "x\\y,3,\"\"\"\"\r\n\r\n\"\n\n\",4,z\n\"e,\r\n\",5,\"\r\"";
    static const char escaped[] = "k,v,w\r\n\"a\r\nb\",1,\"q\\\"\n\"\r\n\"\",2,\",\"\r\n"
                                  "x\\,y,3,\"\\\"\"\r\n\r\n\"\n\n\",4,z\\\n\n\"e,\r\n\",5,\"\r\"";
    for (int esc = 0; esc < 2; esc++) {
        const char *text = esc ? escaped : plain;
        size_t len = esc ? sizeof escaped - 1 : sizeof plain - 1;
        struct hoist_csv_options *o = esc ? opts("eD", '\\', 0) : NULL;
        enum hoist_status st;
        char *want = read_text(text, len, o, &st);
        CHECK_EQ_INT(st, HOIST_OK);
        CHECK(want && strstr(want, "|'e,\r\n',5,'\r',")); /* the last row, unterminated */
        hoist_csv_options_free(o);
        for (size_t block = 1; want && block <= len; block++)
            for (int threads = 1; threads <= 3; threads += 2) {
                o = esc ? opts("eDbt", '\\', 0, (int)block, threads) : opts("bt", (int)block, threads);
                char *got = read_text(text, len, o, &st);
                CHECK_STR(got, want);
                hx_free(got);
                got = read_stream_pieces(text, len, block, o, &st);
                CHECK_STR(got, want);
                hx_free(got);
                hoist_csv_options_free(o);
            }
        hx_free(want);
    }
}

/* Type sampling runs its windows (one per chunk start) as tasks on the
 * pool: with many chunks and 1..4 threads the picked types and the values
 * are the same, including a column whose only float, bool-looking text or
 * date sits in a late window. */
static void test_parallel_sampling(void) {
    struct hx_buf text;
    hx_buf_init(&text);
    CHECK_EQ_INT(hx_buf_append(&text, "i,f,s,d\n", 8), HOIST_OK);
    for (int r = 0; r < 400; r++) {
        char row[96];
        int n = snprintf(row, sizeof row, "%d,%s,%s,%s\n", r, r == 371 ? "2.5" : "7", r == 390 ? "true" : "x",
                         r == 333 ? "" : "2021-03-04");
        CHECK_EQ_INT(hx_buf_append(&text, row, (size_t)n), HOIST_OK);
    }
    enum hoist_status st;
    char *want = read_text(text.data, text.len, NULL, &st);
    CHECK_EQ_INT(st, HOIST_OK);
    CHECK(want && strncmp(want, "i:l,f:g,s:u,d:tdD,|", 19) == 0);
    for (int block = 64; want && block <= 4096; block *= 2)
        for (int threads = 1; threads <= 4; threads++) {
            struct hoist_csv_options *o = opts("bt", block, threads);
            char *got = read_text(text.data, text.len, o, &st);
            CHECK_STR(got, want);
            hx_free(got);
            hoist_csv_options_free(o);
        }
    hx_free(want);
    hx_buf_reset(&text);
}

static void expect_fail(const char *text, size_t len, struct hoist_csv_options *o, enum hoist_status want,
                        const char *msg) {
    enum hoist_status st;
    char *got = read_text(text, len, o, &st);
    CHECK(got == NULL);
    CHECK_EQ_INT(st, want);
    CHECK_CONTAINS(hoist_errmsg(), msg);
    hx_free(got);
    hoist_csv_options_free(o);
}

static void test_bad_input(void) {
    expect_fail("a,b\n1,2\n3\n", 10, NULL, HOIST_ERR_CSV_PARSE, "line 3, column 2: expected 2 fields, found 1");
    expect_fail("a,b\n1,2\n3,\"x\n", 13, opts("b", 3), HOIST_ERR_CSV_PARSE, "line 3: unterminated quoted field");
    expect_fail("a\nx\n\xc3\x28\n", 7, NULL, HOIST_ERR_CSV_PARSE, "line 3, column 1 ('a'): invalid UTF-8");
    expect_fail("a\nx\n\xed\xa0\x80\n", 8, NULL, HOIST_ERR_CSV_PARSE, "invalid UTF-8"); /* a surrogate */
    struct hoist_csv_options *o = opts("");
    CHECK_EQ_INT(hoist_csv_options_set_column_type(o, "a", "date32"), HOIST_OK);
    expect_fail("a\n2020-01-01\n2020-02-30\n", 23, o, HOIST_ERR_CSV_PARSE,
                "line 3, column 1 ('a'): '2020-02-30' is not a valid date32");
    o = opts("");
    const char *cols[] = {"zz"};
    CHECK_EQ_INT(hoist_csv_options_set_strings(o, HOIST_CSV_COLUMNS, cols, 1), HOIST_OK);
    expect_fail("a\n1\n", 4, o, HOIST_ERR_COLUMN_NOT_FOUND, "no column 'zz'");
    /* with skip_bad_rows the same rows are counted and left out */
    o = opts("sbt", 1, 2, 2);
    struct ArrowArrayStream s;
    struct hoist_csv_stats stats;
    const char *bad = "a,b\n1,x\n2\n3,\xff\n4,y,z\n5,w\n";
    CHECK_EQ_INT(hoist_csv_read_memory(bad, strlen(bad), o, &s, &stats, sizeof stats), HOIST_OK);
    char *got = render_stream(&s);
    CHECK_STR(got, "a:l,b:u,|1,'x',|5,'w',");
    CHECK_EQ_INT(stats.bad_rows, 3);
    CHECK_EQ_INT(stats.bad_lines[0], 3);
    CHECK_EQ_INT(stats.bad_lines[1], 4);
    CHECK_EQ_INT(stats.bad_lines[2], 5);
    hx_free(got);
    hoist_csv_options_free(o);
}

static void test_options(void) {
    struct hoist_csv_options *o;
    CHECK_EQ_INT(hoist_csv_options_new(&o), HOIST_OK);
    CHECK_EQ_INT(hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, 300), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, '\n'), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, '"'), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_csv_options_set_int(o, HOIST_CSV_HEADER, 2), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_csv_options_set_int(o, (enum hoist_csv_option)99, 1), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_csv_options_set_column_type(o, "a", "int128"), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "unknown type 'int128'");
    CHECK_EQ_INT(hoist_csv_options_set_column_type(o, "a", "int64"), HOIST_OK);
    CHECK_EQ_INT(hoist_csv_options_set_column_type(o, "a", NULL), HOIST_OK);
    CHECK_EQ_INT(hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, -1), HOIST_OK);
    hoist_csv_options_free(o);
    hoist_csv_options_free(NULL);
    hoist_csv_reader_free(NULL);
    struct hoist_csv_reader *rd;
    CHECK_EQ_INT(hoist_csv_reader_new(NULL, &rd), HOIST_OK);
    struct ArrowSchema sc;
    CHECK_EQ_INT(hoist_csv_reader_schema(rd, &sc), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_csv_reader_feed(rd, "a\n1\n", 4), HOIST_OK);
    CHECK_EQ_INT(hoist_csv_reader_finish(rd), HOIST_OK);
    CHECK_EQ_INT(hoist_csv_reader_feed(rd, "2\n", 2), HOIST_ERR_INVALID_ARG);
    hoist_csv_reader_free(rd);
}

static void test_values(void) {
    int64_t i;
    double d;
    int32_t day;
    bool z;
    CHECK(hx_csv_parse_int64((const uint8_t *)"-9223372036854775808", 20, &i) && i == INT64_MIN);
    CHECK(!hx_csv_parse_int64((const uint8_t *)"9223372036854775808", 19, &i));
    CHECK(!hx_csv_parse_int64((const uint8_t *)"+1", 2, &i));
    /* padding with spaces and tabs at either end is read past (as pyarrow
     * does); other bytes below ' ' are not padding */
    CHECK(hx_csv_parse_int64((const uint8_t *)" \t-12", 5, &i) && i == -12);
    CHECK(hx_csv_parse_int64((const uint8_t *)"12\t ", 4, &i) && i == 12);
    CHECK(hx_csv_parse_int64((const uint8_t *)" 7 ", 3, &i) && i == 7);
    CHECK(!hx_csv_parse_int64((const uint8_t *)"12\x01", 3, &i));
    CHECK(!hx_csv_parse_int64((const uint8_t *)"\r12", 3, &i));
    CHECK(!hx_csv_parse_int64((const uint8_t *)" \t ", 3, &i));
    CHECK(hx_csv_parse_timestamp((const uint8_t *)" 1970-01-01 00:00:01\t", 21, &i, &z) && i == 1000000 && !z);
    CHECK(hx_csv_parse_timestamp((const uint8_t *)"\t1970-01-01 00:00:00.000002 ", 28, &i, &z) && i == 2 && !z);
    CHECK(!hx_csv_parse_timestamp((const uint8_t *)"1970-01-01 00:00:01\x1f", 20, &i, &z));
    CHECK(hx_csv_parse_float64((const uint8_t *)"0.1", 3, &d) && d == 0.1);
    CHECK(hx_csv_parse_float64((const uint8_t *)"123456789012345678901234e-5", 27, &d) &&
          d == 1234567890123456789.01234);
    CHECK(hx_csv_parse_float64((const uint8_t *)"4.9e-324", 8, &d) && d > 0);
    CHECK(!hx_csv_parse_float64((const uint8_t *)"1e", 2, &d));
    CHECK(!hx_csv_parse_float64((const uint8_t *)".", 1, &d));
    CHECK(hx_csv_parse_date32((const uint8_t *)"2000-02-29", 10, &day) && day == 11016);
    CHECK(!hx_csv_parse_date32((const uint8_t *)"1900-02-29", 10, &day));
    CHECK(hx_csv_parse_timestamp((const uint8_t *)"1970-01-01T01:00:00+01:00", 25, &i, &z) && i == 0 && z);
    CHECK(hx_csv_parse_timestamp((const uint8_t *)"1969-12-31 23:59:59.999999", 26, &i, &z) && i == -1 && !z);
    CHECK(!hx_csv_parse_timestamp((const uint8_t *)"1970-01-01 00:00:00.0000001", 27, &i, &z));
    CHECK(hx_csv_parse_timestamp((const uint8_t *)"1970-01-01 00:00:00.0000010", 27, &i, &z) && i == 1);
    CHECK(hx_csv_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80 ok", 7));
    CHECK(!hx_csv_utf8_valid((const uint8_t *)"\xc0\x80", 2));         /* overlong */
    CHECK(!hx_csv_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!hx_csv_utf8_valid((const uint8_t *)"ab\xe2\x82", 4));       /* cut short */
}

/* The fast row lexer against the general one: random text over an
 * alphabet rich in delimiters, quotes and line breaks (long fields too, so
 * rows cross 64-byte blocks), lexed from every position with both; when
 * the fast one takes a row, fields, count and end must match exactly. It
 * must also take most rows of ordinary CSV (else it is no fast path). */
static void test_fast_lexer(void) {
    uint64_t rng = 5;
    enum { LEN = 4096, CAP = 64 };
    static uint8_t text[LEN];
    static const char alphabet[] = "ab1,,,\"\"\n\r x;";
    int compared = 0, taken = 0, plain_taken = 0, plain_rows = 0;
    for (int round = 0; round < 60; round++) {
        bool plain = round % 3 == 0; /* ordinary CSV: quotes only around whole fields */
        for (size_t i = 0; i < LEN; i++) {
            if (plain) {
                uint64_t r = th_xorshift(&rng) % 40;
                text[i] = r < 30   ? (uint8_t)('a' + r % 26)
                          : r < 36 ? (uint8_t)','
                          : r < 38 ? (uint8_t)'\n'
                                   : (uint8_t)'"';
            } else {
                uint64_t r = th_xorshift(&rng) % 50;
                text[i] = r < sizeof alphabet - 1 ? (uint8_t)alphabet[r] : (uint8_t)('a' + r % 7); /* some long runs */
            }
        }
        if (plain) /* balance quotes into whole quoted fields: "x" between stops */
            for (size_t i = 1; i + 3 < LEN; i++)
                if (text[i] == '"') {
                    text[i] = text[i - 1] == ',' && text[i + 2] != '"' ? '"' : 'q';
                    if (text[i] == '"') text[i + 2] = '"', text[i + 3] = ',', i += 3;
                }
        for (int q = 0; q < 2; q++) {
            struct hx_csv_dialect d;
            hx_csv_dialect_init(&d, (uint8_t)(round % 2 ? ';' : ','), q ? '"' : 0, 0, round % 4 != 1, 0);
            CHECK(d.simple);
            int map[CAP];
            for (int k = 0; k < CAP; k++) map[k] = k % 3 == 2 ? -1 : k;
            for (size_t p = 0; p < LEN; p++) {
                struct hx_csv_field fa[CAP], fb[CAP];
                memset(fa, 0xaa, sizeof fa);
                memset(fb, 0xaa, sizeof fb);
                size_t na = 0, nb = 0, ea = 0, eb = 0, base = p / 2, cap = p % 2 ? CAP : 5;
                const int *m = p % 5 == 0 ? map : NULL;
                bool fast = hx_csv_lex_row_fast(&d, text, LEN, p, base, m, cap, fa, &na, &ea);
                enum hx_csv_row rs = hx_csv_lex_row_general(&d, text, LEN, p, true, base, m, cap, fb, &nb, &eb);
                compared++;
                if (plain && q) plain_rows++;
                if (!fast) continue;
                taken++;
                if (plain && q) plain_taken++;
                /* the same slots written alike, the others left as they were */
                bool same = rs == HX_ROW_OK && na == nb && ea == eb && memcmp(fa, fb, sizeof fa) == 0;
                if (!same) fprintf(stderr, "fast lexer differs at round %d, q %d, position %zu\n", round, q, p);
                CHECK(same);
            }
        }
    }
    fprintf(stderr, "fast lexer took %d of %d rows (%d of %d plain)\n", taken, compared, plain_taken, plain_rows);
    CHECK(plain_taken * 10 > plain_rows * 9);
    CHECK(taken < compared); /* and left the odd ones to the general lexer */
}

/* The fast lexer's quoted spans carried across 64-byte blocks: rows of
 * well-formed CSV whose quoted fields hold delimiters, LF, CR and CRLF and
 * run 0..150 bytes (so the spans start, end and cross block boundaries at
 * every offset), with CRLF or LF row ends, a few doubled quotes and stray
 * quotes in unquoted fields. Lexed from every position by both lexers:
 * when the fast one takes a row it must read it as the general one does,
 * and it must take nearly every row start without doubled or stray quotes
 * (else the carried spans would go untested). */
static void test_fast_lexer_quoted_spans(void) {
    uint64_t rng = 77;
    enum { LEN = 1 << 15, CAP = 16 };
    static uint8_t text[LEN];
    static bool clean_start[LEN];
    static const char inner[] = "abc,,\n\r;x y";
    for (int round = 0; round < 6; round++) {
        memset(clean_start, 0, sizeof clean_start);
        size_t k = 0;
        while (k < LEN - 400) {
            size_t row = k;
            bool clean = true;
            int nf = 1 + (int)(th_xorshift(&rng) % 8);
            for (int f = 0; f < nf; f++) {
                if (f) text[k++] = ',';
                uint64_t kind = th_xorshift(&rng) % 10;
                size_t n = (size_t)(th_xorshift(&rng) % (th_xorshift(&rng) % 4 ? 12 : 150));
                if (kind < 5) { /* quoted */
                    text[k++] = '"';
                    for (size_t i = 0; i < n; i++) {
                        uint64_t r = th_xorshift(&rng) % 200;
                        if (r == 0) { /* a doubled quote */
                            text[k++] = '"';
                            text[k++] = '"';
                            clean = false;
                        } else {
                            text[k++] = (uint8_t)inner[r % (sizeof inner - 1)];
                        }
                    }
                    text[k++] = '"';
                } else {
                    for (size_t i = 0; i < n; i++) text[k++] = (uint8_t)('a' + th_xorshift(&rng) % 26);
                    if (n && th_xorshift(&rng) % 100 == 0) { /* a stray quote: literal for the general lexer */
                        text[k - 1] = '"';
                        clean = false;
                    }
                }
            }
            if (th_xorshift(&rng) & 1) text[k++] = '\r';
            text[k++] = '\n';
            clean_start[row] = clean;
        }
        while (k < LEN) text[k++] = 'z';
        int clean_rows = 0, clean_taken = 0;
        for (int q = 0; q < 2; q++) {
            struct hx_csv_dialect d;
            hx_csv_dialect_init(&d, ',', q ? '"' : 0, 0, round % 2 == 0, 0);
            for (size_t p = 0; p + 64 < LEN - 400; p++) {
                struct hx_csv_field fa[CAP], fb[CAP];
                memset(fa, 0xaa, sizeof fa);
                memset(fb, 0xaa, sizeof fb);
                size_t na = 0, nb = 0, ea = 0, eb = 0, base = p - p % 3;
                bool fast = hx_csv_lex_row_fast(&d, text, LEN, p, base, NULL, CAP, fa, &na, &ea);
                enum hx_csv_row rs = hx_csv_lex_row_general(&d, text, LEN, p, true, base, NULL, CAP, fb, &nb, &eb);
                if (q && clean_start[p] && eb + 64 <= LEN) {
                    clean_rows++;
                    clean_taken += fast;
                }
                if (!fast) continue;
                bool same = rs == HX_ROW_OK && na == nb && ea == eb && memcmp(fa, fb, sizeof fa) == 0;
                if (!same) fprintf(stderr, "fast lexer differs at round %d, q %d, position %zu\n", round, q, p);
                CHECK(same);
            }
        }
        CHECK(clean_rows > 100);
        CHECK(clean_taken == clean_rows);
    }
}

/* Conversion skips the null-word lookup for a value that converts when no
 * null word converts to that type (csv_convert.c): null words that are
 * numbers, times or dates still make nulls, and so does NaN among the
 * default words, in chunks of one row and of many. */
static void test_null_words_that_convert(void) {
    static const char text[] = "a,b,c,d\n-999,nan,2020-01-01 00:00:00,2021-05-05\n"
                               "5,7.25,2020-01-02 00:00:00,2021-05-06\n6,1.5,2020-01-03 00:00:00,2021-05-07\n";
    static const char *const nulls[] = {"-999", "nan", "7.25", "2020-01-01 00:00:00", "2021-05-05"};
    for (int small = 0; small < 2; small++) {
        struct hoist_csv_options *o = small ? opts("b", 40) : opts("");
        CHECK_EQ_INT(hoist_csv_options_set_strings(o, HOIST_CSV_NULL_VALUES, nulls, 5), HOIST_OK);
        enum hoist_status st;
        char *got = read_text(text, sizeof text - 1, o, &st);
        CHECK_STR(got, "a:l,b:g,c:tsu:,d:tdD,|<null>,<null>,<null>,<null>,|5,<null>,1577923200000000,18753,"
                       "|6,1.5,1578009600000000,18754,");
        hx_free(got);
        hoist_csv_options_free(o);
    }
    static const char floats[] = "x\nNaN\n1.5\n-nan\n";
    struct hoist_csv_options *o = opts("");
    enum hoist_status st;
    char *got = read_text(floats, sizeof floats - 1, o, &st);
    CHECK_STR(got, "x:g,|<null>,|1.5,|<null>,");
    hx_free(got);
    hoist_csv_options_free(o);
}

/* Validity bitmaps, bit for bit: nulls on either side of each 64-row word
 * edge, a null-free column with no bitmap, bits past the last row clear;
 * lengths around the word size, for every column type that takes nulls. */
static void test_validity_bits(void) {
    static const int64_t lens[] = {3, 63, 64, 65, 127, 128, 130, 200}; /* 1 or 2 rows: all null, type null */
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        int64_t n = lens[li];
        struct hx_buf t;
        hx_buf_init(&t);
        CHECK(hx_buf_append_str(&t, "i,f,s,none\n") == HOIST_OK);
        for (int64_t r = 0; r < n; r++) {
            bool null = r == 0 || r % 64 == 63 || r % 64 == 0 || r == n - 1 || r % 7 == 3;
            if (null)
                CHECK(hx_buf_append_str(&t, "NA,,x,1\n") == HOIST_OK);
            else
                CHECK(hx_buf_printf(&t, "%" PRId64 ",%" PRId64 ".5,x,1\n", r, r) == HOIST_OK);
        }
        for (int small = 0; small < 2; small++) { /* one chunk; chunks of ~40 rows */
            struct hoist_csv_options *o = small ? opts("b", 1024) : opts("");
            struct ArrowArrayStream st;
            CHECK_EQ_INT(hoist_csv_read_memory(t.data, t.len, o, &st, NULL, 0), HOIST_OK);
            struct ArrowArray b;
            int64_t row0 = 0;
            while (st.get_next(&st, &b) == 0 && b.release) {
                for (int c = 0; c < 2; c++) { /* i and f: the same rows are null */
                    const struct ArrowArray *a = b.children[c];
                    const uint8_t *v = a->buffers[0];
                    int64_t nulls = 0;
                    CHECK(v != NULL);
                    for (int64_t r = 0; v && r < a->length; r++) {
                        int64_t fr = row0 + r;
                        bool null = fr == 0 || fr % 64 == 63 || fr % 64 == 0 || fr == n - 1 || fr % 7 == 3;
                        nulls += null;
                        CHECK_EQ_INT((v[r >> 3] >> (r & 7)) & 1, !null);
                    }
                    CHECK_EQ_INT(a->null_count, nulls);
                    if (v && (a->length & 7)) CHECK_EQ_INT(v[a->length >> 3] >> (a->length & 7), 0);
                }
                CHECK(b.children[3]->buffers[0] == NULL); /* no nulls: no bitmap */
                CHECK_EQ_INT(b.children[3]->null_count, 0);
                row0 += b.length;
                b.release(&b);
            }
            CHECK_EQ_INT(row0, n);
            st.release(&st);
            hoist_csv_options_free(o);
        }
        hx_buf_reset(&t);
    }
}

/* The fixed-shape timestamp path ('YYYY-MM-DD HH:MM:SS[.ffffff]') agrees
 * with the general parser: each random (often invalid) value is compared
 * with itself lengthened so that only the general parser takes it ("0"
 * more fraction, or ".0"), which must give the same verdict and value. */
static void test_timestamp_fast_path(void) {
    uint64_t rng = 11;
    int agreed = 0, valid = 0;
    for (int i = 0; i < 200000; i++) {
        char s[40], longer[44];
        int y = 1600 + (int)(th_xorshift(&rng) % 900), mo = (int)(th_xorshift(&rng) % 14);
        int d = (int)(th_xorshift(&rng) % 33), hh = (int)(th_xorshift(&rng) % 25), mi = (int)(th_xorshift(&rng) % 61);
        int ss = (int)(th_xorshift(&rng) % 61), us = (int)(th_xorshift(&rng) % 1000000);
        bool frac = th_xorshift(&rng) & 1;
        char sep = th_xorshift(&rng) & 1 ? 'T' : ' ';
        if (frac)
            snprintf(s, sizeof s, "%04d-%02d-%02d%c%02d:%02d:%02d.%06d", y, mo, d, sep, hh, mi, ss, us);
        else
            snprintf(s, sizeof s, "%04d-%02d-%02d%c%02d:%02d:%02d", y, mo, d, sep, hh, mi, ss);
        /* a stray byte in the date, time or fraction (not one that would start a zone or
         * padding); 0xfa..0xff carry out of their byte in the word-at-a-time check */
        if (th_xorshift(&rng) % 8 == 0)
            s[th_xorshift(&rng) % (frac ? 26 : 19)] = "x9:/0.\xff\xfaT"[th_xorshift(&rng) % 9];
        snprintf(longer, sizeof longer, "%s%s", s, frac ? "0" : ".0");
        int64_t a = 0, b = 0;
        bool za = false, zb = false;
        bool oka = hx_csv_parse_timestamp((const uint8_t *)s, strlen(s), &a, &za);
        bool okb = hx_csv_parse_timestamp((const uint8_t *)longer, strlen(longer), &b, &zb);
        if (oka == okb && (!oka || (a == b && !za && !zb)))
            agreed++;
        else if (agreed - i > -5)
            fprintf(stderr, "'%s': %d %lld vs '%s': %d %lld\n", s, oka, (long long)a, longer, okb, (long long)b);
        valid += oka;
    }
    CHECK_EQ_INT(agreed, 200000);
    CHECK(valid > 50000 && valid < 150000); /* both verdicts were exercised */
}

/* Fails the 1st, 2nd, ... allocation of a threaded, chunked read and of a
 * streaming read until one succeeds: each failure is NOMEM (never a crash or
 * a wrong answer) and, under ASan, leaks nothing. */
static void test_alloc_failures(void) {
    static const char text[] = "a,b,c\n1,\"x\ny\",2020-01-01\n2,\"q\"\"\",\n3,z,2020-01-02 10:00\n4.5,w,x\n";
    size_t len = sizeof text - 1;
    enum hoist_status st;
    struct hoist_csv_options *o = opts("bt", 8, 3);
    char *want = read_text(text, len, o, &st);
    CHECK(want != NULL);
    for (int stream = 0; stream < 2; stream++) {
        int ok = 0;
        for (uint64_t k = 1; k < 5000 && !ok; k++) {
            hx_alloc_fail_after(k);
            char *got = stream ? read_stream_pieces(text, len, 5, o, &st) : read_text(text, len, o, &st);
            hx_alloc_fail_after(0);
            if (st == HOIST_OK) {
                CHECK_STR(got, want);
                ok = 1;
            } else if (st != HOIST_ERR_NOMEM) {
                fprintf(stderr, "allocation %llu: status %d: %s\n", (unsigned long long)k, st, hoist_errmsg());
                CHECK_EQ_INT(st, HOIST_ERR_NOMEM);
            }
            hx_free(got);
        }
        CHECK(ok);
    }
    hx_free(want);
    hoist_csv_options_free(o);
}

int main(void) {
    RUN(test_values);
    RUN(test_timestamp_fast_path);
    RUN(test_fast_lexer);
    RUN(test_fast_lexer_quoted_spans);
    RUN(test_null_words_that_convert);
    RUN(test_validity_bits);
    RUN(test_dialects);
    RUN(test_every_split_point);
    RUN(test_parallel_sampling);
    RUN(test_bad_input);
    RUN(test_options);
    RUN(test_alloc_failures);
    TEST_MAIN_END();
}
