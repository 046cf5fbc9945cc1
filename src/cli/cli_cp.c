/* cli_cp.c — `hoist cp`: plans a copy (one object, or everything under a
 * prefix or directory) and runs it as one *_many call per direction:
 * downloads into local files, uploads from local files, server-side copies,
 * and GET+PUT batches for s3->s3 with --no-overwrite. */
#include "cli_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- paths ------------------------------------------------------------------ */

/* The last path segment of a URL or path ("" when it ends with '/'). */
static const char *base_name(const char *url) {
    const char *s = cli_is_s3(url) ? url + 5 : cli_local_path(url);
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

/* Joins a directory-like URL or path and a relative name with one '/'. */
static char *join(const char *dir, const char *name) {
    return cli_dup_printf("%s%s%s", dir, cli_ends_with_slash(dir) || !*dir ? "" : "/", name);
}

static bool local_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* mkdir -p of the directory part of `path`. */
static int make_parent_dirs(const char *path) {
    char *buf = cli_dup_printf("%s", path);
    char *last = strrchr(buf, '/');
    if (!last || last == buf) {
        free(buf);
        return 0;
    }
    *last = '\0';
    for (char *p = buf + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "hoist: %s: cannot create directory: %s\n", buf, strerror(errno));
                free(buf);
                return -1;
            }
            *p = saved;
            if (end) break;
        }
    }
    if (!cli_local_is_dir(buf)) {
        fprintf(stderr, "hoist: %s: exists and is not a directory\n", buf);
        free(buf);
        return -1;
    }
    free(buf);
    return 0;
}

/* An absolute file:// URL for an existing local directory (the store lists
 * local directories through the same API as buckets). realpath() resolves
 * "." and ".." segments, which file:// URLs may not contain. */
static char *file_url_abs(const char *url) {
    char *real = realpath(cli_local_path(url), NULL);
    if (!real) {
        fprintf(stderr, "hoist: %s: %s\n", url, strerror(errno));
        exit(CLI_FAIL);
    }
    char *out = cli_dup_printf("file://%s", real);
    free(real);
    return out;
}

/* The part of an entry's URL below the listed prefix, or NULL. */
static const char *relative_to(const char *url, const char *prefix_slash) {
    size_t n = strlen(prefix_slash);
    if (strncmp(url, prefix_slash, n) == 0) return url + n;
    return NULL;
}

/* ---- cp --------------------------------------------------------------------- */

/* s3→s3 copies hold each batch in memory between its GET and its PUT; this
 * bounds a batch (one object larger than it still goes alone). */
#define CP_BATCH_BYTES ((uint64_t)256 << 20)

struct copy_job {
    char *src; /* source URL or path */
    char *dst; /* destination URL, or a local path */
    uint64_t size;
    bool skip; /* --no-overwrite and the destination exists */
};

struct copy_plan {
    struct copy_job *jobs;
    size_t n, cap;
    bool src_s3, dst_s3, no_overwrite;
};

static void plan_add(struct copy_plan *p, char *src, char *dst, uint64_t size) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct copy_job *j = realloc(p->jobs, cap * sizeof *j);
        if (!j) {
            fputs("hoist: out of memory\n", stderr);
            exit(CLI_FAIL);
        }
        p->jobs = j;
        p->cap = cap;
    }
    p->jobs[p->n++] = (struct copy_job){src, dst, size, false};
}

static void plan_free(struct copy_plan *p) {
    for (size_t i = 0; i < p->n; i++) {
        free(p->jobs[i].src);
        free(p->jobs[i].dst);
    }
    free(p->jobs);
}

/* True when a call ended because SIGINT/SIGTERM cancelled it: run_cp says so
 * once, instead of a line about some cancelled item. */
static bool interrupted(enum hoist_status st) { return st == HOIST_ERR_CANCELLED && cli_signal_caught(); }

static void note_skipped(const char *dst) {
    fputs("hoist: ", stderr);
    cli_put_safe(stderr, dst); /* a name from a key */
    fputs(": exists, not overwritten (--no-overwrite)\n", stderr);
}

