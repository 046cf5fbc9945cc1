/* test_harness.h — a minimal C test harness: CHECK records a failure and
 * keeps going; main returns non-zero if anything failed. Also the few
 * helpers every folder's tests need (test data, replayable randomness,
 * draining a stream). */
#ifndef HOIST_TEST_HARNESS_H
#define HOIST_TEST_HARNESS_H

#include "hoist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_failures;
static int th_checks;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        th_checks++;                                                                                                   \
        if (!(cond)) {                                                                                                 \
            th_failures++;                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                                             \
    do {                                                                                                               \
        long long th_a_ = (long long)(a), th_b_ = (long long)(b);                                                      \
        th_checks++;                                                                                                   \
        if (th_a_ != th_b_) {                                                                                          \
            th_failures++;                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, th_a_,       \
                    th_b_);                                                                                            \
        }                                                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                                                \
    do {                                                                                                               \
        const char *th_a_ = (a), *th_b_ = (b);                                                                         \
        th_checks++;                                                                                                   \
        if (th_a_ == NULL || th_b_ == NULL || strcmp(th_a_, th_b_) != 0) {                                             \
            th_failures++;                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a, #b,          \
                    th_a_ ? th_a_ : "(null)", th_b_ ? th_b_ : "(null)");                                               \
        }                                                                                                              \
    } while (0)

/* True when the string contains the needle. */
#define CHECK_CONTAINS(hay, needle)                                                                                    \
    do {                                                                                                               \
        const char *th_h_ = (hay), *th_n_ = (needle);                                                                  \
        th_checks++;                                                                                                   \
        if (th_h_ == NULL || strstr(th_h_, th_n_) == NULL) {                                                           \
            th_failures++;                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" contains \"%s\"\n", __FILE__, __LINE__,                       \
                    th_h_ ? th_h_ : "(null)", th_n_);                                                                  \
        }                                                                                                              \
    } while (0)

#define RUN(test_fn)                                                                                                   \
    do {                                                                                                               \
        int th_before_ = th_failures;                                                                                  \
        test_fn();                                                                                                     \
        fprintf(stderr, "%s %s\n", th_failures == th_before_ ? "ok  " : "FAIL", #test_fn);                             \
    } while (0)

#define TEST_MAIN_END()                                                                                                \
    do {                                                                                                               \
        fprintf(stderr, "%d checks, %d failures\n", th_checks, th_failures);                                           \
        return th_failures ? 1 : 0;                                                                                    \
    } while (0)

/* Skips the whole test program (ctest counts exit code 77 as skipped when the
 * test sets SKIP_RETURN_CODE; we treat it as pass-with-note). */
#define TEST_SKIP(why)                                                                                                 \
    do {                                                                                                               \
        fprintf(stderr, "skipped: %s\n", why);                                                                         \
        return 0;                                                                                                      \
    } while (0)

/* The shared test files: $HOIST_TESTDATA, else where ctest runs from. */
static inline const char *th_testdata(void) {
    const char *t = getenv("HOIST_TESTDATA");
    return t ? t : "../shared/testdata";
}

/* xorshift64: the same sequence on every run, so a failing mutation or
 * random selection replays. */
static inline uint64_t th_xorshift(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Fills p with n bytes of a xorshift32 sequence from seed: incompressible
 * bodies that differ by seed, so a byte from the wrong object or offset shows. */
static inline void th_fill_bytes(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* Whether the tests that need the local S3 server should run (HOIST_TEST_S3=1). */
static inline int th_s3_enabled(void) {
    const char *v = getenv("HOIST_TEST_S3");
    return v != NULL && strcmp(v, "1") == 0;
}

/* Removes a test's scratch directory and all below it; says so when it cannot. */
static inline void th_remove_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Reads a stream to its end, releasing every batch; returns the rows seen. */
static inline int64_t th_drain_stream(struct ArrowArrayStream *s) {
    struct ArrowArray a;
    int64_t rows = 0;
    while (s->get_next(s, &a) == 0 && a.release) {
        rows += a.length;
        a.release(&a);
    }
    return rows;
}

#endif
