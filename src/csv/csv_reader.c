/* The CSV reader: settles the dialect and the header on the first bytes,
 * then runs jobs — a job is the input in memory (one shot) or what the
 * streaming reader has buffered — as chunks lexed in parallel with
 * speculative starts that are verified in order, types inferred from rows
 * of every chunk, columns converted in parallel, and columns whose chunks
 * disagree widened to one type. Batches go to a queue the caller drains. */
#include "csv_internal.h"

#include <stdio.h>
#include <string.h>

#define MiB ((size_t)1 << 20)
#define HEAD_SAMPLE_ROWS 1000
#define CHUNK_SAMPLE_ROWS 100
#define SNIFF_BYTES (256 * 1024)

static const char *rd_name(const struct hoist_csv_reader *rd) { return rd->name ? rd->name : "CSV"; }

/* ---- dialect, header and columns ----------------------------------------- */

static bool field_value(const struct hoist_csv_reader *rd, const uint8_t *base, struct hx_csv_field f,
                        struct hx_buf *tmp, const uint8_t **s, size_t *n) {
    *s = base + f.off;
    *n = f.len & HX_CSV_FIELD_MAXLEN;
    if (!(f.len & HX_CSV_FIELD_RAW)) return true;
    if (hx_csv_unescape(&rd->d, *s, *n, tmp) != HOIST_OK) return false;
    *s = (const uint8_t *)tmp->data;
    *n = tmp->len;
    return true;
}

/* DuckDB's rule: a first row is a header when a typed column's first value
 * does not have the column's type; with only text columns, when its values
 * are non-empty, distinct and not numbers or dates. */
static hx_status sniff_header(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final,
                              const struct hx_csv_field *row0, size_t nf, size_t p, bool *header) {
    unsigned *masks = hx_malloc(nf * sizeof *masks);
    struct hx_csv_field *tmpf = hx_malloc(nf * sizeof *tmpf);
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    hx_status st = HOIST_OK;
    if (!masks || !tmpf) {
        st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", rd_name(rd));
        goto out;
    }
    for (size_t c = 0; c < nf; c++) masks[c] = 0;
    size_t start = p;
    for (int rows = 0; rows < HEAD_SAMPLE_ROWS && p - start < MiB; rows++) {
        p = hx_csv_skip_lines(&rd->d, data, len, p, final);
        if (p >= len) break;
        size_t n, next;
        if (hx_csv_lex_row(&rd->d, data, len, p, final, p, NULL, nf, tmpf, &n, &next) != HX_ROW_OK) break;
        for (size_t c = 0; n == nf && c < nf; c++) {
            const uint8_t *s;
            size_t sl;
            if (!field_value(rd, data + p, tmpf[c], &tmp, &s, &sl)) {
                st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", rd_name(rd));
                goto out;
            }
            if (hx_csv_words_has(&rd->nulls, s, sl)) continue;
            unsigned m = hx_csv_value_types(&rd->trues, &rd->falses, s, sl) | 1u; /* bit 0: seen */
            masks[c] = masks[c] ? masks[c] & m : m;
        }
        p = next;
    }
    bool typed = false;
    *header = false;
    const unsigned typed_bits = ~(1u | 1u << HX_CSV_STRING);
    for (size_t c = 0; c < nf; c++) {
        enum hx_csv_type best = hx_csv_mask_best(masks[c] & ~1u);
        if (!masks[c] || best == HX_CSV_STRING) continue;
        typed = true;
        const uint8_t *s;
        size_t sl;
        if (!field_value(rd, data, row0[c], &tmp, &s, &sl)) {
            st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", rd_name(rd));
            goto out;
        }
        if (!hx_csv_words_has(&rd->nulls, s, sl) && !(hx_csv_value_types(&rd->trues, &rd->falses, s, sl) & (1u << best)))
            *header = true;
    }
    if (!typed) {
        *header = true;
        for (size_t c = 0; c < nf && *header; c++) {
            const uint8_t *s;
            size_t sl;
            struct hx_buf one;
            hx_buf_init(&one);
            if (!field_value(rd, data, row0[c], &one, &s, &sl)) {
                st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", rd_name(rd));
                goto out;
            }
            if (sl == 0 || (hx_csv_value_types(&rd->trues, &rd->falses, s, sl) & typed_bits & ~(1u << HX_CSV_BOOL)))
                *header = false;
            for (size_t k = 0; k < c && *header; k++) {
                const uint8_t *s2;
                size_t sl2;
                if (!field_value(rd, data, row0[k], &tmp, &s2, &sl2)) {
                    hx_buf_reset(&one);
                    st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", rd_name(rd));
                    goto out;
                }
                if (sl2 == sl && memcmp(s, s2, sl) == 0) *header = false;
            }
            hx_buf_reset(&one);
        }
    }
out:
    hx_free(masks);
    hx_free(tmpf);
    hx_buf_reset(&tmp);
    return st;
}

