/* The CSV row lexer: one row at a time, the same code for the header, the
 * samples, the sniffer and the chunk parsers, so every reader of the input
 * agrees where rows and fields are. Quoting follows RFC 4180 section 2
 * (a field starting with the quote runs to the quote not doubled; line
 * breaks inside it are data); like pyarrow, a quote inside an unquoted field
 * is literal and bytes after a closing quote continue the field. */
#include "csv_internal.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void hx_csv_dialect_init(struct hx_csv_dialect *d, uint8_t delim, int quote, int escape, bool double_quote,
                         int comment) {
    memset(d, 0, sizeof *d);
    d->delim = delim;
    d->has_quote = quote > 0;
    d->quote = (uint8_t)(quote > 0 ? quote : 0);
    d->has_escape = escape > 0;
    d->escape = (uint8_t)(escape > 0 ? escape : 0);
    d->has_comment = comment > 0;
    d->comment = (uint8_t)(comment > 0 ? comment : 0);
    d->double_quote = double_quote;
    d->stop[delim] = 1;
    d->stop['\n'] = 1;
    d->stop['\r'] = 1;
    if (d->has_escape) d->stop[d->escape] = 1;
    d->simple = !d->has_escape && !(d->has_quote && d->stop[d->quote]);
}

/* Scans an unquoted run from p to the delimiter or line break; an escape
 * takes the next byte literally. Returns false when non-final data ends
 * right after an escape (the escaped byte is still to come). */
/* First byte at or after p that ends an unquoted run (d->stop), or len.
 * With SSE2 (every x86-64) 16 bytes are tested at once: most fields end
 * within the first load. */
static inline size_t find_stop(const struct hx_csv_dialect *d, const uint8_t *data, size_t p, size_t len) {
#if defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8((char)d->delim), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'),
                  ve = _mm_set1_epi8((char)(d->has_escape ? d->escape : d->delim));
    for (; p + 16 <= len; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(data + p));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vd), _mm_cmpeq_epi8(x, vn)),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, vr), _mm_cmpeq_epi8(x, ve)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) return p + (size_t)__builtin_ctz(mask);
    }
#endif
    while (p < len && !d->stop[data[p]]) p++;
    return p;
}

static inline bool scan_unquoted(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, bool final,
                                 size_t *pp, bool *raw) {
    size_t p = *pp;
    for (;;) {
        p = find_stop(d, data, p, len);
        if (p < len && d->has_escape && data[p] == d->escape) {
            *raw = true;
            if (p + 1 >= len) {
                if (!final) return false;
                p = len;
                break;
            }
            p += 2;
            continue;
        }
        break;
    }
    *pp = p;
    return true;
}

/* ---- the fast row lexer ------------------------------------------------ */

#if defined(__SSE2__)
/* One 64-byte block from bp: bit i of *stops is set when data[bp + i] is
 * the delimiter, CR or LF; of *quotes when it is the quote. */
static inline void block_masks(const struct hx_csv_dialect *d, const uint8_t *data, size_t bp, uint64_t *stops,
                               uint64_t *quotes) {
    const __m128i vd = _mm_set1_epi8((char)d->delim), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'),
                  vq = _mm_set1_epi8((char)d->quote);
    uint64_t s = 0, q = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(data + bp + 16 * k));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vd), _mm_cmpeq_epi8(x, vn)), _mm_cmpeq_epi8(x, vr));
        s |= (uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * k);
        q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) << (16 * k);
    }
    *stops = s;
    *quotes = d->has_quote ? q : 0;
}

/* The row at p for a dialect without escapes (d->simple), its fields found
 * from 64-byte masks of stops and quotes instead of byte by byte. It takes
 * only rows it reads exactly as the general lexer does: every field plain,
 * or quoted with the closing quote right before a stop; whole 64-byte
 * blocks inside the data. Anything else — a doubled quote, bytes after a
 * closing quote, a row running into the last 64 bytes, a row too long for
 * the index — returns false, and the general lexer reads the row (out may
 * have been written meanwhile; it is overwritten). Inlined twice, with and
 * without a column map (mapped is a constant), so the common case (every
 * column, in order) stores each field with no lookup. */
