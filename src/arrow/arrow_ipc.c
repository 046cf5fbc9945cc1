/*
 * arrow_ipc.c — the Arrow IPC file writer (Columnar.md "IPC File Format"):
 * magic, a schema message, one record batch message per batch, the
 * end-of-stream marker, a footer flatbuffer naming the blocks, its length and
 * the magic again.
 *
 * The flatbuffers are built front to back: a table is written before the
 * objects it points to, so every uoffset points forward as the format
 * requires, and is patched once the target's position is known. Flat types
 * only; nested and dictionary columns are refused with a message naming the
 * column. Column buffers go to the file straight from the arrays (no copy).
 */
#include "arrow_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* ---- a forward-only flatbuffer builder ------------------------------------------ */

struct fbb {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void fb_reserve(struct fbb *b, size_t n) {
    if (b->len + n <= b->cap || b->oom) return;
    size_t nc = b->cap ? b->cap * 2 : 1024;
    while (nc < b->len + n) nc *= 2;
    uint8_t *np = hx_realloc(b->p, nc);
    if (!np) {
        b->oom = true;
        return;
    }
    b->p = np;
    b->cap = nc;
}

static size_t fb_put(struct fbb *b, const void *v, size_t n) {
    fb_reserve(b, n);
    size_t at = b->len;
    if (b->oom) return at;
    memcpy(b->p + at, v, n);
    b->len += n;
    return at;
}

static void fb_pad(struct fbb *b, size_t align) {
    while (b->len % align && !b->oom) fb_put(b, "", 1);
}

/* Points the uoffset at `at` to the object at `target` (> at). */
static void fb_patch(struct fbb *b, size_t at, size_t target) {
    if (b->oom) return;
    uint32_t rel = (uint32_t)(target - at);
    memcpy(b->p + at, &rel, 4);
}

struct fb_field {
    int id;
    int size;       /* 1, 2, 4 or 8 */
    uint64_t value; /* scalars */
    size_t *slot;   /* offsets: receives the position to patch */
};

/* Writes a table (vtable right before it) and returns its position. */
static size_t fb_table(struct fbb *b, const struct fb_field *f, int n) {
    int maxid = -1;
    for (int i = 0; i < n; i++)
        if (f[i].id > maxid) maxid = f[i].id;
    uint16_t vt[32] = {0};
    /* Lay out the fields: table offset 0 is the soffset to the vtable. */
    size_t pos[16], off = 4;
    for (int i = 0; i < n; i++) {
        size_t a = (size_t)f[i].size;
        off = (off + a - 1) / a * a;
        pos[i] = off;
        off += a;
    }
    size_t tsize = (off + 7) / 8 * 8;
    size_t vsize = 4 + 2 * (size_t)(maxid + 1);
    /* The table starts 8-aligned (its 8-byte fields need it); the vtable
     * sits right before it. */
    while ((b->len + vsize) % 8 && !b->oom) fb_put(b, "", 1);
    vt[0] = (uint16_t)vsize;
    vt[1] = (uint16_t)tsize;
    for (int i = 0; i < n; i++) vt[2 + f[i].id] = (uint16_t)pos[i];
    size_t vpos = fb_put(b, vt, vsize);
    size_t tpos = b->len;
    fb_reserve(b, tsize);
    if (b->oom) return tpos;
    memset(b->p + tpos, 0, tsize);
    int32_t so = (int32_t)(tpos - vpos);
    memcpy(b->p + tpos, &so, 4);
    for (int i = 0; i < n; i++) {
        if (f[i].slot)
            *f[i].slot = tpos + pos[i];
        else
            memcpy(b->p + tpos + pos[i], &f[i].value, (size_t)f[i].size); /* little-endian */
    }
    b->len += tsize;
    return tpos;
}

static size_t fb_string(struct fbb *b, const char *s) {
    fb_pad(b, 4);
    uint32_t n = (uint32_t)strlen(s);
    size_t at = fb_put(b, &n, 4);
    fb_put(b, s, n + 1);
    return at;
}

/* A vector of n uoffsets; slots[i] receive their positions. */
static size_t fb_offset_vector(struct fbb *b, size_t n, size_t *slots) {
    fb_pad(b, 4);
    uint32_t c = (uint32_t)n;
    size_t at = fb_put(b, &c, 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t z = 0;
        slots[i] = fb_put(b, &z, 4);
    }
    return at;
}

/* A vector of n structs of `size` bytes each (8-aligned elements). */
static size_t fb_struct_vector(struct fbb *b, const void *elems, size_t n, size_t size) {
    while ((b->len + 4) % 8 && !b->oom) fb_put(b, "", 1);
    uint32_t c = (uint32_t)n;
    size_t at = fb_put(b, &c, 4);
    if (n) fb_put(b, elems, n * size);
    return at;
}

/* ---- Schema.fbs ------------------------------------------------------------------ */

/* Time units of Schema.fbs: SECOND, MILLISECOND, MICROSECOND, NANOSECOND. */
static int time_unit(char c) { return c == 's' ? 0 : c == 'm' ? 1 : c == 'u' ? 2 : 3; }

/* The Type union member of a format string, or -1 if the writer does not
 * handle it. With b, also writes the type's table at *type_pos. */
static int ipc_type(struct fbb *b, const char *f, size_t *type_pos) {
    struct fb_field fl[2] = {{0, 0, 0, NULL}, {0, 0, 0, NULL}};
    int nf = 0, id = -1;
    size_t tz_slot = 0;
    bool has_tz = false;
    static const char ints[] = "cCsSiIlL";
    const char *k = f[0] && f[1] == '\0' ? strchr(ints, f[0]) : NULL;
    if (k) {
        int r = (int)(k - ints);
        fl[0] = (struct fb_field){0, 4, (uint64_t)(8 << (r / 2)), NULL};
        fl[1] = (struct fb_field){1, 1, (uint64_t)(r % 2 == 0), NULL};
        nf = 2, id = 2; /* Int */
    } else if (f[0] && f[1] == '\0' && strchr("efg", f[0])) {
        fl[0] = (struct fb_field){0, 2, (uint64_t)(f[0] == 'e' ? 0 : f[0] == 'f' ? 1 : 2), NULL};
        nf = 1, id = 3; /* FloatingPoint */
    } else if (f[0] && f[1] == '\0' && strchr("nzubZU", f[0])) {
        static const int ids[] = {1, 4, 5, 6, 19, 20}; /* Null Binary Utf8 Bool LargeBinary LargeUtf8 */
        id = ids[strchr("nzubZU", f[0]) - "nzubZU"];
    } else if (!strcmp(f, "tdD") || !strcmp(f, "tdm")) {
        fl[0] = (struct fb_field){0, 2, (uint64_t)(f[2] == 'D' ? 0 : 1), NULL};
        nf = 1, id = 8; /* Date */
    } else if (f[0] == 't' && f[1] == 's' && f[2] && f[3] == ':') {
        fl[0] = (struct fb_field){0, 2, (uint64_t)time_unit(f[2]), NULL};
        fl[1] = (struct fb_field){1, 4, 0, &tz_slot};
        has_tz = f[4] != '\0';
        nf = has_tz ? 2 : 1, id = 10; /* Timestamp */
    } else if (f[0] == 't' && f[1] == 't' && f[2] && f[3] == '\0') {
        int unit = time_unit(f[2]);
        fl[0] = (struct fb_field){0, 2, (uint64_t)unit, NULL};
        fl[1] = (struct fb_field){1, 4, (uint64_t)(unit < 2 ? 32 : 64), NULL};
        nf = 2, id = 9; /* Time */
    }
    if (id < 0 || !b) return id;
    *type_pos = fb_table(b, fl, nf);
    if (has_tz) fb_patch(b, tz_slot, fb_string(b, f + 4));
    return id;
}

/* The Schema table (shared by the schema message and the footer); the
 * columns were checked by hx_arrow_ipc_writer_new. */
static size_t ipc_schema_table(struct fbb *b, const struct ArrowSchema *schema) {
    size_t fields_slot = 0;
    struct fb_field st[2] = {{0, 2, 0, NULL}, {1, 4, 0, &fields_slot}};
    size_t spos = fb_table(b, st, 2);
    size_t n = (size_t)schema->n_children;
    size_t *slots = hx_calloc(n + 1, sizeof *slots);
    if (!slots) {
        b->oom = true;
        return spos;
    }
    fb_patch(b, fields_slot, fb_offset_vector(b, n, slots));
    for (size_t i = 0; i < n && !b->oom; i++) {
        const struct ArrowSchema *c = schema->children[i];
        size_t name_slot = 0, type_slot = 0, children_slot = 0, tpos = 0, none[1];
        /* The union's type id is a scalar of the field table, known from
         * the format before the type table is written. */
        struct fb_field ff[5] = {{0, 4, 0, &name_slot},
                                 {1, 1, (c->flags & ARROW_FLAG_NULLABLE) ? 1u : 0u, NULL},
                                 {2, 1, (uint64_t)ipc_type(NULL, c->format, NULL), NULL},
                                 {3, 4, 0, &type_slot},
                                 {5, 4, 0, &children_slot}};
        fb_patch(b, slots[i], fb_table(b, ff, 5));
        fb_patch(b, name_slot, fb_string(b, c->name ? c->name : ""));
        (void)ipc_type(b, c->format, &tpos);
        fb_patch(b, type_slot, tpos);
        fb_patch(b, children_slot, fb_offset_vector(b, 0, none));
    }
    hx_free(slots);
    return spos;
}

/* A Message table (version V5) whose header table the caller writes next;
 * *header_slot is the uoffset to patch to it. */
static void ipc_message_table(struct fbb *b, int header_type, int64_t body_len, size_t *header_slot) {
    uint32_t z = 0;
    size_t root = fb_put(b, &z, 4);
    struct fb_field mf[4] = {
        {0, 2, 4, NULL}, {1, 1, (uint64_t)header_type, NULL}, {2, 4, 0, header_slot}, {3, 8, (uint64_t)body_len, NULL}};
    fb_patch(b, root, fb_table(b, mf, 4));
}

/* ---- the writer ------------------------------------------------------------------ */

struct ipc_block {
    int64_t offset;
    int32_t meta;
    int32_t pad;
    int64_t body;
};

struct hx_arrow_ipc_writer {
    FILE *out;
    char *name;
    uint64_t pos;
    struct ipc_block *blocks;
    size_t nblocks, cap;
    const struct ArrowSchema *schema;
};

static hx_status write_bytes(struct hx_arrow_ipc_writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->out) != n)
        HX_FAIL(HOIST_ERR_IO, "%s: writing the Arrow IPC file failed: %s", w->name, strerror(errno));
    w->pos += n;
    return HOIST_OK;
}

