"""ARROW:schema on the reader side (src/parquet/pq_arrow_schema.c): the Arrow
types Parquet cannot express — string/binary views, decimal32/64,
fixed-size lists, list views, seconds timestamps — come back as pyarrow
restores them, from files written by pyarrow and by hoist."""
import base64
import decimal
import io
import pathlib
import sys

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
hoist = pytest.importorskip("hoist")
if not hasattr(hoist, "write_table"):
    pytest.skip("hoist built without the writer", allow_module_level=True)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pq_write_ctypes import write  # noqa: E402

N = 300


def _table():
    long = "a long string, past the 12 inline bytes"
    sv = [None if i % 7 == 3 else (f"s{i}" if i % 2 else f"{long} {i}") for i in range(N)]
    return pa.table({
        "sv": pa.array(sv, pa.string_view()),
        "bv": pa.array([None if v is None else v.encode() for v in reversed(sv)], pa.binary_view()),
        "sv_empty": pa.array([""] * N, pa.string_view()),
        "d32": pa.array([None if i % 5 == 0 else decimal.Decimal(i * 37 - 4000) / 100 for i in range(N)],
                        pa.decimal32(9, 2)),
        "d64": pa.array([None if i % 5 == 1 else decimal.Decimal(i * 10**12 - 7) / 1000 for i in range(N)],
                        pa.decimal64(18, 3)),
        "fsl": pa.array([None if i % 4 == 0 else [i, None if i % 3 == 0 else -i] for i in range(N)],
                        pa.list_(pa.int32(), 2)),
        "fsl_str": pa.array([None if i % 6 == 0 else [f"x{i}", None, "y"] for i in range(N)],
                            pa.list_(pa.string(), 3)),
        "fsl_bool": pa.array([None if i % 5 == 0 else [i % 2 == 0] * 4 for i in range(N)], pa.list_(pa.bool_(), 4)),
        "fsl_nonull": pa.array([[float(i), 0.5] for i in range(N)], pa.list_(pa.float64(), 2)),
        "lv": pa.array([None if i % 4 == 1 else list(range(i % 5)) for i in range(N)], pa.list_view(pa.int64())),
        "llv": pa.array([None if i % 4 == 2 else [f"e{i}"] * (i % 3) for i in range(N)],
                        pa.large_list_view(pa.string())),
        "list_sv": pa.array([None if i % 9 == 0 else [f"v{i}", None] for i in range(N)], pa.list_(pa.string_view())),
        "st": pa.array([{"a": f"{long}{i}", "b": i} for i in range(N)],
                       pa.struct([("a", pa.string_view()), ("b", pa.decimal64(10, 0))])),
        "ts_s": pa.array([None if i % 8 == 0 else i * 1000 for i in range(N)], pa.timestamp("s")),
        "ts_s_utc": pa.array([i for i in range(N)], pa.timestamp("s", "UTC")),
    })


def _pyarrow_file(tmp_path, **kw):
    p = tmp_path / "pyarrow.parquet"
    pq.write_table(_table(), p, **kw)  # pyarrow 26 cannot slice a view inside a struct into row groups
    return p


def _hoist_file(tmp_path, **kw):
    p = tmp_path / "hoist.parquet"
    hoist.write_table(_table(), str(p), row_group_size=128, **kw)
    return p


def _check(path):
    exp = pq.read_table(path)
    got = pa.table(hoist.read_parquet(str(path)))
    assert got.schema.equals(exp.schema, check_metadata=False), f"hoist:\n{got.schema}\npyarrow:\n{exp.schema}"
    for name in exp.column_names:
        assert got[name].equals(exp[name]), name
    return got


@pytest.mark.parametrize("kw", [{}, {"store_decimal_as_integer": True}, {"data_page_version": "2.0"}],
                         ids=["default", "decimal-as-int", "v2"])
def test_restored_like_pyarrow_from_pyarrow_files(tmp_path, kw):
    got = _check(_pyarrow_file(tmp_path, **kw))
    # what pyarrow restores, spelled out (pyarrow keeps seconds as ms: Parquet has no seconds unit)
    assert got.schema.field("sv").type == pa.string_view()
    assert got.schema.field("d32").type == pa.decimal32(9, 2)
    assert got.schema.field("fsl").type == pa.list_(pa.int32(), 2)
    assert got.schema.field("llv").type == pa.large_list_view(pa.string())
    assert got.schema.field("ts_s").type == pa.timestamp("ms")


