"""hoist.write_table (issue "Writing tables" section 3, Python part): Arrow
producers (pyarrow, polars, duckdb, pandas, hoist) written locally and to the
local S3 server, read back by pyarrow, polars, duckdb and hoist.load_table;
Hive partitions with hostile values; existing modes; the manifest; errors;
progress; the GIL; Ctrl-C leaving no object and no pending multipart upload.

"Equal" for a type means: what the reader returns for hoist's file equals
what it returns for the file pyarrow itself writes from the same input (so a
reader's own type mapping, e.g. timestamp[s] read back as [ms], is not
counted against the writer), and for pyarrow that is the input itself for
every type pyarrow round-trips."""
import datetime
import decimal
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import hoist
from conftest import pending_uploads

# --------------------------------------------------------------------------
# data


def typed_table(n=50):
    """Every common Arrow type, each with nulls."""
    rng = np.random.default_rng(7)
    null = rng.random(n) < 0.2

    def arr(values, type_):
        return pa.array([None if null[i] else v for i, v in enumerate(values)], type=type_)

    ints = [int(v) for v in rng.integers(-1000, 1000, n)]
    base = datetime.datetime(2024, 3, 1, 12, 0, 0)
    return pa.table({
        "i8": arr([v % 100 for v in ints], pa.int8()),
        "i16": arr(ints, pa.int16()),
        "i32": arr(ints, pa.int32()),
        "i64": arr([v * 10**12 for v in ints], pa.int64()),
        "u8": arr([abs(v) % 256 for v in ints], pa.uint8()),
        "u32": arr([abs(v) for v in ints], pa.uint32()),
        "u64": arr([2**64 - 1 - abs(v) for v in ints], pa.uint64()),
        "f32": arr([v / 8 for v in ints], pa.float32()),
        "f64": arr([v / 3 for v in ints], pa.float64()),
        "flag": arr([v % 2 == 0 for v in ints], pa.bool_()),
        "s": arr(["v%d-é" % v for v in ints], pa.string()),
        "ls": arr(["%x" % abs(v) for v in ints], pa.large_string()),
        "bin": arr([b"\x00\xff" * (abs(v) % 5) for v in ints], pa.binary()),
        "fsb": arr([(abs(v) % 65536).to_bytes(4, "little") for v in ints], pa.binary(4)),
        "day": arr([datetime.date(2000, 1, 1) + datetime.timedelta(days=v) for v in ints], pa.date32()),
        "ts_tz": arr([base + datetime.timedelta(seconds=v * 3601) for v in ints],
                     pa.timestamp("us", tz="America/New_York")),
        "ts_utc_ms": arr([base + datetime.timedelta(milliseconds=v) for v in ints], pa.timestamp("ms", tz="UTC")),
        "ts_ns": arr([v * 1_000_000_007 for v in ints], pa.timestamp("ns")),
        "ts_s": arr([v * 86_400 for v in ints], pa.timestamp("s")),
        "t_us": arr([abs(v) * 1_000_003 for v in ints], pa.time64("us")),
        "dur": arr([v * 1000 for v in ints], pa.duration("us")),
        "dec": arr([decimal.Decimal(v) / 100 for v in ints], pa.decimal128(10, 2)),
        "dec38": arr([decimal.Decimal(v) * 10**20 for v in ints], pa.decimal128(38, 0)),
        "lst": arr([[v, None, v + 1][: abs(v) % 4] for v in ints], pa.list_(pa.int64())),
        "lls": arr([["a", str(v)] for v in ints], pa.large_list(pa.string())),
        "st": arr([{"a": v, "b": None if v % 3 == 0 else str(v)} for v in ints],
                  pa.struct([("a", pa.int32()), ("b", pa.string())])),
        "mp": arr([[("k", v), ("j", None)] for v in ints], pa.map_(pa.string(), pa.int64())),
        "dct": pa.array([None if null[i] else ["x", "y", "z"][v % 3] for i, v in enumerate(ints)]).dictionary_encode(),
        "fsl": arr([[v, -v] for v in ints], pa.list_(pa.int32(), 2)),
        "sv": arr(["view %d" % v for v in ints], pa.string_view()),
        "nothing": pa.nulls(n),
    })


