/* Memory with many objects (issue 12, finding 5), measured with a counting
 * allocator against the local S3 server: the streaming listing (store_list.c:
 * same entries and order as hoist_store_list, one page held) and the item
 * windows of get_many/put_many (store.c). The figures it prints are the ones
 * docs/store.md quotes. */
#include "store_internal.h"
#include "test_store_util.h"

#include <stdatomic.h>
#include <sys/stat.h>

/* A counting allocator: hoist's bytes in use and their peak. */
static atomic_llong in_use, peak;
static void note(long long d) {
    long long now = atomic_fetch_add(&in_use, d) + d;
    long long p = atomic_load(&peak);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
    }
}
static void *c_malloc(size_t n) {
    size_t *p = malloc(n + 16);
    if (!p) return NULL;
    *p = n;
    note((long long)n);
    return (char *)p + 16;
}
static void *c_calloc(size_t k, size_t n) {
    void *p = c_malloc(k * n);
    if (p) memset(p, 0, k * n);
    return p;
}
static void c_free(void *q) {
    if (!q) return;
    size_t *p = (size_t *)((char *)q - 16);
    note(-(long long)*p);
    free(p);
}
static void *c_realloc(void *q, size_t n) {
    if (!q) return c_malloc(n);
    size_t *p = (size_t *)((char *)q - 16);
    size_t old = *p;
    size_t *r = realloc(p, n + 16);
    if (!r) return NULL;
    *r = n;
    note((long long)n - (long long)old);
    return (char *)r + 16;
}
static void peak_reset(void) { atomic_store(&peak, atomic_load(&in_use)); }
static long long peak_above(long long base) { return atomic_load(&peak) - base; }

#define NKEYS 3000

