/*
 * ice_plan.c — hoist_iceberg_plan_*: a read of an Iceberg snapshot as the
 * list of data files to load. Three rounds of fetches through the store:
 * the metadata file, the manifest list, then every manifest the filter
 * keeps at once (one get_many, so they come over parallel connections).
 *
 * spec: a snapshot's rows are the data files of its manifests whose entries
 * are ADDED or EXISTING (DELETED entries only record a removal). Delete files
 * (v2 "deletes" manifests) apply to data files of the same partition (or to
 * all, from an unpartitioned spec) with a data sequence number not newer
 * than theirs (position deletes: <=, equality deletes: <); an entry without
 * a sequence number inherits its manifest's.
 */
#include "iceberg_internal.h"

#include <strings.h>
#include <string.h>

struct plan_file {
    char *path;
    int64_t records, size;
    int spec_id;
    int64_t seq;
    char *partition; /* partition key, to match delete files */
};

struct delete_file {
    int spec_id;
    bool global; /* from an unpartitioned spec: applies to every partition */
    bool equality;
    int64_t seq;
    char *partition;
};

struct hoist_iceberg_plan {
    struct ice_meta *meta;
    struct plan_file *files;
    size_t nfiles, cap;
    struct delete_file *deletes;
    size_t ndeletes, dcap;
    struct hoist_iceberg_plan_stats stats;
};

/* What the planner reads of the manifest list, kept past its records. */
struct manifest {
    char *path;
    int spec_id;
    int content;
    int64_t seq;
};

void hoist_iceberg_plan_free(struct hoist_iceberg_plan *plan) {
    if (!plan) return;
    for (size_t i = 0; i < plan->nfiles; i++) {
        hx_free(plan->files[i].path);
        hx_free(plan->files[i].partition);
    }
    for (size_t i = 0; i < plan->ndeletes; i++) hx_free(plan->deletes[i].partition);
    hx_free(plan->files);
    hx_free(plan->deletes);
    hx_ice_meta_free(plan->meta);
    hx_free(plan);
}

size_t hoist_iceberg_plan_num_files(const struct hoist_iceberg_plan *plan) { return plan ? plan->nfiles : 0; }

const char *hoist_iceberg_plan_file(const struct hoist_iceberg_plan *plan, size_t i, int64_t *record_count,
                                    int64_t *file_size) {
    if (!plan || i >= plan->nfiles) return NULL;
    if (record_count) *record_count = plan->files[i].records;
    if (file_size) *file_size = plan->files[i].size;
    return plan->files[i].path;
}

const char *hoist_iceberg_plan_schema_json(const struct hoist_iceberg_plan *plan) {
    return plan && plan->meta ? plan->meta->schema_json : NULL;
}

void hoist_iceberg_plan_get_stats(const struct hoist_iceberg_plan *plan, struct hoist_iceberg_plan_stats *out,
                                  size_t size) {
    if (!out) return;
    struct hoist_iceberg_plan_stats s;
    memset(&s, 0, sizeof s);
    if (plan) s = plan->stats;
    memcpy(out, &s, size < sizeof s ? size : sizeof s);
}

/* Fetches n whole objects into items (hoist-allocated data). */
static hx_status fetch(struct hoist_store *store, struct hoist_get_item *items, size_t n,
                       struct hoist_iceberg_plan *plan) {
    hx_status st = hoist_store_get_many(store, items, n, 0, NULL, NULL);
    for (size_t i = 0; st == HOIST_OK && i < n; i++) plan->stats.metadata_bytes += items[i].size;
    return st;
}

/* The filter bound to the read schema, or NULL when it cannot prune (no
 * filter, or one that does not parse or bind: the load reports those). */
