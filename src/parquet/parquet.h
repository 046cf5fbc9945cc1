/*
 * parquet.h — the Parquet codec as the layers above it (src/dataset, and
 * whatever joins bytes to the codec) see it: bytes in memory in, Arrow
 * arrays out, no I/O inside (DESIGN.md). Include this, never
 * parquet_internal.h, which is private to src/parquet.
 *
 * What the codec offers, by group (the public ones are declared in hoist.h,
 * with their contracts):
 *   footers and files  hoist_pq_footer_size, hoist_pq_file_new/_free, the
 *                       hoist_pq_file_* accessors, field ranges and min/max
 *                       statistics (struct hoist_pq_stats)
 *   decoding           hoist_pq_decode_field (one column chunk)
 *   page index         below, not public API: hoist_pq_file_page_index_range,
 *                       hoist_pq_page_index_*, hoist_pq_decode_field_rows
 *                       (selected rows), struct hoist_pq_page / _row_range /
 *                       _byte_range / _bytes. They keep their hoist_ names
 *                       and stay exported only so the Python tests can drive
 *                       them through ctypes (tests/parquet/test_page_index.py);
 *                       what is not in hoist.h is not API.
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

/* ---- Page index (ColumnIndex + OffsetIndex, parquet-format PageIndex.md) --
 * Writers that emit it (parquet-mr/Spark by default, pyarrow with
 * write_page_index=True) store it between the last row group and the footer.
 * With it a loader can skip pages whose statistics cannot match a filter and
 * fetch only the pages holding the rows it needs. */
struct hoist_pq_page_index;

/* The byte range of the file holding the ColumnIndex and OffsetIndex
 * structures of every column chunk (one span: writers put them together).
 * *length = 0 when the file has no page index. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_file_page_index_range(const struct hoist_pq_file *file,
                                                                           uint64_t *offset, uint64_t *length);
/* Parses the page index from the file's bytes [bytes_offset, bytes_offset +
 * bytes_len), which must cover hoist_pq_file_page_index_range(). The index
 * keeps a pointer to file (free the index first) and is immutable: share it
 * between threads. Malformed structures: HOIST_ERR_PARQUET_CORRUPT naming the
 * file, row group and column. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_page_index_new(const struct hoist_pq_file *file, const void *bytes,
                                                                    uint64_t bytes_offset, size_t bytes_len,
                                                                    struct hoist_pq_page_index **out);
HOIST_API void hoist_pq_page_index_free(struct hoist_pq_page_index *index);

/* One data page of a column chunk (dictionary pages are not listed). */
struct hoist_pq_page {
    uint64_t offset;   /* of the page header in the file */
    uint64_t length;   /* header + compressed body */
    int64_t first_row; /* first row of the page, counted from the row group's first row */
    int64_t num_rows;
    int null_page;               /* ColumnIndex says every value is null */
    struct hoist_pq_stats stats; /* from the ColumnIndex, in the same domain and under the same
                                    trust rules as hoist_pq_file_field_stats; kind NONE when
                                    there is no ColumnIndex or it cannot be trusted */
};
/* The data pages of a flat (non-nested) top-level field in a row group, in
 * file order. *pages points into the index (valid while it lives).
 * *npages = 0 when that column chunk has no OffsetIndex; a nested field:
 * HOIST_ERR_INVALID_ARG. */
HOIST_API HOIST_NODISCARD enum hoist_status hoist_pq_page_index_pages(const struct hoist_pq_page_index *index,
                                                                      int row_group, int field,
                                                                      const struct hoist_pq_page **pages,
                                                                      size_t *npages);

/* A run of rows of a row group: [first, first + count). Lists of them are
 * sorted and disjoint. */
