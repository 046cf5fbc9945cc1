/*
 * pq_write_internal.h — the Parquet encoder's internals: a Thrift compact
 * protocol writer, the encoding kernels (RLE/bit-packed hybrid, delta,
 * byte-stream-split), page compression, the Arrow → Parquet schema mapping,
 * shredding of Arrow arrays into per-leaf levels and values, statistics, the
 * column chunk encoder and the ARROW:schema IPC flatbuffer.
 *
 * Thread safety: a column chunk is shredded and encoded by one task at a
 * time; tasks of different leaves share only the immutable schema and
 * options. Nothing here does I/O.
 */
#ifndef HOIST_PQ_WRITE_INTERNAL_H
#define HOIST_PQ_WRITE_INTERNAL_H

#include "parquet_internal.h"

#include <limits.h>

/* ULEB128 varint of v into p (at most 10 bytes); returns its length. Thrift's
 * compact protocol, RLE run headers and DELTA headers all use it. */
static inline size_t hx_pqw_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* ---- Thrift compact protocol writer (thrift-compact-protocol.md) ---------- */

#define HX_TW_MAX_DEPTH 16
struct hx_tw {
    struct hx_buf *out;
    int16_t last[HX_TW_MAX_DEPTH]; /* last field id per open struct */
    int depth;
    hx_status st; /* first failure; later calls do nothing */
};
void hx_tw_init(struct hx_tw *w, struct hx_buf *out);
/* Field headers and values: each writes one field of the current struct. */
void hx_tw_i8(struct hx_tw *w, int16_t id, int8_t v);
void hx_tw_i16(struct hx_tw *w, int16_t id, int16_t v);
void hx_tw_i32(struct hx_tw *w, int16_t id, int32_t v);
void hx_tw_i64(struct hx_tw *w, int16_t id, int64_t v);
void hx_tw_bool(struct hx_tw *w, int16_t id, int v);
void hx_tw_binary(struct hx_tw *w, int16_t id, const void *data, size_t len);
void hx_tw_string(struct hx_tw *w, int16_t id, const char *s);
/* A struct-valued field (hx_tw_struct_end closes it). */
void hx_tw_struct_begin(struct hx_tw *w, int16_t id);
void hx_tw_struct_end(struct hx_tw *w);
/* A list-valued field; then write n elements with the elem_* calls. */
void hx_tw_list_begin(struct hx_tw *w, int16_t id, int elem_type, uint32_t n);
void hx_tw_elem_i32(struct hx_tw *w, int32_t v);
void hx_tw_elem_i64(struct hx_tw *w, int64_t v);
void hx_tw_elem_bool(struct hx_tw *w, int v);
void hx_tw_elem_binary(struct hx_tw *w, const void *data, size_t len);
/* A struct element of a list (closed with hx_tw_struct_end). */
void hx_tw_elem_struct_begin(struct hx_tw *w);
/* Ends the top-level struct (writes its stop byte); returns the status. */
HOIST_NODISCARD hx_status hx_tw_finish(struct hx_tw *w);

/* ---- encoding kernels (pq_enc_rle.c, pq_enc_delta.c) --------------------- */

/* Bits needed for values up to max (0 for 0). */
int hx_bit_width(uint64_t max);
/* RLE/bit-packed hybrid of n values of bit_width bits (no length prefix),
 * appended to out. Runs of 8 or more equal values become RLE runs, the rest
 * bit-packed runs of up to 504 values (one-byte headers). */
HOIST_NODISCARD hx_status hx_rle_encode_u16(const uint16_t *v, size_t n, int bit_width, struct hx_buf *out);
HOIST_NODISCARD hx_status hx_rle_encode_u32(const uint32_t *v, size_t n, int bit_width, struct hx_buf *out);
/* The same with the portable run search only (the above use SSE2 where the
 * target has it); for the tests, which hold one to the other. */
