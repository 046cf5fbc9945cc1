/* The deferred commit (src/write/write_pending.c): tasks park their files
 * (commit=defer), a driver commits them all with one _SUCCESS or aborts
 * them and sweeps uploads of the write id nobody reported. file:// always,
 * the local S3 server when HOIST_TEST_S3=1. After an abort nothing is
 * visible and nothing is pending; an upload aborted while its task was
 * still running cannot be published afterwards. */
#include "arrow_internal.h"
#include "store_upload.h"
#include "test_harness.h"
#include "util_internal.h"
#include "write_test_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct hoist_store *store;
static char root[256]; /* file:// dir or s3://bucket */
static int seq;

/* A task's config: defer, the driver's write id, a template naming the task. */
static struct hoist_write_config *task_config(const char *wid, const char *task) {
    struct hoist_write_config *c = NULL;
    const char *by[1] = {"k"};
    char tpl[128];
    snprintf(tpl, sizeof tpl, "part-{id}-%s-{n}.parquet", task);
    if (hoist_write_config_new(&c) != HOIST_OK) return NULL;
    if (hoist_write_config_set_partition_by(c, by, 1) != HOIST_OK ||
        hoist_write_config_set_str(c, HOIST_WRITE_COMMIT, "defer") != HOIST_OK ||
        hoist_write_config_set_str(c, HOIST_WRITE_ID, wid) != HOIST_OK ||
        hoist_write_config_set_str(c, HOIST_WRITE_NAME_TEMPLATE, tpl) != HOIST_OK) {
        hoist_write_config_free(c);
        return NULL;
    }
    return c;
}

/* One task's write; its pending description (hoist_free) or NULL. */
static char *task(const char *url, const char *wid, const char *name) {
    struct ArrowArrayStream st;
    CHECK(make_stream(&st));
    struct hoist_write_config *c = task_config(wid, name);
    char *pending = NULL;
    enum hoist_status s = hoist_write_dataset(store, url, &st, c, &pending);
    if (s != HOIST_OK) fprintf(stderr, "task %s: %s\n", name, hoist_errmsg());
    CHECK_EQ_INT(s, HOIST_OK);
    hoist_write_config_free(c);
    return pending;
}

/* Objects a reader could see under url (hidden temp files do not count). */
static size_t visible(const char *url) {
    char *prefix = hx_asprintf("%s/", url);
    const char *p[1] = {prefix};
    struct hoist_list l;
    size_t n = 0;
    if (hoist_store_list(store, p, 1, 1, &l) == HOIST_OK) {
        for (size_t i = 0; i < l.count; i++) {
            const char *leaf = strrchr(l.entries[i].url, '/');
            n += !l.entries[i].is_prefix && leaf && leaf[1] != '.';
        }
        hoist_store_list_reset(&l);
    }
    hx_free(prefix);
    return n;
}

static size_t pending(const char *url) {
    char *prefix = hx_asprintf("%s/", url);
    struct hoist_list l;
    size_t n = (size_t)-1;
    if (hx_upload_list_pending(store, prefix, &l) == HOIST_OK) {
        n = l.count;
        hoist_store_list_reset(&l);
    }
    hx_free(prefix);
    return n;
}

static char *new_url(const char *what) { return hx_asprintf("%s/%s-%d", root, what, seq++); }

static void test_commit(void) {
    char *url = new_url("commit");
    char *a = task(url, "w1-commit", "ta"), *b = task(url, "w1-commit", "tb");
    CHECK(a && b);
    CHECK_CONTAINS(a, "\"format\":\"hoist-pending\"");
    CHECK_CONTAINS(a, "\"upload\":{\"id\":");
    CHECK_EQ_INT(visible(url), 0); /* parked: nothing to see */
    CHECK(pending(url) >= 12);     /* 6 partitions per task */
    const char *all[2] = {a, b};
    char *manifest = NULL;
    CHECK_EQ_INT(hoist_write_commit_pending(store, url, all, 2, NULL, &manifest), HOIST_OK);
    CHECK_CONTAINS(manifest, "\"format\": \"hoist-manifest\"");
    CHECK_CONTAINS(manifest, "\"rows\": 360");
    CHECK_CONTAINS(manifest, "part-w1-commit-ta-0.parquet");
    CHECK_CONTAINS(manifest, "part-w1-commit-tb-0.parquet");
    CHECK(manifest && strstr(manifest, "upload") == NULL);
    CHECK_EQ_INT(visible(url), 13); /* 12 files and _SUCCESS */
    CHECK_EQ_INT(pending(url), 0);
    /* The hoist reader follows the manifest and gets every row. */
    struct hoist_dataset *ds = NULL;
    const char *urls[1] = {url};
    CHECK_EQ_INT(hoist_dataset_open(store, urls, 1, NULL, &ds), HOIST_OK);
    struct ArrowArrayStream rows;
    if (ds && hoist_dataset_scan(ds, &rows) == HOIST_OK) {
        CHECK_EQ_INT(th_drain_stream(&rows), 360);
        rows.release(&rows);
    }
    hoist_dataset_close(ds);
    hoist_free(manifest);
    hoist_free(a);
    hoist_free(b);
    hx_free(url);
}

