/*
 * ds_scan.c — hoist_dataset_scan and hoist_dataset_load: the fetch/decode
 * pipeline over a dataset's planned units, with its memory budget
 * (backpressure), and the two streams that hand its batches out.
 *
 * The scan pipeline (DESIGN.md "Loading a Parquet dataset"):
 *  - The plan is the list of kept row groups ("units") in file order, then
 *    row-group order, each with the coalesced byte ranges of its needed
 *    column chunks.
 *  - A few fetcher threads each take the next units (a batch of ~8 MiB, so
 *    tiny row groups still make big requests) while the memory budget
 *    allows, and fetch their ranges with one hoist_store_get_many call
 *    straight into the buffers the decoder will read (no staging copy). Each
 *    call runs its own event loop over the client's shared connections, so
 *    several batches are in flight at once and a slow one does not stall
 *    the rest.
 *  - When a batch lands, its fetcher queues one decode task per (unit,
 *    column) on the worker pool and goes back for the next batch: decoding
 *    row group k overlaps downloading row group k+1. The last task of a
 *    unit frees its bytes (returning them to the budget), adds partition and
 *    missing columns, applies the filter and the sample, and publishes the
 *    batch.
 *  - The consumer takes batches strictly in plan order.
 *
 * struct scan is private to this file: the rest of the layer only sees the
 * streams.
 */
#include "ds_csv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A fetch batch aims at this many bytes: big enough that a batch of tiny row
 * groups is not dominated by per-request latency, small enough that several
 * batches share the budget. */
#define DS_BATCH_BYTES (8u * 1024u * 1024u)
#define DS_BATCH_UNITS 64
/* Batches in flight at once. With the store's 25 connections per call this
 * keeps enough requests going even when each batch is one big range. */
#define DS_FETCHERS 8
/* Fetch buffers kept for reuse (see struct scan). */
#define DS_SPARE_BUFS 64

/* ---- scan ------------------------------------------------------------------------ */

enum unit_state { U_PENDING = 0, U_FETCHING, U_DECODING, U_READY, U_FAILED, U_TAKEN };

struct scan;

struct unit_run {
    enum unit_state state;
    struct ds_range *ranges; /* coalesced, sorted */
    uint8_t **bufs;          /* one per range */
    size_t *caps;            /* bytes allocated for each buffer */
    size_t nranges;
    struct ArrowArray *arrays; /* per needed column */
    atomic_int pending;
    atomic_int failed;
    hx_status status;
    char *msg;
    struct ArrowArray batch;
    int64_t batch_rows;
    /* Late materialisation (see late_col): set once the filter's columns
     * are decoded; the other output columns are then decoded for the kept
     * rows alone. */
    bool late;
    bool round2; /* the late columns' decoding is queued */
    uint8_t *keep;
    int64_t kept;
    uint64_t budget;      /* bytes reserved */
    uint64_t batch_bytes; /* decoded bytes waiting for the consumer (scan only) */
};

struct decode_task {
    struct scan *s;
    size_t unit;
    size_t col;
};

struct scan {
    struct hoist_dataset *ds;
    struct unit_run *u;
    size_t nunits;
    struct decode_task *tasks; /* nunits * (nneed + 1): one per column, then the guard */
    bool *late_col;            /* per need column: decoded after the filter, for its kept rows (late_col()) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next_fetch, next_emit;
    uint64_t inflight, budget, peak;
    size_t ahead_limit;
    bool count_ready;           /* streaming: batches not yet taken count against the budget */
    uint64_t seen_in, seen_out; /* bytes fetched and decoded by finished units */
    bool stop;
    hx_status err;
    int nfetchers;
    int live_fetchers;
    pthread_t fetchers[DS_FETCHERS];
    struct hx_task_group *tg;
    int64_t rows_out, limit;
    uint64_t planned_bytes, fetched_bytes, requests;
    /* Fetch buffers of decoded units, kept for the next units: a fresh
     * multi-MiB allocation is a new mapping whose every page faults, is
     * zeroed and charged on first touch, which costs about as much CPU as
     * receiving the bytes. Guarded by mu. */
    struct spare_buf {
        uint8_t *p;
        size_t cap;
    } spare[DS_SPARE_BUFS];
    size_t nspare;
    uint64_t spare_bytes;
    double t_first_request, t_last_byte, t_start;
    atomic_uint_fast64_t decode_ns;
    atomic_uint_fast64_t output_bytes;
    char errmsg[2048];
    bool done;
    bool stats_flushed;
};

static void scan_fail_locked(struct scan *s, hx_status st, const char *msg) {
    if (s->err == HOIST_OK) {
        s->err = st;
        snprintf(s->errmsg, sizeof s->errmsg, "%s", msg && *msg ? msg : hoist_strerror(st));
    }
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
}

/* A buffer of at least len bytes: the smallest spare that fits, else a new
 * one rounded up so that the next, slightly bigger chunk can reuse it. */
