/* cli_store.c — the object store commands: ls, cp, cat, info, rm, mb, rb.
 *
 * Every transfer goes through the store client (hoist.h), s3:// and local
 * paths alike, and many objects always go through ONE *_many call so they
 * move concurrently on the client's event loop. Output is made for pipes:
 * data and listings on stdout, one line per error on stderr, no decoration
 * unless asked for. */
#include "cli_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- argument parsing ----------------------------------------------------- */

struct flag {
    char short_name;       /* 0: long only */
    const char *long_name; /* "--recursive"; NULL: short only */
    bool *set;             /* boolean flag, or NULL */
    const char **value;    /* option taking a value, or NULL */
};

/* Parses flags, the common store options and up to max_pos positional
 * arguments. Short boolean flags combine ("-rl"). Returns CLI_OK or
 * CLI_USAGE (message printed). */
static int parse_args(const char *cmd, int argc, char **argv, const struct flag *flags, struct cli_store_opts *opts,
                      const char **pos, int max_pos, int *npos) {
    *npos = 0;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (*npos >= max_pos) return cli_usage_error(cmd, "unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (a[1] == '-') {
            bool matched = false;
            for (const struct flag *f = flags; f && (f->short_name || f->long_name); f++) {
                if (!f->long_name) continue;
                if (f->set && strcmp(a, f->long_name) == 0) {
                    *f->set = true;
                    matched = true;
                    break;
                }
                if (f->value) {
                    int r = cli_opt_value(cmd, f->long_name, argc, argv, &i, f->value);
                    if (r < 0) return CLI_USAGE;
                    if (r > 0) {
                        matched = true;
                        break;
                    }
                }
            }
            if (matched) continue;
            if (opts) {
                int r = cli_store_opts_parse(cmd, opts, argc, argv, &i);
                if (r < 0) return CLI_USAGE;
                if (r > 0) continue;
            }
            return cli_usage_error(cmd, "unknown option '%s'", a);
        }
        for (const char *c = a + 1; *c; c++) {
            const struct flag *hit = NULL;
            for (const struct flag *f = flags; f && (f->short_name || f->long_name); f++)
                if (f->short_name == *c && f->set) hit = f;
            if (!hit) return cli_usage_error(cmd, "unknown option '-%c'", *c);
            *hit->set = true;
        }
    }
    return CLI_OK;
}

/* ---- URLs and local paths --------------------------------------------------- */

static bool is_s3(const char *url) { return strncmp(url, "s3://", 5) == 0; }

static bool is_file_url(const char *url) { return strncmp(url, "file://", 7) == 0; }

/* A scheme other than s3:// and file:// (http://, gs://...) cannot be used
 * here; anything without "://" is a local path. */
static bool has_unknown_scheme(const char *url) {
    const char *sep = strstr(url, "://");
    if (!sep || is_s3(url) || is_file_url(url)) return false;
    for (const char *p = url; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
              *p == '-' || *p == '.'))
            return false;
    return sep > url;
}

static const char *local_path(const char *url) { return is_file_url(url) ? url + 7 : url; }

static bool ends_with_slash(const char *s) {
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '/';
}

/* "s3://bucket" or "s3://bucket/": the whole bucket. */
static bool is_bucket_root(const char *url) {
    if (!is_s3(url)) return false;
    const char *slash = strchr(url + 5, '/');
    return !slash || slash[1] == '\0';
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0) out = NULL;
    va_end(ap);
    if (!out) {
        fputs("hoist: out of memory\n", stderr);
        exit(CLI_FAIL);
    }
    return out;
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("hoist: out of memory\n", stderr);
        exit(CLI_FAIL);
    }
    return p;
}

