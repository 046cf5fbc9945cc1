/*
 * pq_rle.c — bit unpacking and the RLE/bit-packed hybrid (Encodings.md).
 *
 * Unpacking is the reader's hottest loop (dictionary indices, levels,
 * booleans, DELTA_BINARY_PACKED), so each bit width gets its own fully
 * unrolled 32-value kernel: 32 values of w bits are exactly w 32-bit words,
 * every shift and mask is a compile-time constant and no value needs a
 * branch.
 *
 * Dependency: leaf kernel; pq_dict.c builds its fused dictionary decode on
 * the run helpers of pq_rle_run.h, and nothing here calls back into it.
 */
#include "pq_rle_run.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pq_rle.c assumes a little-endian host (Parquet data is little-endian)"
#endif

static inline uint32_t load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Value i of a 32-value group starts at bit i*w; it lives in word
 * (i*w)/32 and spills into the next word when (i*w)%32 + w > 32. With w a
 * constant the compiler folds all of this into straight-line code. */
#define HX_UNPACK_ONE(i)                                                                                               \
    do {                                                                                                               \
        const unsigned bit_ = (unsigned)(i)*W, word_ = bit_ / 32, sh_ = bit_ % 32;                                     \
        uint64_t v_ = load32(in + 4 * word_);                                                                          \
        if (sh_ + W > 32) v_ |= (uint64_t)load32(in + 4 * word_ + 4) << 32;                                            \
        out[i] = (uint32_t)(v_ >> sh_) & MASK;                                                                         \
    } while (0)

#define HX_UNPACK_8(b)                                                                                                 \
    HX_UNPACK_ONE(b + 0);                                                                                              \
    HX_UNPACK_ONE(b + 1);                                                                                              \
    HX_UNPACK_ONE(b + 2);                                                                                              \
    HX_UNPACK_ONE(b + 3);                                                                                              \
    HX_UNPACK_ONE(b + 4);                                                                                              \
    HX_UNPACK_ONE(b + 5);                                                                                              \
    HX_UNPACK_ONE(b + 6);                                                                                              \
    HX_UNPACK_ONE(b + 7)

#define HX_DEFINE_UNPACK32(w)                                                                                          \
    static void unpack32_##w(const uint8_t *in, uint32_t *out) {                                                       \
        enum { W = w };                                                                                                \
        const uint32_t MASK = (uint32_t)((1ull << W) - 1);                                                             \
        HX_UNPACK_8(0);                                                                                                \
        HX_UNPACK_8(8);                                                                                                \
        HX_UNPACK_8(16);                                                                                               \
        HX_UNPACK_8(24);                                                                                               \
    }

HX_DEFINE_UNPACK32(1)
HX_DEFINE_UNPACK32(2)
HX_DEFINE_UNPACK32(3)
HX_DEFINE_UNPACK32(4)
HX_DEFINE_UNPACK32(5)
HX_DEFINE_UNPACK32(6)
HX_DEFINE_UNPACK32(7)
HX_DEFINE_UNPACK32(8)
HX_DEFINE_UNPACK32(9)
HX_DEFINE_UNPACK32(10)
HX_DEFINE_UNPACK32(11)
HX_DEFINE_UNPACK32(12)
HX_DEFINE_UNPACK32(13)
HX_DEFINE_UNPACK32(14)
HX_DEFINE_UNPACK32(15)
HX_DEFINE_UNPACK32(16)
HX_DEFINE_UNPACK32(17)
HX_DEFINE_UNPACK32(18)
HX_DEFINE_UNPACK32(19)
HX_DEFINE_UNPACK32(20)
HX_DEFINE_UNPACK32(21)
HX_DEFINE_UNPACK32(22)
HX_DEFINE_UNPACK32(23)
HX_DEFINE_UNPACK32(24)
HX_DEFINE_UNPACK32(25)
HX_DEFINE_UNPACK32(26)
HX_DEFINE_UNPACK32(27)
HX_DEFINE_UNPACK32(28)
HX_DEFINE_UNPACK32(29)
HX_DEFINE_UNPACK32(30)
HX_DEFINE_UNPACK32(31)

