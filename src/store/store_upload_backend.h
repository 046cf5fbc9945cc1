/*
 * store_upload_backend.h — private to the store's upload files: the table of
 * functions each scheme implements (store_upload_s3.c, store_upload_file.c)
 * and the structs they share with store_upload.c.
 */
#ifndef HOIST_STORE_UPLOAD_BACKEND_H
#define HOIST_STORE_UPLOAD_BACKEND_H

#include "store_internal.h"
#include "store_upload.h"

/* ---- backends (store_upload_s3.c, store_upload_file.c) ------------------ */

/* PARKED: handed out with hx_upload_park; free leaves it pending, an explicit
 * abort still discards it (a writer taking back a half-parked job). */
enum hx_upload_state { HX_UP_OPEN, HX_UP_FINISHED, HX_UP_COMMITTED, HX_UP_ABORTED, HX_UP_PARKED };

struct hx_upload_ops {
    size_t upload_size; /* bytes of the backend's upload struct (embeds struct hx_upload first) */
    HOIST_NODISCARD hx_status (*start)(struct hx_uploader *up);
    void (*stop)(struct hx_uploader *up);
    HOIST_NODISCARD hx_status (*open)(struct hx_upload *u);
    HOIST_NODISCARD hx_status (*write)(struct hx_upload *u, const void *data, size_t len);
    HOIST_NODISCARD hx_status (*finish)(struct hx_upload *u);
    HOIST_NODISCARD hx_status (*commit)(struct hx_upload *const *u, size_t n);
    void (*abort)(struct hx_upload *const *u, size_t n);
    void (*release)(struct hx_upload *u); /* frees backend resources (after commit/abort) */
    uint64_t (*unsent)(const struct hx_upload *u);
    HOIST_NODISCARD hx_status (*list_pending)(struct hoist_store *st, const char *prefix_url, const struct hx_url *pu,
                                              struct hoist_list *out);
    HOIST_NODISCARD hx_status (*abort_pending)(struct hoist_store *st, const struct hoist_list_entry *e);
    /* Fills out->upload_id/checksum/parts of a finished upload (url is set by the caller). */
    HOIST_NODISCARD hx_status (*park)(struct hx_upload *u, struct hx_parked_upload *out);
};

extern const struct hx_upload_ops hx_upload_s3_ops;
extern const struct hx_upload_ops hx_upload_file_ops;

struct hx_upload {
    struct hx_uploader *up;
    char *url;
    struct hx_url u;
    enum hx_upload_state state;
    uint64_t bytes;
    struct hx_upload *prev, *next; /* the uploader's open list */
};

struct hx_uploader {
    const struct hx_upload_ops *ops;
    struct hoist_store *st;
    enum hx_url_kind kind;
    uint64_t part_size, memory_limit, max_inflight;
    int fsync;
    int initiate_at_open;
    _Atomic uint64_t buffered;
    _Atomic uint64_t buffered_peak;
    _Atomic int maybe_orphans; /* see hx_uploader_maybe_orphans */
    _Atomic uint64_t uploaded; /* bytes the store accepted */
    struct hx_upload *open;    /* uploads not yet freed */
    void *impl;                /* backend state */
};

/* buffered += n, keeping buffered_peak. */
void hx_uploader_add_buffered(struct hx_uploader *up, uint64_t n);

#endif /* HOIST_STORE_UPLOAD_BACKEND_H */