static hx_status set_names(struct hoist_csv_reader *rd, const uint8_t *data, const struct hx_csv_field *row0,
                           bool header) {
    rd->names = hx_calloc(rd->ncols ? rd->ncols : 1, sizeof *rd->names);
    if (!rd->names) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    for (size_t c = 0; c < rd->ncols; c++) {
        if (rd->opts.column_names.set) {
            rd->names[c] = hx_strdup(rd->opts.column_names.v[c]);
        } else if (header) {
            const uint8_t *s;
            size_t sl;
            if (!field_value(rd, data, row0[c], &tmp, &s, &sl)) break;
            if (!hx_csv_utf8_valid(s, sl)) {
                hx_buf_reset(&tmp);
                HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu, column %zu: the header name is not valid UTF-8",
                        rd_name(rd), (unsigned long long)(rd->base_line + hx_csv_line_of(data, 0)), c + 1);
            }
            rd->names[c] = hx_strndup((const char *)s, sl);
        } else {
            rd->names[c] = hx_asprintf("f%zu", c);
        }
        if (!rd->names[c]) break;
    }
    hx_buf_reset(&tmp);
    for (size_t c = 0; c < rd->ncols; c++)
        if (!rd->names[c]) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
    return HOIST_OK;
}

static hx_status lex_fail_status(const struct hoist_csv_reader *rd, const uint8_t *data, size_t pos,
                                 enum hx_csv_row rs) {
    unsigned long long line = (unsigned long long)(rd->base_line + hx_csv_line_of(data, pos));
    if (rs == HX_ROW_TOO_BIG) HX_FAIL(HOIST_ERR_LIMIT, "%s: line %llu: a field longer than 2 GiB", rd_name(rd), line);
    HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu: unterminated quoted field (a quote opened here is never closed)",
            rd_name(rd), line);
}

/* Settles delimiter, header and column names from the first row(s).
 * *ready = false when non-final data does not hold the first row yet. */
