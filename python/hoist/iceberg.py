"""Apache Iceberg tables through pyiceberg: a real catalog for hoist-written datasets, and
hoist's loader for Iceberg tables.

The seeds register their re-laid taxi data in Glue so that Athena can query it. Here a
catalog of pyiceberg's does that job — by default a ``SqlCatalog`` on a local SQLite file
(embedded, nothing to run), or any catalog pyiceberg supports (REST, Glue, ...) in production:

    cat = hoist.iceberg.catalog("sqlite:////tmp/cat.db", warehouse="s3://b/warehouse")
    res = hoist.write_table(t, "s3://b/nyc_taxi/", partition_by=["month"], keep_partition_columns=True)
    hoist.iceberg.register(cat, "db.nyc_taxi", res)          # no data file is copied or rewritten
    t = hoist.load_table(cat.load_table("db.nyc_taxi"), columns=["fare_amount"], filter="month = 11")

Reading: pyiceberg plans the scan (snapshot, manifests, partition and column-bound pruning);
hoist fetches and decodes the planned files with its own projection, row-group/page pruning and
filter. Tables whose scan carries delete files (merge-on-read deletes) are refused with a clear
error, as are tables whose columns were renamed after files were written (hoist reads columns by
name, Iceberg by field id). ``hoist.ctas(..., catalog=, table=)`` writes a query's result and
makes it an Iceberg table through ``replace``. Everything here needs the ``pyiceberg`` package
(``hoist[iceberg]``).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .exceptions import AlreadyExistsError, HoistError, InvalidInputError, UnsupportedError

__all__ = ["catalog", "register", "replace", "plan_files", "data_files", "load_table", "projected_schema",
           "is_iceberg", "IcebergError"]


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
    """An Iceberg catalog of pyiceberg's ``SqlCatalog``: the embedded default.

    ``uri`` is a SQLAlchemy URL (``sqlite:////abs/path/catalog.db``; default: the file named by
    ``HOIST_ICEBERG_CATALOG`` or ``~/.cache/hoist/iceberg.db``). ``warehouse`` is where new tables'
    metadata goes (``s3://bucket/warehouse``). The store settings are the ones ``load_table``
    takes; further ``properties`` go to pyiceberg unchanged. For REST, Glue and the other
    catalogs use ``pyiceberg.catalog.load_catalog`` directly: everything here takes any catalog.
    """
    _pyiceberg()
    from pyiceberg.catalog.sql import SqlCatalog

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
    return SqlCatalog(name, **props)


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
# reading: pyiceberg plans, hoist loads


def is_iceberg(obj: Any) -> bool:
    """True for a pyiceberg Table or DataScan (duck-typed: pyiceberg need not be imported)."""
    mod = type(obj).__module__ or ""
    return mod.startswith("pyiceberg.") and (hasattr(obj, "scan") or hasattr(obj, "plan_files"))


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


def data_files(table: Any, filter: Optional[str] = None, snapshot_id: Optional[int] = None) -> List[str]:
    """The data file URLs pyiceberg plans for a scan of ``table`` (see ``plan_files``)."""
    return plan_files(table, None, filter, snapshot_id)


def load_table(table: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
               snapshot_id: Optional[int] = None, **options: Any):
    """``hoist.load_table`` of an Iceberg table at its current snapshot or ``snapshot_id``."""
    from .table import load_table as _load_table

    src = table.scan(snapshot_id=snapshot_id) if snapshot_id is not None else table
    return _load_table(src, columns=columns, filter=filter, **options)


def plan_files(table_or_scan: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
               snapshot_id: Optional[int] = None) -> List[str]:
    """The data files an Iceberg scan must read, planned by pyiceberg (snapshot, manifest,
    partition and column-bound pruning). Refuses scans with delete files."""
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


def projected_schema(table_or_scan: Any, columns: Optional[Sequence[str]] = None):
    """The Arrow schema an Iceberg scan returns (for an empty result)."""
    import pyarrow as pa

    scan = table_or_scan.scan() if hasattr(table_or_scan, "scan") else table_or_scan
    schema = scan.projection().as_arrow()
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    return schema
