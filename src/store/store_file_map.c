/* A local file mapped read-only into memory (file_map.h): the page cache
 * serves the bytes in place, with no copy and no read loop, which is what a
 * decoder that wants the whole file at once needs. */
#include "file_map.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

hx_status hx_file_map_open(const char *path, struct hx_file_map *map) {
    HX_FAIL_IF(!path || !map, HOIST_ERR_INVALID_ARG, "hx_file_map_open: NULL argument");
    *map = (struct hx_file_map){(const uint8_t *)"", 0, NULL};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        HX_FAIL(errno == ENOENT ? HOIST_ERR_NOT_FOUND : HOIST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        HX_FAIL(HOIST_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        HX_FAIL(HOIST_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size > 0) {
        /* The mapping outlives the descriptor (POSIX mmap), so it is closed at once. */
        void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            int e = errno;
            close(fd);
            HX_FAIL(HOIST_ERR_IO, "%s: cannot mmap: %s", path, strerror(e));
        }
        map->base = base;
        map->data = base;
        map->size = size;
    }
    close(fd);
    return HOIST_OK;
}

void hx_file_map_close(struct hx_file_map *map) {
    if (!map) return;
    if (map->base) munmap(map->base, map->size);
    *map = (struct hx_file_map){NULL, 0, NULL};
}
