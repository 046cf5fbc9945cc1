"""A filter on Hive keys rules files out by their paths before their footers are read
(files_pruned): the result must equal pyarrow.dataset's, and every case where the paths
alone could change the answer must fall back to reading every footer."""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import hoist


def write_months(root, months=range(1, 13), files=2, rows=300, extra_in=()):
    for m in months:
        d = root / f"month={m}"
        d.mkdir(parents=True)
        for f in range(files):
            rng = np.random.default_rng(m * 10 + f)
            cols = {"id": np.arange(rows, dtype=np.int64) + (m * 10 + f) * rows, "x": rng.random(rows)}
            if m in extra_in:
                cols["extra"] = rng.integers(0, 100, rows)
            pq.write_table(pa.table(cols), d / f"part-{f}.parquet")
    return str(root) + "/"


def reference(url, columns=None, filter=None):
    ds = pads.dataset(url, format="parquet", partitioning="hive")
    return ds.to_table(columns=columns, filter=filter)


def load(url, **kw):
    t = hoist.load_table(url, **kw)
    return t.to_pyarrow().sort_by("id"), t.load_stats


@pytest.mark.parametrize("expr,pyexpr,pruned", [
    ("month = 2", pc.field("month") == 2, 22),
    ("month IN (2, 3) AND x > 0.5", pc.field("month").isin([2, 3]) & (pc.field("x") > 0.5), 20),
    ("month >= 11 OR month < 2", (pc.field("month") >= 11) | (pc.field("month") < 2), 18),
    ("NOT month != 4", pc.field("month") == 4, 22),
    ("month = 2 OR x > 0.99", (pc.field("month") == 2) | (pc.field("x") > 0.99), 0),  # x decides elsewhere
])
def test_pruned_by_path_equals_pyarrow(tmp_path, expr, pyexpr, pruned):
    url = write_months(tmp_path / "ds")
    got, st = load(url, filter=expr)
    want = reference(url, filter=pyexpr).sort_by("id")
    assert got.select(want.column_names).equals(want)
    assert st["files_pruned"] == pruned and st["files"] == 24 - pruned


def test_no_partition_matches_gives_empty_table_with_schema(tmp_path):
    url = write_months(tmp_path / "ds")
    got, st = load(url, filter="month = 13")
    assert got.num_rows == 0 and got.column_names == ["id", "x", "month"]
    assert st["files_pruned"] == 23  # one footer still read, for the schema


def test_column_only_in_pruned_partitions_falls_back(tmp_path):
    # "extra" exists only in month 12's files: asking for it with a filter on month 2 must give
    # an all-null column, as without pruning, not "unknown column".
    url = write_months(tmp_path / "ds", extra_in=(12,))
    got, st = load(url, columns=["id", "extra"], filter="month = 2")
    assert st["files_pruned"] == 0
    assert got.num_rows == 600 and got["extra"].null_count == 600
    got, st = load(url, columns=["id"], filter="month = 2 AND extra IS NULL")
    assert st["files_pruned"] == 0 and got.num_rows == 600
    # All columns: the schema is the kept files' (documented): month 12's column is not there.
    got, st = load(url, filter="month = 2")
    assert st["files_pruned"] == 22 and "extra" not in got.column_names


def test_key_that_is_a_file_column_is_decided_by_the_files(tmp_path):
    # A file under month=1/ whose own month column says 2: the files' values are authoritative.
    root = tmp_path / "ds"
    for m in (1, 2, 3):
        (root / f"month={m}").mkdir(parents=True)
        t = pa.table({"id": pa.array([m * 10, m * 10 + 1], pa.int64()),
                      "month": pa.array([2 if m == 1 else m] * 2, pa.int32())})
        pq.write_table(t, root / f"month={m}" / "part-0.parquet")
    got, st = load(str(root) + "/", filter="month = 2")
    assert got["id"].to_pylist() == [10, 11, 20, 21]
    assert st["files_pruned"] == 0


def test_string_and_null_partitions(tmp_path):
    root = tmp_path / "ds"
    for i, city in enumerate(["NY", "SF", "__HIVE_DEFAULT_PARTITION__"]):
        (root / f"city={city}").mkdir(parents=True)
        pq.write_table(pa.table({"id": pa.array([i], pa.int64())}), root / f"city={city}" / "p.parquet")
    url = str(root) + "/"
    got, st = load(url, filter="city = 'SF'")
    assert got["id"].to_pylist() == [1] and st["files_pruned"] == 2
    got, st = load(url, filter="city IS NULL")
    assert got["id"].to_pylist() == [2] and st["files_pruned"] == 2


def test_bad_literal_still_reported(tmp_path):
    url = write_months(tmp_path / "ds", months=(1, 2))
    with pytest.raises(hoist.HoistError, match="does not match the type of column 'month'"):
        hoist.load_table(url, filter="month = 'abc'")


def test_s3_footers_of_pruned_partitions_are_not_fetched(tmp_path, bucket):
    # Through the store: 24 files, one month kept -> 2 footer GETs + its chunks, not 24 footers.
    import boto3
    url_local = write_months(tmp_path / "ds")
    c = boto3.client("s3")
    for p in sorted((tmp_path / "ds").rglob("*.parquet")):
        c.upload_file(str(p), bucket, "ds/" + str(p.relative_to(tmp_path / "ds")))
    got, st = load(f"s3://{bucket}/ds/", filter="month = 5")
    want = reference(url_local, filter=pc.field("month") == 5).sort_by("id")
    assert got.select(want.column_names).equals(want)
    assert st["files_pruned"] == 22 and st["files"] == 2
    assert st["requests"] <= 2 + 2 * 2  # 2 footers, then at most the 2 files' chunks
