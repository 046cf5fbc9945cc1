"""Tables: load a (partitioned) Parquet dataset from S3 or local files into Arrow
memory held by hoist, and hand it to any Arrow consumer without a copy.

    t = hoist.load_table("s3://bucket/taxi/", columns=["trip_distance", "total_amount"],
                         filter="passenger_count > 1")
    pyarrow.table(t); polars.DataFrame(t); duckdb.sql("select count(*) from t")
    t.to_numpy("trip_distance")

A ``Table`` keeps the record batches exactly as the C loader decoded them.
Every export (``__arrow_c_stream__``) hands out views of those buffers whose
release callbacks only drop a reference, so a Table can be consumed any
number of times and each consumer points at the same bytes.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from . import _hoist

__all__ = ["Table", "Shard", "Scanner", "load_table", "scan", "shards"]

# Arrow format string -> NumPy dtype for the fixed-width types NumPy can view
# in place (same width and bit pattern).
_NUMPY_VIEWABLE = {
    "c": "int8", "C": "uint8", "s": "int16", "S": "uint16", "i": "int32", "I": "uint32",
    "l": "int64", "L": "uint64", "e": "float16", "f": "float32", "g": "float64",
    "tdm": "datetime64[ms]", "tDs": "timedelta64[s]", "tDm": "timedelta64[ms]",
    "tDu": "timedelta64[us]", "tDn": "timedelta64[ns]",
}


def _numpy_dtype(fmt: str) -> Optional[str]:
    if fmt in _NUMPY_VIEWABLE:
        return _NUMPY_VIEWABLE[fmt]
    if fmt.startswith("ts") and len(fmt) >= 4 and fmt[3] == ":":
        unit = {"s": "s", "m": "ms", "u": "us", "n": "ns"}.get(fmt[2])
        # A zone makes NumPy's naive datetime64 misleading; let pyarrow decide.
        if unit and fmt[4:] == "":
            return "datetime64[%s]" % unit
    return None


class Table:
    """Arrow record batches in hoist's C memory.

    Implements the Arrow PyCapsule interface (``__arrow_c_stream__``,
    ``__arrow_c_schema__``), so ``pyarrow.table(t)``, ``polars.DataFrame(t)``,
    ``polars.from_arrow(t)`` and ``duckdb.sql("... from t")`` import it without
    copying; ``to_numpy(column)`` views a numeric column in place when it is one
    chunk without nulls.
    """

    __slots__ = ("_data", "_stats", "__weakref__")

    def __init__(self, data: "_hoist.TableData", stats: Optional[Dict[str, Any]] = None):
        if not isinstance(data, _hoist.TableData):
            raise TypeError("Table(): use hoist.load_table() or Table.from_arrow(); got %s" % type(data).__name__)
        self._data = data
        self._stats = stats

    @property
    def load_stats(self) -> Optional[Dict[str, Any]]:
        """What loading cost, from the C loader: files, files_pruned (by
        partition values, never opened), row_groups, row_groups_pruned, pages_skipped, rows_skipped_by_page_index,
        dataset_bytes, bytes_fetched, requests, rows, output_bytes,
        peak_pipeline_bytes, list/footer/download/decode/scan seconds. None
        for a table made with ``from_arrow``."""
        return dict(self._stats) if self._stats is not None else None

    @classmethod
    def from_arrow(cls, obj: Any) -> "Table":
        """Takes the batches of any Arrow stream producer (a pyarrow Table or
        RecordBatchReader, a polars DataFrame, ...) without copying them."""
        return cls(_hoist.TableData.from_stream(obj))

    _from_arrow = from_arrow

    # -- Arrow PyCapsule interface ---------------------------------------
    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._data.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self) -> Any:
        return self._data.__arrow_c_schema__()

    # -- shape -------------------------------------------------------------
    @property
    def num_rows(self) -> int:
        return self._data.num_rows

    @property
    def num_columns(self) -> int:
        return len(self._data.columns)

    @property
    def num_batches(self) -> int:
        return self._data.num_batches

    @property
    def column_names(self) -> List[str]:
        return [name for name, _ in self._data.columns]

    @property
    def schema(self):
        """The schema as a ``pyarrow.Schema`` (needs pyarrow)."""
        import pyarrow as pa

        return pa.schema(self)

    @property
    def nbytes(self) -> int:
        """Bytes of Arrow buffers the table references (as pyarrow counts them)."""
        return self.to_pyarrow().nbytes

    def __len__(self) -> int:
        return self.num_rows

    def __repr__(self) -> str:
        cols = ", ".join("%s: %s" % c for c in self._data.columns)
        return "hoist.Table(%d rows, %d batches; %s)" % (self.num_rows, self.num_batches, cols)

    def __getitem__(self, name: str):
        """A column as a ``pyarrow.ChunkedArray`` (zero-copy), as in the seeds'
        ``table[field].to_numpy()``."""
        return self.to_pyarrow()[name]

    # -- conversions -------------------------------------------------------
    def to_pyarrow(self):
        """A ``pyarrow.Table`` over the same buffers (no copy)."""
        import pyarrow as pa

        # Straight from the C stream: pa.table(self) would first ask whether
        # self is a pandas DataFrame, importing pandas (~0.3 CPU-s, ~30 MB).
        from_stream = getattr(pa.RecordBatchReader, "from_stream", None)
        if from_stream is None:  # pyarrow < 15
            return pa.table(self)
        return from_stream(self).read_all()

    def to_pandas(self, **kwargs: Any):
        """A pandas DataFrame through pyarrow. ``kwargs`` go to
        ``pyarrow.Table.to_pandas``; pass ``types_mapper=pandas.ArrowDtype`` to
        keep every column in Arrow memory (no copy at all). The default
        (NumPy dtypes, ``split_blocks=True``) avoids copies of single-chunk
        numeric columns without nulls."""
        kwargs.setdefault("split_blocks", True)
        return self.to_pyarrow().to_pandas(**kwargs)

    def to_polars(self, rechunk: bool = False):
        """A ``polars.DataFrame`` (``polars.DataFrame(t)``). Polars imports
        fixed-width columns without a copy (one polars chunk per batch);
        ``rechunk=True`` makes every column contiguous (a copy when the table
        has several batches). Note that ``polars.from_arrow(t)`` follows
        polars' rule for stream producers and returns one struct Series
        (``.struct.unnest()`` turns it into this frame)."""
        import polars as pl

        df = pl.DataFrame(self)
        return df.rechunk() if rechunk else df

    def _column_index(self, column: Union[str, int]) -> int:
        cols = self._data.columns
        if isinstance(column, int) and not isinstance(column, bool):
            if not 0 <= column < len(cols):
                raise IndexError("column: %d is out of range (%d columns)" % (column, len(cols)))
            return column
        if not isinstance(column, str):
            raise TypeError("column: expected a name or an index, got %s" % type(column).__name__)
        for i, (name, _) in enumerate(cols):
            if name == column:
                return i
        raise KeyError("column: no column %r (columns: %s)" % (column, ", ".join(n for n, _ in cols)))

    def chunk_info(self, column: Union[str, int]) -> List[Dict[str, Any]]:
        """Per batch: length, offset, null_count and the addresses of the
        column's Arrow buffers (validity first). For checking zero-copy."""
        i = self._column_index(column)
        out = []
        for b in range(self._data.num_batches):
            length, offset, nulls, buffers = self._data.chunk_info(b, i)
            out.append({"length": length, "offset": offset, "null_count": nulls, "buffers": buffers})
        return out

    def to_numpy(self, column: Union[str, int]):
        """The column as a NumPy array.

        A fixed-width numeric (or timestamp/duration) column without nulls is
        viewed in place: a read-only array over hoist's buffer when the table
        is one batch, else one ``numpy.concatenate`` of the in-place chunk
        views. Anything else (nulls, strings, booleans, dates) is converted by
        pyarrow's ``to_numpy(zero_copy_only=False)``."""
        import numpy as np

        i = self._column_index(column)
        name, fmt = self._data.columns[i]
        dtype = _numpy_dtype(fmt)
        infos = [self._data.chunk_info(b, i) for b in range(self._data.num_batches)]
        # A validity bitmap with null_count -1 (unknown) may hide nulls.
        if dtype is None or any(nulls != 0 and validity != 0 for _, _, nulls, (validity, *_) in infos):
            return self.to_pyarrow()[name].to_numpy(zero_copy_only=False)
        dt = np.dtype(dtype)
        views = []
        for b, (length, offset, _, _) in enumerate(infos):
            buf = self._data.buffer(b, i, 1, (offset + length) * dt.itemsize)
            views.append(np.frombuffer(buf, dtype=dt, count=offset + length)[offset:])
        if not views:
            return np.empty(0, dtype=dt)
        if len(views) == 1:
            return views[0]
        return np.concatenate(views)


