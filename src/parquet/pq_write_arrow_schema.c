/*
 * pq_write_arrow_schema.c — the ARROW:schema key-value entry: an Arrow IPC
 * encapsulated message (0xFFFFFFFF, length, flatbuffer Message holding a
 * Schema; format/Message.fbs, Schema.fbs) in base64, which pyarrow and
 * hoist's reader use to restore what Parquet types cannot say (time zones,
 * large/view layouts, durations, dictionaries, decimal widths).
 *
 * The flatbuffer is built front to back: a table is written with
 * placeholder offsets, then its strings, vectors and sub-tables after it,
 * and the offsets patched (uoffset_t points forward, as the format wants;
 * each vtable sits just before its table). Written by hand because hoist
 * has no IPC writer yet; move it next to an IPC module in src/arrow if one
 * appears.
 */
#include "pq_write_internal.h"

#include <stdlib.h>
#include <string.h>

/* Schema.fbs Type union members */
struct fbb {
    struct hx_buf b;
    hx_status st;
    int64_t dict_id; /* next dictionary id */
};

/* One table field: a scalar (size 1/2/4/8) or an offset (is_off, patched later). */
struct fbf {
    int id, size, is_off;
    uint64_t val;
    size_t slot;
};

static void pad_to(struct fbb *f, size_t align) {
    static const uint8_t zero[8] = {0};
    size_t pad = (align - f->b.len % align) % align;
    if (pad && f->st == HOIST_OK) f->st = hx_buf_append(&f->b, zero, pad);
}

static size_t put(struct fbb *f, const void *p, size_t n) {
    size_t at = f->b.len;
    if (f->st == HOIST_OK) f->st = hx_buf_append(&f->b, p, n);
    return at;
}

static void patch(struct fbb *f, size_t slot, size_t target) {
    if (f->st != HOIST_OK) return;
    uint32_t v = (uint32_t)(target - slot);
    memcpy(f->b.data + slot, &v, 4);
}

static int by_size_desc(const void *a, const void *b) {
    const struct fbf *x = a, *y = b;
    return x->size != y->size ? y->size - x->size : x->id - y->id;
}

/* Writes vtable + table; fills each offset field's slot; returns the table's position. */
static size_t table(struct fbb *f, struct fbf *fields, int n) {
    int nslots = 0;
    for (int i = 0; i < n; i++)
        if (fields[i].id + 1 > nslots) nslots = fields[i].id + 1;
    qsort(fields, (size_t)n, sizeof *fields, by_size_desc);
    uint16_t vt[2 + 16] = {0};
    size_t cur = 4, at[16];
    for (int i = 0; i < n; i++) {
        size_t sz = (size_t)fields[i].size;
        cur = (cur + sz - 1) / sz * sz;
        at[i] = cur;
        vt[2 + fields[i].id] = (uint16_t)cur;
        cur += sz;
    }
    vt[0] = (uint16_t)(4 + 2 * nslots);
    vt[1] = (uint16_t)cur;
    /* vtable, then the table 8-aligned (the padding sits between them) */
    pad_to(f, 2);
    size_t vpos = put(f, vt, vt[0]);
    pad_to(f, 8);
    size_t tpos = f->b.len;
    uint8_t body[128] = {0};
    int32_t so = (int32_t)(tpos - vpos);
    memcpy(body, &so, 4);
    for (int i = 0; i < n; i++) {
        if (fields[i].is_off) {
            fields[i].slot = tpos + at[i];
        } else {
            memcpy(body + at[i], &fields[i].val, (size_t)fields[i].size); /* little-endian host */
        }
    }
    put(f, body, cur);
    return tpos;
}

static size_t string(struct fbb *f, const char *s, size_t n) {
    pad_to(f, 4);
    uint32_t len = (uint32_t)n;
    size_t at = put(f, &len, 4);
    put(f, s, n);
    put(f, "", 1);
    return at;
}

