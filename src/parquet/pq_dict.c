/*
 * pq_dict.c — dictionary gather for fixed-width values.
 *
 * Indices are validated in a first pass (a max reduction the compiler
 * vectorises) so the gather loop itself carries no bounds branch.
 */
#include "pq_kernels.h"

#include <string.h>

static uint32_t max_index(const uint32_t *idx, size_t n) {
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) m = idx[i] > m ? idx[i] : m;
    return m;
}

hx_status hx_dict_gather(const uint8_t *dict, size_t dict_n, size_t width, const uint32_t *idx, size_t n,
                         uint8_t *out) {
    if (n == 0) return HOIST_OK;
    uint32_t m = max_index(idx, n);
    if ((size_t)m >= dict_n) {
        size_t at = 0;
        while (idx[at] != m) at++;
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "dictionary index %u at value %zu is out of range (dictionary has %zu entries)",
                m, at, dict_n);
    }
    if (width == 4) {
        uint32_t *o = (uint32_t *)(void *)out;
        for (size_t i = 0; i < n; i++) {
            uint32_t v;
            memcpy(&v, dict + (size_t)idx[i] * 4, 4);
            memcpy(o + i, &v, 4);
        }
    } else if (width == 8) {
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, dict + (size_t)idx[i] * 8, 8);
            memcpy(out + i * 8, &v, 8);
        }
    } else {
        for (size_t i = 0; i < n; i++) memcpy(out + i * width, dict + (size_t)idx[i] * width, width);
    }
    return HOIST_OK;
}
