/* Tests for src/dataset/ds_csv_dataset.c and ds_csv_scan.c: a CSV dataset
 * of Hive partitions (plain and gzip files) opened with format CSV gives
 * every row, with the partition column; a filter prunes partitions (the
 * files are never read) and drops rows per batch; projection, a limit and
 * a scan released half-way (the producer thread stops, nothing leaks under
 * ASan); the first file's schema applies to all, so a later value that
 * does not fit fails naming its file and line, unless the filter, which runs
 * inside each chunk, drops its row first; shards are whole files. */
#include "test_harness.h"
#include "util_internal.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/hoist_csv_ds_XXXXXX";
static char *files[16];
static size_t nfiles;

static void write_file(const char *name, const void *data, size_t n) {
    char *p = hx_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n) abort();
    fclose(f);
    files[nfiles++] = p;
}

/* month=M/partK.csv[.gz]: ids base..base+n-1, text with quoted newlines. */
static void write_part(int month, int k, int base, int n, bool gz) {
    struct hx_buf b;
    hx_buf_init(&b);
    if (hx_buf_append_str(&b, "id,name,fare\n") != HOIST_OK) abort();
    for (int i = base; i < base + n; i++)
        if (hx_buf_printf(&b, "%d,\"n%d\nx\",%d.5\n", i, i % 9, i % 100) != HOIST_OK) abort();
    char *sub = hx_asprintf("%s/month=%d", dir, month);
    mkdir(sub, 0755);
    hx_free(sub);
    char *name = hx_asprintf("month=%d/part%d.csv%s", month, k, gz ? ".gz" : "");
    if (!gz) {
        write_file(name, b.data, b.len);
    } else {
        uLongf cap = compressBound((uLong)b.len) + 64;
        uint8_t *out = hx_malloc(cap);
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
        z.next_in = (Bytef *)b.data;
        z.avail_in = (uInt)b.len;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
        write_file(name, out, cap - z.avail_out);
        deflateEnd(&z);
        hx_free(out);
    }
    hx_free(name);
    hx_buf_reset(&b);
}

static enum hoist_status open_ds(const char *filter, const char *const *cols, size_t ncols, int64_t limit,
                                 struct hoist_dataset **ds) {
    struct hoist_dataset_config *cfg;
    enum hoist_status st = hoist_dataset_config_new(&cfg);
    if (st == HOIST_OK) st = hoist_dataset_config_set_format(cfg, HOIST_DATASET_CSV);
    if (st == HOIST_OK) st = hoist_dataset_config_set_threads(cfg, 2);
    if (st == HOIST_OK && filter) st = hoist_dataset_config_set_filter(cfg, filter);
    if (st == HOIST_OK && ncols) st = hoist_dataset_config_set_columns(cfg, cols, ncols);
    if (st == HOIST_OK && limit >= 0) st = hoist_dataset_config_set_limit(cfg, limit);
    const char *urls[1] = {dir};
    if (st == HOIST_OK) st = hoist_dataset_open(NULL, urls, 1, cfg, ds);
    hoist_dataset_config_free(cfg);
    return st;
}

/* Rows and the sum of column `col` (int64 or int32) over a whole load. */
static int64_t load_sum(struct hoist_dataset *ds, int col, int64_t *rows) {
    struct ArrowArrayStream s;
    enum hoist_status st = hoist_dataset_load(ds, &s);
    CHECK_EQ_INT(st, HOIST_OK);
    if (st != HOIST_OK) return -1;
    struct ArrowSchema sc;
    CHECK_EQ_INT(s.get_schema(&s, &sc), 0);
    bool i32 = sc.children[col]->format[0] == 'i';
    sc.release(&sc);
    int64_t sum = 0;
    *rows = 0;
    for (;;) {
        struct ArrowArray b;
        if (s.get_next(&s, &b) != 0 || !b.release) break;
        const struct ArrowArray *c = b.children[col];
        for (int64_t i = 0; i < b.length; i++)
            sum +=
                i32 ? ((const int32_t *)c->buffers[1])[c->offset + i] : ((const int64_t *)c->buffers[1])[c->offset + i];
        *rows += b.length;
        b.release(&b);
    }
    s.release(&s);
    return sum;
}

