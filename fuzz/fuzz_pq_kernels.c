/* Fuzzes every Parquet decoding kernel (src/parquet/pq_kernels.h). The first
 * byte picks the kernel, the second a bit width / codec / value width, the
 * next two a value count or output size; the rest is the kernel's input.
 * (Kernels 10 and 11 came later: kernel % 12 picks.)
 * Outputs are bounded so no input can demand a huge allocation. */
#include "pq_kernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    const uint8_t kernel = data[0], param = data[1];
    size_t count = (size_t)data[2] | (size_t)data[3] << 8;
    const uint8_t *in = data + 4;
    size_t len = size - 4;
    /* Heap copy of exactly len bytes so ASan sees any over-read. */
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return 0;
    if (len) memcpy(buf, in, len);
    hx_status st = HOIST_OK;
    hx_error_clear();
    switch (kernel % 12) {
    case 0: { /* hx_unpack_u32: only as many values as the bytes hold */
        int w = param % 33;
        size_t n = w ? len * 8 / (size_t)w : count;
        if (n > MAX_VALUES) n = MAX_VALUES;
        uint32_t *out = malloc((n + 1) * sizeof *out);
        if (out) hx_unpack_u32(buf, w, out, n);
        free(out);
        break;
    }
    case 1: { /* RLE hybrid, u32; widths beyond 32 must be rejected */
        int w = param % 36 - 1;
        uint32_t *out = malloc((count + 1) * sizeof *out);
        size_t used = 0;
        if (out) st = hx_rle_decode_u32(buf, len, w, out, count, &used);
        if (st == HOIST_OK && used > len) abort();
        free(out);
        break;
    }
    case 2: { /* RLE hybrid, u16 levels */
        int w = param % 19 - 1;
        uint16_t *out = malloc((count + 1) * sizeof *out);
        size_t used = 0;
        if (out) st = hx_rle_decode_u16(buf, len, w, out, count, &used);
        if (st == HOIST_OK && used > len) abort();
        free(out);
        break;
    }
    case 3: { /* streaming RLE reader in chunks of varying size */
        struct hx_rle_reader r;
        hx_rle_reader_init(&r, buf, len, param % 33);
        uint32_t out[300];
        size_t chunk = 1 + count % 300, total = 0;
        int64_t k;
        while ((k = hx_rle_reader_next(&r, out, chunk)) > 0 && total < 4 * MAX_VALUES) {
            total += (size_t)k;
            /* Run-aware callers consume RLE runs themselves. */
            if (!r.run_is_literal && (param & 0x80)) r.run_left = 0;
            chunk = 1 + (chunk * 7 + 3) % 300;
        }
        break;
    }
    case 4:
    case 5: { /* DELTA_BINARY_PACKED */
        uint64_t total = 0;
        if (hx_delta_total_count(buf, len, &total) != HOIST_OK) break;
        size_t n = total < MAX_VALUES ? (size_t)total : MAX_VALUES;
        if (param & 1) n = n < count ? n : count; /* fewer than the stream holds */
        size_t used = 0;
        if (kernel % 10 == 4) {
            int64_t *out = malloc((n + 1) * sizeof *out);
            if (out) st = hx_delta_decode_i64(buf, len, out, n, &used);
            free(out);
        } else {
            int32_t *out = malloc((n + 1) * sizeof *out);
            if (out) st = hx_delta_decode_i32(buf, len, out, n, &used);
            free(out);
        }
        if (st == HOIST_OK && used > len) abort();
        break;
    }
    case 6: { /* BYTE_STREAM_SPLIT, including width 0 and short data */
        size_t w = param % 20;
        size_t n = w ? len / w : count;
        if (param & 0x80) n++; /* one value too many: must be rejected */
        uint8_t *out = malloc(n * (w ? w : 1) + 1);
        if (out) st = hx_byte_stream_split_decode(buf, len, w, n, out);
        if ((param & 0x80) && w && st == HOIST_OK) abort();
        free(out);
        break;
    }
    case 7: { /* dictionary gather: dictionary and indices from the input */
        size_t w = 1 + param % 16;
        size_t dict_bytes = count % (len + 1);
        size_t dict_n = dict_bytes / w;
        size_t n = (len - dict_bytes) / 4;
        uint32_t *idx = malloc((n + 1) * sizeof *idx);
        uint8_t *dict = malloc(dict_n * w + 1);
        uint8_t *out = malloc(n * w + 1);
        if (idx && dict && out) {
            memcpy(dict, buf, dict_n * w);
            memcpy(idx, buf + dict_bytes, n * 4);
            st = hx_dict_gather(dict, dict_n, w, idx, n, out);
        }
        free(idx), free(dict), free(out);
        break;
    }
    case 8: { /* every codec into an exactly sized buffer */
        enum hx_pq_codec codec = (enum hx_pq_codec)(param % 9);
        size_t dst_len = count;
        if (param & 0x80) dst_len *= 16; /* up to ~1 MiB */
        uint8_t *dst = malloc(dst_len ? dst_len : 1);
        if (dst) st = hx_pq_decompress(codec, buf, len, dst, dst_len);
        free(dst);
        break;
    }
    case 9: {
        volatile uint32_t crc = hx_crc32(buf, len);
        (void)crc;
        break;
    }
    case 10: { /* fused dictionary decode: a made-up dictionary, indices from the input */
        static const size_t widths[8] = {1, 2, 4, 8, 16, 3, 12, 5};
        size_t w = widths[(count >> 13) & 7], dict_n = count & 0x1fff;
        int bw = param % 34;               /* 33 must be rejected */
        size_t n = len * 4 + (param >> 6); /* often more than the data holds */
        if (n > MAX_VALUES) n = MAX_VALUES;
        uint8_t *dict = malloc(dict_n * w + 1), *out = malloc(n * w + 1);
        uint32_t *idx = malloc((n + 8) * sizeof *idx);
        if (dict && out && idx) {
            for (size_t i = 0; i < dict_n * w; i++) dict[i] = (uint8_t)(i * 7 + i / w);
            st = hx_dict_decode_fixed(dict, dict_n, w, buf, len, bw, n, out);
            if (st != HOIST_OK && hoist_errmsg()[0] == '\0') abort();
            /* The oracle: the two-pass decode (indices, then a gather) must
             * agree on success and on every value. */
            hx_status st2 = hx_rle_decode_u32(buf, len, bw, idx, n, NULL);
            int in_range = st2 == HOIST_OK;
            for (size_t i = 0; in_range && i < n; i++) in_range = idx[i] < dict_n;
            if ((st == HOIST_OK) != in_range) abort();
            if (st == HOIST_OK)
                for (size_t i = 0; i < n; i++)
                    if (memcmp(out + i * w, dict + (size_t)idx[i] * w, w) != 0) abort();
            st = HOIST_OK; /* its message was checked above */
        }
        free(dict), free(out), free(idx);
        break;
    }
    case 11: { /* bit copy at every offset, checked against a bit-by-bit copy */
        uint64_t src_off = count % 61, dst_off = param % 67;
        size_t n = len * 8 > src_off ? (size_t)(len * 8 - src_off) : 0;
        size_t dst_bytes = (size_t)((dst_off + n + 7) / 8) + 1;
        uint8_t *dst = malloc(dst_bytes), *ref = malloc(dst_bytes);
        if (dst && ref) {
            memset(dst, 0xa5, dst_bytes);
            memset(ref, 0xa5, dst_bytes);
            size_t ones = hx_copy_bits(dst, dst_off, buf, src_off, n), ref_ones = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t s = src_off + i, d = dst_off + i;
                int bit = (buf[s >> 3] >> (s & 7)) & 1;
                ref_ones += (size_t)bit;
                ref[d >> 3] = (uint8_t)((ref[d >> 3] & ~(1u << (d & 7))) | ((unsigned)bit << (d & 7)));
            }
            if (ones != ref_ones || memcmp(dst, ref, dst_bytes) != 0) abort();
        }
        free(dst), free(ref);
        break;
    }
    }
    if (st != HOIST_OK && hoist_errmsg()[0] == '\0') abort(); /* every failure explains itself */
    free(buf);
    return 0;
}