def taxi(n=20_000, seed=3):
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "month": pa.array(rng.integers(1, 4, n).astype(np.int32)),
        "vendor": pa.array([["CMT", "VTS", None][i % 3] for i in range(n)]),
        "fare": pa.array(rng.random(n) * 50, mask=rng.random(n) < 0.05),
        "pickup_at": pa.array((np.int64(1_700_000_000_000_000) + rng.integers(0, 10**12, n)).astype("datetime64[us]"))
                      .cast(pa.timestamp("us", tz="UTC")),
    })


def by_id(t):
    # pyarrow cannot sort string_view columns (polars hands them out): compare as string
    schema = pa.schema([f.with_type(pa.string()) if f.type == pa.string_view() else f for f in t.schema])
    return t.cast(schema).sort_by("id")


def keys(s3, bucket, prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


# --------------------------------------------------------------------------
# types, read back by every reader


def test_every_type_round_trips_through_pyarrow(tmp_path):
    t = typed_table()
    res = hoist.write_table(t, tmp_path / "t.parquet")
    back = pq.read_table(tmp_path / "t.parquet")
    ref_path = tmp_path / "ref.parquet"
    pq.write_table(t, ref_path)
    ref = pq.read_table(ref_path)
    assert back.schema == ref.schema
    for name in t.column_names:
        assert back[name].equals(ref[name]), name
        if name != "ts_s":  # Parquet has no seconds unit: pyarrow reads [ms] for both files
            assert back[name].equals(t[name]), name
    assert res.rows == t.num_rows and res.paths == [str(tmp_path / "t.parquet")]


@pytest.mark.parametrize("reader", ["polars", "duckdb", "hoist"])
def test_every_type_reads_back_like_pyarrows_own_file(tmp_path, reader):
    t = typed_table()
    hoist.write_table(t, tmp_path / "h.parquet")
    pq.write_table(t, tmp_path / "p.parquet")
    for name in t.column_names:
        if reader == "polars":
            import polars as pl

            try:
                want = pl.read_parquet(tmp_path / "p.parquet", columns=[name])
            except Exception as e:  # the reader cannot read pyarrow's own file either
                print("polars cannot read %s: %s" % (name, e))
                continue
            got = pl.read_parquet(tmp_path / "h.parquet", columns=[name])
            assert got.equals(want), name
        elif reader == "duckdb":
            import duckdb

            q = 'select "%s" from read_parquet(?)' % name
            try:
                want = duckdb.execute(q, [str(tmp_path / "p.parquet")]).fetchall()
            except Exception as e:
                print("duckdb cannot read %s: %s" % (name, e))
                continue
            assert duckdb.execute(q, [str(tmp_path / "h.parquet")]).fetchall() == want, name
        else:
            try:
                want = hoist.load_table(str(tmp_path / "p.parquet"), columns=[name]).to_pyarrow()
            except hoist.DatasetError as e:
                print("hoist cannot read %s: %s" % (name, e))
                continue
            got = hoist.load_table(str(tmp_path / "h.parquet"), columns=[name]).to_pyarrow()
            assert got.equals(want), name


# --------------------------------------------------------------------------
# sources: every Arrow producer, to a local directory and to S3


def source(kind, t):
    if kind == "pyarrow_table":
        return t
    if kind == "record_batch_reader":
        return pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=3000))
    if kind == "generator_reader":  # batches made by Python code while the GIL is released
        return pa.RecordBatchReader.from_batches(t.schema, (b for b in t.to_batches(max_chunksize=1000)))
    if kind == "record_batch":  # __arrow_c_array__ and __arrow_c_stream__
        return t.combine_chunks().to_batches()[0]
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(t)
    if kind == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.register("src", t)
        return con.sql("select * from src order by id")
    if kind == "pandas":
        return t.to_pandas()
    if kind == "hoist_table":
        return hoist.Table.from_arrow(t)
    raise AssertionError(kind)


SOURCES = ["pyarrow_table", "record_batch_reader", "generator_reader", "record_batch", "polars", "duckdb",
           "pandas", "hoist_table"]


