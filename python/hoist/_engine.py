"""What the engine adapters (hoist.ray, hoist.dask, hoist.spark) share:
planning a read (schema and shards from one open of the dataset), filter
literals in hoist's filter language, and the commit protocol of a write made
by many tasks.

The multi-task commit (docs/scaling-out.md "Writing"):

1. ``begin`` (driver): a write id, and the ``existing`` check done once.
2. ``write_part`` (each task, any process): ``hoist.write_table`` of the
   task's data under the destination with ``manifest=False`` and file names
   ``part-<write id>-<task>-<attempt>-<n>.parquet``; each task's own write is
   all or nothing, and it returns its manifest (file list, rows, schema).
3. ``commit`` (driver, after every task succeeded): one ``_SUCCESS`` listing
   exactly the files of the successful attempts; files of the write id that
   it does not list (a lost or retried attempt) are deleted.
4. ``abort`` (driver, when the job failed): every object of the write id is
   deleted; no ``_SUCCESS`` is written.

Readers that follow the manifest (hoist) see the old dataset or the new one,
never a part. Credentials never travel in these objects: workers find them
the way any hoist call does (environment, profile, instance role); only the
non-secret store settings (endpoint, region, profile name) are carried.
"""
from __future__ import annotations

import datetime
import decimal
import json
import os
import re
import secrets
import tempfile
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

    def _rel(self, url: str) -> str:
        return url[len(self.root) + 1:]

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
    def write_part(self, data: Any, task: Any) -> Dict[str, Any]:
        """Writes one task's data (any Arrow stream producer); returns its
        manifest (a small dict) for the driver."""
        from .write import write_table

        if self.write_id is None:
            raise RuntimeError("DatasetCommit.write_part before begin()")
        # The attempt tag keeps a retried task's files apart from the first
        # attempt's, which may still be running or may have written some.
        template = "part-%s-%s-%s-{n}.parquet" % (self.write_id, task, secrets.token_hex(3))
        res = write_table(data, self.root + "/", partition_by=self.partition_by, existing="append",
                          manifest=False, name_template=template, **self.write_options, **self.store)
        m = dict(res.manifest)
        # In append mode the C writer lists an old _SUCCESS's files in the
        # manifest it returns; this task reports only its own.
        mine = "part-%s-" % self.write_id
        m["files"] = [f for f in m.get("files", []) if os.path.basename(f["path"]).startswith(mine)]
        return m

    # -- driver: after every task succeeded ---------------------------------
    def _template(self, schema: Any) -> Dict[str, Any]:
        """A manifest without files for a job whose tasks wrote nothing: the
        C writer's own, from an empty table of the schema."""
        import pyarrow as pa

        from .write import write_table

        if schema is None:
            schema = pa.schema([])
        with tempfile.TemporaryDirectory(prefix="hoist-manifest-") as d:
            res = write_table(schema.empty_table(), os.path.join(d, "t"), partition_by=self.partition_by,
                              **{k: v for k, v in self.write_options.items() if k == "lineage"})
            return dict(res.manifest)

    def commit(self, parts: Sequence[Optional[Dict[str, Any]]], schema: Any = None) -> "Any":
        """Publishes the files the tasks reported (``parts``: their
        ``write_part`` results) with one ``_SUCCESS``; returns a
        ``hoist.WriteResult``."""
        from .write import WriteResult

        parts = [p for p in parts if p]
        files: List[Dict[str, Any]] = []
        for p in parts:
            files.extend(p.get("files", []))
        manifest = dict(parts[0]) if parts else self._template(schema)
        st = self._client()
        listed = {f["path"] for f in files}
        mine = "part-%s-" % self.write_id
        before = self._list(st)
        # Files of this write that no successful attempt reported.
        stray = [u for u in before if os.path.basename(u).startswith(mine) and self._rel(u) not in listed]
        old = self._old_manifest(st) if self.existing != "error" else None
        replaced: List[str] = []
        written_dirs = {os.path.dirname(p) for p in listed}
        if old is not None:
            # append keeps every old file; overwrite those outside the
            # partitions this job wrote (none, unpartitioned), as the C writer.
            kept = [f for f in old.get("files", []) if self.existing == "append"
                    or (self.partition_by and os.path.dirname(f["path"]) not in written_dirs)]
            files = kept + files
        if self.existing == "overwrite":
            keep = {f["path"] for f in files}
            for u in before:
                rel = self._rel(u)
                if rel == "_SUCCESS" or rel in keep or os.path.basename(u).startswith(mine):
                    continue
                if not self.partition_by or os.path.dirname(rel) in written_dirs:
                    replaced.append(u)
        manifest["write_id"] = self.write_id
        manifest["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        manifest["files"] = files
        manifest["rows"] = sum(int(f.get("rows", 0)) for f in files)
        manifest["bytes"] = sum(int(f.get("bytes", 0)) for f in files)
        opts = dict(manifest.get("options", {}))
        opts["existing"] = self.existing
        manifest["options"] = opts
        if stray:
            st.delete_many(stray)
        text = json.dumps(manifest, indent=1)
        ((status, err),) = st.put_many([(self.root + "/_SUCCESS", text.encode(), None, "application/json", None)])
        if status != 0:
            from .exceptions import DatasetError

            raise DatasetError("%s/_SUCCESS: the manifest could not be written: %s (nothing is published; the "
                               "engine's abort deletes the job's files)" % (self.root, err), status=status)
        # Published. The old objects of the replaced partitions go last, as
        # the C writer does: a failure here leaves extra, unlisted objects.
        if replaced:
            st.delete_many(replaced)
        return WriteResult(self.root, manifest)

    def _old_manifest(self, st: "_hoist.Store") -> Optional[Dict[str, Any]]:
        """The previous _SUCCESS (append/overwrite keep some of its files), or None."""
        ((status, _err, data, _size, _start, _info),) = st.get_many(
            [(self.root + "/_SUCCESS", 0, -1, False)], None, _hoist.RETURN_MISSING)
        if status != 0 or data is None:
            return None
        try:
            m = json.loads(bytes(memoryview(data)))
        except ValueError:
            return None
        return m if isinstance(m, dict) and m.get("format") == "hoist-manifest" else None

    # -- driver: the job failed ----------------------------------------------
    def abort(self) -> int:
        """Deletes every object of this write id; returns how many."""
        if self.write_id is None:
            return 0
        st = self._client()
        mine = "part-%s-" % self.write_id
        doomed = [u for u in self._list(st) if os.path.basename(u).startswith(mine)]
        if doomed:
            st.delete_many(doomed)
        return len(doomed)
