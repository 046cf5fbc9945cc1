/* The CSV reader's first steps: a job — the input in memory (one shot) or
 * what the streaming reader has buffered — starts by settling the dialect,
 * the header and the column names on the first bytes (sniffing what was not
 * given) and mapping the projected columns and set types; the chunks are
 * then csv_pipeline.c's. */
#include "csv_internal.h"

#include <stdio.h>
#include <string.h>

#define MiB ((size_t)1 << 20)
#define HEAD_SAMPLE_ROWS 1000
#define SNIFF_BYTES (256 * 1024)

const char *hx_csv_reader_name(const struct hoist_csv_reader *rd) { return rd->name ? rd->name : "CSV"; }

/* ---- dialect, header and columns ----------------------------------------- */

static bool field_value(const struct hoist_csv_reader *rd, const uint8_t *base, struct hx_csv_field f,
                        struct hx_buf *tmp, const uint8_t **s, size_t *n) {
    return hx_csv_field_value(&rd->d, base, f, tmp, s, n);
}

/* DuckDB's rule: a first row is a header when a typed column's first value
 * does not have the column's type; with only text columns, when its values
 * are non-empty, distinct and not numbers or dates. */
static hx_status sniff_header(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final,
                              const struct hx_csv_field *row0, size_t nf, size_t p, bool *header) {
    unsigned *masks = hx_malloc(nf * sizeof *masks);
    struct hx_csv_field *tmpf = hx_malloc(nf * sizeof *tmpf);
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    hx_status st = HOIST_OK;
    if (!masks || !tmpf) {
        st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", hx_csv_reader_name(rd));
        goto out;
    }
    for (size_t c = 0; c < nf; c++) masks[c] = 0;
    size_t start = p;
    for (int rows = 0; rows < HEAD_SAMPLE_ROWS && p - start < MiB; rows++) {
        p = hx_csv_skip_lines(&rd->d, data, len, p, final);
        if (p >= len) break;
        size_t n, next;
        if (hx_csv_lex_row(&rd->d, data, len, p, final, p, NULL, nf, tmpf, &n, &next) != HX_ROW_OK) break;
        for (size_t c = 0; n == nf && c < nf; c++) {
            const uint8_t *s;
            size_t sl;
            if (!field_value(rd, data + p, tmpf[c], &tmp, &s, &sl)) {
                st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", hx_csv_reader_name(rd));
                goto out;
            }
            if (hx_csv_words_has(&rd->nulls, s, sl)) continue;
            unsigned m = hx_csv_value_types(&rd->trues, &rd->falses, s, sl) | 1u; /* bit 0: seen */
            masks[c] = masks[c] ? masks[c] & m : m;
        }
        p = next;
    }
    bool typed = false;
    *header = false;
    const unsigned typed_bits = ~(1u | 1u << HX_CSV_STRING);
    for (size_t c = 0; c < nf; c++) {
        enum hx_csv_type best = hx_csv_mask_best(masks[c] & ~1u);
        if (!masks[c] || best == HX_CSV_STRING) continue;
        typed = true;
        const uint8_t *s;
        size_t sl;
        if (!field_value(rd, data, row0[c], &tmp, &s, &sl)) {
            st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", hx_csv_reader_name(rd));
            goto out;
        }
        if (!hx_csv_words_has(&rd->nulls, s, sl) &&
            !(hx_csv_value_types(&rd->trues, &rd->falses, s, sl) & (1u << best)))
            *header = true;
    }
    if (!typed) {
        *header = true;
        for (size_t c = 0; c < nf && *header; c++) {
            const uint8_t *s;
            size_t sl;
            struct hx_buf one;
            hx_buf_init(&one);
            if (!field_value(rd, data, row0[c], &one, &s, &sl)) {
                st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", hx_csv_reader_name(rd));
                goto out;
            }
            if (sl == 0 || (hx_csv_value_types(&rd->trues, &rd->falses, s, sl) & typed_bits & ~(1u << HX_CSV_BOOL)))
                *header = false;
            for (size_t k = 0; k < c && *header; k++) {
                const uint8_t *s2;
                size_t sl2;
                if (!field_value(rd, data, row0[k], &tmp, &s2, &sl2)) {
                    hx_buf_reset(&one);
                    st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory sniffing the header", hx_csv_reader_name(rd));
                    goto out;
                }
                if (sl2 == sl && memcmp(s, s2, sl) == 0) *header = false;
            }
            hx_buf_reset(&one);
        }
    }
out:
    hx_free(masks);
    hx_free(tmpf);
    hx_buf_reset(&tmp);
    return st;
}

