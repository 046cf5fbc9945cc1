/* The public CSV entry points: the streaming reader (feed blocks, take
 * batches), the one-shot read of bytes in memory, and the Arrow stream
 * that hands the batches out. */
#include "csv_internal.h"

#include <string.h>

#define MiB ((size_t)1 << 20)

/* Text the streaming reader gathers before a parse: four chunks per
 * worker, so every worker has work, and at least 4 MiB. */
static size_t stream_threshold(const struct hoist_csv_reader *rd) {
    size_t block = rd->opts.chunk_size ? rd->opts.chunk_size : MiB, t = block * rd->threads * 4;
    return t < 4 * MiB ? 4 * MiB : t;
}

hx_status hx_csv_reader_new_named(const struct hoist_csv_options *opts, const char *name,
                                  struct hoist_csv_reader **out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_csv_reader_new: NULL out");
    *out = NULL;
    struct hoist_csv_reader *rd = hx_calloc(1, sizeof *rd);
    if (!rd) HX_FAIL(HOIST_ERR_NOMEM, "CSV reader: out of memory");
    hx_status st = hx_csv_options_copy(opts, &rd->opts);
    if (st != HOIST_OK) {
        hx_free(rd);
        return st;
    }
    if (name && !(rd->name = hx_strdup(name))) {
        hoist_csv_reader_free(rd);
        HX_FAIL(HOIST_ERR_NOMEM, "CSV reader: out of memory");
    }
    hx_buf_init(&rd->buf);
    rd->threads = rd->opts.threads ? rd->opts.threads : hx_cpu_count();
    hx_csv_words_init(&rd->nulls, &rd->opts.null_values, hx_csv_default_nulls);
    hx_csv_words_init(&rd->trues, &rd->opts.true_values, hx_csv_default_trues);
    hx_csv_words_init(&rd->falses, &rd->opts.false_values, hx_csv_default_falses);
    rd->cx =
        (struct hx_csv_convert_ctx){&rd->d, &rd->nulls, &rd->trues, &rd->falses, rd->opts.strings_can_be_null != 0};
    rd->threshold = stream_threshold(rd);
    *out = rd;
    return HOIST_OK;
}

hx_status hoist_csv_reader_new(const struct hoist_csv_options *opts, struct hoist_csv_reader **out) {
    return hx_csv_reader_new_named(opts, NULL, out);
}

void hoist_csv_reader_free(struct hoist_csv_reader *rd) {
    if (!rd) return;
    hx_pool_free(rd->pool);
    for (size_t i = rd->qhead; i < rd->qlen; i++)
        if (rd->queue[i].release) rd->queue[i].release(&rd->queue[i]);
    hx_free(rd->queue);
    if (rd->names)
        for (size_t c = 0; c < rd->ncols; c++) hx_free(rd->names[c]);
    hx_free(rd->names);
    hx_free(rd->proj_map);
    hx_free(rd->proj_cols);
    hx_free(rd->types);
    hx_free(rd->explicit_type);
    hx_buf_reset(&rd->buf);
    hx_free(rd->failed_msg);
    hx_free(rd->filter_cols);
    hx_free(rd->name);
    hx_csv_options_reset(&rd->opts);
    hx_free(rd);
}

/* A failed reader keeps failing with its first error. */
static hx_status fail_sticky(struct hoist_csv_reader *rd, hx_status st) {
    rd->failed = st;
    rd->failed_msg = hx_strdup(hoist_errmsg());
    return st;
}

static hx_status refail(const struct hoist_csv_reader *rd) {
    HX_FAIL(rd->failed, "%s", rd->failed_msg ? rd->failed_msg : "the CSV reader failed earlier");
}

static hx_status process(struct hoist_csv_reader *rd, bool final) {
    size_t consumed = 0;
    static const uint8_t empty[1];
    const uint8_t *data = rd->buf.data ? (const uint8_t *)rd->buf.data : empty; /* nothing was fed */
    hx_status st = hx_csv_run_job(rd, data, rd->buf.len, final, &consumed);
    if (st != HOIST_OK) return fail_sticky(rd, st);
    if (consumed) {
        rd->base_line += hx_csv_line_of((const uint8_t *)rd->buf.data, consumed) - 1;
        memmove(rd->buf.data, rd->buf.data + consumed, rd->buf.len - consumed);
        rd->buf.len -= consumed;
    }
    /* a row longer than the buffer: wait for twice as much, not re-lex per feed */
    size_t base = stream_threshold(rd);
    rd->threshold = rd->buf.len * 2 > base ? rd->buf.len * 2 : base;
    return HOIST_OK;
}