static void test_s3_iterator(void) {
    char burl[128];
    stu_bucket_url(burl, sizeof burl, "hoist-list-iter");
    struct hoist_store *s = stu_store_with_bucket(burl);
    if (s == NULL) return;
    struct hoist_put_item *items = calloc(NKEYS, sizeof *items);
    char **urls = calloc(NKEYS, sizeof *urls);
    for (int i = 0; i < NKEYS; i++) {
        urls[i] = hx_asprintf("%s/p/%s/k%05d", burl, i % 3 == 0 ? "a" : "b", i);
        items[i] = (struct hoist_put_item){.url = urls[i], .data = "x", .size = 1};
    }
    CHECK_EQ_INT(hoist_store_put_many(s, items, NKEYS, 0, NULL, NULL), HOIST_OK);
    for (int i = 0; i < NKEYS; i++) hoist_store_put_item_reset(&items[i]);
    char *prefix = hx_asprintf("%s/p", burl);
    const char *prefixes[1] = {prefix};

    /* the whole list, and its peak memory */
    long long base = atomic_load(&in_use);
    peak_reset();
    struct hoist_list all;
    CHECK_EQ_INT(hoist_store_list(s, prefixes, 1, 1, &all), HOIST_OK);
    long long list_peak = peak_above(base);
    CHECK_EQ_INT(all.count, NKEYS);

    /* the iterator: same entries, same order, one page at a time */
    base = atomic_load(&in_use);
    peak_reset();
    struct hoist_list_iter *it = NULL;
    CHECK_EQ_INT(hoist_store_list_open(s, prefix, 1, &it), HOIST_OK);
    size_t n = 0;
    const struct hoist_list_entry *e = NULL;
    while (hoist_store_list_next(it, &e) == HOIST_OK && e != NULL) {
        if (n < all.count) CHECK_STR(e->url, all.entries[n].url);
        CHECK(e->size == 1 && !e->is_prefix && strcmp(e->prefix, prefix) == 0);
        n++;
    }
    CHECK(e == NULL);
    CHECK_EQ_INT(n, NKEYS);
    hoist_store_list_close(it);
    long long iter_peak = peak_above(base);
    hoist_store_list_reset(&all);
    printf("list of %d keys: peak %lld bytes (%.0f per key); iterator: peak %lld bytes\n", NKEYS, list_peak,
           (double)list_peak / NKEYS, iter_peak);
    CHECK(iter_peak * 2 < list_peak); /* 3 pages listed, one held */

    /* one level: the two common prefixes */
    CHECK_EQ_INT(hoist_store_list_open(s, prefix, 0, &it), HOIST_OK);
    n = 0;
    while (hoist_store_list_next(it, &e) == HOIST_OK && e != NULL) {
        CHECK(e->is_prefix);
        n++;
    }
    CHECK_EQ_INT(n, 2);
    hoist_store_list_close(it);

    /* rm -r's pattern: deleting behind the listing, 1,000 at a time */
    CHECK_EQ_INT(hoist_store_list_open(s, prefix, 1, &it), HOIST_OK);
    const char *batch[1000];
    size_t nb = 0, seen = 0;
    char *keep[1000];
    for (;;) {
        CHECK_EQ_INT(hoist_store_list_next(it, &e), HOIST_OK);
        if (e) {
            keep[nb] = hx_strdup(e->url);
            batch[nb] = keep[nb];
            nb++;
            seen++;
        }
        if (nb == 1000 || (e == NULL && nb > 0)) {
            CHECK_EQ_INT(hoist_store_delete_many(s, batch, nb), HOIST_OK);
            for (size_t i = 0; i < nb; i++) hx_free(keep[i]);
            nb = 0;
        }
        if (e == NULL) break;
    }
    hoist_store_list_close(it);
    CHECK_EQ_INT(seen, NKEYS);
    CHECK_EQ_INT(hoist_store_list(s, prefixes, 1, 1, &all), HOIST_OK);
    CHECK_EQ_INT(all.count, 0);
    hoist_store_list_reset(&all);

    /* a missing bucket fails at the first next, naming it */
    char *missing = hx_asprintf("%s-missing/x", burl);
    CHECK_EQ_INT(hoist_store_list_open(s, missing, 1, &it), HOIST_OK);
    CHECK(hoist_store_list_next(it, &e) != HOIST_OK);
    CHECK_CONTAINS(hoist_errmsg(), "-missing");
    hoist_store_list_close(it);

    CHECK_EQ_INT(hoist_store_bucket_delete(s, burl), HOIST_OK);
    for (int i = 0; i < NKEYS; i++) hx_free(urls[i]);
    free(urls);
    free(items);
    hx_free(prefix), hx_free(missing);
    hoist_store_free(s);
}

/* put_many and get_many of more items than one window (store.c; 10,000 by
 * default, 1,000 here to keep the test short): every item done, progress
 * over the whole call, and the peak of hoist's own memory bounded by the
 * window, not by n. */
#define NWIN 4000
#define WINDOW 1000
struct prog {
    uint64_t last_done, total;
    int backwards;
};
static int on_progress(const struct hoist_progress *p, void *ud) {
    struct prog *g = ud;
    if (p->objects_done < g->last_done) g->backwards = 1;
    g->last_done = p->objects_done;
    g->total = p->objects_total;
    return 0;
}

