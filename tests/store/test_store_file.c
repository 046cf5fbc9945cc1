/* The file:// backend and the local writes every backend shares
 * (store_file.c, store_util.c) against hostile trees: symlinks in listings
 * and in download paths, file modes, no-overwrite races, fsync, and the
 * process umask left alone (issue 12, finding 9). */
#include "store_internal.h"
#include "test_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static char *path_of(const char *leaf) { return hx_asprintf("%s/%s", dir, leaf); }

static void write_file(const char *leaf, const char *text) {
    char *p = path_of(leaf);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    hx_free(p);
}

static struct hoist_store *client(int follow) {
    struct hoist_store_config *cfg = NULL;
    struct hoist_store *s = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_FOLLOW_SYMLINKS, follow), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_int(cfg, HOIST_STORE_FSYNC, 1), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &s), HOIST_OK);
    hoist_store_config_free(cfg);
    return s;
}

static size_t count_listed(struct hoist_store *s, const char *sub, const char *needle) {
    char *p = path_of(sub);
    const char *prefixes[1] = {p};
    struct hoist_list list;
    hx_status st = hoist_store_list(s, prefixes, 1, 1, &list);
    CHECK_EQ_INT(st, HOIST_OK);
    size_t n = 0;
    for (size_t i = 0; st == HOIST_OK && i < list.count; i++)
        if (needle == NULL || strstr(list.entries[i].url, needle)) n++;
    hoist_store_list_reset(&list);
    hx_free(p);
    return n;
}

/* A `loop -> .` link used to walk until the path was too long, and a link
 * out of the tree (to /etc) listed, so uploaded, what it points at. */
static void test_listing_skips_symlinks(void) {
    char *t = path_of("tree/sub");
    CHECK_EQ_INT(hx_store_make_parents(t), HOIST_OK);
    CHECK(mkdir(t, 0777) == 0);
    write_file("tree/a.txt", "a");
    write_file("tree/sub/b.txt", "b");
    char *loop = path_of("tree/sub/loop"), *out = path_of("tree/etc"), *flink = path_of("tree/alias.txt");
    CHECK(symlink("..", loop) == 0);
    CHECK(symlink("/etc", out) == 0);
    CHECK(symlink("a.txt", flink) == 0);
    struct hoist_store *s = client(0);
    CHECK_EQ_INT(count_listed(s, "tree", NULL), 2); /* a.txt, sub/b.txt: no links */
    hoist_store_free(s);
    /* Following: the file link and /etc are listed, the loop is cut at once. */
    s = client(1);
    CHECK_EQ_INT(count_listed(s, "tree", "alias.txt"), 1);
    CHECK(count_listed(s, "tree", "/etc/") > 0);
    CHECK_EQ_INT(count_listed(s, "tree", "/loop/"), 0);
    hoist_store_free(s);
    hx_free(t), hx_free(loop), hx_free(out), hx_free(flink);
}

/* get_prefix into a directory holding `x -> <elsewhere>`: the key x/f.txt
 * must not write through the link. */
static void test_download_does_not_follow_symlinked_parent(void) {
    write_file("src.txt", "payload");
    char *srcdir = path_of("pfx");
    CHECK(mkdir(srcdir, 0777) == 0);
    char *sub = path_of("pfx/x");
    CHECK(mkdir(sub, 0777) == 0);
    write_file("pfx/x/f.txt", "payload");
    char *dest = path_of("dest"), *elsewhere = path_of("elsewhere"), *link = path_of("dest/x");
    CHECK(mkdir(dest, 0777) == 0);
    CHECK(mkdir(elsewhere, 0777) == 0);
    CHECK(symlink(elsewhere, link) == 0);
    struct hoist_store *s = client(0);
    char *url = hx_asprintf("file://%s/", srcdir);
    struct hoist_prefix_files files;
    hx_status st = hoist_store_get_prefix(s, url, dest, 0, NULL, NULL, &files);
    CHECK(st != HOIST_OK);
    CHECK_EQ_INT(files.count, 1);
    if (files.count == 1) CHECK_EQ_INT(files.files[0].status, HOIST_ERR_UNSAFE_KEY);
    hoist_store_prefix_files_reset(&files);
    char *leaked = path_of("elsewhere/f.txt");
    CHECK(access(leaked, F_OK) != 0);
    /* A symlink as the destination directory itself is the caller's choice. */
    char *dest2 = path_of("dest2");
    CHECK(symlink(elsewhere, dest2) == 0);
    CHECK_EQ_INT(hoist_store_get_prefix(s, url, dest2, 0, NULL, NULL, &files), HOIST_OK);
    hoist_store_prefix_files_reset(&files);
    char *through = path_of("elsewhere/x/f.txt");
    CHECK(access(through, F_OK) == 0);
    hx_free(through);
    hoist_store_free(s);
    hx_free(srcdir), hx_free(sub), hx_free(dest), hx_free(elsewhere), hx_free(link), hx_free(url), hx_free(leaked);
    hx_free(dest2);
}

