/* The chunk pipeline of a job. Each chunk is lexed and converted by one
 * task, so its field index is still in cache when its columns are built
 * and is freed right after (memory: one index per worker, not per file).
 *
 *  1. cut the input; every chunk but the first starts speculatively after
 *     the first line break past its cut;
 *  2. types (first job): rows sampled at the head and at every chunk's start
 *     (so from all over the input, as DuckDB's sniffer samples; the windows
 *     in parallel), ANDed into a type mask per column;
 *  3. lex + convert all chunks in parallel, widening a column a value does
 *     not fit;
 *  4. verify in order that each chunk starts where the previous really
 *     ended; a chunk a quoted line break fooled is parsed again from there,
 *     and if its sample helped pick the types they are picked again without
 *     it (and, if they change, every chunk is converted again);
 *  5. one type per column: the join over the chunks; chunks built with a
 *     narrower type are parsed again with the final one;
 *  6. one batch per chunk, in order. */
#include "csv_internal.h"

#include <stdio.h>
#include <string.h>

#define MiB ((size_t)1 << 20)
#define HEAD_SAMPLE_ROWS 1000
#define CHUNK_SAMPLE_ROWS 100

/* ---- tasks ------------------------------------------------------------- */

struct task {
    const struct hx_csv_job *job;
    struct hx_csv_chunk *ch;
    const enum hx_csv_type *target; /* parse again with these types */
};

static void drop_index(struct hx_csv_chunk *ch) {
    hx_free(ch->fields);
    hx_free(ch->row_off);
    ch->fields = NULL;
    ch->row_off = NULL;
    ch->cap_rows = 0;
}

/* Lexes and converts one chunk from ch->start; keeps the index only when
 * conversion failed (the error message quotes the value). */
static void task_run(void *arg) {
    struct task *t = arg;
    struct hx_csv_chunk *ch = t->ch;
    if (ch->cols || ch->nrows || ch->st != HOIST_OK || ch->end) { /* done before: start over */
        size_t start = ch->start;
        hx_csv_chunk_reset(ch, t->job->rd->nproj);
        ch->start = start;
    }
    hx_csv_lex_chunk(t->job, ch);
    if (ch->st != HOIST_OK) return;
    hx_csv_convert_chunk(t->job, ch, !t->job->rd->types_known && !t->target, t->target);
    if (ch->cst != HOIST_OK) return;
    drop_index(ch);
    const struct hoist_csv_reader *rd = t->job->rd;
    if (rd->done_fn && ch->end > ch->start) rd->done_fn(rd->done_ud, ch->start, ch->end - ch->start);
}

/* Runs task_run over the chunks flagged in `which` (NULL: all); a pool that
 * cannot take a task (out of memory) leaves it to this thread. */
