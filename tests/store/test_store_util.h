/* test_store_util.h — what the store tests share: a bucket name no other
 * run uses, emptying a bucket, the Python that has boto3, and starting a
 * scripted endpoint (fault_relay.py, hostile_server.py) that announces its
 * port. */
#ifndef HOIST_TEST_STORE_UTIL_H
#define HOIST_TEST_STORE_UTIL_H

#include "test_harness.h"
#include "util_internal.h"

#include <sys/types.h>
#include <unistd.h>

/* s3://<prefix>-<pid>-<ms>: runs that overlap on the shared server do not
 * meet in one bucket. */
static inline void stu_bucket_url(char *buf, size_t n, const char *prefix) {
    snprintf(buf, n, "s3://%s-%d-%ld", prefix, (int)getpid(), (long)(hx_now() * 1000) % 100000);
}

/* A store with the default settings (the server's AWS_* environment) and a
 * new bucket at burl; NULL, after saying why, when there is no store. */
static inline struct hoist_store *stu_store_with_bucket(const char *burl) {
    struct hoist_store *s = NULL;
    if (hoist_store_new(NULL, &s) != HOIST_OK) {
        fprintf(stderr, "store: %s\n", hoist_errmsg());
        return NULL;
    }
    CHECK_EQ_INT(hoist_store_bucket_create(s, burl), HOIST_OK);
    return s;
}

/* Deletes every object under the bucket url (not the bucket). */
static inline void stu_empty_bucket(struct hoist_store *s, const char *burl) {
    const char *root[1] = {burl};
    struct hoist_list l;
    if (hoist_store_list(s, root, 1, 1, &l) != HOIST_OK) return;
    const char **urls = malloc((l.count + 1) * sizeof *urls);
    for (size_t i = 0; i < l.count; i++) urls[i] = l.entries[i].url;
    CHECK_EQ_INT(hoist_store_delete_many(s, urls, l.count), HOIST_OK);
    free(urls);
    hoist_store_list_reset(&l);
}

/* The virtualenv Python (it has boto3): $HOIST_SOURCE_DIR/.venv, else the
 * main checkout's. NULL, after saying so, when it is not there. */
static inline const char *stu_venv_python(char *buf, size_t n) {
    const char *src = getenv("HOIST_SOURCE_DIR");
    snprintf(buf, n, "%s/.venv/bin/python", src ? src : "/work/main");
    if (access(buf, X_OK) == 0) return buf;
    fprintf(stderr, "  (no %s: skipped)\n", buf);
    return NULL;
}

/* Runs argv (argv[0] found on PATH) as a child that prints "PORT <n>" on
 * stdout once it listens; returns n, or -1. *pid is the child's. */
static inline int stu_spawn_port(const char *const *argv, pid_t *pid) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    *pid = fork();
    if (*pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    int port = -1;
    if (f == NULL || fscanf(f, "PORT %d", &port) != 1) port = -1;
    if (f) fclose(f);
    return port;
}

#endif