@pytest.mark.parametrize("kind", SOURCES)
def test_sources_to_local_dataset(tmp_path, kind):
    t = taxi()
    # polars hands out string_view columns (their split by partition is covered by
    # test_polars_string_view_split_by_partition); here polars writes the other columns.
    res = hoist.write_table(source(kind, t), str(tmp_path / "out") + "/", partition_by=["month"],
                            row_group_size=4000) if kind != "polars" else \
        hoist.write_table(source(kind, t.drop_columns(["vendor"])), str(tmp_path / "out") + "/",
                          partition_by=["month"], row_group_size=4000)
    if kind == "polars":
        t = t.drop_columns(["vendor"])
    back = pads.dataset(tmp_path / "out", format="parquet", partitioning="hive").to_table()
    back = by_id(back).select(t.column_names)
    want = t.cast(back.schema) if kind in ("polars", "duckdb", "pandas") else t
    # polars/duckdb/pandas may hand over other layouts (large_string, string_view, ns): compare values
    assert back.to_pylist() == want.to_pylist() if kind in ("polars", "duckdb", "pandas") else back.equals(t)
    assert res.rows == t.num_rows
    assert sorted(res.paths) == sorted(str(tmp_path / "out" / p) for p in files_under(tmp_path / "out")
                                       if p != "_SUCCESS")
    assert {f["partition"]["month"] for f in res.files} == {"1", "2", "3"}


def test_polars_string_view_split_by_partition(tmp_path):
    """polars hands out string_view columns; splitting them by partition copies
    the long strings' bytes (write_take.c take_view). Nulls, short (inline) and
    long strings, and a slice with an offset."""
    import polars as pl

    t = taxi(1000)
    long = [None if i % 7 == 0 else ("x" * (i % 40)) + str(i) for i in range(t.num_rows)]
    t = t.append_column("note", pa.array(long, pa.string()))
    hoist.write_table(pl.from_arrow(t), str(tmp_path / "sv") + "/", partition_by=["month"])
    back = by_id(pads.dataset(tmp_path / "sv", format="parquet", partitioning="hive").to_table())
    assert back["vendor"].to_pylist() == t["vendor"].to_pylist()
    assert back["note"].to_pylist() == long
    views = pa.table({"month": t["month"], "note": pa.array(long, pa.string_view())}).slice(3)
    hoist.write_table(views, str(tmp_path / "sv2") + "/", partition_by=["month"])
    back = pads.dataset(tmp_path / "sv2", format="parquet", partitioning="hive").to_table()
    assert sorted(back["note"].to_pylist(), key=str) == sorted(long[3:], key=str)


def test_hoist_load_table_and_scan_as_sources(tmp_path):
    t = taxi()
    pq.write_table(t, tmp_path / "in.parquet", row_group_size=3000)
    loaded = hoist.load_table(str(tmp_path / "in.parquet"))
    hoist.write_table(loaded, tmp_path / "a.parquet")
    assert pq.read_table(tmp_path / "a.parquet").equals(t)
    with hoist.scan(str(tmp_path / "in.parquet"), filter="month = 2") as sc:
        res = hoist.write_table(sc, tmp_path / "b.parquet")
    want = t.filter(pa.compute.equal(t["month"], 2))
    assert pq.read_table(tmp_path / "b.parquet").equals(want)
    assert res.rows == want.num_rows


@pytest.mark.parametrize("kind", ["pyarrow_table", "generator_reader", "polars", "duckdb", "hoist_table"])
def test_sources_to_s3_read_back_by_pyarrow_and_hoist(s3, s3fs, bucket, kind):
    t = taxi(30_000)
    url = "s3://%s/w/%s/" % (bucket, kind)
    # polars hands "vendor" out as string_view: partitioning by it is covered here too
    res = hoist.write_table(source(kind, t), url, partition_by="vendor", compression="zstd")
    back = pads.dataset("%s/w/%s" % (bucket, kind), filesystem=s3fs, format="parquet",
                        partitioning="hive").to_table()
    back = by_id(back)
    assert back.num_rows == t.num_rows
    for name in ("id", "month", "fare", "pickup_at"):
        assert back[name].to_pylist() == t[name].to_pylist(), name
    assert back["vendor"].to_pylist() == t["vendor"].to_pylist()
    h = by_id(hoist.load_table(url).to_pyarrow())
    assert h["fare"].to_pylist() == t["fare"].to_pylist()
    assert res.paths == ["s3://%s/%s" % (bucket, k) for k in
                         ["w/%s/%s" % (kind, f["path"]) for f in res.files]]
    assert keys(s3, bucket, "w/%s/" % kind) == sorted(["w/%s/_SUCCESS" % kind] +
                                                       ["w/%s/%s" % (kind, f["path"]) for f in res.files])
    assert not pending_uploads(s3, bucket)


