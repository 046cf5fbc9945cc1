/* csv_float.c: decimal text to double, bit for bit as strtod_l in the C
 * locale reads it — random decimals of every length and exponent through
 * every path (Clinger, the 128-bit product, strtod), exact ties, the
 * values next to the subnormal and overflow limits; and that the 128-bit
 * path decides nearly every value it is given, so the fast path is real.
 * Every input also goes through hx_csv_parse_float64_plain (conversion's
 * inline parser): what it takes reads the same, what the parser refuses it
 * refuses too, and it takes nearly every short plain decimal. */
#include "csv_internal.h"
#include "test_harness.h"

#include <locale.h>
#include <math.h>

static locale_t c_loc;

static double ref(const char *s) { return strtod_l(s, NULL, c_loc); }

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static int mismatches;
static long plain_taken;

static void check_text(const char *s) {
    double got, want = ref(s);
    bool ok = hx_csv_parse_float64((const uint8_t *)s, strlen(s), &got);
    if (!ok || !same_bits(got, want)) {
        if (mismatches++ < 20) fprintf(stderr, "'%s': got %.17g (ok %d), strtod %.17g\n", s, got, ok, want);
        CHECK(ok && same_bits(got, want));
    }
    double plain;
    if (hx_csv_parse_float64_plain((const uint8_t *)s, strlen(s), &plain)) {
        plain_taken++;
        if (!same_bits(plain, want) && mismatches++ < 20)
            fprintf(stderr, "'%s': plain %.17g, strtod %.17g\n", s, plain, want);
        CHECK(same_bits(plain, want));
    }
}

/* What the parser refuses. */
static void check_bad(const char *s) {
    double d;
    CHECK(!hx_csv_parse_float64((const uint8_t *)s, strlen(s), &d));
    CHECK(!hx_csv_parse_float64_plain((const uint8_t *)s, strlen(s), &d));
}

/* Short decimals, each digit count either side of the point up to 20
 * (past the 19-digit limit of the 64-bit mantissa), with leading zeros and
 * signs, and malformed shapes refused. */
static void test_short_decimals(void) {
    uint64_t rng = 11;
    char s[64];
    long plain_shape = 0, taken_before = plain_taken;
    for (int a = 0; a <= 20; a++)
        for (int b = -1; b <= 20; b++)
            for (int rep = 0; rep < 200; rep++) {
                int k = 0;
                if (rep & 1) s[k++] = '-';
                for (int i = 0; i < a; i++)
                    s[k++] = (char)('0' + (rep % 7 == 0 && i == 0 ? 0 : th_xorshift(&rng) % 10));
                if (b >= 0) {
                    s[k++] = '.';
                    for (int i = 0; i < b; i++) s[k++] = (char)('0' + th_xorshift(&rng) % 10);
                }
                s[k] = 0;
                if (a + (b > 0 ? b : 0) == 0) {
                    check_bad(s);
                    continue;
                }
                check_text(s);
                plain_shape += a + (b > 0 ? b : 0) <= 19;
            }
    /* the plain parser takes every one of at most 19 digits but the few
     * the 128-bit product leaves to strtod: mantissas past 2^53 whose
     * value is exact, a tie it cannot tell (990280534151472.5) */
    long taken = plain_taken - taken_before;
    fprintf(stderr, "plain parser: took %ld of %ld short decimals\n", taken, plain_shape);
    CHECK(taken <= plain_shape && taken * 1000 >= plain_shape * 995);
    static const char *const bad[] = {"",   "-",   ".",    "-.",   "1.2.3", "1..2", "--1",
                                      "1-", "12a", "1.5x", "0x10", "1e",    "1,5",  "١"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) check_bad(bad[i]);
    /* shapes the parser reads and the plain one leaves to it */
    static const char *const rare[] = {"+1.5",   " 2.5", "2.5 ", "1e5",
                                       "1.5E-3", "inf",  "-nan", "12345678901234567890.5"};
    for (size_t i = 0; i < sizeof rare / sizeof *rare; i++) {
        double d;
        CHECK(!hx_csv_parse_float64_plain((const uint8_t *)rare[i], strlen(rare[i]), &d));
        CHECK(hx_csv_parse_float64((const uint8_t *)rare[i], strlen(rare[i]), &d));
    }
}

/* A random decimal: 1..maxdig digits, a point somewhere (or none), an
 * exponent in [-emax, emax] (or none). */
static void random_text(uint64_t *rng, int maxdig, int emax, char *out, size_t cap) {
    int nd = 1 + (int)(th_xorshift(rng) % (uint64_t)maxdig), k = 0;
    int point = (int)(th_xorshift(rng) % (uint64_t)(nd + 2)) - 1; /* -1: none */
    if (th_xorshift(rng) & 1) out[k++] = '-';
    for (int i = 0; i < nd; i++) {
        if (i == point) out[k++] = '.';
        int d = (int)(th_xorshift(rng) % 10);
        if (i == 0 && d == 0 && (th_xorshift(rng) & 3)) d = 1 + (int)(th_xorshift(rng) % 9);
        out[k++] = (char)('0' + d);
    }
    if (point == nd) out[k++] = '.';
    out[k] = 0;
    if (emax && (th_xorshift(rng) % 4)) {
        int e = (int)(th_xorshift(rng) % (uint64_t)(2 * emax + 1)) - emax;
        snprintf(out + k, cap - (size_t)k, "e%d", e);
    }
}