static hx_status settle(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final,
                        size_t *data_start, bool *ready) {
    const struct hoist_csv_options *o = &rd->opts;
    *ready = false;
    size_t p = 0;
    static const uint8_t bom[3] = {0xef, 0xbb, 0xbf};
    if (len >= 3 && memcmp(data, bom, 3) == 0) p = 3;
    else if (!final && len < 3 && memcmp(data, bom, len) == 0) return HOIST_OK;
    int delim = o->delimiter;
    if (delim < 0) {
        size_t win = len - p < SNIFF_BYTES ? len - p : SNIFF_BYTES;
        if (!final && win < SNIFF_BYTES) return HOIST_OK; /* wait for more */
        delim = hx_csv_sniff_delimiter(data + p, win, final && win == len - p, o->quote, o->escape,
                                       o->double_quote != 0, o->comment);
    }
    hx_csv_dialect_init(&rd->d, (uint8_t)delim, o->quote, o->escape, o->double_quote != 0, o->comment);
    size_t p0 = hx_csv_skip_lines(&rd->d, data, len, p, final);
    if (p0 == SIZE_MAX) return HOIST_OK;
    bool names_given = o->column_names.set;
    if (p0 >= len) {
        if (!final) return HOIST_OK;
        rd->ncols = names_given ? o->column_names.n : 0;
        HX_TRY(set_names(rd, data, NULL, false));
        *data_start = len;
        *ready = true;
        return HOIST_OK;
    }
    size_t nf, next;
    enum hx_csv_row rs = hx_csv_lex_row(&rd->d, data, len, p0, final, p0, NULL, 0, NULL, &nf, &next);
    if (rs == HX_ROW_INCOMPLETE) return HOIST_OK;
    if (rs != HX_ROW_OK) return lex_fail_status(rd, data, p0, rs);
    struct hx_csv_field *row0 = hx_malloc(nf * sizeof *row0);
    if (!row0) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
    rs = hx_csv_lex_row(&rd->d, data, len, p0, final, 0, NULL, nf, row0, &nf, &next);
    hx_status st = rs == HX_ROW_OK ? HOIST_OK : lex_fail_status(rd, data, p0, rs);
    bool header = o->header == 1;
    if (st == HOIST_OK && !names_given && o->header < 0)
        st = sniff_header(rd, data, len, final, row0, nf, next, &header);
    if (st == HOIST_OK) {
        rd->ncols = names_given ? o->column_names.n : nf;
        st = set_names(rd, data, row0, header);
    }
    hx_free(row0);
    HX_TRY(st);
    *data_start = header ? next : p0;
    *ready = true;
    return HOIST_OK;
}

static int find_name(const struct hoist_csv_reader *rd, const char *name) {
    for (size_t c = 0; c < rd->ncols; c++)
        if (strcmp(rd->names[c], name) == 0) return (int)c;
    return -1;
}

static hx_status setup_columns(struct hoist_csv_reader *rd) {
    const struct hoist_csv_options *o = &rd->opts;
    rd->nproj = o->columns.set ? o->columns.n : rd->ncols;
    size_t n = rd->nproj ? rd->nproj : 1;
    rd->proj_map = hx_malloc((rd->ncols ? rd->ncols : 1) * sizeof *rd->proj_map);
    rd->proj_cols = hx_malloc(n * sizeof *rd->proj_cols);
    rd->types = hx_calloc(n, sizeof *rd->types);
    rd->explicit_type = hx_calloc(n, sizeof *rd->explicit_type);
    if (!rd->proj_map || !rd->proj_cols || !rd->types || !rd->explicit_type)
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
    for (size_t c = 0; c < rd->ncols; c++) rd->proj_map[c] = o->columns.set ? -1 : (int)c;
    for (size_t j = 0; j < rd->nproj; j++) {
        int c = o->columns.set ? find_name(rd, o->columns.v[j]) : (int)j;
        HX_FAIL_IF(c < 0, HOIST_ERR_COLUMN_NOT_FOUND, "%s: no column '%s' (the file has %zu columns%s%s%s)",
                   rd_name(rd), o->columns.v[j], rd->ncols, rd->ncols ? ": first '" : "",
                   rd->ncols ? rd->names[0] : "", rd->ncols ? "'" : "");
        HX_FAIL_IF(rd->proj_map[c] >= 0 && o->columns.set, HOIST_ERR_INVALID_ARG,
                   "%s: column '%s' selected twice", rd_name(rd), o->columns.v[j]);
        rd->proj_map[c] = (int)j;
        rd->proj_cols[j] = (size_t)c;
    }
    for (size_t i = 0; i < o->ntypes; i++) {
        int c = find_name(rd, o->types[i].name);
        HX_FAIL_IF(c < 0, HOIST_ERR_COLUMN_NOT_FOUND, "%s: a type is set for column '%s', which the file lacks",
                   rd_name(rd), o->types[i].name);
        if (rd->proj_map[c] < 0) continue;
        rd->types[rd->proj_map[c]] = o->types[i].type;
        rd->explicit_type[rd->proj_map[c]] = true;
    }
    return HOIST_OK;
}