#if defined(__GNUC__)
#define LEX_INLINE inline __attribute__((always_inline))
#else
#define LEX_INLINE inline
#endif
static LEX_INLINE bool lex_row_fast(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p,
                                    size_t base, const int *map, size_t cap, struct hx_csv_field *out, size_t *nfields,
                                    size_t *next, const bool mapped) {
    if (len < 64 || p > len - 64 || p < base) return false;
    const size_t row = p;
    size_t bp = p, nf = 0;
    uint64_t stops, quotes;
    block_masks(d, data, bp, &stops, &quotes);
    for (;;) {
        size_t vstart = p, vend;
        if (p - bp >= 64) { /* the field starts past the block */
            bp = p;
            if (bp > len - 64) return false;
            block_masks(d, data, bp, &stops, &quotes);
        }
        if (d->has_quote && data[p] == d->quote) {
            /* the closing quote: the next quote bit after the opening one */
            uint64_t q = (p - bp == 63) ? 0 : quotes & ~(((uint64_t)2 << (p - bp)) - 1);
            while (!q) {
                bp += 64;
                if (bp > len - 64) return false;
                block_masks(d, data, bp, &stops, &quotes);
                q = quotes;
            }
            size_t close = bp + (size_t)__builtin_ctzll(q);
            if (close + 1 >= len || !d->stop[data[close + 1]]) return false; /* doubled, or bytes follow */
            vstart = p + 1;
            vend = close;
            p = close + 1;
            if (p - bp >= 64) {
                bp = p;
                if (bp > len - 64) return false;
                block_masks(d, data, bp, &stops, &quotes);
            }
        } else {
            /* a quote inside an unquoted field is data: only stops end it */
            uint64_t st = stops & ~(((uint64_t)1 << (p - bp)) - 1);
            while (!st) {
                bp += 64;
                if (bp > len - 64) return false;
                block_masks(d, data, bp, &stops, &quotes);
                st = stops;
            }
            vend = bp + (size_t)__builtin_ctzll(st);
            p = vend;
        }
        /* offsets and lengths may wrap here: the whole row is checked below */
        if (mapped ? nf < cap && map[nf] >= 0 : nf < cap) {
            struct hx_csv_field *f = &out[mapped ? (size_t)map[nf] : nf];
            f->off = (uint32_t)(vstart - base);
            f->len = (uint32_t)(vend - vstart);
        }
        nf++;
        uint8_t c = data[p++]; /* a stop: p < len, its block is inside the data */
        if (c == d->delim) continue;
        if (c == '\r' && p < len && data[p] == '\n') p++;
        break;
    }
    /* every field lies in [row, p): when that fits the index, each one did */
    if (p - base > UINT32_MAX || p - row > HX_CSV_FIELD_MAXLEN) return false;
    *nfields = nf;
    *next = p;
    return true;
}

bool hx_csv_lex_row_fast(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, size_t base,
                         const int *map, size_t cap, struct hx_csv_field *out, size_t *nfields, size_t *next) {
    return map ? lex_row_fast(d, data, len, p, base, map, cap, out, nfields, next, true)
               : lex_row_fast(d, data, len, p, base, NULL, cap, out, nfields, next, false);
}
#else
bool hx_csv_lex_row_fast(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, size_t base,
                         const int *map, size_t cap, struct hx_csv_field *out, size_t *nfields, size_t *next) {
    return false; /* no SIMD: the general lexer reads every row */
}
#endif

enum hx_csv_row hx_csv_lex_row(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, bool final,
                               size_t base, const int *map, size_t cap, struct hx_csv_field *out, size_t *nfields,
                               size_t *next) {
    if (d->simple && hx_csv_lex_row_fast(d, data, len, p, base, map, cap, out, nfields, next)) return HX_ROW_OK;
    return hx_csv_lex_row_general(d, data, len, p, final, base, map, cap, out, nfields, next);
}

