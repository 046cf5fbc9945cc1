/*
 * parquet_internal.h — the Parquet reader's internals: a Thrift compact
 * protocol decoder, the parsed footer (struct hoist_pq_file), the Arrow field
 * tree derived from the Parquet schema (and the ARROW:schema entry), and the
 * column-chunk decoder. Private to src/parquet (and its tests): the layers
 * above include parquet.h.
 *
 * Thread safety: a parsed hoist_pq_file is immutable; every decode function
 * takes it const and keeps its state on the stack or in its own buffers.
 */
#ifndef HOIST_PARQUET_INTERNAL_H
#define HOIST_PARQUET_INTERNAL_H

#include "arrow.h"
#include "parquet.h"
#include "pq_kernels.h"

/* ---- Thrift compact protocol (thrift-compact-protocol.md) ------------- */

enum {
    HX_TC_STOP = 0,
    HX_TC_TRUE = 1,
    HX_TC_FALSE = 2,
    HX_TC_I8 = 3,
    HX_TC_I16 = 4,
    HX_TC_I32 = 5,
    HX_TC_I64 = 6,
    HX_TC_DOUBLE = 7,
    HX_TC_BINARY = 8,
    HX_TC_LIST = 9,
    HX_TC_SET = 10,
    HX_TC_MAP = 11,
    HX_TC_STRUCT = 12,
    HX_TC_UUID = 13
};

#define HX_TC_MAX_DEPTH 64
/* Limits on hostile Thrift (docs/parquet.md), Arrow C++'s defaults
 * (ReaderProperties thrift_string_size_limit, thrift_container_size_limit):
 * no string or binary over 100 MB and no list, set or map of more than a
 * million elements, which no real footer comes near. A footer (FileMetaData)
 * over HX_PQ_MAX_FOOTER_BYTES is refused before it is parsed. */
#define HX_TC_MAX_STRING 100000000u
#define HX_TC_MAX_CONTAINER 1000000u
#define HX_PQ_MAX_FOOTER_BYTES (256u * 1024u * 1024u)

struct hx_tc {
    const uint8_t *start, *p, *end;
    int depth;
};

void hx_tc_init(struct hx_tc *tc, const uint8_t *data, size_t len);
HOIST_NODISCARD hx_status hx_tc_varint(struct hx_tc *tc, uint64_t *out);
HOIST_NODISCARD hx_status hx_tc_i32(struct hx_tc *tc, int32_t *out);
HOIST_NODISCARD hx_status hx_tc_i64(struct hx_tc *tc, int64_t *out);
HOIST_NODISCARD hx_status hx_tc_binary(struct hx_tc *tc, const uint8_t **data, size_t *len);
/* Enters a struct (depth check); call hx_tc_struct_end after its stop field. */
HOIST_NODISCARD hx_status hx_tc_struct_begin(struct hx_tc *tc, int16_t *last_id);
void hx_tc_struct_end(struct hx_tc *tc);
/* Next field header: *type = HX_TC_STOP at the end of the struct. For bool
 * fields the value is in the type (HX_TC_TRUE / HX_TC_FALSE). */
HOIST_NODISCARD hx_status hx_tc_field(struct hx_tc *tc, int16_t *last_id, int *type, int16_t *id);
/* List/set header; the size is checked against the bytes left and
 * HX_TC_MAX_CONTAINER. */
HOIST_NODISCARD hx_status hx_tc_list(struct hx_tc *tc, int *elem_type, uint32_t *n);
/* The same where each element needs at least min_bytes on the wire to be
 * valid: a count the bytes left cannot hold fails before the caller
 * allocates for it. */
HOIST_NODISCARD hx_status hx_tc_list_sized(struct hx_tc *tc, int *elem_type, uint32_t *n, size_t min_bytes);
/* Reads an i32-ish integer of any integer wire type (I8/I16/I32/I64). */
HOIST_NODISCARD hx_status hx_tc_int(struct hx_tc *tc, int type, int64_t *out);
/* Skips a value of the given wire type (depth-limited). */
HOIST_NODISCARD hx_status hx_tc_skip(struct hx_tc *tc, int type);

