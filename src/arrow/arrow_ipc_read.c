/*
 * arrow_ipc_read.c — the Arrow IPC reader: the file format (Columnar.md
 * "IPC File Format": "ARROW1" magic, the messages, a footer, the magic
 * again; .arrow/.feather v2) and the stream format ("IPC Streaming Format":
 * encapsulated messages to an end-of-stream marker; .arrows/.ipc), handed
 * out as an ArrowArrayStream of record batches.
 *
 * The input is untrusted. Flatbuffers are read with bounds checks
 * (arrow_flatbuf.c); every buffer is checked against the message body and
 * against the size its type and length require; offsets, list views, views
 * and dictionary indices are validated; a batch handed out is a valid Arrow
 * array that consumers (the Parquet writer) may trust. Buffers are copied
 * into 64-byte aligned Arrow buffers, decompressed when the batch says
 * LZ4_FRAME or ZSTD ("BodyCompression": an int64 uncompressed length, -1 for
 * a buffer left raw), and never beyond what the lengths require, within a
 * per-batch byte budget, so a small hostile file cannot demand much memory.
 *
 * The file format is read through the message sequence that follows its
 * magic (the footer only indexes those messages). A dictionary batch is
 * remembered by position and decoded again for each record batch that uses
 * it, so every batch owns its dictionary; delta dictionaries are refused.
 * Variadic buffers of a view column are joined into one (hoist's arrays
 * hold up to four buffers), the views rebased onto it.
 */
#include "arrow_internal.h"

#include <errno.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define INVALID(...) hx_error(HOIST_ERR_ARROW_INVALID, __VA_ARGS__)

/* Message.fbs MessageHeader and Schema.fbs Type union members */
enum { MH_SCHEMA = 1, MH_DICTIONARY = 2, MH_RECORD_BATCH = 3 };
#define MAX_DEPTH 64
#define MAX_DICT_NESTING 4

/* A dictionary-encoded field: its index schema node, its id, and where its
 * (last) dictionary batch message starts (0: none seen yet). */
struct dict_ref {
    const struct ArrowSchema *field;
    int64_t id;
    size_t msg;
};

struct ipc {
    char *name;
    uint8_t *data; /* owned */
    size_t size, pos, end;
    uint64_t max_batch_bytes;
    struct ArrowSchema schema;
    struct dict_ref *dicts;
    int ndicts, capdicts;
    bool done;
    ZSTD_DCtx *zstd;
    LZ4F_dctx *lz4;
};

/* ---- messages ------------------------------------------------------------------ */

struct message {
    size_t start; /* position of the message's first byte (for dictionaries) */
    struct hx_arrow_fb meta;
    size_t header;
    int type;
    const uint8_t *body;
    size_t body_len;
};

/* The message at r->pos; *eos at the end-of-stream marker or the end of the
 * messages (a stream may end without the marker). */
static hx_status read_message(struct ipc *r, size_t pos, struct message *m, size_t *next, bool *eos) {
    *eos = false;
    m->start = pos;
    uint32_t w, len;
    if (r->end - pos < 4) {
        *eos = true;
        return HOIST_OK;
    }
    memcpy(&w, r->data + pos, 4);
    pos += 4;
    if (w == 0xFFFFFFFFu) { /* continuation marker, then the length (format >= 0.15) */
        if (r->end - pos < 4) return INVALID("%s: message length cut off at byte %zu", r->name, pos);
        memcpy(&len, r->data + pos, 4);
        pos += 4;
    } else {
        len = w; /* the pre-0.15 framing: the length alone */
    }
    if (len == 0) {
        *eos = true;
        return HOIST_OK;
    }
    if (len > r->end - pos)
        return INVALID("%s: message of %u bytes at byte %zu overruns the data", r->name, len, m->start);
    m->meta = (struct hx_arrow_fb){r->data + pos, len};
    pos += len;
    size_t root = hx_arrow_fb_root(&m->meta);
    if (!root) return INVALID("%s: message at byte %zu is not a flatbuffer", r->name, m->start);
    m->type = (int)(uint8_t)hx_arrow_fb_int(&m->meta, root, 1, 1, 0);
    m->header = hx_arrow_fb_ref(&m->meta, root, 2);
    int64_t body_len = hx_arrow_fb_int(&m->meta, root, 3, 8, 0);
    if (!m->header) return INVALID("%s: message at byte %zu has no header", r->name, m->start);
    if (body_len < 0 || (uint64_t)body_len > r->end - pos)
        return INVALID("%s: message body of %lld bytes at byte %zu overruns the data", r->name, (long long)body_len,
                       pos);
    m->body = r->data + pos;
    m->body_len = (size_t)body_len;
    *next = pos + (size_t)body_len;
    return HOIST_OK;
}

/* ---- schema ----------------------------------------------------------------------- */

static hx_status copy_metadata(struct ipc *r, const struct hx_arrow_fb *fb, size_t vec, struct ArrowSchema *out) {
    uint32_t n;
    if (!vec || !hx_arrow_fb_vec(fb, vec, 4, &n) || n == 0) return HOIST_OK;
    struct hx_buf md = {0};
    HX_TRY(hx_arrow_metadata_begin(&md));
    hx_status st = HOIST_OK;
    for (uint32_t i = 0; i < n && st == HOIST_OK; i++) {
        size_t kv = hx_arrow_fb_vec_table(fb, vec, i);
        const char *k, *v;
        uint32_t kl, vl;
        if (!kv || !hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, kv, 0), &k, &kl)) {
            st = INVALID("%s: schema metadata entry %u has no key", r->name, i);
            break;
        }
        if (!hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, kv, 1), &v, &vl)) v = "", vl = 0;
        st = hx_arrow_metadata_add(&md, k, kl, v, vl);
    }
    if (st == HOIST_OK) st = hx_arrow_schema_set_metadata(out, md.data, md.len);
    hx_buf_reset(&md);
    return st;
}

