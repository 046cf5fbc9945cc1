"""The seeds' other flows in examples/ — S3BenchmarkFlow, ParquetBenchmarkFlow and
TaxiPlotterFlow — run end to end on Metaflow's local runtime against the local S3
server, on a small taxi-like dataset made by scripts/gen-taxi.py; their artifacts
are read back with Metaflow's client and checked against what pyarrow computes."""
import os
import subprocess
import sys

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import hoist

from conftest import ROOT
from flow_runner import artifacts, run_example


@pytest.fixture(scope="module")
def taxi(tmp_path_factory, s3_env):
    """A 4-month taxi-like dataset (~3 MB) on local disk and under s3://<bucket>/taxi/."""
    import boto3

    from conftest import temp_bucket

    data = tmp_path_factory.mktemp("taxi")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-taxi.py"), str(data), "--size", "3M",
                    "--months", "4", "--files-per-month", "2", "--row-group-rows", "8192"],
                   check=True, capture_output=True)
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    with temp_bucket(s3_env) as bucket:
        for dirpath, _, names in os.walk(data):
            for n in names:
                p = os.path.join(dirpath, n)
                s3.upload_file(p, bucket, "taxi/" + os.path.relpath(p, data))
        yield data, "s3://%s/taxi/" % bucket


def run_flow(tmp_path, script, *args, **extra_env):
    work = tmp_path / "run"
    env, out = run_example(work, script, *args, **extra_env)
    return work, env, out


def test_s3_benchmark_flow(taxi, tmp_path):
    data, url = taxi
    work, env, out = run_flow(tmp_path, "s3benchmark.py", "--url", url, "--num_files", "5")
    assert "Reading 5 objects" in out
    assert "S3->local throughput" in out and "S3->memory throughput" in out
    a = artifacts(work, env, "S3BenchmarkFlow", ["num_files", "read_gb", "stats"])["start"]
    files = sorted(str(p) for p in data.rglob("*.parquet"))[:5]
    assert a["num_files"] == [5]
    # the bytes read equal the five objects' sizes (listing order is by key, like sorted paths)
    expect = sum(os.path.getsize(f) for f in sorted(files, key=lambda p: os.path.relpath(p, data)))
    assert round(a["read_gb"][0] * 1024**3) == expect
    assert {"downloading", "reading", "in_memory"} <= set(a["stats"][0])


def test_s3_benchmark_flow_local_dir(taxi, tmp_path):
    data, _ = taxi
    month = data / "month=1"
    work, env, out = run_flow(tmp_path, "s3benchmark.py", "--local_dir", str(month))
    assert "Reading 2 objects" in out
    a = artifacts(work, env, "S3BenchmarkFlow", ["read_gb"])["start"]
    assert round(a["read_gb"][0] * 1024**3) == sum(p.stat().st_size for p in month.iterdir())


def test_parquet_benchmark_flow(taxi, tmp_path):
    data, url = taxi
    key = "month=2/part-1.parquet"
    work, env, out = run_flow(tmp_path, "parquet_benchmark.py", "--url", url + key, "--max-workers", "1")
    rows = pq.read_metadata(data / key).num_rows
    a = artifacts(work, env, "ParquetBenchmarkFlow", ["rows", "results", "sizes"])
    assert a["start"]["rows"] == [rows]
    res = a["join"]["results"][0]
    assert set(res) == {"load_csv", "load_parquet", "load_pandas", "load_hoist", "load_hoist_csv"}
    for name, r in res.items():
        assert r["ms"] >= 0 and r["peak_mib"] > 10, (name, r)  # a Python process is tens of MiB
        assert name in out
    # the CSV the start step wrote holds the same rows as the Parquet file
    sizes = a["start"]["sizes"][0]
    assert sizes["taxi.csv"] > sizes["taxi.parquet"]


def test_taxi_plotter_flow(taxi, tmp_path):
    data, url = taxi
    png = tmp_path / "taxi.png"
    work, env, out = run_flow(tmp_path, "taxi_plotter.py", "--data", url, "--num_shards", "3", "--png", str(png))
    assert "Processing 8 Parquet files in 3 shards" in out
    t = pads.dataset(str(data), partitioning="hive").to_table(
        columns=["pickup_latitude", "passenger_count"])
    expect = int(np.count_nonzero(t["passenger_count"].to_numpy(zero_copy_only=False) > 1))
    a = artifacts(work, env, "TaxiPlotterFlow", ["num_points", "image", "num_rows_after", "num_rows_before"])
    assert a["join"]["num_points"] == [expect]
    assert sum(a["preprocess_data"]["num_rows_after"]) == expect
    assert sum(a["preprocess_data"]["num_rows_before"]) == t.num_rows
    img = a["join"]["image"][0]
    assert img[:8] == b"\x89PNG\r\n\x1a\n" and png.read_bytes() == img
    from PIL import Image
    import io
    im = Image.open(io.BytesIO(img))
    assert im.size == (1000, 1000)
    # points were drawn: not every pixel is the white background
    assert np.asarray(im.convert("L")).min() < 255


