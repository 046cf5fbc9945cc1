/* cli_write.c — writing Parquet from the command line: the write options of
 * `hoist load --output <parquet target>`, and `hoist convert SRC DST` (from
 * Parquet datasets or an Arrow IPC file/stream).
 * Ctrl-C / SIGTERM cancel the write cleanly (nothing is left behind) and
 * exit with 128 + the signal number. Public API only (STYLE.md). */
#include "cli_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct write_progress {
    struct cli_progress *bar; /* NULL: someone else draws */
};

static int write_progress_cb(const struct hoist_progress *p, void *ud) {
    struct write_progress *wp = ud;
    if (cli_signal_caught()) return 1;
    return wp->bar ? cli_progress_update(p, wp->bar) : 0;
}

static int parse_count(const char *cmd, const char *opt, const char *v, int64_t *out) {
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (errno || !*v || *end || n < 0) return cli_usage_error(cmd, "%s: '%s' is not a count", opt, v);
    *out = n;
    return 0;
}

int cli_write_opts_parse(const char *cmd, struct cli_write_opts *o, int argc, char **argv, int *i) {
    const char *v = NULL;
    int r;
    if ((r = cli_opt_value(cmd, "--partition-by", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        o->partition_by = v;
    } else if ((r = cli_opt_value(cmd, "--compression", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        o->compression = v;
    } else if ((r = cli_opt_value(cmd, "--row-group-size", argc, argv, i, &v)) != 0) {
        if (r < 0 || parse_count(cmd, "--row-group-size", v, &o->row_group_rows)) return -1;
    } else if ((r = cli_opt_value(cmd, "--max-rows-per-file", argc, argv, i, &v)) != 0) {
        if (r < 0 || parse_count(cmd, "--max-rows-per-file", v, &o->max_rows_per_file)) return -1;
    } else if ((r = cli_opt_value(cmd, "--max-bytes-per-file", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (cli_parse_size(v, &o->max_bytes_per_file) != 0 || o->max_bytes_per_file < 0) {
            cli_usage_error(cmd, "--max-bytes-per-file: '%s' is not a size (e.g. 512M)", v);
            return -1;
        }
    } else if ((r = cli_opt_value(cmd, "--max-open-files", argc, argv, i, &v)) != 0) {
        if (r < 0 || parse_count(cmd, "--max-open-files", v, &o->max_open_files)) return -1;
    } else if ((r = cli_opt_value(cmd, "--existing", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (strcmp(v, "error") && strcmp(v, "overwrite") && strcmp(v, "append")) {
            cli_usage_error(cmd, "--existing: '%s' is not error, overwrite or append", v);
            return -1;
        }
        o->existing = v;
    } else if ((r = cli_opt_value(cmd, "--write-memory", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (cli_parse_size(v, &o->memory) != 0 || o->memory < 0) {
            cli_usage_error(cmd, "--write-memory: '%s' is not a size (e.g. 512M)", v);
            return -1;
        }
    } else if ((r = cli_opt_value(cmd, "--lineage", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        o->lineage = v;
    } else if (strcmp(argv[*i], "--no-manifest") == 0) {
        o->no_manifest = true;
    } else if (strcmp(argv[*i], "--keep-partition-columns") == 0) {
        o->keep_partition_columns = true;
    } else {
        return 0;
    }
    return 1;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool cli_write_target(const char *output) {
    if (ends_with(output, ".parquet") || ends_with(output, "/")) return true;
    return strncmp(output, "s3://", 5) == 0 && !ends_with(output, ".csv") && !ends_with(output, ".arrow");
}

/* The config from the options; NULL with a message printed on failure. */
static enum hoist_status make_config(const struct cli_write_opts *o, struct hoist_write_config **out) {
    struct hoist_write_config *c = NULL;
    struct hoist_pq_write_options *pq = NULL;
    enum hoist_status st = hoist_write_config_new(&c);
    if (st == HOIST_OK && o->partition_by) {
        char *copy = strdup(o->partition_by);
        const char *names[64];
        size_t n = 0;
        char *save = NULL;
        if (copy == NULL) st = HOIST_ERR_NOMEM;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && n < 64; t = strtok_r(NULL, ",", &save))
            if (*t) names[n++] = t;
        if (st == HOIST_OK) st = hoist_write_config_set_partition_by(c, names, n);
        free(copy);
    }
    if (st == HOIST_OK && o->max_rows_per_file)
        st = hoist_write_config_set_int(c, HOIST_WRITE_MAX_ROWS_PER_FILE, o->max_rows_per_file);
    if (st == HOIST_OK && o->max_bytes_per_file)
        st = hoist_write_config_set_int(c, HOIST_WRITE_MAX_BYTES_PER_FILE, o->max_bytes_per_file);
    if (st == HOIST_OK && o->max_open_files)
        st = hoist_write_config_set_int(c, HOIST_WRITE_MAX_OPEN_FILES, o->max_open_files);
    if (st == HOIST_OK && o->memory) st = hoist_write_config_set_int(c, HOIST_WRITE_MEMORY_LIMIT, o->memory);
    if (st == HOIST_OK && o->existing) st = hoist_write_config_set_str(c, HOIST_WRITE_EXISTING, o->existing);
    if (st == HOIST_OK && o->lineage) st = hoist_write_config_set_str(c, HOIST_WRITE_LINEAGE_JSON, o->lineage);
    if (st == HOIST_OK && o->no_manifest) st = hoist_write_config_set_int(c, HOIST_WRITE_MANIFEST, 0);
    if (st == HOIST_OK && o->keep_partition_columns)
        st = hoist_write_config_set_int(c, HOIST_WRITE_KEEP_PARTITION_COLUMNS, 1);
    if (st == HOIST_OK && (o->compression || o->row_group_rows)) {
        st = hoist_pq_write_options_new(&pq);
        if (st == HOIST_OK && o->compression)
            st = hoist_pq_write_options_set_str(pq, HOIST_PQW_COMPRESSION, o->compression);
        if (st == HOIST_OK && o->row_group_rows)
            st = hoist_pq_write_options_set_int(pq, HOIST_PQW_ROW_GROUP_ROWS, o->row_group_rows);
        if (st == HOIST_OK) st = hoist_write_config_set_parquet_options(c, pq);
        hoist_pq_write_options_free(pq);
    }
    if (st != HOIST_OK) {
        hoist_write_config_free(c);
        c = NULL;
    }
    *out = c;
    return st;
}

int cli_write_stream(const struct cli_write_opts *o, struct hoist_store *store, struct ArrowArrayStream *stream,
                     const char *url, struct cli_progress *bar, bool quiet) {
    struct hoist_write_config *cfg = NULL;
    enum hoist_status st = make_config(o, &cfg);
    if (st != HOIST_OK) {
        stream->release(stream);
        return st == HOIST_ERR_INVALID_ARG ? (fprintf(stderr, "hoist: %s\n", hoist_errmsg()), CLI_USAGE)
                                           : cli_fail_on(st, url);
    }
    struct write_progress wp = {bar};
    st = hoist_write_config_set_progress(cfg, write_progress_cb, &wp);
    /* Signals only set a flag: the write notices it after the batch in
     * hand, aborts its uploads and deletes what it committed. */
    struct cli_signals sigs;
    cli_signals_catch(&sigs);
    double t0 = cli_now();
    char *manifest = NULL;
    if (st == HOIST_OK)
        st = hoist_write_dataset(store, url, stream, cfg, &manifest);
    else
        stream->release(stream);
    cli_signals_restore(&sigs);
    if (bar) cli_progress_finish(bar);
    hoist_write_config_free(cfg);
    int rc = CLI_OK;
    if (st == HOIST_ERR_CANCELLED && cli_signal_caught()) {
        fprintf(stderr, "hoist: %s: interrupted; nothing was written\n", url);
        rc = 128 + cli_signal_caught();
    } else if (st != HOIST_OK) {
        rc = cli_fail_on(st, url);
    } else if (!quiet) {
        /* The manifest's totals, without a JSON parser in the CLI. */
        const char *files = manifest ? strstr(manifest, "\"files\"") : NULL;
        size_t nfiles = 0;
        for (const char *p = files; p && (p = strstr(p, "\"path\"")) != NULL; p += 6) nfiles++;
        char size[32];
        const char *b = manifest ? strstr(manifest, "\n \"bytes\": ") : NULL;
        const char *r = manifest ? strstr(manifest, "\n \"rows\": ") : NULL;
        cli_format_size(b ? strtoull(b + 11, NULL, 10) : 0, size, sizeof size);
        printf("wrote %s: %zu file(s), %llu rows, %s in %.2f s\n", url, nfiles,
               r ? (unsigned long long)strtoull(r + 10, NULL, 10) : 0ULL, size, cli_now() - t0);
    }
    hoist_free(manifest);
    return rc;
}

/* ---- hoist convert ------------------------------------------------------------------- */

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Arrow IPC sources go by their extension: .arrow/.feather (file format),
 * .arrows/.ipc (stream format; the reader tells the two apart itself). */
static bool is_ipc_source(const char *url) {
    return ends_with_ci(url, ".arrow") || ends_with_ci(url, ".feather") || ends_with_ci(url, ".arrows") ||
           ends_with_ci(url, ".ipc");
}

/* An Arrow IPC source as a stream: a local path is read directly, a URL
 * (s3://, file://) fetched whole through the store first. */
static enum hoist_status open_ipc(struct hoist_store *store, const char *src, struct ArrowArrayStream *out) {
    if (!strstr(src, "://")) return hoist_arrow_ipc_read_file(src, out);
    struct hoist_get_item item;
    memset(&item, 0, sizeof item);
    item.url = src;
    item.length = -1;
    item.dest = HOIST_DEST_ALLOC;
    enum hoist_status st = hoist_store_get_many(store, &item, 1, 0, NULL, NULL);
    if (st == HOIST_OK) st = hoist_arrow_ipc_read_memory(item.data, (size_t)item.size, src, out);
    hoist_store_get_item_reset(&item);
    return st;
}

static int run_convert(int argc, char **argv) {
    struct cli_store_opts so = {0};
    struct cli_write_opts wo = {0};
    bool quiet = false;
    const char *format = NULL; /* input format: parquet (default), csv (or by SRC names) */
    /* SRC... DST: the sources form one dataset, as hoist_dataset_open takes them. */
    const char **args = calloc((size_t)argc, sizeof *args);
    size_t nargs = 0;
    if (args == NULL) return cli_usage_error("convert", "out of memory");
    int rc = CLI_OK;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        int r = cli_store_opts_parse("convert", &so, argc, argv, &i);
        if (r == 0) r = cli_write_opts_parse("convert", &wo, argc, argv, &i);
        if (r < 0) rc = CLI_USAGE;
        if (r != 0) continue;
        const char *a = argv[i];
        if ((r = cli_opt_value("convert", "--format", argc, argv, &i, &format)) != 0) {
            if (r < 0) rc = CLI_USAGE;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            quiet = true;
        else if (a[0] == '-' && a[1] != '\0')
            rc = cli_usage_error("convert", "unknown option '%s'", a);
        else
            args[nargs++] = a;
    }
    if (rc == CLI_OK && nargs < 2) rc = cli_usage_error("convert", "needs SRC... and DST");
    if (rc != CLI_OK) {
        free(args);
        return rc;
    }
    const char *dst = args[nargs - 1];
    struct hoist_store *store = NULL;
    struct hoist_dataset *ds = NULL;
    struct ArrowArrayStream stream = {0};
    struct hoist_dataset_config *icfg = NULL; /* the input's format */
    enum hoist_status st = HOIST_OK;
    if (!(nargs == 2 && is_ipc_source(args[0]))) {
        st = cli_csv_dataset_config(args, nargs - 1, format, &icfg);
        if (st == HOIST_ERR_INVALID_ARG) {
            free(args);
            return cli_usage_error("convert", "--format: parquet or csv, not '%s'", format);
        }
    }
    if (st == HOIST_OK) st = cli_store_open(&so, &store);
    if (st == HOIST_OK && nargs == 2 && is_ipc_source(args[0])) {
        st = open_ipc(store, args[0], &stream);
    } else {
        if (st == HOIST_OK) st = hoist_dataset_open(store, args, nargs - 1, icfg, &ds);
        if (st == HOIST_OK) st = hoist_dataset_scan(ds, &stream);
    }
    hoist_dataset_config_free(icfg);
    if (st != HOIST_OK) {
        rc = cli_fail_on(st, nargs == 2 ? args[0] : NULL);
    } else {
        struct cli_progress bar;
        cli_progress_init(&bar, "convert");
        rc = cli_write_stream(&wo, store, &stream, dst, &bar, quiet);
    }
    if (stream.release) stream.release(&stream);
    hoist_dataset_close(ds);
    hoist_store_free(store);
    free(args);
    return rc;
}

const struct cli_command cli_cmd_convert = {
    "convert", "rewrite a Parquet or CSV file or dataset, or an Arrow IPC file, as Parquet",
    "usage: hoist convert SRC... DST [--format parquet|csv] [options]\n\n"
    "Reads SRC (Parquet files, prefixes or globs: one dataset, as 'hoist load' reads it;\n"
    "CSV with --format csv or when every SRC ends in .csv/.tsv[.gz|.zst|.bz2]; or one\n"
    "Arrow IPC file: .arrow/.feather, or stream: .arrows/.ipc, LZ4/ZSTD buffers too)\n"
    "and writes DST:\n"
    "a URL ending in .parquet is one file, anything else a dataset directory with\n"
    "Hive partitions and a _SUCCESS manifest. Nothing is visible until the whole\n"
    "write succeeded; Ctrl-C leaves nothing behind.\n\n" CLI_WRITE_OPTS_HELP
    "  -q, --quiet           no summary line\n\n" CLI_STORE_OPTS_HELP,
    run_convert};