static uint8_t *fetch_buf_get(struct scan *s, size_t len, size_t *cap) {
    pthread_mutex_lock(&s->mu);
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < s->nspare; i++)
        if (s->spare[i].cap >= len && (best == SIZE_MAX || s->spare[i].cap < s->spare[best].cap)) best = i;
    if (best != SIZE_MAX) {
        uint8_t *p = s->spare[best].p;
        *cap = s->spare[best].cap;
        s->spare_bytes -= *cap;
        s->spare[best] = s->spare[--s->nspare];
        pthread_mutex_unlock(&s->mu);
        return p;
    }
    pthread_mutex_unlock(&s->mu);
    size_t grain = len >= (1u << 20) ? (1u << 20) : (64u << 10);
    size_t c = len > SIZE_MAX - grain ? len : (len + grain - 1) / grain * grain;
    uint8_t *p = hx_malloc(c ? c : 1);
    *cap = c;
    return p;
}

/* Keeps a buffer for reuse while the spares stay within half the budget
 * (they are memory the pipeline just had in flight); frees it otherwise.
 * Called with s->mu held. */
static void fetch_buf_put_locked(struct scan *s, uint8_t *p, size_t cap) {
    if (!p) return;
    if (s->next_fetch >= s->nunits) {
        /* Every unit has been handed to a fetcher: no spare will be reused,
         * and kept until the scan ends they would sit on top of the whole
         * table at the peak. */
        while (s->nspare > 0) hx_free(s->spare[--s->nspare].p);
        s->spare_bytes = 0;
        hx_free(p);
        return;
    }
    if (!s->stop && s->nspare < DS_SPARE_BUFS && s->spare_bytes + cap <= s->budget / 2) {
        s->spare[s->nspare++] = (struct spare_buf){p, cap};
        s->spare_bytes += cap;
        return;
    }
    hx_free(p);
}

static void unit_free_bytes(struct scan *s, struct unit_run *r) {
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < r->nranges; i++)
        if (r->bufs) fetch_buf_put_locked(s, r->bufs[i], r->caps ? r->caps[i] : 0);
    pthread_mutex_unlock(&s->mu);
    hx_free(r->bufs);
    hx_free(r->caps);
    hx_free(r->ranges);
    r->bufs = NULL;
    r->caps = NULL;
    r->ranges = NULL;
    r->nranges = 0;
    pthread_mutex_lock(&s->mu);
    s->inflight -= r->budget;
    r->budget = 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void release_arrays(struct hoist_dataset *ds, struct unit_run *r) {
    if (!r->arrays) return;
    for (size_t i = 0; i < ds->nneed; i++)
        if (r->arrays[i].release) r->arrays[i].release(&r->arrays[i]);
    hx_free(r->arrays);
    r->arrays = NULL;
}

/* Late materialisation: with a filter (and no sample), an output column
 * the filter does not read is decoded only once the filter's columns are,
 * and then for the rows the filter keeps alone (hx_pq_decode_field_kept):
 * the rows it drops are never written out and copied again. Units the page
 * index cut down decode their selected rows as before. */
static bool unit_is_late(const struct scan *s, size_t ui) {
    const struct hoist_dataset *ds = s->ds;
    if (!s->late_col || ds->units[ui].sel) return false;
    const struct ds_file *f = &ds->files[ds->units[ui].file];
    for (size_t i = 0; i < ds->nout; i++)
        if (s->late_col[i] && f->field[i] >= 0) return true;
    return false;
}

static bool late_col(const struct scan *s, size_t ui, size_t i) {
    const struct hoist_dataset *ds = s->ds;
    return s->u[ui].late && s->late_col[i] && ds->files[ds->units[ui].file].field[i] >= 0;
}

static void mark_filter_cols(const struct ds_node *n, bool *uses, size_t nneed) {
    if (!n) return;
    if (n->col >= 0 && (size_t)n->col < nneed) uses[n->col] = true;
    mark_filter_cols(n->a, uses, nneed);
    mark_filter_cols(n->b, uses, nneed);
}

/* Column i of a unit as the batch has it: a partition or missing column
 * made, a decoded one checked for its length and widened. */
static hx_status settle_column(struct scan *s, size_t ui, size_t i, int64_t rows) {
    struct hoist_dataset *ds = s->ds;
    struct unit_run *r = &s->u[ui];
    const struct ds_unit *u = &ds->units[ui];
    const struct ds_file *f = &ds->files[u->file];
    const struct ds_col *c = &ds->cols[ds->need[i]];
    struct ArrowArray *a = &r->arrays[i];
    if (c->partition) return hx_ds_array_const(c->ptype, f->pvalues[c->pidx], rows, a);
    if (f->field[i] < 0) return hx_ds_array_nulls(&c->schema, rows, a);
    if (a->length != rows)
        return hx_error(HOIST_ERR_PARQUET_CORRUPT, "%s: row group %d, column '%s': %lld values, expected %lld", f->url,
                        u->rg, c->name, (long long)a->length, (long long)rows);
    const char *ff = f->schema.children[f->field[i]]->format;
    if (strcmp(ff, c->format) != 0) {
        struct ArrowArray w;
        HX_TRY(hx_ds_array_cast(a, ff, c->format, &w));
        *a = w;
    }
    return HOIST_OK;
}

