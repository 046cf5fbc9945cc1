"""hoist's side of the write benchmarks from Python: hoist.write_table when
the installed package has it, else the C API (hoist_write_dataset in
libhoist.so, the same call the CLI makes) through ctypes with the table
handed over through the Arrow C stream interface, so that hoist, like its
peers, starts from a table in memory. HOIST_BENCH_LIB names the library
(default: build/libhoist.so of this tree)."""
import ctypes
import inspect
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# include/hoist.h: enum hoist_pq_write_option
PQW_COMPRESSION, PQW_ROW_GROUP_ROWS, PQW_THREADS = 1, 2, 12


def python_write_table():
    """hoist.write_table, or None when the installed package has none."""
    try:
        import hoist
    except ImportError:
        return None
    return getattr(hoist, "write_table", None)


def write_python(write_table, table, url, threads, compression, partition_by, row_group_rows):
    params = inspect.signature(write_table).parameters
    kw = {"compression": compression}
    if "row_group_size" in params:
        kw["row_group_size"] = row_group_rows
    if partition_by:
        kw["partition_by"] = [partition_by]
    if "threads" in params:
        kw["threads"] = threads
    write_table(table, url, **kw)


class _Lib:
    def __init__(self):
        path = os.environ.get("HOIST_BENCH_LIB") or str(ROOT / "build" / "libhoist.so")
        L = ctypes.CDLL(path)
        vp, cp, i64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64
        L.hoist_errmsg.restype = cp
        for name, args in (("hoist_store_new", [vp, vp]), ("hoist_store_free", [vp]),
                           ("hoist_write_config_new", [vp]), ("hoist_write_config_free", [vp]),
                           ("hoist_write_config_set_partition_by", [vp, ctypes.POINTER(cp), ctypes.c_size_t]),
                           ("hoist_write_config_set_parquet_options", [vp, vp]),
                           ("hoist_pq_write_options_new", [vp]), ("hoist_pq_write_options_free", [vp]),
                           ("hoist_pq_write_options_set_str", [vp, ctypes.c_int, cp]),
                           ("hoist_pq_write_options_set_int", [vp, ctypes.c_int, i64]),
                           ("hoist_write_dataset", [vp, cp, vp, vp, ctypes.POINTER(vp)]),
                           ("hoist_free", [vp])):
            getattr(L, name).argtypes = args
        for name in ("hoist_store_new", "hoist_write_config_new", "hoist_write_config_set_partition_by",
                     "hoist_write_config_set_parquet_options", "hoist_pq_write_options_new",
                     "hoist_pq_write_options_set_str", "hoist_pq_write_options_set_int", "hoist_write_dataset"):
            getattr(L, name).restype = ctypes.c_int
        self.L = L

    def check(self, status, what):
        if status != 0:
            raise RuntimeError("%s: hoist status %d: %s" % (what, status, self.L.hoist_errmsg().decode()))


def write_capi(table, url, threads, compression, partition_by, row_group_rows):
    """hoist_write_dataset(store, url, stream of `table`, config); returns the manifest text."""
    import pyarrow as pa
    lib = _Lib()
    L = lib.L
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    stream = ctypes.create_string_buffer(5 * ctypes.sizeof(ctypes.c_void_p))  # struct ArrowArrayStream
    reader._export_to_c(ctypes.addressof(stream))
    store, cfg, pq, manifest = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    try:
        lib.check(L.hoist_store_new(None, ctypes.byref(store)), "hoist_store_new")
        lib.check(L.hoist_write_config_new(ctypes.byref(cfg)), "hoist_write_config_new")
        if partition_by:
            cols = (ctypes.c_char_p * 1)(partition_by.encode())
            lib.check(L.hoist_write_config_set_partition_by(cfg, cols, 1), "partition_by")
        lib.check(L.hoist_pq_write_options_new(ctypes.byref(pq)), "hoist_pq_write_options_new")
        lib.check(L.hoist_pq_write_options_set_str(pq, PQW_COMPRESSION, compression.encode()), "compression")
        lib.check(L.hoist_pq_write_options_set_int(pq, PQW_ROW_GROUP_ROWS, row_group_rows), "row_group_rows")
        lib.check(L.hoist_pq_write_options_set_int(pq, PQW_THREADS, threads), "threads")
        lib.check(L.hoist_write_config_set_parquet_options(cfg, pq), "parquet options")
        lib.check(L.hoist_write_dataset(store, url.encode(), ctypes.addressof(stream), cfg, ctypes.byref(manifest)),
                  url)
        return ctypes.string_at(manifest.value).decode() if manifest.value else ""
    finally:
        if manifest.value:
            L.hoist_free(manifest)
        L.hoist_pq_write_options_free(pq)
        L.hoist_write_config_free(cfg)
        L.hoist_store_free(store)
