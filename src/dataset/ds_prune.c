/*
 * ds_prune.c — planning what a load reads: the kept row groups ("units")
 * after pruning by partition values and row-group statistics, then, with a
 * page index, the rows and page byte ranges of each unit the filter may
 * match. Runs once, inside hoist_dataset_open.
 */
#include "ds_open_internal.h"

#include <string.h>

/* ---- row-group pruning ---------------------------------------------------------------- */

void hx_ds_part_stats(const struct ds_col *c, const char *value, int64_t rows, struct ds_colstats *s) {
    memset(s, 0, sizeof *s);
    s->known = true;
    s->has_null_count = true;
    s->num_values = rows;
    if (!value) {
        s->null_count = rows;
        return;
    }
    int64_t v = 0;
    if (c->ptype == DS_PT_STRING) {
        s->min.kind = DS_V_BYTES;
        s->min.b = (const uint8_t *)value;
        s->min.blen = strlen(value);
    } else {
        (void)hx_ds_parse_pvalue(value, c->ptype, &v);
        s->min.kind = DS_V_INT;
        s->min.i = v;
    }
    s->max = s->min;
    s->has_minmax = true;
}

bool hx_ds_file_may_match(const struct hoist_dataset *ds, const struct ds_file *f, struct ds_colstats *cs) {
    if (!ds->filter) return true;
    /* Before a file is read only its partition values are known. */
    for (size_t i = 0; i < ds->nneed; i++) {
        const struct ds_col *c = &ds->cols[ds->need[i]];
        if (c->partition)
            hx_ds_part_stats(c, f->pvalues[c->pidx], 1, &cs[i]);
        else
            memset(&cs[i], 0, sizeof cs[i]);
    }
    return hx_ds_filter_may_match(ds->filter, cs);
}

/* ---- candidates, before their footers ----------------------------------------------- */

static const char *const k_ptype_format[] = {"i", "l", "u", "tdD"};

/* The Hive keys the filter names, their type over all candidates (as
 * setup_partitions will infer it) and each candidate's values. */
struct prefilter {
    struct ds_kv **kvs;
    size_t *nkv;
    char **keys;
    size_t nkeys;
    const char **formats;
    struct ds_col *cols;
};

static const char *kv_value(const struct ds_kv *kv, size_t n, const char *key) {
    for (size_t k = 0; k < n; k++)
        if (!strcmp(kv[k].key, key)) return kv[k].value;
    return NULL;
}

/* Collects the filter's columns that are Hive keys of some candidate. False
 * (and nothing to prune by) when a key's values do not all parse as its
 * type: setup_partitions reports that once the footers are read. */
static hx_status prefilter_keys(const struct hoist_dataset *ds, const struct ds_filter *f, size_t n,
                                struct prefilter *p, bool *usable) {
    *usable = false;
    p->keys = hx_calloc(f->ncolumns ? f->ncolumns : 1, sizeof *p->keys);
    p->formats = hx_calloc(f->ncolumns ? f->ncolumns : 1, sizeof *p->formats);
    p->cols = hx_calloc(f->ncolumns ? f->ncolumns : 1, sizeof *p->cols);
    const char **vals = hx_calloc(n, sizeof *vals);
    hx_status st = p->keys && p->formats && p->cols && vals ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    bool ok = true;
    for (size_t c = 0; st == HOIST_OK && ok && c < f->ncolumns; c++) {
        bool present = false;
        for (size_t i = 0; i < n; i++) {
            vals[i] = kv_value(p->kvs[i], p->nkv[i], f->columns[c]);
            for (size_t k = 0; !present && k < p->nkv[i]; k++) present = !strcmp(p->kvs[i][k].key, f->columns[c]);
        }
        if (!present) continue;
        enum ds_ptype t = hx_ds_infer_ptype(vals, n);
        for (size_t o = 0; o < ds->cfg.nptypes; o++)
            if (!strcmp(ds->cfg.ptypes[o].column, f->columns[c])) t = ds->cfg.ptypes[o].type;
        for (size_t i = 0; ok && i < n; i++) {
            int64_t v;
            ok = !vals[i] || hx_ds_parse_pvalue(vals[i], t, &v);
        }
        if (!(p->keys[p->nkeys] = hx_strdup(f->columns[c]))) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        p->formats[p->nkeys] = k_ptype_format[t];
        p->cols[p->nkeys].ptype = t;
        p->nkeys++;
    }
    hx_free(vals);
    *usable = st == HOIST_OK && ok && p->nkeys > 0;
    return st;
}