/* The filter's (and the sample's) verdict on a unit's rows: *keep (caller
 * frees) and how many it keeps. The columns the filter reads are settled. */
static hx_status unit_keep(struct scan *s, size_t ui, uint8_t **keep_out, int64_t *kept_out) {
    struct hoist_dataset *ds = s->ds;
    struct unit_run *r = &s->u[ui];
    const struct ds_unit *u = &ds->units[ui];
    const struct ds_file *f = &ds->files[u->file];
    int64_t rows = u->rows;
    int64_t kept = 0;
    uint8_t *keep = hx_malloc(rows > 0 ? (size_t)rows : 1);
    if (!keep) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    const struct ArrowArray **cols = hx_calloc(ds->nneed + 1, sizeof *cols);
    if (!cols) {
        hx_free(keep);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < ds->nneed; i++) cols[i] = &r->arrays[i];
    hx_status st = hx_ds_filter_eval(ds->filter, cols, ds->need_formats, ds->need_dict_formats, rows, keep);
    hx_free(cols);
    if (st != HOIST_OK) {
        hx_free(keep);
        return hx_error_prefix(st, "%s: row group %d", f->url, u->rg);
    }
    if (ds->cfg.sample < 1.0) {
        /* Row identity = (file, row number in the file), so a row is in or
         * out of the sample however the dataset is split or scanned. */
        uint64_t thr = ds->cfg.sample >= 1.0 ? UINT64_MAX : (uint64_t)(ds->cfg.sample * 18446744073709551616.0);
        uint64_t base = hx_ds_mix64(f->hash ^ hx_ds_mix64(ds->cfg.seed));
        int64_t first = f->rg_first_row[u->rg];
        if (!u->sel) {
            for (int64_t i = 0; i < rows; i++)
                if (keep[i] && hx_ds_mix64(base + (uint64_t)(first + i)) >= thr) keep[i] = 0;
        } else {
            int64_t i = 0;
            for (size_t k = 0; k < u->nsel; k++)
                for (int64_t j = 0; j < u->sel[k].count && i < rows; j++, i++)
                    if (keep[i] && hx_ds_mix64(base + (uint64_t)(first + u->sel[k].first + j)) >= thr) keep[i] = 0;
        }
    }
    kept = (int64_t)hx_count_kept(keep, (size_t)rows);
    *keep_out = keep;
    *kept_out = kept;
    return HOIST_OK;
}

/* Adds the columns not decoded from the file, widens, filters, samples and
 * builds the batch. Runs on a worker after the unit's last decode. */
static hx_status finish_unit(struct scan *s, size_t ui) {
    struct hoist_dataset *ds = s->ds;
    struct unit_run *r = &s->u[ui];
    const struct ds_unit *u = &ds->units[ui];
    const struct ds_file *f = &ds->files[u->file];
    int64_t rows = u->rows;
    uint8_t *keep = NULL;
    int64_t kept = rows;
    if (r->late && r->kept == 0) {
        /* No row kept: the late columns were never decoded, and an empty
         * batch is left out of the stream anyway. */
        hx_free(r->keep);
        r->keep = NULL;
        r->batch_rows = 0;
        return HOIST_OK;
    }
    if (r->late) {
        /* The filter ran between the two rounds of decoding (late_round). */
        keep = r->keep;
        kept = r->kept;
        r->keep = NULL;
        for (size_t i = 0; i < ds->nneed; i++) {
            if (!late_col(s, ui, i)) continue;
            hx_status st = settle_column(s, ui, i, kept);
            if (st != HOIST_OK) {
                hx_free(keep);
                return st;
            }
        }
    } else {
        for (size_t i = 0; i < ds->nneed; i++) HX_TRY(settle_column(s, ui, i, rows));
        if (ds->filter || ds->cfg.sample < 1.0) HX_TRY(unit_keep(s, ui, &keep, &kept));
    }
    /* Filter-only columns are done with. */
    for (size_t i = ds->nout; i < ds->nneed; i++)
        if (r->arrays[i].release) r->arrays[i].release(&r->arrays[i]);
    if (keep && kept < rows) {
        for (size_t i = 0; i < ds->nout; i++) {
            if (r->late && late_col(s, ui, i)) continue; /* decoded for the kept rows alone */
            struct ArrowArray o;
            hx_status st = hx_ds_array_filter(&r->arrays[i], &ds->cols[ds->need[i]].schema, keep, kept, &o);
            if (st != HOIST_OK) {
                hx_free(keep);
                return hx_error_prefix(st, "%s: row group %d, column '%s'", f->url, u->rg, ds->cols[ds->need[i]].name);
            }
            r->arrays[i] = o;
        }
    }
    hx_free(keep);
    uint64_t ob = 0;
    for (size_t i = 0; i < ds->nout; i++) ob += hx_ds_array_bytes(&r->arrays[i], &ds->cols[ds->need[i]].schema);
    atomic_fetch_add(&s->output_bytes, ob);
    r->batch_bytes = s->count_ready ? ob : 0;
    HX_TRY(hx_ds_array_struct(r->arrays, ds->nout, kept, &r->batch));
    r->batch_rows = kept;
    return HOIST_OK;
}