HOIST_NODISCARD hx_status hx_rle_encode_u16_portable(const uint16_t *v, size_t n, int bit_width, struct hx_buf *out);
HOIST_NODISCARD hx_status hx_rle_encode_u32_portable(const uint32_t *v, size_t n, int bit_width, struct hx_buf *out);
/* The same for n copies of value, without reading them. */
HOIST_NODISCARD hx_status hx_rle_encode_repeat(uint32_t value, size_t n, int bit_width, struct hx_buf *out);
/* PLAIN booleans: n one-byte 0/1 values bit-packed LSB-first. */
HOIST_NODISCARD hx_status hx_plain_bool_encode(const uint8_t *v, size_t n, struct hx_buf *out);
/* DELTA_BINARY_PACKED of n values (128-value blocks of 4 miniblocks). */
HOIST_NODISCARD hx_status hx_delta_encode_i32(const int32_t *v, size_t n, struct hx_buf *out);
HOIST_NODISCARD hx_status hx_delta_encode_i64(const int64_t *v, size_t n, struct hx_buf *out);
/* BYTE_STREAM_SPLIT of n values of width bytes. */
HOIST_NODISCARD hx_status hx_bss_encode(const uint8_t *v, size_t n, size_t width, struct hx_buf *out);

/* ---- compression (pq_enc_codec.c) ------------------------------------------ */

/* A codec with its level and lazily made per-task contexts. */
struct hx_pqw_compressor {
    enum hx_pq_codec codec;
    int level;
    void *zstd;     /* ZSTD_CCtx */
    int zstd_level; /* the level zstd's parameters were set for (columns may differ) */
    void *deflate;  /* struct libdeflate_compressor */
};
void hx_pqw_compressor_init(struct hx_pqw_compressor *c, enum hx_pq_codec codec, int level);
void hx_pqw_compressor_free(struct hx_pqw_compressor *c);
/* Compresses src, appending to out. */
HOIST_NODISCARD hx_status hx_pqw_compress(struct hx_pqw_compressor *c, const uint8_t *src, size_t len,
                                          struct hx_buf *out);
/* The level a codec uses when none is given. Not -1: zstd's levels go down
 * to -131072 ("zstd:-1" is its fastest-but-one setting, a level of its own). */
#define HX_PQW_LEVEL_DEFAULT INT_MIN

/* Parses "zstd", "zstd:3", ...; HX_PQW_LEVEL_DEFAULT = the codec's default. */
HOIST_NODISCARD hx_status hx_pqw_parse_codec(const char *s, enum hx_pq_codec *codec, int *level);

/* ---- options (pq_write_options.c) ------------------------------------------ */

enum hx_pqw_enc {
    PQW_ENC_DEFAULT = 0,
    PQW_ENC_PLAIN,
    PQW_ENC_DELTA_BINARY_PACKED,
    PQW_ENC_DELTA_LENGTH_BYTE_ARRAY,
    PQW_ENC_DELTA_BYTE_ARRAY,
    PQW_ENC_BYTE_STREAM_SPLIT
};

struct hx_pqw_colopt {
    char *path;
    int has_codec;
    enum hx_pq_codec codec;
    int level;
    int dictionary; /* -1 = file default */
    enum hx_pqw_enc encoding;
    double bloom_fpp; /* 0 = no bloom filter */
    int64_t bloom_ndv;
};

struct hoist_pq_write_options {
    enum hx_pq_codec codec;
    int level;
    int64_t row_group_rows, row_group_bytes, page_bytes, dict_page_bytes;
    int dictionary, page_version, statistics, page_index, page_crc, store_schema;
    int threads;
    char *created_by;
    struct hx_pqw_colopt *cols;
    size_t ncols;
    char **kv; /* key, value pairs */
    size_t nkv;
};

/* Options of one leaf (the file's, overridden by its column entry). */
struct hx_pqw_leafopt {
    enum hx_pq_codec codec;
    int level;
    int dictionary;
    enum hx_pqw_enc encoding;
    double bloom_fpp;
    int64_t bloom_ndv;
};

/* ---- schema mapping (pq_write_schema.c) ------------------------------------ */

enum hx_pqw_kind { PQW_LEAF, PQW_STRUCT, PQW_LIST, PQW_MAP };

/* How an Arrow value becomes a Parquet physical value. */
enum hx_pqw_conv {
    WC_NULL, /* Arrow null: INT32, never a value */
    WC_BOOL, /* bitmap -> one byte 0/1 */
    WC_COPY, /* same width and bytes */
    WC_I8,
    WC_U8,
    WC_I16,
    WC_U16,      /* widen to INT32 */
    WC_MUL32,    /* int32 * k (time32[s] -> ms) */
    WC_DIV64_32, /* int64 / k -> INT32 (date64 -> days) */
    WC_MUL64,    /* int64 * k (timestamp[s] -> ms) */
    WC_DEC,      /* little-endian decimal128/256 -> big-endian FLBA(type_length) */
    WC_BIN32,
    WC_BIN64,
    WC_VIEW /* binary-like -> BYTE_ARRAY */
};

