"""hoist.ray on a real local Ray instance (ray.init(num_cpus=2)) against the
local S3 server: reads equal hoist.load_table, Ray's projection and filter
pushdown reach the loader (bytes on the wire), a filter hoist cannot say is
left to Ray, a read task whose worker is killed is retried with an exact
result, the sink commits once and a failed job leaves nothing."""
import logging
import os
import signal
import sys
import threading
import time
import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

import hoist  # noqa: E402
import hoist.ray  # noqa: E402
from conftest import pending_uploads, temp_bucket  # noqa: E402
from engines_common import ROWS, ByteRelay, list_keys, sorted_equal, write_dataset  # noqa: E402
from ray.data.expressions import col  # noqa: E402


@pytest.fixture(scope="module")
def ray_local(s3_env):
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
             object_store_memory=256 << 20)
    ray.data.DataContext.get_current().enable_progress_bars = False
    # The workers cannot import this test module: ship its functions by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def dataset(s3_env):
    with temp_bucket(s3_env, "eng-ray-") as b:
        url = "s3://%s/data/" % b
        table = write_dataset(url)
        yield b, url, table


def test_read_equals_load_table(ray_local, dataset):
    _, url, table = dataset
    ds = hoist.ray.read_dataset(url)
    got = ds.to_arrow_refs()
    got = pa.concat_tables(ray.get(got))
    assert got.num_rows == ROWS
    assert sorted_equal(got, hoist.load_table(url))
    f = hoist.ray.read_dataset(url, columns=["id", "x"], filter="k IN (1, 2) AND x > 0.5")
    want = hoist.load_table(url, columns=["id", "x"], filter="k IN (1, 2) AND x > 0.5").to_pyarrow()
    assert f.columns() == ["id", "x"]
    assert f.count() == want.num_rows > 0
    assert f.sum("x") == pytest.approx(pc.sum(want["x"]).as_py())


def test_default_read_tasks_are_not_split(ray_local, dataset):
    # Left to itself Ray sizes the read from its block-size targets (up to
    # 200 tasks) and, when a datasource gives fewer tasks, slices each
    # task's output into ceil(asked / tasks) blocks: on the benchmark's taxi
    # dataset 216 objects from 24 shards. read_dataset asks for 4 per CPU,
    # bounded by the shards, and gets one block per shard.
    _, url, _ = dataset
    ds = hoist.ray.read_dataset(url).materialize()
    want = len(hoist.shards(url, 4 * 2, split_row_groups=True))
    assert 1 < want <= 8
    assert ds.num_blocks() == want
    assert ds.count() == ROWS
    # An explicit count is the caller's.
    assert hoist.ray.read_dataset(url, override_num_blocks=3).materialize().num_blocks() == 3


def test_pushdown_reaches_the_loader(ray_local, dataset, s3_env):
    _, url, _ = dataset
    relay = ByteRelay(s3_env["AWS_ENDPOINT_URL"])
    try:
        ds = hoist.ray.read_dataset(url, endpoint=relay.url)
        relay.reset()
        every = ds.materialize().count()
        all_bytes = relay.reset()
        x_sum = ds.select_columns(["x"]).sum("x")
        x_bytes = relay.reset()
        few = ds.filter(expr=col("id") < 5000).select_columns(["id", "k"])
        few_rows = pa.concat_tables(ray.get(few.to_arrow_refs()))
        few_bytes = relay.reset()
        # A predicate the filter language cannot say (arithmetic): Ray keeps it.
        odd = ds.filter(expr=(col("x") * 2) > 1.5).count()
        odd_bytes = relay.reset()
    finally:
        relay.close()
    assert every == ROWS
    assert x_sum == pytest.approx(pc.sum(hoist.load_table(url, columns=["x"]).to_pyarrow()["x"]).as_py())
    want = hoist.load_table(url, columns=["id", "k"], filter="id < 5000").to_pyarrow()
    assert sorted_equal(few_rows, want)
    assert odd == hoist.load_table(url, columns=["x"], filter="x > 0.75").num_rows
    # What hoist alone fetches for each read, in one process: the engine's
    # reads must save (nearly) as much as that, on top of their own fixed
    # cost (footers read by the planner and by every task).
    fetched = {k: hoist.load_table(url, **kw).load_stats["bytes_fetched"] for k, kw in (
        ("all", {}), ("x", {"columns": ["x"]}), ("few", {"columns": ["id", "k"], "filter": "id < 5000"}))}
    overhead = all_bytes - fetched["all"]
    for name, got in (("x", x_bytes), ("few", few_bytes)):
        saved = fetched["all"] - fetched[name]
        assert got - fetched[name] < overhead + 0.25 * saved, (name, got, fetched, all_bytes)
    assert odd_bytes > 0

def test_sink_commits_once(ray_local, dataset, s3):
    bucket, url, table = dataset
    out = "s3://%s/out-%s/" % (bucket, uuid.uuid4().hex[:8])
    sink = hoist.ray.ParquetSink(out, partition_by=["k"], compression="zstd")
    hoist.ray.read_dataset(url).write_datasink(sink)
    assert sink.result.rows == ROWS
    prefix = out.split("/", 3)[3]
    keys = list_keys(s3, bucket, prefix)
    assert keys.count(prefix + "_SUCCESS") == 1
    back = hoist.load_table(out).to_pyarrow()
    back = back.set_column(back.schema.get_field_index("k"), "k", back["k"].cast(pa.int64()))
    assert sorted_equal(back, table)
    import json

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "_SUCCESS")["Body"].read())
    assert sorted(k[len(prefix):] for k in keys if not k.endswith("_SUCCESS")) == sorted(
        f["path"] for f in manifest["files"])
    assert manifest["rows"] == ROWS


