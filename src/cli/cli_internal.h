/* cli_internal.h — the hoist command: dispatch and shared helpers.
 * The CLI uses only the public header (STYLE.md). */
#ifndef HOIST_CLI_INTERNAL_H
#define HOIST_CLI_INTERNAL_H

#define HOIST_EXPERIMENTAL_API /* Arrow helpers (hoist.h, experimental tier) */
#include "hoist.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes: 0 success, 1 runtime failure (message on stderr), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_CANCELLED = 130 };

struct cli_command {
    const char *name;
    const char *summary;               /* one line for `hoist --help` */
    const char *usage;                 /* full text for `hoist <command> --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

/* Every command, NULL-terminated (cli_main.c). */
extern const struct cli_command *const cli_commands[];

/* Prints "hoist: <msg>" for the last failed library call and returns 1. */
int cli_fail(enum hoist_status status);
/* Prints "hoist <cmd>: <msg>" and a usage hint; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv has -h or --help. */
bool cli_wants_help(int argc, char **argv);

/* ======================================================================
 * Shared helpers for commands that talk to a store (cli_common.c).
 * Used by ls/cp/cat/info/rm/mb/rb and by the dataset commands
 * (load/schema/head). Everything here uses only hoist.h.
 * ====================================================================== */
#include <stdint.h>

/* The common store options, as given on the command line. Zero-initialize;
 * unset fields fall back to the environment and ~/.aws (the store decides). */
struct cli_store_opts {
    const char *endpoint;       /* --endpoint URL */
    const char *profile;        /* --profile NAME */
    const char *region;         /* --region NAME */
    bool no_sign_request;       /* --no-sign-request */
    bool follow_symlinks;       /* --follow-symlinks: local listings follow links (loops cut) */
    bool fsync;                 /* --fsync: local files written are fsync'ed before rename */
    int64_t concurrency;        /* --concurrency N; 0 = automatic */
    int64_t part_size;          /* --part-size SIZE (8M, 64MiB, 1048576); 0 = automatic */
    const char *sse;            /* --sse AES256|aws:kms|aws:kms:dsse */
    const char *sse_kms_key_id; /* --sse-kms-key-id ID */
    const char *checksum;       /* --checksum when_supported|when_required|always */
};

/* Help text for the common options, to append to a command's usage. */
#define CLI_STORE_OPTS_HELP                                                                                            \
    "common options:\n"                                                                                                \
    "  --endpoint URL        S3 endpoint (else AWS_ENDPOINT_URL[_S3], profile,\n"                                      \
    "                        METAFLOW_S3_ENDPOINT_URL, AWS)\n"                                                         \
    "  --profile NAME        ~/.aws profile (else AWS_PROFILE, 'default')\n"                                           \
    "  --region NAME         region (else AWS_REGION/AWS_DEFAULT_REGION, profile)\n"                                   \
    "  --no-sign-request     anonymous requests (public buckets)\n"                                                    \
    "  --follow-symlinks     local directories: follow symlinks (default: skip them)\n"                                \
    "  --fsync               local files written reach the disk before they appear\n"                                  \
    "  --concurrency N       requests in flight (default: automatic)\n"                                                \
    "  --part-size SIZE      bytes per ranged GET / upload part, e.g. 8M, 64MiB (default: auto)\n"                     \
    "  --sse ALG             server-side encryption of uploads: AES256, aws:kms, aws:kms:dsse\n"                       \
    "  --sse-kms-key-id ID   KMS key (id, ARN or alias) for --sse aws:kms (default: aws/s3)\n"                         \
    "  --checksum MODE       when_supported (default), when_required (stores that reject\n"                            \
    "                        x-amz-checksum-*: Content-MD5 instead), always\n"

/* Matches argv[*i] against the long option `name` ("--endpoint"), in either
 * form "--name VALUE" or "--name=VALUE". Returns 1 and sets *value (advancing
 * *i past a separate value) on a match; 0 when argv[*i] is another argument;
 * -1 when the value is missing (a usage error was printed for cmd). */
int cli_opt_value(const char *cmd, const char *name, int argc, char **argv, int *i, const char **value);

/* Tries argv[*i] as one of the common store options. Returns 1 when it was
 * one (stored in *o, *i advanced past its value), 0 when it is not, -1 on a
 * bad value (usage error printed for cmd; exit with CLI_USAGE). */
int cli_store_opts_parse(const char *cmd, struct cli_store_opts *o, int argc, char **argv, int *i);

/* Creates a client from the options (the rest from the environment).
 * *out = NULL on failure; hoist_errmsg() says why. */
enum hoist_status cli_store_open(const struct cli_store_opts *o, struct hoist_store **out);

/* Parses a byte size: a plain number of bytes, or a number with a binary
 * suffix K/M/G/T, optionally followed by "i" and/or "B" (8M = 8MiB = 8MB =
 * 8388608; suffixes are case-insensitive). Fractions are allowed with a
 * suffix ("1.5G"). Returns 0 on success, -1 on bad syntax or overflow. */
int cli_parse_size(const char *text, int64_t *out);

/* Formats bytes for people: "0 B", "1023 B", "1.0 KiB", "12.3 MiB", "4.00 GiB".
 * Always NUL-terminates buf; returns buf. */
char *cli_format_size(uint64_t bytes, char *buf, size_t size);

/* Formats Unix seconds in UTC: iso != 0 gives "2026-11-21T18:22:06Z", else
 * "2026-11-21 18:22:06". 0 (unknown) gives "-". Returns buf. */
char *cli_format_time(int64_t unix_seconds, int iso, char *buf, size_t size);

/* Writes s as a JSON string literal (quotes included). UTF-8 passes through;
 * control characters, '"' and '\\' are escaped; NULL writes null. */
void cli_json_string(FILE *out, const char *s);

/* Writes s with control characters escaped (\n, \t, \r, else \xHH; UTF-8
 * C1 controls as \xHH of their code point): keys, paths and messages that
 * reach a terminal cannot carry escape sequences, and a line stays a line. */
void cli_put_safe(FILE *out, const char *s);

/* The exit status for a failed call: CLI_USAGE for a bad command line or
 * expression, CLI_CANCELLED (130) for a cancelled one, else CLI_FAIL. */
int cli_exit_code(enum hoist_status status);
/* Prints one line "hoist: <what>: <cause>" for a failed library call and
 * returns cli_exit_code(status). `what` (usually the URL)
 * is only prefixed when the library message does not already name it; NULL
 * means no prefix. Credential and signature failures get a hint. */
int cli_fail_on(enum hoist_status status, const char *what);
/* The line cli_fail_on prints, for a message that is not hoist_errmsg()
 * (e.g. a *_many item's `error`); extra (may be NULL) is appended. */
void cli_error_line(const char *what, enum hoist_status status, const char *msg, const char *extra);

/* ======================================================================
 * Helpers of the object store commands (cli_store.c), shared with cp
 * (cli_cp.c).
 * ====================================================================== */

/* A command's own flags for cli_parse_store_args; a table ends with {0}. */
struct cli_flag {
    char short_name;       /* 0: long only */
    const char *long_name; /* "--recursive"; NULL: short only */
    bool *set;             /* boolean flag, or NULL */
    const char **value;    /* option taking a value, or NULL */
};

/* Parses flags, the common store options and up to max_pos positional
 * arguments. Short boolean flags combine ("-rl"). Returns CLI_OK or
 * CLI_USAGE (message printed). */
int cli_parse_store_args(const char *cmd, int argc, char **argv, const struct cli_flag *flags,
                         struct cli_store_opts *opts, const char **pos, int max_pos, int *npos);
bool cli_is_s3(const char *url);
/* The path of a file:// URL, or url itself (a plain path). */
const char *cli_local_path(const char *url);
bool cli_ends_with_slash(const char *s);
/* "s3://bucket" or "s3://bucket/": the whole bucket. */
bool cli_is_bucket_root(const char *url);
bool cli_local_is_dir(const char *path);
/* asprintf and calloc that exit(CLI_FAIL) when out of memory; free() the result. */
char *cli_dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *cli_xcalloc(size_t n, size_t size);
/* One line for a *_many call where `failed` of `total` items failed; the
 * first failure (url, status, its message) stands for them. Returns CLI_FAIL. */
int cli_report_item_failure(const char *url, enum hoist_status status, const char *error, size_t failed, size_t total);
/* Opens a client with the command line's options; CLI_OK or the exit code. */
int cli_open_store(const struct cli_store_opts *opts, struct hoist_store **store);
/* CLI_USAGE (printed) for an empty URL or an unsupported scheme. */
int cli_check_url(const char *cmd, const char *url);
/* Lists everything under prefix into *out; CLI_OK or CLI_FAIL (printed). */
int cli_list_prefix(struct hoist_store *store, const char *prefix, int recursive, struct hoist_list *out);
/* Streams an object to stdout (cat, and cp SRC -). */
int cli_cat_to_stdout(struct hoist_store *store, const char *url);

/* Arrow data as text (cli_table.c), shared by Parquet and CSV inputs. */
/* A type's name as pyarrow prints it ("timestamp[us, tz=UTC]"); buf holds
 * the names that are built. */
const char *cli_type_name(const char *format, char *buf, size_t cap);
/* Prints the first max_rows rows of stream as an aligned table (strings cut
 * at 40 bytes, numbers right-aligned, nulls as "null"); CLI_OK. */
int cli_print_head(struct ArrowArrayStream *stream, const struct ArrowSchema *schema, int64_t max_rows);

/* Progress bar on stderr, drawn only when stderr is a terminal (and
 * HOIST_PROGRESS is not "0"), at most 10 times a second: bytes done/total,
 * objects done/total, rate and ETA. Silent otherwise, so pipes and logs stay
 * clean. Pass cli_progress_update as the hoist_progress_fn and the struct as
 * its userdata; call cli_progress_finish() once afterwards to clear the line. */
struct cli_progress {
    bool enabled;
    bool drawn;
    const char *label; /* borrowed; shown at the start of the line */
    double t_start;
    double t_last;
};
void cli_progress_init(struct cli_progress *p, const char *label);
int cli_progress_update(const struct hoist_progress *progress, void *userdata);
void cli_progress_finish(struct cli_progress *p);

/* SIGINT/SIGTERM during a transfer: between catch and restore they only set
 * a flag, which makes cli_progress_update (and any callback that asks
 * cli_signal_caught) cancel the call; the store then aborts its uploads and
 * removes its temp files, and the command exits 128 + the signal. */
struct cli_signals {
    struct sigaction old_int, old_term;
};
void cli_signals_catch(struct cli_signals *s);
void cli_signals_restore(const struct cli_signals *s);
/* The signal caught since the program started (SIGINT, SIGTERM), or 0. */
int cli_signal_caught(void);

/* Monotonic seconds. */
double cli_now(void);

/* ======================================================================
 * Writing Parquet (cli_write.c): options shared by `load --output` and
 * `convert`.
 * ====================================================================== */
struct cli_write_opts {
    const char *partition_by; /* "month,vendor" */
    const char *compression;  /* "zstd:3" */
    int64_t row_group_rows, max_rows_per_file, max_bytes_per_file, max_open_files, memory;
    const char *existing; /* error | overwrite | append */
    const char *lineage;  /* JSON object */
    bool no_manifest, keep_partition_columns;
};
#define CLI_WRITE_OPTS_HELP                                                                                            \
    "write options (Parquet output):\n"                                                                                \
    "  --partition-by COLS   Hive partitions by these columns, e.g. month,vendor\n"                                    \
    "  --compression C[:L]   none, snappy (default), gzip, zstd, lz4_raw, brotli; e.g. zstd:3\n"                       \
    "  --row-group-size N    rows per row group\n"                                                                     \
    "  --max-rows-per-file N, --max-bytes-per-file SIZE   roll files over\n"                                           \
    "  --max-open-files N    files open at once (default 64)\n"                                                        \
    "  --existing MODE       error (default), overwrite (the partitions written), append\n"                            \
    "  --write-memory SIZE   memory budget of the writer\n"                                                            \
    "  --keep-partition-columns, --no-manifest, --lineage JSON\n"
/* Like cli_store_opts_parse, for the write options. */
int cli_write_opts_parse(const char *cmd, struct cli_write_opts *o, int argc, char **argv, int *i);
/* True when an --output names Parquet: ends in .parquet or '/', or is an
 * s3:// URL that is not .csv/.arrow. */
bool cli_write_target(const char *output);
/* Writes stream (consumed) to url; bar (may be NULL) draws progress. Returns
 * the exit code: 128 + signal after Ctrl-C / SIGTERM (nothing left behind). */
int cli_write_stream(const struct cli_write_opts *o, struct hoist_store *store, struct ArrowArrayStream *stream,
                     const char *url, struct cli_progress *bar, bool quiet);
/* What `load --output X` writes, the same for Parquet and CSV input
 * (cli_dataset.c): a Parquet file or dataset (cli_write_target), CSV on
 * stdout ("-"), a .csv file or object, an .arrow (Arrow IPC) file. Any other
 * name is a usage error (printed; CLI_USAGE), found before anything is read. */
enum cli_load_output { CLI_LOAD_OUT_PARQUET, CLI_LOAD_OUT_STDOUT, CLI_LOAD_OUT_CSV, CLI_LOAD_OUT_ARROW };
int cli_load_output_check(const char *output, enum cli_load_output *kind);
/* Writes stream as CSV to url (local path, file:// or s3://; visible only
 * when complete) or to stdout when url is "-"; opts (may be NULL) are the
 * writer's. The caller releases the stream if it still has a release. */
int cli_write_csv(struct hoist_store *store, const char *url, const struct hoist_csv_options *opts,
                  struct ArrowArrayStream *stream);
/* load/schema/head on CSV input (cli_csv.c): wanted for --format csv or a
 * .csv/.tsv[.gz|.zst|.bz2] path; run takes the command's argv. */
bool cli_csv_wants(int argc, char **argv);
int cli_csv_run(int argc, char **argv);
/* The input-format dispatch of `convert` (cli_csv.c): SRC... are CSV when
 * format is "csv", or format is NULL and every name ends in .csv/.tsv
 * (optionally .gz/.zst/.bz2); then *cfg is a dataset config reading CSV
 * (caller frees), else NULL. HOIST_ERR_INVALID_ARG for an unknown format. */
enum hoist_status cli_csv_dataset_config(const char *const *srcs, size_t n, const char *format,
                                         struct hoist_dataset_config **cfg);

#endif
