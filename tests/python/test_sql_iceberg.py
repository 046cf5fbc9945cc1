"""hoist.iceberg (issue 16 section 2, first part) on pyiceberg's SQLite catalog with the
warehouse on the local S3 server: a hoist-written dataset registered in place (identity
partition on month) is read back identically by pyiceberg and by hoist; pyiceberg plans the
files (partition pruning, time travel); tables pyiceberg wrote itself are read by hoist as
pyiceberg reads them; hoist.sql takes an Iceberg table."""
import os

import numpy as np
import pyarrow as pa
import pytest

import hoist

pytest.importorskip("pyiceberg")
from pyiceberg.catalog.sql import SqlCatalog  # noqa: E402


@pytest.fixture()
def catalog(s3_env, bucket, tmp_path):
    return SqlCatalog("default", uri="sqlite:///%s" % (tmp_path / "catalog.db"),
                      warehouse="s3://%s/warehouse" % bucket,
                      **{"s3.endpoint": s3_env["AWS_ENDPOINT_URL"], "s3.access-key-id": s3_env["AWS_ACCESS_KEY_ID"],
                         "s3.secret-access-key": s3_env["AWS_SECRET_ACCESS_KEY"], "s3.region": s3_env["AWS_REGION"]})


def sample(n=6000):
    rng = np.random.default_rng(3)
    return pa.table({
        "month": pa.array(rng.integers(1, 4, n), pa.int32()),
        "x": pa.array(np.arange(n), pa.int64()),
        "fare": rng.random(n),
        "kind": pa.array([["a", "b", None][i % 3] for i in range(n)]),
        "at": pa.array(np.arange(n) * 1_000_000, pa.timestamp("us")),
    })


def by_x(t, schema=None):
    t = pa.table(t)
    if schema is not None:
        t = t.select(schema.names).cast(schema)
    return t.sort_by("x")


def test_register_and_read_back(catalog, bucket):
    data = sample()
    res = hoist.write_table(data, "s3://%s/ds/" % bucket, partition_by="month", keep_partition_columns=True,
                            row_group_size=1000)
    tab = hoist.iceberg.register(catalog, "db.trips", res, partition_by="month")
    assert [f.name for f in tab.spec().fields] == ["month"]
    # no copy: the table's files are the dataset's files
    assert sorted(hoist.iceberg.data_files(tab)) == sorted(res.paths)
    want = by_x(data)
    assert by_x(tab.scan().to_arrow()).equals(want)
    assert by_x(hoist.iceberg.load_table(tab)).equals(want)
    # registering from the dataset URL (its _SUCCESS manifest) gives the same table
    tab2 = hoist.iceberg.register(catalog, "db.trips2", "s3://%s/ds/" % bucket, partition_by=["month"])
    assert sorted(hoist.iceberg.data_files(tab2)) == sorted(res.paths)
    # pyiceberg prunes partitions; hoist applies the filter exactly
    assert len(hoist.iceberg.data_files(tab, filter="month = 2")) == 1
    got = hoist.iceberg.load_table(tab, columns=["x", "fare"], filter="month = 2 AND fare < 0.5")
    mask = np.logical_and(data["month"].to_numpy() == 2, data["fare"].to_numpy() < 0.5)
    assert by_x(got).equals(by_x(data.filter(pa.array(mask)).select(["x", "fare"])))
    # an empty plan: an empty table with the columns asked for
    empty = hoist.iceberg.load_table(tab, columns=["x"], filter="month = 9")
    assert empty.num_rows == 0 and empty.column_names == ["x"]


def test_register_needs_the_partition_column_in_the_files(catalog, bucket):
    res = hoist.write_table(sample(), "s3://%s/dropped/" % bucket, partition_by="month")
    with pytest.raises(hoist.iceberg.IcebergError, match="keep_partition_columns=True"):
        hoist.iceberg.register(catalog, "db.bad", res, partition_by="month")
    assert not catalog.table_exists("db.bad")


def test_tables_pyiceberg_wrote(catalog):
    """pyiceberg's own writes (append, then a copy-on-write delete): hoist reads each
    snapshot as pyiceberg does (time travel by snapshot id)."""
    data = sample(3000).drop_columns(["at"])
    catalog.create_namespace_if_not_exists("db")
    tab = catalog.create_table("db.own", schema=data.schema)
    tab.append(data)
    first = tab.current_snapshot().snapshot_id
    tab.delete("x < 1000")
    tab = catalog.load_table("db.own")
    # pyiceberg hands strings out as large_string: compare values
    assert by_x(hoist.iceberg.load_table(tab)).to_pylist() == by_x(tab.scan().to_arrow()).to_pylist()
    assert hoist.iceberg.load_table(tab).num_rows == 2000
    old = hoist.iceberg.load_table(tab, snapshot_id=first)
    assert by_x(old).to_pylist() == by_x(tab.scan(snapshot_id=first).to_arrow()).to_pylist()
    assert old.num_rows == 3000


