/* hoist: command-line entry point and subcommand dispatch. */
#include "cli_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cli_command cli_cmd_version;
extern const struct cli_command cli_cmd_ls;
extern const struct cli_command cli_cmd_cp;
extern const struct cli_command cli_cmd_cat;
extern const struct cli_command cli_cmd_info;
extern const struct cli_command cli_cmd_rm;
extern const struct cli_command cli_cmd_mb;
extern const struct cli_command cli_cmd_rb;
extern const struct cli_command cli_cmd_load;
extern const struct cli_command cli_cmd_schema;
extern const struct cli_command cli_cmd_head;
extern const struct cli_command cli_cmd_convert;
static const struct cli_command cli_cmd_sql;

const struct cli_command *const cli_commands[] = {
    &cli_cmd_version, &cli_cmd_ls,   &cli_cmd_cp,     &cli_cmd_cat,  &cli_cmd_info,    &cli_cmd_rm,  &cli_cmd_mb,
    &cli_cmd_rb,      &cli_cmd_load, &cli_cmd_schema, &cli_cmd_head, &cli_cmd_convert, &cli_cmd_sql, NULL,
};

static void print_help(FILE *out) {
    fprintf(out,
            "hoist %s — move tables between object storage and Apache Arrow\n\n"
            "usage: hoist [--version] [--help] <command> [options]\n\ncommands:\n",
            hoist_version());
    for (size_t i = 0; cli_commands[i]; i++)
        fprintf(out, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out, "\n'hoist <command> --help' shows a command's options.\n"
                 "HOIST_LOG=debug|info|warn|error sets the log level (stderr).\n");
}

int cli_fail(enum hoist_status status) {
    const char *msg = hoist_errmsg();
    fprintf(stderr, "hoist: %s\n", (msg && *msg) ? msg : hoist_strerror(status));
    return cli_exit_code(status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hoist %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'hoist %s --help')\n", cmd);
    return CLI_USAGE;
}

bool cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return true;
    }
    return false;
}

static int run_version(int argc, char **argv) {
    if (argc > 1) return cli_usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("hoist %s\n", hoist_version());
    return CLI_OK;
}

const struct cli_command cli_cmd_version = {
    "version", "print the version", "usage: hoist version\n\nPrints hoist's version (same as 'hoist --version').\n",
    run_version};

/* SQL runs on DuckDB's Python package (python/hoist/sql.py); the C CLI embeds no Python
 * and no DuckDB, so `hoist sql ...` becomes `python3 -m hoist sql ...` (docs/sql.md). The
 * interpreter is $HOIST_PYTHON when set, so a virtualenv's python can be named. */
static int run_sql(int argc, char **argv) {
    const char *python = getenv("HOIST_PYTHON");
    if (!python || !*python) python = "python3";
    char **args = calloc((size_t)argc + 4, sizeof *args);
    if (!args) return cli_fail(HOIST_ERR_NOMEM);
    args[0] = (char *)python;
    args[1] = "-m";
    args[2] = "hoist";
    for (int i = 0; i < argc; i++) args[3 + i] = argv[i]; /* argv[0] is "sql" */
    fflush(stdout);
    execvp(python, args);
    int err = errno;
    free(args);
    fprintf(stderr,
            "hoist: sql: cannot run %s (%s); 'hoist sql' needs Python with the hoist and duckdb packages "
            "(pip install hoist duckdb), found on PATH or named by HOIST_PYTHON\n",
            python, strerror(err));
    return CLI_FAIL;
}

static const struct cli_command cli_cmd_sql = {
    "sql", "run SQL over datasets (DuckDB; needs Python)",
    "usage: hoist sql QUERY --table NAME=URL [--table ...] [--output URL [--partition-by COL,...]\n"
    "                 [--existing error|overwrite|append]]\n"
    "                 [--format table|csv|json [--max-rows N]] [--endpoint URL] [--region R] [--profile P]\n\n"
    "Runs QUERY on an embedded DuckDB over hoist datasets, each scan's columns and filters pushed\n"
    "into hoist's loader. With --output, writes the result as a dataset (CTAS, all or nothing) and\n"
    "prints its manifest. --max-rows N: the rows --format table shows (default 40); -t and -o\n"
    "are short for --table and --output. Runs `$HOIST_PYTHON -m hoist sql` (default python3),\n"
    "which needs the hoist and duckdb Python packages. See docs/sql.md.\n",
    run_sql};

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("hoist %s\n", hoist_version());
        return CLI_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; cli_commands[i]; i++)
                if (strcmp(cli_commands[i]->name, argv[2]) == 0) {
                    fputs(cli_commands[i]->usage, stdout);
                    return CLI_OK;
                }
            fprintf(stderr, "hoist: unknown command '%s'\n", argv[2]);
            return CLI_USAGE;
        }
        print_help(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; cli_commands[i]; i++) {
        const struct cli_command *c = cli_commands[i];
        if (strcmp(c->name, cmd) != 0) continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            fputs(c->usage, stdout);
            return CLI_OK;
        }
        return c->run(argc - 1, argv + 1);
    }
    if (cmd[0] == '-')
        fprintf(stderr, "hoist: unknown option '%s'\n", cmd);
    else
        fprintf(stderr, "hoist: unknown command '%s'\n", cmd);
    fprintf(stderr, "(see 'hoist --help')\n");
    return CLI_USAGE;
}
