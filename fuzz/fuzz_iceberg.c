/* Fuzzes the Iceberg planner's decoders (src/iceberg): the input is a table
 * metadata file (JSON) or, when it starts with the Avro magic, a manifest
 * list and a manifest: every record is decoded and turned into the filter's
 * column statistics (partition values, bounds, counts, partition summaries)
 * against a small schema with an identity partition. Failures must be
 * statuses, never crashes. */
#include "iceberg_internal.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* avro-c 1.11 leaks what it allocated when its own decoding of corrupt bytes
 * fails (avro_value_read of maps and bytes): not hoist's to free. The plans of
 * intact tables are leak-checked by tests/iceberg/test_ice_plan.c. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libavro.so\n"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ice_meta *m = NULL;
    if (hx_ice_meta_parse(data, size, "fuzz.metadata.json", -1, &m) == HOIST_OK) hx_ice_meta_free(m);
    if (size < 4 || memcmp(data, "Obj\x01", 4) != 0) return 0;
    struct ice_field fields[3] = {{.id = 1, .type = ICE_T_LONG, .format = "l"},
                                  {.id = 2, .type = ICE_T_INT, .format = "i"},
                                  {.id = 3, .type = ICE_T_STRING, .format = "u"}};
    struct ice_part_field pf = {.source_id = 2, .identity = true};
    struct ice_spec spec = {.id = 0, .fields = &pf, .nfields = 1};
    struct ice_meta meta = {.fields = fields, .nfields = 3, .specs = &spec, .nspecs = 1};
    struct ds_colstats cs[3];
    uint8_t scratch[3][16];
    for (int pass = 0; pass < 2; pass++) {
        struct ice_avro *r = NULL;
        if (hx_ice_avro_open(data, size, "fuzz.avro", &r) != HOIST_OK) return 0;
        for (;;) {
            bool eof = false;
            hx_status st;
            if (pass == 0) {
                struct ice_manifest_ref ref;
                st = hx_ice_avro_next_manifest(r, &ref, &eof);
                if (st == HOIST_OK && !eof) hx_ice_manifest_stats(&meta, &spec, &ref, cs);
            } else {
                struct ice_entry e;
                st = hx_ice_avro_next_entry(r, &e, &eof);
                if (st == HOIST_OK && !eof) {
                    char *key = NULL;
                    hx_ice_file_stats(&meta, &spec, &e, cs, scratch);
                    if (hx_ice_entry_partition_key(&e, &key) == HOIST_OK) hx_free(key);
                }
            }
            if (st != HOIST_OK || eof) break;
        }
        hx_ice_avro_close(r);
    }
    return 0;
}
