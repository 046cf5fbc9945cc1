/* Fuzzes the page index: the input is a whole Parquet file. Its footer's
 * ColumnChunk fields 4-7 locate the ColumnIndex/OffsetIndex structures,
 * which are parsed, listed, and used to decode row selections from only the
 * pages they name. Errors are fine; crashes, leaks, sanitizer reports and
 * outputs of the wrong length are bugs. */
#include "hoist.h"
#include "parquet.h" /* the page index is not public API */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_rows(const struct hoist_pq_file *f, const struct hoist_pq_page_index *idx, const uint8_t *data,
                        size_t size, int rg, int field, const struct hoist_pq_row_range *rows, size_t nrows) {
    /* parts: exactly the ranges the index names (copies, so reads outside
     * them are caught), or the whole file when there are too many */
    struct hoist_pq_byte_range br[16];
    size_t nr = 0;
    struct hoist_pq_bytes parts[16];
    struct hoist_pq_bytes whole = {0, data, size};
    const struct hoist_pq_bytes *pp = &whole;
    size_t np = 1;
    uint8_t *copies[16] = {0};
    if (idx && hoist_pq_page_index_field_ranges(idx, rg, field, rows, nrows, br, 16, &nr) == HOIST_OK && nr <= 16) {
        np = 0;
        for (size_t i = 0; i < nr; i++) {
            if (br[i].offset > size || br[i].length > size - br[i].offset) abort(); /* ranges lie in the file */
            copies[i] = malloc(br[i].length ? (size_t)br[i].length : 1);
            if (!copies[i]) break;
            memcpy(copies[i], data + br[i].offset, (size_t)br[i].length);
            parts[np++] = (struct hoist_pq_bytes){br[i].offset, copies[i], (size_t)br[i].length};
        }
        pp = parts;
    }
    struct ArrowArray out;
    if (hoist_pq_decode_field_rows(f, idx, rg, field, pp, np, rows, nrows, 0, &out) == HOIST_OK) {
        int64_t want = 0;
        for (size_t i = 0; i < nrows; i++) want += rows[i].count;
        if (out.length != want) abort();
        out.release(&out);
    }
    for (size_t i = 0; i < 16; i++) free(copies[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct hoist_pq_file *f = NULL;
    if (hoist_pq_file_new(data, size, size, "fuzz.parquet", &f) != HOIST_OK) return 0;
    uint64_t off = 0, len = 0;
    struct hoist_pq_page_index *idx = NULL;
    if (hoist_pq_file_page_index_range(f, &off, &len) == HOIST_OK) {
        if (off > size || len > size - off) abort(); /* validated against the file size */
        /* a copy of just the range, so reading outside it is caught */
        uint8_t *copy = malloc(len ? (size_t)len : 1);
        if (copy) {
            memcpy(copy, data + off, (size_t)len);
            if (hoist_pq_page_index_new(f, copy, off, (size_t)len, &idx) != HOIST_OK && idx) abort();
            free(copy); /* the index keeps what it needs */
        }
    }
    volatile uint64_t sink = 0;
    long budget = 200;
    int nrg = hoist_pq_file_num_row_groups(f), nf = hoist_pq_file_num_fields(f);
    for (int rg = 0; rg < nrg && budget > 0; rg++) {
        int64_t n = hoist_pq_file_row_group_num_rows(f, rg);
        for (int field = 0; field < nf && budget > 0; field++, budget--) {
            const struct hoist_pq_page *pages;
            size_t npages;
            if (idx && hoist_pq_page_index_pages(idx, rg, field, &pages, &npages) == HOIST_OK) {
                int64_t next = 0;
                for (size_t i = 0; i < npages; i++) {
                    if (pages[i].first_row != next || pages[i].num_rows < 0) abort(); /* pages tile the rows */
                    next += pages[i].num_rows;
                    if (pages[i].offset > size || pages[i].length > size - pages[i].offset) abort();
                    const struct hoist_pq_stats *s = &pages[i].stats;
                    if (s->kind == HOIST_PQ_STAT_BYTES) {
                        for (size_t k = 0; k < s->min_b_len; k++) sink += s->min_b[k];
                        for (size_t k = 0; k < s->max_b_len; k++) sink += s->max_b[k];
                    }
                }
                if (npages && next != n) abort();
            }
            if (n <= 0 || n > (int64_t)1 << 40) continue;
            struct hoist_pq_row_range rows[3] = {{n / 3, n / 5 + 1}, {n - n / 7 - 1, 1}, {0, 0}};
            size_t nrows = rows[0].first + rows[0].count <= rows[1].first ? 2 : 1;
            if (rows[0].first + rows[0].count > n) rows[0].count = n - rows[0].first;
            decode_rows(f, idx, data, size, rg, field, rows, nrows);
            if (size && (data[size / 2] & 1)) decode_rows(f, NULL, data, size, rg, field, rows, nrows);
        }
    }
    (void)sink;
    hoist_pq_page_index_free(idx);
    hoist_pq_file_free(f);
    return 0;
}
