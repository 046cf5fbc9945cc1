/* Text to values: integers, doubles, dates, ISO 8601 timestamps, UTF-8
 * checks, and the per-value type mask that inference ANDs over a column.
 * Each parser accepts the whole field or nothing (past spaces or tabs
 * around a number or time, hx_csv_trim, as pyarrow), so a value either
 * converts exactly or widens its column. */
#include "csv_internal.h"

#include <string.h>

static inline bool is_digit(uint8_t c) { return (unsigned)(c - '0') < 10; }

bool hx_csv_parse_int64(const uint8_t *s, size_t n, int64_t *out) {
    hx_csv_trim(&s, &n);
    size_t i = 0;
    bool neg = false;
    if (n && s[0] == '-') { /* no '+': pyarrow reads "+1" as a double */
        neg = true;
        i = 1;
    }
    if (i == n) return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return false;
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return false;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v;
    }
    return true;
}

/* ---- dates and timestamps --------------------------------------------- */

static bool digits(const uint8_t *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* The date part of a date or timestamp: util's parser (shared with the
 * dataset layer's partition values and filter literals). */
static bool parse_date(const uint8_t *s, int64_t *days) { return hx_parse_date((const char *)s, 10, days); }

bool hx_csv_parse_date32(const uint8_t *s, size_t n, int32_t *out) {
    hx_csv_trim(&s, &n);
    int64_t days;
    if (n != 10 || !parse_date(s, &days)) return false;
    *out = (int32_t)days;
    return true;
}

/* Fixed-position fields read a word at a time (SWAR, little-endian loads:
 * byte i of a word is s[i]). */
static inline uint64_t load8(const uint8_t *s) {
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

/* Zero in each byte of w that is '0'..'9': the high nibble is 3 and stays
 * 3 after adding 6. A carry out of a byte 0xfa..0xff adds one to the next
 * byte, which can only turn a digit into a non-digit: a false "no" sends
 * the value to the general parser, which decides it right. */
static inline uint64_t nondigits(uint64_t w) {
    return ((w & 0xf0f0f0f0f0f0f0f0ull) | (((w + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) >> 4)) ^
           0x3333333333333333ull;
}

/* The digits of w under mask m (digit bytes, checked) as two-digit
 * numbers: byte i of the result is 10·d[i] + d[i+1] when both are digits
 * of m. Other bytes hold zeros, so nothing borrows or carries. */
static inline uint64_t digit_pairs(uint64_t w, uint64_t m) {
    uint64_t v = (w & m) - (0x3030303030303030ull & m);
    return v * 10 + (v >> 8);
}

static inline unsigned byte_of(uint64_t w, int i) { return (unsigned)(w >> (8 * i)) & 0xff; }

/* The shapes writers emit most, 'YYYY-MM-DD HH:MM:SS' and the same with
 * '.ffffff' (pandas, pyarrow, DuckDB; 'T' or ' '), checked and read as
 * three or four words with no branch per character; false sends anything
 * else (or any doubt) to the general parser below, which accepts a
 * superset with the same values. */
static bool timestamp_fixed(const uint8_t *s, size_t n, int64_t *out) {
    if ((n != 19 && n != 26) || (s[10] != ' ' && s[10] != 'T')) return false;
    /* a = s[0..8) "YYYY-MM-", b = s[8..16) "DD?HH:MM", c = s[11..19) "HH:MM:SS" */
    const uint64_t a = load8(s), b = load8(s + 8), c = load8(s + 11);
    const uint64_t am = 0x00ffff00ffffffffull, bm = 0xffff00ffff00ffffull, cm = 0xffff000000000000ull;
    if ((nondigits(a) & am) | (nondigits(b) & bm) | (nondigits(c) & cm)) return false;
    if ((a & 0xff0000ff00000000ull) != 0x2d00002d00000000ull || /* '-' at 4 and 7 */
        (b & 0x0000ff0000000000ull) != 0x00003a0000000000ull || /* ':' at 13 */
        (c & 0x0000ff0000000000ull) != 0x00003a0000000000ull)   /* ':' at 16 */
        return false;
    const uint64_t pa = digit_pairs(a, am), pb = digit_pairs(b, bm), pc = digit_pairs(c, cm);
    int y = (int)(byte_of(pa, 0) * 100 + byte_of(pa, 2)), mo = (int)byte_of(pa, 5), d = (int)byte_of(pb, 0);
    int hh = (int)byte_of(pb, 3), mi = (int)byte_of(pb, 6), ss = (int)byte_of(pc, 6);
    if (hh > 23 || mi > 59 || ss > 59) return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
    int64_t frac = 0;
    if (n == 26) {
        /* f = s[18..26) "S.ffffff" */
        const uint64_t f = load8(s + 18), fm = 0xffffffffffff0000ull;
        if ((nondigits(f) & fm) || (f & 0xff00) != 0x2e00) return false;
        const uint64_t pf = digit_pairs(f, fm);
        frac = (int64_t)(byte_of(pf, 2) * 10000 + byte_of(pf, 4) * 100 + byte_of(pf, 6));
    }
    *out =
        (hx_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)hh * 3600 + mi * 60 + ss) * 1000000 + frac;
    return true;
}

bool hx_csv_parse_timestamp(const uint8_t *s, size_t n, int64_t *out, bool *zoned) {
    hx_csv_trim(&s, &n);
    if (timestamp_fixed(s, n, out)) {
        *zoned = false;
        return true;
    }
    int64_t days;
    if (n < 10 || !parse_date(s, &days)) return false;
    int64_t us = days * 86400 * 1000000;
    *zoned = false;
    if (n == 10) {
        *out = us;
        return true;
    }
    int hh, mm, ss = 0;
    if (n < 16 || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &hh) || s[13] != ':' ||
        !digits(s + 14, 2, &mm) || hh > 23 || mm > 59)
        return false;
    size_t p = 16;
    int64_t frac = 0;
    if (p < n && s[p] == ':') {
        if (p + 3 > n || !digits(s + p + 1, 2, &ss) || ss > 59) return false;
        p += 3;
        if (p < n && s[p] == '.') {
            size_t k = 0;
            for (p++; p < n && is_digit(s[p]); p++, k++) {
                if (k < 6)
                    frac = frac * 10 + (s[p] - '0');
                else if (s[p] != '0')
                    return false; /* finer than a microsecond */
            }
            if (k == 0) return false;
            for (; k < 6; k++) frac *= 10;
        }
    }
    us += ((int64_t)hh * 3600 + mm * 60 + ss) * 1000000 + frac;
    if (p < n) {
        if (s[p] == 'Z' && p + 1 == n) {
            *zoned = true;
        } else if (s[p] == '+' || s[p] == '-') {
            int zh, zm = 0;
            size_t r = n - p - 1;
            const uint8_t *z = s + p + 1;
            if (!(r == 2 || r == 4 || (r == 5 && z[2] == ':')) || !digits(z, 2, &zh) ||
                (r > 2 && !digits(z + r - 2, 2, &zm)) || zh > 23 || zm > 59)
                return false;
            int64_t off = ((int64_t)zh * 3600 + zm * 60) * 1000000;
            us += s[p] == '+' ? -off : off;
            *zoned = true;
        } else {
            return false;
        }
    }
    *out = us;
    return true;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

bool hx_csv_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return false;
        if (n - i <= k) return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF (RFC 3629 section 3) */
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* ---- inference masks ------------------------------------------------------ */

unsigned hx_csv_value_types(const struct hx_csv_words *trues, const struct hx_csv_words *falses, const uint8_t *s,
                            size_t n) {
    unsigned m = 1u << HX_CSV_STRING;
    if (hx_csv_words_has(trues, s, n) || hx_csv_words_has(falses, s, n)) m |= 1u << HX_CSV_BOOL;
    const uint8_t *full = s;
    size_t full_n = n;
    hx_csv_trim(&s, &n);
    if (n == 0) return m;
    uint8_t c = s[0];
    if (is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'i' || c == 'I' || c == 'n' || c == 'N') {
        int64_t iv;
        double dv;
        if (hx_csv_parse_int64(s, n, &iv))
            m |= 1u << HX_CSV_INT64 | 1u << HX_CSV_FLOAT64;
        else if (hx_csv_parse_float64(s, n, &dv))
            m |= 1u << HX_CSV_FLOAT64;
    }
    if (n >= 10 && is_digit(c) && s[4] == '-') {
        int64_t ts;
        bool zoned;
        if (hx_csv_parse_timestamp(full, full_n, &ts, &zoned)) {
            if (zoned)
                m |= 1u << HX_CSV_TIMESTAMP_UTC;
            else
                m |= 1u << HX_CSV_TIMESTAMP | (n == 10 ? 1u << HX_CSV_DATE32 : 0);
        }
    }
    return m;
}

enum hx_csv_type hx_csv_mask_best(unsigned mask) {
    for (int t = HX_CSV_INT64; t < HX_CSV_NTYPES; t++)
        if (mask & (1u << t)) return (enum hx_csv_type)t;
    return HX_CSV_STRING;
}