/* The C Data Interface format of a Type table; *nchildren: how many child
 * fields the type needs (-1: any). */
static hx_status type_format(struct ipc *r, const struct hx_arrow_fb *fb, int tt, size_t type, const char *name,
                             char *fmt, size_t cap, int *nchildren) {
    *nchildren = 0;
    const char *f = NULL;
    /* Schema.fbs defaults (flatbuffers omit a field equal to its default):
     * Timestamp.unit SECOND, Date/Time/Duration.unit MILLISECOND */
    int unit = (int)hx_arrow_fb_int(fb, type, 0, 2, tt == HX_FBT_TIMESTAMP ? HX_UNIT_S : HX_UNIT_MS);
    switch (tt) {
    case HX_FBT_NULL: f = "n"; break;
    case HX_FBT_BOOL: f = "b"; break;
    case HX_FBT_INT: {
        int bits = (int)hx_arrow_fb_int(fb, type, 0, 4, 0), sign = (int)hx_arrow_fb_int(fb, type, 1, 1, 0);
        static const char s[] = "csil", u[] = "CSIL";
        int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : bits == 64 ? 3 : -1;
        if (k < 0) return INVALID("%s: field '%s': integer of %d bits", r->name, name, bits);
        snprintf(fmt, cap, "%c", sign ? s[k] : u[k]);
        return HOIST_OK;
    }
    case HX_FBT_FLOAT: {
        int p = (int)hx_arrow_fb_int(fb, type, 0, 2, 0);
        if (p < 0 || p > 2) return INVALID("%s: field '%s': floating point precision %d", r->name, name, p);
        f = p == 0 ? "e" : p == 1 ? "f" : "g";
        break;
    }
    case HX_FBT_BINARY: f = "z"; break;
    case HX_FBT_UTF8: f = "u"; break;
    case HX_FBT_LARGE_BINARY: f = "Z"; break;
    case HX_FBT_LARGE_UTF8: f = "U"; break;
    case HX_FBT_BINARY_VIEW: f = "vz"; break;
    case HX_FBT_UTF8_VIEW: f = "vu"; break;
    case HX_FBT_FSB: {
        int64_t w = hx_arrow_fb_int(fb, type, 0, 4, 0);
        if (w <= 0 || w > (1 << 20))
            return INVALID("%s: field '%s': fixed_size_binary of %lld bytes", r->name, name, (long long)w);
        snprintf(fmt, cap, "w:%d", (int)w);
        return HOIST_OK;
    }
    case HX_FBT_DECIMAL: {
        int p = (int)hx_arrow_fb_int(fb, type, 0, 4, 0), s = (int)hx_arrow_fb_int(fb, type, 1, 4, 0);
        int bw = (int)hx_arrow_fb_int(fb, type, 2, 4, 128);
        int maxp = bw == 32 ? 9 : bw == 64 ? 18 : bw == 128 ? 38 : bw == 256 ? 76 : 0;
        if (!maxp || p < 1 || p > maxp)
            return INVALID("%s: field '%s': decimal of precision %d in %d bits", r->name, name, p, bw);
        if (bw == 128)
            snprintf(fmt, cap, "d:%d,%d", p, s);
        else
            snprintf(fmt, cap, "d:%d,%d,%d", p, s, bw);
        return HOIST_OK;
    }
    case HX_FBT_DATE: f = unit == 0 ? "tdD" : "tdm"; break; /* DateUnit: DAY 0, MILLISECOND 1 (the default) */
    case HX_FBT_TIME: {
        int bits = (int)hx_arrow_fb_int(fb, type, 1, 4, 32);
        char u = hx_arrow_time_unit_char(unit);
        if (!u || (bits == 32) != (unit <= HX_UNIT_MS) || (bits != 32 && bits != 64))
            return INVALID("%s: field '%s': time of unit %d in %d bits", r->name, name, unit, bits);
        snprintf(fmt, cap, "tt%c", u);
        return HOIST_OK;
    }
    case HX_FBT_TIMESTAMP: {
        char u = hx_arrow_time_unit_char(unit);
        const char *tz = "";
        uint32_t tzl = 0;
        if (!u) return INVALID("%s: field '%s': timestamp unit %d", r->name, name, unit);
        if (!hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, type, 1), &tz, &tzl)) tz = "", tzl = 0;
        if (tzl > 200 || memchr(tz, 0, tzl)) return INVALID("%s: field '%s': bad time zone", r->name, name);
        snprintf(fmt, cap, "ts%c:%.*s", u, (int)tzl, tz);
        return HOIST_OK;
    }
    case HX_FBT_DURATION: {
        char u = hx_arrow_time_unit_char(unit);
        if (!u) return INVALID("%s: field '%s': duration unit %d", r->name, name, unit);
        snprintf(fmt, cap, "tD%c", u);
        return HOIST_OK;
    }
    case HX_FBT_LIST: f = "+l", *nchildren = 1; break;
    case HX_FBT_LARGE_LIST: f = "+L", *nchildren = 1; break;
    case HX_FBT_LIST_VIEW: f = "+vl", *nchildren = 1; break;
    case HX_FBT_LARGE_LIST_VIEW: f = "+vL", *nchildren = 1; break;
    case HX_FBT_STRUCT: f = "+s", *nchildren = -1; break;
    case HX_FBT_MAP: f = "+m", *nchildren = 1; break;
    case HX_FBT_FSL: {
        int64_t n = hx_arrow_fb_int(fb, type, 0, 4, -1);
        if (n < 0 || n > (1 << 20)) /* bounded so lengths x size cannot overflow */
            return INVALID("%s: field '%s': fixed_size_list of %lld", r->name, name, (long long)n);
        snprintf(fmt, cap, "+w:%d", (int)n);
        *nchildren = 1;
        return HOIST_OK;
    }
    default:
        HX_FAIL(HOIST_ERR_ARROW_TYPE,
                "%s: field '%s': Arrow IPC type %d (union, interval, run-end encoded) is not supported", r->name, name,
                tt);
    }
    snprintf(fmt, cap, "%s", f);
    return HOIST_OK;
}

