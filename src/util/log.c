/* Logging to stderr by level; the level starts from HOIST_LOG. */
#include "util_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = -1; /* -1: not read from the environment yet */

static int level_from_env(void) {
    const char *v = getenv("HOIST_LOG");
    if (v == NULL || *v == '\0') return HOIST_LOG_WARN;
    if (strcasecmp(v, "debug") == 0) return HOIST_LOG_DEBUG;
    if (strcasecmp(v, "info") == 0) return HOIST_LOG_INFO;
    if (strcasecmp(v, "warn") == 0 || strcasecmp(v, "warning") == 0) return HOIST_LOG_WARN;
    if (strcasecmp(v, "error") == 0) return HOIST_LOG_ERROR;
    if (strcasecmp(v, "off") == 0 || strcasecmp(v, "none") == 0) return HOIST_LOG_OFF;
    return HOIST_LOG_WARN;
}

enum hoist_log_level hoist_log_get_level(void) {
    int l = atomic_load_explicit(&log_level, memory_order_relaxed);
    if (l < 0) {
        l = level_from_env();
        atomic_store(&log_level, l);
    }
    return (enum hoist_log_level)l;
}

void hoist_log_set_level(enum hoist_log_level level) {
    if ((int)level < HOIST_LOG_DEBUG || level > HOIST_LOG_OFF) level = HOIST_LOG_WARN;
    atomic_store(&log_level, (int)level);
}

bool hx_log_enabled(enum hoist_log_level level) { return level >= hoist_log_get_level(); }

void hx_log(enum hoist_log_level level, const char *fmt, ...) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (!hx_log_enabled(level) || level >= HOIST_LOG_OFF) return;
    /* One write per line so lines from threads do not interleave. */
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(line, sizeof line, "hoist %s [%ld.%03ld]: ", names[level], (long)ts.tv_sec, ts.tv_nsec / 1000000);
    if (n < 0) return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) return;
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
