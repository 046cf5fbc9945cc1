/*
 * dataset_internal.h — the dataset layer's pure pieces: filter
 * evaluation on arrays (the language and pruning are in dataset.h), range and page planning, shard assignment,
 * row-group selections and the Arrow helpers. The Hive layout rules are in dataset.h (layers above share them); the
 * dataset object the stage files (ds_open.c, ds_prune.c, ds_scan.c, ds_shards.c) share is in ds_open_internal.h.
 *
 * It joins the store (I/O) and the Parquet reader (decode) through their
 * public functions only. The pieces here are pure functions of their inputs
 * (no I/O) so the unit tests in tests/dataset/ can drive them directly.
 *
 * Thread safety: a parsed filter is immutable after hx_ds_filter_bind and is
 * evaluated concurrently by the decode workers.
 */
#ifndef HOIST_DATASET_INTERNAL_H
#define HOIST_DATASET_INTERNAL_H

#include "dataset.h"
#include "parquet.h"
#include "util_internal.h"

/* (values, the filter language, binding and pruning by statistics are in
 * dataset.h: the Iceberg planner prunes with them too) */

/* Evaluates the filter over `length` rows. cols[i] / formats[i] are the
 * bound columns' arrays (NULL if the column is not loaded: then all null).
 * dict_formats[i] is the dictionary's format for dictionary arrays (else
 * NULL). Writes keep[r] = 1 for rows where the filter is TRUE (SQL: NULL and
 * FALSE drop the row). */
HOIST_NODISCARD hx_status hx_ds_filter_eval(const struct ds_filter *f, const struct ArrowArray *const *cols,
                                            const char *const *formats, const char *const *dict_formats, int64_t length,
                                            uint8_t *keep);

/* ---- byte ranges ---------------------------------------------------------
 * Column chunks of one row group are fetched as few requests as is sensible:
 * neighbours closer than DS_MAX_GAP are merged (one request for a small hole
 * is cheaper than a second round trip: at ~100 MB/s per connection and
 * 10-30 ms first-byte latency on S3, a request costs about 1-3 MB of
 * transfer, so a hole of up to 512 KiB costs less than it saves, while a
 * bigger hole would start to waste bandwidth the projection saved); merged
 * ranges are then split into parts of at most DS_MAX_PART (8 MiB, the low end
 * of the DESIGN.md part size) so one large chunk or a whole row group is
 * fetched over several connections in parallel. */
#define DS_MAX_GAP (512u * 1024u)
#define DS_MAX_PART (8u * 1024u * 1024u)

struct ds_range {
    uint64_t offset;
    uint64_t length;
};
/* Sorts ranges and merges overlapping ones and those with gaps <= max_gap,
 * in place. Returns the new count. */
size_t hx_ds_coalesce(struct ds_range *r, size_t n, uint64_t max_gap);

/* ---- page skipping -------------------------------------------------------
 * With a page index, a kept row group is cut into segments at every page
 * start of every filter column, so each segment lies inside one page of each
 * of them and that page's statistics describe it; the segments the filter
 * may match are the rows to decode. */

/* Sorts and deduplicates segment starts in place and makes sure 0 is the
 * first one (starts must have room for n + 1 values; values outside
 * [0, rows) are dropped). Returns the count. */
size_t hx_ds_segment_starts(int64_t *starts, size_t n, int64_t rows);

/* Appends rows [first, first + count) to a sorted list of row ranges,
 * extending the last range when they touch. */
HOIST_NODISCARD hx_status hx_ds_row_ranges_add(struct hoist_pq_row_range **v, size_t *n, size_t *cap, int64_t first,
                                               int64_t count);

/* ---- shards --------------------------------------------------------------
 * Assigns n_units units (weights = bytes) to at most n_shards shards:
 * largest first to the least loaded shard (ties: lower index), which is
 * deterministic and within max(unit) of the best balance. shard_of[i]
 * receives the shard of unit i. Returns the number of shards used. */
