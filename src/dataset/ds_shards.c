/*
 * ds_shards.c — hoist_dataset_shards: splits the planned row groups (after
 * pruning) into balanced shards, each a list of file URLs with an exact
 * "#rg=" selection, for distributing a load over processes or machines.
 */
#include "ds_open_internal.h"

#include <string.h>

void hoist_dataset_shards_free(struct hoist_shard *shards, size_t count) {
    if (!shards) return;
    for (size_t i = 0; i < count; i++) hx_ds_strv_free(shards[i].urls, shards[i].count);
    hx_free(shards);
}

hx_status hoist_dataset_shards(struct hoist_dataset *ds, size_t n, unsigned flags, struct hoist_shard **shards,
                               size_t *count) {
    HX_FAIL_IF(!ds || !shards || !count || n == 0, HOIST_ERR_INVALID_ARG, "hoist_dataset_shards: bad argument");
    *shards = NULL;
    *count = 0;
    bool by_rg = (flags & HOIST_SHARD_ROW_GROUPS) != 0;
    /* Units: row groups, or whole files (their kept row groups). */
    size_t nu = 0;
    size_t *ufirst = hx_calloc(ds->nunits + 1, sizeof *ufirst); /* first plan unit of each shard unit */
    size_t *ulen = hx_calloc(ds->nunits + 1, sizeof *ulen);
    uint64_t *ubytes = hx_calloc(ds->nunits + 1, sizeof *ubytes);
    size_t *shard_of = hx_calloc(ds->nunits + 1, sizeof *shard_of);
    hx_status st = HOIST_OK;
    if (!ufirst || !ulen || !ubytes || !shard_of) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == HOIST_OK && i < ds->nunits; i++) {
        if (by_rg || i == 0 || ds->units[i].file != ds->units[i - 1].file) {
            ufirst[nu] = i;
            nu++;
        }
        ulen[nu - 1]++;
        ubytes[nu - 1] += ds->units[i].bytes ? ds->units[i].bytes : 1;
    }
    size_t ns = st == HOIST_OK ? hx_ds_shard_assign(ubytes, nu, n, shard_of) : 0;
    struct hoist_shard *sh = NULL;
    if (st == HOIST_OK && ns == 0) st = hx_error(HOIST_ERR_EMPTY_DATASET, "no row groups to shard (all pruned)");
    if (st == HOIST_OK && !(sh = hx_calloc(ns, sizeof *sh))) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    int *rgs = st == HOIST_OK ? hx_calloc(ds->nunits + 1, sizeof *rgs) : NULL;
    if (st == HOIST_OK && !rgs) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t s = 0; st == HOIST_OK && s < ns; s++) {
        /* Walk the plan in order, grouping this shard's row groups by file so
         * each file appears once with an exact selection. */
        size_t cap = 0;
        for (size_t u = 0; st == HOIST_OK && u < nu;) {
            if (shard_of[u] != s) {
                u++;
                continue;
            }
            size_t file = ds->units[ufirst[u]].file;
            size_t nr = 0;
            size_t v = u;
            for (; v < nu && ds->units[ufirst[v]].file == file; v++) {
                if (shard_of[v] != s) continue;
                for (size_t k = 0; k < ulen[v]; k++) {
                    const struct ds_unit *pu = &ds->units[ufirst[v] + k];
                    rgs[nr++] = pu->rg;
                    sh[s].bytes += pu->bytes;
                    /* Before the filter: page skipping is part of it. A CSV
                     * file's rows are not known before it is read (-1). */
                    if (!ds->files[pu->file].pq)
                        sh[s].rows = -1;
                    else if (sh[s].rows >= 0)
                        sh[s].rows += hoist_pq_file_row_group_num_rows(ds->files[pu->file].pq, pu->rg);
                }
            }
            u = v;
            const struct ds_file *f = &ds->files[file];
            /* The selection is always written: pruned row groups must stay
             * out, and a file may later gain row groups. */
            char *url = f->pq ? hx_ds_format_rg_selection(f->url, rgs, nr) : hx_strdup(f->url); /* CSV: whole files */
            if (!url) {
                st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                break;
            }
            if (sh[s].count == cap) {
                cap = cap ? cap * 2 : 8;
                char **nv = hx_realloc(sh[s].urls, cap * sizeof *nv);
                if (!nv) {
                    hx_free(url);
                    st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                    break;
                }
                sh[s].urls = nv;
            }
            sh[s].urls[sh[s].count++] = url;
        }
    }
    hx_free(ufirst);
    hx_free(ulen);
    hx_free(ubytes);
    hx_free(shard_of);
    hx_free(rgs);
    if (st != HOIST_OK) {
        hoist_dataset_shards_free(sh, ns);
        return st;
    }
    *shards = sh;
    *count = ns;
    hx_error_clear();
    return HOIST_OK;
}