/* CPU time of the calling thread: decode time is reported as CPU-seconds,
 * which stay meaningful when the machine is shared. */
static double thread_cpu_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return hx_now();
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void decode_task_run(void *arg);

/* The filter's columns of a late unit are decoded: settles them, runs the
 * filter, and queues the late columns' decoding for the kept rows (their
 * last task finishes the unit). False when the unit is to be finished now:
 * a failure, a stopped scan, or no row kept. */
static bool late_round(struct scan *s, size_t ui) {
    struct hoist_dataset *ds = s->ds;
    struct unit_run *r = &s->u[ui];
    const struct ds_file *f = &ds->files[ds->units[ui].file];
    r->round2 = true;
    if (atomic_load(&r->failed) || s->stop) return false;
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < ds->nneed && st == HOIST_OK; i++)
        if (!late_col(s, ui, i)) st = settle_column(s, ui, i, ds->units[ui].rows);
    if (st == HOIST_OK) st = unit_keep(s, ui, &r->keep, &r->kept);
    if (st != HOIST_OK) {
        r->status = st;
        r->msg = hx_strdup(hoist_errmsg());
        atomic_store(&r->failed, 1);
        return false;
    }
    if (r->kept == 0) return false;
    int n = 0;
    for (size_t c = 0; c < ds->nneed; c++) n += late_col(s, ui, c);
    /* Counted in full before the first is queued, so none can see zero early. */
    atomic_store(&r->pending, n);
    size_t stride = ds->nneed + 1;
    for (size_t c = 0; c < ds->nneed; c++) {
        if (!late_col(s, ui, c) || f->field[c] < 0) continue;
        struct decode_task *t = &s->tasks[ui * stride + c];
        *t = (struct decode_task){s, ui, c};
        if (hx_task_group_submit(s->tg, decode_task_run, t) != HOIST_OK) decode_task_run(t);
    }
    return true;
}