static struct ds_filter *bind_filter(const struct ice_meta *m, const char *filter) {
    if (!filter || !*filter || !m->nfields) return NULL;
    struct ds_filter *f = NULL;
    const char **names = hx_calloc(m->nfields, sizeof *names);
    const char **formats = hx_calloc(m->nfields, sizeof *formats);
    bool ok = names && formats && hx_ds_filter_parse(filter, &f) == HOIST_OK;
    for (size_t i = 0; ok && i < m->nfields; i++) {
        names[i] = m->fields[i].name;
        formats[i] = m->fields[i].format;
    }
    if (ok && hx_ds_filter_bind(f, names, formats, m->nfields) != HOIST_OK) ok = false;
    hx_free(names);
    hx_free(formats);
    if (!ok) {
        hx_ds_filter_free(f);
        hx_error_clear();
        return NULL;
    }
    return f;
}

static hx_status read_manifest_list(struct hoist_iceberg_plan *plan, const void *data, size_t len, const char *url,
                                    const struct ds_filter *filter, struct ds_colstats *cs, struct manifest **out,
                                    size_t *nout) {
    struct ice_avro *r = NULL;
    HX_TRY(hx_ice_avro_open(data, len, url, &r));
    struct manifest *list = NULL;
    size_t n = 0, cap = 0;
    hx_status st = HOIST_OK;
    for (;;) {
        struct ice_manifest_ref ref;
        bool eof;
        if ((st = hx_ice_avro_next_manifest(r, &ref, &eof)) != HOIST_OK || eof) break;
        plan->stats.manifests++;
        if (ref.content != 0 && ref.content != 1) {
            st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: manifest %s has content %d (0 data, 1 deletes)", url,
                          ref.path, ref.content);
            break;
        }
        const struct ice_spec *spec = hx_ice_meta_spec(plan->meta, ref.spec_id);
        if (!spec) {
            st = hx_error(HOIST_ERR_ICEBERG_CORRUPT, "%s: manifest %s names partition spec %d, which the table lacks",
                          url, ref.path, ref.spec_id);
            break;
        }
        if (ref.content == 0 && filter) {
            hx_ice_manifest_stats(plan->meta, spec, &ref, cs);
            if (!hx_ds_filter_may_match(filter, cs)) {
                plan->stats.manifests_pruned++;
                continue;
            }
        }
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            struct manifest *grown = hx_realloc(list, ncap * sizeof *grown);
            if (!grown) {
                st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                break;
            }
            list = grown;
            cap = ncap;
        }
        list[n] = (struct manifest){hx_strdup(ref.path), ref.spec_id, ref.content, ref.sequence_number};
        if (!list[n++].path) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
    }
    hx_ice_avro_close(r);
    *out = list;
    *nout = n;
    return st;
}

static hx_status add_file(struct hoist_iceberg_plan *plan, const struct ice_entry *e, const struct manifest *mf,
                          int64_t seq) {
    if (plan->nfiles == plan->cap) {
        size_t ncap = plan->cap ? 2 * plan->cap : 64;
        struct plan_file *grown = hx_realloc(plan->files, ncap * sizeof *grown);
        if (!grown) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        plan->files = grown;
        plan->cap = ncap;
    }
    struct plan_file *f = &plan->files[plan->nfiles];
    memset(f, 0, sizeof *f);
    f->path = hx_strdup(e->path);
    if (!f->path) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    plan->nfiles++;
    f->records = e->record_count;
    f->size = e->file_size;
    f->spec_id = mf->spec_id;
    f->seq = seq;
    HX_TRY(hx_ice_entry_partition_key(e, &f->partition));
    return HOIST_OK;
}

static hx_status add_delete(struct hoist_iceberg_plan *plan, const struct ice_entry *e, const struct manifest *mf,
                            int64_t seq) {
    if (plan->ndeletes == plan->dcap) {
        size_t ncap = plan->dcap ? 2 * plan->dcap : 16;
        struct delete_file *grown = hx_realloc(plan->deletes, ncap * sizeof *grown);
        if (!grown) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        plan->deletes = grown;
        plan->dcap = ncap;
    }
    struct delete_file *d = &plan->deletes[plan->ndeletes];
    memset(d, 0, sizeof *d);
    const struct ice_spec *spec = hx_ice_meta_spec(plan->meta, mf->spec_id);
    d->spec_id = mf->spec_id;
    d->global = !spec || spec->nfields == 0;
    d->equality = e->content == 2;
    d->seq = seq;
    HX_TRY(hx_ice_entry_partition_key(e, &d->partition));
    plan->ndeletes++;
    return HOIST_OK;
}

