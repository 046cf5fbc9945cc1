/*
 * ds_csv_dataset.c — opening a CSV dataset: the first file's head settles
 * the dialect (delimiter, header) and the columns with their types, as
 * pyarrow.dataset does with its first fragment; every file then shares that
 * schema (the scan reads each with those types set, so a value that does
 * not fit fails naming its file, line and column). One unit per file;
 * files whose Hive partition values the filter rules out are pruned.
 */
#include "ds_csv_internal.h"
#include "file_map.h"

#include <string.h>

/* Text of the first file the schema is inferred from: the streaming
 * reader's first piece is at least this much too, so a dataset of one file
 * and hoist_csv_read_url on a compressed file or an object agree. */
#define HEAD_TEXT ((size_t)4 << 20)
/* Raw bytes fetched for it: compressed text expands, so more than the text
 * may be needed; a second, larger read follows only when it is not enough. */
#define HEAD_RAW ((uint64_t)4 << 20)

static bool ends_with(const char *s, size_t n, const char *suffix) {
    size_t m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool hx_ds_csv_looks_like_file(const char *url) {
    size_t n = strlen(url);
    static const char *const comp[] = {".gz", ".gzip", ".zst", ".zstd", ".bz2"};
    for (size_t i = 0; i < sizeof comp / sizeof comp[0]; i++)
        if (ends_with(url, n, comp[i])) {
            n -= strlen(comp[i]);
            break;
        }
    return ends_with(url, n, ".csv") || ends_with(url, n, ".tsv") || ends_with(url, n, ".txt") ||
           ends_with(url, n, ".psv");
}

/* ---- config ----------------------------------------------------------------- */

hx_status hoist_dataset_config_set_format(struct hoist_dataset_config *c, int format) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_format: NULL config");
    HX_FAIL_IF(format != HOIST_DATASET_PARQUET && format != HOIST_DATASET_CSV, HOIST_ERR_INVALID_ARG,
               "set_format: unknown format %d", format);
    c->format = format;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_dataset_config_set_csv_options(struct hoist_dataset_config *c, const struct hoist_csv_options *opts) {
    HX_FAIL_IF(!c, HOIST_ERR_INVALID_ARG, "set_csv_options: NULL config");
    struct hoist_csv_options *copy = NULL;
    if (opts) {
        HX_TRY(hx_csv_options_clone(opts, &copy));
        /* the dataset's columns are set_columns' business */
        hx_status st = hoist_csv_options_set_strings(copy, HOIST_CSV_COLUMNS, NULL, 0);
        if (st != HOIST_OK) {
            hoist_csv_options_free(copy);
            return st;
        }
    }
    hoist_csv_options_free(c->csv);
    c->csv = copy;
    hx_error_clear();
    return HOIST_OK;
}

/* ---- the head of the first file --------------------------------------------- */

struct head {
    struct hx_buf text;
    bool full;
};

/* Collects text up to HEAD_TEXT, then stops the sink (CANCELLED, which the
 * caller expects) so a large compressed file is not inflated whole. */
static hx_status head_emit(void *ud, const uint8_t *text, size_t n) {
    struct head *h = ud;
    size_t room = HEAD_TEXT - h->text.len;
    if (n > room) n = room;
    if (n) HX_TRY(hx_buf_append(&h->text, text, n));
    if (h->text.len >= HEAD_TEXT) {
        h->full = true;
        return HOIST_ERR_CANCELLED;
    }
    return HOIST_OK;
}

/* Pushes raw bytes (all of the file when whole) through a sink into h;
 * *final tells whether h holds all of the file's text. */
static hx_status head_from_raw(const char *url, const uint8_t *raw, size_t n, bool whole, struct head *h, bool *final) {
    struct hx_ds_sink s = {.emit = head_emit, .ud = h, .name = url};
    hx_status st = hx_ds_sink_push(&s, raw, n);
    if (st == HOIST_ERR_CANCELLED && h->full) {
        hx_error_clear();
        st = HOIST_OK;
    } else if (st == HOIST_OK && whole) {
        st = hx_ds_sink_end(&s);
    }
    hx_ds_sink_free(&s);
    *final = st == HOIST_OK && whole && !h->full;
    return st;
}

static hx_status read_head(struct hoist_dataset *ds, const struct hx_ds_cand *c, struct head *h, bool *final,
                           uint64_t *size) {
    hx_buf_init(&h->text);
    h->full = false;
    if (hx_ds_csv_is_local(c->url)) {
        struct hx_file_map map;
        HX_TRY(hx_file_map_open(strncmp(c->url, "file://", 7) ? c->url : c->url + 7, &map));
        *size = map.size;
        hx_status st = head_from_raw(c->url, map.data, map.size, true, h, final);
        hx_file_map_close(&map);
        return st;
    }
    for (uint64_t want = HEAD_RAW;; want *= 4) {
        struct hoist_get_item g = {.url = c->url, .offset = 0, .length = (int64_t)want, .dest = HOIST_DEST_ALLOC};
        hx_status st = hoist_store_get_many(ds->store, &g, 1, 0, NULL, NULL);
        ds->stats.requests++;
        ds->stats.bytes_fetched += g.size;
        if (st != HOIST_OK) {
            st = hx_error(g.status ? g.status : st, "%s", g.error ? g.error : hoist_errmsg());
            hoist_store_get_item_reset(&g);
            return st;
        }
        *size = g.info.size ? g.info.size : g.size;
        bool whole = g.size >= *size;
        hx_buf_reset(&h->text);
        hx_buf_init(&h->text);
        h->full = false;
        st = head_from_raw(c->url, g.data, (size_t)g.size, whole, h, final);
        hoist_store_get_item_reset(&g);
        /* a compressed head cut inside its first rows: read more of it */
        if (st != HOIST_OK || whole || h->full || h->text.len >= HEAD_TEXT / 4 || want >= ((uint64_t)256 << 20))
            return st;
    }
}

/* ---- files ------------------------------------------------------------------ */

hx_status hx_ds_csv_open_files(struct hoist_dataset *ds, const struct hx_ds_cand *c, size_t n) {
    if (n == 0) return hx_error(HOIST_ERR_EMPTY_DATASET, "no CSV files");
    ds->files = hx_calloc(n, sizeof *ds->files);
    if (!ds->files) return hx_error(HOIST_ERR_NOMEM, "out of memory");
    struct head h;
    bool final = false;
    uint64_t size0 = 0;
    hx_status st = read_head(ds, &c[0], &h, &final, &size0);
    struct ArrowSchema schema = {0};
    int delim = ',';
    bool header = true;
    if (st == HOIST_OK)
        st = hx_csv_infer_head(h.text.data, h.text.len, final, c[0].url, ds->cfg.csv, &schema, &delim, &header);
    hx_buf_reset(&h.text);
    if (st != HOIST_OK) return hx_error_prefix(st, "reading the schema of the CSV dataset");
    ds->csv_delimiter = delim;
    ds->csv_header = header;
    for (size_t i = 0; st == HOIST_OK && i < n; i++) {
        struct ds_file *f = &ds->files[ds->nfiles];
        st = hx_ds_parse_rg_selection(c[i].url, &(size_t){0}, &f->rg_sel, &f->nrg_sel);
        if (st == HOIST_OK && f->rg_sel) {
            st = hx_error(HOIST_ERR_BAD_URL, "%s: a CSV file has no row groups to select", c[i].url);
            hx_free(f->rg_sel);
            f->rg_sel = NULL;
        }
        if (st != HOIST_OK) break;
        if (!(f->url = hx_strdup(c[i].url))) st = hx_error(HOIST_ERR_NOMEM, "out of memory");
        if (st == HOIST_OK) st = hx_arrow_schema_copy(&schema, &f->schema);
        if (st != HOIST_OK) {
            hx_free(f->url);
            f->url = NULL;
            break;
        }
        f->size = i == 0 ? size0 : c[i].size;
        f->hash = hx_ds_hash_str(f->url, strlen(f->url));
        ds->stats.dataset_bytes += f->size;
        ds->nfiles++;
    }
    schema.release(&schema);
    return st;
}

/* ---- plan ------------------------------------------------------------------- */

hx_status hx_ds_csv_plan_units(struct hoist_dataset *ds) {
    ds->units = hx_calloc(ds->nfiles + 1, sizeof *ds->units);
    struct ds_colstats *cs = hx_calloc(ds->nneed + 1, sizeof *cs);
    if (!ds->units || !cs) {
        hx_free(cs);
        return hx_error(HOIST_ERR_NOMEM, "out of memory");
    }
    for (size_t fi = 0; fi < ds->nfiles; fi++) {
        const struct ds_file *f = &ds->files[fi];
        ds->stats.row_groups++;
        if (!hx_ds_file_may_match(ds, f, cs)) {
            ds->stats.row_groups_pruned++;
            continue;
        }
        ds->units[ds->nunits++] = (struct ds_unit){.file = fi, .rg = -1, .bytes = f->size, .rows = -1};
    }
    hx_free(cs);
    return HOIST_OK;
}
