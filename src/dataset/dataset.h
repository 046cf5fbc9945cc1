/*
 * dataset.h — the dataset layer as the layers above it see it (the CLI and
 * the Python module use hoist.h only). Today that is the public
 * hoist_dataset_* API plus the Hive layout rules a writer must share with
 * the reader: how `key=value` path segments are parsed, which keys are
 * data, and how partition values are typed; and the filter language with
 * its pruning by column statistics (src/iceberg prunes manifests with it).
 *
 * Everything here is a pure function of its arguments (no I/O, no global
 * state), safe on any thread.
 */
#ifndef HOIST_DATASET_H
#define HOIST_DATASET_H

#include "hoist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util_internal.h"

/* ---- Hive partitions and keys ----------------------------------------- */

struct ds_kv {
    char *key;
    char *value; /* NULL: __HIVE_DEFAULT_PARTITION__ (null) */
};

/* Collects the `key=value` directory segments of a URL's path (values
 * percent-decoded). Later duplicates of a key replace earlier ones. */
HOIST_NODISCARD enum hoist_status hx_ds_parse_hive(const char *url, struct ds_kv **out, size_t *n);
void hx_ds_kv_free(struct ds_kv *kv, size_t n);

/* False for keys that are not data: any path segment below `prefix_len`
 * starting with '_' or '.' (_SUCCESS, _committed_*, _temporary/, .crc),
 * names ending in .crc or _$folder$, directory markers and empty objects. */
bool hx_ds_is_data_key(const char *url, size_t prefix_len, uint64_t size);

enum ds_ptype { DS_PT_INT32, DS_PT_INT64, DS_PT_STRING, DS_PT_DATE32 };
/* Inferred type of a partition column from its non-null values (pyarrow's
 * rule, plus dates). */
enum ds_ptype hx_ds_infer_ptype(const char *const *values, size_t n);
/* Parses a value as the type; false if it does not parse. */
bool hx_ds_parse_pvalue(const char *s, enum ds_ptype t, int64_t *out);
bool hx_ds_parse_int64(const char *s, size_t len, int64_t *out);
/* (dates: hx_parse_date in util_internal.h, shared with the CSV codec) */
/* "YYYY-MM-DD[ T]HH:MM:SS[.fraction]" or a date -> microseconds since epoch (UTC). */
bool hx_ds_parse_timestamp_us(const char *s, size_t len, int64_t *us);

/* ---- the writer's _SUCCESS manifest (ds_manifest.c; the writer reads a previous one with it too)
 * --------------------- A directory whose `_SUCCESS` parses as {"format": "hoist-manifest", "version": 1, "files":
 * [{"path", "bytes"}, ...]} holds exactly the listed files (docs/datasets.md). */
#define DS_MANIFEST_NAME "_SUCCESS"
/* A manifest lists about 200 bytes per file: 256 MiB is over a million. */
#define DS_MANIFEST_MAX_BYTES (256u * 1024u * 1024u)

struct ds_manifest_file {
    char *path;    /* relative to the manifest's directory, checked safe */
    int64_t bytes; /* -1: not given */
};
struct ds_manifest {
    struct ds_manifest_file *files; /* in the manifest's order */
    size_t nfiles;
};

/* Parses a `_SUCCESS` object's bytes (url names it in messages). *out =
 * NULL with HOIST_OK when it is not a hoist manifest (empty, or other
 * content). A hoist manifest that is malformed or of another version:
 * HOIST_ERR_UNSUPPORTED; a path that is absolute or leaves the directory:
 * HOIST_ERR_UNSAFE_KEY. */
HOIST_NODISCARD hx_status hx_ds_manifest_parse(const void *data, size_t len, const char *url, struct ds_manifest **out);
void hx_ds_manifest_free(struct ds_manifest *m);

/* ---- the filter, shared with the layers above that prune by statistics
 * (src/iceberg prunes manifest entries by their column bounds). A parsed
 * filter is immutable after hx_ds_filter_bind and may be used by many
 * threads at once. */

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

#endif /* HOIST_DATASET_H */