static hx_status write_zeros(struct hx_arrow_ipc_writer *w, size_t n) {
    static const uint8_t zeros[8] = {0};
    return write_bytes(w, zeros, n);
}

/* Continuation marker, metadata length, the flatbuffer padded to 8 bytes
 * (Columnar.md "Encapsulated message format"); *meta_len is what a Block
 * records. */
static hx_status write_message_header(struct hx_arrow_ipc_writer *w, const struct fbb *b, int32_t *meta_len) {
    if (b->oom) HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory building an Arrow IPC message", w->name);
    size_t fl = (b->len + 8 + 7) / 8 * 8 - 8;
    uint32_t head[2] = {0xFFFFFFFFu, (uint32_t)fl};
    HX_TRY(write_bytes(w, head, 8));
    HX_TRY(write_bytes(w, b->p, b->len));
    HX_TRY(write_zeros(w, fl - b->len));
    *meta_len = (int32_t)(fl + 8);
    return HOIST_OK;
}

hx_status hx_arrow_ipc_writer_new(FILE *out, const char *name, const struct ArrowSchema *schema,
                                  struct hx_arrow_ipc_writer **wp) {
    *wp = NULL;
    if (!name) name = "Arrow IPC file";
    HX_FAIL_IF(!schema->format || strcmp(schema->format, "+s") != 0, HOIST_ERR_ARROW_TYPE,
               "%s: an IPC file holds record batches (a struct schema), not format '%s'", name,
               schema->format ? schema->format : "(null)");
    for (int64_t i = 0; i < schema->n_children; i++) {
        const struct ArrowSchema *c = schema->children[i];
        if (c->dictionary || c->n_children || ipc_type(NULL, c->format, NULL) < 0)
            HX_FAIL(HOIST_ERR_ARROW_TYPE,
                    "%s: column '%s' has a type the IPC writer does not handle yet ('%s': nested or dictionary)", name,
                    c->name ? c->name : "", c->format);
    }
    struct hx_arrow_ipc_writer *w = hx_calloc(1, sizeof *w);
    if (w) w->name = hx_strdup(name);
    if (!w || !w->name) {
        hx_free(w);
        HX_FAIL(HOIST_ERR_NOMEM, "%s: out of memory", name);
    }
    w->out = out;
    w->schema = schema;
    struct fbb b = {0};
    size_t hslot = 0;
    ipc_message_table(&b, 1, 0, &hslot); /* MessageHeader.Schema */
    fb_patch(&b, hslot, ipc_schema_table(&b, schema));
    int32_t meta;
    hx_status st = write_bytes(w, "ARROW1\0\0", 8);
    if (st == HOIST_OK) st = write_message_header(w, &b, &meta);
    hx_free(b.p);
    if (st != HOIST_OK) {
        hx_arrow_ipc_writer_free(w);
        return st;
    }
    *wp = w;
    return HOIST_OK;
}

