/*
 * arrow_internal.h — Arrow C Data / C Stream interface plumbing in plain C
 * (nanoarrow's ideas, our own code): schemas, arrays with 64-byte aligned
 * buffers, and a stream wrapper that keeps its own error message.
 *
 * Ownership: every struct filled here gets a release callback that frees only
 * the struct's private data (its own strings, buffers, children, dictionary),
 * so it can run on any thread after the producer is gone. A struct whose init
 * failed has release == NULL and owns nothing.
 *
 * Thread safety: functions act only on the structs passed in.
 */
#ifndef HOIST_ARROW_INTERNAL_H
#define HOIST_ARROW_INTERNAL_H

#include "util_internal.h"

/* ---- schemas ------------------------------------------------------------ */

/* Makes *s a schema with copies of format and name (name may be NULL),
 * no children, no metadata. */
HOIST_NODISCARD hx_status hx_schema_init(struct ArrowSchema *s, const char *format, const char *name,
                                         int64_t flags);
/* Gives s n children, each zeroed (release == NULL) for the caller to init.
 * A child left uninitialised makes the schema invalid; release still works. */
HOIST_NODISCARD hx_status hx_schema_alloc_children(struct ArrowSchema *s, int64_t n);
/* Gives s an uninitialised dictionary schema to init. */
HOIST_NODISCARD hx_status hx_schema_alloc_dictionary(struct ArrowSchema *s);
/* Sets metadata from an already encoded blob (C Data Interface layout). */
HOIST_NODISCARD hx_status hx_schema_set_metadata(struct ArrowSchema *s, const char *blob, size_t len);
/* Deep copy. */
HOIST_NODISCARD hx_status hx_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst);

/* Byte size of an encoded metadata blob (0 for NULL). */
size_t hx_metadata_size(const char *blob);
/* Appends one key/value pair to an encoded metadata blob under construction
 * (buf holds the int32 count first; start with hx_metadata_begin). */
HOIST_NODISCARD hx_status hx_metadata_begin(struct hx_buf *buf);
HOIST_NODISCARD hx_status hx_metadata_add(struct hx_buf *buf, const char *key, size_t klen, const char *val,
                                          size_t vlen);

/* ---- growable 64-byte aligned buffers ---------------------------------- */

struct hx_abuf {
    uint8_t *data;
    size_t len;
    size_t cap;
};
/* Ensures room for `extra` more bytes past len (geometric growth). Capacity
 * always has 64 spare bytes so word-at-a-time loops may overrun by a word. */
HOIST_NODISCARD hx_status hx_abuf_reserve(struct hx_abuf *b, size_t extra);
void hx_abuf_reset(struct hx_abuf *b);
/* Hands the buffer to the caller (hx_aligned_free); b is reset. */
void *hx_abuf_detach(struct hx_abuf *b);

/* ---- arrays --------------------------------------------------------------- */

#define HX_ARRAY_MAX_BUFFERS 3

/* Makes *a an array with n_buffers NULL buffers and n_children zeroed
 * children (release == NULL) for the caller to fill. */
HOIST_NODISCARD hx_status hx_array_init(struct ArrowArray *a, int64_t length, int64_t n_buffers,
                                        int64_t n_children);
/* The array takes ownership of an hx_aligned_alloc block (may be NULL). */
void hx_array_set_buffer(struct ArrowArray *a, int i, void *buf);
HOIST_NODISCARD hx_status hx_array_alloc_dictionary(struct ArrowArray *a);

/* Counts zero bits in the first n bits of a validity bitmap. */
int64_t hx_bitmap_count_nulls(const uint8_t *bits, int64_t n);

/* ---- streams ---------------------------------------------------------- */

/* A producer behind an ArrowArrayStream. get_next fills out with a batch, or
 * leaves out->release NULL at the end. Failures set hx_error as usual; the
 * stream copies the message for get_last_error. */
struct hx_stream_ops {
    hx_status (*get_schema)(void *state, struct ArrowSchema *out);
    hx_status (*get_next)(void *state, struct ArrowArray *out);
    void (*free_state)(void *state);
};
/* Takes ownership of state (freed by free_state even when this fails). */
HOIST_NODISCARD hx_status hx_stream_init(struct ArrowArrayStream *out, const struct hx_stream_ops *ops,
                                         void *state);

#endif /* HOIST_ARROW_INTERNAL_H */