# --------------------------------------------------------------------------
# partitions, existing data, the manifest


HOSTILE = ["a/b", "../up", "..", ".", "50%", "a b", "x=y", "é", "?#&", "", None, "_SUCCESS", "\\", "tab\t"]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_hostile_partition_values_read_back_by_pyarrow(tmp_path, request, where):
    n = len(HOSTILE) * 3
    t = pa.table({"k": pa.array([HOSTILE[i % len(HOSTILE)] for i in range(n)]), "id": pa.array(range(n))})
    if where == "local":
        root = tmp_path / "h"
        hoist.write_table(t, str(root) + "/", partition_by=["k"])
        d = pads.dataset(root, format="parquet", partitioning="hive")
        for f in files_under(root):  # nothing escaped the destination
            assert not f.startswith("..")
        assert not any(p.name.startswith("..") for p in tmp_path.iterdir() if p != root)
    else:
        bucket = request.getfixturevalue("bucket")
        fs = request.getfixturevalue("s3fs")
        hoist.write_table(t, "s3://%s/h/" % bucket, partition_by=["k"])
        d = pads.dataset("%s/h" % bucket, filesystem=fs, format="parquet", partitioning="hive")
    back = by_id(d.to_table())
    assert back["k"].to_pylist() == t["k"].to_pylist()


def test_existing_modes(tmp_path):
    root = str(tmp_path / "ds") + "/"
    t = taxi(3000)
    first = hoist.write_table(t, root, partition_by=["month"])
    before = files_under(tmp_path / "ds")
    with pytest.raises(hoist.DatasetError) as e:
        hoist.write_table(t, root, partition_by=["month"])
    assert e.value.status == 10 and "exist" in str(e.value).lower()
    assert files_under(tmp_path / "ds") == before

    # overwrite replaces the partitions written and keeps the others
    m2 = t.filter(pa.compute.equal(t["month"], 2))
    over = hoist.write_table(m2, root, partition_by=["month"], existing="overwrite")
    back = pads.dataset(tmp_path / "ds", format="parquet", partitioning="hive").to_table()
    assert back.num_rows == t.num_rows
    assert {f["path"] for f in over.files} >= {f["path"] for f in first.files if f["partition"]["month"] != "2"}
    assert not [p for p in files_under(tmp_path / "ds") if first.write_id in p and "month=2/" in p]

    # append adds files; the manifest lists old and new
    app = hoist.write_table(m2, root, partition_by=["month"], existing="append")
    back = pads.dataset(tmp_path / "ds", format="parquet", partitioning="hive").to_table()
    assert back.num_rows == t.num_rows + m2.num_rows
    assert len(app.files) == len(over.files) + len([f for f in app.files if app.write_id in f["path"]])
    assert sorted(app.paths) == sorted(str(tmp_path / "ds" / p) for p in files_under(tmp_path / "ds")
                                       if p != "_SUCCESS")

    # a single file
    hoist.write_table(t, tmp_path / "one.parquet")
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(t, tmp_path / "one.parquet")
    hoist.write_table(m2, tmp_path / "one.parquet", existing="overwrite")
    assert pq.read_table(tmp_path / "one.parquet").equals(m2)