static hx_status add_dict(struct ipc *r, const struct ArrowSchema *field, int64_t id) {
    for (int i = 0; i < r->ndicts; i++)
        if (r->dicts[i].id == id) return INVALID("%s: dictionary id %lld is used twice", r->name, (long long)id);
    if (r->ndicts == r->capdicts) {
        int cap = r->capdicts ? r->capdicts * 2 : 8;
        struct dict_ref *p = hx_realloc(r->dicts, (size_t)cap * sizeof *p);
        if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", r->name);
        r->dicts = p, r->capdicts = cap;
    }
    r->dicts[r->ndicts++] = (struct dict_ref){field, id, 0};
    return HOIST_OK;
}

static hx_status read_field(struct ipc *r, const struct hx_arrow_fb *fb, size_t field, int depth,
                            struct ArrowSchema *out) {
    char fmt[256];
    const char *name = "";
    uint32_t nl = 0;
    if (!field) return INVALID("%s: schema field missing", r->name);
    if (depth > MAX_DEPTH) return INVALID("%s: schema nested deeper than %d", r->name, MAX_DEPTH);
    if (!hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, field, 0), &name, &nl)) name = "", nl = 0;
    char *nm = hx_strndup(name, nl);
    if (!nm) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", r->name);
    int64_t flags = hx_arrow_fb_int(fb, field, 1, 1, 0) ? ARROW_FLAG_NULLABLE : 0;
    int tt = (int)(uint8_t)hx_arrow_fb_int(fb, field, 2, 1, 0), want;
    size_t dict = hx_arrow_fb_ref(fb, field, 4), ch = hx_arrow_fb_ref(fb, field, 5);
    uint32_t nch = 0;
    if (ch && !hx_arrow_fb_vec(fb, ch, 4, &nch)) nch = 0;
    hx_status st = type_format(r, fb, tt, hx_arrow_fb_ref(fb, field, 3), nm, fmt, sizeof fmt, &want);
    if (st == HOIST_OK && want >= 0 && (int64_t)nch != want)
        st = INVALID("%s: field '%s' of type %s has %u children", r->name, nm, fmt, nch);
    struct ArrowSchema *vs = out; /* the schema node the type describes */
    if (st == HOIST_OK && dict) {
        /* DictionaryEncoding: id, indexType (Int; int32 when absent), isOrdered */
        size_t it = hx_arrow_fb_ref(fb, dict, 1);
        int bits = it ? (int)hx_arrow_fb_int(fb, it, 0, 4, 0) : 32,
            sign = it ? (int)hx_arrow_fb_int(fb, it, 1, 1, 0) : 1;
        static const char s[] = "csil", u[] = "CSIL";
        int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : bits == 64 ? 3 : -1;
        if (hx_arrow_fb_int(fb, dict, 2, 1, 0)) flags |= ARROW_FLAG_DICTIONARY_ORDERED;
        char ifmt[2] = {k >= 0 ? (sign ? s[k] : u[k]) : 0, 0};
        if (k < 0) st = INVALID("%s: field '%s': dictionary indices of %d bits", r->name, nm, bits);
        if (st == HOIST_OK) st = hx_arrow_schema_init(out, ifmt, nm, flags);
        if (st == HOIST_OK) st = hx_arrow_schema_alloc_dictionary(out);
        if (st == HOIST_OK) st = hx_arrow_schema_init(out->dictionary, fmt, NULL, ARROW_FLAG_NULLABLE);
        if (st == HOIST_OK) st = add_dict(r, out, hx_arrow_fb_int(fb, dict, 0, 8, 0));
        vs = out->dictionary;
    } else if (st == HOIST_OK) {
        st = hx_arrow_schema_init(out, fmt, nm, flags);
    }
    hx_free(nm);
    if (st == HOIST_OK && !out->release) return st;
    if (st == HOIST_OK) st = copy_metadata(r, fb, hx_arrow_fb_ref(fb, field, 6), out);
    if (st == HOIST_OK && nch) st = hx_arrow_schema_alloc_children(vs, nch);
    for (uint32_t i = 0; st == HOIST_OK && i < nch; i++)
        st = read_field(r, fb, hx_arrow_fb_vec_table(fb, ch, i), depth + 1, vs->children[i]);
    if (st == HOIST_OK && tt == HX_FBT_MAP) {
        const struct ArrowSchema *e = vs->children[0];
        if (strcmp(e->format, "+s") != 0 || e->n_children != 2 || e->dictionary)
            st = INVALID("%s: map field '%s': entries are not a struct of key and value", r->name, out->name);
    }
    return st;
}