/* Downloads (s3 or local source) into local files, all in one get_many. */
static int copy_to_local(struct hoist_store *store, struct copy_plan *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct copy_job *j = &p->jobs[i];
        /* an early skip only: the store's commit never replaces a file that
         * appears meanwhile (HOIST_NO_OVERWRITE links it into place) */
        if (p->no_overwrite && local_exists(j->dst)) {
            j->skip = true;
            note_skipped(j->dst);
            continue;
        }
        if (make_parent_dirs(j->dst) != 0) return CLI_FAIL;
        n++;
    }
    if (n == 0) return CLI_OK;
    struct hoist_get_item *items = cli_xcalloc(n, sizeof *items);
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->jobs[i].skip) continue;
        items[k].url = p->jobs[i].src;
        items[k].offset = 0;
        items[k].length = -1;
        items[k].dest = HOIST_DEST_FILE;
        items[k].path = p->jobs[i].dst;
        k++;
    }
    struct cli_progress bar;
    cli_progress_init(&bar, "cp");
    enum hoist_status st =
        hoist_store_get_many(store, items, n, p->no_overwrite ? HOIST_NO_OVERWRITE : 0, cli_progress_update, &bar);
    cli_progress_finish(&bar);
    int rc = CLI_OK;
    for (size_t i = 0; i < n; i++)
        if (items[i].status == HOIST_ERR_EXISTS) note_skipped(items[i].path);
    if (interrupted(st)) {
        rc = CLI_CANCELLED;
    } else if (st != HOIST_OK) {
        size_t failed = 0, first = n;
        for (size_t i = 0; i < n; i++)
            if (items[i].status != HOIST_OK && items[i].status != HOIST_ERR_EXISTS) {
                failed++;
                if (first == n) first = i;
            }
        if (first == n)
            rc = cli_fail_on(st, n == 1 ? items[0].url : NULL);
        else
            rc = cli_report_item_failure(items[first].url, items[first].status, items[first].error, failed, n);
    }
    for (size_t i = 0; i < n; i++) hoist_store_get_item_reset(&items[i]);
    free(items);
    return rc;
}

/* Reports a put_many outcome; skipped (existing) objects are not failures. */
static int finish_puts(enum hoist_status st, struct hoist_put_item *items, size_t n) {
    if (interrupted(st)) return CLI_CANCELLED;
    size_t failed = 0, first = n;
    for (size_t i = 0; i < n; i++) {
        if (items[i].status == HOIST_ERR_EXISTS) {
            note_skipped(items[i].url);
            continue;
        }
        if (items[i].status != HOIST_OK) {
            failed++;
            if (first == n) first = i;
        }
    }
    if (first < n) return cli_report_item_failure(items[first].url, items[first].status, items[first].error, failed, n);
    if (st != HOIST_OK) return cli_fail_on(st, n == 1 ? items[0].url : NULL);
    return CLI_OK;
}

/* Uploads local files, all in one put_many. */
static int copy_local_to_s3(struct hoist_store *store, struct copy_plan *p) {
    if (p->n == 0) return CLI_OK;
    struct hoist_put_item *items = cli_xcalloc(p->n, sizeof *items);
    for (size_t i = 0; i < p->n; i++) {
        items[i].url = p->jobs[i].dst;
        items[i].path = cli_local_path(p->jobs[i].src);
    }
    struct cli_progress bar;
    cli_progress_init(&bar, "cp");
    enum hoist_status st =
        hoist_store_put_many(store, items, p->n, p->no_overwrite ? HOIST_NO_OVERWRITE : 0, cli_progress_update, &bar);
    cli_progress_finish(&bar);
    int rc = finish_puts(st, items, p->n);
    for (size_t i = 0; i < p->n; i++) hoist_store_put_item_reset(&items[i]);
    free(items);
    return rc;
}