static hx_status read_manifest(struct hoist_iceberg_plan *plan, const struct manifest *mf, const void *data, size_t len,
                               const struct ds_filter *filter, struct ds_colstats *cs, uint8_t (*scratch)[16]) {
    struct ice_avro *r = NULL;
    HX_TRY(hx_ice_avro_open(data, len, mf->path, &r));
    const struct ice_spec *spec = hx_ice_meta_spec(plan->meta, mf->spec_id);
    hx_status st = HOIST_OK;
    for (;;) {
        struct ice_entry e;
        bool eof;
        if ((st = hx_ice_avro_next_entry(r, &e, &eof)) != HOIST_OK || eof) break;
        if (e.status == 2) continue; /* DELETED: a removal, not a live file */
        if (e.content < 0 || e.content > 2) {
            st = hx_error(HOIST_ERR_ICEBERG_CORRUPT,
                          "%s: %s has content %d (0 data, 1 position deletes, 2 equality "
                          "deletes)",
                          mf->path, e.path, e.content);
            break;
        }
        /* Each entry says what it is: pyiceberg's fast_append (and so other
         * writers) may put a delete file in a manifest of content "data". */
        bool is_delete = e.content != 0;
        /* spec: a null sequence number is inherited from the manifest (v1: 0) */
        int64_t seq = e.has_sequence_number ? e.sequence_number : mf->seq;
        if (is_delete) {
            plan->stats.delete_files++;
            if ((st = add_delete(plan, &e, mf, seq)) != HOIST_OK) break;
            continue;
        }
        plan->stats.data_files++;
        if (filter) {
            hx_ice_file_stats(plan->meta, spec, &e, cs, scratch);
            if (!hx_ds_filter_may_match(filter, cs)) {
                plan->stats.data_files_pruned++;
                continue;
            }
        }
        if (strcasecmp(e.format, "PARQUET") != 0) {
            st = hx_error(HOIST_ERR_UNSUPPORTED, "Iceberg scan: %s is %s; hoist reads Parquet data files", e.path,
                          e.format);
            break;
        }
        if ((st = add_file(plan, &e, mf, seq)) != HOIST_OK) break;
    }
    hx_ice_avro_close(r);
    return st;
}

static bool delete_applies(const struct delete_file *d, const struct plan_file *f) {
    if (d->equality ? d->seq <= f->seq : d->seq < f->seq) return false;
    if (d->global) return true;
    return d->spec_id == f->spec_id && d->partition && f->partition && strcmp(d->partition, f->partition) == 0;
}

static hx_status refuse_deletes(const struct hoist_iceberg_plan *plan) {
    size_t hit = 0, first = 0;
    for (size_t i = 0; i < plan->nfiles; i++)
        for (size_t k = 0; k < plan->ndeletes; k++)
            if (delete_applies(&plan->deletes[k], &plan->files[i])) {
                if (!hit++) first = i;
                break;
            }
    if (!hit) return HOIST_OK;
    return hx_error(HOIST_ERR_UNSUPPORTED,
                    "Iceberg scan: %zu of %zu data files carry delete files (merge-on-read deletes, e.g. %s); hoist "
                    "does not apply Iceberg deletes yet: compact the table (rewrite its data files) or read it with "
                    "pyiceberg",
                    hit, plan->nfiles, plan->files[first].path);
}

static void reset_items(struct hoist_get_item *items, size_t n) {
    for (size_t i = 0; items && i < n; i++) hoist_store_get_item_reset(&items[i]);
}

