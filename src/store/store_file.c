/* The file:// backend: local paths behind the same API as s3://.
 * Writes go to a temp name in the target directory and are renamed (or,
 * for no-overwrite, hard-linked, which fails atomically when the name
 * exists): store_util.c. Listings do not follow symlinks unless the client
 * says so, and then never into a directory already being walked. Content type and metadata live in user xattrs where
 * the file system has them. */
#include "store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XATTR_CTYPE "user.hoist.content_type"
#define XATTR_META "user.hoist.metadata"

static char *read_xattr(int fd, const char *name) {
    char buf[4096];
    ssize_t n = fgetxattr(fd, name, buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    return hx_strndup(buf, (size_t)n);
}

static void set_item_error(hx_status st, enum hoist_status *status, char **error) {
    *status = st;
    *error = hx_store_errdup();
}

static hx_status stat_info(int fd, const char *url, struct hoist_object_info *info) {
    struct stat sb;
    HX_FAIL_IF(fstat(fd, &sb) != 0, HOIST_ERR_IO, "%s: stat failed: %s", url, strerror(errno));
    HX_FAIL_IF(!S_ISREG(sb.st_mode), HOIST_ERR_NOT_FOUND, "%s: not a regular file", url);
    hoist_store_object_info_reset(info);
    info->url = hx_strdup(url);
    info->size = (uint64_t)sb.st_size;
    info->last_modified = (int64_t)sb.st_mtime;
    info->content_type = read_xattr(fd, XATTR_CTYPE);
    info->metadata_json = read_xattr(fd, XATTR_META);
    HX_FAIL_IF(info->url == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

static hx_status open_read(const char *path, const char *url, int *fd) {
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        HX_FAIL(errno == ENOENT || errno == ENOTDIR ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: cannot open: %s", url,
                strerror(errno));
    return HOIST_OK;
}

static hx_status pread_all(int fd, void *dst, uint64_t len, uint64_t off, const char *url) {
    uint64_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)dst + done, (size_t)(len - done), (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        HX_FAIL_IF(r < 0, HOIST_ERR_IO, "%s: read failed: %s", url, strerror(errno));
        HX_FAIL_IF(r == 0, HOIST_ERR_IO, "%s: file shrank while reading", url);
        done += (uint64_t)r;
    }
    return HOIST_OK;
}

static hx_status write_all(int fd, const void *src, uint64_t len, const char *path) {
    uint64_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)src + done, (size_t)(len - done));
        if (w < 0 && errno == EINTR) continue;
        HX_FAIL_IF(w <= 0, HOIST_ERR_IO, "%s: write failed: %s", path, strerror(w < 0 ? errno : ENOSPC));
        done += (uint64_t)w;
    }
    return HOIST_OK;
}

/* A file:// call's progress: reported after each item and each chunk of a
 * copy, so the caller's callback can cancel between them (Ctrl-C). */
struct fcall {
    hoist_progress_fn fn;
    void *userdata;
    struct hoist_progress p;
    double last;
    int cancelled;
};

/* At most every 50 ms, as on s3:// (store_s3_call.c). */
static hx_status fcall_tick(struct fcall *c) {
    if (c == NULL || c->fn == NULL) return HOIST_OK;
    if (c->cancelled) return hx_error(HOIST_ERR_CANCELLED, "cancelled by the progress callback");
    double now = hx_now();
    if (now - c->last < 0.05) return HOIST_OK;
    c->last = now;
    c->p.struct_size = sizeof c->p;
    if (c->fn(&c->p, c->userdata) != 0) c->cancelled = 1;
    return c->cancelled ? hx_error(HOIST_ERR_CANCELLED, "cancelled by the progress callback") : HOIST_OK;
}

/* One copy_file_range call at most this much, so a cancel is seen within it. */
#define COPY_CHUNK ((uint64_t)64 << 20)

static hx_status copy_range(int in, int out, uint64_t off, uint64_t len, const char *url, struct fcall *c) {
    loff_t ioff = (loff_t)off;
    uint64_t done = 0;
    while (done < len) {
        HX_TRY(fcall_tick(c));
        uint64_t want = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
        ssize_t r = copy_file_range(in, &ioff, out, NULL, (size_t)want, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
            char buf[1 << 16];
            while (done < len) {
                HX_TRY(fcall_tick(c));
                size_t want = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
                HX_TRY(pread_all(in, buf, want, off + done, url));
                HX_TRY(write_all(out, buf, want, url));
                done += want;
            }
            return HOIST_OK;
        }
        HX_FAIL_IF(r <= 0, HOIST_ERR_IO, "%s: copy failed: %s", url, r < 0 ? strerror(errno) : "file shrank");
        done += (uint64_t)r;
    }
    return HOIST_OK;
}

