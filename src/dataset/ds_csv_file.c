/* hoist_csv_read_file / hoist_csv_read_url: CSV files and objects into
 * Arrow. The dataset layer joins the store (which maps a local file,
 * store_file_map.c, or fetches an object's ranges) and the CSV codec (which
 * parses bytes in memory and does no I/O). A plain local file is parsed in
 * place, in parallel; gzip (RFC 1952, several members allowed) and zstd
 * input, and every object fetched from a store, go block by block through
 * the streaming reader, so only a few blocks of text are held besides the
 * result. */
#include "csv.h"
#include "file_map.h"

#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define BLOCK ((size_t)1 << 20)
#define RANGE ((uint64_t)8 << 20) /* bytes per ranged GET */
#define RANGES_IN_FLIGHT 4

/* ---- a byte sink: raw (maybe compressed) bytes in, text to the reader ---- */

enum sink_kind { SINK_UNKNOWN, SINK_PLAIN, SINK_GZIP, SINK_ZSTD };

struct sink {
    struct hoist_csv_reader *rd;
    const char *name;
    enum sink_kind kind;
    uint8_t head[4]; /* first bytes, until the kind is known */
    size_t nhead;
    z_stream z;
    bool z_live, z_ended;
    ZSTD_DStream *zs;
    size_t zs_last;
    uint8_t *block;
};

static hx_status push_gzip(struct sink *s, const uint8_t *src, size_t n) {
    hx_status st = HOIST_OK;
    while (st == HOIST_OK && n) {
        if (s->z_ended) { /* members follow one another (RFC 1952 section 2.2) */
            if (inflateReset(&s->z) != Z_OK) HX_FAIL(HOIST_ERR_IO, "%s: bad gzip member", s->name);
            s->z_ended = false;
        }
        uInt in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
        s->z.next_in = (Bytef *)src;
        s->z.avail_in = in;
        s->z.next_out = s->block;
        s->z.avail_out = (uInt)BLOCK;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        size_t used = in - s->z.avail_in, got = BLOCK - s->z.avail_out;
        src += used;
        n -= used;
        if (rc == Z_STREAM_END) s->z_ended = true;
        else if (rc != Z_OK && !(rc == Z_BUF_ERROR && (used || got)))
            HX_FAIL(HOIST_ERR_IO, "%s: gzip data is corrupt (%s)", s->name, s->z.msg ? s->z.msg : "inflate failed");
        if (got) st = hoist_csv_reader_feed(s->rd, s->block, got);
    }
    /* output left inside zlib's window comes out with no more input */
    while (st == HOIST_OK && !s->z_ended) {
        s->z.next_in = (Bytef *)src;
        s->z.avail_in = 0;
        s->z.next_out = s->block;
        s->z.avail_out = (uInt)BLOCK;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        size_t got = BLOCK - s->z.avail_out;
        if (rc == Z_STREAM_END) s->z_ended = true;
        if (got) st = hoist_csv_reader_feed(s->rd, s->block, got);
        if (!got) break;
    }
    return st;
}

static hx_status push_zstd(struct sink *s, const uint8_t *src, size_t n) {
    ZSTD_inBuffer in = {src, n, 0};
    hx_status st = HOIST_OK;
    while (st == HOIST_OK) {
        ZSTD_outBuffer out = {s->block, BLOCK, 0};
        s->zs_last = ZSTD_decompressStream(s->zs, &out, &in);
        if (ZSTD_isError(s->zs_last))
            HX_FAIL(HOIST_ERR_IO, "%s: zstd data is corrupt (%s)", s->name, ZSTD_getErrorName(s->zs_last));
        if (out.pos) st = hoist_csv_reader_feed(s->rd, s->block, out.pos);
        if (in.pos == in.size && out.pos < out.size) break;
    }
    return st;
}

static enum sink_kind detect(const uint8_t *magic, size_t n) {
    if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return SINK_GZIP;
    if (n >= 4 && memcmp(magic, "\x28\xb5\x2f\xfd", 4) == 0) return SINK_ZSTD;
    return SINK_PLAIN;
}

static hx_status sink_start(struct sink *s, const uint8_t *magic, size_t n) {
    s->kind = detect(magic, n);
    if (s->kind == SINK_PLAIN) return HOIST_OK;
    if (s->kind == SINK_GZIP) {
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start gzip", s->name);
        s->z_live = true;
    } else if (!(s->zs = ZSTD_createDStream())) {
        HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start zstd", s->name);
    }
    if (!(s->block = hx_malloc(BLOCK))) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", s->name);
    return HOIST_OK;
}

static hx_status sink_push_known(struct sink *s, const uint8_t *data, size_t n) {
    switch (s->kind) {
    case SINK_GZIP: return push_gzip(s, data, n);
    case SINK_ZSTD: return push_zstd(s, data, n);
    default: return hoist_csv_reader_feed(s->rd, data, n);
    }
}

/* Bytes in order, split anywhere; the first four decide the format. */
static hx_status sink_push(struct sink *s, const uint8_t *data, size_t n) {
    if (s->kind == SINK_UNKNOWN) {
        while (s->nhead < sizeof s->head && n) {
            s->head[s->nhead++] = *data++;
            n--;
        }
        if (s->nhead < sizeof s->head) return HOIST_OK;
        HX_TRY(sink_start(s, s->head, s->nhead));
        HX_TRY(sink_push_known(s, s->head, s->nhead));
    }
    return n ? sink_push_known(s, data, n) : HOIST_OK;
}

