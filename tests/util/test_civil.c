/* Tests for src/util/civil.c: the one date parser of the CSV codec and the
 * dataset layer accepts exactly the calendar's days (leap years by the
 * Gregorian rule) and agrees with the conversions both ways over four
 * centuries either side of the epoch. */
#include "test_harness.h"
#include "util_internal.h"

#include <stdio.h>

static void test_parse(void) {
    int64_t d;
    CHECK(hx_parse_date("1970-01-01", 10, &d) && d == 0);
    CHECK(hx_parse_date("1969-12-31", 10, &d) && d == -1);
    CHECK(hx_parse_date("2000-02-29", 10, &d) && d == 11016);
    CHECK(!hx_parse_date("1900-02-29", 10, &d));
    CHECK(!hx_parse_date("2023-02-29", 10, &d));
    CHECK(hx_parse_date("2024-02-29", 10, &d));
    CHECK(!hx_parse_date("2024-04-31", 10, &d));
    CHECK(!hx_parse_date("2024-13-01", 10, &d));
    CHECK(!hx_parse_date("2024-00-10", 10, &d));
    CHECK(!hx_parse_date("2024-01-00", 10, &d));
    CHECK(!hx_parse_date("2024-1-010", 10, &d));
    CHECK(!hx_parse_date("2024-01-01T", 11, &d));
    CHECK(!hx_parse_date("2024-01-0", 9, &d));
    CHECK(hx_parse_date("0000-03-01", 10, &d) && d == -719468);
    CHECK(hx_parse_date("9999-12-31", 10, &d) && d == 2932896);
}

static void test_round_trip(void) {
    int bad = 0;
    for (int64_t day = -146097; day <= 146097 && bad < 5; day++) {
        int64_t y;
        unsigned m, d;
        hx_civil_from_days(day, &y, &m, &d);
        if (hx_days_from_civil(y, m, d) != day) bad++;
        if (y >= 0 && y <= 9999) {
            char s[16];
            int64_t back;
            snprintf(s, sizeof s, "%04d-%02u-%02u", (int)y, m, d);
            if (!hx_parse_date(s, 10, &back) || back != day) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void) {
    RUN(test_parse);
    RUN(test_round_trip);
    TEST_MAIN_END();
}
