/*
 * arrow.h — the Arrow layer's interface for the layers above (parquet,
 * dataset): Arrow C Data / C Stream plumbing in plain C (nanoarrow's ideas,
 * our own code). Schemas and their metadata, arrays with 64-byte aligned
 * buffers, builders for null/constant/struct columns, widening casts and row
 * filters, streams that keep their own error text, the Arrow IPC file
 * writer and the IPC reader (file and stream formats) with its flatbuffer
 * reader. src/arrow is the only place that makes or walks these structs.
 *
 * Ownership: every struct filled here gets a release callback that frees only
 * the struct's private data (its own strings, buffers, children, dictionary),
 * so it can run on any thread after the producer is gone. A struct whose init
 * failed has release == NULL and owns nothing. "Moved" means the callee takes
 * the struct (its release is set to NULL in the caller's copy), on failure
 * too.
 *
 * Thread safety: functions act only on the structs passed in.
 */
#ifndef HOIST_ARROW_H
#define HOIST_ARROW_H

#include "util_internal.h"

#include <stdio.h>

/* ---- schemas (arrow.c) ------------------------------------------------------ */

/* Makes *s a schema with copies of format and name (name may be NULL),
 * no children, no metadata. */
HOIST_NODISCARD hx_status hx_arrow_schema_init(struct ArrowSchema *s, const char *format, const char *name,
                                               int64_t flags);
/* Gives s n children, each zeroed (release == NULL) for the caller to init.
 * A child left uninitialised makes the schema invalid; release still works. */
HOIST_NODISCARD hx_status hx_arrow_schema_alloc_children(struct ArrowSchema *s, int64_t n);
/* Gives s an uninitialised dictionary schema to init. */
HOIST_NODISCARD hx_status hx_arrow_schema_alloc_dictionary(struct ArrowSchema *s);
/* Sets metadata from an already encoded blob (C Data Interface layout). */
HOIST_NODISCARD hx_status hx_arrow_schema_set_metadata(struct ArrowSchema *s, const char *blob, size_t len);
/* Deep copy (format, name, flags, metadata, children, dictionary). A NULL
 * format anywhere in src fails with HOIST_ERR_ARROW_INVALID. */
HOIST_NODISCARD hx_status hx_arrow_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst);
/* A struct schema ("+s", empty name) owning the n children (moved). */
HOIST_NODISCARD hx_status hx_arrow_schema_struct(struct ArrowSchema *children, size_t n, struct ArrowSchema *out);

/* ---- format strings (arrow.c) ----------------------------------------------
 * Time units as the C Data Interface spells them ('s', 'm', 'u', 'n' in
 * "tts", "tsm:UTC", "tDn", ...), numbered like Schema.fbs TimeUnit so the
 * IPC and ARROW:schema code can use the number as is. */
enum { HX_UNIT_S = 0, HX_UNIT_MS = 1, HX_UNIT_US = 2, HX_UNIT_NS = 3 };
/* The unit of a unit letter, or -1 when c is not one. */
int hx_arrow_time_unit(char c);
/* The letter of a unit (0..3), 0 otherwise. */
char hx_arrow_time_unit_char(int unit);
/* "s", "ms", "us", "ns" (unit 0..3), NULL otherwise. */
const char *hx_arrow_time_unit_name(int unit);

/* ---- schema metadata (arrow.c) ------------------------------------------------
 * C Data Interface layout: int32 count, then per pair int32 length + key
 * bytes, int32 length + value bytes. */

/* Byte size of an encoded metadata blob (0 for NULL). */
size_t hx_arrow_metadata_size(const char *blob);
/* Reading a blob pair by pair (blobs come from a producer that follows the
 * layout; NULL reads as empty):
 *     struct hx_arrow_metadata_reader r;
 *     hx_arrow_metadata_read_begin(&r, blob);   (r.left: the pair count)
 *     while (hx_arrow_metadata_read_next(&r, &kv)) ... */
