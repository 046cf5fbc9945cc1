/* hoist_pq_reader_open_file: a local Parquet file as a reader. The dataset
 * layer joins the store (which maps the file, store_file_map.c) and the
 * codec (which decodes bytes in memory and does no I/O); the reader owns
 * the mapping and unmaps it when it and its streams are done. */
#include "file_map.h"
#include "parquet.h"

static void release_map(void *ud) {
    struct hx_file_map *map = ud;
    hx_file_map_close(map);
    hx_free(map);
}

hx_status hoist_pq_reader_open_file(const char *path, unsigned flags, struct hoist_pq_reader **out) {
    HX_FAIL_IF(!out || !path, HOIST_ERR_INVALID_ARG, "hoist_pq_reader_open_file: NULL argument");
    *out = NULL;
    struct hx_file_map *map = hx_malloc(sizeof *map);
    if (!map) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", path);
    hx_status st = hx_file_map_open(path, map);
    if (st != HOIST_OK) {
        hx_free(map);
        return st;
    }
    /* From here the reader owns the map: release_map runs on failure too. */
    return hx_pq_reader_open_owned(map->data, map->size, path, flags, release_map, map, out);
}
