"""Late materialisation in the scan (src/dataset/ds_scan.c): with a filter,
the output columns the filter does not read are decoded after it, for the
kept rows alone (hx_pq_decode_field_kept). The result must be what
pyarrow.dataset gives, and what hoist gives with the late decoding switched
off (HOIST_NO_LATE_DECODE=1), over many column types, encodings, page
versions, nulls, row groups where the filter keeps nothing or everything,
partition columns and widening casts between files."""
import decimal
import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def make_table(n, seed):
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 10, n)
    nulls = rng.random(n) < 0.2
    return pa.table({
        "k": pa.array(k, pa.int32()),
        "f64": pa.array(np.round(rng.gamma(1.8, 1.6, n), 2)),
        "f64n": pa.array(np.where(nulls, np.nan, rng.random(n)), mask=nulls),
        "i8": pa.array(rng.integers(-100, 100, n), pa.int8()),
        "u16n": pa.array(rng.integers(0, 60000, n), pa.uint16(), mask=rng.random(n) < 0.5),
        "i64": pa.array(rng.integers(-2**62, 2**62, n), pa.int64()),
        "f32": pa.array(rng.random(n).astype(np.float32)),
        "ts": pa.array((np.datetime64("2024-01-01", "us") + rng.integers(0, 10**12, n)).astype("datetime64[us]")),
        "d32": pa.array(rng.integers(0, 20000, n).astype("datetime64[D]").astype("datetime64[D]"), pa.date32()),
        "dec": pa.array([None if i % 7 == 0 else decimal.Decimal(int(v)).scaleb(-2)
                         for i, v in enumerate(rng.integers(-10**8, 10**8, n))], pa.decimal128(12, 2)),
        "s": pa.array(["v%d" % v for v in rng.integers(0, 50, n)]),
        "b": pa.array(rng.random(n) < 0.5),
        "lst": pa.array([[int(v)] * int(v % 3) for v in rng.integers(0, 100, n)], pa.list_(pa.int32())),
    })


def write_dataset(root, seed=1):
    """Files of 3 row groups each, written several ways; the filter keeps
    nothing in the first row group of part-0 (k there is 0..4) and every row
    of part-1's (k there is >= 5)."""
    variants = [
        dict(),
        dict(use_dictionary=False, data_page_size=4096),
        dict(data_page_version="2.0", data_page_size=8192, compression="zstd"),
        dict(use_dictionary=False, column_encoding={"f64": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT",
                                                    "i64": "DELTA_BINARY_PACKED", "k": "DELTA_BINARY_PACKED"}),
    ]
    for part, kw in enumerate(variants):
        d = root / ("p=%d" % part)
        d.mkdir(parents=True, exist_ok=True)
        t = make_table(30_000, seed + part)
        if part in (0, 1):
            k = t.column("k").to_numpy().copy()
            k[:10_000] = k[:10_000] % 5 if part == 0 else 5 + k[:10_000] % 5
            t = t.set_column(0, "k", pa.array(k, pa.int32()))
        if part == 2:
            # narrower in this file: the dataset widens it to int64
            t = t.set_column(t.schema.get_field_index("i64"), "i64", pa.array(t.column("i64").to_numpy() % 1000,
                                                                                  pa.int32()))
        pq.write_table(t, d / "part.parquet", row_group_size=10_000, **kw)


def hoist_load(monkeypatch, url, columns, flt, late=True):
    import hoist

    if late:
        monkeypatch.delenv("HOIST_NO_LATE_DECODE", raising=False)
    else:
        monkeypatch.setenv("HOIST_NO_LATE_DECODE", "1")  # read by each scan
    return pa.table(hoist.load_table(url, columns=columns, filter=flt))


CASES = [
    (["f64", "f64n", "i8", "u16n", "i64", "f32", "ts", "d32", "dec", "s", "b", "lst", "p"], "k > 6",
     (pc.field("k") > 6)),
    (["f64", "i64"], "k >= 5", pc.field("k") >= 5),
    (["f64n", "s"], "k = 3 OR k = 8", (pc.field("k") == 3) | (pc.field("k") == 8)),
    (["f64", "k"], "k > 1 AND f32 < 0.5", (pc.field("k") > 1) & (pc.field("f32") < 0.5)),
    (["ts", "u16n"], "p = 1 AND k < 3", (pc.field("p") == 1) & (pc.field("k") < 3)),
    (["f64", "dec"], "k > 100", pc.field("k") > 100),
]


@pytest.mark.parametrize("columns,flt,expr", CASES)
def test_late_decode_matches_pyarrow(tmp_path, monkeypatch, columns, flt, expr):
    write_dataset(tmp_path)
    got = hoist_load(monkeypatch, str(tmp_path) + "/", columns, flt)
    # the same rows and values with the late decoding off ...
    assert got.equals(hoist_load(monkeypatch, str(tmp_path) + "/", columns, flt, late=False))
    # ... and as pyarrow.dataset gives them
    base = pq.read_schema(tmp_path / "p=0" / "part.parquet")
    schema = base.set(base.get_field_index("i64"), pa.field("i64", pa.int64())).append(
        pa.field("p", got.schema.field("p").type if "p" in got.column_names else pa.int32()))
    ds = pads.dataset(str(tmp_path), format="parquet", partitioning="hive", schema=schema)
    want = ds.to_table(columns=columns, filter=expr)
    assert got.num_rows == want.num_rows
    assert got.equals(want.cast(got.schema)), flt


def test_rows_filtered_out_are_not_decoded(tmp_path, monkeypatch):
    """A row group where the filter keeps nothing never decodes its other
    columns: a damaged page there goes unread (as a page the page index
    skips), where decoding every column first fails the load."""
    # k is 0 or 2 in the first row group: its statistics (0..2) do not rule out k = 1
    t = pa.table({"k": pa.array(np.r_[np.arange(1000) % 2 * 2, np.ones(1000)].astype(np.int32)),
                  "v": pa.array(np.arange(2000, dtype=np.float64))})
    path = tmp_path / "part.parquet"
    pq.write_table(t, path, row_group_size=1000, compression="none", use_dictionary=False)
    md = pq.ParquetFile(path).metadata
    off = md.row_group(0).column(1).data_page_offset  # v's first page in the row group of k = 0
    raw = bytearray(path.read_bytes())
    raw[off:off + 16] = b"\xff" * 16  # its page header no longer parses
    path.write_bytes(bytes(raw))
    import hoist

    got = hoist_load(monkeypatch, str(tmp_path) + "/", ["v"], "k = 1")
    assert got.column("v").to_pylist() == list(np.arange(1000, 2000, dtype=np.float64))
    with pytest.raises(hoist.DatasetError):
        hoist_load(monkeypatch, str(tmp_path) + "/", ["v"], "k = 1", late=False)
