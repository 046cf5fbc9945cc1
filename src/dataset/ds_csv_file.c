/* hoist_csv_read_file / hoist_csv_read_url: CSV files and objects into
 * Arrow. The dataset layer joins the store (which maps a local file,
 * store_file_map.c, or fetches an object's ranges) and the CSV codec (which
 * parses bytes in memory and does no I/O). A plain local file is parsed in
 * place, in parallel; gzip (RFC 1952, several members allowed) and zstd
 * input, and every object fetched from a store (ranges downloading while
 * the previous ones parse), go block by block through the streaming reader,
 * so only a few blocks of text are held besides the result. */
#include "csv.h"
#include "file_map.h"

#include <pthread.h>
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
        if (rc == Z_STREAM_END)
            s->z_ended = true;
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

/* One batch of ranges: RANGES_IN_FLIGHT ranged GETs issued together. */
struct batch {
    struct hoist_store *store;
    struct hoist_get_item items[RANGES_IN_FLIGHT];
    size_t n;
    hx_status st;
    char err[512];
};

static uint64_t batch_prepare(struct batch *b, struct hoist_store *store, const char *url, uint64_t off,
                              uint64_t size) {
    memset(b, 0, sizeof *b);
    b->store = store;
    for (; b->n < RANGES_IN_FLIGHT && off < size; b->n++, off += RANGE) {
        b->items[b->n].url = url;
        b->items[b->n].offset = (int64_t)off;
        b->items[b->n].length = (int64_t)(size - off < RANGE ? size - off : RANGE);
        b->items[b->n].dest = HOIST_DEST_ALLOC;
    }
    return off;
}

static void *batch_fetch(void *arg) {
    struct batch *b = arg;
    b->st = hoist_store_get_many(b->store, b->items, b->n, 0, NULL, NULL);
    if (b->st != HOIST_OK) hx_error_copy(b->err, sizeof b->err); /* the message is this thread's */
    return NULL;
}

static void batch_reset(struct batch *b) {
    for (size_t i = 0; i < b->n; i++) hoist_store_get_item_reset(&b->items[i]);
    b->n = 0;
}

/* Pushes a fetched batch into the sink, in order. */
static hx_status batch_push(struct batch *b, const char *url, struct sink *s) {
    if (b->st != HOIST_OK) HX_FAIL(b->st, "%s", b->err);
    for (size_t i = 0; i < b->n; i++) {
        HX_FAIL_IF(b->items[i].size != (uint64_t)b->items[i].length, HOIST_ERR_S3_BAD_RESPONSE,
                   "%s: a range came back short (the object changed?)", url);
        HX_TRY(sink_push(s, b->items[i].data, (size_t)b->items[i].size));
    }
    return HOIST_OK;
}

/* Fetches the object in batches of ranges; the next batch downloads on a
 * thread of its own while this one parses the current one, so network and
 * parsing overlap with two batches (64 MiB) in memory. */
static hx_status fetch_into(struct hoist_store *store, const char *url, uint64_t size, struct sink *s) {
    struct batch *b = hx_calloc(2, sizeof *b);
    if (!b) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", url);
    uint64_t off = batch_prepare(&b[0], store, url, 0, size);
    batch_fetch(&b[0]);
    hx_status st = HOIST_OK;
    for (int cur = 0; st == HOIST_OK && b[cur].n;) {
        int next = !cur;
        off = batch_prepare(&b[next], store, url, off, size);
        pthread_t th;
        bool threaded = b[next].n && pthread_create(&th, NULL, batch_fetch, &b[next]) == 0;
        if (b[next].n && !threaded) batch_fetch(&b[next]); /* no thread: fetch first, then parse */
        st = batch_push(&b[cur], url, s);
        if (threaded) pthread_join(th, NULL);
        batch_reset(&b[cur]);
        cur = next;
    }
    batch_reset(&b[0]);
    batch_reset(&b[1]);
    hx_free(b);
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
