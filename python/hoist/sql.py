"""SQL over hoist datasets on an embedded DuckDB, with the scans pushed into hoist's loader,
and CTAS: a query's result written as a hoist dataset with its lineage (docs/sql.md).

    t = hoist.sql("SELECT payment_type, avg(tip_amount) FROM nyc_taxi WHERE month = 11 GROUP BY 1",
                  tables={"nyc_taxi": "s3://b/nyc_taxi/"})
    res = hoist.ctas("SELECT * FROM nyc_taxi WHERE hour(pickup_at) BETWEEN 9 AND 17",
                     output="s3://b/out/", tables={"nyc_taxi": "s3://b/nyc_taxi/"})
    res.sql, res.paths, res.inputs, res.rows, res.bytes, res.timings

How the pushdown works (checked against duckdb 2.0.1, whose Arrow scan is written in
Python, package ``duckdb._sources``): DuckDB's Python entry points accept a
``pyarrow.dataset.Dataset`` and hand it to ``duckdb._sources.adapt``, which returns any
object that already is a ``duckdb._sources.ArrowScanSource`` unchanged. Each table here is
both: a Dataset (an empty ``InMemoryDataset`` carrying the dataset's schema, so DuckDB
binds without reading data) and a source. DuckDB then asks ``accepts(predicate)`` for each
filter it would apply above the scan, and calls ``stream(columns, filters)`` per scan with
the column indexes the query needs and the predicates accepted, as a small typed tree
(``duckdb._sources.nodes``). A predicate is accepted only when it translates into hoist's
filter language with the same result as DuckDB's (see ``_Translator``); hoist then applies
it exactly (partition pruning, row-group and page statistics, then rows), and DuckDB keeps
every other predicate above the scan. Without that module (another duckdb release) the
object is still a Dataset: DuckDB calls ``scanner(columns=, filter=)``, hoist loads just
those columns and pyarrow applies the filter (columns pushed down, filters not).
"""
from __future__ import annotations

import datetime
import decimal
import json
import os
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .exceptions import HoistError
from .table import Table, scan
from .write import WriteResult, write_table

__all__ = ["sql", "ctas", "SQLError", "CTASResult"]

# load_table's store settings, passed through to every scan of every table.
_SCAN_OPTIONS = ("endpoint", "region", "profile", "concurrency", "memory_limit", "threads", "skip_bad", "hive",
                 "partition_types")
_STORE_OPTIONS = ("endpoint", "region", "profile", "concurrency")


class SQLError(HoistError):
    """A query DuckDB refused (syntax, binding, an unknown table or column) or that failed while
    running. The message is DuckDB's, followed by the query; ``.query`` holds the query."""

    def __init__(self, message: str, query: str):
        super().__init__(message)
        self.query = query


def _duckdb():
    try:
        import duckdb
    except ImportError as e:
        raise ImportError("hoist.sql needs the duckdb package (pip install duckdb): %s" % e) from None
    return duckdb


# ---------------------------------------------------------------------------
# Predicates: DuckDB's predicate tree -> hoist's filter language.

# The engine type names (duckdb._sources.nodes.Lit.type) hoist compares exactly as DuckDB does.
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE"}
_TIMESTAMP_TYPES = {"TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP"}
_COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}


class _Untranslatable(Exception):
    pass


