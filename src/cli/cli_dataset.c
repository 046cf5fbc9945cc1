/* cli_dataset.c — hoist load / schema / head: datasets from object storage
 * into Arrow, through the public dataset API only (STYLE.md). */
#include "cli_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* ---- options shared by the three commands ---------------------------------------- */

struct ds_opts {
    struct cli_store_opts store;
    const char *url;
    char *columns_buf;
    const char **columns;
    size_t ncolumns;
    const char *filter;
    double sample;
    uint64_t seed;
    int64_t limit;
    int64_t memory;
    int64_t threads;
    bool skip_bad;
    bool no_hive;
    const char *output;
    const char *partition_types;
    bool quiet;
    int64_t head_rows;
    struct cli_write_opts write; /* --output as Parquet (cli_write.c) */
};

static void ds_opts_reset(struct ds_opts *o) {
    free(o->columns_buf);
    free(o->columns);
}

static int split_columns(const char *cmd, struct ds_opts *o, const char *text) {
    free(o->columns_buf);
    free(o->columns);
    o->columns_buf = strdup(text);
    size_t n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    o->columns = calloc(n, sizeof *o->columns);
    if (!o->columns_buf || !o->columns) return cli_usage_error(cmd, "out of memory");
    o->ncolumns = 0;
    char *save = NULL;
    for (char *tok = strtok_r(o->columns_buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t l = strlen(tok);
        while (l && tok[l - 1] == ' ') tok[--l] = '\0';
        if (*tok) o->columns[o->ncolumns++] = tok;
    }
    if (o->ncolumns == 0) return cli_usage_error(cmd, "--columns needs at least one name");
    return 0;
}

static int parse_i64(const char *s, int64_t *out) {
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end) return -1;
    *out = v;
    return 0;
}

/* Parses argv for cmd; `allowed` says which dataset options it takes. */
enum { OPT_LOAD = 1, OPT_HEAD = 2, OPT_SCHEMA = 4 };

