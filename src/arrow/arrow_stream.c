/* arrow_stream.c — ArrowArrayStream producers: the generic one over a
 * table of functions, the basic stream over owned batches, and the shared
 * stream of zero-copy views of someone else's batches. Each keeps its own
 * error text (STYLE.md: the consumer may be on another thread). */
#include "arrow_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* ---- the generic stream --------------------------------------------------- */

struct stream_priv {
    const struct hx_arrow_stream_ops *ops;
    void *state;
    char error[1024];
};

static int status_errno(hx_status st) {
    switch (st) {
    case HOIST_ERR_NOMEM: return ENOMEM;
    case HOIST_ERR_INVALID_ARG: return EINVAL;
    case HOIST_ERR_UNSUPPORTED:
    case HOIST_ERR_PARQUET_UNSUPPORTED:
    case HOIST_ERR_PARQUET_ENCRYPTED: return ENOSYS;
    default: return EIO;
    }
}

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
    struct stream_priv *p = s->private_data;
    hx_status st = p->ops->get_schema(p->state, out);
    if (st == HOIST_OK) return 0;
    hx_error_copy(p->error, sizeof p->error);
    return status_errno(st);
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
    struct stream_priv *p = s->private_data;
    memset(out, 0, sizeof *out);
    hx_status st = p->ops->get_next(p->state, out);
    if (st == HOIST_OK) return 0;
    hx_error_copy(p->error, sizeof p->error);
    return status_errno(st);
}

static const char *stream_get_last_error(struct ArrowArrayStream *s) {
    struct stream_priv *p = s->private_data;
    return p->error[0] ? p->error : NULL;
}

static void stream_release(struct ArrowArrayStream *s) {
    if (!s || !s->release) return;
    struct stream_priv *p = s->private_data;
    if (p) {
        if (p->ops->free_state) p->ops->free_state(p->state);
        hx_free(p);
    }
    s->release = NULL;
}

hx_status hx_arrow_stream_init(struct ArrowArrayStream *out, const struct hx_arrow_stream_ops *ops, void *state) {
    memset(out, 0, sizeof *out);
    struct stream_priv *p = hx_calloc(1, sizeof *p);
    if (!p) {
        if (ops->free_state) ops->free_state(state);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating an Arrow stream");
    }
    p->ops = ops;
    p->state = state;
    out->get_schema = stream_get_schema;
    out->get_next = stream_get_next;
    out->get_last_error = stream_get_last_error;
    out->release = stream_release;
    out->private_data = p;
    return HOIST_OK;
}

/* ---- the basic stream: owned batches ----------------------------------------- */

struct basic_state {
    struct ArrowSchema schema;
    struct ArrowArray *batches;
    size_t n, cap, next;
};

static hx_status basic_get_schema(void *state, struct ArrowSchema *out) {
    struct basic_state *b = state;
    return hx_arrow_schema_copy(&b->schema, out);
}

static hx_status basic_get_next(void *state, struct ArrowArray *out) {
    struct basic_state *b = state;
    if (b->next < b->n) {
        *out = b->batches[b->next];
        b->batches[b->next++].release = NULL;
    }
    return HOIST_OK;
}

static void basic_free(void *state) {
    struct basic_state *b = state;
    if (!b) return;
    for (size_t i = b->next; i < b->n; i++)
        if (b->batches[i].release) b->batches[i].release(&b->batches[i]);
    hx_free(b->batches);
    if (b->schema.release) b->schema.release(&b->schema);
    hx_free(b);
}

static const struct hx_arrow_stream_ops basic_ops = {basic_get_schema, basic_get_next, basic_free};

hx_status hx_arrow_basic_stream_init(struct ArrowArrayStream *out, struct ArrowSchema *schema) {
    struct basic_state *b = hx_calloc(1, sizeof *b);
    if (!b) {
        memset(out, 0, sizeof *out);
        if (schema->release) schema->release(schema);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating an Arrow stream");
    }
    b->schema = *schema;
    schema->release = NULL;
    return hx_arrow_stream_init(out, &basic_ops, b);
}

