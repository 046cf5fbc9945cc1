/* hoist_csv_read_file / hoist_csv_read_url: CSV files and objects into
 * Arrow. The dataset layer joins the store (which maps a local file,
 * store_file_map.c, or fetches an object's ranges) and the CSV codec (which
 * parses bytes in memory and does no I/O). A plain local file is parsed in
 * place, in parallel, its pages dropped as chunks finish; a small local
 * gzip file (at most one streaming parse of text) is inflated whole by
 * libdeflate and parsed the same way; other gzip (RFC 1952, several members
 * allowed), zstd and bzip2 input, and every object fetched from a store
 * (ranges downloading while the previous ones parse), are decompressed on a
 * thread of their own into blocks that the streaming reader parses
 * meanwhile, so only a few blocks of text are held besides the result. */
#include "ds_csv_internal.h"
#include "file_map.h"

#include <bzlib.h>
#ifdef HOIST_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include <libdeflate.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK ((size_t)1 << 20)
#define RANGE ((uint64_t)8 << 20) /* bytes per ranged GET */
#define RANGES_IN_FLIGHT 4

/* ---- a byte sink: raw (maybe compressed) bytes in, text out ------------- */

/* Where a decompressor writes text: in place at the end of the consumer's
 * buffer when it offers room, else into the sink's block. */
static uint8_t *text_out(struct hx_ds_sink *s, size_t *cap) {
    uint8_t *p = s->room ? s->room(s->ud, cap) : NULL;
    if (p && *cap) {
        if (*cap > UINT32_MAX) *cap = UINT32_MAX;
        return p;
    }
    *cap = BLOCK;
    return s->block;
}

/* A member that lies wholly in the bytes at hand and whose text fits a
 * block is inflated by libdeflate, about twice as fast as zlib: BGZF files
 * and other runs of small members go this way. True when it did. The first
 * member whose text outgrows a block turns this off for the stream (the
 * wasted try costs one block's inflate): a one-member file streams through
 * zlib. A member cut by the end of the bytes at hand, or bad, goes to zlib,
 * which resumes across pushes and names what is wrong. */
static bool inflate_member_whole(struct hx_ds_sink *s, const uint8_t *src, size_t n, size_t *used, size_t *got) {
    if (s->ld_off || n < 18) return false; /* 18: a member's header and trailer */
    if (!s->ld && !(s->ld = libdeflate_alloc_decompressor())) {
        s->ld_off = true; /* no memory for it: zlib alone */
        return false;
    }
    enum libdeflate_result r = libdeflate_gzip_decompress_ex(s->ld, src, n, s->block, BLOCK, used, got);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) s->ld_off = true;
    return r == LIBDEFLATE_SUCCESS;
}

#ifndef HOIST_HAVE_ISAL
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One zlib inflate call over src[0, n) into the text out, which it emits;
 * *used: the bytes it read. zlib checks no CRC (inflateValidate off: its
 * crc32 took ~5% of the decompression thread, the critical path of a
 * streamed read; libdeflate's is about three times as fast), so the
 * member's CRC-32 and size are checked here against its trailer (RFC 1952
 * section 2.3.1): the last 8 bytes zlib read when the member ends, kept
 * across pushes. */
