"""hoist: move tables between S3 and in-memory Apache Arrow at the speed of the hardware."""

# Every public name resolves on first use (PEP 562 module __getattr__):
# `import hoist` loads neither the submodules nor the C extension, whose
# import links 45 shared libraries (libcurl, OpenSSL, the codecs, ...) and
# took ~110 ms of a cold process with the submodules. A program pays for the
# parts it touches: hoist.read_parquet loads _hoist, parquet and exceptions.
import importlib as _importlib
import sys as _sys
import types as _types

# name -> the submodule defining it, in the docs' order (docs/python.md)
_EXPORTS = {}


def _export(module, *names):
    for name in names:
        _EXPORTS[name] = module


# Tables (docs/python.md "Tables").
_export("table", "Table", "Shard", "Scanner", "load_table", "scan", "shards")
_export("exceptions", "DatasetError", "DatasetValueError", "DatasetNotFoundError", "DatasetPermissionError",
        "DatasetExistsError")
_export("parquet", "read_parquet", "ParquetTable", "ParquetError")
_export("csv", "read_csv", "write_csv", "CsvError")
# Object store: the metaflow.S3 API (docs/python.md "hoist.S3").
_export("exceptions", "NotFoundError", "AccessDeniedError", "InvalidInputError", "CorruptDataError",
        "TransientError", "UnsupportedError", "AlreadyExistsError", "LocalIOError", "RemoteError", "InternalError",
        "ParquetNotFoundError", "ParquetColumnError")
_export("s3", "S3", "S3Object", "S3GetObject", "S3PutObject", "RangeInfo")
_export("exceptions", "HoistError", "S3Error", "S3NotFound", "S3BucketNotFound", "S3AccessDenied",
        "S3CredentialsError", "S3URLError", "S3InvalidObject", "S3InvalidRange", "S3ObjectExists",
        "MetaflowS3Exception", "MetaflowS3NotFound", "MetaflowS3AccessDenied", "MetaflowS3URLException",
        "MetaflowS3InvalidObject", "MetaflowS3InvalidRange")
# Writing tables (docs/python.md "Writing tables").
_export("write", "write_table", "write_dataset", "WriteResult", "PendingWrite", "commit_pending", "abort_pending")
# SQL over datasets on DuckDB, CTAS (docs/sql.md); duckdb is imported on first use.
_export("sql", "sql", "ctas", "SQLError", "CTASResult")

# Submodules that are public names themselves (iceberg imports pyiceberg only
# when used), and those `import hoist` used to load, whose attribute access
# (hoist.s3, hoist.table, hoist._hoist, ...) keeps working.
_SUBMODULES = ("features", "iceberg", "exceptions", "table", "parquet", "csv", "s3", "write", "sql", "_hoist")

__all__ = ["__version__", "Table", "Shard", "Scanner", "load_table", "scan", "shards", "features"]
__all__ += [n for n in _EXPORTS if n not in __all__]
__all__ += ["iceberg"]


def __getattr__(name):
    if name == "__version__":
        from ._hoist import version
        value = version()
    elif name in _EXPORTS:
        value = getattr(_importlib.import_module("." + _EXPORTS[name], __name__), name)
    elif name in _SUBMODULES:
        value = _importlib.import_module("." + name, __name__)
    else:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


class _Package(_types.ModuleType):
    def __setattr__(self, name, value):
        # Loading the submodule hoist.sql binds it here as "sql", over the
        # public function of that name (the eager imports rebound it).
        if isinstance(value, _types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __reduce__(self):
        # Pickled by name, as pickle and cloudpickle do a plain module: their
        # module reducers are looked up by exact type and miss this subclass,
        # so an engine's task that refers to hoist (Spark, Ray, Dask pickle
        # closures) could not be sent.
        return (_importlib.import_module, (self.__name__,))


_sys.modules[__name__].__class__ = _Package


# For type checkers and IDEs, which do not run __getattr__ (never executed).
if False:  # pragma: no cover
    from . import features, iceberg  # noqa: F401
    from .csv import CsvError, read_csv, write_csv  # noqa: F401
    from .exceptions import (AccessDeniedError, AlreadyExistsError, CorruptDataError, DatasetError,  # noqa: F401
                             DatasetExistsError, DatasetNotFoundError, DatasetPermissionError, DatasetValueError,
                             HoistError, InternalError, InvalidInputError, LocalIOError, MetaflowS3AccessDenied,
                             MetaflowS3Exception, MetaflowS3InvalidObject, MetaflowS3InvalidRange,
                             MetaflowS3NotFound, MetaflowS3URLException, NotFoundError, ParquetColumnError,
                             ParquetNotFoundError, RemoteError, S3AccessDenied, S3BucketNotFound,
                             S3CredentialsError, S3Error, S3InvalidObject, S3InvalidRange, S3NotFound,
                             S3ObjectExists, S3URLError, TransientError, UnsupportedError)
    from .parquet import ParquetError, ParquetTable, read_parquet  # noqa: F401
    from .s3 import S3, RangeInfo, S3GetObject, S3Object, S3PutObject  # noqa: F401
    from .sql import CTASResult, SQLError, ctas, sql  # noqa: F401
    from .table import Scanner, Shard, Table, load_table, scan, shards  # noqa: F401
    from .write import (PendingWrite, WriteResult, abort_pending, commit_pending, write_dataset,  # noqa: F401
                        write_table)
    __version__: str