def test_manifest_equals_success_object(s3, bucket):
    t = taxi(5000)
    res = hoist.write_table(t, "s3://%s/m/" % bucket, partition_by=["month"], max_rows_per_file=700,
                            lineage={"sql": "select * from taxi", "inputs": ["s3://x/y"]},
                            metadata={"owner": "tests"})
    body = s3.get_object(Bucket=bucket, Key="m/_SUCCESS")["Body"].read()
    assert json.loads(body) == res.manifest
    assert dict(res) == res.manifest and res["rows"] == res.rows == 5000
    assert res.manifest["lineage"] == {"sql": "select * from taxi", "inputs": ["s3://x/y"]}
    assert res.bytes == sum(f["bytes"] for f in res.files)
    assert all(f["rows"] <= 700 for f in res.files)
    assert res.write_id and all(res.write_id in p for p in res.paths)
    for p, f in zip(res.paths, res.files):
        head = s3.head_object(Bucket=bucket, Key=p.split("/", 3)[3])
        assert head["ContentLength"] == f["bytes"]
    one = res.paths[0].split("/", 3)[3]
    assert pq.ParquetFile(pa.BufferReader(s3.get_object(Bucket=bucket, Key=one)["Body"].read())) \
        .metadata.metadata[b"owner"] == b"tests"


# --------------------------------------------------------------------------
# Parquet options


def test_parquet_options_reach_the_files(tmp_path):
    t = taxi(10_000)
    path = tmp_path / "o.parquet"
    hoist.write_table(t, path, compression="zstd", compression_level=5, row_group_size=3000,
                      data_page_version=2, dictionary=["vendor"], statistics=True, page_index=True,
                      column_encoding={"id": "DELTA_BINARY_PACKED"}, column_compression={"fare": "gzip"},
                      bloom_filter={"vendor": 0.01, "id": (0.05, 10_000)}, metadata={"k": "v"}, threads=1)
    f = pq.ParquetFile(path)
    md = f.metadata
    assert md.num_row_groups == 4
    cols = {md.row_group(0).column(i).path_in_schema: md.row_group(0).column(i) for i in range(md.num_columns)}
    assert cols["month"].compression == "ZSTD" and cols["fare"].compression == "GZIP"
    assert "DELTA_BINARY_PACKED" in cols["id"].encodings
    assert any("DICTIONARY" in e for e in cols["vendor"].encodings)
    assert not any("DICTIONARY" in e for e in cols["month"].encodings)
    assert cols["id"].statistics.has_min_max and cols["id"].has_column_index
    assert md.metadata[b"k"] == b"v"
    assert f.read().equals(t)

    plain = tmp_path / "p.parquet"
    hoist.write_table(t, plain, compression=None, dictionary=False, statistics=False, page_index=False)
    c = pq.ParquetFile(plain).metadata.row_group(0).column(0)
    assert c.compression == "UNCOMPRESSED" and not c.is_stats_set and not c.has_column_index
    assert pq.read_table(plain).equals(t)


def test_layout_options(tmp_path):
    t = taxi(4000)
    res = hoist.write_table(t, str(tmp_path / "l"), partition_by=["month", "vendor"], keep_partition_columns=True,
                            name_template="chunk-{n}-{id}.parquet", max_bytes_per_file="1MiB",
                            memory_limit="64MiB", max_open_files=2, manifest=False)
    assert "_SUCCESS" not in files_under(tmp_path / "l")
    assert all(os.path.basename(p).startswith("chunk-") for p in res.paths)
    one = pq.read_table(res.paths[0])
    assert "month" in one.column_names and "vendor" in one.column_names
    back = pads.dataset(tmp_path / "l", format="parquet", partitioning="hive").to_table()
    assert back.num_rows == t.num_rows


# --------------------------------------------------------------------------
# errors


