/*
 * pq_enc_codec.c — page compression for the writer with the libraries the
 * reader already links (Compression.md). Default levels are Arrow C++'s
 * (zstd 1, brotli 8; gzip 6 with libdeflate, which compresses about as well
 * as zlib at 9), so files compare with pyarrow's at the same setting.
 * Contexts are made on first use and kept for the task's whole chunk.
 */
#include "pq_write_internal.h"

#include <brotli/encode.h>
#include <libdeflate.h>
#include <lz4.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getCParams */
#include <zstd.h>

void hx_pqw_compressor_init(struct hx_pqw_compressor *c, enum hx_pq_codec codec, int level) {
    memset(c, 0, sizeof *c);
    c->codec = codec;
    c->level = level;
}

void hx_pqw_compressor_free(struct hx_pqw_compressor *c) {
    if (c->zstd) ZSTD_freeCCtx(c->zstd);
    if (c->deflate) libdeflate_free_compressor(c->deflate);
    c->zstd = c->deflate = NULL;
}

static hx_status nomem(const char *what) {
    return hx_error(HOIST_ERR_NOMEM, "out of memory compressing a page with %s", what);
}

/* The level's parameters as zstd picks them for a source of unknown size
 * (its table for large inputs), set once on the context. Compressing a
 * page with the level alone would pick them by the page's size instead:
 * for pages under 256 KiB (20,000 doubles are 160 KB) level 3 then takes
 * 4-byte matches, which on high-entropy numbers (coordinates, timestamps)
 * is 5-7x slower than its 5-byte matches for 4-8 % smaller pages. zstd
 * still shrinks the window and tables to each page's size. */
static hx_status zstd_context(struct hx_pqw_compressor *c, int level) {
    if (!c->zstd && !(c->zstd = ZSTD_createCCtx())) return nomem("ZSTD");
    c->zstd_level = level;
    ZSTD_CCtx_reset(c->zstd, ZSTD_reset_parameters);
    ZSTD_compressionParameters p = ZSTD_getCParams(level, 0, 0);
    const struct {
        ZSTD_cParameter k;
        int v;
    } set[] = {{ZSTD_c_compressionLevel, level},           {ZSTD_c_windowLog, (int)p.windowLog},
               {ZSTD_c_chainLog, (int)p.chainLog},         {ZSTD_c_hashLog, (int)p.hashLog},
               {ZSTD_c_searchLog, (int)p.searchLog},       {ZSTD_c_minMatch, (int)p.minMatch},
               {ZSTD_c_targetLength, (int)p.targetLength}, {ZSTD_c_strategy, (int)p.strategy}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        size_t r = ZSTD_CCtx_setParameter(c->zstd, set[i].k, set[i].v);
        if (ZSTD_isError(r)) HX_FAIL(HOIST_ERR_INTERNAL, "zstd level %d: %s", level, ZSTD_getErrorName(r));
    }
    return HOIST_OK;
}