/* The job failed: one task reported, one died before reporting (its uploads
 * are known only to the store). Abort takes both, leaves nothing. */
static void test_abort_sweeps(void) {
    char *url = new_url("abort");
    char *a = task(url, "w2-abort", "ta"), *b = task(url, "w2-abort", "tb");
    char *other = new_url("other");
    char *c = task(url, "w2-abort2", "tc"); /* another write under the same root, its id longer: left alone */
    const char *reported[1] = {a};
    CHECK_EQ_INT(hoist_write_abort_pending(store, url, "w2-abort", reported, 1), HOIST_OK);
    CHECK_EQ_INT(visible(url), 0);
    CHECK_EQ_INT(pending(url), 6); /* only c's: "w2-abort" is not "w2-abort2" */
    const char *cs[1] = {c};
    CHECK_EQ_INT(hoist_write_abort_pending(store, url, NULL, cs, 1), HOIST_OK);
    CHECK_EQ_INT(pending(url), 0);
    if (strncmp(url, "file://", 7) == 0) {
        struct stat sb;
        char path[300];
        snprintf(path, sizeof path, "%s/k=1", url + 7);
        CHECK(stat(path, &sb) != 0); /* empty partition directories are gone */
    }
    hoist_free(a);
    hoist_free(b);
    hoist_free(c);
    hx_free(other);
    hx_free(url);
}

/* The ordering that raced: the driver aborts while a task still holds its
 * description, then the task (or anyone) tries to publish it. It cannot:
 * the uploads are gone, and the failed commit leaves nothing either. */
static void test_abort_before_late_task(void) {
    char *url = new_url("late");
    char *fast = task(url, "w3-late", "fast");
    char *slow = task(url, "w3-late", "slow"); /* parked; its report never reached the driver */
    const char *reported[1] = {fast};
    CHECK_EQ_INT(hoist_write_abort_pending(store, url, "w3-late", reported, 1), HOIST_OK);
    const char *late[2] = {fast, slow};
    CHECK(hoist_write_commit_pending(store, url, late, 2, NULL, NULL) != HOIST_OK);
    CHECK_EQ_INT(visible(url), 0);
    CHECK_EQ_INT(pending(url), 0);
    hoist_free(fast);
    hoist_free(slow);
    hx_free(url);
}

/* The ordering that raced, inside one task: the driver's abort (a sweep by
 * write id: the task never reported) lands while the task is still writing,
 * after its files were opened. The task then goes on: on S3 its next part
 * finds the upload gone and the task fails, taking back the rest; on
 * file:// its temp files were removed under it and the description it
 * returns cannot be published. Either way nothing is visible or pending. */
static char *late_url;

static void driver_aborts(void) {
    CHECK_EQ_INT(hoist_write_abort_pending(store, late_url, "w7-mid", NULL, 0), HOIST_OK);
}

static void test_abort_while_task_writes(void) {
    late_url = new_url("mid");
    struct ArrowArrayStream st;
    CHECK(make_stream(&st));
    struct hoist_write_config *c = task_config("w7-mid", "slow");
    char *desc = NULL;
    gen_between_batches = driver_aborts;
    enum hoist_status s = hoist_write_dataset(store, late_url, &st, c, &desc);
    gen_between_batches = NULL;
    if (strncmp(late_url, "s3://", 5) == 0) {
        CHECK(s != HOIST_OK);
        CHECK(desc == NULL);
    } else {
        CHECK_EQ_INT(s, HOIST_OK);
        const char *d[1] = {desc};
        CHECK(hoist_write_commit_pending(store, late_url, d, 1, NULL, NULL) != HOIST_OK);
    }
    CHECK_EQ_INT(visible(late_url), 0);
    CHECK_EQ_INT(pending(late_url), 0);
    hoist_free(desc);
    hoist_write_config_free(c);
    hx_free(late_url);
}

