/*
 * pq_bss.c — BYTE_STREAM_SPLIT (Encodings.md): byte k of value i is stored
 * at data[k*n + i]. Decoding is a transpose; widths 2, 4 and 8 (FLOAT16, FLOAT,
 * DOUBLE, INT32, INT64) get SSE2 interleaving kernels, other widths (FLBA)
 * a plain loop.
 */
#include "pq_kernels.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static void bss_decode2(const uint8_t *data, size_t n, uint8_t *out) {
    const uint8_t *s0 = data, *s1 = data + n;
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s0 + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(s1 + i));
        _mm_storeu_si128((__m128i *)(out + 2 * i), _mm_unpacklo_epi8(a, b));
        _mm_storeu_si128((__m128i *)(out + 2 * i + 16), _mm_unpackhi_epi8(a, b));
    }
#endif
    for (; i < n; i++) {
        out[2 * i] = s0[i];
        out[2 * i + 1] = s1[i];
    }
}

static void bss_decode4(const uint8_t *data, size_t n, uint8_t *out) {
    const uint8_t *s0 = data, *s1 = data + n, *s2 = data + 2 * n, *s3 = data + 3 * n;
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s0 + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(s1 + i));
        __m128i c = _mm_loadu_si128((const __m128i *)(s2 + i));
        __m128i d = _mm_loadu_si128((const __m128i *)(s3 + i));
        __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
        __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
        uint8_t *o = out + 4 * i;
        _mm_storeu_si128((__m128i *)(o + 0), _mm_unpacklo_epi16(ab_lo, cd_lo));
        _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi16(ab_lo, cd_lo));
        _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi16(ab_hi, cd_hi));
        _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi16(ab_hi, cd_hi));
    }
#endif
    for (; i < n; i++) {
        uint8_t *o = out + 4 * i;
        o[0] = s0[i];
        o[1] = s1[i];
        o[2] = s2[i];
        o[3] = s3[i];
    }
}

static void bss_decode8(const uint8_t *data, size_t n, uint8_t *out) {
    const uint8_t *s[8];
    for (int k = 0; k < 8; k++) s[k] = data + (size_t)k * n;
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16) {
        __m128i v[8];
        for (int k = 0; k < 8; k++) v[k] = _mm_loadu_si128((const __m128i *)(s[k] + i));
        /* Three rounds of interleaving (8-, 16-, 32-bit) turn 8 byte
         * planes of 16 values into 16 8-byte values. */
        __m128i a[8], b[8];
        for (int k = 0; k < 4; k++) {
            a[2 * k] = _mm_unpacklo_epi8(v[2 * k], v[2 * k + 1]);
            a[2 * k + 1] = _mm_unpackhi_epi8(v[2 * k], v[2 * k + 1]);
        }
        /* a[0]=b01 lo(values 0-7), a[1]=b01 hi(8-15), a[2]=b23 lo, ... */
        for (int h = 0; h < 2; h++) {
            b[4 * h + 0] = _mm_unpacklo_epi16(a[0 + h], a[2 + h]);
            b[4 * h + 1] = _mm_unpackhi_epi16(a[0 + h], a[2 + h]);
            b[4 * h + 2] = _mm_unpacklo_epi16(a[4 + h], a[6 + h]);
            b[4 * h + 3] = _mm_unpackhi_epi16(a[4 + h], a[6 + h]);
        }
        /* b[4h+0]: bytes 0-3 of values 8h+0..3, b[4h+1]: 8h+4..7,
         * b[4h+2]/b[4h+3]: bytes 4-7 of the same values. */
        uint8_t *o = out + 8 * i;
        for (int h = 0; h < 2; h++) {
            for (int q = 0; q < 2; q++) {
                __m128i lo = b[4 * h + q], hi = b[4 * h + 2 + q];
                _mm_storeu_si128((__m128i *)(o + 64 * h + 32 * q), _mm_unpacklo_epi32(lo, hi));
                _mm_storeu_si128((__m128i *)(o + 64 * h + 32 * q + 16), _mm_unpackhi_epi32(lo, hi));
            }
        }
    }
#endif
    for (; i < n; i++)
        for (int k = 0; k < 8; k++) out[8 * i + (size_t)k] = s[k][i];
}

hx_status hx_byte_stream_split_decode(const uint8_t *data, size_t len, size_t width, size_t n, uint8_t *out) {
    if (width == 0) HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "BYTE_STREAM_SPLIT value width is 0");
    if (n > SIZE_MAX / width || n * width > len)
        HX_FAIL(HOIST_ERR_PARQUET_CORRUPT, "BYTE_STREAM_SPLIT data holds %zu bytes, %zu values of %zu bytes need more",
                len, n, width);
    if (n == 0) return HOIST_OK;
    if (width == 2) {
        bss_decode2(data, n, out);
    } else if (width == 4) {
        bss_decode4(data, n, out);
    } else if (width == 8) {
        bss_decode8(data, n, out);
    } else if (width == 1) {
        memcpy(out, data, n);
    } else {
        /* Stream by stream keeps the reads sequential; writes stride. */
        for (size_t k = 0; k < width; k++) {
            const uint8_t *s = data + k * n;
            uint8_t *o = out + k;
            for (size_t i = 0; i < n; i++) o[i * width] = s[i];
        }
    }
    return HOIST_OK;
}
