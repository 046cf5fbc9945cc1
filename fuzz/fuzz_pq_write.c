/* Fuzzes the Parquet encoder (src/parquet/pq_write*.c) against hoist's own
 * reader: the input drives a random Arrow table — flat and nested types
 * (lists, large lists, list views, fixed-size lists, structs, maps,
 * dictionaries, views, decimals of every width, temporal units), nulls at
 * every level, sliced columns, several batches — and the writer's options
 * (codec and level, page version, dictionary and its size limit, page and
 * row group sizes, statistics, page index, CRCs, per-column encodings and
 * bloom filters). The table is written, read back and compared value by
 * value; any difference aborts with the column and row. Input bytes are
 * consumed as decisions; once they run out every decision is 0, so any input
 * makes a valid table. Sizes are bounded so no input can demand much memory.
 *
 * Read back differs from the input only where Parquet has no form for a
 * type and pyarrow does the same: timestamp[s] and time32[s] come back in
 * milliseconds, date64 as date32. */
#include "arrow.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS 70
#define MAX_COLS 4
#define MAX_DEPTH 3
#define MAX_LIST 4

struct gen {
    const uint8_t *p;
    size_t n, i;
};

static unsigned g8(struct gen *g) { return g->i < g->n ? g->p[g->i++] : 0; }

static uint64_t g64(struct gen *g) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v |= (uint64_t)g8(g) << (8 * k);
    return v;
}

static void must(hx_status st) {
    if (st != HOIST_OK) {
        fprintf(stderr, "fuzz_pq_write: building the input failed: %s\n", hoist_errmsg());
        abort();
    }
}

static void *buffer(struct ArrowArray *a, int i, size_t size) {
    void *p;
    must(hx_arrow_array_alloc_buffer(a, i, size, &p));
    return p;
}

static int bit(const uint8_t *b, int64_t i) { return (b[i >> 3] >> (i & 7)) & 1; }
static void set(uint8_t *b, int64_t i) { b[i >> 3] |= (uint8_t)(1u << (i & 7)); }

/* ---- types ------------------------------------------------------------------ */

static const char *const leaf_formats[] = {"b",    "c",   "C",   "s",   "S",    "i",       "I",
                                           "l",    "L",   "e",   "f",   "g",    "tdD",     "tdm",
                                           "tts",  "ttm", "ttu", "ttn", "tss:", "tsm:UTC", "tsu:Europe/Paris",
                                           "tsn:", "tDs", "tDm", "tDu", "tDn",  "z",       "u",
                                           "Z",    "U",   "vz",  "vu",  "n"};
#define N_LEAF (sizeof leaf_formats / sizeof *leaf_formats)
enum {
    T_FSB = N_LEAF,
    T_DEC,
    T_DICT,
    T_LIST,
    T_LARGE_LIST,
    T_LIST_VIEW,
    T_LARGE_LIST_VIEW,
    T_FSL,
    T_STRUCT,
    T_MAP,
    N_TYPES
};

static void gen_schema(struct gen *g, int depth, const char *name, int64_t flags, struct ArrowSchema *s);

static void one_child(struct gen *g, int depth, struct ArrowSchema *s, const char *child) {
    must(hx_arrow_schema_alloc_children(s, 1));
    gen_schema(g, depth + 1, child, ARROW_FLAG_NULLABLE, s->children[0]);
}

