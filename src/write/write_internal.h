/*
 * write_internal.h — the dataset writer (hoist_write_dataset): partitioning
 * a stream, one Parquet encoder per open file feeding a streamed upload, and
 * the commit protocol with its _SUCCESS manifest.
 *
 * Layering: uses the store's module headers (store.h, store_upload.h), the
 * Parquet encoder (public API) and Arrow plumbing (arrow.h).
 *
 * Threads: everything here runs on the thread calling hoist_write_dataset.
 */
#ifndef HOIST_WRITE_INTERNAL_H
#define HOIST_WRITE_INTERNAL_H

#include "arrow.h"
#include "dataset.h" /* the _SUCCESS manifest parser the reader uses */
#include "store.h"
#include "store_upload.h"
#include "util_internal.h"

/* The memory budget when none is set (at most a quarter of the RAM). */
#define HX_WRITE_DEFAULT_MEMORY ((uint64_t)256 << 20)

enum hx_write_existing { HX_EXISTING_ERROR = 0, HX_EXISTING_OVERWRITE = 1, HX_EXISTING_APPEND = 2 };

struct hoist_write_config {
    char **partition_by;
    size_t npartition_by;
    struct hoist_pq_write_options *pq; /* NULL: encoder defaults */
    int64_t max_rows_per_file, max_bytes_per_file;
    enum hx_write_existing existing;
    char *name_template;
    int keep_partition_columns;
    int64_t memory_limit; /* 0: default */
    int64_t max_open_files;
    char *lineage_json;
    int manifest;
    int defer;      /* HOIST_WRITE_COMMIT "defer": park every file, return a pending description */
    char *write_id; /* HOIST_WRITE_ID, or NULL: a new one per write */
    hoist_progress_fn progress;
    void *progress_ud;
};

/* ---- take (write_take.c) ----------------------------------------------------- */

/* out = the rows in[idx[0..n)] (logical indices, in->offset applied here);
 * out owns all its memory, in is borrowed. Types: null, bool, fixed width
 * (ints, floats, decimals, dates, times, timestamps, durations, intervals,
 * fixed-size binary), (large) binary/utf8, struct, (large/fixed) list, map,
 * dictionary; others HOIST_ERR_ARROW_TYPE. */
HOIST_NODISCARD hx_status hx_write_take(const struct ArrowArray *in, const struct ArrowSchema *schema,
                                        const int64_t *idx, int64_t n, struct ArrowArray *out);

/* ---- partitions (write_partition.c) ------------------------------------------ */

/* Hive directory names as pyarrow writes them (Arrow HivePartitioning:
 * values URI-escaped, RFC 3986 unreserved A-Z a-z 0-9 - . _ ~ kept, every
 * other byte %XX uppercase; pyarrow's reader decodes them back). Keys are
 * escaped the same way (a no-op for ordinary names). */
HOIST_NODISCARD hx_status hx_write_escape(struct hx_buf *out, const char *s, size_t n);
#define HX_HIVE_NULL "__HIVE_DEFAULT_PARTITION__"

/* Checks that a partition column's type can name directories. */
HOIST_NODISCARD hx_status hx_write_check_partition_type(const struct ArrowSchema *s);
/* Appends the text of row `row` of column (a, s) to out (unescaped):
 * integers in decimal, bool true/false, date32 YYYY-MM-DD, strings as is.
 * *is_null set for a null. */
HOIST_NODISCARD hx_status hx_write_value_text(const struct ArrowArray *a, const struct ArrowSchema *s, int64_t row,
                                              struct hx_buf *out, int *is_null);

/* 1 when rows r1 and r2 of column (a, s) certainly hold the same value
 * (both null, equal bytes, equal dictionary indices), 0 when they differ
 * or it cannot tell cheaply (views, dictionary values under two indices):
 * consecutive rows of a partition skip the key's text. Rows as for
 * hx_write_value_text. */
int hx_write_same_value(const struct ArrowArray *a, const struct ArrowSchema *s, int64_t r1, int64_t r2);

/* One partition: its relative directory ("k=v/k2=v2/", "" when none) and
 * its values (unescaped; NULL for null) for the manifest. */
struct hx_wpart {
    char *dir;
    char **values;
    size_t nvalues;
    uint32_t hash;
    int64_t files;         /* files started (the {n} of the next name) */
    struct hx_wfile *open; /* the open file, or NULL */
    uint64_t stamp;        /* batch that last saw it, and its group there */
    int64_t group;
    int idle_closed; /* its file was finished as idle (flush_idle) */
};

