/* Tests of hoist_store_get_prefix and hoist_store_join_path: file://
 * prefixes always; the local S3 server with HOIST_TEST_S3=1; hostile keys a
 * real server refuses to store through a scripted endpoint
 * (hostile_server.py keys) that lists them anyway. */
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

static char tmpdir[256];

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = malloc(1 << 16);
    *n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    buf[*n < (1 << 16) ? *n : (1 << 16) - 1] = '\0';
    return buf;
}

static int file_is(const char *dir, const char *rel, const char *want) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    size_t n = 0;
    char *got = read_file(path, &n);
    int ok = got != NULL && n == strlen(want) && memcmp(got, want, n) == 0;
    free(got);
    return ok;
}

static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) != 0) continue;
        n += S_ISDIR(sb.st_mode) ? count_files(p) : 1;
    }
    closedir(d);
    return n;
}

static void put_text(struct hoist_store *st, const char *url, const char *text) {
    struct hoist_put_item it = {.url = url, .data = text, .size = strlen(text)};
    CHECK_EQ_INT(hoist_store_put_many(st, &it, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_put_item_reset(&it);
}

static void test_join_path(void) {
    char *p = NULL;
    CHECK_EQ_INT(hoist_store_join_path("/d/", "a/b.txt", &p), HOIST_OK);
    CHECK(p && strcmp(p, "/d/a/b.txt") == 0);
    hoist_free(p);
    const char *bad[] = {"", "/abs", "..", "../x", "a/../../b", "a//b", "a/", "./x", "x/.", "x/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = NULL;
        CHECK_EQ_INT(hoist_store_join_path("/d", bad[i], &p), HOIST_ERR_UNSAFE_KEY);
        CHECK(p == NULL);
        CHECK_CONTAINS(hoist_errmsg(), "unsafe key");
    }
    CHECK_EQ_INT(hoist_store_join_path("/d", "x", NULL), HOIST_ERR_INVALID_ARG);
}

/* The common checks of one store: nested names, the prefix as a directory,
 * placeholders, no-overwrite, an empty prefix. base: "s3://b" or a file://
 * directory URL, under which the tree is written. */
static void check_prefix_download(struct hoist_store *st, const char *base, const char *tag) {
    char url[600], dest[400];
    const char *keys[] = {"t/top.txt", "t/nested/deeper/leaf.txt", "t/unicodé/日本 ファイル.txt", "t_other/no.txt"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(url, sizeof url, "%s/%s", base, keys[i]);
        put_text(st, url, keys[i]);
    }
    snprintf(dest, sizeof dest, "%s/%s-dest", tmpdir, tag);
    snprintf(url, sizeof url, "%s/t", base); /* no '/': still a directory */
    struct hoist_prefix_files files;
    CHECK_EQ_INT(hoist_store_get_prefix(st, url, dest, 0, NULL, NULL, &files), HOIST_OK);
    CHECK_EQ_INT(files.count, 3);
    for (size_t i = 0; i < files.count; i++) {
        CHECK_EQ_INT(files.files[i].status, HOIST_OK);
        CHECK(files.files[i].error == NULL);
        CHECK(strncmp(files.files[i].path, dest, strlen(dest)) == 0);
    }
    hoist_store_prefix_files_reset(&files);
    CHECK(files.files == NULL && files.count == 0);
    CHECK(file_is(dest, "top.txt", "t/top.txt"));
    CHECK(file_is(dest, "nested/deeper/leaf.txt", "t/nested/deeper/leaf.txt"));
    CHECK(file_is(dest, "unicodé/日本 ファイル.txt", "t/unicodé/日本 ファイル.txt"));
    CHECK_EQ_INT(count_files(dest), 3); /* t_other/ is not under t/ */

    /* No-overwrite: the local file stays, the missing ones are fetched. */
    char local[600];
    snprintf(local, sizeof local, "%s/nested/deeper/leaf.txt", dest);
    CHECK(unlink(local) == 0);
    snprintf(local, sizeof local, "%s/unicodé/日本 ファイル.txt", dest);
    CHECK(unlink(local) == 0);
    snprintf(local, sizeof local, "%s/top.txt", dest);
    FILE *f = fopen(local, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("mine", f);
        fclose(f);
    }
    CHECK_EQ_INT(hoist_store_get_prefix(st, url, dest, HOIST_NO_OVERWRITE, NULL, NULL, &files), HOIST_OK);
    CHECK_EQ_INT(files.count, 3);
    size_t skipped = 0;
    for (size_t i = 0; i < files.count; i++)
        if (files.files[i].status == HOIST_ERR_EXISTS) {
            skipped++;
            CHECK_CONTAINS(files.files[i].path, "top.txt");
        }
    CHECK_EQ_INT(skipped, 1);
    hoist_store_prefix_files_reset(&files);
    CHECK(file_is(dest, "top.txt", "mine"));
    CHECK(file_is(dest, "nested/deeper/leaf.txt", "t/nested/deeper/leaf.txt"));
    CHECK(file_is(dest, "unicodé/日本 ファイル.txt", "t/unicodé/日本 ファイル.txt"));

    /* Without the flag it is replaced; out may be NULL. */
    CHECK_EQ_INT(hoist_store_get_prefix(st, url, dest, 0, NULL, NULL, NULL), HOIST_OK);
    CHECK(file_is(dest, "top.txt", "t/top.txt"));

    /* An empty prefix is no error and writes nothing. */
    snprintf(url, sizeof url, "%s/nothing-here/", base);
    snprintf(dest, sizeof dest, "%s/%s-empty", tmpdir, tag);
    CHECK_EQ_INT(hoist_store_get_prefix(st, url, dest, 0, NULL, NULL, &files), HOIST_OK);
    CHECK_EQ_INT(files.count, 0);
    hoist_store_prefix_files_reset(&files);
    CHECK_EQ_INT(count_files(dest), 0);

    CHECK_EQ_INT(hoist_store_get_prefix(st, url, "", 0, NULL, NULL, &files), HOIST_ERR_INVALID_ARG);
    CHECK_EQ_INT(hoist_store_get_prefix(st, url, dest, 0x80, NULL, NULL, &files), HOIST_ERR_INVALID_ARG);
}

static void test_file_prefix(void) {
    struct hoist_store *st;
    CHECK_EQ_INT(hoist_store_new(NULL, &st), HOIST_OK);
    char base[400];
    snprintf(base, sizeof base, "file://%s/src", tmpdir);
    check_prefix_download(st, base, "file");
    hoist_store_free(st);
}

static int progress_calls;
static int count_progress(const struct hoist_progress *p, void *ud) {
    (void)p, (void)ud;
    progress_calls++;
    return 0;
}

static void test_s3_prefix(void) {
    if (!th_s3_enabled()) {
        fprintf(stderr, "  (skipped: HOIST_TEST_S3 is not 1)\n");
        return;
    }
    struct hoist_store *st;
    CHECK_EQ_INT(hoist_store_new(NULL, &st), HOIST_OK);
    char burl[96];
    stu_bucket_url(burl, sizeof burl, "hoist-prefix");
    CHECK_EQ_INT(hoist_store_bucket_create(st, burl), HOIST_OK);
    check_prefix_download(st, burl, "s3");

    /* A "dir/" placeholder holds no data and makes no file; progress runs. */
    char url[200], dest[400];
    snprintf(url, sizeof url, "%s/ph/dir/", burl);
    put_text(st, url, "");
    snprintf(url, sizeof url, "%s/ph/dir/real.txt", burl);
    put_text(st, url, "real");
    snprintf(url, sizeof url, "%s/ph/", burl);
    snprintf(dest, sizeof dest, "%s/ph-dest", tmpdir);
    struct hoist_prefix_files files;
    progress_calls = 0;
    CHECK_EQ_INT(hoist_store_get_prefix(st, url, dest, 0, count_progress, NULL, &files), HOIST_OK);
    CHECK_EQ_INT(files.count, 1);
    CHECK(progress_calls > 0);
    hoist_store_prefix_files_reset(&files);
    CHECK(file_is(dest, "dir/real.txt", "real"));
    CHECK_EQ_INT(count_files(dest), 1);

    /* The whole bucket (its root as the prefix). */
    snprintf(dest, sizeof dest, "%s/root-dest", tmpdir);
    CHECK_EQ_INT(hoist_store_get_prefix(st, burl, dest, 0, NULL, NULL, &files), HOIST_OK);
    CHECK(files.count >= 5);
    hoist_store_prefix_files_reset(&files);
    CHECK(file_is(dest, "t/top.txt", "t/top.txt"));
    CHECK(file_is(dest, "t_other/no.txt", "t_other/no.txt"));

    stu_empty_bucket(st, burl);
    CHECK_EQ_INT(hoist_store_bucket_delete(st, burl), HOIST_OK);
    hoist_store_free(st);
}

/* Starts hostile_server.py listing `keys`; returns its port (or -1). */
static int start_hostile(const char *const *keys, size_t n, pid_t *pid) {
    const char *argv[16] = {"python3", "tests/store/hostile_server.py", "keys"};
    for (size_t i = 0; i < n && i < 12; i++) argv[3 + i] = keys[i];
    return stu_spawn_port(argv, pid);
}

static void test_hostile_keys(void) {
    const char *hostile[] = {"../x", "a/../../x", "/abs/evil", "a//b", "./x", "x/.", "x/..", "sub/../../esc"};
    for (size_t h = 0; h < sizeof hostile / sizeof hostile[0]; h++) {
        const char *keys[2] = {"good.txt", hostile[h]};
        pid_t pid;
        int port = start_hostile(keys, 2, &pid);
        CHECK(port > 0);
        if (port <= 0) return;
        struct hoist_store_config *cfg;
        CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
        char ep[64];
        snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
        CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, ep), HOIST_OK);
        CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_REGION, "us-east-1"), HOIST_OK);
        CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ADDRESSING, "path"), HOIST_OK);
        CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_NO_SIGN_REQUEST, 1), HOIST_OK);
        CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_MAX_RETRIES, 0), HOIST_OK);
        struct hoist_store *st;
        CHECK_EQ_INT(hoist_store_new(cfg, &st), HOIST_OK);
        hoist_store_config_free(cfg);
        char dest[400];
        snprintf(dest, sizeof dest, "%s/hostile%zu/a/b/dest", tmpdir, h);
        struct hoist_prefix_files files;
        CHECK_EQ_INT(hoist_store_get_prefix(st, "s3://b/", dest, 0, NULL, NULL, &files), HOIST_ERR_UNSAFE_KEY);
        CHECK_CONTAINS(hoist_errmsg(), "unsafe key");
        CHECK_CONTAINS(hoist_errmsg(), hostile[h]);
        CHECK_EQ_INT(files.count, 0);
        /* nothing anywhere: not outside, and not the good object either */
        char top[400];
        snprintf(top, sizeof top, "%s/hostile%zu", tmpdir, h);
        CHECK_EQ_INT(count_files(top), 0);
        hoist_store_free(st);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    struct stat sb;
    CHECK(stat("/abs/evil", &sb) != 0);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hoist-prefix-test-%d", (int)getpid());
    mkdir(tmpdir, 0700);
    RUN(test_join_path);
    RUN(test_file_prefix);
    RUN(test_s3_prefix);
    RUN(test_hostile_keys);
    th_remove_tree(tmpdir);
    TEST_MAIN_END();
}
