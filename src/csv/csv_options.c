/* CSV options: the public setters (range-checked, copied like the store
 * config), type names, the default null/true/false words (pyarrow's) and
 * the word sets matched while converting. */
#include "csv_internal.h"

#include <string.h>

const char *const hx_csv_default_nulls[] = {"",     "#N/A", "#N/A N/A", "#NA",     "-1.#IND", "-1.#QNAN",
                                            "-NaN", "-nan", "1.#IND",   "1.#QNAN", "N/A",     "NA",
                                            "NULL", "NaN",  "n/a",      "nan",     "null",    NULL};
const char *const hx_csv_default_trues[] = {"1", "True", "TRUE", "true", NULL};
const char *const hx_csv_default_falses[] = {"0", "False", "FALSE", "false", NULL};

static const struct {
    const char *name;
    enum hx_csv_type type;
} type_names[] = {
    {"null", HX_CSV_NULL},
    {"bool", HX_CSV_BOOL},
    {"boolean", HX_CSV_BOOL},
    {"int64", HX_CSV_INT64},
    {"double", HX_CSV_FLOAT64},
    {"float64", HX_CSV_FLOAT64},
    {"date32", HX_CSV_DATE32},
    {"date32[day]", HX_CSV_DATE32},
    {"timestamp[us]", HX_CSV_TIMESTAMP},
    {"timestamp[us, tz=UTC]", HX_CSV_TIMESTAMP_UTC},
    {"timestamp[us, UTC]", HX_CSV_TIMESTAMP_UTC},
    {"string", HX_CSV_STRING},
    {"utf8", HX_CSV_STRING},
};

bool hx_csv_type_from_name(const char *name, enum hx_csv_type *out) {
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(name, type_names[i].name) == 0) {
            *out = type_names[i].type;
            return true;
        }
    return false;
}

const char *hx_csv_type_name(enum hx_csv_type t) {
    static const char *const names[HX_CSV_NTYPES] = {
        "null", "int64", "bool", "double", "date32", "timestamp[us]", "timestamp[us, tz=UTC]", "string"};
    return (unsigned)t < HX_CSV_NTYPES ? names[t] : "?";
}

const char *hx_csv_type_format(enum hx_csv_type t) {
    static const char *const formats[HX_CSV_NTYPES] = {"n", "l", "b", "g", "tdD", "tsu:", "tsu:UTC", "u"};
    return (unsigned)t < HX_CSV_NTYPES ? formats[t] : "n";
}

enum hx_csv_type hx_csv_type_join(enum hx_csv_type a, enum hx_csv_type b) {
    if (a == b) return a;
    if (a == HX_CSV_NULL) return b;
    if (b == HX_CSV_NULL) return a;
    if ((a == HX_CSV_INT64 && b == HX_CSV_FLOAT64) || (a == HX_CSV_FLOAT64 && b == HX_CSV_INT64)) return HX_CSV_FLOAT64;
    if ((a == HX_CSV_DATE32 && b == HX_CSV_TIMESTAMP) || (a == HX_CSV_TIMESTAMP && b == HX_CSV_DATE32))
        return HX_CSV_TIMESTAMP;
    return HX_CSV_STRING;
}

/* ---- the options object ------------------------------------------------ */

void hx_csv_options_defaults(struct hoist_csv_options *o) {
    memset(o, 0, sizeof *o);
    o->delimiter = -1;
    o->quote = '"';
    o->double_quote = 1;
    o->header = -1;
}

static void strlist_reset(struct hx_csv_strlist *l) {
    for (size_t i = 0; i < l->n; i++) hx_free(l->v[i]);
    hx_free(l->v);
    *l = (struct hx_csv_strlist){0};
}