/* ---- the general row lexer --------------------------------------------- */

enum hx_csv_row hx_csv_lex_row_general(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p,
                                       bool final, size_t base, const int *map, size_t cap, struct hx_csv_field *out,
                                       size_t *nfields, size_t *next) {
    size_t nf = 0;
    for (;;) {
        size_t vstart = p, vlen;
        bool raw = false;
        if (d->has_quote && p < len && data[p] == d->quote) {
            size_t cstart = ++p, cend;
            for (;;) {
                if (!d->has_escape) {
                    const uint8_t *q = memchr(data + p, d->quote, len - p);
                    p = q ? (size_t)(q - data) : len;
                } else {
                    while (p < len && data[p] != d->quote && data[p] != d->escape) p++;
                }
                if (p >= len) return final ? HX_ROW_UNTERMINATED : HX_ROW_INCOMPLETE;
                if (d->has_escape && data[p] == d->escape) {
                    raw = true;
                    if (p + 1 >= len) return final ? HX_ROW_UNTERMINATED : HX_ROW_INCOMPLETE;
                    p += 2;
                    continue;
                }
                if (d->double_quote && p + 1 < len && data[p + 1] == d->quote) {
                    raw = true;
                    p += 2;
                    continue;
                }
                /* a quote ending non-final data may be the first of a pair */
                if (d->double_quote && p + 1 == len && !final) return HX_ROW_INCOMPLETE;
                cend = p++;
                break;
            }
            if (p < len && !d->stop[data[p]]) raw = true; /* bytes after the closing quote */
            if (p < len && d->stop[data[p]] && d->has_escape && data[p] == d->escape) raw = true;
            if (raw) {
                if (!scan_unquoted(d, data, len, final, &p, &raw)) return HX_ROW_INCOMPLETE;
                vlen = p - vstart;
            } else {
                vstart = cstart;
                vlen = cend - cstart;
            }
        } else {
            if (!scan_unquoted(d, data, len, final, &p, &raw)) return HX_ROW_INCOMPLETE;
            vlen = p - vstart;
        }
        if (nf < cap && (!map || map[nf] >= 0)) {
            if (vstart - base > UINT32_MAX || vlen > HX_CSV_FIELD_MAXLEN) return HX_ROW_TOO_BIG;
            struct hx_csv_field *f = &out[map ? (size_t)map[nf] : nf];
            f->off = (uint32_t)(vstart - base);
            f->len = (uint32_t)vlen | (raw ? HX_CSV_FIELD_RAW : 0);
        }
        nf++;
        if (p >= len) {
            if (!final) return HX_ROW_INCOMPLETE;
            break;
        }
        uint8_t c = data[p++];
        if (c == d->delim) continue;
        if (c == '\r' && p < len && data[p] == '\n') p++;
        break;
    }
    *nfields = nf;
    *next = p;
    return HX_ROW_OK;
}

size_t hx_csv_skip_lines(const struct hx_csv_dialect *d, const uint8_t *data, size_t len, size_t p, bool final) {
    while (p < len) {
        uint8_t c = data[p];
        if (c == '\n') {
            p++;
        } else if (c == '\r') {
            p++;
            if (p < len && data[p] == '\n') p++;
        } else if (d->has_comment && c == d->comment) {
            while (p < len && data[p] != '\n' && data[p] != '\r') p++;
            if (p >= len) return final ? len : SIZE_MAX;
        } else {
            return p;
        }
    }
    return len;
}

size_t hx_csv_next_line(const uint8_t *data, size_t len, size_t p) {
    if (p == 0) return 0;
    for (size_t q = p; q < len; q++) {
        uint8_t prev = data[q - 1];
        if (prev == '\n' || (prev == '\r' && data[q] != '\n')) return q;
    }
    return len;
}

