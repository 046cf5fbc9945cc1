/* Tests for src/dataset/ds_csv_file.c: hoist_csv_read_file on plain, gzip
 * (two members), zstd and bzip2 (two streams) files gives the same rows; truncated and corrupt
 * compressed files fail with HOIST_ERR_IO, a missing file with NOT_FOUND;
 * every allocation failed in turn on a compressed read is NOMEM and leaks
 * nothing (under ASan); the file is unmapped once the read returns. */
#include "test_harness.h"
#include "ds_csv_internal.h"
#include "util_internal.h"

#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bzlib.h>
#include <zlib.h>
#include <zstd.h>

static char dir[] = "/tmp/hoist_csv_file_XXXXXX";

static char *write_file(const char *name, const void *data, size_t n) {
    char *p = hx_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n) abort();
    fclose(f);
    return p;
}

static size_t gzip_into(const char *src, size_t n, uint8_t *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return got;
}

/* Sum of column "id" and row count, or -1 on failure (status in *st). */
static int64_t read_sum(const char *path, enum hoist_status *st, int64_t *rows) {
    struct hoist_csv_options *o;
    if ((*st = hoist_csv_options_new(&o)) != HOIST_OK) return -1;
    if ((*st = hoist_csv_options_set_int(o, HOIST_CSV_BLOCK_SIZE, 4096)) != HOIST_OK ||
        (*st = hoist_csv_options_set_int(o, HOIST_CSV_THREADS, 2)) != HOIST_OK) {
        hoist_csv_options_free(o);
        return -1;
    }
    struct ArrowArrayStream s;
    *st = hoist_csv_read_file(path, o, &s, NULL, 0);
    hoist_csv_options_free(o);
    if (*st != HOIST_OK) return -1;
    int64_t sum = 0;
    *rows = 0;
    for (;;) {
        struct ArrowArray b;
        if (s.get_next(&s, &b) != 0 || !b.release) break;
        const int64_t *v = b.children[0]->buffers[1];
        for (int64_t i = 0; i < b.length; i++) sum += v[i];
        *rows += b.length;
        b.release(&b);
    }
    s.release(&s);
    return sum;
}

static char *text;
static size_t text_len;

static void make_text(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    if (hx_buf_append_str(&b, "id,name\n") != HOIST_OK) abort();
    for (int i = 0; i < 3000; i++)
        if (hx_buf_printf(&b, "%d,\"n%d\nx\"\n", i, i) != HOIST_OK) abort();
    text_len = b.len;
    text = hx_buf_detach(&b);
}