static void gen_schema(struct gen *g, int depth, const char *name, int64_t flags, struct ArrowSchema *s) {
    unsigned t = g8(g) % (depth >= MAX_DEPTH ? T_DICT + 1 : N_TYPES);
    char fmt[64];
    if (t < N_LEAF) {
        must(hx_arrow_schema_init(s, leaf_formats[t], name, flags));
        return;
    }
    switch (t) {
    case T_FSB: snprintf(fmt, sizeof fmt, "w:%u", 1 + g8(g) % 17); break;
    case T_DEC: {
        /* decimal32/64/128/256 with a precision its width holds */
        static const int bits[] = {32, 64, 128, 256}, maxp[] = {9, 18, 38, 76};
        int k = (int)(g8(g) % 4), p = 1 + (int)(g8(g) % (unsigned)maxp[k]), sc = (int)(g8(g) % (unsigned)(p + 1));
        if (k == 2)
            snprintf(fmt, sizeof fmt, "d:%d,%d", p, sc);
        else
            snprintf(fmt, sizeof fmt, "d:%d,%d,%d", p, sc, bits[k]);
        break;
    }
    case T_DICT:
        must(hx_arrow_schema_init(s, g8(g) % 2 ? "i" : "c", name, flags));
        must(hx_arrow_schema_alloc_dictionary(s));
        must(hx_arrow_schema_init(s->dictionary, g8(g) % 2 ? "u" : "z", NULL, 0));
        return;
    case T_LIST:
    case T_LARGE_LIST:
    case T_LIST_VIEW:
    case T_LARGE_LIST_VIEW: {
        static const char *const lf[] = {"+l", "+L", "+vl", "+vL"};
        must(hx_arrow_schema_init(s, lf[t - T_LIST], name, flags));
        one_child(g, depth, s, "item");
        return;
    }
    case T_FSL:
        snprintf(fmt, sizeof fmt, "+w:%u", 1 + g8(g) % 3);
        must(hx_arrow_schema_init(s, fmt, name, flags));
        one_child(g, depth, s, "item");
        return;
    case T_STRUCT: {
        int n = 1 + (int)(g8(g) % 3);
        must(hx_arrow_schema_init(s, "+s", name, flags));
        must(hx_arrow_schema_alloc_children(s, n));
        for (int i = 0; i < n; i++) {
            snprintf(fmt, sizeof fmt, "f%d", i);
            gen_schema(g, depth + 1, fmt, ARROW_FLAG_NULLABLE, s->children[i]);
        }
        return;
    }
    case T_MAP: {
        must(hx_arrow_schema_init(s, "+m", name, flags));
        must(hx_arrow_schema_alloc_children(s, 1));
        struct ArrowSchema *e = s->children[0];
        must(hx_arrow_schema_init(e, "+s", "entries", 0));
        must(hx_arrow_schema_alloc_children(e, 2));
        must(hx_arrow_schema_init(e->children[0], g8(g) % 2 ? "u" : "i", "key", 0));
        gen_schema(g, depth + 1, "value", ARROW_FLAG_NULLABLE, e->children[1]);
        return;
    }
    }
    must(hx_arrow_schema_init(s, fmt, name, flags));
}

/* ---- values ----------------------------------------------------------------- */

static int fixed_width(const char *f) {
    if (f[0] == 'w') return (int)strtol(f + 2, NULL, 10);
    if (f[0] == 'd') {
        const char *c = strrchr(f, ',');
        int n = 0;
        for (const char *q = f; *q; q++) n += *q == ',';
        return n == 2 ? (int)strtol(c + 1, NULL, 10) / 8 : 16;
    }
    if (f[0] == 't') {
        if (f[1] == 'd') return f[2] == 'D' ? 4 : 8;
        if (f[1] == 't') return f[2] == 's' || f[2] == 'm' ? 4 : 8;
        return 8; /* ts, tD */
    }
    switch (f[0]) {
    case 'c':
    case 'C': return 1;
    case 's':
    case 'S':
    case 'e': return 2;
    case 'i':
    case 'I':
    case 'f': return 4;
    case 'l':
    case 'L':
    case 'g': return 8;
    }
    return 0;
}