@pytest.mark.parametrize("kw", [{}, {"data_page_version": 2, "dictionary": False, "compression": "zstd"}],
                         ids=["default", "v2-plain"])
def test_restored_like_pyarrow_from_hoist_files(tmp_path, kw):
    got = _check(_hoist_file(tmp_path, **kw))
    assert got["sv"].equals(_table()["sv"])
    assert got["fsl"].equals(_table()["fsl"])
    assert got["lv"].to_pylist() == _table()["lv"].to_pylist()


def test_view_read_as_dictionary(tmp_path):
    p = _hoist_file(tmp_path)
    got = pa.table(hoist.read_parquet(str(p), columns=["sv", "bv"], dictionary=True))
    assert got.schema.field("sv").type == pa.dictionary(pa.int32(), pa.string())
    assert got.schema.field("bv").type == pa.dictionary(pa.int32(), pa.binary())
    assert got["sv"].to_pylist() == _table()["sv"].to_pylist()


def test_fixed_size_list_wrong_length_is_corrupt():
    """A file whose ARROW:schema says fixed_size_list<2> but whose list holds
    three values is refused with a message (pyarrow refuses it too), not read
    past its child."""
    t = pa.table({"l": pa.array([[1, 2], [3, 4, 5]], pa.list_(pa.int32()))})
    lie = base64.b64encode(pa.schema([pa.field("l", pa.list_(pa.int32(), 2))]).serialize().to_pybytes()).decode()
    data = write(t, metadata={"ARROW:schema": lie}, store_arrow_schema=0)
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(io.BytesIO(data))
    with pytest.raises(hoist.ParquetError, match="fixed_size_list<2> 'l': entry 1 has 3 values"):
        hoist.read_parquet(data)


def test_fixed_size_list_of_any_child(tmp_path):
    """A fixed_size_list's null entries own null child slots at any depth:
    nested lists, structs, views, large strings, dictionaries, fixed-size
    lists of fixed-size lists, maps — padded like pyarrow pads them."""
    n = 40
    t = pa.table({
        "f_list": pa.array([None if i % 3 == 0 else [[i], None, [i, i + 1]][: 2] for i in range(n)],
                           pa.list_(pa.list_(pa.int64()), 2)),
        "f_struct": pa.array([None if i % 4 == 1 else [{"a": i, "b": str(i)}] * 3 for i in range(n)],
                             pa.list_(pa.struct([("a", pa.int32()), ("b", pa.string())]), 3)),
        "f_view": pa.array([None if i % 5 == 2 else [f"a long view value {i}", None] for i in range(n)],
                           pa.list_(pa.string_view(), 2)),
        "f_large": pa.array([None if i % 2 else ["x" * i, "y"] for i in range(n)], pa.list_(pa.large_string(), 2)),
        "f_dict": pa.array([None if i % 6 == 0 else [f"k{i % 3}"] * 2 for i in range(n)],
                           pa.list_(pa.dictionary(pa.int32(), pa.string()), 2)),
        "f_f": pa.array([None if i % 7 == 0 else [[i, i], None] for i in range(n)],
                        pa.list_(pa.list_(pa.int16(), 2), 2)),
        "f_map": pa.array([None if i % 3 == 2 else [[("k", i)], []] for i in range(n)],
                          pa.list_(pa.map_(pa.string(), pa.int64()), 2)),
        "l_f": pa.array([None if i % 5 == 0 else [[i, -i]] * (i % 3) for i in range(n)],
                        pa.list_(pa.list_(pa.int8(), 2))),
    })
    for writer in ("pyarrow", "hoist"):
        p = tmp_path / f"{writer}.parquet"
        if writer == "pyarrow":
            pq.write_table(t, p)
        else:
            hoist.write_table(t, str(p), row_group_size=16)
        _check(p)
        got = pa.table(hoist.read_parquet(str(p)))
        for name in t.column_names:
            assert got[name].to_pylist() == t[name].to_pylist(), (writer, name)
    got = pa.table(hoist.read_parquet(str(tmp_path / "hoist.parquet"), dictionary=True))
    assert got["f_view"].to_pylist() == t["f_view"].to_pylist()
