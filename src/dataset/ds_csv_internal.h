/*
 * ds_csv_internal.h — CSV in the dataset layer: the byte sink that turns raw
 * (maybe compressed) bytes into text for a consumer (ds_csv_file.c), and the
 * CSV dataset's stages (ds_csv_dataset.c: heads, schema, plan; ds_csv_scan.c:
 * the scan) that ds_open.c, ds_scan.c and ds_shards.c dispatch to when the
 * config's format is CSV.
 *
 * Threads: a sink is used by one thread at a time.
 */
#ifndef HOIST_DS_CSV_INTERNAL_H
#define HOIST_DS_CSV_INTERNAL_H

#include "csv.h"
#include "ds_open_internal.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

/* ---- the byte sink (ds_csv_file.c) -------------------------------------- */

enum hx_ds_sink_kind { HX_SINK_UNKNOWN, HX_SINK_PLAIN, HX_SINK_GZIP, HX_SINK_ZSTD, HX_SINK_BZIP2 };

/* Receives text in order, in pieces of any size; a failure stops the sink. */
typedef hx_status (*hx_ds_text_fn)(void *ud, const uint8_t *text, size_t n);
/* Optional: free space (*cap bytes, > 0) at the end of the consumer's own
 * buffer, which a decompressor fills in place before emitting exactly that
 * pointer (so the text is not copied once more); NULL: none to be had. */
typedef uint8_t *(*hx_ds_room_fn)(void *ud, size_t *cap);

struct hx_ds_sink {
    hx_ds_text_fn emit;
    void *ud;
    hx_ds_room_fn room; /* may be NULL */
    const char *name;
    enum hx_ds_sink_kind kind;
    uint8_t head[4]; /* first bytes, until the kind is known */
    size_t nhead;
    z_stream z;
    bool z_live;
    bool member_start; /* gzip: the next byte starts a member (RFC 1952 section 2.2) */
    bool z_dirty;      /* zlib read a member since its last reset */
    uint32_t z_crc;    /* the CRC-32 of zlib's member so far */
    uint64_t z_size;   /* its text's size so far */
    uint8_t z_tail[8]; /* the last bytes zlib read: the trailer when the member ends */
    void *isal;        /* ISA-L's inflate state, in its place when built with it */
    struct libdeflate_decompressor *ld;
    bool ld_off; /* a member's text outgrew a block: zlib streams the rest */
    ZSTD_DStream *zs;
    size_t zs_last;
    void *bz; /* bz_stream */
    bool bz_ended;
    uint8_t *block;
};

/* The kind of data starting with these bytes (gzip, zstd, bzip2 magic). */
enum hx_ds_sink_kind hx_ds_sink_detect(const uint8_t *magic, size_t n);
/* Raw bytes in order, split anywhere; the first four decide the format. */
HOIST_NODISCARD hx_status hx_ds_sink_push(struct hx_ds_sink *s, const uint8_t *data, size_t n);
/* The raw input is complete: a truncated compressed stream fails here. */
HOIST_NODISCARD hx_status hx_ds_sink_end(struct hx_ds_sink *s);
void hx_ds_sink_free(struct hx_ds_sink *s);

/* Inflates a small gzip file in memory (every member) with libdeflate into
 * *text (hx_free it), when its text is at most HX_DS_GUNZIP_WHOLE_MAX bytes;
 * false when it is not, or libdeflate rejects the data (the streaming sink
 * then reads it and reports what is wrong). */
#define HX_DS_GUNZIP_WHOLE_MAX ((size_t)8 << 20)
bool hx_ds_gunzip_whole(const uint8_t *src, size_t n, uint8_t **text, size_t *len);

/* Fetches [0, size) of an object in 8 MiB ranges into the sink, the next
 * ranges downloading on a thread of their own while the current ones go
 * through the sink. */
HOIST_NODISCARD hx_status hx_ds_csv_fetch(struct hoist_store *store, const char *url, uint64_t size,
                                          struct hx_ds_sink *s);
/* True for a URL the local file path serves (no scheme, or file://). */
bool hx_ds_csv_is_local(const char *url);

/* ---- the CSV dataset (ds_csv_dataset.c, ds_csv_scan.c) ------------------ */

/* A name a CSV dataset takes for a file without listing it (.csv, .tsv,
 * .txt, each optionally .gz/.zst/.bz2). */
bool hx_ds_csv_looks_like_file(const char *url);
/* Reads the head of the first candidate for the dialect and the columns
 * (the streaming reader's inference over its first text), then fills
 * ds->files with every candidate, each given that schema. */
struct hx_ds_cand {
    char *url;     /* may carry #rg (Parquet) */
    uint64_t size; /* 0 = unknown */
    bool listed;
};
HOIST_NODISCARD hx_status hx_ds_csv_open_files(struct hoist_dataset *ds, const struct hx_ds_cand *c, size_t n);
/* One unit per file, leaving out files whose partition values the filter
 * rules out. */
HOIST_NODISCARD hx_status hx_ds_csv_plan_units(struct hoist_dataset *ds);
/* hoist_dataset_scan / hoist_dataset_load of a CSV dataset. */
HOIST_NODISCARD hx_status hx_ds_csv_scan(struct hoist_dataset *ds, bool load, struct ArrowArrayStream *out);

#endif /* HOIST_DS_CSV_INTERNAL_H */
