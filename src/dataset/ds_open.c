/*
 * ds_open.c — hoist_dataset_open and the dataset object: expanding the
 * inputs (prefixes, globs, files) into candidate files, reading their
 * footers, unifying their schemas, Hive partition columns, choosing the
 * needed columns and binding the filter, then handing over to ds_prune.c
 * for the plan. Also close, schema, stats and the skipped-files report.
 */
#include "ds_csv_internal.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Footer reads: one suffix GET covers the footer of nearly every file
 * (pyarrow reads 64 KiB too); a bigger footer costs a second exact read. */
#define DS_FOOTER_GUESS 65536
/* The Parquet reader refuses footers over 256 MiB (docs/parquet.md); a file
 * claiming more is not fetched whole just to be refused. */
#define DS_FOOTER_MAX (256ull * 1024 * 1024 + 8)

/* ---- dataset -------------------------------------------------------------------- */

static void file_reset(struct ds_file *f, size_t npkeys) {
    hx_free(f->url);
    hoist_pq_page_index_free(f->pi); /* before the file it points to */
    hx_free(f->pi_bytes);
    hoist_pq_file_free(f->pq);
    if (f->schema.release) f->schema.release(&f->schema);
    hx_ds_strv_free(f->pvalues, npkeys);
    hx_free(f->rg_sel);
    hx_free(f->field);
    hx_free(f->rg_first_row);
    memset(f, 0, sizeof *f);
}

void hx_ds_unref(struct hoist_dataset *ds) {
    if (!ds || atomic_fetch_sub(&ds->refs, 1) != 1) return;
    for (size_t i = 0; i < ds->nfiles; i++) file_reset(&ds->files[i], ds->npkeys);
    hx_free(ds->files);
    hx_ds_strv_free(ds->pkeys, ds->npkeys);
    for (size_t i = 0; i < ds->ncols; i++) {
        hx_free(ds->cols[i].name);
        hx_free(ds->cols[i].format);
        if (ds->cols[i].schema.release) ds->cols[i].schema.release(&ds->cols[i].schema);
    }
    hx_free(ds->cols);
    hx_free(ds->need);
    hx_free(ds->need_formats);
    hx_free(ds->need_dict_formats);
    hx_ds_filter_free(ds->filter);
    for (size_t i = 0; ds->units && i < ds->nunits; i++) {
        hx_free(ds->units[i].sel);
        hx_free(ds->units[i].ranges);
    }
    hx_free(ds->units);
    hx_pool_free(ds->pool);
    hx_ds_strv_free(ds->cfg.columns, ds->cfg.ncolumns);
    hx_free(ds->cfg.filter);
    for (size_t i = 0; i < ds->cfg.nptypes; i++) hx_free(ds->cfg.ptypes[i].column);
    hx_free(ds->cfg.ptypes);
    hoist_csv_options_free(ds->cfg.csv);
    if (ds->own_store) hoist_store_free(ds->store);
    hx_buf_reset(&ds->skipped);
    pthread_mutex_destroy(&ds->mu);
    hx_free(ds);
}

void hoist_dataset_close(struct hoist_dataset *ds) { hx_ds_unref(ds); }

void hx_ds_note_skipped(struct hoist_dataset *ds, const char *url, const char *why) {
    pthread_mutex_lock(&ds->mu);
    ds->stats.files_skipped++;
    if (hx_buf_printf(&ds->skipped, "%s: %s\n", url, why) != HOIST_OK) { /* the count still says it */
    }
    pthread_mutex_unlock(&ds->mu);
    HX_WARN("skipping %s: %s", url, why);
}

/* ---- listing ---------------------------------------------------------------------- */

static bool has_glob(const char *url) {
    const char *k = strstr(url, "://");
    k = k ? k + 3 : url;
    return strpbrk(k, "*?[") != NULL;
}

static bool looks_like_file(const char *url) {
    size_t n = strlen(url);
    if (strstr(url, "#rg=")) return true;
    return (n > 8 && !strcmp(url + n - 8, ".parquet")) || (n > 5 && !strcmp(url + n - 5, ".parq")) ||
           (n > 3 && !strcmp(url + n - 3, ".pq"));
}

static hx_status cand_push(struct hx_ds_cand **v, size_t *n, size_t *cap, const char *url, uint64_t size, bool listed) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct hx_ds_cand *nv = hx_realloc(*v, nc * sizeof *nv);
        if (!nv) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        *v = nv;
        *cap = nc;
    }
    if (!((*v)[*n].url = hx_strdup(url))) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    (*v)[*n].size = size;
    (*v)[*n].listed = listed;
    (*n)++;
    return HOIST_OK;
}

/* A directory with the writer's manifest (<prefix>_SUCCESS, listed) holds
 * exactly the files it lists: one GET for the manifest, then its files
 * become the candidates in its order. *used = false when there is no
 * manifest or it is a plain marker (empty, Spark's, another tool's): the
 * caller then takes the listing as it always has. */
