/* hoist_store_get_prefix: a recursive download (list, map every key to a
 * path under the destination with the one safe join, then one get_many
 * into files), and hoist_store_join_path, that join for callers. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

hx_status hoist_store_join_path(const char *dir, const char *key, char **path) {
    HX_FAIL_IF(path == NULL, HOIST_ERR_INVALID_ARG, "join_path: path is NULL");
    HX_TRY(hx_store_safe_join(dir, key, path));
    hx_error_clear();
    return HOIST_OK;
}

void hoist_store_prefix_files_reset(struct hoist_prefix_files *files) {
    if (files == NULL) return;
    for (size_t i = 0; i < files->count; i++) {
        hx_free(files->files[i].url);
        hx_free(files->files[i].path);
        hx_free(files->files[i].error);
    }
    hx_free(files->files);
    files->files = NULL;
    files->count = 0;
}

/* The listing's prefix as a directory ("s3://b/p" -> "s3://b/p/"), the form
 * every listed URL starts with (hoist_store_list: a prefix is a directory). */
static char *directory_prefix(const char *url) {
    size_t n = strlen(url);
    return hx_asprintf("%s%s", url, n && url[n - 1] == '/' ? "" : "/");
}

/* Plans one file per listed object: its URL and the path it lands at. A key
 * that would land outside dest_dir fails the whole call before anything is
 * downloaded. */
static hx_status plan_files(const struct hoist_list *list, const char *prefix, const char *dest_dir,
                            struct hoist_prefix_files *out) {
    out->files = hx_calloc(list->count ? list->count : 1, sizeof *out->files);
    HX_FAIL_IF(out->files == NULL, HOIST_ERR_NOMEM, "out of memory for %zu files", list->count);
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < list->count; i++) {
        const struct hoist_list_entry *e = &list->entries[i];
        if (e->is_prefix) continue;
        HX_FAIL_IF(strncmp(e->url, prefix, plen) != 0, HOIST_ERR_INTERNAL,
                   "%s: listed under %s but does not start with it", e->url, prefix);
        const char *rel = e->url + plen;
        size_t rlen = strlen(rel);
        /* "dir/" placeholder objects (made by consoles) hold no data. */
        if (rlen && rel[rlen - 1] == '/' && e->size == 0) continue;
        struct hoist_prefix_file *f = &out->files[out->count];
        char *path;
        hx_status s = hx_store_safe_join(dest_dir, rel, &path);
        if (s != HOIST_OK) {
            char why[512]; /* the message buffer is rewritten below */
            hx_error_copy(why, sizeof why);
            return hx_error(s, "%s: %s", e->url, why);
        }
        f->path = path;
        f->url = hx_strdup(e->url);
        out->count++;
        HX_FAIL_IF(f->url == NULL, HOIST_ERR_NOMEM, "out of memory");
    }
    return HOIST_OK;
}

/* Downloads the planned files that are not skipped; per-file outcomes go
 * into out. */
static hx_status fetch_files(struct hoist_store *st, const char *dest_dir, struct hoist_prefix_files *out,
                             unsigned flags, hoist_progress_fn progress, void *userdata) {
    struct hoist_get_item *items = hx_calloc(out->count ? out->count : 1, sizeof *items);
    size_t *which = hx_calloc(out->count ? out->count : 1, sizeof *which);
    if (items == NULL || which == NULL) {
        hx_free(items);
        hx_free(which);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory for %zu files", out->count);
    }
    size_t n = 0;
    for (size_t i = 0; i < out->count; i++) {
        struct hoist_prefix_file *f = &out->files[i];
        struct stat sb;
        if ((flags & HOIST_NO_OVERWRITE) && lstat(f->path, &sb) == 0) {
            f->status = HOIST_ERR_EXISTS;
            f->error = hx_asprintf("%s: exists, not overwritten", f->path);
            continue;
        }
        items[n].url = f->url;
        items[n].length = -1;
        items[n].dest = HOIST_DEST_FILE;
        items[n].path = f->path;
        which[n++] = i;
    }
    hx_status s = HOIST_OK;
    /* Names below dest_dir come from keys: no symlink there is followed
     * (store_util.c), and with no-overwrite the check above is only an early
     * skip; the commit links the file in, atomically. */
    struct hx_store_write_ctx saved, ctx = {.root = dest_dir};
    hx_store_write_ctx_set(&saved, &ctx);
    if (n > 0) s = hoist_store_get_many(st, items, n, flags & HOIST_NO_OVERWRITE, progress, userdata);
    hx_store_write_ctx_restore(&saved);
    for (size_t k = 0; k < n; k++) {
        struct hoist_prefix_file *f = &out->files[which[k]];
        f->status = items[k].status;
        f->size = items[k].size;
        f->error = items[k].error;
        items[k].error = NULL;
        hoist_store_get_item_reset(&items[k]);
    }
    hx_free(items);
    hx_free(which);
    return s;
}

hx_status hoist_store_get_prefix(struct hoist_store *st, const char *prefix_url, const char *dest_dir, unsigned flags,
                                 hoist_progress_fn progress, void *userdata, struct hoist_prefix_files *out) {
    struct hoist_prefix_files mine = {0};
    struct hoist_prefix_files *res = out ? out : &mine;
    if (out) memset(out, 0, sizeof *out);
    HX_FAIL_IF(st == NULL || prefix_url == NULL || dest_dir == NULL, HOIST_ERR_INVALID_ARG,
               "get_prefix: NULL argument");
    HX_FAIL_IF(dest_dir[0] == '\0', HOIST_ERR_INVALID_ARG, "%s: get_prefix needs a destination directory", prefix_url);
    HX_FAIL_IF(flags & ~HOIST_NO_OVERWRITE, HOIST_ERR_INVALID_ARG, "get_prefix: unknown flags 0x%x",
               flags & ~HOIST_NO_OVERWRITE);
    char *prefix = directory_prefix(prefix_url);
    HX_FAIL_IF(prefix == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hoist_list list;
    const char *const prefixes[1] = {prefix};
    hx_status s = hoist_store_list(st, prefixes, 1, 1, &list);
    if (s == HOIST_OK) {
        s = plan_files(&list, prefix, dest_dir, res);
        hoist_store_list_reset(&list);
    }
    if (s == HOIST_OK) {
        s = fetch_files(st, dest_dir, res, flags, progress, userdata);
    } else {
        /* Nothing was downloaded: no per-file outcomes to report. */
        hoist_store_prefix_files_reset(res);
    }
    hx_free(prefix);
    if (res == &mine) hoist_store_prefix_files_reset(&mine);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}
