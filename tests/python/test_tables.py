"""hoist.Table, load_table, scan, shards and hoist.features (issue 6 section 2,
issue 5's tests of the Python API).

Zero-copy is checked by buffer addresses: the address hoist reports for a
column chunk's data buffer (Table.chunk_info) must be the address the
consumer's own objects point at. Loads are checked against pyarrow.dataset on
the same files, locally and through the local S3 server."""
import gc
import os
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import hoist
from conftest import interrupt_after_start
from hoist import features

# --------------------------------------------------------------------------
# data

PAYMENT = ["CRD", "CSH", "NOC", "DIS"]


def taxi_batch(n, start, seed, month=None):
    rng = np.random.default_rng(seed)
    dist = rng.gamma(2.0, 1.5, n)
    cols = {
        "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "passenger_count": pa.array(rng.integers(0, 7, n).astype(np.int8)),
        "trip_distance": pa.array(dist),
        "total_amount": pa.array(2.5 + dist * 2.2 + rng.normal(0, 1.5, n)),
        "payment_type": pa.array([PAYMENT[i] for i in rng.integers(0, 4, n)]),
        "pickup_at": pa.array((np.int64(1_400_000_000_000_000) + rng.integers(0, 10**12, n)).astype("datetime64[us]")),
        "tip_amount": pa.array(rng.random(n) * 5, mask=rng.random(n) < 0.1),
    }
    return pa.table(cols)


def write_hive(root, months=3, files=2, rows=4000, row_group_size=1500):
    """month=M/part-F.parquet with several row groups each; returns the rows
    written (as one pyarrow table, without the partition column)."""
    parts, start = [], 0
    for m in range(1, months + 1):
        d = os.path.join(root, "month=%d" % m)
        os.makedirs(d, exist_ok=True)
        for f in range(files):
            t = taxi_batch(rows, start, seed=m * 100 + f)
            start += rows
            pq.write_table(t, os.path.join(d, "part-%d.parquet" % f), row_group_size=row_group_size)
            parts.append(t)
    # Keys that are not data files must be skipped by the loader.
    open(os.path.join(root, "_SUCCESS"), "w").close()
    return pa.concat_tables(parts)


def upload_dir(bucket, root, prefix):
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            key = prefix + "/" + os.path.relpath(p, root)
            s3.upload_file(p, bucket, key)
    return "s3://%s/%s/" % (bucket, prefix)


def reference(root, columns=None, filter=None):
    """What pyarrow.dataset reads for the same columns and filter, sorted by id."""
    ds = pads.dataset(root, format="parquet", partitioning="hive")
    cols = columns if columns is None or "id" in columns else list(columns) + ["id"]
    t = ds.to_table(columns=cols, filter=filter)
    t = t.sort_by("id")
    return t.select(columns) if columns is not None else t


def sorted_by_id(table, columns):
    t = table.to_pyarrow()
    if "id" in t.column_names:
        t = t.sort_by("id")
    return t.select(columns) if columns is not None else t


def assert_same_values(got, want):
    assert got.column_names == want.column_names
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        g, w = got[name], want[name]
        if g.type != w.type:
            # partition ints: hoist infers int64 where pyarrow infers int32;
            # otherwise only a different physical layout of the same logical
            # type (string vs large_string) is acceptable.
            same_kind = (pa.types.is_integer(g.type) and pa.types.is_integer(w.type)) or (
                pa.types.is_string(g.type) or pa.types.is_large_string(g.type) or pa.types.is_string_view(g.type))
            assert same_kind, (name, g.type, w.type)
            w = w.cast(g.type)
        assert g.equals(w), name


@pytest.fixture(scope="module")
def local_ds(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("taxi"))
    rows = write_hive(root)
    return root, rows


def dataset_layer_available():
    return hasattr(hoist, "load_table")


# --------------------------------------------------------------------------
# Table over Arrow batches: zero-copy consumers (no dataset layer involved)


def two_batch_table():
    b1 = taxi_batch(1000, 0, 1)
    b2 = taxi_batch(1500, 1000, 2)
    return hoist.Table.from_arrow(pa.concat_tables([b1, b2])), [b1, b2]


