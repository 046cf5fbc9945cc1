/* Fuzzes the CSV writer against the reader: the input (after one byte that
 * picks the reader's delimiter and quote) is read with every column as
 * text; when that works, the table is written back with the writer (RFC
 * 4180, every option byte-driven) and the text read again with the same
 * dialect must give the same strings — any value the writer fails to quote
 * (a delimiter, a quote, CR, LF, a leading BOM, an empty string that would
 * read as a blank line) shows up as a different table. */
#include "hoist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hoist_csv_options *opts(int delim, int quote, int64_t ncols) {
    struct hoist_csv_options *o;
    if (hoist_csv_options_new(&o) != HOIST_OK) abort();
    int bad = hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, delim);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_QUOTE, quote);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_HEADER, 0);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_THREADS, 1);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_BLOCK_SIZE, 64);
    for (int64_t c = 0; c < ncols; c++) {
        char name[32];
        snprintf(name, sizeof name, "f%lld", (long long)c);
        bad |= hoist_csv_options_set_column_type(o, name, "string");
    }
    if (bad) abort();
    return o;
}

/* All batches of a stream, moved into one array list; returns the count. */
static size_t take_all(struct ArrowArrayStream *st, struct ArrowSchema *sc, struct ArrowArray **out) {
    if (st->get_schema(st, sc) != 0) abort();
    size_t n = 0, cap = 0;
    *out = NULL;
    for (;;) {
        struct ArrowArray b;
        if (st->get_next(st, &b) != 0) abort();
        if (!b.release) break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out) abort();
        }
        (*out)[n++] = b;
    }
    st->release(st);
    return n;
}

/* The strings of a table, row by row, with separators that cannot occur
 * ambiguously (lengths first). */
static char *render(const struct ArrowArray *b, size_t nb, size_t *len) {
    size_t cap = 256, n = 0;
    char *p = malloc(cap);
    for (size_t k = 0; p && k < nb; k++)
        for (int64_t r = 0; r < b[k].length; r++)
            for (int64_t c = 0; c < b[k].n_children; c++) {
                const struct ArrowArray *a = b[k].children[c];
                const int32_t *off = a->buffers[1];
                int64_t i = a->offset + r;
                size_t sl = (size_t)(off[i + 1] - off[i]);
                while (n + sl + 32 > cap) {
                    cap *= 2;
                    p = realloc(p, cap);
                    if (!p) abort();
                }
                n += (size_t)snprintf(p + n, cap - n, "%zu:", sl);
                memcpy(p + n, (const char *)a->buffers[2] + off[i], sl);
                n += sl;
                p[n++] = c + 1 == b[k].n_children ? '\n' : '|';
            }
    if (!p) abort();
    *len = n;
    return p;
}

static void release_all(struct ArrowSchema *sc, struct ArrowArray *b, size_t n) {
    for (size_t k = 0; k < n; k++) b[k].release(&b[k]);
    free(b);
    sc->release(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const int delims[] = {',', '\t', ';', '|'};
    int delim = delims[data[0] & 3], quote = data[0] & 4 ? '\'' : '"';
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    /* the column count, then every column as text */
    struct hoist_csv_options *o = opts(delim, quote, 0);
    struct ArrowArrayStream st;
    enum hoist_status rc = hoist_csv_read_memory(text, len, o, &st, NULL, 0);
    hoist_csv_options_free(o);
    if (rc != HOIST_OK) return 0;
    struct ArrowSchema sc;
    struct ArrowArray *b;
    size_t nb = take_all(&st, &sc, &b);
    int64_t ncols = sc.n_children;
    release_all(&sc, b, nb);
    if (ncols == 0) return 0;
    o = opts(delim, quote, ncols);
    rc = hoist_csv_read_memory(text, len, o, &st, NULL, 0);
    if (rc != HOIST_OK) {
        hoist_csv_options_free(o);
        return 0;
    }
    nb = take_all(&st, &sc, &b);
    size_t want_len;
    char *want = render(b, nb, &want_len);

    /* write it back: the text must read back to the same strings */
    struct hoist_csv_writer *w;
    if (hoist_csv_options_set_int(o, HOIST_CSV_QUOTE_STRINGS, (data[0] >> 3) & 1) != HOIST_OK) abort();
    if (hoist_csv_writer_new(o, &sc, &w) != HOIST_OK) abort();
    char *out = NULL;
    size_t out_len = 0;
    for (size_t k = 0; k <= nb; k++) {
        const void *t;
        size_t tl;
        if (k == nb && nb) break;
        if (hoist_csv_writer_write(w, k < nb ? &b[k] : NULL, &t, &tl) != HOIST_OK) abort();
        out = realloc(out, out_len + tl + 1);
        if (!out) abort();
        memcpy(out + out_len, t, tl);
        out_len += tl;
    }
    hoist_csv_writer_free(w);
    release_all(&sc, b, nb);
    rc = hoist_csv_read_memory(out, out_len, o, &st, NULL, 0);
    if (rc != HOIST_OK) {
        fprintf(stderr, "the writer's text does not read back: %s\n", hoist_errmsg());
        abort();
    }
    nb = take_all(&st, &sc, &b);
    size_t got_len;
    char *got = render(b, nb, &got_len);
    if (got_len != want_len || memcmp(got, want, want_len) != 0) {
        fprintf(stderr, "round trip differs:\n%.*s\n---\n%.*s\n", (int)want_len, want, (int)got_len, got);
        abort();
    }
    release_all(&sc, b, nb);
    free(got);
    free(want);
    free(out);
    hoist_csv_options_free(o);
    return 0;
}
