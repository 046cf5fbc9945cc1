/* The ARROW:schema key-value entry: base64 of an Arrow IPC Message holding a
 * Schema flatbuffer (format/Schema.fbs, Message.fbs). Read with the Arrow
 * layer's bounds-checked flatbuffer reader (arrow_flatbuf.c), then used to
 * restore the Arrow types Parquet cannot express (time zones, large and
 * dictionary types, durations, views, list views, fixed-size lists,
 * decimal32/64), as Arrow C++ does in ApplyOriginalMetadata
 * (cpp/src/parquet/arrow/schema.cc). */
#include "parquet_internal.h"

#include <stdio.h>
#include <string.h>

static hx_status replace_format(char **dst, const char *fmt) {
    char *s = hx_strdup(fmt);
    if (!s) HX_FAIL(HOIST_ERR_NOMEM, "out of memory applying ARROW:schema");
    hx_free(*dst);
    *dst = s;
    return HOIST_OK;
}

static hx_status field_metadata(const struct hx_arrow_fb *fb, size_t field, struct hx_pq_anode *a) {
    uint32_t n;
    size_t vec = hx_arrow_fb_ref(fb, field, 6);
    if (!hx_arrow_fb_vec(fb, vec, 4, &n) || n == 0) return HOIST_OK;
    struct hx_buf md = {0};
    HX_TRY(hx_arrow_metadata_begin(&md));
    for (uint32_t i = 0; i < n; i++) {
        size_t kv = hx_arrow_fb_vec_table(fb, vec, i);
        const char *k, *v;
        uint32_t kl, vl;
        if (!kv || !hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, kv, 0), &k, &kl)) continue;
        if (!hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, kv, 1), &v, &vl)) v = "", vl = 0;
        hx_status st = hx_arrow_metadata_add(&md, k, kl, v, vl);
        if (st != HOIST_OK) {
            hx_buf_reset(&md);
            return st;
        }
    }
    hx_free(a->metadata);
    a->metadata = hx_buf_detach(&md);
    return HOIST_OK;
}

