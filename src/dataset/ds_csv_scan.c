/*
 * ds_csv_scan.c — scanning a CSV dataset: one producer thread reads the
 * kept files in order (a local file mapped and fed in slices, an object's
 * ranges fetched ahead of the parse, hx_ds_csv_fetch), each through a
 * byte sink (gzip/zstd/bzip2) into a streaming CSV reader that converts
 * only the needed columns, with the dataset's types set, in parallel
 * chunks on its pool. The filter runs inside each chunk's conversion
 * (hx_csv_reader_set_row_filter): the filter columns are converted first
 * and the other columns only for the rows it keeps. Each batch is then
 * sampled (and filtered again when the codec could not: a sample needs the
 * rows' numbers in the file), partition columns are added and the batch is
 * queued for the consumer under the memory budget (backpressure stops the
 * producer).
 */
#include "ds_csv_internal.h"
#include "file_map.h"

#include <string.h>

/* Local files are fed in slices: the reader copies what it is fed into its
 * buffer, so a slice bounds that copy, and batches are drained between. */
#define FEED_SLICE ((size_t)16 << 20)
#define DEFAULT_BUDGET ((uint64_t)256 << 20)

struct cscan {
    struct hoist_dataset *ds; /* a reference */
    pthread_t th;
    bool th_live;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ArrowArray *q;
    size_t qhead, qlen, qcap;
    uint64_t *qbytes_of; /* bytes of each queued batch */
    uint64_t qbytes, budget;
    bool done;
    hx_status err;
    char errmsg[1024];
    atomic_bool stop;
    int64_t rows_out, limit;
    /* producer state */
    int64_t rows_made;
    const struct ds_file *f;
    int64_t file_row;
    struct hoist_csv_reader *rd;
    int *batch_col;  /* per needed column: its child in the reader's batches, -1 = not from the file */
    bool *in_filter; /* per needed column: the filter names it */
    uint64_t fetched, output_bytes;
    size_t units_done;
    double t0;
};

/* ---- one batch -------------------------------------------------------------- */

static hx_status enqueue(struct cscan *s, struct ArrowArray *batch, uint64_t bytes) {
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop) && s->qlen > s->qhead && s->qbytes + bytes > s->budget)
        pthread_cond_wait(&s->cv, &s->mu);
    if (atomic_load(&s->stop)) {
        pthread_mutex_unlock(&s->mu);
        batch->release(batch);
        return HOIST_ERR_CANCELLED;
    }
    if (s->qhead == s->qlen) s->qhead = s->qlen = 0;
    if (s->qlen == s->qcap) {
        size_t nc = s->qcap ? s->qcap * 2 : 16;
        struct ArrowArray *nq = hx_realloc(s->q, nc * sizeof *nq);
        uint64_t *nb = nq ? hx_realloc(s->qbytes_of, nc * sizeof *nb) : NULL;
        if (nq) s->q = nq;
        if (nb) s->qbytes_of = nb;
        if (!nq || !nb) {
            pthread_mutex_unlock(&s->mu);
            batch->release(batch);
            return hx_error(HOIST_ERR_NOMEM, "out of memory");
        }
        s->qcap = nc;
    }
    s->q[s->qlen] = *batch;
    s->qbytes_of[s->qlen++] = bytes;
    s->qbytes += bytes;
    batch->release = NULL;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return HOIST_OK;
}

/* Keeps the rows the filter and the sample keep (keep[r]); *kept counts them. */
static hx_status select_rows(struct cscan *s, struct ArrowArray *arrays, int64_t rows, uint8_t **keep_out,
                             int64_t *kept) {
    struct hoist_dataset *ds = s->ds;
    *keep_out = NULL;
    *kept = rows;
    if (!ds->filter && ds->cfg.sample >= 1.0) return HOIST_OK;
    uint8_t *keep = hx_malloc(rows > 0 ? (size_t)rows : 1);
    const struct ArrowArray **cols = hx_calloc(ds->nneed + 1, sizeof *cols);
    if (!keep || !cols) {
        hx_free(keep);
        hx_free(cols);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < ds->nneed; i++) cols[i] = &arrays[i];
    hx_status st = hx_ds_filter_eval(ds->filter, cols, ds->need_formats, ds->need_dict_formats, rows, keep);
    hx_free(cols);
    if (st != HOIST_OK) {
        hx_free(keep);
        return hx_error_prefix(st, "%s", s->f->url);
    }
    if (ds->cfg.sample < 1.0) {
        /* Row identity = (file, row number in the file), as for Parquet. */
        uint64_t thr = (uint64_t)(ds->cfg.sample * 18446744073709551616.0);
        uint64_t base = hx_ds_mix64(s->f->hash ^ hx_ds_mix64(ds->cfg.seed));
        for (int64_t i = 0; i < rows; i++)
            if (keep[i] && hx_ds_mix64(base + (uint64_t)(s->file_row + i)) >= thr) keep[i] = 0;
    }
    *kept = 0;
    for (int64_t i = 0; i < rows; i++) *kept += keep[i];
    *keep_out = keep;
    return HOIST_OK;
}

