"""hoist: move tables between S3 and in-memory Apache Arrow at the speed of the hardware."""

from ._hoist import version as _c_version

__version__ = _c_version()

__all__ = ["__version__"]

# Tables (docs/python.md "Tables").
from ._hoist import (DatasetError, DatasetNotFoundError, DatasetPermissionError,  # noqa: E402
                     DatasetValueError)
from .table import Scanner, Shard, Table, load_table, scan, shards  # noqa: E402
from . import features  # noqa: E402

__all__ += ["Table", "Shard", "Scanner", "load_table", "scan", "shards", "features", "DatasetError",
            "DatasetValueError", "DatasetNotFoundError", "DatasetPermissionError"]
from .parquet import ParquetError, ParquetTable, read_parquet  # noqa: E402
__all__ += ["read_parquet", "ParquetTable", "ParquetError"]
