/* Fault injection: the store through tests/store/fault_relay.py, which
 * answers 503 SlowDown, cuts responses mid-body and stalls, in front of the
 * real local S3 server. Every object must arrive byte-exact, or the call
 * must fail with a clear error and leave nothing partial. Skipped unless
 * HOIST_TEST_S3=1. */
#include "store_internal.h"
#include "test_store_util.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t relay_pid[2];
static int relay_port[2];
static struct hoist_store *direct;
static char burl[96];
static char tmpdir[256];

static int start_relay(int idx, const char *rate) {
    const char *up = getenv("AWS_ENDPOINT_URL");
    const char *hostport = up && strstr(up, "://") ? strstr(up, "://") + 3 : "127.0.0.1:8333";
    char stats[300];
    snprintf(stats, sizeof stats, "%s/relay%d.stats", tmpdir, idx);
    /* The always-failing relay never passes a request through untouched:
     * a "corrupt" draw leaves bodies without a checksum intact. */
    const char *argv[] = {
        "python3",    "tests/store/fault_relay.py",
        "--upstream", hostport,
        "--rate",     rate,
        "--stall",    "4",
        "--seed",     idx ? "2" : "1",
        "--stats",    stats,
        "--kinds",    idx ? "slowdown,slowdown,cut,cut,stall" : "slowdown,slowdown,cut,cut,stall,corrupt",
        NULL};
    relay_port[idx] = stu_spawn_port(argv, &relay_pid[idx]);
    return relay_port[idx];
}

static void stop_relays(void) {
    for (int i = 0; i < 2; i++) {
        if (relay_pid[i] > 0) {
            kill(relay_pid[i], SIGTERM);
            waitpid(relay_pid[i], NULL, 0);
        }
    }
}

/* part_size 0: auto (get_many then reads whole objects as single streams
 * while others wait) */
static struct hoist_store *relay_store_with(int idx, int retries, int concurrency, int64_t part_size) {
    struct hoist_store_config *cfg;
    struct hoist_store *s = NULL;
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", relay_port[idx]);
    if (hoist_store_config_new(&cfg) != HOIST_OK) return NULL;
    if (hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, ep) != HOIST_OK ||
        hoist_store_config_set_int(cfg, HOIST_STORE_STALL_TIMEOUT, 2) != HOIST_OK ||
        hoist_store_config_set_int(cfg, HOIST_STORE_MAX_RETRIES, retries) != HOIST_OK ||
        hoist_store_config_set_int(cfg, HOIST_STORE_CONCURRENCY, concurrency) != HOIST_OK ||
        (part_size && hoist_store_config_set_int(cfg, HOIST_STORE_PART_SIZE, part_size) != HOIST_OK) ||
        hoist_store_new(cfg, &s) != HOIST_OK)
        s = NULL;
    hoist_store_config_free(cfg);
    return s;
}

/* 8 MiB parts: the 20 MiB objects go as ranged GETs and multipart uploads */
static struct hoist_store *relay_store(int idx, int retries) { return relay_store_with(idx, retries, 16, 8 << 20); }

enum { NOBJ = 40 };
static uint8_t *bodies[NOBJ];
static size_t sizes[NOBJ];
static char *urls[NOBJ];

static size_t obj_size(int i) {
    if (i < 3) return (size_t)(20u << 20) + (size_t)i * 12345; /* ranged parts / multipart */
    if (i == 3) return 0;
    return (size_t)((i * 7919) % (300 * 1024)) + 1;
}

/* A count from the relay's stats file ("ok=3 corrupted=2 ..."). */
static int relay_count(int idx, const char *name) {
    char path[300], line[512];
    snprintf(path, sizeof path, "%s/relay%d.stats", tmpdir, idx);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    int n = 0;
    if (fgets(line, sizeof line, f)) {
        char key[64];
        snprintf(key, sizeof key, "%s=", name);
        const char *p = strstr(line, key);
        if (p) n = (int)strtol(p + strlen(key), NULL, 10);
    }
    fclose(f);
    return n;
}

static int dir_is_clean(const char *d) {
    DIR *dd = opendir(d);
    if (dd == NULL) return 1;
    struct dirent *e;
    int bad = 0;
    while ((e = readdir(dd))) bad += strstr(e->d_name, ".hoist-") != NULL;
    closedir(dd);
    return bad == 0;
}

/* How many of the n in-memory items g[0..n) and files paths[0..n) hold
 * exactly bodies[i]: 2n when every download arrived intact. */
static int count_exact(const struct hoist_get_item *g, char (*paths)[300], int n) {
    int exact = 0;
    for (int i = 0; i < n; i++) {
        exact += g[i].status == HOIST_OK && g[i].size == sizes[i] && memcmp(g[i].data, bodies[i], sizes[i]) == 0;
        FILE *f = fopen(paths[i], "rb");
        if (f) {
            uint8_t *b = malloc(sizes[i] + 1);
            size_t r = fread(b, 1, sizes[i] + 1, f);
            exact += r == sizes[i] && memcmp(b, bodies[i], sizes[i]) == 0;
            free(b);
            fclose(f);
        }
    }
    return exact;
}