/* ---- parquet.thrift enums ---------------------------------------------- */

enum { PQT_BOOLEAN = 0, PQT_INT32, PQT_INT64, PQT_INT96, PQT_FLOAT, PQT_DOUBLE, PQT_BYTE_ARRAY, PQT_FLBA };
enum { PQR_REQUIRED = 0, PQR_OPTIONAL = 1, PQR_REPEATED = 2 };
enum {
    PQE_PLAIN = 0,
    PQE_PLAIN_DICTIONARY = 2,
    PQE_RLE = 3,
    PQE_BIT_PACKED = 4,
    PQE_DELTA_BINARY_PACKED = 5,
    PQE_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQE_DELTA_BYTE_ARRAY = 7,
    PQE_RLE_DICTIONARY = 8,
    PQE_BYTE_STREAM_SPLIT = 9
};
enum { PQP_DATA = 0, PQP_INDEX = 1, PQP_DICTIONARY = 2, PQP_DATA_V2 = 3 };
enum {
    PQC_UTF8 = 0,
    PQC_MAP = 1,
    PQC_MAP_KEY_VALUE = 2,
    PQC_LIST = 3,
    PQC_ENUM = 4,
    PQC_DECIMAL = 5,
    PQC_DATE = 6,
    PQC_TIME_MILLIS = 7,
    PQC_TIME_MICROS = 8,
    PQC_TIMESTAMP_MILLIS = 9,
    PQC_TIMESTAMP_MICROS = 10,
    PQC_UINT_8 = 11,
    PQC_UINT_16 = 12,
    PQC_UINT_32 = 13,
    PQC_UINT_64 = 14,
    PQC_INT_8 = 15,
    PQC_INT_16 = 16,
    PQC_INT_32 = 17,
    PQC_INT_64 = 18,
    PQC_JSON = 19,
    PQC_BSON = 20,
    PQC_INTERVAL = 21
};
/* LogicalType union member ids. */
enum {
    PQL_NONE = 0,
    PQL_STRING = 1,
    PQL_MAP = 2,
    PQL_LIST = 3,
    PQL_ENUM = 4,
    PQL_DECIMAL = 5,
    PQL_DATE = 6,
    PQL_TIME = 7,
    PQL_TIMESTAMP = 8,
    PQL_INTEGER = 10,
    PQL_UNKNOWN = 11,
    PQL_JSON = 12,
    PQL_BSON = 13,
    PQL_UUID = 14,
    PQL_FLOAT16 = 15,
    PQL_OTHER = 99
};
enum { PQU_MILLIS = 1, PQU_MICROS = 2, PQU_NANOS = 3 };

/* ---- the parsed footer ---------------------------------------------------- */

struct hx_pq_element {
    char *name;
    int type; /* physical type, -1 for groups */
    int type_length;
    int repetition;
    int num_children;
    int converted; /* -1 if absent */
    int scale, precision;
    int logical; /* PQL_* */
    int lt_unit, lt_utc, lt_bits, lt_signed, lt_scale, lt_precision;
};

struct hx_pq_stat_raw {
    const uint8_t *min, *max; /* min_value/max_value (fields 6/5) */
    size_t min_len, max_len;
    const uint8_t *min_old, *max_old; /* deprecated min/max (fields 2/1) */
    size_t min_old_len, max_old_len;
    int has_null_count;
    int64_t null_count;
    int min_exact, max_exact; /* -1 unknown */
    int present;
};

struct hx_pq_chunk {
    int type;
    int codec;
    int64_t num_values;
    int64_t total_compressed;
    int64_t total_uncompressed;
    int64_t data_page_offset;
    int64_t dict_page_offset; /* -1 when absent (0 counts as absent) */
    int has_meta;
    int has_file_path;
    struct hx_pq_stat_raw stats;
    /* ColumnChunk 4-7: where the page index structures are (-1 when
     * absent); checked against the file when the page index is used. */
    int64_t offset_index_offset, offset_index_length;
    int64_t column_index_offset, column_index_length;
};