/* Parquet sort orders we compute statistics in. */
enum hx_pqw_order { SO_NONE, SO_BOOL, SO_I32, SO_U32, SO_I64, SO_U64, SO_FLOAT, SO_DOUBLE, SO_F16, SO_BYTES, SO_DEC };

struct hx_pqw_node {
    enum hx_pqw_kind kind;
    char *name;
    const char *format; /* points into the writer's schema copy */
    int nullable;
    int def; /* definition level when this node is present and non-null */
    int rep; /* PQW_LIST/MAP: repetition level of its repeated group */
    int nchildren;
    struct hx_pqw_node *children;
    int fixed_size; /* PQW_LIST: > 0 for fixed_size_list */
    int large;      /* PQW_LIST: 64-bit offsets */
    int view;       /* PQW_LIST: list view (offsets and sizes) */
    int first_leaf, n_leaves;
    /* PQW_LEAF */
    int leaf;
    int ptype, type_length;
    enum hx_pqw_conv conv;
    int in_width; /* Arrow bytes per value (WC_COPY, WC_DEC, ...) */
    int64_t conv_k;
    int dict_index_bytes; /* Arrow dictionary input: index width (values in node's conversion) */
    int dict_index_signed;
    enum hx_pqw_order order;
    /* schema element annotations */
    int converted;              /* -1 none */
    int logical;                /* PQL_*, PQL_NONE */
    int has_field_id, field_id; /* PARQUET:field_id field metadata */
    int lt_unit, lt_utc, lt_bits, lt_signed;
    int scale, precision;
};

struct hx_pqw_leaf {
    const struct hx_pqw_node *node;
    char **path; /* path_in_schema */
    int npath;
    char *dotted;
    int max_def, max_rep;
    struct hx_pqw_leafopt opt;
};

struct hx_pqw_schema {
    struct hx_pqw_node root; /* PQW_STRUCT */
    int nleaves;
    struct hx_pqw_leaf *leaves;
    int nelements;
};

HOIST_NODISCARD hx_status hx_pqw_schema_build(const struct ArrowSchema *schema, const struct hoist_pq_write_options *o,
                                              struct hx_pqw_schema *out);
void hx_pqw_schema_free(struct hx_pqw_schema *s);
/* Writes FileMetaData.schema (field 2). */
void hx_pqw_schema_write(const struct hx_pqw_schema *s, struct hx_tw *w);

/* ---- shredding (pq_write_shred.c) ------------------------------------------- */

/* One leaf's levels and values not yet encoded into pages (the rows of the
 * batch being written and the rest of a page begun earlier), in physical
 * form: fixed-width values back to back (booleans one byte each), byte
 * arrays as int64 offsets + bytes. */
struct hx_pqw_leafbuf {
    struct hx_arrow_buf def, rep; /* uint16 levels (only when max_def / max_rep > 0) */
    struct hx_arrow_buf vals;     /* fixed-width values, or byte-array bytes */
    struct hx_arrow_buf offs;     /* byte arrays: int64 offsets, n_values + 1 */
    int64_t n_levels, n_values, n_rows;
    /* def_all_max: the definition levels are not stored because every one
     * so far is max_def (a flat column without nulls yet): writing 2 bytes
     * a row that no page reads costs more than encoding them. They are
     * stored on the first null; they count in hx_pqw_leafbuf_bytes as if
     * stored, so row groups end where they would. */
    int def_all_max;
    /* Arrow dictionary input kept as it came (no re-hashing, as Arrow C++'s
     * WriteArrowDictionary): idx holds one uint32 index per value and dict
     * the converted dictionary values. A batch with another dictionary
     * turns the row group's data back into plain values (dict_off). */
    int dict_mode, dict_off;
    struct hx_arrow_buf idx;
    struct hx_pqw_leafbuf *dict;
    const void *dict_seen[4]; /* buffers, offset, length of the dictionary matched in this batch */
};
void hx_pqw_leafbuf_reset(struct hx_pqw_leafbuf *b); /* frees */
void hx_pqw_leafbuf_clear(struct hx_pqw_leafbuf *b); /* keeps memory */
uint64_t hx_pqw_leafbuf_bytes(const struct hx_pqw_leafbuf *b);
/* Drops the first levels, values and rows (encoded into pages), keeping
 * the rest at the front; an Arrow dictionary stays. */