def test_errors_are_hoist_exceptions(tmp_path):
    t = taxi(100)
    out = str(tmp_path / "e") + "/"
    with pytest.raises(hoist.DatasetValueError) as e:
        hoist.write_table(t, out, compression="lzo")
    assert isinstance(e.value, ValueError) and "lzo" in str(e.value)
    with pytest.raises(hoist.DatasetValueError) as e:
        hoist.write_table(t, out, partition_by=["nope"])
    assert "nope" in str(e.value)
    with pytest.raises(hoist.DatasetError) as e:
        hoist.write_table(t, out, partition_by=["fare"])  # a double cannot name directories
    assert "fare" in str(e.value)
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(t, tmp_path / "x.parquet", partition_by=["month"])
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(t, out, column_encoding={"nope": "plain"})
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(t, "gopher://x/y/")
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(t, out, name_template="no-number.parquet")
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(pa.table({"m": pa.array([1, 2])}), out, partition_by=["m"])  # no data column left
    assert not os.path.exists(tmp_path / "e") or files_under(tmp_path / "e") == []
    # argument checks in Python
    with pytest.raises(TypeError):
        hoist.write_table([1, 2, 3], out)
    with pytest.raises(ValueError):
        hoist.write_table(t, out, existing="replace")
    with pytest.raises(ValueError):
        hoist.write_table(t, out, data_page_version=3)
    with pytest.raises(TypeError):
        hoist.write_table(t, out, lineage={"x": object()})
    with pytest.raises(TypeError):
        hoist.write_table(t, out, bogus=1)
    with pytest.raises(ValueError):
        hoist.write_table(t, out, row_group_size=0)
    # a stream is consumed once
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches())
    cap = reader.__arrow_c_stream__()
    hoist._hoist.write_dataset(cap, str(tmp_path / "c.parquet"))
    with pytest.raises(ValueError):
        hoist._hoist.write_dataset(cap, str(tmp_path / "d.parquet"))


def test_s3_errors(s3, bucket):
    t = taxi(100)
    with pytest.raises(hoist.DatasetError) as e:
        hoist.write_table(t, "s3://no-such-bucket-%s/x/" % bucket)
    assert e.value.status != 0
    hoist.write_table(t, "s3://%s/x/" % bucket)
    with pytest.raises(hoist.DatasetError) as e:
        hoist.write_table(t, "s3://%s/x/" % bucket)
    assert e.value.status == 10
    with pytest.raises(hoist.DatasetError):
        hoist.write_table(t, "s3://%s/y/" % bucket, credentials=("wrong", "wrong"), max_retries=0)
    assert keys(s3, bucket, "y/") == [] and not pending_uploads(s3, bucket)


def test_input_stream_error_leaves_nothing(tmp_path):
    t = taxi(5000)

    def batches():
        yield from t.to_batches(max_chunksize=1000)[:2]
        raise RuntimeError("the producer broke")

    reader = pa.RecordBatchReader.from_batches(t.schema, batches())
    with pytest.raises(hoist.DatasetError) as e:
        hoist.write_table(reader, str(tmp_path / "s") + "/", partition_by=["month"])
    assert "the producer broke" in str(e.value)
    assert not os.path.exists(tmp_path / "s") or files_under(tmp_path / "s") == []


# --------------------------------------------------------------------------
# progress, the GIL


def test_progress_callable_and_text_bar(tmp_path, capfd):
    t = taxi(20_000)
    calls = []
    res = hoist.write_table(pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=2000)),
                            tmp_path / "p.parquet", progress=lambda *a: calls.append(a))
    assert len(calls) >= 10
    rows = [c[0] for c in calls]
    assert rows == sorted(rows) and rows[-1] == t.num_rows
    assert calls[-1][1] >= res.bytes * 0.5 and calls[-1][2] == 1
    hoist.write_table(t, tmp_path / "q.parquet", progress=True)
    err = capfd.readouterr().err
    assert "hoist write" in err and "20,000 rows" in err


def test_progress_exception_cancels_and_propagates(tmp_path):
    t = taxi(20_000)

    class Stop(Exception):
        pass

    def cb(rows, encoded, files):
        if rows >= 6000:
            raise Stop("enough")

    with pytest.raises(Stop):
        hoist.write_table(pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=2000)),
                          str(tmp_path / "c") + "/", partition_by=["month"], progress=cb)
    assert not os.path.exists(tmp_path / "c") or files_under(tmp_path / "c") == []