class Shard:
    """A part of a dataset for one worker, from ``hoist.shards``: data file
    URLs (with a ``#rg=`` row-group selection when a file is split), the bytes
    of their projected column chunks and their rows before filtering. Pass it
    to ``load_table``; it pickles, so it can be a Metaflow ``foreach`` item."""

    __slots__ = ("index", "urls", "nbytes", "num_rows")

    def __init__(self, index: int, urls: Sequence[str], nbytes: int = 0, num_rows: int = 0):
        self.index = index
        self.urls = list(urls)
        self.nbytes = nbytes
        self.num_rows = num_rows

    def __len__(self) -> int:
        return len(self.urls)

    def __iter__(self) -> Iterator[str]:
        return iter(self.urls)

    def __getstate__(self):
        return (self.index, self.urls, self.nbytes, self.num_rows)

    def __setstate__(self, state):
        self.index, self.urls, self.nbytes, self.num_rows = state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shard) and self.__getstate__() == other.__getstate__()

    def __repr__(self) -> str:
        return "hoist.Shard(%d: %d files, %d bytes, %d rows)" % (
            self.index, len(self.urls), self.nbytes, self.num_rows)


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}


def _parse_bytes(value: Union[int, str, None], argname: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise TypeError("%s: expected bytes as an int or a string like '2GiB', got bool" % argname)
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("%s: must be > 0 bytes, got %d" % (argname, value))
        return value
    if isinstance(value, str):
        import re

        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", value)
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError("%s: cannot read %r as a size (e.g. 512MiB, 2GB, 1000000)" % (argname, value))
        n = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
        if n <= 0:
            raise ValueError("%s: must be > 0 bytes, got %r" % (argname, value))
        return n
    raise TypeError("%s: expected bytes as an int or a string like '2GiB', got %s" % (argname, type(value).__name__))


def _urls(url_or_urls: Any) -> List[str]:
    import os

    if isinstance(url_or_urls, Shard):
        urls = list(url_or_urls.urls)
    elif isinstance(url_or_urls, (str, os.PathLike)):
        urls = [os.fspath(url_or_urls)]
    elif isinstance(url_or_urls, (list, tuple)):
        urls = []
        for i, u in enumerate(url_or_urls):
            if isinstance(u, Shard):
                urls.extend(u.urls)
            elif isinstance(u, (str, os.PathLike)):
                urls.append(os.fspath(u))
            else:
                raise TypeError("url_or_urls: item %d is %s, not a URL, path or Shard" % (i, type(u).__name__))
    else:
        raise TypeError("url_or_urls: expected a URL, a path, a list of them or a Shard, got %s"
                        % type(url_or_urls).__name__)
    if not urls:
        raise ValueError("url_or_urls: no URL given (an empty shard?)")
    for u in urls:
        if not isinstance(u, str):
            raise TypeError("url_or_urls: paths must be text, got %s" % type(u).__name__)
    return urls


class _EmptyIcebergScan(Exception):
    """An Iceberg scan that selects no data files (load_table returns an empty table)."""


def _is_iceberg(obj: Any) -> bool:
    """A pyiceberg Table/DataScan or hoist.iceberg's IcebergTable (hoist.iceberg is not imported
    for the others: it is only needed once one is passed)."""
    mod = type(obj).__module__ or ""
    return mod.startswith("pyiceberg.") or (mod == "hoist.iceberg" and type(obj).__name__ == "IcebergTable")


def _open(url_or_urls: Any, columns: Optional[Sequence[str]], filter: Optional[str], sample: Any,
          seed: int, limit: Optional[int], memory_limit: Union[int, str, None], threads: Optional[int],
          **options: Any) -> "_hoist.Dataset":
    if _is_iceberg(url_or_urls):
        # hoist plans the snapshot (src/iceberg; pyiceberg for a DataScan) and loads the files.
        # Their columns are in the files (Iceberg's partition values too): paths are not Hive
        # partitions. The metadata is read with the store settings of the load.
        from .iceberg import plan_files

        for k, v in (getattr(url_or_urls, "store_options", None) or {}).items():
            if options.get(k) is None:  # the catalog's endpoint/region, unless the call gives its own
                options[k] = v
        url_or_urls = plan_files(url_or_urls, columns, filter,
                                 **{k: options.get(k) for k in ("endpoint", "region", "profile")})
        if not url_or_urls:
            raise _EmptyIcebergScan()
        options["hive"] = False
    urls = _urls(url_or_urls)
    if isinstance(columns, str):
        columns = [columns]
    if columns is not None:
        columns = list(columns)
    if filter is not None and not isinstance(filter, str):
        raise TypeError("filter: expected an expression string like \"passenger_count > 1\", got %s"
                        % type(filter).__name__)
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, (int, float)):
            raise TypeError("sample: expected a fraction (float), got %s" % type(sample).__name__)
        if not 0 < sample <= 1:
            raise ValueError("sample: a fraction in (0, 1] is needed, got %r" % (sample,))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError("seed: expected a non-negative int, got %r" % (seed,))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError("limit: expected a row count >= 0, got %r" % (limit,))
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 0):
        raise ValueError("threads: expected a thread count >= 0 (0 = all cores), got %r" % (threads,))
    kw: Dict[str, Any] = dict(columns=columns, filter=filter, seed=seed,
                              memory_limit=_parse_bytes(memory_limit, "memory_limit"), threads=threads or 0)
    if sample is not None:
        kw["sample"] = float(sample)
    if limit is not None:
        kw["limit"] = limit
    fmt = options.pop("format", None)
    csv_opts = options.pop("csv", None)
    if fmt is None:
        fmt = "csv" if csv_opts is not None or all(_looks_like_csv(u) for u in urls) else "parquet"
    if fmt not in ("parquet", "csv"):
        raise ValueError("format: 'parquet' or 'csv', got %r" % (fmt,))
    if fmt == "csv":
        from .csv import _dataset_options

        kw["format"] = 1
        kw["csv"] = _dataset_options(csv_opts)
    elif csv_opts is not None:
        raise ValueError("csv: CSV options need format='csv'")
    known = {"skip_bad", "hive", "partition_types", "endpoint", "region", "profile", "concurrency"}
    for k, v in options.items():
        if k not in known:
            raise TypeError("unexpected keyword argument %r" % k)
        if v is not None:
            kw[k] = v
    return _hoist.Dataset(urls, **kw)