static hx_status zlib_step(struct hx_ds_sink *s, const uint8_t *src, size_t n, size_t *used) {
    size_t cap;
    uint8_t *out = text_out(s, &cap);
    uInt in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    s->z.next_in = (Bytef *)src;
    s->z.avail_in = in;
    s->z.next_out = out;
    s->z.avail_out = (uInt)cap;
    int rc = inflate(&s->z, Z_NO_FLUSH);
    size_t got = cap - s->z.avail_out;
    *used = in - s->z.avail_in;
    /* no progress for want of input (n == 0) is no error: the caller stops */
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && (*used || got || !n)))
        HX_FAIL(HOIST_ERR_IO, "%s: gzip data is corrupt (%s)", s->name, s->z.msg ? s->z.msg : "inflate failed");
    if (*used >= sizeof s->z_tail) {
        memcpy(s->z_tail, src + *used - sizeof s->z_tail, sizeof s->z_tail);
    } else if (*used) {
        memmove(s->z_tail, s->z_tail + *used, sizeof s->z_tail - *used);
        memcpy(s->z_tail + sizeof s->z_tail - *used, src, *used);
    }
    s->z_crc = (uint32_t)libdeflate_crc32(s->z_crc, out, got);
    s->z_size += got;
    if (rc == Z_STREAM_END) {
        HX_FAIL_IF(le32(s->z_tail) != s->z_crc, HOIST_ERR_IO, "%s: gzip data is corrupt (incorrect data check)",
                   s->name);
        HX_FAIL_IF(le32(s->z_tail + 4) != (uint32_t)s->z_size, HOIST_ERR_IO,
                   "%s: gzip data is corrupt (incorrect length check)", s->name);
        s->member_start = true;
    }
    return got ? s->emit(s->ud, out, got) : HOIST_OK;
}

#endif

#ifdef HOIST_HAVE_ISAL
/* ISA-L's igzip inflates a stream over twice as fast as zlib (168 MiB of
 * taxi CSV at gzip -1: ~0.25 s against ~0.57 s of one core), as fast as
 * libdeflate but a block at a time; it checks each member's CRC-32 and size
 * itself. It returns input it read past a member's end, so members follow
 * one another as with zlib. */
static const char *isal_why(int r) {
    switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid block";
    case ISAL_INVALID_SYMBOL: return "invalid symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "incorrect header";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data or length check";
    default: return "inflate failed";
    }
}

static hx_status isal_step(struct hx_ds_sink *s, const uint8_t *src, size_t n, size_t *used) {
    struct inflate_state *st = s->isal;
    size_t cap;
    uint8_t *out = text_out(s, &cap);
    uint32_t in = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    st->next_in = (uint8_t *)src;
    st->avail_in = in;
    st->next_out = out;
    st->avail_out = (uint32_t)cap;
    int r = isal_inflate(st);
    size_t got = cap - st->avail_out;
    *used = in - st->avail_in;
    if (r < 0) HX_FAIL(HOIST_ERR_IO, "%s: gzip data is corrupt (%s)", s->name, isal_why(r));
    s->z_size += got;
    if (st->block_state == ISAL_BLOCK_FINISH) s->member_start = true;
    return got ? s->emit(s->ud, out, got) : HOIST_OK;
}
#endif

/* The streaming inflater starts a member. */
static hx_status member_begin(struct hx_ds_sink *s) {
    s->member_start = false;
    s->z_crc = 0;
    s->z_size = 0;
#ifdef HOIST_HAVE_ISAL
    struct inflate_state *st = s->isal;
    isal_inflate_reset(st);
    st->crc_flag = ISAL_GZIP;
#else
    if (s->z_dirty && inflateReset(&s->z) != Z_OK) HX_FAIL(HOIST_ERR_IO, "%s: bad gzip member", s->name);
    s->z_dirty = true;
#endif
    return HOIST_OK;
}

static hx_status member_step(struct hx_ds_sink *s, const uint8_t *src, size_t n, size_t *used) {
#ifdef HOIST_HAVE_ISAL
    return isal_step(s, src, n, used);
#else
    return zlib_step(s, src, n, used);
#endif
}

/* Members follow one another (RFC 1952 section 2.2); each is inflated by
 * libdeflate when it fits (above) or streamed (ISA-L, else zlib), the
 * inflater's state carrying a member across pushes. */
static hx_status push_gzip(struct hx_ds_sink *s, const uint8_t *src, size_t n) {
    while (n) {
        if (s->member_start) {
            size_t used = 0, got = 0;
            if (inflate_member_whole(s, src, n, &used, &got)) {
                src += used;
                n -= used;
                if (got) HX_TRY(s->emit(s->ud, s->block, got));
                continue;
            }
            HX_TRY(member_begin(s));
        }
        size_t used;
        HX_TRY(member_step(s, src, n, &used));
        src += used;
        n -= used;
    }
    /* output left inside zlib's window comes out with no more input */
    for (uint64_t before = UINT64_MAX; !s->member_start && s->z_size != before;) {
        before = s->z_size;
        size_t used;
        HX_TRY(member_step(s, src, 0, &used));
    }
    return HOIST_OK;
}

