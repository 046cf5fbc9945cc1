"""hoist.dask on a real distributed.LocalCluster (2 worker processes) against
the local S3 server: reads equal hoist.load_table, projection reaches the
loader (bytes on the wire), a worker killed mid-read is replaced and the
result stays exact, to_dataset commits once and a failed job leaves nothing."""
import os
import signal
import time
import uuid

import pyarrow as pa
import pytest

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import hoist  # noqa: E402
import hoist.dask  # noqa: E402
from conftest import pending_uploads, temp_bucket  # noqa: E402
from engines_common import ROWS, ByteRelay, list_keys, sorted_equal, write_dataset  # noqa: E402


@pytest.fixture(scope="module")
def client(s3_env):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="1GiB") as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def dataset(s3_env):
    with temp_bucket(s3_env, "eng-dask-") as b:
        url = "s3://%s/data/" % b
        table = write_dataset(url)
        yield b, url, table


def test_read_equals_load_table(client, dataset):
    _, url, table = dataset
    ddf = hoist.dask.read_dataset(url)
    assert ddf.npartitions > 1
    assert list(ddf.columns) == table.column_names
    got = pa.Table.from_pandas(ddf.compute(), preserve_index=False)
    assert got.num_rows == ROWS
    assert sorted_equal(got, hoist.load_table(url))
    # columns and filter are the loader's: same rows as load_table's.
    f = hoist.dask.read_dataset(url, columns=["id", "x"], filter="k IN (1, 2) AND x > 0.5")
    want = hoist.load_table(url, columns=["id", "x"], filter="k IN (1, 2) AND x > 0.5")
    assert list(f.columns) == ["id", "x"]
    assert len(f) == want.num_rows > 0
    assert f["x"].sum().compute() == pytest.approx(pa.compute.sum(want.to_pyarrow()["x"]).as_py())


def test_one_task_per_partition_and_the_clients_string_setting(client, dataset):
    # Dask's from_map adds a string-conversion layer; the partition function
    # converts strings itself, so that layer (a second task per partition,
    # which the scheduler may run on another worker: a transfer) is not
    # added.
    _, url, _ = dataset
    ddf = hoist.dask.read_dataset(url)
    graph = dict(ddf.optimize().__dask_graph__())
    assert len(graph) == ddf.npartitions
    assert all(k[0].startswith("hoist-read-") for k in graph)
    with dask.config.set({"dataframe.convert-string": True}):
        on = hoist.dask.read_dataset(url, columns=["s", "x"])
    with dask.config.set({"dataframe.convert-string": False}):
        off = hoist.dask.read_dataset(url, columns=["s", "x"])
    # The client's setting holds on the workers, whatever theirs is.
    for ddf in (on, off):
        got = ddf.compute()
        assert dict(got.dtypes) == dict(ddf.dtypes)
    assert str(on.dtypes["s"]) == "string"
    assert str(off.dtypes["s"]) != "string"
    assert list(on["s"].compute()) == list(off["s"].compute())


def test_projection_reaches_the_loader(client, dataset, s3_env):
    _, url, _ = dataset
    relay = ByteRelay(s3_env["AWS_ENDPOINT_URL"])
    try:
        ddf = hoist.dask.read_dataset(url, endpoint=relay.url)  # planning (footers) goes through the relay too
        relay.reset()
        total_x = ddf["x"].sum().compute()
        only_x = relay.reset()
        ddf.compute()
        every = relay.reset()
    finally:
        relay.close()
    assert total_x == pytest.approx(pa.compute.sum(hoist.load_table(url, columns=["x"]).to_pyarrow()["x"]).as_py())
    # x is 8 of about 68 bytes a row (s is 32 hex characters, stored plain):
    # fetching only its chunks moves a fraction of the bytes.
    x_chunks = hoist.load_table(url, columns=["x"]).load_stats["bytes_fetched"]
    assert x_chunks <= only_x < every / 3, (only_x, every, x_chunks)