hx_status hx_ds_partition_prefilter(const struct hoist_dataset *ds, const char *const *urls, size_t n, bool *keep,
                                    char ***keys, size_t *nkeys) {
    for (size_t i = 0; i < n; i++) keep[i] = true;
    *keys = NULL;
    *nkeys = 0;
    if (!ds->cfg.hive || !ds->cfg.filter || n < 2) return HOIST_OK;
    struct ds_filter *f = NULL;
    if (hx_ds_filter_parse(ds->cfg.filter, &f) != HOIST_OK) {
        hx_error_clear(); /* the open reports it, after the footers as always */
        return HOIST_OK;
    }
    struct prefilter p = {.kvs = hx_calloc(n, sizeof *p.kvs), .nkv = hx_calloc(n, sizeof *p.nkv)};
    hx_status st = p.kvs && p.nkv ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        size_t base_len = 0, nrgs = 0;
        int *rgs = NULL;
        char *base = NULL;
        st = hx_ds_parse_rg_selection(urls[i], &base_len, &rgs, &nrgs);
        hx_free(rgs);
        if (st == HOIST_OK && !(base = hx_strndup(urls[i], base_len))) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st == HOIST_OK) st = hx_ds_parse_hive(base, &p.kvs[i], &p.nkv[i]);
        hx_free(base);
    }
    bool usable = false;
    if (st == HOIST_OK) st = prefilter_keys(ds, f, n, &p, &usable);
    if (st == HOIST_OK && usable &&
        hx_ds_filter_bind_some(f, (const char *const *)p.keys, p.formats, p.nkeys) != HOIST_OK) {
        hx_error_clear(); /* a literal of another type: the open's bind reports it */
        usable = false;
    }
    struct ds_colstats *cs = usable ? hx_calloc(p.nkeys, sizeof *cs) : NULL;
    if (st == HOIST_OK && usable && !cs) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == HOIST_OK && usable && i < n; i++) {
        for (size_t k = 0; k < p.nkeys; k++)
            hx_ds_part_stats(&p.cols[k], kv_value(p.kvs[i], p.nkv[i], p.keys[k]), 1, &cs[k]);
        keep[i] = hx_ds_filter_may_match(f, cs);
    }
    hx_free(cs);
    for (size_t i = 0; p.kvs && p.nkv && i < n; i++) hx_ds_kv_free(p.kvs[i], p.nkv[i]);
    hx_free(p.kvs);
    hx_free(p.nkv);
    hx_free(p.formats);
    hx_free(p.cols);
    hx_ds_filter_free(f);
    if (st == HOIST_OK && usable) {
        *keys = p.keys;
        *nkeys = p.nkeys;
    } else {
        hx_ds_strv_free(p.keys, p.nkeys);
        for (size_t i = 0; i < n; i++) keep[i] = true;
    }
    return st;
}

/* An integer-valued range (ints of any sign, booleans as 0/1). */
static void set_int_range(struct ds_colstats *s, enum ds_vkind kind, __int128 lo, __int128 hi) {
    s->min.kind = s->max.kind = kind;
    s->min.i = lo;
    s->max.i = hi;
}

