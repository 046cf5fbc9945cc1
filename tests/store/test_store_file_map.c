/* Tests for src/store/store_file_map.c: mapping a local file read-only. */
#include "file_map.h"
#include "test_harness.h"

#include <unistd.h>

static char *temp_file(const void *data, size_t len) {
    char *path = hx_asprintf("/tmp/hoist-file-map-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, data, len) == (ssize_t)len);
        close(fd);
    }
    return path;
}

static void test_maps_the_bytes(void) {
    static const char text[] = "hoist maps this file";
    char *path = temp_file(text, sizeof text - 1);
    struct hx_file_map map;
    CHECK_EQ_INT(hx_file_map_open(path, &map), HOIST_OK);
    CHECK_EQ_INT(map.size, sizeof text - 1);
    CHECK(map.base != NULL);
    CHECK(map.data != NULL && memcmp(map.data, text, sizeof text - 1) == 0);
    hx_file_map_close(&map);
    CHECK(map.base == NULL && map.data == NULL && map.size == 0);
    hx_file_map_close(&map); /* closing twice is a no-op */
    unlink(path);
    hx_free(path);
}

static void test_empty_file(void) {
    char *path = temp_file("", 0);
    struct hx_file_map map;
    CHECK_EQ_INT(hx_file_map_open(path, &map), HOIST_OK);
    CHECK_EQ_INT(map.size, 0);
    CHECK(map.base == NULL);
    CHECK(map.data != NULL); /* "" so callers never see NULL bytes */
    hx_file_map_close(&map);
    unlink(path);
    hx_free(path);
}

static void test_failures_name_the_path(void) {
    struct hx_file_map map;
    CHECK_EQ_INT(hx_file_map_open("/nonexistent/hoist/x.bin", &map), HOIST_ERR_NOT_FOUND);
    CHECK_CONTAINS(hoist_errmsg(), "/nonexistent/hoist/x.bin: cannot open");
    CHECK(map.base == NULL && map.size == 0);
    CHECK_EQ_INT(hx_file_map_open("/tmp", &map), HOIST_ERR_IO);
    CHECK_CONTAINS(hoist_errmsg(), "/tmp: not a regular file");
    CHECK(map.base == NULL && map.size == 0);
    CHECK_EQ_INT(hx_file_map_open(NULL, &map), HOIST_ERR_INVALID_ARG);
    hx_file_map_close(NULL);
}

int main(void) {
    RUN(test_maps_the_bytes);
    RUN(test_empty_file);
    RUN(test_failures_name_the_path);
    TEST_MAIN_END();
}
