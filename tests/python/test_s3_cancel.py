"""Ctrl-C during a hoist.S3 transfer: the call stops promptly with
KeyboardInterrupt and leaves no temp files; and the GIL is free during I/O."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import interrupt_after_start
from hoist import S3, S3GetObject

SCRIPT = r"""
import os, sys, time
from hoist import S3, S3GetObject
root, tmproot, op = sys.argv[1], sys.argv[2], sys.argv[3]
with S3(s3root=root, tmproot=tmproot, concurrency=2) as s3:
    size = s3.info("big").size
    # Many distinct ranges of one object: a long transfer without using much memory at once.
    reqs = [S3GetObject("big", i, size - i) for i in range(400)]
    print("started", flush=True)
    t0 = time.perf_counter()
    try:
        if op == "get":
            s3.get_many(reqs)
        else:
            body = memoryview(bytes(size))
            s3.put_many([("up/%d" % i, body) for i in range(400)])
        print("finished %.3f" % (time.perf_counter() - t0), flush=True)
    except KeyboardInterrupt:
        print("interrupted %.3f" % time.perf_counter(), flush=True)
        raise SystemExit(3)
"""


@pytest.mark.parametrize("op", ["get", "put"])
def test_ctrl_c_cancels_promptly(op, bucket, tmp_path):
    root = "s3://%s/cancel" % bucket
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        s3.put("big", os.urandom(16 << 20))
    tmproot = tmp_path / "tmp"
    tmproot.mkdir()
    p, out, err, elapsed = interrupt_after_start([SCRIPT, root, str(tmproot), op], 0.7)
    print("%s: exit %d %.3f s after SIGINT; %s" % (op, p.returncode, elapsed, out.strip()))
    assert "finished" not in out, "the transfer ended before the signal: make it longer"
    assert p.returncode == 3, err[-2000:]
    assert elapsed < 2.0
    assert os.listdir(tmproot) == []  # the S3 scope removed everything, no partial files remain


def test_gil_is_released_during_transfers(bucket, tmp_path):
    root = "s3://%s/gil" % bucket
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        s3.put("big", os.urandom(32 << 20))
        t = threading.Thread(target=ticker)
        t.start()
        t0 = time.perf_counter()
        s3.get_many([S3GetObject("big", i, (32 << 20) - i) for i in range(6)], into_memory=True)
        t1 = time.perf_counter()
        stop.set()
        t.join()
    during = [x for x in ticks if t0 <= x <= t1]
    gaps = [b - a for a, b in zip(during, during[1:])]
    print("transfer %.3f s, %d ticks, longest gap %.1f ms" % (t1 - t0, len(during), max(gaps or [0]) * 1e3))
    # With the GIL held for the whole call, the ticker could not run at all.
    assert len(during) >= max(3, (t1 - t0) / 0.01)


def test_hoist_metaflow_module_exports():
    import hoist
    import hoist.metaflow as hm
    assert hm.S3 is hoist.S3
    for name in ("S3Object", "S3GetObject", "S3PutObject", "RangeInfo", "MetaflowS3Exception",
                 "MetaflowS3NotFound", "MetaflowS3AccessDenied", "MetaflowS3URLException",
                 "MetaflowS3InvalidObject", "MetaflowS3InvalidRange"):
        assert getattr(hm, name) is getattr(hoist, name)
    # Importing hoist.metaflow must not import metaflow (slow) by itself.
    code = "import sys, hoist.metaflow; print('metaflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_fork_child_gets_its_own_client(bucket, tmp_path):
    root = "s3://%s/fork" % bucket
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        s3.put("k", "parent")
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: the parent's client threads are gone; hoist must make a new one
            try:
                os.write(w, s3.get("k", into_memory=True).blob)
            finally:
                os._exit(0)
        os.close(w)
        data = os.read(r, 100)
        os.waitpid(pid, 0)
        assert data == b"parent"
        assert s3.get("k").text == "parent"


TERM_SCRIPT = r"""
import sys
from hoist import S3, S3GetObject
root, tmproot, op = sys.argv[1], sys.argv[2], sys.argv[3]
with S3(s3root=root, tmproot=tmproot, concurrency=2) as s3:
    if op == "get":
        size = s3.info("big").size
        print("started", flush=True)
        s3.get_many([S3GetObject("big", i, size - i) for i in range(400)])
    else:
        body = memoryview(bytes(40 << 20))  # > 2 parts: multipart uploads
        print("started", flush=True)
        s3.put_many([("up/%d" % i, body) for i in range(400)])
    print("finished", flush=True)
"""


@pytest.mark.parametrize("op", ["get", "put"])
def test_sigterm_cancels_like_ctrl_c(op, bucket, tmp_path, s3_env):
    # issue 12, finding 3: SIGTERM (Batch, Kubernetes) with its default action
    # used to kill the interpreter mid-call, leaving multipart uploads and temp
    # files; now the call cleans up and the program exits 143 via SystemExit.
    import boto3
    from conftest import pending_uploads
    root = "s3://%s/term" % bucket
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        s3.put("big", os.urandom(16 << 20))
    tmproot = tmp_path / "tmp"
    tmproot.mkdir()
    p = subprocess.Popen([sys.executable, "-c", TERM_SCRIPT, root, str(tmproot), op], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    time.sleep(0.7)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert "finished" not in out, "the transfer ended before the signal: make it longer"
    assert p.returncode == 143, err[-2000:]
    assert os.listdir(tmproot) == []
    client = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    assert pending_uploads(client, bucket) == []