static hx_status read_schema(struct ipc *r) {
    struct message m;
    size_t next;
    bool eos;
    HX_TRY(read_message(r, r->pos, &m, &next, &eos));
    if (eos) return INVALID("%s: no schema message", r->name);
    if (m.type != MH_SCHEMA) return INVALID("%s: the first message is not a schema (type %d)", r->name, m.type);
    r->pos = next;
    if (hx_arrow_fb_int(&m.meta, m.header, 0, 2, 0) != 0)
        HX_FAIL(HOIST_ERR_UNSUPPORTED, "%s: big-endian Arrow IPC data is not supported", r->name);
    size_t fields = hx_arrow_fb_ref(&m.meta, m.header, 1);
    uint32_t n = 0;
    if (fields && !hx_arrow_fb_vec(&m.meta, fields, 4, &n))
        return INVALID("%s: schema fields overrun the message", r->name);
    HX_TRY(hx_arrow_schema_init(&r->schema, "+s", "", 0));
    HX_TRY(copy_metadata(r, &m.meta, hx_arrow_fb_ref(&m.meta, m.header, 2), &r->schema));
    if (n) HX_TRY(hx_arrow_schema_alloc_children(&r->schema, n));
    for (uint32_t i = 0; i < n; i++)
        HX_TRY(read_field(r, &m.meta, hx_arrow_fb_vec_table(&m.meta, fields, i), 1, r->schema.children[i]));
    return HOIST_OK;
}

/* ---- record batches ---------------------------------------------------------------- */

struct batch {
    struct ipc *r;
    const struct message *m;
    const struct hx_arrow_fb *fb;
    size_t nodes, bufs, variadic;
    uint32_t nnodes, nbufs, nvariadic, node_i, buf_i, variadic_i;
    int codec; /* -1 none, 0 LZ4_FRAME, 1 ZSTD */
    uint64_t budget;
    int dict_nesting;
};

static hx_status next_node(struct batch *b, int64_t *len, int64_t *nulls) {
    if (b->node_i >= b->nnodes) return INVALID("%s: record batch has fewer field nodes than the schema", b->r->name);
    const uint8_t *p = b->fb->b + b->nodes + 4 + (size_t)b->node_i++ * 16;
    memcpy(len, p, 8);
    memcpy(nulls, p + 8, 8);
    /* lengths are bounded so that byte sizes below cannot overflow */
    if (*len < 0 || *len > ((int64_t)1 << 40) || *nulls < 0 || *nulls > *len)
        return INVALID("%s: field node with length %lld and %lld nulls", b->r->name, (long long)*len,
                       (long long)*nulls);
    return HOIST_OK;
}

static hx_status decompress(struct batch *b, const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
    struct ipc *r = b->r;
    size_t got = 0;
    if (b->codec == 1) {
        if (!r->zstd && !(r->zstd = ZSTD_createDCtx())) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", r->name);
        ZSTD_DCtx_reset(r->zstd, ZSTD_reset_session_only);
        ZSTD_inBuffer in = {src, n, 0};
        ZSTD_outBuffer out = {dst, want, 0};
        while (out.pos < want) {
            size_t rc = ZSTD_decompressStream(r->zstd, &out, &in);
            if (ZSTD_isError(rc)) return INVALID("%s: ZSTD buffer: %s", r->name, ZSTD_getErrorName(rc));
            if (in.pos == in.size && (rc == 0 || out.pos < want)) break;
        }
        got = out.pos;
    } else {
        if (!r->lz4 && LZ4F_isError(LZ4F_createDecompressionContext(&r->lz4, LZ4F_VERSION)))
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", r->name);
        LZ4F_resetDecompressionContext(r->lz4);
        size_t used = 0;
        while (got < want) {
            size_t dl = want - got, sl = n - used;
            size_t rc = LZ4F_decompress(r->lz4, dst + got, &dl, src + used, &sl, NULL);
            if (LZ4F_isError(rc)) return INVALID("%s: LZ4 frame buffer: %s", r->name, LZ4F_getErrorName(rc));
            got += dl, used += sl;
            if (rc == 0 || (dl == 0 && sl == 0)) break;
        }
    }
    if (got != want) return INVALID("%s: compressed buffer holds %zu bytes, %zu needed", r->name, got, want);
    return HOIST_OK;
}

/* The next buffer of the body into buffer i of a: `want` bytes, or when
 * want is SIZE_MAX as many as it holds (*len). An empty buffer leaves it
 * NULL (*len 0); it is an error unless want is 0 or SIZE_MAX or the buffer
 * is optional. */
static hx_status take_buffer_opt(struct batch *b, struct ArrowArray *a, int i, size_t want, bool optional,
                                 size_t *len) {
    struct ipc *r = b->r;
    if (b->buf_i >= b->nbufs) return INVALID("%s: record batch has fewer buffers than its fields need", r->name);
    const uint8_t *p = b->fb->b + b->bufs + 4 + (size_t)b->buf_i++ * 16;
    int64_t off, n;
    memcpy(&off, p, 8);
    memcpy(&n, p + 8, 8);
    if (off < 0 || n < 0 || (uint64_t)off > b->m->body_len || (uint64_t)n > b->m->body_len - (uint64_t)off)
        return INVALID("%s: buffer at %lld of %lld bytes overruns the %zu-byte body", r->name, (long long)off,
                       (long long)n, b->m->body_len);
    *len = 0;
    if (n == 0) {
        if (!optional && want != SIZE_MAX && want > 0)
            return INVALID("%s: empty buffer where %zu bytes are needed", r->name, want);
        return HOIST_OK;
    }
    const uint8_t *src = b->m->body + off;
    size_t have = (size_t)n;
    bool compressed = false;
    if (b->codec >= 0) {
        int64_t raw;
        if (have < 8) return INVALID("%s: compressed buffer of %zu bytes", r->name, have);
        memcpy(&raw, src, 8);
        src += 8, have -= 8;
        if (raw != -1) {
            if (raw < 0) return INVALID("%s: compressed buffer of %lld bytes", r->name, (long long)raw);
            compressed = true;
            if (want == SIZE_MAX) {
                want = (size_t)raw;
            } else if ((uint64_t)raw < want) {
                return INVALID("%s: buffer of %lld bytes where %zu are needed", r->name, (long long)raw, want);
            }
        }
    }
    if (!compressed) {
        if (want == SIZE_MAX) want = have;
        if (have < want) return INVALID("%s: buffer of %zu bytes where %zu are needed", r->name, have, want);
    }
    if (want > b->budget)
        HX_FAIL(HOIST_ERR_LIMIT, "%s: record batch needs more than %llu bytes", r->name,
                (unsigned long long)r->max_batch_bytes);
    b->budget -= want;
    void *dst;
    HX_TRY(hx_arrow_array_alloc_buffer(a, i, want, &dst));
    if (compressed)
        HX_TRY(decompress(b, src, have, dst, want));
    else if (want)
        memcpy(dst, src, want);
    *len = want;
    return HOIST_OK;
}