hx_status hx_arrow_basic_stream_append(struct ArrowArrayStream *stream, struct ArrowArray *batch) {
    struct stream_priv *p = stream->private_data;
    struct basic_state *b = p->state;
    if (p->ops != &basic_ops) {
        if (batch->release) batch->release(batch);
        HX_FAIL(HOIST_ERR_INTERNAL, "appending a batch to a stream that is not a basic stream");
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct ArrowArray *nb = hx_realloc(b->batches, cap * sizeof *nb);
        if (!nb) {
            if (batch->release) batch->release(batch);
            HX_FAIL(HOIST_ERR_NOMEM, "out of memory adding batch %zu to an Arrow stream", b->n);
        }
        b->batches = nb;
        b->cap = cap;
    }
    b->batches[b->n++] = *batch;
    batch->release = NULL;
    return HOIST_OK;
}

hx_status hx_arrow_stream_from_arrays(struct ArrowSchema *schema, struct ArrowArray *arrays, size_t n,
                                      struct ArrowArrayStream *out) {
    hx_status st = hx_arrow_basic_stream_init(out, schema);
    for (size_t i = 0; i < n; i++) {
        if (st == HOIST_OK)
            st = hx_arrow_basic_stream_append(out, &arrays[i]);
        else if (arrays[i].release)
            arrays[i].release(&arrays[i]);
    }
    if (st != HOIST_OK && out->release) out->release(out);
    return st;
}

/* ---- the shared stream: views of someone else's batches ------------------------
 * One exported batch is a tree of view nodes, each in one allocation (its
 * buffer pointers, child pointers and the child structs). A child's private
 * data is its own node, so a consumer may move a child out and release it
 * after the parent. Every node of one batch counts in one share_ref; the
 * last node released drops the batch's reference on the owner. */

struct share_owner {
    void *owner;
    void (*ref)(void *);
    void (*unref)(void *);
};

struct share_ref {
    atomic_long nodes;
    struct share_owner owner;
};

struct view_node {
    struct share_ref *ref;
    /* then: const void *buffers[n_buffers]; struct ArrowArray *child_ptrs[n];
     * struct ArrowArray children[n]; struct ArrowArray dictionary[0 or 1] */
};

static void share_ref_drop(struct share_ref *r) {
    if (atomic_fetch_sub_explicit(&r->nodes, 1, memory_order_acq_rel) != 1) return;
    r->owner.unref(r->owner.owner);
    hx_free(r);
}

static void view_release(struct ArrowArray *a) {
    if (!a || !a->release) return;
    for (int64_t i = 0; i < a->n_children; i++)
        if (a->children[i]->release) a->children[i]->release(a->children[i]);
    if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
    struct view_node *v = a->private_data;
    struct share_ref *r = v->ref;
    hx_free(v);
    a->release = NULL;
    share_ref_drop(r);
}

static hx_status view_make(struct share_ref *r, const struct ArrowArray *src, struct ArrowArray *dst) {
    memset(dst, 0, sizeof *dst);
    size_t nb = src->n_buffers > 0 ? (size_t)src->n_buffers : 0, nc = src->n_children > 0 ? (size_t)src->n_children : 0;
    size_t nd = src->dictionary ? 1 : 0;
    size_t size = sizeof(struct view_node) + nb * sizeof(void *) + nc * sizeof(struct ArrowArray *) +
                  (nc + nd) * sizeof(struct ArrowArray);
    struct view_node *v = hx_calloc(1, size);
    if (!v) HX_FAIL(HOIST_ERR_NOMEM, "out of memory exporting an Arrow batch");
    const void **bufs = (const void **)(v + 1);
    struct ArrowArray **child_ptrs = (struct ArrowArray **)(bufs + nb);
    struct ArrowArray *kids = (struct ArrowArray *)(child_ptrs + nc);
    for (size_t i = 0; i < nb; i++) bufs[i] = src->buffers[i];
    atomic_fetch_add_explicit(&r->nodes, 1, memory_order_relaxed);
    v->ref = r;
    *dst = *src;
    dst->buffers = bufs;
    dst->children = nc ? child_ptrs : NULL;
    dst->n_children = 0; /* counted up as children are made, so a failure releases only those */
    dst->dictionary = NULL;
    dst->private_data = v;
    dst->release = view_release;
    hx_status st = HOIST_OK;
    for (size_t i = 0; st == HOIST_OK && i < nc; i++) {
        child_ptrs[i] = &kids[i];
        st = view_make(r, src->children[i], &kids[i]);
        if (st == HOIST_OK) dst->n_children = (int64_t)i + 1;
    }
    if (st == HOIST_OK && nd) {
        st = view_make(r, src->dictionary, &kids[nc]);
        if (st == HOIST_OK) dst->dictionary = &kids[nc];
    }
    if (st != HOIST_OK) dst->release(dst);
    return st;
}