static void pq_to_colstats(const struct hoist_pq_stats *p, struct ds_colstats *s) {
    memset(s, 0, sizeof *s);
    s->known = true;
    s->has_null_count = p->has_null_count;
    s->null_count = p->null_count;
    s->num_values = p->num_values;
    s->has_minmax = true;
    switch (p->kind) {
    case HOIST_PQ_STAT_INT: set_int_range(s, DS_V_INT, p->min_i, p->max_i); break;
    case HOIST_PQ_STAT_UINT: set_int_range(s, DS_V_INT, p->min_u, p->max_u); break;
    case HOIST_PQ_STAT_DOUBLE:
        s->min.kind = s->max.kind = DS_V_DOUBLE;
        s->min.d = p->min_d;
        s->max.d = p->max_d;
        break;
    case HOIST_PQ_STAT_BYTES:
        s->min.kind = s->max.kind = DS_V_BYTES;
        s->min.b = p->min_b;
        s->min.blen = p->min_b_len;
        s->max.b = p->max_b;
        s->max.blen = p->max_b_len;
        break;
    case HOIST_PQ_STAT_BOOL: set_int_range(s, DS_V_BOOL, p->min_i, p->max_i); break;
    case HOIST_PQ_STAT_DECIMAL:
        s->min.kind = s->max.kind = DS_V_DECIMAL;
        if (p->min_b) {
            hx_ds_decimal_from_be(p->min_b, p->min_b_len, s->min.dec);
            hx_ds_decimal_from_be(p->max_b, p->max_b_len, s->max.dec);
        } else {
            hx_ds_decimal_from_i64(p->min_i, s->min.dec);
            hx_ds_decimal_from_i64(p->max_i, s->max.dec);
        }
        break;
    default: s->has_minmax = false;
    }
    /* num_values may be unknown (0) in old writers; null counts then can't
     * prove "all null". */
    if (s->num_values <= 0) s->has_null_count = false;
}

/* What the row group's statistics say of each needed column. */
static void rg_colstats(const struct hoist_dataset *ds, const struct ds_file *f, int g, int64_t rows,
                        struct ds_colstats *cs) {
    for (size_t i = 0; i < ds->nneed; i++) {
        const struct ds_col *c = &ds->cols[ds->need[i]];
        struct hoist_pq_stats ps;
        if (c->partition) {
            hx_ds_part_stats(c, f->pvalues[c->pidx], rows, &cs[i]);
        } else if (f->field[i] < 0) {
            memset(&cs[i], 0, sizeof cs[i]);
            cs[i].known = cs[i].has_null_count = true;
            cs[i].null_count = cs[i].num_values = rows;
        } else if (hoist_pq_file_field_stats(f->pq, g, f->field[i], &ps) == HOIST_OK) {
            pq_to_colstats(&ps, &cs[i]);
        } else {
            hx_error_clear();
            memset(&cs[i], 0, sizeof cs[i]);
        }
    }
}