static hx_status apply_leaf(const struct hoist_pq_file *f, const struct hx_arrow_fb *fb, size_t field, int tt,
                            size_t type, struct hx_pq_anode *a) {
    const struct hx_pq_element *e = &f->elements[f->leaves[a->leaf].element];
    char fmt[300];
    size_t dict = hx_arrow_fb_ref(fb, field, 4);
    if (dict && e->type == PQT_BYTE_ARRAY && a->conv == CV_BINARY && !a->large &&
        (tt == HX_FBT_UTF8 || tt == HX_FBT_BINARY)) {
        /* Arrow C++ reads dictionary columns back with int32 indices. */
        HX_TRY(replace_format(&a->dict_format, tt == HX_FBT_UTF8 ? "u" : "z"));
        HX_TRY(replace_format(&a->format, "i"));
        a->dict = 1;
        return HOIST_OK;
    }
    switch (tt) {
    case HX_FBT_LARGE_UTF8:
    case HX_FBT_LARGE_BINARY:
        if (a->conv == CV_BINARY) {
            a->large = 1;
            HX_TRY(replace_format(&a->format, tt == HX_FBT_LARGE_UTF8 ? "U" : "Z"));
        }
        break;
    case HX_FBT_UTF8_VIEW:
    case HX_FBT_BINARY_VIEW:
        /* Views hold 32-bit offsets into one data buffer: a chunk that needed
         * 64-bit offsets (over 2 GiB) stays large_string/large_binary. */
        if (a->conv == CV_BINARY && !a->large) {
            a->view = 1;
            HX_TRY(replace_format(&a->format, tt == HX_FBT_UTF8_VIEW ? "vu" : "vz"));
        }
        break;
    case HX_FBT_UTF8:
    case HX_FBT_BINARY:
        /* keep 64-bit offsets chosen for a chunk over 2 GiB */
        if (a->conv == CV_BINARY)
            HX_TRY(replace_format(&a->format, tt == HX_FBT_UTF8 ? (a->large ? "U" : "u") : (a->large ? "Z" : "z")));
        break;
    case HX_FBT_TIMESTAMP: {
        int unit = (int)hx_arrow_fb_int(fb, type, 0, 2, 0);
        const char *tz = "";
        uint32_t tzl = 0;
        if (!hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, type, 1), &tz, &tzl)) tz = "", tzl = 0;
        if (unit < 0 || unit > 3 || tzl > 255) break;
        if (e->type == PQT_INT64 && a->format[0] == 't' && a->format[1] == 's') {
            char have = a->format[2];
            int64_t k = 1;
            if (have == hx_arrow_time_unit_char(unit)) {
                a->conv = CV_COPY;
            } else {
                /* pyarrow keeps the stored unit (timestamp[s] reads back as ms) */
                break;
            }
            a->conv_k = k;
            /* A local (non-UTC-adjusted) Parquet timestamp keeps no zone. */
            int utc = strstr(a->format, ":UTC") != NULL;
            snprintf(fmt, sizeof fmt, "ts%c:%.*s", hx_arrow_time_unit_char(unit), utc ? (int)tzl : 0, tz);
            HX_TRY(replace_format(&a->format, fmt));
        } else if (e->type == PQT_INT96) {
            static const int64_t div[] = {1000000000, 1000000, 1000, 1};
            a->conv_k = div[unit];
            snprintf(fmt, sizeof fmt, "ts%c:%.*s", hx_arrow_time_unit_char(unit), (int)tzl, tz);
            HX_TRY(replace_format(&a->format, fmt));
        }
        break;
    }
    case HX_FBT_DURATION: {
        int unit = (int)hx_arrow_fb_int(fb, type, 0, 2, 1);
        if (unit >= 0 && unit <= 3 && e->type == PQT_INT64 && a->conv == CV_COPY) {
            snprintf(fmt, sizeof fmt, "tD%c", hx_arrow_time_unit_char(unit));
            HX_TRY(replace_format(&a->format, fmt));
        }
        break;
    }
    case HX_FBT_INT: {
        int bits = (int)hx_arrow_fb_int(fb, type, 0, 4, 0);
        int sign = (int)hx_arrow_fb_int(fb, type, 1, 1, 0);
        if (bits == 32 && !sign && e->type == PQT_INT64 && strcmp(a->format, "l") == 0) {
            a->conv = CV_I64_I32;
            a->out_width = 4;
            HX_TRY(replace_format(&a->format, "I"));
        }
        break;
    }
    case HX_FBT_DECIMAL: {
        int bw = (int)hx_arrow_fb_int(fb, type, 2, 4, 128);
        int prec = (int)hx_arrow_fb_int(fb, type, 0, 4, 0), scale = (int)hx_arrow_fb_int(fb, type, 1, 4, 0);
        int is_dec = a->conv == CV_I32_DEC || a->conv == CV_I64_DEC || a->conv == CV_BE_DEC;
        /* decimal32/64 only where every stored value fits (precision 9/18,
         * as Schema.fbs bitWidth requires), else the reader's decimal128 */
        int fits = (bw == 32 && prec <= 9) || (bw == 64 && prec <= 18) || bw == 256;
        if (is_dec && fits && a->format[0] == 'd' && a->out_width == 16) {
            snprintf(fmt, sizeof fmt, "d:%d,%d,%d", prec, scale, bw);
            a->out_width = bw / 8;
            HX_TRY(replace_format(&a->format, fmt));
        }
        break;
    }
    default: break;
    }
    return HOIST_OK;
}

