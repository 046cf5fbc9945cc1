/*
 * iceberg_internal.h — the Iceberg read planner's pieces (src/iceberg):
 * table metadata JSON (ice_meta.c), Avro manifest lists and manifests
 * (ice_avro.c, on avro-c), statistics of a data file or manifest as the
 * dataset filter's column statistics (ice_bounds.c), and the plan itself
 * (ice_plan.c, the public hoist_iceberg_plan_* calls). Rules cited as
 * "spec:" are from the Iceberg table spec (format/spec.md), versions 1 and 2.
 *
 * This layer sits above the dataset layer: it reads objects through the
 * store (hoist.h) and prunes with the dataset filter (dataset.h); the files
 * it plans are then loaded as any dataset. Everything but ice_plan.c is a
 * pure function of its input, so tests/iceberg drives it directly.
 *
 * Threads: a plan is built on the calling thread; a finished plan is
 * immutable and may be read from any thread.
 */
#ifndef HOIST_ICEBERG_INTERNAL_H
#define HOIST_ICEBERG_INTERNAL_H

#include "dataset.h"
#include "hoist.h"
#include "util_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata, manifest lists and manifests are small: a metadata file of
 * 256 MiB or an Avro file of 1 GiB is corrupt or hostile, not a table. */
#define ICE_METADATA_MAX_BYTES (256u * 1024u * 1024u)
#define ICE_AVRO_MAX_BYTES (1024u * 1024u * 1024u)

/* ---- table metadata (ice_meta.c) ---------------------------------------- */

/* spec: "Primitive Types". ICE_T_OTHER: nested or a type the filter cannot compare. */
enum ice_type {
    ICE_T_OTHER = 0,
    ICE_T_BOOLEAN,
    ICE_T_INT,
    ICE_T_LONG,
    ICE_T_FLOAT,
    ICE_T_DOUBLE,
    ICE_T_DATE,
    ICE_T_TIME,
    ICE_T_TIMESTAMP,
    ICE_T_TIMESTAMPTZ,
    ICE_T_TIMESTAMP_NS,
    ICE_T_TIMESTAMPTZ_NS,
    ICE_T_STRING,
    ICE_T_BINARY,
    ICE_T_DECIMAL,
    ICE_T_UUID,
    ICE_T_FIXED
};

/* A top-level field of the read schema. format: the Arrow format the
 * filter binds its literals with ("" for ICE_T_OTHER). */
struct ice_field {
    int id;
    char *name;
    enum ice_type type;
    char format[24];
};

struct ice_part_field {
    int source_id;
    bool identity; /* only identity partitions are pruned on (others: no information) */
};

struct ice_spec {
    int id;
    struct ice_part_field *fields;
    size_t nfields;
};

struct ice_meta {
    int format_version;       /* 1 or 2 */
    struct ice_field *fields; /* the read schema's top-level fields */
    size_t nfields;
    char *schema_json; /* that schema as Iceberg JSON (for callers building Arrow schemas) */
    struct ice_spec *specs;
    size_t nspecs;
    bool has_snapshot; /* false: the table has no data (an empty plan) */
    int64_t snapshot_id;
    char *manifest_list; /* the snapshot's manifest list location */
};

/* Parses a table metadata file (url names it in messages) and selects the
 * snapshot: snapshot_id, or the current one when snapshot_id < 0. Refuses
 * (HOIST_ERR_UNSUPPORTED) a format version other than 1 or 2, a v1 snapshot
 * listing manifests without a manifest list, and a top-level field whose
 * name changed between schemas (hoist reads columns by name). Malformed
 * metadata: HOIST_ERR_ICEBERG_CORRUPT; an unknown snapshot_id: HOIST_ERR_NOT_FOUND. */
HOIST_NODISCARD hx_status hx_ice_meta_parse(const void *data, size_t len, const char *url, int64_t snapshot_id,
                                            struct ice_meta **out);
void hx_ice_meta_free(struct ice_meta *m);
const struct ice_spec *hx_ice_meta_spec(const struct ice_meta *m, int spec_id);
/* Index of the field with this id in m->fields, or -1. */
int hx_ice_meta_field_index(const struct ice_meta *m, int field_id);

