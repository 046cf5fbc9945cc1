/* cli_internal.h — the hoist command: dispatch and shared helpers.
 * The CLI uses only the public header (STYLE.md). */
#ifndef HOIST_CLI_INTERNAL_H
#define HOIST_CLI_INTERNAL_H

#include "hoist.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit codes: 0 success, 1 runtime failure (message on stderr), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_command {
    const char *name;
    const char *summary; /* one line for `hoist --help` */
    const char *usage;   /* full text for `hoist <command> --help` */
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

#endif