hx_status hx_ds_plan_units(struct hoist_dataset *ds) {
    size_t cap = 0;
    struct ds_colstats *cs = hx_calloc(ds->nneed + 1, sizeof *cs);
    if (!cs) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    hx_status st = HOIST_OK;
    for (size_t fi = 0; st == HOIST_OK && fi < ds->nfiles; fi++) {
        struct ds_file *f = &ds->files[fi];
        int nrg = hoist_pq_file_num_row_groups(f->pq);
        f->rg_first_row = hx_calloc((size_t)nrg + 1, sizeof *f->rg_first_row);
        if (!f->rg_first_row) {
            st = hx_error(HOIST_ERR_NOMEM, "out of memory");
            break;
        }
        for (int g = 0; g < nrg; g++)
            f->rg_first_row[g + 1] = f->rg_first_row[g] + hoist_pq_file_row_group_num_rows(f->pq, g);
        size_t nsel = f->rg_sel ? f->nrg_sel : (size_t)nrg;
        ds->stats.row_groups += nsel;
        if (!hx_ds_file_may_match(ds, f, cs)) {
            ds->stats.row_groups_pruned += nsel;
            continue;
        }
        for (size_t si = 0; si < nsel; si++) {
            int g = f->rg_sel ? f->rg_sel[si] : (int)si;
            int64_t rows = hoist_pq_file_row_group_num_rows(f->pq, g);
            if (ds->filter) {
                rg_colstats(ds, f, g, rows, cs);
                if (!hx_ds_filter_may_match(ds->filter, cs)) {
                    ds->stats.row_groups_pruned++;
                    continue;
                }
            }
            uint64_t bytes = 0;
            for (size_t i = 0; i < ds->nneed; i++) {
                if (f->field[i] < 0) continue;
                uint64_t off, len;
                st = hoist_pq_file_field_range(f->pq, g, f->field[i], &off, &len);
                if (st != HOIST_OK) break;
                if (off + len > f->size || off + len < off) {
                    st = hx_error(
                        HOIST_ERR_PARQUET_CORRUPT,
                        "%s: row group %d, column '%s': chunk [%llu, +%llu) is past the end of the file (%llu bytes)",
                        f->url, g, ds->cols[ds->need[i]].name, (unsigned long long)off, (unsigned long long)len,
                        (unsigned long long)f->size);
                    break;
                }
                bytes += len;
            }
            if (st != HOIST_OK) break;
            if (ds->nunits == cap) {
                cap = cap ? cap * 2 : 256;
                struct ds_unit *nu = hx_realloc(ds->units, cap * sizeof *nu);
                if (!nu) {
                    st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                    break;
                }
                ds->units = nu;
            }
            ds->units[ds->nunits++] = (struct ds_unit){.file = fi, .rg = g, .bytes = bytes, .rows = rows};
        }
    }
    hx_free(cs);
    return st;
}

/* ---- page skipping ------------------------------------------------------------------
 * After row-group pruning, a file whose footer lists a page index gets it
 * read (usually already held from the footer GET) and each kept row group
 * is narrowed to the rows whose pages may match the filter. A row group
 * where none may is pruned; one where all may is loaded whole, as without
 * an index; the rest fetch only the pages of the selected rows. */

struct page_col {
    size_t need; /* index into ds->need */
    const struct hoist_pq_page *pages;
    size_t npages;
    size_t cur;
};

/* True for needed columns the filter reads. */
static bool *filter_columns(const struct hoist_dataset *ds) {
    bool *fc = hx_calloc(ds->nneed + 1, sizeof *fc);
    if (!fc) return NULL;
    for (size_t k = 0; k < ds->filter->ncolumns; k++)
        for (size_t i = 0; i < ds->nneed; i++)
            if (!strcmp(ds->cols[ds->need[i]].name, ds->filter->columns[k])) fc[i] = true;
    return fc;
}

/* The pages of needed column i in a row group, checked to tile its rows in
 * order (a segment must map to exactly one page). *np = 0 when the column
 * cannot say anything page by page (nested, no OffsetIndex). */
static hx_status column_pages(const struct hoist_dataset *ds, const struct ds_file *f, int g, size_t i, int64_t rows,
                              const struct hoist_pq_page **pages, size_t *np) {
    *pages = NULL;
    *np = 0;
    hx_status st = hoist_pq_page_index_pages(f->pi, g, f->field[i], pages, np);
    if (st == HOIST_ERR_INVALID_ARG) { /* nested: its chunk statistics still apply */
        hx_error_clear();
        *np = 0;
        return HOIST_OK;
    }
    HX_TRY(st);
    for (size_t k = 0; k < *np; k++) {
        int64_t first = (*pages)[k].first_row;
        bool ok = k == 0 ? first == 0 : first > (*pages)[k - 1].first_row;
        if (!ok || first >= rows)
            return hx_error(HOIST_ERR_PARQUET_CORRUPT,
                            "%s: row group %d, column '%s': page index lists page %zu at row %lld (the row group has "
                            "%lld rows)",
                            f->url, g, ds->cols[ds->need[i]].name, k, (long long)first, (long long)rows);
    }
    return HOIST_OK;
}