static hx_status strlist_set(struct hx_csv_strlist *l, const char *const *v, size_t n, bool set) {
    for (size_t i = 0; i < n; i++) HX_FAIL_IF(!v[i], HOIST_ERR_INVALID_ARG, "CSV options: NULL string in a list");
    struct hx_csv_strlist nl = {0};
    nl.set = set;
    if (n) {
        nl.v = hx_calloc(n, sizeof *nl.v);
        if (!nl.v) HX_FAIL(HOIST_ERR_NOMEM, "CSV options: out of memory");
        for (size_t i = 0; i < n; i++, nl.n++) {
            nl.v[i] = hx_strdup(v[i]);
            if (!nl.v[i]) {
                strlist_reset(&nl);
                HX_FAIL(HOIST_ERR_NOMEM, "CSV options: out of memory");
            }
        }
    }
    strlist_reset(l);
    *l = nl;
    return HOIST_OK;
}

void hx_csv_options_reset(struct hoist_csv_options *o) {
    strlist_reset(&o->null_values);
    strlist_reset(&o->true_values);
    strlist_reset(&o->false_values);
    strlist_reset(&o->columns);
    strlist_reset(&o->column_names);
    for (size_t i = 0; i < o->ntypes; i++) hx_free(o->types[i].name);
    hx_free(o->types);
    hx_csv_options_defaults(o);
}

hx_status hx_csv_options_copy(const struct hoist_csv_options *src, struct hoist_csv_options *dst) {
    hx_csv_options_defaults(dst);
    if (!src) return HOIST_OK;
    *dst = *src;
    dst->null_values = dst->true_values = dst->false_values = dst->columns = dst->column_names =
        (struct hx_csv_strlist){0};
    dst->types = NULL;
    dst->ntypes = 0;
    hx_status st = strlist_set(&dst->null_values, (const char *const *)src->null_values.v, src->null_values.n,
                               src->null_values.set);
    if (st == HOIST_OK)
        st = strlist_set(&dst->true_values, (const char *const *)src->true_values.v, src->true_values.n,
                         src->true_values.set);
    if (st == HOIST_OK)
        st = strlist_set(&dst->false_values, (const char *const *)src->false_values.v, src->false_values.n,
                         src->false_values.set);
    if (st == HOIST_OK)
        st = strlist_set(&dst->columns, (const char *const *)src->columns.v, src->columns.n, src->columns.set);
    if (st == HOIST_OK)
        st = strlist_set(&dst->column_names, (const char *const *)src->column_names.v, src->column_names.n,
                         src->column_names.set);
    if (st == HOIST_OK && src->ntypes) {
        dst->types = hx_calloc(src->ntypes, sizeof *dst->types);
        if (!dst->types) st = hx_error(HOIST_ERR_NOMEM, "CSV options: out of memory");
        for (size_t i = 0; st == HOIST_OK && i < src->ntypes; i++) {
            dst->types[i].type = src->types[i].type;
            dst->types[i].name = hx_strdup(src->types[i].name);
            dst->ntypes = i + 1;
            if (!dst->types[i].name) st = hx_error(HOIST_ERR_NOMEM, "CSV options: out of memory");
        }
    }
    if (st != HOIST_OK) hx_csv_options_reset(dst);
    return st;
}

hx_status hoist_csv_options_new(struct hoist_csv_options **out) {
    HX_FAIL_IF(!out, HOIST_ERR_INVALID_ARG, "hoist_csv_options_new: NULL out");
    *out = hx_malloc(sizeof **out);
    if (!*out) HX_FAIL(HOIST_ERR_NOMEM, "CSV options: out of memory");
    hx_csv_options_defaults(*out);
    return HOIST_OK;
}

void hoist_csv_options_free(struct hoist_csv_options *opts) {
    if (!opts) return;
    hx_csv_options_reset(opts);
    hx_free(opts);
}

static hx_status set_byte(int *field, int64_t v, bool allow_sniff, const char *what) {
    if (v == -1 && allow_sniff) {
        *field = -1;
        return HOIST_OK;
    }
    HX_FAIL_IF(v < 0 || v > 255 || v == '\n' || v == '\r', HOIST_ERR_INVALID_ARG,
               "CSV options: %s %lld is not a byte other than CR and LF", what, (long long)v);
    *field = (int)v;
    return HOIST_OK;
}

