/* The public object store API: config, client, URL parsing, dispatch. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- config --------------------------------------------------------- */

hx_status hoist_store_config_new(struct hoist_store_config **out) {
    HX_FAIL_IF(out == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_config_new: out is NULL");
    *out = NULL;
    struct hoist_store_config *c = hx_calloc(1, sizeof *c);
    HX_FAIL_IF(c == NULL, HOIST_ERR_NOMEM, "out of memory");
    c->no_sign = c->verify_tls = -1;
    c->concurrency = c->part_size = c->max_retries = c->stall_timeout = c->connect_timeout = -1;
    *out = c;
    return HOIST_OK;
}

void hoist_store_config_free(struct hoist_store_config *c) {
    if (c == NULL) return;
    hx_free(c->endpoint);
    hx_free(c->region);
    hx_free(c->profile);
    hx_free(c->access_key);
    if (c->secret_key) memset(c->secret_key, 0, strlen(c->secret_key));
    hx_free(c->secret_key);
    if (c->session_token) memset(c->session_token, 0, strlen(c->session_token));
    hx_free(c->session_token);
    hx_free(c->addressing);
    hx_free(c->tmpdir);
    hx_free(c);
}

static hx_status copy_opt(char **dst, const char *v, const char *what) {
    HX_FAIL_IF(v == NULL, HOIST_ERR_INVALID_ARG, "%s: value is NULL", what);
    char *d = hx_strdup(v);
    HX_FAIL_IF(d == NULL, HOIST_ERR_NOMEM, "out of memory");
    hx_free(*dst);
    *dst = d;
    return HOIST_OK;
}

hx_status hoist_store_config_set_str(struct hoist_store_config *c, enum hoist_store_option opt, const char *v) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_config_set_str: config is NULL");
    switch (opt) {
    case HOIST_STORE_ENDPOINT:
        HX_FAIL_IF(v && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0, HOIST_ERR_INVALID_ARG,
                   "endpoint '%s' must start with http:// or https://", v);
        return copy_opt(&c->endpoint, v, "endpoint");
    case HOIST_STORE_REGION: return copy_opt(&c->region, v, "region");
    case HOIST_STORE_PROFILE: return copy_opt(&c->profile, v, "profile");
    case HOIST_STORE_ACCESS_KEY_ID: return copy_opt(&c->access_key, v, "access key id");
    case HOIST_STORE_SECRET_ACCESS_KEY: return copy_opt(&c->secret_key, v, "secret access key");
    case HOIST_STORE_SESSION_TOKEN: return copy_opt(&c->session_token, v, "session token");
    case HOIST_STORE_TMPDIR: return copy_opt(&c->tmpdir, v, "tmpdir");
    case HOIST_STORE_ADDRESSING:
        HX_FAIL_IF(v == NULL || (strcmp(v, "path") && strcmp(v, "virtual") && strcmp(v, "auto")),
                   HOIST_ERR_INVALID_ARG, "addressing must be \"path\", \"virtual\" or \"auto\"");
        return copy_opt(&c->addressing, v, "addressing");
    default: break;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "store option %d does not take a string", (int)opt);
}

