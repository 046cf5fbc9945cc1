/* write_test_gen.h: the input stream the write tests share, BATCHES
 * batches of ROWS rows of three columns (k int64 with nulls, x int64, s
 * utf8 with nulls), built with the library's own Arrow helpers so that an
 * allocation failure injected into them is one the write must survive. */
#ifndef HOIST_WRITE_TEST_GEN_H
#define HOIST_WRITE_TEST_GEN_H

#include "arrow_internal.h"
#include "util_internal.h"

#include <stdio.h>
#include <string.h>

#define ROWS 60
#define BATCHES 3

struct gen {
    int next;
};

static hx_status gen_schema(void *state, struct ArrowSchema *out) {
    HX_TRY(hx_arrow_schema_init(out, "+s", "", 0));
    hx_status s = hx_arrow_schema_alloc_children(out, 3);
    if (s == HOIST_OK) s = hx_arrow_schema_init(out->children[0], "l", "k", 2);
    if (s == HOIST_OK) s = hx_arrow_schema_init(out->children[1], "l", "x", 0);
    if (s == HOIST_OK) s = hx_arrow_schema_init(out->children[2], "u", "s", 2);
    if (s != HOIST_OK) out->release(out);
    return s;
}

static void *block(size_t n) { return hx_aligned_alloc(n ? n : 1); }

/* Called before the second batch, when set: a test acting while a write is
 * in the middle of its input. */
static void (*gen_between_batches)(void);

/* k = row % 5 (null every 7th row), x = row, s = "v<row>" (null every 11th). */
static hx_status gen_next(void *state, struct ArrowArray *out) {
    struct gen *g = state;
    memset(out, 0, sizeof *out);
    if (g->next == 1 && gen_between_batches) gen_between_batches();
    if (g->next == BATCHES) return HOIST_OK;
    int b = g->next++;
    HX_TRY(hx_arrow_array_init(out, ROWS, 1, 3));
    hx_status s = hx_arrow_array_init(out->children[0], ROWS, 2, 0);
    if (s == HOIST_OK) s = hx_arrow_array_init(out->children[1], ROWS, 2, 0);
    if (s == HOIST_OK) s = hx_arrow_array_init(out->children[2], ROWS, 3, 0);
    uint8_t *kv = s == HOIST_OK ? block(8) : NULL, *sv = s == HOIST_OK ? block(8) : NULL;
    int64_t *k = s == HOIST_OK ? block(ROWS * 8) : NULL, *x = s == HOIST_OK ? block(ROWS * 8) : NULL;
    int32_t *so = s == HOIST_OK ? block((ROWS + 1) * 4) : NULL;
    char *sd = s == HOIST_OK ? block(ROWS * 8) : NULL;
    if (s == HOIST_OK && (!kv || !sv || !k || !x || !so || !sd)) s = HOIST_ERR_NOMEM;
    if (s != HOIST_OK) {
        hx_aligned_free(kv), hx_aligned_free(sv), hx_aligned_free(k), hx_aligned_free(x);
        hx_aligned_free(so), hx_aligned_free(sd);
        out->release(out);
        memset(out, 0, sizeof *out);
        return s == HOIST_ERR_NOMEM ? hx_error(s, "out of memory") : s;
    }
    memset(kv, 0, 8);
    memset(sv, 0, 8);
    int kn = 0, sn = 0, pos = 0;
    so[0] = 0;
    for (int i = 0; i < ROWS; i++) {
        int r = b * ROWS + i;
        k[i] = r % 5;
        x[i] = r;
        if (r % 7 == 3)
            kn++;
        else
            kv[i >> 3] |= (uint8_t)(1u << (i & 7));
        if (r % 11 == 4)
            sn++;
        else {
            sv[i >> 3] |= (uint8_t)(1u << (i & 7));
            pos += snprintf(sd + pos, 8, "v%d", r);
        }
        so[i + 1] = pos;
    }
    hx_arrow_array_set_buffer(out->children[0], 0, kv);
    hx_arrow_array_set_buffer(out->children[0], 1, k);
    out->children[0]->null_count = kn;
    hx_arrow_array_set_buffer(out->children[1], 1, x);
    hx_arrow_array_set_buffer(out->children[2], 0, sv);
    hx_arrow_array_set_buffer(out->children[2], 1, so);
    hx_arrow_array_set_buffer(out->children[2], 2, sd);
    out->children[2]->null_count = sn;
    return HOIST_OK;
}

static void gen_free(void *state) { hx_free(state); }

static const struct hx_arrow_stream_ops gen_ops = {gen_schema, gen_next, gen_free};

static int make_stream(struct ArrowArrayStream *s) {
    struct gen *g = hx_calloc(1, sizeof *g);
    return g && hx_arrow_stream_init(s, &gen_ops, g) == HOIST_OK;
}

#endif /* HOIST_WRITE_TEST_GEN_H */
