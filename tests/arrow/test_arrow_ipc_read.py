"""hoist's Arrow IPC reader (src/arrow/arrow_ipc_read.c) against files and
streams pyarrow writes — every type the Parquet writer takes, several
batches, LZ4_FRAME and ZSTD buffers, replacement dictionaries — read through
hoist_arrow_ipc_read_memory (ctypes) and compared with pyarrow's own read;
hostile input (every truncation, random byte flips) must fail cleanly; and
`hoist convert x.arrow y.parquet` end to end."""
import ctypes
import decimal
import io
import os
import pathlib
import random
import subprocess
import sys

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from hoist_lib import ROOT, HoistError, binding  # noqa: E402

UNSUPPORTED, ARROW_INVALID, ARROW_TYPE = 4, 400, 401


def _declare(L):
    L.hoist_arrow_ipc_read_memory.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]


lib = binding(_declare)


def hoist_read(data):
    """Reads IPC bytes with hoist; returns the table or raises HoistError."""
    L = lib()
    stream = ctypes.create_string_buffer(5 * 8)
    buf = ctypes.create_string_buffer(bytes(data), len(data))
    st = L.hoist_arrow_ipc_read_memory(buf, len(data), b"t.arrow", ctypes.addressof(stream))
    if st != 0:
        raise HoistError(st, L.hoist_errmsg().decode())
    reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
    try:
        return reader.read_all()
    except (pa.ArrowException, OSError) as e:  # a batch failed: the stream's get_last_error text
        raise HoistError(-1, str(e)) from None


def table(n=40):
    rows = range(n)
    return pa.table({
        "i8": pa.array([None if i % 7 == 3 else i % 100 for i in rows], pa.int8()),
        "u32": pa.array([i * 3 for i in rows], pa.uint32()),
        "i64": pa.array([i * 10**12 for i in rows], pa.int64()),
        "f16": pa.array([None if i % 5 == 0 else i / 4 for i in rows], pa.float16()),
        "f32": pa.array([i / 3 for i in rows], pa.float32()),
        "f64": pa.array([float("nan") if i == 4 else -i / 7 for i in rows]),
        "b": pa.array([None if i % 6 == 1 else i % 2 == 0 for i in rows]),
        "s": pa.array([None if i % 4 == 2 else f"s{i}" * (i % 3) for i in rows]),
        "ls": pa.array([f"L{i}" for i in rows], pa.large_string()),
        "bin": pa.array([bytes([i % 256]) * (i % 4) for i in rows]),
        "lbin": pa.array([bytes([i % 256]) for i in rows], pa.large_binary()),
        "sv": pa.array([None if i % 9 == 0 else f"view {i}" * (i % 4) for i in rows], pa.string_view()),
        "bv": pa.array([bytes([65 + i % 26]) * (i % 20) for i in rows], pa.binary_view()),
        "fsb": pa.array([i.to_bytes(4, "little") for i in rows], pa.binary(4)),
        "d32": pa.array([decimal.Decimal(i) / 100 for i in rows], pa.decimal32(7, 2)),
        "d64": pa.array([decimal.Decimal(i * 10**9) / 1000 for i in rows], pa.decimal64(18, 3)),
        "d128": pa.array([None if i % 8 == 0 else decimal.Decimal(i) / 10 for i in rows], pa.decimal128(20, 1)),
        "d256": pa.array([decimal.Decimal(i) * 10**40 for i in rows], pa.decimal256(60, 0)),
        "date32": pa.array(list(rows), pa.date32()),
        "date64": pa.array([i * 86400000 for i in rows], pa.date64()),
        "t32s": pa.array(list(rows), pa.time32("s")),
        "t32ms": pa.array(list(rows), pa.time32("ms")),
        "t64us": pa.array(list(rows), pa.time64("us")),
        "t64ns": pa.array(list(rows), pa.time64("ns")),
        "ts_s": pa.array(list(rows), pa.timestamp("s")),
        "ts_ms_utc": pa.array(list(rows), pa.timestamp("ms", "UTC")),
        "ts_us_paris": pa.array(list(rows), pa.timestamp("us", "Europe/Paris")),
        "ts_ns": pa.array(list(rows), pa.timestamp("ns")),
        "dur": pa.array(list(rows), pa.duration("us")),
        "nul": pa.nulls(n),
        "list": pa.array([None if i % 5 == 0 else [i, None, i + 1][: i % 4] for i in rows], pa.list_(pa.int32())),
        "llist": pa.array([[f"e{i}"] * (i % 3) for i in rows], pa.large_list(pa.string())),
        "fsl": pa.array([None if i % 6 == 0 else [i, -i] for i in rows], pa.list_(pa.int64(), 2)),
        "lview": pa.array([None if i % 4 == 0 else list(range(i % 3)) for i in rows], pa.list_view(pa.int16())),
        "llview": pa.array([[str(i)] for i in rows], pa.large_list_view(pa.string())),
        "struct": pa.array([None if i % 7 == 0 else {"x": i, "y": [f"{i}"], "z": {"w": i / 2}} for i in rows]),
        "map": pa.array([[(f"k{j}", i * j) for j in range(i % 3)] for i in rows], pa.map_(pa.string(), pa.int64())),
        "dict": pa.array([None if i % 10 == 0 else f"cat{i % 4}" for i in rows]).dictionary_encode(),
        "dict8": pa.DictionaryArray.from_arrays(pa.array([i % 3 for i in rows], pa.int8()),
                                                pa.array([b"x", b"yy", b"zzz"])),
        "list_dict": pa.array([[f"v{i % 2}"] for i in rows], pa.list_(pa.dictionary(pa.int16(), pa.string()))),
    })