hx_status hx_pqw_compress(struct hx_pqw_compressor *c, const uint8_t *src, size_t len, struct hx_buf *out) {
    size_t cap = 0, got = 0;
    switch (c->codec) {
    case HX_PQ_UNCOMPRESSED: return hx_buf_append(out, src, len);
    case HX_PQ_SNAPPY:
        cap = snappy_max_compressed_length(len);
        HX_TRY(hx_buf_reserve(out, cap));
        got = cap;
        if (snappy_compress((const char *)src, len, out->data + out->len, &got) != SNAPPY_OK)
            HX_FAIL(HOIST_ERR_INTERNAL, "snappy failed to compress a %zu-byte page", len);
        break;
    case HX_PQ_GZIP:
        if (!c->deflate && !(c->deflate = libdeflate_alloc_compressor(c->level == HX_PQW_LEVEL_DEFAULT ? 6 : c->level)))
            return nomem("GZIP");
        cap = libdeflate_gzip_compress_bound(c->deflate, len);
        HX_TRY(hx_buf_reserve(out, cap));
        got = libdeflate_gzip_compress(c->deflate, src, len, out->data + out->len, cap);
        if (!got) HX_FAIL(HOIST_ERR_INTERNAL, "libdeflate failed to compress a %zu-byte page", len);
        break;
    case HX_PQ_ZSTD: {
        int level = c->level == HX_PQW_LEVEL_DEFAULT ? 1 : c->level;
        if (!c->zstd || c->zstd_level != level) HX_TRY(zstd_context(c, level));
        cap = ZSTD_compressBound(len);
        HX_TRY(hx_buf_reserve(out, cap));
        got = ZSTD_compress2(c->zstd, out->data + out->len, cap, src, len);
        if (ZSTD_isError(got)) HX_FAIL(HOIST_ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(got));
        break;
    }
    case HX_PQ_LZ4_RAW: {
        if (len > (size_t)LZ4_MAX_INPUT_SIZE) HX_FAIL(HOIST_ERR_LIMIT, "page of %zu bytes is too large for LZ4", len);
        cap = (size_t)LZ4_compressBound((int)len);
        HX_TRY(hx_buf_reserve(out, cap));
        int r = LZ4_compress_default((const char *)src, out->data + out->len, (int)len, (int)cap);
        if (r <= 0 && len > 0) HX_FAIL(HOIST_ERR_INTERNAL, "LZ4 failed to compress a %zu-byte page", len);
        got = (size_t)(r < 0 ? 0 : r);
        break;
    }
    case HX_PQ_BROTLI:
        cap = BrotliEncoderMaxCompressedSize(len);
        if (cap == 0) cap = len + 1024;
        HX_TRY(hx_buf_reserve(out, cap));
        got = cap;
        if (!BrotliEncoderCompress(c->level == HX_PQW_LEVEL_DEFAULT ? 8 : c->level, BROTLI_DEFAULT_WINDOW,
                                   BROTLI_MODE_GENERIC, len, src, &got, (uint8_t *)out->data + out->len))
            HX_FAIL(HOIST_ERR_INTERNAL, "brotli failed to compress a %zu-byte page", len);
        break;
    default: HX_FAIL(HOIST_ERR_UNSUPPORTED, "compression codec %d is not supported for writing", (int)c->codec);
    }
    out->len += got;
    return HOIST_OK;
}

hx_status hx_pqw_parse_codec(const char *s, enum hx_pq_codec *codec, int *level) {
    static const struct {
        const char *name;
        enum hx_pq_codec codec;
        int lo, hi;
    } names[] = {{"none", HX_PQ_UNCOMPRESSED, 0, 0}, {"uncompressed", HX_PQ_UNCOMPRESSED, 0, 0},
                 {"snappy", HX_PQ_SNAPPY, 0, 0},     {"gzip", HX_PQ_GZIP, 1, 12},
                 {"zstd", HX_PQ_ZSTD, -131072, 22},  {"lz4_raw", HX_PQ_LZ4_RAW, 0, 0},
                 {"lz4", HX_PQ_LZ4_RAW, 0, 0},       {"brotli", HX_PQ_BROTLI, 0, 11}};
    if (!s) HX_FAIL(HOIST_ERR_INVALID_ARG, "compression: NULL value");
    const char *colon = strchr(s, ':');
    size_t nlen = colon ? (size_t)(colon - s) : strlen(s);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) != nlen || strncasecmp(s, names[i].name, nlen) != 0) continue;
        *codec = names[i].codec;
        *level = HX_PQW_LEVEL_DEFAULT;
        if (colon) {
            char *end = NULL;
            long v = strtol(colon + 1, &end, 10);
            if (!colon[1] || *end || names[i].lo == names[i].hi || v < names[i].lo || v > names[i].hi)
                HX_FAIL(HOIST_ERR_INVALID_ARG, "compression '%s': level must be an integer in [%d, %d]%s", s,
                        names[i].lo, names[i].hi, names[i].lo == names[i].hi ? " (this codec has no levels)" : "");
            *level = (int)v;
        }
        return HOIST_OK;
    }
    HX_FAIL(HOIST_ERR_INVALID_ARG, "compression '%s' is not one of none, snappy, gzip, zstd, lz4_raw, brotli", s);
}
