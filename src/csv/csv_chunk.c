/* A chunk's work on a worker thread: lex its rows (recording only the
 * projected fields), then convert each projected column, widening an
 * inferred type a value does not fit and, with skip_bad_rows, leaving out
 * rows that cannot be read. Everything written goes to the chunk itself;
 * messages are kept in the chunk, since hoist_errmsg is per thread. */
#include "csv_internal.h"

#include <stdio.h>
#include <string.h>

void hx_csv_chunk_reset(struct hx_csv_chunk *ch, size_t nproj) {
    hx_free(ch->fields);
    hx_free(ch->row_off);
    hx_free(ch->dropped);
    if (ch->cols)
        for (size_t j = 0; j < nproj; j++)
            if (ch->cols[j].release) ch->cols[j].release(&ch->cols[j]);
    hx_free(ch->cols);
    hx_free(ch->types);
    size_t nominal = ch->nominal, stop = ch->stop;
    memset(ch, 0, sizeof *ch);
    ch->nominal = nominal;
    ch->stop = stop;
}

static void lex_fail(struct hx_csv_chunk *ch, hx_status st, size_t pos, size_t col, const char *msg) {
    ch->st = st;
    ch->err_pos = pos;
    ch->err_col = col;
    snprintf(ch->err, sizeof ch->err, "%s", msg);
}

static bool grow_rows(struct hx_csv_chunk *ch, size_t nproj) {
    size_t cap = ch->cap_rows ? ch->cap_rows * 2 : 1024;
    uint32_t *ro = hx_realloc(ch->row_off, cap * sizeof *ro);
    if (!ro) return false;
    ch->row_off = ro;
    if (nproj) {
        size_t bytes;
        if (!hx_mul_size(cap, nproj * sizeof *ch->fields, &bytes)) return false;
        struct hx_csv_field *f = hx_realloc(ch->fields, bytes);
        if (!f) return false;
        ch->fields = f;
    }
    ch->cap_rows = cap;
    return true;
}

/* A bad row: fail, or with skip_bad_rows remember where it was. */
static bool bad_row(const struct hoist_csv_reader *rd, struct hx_csv_chunk *ch, size_t pos, size_t col,
                    const char *msg) {
    if (!rd->opts.skip_bad_rows) {
        lex_fail(ch, HOIST_ERR_CSV_PARSE, pos, col, msg);
        return false;
    }
    if (ch->nbad < HX_CSV_BAD_LINES) ch->bad_pos[ch->nbad] = pos;
    ch->nbad++;
    return true;
}

void hx_csv_lex_chunk(const struct hx_csv_job *job, struct hx_csv_chunk *ch) {
    const struct hoist_csv_reader *rd = job->rd;
    const struct hx_csv_dialect *d = &rd->d;
    const uint8_t *data = job->data;
    size_t len = job->len, p = ch->start, nproj = rd->nproj;
    /* every column in order: the lexer stores fields with no map lookup */
    const int *map = rd->proj_map;
    if (nproj == rd->ncols) {
        size_t c = 0;
        while (c < nproj && map[c] == (int)c) c++;
        if (c == nproj) map = NULL;
    }
    for (;;) {
        if (p >= ch->stop || p >= len) break;
        uint8_t c = data[p];
        if (c == '\n') {
            p++;
            continue;
        }
        if (c == '\r') {
            p++;
            if (p < len && data[p] == '\n') p++;
            continue;
        }
        if (d->has_comment && c == d->comment) {
            size_t q = p;
            while (q < len && data[q] != '\n' && data[q] != '\r') q++;
            if (q >= len && !job->final) {
                ch->incomplete = true;
                break;
            }
            p = q;
            continue;
        }
        if ((size_t)ch->nrows == ch->cap_rows && !grow_rows(ch, nproj)) {
            lex_fail(ch, HOIST_ERR_NOMEM, p, 0, "out of memory lexing rows");
            break;
        }
        if (p - ch->start > UINT32_MAX) {
            lex_fail(ch, HOIST_ERR_LIMIT, p, 0, "a chunk grew past 4 GiB");
            break;
        }
        size_t nf = 0, next = len;
        struct hx_csv_field *row = nproj ? ch->fields + (size_t)ch->nrows * nproj : NULL;
        enum hx_csv_row rs = hx_csv_lex_row(d, data, len, p, job->final, ch->start, map, rd->ncols, row, &nf, &next);
        if (rs == HX_ROW_INCOMPLETE) {
            ch->incomplete = true;
            break;
        }
        if (rs == HX_ROW_TOO_BIG) {
            lex_fail(ch, HOIST_ERR_LIMIT, p, 0, "a field longer than 2 GiB");
            break;
        }
        if (rs == HX_ROW_UNTERMINATED) {
            /* the rest of the input is inside the quote: one bad row */
            if (bad_row(rd, ch, p, 0, "unterminated quoted field (a quote opened here is never closed)")) p = len;
            break;
        }
        if (nf != rd->ncols) {
            char msg[96];
            snprintf(msg, sizeof msg, "expected %zu fields, found %zu", rd->ncols, nf);
            if (!bad_row(rd, ch, p, nf < rd->ncols ? nf + 1 : rd->ncols + 1, msg)) break;
            p = next;
            continue;
        }
        ch->row_off[ch->nrows++] = (uint32_t)(p - ch->start);
        p = next;
    }
    ch->end = p;
}

