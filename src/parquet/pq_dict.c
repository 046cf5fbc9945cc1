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
    /* A constant width lets the compiler turn each memcpy into plain
     * loads and stores; common Parquet/Arrow widths get one each. */
#define GATHER(W)                                                                                  \
    for (size_t i = 0; i < n; i++) memcpy(out + i * (W), dict + (size_t)idx[i] * (W), (W));       \
    break
    switch (width) {
    case 1: GATHER(1);
    case 2: GATHER(2);
    case 4: GATHER(4);
    case 8: GATHER(8);
    case 12: GATHER(12);
    case 16: GATHER(16);
    case 32: GATHER(32);
    default:
        for (size_t i = 0; i < n; i++) memcpy(out + i * width, dict + (size_t)idx[i] * width, width);
        break;
    }
#undef GATHER
    return HOIST_OK;
}
