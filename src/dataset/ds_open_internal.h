/*
 * ds_open_internal.h — the opened dataset as the stage files share it:
 * ds_config.c fills a hoist_dataset_config, ds_open.c builds a
 * hoist_dataset from it (listing, footers, schema, partitions, columns),
 * ds_prune.c plans and prunes its units, ds_scan.c fetches and decodes
 * them, ds_shards.c splits them.
 *
 * Only what more than one stage touches lives here; each stage keeps its
 * own state (the scan's pipeline, the listing's candidates) private.
 *
 * Threads: a hoist_dataset is immutable after hoist_dataset_open except
 * refs (atomic) and stats/skipped (under mu), so concurrent scans share it.
 */
#ifndef HOIST_DS_OPEN_INTERNAL_H
#define HOIST_DS_OPEN_INTERNAL_H

#include "dataset_internal.h"

#include <pthread.h>
#include <stdatomic.h>

/* Footers and page indexes are read in chunks of this many files so that
 * the tails of a dataset with many thousands of files never sit in memory
 * all at once (each chunk's tails are freed once parsed; a parsed footer
 * keeps only its metadata). */
#define DS_FOOTER_CHUNK 512

/* ---- config (ds_config.c) ------------------------------------------------ */

/* A partition column whose type the user fixed (set_partition_type). */
struct ptype_override {
    char *column;
    enum ds_ptype type;
};

/* The setters' values (hoist.h documents each). hoist_dataset_open takes a
 * deep copy, so the caller may free or reuse its config afterwards. */
struct hoist_dataset_config {
    char **columns;
    size_t ncolumns;
    bool rows_only;
    char *filter;
    double sample;
    uint64_t seed;
    int64_t limit;
    uint64_t memory_limit;
    unsigned threads;
    int skip_bad;
    int hive;
    struct ptype_override *ptypes;
    size_t nptypes;
    unsigned decode_flags;
    const struct hoist_store_config *store_cfg;
    hoist_progress_fn progress;
    void *progress_ud;
    int format;                    /* enum hoist_dataset_format */
    struct hoist_csv_options *csv; /* owned; NULL = defaults (format CSV only) */
};

/* String vectors of the config (NULL-safe; n = 0 gives *out = NULL). */
void hx_ds_strv_free(char **v, size_t n);
HOIST_NODISCARD hx_status hx_ds_strv_copy(const char *const *src, size_t n, char ***out);

/* ---- the dataset (ds_open.c) ----------------------------------------------- */

/* One input file whose footer parsed. */
struct ds_file {
    char *url; /* without a #rg selection */
    uint64_t size;
    struct hoist_pq_file *pq;
    struct ArrowSchema schema; /* the file's Arrow schema */
    char **pvalues;            /* per partition column; NULL = null */
    int *rg_sel;               /* from "#rg=", NULL = all */
    size_t nrg_sel;
    int *field;    /* per dataset column: field index in this file, -1 = absent */
    uint64_t hash; /* of the URL, for sampling */
    int64_t *rg_first_row;
    /* Page index: its bytes when the footer read already covered them
     * (they sit just before the footer), then the parsed index. */
    uint8_t *pi_bytes;
    uint64_t pi_offset;
    size_t pi_len;
    struct hoist_pq_page_index *pi;
};

/* One dataset column: a file column (type unified over the files) or a
 * Hive partition key. */
struct ds_col {
    char *name;
    struct ArrowSchema schema; /* unified type (a copy of the first file's, format widened) */
    char *format;              /* unified format (owned) */
    size_t first_file;
    bool partition;
    size_t pidx;
    enum ds_ptype ptype;
};

/* One kept row group: what is fetched, decoded and sharded as a whole. */
struct ds_unit {
    size_t file;
    int rg;
    uint64_t bytes;
    int64_t rows;
    /* A row group the page index cut down: only these rows are decoded
     * (rows = their count), from these coalesced byte ranges. NULL = all. */
    struct hoist_pq_row_range *sel;
    size_t nsel;
    struct ds_range *ranges;
    size_t nranges;
};

