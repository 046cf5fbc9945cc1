#!/usr/bin/env python3
"""A scripted S3 endpoint for loopback tests of hoist_store_get_prefix: it
lists keys a real server refuses to store ("../x", "a//b", "/abs") and serves
a small body for any object GET. Real servers (SeaweedFS) reject such keys,
but a hostile or broken server may list them, and the store must refuse to
map them to local paths.

Usage: hostile_listing.py KEY [KEY...]   (the keys listed for every bucket)
Prints "PORT <n>" on stdout once listening; runs until killed. Object GETs
are counted in the X-Gets header of every listing response.
"""
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEYS = sys.argv[1:]
GETS = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, body, ctype="application/xml"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Gets", str(GETS[0]))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        q = urllib.parse.parse_qs(query)
        if path.count("/") == 1 and "list-type" in q:
            prefix = q.get("prefix", [""])[0]
            items = "".join(
                "<Contents><Key>%s</Key><Size>4</Size><ETag>\"e\"</ETag>"
                "<LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>"
                % urllib.parse.quote(k, safe="/")
                for k in KEYS if k.startswith(prefix))
            body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>'
                    "<Prefix>%s</Prefix><KeyCount>%d</KeyCount><IsTruncated>false</IsTruncated>"
                    "<EncodingType>url</EncodingType>%s</ListBucketResult>"
                    % (urllib.parse.quote(prefix), len(KEYS), items)).encode()
            self._send(200, body)
            return
        GETS[0] += 1
        self._send(200, b"DATA", "application/octet-stream")

    do_HEAD = do_GET


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