static hx_status push_zstd(struct hx_ds_sink *s, const uint8_t *src, size_t n) {
    ZSTD_inBuffer in = {src, n, 0};
    for (;;) {
        size_t cap;
        uint8_t *dst = text_out(s, &cap);
        ZSTD_outBuffer out = {dst, cap, 0};
        s->zs_last = ZSTD_decompressStream(s->zs, &out, &in);
        if (ZSTD_isError(s->zs_last))
            HX_FAIL(HOIST_ERR_IO, "%s: zstd data is corrupt (%s)", s->name, ZSTD_getErrorName(s->zs_last));
        if (out.pos) HX_TRY(s->emit(s->ud, dst, out.pos));
        if (in.pos == in.size && out.pos < out.size) return HOIST_OK;
    }
}

/* bzip2 streams may be concatenated (what pbzip2 and lbzip2 write): a new
 * one starts where the previous ended, as bzip2 -d reads them. */
static hx_status push_bzip2(struct hx_ds_sink *s, const uint8_t *src, size_t n) {
    bz_stream *bz = s->bz;
    hx_status st = HOIST_OK;
    for (;;) {
        if (s->bz_ended) {
            if (!n) return st;
            BZ2_bzDecompressEnd(bz);
            memset(bz, 0, sizeof *bz);
            if (BZ2_bzDecompressInit(bz, 0, 0) != BZ_OK) HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start bzip2", s->name);
            s->bz_ended = false;
        }
        unsigned in = n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
        bz->next_in = (char *)src;
        bz->avail_in = in;
        bz->next_out = (char *)s->block;
        bz->avail_out = (unsigned)BLOCK;
        int rc = BZ2_bzDecompress(bz);
        size_t used = in - bz->avail_in, got = BLOCK - bz->avail_out;
        src += used;
        n -= used;
        if (rc == BZ_STREAM_END)
            s->bz_ended = true;
        else if (rc != BZ_OK)
            HX_FAIL(HOIST_ERR_IO, "%s: bzip2 data is corrupt (error %d)", s->name, rc);
        if (got) HX_TRY(s->emit(s->ud, s->block, got));
        if (!n && !got && !s->bz_ended) return st;
    }
}

enum hx_ds_sink_kind hx_ds_sink_detect(const uint8_t *magic, size_t n) {
    if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return HX_SINK_GZIP;
    if (n >= 4 && memcmp(magic, "\x28\xb5\x2f\xfd", 4) == 0) return HX_SINK_ZSTD;
    /* "BZh" + block size '1'..'9' */
    if (n >= 4 && memcmp(magic, "BZh", 3) == 0 && magic[3] >= '1' && magic[3] <= '9') return HX_SINK_BZIP2;
    return HX_SINK_PLAIN;
}

static hx_status sink_start(struct hx_ds_sink *s, const uint8_t *magic, size_t n) {
    s->kind = hx_ds_sink_detect(magic, n);
    if (s->kind == HX_SINK_PLAIN) return HOIST_OK;
    if (s->kind == HX_SINK_GZIP) {
#ifdef HOIST_HAVE_ISAL
        if (!(s->isal = hx_malloc(sizeof(struct inflate_state))))
            HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start gzip", s->name);
        isal_inflate_init(s->isal);
#else
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start gzip", s->name);
        s->z_live = true;
        if (inflateValidate(&s->z, 0) != Z_OK) HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start gzip", s->name);
#endif
        s->member_start = true;
    } else if (s->kind == HX_SINK_BZIP2) {
        if (!(s->bz = hx_calloc(1, sizeof(bz_stream)))) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", s->name);
        if (BZ2_bzDecompressInit(s->bz, 0, 0) != BZ_OK) {
            hx_free(s->bz);
            s->bz = NULL;
            HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start bzip2", s->name);
        }
    } else if (!(s->zs = ZSTD_createDStream())) {
        HX_FAIL(HOIST_ERR_NOMEM, "%s: cannot start zstd", s->name);
    }
    if (!(s->block = hx_malloc(BLOCK))) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", s->name);
    return HOIST_OK;
}