static void unpack32_0(const uint8_t *in, uint32_t *out) {
    (void)in;
    memset(out, 0, 32 * sizeof *out);
}

static void unpack32_32(const uint8_t *in, uint32_t *out) { memcpy(out, in, 32 * sizeof *out); }

typedef void (*unpack32_fn)(const uint8_t *in, uint32_t *out);

static const unpack32_fn unpack32_table[33] = {
    unpack32_0,  unpack32_1,  unpack32_2,  unpack32_3,  unpack32_4,  unpack32_5,  unpack32_6,  unpack32_7,  unpack32_8,
    unpack32_9,  unpack32_10, unpack32_11, unpack32_12, unpack32_13, unpack32_14, unpack32_15, unpack32_16, unpack32_17,
    unpack32_18, unpack32_19, unpack32_20, unpack32_21, unpack32_22, unpack32_23, unpack32_24, unpack32_25, unpack32_26,
    unpack32_27, unpack32_28, unpack32_29, unpack32_30, unpack32_31, unpack32_32,
};

/* ---- AVX2 unpacking ------------------------------------------------------
 *
 * Where the CPU has AVX2 (checked at load time), widths up to 25 bits unpack
 * 8 values per step: 8 values of w bits are exactly w bytes; values 0-3 are
 * read from a 16-byte load at the step's first byte and values 4-7 from one
 * (4w)/8 bytes further on, so each value's bits lie within 4 bytes of its
 * lane. A byte shuffle moves those 4 bytes under each 32-bit slot, a per-slot
 * shift (the value's bit offset, 0..7) and a mask finish it; w <= 25 keeps
 * offset + width within 32 bits. The tables depend only on w. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HX_AVX2_UNPACK 1

struct avx2_plan {
    uint8_t shuf[32];
    uint32_t shift[8];
    size_t hi; /* byte offset of the load for values 4-7 */
};
static struct avx2_plan avx2_plans[26];
static int have_avx2;

__attribute__((constructor)) static void avx2_plans_init(void) {
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2");
    for (unsigned w = 1; w <= 25; w++) {
        struct avx2_plan *pl = &avx2_plans[w];
        pl->hi = 4 * w / 8;
        for (unsigned j = 0; j < 8; j++) {
            unsigned bit = j * w - (j >= 4 ? 8 * (unsigned)pl->hi : 0);
            pl->shift[j] = bit % 8;
            for (unsigned k = 0; k < 4; k++) pl->shuf[4 * j + k] = (uint8_t)(bit / 8 + k);
        }
    }
}

/* Unpacks whole 8-value steps while each step's loads stay within avail
 * bytes of in; returns the values done (a multiple of 8). */
__attribute__((target("avx2"))) static size_t unpack_avx2(const uint8_t *in, size_t avail, int w, uint32_t *out,
                                                          size_t n) {
    const struct avx2_plan *pl = &avx2_plans[w];
    const __m256i shuf = _mm256_loadu_si256((const __m256i *)(const void *)pl->shuf);
    const __m256i sh = _mm256_loadu_si256((const __m256i *)(const void *)pl->shift);
    const __m256i mask = _mm256_set1_epi32((int)((1u << w) - 1));
    const size_t step = (size_t)w, hi = pl->hi;
    if (avail < hi + 16) return 0;
    const uint8_t *last = in + (avail - hi - 16); /* the last start a step may load from */
    size_t i = 0;
    for (const uint8_t *p = in; i + 8 <= n && p <= last; i += 8, p += step) {
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i up = _mm_loadu_si128((const __m128i *)(const void *)(p + hi));
        __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), up, 1);
        v = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(v, shuf), sh), mask);
        _mm256_storeu_si256((__m256i *)(void *)(out + i), v);
    }
    return i;
}
#endif

