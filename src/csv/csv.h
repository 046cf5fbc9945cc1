/*
 * csv.h — the CSV codec as the layers above it (src/dataset) see it: bytes
 * in memory in, Arrow record batches out, no I/O inside (DESIGN.md).
 * Include this, never csv_internal.h, which is private to src/csv.
 *
 * What the codec offers (declared in hoist.h, where the contracts are):
 *   options      hoist_csv_options_new/_free/_set_int/_set_strings/
 *                _set_column_type
 *   one shot     hoist_csv_read_memory (parallel over the whole input)
 *   streaming    hoist_csv_reader_new/_feed/_finish/_schema/_next/
 *                _get_stats/_free (feed blocks, take batches)
 * and, below, what only the library's own layers need.
 *
 * Thread safety: as stated in hoist.h (an options object or a reader is
 * used by one thread at a time; streams and arrays may be released on any
 * thread).
 */
#ifndef HOIST_CSV_H
#define HOIST_CSV_H

#include "util_internal.h"

/* hoist_csv_read_memory with a name for messages ("x.csv: line 3, column 2
 * ('fare'): ..."); name may be NULL. */
HOIST_NODISCARD hx_status hx_csv_read_named(const void *data, size_t len, const char *name,
                                            const struct hoist_csv_options *opts, struct ArrowArrayStream *out,
                                            struct hoist_csv_stats *stats);

/* hx_csv_read_named over bytes the caller can page in again (a file
 * mapping): each chunk's text is handed to done(ud, off, len) once the
 * chunk is parsed, so the caller may drop those pages (the reader may still
 * read them again: to re-parse a chunk, or to quote a value in an error).
 * done runs on the reader's workers, for several chunks at once. */
typedef void (*hx_csv_done_fn)(void *ud, size_t off, size_t len);
HOIST_NODISCARD hx_status hx_csv_read_mapped(const void *data, size_t len, const char *name,
                                             const struct hoist_csv_options *opts, hx_csv_done_fn done, void *ud,
                                             struct ArrowArrayStream *out, struct hoist_csv_stats *stats);

/* Copies the first `size` bytes of *src (zeros when src is NULL) to dst
 * (NULL-safe): the stats getters' ABI rule. */
void hx_csv_stats_out(const struct hoist_csv_stats *src, struct hoist_csv_stats *dst, size_t size);

/* A deep copy of options (NULL: the defaults); free with hoist_csv_options_free. */
HOIST_NODISCARD hx_status hx_csv_options_clone(const struct hoist_csv_options *src, struct hoist_csv_options **out);

/* The dialect a started reader settled on (sniffed or given): the
 * delimiter byte and whether the first row was a header. False before the
 * reader has started. */
bool hx_csv_reader_dialect(const struct hoist_csv_reader *rd, int *delimiter, bool *header);

/* Infers the schema (and the dialect, see hx_csv_reader_dialect) from the
 * first bytes of an input, data[0, len): final says whether that is all of
 * it; otherwise the last, cut row is left out, as the streaming reader does.
 * Types are inferred over every row of data (their parse is thrown away).
 * HOIST_ERR_CSV_PARSE when non-final data holds no complete row. */
HOIST_NODISCARD hx_status hx_csv_infer_head(const void *data, size_t len, bool final, const char *name,
                                            const struct hoist_csv_options *opts, struct ArrowSchema *schema,
                                            int *delimiter, bool *header);

/* A row filter the reader applies while it converts each chunk, so the
 * other columns of rows it drops are never converted: the filter columns
 * (projected indexes cols[0..n)) are converted first, then fn(ud, arrays,
 * rows, keep) gets the chunk's column arrays (indexed like the projection;
 * only the filter columns are filled) and writes keep[r] = 1 for each of
 * the `rows` rows to keep. fn runs on the reader's workers, for different
 * chunks at once; a failure it returns (with a message set) fails the read.
 * The filter applies only when every projected column has a set type and
 * skip_bad_rows is off (no widening or dropped row can redo a chunk); else
 * it is ignored and the caller filters the batches. cols is copied. */
typedef hx_status (*hx_csv_row_filter_fn)(void *ud, const struct ArrowArray *arrays, int64_t rows, uint8_t *keep);
HOIST_NODISCARD hx_status hx_csv_reader_set_row_filter(struct hoist_csv_reader *rd, const size_t *cols, size_t n,
                                                       hx_csv_row_filter_fn fn, void *ud);

/* hoist_csv_reader_new with a name for messages (copied; may be NULL). */
HOIST_NODISCARD hx_status hx_csv_reader_new_named(const struct hoist_csv_options *opts, const char *name,
                                                  struct hoist_csv_reader **out);

/* Turns a finished reader into a stream over its batches; the stream owns
 * the reader (freed by the stream's release, or here on failure). */
HOIST_NODISCARD hx_status hx_csv_reader_into_stream(struct hoist_csv_reader *rd, struct ArrowArrayStream *out);

#endif /* HOIST_CSV_H */