def test_sql_over_an_iceberg_table(catalog, bucket):
    data = sample()
    res = hoist.write_table(data, "s3://%s/ds/" % bucket, partition_by="month", keep_partition_columns=True)
    tab = hoist.iceberg.register(catalog, "db.trips", res, partition_by="month")
    t = hoist.sql("SELECT month, count(*) AS n FROM trips WHERE month >= 2 GROUP BY 1 ORDER BY 1",
                  tables={"trips": tab})
    months = data["month"].to_numpy()
    assert t.to_pyarrow().to_pylist() == [{"month": m, "n": int((months == m).sum())} for m in (2, 3)]
    (s,) = [s for s in t.load_stats["scans"] if s["kind"] == "scan"]
    assert s["filters"] == ['("month" >= 2)'] and s["columns"] == ["month"]
    # the same table named by URL in the catalog
    t2 = hoist.sql("SELECT count(*) AS n FROM trips WHERE month = 1", tables={"trips": "iceberg://db.trips"},
                   catalog=catalog)
    assert t2.to_pyarrow().to_pylist() == [{"n": int((months == 1).sum())}]
    with pytest.raises(ValueError, match="needs catalog="):
        hoist.sql("SELECT 1", tables={"trips": "iceberg://db.trips"})
    # CTAS records the snapshot it read
    out = hoist.ctas("SELECT * FROM trips WHERE month = 1", "s3://%s/ctas/" % bucket, tables={"trips": tab})
    (inp,) = out.inputs
    assert inp["iceberg"] == "db.trips" and inp["snapshot_id"] == tab.current_snapshot().snapshot_id
    assert out.rows == int((months == 1).sum())
    assert os.path.basename(out.paths[0]).endswith(".parquet")


def test_ctas_creates_then_replaces_an_iceberg_table(catalog, bucket):
    data = sample()
    src = hoist.write_table(data, "s3://%s/src/" % bucket, partition_by="month")
    T = {"trips": "s3://%s/src/" % bucket}
    months = data["month"].to_numpy()
    r1 = hoist.ctas("SELECT month, x FROM trips WHERE month <= 2", "s3://%s/v1/" % bucket, tables=T,
                    partition_by="month", catalog=catalog, table="db.ctas")
    tab = catalog.load_table("db.ctas")
    assert [f.name for f in tab.spec().fields] == ["month"]
    assert sorted(hoist.iceberg.data_files(tab)) == sorted(r1.paths)
    assert tab.scan().to_arrow().num_rows == int((months <= 2).sum()) == r1.rows
    v1 = tab.current_snapshot().snapshot_id
    assert tab.current_snapshot().summary["hoist.sql"] == "SELECT month, x FROM trips WHERE month <= 2"
    # replace: new schema (a column more), new files, one commit; v1 still readable by time travel
    r2 = hoist.ctas("SELECT month, x, fare FROM trips WHERE month = 3", "s3://%s/v2/" % bucket, tables=T,
                    partition_by="month", catalog=catalog, table="db.ctas")
    tab = catalog.load_table("db.ctas")
    assert sorted(hoist.iceberg.data_files(tab)) == sorted(r2.paths)
    got = hoist.iceberg.load_table(tab).to_pyarrow()
    assert got.num_rows == int((months == 3).sum()) and "fare" in got.column_names
    assert tab.scan().to_arrow().num_rows == got.num_rows
    assert hoist.iceberg.load_table(tab, snapshot_id=v1).num_rows == r1.rows
    del src


def test_ctas_catalog_failure_leaves_no_files(catalog, bucket, s3):
    """A commit the catalog refuses (the namespace name is invalid for SqlCatalog: no
    namespace): the files CTAS wrote are deleted."""
    hoist.write_table(sample(), "s3://%s/src/" % bucket, partition_by="month")
    from pyiceberg.exceptions import NoSuchIdentifierError, NoSuchNamespaceError

    with pytest.raises((NoSuchIdentifierError, NoSuchNamespaceError, ValueError)) as e:
        hoist.ctas("SELECT * FROM trips", "s3://%s/out/" % bucket, tables={"trips": "s3://%s/src/" % bucket},
                   catalog=catalog, table="no_namespace")
    print("refused:", repr(e.value))
    # the catalog refused after the write (the traceback passes through the commit)
    assert any(f.name in ("replace", "register") for f in e.traceback)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents", [])]
    assert keys == []
