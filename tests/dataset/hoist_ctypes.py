"""A thin ctypes binding of hoist's dataset C API for the tests (the real
Python package binds it in its own extension; this keeps the dataset tests
independent of it)."""
import ctypes
import os
import pathlib

import pyarrow as pa

ROOT = pathlib.Path(__file__).resolve().parents[2]


class ArrowArrayStream(ctypes.Structure):
    _fields_ = [("get_schema", ctypes.c_void_p), ("get_next", ctypes.c_void_p),
                ("get_last_error", ctypes.c_void_p), ("release", ctypes.c_void_p),
                ("private_data", ctypes.c_void_p)]


class Stats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in
                ("files", "files_skipped", "row_groups", "row_groups_pruned", "dataset_bytes",
                 "bytes_fetched", "requests")] + \
               [("rows", ctypes.c_int64), ("columns", ctypes.c_int64),
                ("output_bytes", ctypes.c_uint64), ("peak_pipeline_bytes", ctypes.c_uint64)] + \
               [(n, ctypes.c_double) for n in
                ("list_seconds", "footer_seconds", "download_seconds", "decode_seconds", "scan_seconds")] + \
               [("pages_skipped", ctypes.c_uint64), ("rows_skipped_by_page_index", ctypes.c_int64),
                ("files_pruned", ctypes.c_uint64)]


class Shard(ctypes.Structure):
    _fields_ = [("urls", ctypes.POINTER(ctypes.c_char_p)), ("count", ctypes.c_size_t),
                ("bytes", ctypes.c_uint64), ("rows", ctypes.c_int64)]


class HoistError(Exception):
    def __init__(self, status, message):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message


def _lib():
    cli = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    path = pathlib.Path(cli).parent / "libhoist.so"
    lib = ctypes.CDLL(str(path))
    lib.hoist_errmsg.restype = ctypes.c_char_p
    lib.hoist_dataset_config_set_sample.argtypes = [ctypes.c_void_p, ctypes.c_double, ctypes.c_uint64]
    lib.hoist_dataset_config_set_limit.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.hoist_dataset_config_set_memory_limit.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    lib.hoist_dataset_skipped.restype = ctypes.c_void_p
    return lib


LIB = None


def lib():
    global LIB
    if LIB is None:
        LIB = _lib()
    return LIB


def _check(status):
    if status != 0:
        raise HoistError(status, lib().hoist_errmsg().decode())


class Dataset:
    def __init__(self, urls, columns=None, filter=None, sample=None, seed=0, limit=None,
                 memory_limit=None, skip_bad=False, threads=0, endpoint=None, max_retries=None):
        L = lib()
        self.ds = None
        if isinstance(urls, str):
            urls = [urls]
        cfg = ctypes.c_void_p()
        scfg = ctypes.c_void_p()
        _check(L.hoist_dataset_config_new(ctypes.byref(cfg)))
        try:
            if endpoint is not None or max_retries is not None:
                _check(L.hoist_store_config_new(ctypes.byref(scfg)))
                if endpoint is not None:
                    _check(L.hoist_store_config_set_str(scfg, 1, endpoint.encode()))  # HOIST_STORE_ENDPOINT
                if max_retries is not None:
                    _check(L.hoist_store_config_set_int(scfg, 11, ctypes.c_int64(max_retries)))  # MAX_RETRIES
                _check(L.hoist_dataset_config_set_store_config(cfg, scfg))
            if columns is not None:
                arr = (ctypes.c_char_p * len(columns))(*[c.encode() for c in columns])
                _check(L.hoist_dataset_config_set_columns(cfg, arr, ctypes.c_size_t(len(columns))))
            if filter is not None:
                _check(L.hoist_dataset_config_set_filter(cfg, filter.encode()))
            if sample is not None:
                _check(L.hoist_dataset_config_set_sample(cfg, sample, seed))
            if limit is not None:
                _check(L.hoist_dataset_config_set_limit(cfg, limit))
            if memory_limit is not None:
                _check(L.hoist_dataset_config_set_memory_limit(cfg, memory_limit))
            if skip_bad:
                _check(L.hoist_dataset_config_set_skip_bad(cfg, 1))
            if threads:
                _check(L.hoist_dataset_config_set_threads(cfg, ctypes.c_uint(threads)))
            arr = (ctypes.c_char_p * len(urls))(*[u.encode() for u in urls])
            self.ds = ctypes.c_void_p()
            _check(L.hoist_dataset_open(None, arr, ctypes.c_size_t(len(urls)), cfg, ctypes.byref(self.ds)))
        finally:
            L.hoist_dataset_config_free(cfg)
            L.hoist_store_config_free(scfg)

    def close(self):
        if self.ds:
            lib().hoist_dataset_close(self.ds)
            self.ds = None

    def __del__(self):
        self.close()

    def _reader(self, fn):
        stream = ArrowArrayStream()
        _check(fn(self.ds, ctypes.byref(stream)))
        return pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))

    def load(self):
        return self._reader(lib().hoist_dataset_load).read_all()

    def scan(self):
        return self._reader(lib().hoist_dataset_scan)

    def stats(self):
        s = Stats()
        lib().hoist_dataset_get_stats(self.ds, ctypes.byref(s), ctypes.sizeof(s))
        return s

    def skipped(self):
        p = lib().hoist_dataset_skipped(self.ds)
        text = ctypes.string_at(p).decode()
        lib().hoist_free(ctypes.c_void_p(p))
        return text

    def shards(self, n, row_groups=False):
        out = ctypes.POINTER(Shard)()
        count = ctypes.c_size_t()
        _check(lib().hoist_dataset_shards(self.ds, ctypes.c_size_t(n), ctypes.c_uint(1 if row_groups else 0),
                                          ctypes.byref(out), ctypes.byref(count)))
        result = []
        for i in range(count.value):
            s = out[i]
            result.append(([s.urls[k].decode() for k in range(s.count)], s.bytes, s.rows))
        lib().hoist_dataset_shards_free(out, count)
        return result
