/*
 * pq_enc_delta.c — DELTA_BINARY_PACKED and BYTE_STREAM_SPLIT encoders
 * (Encodings.md). Delta blocks are 128 values in 4 miniblocks of 32 (the
 * shape arrow-rs and Arrow C++ use for INT32); deltas wrap in the physical
 * type's width, as the spec requires, so a miniblock never needs more bits
 * than the type has.
 */
#include "pq_write_internal.h"

#include <string.h>

enum { BLOCK = 128, MINIBLOCKS = 4, MINI = BLOCK / MINIBLOCKS };

static hx_status put_varint(struct hx_buf *out, uint64_t v) {
    uint8_t b[10];
    return hx_buf_append(out, b, hx_pqw_varint(b, v));
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static hx_status pack64(const uint64_t *v, size_t n, int w, struct hx_buf *out) {
    HX_TRY(hx_buf_reserve(out, n * (size_t)w / 8 + 1));
    uint8_t *p = (uint8_t *)out->data + out->len;
    unsigned __int128 acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (unsigned __int128)v[i] << bits;
        bits += w;
        while (bits >= 8) {
            *p++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    out->len = (size_t)(p - (uint8_t *)out->data);
    return HOIST_OK;
}

/* v holds the values sign-extended to 64 bits; bits32 makes deltas wrap at 32. */
static hx_status delta_encode(const int64_t *v, size_t n, int bits32, struct hx_buf *out) {
    HX_TRY(put_varint(out, BLOCK));
    HX_TRY(put_varint(out, MINIBLOCKS));
    HX_TRY(put_varint(out, n));
    HX_TRY(put_varint(out, zigzag(n ? v[0] : 0)));
    uint64_t mask = bits32 ? 0xffffffffu : ~(uint64_t)0;
    int64_t delta[BLOCK];
    uint64_t adj[BLOCK];
    for (size_t i = 1; i < n;) {
        size_t cnt = n - i < BLOCK ? n - i : BLOCK;
        int64_t min = 0;
        for (size_t k = 0; k < cnt; k++) {
            uint64_t d = ((uint64_t)v[i + k] - (uint64_t)v[i + k - 1]) & mask;
            delta[k] = bits32 ? (int64_t)(int32_t)(uint32_t)d : (int64_t)d;
            if (k == 0 || delta[k] < min) min = delta[k];
        }
        HX_TRY(put_varint(out, zigzag(min)));
        uint8_t widths[MINIBLOCKS] = {0};
        for (size_t k = 0; k < BLOCK; k++) adj[k] = k < cnt ? ((uint64_t)delta[k] - (uint64_t)min) & mask : 0;
        for (int m = 0; m < MINIBLOCKS; m++) {
            uint64_t mx = 0;
            for (int k = 0; k < MINI; k++) mx |= adj[m * MINI + k];
            widths[m] = (size_t)(m * MINI) < cnt ? (uint8_t)hx_bit_width(mx) : 0;
        }
        HX_TRY(hx_buf_append(out, widths, MINIBLOCKS));
        for (int m = 0; m < MINIBLOCKS && (size_t)(m * MINI) < cnt; m++)
            HX_TRY(pack64(adj + m * MINI, MINI, widths[m], out));
        i += cnt;
    }
    return HOIST_OK;
}

hx_status hx_delta_encode_i32(const int32_t *v, size_t n, struct hx_buf *out) {
    int64_t *w = hx_malloc((n ? n : 1) * sizeof *w);
    if (!w) HX_FAIL(HOIST_ERR_NOMEM, "out of memory delta-encoding %zu values", n);
    for (size_t i = 0; i < n; i++) w[i] = v[i];
    hx_status st = delta_encode(w, n, 1, out);
    hx_free(w);
    return st;
}

hx_status hx_delta_encode_i64(const int64_t *v, size_t n, struct hx_buf *out) { return delta_encode(v, n, 0, out); }

hx_status hx_bss_encode(const uint8_t *v, size_t n, size_t width, struct hx_buf *out) {
    HX_TRY(hx_buf_reserve(out, n * width));
    uint8_t *p = (uint8_t *)out->data + out->len;
    for (size_t k = 0; k < width; k++)
        for (size_t i = 0; i < n; i++) p[k * n + i] = v[i * width + k];
    out->len += n * width;
    return HOIST_OK;
}
