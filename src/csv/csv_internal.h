/*
 * csv_internal.h — private to src/csv: the options object, the dialect, the
 * row lexer, value parsers, type inference and the chunked parallel reader.
 *
 * How a read goes: csv_reader.c settles the dialect, the header and the
 * columns on the first bytes; csv_pipeline.c cuts the input into chunks,
 * each (but the first) starting speculatively after the first line break
 * past its cut, samples types at every chunk's start, lexes and converts
 * every chunk in one task on the worker pool (csv_chunk.c: lexer csv_lex.c,
 * values csv_values.c, Arrow buffers csv_convert.c), then verifies in order
 * that each chunk started where the previous one really ended, parses the
 * fooled ones again, and gives each column one type.
 *
 * Thread safety: options are read-only once a reader copied them; a reader
 * is used by one thread at a time; lexing and conversion of different chunks
 * run concurrently on the reader's pool.
 */
#ifndef HOIST_CSV_INTERNAL_H
#define HOIST_CSV_INTERNAL_H

#include "csv.h"

#include "arrow_internal.h"

#include <stdbool.h>
#include <string.h>

/* ---- types ------------------------------------------------------------- */

/* Column types, ordered as inference prefers them. */
enum hx_csv_type {
    HX_CSV_NULL = 0,
    HX_CSV_INT64,
    HX_CSV_BOOL,
    HX_CSV_FLOAT64,
    HX_CSV_DATE32,
    HX_CSV_TIMESTAMP,     /* timestamp[us], no zone */
    HX_CSV_TIMESTAMP_UTC, /* timestamp[us, UTC], from values with a zone */
    HX_CSV_STRING,
    HX_CSV_NTYPES
};

/* Parses a type name ("int64", "double", "timestamp[us, tz=UTC]", ...). */
bool hx_csv_type_from_name(const char *name, enum hx_csv_type *out);
const char *hx_csv_type_name(enum hx_csv_type t);
/* Arrow format string of a type ("l", "tsu:UTC", ...). */
const char *hx_csv_type_format(enum hx_csv_type t);
/* The narrowest type holding values of both (int+float = float, date +
 * timestamp = timestamp, anything else that differs = string). */
enum hx_csv_type hx_csv_type_join(enum hx_csv_type a, enum hx_csv_type b);

/* ---- options --------------------------------------------------------- */

struct hx_csv_strlist {
    char **v;
    size_t n;
    bool set; /* false: use the default */
};

struct hx_csv_coltype {
    char *name;
    enum hx_csv_type type;
};

struct hoist_csv_options {
    int delimiter; /* -1: sniffed among , \t ; | */
    int quote;     /* 0: no quoting */
    int escape;    /* 0: none */
    int double_quote;
    int header;  /* -1: sniffed */
    int comment; /* 0: none */
    int skip_bad_rows;
    int strings_can_be_null;
    int quote_strings; /* writer: quote every string and header name (pyarrow's style) */
    unsigned threads;
    size_t chunk_size; /* 0: automatic */
    size_t block_size; /* streaming: bytes buffered before a parse; 0: automatic */
    struct hx_csv_strlist null_values, true_values, false_values, columns, column_names;
    struct hx_csv_coltype *types;
    size_t ntypes;
};

HOIST_NODISCARD hx_status hx_csv_options_copy(const struct hoist_csv_options *src, struct hoist_csv_options *dst);
void hx_csv_options_reset(struct hoist_csv_options *o);
void hx_csv_options_defaults(struct hoist_csv_options *o);

/* ---- dialect and lexer ------------------------------------------------ */

struct hx_csv_dialect {
    uint8_t delim, quote, escape, comment;
    bool has_quote, has_escape, has_comment, double_quote;
    /* Bytes that end an unquoted run: the delimiter, CR, LF, the escape. */
    uint8_t stop[256];
    bool simple; /* no escape, the quote is no stop: the fast row lexer applies */
};
void hx_csv_dialect_init(struct hx_csv_dialect *d, uint8_t delim, int quote, int escape, bool double_quote,
                         int comment);