static hx_status set_names(struct hoist_csv_reader *rd, const uint8_t *data, const struct hx_csv_field *row0,
                           bool header) {
    rd->names = hx_calloc(rd->ncols ? rd->ncols : 1, sizeof *rd->names);
    if (!rd->names) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
    struct hx_buf tmp;
    hx_buf_init(&tmp);
    for (size_t c = 0; c < rd->ncols; c++) {
        if (rd->opts.column_names.set) {
            rd->names[c] = hx_strdup(rd->opts.column_names.v[c]);
        } else if (header) {
            const uint8_t *s;
            size_t sl;
            if (!field_value(rd, data, row0[c], &tmp, &s, &sl)) break;
            if (!hx_csv_utf8_valid(s, sl)) {
                hx_buf_reset(&tmp);
                HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu, column %zu: the header name is not valid UTF-8",
                        hx_csv_reader_name(rd), (unsigned long long)(rd->base_line + hx_csv_line_of(data, 0)), c + 1);
            }
            rd->names[c] = hx_strndup((const char *)s, sl);
        } else {
            rd->names[c] = hx_asprintf("f%zu", c);
        }
        if (!rd->names[c]) break;
    }
    hx_buf_reset(&tmp);
    for (size_t c = 0; c < rd->ncols; c++)
        if (!rd->names[c]) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
    return HOIST_OK;
}

static hx_status lex_fail_status(const struct hoist_csv_reader *rd, const uint8_t *data, size_t pos,
                                 enum hx_csv_row rs) {
    unsigned long long line = (unsigned long long)(rd->base_line + hx_csv_line_of(data, pos));
    if (rs == HX_ROW_TOO_BIG)
        HX_FAIL(HOIST_ERR_LIMIT, "%s: line %llu: a field longer than 2 GiB", hx_csv_reader_name(rd), line);
    HX_FAIL(HOIST_ERR_CSV_PARSE, "%s: line %llu: unterminated quoted field (a quote opened here is never closed)",
            hx_csv_reader_name(rd), line);
}

/* Settles delimiter, header and column names from the first row(s).
 * *ready = false when non-final data does not hold the first row yet. */
static hx_status settle(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final, size_t *data_start,
                        bool *ready) {
    const struct hoist_csv_options *o = &rd->opts;
    *ready = false;
    size_t p = 0;
    static const uint8_t bom[3] = {0xef, 0xbb, 0xbf};
    if (len >= 3 && memcmp(data, bom, 3) == 0)
        p = 3;
    else if (!final && len < 3 && memcmp(data, bom, len) == 0)
        return HOIST_OK;
    int delim = o->delimiter;
    if (delim < 0) {
        size_t win = len - p < SNIFF_BYTES ? len - p : SNIFF_BYTES;
        if (!final && win < SNIFF_BYTES) return HOIST_OK; /* wait for more */
        delim = hx_csv_sniff_delimiter(data + p, win, final && win == len - p, o->quote, o->escape,
                                       o->double_quote != 0, o->comment);
    }
    hx_csv_dialect_init(&rd->d, (uint8_t)delim, o->quote, o->escape, o->double_quote != 0, o->comment);
    size_t p0 = hx_csv_skip_lines(&rd->d, data, len, p, final);
    if (p0 == SIZE_MAX) return HOIST_OK;
    bool names_given = o->column_names.set;
    if (p0 >= len) {
        if (!final) return HOIST_OK;
        rd->ncols = names_given ? o->column_names.n : 0;
        HX_TRY(set_names(rd, data, NULL, false));
        *data_start = len;
        *ready = true;
        return HOIST_OK;
    }
    size_t nf, next;
    enum hx_csv_row rs = hx_csv_lex_row(&rd->d, data, len, p0, final, p0, NULL, 0, NULL, &nf, &next);
    if (rs == HX_ROW_INCOMPLETE) return HOIST_OK;
    if (rs != HX_ROW_OK) return lex_fail_status(rd, data, p0, rs);
    struct hx_csv_field *row0 = hx_malloc(nf * sizeof *row0);
    if (!row0) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
    rs = hx_csv_lex_row(&rd->d, data, len, p0, final, 0, NULL, nf, row0, &nf, &next);
    hx_status st = rs == HX_ROW_OK ? HOIST_OK : lex_fail_status(rd, data, p0, rs);
    bool header = o->header == 1;
    if (st == HOIST_OK && !names_given && o->header < 0)
        st = sniff_header(rd, data, len, final, row0, nf, next, &header);
    if (st == HOIST_OK) {
        rd->ncols = names_given ? o->column_names.n : nf;
        st = set_names(rd, data, row0, header);
    }
    hx_free(row0);
    HX_TRY(st);
    *data_start = header ? next : p0;
    rd->header = header;
    *ready = true;
    return HOIST_OK;
}