size_t hx_ds_shard_assign(const uint64_t *bytes, size_t n_units, size_t n_shards, size_t *shard_of);

/* "#rg=0-3,7" row-group selections on file URLs. */
/* Splits url at a trailing "#rg=LIST": *base_len = length without it;
 * rgs/nrgs the sorted distinct row groups (NULL/0 when there is no
 * selection). Bad list: HOIST_ERR_BAD_URL. */
HOIST_NODISCARD hx_status hx_ds_parse_rg_selection(const char *url, size_t *base_len, int **rgs, size_t *nrgs);
/* Formats url + "#rg=..." with ranges collapsed ("0-3,7"). */
char *hx_ds_format_rg_selection(const char *url, const int *rgs, size_t n);

/* Deterministic 64-bit mix (splitmix64) and string hash (FNV-1a). */
uint64_t hx_ds_mix64(uint64_t x);
uint64_t hx_ds_hash_str(const char *s, size_t len);

/* ---- the _SUCCESS manifest: parsing is in dataset.h ------------------- */
/* Joins each listed path to dir and finds it in the listing (recursive,
 * under dir): *urls (owned, m->nfiles of them, manifest order) and *sizes
 * (the listing's size, else the manifest's bytes, else 0 = unknown). A file
 * the listing lacks: HOIST_ERR_NOT_FOUND naming the manifest and the file. */
HOIST_NODISCARD hx_status hx_ds_manifest_resolve(const struct ds_manifest *m, const char *manifest_url, const char *dir,
                                                 const struct hoist_list *list, char ***urls, uint64_t **sizes);

/* ---- Arrow helpers ----------------------------------------------------------
 * The Arrow work is src/arrow's (arrow.h). The hx_ds_ names below are the
 * ones dataset.c calls; they forward to it until dataset.c's stage files call
 * arrow.h directly. Only partition columns are the dataset layer's own
 * (ds_arrow.c). */
#include "arrow.h"

/* A partition column: `length` copies of a value parsed as type t (value
 * NULL: all null). */
HOIST_NODISCARD hx_status hx_ds_array_const(enum ds_ptype t, const char *value, int64_t length, struct ArrowArray *out);

HOIST_NODISCARD static inline hx_status hx_ds_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst) {
    return hx_arrow_schema_copy(src, dst);
}
HOIST_NODISCARD static inline hx_status hx_ds_schema_leaf(const char *name, const char *format, int64_t flags,
                                                          struct ArrowSchema *out) {
    return hx_arrow_schema_init(out, format, name, flags);
}
HOIST_NODISCARD static inline hx_status hx_ds_schema_struct(struct ArrowSchema *children, size_t n,
                                                            struct ArrowSchema *out) {
    return hx_arrow_schema_struct(children, n, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_nulls(const struct ArrowSchema *schema, int64_t length,
                                                          struct ArrowArray *out) {
    return hx_arrow_array_nulls(schema, length, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_cast(struct ArrowArray *in, const char *from, const char *to,
                                                         struct ArrowArray *out) {
    return hx_arrow_array_cast(in, from, to, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_filter(struct ArrowArray *in, const struct ArrowSchema *schema,
                                                           const uint8_t *keep, int64_t out_len,
                                                           struct ArrowArray *out) {
    return hx_arrow_array_filter(in, schema, keep, out_len, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_struct(struct ArrowArray *children, size_t n, int64_t length,
                                                           struct ArrowArray *out) {
    return hx_arrow_array_struct(children, n, length, out);
}
static inline uint64_t hx_ds_array_bytes(const struct ArrowArray *a, const struct ArrowSchema *schema) {
    return hx_arrow_array_bytes(a, schema);
}
static inline bool hx_ds_unify_format(const char *a, const char *b, const char **unified) {
    return hx_arrow_unify_format(a, b, unified);
}

#endif /* HOIST_DATASET_INTERNAL_H */