static int parse_args(const char *cmd, unsigned kind, int argc, char **argv, struct ds_opts *o) {
    memset(o, 0, sizeof *o);
    o->sample = 1.0;
    o->limit = -1;
    o->head_rows = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r = cli_store_opts_parse(cmd, &o->store, argc, argv, &i);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if ((kind & OPT_LOAD) && (r = cli_write_opts_parse(cmd, &o->write, argc, argv, &i)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_opt_value(cmd, "--columns", argc, argv, &i, &v)) != 0) {
            if (r < 0 || split_columns(cmd, o, v)) return CLI_USAGE;
        } else if ((r = cli_opt_value(cmd, "--filter", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            o->filter = v;
        } else if ((r = cli_opt_value(cmd, "--partition-types", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            o->partition_types = v;
        } else if ((r = cli_opt_value(cmd, "--memory", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (cli_parse_size(v, &o->memory) != 0 || o->memory < 0)
                return cli_usage_error(cmd, "--memory: '%s' is not a size (e.g. 512M, 2G)", v);
        } else if ((r = cli_opt_value(cmd, "--threads", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (parse_i64(v, &o->threads) || o->threads < 0 || o->threads > 1024)
                return cli_usage_error(cmd, "--threads: '%s' is not a thread count", v);
        } else if (strcmp(a, "--skip-bad") == 0) {
            o->skip_bad = true;
        } else if (strcmp(a, "--no-hive") == 0) {
            o->no_hive = true;
        } else if ((kind & OPT_LOAD) && (r = cli_opt_value(cmd, "--sample", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            char *end = NULL;
            o->sample = strtod(v, &end);
            if (!*v || *end || !(o->sample > 0 && o->sample <= 1))
                return cli_usage_error(cmd, "--sample: '%s' is not a fraction in (0, 1]", v);
        } else if ((kind & OPT_LOAD) && (r = cli_opt_value(cmd, "--seed", argc, argv, &i, &v)) != 0) {
            int64_t s;
            if (r < 0 || parse_i64(v, &s)) return cli_usage_error(cmd, "--seed: '%s' is not an integer", v ? v : "");
            o->seed = (uint64_t)s;
        } else if ((kind & OPT_LOAD) && (r = cli_opt_value(cmd, "--limit", argc, argv, &i, &v)) != 0) {
            if (r < 0 || parse_i64(v, &o->limit) || o->limit < 0)
                return cli_usage_error(cmd, "--limit: '%s' is not a row count", v ? v : "");
        } else if ((kind & OPT_LOAD) && (r = cli_opt_value(cmd, "--output", argc, argv, &i, &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            o->output = v;
        } else if ((kind & OPT_LOAD) && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
            o->quiet = true;
        } else if ((kind & OPT_HEAD) && (strcmp(a, "-n") == 0 || strncmp(a, "--rows", 6) == 0)) {
            if (strcmp(a, "-n") == 0) {
                if (i + 1 >= argc) return cli_usage_error(cmd, "-n needs a row count");
                v = argv[++i];
            } else if ((r = cli_opt_value(cmd, "--rows", argc, argv, &i, &v)) == 0) {
                return cli_usage_error(cmd, "unknown option '%s'", a);
            } else if (r < 0) {
                return CLI_USAGE; /* cli_opt_value said what is missing */
            }
            if (parse_i64(v, &o->head_rows) || o->head_rows < 0)
                return cli_usage_error(cmd, "-n: '%s' is not a row count", v);
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (!o->url) {
            o->url = a;
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s' (one dataset URL)", a);
        }
    }
    if (!o->url) return cli_usage_error(cmd, "missing the dataset URL");
    return CLI_OK;
}

/* Library errors, keeping a filter's caret lines intact. */
static int ds_fail(enum hoist_status st, const char *url) {
    if (st == HOIST_ERR_FILTER) {
        fprintf(stderr, "hoist: %s\n", hoist_errmsg());
        return CLI_USAGE;
    }
    return cli_fail_on(st, url);
}

static enum hoist_status open_dataset(const struct ds_opts *o, struct hoist_store **store, struct hoist_dataset **ds,
                                      int64_t limit, struct cli_progress *bar) {
    struct hoist_dataset_config *cfg = NULL;
    *ds = NULL;
    enum hoist_status st = cli_store_open(&o->store, store);
    if (st != HOIST_OK) return st;
    if ((st = hoist_dataset_config_new(&cfg)) != HOIST_OK) return st;
    if (o->ncolumns) st = hoist_dataset_config_set_columns(cfg, o->columns, o->ncolumns);
    if (st == HOIST_OK && o->filter) st = hoist_dataset_config_set_filter(cfg, o->filter);
    if (st == HOIST_OK && o->sample < 1.0) st = hoist_dataset_config_set_sample(cfg, o->sample, o->seed);
    if (st == HOIST_OK && limit >= 0) st = hoist_dataset_config_set_limit(cfg, limit);
    if (st == HOIST_OK && o->memory) st = hoist_dataset_config_set_memory_limit(cfg, (uint64_t)o->memory);
    if (st == HOIST_OK && o->threads) st = hoist_dataset_config_set_threads(cfg, (unsigned)o->threads);
    if (st == HOIST_OK && o->skip_bad) st = hoist_dataset_config_set_skip_bad(cfg, 1);
    if (st == HOIST_OK && o->no_hive) st = hoist_dataset_config_set_hive(cfg, 0);
    if (st == HOIST_OK && bar && bar->enabled) st = hoist_dataset_config_set_progress(cfg, cli_progress_update, bar);
    if (st == HOIST_OK && o->partition_types) {
        /* "month:string,day:date32" */
        char *copy = strdup(o->partition_types), *save = NULL;
        if (!copy) st = HOIST_ERR_NOMEM;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && st == HOIST_OK; t = strtok_r(NULL, ",", &save)) {
            char *colon = strchr(t, ':');
            if (!colon) {
                free(copy);
                fprintf(stderr, "hoist: --partition-types: '%s' is not NAME:TYPE\n", t);
                return HOIST_ERR_USAGE;
            }
            *colon = '\0';
            st = hoist_dataset_config_set_partition_type(cfg, t, colon + 1);
        }
        free(copy);
    }
    if (st == HOIST_OK) {
        const char *urls[1] = {o->url};
        st = hoist_dataset_open(*store, urls, 1, cfg, ds);
    }
    hoist_dataset_config_free(cfg);
    return st;
}

/* ---- load ---------------------------------------------------------------------------- */

static const char *dot_number(uint64_t v, char *buf, size_t cap) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t k = 0;
    for (int i = 0; i < n && k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = '\0';
    return buf;
}

static uint64_t peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

static void print_summary(FILE *out, struct hoist_dataset *ds, double wall) {
    struct hoist_dataset_stats s;
    hoist_dataset_get_stats(ds, &s, sizeof s);
    char a[32], b[32], c[32], n1[32];
    fprintf(out, "rows        %s\n", dot_number((uint64_t)s.rows, n1, sizeof n1));
    fprintf(out, "columns     %" PRId64 "\n", s.columns);
    fprintf(out, "files       %" PRIu64 " (%" PRIu64 " row groups, %" PRIu64 " pruned by the filter%s)\n", s.files,
            s.row_groups, s.row_groups_pruned, s.files_skipped ? ", some files skipped" : "");
    if (s.files_pruned)
        fprintf(out, "pruned      %" PRIu64 " files by their partition values (footers not read)\n", s.files_pruned);
    if (s.pages_skipped || s.rows_skipped_by_page_index)
        fprintf(out, "pages       %" PRIu64 " skipped by the page index (%s rows)\n", s.pages_skipped,
                dot_number((uint64_t)s.rows_skipped_by_page_index, n1, sizeof n1));
    fprintf(out, "fetched     %s of %s (%.1f%%) in %" PRIu64 " requests\n",
            cli_format_size(s.bytes_fetched, a, sizeof a), cli_format_size(s.dataset_bytes, b, sizeof b),
            s.dataset_bytes ? 100.0 * (double)s.bytes_fetched / (double)s.dataset_bytes : 0.0, s.requests);
    fprintf(out, "time        %.2f s (list %.2f s, footers %.2f s, download %.2f s, decode %.2f cpu-s)\n", wall,
            s.list_seconds, s.footer_seconds, s.download_seconds, s.decode_seconds);
    fprintf(out, "throughput  %.2f Gbit/s fetched, %s/s of Arrow\n",
            wall > 0 ? (double)s.bytes_fetched * 8 / wall / 1e9 : 0.0,
            cli_format_size(wall > 0 ? (uint64_t)((double)s.output_bytes / wall) : 0, c, sizeof c));
    fprintf(out, "table       %s of Arrow buffers\n", cli_format_size(s.output_bytes, a, sizeof a));
    fprintf(out, "peak RSS    %s\n", cli_format_size(peak_rss(), b, sizeof b));
    if (s.files_skipped) {
        char *sk = hoist_dataset_skipped(ds);
        fprintf(out, "skipped     %" PRIu64 " bad file(s):\n%s", s.files_skipped, sk ? sk : "");
        hoist_free(sk);
    }
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cli_load_output_check(const char *output, enum cli_load_output *kind) {
    if (cli_write_target(output))
        *kind = CLI_LOAD_OUT_PARQUET;
    else if (strcmp(output, "-") == 0)
        *kind = CLI_LOAD_OUT_STDOUT;
    else if (ends_with(output, ".csv"))
        *kind = CLI_LOAD_OUT_CSV;
    else if (ends_with(output, ".arrow"))
        *kind = CLI_LOAD_OUT_ARROW;
    else
        return cli_usage_error("load",
                               "--output '%s': write .csv, .arrow (Arrow IPC file), '-' (CSV), "
                               ".parquet or a dataset directory ending in '/'",
                               output);
    return CLI_OK;
}

/* CSV output is the library's CSV writer: to stdout batch by batch
 * (hoist_csv_writer_*), to a file or object through hoist_csv_write_url (a
 * streamed upload made visible only when complete). */
int cli_write_csv(struct hoist_store *store, const char *url, const struct hoist_csv_options *opts,
                  struct ArrowArrayStream *stream) {
    if (strcmp(url, "-") != 0) {
        enum hoist_status st = hoist_csv_write_url(store, url, stream, opts, NULL);
        return st == HOIST_OK ? CLI_OK : cli_fail_on(st, url);
    }
    struct ArrowSchema schema = {0};
    if (stream->get_schema(stream, &schema) != 0) {
        const char *m = stream->get_last_error(stream);
        fprintf(stderr, "hoist: %s\n", m ? m : "load failed");
        return CLI_FAIL;
    }
    struct hoist_csv_writer *w = NULL;
    enum hoist_status st = hoist_csv_writer_new(opts, &schema, &w);
    schema.release(&schema);
    if (st != HOIST_OK) return cli_fail(st);
    int rc = CLI_OK;
    for (bool first = true; rc == CLI_OK; first = false) {
        struct ArrowArray b;
        if (stream->get_next(stream, &b) != 0) {
            const char *m = stream->get_last_error(stream);
            fprintf(stderr, "hoist: %s\n", m ? m : "load failed");
            rc = CLI_FAIL;
            break;
        }
        if (!b.release && !first) break;
        const void *text;
        size_t len;
        st = hoist_csv_writer_write(w, b.release ? &b : NULL, &text, &len);
        bool end = !b.release;
        if (b.release) b.release(&b);
        if (st != HOIST_OK)
            rc = cli_fail(st);
        else if (len && fwrite(text, 1, len, stdout) != len)
            rc = CLI_FAIL;
        if (end) break;
    }
    hoist_csv_writer_free(w);
    return rc;
}

static int run_load(int argc, char **argv) {
    if (cli_csv_wants(argc, argv)) return cli_csv_run(argc, argv);
    struct ds_opts o;
    int rc = parse_args("load", OPT_LOAD, argc, argv, &o);
    if (rc != CLI_OK) {
        ds_opts_reset(&o);
        return rc;
    }
    enum cli_load_output out = CLI_LOAD_OUT_PARQUET;
    if (o.output && (rc = cli_load_output_check(o.output, &out)) != CLI_OK) {
        ds_opts_reset(&o);
        return rc;
    }
    double t0 = cli_now();
    struct hoist_store *store = NULL;
    struct hoist_dataset *ds = NULL;
    struct cli_progress bar;
    cli_progress_init(&bar, "load");
    enum hoist_status st = open_dataset(&o, &store, &ds, o.limit, &bar);
    if (st != HOIST_OK) {
        rc = ds_fail(st, o.url);
        goto done;
    }
    struct ArrowArrayStream stream = {0};
    if (o.output && out == CLI_LOAD_OUT_PARQUET) {
        st = hoist_dataset_scan(ds, &stream);
        rc = st != HOIST_OK ? ds_fail(st, o.url) : cli_write_stream(&o.write, store, &stream, o.output, NULL, o.quiet);
        cli_progress_finish(&bar);
        goto done_stream;
    }
    if (o.output) {
        /* Streamed: each batch is written and freed as it comes. */
        st = hoist_dataset_scan(ds, &stream);
        if (st != HOIST_OK) {
            rc = ds_fail(st, o.url);
            goto done_stream;
        }
        if (out == CLI_LOAD_OUT_ARROW) {
            st = hoist_arrow_ipc_write_file(o.output, &stream);
            if (st != HOIST_OK) rc = cli_fail(st);
            /* a column type the file cannot hold is a usage error, as the
             * choice of output is */
            if (st == HOIST_ERR_ARROW_TYPE) rc = CLI_USAGE;
        } else {
            rc = cli_write_csv(store, o.output, NULL, &stream);
        }
    } else {
        /* The whole table in memory, as hoist.load_table makes it. */
        st = hoist_dataset_load(ds, &stream);
        if (st != HOIST_OK) {
            rc = ds_fail(st, o.url);
            goto done_stream;
        }
    }
    cli_progress_finish(&bar);
    if (rc == CLI_OK && !o.quiet) print_summary(out == CLI_LOAD_OUT_STDOUT ? stderr : stdout, ds, cli_now() - t0);
done_stream:
    cli_progress_finish(&bar);
    if (stream.release) stream.release(&stream);
done:
    hoist_dataset_close(ds);
    hoist_store_free(store);
    ds_opts_reset(&o);
    return rc;
}

/* ---- schema ---------------------------------------------------------------------------- */

static void print_field(const struct ArrowSchema *s, int depth) {
    char buf[96];
    const char *t = cli_type_name(s->format, buf, sizeof buf);
    if (s->dictionary) {
        char b2[96];
        printf("%*s%s: dictionary<%s, %s>%s\n", depth * 2, "", s->name ? s->name : "", t,
               cli_type_name(s->dictionary->format, b2, sizeof b2),
               (s->flags & ARROW_FLAG_NULLABLE) ? "" : " not null");
    } else {
        printf("%*s%s: %s%s\n", depth * 2, "", s->name ? s->name : "", t,
               (s->flags & ARROW_FLAG_NULLABLE) ? "" : " not null");
    }
    for (int64_t i = 0; i < s->n_children; i++) print_field(s->children[i], depth + 1);
}

static int run_schema(int argc, char **argv) {
    if (cli_csv_wants(argc, argv)) return cli_csv_run(argc, argv);
    struct ds_opts o;
    int rc = parse_args("schema", OPT_SCHEMA, argc, argv, &o);
    if (rc != CLI_OK) {
        ds_opts_reset(&o);
        return rc;
    }
    struct hoist_store *store = NULL;
    struct hoist_dataset *ds = NULL;
    struct ArrowSchema schema = {0};
    enum hoist_status st = open_dataset(&o, &store, &ds, -1, NULL);
    if (st == HOIST_OK) st = hoist_dataset_schema(ds, &schema);
    if (st != HOIST_OK) {
        rc = ds_fail(st, o.url);
    } else {
        for (int64_t i = 0; i < schema.n_children; i++) print_field(schema.children[i], 0);
        struct hoist_dataset_stats s;
        hoist_dataset_get_stats(ds, &s, sizeof s);
        char a[32];
        printf("-- %" PRIu64 " files, %" PRIu64 " row groups, %s\n", s.files, s.row_groups,
               cli_format_size(s.dataset_bytes, a, sizeof a));
        schema.release(&schema);
    }
    hoist_dataset_close(ds);
    hoist_store_free(store);
    ds_opts_reset(&o);
    return rc;
}

/* ---- head ------------------------------------------------------------------------------ */

static int run_head(int argc, char **argv) {
    if (cli_csv_wants(argc, argv)) return cli_csv_run(argc, argv);
    struct ds_opts o;
    int rc = parse_args("head", OPT_HEAD, argc, argv, &o);
    if (rc != CLI_OK) {
        ds_opts_reset(&o);
        return rc;
    }
    struct hoist_store *store = NULL;
    struct hoist_dataset *ds = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArrayStream stream = {0};
    enum hoist_status st = open_dataset(&o, &store, &ds, o.head_rows, NULL);
    if (st == HOIST_OK) st = hoist_dataset_schema(ds, &schema);
    if (st == HOIST_OK) st = hoist_dataset_load(ds, &stream);
    if (st != HOIST_OK) {
        rc = ds_fail(st, o.url);
        goto done;
    }
    rc = cli_print_head(&stream, &schema, o.head_rows);
done:
    if (stream.release) stream.release(&stream);
    if (schema.release) schema.release(&schema);
    hoist_dataset_close(ds);
    hoist_store_free(store);
    ds_opts_reset(&o);
    return rc;
}

#define DS_COMMON_HELP                                                                                                 \
    "  --columns a,b         load only these columns (partition columns included)\n"                                   \
    "  --filter EXPR         keep rows where EXPR holds, e.g. \"passenger_count > 1 AND\n"                             \
    "                        payment_type IN ('CRD', 'CSH')\" (docs/datasets.md has the language)\n"                   \
    "  --skip-bad            Parquet: skip (and report) files that are not valid Parquet;\n"                           \
    "                        CSV: skip rows that do not parse (also --skip-bad-rows)\n"                                \
    "  --no-hive             do not turn key=value/ directories into columns\n"                                        \
    "  --partition-types T   override inferred partition types: month:string,day:date32 (Parquet)\n"                   \
    "  --memory SIZE         bytes in flight or waiting to decode (default 1/8 of RAM, max 256M;\n"                    \
    "                        Parquet)\n"                                                                               \
    "  --threads N           decoding or parsing threads (default: all cores)\n"

/* The CSV route (cli_csv.c): what makes an input CSV, and the dialect options. */
#define DS_CSV_HELP                                                                                                    \
    "CSV input: a URL ending in .csv or .tsv (plain, .gz, .zst or .bz2), or any file, directory,\n"                    \
    "prefix or glob with --format csv (docs/csv.md):\n"                                                                \
    "  --format csv          read URL as CSV whatever its name\n"                                                      \
    "  --delimiter C         field separator, one character or \\t (default: sniffed)\n"                               \
    "  --quote C|none        quote character (default \")\n"                                                           \
    "  --escape C            escape character (default: none)\n"                                                       \
    "  --comment C           skip lines starting with C\n"                                                             \
    "  --header, --no-header the first row is, or is not, the column names (default: sniffed)\n"                       \
    "  --types NAME:TYPE,... column types, e.g. id:int64,day:date32 (the others inferred)\n"                           \
    "  --null-values A,B     the texts read as null (default: pyarrow's list)\n"

const struct cli_command cli_cmd_load = {
    "load", "load a Parquet or CSV dataset into Arrow and report what it took",
    "usage: hoist load URL [--columns a,b] [--filter EXPR] [--sample P [--seed N]] [--limit N]\n"
    "                      [--output FILE.arrow|FILE.csv|-|FILE.parquet|DIR/] [--skip-bad] [options]\n"
    "       hoist load CSV-URL [--format csv] [CSV options] [--columns a,b] [--filter EXPR] [--limit N]\n"
    "                          [--output ...] [options]\n\n"
    "Loads the Parquet files under URL (a prefix s3://b/p/, file:///dir/ or a local directory;\n"
    "a glob such as s3://b/p/*.parquet; or one file) into Arrow, fetching only the needed\n"
    "column chunks, and prints a summary: rows, columns, bytes fetched vs the dataset's size,\n"
    "Gbit/s, time in list/footers/download/decode and peak RSS. CSV input (below) is parsed\n"
    "in parallel; its summary gives rows, bytes of CSV text, time and peak RSS.\n\n"
    "  --sample P            keep each row with probability P (0 < P <= 1), reproducibly (Parquet)\n"
    "  --seed N              sample seed (default 0)\n"
    "  --limit N             at most N rows\n"
    "  --output FILE|-       stream the rows to FILE.arrow (Arrow IPC file), FILE.csv, or\n"
    "                        stdout as CSV (-); the summary then goes to stderr. FILE.parquet\n"
    "                        writes one Parquet file, DIR/ or s3://b/p/ a Parquet dataset\n"
    "                        (write options below, as in 'hoist convert')\n"
    "  -q, --quiet           no summary\n" DS_COMMON_HELP "\n" DS_CSV_HELP "\n" CLI_WRITE_OPTS_HELP
    "\n" CLI_STORE_OPTS_HELP,
    run_load};

const struct cli_command cli_cmd_schema = {
    "schema", "print a Parquet or CSV dataset's unified schema",
    "usage: hoist schema URL [options]\n\n"
    "Reads every footer under URL and prints the unified schema (files disagreeing on a\n"
    "column's type are an error naming both) with partition columns last. CSV input is\n"
    "parsed and its inferred schema printed with the row count.\n\n" DS_COMMON_HELP "\n" DS_CSV_HELP
    "\n" CLI_STORE_OPTS_HELP,
    run_schema};

const struct cli_command cli_cmd_head = {
    "head", "print the first rows of a Parquet or CSV dataset as a table",
    "usage: hoist head URL [-n N] [--columns a,b] [--filter EXPR] [options]\n\n"
    "Prints the first N rows (default 10), in file order then row-group order, as an aligned\n"
    "table. Only the row groups needed are fetched.\n\n"
    "  -n, --rows N          rows to print (default 10)\n" DS_COMMON_HELP "\n" DS_CSV_HELP "\n" CLI_STORE_OPTS_HELP,
    run_head};
