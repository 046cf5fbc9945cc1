/* arrow.c — Arrow C Data interface structs: schemas and their metadata,
 * arrays and their 64-byte aligned buffers (arrow.h has the contracts). */
#include "arrow_internal.h"

#include <string.h>
#include <sys/mman.h>

/* ---- format strings ------------------------------------------------------ */

static const char unit_chars[] = "smun";

int hx_arrow_time_unit(char c) {
    const char *u = c ? strchr(unit_chars, c) : NULL;
    return u ? (int)(u - unit_chars) : -1;
}

char hx_arrow_time_unit_char(int unit) { return unit >= 0 && unit <= 3 ? unit_chars[unit] : 0; }

const char *hx_arrow_time_unit_name(int unit) {
    static const char *const names[] = {"s", "ms", "us", "ns"};
    return unit >= 0 && unit <= 3 ? names[unit] : NULL;
}

/* ---- schemas ------------------------------------------------------------ */

struct schema_priv {
    char *format;
    char *name;
    char *metadata;
};

/* Children and dictionaries made here are separate blocks this struct
 * owns: released (if still live; a consumer may have moved them out), then
 * freed. */
static void free_schema_node(struct ArrowSchema *c) {
    if (!c) return;
    if (c->release) c->release(c);
    hx_free(c);
}

static void schema_release(struct ArrowSchema *s) {
    if (!s || !s->release) return;
    for (int64_t i = 0; s->children && i < s->n_children; i++) free_schema_node(s->children[i]);
    hx_free(s->children);
    free_schema_node(s->dictionary);
    struct schema_priv *p = s->private_data;
    if (p) {
        hx_free(p->format);
        hx_free(p->name);
        hx_free(p->metadata);
        hx_free(p);
    }
    s->release = NULL;
}

hx_status hx_arrow_schema_init(struct ArrowSchema *s, const char *format, const char *name, int64_t flags) {
    memset(s, 0, sizeof *s);
    struct schema_priv *p = hx_calloc(1, sizeof *p);
    if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow schema");
    p->format = hx_strdup(format);
    p->name = name ? hx_strdup(name) : NULL;
    if (!p->format || (name && !p->name)) {
        hx_free(p->format);
        hx_free(p->name);
        hx_free(p);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow schema");
    }
    s->format = p->format;
    s->name = p->name;
    s->flags = flags;
    s->private_data = p;
    s->release = schema_release;
    return HOIST_OK;
}

hx_status hx_arrow_schema_alloc_children(struct ArrowSchema *s, int64_t n) {
    if (n <= 0) return HOIST_OK;
    s->children = hx_calloc((size_t)n, sizeof *s->children);
    if (!s->children) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow schema");
    for (int64_t i = 0; i < n; i++) {
        s->children[i] = hx_calloc(1, sizeof **s->children);
        if (!s->children[i]) {
            s->n_children = i;
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow schema");
        }
    }
    s->n_children = n;
    return HOIST_OK;
}

hx_status hx_arrow_schema_alloc_dictionary(struct ArrowSchema *s) {
    s->dictionary = hx_calloc(1, sizeof *s->dictionary);
    if (!s->dictionary) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow schema");
    return HOIST_OK;
}

void hx_arrow_metadata_read_begin(struct hx_arrow_metadata_reader *r, const char *blob) {
    r->p = blob ? blob + 4 : NULL;
    r->left = 0;
    if (blob) memcpy(&r->left, blob, 4);
    if (r->left < 0) r->left = 0;
}

bool hx_arrow_metadata_read_next(struct hx_arrow_metadata_reader *r, struct hx_arrow_kv *kv) {
    if (r->left <= 0) return false;
    int32_t kl, vl;
    memcpy(&kl, r->p, 4);
    kv->key = r->p + 4;
    memcpy(&vl, kv->key + kl, 4);
    kv->value = kv->key + kl + 4;
    kv->klen = (size_t)kl;
    kv->vlen = (size_t)vl;
    r->p = kv->value + vl;
    r->left--;
    return true;
}

size_t hx_arrow_metadata_size(const char *blob) {
    if (!blob) return 0;
    struct hx_arrow_metadata_reader r;
    struct hx_arrow_kv kv;
    hx_arrow_metadata_read_begin(&r, blob);
    while (hx_arrow_metadata_read_next(&r, &kv)) {
    }
    return (size_t)(r.p - blob);
}

