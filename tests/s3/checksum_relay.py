"""An HTTP relay in front of the local S3 server that behaves like the
S3-compatible stores which reject flexible checksums (Backblaze B2:
"Unsupported header 'x-amz-checksum-algorithm'", Cloudflare R2: 501 on
x-amz-checksum-crc32): any request carrying an x-amz-checksum-* or
x-amz-sdk-checksum-* header gets 400 InvalidArgument; everything else is
forwarded unchanged (Host included, so signatures stay valid). It counts the
uploads that came with Content-MD5, the server-side copy requests
(x-amz-copy-source) and the object bytes that went out in GET answers.

With --reject full-object it plays an older store instead, one that takes
CRC32C but not the FULL_OBJECT checksum type or CRC64NVME: only requests
with x-amz-checksum-type or x-amz-checksum-crc64nvme (or that algorithm
declared) are refused, and "creates" counts CreateMultipartUploads by the
algorithm they declared.

Usage: checksum_relay.py --upstream 127.0.0.1:8333 [--reject all|full-object] [--until-killed]
Prints "PORT <n>" once listening; answers GET /_count with the counters;
runs until stdin closes.
"""
import argparse
import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REJECT = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>"
          b"<Message>Unsupported header 'x-amz-checksum'</Message></Error>")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--reject", choices=("all", "full-object"), default="all")
    ap.add_argument("--until-killed", action="store_true", help="run until killed, not until stdin closes")
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    counts = {"rejected": 0, "md5_uploads": 0, "copies": 0, "get_bytes": 0, "creates": {}}

    def refused(headers):
        names = [k.lower() for k in headers.keys()]
        if args.reject == "all":
            return any(k.startswith("x-amz-checksum") or k.startswith("x-amz-sdk-checksum") for k in names)
        return ("x-amz-checksum-type" in names or "x-amz-checksum-crc64nvme" in names
                or (headers.get("x-amz-checksum-algorithm") or "").upper() == "CRC64NVME")
    lock = threading.Lock()

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="application/xml"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def relay(self):
            if self.path == "/_count":
                with lock:
                    return self.answer(200, json.dumps(counts).encode(), "application/json")
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            names = [k.lower() for k in self.headers.keys()]
            if refused(self.headers):
                with lock:
                    counts["rejected"] += 1
                return self.answer(400, REJECT)
            with lock:
                if self.command == "POST" and self.path.endswith("?uploads="):
                    alg = self.headers.get("x-amz-checksum-algorithm") or "none"
                    counts["creates"][alg] = counts["creates"].get(alg, 0) + 1
                if self.command == "PUT" and "content-md5" in names:
                    counts["md5_uploads"] += 1
                if "x-amz-copy-source" in names:
                    counts["copies"] += 1
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            length = r.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            if self.command == "GET":
                with lock:
                    counts["get_bytes"] += len(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT", server.server_address[1], flush=True)
    if args.until_killed:
        threading.Event().wait()
    sys.stdin.read()


if __name__ == "__main__":
    main()
