/*
 * ds_arrow.c — Hive partition columns as Arrow arrays: a partition value
 * (text from the object key) parsed as its column's type and repeated for
 * every row of a batch. The array building itself is src/arrow's.
 */
#include "dataset_internal.h"

#include <string.h>

hx_status hx_ds_array_const(enum ds_ptype t, const char *value, int64_t length, struct ArrowArray *out) {
    if (t == DS_PT_STRING) {
        hx_status st = hx_arrow_array_const_string(value, length, out);
        return st == HOIST_OK ? st : hx_error_prefix(st, "partition value '%s'", value ? value : "(null)");
    }
    int64_t v = 0;
    if (value && !hx_ds_parse_pvalue(value, t, &v))
        return hx_error(HOIST_ERR_SCHEMA_MISMATCH, "partition value '%s' does not parse as its column type", value);
    /* int32 and date32 (days) are 4 bytes, int64 8 */
    if (t == DS_PT_INT64) return hx_arrow_array_const_fixed(value ? &v : NULL, 8, length, out);
    int32_t v32 = (int32_t)v;
    return hx_arrow_array_const_fixed(value ? &v32 : NULL, 4, length, out);
}
