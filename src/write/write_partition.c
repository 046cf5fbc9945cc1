/* Hive partition naming: escaping values as pyarrow does, the text of a
 * partition value, and the table of partitions seen in a write. */
#include "write_internal.h"

#include <stdio.h>
#include <string.h>

hx_status hx_write_escape(struct hx_buf *out, const char *s, size_t n) {
    /* Arrow's HivePartitioning::FormatValues escapes with uriparser's
     * uriEscapeExA: RFC 3986 unreserved characters stay, every other byte
     * (space, '/', '=', '%', UTF-8 bytes) becomes %XX with uppercase hex. */
    static const char hex[] = "0123456789ABCDEF";
    HX_TRY(hx_buf_reserve(out, n * 3 + 1));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                   c == '_' || c == '~';
        if (keep) {
            out->data[out->len++] = (char)c;
        } else {
            out->data[out->len++] = '%';
            out->data[out->len++] = hex[c >> 4];
            out->data[out->len++] = hex[c & 15];
        }
    }
    out->data[out->len] = '\0';
    return HOIST_OK;
}

static int int_format(const char *f) { return f[1] == '\0' && strchr("cCsSiIlL", f[0]) != NULL; }

/* utf8, large utf8 and utf8 views (what polars hands out) */
static int string_format(const char *f) { return strcmp(f, "u") == 0 || strcmp(f, "U") == 0 || strcmp(f, "vu") == 0; }

hx_status hx_write_check_partition_type(const struct ArrowSchema *s) {
    const char *f = s->dictionary ? s->dictionary->format : s->format;
    if (s->dictionary && !int_format(s->format))
        HX_FAIL(HOIST_ERR_ARROW_INVALID, "partition column '%s': dictionary indices of type '%s'", s->name, s->format);
    if (int_format(f) || string_format(f) || strcmp(f, "b") == 0 || strcmp(f, "tdD") == 0) return HOIST_OK;
    HX_FAIL(HOIST_ERR_ARROW_TYPE,
            "partition column '%s' has type '%s'; partition by integers, strings, bool or date32 "
            "columns",
            s->name, f);
}

static int is_valid(const struct ArrowArray *a, int64_t j) {
    if (a->null_count == 0 || a->n_buffers == 0 || a->buffers[0] == NULL) return 1;
    const uint8_t *v = a->buffers[0];
    return (v[j >> 3] >> (j & 7)) & 1;
}

static int64_t int_at(const struct ArrowArray *a, const char *f, int64_t j, uint64_t *u, int *is_unsigned) {
    const void *d = a->buffers[1];
    *is_unsigned = 0;
    switch (f[0]) {
    case 'c': return ((const int8_t *)d)[j];
    case 'C': return ((const uint8_t *)d)[j];
    case 's': return ((const int16_t *)d)[j];
    case 'S': return ((const uint16_t *)d)[j];
    case 'i': return ((const int32_t *)d)[j];
    case 'I': return ((const uint32_t *)d)[j];
    case 'l': return ((const int64_t *)d)[j];
    default:
        *is_unsigned = 1;
        *u = ((const uint64_t *)d)[j];
        return 0;
    }
}

int hx_write_same_value(const struct ArrowArray *a, const struct ArrowSchema *s, int64_t r1, int64_t r2) {
    int64_t i = r1 + a->offset, j = r2 + a->offset;
    int v1 = is_valid(a, i), v2 = is_valid(a, j);
    if (!v1 || !v2) return v1 == v2;
    const char *f = s->format;
    if (int_format(f)) {
        /* a dictionary's indices: equal indices, equal values */
        uint64_t u1 = 0, u2 = 0;
        int uns;
        int64_t x1 = int_at(a, f, i, &u1, &uns), x2 = int_at(a, f, j, &u2, &uns);
        return uns ? u1 == u2 : x1 == x2;
    }
    if (s->dictionary) return 0;
    if (strcmp(f, "b") == 0) {
        const uint8_t *b = a->buffers[1];
        return ((b[i >> 3] >> (i & 7)) & 1) == ((b[j >> 3] >> (j & 7)) & 1);
    }
    if (strcmp(f, "tdD") == 0) return ((const int32_t *)a->buffers[1])[i] == ((const int32_t *)a->buffers[1])[j];
    if (strcmp(f, "u") == 0) {
        const int32_t *o = a->buffers[1];
        const char *d = a->buffers[2];
        return o[i + 1] - o[i] == o[j + 1] - o[j] && memcmp(d + o[i], d + o[j], (size_t)(o[i + 1] - o[i])) == 0;
    }
    if (strcmp(f, "U") == 0) {
        const int64_t *o = a->buffers[1];
        const char *d = a->buffers[2];
        return o[i + 1] - o[i] == o[j + 1] - o[j] && memcmp(d + o[i], d + o[j], (size_t)(o[i + 1] - o[i])) == 0;
    }
    return 0; /* views: the text decides */
}

