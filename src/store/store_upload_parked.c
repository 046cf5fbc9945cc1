/* Parked uploads (store_upload.h): a finished upload handed out as data, and
 * the one-shot commit and abort another process runs on that data. The
 * commit of a file:// upload renames only a hidden temp name that sits next
 * to its destination: the description comes from another process and must
 * not be able to move arbitrary files. */
#include "store_upload_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void hx_parked_upload_reset(struct hx_parked_upload *p) {
    if (p == NULL) return;
    hx_free(p->url);
    hx_free(p->upload_id);
    hx_free(p->parts);
    memset(p, 0, sizeof *p);
}

hx_status hx_upload_park(struct hx_upload *u, struct hx_parked_upload *out) {
    memset(out, 0, sizeof *out);
    HX_FAIL_IF(u->state != HX_UP_FINISHED, HOIST_ERR_INTERNAL, "%s: parked before finish", u->url);
    out->url = hx_strdup(u->url);
    hx_status s = out->url ? u->up->ops->park(u, out) : hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (s != HOIST_OK) {
        hx_parked_upload_reset(out);
        return s;
    }
    u->state = HX_UP_PARKED;
    return HOIST_OK;
}

/* The temp file's path when it is ".<leaf>.hoist-XXXXXX" in dest's directory. */
static hx_status temp_path(const struct hx_parked_upload *p, const struct hx_url *dest, struct hx_url *tmp) {
    HX_TRY(hx_store_parse_url(p->upload_id, tmp));
    const char *leaf = strrchr(dest->path, '/');
    const char *tleaf = strrchr(tmp->path, '/');
    size_t dl = leaf ? (size_t)(leaf - dest->path) : 0, tl = tleaf ? (size_t)(tleaf - tmp->path) : 0;
    leaf = leaf ? leaf + 1 : dest->path;
    tleaf = tleaf ? tleaf + 1 : tmp->path;
    size_t n = strlen(leaf);
    int ok = tmp->kind == HX_URL_FILE && dl == tl && memcmp(dest->path, tmp->path, dl) == 0 && tleaf[0] == '.' &&
             strncmp(tleaf + 1, leaf, n) == 0 && strncmp(tleaf + 1 + n, ".hoist-", 7) == 0 &&
             strlen(tleaf + 1 + n + 7) == 6;
    if (!ok) {
        hx_url_reset(tmp);
        HX_FAIL(HOIST_ERR_INVALID_ARG, "%s: '%s' is not this file's pending temp file", p->url, p->upload_id);
    }
    return HOIST_OK;
}

hx_status hx_parked_upload_commit(struct hoist_store *st, const struct hx_parked_upload *p) {
    HX_FAIL_IF(p->url == NULL || p->upload_id == NULL, HOIST_ERR_INVALID_ARG, "parked upload without url or id");
    struct hx_url dest, tmp;
    HX_TRY(hx_store_parse_url(p->url, &dest));
    hx_status s = HOIST_OK;
    if (dest.kind == HX_URL_S3) {
        s = hx_store_multipart_complete(st, p->url, p->upload_id, p->checksum, p->parts, p->nparts, 0);
    } else if ((s = temp_path(p, &dest, &tmp)) == HOIST_OK) {
        if (rename(tmp.path, dest.path) != 0)
            s = hx_error(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO,
                         "%s: cannot move the pending file into place: %s", dest.path, strerror(errno));
        hx_url_reset(&tmp);
    }
    hx_url_reset(&dest);
    return s;
}

hx_status hx_parked_upload_commit_many(struct hoist_store *st, const struct hx_parked_upload *p, size_t n,
                                       int *committed) {
    for (size_t i = 0; i < n; i++) committed[i] = 0;
    struct hx_store_completion *s3 = hx_calloc(n ? n : 1, sizeof *s3);
    size_t *which = hx_calloc(n ? n : 1, sizeof *which);
    hx_status first = s3 && which ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    size_t ns3 = 0;
    char why[1024] = "";
    for (size_t i = 0; first == HOIST_OK && i < n; i++) {
        if (p[i].url && strncmp(p[i].url, "s3://", 5) == 0) {
            s3[ns3] = (struct hx_store_completion){.url = p[i].url,
                                                   .upload_id = p[i].upload_id,
                                                   .checksum = p[i].checksum,
                                                   .parts = p[i].parts,
                                                   .nparts = p[i].nparts};
            which[ns3++] = i;
            continue;
        }
        hx_status s = hx_parked_upload_commit(st, &p[i]); /* a rename: nothing to batch */
        committed[i] = s == HOIST_OK;
        if (s != HOIST_OK) {
            first = s;
            hx_error_copy(why, sizeof why);
        }
    }
    if (first == HOIST_OK && ns3 > 0) {
        first = hx_store_multipart_complete_many(st, s3, ns3);
        if (first != HOIST_OK) hx_error_copy(why, sizeof why);
    }
    for (size_t k = 0; s3 && k < ns3; k++) {
        committed[which[k]] = s3[k].status == HOIST_OK;
        hx_free(s3[k].error);
    }
    hx_free(s3);
    hx_free(which);
    return first == HOIST_OK || why[0] == '\0' ? first : hx_error(first, "%s", why);
}

hx_status hx_parked_upload_abort(struct hoist_store *st, const struct hx_parked_upload *p) {
    HX_FAIL_IF(p->url == NULL || p->upload_id == NULL, HOIST_ERR_INVALID_ARG, "parked upload without url or id");
    struct hx_url dest, tmp;
    HX_TRY(hx_store_parse_url(p->url, &dest));
    hx_status s = HOIST_OK;
    if (dest.kind == HX_URL_S3) {
        s = hx_store_multipart_abort(st, p->url, p->upload_id);
    } else if ((s = temp_path(p, &dest, &tmp)) == HOIST_OK) {
        if (unlink(tmp.path) != 0 && errno != ENOENT)
            s = hx_error(HOIST_ERR_IO, "%s: cannot remove: %s", tmp.path, strerror(errno));
        hx_url_reset(&tmp);
    }
    hx_url_reset(&dest);
    return s;
}

void hx_upload_prune_dirs(const char *url, const char *root_url) {
    struct hx_url u, r;
    if (hx_store_parse_url(url, &u) != HOIST_OK) return;
    if (hx_store_parse_url(root_url, &r) != HOIST_OK) {
        hx_url_reset(&u);
        return;
    }
    if (u.kind == HX_URL_FILE && r.kind == HX_URL_FILE) {
        size_t rl = strlen(r.path);
        while (rl > 1 && r.path[rl - 1] == '/') rl--;
        /* rmdir fails, as it should, on the first directory not empty */
        for (char *slash = strrchr(u.path, '/'); slash && (size_t)(slash - u.path) > rl; slash = strrchr(u.path, '/')) {
            *slash = '\0';
            if (strncmp(u.path, r.path, rl) != 0 || u.path[rl] != '/' || rmdir(u.path) != 0) break;
        }
    }
    hx_url_reset(&u);
    hx_url_reset(&r);
}
