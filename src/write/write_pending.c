/* The deferred commit of a dataset written by many tasks (hoist.h,
 * hoist_write_commit_pending): a task parks its files and describes them
 * (hx_job_defer), a driver completes every task's uploads and writes one
 * _SUCCESS, or aborts them all and sweeps the uploads of tasks that never
 * reported. Nothing a task does can publish a file, which is what makes the
 * abort race-free: a task that finishes after the abort leaves an upload the
 * store refuses to complete (aborted) or one the sweep found.
 *
 * The descriptions travel through the engine (task results, pickles) and are
 * data from another process: paths are checked to stay under the root, and a
 * file:// temp file must sit beside its destination (store_upload_parked.c).
 * JSON with jansson, as write_manifest.c (results copied into hx_ memory). */
#include "write_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

hx_status hx_write_check_id(const char *id) {
    size_t n = strlen(id);
    int ok = n > 0 && n < 48;
    for (size_t i = 0; ok && i < n; i++) {
        char c = id[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
             c == '-';
    }
    HX_FAIL_IF(!ok, HOIST_ERR_INVALID_ARG, "write id '%s': 1..47 characters of A-Z a-z 0-9 . _ -", id);
    return HOIST_OK;
}

static hx_status dump(json_t *v, char **out) {
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    HX_FAIL_IF(text == NULL, HOIST_ERR_NOMEM, "out of memory");
    *out = hx_strdup(text);
    free(text);
    HX_FAIL_IF(*out == NULL, HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

/* ---- the task: park and describe ------------------------------------------ */

static json_t *upload_entry(const struct hx_parked_upload *p) {
    json_t *u = json_object();
    json_object_set_new(u, "id", json_string(p->upload_id));
    json_object_set_new(u, "checksum", json_integer(p->checksum));
    json_t *parts = json_array();
    for (size_t i = 0; i < p->nparts; i++) {
        const struct hx_store_part *q = &p->parts[i];
        char crc[24];
        snprintf(crc, sizeof crc, "%llu", (unsigned long long)q->crc); /* 64 bits: beyond json_int_t */
        json_array_append_new(parts, json_pack("[isssI]", q->number, q->etag, q->checksum, crc, (json_int_t)q->size));
    }
    json_object_set_new(u, "parts", parts);
    return u;
}

hx_status hx_job_defer(struct hx_job *j, char **pending_json) {
    HX_FAIL_IF(pending_json == NULL, HOIST_ERR_INVALID_ARG,
               "%s: commit=defer returns the pending description: manifest_json must not be NULL", j->root);
    char *base = NULL;
    struct hx_manifest_in in = {
        .write_id = j->write_id, .cfg = j->cfg, .schema = &j->schema, .files = j->files, .nfiles = j->nfiles};
    HX_TRY(hx_write_manifest(&in, &base));
    json_t *m = json_loads(base, 0, NULL);
    hx_free(base);
    HX_FAIL_IF(m == NULL, HOIST_ERR_NOMEM, "out of memory");
    json_object_set_new(m, "format", json_string("hoist-pending"));
    json_object_set_new(m, "root", json_string(j->root));
    json_t *files = json_object_get(m, "files");
    hx_status s = HOIST_OK;
    for (size_t i = 0; s == HOIST_OK && i < j->nfiles; i++) {
        struct hx_parked_upload p;
        s = hx_upload_park(j->files[i]->up, &p);
        if (s != HOIST_OK) break;
        json_object_set_new(json_array_get(files, i), "upload", upload_entry(&p));
        hx_parked_upload_reset(&p);
    }
    /* On failure the job's rollback aborts every upload, parked or not. */
    if (s == HOIST_OK) s = dump(m, pending_json);
    json_decref(m);
    if (s == HOIST_OK) j->published = 1; /* nothing of ours to take back now: the driver owns the uploads */
    return s;
}

/* ---- the driver: read the descriptions ------------------------------------ */

struct pending_file {
    json_t *entry; /* borrowed from its document */
    char *rel;     /* borrowed: the path under the root */
    struct hx_parked_upload up;
    int done;
};

struct pending_set {
    char *root; /* without the trailing '/' */
    json_t **docs;
    size_t ndocs;
    const char *write_id; /* borrowed from docs[0] */
    struct pending_file *files;
    size_t nfiles;
};

static void set_reset(struct pending_set *ps) {
    for (size_t i = 0; i < ps->nfiles; i++) hx_parked_upload_reset(&ps->files[i].up);
    hx_free(ps->files);
    for (size_t i = 0; i < ps->ndocs; i++) json_decref(ps->docs[i]);
    hx_free(ps->docs);
    hx_free(ps->root);
    memset(ps, 0, sizeof *ps);
}

/* Does a file name carry the write id as a whole word? ("part-{id}-3.parquet";
 * "job1" is not in "part-job10-3.parquet"): the characters around it are not
 * letters or digits. */
static int carries_id(const char *name, const char *id) {
    size_t n = strlen(id);
    for (const char *p = strstr(name, id); p; p = strstr(p + 1, id)) {
        int before = p == name || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[n]);
        if (before && after) return 1;
    }
    return 0;
}

/* A relative path that stays under the root: no empty, '.', '..' or hidden
 * component, no leading '/'. */
static int safe_path(const char *p) {
    if (p[0] == '\0' || p[0] == '/') return 0;
    for (const char *c = p; *c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || c[0] == '.') return 0;
        c += n + (e ? 1 : 0);
        if (e && *c == '\0') return 0;
    }
    return 1;
}

static hx_status parse_upload(struct pending_set *ps, struct pending_file *f, json_t *u) {
    const char *id = json_string_value(json_object_get(u, "id"));
    json_t *parts = json_object_get(u, "parts");
    HX_FAIL_IF(id == NULL || !json_is_array(parts), HOIST_ERR_INVALID_ARG, "%s/%s: pending upload without id or parts",
               ps->root, f->rel);
    f->up.url = hx_asprintf("%s/%s", ps->root, f->rel);
    f->up.upload_id = hx_strdup(id);
    f->up.checksum = (int)json_integer_value(json_object_get(u, "checksum"));
    size_t n = json_array_size(parts);
    f->up.parts = n ? hx_calloc(n, sizeof *f->up.parts) : NULL;
    HX_FAIL_IF(!f->up.url || !f->up.upload_id || (n && !f->up.parts), HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *q = json_array_get(parts, i);
        const char *etag = json_string_value(json_array_get(q, 1));
        const char *ck = json_string_value(json_array_get(q, 2));
        const char *crc = json_string_value(json_array_get(q, 3));
        HX_FAIL_IF(json_array_size(q) != 5 || !etag || !ck || !crc || strlen(etag) >= sizeof f->up.parts[i].etag ||
                       strlen(ck) >= sizeof f->up.parts[i].checksum,
                   HOIST_ERR_INVALID_ARG, "%s: pending part %zu is malformed", f->up.url, i);
        struct hx_store_part *p = &f->up.parts[i];
        p->number = (int)json_integer_value(json_array_get(q, 0));
        snprintf(p->etag, sizeof p->etag, "%s", etag);
        snprintf(p->checksum, sizeof p->checksum, "%s", ck);
        p->crc = strtoull(crc, NULL, 10);
        p->size = (uint64_t)json_integer_value(json_array_get(q, 4));
    }
    f->up.nparts = n;
    return HOIST_OK;
}

static hx_status parse_doc(struct pending_set *ps, const char *text, size_t k) {
    json_error_t e;
    json_t *d = json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &e);
    HX_FAIL_IF(d == NULL, HOIST_ERR_INVALID_ARG, "%s: pending description %zu is not JSON: %s", ps->root, k, e.text);
    ps->docs[ps->ndocs++] = d;
    const char *format = json_string_value(json_object_get(d, "format"));
    const char *root = json_string_value(json_object_get(d, "root"));
    const char *id = json_string_value(json_object_get(d, "write_id"));
    json_t *files = json_object_get(d, "files");
    HX_FAIL_IF(!format || strcmp(format, "hoist-pending") != 0 || !root || !id || !json_is_array(files),
               HOIST_ERR_INVALID_ARG, "%s: description %zu is not a hoist pending write", ps->root, k);
    HX_FAIL_IF(strcmp(root, ps->root) != 0, HOIST_ERR_INVALID_ARG, "%s: description %zu was written under %s", ps->root,
               k, root);
    /* The id picks what a sweep aborts: only one a writer could have used. */
    HX_TRY(hx_write_check_id(id));
    if (ps->write_id == NULL) ps->write_id = id;
    HX_FAIL_IF(strcmp(id, ps->write_id) != 0, HOIST_ERR_INVALID_ARG,
               "%s: descriptions of two writes (%s and %s): one commit publishes one write id", ps->root, ps->write_id,
               id);
    size_t nf = json_array_size(files);
    struct pending_file *more = hx_realloc(ps->files, (ps->nfiles + nf + 1) * sizeof *more);
    HX_FAIL_IF(more == NULL, HOIST_ERR_NOMEM, "out of memory");
    ps->files = more;
    for (size_t i = 0; i < nf; i++) {
        struct pending_file *f = &ps->files[ps->nfiles];
        memset(f, 0, sizeof *f);
        f->entry = json_array_get(files, i);
        f->rel = (char *)json_string_value(json_object_get(f->entry, "path"));
        ps->nfiles++;
        HX_FAIL_IF(f->rel == NULL || !safe_path(f->rel) || !carries_id(f->rel, ps->write_id), HOIST_ERR_UNSAFE_KEY,
                   "%s: pending file '%s' is not a file of write %s under the root", ps->root, f->rel ? f->rel : "",
                   ps->write_id);
        HX_TRY(parse_upload(ps, f, json_object_get(f->entry, "upload")));
    }
    return HOIST_OK;
}