hx_status hx_write_value_text(const struct ArrowArray *a, const struct ArrowSchema *s, int64_t row, struct hx_buf *out,
                              int *is_null) {
    int64_t j = row + a->offset;
    *is_null = !is_valid(a, j);
    if (*is_null) return HOIST_OK;
    if (s->dictionary) {
        uint64_t u = 0;
        int uns;
        int64_t k = int_at(a, s->format, j, &u, &uns);
        if (uns) k = (int64_t)u;
        HX_FAIL_IF(a->dictionary == NULL || k < 0 || k >= a->dictionary->length, HOIST_ERR_ARROW_INVALID,
                   "partition column '%s': dictionary index %lld out of range", s->name, (long long)k);
        return hx_write_value_text(a->dictionary, s->dictionary, k, out, is_null);
    }
    const char *f = s->format;
    if (int_format(f)) {
        uint64_t u = 0;
        int uns;
        int64_t v = int_at(a, f, j, &u, &uns);
        return uns ? hx_buf_printf(out, "%llu", (unsigned long long)u) : hx_buf_printf(out, "%lld", (long long)v);
    }
    if (strcmp(f, "b") == 0) {
        const uint8_t *b = a->buffers[1];
        return hx_buf_append_str(out, (b[j >> 3] >> (j & 7)) & 1 ? "true" : "false");
    }
    if (strcmp(f, "tdD") == 0) {
        int64_t y;
        unsigned m, d;
        hx_civil_from_days(((const int32_t *)a->buffers[1])[j], &y, &m, &d);
        return hx_buf_printf(out, "%04lld-%02u-%02u", (long long)y, m, d);
    }
    if (strcmp(f, "u") == 0) {
        const int32_t *o = a->buffers[1];
        return hx_buf_append(out, (const char *)a->buffers[2] + o[j], (size_t)(o[j + 1] - o[j]));
    }
    if (strcmp(f, "U") == 0) {
        const int64_t *o = a->buffers[1];
        return hx_buf_append(out, (const char *)a->buffers[2] + o[j], (size_t)(o[j + 1] - o[j]));
    }
    if (strcmp(f, "vu") == 0) {
        /* Columnar.md "Variable-size Binary View Layout": 16-byte views, up
         * to 12 bytes inline, else a prefix, a data buffer index and offset */
        const uint8_t *v = (const uint8_t *)a->buffers[1] + 16 * j;
        int32_t len, buf, off;
        memcpy(&len, v, 4);
        if (len <= 12) return hx_buf_append(out, (const char *)v + 4, (size_t)(len > 0 ? len : 0));
        memcpy(&buf, v + 8, 4);
        memcpy(&off, v + 12, 4);
        HX_FAIL_IF(buf < 0 || buf >= a->n_buffers - 3, HOIST_ERR_ARROW_INVALID,
                   "partition column '%s': view %lld names data buffer %d", s->name, (long long)row, buf);
        return hx_buf_append(out, (const char *)a->buffers[2 + buf] + off, (size_t)len);
    }
    HX_FAIL(HOIST_ERR_ARROW_TYPE, "partition column '%s': type '%s'", s->name, f);
}

/* ---- the partition table ---------------------------------------------------- */

uint32_t hx_write_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

struct hx_wpart *hx_wpart_find(const struct hx_wpart_table *t, const char *dir, size_t len, uint32_t hash) {
    if (t->cap == 0) return NULL;
    for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        struct hx_wpart *p = t->slots[i];
        if (p == NULL) return NULL;
        if (p->hash == hash && strlen(p->dir) == len && memcmp(p->dir, dir, len) == 0) return p;
    }
}

static void insert(struct hx_wpart **slots, size_t cap, struct hx_wpart *p) {
    size_t i = p->hash & (cap - 1);
    while (slots[i]) i = (i + 1) & (cap - 1);
    slots[i] = p;
}

static void part_free(struct hx_wpart *p) {
    hx_free(p->dir);
    for (size_t i = 0; i < p->nvalues; i++) hx_free(p->values[i]);
    hx_free(p->values);
    hx_free(p);
}

hx_status hx_wpart_add(struct hx_wpart_table *t, struct hx_wpart *p) {
    if (t->nall == t->capall) {
        size_t cap = t->capall ? t->capall * 2 : 16;
        struct hx_wpart **n = hx_realloc(t->all, cap * sizeof *n);
        if (n == NULL) {
            part_free(p);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
        }
        t->all = n;
        t->capall = cap;
    }
    if ((t->count + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct hx_wpart **slots = hx_calloc(cap, sizeof *slots);
        if (slots == NULL) {
            part_free(p);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i]) insert(slots, cap, t->slots[i]);
        hx_free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    insert(t->slots, t->cap, p);
    t->count++;
    t->all[t->nall++] = p;
    return HOIST_OK;
}

void hx_wpart_table_reset(struct hx_wpart_table *t) {
    for (size_t i = 0; i < t->nall; i++) part_free(t->all[i]);
    hx_free(t->all);
    hx_free(t->slots);
    memset(t, 0, sizeof *t);
}
