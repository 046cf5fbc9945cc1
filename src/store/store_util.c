/* Helpers shared by the store's dispatcher (store.c) and its backends
 * (store_file.c, store_s3_*.c): URL parsing, the safe mapping of keys to
 * local paths, temp files renamed into place, list building and the public
 * item resets. Nothing here calls a backend. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- item resets ----------------------------------------------------------- */

void hoist_store_object_info_reset(struct hoist_object_info *info) {
    if (info == NULL) return;
    hx_free(info->url);
    hx_free(info->etag);
    hx_free(info->content_type);
    hx_free(info->metadata_json);
    hx_free(info->encryption);
    memset(info, 0, sizeof *info);
}

void hoist_store_get_item_reset(struct hoist_get_item *item) {
    if (item == NULL) return;
    if (item->dest == HOIST_DEST_ALLOC) hx_free(item->data);
    item->data = NULL;
    hx_free(item->error);
    item->error = NULL;
    hoist_store_object_info_reset(&item->info);
    item->status = HOIST_OK;
    item->size = 0;
    item->range_start = 0;
}

void hoist_store_put_item_reset(struct hoist_put_item *item) {
    if (item == NULL) return;
    hx_free(item->error);
    item->error = NULL;
    item->status = HOIST_OK;
}

void hoist_store_info_item_reset(struct hoist_info_item *item) {
    if (item == NULL) return;
    hx_free(item->error);
    item->error = NULL;
    hoist_store_object_info_reset(&item->info);
    item->status = HOIST_OK;
}