/* s3→s3 on the server (CopyObject / UploadPartCopy): no bytes through here. */
static int copy_server_side(struct hoist_store *store, struct copy_plan *p) {
    struct hoist_copy_item *items = cli_xcalloc(p->n, sizeof *items);
    for (size_t i = 0; i < p->n; i++) {
        items[i].src_url = p->jobs[i].src;
        items[i].dst_url = p->jobs[i].dst;
    }
    struct cli_progress bar;
    cli_progress_init(&bar, "cp (server-side)");
    enum hoist_status st = hoist_store_copy_many(store, items, p->n, 0, cli_progress_update, &bar);
    cli_progress_finish(&bar);
    size_t failed = 0, first = p->n;
    for (size_t i = 0; i < p->n; i++)
        if (items[i].status != HOIST_OK && failed++ == 0) first = i;
    int rc = CLI_OK;
    if (interrupted(st)) {
        rc = CLI_CANCELLED;
    } else if (first < p->n) {
        /* the message names whichever side failed (the source's HEAD, the copy) */
        const struct hoist_copy_item *f = &items[first];
        const char *what = f->error && strstr(f->error, f->src_url) ? f->src_url : f->dst_url;
        rc = cli_report_item_failure(what, f->status, f->error, failed, p->n);
    } else if (st != HOIST_OK) {
        rc = cli_fail_on(st, NULL);
    }
    for (size_t i = 0; i < p->n; i++) hoist_store_copy_item_reset(&items[i]);
    free(items);
    return rc;
}

/* s3→s3 with --no-overwrite (a conditional copy is not portable): GET a
 * batch into memory, PUT it with the same content type and metadata, next
 * batch. */
static int copy_s3_to_s3(struct hoist_store *store, struct copy_plan *p) {
    if (!p->no_overwrite) return copy_server_side(store, p);
    int rc = CLI_OK;
    for (size_t start = 0; start < p->n && rc == CLI_OK;) {
        size_t end = start;
        uint64_t bytes = 0;
        while (end < p->n && (end == start || bytes + p->jobs[end].size <= CP_BATCH_BYTES))
            bytes += p->jobs[end++].size;
        size_t n = end - start;
        struct hoist_get_item *gets = cli_xcalloc(n, sizeof *gets);
        struct hoist_put_item *puts = cli_xcalloc(n, sizeof *puts);
        for (size_t i = 0; i < n; i++) {
            gets[i].url = p->jobs[start + i].src;
            gets[i].length = -1;
            gets[i].dest = HOIST_DEST_ALLOC;
        }
        struct cli_progress bar;
        cli_progress_init(&bar, "cp (read)");
        enum hoist_status st = hoist_store_get_many(store, gets, n, 0, cli_progress_update, &bar);
        cli_progress_finish(&bar);
        if (interrupted(st)) {
            rc = CLI_CANCELLED;
        } else if (st != HOIST_OK) {
            size_t failed = 0, first = n;
            for (size_t i = 0; i < n; i++)
                if (gets[i].status != HOIST_OK) {
                    failed++;
                    if (first == n) first = i;
                }
            rc = first == n
                     ? cli_fail_on(st, NULL)
                     : cli_report_item_failure(gets[first].url, gets[first].status, gets[first].error, failed, n);
        } else {
            for (size_t i = 0; i < n; i++) {
                puts[i].url = p->jobs[start + i].dst;
                puts[i].data = gets[i].data ? gets[i].data : "";
                puts[i].size = gets[i].size;
                puts[i].content_type = gets[i].info.content_type;
                puts[i].metadata_json = gets[i].info.metadata_json;
            }
            cli_progress_init(&bar, "cp (write)");
            st = hoist_store_put_many(store, puts, n, p->no_overwrite ? HOIST_NO_OVERWRITE : 0, cli_progress_update,
                                      &bar);
            cli_progress_finish(&bar);
            rc = finish_puts(st, puts, n);
        }
        for (size_t i = 0; i < n; i++) {
            hoist_store_put_item_reset(&puts[i]);
            hoist_store_get_item_reset(&gets[i]);
        }
        free(gets);
        free(puts);
        start = end;
    }
    return rc;
}

