/*
 * dataset_internal.h — the dataset layer's pure pieces: the filter
 * language, range and page planning, shard assignment, row-group
 * selections and the Arrow helpers. The Hive layout rules are in dataset.h
 * (layers above share them); the dataset object the stage files
 * (ds_open.c, ds_prune.c, ds_scan.c, ds_shards.c) share is in
 * ds_open_internal.h.
 *
 * It joins the store (I/O) and the Parquet reader (decode) through their
 * public functions only. The pieces here are pure functions of their inputs
 * (no I/O) so the unit tests in tests/dataset/ can drive them directly.
 *
 * Thread safety: a parsed filter is immutable after hx_ds_filter_bind and is
 * evaluated concurrently by the decode workers.
 */
#ifndef HOIST_DATASET_INTERNAL_H
#define HOIST_DATASET_INTERNAL_H

#include "dataset.h"
#include "parquet.h"
#include "util_internal.h"

/* ---- values ------------------------------------------------------------
 * The filter compares column values with literals in one of five domains.
 * Integers (including dates, times and timestamps in their Arrow unit) are
 * compared as __int128 so uint64 and int64 mix without overflow; decimals
 * as 256-bit integers in the column's scale. */
enum ds_vkind { DS_V_NONE = 0, DS_V_INT, DS_V_DOUBLE, DS_V_BYTES, DS_V_BOOL, DS_V_DECIMAL };

/* DS_V_DECIMAL: an unscaled value in the column's scale, as a 256-bit two's
 * complement integer (least significant word first) so decimal32..256 share
 * one domain. A literal with more digits than the scale keeps its exact
 * position: dec_frac = 1 says it lies strictly between dec and dec + 1;
 * dec_inf = +1/-1 says it is beyond every decimal256 value. */
struct ds_value {
    enum ds_vkind kind;
    __int128 i;       /* DS_V_INT, DS_V_BOOL (0/1) */
    double d;         /* DS_V_DOUBLE */
    const uint8_t *b; /* DS_V_BYTES (not owned) */
    size_t blen;
    uint64_t dec[4]; /* DS_V_DECIMAL */
    int8_t dec_frac;
    int8_t dec_inf;
};

/* Parses an Arrow decimal format "d:P,S[,BITS]" (BITS 32, 64, 128 (the
 * default) or 256). False for anything else. */
bool hx_ds_decimal_format(const char *format, int *precision, int *scale, int *bits);
/* A decimal's unscaled value into the DS_V_DECIMAL words (struct
 * ds_value.dec): from an integer, or from n (1..32) big-endian two's
 * complement bytes, as Parquet stores decimal statistics. */
void hx_ds_decimal_from_i64(int64_t v, uint64_t w[4]);
void hx_ds_decimal_from_be(const uint8_t *b, size_t n, uint64_t w[4]);

/* ---- filter ------------------------------------------------------------ */

enum ds_cmp { DS_EQ, DS_NE, DS_LT, DS_LE, DS_GT, DS_GE };

enum ds_node_kind {
    DS_N_AND,
    DS_N_OR,
    DS_N_NOT,     /* removed by hx_ds_filter_parse (pushed into the leaves) */
    DS_N_CMP,     /* column op literal */
    DS_N_IN,      /* column [NOT] IN (literals) */
    DS_N_IS_NULL, /* column IS [NOT] NULL */
    DS_N_CONST    /* TRUE / FALSE */
};

enum ds_lit_kind { DS_L_INT, DS_L_FLOAT, DS_L_STRING, DS_L_BOOL, DS_L_DATE, DS_L_TIMESTAMP };

struct ds_lit {
    enum ds_lit_kind kind;
    __int128 i; /* INT (any value of int64 or uint64), BOOL */
    double d;   /* FLOAT */
    char *s;    /* STRING, DATE, TIMESTAMP text (owned) */
    size_t slen;
    int pos;           /* offset in the expression, for messages */
    struct ds_value v; /* the literal in the column's domain (after bind) */
};

struct ds_node {
    enum ds_node_kind kind;
    struct ds_node *a, *b; /* AND/OR/NOT operands */
    bool negate;           /* NOT IN, IS NOT NULL */
    bool const_value;      /* DS_N_CONST */
    enum ds_cmp op;
    char *column;
    int column_pos;
    int col;    /* index into the bound column table, -1 before bind */
    int fcol;   /* index into ds_filter.columns (leaves), -1 otherwise */
    int height; /* operator levels below this node (0 = a leaf) */
    struct ds_lit *lits;
    size_t nlits;
};

struct ds_filter {
    char *text;
    struct ds_node *root;
    char **columns; /* distinct column names referenced, in first-use order */
    size_t ncolumns;
};