struct hoist_dataset {
    atomic_int refs;
    struct hoist_store *store;
    bool own_store;
    struct hoist_dataset_config cfg; /* copy: columns/filter/ptypes owned */

    struct ds_file *files;
    size_t nfiles;
    char **pkeys; /* partition column names */
    size_t npkeys;
    struct ds_col *cols;
    size_t ncols;
    size_t *need; /* dataset column indexes: outputs first, then filter-only */
    size_t nneed, nout;
    const char **need_formats;
    const char **need_dict_formats;
    struct ds_filter *filter; /* bound to need[] */
    struct ds_unit *units;
    size_t nunits;
    struct hx_pool *pool;
    bool no_page_index;     /* HOIST_NO_PAGE_INDEX set: never skip pages */
    size_t files_dropped;   /* skipped (skip_bad) after their footer was read */
    uint64_t pi_kept_bytes; /* page index bytes kept from footer reads */

    int csv_delimiter; /* CSV: the dialect settled on the first file */
    bool csv_header;

    pthread_mutex_t mu; /* stats, skipped */
    struct hoist_dataset_stats stats;
    struct hx_buf skipped;
};

/* True for a status from the Parquet range (hoist.h pins it to 200..299):
 * the file itself is bad, so skip_bad may leave it out; any other failure
 * (network, memory, cancel) fails the load. */
static inline bool hx_ds_status_is_bad_file(hx_status st) { return st >= 200 && st < 300; }

/* Drops a reference; the last one frees the dataset. A scan holds one so
 * the dataset outlives hoist_dataset_close while its stream is alive. */
void hx_ds_unref(struct hoist_dataset *ds);
/* Counts a skipped file and records why (hoist_dataset_skipped). Any thread. */
void hx_ds_note_skipped(struct hoist_dataset *ds, const char *url, const char *why);
/* The output columns' struct schema (caller releases it). */
HOIST_NODISCARD hx_status hx_ds_output_schema(struct hoist_dataset *ds, struct ArrowSchema *out);

/* ---- planning and pruning (ds_prune.c) ------------------------------------- */

/* Statistics of a partition value as a pruning input (rows rows). */
void hx_ds_part_stats(const struct ds_col *c, const char *value, int64_t rows, struct ds_colstats *s);
/* Whether the filter may match file f knowing only its partition values (no
 * filter: true). cs: scratch of ds->nneed entries. */
bool hx_ds_file_may_match(const struct hoist_dataset *ds, const struct ds_file *f, struct ds_colstats *cs);
/* Before any footer is read: keep[i] says whether the filter may match
 * candidate urls[i] by its Hive partition values (all true without a filter
 * on Hive keys). *keys (free with hx_ds_strv_free) lists the keys that
 * decided, for the caller to check they are not file columns. */
HOIST_NODISCARD hx_status hx_ds_partition_prefilter(const struct hoist_dataset *ds, const char *const *urls, size_t n,
                                                    bool *keep, char ***keys, size_t *nkeys);
/* Lists the row groups to load as ds->units, leaving out those the filter
 * rules out by partition values and row-group statistics. */
HOIST_NODISCARD hx_status hx_ds_plan_units(struct hoist_dataset *ds);
/* With a filter, reads page indexes and narrows each unit to the rows whose
 * pages may match (dropping units where none may). Frees the page index
 * bytes kept from the footer reads either way. */
HOIST_NODISCARD hx_status hx_ds_page_prune(struct hoist_dataset *ds);

/* Nested columns are fetched whole and cut row by row even when the page
 * index could narrow them: the format wants their pages to start at record
 * boundaries, but some writers split a record across pages, and a page-wise
 * decode of such a chunk would fail a load that works without a filter.
 * need_i indexes ds->need. */
static inline bool hx_ds_column_is_nested(const struct hoist_dataset *ds, size_t need_i) {
    return ds->cols[ds->need[need_i]].schema.n_children > 0;
}

#endif /* HOIST_DS_OPEN_INTERNAL_H */
