"""hoist's Parquet encoder, checked with independent readers: pyarrow tables of
every type, with and without nulls, written by hoist through ctypes
(hoist_pq_write_stream) under each codec, page version and encoding, and read
back by pyarrow, polars and duckdb. Expected values are what the same reader
gives for the file pyarrow writes from the same table, so type coercions that
Parquet imposes (date64 -> date32, seconds -> ms) are pyarrow's own."""
import decimal
import io
import pathlib
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pq_write_ctypes import HoistError, hoist_read, write  # noqa: E402

N = 1000


def flat_table(nulls, n=N, seed=1):
    rng = np.random.default_rng(seed)
    ints = rng.integers(-100, 100, n)
    cols = {
        "b": pa.array(rng.random(n) < 0.5),
        "i8": pa.array(ints, pa.int8()),
        "u8": pa.array(np.abs(ints) + 100, pa.uint8()),
        "i16": pa.array(ints * 100, pa.int16()),
        "u16": pa.array(np.abs(ints) * 600, pa.uint16()),
        "i32": pa.array(ints * 100000, pa.int32()),
        "u32": pa.array(np.abs(ints).astype(np.uint32) * 40000000, pa.uint32()),
        "i64": pa.array(ints.astype(np.int64) * 10**15, pa.int64()),
        "u64": pa.array(np.abs(ints).astype(np.uint64) * 2**57, pa.uint64()),
        "f16": pa.array((rng.random(n) - 0.5).astype(np.float16), pa.float16()),
        "f32": pa.array((rng.random(n) - 0.5).astype(np.float32)),
        "f64": pa.array(rng.standard_normal(n)),
        "s": pa.array([f"s{i % 37}" for i in range(n)]),
        "ls": pa.array([f"s{i}" for i in range(n)], pa.large_string()),
        "vs": pa.array([f"string number {i}" * (i % 3) for i in range(n)], pa.string_view()),
        "bin": pa.array([bytes([i % 256]) * (i % 5) for i in range(n)], pa.binary()),
        "lbin": pa.array([bytes([(i * 7) % 256]) * (i % 5) for i in range(n)], pa.large_binary()),
        "vbin": pa.array([bytes([i % 256]) * (i % 20) for i in range(n)], pa.binary_view()),
        "fsb": pa.array([bytes([i % 256]) * 3 for i in range(n)], pa.binary(3)),
        "d128": pa.array([decimal.Decimal(int(x)) / 100 for x in ints * 1000], pa.decimal128(10, 2)),
        "d128w": pa.array([decimal.Decimal(int(x)) * 10**20 for x in ints], pa.decimal128(38, 0)),
        "d256": pa.array([decimal.Decimal(int(x)) / 100 for x in ints * 1000], pa.decimal256(40, 2)),
        "d32": pa.array([decimal.Decimal(int(x)) / 100 for x in ints * 10], pa.decimal32(6, 2)),
        "d64": pa.array([decimal.Decimal(int(x)) / 10 for x in ints * 10**8], pa.decimal64(18, 1)),
        "date32": pa.array(ints.astype(np.int32) + 18000, pa.date32()),
        "date64": pa.array((ints.astype(np.int64) + 18000) * 86400000, pa.date64()),
        "t32s": pa.array(np.abs(ints).astype(np.int32), pa.time32("s")),
        "t32ms": pa.array(np.abs(ints).astype(np.int32) * 1000, pa.time32("ms")),
        "t64us": pa.array(np.abs(ints).astype(np.int64) * 10**6, pa.time64("us")),
        "t64ns": pa.array(np.abs(ints).astype(np.int64) * 10**9, pa.time64("ns")),
        "tss": pa.array(ints.astype(np.int64) * 10**6, pa.timestamp("s")),
        "tsms": pa.array(ints.astype(np.int64) * 10**6, pa.timestamp("ms", "UTC")),
        "tsus": pa.array(ints.astype(np.int64) * 10**6, pa.timestamp("us", "Europe/Paris")),
        "tsns": pa.array(ints.astype(np.int64) * 10**6, pa.timestamp("ns")),
        "dur": pa.array(ints.astype(np.int64), pa.duration("ms")),
        "durns": pa.array(ints.astype(np.int64), pa.duration("ns")),
        "null": pa.nulls(n),
    }
    if nulls:
        mask = rng.random(n) < 0.2
        cols = {k: pa.array([None if m else x for m, x in zip(mask, v.to_pylist())], v.type)
                for k, v in cols.items()}
    return pa.table(cols)


def pyarrow_bytes(table, **kw):
    bio = io.BytesIO()
    pq.write_table(table, bio, **kw)
    return bio.getvalue()


def read(b, **kw):
    return pq.read_table(io.BytesIO(b), **kw)


def assert_same(got, want):
    assert got.schema == want.schema
    for name in want.column_names:
        g, w = got[name], want[name]
        if pa.types.is_dictionary(w.type):
            g, w = g.cast(w.type.value_type), w.cast(w.type.value_type)
        assert g.equals(w), name


