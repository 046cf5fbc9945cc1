"""What the engine adapters (hoist.ray, hoist.dask, hoist.spark) share:
planning a read (schema and shards from one open of the dataset), filter
literals in hoist's filter language, and the commit protocol of a write made
by many tasks.

The multi-task commit (docs/scaling-out.md "Writing"), built on the C
library's deferred commit (hoist_write_commit_pending, docs/write.md):

1. ``begin`` (driver): a write id, and the ``existing`` check done once.
2. ``write_part`` (each task, any process): ``hoist.write_table`` of the
   task's data under the destination with ``commit="defer"``, the driver's
   write id and file names ``part-<write id>-<task>-<attempt>-<n>.parquet``.
   Nothing is published: every file stays an uncompleted S3 multipart upload
   (a hidden temp file locally). The task returns a ``hoist.PendingWrite``.
3. ``commit`` (driver, after every task succeeded): ``hoist.commit_pending``
   completes every reported upload and writes one ``_SUCCESS``; pending
   uploads of the write id nobody reported (a lost or retried attempt) are
   aborted.
4. ``abort`` (driver, when the job failed): ``hoist.abort_pending`` aborts the
   reported uploads and every pending upload of the write id under the
   destination (ListMultipartUploads), so tasks that died unreported leave
   nothing either. No ``_SUCCESS``, no object.

Race-free by construction: a task never completes anything, so one still
running when the driver aborts cannot make a file visible; its upload was
aborted (it fails on its next part) or, started after the sweep, stays
pending and invisible (see docs/scaling-out.md for the sweep of those).

Readers that follow the manifest (hoist) see the old dataset or the new one,
never a part. Credentials never travel in these objects: workers find them
the way any hoist call does (environment, profile, instance role); only the
non-secret store settings (endpoint, region, profile name) are carried.
"""
from __future__ import annotations

import datetime
import decimal
import os
import re
import secrets
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _hoist
from .table import Shard, _open

# Store settings a task may carry: none of them is a secret.
STORE_KEYS = ("endpoint", "region", "profile", "concurrency")


def store_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """The non-secret store settings among ``options``; anything else is an error."""
    out = {}
    for k, v in options.items():
        if k == "credentials":
            raise TypeError("credentials: the engine adapters never ship secrets inside tasks; give workers "
                            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile, or a role) in their "
                            "environment (docs/scaling-out.md)")
        if k not in STORE_KEYS:
            raise TypeError("unexpected keyword argument %r" % k)
        if v is not None:
            out[k] = v
    return out


# ---------------------------------------------------------------------------
# reading

def plan(url: Any, columns: Optional[Sequence[str]], filter: Optional[str], n: int,
         split_row_groups: bool = True, **store: Any) -> Tuple[Any, List[Shard]]:
    """The dataset's (projected) pyarrow schema and up to ``n`` byte-balanced
    shards, from one listing and one pass over the footers."""
    import pyarrow as pa

    ds = _open(url, columns, filter, None, 0, None, None, None, **store)
    try:
        schema = pa.Schema._import_from_c_capsule(ds.schema())
        parts = ds.shards(max(1, n), split_row_groups=bool(split_row_groups))
    finally:
        ds.close()
    return schema, [Shard(i, urls, nbytes, rows) for i, (urls, nbytes, rows) in enumerate(parts)]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "date", "timestamp"}


def quote_name(name: str) -> Optional[str]:
    """A column name as hoist's filter language spells it, or None."""
    if not isinstance(name, str) or not name:
        return None
    if _IDENT.match(name) and name.lower() not in _KEYWORDS:
        return name
    if '"' in name:
        return None
    return '"%s"' % name