hx_status hoist_csv_reader_feed(struct hoist_csv_reader *rd, const void *data, size_t len) {
    HX_FAIL_IF(!rd || (len && !data), HOIST_ERR_INVALID_ARG, "hoist_csv_reader_feed: NULL argument");
    if (rd->failed) return refail(rd);
    HX_FAIL_IF(rd->finished, HOIST_ERR_INVALID_ARG, "hoist_csv_reader_feed: the reader is finished");
    if (len && hx_buf_append(&rd->buf, data, len) != HOIST_OK) return fail_sticky(rd, HOIST_ERR_NOMEM);
    if (rd->buf.len >= rd->threshold) return process(rd, false);
    return HOIST_OK;
}

hx_status hoist_csv_reader_finish(struct hoist_csv_reader *rd) {
    HX_FAIL_IF(!rd, HOIST_ERR_INVALID_ARG, "hoist_csv_reader_finish: NULL reader");
    if (rd->failed) return refail(rd);
    if (rd->finished) return HOIST_OK;
    HX_TRY(process(rd, true));
    rd->finished = true;
    hx_buf_reset(&rd->buf);
    return HOIST_OK;
}

static hx_status build_schema(const struct hoist_csv_reader *rd, struct ArrowSchema *out) {
    HX_TRY(hx_arrow_schema_init(out, "+s", "", 0));
    hx_status st = hx_arrow_schema_alloc_children(out, (int64_t)rd->nproj);
    for (size_t j = 0; st == HOIST_OK && j < rd->nproj; j++)
        st = hx_arrow_schema_init(out->children[j], hx_csv_type_format(rd->types[j]), rd->names[rd->proj_cols[j]],
                                  ARROW_FLAG_NULLABLE);
    if (st != HOIST_OK) out->release(out);
    return st;
}