CODECS = ["none", "snappy", "gzip", "zstd:3", "lz4_raw", "brotli"]


@pytest.mark.parametrize("nulls", [False, True])
@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("dictionary", [1, 0])
def test_flat_types_roundtrip_pyarrow(nulls, codec, version, dictionary):
    t = flat_table(nulls)
    b = write(t, compression=codec, data_page_version=version, dictionary=dictionary, page_bytes=2000)
    assert_same(read(b), read(pyarrow_bytes(t)))
    md = pq.ParquetFile(io.BytesIO(b)).metadata
    # pyarrow names LZ4_RAW "LZ4"
    want_codec = {"none": "UNCOMPRESSED", "zstd:3": "ZSTD", "lz4_raw": "LZ4"}.get(codec, codec.upper())
    for i in range(md.num_columns):
        c = md.row_group(0).column(i)
        assert c.compression == want_codec
        if c.path_in_schema not in ("b", "null"):
            assert ("RLE_DICTIONARY" in c.encodings) == bool(dictionary)


def test_polars_and_duckdb_read_the_same_values():
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    t = flat_table(True).drop_columns(["d256"])  # polars: decimal precision <= 38
    hb, pb = write(t), pyarrow_bytes(t)
    for name in t.column_names:
        got = pl.read_parquet(io.BytesIO(hb), columns=[name])
        want = pl.read_parquet(io.BytesIO(pb), columns=[name])
        assert got.equals(want), name
    con = duckdb.connect()
    hp = con.read_parquet  # noqa: F841 (keeps the module in use)
    for name in t.column_names:
        q = f'select "{name}" from read_parquet(?)'
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            h, p = pathlib.Path(d) / "h.parquet", pathlib.Path(d) / "p.parquet"
            h.write_bytes(hb)
            p.write_bytes(pb)
            assert con.execute(q, [str(h)]).fetchall() == con.execute(q, [str(p)]).fetchall(), name


def stats_of(b):
    md = pq.ParquetFile(io.BytesIO(b)).metadata
    out = {}
    for r in range(md.num_row_groups):
        for i in range(md.num_columns):
            s = md.row_group(r).column(i).statistics
            out[(r, md.row_group(r).column(i).path_in_schema)] = (
                None if s is None or not s.has_min_max else (s.min, s.max),
                None if s is None else s.null_count)
    return out


@pytest.mark.parametrize("nulls", [False, True])
def test_statistics_equal_pyarrow(nulls):
    t = flat_table(nulls).drop_columns(["null"])
    got = stats_of(write(t, row_group_rows=300))
    want = stats_of(pyarrow_bytes(t, row_group_size=300))
    assert got == want


def test_statistics_sort_orders():
    t = pa.table({
        "u32": pa.array([1, 2**32 - 1, 7], pa.uint32()),
        "u64": pa.array([1, 2**64 - 1, 7], pa.uint64()),
        "s": pa.array(["b", "\u00e9", "a"]),
        "d": pa.array([decimal.Decimal("-5.5"), decimal.Decimal("3.25"), decimal.Decimal("-0.01")],
                      pa.decimal128(6, 2)),
        "zero": pa.array([0.0, -0.0, 0.0]),
        "nan": pa.array([float("nan"), 1.5, -2.5]),
        "allnan": pa.array([float("nan"), None, float("nan")]),
    })
    st = stats_of(write(t))
    assert st[(0, "u32")][0] == (1, 2**32 - 1)
    assert st[(0, "u64")][0] == (1, 2**64 - 1)
    assert st[(0, "s")][0] == ("a", "\u00e9")
    assert st[(0, "d")][0] == (decimal.Decimal("-5.50"), decimal.Decimal("3.25"))
    mn, mx = st[(0, "zero")][0]
    assert mn == 0 and np.signbit(mn) and mx == 0 and not np.signbit(mx)
    assert st[(0, "nan")][0] == (-2.5, 1.5)
    assert st[(0, "allnan")] == (None, 1)
    md = pq.ParquetFile(io.BytesIO(write(t))).metadata.row_group(0)
    names = [md.column(i).path_in_schema for i in range(md.num_columns)]
    assert not md.column(names.index("allnan")).has_column_index
    assert md.column(names.index("nan")).has_column_index


def test_long_strings_truncated_in_statistics():
    long_a, long_z = "a" * 100 + "x", "z" * 100 + "\u00e9"
    t = pa.table({"s": [long_a, "m", long_z], "b": pa.array([b"\x00" * 90, b"\xff" * 90, b"\x10"])})
    st = stats_of(write(t))
    mn, mx = st[(0, "s")][0]
    assert len(mn.encode()) <= 64 and long_a.startswith(mn)
    assert len(mx.encode()) <= 64 and mx > long_z[: len(mx)] and mx >= "z" * len(mx)
    bmn, bmx = st[(0, "b")][0]
    assert bmn == b"\x00" * 64
    assert bmx == b"\xff" * 90  # no prefix of all-0xff can be incremented: kept whole
    assert read(write(t)).equals(t)