static hx_status expand_manifest(struct hoist_dataset *ds, const char *prefix, const struct hoist_list *list,
                                 struct hx_ds_cand **v, size_t *n, size_t *cap, bool *used) {
    *used = false;
    size_t plen = strlen(prefix);
    const struct hoist_list_entry *me = NULL;
    for (size_t i = 0; i < list->count && !me; i++) {
        const struct hoist_list_entry *e = &list->entries[i];
        if (!e->is_prefix && !strncmp(e->url, prefix, plen) && !strcmp(e->url + plen, DS_MANIFEST_NAME)) me = e;
    }
    if (!me || me->size == 0) return HOIST_OK;
    if (me->size > DS_MANIFEST_MAX_BYTES)
        return hx_error(HOIST_ERR_LIMIT, "%s: %llu bytes, more than a manifest may have (%u MiB)", me->url,
                        (unsigned long long)me->size, DS_MANIFEST_MAX_BYTES >> 20);
    struct hoist_get_item g = {.url = me->url, .length = -1, .dest = HOIST_DEST_ALLOC};
    hx_status st = hoist_store_get_many(ds->store, &g, 1, 0, NULL, NULL);
    ds->stats.requests++;
    ds->stats.bytes_fetched += g.size;
    struct ds_manifest *m = NULL;
    if (st != HOIST_OK)
        st = hx_error(g.status ? g.status : st, "reading manifest %s: %s", me->url, g.error ? g.error : hoist_errmsg());
    else
        st = hx_ds_manifest_parse(g.data, (size_t)g.size, me->url, &m);
    hoist_store_get_item_reset(&g);
    if (st != HOIST_OK || !m) return st;
    char **urls = NULL;
    uint64_t *sizes = NULL;
    st = hx_ds_manifest_resolve(m, me->url, prefix, list, &urls, &sizes);
    for (size_t i = 0; st == HOIST_OK && i < m->nfiles; i++) st = cand_push(v, n, cap, urls[i], sizes[i], true);
    if (st == HOIST_OK && m->nfiles == 0) st = hx_error(HOIST_ERR_EMPTY_DATASET, "%s lists no files", me->url);
    for (size_t i = 0; urls && i < m->nfiles; i++) hx_free(urls[i]);
    hx_free(urls);
    hx_free(sizes);
    hx_ds_manifest_free(m);
    *used = st == HOIST_OK;
    return st;
}

static hx_status expand_input(struct hoist_dataset *ds, const char *url, struct hx_ds_cand **v, size_t *n,
                              size_t *cap) {
    bool csv = ds->cfg.format == HOIST_DATASET_CSV;
    if ((looks_like_file(url) || (csv && hx_ds_csv_looks_like_file(url))) && !has_glob(url))
        return cand_push(v, n, cap, url, 0, false);
    char *prefix = NULL;
    const char *pattern = NULL;
    if (has_glob(url)) {
        /* List from the last '/' before the first wildcard, then match. */
        const char *k = strstr(url, "://");
        k = k ? k + 3 : url;
        const char *w = strpbrk(k, "*?[");
        const char *slash = w;
        while (slash > url && *slash != '/') slash--;
        prefix = hx_strndup(url, (size_t)(slash - url) + 1);
        pattern = url;
    } else {
        size_t len = strlen(url);
        prefix = hx_asprintf("%s%s", url, len && url[len - 1] == '/' ? "" : "/");
    }
    if (!prefix) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    struct hoist_list list = {0};
    const char *pv[1] = {prefix};
    hx_status st = hoist_store_list(ds->store, pv, 1, 1, &list);
    if (st != HOIST_OK) {
        if (!pattern && (st == HOIST_ERR_NOT_FOUND || st == HOIST_ERR_INVALID_ARG || st == HOIST_ERR_IO) &&
            url[strlen(url) - 1] != '/') {
            /* Not a directory: maybe a file without a .parquet name. */
            hx_free(prefix);
            return cand_push(v, n, cap, url, 0, false);
        }
        st = hx_error_prefix(st, "listing %s", prefix);
        hx_free(prefix);
        return st;
    }
    bool manifest = false;
    if (!pattern) st = expand_manifest(ds, prefix, &list, v, n, cap, &manifest);
    if (st != HOIST_OK || manifest) {
        hoist_store_list_reset(&list);
        hx_free(prefix);
        return st;
    }
    size_t before = *n, entries = 0;
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < list.count && st == HOIST_OK; i++) {
        const struct hoist_list_entry *e = &list.entries[i];
        if (e->is_prefix) continue;
        entries++;
        if (pattern && fnmatch(pattern, e->url, FNM_PATHNAME) != 0) continue;
        if (!hx_ds_is_data_key(e->url, plen, e->size)) continue;
        st = cand_push(v, n, cap, e->url, e->size, true);
    }
    hoist_store_list_reset(&list);
    if (st == HOIST_OK && *n == before) {
        if (entries == 0 && !pattern && url[strlen(url) - 1] != '/') {
            /* Nothing under "url/": treat url as one object (the footer GET
             * then says whether it exists). */
            st = cand_push(v, n, cap, url, 0, false);
        } else {
            st = hx_error(HOIST_ERR_EMPTY_DATASET, "%s: no data files%s", pattern ? pattern : prefix,
                          entries ? " (only markers such as _SUCCESS or hidden files)" : "");
        }
    }
    hx_free(prefix);
    return st;
}

/* ---- footers ----------------------------------------------------------------------- */

/* The page index sits just before the footer, so the footer's suffix GET
 * usually holds it too: keep a copy (it is small) rather than fetch it again
 * if the filter turns out to want it. Which files it will want is known
 * only once every footer is read, so the copies are capped (a dataset of
 * many thousands of files fetches the rest again, one GET each, only for
 * files that keep row groups). tail = the last tail_len bytes. */
#define DS_PI_KEEP_BYTES (64u * 1024u * 1024u)
static void keep_page_index_bytes(struct hoist_dataset *ds, struct ds_file *f, const void *tail, size_t tail_len,
                                  uint64_t fsize) {
    uint64_t off = 0, len = 0;
    if (hoist_pq_file_page_index_range(f->pq, &off, &len) != HOIST_OK) {
        hx_error_clear(); /* reported when the index is wanted */
        return;
    }
    if (tail_len > fsize) return;
    uint64_t tail_off = fsize - tail_len;
    if (len == 0 || len > SIZE_MAX || off < tail_off || off + len > fsize || off + len < off) return;
    if (ds->pi_kept_bytes + len > DS_PI_KEEP_BYTES) return;
    f->pi_bytes = hx_malloc((size_t)len);
    if (!f->pi_bytes) return; /* fetched again later */
    memcpy(f->pi_bytes, (const uint8_t *)tail + (off - tail_off), (size_t)len);
    f->pi_offset = off;
    f->pi_len = (size_t)len;
    ds->pi_kept_bytes += len;
}

/* The file's size: from the GET's response, else the listing, else the end
 * of the range read. */
static uint64_t footer_file_size(const struct hoist_get_item *g, const struct hx_ds_cand *c) {
    return g->info.size ? g->info.size : (c->size ? c->size : g->range_start + g->size);
}

