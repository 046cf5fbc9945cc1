/* cli_common.c — what every store-facing command shares: the common
 * options, client creation, sizes, times, JSON strings, error lines and the
 * progress bar. Only hoist.h is used (STYLE.md). */
#include "cli_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_opt_value(const char *cmd, const char *name, int argc, char **argv, int *i, const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option '%s' needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* A positive integer that fits the store's int options. */
static int parse_count(const char *text, int64_t *out) {
    if (!text || !*text) return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < 0) return -1;
    *out = (int64_t)v;
    return 0;
}

int cli_store_opts_parse(const char *cmd, struct cli_store_opts *o, int argc, char **argv, int *i) {
    const char *v = NULL;
    int r;
    if ((r = cli_opt_value(cmd, "--endpoint", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (!*v) return cli_usage_error(cmd, "--endpoint needs a URL"), -1;
        o->endpoint = v;
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--profile", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (!*v) return cli_usage_error(cmd, "--profile needs a name"), -1;
        o->profile = v;
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--region", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (!*v) return cli_usage_error(cmd, "--region needs a name"), -1;
        o->region = v;
        return 1;
    }
    if (strcmp(argv[*i], "--no-sign-request") == 0) {
        o->no_sign_request = true;
        return 1;
    }
    if (strcmp(argv[*i], "--follow-symlinks") == 0) {
        o->follow_symlinks = true;
        return 1;
    }
    if (strcmp(argv[*i], "--fsync") == 0) {
        o->fsync = true;
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--concurrency", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (parse_count(v, &o->concurrency) != 0 || o->concurrency > 100000) {
            cli_usage_error(cmd, "--concurrency: '%s' is not a number of requests (0 = automatic)", v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--sse", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (strcmp(v, "AES256") && strcmp(v, "aws:kms") && strcmp(v, "aws:kms:dsse"))
            return cli_usage_error(cmd, "--sse: '%s' is not AES256, aws:kms or aws:kms:dsse", v), -1;
        o->sse = v;
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--checksum", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (strcmp(v, "when_supported") && strcmp(v, "when_required") && strcmp(v, "always"))
            return cli_usage_error(cmd, "--checksum: '%s' is not when_supported, when_required or always", v), -1;
        o->checksum = v;
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--sse-kms-key-id", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (!*v) return cli_usage_error(cmd, "--sse-kms-key-id needs a key id"), -1;
        o->sse_kms_key_id = v;
        return 1;
    }
    if ((r = cli_opt_value(cmd, "--part-size", argc, argv, i, &v)) != 0) {
        if (r < 0) return -1;
        if (cli_parse_size(v, &o->part_size) != 0) {
            cli_usage_error(cmd, "--part-size: '%s' is not a size (e.g. 8M, 64MiB, 1048576)", v);
            return -1;
        }
        return 1;
    }
    return 0;
}

enum hoist_status cli_store_open(const struct cli_store_opts *o, struct hoist_store **out) {
    *out = NULL;
    struct hoist_store_config *cfg = NULL;
    enum hoist_status st = hoist_store_config_new(&cfg);
    if (st != HOIST_OK) return st;
    if (o->endpoint && (st = hoist_store_config_set_str(cfg, HOIST_STORE_ENDPOINT, o->endpoint)) != HOIST_OK) goto done;
    if (o->profile && (st = hoist_store_config_set_str(cfg, HOIST_STORE_PROFILE, o->profile)) != HOIST_OK) goto done;
    if (o->region && (st = hoist_store_config_set_str(cfg, HOIST_STORE_REGION, o->region)) != HOIST_OK) goto done;
    if (o->no_sign_request && (st = hoist_store_config_set_int(cfg, HOIST_STORE_NO_SIGN_REQUEST, 1)) != HOIST_OK)
        goto done;
    if (o->follow_symlinks && (st = hoist_store_config_set_int(cfg, HOIST_STORE_FOLLOW_SYMLINKS, 1)) != HOIST_OK)
        goto done;
    if (o->fsync && (st = hoist_store_config_set_int(cfg, HOIST_STORE_FSYNC, 1)) != HOIST_OK) goto done;
    if (o->concurrency && (st = hoist_store_config_set_int(cfg, HOIST_STORE_CONCURRENCY, o->concurrency)) != HOIST_OK)
        goto done;
    if (o->part_size && (st = hoist_store_config_set_int(cfg, HOIST_STORE_PART_SIZE, o->part_size)) != HOIST_OK)
        goto done;
    if (o->sse && (st = hoist_store_config_set_str(cfg, HOIST_STORE_SSE, o->sse)) != HOIST_OK) goto done;
    if (o->checksum && (st = hoist_store_config_set_str(cfg, HOIST_STORE_CHECKSUM, o->checksum)) != HOIST_OK) goto done;
    if (o->sse_kms_key_id &&
        (st = hoist_store_config_set_str(cfg, HOIST_STORE_SSE_KMS_KEY_ID, o->sse_kms_key_id)) != HOIST_OK)
        goto done;
    st = hoist_store_new(cfg, out);
done:
    hoist_store_config_free(cfg);
    return st;
}

int cli_parse_size(const char *text, int64_t *out) {
    if (!text) return -1;
    const char *p = text;
    while (*p == ' ') p++;
    if (*p < '0' || *p > '9') {
        if (*p != '.') return -1;
    }
    errno = 0;
    char *end = NULL;
    double v = strtod(p, &end);
    if (errno || end == p || !(v >= 0)) return -1;
    const char *s = end;
    double mult = 1;
    switch (*s) {
    case 'k':
    case 'K':
        mult = 1024.0;
        s++;
        break;
    case 'm':
    case 'M':
        mult = 1024.0 * 1024;
        s++;
        break;
    case 'g':
    case 'G':
        mult = 1024.0 * 1024 * 1024;
        s++;
        break;
    case 't':
    case 'T':
        mult = 1024.0 * 1024 * 1024 * 1024;
        s++;
        break;
    default: break;
    }
    if (mult > 1 && (*s == 'i' || *s == 'I')) s++;
    if (*s == 'b' || *s == 'B') s++;
    if (*s) return -1;
    /* A plain byte count must be whole: "1.5" bytes is a typo, not a size. */
    if (mult == 1 && strpbrk(p, ".eE")) return -1;
    double bytes = floor(v * mult);
    if (bytes > 9.0e18) return -1;
    *out = (int64_t)bytes;
    return 0;
}

char *cli_format_size(uint64_t bytes, char *buf, size_t size) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%" PRIu64 " B", bytes);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024.0;
        u++;
    }
    /* Three significant digits read best in a bar that updates 10 times a second. */
    if (v < 10)
        snprintf(buf, size, "%.2f %s", v, units[u]);
    else if (v < 100)
        snprintf(buf, size, "%.1f %s", v, units[u]);
    else
        snprintf(buf, size, "%.0f %s", v, units[u]);
    return buf;
}

char *cli_format_time(int64_t unix_seconds, int iso, char *buf, size_t size) {
    if (size == 0) return buf;
    if (unix_seconds == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm) == 0) buf[0] = '\0';
    return buf;
}