static hx_status take_buffer(struct batch *b, struct ArrowArray *a, int i, size_t want, size_t *len) {
    return take_buffer_opt(b, a, i, want, false, len);
}

static bool bit(const uint8_t *v, int64_t i) { return (v[i >> 3] >> (i & 7)) & 1; }

/* Validity: an empty buffer means no nulls; null_count is recounted. */
static hx_status take_validity(struct batch *b, struct ArrowArray *a, int64_t len, int64_t nulls) {
    size_t got;
    /* never more than the bitmap: a compressed buffer declaring more is not inflated past it */
    HX_TRY(take_buffer_opt(b, a, 0, hx_arrow_bitmap_bytes(len), nulls == 0, &got));
    if (!got) hx_arrow_array_set_buffer(a, 0, NULL);
    a->null_count = got ? hx_arrow_bitmap_count_nulls(a->buffers[0], len) : 0;
    return HOIST_OK;
}

static bool valid_at(const struct ArrowArray *a, int64_t i) { return !a->buffers[0] || bit(a->buffers[0], i); }

static int64_t offset_at(const void *o, bool large, int64_t i) {
    if (large) {
        int64_t v;
        memcpy(&v, (const uint8_t *)o + 8 * i, 8);
        return v;
    }
    int32_t v;
    memcpy(&v, (const uint8_t *)o + 4 * i, 4);
    return v;
}

/* len + 1 offsets, non-decreasing from >= 0 to at most `limit`; an empty
 * offsets buffer of an empty array becomes [0]. */
static hx_status take_offsets(struct batch *b, struct ArrowArray *a, int64_t len, bool large, const char *what) {
    size_t ow = large ? 8 : 4, got;
    HX_TRY(take_buffer(b, a, 1, len ? (size_t)(len + 1) * ow : SIZE_MAX, &got));
    if (len == 0 && got < ow) {
        void *z;
        HX_TRY(hx_arrow_array_alloc_buffer(a, 1, ow, &z));
    }
    int64_t prev = offset_at(a->buffers[1], large, 0);
    if (prev < 0) return INVALID("%s: %s offsets start at %lld", b->r->name, what, (long long)prev);
    for (int64_t i = 1; i <= len; i++) {
        int64_t o = offset_at(a->buffers[1], large, i);
        if (o < prev) return INVALID("%s: %s offsets decrease at %lld", b->r->name, what, (long long)i);
        prev = o;
    }
    return HOIST_OK;
}

static hx_status read_array(struct batch *b, const struct ArrowSchema *s, int depth, struct ArrowArray *out);

/* The dictionary of field s for the current batch, decoded from its
 * dictionary batch message. */
static hx_status read_dictionary(struct ipc *r, const struct dict_ref *d, int nesting, struct ArrowArray *out);

static hx_status read_views(struct batch *b, struct ArrowArray *a, int64_t len) {
    struct ipc *r = b->r;
    size_t got;
    HX_TRY(take_buffer(b, a, 1, (size_t)len * 16, &got));
    if (b->variadic_i >= b->nvariadic) return INVALID("%s: view column without its variadic buffer count", r->name);
    int64_t k;
    memcpy(&k, b->fb->b + b->variadic + 4 + (size_t)b->variadic_i++ * 8, 8);
    if (k < 0 || k > b->nbufs - b->buf_i)
        return INVALID("%s: view column with %lld data buffers", r->name, (long long)k);
    /* join the data buffers into one, rebasing the views */
    int64_t *starts = hx_calloc((size_t)k + 1, sizeof *starts);
    if (!starts) HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", r->name);
    struct ArrowArray tmp;
    hx_status st = hx_arrow_array_init(&tmp, 0, 1, 0);
    struct hx_arrow_buf data = {0};
    for (int64_t i = 0; st == HOIST_OK && i < k; i++) {
        st = take_buffer(b, &tmp, 0, SIZE_MAX, &got);
        starts[i] = (int64_t)data.len;
        if (st == HOIST_OK && data.len + got > INT32_MAX)
            st = hx_error(HOIST_ERR_LIMIT, "%s: view column with more than 2 GiB of data in one batch", r->name);
        if (st == HOIST_OK) st = hx_arrow_buf_reserve(&data, got);
        if (st == HOIST_OK && got) memcpy(data.data + data.len, tmp.buffers[0], got), data.len += got;
        hx_arrow_array_set_buffer(&tmp, 0, NULL);
    }
    starts[k] = (int64_t)data.len;
    if (tmp.release) tmp.release(&tmp);
    uint8_t *v = hx_arrow_buffer(a, 1);
    for (int64_t i = 0; st == HOIST_OK && i < len; i++) {
        uint8_t *w = v + 16 * i;
        int32_t n, buf, off;
        memcpy(&n, w, 4);
        if (!valid_at(a, i)) { /* undefined under a null: made empty */
            memset(w, 0, 16);
            continue;
        }
        if (n < 0) {
            st = INVALID("%s: view %lld of length %d", r->name, (long long)i, n);
        } else if (n > 12) {
            memcpy(&buf, w + 8, 4);
            memcpy(&off, w + 12, 4);
            if (buf < 0 || buf >= k || off < 0 || (int64_t)off + n > starts[buf + 1] - starts[buf]) {
                st = INVALID("%s: view %lld points outside its data buffers", r->name, (long long)i);
            } else {
                int32_t at = (int32_t)(starts[buf] + off), zero = 0;
                memcpy(w + 8, &zero, 4);
                memcpy(w + 12, &at, 4);
            }
        }
    }
    hx_free(starts);
    int64_t total = (int64_t)data.len;
    if (st == HOIST_OK && !data.data) st = hx_arrow_buf_reserve(&data, 1);
    if (st != HOIST_OK) {
        hx_arrow_buf_reset(&data);
        return st;
    }
    hx_arrow_array_set_buffer(a, 2, hx_arrow_buf_detach(&data));
    a->n_buffers = 4;
    int64_t *sizes;
    HX_TRY(hx_arrow_array_alloc_buffer(a, 3, 8, (void **)&sizes));
    *sizes = total;
    return HOIST_OK;
}

