/*
 * pq_enc_rle.c — the RLE/bit-packed hybrid encoder (Encodings.md "Run Length
 * Encoding / Bit-Packing Hybrid") for levels and dictionary indices, and
 * PLAIN booleans. Run choice as Arrow C++ and arrow-rs make it: 8 or more
 * equal values are an RLE run (the break-even point at bit width 1), other
 * values go to bit-packed runs of whole groups of 8, at most 63 groups so
 * the run header stays one byte.
 */
#include "pq_write_internal.h"

#include <string.h>

enum { MAX_LITERAL = 63 * 8 };

int hx_bit_width(uint64_t max) { return max ? 64 - __builtin_clzll(max) : 0; }

static uint8_t *grow(struct hx_buf *out, size_t n, hx_status *st) {
    *st = hx_buf_reserve(out, n);
    if (*st != HOIST_OK) return NULL;
    uint8_t *p = (uint8_t *)out->data + out->len;
    out->len += n;
    return p;
}

/* Packs n (a multiple of 8, padded by the caller) values LSB-first,
 * storing 32 bits at a time: n * w / 8 bytes exactly, so every wide store
 * lands inside the output. */
static void pack(const uint32_t *v, size_t n, int w, uint8_t *p) {
    if (w == 0) return;
    uint64_t acc = 0;
    int bits = 0;
    uint64_t mask = w == 32 ? 0xffffffffull : (1ull << w) - 1;
    for (size_t i = 0; i < n; i++) {
        acc |= ((uint64_t)v[i] & mask) << bits;
        bits += w;
        if (bits >= 32) {
            uint32_t lo = (uint32_t)acc;
            memcpy(p, &lo, 4);
            p += 4;
            acc >>= 32;
            bits -= 32;
        }
    }
    for (; bits > 0; bits -= 8) {
        *p++ = (uint8_t)acc;
        acc >>= 8;
    }
}

/* Emits v[0, n) as one bit-packed run; pads v with zeros in place up to a
 * whole group of 8 (v has room for it). */
static hx_status emit_literal(uint32_t *v, size_t n, int w, struct hx_buf *out) {
    size_t groups = (n + 7) / 8;
    memset(v + n, 0, (groups * 8 - n) * sizeof *v);
    hx_status st;
    uint8_t *p = grow(out, 1 + groups * (size_t)w, &st);
    if (!p) return st;
    p[0] = (uint8_t)((groups << 1) | 1);
    pack(v, groups * 8, w, p + 1);
    return HOIST_OK;
}

static hx_status emit_run(uint32_t value, size_t count, int w, struct hx_buf *out) {
    hx_status st;
    uint8_t hdr[10];
    size_t h = hx_pqw_varint(hdr, (uint64_t)count << 1);
    size_t vb = ((size_t)w + 7) / 8;
    uint8_t *p = grow(out, h + vb, &st);
    if (!p) return st;
    memcpy(p, hdr, h);
    for (size_t i = 0; i < vb; i++) p[h + i] = (uint8_t)(value >> (8 * i));
    return HOIST_OK;
}

/* One encoder over a value getter, so uint16 levels need no widening copy. */
#define RLE_ENCODE_BODY(T)                                                                                             \
    size_t i = 0, lit = 0, nlit = 0; /* pending literal: values [lit, lit + nlit) */                                   \
    uint32_t buf[MAX_LITERAL + 8];                                                                                     \
    while (i < n) {                                                                                                    \
        T x = v[i];                                                                                                    \
        size_t run = 1;                                                                                                \
        while (i + run < n && v[i + run] == x && run < ((size_t)1 << 30)) run++;                                       \
        if (run >= 8 && nlit % 8 == 0) {                                                                               \
            if (nlit) HX_TRY(emit_literal(buf, nlit, w, out));                                                         \
            nlit = 0;                                                                                                  \
            HX_TRY(emit_run(x, run, w, out));                                                                          \
            i += run;                                                                                                  \
            continue;                                                                                                  \
        }                                                                                                              \
        /* values join the literal; a long run only up to the next group boundary */                                   \
        size_t take = run >= 8 ? 8 - nlit % 8 : run;                                                                   \
        for (size_t k = 0; k < take; k++) buf[nlit++] = x;                                                             \
        i += take;                                                                                                     \
        if (nlit >= MAX_LITERAL) {                                                                                     \
            HX_TRY(emit_literal(buf, MAX_LITERAL, w, out));                                                            \
            memmove(buf, buf + MAX_LITERAL, (nlit - MAX_LITERAL) * sizeof *buf);                                       \
            nlit -= MAX_LITERAL;                                                                                       \
        }                                                                                                              \
    }                                                                                                                  \
    (void)lit;                                                                                                         \
    if (nlit) HX_TRY(emit_literal(buf, nlit, w, out));                                                                 \
    return HOIST_OK;

hx_status hx_rle_encode_u16(const uint16_t *v, size_t n, int w, struct hx_buf *out){RLE_ENCODE_BODY(uint16_t)}

hx_status hx_rle_encode_u32(const uint32_t *v, size_t n, int w, struct hx_buf *out){RLE_ENCODE_BODY(uint32_t)}

hx_status hx_rle_encode_repeat(uint32_t value, size_t n, int w, struct hx_buf *out) {
    if (n < 8 || n >= ((size_t)1 << 30)) {
        uint32_t v[8];
        if (n >= 8) { /* runs this long are cut as the general encoder cuts them */
            HX_TRY(emit_run(value, (size_t)1 << 30, w, out));
            return hx_rle_encode_repeat(value, n - ((size_t)1 << 30), w, out);
        }
        for (size_t i = 0; i < n; i++) v[i] = value;
        return hx_rle_encode_u32(v, n, w, out);
    }
    return emit_run(value, n, w, out);
}

hx_status hx_plain_bool_encode(const uint8_t *v, size_t n, struct hx_buf *out) {
    hx_status st;
    uint8_t *p = grow(out, (n + 7) / 8, &st);
    if (!p) return st;
    memset(p, 0, (n + 7) / 8);
    for (size_t i = 0; i < n; i++) p[i >> 3] |= (uint8_t)((v[i] & 1) << (i & 7));
    return HOIST_OK;
}