def test_gil_is_released_during_the_write(tmp_path):
    rng = np.random.default_rng(2)
    t = pa.table({"x": rng.random(3_000_000), "y": rng.integers(0, 10**9, 3_000_000)})
    ticks = [0]
    done = threading.Event()

    def writer():
        hoist.write_table(t, tmp_path / "g.parquet", compression="zstd", threads=1)
        done.set()

    th = threading.Thread(target=writer)
    t0 = time.perf_counter()
    th.start()
    while not done.is_set():
        ticks[0] += 1
    th.join()
    elapsed = time.perf_counter() - t0
    print("%d ticks in %.3f s" % (ticks[0], elapsed))
    # With the GIL held for the whole write the loop could not run at all.
    assert ticks[0] > 10_000


# --------------------------------------------------------------------------
# Metaflow: a step writes under its run's prefix


def test_s3_run_url_and_write_table(s3, bucket, monkeypatch):
    monkeypatch.setenv("METAFLOW_DATATOOLS_S3ROOT", "s3://%s/metaflow/data" % bucket)
    t = taxi(3000)
    with hoist.S3(run="TaxiDataLoader/12") as s3c:
        assert s3c.url() == "s3://%s/metaflow/data/TaxiDataLoader/12" % bucket
        assert s3c.url("nyc_taxi/") == "s3://%s/metaflow/data/TaxiDataLoader/12/nyc_taxi/" % bucket
        res = s3c.write_table(t, "nyc_taxi/", partition_by=["month"])
        direct = hoist.write_table(t, s3c.url("copy/"))
    assert all(p.startswith("s3://%s/metaflow/data/TaxiDataLoader/12/nyc_taxi/month=" % bucket) for p in res.paths)
    assert direct.rows == res.rows == 3000
    back = hoist.load_table(s3c.url("nyc_taxi/")).to_pyarrow()
    assert back.num_rows == 3000
    with pytest.raises(hoist.S3URLError):
        hoist.S3().url("relative/key")


# --------------------------------------------------------------------------
# Ctrl-C in a child process mid-write


CANCEL_SCRIPT = r"""
import sys, time
import numpy as np, pyarrow as pa
import hoist

url = sys.argv[1]
rng = np.random.default_rng(5)
schema = pa.schema([("x", pa.float64()), ("y", pa.float64())])

def batches():
    for i in range(10_000):
        if i == 3:
            print("started", flush=True)
        yield pa.record_batch([pa.array(rng.random(500_000)), pa.array(rng.random(500_000))], schema=schema)
        time.sleep(0.02)

try:
    hoist.write_table(pa.RecordBatchReader.from_batches(schema, batches()), url, compression=None,
                      row_group_size=500_000)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise SystemExit(3)
"""


@pytest.mark.parametrize("where", ["s3-dataset", "s3-file", "local"])
def test_ctrl_c_mid_write_leaves_nothing(request, tmp_path, where):
    if where == "local":
        url = str(tmp_path / "out") + "/"
        started = lambda: any(f.startswith(".") for _, _, fs in os.walk(tmp_path) for f in fs)  # noqa: E731
    else:
        s3, bucket = request.getfixturevalue("s3"), request.getfixturevalue("bucket")
        url = "s3://%s/cancel/%s" % (bucket, "one.parquet" if where == "s3-file" else "ds/")
        started = lambda: bool(pending_uploads(s3, bucket))  # noqa: E731
    p = subprocess.Popen([sys.executable, "-c", CANCEL_SCRIPT, url], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "started"
        # the signal must land mid-upload: a multipart upload (or hidden temp file) exists
        deadline = time.monotonic() + 30
        while not started() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started(), "no upload started"
        t_sig = time.perf_counter()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    elapsed = time.perf_counter() - t_sig
    print("exit %d %.3f s after SIGINT; %s" % (p.returncode, elapsed, out.strip()))
    assert "finished" not in out
    assert p.returncode == 3, err[-2000:]
    assert elapsed < 10
    if where == "local":
        assert files_under(tmp_path) == [] and not (tmp_path / "out").exists()
    else:
        assert keys(s3, bucket) == []
        assert pending_uploads(s3, bucket) == []


# --------------------------------------------------------------------------
# examples/taxi_loader.py: a real Metaflow run writes under its run's prefix


def test_taxi_loader_flow_writes_under_the_run(s3, bucket, tmp_path):
    from flow_runner import run_example

    t = taxi(6000)
    src = tmp_path / "src"
    for m in (1, 2, 3):
        (src / ("month=%d" % m)).mkdir(parents=True)
        part = t.filter(pa.compute.equal(t["month"], m)).drop_columns(["month"])
        pq.write_table(part, src / ("month=%d" % m) / "data.parquet")
        s3.upload_file(str(src / ("month=%d" % m) / "data.parquet"), bucket, "taxi/month=%d/data.parquet" % m)
    _, out = run_example(tmp_path / "run", "taxi_loader.py", "--data", "s3://%s/taxi/" % bucket,
                         METAFLOW_DATATOOLS_S3ROOT="s3://%s/metaflow/data" % bucket)
    assert "Read back 6000 rows" in out
    written = [k for k in keys(s3, bucket, "metaflow/data/TaxiDataLoader/")]
    run_ids = {k.split("/")[3] for k in written}
    assert len(run_ids) == 1
    prefix = "metaflow/data/TaxiDataLoader/%s/nyc_taxi/" % run_ids.pop()
    assert prefix + "_SUCCESS" in written
    assert {k.split("/")[5] for k in written if k.endswith(".parquet")} == {"month=1", "month=2", "month=3"}
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "_SUCCESS")["Body"].read())
    assert manifest["lineage"]["source"] == "s3://%s/taxi/" % bucket
    assert manifest["rows"] == 6000 and not pending_uploads(s3, bucket)