/* Null pattern: none (no bitmap), all, sparse, or bits from the input. */
static void gen_validity(struct gen *g, struct ArrowArray *a, int64_t len, int nullable) {
    unsigned mode = nullable ? g8(g) % 4 : 0;
    if (mode == 0) return;
    uint8_t *v = buffer(a, 0, (size_t)(len + 7) / 8);
    for (int64_t i = 0; i < len; i++)
        if (mode == 2 ? i % 5 != 2 : mode == 3 ? g8(g) & 1 : 0) set(v, i);
    a->null_count = hx_arrow_bitmap_count_nulls(v, len);
}

static int64_t pow10_cap(int p) {
    int64_t v = 1;
    for (int i = 0; i < p && i < 18; i++) v *= 10;
    return v;
}

/* A value of width w that the type can hold and survive Parquet with. */
static void gen_fixed(struct gen *g, const char *f, int w, uint8_t *dst) {
    uint64_t r = g64(g);
    int64_t v = (int64_t)r;
    if (f[0] == 'd') {
        int p = (int)strtol(f + 2, NULL, 10);
        int64_t cap = pow10_cap(p);
        v = (int64_t)(r % (uint64_t)cap) * (r >> 63 ? -1 : 1);
        if (w == 4) {
            int32_t v4 = (int32_t)v;
            memcpy(dst, &v4, 4);
        } else {
            memcpy(dst, &v, 8);
            if (w > 8) memset(dst + 8, v < 0 ? 0xff : 0, (size_t)w - 8);
        }
        return;
    }
    if (!strcmp(f, "tdm")) v = (int64_t)(int32_t)r * 86400000; /* date64: whole days (stored as date32) */
    if (!strcmp(f, "tss:")) v = (v >> 14);                     /* seconds: stored as ms (x1000) */
    if (!strcmp(f, "tts")) v = (int64_t)(r % 86400);
    if (!strcmp(f, "ttm")) v = (int64_t)(r % 86400000);
    if (!strcmp(f, "ttu")) v = (int64_t)(r % 86400000000ull);
    if (!strcmp(f, "ttn")) v = (int64_t)(r % 86400000000000ull);
    memcpy(dst, &v, (size_t)w < 8 ? (size_t)w : 8);
    if (w > 8) memset(dst + 8, (uint8_t)g8(g), (size_t)w - 8);
}

static void gen_array(struct gen *g, const struct ArrowSchema *s, int64_t len, int nullable, struct ArrowArray *a);

/* Lengths of list entries (0..MAX_LIST); null entries usually empty. */
static int64_t gen_sizes(struct gen *g, const struct ArrowArray *a, int64_t len, int64_t *sz) {
    int64_t total = 0;
    const uint8_t *v = a->buffers[0];
    for (int64_t i = 0; i < len; i++) {
        unsigned b = g8(g);
        sz[i] = (v && !bit(v, i) && b % 4) ? 0 : (int64_t)(b % (MAX_LIST + 1));
        total += sz[i];
    }
    return total;
}

static void put(uint8_t *p, int64_t i, int large, int64_t v) {
    if (large) {
        memcpy(p + 8 * i, &v, 8);
    } else {
        int32_t v4 = (int32_t)v;
        memcpy(p + 4 * i, &v4, 4);
    }
}

/* Lists start past a few unused child slots; list views may point anywhere
 * in their child (overlapping, out of order), as Columnar.md allows. */
static void gen_list(struct gen *g, const struct ArrowSchema *s, int64_t len, struct ArrowArray *a) {
    const char *f = s->format;
    int large = f[1] == 'L' || (f[1] == 'v' && f[2] == 'L'), view = f[1] == 'v';
    int64_t *sz = malloc((size_t)(len + 1) * sizeof *sz);
    if (!sz) abort();
    int64_t total = gen_sizes(g, a, len, sz);
    int64_t base = g8(g) % 3, child_len = total + base + (view ? g8(g) % 3 : 0);
    uint8_t *off = buffer(a, 1, (size_t)(len + 1) * (large ? 8 : 4));
    uint8_t *sizes = view ? buffer(a, 2, (size_t)(len + 1) * (large ? 8 : 4)) : NULL;
    int64_t at = base;
    for (int64_t i = 0; i < len; i++) {
        int64_t o = at;
        if (view && g8(g) % 2) o = (int64_t)(g8(g) % (uint64_t)(child_len - sz[i] + 1));
        put(off, i, large, o);
        if (view) put(sizes, i, large, sz[i]);
        at += sz[i];
    }
    if (!view) put(off, len, large, at);
    free(sz);
    gen_array(g, s->children[0], child_len, 1, a->children[0]);
}

