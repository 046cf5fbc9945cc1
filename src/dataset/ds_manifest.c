/*
 * ds_manifest.c — reading the dataset writer's `_SUCCESS` manifest: parse
 * and validate its JSON (jansson), and match the files it lists against a
 * listing of the dataset directory. No I/O here: ds_open.c lists and fetches,
 * tests/dataset/test_ds_manifest.c drives these directly.
 *
 * A writer commits all-or-nothing and writes `_SUCCESS` last, so a manifest
 * is the truth about which files make the dataset; anything else under the
 * prefix (a crashed write's leftovers, a concurrent writer's parts) is not
 * data. Spark and Hadoop write an empty `_SUCCESS` (and the S3A committer a
 * JSON one of its own): those are markers, not manifests, and are ignored.
 */
#include "dataset_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* What marks a hoist manifest's text even when the JSON is broken: such a
 * file fails the load instead of being ignored (ignoring it would read the
 * stray files the manifest exists to exclude). */
#define MANIFEST_FORMAT "hoist-manifest"
/* S3's own limit on key length: no real path is longer. */
#define MANIFEST_MAX_PATH 1024

/* jansson keeps its own allocator (malloc), like curl, expat and the codecs:
 * its hooks are process-wide, and it does not survive a failed allocation
 * in every path (load.c asserts), so hoist's failure injection must not
 * reach it. Only what this file keeps goes through hx_malloc. */

void hx_ds_manifest_free(struct ds_manifest *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nfiles; i++) hx_free(m->files[i].path);
    hx_free(m->files);
    hx_free(m);
}

static bool contains(const char *s, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0) return true;
    return false;
}

/* A path is joined to the manifest's directory, so it must stay inside it:
 * relative, no "." or ".." segment, no empty segment (which also rules out
 * "s3://..." and "//host"), no control characters. */
static const char *unsafe_path_reason(const char *p, size_t len) {
    if (len == 0) return "empty path";
    if (len > MANIFEST_MAX_PATH) return "path longer than 1024 bytes";
    if (p[0] == '/') return "absolute path";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) return "control character in path";
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && p[j] != '/') j++;
        size_t seg = j - i;
        if (seg == 0) return "empty path segment";
        if ((seg == 1 && p[i] == '.') || (seg == 2 && p[i] == '.' && p[i + 1] == '.')) return "'.' or '..' segment";
        i = j + 1;
    }
    return NULL;
}

static hx_status bad(const char *url, const char *fmt_what, size_t idx) {
    return hx_error(HOIST_ERR_UNSUPPORTED, "%s: not a valid hoist manifest: files[%zu]: %s", url, idx, fmt_what);
}

/* One entry of "files": {"path": "...", "bytes": N, ...}. Other fields are
 * the writer's business (rows, partition) and are not checked. */
static hx_status parse_file(json_t *e, size_t idx, const char *url, struct ds_manifest_file *out) {
    if (!json_is_object(e)) return bad(url, "not an object", idx);
    json_t *path = json_object_get(e, "path");
    if (!json_is_string(path)) return bad(url, "'path' is missing or not a string", idx);
    const char *p = json_string_value(path);
    size_t plen = json_string_length(path);
    const char *why = strlen(p) != plen ? "NUL in path" : unsafe_path_reason(p, plen);
    if (why) return hx_error(HOIST_ERR_UNSAFE_KEY, "%s: files[%zu] path '%.200s' is unsafe (%s)", url, idx, p, why);
    out->bytes = -1;
    json_t *bytes = json_object_get(e, "bytes");
    if (bytes && !json_is_null(bytes)) {
        if (!json_is_integer(bytes) || json_integer_value(bytes) < 0)
            return bad(url, "'bytes' is not a non-negative integer", idx);
        out->bytes = (int64_t)json_integer_value(bytes);
    }
    if (!(out->path = hx_strndup(p, plen))) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    return HOIST_OK;
}

static int cmp_path_index(const void *a, const void *b, void *files) {
    const struct ds_manifest_file *f = files;
    return strcmp(f[*(const size_t *)a].path, f[*(const size_t *)b].path);
}

/* The same file twice would load its rows twice. */
static hx_status check_duplicates(const struct ds_manifest *m, const char *url) {
    if (m->nfiles < 2) return HOIST_OK;
    size_t *ix = hx_malloc(m->nfiles * sizeof *ix);
    if (!ix) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->nfiles; i++) ix[i] = i;
    qsort_r(ix, m->nfiles, sizeof *ix, cmp_path_index, m->files);
    hx_status st = HOIST_OK;
    for (size_t i = 1; i < m->nfiles && st == HOIST_OK; i++)
        if (strcmp(m->files[ix[i - 1]].path, m->files[ix[i]].path) == 0)
            st = hx_error(HOIST_ERR_UNSUPPORTED, "%s: not a valid hoist manifest: '%.200s' is listed twice", url,
                          m->files[ix[i]].path);
    hx_free(ix);
    return st;
}

