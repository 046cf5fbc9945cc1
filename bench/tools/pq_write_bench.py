"""Standalone driver for profiling hoist's Parquet encoder: encodes a fixed
in-memory taxi-like table (prepare_taxi._month_table, cached as Arrow IPC
in /tmp) with hoist_pq_write_stream into a sink that only counts bytes, and
prints the process CPU seconds (user + system, all threads) the call took,
which is the measure to use on a shared machine, not wall time. Peers
(pyarrow, polars) encode the same table into memory, measured the same way.

  pq_write_bench.py [--rows N] [--threads T] [--compression C] [--tool hoist|hoist-dataset|pyarrow|polars]
                    [--repeat R] [--out FILE]

Run under `perf record -g` or `valgrind --tool=callgrind` (use --rows 200000)
to see where the time goes; PQ_BENCH_PERF_CTL=FIFO,ACK makes the driver
enable `perf record -D -1 --control fifo:FIFO,ACK` only around the writes,
so the table's loading stays out of the profile. HOIST_BENCH_LIB names libhoist.so (default:
build/libhoist.so of this tree)."""
import argparse
import ctypes
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

SINK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
PQW_COMPRESSION, PQW_ROW_GROUP_ROWS, PQW_DICTIONARY, PQW_THREADS = 1, 2, 6, 12


def table(rows):
    import pyarrow as pa
    path = Path("/tmp/pq_write_bench-taxi-%d.arrow" % rows)
    if not path.exists():
        from prepare_taxi import _month_table
        chunk = 1 << 20
        parts = [_month_table(min(chunk, rows - s), 7000 + i, 1 + i % 12).combine_chunks()
                 for i, s in enumerate(range(0, rows, chunk))]
        t = pa.concat_tables(parts)
        tmp = path.with_suffix(".tmp")
        with pa.OSFile(str(tmp), "wb") as f, pa.ipc.new_file(f, t.schema) as w:
            w.write_table(t)
        tmp.rename(path)
    with pa.memory_map(str(path)) as f:
        return pa.ipc.open_file(f).read_all().combine_chunks()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def hoist_writer(threads, compression):
    L = ctypes.CDLL(os.environ.get("HOIST_BENCH_LIB") or str(ROOT / "build" / "libhoist.so"))
    L.hoist_errmsg.restype = ctypes.c_char_p
    L.hoist_pq_write_options_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_pq_write_options_set_str.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    L.hoist_pq_write_options_free.argtypes = [ctypes.c_void_p]
    L.hoist_pq_write_options_set_column_int.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_pq_write_stream.argtypes = [ctypes.c_void_p, ctypes.c_void_p, SINK, ctypes.c_void_p]

    def write(t, out):
        import pyarrow as pa
        o = ctypes.c_void_p()
        assert L.hoist_pq_write_options_new(ctypes.byref(o)) == 0
        L.hoist_pq_write_options_set_str(o, PQW_COMPRESSION, compression.encode())
        L.hoist_pq_write_options_set_int(o, PQW_ROW_GROUP_ROWS, 1 << 20)
        L.hoist_pq_write_options_set_int(o, PQW_THREADS, threads)
        for col in filter(None, os.environ.get("PQ_BENCH_NO_DICT", "").split(",")):  # experiments
            L.hoist_pq_write_options_set_column_int(o, col.encode(), PQW_DICTIONARY, 0)
        reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches())
        stream = ctypes.create_string_buffer(5 * 8)
        reader._export_to_c(ctypes.addressof(stream))
        size = [0]
        f = open(out, "wb") if out else None

        def sink(_ud, ptr, n):
            size[0] += n
            if f:
                f.write(ctypes.string_at(ptr, n))
            return 0

        cb = SINK(sink)
        st = L.hoist_pq_write_stream(ctypes.addressof(stream), o, cb, None)
        L.hoist_pq_write_options_free(o)
        if f:
            f.close()
        if st != 0:
            raise RuntimeError(L.hoist_errmsg().decode())
        return size[0]
    return write


def dataset_writer(threads, compression):
    """hoist_write_dataset into /dev/shm, the benchmark harness's path (_hoist_write.py)."""
    import _hoist_write

    def write(t, out):
        path = out or "/dev/shm/pq_write_bench-%d.parquet" % os.getpid()
        _hoist_write.write_capi(t, path, threads, compression, None, 1 << 20)
        size = os.path.getsize(path)
        if not out:
            os.unlink(path)
        return size
    return write


def pyarrow_writer(threads, compression):
    import pyarrow as pa
    import pyarrow.parquet as pq
    pa.set_cpu_count(threads or os.cpu_count())
    codec, _, level = compression.partition(":")

    def write(t, out):
        sink = pa.BufferOutputStream()
        pq.write_table(t, sink, row_group_size=1 << 20, compression=codec,
                       compression_level=int(level) if level else None)
        return sink.getvalue().size
    return write


def polars_writer(threads, compression):
    if threads:
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    import io
    import polars as pl
    codec, _, level = compression.partition(":")

    def write(t, out):
        df = pl.from_arrow(t)
        b = io.BytesIO()
        df.write_parquet(b, compression=codec, compression_level=int(level) if level else None,
                         row_group_size=1 << 20)
        return b.tell()
    return write


def perf_ctl(cmd):
    spec = os.environ.get("PQ_BENCH_PERF_CTL")
    if not spec:
        return
    ctl, ack = spec.split(",")
    with open(ctl, "w") as f:
        f.write(cmd + "\n")
    with open(ack) as f:
        f.readline()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--compression", default="snappy")
    ap.add_argument("--tool", default="hoist")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    t = table(a.rows)
    write = {"hoist": hoist_writer, "hoist-dataset": dataset_writer, "pyarrow": pyarrow_writer, "polars": polars_writer}[a.tool](
        a.threads, a.compression)
    for _ in range(a.repeat):
        perf_ctl("enable")
        c0, w0 = cpu(), time.perf_counter()
        size = write(t, a.out)
        c1, w1 = cpu(), time.perf_counter()
        perf_ctl("disable")
        print("%s rows=%d threads=%d %s: cpu %.3f s (%.2f CPU-s/GiB), wall %.3f s, %d bytes" % (
            a.tool, a.rows, a.threads, a.compression, c1 - c0, (c1 - c0) / (t.nbytes / 2**30), w1 - w0, size),
            flush=True)


if __name__ == "__main__":
    main()