static void decode_task_run(void *arg) {
    struct decode_task *t = arg;
    struct scan *s = t->s;
    struct hoist_dataset *ds = s->ds;
    struct unit_run *r = &s->u[t->unit];
    const struct ds_unit *u = &ds->units[t->unit];
    const struct ds_file *f = &ds->files[u->file];
    double t0 = thread_cpu_now();
    if (t->col != SIZE_MAX && !atomic_load(&r->failed) && !s->stop && u->sel) {
        /* Only the selected rows, from the pages the unit fetched. */
        struct hoist_pq_bytes *parts = hx_calloc(r->nranges + 1, sizeof *parts);
        hx_status st = parts ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
        for (size_t k = 0; parts && k < r->nranges; k++)
            parts[k] = (struct hoist_pq_bytes){r->ranges[k].offset, r->bufs[k], (size_t)r->ranges[k].length};
        if (st == HOIST_OK)
            st = hoist_pq_decode_field_rows(f->pq, hx_ds_column_is_nested(ds, t->col) ? NULL : f->pi, u->rg,
                                            f->field[t->col], parts, r->nranges, u->sel, u->nsel, ds->cfg.decode_flags,
                                            &r->arrays[t->col]);
        hx_free(parts);
        if (st != HOIST_OK && !atomic_exchange(&r->failed, 1)) {
            r->status = st;
            r->msg = hx_strdup(hoist_errmsg());
        }
    } else if (t->col != SIZE_MAX && !atomic_load(&r->failed) && !s->stop) {
        int field = f->field[t->col];
        bool kept_only = late_col(s, t->unit, t->col);
        uint64_t off = 0, len = 0;
        hx_status st = hoist_pq_file_field_range(f->pq, u->rg, field, &off, &len);
        size_t k = 0;
        while (st == HOIST_OK && k < r->nranges &&
               !(r->ranges[k].offset <= off && off + len <= r->ranges[k].offset + r->ranges[k].length))
            k++;
        if (st == HOIST_OK && k == r->nranges) st = hx_error(HOIST_ERR_INTERNAL, "%s: chunk not fetched", f->url);
        if (st == HOIST_OK && kept_only)
            st = hx_pq_decode_field_kept(f->pq, u->rg, field, r->bufs[k], r->ranges[k].offset,
                                         (size_t)r->ranges[k].length, ds->cfg.decode_flags, r->keep, r->kept,
                                         &r->arrays[t->col]);
        else if (st == HOIST_OK)
            st = hoist_pq_decode_field(f->pq, u->rg, field, r->bufs[k], r->ranges[k].offset,
                                       (size_t)r->ranges[k].length, ds->cfg.decode_flags, &r->arrays[t->col]);
        if (st != HOIST_OK && !atomic_exchange(&r->failed, 1)) {
            r->status = st;
            r->msg = hx_strdup(hoist_errmsg());
        }
    }
    atomic_fetch_add(&s->decode_ns, (uint64_t)((thread_cpu_now() - t0) * 1e9));
    if (atomic_fetch_sub(&r->pending, 1) != 1) return;
    /* Last task of the unit, or of its first round. */
    if (r->late && !r->round2 && late_round(s, t->unit)) return;
    unit_free_bytes(s, r);
    double t1 = thread_cpu_now();
    hx_status st = HOIST_OK;
    if (!atomic_load(&r->failed) && !s->stop) {
        st = finish_unit(s, t->unit);
        if (st != HOIST_OK) {
            r->status = st;
            r->msg = hx_strdup(hoist_errmsg());
            atomic_store(&r->failed, 1);
        }
    }
    release_arrays(ds, r);
    hx_free(r->keep);
    r->keep = NULL;
    atomic_fetch_add(&s->decode_ns, (uint64_t)((thread_cpu_now() - t1) * 1e9));
    pthread_mutex_lock(&s->mu);
    if (atomic_load(&r->failed)) {
        bool corrupt = hx_ds_status_is_bad_file(r->status);
        if (ds->cfg.skip_bad && corrupt) {
            /* The file is reported; its rows are left out, as asked. */
            pthread_mutex_unlock(&s->mu);
            hx_ds_note_skipped(ds, f->url, r->msg ? r->msg : hoist_strerror(r->status));
            pthread_mutex_lock(&s->mu);
            r->batch_rows = 0;
            r->state = U_READY;
        } else {
            r->state = U_FAILED;
            scan_fail_locked(s, r->status, r->msg);
        }
    } else {
        r->state = s->stop ? U_FAILED : U_READY;
        s->inflight += r->batch_bytes;
        s->seen_in += ds->units[t->unit].bytes;
        s->seen_out += r->batch_bytes;
        if (s->inflight > s->peak) s->peak = s->inflight;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Prepares the ranges of a unit and its buffers; appends get items. */
static hx_status prepare_unit(struct scan *s, size_t ui, struct hoist_get_item **items, size_t *nitems, size_t *cap) {
    struct hoist_dataset *ds = s->ds;
    const struct ds_unit *u = &ds->units[ui];
    const struct ds_file *f = &ds->files[u->file];
    struct unit_run *r = &s->u[ui];
    r->arrays = hx_calloc(ds->nneed + 1, sizeof *r->arrays);
    r->ranges = hx_calloc((u->sel ? u->nranges : ds->nneed) + 1, sizeof *r->ranges);
    if (!r->arrays || !r->ranges) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (u->sel) {
        /* Pages of the selected rows, planned and coalesced at open. */
        memcpy(r->ranges, u->ranges, u->nranges * sizeof *r->ranges);
        r->nranges = u->nranges;
    } else {
        size_t n = 0;
        for (size_t i = 0; i < ds->nneed; i++) {
            if (f->field[i] < 0) continue;
            HX_TRY(hoist_pq_file_field_range(f->pq, u->rg, f->field[i], &r->ranges[n].offset, &r->ranges[n].length));
            if (r->ranges[n].length) n++;
        }
        r->nranges = hx_ds_coalesce(r->ranges, n, DS_MAX_GAP);
    }
    r->bufs = hx_calloc(r->nranges + 1, sizeof *r->bufs);
    r->caps = hx_calloc(r->nranges + 1, sizeof *r->caps);
    if (!r->bufs || !r->caps) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < r->nranges; k++) {
        uint64_t len = r->ranges[k].length;
        if (!(r->bufs[k] = fetch_buf_get(s, (size_t)len, &r->caps[k])))
            return hx_error(HOIST_ERR_NOMEM, "out of memory (%llu bytes)", (unsigned long long)len);
        for (uint64_t p = 0; p < len; p += DS_MAX_PART) {
            if (*nitems == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                struct hoist_get_item *ni = hx_realloc(*items, nc * sizeof *ni);
                if (!ni) return hx_error(HOIST_ERR_NOMEM, "out of memory");
                *items = ni;
                *cap = nc;
            }
            struct hoist_get_item *g = &(*items)[(*nitems)++];
            memset(g, 0, sizeof *g);
            uint64_t l = len - p < DS_MAX_PART ? len - p : DS_MAX_PART;
            g->url = f->url;
            g->offset = (int64_t)(r->ranges[k].offset + p);
            g->length = (int64_t)l;
            g->dest = HOIST_DEST_BUFFER;
            g->buffer = r->bufs[k] + p;
            g->buffer_size = (size_t)l;
        }
    }
    return HOIST_OK;
}

/* Budget reserved for a unit of `bytes` column-chunk bytes. A streaming
 * scan also holds the decoded batch until its consumer takes it, and for a
 * while both exist, so it reserves the bytes plus their decoded size,
 * estimated from the units decoded so far (4x before the first one; Parquet
 * typically decodes to 2-5x its size). Called with s->mu held. */
static uint64_t reservation(const struct scan *s, uint64_t bytes) {
    if (!s->count_ready) return bytes;
    double ratio = s->seen_in > 0 ? (double)s->seen_out / (double)s->seen_in : 4.0;
    return bytes + (uint64_t)((double)bytes * ratio);
}

static void *fetcher_main(void *arg) {
    struct scan *s = arg;
    struct hoist_dataset *ds = s->ds;
    struct hoist_get_item *items = NULL;
    size_t icap = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->stop || s->next_fetch >= s->nunits) break;
        /* Take units in order while the budget and the read-ahead allow; a
         * unit bigger than the budget goes alone when nothing is in flight,
         * so the load always progresses. */
        size_t first = s->next_fetch, k = 0;
        uint64_t bytes = 0;
        while (first + k < s->nunits && k < DS_BATCH_UNITS && bytes < DS_BATCH_BYTES) {
            uint64_t b = reservation(s, ds->units[first + k].bytes);
            bool fits = s->inflight + bytes + b <= s->budget || (s->inflight == 0 && k == 0);
            if (!fits || first + k >= s->next_emit + s->ahead_limit) break;
            bytes += b;
            k++;
        }
        if (k == 0) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        s->next_fetch += k;
        s->inflight += bytes;
        if (s->inflight > s->peak) s->peak = s->inflight;
        for (size_t i = 0; i < k; i++) {
            s->u[first + i].state = U_FETCHING;
            s->u[first + i].budget = reservation(s, ds->units[first + i].bytes);
        }
        if (s->t_first_request == 0) s->t_first_request = hx_now();
        pthread_mutex_unlock(&s->mu);

        size_t nitems = 0;
        hx_status st = HOIST_OK;
        for (size_t i = 0; i < k && st == HOIST_OK; i++) st = prepare_unit(s, first + i, &items, &nitems, &icap);
        if (st == HOIST_OK) st = hoist_store_get_many(ds->store, items, nitems, 0, NULL, NULL);
        uint64_t got = 0;
        for (size_t i = 0; i < nitems; i++) {
            got += items[i].size;
            hoist_store_get_item_reset(&items[i]);
        }
        pthread_mutex_lock(&s->mu);
        s->fetched_bytes += got;
        s->requests += nitems;
        s->t_last_byte = hx_now();
        if (st == HOIST_OK && ds->cfg.progress) {
            struct hoist_progress p = {.struct_size = sizeof p,
                                       .bytes_done = s->fetched_bytes,
                                       .bytes_total = s->planned_bytes,
                                       .objects_done = s->next_fetch,
                                       .objects_total = s->nunits};
            if (ds->cfg.progress(&p, ds->cfg.progress_ud)) st = hx_error(HOIST_ERR_CANCELLED, "load cancelled");
        }
        if (st != HOIST_OK) {
            char msg[1024];
            hx_error_copy(msg, sizeof msg);
            for (size_t i = 0; i < k; i++) s->u[first + i].state = U_FAILED;
            scan_fail_locked(s, st, msg);
            pthread_mutex_unlock(&s->mu);
            for (size_t i = 0; i < k; i++) {
                unit_free_bytes(s, &s->u[first + i]);
                release_arrays(ds, &s->u[first + i]);
            }
            pthread_mutex_lock(&s->mu);
            break;
        }
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < k; i++) {
            size_t ui = first + i;
            struct unit_run *r = &s->u[ui];
            const struct ds_file *f = &ds->files[ds->units[ui].file];
            r->late = unit_is_late(s, ui);
            size_t nfields = 0;
            for (size_t c = 0; c < ds->nneed; c++) nfields += f->field[c] >= 0 && !late_col(s, ui, c);
            r->state = U_DECODING;
            /* +1 is a guard so the count cannot reach zero before every task
             * is queued; the guard task drops it (and finishes the unit when
             * it is last, e.g. a unit whose columns are all absent). */
            atomic_store(&r->pending, (int)nfields + 1);
            size_t stride = ds->nneed + 1;
            for (size_t c = 0; c <= ds->nneed; c++) {
                if (c < ds->nneed && (f->field[c] < 0 || late_col(s, ui, c))) continue;
                struct decode_task *t = &s->tasks[ui * stride + c];
                *t = (struct decode_task){s, ui, c == ds->nneed ? SIZE_MAX : c};
                if (hx_task_group_submit(s->tg, decode_task_run, t) != HOIST_OK) decode_task_run(t);
            }
        }
        pthread_mutex_lock(&s->mu);
    }
    s->live_fetchers--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    hx_free(items);
    return NULL;
}

