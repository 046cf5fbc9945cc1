/* Decimal text to double, correctly rounded (round to nearest, ties to
 * even), so a column reads bit for bit as strtod (and pyarrow) reads it.
 *
 * Three paths, cheapest first:
 *  1. Clinger's fast path: a mantissa below 2^53 and a power of ten up to
 *     1e22 are both exact doubles, so one multiplication or division rounds
 *     once and the result is correctly rounded.
 *  2. Up to 19 significant digits (the mantissa fits 64 bits): the
 *     Eisel–Lemire idea — multiply the mantissa by a 128-bit approximation
 *     of the power of five and take the top bits. Here the approximation T
 *     is truncated (the exact scaled power lies in [T, T + 1)), so the
 *     exact product lies in [w·T, w·T + w) with w < 2^64: unless the bits
 *     below the rounding position are all ones (a carry could reach the
 *     kept bits) or all zeros with the round bit set (a tie cannot be told
 *     from a value just above it), the rounding is decided. Those rare
 *     cases, subnormals, overflow and more digits go to path 3. (Lemire,
 *     "Number Parsing at a Gigabyte per Second", 2021, section 5; this
 *     version keeps the fallback instead of relying on its tighter proof.)
 *  3. strtod_l in the C locale. */
#include "csv_internal.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static inline bool is_digit(uint8_t c) { return (unsigned)(c - '0') < 10; }

/* ---- strtod --------------------------------------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static bool strtod_exact(const uint8_t *s, size_t n, double *out) {
    char small[128], *buf = small;
    if (n >= sizeof small) {
        buf = hx_malloc(n + 1);
        if (!buf) return false;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    pthread_once(&c_locale_once, make_c_locale);
    char *end;
    *out = c_locale ? strtod_l(buf, &end, c_locale) : strtod(buf, &end);
    bool ok = end == buf + n;
    if (buf != small) hx_free(buf);
    return ok;
}

/* ---- powers of five, 128 bits --------------------------------------------- */

#define POW5_MIN (-342) /* below, any 19-digit mantissa underflows to zero */
#define POW5_MAX 308    /* above, any nonzero mantissa overflows */
#define POW5_N (POW5_MAX - POW5_MIN + 1)

/* For each q: 5^q = (hi·2^64 + lo + δ)·2^exp2 with 0 <= δ < 1 and the top
 * bit of hi set; δ = 0 exactly when exact is set (0 <= q <= 55). */
struct pow5 {
    uint64_t hi, lo;
    int32_t exp2;
    bool exact;
};
static struct pow5 pow5_table[POW5_N];
static pthread_once_t pow5_once = PTHREAD_ONCE_INIT;

/* A little-endian big integer of 32-bit limbs, large enough for 2^1060. */
#define BIG_LIMBS 36
struct big {
    uint32_t v[BIG_LIMBS];
    int n; /* limbs in use; v[n - 1] != 0 */
};

static void big_mul_small(struct big *b, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->v[i] * m + carry;
        b->v[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) b->v[b->n++] = (uint32_t)carry;
}

