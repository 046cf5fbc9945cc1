/* Fuzzes footer parsing (the Thrift compact decoder, schema conversion and
 * statistics): the input is treated as the tail of a file. */
#include "hoist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t footer_size = 0;
    /* Claim a larger file now and then so offsets past the tail are seen. */
    uint64_t file_size = size + (size && (data[0] & 1) ? 1000 : 0);
    if (hoist_pq_footer_size(data, size, file_size, "fuzz.parquet", &footer_size) == HOIST_OK &&
        footer_size > file_size)
        abort();
    struct hoist_pq_file *f = NULL;
    if (hoist_pq_file_new(data, size, file_size, "fuzz.parquet", &f) != HOIST_OK) {
        if (f) abort();
        return 0;
    }
    for (unsigned flags = 0; flags <= HOIST_PQ_DICT_AS_DICTIONARY; flags += HOIST_PQ_DICT_AS_DICTIONARY) {
        struct ArrowSchema schema;
        memset(&schema, 0, sizeof schema);
        if (hoist_pq_file_schema(f, flags, &schema) == HOIST_OK && schema.release) schema.release(&schema);
    }
    /* unsigned: the sums of hostile counts wrap instead of overflowing */
    volatile uint64_t sink = (uint64_t)hoist_pq_file_num_rows(f);
    int nrg = hoist_pq_file_num_row_groups(f), nf = hoist_pq_file_num_fields(f);
    long budget = 20000; /* bound the work a footer with huge counts can cause */
    for (int rg = -1; rg <= nrg && budget > 0; rg++) {
        sink += (uint64_t)hoist_pq_file_row_group_num_rows(f, rg);
        for (int field = -1; field <= nf && budget > 0; field++, budget--) {
            uint64_t off, len;
            if (hoist_pq_file_field_range(f, rg, field, &off, &len) == HOIST_OK) sink += off + len;
            struct hoist_pq_stats stats;
            if (hoist_pq_file_field_stats(f, rg, field, &stats) == HOIST_OK && stats.min_b && stats.max_b) {
                /* Byte stats (strings, decimals) point into the file object: touch every byte. */
                for (size_t i = 0; i < stats.min_b_len; i++) sink += stats.min_b[i];
                for (size_t i = 0; i < stats.max_b_len; i++) sink += stats.max_b[i];
            }
        }
    }
    sink += (uint64_t)(hoist_pq_file_field_index(f, "a") + hoist_pq_file_field_index(f, ""));
    (void)sink;
    hoist_pq_file_free(f);
    return 0;
}