/* Adds the scan's counters to the dataset's stats, once: at the end of the
 * stream (so a consumer sees them before releasing it) or at release. */
static void scan_flush_stats(struct scan *s) {
    if (s->stats_flushed) return;
    s->stats_flushed = true;
    struct hoist_dataset *ds = s->ds;
    double now = hx_now();
    pthread_mutex_lock(&ds->mu);
    ds->stats.bytes_fetched += s->fetched_bytes;
    ds->stats.requests += s->requests;
    ds->stats.rows += s->rows_out;
    ds->stats.output_bytes += atomic_load(&s->output_bytes);
    ds->stats.decode_seconds += (double)atomic_load(&s->decode_ns) / 1e9;
    if (s->t_first_request > 0) ds->stats.download_seconds += s->t_last_byte - s->t_first_request;
    ds->stats.scan_seconds += now - s->t_start;
    if (s->peak > ds->stats.peak_pipeline_bytes) ds->stats.peak_pipeline_bytes = s->peak;
    pthread_mutex_unlock(&ds->mu);
}

static void scan_destroy(struct scan *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nfetchers; i++) pthread_join(s->fetchers[i], NULL);
    if (s->tg) hx_task_group_free(s->tg); /* waits for queued decodes */
    struct hoist_dataset *ds = s->ds;
    scan_flush_stats(s);
    for (size_t i = 0; s->u && i < s->nunits; i++) {
        struct unit_run *r = &s->u[i];
        for (size_t k = 0; k < r->nranges; k++) hx_free(r->bufs ? r->bufs[k] : NULL);
        hx_free(r->bufs);
        hx_free(r->caps);
        hx_free(r->ranges);
        release_arrays(ds, r);
        hx_free(r->keep);
        if (r->batch.release) r->batch.release(&r->batch);
        hx_free(r->msg);
    }
    hx_free(s->late_col);
    for (size_t i = 0; i < s->nspare; i++) hx_free(s->spare[i].p);
    hx_free(s->u);
    hx_free(s->tasks);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    hx_ds_unref(ds);
    hx_free(s);
}

