/* Queries about the machine: CPU count, physical memory, page size and the
 * monotonic clock. A leaf of src/util: it calls nothing else in hoist, so
 * the allocator (alloc.c) and the thread pool (threadpool.c) can both use it
 * without depending on each other. */
#include "util_internal.h"

#include <time.h>
#include <unistd.h>

unsigned hx_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

uint64_t hx_total_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 0;
    return (uint64_t)pages * (uint64_t)page;
}

size_t hx_page_size(void) {
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

double hx_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