/* One suffix GET per file. Missing objects are skipped with skip_bad;
 * any other failure fails the open. */
static hx_status fetch_footer_tails(struct hoist_dataset *ds, struct hoist_get_item *it, size_t n) {
    hx_status st = hoist_store_get_many(ds->store, it, n, 0, NULL, NULL);
    if (st == HOIST_OK) return HOIST_OK;
    if (!ds->cfg.skip_bad) {
        /* A user-given URL that is neither a prefix nor an object. */
        for (size_t i = 0; i < n; i++)
            if (it[i].status == HOIST_ERR_S3_NO_SUCH_KEY || it[i].status == HOIST_ERR_NOT_FOUND)
                return hx_error(it[i].status, "%s: no such object or prefix", it[i].url);
        return st;
    }
    /* Network trouble fails the load even with skip_bad: only bad files are
     * skipped, never unreadable ones silently. */
    for (size_t i = 0; i < n; i++)
        if (it[i].status != HOIST_OK && it[i].status != HOIST_ERR_S3_NO_SUCH_KEY && it[i].status != HOIST_ERR_NOT_FOUND)
            return st;
    return HOIST_OK;
}

/* Second round, all at once, for footers larger than the guess: each such
 * item's data is replaced by an exact read of the whole footer. */
static hx_status fetch_large_footers(struct hoist_dataset *ds, const struct hx_ds_cand *c, struct hoist_get_item *it,
                                     size_t n) {
    struct hoist_get_item *x = hx_calloc(n ? n : 1, sizeof *x);
    size_t *xi = hx_calloc(n ? n : 1, sizeof *xi);
    size_t nx = 0;
    hx_status st = (!x || !xi) ? hx_error(HOIST_ERR_NOMEM, "out of memory") : HOIST_OK;
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        struct hoist_get_item *g = &it[i];
        ds->stats.bytes_fetched += g->size;
        ds->stats.requests++;
        if (g->status != HOIST_OK) continue;
        uint64_t fsize = footer_file_size(g, &c[i]);
        uint64_t need = 0;
        if (g->size >= 8 && hoist_pq_footer_size(g->data, g->size, fsize, g->url, &need) == HOIST_OK &&
            need > g->size && need <= fsize && need <= DS_FOOTER_MAX) {
            struct hoist_get_item *e = &x[nx];
            e->url = g->url;
            e->offset = (int64_t)(fsize - need);
            e->length = (int64_t)need;
            e->dest = HOIST_DEST_ALLOC;
            xi[nx++] = i;
        }
    }
    if (st == HOIST_OK && nx) {
        st = hoist_store_get_many(ds->store, x, nx, 0, NULL, NULL);
        for (size_t k = 0; k < nx; k++) {
            ds->stats.requests++;
            ds->stats.bytes_fetched += x[k].size;
            if (x[k].status != HOIST_OK) continue;
            struct hoist_get_item *g = &it[xi[k]];
            hoist_free(g->data);
            g->data = x[k].data;
            g->size = x[k].size;
            x[k].data = NULL;
        }
    }
    for (size_t k = 0; x && k < nx; k++) hoist_store_get_item_reset(&x[k]);
    hx_free(x);
    hx_free(xi);
    return st;
}

/* Parses one fetched footer into the next ds->files entry, taking *base and
 * *rgs on success. A bad file is skipped (skip_bad) or fails the open. */
static hx_status add_file(struct hoist_dataset *ds, const struct hx_ds_cand *c, const struct hoist_get_item *g,
                          char **base, int **rgs, size_t nrgs) {
    if (g->status != HOIST_OK) {
        hx_ds_note_skipped(ds, *base, g->error ? g->error : hoist_strerror(g->status));
        return HOIST_OK;
    }
    uint64_t fsize = footer_file_size(g, c), need = 0;
    struct ds_file *f = &ds->files[ds->nfiles];
    hx_status fs = g->size < 12
                       ? hx_error(HOIST_ERR_PARQUET_NOT_PARQUET, "%s: %llu bytes is too small for a Parquet file",
                                  *base, (unsigned long long)fsize)
                       : hoist_pq_footer_size(g->data, g->size, fsize, *base, &need);
    if (fs == HOIST_OK && need > DS_FOOTER_MAX)
        fs = hx_error(HOIST_ERR_PARQUET_UNSUPPORTED, "%s: footer of %llu bytes exceeds the limit of 256 MiB", *base,
                      (unsigned long long)need);
    if (fs == HOIST_OK) fs = hoist_pq_file_new(g->data, g->size, fsize, *base, &f->pq);
    if (fs == HOIST_OK) fs = hoist_pq_file_schema(f->pq, ds->cfg.decode_flags, &f->schema);
    for (size_t k = 0; fs == HOIST_OK && k < nrgs; k++)
        if ((*rgs)[k] >= hoist_pq_file_num_row_groups(f->pq))
            fs = hx_error(HOIST_ERR_INVALID_ARG, "%s: row group %d selected, the file has %d", c->url, (*rgs)[k],
                          hoist_pq_file_num_row_groups(f->pq));
    if (fs != HOIST_OK) {
        if (!ds->cfg.skip_bad || fs == HOIST_ERR_NOMEM || fs == HOIST_ERR_INVALID_ARG) {
            file_reset(f, 0); /* not counted in nfiles: nobody else frees it */
            return fs;
        }
        hx_ds_note_skipped(ds, *base, hoist_errmsg());
        file_reset(f, 0);
        return HOIST_OK;
    }
    if (ds->cfg.filter && !ds->no_page_index) keep_page_index_bytes(ds, f, g->data, g->size, fsize);
    f->url = *base;
    *base = NULL;
    f->size = fsize;
    f->rg_sel = *rgs;
    f->nrg_sel = nrgs;
    *rgs = NULL;
    f->hash = hx_ds_hash_str(f->url, strlen(f->url));
    ds->stats.dataset_bytes += fsize;
    ds->nfiles++;
    return HOIST_OK;
}

