/*
 * pq_write.c — the Parquet writer object: each slice of a batch is shredded
 * and encoded into pages of its row group's column chunks (one task per
 * leaf), full row groups are finished (one task per column chunk) and
 * emitted to the sink in schema order, and close writes the page indexes
 * and the footer (parquet-format README "File format"; layout as Arrow
 * C++: all ColumnIndexes, then all OffsetIndexes, then FileMetaData).
 * Tasks run on the writer's worker pool; since each chunk is encoded alone
 * and emitted in order, the bytes do not depend on threads.
 */
#include "pq_write_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { SLICE_ROWS = 65536, PAGE_ROWS = 20000 /* Arrow C++ kDefaultMaxRowsPerPage */ };

struct row_group {
    int64_t num_rows;
    int64_t file_offset;
    struct hx_pqw_chunk *chunks; /* one per leaf */
};

struct task {
    struct hoist_pq_writer *w;
    int leaf;
    const struct ArrowArray *batch;
    int64_t row0, nrows;
    hx_status st;
    char msg[512];
};

struct hoist_pq_writer {
    struct hoist_pq_write_options *o;
    struct ArrowSchema schema;
    struct hx_pqw_schema s;
    hoist_pq_sink_fn sink;
    void *userdata;
    unsigned nthreads;
    struct hx_pool *pool;   /* own pool, made on first use */
    struct hx_pool *shared; /* or a caller's (hx_pqw_writer_use_pool) */
    struct hx_task_group *group;
    struct task *tasks;
    struct hx_pqw_leafbuf *bufs; /* per leaf: rows shredded, not yet in pages */
    struct hx_pqw_colenc *enc;   /* per leaf: its chunk of the current row group */
    struct hx_pqw_chunk *cur;    /* the current row group's chunks, NULL before its first rows */
    /* Encoding scratch (page buffers, dictionary table and indices) goes
     * to whichever task runs, not to a leaf: a row group touches one set
     * per running task instead of one per leaf, and fresh memory's page
     * faults cost as much as encoding. scratch[0, nscratch) are made,
     * idle[0, nidle) of them free; both guarded by scratch_mu. */
    struct hx_pqw_scratch *scratch; /* nleaves slots */
    int nscratch;
    int *idle;
    int nidle;
    pthread_mutex_t scratch_mu;
    struct hx_buf *chunk_bytes; /* per leaf: its last chunk's buffer, for its next */
    int64_t rg_rows;            /* rows buffered for the current row group */
    uint64_t flush_bytes;       /* hx_pq_writer_set_flush_bytes; 0 = none */
    int64_t num_rows;
    uint64_t written;
    struct row_group *rgs;
    int nrgs, rg_cap;
    int failed, closed;
    int scratch_mu_made;
};

static hx_status emit(struct hoist_pq_writer *w, const void *data, size_t len) {
    if (len == 0) return HOIST_OK;
    int r = w->sink(w->userdata, data, len);
    if (r != 0) {
        w->failed = 1;
        HX_FAIL((hx_status)r, "Parquet writer: the sink stopped the write at byte %llu (status %d)",
                (unsigned long long)w->written, r);
    }
    w->written += len;
    return HOIST_OK;
}

/* ---- tasks ------------------------------------------------------------------- */

/* There are as many scratch slots as tasks, so one is always free. */
static struct hx_pqw_scratch *scratch_take(struct hoist_pq_writer *w) {
    pthread_mutex_lock(&w->scratch_mu);
    int k = w->nidle > 0 ? w->idle[--w->nidle] : w->nscratch++;
    pthread_mutex_unlock(&w->scratch_mu);
    return &w->scratch[k];
}

static void scratch_give(struct hoist_pq_writer *w, struct hx_pqw_scratch *s) {
    pthread_mutex_lock(&w->scratch_mu);
    w->idle[w->nidle++] = (int)(s - w->scratch);
    pthread_mutex_unlock(&w->scratch_mu);
}