class _Translator:
    """Writes a DuckDB predicate tree as a hoist filter, or raises ``_Untranslatable`` where
    hoist's answer could differ from DuckDB's for some row. Refused on purpose:

    - NaN: DuckDB orders NaN above every number and equal to itself, hoist compares it false
      (docs/datasets.md), so on a float column ``>``, ``>=``, ``!=`` and anything under NOT
      are refused (``=``, ``<``, ``<=``, IN are false for NaN in both).
    - zoned timestamps, times, blobs, dictionary-encoded and nested columns, struct fields,
      column names holding a double quote: hoist's literals or types do not cover them.
    Every comparison is of a column with a constant of the column's own type (DuckDB casts
    the constant first), so the literal text carries the exact value.
    """

    def __init__(self, schema: Any):
        self.schema = schema

    def translate(self, node: Any, negated: bool = False) -> str:
        from duckdb._sources.nodes import Binary, Col, In, Lit, Postfix, Unary

        if isinstance(node, Binary) and node.op in ("AND", "OR"):
            return "(%s %s %s)" % (self.translate(node.left, negated), node.op, self.translate(node.right, negated))
        if isinstance(node, Unary) and node.op == "NOT":
            return "(NOT %s)" % self.translate(node.operand, not negated)
        if isinstance(node, Postfix) and node.op in ("IS NULL", "IS NOT NULL") and isinstance(node.operand, Col):
            return "(%s %s)" % (self.column(node.operand)[0], node.op)
        if isinstance(node, Binary) and node.op in _COMPARISONS and isinstance(node.left, Col) \
                and isinstance(node.right, Lit):
            name, kind = self.column(node.left)
            if self.is_float(kind) and (negated or node.op in (">", ">=", "!=")):
                raise _Untranslatable(node)
            return "(%s %s %s)" % (name, node.op, self.literal(node.right, kind))
        if isinstance(node, In) and isinstance(node.operand, Col) and node.values:
            name, kind = self.column(node.operand)
            if self.is_float(kind) and negated:
                raise _Untranslatable(node)
            values = []
            for v in node.values:
                if not isinstance(v, Lit):
                    raise _Untranslatable(node)
                values.append(self.literal(v, kind))
            return "(%s IN (%s))" % (name, ", ".join(values))
        raise _Untranslatable(node)

    @staticmethod
    def is_float(kind: Any) -> bool:
        import pyarrow as pa

        return pa.types.is_floating(kind)

    def column(self, col: Any) -> Tuple[str, Any]:
        import pyarrow as pa

        if len(col.parts) != 1 or '"' in col.parts[0]:
            raise _Untranslatable(col)
        i = self.schema.get_field_index(col.parts[0])
        if i < 0:
            raise _Untranslatable(col)
        kind = self.schema.field(i).type
        ok = (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
              or pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_date32(kind)
              or (pa.types.is_timestamp(kind) and kind.tz is None) or pa.types.is_decimal(kind))
        if not ok:
            raise _Untranslatable(col)
        return '"%s"' % col.parts[0], kind

    @staticmethod
    def literal(lit: Any, kind: Any) -> str:
        v, t = lit.value, lit.type
        if v is None:
            raise _Untranslatable(lit)
        if t == "BOOLEAN" and isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if t in _INTEGER_TYPES and isinstance(v, int) and not isinstance(v, bool):
            # hoist 0.x reads integer literals as int64: a larger one (UBIGINT) matched no row.
            if not -(1 << 63) <= v < (1 << 63):
                raise _Untranslatable(lit)
            return str(v)
        if t in _FLOAT_TYPES and isinstance(v, float) and v == v and abs(v) != float("inf"):
            return repr(v)  # the shortest text that reads back as the same double
        if t == "VARCHAR" and isinstance(v, str):
            if any(ord(c) < 32 for c in v):
                raise _Untranslatable(lit)
            return "'%s'" % v.replace("'", "''")
        if t == "DATE" and isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
            return "DATE '%s'" % v.isoformat()
        if t in _TIMESTAMP_TYPES and isinstance(v, datetime.datetime) and v.tzinfo is None and v.year >= 1:
            return "TIMESTAMP '%s'" % v.strftime("%Y-%m-%d %H:%M:%S.%f")
        if t.startswith("DECIMAL(") and isinstance(v, decimal.Decimal) and v.is_finite():
            return format(v, "f")
        raise _Untranslatable(lit)


# ---------------------------------------------------------------------------
# A hoist dataset as a DuckDB table.


def _source_bases() -> Tuple[type, ...]:
    """duckdb 2.0's scan source class, or nothing on a duckdb without it."""
    try:
        from duckdb._sources import ArrowScanSource

        return (ArrowScanSource,)
    except ImportError:
        return ()