/* Reads the footer of every candidate: one suffix GET each, then exact reads
 * for footers larger than the guess. Parsed files land in ds->files; bad ones
 * are skipped (skip_bad) or fail the open. */
static hx_status read_footer_chunk(struct hoist_dataset *ds, struct hx_ds_cand *c, size_t n) {
    struct hoist_get_item *it = hx_calloc(n ? n : 1, sizeof *it);
    size_t *base_len = hx_calloc(n ? n : 1, sizeof *base_len);
    char **base = hx_calloc(n ? n : 1, sizeof *base);
    int **rgs = hx_calloc(n ? n : 1, sizeof *rgs);
    size_t *nrgs = hx_calloc(n ? n : 1, sizeof *nrgs);
    hx_status st = HOIST_OK;
    if (!it || !base_len || !base || !rgs || !nrgs) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        st = hx_ds_parse_rg_selection(c[i].url, &base_len[i], &rgs[i], &nrgs[i]);
        if (st == HOIST_OK && !(base[i] = hx_strndup(c[i].url, base_len[i])))
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st != HOIST_OK) break;
        it[i].url = base[i];
        it[i].suffix = 1;
        it[i].length = DS_FOOTER_GUESS;
        it[i].dest = HOIST_DEST_ALLOC;
    }
    if (st == HOIST_OK) st = fetch_footer_tails(ds, it, n);
    if (st == HOIST_OK) st = fetch_large_footers(ds, c, it, n);
    for (size_t i = 0; st == HOIST_OK && i < n; i++) st = add_file(ds, &c[i], &it[i], &base[i], &rgs[i], nrgs[i]);
    for (size_t i = 0; i < n; i++) {
        if (it) hoist_store_get_item_reset(&it[i]);
        if (base) hx_free(base[i]);
        if (rgs) hx_free(rgs[i]);
    }
    hx_free(it);
    hx_free(base_len);
    hx_free(base);
    hx_free(rgs);
    hx_free(nrgs);
    return st;
}

static hx_status read_footers(struct hoist_dataset *ds, struct hx_ds_cand *c, size_t n) {
    ds->files = hx_calloc(n ? n : 1, sizeof *ds->files);
    if (!ds->files) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i += DS_FOOTER_CHUNK)
        HX_TRY(read_footer_chunk(ds, c + i, n - i < DS_FOOTER_CHUNK ? n - i : DS_FOOTER_CHUNK));
    if (ds->nfiles == 0) return hx_error(HOIST_ERR_EMPTY_DATASET, "no readable Parquet files (%zu skipped)", n);
    return HOIST_OK;
}

static void reset_files(struct hoist_dataset *ds) {
    for (size_t i = 0; i < ds->nfiles; i++) file_reset(&ds->files[i], ds->npkeys);
    hx_free(ds->files);
    ds->files = NULL;
    ds->nfiles = ds->files_dropped = 0;
    ds->stats.files_skipped = ds->stats.dataset_bytes = 0;
    hx_buf_reset(&ds->skipped);
}

static bool kept_files_have(const struct hoist_dataset *ds, const char *name) {
    for (size_t i = 0; i < ds->nfiles; i++)
        for (int64_t k = 0; k < ds->files[i].schema.n_children; k++)
            if (!strcmp(ds->files[i].schema.children[k]->name, name)) return true;
    return false;
}

/* A Hive key of some kept file's path (a partition column of the load). */
static bool kept_paths_have(const struct hoist_dataset *ds, const char *name) {
    bool found = false;
    for (size_t i = 0; !found && i < ds->nfiles; i++) {
        struct ds_kv *kv = NULL;
        size_t nkv = 0;
        if (hx_ds_parse_hive(ds->files[i].url, &kv, &nkv) != HOIST_OK) {
            hx_error_clear();
            return false;
        }
        for (size_t k = 0; k < nkv; k++) found = found || !strcmp(kv[k].key, name);
        hx_ds_kv_free(kv, nkv);
    }
    return found;
}

/* Whether reading only the kept files' footers changes what the load means,
 * so every footer must be read: a Hive key that decided is also a column of
 * the files (the files' values are authoritative, not the path's), or a
 * requested or filtered column is in none of the kept files (it may be a
 * column of pruned files only: then it is all null here, not unknown). */
static bool prefilter_changes_meaning(const struct hoist_dataset *ds, char *const *keys, size_t nkeys) {
    for (size_t k = 0; k < nkeys; k++)
        if (kept_files_have(ds, keys[k])) return true;
    for (size_t c = 0; !ds->cfg.rows_only && c < ds->cfg.ncolumns; c++)
        if (!kept_files_have(ds, ds->cfg.columns[c]) && !kept_paths_have(ds, ds->cfg.columns[c])) return true;
    struct ds_filter *f = NULL;
    if (hx_ds_filter_parse(ds->cfg.filter, &f) != HOIST_OK) {
        hx_error_clear();
        return true;
    }
    bool missing = false;
    for (size_t c = 0; !missing && c < f->ncolumns; c++)
        missing = !kept_files_have(ds, f->columns[c]) && !kept_paths_have(ds, f->columns[c]);
    hx_ds_filter_free(f);
    return missing;
}

/* Reads the footers of the candidates a filter on Hive keys may match (all
 * of them without one). A dataset of thousands of files filtered to one
 * partition then costs that partition's footer GETs, not every file's.
 * With nothing kept, the first candidate's footer still gives the schema. */