def literal(value: Any) -> Optional[str]:
    """A Python value as a filter literal, or None when the language has no
    exact spelling for it (nulls, NaN, zoned timestamps, bytes, ...)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # NumPy scalars
        try:
            value = value.item()
        except Exception:
            return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, str):
        return "'%s'" % value.replace("'", "''")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            return None
        return "TIMESTAMP '%s'" % value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return "DATE '%s'" % value.isoformat()
    return None


def and_filters(*parts: Optional[str]) -> Optional[str]:
    kept = [p for p in parts if p]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return " AND ".join("(%s)" % p for p in kept)


# ---------------------------------------------------------------------------
# writing

_EXISTING = ("error", "overwrite", "append")


def _new_write_id() -> str:
    return "%s-%s" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), secrets.token_hex(4))


class DatasetCommit:
    """One dataset write made by many tasks, committed once (see the module
    comment). Picklable: it holds the destination, the options and the write
    id, never a client or a secret."""

    def __init__(self, url: Any, partition_by: Optional[Sequence[str]] = None, existing: str = "error",
                 write_options: Optional[Dict[str, Any]] = None, store: Optional[Dict[str, Any]] = None):
        if isinstance(url, os.PathLike):
            url = os.fspath(url)
        if not isinstance(url, str) or not url:
            raise TypeError("url: expected an s3:// or file:// URL or a local path, got %r" % (url,))
        if url.endswith(".parquet"):
            raise ValueError("url: a distributed write makes a dataset directory, not one .parquet file")
        if "://" not in url:
            url = "file://" + os.path.abspath(url)
        if existing not in _EXISTING:
            raise ValueError("existing: one of %s, got %r" % (", ".join(map(repr, _EXISTING)), existing))
        if isinstance(partition_by, str):
            partition_by = [partition_by]
        self.root = url.rstrip("/")
        self.partition_by = list(partition_by) if partition_by else None
        self.existing = existing
        opts = dict(write_options or {})
        for k in ("existing", "manifest", "name_template", "partition_by", "progress", "credentials"):
            if k in opts:
                raise TypeError("%s: not an option of a distributed write (the commit protocol sets it)" % k)
        self.write_options = opts
        self.store = store_options(dict(store or {}))
        self.write_id: Optional[str] = None

    def _client(self) -> "_hoist.Store":
        return _hoist.Store(**{k: v for k, v in self.store.items() if k in ("endpoint", "region", "profile")})

    def _list(self, st: "_hoist.Store") -> List[str]:
        try:
            return [e[0] for e in st.list([self.root + "/"], True) if not e[5]]
        except Exception as e:  # a missing local directory or bucket prefix is empty
            if getattr(e, "status", None) in (_hoist.ERR_NOT_FOUND, _hoist.ERR_S3_NO_SUCH_KEY):
                return []
            raise

    # -- driver: before any task -------------------------------------------
    def begin(self) -> "DatasetCommit":
        from .exceptions import DatasetExistsError

        if self.existing == "error":
            found = self._list(self._client())
            if found:
                raise DatasetExistsError("%s/: %d object(s) exist already, e.g. %s (existing='error'; use "
                                         "'overwrite' or 'append')" % (self.root, len(found), found[0]),
                                         status=_hoist.ERR_EXISTS)
        self.write_id = _new_write_id()
        return self

    # -- each task -----------------------------------------------------------
    def write_part(self, data: Any, task: Any) -> "Any":
        """Writes one task's data (any Arrow stream producer) without
        publishing it; returns its ``hoist.PendingWrite`` for the driver."""
        from .write import write_table

        if self.write_id is None:
            raise RuntimeError("DatasetCommit.write_part before begin()")
        # The attempt tag keeps a retried task's files apart from the first
        # attempt's, which may still be running or may have parked some.
        template = "part-%s-%s-%s-{n}.parquet" % (self.write_id, task, secrets.token_hex(3))
        opts = {k: v for k, v in self.write_options.items() if k != "lineage"}
        return write_table(data, self.root + "/", partition_by=self.partition_by, commit="defer",
                           write_id=self.write_id, name_template=template, **opts, **self.store)

    # -- driver: after every task succeeded ---------------------------------
    def commit(self, parts: Sequence[Any], schema: Any = None) -> "Any":
        """Publishes the files the tasks reported (``parts``: their
        ``write_part`` results) with one ``_SUCCESS``; returns a
        ``hoist.WriteResult``."""
        from .write import commit_pending, write_table

        parts = [p for p in parts if p is not None]
        if not parts:
            # No task reported: an empty table of the schema describes the
            # dataset (a pending write with no file).
            import pyarrow as pa

            if schema is None:
                schema = pa.schema([])
            parts = [write_table(schema.empty_table(), self.root + "/", partition_by=self.partition_by,
                                 commit="defer", write_id=self.write_id, **self.store)]
        return commit_pending(parts, self.root, existing=self.existing, lineage=self.write_options.get("lineage"),
                              **self.store)

    # -- driver: the job failed ----------------------------------------------
    def abort(self, parts: Sequence[Any] = ()) -> None:
        """Discards the reported pending writes and every pending upload of
        this write id under the destination."""
        from .write import abort_pending

        if self.write_id is None:
            return
        abort_pending([p for p in parts if p is not None], self.root, write_id=self.write_id, **self.store)
