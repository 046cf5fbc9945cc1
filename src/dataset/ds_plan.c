/*
 * ds_plan.c — the pure planning pieces of a load: Hive keys, which keys are
 * data, partition types, dates, row-group selections, range coalescing and
 * shard assignment. No I/O here (tests/dataset/test_ds_plan.c drives it).
 */
#include "dataset_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- Hive ------------------------------------------------------------------ */

void hx_ds_kv_free(struct ds_kv *kv, size_t n) {
    if (!kv) return;
    for (size_t i = 0; i < n; i++) {
        hx_free(kv[i].key);
        hx_free(kv[i].value);
    }
    hx_free(kv);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Hive escapes special characters in values as %XX (and Spark does too).
 * "%00" stays as it is: decoded, the NUL would end the C string and
 * "a%00b" would read as partition value "a" (issue 12). */
static char *percent_decode(const char *s, size_t len) {
    char *r = hx_malloc(len + 1);
    if (!r) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0 &&
            (hexval(s[i + 1]) | hexval(s[i + 2])) != 0) {
            r[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            r[k++] = s[i];
        }
    }
    r[k] = '\0';
    return r;
}

/* Where the path starts: after "scheme://bucket/" for URLs, else 0. */
static size_t path_start(const char *url) {
    const char *p = strstr(url, "://");
    if (!p) return 0;
    if (strncmp(url, "file://", 7) == 0) return 7;
    const char *slash = strchr(p + 3, '/');
    return slash ? (size_t)(slash - url) + 1 : strlen(url);
}

hx_status hx_ds_parse_hive(const char *url, struct ds_kv **out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t len = strlen(url);
    const char *hash = strstr(url, "#rg=");
    if (hash) len = (size_t)(hash - url);
    size_t i = path_start(url);
    struct ds_kv *kv = NULL;
    size_t count = 0;
    while (i < len) {
        const char *seg = url + i;
        const char *slash = memchr(seg, '/', len - i);
        if (!slash) break; /* the last segment is the file name */
        size_t seglen = (size_t)(slash - seg);
        const char *eq = memchr(seg, '=', seglen);
        if (eq && eq != seg) {
            size_t klen = (size_t)(eq - seg);
            char *key = percent_decode(seg, klen);
            char *val = percent_decode(eq + 1, seglen - klen - 1);
            if (!key || !val) {
                hx_free(key);
                hx_free(val);
                hx_ds_kv_free(kv, count);
                return hx_error(HOIST_ERR_NOMEM, "out of memory");
            }
            if (strcmp(val, "__HIVE_DEFAULT_PARTITION__") == 0) {
                hx_free(val);
                val = NULL;
            }
            size_t j;
            for (j = 0; j < count; j++)
                if (strcmp(kv[j].key, key) == 0) break;
            if (j < count) {
                hx_free(kv[j].value);
                hx_free(key);
                kv[j].value = val;
            } else {
                struct ds_kv *nkv = hx_realloc(kv, (count + 1) * sizeof *nkv);
                if (!nkv) {
                    hx_free(key);
                    hx_free(val);
                    hx_ds_kv_free(kv, count);
                    return hx_error(HOIST_ERR_NOMEM, "out of memory");
                }
                kv = nkv;
                kv[count].key = key;
                kv[count].value = val;
                count++;
            }
        }
        i += seglen + 1;
    }
    *out = kv;
    *n = count;
    return HOIST_OK;
}

static bool ends_with(const char *s, size_t len, const char *suffix) {
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

bool hx_ds_is_data_key(const char *url, size_t prefix_len, uint64_t size) {
    size_t len = strlen(url);
    if (size == 0 || len == 0 || url[len - 1] == '/') return false;
    if (ends_with(url, len, ".crc") || ends_with(url, len, "_$folder$")) return false;
    if (prefix_len > len) prefix_len = len;
    /* pyarrow.dataset's default ignore_prefixes: '.', '_' on any segment
     * below the dataset root (Spark/Hive write _SUCCESS, _committed_*,
     * _temporary/, .part.crc). */
    for (size_t i = prefix_len; i < len;) {
        if (url[i] == '/') {
            i++;
            continue;
        }
        if (url[i] == '_' || url[i] == '.') return false;
        const char *slash = strchr(url + i, '/');
        if (!slash) break;
        i = (size_t)(slash - url) + 1;
    }
    return true;
}

bool hx_ds_parse_int64(const char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 20) return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (len == 1) return false;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v;
    }
    return true;
}

