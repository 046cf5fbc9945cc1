/*
 * pq_dict.c — dictionary gather for fixed-width values.
 *
 * hx_dict_gather validates indices in a first pass (a max reduction the
 * compiler vectorises) so the gather loop itself carries no bounds branch;
 * hx_dict_decode_fixed (pq_rle.c) validates per run instead and calls the
 * unchecked gather below on small blocks that are still in L1.
 */
#include "pq_kernels.h"

#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#define HX_VECTORIZE __attribute__((optimize("O3")))
#else
#define HX_VECTORIZE
#endif

HX_VECTORIZE uint32_t hx_max_u32(const uint32_t *v, size_t n) {
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

void hx_dict_gather_unchecked(const uint8_t *dict, size_t width, const uint32_t *idx, size_t n, uint8_t *out) {
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
}

hx_status hx_dict_gather(const uint8_t *dict, size_t dict_n, size_t width, const uint32_t *idx, size_t n,
                         uint8_t *out) {
    if (n == 0) return HOIST_OK;
    uint32_t m = hx_max_u32(idx, n);
    if ((size_t)m >= dict_n) {
        size_t at = 0;
        while (idx[at] != m) at++;
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "dictionary index %u at value %zu is out of range (dictionary has %zu entries)",
                m, at, dict_n);
    }
    hx_dict_gather_unchecked(dict, width, idx, n, out);
    return HOIST_OK;
}

void hx_fill_fixed(uint8_t *out, const uint8_t *value, size_t width, size_t n) {
    if (n == 0) return;
    switch (width) {
    case 1: memset(out, value[0], n); return;
    case 4: {
        uint32_t v;
        memcpy(&v, value, 4);
        for (size_t i = 0; i < n; i++) memcpy(out + 4 * i, &v, 4);
        return;
    }
    case 8: {
        uint64_t v;
        memcpy(&v, value, 8);
        for (size_t i = 0; i < n; i++) memcpy(out + 8 * i, &v, 8);
        return;
    }
    default:
        /* doubling copies: log2(n) memcpy calls whatever the width */
        memcpy(out, value, width);
        for (size_t done = 1; done < n;) {
            size_t c = done < n - done ? done : n - done;
            memcpy(out + done * width, out, c * width);
            done += c;
        }
        return;
    }
}