/* A commit whose second task's uploads vanished: the first task's files,
 * already completed, are taken back; nothing is published. */
static void test_commit_all_or_nothing(void) {
    char *url = new_url("aon");
    char *a = task(url, "w4-aon", "ta"), *b = task(url, "w4-aon", "tb");
    const char *only_b[1] = {b};
    CHECK_EQ_INT(hoist_write_abort_pending(store, url, "w4-aon-x", only_b, 1), HOIST_OK);
    const char *all[2] = {a, b};
    CHECK(hoist_write_commit_pending(store, url, all, 2, NULL, NULL) != HOIST_OK);
    CHECK_EQ_INT(visible(url), 0);
    CHECK_EQ_INT(pending(url), 0);
    hoist_free(a);
    hoist_free(b);
    hx_free(url);
}

/* Descriptions come from other processes: a path leaving the root, another
 * root, a second write id are refused before anything is done. */
static void test_bad_descriptions(void) {
    char *url = new_url("bad");
    char *a = task(url, "w5-bad", "ta");
    char *forged = hx_strdup(a);
    char *p = strstr(forged, "\"path\":\"k=");
    CHECK(p != NULL);
    if (p) memcpy(p + 8, "../", 3);
    const char *f[1] = {forged};
    CHECK_EQ_INT(hoist_write_commit_pending(store, url, f, 1, NULL, NULL), HOIST_ERR_UNSAFE_KEY);
    char *elsewhere = new_url("elsewhere");
    const char *aa[1] = {a};
    CHECK_EQ_INT(hoist_write_commit_pending(store, elsewhere, aa, 1, NULL, NULL), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "was written under");
    CHECK_EQ_INT(hoist_write_commit_pending(store, url, aa, 0, NULL, NULL), HOIST_ERR_INVALID_ARG);
    /* a write id no writer could have used (it would choose what a sweep aborts) */
    char *noid = hx_strdup(a);
    char *q = noid ? strstr(noid, "\"write_id\":\"w5-bad\"") : NULL;
    CHECK(q != NULL);
    if (q) memmove(q + 12, q + 18, strlen(q + 18) + 1); /* "write_id":"" */
    const char *ni[1] = {noid};
    CHECK_EQ_INT(hoist_write_commit_pending(store, url, ni, 1, NULL, NULL), HOIST_ERR_INVALID_ARG);
    CHECK_CONTAINS(hoist_errmsg(), "write id ''");
    hx_free(noid);
    struct hoist_write_config *c = NULL;
    CHECK_EQ_INT(hoist_write_config_new(&c), HOIST_OK);
    CHECK_EQ_INT(hoist_write_config_set_str(c, HOIST_WRITE_ID, "a/b"), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_write_config_set_str(c, HOIST_WRITE_COMMIT, "later"), HOIST_ERR_INVALID_ARG);
    hoist_write_config_free(c);
    CHECK_EQ_INT(visible(url), 0);
    CHECK_EQ_INT(hoist_write_abort_pending(store, url, NULL, aa, 1), HOIST_OK);
    CHECK_EQ_INT(pending(url), 0);
    hoist_free(a);
    hx_free(forged);
    hx_free(elsewhere);
    hx_free(url);
}

/* append keeps the old manifest's files; lineage lands in the manifest. */
static void test_append_lineage(void) {
    char *url = new_url("append");
    char *a = task(url, "w6-first", "ta");
    const char *aa[1] = {a};
    CHECK_EQ_INT(hoist_write_commit_pending(store, url, aa, 1, NULL, NULL), HOIST_OK);
    char *b = task(url, "w6-second", "tb");
    struct hoist_write_config *c = NULL;
    CHECK_EQ_INT(hoist_write_config_new(&c), HOIST_OK);
    CHECK_EQ_INT(hoist_write_config_set_str(c, HOIST_WRITE_EXISTING, "append"), HOIST_OK);
    CHECK_EQ_INT(hoist_write_config_set_str(c, HOIST_WRITE_LINEAGE_JSON, "{\"run\": 7}"), HOIST_OK);
    const char *bb[1] = {b};
    char *manifest = NULL;
    CHECK_EQ_INT(hoist_write_commit_pending(store, url, bb, 1, c, &manifest), HOIST_OK);
    CHECK_CONTAINS(manifest, "\"rows\": 360");
    CHECK_CONTAINS(manifest, "part-w6-first-ta-0.parquet");
    CHECK_CONTAINS(manifest, "\"run\": 7");
    CHECK_CONTAINS(manifest, "\"existing\": \"append\"");
    hoist_free(manifest);
    hoist_write_config_free(c);
    hoist_free(a);
    hoist_free(b);
    hx_free(url);
}