static hx_status scan_start(struct hoist_dataset *ds, size_t ahead_limit, bool count_ready, struct scan **out) {
    *out = NULL;
    struct scan *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    atomic_fetch_add(&ds->refs, 1);
    s->ds = ds;
    s->t_start = hx_now();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->decode_ns, 0);
    atomic_init(&s->output_bytes, 0);
    s->limit = ds->cfg.limit;
    s->nunits = ds->nunits;
    if (s->limit >= 0 && !ds->filter && ds->cfg.sample >= 1.0) {
        /* Without a filter or sample the row counts are known: fetch only
         * the row groups the limit reaches. */
        int64_t rows = 0;
        size_t k = 0;
        while (k < s->nunits && rows < s->limit) rows += ds->units[k++].rows;
        s->nunits = k;
    }
    uint64_t mem = ds->cfg.memory_limit;
    if (mem == 0) {
        /* Enough to keep a fast network busy (the bandwidth-delay product of
         * 10 Gbit/s at 30 ms is under 40 MB) while decoding catches up;
         * more would only raise the peak RSS above the table's size. */
        mem = hx_total_memory() / 8;
        if (mem == 0 || mem > (256ull << 20)) mem = 256ull << 20;
    }
    s->budget = mem;
    s->ahead_limit = ahead_limit;
    s->count_ready = count_ready;
    for (size_t i = 0; i < s->nunits; i++) s->planned_bytes += ds->units[i].bytes;
    s->u = hx_calloc(s->nunits + 1, sizeof *s->u);
    s->tasks = hx_calloc((s->nunits + 1) * (ds->nneed + 1), sizeof *s->tasks);
    hx_status st = (!s->u || !s->tasks) ? hx_error(HOIST_ERR_NOMEM, "out of memory") : HOIST_OK;
    if (st == HOIST_OK && ds->filter && ds->cfg.sample >= 1.0 && !getenv("HOIST_NO_LATE_DECODE")) {
        bool *uses = hx_calloc(ds->nneed + 1, sizeof *uses);
        s->late_col = hx_calloc(ds->nneed + 1, sizeof *s->late_col);
        if (!uses || !s->late_col) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        size_t nlate = 0;
        if (st == HOIST_OK) {
            mark_filter_cols(ds->filter->root, uses, ds->nneed);
            for (size_t i = 0; i < ds->nout; i++) {
                s->late_col[i] = !uses[i] && !ds->cols[ds->need[i]].partition;
                nlate += s->late_col[i];
            }
        }
        hx_free(uses);
        if (nlate == 0) {
            hx_free(s->late_col);
            s->late_col = NULL;
        }
    }
    if (st == HOIST_OK) st = hx_task_group_new(ds->pool, &s->tg);
    if (st == HOIST_OK) {
        int nf = DS_FETCHERS;
        if ((size_t)nf > s->nunits) nf = s->nunits ? (int)s->nunits : 0;
        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < nf; i++) {
            if (pthread_create(&s->fetchers[i], NULL, fetcher_main, s) != 0) {
                if (i == 0) st = hx_error(HOIST_ERR_INTERNAL, "cannot start a fetch thread");
                break;
            }
            s->nfetchers++;
            s->live_fetchers++;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (st != HOIST_OK) {
        scan_destroy(s);
        return st;
    }
    *out = s;
    return HOIST_OK;
}

/* Next batch in plan order: HOIST_OK with *out filled, or with
 * out->release == NULL at the end. */