def _fail_one(batch):
    if len(batch["id"]) and batch["id"][0] == 0:
        time.sleep(2)  # other write tasks have written their files by now
        raise RuntimeError("injected failure in one block")
    return batch


def test_failed_write_leaves_nothing(ray_local, dataset, s3):
    bucket, url, _ = dataset
    out = "s3://%s/failed-%s/" % (bucket, uuid.uuid4().hex[:8])
    ds = hoist.ray.read_dataset(url, override_num_blocks=6).map_batches(_fail_one, batch_format="numpy",
                                                                        batch_size=None)
    with pytest.raises(Exception, match="injected failure"):
        ds.write_datasink(hoist.ray.ParquetSink(out))
    assert list_keys(s3, bucket, out.split("/", 3)[3]) == []
    assert pending_uploads(s3, bucket) == []


def test_killed_read_worker_is_retried(ray_local, dataset, s3_env):
    psutil = pytest.importorskip("psutil")
    _, url, table = dataset
    relay = ByteRelay(s3_env["AWS_ENDPOINT_URL"], delay_per_chunk=0.02)
    result = {}
    try:
        ds = hoist.ray.read_dataset(url, endpoint=relay.url, override_num_blocks=8)

        def run():
            try:
                result["table"] = pa.concat_tables(ray.get(ds.to_arrow_refs()))
            except BaseException as e:  # reported below
                result["error"] = e

        t = threading.Thread(target=run)
        t.start()
        victim = None
        deadline = time.time() + 120
        while victim is None and time.time() < deadline:
            if relay.down > 200_000:  # data is flowing: a read task is mid-shard
                for p in psutil.process_iter(["cmdline"]):
                    if any("ReadHoist" in a for a in (p.info["cmdline"] or [])):
                        victim = p
                        break
            time.sleep(0.05)
        assert victim is not None, "no read task seen"
        os.kill(victim.pid, signal.SIGKILL)
        t.join(timeout=300)
    finally:
        relay.close()
    assert "error" not in result, result.get("error")
    got = result["table"]
    assert got.num_rows == ROWS
    assert sorted_equal(got, table)


def test_task_finishing_after_abort_leaves_nothing(ray_local, dataset, s3, tmp_path):
    """Ray calls on_write_failed without waiting for the other write tasks
    (ray/data/dataset.py write_datasink; the executor shuts down with
    force=False, which cancels running tasks with a KeyboardInterrupt and
    does not wait). Deterministic: one write task holds its stream open (its
    file opened, its upload started) until the driver's on_write_failed has
    run, ignoring the cancel as a task inside native code would, then
    finishes. Its upload was aborted by the sweep: it can publish nothing,
    and no object or pending multipart upload is left."""
    bucket, url, _ = dataset
    marks = str(tmp_path)
    out = "s3://%s/late-%s/" % (bucket, uuid.uuid4().hex[:8])
    sink = _SlowSink(out, marks)
    ds = hoist.ray.read_dataset(url, override_num_blocks=2)
    with pytest.raises(Exception, match="injected failure"):
        ds.write_datasink(sink)
    assert os.path.exists(os.path.join(marks, "aborted"))
    if not _wait_for(marks, "slow-done", 120):
        pytest.fail("the slow task never finished: the ordering was not exercised")
    with open(os.path.join(marks, "slow-done")) as f:
        outcome = f.read()
    assert outcome.startswith("failed") and "NoSuchUpload" in outcome, outcome  # its upload was gone
    assert list_keys(s3, bucket, out.split("/", 3)[3]) == []
    assert pending_uploads(s3, bucket) == []


def _wait_for(marks, name, seconds=60):
    deadline = time.time() + seconds
    while not os.path.exists(os.path.join(marks, name)) and time.time() < deadline:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:  # Ray's cancel: ignored, as by a task stuck in native code
            pass
    return os.path.exists(os.path.join(marks, name))


def _mark(marks, name, text=""):
    with open(os.path.join(marks, name), "w") as f:
        f.write(text)


class _SlowSink(hoist.ray.ParquetSink):
    """Task 0 fails once task 1 has started writing; task 1 waits for the
    driver's abort, then finishes its write."""

    def __init__(self, url, marks):
        super().__init__(url)
        self.marks = marks

    def write(self, blocks, ctx):
        task = getattr(ctx, "task_idx", 0)
        if task == 0:
            _wait_for(self.marks, "slow-started")
            raise RuntimeError("injected failure")
        tables = [b if isinstance(b, pa.Table) else pa.Table.from_pandas(b, preserve_index=False) for b in blocks]
        whole = pa.concat_tables(tables)
        half = max(1, whole.num_rows // 2)

        def held():
            yield whole.slice(0, half)
            _mark(self.marks, "slow-started")  # the writer has its first rows: file open, upload started
            _wait_for(self.marks, "aborted", 120)
            yield whole.slice(half)

        try:
            res = super().write(held(), ctx)
            _mark(self.marks, "slow-done", "ok")
            return res
        except BaseException as e:
            _mark(self.marks, "slow-done", "failed: %r" % (e,))
            raise

    def on_write_failed(self, error):
        super().on_write_failed(error)
        _mark(self.marks, "aborted")
