/* Fuzzes the CSV reader: the first bytes pick the dialect, block size and
 * threads; the rest is the text. Besides not crashing, results must be
 * well-formed Arrow (offsets inside their data) and, with every column read
 * as text (no inference), the same however the input is cut into chunks or
 * fed in pieces — the speculative chunk starts must never change a row. */
#include "hoist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    char *p;
    size_t len, cap;
};

static void put(struct sink *s, const void *b, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *p = realloc(s->p, cap);
        if (!p) abort();
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, b, n);
    s->len += n;
}

/* Checks one value and renders it into s. */
static void value(struct sink *s, const char *fmt, const struct ArrowArray *a, int64_t i) {
    const uint8_t *valid = a->n_buffers ? a->buffers[0] : NULL;
    if (fmt[0] == 'n' || (valid && !((valid[i >> 3] >> (i & 7)) & 1))) {
        put(s, "\x01", 1);
        return;
    }
    if (fmt[0] == 'u') {
        const int32_t *off = a->buffers[1];
        if (off[i] < 0 || off[i + 1] < off[i]) abort();
        put(s, (const char *)a->buffers[2] + off[i], (size_t)(off[i + 1] - off[i]));
    } else if (fmt[0] == 'b') {
        put(s, (((const uint8_t *)a->buffers[1])[i >> 3] >> (i & 7)) & 1 ? "T" : "F", 1);
    } else {
        size_t w = !strcmp(fmt, "tdD") ? 4 : 8;
        put(s, (const uint8_t *)a->buffers[1] + (size_t)i * w, w);
    }
    put(s, "\x02", 1);
}

/* Renders a batch row by row (so batch boundaries do not show). */
static void batch(struct sink *s, const struct ArrowSchema *sc, const struct ArrowArray *b) {
    if (b->n_children != sc->n_children || b->length <= 0) abort();
    for (int64_t c = 0; c < b->n_children; c++)
        if (b->children[c]->length != b->length) abort();
    for (int64_t i = 0; i < b->length; i++) {
        for (int64_t c = 0; c < b->n_children; c++) value(s, sc->children[c]->format, b->children[c], i);
        put(s, "\x03", 1);
    }
}

static int drain(struct ArrowArrayStream *st, struct sink *out, char ***names, int64_t *ncols) {
    struct ArrowSchema sc;
    if (st->get_schema(st, &sc) != 0) abort();
    if (names) {
        *ncols = sc.n_children;
        *names = calloc((size_t)sc.n_children + 1, sizeof **names);
        for (int64_t c = 0; c < sc.n_children; c++) (*names)[c] = strdup(sc.children[c]->name);
    }
    for (;;) {
        struct ArrowArray b;
        if (st->get_next(st, &b) != 0) abort();
        if (!b.release) break;
        batch(out, &sc, &b);
        b.release(&b);
    }
    sc.release(&sc);
    st->release(st);
    return 0;
}