static void test_formats_agree(void) {
    enum hoist_status st;
    int64_t rows = 0, want = (int64_t)3000 * 2999 / 2;
    char *plain = write_file("t.csv", text, text_len);
    CHECK_EQ_INT(read_sum(plain, &st, &rows), want);
    CHECK_EQ_INT(rows, 3000);

    size_t cap = text_len + 1024, half = text_len / 2;
    uint8_t *gz = hx_malloc(2 * cap);
    size_t n1 = gzip_into(text, half, gz, cap), n2 = gzip_into(text + half, text_len - half, gz + n1, cap);
    char *gzp = write_file("t.csv.gz", gz, n1 + n2);
    CHECK_EQ_INT(read_sum(gzp, &st, &rows), want);
    CHECK_EQ_INT(rows, 3000);
    char *cut = write_file("cut.csv.gz", gz, n1 + n2 - 9);
    CHECK_EQ_INT(read_sum(cut, &st, &rows), -1);
    CHECK_EQ_INT(st, HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "cut.csv.gz: gzip data is truncated");
    gz[n1 + 40] ^= 0xff;
    char *bad = write_file("bad.csv.gz", gz, n1 + n2);
    CHECK_EQ_INT(read_sum(bad, &st, &rows), -1);
    CHECK(st == HOIST_ERR_IO || st == HOIST_ERR_CSV_PARSE);

    size_t zcap = ZSTD_compressBound(text_len);
    uint8_t *zs = hx_malloc(zcap);
    size_t zn = ZSTD_compress(zs, zcap, text, text_len, 3);
    CHECK(!ZSTD_isError(zn));
    char *zp = write_file("t.csv.zst", zs, zn);
    CHECK_EQ_INT(read_sum(zp, &st, &rows), want);
    char *zcut = write_file("cut.csv.zst", zs, zn - 5);
    CHECK_EQ_INT(read_sum(zcut, &st, &rows), -1);
    CHECK_EQ_INT(st, HOIST_ERR_IO);

    /* bzip2: two streams back to back (pbzip2's output), then cut short */
    unsigned bcap = (unsigned)(text_len + text_len / 50 + 1200), b1 = bcap, b2 = bcap;
    char *bz = hx_malloc(2 * (size_t)bcap);
    CHECK_EQ_INT(BZ2_bzBuffToBuffCompress(bz, &b1, text, (unsigned)half, 9, 0, 0), BZ_OK);
    CHECK_EQ_INT(BZ2_bzBuffToBuffCompress(bz + b1, &b2, text + half, (unsigned)(text_len - half), 9, 0, 0), BZ_OK);
    char *bzp = write_file("t.csv.bz2", bz, (size_t)b1 + b2);
    CHECK_EQ_INT(read_sum(bzp, &st, &rows), want);
    CHECK_EQ_INT(rows, 3000);
    char *bzcut = write_file("cut.csv.bz2", bz, (size_t)b1 + b2 - 7);
    CHECK_EQ_INT(read_sum(bzcut, &st, &rows), -1);
    CHECK_EQ_INT(st, HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "bzip2 data is truncated");
    bz[b1 + 60] ^= 0x55;
    char *bzbad = write_file("bad.csv.bz2", bz, (size_t)b1 + b2);
    CHECK_EQ_INT(read_sum(bzbad, &st, &rows), -1);
    CHECK(st == HOIST_ERR_IO || st == HOIST_ERR_CSV_PARSE);

    /* the whole-file inflate: three members, the first larger than the
     * last member's size (which sizes the buffer first), and an empty one */
    {
        size_t third = text_len / 3;
        uint8_t *g3 = hx_malloc(3 * cap + 64);
        size_t m1 = gzip_into(text, 2 * third, g3, cap);
        size_t m2 = gzip_into("", 0, g3 + m1, 64);
        size_t m3 = gzip_into(text + 2 * third, text_len - 2 * third, g3 + m1 + m2, cap);
        uint8_t *out = NULL;
        size_t olen = 0;
        CHECK(hx_ds_gunzip_whole(g3, m1 + m2 + m3, &out, &olen));
        CHECK(olen == text_len && out && memcmp(out, text, text_len) == 0);
        hx_free(out);
        CHECK(!hx_ds_gunzip_whole(g3, m1 + m2 + m3 - 9, &out, &olen)); /* cut: left to zlib */
        memcpy(g3 + m1 + m2 + m3, "junk", 4);
        CHECK(!hx_ds_gunzip_whole(g3, m1 + m2 + m3 + 4, &out, &olen)); /* trailing bytes */
        char *g3p = write_file("t3.csv.gz", g3, m1 + m2 + m3 + 4);
        CHECK_EQ_INT(read_sum(g3p, &st, &rows), -1); /* and zlib's reading of them fails */
        CHECK_EQ_INT(st, HOIST_ERR_IO);
        char *g3ok = write_file("t3ok.csv.gz", g3, m1 + m2 + m3);
        CHECK_EQ_INT(read_sum(g3ok, &st, &rows), want);
        CHECK_EQ_INT(rows, 3000);
        unlink(g3p);
        unlink(g3ok);
        hx_free(g3p);
        hx_free(g3ok);
        hx_free(g3);
    }

    char *missing = hx_asprintf("%s/missing.csv", dir);
    CHECK_EQ_INT(read_sum(missing, &st, &rows), -1);
    CHECK_EQ_INT(st, HOIST_ERR_NOT_FOUND);

    /* every allocation failed in turn on the compressed paths */
    const char *paths[] = {gzp, zp, bzp};
    for (int k = 0; k < 3; k++) {
        int ok = 0;
        for (uint64_t fail = 1; fail < 100000 && !ok; fail++) {
            hx_alloc_fail_after(fail);
            int64_t got = read_sum(paths[k], &st, &rows);
            hx_alloc_fail_after(0);
            if (st == HOIST_OK) {
                CHECK_EQ_INT(got, want);
                ok = 1;
            } else if (st != HOIST_ERR_NOMEM) {
                fprintf(stderr, "allocation %llu: status %d: %s\n", (unsigned long long)fail, st, hoist_errmsg());
                CHECK_EQ_INT(st, HOIST_ERR_NOMEM);
            }
        }
        CHECK(ok);
    }
    char *all[] = {plain, gzp, cut, bad, zp, zcut, bzp, bzcut, bzbad, missing};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        unlink(all[i]);
        hx_free(all[i]);
    }
    hx_free(gz);
    hx_free(zs);
    hx_free(bz);
}

