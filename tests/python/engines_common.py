"""Shared by test_engines_{ray,dask,spark}.py: the test dataset on the local
S3 server and a byte-counting relay in front of the server.

The relay is how pushdown is checked "by bytes fetched": the engine tasks run
in other processes, so the bytes their loads fetch are counted on the wire.
The endpoint (the relay's URL) travels to the tasks as the non-secret store
setting ``endpoint``; SigV4 stays valid because the Host header is forwarded
unchanged. An optional per-chunk delay slows reads down so that a test can
kill a worker while it reads."""
import socket
import threading
import time

import numpy as np
import pyarrow as pa

import hoist

ROWS = 120_000
FILES = 4


def make_table(rows=ROWS):
    """id sorted (row groups prunable by id), x/k small numbers, s a wide
    incompressible string column (so projecting it away is visible)."""
    rng = np.random.default_rng(17)
    return pa.table({
        "id": np.arange(rows, dtype=np.int64),
        "x": rng.random(rows),
        "k": rng.integers(0, 10, rows),
        "s": pa.array(["%016x%016x" % (u, v) for u, v in zip(rng.integers(0, 2**62, rows).tolist(),
                                                          rng.integers(0, 2**62, rows).tolist())]),
    })


def write_dataset(url, rows=ROWS):
    """The table as FILES files of several row groups each; returns it."""
    t = make_table(rows)
    hoist.write_table(t, url, max_rows_per_file=rows // FILES, row_group_size=rows // (FILES * 5),
                      compression="snappy")
    return t


class ByteRelay:
    """A TCP relay 127.0.0.1:port -> upstream counting the bytes sent back."""

    def __init__(self, upstream, delay_per_chunk=0.0):
        host, port = upstream.split("://", 1)[-1].rsplit(":", 1)
        self.upstream = (host, int(port))
        self.delay = delay_per_chunk
        self.down = 0
        self.lock = threading.Lock()
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            n, self.down = self.down, 0
        return n

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream)
            except OSError:
                c.close()
                continue
            threading.Thread(target=self._pipe, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True), daemon=True).start()

    def _pipe(self, src, dst, count):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if count:
                    with self.lock:
                        self.down += len(b)
                    if self.delay:
                        time.sleep(self.delay)
                dst.sendall(b)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.closed = True
        self.srv.close()


def list_keys(s3, bucket, prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(o["Key"] for o in page.get("Contents", []))
    return out


def _plain(t):
    """String columns as utf8 (pandas hands back large_string)."""
    cols = [c.cast(pa.string()) if pa.types.is_large_string(c.type) or pa.types.is_string_view(c.type) else c
            for c in t.columns]
    return pa.table(cols, names=t.column_names)


def sorted_equal(a, b, key="id"):
    """Two Arrow tables hold the same rows and values (order and the string
    type's width ignored)."""
    a = _plain(pa.table(a)).sort_by(key)
    b = _plain(pa.table(b).select(a.column_names)).sort_by(key)
    return a.equals(b)