def test_page_index_present_and_pages_split():
    t = flat_table(True, n=5000)
    b = write(t, page_bytes=1024)
    md = pq.ParquetFile(io.BytesIO(b)).metadata
    for i in range(md.num_columns):
        c = md.row_group(0).column(i)
        assert c.has_offset_index, c.path_in_schema
        assert c.has_column_index, c.path_in_schema
    assert_same(read(b), read(pyarrow_bytes(t)))
    nb = write(t, page_index=0)
    c = pq.ParquetFile(io.BytesIO(nb)).metadata.row_group(0).column(0)
    assert not c.has_offset_index and not c.has_column_index
    assert read(nb).equals(read(b))


def test_same_bytes_for_any_thread_count():
    t = pa.concat_tables([flat_table(True, seed=s) for s in range(4)])
    one = write(t, threads=1, row_group_rows=1500, page_bytes=3000)
    four = write(t, threads=4, row_group_rows=1500, page_bytes=3000)
    assert one == four
    assert pq.ParquetFile(io.BytesIO(one)).metadata.num_row_groups == 3


def test_nulls_arriving_after_rows_without_nulls():
    # a flat column's first batches have no nulls (its levels are not stored
    # then), a later one in the same row group has: values, null counts and
    # page bounds must come out as pyarrow reads and writes them
    parts = [pa.array(np.arange(i * 700, (i + 1) * 700, dtype=np.int64)) for i in range(3)]
    parts.append(pa.array([None if k % 5 == 0 else k for k in range(700)], pa.int64()))
    parts.append(pa.array(np.arange(700, dtype=np.int64)))
    strs = [pa.array([f"s{k % 7}" for k in range(700)])] * 3 + [pa.array([None, "z"] * 350)] + \
        [pa.array(["a"] * 700)]
    schema = pa.schema([("x", pa.int64()), ("s", pa.string())])
    batches = [pa.record_batch([x, y], schema=schema) for x, y in zip(parts, strs)]
    t = pa.Table.from_batches(batches)
    for kw in ({}, {"data_page_version": 2}, {"page_bytes": 1000}):
        b = write(pa.RecordBatchReader.from_batches(schema, batches), row_group_rows=2500, **kw)
        assert read(b).combine_chunks().equals(t.combine_chunks())
        md = pq.ParquetFile(io.BytesIO(b)).metadata
        assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [2500, 1000]
        assert md.row_group(0).column(0).statistics.null_count == 80  # rows 2100-2499 of 2500
        assert md.row_group(0).column(1).statistics.null_count == 200
        assert hoist_read(b).combine_chunks().equals(t.combine_chunks())
    got = stats_of(write(pa.RecordBatchReader.from_batches(schema, batches), row_group_rows=2500))
    assert got == stats_of(pyarrow_bytes(t, row_group_size=2500))


def test_row_groups_by_rows_and_bytes():
    t = pa.table({"x": pa.array(np.arange(100_000, dtype=np.int64))})
    md = pq.ParquetFile(io.BytesIO(write(t, row_group_rows=30_000))).metadata
    assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [30_000, 30_000, 30_000, 10_000]
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=1000))
    b = write(reader, row_group_bytes=200_000)
    md = pq.ParquetFile(io.BytesIO(b)).metadata
    assert md.num_row_groups > 3
    assert all(md.row_group(i).total_byte_size < 400_000 for i in range(md.num_row_groups))
    assert read(b).equals(t)


def test_dictionary_falls_back_to_plain():
    t = pa.table({"s": [f"value-{i}" for i in range(20_000)], "few": [f"v{i % 3}" for i in range(20_000)]})
    b = write(t, dict_page_bytes=10_000)
    md = pq.ParquetFile(io.BytesIO(b)).metadata.row_group(0)
    assert "RLE_DICTIONARY" not in md.column(0).encodings
    assert "RLE_DICTIONARY" in md.column(1).encodings
    assert read(b).equals(t)


def test_dictionary_judged_from_first_values():
    """The dictionary is given up after its first 16,384 (or 65,536) values
    when they show more distinct values than a dictionary under the limit
    (1 MiB) could hold; a column whose dictionary fits is not given up on,
    even when its first values are mostly distinct."""
    rng = np.random.default_rng(7)
    n = 300_000
    fits = rng.integers(0, 60_000, n) * 7919  # ~60,000 distinct int64: a 480 kB dictionary
    first_unique = np.concatenate([np.arange(16_384), np.arange(n - 16_384) % 16_384]) * 3
    near_unique = np.arange(n) * 20 // 21  # 95 % distinct: passes the first look, not the second
    t = pa.table({"fits": pa.array(fits, pa.int64()), "first_unique": pa.array(first_unique, pa.int64()),
                  "unique": pa.array([f"u{i}" for i in range(n)]), "near_unique": pa.array(near_unique)})
    # one batch, and small batches (the judgement must not depend on how rows arrive)
    for data in (t, pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=5_000))):
        b = write(data)
        md = pq.ParquetFile(io.BytesIO(b)).metadata.row_group(0)
        assert "RLE_DICTIONARY" in md.column(0).encodings
        # all of its first values differ: judged hopeless, though 16,384 entries would fit
        assert "RLE_DICTIONARY" not in md.column(1).encodings
        assert "RLE_DICTIONARY" not in md.column(2).encodings
        # judged again at 65,536 values, before any page used the dictionary: all PLAIN
        assert "RLE_DICTIONARY" not in md.column(3).encodings
        assert read(b).equals(t)