struct hx_arrow_metadata_reader {
    const char *p;
    int32_t left;
};
struct hx_arrow_kv {
    const char *key, *value; /* not NUL-terminated */
    size_t klen, vlen;
};
void hx_arrow_metadata_read_begin(struct hx_arrow_metadata_reader *r, const char *blob);
bool hx_arrow_metadata_read_next(struct hx_arrow_metadata_reader *r, struct hx_arrow_kv *kv);
/* The value of key (vlen set), or NULL when the blob has no such key. */
const char *hx_arrow_metadata_find(const char *blob, const char *key, size_t *vlen);
/* Starts a blob in buf (count 0); hx_arrow_metadata_add appends pairs. */
HOIST_NODISCARD hx_status hx_arrow_metadata_begin(struct hx_buf *buf);
HOIST_NODISCARD hx_status hx_arrow_metadata_add(struct hx_buf *buf, const char *key, size_t klen, const char *val,
                                                size_t vlen);

/* ---- growable 64-byte aligned buffers (arrow.c) ---------------------------- */

struct hx_arrow_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};
/* Ensures room for `extra` more bytes past len (geometric growth). Capacity
 * always has 64 spare bytes so word-at-a-time loops may overrun by a word. */
HOIST_NODISCARD hx_status hx_arrow_buf_reserve(struct hx_arrow_buf *b, size_t extra);
/* A fresh buffer reserved for at least this many bytes (len + extra + 64)
 * is advised to use transparent huge pages over its whole 2 MiB pages. */
#define HX_ARROW_HUGE_MIN ((size_t)8 << 20)
void hx_arrow_buf_reset(struct hx_arrow_buf *b);
/* Hands the buffer to the caller (hx_aligned_free); b is reset. */
void *hx_arrow_buf_detach(struct hx_arrow_buf *b);

/* ---- arrays (arrow.c) --------------------------------------------------------- */

/* Validity, values/offsets/views, data, and for a view array the sizes of its
 * one data buffer. */
#define HX_ARRAY_MAX_BUFFERS 4

/* Makes *a an array with n_buffers NULL buffers and n_children zeroed
 * children (release == NULL) for the caller to fill. */
HOIST_NODISCARD hx_status hx_arrow_array_init(struct ArrowArray *a, int64_t length, int64_t n_buffers,
                                              int64_t n_children);
/* The array takes ownership of an hx_aligned_alloc block (may be NULL). */
void hx_arrow_array_set_buffer(struct ArrowArray *a, int i, void *buf);
/* Allocates buffer i of a (hx_arrow_array_init'ed) zeroed, size bytes (at least
 * one), and sets *data to it. */
HOIST_NODISCARD hx_status hx_arrow_array_alloc_buffer(struct ArrowArray *a, int i, size_t size, void **data);
HOIST_NODISCARD hx_status hx_arrow_array_alloc_dictionary(struct ArrowArray *a);

/* Counts zero bits in the first n bits of a validity bitmap. */
int64_t hx_arrow_bitmap_count_nulls(const uint8_t *bits, int64_t n);

/* ---- builders (arrow_build.c) ------------------------------------------------- */

/* An all-null array of the type described by schema (flat types, strings,
 * structs, lists, dictionaries). */
HOIST_NODISCARD hx_status hx_arrow_array_nulls(const struct ArrowSchema *schema, int64_t length,
                                               struct ArrowArray *out);
/* `length` copies of a utf8 value ("u", or "U" past 2 GiB of data); value
 * NULL makes the column all null. */
HOIST_NODISCARD hx_status hx_arrow_array_const_string(const char *value, int64_t length, struct ArrowArray *out);
/* `length` copies of a fixed-width value of `width` bytes (1, 2, 4 or 8);
 * value NULL makes the column all null. */
HOIST_NODISCARD hx_status hx_arrow_array_const_fixed(const void *value, size_t width, int64_t length,
                                                     struct ArrowArray *out);
/* A struct array of `length` rows owning the n children (moved), no nulls. */
HOIST_NODISCARD hx_status hx_arrow_array_struct(struct ArrowArray *children, size_t n, int64_t length,
                                                struct ArrowArray *out);
/* Bytes of the buffers an array (and its children) reference. */
uint64_t hx_arrow_array_bytes(const struct ArrowArray *a, const struct ArrowSchema *schema);

/* ---- compute (arrow_compute.c) ------------------------------------------------ */

/* True when a and b have a common format (equal, or a widening of numeric
 * types as pyarrow unifies them); sets *unified to it. */
bool hx_arrow_unify_format(const char *a, const char *b, const char **unified);
/* Widens in (format from) to format to (int -> wider int, float -> double,
 * int -> double). The input is moved on success (and kept on failure). */