/* The last path segment of a URL or path ("" when it ends with '/'). */
static const char *base_name(const char *url) {
    const char *s = is_s3(url) ? url + 5 : local_path(url);
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

/* Joins a directory-like URL or path and a relative name with one '/'. */
static char *join(const char *dir, const char *name) {
    return dup_printf("%s%s%s", dir, ends_with_slash(dir) || !*dir ? "" : "/", name);
}

static bool local_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool local_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* mkdir -p of the directory part of `path`. */
static int make_parent_dirs(const char *path) {
    char *buf = dup_printf("%s", path);
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
    if (!local_is_dir(buf)) {
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
    char *real = realpath(local_path(url), NULL);
    if (!real) {
        fprintf(stderr, "hoist: %s: %s\n", url, strerror(errno));
        exit(CLI_FAIL);
    }
    char *out = dup_printf("file://%s", real);
    free(real);
    return out;
}

/* One line for a *_many call where `failed` of `total` items failed; the
 * first failure (url, status, its message) stands for them. */
static int report_item_failure(const char *url, enum hoist_status status, const char *error, size_t failed,
                               size_t total) {
    char extra[64] = "";
    if (failed > 1) snprintf(extra, sizeof extra, " (%zu of %zu objects failed)", failed, total);
    cli_error_line(url, status, error, extra);
    return CLI_FAIL;
}

static int open_store(const struct cli_store_opts *opts, struct hoist_store **store) {
    enum hoist_status st = cli_store_open(opts, store);
    return st == HOIST_OK ? CLI_OK : cli_fail_on(st, NULL);
}

static int check_url(const char *cmd, const char *url) {
    if (!*url) return cli_usage_error(cmd, "empty URL");
    if (has_unknown_scheme(url))
        return cli_usage_error(cmd, "%s: unsupported URL scheme (use s3://, file:// or a local path)", url);
    return CLI_OK;
}

/* ---- listing ---------------------------------------------------------------- */

/* Lists everything under `prefix` (recursive) into *out. Returns CLI_OK or
 * CLI_FAIL (message printed). */
static int list_prefix(struct hoist_store *store, const char *prefix, int recursive, struct hoist_list *out) {
    memset(out, 0, sizeof *out);
    const char *prefixes[1] = {prefix};
    enum hoist_status st = hoist_store_list(store, prefixes, 1, recursive, out);
    if (st != HOIST_OK) return cli_fail_on(st, prefix);
    return CLI_OK;
}

/* The part of an entry's URL below the listed prefix, or NULL. */
static const char *relative_to(const char *url, const char *prefix_slash) {
    size_t n = strlen(prefix_slash);
    if (strncmp(url, prefix_slash, n) == 0) return url + n;
    return NULL;
}

static void print_entry_long(const struct hoist_list_entry *e) {
    char when[32];
    if (e->is_prefix)
        printf("%-19s %12s  %s\n", "", "PRE", e->url);
    else
        printf("%-19s %12" PRIu64 "  %s\n", cli_format_time(e->last_modified, 0, when, sizeof when), e->size, e->url);
}

static void print_entry_json(const struct hoist_list_entry *e) {
    char when[32];
    fputs("{\"url\":", stdout);
    cli_json_string(stdout, e->url);
    if (e->is_prefix) {
        fputs(",\"type\":\"prefix\"}\n", stdout);
        return;
    }
    printf(",\"type\":\"object\",\"size\":%" PRIu64 ",\"last_modified\":", e->size);
    if (e->last_modified)
        cli_json_string(stdout, cli_format_time(e->last_modified, 1, when, sizeof when));
    else
        fputs("null", stdout);
    fputs(",\"etag\":", stdout);
    cli_json_string(stdout, e->etag);
    fputs("}\n", stdout);
}

static int run_ls(int argc, char **argv) {
    bool recursive = false, longfmt = false, json = false;
    struct cli_store_opts opts = {0};
    const struct flag flags[] = {{'r', "--recursive", &recursive, NULL},
                                 {'l', "--long", &longfmt, NULL},
                                 {0, "--json", &json, NULL},
                                 {0, NULL, NULL, NULL}};
    const char *pos[1];
    int npos, rc;
    if ((rc = parse_args("ls", argc, argv, flags, &opts, pos, 1, &npos)) != CLI_OK) return rc;
    if (npos != 1) return cli_usage_error("ls", "expected one URL");
    const char *url = pos[0];
    if ((rc = check_url("ls", url)) != CLI_OK) return rc;
    if (strcmp(url, "s3://") == 0) return cli_usage_error("ls", "listing buckets is not supported: name one");

    struct hoist_store *store = NULL;
    if ((rc = open_store(&opts, &store)) != CLI_OK) return rc;
    struct hoist_list list;
    if ((rc = list_prefix(store, url, recursive, &list)) != CLI_OK) goto done;

    if (list.count == 0 && !ends_with_slash(url) && !is_bucket_root(url)) {
        /* "ls s3://b/key" of an object (not a prefix) shows that object, as
         * ls(1) does for a file. */
        struct hoist_info_item it = {.url = url};
        enum hoist_status st = hoist_store_info_many(store, &it, 1, HOIST_RETURN_MISSING);
        if (st != HOIST_OK) {
            rc = cli_fail_on(st, url);
        } else if (it.status != HOIST_OK) {
            fprintf(stderr, "hoist: %s: no such object or prefix\n", url);
            rc = CLI_FAIL;
        } else {
            struct hoist_list_entry e = {.url = it.info.url ? it.info.url : (char *)url,
                                         .size = it.info.size,
                                         .last_modified = it.info.last_modified,
                                         .etag = it.info.etag};
            if (json)
                print_entry_json(&e);
            else if (longfmt)
                print_entry_long(&e);
            else
                printf("%s\n", e.url);
        }
        hoist_store_info_item_reset(&it);
    }
    for (size_t i = 0; i < list.count; i++) {
        const struct hoist_list_entry *e = &list.entries[i];
        if (json)
            print_entry_json(e);
        else if (longfmt)
            print_entry_long(e);
        else
            printf("%s\n", e->url);
    }
    hoist_store_list_reset(&list);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "hoist: stdout: %s\n", strerror(errno));
        rc = CLI_FAIL;
    }
done:
    hoist_store_free(store);
    return rc;
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

static void note_skipped(const char *dst) {
    fprintf(stderr, "hoist: %s: exists, not overwritten (--no-overwrite)\n", dst);
}

/* Downloads (s3 or local source) into local files, all in one get_many. */
static int copy_to_local(struct hoist_store *store, struct copy_plan *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct copy_job *j = &p->jobs[i];
        if (p->no_overwrite && local_exists(j->dst)) {
            j->skip = true;
            note_skipped(j->dst);
            continue;
        }
        if (make_parent_dirs(j->dst) != 0) return CLI_FAIL;
        n++;
    }
    if (n == 0) return CLI_OK;
    struct hoist_get_item *items = xcalloc(n, sizeof *items);
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
    enum hoist_status st = hoist_store_get_many(store, items, n, 0, cli_progress_update, &bar);
    cli_progress_finish(&bar);
    int rc = CLI_OK;
    if (st != HOIST_OK) {
        size_t failed = 0, first = n;
        for (size_t i = 0; i < n; i++)
            if (items[i].status != HOIST_OK) {
                failed++;
                if (first == n) first = i;
            }
        if (first == n)
            rc = cli_fail_on(st, n == 1 ? items[0].url : NULL);
        else
            rc = report_item_failure(items[first].url, items[first].status, items[first].error, failed, n);
    }
    for (size_t i = 0; i < n; i++) hoist_store_get_item_reset(&items[i]);
    free(items);
    return rc;
}

