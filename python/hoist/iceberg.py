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
name, Iceberg by field id). Everything here needs the ``pyiceberg`` package (``hoist[iceberg]``).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .exceptions import AlreadyExistsError, InvalidInputError, UnsupportedError

__all__ = ["catalog", "register", "plan_files", "projected_schema", "is_iceberg"]


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


def _manifest_of(source: Any) -> Tuple[str, Mapping[str, Any]]:
    """(dataset base URL, manifest dict) of a WriteResult, a manifest dict with a base URL, or
    the URL of a dataset directory holding hoist's _SUCCESS manifest."""
    from .write import WriteResult

    if isinstance(source, WriteResult):
        return source._base, source.manifest
    if isinstance(source, str):
        from . import S3
        from .exceptions import NotFoundError

        base = source.rstrip("/")
        try:
            if base.startswith("s3://"):
                with S3() as s3:
                    raw = s3.get(base + "/_SUCCESS").blob
            else:
                path = base[len("file://"):] if base.startswith("file://") else base
                with open(os.path.join(path, "_SUCCESS"), "rb") as f:
                    raw = f.read()
        except (NotFoundError, FileNotFoundError) as e:
            raise InvalidInputError("register: %s has no _SUCCESS manifest: only complete hoist writes can be "
                                    "registered (%s)" % (source, e)) from e
        try:
            manifest = json.loads(raw)
        except ValueError as e:
            raise InvalidInputError("register: %s/_SUCCESS is not a hoist manifest: %s" % (base, e)) from e
        if not isinstance(manifest, dict) or manifest.get("format") != "hoist-manifest":
            raise InvalidInputError("register: %s/_SUCCESS is not a hoist manifest (an empty marker of "
                                    "another writer?)" % base)
        return base, manifest
    raise TypeError("register: source must be a hoist.WriteResult or the URL of a hoist-written dataset, got %s"
                    % type(source).__name__)


def _file_urls(base: str, manifest: Mapping[str, Any]) -> List[str]:
    files = manifest.get("files") or []
    if not files:
        raise InvalidInputError("register: %s: the manifest lists no files" % base)
    if base.endswith(".parquet"):  # a single-file write: the manifest lists the file itself
        return [base]
    root = base if "://" in base else "file://" + os.path.abspath(base)
    return [root.rstrip("/") + "/" + f["path"] for f in files]


def _arrow_schema(tbl_io: Any, url: str):
    """The Arrow schema of one data file, read through pyiceberg's FileIO (the same reader
    add_files uses, so what is checked here is what it will see)."""
    import pyarrow.parquet as pq

    with tbl_io.new_input(url).open() as f:
        return pq.read_schema(f)


def register(cat: Any, identifier: str, source: Any, *, partition_by: Optional[Sequence[str]] = None,
             replace: bool = False, snapshot_properties: Optional[Mapping[str, str]] = None):
    """Registers a complete hoist write as the Iceberg table ``identifier`` ("namespace.name")
    of catalog ``cat`` and returns the pyiceberg ``Table``.

    ``source``: the ``WriteResult`` of ``hoist.write_table``/``write_dataset``/``hoist.ctas``, or
    the URL of a dataset directory holding hoist's ``_SUCCESS`` manifest. Exactly the files the
    manifest lists are added (pyiceberg ``add_files``: nothing is copied or rewritten); the
    schema comes from the files, the partition spec is identity on ``partition_by`` (default:
    the write's own ``partition_by``). Iceberg reads each file's partition value from the
    file's column statistics, so the write must have kept its partition columns
    (``keep_partition_columns=True``); otherwise this raises before touching the catalog.

    A new table is created in one catalog commit (create + spec + files). An existing one is
    refused unless ``replace=True``, which swaps its data for these files in one commit
    (readers of the current snapshot see the old files or the new, never a mix; time travel
    keeps the old). The snapshot records the write id and the write's lineage.
    """
    _pyiceberg()
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.expressions import AlwaysTrue

    if not isinstance(identifier, str) or "." not in identifier:
        raise InvalidInputError("register: identifier must be 'namespace.table', got %r" % (identifier,))
    base, manifest = _manifest_of(source)
    urls = _file_urls(base, manifest)
    cols = list(partition_by) if partition_by is not None else list(manifest.get("partition_by") or [])
    kept = bool((manifest.get("options") or {}).get("keep_partition_columns"))
    if cols and not kept and not base.endswith(".parquet"):
        raise InvalidInputError(
            "register: %s: the files do not hold the partition column(s) %s (written with "
            "keep_partition_columns=False); Iceberg's add_files reads each file's partition value from the "
            "file's own statistics: write with keep_partition_columns=True" % (base, ", ".join(cols)))
    props = {"hoist.write_id": str(manifest.get("write_id", ""))}
    if manifest.get("lineage"):
        props["hoist.lineage"] = json.dumps(manifest["lineage"], sort_keys=True)
    props.update(snapshot_properties or {})

    namespace = identifier.rsplit(".", 1)[0]
    cat.create_namespace_if_not_exists(namespace)
    try:
        table = cat.load_table(identifier)
    except NoSuchTableError:
        table = None
    schema = _arrow_schema(table.io if table is not None else cat._load_file_io(location=urls[0]), urls[0])
    missing = [c for c in cols if c not in schema.names]
    if missing:
        raise InvalidInputError("register: %s: partition column(s) %s are not in the files' schema (%s)"
                                % (urls[0], ", ".join(missing), ", ".join(schema.names)))
    if table is None:
        txn = cat.create_table_transaction(identifier, schema=schema)
        if cols:
            with txn.update_spec() as spec:
                for c in cols:
                    spec.add_identity(c)
        txn.add_files(urls, snapshot_properties=props)
        txn.commit_transaction()
        return cat.load_table(identifier)
    if not replace:
        raise AlreadyExistsError("register: the Iceberg table %s already exists (replace=True swaps its data "
                                 "for this write's files in one commit)" % identifier)
    with table.transaction() as txn:
        with txn.update_schema() as upd:
            upd.union_by_name(schema)
        txn.delete(AlwaysTrue(), snapshot_properties=props)
        txn.add_files(urls, snapshot_properties=props)
    return cat.load_table(identifier)


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


