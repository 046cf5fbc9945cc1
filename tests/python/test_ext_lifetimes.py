"""Lifetimes and error paths of the _hoist extension that need the
AddressSanitizer pass (scripts/run-tests) to show a failure as a crash report:
closing a client or dataset while another thread's call runs without the GIL,
and C messages cut inside a multi-byte character."""
import os
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hoist
from hoist import _hoist


def _close_mid_call(obj, call, wait_for_start):
    """Runs call() on a thread and closes obj from this one while it runs
    (its C part runs with the GIL released). Returns call()'s result."""
    out = {}

    def run():
        try:
            out["result"] = call()
        except BaseException as e:  # report anything to the asserting thread
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    wait_for_start()
    obj.close()
    t.join(120)
    assert not t.is_alive()
    if "error" in out:
        raise out["error"]
    return out["result"]


def test_store_close_while_get_many_runs_on_another_thread(s3_env, bucket):
    store = _hoist.Store(endpoint=s3_env["AWS_ENDPOINT_URL"])
    n, size = 120, 200_000
    urls = ["s3://%s/k%03d" % (bucket, i) for i in range(n)]
    res = store.put_many([(u, bytes([i % 251]) * size, None, None, None) for i, u in enumerate(urls)])
    assert all(st == 0 for st, _ in res)
    before = store.stats()["requests"]

    def started():
        deadline = time.monotonic() + 10
        while store.stats()["requests"] == before and time.monotonic() < deadline:
            time.sleep(0.001)

    got = _close_mid_call(store, lambda: store.get_many([(u, 0, -1, False) for u in urls]), started)
    # The call that was in flight finishes with every object intact; the
    # client is freed when it returns, and is unusable from the close on.
    assert [r[0] for r in got] == [0] * n
    assert all(bytes(memoryview(r[2])) == bytes([i % 251]) * size for i, r in enumerate(got))
    with pytest.raises(ValueError, match="closed"):
        store.get_many([(urls[0], 0, -1, False)])
    store.close()  # twice is fine


def test_store_close_from_signal_handler_mid_call(s3_env, bucket):
    """The progress callback runs Python signal handlers inside the call: a
    handler that closes the client must not free it under the call."""
    import signal

    store = _hoist.Store(endpoint=s3_env["AWS_ENDPOINT_URL"])
    urls = ["s3://%s/s%03d" % (bucket, i) for i in range(60)]
    store.put_many([(u, b"y" * 300_000, None, None, None) for u in urls])
    closed = []

    def handler(signum, frame):
        if not closed:
            store.close()
            closed.append(1)

    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.02, lambda: os.kill(os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        got = store.get_many([(u, 0, -1, False) for u in urls])
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, old)
    assert all(r[0] == 0 and r[3] == 300_000 for r in got)
    if not closed:
        pytest.skip("the transfer finished before the signal arrived")
    with pytest.raises(ValueError, match="closed"):
        store.list(["s3://%s/" % bucket])


def test_dataset_close_while_load_runs_on_another_thread(tmp_path):
    # The C dataset is reference-counted, so this one held before; it guards
    # the same pattern as the Store tests above.
    rows = 400_000
    for i in range(4):
        t = pa.table({"a": np.arange(rows, dtype=np.int64) + i * rows, "b": np.random.default_rng(i).random(rows)})
        pq.write_table(t, str(tmp_path / ("part-%d.parquet" % i)), row_group_size=20_000)
    ds = _hoist.Dataset([str(tmp_path)], threads=1)
    # load() runs without the GIL; close right after it starts.
    got = _close_mid_call(ds, ds.load, lambda: time.sleep(0.01))
    assert got.num_rows == 4 * rows
    with pytest.raises(ValueError, match="closed"):
        ds.load()


def _missing_prefix(n_bytes_before):
    # A key long enough that hoist's message (capped at 1 KiB) is cut inside
    # a 2-byte character.
    return "a" * n_bytes_before + "\u00e9" * 505


@pytest.mark.parametrize("pad", [0, 1])
def test_error_cut_inside_a_character_keeps_its_exception(s3_env, bucket, pad):
    store = _hoist.Store(endpoint=s3_env["AWS_ENDPOINT_URL"])
    url = "s3://%s/%s" % (bucket, _missing_prefix(pad))
    with pytest.raises(hoist.S3NotFound) as e:
        store.get_many([(url, 0, -1, False)])
    assert "s3://%s/" % bucket in str(e.value)
    with pytest.raises(hoist.DatasetNotFoundError):
        _hoist.Dataset([url + "/"], endpoint=s3_env["AWS_ENDPOINT_URL"])


@pytest.mark.parametrize("pad", [0, 1, 2, 3])
def test_item_error_cut_inside_a_character_is_returned(tmp_path, pad):
    """A missing local file with a long non-ASCII path: the per-item error is
    returned (status NOT_FOUND), not replaced by UnicodeDecodeError."""
    store = _hoist.Store()
    url = "file://%s/%s" % (tmp_path, "a" * pad + "/".join(["\u00e9" * 100] * 6))
    (status, error, data, _, _, info), = store.get_many([(url, 0, -1, False)], flags=_hoist.RETURN_MISSING)
    assert status == _hoist.ERR_NOT_FOUND and data is None and info is None
    assert error.startswith("file://")
    (status, error, info), = store.info_many([url], flags=_hoist.RETURN_MISSING)
    assert status == _hoist.ERR_NOT_FOUND and info is None and error.startswith("file://")


CLOSED_DURING_COPY = r"""
import os, signal, time
from hoist import _hoist
store = _hoist.Store(endpoint="http://127.0.0.1:9")

def srcs():
    store.close()  # while copy_many converts its arguments
    yield "s3://b/a"

try:
    store.copy_many(srcs(), ["s3://b/c"])
except ValueError as e:
    print("raised:", e, flush=True)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(10)
print("survived SIGTERM", flush=True)
"""


def test_call_on_a_client_closed_by_its_arguments_leaves_sigterm_alone():
    # copy_many used to take over SIGTERM (py_interrupt.h) before finding the
    # client closed, and never gave it back: the process then ignored SIGTERM.
    import signal
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", CLOSED_DURING_COPY], capture_output=True, text=True, timeout=60)
    assert "raised: the hoist store client is closed" in p.stdout, p.stderr[-2000:]
    assert "survived" not in p.stdout
    assert p.returncode == -signal.SIGTERM