bool hx_ds_parse_timestamp_us(const char *s, size_t len, int64_t *us) {
    int64_t days;
    if (len < 10 || !hx_parse_date(s, 10, &days)) return false;
    int64_t v = days * 86400LL * 1000000LL;
    if (len == 10) {
        *us = v;
        return true;
    }
    unsigned hh, mm, ss = 0;
    if (len < 16 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':') return false;
    if (!hx_parse_digits(s + 11, 2, &hh) || !hx_parse_digits(s + 14, 2, &mm)) return false;
    size_t i = 16;
    if (i < len && s[i] == ':') {
        if (len < 19 || !hx_parse_digits(s + 17, 2, &ss)) return false;
        i = 19;
    }
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6) frac = frac * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0) return false;
        for (; nd < 6; nd++) frac *= 10;
    }
    if (i < len && s[i] == 'Z') i++;
    if (i != len || hh > 23 || mm > 59 || ss > 60) return false;
    *us = v + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000000LL + frac;
    return true;
}

bool hx_ds_parse_pvalue(const char *s, enum ds_ptype t, int64_t *out) {
    size_t len = strlen(s);
    switch (t) {
    case DS_PT_INT32: return hx_ds_parse_int64(s, len, out) && *out >= INT32_MIN && *out <= INT32_MAX;
    case DS_PT_INT64: return hx_ds_parse_int64(s, len, out);
    case DS_PT_DATE32: return hx_parse_date(s, len, out);
    default: return true;
    }
}

enum ds_ptype hx_ds_infer_ptype(const char *const *values, size_t n) {
    bool all_int = true, all_int32 = true, all_date = true, any = false;
    for (size_t i = 0; i < n; i++) {
        if (!values[i]) continue;
        any = true;
        int64_t v;
        size_t len = strlen(values[i]);
        if (hx_ds_parse_int64(values[i], len, &v)) {
            if (v < INT32_MIN || v > INT32_MAX) all_int32 = false;
        } else {
            all_int = false;
        }
        if (!hx_parse_date(values[i], len, &v)) all_date = false;
    }
    if (!any) return DS_PT_STRING;
    if (all_int) return all_int32 ? DS_PT_INT32 : DS_PT_INT64;
    if (all_date) return DS_PT_DATE32;
    return DS_PT_STRING;
}

/* ---- row-group selections --------------------------------------------------- */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

hx_status hx_ds_parse_rg_selection(const char *url, size_t *base_len, int **rgs, size_t *nrgs) {
    *rgs = NULL;
    *nrgs = 0;
    size_t len = strlen(url);
    *base_len = len;
    const char *h = strstr(url, "#rg=");
    if (!h) return HOIST_OK;
    const char *p = h + 4;
    int *v = NULL;
    size_t n = 0, cap = 0;
    if (!*p) goto bad;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9') goto bad;
        long a = strtol(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9') goto bad;
            b = strtol(p, &end, 10);
            p = end;
        }
        if (a < 0 || b < a || b > 1000000 || b - a > 1000000) goto bad;
        for (long k = a; k <= b; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                int *nv = hx_realloc(v, cap * sizeof *nv);
                if (!nv) {
                    hx_free(v);
                    return hx_error(HOIST_ERR_NOMEM, "out of memory");
                }
                v = nv;
            }
            v[n++] = (int)k;
        }
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    qsort(v, n, sizeof *v, cmp_int);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i]) v[k++] = v[i];
    *rgs = v;
    *nrgs = k;
    *base_len = (size_t)(h - url);
    return HOIST_OK;
bad:
    hx_free(v);
    return hx_error(HOIST_ERR_BAD_URL, "%s: bad row-group selection (expected #rg=0-3,7)", url);
}

