/*
 * dataset.h — the dataset layer as the layers above it see it (the CLI and
 * the Python module use hoist.h only). Today that is the public
 * hoist_dataset_* API plus the Hive layout rules a writer must share with
 * the reader: how `key=value` path segments are parsed, which keys are
 * data, and how partition values are typed.
 *
 * Everything here is a pure function of its arguments (no I/O, no global
 * state), safe on any thread.
 */
#ifndef HOIST_DATASET_H
#define HOIST_DATASET_H

#include "hoist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util_internal.h"

/* ---- Hive partitions and keys ----------------------------------------- */

struct ds_kv {
    char *key;
    char *value; /* NULL: __HIVE_DEFAULT_PARTITION__ (null) */
};

/* Collects the `key=value` directory segments of a URL's path (values
 * percent-decoded). Later duplicates of a key replace earlier ones. */
HOIST_NODISCARD enum hoist_status hx_ds_parse_hive(const char *url, struct ds_kv **out, size_t *n);
void hx_ds_kv_free(struct ds_kv *kv, size_t n);

/* False for keys that are not data: any path segment below `prefix_len`
 * starting with '_' or '.' (_SUCCESS, _committed_*, _temporary/, .crc),
 * names ending in .crc or _$folder$, directory markers and empty objects. */
bool hx_ds_is_data_key(const char *url, size_t prefix_len, uint64_t size);

enum ds_ptype { DS_PT_INT32, DS_PT_INT64, DS_PT_STRING, DS_PT_DATE32 };
/* Inferred type of a partition column from its non-null values (pyarrow's
 * rule, plus dates). */
enum ds_ptype hx_ds_infer_ptype(const char *const *values, size_t n);
/* Parses a value as the type; false if it does not parse. */
bool hx_ds_parse_pvalue(const char *s, enum ds_ptype t, int64_t *out);
bool hx_ds_parse_int64(const char *s, size_t len, int64_t *out);
/* (dates: hx_parse_date in util_internal.h, shared with the CSV codec) */
/* "YYYY-MM-DD[ T]HH:MM:SS[.fraction]" or a date -> microseconds since epoch (UTC). */
bool hx_ds_parse_timestamp_us(const char *s, size_t len, int64_t *us);

/* ---- the writer's _SUCCESS manifest (ds_manifest.c; the writer reads a previous one with it too)
 * --------------------- A directory whose `_SUCCESS` parses as {"format": "hoist-manifest", "version": 1, "files":
 * [{"path", "bytes"}, ...]} holds exactly the listed files (docs/datasets.md). */
#define DS_MANIFEST_NAME "_SUCCESS"
/* A manifest lists about 200 bytes per file: 256 MiB is over a million. */
#define DS_MANIFEST_MAX_BYTES (256u * 1024u * 1024u)

struct ds_manifest_file {
    char *path;    /* relative to the manifest's directory, checked safe */
    int64_t bytes; /* -1: not given */
};
struct ds_manifest {
    struct ds_manifest_file *files; /* in the manifest's order */
    size_t nfiles;
};

/* Parses a `_SUCCESS` object's bytes (url names it in messages). *out =
 * NULL with HOIST_OK when it is not a hoist manifest (empty, or other
 * content). A hoist manifest that is malformed or of another version:
 * HOIST_ERR_UNSUPPORTED; a path that is absolute or leaves the directory:
 * HOIST_ERR_UNSAFE_KEY. */
HOIST_NODISCARD hx_status hx_ds_manifest_parse(const void *data, size_t len, const char *url, struct ds_manifest **out);
void hx_ds_manifest_free(struct ds_manifest *m);

#endif /* HOIST_DATASET_H */