struct ipc_node {
    int64_t length, nulls;
};
struct ipc_buffer {
    int64_t offset, length;
};

/* The FieldNode and Buffers of one column of `len` rows (children may be
 * longer than their batch after a limit cut it), and where each buffer's
 * bytes are. */
static hx_status column_layout(const struct hx_arrow_ipc_writer *w, const struct ArrowArray *a,
                               const struct ArrowSchema *col, int64_t len, struct ipc_node *node,
                               struct ipc_buffer *bufs, const uint8_t **src, size_t *nb, int64_t *body) {
    const char *f = col->format, *cname = col->name ? col->name : "";
    HX_FAIL_IF(a->offset != 0, HOIST_ERR_UNSUPPORTED, "%s: column '%s': sliced arrays are not supported", w->name,
               cname);
    node->length = len;
    node->nulls = 0;
    if (a->n_buffers > 0 && a->buffers[0] && a->null_count != 0) {
        node->nulls =
            a->null_count > 0 && a->length == len ? a->null_count : hx_arrow_bitmap_count_nulls(a->buffers[0], len);
    }
    int64_t sizes[3] = {node->nulls ? (len + 7) / 8 : 0, 0, 0};
    int n = 2;
    bool large;
    if (hx_arrow_format_is_binary(f, &large)) {
        int64_t start = large ? ((const int64_t *)a->buffers[1])[0] : ((const int32_t *)a->buffers[1])[0];
        int64_t end = large ? ((const int64_t *)a->buffers[1])[len] : ((const int32_t *)a->buffers[1])[len];
        HX_FAIL_IF(start != 0, HOIST_ERR_UNSUPPORTED, "%s: column '%s': offsets not starting at 0 are not supported",
                   w->name, cname);
        sizes[1] = (len + 1) * (large ? 8 : 4);
        sizes[2] = end;
        n = 3;
    } else {
        int bits = hx_arrow_format_bits(f);
        if (bits == 0) n = 0; /* null: no buffers */
        sizes[1] = bits == 1 ? (len + 7) / 8 : len * (bits / 8);
    }
    for (int k = 0; k < n; k++) {
        bufs[*nb].offset = *body;
        bufs[*nb].length = sizes[k];
        src[*nb] = k < a->n_buffers ? a->buffers[k] : NULL;
        HX_FAIL_IF(sizes[k] && !src[*nb], HOIST_ERR_ARROW_INVALID, "%s: column '%s': buffer %d is missing", w->name,
                   cname, k);
        *body += (sizes[k] + 7) / 8 * 8;
        (*nb)++;
    }
    return HOIST_OK;
}