/* Limits that keep a generated or hostile expression from exhausting the
 * stack or memory (every tree walk recurses; the height is bounded): at most
 * this many levels of parentheses, NOT and AND/OR (a chain of n terms joined
 * by one operator counts as log2(n) levels, ds_filter_parse.c), and at most
 * this many terms and operators in all. docs/datasets.md documents them. */
#define DS_FILTER_MAX_DEPTH 1000
#define DS_FILTER_MAX_NODES 100000

/* Parses expr. On a syntax error returns HOIST_ERR_FILTER with a message
 * that quotes the expression and puts a caret under the offending token;
 * an expression past the limits above fails the same way. */
HOIST_NODISCARD hx_status hx_ds_filter_parse(const char *expr, struct ds_filter **out);
void hx_ds_filter_free(struct ds_filter *f);
/* HOIST_ERR_FILTER with "filter: what at position N", the expression and a
 * caret under [pos, pos + len): parse and bind errors look alike. */
HOIST_NODISCARD hx_status hx_ds_filter_syntax_error(const char *expr, int pos, int len, const char *what);

/* The value domain of an Arrow format string (dictionary arrays: pass the
 * dictionary's format). DS_V_NONE when the filter cannot compare it. */
enum ds_vkind hx_ds_format_vkind(const char *format);

/* Resolves column names to indexes (ncols names, with their Arrow formats)
 * and converts literals to each column's domain. Errors point at the token. */
HOIST_NODISCARD hx_status hx_ds_filter_bind(struct ds_filter *f, const char *const *names, const char *const *formats,
                                            size_t ncols);

/* As hx_ds_filter_bind, but leaves that name other columns stay unbound: for
 * pruning with what is known of some columns only (an unbound leaf may
 * match). Such a filter must not be evaluated on arrays. */
HOIST_NODISCARD hx_status hx_ds_filter_bind_some(struct ds_filter *f, const char *const *names,
                                                 const char *const *formats, size_t ncols);

/* What is known of one column over a set of rows, for pruning. */
struct ds_colstats {
    bool known; /* false = nothing known: the column cannot prune */
    bool has_minmax;
    struct ds_value min, max;
    bool has_null_count;
    int64_t null_count;
    int64_t num_values;
};

/* False when no row described by stats[] (indexed like the bound columns)
 * can satisfy the filter; true when some may. */
bool hx_ds_filter_may_match(const struct ds_filter *f, const struct ds_colstats *stats);

/* Evaluates the filter over `length` rows. cols[i] / formats[i] are the
 * bound columns' arrays (NULL if the column is not loaded: then all null).
 * dict_formats[i] is the dictionary's format for dictionary arrays (else
 * NULL). Writes keep[r] = 1 for rows where the filter is TRUE (SQL: NULL and
 * FALSE drop the row). */
HOIST_NODISCARD hx_status hx_ds_filter_eval(const struct ds_filter *f, const struct ArrowArray *const *cols,
                                            const char *const *formats, const char *const *dict_formats, int64_t length,
                                            uint8_t *keep);

/* ---- byte ranges ---------------------------------------------------------
 * Column chunks of one row group are fetched as few requests as is sensible:
 * neighbours closer than DS_MAX_GAP are merged (one request for a small hole
 * is cheaper than a second round trip: at ~100 MB/s per connection and
 * 10-30 ms first-byte latency on S3, a request costs about 1-3 MB of
 * transfer, so a hole of up to 512 KiB costs less than it saves, while a
 * bigger hole would start to waste bandwidth the projection saved); merged
 * ranges are then split into parts of at most DS_MAX_PART (8 MiB, the low end
 * of the DESIGN.md part size) so one large chunk or a whole row group is
 * fetched over several connections in parallel. */
#define DS_MAX_GAP (512u * 1024u)
#define DS_MAX_PART (8u * 1024u * 1024u)

struct ds_range {
    uint64_t offset;
    uint64_t length;
};
/* Sorts ranges and merges overlapping ones and those with gaps <= max_gap,
 * in place. Returns the new count. */
size_t hx_ds_coalesce(struct ds_range *r, size_t n, uint64_t max_gap);

/* ---- page skipping -------------------------------------------------------
 * With a page index, a kept row group is cut into segments at every page
 * start of every filter column, so each segment lies inside one page of each
 * of them and that page's statistics describe it; the segments the filter
 * may match are the rows to decode. */

/* Sorts and deduplicates segment starts in place and makes sure 0 is the
 * first one (starts must have room for n + 1 values; values outside
 * [0, rows) are dropped). Returns the count. */