/* Dictionary indices of valid slots must name a dictionary entry; those
 * under nulls are made 0. */
static hx_status check_indices(struct ipc *r, struct ArrowArray *a, int w, bool is_unsigned, int64_t len,
                               int64_t dict_len) {
    uint8_t *p = hx_arrow_buffer(a, 1);
    for (int64_t i = 0; i < len; i++) {
        if (!valid_at(a, i)) {
            memset(p + (size_t)i * (size_t)w, 0, (size_t)w);
            continue;
        }
        int64_t k = 0;
        if (w == 1) k = is_unsigned ? (int64_t)p[i] : (int8_t)p[i];
        if (w == 2) k = is_unsigned ? (int64_t)((uint16_t *)(void *)p)[i] : ((int16_t *)(void *)p)[i];
        if (w == 4) k = is_unsigned ? (int64_t)((uint32_t *)(void *)p)[i] : ((int32_t *)(void *)p)[i];
        if (w == 8) k = ((int64_t *)(void *)p)[i]; /* uint64 past INT64_MAX reads negative: out of range */
        if (k < 0 || k >= dict_len)
            return INVALID("%s: dictionary index %lld at %lld outside a dictionary of %lld", r->name, (long long)k,
                           (long long)i, (long long)dict_len);
    }
    return HOIST_OK;
}

static const struct dict_ref *find_dict(struct ipc *r, const struct ArrowSchema *field) {
    for (int i = 0; i < r->ndicts; i++)
        if (r->dicts[i].field == field) return &r->dicts[i];
    return NULL;
}

static hx_status read_children(struct batch *b, const struct ArrowSchema *s, int depth, struct ArrowArray *a,
                               int64_t min_len) {
    for (int64_t i = 0; i < s->n_children; i++) {
        HX_TRY(read_array(b, s->children[i], depth + 1, a->children[i]));
        if (a->children[i]->length < min_len)
            return INVALID("%s: field '%s' has %lld values, %lld needed", b->r->name, s->children[i]->name,
                           (long long)a->children[i]->length, (long long)min_len);
    }
    return HOIST_OK;
}

static hx_status read_array(struct batch *b, const struct ArrowSchema *s, int depth, struct ArrowArray *out) {
    struct ipc *r = b->r;
    const char *f = s->format;
    int64_t len = 0, nulls = 0;
    size_t got;
    if (depth > MAX_DEPTH) return INVALID("%s: batch nested deeper than %d", r->name, MAX_DEPTH);
    HX_TRY(next_node(b, &len, &nulls));
    if (!strcmp(f, "n")) { /* the null type has no buffers */
        HX_TRY(hx_arrow_array_init(out, len, 0, 0));
        out->null_count = len;
        return HOIST_OK;
    }
    if (f[0] == '+') {
        bool list = f[1] == 'l' || f[1] == 'L' || f[1] == 'm', view = f[1] == 'v', fsl = f[1] == 'w';
        bool large = f[1] == 'L' || (view && f[2] == 'L');
        HX_TRY(hx_arrow_array_init(out, len, list ? 2 : view ? 3 : 1, s->n_children));
        HX_TRY(take_validity(b, out, len, nulls));
        if (list) HX_TRY(take_offsets(b, out, len, large, s->name));
        if (view) {
            size_t ow = large ? 8 : 4;
            HX_TRY(take_buffer(b, out, 1, (size_t)len * ow, &got));
            HX_TRY(take_buffer(b, out, 2, (size_t)len * ow, &got));
        }
        int64_t need = 0;
        if (f[1] == 's') need = len;
        if (fsl) need = len * strtol(f + 3, NULL, 10);
        if (list) need = offset_at(out->buffers[1], large, len);
        HX_TRY(read_children(b, s, depth, out, need));
        if (view) {
            int64_t child = out->children[0]->length;
            for (int64_t i = 0; i < len; i++) {
                int64_t o = offset_at(out->buffers[1], large, i), n = offset_at(out->buffers[2], large, i);
                if (!valid_at(out, i)) { /* undefined under a null: made empty */
                    memset((uint8_t *)hx_arrow_buffer(out, 1) + i * (int64_t)(large ? 8 : 4), 0, large ? 8 : 4);
                    memset((uint8_t *)hx_arrow_buffer(out, 2) + i * (int64_t)(large ? 8 : 4), 0, large ? 8 : 4);
                } else if (o < 0 || n < 0 || o > child || n > child - o) {
                    return INVALID("%s: list view '%s' entry %lld outside its %lld values", r->name, s->name,
                                   (long long)i, (long long)child);
                }
            }
        }
        return HOIST_OK;
    }
    if (s->dictionary) {
        int w = hx_arrow_format_bits(f) / 8;
        const struct dict_ref *d = find_dict(r, s);
        if (!d || !d->msg) return INVALID("%s: field '%s' used before its dictionary", r->name, s->name ? s->name : "");
        HX_TRY(hx_arrow_array_init(out, len, 2, 0));
        HX_TRY(take_validity(b, out, len, nulls));
        HX_TRY(take_buffer(b, out, 1, (size_t)len * (size_t)w, &got));
        if (!got) {
            void *z;
            HX_TRY(hx_arrow_array_alloc_buffer(out, 1, 1, &z));
        }
        HX_TRY(hx_arrow_array_alloc_dictionary(out));
        HX_TRY(read_dictionary(r, d, b->dict_nesting + 1, out->dictionary));
        return check_indices(r, out, w, f[0] >= 'A' && f[0] <= 'Z', len, out->dictionary->length);
    }
    bool large;
    if (hx_arrow_format_is_binary(f, &large)) {
        HX_TRY(hx_arrow_array_init(out, len, 3, 0));
        HX_TRY(take_validity(b, out, len, nulls));
        HX_TRY(take_offsets(b, out, len, large, s->name));
        int64_t end = offset_at(out->buffers[1], large, len);
        HX_TRY(take_buffer(b, out, 2, (size_t)end, &got));
        if (!got) {
            void *z;
            HX_TRY(hx_arrow_array_alloc_buffer(out, 2, 1, &z));
        }
        return HOIST_OK;
    }
    if (!strcmp(f, "vu") || !strcmp(f, "vz")) {
        HX_TRY(hx_arrow_array_init(out, len, 2, 0));
        HX_TRY(take_validity(b, out, len, nulls));
        return read_views(b, out, len);
    }
    int bits = hx_arrow_format_bits(f);
    if (bits <= 0) HX_FAIL(HOIST_ERR_ARROW_TYPE, "%s: field '%s': type %s", r->name, s->name ? s->name : "", f);
    HX_TRY(hx_arrow_array_init(out, len, 2, 0));
    HX_TRY(take_validity(b, out, len, nulls));
    size_t need = bits == 1 ? hx_arrow_bitmap_bytes(len) : (size_t)len * (size_t)(bits / 8);
    HX_TRY(take_buffer(b, out, 1, need, &got));
    if (!got) {
        void *z;
        HX_TRY(hx_arrow_array_alloc_buffer(out, 1, 1, &z));
    }
    return HOIST_OK;
}

