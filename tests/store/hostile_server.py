#!/usr/bin/env python3
"""A scripted S3 endpoint that misbehaves the way a hostile or buggy server
can and a real one (SeaweedFS) never does, for the loopback tests of the
s3:// backend's protocol checks (test_store_hostile.c).

Usage: hostile_server.py MODE [KEY...]   prints "PORT <n>" once listening;
runs until killed. Every response carries X-Requests: the requests served so far
(the listing modes stop looping after MAX_PAGES pages, so a client without
a guard ends, with duplicates, instead of hanging the test).

Modes:
  keys          lists the KEYs given (under the prefix asked for), keys a real
                server refuses to store ("../x", "a//b", "/abs"), and serves
                "DATA" for any object GET (test_store_prefix.c)
  token-repeat  every listing page (ListObjectsV2 and ListMultipartUploads)
                is truncated and names the same continuation token (key
                and upload-id markers)
  token-cycle   the tokens (markers) go A -> B -> C -> A ...
  nul-key       one listing page with "evil/a" and "evil/a%00/b" (url-encoded)
  trickle       object GETs: 200 with a 60-byte body sent at 2 bytes/s
  slow-reader   object PUTs: the body is read at 2 KiB/s (small socket
                buffers), for at most 20 s, then the connection is closed
  range-wrap    ranged GETs: 206 whose Content-Range total (10) is smaller than
                the requested start; a plain GET is a 10-byte object
  suffix-big    suffix GETs (bytes=-N): 206 with 100*N bytes
                ("bytes 0-(100N-1)/100N"), more than was asked for
  composite-wrap  a 12 MiB object with a right COMPOSITE CRC32 ("-3", parts
                of 5, 5 and 2 MiB), whose GetObjectAttributes lists part sizes
                that add up to its size only modulo 2^64
"""
import zlib
import socket
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
KEYS = sys.argv[2:]
MAX_PAGES = 200
COUNT = [0]