/* hx_unpack_u32, told that `avail` bytes (at least ceil(n*w/8)) may be read
 * from in: runs inside a page let the wide loads run up to the page end. */
void hx_unpack_avail(const uint8_t *in, size_t avail, int bit_width, uint32_t *out, size_t n) {
    if (n == 0) return; /* in/out may be NULL then; memcpy must not see them */
    if (bit_width <= 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    if (bit_width >= 32) {
        memcpy(out, in, n * sizeof *out);
        return;
    }
    const unpack32_fn fn = unpack32_table[bit_width];
    const size_t step = 4 * (size_t)bit_width; /* bytes per 32 values */
    size_t i = 0;
#ifdef HX_AVX2_UNPACK
    if (have_avx2 && bit_width <= 25 && n >= 16) {
        i = unpack_avx2(in, avail, bit_width, out, n);
        in += i / 8 * (size_t)bit_width; /* 8 values are bit_width bytes */
    }
#else
    (void)avail;
#endif
    for (; i + 32 <= n; i += 32, in += step) fn(in, out + i);
    size_t rest = n - i;
    if (rest) {
        /* The tail may end mid-word: unpack from a zero-padded copy so the
         * kernel never reads past ceil(n*w/8) bytes. */
        uint8_t buf[32 * 4] = {0};
        uint32_t tmp[32];
        memcpy(buf, in, (rest * (size_t)bit_width + 7) / 8);
        fn(buf, tmp);
        memcpy(out + i, tmp, rest * sizeof *out);
    }
}

void hx_unpack_u32(const uint8_t *in, int bit_width, uint32_t *out, size_t n) {
    size_t bits = n * (size_t)(bit_width > 0 ? bit_width : 0);
    hx_unpack_avail(in, (bits + 7) / 8, bit_width, out, n);
}

/* RLE runs are the common case for levels (a long run of "defined") and
 * low-cardinality indices; fill them 16 bytes at a time. */
static void fill_u32(uint32_t *o, uint32_t v, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128i x = _mm_set1_epi32((int)v);
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(void *)(o + i), x);
        _mm_storeu_si128((__m128i *)(void *)(o + i + 4), x);
    }
#endif
    for (; i < n; i++) o[i] = v;
}

static void fill_u16(uint16_t *o, uint16_t v, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128i x = _mm_set1_epi16((short)v);
    for (; i + 16 <= n; i += 16) {
        _mm_storeu_si128((__m128i *)(void *)(o + i), x);
        _mm_storeu_si128((__m128i *)(void *)(o + i + 8), x);
    }
#endif
    for (; i < n; i++) o[i] = v;
}

/* Narrows unpacked values (< 2^16) to uint16. SSE2 only has a signed
 * saturating pack, so bias into the signed range and back. */
static void narrow_u16(const uint32_t *in, uint16_t *o, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128i bias32 = _mm_set1_epi32(0x8000), bias16 = _mm_set1_epi16((short)0x8000);
    for (; i + 8 <= n; i += 8) {
        __m128i a = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(const void *)(in + i)), bias32);
        __m128i b = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(const void *)(in + i + 4)), bias32);
        _mm_storeu_si128((__m128i *)(void *)(o + i), _mm_add_epi16(_mm_packs_epi32(a, b), bias16));
    }
#endif
    for (; i < n; i++) o[i] = (uint16_t)in[i];
}

/* ---- RLE / bit-packed hybrid ------------------------------------------ */

hx_status hx_rle_bad_run_value(uint32_t v, int bit_width) {
    return hx_error(HOIST_ERR_PARQUET_CORRUPT, "RLE run value %u does not fit in bit width %d", v, bit_width);
}

hx_status hx_rle_bad_width(int bit_width, int max) {
    return hx_error(HOIST_ERR_PARQUET_CORRUPT, "RLE/bit-packed bit width %d is outside 0..%d", bit_width, max);
}