static int run_plan(struct hoist_store *store, struct copy_plan *p) {
    if (!p->dst_s3) return copy_to_local(store, p);
    if (!p->src_s3) return copy_local_to_s3(store, p);
    return copy_s3_to_s3(store, p);
}

/* cp SRC DST of one object. */
static int plan_single(struct hoist_store *store, const char *src, const char *dst, struct copy_plan *p) {
    if (p->src_s3 ? cli_ends_with_slash(src) || cli_is_bucket_root(src) : cli_local_is_dir(cli_local_path(src))) {
        fprintf(stderr, "hoist: %s: is a %s; use 'hoist cp -r' to copy what is under it\n", src,
                p->src_s3 ? "prefix" : "directory");
        return CLI_FAIL;
    }
    const char *name = base_name(src);
    if (p->dst_s3) {
        char *to = cli_ends_with_slash(dst) || cli_is_bucket_root(dst) ? join(dst, name) : cli_dup_printf("%s", dst);
        plan_add(p, cli_dup_printf("%s", src), to, 0);
        return CLI_OK;
    }
    const char *dpath = cli_local_path(dst);
    char *to;
    if (cli_ends_with_slash(dpath) || cli_local_is_dir(dpath)) {
        /* The name comes from a key: the store's safe join refuses "..", "." and "". */
        char *joined;
        enum hoist_status st = hoist_store_join_path(dpath, name, &joined);
        if (st != HOIST_OK) {
            cli_error_line(src, st, hoist_errmsg(), "; nothing copied");
            return CLI_FAIL;
        }
        to = cli_dup_printf("%s", joined);
        hoist_free(joined);
    } else {
        to = cli_dup_printf("%s", dpath);
    }
    plan_add(p, cli_dup_printf("%s", src), to, 0);
    (void)store;
    return CLI_OK;
}

/* The listing prefix of cp -r SRC (a directory: ends with '/'), or NULL
 * after printing why SRC cannot be copied recursively. */
static char *recursive_prefix(const char *src, bool src_s3) {
    if (src_s3) {
        char *prefix = cli_is_bucket_root(src) || cli_ends_with_slash(src) ? cli_dup_printf("%s", src)
                                                                           : cli_dup_printf("%s/", src);
        if (!strchr(prefix + 5, '/')) {
            char *t = cli_dup_printf("%s/", prefix);
            free(prefix);
            prefix = t;
        }
        return prefix;
    }
    if (!cli_local_is_dir(cli_local_path(src))) {
        fprintf(stderr, "hoist: %s: not a directory (%s)\n", src,
                local_exists(cli_local_path(src)) ? "cp -r copies what is under a directory" : "no such file");
        return NULL;
    }
    char *abs = file_url_abs(src);
    char *prefix = cli_ends_with_slash(abs) ? abs : cli_dup_printf("%s/", abs);
    if (prefix != abs) free(abs);
    return prefix;
}

/* cp -r SRC DIR with a local destination: the store's recursive download
 * (hoist_store_get_prefix: list, safe join, one get_many into files). */
