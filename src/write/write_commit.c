/* The dataset writer's commit protocol: what may exist before the write
 * (existing = error / overwrite / append), the commit of every finished file
 * and then of the _SUCCESS manifest, the removal of replaced objects, and the
 * rollback of a failed or cancelled write (abort every pending upload,
 * delete every object it already committed). */
#include "write_internal.h"

#include <string.h>

/* The key of url relative to the dataset root ("" when not under it). */
static const char *relative(const struct hx_job *j, const char *url) {
    size_t n = strlen(j->root);
    if (strncmp(url, j->root, n) != 0 || url[n] != '/') return "";
    return url + n + 1;
}

static hx_status check_single(struct hx_job *j) {
    struct hoist_info_item it = {.url = j->root};
    hx_status s = hoist_store_info_many(j->st, &it, 1, HOIST_RETURN_MISSING);
    int exists = s == HOIST_OK && it.status == HOIST_OK;
    int missing = it.status == HOIST_ERR_NOT_FOUND || it.status == HOIST_ERR_S3_NO_SUCH_KEY;
    if (s != HOIST_OK && !missing)
        s = hx_error(s, "%s", it.error ? it.error : hoist_errmsg());
    else
        s = HOIST_OK;
    hoist_store_info_item_reset(&it);
    HX_TRY(s);
    HX_FAIL_IF(exists && j->cfg->existing == HX_EXISTING_ERROR, HOIST_ERR_EXISTS,
               "%s: exists (existing=error; use overwrite)", j->root);
    HX_FAIL_IF(j->cfg->existing == HX_EXISTING_APPEND, HOIST_ERR_INVALID_ARG,
               "%s: cannot append to a single Parquet file; write to a directory", j->root);
    return HOIST_OK;
}

/* Reads the previous _SUCCESS when it is a hoist manifest (a Hadoop
 * zero-byte _SUCCESS, or anything else, is ignored). */
static hx_status read_old_manifest(struct hx_job *j, const char *url) {
    struct hoist_get_item g = {.url = url, .length = -1};
    hx_status s = hoist_store_get_many(j->st, &g, 1, HOIST_RETURN_MISSING, NULL, NULL);
    if (s == HOIST_OK && g.status == HOIST_OK && g.size > 0) {
        /* The reader's parser decides what counts as a hoist manifest. */
        struct ds_manifest *m = NULL;
        if (hx_ds_manifest_parse(g.data, (size_t)g.size, url, &m) == HOIST_OK && m != NULL) {
            j->old_manifest = hx_strndup(g.data, (size_t)g.size);
            if (j->old_manifest == NULL) s = hx_error(HOIST_ERR_NOMEM, "out of memory");
        }
        hx_ds_manifest_free(m);
    } else if (s != HOIST_OK) {
        s = hx_error(s, "%s", g.error ? g.error : hoist_errmsg());
    }
    hoist_store_get_item_reset(&g);
    return s;
}

hx_status hx_job_check_existing(struct hx_job *j) {
    if (j->single) return check_single(j);
    char *prefix = hx_asprintf("%s/", j->root);
    HX_FAIL_IF(prefix == NULL, HOIST_ERR_NOMEM, "out of memory");
    const char *p[1] = {prefix};
    hx_status s = hoist_store_list(j->st, p, 1, 1, &j->existing);
    hx_free(prefix);
    HX_TRY(s);
    if (j->existing.count == 0) return HOIST_OK;
    HX_FAIL_IF(j->cfg->existing == HX_EXISTING_ERROR, HOIST_ERR_EXISTS,
               "%s/: %zu object(s) exist already, e.g. %s (existing=error; use overwrite or append)", j->root,
               j->existing.count, j->existing.entries[0].url);
    for (size_t i = 0; i < j->existing.count; i++)
        if (strcmp(relative(j, j->existing.entries[i].url), "_SUCCESS") == 0)
            return read_old_manifest(j, j->existing.entries[i].url);
    return HOIST_OK;
}

/* overwrite: an old object is replaced when it lies in a partition this
 * write produced (any object, for an unpartitioned dataset). */
static int replaced(const struct hx_job *j, const char *rel) {
    if (j->cfg->npartition_by == 0) return 1;
    const char *slash = strrchr(rel, '/');
    if (slash == NULL) return 0;
    size_t len = (size_t)(slash - rel) + 1; /* the directory with its '/' */
    return hx_wpart_find(&j->parts, rel, len, hx_write_hash(rel, len)) != NULL;
}

static int keep_old(void *ud, const char *path) {
    const struct hx_job *j = ud;
    return j->cfg->existing == HX_EXISTING_APPEND || !replaced(j, path);
}

static int new_file(const struct hx_job *j, const char *rel) {
    for (size_t i = 0; i < j->nfiles; i++)
        if (strcmp(j->files[i]->relpath, rel) == 0) return 1;
    return 0;
}

/* After the new files and manifest are committed: old objects of the
 * replaced partitions go. A failure here leaves the new data committed and
 * some old objects behind, which the message says. */