static hx_status read_footers_prefiltered(struct hoist_dataset *ds, struct hx_ds_cand *c, size_t n) {
    bool *keep = hx_calloc(n ? n : 1, sizeof *keep);
    const char **urls = hx_calloc(n ? n : 1, sizeof *urls);
    struct hx_ds_cand *kept = hx_calloc(n ? n : 1, sizeof *kept);
    char **keys = NULL;
    size_t nkeys = 0, nkept = 0;
    hx_status st = keep && urls && kept ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == HOIST_OK && i < n; i++) urls[i] = c[i].url;
    if (st == HOIST_OK) st = hx_ds_partition_prefilter(ds, urls, n, keep, &keys, &nkeys);
    for (size_t i = 0; st == HOIST_OK && i < n; i++)
        if (keep[i]) kept[nkept++] = c[i];
    if (st == HOIST_OK && nkept == 0 && n > 0) kept[nkept++] = c[0];
    if (st == HOIST_OK && nkept < n) {
        st = read_footers(ds, kept, nkept);
        if (st == HOIST_ERR_EMPTY_DATASET || (st == HOIST_OK && prefilter_changes_meaning(ds, keys, nkeys))) {
            hx_error_clear();
            reset_files(ds);
            st = read_footers(ds, c, n);
        } else if (st == HOIST_OK) {
            ds->stats.files_pruned = n - nkept;
        }
    } else if (st == HOIST_OK) {
        st = read_footers(ds, c, n);
    }
    hx_ds_strv_free(keys, nkeys);
    hx_free(keep);
    hx_free(urls);
    hx_free(kept);
    return st;
}

/* ---- schema ----------------------------------------------------------------------- */

static hx_status add_col(struct hoist_dataset *ds, const char *name, const struct ArrowSchema *s, size_t file,
                         size_t *cap) {
    if (ds->ncols == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        struct ds_col *v = hx_realloc(ds->cols, nc * sizeof *v);
        if (!v) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        ds->cols = v;
        *cap = nc;
    }
    struct ds_col *c = &ds->cols[ds->ncols];
    memset(c, 0, sizeof *c);
    c->first_file = file;
    if (!(c->name = hx_strdup(name))) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = s ? hx_ds_schema_copy(s, &c->schema) : HOIST_OK;
    if (st == HOIST_OK && s && !(c->format = hx_strdup(s->format))) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (st != HOIST_OK) {
        hx_free(c->name);
        if (c->schema.release) c->schema.release(&c->schema);
        hx_free(c->format);
        return st;
    }
    ds->ncols++;
    return HOIST_OK;
}

static int col_index(const struct hoist_dataset *ds, const char *name) {
    for (size_t i = 0; i < ds->ncols; i++)
        if (!strcmp(ds->cols[i].name, name)) return (int)i;
    return -1;
}

/* Column names to ds->cols indexes through a hash table: matching each
 * name by a scan over all columns made a file of 16,000 columns cost
 * 16,000^2 string compares (seconds); this is linear. */
struct col_map {
    int *slot; /* index into ds->cols, -1 = empty */
    size_t mask;
};

static hx_status col_map_init(struct col_map *m, size_t n) {
    size_t size = 16;
    while (size < 2 * n) size *= 2;
    m->mask = size - 1;
    if (!(m->slot = hx_malloc(size * sizeof *m->slot))) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    memset(m->slot, 0xff, size * sizeof *m->slot);
    return HOIST_OK;
}

/* Where name is, or the empty slot where it goes. */
static size_t col_map_slot(const struct col_map *m, const struct hoist_dataset *ds, const char *name) {
    size_t h = (size_t)hx_ds_hash_str(name, strlen(name)) & m->mask;
    while (m->slot[h] >= 0 && strcmp(ds->cols[m->slot[h]].name, name) != 0) h = (h + 1) & m->mask;
    return h;
}

/* All of ds->cols (names are distinct). */
static hx_status col_map_all(struct col_map *m, const struct hoist_dataset *ds) {
    HX_TRY(col_map_init(m, ds->ncols));
    for (size_t i = 0; i < ds->ncols; i++) m->slot[col_map_slot(m, ds, ds->cols[i].name)] = (int)i;
    return HOIST_OK;
}

static hx_status unify_columns(struct hoist_dataset *ds, struct col_map *m) {
    size_t cap = 0;
    for (size_t fi = 0; fi < ds->nfiles; fi++) {
        const struct ArrowSchema *fs = &ds->files[fi].schema;
        for (int64_t k = 0; k < fs->n_children; k++) {
            const struct ArrowSchema *ch = fs->children[k];
            size_t slot = col_map_slot(m, ds, ch->name);
            int ci = m->slot[slot];
            if (ci < 0) {
                HX_TRY(add_col(ds, ch->name, ch, fi, &cap));
                m->slot[slot] = (int)ds->ncols - 1;
                continue;
            }
            struct ds_col *c = &ds->cols[ci];
            const char *u = NULL;
            bool simple = ch->n_children == 0 && !ch->dictionary && c->schema.n_children == 0 && !c->schema.dictionary;
            bool same_nested = !simple && !strcmp(ch->format, c->format) && ch->n_children == c->schema.n_children;
            if (simple ? !hx_ds_unify_format(c->format, ch->format, &u) : !same_nested)
                return hx_error(HOIST_ERR_SCHEMA_MISMATCH,
                                "column '%s' has type '%s' in %s but '%s' in %s (no common type)", ch->name, c->format,
                                ds->files[c->first_file].url, ch->format, ds->files[fi].url);
            if (simple && strcmp(u, c->format) != 0) {
                char *nf = hx_strdup(u);
                if (!nf) return hx_error(HOIST_ERR_NOMEM, "out of memory");
                hx_free(c->format);
                c->format = nf;
            }
        }
    }
    /* Make each widened column's schema carry the unified format. */
    for (size_t i = 0; i < ds->ncols; i++) {
        struct ds_col *c = &ds->cols[i];
        if (strcmp(c->schema.format, c->format) != 0) {
            struct ArrowSchema leaf;
            HX_TRY(hx_ds_schema_leaf(c->name, c->format, c->schema.flags | ARROW_FLAG_NULLABLE, &leaf));
            c->schema.release(&c->schema);
            c->schema = leaf;
        }
    }
    /* A column absent from some file is null there. */
    bool *present = hx_malloc(ds->ncols + 1);
    if (!present) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t fi = 0; fi < ds->nfiles; fi++) {
        const struct ArrowSchema *fs = &ds->files[fi].schema;
        memset(present, 0, ds->ncols + 1);
        for (int64_t k = 0; k < fs->n_children; k++)
            present[m->slot[col_map_slot(m, ds, fs->children[k]->name)]] = true;
        for (size_t i = 0; i < ds->ncols; i++)
            if (!present[i]) ds->cols[i].schema.flags |= ARROW_FLAG_NULLABLE;
    }
    hx_free(present);
    return HOIST_OK;
}