hx_status hx_csv_unescape(const struct hx_csv_dialect *d, const uint8_t *raw, size_t n, struct hx_buf *buf) {
    buf->len = 0;
    HX_TRY(hx_buf_reserve(buf, n + 1));
    char *o = buf->data;
    size_t i = 0, k = 0;
    bool quoted = d->has_quote && n > 0 && raw[0] == d->quote;
    if (quoted) i = 1;
    while (i < n) {
        uint8_t c = raw[i];
        if (d->has_escape && c == d->escape) {
            if (i + 1 < n) o[k++] = (char)raw[i + 1];
            i += 2;
        } else if (quoted && c == d->quote) {
            if (d->double_quote && i + 1 < n && raw[i + 1] == d->quote) {
                o[k++] = (char)c;
                i += 2;
            } else {
                quoted = false;
                i++;
            }
        } else {
            o[k++] = (char)c;
            i++;
        }
    }
    buf->len = k;
    return HOIST_OK;
}

bool hx_csv_field_value(const struct hx_csv_dialect *d, const uint8_t *base, struct hx_csv_field f, struct hx_buf *tmp,
                        const uint8_t **s, size_t *n) {
    *s = base + f.off;
    *n = f.len & HX_CSV_FIELD_MAXLEN;
    if (!(f.len & HX_CSV_FIELD_RAW)) return true;
    if (hx_csv_unescape(d, *s, *n, tmp) != HOIST_OK) return false;
    *s = (const uint8_t *)tmp->data;
    *n = tmp->len;
    return true;
}

uint64_t hx_csv_line_of(const uint8_t *data, size_t pos) {
    uint64_t lines = 1;
    bool has_cr = memchr(data, '\r', pos) != NULL;
    if (!has_cr) {
        const uint8_t *p = data, *end = data + pos;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
        return lines;
    }
    for (size_t i = 0; i < pos; i++)
        if (data[i] == '\n' || (data[i] == '\r' && (i + 1 >= pos || data[i + 1] != '\n'))) lines++;
    return lines;
}

/* ---- delimiter sniffing ----------------------------------------------- */

#define SNIFF_ROWS 50

uint8_t hx_csv_sniff_delimiter(const uint8_t *data, size_t len, bool final, int quote, int escape, bool double_quote,
                               int comment) {
    static const uint8_t candidates[] = {',', '\t', ';', '|'};
    uint8_t best = ',';
    size_t best_rows = 0, best_cols = 0;
    for (size_t c = 0; c < sizeof candidates; c++) {
        if ((int)candidates[c] == quote || (int)candidates[c] == escape || (int)candidates[c] == comment) continue;
        struct hx_csv_dialect d;
        hx_csv_dialect_init(&d, candidates[c], quote, escape, double_quote, comment);
        size_t counts[SNIFF_ROWS], nrows = 0, p = 0;
        while (nrows < SNIFF_ROWS) {
            p = hx_csv_skip_lines(&d, data, len, p, final);
            if (p >= len) break;
            size_t nf, next;
            if (hx_csv_lex_row(&d, data, len, p, final, p, NULL, 0, NULL, &nf, &next) != HX_ROW_OK) break;
            counts[nrows++] = nf;
            p = next;
        }
        /* the most common field count and how many rows have it */
        size_t mode = 0, freq = 0;
        for (size_t i = 0; i < nrows; i++) {
            size_t f = 0;
            for (size_t k = 0; k < nrows; k++) f += counts[k] == counts[i];
            if (f > freq || (f == freq && counts[i] > mode)) {
                freq = f;
                mode = counts[i];
            }
        }
        /* a delimiter must split (nearly) every row alike */
        if (mode < 2 || freq * 10 < nrows * 9) continue;
        if (freq > best_rows || (freq == best_rows && mode > best_cols)) {
            best = candidates[c];
            best_rows = freq;
            best_cols = mode;
        }
    }
    return best;
}