static hx_status scan_next(struct scan *s, struct ArrowArray *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->err != HOIST_OK) {
            hx_status st = s->err;
            pthread_mutex_unlock(&s->mu);
            return hx_error(st, "%s", s->errmsg);
        }
        if (s->done || s->next_emit >= s->nunits) {
            s->done = true;
            pthread_mutex_unlock(&s->mu);
            /* Decodes may still be finishing after a limit: wait for them so
             * the counters are whole. */
            if (!s->stats_flushed) {
                hx_task_group_wait(s->tg);
                pthread_mutex_lock(&s->mu);
                scan_flush_stats(s);
                pthread_mutex_unlock(&s->mu);
            }
            return HOIST_OK;
        }
        struct unit_run *r = &s->u[s->next_emit];
        if (r->state != U_READY) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        r->state = U_TAKEN;
        s->next_emit++;
        s->inflight -= r->batch_bytes;
        r->batch_bytes = 0;
        pthread_cond_broadcast(&s->cv);
        if (r->batch_rows == 0) {
            if (r->batch.release) r->batch.release(&r->batch);
            continue;
        }
        *out = r->batch;
        r->batch.release = NULL;
        if (s->limit >= 0 && s->rows_out + out->length >= s->limit) {
            int64_t take = s->limit - s->rows_out;
            /* Shortening a batch we made: children keep their buffers,
             * lengths shrink, null counts become unknown. */
            out->length = take;
            for (int64_t c = 0; c < out->n_children; c++) {
                out->children[c]->length = take;
                out->children[c]->null_count = -1;
            }
            s->done = true;
            s->stop = true;
            pthread_cond_broadcast(&s->cv);
        }
        s->rows_out += out->length;
        pthread_mutex_unlock(&s->mu);
        return HOIST_OK;
    }
}

/* ---- streams ----------------------------------------------------------------------
 * Both are src/arrow streams (arrow.h), which keep their own error text: a
 * scan is a generic stream over scan_next, a load a basic stream over the
 * batches it collected. */

struct scan_stream {
    struct scan *s;
    struct ArrowSchema schema;
};

static hx_status scan_stream_schema(void *state, struct ArrowSchema *out) {
    struct scan_stream *p = state;
    return hx_arrow_schema_copy(&p->schema, out);
}

static hx_status scan_stream_next(void *state, struct ArrowArray *out) {
    struct scan_stream *p = state;
    return scan_next(p->s, out);
}

static void scan_stream_free(void *state) {
    struct scan_stream *p = state;
    scan_destroy(p->s);
    if (p->schema.release) p->schema.release(&p->schema);
    hx_free(p);
}

static const struct hx_arrow_stream_ops scan_stream_ops = {scan_stream_schema, scan_stream_next, scan_stream_free};

hx_status hoist_dataset_scan(struct hoist_dataset *ds, struct ArrowArrayStream *out) {
    HX_FAIL_IF(!ds || !out, HOIST_ERR_INVALID_ARG, "hoist_dataset_scan: NULL argument");
    memset(out, 0, sizeof *out);
    if (ds->cfg.format == HOIST_DATASET_CSV) return hx_ds_csv_scan(ds, false, out);
    struct scan_stream *p = hx_calloc(1, sizeof *p);
    if (!p) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = hx_ds_output_schema(ds, &p->schema);
    /* A streaming consumer may be slow: decode at most a few row groups per
     * worker ahead of it, so memory stays bounded by the budget plus that. */
    if (st == HOIST_OK) st = scan_start(ds, 2 * hx_pool_size(ds->pool) + 2 * DS_FETCHERS, true, &p->s);
    if (st != HOIST_OK) {
        scan_stream_free(p);
        return st;
    }
    HX_TRY(hx_arrow_stream_init(out, &scan_stream_ops, p));
    hx_error_clear();
    return HOIST_OK;
}

/* A table: every batch in memory before the stream is handed out. */
hx_status hoist_dataset_load(struct hoist_dataset *ds, struct ArrowArrayStream *out) {
    HX_FAIL_IF(!ds || !out, HOIST_ERR_INVALID_ARG, "hoist_dataset_load: NULL argument");
    memset(out, 0, sizeof *out);
    if (ds->cfg.format == HOIST_DATASET_CSV) return hx_ds_csv_scan(ds, true, out);
    struct ArrowSchema schema;
    HX_TRY(hx_ds_output_schema(ds, &schema));
    HX_TRY(hx_arrow_basic_stream_init(out, &schema));
    struct scan *s = NULL;
    /* The consumer is this loop, so read-ahead needs no cap beyond the budget. */
    hx_status st = scan_start(ds, SIZE_MAX / 2, false, &s);
    while (st == HOIST_OK) {
        struct ArrowArray b;
        st = scan_next(s, &b);
        if (st != HOIST_OK || !b.release) break;
        st = hx_arrow_basic_stream_append(out, &b);
    }
    if (st != HOIST_OK) {
        char msg[2048];
        hx_error_copy(msg, sizeof msg);
        scan_destroy(s);
        out->release(out);
        return hx_error(st, "%s", msg);
    }
    scan_destroy(s);
    hx_error_clear();
    return HOIST_OK;
}