/* Overwriting keeps the file's mode; a new file gets 0666 & ~umask. */
static void test_overwrite_keeps_mode(void) {
    struct hoist_store *s = client(0);
    char *p = path_of("secret.txt");
    write_file("secret.txt", "old");
    CHECK(chmod(p, 0600) == 0);
    struct hoist_put_item it = {.url = p, .data = "new", .size = 3};
    CHECK_EQ_INT(hoist_store_put_many(s, &it, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_put_item_reset(&it);
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600);
    /* the same through a download */
    char *src = path_of("src.txt");
    struct hoist_get_item g = {.url = src, .length = -1, .dest = HOIST_DEST_FILE, .path = p};
    CHECK_EQ_INT(hoist_store_get_many(s, &g, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_get_item_reset(&g);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600 && sb.st_size == 7);
    mode_t old = umask(027);
    char *fresh = path_of("fresh.txt");
    struct hoist_put_item n = {.url = fresh, .data = "x", .size = 1};
    CHECK_EQ_INT(hoist_store_put_many(s, &n, 1, 0, NULL, NULL), HOIST_OK);
    hoist_store_put_item_reset(&n);
    CHECK(stat(fresh, &sb) == 0 && (sb.st_mode & 07777) == 0640);
    umask(old);
    hoist_store_free(s);
    hx_free(p), hx_free(src), hx_free(fresh);
}

/* The umask must never change while hoist writes files (reading it by
 * setting it raced with other threads creating files). */
static atomic_int stop_watch;
static atomic_int umask_changed;
static void *watch_umask(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_watch)) {
        char buf[4096];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return NULL;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) return NULL;
        buf[n] = '\0';
        const char *u = strstr(buf, "Umask:");
        if (u && strtol(u + 6, NULL, 8) != 022) atomic_store(&umask_changed, 1);
    }
    return NULL;
}

static void test_umask_untouched(void) {
    mode_t old = umask(022);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, watch_umask, NULL) == 0);
    struct hoist_store *s = client(0);
    for (int i = 0; i < 300; i++) {
        char leaf[64];
        snprintf(leaf, sizeof leaf, "um/f%d", i);
        char *p = path_of(leaf);
        struct hoist_put_item it = {.url = p, .data = "x", .size = 1};
        CHECK_EQ_INT(hoist_store_put_many(s, &it, 1, 0, NULL, NULL), HOIST_OK);
        hoist_store_put_item_reset(&it);
        hx_free(p);
    }
    atomic_store(&stop_watch, 1);
    pthread_join(t, NULL);
    CHECK_EQ_INT(atomic_load(&umask_changed), 0);
    hoist_store_free(s);
    umask(old);
}

/* --no-overwrite of a download: the file that appears while the object is
 * fetched is kept (the commit links; it never checks and then renames). */
static int make_victim(const struct hoist_progress *p, void *ud) {
    (void)p;
    const char *path = ud;
    if (access(path, F_OK) != 0) {
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("theirs", f);
            fclose(f);
        }
    }
    return 0;
}

static void test_no_overwrite_download_is_atomic(void) {
    struct hoist_store *s = client(0);
    char *src = path_of("src.txt"), *dst = path_of("race/dst.txt");
    CHECK_EQ_INT(hx_store_make_parents(dst), HOIST_OK);
    struct hoist_get_item g = {.url = src, .length = -1, .dest = HOIST_DEST_FILE, .path = dst};
    /* the progress callback runs after the (absent) target was looked at and
     * before the commit: the window a check-then-rename loses */
    CHECK_EQ_INT(hoist_store_get_many(s, &g, 1, HOIST_NO_OVERWRITE, make_victim, dst), HOIST_OK);
    CHECK_EQ_INT(g.status, HOIST_ERR_EXISTS);
    hoist_store_get_item_reset(&g);
    char buf[16] = "";
    FILE *f = fopen(dst, "r");
    if (f) {
        CHECK(fgets(buf, sizeof buf, f) != NULL);
        fclose(f);
    }
    CHECK_STR(buf, "theirs");
    /* and no temp file is left next to it */
    char *d = path_of("race");
    size_t n = 0;
    DIR *dd = opendir(d);
    for (struct dirent *e; dd && (e = readdir(dd));) n += e->d_name[0] != '.' || strstr(e->d_name, "hoist-");
    if (dd) closedir(dd);
    CHECK_EQ_INT(n, 1);
    hoist_store_free(s);
    hx_free(src), hx_free(dst), hx_free(d);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/hoist-test-store-file-%d", (int)getpid());
    CHECK(mkdir(dir, 0777) == 0);
    RUN(test_listing_skips_symlinks);
    RUN(test_download_does_not_follow_symlinked_parent);
    RUN(test_overwrite_keeps_mode);
    RUN(test_umask_untouched);
    RUN(test_no_overwrite_download_is_atomic);
    th_remove_tree(dir);
    TEST_MAIN_END();
}