static void gen_array(struct gen *g, const struct ArrowSchema *s, int64_t len, int nullable, struct ArrowArray *a) {
    const char *f = s->format;
    nullable = nullable && (s->flags & ARROW_FLAG_NULLABLE);
    if (!strcmp(f, "n")) {
        must(hx_arrow_array_init(a, len, 0, 0));
        a->null_count = len;
        return;
    }
    if (f[0] == '+') {
        int is_struct = f[1] == 's', fsl = f[1] == 'w';
        int nbuf = is_struct || fsl ? 1 : f[1] == 'v' ? 3 : 2;
        must(hx_arrow_array_init(a, len, nbuf, s->n_children));
        gen_validity(g, a, len, nullable);
        if (is_struct) {
            for (int64_t i = 0; i < s->n_children; i++) gen_array(g, s->children[i], len, 1, a->children[i]);
        } else if (fsl) {
            gen_array(g, s->children[0], len * (int)strtol(f + 3, NULL, 10), 1, a->children[0]);
        } else if (f[1] == 'm') {
            /* map: entries non-null, keys non-null (Parquet requires them) */
            int64_t *sz = malloc((size_t)(len + 1) * sizeof *sz);
            if (!sz) abort();
            int64_t total = gen_sizes(g, a, len, sz), at = 0;
            int32_t *off = buffer(a, 1, (size_t)(len + 1) * 4);
            for (int64_t i = 0; i <= len; i++) {
                off[i] = (int32_t)at;
                if (i < len) at += sz[i];
            }
            free(sz);
            struct ArrowArray *e = a->children[0];
            must(hx_arrow_array_init(e, total, 1, 2));
            gen_array(g, s->children[0]->children[0], total, 0, e->children[0]);
            gen_array(g, s->children[0]->children[1], total, 1, e->children[1]);
        } else {
            gen_list(g, s, len, a);
        }
        return;
    }
    if (s->dictionary) {
        int64_t dn = 1 + g8(g) % 8;
        int w = f[0] == 'c' ? 1 : 4;
        must(hx_arrow_array_init(a, len, 2, 0));
        gen_validity(g, a, len, nullable);
        uint8_t *idx = buffer(a, 1, (size_t)len * (size_t)w);
        for (int64_t i = 0; i < len; i++) {
            int32_t k = (int32_t)(g8(g) % dn);
            memcpy(idx + i * w, &k, (size_t)w);
        }
        must(hx_arrow_array_alloc_dictionary(a));
        gen_array(g, s->dictionary, dn, 0, a->dictionary);
        return;
    }
    if (!strcmp(f, "b")) {
        must(hx_arrow_array_init(a, len, 2, 0));
        gen_validity(g, a, len, nullable);
        uint8_t *v = buffer(a, 1, (size_t)(len + 7) / 8);
        for (int64_t i = 0; i < len; i++)
            if (g8(g) & 1) set(v, i);
        return;
    }
    int w = fixed_width(f);
    if (w) {
        must(hx_arrow_array_init(a, len, 2, 0));
        gen_validity(g, a, len, nullable);
        uint8_t *v = buffer(a, 1, (size_t)len * (size_t)w);
        for (int64_t i = 0; i < len; i++) gen_fixed(g, f, w, v + (size_t)i * (size_t)w);
        return;
    }
    /* binary, utf8 (bytes need not be UTF-8: the writer copies bytes), views */
    int view = f[0] == 'v', large = f[0] == 'Z' || f[0] == 'U';
    must(hx_arrow_array_init(a, len, view ? 4 : 3, 0));
    gen_validity(g, a, len, nullable);
    size_t cap = (size_t)len * 24 + 1, used = 0;
    uint8_t *data = buffer(a, 2, cap);
    uint8_t *off = view ? NULL : buffer(a, 1, (size_t)(len + 1) * (large ? 8 : 4));
    uint8_t *views = view ? buffer(a, 1, (size_t)len * 16) : NULL;
    for (int64_t i = 0; i <= len; i++) {
        if (!view) {
            int64_t o = (int64_t)used;
            int32_t o4 = (int32_t)o;
            memcpy(off + i * (large ? 8 : 4), large ? (void *)&o : (void *)&o4, large ? 8 : 4);
        }
        if (i == len) break;
        int32_t n = (int32_t)(g8(g) % 24);
        for (int32_t k = 0; k < n; k++) data[used + (size_t)k] = (uint8_t)('a' + g8(g) % 26);
        if (view) {
            uint8_t *vw = views + 16 * i;
            memcpy(vw, &n, 4);
            if (n <= 12) {
                memcpy(vw + 4, data + used, (size_t)n);
            } else {
                int32_t b = 0, o = (int32_t)used;
                memcpy(vw + 4, data + used, 4);
                memcpy(vw + 8, &b, 4);
                memcpy(vw + 12, &o, 4);
            }
        }
        used += (size_t)n;
    }
    if (view) *(int64_t *)buffer(a, 3, 8) = (int64_t)used;
}