class _Scans:
    """What the scans of one query cost: one entry per stream DuckDB opened (and one for
    reading each table's schema), with hoist's load statistics once the query is done."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: List[Dict[str, Any]] = []

    def add(self, table: str, kind: str, columns: Optional[List[str]], filters: List[str], scanner: Any) -> None:
        with self.lock:
            self.entries.append({"table": table, "kind": kind, "columns": columns,
                                 "filter": " AND ".join(filters) or None, "filters": filters, "_scanner": scanner})

    def finish(self) -> List[Dict[str, Any]]:
        out = []
        with self.lock:
            for e in self.entries:
                sc = e.pop("_scanner", None)
                if sc is not None:
                    try:
                        e["stats"] = sc.stats
                    finally:
                        sc.close()
                out.append(e)
        return out


def _make_dataset_class() -> type:
    import pyarrow.dataset as pads

    class HoistTable(*_source_bases(), pads.InMemoryDataset):  # type: ignore[misc]
        """One table of a query: a ``pyarrow.dataset.Dataset`` (what DuckDB's entry points
        accept) with no rows of its own, and a DuckDB scan source that opens a hoist scan
        with the columns and filters each scan needs."""

        one_shot = False
        schema_is_stable = True
        pull_under_gil = False  # hoist's stream needs no GIL

        def __init__(self, name: str, urls: Any, options: Dict[str, Any], scans: _Scans):
            probe = scan(urls, **options)  # lists and reads footers: the schema without any data
            try:
                schema = probe.schema
            except BaseException:
                probe.close()
                raise
            scans.add(name, "schema", None, [], probe)
            pads.InMemoryDataset.__init__(self, schema.empty_table())
            self.obj = self  # duckdb._sources.Source keeps the object it wraps here
            self._name = name
            self._urls = urls
            self._options = options
            self._scans = scans
            self._arrow_schema = schema
            self._translator = _Translator(schema)

        # -- duckdb._sources.ArrowScanSource ------------------------------------
        def rows(self) -> Optional[int]:
            return None

        def __arrow_c_schema__(self) -> Any:
            return self._arrow_schema.__arrow_c_schema__()

        def accepts(self, predicate: Any) -> bool:
            try:
                self._translator.translate(predicate)
                return True
            except _Untranslatable:
                return False

        def stream(self, columns: Optional[Sequence[int]], filters: Sequence[Any]) -> Tuple[Any, bool]:
            names = self._arrow_schema.names
            # columns == []: batches of row counts only, from the least data hoist can read.
            chosen = None if columns is None else [names[i] for i in columns]
            pushed = [self._translator.translate(f) for f in filters]
            sc = scan(self._urls, columns=chosen, filter=" AND ".join(pushed) or None, **self._options)
            self._scans.add(self._name, "scan", chosen, pushed, sc)
            return sc.__arrow_c_stream__(), chosen is not None

        # -- pyarrow.dataset.Dataset, for a duckdb without duckdb._sources --------
        def scanner(self, columns: Optional[Sequence[str]] = None, filter: Any = None, **kwargs: Any) -> Any:
            import pyarrow as pa

            # A pyarrow expression cannot be read back as a tree, so it is not pushed into
            # hoist; all columns are loaded then so that it can be evaluated.
            chosen = list(columns) if columns is not None and filter is None else None
            sc = scan(self._urls, columns=chosen, **self._options)
            self._scans.add(self._name, "scan", chosen, [], sc)
            reader = pa.RecordBatchReader.from_stream(sc)
            return pads.Scanner.from_batches(reader, columns=list(columns) if columns is not None else None,
                                             filter=filter)

    return HoistTable


_DATASET_CLASS: Optional[type] = None


def _dataset_class() -> type:
    global _DATASET_CLASS
    if _DATASET_CLASS is None:
        _DATASET_CLASS = _make_dataset_class()
    return _DATASET_CLASS


# ---------------------------------------------------------------------------
# Queries.


def _check_tables(tables: Any) -> Dict[str, Any]:
    if tables is None:
        return {}
    if not isinstance(tables, Mapping):
        raise TypeError("tables: expected a dict {name: URL}, got %s" % type(tables).__name__)
    out = {}
    for name, src in tables.items():
        if not isinstance(name, str) or not name:
            raise TypeError("tables: names must be non-empty str, got %r" % (name,))
        if isinstance(src, os.PathLike):
            src = os.fspath(src)
        if isinstance(src, (list, tuple)):
            src = [os.fspath(u) for u in src]
        out[name] = src
    return out


def _resolve_iceberg(tables: Dict[str, Any], catalog: Any) -> Dict[str, Any]:
    """``iceberg://ns.name`` sources become the catalog's tables: for a SQLite catalog
    (``hoist.iceberg.catalog()``'s, a pyiceberg SqlCatalog on SQLite) hoist's own handle, read
    without pyiceberg; for other catalogs the pyiceberg Table (``hoist.iceberg.table``)."""
    out = {}
    for name, src in tables.items():
        if isinstance(src, str) and src.startswith("iceberg://"):
            if catalog is None:
                raise ValueError("tables[%r]: %s needs catalog= (a pyiceberg Catalog)" % (name, src))
            from .iceberg import table

            src = table(catalog, src[len("iceberg://"):])
        out[name] = src
    return out


def _is_iceberg(src: Any) -> bool:
    """A pyiceberg Table or hoist's IcebergTable (duck-typed: pyiceberg is imported only by
    those who use it)."""
    if type(src).__module__ == "hoist.iceberg" and type(src).__name__ == "IcebergTable":
        return True
    return type(src).__module__.startswith("pyiceberg.") and hasattr(src, "scan") and hasattr(src, "metadata")


def _is_url(src: Any) -> bool:
    return isinstance(src, str) or (isinstance(src, list) and all(isinstance(u, str) for u in src))


class _Query:
    """A DuckDB connection with each table registered; used for one statement."""

    def __init__(self, query: str, tables: Dict[str, Any], options: Dict[str, Any], threads: Optional[int]):
        duckdb = _duckdb()
        if not isinstance(query, str) or not query.strip():
            raise TypeError("query: expected SQL text, got %r" % (query,))
        self.query = query
        self.tables = tables
        self.scans = _Scans()
        self.con = duckdb.connect()
        # Only the tables given are visible: without this DuckDB would also resolve names
        # to Python variables of the calling frames.
        self.con.execute("SET python_enable_replacements = false")
        self.con.execute("SET enable_progress_bar = false")  # a library prints nothing
        if threads:
            self.con.execute("SET threads = %d" % int(threads))
        scan_options = {k: v for k, v in options.items() if k in _SCAN_OPTIONS and v is not None}
        cls = _dataset_class()
        self._keep = []
        try:
            for name, src in tables.items():
                if _is_iceberg(src):
                    # hoist plans the snapshot's files (src/iceberg) and reads them (no Hive
                    # directories: Iceberg keeps partition values in the files and metadata)
                    from .iceberg import data_files

                    store = {k: v for k, v in options.items() if k in _STORE_OPTIONS and v is not None}
                    obj = cls(name, data_files(src, **store), dict(scan_options, hive=False), self.scans)
                elif _is_url(src):
                    obj = cls(name, src, scan_options, self.scans)
                else:
                    obj = src
                self._keep.append(obj)
                self.con.register(name, obj)
        except BaseException:
            self.close()
            raise

    def error(self, e: Exception) -> SQLError:
        msg = str(e)
        if "Table with name" in msg and "does not exist" in msg:
            known = ", ".join(sorted(self.tables)) or "none (pass tables={name: URL})"
            msg += "\nknown tables: %s" % known
        return SQLError("%s\nin query: %s" % (msg, self.query.strip()), self.query)

    def relation(self) -> Any:
        duckdb = _duckdb()
        try:
            return self.con.sql(self.query)
        except duckdb.Error as e:
            raise self.error(e) from None

    def close(self) -> List[Dict[str, Any]]:
        scans = self.scans.finish()
        self._keep = []
        self.con.close()
        return scans


def _scan_totals(scans: List[Dict[str, Any]]) -> Dict[str, Any]:
    keys = ("bytes_fetched", "requests", "files", "row_groups", "row_groups_pruned", "rows")
    out: Dict[str, Any] = {k: 0 for k in keys}
    for e in scans:
        for k in keys:
            out[k] += int(e.get("stats", {}).get(k, 0))
    out["dataset_bytes"] = {}
    for e in scans:
        if e["kind"] == "schema":
            out["dataset_bytes"][e["table"]] = e.get("stats", {}).get("dataset_bytes", 0)
    out["scans"] = scans
    return out


def _split_options(options: Dict[str, Any]) -> Dict[str, Any]:
    for k in options:
        if k not in _SCAN_OPTIONS:
            raise TypeError("sql() got an unexpected keyword argument %r (the loader's settings: %s)"
                            % (k, ", ".join(_SCAN_OPTIONS)))
    return options


def sql(query: str, tables: Optional[Mapping[str, Any]] = None, *, catalog: Any = None,
        threads: Optional[int] = None,
        endpoint: Optional[str] = None, region: Optional[str] = None, profile: Optional[str] = None,
        **options: Any) -> Table:
    """Runs a DuckDB SQL query over hoist datasets and returns the result as a ``hoist.Table``.

    ``tables``: {name: source}; a source is a URL, path or glob, or a list of them (what
    ``load_table`` takes), or a pyiceberg Table (its current snapshot's files), read by
    hoist with each scan's columns and filters pushed into the loader; any other Arrow
    object DuckDB can scan (a ``hoist.Table``, a pyarrow Table) is registered as it is.
    ``"iceberg://namespace.name"`` names a table of ``catalog`` (a pyiceberg Catalog).
    Store and loader settings (``endpoint``, ``region``, ``profile``, ``concurrency``,
    ``memory_limit``, ``skip_bad``, ``hive``, ``partition_types``) apply to every table. ``threads``: DuckDB's threads (default: all cores).

    ``load_stats`` of the result: what the scans cost (``bytes_fetched``, ``requests``,
    ``files``, ``row_groups_pruned``; ``scans`` lists each scan's columns, hoist filter and
    statistics). Errors raise ``hoist.SQLError`` with DuckDB's message and the query.
    """
    options = _split_options(dict(options, endpoint=endpoint, region=region, profile=profile))
    q = _Query(query, _resolve_iceberg(_check_tables(tables), catalog), options, threads)
    duckdb = _duckdb()
    t0 = time.monotonic()
    try:
        try:
            result = q.relation().to_arrow_table()
        except duckdb.Error as e:
            raise q.error(e) from None
    finally:
        scans = q.close()
    table = Table.from_arrow(result)
    stats = _scan_totals(scans)
    stats["seconds"] = time.monotonic() - t0
    return Table(table._data, stats)


# ---------------------------------------------------------------------------
# CTAS.


class CTASResult(WriteResult):
    """A ``WriteResult`` (the ``_SUCCESS`` manifest: ``paths``, ``rows``, ``bytes``,
    ``files``, ``write_id``) plus ``sql`` (the query), ``inputs`` (per table: its URL and
    the ETags, sizes of the objects under it when the query started, and the write id of
    its own ``_SUCCESS`` manifest if it has one), ``timings`` (seconds) and ``scans``
    (what each scan fetched). ``sql`` and ``inputs`` are also in the manifest's lineage."""

    __slots__ = ("sql", "inputs", "timings", "scans", "iceberg")

    def __init__(self, base: WriteResult, sql_text: str, inputs: List[Dict[str, Any]], timings: Dict[str, float],
                 scans: Dict[str, Any]):
        super().__init__(base.url, base.manifest)
        self.sql = sql_text
        self.inputs = inputs
        self.timings = timings
        self.scans = scans
        self.iceberg = None

    def __repr__(self) -> str:
        return "hoist.CTASResult(%s: %d files, %d rows, %d bytes, write_id=%s)" % (
            self.url, len(self.files), self.rows, self.bytes, self.write_id)


def _read_small(url: str, options: Dict[str, Any]) -> bytes:
    if url.startswith("file://"):
        with open(url[len("file://"):], "rb") as f:
            return f.read()
    from .s3 import S3

    with S3(**{k: v for k, v in options.items() if k in _STORE_OPTIONS and v is not None}) as s3:
        return s3.get(url, into_memory=True).blob


def _snapshot(name: str, src: Any, options: Dict[str, Any]) -> Dict[str, Any]:
    """The objects a table's URL(s) name now: URL, size, ETag, for the lineage."""
    from .s3 import _store_for

    urls = [src] if isinstance(src, str) else list(src)
    store = _store_for({k: v for k, v in options.items() if k in _STORE_OPTIONS and v is not None})
    prefixes = []
    for u in urls:
        if "://" not in u:
            u = "file://" + os.path.abspath(u) + ("/" if u.endswith("/") or os.path.isdir(u) else "")
        if any(c in u for c in "*?[") or u.endswith(".parquet"):
            u = u.rsplit("/", 1)[0] + "/"  # a glob or a file: its directory (a superset)
        prefixes.append(u if u.endswith("/") else u + "/")
    objects = []
    manifest = None
    for url, prefix, size, _lm, etag, is_prefix in store.list(prefixes, True):
        if is_prefix:
            continue
        rel = url[len(prefix):]
        if rel == "_SUCCESS":
            manifest = {"url": url, "etag": etag}
        if any(seg.startswith(("_", ".")) for seg in rel.split("/")):
            continue
        objects.append({"url": url, "size": size, "etag": etag})
    if manifest is not None:
        # The manifest's write id names the committed version of a hoist-written input.
        try:
            text = _read_small(manifest["url"], options)
            m = json.loads(text)
            if isinstance(m, dict) and m.get("format") == "hoist-manifest":
                manifest["write_id"] = m.get("write_id")
        except (HoistError, OSError, ValueError):
            pass
    return {"table": name, "url": src, "manifest": manifest, "objects": objects}


def ctas(query: str, output: str, *, tables: Optional[Mapping[str, Any]] = None,
         partition_by: Union[str, Sequence[str], None] = None, lineage: Optional[Mapping[str, Any]] = None,
         catalog: Any = None, table: Optional[str] = None,
         threads: Optional[int] = None, endpoint: Optional[str] = None, region: Optional[str] = None,
         profile: Optional[str] = None, **options: Any) -> CTASResult:
    """CREATE TABLE AS SELECT: runs ``query`` as ``hoist.sql`` does and writes its result
    with hoist's dataset writer to ``output`` (all or nothing, a ``_SUCCESS`` manifest
    written last; nothing is left behind if the query or the write fails). The result
    streams from DuckDB into the writer batch by batch.

    ``partition_by``, and the writer's options (``compression``, ``existing``,
    ``row_group_size``, ``max_rows_per_file``, ...) go to ``write_table``; the store
    settings (``endpoint``, ``region``, ``profile``, ...) to both the reads and the write.
    ``lineage``: extra JSON fields for the manifest, next to ``sql`` and ``inputs``.

    With ``catalog`` (a pyiceberg Catalog) and ``table`` ("namespace.name"), the written
    files then become the Iceberg table's contents (``hoist.iceberg.replace``: created, or
    replaced in one transaction), partitioned by identity on ``partition_by``; the files
    keep the partition columns, as Iceberg needs. If that commit fails, the files written
    are deleted. ``CTASResult.iceberg`` is then the pyiceberg Table.
    Returns a ``CTASResult``."""
    if (catalog is None) != (table is None):
        raise TypeError("ctas: catalog= and table= go together (an Iceberg table to create or replace)")
    if catalog is not None:
        options.setdefault("keep_partition_columns", True)
    store_opts = dict(endpoint=endpoint, region=region, profile=profile)
    scan_opts = {k: options.pop(k) for k in list(options) if k in _SCAN_OPTIONS and k not in _STORE_OPTIONS}
    for k in [k for k in options if k in _STORE_OPTIONS]:
        store_opts[k] = options.pop(k)
    if lineage is not None and not isinstance(lineage, Mapping):
        raise TypeError("lineage: expected a dict, got %s" % type(lineage).__name__)
    tables = _resolve_iceberg(_check_tables(tables), catalog)
    duckdb = _duckdb()
    t0 = time.monotonic()
    inputs = [_snapshot(n, s, store_opts) for n, s in tables.items() if _is_url(s)]
    for n, s in tables.items():
        if _is_iceberg(s):
            from .iceberg import snapshot_id

            inputs.append({"table": n, "iceberg": ".".join(s.name()), "metadata_location": s.metadata_location,
                           "snapshot_id": snapshot_id(s, **store_opts)})
    t1 = time.monotonic()
    q = _Query(query, tables, dict(scan_opts, **store_opts), threads)
    t2 = time.monotonic()
    full_lineage = {"sql": query, "inputs": inputs}
    full_lineage.update(lineage or {})
    try:
        rel = q.relation()
        try:
            reader = rel.to_arrow_reader()
        except duckdb.Error as e:
            raise q.error(e) from None
        try:
            res = write_table(reader, output, partition_by=partition_by, lineage=full_lineage, **store_opts,
                              **options)
        except duckdb.Error as e:
            raise q.error(e) from None
    finally:
        scans = q.close()
    t3 = time.monotonic()
    timings = {"snapshot": t1 - t0, "bind": t2 - t1, "query_and_write": t3 - t2}
    iceberg_table = None
    if catalog is not None:
        from .iceberg import replace

        try:
            iceberg_table = replace(catalog, table, res, partition_by,
                                    snapshot_properties={"hoist.sql": query, "hoist.write_id": res.write_id},
                                    **store_opts)
        except BaseException:
            # the dataset was only ever meant as the table's contents: leave nothing behind
            from .s3 import _store_for

            store = _store_for({k: v for k, v in store_opts.items() if v is not None})
            store.delete_many(res.paths + [res.url.rstrip("/") + "/_SUCCESS"])
            raise
        timings["catalog_commit"] = time.monotonic() - t3
    timings["total"] = time.monotonic() - t0
    out = CTASResult(res, query, inputs, timings, _scan_totals(scans))
    out.iceberg = iceberg_table
    return out