static hx_status unify_schemas(struct hoist_dataset *ds) {
    size_t total = 0;
    for (size_t fi = 0; fi < ds->nfiles; fi++) total += (size_t)ds->files[fi].schema.n_children;
    struct col_map m;
    HX_TRY(col_map_init(&m, total));
    hx_status st = unify_columns(ds, &m);
    hx_free(m.slot);
    return st;
}

static hx_status setup_partitions(struct hoist_dataset *ds) {
    if (!ds->cfg.hive) return HOIST_OK;
    size_t kcap = 0;
    struct ds_kv **kvs = hx_calloc(ds->nfiles, sizeof *kvs);
    size_t *nkv = hx_calloc(ds->nfiles, sizeof *nkv);
    hx_status st = (!kvs || !nkv) ? hx_error(HOIST_ERR_NOMEM, "out of memory") : HOIST_OK;
    for (size_t fi = 0; st == HOIST_OK && fi < ds->nfiles; fi++) {
        st = hx_ds_parse_hive(ds->files[fi].url, &kvs[fi], &nkv[fi]);
        for (size_t k = 0; st == HOIST_OK && k < nkv[fi]; k++) {
            /* A key that is also a column of the files is not a partition column: the files'
             * own values are authoritative (a write with keep_partition_columns, an Iceberg
             * table's files); their statistics still prune row groups. */
            if (col_index(ds, kvs[fi][k].key) >= 0) continue;
            size_t j;
            for (j = 0; j < ds->npkeys; j++)
                if (!strcmp(ds->pkeys[j], kvs[fi][k].key)) break;
            if (j < ds->npkeys) continue;
            if (ds->npkeys == kcap) {
                kcap = kcap ? kcap * 2 : 4;
                char **nv = hx_realloc(ds->pkeys, kcap * sizeof *nv);
                if (!nv) {
                    st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                    break;
                }
                ds->pkeys = nv;
            }
            if (!(ds->pkeys[ds->npkeys] = hx_strdup(kvs[fi][k].key)))
                st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            else
                ds->npkeys++;
        }
    }
    const char **vals = st == HOIST_OK ? hx_calloc(ds->nfiles ? ds->nfiles : 1, sizeof *vals) : NULL;
    if (st == HOIST_OK && !vals) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t fi = 0; st == HOIST_OK && fi < ds->nfiles; fi++) {
        ds->files[fi].pvalues = hx_calloc(ds->npkeys ? ds->npkeys : 1, sizeof(char *));
        if (!ds->files[fi].pvalues) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        for (size_t k = 0; st == HOIST_OK && k < nkv[fi]; k++)
            for (size_t j = 0; j < ds->npkeys; j++)
                if (!strcmp(ds->pkeys[j], kvs[fi][k].key)) {
                    ds->files[fi].pvalues[j] = kvs[fi][k].value;
                    kvs[fi][k].value = NULL;
                }
    }
    size_t cap = ds->ncols;
    for (size_t j = 0; st == HOIST_OK && j < ds->npkeys; j++) {
        for (size_t fi = 0; fi < ds->nfiles; fi++) vals[fi] = ds->files[fi].pvalues[j];
        enum ds_ptype t = hx_ds_infer_ptype(vals, ds->nfiles);
        for (size_t o = 0; o < ds->cfg.nptypes; o++)
            if (!strcmp(ds->cfg.ptypes[o].column, ds->pkeys[j])) t = ds->cfg.ptypes[o].type;
        for (size_t fi = 0; fi < ds->nfiles; fi++) {
            int64_t v;
            if (vals[fi] && !hx_ds_parse_pvalue(vals[fi], t, &v)) {
                st = hx_error(HOIST_ERR_SCHEMA_MISMATCH, "%s: partition %s=%s is not a valid %s", ds->files[fi].url,
                              ds->pkeys[j], vals[fi],
                              t == DS_PT_DATE32  ? "date"
                              : t == DS_PT_INT32 ? "int32"
                                                 : "int64");
                break;
            }
        }
        if (st != HOIST_OK) break;
        static const char *const fmt[] = {"i", "l", "u", "tdD"};
        struct ArrowSchema leaf;
        st = hx_ds_schema_leaf(ds->pkeys[j], fmt[t], ARROW_FLAG_NULLABLE, &leaf);
        if (st != HOIST_OK) break;
        st = add_col(ds, ds->pkeys[j], &leaf, 0, &cap);
        leaf.release(&leaf);
        if (st != HOIST_OK) break;
        ds->cols[ds->ncols - 1].partition = true;
        ds->cols[ds->ncols - 1].pidx = j;
        ds->cols[ds->ncols - 1].ptype = t;
    }
    for (size_t fi = 0; kvs && nkv && fi < ds->nfiles; fi++) hx_ds_kv_free(kvs[fi], nkv[fi]);
    hx_free(kvs);
    hx_free(nkv);
    hx_free(vals);
    return st;
}

/* Each file's field index of every needed column (-1: absent, or a
 * partition key), through the name table. */
static hx_status map_file_fields(struct hoist_dataset *ds, const struct col_map *m) {
    int *pos = hx_malloc((ds->ncols + 1) * sizeof *pos);
    if (!pos) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = HOIST_OK;
    for (size_t fi = 0; fi < ds->nfiles && st == HOIST_OK; fi++) {
        struct ds_file *f = &ds->files[fi];
        const struct ArrowSchema *fs = &f->schema;
        for (size_t i = 0; i < ds->ncols; i++) pos[i] = -1;
        for (int64_t k = 0; k < fs->n_children; k++) {
            int ci = m->slot[col_map_slot(m, ds, fs->children[k]->name)];
            if (ci >= 0 && pos[ci] < 0) pos[ci] = (int)k; /* the first of a repeated name */
        }
        f->field = hx_calloc(ds->nneed + 1, sizeof *f->field);
        if (!f->field) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < ds->nneed; i++) f->field[i] = ds->cols[ds->need[i]].partition ? -1 : pos[ds->need[i]];
    }
    hx_free(pos);
    return st;
}

