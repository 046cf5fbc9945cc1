/* civil.c — calendar dates as days since 1970-01-01 (proleptic Gregorian):
 * the one ISO 8601 date parser that the CSV codec (values) and the dataset
 * layer (Hive partition values, filter literals) share, and the conversions
 * both ways (Howard Hinnant's "chrono-compatible low-level date
 * algorithms", the era arithmetic that needs no tables and no loops). */
#include "util_internal.h"

int64_t hx_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void hx_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool hx_parse_digits(const char *s, size_t n, unsigned *out) {
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

bool hx_parse_date(const char *s, size_t len, int64_t *days) {
    unsigned y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-') return false;
    if (!hx_parse_digits(s, 4, &y) || !hx_parse_digits(s + 5, 2, &m) || !hx_parse_digits(s + 8, 2, &d)) return false;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap)) return false;
    *days = hx_days_from_civil(y, m, d);
    return true;
}
