/* Fuzzes whole-file reading: open a Parquet file from memory, stream every
 * record batch of every column and release everything. Any crash, leak,
 * hang or sanitizer report is a bug; errors are expected and fine. */
#include "hoist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct hoist_pq_reader *r = NULL;
    if (hoist_pq_reader_open_memory(data, size, "fuzz.parquet", 0, &r) != HOIST_OK) {
        if (r) abort(); /* *out must be NULL on failure */
        return 0;
    }
    struct ArrowArrayStream stream;
    if (hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &stream) == HOIST_OK) {
        struct ArrowSchema schema;
        if (stream.get_schema(&stream, &schema) == 0 && schema.release) schema.release(&schema);
        for (int batches = 0; batches < 100000; batches++) {
            struct ArrowArray batch;
            memset(&batch, 0, sizeof batch);
            if (stream.get_next(&stream, &batch) != 0) {
                if (!stream.get_last_error(&stream)) abort(); /* errors must explain themselves */
                break;
            }
            if (!batch.release) break; /* end of stream */
            batch.release(&batch);
        }
        stream.release(&stream);
    }
    hoist_pq_reader_close(r);
    return 0;
}