/* For a rows-only scan that needs no column for its filter: the column
 * whose values cost least to get. A Hive partition column costs nothing
 * (its values come from the paths); otherwise the file column with the
 * fewest stored bytes over every row group, where footers tell them (CSV
 * has no per-column sizes: its first column). */
static hx_status cheapest_column(const struct hoist_dataset *ds, const struct col_map *m, size_t *out) {
    *out = 0;
    for (size_t i = 0; i < ds->ncols; i++)
        if (ds->cols[i].partition) {
            *out = i;
            return HOIST_OK;
        }
    if (ds->ncols == 0 || ds->cfg.format == HOIST_DATASET_CSV) return HOIST_OK;
    uint64_t *bytes = hx_calloc(ds->ncols, sizeof *bytes);
    if (!bytes) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = HOIST_OK;
    for (size_t fi = 0; fi < ds->nfiles && st == HOIST_OK; fi++) {
        const struct ds_file *f = &ds->files[fi];
        int nrg = f->pq ? hoist_pq_file_num_row_groups(f->pq) : 0;
        for (int64_t k = 0; k < f->schema.n_children && st == HOIST_OK; k++) {
            int ci = m->slot[col_map_slot(m, ds, f->schema.children[k]->name)];
            for (int g = 0; ci >= 0 && g < nrg; g++) {
                uint64_t off, len;
                if ((st = hoist_pq_file_field_range(f->pq, g, (int)k, &off, &len)) != HOIST_OK) break;
                bytes[ci] += len;
            }
        }
    }
    for (size_t i = 1; st == HOIST_OK && i < ds->ncols; i++)
        if (bytes[i] < bytes[*out]) *out = i;
    hx_free(bytes);
    return st;
}

/* Chooses output and needed columns, binds the filter. */
static hx_status setup_columns(struct hoist_dataset *ds, const struct col_map *m) {
    size_t nout = ds->cfg.rows_only ? 0 : ds->cfg.ncolumns ? ds->cfg.ncolumns : ds->ncols;
    ds->need = hx_calloc(ds->ncols + 1, sizeof *ds->need);
    if (!ds->need) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (ds->cfg.rows_only) {
        /* nothing to output */
    } else if (ds->cfg.ncolumns) {
        for (size_t i = 0; i < nout; i++) {
            int ci = m->slot[col_map_slot(m, ds, ds->cfg.columns[i])];
            if (ci < 0) {
                struct hx_buf b;
                hx_buf_init(&b);
                for (size_t k = 0; k < ds->ncols && k < 40; k++)
                    if (hx_buf_printf(&b, "%s%s", k ? ", " : "", ds->cols[k].name) != HOIST_OK) break;
                hx_status st = hx_error(HOIST_ERR_COLUMN_NOT_FOUND, "column '%s' is not in the dataset (columns: %s)",
                                        ds->cfg.columns[i], b.data ? b.data : "");
                hx_buf_reset(&b);
                return st;
            }
            ds->need[i] = (size_t)ci;
        }
    } else {
        for (size_t i = 0; i < nout; i++) ds->need[i] = i;
    }
    ds->nout = ds->nneed = nout;
    if (ds->cfg.filter) {
        HX_TRY(hx_ds_filter_parse(ds->cfg.filter, &ds->filter));
        bool *have = hx_calloc(ds->ncols + 1, sizeof *have);
        if (!have) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ds->nneed; i++) have[ds->need[i]] = true;
        for (size_t k = 0; k < ds->filter->ncolumns; k++) {
            int ci = m->slot[col_map_slot(m, ds, ds->filter->columns[k])];
            if (ci < 0 || have[ci]) continue; /* an unknown one: bind reports it with a caret */
            have[ci] = true;
            ds->need[ds->nneed++] = (size_t)ci;
        }
        hx_free(have);
    }
    /* Row counts come from decoding a column: without any, a unit would
     * have nothing to fetch or decode. */
    if (ds->nneed == 0 && ds->ncols > 0) {
        size_t ci;
        HX_TRY(cheapest_column(ds, m, &ci));
        ds->need[ds->nneed++] = ci;
    }
    ds->need_formats = hx_calloc(ds->nneed + 1, sizeof *ds->need_formats);
    ds->need_dict_formats = hx_calloc(ds->nneed + 1, sizeof *ds->need_dict_formats);
    const char **names = hx_calloc(ds->nneed + 1, sizeof *names);
    if (!ds->need_formats || !ds->need_dict_formats || !names) {
        hx_free(names);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < ds->nneed; i++) {
        const struct ds_col *c = &ds->cols[ds->need[i]];
        names[i] = c->name;
        ds->need_formats[i] = c->format;
        ds->need_dict_formats[i] = c->schema.dictionary ? c->schema.dictionary->format : NULL;
    }
    hx_status st = HOIST_OK;
    if (ds->filter) {
        /* Dictionary columns compare by their values' type. */
        const char **vf = hx_calloc(ds->nneed + 1, sizeof *vf);
        if (!vf) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        for (size_t i = 0; vf && i < ds->nneed; i++)
            vf[i] = ds->need_dict_formats[i] ? ds->need_dict_formats[i] : ds->need_formats[i];
        if (st == HOIST_OK) st = hx_ds_filter_bind(ds->filter, names, vf, ds->nneed);
        hx_free(vf);
    }
    hx_free(names);
    HX_TRY(st);
    return map_file_fields(ds, m);
}

/* ---- open ---------------------------------------------------------------------- */