def nested_table(n=500, seed=2):
    rng = np.random.default_rng(seed)

    def rl():
        if rng.random() < 0.1:
            return None
        return [None if rng.random() < 0.1 else int(x) for x in rng.integers(0, 50, rng.integers(0, 5))]

    lists = [rl() for _ in range(n)]
    return pa.table({
        "l": pa.array(lists, pa.list_(pa.int32())),
        "ll": pa.array(lists, pa.large_list(pa.int64())),
        "lv": pa.array(lists, pa.list_view(pa.int32())),
        "llv": pa.array([None if x is None else [None if y is None else str(y) for y in x] for x in lists],
                 pa.large_list_view(pa.string())),
        "fsl": pa.array([[i, i + 1] if i % 7 else None for i in range(n)], pa.list_(pa.int16(), 2)),
        "st": pa.array([{"x": i, "y": f"v{i}" if i % 3 else None} if i % 5 else None for i in range(n)],
                       pa.struct([("x", pa.int32()), ("y", pa.string())])),
        "m": pa.array([[(f"k{j}", j if j % 2 else None) for j in range(i % 4)] if i % 6 else None
                       for i in range(n)], pa.map_(pa.string(), pa.int32())),
        "ls": pa.array([[{"a": [1, 2], "b": None}, None] if i % 2 else [] for i in range(n)],
                       pa.list_(pa.struct([("a", pa.list_(pa.int8())), ("b", pa.float64())]))),
        "lls": pa.array([[["x", None], [], None] if i % 4 else None for i in range(n)],
                        pa.list_(pa.list_(pa.string()))),
        "dict": pa.array([f"d{i % 5}" if i % 9 else None for i in range(n)]).dictionary_encode(),
    })


@pytest.mark.parametrize("kw", [{}, {"data_page_version": 2, "compression": "zstd"},
                                {"page_bytes": 50, "dictionary": 0}, {"row_group_rows": 77, "threads": 4}])
def test_nested_roundtrip(kw):
    t = nested_table()
    b = write(t, **kw)
    assert_same(read(b), t)
    assert_same(read(b), read(pyarrow_bytes(t)))
    pl = pytest.importorskip("polars")
    tp = t.drop_columns(["lv", "llv"])  # polars panics on list views in ARROW:schema
    got = pl.read_parquet(io.BytesIO(write(tp, **kw)))
    assert got.equals(pl.read_parquet(io.BytesIO(pyarrow_bytes(tp))))


def test_nested_statistics_equal_pyarrow():
    t = nested_table().drop_columns(["dict"])
    assert stats_of(write(t)) == stats_of(pyarrow_bytes(t))


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("version", [1, 2])
def test_encodings_on_request(version, codec):
    rng = np.random.default_rng(5)
    n = 3000
    t = pa.table({
        "i": pa.array(rng.integers(-10**9, 10**9, n), pa.int32()),
        "l": pa.array(np.cumsum(rng.integers(-5, 100, n))),
        "f": pa.array(rng.random(n)),
        "s": pa.array([f"prefix-{i // 3}" if i % 11 else None for i in range(n)]),
        "fsb": pa.array([bytes([i % 7]) * 4 for i in range(n)], pa.binary(4)),
        "f32": pa.array(rng.random(n).astype(np.float32)),
        "ln": pa.array([None if i % 7 == 0 else i * 3 for i in range(n)], pa.int64()),
    })
    cases = [({"i": "delta_binary_packed", "l": "delta_binary_packed", "f": "byte_stream_split",
               "s": "delta_length_byte_array", "fsb": "delta_byte_array", "f32": "byte_stream_split",
               "ln": "delta_binary_packed"},
              ["DELTA_BINARY_PACKED", "DELTA_BINARY_PACKED", "BYTE_STREAM_SPLIT", "DELTA_LENGTH_BYTE_ARRAY",
               "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT", "DELTA_BINARY_PACKED"]),
             ({"s": "delta_byte_array", "i": "byte_stream_split", "l": "plain", "fsb": "byte_stream_split",
               "f": "plain", "f32": "plain", "ln": "byte_stream_split"},
              ["BYTE_STREAM_SPLIT", "PLAIN", "PLAIN", "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT", "PLAIN",
               "BYTE_STREAM_SPLIT"])]
    for enc, want in cases:
        b = write(t, encodings=enc, data_page_version=version, compression=codec, page_bytes=4000)
        assert read(b).equals(t)
        md = pq.ParquetFile(io.BytesIO(b)).metadata.row_group(0)
        for i, w in enumerate(want):
            assert w in md.column(i).encodings and "RLE_DICTIONARY" not in md.column(i).encodings
        pl = pytest.importorskip("polars")
        # polars cannot decode DELTA_BYTE_ARRAY or BYTE_STREAM_SPLIT fixed-length pages
        cols = [c for c in t.column_names if c != "fsb"]
        assert pl.read_parquet(io.BytesIO(b), columns=cols).equals(pl.from_arrow(t.select(cols)))