/* ---- conversion ---------------------------------------------------------- */

static void copy_message(char *dst, size_t cap) { hx_error_copy(dst, cap); }

/* Leaves row r out of every column; false when out of memory. */
static bool drop_row(struct hx_csv_chunk *ch, int64_t r, size_t pos) {
    if (!ch->dropped) {
        ch->dropped = hx_calloc((size_t)ch->nrows / 8 + 1, 1);
        if (!ch->dropped) return false;
    }
    ch->dropped[r >> 3] |= (uint8_t)(1u << (r & 7));
    ch->ndropped++;
    if (ch->nbad < HX_CSV_BAD_LINES) ch->bad_pos[ch->nbad] = pos;
    ch->nbad++;
    return true;
}

enum col_result { COL_OK, COL_FAIL, COL_RESTART };

static enum col_result convert_one(const struct hx_csv_job *job, struct hx_csv_chunk *ch, size_t j, bool widen,
                                   struct hx_buf *scratch) {
    const struct hoist_csv_reader *rd = job->rd;
    for (;;) {
        struct hx_csv_convert_fail fail = {0};
        hx_status st = hx_csv_convert_column(&rd->cx, job->data + ch->start, ch->fields, rd->nproj, j, ch->nrows,
                                             ch->dropped, ch->types[j], scratch, &ch->cols[j], &fail);
        if (st == HOIST_OK) return COL_OK;
        if (st != HOIST_ERR_CSV_PARSE) {
            ch->cst = st;
            copy_message(ch->cerr, sizeof ch->cerr);
            return COL_FAIL;
        }
        if (!fail.bad_utf8 && !rd->explicit_type[j] && widen) {
            enum hx_csv_type t = hx_csv_type_join(ch->types[j], fail.wanted);
            ch->types[j] = t == ch->types[j] ? HX_CSV_STRING : t;
            continue;
        }
        if (rd->opts.skip_bad_rows) {
            if (!drop_row(ch, fail.row, ch->start + ch->row_off[fail.row])) {
                ch->cst = HOIST_ERR_NOMEM;
                snprintf(ch->cerr, sizeof ch->cerr, "out of memory");
                return COL_FAIL;
            }
            return COL_RESTART;
        }
        ch->cst = HOIST_ERR_CSV_PARSE;
        ch->fail_row = fail.row;
        ch->fail_col = j;
        ch->fail_utf8 = fail.bad_utf8;
        ch->fail_widen_refused = !fail.bad_utf8 && !rd->explicit_type[j];
        return COL_FAIL;
    }
}

/* The row filter on a chunk: its filter columns converted, the rows it
 * drops marked in ch->dropped (so no other column converts them) and cut
 * from the filter columns. */
