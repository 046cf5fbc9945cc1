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

/* The compressed bytes of a local file are not kept resident while its
 * text is parsed (push_map drops each consumed slice of the mapping): a
 * read of a ~60 MiB .zst whose table is small (one int64 column of ~1 M
 * rows) peaks well below the compressed size. Measured in a child, whose
 * peak (VmHWM) starts at its size after the fork; ASan builds differ in
 * memory and skip the bound. */
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
    char *zp = write_file("wide.csv.zst", zs, zn);
    hx_free(zs);
    hx_buf_reset(&b);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        long before = status_kib("VmRSS");
        struct hoist_csv_options *o;
        if (hoist_csv_options_new(&o) != HOIST_OK) _exit(2);
        const char *cols[] = {"id"};
        if (hoist_csv_options_set_strings(o, HOIST_CSV_COLUMNS, cols, 1) != HOIST_OK ||
            hoist_csv_options_set_int(o, HOIST_CSV_THREADS, 2) != HOIST_OK)
            _exit(2);
        struct ArrowArrayStream s;
        if (hoist_csv_read_file(zp, o, &s, NULL, 0) != HOIST_OK) _exit(3);
        if (th_drain_stream(&s) != 900000) _exit(4);
        s.release(&s);
        hoist_csv_options_free(o);
        long grew = status_kib("VmHWM") - before;
        fprintf(stderr, "compressed %zu KiB, peak RSS grew %ld KiB\n", zn >> 10, grew);
        hx_free(zp);
        /* Under valgrind (its preload is in LD_PRELOAD) RSS is valgrind's own. */
        const char *preload = getenv("LD_PRELOAD");
        bool checked = RSS_CHECKED && !(preload && strstr(preload, "vgpreload"));
        /* before the slices were dropped it grew by more than the file */
        _exit(!checked || (before > 0 && grew < (long)(zn >> 10) / 2) ? 0 : 5);
    }
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK(WIFEXITED(ws));
    CHECK_EQ_INT(WEXITSTATUS(ws), 0);
    unlink(zp);
    hx_free(zp);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    make_text();
    RUN(test_formats_agree);
    RUN(test_mapped_pages_dropped);
    RUN(test_pipe_blocks);
    RUN(test_compressed_pages_dropped);
    hx_free(text);
    rmdir(dir);
    TEST_MAIN_END();
}