/* The RecordBatch message of a batch whose layout is known. */
static hx_status write_batch_message(struct hx_arrow_ipc_writer *w, int64_t rows, const struct ipc_node *nodes,
                                     size_t ncols, const struct ipc_buffer *bufs, const uint8_t *const *src, size_t nb,
                                     int64_t body) {
    struct fbb b = {0};
    size_t hslot = 0, nodes_slot = 0, bufs_slot = 0;
    ipc_message_table(&b, 3, body, &hslot); /* MessageHeader.RecordBatch */
    struct fb_field rf[3] = {{0, 8, (uint64_t)rows, NULL}, {1, 4, 0, &nodes_slot}, {2, 4, 0, &bufs_slot}};
    fb_patch(&b, hslot, fb_table(&b, rf, 3));
    fb_patch(&b, nodes_slot, fb_struct_vector(&b, nodes, ncols, sizeof *nodes));
    fb_patch(&b, bufs_slot, fb_struct_vector(&b, bufs, nb, sizeof *bufs));
    struct ipc_block blk = {.offset = (int64_t)w->pos, .body = body};
    hx_status st = write_message_header(w, &b, &blk.meta);
    hx_free(b.p);
    for (size_t k = 0; st == HOIST_OK && k < nb; k++) {
        size_t l = (size_t)bufs[k].length;
        st = write_bytes(w, src[k], l);
        if (st == HOIST_OK) st = write_zeros(w, (l + 7) / 8 * 8 - l);
    }
    if (st == HOIST_OK && w->nblocks == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct ipc_block *nbk = hx_realloc(w->blocks, cap * sizeof *nbk);
        if (!nbk)
            st = hx_error(HOIST_ERR_NOMEM, "%s: out of memory", w->name);
        else
            w->blocks = nbk, w->cap = cap;
    }
    if (st == HOIST_OK) w->blocks[w->nblocks++] = blk;
    return st;
}

