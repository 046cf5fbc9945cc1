/*
 * parquet.h — the Parquet codec as the layers above it (src/dataset, and
 * whatever joins bytes to the codec) see it: bytes in memory in, Arrow
 * arrays out, no I/O inside (DESIGN.md). Include this, never
 * parquet_internal.h, which is private to src/parquet.
 *
 * What the codec offers, by group (declared in hoist.h, where they are also
 * public API; their contracts are there):
 *   footers and files  hoist_pq_footer_size, hoist_pq_file_new/_free, the
 *                       hoist_pq_file_* accessors, field ranges and min/max
 *                       statistics (struct hoist_pq_stats)
 *   decoding           hoist_pq_decode_field (one column chunk),
 *                       hoist_pq_decode_field_rows (selected rows, page index)
 *   page index         hoist_pq_file_page_index_range, hoist_pq_page_index_*,
 *                       struct hoist_pq_page / _row_range / _byte_range / _bytes
 *   readers            hoist_pq_reader_open_memory, hoist_pq_reader_close,
 *                       hoist_pq_reader_file, hoist_pq_reader_stream
 *   flags              HOIST_PQ_NO_CRC, HOIST_PQ_DICT_AS_DICTIONARY
 * and, below, what only the library's own layers need.
 *
 * Thread safety: a parsed struct hoist_pq_file is immutable and may be
 * decoded from any number of threads; a reader is used by one thread at a
 * time, its streams may outlive it.
 */
#ifndef HOIST_PARQUET_H
#define HOIST_PARQUET_H

#include "util_internal.h"

/* Gives back bytes a reader owned (hx_pq_reader_open_owned). Runs once, on
 * whichever thread drops the last reference (the reader's close or the last
 * stream's release). */
typedef void (*hx_pq_release_fn)(void *ud);

/* hoist_pq_reader_open_memory for bytes the reader takes over: release(ud)
 * is called exactly once, when the reader and every stream made from it are
 * done with data — or before this returns, when it fails. This is how a
 * layer that maps a file hands the mapping to the codec without the codec
 * doing I/O (src/dataset/ds_pq_file.c). name is for messages (copied). */
HOIST_NODISCARD hx_status hx_pq_reader_open_owned(const void *data, size_t size, const char *name, unsigned flags,
                                                  hx_pq_release_fn release, void *ud, struct hoist_pq_reader **out);

#endif /* HOIST_PARQUET_H */