size_t hx_ds_segment_starts(int64_t *starts, size_t n, int64_t rows);

/* Appends rows [first, first + count) to a sorted list of row ranges,
 * extending the last range when they touch. */
HOIST_NODISCARD hx_status hx_ds_row_ranges_add(struct hoist_pq_row_range **v, size_t *n, size_t *cap, int64_t first,
                                               int64_t count);

/* ---- shards --------------------------------------------------------------
 * Assigns n_units units (weights = bytes) to at most n_shards shards:
 * largest first to the least loaded shard (ties: lower index), which is
 * deterministic and within max(unit) of the best balance. shard_of[i]
 * receives the shard of unit i. Returns the number of shards used. */
size_t hx_ds_shard_assign(const uint64_t *bytes, size_t n_units, size_t n_shards, size_t *shard_of);

/* "#rg=0-3,7" row-group selections on file URLs. */
/* Splits url at a trailing "#rg=LIST": *base_len = length without it;
 * rgs/nrgs the sorted distinct row groups (NULL/0 when there is no
 * selection). Bad list: HOIST_ERR_BAD_URL. */
HOIST_NODISCARD hx_status hx_ds_parse_rg_selection(const char *url, size_t *base_len, int **rgs, size_t *nrgs);
/* Formats url + "#rg=..." with ranges collapsed ("0-3,7"). */
char *hx_ds_format_rg_selection(const char *url, const int *rgs, size_t n);

/* Deterministic 64-bit mix (splitmix64) and string hash (FNV-1a). */
uint64_t hx_ds_mix64(uint64_t x);
uint64_t hx_ds_hash_str(const char *s, size_t len);

/* ---- the _SUCCESS manifest: parsing is in dataset.h ------------------- */
/* Joins each listed path to dir and finds it in the listing (recursive,
 * under dir): *urls (owned, m->nfiles of them, manifest order) and *sizes
 * (the listing's size, else the manifest's bytes, else 0 = unknown). A file
 * the listing lacks: HOIST_ERR_NOT_FOUND naming the manifest and the file. */
HOIST_NODISCARD hx_status hx_ds_manifest_resolve(const struct ds_manifest *m, const char *manifest_url, const char *dir,
                                                 const struct hoist_list *list, char ***urls, uint64_t **sizes);

/* ---- Arrow helpers ----------------------------------------------------------
 * The Arrow work is src/arrow's (arrow.h). The hx_ds_ names below are the
 * ones dataset.c calls; they forward to it until dataset.c's stage files call
 * arrow.h directly. Only partition columns are the dataset layer's own
 * (ds_arrow.c). */
#include "arrow.h"

/* A partition column: `length` copies of a value parsed as type t (value
 * NULL: all null). */
HOIST_NODISCARD hx_status hx_ds_array_const(enum ds_ptype t, const char *value, int64_t length, struct ArrowArray *out);

HOIST_NODISCARD static inline hx_status hx_ds_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst) {
    return hx_arrow_schema_copy(src, dst);
}
HOIST_NODISCARD static inline hx_status hx_ds_schema_leaf(const char *name, const char *format, int64_t flags,
                                                          struct ArrowSchema *out) {
    return hx_arrow_schema_init(out, format, name, flags);
}
HOIST_NODISCARD static inline hx_status hx_ds_schema_struct(struct ArrowSchema *children, size_t n,
                                                            struct ArrowSchema *out) {
    return hx_arrow_schema_struct(children, n, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_nulls(const struct ArrowSchema *schema, int64_t length,
                                                          struct ArrowArray *out) {
    return hx_arrow_array_nulls(schema, length, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_cast(struct ArrowArray *in, const char *from, const char *to,
                                                         struct ArrowArray *out) {
    return hx_arrow_array_cast(in, from, to, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_filter(struct ArrowArray *in, const struct ArrowSchema *schema,
                                                           const uint8_t *keep, int64_t out_len,
                                                           struct ArrowArray *out) {
    return hx_arrow_array_filter(in, schema, keep, out_len, out);
}
HOIST_NODISCARD static inline hx_status hx_ds_array_struct(struct ArrowArray *children, size_t n, int64_t length,
                                                           struct ArrowArray *out) {
    return hx_arrow_array_struct(children, n, length, out);
}
static inline uint64_t hx_ds_array_bytes(const struct ArrowArray *a, const struct ArrowSchema *schema) {
    return hx_arrow_array_bytes(a, schema);
}
static inline bool hx_ds_unify_format(const char *a, const char *b, const char **unified) {
    return hx_arrow_unify_format(a, b, unified);
}

#endif /* HOIST_DATASET_INTERNAL_H */