void cli_json_string(FILE *out, const char *s) {
    if (!s) {
        fputs("null", out);
        return;
    }
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\u%04x", *p);
            else
                putc(*p, out);
        }
    }
    putc('"', out);
}

void cli_put_safe(FILE *out, const char *s) {
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        /* C0 controls and DEL; in UTF-8, C1 controls are C2 80..C2 9F (a
         * terminal may read U+009B as CSI) */
        int c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        if (*p >= 0x20 && *p != 0x7f && !c1) {
            putc(*p, out);
            continue;
        }
        if (c1) p++;
        char esc[5] = {'\\', 'x', hex[*p >> 4], hex[*p & 15], 0};
        if (*p == '\n' || *p == '\t' || *p == '\r') esc[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r', esc[2] = 0;
        fputs(esc, out);
    }
}

void cli_error_line(const char *what, enum hoist_status status, const char *msg, const char *extra) {
    if (!msg || !*msg) msg = hoist_strerror(status);
    /* Messages keep to one line so a script can show or grep them. */
    fputs("hoist: ", stderr);
    /* Keys may hold any byte: printed raw, an escape sequence in one would
     * drive the terminal (clear it, retitle it, fake a prompt). */
    if (what && *what && !strstr(msg, what)) {
        cli_put_safe(stderr, what);
        fputs(": ", stderr);
    }
    cli_put_safe(stderr, msg);
    /* A hint by the kind of failure (hoist_status_class), said once here for
     * every command. A refused signature gets none here: its message says
     * which of its causes the server's code points to (s3_resp.c). */
    if (status == HOIST_ERR_S3_ACCESS_DENIED && !strstr(msg, "credentials"))
        fputs(" (access denied: check the credentials and the bucket policy)", stderr);
    if (extra) fputs(extra, stderr);
    putc('\n', stderr);
}