def test_to_dataset_commits_once(client, dataset, s3, s3_env):
    bucket, url, table = dataset
    ddf = hoist.dask.read_dataset(url)
    out = "s3://%s/out-%s" % (bucket, uuid.uuid4().hex[:8])
    res = hoist.dask.to_dataset(ddf, out, partition_by="k", compression="zstd")
    assert res.rows == ROWS
    prefix = out.split("/", 3)[3] + "/"
    keys = list_keys(s3, bucket, prefix)
    assert keys.count(prefix + "_SUCCESS") == 1
    # Exactly the files the manifest lists (the write id is in every name).
    assert sorted(k[len(prefix):] for k in keys if not k.endswith("_SUCCESS")) == sorted(f["path"] for f in res.files)
    assert all(res.write_id in f["path"] for f in res.files)
    back = hoist.load_table(out).to_pyarrow()  # k comes back from the Hive keys as int32
    back = back.set_column(back.schema.get_field_index("k"), "k", back["k"].cast(pa.int64()))
    assert sorted_equal(back, table)
    # existing="error" (the default) refuses a second write; append adds.
    with pytest.raises(hoist.DatasetExistsError):
        hoist.dask.to_dataset(ddf, out, partition_by="k")
    res2 = hoist.dask.to_dataset(ddf.partitions[:1], out, partition_by="k", existing="append")
    assert res2.rows == ROWS + len(ddf.partitions[:1])
    assert hoist.load_table(out).num_rows == res2.rows


def _fail_one(df):
    if len(df) and df["id"].iloc[0] == 0:
        time.sleep(2)  # the other partitions' files are written by now
        raise RuntimeError("injected failure in one partition")
    return df


def test_failed_write_leaves_nothing(client, dataset, s3):
    bucket, url, _ = dataset
    ddf = hoist.dask.read_dataset(url).map_partitions(_fail_one)
    out = "s3://%s/failed-%s/" % (bucket, uuid.uuid4().hex[:8])
    with pytest.raises(RuntimeError, match="injected failure"):
        hoist.dask.to_dataset(ddf, out)
    assert list_keys(s3, bucket, out.split("/", 3)[3]) == []
    assert pending_uploads(s3, bucket) == []


def _fail_first_others_slow(df):
    # The partitions running beside the failing one are still running when
    # the job fails (1 s in); their writes come 2 s after that.
    if len(df) and df["id"].iloc[0] == 0:
        time.sleep(1)
        raise RuntimeError("injected failure in one partition")
    time.sleep(3)
    return df


@pytest.mark.parametrize("scheduler", ["distributed", "threads"])
def test_failed_write_waits_for_running_tasks(client, dataset, s3, scheduler):
    # Dask does not stop a running task when another fails: the client must
    # not delete the job's files until the last running task has written
    # (or not started) -- before, that task's file was left behind.
    bucket, url, _ = dataset
    ddf = hoist.dask.read_dataset(url).map_partitions(_fail_first_others_slow)
    out = "s3://%s/late-%s/" % (bucket, uuid.uuid4().hex[:8])
    cfg = {"scheduler": "threads"} if scheduler == "threads" else {}
    with dask.config.set(cfg), pytest.raises(RuntimeError, match="injected failure"):
        hoist.dask.to_dataset(ddf, out)
    time.sleep(4)  # a task the client did not wait for would have written by now
    assert list_keys(s3, bucket, out.split("/", 3)[3]) == []
    assert pending_uploads(s3, bucket) == []


def test_killed_worker_is_retried(client, dataset, s3_env):
    _, url, table = dataset
    relay = ByteRelay(s3_env["AWS_ENDPOINT_URL"], delay_per_chunk=0.02)  # slow reads: a kill lands mid-read
    try:
        ddf = hoist.dask.read_dataset(url, endpoint=relay.url, npartitions=8)
        fut = client.compute(ddf)
        pids = client.run(os.getpid)
        victim = None
        deadline = time.time() + 60
        while victim is None and time.time() < deadline:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy and relay.down > 0:
                victim = busy[0]
            time.sleep(0.05)
        assert victim is not None, "no task started"
        os.kill(pids[victim], signal.SIGKILL)
        got = pa.Table.from_pandas(fut.result(timeout=240), preserve_index=False)
    finally:
        relay.close()
    assert got.num_rows == ROWS
    assert sorted_equal(got, table)
