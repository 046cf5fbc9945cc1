"""hoist's native Iceberg read planning (src/iceberg) from Python: a table of a SQLite catalog
is found with sqlite3 and planned by hoist without importing pyiceberg; the rows equal
pyiceberg's to_arrow(); the planned files equal pyiceberg's own planning (partition and
column-bound pruning, time travel); hoist.sql resolves iceberg:// names natively."""
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import hoist

pytest.importorskip("pyiceberg")


def taxi(n=6000, seed=7):
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "month": pa.array((1 + rng.integers(0, 3, n)).astype(np.int32)),
        "vendor": pa.array([["CMT", "VTS", None][i % 3] for i in range(n)]),
        "fare": pa.array(rng.random(n) * 50),
    })


def plain(t):
    t = t.to_pyarrow() if hasattr(t, "to_pyarrow") else t
    schema = pa.schema([f.with_type(pa.string()) if f.type in (pa.string_view(), pa.large_string()) else f
                        for f in t.schema])
    return t.cast(schema).select(sorted(t.column_names)).sort_by("id")


@pytest.fixture
def uri(tmp_path):
    return "sqlite:///" + str(tmp_path / "catalog.db")


@pytest.fixture
def cat(uri, bucket, s3_env):
    return hoist.iceberg.catalog(uri, warehouse="s3://%s/warehouse" % bucket)


@pytest.fixture
def registered(cat, bucket):
    t = taxi()
    res = hoist.write_table(t, "s3://%s/taxi/" % bucket, partition_by=["month"], keep_partition_columns=True,
                            row_group_size=500)
    hoist.iceberg.register(cat, "db.taxi", res)
    return t


def test_catalog_is_made_on_first_use(uri, bucket, s3_env):
    cat = hoist.iceberg.catalog(uri, warehouse="s3://%s/warehouse" % bucket)
    assert isinstance(cat, hoist.iceberg.Catalog) and cat._sql_catalog is None
    cat.create_namespace_if_not_exists("db")  # a pyiceberg call: now it exists
    assert type(cat._sql_catalog).__name__ == "SqlCatalog"


def test_native_read_equals_pyiceberg(cat, registered):
    it = hoist.iceberg.table(cat, "db.taxi")
    assert isinstance(it, hoist.iceberg.IcebergTable)
    py = cat.load_table("db.taxi")
    assert it.metadata_location == py.metadata_location
    assert plain(hoist.load_table(it)).equals(plain(py.scan().to_arrow()))
    assert plain(hoist.load_table(it)).equals(plain(registered))
    got = hoist.load_table(it, columns=["id", "fare"], filter="month = 2 AND fare > 10")
    mask = pc.and_(pc.equal(registered["month"], 2), pc.greater(registered["fare"], 10))
    assert sorted(got.to_pyarrow()["id"].to_pylist()) == sorted(registered.filter(mask)["id"].to_pylist())
    # scan and shards take it too
    n = sum(b.num_rows for b in hoist.scan(it, columns=["id"]))
    assert n == registered.num_rows
    shards = hoist.shards(it, 2, columns=["id"])
    assert sum(hoist.load_table(s, columns=["id"]).num_rows for s in shards) == registered.num_rows
    # the catalog URL alone works too
    assert hoist.iceberg.table(cat.properties["uri"], "db.taxi").metadata_location == it.metadata_location


@pytest.mark.parametrize("filt", [None, "month = 2", "month > 1", "month = 9", "id < 100", "id >= 5990",
                                  "vendor = 'VTS'", "month IN (1, 3)"])
def test_native_plan_equals_pyiceberg_plan(cat, registered, filt):
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.expressions.parser import parse

    py = cat.load_table("db.taxi")
    want = sorted(t.file.file_path for t in py.scan(row_filter=parse(filt) if filt else AlwaysTrue()).plan_files())
    assert sorted(hoist.iceberg.plan_files(hoist.iceberg.table(cat, "db.taxi"), filter=filt)) == want
    # a pyiceberg Table is planned natively as well
    assert sorted(hoist.iceberg.plan_files(py, filter=filt)) == want


def test_reading_does_not_import_pyiceberg(uri, cat, registered):
    """The point of the native planner: a reading process imports neither pyiceberg nor
    SQLAlchemy (nor pandas)."""
    code = ("import sys, hoist\n"
            "t = hoist.load_table(hoist.iceberg.table(%r, 'db.taxi'), columns=['id'], filter='month = 2')\n"
            "print(t.to_pyarrow().num_rows, sorted(m for m in ('pyiceberg', 'sqlalchemy', 'pandas') "
            "if m in sys.modules))\n" % uri)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                         check=True).stdout.split(None, 1)
    assert int(out[0]) == int(pc.sum(pc.equal(registered["month"], 2)).as_py())
    assert out[1].strip() == "[]"


def test_time_travel_and_missing_tables(cat, bucket):
    first, second = taxi(seed=1), taxi(n=3000, seed=2)
    hoist.iceberg.register(cat, "db.t", hoist.write_table(first, "s3://%s/v1/" % bucket, partition_by=["month"],
                                                          keep_partition_columns=True))
    old = cat.load_table("db.t").current_snapshot().snapshot_id
    hoist.iceberg.replace(cat, "db.t", hoist.write_table(second, "s3://%s/v2/" % bucket, partition_by=["month"],
                                                         keep_partition_columns=True))
    it = hoist.iceberg.table(cat, "db.t")
    assert plain(hoist.load_table(it)).equals(plain(second))
    assert plain(hoist.iceberg.load_table(it, snapshot_id=old)).equals(plain(first))
    assert hoist.iceberg.snapshot_id(it) == cat.load_table("db.t").current_snapshot().snapshot_id != old
    with pytest.raises(hoist.iceberg.IcebergError, match="no snapshot 123"):
        hoist.iceberg.load_table(it, snapshot_id=123)
    with pytest.raises(hoist.NotFoundError, match="db.nope"):
        hoist.iceberg.table(cat, "db.nope")
    # an empty result keeps the Iceberg schema's columns and types
    empty = hoist.load_table(it, columns=["id", "fare"], filter="month = 12")
    assert empty.num_rows == 0 and empty.to_pyarrow().schema.names == ["id", "fare"]
    assert empty.to_pyarrow().schema.field("fare").type == pa.float64()


def test_sql_resolves_iceberg_names_natively(cat, registered):
    from hoist.sql import _resolve_iceberg

    assert isinstance(_resolve_iceberg({"t": "iceberg://db.taxi"}, cat)["t"], hoist.iceberg.IcebergTable)
    got = hoist.sql("SELECT month, count(*) AS n FROM taxi WHERE month >= 2 GROUP BY 1 ORDER BY 1",
                    tables={"taxi": "iceberg://db.taxi"}, catalog=cat)
    months = registered["month"].to_numpy()
    assert got.to_pyarrow().to_pylist() == [{"month": m, "n": int((months == m).sum())} for m in (2, 3)]


def test_corrupt_metadata_is_named(cat, registered, s3):
    it = hoist.iceberg.table(cat, "db.taxi")
    bucket, key = it.metadata_location[len("s3://"):].split("/", 1)
    meta = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    snap = [s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"]][0]
    lb, lk = snap["manifest-list"][len("s3://"):].split("/", 1)
    body = s3.get_object(Bucket=lb, Key=lk)["Body"].read()
    s3.put_object(Bucket=lb, Key=lk, Body=body[: len(body) // 2])
    with pytest.raises(hoist.CorruptDataError, match=lk.rsplit("/", 1)[-1]):
        hoist.load_table(it)