def test_min_rate_store_option(s3, bucket):
    """min_rate (bytes/s, docs/store.md Limits) reaches the store: range
    checked, and a write with a minimum rate set completes."""
    t = taxi(1000)
    with pytest.raises(ValueError):
        hoist.write_table(t, "s3://%s/mr/bad/" % bucket, min_rate=-1)
    with pytest.raises(hoist.DatasetError) as e:
        hoist.write_table(t, "s3://%s/mr/bad/" % bucket, min_rate=1 << 41)
    assert "minimum rate" in str(e.value)
    res = hoist.write_table(t, "s3://%s/mr/ok/" % bucket, min_rate=1 << 20)
    assert res.paths


def test_deferred_commit_on_s3(s3, bucket, s3_env):
    """commit="defer" (one task of a distributed write): nothing is visible,
    every file (small ones too) is a pending multipart upload, and the
    PendingWrite that travels to the driver holds no credential. The driver's
    commit publishes both tasks with one _SUCCESS; a second job's abort sweeps
    a task that never reported."""
    import pickle

    url = "s3://%s/deferred/" % bucket
    t = pa.table({"id": list(range(100)), "k": [i % 3 for i in range(100)]})
    kw = dict(partition_by=["k"], commit="defer", write_id="job1-x")
    a = hoist.write_table(t.slice(0, 50), url, name_template="part-{id}-a-{n}.parquet", **kw)
    b = hoist.write_table(t.slice(50), url, name_template="part-{id}-b-{n}.parquet", **kw)
    assert isinstance(a, hoist.PendingWrite) and a.write_id == "job1-x" and a.rows == 50
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert len(pending_uploads(s3, bucket)) == 6
    blob = pickle.dumps(a)
    for secret in (s3_env["AWS_SECRET_ACCESS_KEY"], s3_env["AWS_ACCESS_KEY_ID"]):
        assert secret not in a.text and secret.encode() not in blob
    res = hoist.commit_pending([pickle.loads(blob), b], url, lineage={"job": 1})
    assert res.rows == 100 and res.manifest["lineage"] == {"job": 1} and len(res.files) == 6
    assert pending_uploads(s3, bucket) == []
    assert sorted(hoist.load_table(url).to_pyarrow()["id"].to_pylist()) == list(range(100))
    # a second job fails: one task reported, one never did
    c = hoist.write_table(t, url, name_template="part-{id}-c-{n}.parquet", partition_by=["k"], commit="defer",
                          write_id="job2-y")
    hoist.write_table(t, url, name_template="part-{id}-d-{n}.parquet", partition_by=["k"], commit="defer",
                      write_id="job2-y")
    hoist.abort_pending([c], url)
    assert pending_uploads(s3, bucket) == []
    assert hoist.load_table(url).num_rows == 100  # the first job's data, untouched
