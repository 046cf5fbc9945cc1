/* cli_csv.c — hoist load / schema / head on a CSV file or object (plain,
 * .gz, .zst or .bz2; local or s3://), through the public CSV API only; on a
 * directory, prefix or glob of CSV files (or with --filter/--limit), through
 * the dataset API with format CSV (Hive partitions, projection, filter).
 * cli_dataset.c hands a command over when the URL looks like CSV or
 * --format csv is given. */
#include "cli_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

struct csv_opts {
    struct cli_store_opts store;
    const char *cmd;
    const char *path;
    struct hoist_csv_options *o;
    int64_t rows;
    bool quiet;
    /* the dataset route: a directory, prefix or glob of CSV files, or a filter/limit */
    const char *columns, *filter;
    int64_t limit;
    bool no_hive;
    /* load --output: Parquet (file or dataset, with the write options), .csv or .arrow */
    const char *output;
    enum cli_load_output output_kind;
    struct cli_write_opts write;
};

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Options that take no value, of the dataset commands and of CSV. */
static bool is_flag(const char *a) {
    static const char *const flags[] = {"--skip-bad", "--skip-bad-rows", "--no-hive",     "-q",
                                        "--quiet",    "--header",        "--no-header",   "--no-sign-request",
                                        "-h",         "--help",          "--no-manifest", "--keep-partition-columns"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(a, flags[i])) return true;
    return strchr(a, '=') != NULL; /* --name=value */
}

bool cli_csv_wants(int argc, char **argv) {
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--format=csv") || (!strcmp(a, "--format") && i + 1 < argc && !strcmp(argv[i + 1], "csv")))
            return true;
        if (a[0] == '-' && a[1]) {
            if (!is_flag(a)) i++; /* skip the option's value (--output x.csv is no CSV input) */
        } else if (!url) {
            url = a;
        }
    }
    static const char *const exts[] = {".csv", ".csv.gz", ".csv.zst", ".csv.bz2",
                                       ".tsv", ".tsv.gz", ".tsv.zst", ".tsv.bz2"};
    for (size_t k = 0; url && k < sizeof exts / sizeof exts[0]; k++)
        if (has_suffix(url, exts[k])) return true;
    return false;
}

/* "a,b" -> list option; NULL-safe split on commas (empty items kept for
 * null values, where "" is a real null string). */
static enum hoist_status set_list(struct hoist_csv_options *o, enum hoist_csv_list which, const char *text) {
    char *copy = strdup(text);
    size_t n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    const char **items = calloc(n, sizeof *items);
    enum hoist_status st = HOIST_ERR_NOMEM;
    if (copy && items) {
        size_t k = 0;
        char *p = copy;
        for (;;) {
            char *comma = strchr(p, ',');
            if (comma) *comma = '\0';
            items[k++] = p;
            if (!comma) break;
            p = comma + 1;
        }
        st = hoist_csv_options_set_strings(o, which, items, k);
    }
    free(copy);
    free(items);
    return st;
}

static enum hoist_status set_types(struct hoist_csv_options *o, const char *text) {
    char *copy = strdup(text), *save = NULL;
    if (!copy) return HOIST_ERR_NOMEM;
    enum hoist_status st = HOIST_OK;
    for (char *t = strtok_r(copy, ",", &save); t && st == HOIST_OK; t = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(t, ':');
        if (!colon) {
            free(copy);
            return HOIST_ERR_USAGE;
        }
        *colon = '\0';
        st = hoist_csv_options_set_column_type(o, t, colon + 1);
    }
    free(copy);
    return st;
}

static int byte_opt(const char *v) {
    if (!strcmp(v, "\\t") || !strcmp(v, "tab")) return '\t';
    if (!strcmp(v, "none") || !v[0]) return 0;
    return v[1] ? -2 : (unsigned char)v[0];
}