hx_status hx_rle_decode_u32(const uint8_t *data, size_t len, int bit_width, uint32_t *out, size_t n, size_t *consumed) {
    if (bit_width < 0 || bit_width > 32) return hx_rle_bad_width(bit_width, 32);
    const uint8_t *p = data, *end = data + len;
    size_t done = 0;
    while (done < n) {
        struct hx_rle_run run;
        HX_TRY(hx_rle_next_run(&p, end, bit_width, done, n, "values", &run));
        if (run.literal)
            hx_unpack_avail(run.packed, (size_t)(end - run.packed), bit_width, out + done, run.take);
        else
            fill_u32(out + done, run.value, run.take);
        done += run.take;
    }
    if (consumed) *consumed = (size_t)(p - data);
    return HOIST_OK;
}

hx_status hx_rle_decode_u16(const uint8_t *data, size_t len, int bit_width, uint16_t *out, size_t n, size_t *consumed) {
    if (bit_width < 0 || bit_width > 16) return hx_rle_bad_width(bit_width, 16);
    const uint8_t *p = data, *end = data + len;
    size_t done = 0;
    uint32_t tmp[256];
    while (done < n) {
        struct hx_rle_run run;
        HX_TRY(hx_rle_next_run(&p, end, bit_width, done, n, "levels", &run));
        if (run.literal) {
            /* 256 values of w bits are exactly 32*w bytes, so chunks after
             * the first start on a byte boundary. */
            const uint8_t *src = run.packed;
            for (size_t k = 0; k < run.take; k += 256) {
                size_t c = run.take - k < 256 ? run.take - k : 256;
                hx_unpack_avail(src, (size_t)(end - src), bit_width, tmp, c);
                src += 32 * (size_t)bit_width;
                narrow_u16(tmp, out + done + k, c);
            }
        } else {
            fill_u16(out + done, (uint16_t)run.value, run.take);
        }
        done += run.take;
    }
    if (consumed) *consumed = (size_t)(p - data);
    return HOIST_OK;
}

/* ---- streaming reader ------------------------------------------------- */

/* Usage note for run-aware callers: after any call, r->run_left values of the
 * current run remain; when !r->run_is_literal they all equal r->run_value, so
 * a caller may consume them itself (e.g. memset a validity bitmap) by
 * decreasing run_left. */
void hx_rle_reader_init(struct hx_rle_reader *r, const uint8_t *data, size_t len, int bit_width) {
    memset(r, 0, sizeof *r);
    r->p = data;
    r->end = data + len;
    r->bit_width = bit_width;
}

static int reader_next_run(struct hx_rle_reader *r, int *err) {
    *err = 0;
    if (r->p >= r->end) return 0;
    uint32_t header;
    if (!hx_rle_run_header(&r->p, r->end, &header)) {
        *err = 1;
        return 0;
    }
    const int w = r->bit_width;
    if (header & 1) {
        uint32_t groups = header >> 1;
        size_t avail = (size_t)(r->end - r->p);
        uint64_t have = hx_rle_literal_available(groups, w, avail);
        uint64_t run_bytes = (uint64_t)groups * (uint64_t)w;
        r->run_is_literal = 1;
        r->literal = r->p;
        r->literal_pos = 0;
        /* A truncated final run yields what its bytes hold; the caller sees
         * the shortfall as the end of the data. */
        r->run_left = (uint32_t)(have > UINT32_MAX ? UINT32_MAX : have);
        r->p += run_bytes < avail ? (size_t)run_bytes : avail;
    } else {
        int value_bytes = (w + 7) / 8;
        if ((size_t)(r->end - r->p) < (size_t)value_bytes) {
            *err = 1;
            return 0;
        }
        r->run_is_literal = 0;
        if (!hx_rle_run_value(r->p, w, &r->run_value)) {
            *err = 1;
            return 0;
        }
        r->p += value_bytes;
        r->run_left = header >> 1;
    }
    return 1;
}

