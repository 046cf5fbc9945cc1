"""The CSV writer (src/csv/csv_write.c, src/dataset/ds_csv_write.c):
hoist.write_csv and the CLI's CSV output against pyarrow.csv — the same
bytes as pyarrow's writer with quote_strings=True, and text pyarrow.csv
reads back to an equal table; to local files and S3 (multipart), nothing
left behind when the input fails."""
import datetime
import decimal
import io
import os

import pyarrow as pa
import pyarrow.csv as pc
import pyarrow.parquet as pq
import pytest

from conftest import run_cli

hoist = pytest.importorskip("hoist")


def every_type(n=500):
    base = datetime.datetime(1969, 12, 31, 23, 59, 58, 999999)
    rows = range(n)
    return pa.table({
        "i8": pa.array([(i % 250) - 125 for i in rows], pa.int8()),
        "u16": pa.array([i * 7 % 65535 for i in rows], pa.uint16()),
        "i64": pa.array([None if i % 11 == 0 else (i - n // 2) * 10**15 for i in rows], pa.int64()),
        "u64": pa.array([2**64 - 1 - i for i in rows], pa.uint64()),
        "f32": pa.array([i / 3 for i in rows], pa.float32()),
        "f64": pa.array([None if i % 13 == 0 else (i - 3) * 1.1e-7 for i in rows]),
        "big": pa.array([1e300 * (i % 3 - 1) for i in rows]),
        "b": pa.array([None if i % 5 == 0 else i % 2 == 0 for i in rows]),
        "s": pa.array([None if i % 7 == 0 else ["plain", "with,comma", 'q"uote', "line\nbreak", "crlf\r\n", "",
                                                 "ünï", " sp "][i % 8] for i in rows]),
        "ls": pa.array([f"long {i}" for i in rows], pa.large_string()),
        "d": pa.array([datetime.date(1900, 1, 1) + datetime.timedelta(days=i * 97) for i in rows]),
        "ts_s": pa.array([base + datetime.timedelta(seconds=i * 3607) for i in rows], pa.timestamp("s")),
        "ts_ms": pa.array([base + datetime.timedelta(milliseconds=i * 3607) for i in rows], pa.timestamp("ms")),
        "ts_us": pa.array([base + datetime.timedelta(microseconds=i * 3607) for i in rows], pa.timestamp("us")),
        "ts_ns": pa.array([None if i % 3 == 0 else (i - 100) * 123456789 for i in rows], pa.timestamp("ns")),
        "ts_utc": pa.array([base + datetime.timedelta(seconds=i) for i in rows], pa.timestamp("us", tz="UTC")),
        "t32": pa.array([i * 61 % 86400 for i in rows], pa.time32("s")),
        "t64": pa.array([i * 61123 % 86400000000 for i in rows], pa.time64("us")),
        "dec": pa.array([decimal.Decimal(i - n // 2) / 100 for i in rows], pa.decimal128(12, 2)),
        "dec0": pa.array([decimal.Decimal(i * 10**20) for i in rows], pa.decimal128(38, 0)),
        "dict": pa.array([None if i % 9 == 0 else f"k{i % 4}" for i in rows]).dictionary_encode(),
    })


def pyarrow_text(t):
    b = io.BytesIO()
    pc.write_csv(t, b)
    return b.getvalue()


def test_same_bytes_as_pyarrow(tmp_path):
    t = every_type()
    out = tmp_path / "t.csv"
    assert hoist.write_csv(t, out, quote_strings=True) == t.num_rows
    mine = out.read_bytes()
    theirs = pyarrow_text(t)
    if mine != theirs:  # show the first differing line
        for a, b in zip(mine.split(b"\n"), theirs.split(b"\n")):
            assert a == b
    assert mine == theirs


def test_read_back_equal(tmp_path):
    t = every_type()
    out = tmp_path / "t.csv"
    hoist.write_csv(t, out)  # minimal RFC 4180 quoting
    types = {f.name: (f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in t.schema}
    back = pc.read_csv(out, parse_options=pc.ParseOptions(newlines_in_values=True),
                       convert_options=pc.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                         quoted_strings_can_be_null=False))
    want = t.set_column(t.schema.get_field_index("dict"), "dict", t.column("dict").cast(pa.string()))
    for name in t.column_names:
        assert back.column(name).equals(want.column(name)), name


def test_options_and_empty(tmp_path):
    t = pa.table({"a": [1, None, 3], "b": ["x", "NA", None]})
    out = tmp_path / "o.tsv"
    hoist.write_csv(t, out, delimiter="\t", null_string="NA", header=False)
    assert out.read_bytes() == b'1\tx\nNA\t"NA"\n3\tNA\n'
    empty = tmp_path / "e.csv"
    assert hoist.write_csv(t.slice(0, 0), empty) == 0
    assert empty.read_bytes() == b"a,b\n"
    with pytest.raises(ValueError):
        hoist.write_csv(pa.table({"s": ["a,b"]}), tmp_path / "q.csv", quote=None)
    assert not (tmp_path / "q.csv").exists()
    with pytest.raises(Exception):
        hoist.write_csv(pa.table({"l": [[1, 2]]}), tmp_path / "nested.csv")


def test_failing_stream_leaves_nothing(tmp_path):
    schema = pa.schema([("a", pa.int64())])

    def gen():
        yield pa.record_batch([pa.array(range(1000))], schema=schema)
        raise RuntimeError("source broke")

    out = tmp_path / "f.csv"
    with pytest.raises(Exception, match="source broke"):
        hoist.write_csv(pa.RecordBatchReader.from_batches(schema, gen()), out)
    assert os.listdir(tmp_path) == []


def test_s3_multipart_round_trip(s3_env, bucket, s3):
    n = 400000  # ~25 MB of text: several multipart parts
    t = pa.table({"id": pa.array(range(n)), "s": pa.array([f"row {i}, \"q\"" for i in range(n)])})
    url = f"s3://{bucket}/out/t.csv"
    assert hoist.write_csv(t, url) == n
    body = s3.get_object(Bucket=bucket, Key="out/t.csv")["Body"].read()
    assert pc.read_csv(io.BytesIO(body)).equals(t)
    assert pa.table(hoist.read_csv(url)).equals(t)


def test_cli_csv_output(tmp_path, hoist_cli):
    # Parquet has no second unit (ts_s, t32 come back as ms); dictionaries load as their values
    t = every_type(50).drop_columns(["dict", "ts_s", "t32"])
    pq.write_table(t, tmp_path / "t.parquet")
    out = tmp_path / "o.csv"
    run_cli(hoist_cli, "load", str(tmp_path / "t.parquet"), "--output", str(out), check=True)
    types = {f.name: f.type for f in t.schema}
    opts = dict(parse_options=pc.ParseOptions(newlines_in_values=True),
                convert_options=pc.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                  quoted_strings_can_be_null=False))
    assert pc.read_csv(out, **opts).equals(t)
    p = run_cli(hoist_cli, "load", str(tmp_path / "t.parquet"), "--output", "-", check=True)
    assert pc.read_csv(io.BytesIO(p.stdout), **opts).equals(t)