static void encode(struct task *t, int final) {
    struct hoist_pq_writer *w = t->w;
    struct hx_pqw_encode_cfg cfg = {w->o, PAGE_ROWS};
    struct hx_pqw_scratch *scr = scratch_take(w);
    t->st = hx_pqw_colenc_feed(&cfg, &w->s.leaves[t->leaf], &w->enc[t->leaf], &w->bufs[t->leaf], scr, final);
    scratch_give(w, scr);
}

/* A slice of a batch into the leaf's pages. */
static void run_shred(void *arg) {
    struct task *t = arg;
    struct hoist_pq_writer *w = t->w;
    struct hx_pqw_leafbuf *b = &w->bufs[t->leaf];
    uint64_t before = hx_pqw_leafbuf_bytes(b);
    t->st = hx_pqw_shred(&w->s, &w->s.leaves[t->leaf], t->batch, t->row0, t->nrows, b);
    w->enc[t->leaf].raw_bytes += (int64_t)(hx_pqw_leafbuf_bytes(b) - before);
    if (t->st == HOIST_OK) encode(t, 0);
    if (t->st != HOIST_OK) hx_error_copy(t->msg, sizeof t->msg);
}

/* The leaf's last rows of the row group, and its chunk's end. */
static void run_finish(void *arg) {
    struct task *t = arg;
    encode(t, 1);
    if (t->st != HOIST_OK) hx_error_copy(t->msg, sizeof t->msg);
}

/* Runs fn over every leaf's task, on the pool when there is one; the first
 * failure in leaf order is reported, whatever order tasks finished in. */
static hx_status run_all(struct hoist_pq_writer *w, hx_task_fn fn) {
    int n = w->s.nleaves;
    int submitted = 0;
    hx_status st = HOIST_OK;
    if (!w->group && (w->shared || w->nthreads > 1)) {
        /* threads are made when there is work, so idle writers cost none */
        if (!w->shared && !w->pool) HX_TRY(hx_pool_new(w->nthreads, &w->pool));
        HX_TRY(hx_task_group_new(w->shared ? w->shared : w->pool, &w->group));
    }
    if (w->group) {
        for (; submitted < n; submitted++) {
            st = hx_task_group_submit(w->group, fn, &w->tasks[submitted]);
            if (st != HOIST_OK) break;
        }
        hx_task_group_wait(w->group);
        if (st != HOIST_OK) return st;
    } else {
        for (int i = 0; i < n; i++) fn(&w->tasks[i]);
    }
    for (int i = 0; i < n; i++)
        if (w->tasks[i].st != HOIST_OK) return hx_error(w->tasks[i].st, "%s", w->tasks[i].msg);
    return HOIST_OK;
}

/* ---- row groups ----------------------------------------------------------------- */

static void rg_free(struct row_group *rg, int nleaves) {
    if (!rg->chunks) return;
    for (int i = 0; i < nleaves; i++) hx_pqw_chunk_reset(&rg->chunks[i]);
    hx_free(rg->chunks);
    rg->chunks = NULL;
}

static void cur_free(struct hoist_pq_writer *w) {
    if (!w->cur) return;
    for (int i = 0; i < w->s.nleaves; i++) hx_pqw_chunk_reset(&w->cur[i]);
    hx_free(w->cur);
    w->cur = NULL;
}

/* Starts the row group's chunks (each leaf's last bytes buffer reused). */
static hx_status begin_row_group(struct hoist_pq_writer *w) {
    int n = w->s.nleaves;
    w->cur = hx_calloc((size_t)n, sizeof *w->cur);
    if (!w->cur) HX_FAIL(HOIST_ERR_NOMEM, "out of memory encoding a row group");
    for (int i = 0; i < n; i++) {
        hx_pqw_colenc_begin(&w->enc[i], &w->s.leaves[i], &w->cur[i]);
        w->cur[i].bytes = w->chunk_bytes[i];
        memset(&w->chunk_bytes[i], 0, sizeof w->chunk_bytes[i]);
    }
    return HOIST_OK;
}