def test_bad_encoding_for_type_fails():
    t = pa.table({"s": ["a"]})
    with pytest.raises(HoistError):
        write(t, encodings={"s": "delta_binary_packed"})
    with pytest.raises(HoistError):
        write(t, column={"nope": {"compression": "zstd"}})


def test_per_column_options():
    t = pa.table({"a": pa.array(np.arange(1000) % 10), "b": pa.array(np.arange(1000) % 10)})
    b = write(t, column={"a": {"compression": "gzip", "dictionary": 0}})
    md = pq.ParquetFile(io.BytesIO(b)).metadata.row_group(0)
    assert md.column(0).compression == "GZIP" and "RLE_DICTIONARY" not in md.column(0).encodings
    assert md.column(1).compression == "SNAPPY" and "RLE_DICTIONARY" in md.column(1).encodings
    assert read(b).equals(t)


def test_metadata_and_created_by():
    t = pa.table({"a": [1, 2]}).replace_schema_metadata({"owner": "me"})
    b = write(t, metadata={"k": "v"}, created_by="tester version 1.0")
    f = pq.ParquetFile(io.BytesIO(b))
    assert f.metadata.created_by == "tester version 1.0"
    md = f.metadata.metadata
    assert md[b"owner"] == b"me" and md[b"k"] == b"v" and b"ARROW:schema" in md
    b2 = write(t, store_arrow_schema=0)
    assert b"ARROW:schema" not in pq.ParquetFile(io.BytesIO(b2)).metadata.metadata


def test_page_crc_verified_by_pyarrow():
    t = flat_table(True)
    for v in (1, 2):
        b = write(t, page_crc=1, data_page_version=v, compression="zstd")
        assert_same(read(b, page_checksum_verification=True), read(pyarrow_bytes(t)))


def test_non_nullable_field_with_nulls_fails():
    schema = pa.schema([pa.field("x", pa.int32(), nullable=False)])
    batch = pa.RecordBatch.from_arrays([pa.array([1, None], pa.int32())], schema=schema)
    reader = pa.RecordBatchReader.from_batches(schema, [batch])
    with pytest.raises(HoistError, match="non-nullable"):
        write(reader)


def test_empty_table_and_empty_batches():
    t = pa.table({"a": pa.array([], pa.int64()), "s": pa.array([], pa.string())})
    b = write(t)
    assert read(b).equals(t)
    assert pq.ParquetFile(io.BytesIO(b)).metadata.num_row_groups == 0


def taxi_table(n, seed=3):
    rng = np.random.default_rng(seed)
    base = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    pick = rng.integers(0, 31 * 86400 * 10**6, n) + base
    return pa.table({
        "VendorID": pa.array(rng.integers(1, 3, n), pa.int32()),
        "tpep_pickup_datetime": pa.array(pick, pa.timestamp("us")),
        "tpep_dropoff_datetime": pa.array(pick + rng.integers(60, 3600, n) * 10**6, pa.timestamp("us")),
        "passenger_count": pa.array(rng.integers(0, 7, n).astype(np.float64), mask=rng.random(n) < 0.05),
        "trip_distance": pa.array(np.round(rng.exponential(3, n), 2)),
        "RatecodeID": pa.array(rng.integers(1, 7, n).astype(np.float64)),
        "store_and_fwd_flag": pa.array(np.where(rng.random(n) < 0.99, "N", "Y")),
        "PULocationID": pa.array(rng.integers(1, 266, n), pa.int32()),
        "DOLocationID": pa.array(rng.integers(1, 266, n), pa.int32()),
        "payment_type": pa.array(rng.integers(1, 5, n), pa.int64()),
        "fare_amount": pa.array(np.round(rng.exponential(15, n), 1)),
        "extra": pa.array(rng.choice([0, 0.5, 1, 2.5], n)),
        "mta_tax": pa.array(rng.choice([0.5, 0.0], n)),
        "tip_amount": pa.array(np.round(rng.exponential(3, n), 2)),
        "tolls_amount": pa.array(np.where(rng.random(n) < 0.9, 0, 6.94)),
        "improvement_surcharge": pa.array(np.full(n, 1.0)),
        "total_amount": pa.array(np.round(rng.exponential(25, n), 2)),
        "congestion_surcharge": pa.array(rng.choice([0, 2.5], n)),
        "Airport_fee": pa.array(rng.choice([0, 1.75], n)),
    })


