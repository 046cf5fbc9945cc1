/*
 * ice_bounds.c — what Iceberg metadata says of a column's values, as the
 * dataset filter's column statistics: identity partition values, the
 * lower/upper bounds and counts of a data file (spec: data_file fields
 * 108-128, 137), and a manifest's partition summaries (spec: field_summary).
 * Anything not understood leaves the column unknown, which never prunes.
 */
#include "iceberg_internal.h"

#include <string.h>

static uint64_t get_le(const uint8_t *b, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

bool hx_ice_decode_value(enum ice_type t, const uint8_t *b, size_t len, struct ds_value *out) {
    memset(out, 0, sizeof *out);
    switch (t) {
    case ICE_T_BOOLEAN:
        if (len != 1) return false;
        out->kind = DS_V_BOOL;
        out->i = b[0] != 0;
        return true;
    case ICE_T_INT:
    case ICE_T_DATE:
        if (len != 4) return false;
        out->kind = DS_V_INT;
        out->i = (int32_t)(uint32_t)get_le(b, 4);
        return true;
    case ICE_T_LONG:
    case ICE_T_TIME:
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ:
    case ICE_T_TIMESTAMP_NS:
    case ICE_T_TIMESTAMPTZ_NS:
        /* spec: an int column promoted to long keeps 4-byte bounds in old files */
        if (len != 8 && !(len == 4 && t == ICE_T_LONG)) return false;
        out->kind = DS_V_INT;
        out->i = len == 8 ? (int64_t)get_le(b, 8) : (int32_t)(uint32_t)get_le(b, 4);
        return true;
    case ICE_T_FLOAT:
    case ICE_T_DOUBLE: {
        out->kind = DS_V_DOUBLE;
        if (len == 4) {
            uint32_t u = (uint32_t)get_le(b, 4);
            float f;
            memcpy(&f, &u, 4);
            out->d = f;
        } else if (len == 8 && t == ICE_T_DOUBLE) {
            uint64_t u = get_le(b, 8);
            memcpy(&out->d, &u, 8);
        } else {
            return false;
        }
        return out->d == out->d; /* a NaN bound says nothing */
    }
    case ICE_T_STRING:
    case ICE_T_BINARY:
        out->kind = DS_V_BYTES;
        out->b = b;
        out->blen = len;
        return true;
    case ICE_T_DECIMAL:
        /* spec: the unscaled value, big-endian two's complement, minimum bytes */
        if (len < 1 || len > 32) return false;
        out->kind = DS_V_DECIMAL;
        hx_ds_decimal_from_be(b, len, out->dec);
        return true;
    default: return false;
    }
}

static bool is_float(enum ice_type t) { return t == ICE_T_FLOAT || t == ICE_T_DOUBLE; }

void hx_ice_file_stats(const struct ice_meta *m, const struct ice_spec *spec, const struct ice_entry *e,
                       struct ds_colstats *cs, uint8_t (*scratch)[16]) {
    for (size_t c = 0; c < m->nfields; c++) {
        const struct ice_field *f = &m->fields[c];
        struct ds_colstats *s = &cs[c];
        memset(s, 0, sizeof *s);
        if (f->type == ICE_T_OTHER) continue;
        /* An identity partition value is every row's value (or null). */
        for (size_t p = 0; spec && p < spec->nfields; p++) {
            const uint8_t *val;
            size_t len;
            if (!spec->fields[p].identity || spec->fields[p].source_id != f->id) continue;
            if (!hx_ice_entry_partition(e, p, f->type, scratch[c], sizeof scratch[c], &val, &len)) continue;
            s->known = s->has_null_count = true;
            s->num_values = e->record_count;
            if (!val) {
                s->null_count = e->record_count;
            } else if (hx_ice_decode_value(f->type, val, len, &s->min)) {
                s->max = s->min;
                s->has_minmax = true;
            }
            break;
        }
        if (s->known) continue;
        int64_t values = e->record_count, nulls, nans;
        (void)hx_ice_entry_count(e, "value_counts", f->id, &values);
        if (hx_ice_entry_count(e, "null_value_counts", f->id, &nulls) && values > 0 && nulls <= values) {
            s->known = s->has_null_count = true;
            s->null_count = nulls;
            s->num_values = values;
        }
        /* spec: float bounds leave NaN out. NaN fails every ordering
         * comparison, so the bounds still prune <, <=, =, >, >= (pyiceberg
         * does the same); they are used for != too, as the dataset layer uses
         * Parquet's NaN-less statistics. A column of only NaN has no bounds. */
        if (is_float(f->type) && hx_ice_entry_count(e, "nan_value_counts", f->id, &nans) && nans >= values) continue;
        const uint8_t *lo, *hi;
        size_t lo_len, hi_len;
        if (hx_ice_entry_bound(e, "lower_bounds", f->id, &lo, &lo_len) &&
            hx_ice_entry_bound(e, "upper_bounds", f->id, &hi, &hi_len) &&
            hx_ice_decode_value(f->type, lo, lo_len, &s->min) && hx_ice_decode_value(f->type, hi, hi_len, &s->max)) {
            s->known = s->has_minmax = true;
            if (!s->has_null_count) s->num_values = values;
        } else {
            memset(&s->min, 0, sizeof s->min);
            memset(&s->max, 0, sizeof s->max);
        }
    }
}

void hx_ice_manifest_stats(const struct ice_meta *m, const struct ice_spec *spec, const struct ice_manifest_ref *mf,
                           struct ds_colstats *cs) {
    memset(cs, 0, m->nfields * sizeof *cs);
    for (size_t p = 0; spec && p < spec->nfields && p < mf->nsummaries; p++) {
        if (!spec->fields[p].identity) continue;
        int c = hx_ice_meta_field_index(m, spec->fields[p].source_id);
        if (c < 0 || m->fields[c].type == ICE_T_OTHER || is_float(m->fields[c].type)) continue;
        const struct ice_summary *sum = &mf->summaries[p];
        struct ds_colstats *s = &cs[c];
        if (!sum->contains_null) {
            /* no row of the manifest is null here (counts unknown: one stands for "some") */
            s->known = s->has_null_count = true;
            s->num_values = 1;
        }
        if (sum->lower && hx_ice_decode_value(m->fields[c].type, sum->lower, sum->lower_len, &s->min) &&
            hx_ice_decode_value(m->fields[c].type, sum->upper, sum->upper_len, &s->max)) {
            s->known = s->has_minmax = true;
        } else {
            memset(&s->min, 0, sizeof s->min);
            memset(&s->max, 0, sizeof s->max);
        }
    }
}