static hx_status flush_row_group(struct hoist_pq_writer *w) {
    if (w->rg_rows == 0) return HOIST_OK;
    if (w->written == 0) HX_TRY(emit(w, "PAR1", 4));
    int n = w->s.nleaves;
    if (w->nrgs == w->rg_cap) {
        int nc = w->rg_cap ? w->rg_cap * 2 : 8;
        struct row_group *r = hx_realloc(w->rgs, (size_t)nc * sizeof *r);
        if (!r) HX_FAIL(HOIST_ERR_NOMEM, "out of memory recording row groups");
        w->rgs = r;
        w->rg_cap = nc;
    }
    for (int i = 0; i < n; i++) w->tasks[i].st = HOIST_OK;
    HX_TRY(run_all(w, run_finish));
    struct row_group *rg = &w->rgs[w->nrgs];
    memset(rg, 0, sizeof *rg);
    rg->chunks = w->cur;
    w->cur = NULL;
    rg->num_rows = w->rg_rows;
    rg->file_offset = (int64_t)w->written;
    hx_status st = HOIST_OK;
    for (int i = 0; st == HOIST_OK && i < n; i++) {
        struct hx_pqw_chunk *c = &rg->chunks[i];
        int64_t base = (int64_t)w->written;
        st = emit(w, c->dict_page.data, c->dict_page.len);
        if (st == HOIST_OK) st = emit(w, c->bytes.data, c->bytes.len);
        hx_buf_reset(&c->dict_page);
        if (c->dict_offset >= 0) c->dict_offset += base;
        c->data_offset += base;
        for (size_t p = 0; p < c->npages; p++) c->pages[p].offset += base;
        /* the bytes' buffer serves the leaf's next chunk */
        hx_buf_reset(&w->chunk_bytes[i]);
        w->chunk_bytes[i] = c->bytes;
        w->chunk_bytes[i].len = 0;
        memset(&c->bytes, 0, sizeof c->bytes);
    }
    /* bloom filters right after their row group (BloomFilter.md allows it),
     * so their bitsets need not wait in memory for the end of the file */
    for (int i = 0; st == HOIST_OK && i < n; i++) {
        struct hx_pqw_chunk *c = &rg->chunks[i];
        if (!c->bloom.len) continue;
        c->bloom_offset = (int64_t)w->written;
        c->bloom_len = (int64_t)c->bloom.len;
        st = emit(w, c->bloom.data, c->bloom.len);
        hx_buf_reset(&c->bloom);
    }
    if (st != HOIST_OK) {
        rg_free(rg, n);
        return st;
    }
    w->nrgs++;
    w->num_rows += w->rg_rows;
    w->rg_rows = 0;
    for (int i = 0; i < n; i++) hx_pqw_leafbuf_clear(&w->bufs[i]);
    return HOIST_OK;
}

void hx_pqw_writer_use_pool(struct hoist_pq_writer *w, struct hx_pool *pool) {
    hx_task_group_free(w->group);
    w->group = NULL;
    hx_pool_free(w->pool);
    w->pool = NULL;
    w->shared = pool;
}

uint64_t hoist_pq_writer_buffered_bytes(const struct hoist_pq_writer *w) {
    if (!w) return 0;
    uint64_t n = 0;
    for (int i = 0; i < w->s.nleaves; i++) {
        n += hx_pqw_leafbuf_bytes(&w->bufs[i]);
        if (w->cur) n += w->cur[i].bytes.len + w->cur[i].dict_page.len;
    }
    return n;
}

/* Shredded bytes of the current row group (what row_group_bytes limits). */
static uint64_t row_group_raw_bytes(const struct hoist_pq_writer *w) {
    int64_t n = 0;
    for (int i = 0; i < w->s.nleaves; i++) n += w->enc[i].raw_bytes;
    return n > 0 ? (uint64_t)n : 0;
}