@pytest.mark.parametrize("codec", ["snappy", "zstd"])
def test_file_size_close_to_pyarrow(codec):
    t = taxi_table(400_000)
    b = write(t, compression=codec)
    p = pyarrow_bytes(t, compression=codec)
    # never more than a few % larger; smaller is fine (whole-chunk dictionary decisions)
    assert 0.90 < len(b) / len(p) < 1.03, (len(b), len(p))
    assert read(b).equals(t)


def test_arrow_dictionary_written_as_is():
    # entries in Arrow's order, an unused one kept: the Parquet dictionary is
    # the Arrow dictionary, not a re-hash of the values
    d = pa.DictionaryArray.from_arrays(pa.array([1, 0, None, 1], pa.int8()), pa.array(["z", "a", "unused"]))
    t = pa.table({"d": d, "l": pa.array([[1.5, None], None, [], [2.5]])})
    b = write(t)
    r = read(b, read_dictionary=["d"])
    assert r["d"].chunk(0).dictionary.to_pylist() == ["z", "a", "unused"]
    assert r["d"].to_pylist() == ["a", "z", None, "a"]
    st = stats_of(b)[(0, "d")]
    assert st == (("a", "z"), 1)


def test_arrow_dictionary_batches_and_fallbacks():
    n = 5000
    d = pa.array([f"d{i % 50}" if i % 9 else None for i in range(n)]).dictionary_encode()
    fd = pa.array(np.where(np.arange(n) % 4 == 0, np.nan, np.arange(n) % 13 - 6.0)).dictionary_encode()
    ld = pa.array([[f"x{i % 3}", None] if i % 5 else None for i in range(n)],
                  pa.list_(pa.dictionary(pa.int8(), pa.string())))
    t = pa.table({"d": d, "fd": fd, "l": ld})
    for kw in ({}, {"row_group_rows": 700}, {"dict_page_bytes": 50}, {"dictionary": 0}):
        b = write(t, **kw)
        r = read(b)
        assert r["d"].to_pylist() == t["d"].to_pylist()
        assert r["l"].to_pylist() == t["l"].to_pylist()
        assert r["fd"].to_numpy().tobytes() == t["fd"].cast(pa.float64()).to_numpy().tobytes()
        assert stats_of(b) == stats_of(pyarrow_bytes(t, row_group_size=kw.get("row_group_rows", 10**6)))
    # batches with different dictionaries in one row group
    b1 = pa.record_batch({"d": pa.array(["a", "b", "a"]).dictionary_encode()})
    b2 = pa.record_batch({"d": pa.array(["c", "a"]).dictionary_encode()})
    b3 = pa.record_batch({"d": pa.array(["a", "b"]).dictionary_encode()})
    b = write(pa.RecordBatchReader.from_batches(b1.schema, [b1, b3, b2]))
    assert read(b)["d"].to_pylist() == ["a", "b", "a", "a", "b", "c", "a"]


def test_bloom_filters_probe_in_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    n = 20000
    t = pa.table({"i": pa.array(np.arange(n) * 2, pa.int64()), "s": pa.array([f"k{i}" for i in range(n)]),
                  "f": pa.array(np.arange(n) * 0.5), "i32": pa.array(np.arange(n) * 2, pa.int32()),
                  "d": pa.array([f"v{i % 10}" for i in range(n)]).dictionary_encode()})
    b = write(t, bloom={c: (0.01, n) for c in t.column_names}, row_group_rows=8000)
    path = tmp_path / "bloom.parquet"
    path.write_bytes(b)
    assert read(b).equals(t)
    md = pq.ParquetFile(path).metadata
    assert all(md.row_group(0).column(i).bloom_filter_length > 32 for i in range(5))
    con = duckdb.connect()

    def excluded(col, value):
        rows = con.execute(f"select row_group_id, bloom_filter_excludes from parquet_bloom_probe(?, ?, {value})",
                           [str(path), col]).fetchall()
        return [e for _, e in sorted(rows)]

    # present in row group 0 only; never a false negative
    assert excluded("i", 4) == [False, True, True]
    assert excluded("i32", 4)[0] is False
    assert excluded("s", "'k10'") == [False, True, True]
    assert excluded("f", 1.5) == [False, True, True]
    assert excluded("d", "'v3'") == [False, False, False]
    assert excluded("s", "'absent'") == [True, True, True]
    with pytest.raises(HoistError):
        write(pa.table({"b": [True]}), bloom={"b": (0.01, 10)})


def test_arrow_dictionary_with_null_entries():
    d = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, None, 1], pa.int32()), pa.array(["a", None, "c"]))
    t = pa.table({"d": d, "ld": pa.array([[x] for x in d.to_pylist()], pa.list_(pa.string()))})
    for dictionary in (1, 0):
        b = write(t, dictionary=dictionary)
        assert read(b)["d"].to_pylist() == ["a", None, "c", None, None]
        assert stats_of(b)[(0, "d")] == (("a", "c"), 3)