HOIST_NODISCARD hx_status hx_arrow_array_cast(struct ArrowArray *in, const char *from, const char *to,
                                              struct ArrowArray *out);
/* Keeps the rows with keep[i] != 0 (out_len of them). The input is released
 * on success (and kept on failure). */
HOIST_NODISCARD hx_status hx_arrow_array_filter(struct ArrowArray *in, const struct ArrowSchema *schema,
                                                const uint8_t *keep, int64_t out_len, struct ArrowArray *out);
/* Copies the n `w`-byte values of src whose keep byte is 1 (each keep[i] is
 * 0 or 1, and out_len of them are 1) to dst, in order: the row filter's
 * kernel, also used by the Parquet decoder to keep only a filter's rows. */
void hx_arrow_keep_fixed(uint8_t *dst, const uint8_t *src, const uint8_t *keep, int64_t n, size_t w, int64_t out_len);

/* ---- streams (arrow_stream.c) ---------------------------------------------------
 * Every stream made here keeps its own copy of the last error message for
 * get_last_error (the consumer may be on another thread) and maps the
 * status to an errno (ENOMEM, EINVAL, ENOSYS, else EIO). */

/* A producer behind an ArrowArrayStream. get_next fills out with a batch, or
 * leaves out->release NULL at the end. Failures set hx_error as usual; the
 * stream copies the message for get_last_error. */
struct hx_arrow_stream_ops {
    hx_status (*get_schema)(void *state, struct ArrowSchema *out);
    hx_status (*get_next)(void *state, struct ArrowArray *out);
    void (*free_state)(void *state);
};
/* Takes ownership of state (freed by free_state even when this fails). */
HOIST_NODISCARD hx_status hx_arrow_stream_init(struct ArrowArrayStream *out, const struct hx_arrow_stream_ops *ops,
                                               void *state);

/* The basic array stream: batches owned by the stream, handed out (moved)
 * in order; get_schema gives copies of the schema. init takes the schema
 * (moved) and starts empty; append moves one more batch in. Appending
 * after the consumer started reading is allowed (it sees the new batch). */
HOIST_NODISCARD hx_status hx_arrow_basic_stream_init(struct ArrowArrayStream *out, struct ArrowSchema *schema);
HOIST_NODISCARD hx_status hx_arrow_basic_stream_append(struct ArrowArrayStream *stream, struct ArrowArray *batch);
/* init + append of arrays[0..n) (all moved, on failure too). */
HOIST_NODISCARD hx_status hx_arrow_stream_from_arrays(struct ArrowSchema *schema, struct ArrowArray *arrays, size_t n,
                                                      struct ArrowArrayStream *out);

/* A stream of views of batches someone else owns (zero copy): each
 * exported batch shares the buffers of arrays[i] and keeps `owner` alive
 * through owner_ref/owner_unref (one reference per exported batch and one
 * for the stream). schema and arrays are borrowed for as long as any
 * reference is held. A consumer may move children out of a view. */
HOIST_NODISCARD hx_status hx_arrow_stream_share(const struct ArrowSchema *schema, const struct ArrowArray *arrays,
                                                size_t n, void *owner, void (*owner_ref)(void *owner),
                                                void (*owner_unref)(void *owner), struct ArrowArrayStream *out);

/* ---- Arrow IPC file writer (arrow_ipc.c) ----------------------------------------
 * Columnar.md "IPC File Format". Flat top-level columns (ints, floats,
 * bool, null, (large) utf8/binary, dates, times, timestamps); nested and
 * dictionary columns fail with HOIST_ERR_ARROW_TYPE naming the column. */

struct hx_arrow_ipc_writer;
/* Writes the magic and the schema message of `schema` (a struct, one
 * column per child; borrowed until the writer is freed) to `out` (borrowed,
 * not closed). `name` labels error messages. */
HOIST_NODISCARD hx_status hx_arrow_ipc_writer_new(FILE *out, const char *name, const struct ArrowSchema *schema,
                                                  struct hx_arrow_ipc_writer **w);