static int64_t page_end(const struct hoist_pq_page *p, size_t np, size_t k, int64_t rows) {
    return k + 1 < np ? p[k + 1].first_row : rows;
}

/* Pages of the row group's loaded flat columns that hold none of the selected rows. */
static hx_status count_skipped_pages(const struct hoist_dataset *ds, const struct ds_file *f, int g, int64_t rows,
                                     const struct hoist_pq_row_range *sel, size_t nsel, uint64_t *out) {
    *out = 0;
    for (size_t i = 0; i < ds->nneed; i++) {
        if (f->field[i] < 0) continue;
        const struct hoist_pq_page *p;
        size_t np;
        HX_TRY(column_pages(ds, f, g, i, rows, &p, &np));
        size_t r = 0;
        for (size_t k = 0; k < np; k++) {
            int64_t b = p[k].first_row, e = page_end(p, np, k, rows);
            while (r < nsel && sel[r].first + sel[r].count <= b) r++;
            if (r == nsel || sel[r].first >= e) (*out)++;
        }
    }
    return HOIST_OK;
}

/* The byte ranges of every loaded column needed for the selected rows,
 * coalesced as whole chunks are. */
static hx_status selection_ranges(const struct hoist_dataset *ds, const struct ds_file *f, struct ds_unit *u) {
    struct hoist_pq_byte_range *br = NULL;
    size_t n = 0, cap = 0;
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < ds->nneed && st == HOIST_OK; i++) {
        if (f->field[i] < 0) continue;
        /* nested: the whole chunk (see column_is_nested) */
        const bool whole = hx_ds_column_is_nested(ds, i);
        size_t need = 1;
        if (!whole) st = hoist_pq_page_index_field_ranges(f->pi, u->rg, f->field[i], u->sel, u->nsel, NULL, 0, &need);
        if (st != HOIST_OK) break;
        if (n + need > cap) {
            size_t nc = (n + need) * 2;
            struct hoist_pq_byte_range *nb = hx_realloc(br, nc * sizeof *nb);
            if (!nb) {
                st = hx_error(HOIST_ERR_NOMEM, "out of memory");
                break;
            }
            br = nb;
            cap = nc;
        }
        size_t got = 1;
        if (whole)
            st = hoist_pq_file_field_range(f->pq, u->rg, f->field[i], &br[n].offset, &br[n].length);
        else
            st = hoist_pq_page_index_field_ranges(f->pi, u->rg, f->field[i], u->sel, u->nsel, br + n, need, &got);
        if (st == HOIST_OK && got > need)
            st = hx_error(HOIST_ERR_INTERNAL, "%s: page ranges of column '%s' changed size", f->url,
                          ds->cols[ds->need[i]].name);
        for (size_t k = n; st == HOIST_OK && k < n + got; k++)
            if (br[k].offset + br[k].length > f->size || br[k].offset + br[k].length < br[k].offset)
                st = hx_error(HOIST_ERR_PARQUET_CORRUPT,
                              "%s: row group %d, column '%s': page index points at [%llu, +%llu), past the end of "
                              "the file (%llu bytes)",
                              f->url, u->rg, ds->cols[ds->need[i]].name, (unsigned long long)br[k].offset,
                              (unsigned long long)br[k].length, (unsigned long long)f->size);
        n += got;
    }
    struct ds_range *r = st == HOIST_OK ? hx_calloc(n + 1, sizeof *r) : NULL;
    if (st == HOIST_OK && !r) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (st == HOIST_OK) {
        size_t m = 0;
        for (size_t k = 0; k < n; k++)
            if (br[k].length) r[m++] = (struct ds_range){br[k].offset, br[k].length};
        u->nranges = hx_ds_coalesce(r, m, DS_MAX_GAP);
        u->ranges = r;
        u->bytes = 0;
        for (size_t k = 0; k < u->nranges; k++) u->bytes += r[k].length;
    }
    hx_free(br);
    return st;
}

