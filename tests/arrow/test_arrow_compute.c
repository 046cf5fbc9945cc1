/* The Arrow compute kernels (arrow_compute.c): type unification, widening
 * casts, row filters over flat, nested and dictionary arrays, and that every
 * failure path frees what it took. */
#include "arrow.h"
#include "test_harness.h"

#include <string.h>

/* A borrowed-buffer array whose release only marks it released. */
static int released;
static void mark_release(struct ArrowArray *a) {
    released++;
    a->release = NULL;
}

static struct ArrowArray borrowed(int64_t len, int64_t nulls, int nbuf, const void **bufs) {
    struct ArrowArray a = {
        .length = len, .null_count = nulls, .n_buffers = nbuf, .buffers = bufs, .release = mark_release};
    return a;
}

static void test_unify(void) {
    const char *u;
    CHECK(hx_arrow_unify_format("i", "l", &u) && !strcmp(u, "l"));
    CHECK(hx_arrow_unify_format("c", "s", &u) && !strcmp(u, "s"));
    CHECK(hx_arrow_unify_format("I", "i", &u) && !strcmp(u, "l"));
    CHECK(hx_arrow_unify_format("C", "c", &u) && !strcmp(u, "s"));
    CHECK(!hx_arrow_unify_format("L", "l", &u));
    CHECK(hx_arrow_unify_format("f", "g", &u) && !strcmp(u, "g"));
    CHECK(hx_arrow_unify_format("i", "f", &u) && !strcmp(u, "g"));
    CHECK(hx_arrow_unify_format("u", "u", &u) && !strcmp(u, "u"));
    CHECK(!hx_arrow_unify_format("u", "l", &u));
    CHECK(!hx_arrow_unify_format("tsu:", "tsm:", &u));
}

static void test_cast(void) {
    int32_t v[4] = {1, -2, 3, 2147483647};
    uint8_t valid = 0x0b; /* row 2 null */
    const void *b[2] = {&valid, v};
    struct ArrowArray a = borrowed(4, 1, 2, b), out;
    released = 0;
    CHECK_EQ_INT(hx_arrow_array_cast(&a, "i", "l", &out), HOIST_OK);
    CHECK_EQ_INT(released, 1);
    const int64_t *w = out.buffers[1];
    CHECK(w[0] == 1 && w[1] == -2 && w[3] == 2147483647);
    CHECK_EQ_INT(out.null_count, 1);
    CHECK_EQ_INT(((const uint8_t *)out.buffers[0])[0] & 0x0f, 0x0b);
    out.release(&out);
    a = borrowed(4, 0, 2, b);
    a.buffers = (const void *[]){NULL, v};
    CHECK_EQ_INT(hx_arrow_array_cast(&a, "i", "g", &out), HOIST_OK);
    CHECK(((const double *)out.buffers[1])[1] == -2.0);
    CHECK(out.buffers[0] == NULL);
    out.release(&out);
    a = borrowed(4, 0, 2, b);
    CHECK_EQ_INT(hx_arrow_array_cast(&a, "i", "u", &out), HOIST_ERR_ARROW_TYPE);
    a.release(&a);
}

static void test_filter_flat(void) {
    /* strings with an offset of 1 into the buffers */
    int32_t off[6] = {0, 1, 3, 6, 6, 10};
    const char *data = "abbcccdddd";
    uint8_t valid = 0x1f & ~(1u << 3);
    const void *b[3] = {&valid, off, data};
    struct ArrowArray a = borrowed(4, 1, 3, b), out;
    a.offset = 1; /* rows: "bb", "ccc", null, "dddd" */
    struct ArrowSchema s = {.format = "u"};
    uint8_t keep[4] = {1, 0, 1, 1};
    released = 0;
    CHECK_EQ_INT(hx_arrow_array_filter(&a, &s, keep, 3, &out), HOIST_OK);
    CHECK_EQ_INT(released, 1);
    CHECK_EQ_INT(out.length, 3);
    CHECK_EQ_INT(out.null_count, 1);
    const int32_t *o = out.buffers[1];
    CHECK(o[0] == 0 && o[1] == 2 && o[2] == 2 && o[3] == 6);
    CHECK(memcmp(out.buffers[2], "bbdddd", 6) == 0);
    CHECK_EQ_INT(((const uint8_t *)out.buffers[0])[0] & 7, 5);
    out.release(&out);

    uint8_t bits = 0xA5; /* 1,0,1,0,0,1,0,1 */
    const void *bb[2] = {NULL, &bits};
    struct ArrowArray bo = borrowed(8, 0, 2, bb);
    struct ArrowSchema bs = {.format = "b"};
    uint8_t k8[8] = {1, 1, 1, 0, 0, 1, 0, 1};
    CHECK_EQ_INT(hx_arrow_array_filter(&bo, &bs, k8, 5, &out), HOIST_OK);
    CHECK_EQ_INT(((const uint8_t *)out.buffers[1])[0] & 0x1f, 0x1d); /* 1,0,1,1,1 */
    out.release(&out);
}