static void test_random(void) {
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    char s[96];
    static const int maxdig[] = {8, 15, 17, 19, 19, 25};
    static const int emax[] = {0, 5, 25, 330, 400};
    for (size_t a = 0; a < sizeof maxdig / sizeof *maxdig; a++)
        for (size_t b = 0; b < sizeof emax / sizeof *emax; b++)
            for (int i = 0; i < 40000; i++) {
                random_text(&rng, maxdig[a], emax[b], s, sizeof s);
                check_text(s);
            }
}

/* Doubles printed with 17 significant digits (which round-trip), and the
 * values one unit of the 17th digit either side: near-halfway inputs. */
static void test_neighbours(void) {
    uint64_t rng = 42;
    char s[64];
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = th_xorshift(&rng) & 0x7fffffffffffffffull;
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d)) continue;
        snprintf(s, sizeof s, "%.16e", d);
        check_text(s);
        /* the 17-digit mantissa as an integer: step it by one */
        char *e = strchr(s, 'e');
        int exp = atoi(e + 1);
        long long m = 0;
        for (const char *p = s; p < e; p++)
            if (*p >= '0' && *p <= '9') m = m * 10 + (*p - '0');
        snprintf(s, sizeof s, "%llde%d", m + 1, exp - 16);
        check_text(s);
        snprintf(s, sizeof s, "%llde%d", m - 1, exp - 16);
        check_text(s);
    }
}

static void test_edges(void) {
    static const char *const cases[] = {
        "9007199254740993",     /* 2^53 + 1: a tie, to even (down) */
        "9007199254740995",     /* a tie, to even (up) */
        "9007199254740993.0",   /* the same, exponent -1 */
        "4503599627370496.5",   /* 2^52 + 1/2: a tie */
        "4503599627370497.5",   /* a tie the other way */
        "18446744073709551615", /* 2^64 - 1: 20 digits */
        "1844674407370955161",  /* 19 digits */
        "9999999999999999999",  /* 19 nines */
        "40.701558338925125",   /* taxi-like latitudes: 17 digits */
        "-73.95817639848934",
        "2.2250738585072014e-308", /* smallest normal */
        "2.2250738585072011e-308", /* just below: subnormal */
        "4.9406564584124654e-324", /* smallest subnormal */
        "1.7976931348623157e308",  /* largest */
        "1.7976931348623158e308",  /* rounds to the largest */
        "1.7976931348623159e308",  /* overflows */
        "1e-342",
        "1e-343",
        "1e308",
        "1e309",
        "123456789e-350",
        "1e23",
        "8.5e-323",
        "0.1",
        "0.2",
        "0.3",
        "3.0e-7",
        "7.2057594037927933e16",
        "1.00000000000000011102230246251565404e0",
        "2.00000000000000011102230246251565404e0",
        " 1.5",
        "1.5\t",
        "  -0.000123456789012345  ",
        "\t40.701558338925125",
        "12345678.87654321 ",
        "1234567.",
        ".12345678",
        "00000000000000000001",
        "0.000000000000000000012345678901234567890",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_text(cases[i]);
}

/* The 128-bit path decides all but a sliver of 17–19 digit inputs; what it
 * decides equals strtod. */
static void test_fast_path_decides(void) {
    uint64_t rng = 7;
    int decided = 0, total = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t w = th_xorshift(&rng) % 10000000000000000000ull;
        if (w == 0) continue;
        int q = (int)(th_xorshift(&rng) % 640) - 330;
        char s[64];
        snprintf(s, sizeof s, "%llue%d", (unsigned long long)w, q);
        double want = ref(s), got;
        if (want == 0 || isinf(want) || fabs(want) < 2.2250738585072014e-308) continue; /* strtod's ranges */
        total++;
        if (hx_csv_eisel_lemire(w, q, false, &got)) {
            decided++;
            if (!same_bits(got, want) && mismatches++ < 20)
                fprintf(stderr, "%s: fast path %.17g, strtod %.17g\n", s, got, want);
            CHECK(same_bits(got, want));
        }
    }
    fprintf(stderr, "128-bit path decided %d of %d\n", decided, total);
    CHECK(decided > total - total / 1000);
}

int main(void) {
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(test_edges);
    RUN(test_short_decimals);
    RUN(test_random);
    RUN(test_neighbours);
    RUN(test_fast_path_decides);
    freelocale(c_loc);
    TEST_MAIN_END();
}