static hx_status file_get(struct hoist_get_item *it, const struct hx_url *u, struct fcall *c) {
    int fd;
    HX_TRY(open_read(u->path, it->url, &fd));
    hx_status s = stat_info(fd, it->url, &it->info);
    uint64_t total = it->info.size, start = 0, end = total;
    if (s == HOIST_OK) {
        if (it->suffix) {
            uint64_t n = (uint64_t)it->length < total ? (uint64_t)it->length : total;
            start = total - n;
        } else {
            start = (uint64_t)it->offset;
            if (start > total || (start == total && total > 0 && it->offset > 0))
                s = hx_error(HOIST_ERR_S3_INVALID_RANGE, "%s: offset %llu is past the end (%llu bytes)", it->url,
                             (unsigned long long)start, (unsigned long long)total);
            else if (it->length >= 0 && start + (uint64_t)it->length < total)
                end = start + (uint64_t)it->length;
        }
    }
    uint64_t len = end - start;
    if (s == HOIST_OK) {
        switch (it->dest) {
        case HOIST_DEST_ALLOC: {
            uint8_t *m = hx_malloc(len ? len : 1);
            s = m ? pread_all(fd, m, len, start, it->url) : hx_error(HOIST_ERR_NOMEM, "%s: out of memory", it->url);
            if (s == HOIST_OK)
                it->data = m;
            else
                hx_free(m);
            break;
        }
        case HOIST_DEST_BUFFER:
            if (len > it->buffer_size)
                s = hx_error(HOIST_ERR_LIMIT, "%s: %llu bytes do not fit the %zu-byte buffer", it->url,
                             (unsigned long long)len, it->buffer_size);
            else
                s = pread_all(fd, it->buffer, len, start, it->url);
            if (s == HOIST_OK) it->data = it->buffer;
            break;
        case HOIST_DEST_FILE: {
            int out;
            char *tmp;
            s = hx_store_temp_for(it->path, &out, &tmp);
            if (s != HOIST_OK) break;
            s = copy_range(fd, out, start, len, it->url, c);
            if (s == HOIST_OK)
                s = hx_store_commit_temp(out, tmp, it->path);
            else
                unlink(tmp);
            close(out);
            hx_free(tmp);
            break;
        }
        }
    }
    close(fd);
    if (s == HOIST_OK) {
        it->size = len;
        it->range_start = start;
    }
    return s;
}

static void get_one(struct hoist_get_item *it, const struct hx_url *u, struct fcall *c) {
    hx_status s = file_get(it, u, c);
    if (s != HOIST_OK) {
        if (s != HOIST_ERR_NOT_FOUND) hoist_store_object_info_reset(&it->info);
        set_item_error(s, &it->status, &it->error);
    }
}

static hx_status file_put(struct hoist_put_item *it, const struct hx_url *u, unsigned flags, struct fcall *c) {
    (void)flags; /* HOIST_NO_OVERWRITE is the commit's (the write context): link(), atomic */
    int out;
    char *tmp;
    HX_TRY(hx_store_temp_for(u->path, &out, &tmp));
    hx_status s = HOIST_OK;
    if (it->data || it->path == NULL) {
        s = write_all(out, it->data, it->size, u->path);
    } else {
        int in;
        s = open_read(it->path, it->path, &in);
        if (s == HOIST_OK) {
            struct stat sb;
            if (fstat(in, &sb) != 0)
                s = hx_error(HOIST_ERR_IO, "%s: stat failed: %s", it->path, strerror(errno));
            else
                s = copy_range(in, out, 0, (uint64_t)sb.st_size, it->path, c);
            close(in);
        }
    }
    if (s == HOIST_OK && it->content_type)
        (void)fsetxattr(out, XATTR_CTYPE, it->content_type, strlen(it->content_type), 0);
    if (s == HOIST_OK && it->metadata_json)
        (void)fsetxattr(out, XATTR_META, it->metadata_json, strlen(it->metadata_json), 0);
    if (s == HOIST_OK)
        s = hx_store_commit_temp(out, tmp, u->path);
    else
        unlink(tmp);
    close(out);
    hx_free(tmp);
    return s;
}

