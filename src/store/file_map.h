/*
 * file_map.h — a local file mapped read-only into memory, for layers that
 * hand a whole file's bytes to a codec (the dataset layer opening a Parquet
 * file by path). Part of the store module: the codecs do no I/O.
 *
 * Thread safety: an open map is immutable and may be read from any thread;
 * open and close are the caller's to serialise.
 */
#ifndef HOIST_FILE_MAP_H
#define HOIST_FILE_MAP_H

#include "util_internal.h"

/* Caller-owned; fill with hx_file_map_open, release with hx_file_map_close. */
struct hx_file_map {
    const uint8_t *data; /* the file's bytes; a static "" for an empty file */
    size_t size;
    void *base; /* the mapping, NULL for an empty file */
};

/* Maps the regular file at path (MAP_PRIVATE, read-only). Statuses:
 * HOIST_ERR_NOT_FOUND when it does not exist, HOIST_ERR_IO when it cannot be
 * opened, stat'ed or mapped, or is not a regular file; the message names the
 * path and the cause. On failure *map is zeroed. */
HOIST_NODISCARD hx_status hx_file_map_open(const char *path, struct hx_file_map *map);

/* Unmaps and zeroes *map; a zeroed or already closed map is a no-op. */
void hx_file_map_close(struct hx_file_map *map);

#endif /* HOIST_FILE_MAP_H */