static hx_status set_flag(int *field, int64_t v, const char *what) {
    HX_FAIL_IF(v != 0 && v != 1, HOIST_ERR_INVALID_ARG, "CSV options: %s must be 0 or 1, not %lld", what, (long long)v);
    *field = (int)v;
    return HOIST_OK;
}

hx_status hoist_csv_options_set_int(struct hoist_csv_options *o, enum hoist_csv_option opt, int64_t v) {
    HX_FAIL_IF(!o, HOIST_ERR_INVALID_ARG, "hoist_csv_options_set_int: NULL options");
    switch (opt) {
    case HOIST_CSV_DELIMITER:
        HX_FAIL_IF(v == 0, HOIST_ERR_INVALID_ARG, "CSV options: the delimiter cannot be NUL");
        HX_TRY(set_byte(&o->delimiter, v, true, "delimiter"));
        break;
    case HOIST_CSV_QUOTE: HX_TRY(set_byte(&o->quote, v, false, "quote")); break;
    case HOIST_CSV_ESCAPE: HX_TRY(set_byte(&o->escape, v, false, "escape")); break;
    case HOIST_CSV_COMMENT: HX_TRY(set_byte(&o->comment, v, false, "comment")); break;
    case HOIST_CSV_DOUBLE_QUOTE: return set_flag(&o->double_quote, v, "double_quote");
    case HOIST_CSV_SKIP_BAD_ROWS: return set_flag(&o->skip_bad_rows, v, "skip_bad_rows");
    case HOIST_CSV_STRINGS_CAN_BE_NULL: return set_flag(&o->strings_can_be_null, v, "strings_can_be_null");
    case HOIST_CSV_QUOTE_STRINGS: return set_flag(&o->quote_strings, v, "quote_strings");
    case HOIST_CSV_HEADER:
        HX_FAIL_IF(v < -1 || v > 1, HOIST_ERR_INVALID_ARG, "CSV options: header must be -1, 0 or 1");
        o->header = (int)v;
        return HOIST_OK;
    case HOIST_CSV_THREADS:
        HX_FAIL_IF(v < 0 || v > 1024, HOIST_ERR_INVALID_ARG, "CSV options: threads %lld out of range", (long long)v);
        o->threads = (unsigned)v;
        return HOIST_OK;
    case HOIST_CSV_BLOCK_SIZE:
        HX_FAIL_IF(v < 0 || (uint64_t)v > ((uint64_t)1 << 40), HOIST_ERR_INVALID_ARG,
                   "CSV options: block size %lld out of range", (long long)v);
        o->chunk_size = (size_t)v;
        return HOIST_OK;
    default: HX_FAIL(HOIST_ERR_INVALID_ARG, "CSV options: unknown integer option %d", (int)opt);
    }
    /* a byte option changed: the special bytes must stay distinct */
    int d = o->delimiter, q = o->quote, e = o->escape, c = o->comment;
    HX_FAIL_IF((d > 0 && (d == q || d == e || d == c)) || (q > 0 && (q == e || q == c)) || (e > 0 && e == c),
               HOIST_ERR_INVALID_ARG, "CSV options: delimiter, quote, escape and comment must differ");
    return HOIST_OK;
}

hx_status hoist_csv_options_set_strings(struct hoist_csv_options *o, enum hoist_csv_list list,
                                        const char *const *values, size_t n) {
    HX_FAIL_IF(!o || (n && !values), HOIST_ERR_INVALID_ARG, "hoist_csv_options_set_strings: NULL argument");
    switch (list) {
    case HOIST_CSV_NULL_VALUES: return strlist_set(&o->null_values, values, n, true);
    case HOIST_CSV_TRUE_VALUES: return strlist_set(&o->true_values, values, n, n > 0);
    case HOIST_CSV_FALSE_VALUES: return strlist_set(&o->false_values, values, n, n > 0);
    case HOIST_CSV_COLUMNS: return strlist_set(&o->columns, values, n, n > 0);
    case HOIST_CSV_COLUMN_NAMES: return strlist_set(&o->column_names, values, n, n > 0);
    default: HX_FAIL(HOIST_ERR_INVALID_ARG, "CSV options: unknown list %d", (int)list);
    }
}