/* A field's bytes relative to a base offset. When HX_CSV_FIELD_RAW is set in
 * len the span is the raw field (quotes, doubled quotes, escapes) and
 * hx_csv_unescape gives its value; otherwise the span is the value itself. */
struct hx_csv_field {
    uint32_t off;
    uint32_t len;
};
#define HX_CSV_FIELD_RAW 0x80000000u
#define HX_CSV_FIELD_MAXLEN 0x7fffffffu

enum hx_csv_row {
    HX_ROW_OK = 0,
    HX_ROW_INCOMPLETE,   /* the data ended inside the row and more may come */
    HX_ROW_UNTERMINATED, /* the data ended inside a quoted field: final */
    HX_ROW_TOO_BIG       /* a field or an offset does not fit 31/32 bits */
};

/* Lexes one row starting at p (not at a blank or comment line: see
 * hx_csv_skip_lines). Fields with index i < cap go to out[map ? map[i] : i]
 * (skipped when map[i] < 0), offsets relative to base. *nfields gets the
 * row's field count, *next the position after its line break. */
enum hx_csv_row hx_csv_lex_row(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, bool final,
                               size_t base, const int *map, size_t cap, struct hx_csv_field *out, size_t *nfields,
                               size_t *next);
/* The two lexers behind hx_csv_lex_row (exposed for tests): the fast one,
 * for d->simple dialects, takes a row only when it reads it exactly as the
 * general one does (true), else leaves it (false; out may be scribbled). */
bool hx_csv_lex_row_fast(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, size_t base,
                         const int *map, size_t cap, struct hx_csv_field *out, size_t *nfields, size_t *next);
enum hx_csv_row hx_csv_lex_row_general(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p,
                                       bool final, size_t base, const int *map, size_t cap, struct hx_csv_field *out,
                                       size_t *nfields, size_t *next);
/* Skips blank lines and comment lines from p; returns the first position of
 * a row, len at the end, or SIZE_MAX when a comment line is cut by the end
 * of non-final data. */
size_t hx_csv_skip_lines(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, bool final);
/* First position >= p that follows a line break (CR, LF or CRLF), or len. */
size_t hx_csv_next_line(const uint8_t *data, size_t len, size_t p);
/* The value of a RAW field into buf (reset first). */
HOIST_NODISCARD hx_status hx_csv_unescape(const struct hx_csv_dialect *d, const uint8_t *raw, size_t n,
                                          struct hx_buf *buf);
/* A field's value: in place, or unescaped into tmp; false when out of memory. */
bool hx_csv_field_value(const struct hx_csv_dialect *d, const uint8_t *base, struct hx_csv_field f, struct hx_buf *tmp,
                        const uint8_t **s, size_t *n);
/* Physical line number (1-based) of position pos: counts LF, CRLF and lone CR. */
uint64_t hx_csv_line_of(const uint8_t *data, size_t pos);

/* ---- values ------------------------------------------------------------ */

/* Which strings are null / true / false, matched exactly. */
#define HX_CSV_WORDS_FAST 32
struct hx_csv_words {
    char **v;
    size_t n;
    /* [min(len, 16)][first byte]: some word starts so (the empty word sets
     * [0][0]); most values are rejected by this one lookup */
    uint8_t lenfirst[17][256];
    uint32_t wlen[HX_CSV_WORDS_FAST]; /* lengths of the first words */
    /* [t]: some word converts to a value of type t (int64, date32, either
     * timestamp; float64 counts only values that are not NaN). When none
     * does, a value that converts to t is no word: conversion skips the
     * lookup for it. */
    bool converts[HX_CSV_NTYPES];
};
void hx_csv_words_init(struct hx_csv_words *w, const struct hx_csv_strlist *list, const char *const *defaults);
bool hx_csv_words_match(const struct hx_csv_words *w, const uint8_t *s, size_t n);
/* Asked of every value: the common "no" is one table lookup, inline. */
static inline bool hx_csv_words_has(const struct hx_csv_words *w, const uint8_t *s, size_t n) {
    if (!w->lenfirst[n < 16 ? n : 16][n ? s[0] : 0]) return false;
    return n == 0 || hx_csv_words_match(w, s, n);
}