static hx_status sink_push_known(struct hx_ds_sink *s, const uint8_t *data, size_t n) {
    switch (s->kind) {
    case HX_SINK_GZIP: return push_gzip(s, data, n);
    case HX_SINK_ZSTD: return push_zstd(s, data, n);
    case HX_SINK_BZIP2: return push_bzip2(s, data, n);
    default: return n ? s->emit(s->ud, data, n) : HOIST_OK;
    }
}

hx_status hx_ds_sink_push(struct hx_ds_sink *s, const uint8_t *data, size_t n) {
    if (s->kind == HX_SINK_UNKNOWN && !s->nhead && n >= sizeof s->head) {
        /* the magic is in this push: the bytes go on whole (a gzip member
         * split off its first bytes could not go to libdeflate) */
        HX_TRY(sink_start(s, data, n));
        return sink_push_known(s, data, n);
    }
    if (s->kind == HX_SINK_UNKNOWN) {
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

hx_status hx_ds_sink_end(struct hx_ds_sink *s) {
    if (s->kind == HX_SINK_UNKNOWN) { /* fewer than four bytes in all */
        HX_TRY(sink_start(s, s->head, s->nhead));
        HX_TRY(sink_push_known(s, s->head, s->nhead));
    }
    HX_FAIL_IF(s->kind == HX_SINK_GZIP && !s->member_start, HOIST_ERR_IO, "%s: gzip data is truncated", s->name);
    HX_FAIL_IF(s->kind == HX_SINK_ZSTD && s->zs_last != 0, HOIST_ERR_IO, "%s: zstd data is truncated", s->name);
    HX_FAIL_IF(s->kind == HX_SINK_BZIP2 && !s->bz_ended, HOIST_ERR_IO, "%s: bzip2 data is truncated", s->name);
    return HOIST_OK;
}

void hx_ds_sink_free(struct hx_ds_sink *s) {
    if (s->z_live) inflateEnd(&s->z);
    s->z_live = false;
    if (s->ld) libdeflate_free_decompressor(s->ld);
    s->ld = NULL;
    hx_free(s->isal);
    s->isal = NULL;
    ZSTD_freeDStream(s->zs);
    s->zs = NULL;
    if (s->bz) BZ2_bzDecompressEnd(s->bz);
    hx_free(s->bz);
    s->bz = NULL;
    hx_free(s->block);
    s->block = NULL;
}

/* ---- a CSV reader fed text ------------------------------------------------- */

static hx_status feed_reader(void *ud, const uint8_t *text, size_t n) { return hoist_csv_reader_feed(ud, text, n); }

/* Finishes a read whose text has all been fed (st: how that went): the
 * reader becomes the stream, or is freed on failure. */
static hx_status reader_done(struct hoist_csv_reader *rd, hx_status st, struct ArrowArrayStream *out,
                             struct hoist_csv_stats *stats) {
    if (st == HOIST_OK) st = hoist_csv_reader_finish(rd);
    if (st != HOIST_OK) {
        hoist_csv_reader_free(rd);
        return st;
    }
    if (stats) hoist_csv_reader_get_stats(rd, stats, sizeof *stats);
    st = hx_csv_reader_into_stream(rd, out);
    if (st == HOIST_OK) hx_error_clear();
    return st;
}

/* ---- decompression on a thread of its own --------------------------------- */

/* Compressed input is inflated on a producer thread into 1 MiB blocks of
 * text while the calling thread parses the blocks before them (the reader
 * parses on its pool): decompression and parsing overlap, and memory holds
 * a few blocks, not the text. Eight filled blocks may wait (as much as the
 * reader gathers for one parse, so the producer keeps running while the
 * parser works); the producer waits for the parser beyond that. Small
 * blocks keep what waits small: 4 MiB ones held 16 MiB. */
#define PIPE_BLOCK ((size_t)1 << 20)
#define PIPE_DEPTH 8
#define PIPE_BUFS (PIPE_DEPTH + 2) /* queued + the producer's + the parser's */

typedef hx_status (*hx_ds_produce_fn)(void *arg, struct hx_ds_sink *s);

struct pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *queue[PIPE_DEPTH];
    size_t qlen[PIPE_DEPTH], qhead, qn;
    uint8_t *spare[PIPE_BUFS];
    size_t nspare;
    uint8_t *cur; /* the producer's block */
    size_t curlen;
    bool done, stop;
    hx_status pst;
    char perr[512];
    /* producer side */
    struct hx_ds_sink s;
    hx_ds_produce_fn produce;
    void *arg;
};

/* Hands the producer's block to the parser; waits while the queue is full. */
static hx_status pipe_push(struct pipe *pp) {
    pthread_mutex_lock(&pp->mu);
    while (pp->qn == PIPE_DEPTH && !pp->stop) pthread_cond_wait(&pp->cv, &pp->mu);
    bool stop = pp->stop;
    if (!stop) {
        size_t i = (pp->qhead + pp->qn++) % PIPE_DEPTH;
        pp->queue[i] = pp->cur;
        pp->qlen[i] = pp->curlen;
        pp->cur = NULL;
        pp->curlen = 0;
        pthread_cond_broadcast(&pp->cv);
    }
    pthread_mutex_unlock(&pp->mu);
    HX_FAIL_IF(stop, HOIST_ERR_CANCELLED, "%s: the parse stopped", pp->s.name);
    return HOIST_OK;
}

/* The producer's block: a spare one, or a new one; NULL when out of memory. */
static uint8_t *pipe_block(struct pipe *pp) {
    if (!pp->cur) {
        pthread_mutex_lock(&pp->mu);
        pp->cur = pp->nspare ? pp->spare[--pp->nspare] : NULL;
        pthread_mutex_unlock(&pp->mu);
        if (!pp->cur) pp->cur = hx_malloc(PIPE_BLOCK);
    }
    return pp->cur;
}

/* The sink's room: what is left of the producer's block (never full: a
 * full block is pushed at once), so the decompressor writes there. */
static uint8_t *pipe_room(void *ud, size_t *cap) {
    struct pipe *pp = ud;
    if (!pipe_block(pp)) return NULL; /* the sink's own block will do */
    *cap = PIPE_BLOCK - pp->curlen;
    return pp->cur + pp->curlen;
}

/* The sink's text into blocks (producer thread); text written in place
 * (pipe_room) only advances the block. */
static hx_status pipe_emit(void *ud, const uint8_t *text, size_t n) {
    struct pipe *pp = ud;
    if (pp->cur && text == pp->cur + pp->curlen) {
        pp->curlen += n;
        return pp->curlen == PIPE_BLOCK ? pipe_push(pp) : HOIST_OK;
    }
    while (n) {
        if (!pipe_block(pp)) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", pp->s.name);
        size_t k = PIPE_BLOCK - pp->curlen < n ? PIPE_BLOCK - pp->curlen : n;
        memcpy(pp->cur + pp->curlen, text, k);
        pp->curlen += k;
        text += k;
        n -= k;
        if (pp->curlen == PIPE_BLOCK) HX_TRY(pipe_push(pp));
    }
    return HOIST_OK;
}

static void *pipe_producer(void *arg) {
    struct pipe *pp = arg;
    hx_status st = pp->produce(pp->arg, &pp->s);
    if (st == HOIST_OK) st = hx_ds_sink_end(&pp->s);
    if (st == HOIST_OK && pp->curlen) st = pipe_push(pp);
    pthread_mutex_lock(&pp->mu);
    pp->pst = st;
    if (st != HOIST_OK) hx_error_copy(pp->perr, sizeof pp->perr); /* the message is this thread's */
    pp->done = true;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

/* Runs produce(arg, sink) on a thread of its own, the sink's text feeding
 * rd on this one. No thread to be had: both on this thread, in turn. */
static hx_status pipe_run(const char *name, hx_ds_produce_fn produce, void *arg, struct hoist_csv_reader *rd) {
    struct pipe *pp = hx_calloc(1, sizeof *pp);
    if (!pp) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", name);
    pp->s.name = name;
    pp->s.emit = pipe_emit;
    pp->s.room = pipe_room;
    pp->s.ud = pp;
    pp->produce = produce;
    pp->arg = arg;
    pthread_mutex_init(&pp->mu, NULL);
    pthread_cond_init(&pp->cv, NULL);
    pthread_t th;
    hx_status st = HOIST_OK;
    if (pthread_create(&th, NULL, pipe_producer, pp) != 0) {
        pp->s.emit = feed_reader;
        pp->s.room = NULL;
        pp->s.ud = rd;
        st = produce(arg, &pp->s);
        if (st == HOIST_OK) st = hx_ds_sink_end(&pp->s);
    } else {
        for (;;) {
            pthread_mutex_lock(&pp->mu);
            while (!pp->qn && !pp->done) pthread_cond_wait(&pp->cv, &pp->mu);
            uint8_t *block = NULL;
            size_t len = 0;
            if (pp->qn) {
                block = pp->queue[pp->qhead];
                len = pp->qlen[pp->qhead];
                pp->qhead = (pp->qhead + 1) % PIPE_DEPTH;
                pp->qn--;
                pthread_cond_broadcast(&pp->cv);
            }
            pthread_mutex_unlock(&pp->mu);
            if (!block) break; /* done and drained */
            st = hoist_csv_reader_feed(rd, block, len);
            pthread_mutex_lock(&pp->mu);
            pp->spare[pp->nspare++] = block;
            if (st != HOIST_OK) {
                pp->stop = true;
                pthread_cond_broadcast(&pp->cv);
            }
            pthread_mutex_unlock(&pp->mu);
            if (st != HOIST_OK) break;
        }
        pthread_join(th, NULL);
        /* a parse failure is this thread's message; else the producer's */
        if (st == HOIST_OK && pp->pst != HOIST_OK) st = hx_error(pp->pst, "%s", pp->perr);
    }
    hx_free(pp->cur);
    for (size_t i = 0; i < pp->qn; i++) hx_free(pp->queue[(pp->qhead + i) % PIPE_DEPTH]);
    for (size_t i = 0; i < pp->nspare; i++) hx_free(pp->spare[i]);
    hx_ds_sink_free(&pp->s);
    pthread_mutex_destroy(&pp->mu);
    pthread_cond_destroy(&pp->cv);
    hx_free(pp);
    return st;
}

/* ---- a mapped gzip file, decompressed whole ------------------------------ */

/* A small gzip file in memory is inflated by libdeflate, member after
 * member (RFC 1952 section 2.2), into one buffer that is then parsed in
 * place like a plain file. Only small ones: the streaming reader gathers
 * that much text for one parse anyway (4 chunks per worker, at least
 * 4 MiB), so holding it whole costs no memory, and libdeflate inflates about
 * twice as fast as zlib. A larger file streams (push_gzip), its text held a
 * few blocks at a time instead of whole next to the table (1 M taxi rows:
 * peak RSS 315 -> 166 MiB, table 133 MiB). Anything libdeflate rejects
 * (corrupt, truncated, trailing garbage) goes the streaming zlib way, whose
 * messages say what is wrong. False: not done this way (nothing allocated,
 * no status set). */
bool hx_ds_gunzip_whole(const uint8_t *src, size_t n, uint8_t **text, size_t *len) {
    /* < 18: no header + trailer, the stream path judges; more compressed
     * bytes than the cap: about as much text or more, streamed */
    if (n < 18 || n > HX_DS_GUNZIP_WHOLE_MAX) return false;
    uint64_t limit = HX_DS_GUNZIP_WHOLE_MAX;
    /* the last member's ISIZE (its size mod 2^32) sizes a one-member file
     * exactly; more members, or a size past 4 GiB, grow the buffer */
    uint32_t isize =
        (uint32_t)src[n - 4] | (uint32_t)src[n - 3] << 8 | (uint32_t)src[n - 2] << 16 | (uint32_t)src[n - 1] << 24;
    size_t cap = isize ? isize : n * 4;
    if (!limit || cap > limit) return false;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    uint8_t *buf = d ? hx_malloc(cap + 1) : NULL;
    size_t in = 0, out = 0;
    bool ok = buf != NULL;
    while (ok && in < n) {
        size_t used = 0, got = 0;
        enum libdeflate_result r =
            libdeflate_gzip_decompress_ex(d, src + in, n - in, buf + out, cap - out, &used, &got);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
            size_t grown = cap * 2;
            uint8_t *b2 = grown <= limit ? hx_realloc(buf, grown + 1) : NULL;
            ok = b2 != NULL;
            if (ok) {
                buf = b2;
                cap = grown;
            }
            continue;
        }
        ok = r == LIBDEFLATE_SUCCESS;
        in += used;
        out += got;
    }
    if (d) libdeflate_free_decompressor(d);
    if (!ok) {
        hx_free(buf);
        return false;
    }
    *text = buf;
    *len = out;
    return true;
}

/* ---- local files ------------------------------------------------------- */

/* A parsed chunk's pages of a plain file's mapping leave this process's
 * memory (MADV_DONTNEED on a private read-only file mapping drops the page
 * table entries; the page cache keeps the data and a later read faults it
 * back in), so the text does not add to peak RSS next to the table. Pages
 * shared with a neighbouring chunk are kept. */
static void drop_parsed(void *ud, size_t off, size_t len) {
    const struct hx_file_map *map = ud;
    uintptr_t page = (uintptr_t)hx_page_size(), a = (uintptr_t)map->data + off, b = a + len;
    a = (a + page - 1) & ~(page - 1);
    b &= ~(page - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED); /* advice: failure only costs memory */
}

/* A producer: the whole mapped file into the sink, a slice at a time. The
 * sink has consumed a slice when the push returns (its text went on in
 * blocks), so the slice's pages are dropped then: read through once, the
 * compressed bytes would otherwise stay resident next to the table (a
 * 64 MiB .zst of a 170 MiB CSV kept peak RSS 90 MiB above the table).
 * 1 MiB slices, not 8: the slice being read is resident, and 8 MiB ones
 * kept the peak of a 72 MiB .gz (1 M taxi rows) ~5 MiB higher. */
#define MAP_SLICE ((size_t)1 << 20)
static hx_status push_map(void *arg, struct hx_ds_sink *s) {
    const struct hx_file_map *map = arg;
    if (!map->base) return hx_ds_sink_push(s, map->data, map->size);
    for (size_t off = 0; off < map->size; off += MAP_SLICE) {
        size_t n = map->size - off < MAP_SLICE ? map->size - off : MAP_SLICE;
        HX_TRY(hx_ds_sink_push(s, map->data + off, n));
        drop_parsed((void *)map, off, n);
    }
    return HOIST_OK;
}

static hx_status read_file(const char *path, const struct hoist_csv_options *opts, struct ArrowArrayStream *out,
                           struct hoist_csv_stats *stats) {
    HX_FAIL_IF(!path || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_read_file: NULL argument");
    memset(out, 0, sizeof *out);
    if (stats) memset(stats, 0, sizeof *stats);
    struct hx_file_map map;
    HX_TRY(hx_file_map_open(path, &map));
    hx_status st;
    if (hx_ds_sink_detect(map.data, map.size) == HX_SINK_PLAIN) {
        /* in place, in parallel, types sampled all through the file */
        st = hx_csv_read_mapped(map.data, map.size, path, opts, map.base ? drop_parsed : NULL, &map, out, stats);
        hx_file_map_close(&map);
        if (st == HOIST_OK) hx_error_clear();
        return st;
    }
    if (hx_ds_sink_detect(map.data, map.size) == HX_SINK_GZIP) {
        uint8_t *text;
        size_t len;
        if (hx_ds_gunzip_whole(map.data, map.size, &text, &len)) {
            hx_file_map_close(&map);
            st = hx_csv_read_named(text, len, path, opts, out, stats);
            hx_free(text);
            if (st == HOIST_OK) hx_error_clear();
            return st;
        }
    }
    struct hoist_csv_reader *rd;
    st = hx_csv_reader_new_named(opts, path, &rd);
    if (st == HOIST_OK) st = reader_done(rd, pipe_run(path, push_map, &map, rd), out, stats);
    hx_file_map_close(&map);
    return st;
}

/* ---- objects in a store ------------------------------------------------- */

bool hx_ds_csv_is_local(const char *url) { return !strstr(url, "://") || !strncmp(url, "file://", 7); }

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
static hx_status batch_push(struct batch *b, const char *url, struct hx_ds_sink *s) {
    if (b->st != HOIST_OK) HX_FAIL(b->st, "%s", b->err);
    for (size_t i = 0; i < b->n; i++) {
        HX_FAIL_IF(b->items[i].size != (uint64_t)b->items[i].length, HOIST_ERR_S3_BAD_RESPONSE,
                   "%s: a range came back short (the object changed?)", url);
        HX_TRY(hx_ds_sink_push(s, b->items[i].data, (size_t)b->items[i].size));
        /* consumed: freed now, not with the batch, while the next batch downloads */
        hoist_store_get_item_reset(&b->items[i]);
    }
    return HOIST_OK;
}

/* Fetches the object in batches of ranges; the next batch downloads on a
 * thread of its own while this one parses the current one, so network and
 * parsing overlap with two batches (64 MiB) in memory. */
hx_status hx_ds_csv_fetch(struct hoist_store *store, const char *url, uint64_t size, struct hx_ds_sink *s) {
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

/* A producer: an object's ranges, fetched, into the sink. */
struct fetch_args {
    struct hoist_store *store;
    const char *url;
    uint64_t size;
};
static hx_status push_fetched(void *arg, struct hx_ds_sink *s) {
    const struct fetch_args *a = arg;
    return hx_ds_csv_fetch(a->store, a->url, a->size, s);
}

static hx_status read_url(struct hoist_store *store, const char *url, const struct hoist_csv_options *opts,
                          struct ArrowArrayStream *out, struct hoist_csv_stats *stats) {
    HX_FAIL_IF(!url || !out, HOIST_ERR_INVALID_ARG, "hoist_csv_read_url: NULL argument");
    if (hx_ds_csv_is_local(url)) return read_file(strncmp(url, "file://", 7) ? url : url + 7, opts, out, stats);
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
    struct hoist_csv_reader *rd = NULL;
    if (st == HOIST_OK) st = hx_csv_reader_new_named(opts, url, &rd);
    if (st == HOIST_OK) {
        struct fetch_args a = {store, url, size};
        st = reader_done(rd, pipe_run(url, push_fetched, &a, rd), out, stats);
    }
    hoist_store_free(own);
    return st;
}

hx_status hoist_csv_read_file(const char *path, const struct hoist_csv_options *opts, struct ArrowArrayStream *out,
                              struct hoist_csv_stats *stats, size_t stats_size) {
    struct hoist_csv_stats full;
    hx_status st = read_file(path, opts, out, &full);
    hx_csv_stats_out(st == HOIST_OK ? &full : NULL, stats, stats_size);
    return st;
}

hx_status hoist_csv_read_url(struct hoist_store *store, const char *url, const struct hoist_csv_options *opts,
                             struct ArrowArrayStream *out, struct hoist_csv_stats *stats, size_t stats_size) {
    struct hoist_csv_stats full;
    hx_status st = read_url(store, url, opts, out, &full);
    hx_csv_stats_out(st == HOIST_OK ? &full : NULL, stats, stats_size);
    return st;
}
