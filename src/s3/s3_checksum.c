/* S3's flexible checksums above the CRC arithmetic: which stored checksum
 * of an S3 answer a download can verify, the header format of values
 * (base64 of the big-endian digest), the checksums of upload bodies, and
 * when a store refuses the FULL_OBJECT type. The CRCs themselves are
 * computed in util (crc.c) and, as bytes arrive, in net. */
#include "s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c) {
    const char *at = c ? strchr(B64, c) : NULL;
    return at ? (int)(at - B64) : -1;
}

/* Decodes a base64 digest of exactly nbytes (4 or 8) into *out; 0 when the
 * text is anything else ("-N" suffix, wrong length, stray characters). */
static int decode_digest(const char *s, size_t nbytes, uint64_t *out) {
    size_t chars = (nbytes + 2) / 3 * 4, len = strlen(s);
    if (len != chars) return 0;
    uint8_t bytes[9] = {0};
    size_t nb = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=') {
            for (size_t j = i; j < len; j++)
                if (s[j] != '=') return 0;
            break;
        }
        int v = b64_value(s[i]);
        if (v < 0) return 0;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (nb == sizeof bytes) return 0;
            bytes[nb++] = (uint8_t)(acc >> bits);
        }
    }
    if (nb != nbytes) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < nbytes; i++) v = v << 8 | bytes[i];
    *out = v;
    return 1;
}

int hx_s3_full_checksum(const struct hx_s3_resp *r, uint64_t *want) {
    /* A COMPOSITE type names the object's algorithm's value as a checksum of
     * checksums; S3 marks it with "-N" too, which decode_digest refuses. */
    if (strcmp(r->checksum_type, "COMPOSITE") == 0) return HX_CRC_NONE;
    if (r->checksum_crc64nvme[0]) return decode_digest(r->checksum_crc64nvme, 8, want) ? HX_CRC_64NVME : HX_CRC_NONE;
    if (r->checksum_crc32c[0]) return decode_digest(r->checksum_crc32c, 4, want) ? HX_CRC_32C : HX_CRC_NONE;
    if (r->checksum_crc32[0]) return decode_digest(r->checksum_crc32, 4, want) ? HX_CRC_32 : HX_CRC_NONE;
    return HX_CRC_NONE;
}

const char *hx_s3_checksum_name(int kind) {
    switch (kind) {
    case HX_CRC_32C: return "CRC32C";
    case HX_CRC_32: return "CRC32";
    case HX_CRC_64NVME: return "CRC64NVME";
    default: return "none";
    }
}

void hx_s3_checksum_base64(int kind, uint64_t value, char out[16]) {
    size_t n = kind == HX_CRC_64NVME ? 8 : 4;
    uint8_t b[8];
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) | (i + 2 < n ? b[i + 2] : 0);
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
}

uint64_t hx_s3_body_crc(int kind, const void *data, uint64_t len, char b64[16]) {
    const void *p = len ? data : "";
    uint64_t v = kind == HX_CRC_64NVME ? hx_crc64nvme_update(0, p, (size_t)len) : hx_crc32c_update(0, p, (size_t)len);
    if (b64) hx_s3_checksum_base64(kind == HX_CRC_64NVME ? HX_CRC_64NVME : HX_CRC_32C, v, b64);
    return v;
}

int hx_s3_full_object_refused(const struct hx_net_req *req) {
    long http = req->resp.status;
    if (http != 400 && http != 501) return 0;
    char code[64], msg[8];
    if (!hx_s3_parse_error(req->body.data, req->body.len, code, sizeof code, msg, sizeof msg)) return http == 501;
    return strcmp(code, "InvalidArgument") == 0 || strcmp(code, "InvalidRequest") == 0 ||
           strcmp(code, "NotImplemented") == 0;
}

int hx_s3_composite_checksum(const struct hx_s3_resp *r, uint64_t *want, int *nparts) {
    const char *vals[2] = {r->checksum_crc32c, r->checksum_crc32};
    const int kinds[2] = {HX_CRC_32C, HX_CRC_32};
    for (int i = 0; i < 2; i++) {
        const char *dash = strchr(vals[i], '-');
        if (dash == NULL || (size_t)(dash - vals[i]) != 8) continue;
        char digest[9];
        memcpy(digest, vals[i], 8);
        digest[8] = '\0';
        char *end;
        unsigned long n = strtoul(dash + 1, &end, 10);
        if (end == dash + 1 || *end || dash[1] == '0' || n < 1 || n > 10000) return HX_CRC_NONE;
        if (!decode_digest(digest, 4, want)) return HX_CRC_NONE;
        *nparts = (int)n;
        return kinds[i];
    }
    return HX_CRC_NONE;
}

/* GetObjectAttributes answers are small: ~60 bytes a part, 1,000 parts. */
#define ATTRS_XML_CAP ((size_t)1 << 20)

hx_status hx_s3_object_parts_request(struct hx_s3 *s3, struct hx_net_req *req, const char *bucket, const char *key,
                                     int marker) {
    char m[16];
    snprintf(m, sizeof m, "%d", marker);
    struct hx_s3_header h[3] = {
        {"x-amz-object-attributes", "ETag,ObjectParts"}, {"x-amz-max-parts", "1000"}, {"x-amz-part-number-marker", m}};
    req->sink = HX_SINK_BUF;
    req->body_cap = ATTRS_XML_CAP;
    req->has_body = 0;
    req->body_data = NULL;
    req->body_len = 0;
    return hx_s3_build_request(s3, req, "GET", bucket, key, "attributes=", NULL, h, marker > 0 ? 3 : 2);
}