/* Partition lookup by directory name (open addressing). */
struct hx_wpart_table {
    struct hx_wpart **slots;
    size_t cap, count;
    struct hx_wpart **all; /* in creation order */
    size_t nall, capall;
};
void hx_wpart_table_reset(struct hx_wpart_table *t);
/* Finds the partition named dir, or NULL. */
struct hx_wpart *hx_wpart_find(const struct hx_wpart_table *t, const char *dir, size_t len, uint32_t hash);
/* Adds a new partition (takes dir and values). */
HOIST_NODISCARD hx_status hx_wpart_add(struct hx_wpart_table *t, struct hx_wpart *p);
uint32_t hx_write_hash(const char *s, size_t n);

/* ---- files (write_dataset.c) ------------------------------------------------- */

struct hx_wfile {
    void *job;
    struct hx_wpart *part;
    char *relpath; /* relative to the dataset root; the file name for a single file */
    struct hx_upload *up;
    struct hoist_pq_writer *w;
    int64_t rows;
    uint64_t bytes;
    int row_groups;
    struct hx_wfile *lru_prev, *lru_next; /* open files, most recent first */
};

/* One hoist_write_dataset call. */
struct hx_job {
    struct hoist_store *st;
    const struct hoist_write_config *cfg;
    char *root;                        /* dataset directory URL without the trailing '/', or the file's URL */
    int single;                        /* one file (root ends in .parquet) */
    struct ArrowSchema schema;         /* the stream's */
    struct ArrowSchema file_schema;    /* the files' (partition columns dropped) */
    int64_t *pcols;                    /* partition column indices in schema */
    int64_t *fcols;                    /* file column indices in schema */
    struct ArrowArray **view_children; /* scratch: a batch's file columns */
    int drop_columns;
    char write_id[48];
    struct hx_uploader *up;
    struct hx_pool *pool; /* the encoders' threads, shared by every file (hx_pq_writer_share_pool) */
    struct hx_wpart_table parts;
    uint64_t stamp;
    struct hx_wfile *lru_head, *lru_tail;
    int64_t nopen, max_open;
    struct hx_wfile **files; /* every file started, in order */
    size_t nfiles, capfiles;
    uint64_t memory_limit, encoded;
    /* The most bytes held at once (encoders' buffered pages plus the
     * uploader's buffers, parts in flight and held bodies), sampled after
     * every batch slice and every hand-over to an upload. */
    uint64_t peak_buffered;
    int runs_return; /* a partition came back after its file was finished as idle */
    struct hoist_progress prog;
    struct hoist_list existing; /* objects under root before the write */
    char *old_manifest;
    struct hx_upload *manifest_up;
    int published;        /* every file and the manifest committed */
    char sink_error[512]; /* an upload's message when it stopped an encoder */
};

/* write_dataset.c: the stream into files (all finished, none committed). */
HOIST_NODISCARD hx_status hx_job_write_stream(struct hx_job *j, struct ArrowArrayStream *stream);
/* write_commit.c: the existing-data check before anything is written, the
 * commit of every file and the manifest, the rollback of a failed write. */
HOIST_NODISCARD hx_status hx_job_check_existing(struct hx_job *j);
HOIST_NODISCARD hx_status hx_job_commit(struct hx_job *j, char **manifest_json);
void hx_job_rollback(struct hx_job *j);
/* Aborts pending uploads of this write's own keys it lost track of. */
void hx_job_sweep_orphans(struct hx_job *j);

/* ---- deferred commit (write_pending.c) ------------------------------------------ */

/* A write id given with HOIST_WRITE_ID: 1..47 of [A-Za-z0-9._-]. */
HOIST_NODISCARD hx_status hx_write_check_id(const char *id);
/* commit = defer: parks every finished file and makes the pending JSON
 * (*pending_json, hx_free) instead of committing. */
HOIST_NODISCARD hx_status hx_job_defer(struct hx_job *j, char **pending_json);

/* ---- manifest (write_manifest.c) --------------------------------------------- */

struct hx_manifest_in {
    const char *write_id;
    const struct hoist_write_config *cfg;
    const struct ArrowSchema *schema; /* the input stream's */
    struct hx_wfile *const *files;
    size_t nfiles;
    /* The previous manifest's JSON, or NULL: its files are listed again
     * when keep_old says so (append: all; overwrite: those outside the
     * partitions this write replaced). */
    const char *old_manifest;
    int (*keep_old)(void *ud, const char *path);
    void *keep_ud;
};
/* The manifest JSON (hx_free). */
HOIST_NODISCARD hx_status hx_write_manifest(const struct hx_manifest_in *in, char **out);
/* A JSON object? (for HOIST_WRITE_LINEAGE_JSON) */
HOIST_NODISCARD hx_status hx_write_check_json_object(const char *json);
/* Arrow format string to a readable type name ("int64", "string", ...). */
HOIST_NODISCARD hx_status hx_write_type_name(const struct ArrowSchema *s, struct hx_buf *out);

#endif /* HOIST_WRITE_INTERNAL_H */