hx_status hoist_store_config_set_int(struct hoist_store_config *c, enum hoist_store_option opt, int64_t v) {
    HX_FAIL_IF(c == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_config_set_int: config is NULL");
    switch (opt) {
    case HOIST_STORE_NO_SIGN_REQUEST:
    case HOIST_STORE_VERIFY_TLS:
        HX_FAIL_IF(v != 0 && v != 1, HOIST_ERR_INVALID_ARG, "option %d takes 0 or 1, not %lld", (int)opt,
                   (long long)v);
        if (opt == HOIST_STORE_NO_SIGN_REQUEST)
            c->no_sign = (int)v;
        else
            c->verify_tls = (int)v;
        return HOIST_OK;
    case HOIST_STORE_CONCURRENCY:
        HX_FAIL_IF(v < 0 || v > 4096, HOIST_ERR_INVALID_ARG, "concurrency must be 0 (auto) to 4096, not %lld",
                   (long long)v);
        c->concurrency = v;
        return HOIST_OK;
    case HOIST_STORE_PART_SIZE:
        HX_FAIL_IF(v != 0 && (v < 64 * 1024 || v > (int64_t)5 << 30), HOIST_ERR_INVALID_ARG,
                   "part size must be 0 (auto) or 64 KiB to 5 GiB, not %lld", (long long)v);
        c->part_size = v;
        return HOIST_OK;
    case HOIST_STORE_MAX_RETRIES:
        HX_FAIL_IF(v < 0 || v > 100, HOIST_ERR_INVALID_ARG, "max retries must be 0 to 100, not %lld", (long long)v);
        c->max_retries = v;
        return HOIST_OK;
    case HOIST_STORE_STALL_TIMEOUT:
    case HOIST_STORE_CONNECT_TIMEOUT:
        HX_FAIL_IF(v < 1 || v > 3600, HOIST_ERR_INVALID_ARG, "timeouts must be 1 to 3600 seconds, not %lld",
                   (long long)v);
        if (opt == HOIST_STORE_STALL_TIMEOUT)
            c->stall_timeout = v;
        else
            c->connect_timeout = v;
        return HOIST_OK;
    default: break;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "store option %d does not take an integer", (int)opt);
}

/* ---- client -------------------------------------------------------------- */

/* DESIGN.md: about one connection per 0.4 Gbit/s of the throughput target
 * (aws-c-s3), at least 8; the default target is 10 Gbit/s -> 25. */
#define DEFAULT_CONCURRENCY 25
/* Small PUTs are bound by the server's per-request latency, not by
 * bandwidth: with the default (auto) concurrency, put_many of small objects
 * keeps this many in flight (docs/store.md, Performance). */
#define SMALL_PUT_CONCURRENCY 128
#define DEFAULT_PART_SIZE ((uint64_t)8 << 20)
/* Fewer, larger upload parts cost the server less per byte (measured on
 * SeaweedFS: 16 MiB parts beat 8 MiB ones by ~10%); objects up to twice
 * this go as one PUT. */
#define DEFAULT_PUT_PART_SIZE ((uint64_t)16 << 20)

hx_status hoist_store_new(const struct hoist_store_config *cfg, struct hoist_store **out) {
    HX_FAIL_IF(out == NULL, HOIST_ERR_INVALID_ARG, "hoist_store_new: out is NULL");
    *out = NULL;
    struct hoist_store_config empty;
    if (cfg == NULL) {
        memset(&empty, 0, sizeof empty);
        empty.no_sign = empty.verify_tls = -1;
        empty.concurrency = empty.part_size = empty.max_retries = empty.stall_timeout = empty.connect_timeout = -1;
        cfg = &empty;
    }
    struct hoist_store *st = hx_calloc(1, sizeof *st);
    HX_FAIL_IF(st == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hx_s3_explicit ex = {
        .endpoint = cfg->endpoint,
        .region = cfg->region,
        .profile = cfg->profile,
        .access_key = cfg->access_key,
        .secret_key = cfg->secret_key,
        .session_token = cfg->session_token,
        .addressing = cfg->addressing,
        .no_sign = cfg->no_sign == 1,
    };
    hx_status s = hx_s3_init(&st->s3, &ex);
    if (s != HOIST_OK) {
        hx_free(st);
        return s;
    }
    st->concurrency = cfg->concurrency > 0 ? (int)cfg->concurrency : DEFAULT_CONCURRENCY;
    st->small_put_concurrency = cfg->concurrency > 0 ? st->concurrency : SMALL_PUT_CONCURRENCY;
    st->part_size = cfg->part_size > 0 ? (uint64_t)cfg->part_size : DEFAULT_PART_SIZE;
    st->part_size_auto = cfg->part_size <= 0;
    /* S3 parts are at least 5 MiB except the last (qfacts). */
    st->put_part_size = cfg->part_size > 0 ? st->part_size : DEFAULT_PUT_PART_SIZE;
    if (st->put_part_size < ((uint64_t)5 << 20)) st->put_part_size = (uint64_t)5 << 20;
    const char *tmp = cfg->tmpdir ? cfg->tmpdir : getenv("METAFLOW_TEMPDIR");
    if (tmp == NULL || !tmp[0]) tmp = getenv("TMPDIR");
    if (tmp == NULL || !tmp[0]) tmp = "/tmp";
    st->tmpdir = hx_strdup(tmp);
    struct hx_net_config nc = {
        .concurrency = st->concurrency > st->small_put_concurrency ? st->concurrency : st->small_put_concurrency,
        .connect_timeout_s = cfg->connect_timeout > 0 ? (int)cfg->connect_timeout : 10,
        .stall_timeout_s = cfg->stall_timeout > 0 ? (int)cfg->stall_timeout : 30,
        .max_retries = cfg->max_retries >= 0 ? (int)cfg->max_retries : 10,
        .verify_tls = cfg->verify_tls != 0,
    };
    s = st->tmpdir ? hx_net_new(&nc, &st->net) : hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (s != HOIST_OK) {
        hoist_store_free(st);
        return s;
    }
    hx_error_clear();
    *out = st;
    return HOIST_OK;
}

void hoist_store_free(struct hoist_store *st) {
    if (st == NULL) return;
    hx_net_free(st->net);
    hx_s3_cleanup(&st->s3);
    hx_free(st->tmpdir);
    hx_free(st);
}

void hoist_store_get_stats(struct hoist_store *st, struct hoist_store_stats *out) {
    if (out == NULL) return;
    memset(out, 0, sizeof *out);
    if (st == NULL || st->net == NULL) return;
    out->bytes_received = atomic_load(&st->net->bytes_received);
    out->bytes_sent = atomic_load(&st->net->bytes_sent);
    out->requests = atomic_load(&st->net->requests);
    out->retries = atomic_load(&st->net->retries);
}

/* ---- item resets ----------------------------------------------------------- */

void hoist_object_info_reset(struct hoist_object_info *info) {
    if (info == NULL) return;
    hx_free(info->url);
    hx_free(info->etag);
    hx_free(info->content_type);
    hx_free(info->metadata_json);
    memset(info, 0, sizeof *info);
}

void hoist_get_item_reset(struct hoist_get_item *item) {
    if (item == NULL) return;
    if (item->dest == HOIST_DEST_ALLOC) hx_free(item->data);
    item->data = NULL;
    hx_free(item->error);
    item->error = NULL;
    hoist_object_info_reset(&item->info);
    item->status = HOIST_OK;
    item->size = 0;
    item->range_start = 0;
}

void hoist_put_item_reset(struct hoist_put_item *item) {
    if (item == NULL) return;
    hx_free(item->error);
    item->error = NULL;
    item->status = HOIST_OK;
}

void hoist_info_item_reset(struct hoist_info_item *item) {
    if (item == NULL) return;
    hx_free(item->error);
    item->error = NULL;
    hoist_object_info_reset(&item->info);
    item->status = HOIST_OK;
}

void hoist_list_reset(struct hoist_list *list) {
    if (list == NULL) return;
    for (size_t i = 0; i < list->count; i++) {
        hx_free(list->entries[i].url);
        hx_free(list->entries[i].prefix);
        hx_free(list->entries[i].etag);
    }
    hx_free(list->entries);
    list->entries = NULL;
    list->count = 0;
}

hx_status hx_store_list_push(struct hoist_list *list, size_t *cap, const char *url, const char *prefix,
                             uint64_t size, int64_t mtime, const char *etag, int is_prefix) {
    if (list->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct hoist_list_entry *e = hx_realloc(list->entries, nc * sizeof *e);
        HX_FAIL_IF(e == NULL, HOIST_ERR_NOMEM, "out of memory listing");
        list->entries = e;
        *cap = nc;
    }
    struct hoist_list_entry *e = &list->entries[list->count];
    memset(e, 0, sizeof *e);
    e->url = hx_strdup(url);
    e->prefix = hx_strdup(prefix);
    e->etag = etag ? hx_strdup(etag) : NULL;
    e->size = size;
    e->last_modified = mtime;
    e->is_prefix = is_prefix;
    if (e->url == NULL || e->prefix == NULL || (etag && e->etag == NULL)) {
        hx_free(e->url);
        hx_free(e->prefix);
        hx_free(e->etag);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory listing");
    }
    list->count++;
    return HOIST_OK;
}

char *hx_store_errdup(void) { return hx_strdup(hoist_errmsg()); }

/* ---- URLs and local paths ---------------------------------------------------- */

void hx_url_reset(struct hx_url *u) {
    hx_free(u->buf);
    memset(u, 0, sizeof *u);
}

static int segment_bad(const char *s, size_t n) {
    return n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

hx_status hx_store_parse_url(const char *url, struct hx_url *out) {
    memset(out, 0, sizeof *out);
    HX_FAIL_IF(url == NULL || url[0] == '\0', HOIST_ERR_BAD_URL, "empty URL");
    if (strncmp(url, "s3://", 5) == 0) {
        out->kind = HX_URL_S3;
        const char *b = url + 5;
        const char *slash = strchr(b, '/');
        size_t blen = slash ? (size_t)(slash - b) : strlen(b);
        HX_FAIL_IF(blen == 0, HOIST_ERR_BAD_URL, "%s: no bucket name", url);
        for (size_t i = 0; i < blen; i++) {
            unsigned char c = (unsigned char)b[i];
            HX_FAIL_IF(c <= 0x20 || c == '?' || c == '#' || c == '\\' || c >= 0x7f, HOIST_ERR_BAD_URL,
                       "%s: bad character in bucket name", url);
        }
        const char *key = slash ? slash + 1 : "";
        HX_FAIL_IF(strlen(key) > HX_STORE_MAX_KEY, HOIST_ERR_BAD_URL, "%.100s...: key longer than %d bytes", url,
                   HX_STORE_MAX_KEY);
        size_t klen = strlen(key);
        out->buf = hx_malloc(blen + klen + 2);
        HX_FAIL_IF(out->buf == NULL, HOIST_ERR_NOMEM, "out of memory");
        memcpy(out->buf, b, blen);
        out->buf[blen] = '\0';
        memcpy(out->buf + blen + 1, key, klen + 1);
        out->bucket = out->buf;
        out->key = out->buf + blen + 1;
        return HOIST_OK;
    }
    const char *path = url;
    if (strncmp(url, "file://", 7) == 0) {
        path = url + 7;
        if (strncmp(path, "localhost/", 10) == 0) path += 9;
        HX_FAIL_IF(path[0] != '/', HOIST_ERR_BAD_URL, "%s: file URLs need an absolute path (file:///dir/x)", url);
        /* A file:// URL names a place the caller chose, but it may come from
         * a listing or config: refuse climbing out with ".." segments. */
        for (const char *s = path + 1;;) {
            const char *e = strchr(s, '/');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n == 2 && s[0] == '.' && s[1] == '.')
                HX_FAIL(HOIST_ERR_UNSAFE_KEY, "%s: '..' segments are not allowed in file URLs", url);
            if (e == NULL) break;
            s = e + 1;
        }
    } else if (strstr(url, "://") != NULL) {
        HX_FAIL(HOIST_ERR_BAD_URL, "%s: unsupported scheme (use s3://, file:// or a local path)", url);
    }
    out->kind = HX_URL_FILE;
    out->buf = hx_strdup(path);
    HX_FAIL_IF(out->buf == NULL, HOIST_ERR_NOMEM, "out of memory");
    out->path = out->buf;
    return HOIST_OK;
}

hx_status hx_store_safe_join(const char *dir, const char *key, char **out) {
    *out = NULL;
    HX_FAIL_IF(dir == NULL || key == NULL, HOIST_ERR_INVALID_ARG, "safe_join: NULL argument");
    HX_FAIL_IF(key[0] == '\0', HOIST_ERR_UNSAFE_KEY, "an empty key has no local file name");
    HX_FAIL_IF(key[0] == '/', HOIST_ERR_UNSAFE_KEY, "key '%.200s' is absolute: refusing to write outside '%s'", key,
               dir);
    for (const char *s = key;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (segment_bad(s, n))
            HX_FAIL(HOIST_ERR_UNSAFE_KEY,
                    "key '%.200s' has an empty, '.' or '..' path segment: refusing to map it under '%s'", key, dir);
        if (e == NULL) break;
        s = e + 1;
    }
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    *out = hx_asprintf("%.*s/%s", (int)dl, dir, key);
    HX_FAIL_IF(*out == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

hx_status hx_store_make_parents(const char *path) {
    char *p = hx_strdup(path);
    HX_FAIL_IF(p == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            hx_status st = hx_error(HOIST_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            hx_free(p);
            return st;
        }
        *s = '/';
    }
    hx_free(p);
    return HOIST_OK;
}

static mode_t file_mode(void) {
    static _Atomic int cached = -1;
    int m = atomic_load(&cached);
    if (m < 0) {
        /* umask can only be read by setting it; do it once, early. */
        mode_t old = umask(022);
        umask(old);
        m = (int)(0666 & ~old);
        atomic_store(&cached, m);
    }
    return (mode_t)m;
}

hx_status hx_store_temp_for(const char *path, int *fd, char **tmp_path) {
    *fd = -1;
    *tmp_path = NULL;
    (void)file_mode();
    HX_TRY(hx_store_make_parents(path));
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path + 1) : 0;
    const char *leaf = slash ? slash + 1 : path;
    char *t = hx_asprintf("%.*s.%.100s.hoist-XXXXXX", dl, path, leaf);
    HX_FAIL_IF(t == NULL, HOIST_ERR_NOMEM, "out of memory");
    int f = mkostemp(t, O_CLOEXEC);
    if (f < 0) {
        hx_status st = hx_error(HOIST_ERR_IO, "%s: cannot create a temp file next to it: %s", path, strerror(errno));
        hx_free(t);
        return st;
    }
    *fd = f;
    *tmp_path = t;
    return HOIST_OK;
}

hx_status hx_store_commit_temp(int fd, const char *tmp_path, const char *path) {
    if (fchmod(fd, file_mode()) != 0 || rename(tmp_path, path) != 0) {
        hx_status st = hx_error(HOIST_ERR_IO, "%s: cannot move the finished download into place: %s", path,
                                strerror(errno));
        unlink(tmp_path);
        return st;
    }
    return HOIST_OK;
}

/* ---- public many-at-once calls ------------------------------------------------- */

static hx_status parse_all(const char *const *urls, size_t stride, const void *base, size_t n, struct hx_url **out,
                           size_t *bad, int *any_s3) {
    *out = NULL;
    *any_s3 = 0;
    struct hx_url *u = hx_calloc(n ? n : 1, sizeof *u);
    HX_FAIL_IF(u == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *url = urls ? urls[i] : *(const char *const *)((const char *)base + i * stride);
        hx_status st = hx_store_parse_url(url, &u[i]);
        if (st != HOIST_OK) {
            *bad = i;
            for (size_t j = 0; j < i; j++) hx_url_reset(&u[j]);
            hx_free(u);
            return st;
        }
        if (u[i].kind == HX_URL_S3) *any_s3 = 1;
    }
    *out = u;
    return HOIST_OK;
}

static void free_urls(struct hx_url *u, size_t n) {
    if (u == NULL) return;
    for (size_t i = 0; i < n; i++) hx_url_reset(&u[i]);
    hx_free(u);
}

hx_status hoist_store_get_many(struct hoist_store *st, struct hoist_get_item *items, size_t n, unsigned flags,
                               hoist_progress_fn progress, void *userdata) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "get_many: NULL argument");
    if (n == 0) {
        hx_error_clear();
        return HOIST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        struct hoist_get_item *it = &items[i];
        it->status = HOIST_OK;
        it->error = NULL;
        it->data = NULL;
        it->size = 0;
        it->range_start = 0;
        memset(&it->info, 0, sizeof it->info);
        HX_FAIL_IF(it->url == NULL, HOIST_ERR_INVALID_ARG, "get_many: item %zu has no URL", i);
        HX_FAIL_IF(it->dest == HOIST_DEST_FILE && (it->path == NULL || !it->path[0]), HOIST_ERR_INVALID_ARG,
                   "%s: file destination without a path", it->url);
        HX_FAIL_IF(it->dest == HOIST_DEST_BUFFER && it->buffer == NULL && it->buffer_size > 0, HOIST_ERR_INVALID_ARG,
                   "%s: buffer destination without a buffer", it->url);
        HX_FAIL_IF(it->dest != HOIST_DEST_ALLOC && it->dest != HOIST_DEST_BUFFER && it->dest != HOIST_DEST_FILE,
                   HOIST_ERR_INVALID_ARG, "%s: unknown destination %d", it->url, (int)it->dest);
        HX_FAIL_IF(it->offset < 0 || (it->length < 0 && it->length != -1) || (it->suffix && it->length <= 0),
                   HOIST_ERR_INVALID_ARG, "%s: bad range (offset %lld, length %lld%s)", it->url,
                   (long long)it->offset, (long long)it->length, it->suffix ? ", suffix" : "");
    }
    struct hx_url *urls;
    size_t bad = 0;
    int any_s3;
    hx_status s = parse_all(NULL, sizeof *items, &items->url, n, &urls, &bad, &any_s3);
    if (s != HOIST_OK) {
        items[bad].status = s;
        items[bad].error = hx_store_errdup();
        return s;
    }
    for (size_t i = 0; i < n; i++)
        if (urls[i].kind == HX_URL_FILE) hx_store_file_get(&items[i], &urls[i]);
    s = HOIST_OK;
    if (any_s3) s = hx_store_s3_get(st, items, n, urls, flags, progress, userdata);
    free_urls(urls, n);
    if (s == HOIST_OK && progress) {
        /* The final report: everything is done, so its answer cannot cancel. */
        struct hoist_progress p = {0, 0, n, n};
        for (size_t i = 0; i < n; i++) p.bytes_done += items[i].size;
        p.bytes_total = p.bytes_done;
        (void)progress(&p, userdata);
    }
    if (s != HOIST_OK) return s;
    for (size_t i = 0; i < n; i++) {
        hx_status is = items[i].status;
        if (is == HOIST_OK) continue;
        if (is == HOIST_ERR_S3_NO_SUCH_KEY && (flags & HOIST_RETURN_MISSING)) continue;
        if (is == HOIST_ERR_NOT_FOUND && (flags & HOIST_RETURN_MISSING)) continue;
        return hx_error(is, "%s", items[i].error ? items[i].error : hoist_strerror(is));
    }
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_store_put_many(struct hoist_store *st, struct hoist_put_item *items, size_t n, unsigned flags,
                               hoist_progress_fn progress, void *userdata) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "put_many: NULL argument");
    if (n == 0) {
        hx_error_clear();
        return HOIST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].status = HOIST_OK;
        items[i].error = NULL;
        HX_FAIL_IF(items[i].url == NULL, HOIST_ERR_INVALID_ARG, "put_many: item %zu has no URL", i);
        HX_FAIL_IF(items[i].data == NULL && items[i].path == NULL && items[i].size > 0, HOIST_ERR_INVALID_ARG,
                   "%s: neither data nor a path to upload", items[i].url);
    }
    struct hx_url *urls;
    size_t bad = 0;
    int any_s3;
    hx_status s = parse_all(NULL, sizeof *items, &items->url, n, &urls, &bad, &any_s3);
    if (s != HOIST_OK) {
        items[bad].status = s;
        items[bad].error = hx_store_errdup();
        return s;
    }
    for (size_t i = 0; i < n; i++) {
        if (urls[i].kind == HX_URL_S3 && urls[i].key[0] == '\0') {
            items[i].status = hx_error(HOIST_ERR_BAD_URL, "%s: no key to write", items[i].url);
            items[i].error = hx_store_errdup();
            urls[i].kind = HX_URL_DONE;
        }
        if (urls[i].kind == HX_URL_FILE) hx_store_file_put(&items[i], &urls[i], flags);
    }
    if (any_s3) s = hx_store_s3_put(st, items, n, urls, flags, progress, userdata);
    free_urls(urls, n);
    if (s != HOIST_OK) return s;
    for (size_t i = 0; i < n; i++) {
        hx_status is = items[i].status;
        if (is == HOIST_OK || (is == HOIST_ERR_EXISTS && (flags & HOIST_NO_OVERWRITE))) continue;
        return hx_error(is, "%s", items[i].error ? items[i].error : hoist_strerror(is));
    }
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_store_info_many(struct hoist_store *st, struct hoist_info_item *items, size_t n, unsigned flags) {
    HX_FAIL_IF(st == NULL || (items == NULL && n > 0), HOIST_ERR_INVALID_ARG, "info_many: NULL argument");
    if (n == 0) {
        hx_error_clear();
        return HOIST_OK;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].status = HOIST_OK;
        items[i].error = NULL;
        memset(&items[i].info, 0, sizeof items[i].info);
        HX_FAIL_IF(items[i].url == NULL, HOIST_ERR_INVALID_ARG, "info_many: item %zu has no URL", i);
    }
    struct hx_url *urls;
    size_t bad = 0;
    int any_s3;
    hx_status s = parse_all(NULL, sizeof *items, &items->url, n, &urls, &bad, &any_s3);
    if (s != HOIST_OK) {
        items[bad].status = s;
        items[bad].error = hx_store_errdup();
        return s;
    }
    for (size_t i = 0; i < n; i++)
        if (urls[i].kind == HX_URL_FILE) hx_store_file_info(&items[i], &urls[i]);
    if (any_s3) s = hx_store_s3_info(st, items, n, urls);
    free_urls(urls, n);
    if (s != HOIST_OK) return s;
    for (size_t i = 0; i < n; i++) {
        hx_status is = items[i].status;
        if (is == HOIST_OK) continue;
        if ((is == HOIST_ERR_S3_NO_SUCH_KEY || is == HOIST_ERR_NOT_FOUND) && (flags & HOIST_RETURN_MISSING)) continue;
        return hx_error(is, "%s", items[i].error ? items[i].error : hoist_strerror(is));
    }
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_store_list(struct hoist_store *st, const char *const *prefixes, size_t n, int recursive,
                           struct hoist_list *out) {
    HX_FAIL_IF(st == NULL || out == NULL || (prefixes == NULL && n > 0), HOIST_ERR_INVALID_ARG,
               "list: NULL argument");
    memset(out, 0, sizeof *out);
    struct hx_url *urls;
    size_t bad = 0;
    int any_s3;
    HX_TRY(parse_all(prefixes, 0, NULL, n, &urls, &bad, &any_s3));
    struct hoist_list *per = hx_calloc(n ? n : 1, sizeof *per);
    if (per == NULL) {
        free_urls(urls, n);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status s = HOIST_OK;
    for (size_t i = 0; i < n && s == HOIST_OK; i++)
        if (urls[i].kind == HX_URL_FILE) s = hx_store_file_list(prefixes[i], &urls[i], recursive, &per[i]);
    if (s == HOIST_OK && any_s3) s = hx_store_s3_list(st, prefixes, n, urls, recursive, per);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += per[i].count;
    if (s == HOIST_OK && total > 0) {
        out->entries = hx_malloc(total * sizeof *out->entries);
        if (out->entries == NULL) s = hx_error(HOIST_ERR_NOMEM, "out of memory listing");
    }
    if (s == HOIST_OK) {
        for (size_t i = 0; i < n; i++) {
            if (per[i].count) memcpy(out->entries + out->count, per[i].entries, per[i].count * sizeof *out->entries);
            out->count += per[i].count;
            hx_free(per[i].entries);
        }
    } else {
        for (size_t i = 0; i < n; i++) hoist_list_reset(&per[i]);
    }
    hx_free(per);
    free_urls(urls, n);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

hx_status hoist_store_delete_many(struct hoist_store *st, const char *const *urls_in, size_t n) {
    HX_FAIL_IF(st == NULL || (urls_in == NULL && n > 0), HOIST_ERR_INVALID_ARG, "delete_many: NULL argument");
    struct hx_url *urls;
    size_t bad = 0;
    int any_s3;
    HX_TRY(parse_all(urls_in, 0, NULL, n, &urls, &bad, &any_s3));
    hx_status s = HOIST_OK;
    for (size_t i = 0; i < n && s == HOIST_OK; i++) {
        if (urls[i].kind == HX_URL_FILE)
            s = hx_store_file_delete(&urls[i], urls_in[i]);
        else if (urls[i].key[0] == '\0')
            s = hx_error(HOIST_ERR_BAD_URL, "%s: no key to delete (use bucket_delete for buckets)", urls_in[i]);
    }
    if (s == HOIST_OK && any_s3) s = hx_store_s3_delete(st, urls_in, n, urls);
    free_urls(urls, n);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

static hx_status bucket_op(struct hoist_store *st, const char *url, int create) {
    HX_FAIL_IF(st == NULL || url == NULL, HOIST_ERR_INVALID_ARG, "bucket: NULL argument");
    struct hx_url u;
    HX_TRY(hx_store_parse_url(url, &u));
    hx_status s;
    if (u.kind != HX_URL_S3)
        s = hx_error(HOIST_ERR_BAD_URL, "%s: buckets are s3://name", url);
    else if (u.key[0] != '\0')
        s = hx_error(HOIST_ERR_BAD_URL, "%s: a bucket URL has no key (s3://name)", url);
    else
        s = hx_store_s3_bucket(st, u.bucket, create);
    hx_url_reset(&u);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

hx_status hoist_store_bucket_create(struct hoist_store *st, const char *url) { return bucket_op(st, url, 1); }
hx_status hoist_store_bucket_delete(struct hoist_store *st, const char *url) { return bucket_op(st, url, 0); }