struct share_state {
    const struct ArrowSchema *schema;
    const struct ArrowArray *arrays;
    size_t n, next;
    struct share_owner owner;
};

static hx_status share_get_schema(void *state, struct ArrowSchema *out) {
    struct share_state *s = state;
    return hx_arrow_schema_copy(s->schema, out);
}

static hx_status share_get_next(void *state, struct ArrowArray *out) {
    struct share_state *s = state;
    if (s->next >= s->n) return HOIST_OK;
    struct share_ref *r = hx_calloc(1, sizeof *r);
    if (!r) HX_FAIL(HOIST_ERR_NOMEM, "out of memory exporting batch %zu", s->next);
    atomic_init(&r->nodes, 1); /* held while the tree is built */
    r->owner = s->owner;
    s->owner.ref(s->owner.owner);
    hx_status st = view_make(r, &s->arrays[s->next], out);
    share_ref_drop(r);
    if (st != HOIST_OK) return hx_error_prefix(st, "batch %zu", s->next);
    s->next++;
    return HOIST_OK;
}

static void share_free(void *state) {
    struct share_state *s = state;
    if (!s) return;
    s->owner.unref(s->owner.owner);
    hx_free(s);
}

static const struct hx_arrow_stream_ops share_ops = {share_get_schema, share_get_next, share_free};

hx_status hx_arrow_stream_share(const struct ArrowSchema *schema, const struct ArrowArray *arrays, size_t n,
                                void *owner, void (*owner_ref)(void *), void (*owner_unref)(void *),
                                struct ArrowArrayStream *out) {
    struct share_state *s = hx_calloc(1, sizeof *s);
    if (!s) {
        memset(out, 0, sizeof *out);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating an Arrow stream");
    }
    s->schema = schema;
    s->arrays = arrays;
    s->n = n;
    s->owner = (struct share_owner){owner, owner_ref, owner_unref};
    owner_ref(owner);
    return hx_arrow_stream_init(out, &share_ops, s);
}

/* ---- public entry points -------------------------------------------------------- */

hx_status hoist_arrow_stream_from_arrays(struct ArrowSchema *schema, struct ArrowArray *arrays, size_t n,
                                         struct ArrowArrayStream *out) {
    HX_FAIL_IF(!schema || !out || (n && !arrays), HOIST_ERR_INVALID_ARG,
               "hoist_arrow_stream_from_arrays: NULL argument");
    HX_FAIL_IF(!schema->release, HOIST_ERR_INVALID_ARG, "hoist_arrow_stream_from_arrays: the schema is released");
    HX_TRY(hx_arrow_stream_from_arrays(schema, arrays, n, out));
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_arrow_stream_share(const struct ArrowSchema *schema, const struct ArrowArray *arrays, size_t n,
                                   void *owner, void (*owner_ref)(void *), void (*owner_unref)(void *),
                                   struct ArrowArrayStream *out) {
    HX_FAIL_IF(!schema || !out || (n && !arrays) || !owner_ref || !owner_unref, HOIST_ERR_INVALID_ARG,
               "hoist_arrow_stream_share: NULL argument");
    HX_TRY(hx_arrow_stream_share(schema, arrays, n, owner, owner_ref, owner_unref, out));
    hx_error_clear();
    return HOIST_OK;
}