def test_nan_count_and_exactness_read_by_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    t = pa.table({"f": [1.0, float("nan"), None, float("nan")],
                  "h": pa.array([np.float16(1), np.float16("nan"), None, None], pa.float16()),
                  "fd": pa.array([1.0, float("nan"), float("nan")] + [None]).dictionary_encode(),
                  "i": [1, 2, 3, None], "s": ["a" * 100, "b", None, "c"]})
    path = tmp_path / "nan.parquet"
    path.write_bytes(write(t))
    rows = duckdb.connect().execute(
        "select path_in_schema, stats_nan_count, min_is_exact, max_is_exact from parquet_metadata(?)",
        [str(path)]).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert got["f"] == (2, True, True)
    assert got["h"][0] == 1
    assert got["fd"][0] == 2
    assert got["i"] == (None, True, True)  # no nan_count on integers
    assert got["s"] == (None, False, True)  # min truncated from 100 bytes


@pytest.mark.parametrize("make", [nested_table, lambda: flat_table(True)])
def test_sliced_arrays(make):
    # offsets at every level: sliced batches of sliced children
    t = make()
    batches = [b.slice(3, 50) for b in t.to_batches(max_chunksize=97)]
    want = pa.Table.from_batches(batches, t.schema)
    b = write(pa.RecordBatchReader.from_batches(t.schema, batches))
    assert_same(read(b), read(pyarrow_bytes(want)))


def random_type(rng, depth):
    leaves = [pa.int32(), pa.int64(), pa.float64(), pa.string(), pa.bool_(), pa.binary(), pa.uint16(),
              pa.timestamp("us", "UTC"), pa.large_string(), pa.decimal128(12, 3)]
    k = rng.integers(0, 8) if depth < 3 else 0
    if k == 1:
        return pa.list_(random_type(rng, depth + 1))
    if k == 2:
        return pa.struct([(f"f{i}", random_type(rng, depth + 1)) for i in range(rng.integers(1, 4))])
    if k == 3:
        return pa.map_(pa.string(), random_type(rng, depth + 1))
    if k == 4:
        return pa.large_list(random_type(rng, depth + 1))
    return leaves[rng.integers(0, len(leaves))]


def random_value(rng, t):
    if rng.random() < 0.15:
        return None
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [random_value(rng, t.value_type) for _ in range(rng.integers(0, 4))]
    if pa.types.is_struct(t):
        return {f.name: random_value(rng, f.type) for f in t}
    if pa.types.is_map(t):
        return [(f"k{i}", random_value(rng, t.item_type)) for i in range(rng.integers(0, 3))]
    if pa.types.is_boolean(t):
        return bool(rng.integers(0, 2))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "s" * int(rng.integers(0, 5)) + str(rng.integers(0, 9))
    if pa.types.is_binary(t):
        return bytes(rng.integers(0, 256, rng.integers(0, 4)).tolist())
    if pa.types.is_floating(t):
        return float(rng.standard_normal())
    if pa.types.is_decimal(t):
        return decimal.Decimal(int(rng.integers(-10**6, 10**6))) / 1000
    if pa.types.is_timestamp(t):
        return int(rng.integers(0, 10**15))
    return int(rng.integers(0, 1000))


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("PQW_SEEDS", "12"))))
def test_random_nested_schemas(seed):
    rng = np.random.default_rng(100 + seed)
    types = [random_type(rng, 0) for _ in range(4)]
    n = int(rng.integers(1, 400))
    t = pa.table({f"c{i}": pa.array([random_value(rng, ty) for _ in range(n)], ty) for i, ty in enumerate(types)})
    kw = {"data_page_version": int(rng.integers(1, 3)), "page_bytes": int(rng.integers(30, 3000)),
          "row_group_rows": int(rng.integers(1, 300)), "dictionary": int(rng.integers(0, 2))}
    b = write(t, **kw)
    assert_same(read(b), t)
    assert stats_of(b) == stats_of(pyarrow_bytes(t, row_group_size=kw["row_group_rows"]))
    got = hoist_read(b)
    for name in t.column_names:
        assert got[name].to_pylist() == t[name].to_pylist(), name


def test_field_ids_and_extension_types():
    import uuid
    schema = pa.schema([
        pa.field("u", pa.uuid(), metadata={"PARQUET:field_id": "7"}),
        pa.field("j", pa.json_()),
        pa.field("l", pa.list_(pa.field("item", pa.int32(), metadata={"PARQUET:field_id": "9"})),
                 metadata={"PARQUET:field_id": "8"}),
    ])
    t = pa.table({"u": pa.array([uuid.uuid4().bytes, None], pa.uuid()), "j": pa.array(['{"a": 1}', None], pa.json_()),
                  "l": [[1, None], None]}, schema=schema)
    b = write(t)
    r = read(b)
    assert r.equals(t)
    want = pq.ParquetFile(io.BytesIO(pyarrow_bytes(t))).schema
    got = pq.ParquetFile(io.BytesIO(b)).schema
    assert str(got).split("\n", 1)[1] == str(want).split("\n", 1)[1]  # identical Parquet schemas
    assert r.schema.field("u").metadata[b"PARQUET:field_id"] == b"7"
    assert r.schema.field("l").type.value_field.metadata[b"PARQUET:field_id"] == b"9"
    assert "field_id=8" in str(got)