/* ---- comparison --------------------------------------------------------------- */

struct where {
    const char *col;
    int64_t row;
};

static void mismatch(const struct where *w, const char *what, const char *fin, const char *fout) {
    fprintf(stderr, "fuzz_pq_write: column %s row %lld: %s (wrote %s, read %s)\n", w->col, (long long)w->row, what, fin,
            fout);
    abort();
}

static int valid(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i) {
    if (!strcmp(s->format, "n")) return 0;
    return !a->buffers[0] || bit(a->buffers[0], a->offset + i);
}

static int64_t read_int(const uint8_t *p, int w) {
    if (w == 1) return (int8_t)p[0];
    if (w == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (w == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static const uint8_t *bytes_at(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i, int64_t *len) {
    const char *f = s->format;
    int64_t k = a->offset + i;
    if (f[0] == 'v') {
        const uint8_t *vw = (const uint8_t *)a->buffers[1] + 16 * k;
        int32_t n, b, o;
        memcpy(&n, vw, 4);
        *len = n;
        if (n <= 12) return vw + 4;
        memcpy(&b, vw + 8, 4);
        memcpy(&o, vw + 12, 4);
        return (const uint8_t *)a->buffers[2 + b] + o;
    }
    if (f[0] == 'Z' || f[0] == 'U') {
        const int64_t *o = a->buffers[1];
        *len = o[k + 1] - o[k];
        return (const uint8_t *)a->buffers[2] + o[k];
    }
    const int32_t *o = a->buffers[1];
    *len = o[k + 1] - o[k];
    return (const uint8_t *)a->buffers[2] + o[k];
}

/* Start and length of list entry i. */
static void list_at(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i, int64_t *start, int64_t *n) {
    const char *f = s->format;
    int64_t k = a->offset + i;
    if (f[1] == 'w') {
        int64_t size = (int)strtol(f + 3, NULL, 10);
        *start = k * size, *n = size;
    } else if (f[1] == 'v') {
        int large = f[2] == 'L';
        *start = large ? ((const int64_t *)a->buffers[1])[k] : ((const int32_t *)a->buffers[1])[k];
        *n = large ? ((const int64_t *)a->buffers[2])[k] : ((const int32_t *)a->buffers[2])[k];
    } else if (f[1] == 'L') {
        const int64_t *o = a->buffers[1];
        *start = o[k], *n = o[k + 1] - o[k];
    } else {
        const int32_t *o = a->buffers[1];
        *start = o[k], *n = o[k + 1] - o[k];
    }
}

static int is_list(const char *f) {
    return f[0] == '+' && (f[1] == 'l' || f[1] == 'L' || f[1] == 'v' || f[1] == 'w' || f[1] == 'm');
}

static void compare(const struct where *w, const struct ArrowSchema *is, const struct ArrowArray *ia, int64_t i,
                    const struct ArrowSchema *os, const struct ArrowArray *oa, int64_t j) {
    int vi = valid(is, ia, i), vo = valid(os, oa, j);
    if (vi != vo) mismatch(w, vi ? "value read back as null" : "null read back as a value", is->format, os->format);
    if (!vi) return;
    if (is->dictionary || os->dictionary) {
        if (is->dictionary) {
            int iw = is->format[0] == 'c' ? 1 : 4;
            i = read_int((const uint8_t *)ia->buffers[1] + (ia->offset + i) * iw, iw);
            is = is->dictionary, ia = ia->dictionary;
        }
        if (os->dictionary) {
            int ow = fixed_width(os->format);
            j = read_int((const uint8_t *)oa->buffers[1] + (oa->offset + j) * ow, ow);
            os = os->dictionary, oa = oa->dictionary;
        }
        compare(w, is, ia, i, os, oa, j);
        return;
    }
    const char *fi = is->format, *fo = os->format;
    /* seconds come back as milliseconds (Parquet has no seconds unit) */
    int64_t scale = 1;
    if ((!strncmp(fi, "tss", 3) && !strncmp(fo, "tsm", 3) && !strcmp(fi + 3, fo + 3)) ||
        (!strcmp(fi, "tts") && !strcmp(fo, "ttm")))
        scale = 1000;
    /* date64 comes back as date32 (days), as pyarrow reads it */
    int64_t per_day = !strcmp(fi, "tdm") && !strcmp(fo, "tdD") ? 86400000 : 0;
    if (scale == 1 && !per_day && strcmp(fi, fo) != 0) mismatch(w, "type differs", fi, fo);
    if (fi[0] == '+' && fi[1] == 's') {
        for (int64_t c = 0; c < is->n_children; c++)
            compare(w, is->children[c], ia->children[c], ia->offset + i, os->children[c], oa->children[c],
                    oa->offset + j); /* a struct's offset applies to its children */
        return;
    }
    if (is_list(fi)) {
        int64_t s1, n1, s2, n2;
        list_at(is, ia, i, &s1, &n1);
        list_at(os, oa, j, &s2, &n2);
        if (n1 != n2) mismatch(w, "list length differs", fi, fo);
        for (int64_t k = 0; k < n1; k++)
            compare(w, is->children[0], ia->children[0], s1 + k, os->children[0], oa->children[0], s2 + k);
        return;
    }
    if (!strcmp(fi, "b")) {
        if (bit(ia->buffers[1], ia->offset + i) != bit(oa->buffers[1], oa->offset + j))
            mismatch(w, "boolean differs", fi, fo);
        return;
    }
    int fw = fixed_width(fi);
    if (fw) {
        const uint8_t *a = (const uint8_t *)ia->buffers[1] + (ia->offset + i) * fw;
        const uint8_t *b = (const uint8_t *)oa->buffers[1] + (oa->offset + j) * fixed_width(fo);
        int64_t x = read_int(a, fw), y = read_int(b, fixed_width(fo));
        if (per_day ? x / per_day != y : scale != 1 ? x * scale != y : memcmp(a, b, (size_t)fw) != 0)
            mismatch(w, "value differs", fi, fo);
        return;
    }
    int64_t l1, l2;
    const uint8_t *b1 = bytes_at(is, ia, i, &l1), *b2 = bytes_at(os, oa, j, &l2);
    if (l1 != l2 || (l1 && memcmp(b1, b2, (size_t)l1) != 0)) mismatch(w, "bytes differ", fi, fo);
}

/* ---- the round trip ------------------------------------------------------------ */

struct sink {
    uint8_t *b;
    size_t n, cap;
};

static int sink_fn(void *ud, const void *data, size_t len) {
    struct sink *s = ud;
    if (s->n + len > s->cap) {
        size_t cap = (s->n + len) * 2;
        uint8_t *p = realloc(s->b, cap);
        if (!p) return HOIST_ERR_NOMEM;
        s->b = p, s->cap = cap;
    }
    memcpy(s->b + s->n, data, len);
    s->n += len;
    return 0;
}

static void set_options(struct gen *g, const struct ArrowSchema *schema, struct hoist_pq_write_options *o) {
    static const char *const codecs[] = {"none", "snappy", "gzip", "zstd", "lz4_raw", "brotli", "zstd:9", "gzip:1"};
    must(hoist_pq_write_options_set_str(o, HOIST_PQW_COMPRESSION, codecs[g8(g) % 8]));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_DATA_PAGE_VERSION, 1 + g8(g) % 2));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_DICTIONARY, g8(g) % 3 != 0));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_DICT_PAGE_BYTES, g8(g) % 2 ? 1 << 20 : 16 + g8(g) * 4));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_BYTES, g8(g) % 2 ? 1 << 20 : 32 + g8(g) * 8));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_ROW_GROUP_ROWS, 1 + g8(g) % 100));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_STATISTICS, g8(g) % 4 != 0));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_INDEX, g8(g) % 4 != 0));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_PAGE_CRC, g8(g) % 2));
    must(hoist_pq_write_options_set_int(o, HOIST_PQW_THREADS, 1 + g8(g) % 2));
    /* per-column encodings and bloom filters where the physical type is sure */
    for (int64_t c = 0; c < schema->n_children; c++) {
        const struct ArrowSchema *s = schema->children[c];
        const char *f = s->format, *enc = NULL;
        unsigned pick = g8(g) % 4;
        if (s->dictionary || !f[0] || f[1]) continue;
        if (strchr("cCsSiIlL", f[0]))
            enc = pick == 1 ? "delta_binary_packed" : pick == 2 ? "byte_stream_split" : pick == 3 ? "plain" : NULL;
        else if (strchr("fg", f[0]))
            enc = pick == 1 ? "byte_stream_split" : pick == 2 ? "plain" : NULL;
        else if (strchr("uzUZ", f[0]))
            enc = pick == 1 ? "delta_length_byte_array" : pick == 2 ? "delta_byte_array" : pick == 3 ? "plain" : NULL;
        if (enc) must(hoist_pq_write_options_set_column_encoding(o, s->name, enc));
        if (strchr("iIlLfguz", f[0]) && g8(g) % 4 == 0)
            must(hoist_pq_write_options_set_column_bloom_filter(o, s->name, 0.05, 1 + g8(g)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct gen g0 = {data, size, 0}, *g = &g0;
    struct ArrowSchema schema;
    int ncols = 1 + (int)(g8(g) % MAX_COLS);
    must(hx_arrow_schema_init(&schema, "+s", "", 0));
    must(hx_arrow_schema_alloc_children(&schema, ncols));
    for (int c = 0; c < ncols; c++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", c);
        gen_schema(g, 1, name, ARROW_FLAG_NULLABLE, schema.children[c]);
    }
    struct hoist_pq_write_options *o;
    must(hoist_pq_write_options_new(&o));
    set_options(g, &schema, o);

    /* 1..3 batches; each column may be a slice (offset) of a longer array */
    int nb = 1 + (int)(g8(g) % 3);
    struct ArrowArray batches[3];
    int64_t total = 0;
    for (int b = 0; b < nb; b++) {
        int64_t len = g8(g) % (MAX_ROWS + 1);
        must(hx_arrow_array_init(&batches[b], len, 1, ncols));
        for (int c = 0; c < ncols; c++) {
            int64_t skip = g8(g) % 3;
            gen_array(g, schema.children[c], len + skip, 1, batches[b].children[c]);
            batches[b].children[c]->offset = skip;
            batches[b].children[c]->length = len;
            struct ArrowArray *ch = batches[b].children[c];
            if (ch->buffers && ch->n_buffers > 0 && ch->buffers[0])
                ch->null_count = -1; /* unknown after slicing: the writer must count */
            else if (!strcmp(schema.children[c]->format, "n"))
                ch->null_count = len;
        }
        total += len;
    }

    struct sink out = {0};
    struct hoist_pq_writer *w = NULL;
    hx_status st = hoist_pq_writer_new(&schema, o, sink_fn, &out, &w);
    for (int b = 0; st == HOIST_OK && b < nb; b++) st = hoist_pq_writer_write(w, &batches[b]);
    if (st == HOIST_OK) st = hoist_pq_writer_close(w);
    hoist_pq_writer_free(w);
    hoist_pq_write_options_free(o);
    if (st != HOIST_OK) {
        fprintf(stderr, "fuzz_pq_write: write failed: %s\n", hoist_errmsg());
        abort();
    }

    const char *dump = getenv("FUZZ_PQ_WRITE_DUMP"); /* a failing input's file, for pyarrow to look at */
    if (dump) {
        FILE *df = fopen(dump, "wb");
        if (df) {
            fwrite(out.b, 1, out.n, df);
            fclose(df);
        }
    }
    struct hoist_pq_reader *r = NULL;
    if (hoist_pq_reader_open_memory(out.b, out.n, "fuzz.parquet", 0, &r) != HOIST_OK) {
        fprintf(stderr, "fuzz_pq_write: reading back: %s\n", hoist_errmsg());
        abort();
    }
    struct ArrowArrayStream stream;
    struct ArrowSchema rs;
    if (hoist_pq_reader_stream(r, NULL, 0, NULL, 0, 1, &stream) != HOIST_OK || stream.get_schema(&stream, &rs) != 0) {
        fprintf(stderr, "fuzz_pq_write: reading back: %s\n", hoist_errmsg());
        abort();
    }
    if (rs.n_children != ncols) abort();
    int64_t row = 0;
    int ib = 0;
    int64_t irow = 0;
    for (;;) {
        struct ArrowArray ob;
        memset(&ob, 0, sizeof ob);
        if (stream.get_next(&stream, &ob) != 0) {
            fprintf(stderr, "fuzz_pq_write: reading back: %s\n", stream.get_last_error(&stream));
            abort();
        }
        if (!ob.release) break;
        for (int64_t j = 0; j < ob.length; j++, row++, irow++) {
            while (ib < nb && irow >= batches[ib].length) ib++, irow = 0;
            if (ib >= nb) {
                fprintf(stderr, "fuzz_pq_write: more rows read back than written (%lld)\n", (long long)total);
                abort();
            }
            for (int c = 0; c < ncols; c++) {
                struct where wh = {schema.children[c]->name, row};
                compare(&wh, schema.children[c], batches[ib].children[c], irow, rs.children[c], ob.children[c], j);
            }
        }
        ob.release(&ob);
    }
    if (row != total) {
        fprintf(stderr, "fuzz_pq_write: %lld rows read back, %lld written\n", (long long)row, (long long)total);
        abort();
    }
    rs.release(&rs);
    stream.release(&stream);
    hoist_pq_reader_close(r);
    for (int b = 0; b < nb; b++) batches[b].release(&batches[b]);
    schema.release(&schema);
    free(out.b);
    return 0;
}
