/* hoist_store_bench — the hoist side of bench/scenarios/store_transfer.py.
 *
 *   hoist_store_bench put PREFIX COUNT SIZE [--endpoint URL] [--concurrency N] [--part-size N]
 *   hoist_store_bench get PREFIX COUNT SIZE [...same options...]
 *
 * put: uploads COUNT objects PREFIX/obj-000000 ... of SIZE bytes each with
 *      ONE hoist_store_put_many from memory. All items point at one buffer of
 *      SIZE bytes so the driver's own footprint does not grow with COUNT.
 * get: fetches them with ONE hoist_store_get_many into HOIST_DEST_ALLOC
 *      memory (every object held at once, as a caller of get_many would),
 *      checks each size, then frees them.
 * Prints one JSON line: {"op", "objects", "bytes", "seconds", "gbit_s",
 * "requests", "retries"}. Uses only hoist.h. Exit 1 on any failure. */
#include "hoist.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end) return -1;
    *out = v;
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: hoist_store_bench put|get PREFIX COUNT SIZE [--endpoint URL] "
                    "[--concurrency N] [--part-size BYTES]\n");
    return 2;
}

static int fail(const char *what, enum hoist_status st) {
    const char *m = hoist_errmsg();
    fprintf(stderr, "hoist_store_bench: %s: %s\n", what, m && *m ? m : hoist_strerror(st));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) return usage();
    const char *op = argv[1], *prefix = argv[2];
    uint64_t count, size, concurrency = 0, part_size = 0;
    const char *endpoint = NULL;
    if (parse_u64(argv[3], &count) || parse_u64(argv[4], &size) || count == 0) return usage();
    for (int i = 5; i < argc; i++) {
        if (i + 1 >= argc) return usage();
        if (strcmp(argv[i], "--endpoint") == 0)
            endpoint = argv[++i];
        else if (strcmp(argv[i], "--concurrency") == 0) {
            if (parse_u64(argv[++i], &concurrency)) return usage();
        } else if (strcmp(argv[i], "--part-size") == 0) {
            if (parse_u64(argv[++i], &part_size)) return usage();
        } else
            return usage();
    }
    int is_put = strcmp(op, "put") == 0;
    if (!is_put && strcmp(op, "get") != 0) return usage();

    struct hoist_store_config *cfg = NULL;
    struct hoist_store *store = NULL;
    enum hoist_status st = hoist_store_config_new(&cfg);
    if (st == HOIST_OK && endpoint) st = hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, endpoint);
    if (st == HOIST_OK && concurrency)
        st = hoist_store_config_set_int(cfg, HOIST_STORE_CONCURRENCY, (int64_t)concurrency);
    if (st == HOIST_OK && part_size) st = hoist_store_config_set_int(cfg, HOIST_STORE_PART_SIZE, (int64_t)part_size);
    if (st == HOIST_OK) st = hoist_store_new(cfg, &store);
    hoist_store_config_free(cfg);
    if (st != HOIST_OK) return fail("client", st);

    /* Names are made before the clock starts: the benchmark times transfers. */
    char **urls = calloc(count, sizeof *urls);
    if (!urls) return fail("urls", HOIST_ERR_NOMEM);
    size_t plen = strlen(prefix);
    for (uint64_t i = 0; i < count; i++) {
        size_t n = plen + 32;
        urls[i] = malloc(n);
        if (!urls[i]) return fail("urls", HOIST_ERR_NOMEM);
        snprintf(urls[i], n, "%s%sobj-%06" PRIu64, prefix, plen && prefix[plen - 1] == '/' ? "" : "/", i);
    }

    int rc = 0;
    double t0 = 0, t1 = 0;
    if (is_put) {
        unsigned char *data = malloc(size ? size : 1);
        struct hoist_put_item *items = calloc(count, sizeof *items);
        if (!data || !items) return fail("put", HOIST_ERR_NOMEM);
        /* Incompressible bytes, so no layer can shortcut the work. */
        uint64_t x = 0x9e3779b97f4a7c15ull;
        for (uint64_t i = 0; i < size; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            data[i] = (unsigned char)x;
        }
        for (uint64_t i = 0; i < count; i++) {
            items[i].url = urls[i];
            items[i].data = data;
            items[i].size = size;
        }
        t0 = now();
        st = hoist_store_put_many(store, items, count, 0, NULL, NULL);
        t1 = now();
        if (st != HOIST_OK) rc = fail("put_many", st);
        for (uint64_t i = 0; i < count; i++) hoist_store_put_item_reset(&items[i]);
        free(items);
        free(data);
    } else {
        struct hoist_get_item *items = calloc(count, sizeof *items);
        if (!items) return fail("get", HOIST_ERR_NOMEM);
        for (uint64_t i = 0; i < count; i++) {
            items[i].url = urls[i];
            items[i].length = -1;
            items[i].dest = HOIST_DEST_ALLOC;
        }
        t0 = now();
        st = hoist_store_get_many(store, items, count, 0, NULL, NULL);
        t1 = now();
        if (st != HOIST_OK) rc = fail("get_many", st);
        for (uint64_t i = 0; i < count && rc == 0; i++)
            if (items[i].size != size) {
                fprintf(stderr, "hoist_store_bench: %s: got %" PRIu64 " bytes, expected %" PRIu64 "\n", urls[i],
                        items[i].size, size);
                rc = 1;
            }
        for (uint64_t i = 0; i < count; i++) hoist_store_get_item_reset(&items[i]);
        free(items);
    }
    struct hoist_store_stats stats;
    hoist_store_get_stats(store, &stats, sizeof stats);
    hoist_store_free(store);
    for (uint64_t i = 0; i < count; i++) free(urls[i]);
    free(urls);
    if (rc) return rc;
    double secs = t1 - t0;
    uint64_t bytes = count * size;
    printf("{\"op\":\"%s\",\"objects\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"gbit_s\":%.3f,"
           "\"requests\":%" PRIu64 ",\"retries\":%" PRIu64 "}\n",
           op, count, bytes, secs, secs > 0 ? (double)bytes * 8 / 1e9 / secs : 0.0, stats.requests, stats.retries);
    return 0;
}