/* Narrows one kept row group by the page index. *drop = true when no row
 * may match. */
static hx_status select_rows(struct hoist_dataset *ds, struct ds_unit *u, const bool *fcol, struct ds_colstats *cs,
                             bool *drop) {
    const struct ds_file *f = &ds->files[u->file];
    int g = u->rg;
    int64_t rows = u->rows;
    *drop = false;
    struct page_col *pc = hx_calloc(ds->nneed + 1, sizeof *pc);
    if (!pc) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    size_t npc = 0, nstarts = 0;
    hx_status st = HOIST_OK;
    for (size_t i = 0; i < ds->nneed && st == HOIST_OK; i++) {
        if (!fcol[i] || f->field[i] < 0) continue;
        const struct hoist_pq_page *p;
        size_t np;
        st = column_pages(ds, f, g, i, rows, &p, &np);
        if (st == HOIST_OK && np) {
            pc[npc++] = (struct page_col){i, p, np, 0};
            nstarts += np;
        }
    }
    int64_t *starts = NULL;
    struct hoist_pq_row_range *sel = NULL;
    size_t nsel = 0, scap = 0;
    int64_t selected = 0;
    if (st != HOIST_OK || npc == 0) goto done;
    if (!(starts = hx_malloc((nstarts + 1) * sizeof *starts))) {
        st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        goto done;
    }
    nstarts = 0;
    for (size_t c = 0; c < npc; c++)
        for (size_t k = 0; k < pc[c].npages; k++) starts[nstarts++] = pc[c].pages[k].first_row;
    size_t nseg = hx_ds_segment_starts(starts, nstarts, rows);
    /* Columns without page statistics keep what the row group says. */
    rg_colstats(ds, f, g, rows, cs);
    for (size_t sg = 0; sg < nseg && st == HOIST_OK; sg++) {
        int64_t b = starts[sg], e = sg + 1 < nseg ? starts[sg + 1] : rows;
        for (size_t c = 0; c < npc; c++) {
            struct page_col *q = &pc[c];
            while (q->cur + 1 < q->npages && q->pages[q->cur + 1].first_row <= b) q->cur++;
            const struct hoist_pq_page *p = &q->pages[q->cur];
            int64_t prows = page_end(q->pages, q->npages, q->cur, rows) - p->first_row;
            struct ds_colstats *s = &cs[q->need];
            if (p->null_page) {
                memset(s, 0, sizeof *s);
                s->known = s->has_null_count = true;
                s->null_count = s->num_values = prows;
            } else {
                /* A flat column has one value (or null) per row. */
                struct hoist_pq_stats ps = p->stats;
                ps.num_values = prows;
                pq_to_colstats(&ps, s);
            }
        }
        if (hx_ds_filter_may_match(ds->filter, cs)) {
            st = hx_ds_row_ranges_add(&sel, &nsel, &scap, b, e - b);
            selected += e - b;
        }
    }
    if (st != HOIST_OK || selected == rows) goto done;
    uint64_t skipped_pages = 0;
    st = count_skipped_pages(ds, f, g, rows, sel, nsel, &skipped_pages);
    if (st != HOIST_OK) goto done;
    ds->stats.pages_skipped += skipped_pages;
    ds->stats.rows_skipped_by_page_index += rows - selected;
    if (selected == 0) {
        *drop = true;
        goto done;
    }
    u->sel = sel;
    u->nsel = nsel;
    u->rows = selected;
    sel = NULL;
    st = selection_ranges(ds, f, u);
done:
    hx_free(sel);
    hx_free(starts);
    hx_free(pc);
    return st;
}