/* A vector of n offsets; returns its position, slots at pos + 4 + 4i. */
static size_t offset_vector(struct fbb *f, uint32_t n) {
    pad_to(f, 4);
    size_t at = put(f, &n, 4);
    for (uint32_t i = 0; i < n; i++) put(f, "\0\0\0\0", 4);
    return at;
}

static struct fbf scalar(int id, int size, uint64_t v) { return (struct fbf){id, size, 0, v, 0}; }
static struct fbf offset(int id) { return (struct fbf){id, 4, 1, 0, 0}; }

static size_t find_slot(const struct fbf *fields, int n, int id) {
    for (int i = 0; i < n; i++)
        if (fields[i].id == id) return fields[i].slot;
    return 0;
}

/* Key-value metadata in the C Data Interface encoding as a vector of KeyValue. */
static void key_values(struct fbb *f, const char *md, size_t slot) {
    struct hx_arrow_metadata_reader r;
    struct hx_arrow_kv e;
    hx_arrow_metadata_read_begin(&r, md);
    size_t vec = offset_vector(f, (uint32_t)r.left);
    patch(f, slot, vec);
    for (size_t i = 0; f->st == HOIST_OK && hx_arrow_metadata_read_next(&r, &e); i++) {
        struct fbf kv[2] = {offset(0), offset(1)};
        size_t t = table(f, kv, 2);
        patch(f, vec + 4 + 4 * i, t);
        size_t ks = find_slot(kv, 2, 0), vs = find_slot(kv, 2, 1);
        patch(f, ks, string(f, e.key, e.klen));
        patch(f, vs, string(f, e.value, e.vlen));
    }
}

/* The Type table of a format; returns the union tag (0 = unsupported). */
static int type_table(struct fbb *f, const char *fmt, size_t *pos) {
    struct fbf t[3];
    int n = 0, tag = 0;
    const char *tz = NULL;
    if (fmt[0] && !fmt[1]) {
        switch (fmt[0]) {
        case 'n': tag = HX_FBT_NULL; break;
        case 'b': tag = HX_FBT_BOOL; break;
        case 'c':
        case 'C':
        case 's':
        case 'S':
        case 'i':
        case 'I':
        case 'l':
        case 'L': {
            static const char ints[] = "cCsSiIlL";
            int k = (int)(strchr(ints, fmt[0]) - ints);
            tag = HX_FBT_INT;
            t[n++] = scalar(0, 4, (uint64_t)(8 << (k / 2)));
            t[n++] = scalar(1, 1, k % 2 == 0);
            break;
        }
        case 'e':
        case 'f':
        case 'g':
            tag = HX_FBT_FLOAT;
            t[n++] = scalar(0, 2, fmt[0] == 'e' ? 0 : fmt[0] == 'f' ? 1 : 2);
            break;
        case 'z': tag = HX_FBT_BINARY; break;
        case 'Z': tag = HX_FBT_LARGE_BINARY; break;
        case 'u': tag = HX_FBT_UTF8; break;
        case 'U': tag = HX_FBT_LARGE_UTF8; break;
        default: return 0;
        }
    } else if (!strcmp(fmt, "vz") || !strcmp(fmt, "vu")) {
        tag = fmt[1] == 'z' ? HX_FBT_BINARY_VIEW : HX_FBT_UTF8_VIEW;
    } else if (fmt[0] == 'w' && fmt[1] == ':') {
        tag = HX_FBT_FSB;
        t[n++] = scalar(0, 4, (uint64_t)strtol(fmt + 2, NULL, 10));
    } else if (fmt[0] == 'd' && fmt[1] == ':') {
        char *end;
        long p = strtol(fmt + 2, &end, 10), s = 0, bits = 128;
        if (*end == ',') s = strtol(end + 1, &end, 10);
        if (*end == ',') bits = strtol(end + 1, &end, 10);
        tag = HX_FBT_DECIMAL;
        t[n++] = scalar(0, 4, (uint64_t)(uint32_t)p);
        t[n++] = scalar(1, 4, (uint64_t)(uint32_t)s);
        t[n++] = scalar(2, 4, (uint64_t)bits);
    } else if (fmt[0] == 't' && fmt[1] == 'd') {
        tag = HX_FBT_DATE;
        t[n++] = scalar(0, 2, fmt[2] == 'D' ? 0 : 1);
    } else if (fmt[0] == 't' && fmt[1] == 't') {
        tag = HX_FBT_TIME;
        int u = hx_arrow_time_unit(fmt[2]);
        t[n++] = scalar(0, 2, (uint64_t)u);
        t[n++] = scalar(1, 4, u <= 1 ? 32 : 64);
    } else if (fmt[0] == 't' && fmt[1] == 's') {
        tag = HX_FBT_TIMESTAMP;
        t[n++] = scalar(0, 2, (uint64_t)hx_arrow_time_unit(fmt[2]));
        if (fmt[3] == ':' && fmt[4]) {
            tz = fmt + 4;
            t[n++] = offset(1);
        }
    } else if (fmt[0] == 't' && fmt[1] == 'D') {
        tag = HX_FBT_DURATION;
        t[n++] = scalar(0, 2, (uint64_t)hx_arrow_time_unit(fmt[2]));
    } else if (!strcmp(fmt, "+l")) {
        tag = HX_FBT_LIST;
    } else if (!strcmp(fmt, "+L")) {
        tag = HX_FBT_LARGE_LIST;
    } else if (!strcmp(fmt, "+vl")) {
        tag = HX_FBT_LIST_VIEW;
    } else if (!strcmp(fmt, "+vL")) {
        tag = HX_FBT_LARGE_LIST_VIEW;
    } else if (!strcmp(fmt, "+s")) {
        tag = HX_FBT_STRUCT;
    } else if (fmt[0] == '+' && fmt[1] == 'w' && fmt[2] == ':') {
        tag = HX_FBT_FSL;
        t[n++] = scalar(0, 4, (uint64_t)strtol(fmt + 3, NULL, 10));
    } else if (!strcmp(fmt, "+m")) {
        tag = HX_FBT_MAP;
        t[n++] = scalar(0, 1, 0);
    } else {
        return 0;
    }
    *pos = table(f, t, n);
    if (tz) patch(f, find_slot(t, n, 1), string(f, tz, strlen(tz)));
    return tag;
}