static void put_one(struct hoist_put_item *it, const struct hx_url *u, unsigned flags, struct fcall *c) {
    hx_status s = file_put(it, u, flags, c);
    if (s != HOIST_OK) set_item_error(s, &it->status, &it->error);
}

static void info_one(struct hoist_info_item *it, const struct hx_url *u) {
    int fd;
    hx_status s = open_read(u->path, it->url, &fd);
    if (s == HOIST_OK) {
        s = stat_info(fd, it->url, &it->info);
        close(fd);
    }
    if (s != HOIST_OK) set_item_error(s, &it->status, &it->error);
}

/* A directory being walked, and the ones above it: following symlinks, a
 * link to any of them would walk forever (`loop -> .`). */
struct walk_dir_id {
    dev_t dev;
    ino_t ino;
    const struct walk_dir_id *up;
};

struct walk {
    struct hoist_list *out;
    size_t cap;
    const char *prefix_url;
    const char *url_base; /* "file://" or "" */
    int recursive;
    int follow; /* HOIST_STORE_FOLLOW_SYMLINKS */
};

static int walking(const struct walk_dir_id *id, const struct stat *sb) {
    for (; id; id = id->up)
        if (id->dev == sb->st_dev && id->ino == sb->st_ino) return 1;
    return 0;
}

/* Lists the directory open as dfd (taken over: closed here), named dir. */
static hx_status walk_dir(struct walk *w, int dfd, const char *dir, const struct walk_dir_id *up) {
    struct stat self;
    if (fstat(dfd, &self) != 0) {
        close(dfd);
        HX_FAIL(HOIST_ERR_IO, "%s: cannot stat: %s", dir, strerror(errno));
    }
    struct walk_dir_id id = {self.st_dev, self.st_ino, up};
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        HX_FAIL(HOIST_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    }
    hx_status s = HOIST_OK;
    struct dirent *e;
    while (s == HOIST_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (strstr(e->d_name, ".hoist-") != NULL && e->d_name[0] == '.') continue; /* our temp files */
        struct stat sb;
        /* lstat first: a symlink is skipped unless following was asked for
         * (a link to /etc in a tree would otherwise upload /etc). */
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) continue; /* gone meanwhile */
        if (S_ISLNK(sb.st_mode) && (!w->follow || fstatat(dirfd(d), e->d_name, &sb, 0) != 0)) continue;
        char *p = hx_asprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        if (p == NULL) {
            s = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (walking(&id, &sb)) {
                HX_WARN("%s: a symlink back to a directory being listed: skipped", p);
            } else if (w->recursive) {
                int sub =
                    openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (w->follow ? 0 : O_NOFOLLOW));
                if (sub >= 0) s = walk_dir(w, sub, p, &id);
            } else {
                char *u = hx_asprintf("%s%s/", w->url_base, p);
                s = u ? hx_store_list_push(w->out, &w->cap, u, w->prefix_url, 0, 0, NULL, 1)
                      : hx_error(HOIST_ERR_NOMEM, "out of memory");
                hx_free(u);
            }
        } else if (S_ISREG(sb.st_mode)) {
            char *u = hx_asprintf("%s%s", w->url_base, p);
            s = u ? hx_store_list_push(w->out, &w->cap, u, w->prefix_url, (uint64_t)sb.st_size, (int64_t)sb.st_mtime,
                                       NULL, 0)
                  : hx_error(HOIST_ERR_NOMEM, "out of memory");
            hx_free(u);
        }
        hx_free(p);
    }
    closedir(d);
    return s;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct hoist_list_entry *)a)->url, ((const struct hoist_list_entry *)b)->url);
}

static hx_status list_one(const char *prefix_url, const struct hx_url *u, int recursive, int follow,
                          struct hoist_list *out) {
    struct walk w = {.out = out,
                     .prefix_url = prefix_url,
                     .url_base = strncmp(prefix_url, "file://", 7) == 0 ? "file://" : "",
                     .recursive = recursive,
                     .follow = follow};
    const char *dir = u->path[0] ? u->path : ".";
    /* The directory named is the caller's choice: followed if a symlink. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return HOIST_OK; /* an empty prefix, as on S3 */
        HX_FAIL(HOIST_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    }
    hx_status s = walk_dir(&w, dfd, dir, NULL);
    if (s != HOIST_OK) {
        hoist_store_list_reset(out);
        return s;
    }
    if (out->count) qsort(out->entries, out->count, sizeof *out->entries, cmp_entry);
    return HOIST_OK;
}