extern const char *const hx_csv_default_nulls[];
extern const char *const hx_csv_default_trues[];
extern const char *const hx_csv_default_falses[];

bool hx_csv_parse_int64(const uint8_t *s, size_t n, int64_t *out);
bool hx_csv_parse_float64(const uint8_t *s, size_t n, double *out);
/* csv_float.c: (neg ? -1 : 1)·w·10^q correctly rounded into *out when a
 * 128-bit product decides it (w != 0); false (rare: a near-tie, subnormal,
 * overflow, q out of range) leaves it to strtod. */
bool hx_csv_eisel_lemire(uint64_t w, int64_t q, bool neg, double *out);
/* Numbers, dates and times may be padded with spaces or tabs (as pyarrow
 * reads them); text is never trimmed. Most values have no padding: one test
 * of the end bytes skips the loops. */
static inline void hx_csv_trim(const uint8_t **s, size_t *n) {
    if (!*n || ((*s)[0] > ' ' && (*s)[*n - 1] > ' ')) return;
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/* The powers of ten 1e0..1e22, every one an exact double. */
extern const double hx_csv_pow10_exact[23];

/* Eight ASCII digits at once (SWAR, little-endian loads): whether all of
 * v's bytes are '0'..'9', and their value. A digit byte is 0x30..0x39: its
 * high nibble is 3, and adding 6 keeps it 3 only up to '9'. */
static inline bool hx_csv_eight_digits(uint64_t v) {
    return ((v & 0xf0f0f0f0f0f0f0f0ull) | (((v + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) >> 4)) ==
           0x3333333333333333ull;
}
static inline uint64_t hx_csv_eight_digits_value(uint64_t v) {
    v -= 0x3030303030303030ull;
    v = v * 10 + (v >> 8); /* pairs: byte 2k holds digits 2k, 2k+1 as a number 0..99 */
    uint64_t a = (v & 0x000000ff000000ffull) * (100 + (1000000ull << 32));
    uint64_t b = ((v >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32));
    return (a + b) >> 32;
}

/* Accumulates the digits from p into *mant (wrapping; the caller counts
 * them), eight at a time while eight are there; returns the first
 * non-digit position. */
static inline const uint8_t *hx_csv_digits_into(const uint8_t *p, const uint8_t *end, uint64_t *mant) {
    uint64_t m = *mant, v;
    while (end - p >= 8) {
        memcpy(&v, p, 8);
        if (!hx_csv_eight_digits(v)) break;
        m = m * 100000000 + hx_csv_eight_digits_value(v);
        p += 8;
    }
    while (p < end && (unsigned)(*p - '0') < 10) m = m * 10 + (unsigned)(*p++ - '0');
    *mant = m;
    return p;
}

/* digits[.digits] from p into *mant (unchecked past 19 digits), counting
 * all digits in *ndig and those after the point in *nfrac; returns the
 * first byte after them. */
static inline const uint8_t *hx_csv_decimal_into(const uint8_t *p, const uint8_t *end, uint64_t *mant, size_t *ndig,
                                                 size_t *nfrac) {
    const uint8_t *d0 = p;
    p = hx_csv_digits_into(p, end, mant);
    *ndig = (size_t)(p - d0);
    *nfrac = 0;
    if (p < end && *p == '.') {
        const uint8_t *f0 = ++p;
        p = hx_csv_digits_into(p, end, mant);
        *nfrac = (size_t)(p - f0);
        *ndig += *nfrac;
    }
    return p;
}

/* The shape most numbers in a float column have, inlined into conversion:
 * [-]digits[.digits], at most 19 digits, nothing else (no '+', padding,
 * exponent or word). It computes what hx_csv_parse_float64 computes for
 * such text (the same paths: Clinger's exact division, else the 128-bit
 * product) without the call and the checks for rarer shapes; false leaves
 * the text to that parser, which then decides. A value it takes is finite,
 * so never a NaN that could be a null word. */
static inline bool hx_csv_parse_float64_plain(const uint8_t *s, size_t n, double *out) {
    const uint8_t *p = s, *end = s + n;
    bool neg = n && *p == '-';
    p += neg;
    uint64_t mant = 0;
    size_t ndig, nfrac;
    p = hx_csv_decimal_into(p, end, &mant, &ndig, &nfrac);
    if (p != end || ndig == 0 || ndig > 19) return false;
    /* nfrac <= ndig <= 19: the power of ten is exact */
    if (mant <= ((uint64_t)1 << 53)) {
        double v = (double)mant / hx_csv_pow10_exact[nfrac];
        *out = neg ? -v : v;
        return true;
    }
    return hx_csv_eisel_lemire(mant, -(int64_t)nfrac, neg, out);
}
bool hx_csv_parse_date32(const uint8_t *s, size_t n, int32_t *out);
/* ISO 8601 date, or date + 'T'/' ' + HH:MM[:SS[.fraction]] + optional zone
 * (Z, ±HH, ±HHMM, ±HH:MM). *zoned tells whether a zone was given; the value
 * is microseconds since the epoch, UTC when zoned. A fraction finer than a
 * microsecond that is not zero does not parse (it would be lost). */
bool hx_csv_parse_timestamp(const uint8_t *s, size_t n, int64_t *out, bool *zoned);
/* True when s is valid UTF-8. */
bool hx_csv_utf8_valid(const uint8_t *s, size_t n);

/* Bit (1 << type) for each type a non-null value parses as; STRING always. */
unsigned hx_csv_value_types(const struct hx_csv_words *trues, const struct hx_csv_words *falses, const uint8_t *s,
                            size_t n);
/* The preferred type in a mask from hx_csv_value_types (ANDed over values). */
enum hx_csv_type hx_csv_mask_best(unsigned mask);

/* ---- sniffing ----------------------------------------------------------- */

/* Picks the delimiter among , \t ; | whose rows in data[0, len) are most
 * consistently split into more than one field; ',' when none is. */
uint8_t hx_csv_sniff_delimiter(const uint8_t *data, size_t len, bool final, int quote, int escape, bool double_quote,
                               int comment);

/* ---- column conversion ------------------------------------------------ */

struct hx_csv_convert_ctx {
    const struct hx_csv_dialect *d;
    const struct hx_csv_words *nulls, *trues, *falses;
    bool strings_can_be_null;
};

/* Why a column's conversion stopped: the row and the type the value needs. */
struct hx_csv_convert_fail {
    int64_t row;             /* token row index */
    enum hx_csv_type wanted; /* hx_csv_mask_best of the value alone */
    bool bad_utf8;
};

/* Converts column j of nrows token rows (fields[r * stride + j], offsets
 * relative to base) to type t into *out (an initialised-by-this-function
 * Arrow array). Rows with dropped[r] set are left out. HOIST_OK, or
 * HOIST_ERR_CSV_PARSE with *fail filled (no message set, out untouched),
 * or HOIST_ERR_NOMEM / LIMIT. */
HOIST_NODISCARD hx_status hx_csv_convert_column(const struct hx_csv_convert_ctx *cx, const uint8_t *base,
                                                const struct hx_csv_field *fields, size_t stride, size_t j,
                                                int64_t nrows, const uint8_t *dropped, enum hx_csv_type t,
                                                struct hx_buf *scratch, struct ArrowArray *out,
                                                struct hx_csv_convert_fail *fail);

/* ---- the reader ---------------------------------------------------------- */

#define HX_CSV_BAD_LINES 8

/* One piece of a job: the rows whose first byte lies in [start, end). */
struct hx_csv_chunk {
    size_t nominal, stop; /* where it was cut, where the next one is cut */
    size_t start, end;
    bool incomplete; /* non-final data ended inside the row at end */
    int64_t nrows;
    size_t cap_rows;
    struct hx_csv_field *fields; /* nrows x nproj, offsets relative to start */
    uint32_t *row_off;           /* each row's first byte, relative to start */
    uint8_t *dropped;            /* rows left out at conversion (skip_bad_rows, then the row filter) */
    int64_t ndropped;
    int64_t nfiltered; /* rows the row filter dropped (marked in dropped too) */
    bool filtered;     /* the row filter ran on this chunk */
    /* lexing outcome: HOIST_OK, or the failure at err_pos (a row start) */
    hx_status st;
    size_t err_pos;
    size_t err_col; /* 1-based, 0 when the error concerns the row */
    char err[160];
    int64_t nbad;
    size_t bad_pos[HX_CSV_BAD_LINES];
    /* conversion outcome, per projected column */
    enum hx_csv_type *types;
    struct ArrowArray *cols;
    hx_status cst;
    int64_t fail_row;
    size_t fail_col; /* projected index */
    bool fail_utf8, fail_widen_refused;
    char cerr[160];
};

struct hx_csv_job {
    struct hoist_csv_reader *rd;
    const uint8_t *data;
    size_t len;
    bool final;
};

struct hoist_csv_reader {
    struct hoist_csv_options opts;
    char *name;
    struct hx_csv_dialect d;
    struct hx_csv_words nulls, trues, falses;
    struct hx_csv_convert_ctx cx;
    unsigned threads;
    struct hx_pool *pool;

    bool started;     /* dialect, header and columns settled */
    bool header;      /* the first row was a header (settled) */
    bool types_known; /* after the first job: later values must fit */
    size_t ncols;     /* fields per row */
    char **names;     /* ncols column names */
    int *proj_map;    /* ncols: projected index or -1 */
    size_t nproj;
    size_t *proj_cols;       /* nproj: file column of each output column */
    enum hx_csv_type *types; /* nproj */
    bool *explicit_type;     /* nproj */

    /* streaming */
    struct hx_buf buf;
    size_t threshold;
    bool finished;
    hx_status failed;
    char *failed_msg;
    uint64_t base_line; /* lines consumed before buf */
    uint64_t sample_bytes;

    struct ArrowArray *queue;
    size_t qhead, qlen, qcap;
    struct hoist_csv_stats stats;

    /* hx_csv_read_mapped: a parsed chunk's text may be paged out */
    hx_csv_done_fn done_fn;
    void *done_ud;

    /* the row filter (hx_csv_reader_set_row_filter) */
    hx_csv_row_filter_fn filter_fn;
    void *filter_ud;
    size_t *filter_cols;
    size_t nfilter_cols;
    bool filter_active; /* set types everywhere, no skip_bad_rows (settled with the columns) */
};

/* csv_chunk.c: lexes rows of [ch->start, ...) until one starts at or after
 * ch->stop; converts a lexed chunk's projected columns. Both run on
 * workers and write only to the chunk. */
void hx_csv_lex_chunk(const struct hx_csv_job *job, struct hx_csv_chunk *ch);
void hx_csv_convert_chunk(const struct hx_csv_job *job, struct hx_csv_chunk *ch, bool widen,
                          const enum hx_csv_type *only_if_not);
void hx_csv_chunk_reset(struct hx_csv_chunk *ch, size_t nproj);

/* csv_pipeline.c: parses [start, job->len) of a settled job as chunks on
 * the pool into batches on the reader's queue; *consumed is where the last
 * complete row ends. */
HOIST_NODISCARD hx_status hx_csv_run_chunks(struct hoist_csv_reader *rd, const struct hx_csv_job *job, size_t start,
                                            size_t *consumed);

/* csv_reader.c */
const char *hx_csv_reader_name(const struct hoist_csv_reader *rd);
HOIST_NODISCARD hx_status hx_csv_run_job(struct hoist_csv_reader *rd, const uint8_t *data, size_t len, bool final,
                                         size_t *consumed);

#endif /* HOIST_CSV_INTERNAL_H */
