"""Parquet → Arrow (docs/parquet.md).

``read_parquet(path_or_bytes, columns=None)`` decodes a whole file with the GIL
released and returns a :class:`ParquetTable`, which any Arrow consumer takes
without a copy through the Arrow PyCapsule interface::

    import pyarrow as pa, hoist
    table = pa.table(hoist.read_parquet("taxi.parquet", columns=["fare"]))
"""

import os

from ._hoist import ParquetTable
from .exceptions import ParquetError
from ._hoist import read_parquet as _read_parquet

__all__ = ["read_parquet", "ParquetTable", "ParquetError"]


def read_parquet(source, columns=None, *, threads=0, verify_crc=True, dictionary=False):
    """Decode a Parquet file.

    source: a local path (str or os.PathLike) or a bytes-like object holding the
    whole file. columns: top-level column names to read (default all).
    threads: decoding threads (0 = all cores, 1 = the calling thread only).
    verify_crc: check page CRCs when the file has them.
    dictionary: return string and binary columns as Arrow dictionary arrays
    (int32 indices), like pyarrow's read_dictionary.
    Raises ParquetError (an OSError) on a malformed, encrypted or unsupported
    file, KeyError for an unknown column.
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if columns is not None:
        if isinstance(columns, str):
            raise TypeError("columns must be a list of names, not a str")
        columns = list(columns)
    return _read_parquet(source, columns, threads, verify_crc, dictionary)
