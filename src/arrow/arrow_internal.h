/*
 * arrow_internal.h — what is private to src/arrow: format-string helpers the
 * builders, compute kernels and the IPC writer share. The layers above use
 * arrow.h.
 */
#ifndef HOIST_ARROW_INTERNAL_H
#define HOIST_ARROW_INTERNAL_H

#include "arrow.h"

/* Bits per value of a fixed-width format (0 for null "n", 1 for bool);
 * -1 if the format is not fixed width. */
int hx_arrow_format_bits(const char *format);

/* True for the string/binary formats "u", "z", "U", "Z"; *large says
 * whether offsets are 64-bit. */
bool hx_arrow_format_is_binary(const char *format, bool *large);

/* Like hx_arrow_array_init, then allocates buffer i zeroed with sizes[i] bytes,
 * or leaves it NULL for HX_ARROW_NO_BUFFER (e.g. no validity bitmap). */
#define HX_ARROW_NO_BUFFER ((size_t)-1)
HOIST_NODISCARD hx_status hx_arrow_array_make(struct ArrowArray *out, int64_t length, int n_buffers,
                                              const size_t *sizes, size_t n_children);

/* Buffer i of an array this layer made, writable. */
static inline void *hx_arrow_buffer(struct ArrowArray *a, int i) { return (void *)(uintptr_t)a->buffers[i]; }

static inline size_t hx_arrow_bitmap_bytes(int64_t n) { return (size_t)((n + 7) / 8); }

#endif /* HOIST_ARROW_INTERNAL_H */