const char *hx_arrow_metadata_find(const char *blob, const char *key, size_t *vlen) {
    struct hx_arrow_metadata_reader r;
    struct hx_arrow_kv kv;
    size_t klen = strlen(key);
    hx_arrow_metadata_read_begin(&r, blob);
    while (hx_arrow_metadata_read_next(&r, &kv))
        if (kv.klen == klen && memcmp(kv.key, key, klen) == 0) {
            *vlen = kv.vlen;
            return kv.value;
        }
    return NULL;
}

hx_status hx_arrow_schema_set_metadata(struct ArrowSchema *s, const char *blob, size_t len) {
    struct schema_priv *p = s->private_data;
    hx_free(p->metadata);
    p->metadata = NULL;
    s->metadata = NULL;
    if (!blob || len == 0) return HOIST_OK;
    p->metadata = hx_malloc(len);
    if (!p->metadata) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow schema");
    memcpy(p->metadata, blob, len);
    s->metadata = p->metadata;
    return HOIST_OK;
}

hx_status hx_arrow_metadata_begin(struct hx_buf *buf) {
    int32_t zero = 0;
    buf->len = 0;
    return hx_buf_append(buf, &zero, 4);
}

hx_status hx_arrow_metadata_add(struct hx_buf *buf, const char *key, size_t klen, const char *val, size_t vlen) {
    if (klen > INT32_MAX || vlen > INT32_MAX) HX_FAIL(HOIST_ERR_LIMIT, "metadata entry too large");
    int32_t k = (int32_t)klen, v = (int32_t)vlen, n;
    HX_TRY(hx_buf_append(buf, &k, 4));
    HX_TRY(hx_buf_append(buf, key, klen));
    HX_TRY(hx_buf_append(buf, &v, 4));
    HX_TRY(hx_buf_append(buf, val, vlen));
    memcpy(&n, buf->data, 4);
    n++;
    memcpy(buf->data, &n, 4);
    return HOIST_OK;
}

hx_status hx_arrow_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst) {
    if (!src->format) {
        memset(dst, 0, sizeof *dst);
        HX_FAIL(HOIST_ERR_ARROW_INVALID, "Arrow schema '%s' has no format string", src->name ? src->name : "");
    }
    HX_TRY(hx_arrow_schema_init(dst, src->format, src->name, src->flags));
    hx_status st = hx_arrow_schema_set_metadata(dst, src->metadata, hx_arrow_metadata_size(src->metadata));
    if (st == HOIST_OK) st = hx_arrow_schema_alloc_children(dst, src->n_children);
    for (int64_t i = 0; st == HOIST_OK && i < src->n_children; i++)
        st = hx_arrow_schema_copy(src->children[i], dst->children[i]);
    if (st == HOIST_OK && src->dictionary) {
        st = hx_arrow_schema_alloc_dictionary(dst);
        if (st == HOIST_OK) st = hx_arrow_schema_copy(src->dictionary, dst->dictionary);
    }
    if (st != HOIST_OK) dst->release(dst);
    return st;
}

hx_status hoist_arrow_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *out) {
    HX_FAIL_IF(!src || !out, HOIST_ERR_INVALID_ARG, "hoist_arrow_schema_copy: NULL argument");
    HX_TRY(hx_arrow_schema_copy(src, out));
    hx_error_clear();
    return HOIST_OK;
}

hx_status hx_arrow_schema_struct(struct ArrowSchema *children, size_t n, struct ArrowSchema *out) {
    hx_status st = hx_arrow_schema_init(out, "+s", "", 0);
    if (st == HOIST_OK) st = hx_arrow_schema_alloc_children(out, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        if (st == HOIST_OK) {
            *out->children[i] = children[i];
            children[i].release = NULL;
        } else if (children[i].release) {
            children[i].release(&children[i]);
        }
    }
    if (st != HOIST_OK && out->release) out->release(out);
    return st;
}

/* ---- aligned buffers ---------------------------------------------------- */

/* Column buffers of a large row group are written once, front to back:
 * with transparent huge pages (where the system leaves them to madvise)
 * that is one fault per 2 MiB instead of one per 4 KiB, which dominates
 * decoding time otherwise (and serialises threads on the mm's locks). */
