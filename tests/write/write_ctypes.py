"""ctypes binding of hoist_write_dataset for the dataset-writer tests: a
pyarrow table or reader goes in through the Arrow C stream interface."""
import ctypes

import pyarrow as pa

from hoist_lib import HoistError, binding  # noqa: F401 (tests catch HoistError here)

WOPT = {"max_rows_per_file": 1, "max_bytes_per_file": 2, "existing": 3, "name_template": 4,
        "keep_partition_columns": 5, "memory_limit": 6, "max_open_files": 7, "lineage_json": 8, "manifest": 9}
PQOPT = {"compression": 1, "row_group_rows": 2, "row_group_bytes": 3}

PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _declare(L):
    L.hoist_write_config_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_write_config_set_str.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    L.hoist_write_config_set_partition_by.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                                      ctypes.c_size_t]
    L.hoist_write_config_set_parquet_options.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    L.hoist_write_config_set_progress.argtypes = [ctypes.c_void_p, PROGRESS, ctypes.c_void_p]
    L.hoist_write_config_free.argtypes = [ctypes.c_void_p]
    L.hoist_pq_write_options_set_str.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    L.hoist_pq_write_options_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_pq_write_options_free.argtypes = [ctypes.c_void_p]
    L.hoist_store_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    L.hoist_store_config_set_str.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    L.hoist_store_config_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_store_config_free.argtypes = [ctypes.c_void_p]
    L.hoist_store_free.argtypes = [ctypes.c_void_p]
    L.hoist_write_dataset.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_void_p)]
    L.hoist_free.argtypes = [ctypes.c_void_p]


lib = binding(_declare)


def _check(status):
    if status != 0:
        raise HoistError(status, lib().hoist_errmsg().decode())


STOREOPT = {"endpoint": 1, "concurrency": 9, "max_retries": 11}

# struct hoist_progress: size_t struct_size, then these 8-byte fields in order
PROGRESS_FIELDS = ("bytes_done", "bytes_total", "objects_done", "objects_total", "rows_done", "bytes_uploaded",
                   "bytes_buffered_peak")


def _progress_fields(p):
    words = ctypes.cast(p, ctypes.POINTER(ctypes.c_uint64))
    size = words[0]
    return {name: words[1 + i] for i, name in enumerate(PROGRESS_FIELDS) if size >= 8 * (2 + i)}


def write_dataset(data, url, partition_by=(), cancel_after=None, parquet=None, store_opts=None, progress=None,
                  **opts):
    """Writes a pyarrow Table / RecordBatchReader with hoist_write_dataset;
    returns the manifest text. cancel_after=N: the progress callback cancels
    at its Nth call. parquet: encoder options, e.g. {"row_group_rows": 1000}.
    progress: a dict updated with the fields of every progress report (the
    last one's stay)."""
    L = lib()
    if isinstance(data, pa.Table):
        data = data.to_reader(max_chunksize=opts.pop("batch_rows", None))
    stream = pa.RecordBatchReader.from_batches(data.schema, data)
    cstream = ctypes.create_string_buffer(64)  # struct ArrowArrayStream (5 pointers)
    stream._export_to_c(ctypes.addressof(cstream))
    store = ctypes.c_void_p()
    cfg = ctypes.c_void_p()
    pq = ctypes.c_void_p()
    calls = [0]

    def on_progress(p, _ud):
        calls[0] += 1
        if progress is not None:
            progress.update(_progress_fields(p))
        return 1 if cancel_after is not None and calls[0] >= cancel_after else 0

    cb = PROGRESS(on_progress)
    try:
        scfg = ctypes.c_void_p()
        _check(L.hoist_store_config_new(ctypes.byref(scfg)))
        try:
            for k, v in (store_opts or {}).items():
                if isinstance(v, str):
                    _check(L.hoist_store_config_set_str(scfg, STOREOPT[k], v.encode()))
                else:
                    _check(L.hoist_store_config_set_int(scfg, STOREOPT[k], int(v)))
            _check(L.hoist_store_new(scfg, ctypes.byref(store)))
        finally:
            L.hoist_store_config_free(scfg)
        _check(L.hoist_write_config_new(ctypes.byref(cfg)))
        if partition_by:
            arr = (ctypes.c_char_p * len(partition_by))(*[p.encode() for p in partition_by])
            _check(L.hoist_write_config_set_partition_by(cfg, arr, len(partition_by)))
        for k, v in opts.items():
            if isinstance(v, str):
                _check(L.hoist_write_config_set_str(cfg, WOPT[k], v.encode()))
            else:
                _check(L.hoist_write_config_set_int(cfg, WOPT[k], int(v)))
        if parquet:
            _check(L.hoist_pq_write_options_new(ctypes.byref(pq)))
            for k, v in parquet.items():
                if isinstance(v, str):
                    _check(L.hoist_pq_write_options_set_str(pq, PQOPT[k], v.encode()))
                else:
                    _check(L.hoist_pq_write_options_set_int(pq, PQOPT[k], int(v)))
            _check(L.hoist_write_config_set_parquet_options(cfg, pq))
        _check(L.hoist_write_config_set_progress(cfg, cb, None))
        out = ctypes.c_void_p()
        _check(L.hoist_write_dataset(store, url.encode(), ctypes.addressof(cstream), cfg, ctypes.byref(out)))
        text = ctypes.string_at(out.value).decode()
        L.hoist_free(out)
        return text
    finally:
        L.hoist_pq_write_options_free(pq)
        L.hoist_write_config_free(cfg)
        L.hoist_store_free(store)