/* Reports a put_many outcome; skipped (existing) objects are not failures. */
static int finish_puts(enum hoist_status st, struct hoist_put_item *items, size_t n) {
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
    if (first < n) return report_item_failure(items[first].url, items[first].status, items[first].error, failed, n);
    if (st != HOIST_OK) return cli_fail_on(st, n == 1 ? items[0].url : NULL);
    return CLI_OK;
}

/* Uploads local files, all in one put_many. */
static int copy_local_to_s3(struct hoist_store *store, struct copy_plan *p) {
    if (p->n == 0) return CLI_OK;
    struct hoist_put_item *items = xcalloc(p->n, sizeof *items);
    for (size_t i = 0; i < p->n; i++) {
        items[i].url = p->jobs[i].dst;
        items[i].path = local_path(p->jobs[i].src);
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
    struct hoist_copy_item *items = xcalloc(p->n, sizeof *items);
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
    if (first < p->n) {
        /* the message names whichever side failed (the source's HEAD, the copy) */
        const struct hoist_copy_item *f = &items[first];
        const char *what = f->error && strstr(f->error, f->src_url) ? f->src_url : f->dst_url;
        rc = report_item_failure(what, f->status, f->error, failed, p->n);
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
        struct hoist_get_item *gets = xcalloc(n, sizeof *gets);
        struct hoist_put_item *puts = xcalloc(n, sizeof *puts);
        for (size_t i = 0; i < n; i++) {
            gets[i].url = p->jobs[start + i].src;
            gets[i].length = -1;
            gets[i].dest = HOIST_DEST_ALLOC;
        }
        struct cli_progress bar;
        cli_progress_init(&bar, "cp (read)");
        enum hoist_status st = hoist_store_get_many(store, gets, n, 0, cli_progress_update, &bar);
        cli_progress_finish(&bar);
        if (st != HOIST_OK) {
            size_t failed = 0, first = n;
            for (size_t i = 0; i < n; i++)
                if (gets[i].status != HOIST_OK) {
                    failed++;
                    if (first == n) first = i;
                }
            rc = first == n ? cli_fail_on(st, NULL)
                            : report_item_failure(gets[first].url, gets[first].status, gets[first].error, failed, n);
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
    if (p->src_s3 ? ends_with_slash(src) || is_bucket_root(src) : local_is_dir(local_path(src))) {
        fprintf(stderr, "hoist: %s: is a %s; use 'hoist cp -r' to copy what is under it\n", src,
                p->src_s3 ? "prefix" : "directory");
        return CLI_FAIL;
    }
    const char *name = base_name(src);
    if (p->dst_s3) {
        char *to = ends_with_slash(dst) || is_bucket_root(dst) ? join(dst, name) : dup_printf("%s", dst);
        plan_add(p, dup_printf("%s", src), to, 0);
        return CLI_OK;
    }
    const char *dpath = local_path(dst);
    char *to;
    if (ends_with_slash(dpath) || local_is_dir(dpath)) {
        /* The name comes from a key: the store's safe join refuses "..", "." and "". */
        char *joined;
        enum hoist_status st = hoist_store_join_path(dpath, name, &joined);
        if (st != HOIST_OK) {
            cli_error_line(src, st, hoist_errmsg(), "; nothing copied");
            return CLI_FAIL;
        }
        to = dup_printf("%s", joined);
        hoist_free(joined);
    } else {
        to = dup_printf("%s", dpath);
    }
    plan_add(p, dup_printf("%s", src), to, 0);
    (void)store;
    return CLI_OK;
}

/* The listing prefix of cp -r SRC (a directory: ends with '/'), or NULL
 * after printing why SRC cannot be copied recursively. */
static char *recursive_prefix(const char *src, bool src_s3) {
    if (src_s3) {
        char *prefix = is_bucket_root(src) || ends_with_slash(src) ? dup_printf("%s", src) : dup_printf("%s/", src);
        if (!strchr(prefix + 5, '/')) {
            char *t = dup_printf("%s/", prefix);
            free(prefix);
            prefix = t;
        }
        return prefix;
    }
    if (!local_is_dir(local_path(src))) {
        fprintf(stderr, "hoist: %s: not a directory (%s)\n", src,
                local_exists(local_path(src)) ? "cp -r copies what is under a directory" : "no such file");
        return NULL;
    }
    char *abs = file_url_abs(src);
    char *prefix = ends_with_slash(abs) ? abs : dup_printf("%s/", abs);
    if (prefix != abs) free(abs);
    return prefix;
}

/* cp -r SRC DIR with a local destination: the store's recursive download
 * (hoist_store_get_prefix: list, safe join, one get_many into files). */
static int copy_prefix_to_local(struct hoist_store *store, const char *src, const char *dst, bool no_overwrite) {
    char *prefix = recursive_prefix(src, is_s3(src));
    if (!prefix) return CLI_FAIL;
    struct hoist_prefix_files files;
    struct cli_progress bar;
    cli_progress_init(&bar, "cp");
    enum hoist_status st = hoist_store_get_prefix(store, prefix, local_path(dst), no_overwrite ? HOIST_NO_OVERWRITE : 0,
                                                  cli_progress_update, &bar, &files);
    cli_progress_finish(&bar);
    int rc = CLI_OK;
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
        rc = report_item_failure(f->url, f->status, f->error, failed, fetched);
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
    int rc = list_prefix(store, prefix, 1, &list);
    if (rc != CLI_OK) {
        free(prefix);
        return rc;
    }
    for (size_t i = 0; i < list.count && rc == CLI_OK; i++) {
        const struct hoist_list_entry *e = &list.entries[i];
        if (e->is_prefix) continue;
        const char *rel = relative_to(e->url, prefix);
        if (!rel && e->prefix) {
            char *ps = ends_with_slash(e->prefix) ? NULL : dup_printf("%s/", e->prefix);
            rel = relative_to(e->url, ps ? ps : e->prefix);
            free(ps);
        }
        if (!rel) {
            fprintf(stderr, "hoist: %s: listed under %s but does not start with it\n", e->url, prefix);
            rc = CLI_FAIL;
            break;
        }
        /* "dir/" placeholder objects (made by consoles) hold no data. */
        if (ends_with_slash(rel) && e->size == 0) continue;
        plan_add(p, dup_printf("%s", e->url), join(dst, rel), e->size);
    }
    if (rc == CLI_OK && p->n == 0) {
        fprintf(stderr, "hoist: %s: nothing to copy (no objects under it)\n", src);
        rc = CLI_FAIL;
    }
    hoist_store_list_reset(&list);
    free(prefix);
    return rc;
}

static int cat_to_stdout(struct hoist_store *store, const char *url);

/* cp - DST: stdin, read whole, becomes one object (or local file). */
static int put_from_stdin(struct hoist_store *store, const char *dst, bool no_overwrite) {
    if (ends_with_slash(dst) || is_bucket_root(dst) || (!is_s3(dst) && local_is_dir(local_path(dst)))) {
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
    const struct flag flags[] = {
        {'r', "--recursive", &recursive, NULL}, {'n', "--no-overwrite", &no_overwrite, NULL}, {0, NULL, NULL, NULL}};
    const char *pos[2];
    int npos, rc;
    if ((rc = parse_args("cp", argc, argv, flags, &opts, pos, 2, &npos)) != CLI_OK) return rc;
    if (npos != 2) return cli_usage_error("cp", "expected SRC and DST");
    const char *src = pos[0], *dst = pos[1];
    if ((rc = check_url("cp", src)) != CLI_OK || (rc = check_url("cp", dst)) != CLI_OK) return rc;
    if (strcmp(src, "s3://") == 0 || strcmp(dst, "s3://") == 0)
        return cli_usage_error("cp", "name a bucket: s3://BUCKET[/KEY]");

    bool from_stdin = strcmp(src, "-") == 0, to_stdout = strcmp(dst, "-") == 0;
    if ((from_stdin || to_stdout) && recursive) return cli_usage_error("cp", "'-' (stdin/stdout) is one object: no -r");
    if (from_stdin && to_stdout) return cli_usage_error("cp", "SRC and DST cannot both be '-'");

    struct copy_plan plan = {.src_s3 = is_s3(src), .dst_s3 = is_s3(dst), .no_overwrite = no_overwrite};
    struct hoist_store *store = NULL;
    if ((rc = open_store(&opts, &store)) != CLI_OK) return rc;
    if (to_stdout || from_stdin) {
        rc = to_stdout ? cat_to_stdout(store, src) : put_from_stdin(store, dst, no_overwrite);
        hoist_store_free(store);
        return rc;
    }
    if (recursive && !plan.dst_s3) {
        rc = copy_prefix_to_local(store, src, dst, no_overwrite);
    } else {
        rc = recursive ? plan_recursive(store, src, dst, &plan) : plan_single(store, src, dst, &plan);
        if (rc == CLI_OK) rc = run_plan(store, &plan);
    }
    plan_free(&plan);
    hoist_store_free(store);
    return rc;
}

/* ---- cat -------------------------------------------------------------------- */

/* Bytes fetched per GET while streaming to stdout: large enough for the
 * store to split into parallel parts, small enough to bound memory. */
#define CAT_CHUNK ((uint64_t)64 << 20)

struct byte_range {
    bool set;
    bool suffix;    /* "-N": the last N bytes */
    uint64_t first; /* inclusive */
    bool open_end;  /* "A-" */
    uint64_t last;  /* inclusive, when !open_end */
};

static int parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "A-B" (inclusive, as HTTP Range), "A-" (to the end), "-N" (last N bytes). */
static int parse_range(const char *text, struct byte_range *r) {
    const char *dash = strchr(text, '-');
    if (!dash || strchr(dash + 1, '-')) return -1;
    memset(r, 0, sizeof *r);
    r->set = true;
    size_t a = (size_t)(dash - text);
    const char *b = dash + 1;
    if (a == 0) {
        r->suffix = true;
        return parse_u64(b, strlen(b), &r->last);
    }
    if (parse_u64(text, a, &r->first) != 0) return -1;
    if (!*b) {
        r->open_end = true;
        return 0;
    }
    if (parse_u64(b, strlen(b), &r->last) != 0 || r->last < r->first) return -1;
    return 0;
}

static int cat_one(struct hoist_store *store, const char *url, const struct byte_range *range, void **buf,
                   size_t *buf_size) {
    struct hoist_info_item it = {.url = url};
    enum hoist_status st = hoist_store_info_many(store, &it, 1, 0);
    if (st != HOIST_OK) {
        int rc = it.status != HOIST_OK ? report_item_failure(url, it.status, it.error, 1, 1) : cli_fail_on(st, url);
        hoist_store_info_item_reset(&it);
        return rc;
    }
    uint64_t size = it.info.size;
    hoist_store_info_item_reset(&it);

    uint64_t start = 0, end = size; /* [start, end) */
    if (range->set) {
        if (range->suffix) {
            start = range->last >= size ? 0 : size - range->last;
        } else {
            if (range->first >= size) {
                fprintf(stderr, "hoist: %s: range starts at byte %" PRIu64 " but the object has %" PRIu64 " bytes\n",
                        url, range->first, size);
                return CLI_FAIL;
            }
            start = range->first;
            if (!range->open_end && range->last + 1 < size) end = range->last + 1;
        }
    }
    for (uint64_t off = start; off < end;) {
        uint64_t want = end - off < CAT_CHUNK ? end - off : CAT_CHUNK;
        if (*buf_size < want) {
            free(*buf);
            *buf = malloc((size_t)want);
            *buf_size = *buf ? (size_t)want : 0;
            if (!*buf) {
                fputs("hoist: out of memory\n", stderr);
                return CLI_FAIL;
            }
        }
        struct hoist_get_item g = {.url = url,
                                   .offset = (int64_t)off,
                                   .length = (int64_t)want,
                                   .dest = HOIST_DEST_BUFFER,
                                   .buffer = *buf,
                                   .buffer_size = *buf_size};
        st = hoist_store_get_many(store, &g, 1, 0, NULL, NULL);
        if (st != HOIST_OK) {
            int rc = g.status != HOIST_OK ? report_item_failure(url, g.status, g.error, 1, 1) : cli_fail_on(st, url);
            hoist_store_get_item_reset(&g);
            return rc;
        }
        uint64_t got = g.size;
        hoist_store_get_item_reset(&g);
        if (got != want) {
            fprintf(stderr,
                    "hoist: %s: object changed while reading (expected %" PRIu64 " bytes at %" PRIu64 ", got %" PRIu64
                    ")\n",
                    url, want, off, got);
            return CLI_FAIL;
        }
        if (fwrite(*buf, 1, (size_t)got, stdout) != got) {
            fprintf(stderr, "hoist: stdout: %s\n", strerror(errno));
            return CLI_FAIL;
        }
        off += got;
    }
    return CLI_OK;
}

static int cat_to_stdout(struct hoist_store *store, const char *url) {
    struct byte_range whole = {0};
    void *buf = NULL;
    size_t buf_size = 0;
    int rc = cat_one(store, url, &whole, &buf, &buf_size);
    free(buf);
    if (fflush(stdout) != 0 && rc == CLI_OK) {
        fprintf(stderr, "hoist: stdout: %s\n", strerror(errno));
        rc = CLI_FAIL;
    }
    return rc;
}

static int run_cat(int argc, char **argv) {
    const char *range_text = NULL;
    struct cli_store_opts opts = {0};
    const struct flag flags[] = {{0, "--range", NULL, &range_text}, {0, NULL, NULL, NULL}};
    const char *pos[64];
    int npos, rc;
    if ((rc = parse_args("cat", argc, argv, flags, &opts, pos, 64, &npos)) != CLI_OK) return rc;
    if (npos < 1) return cli_usage_error("cat", "expected a URL");
    struct byte_range range = {0};
    if (range_text && parse_range(range_text, &range) != 0)
        return cli_usage_error("cat", "--range '%s': expected A-B, A- or -N (byte offsets, B >= A)", range_text);
    for (int i = 0; i < npos; i++)
        if ((rc = check_url("cat", pos[i])) != CLI_OK) return rc;
    struct hoist_store *store = NULL;
    if ((rc = open_store(&opts, &store)) != CLI_OK) return rc;
    void *buf = NULL;
    size_t buf_size = 0;
    for (int i = 0; i < npos && rc == CLI_OK; i++) rc = cat_one(store, pos[i], &range, &buf, &buf_size);
    free(buf);
    if (fflush(stdout) != 0 && rc == CLI_OK) {
        fprintf(stderr, "hoist: stdout: %s\n", strerror(errno));
        rc = CLI_FAIL;
    }
    hoist_store_free(store);
    return rc;
}

/* ---- info ------------------------------------------------------------------- */

static void print_info_text(const struct hoist_object_info *in, const char *url) {
    char when[32], human[32];
    printf("url:           %s\n", in->url ? in->url : url);
    printf("size:          %" PRIu64 " (%s)\n", in->size, cli_format_size(in->size, human, sizeof human));
    printf("last_modified: %s\n", cli_format_time(in->last_modified, 1, when, sizeof when));
    printf("etag:          %s\n", in->etag ? in->etag : "-");
    printf("content_type:  %s\n", in->content_type ? in->content_type : "-");
    printf("metadata:      %s\n", in->metadata_json ? in->metadata_json : "-");
    printf("encryption:    %s\n", in->encryption ? in->encryption : "-");
}

static void print_info_json(const struct hoist_object_info *in, const char *url) {
    char when[32];
    fputs("{\"url\":", stdout);
    cli_json_string(stdout, in->url ? in->url : url);
    printf(",\"size\":%" PRIu64 ",\"last_modified\":", in->size);
    if (in->last_modified)
        cli_json_string(stdout, cli_format_time(in->last_modified, 1, when, sizeof when));
    else
        fputs("null", stdout);
    fputs(",\"etag\":", stdout);
    cli_json_string(stdout, in->etag);
    fputs(",\"content_type\":", stdout);
    cli_json_string(stdout, in->content_type);
    fputs(",\"encryption\":", stdout);
    cli_json_string(stdout, in->encryption);
    /* metadata_json is already a JSON object (hoist.h). */
    printf(",\"metadata\":%s}\n", in->metadata_json && *in->metadata_json ? in->metadata_json : "null");
}

static int run_info(int argc, char **argv) {
    bool json = false;
    struct cli_store_opts opts = {0};
    const struct flag flags[] = {{0, "--json", &json, NULL}, {0, NULL, NULL, NULL}};
    const char *pos[256];
    int npos, rc;
    if ((rc = parse_args("info", argc, argv, flags, &opts, pos, 256, &npos)) != CLI_OK) return rc;
    if (npos < 1) return cli_usage_error("info", "expected a URL");
    for (int i = 0; i < npos; i++)
        if ((rc = check_url("info", pos[i])) != CLI_OK) return rc;
    struct hoist_store *store = NULL;
    if ((rc = open_store(&opts, &store)) != CLI_OK) return rc;
    struct hoist_info_item *items = xcalloc((size_t)npos, sizeof *items);
    for (int i = 0; i < npos; i++) items[i].url = pos[i];
    enum hoist_status st = hoist_store_info_many(store, items, (size_t)npos, HOIST_RETURN_MISSING);
    if (st != HOIST_OK) {
        size_t first = (size_t)npos;
        for (int i = 0; i < npos && first == (size_t)npos; i++)
            if (items[i].status != HOIST_OK) first = (size_t)i;
        rc = first < (size_t)npos ? report_item_failure(items[first].url, items[first].status, items[first].error, 1, 1)
                                  : cli_fail_on(st, npos == 1 ? pos[0] : NULL);
    } else {
        for (int i = 0; i < npos; i++) {
            if (items[i].status != HOIST_OK) {
                report_item_failure(items[i].url, items[i].status, items[i].error, 1, 1);
                rc = CLI_FAIL;
                continue;
            }
            if (json) {
                print_info_json(&items[i].info, items[i].url);
            } else {
                if (i > 0) putchar('\n');
                print_info_text(&items[i].info, items[i].url);
            }
        }
    }
    for (int i = 0; i < npos; i++) hoist_store_info_item_reset(&items[i]);
    free(items);
    hoist_store_free(store);
    return rc;
}

/* ---- rm, mb, rb ------------------------------------------------------------- */

/* Deletes everything under `url` (a prefix, or a whole bucket). */
static int remove_under(struct hoist_store *store, const char *url) {
    struct hoist_list list;
    int rc = list_prefix(store, url, 1, &list);
    if (rc != CLI_OK) return rc;
    const char **urls = xcalloc(list.count, sizeof *urls);
    size_t n = 0;
    for (size_t i = 0; i < list.count; i++)
        if (!list.entries[i].is_prefix) urls[n++] = list.entries[i].url;
    if (n > 0) {
        enum hoist_status st = hoist_store_delete_many(store, urls, n);
        if (st != HOIST_OK) rc = cli_fail_on(st, url);
    }
    free(urls);
    hoist_store_list_reset(&list);
    return rc;
}

static int run_rm(int argc, char **argv) {
    bool recursive = false;
    struct cli_store_opts opts = {0};
    const struct flag flags[] = {{'r', "--recursive", &recursive, NULL}, {0, NULL, NULL, NULL}};
    const char *pos[256];
    int npos, rc;
    if ((rc = parse_args("rm", argc, argv, flags, &opts, pos, 256, &npos)) != CLI_OK) return rc;
    if (npos < 1) return cli_usage_error("rm", "expected a URL");
    for (int i = 0; i < npos; i++) {
        if ((rc = check_url("rm", pos[i])) != CLI_OK) return rc;
        if (!recursive && is_bucket_root(pos[i]))
            return cli_usage_error("rm", "%s is a bucket: use 'rm -r' to empty it, 'rb' to remove it", pos[i]);
    }
    struct hoist_store *store = NULL;
    if ((rc = open_store(&opts, &store)) != CLI_OK) return rc;
    if (recursive) {
        for (int i = 0; i < npos && rc == CLI_OK; i++) rc = remove_under(store, pos[i]);
    } else {
        enum hoist_status st = hoist_store_delete_many(store, pos, (size_t)npos);
        if (st != HOIST_OK) rc = cli_fail_on(st, npos == 1 ? pos[0] : NULL);
    }
    hoist_store_free(store);
    return rc;
}

static int bucket_command(const char *cmd, int argc, char **argv, bool create) {
    bool force = false;
    struct cli_store_opts opts = {0};
    const struct flag flags_rb[] = {{0, "--force", &force, NULL}, {0, NULL, NULL, NULL}};
    const struct flag flags_mb[] = {{0, NULL, NULL, NULL}};
    const char *pos[1];
    int npos, rc;
    if ((rc = parse_args(cmd, argc, argv, create ? flags_mb : flags_rb, &opts, pos, 1, &npos)) != CLI_OK) return rc;
    if (npos != 1) return cli_usage_error(cmd, "expected one bucket URL (s3://BUCKET)");
    const char *url = pos[0];
    if (!is_s3(url) || !is_bucket_root(url) || url[5] == '\0' || url[5] == '/')
        return cli_usage_error(cmd, "'%s' is not a bucket URL (s3://BUCKET)", url);
    struct hoist_store *store = NULL;
    if ((rc = open_store(&opts, &store)) != CLI_OK) return rc;
    enum hoist_status st;
    if (create) {
        st = hoist_store_bucket_create(store, url);
    } else {
        if (force && (rc = remove_under(store, url)) != CLI_OK) {
            hoist_store_free(store);
            return rc;
        }
        /* Some servers (SeaweedFS) delete a bucket with objects in it; S3
         * refuses. Check first so rb means the same everywhere (a PUT racing
         * this check can still be lost on such servers). */
        if (!force) {
            struct hoist_list list;
            if ((rc = list_prefix(store, url, 0, &list)) != CLI_OK) {
                hoist_store_free(store);
                return rc;
            }
            size_t n = list.count;
            hoist_store_list_reset(&list);
            if (n > 0) {
                fprintf(stderr,
                        "hoist: %s: bucket not empty (BucketNotEmpty); empty it with 'hoist rm -r %s' or use "
                        "'hoist rb --force'\n",
                        url, url);
                hoist_store_free(store);
                return CLI_FAIL;
            }
        }
        st = hoist_store_bucket_delete(store, url);
    }
    if (st != HOIST_OK) {
        rc = cli_fail_on(st, url);
    }
    hoist_store_free(store);
    return rc;
}

static int run_mb(int argc, char **argv) { return bucket_command("mb", argc, argv, true); }
static int run_rb(int argc, char **argv) { return bucket_command("rb", argc, argv, false); }

/* ---- command table entries ---------------------------------------------------- */

const struct cli_command cli_cmd_ls = {
    "ls", "list objects and prefixes under a URL",
    "usage: hoist ls [-r] [-l] [--json] URL\n\n"
    "Lists what is under URL (s3://bucket/prefix, file:///dir or a local dir), one entry per\n"
    "line with no header or footer, so the output pipes into other tools. Prefixes\n"
    "(\"directories\") end with '/'. A URL naming one object lists that object.\n\n"
    "  -r, --recursive   every object below URL, not just one level\n"
    "  -l, --long        date (UTC), size in bytes and URL; prefixes show PRE\n"
    "  --json            one JSON object per line: url, type, size, last_modified, etag\n\n" CLI_STORE_OPTS_HELP,
    run_ls};

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

const struct cli_command cli_cmd_cat = {"cat", "write an object (or a byte range) to stdout",
                                        "usage: hoist cat [--range A-B] URL...\n\n"
                                        "Writes the objects' bytes to stdout, in order.\n\n"
                                        "  --range A-B   bytes A to B inclusive (0-based); 'A-' from A to the end;\n"
                                        "                '-N' the last N bytes\n\n" CLI_STORE_OPTS_HELP,
                                        run_cat};

const struct cli_command cli_cmd_info = {
    "info", "show an object's size, date, ETag, content type and metadata",
    "usage: hoist info [--json] URL...\n\n"
    "Shows what a HEAD request tells about each object.\n\n"
    "  --json   one JSON object per line: url, size, last_modified, etag, content_type,\n"
    "           metadata\n\n" CLI_STORE_OPTS_HELP,
    run_info};

const struct cli_command cli_cmd_rm = {
    "rm", "delete objects",
    "usage: hoist rm [-r] URL...\n\n"
    "Deletes the objects named. Deleting an object that does not exist is not an error.\n\n"
    "  -r, --recursive   delete every object under each URL (a prefix or a bucket)\n\n" CLI_STORE_OPTS_HELP,
    run_rm};

const struct cli_command cli_cmd_mb = {
    "mb", "create a bucket",
    "usage: hoist mb s3://BUCKET\n\nCreates a bucket (meant for local servers and tests).\n\n" CLI_STORE_OPTS_HELP,
    run_mb};

const struct cli_command cli_cmd_rb = {"rb", "delete a bucket",
                                       "usage: hoist rb [--force] s3://BUCKET\n\n"
                                       "Deletes an empty bucket.\n\n"
                                       "  --force   delete every object in it first\n\n" CLI_STORE_OPTS_HELP,
                                       run_rb};