hx_status hoist_dataset_open(struct hoist_store *store, const char *const *urls, size_t n,
                             const struct hoist_dataset_config *cfg, struct hoist_dataset **out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_dataset_open: out is NULL");
    *out = NULL;
    HX_FAIL_IF(!urls || n == 0, HOIST_ERR_INVALID_ARG, "hoist_dataset_open: no URLs");
    for (size_t i = 0; i < n; i++)
        HX_FAIL_IF(!urls[i] || !urls[i][0], HOIST_ERR_INVALID_ARG, "hoist_dataset_open: URL %zu is empty", i);
    struct hoist_dataset *ds = hx_calloc(1, sizeof *ds);
    if (!ds) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    atomic_init(&ds->refs, 1);
    pthread_mutex_init(&ds->mu, NULL);
    hx_buf_init(&ds->skipped);
    hx_status st = HOIST_OK;
    if (cfg) {
        ds->cfg = *cfg;
        ds->cfg.columns = NULL;
        ds->cfg.filter = NULL;
        ds->cfg.ptypes = NULL;
        ds->cfg.csv = NULL;
        ds->cfg.ncolumns = ds->cfg.nptypes = 0;
        if (cfg->csv) st = hx_csv_options_clone(cfg->csv, &ds->cfg.csv);
        if (st == HOIST_OK) st = hx_ds_strv_copy((const char *const *)cfg->columns, cfg->ncolumns, &ds->cfg.columns);
        if (st == HOIST_OK) ds->cfg.ncolumns = cfg->ncolumns;
        if (st == HOIST_OK && cfg->filter && !(ds->cfg.filter = hx_strdup(cfg->filter)))
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st == HOIST_OK && cfg->nptypes) {
            ds->cfg.ptypes = hx_calloc(cfg->nptypes, sizeof *ds->cfg.ptypes);
            if (!ds->cfg.ptypes) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            for (size_t i = 0; st == HOIST_OK && i < cfg->nptypes; i++) {
                ds->cfg.ptypes[i].type = cfg->ptypes[i].type;
                if (!(ds->cfg.ptypes[i].column = hx_strdup(cfg->ptypes[i].column)))
                    st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                ds->cfg.nptypes = i + 1;
            }
        }
    } else {
        ds->cfg.sample = 1.0;
        ds->cfg.limit = -1;
        ds->cfg.hive = 1;
    }
    ds->cfg.store_cfg = NULL;
    if (st == HOIST_OK) {
        if (store) {
            ds->store = store;
        } else {
            st = hoist_store_new(cfg ? cfg->store_cfg : NULL, &ds->store);
            ds->own_store = ds->store != NULL;
        }
    }
    if (st == HOIST_OK) st = hx_pool_new(ds->cfg.threads, &ds->pool);
    const char *npi = getenv("HOIST_NO_PAGE_INDEX");
    ds->no_page_index = npi && *npi && strcmp(npi, "0") != 0;
    struct hx_ds_cand *cands = NULL;
    size_t ncand = 0, ccap = 0;
    double t0 = hx_now();
    for (size_t i = 0; st == HOIST_OK && i < n; i++) st = expand_input(ds, urls[i], &cands, &ncand, &ccap);
    double t1 = hx_now();
    ds->stats.list_seconds = t1 - t0;
    bool csv = ds->cfg.format == HOIST_DATASET_CSV;
    if (st == HOIST_OK) st = csv ? hx_ds_csv_open_files(ds, cands, ncand) : read_footers_prefiltered(ds, cands, ncand);
    ds->stats.footer_seconds = hx_now() - t1;
    for (size_t i = 0; i < ncand; i++) hx_free(cands[i].url);
    hx_free(cands);
    if (st == HOIST_OK) st = unify_schemas(ds);
    if (st == HOIST_OK) st = setup_partitions(ds);
    struct col_map cols = {0};
    if (st == HOIST_OK) st = col_map_all(&cols, ds);
    if (st == HOIST_OK) st = setup_columns(ds, &cols);
    hx_free(cols.slot);
    if (st == HOIST_OK) st = csv ? hx_ds_csv_plan_units(ds) : hx_ds_plan_units(ds);
    if (st == HOIST_OK && !csv) st = hx_ds_page_prune(ds);
    if (st != HOIST_OK) {
        hx_ds_unref(ds);
        return st;
    }
    ds->stats.files = ds->nfiles - ds->files_dropped;
    ds->stats.columns = (int64_t)ds->nout;
    *out = ds;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hx_ds_output_schema(struct hoist_dataset *ds, struct ArrowSchema *out) {
    struct ArrowSchema *ch = hx_calloc(ds->nout + 1, sizeof *ch);
    if (!ch) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = HOIST_OK;
    size_t i;
    for (i = 0; i < ds->nout && st == HOIST_OK; i++) st = hx_ds_schema_copy(&ds->cols[ds->need[i]].schema, &ch[i]);
    if (st != HOIST_OK) {
        for (size_t k = 0; k + 1 < i; k++) ch[k].release(&ch[k]);
        hx_free(ch);
        return st;
    }
    st = hx_ds_schema_struct(ch, ds->nout, out);
    hx_free(ch);
    return st;
}

hx_status hoist_dataset_schema(struct hoist_dataset *ds, struct ArrowSchema *out) {
    HX_FAIL_IF(!ds || !out, HOIST_ERR_INVALID_ARG, "hoist_dataset_schema: NULL argument");
    HX_TRY(hx_ds_output_schema(ds, out));
    hx_error_clear();
    return HOIST_OK;
}

void hoist_dataset_get_stats(struct hoist_dataset *ds, struct hoist_dataset_stats *out, size_t size) {
    if (!out) return;
    struct hoist_dataset_stats s = {0};
    if (ds) {
        pthread_mutex_lock(&ds->mu);
        s = ds->stats;
        pthread_mutex_unlock(&ds->mu);
    }
    memcpy(out, &s, size < sizeof s ? size : sizeof s);
}

char *hoist_dataset_skipped(struct hoist_dataset *ds) {
    if (!ds) return hx_strdup("");
    pthread_mutex_lock(&ds->mu);
    char *s = hx_strdup(ds->skipped.data ? ds->skipped.data : "");
    pthread_mutex_unlock(&ds->mu);
    return s;
}
