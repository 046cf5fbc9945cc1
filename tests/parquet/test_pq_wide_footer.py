"""A footer of 16,000 columns (written by pyarrow) opens in well under a
second, and the time grows about linearly with the column count (the leaf
lookup of every field used to scan all leaves: quadratic, 1.6 s for 16,000
columns where pyarrow takes 0.07 s). Opens the footer through the C API
(hoist_pq_file_new) with ctypes, nothing else."""
import ctypes
import os
import pathlib
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


def lib():
    cli = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    path = pathlib.Path(cli).parent / "libhoist.so"
    if not path.exists():
        pytest.skip(f"{path} not built")
    lib = ctypes.CDLL(str(path))
    lib.hoist_pq_file_new.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_void_p)]
    lib.hoist_pq_file_free.argtypes = [ctypes.c_void_p]
    lib.hoist_pq_file_num_fields.argtypes = [ctypes.c_void_p]
    lib.hoist_errmsg.restype = ctypes.c_char_p
    return lib


def open_seconds(lib, data, columns):
    """Best of three: seconds to parse the footer and build the field tree."""
    best = None
    for _ in range(3):
        f = ctypes.c_void_p()
        t0 = time.perf_counter()
        st = lib.hoist_pq_file_new(data, len(data), len(data), b"wide.parquet", ctypes.byref(f))
        dt = time.perf_counter() - t0
        assert st == 0, lib.hoist_errmsg()
        assert lib.hoist_pq_file_num_fields(f) == columns
        lib.hoist_pq_file_free(f)
        best = dt if best is None else min(best, dt)
    return best


def wide_file(tmp_path, columns):
    path = tmp_path / f"wide{columns}.parquet"
    pq.write_table(pa.table({f"c{i}": pa.array([i, None], pa.int64()) for i in range(columns)}), path)
    return path.read_bytes()


def test_wide_footer_opens_fast(tmp_path):
    hl = lib()
    times = {n: open_seconds(hl, wide_file(tmp_path, n), n) for n in (8000, 16000, 32000)}
    assert times[16000] < 0.5, times
    # linear: 4x the columns take about 4x the time (the quadratic lookup took 17x)
    assert times[32000] < 10 * times[8000], times


def test_wide_dataset_loads_fast(tmp_path):
    """The dataset layer matches column names file by file through a hash
    table (a scan per name took 16,000^2 compares: 4 s to load this file)."""
    import hoist
    times = {}
    for n in (8000, 16000):
        path = tmp_path / f"wide{n}.parquet"
        path.write_bytes(wide_file(tmp_path, n))
        best = None
        for _ in range(2):
            t0 = time.perf_counter()
            t = pa.table(hoist.load_table(str(path)))
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        assert t.num_columns == n and t.column(f"c{n - 1}").to_pylist() == [n - 1, None]
        times[n] = best
    assert times[16000] < 2.0, times
    assert times[16000] < 3.5 * times[8000], times  # quadratic: 4x