static void advise_huge(void *p, size_t len) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    /* a reused block keeps its mapping's advice; asking again would only
     * take the mm's lock for writing */
    if (len < HX_ARROW_HUGE_MIN || !hx_aligned_fresh(p)) return;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + len) & ~(huge - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

hx_status hx_arrow_buf_reserve(struct hx_arrow_buf *b, size_t extra) {
    size_t need;
    if (!hx_add_size(b->len, extra, &need) || !hx_add_size(need, 64, &need))
        HX_FAIL(HOIST_ERR_LIMIT, "buffer size overflows");
    if (need <= b->cap) return HOIST_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = hx_aligned_alloc(cap);
    if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory allocating %zu bytes", cap);
    /* only the span asked for: a huge page straddling the end of the data
     * would be backed in full (up to 2 MiB of RSS per column buffer) */
    advise_huge(p, need);
    if (b->len) memcpy(p, b->data, b->len);
    hx_aligned_free(b->data);
    b->data = p;
    b->cap = cap;
    return HOIST_OK;
}

void hx_arrow_buf_reset(struct hx_arrow_buf *b) {
    hx_aligned_free(b->data);
    *b = (struct hx_arrow_buf){0};
}

void *hx_arrow_buf_detach(struct hx_arrow_buf *b) {
    void *p = b->data;
    *b = (struct hx_arrow_buf){0};
    return p;
}

/* ---- arrays ------------------------------------------------------------- */

struct array_priv {
    void *owned[HX_ARRAY_MAX_BUFFERS];
    const void *ptrs[HX_ARRAY_MAX_BUFFERS];
};

static void free_array_node(struct ArrowArray *c) {
    if (!c) return;
    if (c->release) c->release(c);
    hx_free(c);
}

static void array_release(struct ArrowArray *a) {
    if (!a || !a->release) return;
    for (int64_t i = 0; a->children && i < a->n_children; i++) free_array_node(a->children[i]);
    hx_free(a->children);
    free_array_node(a->dictionary);
    struct array_priv *p = a->private_data;
    if (p) {
        for (int i = 0; i < HX_ARRAY_MAX_BUFFERS; i++) hx_aligned_free(p->owned[i]);
        hx_free(p);
    }
    a->release = NULL;
}

hx_status hx_arrow_array_init(struct ArrowArray *a, int64_t length, int64_t n_buffers, int64_t n_children) {
    memset(a, 0, sizeof *a);
    if (n_buffers > HX_ARRAY_MAX_BUFFERS) HX_FAIL(HOIST_ERR_INTERNAL, "too many Arrow buffers");
    struct array_priv *p = hx_calloc(1, sizeof *p);
    if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow array");
    a->length = length;
    a->n_buffers = n_buffers;
    a->buffers = p->ptrs;
    a->private_data = p;
    a->release = array_release;
    if (n_children > 0) {
        a->children = hx_calloc((size_t)n_children, sizeof *a->children);
        if (!a->children) {
            a->release(a);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow array");
        }
        for (int64_t i = 0; i < n_children; i++) {
            a->children[i] = hx_calloc(1, sizeof **a->children);
            if (!a->children[i]) {
                a->n_children = i;
                a->release(a);
                HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow array");
            }
        }
        a->n_children = n_children;
    }
    return HOIST_OK;
}

void hx_arrow_array_set_buffer(struct ArrowArray *a, int i, void *buf) {
    struct array_priv *p = a->private_data;
    hx_aligned_free(p->owned[i]);
    p->owned[i] = buf;
    p->ptrs[i] = buf;
}

hx_status hx_arrow_array_alloc_buffer(struct ArrowArray *a, int i, size_t size, void **data) {
    if (size == 0) size = 1;
    void *p = hx_aligned_alloc(size);
    if (!p) HX_FAIL(HOIST_ERR_NOMEM, "out of memory allocating an Arrow buffer of %zu bytes", size);
    memset(p, 0, size);
    hx_arrow_array_set_buffer(a, i, p);
    *data = p;
    return HOIST_OK;
}

hx_status hx_arrow_array_alloc_dictionary(struct ArrowArray *a) {
    a->dictionary = hx_calloc(1, sizeof *a->dictionary);
    if (!a->dictionary) HX_FAIL(HOIST_ERR_NOMEM, "out of memory building an Arrow array");
    return HOIST_OK;
}

int64_t hx_arrow_bitmap_count_nulls(const uint8_t *bits, int64_t n) {
    int64_t set = 0, i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t w;
        memcpy(&w, bits + i / 8, 8);
        set += __builtin_popcountll(w);
    }
    for (; i < n; i++) set += (bits[i >> 3] >> (i & 7)) & 1;
    return n - set;
}