struct hx_pq_row_group {
    int64_t num_rows;
    struct hx_pq_chunk *chunks; /* one per leaf */
};

/* A leaf column: its schema element and its place in the nesting. */
struct hx_pq_leaf {
    int element;
    int max_def, max_rep;
};

/* The Arrow field tree: one node per Arrow array of the output. */
enum hx_an_kind { AN_LEAF, AN_STRUCT, AN_LIST, AN_MAP };

/* How a leaf's Parquet values become Arrow values. */
enum hx_conv {
    CV_NULL,    /* Arrow null type: no buffers */
    CV_BOOL,    /* bit-packed booleans */
    CV_COPY,    /* same bytes (INT32/INT64/FLOAT/DOUBLE/FLBA) */
    CV_I32_I8,  /* narrowing to 1 byte */
    CV_I32_I16, /* narrowing to 2 bytes */
    CV_I64_I32, /* uint32 written as INT64 by old writers */
    CV_I32_I64, /* widen (signed) */
    CV_I32_DEC, /* INT32 -> decimal128/256 (sign extend) */
    CV_I64_DEC, /* INT64 -> decimal128/256 */
    CV_BE_DEC,  /* big-endian FLBA/BYTE_ARRAY -> decimal128/256 */
    CV_INT96,   /* INT96 -> timestamp in the leaf's unit */
    CV_I32_MUL, /* INT32 * mul -> int64 (date32 -> date64) */
    CV_I64_DIV, /* INT64 / div (timestamp ms -> s) */
    CV_I32_DIV, /* INT32 / div -> int32 (time32 ms -> s) */
    CV_BINARY   /* BYTE_ARRAY -> binary/utf8 (32- or 64-bit offsets) */
};

struct hx_pq_anode {
    enum hx_an_kind kind;
    char *name;
    char *format;      /* Arrow format; for dictionary leaves the index format */
    char *dict_format; /* value format of a dictionary leaf, else NULL */
    char *metadata;    /* encoded field metadata, or NULL */
    int64_t flags;
    int def;      /* def level at which this node is non-null */
    int slot_def; /* def level at which this node has a slot at all */
    int slot_rep; /* rep level at or below which an entry starts a new slot */
    int rep;      /* list/map: rep level of the repeated node */
    int elem_def; /* list/map: def level at which an element exists */
    int leaf;     /* AN_LEAF: leaf column index */
    int first_leaf, n_leaves;
    int nchildren;
    struct hx_pq_anode *children;
    /* AN_LEAF */
    enum hx_conv conv;
    int out_width;  /* bytes per value for fixed-width outputs */
    int large;      /* CV_BINARY: 64-bit offsets */
    int dict;       /* output is a dictionary array */
    int64_t conv_k; /* CV_I32_MUL/CV_*_DIV factor; CV_INT96 divisor from ns */
    /* Arrow types Parquet has no form for, restored from ARROW:schema after
     * assembly (pq_assemble.c): the leaf/list is decoded as usual, then
     * rebuilt in the restored layout. */
    int fixed_size_list; /* AN_LIST: > 0 for fixed_size_list of this size */
    int list_view;       /* AN_LIST: list_view (large: large_list_view) */
    int view;            /* AN_LEAF CV_BINARY: binary_view / utf8_view */
};

struct hoist_pq_file {
    char *name;
    uint8_t *footer; /* copy of the FileMetaData bytes (stats point here) */
    size_t footer_len;
    uint64_t file_size;
    int64_t num_rows;
    int nelements;
    struct hx_pq_element *elements;
    int nleaves;
    struct hx_pq_leaf *leaves;
    int nrow_groups;
    struct hx_pq_row_group *row_groups;
    char *created_by;
    int has_column_orders;
    int pad_chunks;          /* PARQUET-816: old parquet-mr under-reports chunk sizes */
    int cpp_10353_bug;       /* ARROW-10353: v2 is_compressed unreliable */
    struct hx_pq_anode root; /* AN_STRUCT with one child per top-level field */
    char *schema_metadata;   /* encoded key-value metadata for the Arrow schema */
};

