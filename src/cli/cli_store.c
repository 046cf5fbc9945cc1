/* cli_store.c — the object store commands ls, cat, info, rm, mb, rb, and the
 * helpers they share with cp (cli_cp.c).
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

int cli_parse_store_args(const char *cmd, int argc, char **argv, const struct cli_flag *flags,
                         struct cli_store_opts *opts, const char **pos, int max_pos, int *npos) {
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
            for (const struct cli_flag *f = flags; f && (f->short_name || f->long_name); f++) {
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
            const struct cli_flag *hit = NULL;
            for (const struct cli_flag *f = flags; f && (f->short_name || f->long_name); f++)
                if (f->short_name == *c && f->set) hit = f;
            if (!hit) return cli_usage_error(cmd, "unknown option '-%c'", *c);
            *hit->set = true;
        }
    }
    return CLI_OK;
}

/* ---- URLs and local paths --------------------------------------------------- */

bool cli_is_s3(const char *url) { return strncmp(url, "s3://", 5) == 0; }

static bool is_file_url(const char *url) { return strncmp(url, "file://", 7) == 0; }

/* A scheme other than s3:// and file:// (http://, gs://...) cannot be used
 * here; anything without "://" is a local path. */
static bool has_unknown_scheme(const char *url) {
    const char *sep = strstr(url, "://");
    if (!sep || cli_is_s3(url) || is_file_url(url)) return false;
    for (const char *p = url; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
              *p == '-' || *p == '.'))
            return false;
    return sep > url;
}

const char *cli_local_path(const char *url) { return is_file_url(url) ? url + 7 : url; }

bool cli_ends_with_slash(const char *s) {
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '/';
}

/* "s3://bucket" or "s3://bucket/": the whole bucket. */
bool cli_is_bucket_root(const char *url) {
    if (!cli_is_s3(url)) return false;
    const char *slash = strchr(url + 5, '/');
    return !slash || slash[1] == '\0';
}

char *cli_dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cli_dup_printf(const char *fmt, ...) {
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

void *cli_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("hoist: out of memory\n", stderr);
        exit(CLI_FAIL);
    }
    return p;
}

bool cli_local_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* One line for a *_many call where `failed` of `total` items failed; the
 * first failure (url, status, its message) stands for them. */
int cli_report_item_failure(const char *url, enum hoist_status status, const char *error, size_t failed, size_t total) {
    char extra[64] = "";
    if (failed > 1) snprintf(extra, sizeof extra, " (%zu of %zu objects failed)", failed, total);
    cli_error_line(url, status, error, extra);
    return CLI_FAIL;
}

int cli_open_store(const struct cli_store_opts *opts, struct hoist_store **store) {
    enum hoist_status st = cli_store_open(opts, store);
    return st == HOIST_OK ? CLI_OK : cli_fail_on(st, NULL);
}

int cli_check_url(const char *cmd, const char *url) {
    if (!*url) return cli_usage_error(cmd, "empty URL");
    if (has_unknown_scheme(url))
        return cli_usage_error(cmd, "%s: unsupported URL scheme (use s3://, file:// or a local path)", url);
    return CLI_OK;
}

/* ---- listing ---------------------------------------------------------------- */

/* Lists everything under `prefix` (recursive) into *out. Returns CLI_OK or
 * CLI_FAIL (message printed). */
int cli_list_prefix(struct hoist_store *store, const char *prefix, int recursive, struct hoist_list *out) {
    memset(out, 0, sizeof *out);
    const char *prefixes[1] = {prefix};
    enum hoist_status st = hoist_store_list(store, prefixes, 1, recursive, out);
    if (st != HOIST_OK) return cli_fail_on(st, prefix);
    return CLI_OK;
}

/* One URL on its own line of stdout, control characters escaped
 * (cli_put_safe): a key is any bytes, and a newline in one must not pass for
 * two entries, nor an escape sequence reach the terminal. */
static void print_url(const char *url) {
    cli_put_safe(stdout, url);
    putchar('\n');
}

