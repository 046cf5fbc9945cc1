/* hoist_write_dataset: a stream split into Hive partitions, one Parquet
 * encoder per open file feeding a streamed upload, files rolled over at the
 * size limits, at most max_open_files open (least recently used closed
 * first), buffered bytes held under the memory budget. The commit protocol
 * (write_commit.c) publishes the files when the stream is done. */
#include "write_internal.h"

#include "parquet.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static hx_status progress(struct hx_job *j);

/* ---- open files ----------------------------------------------------------- */

static void lru_unlink(struct hx_job *j, struct hx_wfile *f) {
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        j->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        j->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_front(struct hx_job *j, struct hx_wfile *f) {
    if (j->lru_head == f) return;
    if (f->lru_prev || f->lru_next || j->lru_tail == f) lru_unlink(j, f);
    f->lru_next = j->lru_head;
    if (j->lru_head) j->lru_head->lru_prev = f;
    j->lru_head = f;
    if (j->lru_tail == NULL) j->lru_tail = f;
}

/* Bytes held now: every open file's encoder plus the uploader. */
static uint64_t held_bytes(const struct hx_job *j) {
    uint64_t total = hx_uploader_buffered(j->up);
    for (const struct hx_wfile *f = j->lru_head; f; f = f->lru_next) total += hoist_pq_writer_buffered_bytes(f->w);
    return total;
}

static void note_held(struct hx_job *j) {
    uint64_t now = held_bytes(j);
    if (now > j->peak_buffered) j->peak_buffered = now;
}

static int sink(void *ud, const void *data, size_t len) {
    struct hx_wfile *f = ud;
    struct hx_job *j = f->job;
    hx_status s = hx_upload_write(f->up, data, len);
    if (s == HOIST_OK) {
        j->encoded += len;
        note_held(j);
    } else
        hx_error_copy(j->sink_error, sizeof j->sink_error); /* the encoder reports only the status */
    return (int)s;
}

static hx_status push_file(struct hx_job *j, struct hx_wfile *f) {
    if (j->nfiles == j->capfiles) {
        size_t cap = j->capfiles ? j->capfiles * 2 : 64;
        struct hx_wfile **n = hx_realloc(j->files, cap * sizeof *n);
        HX_FAIL_IF(n == NULL, HOIST_ERR_NOMEM, "out of memory");
        j->files = n;
        j->capfiles = cap;
    }
    j->files[j->nfiles++] = f;
    return HOIST_OK;
}

/* The file name from the template: {id} the write id, {n} the partition's
 * file number. */
static char *file_name(const struct hx_job *j, int64_t n) {
    const char *t = j->cfg->name_template ? j->cfg->name_template : "part-{id}-{n}.parquet";
    struct hx_buf b;
    hx_buf_init(&b);
    hx_status s = HOIST_OK;
    while (*t && s == HOIST_OK) {
        if (strncmp(t, "{id}", 4) == 0) {
            s = hx_buf_append_str(&b, j->write_id);
            t += 4;
        } else if (strncmp(t, "{n}", 3) == 0) {
            s = hx_buf_printf(&b, "%lld", (long long)n);
            t += 3;
        } else {
            s = hx_buf_append(&b, t++, 1);
        }
    }
    if (s != HOIST_OK) {
        hx_buf_reset(&b);
        return NULL;
    }
    return hx_buf_detach(&b);
}

/* Ends a file: the encoder writes its footer, the upload gets its last
 * part; the file waits, invisible, for the commit. */
static hx_status close_file(struct hx_job *j, struct hx_wfile *f) {
    lru_unlink(j, f);
    j->nopen--;
    if (f->part) f->part->open = NULL;
    hx_status s = hoist_pq_writer_close(f->w);
    if (s == HOIST_OK) {
        f->bytes = hoist_pq_writer_bytes_written(f->w);
        f->rows = hoist_pq_writer_num_rows(f->w);
        f->row_groups = hoist_pq_writer_num_row_groups(f->w);
    } else {
        s = j->sink_error[0] ? hx_error(s, "%s", j->sink_error) : hx_error_prefix(s, "%s", hx_upload_url(f->up));
    }
    hoist_pq_writer_free(f->w);
    f->w = NULL;
    if (s == HOIST_OK) s = hx_upload_finish(f->up);
    return s;
}

static hx_status open_file(struct hx_job *j, struct hx_wpart *p, struct hx_wfile **out) {
    *out = NULL;
    if (j->nopen >= j->max_open) HX_TRY(close_file(j, j->lru_tail));
    struct hx_wfile *f = hx_calloc(1, sizeof *f);
    HX_FAIL_IF(f == NULL, HOIST_ERR_NOMEM, "out of memory");
    f->job = j;
    f->part = p;
    hx_status s = push_file(j, f);
    if (s != HOIST_OK) {
        hx_free(f);
        return s;
    }
    char *url = NULL;
    if (j->single) {
        const char *slash = strrchr(j->root, '/');
        f->relpath = hx_strdup(slash ? slash + 1 : j->root);
        url = hx_strdup(j->root);
    } else {
        char *name = file_name(j, p->files);
        f->relpath = name ? hx_asprintf("%s%s", p->dir, name) : NULL;
        url = f->relpath ? hx_asprintf("%s/%s", j->root, f->relpath) : NULL;
        hx_free(name);
    }
    p->files++;
    if (f->relpath == NULL || url == NULL) s = hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (s == HOIST_OK) s = hx_upload_open(j->up, url, &f->up);
    if (s == HOIST_OK) {
        s = hoist_pq_writer_new(&j->file_schema, j->cfg->pq, sink, f, &f->w);
        if (s == HOIST_OK) s = hx_pq_writer_share_pool(f->w, &j->pool);
        if (s != HOIST_OK) s = hx_error_prefix(s, "%s", url);
    }
    hx_free(url);
    HX_TRY(s); /* f stays in j->files: the job's cleanup frees it */
    p->open = f;
    j->nopen++;
    lru_front(j, f);
    *out = f;
    return HOIST_OK;
}

/* Keeps encoder buffers plus upload buffers under the budget: the file
 * holding most gives its row group to the upload (flush), or, when what it
 * holds is already upload buffer, is finished early. */
static hx_status enforce_budget(struct hx_job *j) {
    for (int rounds = 0; rounds < 100000; rounds++) {
        uint64_t total = hx_uploader_buffered(j->up);
        struct hx_wfile *big = NULL;
        uint64_t bigb = 0;
        for (struct hx_wfile *f = j->lru_head; f; f = f->lru_next) {
            uint64_t b = hoist_pq_writer_buffered_bytes(f->w);
            total += b;
            if (b + hx_upload_unsent(f->up) >= bigb) {
                bigb = b + hx_upload_unsent(f->up);
                big = f;
            }
        }
        /* Parts in flight and small files held for the commit drain by
         * themselves (the uploader waits for them); only what open files
         * hold is worth a flush or an early finish. */
        if (total <= j->memory_limit || big == NULL || bigb < ((uint64_t)64 << 10)) return HOIST_OK;
        if (hoist_pq_writer_buffered_bytes(big->w) > hx_upload_unsent(big->up))
            HX_TRY(hoist_pq_writer_flush(big->w));
        else
            HX_TRY(close_file(j, big));
    }
    return HOIST_OK;
}

/* Files the batch about to be written does not write to give their row
 * group to the upload and their encoder's memory back (finish: the file is
 * ended instead, see write_partitioned): input grouped by partition (a
 * file per month, sorted) leaves each file idle for good after its run of
 * rows, and its bytes should upload while the next partition encodes, not
 * wait in memory for the budget or the close. A file idle for one batch
 * ends a row group early only when the input alternates partitions from
 * batch to batch; its row groups are then as long as its runs. */
static hx_status flush_idle(struct hx_job *j, int finish) {
    struct hx_wfile *next;
    for (struct hx_wfile *f = j->lru_head; f; f = next) {
        next = f->lru_next;
        if (!f->part || f->part->stamp == j->stamp) continue;
        uint64_t held = hoist_pq_writer_buffered_bytes(f->w);
        if (finish) {
            f->part->idle_closed = 1;
            HX_TRY(close_file(j, f));
        } else {
            if (held > 0) HX_TRY(hoist_pq_writer_flush(f->w));
            hx_pq_writer_trim(f->w);
        }
    }
    return HOIST_OK;
}

/* ---- writing rows --------------------------------------------------------- */

/* The encoded bytes one open file may hold before its row group goes to
 * the upload: the encoders' half of the budget shared by the files open
 * now, and at least one part, so a flush always fills one. Without it a
 * partition's row group (up to row_group_rows, often the whole file) would
 * reach its upload only when complete: every upload would start at close
 * and memory would hold whole files. */
static uint64_t file_flush_bytes(const struct hx_job *j) {
    uint64_t share = j->memory_limit / 2 / (uint64_t)(j->nopen > 0 ? j->nopen : 1);
    uint64_t part = hx_uploader_part_size(j->up);
    return share > part ? share : part;
}

/* A slice of a batch handed to the encoder, which only reads it. */
static void borrowed_release(struct ArrowArray *a) { a->release = NULL; }

/* rows idx[0..n) of the batch (all rows when idx is NULL) go to partition p,
 * rolling files over at max_rows_per_file / max_bytes_per_file. */
static hx_status write_rows(struct hx_job *j, struct hx_wpart *p, const struct ArrowArray *batch, const int64_t *idx,
                            int64_t n) {
    int64_t *all = NULL;
    hx_status s = HOIST_OK;
    int64_t max_rows = j->single ? 0 : j->cfg->max_rows_per_file;
    while (n > 0 && s == HOIST_OK) {
        struct hx_wfile *f = p->open;
        if (f == NULL) s = open_file(j, p, &f);
        if (s != HOIST_OK) break;
        lru_front(j, f);
        hx_pq_writer_set_flush_bytes(f->w, file_flush_bytes(j));
        int64_t k = n;
        if (max_rows > 0 && k > max_rows - hoist_pq_writer_num_rows(f->w))
            k = max_rows - hoist_pq_writer_num_rows(f->w);
        if (idx == NULL && k == n && !j->drop_columns) {
            /* The batch is the file's shape already: no copy. */
            s = hoist_pq_writer_write(f->w, batch);
        } else {
            if (idx == NULL) {
                all = hx_malloc((size_t)n * sizeof *all);
                if (all == NULL) {
                    s = hx_error(HOIST_ERR_NOMEM, "out of memory");
                    break;
                }
                for (int64_t i = 0; i < n; i++) all[i] = i;
                idx = all;
            }
            struct ArrowArray view = *batch, part;
            view.n_children = j->file_schema.n_children;
            view.children = j->view_children;
            view.release = NULL;
            int64_t run = 1;
            while (run < k && idx[run] == idx[0] + run) run++;
            if (run == k) {
                /* Consecutive rows (a partition's run in grouped input, or
                 * columns dropped from whole batches): a slice of the batch
                 * (a struct's offset applies to its children), no copy. */
                view.offset = batch->offset + idx[0];
                view.length = k;
                view.null_count = batch->null_count == 0 ? 0 : -1;
                view.release = borrowed_release; /* the batch's owner releases it */
                s = hoist_pq_writer_write(f->w, &view);
            } else {
                s = hx_write_take(&view, &j->file_schema, idx, k, &part);
                if (s == HOIST_OK) {
                    s = hoist_pq_writer_write(f->w, &part);
                    part.release(&part);
                }
            }
            idx += k;
        }
        if (s != HOIST_OK) {
            s = j->sink_error[0] ? hx_error(s, "%s", j->sink_error) : hx_error_prefix(s, "%s", hx_upload_url(f->up));
            break;
        }
        n -= k;
        note_held(j);
        uint64_t size = hoist_pq_writer_bytes_written(f->w) + hoist_pq_writer_buffered_bytes(f->w);
        if ((max_rows > 0 && hoist_pq_writer_num_rows(f->w) >= max_rows) ||
            (!j->single && j->cfg->max_bytes_per_file > 0 && size >= (uint64_t)j->cfg->max_bytes_per_file))
            s = close_file(j, f);
    }
    hx_free(all);
    return s;
}

/* A partition seen for the first time (at row r of batch). */
static hx_status new_partition(struct hx_job *j, const struct ArrowArray *batch, int64_t r, const char *dir,
                               uint32_t hash, struct hx_wpart **out) {
    size_t np = j->cfg->npartition_by;
    struct hx_wpart *p = hx_calloc(1, sizeof *p);
    HX_FAIL_IF(p == NULL, HOIST_ERR_NOMEM, "out of memory");
    p->dir = hx_strdup(dir);
    p->values = hx_calloc(np, sizeof *p->values);
    p->nvalues = np;
    p->hash = hash;
    hx_status s = p->dir && p->values ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    struct hx_buf text;
    hx_buf_init(&text);
    for (size_t c = 0; c < np && s == HOIST_OK; c++) {
        int is_null = 0;
        text.len = 0;
        s = hx_write_value_text(batch->children[j->pcols[c]], j->schema.children[j->pcols[c]], r + batch->offset, &text,
                                &is_null);
        if (s == HOIST_OK && !is_null) {
            p->values[c] = hx_strndup(text.data ? text.data : "", text.len);
            if (p->values[c] == NULL) s = hx_error(HOIST_ERR_NOMEM, "out of memory");
        }
    }
    hx_buf_reset(&text);
    if (s != HOIST_OK) {
        hx_free(p->dir);
        for (size_t c = 0; c < np && p->values; c++) hx_free(p->values[c]);
        hx_free(p->values);
        hx_free(p);
        return s;
    }
    HX_TRY(hx_wpart_add(&j->parts, p)); /* frees p on failure */
    *out = p;
    return HOIST_OK;
}

/* The partition of every row: its Hive directory ("k=v/..."), found or
 * added; rows are then grouped by partition (counting sort) and each group
 * is taken out in one pass. */
static hx_status write_partitioned(struct hx_job *j, const struct ArrowArray *batch) {
    int64_t n = batch->length;
    size_t np = j->cfg->npartition_by;
    int64_t *group = hx_malloc((size_t)(n ? n : 1) * sizeof *group);
    HX_FAIL_IF(group == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hx_wpart **groups = NULL;
    int64_t ngroups = 0, capgroups = 0;
    struct hx_buf key, text;
    hx_buf_init(&key);
    hx_buf_init(&text);
    hx_status s = HOIST_OK;
    j->stamp++;
    for (int64_t r = 0; r < n && s == HOIST_OK; r++) {
        /* Runs of one partition (input sorted or grouped by it) cost one
         * comparison per row, not a key's text, escape and lookup. */
        if (r > 0) {
            size_t c = 0;
            while (c < np && hx_write_same_value(batch->children[j->pcols[c]], j->schema.children[j->pcols[c]],
                                                 r - 1 + batch->offset, r + batch->offset))
                c++;
            if (c == np) {
                group[r] = group[r - 1];
                continue;
            }
        }
        key.len = 0;
        for (size_t c = 0; c < np && s == HOIST_OK; c++) {
            const struct ArrowSchema *cs = j->schema.children[j->pcols[c]];
            const struct ArrowArray *ca = batch->children[j->pcols[c]];
            int is_null = 0;
            text.len = 0;
            s = hx_write_value_text(ca, cs, r + batch->offset, &text, &is_null);
            if (s == HOIST_OK) s = hx_write_escape(&key, cs->name, strlen(cs->name));
            if (s == HOIST_OK) s = hx_buf_append(&key, "=", 1);
            if (s == HOIST_OK)
                s = is_null ? hx_buf_append_str(&key, HX_HIVE_NULL)
                            : hx_write_escape(&key, text.data ? text.data : "", text.len);
            if (s == HOIST_OK) s = hx_buf_append(&key, "/", 1);
        }
        if (s != HOIST_OK) break;
        uint32_t h = hx_write_hash(key.data, key.len);
        struct hx_wpart *p = hx_wpart_find(&j->parts, key.data, key.len, h);
        if (p == NULL) s = new_partition(j, batch, r, key.data, h, &p);
        if (s != HOIST_OK) break;
        if (p->stamp != j->stamp) {
            if (ngroups == capgroups) {
                int64_t cap = capgroups ? capgroups * 2 : 16;
                struct hx_wpart **g = hx_realloc(groups, (size_t)cap * sizeof *g);
                if (g == NULL) {
                    s = hx_error(HOIST_ERR_NOMEM, "out of memory");
                    break;
                }
                groups = g;
                capgroups = cap;
            }
            p->stamp = j->stamp;
            p->group = ngroups;
            groups[ngroups++] = p;
        }
        group[r] = p->group;
    }
    hx_buf_reset(&key);
    hx_buf_reset(&text);
    int64_t *start = s == HOIST_OK ? hx_calloc((size_t)ngroups + 1, sizeof *start) : NULL;
    int64_t *order = s == HOIST_OK ? hx_malloc((size_t)(n ? n : 1) * sizeof *order) : NULL;
    if (s == HOIST_OK && (start == NULL || order == NULL)) s = hx_error(HOIST_ERR_NOMEM, "out of memory");
    /* Files this batch does not write to hand their row groups on before
     * its rows are encoded, so a finished month's pages upload while the
     * next month's encoder fills, instead of both being held at once. A
     * batch of one partition (input sorted by the partition columns) also
     * finishes them: their last part (under 5 MiB, it cannot go before the
     * footer) would otherwise wait in memory until the stream ends. A
     * partition that comes back after that gets one more file, and from
     * then on idle files are only flushed. */
    for (int64_t g = 0; g < ngroups; g++)
        if (groups[g]->idle_closed && groups[g]->open == NULL) j->runs_return = 1;
    if (s == HOIST_OK) s = flush_idle(j, ngroups == 1 && !j->runs_return);
    if (s == HOIST_OK) {
        for (int64_t r = 0; r < n; r++) start[group[r] + 1]++;
        for (int64_t g = 0; g < ngroups; g++) start[g + 1] += start[g];
        for (int64_t r = 0; r < n; r++) order[start[group[r]]++] = r;
        /* start[g] is now the end of group g */
        int64_t b = 0;
        for (int64_t g = 0; g < ngroups && s == HOIST_OK; g++) {
            s = write_rows(j, groups[g], batch, order + b, start[g] - b);
            /* A batch with thousands of partitions takes a while: the budget
             * and a cancel are looked at along the way, not only after it. */
            if (s == HOIST_OK && (g & 63) == 63) s = enforce_budget(j);
            if (s == HOIST_OK && (g & 63) == 63) s = progress(j);
            b = start[g];
        }
    }
    hx_free(start);
    hx_free(order);
    hx_free(groups);
    hx_free(group);
    return s;
}

/* ---- the stream ------------------------------------------------------------- */

static hx_status progress(struct hx_job *j) {
    j->prog.struct_size = sizeof j->prog;
    j->prog.bytes_done = j->encoded;
    j->prog.bytes_uploaded = j->up ? hx_uploader_uploaded(j->up) : 0;
    j->prog.bytes_buffered_peak = j->peak_buffered;
    if (j->cfg->progress && j->cfg->progress(&j->prog, j->cfg->progress_ud))
        HX_FAIL(HOIST_ERR_CANCELLED, "%s: write cancelled", j->root);
    return HOIST_OK;
}

hx_status hx_job_write_stream(struct hx_job *j, struct ArrowArrayStream *stream) {
    hx_status s = HOIST_OK;
    struct hx_wpart *only = NULL;
    if (j->cfg->npartition_by == 0 || j->single) {
        only = hx_calloc(1, sizeof *only);
        HX_FAIL_IF(only == NULL, HOIST_ERR_NOMEM, "out of memory");
        only->dir = hx_strdup("");
        if (only->dir == NULL) {
            hx_free(only);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
        }
        HX_TRY(hx_wpart_add(&j->parts, only));
    }
    for (;;) {
        HX_TRY(progress(j));
        struct ArrowArray batch;
        memset(&batch, 0, sizeof batch);
        int rc = stream->get_next(stream, &batch);
        if (rc != 0) {
            const char *e = stream->get_last_error ? stream->get_last_error(stream) : NULL;
            HX_FAIL(HOIST_ERR_ARROW_INVALID, "%s: reading the input stream: %s", j->root, e ? e : "error");
        }
        if (batch.release == NULL) break;
        if (batch.n_children != j->schema.n_children)
            s = hx_error(HOIST_ERR_ARROW_INVALID, "%s: a batch has %lld columns, the schema %lld", j->root,
                         (long long)batch.n_children, (long long)j->schema.n_children);
        for (int64_t c = 0; s == HOIST_OK && c < j->file_schema.n_children; c++)
            j->view_children[c] = batch.children[j->fcols[c]];
        j->prog.rows_done += batch.length;
        if (s == HOIST_OK && batch.length > 0)
            s = only ? write_rows(j, only, &batch, NULL, batch.length) : write_partitioned(j, &batch);
        batch.release(&batch);
        if (s == HOIST_OK) s = enforce_budget(j);
        HX_TRY(s);
    }
    /* A file even for an empty input when it is a single file (a valid
     * Parquet file with the schema and no rows). */
    if (j->single && only->files == 0) {
        struct hx_wfile *f;
        HX_TRY(open_file(j, only, &f));
    }
    while (j->lru_head) HX_TRY(close_file(j, j->lru_head));
    HX_DEBUG("%s: write: peak buffered %llu bytes (uploader's own peak %llu) of a %llu-byte budget", j->root,
             (unsigned long long)j->peak_buffered, (unsigned long long)hx_uploader_buffered_peak(j->up),
             (unsigned long long)j->memory_limit);
    return progress(j);
}

/* ---- setup --------------------------------------------------------------------- */

static hx_status new_write_id(char *out, size_t cap) {
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 2654435761u;
    }
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    char t[24];
    strftime(t, sizeof t, "%Y%m%dT%H%M%SZ", &tmv);
    snprintf(out, cap, "%s-%08x", t, rnd);
    return HOIST_OK;
}

static int64_t find_column(const struct ArrowSchema *s, const char *name) {
    for (int64_t i = 0; i < s->n_children; i++)
        if (s->children[i]->name && strcmp(s->children[i]->name, name) == 0) return i;
    return -1;
}

/* The partition columns and the files' schema. */
static hx_status plan_columns(struct hx_job *j) {
    const struct hoist_write_config *cfg = j->cfg;
    const struct ArrowSchema *s = &j->schema;
    HX_FAIL_IF(s->format == NULL || strcmp(s->format, "+s") != 0, HOIST_ERR_ARROW_INVALID,
               "%s: the input stream's schema is not a struct (format '%s')", j->root, s->format ? s->format : "");
    HX_FAIL_IF(j->single && cfg->npartition_by > 0, HOIST_ERR_INVALID_ARG,
               "%s: a single .parquet file cannot be partitioned; write to a directory", j->root);
    size_t np = j->single ? 0 : cfg->npartition_by;
    j->pcols = hx_calloc(np + 1, sizeof *j->pcols);
    j->fcols = hx_calloc((size_t)s->n_children + 1, sizeof *j->fcols);
    j->view_children = hx_calloc((size_t)s->n_children + 1, sizeof *j->view_children);
    HX_FAIL_IF(!j->pcols || !j->fcols || !j->view_children, HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < np; i++) {
        int64_t c = find_column(s, cfg->partition_by[i]);
        HX_FAIL_IF(c < 0, HOIST_ERR_COLUMN_NOT_FOUND, "%s: partition column '%s' is not in the input", j->root,
                   cfg->partition_by[i]);
        HX_TRY(hx_write_check_partition_type(s->children[c]));
        j->pcols[i] = c;
    }
    int64_t nf = 0;
    for (int64_t c = 0; c < s->n_children; c++) {
        int is_part = 0;
        for (size_t i = 0; i < np; i++) is_part |= j->pcols[i] == c;
        if (!is_part || cfg->keep_partition_columns) j->fcols[nf++] = c;
    }
    HX_FAIL_IF(nf == 0, HOIST_ERR_INVALID_ARG, "%s: no columns left to write besides the partition columns", j->root);
    j->drop_columns = nf != s->n_children;
    HX_TRY(hx_arrow_schema_init(&j->file_schema, "+s", "", 0));
    HX_TRY(hx_arrow_schema_alloc_children(&j->file_schema, nf));
    for (int64_t c = 0; c < nf; c++) HX_TRY(hx_arrow_schema_copy(s->children[j->fcols[c]], j->file_schema.children[c]));
    return HOIST_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static hx_status job_init(struct hx_job *j, struct hoist_store *st, const char *url, struct ArrowArrayStream *stream,
                          const struct hoist_write_config *cfg) {
    j->st = st;
    j->cfg = cfg;
    j->single = ends_with(url, ".parquet");
    j->root = hx_strdup(url);
    HX_FAIL_IF(j->root == NULL, HOIST_ERR_NOMEM, "out of memory");
    size_t n = strlen(j->root);
    while (n > 0 && j->root[n - 1] == '/') j->root[--n] = '\0';
    HX_FAIL_IF(n == 0, HOIST_ERR_BAD_URL, "'%s': no destination", url);
    if (cfg->write_id)
        snprintf(j->write_id, sizeof j->write_id, "%s", cfg->write_id);
    else
        HX_TRY(new_write_id(j->write_id, sizeof j->write_id));
    HX_FAIL_IF(cfg->defer && j->single, HOIST_ERR_INVALID_ARG,
               "%s: commit=defer writes a dataset directory, not one .parquet file", url);
    if (stream->get_schema(stream, &j->schema) != 0) {
        const char *e = stream->get_last_error ? stream->get_last_error(stream) : NULL;
        memset(&j->schema, 0, sizeof j->schema);
        HX_FAIL(HOIST_ERR_ARROW_INVALID, "%s: reading the input's schema: %s", url, e ? e : "error");
    }
    HX_TRY(plan_columns(j));
    /* The default budget is what keeps a write's memory flat: row groups
     * and parts stream through it, so more only lets more wait in queues. */
    uint64_t ram = hx_total_memory();
    uint64_t dflt = ram ? ram / 4 : (uint64_t)HX_WRITE_DEFAULT_MEMORY;
    if (dflt > (uint64_t)HX_WRITE_DEFAULT_MEMORY) dflt = (uint64_t)HX_WRITE_DEFAULT_MEMORY;
    j->memory_limit = cfg->memory_limit > 0 ? (uint64_t)cfg->memory_limit : dflt;
    j->max_open = cfg->max_open_files > 0 ? cfg->max_open_files : 64;
    /* Half the budget for uploads (parts in flight, small files held until
     * the commit), half for encoders; parts of 5-16 MiB so every open file
     * can fill one. */
    uint64_t part = j->memory_limit / 2 / (uint64_t)(j->max_open + 2);
    if (part > ((uint64_t)16 << 20)) part = (uint64_t)16 << 20;
    struct hx_uploader_config ucfg = {
        .part_size = part, .memory_limit = j->memory_limit / 2, .initiate_at_open = cfg->defer};
    return hx_uploader_new(st, j->root, &ucfg, &j->up);
}

static void job_cleanup(struct hx_job *j) {
    hx_upload_free(j->manifest_up);
    for (size_t i = 0; i < j->nfiles; i++) {
        struct hx_wfile *f = j->files[i];
        hoist_pq_writer_free(f->w);
        hx_upload_free(f->up);
        hx_free(f->relpath);
        hx_free(f);
    }
    hx_free(j->files);
    hx_pool_free(j->pool);
    hx_uploader_free(j->up);
    hx_wpart_table_reset(&j->parts);
    if (j->schema.release) j->schema.release(&j->schema);
    if (j->file_schema.release) j->file_schema.release(&j->file_schema);
    hx_free(j->pcols);
    hx_free(j->fcols);
    hx_free(j->view_children);
    hoist_store_list_reset(&j->existing);
    hx_free(j->old_manifest);
    hx_free(j->root);
}

hx_status hoist_write_dataset(struct hoist_store *store, const char *url, struct ArrowArrayStream *stream,
                              const struct hoist_write_config *cfg, char **manifest_json) {
    if (manifest_json) *manifest_json = NULL;
    HX_FAIL_IF(store == NULL || url == NULL || stream == NULL || stream->release == NULL, HOIST_ERR_INVALID_ARG,
               "write_dataset: NULL store, url or stream");
    struct hoist_write_config *dflt = NULL;
    if (cfg == NULL) {
        hx_status s = hoist_write_config_new(&dflt);
        if (s != HOIST_OK) {
            stream->release(stream);
            return s;
        }
        cfg = dflt;
    }
    struct hx_job j;
    memset(&j, 0, sizeof j);
    hx_status s = job_init(&j, store, url, stream, cfg);
    /* defer: the driver checks what exists, once, before any task */
    if (s == HOIST_OK && !cfg->defer) s = hx_job_check_existing(&j);
    if (s == HOIST_OK) s = hx_job_write_stream(&j, stream);
    stream->release(stream);
    if (s == HOIST_OK) s = cfg->defer ? hx_job_defer(&j, manifest_json) : hx_job_commit(&j, manifest_json);
    if (s != HOIST_OK) {
        /* The rollback's own calls must not replace the cause. */
        char why[1024];
        hx_error_copy(why, sizeof why);
        hx_job_rollback(&j);
        hx_job_sweep_orphans(&j);
        s = hx_error(s, "%s", why);
    } else {
        /* defer: the parked uploads are this write's keys too; the driver's
         * commit or abort sweeps the orphans */
        if (!cfg->defer) hx_job_sweep_orphans(&j);
        hx_error_clear();
    }
    job_cleanup(&j);
    hoist_write_config_free(dflt);
    return s;
}
