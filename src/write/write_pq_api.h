/*
 * write_pq_api.h — TEMPORARY: the Parquet encoder's public declarations
 * (WRITER_API.md section 1) until the encoder branch (pqwriter) is merged
 * and include/hoist.h has them. Delete this file and its #include then.
 */
#ifndef HOIST_WRITE_PQ_API_H
#define HOIST_WRITE_PQ_API_H

#include "hoist.h"

HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_new(struct hoist_pq_write_options **out);
HOIST_API void hoist_pq_write_options_free(struct hoist_pq_write_options *opts);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_copy(const struct hoist_pq_write_options *src,
                                                                        struct hoist_pq_write_options **out);
enum hoist_pq_write_option {
    HOIST_PQW_COMPRESSION = 1,    /* str: "none","snappy","gzip","zstd","lz4_raw","brotli", optional ":LEVEL" ("zstd:3"); default "snappy" */
    HOIST_PQW_ROW_GROUP_ROWS,     /* int: max rows per row group; default 1,048,576 */
    HOIST_PQW_ROW_GROUP_BYTES,    /* int: max uncompressed bytes per row group; default 128 MiB */
    HOIST_PQW_PAGE_BYTES,         /* int: target data page size; default 1 MiB */
    HOIST_PQW_DICT_PAGE_BYTES,    /* int: dictionary size limit before falling back to PLAIN; default 1 MiB */
    HOIST_PQW_DICTIONARY,         /* int 0/1: use RLE_DICTIONARY where possible; default 1 */
    HOIST_PQW_DATA_PAGE_VERSION,  /* int 1 or 2; default 1 */
    HOIST_PQW_STATISTICS,         /* int 0/1; default 1 (chunk + page statistics) */
    HOIST_PQW_PAGE_INDEX,         /* int 0/1: ColumnIndex + OffsetIndex; default 1 */
    HOIST_PQW_PAGE_CRC,           /* int 0/1; default 0 */
    HOIST_PQW_CREATED_BY,         /* str; default "hoist version X" */
    HOIST_PQW_THREADS,            /* int: encoder threads, 0 = all cores; default 0 */
    HOIST_PQW_STORE_ARROW_SCHEMA  /* int 0/1: ARROW:schema key-value metadata; default 1 */
};
/* Out-of-range values and options of the wrong kind: HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_str(struct hoist_pq_write_options *o,
                                                                           enum hoist_pq_write_option opt,
                                                                           const char *v);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_int(struct hoist_pq_write_options *o,
                                                                           enum hoist_pq_write_option opt,
                                                                           int64_t v);
/* Per column (dotted path of a top-level or nested leaf, e.g. "fare" or
 * "loc.lat"; a list element is "tags.list.element" as in path_in_schema):
 * HOIST_PQW_COMPRESSION and HOIST_PQW_DICTIONARY. A path that names no leaf
 * fails hoist_pq_writer_new with HOIST_ERR_COLUMN_NOT_FOUND. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_column_str(struct hoist_pq_write_options *o,
                                                                                  const char *column,
                                                                                  enum hoist_pq_write_option opt,
                                                                                  const char *v);
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_column_int(struct hoist_pq_write_options *o,
                                                                                  const char *column,
                                                                                  enum hoist_pq_write_option opt,
                                                                                  int64_t v);
/* encoding: "plain", "delta_binary_packed", "delta_length_byte_array",
 * "delta_byte_array", "byte_stream_split" (used for the column's pages
 * instead of dictionary encoding). An encoding the column's physical type
 * cannot use fails hoist_pq_writer_new with HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_column_encoding(struct hoist_pq_write_options *o,
                                                                                       const char *column,
                                                                                       const char *encoding);
/* A split-block bloom filter per chunk of the column, sized for ndv distinct
 * values at false-positive rate fpp (0 < fpp < 1). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_set_column_bloom_filter(
    struct hoist_pq_write_options *o, const char *column, double fpp, int64_t ndv);
/* Adds a key-value pair to the file's metadata (after the schema's own). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_write_options_add_metadata(struct hoist_pq_write_options *o,
                                                                                const char *key, const char *value);

/* The sink: called with the file's bytes in order. Returns 0 to go on,
 * non-zero (a hoist_status) to stop the write with that status. Called on the
 * thread that calls write/flush/close. */
typedef int (*hoist_pq_sink_fn)(void *userdata, const void *data, size_t len);

struct hoist_pq_writer;
/* schema: an Arrow struct schema (format "+s"), borrowed; copied. opts may be
 * NULL (defaults); copied. The magic "PAR1" reaches the sink with the first
 * row group. Unsupported types: HOIST_ERR_UNSUPPORTED. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_new(const struct ArrowSchema *schema,
                                                                const struct hoist_pq_write_options *opts,
                                                                hoist_pq_sink_fn sink, void *userdata,
                                                                struct hoist_pq_writer **out);
/* batch: a struct array matching the schema; borrowed (the writer copies what
 * it needs before returning). Row groups are cut at the configured limits; a
 * full row group is encoded (columns in parallel) and emitted to the sink.
 * A field declared non-nullable that holds nulls: HOIST_ERR_INVALID_ARG.
 * After a failure the writer can only be freed. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_write(struct hoist_pq_writer *w,
                                                                  const struct ArrowArray *batch);
/* Ends the current row group early (e.g. before a file rollover). */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_flush(struct hoist_pq_writer *w);
/* Bytes buffered in the writer not yet given to the sink. */
HOIST_API uint64_t hoist_pq_writer_buffered_bytes(const struct hoist_pq_writer *w);
/* Bytes given to the sink so far. */
HOIST_API uint64_t hoist_pq_writer_bytes_written(const struct hoist_pq_writer *w);
HOIST_API int64_t hoist_pq_writer_num_rows(const struct hoist_pq_writer *w);
HOIST_API int hoist_pq_writer_num_row_groups(const struct hoist_pq_writer *w);
/* Flushes the last row group, writes bloom filters, page indexes, footer and
 * magic. The writer must then be freed. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_writer_close(struct hoist_pq_writer *w);
HOIST_API void hoist_pq_writer_free(struct hoist_pq_writer *w);

#endif /* HOIST_WRITE_PQ_API_H */