def test_table_basics():
    t, parts = two_batch_table()
    assert t.num_rows == 2500 and len(t) == 2500
    assert t.num_batches == 2
    assert t.column_names == parts[0].column_names
    assert t.schema == parts[0].schema
    assert "hoist.Table(2500 rows" in repr(t)
    with pytest.raises(KeyError, match="nope"):
        t.to_numpy("nope")
    with pytest.raises(TypeError, match="column"):
        t.to_numpy(1.5)
    with pytest.raises(TypeError):
        hoist.Table(object())
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        hoist.Table.from_arrow(42)


def test_pyarrow_imports_without_copy_and_twice():
    t, parts = two_batch_table()
    want = [c["buffers"][1] for c in t.chunk_info("trip_distance")]
    # hoist kept the producer's buffers (from_arrow does not copy either).
    assert want == [p["trip_distance"].chunk(0).buffers()[1].address for p in parts]
    for _ in range(2):  # a Table is consumable more than once
        pt = pa.table(t)
        assert [c.buffers()[1].address for c in pt["trip_distance"].chunks] == want
        assert pt.equals(pa.concat_tables(parts))
    pt2 = t.to_pyarrow()
    strings = [c.buffers()[2].address for c in pt2["payment_type"].chunks]
    assert strings == [c["buffers"][2] for c in t.chunk_info("payment_type")]