static void test_load_filter_limit(void) {
    struct hoist_dataset *ds;
    int64_t rows;
    CHECK_EQ_INT(open_ds(NULL, NULL, 0, -1, &ds), HOIST_OK);
    struct ArrowSchema sc;
    CHECK_EQ_INT(hoist_dataset_schema(ds, &sc), HOIST_OK);
    CHECK_EQ_INT(sc.n_children, 4);
    CHECK_STR(sc.children[3]->name, "month");
    CHECK_STR(sc.children[0]->format, "l");
    CHECK_STR(sc.children[2]->format, "g");
    sc.release(&sc);
    /* ids 0..5999 in six files */
    CHECK_EQ_INT(load_sum(ds, 0, &rows), (int64_t)6000 * 5999 / 2);
    CHECK_EQ_INT(rows, 6000);
    hoist_dataset_close(ds);

    /* month=2 only: month 1 and 3 files are pruned, then rows filtered */
    const char *cols[] = {"id", "month"};
    CHECK_EQ_INT(open_ds("month = 2 AND id < 2100", cols, 2, -1, &ds), HOIST_OK);
    struct hoist_dataset_stats st;
    hoist_dataset_get_stats(ds, &st, sizeof st);
    CHECK_EQ_INT(st.row_groups, 6);
    CHECK_EQ_INT(st.row_groups_pruned, 4);
    CHECK_EQ_INT(load_sum(ds, 0, &rows), (int64_t)(2000 + 2099) * 100 / 2);
    CHECK_EQ_INT(rows, 100);
    CHECK_EQ_INT(load_sum(ds, 1, &rows), 200);
    hoist_dataset_close(ds);

    /* only a partition column; a filter on a column not loaded */
    const char *month[] = {"month"};
    CHECK_EQ_INT(open_ds("fare > 98", month, 1, -1, &ds), HOIST_OK);
    /* fare = id % 100 + 0.5: ids ending in 98, 99, 20 a file, two files a month */
    CHECK_EQ_INT(load_sum(ds, 0, &rows), 40 * (1 + 2 + 3));
    CHECK_EQ_INT(rows, 120);
    hoist_dataset_close(ds);

    CHECK_EQ_INT(open_ds(NULL, cols, 2, 1500, &ds), HOIST_OK);
    CHECK_EQ_INT(load_sum(ds, 0, &rows), (int64_t)1500 * 1499 / 2);
    CHECK_EQ_INT(rows, 1500);
    hoist_dataset_close(ds);

    CHECK_EQ_INT(open_ds("nope = 1", NULL, 0, -1, &ds), HOIST_ERR_FILTER);
}

/* A stream released after one batch stops the producer thread. */
static void test_scan_released_early(void) {
    struct hoist_dataset *ds;
    CHECK_EQ_INT(open_ds(NULL, NULL, 0, -1, &ds), HOIST_OK);
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_dataset_scan(ds, &s), HOIST_OK);
    hoist_dataset_close(ds); /* the stream keeps it alive */
    struct ArrowArray b;
    CHECK_EQ_INT(s.get_next(&s, &b), 0);
    CHECK(b.release != NULL);
    CHECK(b.length > 0);
    b.release(&b);
    s.release(&s);
}

static void test_shards_are_files(void) {
    struct hoist_dataset *ds;
    CHECK_EQ_INT(open_ds("month >= 2", NULL, 0, -1, &ds), HOIST_OK);
    struct hoist_shard *sh;
    size_t n;
    CHECK_EQ_INT(hoist_dataset_shards(ds, 3, 0, &sh, &n), HOIST_OK);
    CHECK_EQ_INT(n, 3);
    size_t urls = 0;
    for (size_t i = 0; i < n; i++) {
        urls += sh[i].count;
        CHECK_EQ_INT(sh[i].rows, -1);
        for (size_t k = 0; k < sh[i].count; k++) CHECK(strstr(sh[i].urls[k], "#rg=") == NULL);
    }
    CHECK_EQ_INT(urls, 4);
    hoist_dataset_shards_free(sh, n);
    hoist_dataset_close(ds);
}

static void test_later_file_does_not_fit(void) {
    write_part(4, 0, 6000, 10, false);
    write_file("month=4/part1.csv", "id,name,fare\n1,a,2.5\n2,b,not-a-number\n", 38);
    struct hoist_dataset *ds;
    CHECK_EQ_INT(open_ds(NULL, NULL, 0, -1, &ds), HOIST_OK);
    struct ArrowArrayStream s;
    CHECK_EQ_INT(hoist_dataset_load(ds, &s), HOIST_ERR_CSV_PARSE);
    CHECK_CONTAINS(hoist_errmsg(), "month=4/part1.csv: line 3");
    hoist_dataset_close(ds);
    /* the filter runs inside the chunk before the other columns convert:
     * the row it drops never has its 'fare' converted */
    const char *fare[] = {"fare"};
    int64_t rows;
    CHECK_EQ_INT(open_ds("id < 2 AND month = 4", fare, 1, -1, &ds), HOIST_OK);
    struct ArrowSchema sc;
    CHECK_EQ_INT(hoist_dataset_load(ds, &s), HOIST_OK);
    CHECK_EQ_INT(s.get_schema(&s, &sc), 0);
    CHECK_STR(sc.children[0]->format, "g");
    sc.release(&sc);
    struct ArrowArray b;
    rows = 0;
    for (;;) {
        CHECK_EQ_INT(s.get_next(&s, &b), 0);
        if (!b.release) break;
        rows += b.length;
        CHECK(((const double *)b.children[0]->buffers[1])[b.children[0]->offset] == 2.5);
        b.release(&b);
    }
    CHECK_EQ_INT(rows, 1);
    s.release(&s);
    hoist_dataset_close(ds);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    write_part(1, 0, 0, 1000, false);
    write_part(1, 1, 1000, 1000, true);
    write_part(2, 0, 2000, 1000, true);
    write_part(2, 1, 3000, 1000, false);
    write_part(3, 0, 4000, 1000, false);
    write_part(3, 1, 5000, 1000, true);
    RUN(test_load_filter_limit);
    RUN(test_scan_released_early);
    RUN(test_shards_are_files);
    RUN(test_later_file_does_not_fit);
    for (size_t i = 0; i < nfiles; i++) {
        unlink(files[i]);
        hx_free(files[i]);
    }
    for (int m = 1; m <= 4; m++) {
        char *sub = hx_asprintf("%s/month=%d", dir, m);
        rmdir(sub);
        hx_free(sub);
    }
    rmdir(dir);
    TEST_MAIN_END();
}