def _file(t, compression=None, chunk=15):
    b = io.BytesIO()
    with ipc.new_file(b, t.schema, options=ipc.IpcWriteOptions(compression=compression)) as w:
        w.write_table(t, max_chunksize=chunk)
    return b.getvalue()


def _stream(t, compression=None, chunk=15):
    b = io.BytesIO()
    with ipc.new_stream(b, t.schema, options=ipc.IpcWriteOptions(compression=compression)) as w:
        w.write_table(t, max_chunksize=chunk)
    return b.getvalue()


def _same(got, exp):
    assert got.schema.equals(exp.schema), f"hoist:\n{got.schema}\npyarrow:\n{exp.schema}"
    for name in exp.column_names:
        g, e = got[name].combine_chunks(), exp[name].combine_chunks()
        assert g.equals(e) or repr(g.to_pylist()) == repr(e.to_pylist()), name


@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
@pytest.mark.parametrize("fmt", ["file", "stream"])
def test_reads_what_pyarrow_writes(fmt, compression):
    t = table()
    data = (_file if fmt == "file" else _stream)(t, compression)
    exp = (ipc.open_file if fmt == "file" else ipc.open_stream)(io.BytesIO(data)).read_all()
    got = hoist_read(data)
    _same(got, exp)
    assert [b.num_rows for b in got.to_batches()] == [15, 15, 10]


def test_feather_v2_and_empty_table(tmp_path):
    t = table()
    p = tmp_path / "t.feather"
    feather.write_feather(t, p, compression="zstd", chunksize=7)
    _same(hoist_read(p.read_bytes()), feather.read_table(p))
    empty = t.slice(0, 0)
    got = hoist_read(_stream(empty))
    assert got.num_rows == 0 and got.schema.equals(t.schema)


def test_sliced_batches_and_schema_metadata():
    t = table().replace_schema_metadata({"origin": "test"}).slice(5, 20)
    got = hoist_read(_file(t, chunk=6))
    _same(got, t)
    assert got.schema.metadata == {b"origin": b"test"}