static int find_name(const struct hoist_csv_reader *rd, const char *name) {
    for (size_t c = 0; c < rd->ncols; c++)
        if (strcmp(rd->names[c], name) == 0) return (int)c;
    return -1;
}

static hx_status setup_columns(struct hoist_csv_reader *rd) {
    const struct hoist_csv_options *o = &rd->opts;
    rd->nproj = o->columns.set ? o->columns.n : rd->ncols;
    size_t n = rd->nproj ? rd->nproj : 1;
    rd->proj_map = hx_malloc((rd->ncols ? rd->ncols : 1) * sizeof *rd->proj_map);
    rd->proj_cols = hx_malloc(n * sizeof *rd->proj_cols);
    rd->types = hx_calloc(n, sizeof *rd->types);
    rd->explicit_type = hx_calloc(n, sizeof *rd->explicit_type);
    if (!rd->proj_map || !rd->proj_cols || !rd->types || !rd->explicit_type)
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", hx_csv_reader_name(rd));
    for (size_t c = 0; c < rd->ncols; c++) rd->proj_map[c] = o->columns.set ? -1 : (int)c;
    for (size_t j = 0; j < rd->nproj; j++) {
        int c = o->columns.set ? find_name(rd, o->columns.v[j]) : (int)j;
        HX_FAIL_IF(c < 0, HOIST_ERR_COLUMN_NOT_FOUND, "%s: no column '%s' (the file has %zu columns%s%s%s)",
                   hx_csv_reader_name(rd), o->columns.v[j], rd->ncols, rd->ncols ? ": first '" : "",
                   rd->ncols ? rd->names[0] : "", rd->ncols ? "'" : "");
        HX_FAIL_IF(rd->proj_map[c] >= 0 && o->columns.set, HOIST_ERR_INVALID_ARG, "%s: column '%s' selected twice",
                   hx_csv_reader_name(rd), o->columns.v[j]);
        rd->proj_map[c] = (int)j;
        rd->proj_cols[j] = (size_t)c;
    }
    for (size_t i = 0; i < o->ntypes; i++) {
        int c = find_name(rd, o->types[i].name);
        HX_FAIL_IF(c < 0, HOIST_ERR_COLUMN_NOT_FOUND, "%s: a type is set for column '%s', which the file lacks",
                   hx_csv_reader_name(rd), o->types[i].name);
        if (rd->proj_map[c] < 0) continue;
        rd->types[rd->proj_map[c]] = o->types[i].type;
        rd->explicit_type[rd->proj_map[c]] = true;
    }
    /* the row filter needs chunks that are converted once, as they are */
    rd->filter_active = rd->filter_fn && !o->skip_bad_rows;
    for (size_t j = 0; j < rd->nproj && rd->filter_active; j++) rd->filter_active = rd->explicit_type[j];
    for (size_t k = 0; k < rd->nfilter_cols && rd->filter_active; k++)
        HX_FAIL_IF(rd->filter_cols[k] >= rd->nproj, HOIST_ERR_INVALID_ARG, "%s: row filter column %zu of %zu",
                   hx_csv_reader_name(rd), rd->filter_cols[k], rd->nproj);
    return HOIST_OK;
}

hx_status hx_csv_run_job(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final, size_t *consumed) {
    *consumed = 0;
    size_t start = 0;
    struct hx_csv_job job = {rd, data, len, final};
    if (!rd->started) {
        bool ready;
        HX_TRY(settle(rd, data, len, final, &start, &ready));
        if (!ready) return HOIST_OK;
        HX_TRY(setup_columns(rd));
        rd->started = true;
    }
    if (start < len)
        HX_TRY(hx_csv_run_chunks(rd, &job, start, consumed));
    else
        *consumed = len;
    if (final)
        rd->types_known = true;
    else if (*consumed > start)
        rd->types_known = true;
    rd->stats.bytes += *consumed;
    return HOIST_OK;
}