/* Whether a leaf is output as an Arrow dictionary array: kept as pyarrow
 * wrote it (ARROW:schema), or asked for by HOIST_PQ_DICT_AS_DICTIONARY. */
static inline int hx_pq_leaf_dict(const struct hx_pq_anode *a, unsigned flags) {
    return a->dict ||
           ((flags & HOIST_PQ_DICT_AS_DICTIONARY) && a->kind == AN_LEAF && a->conv == CV_BINARY && !a->large);
}

/* pq_meta.c */
HOIST_NODISCARD hx_status hx_pq_parse_footer(struct hoist_pq_file *f, const uint8_t *meta, size_t len);
void hx_pq_anode_free(struct hx_pq_anode *n);
/* Arrow schema of one field. */
HOIST_NODISCARD hx_status hx_pq_anode_schema(const struct hx_pq_anode *n, unsigned flags, struct ArrowSchema *out);

/* pq_reader.c: min/max bytes of a flat leaf field, in the Parquet sort
 * order, converted to the Arrow value domain (kind and bounds; kind stays
 * NONE when they cannot be trusted). Shared by the column chunk statistics
 * and the ColumnIndex. */
HOIST_NODISCARD hx_status hx_pq_stats_convert(const struct hoist_pq_file *f, const struct hx_pq_anode *a,
                                              const uint8_t *mn, size_t mnl, const uint8_t *mx, size_t mxl,
                                              struct hoist_pq_stats *out);

/* pq_arrow_schema.c: applies the base64 IPC Schema of ARROW:schema to the
 * field tree (types that Parquet cannot express). A schema that does not
 * fit the tree is ignored. */
HOIST_NODISCARD hx_status hx_pq_apply_arrow_schema(struct hoist_pq_file *f, const char *b64, size_t len);

/* Page header. */
struct hx_pq_page_header {
    int type;
    int32_t uncompressed_size, compressed_size;
    int has_crc;
    uint32_t crc;
    int32_t num_values;
    int encoding;
    int def_encoding, rep_encoding;
    int32_t num_nulls, num_rows, def_len, rep_len;
    int is_compressed;
    int has_data_header, has_dict_header, has_v2_header;
};
HOIST_NODISCARD hx_status hx_pq_parse_page_header(const uint8_t *data, size_t len, struct hx_pq_page_header *h,
                                                  size_t *header_len);

/* pq_column.c: one leaf column chunk decoded to levels and dense values. */
/* Internal flag: the leaf is a whole top-level field without repetition, so
 * its definition levels go straight to a validity bitmap. */
#define HX_PQ_FLAT_LEAF (1u << 24)
struct hx_pq_leaf_data {
    int64_t n_levels;
    uint16_t *def;               /* NULL when max_def == 0 */
    uint16_t *rep;               /* NULL when max_rep == 0 */
    int64_t n_values;            /* dense (non-null) values */
    struct hx_arrow_buf values;  /* fixed-width outputs; bools bit-packed; dict indices (int32) */
    struct hx_arrow_buf offsets; /* CV_BINARY (int32 or int64 per anode->large) */
    struct hx_arrow_buf data;    /* CV_BINARY bytes */
    /* HX_PQ_FLAT_LEAF: validity bits instead of def levels */
    int has_valid;
    struct hx_arrow_buf valid;
    /* dictionary output */
    int64_t dict_n;
    struct hx_arrow_buf dict_offsets, dict_data;
};
void hx_pq_leaf_data_reset(struct hx_pq_leaf_data *d);
/* Per-thread scratch kept between column chunks (page, indices, converted
 * values, levels, dictionary): fresh buffers per chunk cost page faults
 * that dominate decoding. Zero-initialised; hx_pq_scratch_free releases. */