static int parse(const char *cmd, int argc, char **argv, struct csv_opts *c) {
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    /* Each command takes what its Parquet form takes (cli_dataset.c), so
     * one help text is true of both. */
    const bool load = !strcmp(cmd, "load"), head = !strcmp(cmd, "head");
    c->rows = 10;
    c->limit = -1;
    if (hoist_csv_options_new(&c->o) != HOIST_OK) return cli_fail(HOIST_ERR_NOMEM);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        enum hoist_status st = HOIST_OK;
        if ((r = cli_store_opts_parse(cmd, &c->store, argc, argv, &i)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if (load && (r = cli_write_opts_parse(cmd, &c->write, argc, argv, &i)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if (load && (r = cli_opt_value(cmd, "--output", argc, argv, &i, &v)) != 0) {
            if (r < 0 || cli_load_output_check(v, &c->output_kind) != CLI_OK) return CLI_USAGE;
            c->output = v;
        } else if ((r = cli_opt_value(cmd, "--format", argc, argv, &i, &v)) != 0) {
            if (r < 0 || strcmp(v, "csv")) return cli_usage_error(cmd, "--format: only 'csv' is read here");
        } else if ((r = cli_opt_value(cmd, "--delimiter", argc, argv, &i, &v)) != 0) {
            int b = r < 0 ? -2 : byte_opt(v);
            if (b <= 0) return cli_usage_error(cmd, "--delimiter: one character (or \\t)");
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_DELIMITER, b);
        } else if ((r = cli_opt_value(cmd, "--quote", argc, argv, &i, &v)) != 0) {
            int b = r < 0 ? -2 : byte_opt(v);
            if (b < 0) return cli_usage_error(cmd, "--quote: one character or 'none'");
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_QUOTE, b);
        } else if ((r = cli_opt_value(cmd, "--escape", argc, argv, &i, &v)) != 0) {
            int b = r < 0 ? -2 : byte_opt(v);
            if (b < 0) return cli_usage_error(cmd, "--escape: one character");
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_ESCAPE, b);
        } else if ((r = cli_opt_value(cmd, "--comment", argc, argv, &i, &v)) != 0) {
            int b = r < 0 ? -2 : byte_opt(v);
            if (b < 0) return cli_usage_error(cmd, "--comment: one character");
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_COMMENT, b);
        } else if (!strcmp(a, "--header") || !strcmp(a, "--no-header")) {
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_HEADER, a[2] == 'h');
        } else if ((r = cli_opt_value(cmd, "--columns", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            c->columns = v;
            st = set_list(c->o, HOIST_CSV_COLUMNS, v);
        } else if ((r = cli_opt_value(cmd, "--filter", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            c->filter = v;
        } else if (load && (r = cli_opt_value(cmd, "--limit", argc, argv, &i, &v)) != 0) {
            char *end = NULL;
            c->limit = r < 0 ? -1 : strtoll(v, &end, 10);
            if (c->limit < 0 || !end || *end) return cli_usage_error(cmd, "--limit: a row count");
        } else if (!strcmp(a, "--no-hive")) {
            c->no_hive = true;
        } else if ((r = cli_opt_value(cmd, "--null-values", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            st = set_list(c->o, HOIST_CSV_NULL_VALUES, v);
        } else if ((r = cli_opt_value(cmd, "--types", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            st = set_types(c->o, v);
            if (st == HOIST_ERR_USAGE) return cli_usage_error(cmd, "--types: NAME:TYPE,... (e.g. id:int64,day:date32)");
        } else if ((r = cli_opt_value(cmd, "--threads", argc, argv, &i, &v)) != 0) {
            char *end = NULL;
            long t = r < 0 ? -1 : strtol(v, &end, 10);
            if (t < 0 || !end || *end) return cli_usage_error(cmd, "--threads: a thread count");
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_THREADS, t);
        } else if (!strcmp(a, "--skip-bad") || !strcmp(a, "--skip-bad-rows")) {
            st = hoist_csv_options_set_int(c->o, HOIST_CSV_SKIP_BAD_ROWS, 1);
        } else if (load && (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
            c->quiet = true;
        } else if (head && (!strcmp(a, "-n") || (r = cli_opt_value(cmd, "--rows", argc, argv, &i, &v)) != 0)) {
            if (!strcmp(a, "-n"))
                v = i + 1 < argc ? argv[++i] : NULL;
            else if (r < 0)
                return CLI_USAGE; /* cli_opt_value said what is missing */
            char *end = NULL;
            c->rows = v ? strtoll(v, &end, 10) : -1;
            if (!v || c->rows < 0 || *end) return cli_usage_error(cmd, "-n: a row count");
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(cmd, "unknown option '%s' for a CSV file", a);
        } else if (!c->path) {
            c->path = a;
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s' (one CSV file)", a);
        }
        if (st != HOIST_OK) return cli_fail(st);
    }
    if (!c->path) return cli_usage_error(cmd, "missing the CSV file");
    return CLI_OK;
}

/* A directory, prefix or glob (many files), or a filter/limit: the dataset route. */
static bool wants_dataset(const struct csv_opts *c) {
    if (c->filter || c->limit >= 0 || c->no_hive || c->output) return true;
    const char *k = strstr(c->path, "://");
    k = k ? k + 3 : c->path;
    if (strpbrk(k, "*?[") || c->path[strlen(c->path) - 1] == '/') return true;
    struct stat sb;
    const char *local = strncmp(c->path, "file://", 7) ? c->path : c->path + 7;
    return !strstr(c->path, "://") || !strncmp(c->path, "file://", 7) ? stat(local, &sb) == 0 && S_ISDIR(sb.st_mode)
                                                                      : false;
}

static enum hoist_status set_columns(struct hoist_dataset_config *cfg, const char *text) {
    char *copy = strdup(text), *save = NULL;
    const char **v = calloc(strlen(text) + 1, sizeof *v);
    size_t n = 0;
    enum hoist_status st = HOIST_ERR_NOMEM;
    if (copy && v) {
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) v[n++] = t;
        st = hoist_dataset_config_set_columns(cfg, v, n);
    }
    free(copy);
    free(v);
    return st;
}

/* Opens the CSV dataset of c->path with c's options. */
static enum hoist_status open_csv_dataset(const struct csv_opts *c, struct hoist_store *store,
                                          struct hoist_dataset **ds) {
    struct hoist_dataset_config *cfg = NULL;
    enum hoist_status st = hoist_dataset_config_new(&cfg);
    if (st == HOIST_OK) st = hoist_dataset_config_set_format(cfg, HOIST_DATASET_CSV);
    if (st == HOIST_OK) st = hoist_dataset_config_set_csv_options(cfg, c->o);
    if (st == HOIST_OK && c->columns) st = set_columns(cfg, c->columns);
    if (st == HOIST_OK && c->filter) st = hoist_dataset_config_set_filter(cfg, c->filter);
    if (st == HOIST_OK && c->limit >= 0) st = hoist_dataset_config_set_limit(cfg, c->limit);
    if (st == HOIST_OK && c->no_hive) st = hoist_dataset_config_set_hive(cfg, 0);
    const char *urls[1] = {c->path};
    if (st == HOIST_OK) st = hoist_dataset_open(store, urls, 1, cfg, ds);
    hoist_dataset_config_free(cfg);
    return st;
}

/* load --output: the scan streams into the Parquet writer (file or
 * partitioned dataset), a CSV file/object or an Arrow IPC file; memory is
 * bounded by the scan's and the writer's budgets, not by the data. */
static int run_csv_output(struct csv_opts *c) {
    struct hoist_store *store = NULL;
    struct hoist_dataset *ds = NULL;
    struct ArrowArrayStream s = {0};
    enum hoist_status st = cli_store_open(&c->store, &store);
    if (st == HOIST_OK) st = open_csv_dataset(c, store, &ds);
    if (st == HOIST_OK) st = hoist_dataset_scan(ds, &s);
    int rc = CLI_OK;
    if (st != HOIST_OK) {
        rc = cli_fail_on(st, c->path);
    } else if (c->output_kind == CLI_LOAD_OUT_CSV || c->output_kind == CLI_LOAD_OUT_STDOUT) {
        rc = cli_write_csv(store, c->output, c->o, &s);
    } else if (c->output_kind == CLI_LOAD_OUT_ARROW) {
        st = hoist_arrow_ipc_write_file(c->output, &s);
        rc = st == HOIST_OK ? CLI_OK : cli_fail_on(st, c->output);
    } else {
        struct cli_progress bar;
        cli_progress_init(&bar, "load");
        rc = cli_write_stream(&c->write, store, &s, c->output, &bar, c->quiet);
    }
    if (s.release) s.release(&s);
    hoist_dataset_close(ds);
    hoist_store_free(store);
    return rc;
}

static enum hoist_status read_dataset(const struct csv_opts *c, struct hoist_store *store, struct ArrowArrayStream *s,
                                      struct hoist_csv_stats *stats) {
    struct hoist_dataset *ds = NULL;
    enum hoist_status st = open_csv_dataset(c, store, &ds);
    if (st == HOIST_OK) st = hoist_dataset_load(ds, s);
    if (st == HOIST_OK && stats) {
        struct hoist_dataset_stats ds_stats;
        hoist_dataset_get_stats(ds, &ds_stats, sizeof ds_stats);
        memset(stats, 0, sizeof *stats);
        stats->rows = ds_stats.rows;
        stats->bytes = ds_stats.bytes_fetched;
    }
    hoist_dataset_close(ds);
    return st;
}

/* A local file, or an object through a store made from the options; many
 * files (or a filter) through the dataset API. */
static enum hoist_status read_csv(const struct csv_opts *c, struct ArrowArrayStream *s, struct hoist_csv_stats *stats) {
    struct hoist_store *store = NULL;
    enum hoist_status st = HOIST_OK;
    if (strstr(c->path, "://") && strncmp(c->path, "file://", 7)) st = cli_store_open(&c->store, &store);
    if (st == HOIST_OK && wants_dataset(c))
        st = read_dataset(c, store, s, stats);
    else if (st == HOIST_OK)
        st = hoist_csv_read_url(store, c->path, c->o, s, stats, stats ? sizeof *stats : 0);
    hoist_store_free(store);
    return st;
}

/* ---- commands ------------------------------------------------------------------ */

static int fail(const struct csv_opts *c, enum hoist_status st) { return cli_fail_on(st, c->path); }

static uint64_t array_bytes(const char *fmt, const struct ArrowArray *a) {
    uint64_t n = (uint64_t)a->length, b = a->null_count ? (n + 7) / 8 : 0;
    if (fmt[0] == 'u') return b + 4 * (n + 1) + (uint64_t)((const int32_t *)a->buffers[1])[n];
    if (fmt[0] == 'b') return b + (n + 7) / 8;
    if ((fmt[0] == 't' && fmt[1] == 'd') || fmt[0] == 'i') return b + 4 * n;
    return fmt[0] == 'n' ? 0 : b + 8 * n;
}

static int run_csv_load(struct csv_opts *c) {
    double t0 = cli_now();
    struct ArrowArrayStream s;
    struct hoist_csv_stats stats;
    enum hoist_status st = read_csv(c, &s, &stats);
    if (st != HOIST_OK) return fail(c, st);
    double wall = cli_now() - t0;
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) != 0) {
        s.release(&s);
        return cli_fail(HOIST_ERR_NOMEM);
    }
    uint64_t bytes = 0;
    int64_t batches = 0;
    for (;;) {
        struct ArrowArray b;
        if (s.get_next(&s, &b) != 0 || !b.release) break;
        for (int64_t k = 0; k < b.n_children; k++) bytes += array_bytes(sc.children[k]->format, b.children[k]);
        batches++;
        b.release(&b);
    }
    if (!c->quiet) {
        char a[32], r[32];
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("rows        %" PRId64 " (%" PRId64 " batches), %" PRId64 " columns\n", stats.rows, batches,
               sc.n_children);
        printf("input       %s of CSV text in %.3f s (%s/s)\n", cli_format_size(stats.bytes, a, sizeof a), wall,
               cli_format_size(wall > 0 ? (uint64_t)((double)stats.bytes / wall) : 0, r, sizeof r));
        printf("table       %s of Arrow buffers\n", cli_format_size(bytes, a, sizeof a));
        if (stats.bad_rows) {
            printf("bad rows    %" PRId64 " skipped, lines", stats.bad_rows);
            for (int64_t i = 0; i < stats.bad_rows && i < 8; i++) printf(" %" PRIu64, stats.bad_lines[i]);
            printf("%s\n", stats.bad_rows > 8 ? " ..." : "");
        }
        printf("peak RSS    %s\n", cli_format_size((uint64_t)ru.ru_maxrss * 1024, a, sizeof a));
    }
    sc.release(&sc);
    s.release(&s);
    return CLI_OK;
}

static int run_csv_schema(struct csv_opts *c) {
    struct ArrowArrayStream s;
    struct hoist_csv_stats stats;
    enum hoist_status st = read_csv(c, &s, &stats);
    if (st != HOIST_OK) return fail(c, st);
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) == 0) {
        for (int64_t k = 0; k < sc.n_children; k++) {
            char buf[96];
            printf("%s: %s\n", sc.children[k]->name, cli_type_name(sc.children[k]->format, buf, sizeof buf));
        }
        printf("-- CSV, %" PRId64 " rows\n", stats.rows);
        sc.release(&sc);
    }
    s.release(&s);
    return CLI_OK;
}

static int run_csv_head(struct csv_opts *c) {
    struct ArrowArrayStream s;
    enum hoist_status st = read_csv(c, &s, NULL);
    if (st != HOIST_OK) return fail(c, st);
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) != 0) {
        s.release(&s);
        return cli_fail(HOIST_ERR_NOMEM);
    }
    int rc = cli_print_head(&s, &sc, c->rows);
    sc.release(&sc);
    s.release(&s);
    return rc;
}