static struct hoist_csv_options *make_opts(const uint8_t *cfg, int block, int threads) {
    static const int delims[] = {',', '\t', ';', '|', -1, ':', ' ', -1};
    struct hoist_csv_options *o;
    if (hoist_csv_options_new(&o) != HOIST_OK) abort();
    int bad = 0;
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, delims[cfg[0] & 7]);
    if (cfg[0] & 8) bad |= hoist_csv_options_set_int(o, HOIST_CSV_QUOTE, '\'');
    if (cfg[0] & 16) bad |= hoist_csv_options_set_int(o, HOIST_CSV_ESCAPE, '\\');
    if (cfg[0] & 32) bad |= hoist_csv_options_set_int(o, HOIST_CSV_DOUBLE_QUOTE, 0);
    if (cfg[0] & 64) bad |= hoist_csv_options_set_int(o, HOIST_CSV_COMMENT, '#');
    if (cfg[0] & 128) bad |= hoist_csv_options_set_int(o, HOIST_CSV_SKIP_BAD_ROWS, 1);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_HEADER, (cfg[1] % 3) - 1);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_BLOCK_SIZE, block);
    bad |= hoist_csv_options_set_int(o, HOIST_CSV_THREADS, threads);
    if (bad) abort();
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const uint8_t *cfg = data;
    const char *text = (const char *)data + 3;
    size_t len = size - 3;
    int block = 1 + cfg[2] % 64;

    /* inferred types, chunked: must not crash, output well-formed */
    struct hoist_csv_options *o = make_opts(cfg, block, 1 + (cfg[1] >> 4) % 3);
    struct ArrowArrayStream st;
    struct sink first = {0};
    char **names = NULL;
    int64_t ncols = 0;
    enum hoist_status rc = hoist_csv_read_memory(text, len, o, &st, NULL, 0);
    if (rc == HOIST_OK)
        drain(&st, &first, &names, &ncols);
    else if (rc != HOIST_ERR_CSV_PARSE && rc != HOIST_ERR_COLUMN_NOT_FOUND && rc != HOIST_ERR_LIMIT)
        abort();
    hoist_csv_options_free(o);
    free(first.p);
    if (rc != HOIST_OK) return 0;

    /* a type set by name reaches only the first of duplicate names */
    for (int64_t c = 0; c < ncols; c++)
        for (int64_t d = 0; d < c; d++)
            if (!strcmp(names[c], names[d])) ncols = -1;
    if (ncols < 0) {
        for (int64_t c = 0; names[c]; c++) free(names[c]);
        free(names);
        return 0;
    }
    /* every column as text: one chunk, tiny chunks and a stream agree */
    struct sink out[3] = {{0}};
    int ok = 1;
    for (int k = 0; k < 3; k++) {
        o = make_opts(cfg, k == 0 ? 0 : block, k == 1 ? 2 : 1);
        for (int64_t c = 0; c < ncols; c++)
            if (hoist_csv_options_set_column_type(o, names[c], "string") != HOIST_OK) abort();
        if (k < 2) {
            rc = hoist_csv_read_memory(text, len, o, &st, NULL, 0);
            if (rc == HOIST_OK) drain(&st, &out[k], NULL, NULL);
        } else {
            struct hoist_csv_reader *rd;
            if (hoist_csv_reader_new(o, &rd) != HOIST_OK) abort();
            rc = HOIST_OK;
            for (size_t i = 0; rc == HOIST_OK && i < len; i += (size_t)block)
                rc = hoist_csv_reader_feed(rd, text + i, len - i < (size_t)block ? len - i : (size_t)block);
            if (rc == HOIST_OK) rc = hoist_csv_reader_finish(rd);
            struct ArrowSchema sc;
            if (rc == HOIST_OK && hoist_csv_reader_schema(rd, &sc) != HOIST_OK) abort();
            for (;;) {
                struct ArrowArray b;
                if (rc != HOIST_OK || hoist_csv_reader_next(rd, &b) != HOIST_OK || !b.release) break;
                batch(&out[k], &sc, &b);
                b.release(&b);
            }
            if (rc == HOIST_OK) sc.release(&sc);
            hoist_csv_reader_free(rd);
        }
        hoist_csv_options_free(o);
        /* invalid UTF-8 in a column read as text is a fair failure, the same every way */
        if (rc != HOIST_OK) {
            if (rc != HOIST_ERR_CSV_PARSE) abort();
            ok = 0;
        }
    }
    if (ok && (out[0].len != out[1].len || out[0].len != out[2].len ||
               (out[0].len && (memcmp(out[0].p, out[1].p, out[0].len) || memcmp(out[0].p, out[2].p, out[0].len))))) {
        fprintf(stderr, "fuzz_csv: chunking changed the result\n");
        abort();
    }
    for (int k = 0; k < 3; k++) free(out[k].p);
    for (int64_t c = 0; c < ncols; c++) free(names[c]);
    free(names);
    return 0;
}