hx_status hx_arrow_ipc_writer_write(struct hx_arrow_ipc_writer *w, const struct ArrowArray *batch) {
    size_t ncols = (size_t)w->schema->n_children;
    HX_FAIL_IF(batch->n_children != (int64_t)ncols, HOIST_ERR_ARROW_INVALID,
               "%s: a batch has %" PRId64 " columns, the schema %zu", w->name, batch->n_children, ncols);
    struct ipc_node *nodes = hx_calloc(ncols + 1, sizeof *nodes);
    struct ipc_buffer *bufs = hx_calloc(3 * ncols + 1, sizeof *bufs);
    const uint8_t **src = hx_calloc(3 * ncols + 1, sizeof *src);
    size_t nb = 0;
    int64_t body = 0;
    hx_status st = (!nodes || !bufs || !src) ? hx_error(HOIST_ERR_NOMEM, "%s: out of memory", w->name) : HOIST_OK;
    for (size_t c = 0; st == HOIST_OK && c < ncols; c++)
        st = column_layout(w, batch->children[c], w->schema->children[c], batch->length, &nodes[c], bufs, src, &nb,
                           &body);
    if (st == HOIST_OK) st = write_batch_message(w, batch->length, nodes, ncols, bufs, src, nb, body);
    hx_free(nodes);
    hx_free(bufs);
    hx_free(src);
    return st;
}

