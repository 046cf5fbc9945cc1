/* Arrow streams (arrow_stream.c): the generic stream keeps its own error
 * text; the basic stream hands out the batches it owns; the shared stream
 * hands out zero-copy views that keep their owner alive, also when a
 * consumer moves children out; every allocation can fail without a leak. */
#include "arrow.h"
#include "test_harness.h"

#include <stdatomic.h>
#include <string.h>

struct st_state {
    int calls;
    int fail_at;
};
static hx_status st_schema(void *state, struct ArrowSchema *out) {
    (void)state;
    return hx_arrow_schema_init(out, "+s", "", 0);
}
static hx_status st_next(void *state, struct ArrowArray *out) {
    struct st_state *s = state;
    if (++s->calls == s->fail_at) return hx_error(HOIST_ERR_PARQUET_CORRUPT, "batch %d is bad", s->calls);
    if (s->calls > 2) return HOIST_OK;
    return hx_arrow_array_init(out, 0, 1, 0);
}
static void st_free(void *state) { hx_free(state); }
static const struct hx_arrow_stream_ops ops = {st_schema, st_next, st_free};

static void test_stream(void) {
    struct ArrowArrayStream s;
    struct st_state *st = hx_calloc(1, sizeof *st);
    st->fail_at = 3;
    CHECK_EQ_INT(hx_arrow_stream_init(&s, &ops, st), HOIST_OK);
    struct ArrowSchema sc;
    CHECK_EQ_INT(s.get_schema(&s, &sc), 0);
    sc.release(&sc);
    struct ArrowArray a;
    CHECK_EQ_INT(s.get_next(&s, &a), 0);
    CHECK(a.release != NULL);
    a.release(&a);
    CHECK_EQ_INT(s.get_next(&s, &a), 0);
    a.release(&a);
    CHECK(s.get_next(&s, &a) != 0);
    hx_error_clear(); /* the stream keeps its own copy */
    CHECK_CONTAINS(s.get_last_error(&s), "batch 3 is bad");
    CHECK_EQ_INT(s.get_next(&s, &a), 0);
    CHECK(a.release == NULL); /* end of stream */
    s.release(&s);
    CHECK(s.release == NULL);
}

static void make_batch(struct ArrowArray *b, int64_t v) {
    struct ArrowArray cols[2];
    CHECK_EQ_INT(hx_arrow_array_const_fixed(&v, 8, 3, &cols[0]), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_const_string("s", 3, &cols[1]), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_array_struct(cols, 2, 3, b), HOIST_OK);
}

static void make_schema(struct ArrowSchema *s) {
    struct ArrowSchema f[2];
    CHECK_EQ_INT(hx_arrow_schema_init(&f[0], "l", "v", 0), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_init(&f[1], "u", "s", ARROW_FLAG_NULLABLE), HOIST_OK);
    CHECK_EQ_INT(hx_arrow_schema_struct(f, 2, s), HOIST_OK);
}

static void test_basic_stream(void) {
    struct ArrowSchema schema;
    struct ArrowArrayStream s;
    make_schema(&schema);
    CHECK_EQ_INT(hx_arrow_basic_stream_init(&s, &schema), HOIST_OK);
    CHECK(schema.release == NULL); /* moved */
    struct ArrowArray b;
    make_batch(&b, 1);
    CHECK_EQ_INT(hx_arrow_basic_stream_append(&s, &b), HOIST_OK);
    CHECK(b.release == NULL);
    struct ArrowSchema got;
    CHECK_EQ_INT(s.get_schema(&s, &got), 0);
    CHECK_STR(got.children[1]->name, "s");
    got.release(&got);
    CHECK_EQ_INT(s.get_next(&s, &b), 0);
    CHECK(b.release != NULL && ((const int64_t *)b.children[0]->buffers[1])[2] == 1);
    b.release(&b);
    make_batch(&b, 2); /* appended after reading started: the consumer sees it */
    CHECK_EQ_INT(hx_arrow_basic_stream_append(&s, &b), HOIST_OK);
    make_batch(&b, 3);
    CHECK_EQ_INT(hx_arrow_basic_stream_append(&s, &b), HOIST_OK);
    CHECK_EQ_INT(s.get_next(&s, &b), 0);
    CHECK(((const int64_t *)b.children[0]->buffers[1])[0] == 2);
    b.release(&b);
    s.release(&s); /* batch 3 never read: the stream frees it */
    CHECK(s.release == NULL);

    /* from_arrays takes everything; the container stays the caller's */
    struct ArrowArray arr[3];
    for (int i = 0; i < 3; i++) make_batch(&arr[i], 10 + i);
    make_schema(&schema);
    CHECK_EQ_INT(hoist_arrow_stream_from_arrays(&schema, arr, 3, &s), HOIST_OK);
    CHECK(arr[2].release == NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(s.get_next(&s, &b), 0);
        CHECK_EQ_INT(((const int64_t *)b.children[0]->buffers[1])[1], 10 + i);
        b.release(&b);
    }
    CHECK_EQ_INT(s.get_next(&s, &b), 0);
    CHECK(b.release == NULL);
    CHECK(s.get_last_error(&s) == NULL);
    s.release(&s);
}