hx_status hoist_csv_options_set_column_type(struct hoist_csv_options *o, const char *column, const char *type) {
    HX_FAIL_IF(!o || !column, HOIST_ERR_INVALID_ARG, "hoist_csv_options_set_column_type: NULL argument");
    size_t i = 0;
    while (i < o->ntypes && strcmp(o->types[i].name, column) != 0) i++;
    if (!type) {
        if (i < o->ntypes) {
            hx_free(o->types[i].name);
            o->types[i] = o->types[--o->ntypes];
        }
        return HOIST_OK;
    }
    enum hx_csv_type t;
    HX_FAIL_IF(!hx_csv_type_from_name(type, &t), HOIST_ERR_INVALID_ARG,
               "CSV options: column '%s': unknown type '%s' (null, bool, int64, double, date32, "
               "timestamp[us], "
               "timestamp[us, tz=UTC], string)",
               column, type);
    if (i < o->ntypes) {
        o->types[i].type = t;
        return HOIST_OK;
    }
    struct hx_csv_coltype *nt = hx_realloc(o->types, (o->ntypes + 1) * sizeof *nt);
    if (!nt) HX_FAIL(HOIST_ERR_NOMEM, "CSV options: out of memory");
    o->types = nt;
    nt[o->ntypes].name = hx_strdup(column);
    if (!nt[o->ntypes].name) HX_FAIL(HOIST_ERR_NOMEM, "CSV options: out of memory");
    nt[o->ntypes++].type = t;
    return HOIST_OK;
}

/* ---- word sets ----------------------------------------------------------- */

void hx_csv_words_init(struct hx_csv_words *w, const struct hx_csv_strlist *list, const char *const *defaults) {
    memset(w, 0, sizeof *w);
    if (list && list->set) {
        w->v = list->v;
        w->n = list->n;
    } else {
        w->v = (char **)defaults;
        while (defaults[w->n]) w->n++;
    }
    for (size_t i = 0; i < w->n; i++) {
        size_t n = strlen(w->v[i]);
        if (i < HX_CSV_WORDS_FAST) w->wlen[i] = (uint32_t)n;
        w->lenfirst[n < 16 ? n : 16][(uint8_t)w->v[i][0]] = 1;
        const uint8_t *t = (const uint8_t *)w->v[i];
        int64_t iv;
        int32_t dv;
        double fv;
        bool zoned;
        w->converts[HX_CSV_INT64] |= hx_csv_parse_int64(t, n, &iv);
        w->converts[HX_CSV_FLOAT64] |= hx_csv_parse_float64(t, n, &fv) && fv == fv;
        w->converts[HX_CSV_DATE32] |= hx_csv_parse_date32(t, n, &dv);
        if (hx_csv_parse_timestamp(t, n, &iv, &zoned))
            w->converts[zoned ? HX_CSV_TIMESTAMP_UTC : HX_CSV_TIMESTAMP] = true;
    }
}

bool hx_csv_words_match(const struct hx_csv_words *w, const uint8_t *s, size_t n) {
    for (size_t i = 0; i < w->n; i++) {
        size_t wl = i < HX_CSV_WORDS_FAST ? w->wlen[i] : strlen(w->v[i]);
        if (wl == n && memcmp(w->v[i], s, n) == 0) return true;
    }
    return false;
}

hx_status hx_csv_options_clone(const struct hoist_csv_options *src, struct hoist_csv_options **out) {
    *out = NULL;
    struct hoist_csv_options *o = hx_calloc(1, sizeof *o);
    if (!o) HX_FAIL(HOIST_ERR_NOMEM, "CSV options: out of memory");
    hx_status st = hx_csv_options_copy(src, o);
    if (st != HOIST_OK) {
        hoist_csv_options_free(o);
        return st;
    }
    *out = o;
    return HOIST_OK;
}