/* Fixed-width values of every width, with an offset, a kept last row and a
 * dropped last row: the copy is branch-free and must neither lose a value
 * nor write past the kept count. */
static void test_filter_fixed_widths(void) {
    static const char *fmts[4] = {"c", "s", "i", "l"};
    uint8_t src[8 * 41];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 7 + 3);
    for (int drop_last = 0; drop_last < 2; drop_last++) {
        for (int f = 0; f < 4; f++) {
            size_t w = (size_t)1 << f;
            uint8_t keep[40];
            int64_t n = 0;
            for (int i = 0; i < 40; i++) n += keep[i] = (uint8_t)((i * 37 % 11) < 4 || i == 39);
            if (drop_last) {
                keep[39] = 0;
                n--;
            }
            const void *b[2] = {NULL, src};
            struct ArrowArray a = borrowed(40, 0, 2, b), out;
            a.offset = 1;
            struct ArrowSchema s = {.format = fmts[f]};
            CHECK_EQ_INT(hx_arrow_array_filter(&a, &s, keep, n, &out), HOIST_OK);
            CHECK_EQ_INT(out.length, n);
            const uint8_t *o = out.buffers[1];
            int64_t k = 0;
            for (int i = 0; i < 40; i++) {
                if (!keep[i]) continue;
                CHECK(memcmp(o + (size_t)k * w, src + (size_t)(i + 1) * w, w) == 0);
                k++;
            }
            CHECK_EQ_INT(k, n);
            out.release(&out);
        }
    }
    /* dictionary indices go through the same copy */
    int32_t idx[6] = {0, 2, 1, 2, 0, 1};
    double dict_vals[3] = {1.5, 2.5, 3.5};
    const void *db[2] = {NULL, dict_vals};
    struct ArrowArray dict = borrowed(3, 0, 2, db);
    const void *ib[2] = {NULL, idx};
    struct ArrowArray a = borrowed(6, 0, 2, ib), out;
    a.dictionary = &dict;
    struct ArrowSchema ds = {.format = "g"};
    struct ArrowSchema s = {.format = "i", .dictionary = &ds};
    uint8_t keep[6] = {0, 1, 1, 0, 0, 1};
    CHECK_EQ_INT(hx_arrow_array_filter(&a, &s, keep, 3, &out), HOIST_OK);
    const int32_t *o = out.buffers[1];
    CHECK(o[0] == 2 && o[1] == 1 && o[2] == 1);
    CHECK(out.dictionary && out.dictionary->length == 3);
    CHECK(((const double *)out.dictionary->buffers[1])[2] == 3.5);
    out.release(&out);
    if (dict.release) dict.release(&dict);
}

static void test_filter_list(void) {
    /* list<int16>: [1,2], [], [3], [4,5,6] */
    int16_t child_v[6] = {1, 2, 3, 4, 5, 6};
    const void *cb[2] = {NULL, child_v};
    struct ArrowArray child = borrowed(6, 0, 2, cb);
    child.release = NULL; /* owned by the parent */
    struct ArrowArray *children[1] = {&child};
    int32_t off[5] = {0, 2, 2, 3, 6};
    const void *lb[2] = {NULL, off};
    struct ArrowArray l = borrowed(4, 0, 2, lb);
    l.n_children = 1;
    l.children = children;
    struct ArrowSchema cs = {.format = "s"};
    struct ArrowSchema *csp[1] = {&cs};
    struct ArrowSchema ls = {.format = "+l", .n_children = 1, .children = csp};
    uint8_t keep[4] = {1, 0, 0, 1};
    struct ArrowArray out;
    CHECK_EQ_INT(hx_arrow_array_filter(&l, &ls, keep, 2, &out), HOIST_OK);
    const int32_t *o = out.buffers[1];
    CHECK(o[0] == 0 && o[1] == 2 && o[2] == 5);
    CHECK_EQ_INT(out.children[0]->length, 5);
    const int16_t *cv = out.children[0]->buffers[1];
    CHECK(cv[0] == 1 && cv[2] == 4 && cv[4] == 6);
    CHECK_EQ_INT(hx_arrow_array_bytes(&out, &ls), 12 + 10);
    out.release(&out);
}

int main(void) {
    RUN(test_unify);
    RUN(test_cast);
    RUN(test_filter_flat);
    RUN(test_filter_fixed_widths);
    RUN(test_filter_list);
    TEST_MAIN_END();
}
