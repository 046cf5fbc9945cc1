/*
 * pq_column.h — the state shared by the two halves of the column chunk
 * decoder: pq_column.c walks a chunk's pages and decodes their levels,
 * pq_values.c turns each page's values (and the dictionary page) into their
 * Arrow representation. Private to these two files; the rest of
 * src/parquet uses hx_pq_decode_leaf* from parquet_internal.h.
 *
 * Thread safety: a context lives on one thread for one chunk.
 */
#ifndef HOIST_PQ_COLUMN_H
#define HOIST_PQ_COLUMN_H

#include "parquet_internal.h"

/* One column chunk being decoded: where it is in the file, its output, the
 * per-thread scratch lent by hx_pq_scratch, and the dictionary. */
struct hx_pq_colctx {
    const struct hoist_pq_file *f;
    const struct hx_pq_anode *a;
    const struct hx_pq_element *e;
    const struct hx_pq_chunk *c;
    struct hx_pq_leaf_data *out;
    int max_def, max_rep;
    int phys_width; /* bytes per PLAIN value of fixed physical types */
    unsigned flags;
    /* scratch */
    uint8_t *page;
    size_t page_cap;
    uint32_t *idx;
    size_t idx_cap;
    uint8_t *phys;
    size_t phys_cap;
    uint8_t *phys2; /* flat-mode scratch levels */
    size_t phys2_cap;
    uint8_t *dict_buf; /* holds dict_fixed when hx_pq_read_dictionary_direct fills it */
    size_t dict_buf_cap;
    /* bytes of levels before the values in the last v1 page decompressed:
     * where the next page's values are expected to start (pq_column.c) */
    size_t level_bytes;
    /* dictionary, converted to the output representation */
    int have_dict;
    int64_t dict_n;
    uint8_t *dict_fixed; /* fixed outputs: dict_n * out_width */
    int64_t *dict_off;   /* byte arrays: dict_n + 1 offsets into dict_bytes */
    uint8_t *dict_bytes;
    /* short dictionaries of short strings: each entry in a 16-byte slot */
    uint8_t *dict_slots;
    uint8_t *dict_len8;
    /* dictionary outputs of PLAIN pages: a hash set over the output dictionary */
    int32_t *ht;
    size_t ht_cap; /* power of two */
    /* Decoding only kept rows (hx_pq_decode_leaf_kept): keep has one byte
     * per row of the chunk, rows_seen counts the rows of the pages read so
     * far (out->n_levels counts the kept ones), vkeep is the current page's
     * mask over its non-null values and vkept how many it keeps. */
    const uint8_t *keep;
    int64_t rows_seen;
    const uint8_t *vkeep;
    size_t vkept;
    uint8_t *vkeep_buf; /* vkeep of a page with nulls */
    size_t vkeep_cap;
    uint8_t *sel_buf; /* a page's values before the unkept ones are dropped */
    size_t sel_cap;
};

/* pq_column.c: grows scratch whose contents need not survive growth (no copy). */
HOIST_NODISCARD hx_status hx_pq_scratch_grow(void **p, size_t *cap, size_t need);

/* pq_values.c: the dictionary page, uncompressed (p, len) or, for values
 * used as stored, decompressed straight into its final buffer. */
HOIST_NODISCARD hx_status hx_pq_read_dictionary(struct hx_pq_colctx *cx, const uint8_t *p, size_t len, int32_t n);
HOIST_NODISCARD hx_status hx_pq_read_dictionary_direct(struct hx_pq_colctx *cx, const uint8_t *src, size_t src_len,
                                                       size_t usize, int32_t n);
/* pq_values.c: n non-null values of a data page in encoding enc, appended
 * to cx->out. */
HOIST_NODISCARD hx_status hx_pq_decode_values(struct hx_pq_colctx *cx, int enc, const uint8_t *p, size_t len, size_t n);

#endif /* HOIST_PQ_COLUMN_H */