def test_replacement_dictionaries_in_a_stream():
    s = pa.schema([("d", pa.dictionary(pa.int32(), pa.string()))])
    b = io.BytesIO()
    with ipc.new_stream(b, s) as w:
        w.write_batch(pa.record_batch([pa.array(["a", "b", "a"]).dictionary_encode()], schema=s))
        w.write_batch(pa.record_batch([pa.array(["c", None]).dictionary_encode()], schema=s))
    got = hoist_read(b.getvalue())
    assert got["d"].to_pylist() == ["a", "b", "a", "c", None]


def test_refusals_say_why():
    # delta dictionaries
    s = pa.schema([("d", pa.dictionary(pa.int32(), pa.string()))])
    b = io.BytesIO()
    with ipc.new_stream(b, s, options=ipc.IpcWriteOptions(emit_dictionary_deltas=True)) as w:
        w.write_batch(pa.record_batch([pa.DictionaryArray.from_arrays([0], ["a"])], schema=s))
        w.write_batch(pa.record_batch([pa.DictionaryArray.from_arrays([1], ["a", "b"])], schema=s))
    with pytest.raises(HoistError, match="delta dictionary"):
        hoist_read(b.getvalue())
    # unions
    u = pa.UnionArray.from_sparse(pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])])
    with pytest.raises(HoistError, match="not supported") as info:
        hoist_read(_stream(pa.table({"u": u})))
    assert info.value.status == ARROW_TYPE
    # Feather v1
    b = io.BytesIO()
    with pytest.warns(DeprecationWarning):  # pyarrow still writes it, hoist refuses it
        feather.write_feather(pa.table({"x": [1, 2]}), b, version=1)
    with pytest.raises(HoistError, match="Feather version 1") as info:
        hoist_read(b.getvalue())
    assert info.value.status == UNSUPPORTED
    with pytest.raises(HoistError, match="no schema message"):
        hoist_read(b"")


def test_every_truncation_fails_cleanly():
    """Each prefix of a small compressed file and stream either reads (a
    stream cut at a message boundary is a shorter stream) or fails with a
    message; none may crash (the fuzz target covers this under ASan)."""
    t = table(12)
    for data in (_file(t, "zstd", chunk=5), _stream(t, "lz4", chunk=5)):
        for cut in range(len(data)):
            try:
                got = hoist_read(data[:cut])
            except HoistError as e:
                assert e.message
            else:
                assert got.num_rows <= 12


def test_random_corruption_fails_cleanly():
    rng = random.Random(15)
    data = _stream(table(12), chunk=4)
    for _ in range(400):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            hoist_read(bytes(b))
        except HoistError as e:
            assert e.message


def _cli():
    return os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")


@pytest.mark.parametrize("ext", [".arrow", ".feather", ".arrows", ".ipc"])
def test_convert_ipc_to_parquet(tmp_path, ext):
    t = table()
    src = tmp_path / f"in{ext}"
    src.write_bytes(_stream(t, "zstd") if ext in (".arrows", ".ipc") else _file(t, "lz4"))
    out = tmp_path / "out.parquet"
    r = subprocess.run([_cli(), "convert", str(src), str(out), "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # what pyarrow reads back from its own Parquet file of the same table
    b = io.BytesIO()
    pq.write_table(t, b)
    _same(pq.read_table(out), pq.read_table(b))


def test_convert_bad_ipc_exits_with_a_message(tmp_path):
    src = tmp_path / "bad.arrow"
    src.write_bytes(b"ARROW1\0\0garbage")
    r = subprocess.run([_cli(), "convert", str(src), str(tmp_path / "o.parquet")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "bad.arrow" in r.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_unsigned_dictionary_indices_past_the_signed_range():
    """uint8 indices above 127 name real entries (they were read as signed)."""
    d = pa.DictionaryArray.from_arrays(pa.array([200, 0, None, 255], pa.uint8()), pa.array([f"v{i}" for i in range(256)]))
    t = pa.table({"d": d})
    got = hoist_read(_stream(t))
    assert got["d"].to_pylist() == ["v200", "v0", None, "v255"]