/* ---- parallel phases --------------------------------------------------- */

enum phase { PH_LEX, PH_CONVERT, PH_RECONVERT };

struct task {
    const struct hx_csv_job *job;
    struct hx_csv_chunk *ch;
    enum phase phase;
    const enum hx_csv_type *target;
};

static void task_run(void *arg) {
    struct task *t = arg;
    if (t->phase == PH_LEX) hx_csv_lex_chunk(t->job, t->ch);
    else hx_csv_convert_chunk(t->job, t->ch, t->phase == PH_CONVERT && !t->job->rd->types_known, t->target);
}

/* Runs a phase over the chunks flagged in `which` (NULL: all); a pool that
 * cannot take a task (out of memory) leaves it to this thread. */
static void run_phase(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *chunks,
                      size_t n, enum phase ph, const enum hx_csv_type *target, const bool *which) {
    struct task *tasks = n > 1 && rd->threads > 1 ? hx_malloc(n * sizeof *tasks) : NULL;
    struct hx_task_group *g = NULL;
    if (tasks && !rd->pool && hx_pool_new(rd->threads, &rd->pool) != HOIST_OK) rd->pool = NULL;
    if (tasks && rd->pool && hx_task_group_new(rd->pool, &g) != HOIST_OK) g = NULL;
    for (size_t i = 0; i < n; i++) {
        if (which && !which[i]) continue;
        struct task one = {job, &chunks[i], ph, target};
        if (g) {
            tasks[i] = one;
            if (hx_task_group_submit(g, task_run, &tasks[i]) == HOIST_OK) continue;
        }
        task_run(&one);
    }
    hx_task_group_free(g); /* waits */
    hx_free(tasks);
    hx_error_clear();
}

static void infer_types(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *chunks,
                        size_t n) {
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    for (size_t j = 0; j < rd->nproj; j++) {
        if (rd->explicit_type[j]) continue;
        unsigned mask = 0;
        for (size_t i = 0; i < n; i++) {
            const struct hx_csv_chunk *ch = &chunks[i];
            int64_t rows = i == 0 ? HEAD_SAMPLE_ROWS : CHUNK_SAMPLE_ROWS;
            if (rows > ch->nrows) rows = ch->nrows;
            for (int64_t r = 0; r < rows; r++) {
                const uint8_t *s;
                size_t sl;
                if (!field_value(rd, job->data + ch->start, ch->fields[(size_t)r * rd->nproj + j], &tmp, &s, &sl))
                    continue; /* out of memory: the value is seen at conversion */
                if (hx_csv_words_has(&rd->nulls, s, sl)) continue;
                unsigned m = hx_csv_value_types(&rd->trues, &rd->falses, s, sl) | 1u;
                mask = mask ? mask & m : m;
            }
        }
        rd->types[j] = mask ? hx_csv_mask_best(mask & ~1u) : HX_CSV_NULL;
    }
    hx_buf_reset(&tmp);
}

/* ---- errors ------------------------------------------------------------- */

static void excerpt(const uint8_t *s, size_t n, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < cap; i++) out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    if (k < n && k + 4 >= cap) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = 0;
}