int cli_csv_run(int argc, char **argv) {
    struct csv_opts c;
    int rc = parse(argv[0], argc, argv, &c);
    if (rc == CLI_OK) {
        if (!strcmp(argv[0], "schema"))
            rc = run_csv_schema(&c);
        else if (c.output)
            rc = run_csv_output(&c);
        else if (!strcmp(argv[0], "head"))
            rc = run_csv_head(&c);
        else
            rc = run_csv_load(&c);
    }
    hoist_csv_options_free(c.o);
    return rc;
}

/* ---- convert's input-format dispatch --------------------------------------------- */

static bool csv_name(const char *url) {
    static const char *const exts[] = {".csv", ".csv.gz", ".csv.zst", ".csv.bz2",
                                       ".tsv", ".tsv.gz", ".tsv.zst", ".tsv.bz2"};
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
        if (has_suffix(url, exts[k])) return true;
    return false;
}

enum hoist_status cli_csv_dataset_config(const char *const *srcs, size_t n, const char *format,
                                         struct hoist_dataset_config **cfg) {
    *cfg = NULL;
    bool csv = format && !strcmp(format, "csv");
    if (format && !csv && strcmp(format, "parquet")) return HOIST_ERR_INVALID_ARG;
    for (size_t i = 0; !format && i < n; i++) {
        csv = csv_name(srcs[i]);
        if (!csv) break;
    }
    if (!csv) return HOIST_OK;
    enum hoist_status st = hoist_dataset_config_new(cfg);
    if (st == HOIST_OK) st = hoist_dataset_config_set_format(*cfg, HOIST_DATASET_CSV);
    if (st != HOIST_OK) {
        hoist_dataset_config_free(*cfg);
        *cfg = NULL;
    }
    return st;
}