enum { HX_PQ_SCRATCH_N = 5 };
struct hx_pq_scratch {
    void *buf[HX_PQ_SCRATCH_N];
    size_t cap[HX_PQ_SCRATCH_N];
    struct hx_pq_scratch *next; /* free list of a stream */
};
void hx_pq_scratch_free(struct hx_pq_scratch *s);
/* scratch may be NULL (buffers for this call only). */
HOIST_NODISCARD hx_status hx_pq_decode_leaf(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                                            const uint8_t *chunk, size_t chunk_len, unsigned flags, int64_t rows,
                                            struct hx_pq_scratch *scratch, struct hx_pq_leaf_data *out);
/* One data page listed by the OffsetIndex (header + body), or the bytes
 * before a chunk's first listed page (rows = 0: only a dictionary page may
 * be there), and the rows it must hold. */
struct hx_pq_page_span {
    const uint8_t *data;
    size_t len;
    uint64_t offset; /* in the file, for messages */
    int64_t rows;
};
/* Decodes only the listed pages, in order, into one leaf data: as many rows
 * as the pages' rows add up to (pages start at record boundaries). */
HOIST_NODISCARD hx_status hx_pq_decode_leaf_pages(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                                                  const struct hx_pq_page_span *pages, size_t npages, unsigned flags,
                                                  struct hx_pq_scratch *scratch, struct hx_pq_leaf_data *out);
/* Whether hx_pq_decode_leaf_kept takes this leaf (with its dictionary
 * output already settled by hx_pq_leaf_dict): a fixed-width output, not
 * boolean, binary or dictionary, of a fixed-width physical type. */
static inline int hx_pq_leaf_keepable(const struct hoist_pq_file *f, const struct hx_pq_anode *a) {
    int t = f->elements[f->leaves[a->leaf].element].type;
    return a->kind == AN_LEAF && !a->dict && a->conv != CV_BOOL && a->conv != CV_BINARY &&
           (a->conv == CV_NULL || a->out_width > 0) && t != PQT_BOOLEAN && t != PQT_BYTE_ARRAY && t != PQT_FLBA;
}
/* hx_pq_decode_leaf for only the rows of the chunk whose keep byte is 1
 * (keep has `rows` bytes, kept of them 1): the output is what decoding
 * every row and then dropping the others would give, but values of rows
 * not kept are never written out. Only a flat leaf (no repetition; with
 * definition levels, HX_PQ_FLAT_LEAF in flags) that hx_pq_leaf_keepable
 * accepts; others: HOIST_ERR_INTERNAL. */
HOIST_NODISCARD hx_status hx_pq_decode_leaf_kept(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *leaf,
                                                 const uint8_t *chunk, size_t chunk_len, unsigned flags, int64_t rows,
                                                 const uint8_t *keep, int64_t kept, struct hx_pq_scratch *scratch,
                                                 struct hx_pq_leaf_data *out);
/* Byte range of a leaf's chunk within the file (with PARQUET-816 padding
 * clipped to the file). */
HOIST_NODISCARD hx_status hx_pq_chunk_range(const struct hoist_pq_file *f, int rg, int leaf, uint64_t *off,
                                            uint64_t *len);

/* pq_assemble.c: a top-level field from its leaves' data. */
HOIST_NODISCARD hx_status hx_pq_assemble(const struct hoist_pq_file *f, const struct hx_pq_anode *field,
                                         struct hx_pq_leaf_data *leaves, int64_t rows, unsigned flags,
                                         struct ArrowArray *out);
/* Ends a field decode that produced `leaves` (hx_malloc'd, one per leaf of
 * the field) with status `st`: when st is HOIST_OK assembles the field
 * (a failure names file, row group and field), then always resets and frees
 * the leaves. Returns the first failure. */
HOIST_NODISCARD hx_status hx_pq_assemble_leaves(const struct hoist_pq_file *f, int rg, const struct hx_pq_anode *field,
                                                struct hx_pq_leaf_data *leaves, int64_t rows, unsigned flags,
                                                struct ArrowArray *out, hx_status st);

#endif /* HOIST_PARQUET_INTERNAL_H */