static void print_entry_long(const struct hoist_list_entry *e) {
    char when[32];
    if (e->is_prefix)
        printf("%-19s %12s  ", "", "PRE");
    else
        printf("%-19s %12" PRIu64 "  ", cli_format_time(e->last_modified, 0, when, sizeof when), e->size);
    print_url(e->url);
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

static void print_entry(const struct hoist_list_entry *e, bool json, bool longfmt) {
    if (json)
        print_entry_json(e);
    else if (longfmt)
        print_entry_long(e);
    else
        print_url(e->url);
}

static int run_ls(int argc, char **argv) {
    bool recursive = false, longfmt = false, json = false;
    struct cli_store_opts opts = {0};
    const struct cli_flag flags[] = {{'r', "--recursive", &recursive, NULL},
                                     {'l', "--long", &longfmt, NULL},
                                     {0, "--json", &json, NULL},
                                     {0, NULL, NULL, NULL}};
    const char *pos[1];
    int npos, rc;
    if ((rc = cli_parse_store_args("ls", argc, argv, flags, &opts, pos, 1, &npos)) != CLI_OK) return rc;
    if (npos != 1) return cli_usage_error("ls", "expected one URL");
    const char *url = pos[0];
    if ((rc = cli_check_url("ls", url)) != CLI_OK) return rc;
    if (strcmp(url, "s3://") == 0) return cli_usage_error("ls", "listing buckets is not supported: name one");

    struct hoist_store *store = NULL;
    if ((rc = cli_open_store(&opts, &store)) != CLI_OK) return rc;
    /* Streamed: one page of entries in memory however many there are. */
    struct hoist_list_iter *iter = NULL;
    enum hoist_status lst = hoist_store_list_open(store, url, recursive, &iter);
    size_t count = 0;
    for (const struct hoist_list_entry *e = NULL; lst == HOIST_OK;) {
        if ((lst = hoist_store_list_next(iter, &e)) != HOIST_OK || e == NULL) break;
        count++;
        print_entry(e, json, longfmt);
    }
    hoist_store_list_close(iter);
    if (lst != HOIST_OK) {
        rc = cli_fail_on(lst, url);
        goto done;
    }

    if (count == 0 && !cli_ends_with_slash(url) && !cli_is_bucket_root(url)) {
        /* "ls s3://b/key" of an object (not a prefix) shows that object, as
         * ls(1) does for a file. */
        struct hoist_info_item it = {.url = url};
        enum hoist_status st = hoist_store_info_many(store, &it, 1, HOIST_RETURN_MISSING);
        if (st != HOIST_OK) {
            rc = cli_fail_on(st, url);
        } else if (it.status != HOIST_OK) {
            fputs("hoist: ", stderr);
            cli_put_safe(stderr, url);
            fputs(": no such object or prefix\n", stderr);
            rc = CLI_FAIL;
        } else {
            struct hoist_list_entry e = {.url = it.info.url ? it.info.url : (char *)url,
                                         .size = it.info.size,
                                         .last_modified = it.info.last_modified,
                                         .etag = it.info.etag};
            print_entry(&e, json, longfmt);
        }
        hoist_store_info_item_reset(&it);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "hoist: stdout: %s\n", strerror(errno));
        rc = CLI_FAIL;
    }
done:
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
        int rc = it.status != HOIST_OK ? cli_report_item_failure(url, it.status, it.error, 1, 1) : cli_fail_on(st, url);
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
            int rc =
                g.status != HOIST_OK ? cli_report_item_failure(url, g.status, g.error, 1, 1) : cli_fail_on(st, url);
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

int cli_cat_to_stdout(struct hoist_store *store, const char *url) {
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
    const struct cli_flag flags[] = {{0, "--range", NULL, &range_text}, {0, NULL, NULL, NULL}};
    const char *pos[64];
    int npos, rc;
    if ((rc = cli_parse_store_args("cat", argc, argv, flags, &opts, pos, 64, &npos)) != CLI_OK) return rc;
    if (npos < 1) return cli_usage_error("cat", "expected a URL");
    struct byte_range range = {0};
    if (range_text && parse_range(range_text, &range) != 0)
        return cli_usage_error("cat", "--range '%s': expected A-B, A- or -N (byte offsets, B >= A)", range_text);
    for (int i = 0; i < npos; i++)
        if ((rc = cli_check_url("cat", pos[i])) != CLI_OK) return rc;
    struct hoist_store *store = NULL;
    if ((rc = cli_open_store(&opts, &store)) != CLI_OK) return rc;
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
    fputs("url:           ", stdout);
    print_url(in->url ? in->url : url);
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
    const struct cli_flag flags[] = {{0, "--json", &json, NULL}, {0, NULL, NULL, NULL}};
    const char *pos[256];
    int npos, rc;
    if ((rc = cli_parse_store_args("info", argc, argv, flags, &opts, pos, 256, &npos)) != CLI_OK) return rc;
    if (npos < 1) return cli_usage_error("info", "expected a URL");
    for (int i = 0; i < npos; i++)
        if ((rc = cli_check_url("info", pos[i])) != CLI_OK) return rc;
    struct hoist_store *store = NULL;
    if ((rc = cli_open_store(&opts, &store)) != CLI_OK) return rc;
    struct hoist_info_item *items = cli_xcalloc((size_t)npos, sizeof *items);
    for (int i = 0; i < npos; i++) items[i].url = pos[i];
    enum hoist_status st = hoist_store_info_many(store, items, (size_t)npos, HOIST_RETURN_MISSING);
    if (st != HOIST_OK) {
        size_t first = (size_t)npos;
        for (int i = 0; i < npos && first == (size_t)npos; i++)
            if (items[i].status != HOIST_OK) first = (size_t)i;
        rc = first < (size_t)npos
                 ? cli_report_item_failure(items[first].url, items[first].status, items[first].error, 1, 1)
                 : cli_fail_on(st, npos == 1 ? pos[0] : NULL);
    } else {
        for (int i = 0; i < npos; i++) {
            if (items[i].status != HOIST_OK) {
                cli_report_item_failure(items[i].url, items[i].status, items[i].error, 1, 1);
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

/* Keys per delete_many call of rm -r: one DeleteObjects request's worth. */
#define RM_BATCH 1000

/* Deletes everything under `url` (a prefix, or a whole bucket), streaming
 * the listing: memory stays at one page and one batch of keys. Deleting
 * behind the listing is safe: continuation tokens are positions in key
 * order, not offsets. */
static int remove_under(struct hoist_store *store, const char *url) {
    struct hoist_list_iter *iter = NULL;
    enum hoist_status st = hoist_store_list_open(store, url, 1, &iter);
    char **batch = cli_xcalloc(RM_BATCH, sizeof *batch);
    size_t n = 0;
    for (const struct hoist_list_entry *e = NULL; st == HOIST_OK;) {
        st = hoist_store_list_next(iter, &e);
        if (st == HOIST_OK && e != NULL && !e->is_prefix) batch[n++] = cli_dup_printf("%s", e->url);
        if (st == HOIST_OK && n > 0 && (n == RM_BATCH || e == NULL)) {
            st = hoist_store_delete_many(store, (const char *const *)batch, n);
            for (size_t i = 0; i < n; i++) free(batch[i]);
            n = 0;
        }
        if (e == NULL) break;
    }
    for (size_t i = 0; i < n; i++) free(batch[i]);
    free(batch);
    hoist_store_list_close(iter);
    return st == HOIST_OK ? CLI_OK : cli_fail_on(st, url);
}

static int run_rm(int argc, char **argv) {
    bool recursive = false;
    struct cli_store_opts opts = {0};
    const struct cli_flag flags[] = {{'r', "--recursive", &recursive, NULL}, {0, NULL, NULL, NULL}};
    const char *pos[256];
    int npos, rc;
    if ((rc = cli_parse_store_args("rm", argc, argv, flags, &opts, pos, 256, &npos)) != CLI_OK) return rc;
    if (npos < 1) return cli_usage_error("rm", "expected a URL");
    for (int i = 0; i < npos; i++) {
        if ((rc = cli_check_url("rm", pos[i])) != CLI_OK) return rc;
        if (!recursive && cli_is_bucket_root(pos[i]))
            return cli_usage_error("rm", "%s is a bucket: use 'rm -r' to empty it, 'rb' to remove it", pos[i]);
    }
    struct hoist_store *store = NULL;
    if ((rc = cli_open_store(&opts, &store)) != CLI_OK) return rc;
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
    const struct cli_flag flags_rb[] = {{0, "--force", &force, NULL}, {0, NULL, NULL, NULL}};
    const struct cli_flag flags_mb[] = {{0, NULL, NULL, NULL}};
    const char *pos[1];
    int npos, rc;
    if ((rc = cli_parse_store_args(cmd, argc, argv, create ? flags_mb : flags_rb, &opts, pos, 1, &npos)) != CLI_OK)
        return rc;
    if (npos != 1) return cli_usage_error(cmd, "expected one bucket URL (s3://BUCKET)");
    const char *url = pos[0];
    if (!cli_is_s3(url) || !cli_is_bucket_root(url) || url[5] == '\0' || url[5] == '/')
        return cli_usage_error(cmd, "'%s' is not a bucket URL (s3://BUCKET)", url);
    struct hoist_store *store = NULL;
    if ((rc = cli_open_store(&opts, &store)) != CLI_OK) return rc;
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
            if ((rc = cli_list_prefix(store, url, 0, &list)) != CLI_OK) {
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