static hx_status delete_one(const struct hx_url *u, const char *url) {
    if (unlink(u->path) != 0 && errno != ENOENT) HX_FAIL(HOIST_ERR_IO, "%s: cannot delete: %s", url, strerror(errno));
    return HOIST_OK;
}

/* ---- the backend table entry: batches handled one item at a time ---------- */

/* Items left when the call was cancelled fail as cancelled, as on s3://. */
static hx_status cancel_rest(enum hoist_status *status, char **error, size_t stride, size_t from, size_t n,
                             const struct hx_url *urls) {
    for (size_t i = from; i < n; i++) {
        if (urls[i].kind != HX_URL_FILE) continue;
        enum hoist_status *st = (enum hoist_status *)((char *)status + i * stride);
        char **err = (char **)((char *)error + i * stride);
        if (*st != HOIST_OK || *err != NULL) continue;
        *st = HOIST_ERR_CANCELLED;
        *err = hx_strdup("cancelled by the progress callback");
    }
    return hx_error(HOIST_ERR_CANCELLED, "cancelled by the progress callback");
}

static hx_status file_get_many(struct hoist_store *st, struct hoist_get_item *items, size_t n, struct hx_url *urls,
                               unsigned flags, hoist_progress_fn progress, void *userdata) {
    (void)st, (void)flags;
    struct fcall c = {.fn = progress, .userdata = userdata};
    for (size_t i = 0; i < n; i++) c.p.objects_total += urls[i].kind == HX_URL_FILE;
    for (size_t i = 0; i < n; i++) {
        if (urls[i].kind != HX_URL_FILE) continue;
        if (fcall_tick(&c) != HOIST_OK) return cancel_rest(&items->status, &items->error, sizeof *items, i, n, urls);
        get_one(&items[i], &urls[i], &c);
        if (items[i].status == HOIST_ERR_CANCELLED)
            return cancel_rest(&items->status, &items->error, sizeof *items, i, n, urls);
        c.p.objects_done++;
        c.p.bytes_done += items[i].size;
    }
    return HOIST_OK;
}

static hx_status file_put_many(struct hoist_store *st, struct hoist_put_item *items, size_t n, struct hx_url *urls,
                               unsigned flags, hoist_progress_fn progress, void *userdata) {
    (void)st;
    struct fcall c = {.fn = progress, .userdata = userdata};
    for (size_t i = 0; i < n; i++) c.p.objects_total += urls[i].kind == HX_URL_FILE;
    for (size_t i = 0; i < n; i++) {
        if (urls[i].kind != HX_URL_FILE) continue;
        if (fcall_tick(&c) != HOIST_OK) return cancel_rest(&items->status, &items->error, sizeof *items, i, n, urls);
        put_one(&items[i], &urls[i], flags, &c);
        if (items[i].status == HOIST_ERR_CANCELLED)
            return cancel_rest(&items->status, &items->error, sizeof *items, i, n, urls);
        c.p.objects_done++;
    }
    return HOIST_OK;
}

static hx_status file_info_many(struct hoist_store *st, struct hoist_info_item *items, size_t n, struct hx_url *urls) {
    (void)st;
    for (size_t i = 0; i < n; i++)
        if (urls[i].kind == HX_URL_FILE) info_one(&items[i], &urls[i]);
    return HOIST_OK;
}

static hx_status file_list_many(struct hoist_store *st, const char *const *prefixes, size_t n, struct hx_url *urls,
                                int recursive, struct hoist_list *per) {
    for (size_t i = 0; i < n; i++)
        if (urls[i].kind == HX_URL_FILE)
            HX_TRY(list_one(prefixes[i], &urls[i], recursive, st->follow_symlinks, &per[i]));
    return HOIST_OK;
}

static hx_status file_delete_many(struct hoist_store *st, const char *const *urls_in, size_t n, struct hx_url *urls) {
    (void)st;
    for (size_t i = 0; i < n; i++)
        if (urls[i].kind == HX_URL_FILE) HX_TRY(delete_one(&urls[i], urls_in[i]));
    return HOIST_OK;
}

const struct hx_store_backend hx_store_file_backend = {
    .kind = HX_URL_FILE,
    .get_many = file_get_many,
    .put_many = file_put_many,
    .info_many = file_info_many,
    .list = file_list_many,
    .delete_many = file_delete_many,
    .bucket = NULL, /* a directory is not a bucket */
};