def _looks_like_csv(url: str) -> bool:
    u = url.lower().rstrip("*")  # a glob "x/*.csv*" too
    for z in (".gz", ".gzip", ".zst", ".zstd", ".bz2"):
        if u.endswith(z):
            u = u[:-len(z)]
            break
    return u.endswith((".csv", ".tsv"))


def load_table(url_or_urls: Union[str, Sequence[str], Shard], columns: Optional[Sequence[str]] = None,
               filter: Optional[str] = None, sample: Optional[float] = None,
               memory_limit: Union[int, str, None] = None, threads: Optional[int] = None, *,
               seed: int = 0, limit: Optional[int] = None, skip_bad: bool = False, hive: bool = True,
               partition_types: Optional[Dict[str, str]] = None, endpoint: Optional[str] = None,
               region: Optional[str] = None, profile: Optional[str] = None,
               concurrency: Optional[int] = None, format: Optional[str] = None,
               csv: Optional[Dict[str, Any]] = None) -> Table:
    """Loads a Parquet (or CSV) dataset into a ``hoist.Table``.

    ``url_or_urls``: a prefix (``s3://bucket/taxi/``, ``file:///data/taxi/``, a
    local directory), a file URL, a glob (``s3://b/t/*.parquet``), a list of
    those, a ``Shard`` from ``hoist.shards``, or an Apache Iceberg table or scan of
    pyiceberg's (``catalog.load_table("db.t")``: pyiceberg plans the files, hoist loads
    them; see ``hoist.iceberg``). Hive directories (``month=3/``) become typed partition
    columns.

    ``columns``: names to load (partition columns included); only their
    column chunks are downloaded. ``columns=[]`` loads no column, only the row
    count of what the filter keeps (footers alone on a Hive-partitioned dataset). ``filter``: an expression such as
    ``"passenger_count > 1 AND payment_type IN ('CRD', 'CSH')"``, used to skip
    partitions and row groups and then applied to rows. ``sample``: keep each
    row with this probability (reproducible with ``seed``, however the data
    is sharded). ``memory_limit``: bytes (or ``"2GiB"``) of downloaded but not
    yet decoded data; the default is 1/8 of RAM, at most 256 MiB.
    ``threads``: decoding threads (default: all cores).

    The GIL is released while loading. Errors raise ``hoist.DatasetError``
    subclasses carrying hoist's message (``DatasetValueError`` for a bad
    filter or column, ``DatasetNotFoundError`` for a missing prefix).

    ``format``: ``"parquet"`` or ``"csv"``; None = CSV when every URL ends
    in .csv/.tsv (optionally .gz/.zst/.bz2) or ``csv`` is given. CSV files
    share the schema inferred from the head of the first one; ``csv``: the
    dialect and type options of ``hoist.read_csv`` (``delimiter``,
    ``header``, ``null_values``, ``column_types``, ...; docs/csv.md).
    """
    try:
        ds = _open(url_or_urls, columns, filter, sample, seed, limit, memory_limit, threads, skip_bad=skip_bad,
                   hive=hive, partition_types=partition_types, endpoint=endpoint, region=region, profile=profile,
                   concurrency=concurrency, format=format, csv=csv)
    except _EmptyIcebergScan:
        from .iceberg import projected_schema

        return Table.from_arrow(projected_schema(url_or_urls, columns, endpoint=endpoint, region=region,
                                                 profile=profile).empty_table())
    try:
        data = ds.load()
        stats = ds.stats()
    finally:
        ds.close()
    return Table(data, stats)