/* The owner of shared batches: counts references like a Python object. */
struct owner {
    atomic_int refs;
    struct ArrowSchema schema;
    struct ArrowArray batches[2];
};
static void owner_ref(void *o) { atomic_fetch_add(&((struct owner *)o)->refs, 1); }
static void owner_unref(void *o) { atomic_fetch_sub(&((struct owner *)o)->refs, 1); }

static void test_shared_stream(void) {
    struct owner o;
    atomic_init(&o.refs, 1);
    make_schema(&o.schema);
    make_batch(&o.batches[0], 7);
    make_batch(&o.batches[1], 8);
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_arrow_stream_share(&o.schema, o.batches, 2, &o, owner_ref, owner_unref, &s), HOIST_OK);
    CHECK_EQ_INT(atomic_load(&o.refs), 2);
    struct ArrowArray v0, v1;
    CHECK_EQ_INT(s.get_next(&s, &v0), 0);
    CHECK_EQ_INT(atomic_load(&o.refs), 3);                                     /* one per batch, not per node */
    CHECK(v0.children[0]->buffers[1] == o.batches[0].children[0]->buffers[1]); /* zero copy */
    CHECK(v0.children[0] != o.batches[0].children[0]);
    CHECK_EQ_INT(s.get_next(&s, &v1), 0);
    struct ArrowArray end;
    CHECK_EQ_INT(s.get_next(&s, &end), 0);
    CHECK(end.release == NULL);
    v0.release(&v0);
    CHECK_EQ_INT(atomic_load(&o.refs), 3);
    s.release(&s);
    CHECK_EQ_INT(atomic_load(&o.refs), 2); /* the stream's reference is gone, v1's remains */
    /* a consumer moves a child out of v1 and releases the parent first */
    struct ArrowArray moved = *v1.children[1];
    v1.children[1]->release = NULL;
    v1.release(&v1);
    CHECK_EQ_INT(atomic_load(&o.refs), 2); /* the moved child still holds the batch */
    CHECK(memcmp((const char *)moved.buffers[2], "sss", 3) == 0);
    moved.release(&moved);
    CHECK_EQ_INT(atomic_load(&o.refs), 1);
    CHECK_EQ_INT(o.batches[1].children[1]->length, 3); /* the owner's batches are untouched */
    o.batches[0].release(&o.batches[0]);
    o.batches[1].release(&o.batches[1]);
    o.schema.release(&o.schema);
}

static void test_stream_alloc_failures(void) {
    struct owner o;
    atomic_init(&o.refs, 1);
    make_schema(&o.schema);
    make_batch(&o.batches[0], 7);
    bool done = false;
    for (uint64_t k = 1; k < 100 && !done; k++) {
        struct ArrowArrayStream s;
        struct ArrowArray v = {0};
        struct ArrowSchema sc = {0};
        hx_alloc_fail_after(k);
        hx_status st = hx_arrow_stream_share(&o.schema, o.batches, 1, &o, owner_ref, owner_unref, &s);
        int rc = -1, rs = -1;
        if (st == HOIST_OK) {
            rs = s.get_schema(&s, &sc);
            rc = s.get_next(&s, &v);
            if (rc != 0) CHECK_CONTAINS(s.get_last_error(&s), "out of memory");
            s.release(&s);
        }
        hx_alloc_fail_after(0);
        if (sc.release) sc.release(&sc);
        if (v.release) v.release(&v);
        CHECK_EQ_INT(atomic_load(&o.refs), 1);
        done = st == HOIST_OK && rc == 0 && rs == 0;
    }
    CHECK(done);
    o.batches[0].release(&o.batches[0]);
    o.schema.release(&o.schema);
}

int main(void) {
    RUN(test_stream);
    RUN(test_basic_stream);
    RUN(test_shared_stream);
    RUN(test_stream_alloc_failures);
    TEST_MAIN_END();
}
