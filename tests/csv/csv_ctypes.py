"""A thin ctypes binding of hoist's CSV C API for the tests (independent of
the Python package): read_memory / read_file / a streaming reader, each
returning a pyarrow.Table (through the Arrow C stream interface)."""
import ctypes

import pyarrow as pa

from hoist_lib import ArrowArray, ArrowArrayStream, ArrowSchema, HoistError, binding

OPT = dict(delimiter=1, quote=2, escape=3, double_quote=4, header=5, comment=6, skip_bad_rows=7,
           threads=8, strings_can_be_null=9, block_size=10)
LIST = dict(null_values=1, true_values=2, false_values=3, columns=4, column_names=5)


class Stats(ctypes.Structure):
    _fields_ = [("rows", ctypes.c_int64), ("bytes", ctypes.c_uint64), ("bad_rows", ctypes.c_int64),
                ("bad_lines", ctypes.c_uint64 * 8)]


def _declare(L):
    L.hoist_csv_options_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64]
    L.hoist_csv_options_set_strings.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                                ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]
    L.hoist_csv_options_set_column_type.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    L.hoist_csv_options_free.argtypes = [ctypes.c_void_p]
    L.hoist_csv_read_memory.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p,
                                        ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(Stats), ctypes.c_size_t]
    L.hoist_csv_read_file.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ArrowArrayStream),
                                      ctypes.POINTER(Stats), ctypes.c_size_t]
    L.hoist_csv_read_url.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                     ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(Stats), ctypes.c_size_t]
    L.hoist_csv_reader_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    L.hoist_csv_reader_feed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    L.hoist_csv_reader_finish.argtypes = [ctypes.c_void_p]
    L.hoist_csv_reader_schema.argtypes = [ctypes.c_void_p, ctypes.POINTER(ArrowSchema)]
    L.hoist_csv_reader_next.argtypes = [ctypes.c_void_p, ctypes.POINTER(ArrowArray)]
    L.hoist_csv_reader_get_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(Stats), ctypes.c_size_t]
    L.hoist_csv_reader_free.argtypes = [ctypes.c_void_p]


lib = binding(_declare)


def _check(status):
    if status != 0:
        raise HoistError(status, lib().hoist_errmsg().decode(errors="replace"))


def _strs(values):
    arr = (ctypes.c_char_p * max(1, len(values)))(*[v.encode() if isinstance(v, str) else v for v in values])
    return arr, len(values)


def options(**kw):
    """An options handle (caller frees with lib().hoist_csv_options_free)."""
    L = lib()
    o = ctypes.c_void_p()
    _check(L.hoist_csv_options_new(ctypes.byref(o)))
    try:
        for k, v in kw.items():
            if v is None:
                continue
            if k in OPT:
                if isinstance(v, str):
                    v = ord(v) if v else 0
                _check(L.hoist_csv_options_set_int(o, OPT[k], int(v)))
            elif k in LIST:
                arr, n = _strs(list(v))
                _check(L.hoist_csv_options_set_strings(o, LIST[k], arr, n))
            elif k == "column_types":
                for name, t in v.items():
                    _check(L.hoist_csv_options_set_column_type(o, name.encode(), str(t).encode()))
            else:
                raise TypeError(k)
    except Exception:
        L.hoist_csv_options_free(o)
        raise
    return o


def _table(stream):
    reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
    return reader.read_all()


def read_memory(data, stats=None, **kw):
    L = lib()
    o = options(**kw)
    s = ArrowArrayStream()
    st = Stats()
    try:
        _check(L.hoist_csv_read_memory(data, len(data), o, ctypes.byref(s), ctypes.byref(st), ctypes.sizeof(st)))
    finally:
        L.hoist_csv_options_free(o)
    if stats is not None:
        stats.update(rows=st.rows, bad_rows=st.bad_rows, bad_lines=list(st.bad_lines[:min(8, st.bad_rows)]))
    return _table(s)


def read_file(path, stats=None, **kw):
    L = lib()
    o = options(**kw)
    s = ArrowArrayStream()
    st = Stats()
    try:
        _check(L.hoist_csv_read_file(str(path).encode(), o, ctypes.byref(s), ctypes.byref(st), ctypes.sizeof(st)))
    finally:
        L.hoist_csv_options_free(o)
    if stats is not None:
        stats.update(rows=st.rows, bad_rows=st.bad_rows, bad_lines=list(st.bad_lines[:min(8, st.bad_rows)]))
    return _table(s)


def read_url(url, stats=None, **kw):
    """Through a store made from the environment (AWS_ENDPOINT_URL, ...)."""
    L = lib()
    o = options(**kw)
    s = ArrowArrayStream()
    st = Stats()
    try:
        _check(L.hoist_csv_read_url(None, url.encode(), o, ctypes.byref(s), ctypes.byref(st), ctypes.sizeof(st)))
    finally:
        L.hoist_csv_options_free(o)
    if stats is not None:
        stats.update(rows=st.rows, bad_rows=st.bad_rows, bytes=st.bytes)
    return _table(s)


def read_streaming(data, feed_size, **kw):
    """Feeds data in pieces of feed_size bytes; returns the table."""
    L = lib()
    o = options(**kw)
    r = ctypes.c_void_p()
    try:
        _check(L.hoist_csv_reader_new(o, ctypes.byref(r)))
    finally:
        L.hoist_csv_options_free(o)
    batches = []
    try:
        def drain():
            while True:
                a = ArrowArray()
                _check(L.hoist_csv_reader_next(r, ctypes.byref(a)))
                if not a.release:
                    return
                batches.append(a)
        for i in range(0, len(data), feed_size):
            _check(L.hoist_csv_reader_feed(r, data[i:i + feed_size], len(data[i:i + feed_size])))
            drain()
        _check(L.hoist_csv_reader_finish(r))
        drain()
        sch = ArrowSchema()
        _check(L.hoist_csv_reader_schema(r, ctypes.byref(sch)))
        schema = pa.Schema._import_from_c(ctypes.addressof(sch))
        out = [pa.RecordBatch._import_from_c(ctypes.addressof(a), schema) for a in batches]
        batches.clear()
        return pa.Table.from_batches(out, schema=schema)
    finally:
        for a in batches:  # not imported: release through the C callback
            ctypes.CFUNCTYPE(None, ctypes.c_void_p)(a.release)(ctypes.addressof(a))
        L.hoist_csv_reader_free(r)