def _check_renames(table: Any) -> None:
    """hoist reads columns by name; Iceberg maps them by field id. A field whose name changed
    between schemas would be read wrongly from older files: refuse instead."""
    names: Dict[int, str] = {}
    for schema in table.metadata.schemas:
        for field in schema.fields:
            old = names.setdefault(field.field_id, field.name)
            if old != field.name:
                raise UnsupportedError("Iceberg table %s: column %r was renamed to %r; hoist reads columns by "
                                       "name and does not map renamed columns yet (read it with pyiceberg, or "
                                       "rewrite the table)" % (".".join(table.name()), old, field.name))


def plan_files(table_or_scan: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
               snapshot_id: Optional[int] = None) -> List[str]:
    """The data files an Iceberg scan must read, planned by pyiceberg (snapshot, manifest,
    partition and column-bound pruning). Refuses scans with delete files."""
    _pyiceberg()
    if hasattr(table_or_scan, "scan"):  # a Table
        table = table_or_scan
        kw: Dict[str, Any] = {"row_filter": _row_filter(filter)}
        if columns is not None:
            kw["selected_fields"] = tuple(columns)
        if snapshot_id is not None:
            kw["snapshot_id"] = snapshot_id
        scan = table.scan(**kw)
    else:  # a DataScan the caller built (its own filter, snapshot, ref)
        scan = table_or_scan
        if snapshot_id is not None:
            raise InvalidInputError("snapshot_id: give it to table.scan(), not with a DataScan")
        scan = scan.filter(_row_filter(filter))
        table = None
    if table is not None:
        _check_renames(table)
    tasks = list(scan.plan_files())
    with_deletes = [t for t in tasks if t.delete_files]
    if with_deletes:
        raise UnsupportedError(
            "Iceberg scan: %d of %d data files carry delete files (merge-on-read deletes, e.g. %s); hoist does not "
            "apply Iceberg deletes yet: compact the table (rewrite its data files) or read it with pyiceberg"
            % (len(with_deletes), len(tasks), with_deletes[0].file.file_path))
    for t in tasks:
        fmt = str(getattr(t.file.file_format, "value", t.file.file_format)).upper()
        if fmt != "PARQUET":
            raise UnsupportedError("Iceberg scan: %s is %s; hoist reads Parquet data files" % (t.file.file_path, fmt))
    return [t.file.file_path for t in tasks]


def projected_schema(table_or_scan: Any, columns: Optional[Sequence[str]] = None):
    """The Arrow schema an Iceberg scan returns (for an empty result)."""
    import pyarrow as pa

    scan = table_or_scan.scan() if hasattr(table_or_scan, "scan") else table_or_scan
    schema = scan.projection().as_arrow()
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    return schema