def test_to_pyarrow_does_not_import_pandas(tmp_path):
    # pa.table(obj) imports pandas to ask whether obj is a DataFrame; to_pyarrow
    # goes through the C stream and leaves pandas unloaded (a fresh process).
    import subprocess
    import sys

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), path)
    code = ("import sys, hoist\n"
            "t = hoist.load_table(%r).to_pyarrow()\n"
            "assert t.num_rows == 3 and t.column('a').to_pylist() == [1, 2, 3], t\n"
            "print('pandas' in sys.modules)\n" % str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_views_keep_memory_alive_after_table_is_gone():
    t, parts = two_batch_table()
    expected = pa.concat_tables(parts)
    del parts
    pt = pa.table(t)
    data = t._data
    refs_with_view = data._refcount
    assert refs_with_view > 1
    del t, data
    gc.collect()
    # The imported table still reads the (shared) bytes correctly.
    assert pt.equals(expected)
    assert pc.sum(pt["trip_distance"]).as_py() == pytest.approx(pc.sum(expected["trip_distance"]).as_py())


def test_refcount_returns_to_one_when_consumers_release():
    t, _ = two_batch_table()
    base = t._data._refcount
    pt = pa.table(t)
    assert t._data._refcount > base
    del pt
    gc.collect()
    assert t._data._refcount == base
    cap = t.__arrow_c_stream__()
    assert t._data._refcount == base + 1
    del cap
    assert t._data._refcount == base


def test_schema_capsule():
    t, parts = two_batch_table()
    assert pa.schema(t) == parts[0].schema
    cap = t.__arrow_c_schema__()
    assert type(cap).__name__ == "PyCapsule"


def test_polars_without_copy():
    import polars as pl

    t, parts = two_batch_table()
    df = pl.DataFrame(t)
    assert df.shape == (2500, len(parts[0].column_names))
    back = df.to_arrow()
    want = [c["buffers"][1] for c in t.chunk_info("trip_distance")]
    assert [c.buffers()[1].address for c in back["trip_distance"].chunks] == want
    assert [c.buffers()[1].address for c in back["id"].chunks] == [c["buffers"][1] for c in t.chunk_info("id")]
    df2 = t.to_polars()
    assert df2.equals(df)
    # from_arrow on a pyarrow view of the table: still the same buffers.
    df3 = pl.from_arrow(t.to_pyarrow(), rechunk=False)
    assert [c.buffers()[1].address for c in df3.to_arrow()["trip_distance"].chunks] == want
    # polars' rule for stream producers: one struct Series.
    s = pl.from_arrow(t)
    assert s.struct.unnest().equals(df)


def test_duckdb_reads_in_place():
    import duckdb

    t, parts = two_batch_table()
    ref = pa.concat_tables(parts)
    got = duckdb.sql("select count(*), sum(trip_distance), max(id) from t where passenger_count > 1").fetchall()
    mask = pc.greater(ref["passenger_count"], 1)
    n = pc.sum(mask.cast(pa.int64())).as_py()
    assert got[0][0] == n
    assert got[0][1] == pytest.approx(pc.sum(ref.filter(mask)["trip_distance"]).as_py())
    # again: the Table is not consumed by a query
    assert duckdb.sql("select count(*) from t").fetchall() == [(2500,)]


def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


def _hwm_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024


def test_duckdb_does_not_copy_a_large_table():
    """DuckDB scans Arrow in place: a query over a 240 MB table must not
    raise the process's peak RSS by anything near the table size."""
    import duckdb

    n = 15_000_000
    t = hoist.Table.from_arrow(pa.table({"x": np.random.default_rng(0).random(n), "y": np.arange(n)}))
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (Linux) so the peak below is this query's
    except OSError:
        pytest.skip("cannot reset the peak RSS counter here")
    before = _rss_mib()
    s = duckdb.sql("select sum(x), max(y) from t").fetchall()
    growth = _hwm_mib() - before
    assert s[0][1] == n - 1
    table_mib = n * 16 / 2**20
    assert growth < table_mib * 0.4, (growth, table_mib)


def test_pandas_through_pyarrow_without_copy():
    import pandas as pd

    b = taxi_batch(5000, 0, 3)
    t = hoist.Table.from_arrow(b)
    addr = t.chunk_info("trip_distance")[0]["buffers"][1]
    df = t.to_pandas()
    assert df["trip_distance"].to_numpy().__array_interface__["data"][0] == addr
    assert df["trip_distance"].tolist() == b["trip_distance"].to_pylist()
    dfa = t.to_pandas(types_mapper=pd.ArrowDtype)
    assert dfa["trip_distance"].array._pa_array.chunk(0).buffers()[1].address == addr
    # strings stay in Arrow memory too
    assert (dfa["payment_type"].array._pa_array.chunk(0).buffers()[2].address
            == t.chunk_info("payment_type")[0]["buffers"][2])


def test_numpy_views_numeric_columns_in_place():
    b = taxi_batch(5000, 0, 4)
    t = hoist.Table.from_arrow(b)
    for name in ("trip_distance", "id", "passenger_count", "pickup_at"):
        a = t.to_numpy(name)
        assert a.__array_interface__["data"][0] == t.chunk_info(name)[0]["buffers"][1], name
        assert not a.flags.writeable  # shared Arrow memory is immutable
        np.testing.assert_array_equal(a, b[name].to_numpy())
    # the view keeps the memory alive on its own
    a = t.to_numpy("trip_distance")
    del t
    gc.collect()
    np.testing.assert_array_equal(a, b["trip_distance"].to_numpy())


def test_numpy_fallbacks():
    t, parts = two_batch_table()
    ref = pa.concat_tables(parts)
    np.testing.assert_array_equal(t.to_numpy("id"), ref["id"].to_numpy())  # 2 chunks: concatenated
    np.testing.assert_array_equal(t.to_numpy("payment_type"), ref["payment_type"].to_numpy())
    withnull = hoist.Table.from_arrow(pa.table({"v": pa.array([1.0, None, 3.0])}))
    got = withnull.to_numpy("v")
    assert np.isnan(got[1]) and got[0] == 1.0 and got[2] == 3.0
    sliced = hoist.Table.from_arrow(pa.table({"v": pa.array(np.arange(10.0))}).slice(3, 4))
    np.testing.assert_array_equal(sliced.to_numpy("v"), np.arange(3.0, 7.0))
    empty = hoist.Table.from_arrow(pa.table({"v": pa.array([], pa.float64())}))
    assert empty.to_numpy("v").shape == (0,)


# --------------------------------------------------------------------------
# features


def seeds_filter_outliers(table, clean_fields):
    valid = np.ones(table.num_rows, dtype="bool")
    for field in clean_fields:
        column = table[field].to_numpy()
        minval = np.percentile(column, 2)
        maxval = np.percentile(column, 98)
        valid &= (column > minval) & (column < maxval)
    return table.filter(valid)


def test_filter_outliers_matches_seeds_numpy_version():
    ref = pa.concat_tables([taxi_batch(1001, 0, 5), taxi_batch(2000, 1001, 6)])
    fields = ["trip_distance", "total_amount"]
    want = seeds_filter_outliers(ref, fields)
    got = features.filter_outliers(ref, fields)
    assert isinstance(got, pa.Table)
    assert got.equals(want)
    t = hoist.Table.from_arrow(ref)
    got_t = features.filter_outliers(t, fields)
    assert isinstance(got_t, hoist.Table)
    assert got_t.to_pyarrow().equals(want)
    # integer column, other bounds
    valid = ref["passenger_count"].to_numpy()
    lo, hi = np.percentile(valid, 10), np.percentile(valid, 90)
    want_i = ref.filter((valid > lo) & (valid < hi))
    assert features.filter_outliers(ref, "passenger_count", lo=10, hi=90).equals(want_i)


def test_filter_outliers_through_polars_and_with_nulls():
    import polars as pl

    ref = taxi_batch(3000, 0, 7)
    df = pl.from_arrow(ref)
    got = features.filter_outliers(df, ["trip_distance"])
    want = seeds_filter_outliers(ref, ["trip_distance"])
    assert got.num_rows == want.num_rows
    for name in ("id", "trip_distance", "total_amount", "payment_type"):
        assert got[name].to_pylist() == want[name].to_pylist()
    nulls = pa.table({"v": pa.array([None] + list(range(100)), pa.float64())})
    out = features.filter_outliers(nulls, ["v"])
    vals = np.arange(100.0)
    lo, hi = np.percentile(vals, 2), np.percentile(vals, 98)
    assert out["v"].to_pylist() == [v for v in vals if lo < v < hi]


def test_filter_outliers_bad_arguments():
    ref = taxi_batch(100, 0, 8)
    with pytest.raises(KeyError, match="nope"):
        features.filter_outliers(ref, ["nope"])
    with pytest.raises(TypeError, match="payment_type"):
        features.filter_outliers(ref, ["payment_type"])
    with pytest.raises(ValueError, match="lo, hi"):
        features.filter_outliers(ref, ["id"], lo=50, hi=10)
    with pytest.raises(ValueError, match="fields"):
        features.filter_outliers(ref, [])
    with pytest.raises(TypeError, match="table"):
        features.filter_outliers([1, 2, 3], ["id"])


def test_sample_matches_numpy_reference_and_rate():
    ref = taxi_batch(20000, 0, 9)
    got = features.sample(ref, 0.1, seed=42)
    mask = np.random.default_rng(42).random(ref.num_rows) < 0.1
    assert got.equals(ref.filter(mask))
    assert abs(got.num_rows - 2000) < 4 * np.sqrt(20000 * 0.1 * 0.9)
    assert features.sample(ref, 0.1, seed=42).equals(got)  # reproducible
    assert features.sample(ref, 0.0).num_rows == 0
    assert features.sample(ref, 1.0).num_rows == ref.num_rows
    t = hoist.Table.from_arrow(ref)
    assert isinstance(features.sample(t, 0.5, seed=1), hoist.Table)
    with pytest.raises(ValueError, match="p"):
        features.sample(ref, 1.5)
    with pytest.raises(TypeError, match="seed"):
        features.sample(ref, 0.5, seed="x")


# --------------------------------------------------------------------------
# load_table / scan / shards against pyarrow.dataset


CASES = [
    (None, None, None),
    (["trip_distance", "total_amount"], None, None),
    (["id", "trip_distance", "payment_type"], "passenger_count > 1", pc.field("passenger_count") > 1),
    (["id", "total_amount", "month"], "month = 2 AND payment_type IN ('CRD', 'CSH')",
     (pc.field("month") == 2) & pc.field("payment_type").isin(["CRD", "CSH"])),
    (["id", "tip_amount"], "tip_amount IS NULL OR NOT (passenger_count <= 3)",
     pc.field("tip_amount").is_null() | ~(pc.field("passenger_count") <= 3)),
]


def _check_case(url, root, columns, hfilter, pfilter):
    t = hoist.load_table(url, columns=columns, filter=hfilter)
    assert isinstance(t, hoist.Table)
    want = reference(root, columns, pfilter)
    got = sorted_by_id(t, columns)
    if columns is None:
        want = want.select(got.column_names)
    assert_same_values(got, want)
    stats = t.load_stats
    assert stats["rows"] == want.num_rows
    return t


@pytest.mark.parametrize("columns,hfilter,pfilter", CASES)
def test_load_table_local_equals_pyarrow_dataset(local_ds, columns, hfilter, pfilter):
    root, _ = local_ds
    _check_case(root, root, columns, hfilter, pfilter)


@pytest.mark.parametrize("columns,hfilter,pfilter", CASES[1:3])
def test_load_table_s3_equals_pyarrow_dataset(local_ds, bucket, columns, hfilter, pfilter):
    root, _ = local_ds
    url = upload_dir(bucket, root, "taxi")
    t = _check_case(url, root, columns, hfilter, pfilter)
    stats = t.load_stats
    assert stats["files"] == 6
    # Projection savings are checked where chunks are big enough not to be
    # merged by range coalescing (512 KiB gap, docs/datasets.md):
    # tests/dataset/test_dataset_s3.py checks 2 of 18 columns fetch < 25 %.
    # These files are ~175 KB each, so one coalesced range per file is right.
    assert 0 < stats["bytes_fetched"] <= stats["dataset_bytes"] + 6 * 65536


def test_load_table_result_is_zero_copy_for_consumers(local_ds):
    import polars as pl

    root, _ = local_ds
    t = hoist.load_table(root, columns=["id", "trip_distance"])
    want = [c["buffers"][1] for c in t.chunk_info("trip_distance")]
    assert len(want) == t.num_batches > 1
    assert [c.buffers()[1].address for c in pa.table(t)["trip_distance"].chunks] == want
    assert [c.buffers()[1].address for c in pl.DataFrame(t).to_arrow()["trip_distance"].chunks] == want


def test_load_table_single_file_numpy_in_place(tmp_path):
    b = taxi_batch(3000, 0, 10)
    p = str(tmp_path / "one.parquet")
    pq.write_table(b, p)
    t = hoist.load_table(p, columns=["trip_distance"])
    assert t.num_batches == 1
    a = t.to_numpy("trip_distance")
    assert a.__array_interface__["data"][0] == t.chunk_info("trip_distance")[0]["buffers"][1]
    np.testing.assert_array_equal(a, b["trip_distance"].to_numpy())


def test_scan_iterates_record_batches(local_ds):
    root, rows = local_ds
    sc = hoist.scan(root, columns=["id", "passenger_count"], filter="passenger_count > 1")
    assert sc.schema.names == ["id", "passenger_count"]
    batches = list(sc)
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    got = pa.Table.from_batches(batches).sort_by("id")
    want = reference(root, ["id", "passenger_count"], pc.field("passenger_count") > 1)
    assert got.equals(want)
    with pytest.raises(ValueError, match="consumed"):
        list(sc)
    sc.close()


def test_shards_cover_every_row_once(local_ds):
    root, rows = local_ds
    for n in (1, 2, 4, 10):
        parts = hoist.shards(root, n, columns=["id"])
        assert 1 <= len(parts) <= n
        assert all(isinstance(s, hoist.Shard) for s in parts)
        assert pickle.loads(pickle.dumps(parts)) == parts  # foreach items pickle
        ids = np.concatenate([hoist.load_table(s, columns=["id"]).to_numpy("id") for s in parts])
        assert len(ids) == rows.num_rows
        assert np.array_equal(np.sort(ids), np.sort(rows["id"].to_numpy()))
    assert hoist.shards(root, 4, columns=["id"]) == hoist.shards(root, 4, columns=["id"])  # deterministic
    split = hoist.shards(root, 12, columns=["id"], split_row_groups=True)
    ids = np.concatenate([hoist.load_table(s, columns=["id"]).to_numpy("id") for s in split])
    assert np.array_equal(np.sort(ids), np.sort(rows["id"].to_numpy()))


def test_shards_on_s3(local_ds, bucket):
    root, rows = local_ds
    url = upload_dir(bucket, root, "sharded")
    parts = hoist.shards(url, 3, columns=["id", "trip_distance"])
    assert all(u.startswith("s3://%s/sharded/" % bucket) for s in parts for u in s.urls)
    total = sum(hoist.load_table(s, columns=["id"]).num_rows for s in parts)
    assert total == rows.num_rows


def test_sample_in_load_table_is_reproducible(local_ds):
    root, rows = local_ds
    a = hoist.load_table(root, columns=["id"], sample=0.2, seed=7)
    b = hoist.load_table(root, columns=["id"], sample=0.2, seed=7)
    assert np.array_equal(a.to_numpy("id"), b.to_numpy("id"))
    assert abs(a.num_rows - 0.2 * rows.num_rows) < 5 * np.sqrt(rows.num_rows * 0.2 * 0.8)


def test_load_table_errors(local_ds, tmp_path):
    root, _ = local_ds
    with pytest.raises(hoist.DatasetValueError, match="passenger_count") as e:
        hoist.load_table(root, filter="passenger_count >> 1")
    assert isinstance(e.value, ValueError) and e.value.status == 501
    with pytest.raises(ValueError, match="nope"):
        hoist.load_table(root, columns=["nope"])
    with pytest.raises(hoist.DatasetError, match="does-not-exist"):
        hoist.load_table(str(tmp_path / "does-not-exist") + "/")
    with pytest.raises(TypeError, match="url_or_urls"):
        hoist.load_table(42)
    with pytest.raises(ValueError, match="sample"):
        hoist.load_table(root, sample=0)
    with pytest.raises(ValueError, match="memory_limit"):
        hoist.load_table(root, memory_limit="lots")
    with pytest.raises(TypeError, match="filter"):
        hoist.load_table(root, filter=1)
    with pytest.raises(ValueError, match="n"):
        hoist.shards(root, 0)


def test_load_table_memory_limit_and_threads(local_ds):
    root, rows = local_ds
    t = hoist.load_table(root, columns=["id", "total_amount"], memory_limit="1MiB", threads=1)
    assert t.num_rows == rows.num_rows
    assert t.load_stats["peak_pipeline_bytes"] <= 2**20 + max(
        pq.ParquetFile(os.path.join(root, "month=1", "part-0.parquet")).metadata.row_group(0).total_byte_size, 0)


CANCEL_SCRIPT = r"""
import sys, time
import hoist
urls = sys.argv[1:]
print("started", flush=True)
t0 = time.perf_counter()
try:
    t = hoist.load_table(urls, memory_limit="8MiB", threads=1)
    print("finished %.3f %d" % (time.perf_counter() - t0, t.num_rows), flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise SystemExit(3)
"""


def test_ctrl_c_cancels_load_table_promptly(bucket, tmp_path):
    import boto3
    import numpy as np
    import pyarrow.parquet as pq

    # ~16 MiB of incompressible doubles per file, stored 40 times: a load of
    # several seconds with an 8 MiB budget, so the signal lands mid-load.
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"x": np.random.default_rng(1).random(2_000_000)}), path,
                   compression="none", row_group_size=250_000)
    body = path.read_bytes()
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    urls = []
    for i in range(40):
        s3.put_object(Bucket=bucket, Key=f"cancel/part-{i:02d}.parquet", Body=body)
        urls.append(f"s3://{bucket}/cancel/part-{i:02d}.parquet")
    p, out, err, elapsed = interrupt_after_start([CANCEL_SCRIPT, *urls], 1.0)
    print("exit %d %.3f s after SIGINT; %s" % (p.returncode, elapsed, out.strip()))
    assert "finished" not in out, "the load ended before the signal: make it longer"
    assert p.returncode == 3, err[-2000:]
    assert elapsed < 3.0