static hx_status parse_set(struct pending_set *ps, const char *url, const char *const *texts, size_t n) {
    memset(ps, 0, sizeof *ps);
    ps->root = hx_strdup(url);
    ps->docs = hx_calloc(n + 1, sizeof *ps->docs);
    HX_FAIL_IF(ps->root == NULL || ps->docs == NULL, HOIST_ERR_NOMEM, "out of memory");
    size_t len = strlen(ps->root);
    while (len > 0 && ps->root[len - 1] == '/') ps->root[--len] = '\0';
    HX_FAIL_IF(len == 0, HOIST_ERR_BAD_URL, "'%s': no destination", url);
    for (size_t k = 0; k < n; k++) HX_TRY(parse_doc(ps, texts[k], k));
    return HOIST_OK;
}

/* ---- the driver: sweep and abort --------------------------------------------- */

/* Aborts every pending upload under the root whose name carries write_id
 * (the key names carry it: "part-{id}-..."); returns the first failure. */
static hx_status sweep(struct hoist_store *st, const char *root, const char *write_id) {
    char *prefix = hx_asprintf("%s/", root);
    HX_FAIL_IF(prefix == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hoist_list l = {0};
    hx_status s = hx_upload_list_pending(st, prefix, &l);
    /* A root that does not exist yet (file://) holds nothing to sweep. */
    if (s == HOIST_ERR_NOT_FOUND) s = HOIST_OK;
    for (size_t i = 0; s == HOIST_OK && i < l.count; i++) {
        const char *leaf = strrchr(l.entries[i].url, '/');
        if (!carries_id(leaf ? leaf + 1 : l.entries[i].url, write_id)) continue;
        struct hoist_list one = {&l.entries[i], 1}; /* a view: l keeps ownership */
        hx_status a = hx_upload_abort_pending(st, &one);
        if (a == HOIST_OK)
            hx_upload_prune_dirs(l.entries[i].url, root);
        else
            s = a;
    }
    hoist_store_list_reset(&l);
    hx_free(prefix);
    return s;
}

/* Best effort over everything; the first failure is returned. */
static hx_status abort_set(struct hoist_store *st, struct pending_set *ps, const char *write_id) {
    hx_status first = HOIST_OK;
    const char **gone = hx_calloc(ps->nfiles + 1, sizeof *gone);
    size_t ngone = 0;
    for (size_t i = 0; i < ps->nfiles; i++) {
        struct pending_file *f = &ps->files[i];
        if (f->up.url == NULL) continue;
        hx_status s = HOIST_OK;
        if (f->done) {
            if (gone)
                gone[ngone++] = f->up.url;
            else
                s = hx_error(HOIST_ERR_NOMEM, "out of memory");
        } else {
            s = hx_parked_upload_abort(st, &f->up);
        }
        if (s == HOIST_OK && !f->done) hx_upload_prune_dirs(f->up.url, ps->root);
        if (s != HOIST_OK && first == HOIST_OK) first = s;
    }
    if (ngone > 0) {
        hx_status s = hx_upload_delete(st, gone, ngone);
        if (s == HOIST_OK)
            for (size_t i = 0; i < ngone; i++) hx_upload_prune_dirs(gone[i], ps->root);
        if (s != HOIST_OK && first == HOIST_OK) first = s;
    }
    hx_free(gone);
    if (write_id) {
        hx_status s = sweep(st, ps->root, write_id);
        if (s != HOIST_OK && first == HOIST_OK) first = s;
    }
    return first;
}

hx_status hoist_write_abort_pending(struct hoist_store *store, const char *url, const char *write_id,
                                    const char *const *pending_json, size_t n) {
    HX_FAIL_IF(store == NULL || url == NULL || (n > 0 && pending_json == NULL), HOIST_ERR_INVALID_ARG,
               "write_abort_pending: NULL store, url or descriptions");
    if (write_id) HX_TRY(hx_write_check_id(write_id));
    struct pending_set ps;
    hx_status parsed = parse_set(&ps, url, pending_json, n);
    char why[1024] = "";
    if (parsed != HOIST_OK) hx_error_copy(why, sizeof why);
    hx_status s = ps.root ? abort_set(store, &ps, write_id ? write_id : ps.write_id) : parsed;
    if (parsed != HOIST_OK) s = hx_error(parsed, "%s", why); /* what was readable is aborted all the same */
    set_reset(&ps);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}

/* ---- the driver: commit ---------------------------------------------------------- */

static int in_dirs(json_t *dirs, const char *rel) {
    const char *slash = strrchr(rel, '/');
    char dir[1024];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - rel) : 0, rel);
    return json_object_get(dirs, dir) != NULL;
}