static void test_get_through_faults(void) {
    struct hoist_store *s = relay_store(0, 12);
    CHECK(s != NULL);
    if (s == NULL) return;
    struct hoist_get_item g[NOBJ * 2];
    memset(g, 0, sizeof g);
    char paths[NOBJ][300];
    for (int i = 0; i < NOBJ; i++) {
        g[i] = (struct hoist_get_item){.url = urls[i], .length = -1};
        snprintf(paths[i], sizeof paths[i], "%s/get/%02d.bin", tmpdir, i);
        g[NOBJ + i] = (struct hoist_get_item){.url = urls[i], .length = -1, .dest = HOIST_DEST_FILE, .path = paths[i]};
    }
    enum hoist_status st = hoist_store_get_many(s, g, NOBJ * 2, 0, NULL, NULL);
    if (st != HOIST_OK) fprintf(stderr, "  get through faults: %s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    int exact = count_exact(g, paths, NOBJ);
    CHECK_EQ_INT(exact, 2 * NOBJ);
    char d[300];
    snprintf(d, sizeof d, "%s/get", tmpdir);
    CHECK(dir_is_clean(d));
    for (int i = 0; i < NOBJ * 2; i++) hoist_store_get_item_reset(&g[i]);
    struct hoist_store_stats ss;
    hoist_store_get_stats(s, &ss, sizeof ss);
    fprintf(stderr, "  get: %llu requests, %llu retries\n", (unsigned long long)ss.requests,
            (unsigned long long)ss.retries);
    CHECK(ss.retries >= 5);
    /* each kind of fault happened, and corrupted bodies were caught by CRC32C */
    fprintf(stderr, "  relay: slowdown=%d cut=%d stall=%d corrupted=%d\n", relay_count(0, "slowdown"),
            relay_count(0, "cut"), relay_count(0, "stall"), relay_count(0, "corrupted"));
    CHECK(relay_count(0, "slowdown") > 0);
    CHECK(relay_count(0, "cut") > 0);
    CHECK(relay_count(0, "stall") > 0);
    CHECK(relay_count(0, "corrupted") > 0);
    hoist_store_free(s);
}

/* Auto part size through the same faults: the 20 MiB objects are then read
 * as single 20 MiB streams (few connections, many objects waiting), so a
 * cut or stall deep into one must restart it cleanly; into hoist memory
 * (prefaulted) and into files. */
static void test_get_whole_streams_through_faults(void) {
    struct hoist_store *s = relay_store_with(0, 20, 3, 0);
    CHECK(s != NULL);
    if (s == NULL) return;
    enum { K = 8 };
    struct hoist_get_item g[2 * K];
    char paths[K][300];
    memset(g, 0, sizeof g);
    for (int i = 0; i < K; i++) {
        g[i] = (struct hoist_get_item){.url = urls[i], .length = -1};
        snprintf(paths[i], sizeof paths[i], "%s/whole/%02d.bin", tmpdir, i);
        g[K + i] = (struct hoist_get_item){.url = urls[i], .length = -1, .dest = HOIST_DEST_FILE, .path = paths[i]};
    }
    enum hoist_status st = hoist_store_get_many(s, g, 2 * K, 0, NULL, NULL);
    if (st != HOIST_OK) fprintf(stderr, "  whole streams through faults: %s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    int exact = count_exact(g, paths, K);
    CHECK_EQ_INT(exact, 2 * K);
    for (int i = 0; i < 2 * K; i++) hoist_store_get_item_reset(&g[i]);
    struct hoist_store_stats ss;
    hoist_store_get_stats(s, &ss, sizeof ss);
    fprintf(stderr, "  whole streams: %llu requests, %llu retries\n", (unsigned long long)ss.requests,
            (unsigned long long)ss.retries);
    CHECK(ss.retries >= 1);
    hoist_store_free(s);
}

static void test_put_through_faults(void) {
    struct hoist_store *s = relay_store(0, 12);
    CHECK(s != NULL);
    if (s == NULL) return;
    struct hoist_put_item p[NOBJ];
    char *purls[NOBJ];
    memset(p, 0, sizeof p);
    for (int i = 0; i < NOBJ; i++) {
        purls[i] = hx_asprintf("%s/put/%02d", burl, i);
        p[i] = (struct hoist_put_item){.url = purls[i], .data = bodies[i], .size = sizes[i]};
    }
    enum hoist_status st = hoist_store_put_many(s, p, NOBJ, 0, NULL, NULL);
    if (st != HOIST_OK) fprintf(stderr, "  put through faults: %s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    struct hoist_get_item g[NOBJ];
    memset(g, 0, sizeof g);
    for (int i = 0; i < NOBJ; i++) g[i] = (struct hoist_get_item){.url = purls[i], .length = -1};
    CHECK_EQ_INT(hoist_store_get_many(direct, g, NOBJ, 0, NULL, NULL), HOIST_OK);
    int exact = 0;
    for (int i = 0; i < NOBJ; i++) {
        exact += g[i].status == HOIST_OK && g[i].size == sizes[i] && memcmp(g[i].data, bodies[i], sizes[i]) == 0;
        hoist_store_get_item_reset(&g[i]);
        hoist_store_put_item_reset(&p[i]);
    }
    CHECK_EQ_INT(exact, NOBJ);
    CHECK_EQ_INT(hoist_store_delete_many(direct, (const char *const *)purls, NOBJ), HOIST_OK);
    for (int i = 0; i < NOBJ; i++) hx_free(purls[i]);
    hoist_store_free(s);
}

static void test_always_failing(void) {
    /* every request faulted, 2 retries: a clear error, nothing partial */
    struct hoist_store *s = relay_store(1, 2);
    CHECK(s != NULL);
    if (s == NULL) return;
    char path[300];
    snprintf(path, sizeof path, "%s/fail/big.bin", tmpdir);
    struct hoist_get_item g[2] = {{.url = urls[0], .length = -1, .dest = HOIST_DEST_FILE, .path = path},
                                  {.url = urls[5], .length = -1}};
    double t0 = hx_now();
    enum hoist_status st = hoist_store_get_many(s, g, 2, 0, NULL, NULL);
    CHECK(st == HOIST_ERR_S3_SLOW_DOWN || st == HOIST_ERR_NET || st == HOIST_ERR_S3_TIMEOUT ||
          st == HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(hoist_errmsg(), "s3://");
    CHECK_CONTAINS(hoist_errmsg(), "attempts");
    CHECK(hx_now() - t0 < 60);
    CHECK(access(path, F_OK) != 0);
    char d[300];
    snprintf(d, sizeof d, "%s/fail", tmpdir);
    CHECK(dir_is_clean(d));
    CHECK(g[0].status != HOIST_OK && g[0].error != NULL && g[1].data == NULL);
    for (int i = 0; i < 2; i++) hoist_store_get_item_reset(&g[i]);
    /* a failing multipart upload leaves no object */
    char *u = hx_asprintf("%s/fail/mp", burl);
    struct hoist_put_item p = {.url = u, .data = bodies[0], .size = sizes[0]};
    CHECK(hoist_store_put_many(s, &p, 1, 0, NULL, NULL) != HOIST_OK);
    CHECK(p.error != NULL);
    hoist_store_put_item_reset(&p);
    struct hoist_info_item inf = {.url = u};
    CHECK_EQ_INT(hoist_store_info_many(direct, &inf, 1, 0), HOIST_ERR_S3_NO_SUCH_KEY);
    hoist_store_info_item_reset(&inf);
    hx_free(u);
    hoist_store_free(s);
}

int main(void) {
    if (!th_s3_enabled()) TEST_SKIP("HOIST_TEST_S3 is not 1 (needs the local S3 server)");
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hoist-faults-%d", (int)getpid());
    mkdir(tmpdir, 0700);
    stu_bucket_url(burl, sizeof burl, "hoist-faults");
    if (hoist_store_new(NULL, &direct) != HOIST_OK || hoist_store_bucket_create(direct, burl) != HOIST_OK) {
        fprintf(stderr, "setup: %s\n", hoist_errmsg());
        return 1;
    }
    if (start_relay(0, "0.2") < 0 || start_relay(1, "1.0") < 0) {
        fprintf(stderr, "could not start tests/store/fault_relay.py\n");
        stop_relays();
        return 1;
    }
    struct hoist_put_item p[NOBJ];
    memset(p, 0, sizeof p);
    for (int i = 0; i < NOBJ; i++) {
        sizes[i] = obj_size(i);
        bodies[i] = malloc(sizes[i] ? sizes[i] : 1);
        th_fill_bytes(bodies[i], sizes[i], (uint32_t)i + 1);
        urls[i] = hx_asprintf("%s/src/%02d", burl, i);
        p[i] = (struct hoist_put_item){.url = urls[i], .data = bodies[i], .size = sizes[i]};
    }
    CHECK_EQ_INT(hoist_store_put_many(direct, p, NOBJ, 0, NULL, NULL), HOIST_OK);
    for (int i = 0; i < NOBJ; i++) hoist_store_put_item_reset(&p[i]);
    RUN(test_get_through_faults);
    RUN(test_get_whole_streams_through_faults);
    RUN(test_put_through_faults);
    RUN(test_always_failing);
    stop_relays();
    enum hoist_status st = hoist_store_delete_many(direct, (const char *const *)urls, NOBJ);
    if (st != HOIST_OK) fprintf(stderr, "  cleanup: %s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    st = hoist_store_bucket_delete(direct, burl);
    if (st != HOIST_OK) fprintf(stderr, "  cleanup: %s\n", hoist_errmsg());
    CHECK_EQ_INT(st, HOIST_OK);
    for (int i = 0; i < NOBJ; i++) {
        free(bodies[i]);
        hx_free(urls[i]);
    }
    hoist_store_free(direct);
    th_remove_tree(tmpdir);
    TEST_MAIN_END();
}