/* ---- the gzip sink (push_gzip) ------------------------------------------- */

/* What a sink emitted; `room` > 0 offers that much space in place (the
 * decompression pipe's way), so in-place and copied text are both seen. */
struct collect {
    struct hx_buf text;
    size_t room;
};

static hx_status collect_emit(void *ud, const uint8_t *t, size_t n) {
    struct collect *c = ud;
    if (c->room && t == (const uint8_t *)c->text.data + c->text.len) { /* written in place */
        c->text.len += n;
        return HOIST_OK;
    }
    return hx_buf_append(&c->text, t, n);
}

static uint8_t *collect_room(void *ud, size_t *cap) {
    struct collect *c = ud;
    if (hx_buf_reserve(&c->text, c->room) != HOIST_OK) return NULL;
    *cap = c->room;
    return (uint8_t *)c->text.data + c->text.len;
}

/* Pushes raw in pieces of `piece` bytes (0: at once) through a gzip sink;
 * the status of push + end, the text in c. */
static enum hoist_status sink_run(const uint8_t *raw, size_t n, size_t piece, size_t room, struct collect *c) {
    hx_buf_init(&c->text);
    c->room = room;
    struct hx_ds_sink s = {.emit = collect_emit, .ud = c, .room = room ? collect_room : NULL, .name = "m.csv.gz"};
    enum hoist_status st = HOIST_OK;
    for (size_t off = 0; st == HOIST_OK && off < n;) {
        size_t k = piece && n - off > piece ? piece : n - off;
        st = hx_ds_sink_push(&s, raw + off, k);
        off += k;
    }
    if (st == HOIST_OK) st = hx_ds_sink_end(&s);
    hx_ds_sink_free(&s);
    return st;
}

/* gzip members of text[0, len) cut at cuts[0..ncut) (ascending), back to
 * back; *n gets the size. */
static uint8_t *members(const char *t, size_t len, const size_t *cuts, size_t ncut, size_t *n) {
    size_t cap = len + 1024 * (ncut + 1) + 64, at = 0, prev = 0;
    uint8_t *out = hx_malloc(cap);
    if (!out) abort();
    for (size_t i = 0; i <= ncut; i++) {
        size_t end = i < ncut ? cuts[i] : len;
        at += gzip_into(t + prev, end - prev, out + at, cap - at);
        prev = end;
    }
    *n = at;
    return out;
}

/* A wrong CRC-32 or size: zlib says "incorrect data check" or "incorrect
 * length check", ISA-L "incorrect data or length check". */
#define BAD_CHECK "m.csv.gz: gzip data is corrupt (incorrect "

/* Every way a gzip stream is read gives its text: one member, small
 * members (libdeflate each), a member boundary inside a quoted field, an
 * empty member, a member too big for a block amid small ones (zlib from
 * then on), pieces of every size down to one byte (members cut by the end
 * of a push: zlib), with and without room offered in place. */