/* A file found bad while planning (skip_bad): reported, its row groups left out. */
static void drop_file(struct hoist_dataset *ds, size_t fi, bool *dropped) {
    hx_ds_note_skipped(ds, ds->files[fi].url, hoist_errmsg());
    dropped[fi] = true;
    ds->files_dropped++;
    ds->stats.dataset_bytes -= ds->files[fi].size;
}

/* Reads and parses the page indexes of the files marked in want[]: one
 * range GET per file whose footer read did not already cover it, all at
 * once per chunk of files. */
static hx_status load_page_indexes(struct hoist_dataset *ds, bool *want, bool *dropped) {
    for (size_t c0 = 0; c0 < ds->nfiles; c0 += DS_FOOTER_CHUNK) {
        size_t c1 = ds->nfiles - c0 < DS_FOOTER_CHUNK ? ds->nfiles : c0 + DS_FOOTER_CHUNK;
        struct hoist_get_item *it = hx_calloc(c1 - c0, sizeof *it);
        size_t *owner = hx_calloc(c1 - c0, sizeof *owner);
        size_t *item_of = hx_calloc(c1 - c0, sizeof *item_of);
        size_t n = 0;
        hx_status st = (!it || !owner || !item_of) ? hx_error(HOIST_ERR_NOMEM, "out of memory") : HOIST_OK;
        for (size_t fi = c0; st == HOIST_OK && fi < c1; fi++) {
            item_of[fi - c0] = SIZE_MAX;
            struct ds_file *f = &ds->files[fi];
            if (!want[fi] || f->pi_bytes) continue;
            uint64_t off, len;
            st = hoist_pq_file_page_index_range(f->pq, &off, &len);
            if (st == HOIST_OK && (off + len > f->size || off + len < off || len > SIZE_MAX))
                st = hx_error(HOIST_ERR_PARQUET_CORRUPT,
                              "%s: page index at [%llu, +%llu) is past the end of the file (%llu bytes)", f->url,
                              (unsigned long long)off, (unsigned long long)len, (unsigned long long)f->size);
            if (st != HOIST_OK) {
                if (!ds->cfg.skip_bad || st == HOIST_ERR_NOMEM) break;
                drop_file(ds, fi, dropped);
                st = HOIST_OK;
                continue;
            }
            it[n] = (struct hoist_get_item){
                .url = f->url, .offset = (int64_t)off, .length = (int64_t)len, .dest = HOIST_DEST_ALLOC};
            owner[n] = fi;
            item_of[fi - c0] = n++;
        }
        if (st == HOIST_OK && n) {
            st = hoist_store_get_many(ds->store, it, n, 0, NULL, NULL);
            for (size_t k = 0; k < n; k++) {
                ds->stats.bytes_fetched += it[k].size;
                ds->stats.requests++;
            }
            for (size_t j = 0; st == HOIST_OK && j < n; j++)
                if (it[j].status != HOIST_OK)
                    st = hx_error(it[j].status, "%s: %s", it[j].url,
                                  it[j].error ? it[j].error : hoist_strerror(it[j].status));
            if (st != HOIST_OK) st = hx_error_prefix(st, "reading page indexes");
        }
        for (size_t fi = c0; st == HOIST_OK && fi < c1; fi++) {
            struct ds_file *f = &ds->files[fi];
            if (!want[fi] || dropped[fi]) continue;
            const void *bytes = f->pi_bytes;
            uint64_t off = f->pi_offset;
            size_t len = f->pi_len;
            if (!bytes) {
                const struct hoist_get_item *g = &it[item_of[fi - c0]];
                bytes = g->data;
                off = g->range_start;
                len = g->size;
            }
            st = hoist_pq_page_index_new(f->pq, bytes, off, len, &f->pi);
            if (st != HOIST_OK) {
                f->pi = NULL;
                st = hx_error_prefix(st, "reading the page index");
                if (ds->cfg.skip_bad && st != HOIST_ERR_NOMEM) {
                    drop_file(ds, fi, dropped);
                    st = HOIST_OK;
                }
            }
            hx_free(f->pi_bytes);
            f->pi_bytes = NULL;
        }
        for (size_t k = 0; it && k < n; k++) hoist_store_get_item_reset(&it[k]);
        hx_free(it);
        hx_free(owner);
        hx_free(item_of);
        HX_TRY(st);
    }
    return HOIST_OK;
}