void hoist_store_list_reset(struct hoist_list *list) {
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

hx_status hx_store_list_push(struct hoist_list *list, size_t *cap, const char *url, const char *prefix, uint64_t size,
                             int64_t mtime, const char *etag, int is_prefix) {
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
    HX_FAIL_IF(key[0] == '\0', HOIST_ERR_UNSAFE_KEY, "unsafe key: an empty key names no file under '%s'", dir);
    HX_FAIL_IF(key[0] == '/', HOIST_ERR_UNSAFE_KEY, "unsafe key: '%.200s' would write outside '%s' (absolute)", key,
               dir);
    for (const char *s = key;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (segment_bad(s, n))
            HX_FAIL(HOIST_ERR_UNSAFE_KEY,
                    "unsafe key: '%.200s' would write outside '%s' (an empty, '.' or '..' path "
                    "segment)",
                    key, dir);
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

/* ---- writing local files --------------------------------------------------- */

/* The calling thread's write context: every backend writes a downloaded file
 * on the thread of the public call (its event loop runs there), so the call
 * that knows the rules sets them here once instead of threading them through
 * every backend's signature. */
static _Thread_local struct hx_store_write_ctx write_ctx;

void hx_store_write_ctx_set(struct hx_store_write_ctx *saved, const struct hx_store_write_ctx *now) {
    *saved = write_ctx;
    write_ctx = *now;
}

const struct hx_store_write_ctx *hx_store_write_ctx_get(void) { return &write_ctx; }

void hx_store_write_ctx_restore(const struct hx_store_write_ctx *saved) { write_ctx = *saved; }

/* The directory that will hold path, opened. Below the context's root (a
 * directory whose names come from keys), every component is opened with
 * O_NOFOLLOW, made if missing: a symlink planted there (`a -> /etc`) fails
 * the write instead of redirecting it. Components above the root, or of a
 * path without one, are the caller's choice and are followed. *leaf points
 * into path. */
static hx_status open_parent(const char *path, int *dfd_out, const char **leaf) {
    *dfd_out = -1;
    const char *slash = strrchr(path, '/');
    *leaf = slash ? slash + 1 : path;
    HX_FAIL_IF(**leaf == '\0', HOIST_ERR_INVALID_ARG, "%s: names a directory, not a file", path);
    const char *root = write_ctx.root;
    size_t rl = root ? strlen(root) : 0;
    while (rl > 1 && root[rl - 1] == '/') rl--;
    int under_root = root && rl > 0 && strncmp(path, root, rl) == 0 && path[rl] == '/';
    if (!under_root) {
        HX_TRY(hx_store_make_parents(path));
        char *dir = slash == NULL   ? hx_strdup(".")
                    : slash == path ? hx_strdup("/")
                                    : hx_strndup(path, (size_t)(slash - path));
        HX_FAIL_IF(dir == NULL, HOIST_ERR_NOMEM, "out of memory");
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        hx_status st =
            fd < 0 ? hx_error(HOIST_ERR_IO, "%s: cannot open the directory: %s", dir, strerror(errno)) : HOIST_OK;
        hx_free(dir);
        *dfd_out = fd;
        return st;
    }
    /* The root itself is the caller's name: made if missing, followed. */
    char *r = hx_strndup(path, rl + 1);
    HX_FAIL_IF(r == NULL, HOIST_ERR_NOMEM, "out of memory");
    hx_status st = hx_store_make_parents(r);
    int dfd = st == HOIST_OK ? open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (st == HOIST_OK && dfd < 0) st = hx_error(HOIST_ERR_IO, "%s: cannot open the directory: %s", r, strerror(errno));
    hx_free(r);
    for (const char *c = path + rl + 1; st == HOIST_OK && c < *leaf;) {
        const char *e = strchr(c, '/');
        char *name = hx_strndup(c, (size_t)(e - c));
        if (name == NULL) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        /* mode 0777: the kernel applies the umask, as mkdir(1) does */
        if (mkdirat(dfd, name, 0777) != 0 && errno != EEXIST)
            st = hx_error(HOIST_ERR_IO, "%s: cannot create directory %s: %s", path, name, strerror(errno));
        int next = st == HOIST_OK ? openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (st == HOIST_OK && next < 0)
            st = errno == ELOOP || errno == ENOTDIR
                     ? hx_error(HOIST_ERR_UNSAFE_KEY, "%s: '%s' is a symlink or not a directory: not followed", path,
                                name)
                     : hx_error(HOIST_ERR_IO, "%s: cannot open directory %s: %s", path, name, strerror(errno));
        hx_free(name);
        close(dfd);
        dfd = next;
        c = e + 1;
    }
    if (st != HOIST_OK && dfd >= 0) close(dfd);
    *dfd_out = st == HOIST_OK ? dfd : -1;
    return st;
}

hx_status hx_store_temp_for(const char *path, int *fd, char **tmp_path) {
    *fd = -1;
    *tmp_path = NULL;
    int dfd;
    const char *leaf;
    HX_TRY(open_parent(path, &dfd, &leaf));
    int dl = (int)(leaf - path);
    hx_status st = HOIST_OK;
    char *t = NULL;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint64_t)(hx_now() * 1e9) ^ (uint64_t)getpid() << 32;
        hx_free(t);
        t = hx_asprintf("%.*s.%.100s.hoist-%06llx", dl, path, leaf, (unsigned long long)(r & 0xffffff));
        if (t == NULL) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        /* 0666: the kernel applies the umask, so the process umask is never
         * read (reading it means setting it, which races with other threads). */
        int f = openat(dfd, t + dl, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (f >= 0) {
            *fd = f;
            break;
        }
        if (errno != EEXIST) {
            st = hx_error(HOIST_ERR_IO, "%s: cannot create a temp file next to it: %s", path, strerror(errno));
            break;
        }
    }
    close(dfd);
    if (st == HOIST_OK && *fd < 0) st = hx_error(HOIST_ERR_IO, "%s: no free temp file name next to it", path);
    if (st != HOIST_OK) {
        hx_free(t);
        return st;
    }
    *tmp_path = t;
    return HOIST_OK;
}

hx_status hx_store_commit_temp(int fd, const char *tmp_path, const char *path) {
    /* The parent is opened again the same way: a directory swapped for a
     * symlink since the temp file was made is refused, and the rename is
     * relative to the descriptor, so nothing can move under it. */
    int dfd;
    const char *leaf;
    hx_status st = open_parent(path, &dfd, &leaf);
    const char *tmp_leaf = strrchr(tmp_path, '/');
    tmp_leaf = tmp_leaf ? tmp_leaf + 1 : tmp_path;
    if (st != HOIST_OK) {
        unlink(tmp_path);
        return st;
    }
    /* An existing file keeps its permissions (a 0600 file stays 0600). */
    struct stat sb;
    if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) && fchmod(fd, sb.st_mode & 07777) != 0)
        st = hx_error(HOIST_ERR_IO, "%s: cannot keep the file's mode: %s", path, strerror(errno));
    if (st == HOIST_OK && write_ctx.fsync && fsync(fd) != 0)
        st = hx_error(HOIST_ERR_IO, "%s: fsync: %s", path, strerror(errno));
    if (st == HOIST_OK && (write_ctx.flags & HOIST_NO_OVERWRITE)) {
        /* linkat fails with EEXIST if the name exists, atomically: no check
         * that another writer could slip in behind. */
        if (linkat(dfd, tmp_leaf, dfd, leaf, 0) != 0)
            st = errno == EEXIST ? hx_error(HOIST_ERR_EXISTS, "%s: exists, not overwritten", path)
                                 : hx_error(HOIST_ERR_IO, "%s: cannot link into place: %s", path, strerror(errno));
        unlinkat(dfd, tmp_leaf, 0);
    } else if (st == HOIST_OK && renameat(dfd, tmp_leaf, dfd, leaf) != 0) {
        st = hx_error(HOIST_ERR_IO, "%s: cannot move the finished file into place: %s", path, strerror(errno));
    }
    if (st != HOIST_OK) unlinkat(dfd, tmp_leaf, 0);
    /* fsync of the directory makes the new name itself durable */
    if (st == HOIST_OK && write_ctx.fsync && fsync(dfd) != 0)
        st = hx_error(HOIST_ERR_IO, "%s: fsync of the directory: %s", path, strerror(errno));
    close(dfd);
    return st;
}