static int copy_prefix_to_local(struct hoist_store *store, const char *src, const char *dst, bool no_overwrite) {
    char *prefix = recursive_prefix(src, cli_is_s3(src));
    if (!prefix) return CLI_FAIL;
    struct hoist_prefix_files files;
    struct cli_progress bar;
    cli_progress_init(&bar, "cp");
    enum hoist_status st = hoist_store_get_prefix(
        store, prefix, cli_local_path(dst), no_overwrite ? HOIST_NO_OVERWRITE : 0, cli_progress_update, &bar, &files);
    cli_progress_finish(&bar);
    int rc = CLI_OK;
    if (interrupted(st)) {
        hoist_store_prefix_files_reset(&files);
        free(prefix);
        return CLI_CANCELLED;
    }
    size_t fetched = 0, failed = 0, first = files.count;
    const char *only = NULL; /* the URL when one object was fetched */
    for (size_t i = 0; i < files.count; i++) {
        const struct hoist_prefix_file *f = &files.files[i];
        if (f->status == HOIST_ERR_EXISTS) {
            note_skipped(f->path);
            continue;
        }
        only = fetched++ == 0 ? f->url : NULL;
        if (f->status != HOIST_OK && failed++ == 0) first = i;
    }
    if (first < files.count) {
        const struct hoist_prefix_file *f = &files.files[first];
        rc = cli_report_item_failure(f->url, f->status, f->error, failed, fetched);
    } else if (st == HOIST_ERR_UNSAFE_KEY) {
        cli_error_line(NULL, st, hoist_errmsg(), "; nothing copied");
        rc = CLI_FAIL;
    } else if (st != HOIST_OK) {
        rc = cli_fail_on(st, only);
    } else if (files.count == 0) {
        fprintf(stderr, "hoist: %s: nothing to copy (no objects under it)\n", src);
        rc = CLI_FAIL;
    }
    hoist_store_prefix_files_reset(&files);
    free(prefix);
    return rc;
}

/* cp -r SRC DST to S3: everything under SRC goes under DST with the same
 * relative names (aws s3 cp --recursive). */
static int plan_recursive(struct hoist_store *store, const char *src, const char *dst, struct copy_plan *p) {
    char *prefix = recursive_prefix(src, p->src_s3);
    if (!prefix) return CLI_FAIL;
    struct hoist_list list;
    int rc = cli_list_prefix(store, prefix, 1, &list);
    if (rc != CLI_OK) {
        free(prefix);
        return rc;
    }
    for (size_t i = 0; i < list.count && rc == CLI_OK; i++) {
        const struct hoist_list_entry *e = &list.entries[i];
        if (e->is_prefix) continue;
        const char *rel = relative_to(e->url, prefix);
        if (!rel && e->prefix) {
            char *ps = cli_ends_with_slash(e->prefix) ? NULL : cli_dup_printf("%s/", e->prefix);
            rel = relative_to(e->url, ps ? ps : e->prefix);
            free(ps);
        }
        if (!rel) {
            cli_error_line(e->url, HOIST_ERR_S3_BAD_RESPONSE, "listed under the prefix but does not start with it",
                           NULL);
            rc = CLI_FAIL;
            break;
        }
        /* "dir/" placeholder objects (made by consoles) hold no data. */
        if (cli_ends_with_slash(rel) && e->size == 0) continue;
        plan_add(p, cli_dup_printf("%s", e->url), join(dst, rel), e->size);
    }
    if (rc == CLI_OK && p->n == 0) {
        fprintf(stderr, "hoist: %s: nothing to copy (no objects under it)\n", src);
        rc = CLI_FAIL;
    }
    hoist_store_list_reset(&list);
    free(prefix);
    return rc;
}

/* cp - DST: stdin, read whole, becomes one object (or local file). */
static int put_from_stdin(struct hoist_store *store, const char *dst, bool no_overwrite) {
    if (cli_ends_with_slash(dst) || cli_is_bucket_root(dst) ||
        (!cli_is_s3(dst) && cli_local_is_dir(cli_local_path(dst)))) {
        fprintf(stderr, "hoist: %s: name the object to write stdin to (not a prefix or directory)\n", dst);
        return CLI_FAIL;
    }
    size_t cap = 1 << 20, len = 0;
    char *data = malloc(cap);
    for (;;) {
        if (!data) {
            fputs("hoist: stdin: out of memory\n", stderr);
            return CLI_FAIL;
        }
        size_t got = fread(data + len, 1, cap - len, stdin);
        len += got;
        if (got == 0) break;
        if (len == cap) {
            char *bigger = realloc(data, cap * 2);
            if (!bigger) free(data);
            data = bigger;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "hoist: stdin: %s\n", strerror(errno));
        free(data);
        return CLI_FAIL;
    }
    struct hoist_put_item item = {.url = dst, .data = data, .size = len};
    enum hoist_status st = hoist_store_put_many(store, &item, 1, no_overwrite ? HOIST_NO_OVERWRITE : 0, NULL, NULL);
    int rc = finish_puts(st, &item, 1);
    hoist_store_put_item_reset(&item);
    free(data);
    return rc;
}