char *hx_ds_format_rg_selection(const char *url, const int *rgs, size_t n) {
    struct hx_buf b;
    hx_buf_init(&b);
    if (hx_buf_append_str(&b, url) != HOIST_OK) return NULL;
    if (n && hx_buf_append_str(&b, "#rg=") != HOIST_OK) goto fail;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && rgs[j + 1] == rgs[j] + 1) j++;
        hx_status st = j > i ? hx_buf_printf(&b, "%s%d-%d", i ? "," : "", rgs[i], rgs[j])
                             : hx_buf_printf(&b, "%s%d", i ? "," : "", rgs[i]);
        if (st != HOIST_OK) goto fail;
        i = j + 1;
    }
    return hx_buf_detach(&b);
fail:
    hx_buf_reset(&b);
    return NULL;
}

/* ---- ranges -------------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b) {
    const struct ds_range *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return (x->length > y->length) - (x->length < y->length);
}

size_t hx_ds_coalesce(struct ds_range *r, size_t n, uint64_t max_gap) {
    if (n == 0) return 0;
    qsort(r, n, sizeof *r, cmp_range);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t end = r[k].offset + r[k].length;
        if (r[i].offset <= end || r[i].offset - end <= max_gap) {
            uint64_t e2 = r[i].offset + r[i].length;
            if (e2 > end) r[k].length = e2 - r[k].offset;
        } else {
            r[++k] = r[i];
        }
    }
    return k + 1;
}

/* ---- shards ---------------------------------------------------------------------- */

struct unit_ref {
    uint64_t bytes;
    size_t index;
};

static int cmp_unit_desc(const void *a, const void *b) {
    const struct unit_ref *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

size_t hx_ds_shard_assign(const uint64_t *bytes, size_t n_units, size_t n_shards, size_t *shard_of) {
    if (n_units == 0 || n_shards == 0) return 0;
    if (n_shards > n_units) n_shards = n_units;
    struct unit_ref *u = hx_malloc(n_units * sizeof *u);
    uint64_t *load = hx_calloc(n_shards, sizeof *load);
    if (!u || !load) {
        /* Without memory for the sort, fall back to round robin (still
         * deterministic and complete). */
        for (size_t i = 0; i < n_units; i++) shard_of[i] = i % n_shards;
        hx_free(u);
        hx_free(load);
        return n_shards;
    }
    for (size_t i = 0; i < n_units; i++) u[i] = (struct unit_ref){bytes[i], i};
    qsort(u, n_units, sizeof *u, cmp_unit_desc);
    for (size_t i = 0; i < n_units; i++) {
        size_t best = 0;
        for (size_t s = 1; s < n_shards; s++)
            if (load[s] < load[best]) best = s;
        load[best] += u[i].bytes;
        shard_of[u[i].index] = best;
    }
    hx_free(u);
    hx_free(load);
    return n_shards;
}

uint64_t hx_ds_mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t hx_ds_hash_str(const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- page skipping ------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

size_t hx_ds_segment_starts(int64_t *starts, size_t n, int64_t rows) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (starts[i] > 0 && starts[i] < rows) starts[k++] = starts[i];
    starts[k++] = 0;
    qsort(starts, k, sizeof *starts, cmp_i64);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || starts[i] != starts[m - 1]) starts[m++] = starts[i];
    return rows > 0 ? m : 0;
}

hx_status hx_ds_row_ranges_add(struct hoist_pq_row_range **v, size_t *n, size_t *cap, int64_t first, int64_t count) {
    if (count <= 0) return HOIST_OK;
    if (*n && (*v)[*n - 1].first + (*v)[*n - 1].count == first) {
        (*v)[*n - 1].count += count;
        return HOIST_OK;
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct hoist_pq_row_range *nv = hx_realloc(*v, nc * sizeof *nv);
        if (!nv) return hx_error(HOIST_ERR_NOMEM, "out of memory");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (struct hoist_pq_row_range){first, count};
    return HOIST_OK;
}