hx_status hx_pq_writer_share_pool(struct hoist_pq_writer *w, struct hx_pool **pool) {
    if (w->nthreads <= 1) return HOIST_OK;
    if (!*pool) HX_TRY(hx_pool_new(w->nthreads, pool));
    hx_pqw_writer_use_pool(w, *pool);
    return HOIST_OK;
}

void hx_pq_writer_trim(struct hoist_pq_writer *w) {
    if (!w || w->cur || w->rg_rows > 0) return;
    hx_task_group_free(w->group);
    w->group = NULL;
    hx_pool_free(w->pool);
    w->pool = NULL;
    for (int i = 0; i < w->s.nleaves; i++) {
        hx_buf_reset(&w->chunk_bytes[i]);
        hx_pqw_leafbuf_reset(&w->bufs[i]);
        hx_pqw_colenc_free(&w->enc[i]);
    }
    for (int i = 0; i < w->nscratch; i++) hx_pqw_scratch_free(&w->scratch[i]);
    w->nscratch = w->nidle = 0;
}

void hx_pq_writer_set_flush_bytes(struct hoist_pq_writer *w, uint64_t bytes) {
    if (w) w->flush_bytes = bytes;
}

uint64_t hoist_pq_writer_bytes_written(const struct hoist_pq_writer *w) { return w ? w->written : 0; }
int64_t hoist_pq_writer_num_rows(const struct hoist_pq_writer *w) { return w ? w->num_rows + w->rg_rows : 0; }
int hoist_pq_writer_num_row_groups(const struct hoist_pq_writer *w) { return w ? w->nrgs : 0; }

/* ---- public API ------------------------------------------------------------------ */

void hoist_pq_writer_free(struct hoist_pq_writer *w) {
    if (!w) return;
    hx_task_group_free(w->group);
    hx_pool_free(w->pool);
    for (int i = 0; i < w->nrgs; i++) rg_free(&w->rgs[i], w->s.nleaves);
    hx_free(w->rgs);
    cur_free(w);
    if (w->enc)
        for (int i = 0; i < w->s.nleaves; i++) hx_pqw_colenc_free(&w->enc[i]);
    hx_free(w->enc);
    if (w->bufs)
        for (int i = 0; i < w->s.nleaves; i++) hx_pqw_leafbuf_reset(&w->bufs[i]);
    hx_free(w->bufs);
    if (w->scratch)
        for (int i = 0; i < w->s.nleaves; i++) hx_pqw_scratch_free(&w->scratch[i]);
    hx_free(w->scratch);
    hx_free(w->idle);
    if (w->chunk_bytes)
        for (int i = 0; i < w->s.nleaves; i++) hx_buf_reset(&w->chunk_bytes[i]);
    hx_free(w->chunk_bytes);
    if (w->scratch_mu_made) pthread_mutex_destroy(&w->scratch_mu);
    hx_free(w->tasks);
    hx_pqw_schema_free(&w->s);
    if (w->schema.release) w->schema.release(&w->schema);
    hoist_pq_write_options_free(w->o);
    hx_free(w);
}

static hx_status writer_init(struct hoist_pq_writer *w, const struct ArrowSchema *schema,
                             const struct hoist_pq_write_options *opts) {
    if (opts) {
        HX_TRY(hoist_pq_write_options_copy(opts, &w->o));
    } else {
        HX_TRY(hoist_pq_write_options_new(&w->o));
    }
    HX_TRY(hx_arrow_schema_copy(schema, &w->schema));
    HX_TRY(hx_pqw_schema_build(&w->schema, w->o, &w->s));
    int n = w->s.nleaves;
    w->bufs = hx_calloc((size_t)n, sizeof *w->bufs);
    w->enc = hx_calloc((size_t)n, sizeof *w->enc);
    w->tasks = hx_calloc((size_t)n, sizeof *w->tasks);
    w->scratch = hx_calloc((size_t)n, sizeof *w->scratch);
    w->idle = hx_calloc((size_t)n, sizeof *w->idle);
    w->chunk_bytes = hx_calloc((size_t)n, sizeof *w->chunk_bytes);
    if (!w->bufs || !w->enc || !w->tasks || !w->scratch || !w->idle || !w->chunk_bytes)
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating a Parquet writer");
    HX_FAIL_IF(pthread_mutex_init(&w->scratch_mu, NULL) != 0, HOIST_ERR_INTERNAL,
               "cannot create a Parquet writer's mutex");
    w->scratch_mu_made = 1;
    for (int i = 0; i < n; i++) {
        w->tasks[i].w = w;
        w->tasks[i].leaf = i;
    }
    w->nthreads = w->o->threads ? (unsigned)w->o->threads : hx_cpu_count();
    if (w->nthreads > (unsigned)n) w->nthreads = (unsigned)n;
    return HOIST_OK;
}

