"""Apache Iceberg tables through pyiceberg: a real catalog for hoist-written datasets, and
hoist's loader for Iceberg tables.

The seeds register their re-laid taxi data in Glue so that Athena can query it. Here a
catalog of pyiceberg's does that job — by default a ``SqlCatalog`` on a local SQLite file
(embedded, nothing to run), or any catalog pyiceberg supports (REST, Glue, ...) in production:

    cat = hoist.iceberg.catalog("sqlite:////tmp/cat.db", warehouse="s3://b/warehouse")
    res = hoist.write_table(t, "s3://b/nyc_taxi/", partition_by=["month"], keep_partition_columns=True)
    hoist.iceberg.register(cat, "db.nyc_taxi", res)          # no data file is copied or rewritten
    t = hoist.load_table(cat.load_table("db.nyc_taxi"), columns=["fare_amount"], filter="month = 11")

Reading: hoist plans the scan itself (src/iceberg: the metadata JSON, the Avro manifest list and
manifests; partition and column-bound pruning) and loads the planned files with its own
projection, row-group/page pruning and filter. pyiceberg is not imported to read: a catalog made
by ``catalog()`` on SQLite finds a table's metadata file with the standard ``sqlite3`` module, and a
pyiceberg ``Table`` passed in is planned from its ``metadata_location``. A pyiceberg ``DataScan``
(its own filter, snapshot or ref) is still planned by pyiceberg. Tables whose scan carries delete files (merge-on-read deletes) are refused with a clear
error, as are tables whose columns were renamed after files were written (hoist reads columns by
name, Iceberg by field id). ``hoist.ctas(..., catalog=, table=)`` writes a query's result and
makes it an Iceberg table through ``replace``. Writing (register, replace, ctas) and catalogs
other than SQLite need the ``pyiceberg`` package (``hoist[iceberg]``).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .exceptions import AlreadyExistsError, HoistError, InvalidInputError, UnsupportedError

__all__ = ["catalog", "table", "snapshot_id", "register", "replace", "plan_files", "data_files", "load_table", "projected_schema",
           "is_iceberg", "Catalog", "IcebergTable", "IcebergError"]


class IcebergError(HoistError):
    """An Iceberg table hoist cannot register or read as asked; the message says which and why.
    Each is also the matching family (InvalidInputError, UnsupportedError, AlreadyExistsError)."""


class _IcebergInvalid(IcebergError, InvalidInputError):
    pass


class _IcebergUnsupported(IcebergError, UnsupportedError):
    pass


class _IcebergExists(IcebergError, AlreadyExistsError):
    pass


def _pyiceberg():
    try:
        import pyiceberg  # noqa: F401
    except ImportError as e:  # pragma: no cover - the test environment has it
        raise ImportError("hoist.iceberg needs pyiceberg: pip install 'hoist[iceberg]'") from e


def _fileio_properties(endpoint: Optional[str], region: Optional[str], access_key_id: Optional[str],
                       secret_access_key: Optional[str], session_token: Optional[str]) -> Dict[str, str]:
    """pyiceberg FileIO settings for the store hoist talks to. Only what is given (or set in
    the environment hoist reads: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION) is passed;
    credentials otherwise come from pyiceberg's own default chain (environment, profile,
    instance role)."""
    props: Dict[str, str] = {}
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if endpoint:
        props["s3.endpoint"] = endpoint
    if region:
        props["s3.region"] = region
    for key, val in (("s3.access-key-id", access_key_id), ("s3.secret-access-key", secret_access_key),
                     ("s3.session-token", session_token)):
        if val:
            props[key] = val
    return props


def catalog(uri: Optional[str] = None, *, name: str = "hoist", warehouse: Optional[str] = None,
            endpoint: Optional[str] = None, region: Optional[str] = None, access_key_id: Optional[str] = None,
            secret_access_key: Optional[str] = None, session_token: Optional[str] = None,
            **properties: Any):
    """An Iceberg catalog of pyiceberg's ``SqlCatalog``: the embedded default (a ``Catalog``,
    which makes the SqlCatalog on first use, so reading needs no pyiceberg import).

    ``uri`` is a SQLAlchemy URL (``sqlite:////abs/path/catalog.db``; default: the file named by
    ``HOIST_ICEBERG_CATALOG`` or ``~/.cache/hoist/iceberg.db``). ``warehouse`` is where new tables'
    metadata goes (``s3://bucket/warehouse``). The store settings are the ones ``load_table``
    takes; further ``properties`` go to pyiceberg unchanged. For REST, Glue and the other
    catalogs use ``pyiceberg.catalog.load_catalog`` directly: everything here takes any catalog.
    """
    if uri is None:
        path = os.environ.get("HOIST_ICEBERG_CATALOG") or os.path.join(os.path.expanduser("~"), ".cache", "hoist",
                                                                       "iceberg.db")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        uri = "sqlite:///" + os.path.abspath(path)
    props: Dict[str, Any] = {"uri": uri}
    if warehouse:
        props["warehouse"] = warehouse
    props.update(_fileio_properties(endpoint, region, access_key_id, secret_access_key, session_token))
    props.update(properties)
    return Catalog(name, props)


class Catalog:
    """A pyiceberg ``SqlCatalog`` made on first use (``catalog()`` returns one).

    Every attribute is the SqlCatalog's (``load_table``, ``create_table``, ``list_tables``, ...),
    so it goes wherever pyiceberg's catalog does; pyiceberg and SQLAlchemy are imported only when
    one is used. ``table(identifier)`` finds the table's current metadata file without them (a
    SQLite catalog: the ``iceberg_tables`` row pyiceberg's SqlCatalog keeps) and returns a
    handle hoist reads natively.
    """

    def __init__(self, name: str, properties: Dict[str, Any]):
        self.name = name
        self.properties = dict(properties)
        self._sql_catalog = None

    def _catalog(self):
        if self._sql_catalog is None:
            _pyiceberg()
            from pyiceberg.catalog.sql import SqlCatalog

            self._sql_catalog = SqlCatalog(self.name, **self.properties)
        return self._sql_catalog

    def __getattr__(self, attr: str):
        if attr.startswith("__") or attr in ("name", "properties", "_sql_catalog"):
            raise AttributeError(attr)
        return getattr(self._catalog(), attr)

    def __repr__(self) -> str:
        return "hoist.iceberg.Catalog(%r, uri=%r)" % (self.name, self.properties.get("uri"))

    def table(self, identifier: str) -> "IcebergTable":
        """The table ``identifier`` ("namespace.name") at its current metadata, for hoist to read."""
        return table(self, identifier)


class IcebergTable:
    """An Iceberg table hoist reads without pyiceberg: its identifier and current metadata file.
    ``hoist.load_table``/``scan``/``shards`` and ``hoist.sql`` take it like a pyiceberg Table."""

    __slots__ = ("identifier", "metadata_location", "store_options")

    def __init__(self, identifier: str, metadata_location: str, store_options: Optional[Dict[str, str]] = None):
        self.identifier = identifier
        self.metadata_location = metadata_location
        self.store_options = dict(store_options or {})

    def name(self) -> Tuple[str, ...]:
        return tuple(self.identifier.split("."))

    def __repr__(self) -> str:
        return "hoist.iceberg.IcebergTable(%r, %r)" % (self.identifier, self.metadata_location)


def _sqlite_path(uri: Any) -> Optional[str]:
    """The database file of a SQLAlchemy SQLite URL ("sqlite:////abs/path.db", "sqlite:///rel.db"),
    or None for other databases and in-memory SQLite."""
    if not isinstance(uri, str) or not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def _store_options_of(props: Mapping[str, Any]) -> Dict[str, str]:
    """hoist's store settings from a catalog's FileIO properties (endpoint and region only:
    credentials come from the environment or profile, as for load_table)."""
    out = {}
    if props.get("s3.endpoint"):
        out["endpoint"] = str(props["s3.endpoint"])
    if props.get("s3.region"):
        out["region"] = str(props["s3.region"])
    return out


def _metadata_location(path: str, catalog_name: str, identifier: str) -> Optional[str]:
    """The table's current metadata file from a SQLite catalog's ``iceberg_tables`` (the
    layout of pyiceberg's SqlCatalog: catalog_name, table_namespace, table_name,
    metadata_location, and iceberg_type TABLE/VIEW in its v1 schema). None when there is no
    such table."""
    import sqlite3

    if not os.path.exists(path):
        return None
    namespace, _, name = identifier.rpartition(".")
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        key = (catalog_name, namespace, name)
        base = "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? " \
               "AND table_name = ?"
        try:
            row = con.execute(base + " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)", key).fetchone()
        except sqlite3.OperationalError:  # a catalog made before the iceberg_type column
            try:
                row = con.execute(base, key).fetchone()
            except sqlite3.OperationalError:  # no iceberg_tables at all: an empty catalog
                return None
    finally:
        con.close()
    return row[0] if row and row[0] else None


def table(cat: Any, identifier: str) -> Any:
    """The Iceberg table ``identifier`` of ``cat`` for reading with hoist.

    ``cat``: a catalog from ``catalog()``, a pyiceberg ``SqlCatalog`` on SQLite, or the SQLite
    catalog's URL (``sqlite:////path/catalog.db``, the catalog name "hoist"): the table's
    metadata file is looked up with ``sqlite3`` and hoist plans the read itself, without
    importing pyiceberg. Any other catalog (REST, Glue, ...): its ``load_table`` (a pyiceberg
    Table, whose metadata file hoist then reads the same way).
    """
    if not isinstance(identifier, str) or "." not in identifier:
        raise _IcebergInvalid("identifier must be 'namespace.table', got %r" % (identifier,))
    if isinstance(cat, str):
        name, props = "hoist", {"uri": cat}
    elif isinstance(cat, Catalog):
        name, props = cat.name, cat.properties
    elif type(cat).__name__ == "SqlCatalog":
        name, props = cat.name, cat.properties
    else:
        return cat.load_table(identifier)
    path = _sqlite_path(props.get("uri"))
    if path is None:
        if isinstance(cat, str):
            raise _IcebergInvalid("%s: hoist reads SQLite catalogs by URL (sqlite:////path/catalog.db); pass a "
                                  "pyiceberg catalog for others" % cat)
        return (cat if not isinstance(cat, Catalog) else cat._catalog()).load_table(identifier)
    location = _metadata_location(path, name, identifier)
    if location is None:
        from .exceptions import NotFoundError

        class _NoSuchTable(IcebergError, NotFoundError):
            pass

        raise _NoSuchTable("Iceberg table %s does not exist in the catalog %s" % (identifier, props.get("uri")))
    return IcebergTable(identifier, location, _store_options_of(props))


# --------------------------------------------------------------------------------------------
# register: a hoist-written dataset becomes an Iceberg table without rewriting a byte


def _manifest_of(source: Any, options: Dict[str, Any]) -> Tuple[str, Optional[Mapping[str, Any]], List[str]]:
    """(description, manifest or None, file URLs) of a WriteResult, the URL of a dataset
    directory holding hoist's _SUCCESS manifest (read with the store settings), or a list of
    file URLs (no manifest: nothing to check the files against)."""
    from .write import WriteResult

    if isinstance(source, WriteResult):
        return source.url, source.manifest, list(source.paths)
    if isinstance(source, (list, tuple)):
        urls = [str(u) for u in source]
        if not urls:
            raise _IcebergInvalid("register: no files given")
        return urls[0], None, urls
    if not isinstance(source, str):
        raise TypeError("register: source must be a hoist.WriteResult, the URL of a hoist-written dataset or a list "
                        "of file URLs, got %s" % type(source).__name__)
    from .sql import _read_small

    base = source.rstrip("/")
    url = base if "://" in base else "file://" + os.path.abspath(base)
    try:
        raw = _read_small(url + "/_SUCCESS", options)
    except (HoistError, OSError) as e:
        raise _IcebergInvalid("register: %s has no _SUCCESS manifest: only complete hoist writes can be registered "
                              "(%s)" % (source, e)) from None
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        raise _IcebergInvalid("register: %s/_SUCCESS is not a hoist manifest: %s" % (base, e)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != "hoist-manifest":
        raise _IcebergInvalid("register: %s/_SUCCESS is not a hoist manifest (an empty marker of another writer?)"
                              % base)
    return source, manifest, [url + "/" + f["path"] for f in manifest.get("files") or []]


def _arrow_schema(url: str, options: Dict[str, Any]):
    """The Arrow schema of one data file, as hoist reads its footer (no Hive keys: the files
    hold every column Iceberg will know)."""
    from .table import scan

    sc = scan(url, hive=False, **options)
    try:
        return sc.schema
    finally:
        sc.close()


def register(cat: Any, identifier: str, source: Any, partition_by: Union[str, Sequence[str], None] = None, *,
             replace: bool = False, properties: Optional[Dict[str, str]] = None,
             snapshot_properties: Optional[Mapping[str, str]] = None, endpoint: Optional[str] = None,
             region: Optional[str] = None, profile: Optional[str] = None):
    """Registers a complete hoist write as the Iceberg table ``identifier`` ("namespace.name")
    of catalog ``cat`` and returns the pyiceberg ``Table``.

    ``source``: the ``WriteResult`` of ``hoist.write_table``/``write_dataset``/``hoist.ctas``,
    the URL of a dataset directory holding hoist's ``_SUCCESS`` manifest, or a list of file
    URLs. Exactly those files are added (pyiceberg ``add_files``: nothing is copied or
    rewritten); the schema comes from the files, the partition spec is identity on
    ``partition_by`` (default: the write's own). Iceberg reads each file's partition value from
    the file's column statistics, so the write must have kept its partition columns
    (``keep_partition_columns=True``); otherwise this raises before touching the catalog.

    A new table is created in one catalog commit (create + spec + files; the namespace is
    created if missing). An existing one is refused unless ``replace=True`` (or ``replace()``),
    which in one commit widens the schema by name to the files', sets the partition spec,
    drops every current file (metadata only) and adds the new ones: readers of the current
    snapshot see the old rows or the new, never a mix, and time travel keeps the old. The
    snapshot records the source, the write id and the write's lineage. ``endpoint``,
    ``region``, ``profile``: the store settings hoist reads the manifest and footer with.
    """
    _pyiceberg()
    from pyiceberg.exceptions import NoSuchTableError

    if not isinstance(identifier, str) or "." not in identifier:
        raise _IcebergInvalid("register: identifier must be 'namespace.table', got %r" % (identifier,))
    options = {k: v for k, v in (("endpoint", endpoint), ("region", region), ("profile", profile)) if v}
    what, manifest, urls = _manifest_of(source, options)
    if not urls:
        raise _IcebergInvalid("register: %s: no files to register" % what)
    if isinstance(partition_by, str):
        partition_by = [partition_by]
    written_by = list((manifest or {}).get("partition_by") or [])
    cols = list(partition_by) if partition_by is not None else written_by
    kept = bool(((manifest or {}).get("options") or {}).get("keep_partition_columns"))
    if any(c in written_by for c in cols) and not kept:
        raise _IcebergInvalid(
            "register: %s: the files do not hold the partition column(s) %s (written with "
            "keep_partition_columns=False); Iceberg's add_files reads each file's partition value from the "
            "file's own statistics: write with keep_partition_columns=True" % (what, ", ".join(cols)))
    schema = _arrow_schema(urls[0], options)
    missing = [c for c in cols if c not in schema.names]
    if missing:
        raise _IcebergInvalid("register: %s: partition column(s) %s are not in the files (columns: %s); write the "
                              "dataset with keep_partition_columns=True so Iceberg can read each file's partition "
                              "value" % (urls[0], ", ".join(missing), ", ".join(schema.names)))
    props = {"hoist.source": str(what)}
    if manifest is not None:
        props["hoist.write_id"] = str(manifest.get("write_id", ""))
        if manifest.get("lineage"):
            props["hoist.lineage"] = json.dumps(manifest["lineage"], sort_keys=True)
    props.update(snapshot_properties or {})

    cat.create_namespace_if_not_exists(identifier.rsplit(".", 1)[0])
    try:
        table = cat.load_table(identifier)
    except NoSuchTableError:
        table = None
    if table is None:
        txn = cat.create_table_transaction(identifier, schema=schema, properties=properties or {})
        if cols:
            with txn.update_spec() as spec:
                for c in cols:
                    spec.add_identity(c)
        txn.add_files(urls, snapshot_properties=props)
        txn.commit_transaction()
        return cat.load_table(identifier)
    if not replace:
        raise _IcebergExists("register: the Iceberg table %s already exists (replace=True swaps its data for these "
                             "files in one commit)" % identifier)
    from pyiceberg.expressions import AlwaysTrue

    with table.transaction() as txn:
        with txn.update_schema() as upd:
            upd.union_by_name(schema)
        current = [f.name for f in table.spec().fields]
        if current != cols:
            with txn.update_spec() as spec:
                for name in current:
                    spec.remove_field(name)
                for c in cols:
                    spec.add_identity(c)
        txn.delete(AlwaysTrue(), snapshot_properties=props)
        txn.add_files(urls, snapshot_properties=props)
    return cat.load_table(identifier)


def replace(cat: Any, identifier: str, source: Any, partition_by: Union[str, Sequence[str], None] = None,
            **kwargs: Any):
    """CREATE OR REPLACE: ``register(..., replace=True)`` — the table is created, or its data
    swapped for ``source``'s files in one commit. Returns the pyiceberg Table."""
    return register(cat, identifier, source, partition_by, replace=True, **kwargs)


# --------------------------------------------------------------------------------------------
# reading: hoist plans (src/iceberg) and loads; pyiceberg plans only DataScans it was given


def is_iceberg(obj: Any) -> bool:
    """True for hoist's IcebergTable and for a pyiceberg Table or DataScan (duck-typed:
    pyiceberg need not be imported)."""
    if isinstance(obj, IcebergTable):
        return True
    mod = type(obj).__module__ or ""
    return mod.startswith("pyiceberg.") and (hasattr(obj, "scan") or hasattr(obj, "plan_files"))


def _native_location(obj: Any) -> Optional[str]:
    """The metadata file hoist plans ``obj`` from: an IcebergTable's, or a pyiceberg Table's
    (not a DataScan: its filter, snapshot or ref are pyiceberg's to apply). None when hoist's
    store cannot read it (only s3:// and local files)."""
    if isinstance(obj, IcebergTable):
        loc = obj.metadata_location
    elif hasattr(obj, "scan") and hasattr(obj, "metadata_location"):
        loc = obj.metadata_location
    else:
        return None
    if not isinstance(loc, str):
        return None
    if loc.startswith("/"):
        return "file://" + loc
    return loc if loc.startswith(("s3://", "s3a://", "file://")) else None


_STORE_KEYS = ("endpoint", "region", "profile")


def _native_plan(location: str, filter: Optional[str], snapshot_id: Optional[int], options: Mapping[str, Any]):
    """(files [(path, rows, bytes)], schema JSON, stats) of hoist's own planning."""
    from . import _hoist
    from .exceptions import HoistError as _Err

    kw = {k: options[k] for k in _STORE_KEYS if options.get(k)}
    try:
        return _hoist.iceberg_plan(location, filter, -1 if snapshot_id is None else int(snapshot_id), **kw)
    except _Err as e:
        from .exceptions import NotFoundError, UnsupportedError

        if isinstance(e, UnsupportedError) and not isinstance(e, IcebergError):
            raise _IcebergUnsupported(str(e)) from None
        if isinstance(e, NotFoundError) and "snapshot" in str(e):
            raise _IcebergInvalid(str(e)) from None
        raise


def _row_filter(filter: Optional[str]):
    """hoist's filter as a pyiceberg expression for planning (file pruning only: hoist applies
    the exact filter to the rows). A filter pyiceberg's parser does not take prunes nothing."""
    from pyiceberg.expressions import AlwaysTrue

    if not filter:
        return AlwaysTrue()
    try:
        from pyiceberg.expressions.parser import parse

        return parse(filter)
    except Exception:  # a hoist-only construct: plan without it, hoist still filters exactly
        return AlwaysTrue()


def _check_renames(metadata: Any, name: str) -> None:
    """hoist reads columns by name; Iceberg maps them by field id. A field whose name changed
    between schemas would be read wrongly from older files: refuse instead."""
    names: Dict[int, str] = {}
    for schema in metadata.schemas:
        for field in schema.fields:
            old = names.setdefault(field.field_id, field.name)
            if old != field.name:
                raise _IcebergUnsupported("Iceberg table %s: column %r was renamed to %r; hoist reads columns by "
                                          "name and does not map renamed columns yet (read it with pyiceberg, or "
                                          "rewrite the table)" % (name, old, field.name))


def snapshot_id(table: Any, **options: Any) -> Optional[int]:
    """The id of the table's current snapshot (None: no snapshot yet), for lineage."""
    location = _native_location(table) if isinstance(table, IcebergTable) else None
    if location is None:
        snap = table.current_snapshot()
        return snap.snapshot_id if snap is not None else None
    options = dict(table.store_options, **{k: v for k, v in options.items() if v})
    sid = _native_plan(location, "false", None, options)[2]["snapshot_id"]
    return None if sid < 0 else sid


def data_files(table: Any, filter: Optional[str] = None, snapshot_id: Optional[int] = None,
               **options: Any) -> List[str]:
    """The data file URLs of a scan of ``table`` (see ``plan_files``)."""
    return plan_files(table, None, filter, snapshot_id, **options)


def load_table(table: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
               snapshot_id: Optional[int] = None, **options: Any):
    """``hoist.load_table`` of an Iceberg table at its current snapshot or ``snapshot_id``."""
    from .table import load_table as _load_table

    if snapshot_id is not None and _native_location(table) is None:
        table = table.scan(snapshot_id=snapshot_id)
        snapshot_id = None
    if snapshot_id is not None:
        files = plan_files(table, columns, filter, snapshot_id, **options)
        if not files:
            return _empty(table, columns, snapshot_id, options)
        return _load_table(files, columns=columns, filter=filter, hive=False, **options)
    return _load_table(table, columns=columns, filter=filter, **options)


def plan_files(table_or_scan: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
               snapshot_id: Optional[int] = None, **options: Any) -> List[str]:
    """The data files an Iceberg scan must read: planned by hoist from the table's metadata
    file (hoist's IcebergTable, a pyiceberg Table), or by pyiceberg for a DataScan. Snapshot,
    manifests, partition and column-bound pruning. Refuses scans with delete files, data files
    other than Parquet and renamed columns. ``options``: the store settings (endpoint, region,
    profile) the metadata is read with."""
    location = _native_location(table_or_scan)
    if location is not None:
        if isinstance(table_or_scan, IcebergTable):
            options = dict(table_or_scan.store_options, **{k: v for k, v in options.items() if v})
        files, _schema, _stats = _native_plan(location, filter, snapshot_id, options)
        return [f[0] for f in files]
    _pyiceberg()
    if hasattr(table_or_scan, "scan"):  # a Table
        table = table_or_scan
        name, metadata = ".".join(table.name()), table.metadata

        def make_scan(row_filter):
            kw: Dict[str, Any] = {"row_filter": row_filter}
            if columns is not None:
                kw["selected_fields"] = tuple(columns)
            if snapshot_id is not None:
                kw["snapshot_id"] = snapshot_id
            return table.scan(**kw)
    else:  # a DataScan the caller built (its own filter, snapshot, ref)
        if snapshot_id is not None:
            raise _IcebergInvalid("snapshot_id: give it to table.scan(), not with a DataScan")
        name, metadata = "(scan)", table_or_scan.table_metadata

        def make_scan(row_filter):
            return table_or_scan.filter(row_filter)
    _check_renames(metadata, name)
    try:
        tasks = list(make_scan(_row_filter(filter)).plan_files())
    except (ValueError, TypeError):
        # pyiceberg could not bind the filter (a column it does not know, a literal of
        # another type): plan without it; hoist applies the filter and reports such errors
        if not filter:
            raise
        from pyiceberg.expressions import AlwaysTrue

        tasks = list(make_scan(AlwaysTrue()).plan_files())
    with_deletes = [t for t in tasks if t.delete_files]
    if with_deletes:
        raise _IcebergUnsupported(
            "Iceberg scan: %d of %d data files carry delete files (merge-on-read deletes, e.g. %s); hoist does not "
            "apply Iceberg deletes yet: compact the table (rewrite its data files) or read it with pyiceberg"
            % (len(with_deletes), len(tasks), with_deletes[0].file.file_path))
    for t in tasks:
        fmt = str(getattr(t.file.file_format, "value", t.file.file_format)).upper()
        if fmt != "PARQUET":
            raise _IcebergUnsupported("Iceberg scan: %s is %s; hoist reads Parquet data files"
                                      % (t.file.file_path, fmt))
    return [t.file.file_path for t in tasks]


def _arrow_type(t: Any):
    """pyarrow type of an Iceberg schema JSON type, as pyiceberg's ``as_arrow`` maps it."""
    import pyarrow as pa

    if isinstance(t, dict):
        kind = t.get("type")
        if kind == "struct":
            return pa.struct([_arrow_field(f) for f in t["fields"]])
        if kind == "list":
            return pa.large_list(pa.field("element", _arrow_type(t["element"]),
                                          nullable=not t.get("element-required", False)))
        if kind == "map":
            return pa.map_(pa.field("key", _arrow_type(t["key"]), nullable=False),
                           pa.field("value", _arrow_type(t["value"]), nullable=not t.get("value-required", False)))
        raise _IcebergUnsupported("Iceberg type %r is not supported" % (t,))
    simple = {"boolean": pa.bool_(), "int": pa.int32(), "long": pa.int64(), "float": pa.float32(),
              "double": pa.float64(), "date": pa.date32(), "time": pa.time64("us"),
              "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
              "timestamp_ns": pa.timestamp("ns"), "timestamptz_ns": pa.timestamp("ns", tz="UTC"),
              "string": pa.large_string(), "binary": pa.large_binary(), "uuid": pa.uuid()}
    if t in simple:
        return simple[t]
    if t.startswith("decimal("):
        p, sc = (int(x) for x in t[len("decimal("):-1].split(","))
        return pa.decimal128(p, sc)
    if t.startswith("fixed["):
        return pa.binary(int(t[len("fixed["):-1]))
    raise _IcebergUnsupported("Iceberg type %r is not supported" % (t,))


def _arrow_field(f: Mapping[str, Any]):
    import pyarrow as pa

    return pa.field(f["name"], _arrow_type(f["type"]), nullable=not f.get("required", False))


def _empty(table: Any, columns: Optional[Sequence[str]], snapshot_id: Optional[int], options: Mapping[str, Any]):
    from .table import Table

    return Table.from_arrow(projected_schema(table, columns, snapshot_id=snapshot_id, **options).empty_table())


def projected_schema(table_or_scan: Any, columns: Optional[Sequence[str]] = None, snapshot_id: Optional[int] = None,
                     **options: Any):
    """The Arrow schema an Iceberg scan returns (for an empty result)."""
    import pyarrow as pa

    location = _native_location(table_or_scan)
    if location is not None:
        if isinstance(table_or_scan, IcebergTable):
            options = dict(table_or_scan.store_options, **{k: v for k, v in options.items() if v})
        _files, schema_json, _stats = _native_plan(location, None, snapshot_id, options)
        schema = pa.schema([_arrow_field(f) for f in json.loads(schema_json)["fields"]])
    else:
        scan = table_or_scan.scan() if hasattr(table_or_scan, "scan") else table_or_scan
        schema = scan.projection().as_arrow()
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    return schema
