"""hoist: move tables between S3 and in-memory Apache Arrow at the speed of the hardware."""

from ._hoist import version as _c_version

__version__ = _c_version()

__all__ = ["__version__"]

# Tables (docs/python.md "Tables").
from .exceptions import (DatasetError, DatasetExistsError, DatasetNotFoundError,  # noqa: E402
                         DatasetPermissionError, DatasetValueError)
from .table import Scanner, Shard, Table, load_table, scan, shards  # noqa: E402
from . import features  # noqa: E402

__all__ += ["Table", "Shard", "Scanner", "load_table", "scan", "shards", "features", "DatasetError",
            "DatasetValueError", "DatasetNotFoundError", "DatasetPermissionError", "DatasetExistsError"]
from .parquet import ParquetError, ParquetTable, read_parquet  # noqa: E402
__all__ += ["read_parquet", "ParquetTable", "ParquetError"]
from .csv import CsvError, read_csv, write_csv  # noqa: E402
__all__ += ["read_csv", "write_csv", "CsvError"]

# Object store: the metaflow.S3 API (docs/python.md "hoist.S3").
from .exceptions import (AccessDeniedError, AlreadyExistsError, CorruptDataError,  # noqa: E402
                         InternalError, InvalidInputError, LocalIOError, NotFoundError,
                         ParquetColumnError, ParquetNotFoundError, RemoteError, TransientError,
                         UnsupportedError)
__all__ += ["NotFoundError", "AccessDeniedError", "InvalidInputError", "CorruptDataError",
            "TransientError", "UnsupportedError", "AlreadyExistsError", "LocalIOError", "RemoteError",
            "InternalError", "ParquetNotFoundError", "ParquetColumnError"]
from .exceptions import (HoistError, MetaflowS3AccessDenied, MetaflowS3Exception,  # noqa: E402
                         MetaflowS3InvalidObject, MetaflowS3InvalidRange, MetaflowS3NotFound,
                         MetaflowS3URLException, S3AccessDenied, S3BucketNotFound, S3CredentialsError,
                         S3Error, S3InvalidObject, S3InvalidRange, S3NotFound, S3ObjectExists, S3URLError)
from .s3 import S3, RangeInfo, S3GetObject, S3Object, S3PutObject  # noqa: E402
__all__ += ["S3", "S3Object", "S3GetObject", "S3PutObject", "RangeInfo", "HoistError", "S3Error",
            "S3NotFound", "S3BucketNotFound", "S3AccessDenied", "S3CredentialsError", "S3URLError",
            "S3InvalidObject", "S3InvalidRange", "S3ObjectExists", "MetaflowS3Exception",
            "MetaflowS3NotFound", "MetaflowS3AccessDenied", "MetaflowS3URLException",
            "MetaflowS3InvalidObject", "MetaflowS3InvalidRange"]

# Writing tables (docs/python.md "Writing tables").
from .write import PendingWrite, WriteResult, abort_pending, commit_pending, write_dataset, write_table  # noqa: E402
__all__ += ["write_table", "write_dataset", "WriteResult", "PendingWrite", "commit_pending", "abort_pending"]

# SQL over datasets on DuckDB, CTAS (docs/sql.md); duckdb is imported on first use.
from .sql import CTASResult, SQLError, ctas, sql  # noqa: E402
__all__ += ["sql", "ctas", "SQLError", "CTASResult"]
from . import iceberg  # noqa: E402  (imports pyiceberg only when used)
__all__ += ["iceberg"]