static void run_parallel(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *chunks,
                         size_t n, const enum hx_csv_type *target, const bool *which) {
    struct task *tasks = n > 1 && rd->threads > 1 ? hx_malloc(n * sizeof *tasks) : NULL;
    struct hx_task_group *g = NULL;
    if (tasks && !rd->pool && hx_pool_new(rd->threads, &rd->pool) != HOIST_OK) rd->pool = NULL;
    if (tasks && rd->pool && hx_task_group_new(rd->pool, &g) != HOIST_OK) g = NULL;
    for (size_t i = 0; i < n; i++) {
        if (which && !which[i]) continue;
        struct task one = {job, &chunks[i], target};
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

/* ---- sampling types -------------------------------------------------------- */

/* Type masks (0: no value seen) of the rows at the start of chunk i. */
static bool sample_window(const struct hoist_csv_reader *rd, const struct hx_csv_job *job,
                          const struct hx_csv_chunk *ch, int rows, unsigned *mask, struct hx_csv_field *tmpf,
                          struct hx_buf *tmp) {
    size_t p = ch->start;
    for (int r = 0; r < rows && p < ch->stop; r++) {
        p = hx_csv_skip_lines(&rd->d, job->data, job->len, p, job->final);
        if (p >= job->len) break;
        size_t nf, next;
        if (hx_csv_lex_row(&rd->d, job->data, job->len, p, job->final, p, rd->proj_map, rd->ncols, tmpf, &nf, &next) !=
            HX_ROW_OK)
            break;
        for (size_t j = 0; nf == rd->ncols && j < rd->nproj; j++) {
            const uint8_t *s;
            size_t sl;
            if (!hx_csv_field_value(&rd->d, job->data + p, tmpf[j], tmp, &s, &sl)) return false;
            if (hx_csv_words_has(&rd->nulls, s, sl)) continue;
            unsigned m = hx_csv_value_types(&rd->trues, &rd->falses, s, sl) | 1u; /* bit 0: seen */
            mask[j] = mask[j] ? mask[j] & m : m;
        }
        p = next;
    }
    return true;
}

/* Windows [first, first + count) of sample_all, on one thread. */
struct sample_task {
    const struct hoist_csv_reader *rd;
    const struct hx_csv_job *job;
    const struct hx_csv_chunk *chunks;
    size_t first, count;
    unsigned *masks;
    bool ok;
};

static void sample_task_run(void *arg) {
    struct sample_task *t = arg;
    const struct hoist_csv_reader *rd = t->rd;
    struct hx_csv_field *tmpf = hx_malloc((rd->nproj ? rd->nproj : 1) * sizeof *tmpf);
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    t->ok = tmpf != NULL;
    for (size_t i = t->first; t->ok && i < t->first + t->count; i++)
        t->ok = sample_window(rd, t->job, &t->chunks[i], i ? CHUNK_SAMPLE_ROWS : HEAD_SAMPLE_ROWS,
                              t->masks + i * rd->nproj, tmpf, &tmp);
    hx_free(tmpf);
    hx_buf_reset(&tmp);
}

/* The windows are independent (each writes its own masks): with a pool
 * they are sampled in parallel, a few tasks per thread, since the chunks
 * cannot start before the types are picked (about 3 % of a read's work, all
 * of it serial otherwise). Without one, or when the pool cannot take a
 * task, this thread samples. */
static hx_status sample_all(struct hoist_csv_reader *rd, const struct hx_csv_job *job,
                            const struct hx_csv_chunk *chunks, size_t n, unsigned *masks) {
    size_t ntasks = rd->threads > 1 && n > 1 ? (n < 4 * (size_t)rd->threads ? n : 4 * (size_t)rd->threads) : 1;
    struct sample_task *tasks = hx_calloc(ntasks, sizeof *tasks);
    if (!tasks) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory sampling types", hx_csv_reader_name(rd));
    struct hx_task_group *g = NULL;
    if (ntasks > 1 && !rd->pool && hx_pool_new(rd->threads, &rd->pool) != HOIST_OK) rd->pool = NULL;
    if (ntasks > 1 && rd->pool && hx_task_group_new(rd->pool, &g) != HOIST_OK) g = NULL;
    /* the head window (HEAD_SAMPLE_ROWS) is a task of its own */
    for (size_t k = 0, i = 0; k < ntasks; k++) {
        size_t count = k == 0 ? 1 : (n - 1) / (ntasks - 1) + (k - 1 < (n - 1) % (ntasks - 1));
        if (ntasks == 1) count = n;
        tasks[k] = (struct sample_task){rd, job, chunks, i, count, masks, false};
        i += count;
        if (!g || hx_task_group_submit(g, sample_task_run, &tasks[k]) != HOIST_OK) sample_task_run(&tasks[k]);
    }
    hx_task_group_free(g); /* waits */
    hx_error_clear();
    bool ok = true;
    for (size_t k = 0; k < ntasks; k++) ok &= tasks[k].ok;
    hx_free(tasks);
    if (!ok) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory sampling types", hx_csv_reader_name(rd));
    return HOIST_OK;
}

/* Picks the inferred types from the windows not excluded; true if one changed. */
static bool pick_types(struct hoist_csv_reader *rd, const unsigned *masks, size_t n, const bool *exclude) {
    bool changed = false;
    for (size_t j = 0; j < rd->nproj; j++) {
        if (rd->explicit_type[j]) continue;
        unsigned mask = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned m = masks[i * rd->nproj + j];
            if ((exclude && exclude[i]) || !m) continue;
            mask = mask ? mask & m : m;
        }
        enum hx_csv_type t = mask ? hx_csv_mask_best(mask & ~1u) : HX_CSV_NULL;
        changed |= t != rd->types[j];
        rd->types[j] = t;
    }
    return changed;
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

static hx_status chunk_error(struct hoist_csv_reader *rd, const struct hx_csv_job *job, const struct hx_csv_chunk *ch) {
    const char *name = hx_csv_reader_name(rd);
    if (ch->st != HOIST_OK) {
        unsigned long long line = (unsigned long long)(rd->base_line + hx_csv_line_of(job->data, ch->err_pos));
        if (ch->err_col) HX_FAIL(ch->st, "%s: line %llu, column %zu: %s", name, line, ch->err_col, ch->err);
        HX_FAIL(ch->st, "%s: line %llu: %s", name, line, ch->err);
    }
    if (ch->cst != HOIST_ERR_CSV_PARSE) HX_FAIL(ch->cst, "%s: %s", name, ch->cerr);
    size_t pos = ch->start + ch->row_off[ch->fail_row], c = rd->proj_cols[ch->fail_col];
    unsigned long long line = (unsigned long long)(rd->base_line + hx_csv_line_of(job->data, pos));
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    const uint8_t *s;
    size_t sl;
    char val[48] = "";
    if (hx_csv_field_value(&rd->d, job->data + ch->start, ch->fields[(size_t)ch->fail_row * rd->nproj + ch->fail_col],
                           &tmp, &s, &sl))
        excerpt(s, sl, val, sizeof val);
    hx_buf_reset(&tmp);
    const char *tname = hx_csv_type_name(ch->types[ch->fail_col]);
    if (ch->fail_utf8)
        HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu, column %zu ('%s'): invalid UTF-8 in a string column", name, line,
                c + 1, rd->names[c]);
    if (ch->fail_widen_refused)
        HX_FAIL(HOIST_ERR_CSV_PARSE,
                "%s: line %llu, column %zu ('%s'): '%s' does not fit type %s inferred from the "
                "first %llu bytes; "
                "set the column's type",
                name, line, c + 1, rd->names[c], val, tname, (unsigned long long)rd->sample_bytes);
    HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu, column %zu ('%s'): '%s' is not a valid %s", name, line, c + 1,
            rd->names[c], val, tname);
}