class Scanner:
    """Record batches of a dataset as they are decoded (``hoist.scan``).

    Iterate it for ``pyarrow.RecordBatch`` objects, or hand it once to any
    Arrow consumer (``pyarrow.RecordBatchReader.from_stream``, ``polars``,
    ``duckdb``) through ``__arrow_c_stream__``. Each scan is consumed once."""

    def __init__(self, ds: "_hoist.Dataset"):
        self._ds = ds
        self._used = False

    def __arrow_c_schema__(self) -> Any:
        return self._ds.schema()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        if self._used:
            raise ValueError("this scan was already consumed; call hoist.scan() again")
        self._used = True
        return self._ds.scan()

    def __iter__(self):
        import pyarrow as pa

        reader = pa.RecordBatchReader.from_stream(self)
        yield from reader

    @property
    def schema(self):
        import pyarrow as pa

        return pa.schema(self)

    @property
    def stats(self) -> Dict[str, Any]:
        return self._ds.stats()

    def close(self) -> None:
        """Frees the dataset; a stream already handed out stays valid."""
        self._ds.close()

    def __enter__(self) -> "Scanner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def scan(url_or_urls: Union[str, Sequence[str], Shard], columns: Optional[Sequence[str]] = None,
         filter: Optional[str] = None, sample: Optional[float] = None,
         memory_limit: Union[int, str, None] = None, threads: Optional[int] = None, **options: Any) -> Scanner:
    """Like ``load_table`` but streams: returns a ``Scanner`` yielding
    ``pyarrow.RecordBatch`` objects in file then row-group order while later
    batches download and decode (memory stays within ``memory_limit`` plus
    the batches you keep). Takes the same keyword options as ``load_table``."""
    seed = options.pop("seed", 0)
    limit = options.pop("limit", None)
    try:
        return Scanner(_open(url_or_urls, columns, filter, sample, seed, limit, memory_limit, threads, **options))
    except _EmptyIcebergScan:
        from .exceptions import DatasetNotFoundError

        raise DatasetNotFoundError("the Iceberg scan selects no data files (an empty table, or the filter "
                                   "pruned every file): nothing to stream") from None