@pytest.mark.parametrize("make", [lambda: flat_table(True), nested_table])
def test_parquet_schema_same_as_pyarrow(make):
    t = make()
    got = str(pq.ParquetFile(io.BytesIO(write(t))).schema).split("\n", 1)[1]
    want = str(pq.ParquetFile(io.BytesIO(pyarrow_bytes(t))).schema).split("\n", 1)[1]
    assert got == want


def test_stale_arrow_schema_metadata_replaced(tmp_path):
    old = pa.table({"a": pa.array([1], pa.int8())})
    stale = pq.ParquetFile(io.BytesIO(pyarrow_bytes(old))).metadata.metadata[b"ARROW:schema"]
    t = pa.table({"a": pa.array([5, None], pa.timestamp("us", "UTC"))}).replace_schema_metadata(
        {"ARROW:schema": stale, "x": "y"})
    b = write(t, metadata={"ARROW:schema": "junk"})
    md = pq.ParquetFile(io.BytesIO(b)).metadata.metadata
    assert md[b"x"] == b"y"
    assert read(b).schema.field("a").type == pa.timestamp("us", "UTC")
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "kv.parquet"
    path.write_bytes(b)
    keys = [r[0] for r in duckdb.connect().execute("select key from parquet_kv_metadata(?)", [str(path)]).fetchall()]
    assert sorted(k.decode() if isinstance(k, bytes) else k for k in keys) == ["ARROW:schema", "x"]


@pytest.mark.parametrize("make", [lambda: flat_table(True), nested_table])
@pytest.mark.parametrize("version", [1, 2])
def test_hoist_reader_reads_the_files(make, version):
    # hoist's own reader (a third implementation) gets the same values as
    # pyarrow; it keeps some Arrow types Parquet-plain (views, decimal32/64,
    # fixed-size lists), so values are compared, not types
    t = make()
    b = write(t, row_group_rows=300, data_page_version=version, page_bytes=700)
    got, want = hoist_read(b), read(b)
    assert got.column_names == want.column_names
    for name in t.column_names:
        assert got[name].to_pylist() == want[name].to_pylist(), name


def test_zstd_negative_levels_are_their_own():
    """zstd's negative levels are faster settings of their own, not the default:
    "zstd:-5" once compressed like plain "zstd" (level 1), because -1 stood for
    "no level given". The default stays level 1 (Arrow C++'s)."""
    rng = np.random.default_rng(5)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    text = [" ".join(rng.choice(words, 6)) + " %d" % rng.integers(0, 1000) for _ in range(40_000)]
    t = pa.table({"a": pa.array(text)})
    enc = {"a": "plain"}
    default = write(t, encodings=enc, threads=1, compression="zstd")
    level1 = write(t, encodings=enc, threads=1, compression="zstd:1")
    fast = write(t, encodings=enc, threads=1, compression="zstd:-5")
    faster = write(t, encodings=enc, threads=1, compression="zstd:-50")
    assert default == level1
    assert len(level1) < len(fast) < len(faster)
    for b in (fast, faster):
        assert pq.read_table(io.BytesIO(b)).equals(t)


def test_zstd_level_per_column_with_shared_context():
    """One thread, so both columns' pages go through one zstd context: each
    column is compressed at its own level, exactly as in a file of its own
    (the context's parameters are set again when the level changes)."""
    rng = np.random.default_rng(11)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    text = [" ".join(rng.choice(words, 6)) + " %d" % rng.integers(0, 1000) for _ in range(60_000)]
    t = pa.table({"a": pa.array(text), "b": pa.array(text)})
    plain = {"a": "plain", "b": "plain"}

    def chunk_sizes(b):
        rg = pq.ParquetFile(io.BytesIO(b)).metadata.row_group(0)
        return [rg.column(i).total_compressed_size for i in range(rg.num_columns)]

    both = chunk_sizes(write(t, encodings=plain, threads=1, compression="zstd:1",
                             column={"b": {"compression": "zstd:19"}}))
    alone_a = chunk_sizes(write(t.select(["a"]), encodings={"a": "plain"}, threads=1, compression="zstd:1"))
    alone_b = chunk_sizes(write(t.select(["b"]), encodings={"b": "plain"}, threads=1, compression="zstd:19"))
    assert both == alone_a + alone_b
    assert both[1] < both[0]
    assert pq.read_table(io.BytesIO(write(t, encodings=plain, threads=1, compression="zstd:1",
                                          column={"b": {"compression": "zstd:19"}}))).equals(t)