static bool run_row_filter(const struct hx_csv_job *job, struct hx_csv_chunk *ch, bool widen, struct hx_buf *scratch) {
    const struct hoist_csv_reader *rd = job->rd;
    ch->filtered = true;
    for (size_t k = 0; k < rd->nfilter_cols; k++) {
        size_t j = rd->filter_cols[k];
        if (!ch->cols[j].release && convert_one(job, ch, j, widen, scratch) != COL_OK) return false;
    }
    int64_t rows = ch->nrows - ch->ndropped;
    uint8_t *keep = hx_malloc(rows > 0 ? (size_t)rows : 1);
    hx_status st = keep ? rd->filter_fn(rd->filter_ud, ch->cols, rows, keep) : HOIST_ERR_NOMEM;
    int64_t kept = 0;
    for (int64_t i = 0; st == HOIST_OK && i < rows; i++) kept += keep[i] != 0;
    if (st == HOIST_OK && kept < rows && !ch->dropped && !(ch->dropped = hx_calloc((size_t)ch->nrows / 8 + 1, 1)))
        st = HOIST_ERR_NOMEM;
    if (st == HOIST_OK && kept < rows) {
        /* keep[] counts the rows not dropped before; map it onto all rows */
        for (int64_t r = 0, i = 0; r < ch->nrows; r++) {
            if ((ch->dropped[r >> 3] >> (r & 7)) & 1) continue;
            if (!keep[i++]) ch->dropped[r >> 3] |= (uint8_t)(1u << (r & 7));
        }
        ch->nfiltered = rows - kept;
        for (size_t k = 0; st == HOIST_OK && k < rd->nfilter_cols; k++) {
            size_t j = rd->filter_cols[k];
            const struct ArrowSchema type = {.format = hx_csv_type_format(ch->types[j])};
            struct ArrowArray cut;
            st = hx_arrow_array_filter(&ch->cols[j], &type, keep, kept, &cut);
            if (st == HOIST_OK) ch->cols[j] = cut;
        }
    }
    hx_free(keep);
    if (st == HOIST_OK) return true;
    ch->cst = st;
    if (st == HOIST_ERR_NOMEM && !keep)
        snprintf(ch->cerr, sizeof ch->cerr, "out of memory");
    else
        copy_message(ch->cerr, sizeof ch->cerr);
    return false;
}

void hx_csv_convert_chunk(const struct hx_csv_job *job, struct hx_csv_chunk *ch, bool widen,
                          const enum hx_csv_type *target) {
    const struct hoist_csv_reader *rd = job->rd;
    size_t nproj = rd->nproj;
    if (ch->st != HOIST_OK || ch->cst != HOIST_OK) return;
    if (!ch->cols) {
        ch->cols = hx_calloc(nproj ? nproj : 1, sizeof *ch->cols);
        ch->types = hx_malloc((nproj ? nproj : 1) * sizeof *ch->types);
        if (!ch->cols || !ch->types) {
            ch->cst = HOIST_ERR_NOMEM;
            snprintf(ch->cerr, sizeof ch->cerr, "out of memory");
            return;
        }
        memcpy(ch->types, rd->types, nproj * sizeof *ch->types);
    }
    /* reconverting to wider types: the columns of other types are redone */
    for (size_t j = 0; target && j < nproj; j++) {
        if (ch->types[j] == target[j]) continue;
        ch->types[j] = target[j];
        if (ch->cols[j].release) ch->cols[j].release(&ch->cols[j]);
    }
    struct hx_buf scratch;
    hx_buf_init(&scratch);
    if (rd->filter_active && !ch->filtered && !run_row_filter(job, ch, widen, &scratch)) goto out;
    for (bool again = true; again;) {
        again = false;
        for (size_t j = 0; j < nproj; j++) {
            if (ch->cols[j].release) continue;
            enum col_result r = convert_one(job, ch, j, widen, &scratch);
            if (r == COL_FAIL) goto out;
            if (r == COL_RESTART) {
                /* the row set changed: every column is redone without it */
                for (size_t k = 0; k < nproj; k++)
                    if (ch->cols[k].release) ch->cols[k].release(&ch->cols[k]);
                again = true;
                break;
            }
        }
    }
out:
    hx_buf_reset(&scratch);
}