static void test_item_windows(void) {
    char burl[128];
    stu_bucket_url(burl, sizeof burl, "hoist-windows");
    struct hoist_store *s = stu_store_with_bucket(burl);
    if (s == NULL) return;
    s->item_window = WINDOW;
    struct hoist_put_item *puts = calloc(NWIN, sizeof *puts);
    struct hoist_get_item *gets = calloc(NWIN, sizeof *gets);
    char **urls = calloc(NWIN, sizeof *urls);
    static char bodies[NWIN][8];
    for (int i = 0; i < NWIN; i++) {
        urls[i] = hx_asprintf("%s/w/k%06d", burl, i);
        snprintf(bodies[i], sizeof bodies[i], "%06d", i);
        puts[i] = (struct hoist_put_item){.url = urls[i], .data = bodies[i], .size = 6};
        gets[i] = (struct hoist_get_item){.url = urls[i], .length = -1};
    }
    long long base = atomic_load(&in_use);
    peak_reset();
    struct prog g = {0};
    CHECK_EQ_INT(hoist_store_put_many(s, puts, NWIN, 0, on_progress, &g), HOIST_OK);
    long long put_peak = peak_above(base);
    /* put_many has no final report (ticks are 50 ms apart): past the first window is what counts */
    CHECK(!g.backwards && g.total == NWIN && g.last_done > WINDOW);
    for (int i = 0; i < NWIN; i++) {
        CHECK_EQ_INT(puts[i].status, HOIST_OK);
        hoist_store_put_item_reset(&puts[i]);
    }
    base = atomic_load(&in_use);
    peak_reset();
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(hoist_store_get_many(s, gets, NWIN, 0, on_progress, &g), HOIST_OK);
    long long get_peak = peak_above(base);
    CHECK(!g.backwards && g.total == NWIN && g.last_done == NWIN);
    int same = 1;
    for (int i = 0; i < NWIN; i++) same &= gets[i].size == 6 && memcmp(gets[i].data, bodies[i], 6) == 0;
    CHECK(same);
    /* what the caller keeps (6-byte bodies, info strings) is not the call's state */
    long long kept = atomic_load(&in_use) - base;
    for (int i = 0; i < NWIN; i++) hoist_store_get_item_reset(&gets[i]);
    printf("%d items: put_many peak %lld bytes (%.0f per item); get_many peak %lld bytes, %lld kept in the items "
           "(%.0f per item of call state)\n",
           NWIN, put_peak, (double)put_peak / NWIN, get_peak, kept, (double)(get_peak - kept) / NWIN);
    /* ~2 KB per item in flight: one window is ~2 MB, all 4,000 items ~8 MB */
    CHECK(put_peak < (4000LL << 10) * WINDOW / 1000);
    CHECK(get_peak - kept < (4000LL << 10) * WINDOW / 1000);
    stu_empty_bucket(s, burl);
    CHECK_EQ_INT(hoist_store_bucket_delete(s, burl), HOIST_OK);
    for (int i = 0; i < NWIN; i++) hx_free(urls[i]);
    free(urls), free(puts), free(gets);
    hoist_store_free(s);
}

static void test_file_iterator(void) {
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/hoist-test-list-%d", (int)getpid());
    CHECK(mkdir(dir, 0777) == 0);
    for (int i = 0; i < 5; i++) {
        char p[192];
        snprintf(p, sizeof p, "%s/f%d", dir, 4 - i);
        FILE *f = fopen(p, "w");
        if (f) fclose(f);
    }
    struct hoist_store *s = NULL;
    CHECK_EQ_INT(hoist_store_new(NULL, &s), HOIST_OK);
    struct hoist_list_iter *it = NULL;
    CHECK_EQ_INT(hoist_store_list_open(s, dir, 1, &it), HOIST_OK);
    const struct hoist_list_entry *e = NULL;
    int n = 0;
    while (hoist_store_list_next(it, &e) == HOIST_OK && e != NULL) {
        char want[192];
        snprintf(want, sizeof want, "%s/f%d", dir, n++);
        CHECK_STR(e->url, want);
    }
    CHECK_EQ_INT(n, 5);
    hoist_store_list_close(it);
    CHECK_EQ_INT(hoist_store_list_open(s, "gs://x/y", 1, &it), HOIST_ERR_BAD_URL);
    CHECK(it == NULL);
    hoist_store_free(s);
    th_remove_tree(dir);
}

int main(void) {
    const struct hoist_allocator counting = {c_malloc, c_calloc, c_realloc, c_free};
    hoist_allocator_set(&counting);
    RUN(test_file_iterator);
    if (!th_s3_enabled()) TEST_SKIP("HOIST_TEST_S3 is not 1 (needs the local S3 server)");
    RUN(test_s3_iterator);
    RUN(test_item_windows);
    TEST_MAIN_END();
}