static int run_cp(int argc, char **argv) {
    bool recursive = false, no_overwrite = false;
    struct cli_store_opts opts = {0};
    const struct cli_flag flags[] = {
        {'r', "--recursive", &recursive, NULL}, {'n', "--no-overwrite", &no_overwrite, NULL}, {0, NULL, NULL, NULL}};
    const char *pos[2];
    int npos, rc;
    if ((rc = cli_parse_store_args("cp", argc, argv, flags, &opts, pos, 2, &npos)) != CLI_OK) return rc;
    if (npos != 2) return cli_usage_error("cp", "expected SRC and DST");
    const char *src = pos[0], *dst = pos[1];
    if ((rc = cli_check_url("cp", src)) != CLI_OK || (rc = cli_check_url("cp", dst)) != CLI_OK) return rc;
    if (strcmp(src, "s3://") == 0 || strcmp(dst, "s3://") == 0)
        return cli_usage_error("cp", "name a bucket: s3://BUCKET[/KEY]");

    bool from_stdin = strcmp(src, "-") == 0, to_stdout = strcmp(dst, "-") == 0;
    if ((from_stdin || to_stdout) && recursive) return cli_usage_error("cp", "'-' (stdin/stdout) is one object: no -r");
    if (from_stdin && to_stdout) return cli_usage_error("cp", "SRC and DST cannot both be '-'");

    struct copy_plan plan = {.src_s3 = cli_is_s3(src), .dst_s3 = cli_is_s3(dst), .no_overwrite = no_overwrite};
    struct hoist_store *store = NULL;
    if ((rc = cli_open_store(&opts, &store)) != CLI_OK) return rc;
    if (to_stdout || from_stdin) {
        rc = to_stdout ? cli_cat_to_stdout(store, src) : put_from_stdin(store, dst, no_overwrite);
        hoist_store_free(store);
        return rc;
    }
    struct cli_signals sigs;
    cli_signals_catch(&sigs);
    if (recursive && !plan.dst_s3) {
        rc = copy_prefix_to_local(store, src, dst, no_overwrite);
    } else {
        rc = recursive ? plan_recursive(store, src, dst, &plan) : plan_single(store, src, dst, &plan);
        if (rc == CLI_OK) rc = run_plan(store, &plan);
    }
    cli_signals_restore(&sigs);
    if (cli_signal_caught()) {
        /* What finished before the signal stays; nothing partial does. */
        fprintf(stderr, "hoist: cp: interrupted (%s); unfinished uploads aborted, partial files removed\n",
                cli_signal_caught() == SIGTERM ? "SIGTERM" : "SIGINT");
        rc = 128 + cli_signal_caught();
    }
    plan_free(&plan);
    hoist_store_free(store);
    return rc;
}

const struct cli_command cli_cmd_cp = {
    "cp", "copy objects between S3 and local files",
    "usage: hoist cp [-r] [--no-overwrite] SRC DST\n\n"
    "Copies s3→local, local→s3, s3→s3 or local→local. SRC and DST are s3://bucket/key,\n"
    "file:///path or local paths. If DST ends with '/' (or is a local directory) the\n"
    "source's name is appended. SRC '-' uploads stdin; DST '-' writes to stdout.\n"
    "Many objects move concurrently in one transfer.\n\n"
    "  -r, --recursive     copy everything under SRC to DST, keeping relative names\n"
    "                      (like 'aws s3 cp --recursive'); keys that would land outside\n"
    "                      DST ('..', absolute, empty segments) are refused\n"
    "  -n, --no-overwrite  keep existing destination objects/files (reported on stderr)\n\n" CLI_STORE_OPTS_HELP,
    run_cp};