struct hoist_pq_row_range {
    int64_t first;
    int64_t count;
};
/* A byte range of a file. */
struct hoist_pq_byte_range {
    uint64_t offset;
    uint64_t length;
};
/* The byte ranges of a top-level field's column chunks (every leaf, nested
 * fields too) needed to decode the rows in `rows`: each leaf's dictionary
 * page and the data pages overlapping the rows, sorted, adjacent ones
 * merged. Writes at most `cap` ranges to out and the number needed to
 * *nout (call with cap = 0 to size the array). A leaf without an OffsetIndex
 * contributes its whole column chunk. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_pq_page_index_field_ranges(const struct hoist_pq_page_index *index, int row_group, int field,
                                 const struct hoist_pq_row_range *rows, size_t nrows, struct hoist_pq_byte_range *out,
                                 size_t cap, size_t *nout);

/* Bytes of a file the caller holds: [offset, offset + length) at data. */
struct hoist_pq_bytes {
    uint64_t offset;
    const void *data;
    size_t length;
};
/* Decodes only the rows in `rows` of top-level field `field` of row_group:
 * the output has sum(rows[i].count) rows, in order. parts must cover the
 * ranges hoist_pq_page_index_field_ranges() gives for the same rows (more
 * is fine; pages outside are never read). index may be NULL, or a chunk may
 * lack an OffsetIndex: then every page is walked and the rows are cut out of
 * it. Safe to call concurrently. */
HOIST_API HOIST_NODISCARD enum hoist_status
hoist_pq_decode_field_rows(const struct hoist_pq_file *file, const struct hoist_pq_page_index *index, int row_group,
                           int field, const struct hoist_pq_bytes *parts, size_t nparts,
                           const struct hoist_pq_row_range *rows, size_t nrows, unsigned flags, struct ArrowArray *out);

/* hoist_pq_decode_field for only the rows of the row group whose keep byte
 * is 1 (keep has one 0/1 byte per row, kept of them 1; a filter's result):
 * the output equals decoding every row and dropping the others. A flat
 * column of fixed-width values (numbers, dates, timestamps, decimals from
 * integers) is decoded for its kept rows alone, so a selective filter does
 * not pay for writing out, and then copying, the rows it drops; any other
 * field is decoded whole and then filtered. Safe to call concurrently. */
HOIST_NODISCARD hx_status hx_pq_decode_field_kept(const struct hoist_pq_file *file, int row_group, int field,
                                                  const void *bytes, uint64_t bytes_offset, size_t bytes_len,
                                                  unsigned flags, const uint8_t *keep, int64_t kept,
                                                  struct ArrowArray *out);

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

/* A cap on the encoded bytes a writer holds for its current row group
 * (hoist_pq_writer_buffered_bytes): once a slice of rows takes it there,
 * the row group is finished and handed to the sink, on top of the
 * row_group_rows / row_group_bytes limits. A writer of many files at once
 * (the dataset writer) sets it from its memory budget so that each open
 * file holds a bounded amount and its bytes reach the upload as they are
 * produced, not at close. Checked after every slice of at most 64 Ki rows,
 * so a row group may pass it by one slice's pages. 0 = no cap (default).
 * May be changed between writes; the bytes written depend on it. */
void hx_pq_writer_set_flush_bytes(struct hoist_pq_writer *w, uint64_t bytes);

/* Makes the writer run its tasks on *pool, shared with other writers
 * (the many files a dataset write has open): the first call makes the pool
 * with this writer's thread count (HOIST_PQW_THREADS, 0 = all cores) and
 * stores it in *pool, later calls reuse it. The caller frees the pool with
 * hx_pool_free after every writer using it. Besides the threads, sharing
 * keeps the encoders' buffers in the same few malloc arenas, where one
 * file's freed row group serves the next; threads of their own per file
 * spread them over many arenas that hold the memory. A one-thread writer
 * keeps encoding inline (*pool untouched). The bytes do not change. */
HOIST_NODISCARD hx_status hx_pq_writer_share_pool(struct hoist_pq_writer *w, struct hx_pool **pool);

/* Gives back the memory a writer keeps between row groups for the next
 * one (each leaf's chunk buffer, shredding buffers, dictionary tables,
 * encoding scratch, the worker threads): for a file that may get no more
 * rows for a while, e.g. one partition among many. Only between row
 * groups (after a flush); otherwise does nothing. The next rows make them
 * again; the bytes written do not change. */
void hx_pq_writer_trim(struct hoist_pq_writer *w);

#endif /* HOIST_PARQUET_H */