hx_status hoist_pq_writer_new(const struct ArrowSchema *schema, const struct hoist_pq_write_options *opts,
                              hoist_pq_sink_fn sink, void *userdata, struct hoist_pq_writer **out) {
    if (out) *out = NULL;
    if (!schema || !sink || !out) HX_FAIL(HOIST_ERR_INVALID_ARG, "hoist_pq_writer_new: NULL schema, sink or out");
    struct hoist_pq_writer *w = hx_calloc(1, sizeof *w);
    if (!w) HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating a Parquet writer");
    w->sink = sink;
    w->userdata = userdata;
    hx_status st = writer_init(w, schema, opts);
    if (st != HOIST_OK) {
        hoist_pq_writer_free(w);
        return st;
    }
    *out = w;
    hx_error_clear();
    return HOIST_OK;
}

static hx_status usable(const struct hoist_pq_writer *w) {
    if (!w) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet writer: NULL writer");
    if (w->failed)
        HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet writer: an earlier call failed; the writer can only be freed");
    if (w->closed) HX_FAIL(HOIST_ERR_INVALID_ARG, "Parquet writer: already closed");
    return HOIST_OK;
}

static hx_status write_batch(struct hoist_pq_writer *w, const struct ArrowArray *batch) {
    HX_TRY(hx_pqw_check_batch(&w->s, batch));
    /* a dictionary is known by its buffers only within one batch: a
     * producer may reuse freed memory for the next batch's dictionary */
    for (int i = 0; i < w->s.nleaves; i++) memset(w->bufs[i].dict_seen, 0, sizeof w->bufs[i].dict_seen);
    int64_t row = 0, n = batch->length;
    while (row < n) {
        int64_t take = n - row;
        if (take > w->o->row_group_rows - w->rg_rows) take = w->o->row_group_rows - w->rg_rows;
        if (take > SLICE_ROWS) take = SLICE_ROWS;
        if (!w->cur) HX_TRY(begin_row_group(w));
        for (int i = 0; i < w->s.nleaves; i++) {
            w->tasks[i].batch = batch;
            w->tasks[i].row0 = row;
            w->tasks[i].nrows = take;
            w->tasks[i].st = HOIST_OK;
        }
        HX_TRY(run_all(w, run_shred));
        w->rg_rows += take;
        row += take;
        if (w->rg_rows >= w->o->row_group_rows || row_group_raw_bytes(w) >= (uint64_t)w->o->row_group_bytes ||
            (w->flush_bytes > 0 && hoist_pq_writer_buffered_bytes(w) >= w->flush_bytes))
            HX_TRY(flush_row_group(w));
    }
    return HOIST_OK;
}