/* A RecordBatch table (of a record batch or dictionary batch message) into
 * `out`: a struct of s's children. */
static hx_status read_batch(struct ipc *r, const struct message *m, size_t rb, const struct ArrowSchema *s, int nesting,
                            struct ArrowArray *out) {
    struct batch b = {.r = r, .m = m, .fb = &m->meta, .codec = -1, .dict_nesting = nesting};
    b.budget = r->max_batch_bytes ? r->max_batch_bytes : UINT64_MAX;
    int64_t len = hx_arrow_fb_int(&m->meta, rb, 0, 8, 0);
    b.nodes = hx_arrow_fb_ref(&m->meta, rb, 1);
    b.bufs = hx_arrow_fb_ref(&m->meta, rb, 2);
    b.variadic = hx_arrow_fb_ref(&m->meta, rb, 4);
    if ((b.nodes && !hx_arrow_fb_vec(&m->meta, b.nodes, 16, &b.nnodes)) ||
        (b.bufs && !hx_arrow_fb_vec(&m->meta, b.bufs, 16, &b.nbufs)) ||
        (b.variadic && !hx_arrow_fb_vec(&m->meta, b.variadic, 8, &b.nvariadic)))
        return INVALID("%s: record batch at byte %zu: vectors overrun the message", r->name, m->start);
    size_t comp = hx_arrow_fb_ref(&m->meta, rb, 3);
    if (comp) {
        int codec = (int)hx_arrow_fb_int(&m->meta, comp, 0, 1, 0),
            method = (int)hx_arrow_fb_int(&m->meta, comp, 1, 1, 0);
        if ((codec != 0 && codec != 1) || method != 0)
            HX_FAIL(HOIST_ERR_UNSUPPORTED, "%s: record batch compression %d (method %d) is not supported", r->name,
                    codec, method);
        b.codec = codec;
    }
    if (len < 0 || len > ((int64_t)1 << 40)) return INVALID("%s: record batch of %lld rows", r->name, (long long)len);
    HX_TRY(hx_arrow_array_init(out, len, 1, s->n_children));
    hx_status st = HOIST_OK;
    for (int64_t i = 0; st == HOIST_OK && i < s->n_children; i++) {
        st = read_array(&b, s->children[i], 1, out->children[i]);
        if (st == HOIST_OK && out->children[i]->length != len)
            st = INVALID("%s: column '%s' has %lld rows in a batch of %lld", r->name, s->children[i]->name,
                         (long long)out->children[i]->length, (long long)len);
    }
    if (st != HOIST_OK) out->release(out);
    return st;
}

static hx_status read_dictionary(struct ipc *r, const struct dict_ref *d, int nesting, struct ArrowArray *out) {
    if (nesting > MAX_DICT_NESTING) return INVALID("%s: dictionaries nested deeper than %d", r->name, MAX_DICT_NESTING);
    struct message m;
    size_t next;
    bool eos;
    HX_TRY(read_message(r, d->msg, &m, &next, &eos));
    /* a one-column schema of the value type, borrowed from the field */
    struct ArrowSchema *child = d->field->dictionary;
    struct ArrowSchema holder = {.format = "+s", .name = "", .n_children = 1, .children = &child};
    struct ArrowArray batch;
    HX_TRY(read_batch(r, &m, hx_arrow_fb_ref(&m.meta, m.header, 1), &holder, nesting, &batch));
    /* move the column out of its batch */
    *out = *batch.children[0];
    batch.children[0]->release = NULL;
    batch.release(&batch);
    return HOIST_OK;
}