/* Appends one record batch (a struct array of the schema; borrowed). */
HOIST_NODISCARD hx_status hx_arrow_ipc_writer_write(struct hx_arrow_ipc_writer *w, const struct ArrowArray *batch);
/* Writes the end-of-stream marker and the footer. */
HOIST_NODISCARD hx_status hx_arrow_ipc_writer_finish(struct hx_arrow_ipc_writer *w);
void hx_arrow_ipc_writer_free(struct hx_arrow_ipc_writer *w);

/* ---- the Type union of Arrow's Schema.fbs --------------------------------------
 * The tag of a Field's type in the flatbuffer schema, as the IPC reader and
 * writer and the ARROW:schema of Parquet files spell it (values fixed by the
 * format; 1 = Null ... 26 = LargeListView). */
enum hx_arrow_fb_type {
    HX_FBT_NULL = 1,
    HX_FBT_INT,
    HX_FBT_FLOAT,
    HX_FBT_BINARY,
    HX_FBT_UTF8,
    HX_FBT_BOOL,
    HX_FBT_DECIMAL,
    HX_FBT_DATE,
    HX_FBT_TIME,
    HX_FBT_TIMESTAMP,
    HX_FBT_INTERVAL,
    HX_FBT_LIST,
    HX_FBT_STRUCT,
    HX_FBT_UNION,
    HX_FBT_FSB,
    HX_FBT_FSL,
    HX_FBT_MAP,
    HX_FBT_DURATION,
    HX_FBT_LARGE_BINARY,
    HX_FBT_LARGE_UTF8,
    HX_FBT_LARGE_LIST,
    HX_FBT_REE,
    HX_FBT_BINARY_VIEW,
    HX_FBT_UTF8_VIEW,
    HX_FBT_LIST_VIEW,
    HX_FBT_LARGE_LIST_VIEW
};

/* ---- flatbuffers from untrusted bytes (arrow_flatbuf.c) ------------------------
 * Positions are byte offsets into b; 0 means absent or invalid (no table can
 * start at 0, where the root offset is). Every read is bounds-checked. */
struct hx_arrow_fb {
    const uint8_t *b;
    size_t n;
};
/* The root table. */
size_t hx_arrow_fb_root(const struct hx_arrow_fb *fb);
/* Position of field i of the table at tab. */
size_t hx_arrow_fb_field(const struct hx_arrow_fb *fb, size_t tab, int i);
/* Scalar field i (size 1, 2, 4 or 8 bytes, signed), dflt when absent. */
int64_t hx_arrow_fb_int(const struct hx_arrow_fb *fb, size_t tab, int i, int size, int64_t dflt);
/* The table, vector or string that offset field i points to. */
size_t hx_arrow_fb_ref(const struct hx_arrow_fb *fb, size_t tab, int i);
/* The length of the vector at vec, whose len elements of elem_size bytes
 * (4 for offsets to tables, 16 for IPC FieldNode/Buffer structs) lie inside
 * the buffer; false when they do not. */
bool hx_arrow_fb_vec(const struct hx_arrow_fb *fb, size_t vec, size_t elem_size, uint32_t *len);
/* The table element i of a vector of tables (checked with hx_arrow_fb_vec). */
size_t hx_arrow_fb_vec_table(const struct hx_arrow_fb *fb, size_t vec, uint32_t i);
/* The bytes of the string at s. */
bool hx_arrow_fb_str(const struct hx_arrow_fb *fb, size_t s, const char **str, uint32_t *len);

/* ---- Arrow IPC reader (arrow_ipc_read.c) ---------------------------------------
 * The file and the stream format, with LZ4_FRAME/ZSTD buffers. Takes data
 * (hx_malloc'ed; freed by the stream, or here on failure). The schema is
 * read now; batches on get_next, each owning copies of its buffers. A batch
 * needing more than max_batch_bytes (0: no limit) of decoded buffers fails
 * with HOIST_ERR_LIMIT. Malformed input: HOIST_ERR_ARROW_INVALID; unions,
 * intervals, run-end encoding: HOIST_ERR_ARROW_TYPE; big-endian data, Feather
 * v1, delta dictionaries: HOIST_ERR_UNSUPPORTED. */
HOIST_NODISCARD hx_status hx_arrow_ipc_open(uint8_t *data, size_t size, const char *name, uint64_t max_batch_bytes,
                                            struct ArrowArrayStream *out);

#endif /* HOIST_ARROW_H */
