"""hoist.iceberg: hoist-written datasets registered as Apache Iceberg tables in pyiceberg's
SqlCatalog (SQLite, the embedded default) with an S3 warehouse on the local server; read back
identically by pyiceberg and by hoist; tables written by pyiceberg itself read by hoist; what
hoist cannot read yet refused clearly."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import hoist

pytest.importorskip("pyiceberg")


def taxi(n=6000, seed=5, month_base=1):
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "month": pa.array((month_base + rng.integers(0, 3, n)).astype(np.int32)),
        "vendor": pa.array([["CMT", "VTS", None][i % 3] for i in range(n)]),
        "fare": pa.array(rng.random(n) * 50, mask=rng.random(n) < 0.05),
        "pickup_at": pa.array((np.int64(1_700_000_000_000_000) + rng.integers(0, 10**12, n)).astype("datetime64[us]")),
    })


def plain(t):
    """Comparable form: hoist may hand out string views; sorted by id."""
    t = pa.table(t) if not isinstance(t, pa.Table) else t
    schema = pa.schema([f.with_type(pa.string()) if f.type in (pa.string_view(), pa.large_string()) else f
                        for f in t.schema])
    return t.cast(schema).select(sorted(t.column_names)).sort_by("id")


@pytest.fixture
def cat(tmp_path, bucket, s3_env):
    return hoist.iceberg.catalog("sqlite:///" + str(tmp_path / "catalog.db"), warehouse="s3://%s/warehouse" % bucket)


def write(bucket, t, name="nyc_taxi", keep=True, **kw):
    return hoist.write_table(t, "s3://%s/%s/" % (bucket, name), partition_by=["month"], keep_partition_columns=keep,
                             lineage={"sql": "SELECT 1", "pathspec": "F/1/s/2"}, **kw)


def test_register_then_read_back_by_pyiceberg_and_hoist(cat, bucket):
    t = taxi()
    res = write(bucket, t)
    table = hoist.iceberg.register(cat, "db.nyc_taxi", res)

    # the spec is identity on month; the files are exactly the write's, not copies
    spec = table.spec()
    assert [(f.name, str(f.transform)) for f in spec.fields] == [("month", "identity")]
    files = sorted(f["file_path"] for f in table.inspect.files().to_pylist())
    assert files == sorted(res.paths)
    snap = table.current_snapshot()
    assert snap.summary["hoist.write_id"] == res.write_id
    assert json.loads(snap.summary["hoist.lineage"])["sql"] == "SELECT 1"

    again = cat.load_table("db.nyc_taxi")
    assert plain(again.scan().to_arrow()).equals(plain(t))
    assert plain(hoist.load_table(again)).equals(plain(t))


def test_hoist_reads_with_projection_and_pruning(cat, bucket):
    t = taxi()
    res = write(bucket, t)
    table = hoist.iceberg.register(cat, "db.nyc_taxi", res)
    month2 = sorted(u for u in res.paths if "/month=2/" in u)
    assert sorted(hoist.iceberg.plan_files(table, filter="month = 2")) == month2
    got = hoist.load_table(table, columns=["id", "fare"], filter="month = 2 AND fare > 10")
    expect = t.filter(pc.and_(pc.equal(t["month"], 2), pc.greater(t["fare"], 10))).select(["id", "fare"])
    assert plain(got).equals(plain(expect))
    # a hoist-only filter that pyiceberg's parser does not take still filters exactly
    got = hoist.load_table(table, columns=["id"], filter="vendor IN ('CMT') AND NOT month = 1")
    mask = pc.and_(pc.equal(t["vendor"], "CMT"), pc.invert(pc.equal(t["month"], 1)))
    assert sorted(got.to_pyarrow()["id"].to_pylist()) == sorted(t.filter(mask)["id"].to_pylist())
    # shards of an Iceberg table cover every row once
    shards = hoist.shards(table, 2, columns=["id"])
    ids = sorted(i for s in shards for i in hoist.load_table(s, columns=["id"]).to_pyarrow()["id"].to_pylist())
    assert ids == list(range(t.num_rows))


def test_register_needs_partition_columns_in_the_files(cat, bucket):
    res = write(bucket, taxi(), keep=False)
    with pytest.raises(hoist.InvalidInputError, match="keep_partition_columns=True"):
        hoist.iceberg.register(cat, "db.nyc_taxi", res)
    assert not cat.table_exists("db.nyc_taxi")


def test_register_refuses_what_is_not_a_complete_hoist_write(cat, bucket, s3):
    s3.put_object(Bucket=bucket, Key="half/month=1/part-0.parquet", Body=b"PAR1")
    with pytest.raises(hoist.InvalidInputError, match="no _SUCCESS manifest"):
        hoist.iceberg.register(cat, "db.half", "s3://%s/half/" % bucket)
    s3.put_object(Bucket=bucket, Key="spark/_SUCCESS", Body=b"")
    with pytest.raises(hoist.InvalidInputError, match="not a hoist manifest"):
        hoist.iceberg.register(cat, "db.spark", "s3://%s/spark/" % bucket)


def test_register_by_url_and_replace_with_time_travel(cat, bucket):
    first, second = taxi(seed=1), taxi(n=3000, seed=2, month_base=4)
    write(bucket, first, name="v1")
    table = hoist.iceberg.register(cat, "db.t", "s3://%s/v1/" % bucket)
    old_snapshot = table.current_snapshot().snapshot_id
    write(bucket, second, name="v2")
    with pytest.raises(hoist.AlreadyExistsError, match="replace=True"):
        hoist.iceberg.register(cat, "db.t", "s3://%s/v2/" % bucket)
    table = hoist.iceberg.register(cat, "db.t", "s3://%s/v2/" % bucket, replace=True)
    assert plain(hoist.load_table(table)).equals(plain(second))
    assert plain(table.scan().to_arrow()).equals(plain(second))
    # the old data stays readable at its snapshot (pyiceberg plans it, hoist loads it)
    assert plain(hoist.load_table(table.scan(snapshot_id=old_snapshot))).equals(plain(first))


def test_reads_tables_written_by_pyiceberg(cat, bucket):
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import IdentityTransform
    from pyiceberg.types import DoubleType, IntegerType, LongType, NestedField, StringType

    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "month", IntegerType(), required=False),
                    NestedField(3, "vendor", StringType(), required=False),
                    NestedField(4, "fare", DoubleType(), required=False))
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="month"))
    cat.create_namespace_if_not_exists("db")
    table = cat.create_table("db.native", schema=schema, partition_spec=spec)
    t = taxi().drop_columns(["pickup_at"])
    t = t.cast(table.schema().as_arrow())
    table.append(t.slice(0, 4000))
    table.append(t.slice(4000))
    table = cat.load_table("db.native")
    assert plain(hoist.load_table(table)).equals(plain(table.scan().to_arrow()))
    got = hoist.load_table(table, columns=["id"], filter="month = 3")
    assert sorted(got.to_pyarrow()["id"].to_pylist()) == sorted(t.filter(pc.equal(t["month"], 3))["id"].to_pylist())
    # copy-on-write delete (pyiceberg rewrites files): still plain data files for hoist
    table.delete("month = 1")
    table = cat.load_table("db.native")
    assert plain(hoist.load_table(table)).equals(plain(table.scan().to_arrow()))
    assert hoist.load_table(table, filter="month = 1").num_rows == 0


def test_empty_scan_gives_an_empty_table_with_the_schema(cat, bucket):
    res = write(bucket, taxi())
    table = hoist.iceberg.register(cat, "db.nyc_taxi", res)
    got = hoist.load_table(table, columns=["id", "fare"], filter="month = 12")
    assert got.num_rows == 0 and got.column_names == ["id", "fare"]
    assert hoist.shards(table, 3, filter="month = 12") == []


def test_renamed_columns_are_refused(cat, bucket):
    res = write(bucket, taxi())
    table = hoist.iceberg.register(cat, "db.nyc_taxi", res)
    with table.update_schema() as upd:
        upd.rename_column("fare", "fare_amount")
    with pytest.raises(hoist.UnsupportedError, match="renamed"):
        hoist.load_table(cat.load_table("db.nyc_taxi"))


def test_tables_with_delete_files_are_refused(cat, bucket, s3):
    """pyiceberg 0.12 only writes copy-on-write deletes; a merge-on-read positional delete file
    (as Spark or Trino write them) is committed here through pyiceberg's own snapshot API."""
    import io

    import pyarrow.parquet as pq
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    cat.create_namespace_if_not_exists("db")
    t = pa.table({"id": pa.array(range(10), pa.int64())})
    table = cat.create_table("db.mor", schema=t.schema)
    table.append(t)
    table = cat.load_table("db.mor")
    data_path = table.inspect.files().to_pylist()[0]["file_path"]
    buf = io.BytesIO()
    pq.write_table(pa.table({"file_path": [data_path], "pos": pa.array([3], pa.int64())}), buf)
    s3.put_object(Bucket=bucket, Key="deletes/pos-1.parquet", Body=buf.getvalue())
    delete = DataFile.from_args(content=DataFileContent.POSITION_DELETES, file_path="s3://%s/deletes/pos-1.parquet"
                                % bucket, file_format=FileFormat.PARQUET, partition=Record(), record_count=1,
                                file_size_in_bytes=len(buf.getvalue()))
    delete.spec_id = 0
    with table.transaction() as txn:
        with txn.update_snapshot().fast_append() as append:
            append.append_data_file(delete)
    table = cat.load_table("db.mor")
    assert table.scan().to_arrow().num_rows == 9  # pyiceberg applies it
    with pytest.raises(hoist.UnsupportedError, match="1 of 1 data files carry delete files"):
        hoist.load_table(table)


def test_filters_pyiceberg_cannot_bind_still_load(cat, bucket):
    """A filter pyiceberg parses but cannot bind (a literal of another type, a column it does not
    know) plans every file; hoist applies it and reports its own errors."""
    t = taxi()
    table = hoist.iceberg.register(cat, "db.nyc_taxi", write(bucket, t))
    got = hoist.load_table(table, columns=["id"], filter="vendor = 'CMT' AND month > 1")
    mask = pc.and_(pc.equal(t["vendor"], "CMT"), pc.greater(t["month"], 1))
    assert sorted(got.to_pyarrow()["id"].to_pylist()) == sorted(t.filter(mask)["id"].to_pylist())
    with pytest.raises(hoist.DatasetError, match="nope"):
        hoist.load_table(table, filter="nope = 1")
    with pytest.raises(hoist.DatasetError):
        hoist.load_table(table, filter="month = 'x'")
