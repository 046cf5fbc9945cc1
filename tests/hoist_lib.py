"""What the tests' ctypes bindings of libhoist share: where the library is
(next to the CLI the tests run, so both come from one build), the error type,
and the Arrow C data interface structs."""
import ctypes
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


class HoistError(Exception):
    def __init__(self, status, message):
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message


def open_lib():
    """Loads build/libhoist.so from HOIST_CLI's directory (default build/);
    the caller declares the argtypes of the calls it makes."""
    cli = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    L = ctypes.CDLL(str(pathlib.Path(cli).parent / "libhoist.so"))
    L.hoist_errmsg.restype = ctypes.c_char_p
    return L


def binding(declare):
    """A lib() that opens the library on first use and runs declare(L) on it
    once: importing a binding needs no build, only calling it does."""
    cache = []

    def lib():
        if not cache:
            L = open_lib()
            declare(L)
            cache.append(L)
        return cache[0]
    return lib


class ArrowArrayStream(ctypes.Structure):
    _fields_ = [("get_schema", ctypes.c_void_p), ("get_next", ctypes.c_void_p),
                ("get_last_error", ctypes.c_void_p), ("release", ctypes.c_void_p),
                ("private_data", ctypes.c_void_p)]


class ArrowArray(ctypes.Structure):
    _fields_ = [("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
                ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64), ("buffers", ctypes.c_void_p),
                ("children", ctypes.c_void_p), ("dictionary", ctypes.c_void_p), ("release", ctypes.c_void_p),
                ("private_data", ctypes.c_void_p)]


class ArrowSchema(ctypes.Structure):
    _fields_ = [("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_char_p),
                ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64), ("children", ctypes.c_void_p),
                ("dictionary", ctypes.c_void_p), ("release", ctypes.c_void_p), ("private_data", ctypes.c_void_p)]