/* A batch from the reader: needed columns moved out of it, partition and
 * missing columns added, rows filtered, then queued. */
static hx_status take_batch(struct cscan *s, struct ArrowArray *b) {
    struct hoist_dataset *ds = s->ds;
    int64_t rows = b->length;
    struct ArrowArray *arrays = hx_calloc(ds->nneed + 1, sizeof *arrays);
    if (!arrays) {
        b->release(b);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status st = HOIST_OK;
    for (size_t i = 0; st == HOIST_OK && i < ds->nneed; i++) {
        const struct ds_col *c = &ds->cols[ds->need[i]];
        if (c->partition) {
            st = hx_ds_array_const(c->ptype, s->f->pvalues[c->pidx], rows, &arrays[i]);
        } else if (s->batch_col[i] < 0) {
            st = hx_ds_array_nulls(&c->schema, rows, &arrays[i]);
        } else {
            struct ArrowArray *child = b->children[s->batch_col[i]];
            arrays[i] = *child; /* moved: the batch's release skips it */
            child->release = NULL;
        }
    }
    b->release(b);
    uint8_t *keep = NULL;
    int64_t kept = rows;
    if (st == HOIST_OK) st = select_rows(s, arrays, rows, &keep, &kept);
    s->file_row += rows;
    for (size_t i = ds->nout; i < ds->nneed; i++)
        if (arrays[i].release) arrays[i].release(&arrays[i]);
    for (size_t i = 0; st == HOIST_OK && keep && kept < rows && i < ds->nout; i++) {
        struct ArrowArray o;
        st = hx_ds_array_filter(&arrays[i], &ds->cols[ds->need[i]].schema, keep, kept, &o);
        if (st == HOIST_OK) arrays[i] = o;
    }
    hx_free(keep);
    uint64_t bytes = 0;
    for (size_t i = 0; st == HOIST_OK && i < ds->nout; i++)
        bytes += hx_ds_array_bytes(&arrays[i], &ds->cols[ds->need[i]].schema);
    struct ArrowArray batch = {0};
    if (st == HOIST_OK && kept > 0) {
        st = hx_ds_array_struct(arrays, ds->nout, kept, &batch); /* moves the columns, or releases them */
        hx_free(arrays);
        if (st != HOIST_OK) return st;
        s->output_bytes += bytes;
        s->rows_made += kept;
        return enqueue(s, &batch, bytes);
    }
    for (size_t i = 0; i < ds->nout; i++)
        if (arrays[i].release) arrays[i].release(&arrays[i]);
    hx_free(arrays);
    return st;
}

static hx_status drain(struct cscan *s) {
    for (;;) {
        if (atomic_load(&s->stop)) return HOIST_ERR_CANCELLED;
        if (s->limit >= 0 && s->rows_made >= s->limit) return HOIST_ERR_CANCELLED; /* enough: see produce */
        struct ArrowArray b;
        HX_TRY(hoist_csv_reader_next(s->rd, &b));
        if (!b.release) return HOIST_OK;
        HX_TRY(take_batch(s, &b));
    }
}

static hx_status emit_text(void *ud, const uint8_t *text, size_t n) {
    struct cscan *s = ud;
    HX_TRY(hoist_csv_reader_feed(s->rd, text, n));
    return drain(s);
}

/* ---- one file ------------------------------------------------------------------- */

static const char *type_name(const char *format) {
    static const char *const m[][2] = {{"n", "null"},
                                       {"b", "bool"},
                                       {"l", "int64"},
                                       {"g", "double"},
                                       {"tdD", "date32"},
                                       {"tsu:", "timestamp[us]"},
                                       {"tsu:UTC", "timestamp[us, tz=UTC]"},
                                       {"u", "string"}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (!strcmp(format, m[i][0])) return m[i][1];
    return NULL;
}

/* The filter on one chunk's converted filter columns, on a reader worker:
 * partition columns as constants, the rest of the needed columns absent
 * (the filter does not name them). */
static hx_status chunk_filter(void *ud, const struct ArrowArray *arrays, int64_t rows, uint8_t *keep) {
    struct cscan *s = ud;
    struct hoist_dataset *ds = s->ds;
    const struct ArrowArray **cols = hx_calloc(ds->nneed + 1, sizeof *cols);
    struct ArrowArray *consts = hx_calloc(ds->nneed + 1, sizeof *consts);
    hx_status st = cols && consts ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == HOIST_OK && i < ds->nneed; i++) {
        const struct ds_col *c = &ds->cols[ds->need[i]];
        if (!s->in_filter[i]) continue;
        if (c->partition) {
            st = hx_ds_array_const(c->ptype, s->f->pvalues[c->pidx], rows, &consts[i]);
            cols[i] = &consts[i];
        } else if (s->batch_col[i] >= 0) {
            cols[i] = &arrays[s->batch_col[i]];
        }
    }
    if (st == HOIST_OK) st = hx_ds_filter_eval(ds->filter, cols, ds->need_formats, ds->need_dict_formats, rows, keep);
    for (size_t i = 0; consts && i < ds->nneed; i++)
        if (consts[i].release) consts[i].release(&consts[i]);
    hx_free(consts);
    hx_free(cols);
    return st;
}

/* The reader for file f: the dataset's dialect, the needed columns only,
 * each with the dataset's type, and the filter inside its chunks. */
static hx_status open_reader(struct cscan *s) {
    struct hoist_dataset *ds = s->ds;
    const struct ds_file *f = s->f;
    struct hoist_csv_options *o;
    HX_TRY(hx_csv_options_clone(ds->cfg.csv, &o));
    const char **names = hx_calloc(ds->nneed + 1, sizeof *names);
    hx_status st = names ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    size_t nn = 0;
    for (size_t i = 0; st == HOIST_OK && i < ds->nneed; i++) {
        s->batch_col[i] = -1;
        if (f->field[i] < 0) continue;
        const struct ArrowSchema *fs = f->schema.children[f->field[i]];
        s->batch_col[i] = (int)nn;
        names[nn++] = fs->name;
        const char *t = type_name(fs->format);
        if (!t) st = hx_error(HOIST_ERR_INTERNAL, "%s: column '%s' of type %s", f->url, fs->name, fs->format);
        if (st == HOIST_OK) st = hoist_csv_options_set_column_type(o, fs->name, t);
    }
    /* Only partition columns wanted: the first column still counts the rows. */
    if (st == HOIST_OK && nn == 0 && f->schema.n_children > 0) names[nn++] = f->schema.children[0]->name;
    if (st == HOIST_OK && nn) st = hoist_csv_options_set_strings(o, HOIST_CSV_COLUMNS, names, nn);
    if (st == HOIST_OK) st = hoist_csv_options_set_int(o, HOIST_CSV_DELIMITER, ds->csv_delimiter);
    if (st == HOIST_OK) st = hoist_csv_options_set_int(o, HOIST_CSV_HEADER, ds->csv_header);
    if (st == HOIST_OK && ds->cfg.threads) st = hoist_csv_options_set_int(o, HOIST_CSV_THREADS, ds->cfg.threads);
    if (st == HOIST_OK) st = hx_csv_reader_new_named(o, f->url, &s->rd);
    if (st == HOIST_OK && ds->filter && ds->cfg.sample >= 1.0) {
        size_t *fcols = hx_calloc(ds->nneed + 1, sizeof *fcols), nf = 0;
        if (!fcols) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        for (size_t i = 0; fcols && i < ds->nneed; i++)
            if (s->in_filter[i] && s->batch_col[i] >= 0) fcols[nf++] = (size_t)s->batch_col[i];
        if (st == HOIST_OK) st = hx_csv_reader_set_row_filter(s->rd, fcols, nf, chunk_filter, s);
        hx_free(fcols);
    }
    hx_free(names);
    hoist_csv_options_free(o);
    return st;
}

static hx_status progress(struct cscan *s) {
    struct hoist_dataset *ds = s->ds;
    if (!ds->cfg.progress) return HOIST_OK;
    struct hoist_progress p = {.struct_size = sizeof p,
                               .bytes_done = s->fetched,
                               .bytes_total = ds->stats.dataset_bytes,
                               .objects_done = s->units_done,
                               .objects_total = ds->nunits};
    if (ds->cfg.progress(&p, ds->cfg.progress_ud)) return hx_error(HOIST_ERR_CANCELLED, "load cancelled");
    return HOIST_OK;
}

static hx_status scan_file(struct cscan *s, const struct ds_unit *u) {
    struct hoist_dataset *ds = s->ds;
    s->f = &ds->files[u->file];
    s->file_row = 0;
    HX_TRY(open_reader(s));
    struct hx_ds_sink sink = {.emit = emit_text, .ud = s, .name = s->f->url};
    hx_status st = HOIST_OK;
    if (hx_ds_csv_is_local(s->f->url)) {
        struct hx_file_map map;
        st = hx_file_map_open(strncmp(s->f->url, "file://", 7) ? s->f->url : s->f->url + 7, &map);
        for (size_t off = 0; st == HOIST_OK && off < map.size; off += FEED_SLICE) {
            size_t n = map.size - off < FEED_SLICE ? map.size - off : FEED_SLICE;
            st = hx_ds_sink_push(&sink, map.data + off, n);
            s->fetched += n;
            if (st == HOIST_OK) st = progress(s);
        }
        hx_file_map_close(&map);
    } else {
        uint64_t size = s->f->size;
        if (!size) {
            struct hoist_info_item info = {.url = s->f->url};
            st = hoist_store_info_many(ds->store, &info, 1, 0);
            size = info.info.size;
            hoist_store_info_item_reset(&info);
        }
        if (st == HOIST_OK) st = hx_ds_csv_fetch(ds->store, s->f->url, size, &sink);
        s->fetched += size;
    }
    if (st == HOIST_OK) st = hx_ds_sink_end(&sink);
    if (st == HOIST_OK) st = hoist_csv_reader_finish(s->rd);
    if (st == HOIST_OK) st = drain(s);
    hx_ds_sink_free(&sink);
    hoist_csv_reader_free(s->rd);
    s->rd = NULL;
    s->units_done++;
    if (st == HOIST_OK) st = progress(s);
    return st;
}

static void *produce(void *arg) {
    struct cscan *s = arg;
    struct hoist_dataset *ds = s->ds;
    hx_status st = HOIST_OK;
    for (size_t ui = 0; st == HOIST_OK && ui < ds->nunits; ui++) st = scan_file(s, &ds->units[ui]);
    /* CANCELLED with the limit reached or the consumer gone is the end, not a failure */
    bool enough = s->limit >= 0 && s->rows_made >= s->limit;
    pthread_mutex_lock(&s->mu);
    if (st != HOIST_OK && !(st == HOIST_ERR_CANCELLED && (enough || atomic_load(&s->stop)))) {
        s->err = st;
        hx_error_copy(s->errmsg, sizeof s->errmsg);
    }
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the consumer side ---------------------------------------------------------- */

static hx_status cscan_next(struct cscan *s, struct ArrowArray *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    while (s->qhead == s->qlen && !s->done && s->err == HOIST_OK) pthread_cond_wait(&s->cv, &s->mu);
    if (s->err != HOIST_OK) {
        hx_status st = s->err;
        pthread_mutex_unlock(&s->mu);
        return hx_error(st, "%s", s->errmsg);
    }
    if (s->qhead == s->qlen || (s->limit >= 0 && s->rows_out >= s->limit)) {
        pthread_mutex_unlock(&s->mu);
        return HOIST_OK; /* the end */
    }
    *out = s->q[s->qhead];
    s->qbytes -= s->qbytes_of[s->qhead];
    s->q[s->qhead++].release = NULL;
    pthread_cond_broadcast(&s->cv);
    if (s->limit >= 0 && s->rows_out + out->length >= s->limit) {
        int64_t take = s->limit - s->rows_out;
        /* Shortening a batch we made: children keep their buffers, lengths
         * shrink, null counts become unknown (as ds_scan.c does). */
        out->length = take;
        for (int64_t c = 0; c < out->n_children; c++) {
            out->children[c]->length = take;
            out->children[c]->null_count = -1;
        }
        atomic_store(&s->stop, true);
    }
    s->rows_out += out->length;
    pthread_mutex_unlock(&s->mu);
    return HOIST_OK;
}

static void cscan_destroy(struct cscan *s) {
    if (!s) return;
    atomic_store(&s->stop, true);
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->th_live) pthread_join(s->th, NULL);
    struct hoist_dataset *ds = s->ds;
    pthread_mutex_lock(&ds->mu);
    ds->stats.rows += s->rows_out;
    ds->stats.output_bytes += s->output_bytes;
    ds->stats.bytes_fetched += s->fetched;
    ds->stats.scan_seconds += hx_now() - s->t0;
    pthread_mutex_unlock(&ds->mu);
    for (size_t i = s->qhead; i < s->qlen; i++)
        if (s->q[i].release) s->q[i].release(&s->q[i]);
    hx_free(s->q);
    hx_free(s->qbytes_of);
    hx_free(s->batch_col);
    hx_free(s->in_filter);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    hx_ds_unref(ds);
    hx_free(s);
}

static hx_status cscan_start(struct hoist_dataset *ds, struct cscan **out) {
    *out = NULL;
    struct cscan *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    atomic_fetch_add(&ds->refs, 1);
    s->ds = ds;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->stop, false);
    s->limit = ds->cfg.limit;
    s->budget = ds->cfg.memory_limit ? ds->cfg.memory_limit : DEFAULT_BUDGET;
    s->t0 = hx_now();
    s->batch_col = hx_calloc(ds->nneed + 1, sizeof *s->batch_col);
    s->in_filter = hx_calloc(ds->nneed + 1, sizeof *s->in_filter);
    for (size_t i = 0; s->in_filter && ds->filter && i < ds->nneed; i++)
        for (size_t k = 0; k < ds->filter->ncolumns; k++)
            if (!strcmp(ds->filter->columns[k], ds->cols[ds->need[i]].name)) s->in_filter[i] = true;
    if (!s->batch_col || !s->in_filter) {
        cscan_destroy(s);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    if (pthread_create(&s->th, NULL, produce, s) != 0) {
        cscan_destroy(s);
        return hx_error(HOIST_ERR_NOMEM, "cannot start the CSV scan thread");
    }
    s->th_live = true;
    *out = s;
    return HOIST_OK;
}

struct cscan_stream {
    struct cscan *s;
    struct ArrowSchema schema;
};

static hx_status cs_schema(void *state, struct ArrowSchema *out) {
    struct cscan_stream *p = state;
    return hx_arrow_schema_copy(&p->schema, out);
}

static hx_status cs_next(void *state, struct ArrowArray *out) {
    struct cscan_stream *p = state;
    return cscan_next(p->s, out);
}

static void cs_free(void *state) {
    struct cscan_stream *p = state;
    cscan_destroy(p->s);
    if (p->schema.release) p->schema.release(&p->schema);
    hx_free(p);
}

static const struct hx_arrow_stream_ops cscan_stream_ops = {cs_schema, cs_next, cs_free};

hx_status hx_ds_csv_scan(struct hoist_dataset *ds, bool load, struct ArrowArrayStream *out) {
    memset(out, 0, sizeof *out);
    struct ArrowSchema schema;
    HX_TRY(hx_ds_output_schema(ds, &schema));
    struct cscan *s;
    hx_status st = cscan_start(ds, &s);
    if (st != HOIST_OK) {
        schema.release(&schema);
        return st;
    }
    if (!load) {
        struct cscan_stream *p = hx_calloc(1, sizeof *p);
        if (!p) {
            cscan_destroy(s);
            schema.release(&schema);
            return hx_error(HOIST_ERR_NOMEM, "out of memory");
        }
        p->s = s;
        p->schema = schema;
        HX_TRY(hx_arrow_stream_init(out, &cscan_stream_ops, p));
        hx_error_clear();
        return HOIST_OK;
    }
    /* A table: every batch in memory before the stream is handed out. */
    st = hx_arrow_basic_stream_init(out, &schema);
    if (st != HOIST_OK) {
        cscan_destroy(s);
        return st;
    }
    while (st == HOIST_OK) {
        struct ArrowArray b;
        st = cscan_next(s, &b);
        if (st != HOIST_OK || !b.release) break;
        st = hx_arrow_basic_stream_append(out, &b);
    }
    if (st != HOIST_OK) {
        char msg[2048];
        hx_error_copy(msg, sizeof msg);
        cscan_destroy(s);
        out->release(out);
        return hx_error(st, "%s", msg);
    }
    cscan_destroy(s);
    hx_error_clear();
    return HOIST_OK;
}