static void test_gzip_sink_members(void) {
    /* ~3.2 MiB: quoted fields with line breaks all through */
    struct hx_buf b;
    hx_buf_init(&b);
    bool built = hx_buf_append_str(&b, "id,name\n") == HOIST_OK;
    for (int i = 0; i < 150000 && built; i++) built = hx_buf_printf(&b, "%d,\"n%d\nx, y\"\n", i, i) == HOIST_OK;
    CHECK(built);
    const char *t = b.data;
    size_t len = b.len;
    const char *q = strstr(t + 1000, "\"n");
    CHECK(q != NULL);
    size_t in_quote = (size_t)(q - t) + 3; /* right after "n<digit>: inside the quotes */
    size_t cuts[64], ncut = 0;
    cuts[ncut++] = in_quote;
    cuts[ncut++] = in_quote; /* an empty member */
    for (size_t at = 65536; at < (size_t)1 << 20; at += 65536) cuts[ncut++] = at;
    /* then one member of ~1.2 MiB (more than a block), then small ones */
    for (size_t at = ((size_t)1 << 20) + 1300000; at < len; at += 50000) cuts[ncut++] = at;
    CHECK(ncut < 64 && ncut > 20 && len > ((size_t)1 << 20) + 1300000 + 100000);
    size_t n1, nm;
    uint8_t *one = members(t, len, NULL, 0, &n1), *many = members(t, len, cuts, ncut, &nm);
    const size_t pieces[] = {0, ((size_t)8 << 20), 65536, 4099, 1};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++)
        for (size_t room = 0; room <= 7; room += 7) {
            if (pieces[k] == 1 && room == 0) continue; /* slow; 1-byte pieces once */
            struct collect c;
            CHECK_EQ_INT(sink_run(one, n1, pieces[k], room, &c), HOIST_OK);
            CHECK(c.text.len == len && memcmp(c.text.data, t, len) == 0);
            hx_buf_reset(&c.text);
            CHECK_EQ_INT(sink_run(many, nm, pieces[k], room ? 65536 + room : 0, &c), HOIST_OK);
            CHECK(c.text.len == len && memcmp(c.text.data, t, len) == 0);
            hx_buf_reset(&c.text);
        }
    /* an empty gzip file: a member of no text */
    uint8_t empty[64];
    size_t ne = gzip_into("", 0, empty, sizeof empty);
    struct collect c;
    CHECK_EQ_INT(sink_run(empty, ne, 0, 0, &c), HOIST_OK);
    CHECK(c.text.len == 0);
    hx_buf_reset(&c.text);
    /* cut inside the last member, or inside the trailer of a small one */
    CHECK_EQ_INT(sink_run(many, nm - 3, 0, 0, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "m.csv.gz: gzip data is truncated");
    hx_buf_reset(&c.text);
    CHECK_EQ_INT(sink_run(one, n1 / 2, 65536, 0, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "m.csv.gz: gzip data is truncated");
    hx_buf_reset(&c.text);
    /* a wrong CRC in the trailer of a small member (libdeflate refuses it,
     * zlib names it) and of the one-member stream */
    uint8_t *bad = hx_malloc((nm > n1 ? nm : n1) + 32);
    CHECK(bad != NULL);
    uint8_t *tmp = hx_malloc(cuts[0] + 1024);
    CHECK(tmp != NULL);
    size_t m0 = gzip_into(t, cuts[0], tmp, cuts[0] + 1024); /* the first member's size */
    hx_free(tmp);
    memcpy(bad, many, nm);
    bad[m0 - 8] ^= 0x01; /* CRC-32 is the trailer's first four bytes (RFC 1952 section 2.3.1) */
    CHECK_EQ_INT(sink_run(bad, nm, 0, 0, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), BAD_CHECK);
    hx_buf_reset(&c.text);
    memcpy(bad, one, n1);
    bad[n1 - 6] ^= 0x10;
    CHECK_EQ_INT(sink_run(bad, n1, 65536, 7, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), BAD_CHECK);
    hx_buf_reset(&c.text);
    memcpy(bad, one, n1);
    bad[n1 - 4] ^= 0x01; /* ISIZE, the trailer's last four bytes; the trailer cut across pushes */
    CHECK_EQ_INT(sink_run(bad, n1, 4099, 0, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), BAD_CHECK);
    hx_buf_reset(&c.text);
    CHECK_EQ_INT(sink_run(bad, n1, 1, 0, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), BAD_CHECK);
    hx_buf_reset(&c.text);
    /* bytes after the last member that are no member */
    memcpy(bad, many, nm);
    memcpy(bad + nm, "trailing junk, not gzip at all..", 32);
    CHECK_EQ_INT(sink_run(bad, nm + 32, 0, 0, &c), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "m.csv.gz: gzip data is corrupt");
    hx_buf_reset(&c.text);
    hx_free(bad);
    hx_free(one);
    hx_free(many);
    hx_buf_reset(&b);
}

/* "rows|sum of a|sum of b|bytes of c" of a stream, or NULL. */
static char *summary(struct ArrowArrayStream *s) {
    int64_t rows = 0, sa = 0, sc = 0;
    double sb = 0;
    struct ArrowArray b;
    while (s->get_next(s, &b) == 0 && b.release) {
        const int64_t *a = b.children[0]->buffers[1];
        const double *v = b.children[1]->buffers[1];
        const int32_t *off = b.children[2]->buffers[1];
        for (int64_t i = 0; i < b.length; i++) sa += a[i], sb += v[i];
        sc += off[b.length] - off[0];
        rows += b.length;
        b.release(&b);
    }
    s->release(s);
    return hx_asprintf("%lld|%lld|%.17g|%lld", (long long)rows, (long long)sa, sb, (long long)sc);
}

/* A plain file's parsed pages are dropped from the mapping as chunks
 * finish (drop_parsed); chunks read again after that — the last rows widen
 * column b from int64 to double, so every chunk is converted again, and
 * quoted line breaks fool chunk starts — still read the right bytes: the
 * file read equals the same bytes read from memory. */
static void test_mapped_pages_dropped(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    CHECK(hx_buf_append_str(&b, "a,b,c\n") == HOIST_OK);
    bool built = true;
    for (int i = 0; i < 40000; i++)
        built &= hx_buf_printf(&b, i < 39990 ? "%d,%d,\"s%d\n,x\"\n" : "%d,%d.5,\"s%d\"\n", i, i % 97, i) == HOIST_OK;
    CHECK(built);
    char *path = write_file("big.csv", b.data, b.len);
    struct hoist_csv_options *o;
    CHECK(hoist_csv_options_new(&o) == HOIST_OK);
    CHECK(hoist_csv_options_set_int(o, HOIST_CSV_BLOCK_SIZE, 3 * 4096 + 17) == HOIST_OK);
    CHECK(hoist_csv_options_set_int(o, HOIST_CSV_THREADS, 2) == HOIST_OK);
    struct ArrowArrayStream s1, s2;
    CHECK(hoist_csv_read_file(path, o, &s1, NULL, 0) == HOIST_OK);
    CHECK(hoist_csv_read_memory(b.data, b.len, o, &s2, NULL, 0) == HOIST_OK);
    char *got = summary(&s1), *want = summary(&s2);
    CHECK_STR(got, want);
    CHECK_CONTAINS(want, "40000|");
    hx_free(got);
    hx_free(want);
    hoist_csv_options_free(o);
    unlink(path);
    hx_free(path);
    hx_buf_reset(&b);
}

/* zstd text of several pipe blocks (1 MiB each) goes through the
 * decompression thread: the same rows as from memory; a bad row near the
 * end stops the parse with its line, and the producer, blocked on a full
 * queue or not, is stopped and joined (ASan: nothing leaks). */
static void test_pipe_blocks(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    bool built = hx_buf_append_str(&b, "a,b,c\n") == HOIST_OK;
    for (int i = 0; i < 900000; i++) built &= hx_buf_printf(&b, "%d,%d,\"t%d\"\n", i, i % 7, i) == HOIST_OK;
    CHECK(built);
    CHECK(b.len > 3 * ((size_t)4 << 20));
    size_t zcap = ZSTD_compressBound(b.len);
    uint8_t *zs = hx_malloc(zcap);
    size_t zn = ZSTD_compress(zs, zcap, b.data, b.len, 1);
    CHECK(!ZSTD_isError(zn));
    char *zp = write_file("big.csv.zst", zs, zn);
    struct hoist_csv_options *o;
    CHECK(hoist_csv_options_new(&o) == HOIST_OK);
    CHECK(hoist_csv_options_set_int(o, HOIST_CSV_THREADS, 2) == HOIST_OK);
    struct ArrowArrayStream s1, s2;
    CHECK(hoist_csv_read_file(zp, o, &s1, NULL, 0) == HOIST_OK);
    CHECK(hoist_csv_read_memory(b.data, b.len, o, &s2, NULL, 0) == HOIST_OK);
    struct ArrowArray a;
    int64_t rows = 0, sum = 0;
    while (s1.get_next(&s1, &a) == 0 && a.release) {
        for (int64_t i = 0; i < a.length; i++) sum += ((const int64_t *)a.children[0]->buffers[1])[i];
        rows += a.length;
        a.release(&a);
    }
    s1.release(&s1);
    CHECK_EQ_INT(rows, 900000);
    CHECK_EQ_INT(sum, (int64_t)900000 * 899999 / 2);
    CHECK_EQ_INT(th_drain_stream(&s2), 900000);
    s2.release(&s2);
    /* a ragged row in the last block */
    CHECK(hx_buf_append_str(&b, "1,2\n") == HOIST_OK);
    for (int i = 0; i < 1000; i++) CHECK(hx_buf_append_str(&b, "1,2,x\n") == HOIST_OK);
    zcap = ZSTD_compressBound(b.len);
    uint8_t *zs2 = hx_realloc(zs, zcap);
    CHECK(zs2 != NULL);
    zs = zs2;
    zn = ZSTD_compress(zs, zcap, b.data, b.len, 1);
    char *bad = write_file("bad.csv.zst", zs, zn);
    CHECK_EQ_INT(hoist_csv_read_file(bad, o, &s1, NULL, 0), HOIST_ERR_CSV_PARSE);
    CHECK_CONTAINS(hoist_errmsg(), "line 900002");
    CHECK_CONTAINS(hoist_errmsg(), "expected 3 fields, found 2");
    hoist_csv_options_free(o);
    unlink(zp);
    unlink(bad);
    hx_free(zp);
    hx_free(bad);
    hx_free(zs);
    hx_buf_reset(&b);
}

#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_CHECKED 0
#endif
#endif
#ifndef RSS_CHECKED
#define RSS_CHECKED 1
#endif

/* A /proc/self/status field in KiB, or -1. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') v = atol(line + n + 1);
    fclose(f);
    return v;
}

/* Reads column id of path in a child and returns how much its peak RSS
 * (VmHWM, which starts at the child's size after the fork) grew, in KiB;
 * -1 when the read failed or the bound cannot be checked (ASan builds
 * differ in memory; under valgrind, whose preload is in LD_PRELOAD, RSS is
 * valgrind's own). */
static long child_peak_growth(const char *path, int64_t rows) {
    int fd[2];
    CHECK(pipe(fd) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        long before = status_kib("VmRSS");
        struct hoist_csv_options *o;
        if (hoist_csv_options_new(&o) != HOIST_OK) _exit(2);
        const char *cols[] = {"id"};
        if (hoist_csv_options_set_strings(o, HOIST_CSV_COLUMNS, cols, 1) != HOIST_OK ||
            hoist_csv_options_set_int(o, HOIST_CSV_THREADS, 2) != HOIST_OK)
            _exit(2);
        struct ArrowArrayStream s;
        if (hoist_csv_read_file(path, o, &s, NULL, 0) != HOIST_OK) _exit(3);
        if (th_drain_stream(&s) != rows) _exit(4);
        s.release(&s);
        hoist_csv_options_free(o);
        const char *preload = getenv("LD_PRELOAD");
        bool checked = RSS_CHECKED && !(preload && strstr(preload, "vgpreload"));
        long grew = checked && before > 0 ? status_kib("VmHWM") - before : -1;
        _exit(write(fd[1], &grew, sizeof grew) == (ssize_t)sizeof grew ? 0 : 5);
    }
    close(fd[1]);
    long grew = -2;
    CHECK(read(fd[0], &grew, sizeof grew) == (ssize_t)sizeof grew);
    close(fd[0]);
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK(WIFEXITED(ws));
    CHECK_EQ_INT(WEXITSTATUS(ws), 0);
    return grew;
}

/* File-level, so a child that exits while they are allocated leaves them
 * reachable (valgrind counts a pointer left only in a register as lost). */
static char *zst_path, *gz_path;

/* Neither the compressed bytes of a local file nor its text stay resident
 * while it is parsed: a read of ~120 MiB of text whose table is small (one
 * int64 column of 900,000 rows, 7 MiB) peaks well below the compressed
 * size. zstd: push_map drops each consumed slice of the mapping (before,
 * the peak grew 70 MiB for a 60 MiB file; after, 16 MiB). gzip: inflated
 * a few blocks at a time (push_gzip), not whole (before, the peak grew by
 * all of the text, ~125 MiB). */
static void test_compressed_pages_dropped(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    bool built = hx_buf_append_str(&b, "id,h\n") == HOIST_OK;
    uint64_t rng = 99;
    char hex[129];
    for (int i = 0; i < 900000 && built; i++) {
        for (int k = 0; k < 128; k += 16) {
            uint64_t r = th_xorshift(&rng);
            for (int j = 0; j < 16; j++) hex[k + j] = "0123456789abcdef"[(r >> (4 * j)) & 15];
        }
        hex[128] = 0;
        built &= hx_buf_printf(&b, "%d,%s\n", i, hex) == HOIST_OK;
    }
    CHECK(built);
    size_t zcap = ZSTD_compressBound(b.len);
    uint8_t *zs = hx_malloc(zcap);
    CHECK(zs != NULL);
    size_t zn = ZSTD_compress(zs, zcap, b.data, b.len, 1);
    CHECK(!ZSTD_isError(zn));
    CHECK(zn > ((size_t)50 << 20));
    zst_path = write_file("wide.csv.zst", zs, zn);
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t gcap = deflateBound(&z, (uLong)b.len);
    uint8_t *gz = zs; /* reused */
    if (gcap > zcap) gz = hx_realloc(zs, gcap);
    CHECK(gz != NULL);
    z.next_in = (Bytef *)b.data;
    z.avail_in = (uInt)b.len;
    z.next_out = gz;
    z.avail_out = (uInt)gcap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t gn = gcap - z.avail_out;
    deflateEnd(&z);
    gz_path = write_file("wide.csv.gz", gz, gn);
    hx_free(gz);
    size_t text_kib = b.len >> 10;
    hx_buf_reset(&b);

    long zgrew = child_peak_growth(zst_path, 900000), ggrew = child_peak_growth(gz_path, 900000);
    fprintf(stderr, "text %zu KiB; zstd %zu KiB: peak RSS grew %ld KiB; gzip %zu KiB: grew %ld KiB\n", text_kib,
            zn >> 10, zgrew, gn >> 10, ggrew);
    CHECK(zgrew < (long)(zn >> 10) / 2);
    CHECK(ggrew < (long)text_kib / 6);
    unlink(zst_path);
    unlink(gz_path);
    hx_free(zst_path);
    hx_free(gz_path);
    zst_path = gz_path = NULL;
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    make_text();
    RUN(test_formats_agree);
    RUN(test_gzip_sink_members);
    RUN(test_mapped_pages_dropped);
    RUN(test_pipe_blocks);
    RUN(test_compressed_pages_dropped);
    hx_free(text);
    rmdir(dir);
    TEST_MAIN_END();
}