static hx_status apply_field(const struct hoist_pq_file *f, const struct hx_arrow_fb *fb, size_t field,
                             struct hx_pq_anode *a, int depth) {
    char fmt[32];
    if (!field || depth > 64) return HOIST_OK;
    int tt = (int)(uint8_t)hx_arrow_fb_int(fb, field, 2, 1, 0);
    size_t type = hx_arrow_fb_ref(fb, field, 3);
    HX_TRY(field_metadata(fb, field, a));
    uint32_t nch = 0;
    size_t ch = hx_arrow_fb_ref(fb, field, 5);
    if (ch && !hx_arrow_fb_vec(fb, ch, 4, &nch)) nch = 0;
    switch (a->kind) {
    case AN_LEAF: return apply_leaf(f, fb, field, tt, type, a);
    case AN_STRUCT:
        if (tt != HX_FBT_STRUCT || (int)nch != a->nchildren) return HOIST_OK;
        for (uint32_t i = 0; i < nch; i++)
            HX_TRY(apply_field(f, fb, hx_arrow_fb_vec_table(fb, ch, i), &a->children[i], depth + 1));
        return HOIST_OK;
    case AN_LIST:
        if (nch != 1) return HOIST_OK;
        if (tt == HX_FBT_LARGE_LIST || tt == HX_FBT_LARGE_LIST_VIEW) {
            a->large = 1;
            HX_TRY(replace_format(&a->format, "+L"));
        }
        if (tt == HX_FBT_LIST_VIEW || tt == HX_FBT_LARGE_LIST_VIEW) {
            a->list_view = 1;
            HX_TRY(replace_format(&a->format, tt == HX_FBT_LIST_VIEW ? "+vl" : "+vL"));
        } else if (tt != HX_FBT_LIST && tt != HX_FBT_LARGE_LIST && tt != HX_FBT_FSL) {
            return HOIST_OK;
        }
        HX_TRY(apply_field(f, fb, hx_arrow_fb_vec_table(fb, ch, 0), &a->children[0], depth + 1));
        /* Null entries of a fixed_size_list own `size` child slots that
         * Parquet does not store: pq_assemble.c pads them with nulls. */
        if (tt == HX_FBT_FSL) {
            int64_t size = hx_arrow_fb_int(fb, type, 0, 4, -1);
            if (size > 0 && size <= (1 << 20)) {
                a->fixed_size_list = (int)size;
                snprintf(fmt, sizeof fmt, "+w:%d", (int)size);
                HX_TRY(replace_format(&a->format, fmt));
            }
        }
        return HOIST_OK;
    case AN_MAP:
        if (tt != HX_FBT_MAP || nch != 1) return HOIST_OK;
        if (hx_arrow_fb_int(fb, type, 0, 1, 0)) a->flags |= ARROW_FLAG_MAP_KEYS_SORTED;
        {
            /* The entries struct keeps the writer's name (arrow-rs writes the map's own). */
            size_t ent = hx_arrow_fb_vec_table(fb, ch, 0);
            const char *nm;
            uint32_t nl;
            if (ent && hx_arrow_fb_str(fb, hx_arrow_fb_ref(fb, ent, 0), &nm, &nl)) {
                char *s = hx_strndup(nm, nl);
                if (!s) HX_FAIL(HOIST_ERR_NOMEM, "out of memory applying ARROW:schema");
                hx_free(a->children[0].name);
                a->children[0].name = s;
            }
            return apply_field(f, fb, ent, &a->children[0], depth + 1);
        }
    }
    return HOIST_OK;
}

static int b64val(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

hx_status hx_pq_apply_arrow_schema(struct hoist_pq_file *f, const char *b64, size_t len) {
    uint8_t *buf = hx_malloc(len / 4 * 3 + 4);
    if (!buf) HX_FAIL(HOIST_ERR_NOMEM, "out of memory decoding ARROW:schema");
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((uint8_t)b64[i]);
        if (v < 0) continue; /* padding and whitespace */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    size_t start = 0;
    uint32_t w = 0;
    /* IPC framing: optional 0xFFFFFFFF continuation, then an int32 length. */
    if (n >= 4) memcpy(&w, buf, 4);
    start = w == 0xFFFFFFFFu ? 8 : 4;
    hx_status st = HOIST_OK;
    if (start < n) {
        struct hx_arrow_fb msg = {buf + start, n - start};
        size_t root = hx_arrow_fb_root(&msg);
        if (root) {
            size_t schema = hx_arrow_fb_int(&msg, root, 1, 1, 0) == 1 ? hx_arrow_fb_ref(&msg, root, 2) : 0;
            uint32_t nf;
            size_t fields = schema ? hx_arrow_fb_ref(&msg, schema, 1) : 0;
            if (fields && hx_arrow_fb_vec(&msg, fields, 4, &nf) && (int)nf == f->root.nchildren) {
                for (uint32_t i = 0; i < nf && st == HOIST_OK; i++)
                    st = apply_field(f, &msg, hx_arrow_fb_vec_table(&msg, fields, i), &f->root.children[i], 1);
            }
        }
    }
    hx_free(buf);
    return st;
}