static hx_status plan_snapshot(struct hoist_iceberg_plan *plan, struct hoist_store *store, const char *filter_text) {
    const struct ice_meta *m = plan->meta;
    struct ds_filter *filter = bind_filter(m, filter_text);
    struct ds_colstats *cs = hx_calloc(m->nfields + 1, sizeof *cs);
    uint8_t(*scratch)[16] = hx_calloc(m->nfields + 1, sizeof *scratch);
    struct hoist_get_item list_item;
    memset(&list_item, 0, sizeof list_item);
    struct manifest *manifests = NULL;
    size_t nmanifests = 0;
    struct hoist_get_item *items = NULL;
    hx_status st = HOIST_OK;
    if (!cs || !scratch) {
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        goto done;
    }
    list_item.url = m->manifest_list;
    list_item.length = -1;
    if ((st = fetch(store, &list_item, 1, plan)) != HOIST_OK) goto done;
    st =
        read_manifest_list(plan, list_item.data, list_item.size, m->manifest_list, filter, cs, &manifests, &nmanifests);
    if (st != HOIST_OK || nmanifests == 0) goto done;
    items = hx_calloc(nmanifests, sizeof *items);
    if (!items) {
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nmanifests; i++) {
        items[i].url = manifests[i].path;
        items[i].length = -1;
    }
    if ((st = fetch(store, items, nmanifests, plan)) != HOIST_OK) goto done;
    for (size_t i = 0; st == HOIST_OK && i < nmanifests; i++) {
        if (items[i].size > ICE_AVRO_MAX_BYTES)
            st = hx_error(HOIST_ERR_LIMIT, "%s: a manifest of %llu bytes is past hoist's limit", manifests[i].path,
                          (unsigned long long)items[i].size);
        else
            st = read_manifest(plan, &manifests[i], items[i].data, items[i].size, filter, cs, scratch);
    }
    if (st == HOIST_OK && plan->ndeletes) st = refuse_deletes(plan);
done:
    reset_items(items, nmanifests);
    hx_free(items);
    for (size_t i = 0; i < nmanifests; i++) hx_free(manifests[i].path);
    hx_free(manifests);
    hoist_store_get_item_reset(&list_item);
    hx_free(scratch);
    hx_free(cs);
    hx_ds_filter_free(filter);
    return st;
}

hx_status hoist_iceberg_plan_new(struct hoist_store *store, const char *metadata_url, const char *filter,
                                 int64_t snapshot_id, struct hoist_iceberg_plan **out) {
    if (!out) return hx_error(HOIST_ERR_INVALID_ARG, "hoist_iceberg_plan_new: out is NULL");
    *out = NULL;
    if (!store || !metadata_url || !*metadata_url)
        return hx_error(HOIST_ERR_INVALID_ARG, "hoist_iceberg_plan_new: a store and a metadata URL are needed");
    struct hoist_iceberg_plan *plan = hx_calloc(1, sizeof *plan);
    if (!plan) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    plan->stats.snapshot_id = -1;
    struct hoist_get_item item;
    memset(&item, 0, sizeof item);
    item.url = metadata_url;
    item.length = -1;
    hx_status st = fetch(store, &item, 1, plan);
    if (st == HOIST_OK && item.size > ICE_METADATA_MAX_BYTES)
        st = hx_error(HOIST_ERR_LIMIT, "%s: Iceberg metadata of %llu bytes is past hoist's limit", metadata_url,
                      (unsigned long long)item.size);
    if (st == HOIST_OK) st = hx_ice_meta_parse(item.data, item.size, metadata_url, snapshot_id, &plan->meta);
    hoist_store_get_item_reset(&item);
    if (st == HOIST_OK && plan->meta->has_snapshot) {
        plan->stats.snapshot_id = plan->meta->snapshot_id;
        st = plan_snapshot(plan, store, filter);
    }
    if (st != HOIST_OK) {
        hoist_iceberg_plan_free(plan);
        return st;
    }
    *out = plan;
    return HOIST_OK;
}