/* Every allocation failed in turn (file://): a deferred task write either
 * succeeds or leaves nothing; a commit either publishes everything or
 * fails, after which an abort leaves nothing. ASan checks the leaks. */
static void test_alloc_failures(void) {
    const char *stride_env = getenv("HOIST_TEST_ALLOC_STRIDE");
    uint64_t stride = stride_env ? strtoull(stride_env, NULL, 10) : 1;
    if (stride == 0) stride = 1;
    int ok_seen = 0;
    for (uint64_t n = 1; n < 5000 && !ok_seen; n += stride) {
        char *url = new_url("af-task");
        struct ArrowArrayStream st;
        if (!make_stream(&st)) break;
        struct hoist_write_config *c = task_config("w8-af", "ta");
        char *desc = NULL;
        hx_alloc_fail_after(n);
        enum hoist_status s = hoist_write_dataset(store, url, &st, c, &desc);
        hx_alloc_fail_after(0);
        if (s == HOIST_OK) {
            ok_seen = 1;
            const char *d[1] = {desc};
            CHECK_EQ_INT(hoist_write_abort_pending(store, url, NULL, d, 1), HOIST_OK);
        }
        CHECK_EQ_INT(visible(url), 0);
        CHECK_EQ_INT(pending(url), 0);
        hoist_free(desc);
        hoist_write_config_free(c);
        hx_free(url);
    }
    CHECK(ok_seen);
    ok_seen = 0;
    for (uint64_t n = 1; n < 5000 && !ok_seen; n += stride) {
        char *url = new_url("af-commit");
        char *a = task(url, "w9-af", "ta"), *b = task(url, "w9-af", "tb");
        const char *all[2] = {a, b};
        char *manifest = NULL;
        hx_alloc_fail_after(n);
        enum hoist_status s = hoist_write_commit_pending(store, url, all, 2, NULL, &manifest);
        hx_alloc_fail_after(0);
        if (s == HOIST_OK) {
            ok_seen = 1;
            CHECK_EQ_INT(visible(url), 13);
        } else {
            CHECK(manifest == NULL);
            CHECK_EQ_INT(visible(url), 0);
            CHECK_EQ_INT(hoist_write_abort_pending(store, url, "w9-af", all, 2), HOIST_OK);
        }
        CHECK_EQ_INT(pending(url), 0);
        hoist_free(manifest);
        hoist_free(a);
        hoist_free(b);
        hx_free(url);
    }
    CHECK(ok_seen);
}

static void run_all(void) {
    RUN(test_commit);
    RUN(test_abort_sweeps);
    RUN(test_abort_before_late_task);
    RUN(test_abort_while_task_writes);
    RUN(test_commit_all_or_nothing);
    RUN(test_bad_descriptions);
    RUN(test_append_lineage);
}

int main(void) {
    if (hoist_store_new(NULL, &store) != HOIST_OK) {
        fprintf(stderr, "store: %s\n", hoist_errmsg());
        return 1;
    }
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/hoist-pending-test-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(root, sizeof root, "file://%s", dir);
    run_all();
    RUN(test_alloc_failures);
    th_remove_tree(dir);
    if (th_s3_enabled()) {
        snprintf(root, sizeof root, "s3://hoist-pending-%d-%ld", (int)getpid(), (long)(hx_now() * 1000) % 100000);
        CHECK_EQ_INT(hoist_store_bucket_create(store, root), HOIST_OK);
        run_all();
        /* leave nothing behind: the committed datasets, the bucket */
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%s/", root);
        const char *p[1] = {prefix};
        struct hoist_list l;
        CHECK_EQ_INT(hoist_store_list(store, p, 1, 1, &l), HOIST_OK);
        const char **urls = calloc(l.count + 1, sizeof *urls);
        for (size_t i = 0; i < l.count; i++) urls[i] = l.entries[i].url;
        CHECK_EQ_INT(hoist_store_delete_many(store, urls, l.count), HOIST_OK);
        free(urls);
        hoist_store_list_reset(&l);
        CHECK_EQ_INT(pending(root), 0);
        CHECK_EQ_INT(hoist_store_bucket_delete(store, root), HOIST_OK);
    } else {
        fprintf(stderr, "s3 part skipped: HOIST_TEST_S3 is not 1\n");
    }
    hoist_store_free(store);
    TEST_MAIN_END();
}