/* ---- output --------------------------------------------------------------- */

static hx_status push_batch(struct hoist_csv_reader *rd, struct hx_csv_chunk *ch) {
    int64_t n = ch->nrows - ch->ndropped - ch->nfiltered;
    if (n <= 0) return HOIST_OK;
    if (rd->qhead && rd->qlen == rd->qcap) { /* compact before growing */
        memmove(rd->queue, rd->queue + rd->qhead, (rd->qlen - rd->qhead) * sizeof *rd->queue);
        rd->qlen -= rd->qhead;
        rd->qhead = 0;
    }
    if (rd->qlen == rd->qcap) {
        size_t cap = rd->qcap ? rd->qcap * 2 : 16;
        struct ArrowArray *q = hx_realloc(rd->queue, cap * sizeof *q);
        if (!q) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
        rd->queue = q;
        rd->qcap = cap;
    }
    struct ArrowArray *b = &rd->queue[rd->qlen];
    HX_TRY(hx_arrow_array_init(b, n, 1, (int64_t)rd->nproj));
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
            rd->stats.bad_lines[rd->stats.bad_rows + (int64_t)i] =
                rd->base_line + hx_csv_line_of(job->data, ch->bad_pos[i]);
    rd->stats.bad_rows += ch->nbad;
}

/* ---- the job ----------------------------------------------------------------- */

