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
               .config(hoist.spark.PUSHDOWN_CONF, "true").getOrCreate())
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