static hx_status chunk_error(struct hoist_csv_reader *rd, const struct hx_csv_job *job,
                             const struct hx_csv_chunk *ch) {
    const char *name = rd_name(rd);
    if (ch->st != HOIST_OK) {
        unsigned long long line = (unsigned long long)(rd->base_line + hx_csv_line_of(job->data, ch->err_pos));
        if (ch->err_col)
            HX_FAIL(ch->st, "%s: line %llu, column %zu: %s", name, line, ch->err_col, ch->err);
        HX_FAIL(ch->st, "%s: line %llu: %s", name, line, ch->err);
    }
    if (ch->cst != HOIST_ERR_CSV_PARSE) HX_FAIL(ch->cst, "%s: %s", name, ch->cerr);
    size_t pos = ch->start + ch->row_off[ch->fail_row], c = rd->proj_cols[ch->fail_col];
    unsigned long long line = (unsigned long long)(rd->base_line + hx_csv_line_of(job->data, pos));
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    const uint8_t *s = (const uint8_t *)"";
    size_t sl = 0;
    char val[48] = "";
    if (field_value(rd, job->data + ch->start, ch->fields[(size_t)ch->fail_row * rd->nproj + ch->fail_col], &tmp, &s,
                    &sl))
        excerpt(s, sl, val, sizeof val);
    hx_buf_reset(&tmp);
    const char *tname = hx_csv_type_name(ch->types[ch->fail_col]);
    if (ch->fail_utf8)
        HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu, column %zu ('%s'): invalid UTF-8 in a string column", name,
                line, c + 1, rd->names[c]);
    if (ch->fail_widen_refused)
        HX_FAIL(HOIST_ERR_CSV_PARSE,
                "%s: line %llu, column %zu ('%s'): '%s' does not fit type %s inferred from the first %llu bytes; "
                "set the column's type",
                name, line, c + 1, rd->names[c], val, tname, (unsigned long long)rd->sample_bytes);
    HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu, column %zu ('%s'): '%s' is not a valid %s", name, line, c + 1,
            rd->names[c], val, tname);
}

/* ---- output --------------------------------------------------------------- */

static hx_status push_batch(struct hoist_csv_reader *rd, struct hx_csv_chunk *ch) {
    int64_t n = ch->nrows - ch->ndropped;
    if (n <= 0) return HOIST_OK;
    if (rd->qlen == rd->qcap) {
        size_t cap = rd->qcap ? rd->qcap * 2 : 16;
        if (rd->qhead) { /* compact before growing */
            memmove(rd->queue, rd->queue + rd->qhead, (rd->qlen - rd->qhead) * sizeof *rd->queue);
            rd->qlen -= rd->qhead;
            rd->qhead = 0;
            cap = rd->qcap;
        }
        if (rd->qlen == rd->qcap) {
            struct ArrowArray *q = hx_realloc(rd->queue, cap * sizeof *q);
            if (!q) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
            rd->queue = q;
            rd->qcap = cap;
        }
    }
    struct ArrowArray *b = &rd->queue[rd->qlen];
    HX_TRY(hx_array_init(b, n, 1, (int64_t)rd->nproj));
    for (size_t j = 0; j < rd->nproj; j++) {
        *b->children[j] = ch->cols[j];
        ch->cols[j].release = NULL;
    }
    rd->qlen++;
    rd->stats.rows += n;
    return HOIST_OK;
}

static void collect_bad(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *ch) {
    size_t k = ch->nbad < HX_CSV_BAD_LINES ? (size_t)ch->nbad : HX_CSV_BAD_LINES;
    for (size_t a = 1; a < k; a++) /* conversion drops come after lexing ones: order them */
        for (size_t b = a; b > 0 && ch->bad_pos[b - 1] > ch->bad_pos[b]; b--) {
            size_t t = ch->bad_pos[b];
            ch->bad_pos[b] = ch->bad_pos[b - 1];
            ch->bad_pos[b - 1] = t;
        }
    for (size_t i = 0; i < k; i++)
        if (rd->stats.bad_rows + (int64_t)i < HX_CSV_BAD_LINES)
            rd->stats.bad_lines[rd->stats.bad_rows + (int64_t)i] = rd->base_line + hx_csv_line_of(job->data, ch->bad_pos[i]);
    rd->stats.bad_rows += ch->nbad;
}

/* ---- a job --------------------------------------------------------------- */

static size_t chunk_size(const struct hoist_csv_reader *rd, size_t total) {
    if (rd->opts.chunk_size) return rd->opts.chunk_size;
    size_t cs = total / ((size_t)rd->threads * 4);
    return cs < MiB ? MiB : cs > 16 * MiB ? 16 * MiB : cs;
}

