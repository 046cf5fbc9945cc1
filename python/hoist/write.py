"""Writing tables: any Arrow stream producer → Parquet on S3 or local disk
(one file, or a Hive-partitioned dataset with a ``_SUCCESS`` manifest).

    res = hoist.write_table(table, "s3://bucket/out/", partition_by=["month"],
                            compression="zstd", lineage={"sql": sql})
    res.paths   # full URLs of the files written
    res.rows, res.bytes, res.write_id, res.manifest

The write is all or nothing (docs/write.md): files stay invisible until the
whole input is written; on an error or Ctrl-C every upload is aborted and
nothing is left. This module checks and names the options; the C library
(hoist_write_dataset) does the work with the GIL released.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _hoist
from .table import _parse_bytes

__all__ = ["write_table", "write_dataset", "WriteResult"]

# Arrow C++'s BloomFilterOptions defaults (what pyarrow uses when only a column is named).
_BLOOM_FPP = 0.05
_BLOOM_NDV = 1 << 20

_ENCODINGS = ("plain", "delta_binary_packed", "delta_length_byte_array", "delta_byte_array",
              "byte_stream_split")
_EXISTING = ("error", "overwrite", "append")


class WriteResult(Mapping):
    """What a write produced: the manifest (the ``_SUCCESS`` object's JSON,
    parsed) plus full URLs. Reads like the manifest dict (``res["files"]``)
    and has attributes for the common fields."""

    __slots__ = ("url", "manifest", "_base")

    def __init__(self, url: str, manifest: Dict[str, Any]):
        #: The destination as given: a dataset directory (no trailing '/') or a file.
        self.url = url
        #: The manifest as a dict (``format``, ``version``, ``write_id``, ``files``, ...).
        self.manifest = manifest
        self._base = url.rsplit("/", 1)[0] if url.endswith(".parquet") else url

    def __getitem__(self, key: str) -> Any:
        return self.manifest[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.manifest)

    def __len__(self) -> int:
        return len(self.manifest)

    @property
    def files(self) -> List[Dict[str, Any]]:
        """Per file: ``path`` (relative to the dataset), ``rows``, ``bytes``,
        ``row_groups``, ``partition`` ({column: value})."""
        return list(self.manifest.get("files", []))

    @property
    def paths(self) -> List[str]:
        """Full URLs (or local paths) of the files, in manifest order."""
        return ["%s/%s" % (self._base, f["path"]) for f in self.manifest.get("files", [])]

    @property
    def rows(self) -> int:
        return int(self.manifest.get("rows", 0))

    @property
    def bytes(self) -> int:
        return int(self.manifest.get("bytes", 0))

    @property
    def write_id(self) -> str:
        return self.manifest.get("write_id", "")

    def __repr__(self) -> str:
        return "hoist.WriteResult(%s: %d files, %d rows, %d bytes, write_id=%s)" % (
            self.url, len(self.manifest.get("files", [])), self.rows, self.bytes, self.write_id)


class _TextProgress:
    """progress=True: one line on stderr, redrawn at most 5 times a second."""

    def __init__(self, url: str):
        self.url = url
        self.t0 = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, rows: int, encoded: int, files: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        self._draw(rows, encoded, files, now)

    def _draw(self, rows: int, encoded: int, files: int, now: float) -> None:
        secs = max(now - self.t0, 1e-9)
        sys.stderr.write("\rhoist write %s: %s rows, %.1f MB encoded (%.1f MB/s), %d files done  "
                         % (self.url, format(rows, ","), encoded / 1e6, encoded / 1e6 / secs, files))
        sys.stderr.flush()
        self.drawn = True

    def finish(self, result: Optional[WriteResult]) -> None:
        if result is not None:
            self._draw(result.rows, result.bytes, len(result.manifest.get("files", [])), time.monotonic())
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _stream_capsule(data: Any) -> Any:
    if hasattr(data, "__arrow_c_stream__"):
        return data.__arrow_c_stream__()
    if hasattr(data, "__arrow_c_array__"):
        # One record batch (a struct array): pyarrow makes it a stream.
        import pyarrow as pa

        batch = pa.record_batch(data)
        return pa.RecordBatchReader.from_batches(batch.schema, [batch]).__arrow_c_stream__()
    raise TypeError("data: expected an Arrow stream or array producer (__arrow_c_stream__ / __arrow_c_array__: a "
                    "pyarrow Table or RecordBatchReader, a polars DataFrame, a duckdb relation, a hoist.Table "
                    "or hoist.scan(...)), got %s" % type(data).__name__)


def _check_bool(value: Any, name: str) -> int:
    if not isinstance(value, bool):
        raise TypeError("%s: expected True or False, got %r" % (name, value))
    return int(value)


def _check_count(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s: expected an int, got %s" % (name, type(value).__name__))
    if value <= 0:
        raise ValueError("%s: must be > 0, got %d" % (name, value))
    return value


def _check_str(value: Any, name: str) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError("%s: expected a str, got %s" % (name, type(value).__name__))
    return value


def _check_mapping(value: Any, name: str) -> Dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("%s: expected a dict {column: ...}, got %s" % (name, type(value).__name__))
    for k in value:
        if not isinstance(k, str):
            raise TypeError("%s: column names must be str, got %r" % (name, k))
    return dict(value)


def _codec(value: Any, level: Any, name: str) -> str:
    """'zstd', ('zstd', 3), None → 'none'; level appended as ':LEVEL'."""
    if isinstance(value, tuple) and len(value) == 2:
        value, level = value
    if value is None:
        value = "none"
    if not isinstance(value, str):
        raise TypeError("%s: expected a codec name such as 'zstd', got %s" % (name, type(value).__name__))
    value = value.lower()
    if value == "uncompressed":  # pyarrow's spelling
        value = "none"
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError("%s: the level must be an int, got %r" % (name, level))
        if ":" in value:
            raise ValueError("%s: give the level once (%r and level %d)" % (name, value, level))
        value = "%s:%d" % (value, level)
    return value


def _parquet_options(compression: Any, compression_level: Any, row_group_size: Any, row_group_bytes: Any,
                     data_page_size: Any, data_page_version: Any, dictionary: Any, statistics: Any,
                     page_index: Any, threads: Any) -> Tuple[List[Tuple[str, Any]], List[str]]:
    opts: List[Tuple[str, Any]] = [("compression", _codec(compression, compression_level, "compression"))]
    n = _check_count(row_group_size, "row_group_size")
    if n is not None:
        opts.append(("row_group_rows", n))
    for name, key, value in (("row_group_bytes", "row_group_bytes", row_group_bytes),
                             ("data_page_size", "page_bytes", data_page_size)):
        if value is not None:
            opts.append((key, _parse_bytes(value, name)))
    version = {1: 1, 2: 2, "1.0": 1, "2.0": 2, "1": 1, "2": 2}.get(data_page_version) \
        if not isinstance(data_page_version, bool) else None
    if version is None:
        raise ValueError("data_page_version: 1 or 2 (or '1.0', '2.0'), got %r" % (data_page_version,))
    opts.append(("data_page_version", version))
    dict_columns: List[str] = []
    if isinstance(dictionary, bool):
        opts.append(("dictionary", int(dictionary)))
    elif isinstance(dictionary, (list, tuple)) and all(isinstance(c, str) for c in dictionary):
        # pyarrow's use_dictionary=[columns]: only those columns.
        opts.append(("dictionary", 0))
        dict_columns = list(dictionary)
    else:
        raise TypeError("dictionary: expected True, False or a list of column names, got %r" % (dictionary,))
    opts.append(("statistics", _check_bool(statistics, "statistics")))
    opts.append(("page_index", _check_bool(page_index, "page_index")))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError("threads: expected a thread count >= 0 (0 = all cores), got %r" % (threads,))
    opts.append(("threads", threads))
    return opts, dict_columns


def _column_options(dict_columns: Sequence[str], column_encoding: Any, column_compression: Any,
                    bloom_filter: Any) -> List[Tuple[str, str, Any]]:
    out: List[Tuple[str, str, Any]] = [(c, "dictionary", 1) for c in dict_columns]
    for col, enc in _check_mapping(column_encoding, "column_encoding").items():
        if not isinstance(enc, str) or enc.lower() not in _ENCODINGS:
            raise ValueError("column_encoding[%r]: one of %s, got %r" % (col, ", ".join(_ENCODINGS), enc))
        out.append((col, "encoding", enc.lower()))
    for col, codec in _check_mapping(column_compression, "column_compression").items():
        out.append((col, "compression", _codec(codec, None, "column_compression[%r]" % col)))
    for col, spec in _check_mapping(bloom_filter, "bloom_filter").items():
        if spec is True:
            fpp, ndv = _BLOOM_FPP, _BLOOM_NDV
        elif isinstance(spec, (int, float)) and not isinstance(spec, bool):
            fpp, ndv = float(spec), _BLOOM_NDV
        elif isinstance(spec, tuple) and len(spec) == 2:
            fpp, ndv = spec
        else:
            raise TypeError("bloom_filter[%r]: expected True, a false-positive rate or (fpp, ndv), got %r"
                            % (col, spec))
        if isinstance(ndv, bool) or not isinstance(ndv, int) or not isinstance(fpp, (int, float)):
            raise TypeError("bloom_filter[%r]: expected (fpp: float, ndv: int), got %r" % (col, spec))
        out.append((col, "bloom_filter", (float(fpp), ndv)))
    return out


def _text(value: Any, name: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise TypeError("%s: expected str, got %s" % (name, type(value).__name__))
    return value


def _write_options(max_rows_per_file: Any, max_bytes_per_file: Any, existing: Any, keep_partition_columns: Any,
                   name_template: Any, memory_limit: Any, max_open_files: Any, manifest: Any,
                   lineage: Any) -> List[Tuple[str, Any]]:
    if existing not in _EXISTING:
        raise ValueError("existing: one of %s, got %r" % (", ".join(map(repr, _EXISTING)), existing))
    opts: List[Tuple[str, Any]] = [("existing", existing),
                                   ("keep_partition_columns", _check_bool(keep_partition_columns,
                                                                          "keep_partition_columns")),
                                   ("manifest", _check_bool(manifest, "manifest"))]
    n = _check_count(max_rows_per_file, "max_rows_per_file")
    if n is not None:
        opts.append(("max_rows_per_file", n))
    if max_bytes_per_file is not None:
        opts.append(("max_bytes_per_file", _parse_bytes(max_bytes_per_file, "max_bytes_per_file")))
    if memory_limit is not None:
        opts.append(("memory_limit", _parse_bytes(memory_limit, "memory_limit")))
    n = _check_count(max_open_files, "max_open_files")
    if n is not None:
        opts.append(("max_open_files", n))
    if _check_str(name_template, "name_template") is not None:
        opts.append(("name_template", name_template))
    if lineage is not None:
        if isinstance(lineage, str):
            text = lineage
        elif isinstance(lineage, Mapping):
            try:
                text = json.dumps(lineage)
            except (TypeError, ValueError) as e:
                raise TypeError("lineage: must be JSON-serialisable: %s" % e) from None
        else:
            raise TypeError("lineage: expected a dict (stored as JSON in the manifest), got %s"
                            % type(lineage).__name__)
        opts.append(("lineage", text))
    return opts


_STORE_STR = ("endpoint", "region", "profile", "addressing")
_STORE_INT = ("concurrency", "part_size", "max_retries", "connect_timeout", "stall_timeout", "min_rate")
_STORE_BOOL = ("no_sign_request", "verify_tls")


def _store_options(options: Dict[str, Any]) -> List[Tuple[str, Any]]:
    out: List[Tuple[str, Any]] = []
    for name, value in options.items():
        if value is None:
            continue
        if name in _STORE_STR:
            out.append((name, _check_str(value, name)))
        elif name in _STORE_INT:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("%s: expected an int >= 0, got %r" % (name, value))
            out.append((name, value))
        elif name in _STORE_BOOL:
            out.append((name, _check_bool(value, name)))
        elif name == "credentials":
            if not isinstance(value, tuple) or len(value) not in (2, 3):
                raise TypeError("credentials: expected (access_key_id, secret_access_key[, session_token])")
            for key, v in zip(("access_key_id", "secret_access_key", "session_token"), value):
                out.append((key, _check_str(v, "credentials")))
        else:
            raise TypeError("write_table() got an unexpected keyword argument %r" % name)
    return out


def write_table(data: Any, url: Union[str, "os.PathLike[str]"], *,
                partition_by: Union[str, Sequence[str], None] = None,
                compression: Optional[str] = "snappy", compression_level: Optional[int] = None,
                row_group_size: Optional[int] = None, row_group_bytes: Union[int, str, None] = None,
                data_page_size: Union[int, str, None] = None, data_page_version: Union[int, str] = 1,
                dictionary: Union[bool, Sequence[str]] = True, statistics: bool = True, page_index: bool = True,
                max_rows_per_file: Optional[int] = None, max_bytes_per_file: Union[int, str, None] = None,
                existing: str = "error", keep_partition_columns: bool = False,
                name_template: Optional[str] = None, memory_limit: Union[int, str, None] = None,
                max_open_files: Optional[int] = None, manifest: bool = True, threads: int = 0,
                column_encoding: Optional[Dict[str, str]] = None,
                column_compression: Optional[Dict[str, Any]] = None,
                bloom_filter: Optional[Dict[str, Any]] = None, metadata: Optional[Dict[str, str]] = None,
                lineage: Optional[Dict[str, Any]] = None,
                progress: Union[None, bool, Callable[[int, int, int], Any]] = None,
                commit: str = "now", write_id: Optional[str] = None,
                endpoint: Optional[str] = None, region: Optional[str] = None, profile: Optional[str] = None,
                **store_options: Any) -> Any:
    """Writes an Arrow table or stream as Parquet and returns a ``WriteResult``.

    ``data``: anything with ``__arrow_c_stream__`` (a pyarrow Table or
    RecordBatchReader, a polars DataFrame, a duckdb relation, a pandas
    DataFrame, a ``hoist.Table``, ``hoist.scan(...)``) or
    ``__arrow_c_array__`` (a record batch). A stream is consumed once, batch
    by batch: memory stays bounded by ``memory_limit`` however large it is.

    ``url``: ``s3://bucket/prefix/``, ``file:///dir/`` or a local directory
    for a dataset (``part-<write_id>-<n>.parquet`` files, Hive directories
    for ``partition_by``, a ``_SUCCESS`` manifest written last); a URL ending
    in ``.parquet`` writes one file.

    Parquet: ``compression`` ("snappy", "zstd", "gzip", "lz4_raw", "brotli",
    None) with ``compression_level``; ``row_group_size`` (rows) and
    ``row_group_bytes``; ``data_page_size``; ``data_page_version`` (1 or 2);
    ``dictionary`` (bool or the columns to dictionary-encode); ``statistics``;
    ``page_index``; ``column_encoding`` {column: "delta_binary_packed", ...};
    ``column_compression`` {column: "zstd" or ("zstd", 9)}; ``bloom_filter``
    {column: fpp or (fpp, ndv) or True}; ``metadata`` {key: value} in each
    file's footer; ``threads`` encoder threads (0 = all cores). Nested
    columns are named by dotted paths ("loc.lat", "tags.list.element").

    Layout: ``partition_by`` (columns of integer, bool, date32 or string
    type; dropped from the files unless ``keep_partition_columns``),
    ``max_rows_per_file`` / ``max_bytes_per_file``, ``name_template`` (with
    ``{n}``, optionally ``{id}``), ``max_open_files``. ``existing``: "error"
    (anything under the destination), "overwrite" (replace the partitions
    written) or "append". ``lineage``: a JSON-serialisable dict stored in
    the manifest. ``manifest=False`` leaves ``_SUCCESS`` out.

    ``commit="defer"`` (one task of a distributed write; docs/write.md,
    "Deferred commit"): the files are written but none is published (S3:
    uncompleted multipart uploads; local: hidden temp files), no existing
    check is made, and a ``hoist.PendingWrite`` is returned instead of a
    ``WriteResult``; ``hoist.commit_pending`` publishes the pending writes of
    all tasks with one ``_SUCCESS``, ``hoist.abort_pending`` discards them.
    ``write_id``: the id in the file names (``{id}``); tasks of one job
    share the driver's.

    ``progress``: ``callable(rows, bytes_encoded, files_done)`` called on the
    writing thread after each batch (raising in it cancels the write and the
    exception propagates), or True for a one-line progress display on stderr.

    Store settings as for ``load_table``: ``endpoint``, ``region``,
    ``profile``, ``concurrency``, ``credentials=(key_id, secret[, token])``,
    ``no_sign_request``, ``verify_tls``, ``part_size``, ``max_retries``,
    ``connect_timeout``, ``stall_timeout``, ``min_rate`` (bytes/s; docs/store.md, Limits), ``addressing``.

    The GIL is released while writing. All or nothing: on an error or
    Ctrl-C (KeyboardInterrupt) no object, file or pending multipart upload
    is left. Errors raise the ``hoist.DatasetError`` family with hoist's
    message and ``.status``: ``DatasetValueError`` for bad options or
    columns; ``existing="error"`` with data there raises status
    ``HOIST_ERR_EXISTS`` (10).
    """
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url:
        raise TypeError("url: expected an s3:// or file:// URL or a local path, got %r" % (url,))
    if "://" not in url:
        url = os.path.abspath(url) + ("/" if url.endswith("/") else "")
    if isinstance(partition_by, str):
        partition_by = [partition_by]
    if partition_by is not None:
        partition_by = list(partition_by)
        for c in partition_by:
            if not isinstance(c, str):
                raise TypeError("partition_by: column names must be str, got %r" % (c,))
    parquet, dict_columns = _parquet_options(compression, compression_level, row_group_size, row_group_bytes,
                                             data_page_size, data_page_version, dictionary, statistics,
                                             page_index, threads)
    columns = _column_options(dict_columns, column_encoding, column_compression, bloom_filter)
    meta = [(_text(k, "metadata key"), _text(v, "metadata[%r]" % k))
            for k, v in _check_mapping(metadata, "metadata").items()]
    write = _write_options(max_rows_per_file, max_bytes_per_file, existing, keep_partition_columns,
                           name_template, memory_limit, max_open_files, manifest, lineage)
    if commit not in ("now", "defer"):
        raise ValueError("commit: 'now' or 'defer', got %r" % (commit,))
    write += [("commit", commit)]
    if _check_str(write_id, "write_id") is not None:
        write.append(("write_id", write_id))
    store = _store_options(dict(store_options, endpoint=endpoint, region=region, profile=profile))
    bar = None
    if progress is True:
        bar = _TextProgress(url)
        progress = bar
    elif progress is False:
        progress = None
    elif progress is not None and not callable(progress):
        raise TypeError("progress: expected a callable(rows, bytes_encoded, files_done) or True")
    stream = _stream_capsule(data)
    result = None
    try:
        text = _hoist.write_dataset(stream, url, partition_by=partition_by, parquet=parquet, columns=columns,
                                    metadata=meta, write=write, store=store, progress=progress)
        if commit == "defer":
            return PendingWrite(text)
        result = WriteResult(url.rstrip("/"), json.loads(text))
    finally:
        if bar is not None:
            bar.finish(result)
    return result


#: The same function, for code that reads better as "write a dataset".
write_dataset = write_table


class PendingWrite:
    """What ``write_table(..., commit="defer")`` returns: the task's files,
    written and not published, described as JSON (the C library's pending
    description: upload ids, part ETags and checksums, rows, partition
    values, schema). Small, picklable, and without any credential: a task
    returns it to its driver, which passes every task's to
    ``hoist.commit_pending`` or ``hoist.abort_pending``."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        #: The description (JSON text, "format": "hoist-pending").
        self.text = text

    def __getstate__(self) -> str:
        return self.text

    def __setstate__(self, state: str) -> None:
        self.text = state

    @property
    def description(self) -> Dict[str, Any]:
        """The description, parsed."""
        return json.loads(self.text)

    @property
    def url(self) -> str:
        return self.description["root"]

    @property
    def write_id(self) -> str:
        return self.description["write_id"]

    @property
    def files(self) -> List[Dict[str, Any]]:
        """Per file: ``path``, ``rows``, ``bytes``, ``row_groups``, ``partition``."""
        return [{k: v for k, v in f.items() if k != "upload"} for f in self.description.get("files", [])]

    @property
    def rows(self) -> int:
        return int(self.description.get("rows", 0))

    def __repr__(self) -> str:
        return "PendingWrite(%s, write_id=%s, %d file(s))" % (self.url, self.write_id, len(self.files))