/* overwrite: an old object is replaced when it lies in a partition written
 * (any, unpartitioned), as write_commit.c decides for one process. */
static int replaced(json_t *dirs, int partitioned, const char *rel) { return !partitioned || in_dirs(dirs, rel); }

static hx_status read_old(struct hoist_store *st, const char *root, json_t **out) {
    *out = NULL;
    char *url = hx_asprintf("%s/_SUCCESS", root);
    HX_FAIL_IF(url == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hoist_get_item g = {.url = url, .length = -1};
    hx_status s = hoist_store_get_many(st, &g, 1, HOIST_RETURN_MISSING, NULL, NULL);
    if (s == HOIST_OK && g.status == HOIST_OK && g.size > 0) {
        json_t *m = json_loadb(g.data, (size_t)g.size, 0, NULL);
        const char *f = json_string_value(json_object_get(m, "format"));
        if (f && strcmp(f, "hoist-manifest") == 0 && json_is_array(json_object_get(m, "files")))
            *out = m;
        else
            json_decref(m); /* a Hadoop zero-byte _SUCCESS or anything else: ignored */
    } else if (s != HOIST_OK) {
        s = hx_error(s, "%s", g.error ? g.error : hoist_errmsg());
    }
    hoist_store_get_item_reset(&g);
    hx_free(url);
    return s;
}

/* The one manifest: the first description's fields, every file, the old
 * files kept. */
static hx_status make_manifest(struct pending_set *ps, const struct hoist_write_config *cfg, json_t *old, json_t *dirs,
                               char **text) {
    json_t *m = json_deep_copy(ps->docs[0]);
    HX_FAIL_IF(m == NULL, HOIST_ERR_NOMEM, "out of memory");
    json_object_set_new(m, "format", json_string("hoist-manifest"));
    json_object_del(m, "root");
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    json_object_set_new(m, "created", json_string(created));
    json_t *files = json_array();
    json_int_t rows = 0, bytes = 0;
    int partitioned = json_array_size(json_object_get(m, "partition_by")) > 0;
    size_t i;
    json_t *e;
    json_array_foreach(old ? json_object_get(old, "files") : NULL, i, e) {
        const char *p = json_string_value(json_object_get(e, "path"));
        if (!p || (cfg->existing == HX_EXISTING_OVERWRITE && replaced(dirs, partitioned, p))) continue;
        json_array_append(files, e);
        rows += json_integer_value(json_object_get(e, "rows"));
        bytes += json_integer_value(json_object_get(e, "bytes"));
    }
    for (i = 0; i < ps->nfiles; i++) {
        json_t *f = json_copy(ps->files[i].entry);
        json_object_del(f, "upload");
        rows += json_integer_value(json_object_get(f, "rows"));
        bytes += json_integer_value(json_object_get(f, "bytes"));
        json_array_append_new(files, f);
    }
    json_object_set_new(m, "files", files);
    json_object_set_new(m, "rows", json_integer(rows));
    json_object_set_new(m, "bytes", json_integer(bytes));
    json_t *opts = json_object_get(m, "options");
    const char *ex = cfg->existing == HX_EXISTING_OVERWRITE ? "overwrite"
                     : cfg->existing == HX_EXISTING_APPEND  ? "append"
                                                            : "error";
    if (json_is_object(opts)) json_object_set_new(opts, "existing", json_string(ex));
    if (cfg->lineage_json) json_object_set_new(m, "lineage", json_loads(cfg->lineage_json, 0, NULL));
    char *t = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(m);
    HX_FAIL_IF(t == NULL, HOIST_ERR_NOMEM, "out of memory writing the manifest");
    *text = hx_strdup(t);
    free(t);
    HX_FAIL_IF(*text == NULL, HOIST_ERR_NOMEM, "out of memory writing the manifest");
    return HOIST_OK;
}

static hx_status put_manifest(struct hoist_store *st, const char *root, const char *text) {
    char *url = hx_asprintf("%s/_SUCCESS", root);
    HX_FAIL_IF(url == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hoist_put_item it = {.url = url, .data = text, .size = strlen(text), .content_type = "application/json"};
    hx_status s = hoist_store_put_many(st, &it, 1, 0, NULL, NULL);
    if (s == HOIST_OK && it.status != HOIST_OK) s = it.status;
    if (s != HOIST_OK) s = hx_error(s, "%s: %s", url, it.error ? it.error : hoist_errmsg());
    hoist_store_put_item_reset(&it);
    hx_free(url);
    return s;
}

/* After publishing (overwrite): the old objects of the replaced partitions
 * go; a failure leaves extra, unlisted objects, which the message says. */
static hx_status delete_replaced(struct hoist_store *st, struct pending_set *ps, json_t *dirs, int partitioned) {
    char *prefix = hx_asprintf("%s/", ps->root);
    HX_FAIL_IF(prefix == NULL, HOIST_ERR_NOMEM, "out of memory");
    struct hoist_list l = {0};
    const char *p[1] = {prefix};
    hx_status s = hoist_store_list(st, p, 1, 1, &l);
    const char **urls = s == HOIST_OK ? hx_calloc(l.count + 1, sizeof *urls) : NULL;
    if (s == HOIST_OK && urls == NULL) s = hx_error(HOIST_ERR_NOMEM, "out of memory");
    size_t n = 0, plen = strlen(prefix);
    for (size_t i = 0; s == HOIST_OK && i < l.count; i++) {
        const char *rel = l.entries[i].url + plen;
        const char *leaf = strrchr(rel, '/');
        leaf = leaf ? leaf + 1 : rel;
        if (l.entries[i].is_prefix || strncmp(l.entries[i].url, prefix, plen) != 0 || leaf[0] == '.' ||
            strcmp(rel, "_SUCCESS") == 0 || carries_id(leaf, ps->write_id) || !replaced(dirs, partitioned, rel))
            continue;
        urls[n++] = l.entries[i].url;
    }
    if (s == HOIST_OK) s = hx_upload_delete(st, urls, n);
    hx_free(urls);
    hoist_store_list_reset(&l);
    hx_free(prefix);
    if (s != HOIST_OK)
        return hx_error_prefix(
            s, "%s: the new files are committed but old objects of the replaced partitions could not all be deleted",
            ps->root);
    return HOIST_OK;
}

/* Every upload completed (S3: all in flight together); f->done marks each. */
static hx_status commit_files(struct hoist_store *st, struct pending_set *ps) {
    struct hx_parked_upload *ups = hx_calloc(ps->nfiles + 1, sizeof *ups);
    int *done = hx_calloc(ps->nfiles + 1, sizeof *done);
    hx_status s = ups && done ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; s == HOIST_OK && i < ps->nfiles; i++) ups[i] = ps->files[i].up; /* views: ps owns them */
    if (s == HOIST_OK) s = hx_parked_upload_commit_many(st, ups, ps->nfiles, done);
    for (size_t i = 0; done && i < ps->nfiles; i++) ps->files[i].done = done[i];
    hx_free(ups);
    hx_free(done);
    return s;
}

static hx_status commit_set(struct hoist_store *st, struct pending_set *ps, const struct hoist_write_config *cfg,
                            char **manifest_json) {
    json_t *old = NULL, *dirs = json_object();
    HX_FAIL_IF(dirs == NULL, HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ps->nfiles; i++) {
        const char *slash = strrchr(ps->files[i].rel, '/');
        char dir[1024];
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - ps->files[i].rel) : 0, ps->files[i].rel);
        json_object_set_new(dirs, dir, json_true());
    }
    int partitioned = json_array_size(json_object_get(ps->docs[0], "partition_by")) > 0;
    char *text = NULL;
    hx_status s = cfg->existing != HX_EXISTING_ERROR ? read_old(st, ps->root, &old) : HOIST_OK;
    /* Made before anything is published: only the uploads can fail after. */
    if (s == HOIST_OK) s = make_manifest(ps, cfg, old, dirs, &text);
    if (s == HOIST_OK) s = commit_files(st, ps);
    if (s == HOIST_OK && cfg->manifest) s = put_manifest(st, ps->root, text);
    if (s != HOIST_OK) {
        /* Nothing published: the completed files go, the others are aborted. */
        char why[1024];
        hx_error_copy(why, sizeof why);
        if (abort_set(st, ps, ps->write_id) != HOIST_OK)
            HX_WARN("%s: could not take back every file of the failed commit: %s", ps->root, hoist_errmsg());
        s = hx_error(s, "%s", why);
    }
    if (s == HOIST_OK && cfg->existing == HX_EXISTING_OVERWRITE) s = delete_replaced(st, ps, dirs, partitioned);
    /* Published: uploads of the write id nobody reported (a lost attempt) go. */
    if (s == HOIST_OK && sweep(st, ps->root, ps->write_id) != HOIST_OK)
        HX_WARN("%s: could not abort every stray upload of write %s: %s", ps->root, ps->write_id, hoist_errmsg());
    json_decref(old);
    json_decref(dirs);
    if (s == HOIST_OK && manifest_json)
        *manifest_json = text;
    else
        hx_free(text);
    return s;
}

hx_status hoist_write_commit_pending(struct hoist_store *store, const char *url, const char *const *pending_json,
                                     size_t n, const struct hoist_write_config *cfg, char **manifest_json) {
    if (manifest_json) *manifest_json = NULL;
    HX_FAIL_IF(store == NULL || url == NULL || pending_json == NULL, HOIST_ERR_INVALID_ARG,
               "write_commit_pending: NULL store, url or descriptions");
    HX_FAIL_IF(n == 0, HOIST_ERR_INVALID_ARG,
               "%s: no pending description to commit (a task that wrote no rows still describes its schema)", url);
    struct hoist_write_config *dflt = NULL;
    if (cfg == NULL) {
        HX_TRY(hoist_write_config_new(&dflt));
        cfg = dflt;
    }
    struct pending_set ps;
    hx_status s = parse_set(&ps, url, pending_json, n);
    if (s == HOIST_OK) s = commit_set(store, &ps, cfg, manifest_json);
    set_reset(&ps);
    hoist_write_config_free(dflt);
    if (s == HOIST_OK) hx_error_clear();
    return s;
}
