/*
 * pq_kernels.h — Parquet's pure decoding kernels: decompression, the
 * RLE/bit-packed hybrid, bit unpacking, DELTA_BINARY_PACKED and
 * BYTE_STREAM_SPLIT. No I/O, no allocation except where stated, no knowledge
 * of files or schemas: bytes in, values out. Every function bounds-checks its
 * input and returns HOIST_ERR_PARQUET_CORRUPT with a message saying what is
 * wrong (the caller prefixes file/row group/column/page).
 *
 * Thread safety: all functions are reentrant.
 */
#ifndef HOIST_PQ_KERNELS_H
#define HOIST_PQ_KERNELS_H

#include "util_internal.h"

/* For a small helper called once per value or run in a hot loop, where
 * the compiler's size heuristics would otherwise keep the call. */
#if defined(__GNUC__)
#define HX_ALWAYS_INLINE __attribute__((always_inline))
#else
#define HX_ALWAYS_INLINE
#endif

/* Parquet CompressionCodec values (parquet.thrift). */
enum hx_pq_codec {
    HX_PQ_UNCOMPRESSED = 0,
    HX_PQ_SNAPPY = 1,
    HX_PQ_GZIP = 2,
    HX_PQ_LZO = 3,
    HX_PQ_BROTLI = 4,
    HX_PQ_LZ4 = 5, /* deprecated: Hadoop-framed blocks, or a raw block (try framing first) */
    HX_PQ_ZSTD = 6,
    HX_PQ_LZ4_RAW = 7
};

/* Decompresses src into exactly dst_len bytes of dst (the page header's
 * uncompressed size). Output of any other length is corrupt. GZIP accepts
 * concatenated members. LZO: HOIST_ERR_PARQUET_UNSUPPORTED. */
HOIST_NODISCARD hx_status hx_pq_decompress(enum hx_pq_codec codec, const uint8_t *src, size_t src_len, uint8_t *dst,
                                           size_t dst_len);

/* Unpacks n values of bit_width (0..32) bits, packed LSB-first as in
 * Parquet's bit-packed runs, from in (which must hold ceil(n*w/8) bytes). */
void hx_unpack_u32(const uint8_t *in, int bit_width, uint32_t *out, size_t n);

/* RLE / bit-packed hybrid (Encodings.md "Run Length Encoding / Bit-Packing
 * Hybrid"), without the 4-byte length prefix. Decodes exactly n values of
 * bit_width (0..32) into out; fewer values in the data is corrupt. A final
 * bit-packed run may be padded beyond n. *consumed (may be NULL) gets the
 * bytes used. */
HOIST_NODISCARD hx_status hx_rle_decode_u32(const uint8_t *data, size_t len, int bit_width, uint32_t *out, size_t n,
                                            size_t *consumed);

/* Same, for levels (bit_width 0..16), into uint16. */
HOIST_NODISCARD hx_status hx_rle_decode_u16(const uint8_t *data, size_t len, int bit_width, uint16_t *out, size_t n,
                                            size_t *consumed);

/* Streaming form for callers that want runs (e.g. to turn a long run of "all
 * defined" levels into a memset). */
struct hx_rle_reader {
    const uint8_t *p, *end;
    int bit_width;
    uint32_t run_left;      /* values left in the current run */
    int run_is_literal;     /* bit-packed run */
    uint32_t run_value;     /* for an RLE run */
    const uint8_t *literal; /* bit-packed data of the current run */
    uint32_t literal_pos;   /* values of the literal run already consumed */
};
void hx_rle_reader_init(struct hx_rle_reader *r, const uint8_t *data, size_t len, int bit_width);
/* Reads up to n values; returns the count read (0 at the end of data), or
 * -1 with an error set on corrupt data. */
HOIST_NODISCARD int64_t hx_rle_reader_next(struct hx_rle_reader *r, uint32_t *out, size_t n);

/* DELTA_BINARY_PACKED (Encodings.md). Decodes exactly n values (n may be
 * less than the stream's total) into out; *consumed (may be NULL) gets the
 * bytes of the whole stream when all values were read (needed by
 * DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY which follow it with data).
 * Arithmetic wraps as the spec requires. */
HOIST_NODISCARD hx_status hx_delta_decode_i64(const uint8_t *data, size_t len, int64_t *out, size_t n,
                                              size_t *consumed);
HOIST_NODISCARD hx_status hx_delta_decode_i32(const uint8_t *data, size_t len, int32_t *out, size_t n,
                                              size_t *consumed);
/* Total value count from a DELTA_BINARY_PACKED header (for sizing). */
HOIST_NODISCARD hx_status hx_delta_total_count(const uint8_t *data, size_t len, uint64_t *count);

/* BYTE_STREAM_SPLIT: n values of `width` bytes (any width >= 1) from
 * width streams of n bytes each; data must hold n*width bytes. */
HOIST_NODISCARD hx_status hx_byte_stream_split_decode(const uint8_t *data, size_t len, size_t width, size_t n,
                                                      uint8_t *out);

/* Dictionary gather for fixed-width values: out[i] = dict[idx[i]] for
 * `width`-byte values. An index >= dict_n is corrupt. */
HOIST_NODISCARD hx_status hx_dict_gather(const uint8_t *dict, size_t dict_n, size_t width, const uint32_t *idx,
                                         size_t n, uint8_t *out);

/* Without the range check: every idx[i] must be < the dictionary's size. */
void hx_dict_gather_unchecked(const uint8_t *dict, size_t width, const uint32_t *idx, size_t n, uint8_t *out);

/* n copies of one `width`-byte value. */
void hx_fill_fixed(uint8_t *out, const uint8_t *value, size_t width, size_t n);

/* Largest of n values (0 when n == 0). */
uint32_t hx_max_u32(const uint32_t *v, size_t n);

/* Moves the v[i] whose keep[i] is 1 (keep bytes are 0 or 1) to the front
 * of v, in order, in place; returns how many. The dictionary indices of a
 * page decoded for a filter's kept rows (pq_values.c). */
size_t hx_keep_u32(uint32_t *v, const uint8_t *keep, size_t n);

/* RLE_DICTIONARY indices (the hybrid runs after the bit-width byte, as for
 * hx_rle_decode_u32) gathered straight into n fixed-width values: out[i] =
 * dict[index i]. Fused so the indices never reach memory: bit-packed runs go
 * through a block that stays in L1, RLE runs become fills, and an index can
 * only be out of range when 2^bit_width > dict_n, checked once per block or
 * run. An index >= dict_n, or fewer than n values, is corrupt. */
HOIST_NODISCARD hx_status hx_dict_decode_fixed(const uint8_t *dict, size_t dict_n, size_t width, const uint8_t *data,
                                               size_t len, int bit_width, size_t n, uint8_t *out);

/* Copies n bits from src (starting at bit src_off, LSB-first) to dst at bit
 * dst_off, leaving dst's other bits alone; returns how many were 1. Reads
 * only the bytes holding bits src_off .. src_off + n - 1. For 1-bit
 * definition levels, whose bit-packed runs are already a validity bitmap. */
size_t hx_copy_bits(uint8_t *dst, uint64_t dst_off, const uint8_t *src, uint64_t src_off, size_t n);

/* CRC-32 (the page header's crc field: zlib's CRC-32 of the page bytes as
 * stored, i.e. compressed). */
uint32_t hx_crc32(const uint8_t *data, size_t len);

#endif /* HOIST_PQ_KERNELS_H */
