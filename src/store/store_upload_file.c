/* Streamed uploads to file:// : bytes go to a hidden temp file next to the
 * destination (".name.hoist-XXXXXX", which dataset readers skip), renamed into
 * place at commit, unlinked at abort. */
#include "store_upload_backend.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_upload {
    struct hx_upload base;
    int fd;
    char *tmp;
};

/* Directories this uploader created, parents first: a failed job removes
 * the ones left empty, so an aborted write leaves no trace. */
struct file_dirs {
    char **dirs;
    size_t n, cap;
};

static hx_status file_start(struct hx_uploader *up) {
    up->impl = hx_calloc(1, sizeof(struct file_dirs));
    HX_FAIL_IF(up->impl == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

static void file_stop(struct hx_uploader *up) {
    struct file_dirs *d = up->impl;
    for (size_t i = d->n; i-- > 0;) {
        (void)rmdir(d->dirs[i]); /* fails, as it should, unless empty */
        hx_free(d->dirs[i]);
    }
    hx_free(d->dirs);
    hx_free(d);
}

/* Records the missing ancestors of path (they are about to be created). */
static hx_status note_missing_dirs(struct file_dirs *d, const char *path) {
    char *p = hx_strdup(path);
    HX_FAIL_IF(p == NULL, HOIST_ERR_NOMEM, "out of memory");
    size_t first = d->n;
    hx_status s = HOIST_OK;
    struct stat sb;
    for (char *slash = strrchr(p, '/'); slash && slash != p && s == HOIST_OK; slash = strrchr(p, '/')) {
        *slash = '\0';
        if (stat(p, &sb) == 0 || errno != ENOENT) break;
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 16;
            char **n = hx_realloc(d->dirs, cap * sizeof *n);
            if (n == NULL) {
                s = hx_error(HOIST_ERR_NOMEM, "out of memory");
                break;
            }
            d->dirs = n;
            d->cap = cap;
        }
        d->dirs[d->n] = hx_strdup(p);
        if (d->dirs[d->n] == NULL)
            s = hx_error(HOIST_ERR_NOMEM, "out of memory");
        else
            d->n++;
    }
    hx_free(p);
    /* found deepest first: store parents first */
    for (size_t i = first, j = d->n; i + 1 < j; i++, j--) {
        char *t = d->dirs[i];
        d->dirs[i] = d->dirs[j - 1];
        d->dirs[j - 1] = t;
    }
    return s;
}

static hx_status file_open(struct hx_upload *u) {
    struct file_upload *f = (struct file_upload *)u;
    f->fd = -1;
    HX_TRY(note_missing_dirs(u->up->impl, u->u.path));
    HX_TRY(hx_store_temp_for(u->u.path, &f->fd, &f->tmp));
    return HOIST_OK;
}

static hx_status file_write(struct hx_upload *u, const void *data, size_t len) {
    struct file_upload *f = (struct file_upload *)u;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        HX_FAIL_IF(w < 0, HOIST_ERR_IO, "%s: cannot write: %s", u->u.path, strerror(errno));
        p += w;
        len -= (size_t)w;
        atomic_fetch_add(&u->up->uploaded, (uint64_t)w);
    }
    return HOIST_OK;
}

/* The descriptor is closed here, not at commit: a job may finish thousands of
 * files before it commits any. */
static hx_status file_finish(struct hx_upload *u) {
    struct file_upload *f = (struct file_upload *)u;
    hx_status s = HOIST_OK;
    if (u->up->fsync && fsync(f->fd) != 0) s = hx_error(HOIST_ERR_IO, "%s: fsync: %s", u->u.path, strerror(errno));
    /* No chmod: hx_store_temp_for created the file 0666 & ~umask already
     * (reading the umask means setting it, which races with other threads). */
    if (close(f->fd) != 0 && s == HOIST_OK) s = hx_error(HOIST_ERR_IO, "%s: close: %s", u->u.path, strerror(errno));
    f->fd = -1;
    return s;
}

