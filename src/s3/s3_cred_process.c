/* The credential_process provider: runs the profile's command and reads
 * {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
 * "Expiration"} from its stdout (SDK reference, "Process credential
 * provider"). The command is split like a shell would (quotes, backslash)
 * and run without one, as botocore does with shlex.split. */
#include "s3_cred.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PROCESS_MAX_OUT (64 * 1024)
#define PROCESS_TIMEOUT_MS 60000
#define MAX_ARGS 64

/* Splits cmd into argv (pointers into buf). */
static hx_status split_command(const char *cmd, char *buf, char **argv, int *argc) {
    int n = 0;
    char *w = buf;
    const char *p = cmd;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0') break;
        HX_FAIL_IF(n == MAX_ARGS - 1, HOIST_ERR_CREDENTIALS, "credential_process has more than %d words", MAX_ARGS);
        argv[n++] = w;
        char quote = 0;
        while (*p && (quote || (*p != ' ' && *p != '\t'))) {
            if (quote == 0 && (*p == '\'' || *p == '"')) {
                quote = *p++;
            } else if (quote && *p == quote) {
                quote = 0;
                p++;
            } else if (*p == '\\' && quote != '\'' && p[1]) {
                *w++ = p[1];
                p += 2;
            } else {
                *w++ = *p++;
            }
        }
        HX_FAIL_IF(quote, HOIST_ERR_CREDENTIALS, "credential_process has an unclosed quote");
        *w++ = '\0';
    }
    HX_FAIL_IF(n == 0, HOIST_ERR_CREDENTIALS, "credential_process is empty");
    argv[n] = NULL;
    *argc = n;
    return HOIST_OK;
}

/* Reads the child's stdout until EOF, the cap or the timeout. */
static hx_status read_output(int fd, const char *prog, struct hx_buf *out) {
    double deadline = hx_now() + PROCESS_TIMEOUT_MS / 1000.0;
    char chunk[4096];
    for (;;) {
        int left = (int)((deadline - hx_now()) * 1000);
        HX_FAIL_IF(left <= 0, HOIST_ERR_CREDENTIALS, "credential_process %s: no answer within %d s", prog,
                   PROCESS_TIMEOUT_MS / 1000);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR) continue;
        HX_FAIL_IF(r < 0, HOIST_ERR_CREDENTIALS, "credential_process %s: %s", prog, strerror(errno));
        if (r == 0) continue;
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        HX_FAIL_IF(got < 0, HOIST_ERR_CREDENTIALS, "credential_process %s: %s", prog, strerror(errno));
        if (got == 0) return hx_buf_append(out, "", 0);
        HX_FAIL_IF(out->len + (size_t)got > PROCESS_MAX_OUT, HOIST_ERR_CREDENTIALS,
                   "credential_process %s: output larger than 64 KiB", prog);
        HX_TRY(hx_buf_append(out, chunk, (size_t)got));
    }
}

static hx_status run(char **argv, struct hx_buf *out) {
    int fds[2];
    HX_FAIL_IF(pipe2(fds, O_CLOEXEC) != 0, HOIST_ERR_CREDENTIALS, "credential_process: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        HX_FAIL(HOIST_ERR_CREDENTIALS, "credential_process %s: cannot run it: %s", argv[0], strerror(rc));
    }
    hx_status st = read_output(fds[0], argv[0], out);
    close(fds[0]);
    if (st != HOIST_OK) kill(pid, SIGKILL);
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
    }
    if (st == HOIST_OK && !(WIFEXITED(wst) && WEXITSTATUS(wst) == 0)) {
        if (WIFEXITED(wst))
            st = hx_error(HOIST_ERR_CREDENTIALS, "credential_process %s exited with status %d", argv[0],
                          WEXITSTATUS(wst));
        else
            st = hx_error(HOIST_ERR_CREDENTIALS, "credential_process %s was killed by signal %d", argv[0],
                          WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
    }
    return st;
}

static hx_status check_version(const struct hx_buf *b, const char *prog) {
    json_t *root = json_loadb(b->data, b->len, 0, NULL);
    json_t *v = root ? json_object_get(root, "Version") : NULL;
    long long ver = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(root);
    HX_FAIL_IF(ver != 1, HOIST_ERR_CREDENTIALS, "credential_process %s: Version must be 1 (got %lld)", prog, ver);
    return HOIST_OK;
}

hx_status hx_s3_process_fetch(const char *command, struct hx_s3_cred_value *out) {
    size_t len = strlen(command);
    char *buf = hx_malloc(len + 1);
    HX_FAIL_IF(buf == NULL, HOIST_ERR_NOMEM, "out of memory");
    char *argv[MAX_ARGS];
    int argc = 0;
    struct hx_buf body;
    hx_buf_init(&body);
    hx_status st = split_command(command, buf, argv, &argc);
    if (st == HOIST_OK) {
        HX_DEBUG("credentials: running credential_process %s", argv[0]);
        st = run(argv, &body);
    }
    if (st == HOIST_OK) st = check_version(&body, argv[0]);
    if (st == HOIST_OK) {
        struct hx_s3_json_fields f = {NULL, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", 0};
        char what[300];
        snprintf(what, sizeof what, "credential_process %s", argv[0]);
        st = hx_s3_cred_from_json(body.data, body.len, &f, what, out);
    }
    if (st == HOIST_OK) snprintf(out->source, sizeof out->source, "credential_process");
    if (body.data) memset(body.data, 0, body.len);
    hx_buf_reset(&body);
    hx_free(buf);
    return st;
}
