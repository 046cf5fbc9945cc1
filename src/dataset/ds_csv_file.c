/* hoist_csv_read_file: a local CSV file into Arrow. The dataset layer joins
 * the store (which maps the file, store_file_map.c) and the CSV codec
 * (which parses bytes in memory and does no I/O). A plain file is parsed in
 * place, in parallel; gzip (RFC 1952, several members allowed) and zstd
 * files are decompressed block by block into the streaming reader, so only
 * a few blocks of text are held besides the result. */
#include "csv.h"
#include "file_map.h"

#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define BLOCK ((size_t)1 << 20)

static hx_status feed_gzip(struct hoist_csv_reader *rd, const uint8_t *src, size_t n, const char *path,
                           uint8_t *block) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start gzip decompression", path);
    hx_status st = HOIST_OK;
    size_t pos = 0;
    while (st == HOIST_OK && pos < n) {
        size_t in = n - pos > UINT32_MAX ? UINT32_MAX : n - pos;
        z.next_in = (Bytef *)(src + pos);
        z.avail_in = (uInt)in;
        z.next_out = block;
        z.avail_out = (uInt)BLOCK;
        int rc = inflate(&z, Z_NO_FLUSH);
        pos += in - z.avail_in;
        size_t got = BLOCK - z.avail_out;
        if (got) st = hoist_csv_reader_feed(rd, block, got);
        if (rc == Z_STREAM_END) {
            /* members follow one another (RFC 1952 section 2.2) */
            if (pos < n && inflateReset(&z) != Z_OK) st = hx_error(HOIST_ERR_IO, "%s: bad gzip member", path);
        } else if (rc == Z_BUF_ERROR && got == 0) {
            st = hx_error(HOIST_ERR_IO, "%s: gzip data is truncated", path);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = hx_error(HOIST_ERR_IO, "%s: gzip data is corrupt (%s)", path, z.msg ? z.msg : "inflate failed");
        } else if (pos == n && got < BLOCK) {
            /* input used up without the end of the stream */
            st = hx_error(HOIST_ERR_IO, "%s: gzip data is truncated", path);
        }
    }
    inflateEnd(&z);
    return st;
}

static hx_status feed_zstd(struct hoist_csv_reader *rd, const uint8_t *src, size_t n, const char *path,
                           uint8_t *block) {
    ZSTD_DStream *z = ZSTD_createDStream();
    if (!z) HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start zstd decompression", path);
    ZSTD_inBuffer in = {src, n, 0};
    hx_status st = HOIST_OK;
    size_t last = 1;
    while (st == HOIST_OK) {
        ZSTD_outBuffer out = {block, BLOCK, 0};
        last = ZSTD_decompressStream(z, &out, &in);
        if (ZSTD_isError(last)) {
            st = hx_error(HOIST_ERR_IO, "%s: zstd data is corrupt (%s)", path, ZSTD_getErrorName(last));
            break;
        }
        if (out.pos) st = hoist_csv_reader_feed(rd, block, out.pos);
        if (in.pos == in.size && out.pos < out.size) break;
    }
    if (st == HOIST_OK && last != 0) st = hx_error(HOIST_ERR_IO, "%s: zstd data is truncated", path);
    ZSTD_freeDStream(z);
    return st;
}

static hx_status read_compressed(const struct hx_file_map *map, bool gzip, const char *path,
                                 const struct hoist_csv_options *opts, struct ArrowArrayStream *out,
                                 struct hoist_csv_stats *stats) {
    struct hoist_csv_reader *rd;
    HX_TRY(hx_csv_reader_new_named(opts, path, &rd));
    uint8_t *block = hx_malloc(BLOCK);
    hx_status st = block ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "%s: out of memory", path);
    if (st == HOIST_OK)
        st = gzip ? feed_gzip(rd, map->data, map->size, path, block) : feed_zstd(rd, map->data, map->size, path, block);
    hx_free(block);
    if (st == HOIST_OK) st = hoist_csv_reader_finish(rd);
    if (st != HOIST_OK) {
        hoist_csv_reader_free(rd);
        return st;
    }
    if (stats) hoist_csv_reader_get_stats(rd, stats);
    return hx_csv_reader_into_stream(rd, out);
}

hx_status hoist_csv_read_file(const char *path, const struct hoist_csv_options *opts, struct ArrowArrayStream *out,
                              struct hoist_csv_stats *stats) {
    HX_FAIL_IF(!path || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_read_file: NULL argument");
    memset(out, 0, sizeof *out);
    if (stats) memset(stats, 0, sizeof *stats);
    struct hx_file_map map;
    HX_TRY(hx_file_map_open(path, &map));
    hx_status st;
    if (map.size >= 2 && map.data[0] == 0x1f && map.data[1] == 0x8b)
        st = read_compressed(&map, true, path, opts, out, stats);
    else if (map.size >= 4 && memcmp(map.data, "\x28\xb5\x2f\xfd", 4) == 0)
        st = read_compressed(&map, false, path, opts, out, stats);
    else
        st = hx_csv_read_named(map.data, map.size, path, opts, out, stats);
    hx_file_map_close(&map);
    if (st == HOIST_OK) hx_error_clear();
    return st;
}