def _pending_texts(pending: Sequence[Any]) -> List[str]:
    out = []
    for p in pending:
        if isinstance(p, PendingWrite):
            out.append(p.text)
        elif isinstance(p, str):
            out.append(p)
        else:
            raise TypeError("pending: expected hoist.PendingWrite objects, got %s" % type(p).__name__)
    return out


def _dataset_url(url: Any) -> str:
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url:
        raise TypeError("url: expected an s3:// or file:// URL or a local path, got %r" % (url,))
    if "://" not in url:
        url = os.path.abspath(url)
    return url.rstrip("/")


def commit_pending(pending: Sequence[Any], url: Any, existing: str = "error", lineage: Optional[Dict[str, Any]] = None,
                   manifest: bool = True, endpoint: Optional[str] = None, region: Optional[str] = None,
                   profile: Optional[str] = None, **store_options: Any) -> WriteResult:
    """Publishes the pending writes of every task (``PendingWrite`` objects
    of one write id, all under ``url``) with one ``_SUCCESS``, all or
    nothing: if a file cannot be completed, the ones already completed are
    deleted and the rest aborted. ``existing``: "error" (checked by the
    driver before the tasks start, not here), "append" (the old manifest's
    files are kept) or "overwrite" (those of the partitions written are
    replaced and deleted after publishing). Then any other pending upload of
    the write id under ``url`` (a lost task attempt) is aborted. Returns a
    ``WriteResult``."""
    root = _dataset_url(url)
    write = _write_options(None, None, existing, False, None, None, None, manifest, lineage)
    store = _store_options(dict(store_options, endpoint=endpoint, region=region, profile=profile))
    text = _hoist.commit_pending(root, _pending_texts(pending), write=write, store=store)
    return WriteResult(root, json.loads(text))


def abort_pending(pending: Sequence[Any], url: Any, write_id: Optional[str] = None, endpoint: Optional[str] = None,
                  region: Optional[str] = None, profile: Optional[str] = None, **store_options: Any) -> None:
    """Discards pending writes: every upload the ``PendingWrite`` objects
    list, then every pending upload under ``url`` whose name carries
    ``write_id`` (default: theirs) -- tasks that died before reporting.
    Nothing is visible before or after. Raises the first failure after
    trying everything."""
    root = _dataset_url(url)
    store = _store_options(dict(store_options, endpoint=endpoint, region=region, profile=profile))
    _hoist.abort_pending(root, _check_str(write_id, "write_id"), _pending_texts(pending), store=store)