static hx_status sink_end(struct sink *s) {
    if (s->kind == SINK_UNKNOWN) { /* fewer than four bytes in all */
        HX_TRY(sink_start(s, s->head, s->nhead));
        HX_TRY(sink_push_known(s, s->head, s->nhead));
    }
    HX_FAIL_IF(s->kind == SINK_GZIP && !s->z_ended, HOIST_ERR_IO, "%s: gzip data is truncated", s->name);
    HX_FAIL_IF(s->kind == SINK_ZSTD && s->zs_last != 0, HOIST_ERR_IO, "%s: zstd data is truncated", s->name);
    return hoist_csv_reader_finish(s->rd);
}

static void sink_free(struct sink *s) {
    if (s->z_live) inflateEnd(&s->z);
    ZSTD_freeDStream(s->zs);
    hx_free(s->block);
    hoist_csv_reader_free(s->rd);
}

/* Finishes a read: the reader becomes the stream (or is freed on failure). */
static hx_status sink_finish(struct sink *s, hx_status st, struct ArrowArrayStream *out,
                             struct hoist_csv_stats *stats) {
    if (st == HOIST_OK) st = sink_end(s);
    struct hoist_csv_reader *rd = s->rd;
    if (st == HOIST_OK) {
        s->rd = NULL;
        if (stats) hoist_csv_reader_get_stats(rd, stats);
    }
    sink_free(s);
    if (st != HOIST_OK) return st;
    st = hx_csv_reader_into_stream(rd, out);
    if (st == HOIST_OK) hx_error_clear();
    return st;
}

/* ---- local files ------------------------------------------------------- */

hx_status hoist_csv_read_file(const char *path, const struct hoist_csv_options *opts, struct ArrowArrayStream *out,
                              struct hoist_csv_stats *stats) {
    HX_FAIL_IF(!path || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_read_file: NULL argument");
    memset(out, 0, sizeof *out);
    if (stats) memset(stats, 0, sizeof *stats);
    struct hx_file_map map;
    HX_TRY(hx_file_map_open(path, &map));
    hx_status st;
    if (detect(map.data, map.size) == SINK_PLAIN) {
        /* in place, in parallel, types sampled all through the file */
        st = hx_csv_read_named(map.data, map.size, path, opts, out, stats);
        hx_file_map_close(&map);
        if (st == HOIST_OK) hx_error_clear();
        return st;
    }
    struct sink s = {.name = path};
    st = hx_csv_reader_new_named(opts, path, &s.rd);
    if (st == HOIST_OK) st = sink_push(&s, map.data, map.size);
    hx_file_map_close(&map);
    return s.rd ? sink_finish(&s, st, out, stats) : st;
}

/* ---- objects in a store ------------------------------------------------- */

static bool is_local(const char *url) { return !strstr(url, "://") || !strncmp(url, "file://", 7); }

/* Fetches [offset, size) in ranges, RANGES_IN_FLIGHT at a time, pushing each
 * into the sink in order as soon as its turn comes. */
static hx_status fetch_into(struct hoist_store *store, const char *url, uint64_t size, struct sink *s) {
    struct hoist_get_item items[RANGES_IN_FLIGHT];
    hx_status st = HOIST_OK;
    for (uint64_t off = 0; st == HOIST_OK && off < size;) {
        size_t n = 0;
        memset(items, 0, sizeof items);
        for (; n < RANGES_IN_FLIGHT && off < size; n++, off += RANGE) {
            items[n].url = url;
            items[n].offset = (int64_t)off;
            items[n].length = (int64_t)(size - off < RANGE ? size - off : RANGE);
            items[n].dest = HOIST_DEST_ALLOC;
        }
        st = hoist_store_get_many(store, items, n, 0, NULL, NULL);
        for (size_t i = 0; i < n; i++) {
            if (st == HOIST_OK && items[i].size != (uint64_t)items[i].length)
                st = hx_error(HOIST_ERR_S3_BAD_RESPONSE, "%s: a range came back short (the object changed?)", url);
            if (st == HOIST_OK) st = sink_push(s, items[i].data, (size_t)items[i].size);
            hoist_store_get_item_reset(&items[i]);
        }
    }
    return st;
}

hx_status hoist_csv_read_url(struct hoist_store *store, const char *url, const struct hoist_csv_options *opts,
                             struct ArrowArrayStream *out, struct hoist_csv_stats *stats) {
    HX_FAIL_IF(!url || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_read_url: NULL argument");
    if (is_local(url)) return hoist_csv_read_file(strncmp(url, "file://", 7) ? url : url + 7, opts, out, stats);
    memset(out, 0, sizeof *out);
    if (stats) memset(stats, 0, sizeof *stats);
    struct hoist_store *own = NULL;
    if (!store) {
        HX_TRY(hoist_store_new(NULL, &own));
        store = own;
    }
    struct hoist_info_item info = {.url = url};
    hx_status st = hoist_store_info_many(store, &info, 1, 0);
    uint64_t size = info.info.size;
    hoist_store_info_item_reset(&info);
    struct sink s = {.name = url};
    if (st == HOIST_OK) st = hx_csv_reader_new_named(opts, url, &s.rd);
    if (st == HOIST_OK) st = fetch_into(store, url, size, &s);
    st = s.rd ? sink_finish(&s, st, out, stats) : st;
    hoist_store_free(own);
    return st;
}