def shards(url: Union[str, Sequence[str]], n: int, columns: Optional[Sequence[str]] = None,
           filter: Optional[str] = None, split_row_groups: bool = False, **options: Any) -> List[Shard]:
    """Splits a dataset into at most ``n`` shards balanced by bytes, for ``n``
    workers (e.g. Metaflow ``foreach`` branches). Pass the same ``columns`` and
    ``filter`` you will load with, so the balance counts the bytes actually
    fetched and pruned row groups are left out. Deterministic: the same
    dataset and arguments give the same shards. Loading every shard with the
    same ``columns``/``filter`` gives every row exactly once. Whole files go
    to shards unless ``split_row_groups=True`` (then a file may be split
    between row groups; its URL carries ``#rg=...``). Fewer than ``n`` shards
    come back when there are fewer files (row groups)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n: expected an int, got %s" % type(n).__name__)
    if n < 1:
        raise ValueError("n: the number of shards must be >= 1, got %d" % n)
    try:
        ds = _open(url, columns, filter, None, 0, None, None, None, **options)
    except _EmptyIcebergScan:
        return []
    try:
        parts = ds.shards(n, split_row_groups=bool(split_row_groups))
    finally:
        ds.close()
    return [Shard(i, urls, nbytes, rows) for i, (urls, nbytes, rows) in enumerate(parts)]