hx_status hoist_pq_writer_write(struct hoist_pq_writer *w, const struct ArrowArray *batch) {
    HX_TRY(usable(w));
    hx_status st = write_batch(w, batch);
    if (st != HOIST_OK) {
        w->failed = 1;
        return st;
    }
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_pq_writer_flush(struct hoist_pq_writer *w) {
    HX_TRY(usable(w));
    hx_status st = flush_row_group(w);
    if (st != HOIST_OK) {
        w->failed = 1;
        return st;
    }
    hx_error_clear();
    return HOIST_OK;
}

/* ---- close: page indexes and footer ----------------------------------------------- */

static hx_status write_page_indexes(struct hoist_pq_writer *w) {
    struct hx_buf b;
    hx_buf_init(&b);
    hx_status st = HOIST_OK;
    for (int pass = 0; pass < 2 && st == HOIST_OK; pass++) {
        for (int r = 0; r < w->nrgs && st == HOIST_OK; r++) {
            for (int i = 0; i < w->s.nleaves && st == HOIST_OK; i++) {
                struct hx_pqw_chunk *c = &w->rgs[r].chunks[i];
                if (pass == 0 && !c->column_index_ok) continue;
                b.len = 0;
                st = pass == 0 ? hx_pqw_column_index(c, &w->s.leaves[i], &b) : hx_pqw_offset_index(c, &b);
                int64_t at = (int64_t)w->written;
                if (st == HOIST_OK) st = emit(w, b.data, b.len);
                if (pass == 0)
                    c->ci_offset = at, c->ci_len = (int64_t)b.len;
                else
                    c->oi_offset = at, c->oi_len = (int64_t)b.len;
            }
        }
    }
    hx_buf_reset(&b);
    return st;
}

static void write_column_meta(struct hoist_pq_writer *w, const struct hx_pqw_chunk *c, int leaf, struct hx_tw *t) {
    const struct hx_pqw_leaf *l = &w->s.leaves[leaf];
    hx_tw_struct_begin(t, 3);
    hx_tw_i32(t, 1, l->node->ptype);
    uint32_t nenc = (uint32_t)__builtin_popcount(c->encodings);
    hx_tw_list_begin(t, 2, HX_TC_I32, nenc);
    for (int e = 0; e < 32; e++)
        if (c->encodings & (1u << e)) hx_tw_elem_i32(t, e);
    hx_tw_list_begin(t, 3, HX_TC_BINARY, (uint32_t)l->npath);
    for (int i = 0; i < l->npath; i++) hx_tw_elem_binary(t, l->path[i], strlen(l->path[i]));
    hx_tw_i32(t, 4, (int32_t)c->codec);
    hx_tw_i64(t, 5, c->num_values);
    hx_tw_i64(t, 6, c->total_uncompressed);
    hx_tw_i64(t, 7, c->total_compressed);
    hx_tw_i64(t, 9, c->data_offset);
    if (c->dict_offset >= 0) hx_tw_i64(t, 11, c->dict_offset);
    if (w->o->statistics) {
        hx_tw_struct_begin(t, 12);
        hx_pqw_stats_write(&c->stats, l->node->order, t);
        hx_tw_struct_end(t);
    }
    uint32_t nstats = (uint32_t)c->n_dict_pages > 0;
    for (int e = 0; e < 10; e++) nstats += c->n_data_pages_by_enc[e] > 0;
    hx_tw_list_begin(t, 13, HX_TC_STRUCT, nstats);
    if (c->n_dict_pages) {
        hx_tw_elem_struct_begin(t);
        hx_tw_i32(t, 1, PQP_DICTIONARY);
        hx_tw_i32(t, 2, PQE_PLAIN);
        hx_tw_i32(t, 3, c->n_dict_pages);
        hx_tw_struct_end(t);
    }
    for (int e = 0; e < 10; e++) {
        if (!c->n_data_pages_by_enc[e]) continue;
        hx_tw_elem_struct_begin(t);
        hx_tw_i32(t, 1, w->o->page_version == 2 ? PQP_DATA_V2 : PQP_DATA);
        hx_tw_i32(t, 2, e);
        hx_tw_i32(t, 3, c->n_data_pages_by_enc[e]);
        hx_tw_struct_end(t);
    }
    if (c->bloom_len > 0) {
        hx_tw_i64(t, 14, c->bloom_offset);
        hx_tw_i32(t, 15, (int32_t)c->bloom_len);
    }
    hx_tw_struct_end(t);
}

static void write_row_group(struct hoist_pq_writer *w, int r, struct hx_tw *t) {
    const struct row_group *rg = &w->rgs[r];
    int64_t total = 0, compressed = 0;
    hx_tw_elem_struct_begin(t);
    hx_tw_list_begin(t, 1, HX_TC_STRUCT, (uint32_t)w->s.nleaves);
    for (int i = 0; i < w->s.nleaves; i++) {
        const struct hx_pqw_chunk *c = &rg->chunks[i];
        total += c->total_uncompressed;
        compressed += c->total_compressed;
        hx_tw_elem_struct_begin(t);
        hx_tw_i64(t, 2, 0); /* file_offset: deprecated, 0 (parquet.thrift) */
        write_column_meta(w, c, i, t);
        if (c->oi_len > 0) {
            hx_tw_i64(t, 4, c->oi_offset);
            hx_tw_i32(t, 5, (int32_t)c->oi_len);
        }
        if (c->ci_len > 0) {
            hx_tw_i64(t, 6, c->ci_offset);
            hx_tw_i32(t, 7, (int32_t)c->ci_len);
        }
        hx_tw_struct_end(t);
    }
    hx_tw_i64(t, 2, total);
    hx_tw_i64(t, 3, rg->num_rows);
    hx_tw_i64(t, 5, rg->file_offset);
    hx_tw_i64(t, 6, compressed);
    hx_tw_i16(t, 7, (int16_t)r);
    hx_tw_struct_end(t);
}

/* key-value metadata: the schema's own, the options', then ARROW:schema
 * (an older ARROW:schema among the others is dropped: it would describe
 * another schema, and readers take the first). */
struct kv {
    const char *k, *v;
    size_t kl, vl;
};

static hx_status write_kv(struct hoist_pq_writer *w, struct hx_tw *t, const char *arrow_schema) {
    struct hx_arrow_metadata_reader r;
    hx_arrow_metadata_read_begin(&r, w->schema.metadata);
    size_t cap = (size_t)r.left + w->o->nkv + 1, n = 0;
    struct kv *kv = hx_malloc(cap * sizeof *kv);
    if (!kv) HX_FAIL(HOIST_ERR_NOMEM, "out of memory writing key-value metadata");
    struct hx_arrow_kv e;
    while (hx_arrow_metadata_read_next(&r, &e)) kv[n++] = (struct kv){e.key, e.value, e.klen, e.vlen};
    for (size_t i = 0; i < w->o->nkv; i++)
        kv[n++] =
            (struct kv){w->o->kv[2 * i], w->o->kv[2 * i + 1], strlen(w->o->kv[2 * i]), strlen(w->o->kv[2 * i + 1])};
    if (arrow_schema) {
        size_t keep = 0;
        for (size_t i = 0; i < n; i++)
            if (!(kv[i].kl == 12 && memcmp(kv[i].k, "ARROW:schema", 12) == 0)) kv[keep++] = kv[i];
        n = keep;
        kv[n++] = (struct kv){"ARROW:schema", arrow_schema, 12, strlen(arrow_schema)};
    }
    if (n > 0) {
        hx_tw_list_begin(t, 5, HX_TC_STRUCT, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            hx_tw_elem_struct_begin(t);
            hx_tw_binary(t, 1, kv[i].k, kv[i].kl);
            hx_tw_binary(t, 2, kv[i].v, kv[i].vl);
            hx_tw_struct_end(t);
        }
    }
    hx_free(kv);
    return HOIST_OK;
}

static hx_status write_footer(struct hoist_pq_writer *w) {
    char *arrow_schema = NULL;
    if (w->o->store_schema) HX_TRY(hx_pqw_arrow_schema_b64(&w->schema, &arrow_schema));
    struct hx_buf b;
    hx_buf_init(&b);
    struct hx_tw t;
    hx_tw_init(&t, &b);
    hx_tw_i32(&t, 1, 2); /* version: 2 as Arrow C++ writes for format 2.x */
    hx_pqw_schema_write(&w->s, &t);
    hx_tw_i64(&t, 3, w->num_rows);
    hx_tw_list_begin(&t, 4, HX_TC_STRUCT, (uint32_t)w->nrgs);
    for (int r = 0; r < w->nrgs; r++) write_row_group(w, r, &t);
    hx_status st = write_kv(w, &t, arrow_schema);
    char created[128];
    snprintf(created, sizeof created, "hoist version %s", HOIST_VERSION_STRING);
    hx_tw_string(&t, 6, w->o->created_by ? w->o->created_by : created);
    /* column_orders: TYPE_ORDER for every leaf, required once min/max are written */
    hx_tw_list_begin(&t, 7, HX_TC_STRUCT, (uint32_t)w->s.nleaves);
    for (int i = 0; i < w->s.nleaves; i++) {
        hx_tw_elem_struct_begin(&t);
        hx_tw_struct_begin(&t, 1);
        hx_tw_struct_end(&t);
        hx_tw_struct_end(&t);
    }
    if (st == HOIST_OK) st = hx_tw_finish(&t);
    hx_free(arrow_schema);
    if (st == HOIST_OK) {
        uint32_t len = (uint32_t)b.len;
        if (b.len > UINT32_MAX) st = hx_error(HOIST_ERR_LIMIT, "Parquet footer of %zu bytes is too large", b.len);
        if (st == HOIST_OK) st = hx_buf_append(&b, &len, 4);
        if (st == HOIST_OK) st = hx_buf_append(&b, "PAR1", 4);
        if (st == HOIST_OK) st = emit(w, b.data, b.len);
    }
    hx_buf_reset(&b);
    return st;
}

static hx_status close_writer(struct hoist_pq_writer *w) {
    HX_TRY(flush_row_group(w));
    if (w->written == 0) HX_TRY(emit(w, "PAR1", 4));
    if (w->o->page_index) HX_TRY(write_page_indexes(w));
    return write_footer(w);
}

hx_status hoist_pq_writer_close(struct hoist_pq_writer *w) {
    HX_TRY(usable(w));
    hx_status st = close_writer(w);
    w->closed = 1;
    if (st != HOIST_OK) {
        w->failed = 1;
        return st;
    }
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_pq_write_stream(struct ArrowArrayStream *stream, const struct hoist_pq_write_options *opts,
                                hoist_pq_sink_fn sink, void *userdata) {
    if (!stream || !stream->release) HX_FAIL(HOIST_ERR_INVALID_ARG, "hoist_pq_write_stream: NULL or released stream");
    struct ArrowSchema schema;
    memset(&schema, 0, sizeof schema);
    struct hoist_pq_writer *w = NULL;
    hx_status st = HOIST_OK;
    int rc = stream->get_schema(stream, &schema);
    if (rc != 0) {
        const char *m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
        st = hx_error(HOIST_ERR_INVALID_ARG, "hoist_pq_write_stream: the stream gave no schema (%s)",
                      m ? m : "no message");
    }
    if (st == HOIST_OK) st = hoist_pq_writer_new(&schema, opts, sink, userdata, &w);
    while (st == HOIST_OK) {
        struct ArrowArray batch;
        memset(&batch, 0, sizeof batch);
        rc = stream->get_next(stream, &batch);
        if (rc != 0) {
            const char *m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
            st = hx_error(HOIST_ERR_INVALID_ARG, "hoist_pq_write_stream: reading the stream failed (%s)",
                          m ? m : "no message");
            break;
        }
        if (!batch.release) break;
        st = hoist_pq_writer_write(w, &batch);
        batch.release(&batch);
    }
    if (st == HOIST_OK) st = hoist_pq_writer_close(w);
    hoist_pq_writer_free(w);
    if (schema.release) schema.release(&schema);
    stream->release(stream);
    if (st == HOIST_OK) hx_error_clear();
    return st;
}