static hx_status field(struct fbb *f, const struct ArrowSchema *s, size_t slot, int depth) {
    HX_FAIL_IF(depth > 64, HOIST_ERR_UNSUPPORTED, "ARROW:schema: nested too deep");
    const char *vfmt = s->dictionary ? s->dictionary->format : s->format;
    struct fbf fl[7];
    int n = 0;
    fl[n++] = offset(0);
    fl[n++] = scalar(1, 1, (s->flags & ARROW_FLAG_NULLABLE) != 0);
    fl[n++] = scalar(2, 1, 0); /* type_type, set below */
    fl[n++] = offset(3);
    if (s->dictionary) fl[n++] = offset(4);
    const struct ArrowSchema *kids = s->dictionary ? s->dictionary : s;
    if (kids->n_children > 0) fl[n++] = offset(5);
    if (s->metadata) fl[n++] = offset(6);
    /* the type tag is a scalar of this table: find it after layout */
    size_t tpos = table(f, fl, n);
    patch(f, slot, tpos);
    const char *name = s->name ? s->name : "";
    patch(f, find_slot(fl, n, 0), string(f, name, strlen(name)));
    size_t type_pos = 0;
    int tag = type_table(f, vfmt, &type_pos);
    HX_FAIL_IF(!tag, HOIST_ERR_UNSUPPORTED, "ARROW:schema: field '%s' has type '%s' that hoist cannot describe", name,
               vfmt);
    patch(f, find_slot(fl, n, 3), type_pos);
    /* type_type sits at a fixed place in the table: find it by re-deriving
     * the layout order (1-byte fields come last, by id) */
    {
        size_t cur = 4;
        for (int i = 0; i < n; i++) {
            size_t sz = (size_t)fl[i].size;
            cur = (cur + sz - 1) / sz * sz;
            if (fl[i].id == 2 && f->st == HOIST_OK) f->b.data[tpos + cur] = (char)tag;
            cur += sz;
        }
    }
    if (s->dictionary) {
        static const char ints[] = "cCsSiIlL";
        const char *p = strchr(ints, s->format[0]);
        HX_FAIL_IF(!p || s->format[1], HOIST_ERR_UNSUPPORTED, "ARROW:schema: bad dictionary index type '%s'",
                   s->format);
        int k = (int)(p - ints);
        struct fbf de[3] = {scalar(0, 8, (uint64_t)f->dict_id++), offset(1),
                            scalar(2, 1, (s->flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0)};
        size_t dpos = table(f, de, 3);
        patch(f, find_slot(fl, n, 4), dpos);
        struct fbf it[2] = {scalar(0, 4, (uint64_t)(8 << (k / 2))), scalar(1, 1, k % 2 == 0)};
        patch(f, find_slot(de, 3, 1), table(f, it, 2));
    }
    if (kids->n_children > 0) {
        size_t vec = offset_vector(f, (uint32_t)kids->n_children);
        patch(f, find_slot(fl, n, 5), vec);
        for (int64_t i = 0; i < kids->n_children; i++)
            HX_TRY(field(f, kids->children[i], vec + 4 + 4 * (size_t)i, depth + 1));
    }
    if (s->metadata) key_values(f, s->metadata, find_slot(fl, n, 6));
    return f->st;
}

static hx_status schema_message(struct fbb *f, const struct ArrowSchema *schema) {
    put(f, "\0\0\0\0", 4); /* root offset */
    struct fbf msg[3] = {scalar(0, 2, 4 /* MetadataVersion V5 */), scalar(1, 1, 1 /* Schema */), offset(2)};
    size_t mpos = table(f, msg, 3);
    patch(f, 0, mpos);
    struct fbf sc[1] = {offset(1)};
    size_t spos = table(f, sc, 1);
    patch(f, find_slot(msg, 3, 2), spos);
    size_t vec = offset_vector(f, (uint32_t)schema->n_children);
    patch(f, find_slot(sc, 1, 1), vec);
    for (int64_t i = 0; i < schema->n_children; i++) HX_TRY(field(f, schema->children[i], vec + 4 + 4 * (size_t)i, 1));
    pad_to(f, 8);
    return f->st;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

hx_status hx_pqw_arrow_schema_b64(const struct ArrowSchema *schema, char **out) {
    *out = NULL;
    struct fbb f;
    hx_buf_init(&f.b);
    f.st = HOIST_OK;
    f.dict_id = 0;
    /* IPC encapsulation: continuation marker, metadata length, flatbuffer */
    put(&f, "\xff\xff\xff\xff\0\0\0\0", 8);
    struct fbb body;
    hx_buf_init(&body.b);
    body.st = HOIST_OK;
    body.dict_id = 0;
    hx_status st = f.st;
    if (st == HOIST_OK) st = schema_message(&body, schema);
    if (st == HOIST_OK) {
        uint32_t len = (uint32_t)body.b.len;
        memcpy(f.b.data + 4, &len, 4);
        put(&f, body.b.data, body.b.len);
        st = f.st;
    }
    hx_buf_reset(&body.b);
    if (st != HOIST_OK) {
        hx_buf_reset(&f.b);
        return st;
    }
    size_t n = f.b.len, olen = (n + 2) / 3 * 4;
    char *o = hx_malloc(olen + 1);
    if (!o) {
        hx_buf_reset(&f.b);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory encoding ARROW:schema");
    }
    const uint8_t *p = (const uint8_t *)f.b.data;
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        o[j++] = b64chars[(v >> 18) & 63];
        o[j++] = b64chars[(v >> 12) & 63];
        o[j++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        o[j++] = i + 2 < n ? b64chars[v & 63] : '=';
    }
    o[j] = 0;
    hx_buf_reset(&f.b);
    *out = o;
    return HOIST_OK;
}
