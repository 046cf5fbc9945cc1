"""hoist.spark (pyspark 4 Python data source "hoist") on a local SparkSession
(local[2], PYSPARK_PYTHON = this interpreter) against the local S3 server:
reads equal hoist.load_table, the columns/filter options and pushed filters
reach the loader (bytes on the wire), the writer commits once in Spark's
commit and a failed job leaves nothing. One session for the module (Spark's
start costs seconds); the JVM is shut down at the end."""
import os
import sys
import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pytest

pytest.importorskip("pyspark")

import hoist  # noqa: E402
from conftest import pending_uploads, temp_bucket  # noqa: E402
from engines_common import ROWS, ByteRelay, list_keys, sorted_equal, write_dataset  # noqa: E402


@pytest.fixture(scope="module")
def spark(s3_env):
    import shutil

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java (17+)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    import hoist.spark

    session = (SparkSession.builder.master("local[2]").appName("hoist-engines-test")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "512m")
               .config(hoist.spark.PUSHDOWN_CONF, "true")
               # a cancelled task's Python worker is left to finish (default: killed
               # after 2 s), as a task stuck in native code would be
               .config("spark.python.task.killTimeout", "300s").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        gw = SparkContext._gateway
        if gw is not None:  # no JVM left behind for the rest of the test run
            gw.shutdown()
            proc = getattr(gw, "proc", None)
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
            SparkContext._gateway = None
            SparkContext._jvm = None


@pytest.fixture(scope="module")
def dataset(s3_env):
    with temp_bucket(s3_env, "eng-spark-") as b:
        url = "s3://%s/data/" % b
        table = write_dataset(url)
        yield b, url, table


def test_read_equals_load_table(spark, dataset):
    import hoist.spark

    _, url, table = dataset
    hoist.spark.register(spark)
    df = spark.read.format("hoist").load(url)
    assert df.columns == table.column_names
    assert df.rdd.getNumPartitions() > 1
    assert sorted_equal(df.toArrow(), hoist.load_table(url))
    f = (spark.read.format("hoist").option("columns", "id,x").option("filter", "k IN (1, 2) AND x > 0.5")
         .load(url))
    want = hoist.load_table(url, columns=["id", "x"], filter="k IN (1, 2) AND x > 0.5").to_pyarrow()
    assert f.columns == ["id", "x"]
    got = f.toArrow()
    assert got.num_rows == want.num_rows > 0
    assert pc.sum(got["x"]).as_py() == pytest.approx(pc.sum(want["x"]).as_py())


def test_options_and_pushed_filters_reach_the_loader(spark, dataset, s3_env):
    import hoist.spark

    _, url, _ = dataset
    relay = ByteRelay(s3_env["AWS_ENDPOINT_URL"])
    try:
        def reader():  # a DataFrameReader keeps its options: one per read
            return spark.read.format("hoist").option("endpoint", relay.url)

        hoist.spark.register(spark)
        relay.reset()
        n_all = reader().load(url).count()
        all_bytes = relay.reset()
        x_sum = reader().option("columns", "x").load(url).groupBy().sum("x").collect()[0][0]
        x_bytes = relay.reset()
        hoist.spark.register(spark, filter_pushdown=True)
        pushed = reader().load(url).filter("id < 5000 AND s IS NOT NULL").select("id", "k").toArrow()
        pushed_bytes = relay.reset()
        # StringStartsWith has no spelling in hoist's language: Spark keeps it.
        kept = reader().load(url).filter("s LIKE 'a%'").count()
    finally:
        relay.close()
        hoist.spark.register(spark)
    assert n_all == ROWS
    assert x_sum == pytest.approx(pc.sum(hoist.load_table(url, columns=["x"]).to_pyarrow()["x"]).as_py())
    want = hoist.load_table(url, columns=["id", "k"], filter="id < 5000").to_pyarrow()
    assert sorted_equal(pushed, want)
    t = hoist.load_table(url, columns=["s"]).to_pyarrow()
    assert kept == pc.sum(pc.starts_with(t["s"], "a")).as_py()
    # Spark 4.3 reads every column of the schema (no pruneColumns): a pushed
    # filter prunes row groups, the columns option prunes columns.
    fetched = {k: hoist.load_table(url, **kw).load_stats["bytes_fetched"] for k, kw in (
        ("all", {}), ("x", {"columns": ["x"]}), ("pushed", {"filter": "id < 5000"}))}
    overhead = all_bytes - fetched["all"]
    for name, got in (("x", x_bytes), ("pushed", pushed_bytes)):
        saved = fetched["all"] - fetched[name]
        assert got - fetched[name] < overhead + 0.25 * saved, (name, got, fetched, all_bytes)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="Spark 4.3 keeps the reader pushFilters produced in the DataFrame's "
                   "relation: a later unfiltered query on the same DataFrame reads with the filter. This is why "
                   "hoist.spark.register leaves filter pushdown off by default; if this passes, Spark fixed it.")