static void drop_page_index_bytes(struct hoist_dataset *ds) {
    for (size_t fi = 0; fi < ds->nfiles; fi++) {
        hx_free(ds->files[fi].pi_bytes);
        ds->files[fi].pi_bytes = NULL;
    }
    ds->pi_kept_bytes = 0;
}

hx_status hx_ds_page_prune(struct hoist_dataset *ds) {
    if (!ds->filter || ds->no_page_index || ds->nunits == 0) {
        drop_page_index_bytes(ds);
        return HOIST_OK;
    }
    bool *fcol = filter_columns(ds);
    bool *want = hx_calloc(ds->nfiles + 1, sizeof *want);
    bool *dropped = hx_calloc(ds->nfiles + 1, sizeof *dropped);
    struct ds_colstats *cs = hx_calloc(ds->nneed + 1, sizeof *cs);
    hx_status st = (!fcol || !want || !dropped || !cs) ? hx_error(HOIST_ERR_NOMEM, "out of memory") : HOIST_OK;
    /* Only files with kept row groups and a filter column of their own. */
    for (size_t ui = 0; st == HOIST_OK && ui < ds->nunits; ui++) {
        size_t fi = ds->units[ui].file;
        const struct ds_file *f = &ds->files[fi];
        if (want[fi]) continue;
        uint64_t off = 0, len = 0;
        bool reads = false;
        for (size_t i = 0; i < ds->nneed; i++) reads |= fcol[i] && f->field[i] >= 0;
        if (reads && hoist_pq_file_page_index_range(f->pq, &off, &len) != HOIST_OK) hx_error_clear();
        want[fi] = reads && len > 0;
    }
    if (st == HOIST_OK) st = load_page_indexes(ds, want, dropped);
    size_t k = 0;
    for (size_t ui = 0; st == HOIST_OK && ui < ds->nunits; ui++) {
        struct ds_unit *u = &ds->units[ui];
        struct ds_file *f = &ds->files[u->file];
        bool drop = dropped[u->file];
        if (!drop && f->pi) {
            st = select_rows(ds, u, fcol, cs, &drop);
            if (st != HOIST_OK && ds->cfg.skip_bad && hx_ds_status_is_bad_file(st)) {
                drop_file(ds, u->file, dropped);
                drop = true;
                st = HOIST_OK;
            }
            if (drop && !dropped[u->file]) ds->stats.row_groups_pruned++;
        }
        /* Moved-from and dropped entries are cleared so that, should a
         * later unit fail, the array still owns each selection once. */
        if (drop) {
            hx_free(u->sel);
            hx_free(u->ranges);
            u->sel = NULL;
            u->ranges = NULL;
            continue;
        }
        if (k != ui) {
            ds->units[k] = *u;
            u->sel = NULL;
            u->ranges = NULL;
        }
        k++;
    }
    if (st == HOIST_OK) ds->nunits = k;
    if (st == HOIST_OK) {
        /* Units of a file dropped after some of its units were kept. */
        size_t m = 0;
        for (size_t ui = 0; ui < k; ui++) {
            if (dropped[ds->units[ui].file]) {
                hx_free(ds->units[ui].sel);
                hx_free(ds->units[ui].ranges);
                continue;
            }
            ds->units[m++] = ds->units[ui];
        }
        ds->nunits = m;
    }
    drop_page_index_bytes(ds);
    hx_free(fcol);
    hx_free(want);
    hx_free(dropped);
    hx_free(cs);
    return st;
}