# --------------------------------------------------------------------------
# uint64 filters above int64 (a literal read as a double made 2^63 + 1 equal
# 2^63 and 2^64 - 1 equal nothing)

U64_FILTERS = [("==", 2**64 - 1), ("==", 2**64 - 2), (">", 2**64 - 2), (">=", 2**63), ("<", 2**63 + 1),
               ("==", 2**63 + 1), ("!=", 2**63)]


@pytest.mark.parametrize("op,value", U64_FILTERS)
def test_uint64_filter_above_int64_is_exact(tmp_path, op, value):
    vals = [0, 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2, 2**64 - 1, None] * 3
    path = tmp_path / "u64.parquet"
    # Row groups of 8 rows each, plus a sorted one, so min/max pruning is exercised too.
    tail = sorted(v for v in vals if v is not None)
    pq.write_table(pa.table({"x": pa.array(vals + tail, pa.uint64())}), path, row_group_size=8)
    got = pa.table(hoist.load_table(str(path), filter="x %s %d" % (op, value)))["x"].to_pylist()
    ops = {"==": pc.equal, "!=": pc.not_equal, ">": pc.greater, ">=": pc.greater_equal, "<": pc.less}
    ref = pq.read_table(path)
    want = ref.filter(ops[op](ref["x"], pa.scalar(value, pa.uint64())))["x"].to_pylist()
    assert got == want
