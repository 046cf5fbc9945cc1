"""ctypes binding of hoist's Parquet encoder (hoist_pq_write_stream) for the
writer tests: a pyarrow table goes in through the Arrow C stream interface,
the file's bytes come back through the sink callback."""
import ctypes

import pyarrow as pa

from hoist_lib import HoistError, binding  # noqa: F401 (tests catch HoistError here)

OPT = {name: i + 1 for i, name in enumerate(
    ["compression", "row_group_rows", "row_group_bytes", "page_bytes", "dict_page_bytes", "dictionary",
     "data_page_version", "statistics", "page_index", "page_crc", "created_by", "threads", "store_arrow_schema"])}

SINK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


def _declare(L):
    L.hoist_pq_write_options_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_pq_write_options_set_str.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
    L.hoist_pq_write_options_set_column_str.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                                        ctypes.c_char_p]
    L.hoist_pq_write_options_set_column_int.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                                        ctypes.c_int64]
    L.hoist_pq_write_options_set_column_encoding.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    L.hoist_pq_write_options_set_column_bloom_filter.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                                 ctypes.c_double, ctypes.c_int64]
    L.hoist_pq_write_options_add_metadata.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    L.hoist_pq_write_options_free.argtypes = [ctypes.c_void_p]
    L.hoist_pq_write_stream.argtypes = [ctypes.c_void_p, ctypes.c_void_p, SINK, ctypes.c_void_p]


lib = binding(_declare)


def _check(status):
    if status != 0:
        raise HoistError(status, lib().hoist_errmsg().decode())


def write(data, encodings=None, column=None, bloom=None, metadata=None, **opts):
    """Writes a pyarrow Table or RecordBatchReader with hoist; returns bytes.
    opts: compression="zstd:3", data_page_version=2, threads=4, ...;
    encodings={"col": "delta_binary_packed"}; column={"col": {"compression": "gzip"}};
    bloom={"col": (fpp, ndv)}; metadata={"k": "v"}."""
    L = lib()
    o = ctypes.c_void_p()
    _check(L.hoist_pq_write_options_new(ctypes.byref(o)))
    try:
        for k, v in opts.items():
            if isinstance(v, str):
                _check(L.hoist_pq_write_options_set_str(o, OPT[k], v.encode()))
            else:
                _check(L.hoist_pq_write_options_set_int(o, OPT[k], int(v)))
        for c, e in (encodings or {}).items():
            _check(L.hoist_pq_write_options_set_column_encoding(o, c.encode(), e.encode()))
        for c, d in (column or {}).items():
            for k, v in d.items():
                if isinstance(v, str):
                    _check(L.hoist_pq_write_options_set_column_str(o, c.encode(), OPT[k], v.encode()))
                else:
                    _check(L.hoist_pq_write_options_set_column_int(o, c.encode(), OPT[k], int(v)))
        for c, (fpp, ndv) in (bloom or {}).items():
            _check(L.hoist_pq_write_options_set_column_bloom_filter(o, c.encode(), fpp, ndv))
        for k, v in (metadata or {}).items():
            _check(L.hoist_pq_write_options_add_metadata(o, k.encode(), v.encode()))
        reader = data if isinstance(data, pa.RecordBatchReader) else pa.RecordBatchReader.from_batches(
            data.schema, data.to_batches())
        stream = ctypes.create_string_buffer(5 * 8)
        reader._export_to_c(ctypes.addressof(stream))
        chunks = []

        def sink(_ud, ptr, n):
            chunks.append(ctypes.string_at(ptr, n))
            return 0

        cb = SINK(sink)
        _check(L.hoist_pq_write_stream(ctypes.addressof(stream), o, cb, None))
        return b"".join(chunks)
    finally:
        L.hoist_pq_write_options_free(o)


def hoist_read(data):
    """Reads Parquet bytes back with hoist's own reader (hoist_pq_reader_stream)."""
    L = lib()
    L.hoist_pq_reader_open_memory.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_uint,
                                              ctypes.c_void_p]
    L.hoist_pq_reader_stream.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                         ctypes.c_size_t, ctypes.c_uint, ctypes.c_void_p]
    L.hoist_pq_reader_close.argtypes = [ctypes.c_void_p]
    buf = ctypes.create_string_buffer(bytes(data), len(data))  # borrowed by the reader: kept alive below
    r = ctypes.c_void_p()
    _check(L.hoist_pq_reader_open_memory(buf, len(data), b"written.parquet", 0, ctypes.byref(r)))
    stream = ctypes.create_string_buffer(5 * 8)
    try:
        _check(L.hoist_pq_reader_stream(r, None, 0, None, 0, 1, ctypes.addressof(stream)))
    finally:
        L.hoist_pq_reader_close(r)
    table = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream)).read_all()
    _KEEP.append(buf)  # the stream is released; kept anyway, test files are small
    return table


_KEEP = []