int64_t hx_rle_reader_next(struct hx_rle_reader *r, uint32_t *out, size_t n) {
    if (r->bit_width < 0 || r->bit_width > 32) {
        hx_status st = hx_rle_bad_width(r->bit_width, 32);
        (void)st;
        return -1;
    }
    const int w = r->bit_width;
    size_t done = 0;
    while (done < n) {
        if (r->run_left == 0) {
            int err;
            if (!reader_next_run(r, &err)) {
                if (err) {
                    hx_status st =
                        hx_error(HOIST_ERR_PARQUET_CORRUPT,
                                 "RLE/bit-packed run header or value is truncated or wider than the bit width");
                    (void)st;
                    return -1;
                }
                break;
            }
            continue;
        }
        size_t take = n - done < r->run_left ? n - done : r->run_left;
        if (!r->run_is_literal) {
            fill_u32(out + done, r->run_value, take);
        } else {
            size_t pos = r->literal_pos, k = 0;
            /* Finish a partly read 8-value group first so the bulk unpack
             * starts on a byte boundary. */
            if (pos % 8) {
                uint32_t grp[8];
                size_t off = pos % 8, c = 8 - off < take ? 8 - off : take;
                /* Only off+c values: a truncated final run may not hold the
                 * whole group's bytes. */
                hx_unpack_u32(r->literal + (pos / 8) * (size_t)w, w, grp, off + c);
                memcpy(out + done, grp + off, c * sizeof *out);
                k = c;
            }
            if (take > k) {
                const uint8_t *src = r->literal + ((pos + k) / 8) * (size_t)w;
                hx_unpack_avail(src, (size_t)(r->end - src), w, out + done + k, take - k);
            }
            r->literal_pos += (uint32_t)take;
        }
        r->run_left -= (uint32_t)take;
        done += take;
    }
    return (int64_t)done;
}

/* ---- fused dictionary decode -------------------------------------------- */

/* ---- bit copy (validity bitmaps from 1-bit levels) ---------------------- */

static inline void put_bit(uint8_t *b, uint64_t i, unsigned v) {
    b[i >> 3] = (uint8_t)((b[i >> 3] & ~(1u << (i & 7))) | (v << (i & 7)));
}

size_t hx_copy_bits(uint8_t *dst, uint64_t dst_off, const uint8_t *src, uint64_t src_off, size_t n) {
    size_t ones = 0;
    /* bit by bit until dst is byte aligned, then whole bytes (64 bits at a
     * time while the source holds 9 more bytes), then the tail */
    for (; n > 0 && (dst_off & 7); n--, dst_off++, src_off++) {
        unsigned v = (src[src_off >> 3] >> (src_off & 7)) & 1;
        put_bit(dst, dst_off, v);
        ones += v;
    }
    uint8_t *d = dst + (dst_off >> 3);
    const unsigned sh = (unsigned)(src_off & 7);
    while (n >= 72) {
        const uint8_t *s = src + (src_off >> 3);
        uint64_t w;
        memcpy(&w, s, 8);
        if (sh) w = (w >> sh) | ((uint64_t)s[8] << (64 - sh));
        memcpy(d, &w, 8);
        ones += (size_t)__builtin_popcountll(w);
        d += 8, src_off += 64, dst_off += 64, n -= 64;
    }
    while (n >= 8) {
        const uint8_t *s = src + (src_off >> 3);
        uint8_t v = sh ? (uint8_t)((s[0] >> sh) | (s[1] << (8 - sh))) : s[0];
        *d++ = v;
        ones += (size_t)__builtin_popcount(v);
        src_off += 8, dst_off += 8, n -= 8;
    }
    for (; n > 0; n--, dst_off++, src_off++) {
        unsigned v = (src[src_off >> 3] >> (src_off & 7)) & 1;
        put_bit(dst, dst_off, v);
        ones += v;
    }
    return ones;
}