/* 1 MiB chunks, like pyarrow's blocks: a chunk's index stays in cache
 * between lexing and converting; fewer when the input is small. */
static size_t chunk_size(const struct hoist_csv_reader *rd) { return rd->opts.chunk_size ? rd->opts.chunk_size : MiB; }

/* Steps 4 and 5: verification in order, re-inference, one type per column. */
static hx_status settle_chunks(struct hoist_csv_reader *rd, const struct hx_csv_job *job, struct hx_csv_chunk *chunks,
                               size_t n, const unsigned *masks, bool *flags) {
    bool refooled = false;
    memset(flags, 0, n * sizeof *flags);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && chunks[i].start != chunks[i - 1].end) {
            chunks[i].start = chunks[i - 1].end;
            struct task one = {job, &chunks[i], NULL};
            task_run(&one);
            flags[i] = refooled = true;
        }
        if (chunks[i].st != HOIST_OK || chunks[i].cst != HOIST_OK) return chunk_error(rd, job, &chunks[i]);
    }
    /* a window sampled at a wrong start saw bytes of a quoted field as rows */
    if (refooled && masks && pick_types(rd, masks, n, flags)) {
        run_parallel(rd, job, chunks, n, NULL, NULL);
        for (size_t i = 0; i < n; i++)
            if (chunks[i].st != HOIST_OK || chunks[i].cst != HOIST_OK) return chunk_error(rd, job, &chunks[i]);
    }
    bool any = false;
    for (size_t j = 0; j < rd->nproj; j++)
        for (size_t i = 0; i < n; i++) rd->types[j] = hx_csv_type_join(rd->types[j], chunks[i].types[j]);
    for (size_t i = 0; i < n; i++) {
        flags[i] = false;
        for (size_t j = 0; j < rd->nproj; j++)
            if (chunks[i].types[j] != rd->types[j]) flags[i] = any = true;
    }
    if (any) {
        run_parallel(rd, job, chunks, n, rd->types, flags);
        for (size_t i = 0; i < n; i++)
            if (chunks[i].st != HOIST_OK || chunks[i].cst != HOIST_OK) return chunk_error(rd, job, &chunks[i]);
    }
    return HOIST_OK;
}

hx_status hx_csv_run_chunks(struct hoist_csv_reader *rd, const struct hx_csv_job *job, size_t start, size_t *consumed) {
    size_t total = job->len - start, cs = chunk_size(rd), n = (total + cs - 1) / cs;
    struct hx_csv_chunk *chunks = hx_calloc(n, sizeof *chunks);
    bool *flags = hx_calloc(n, sizeof *flags);
    unsigned *masks = NULL;
    hx_status st = HOIST_OK;
    if (!chunks || !flags) st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        chunks[i].nominal = start + i * cs;
        chunks[i].stop = i + 1 < n ? start + (i + 1) * cs : job->len;
        chunks[i].start = i ? hx_csv_next_line(job->data, job->len, chunks[i].nominal) : start;
    }
    if (st == HOIST_OK && !rd->types_known) {
        masks = hx_calloc(n * (rd->nproj ? rd->nproj : 1), sizeof *masks);
        st = masks ? sample_all(rd, job, chunks, n, masks)
                   : hx_error(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
        if (st == HOIST_OK) {
            (void)pick_types(rd, masks, n, NULL);
            rd->sample_bytes = job->len;
        }
    }
    if (st == HOIST_OK) {
        run_parallel(rd, job, chunks, n, NULL, NULL);
        st = settle_chunks(rd, job, chunks, n, masks, flags);
    }
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        collect_bad(rd, job, &chunks[i]);
        st = push_batch(rd, &chunks[i]);
    }
    if (st == HOIST_OK) *consumed = chunks[n - 1].end;
    for (size_t i = 0; chunks && i < n; i++) hx_csv_chunk_reset(&chunks[i], rd->nproj);
    hx_free(chunks);
    hx_free(flags);
    hx_free(masks);
    return st;
}