static hx_status parse_root(json_t *root, const char *url, struct ds_manifest **out) {
    json_t *format = json_object_get(root, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), MANIFEST_FORMAT) != 0) return HOIST_OK;
    json_t *version = json_object_get(root, "version");
    if (!json_is_integer(version))
        return hx_error(HOIST_ERR_UNSUPPORTED, "%s: not a valid hoist manifest: 'version' is not an integer", url);
    if (json_integer_value(version) != 1)
        return hx_error(HOIST_ERR_UNSUPPORTED,
                        "%s: hoist manifest version %lld (this hoist reads version 1; upgrade hoist)", url,
                        (long long)json_integer_value(version));
    json_t *files = json_object_get(root, "files");
    if (!json_is_array(files))
        return hx_error(HOIST_ERR_UNSUPPORTED, "%s: not a valid hoist manifest: 'files' is not a list", url);
    struct ds_manifest *m = hx_calloc(1, sizeof *m);
    size_t n = json_array_size(files);
    if (m) m->files = hx_calloc(n ? n : 1, sizeof *m->files);
    if (!m || !m->files) {
        hx_ds_manifest_free(m);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < n && st == HOIST_OK; i++) {
        st = parse_file(json_array_get(files, i), i, url, &m->files[i]);
        if (st == HOIST_OK) m->nfiles++;
    }
    if (st == HOIST_OK) st = check_duplicates(m, url);
    if (st != HOIST_OK) {
        hx_ds_manifest_free(m);
        return st;
    }
    *out = m;
    return HOIST_OK;
}

hx_status hx_ds_manifest_parse(const void *data, size_t len, const char *url, struct ds_manifest **out) {
    *out = NULL;
    if (len == 0) return HOIST_OK; /* Spark's and Hadoop's marker */
    json_error_t err;
    /* Duplicate keys would make "files" ambiguous; NUL in strings stays
     * rejected (jansson's default). */
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        if (json_error_code(&err) == json_error_out_of_memory)
            return hx_error(HOIST_ERR_NOMEM, "%s: out of memory parsing the manifest", url);
        if (!contains(data, len, "\"" MANIFEST_FORMAT "\"")) return HOIST_OK; /* some other tool's marker */
        return hx_error(HOIST_ERR_UNSUPPORTED, "%s: not a valid hoist manifest: %s (line %d, column %d)", url, err.text,
                        err.line, err.column);
    }
    hx_status st = json_is_object(root) ? parse_root(root, url, out) : HOIST_OK;
    json_decref(root);
    return st;
}

/* ---- matching the listing --------------------------------------------------- */

static int cmp_entry_url(const void *a, const void *b) {
    return strcmp((*(const struct hoist_list_entry *const *)a)->url, (*(const struct hoist_list_entry *const *)b)->url);
}

hx_status hx_ds_manifest_resolve(const struct ds_manifest *m, const char *manifest_url, const char *dir,
                                 const struct hoist_list *list, char ***urls, uint64_t **sizes) {
    *urls = NULL;
    *sizes = NULL;
    size_t nl = 0;
    for (size_t i = 0; i < list->count; i++) nl += !list->entries[i].is_prefix;
    const struct hoist_list_entry **ix = hx_malloc((nl ? nl : 1) * sizeof *ix);
    char **u = hx_calloc(m->nfiles ? m->nfiles : 1, sizeof *u);
    uint64_t *sz = hx_calloc(m->nfiles ? m->nfiles : 1, sizeof *sz);
    hx_status st = (!ix || !u || !sz) ? hx_error(HOIST_ERR_NOMEM, "out of memory") : HOIST_OK;
    size_t k = 0;
    for (size_t i = 0; st == HOIST_OK && i < list->count; i++)
        if (!list->entries[i].is_prefix) ix[k++] = &list->entries[i];
    if (st == HOIST_OK) qsort(ix, nl, sizeof *ix, cmp_entry_url);
    size_t dlen = strlen(dir);
    bool slash = dlen && dir[dlen - 1] == '/';
    for (size_t i = 0; st == HOIST_OK && i < m->nfiles; i++) {
        if (!(u[i] = hx_asprintf("%s%s%s", dir, slash ? "" : "/", m->files[i].path))) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        struct hoist_list_entry key = {.url = u[i]};
        const struct hoist_list_entry *kp = &key;
        const struct hoist_list_entry **hit = bsearch(&kp, ix, nl, sizeof *ix, cmp_entry_url);
        if (!hit) {
            st = hx_error(HOIST_ERR_NOT_FOUND, "%s lists %s, which is missing (%s)", manifest_url, m->files[i].path,
                          u[i]);
            break;
        }
        /* The listing is newer than the manifest's numbers. */
        sz[i] = (*hit)->size ? (*hit)->size : (m->files[i].bytes > 0 ? (uint64_t)m->files[i].bytes : 0);
    }
    hx_free(ix);
    if (st != HOIST_OK) {
        for (size_t i = 0; u && i < m->nfiles; i++) hx_free(u[i]);
        hx_free(u);
        hx_free(sz);
        return st;
    }
    *urls = u;
    *sizes = sz;
    return HOIST_OK;
}