/* b = floor(b / d), d > 0 */
static void big_div_small(struct big *b, uint32_t d) {
    uint64_t rem = 0;
    for (int i = b->n - 1; i >= 0; i--) {
        uint64_t cur = rem << 32 | b->v[i];
        b->v[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    while (b->n > 0 && b->v[b->n - 1] == 0) b->n--;
}

static int big_bits(const struct big *b) { return b->n ? (b->n - 1) * 32 + (32 - __builtin_clz(b->v[b->n - 1])) : 0; }

static bool big_bit(const struct big *b, int i) { return i >= 0 && i / 32 < b->n && ((b->v[i / 32] >> (i % 32)) & 1); }

/* The top 128 bits of b (bit length L >= 128 or shifted up when shorter);
 * sets *exp2 = L - 128 and *exact when no set bit was cut off. */
static void big_top128(const struct big *b, struct pow5 *out) {
    int len = big_bits(b), shift = len - 128;
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 128; i++) {
        bool bit = big_bit(b, shift + i);
        if (i < 64)
            lo |= (uint64_t)bit << i;
        else
            hi |= (uint64_t)bit << (i - 64);
    }
    bool exact = true;
    for (int i = 0; i < shift && exact; i++) exact = !big_bit(b, i);
    out->hi = hi;
    out->lo = lo;
    out->exp2 = shift;
    out->exact = exact;
}

static void make_pow5(void) {
    struct big p = {.v = {1}, .n = 1};
    for (int q = 0; q <= POW5_MAX; q++) { /* 5^q */
        big_top128(&p, &pow5_table[q - POW5_MIN]);
        big_mul_small(&p, 5);
    }
    p = (struct big){.v = {1}, .n = 1};
    for (int k = 1; k <= -POW5_MIN; k++) { /* 5^-k = floor(2^s / 5^k)·2^-s + a fraction */
        big_mul_small(&p, 5);
        int s = big_bits(&p) + 127; /* the quotient then has 128 bits */
        struct big x = {.n = s / 32 + 1};
        x.v[s / 32] = 1u << (s % 32);
        /* floor(floor(x/a)/b) = floor(x/(ab)): divide by 5^13 (< 2^32) at a time */
        int left = k;
        for (; left >= 13; left -= 13) big_div_small(&x, 1220703125u);
        uint32_t rest = 1;
        while (left-- > 0) rest *= 5;
        big_div_small(&x, rest);
        struct pow5 *e = &pow5_table[-k - POW5_MIN];
        big_top128(&x, e);
        e->exp2 = e->exp2 - s;
        e->exact = false; /* 5^k never divides 2^s */
    }
}

/* ---- Eisel–Lemire --------------------------------------------------------- */

bool hx_csv_eisel_lemire(uint64_t w, int64_t q, bool neg, double *out) {
    if (q < POW5_MIN || q > POW5_MAX) return false;
    pthread_once(&pow5_once, make_pow5);
    const struct pow5 *t = &pow5_table[q - POW5_MIN];
    int lz = __builtin_clzll(w);
    w <<= lz;
    /* r = w·(hi·2^64 + lo): 192 bits in r2:r1:r0 */
    unsigned __int128 a = (unsigned __int128)w * t->hi, b = (unsigned __int128)w * t->lo;
    uint64_t r0 = (uint64_t)b, r1 = (uint64_t)(b >> 64) + (uint64_t)a, r2 = (uint64_t)(a >> 64);
    r2 += r1 < (uint64_t)a; /* the carry of r1 */
    /* keep 54 bits (53 + the round bit) of r2 from its top bit */
    int upper = (int)(r2 >> 63), shift = upper + 9;
    uint64_t mask = ((uint64_t)1 << shift) - 1, m = r2 >> shift;
    bool below_zero = (r2 & mask) == 0 && r1 == 0, below_ones = (r2 & mask) == mask && r1 == UINT64_MAX;
    if (!t->exact) {
        if (below_ones) return false;                          /* the error could carry into the kept bits */
        if (below_zero && (m & 1)) return false;               /* a tie, or just above one */
    } else if ((m & 1) && below_zero && r0 == 0 && !(m & 2)) { /* an exact tie, kept bits even */
        m &= ~(uint64_t)1;                                     /* ... rounds down, to even */
    }
    m = (m + 1) >> 1; /* round half up (ties settled above) */
    /* the value is r·2^(exp2 + q - lz); r's top bit is bit 190 + upper */
    int64_t e2 = (int64_t)t->exp2 + q - lz + 190 + upper;
    if (m >> 53) { /* rounding carried into a new bit */
        m >>= 1;
        e2++;
    }
    if (e2 < -1022 || e2 > 1023) return false; /* subnormal or overflow: strtod says */
    uint64_t bits = (uint64_t)(e2 + 1023) << 52 | (m & (((uint64_t)1 << 52) - 1)) | (uint64_t)neg << 63;
    memcpy(out, &bits, sizeof *out);
    return true;
}

/* ---- the parser ----------------------------------------------------------- */

static bool word_ci(const uint8_t *s, size_t n, const char *w) {
    if (strlen(w) != n) return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != (uint8_t)w[i]) return false;
    return true;
}

/* Exactly representable powers of ten (Clinger's fast path). */
const double hx_csv_pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool hx_csv_parse_float64(const uint8_t *s, size_t n, double *out) {
    hx_csv_trim(&s, &n);
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i < n && !is_digit(s[i]) && s[i] != '.') {
        const uint8_t *w = s + i;
        size_t wn = n - i;
        double v;
        if (word_ci(w, wn, "inf") || word_ci(w, wn, "infinity"))
            v = __builtin_inf();
        else if (word_ci(w, wn, "nan"))
            v = __builtin_nan("");
        else
            return false;
        *out = neg ? -v : v;
        return true;
    }
    /* digits accumulate unchecked (unsigned wrap-around is defined); more
     * than 19 of them go to strtod, which then decides */
    const uint8_t *end = s + n;
    uint64_t mant = 0;
    size_t ndig, nfrac;
    const uint8_t *p = hx_csv_decimal_into(s + i, end, &mant, &ndig, &nfrac);
    if (ndig == 0) return false;
    int64_t exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '-' || *p == '+')) eneg = *p++ == '-';
        if (p == end) return false;
        for (; p < end; p++) {
            if (!is_digit(*p)) return false;
            if (exp10 < 100000) exp10 = exp10 * 10 + (*p - '0');
        }
        if (eneg) exp10 = -exp10;
    }
    if (p != end) return false;
    if (ndig > 19) return strtod_exact(s, n, out);
    exp10 -= (int64_t)nfrac;
    if (mant <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / hx_csv_pow10_exact[-exp10] : v * hx_csv_pow10_exact[exp10];
        *out = neg ? -v : v;
        return true;
    }
    if (mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    if (hx_csv_eisel_lemire(mant, exp10, neg, out)) return true;
    return strtod_exact(s, n, out);
}
