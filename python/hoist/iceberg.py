"""Apache Iceberg tables for hoist datasets, through pyiceberg (issue 16 section 2, first part).

    from pyiceberg.catalog.sql import SqlCatalog
    cat = SqlCatalog("default", uri="sqlite:////path/catalog.db", warehouse="s3://b/warehouse")
    res = hoist.write_table(t, "s3://b/nyc_taxi/", partition_by="month", keep_partition_columns=True)
    hoist.iceberg.register(cat, "db.nyc_taxi", res, partition_by="month")
    t = hoist.iceberg.load_table(cat.load_table("db.nyc_taxi"), columns=[...], filter="month = 11")

pyiceberg plans (snapshot, partition and manifest pruning); hoist fetches and decodes the
planned data files with its own projection and statistics pruning. Data files are registered
in place (``add_files``: no copy, no rewrite); pyiceberg takes each file's partition value from
its footer statistics, so the files must hold the partition columns
(``keep_partition_columns=True``). Tables with delete files are refused (not applied yet).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Union

from .exceptions import HoistError
from .table import Table, load_table as _load_table, scan as _scan
from .write import WriteResult

__all__ = ["register", "replace", "load_table", "data_files", "IcebergError"]


class IcebergError(HoistError):
    """An Iceberg table hoist cannot read or register as asked (delete files, no partition
    column in the files, ...); the message says which and why."""


def _dataset_paths(dataset: Any, options: Dict[str, Any]) -> List[str]:
    """The data files of a hoist-written dataset: a WriteResult, or the URL of its directory
    (read from its _SUCCESS manifest, so stray files are never registered)."""
    if isinstance(dataset, WriteResult):
        return dataset.paths
    if isinstance(dataset, (list, tuple)):
        return [str(u) for u in dataset]
    if not isinstance(dataset, str):
        raise TypeError("dataset: expected a WriteResult, a dataset URL or a list of file URLs, got %s"
                        % type(dataset).__name__)
    from .sql import _read_small

    base = dataset.rstrip("/")
    try:
        m = json.loads(_read_small(base + "/_SUCCESS", options))
    except (HoistError, OSError, ValueError) as e:
        raise IcebergError("%s: no hoist _SUCCESS manifest to register (%s); pass the WriteResult or the file "
                           "URLs" % (dataset, e)) from None
    return [base + "/" + f["path"] for f in m.get("files", [])]


def register(catalog: Any, identifier: str, dataset: Any, partition_by: Union[str, Sequence[str], None] = None, *,
             properties: Optional[Dict[str, str]] = None, snapshot_properties: Optional[Dict[str, str]] = None,
             endpoint: Optional[str] = None, region: Optional[str] = None, profile: Optional[str] = None) -> Any:
    """Creates the Iceberg table ``identifier`` ("namespace.name") in ``catalog`` over the
    files of a hoist-written dataset, without copying them, and returns the pyiceberg Table.

    The schema is the files' (read by hoist from a footer); ``partition_by`` columns become
    identity partition fields; one transaction creates the table, its spec and the snapshot
    that adds the files, so the table never exists half-registered. The namespace is created
    if missing."""
    options = {k: v for k, v in (("endpoint", endpoint), ("region", region), ("profile", profile)) if v}
    paths = _dataset_paths(dataset, options)
    if not paths:
        raise IcebergError("%s: the dataset has no files to register" % (dataset,))
    if isinstance(partition_by, str):
        partition_by = [partition_by]
    partition_by = list(partition_by or [])
    sc = _scan(paths[0], hive=False, **options)
    try:
        schema = sc.schema
    finally:
        sc.close()
    for col in partition_by:
        if col not in schema.names:
            raise IcebergError("%s: partition column %r is not in the files (columns: %s); write the dataset with "
                               "keep_partition_columns=True so Iceberg can read each file's partition value"
                               % (paths[0], col, ", ".join(schema.names)))
    namespace = identifier.rsplit(".", 1)[0] if "." in identifier else None
    if namespace:
        catalog.create_namespace_if_not_exists(namespace)
    with catalog.create_table_transaction(identifier, schema=schema, properties=properties or {}) as txn:
        if partition_by:
            with txn.update_spec() as spec:
                for col in partition_by:
                    spec.add_identity(col)
        props = {"hoist.source": str(getattr(dataset, "url", dataset))}
        props.update(snapshot_properties or {})
        txn.add_files(paths, snapshot_properties=props)
    return catalog.load_table(identifier)


def replace(catalog: Any, identifier: str, dataset: Any, partition_by: Union[str, Sequence[str], None] = None, *,
            snapshot_properties: Optional[Dict[str, str]] = None, endpoint: Optional[str] = None,
            region: Optional[str] = None, profile: Optional[str] = None) -> Any:
    """CREATE OR REPLACE: registers the dataset's files as the table's new contents. A new
    table is created as ``register`` does; an existing one gets one transaction that widens
    its schema by name to the files' (``union_by_name``), sets the partition spec to
    ``partition_by``, drops every current file (metadata only) and adds the new ones, so
    readers of the current snapshot see the old rows or the new, never a mix. The old
    snapshots stay for time travel until they are expired. Returns the pyiceberg Table."""
    if not catalog.table_exists(identifier):
        return register(catalog, identifier, dataset, partition_by, snapshot_properties=snapshot_properties,
                        endpoint=endpoint, region=region, profile=profile)
    from pyiceberg.expressions import AlwaysTrue

    options = {k: v for k, v in (("endpoint", endpoint), ("region", region), ("profile", profile)) if v}
    paths = _dataset_paths(dataset, options)
    if isinstance(partition_by, str):
        partition_by = [partition_by]
    partition_by = list(partition_by or [])
    sc = _scan(paths[0], hive=False, **options) if paths else None
    schema = sc.schema if sc is not None else None
    if sc is not None:
        sc.close()
    table = catalog.load_table(identifier)
    props = dict(snapshot_properties or {})
    with table.transaction() as txn:
        if schema is not None:
            with txn.update_schema() as us:
                us.union_by_name(schema)
        current = [f.name for f in table.spec().fields]
        if current != partition_by:
            with txn.update_spec() as spec:
                for name in current:
                    spec.remove_field(name)
                for col in partition_by:
                    spec.add_identity(col)
        txn.delete(AlwaysTrue(), snapshot_properties=props)
        if paths:
            txn.add_files(paths, snapshot_properties=props)
    return catalog.load_table(identifier)


def data_files(table: Any, filter: Optional[str] = None, snapshot_id: Optional[int] = None) -> List[str]:
    """The data file URLs pyiceberg plans for a scan (partition and manifest pruning by
    ``filter`` where pyiceberg's parser reads it; all files of the snapshot otherwise).
    Raises ``IcebergError`` when a planned file has delete files."""
    scan = table.scan(snapshot_id=snapshot_id) if snapshot_id is not None else table.scan()
    if filter:
        try:
            scan = scan.filter(filter)
        except Exception:  # hoist's filter language is wider; hoist still applies it exactly
            pass
    out = []
    for task in scan.plan_files():
        if task.delete_files:
            raise IcebergError("%s: %s has %d delete file(s); hoist does not apply Iceberg deletes yet (read it "
                               "with pyiceberg's to_arrow())" % (".".join(table.name()), task.file.file_path,
                                                                 len(task.delete_files)))
        if "PARQUET" not in str(task.file.file_format).upper():
            raise IcebergError("%s: %s is %s; hoist reads Parquet data files" % (
                ".".join(table.name()), task.file.file_path, task.file.file_format))
        out.append(task.file.file_path)
    return out


def load_table(table: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
               snapshot_id: Optional[int] = None, **options: Any) -> Table:
    """Loads an Iceberg table (a pyiceberg Table) into a ``hoist.Table``: pyiceberg plans the
    files of the snapshot (the current one, or ``snapshot_id``), hoist loads them with
    ``columns`` and ``filter`` (hoist's filter language, docs/datasets.md) and the store
    settings in ``options``. Columns are matched by name (a table whose columns were renamed
    after its files were written is not supported yet); an empty plan gives an empty table
    with the table's schema."""
    paths = data_files(table, filter, snapshot_id)
    if not paths:
        import pyarrow as pa

        schema = table.schema().as_arrow()
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])
        return Table.from_arrow(schema.empty_table())
    options.setdefault("hive", False)
    return _load_table(paths, columns=columns, filter=filter, **options)