hx_status hoist_csv_reader_schema(struct hoist_csv_reader *rd, struct ArrowSchema *out) {
    HX_FAIL_IF(!rd || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_reader_schema: NULL argument");
    memset(out, 0, sizeof *out);
    if (rd->failed) return refail(rd);
    HX_FAIL_IF(!rd->started || !rd->types_known, HOIST_ERR_INVALID_ARG,
               "hoist_csv_reader_schema: not known yet (feed more data or finish)");
    return build_schema(rd, out);
}

hx_status hoist_csv_reader_next(struct hoist_csv_reader *rd, struct ArrowArray *out) {
    HX_FAIL_IF(!rd || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_reader_next: NULL argument");
    memset(out, 0, sizeof *out);
    if (rd->qhead < rd->qlen) {
        *out = rd->queue[rd->qhead];
        rd->queue[rd->qhead++].release = NULL;
        if (rd->qhead == rd->qlen) rd->qhead = rd->qlen = 0;
        return HOIST_OK;
    }
    if (rd->failed) return refail(rd);
    return HOIST_OK;
}

void hx_csv_stats_out(const struct hoist_csv_stats *src, struct hoist_csv_stats *dst, size_t size) {
    if (!dst) return;
    struct hoist_csv_stats s = {0};
    if (src) s = *src;
    memcpy(dst, &s, size < sizeof s ? size : sizeof s);
}

void hoist_csv_reader_get_stats(const struct hoist_csv_reader *rd, struct hoist_csv_stats *out, size_t size) {
    hx_csv_stats_out(rd ? &rd->stats : NULL, out, size);
}

/* ---- one shot: batches in memory behind a stream ---------------------- */

struct mem_stream {
    struct ArrowSchema schema;
    struct ArrowArray *batches;
    size_t n, next;
};

static hx_status ms_schema(void *state, struct ArrowSchema *out) {
    struct mem_stream *m = state;
    return hx_arrow_schema_copy(&m->schema, out);
}

static hx_status ms_next(void *state, struct ArrowArray *out) {
    struct mem_stream *m = state;
    if (m->next < m->n) {
        *out = m->batches[m->next];
        m->batches[m->next++].release = NULL;
    }
    return HOIST_OK;
}

static void ms_free(void *state) {
    struct mem_stream *m = state;
    if (!m) return;
    for (size_t i = m->next; i < m->n; i++)
        if (m->batches[i].release) m->batches[i].release(&m->batches[i]);
    hx_free(m->batches);
    if (m->schema.release) m->schema.release(&m->schema);
    hx_free(m);
}

static const struct hx_arrow_stream_ops mem_stream_ops = {ms_schema, ms_next, ms_free};

/* ---- a finished reader behind a stream ------------------------------------ */

static hx_status rs_schema(void *state, struct ArrowSchema *out) { return build_schema(state, out); }
static hx_status rs_next(void *state, struct ArrowArray *out) { return hoist_csv_reader_next(state, out); }
static void rs_free(void *state) { hoist_csv_reader_free(state); }
static const struct hx_arrow_stream_ops reader_stream_ops = {rs_schema, rs_next, rs_free};

hx_status hx_csv_reader_into_stream(struct hoist_csv_reader *rd, struct ArrowArrayStream *out) {
    if (!rd->finished || rd->failed || !rd->started) {
        hoist_csv_reader_free(rd);
        HX_FAIL(HOIST_ERR_INTERNAL, "hx_csv_reader_into_stream: the reader is not finished");
    }
    hx_pool_free(rd->pool); /* no more parsing: give the threads back */
    rd->pool = NULL;
    return hx_arrow_stream_init(out, &reader_stream_ops, rd);
}

hx_status hx_csv_read_mapped(const void *data, size_t len, const char *name, const struct hoist_csv_options *opts,
                             hx_csv_done_fn done, void *ud, struct ArrowArrayStream *out,
                             struct hoist_csv_stats *stats) {
    HX_FAIL_IF(!out || (len && !data), HOIST_ERR_INVALID_ARG, "hoist_csv_read_memory: NULL argument");
    memset(out, 0, sizeof *out);
    if (stats) memset(stats, 0, sizeof *stats);
    struct hoist_csv_reader *rd;
    HX_TRY(hx_csv_reader_new_named(opts, name, &rd));
    rd->done_fn = done;
    rd->done_ud = ud;
    size_t consumed;
    static const uint8_t empty[1];
    hx_status st = hx_csv_run_job(rd, len ? data : empty, len, true, &consumed);
    struct mem_stream *m = NULL;
    if (st == HOIST_OK) {
        m = hx_calloc(1, sizeof *m);
        if (!m) st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory", name ? name : "CSV");
    }
    if (st == HOIST_OK) st = build_schema(rd, &m->schema);
    if (st == HOIST_OK) {
        /* the reader's queue becomes the stream's */
        m->batches = rd->queue;
        m->n = rd->qlen;
        m->next = rd->qhead;
        rd->queue = NULL;
        rd->qlen = rd->qhead = rd->qcap = 0;
        if (stats) *stats = rd->stats;
    }
    hoist_csv_reader_free(rd);
    if (st != HOIST_OK) {
        ms_free(m);
        return st;
    }
    return hx_arrow_stream_init(out, &mem_stream_ops, m);
}

hx_status hx_csv_read_named(const void *data, size_t len, const char *name, const struct hoist_csv_options *opts,
                            struct ArrowArrayStream *out, struct hoist_csv_stats *stats) {
    return hx_csv_read_mapped(data, len, name, opts, NULL, NULL, out, stats);
}

hx_status hoist_csv_read_memory(const void *data, size_t len, const struct hoist_csv_options *opts,
                                struct ArrowArrayStream *out, struct hoist_csv_stats *stats, size_t stats_size) {
    struct hoist_csv_stats full;
    hx_status st = hx_csv_read_named(data, len, NULL, opts, out, &full);
    if (st == HOIST_OK) hx_error_clear();
    hx_csv_stats_out(st == HOIST_OK ? &full : NULL, stats, stats_size);
    return st;
}

/* ---- heads: what a dataset learns from its first file ------------------- */

bool hx_csv_reader_dialect(const struct hoist_csv_reader *rd, int *delimiter, bool *header) {
    if (!rd || !rd->started) return false;
    *delimiter = rd->d.delim;
    *header = rd->header;
    return true;
}

hx_status hx_csv_infer_head(const void *data, size_t len, bool final, const char *name,
                            const struct hoist_csv_options *opts, struct ArrowSchema *schema, int *delimiter,
                            bool *header) {
    memset(schema, 0, sizeof *schema);
    struct hoist_csv_reader *rd;
    HX_TRY(hx_csv_reader_new_named(opts, name, &rd));
    size_t consumed;
    static const uint8_t empty[1];
    hx_status st = hx_csv_run_job(rd, len ? data : empty, len, final, &consumed);
    if (st == HOIST_OK && (!rd->started || !rd->types_known))
        st = hx_error(HOIST_ERR_CSV_PARSE, "%s: the first %zu bytes hold no complete row", hx_csv_reader_name(rd), len);
    if (st == HOIST_OK) st = build_schema(rd, schema);
    if (st == HOIST_OK) (void)hx_csv_reader_dialect(rd, delimiter, header);
    hoist_csv_reader_free(rd);
    return st;
}

hx_status hx_csv_reader_set_row_filter(struct hoist_csv_reader *rd, const size_t *cols, size_t n,
                                       hx_csv_row_filter_fn fn, void *ud) {
    HX_FAIL_IF(rd->started, HOIST_ERR_INVALID_ARG, "hx_csv_reader_set_row_filter: the reader has started");
    size_t *c = hx_malloc((n ? n : 1) * sizeof *c);
    if (!c) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
    if (n) memcpy(c, cols, n * sizeof *c);
    hx_free(rd->filter_cols);
    rd->filter_cols = c;
    rd->nfilter_cols = n;
    rd->filter_fn = fn;
    rd->filter_ud = ud;
    return HOIST_OK;
}