void hx_pqw_leafbuf_drop_front(struct hx_pqw_leafbuf *b, int64_t levels, int64_t values, int64_t rows);
/* Appends rows [row0, row0 + nrows) of batch (a struct array of the schema)
 * for one leaf. */
HOIST_NODISCARD hx_status hx_pqw_shred(const struct hx_pqw_schema *s, const struct hx_pqw_leaf *leaf,
                                       const struct ArrowArray *batch, int64_t row0, int64_t nrows,
                                       struct hx_pqw_leafbuf *out);
/* Values of a dictionary-mode buffer gathered into plain values (out must
 * be empty). */
HOIST_NODISCARD hx_status hx_pqw_leafbuf_gather(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *b,
                                                struct hx_pqw_leafbuf *out);
/* Checks the batch's shape against the schema (children, lengths, buffers). */
HOIST_NODISCARD hx_status hx_pqw_check_batch(const struct hx_pqw_schema *s, const struct ArrowArray *batch);

/* ---- statistics (pq_write_stats.c) ------------------------------------------ */

#define HX_PQW_STAT_TRUNC 64 /* bytes kept of long byte-array bounds (arrow-rs' default) */
struct hx_pqw_stats {
    int has_minmax;
    uint8_t *min, *max; /* owned */
    size_t min_len, max_len;
    int min_exact, max_exact;
    int64_t null_count;
    int64_t nan_count; /* floats (Statistics field 9) */
    int all_nan;       /* non-null values exist but all are NaN */
};
void hx_pqw_stats_reset(struct hx_pqw_stats *s);
/* Bounds of values [v0, v1) of a leaf buffer in the leaf's sort order. */
HOIST_NODISCARD hx_status hx_pqw_stats_compute(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *b,
                                               int64_t v0, int64_t v1, struct hx_pqw_stats *out);
/* Bounds of the entries which[0, m) of a dictionary's entries (no null
 * count; nan_count counts entries, not values). */
HOIST_NODISCARD hx_status hx_pqw_stats_compute_entries(const struct hx_pqw_leaf *leaf,
                                                       const struct hx_pqw_leafbuf *entries, const uint32_t *which,
                                                       size_t m, struct hx_pqw_stats *out);
/* into += from (min of mins, max of maxes, null counts added). */
HOIST_NODISCARD hx_status hx_pqw_stats_merge(enum hx_pqw_order order, struct hx_pqw_stats *into,
                                             const struct hx_pqw_stats *from);