static hx_status delete_replaced(struct hx_job *j) {
    const char **urls = hx_calloc(j->existing.count + 1, sizeof *urls);
    HX_FAIL_IF(urls == NULL, HOIST_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < j->existing.count; i++) {
        const char *rel = relative(j, j->existing.entries[i].url);
        if (rel[0] == '\0' || strcmp(rel, "_SUCCESS") == 0 || new_file(j, rel) || !replaced(j, rel)) continue;
        urls[n++] = j->existing.entries[i].url;
    }
    hx_status s = hx_upload_delete(j->st, urls, n);
    hx_free(urls);
    if (s != HOIST_OK)
        return hx_error_prefix(s,
                               "%s: the new files are committed but old objects of the replaced partitions "
                               "could not all be deleted",
                               j->root);
    return HOIST_OK;
}

/* The manifest is made before anything is committed (nothing can fail
 * between the data commit and the manifest but the manifest's own upload). */
static hx_status make_manifest(struct hx_job *j, char **text) {
    struct hx_manifest_in in = {.write_id = j->write_id,
                                .cfg = j->cfg,
                                .schema = &j->schema,
                                .files = j->files,
                                .nfiles = j->nfiles,
                                .old_manifest = j->cfg->existing == HX_EXISTING_ERROR ? NULL : j->old_manifest,
                                .keep_old = keep_old,
                                .keep_ud = j};
    return hx_write_manifest(&in, text);
}

static hx_status upload_manifest(struct hx_job *j, const char *text) {
    char *url = hx_asprintf("%s/_SUCCESS", j->root);
    hx_status s = url ? hx_upload_open(j->up, url, &j->manifest_up) : hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_free(url);
    if (s == HOIST_OK) s = hx_upload_write(j->manifest_up, text, strlen(text));
    if (s == HOIST_OK) s = hx_upload_finish(j->manifest_up);
    if (s == HOIST_OK) s = hx_upload_commit(&j->manifest_up, 1);
    return s;
}

hx_status hx_job_commit(struct hx_job *j, char **manifest_json) {
    char *text = NULL;
    HX_TRY(make_manifest(j, &text));
    struct hx_upload **ups = hx_calloc(j->nfiles + 1, sizeof *ups);
    hx_status s = ups ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; s == HOIST_OK && i < j->nfiles; i++) ups[i] = j->files[i]->up;
    if (s == HOIST_OK) s = hx_upload_commit(ups, j->nfiles);
    hx_free(ups);
    if (s == HOIST_OK && !j->single && j->cfg->manifest) s = upload_manifest(j, text);
    if (s != HOIST_OK) {
        hx_free(text);
        return s;
    }
    /* Published: from here on a failure must not take the new data back
     * (nor can a cancel: the last progress report only informs). */
    j->published = 1;
    j->prog.objects_done = j->nfiles;
    j->prog.bytes_uploaded = hx_uploader_uploaded(j->up);
    if (j->cfg->progress) (void)j->cfg->progress(&j->prog, j->cfg->progress_ud);
    if (j->cfg->existing == HX_EXISTING_OVERWRITE && !j->single) s = delete_replaced(j);
    if (s == HOIST_OK && manifest_json)
        *manifest_json = text;
    else
        hx_free(text);
    return s;
}

static int own_key(const struct hx_job *j, const char *url) {
    const char *rel = relative(j, url);
    if (rel[0] == '\0') return j->single && strcmp(url, j->root) == 0;
    return new_file(j, rel) || strcmp(rel, "_SUCCESS") == 0;
}

/* Aborts pending uploads of this write's keys that the uploader never
 * learnt about (an initiate whose answer was lost). The keys carry the
 * write id, so no other writer's upload can match. Best effort. */
void hx_job_sweep_orphans(struct hx_job *j) {
    if (j->up == NULL || !hx_uploader_maybe_orphans(j->up)) return;
    char *prefix = j->single ? hx_strdup(j->root) : hx_asprintf("%s/", j->root);
    struct hoist_list l = {0};
    if (prefix && hx_upload_list_pending(j->st, prefix, &l) == HOIST_OK) {
        for (size_t i = 0; i < l.count; i++) {
            struct hoist_list one = {&l.entries[i], 1}; /* a view: l keeps ownership */
            if (own_key(j, l.entries[i].url) && hx_upload_abort_pending(j->st, &one) != HOIST_OK)
                HX_WARN("%s: could not abort an orphaned upload: %s", l.entries[i].url, hoist_errmsg());
        }
    }
    hoist_store_list_reset(&l);
    hx_free(prefix);
}

void hx_job_rollback(struct hx_job *j) {
    if (j->published) return;
    const char **urls = hx_calloc(j->nfiles + 2, sizeof *urls);
    size_t n = 0;
    for (size_t i = 0; i < j->nfiles; i++) {
        struct hx_upload *u = j->files[i]->up;
        if (u == NULL) continue;
        if (hx_upload_committed(u)) {
            if (urls) urls[n++] = hx_upload_url(u);
        } else {
            hx_upload_abort(&u, 1);
        }
    }
    if (j->manifest_up && hx_upload_committed(j->manifest_up) && urls) urls[n++] = hx_upload_url(j->manifest_up);
    if (j->manifest_up && !hx_upload_committed(j->manifest_up)) hx_upload_abort(&j->manifest_up, 1);
    if (n > 0 && hx_upload_delete(j->st, urls, n) != HOIST_OK)
        HX_WARN("%s: could not delete the objects of the failed write: %s", j->root, hoist_errmsg());
    hx_free(urls);
}