/* ---- the stream ---------------------------------------------------------------- */

static hx_status ipc_get_schema(void *state, struct ArrowSchema *out) {
    struct ipc *r = state;
    return hx_arrow_schema_copy(&r->schema, out);
}

static hx_status ipc_get_next(void *state, struct ArrowArray *out) {
    struct ipc *r = state;
    out->release = NULL;
    while (!r->done) {
        struct message m;
        size_t next;
        bool eos;
        HX_TRY(read_message(r, r->pos, &m, &next, &eos));
        if (eos) {
            r->done = true;
            break;
        }
        r->pos = next;
        if (m.type == MH_RECORD_BATCH) return read_batch(r, &m, m.header, &r->schema, 0, out);
        if (m.type != MH_DICTIONARY)
            return INVALID("%s: unexpected message of type %d at byte %zu", r->name, m.type, m.start);
        int64_t id = hx_arrow_fb_int(&m.meta, m.header, 0, 8, 0);
        if (hx_arrow_fb_int(&m.meta, m.header, 2, 1, 0))
            HX_FAIL(HOIST_ERR_UNSUPPORTED, "%s: delta dictionary batches are not supported", r->name);
        struct dict_ref *d = NULL;
        for (int i = 0; i < r->ndicts; i++)
            if (r->dicts[i].id == id) d = &r->dicts[i];
        if (!d) return INVALID("%s: dictionary batch for unknown id %lld", r->name, (long long)id);
        d->msg = m.start;
        /* decoded once now, so a bad dictionary fails here, not in a later batch */
        struct ArrowArray probe;
        HX_TRY(read_dictionary(r, d, 1, &probe));
        probe.release(&probe);
    }
    return HOIST_OK;
}

static void ipc_free(void *state) {
    struct ipc *r = state;
    if (!r) return;
    if (r->schema.release) r->schema.release(&r->schema);
    ZSTD_freeDCtx(r->zstd);
    if (r->lz4) LZ4F_freeDecompressionContext(r->lz4);
    hx_free(r->dicts);
    hx_free(r->data);
    hx_free(r->name);
    hx_free(r);
}

static const struct hx_arrow_stream_ops ipc_ops = {ipc_get_schema, ipc_get_next, ipc_free};

static const uint8_t file_magic[6] = {'A', 'R', 'R', 'O', 'W', '1'};

hx_status hx_arrow_ipc_open(uint8_t *data, size_t size, const char *name, uint64_t max_batch_bytes,
                            struct ArrowArrayStream *out) {
    out->release = NULL;
    struct ipc *r = hx_calloc(1, sizeof *r);
    if (!r) {
        hx_free(data);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory reading %s", name);
    }
    r->data = data, r->size = size, r->end = size, r->max_batch_bytes = max_batch_bytes;
    r->name = hx_strdup(name ? name : "<ipc>");
    hx_status st = r->name ? HOIST_OK : hx_error(HOIST_ERR_NOMEM, "out of memory reading %s", name);
    if (st == HOIST_OK && size >= 4 && memcmp(data, "FEA1", 4) == 0)
        st = hx_error(HOIST_ERR_UNSUPPORTED, "%s: Feather version 1 is not supported (only Arrow IPC / Feather v2)",
                      r->name);
    if (st == HOIST_OK && size >= 6 && memcmp(data, file_magic, 6) == 0) {
        /* file format: magic + 2 padding bytes, messages, footer, int32 footer length, magic */
        uint32_t flen;
        if (size < 8 + 4 + 6 || memcmp(data + size - 6, file_magic, 6) != 0) {
            st = INVALID("%s: Arrow IPC file without its closing magic (truncated?)", r->name);
        } else {
            memcpy(&flen, data + size - 10, 4);
            if (flen > size - 18) st = INVALID("%s: Arrow IPC footer of %u bytes overruns the file", r->name, flen);
            r->pos = 8;
            r->end = size - 10 - flen;
        }
    }
    if (st == HOIST_OK) st = read_schema(r);
    if (st != HOIST_OK) {
        ipc_free(r);
        return st;
    }
    return hx_arrow_stream_init(out, &ipc_ops, r);
}

hx_status hoist_arrow_ipc_read_memory(const void *data, size_t size, const char *name, struct ArrowArrayStream *out) {
    HX_FAIL_IF(!out || (!data && size), HOIST_ERR_INVALID_ARG, "hoist_arrow_ipc_read_memory: NULL argument");
    out->release = NULL;
    uint8_t *copy = hx_malloc(size ? size : 1);
    if (!copy) HX_FAIL(HOIST_ERR_NOMEM, "out of memory copying %zu bytes of Arrow IPC data", size);
    if (size) memcpy(copy, data, size);
    return hx_arrow_ipc_open(copy, size, name, 0, out);
}

hx_status hoist_arrow_ipc_read_file(const char *path, struct ArrowArrayStream *out) {
    HX_FAIL_IF(!path || !out, HOIST_ERR_INVALID_ARG, "hoist_arrow_ipc_read_file: NULL argument");
    out->release = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) HX_FAIL(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        HX_FAIL(HOIST_ERR_IO, "%s: cannot size the file", path);
    }
    uint8_t *data = hx_malloc((size_t)size + 1);
    if (!data) {
        fclose(f);
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory for %ld bytes", path, size);
    }
    size_t got = fread(data, 1, (size_t)size, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != (size_t)size) {
        hx_free(data);
        HX_FAIL(HOIST_ERR_IO, "%s: read error", path);
    }
    return hx_arrow_ipc_open(data, (size_t)size, path, 0, out);
}