static hx_status file_commit(struct hx_upload *const *us, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct file_upload *f = (struct file_upload *)us[i];
        if (f->base.state == HX_UP_COMMITTED) continue;
        HX_FAIL_IF(rename(f->tmp, f->base.u.path) != 0, HOIST_ERR_IO, "%s: cannot move the written file into place: %s",
                   f->base.u.path, strerror(errno));
        hx_free(f->tmp);
        f->tmp = NULL;
        f->base.state = HX_UP_COMMITTED;
    }
    return HOIST_OK;
}

static void file_abort(struct hx_upload *const *us, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct file_upload *f = (struct file_upload *)us[i];
        if (f->base.state == HX_UP_COMMITTED || f->base.state == HX_UP_ABORTED) continue;
        if (f->fd >= 0) close(f->fd);
        f->fd = -1;
        if (f->tmp) unlink(f->tmp);
        hx_free(f->tmp);
        f->tmp = NULL;
        f->base.state = HX_UP_ABORTED;
    }
}

static void file_release(struct hx_upload *u) {
    struct file_upload *f = (struct file_upload *)u;
    if (f->fd >= 0) close(f->fd);
    hx_free(f->tmp);
}

static uint64_t file_unsent(const struct hx_upload *u) { return 0; }

/* ".<name>.hoist-XXXXXX" as hx_store_temp_for makes them. */
static int is_temp_name(const char *name) {
    size_t n = strlen(name);
    return name[0] == '.' && n > 13 && memcmp(name + n - 13, ".hoist-", 7) == 0;
}

static hx_status walk(const char *dir, struct hoist_list *out, size_t *cap, int depth) {
    HX_FAIL_IF(depth > 64, HOIST_ERR_LIMIT, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT || errno == ENOTDIR ? HOIST_OK : hx_error(HOIST_ERR_IO, "%s: %s", dir, strerror(errno));
    hx_status s = HOIST_OK;
    struct dirent *e;
    while (s == HOIST_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *p = hx_asprintf("%s/%s", dir, e->d_name);
        if (p == NULL) {
            s = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            s = walk(p, out, cap, depth + 1);
        else if (is_temp_name(e->d_name))
            s = hx_store_list_push(out, cap, p, dir, (uint64_t)sb.st_size, 0, NULL, 0);
        hx_free(p);
    }
    closedir(d);
    return s;
}

static hx_status file_list_pending(struct hoist_store *st, const char *prefix_url, const struct hx_url *pu,
                                   struct hoist_list *out) {
    size_t cap = 0;
    char *dir = hx_strdup(pu->path);
    HX_FAIL_IF(dir == NULL, HOIST_ERR_NOMEM, "out of memory");
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') dir[--n] = '\0';
    hx_status s = walk(dir, out, &cap, 0);
    hx_free(dir);
    return s;
}

static hx_status file_abort_pending(struct hoist_store *st, const struct hoist_list_entry *e) {
    struct hx_url u;
    HX_TRY(hx_store_parse_url(e->url, &u));
    int r = unlink(u.path);
    hx_status s = r != 0 && errno != ENOENT ? hx_error(HOIST_ERR_IO, "%s: %s", u.path, strerror(errno)) : HOIST_OK;
    hx_url_reset(&u);
    return s;
}

/* The temp file stays where it is; its URL is what a committer renames. */
static hx_status file_park(struct hx_upload *u, struct hx_parked_upload *out) {
    struct file_upload *f = (struct file_upload *)u;
    HX_FAIL_IF(f->tmp == NULL, HOIST_ERR_INTERNAL, "%s: parked without a temp file", u->url);
    out->upload_id = hx_asprintf("file://%s", f->tmp);
    HX_FAIL_IF(out->upload_id == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

const struct hx_upload_ops hx_upload_file_ops = {
    .upload_size = sizeof(struct file_upload),
    .start = file_start,
    .stop = file_stop,
    .open = file_open,
    .write = file_write,
    .finish = file_finish,
    .commit = file_commit,
    .abort = file_abort,
    .release = file_release,
    .unsent = file_unsent,
    .list_pending = file_list_pending,
    .abort_pending = file_abort_pending,
    .park = file_park,
};