def page(keys, truncated, token):
    items = "".join(
        "<Contents><Key>%s</Key><Size>4</Size><ETag>\"e\"</ETag>"
        "<LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>" % k for k in keys)
    nxt = "<NextContinuationToken>%s</NextContinuationToken>" % token if truncated else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>'
            "<KeyCount>%d</KeyCount><IsTruncated>%s</IsTruncated>%s"
            "<EncodingType>url</EncodingType>%s</ListBucketResult>"
            % (len(keys), "true" if truncated else "false", nxt, items)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def head(self, code, length, extra=(), ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Requests", str(COUNT[0]))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def send(self, code, body, extra=(), ctype="application/octet-stream"):
        self.head(code, len(body), extra, ctype)
        self.wfile.write(body)

    def listing(self, q):
        token = q.get("continuation-token", [""])[0]
        if MODE == "keys":
            prefix = q.get("prefix", [""])[0]
            keys = [urllib.parse.quote(k, safe="/") for k in KEYS if k.startswith(prefix)]
            self.send(200, page(keys, False, ""), ctype="application/xml")
            return
        if MODE == "nul-key":
            self.send(200, page(["evil/a", "evil/a%00/b"], False, ""), ctype="application/xml")
            return
        n = int(token[1:]) if token[1:].isdigit() else 0
        last = COUNT[0] >= MAX_PAGES
        if MODE == "token-repeat":
            nxt = "Tsame"
        else:  # token-cycle
            nxt = "T%d" % ((n + 1) % 3)
        # the page count rides in a key so a client that loops sees duplicates
        self.send(200, page(["k%d" % (COUNT[0] % 3)], not last, nxt), ctype="application/xml")

    def uploads(self, q):
        n = q.get("key-marker", [""])[0]
        n = int(n[1:]) if n[1:].isdigit() else 0
        nxt = "k9" if MODE == "token-repeat" else "k%d" % ((n + 1) % 3)
        last = COUNT[0] >= MAX_PAGES
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>b</Bucket>'
                "<IsTruncated>%s</IsTruncated><NextKeyMarker>%s</NextKeyMarker>"
                "<NextUploadIdMarker>u</NextUploadIdMarker><Upload><Key>p/%s</Key><UploadId>u%d</UploadId>"
                "</Upload></ListMultipartUploadsResult>"
                % ("false" if last else "true", nxt, nxt, COUNT[0])).encode()
        self.send(200, body, ctype="application/xml")

    def composite(self, q, rng):
        mib = 1 << 20
        data = bytes(i % 251 for i in range(251)) * (12 * mib // 251 + 1)
        data = data[:12 * mib]
        if "attributes" in q:
            sizes = [(1 << 64) - 3 * mib, 13 * mib, 2 * mib]  # sum = 12 MiB mod 2^64
            parts = "".join("<Part><PartNumber>%d</PartNumber><Size>%d</Size></Part>" % (i + 1, n)
                            for i, n in enumerate(sizes))
            self.send(200, ("<GetObjectAttributesResponse><ETag>e</ETag><ObjectParts><PartsCount>3</PartsCount>"
                            "<IsTruncated>false</IsTruncated>%s</ObjectParts></GetObjectAttributesResponse>"
                            % parts).encode(), ctype="application/xml")
            return
        crcs = b"".join(zlib.crc32(data[a:a + 5 * mib]).to_bytes(4, "big") for a in (0, 5 * mib, 10 * mib))
        import base64
        extra = [("ETag", '"e"'), ("x-amz-checksum-type", "COMPOSITE"),
                 ("x-amz-checksum-crc32", base64.b64encode(zlib.crc32(crcs).to_bytes(4, "big")).decode() + "-3")]
        if rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            a, b = int(a), min(int(b), len(data) - 1)
            self.send(206, data[a:b + 1], [("Content-Range", "bytes %d-%d/%d" % (a, b, len(data))), ("ETag", '"e"')])
            return
        self.head(200, len(data), extra)
        try:
            self.wfile.write(data)
        except OSError:
            pass

    def do_GET(self):
        COUNT[0] += 1
        path, _, query = self.path.partition("?")
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        if "uploads" in q:
            self.uploads(q)
            return
        if "list-type" in q:
            self.listing(q)
            return
        rng = self.headers.get("Range", "")
        if MODE == "composite-wrap":
            self.composite(q, rng)
            return
        if MODE == "keys":
            self.send(200, b"DATA")
            return
        if MODE == "trickle":
            body = b"x" * 60
            self.head(200, len(body))
            for i in range(0, len(body), 2):
                try:
                    self.wfile.write(body[i:i + 2])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)
            return
        if MODE == "range-wrap":
            if rng.startswith("bytes=") and not rng.startswith("bytes=-"):
                a, _, b = rng[6:].partition("-")
                a, b = int(a), int(b)
                self.send(206, b"r" * (b - a + 1), [("Content-Range", "bytes %d-%d/10" % (a, b))])
            else:
                self.send(200, b"0123456789")
            return
        if MODE == "suffix-big":
            if rng.startswith("bytes=-"):
                total = 100 * int(rng[7:])
                self.send(206, b"s" * total, [("Content-Range", "bytes 0-%d/%d" % (total - 1, total))])
            else:
                self.send(200, b"0123456789")
            return
        self.send(404, b"")

    def do_PUT(self):
        COUNT[0] += 1
        if MODE != "slow-reader":
            self.send(501, b"")
            return
        left = int(self.headers.get("Content-Length", "0"))
        t0 = time.time()
        while left > 0 and time.time() - t0 < 20:
            try:
                got = self.rfile.read(min(2048, left))
            except OSError:
                return
            if not got:
                return
            left -= len(got)
            time.sleep(1)
        self.close_connection = True
        if left == 0:
            self.send(200, b"", [("ETag", '"e"')])

    def do_HEAD(self):
        COUNT[0] += 1
        self.head(200, 10)


class Server(ThreadingHTTPServer):
    def server_bind(self):
        # small receive buffers, so a slow reader slows the sender at once
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        super().server_bind()


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