hx_status hx_arrow_ipc_writer_finish(struct hx_arrow_ipc_writer *w) {
    uint32_t eos[2] = {0xFFFFFFFFu, 0};
    HX_TRY(write_bytes(w, eos, 8));
    struct fbb b = {0};
    uint32_t z = 0;
    size_t root = fb_put(&b, &z, 4);
    size_t schema_slot = 0, dict_slot = 0, rb_slot = 0;
    struct fb_field ff[4] = {{0, 2, 4, NULL}, {1, 4, 0, &schema_slot}, {2, 4, 0, &dict_slot}, {3, 4, 0, &rb_slot}};
    fb_patch(&b, root, fb_table(&b, ff, 4));
    fb_patch(&b, schema_slot, ipc_schema_table(&b, w->schema));
    fb_patch(&b, dict_slot, fb_struct_vector(&b, NULL, 0, sizeof(struct ipc_block)));
    fb_patch(&b, rb_slot, fb_struct_vector(&b, w->blocks, w->nblocks, sizeof(struct ipc_block)));
    int32_t flen = (int32_t)b.len;
    hx_status st = b.oom ? hx_error(HOIST_ERR_NOMEM, "%s: out of memory building the footer", w->name) : HOIST_OK;
    if (st == HOIST_OK) st = write_bytes(w, b.p, b.len);
    if (st == HOIST_OK) st = write_bytes(w, &flen, 4);
    if (st == HOIST_OK) st = write_bytes(w, "ARROW1", 6);
    hx_free(b.p);
    return st;
}

void hx_arrow_ipc_writer_free(struct hx_arrow_ipc_writer *w) {
    if (!w) return;
    hx_free(w->blocks);
    hx_free(w->name);
    hx_free(w);
}

/* ---- public: a whole stream into a file ---------------------------------------------- */

/* The status of a failed call into a foreign stream, from its errno. */
static hx_status stream_failure(struct ArrowArrayStream *stream, int rc, const char *path, const char *what) {
    const char *msg = stream->get_last_error ? stream->get_last_error(stream) : NULL;
    hx_status st = rc == ENOMEM   ? HOIST_ERR_NOMEM
                   : rc == EINVAL ? HOIST_ERR_INVALID_ARG
                   : rc == ENOSYS ? HOIST_ERR_UNSUPPORTED
                                  : HOIST_ERR_IO;
    if (msg && *msg) return hx_error(st, "%s", msg);
    return hx_error(st, "%s: the input stream failed to give its %s: %s", path, what, strerror(rc));
}

static hx_status write_stream(FILE *f, const char *path, struct ArrowArrayStream *stream) {
    struct ArrowSchema schema;
    memset(&schema, 0, sizeof schema);
    int rc = stream->get_schema(stream, &schema);
    if (rc != 0) return stream_failure(stream, rc, path, "schema");
    struct hx_arrow_ipc_writer *w = NULL;
    hx_status st = hx_arrow_ipc_writer_new(f, path, &schema, &w);
    while (st == HOIST_OK) {
        struct ArrowArray b;
        memset(&b, 0, sizeof b);
        rc = stream->get_next(stream, &b);
        if (rc != 0) {
            st = stream_failure(stream, rc, path, "next batch");
            break;
        }
        if (!b.release) break;
        st = hx_arrow_ipc_writer_write(w, &b);
        b.release(&b);
    }
    if (st == HOIST_OK) st = hx_arrow_ipc_writer_finish(w);
    hx_arrow_ipc_writer_free(w);
    schema.release(&schema);
    return st;
}

hx_status hoist_arrow_ipc_write_file(const char *path, struct ArrowArrayStream *stream) {
    HX_FAIL_IF(!path || !stream || !stream->release, HOIST_ERR_INVALID_ARG,
               "hoist_arrow_ipc_write_file: NULL or released argument");
    FILE *f = fopen(path, "wb");
    if (!f) HX_FAIL(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: %s", path, strerror(errno));
    hx_status st = write_stream(f, path, stream);
    if (fclose(f) != 0 && st == HOIST_OK) st = hx_error(HOIST_ERR_IO, "%s: %s", path, strerror(errno));
    if (st != HOIST_OK) {
        remove(path); /* never leave a partial file looking complete */
        return st;
    }
    hx_error_clear();
    return HOIST_OK;
}