def test_taxi_loader_registers_in_an_iceberg_catalog(taxi, tmp_path):
    """The seeds register the loaded table in Glue; here --catalog registers it in an Iceberg
    SqlCatalog (SQLite): the table holds exactly the written files and reads back whole."""
    data, url = taxi
    bucket = url.split("/")[2]
    db = tmp_path / "catalog.db"
    work, env, out = run_flow(tmp_path, "taxi_loader.py", "--data", url, "--catalog", "sqlite:///%s" % db,
                              METAFLOW_DATATOOLS_S3ROOT="s3://%s/metaflow" % bucket)
    assert "Registered taxi.nyc_taxi" in out
    a = artifacts(work, env, "TaxiDataLoader", ["paths", "rows", "snapshot_id"])["start"]
    cat = hoist.iceberg.catalog("sqlite:///%s" % db)
    table = cat.load_table("taxi.nyc_taxi")
    assert table.current_snapshot().snapshot_id == a["snapshot_id"][0]
    assert sorted(f["file_path"] for f in table.inspect.files().to_pylist()) == sorted(a["paths"][0])
    expect = pads.dataset(str(data), partitioning="hive").to_table()
    got = hoist.load_table(table).to_pyarrow()
    assert got.num_rows == expect.num_rows == a["rows"][0]
    assert sorted(got.column_names) == sorted(expect.column_names)
    assert sorted(got["month"].to_pylist()) == sorted(expect["month"].to_pylist())


def test_book_pipeline_end_to_end(taxi, tmp_path):
    """Chapter 7 as one pipeline on one datastore: TaxiDataLoader -> TaxiETLFlow (CTAS on DuckDB
    over hoist) -> TaxiPlotterFlow and TaxiRegressionFlow on the CTAS output (--use_ctas_data),
    each flow finding the previous one's artifacts through Metaflow's client."""
    data, url = taxi
    bucket = url.split("/")[2]
    root = {"METAFLOW_DATATOOLS_S3ROOT": "s3://%s/metaflow" % bucket}
    run_flow(tmp_path, "taxi_loader.py", "--data", url, **root)
    work, env, out = run_flow(tmp_path, "taxi_etl.py", **root)
    etl = artifacts(work, env, "TaxiETLFlow", ["paths", "rows", "ctas"])["start"]
    paths, rows = etl["paths"][0], etl["rows"][0]
    t = pads.dataset(str(data), partitioning="hive").to_table(columns=["pickup_at", "passenger_count"])
    hours = pc.hour(t["pickup_at"])
    in_hours = pc.and_(pc.greater_equal(hours, 9), pc.less_equal(hours, 17))
    assert rows == pc.sum(in_hours.cast("int64")).as_py()
    assert etl["ctas"][0].startswith("CREATE TABLE mf_ctas_TaxiETLFlow_")

    _, _, out = run_flow(tmp_path, "taxi_plotter.py", "--use_ctas_data", "True", "--num_shards", "2", **root)
    plot = artifacts(work, env, "TaxiPlotterFlow", ["paths", "num_points"])
    assert sorted(plot["start"]["paths"][0]) == sorted(paths)
    kept = pc.and_(in_hours, pc.greater(t["passenger_count"], 1))
    assert plot["join"]["num_points"] == [pc.sum(kept.cast("int64")).as_py()]

    _, _, out = run_flow(tmp_path, "taxi_regression.py", "--use_ctas_data", "True", "--num_shards", "2",
                         "--seed", "1", "--plot", "", **root)
    reg = artifacts(work, env, "TaxiRegressionFlow", ["paths", "num_rows_loaded", "coef"])
    assert sorted(reg["start"]["paths"][0]) == sorted(paths)
    loaded = pc.and_(in_hours, pc.greater(t["passenger_count"], 0))
    assert sum(reg["preprocess_data"]["num_rows_loaded"]) == pc.sum(loaded.cast("int64")).as_py()
    assert reg["regress"]["coef"][0] > 0
