"""The Arrow IPC file hoist writes (src/arrow/arrow_ipc.c) read back by
pyarrow, the reference reader: tests/arrow/test_arrow_ipc.c writes a file of
every flat type the writer handles into a directory given on its command
line; here pyarrow must read exactly those values (the C side checks the
bytes and the failure paths)."""
import datetime
import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.ipc as ipc

ROOT = pathlib.Path(__file__).resolve().parents[2]


def c_test_binary():
    cli = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    return pathlib.Path(cli).parent / "test_arrow_ipc"


def test_pyarrow_reads_what_hoist_writes(tmp_path):
    exe = c_test_binary()
    assert exe.exists(), f"build the C tests first ({exe} missing)"
    subprocess.run([str(exe), str(tmp_path)], check=True, capture_output=True, timeout=120)
    reader = ipc.open_file(tmp_path / "types.arrow")
    assert reader.num_record_batches == 2
    assert [reader.get_batch(i).num_rows for i in range(2)] == [3, 2]  # the 3rd row of batch 2 is cut
    got = reader.read_all()
    utc = datetime.timezone.utc
    want = pa.table({
        "i": pa.array([1, None, 3, 4, 5], pa.int32()),
        "l": pa.array([10, 20, 30, 40, 50], pa.int64()),
        "g": pa.array([0.5, -1.25, 2.0, 3.5, 4.5], pa.float64()),
        "b": pa.array([True, False, True, False, True]),
        "u": pa.array(["a", None, "ccc", "dd", "e"], pa.string()),
        "U": pa.array(["x", "yy", "", "zzz", "w"], pa.large_string()),
        "d": pa.array([0, 1, 19000, -1, 2], pa.int32()).cast(pa.date32()),
        "ts": pa.array([0, 1000000, None, 5, 6], pa.timestamp("us", tz="UTC")),
        "t": pa.array([0, 1000, 86399999, 1, 2], pa.int32()).cast(pa.time32("ms")),
        "n": pa.nulls(5),
        "C": pa.array([0, 255, 7, 8, 9], pa.uint8()),
    })
    assert got.schema == want.schema
    assert got.equals(want), (got.to_pydict(), want.to_pydict())
    assert got.column("ts")[1].as_py() == datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=utc)
    # the stream reader accepts the same messages after the file magic
    with open(tmp_path / "types.arrow", "rb") as f:
        f.seek(8)
        assert ipc.open_stream(f).read_all().equals(want)