def test_pushed_filter_does_not_leak_into_later_queries(spark, dataset):
    import hoist.spark

    _, url, _ = dataset
    hoist.spark.register(spark, filter_pushdown=True)
    try:
        df = spark.read.format("hoist").load(url)
        assert df.filter("id < 5000").count() == 5000
        assert df.count() == ROWS
    finally:
        hoist.spark.register(spark)


def test_write_commits_once(spark, dataset, s3):
    import hoist.spark

    bucket, url, table = dataset
    hoist.spark.register(spark)
    out = "s3://%s/out-%s/" % (bucket, uuid.uuid4().hex[:8])
    spark.read.format("hoist").load(url).write.format("hoist").option("partition_by", "k") \
        .option("compression", "zstd").mode("append").save(out)
    prefix = out.split("/", 3)[3]
    keys = list_keys(s3, bucket, prefix)
    assert keys.count(prefix + "_SUCCESS") == 1
    import json

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "_SUCCESS")["Body"].read())
    assert manifest["rows"] == ROWS
    assert sorted(k[len(prefix):] for k in keys if not k.endswith("_SUCCESS")) == sorted(
        f["path"] for f in manifest["files"])
    back = hoist.load_table(out).to_pyarrow()
    back = back.set_column(back.schema.get_field_index("k"), "k", back["k"].cast(pa.int64()))
    assert sorted_equal(back, table)


def test_failed_write_leaves_nothing(spark, dataset, s3):
    import hoist.spark
    from pyspark.sql.functions import udf

    bucket, url, _ = dataset
    hoist.spark.register(spark)

    @udf("long")
    def boom(i):
        if i == 0:
            import time

            time.sleep(2)  # the other task has written its files by now
            raise RuntimeError("injected failure")
        return i

    out = "s3://%s/failed-%s/" % (bucket, uuid.uuid4().hex[:8])
    df = spark.read.format("hoist").load(url).withColumn("id", boom("id"))
    with pytest.raises(Exception, match="injected failure"):
        df.write.format("hoist").mode("append").save(out)
    assert list_keys(s3, bucket, out.split("/", 3)[3]) == []
    assert pending_uploads(s3, bucket) == []


def test_task_finishing_after_abort_leaves_nothing(spark, dataset, s3, tmp_path):
    """The ordering that raced (issue 17): one task fails, Spark's driver runs
    abort while another task is still writing, and that task then goes on
    to finish its write. Deterministic: the slow task holds its stream open
    (its file opened, its upload started) until the driver's abort has run,
    then finishes. Its upload was aborted by the sweep, so it can publish
    nothing: no object and no pending multipart upload is left."""
    import hoist.spark

    bucket, url, _ = dataset
    marks = str(tmp_path)

    def wait_for(name, seconds=60):
        import time

        deadline = time.time() + seconds
        while not os.path.exists(os.path.join(marks, name)) and time.time() < deadline:
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:  # a task cancel: keep going, as a task stuck in C would
                pass
        return os.path.exists(os.path.join(marks, name))

    def mark(name, text=""):
        with open(os.path.join(marks, name), "w") as f:
            f.write(text)

    class SlowWriter(hoist.spark.HoistWriter):
        def write(self, iterator):
            from pyspark import TaskContext

            part = TaskContext.get().partitionId()
            if part == 0:
                wait_for("slow-started")
                raise RuntimeError("injected failure")

            # All rows read up front: after the wait the write depends on
            # the store alone, not on Spark's input of a cancelled task.
            batches = list(iterator)

            def held():
                yield from batches[:1]
                mark("slow-started")  # the writer has its first batch: file open, upload started
                wait_for("aborted")
                yield from batches[1:]

            try:
                out = super().write(held())
                mark("slow-done", "ok")
                return out
            except BaseException as e:
                mark("slow-done", "failed: %s" % e)
                raise

        def abort(self, messages):
            super().abort(messages)
            mark("aborted")

    class SlowSource(hoist.spark.HoistDataSource):
        @classmethod
        def name(cls):
            return "hoist_slow"

        def writer(self, schema, overwrite):
            return SlowWriter(hoist.spark._Options(self.options), schema, overwrite)

    hoist.spark.register(spark)
    spark.dataSource.register(SlowSource)
    out = "s3://%s/late-%s/" % (bucket, uuid.uuid4().hex[:8])
    df = spark.read.format("hoist").load(url).repartition(2)
    with pytest.raises(Exception, match="injected failure"):
        df.write.format("hoist_slow").mode("append").save(out)
    assert os.path.exists(os.path.join(marks, "aborted"))
    # The slow task finishes after the abort (unless Spark killed its worker).
    if wait_for("slow-done", 60):
        with open(os.path.join(marks, "slow-done")) as f:
            outcome = f.read()
        assert outcome.startswith("failed") and "NoSuchUpload" in outcome, outcome  # its upload was gone
    else:
        pytest.fail("the slow task never finished: Spark killed its worker, the ordering was not exercised")
    assert list_keys(s3, bucket, out.split("/", 3)[3]) == []
    assert pending_uploads(s3, bucket) == []