/* ---- Avro object container files (ice_avro.c) ---------------------------- */

/* spec: manifest_file (the manifest list's records). */
struct ice_summary {
    bool contains_null;
    const uint8_t *lower, *upper; /* NULL when absent; borrowed from the current record */
    size_t lower_len, upper_len;
};
struct ice_manifest_ref {
    const char *path; /* borrowed from the current record */
    int spec_id;
    int content;                   /* 0 data, 1 deletes (v1: 0) */
    int64_t sequence_number;       /* v1: 0 */
    struct ice_summary *summaries; /* one per partition field, in spec order (may be fewer) */
    size_t nsummaries;
};

/* spec: manifest_entry and data_file. Map-valued metrics are kept as the
 * raw Avro arrays and looked up per field by ice_entry_metric_*. */
struct ice_entry {
    int status; /* 0 EXISTING, 1 ADDED, 2 DELETED */
    bool has_sequence_number;
    int64_t sequence_number;
    int content; /* 0 data, 1 position deletes, 2 equality deletes */
    const char *path;
    const char *format;
    int64_t record_count;
    int64_t file_size;
    void *avro_file; /* the data_file record (avro_value_t *), for the metric lookups */
};

struct ice_avro;
/* Opens an Avro object container file held in memory (borrowed until
 * close). Not Avro, or a header avro-c cannot read: HOIST_ERR_ICEBERG_CORRUPT naming url. */
HOIST_NODISCARD hx_status hx_ice_avro_open(const void *data, size_t len, const char *url, struct ice_avro **out);
void hx_ice_avro_close(struct ice_avro *r);
/* The next record of a manifest list / manifest (*eof = true at the end).
 * What it points into stays valid until the next call. */
HOIST_NODISCARD hx_status hx_ice_avro_next_manifest(struct ice_avro *r, struct ice_manifest_ref *out, bool *eof);
HOIST_NODISCARD hx_status hx_ice_avro_next_entry(struct ice_avro *r, struct ice_entry *out, bool *eof);
/* The i-th partition value of the current entry in Iceberg's single-value
 * binary form for type t (spec: "Binary single-value serialization"),
 * written into buf (cap >= 16 is enough for every fixed-width type; longer
 * values are pointed at). *val = NULL for a null value; false when absent
 * or of another shape. */
bool hx_ice_entry_partition(const struct ice_entry *e, size_t i, enum ice_type t, uint8_t *buf, size_t cap,
                            const uint8_t **val, size_t *len);
/* The current entry's partition tuple as text (hx_free): equal texts are
 * equal partitions (for matching delete files to data files). */
HOIST_NODISCARD hx_status hx_ice_entry_partition_key(const struct ice_entry *e, char **out);
/* The metric of field_id in the data file's map (lower_bounds,
 * upper_bounds: bytes; value_counts, null_value_counts, nan_value_counts:
 * long). False when the map or the key is absent. */
bool hx_ice_entry_bound(const struct ice_entry *e, const char *map, int field_id, const uint8_t **val, size_t *len);
bool hx_ice_entry_count(const struct ice_entry *e, const char *map, int field_id, int64_t *out);

/* ---- statistics for the filter (ice_bounds.c) ------------------------------ */

/* A value in Iceberg's single-value binary form as the filter's value of
 * that type. False when the type cannot prune or the bytes do not fit it. */
bool hx_ice_decode_value(enum ice_type t, const uint8_t *b, size_t len, struct ds_value *out);
/* Column statistics of a data file for each field of m (cs: m->nfields). */
void hx_ice_file_stats(const struct ice_meta *m, const struct ice_spec *spec, const struct ice_entry *e,
                       struct ds_colstats *cs, uint8_t (*scratch)[16]);
/* Column statistics a manifest's partition summaries give (cs: m->nfields). */
void hx_ice_manifest_stats(const struct ice_meta *m, const struct ice_spec *spec, const struct ice_manifest_ref *mf,
                           struct ds_colstats *cs);

#endif /* HOIST_ICEBERG_INTERNAL_H */