int hx_pqw_compare(enum hx_pqw_order order, const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
/* Statistics struct fields (legacy min/max only for signed orders). */
void hx_pqw_stats_write(const struct hx_pqw_stats *s, enum hx_pqw_order order, struct hx_tw *w);

/* ---- dictionaries (pq_write_dict.c) ------------------------------------------ */

/* Bytes per value of a fixed-width physical type (booleans 1; byte arrays 0). */
static inline size_t hx_pqw_value_width(const struct hx_pqw_node *n) {
    switch (n->ptype) {
    case PQT_BOOLEAN: return 1;
    case PQT_INT32:
    case PQT_FLOAT: return 4;
    case PQT_FLBA: return (size_t)n->type_length;
    case PQT_BYTE_ARRAY: return 0;
    default: return 8;
    }
}

/* Value i of a leaf buffer: its bytes and length. */
static inline const uint8_t *hx_pqw_value_at(const struct hx_pqw_leafbuf *b, int ba, size_t w, uint32_t i,
                                             size_t *len) {
    if (ba) {
        const int64_t *off = (const int64_t *)(const void *)b->offs.data;
        *len = (size_t)(off[i + 1] - off[i]);
        return b->vals.data + off[i];
    }
    *len = w;
    return b->vals.data + (size_t)i * w;
}

/* A byte-array dictionary's hash slot: the value's full hash and length
 * decide equality of values up to 8 bytes (the hash is injective there)
 * and spare a compare of the bytes for all but true matches otherwise. */
struct hx_pqw_dslot {
    uint64_t hash;
    uint32_t entry; /* entry + 1, 0 = empty */
    uint32_t len;
};

/* A column chunk's dictionary, grown as its pages are encoded: the
 * distinct values in first-seen order (copies: the values they came from
 * leave once paged) and a hash table over them. */
struct hx_pqw_dict {
    struct hx_pqw_dslot *slots; /* byte arrays and other widths */
    size_t cap;
    struct hx_pqw_leafbuf entries; /* entry i = value i */
    size_t n;
    int64_t plain_bytes; /* PLAIN size of the entries */
    int64_t seen;        /* values looked up so far in this chunk */
    /* 4/8-byte values: keys kept in the table, so a probe touches one
     * cache line, not three */
    uint64_t *keys;
    uint32_t *kslots;
    size_t kcap;
};
void hx_pqw_dict_free(struct hx_pqw_dict *d);
/* Empties the dictionary for the leaf's next chunk (keeps small tables). */
void hx_pqw_dict_clear(struct hx_pqw_dict *d);
/* Values a chunk's dictionary is judged on last; its pages wait until then
 * (a page given to a dictionary that is then dropped stays dictionary-
 * encoded, larger than PLAIN for a near-unique column). */
#define HX_PQW_DICT_SETTLED 65536
/* Looks up values [v0, v1) of b (adding new entries), their entry numbers
 * into idx[0 .. v1 - v0). *taken: how many were looked up before the
 * dictionary passed limit, or before its first values (n_chunk values in
 * the chunk at most) showed that it would; the dictionary ends there. */
HOIST_NODISCARD hx_status hx_pqw_dict_add(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *b, int64_t v0,
                                          int64_t v1, int64_t limit, int64_t n_chunk, struct hx_pqw_dict *d,
                                          uint32_t *idx, int64_t *taken);
/* *rank (hx_free) gets each entry's position in the column's sort order, -1 for NaN. */
HOIST_NODISCARD hx_status hx_pqw_dict_rank(const struct hx_pqw_leaf *leaf, const struct hx_pqw_leafbuf *entries,
                                           int32_t **rank);

/* ---- column chunk encoder (pq_write_column.c) ------------------------------- */

struct hx_pqw_page {
    int64_t offset; /* in the chunk's bytes; made absolute when emitted */
    int32_t size;   /* header + body */
    int64_t first_row;
    int64_t null_count;
    int null_page;
    uint8_t *min, *max;
    size_t min_len, max_len;
    int64_t unencoded_ba_bytes;
};

struct hx_pqw_chunk {
    struct hx_buf bytes;     /* the data pages */
    struct hx_buf dict_page; /* header + body, emitted before bytes; empty: none */
    int64_t num_values;
    int64_t total_uncompressed, total_compressed;
    int64_t dict_offset; /* -1 none; relative until emitted */
    int64_t data_offset;
    enum hx_pq_codec codec;
    unsigned encodings; /* bit per PQE_* */
    int n_dict_pages;
    int n_data_pages_by_enc[10];
    struct hx_pqw_stats stats;
    struct hx_pqw_page *pages;
    size_t npages, page_cap;
    int column_index_ok;
    int boundary_order;
    int64_t unencoded_ba_bytes; /* -1 when not byte array */
    /* set by the writer */
    int64_t ci_offset, ci_len, oi_offset, oi_len, bloom_offset, bloom_len;
    struct hx_buf bloom; /* serialized header + bitset, or empty */
};
void hx_pqw_chunk_reset(struct hx_pqw_chunk *c);

struct hx_pqw_encode_cfg {
    const struct hoist_pq_write_options *o;
    int64_t page_rows; /* row limit per data page */
};

/* Buffers an encoding task keeps from one call to the next (the writer
 * hands one to each running task, whatever its leaf): fresh memory per
 * call costs page faults that rival the encoding. */
struct hx_pqw_scratch {
    struct hx_buf body, levels, comp_buf, header;
    struct hx_pqw_compressor comp; /* contexts kept from call to call */
};
void hx_pqw_scratch_free(struct hx_pqw_scratch *s);

/* One leaf's column chunk while its row group is written: pages are
 * encoded as rows arrive (a row group is never held whole), the
 * dictionary grows with them, and what a page needs at the chunk's end
 * (the dictionary page, the bloom filter) is kept here. */
enum hx_pqw_dict_state {
    PQW_DICT_UNDECIDED, /* no values seen yet */
    PQW_DICT_BUILD,     /* building the chunk's dictionary */
    PQW_DICT_DONE,      /* dictionary full: its pages stay, later ones PLAIN (Arrow C++'s fallback) */
    PQW_DICT_ARROW,     /* the input's Arrow dictionary, kept as it came */
    PQW_DICT_OFF        /* PLAIN (or the leaf's encoding) throughout */
};
struct hx_pqw_colenc {
    struct hx_pqw_chunk *out;
    enum hx_pqw_dict_state dict_state;
    struct hx_pqw_dict dict;
    uint32_t *idx; /* entry numbers of the leaf buffer's values [0, hashed) */
    size_t idx_cap;
    int64_t hashed;
    int32_t *rank;     /* PQW_DICT_ARROW: entry order, for page statistics */
    int dict_pages;    /* data pages encoded with the dictionary */
    int64_t rows;      /* rows in pages so far */
    int64_t raw_bytes; /* shredded bytes of the chunk (the row group size limit counts these) */
    uint32_t *bloom;   /* bitset words, or NULL */
    size_t bloom_bytes;
};
/* Starts a chunk into out (its bytes buffer, if any, is reused). */
void hx_pqw_colenc_begin(struct hx_pqw_colenc *e, const struct hx_pqw_leaf *leaf, struct hx_pqw_chunk *out);
/* Encodes the complete pages of b and drops them from b. final: every
 * row, then the chunk's end (dictionary page, bloom filter, null count,
 * boundary order); the chunk stays in out and e is ready for the next. */
HOIST_NODISCARD hx_status hx_pqw_colenc_feed(const struct hx_pqw_encode_cfg *cfg, const struct hx_pqw_leaf *leaf,
                                             struct hx_pqw_colenc *e, struct hx_pqw_leafbuf *b,
                                             struct hx_pqw_scratch *scratch, int final);
void hx_pqw_colenc_free(struct hx_pqw_colenc *e);
/* Serializes the page index structures of an emitted chunk. */
HOIST_NODISCARD hx_status hx_pqw_column_index(const struct hx_pqw_chunk *c, const struct hx_pqw_leaf *leaf,
                                              struct hx_buf *out);
HOIST_NODISCARD hx_status hx_pqw_offset_index(const struct hx_pqw_chunk *c, struct hx_buf *out);

/* ---- bloom filters (pq_write_bloom.c) ---------------------------------------- */

/* A chunk's split-block bloom filter, filled page by page: *words (hx_free)
 * gets a zeroed bitset of *bytes sized from the leaf's options. */
HOIST_NODISCARD hx_status hx_pqw_bloom_new(const struct hx_pqw_leaf *leaf, uint32_t **words, size_t *bytes);
/* Adds values [v0, v1) of b (plain form). */
void hx_pqw_bloom_add(const struct hx_pqw_leaf *leaf, uint32_t *words, size_t bytes, const struct hx_pqw_leafbuf *b,
                      int64_t v0, int64_t v1);
/* BloomFilterHeader + the bitset. */
HOIST_NODISCARD hx_status hx_pqw_bloom_write(const uint32_t *words, size_t bytes, struct hx_buf *out);

/* ---- the writer (pq_write.c) ---------------------------------------------------- */

/* Runs the writer's tasks on pool (borrowed; it must outlive the writer)
 * instead of threads of its own, e.g. one pool shared by the many files a
 * dataset write has open. NULL goes back to HOIST_PQW_THREADS. The bytes
 * written do not change. */
void hx_pqw_writer_use_pool(struct hoist_pq_writer *w, struct hx_pool *pool);

/* ---- ARROW:schema (pq_write_arrow_schema.c) ---------------------------------- */

/* Base64 of the IPC-encapsulated Schema message for an Arrow struct schema
 * (the value pyarrow stores under ARROW:schema). NUL-terminated, hx_free. */
HOIST_NODISCARD hx_status hx_pqw_arrow_schema_b64(const struct ArrowSchema *schema, char **out);

#endif /* HOIST_PQ_WRITE_INTERNAL_H */
