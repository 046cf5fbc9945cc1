"""Parquet conformance: hoist.read_parquet must give exactly what
pyarrow.parquet.read_table gives (schema and values), or fail cleanly where
pyarrow fails too (DESIGN.md "Tests and benchmarks")."""

import csv
import glob
import io
import itertools
import math
import os

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
hoist = pytest.importorskip("hoist")
if not hasattr(hoist, "read_parquet"):
    pytest.skip("hoist built without the Parquet reader", allow_module_level=True)

TESTDATA = os.environ.get(
    "HOIST_TESTDATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "testdata"))
PQ_DATA = os.path.join(TESTDATA, "parquet-testing", "data")
if not os.path.isdir(TESTDATA):
    pytest.skip("no test data at " + TESTDATA, allow_module_level=True)


def _files():
    out = []
    for root in ("parquet-testing", "arrow-testing"):
        for p in glob.glob(os.path.join(TESTDATA, root, "**", "*"), recursive=True):
            if not os.path.isfile(p):
                continue
            name = os.path.basename(p)
            if name.endswith((".parquet", ".parquet.encrypted")) or "fuzz" in p:
                out.append(os.path.relpath(p, TESTDATA))
    return sorted(out)


FILES = _files()

# Files whose pages carry wrong CRCs on purpose: hoist verifies CRCs by
# default (pyarrow does not), so they must fail with a checksum error and
# read like pyarrow with verify_crc=False.
BAD_CRC = {"datapage_v1-corrupt-checksum.parquet", "rle-dict-uncompressed-corrupt-checksum.parquet"}

# Known, documented differences from pyarrow (none at the moment).
XFAIL = {}


def _tables_equal(got, exp):
    if got.equals(exp):
        return True
    # NaN != NaN in Table.equals: compare the values' text when pyarrow's own
    # table is not equal to itself.
    if not exp.equals(exp):
        return repr(got.to_pylist()) == repr(exp.to_pylist())
    return False


def _check_same(got, exp):
    assert got.schema.equals(exp.schema), f"schema differs:\nhoist:\n{got.schema}\npyarrow:\n{exp.schema}"
    if not _tables_equal(got, exp):
        for name in exp.column_names:
            g, e = got[name], exp[name]
            if not (g.equals(e) or repr(g.to_pylist()) == repr(e.to_pylist())):
                pytest.fail(f"column {name} differs: hoist {g.to_pylist()[:8]} pyarrow {e.to_pylist()[:8]}")
        pytest.fail("tables differ")


@pytest.mark.parametrize("rel", FILES)
def test_file_matches_pyarrow(rel):
    path = os.path.join(TESTDATA, rel)
    name = os.path.basename(rel)
    if "large_string_map" in name:
        pytest.skip("large_string_map.brotli needs > 2 GiB of memory (two 1 GiB strings; ~4 GiB peak RSS)")
    try:
        exp = pq.read_table(path)
        pa_error = None
    except Exception as e:  # pyarrow rejects the file
        exp, pa_error = None, e
    if name in BAD_CRC:
        with pytest.raises(hoist.ParquetError, match="CRC mismatch"):
            hoist.read_parquet(path)
        _check_same(pa.table(hoist.read_parquet(path, verify_crc=False)), exp)
        return
    if exp is None:
        with pytest.raises((hoist.ParquetError, KeyError, MemoryError)) as info:
            hoist.read_parquet(path)
        assert str(info.value), f"empty error message (pyarrow said: {pa_error})"
        if name.endswith(".encrypted"):
            assert "encrypted Parquet is not supported" in str(info.value)
        return
    if name in XFAIL:
        pytest.xfail(XFAIL[name])
    if "fuzzing" in rel:
        # Crash reproducers: pyarrow salvages some of them (e.g. an empty table
        # from a chunk without metadata); a clean error is equally acceptable.
        try:
            got = pa.table(hoist.read_parquet(path))
        except hoist.ParquetError as e:
            assert str(e)
            return
        _check_same(got, exp)
        return
    got = pa.table(hoist.read_parquet(path))
    _check_same(got, exp)


def test_bytes_source_and_columns():
    path = os.path.join(PQ_DATA, "alltypes_plain.parquet")
    with open(path, "rb") as f:
        data = f.read()
    got = pa.table(hoist.read_parquet(data, columns=["id", "string_col"]))
    exp = pq.read_table(path, columns=["id", "string_col"])
    _check_same(got, exp)
    with pytest.raises(KeyError, match="nope"):
        hoist.read_parquet(data, columns=["nope"])
    with pytest.raises(hoist.ParquetError, match="not a Parquet file"):
        hoist.read_parquet(b"x" * 100)


def test_export_twice_and_schema_capsule():
    t = hoist.read_parquet(os.path.join(PQ_DATA, "nested_lists.snappy.parquet"))
    a, b = pa.table(t), pa.table(t)
    assert a.equals(b)
    assert pa.schema(t).equals(a.schema)
    del t
    assert a.num_rows == 3  # the batches outlive the ParquetTable


def _read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return [h.strip() for h in rows[0]], rows[1:]


@pytest.mark.parametrize("stem", ["delta_binary_packed", "delta_byte_array", "delta_encoding_optional_column",
                                  "delta_encoding_required_column"])
def test_delta_expect_csv(stem):
    got = pa.table(hoist.read_parquet(os.path.join(PQ_DATA, stem + ".parquet")))
    header, rows = _read_csv(os.path.join(PQ_DATA, stem + "_expect.csv"))
    assert len(rows) == got.num_rows
    names = [n.strip() for n in got.column_names]
    for h in header:
        col = got.column(names.index(h) if h in names else names.index(h + ":"))
        vals = col.to_pylist()
        for i, row in enumerate(rows):
            cell = row[header.index(h)]
            v = vals[i]
            if cell == "":
                assert v is None or v == "", (h, i, v)
            elif isinstance(v, (int,)):
                assert v == int(cell), (h, i, v, cell)
            else:
                assert str(v) == cell, (h, i, v, cell)


# ---- generated files --------------------------------------------------------

def _sample_table(n, nulls):
    import datetime
    import decimal
    rng = range(n)

    def maybe(vals):
        if nulls == "none":
            return vals
        if nulls == "all":
            return [None] * len(vals)
        return [None if i % 3 == 1 else v for i, v in enumerate(vals)]

    cols = {
        "i8": pa.array(maybe([i % 120 - 60 for i in rng]), pa.int8()),
        "u16": pa.array(maybe([i * 7 % 65000 for i in rng]), pa.uint16()),
        "i32": pa.array(maybe([i * 31 - 5000 for i in rng]), pa.int32()),
        "u32": pa.array(maybe([i * 4000007 % 4000000000 for i in rng]), pa.uint32()),
        "i64": pa.array(maybe([i * 10**12 - 7 for i in rng]), pa.int64()),
        "u64": pa.array(maybe([(i * 2**60) % 2**64 for i in rng]), pa.uint64()),
        "f16": pa.array(maybe([float(i % 50) / 4 for i in rng]), pa.float16()) if hasattr(pa, "float16") else None,
        "f32": pa.array(maybe([i / 3 for i in rng]), pa.float32()),
        "f64": pa.array(maybe([i / 7 if i % 11 else -0.0 for i in rng]), pa.float64()),
        "bool": pa.array(maybe([i % 3 == 0 for i in rng]), pa.bool_()),
        "str": pa.array(maybe([f"s{i % 37}" * (i % 5) for i in rng]), pa.string()),
        "lstr": pa.array(maybe([f"L{i}" for i in rng]), pa.large_string()),
        "bin": pa.array(maybe([bytes([i % 256]) * (i % 9) for i in rng]), pa.binary()),
        "fsb": pa.array(maybe([i.to_bytes(4, "little") for i in rng]), pa.binary(4)),
        "dec9": pa.array(maybe([decimal.Decimal(i * 13 - 400) / 100 for i in rng]), pa.decimal128(9, 2)),
        "dec18": pa.array(maybe([decimal.Decimal(i * 10**9 + 5) / 1000 for i in rng]), pa.decimal128(18, 3)),
        "dec38": pa.array(maybe([decimal.Decimal(i * 10**20 - 1) / 10**5 for i in rng]), pa.decimal128(38, 5)),
        "dec50": pa.array(maybe([decimal.Decimal(i * 10**30 + 3) for i in rng]), pa.decimal256(50, 0)),
        "date": pa.array(maybe([datetime.date(2000, 1, 1) + datetime.timedelta(days=i) for i in rng]), pa.date32()),
        "date64": pa.array(maybe([i * 86400000 for i in rng]), pa.date64()),
        "t32": pa.array(maybe([i * 1000 % 86400000 for i in rng]), pa.time32("ms")),
        "t64": pa.array(maybe([i * 10**6 for i in rng]), pa.time64("us")),
        "t64n": pa.array(maybe([i * 10**9 for i in rng]), pa.time64("ns")),
        "ts_ms": pa.array(maybe([i * 10**9 for i in rng]), pa.timestamp("ms")),
        "ts_us_utc": pa.array(maybe([i * 10**12 for i in rng]), pa.timestamp("us", tz="UTC")),
        "ts_ns_ny": pa.array(maybe([i * 10**15 for i in rng]), pa.timestamp("ns", tz="America/New_York")),
        "ts_s": pa.array(maybe([i * 1000 for i in rng]), pa.timestamp("s")),
        "dur": pa.array(maybe([i * 5 for i in rng]), pa.duration("us")),
        "dict": pa.array(maybe([f"d{i % 5}" for i in rng]), pa.string()).dictionary_encode(),
        "null": pa.nulls(n),
        "list": pa.array(maybe([list(range(i % 4)) for i in rng]), pa.list_(pa.int32())),
        "llist": pa.array(maybe([[f"x{j}" for j in range(i % 3)] for i in rng]), pa.large_list(pa.string())),
        "nested": pa.array(maybe([[[i, None], []] if i % 2 else [None] for i in rng]),
                           pa.list_(pa.list_(pa.int64()))),
        "struct": pa.array(maybe([{"a": i, "b": None if i % 4 == 0 else f"b{i}", "c": [i] * (i % 3)} for i in rng]),
                           pa.struct([("a", pa.int32()), ("b", pa.string()), ("c", pa.list_(pa.int16()))])),
        "map": pa.array(maybe([[(f"k{j}", j if j % 2 else None) for j in range(i % 4)] for i in rng]),
                        pa.map_(pa.string(), pa.int64())),
        "lstruct": pa.array(maybe([[{"x": i, "y": [1.5] * (i % 2)}] * (i % 3) for i in rng]),
                            pa.list_(pa.struct([("x", pa.int64()), ("y", pa.list_(pa.float64()))]))),
    }
    return pa.table({k: v for k, v in cols.items() if v is not None})


CODECS = ["NONE", "SNAPPY", "GZIP", "ZSTD", "LZ4", "BROTLI"]


@pytest.mark.parametrize("codec,page_version,dictionary,nulls,tiny",
                         [(c, v, d, nl, t) for c, v, d, nl, t in itertools.product(
                             CODECS, ["1.0", "2.0"], [True, False], ["some", "none", "all"], [False, True])
                          if (CODECS.index(c) + ["some", "none", "all"].index(nl) + int(d) + int(t)) % 3 == 0
                          or c == "SNAPPY"])
def test_pyarrow_generated(tmp_path, codec, page_version, dictionary, nulls, tiny):
    table = _sample_table(301, nulls)
    path = str(tmp_path / "t.parquet")
    kw = dict(compression=codec, data_page_version=page_version, use_dictionary=dictionary,
              write_page_checksum=True)
    if tiny:
        kw.update(data_page_size=64, row_group_size=97, write_batch_size=16)
    pq.write_table(table, path, **kw)
    exp = pq.read_table(path)
    _check_same(pa.table(hoist.read_parquet(path)), exp)
    _check_same(pa.table(hoist.read_parquet(path, threads=1)), exp)


@pytest.mark.parametrize("encoding,col", [("DELTA_BINARY_PACKED", "i32"), ("DELTA_BINARY_PACKED", "i64"),
                                          ("DELTA_LENGTH_BYTE_ARRAY", "str"), ("DELTA_BYTE_ARRAY", "str"),
                                          ("DELTA_BYTE_ARRAY", "fsb"), ("BYTE_STREAM_SPLIT", "f32"),
                                          ("BYTE_STREAM_SPLIT", "f64"), ("BYTE_STREAM_SPLIT", "i64"),
                                          ("BYTE_STREAM_SPLIT", "fsb"), ("BYTE_STREAM_SPLIT", "f16"),
                                          ("RLE", "bool")])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"])
def test_pyarrow_encodings(tmp_path, encoding, col, page_version):
    table = _sample_table(1000, "some").select([col])
    path = str(tmp_path / "e.parquet")
    try:
        pq.write_table(table, path, use_dictionary=False, column_encoding={col: encoding},
                       data_page_version=page_version, data_page_size=512)
    except Exception as e:  # this pyarrow cannot write the combination
        pytest.skip(f"pyarrow cannot write {encoding} for {col}: {e}")
    _check_same(pa.table(hoist.read_parquet(path)), pq.read_table(path))


def test_dictionary_fallback(tmp_path):
    # A dictionary limit small enough that pages fall back to PLAIN mid-chunk.
    n = 20000
    table = pa.table({"s": [f"value-{i}" for i in range(n)], "i": list(range(n))})
    path = str(tmp_path / "f.parquet")
    pq.write_table(table, path, dictionary_pagesize_limit=1024, data_page_size=1024)
    _check_same(pa.table(hoist.read_parquet(path)), pq.read_table(path))


def test_other_writers(tmp_path):
    table = _sample_table(200, "some").select(["i32", "i64", "f64", "str", "bool", "list", "struct", "date"])
    written = []
    try:
        import duckdb
        p = str(tmp_path / "duck.parquet")
        con = duckdb.connect()
        con.register("t", table)
        con.execute(f"COPY (SELECT * FROM t) TO '{p}' (FORMAT parquet, ROW_GROUP_SIZE 64)")
        written.append(p)
    except ImportError:
        pass
    try:
        import polars as pl
        p = str(tmp_path / "polars.parquet")
        pl.from_arrow(table).write_parquet(p, row_group_size=50)
        written.append(p)
    except ImportError:
        pass
    try:
        import fastparquet
        import pandas  # noqa: F401
        p = str(tmp_path / "fp.parquet")
        fastparquet.write(p, table.select(["i32", "i64", "f64", "str", "bool"]).to_pandas(), row_group_offsets=50)
        written.append(p)
    except ImportError:
        pass
    if not written:
        pytest.skip("no other writers installed")
    for p in written:
        _check_same(pa.table(hoist.read_parquet(p)), pq.read_table(p))


def test_dictionary_option(tmp_path):
    path = str(tmp_path / "d.parquet")
    n = 5000
    table = pa.table({"s": [None if i % 7 == 0 else f"v{i % 13}" for i in range(n)],
                      "b": [bytes([i % 5]) for i in range(n)], "i": list(range(n))})
    pq.write_table(table, path, row_group_size=2000, store_schema=False)
    got = pa.table(hoist.read_parquet(path, dictionary=True))
    exp = pq.read_table(path, read_dictionary=["s", "b"])
    _check_same(got, exp)
    with open(os.path.join(PQ_DATA, "alltypes_plain.parquet"), "rb") as f:
        data = f.read()
    got = pa.table(hoist.read_parquet(data, dictionary=True))
    exp = pq.read_table(io.BytesIO(data), read_dictionary=["date_string_col", "string_col"])
    _check_same(got, exp)