/* Lexes every chunk, then checks each speculative start against where the
 * previous chunk really ended, re-lexing the ones a quoted line break
 * fooled. Returns the first chunk with a lexing error, or n. */
static size_t lex_all(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *chunks,
                      size_t n) {
    run_phase(rd, job, chunks, n, PH_LEX, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && chunks[i].start != chunks[i - 1].end) {
            size_t start = chunks[i - 1].end;
            hx_csv_chunk_reset(&chunks[i], rd->nproj);
            chunks[i].start = start;
            hx_csv_lex_chunk(job, &chunks[i]);
        }
        if (chunks[i].st != HOIST_OK) return i;
    }
    return n;
}

static hx_status convert_all(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *chunks,
                             size_t n) {
    run_phase(rd, job, chunks, n, PH_CONVERT, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        if (chunks[i].cst != HOIST_OK) return chunk_error(rd, job, &chunks[i]);
    /* chunks may have widened differently: one type per column */
    bool *redo = hx_calloc(n, sizeof *redo);
    if (!redo) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
    bool any = false;
    for (size_t j = 0; j < rd->nproj; j++)
        for (size_t i = 0; i < n; i++) rd->types[j] = hx_csv_type_join(rd->types[j], chunks[i].types[j]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rd->nproj; j++)
            if (chunks[i].types[j] != rd->types[j]) redo[i] = any = true;
    hx_status st = HOIST_OK;
    if (any) {
        run_phase(rd, job, chunks, n, PH_RECONVERT, rd->types, redo);
        for (size_t i = 0; i < n && st == HOIST_OK; i++)
            if (chunks[i].cst != HOIST_OK) st = chunk_error(rd, job, &chunks[i]);
    }
    hx_free(redo);
    return st;
}

static hx_status run_chunks(struct hoist_csv_reader *rd, const struct hx_csv_job *job, size_t start,
                            size_t *consumed) {
    size_t total = job->len - start, cs = chunk_size(rd, total), n = (total + cs - 1) / cs;
    struct hx_csv_chunk *chunks = hx_calloc(n, sizeof *chunks);
    if (!chunks) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", rd_name(rd));
    for (size_t i = 0; i < n; i++) {
        chunks[i].nominal = start + i * cs;
        chunks[i].stop = i + 1 < n ? start + (i + 1) * cs : job->len;
        chunks[i].start = i ? hx_csv_next_line(job->data, job->len, chunks[i].nominal) : start;
    }
    hx_status st = HOIST_OK;
    size_t bad = lex_all(rd, job, chunks, n);
    if (bad < n) st = chunk_error(rd, job, &chunks[bad]);
    if (st == HOIST_OK && !rd->types_known) {
        infer_types(rd, job, chunks, n);
        rd->sample_bytes = job->len;
    }
    if (st == HOIST_OK) st = convert_all(rd, job, chunks, n);
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        collect_bad(rd, job, &chunks[i]);
        st = push_batch(rd, &chunks[i]);
    }
    if (st == HOIST_OK) *consumed = chunks[n - 1].end;
    for (size_t i = 0; i < n; i++) hx_csv_chunk_reset(&chunks[i], rd->nproj);
    hx_free(chunks);
    return st;
}

hx_status hx_csv_run_job(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final,
                         size_t *consumed) {
    *consumed = 0;
    size_t start = 0;
    struct hx_csv_job job = {rd, data, len, final};
    if (!rd->started) {
        bool ready;
        HX_TRY(settle(rd, data, len, final, &start, &ready));
        if (!ready) return HOIST_OK;
        HX_TRY(setup_columns(rd));
        rd->started = true;
    }
    if (start < len) HX_TRY(run_chunks(rd, &job, start, consumed));
    else *consumed = len;
    if (final) rd->types_known = true;
    else if (*consumed > start) rd->types_known = true;
    rd->stats.bytes += *consumed;
    return HOIST_OK;
}