int cli_exit_code(enum hoist_status status) {
    /* A bad command line or expression is a usage error (2); a cancelled
     * operation exits as an interrupted program does (128 + SIGINT);
     * anything else that failed is 1. */
    if (status == HOIST_ERR_USAGE || status == HOIST_ERR_FILTER) return CLI_USAGE;
    if (hoist_status_class(status) == HOIST_CLASS_CANCELLED) return CLI_CANCELLED;
    return CLI_FAIL;
}

int cli_fail_on(enum hoist_status status, const char *what) {
    cli_error_line(what, status, hoist_errmsg(), NULL);
    return cli_exit_code(status);
}

/* ---- signals ------------------------------------------------------------- */

/* SIGINT and SIGTERM only set a flag while a transfer runs: the transfer's
 * progress callback sees it and cancels, the store then aborts its multipart
 * uploads and removes its temp files, and the command exits 128 + signal. */
static volatile sig_atomic_t caught_signal;

static void on_signal(int sig) { caught_signal = sig; }

void cli_signals_catch(struct cli_signals *s) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
}

void cli_signals_restore(const struct cli_signals *s) {
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
}

int cli_signal_caught(void) { return caught_signal; }

/* ---- progress bar ------------------------------------------------------ */

static int terminal_width(void) {
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    return 80;
}

void cli_progress_init(struct cli_progress *p, const char *label) {
    const char *env = getenv("HOIST_PROGRESS");
    p->enabled = isatty(STDERR_FILENO) && !(env && strcmp(env, "0") == 0);
    p->drawn = false;
    p->label = label ? label : "";
    p->t_start = cli_now();
    p->t_last = 0;
}

static void format_duration(double s, char *buf, size_t size) {
    if (!(s >= 0) || s > 99 * 3600.0) {
        snprintf(buf, size, "--:--");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
}

int cli_progress_update(const struct hoist_progress *pr, void *userdata) {
    struct cli_progress *p = userdata;
    if (caught_signal) return 1; /* cancel: the call cleans up, then we exit */
    if (!p || !p->enabled || !pr) return 0;
    double now = cli_now();
    bool finished = pr->objects_total && pr->objects_done >= pr->objects_total;
    if (!finished && now - p->t_last < 0.1) return 0;
    p->t_last = now;
    double elapsed = now - p->t_start;
    double rate = elapsed > 0 ? (double)pr->bytes_done / elapsed : 0;
    char done[32], total[32], speed[32], eta[32];
    cli_format_size(pr->bytes_done, done, sizeof done);
    cli_format_size(pr->bytes_total, total, sizeof total);
    cli_format_size((uint64_t)rate, speed, sizeof speed);
    if (pr->bytes_total > pr->bytes_done && rate > 0)
        format_duration((double)(pr->bytes_total - pr->bytes_done) / rate, eta, sizeof eta);
    else
        format_duration(pr->bytes_total && pr->bytes_done >= pr->bytes_total ? 0 : -1, eta, sizeof eta);

    char text[256];
    int n = snprintf(text, sizeof text, " %s / %s  %" PRIu64 "/%" PRIu64 " obj  %s/s  ETA %s", done,
                     pr->bytes_total ? total : "?", pr->objects_done, pr->objects_total, speed, eta);
    if (n < 0) return 0;
    int width = terminal_width() - 1;
    int label_w = (int)strlen(p->label);
    int bar_w = width - n - label_w - 9;
    fputc('\r', stderr);
    fputs(p->label, stderr);
    if (bar_w >= 10 && pr->bytes_total) {
        double frac = (double)pr->bytes_done / (double)pr->bytes_total;
        if (frac > 1) frac = 1;
        int fill = (int)(frac * bar_w);
        fprintf(stderr, " %3d%% [", (int)(frac * 100));
        for (int i = 0; i < bar_w; i++) fputc(i < fill ? '#' : '.', stderr);
        fputc(']', stderr);
    }
    fputs(text, stderr);
    fputs("\x1b[K", stderr); /* clear what a longer earlier line left behind */
    fflush(stderr);
    p->drawn = true;
    return 0;
}

void cli_progress_finish(struct cli_progress *p) {
    if (!p || !p->drawn) return;
    fputs("\r\x1b[K", stderr);
    fflush(stderr);
    p->drawn = false;
}
