"""hoist.S3: the metaflow.S3 API on libhoist's object store client.

Same names, arguments, results and exceptions as ``metaflow.S3`` (see
docs/python.md), with these differences, each a fix:

- No per-call process start-up: every call runs in-process in C, with the GIL
  released, over one shared keep-alive connection pool. A one-object
  ``get_many`` costs milliseconds, not the ~0.8 s of metaflow's subprocess.
- ``get_recursive``/``get_all`` stay inside the prefix (``s3://b/log`` never
  returns ``s3://b/log_other/...``), like ``list_recursive``.
- ``overwrite=False`` is atomic (a conditional PUT), not a HEAD then a PUT.
- Credential and configuration errors fail at once with a message that says
  so, instead of being retried as transient for many minutes.
- ``put_many`` streams values from memory; it does not copy them to temp files.
- Extras: ``into_memory=True`` on ``get``/``get_many``/``get_recursive``/
  ``get_all`` keeps the bytes in memory (no temp file), readable without a
  copy through ``S3Object.buffer``; hoist's own constructor options
  (``endpoint``, ``profile``, ``region``, ``concurrency``, ...).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import threading
from collections import namedtuple
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlparse

from . import _hoist
from .exceptions import (
    S3InvalidObject,
    S3NotFound,
    S3URLError,
    _item_error,
)

__all__ = ["S3", "S3Object", "S3GetObject", "S3PutObject", "RangeInfo"]


def _namedtuple_with_defaults(name: str, fields: Sequence[str], defaults: Sequence[Any]):
    t = namedtuple(name, fields, defaults=tuple(defaults))
    t.__module__ = __name__
    return t


S3GetObject = _namedtuple_with_defaults("S3GetObject", ["key", "offset", "length"], [None, None])
S3GetObject.__doc__ = """A key with an optional byte range for get/get_many.

offset=None, length=None: the whole object; length=None: from offset to the end;
length < 0: the last -length bytes (offset ignored); else [offset, offset+length)."""

S3PutObject = _namedtuple_with_defaults(
    "S3PutObject",
    ["key", "value", "path", "content_type", "encryption", "metadata"],
    [None, None, None, None, None],
)
S3PutObject.__doc__ = """One object for put_many (value: str or bytes-like) or put_files (path)."""

RangeInfo = _namedtuple_with_defaults("RangeInfo", ["total_size", "request_offset", "request_length"], [0, -1])
RangeInfo.__doc__ = """What part of an object a get returned: total_size of the object,
request_offset of the first byte, request_length bytes."""

_ERR_NO_SUCH_KEY = _hoist.ERR_S3_NO_SUCH_KEY
_ERR_NOT_FOUND = _hoist.ERR_NOT_FOUND
_ERR_EXISTS = _hoist.ERR_EXISTS
_ERR_PRECONDITION = _hoist.ERR_S3_PRECONDITION


class S3Object:
    """An object (or prefix) in S3, with an optional local copy.

    Returned by the ``S3`` methods; not made directly. The local copy is a temp
    file (``path``) or, with ``into_memory=True``, memory (``buffer``). Files are
    deleted when the ``S3`` scope closes.
    """

    __slots__ = (
        "_url", "_prefix", "_key", "_path", "_buffer", "_size", "_content_type",
        "_metadata", "_range_info", "_last_modified", "_encryption",
    )

    def __init__(
        self,
        prefix: Optional[str],
        url: str,
        path: Optional[str] = None,
        size: Optional[int] = None,
        content_type: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        range_info: Optional[RangeInfo] = None,
        last_modified: Optional[float] = None,
        encryption: Optional[str] = None,
        buffer: Any = None,
    ) -> None:
        self._url = url
        self._path = path
        self._buffer = buffer
        self._size = size
        self._content_type = content_type
        self._metadata = metadata
        self._last_modified = last_modified
        self._encryption = encryption
        if range_info is not None and (range_info.request_length is None or range_info.request_length < 0):
            range_info = RangeInfo(range_info.total_size, range_info.request_offset, range_info.total_size)
        self._range_info = range_info
        if prefix is None or prefix == url:
            self._key = url
            self._prefix = None
        else:
            self._key = url[len(prefix.rstrip("/")) + 1:].rstrip("/")
            self._prefix = prefix

    @property
    def exists(self) -> bool:
        """True if this is an existing object (False for a prefix or a missing key)."""
        return self._size is not None

    @property
    def downloaded(self) -> bool:
        """True if the contents are local (a temp file or, with into_memory, memory)."""
        return bool(self._path) or self._buffer is not None

    @property
    def url(self) -> str:
        """The full s3:// URL."""
        return self._url

    @property
    def prefix(self) -> Optional[str]:
        """The requested prefix (the S3 root, or the listing prefix); None for a full URL key."""
        return self._prefix

    @property
    def key(self) -> str:
        """The URL relative to ``prefix`` (the whole URL when there is no prefix)."""
        return self._key

    @property
    def path(self) -> Optional[str]:
        """The local temp file holding the object, or None (not downloaded, or in memory)."""
        return self._path

    @property
    def blob(self) -> Optional[bytes]:
        """The contents as bytes (read from the file on each access), or None if not downloaded."""
        if self._buffer is not None:
            return bytes(memoryview(self._buffer))
        if self._path:
            with open(self._path, "rb") as f:
                return f.read()
        return None

    @property
    def buffer(self) -> Optional[memoryview]:
        """The contents as a read-only memoryview: without a copy for ``into_memory``
        downloads, read from the file otherwise. None if not downloaded."""
        if self._buffer is not None:
            return memoryview(self._buffer)
        blob = self.blob
        return memoryview(blob) if blob is not None else None

    @property
    def text(self) -> Optional[str]:
        """The contents decoded as UTF-8 (errors replaced), or None if not downloaded."""
        blob = self.blob
        return blob.decode("utf-8", errors="replace") if blob is not None else None

    @property
    def size(self) -> Optional[int]:
        """Bytes held locally when downloaded (a range: its length), else the object's
        size in S3; None if the object does not exist."""
        return self._size

    @property
    def has_info(self) -> bool:
        """True if any of content_type, metadata, range_info or encryption is known."""
        return (
            self._content_type is not None
            or self._metadata is not None
            or self._range_info is not None
            or self._encryption is not None
        )

    @property
    def metadata(self) -> Optional[Dict[str, Any]]:
        """User metadata given at upload (metaflow's ``metaflow-user-attributes`` JSON), or None."""
        return self._metadata

    @property
    def content_type(self) -> Optional[str]:
        """The object's Content-Type, or None when unknown."""
        return self._content_type

    @property
    def encryption(self) -> Optional[str]:
        """Server-side encryption of the object ("AES256", "aws:kms"), when the store reports it."""
        return self._encryption

    @property
    def range_info(self) -> Optional[RangeInfo]:
        """For get/get_many: RangeInfo(total_size, request_offset, request_length); None otherwise."""
        return self._range_info

    @property
    def last_modified(self) -> Optional[float]:
        """Last modification time as a Unix timestamp (float), or None when unknown."""
        return self._last_modified

    def __str__(self) -> str:
        if self.downloaded:
            return "<S3Object %s (%d bytes, local)>" % (self._url, self._size or 0)
        if self._size:
            return "<S3Object %s (%d bytes, in S3)>" % (self._url, self._size)
        return "<S3Object %s (object does not exist)>" % self._url

    __repr__ = __str__


# ---------------------------------------------------------------------------
# Clients: one libhoist client per configuration, shared by every S3 instance
# and thread of the process, so connections stay warm between calls.

_STORES: Dict[tuple, Any] = {}
_STORES_LOCK = threading.Lock()
_STORES_PID = os.getpid()


def _forget_stores_after_fork() -> None:
    # The parent's I/O threads do not exist in the child: never use or free
    # those clients there.
    global _STORES_PID
    for store in _STORES.values():
        store._abandon()
    _STORES.clear()
    _STORES_PID = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_stores_after_fork)


def _store_for(options: Dict[str, Any]) -> Any:
    # The environment is part of the key: credentials and endpoints read from
    # it when the client was made must match the ones in force now.
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    key = (tuple(sorted(options.items())), env)
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _hoist.Store(**options)
            _STORES[key] = store
        return store


# ---------------------------------------------------------------------------
# Run-scoped roots, computed exactly as metaflow does.


def _datatools_s3root() -> Optional[str]:
    """METAFLOW_DATATOOLS_S3ROOT, else METAFLOW_DATASTORE_SYSROOT_S3 + '/' + suffix
    ('data'), else what Metaflow's own configuration (~/.metaflowconfig) says."""
    root = os.environ.get("METAFLOW_DATATOOLS_S3ROOT")
    if root:
        return root
    sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_S3")
    if sysroot:
        return os.path.join(sysroot, os.environ.get("METAFLOW_DATATOOLS_SUFFIX", "data"))
    try:
        from metaflow.metaflow_config import DATATOOLS_S3ROOT  # type: ignore
    except Exception:
        return None
    return DATATOOLS_S3ROOT


def _run_ids(run: Any) -> Tuple[str, str]:
    """(flow_name, run_id) of a 'Flow/run_id' string, a Metaflow Run, or a FlowSpec in a running step."""
    if isinstance(run, str):
        parts = run.strip("/").split("/")
        if len(parts) != 2 or not all(parts):
            raise ValueError("run: expected 'FlowName/run_id', got %r" % run)
        return parts[0], parts[1]
    flowspec_cls = None
    if "metaflow" in sys.modules or _metaflow_importable():
        try:
            from metaflow import FlowSpec as flowspec_cls  # type: ignore
        except Exception:
            flowspec_cls = None
    if flowspec_cls is not None and isinstance(run, flowspec_cls):
        from metaflow import current  # type: ignore

        if not current.is_running_flow:
            raise S3URLError("Initializing S3 with a FlowSpec outside of a running flow is not supported.")
        return str(current.flow_name), str(current.run_id)
    parent = getattr(run, "parent", None)
    if parent is not None and getattr(run, "id", None) is not None and getattr(parent, "id", None) is not None:
        return str(parent.id), str(run.id)
    raise TypeError(
        "run must be a FlowSpec (self in a running step), a metaflow Run or a 'FlowName/run_id' string, "
        "not %s" % type(run).__name__
    )


def _metaflow_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("metaflow") is not None


def _check_str(value: Any, name: str, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (name, type(value).__name__))


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise TypeError("%s must be a bool, not %s" % (name, type(value).__name__))


_KEY_TYPES = (str, bytes)


class S3:
    """The metaflow.S3 client, in C.

    Use it in a ``with`` block (or call ``close()``): downloaded files live in a
    temp directory that is deleted at the end.

    Roots, as in metaflow.S3: ``run=`` (a FlowSpec in a running step, a
    ``metaflow.Run`` or ``'FlowName/run_id'``) gives
    ``<DATATOOLS_S3ROOT>/<FlowName>/<run_id>`` (``bucket``/``prefix`` override
    its parts); ``s3root='s3://bucket/path'`` gives that prefix; with neither,
    every key must be a full ``s3://`` URL.

    Args:
        tmproot: parent of the temp directory (default ``$METAFLOW_TEMPDIR``, else '.').
        bucket, prefix: override the parts of DATATOOLS_S3ROOT (only with ``run``).
        run: see above.
        s3root: see above.
        encryption: server-side encryption of uploads: "AES256" or "aws:kms" (default
            ``METAFLOW_S3_SERVER_SIDE_ENCRYPTION``, else none: the bucket's default applies).
        endpoint: S3 endpoint URL (default ``METAFLOW_S3_ENDPOINT_URL``, then the AWS environment).
        profile: ~/.aws profile.
        region: AWS region.
        concurrency: maximum requests in flight (default: automatic).
        **kwargs: metaflow's ``client_params`` (endpoint_url, region_name, verify,
            aws_access_key_id, aws_secret_access_key, aws_session_token), ``session_vars``
            and ``external_client`` (ignored, as metaflow's batch calls do),
            ``inject_failure_rate`` (a % of first attempts that fail and are retried), ``role`` (an IAM role ARN to assume); hoist's
            ``no_sign_request``, ``verify_tls``,
            ``part_size``, ``credentials=(key_id, secret[, token])``, ``max_retries``,
            ``connect_timeout``, ``addressing``.
    """

    TYPE = "s3"

    def __init__(
        self,
        tmproot: Optional[Union[str, "os.PathLike[str]"]] = None,
        bucket: Optional[str] = None,
        prefix: Optional[str] = None,
        run: Any = None,
        s3root: Optional[str] = None,
        encryption: Optional[str] = None,
        *,
        endpoint: Optional[str] = None,
        profile: Optional[str] = None,
        region: Optional[str] = None,
        concurrency: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        self._tmpdir: Optional[str] = None
        if tmproot is None:
            tmproot = os.environ.get("METAFLOW_TEMPDIR") or "."
        if not isinstance(tmproot, (str, os.PathLike)):
            raise TypeError("tmproot must be a str or path, not %s" % type(tmproot).__name__)
        for name, value in (("bucket", bucket), ("prefix", prefix), ("s3root", s3root),
                            ("endpoint", endpoint), ("profile", profile), ("region", region)):
            _check_str(value, name)
        if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)):
            raise TypeError("concurrency must be an int, not %s" % type(concurrency).__name__)
        if concurrency is not None and concurrency < 0:
            raise ValueError("concurrency must be >= 0 (0 = automatic), got %d" % concurrency)
        if encryption is None:
            encryption = os.environ.get("METAFLOW_S3_SERVER_SIDE_ENCRYPTION") or None
        if encryption is not None and encryption not in ("AES256", "aws:kms", "aws:kms:dsse"):
            raise ValueError("encryption=%r: use \"AES256\", \"aws:kms\" or \"aws:kms:dsse\"" % (encryption,))

        if run:
            root = _datatools_s3root()
            if not root:
                raise S3URLError("DATATOOLS_S3ROOT is not configured when trying to use S3 storage "
                                 "(set METAFLOW_DATATOOLS_S3ROOT or METAFLOW_DATASTORE_SYSROOT_S3)")
            flow_name, run_id = _run_ids(run)
            parsed = urlparse(root)
            b = bucket or parsed.netloc
            p = prefix or parsed.path
            p = os.path.join(p, flow_name, run_id)
            self._s3root: Optional[str] = "s3://%s" % os.path.join(b, p.strip("/"))
        elif s3root:
            if urlparse(s3root).scheme != "s3":
                raise S3URLError("s3root needs to be an S3 URL prefixed with s3://, got %r" % s3root)
            self._s3root = s3root.rstrip("/")
        else:
            self._s3root = None

        options: Dict[str, Any] = {}
        client_params = kwargs.pop("client_params", None)
        if client_params is not None and not isinstance(client_params, dict):
            raise TypeError("client_params must be a dict, not %s" % type(client_params).__name__)
        if client_params is None:
            env_params = os.environ.get("METAFLOW_DATATOOLS_CLIENT_PARAMS")
            if env_params:
                try:
                    client_params = json.loads(env_params)
                except ValueError:
                    raise ValueError("METAFLOW_DATATOOLS_CLIENT_PARAMS is not valid JSON") from None
            else:
                client_params = {}
            # metaflow: setdefault, so explicit client params win over the env endpoint.
            if os.environ.get("METAFLOW_S3_ENDPOINT_URL"):
                client_params.setdefault("endpoint_url", os.environ["METAFLOW_S3_ENDPOINT_URL"])
        cp = dict(client_params)
        cp_endpoint, cp_region = cp.pop("endpoint_url", None), cp.pop("region_name", None)
        endpoint = endpoint or cp_endpoint
        region = region or cp_region
        verify = cp.pop("verify", None)
        keys = (cp.pop("aws_access_key_id", None), cp.pop("aws_secret_access_key", None),
                cp.pop("aws_session_token", None))
        cp.pop("config", None)  # botocore retry/timeouts: hoist has its own
        if cp:
            raise ValueError("client_params: hoist.S3 does not support %s" % ", ".join(sorted(cp)))
        if endpoint:
            options["endpoint"] = endpoint
        if region:
            options["region"] = region
        if profile:
            options["profile"] = profile
        if concurrency:
            options["concurrency"] = concurrency
        if verify is not None:
            if isinstance(verify, (str, os.PathLike)):
                options["ca_bundle"] = os.fspath(verify)  # botocore: verify="/path/ca.pem"
            elif isinstance(verify, bool):
                options["verify_tls"] = verify
            else:
                raise ValueError("client_params['verify']: True/False or a CA bundle path")
        if encryption is not None:
            options["sse"] = encryption
        if keys[0] or keys[1]:
            if not (keys[0] and keys[1]):
                raise ValueError("client_params: aws_access_key_id and aws_secret_access_key go together")
            options["credentials"] = tuple(k for k in keys if k)

        role = kwargs.pop("role", None)
        if role:
            _check_str(role, "role")
            if not role.startswith("arn:"):
                raise ValueError("role=%r: an IAM role ARN (arn:aws:iam::<account>:role/<name>)" % (role,))
            options["role"] = role  # assumed with the credentials found otherwise, cached per process
        kwargs.pop("session_vars", None)  # only meaningful with role in metaflow too
        kwargs.pop("external_client", None)  # metaflow's batch calls ignore it as well
        rate = kwargs.pop("inject_failure_rate", 0)
        if rate:
            if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= 100:
                raise ValueError("inject_failure_rate must be a percentage 0..100, not %r" % (rate,))
            # that % of first attempts fail before sending; the retries absorb them
            options["inject_failures"] = rate
        for name in ("no_sign_request", "verify_tls"):
            if name in kwargs:
                v = kwargs.pop(name)
                if v is not None:
                    _check_bool(v, name)
                    options[name] = v
        for name in ("part_size", "max_retries", "connect_timeout"):
            if name in kwargs:
                v = kwargs.pop(name)
                if v is not None:
                    if isinstance(v, bool) or not isinstance(v, int):
                        raise TypeError("%s must be an int, not %s" % (name, type(v).__name__))
                    options[name] = v
        if "addressing" in kwargs:
            v = kwargs.pop("addressing")
            _check_str(v, "addressing")
            if v is not None:
                options["addressing"] = v
        if "credentials" in kwargs:
            v = kwargs.pop("credentials")
            if v is not None:
                if not isinstance(v, tuple) or len(v) not in (2, 3):
                    raise TypeError("credentials must be a tuple (access_key_id, secret_access_key[, session_token])")
                options["credentials"] = v
        if kwargs:
            raise TypeError("S3() got unexpected keyword argument(s): %s" % ", ".join(sorted(kwargs)))

        self._options = options
        self._store_pid = -1
        self._store_obj: Any = None
        # Kept under metaflow's names for code (and JSON round-trips) that reads them.
        self._tmproot = os.fspath(tmproot)
        self._bucket = bucket
        self._prefix = prefix
        self._run = run
        self._encryption = None
        # Made now so configuration errors surface in the constructor.
        self._store()

    # -- plumbing -----------------------------------------------------------

    def _store(self) -> Any:
        if self._store_pid != os.getpid():
            self._store_obj = _store_for(self._options)
            self._store_pid = os.getpid()
        return self._store_obj

    def _temp_dir(self) -> str:
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(dir=self._tmproot, prefix="hoist.s3.")
        return self._tmpdir

    def __enter__(self) -> "S3":
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def close(self) -> None:
        """Deletes the temp directory and every file downloaded into it.

        Objects downloaded with into_memory=True stay valid: their memory is
        freed when the last reference to them goes.
        """
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _url(self, key_value: Any) -> str:
        key = getattr(key_value, "key", key_value)
        if isinstance(key, bytes):
            key = key.decode("utf-8")
        if key is not None and not isinstance(key, str):
            raise TypeError("key must be a str, bytes or S3GetObject/S3PutObject, not %s" % type(key).__name__)
        if self._s3root is None:
            if key is not None:
                parsed = urlparse(key, allow_fragments=False)
                if parsed.scheme == "s3" and parsed.path and parsed.path != "/":
                    return key
            raise S3URLError(
                "%r: initialize S3 with an 's3root' or 'run' if you don't want to specify full s3:// urls "
                "(a full URL is s3://bucket/key)" % (key,)
            )
        if key:
            if key.startswith("s3://"):
                raise S3URLError("Don't use absolute S3 URLs when the S3 client is initialized with a prefix. "
                                 "URL: %s" % key)
            return os.path.join(self._s3root, key.lstrip("/"))
        return self._s3root

    # -- tables under the root (hoist extensions, not in metaflow.S3) ---------

    def url(self, key: Optional[str] = None) -> str:
        """The full ``s3://`` URL of ``key`` under this client's root (the root
        itself without a key): ``S3(run=self).url("nyc_taxi/")`` is where a
        step's outputs go, ``<DATATOOLS_S3ROOT>/<Flow>/<run_id>/nyc_taxi/``.
        A trailing '/' is kept. Needs ``run`` or ``s3root`` unless ``key`` is
        a full URL."""
        _check_str(key, "key")
        url = self._url(key)
        return url + "/" if key and key.endswith("/") and not url.endswith("/") else url

    def write_table(self, data: Any, key: Optional[str] = None, **options: Any) -> Any:
        """``hoist.write_table(data, self.url(key), ...)`` with this client's
        endpoint, region, profile and credentials: writes a Parquet dataset
        (or a ``.parquet`` file) under the root, e.g. in a Metaflow step::

            with hoist.S3(run=self) as s3:
                res = s3.write_table(table, "nyc_taxi/", partition_by=["month"])
                self.paths = res.paths

        Returns the ``hoist.WriteResult``; ``options`` are write_table's."""
        from .write import write_table

        merged = dict(self._options)
        merged.update(options)
        return write_table(data, self.url(key), **merged)

    def _request(self, key_value: Any) -> Tuple[str, int, int, bool]:
        """(url, offset, length, suffix) for the C get: length -1 means to the end."""
        url = self._url(key_value)
        offset = getattr(key_value, "offset", None)
        length = getattr(key_value, "length", None)
        for name, v in (("offset", offset), ("length", length)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise TypeError("S3GetObject.%s must be an int or None, not %s" % (name, type(v).__name__))
        if offset is None and length is None:
            return url, 0, -1, False
        if offset is None:
            offset = 0
        if offset < 0:
            raise ValueError("S3GetObject.offset must be >= 0, got %d (%s)" % (offset, url))
        if length is None:
            return url, offset, -1, False
        if length < 0:
            return url, 0, -length, True
        return url, offset, length, False

    def _local_path(self, req: Tuple[str, int, int, bool]) -> str:
        url, offset, length, suffix = req
        if suffix:
            rng = "suffix%d" % length
        elif offset == 0 and length < 0:
            rng = "whole"
        else:
            rng = "%d-%d" % (offset, length)
        leaf = url.rstrip("/").rsplit("/", 1)[-1]
        # File names are capped at 255 bytes; the hash keeps distinct URLs apart.
        leaf = leaf.encode("utf-8")[:150].decode("utf-8", "ignore").replace(os.sep, "_")
        digest = hashlib.sha1(("%s\0%s" % (url, rng)).encode("utf-8")).hexdigest()
        return os.path.join(self._temp_dir(), "%s-%s-%s" % (digest, leaf, rng))

    @staticmethod
    def _metadata(metadata_json: Optional[str]) -> Optional[Dict[str, Any]]:
        if metadata_json is None:
            return None
        try:
            return json.loads(metadata_json)
        except ValueError:
            return None

    def _get_objects(
        self,
        requests: List[Tuple[str, int, int, bool]],
        prefixes: List[Optional[str]],
        return_missing: bool,
        return_info: bool,
        into_memory: bool,
    ) -> List[S3Object]:
        if not requests:
            return []
        # Duplicates are fetched once and share one result (as metaflow shares one file).
        unique: Dict[Tuple[str, int, int, bool], int] = {}
        for r in requests:
            unique.setdefault(r, len(unique))
        items = list(unique)
        paths = None if into_memory else [self._local_path(r) for r in items]
        flags = _hoist.RETURN_MISSING if return_missing else 0
        results = self._store().get_many(items, paths, flags)
        out = []
        for req, prefix in zip(requests, prefixes):
            i = unique[req]
            status, error, data, size, range_start, info = results[i]
            url = req[0]
            if status in (_ERR_NO_SUCH_KEY, _ERR_NOT_FOUND) and return_missing:
                out.append(S3Object(prefix, url))
                continue
            if status != 0:
                raise _item_error(status, error, url)
            kw: Dict[str, Any] = {}
            if return_info and info is not None:
                _, total, last_modified, _etag, content_type, metadata_json, encryption = info
                kw = dict(
                    content_type=content_type,
                    metadata=self._metadata(metadata_json),
                    range_info=RangeInfo(total, range_start, size),
                    last_modified=float(last_modified) if last_modified else None,
                    encryption=encryption,
                )
            out.append(S3Object(prefix, url, path=None if into_memory else paths[i], size=size,
                                buffer=data if into_memory else None, **kw))
        return out

    # -- reads --------------------------------------------------------------

    def get(
        self,
        key: Optional[Union[str, S3GetObject]] = None,
        return_missing: bool = False,
        return_info: bool = True,
        into_memory: bool = False,
    ) -> S3Object:
        """Downloads one object (or a range of it, with an S3GetObject).

        Args:
            key: a key under the root, a full s3:// URL (no root), or an S3GetObject. None: the root.
            return_missing: return a missing key as an S3Object with exists=False instead of raising.
            return_info: fill content_type, metadata, range_info and last_modified (no extra cost).
            into_memory: keep the bytes in memory (``.buffer``/``.blob``) instead of a temp file.

        Raises:
            MetaflowS3NotFound: the key does not exist (without return_missing).
            MetaflowS3InvalidRange: the range starts past the end of the object.
            MetaflowS3AccessDenied: access denied or credentials rejected.
        """
        return self.get_many([key], return_missing=return_missing, return_info=return_info,
                             into_memory=into_memory)[0]

    def get_many(
        self,
        keys: Iterable[Union[str, S3GetObject]],
        return_missing: bool = False,
        return_info: bool = True,
        into_memory: bool = False,
    ) -> List[S3Object]:
        """Downloads many objects (or ranges) concurrently; results follow the input order.

        Arguments as for :meth:`get`. Any missing key raises MetaflowS3NotFound unless return_missing.
        """
        self._check_flags(return_missing=return_missing, return_info=return_info, into_memory=into_memory)
        if isinstance(keys, (str, bytes)):
            raise TypeError("keys must be an iterable of keys, not a single %s" % type(keys).__name__)
        reqs = [self._request(k) for k in keys]
        return self._get_objects(reqs, [self._s3root] * len(reqs), return_missing, return_info, into_memory)

    def get_recursive(
        self,
        keys: Iterable[Optional[str]],
        return_info: bool = False,
        into_memory: bool = False,
    ) -> List[S3Object]:
        """Downloads every object under each prefix, grouped by prefix in input order and
        sorted by key within one.

        Unlike metaflow.S3, a prefix is a directory: ``log`` never picks up ``log_other/...``
        (the same rule list_recursive follows in both).
        """
        self._check_flags(return_info=return_info, into_memory=into_memory)
        if isinstance(keys, (str, bytes)):
            raise TypeError("keys must be an iterable of prefixes, not a single %s" % type(keys).__name__)
        prefixes = [self._url(k) for k in keys]
        listing = self._store().list(prefixes, True) if prefixes else []
        reqs, owners = [], []
        for url, prefix, _size, _lm, _etag, is_prefix in listing:
            if is_prefix:
                continue
            reqs.append((url, 0, -1, False))
            owners.append(prefix.rstrip("/"))
        return self._get_objects(reqs, owners, False, return_info, into_memory)

    def download_prefix(self, key: Optional[str], dest_dir: str, overwrite: bool = True) -> List[S3Object]:
        """Downloads every object under a prefix into ``dest_dir``, keeping the keys' names
        relative to the prefix (``aws s3 cp --recursive``); a hoist extension, not in metaflow.S3.

        Unlike :meth:`get_recursive` (temp files that live as long as this client), the files
        are the caller's and stay after :meth:`close`. A key that would land outside
        ``dest_dir`` (``..``, ``.``, an empty segment or an absolute key) raises
        MetaflowS3URLException before anything is written. With ``overwrite=False`` files
        that exist are left alone and not returned.

        Returns the objects written, in key order, with ``.path`` set and ``.key`` relative
        to the prefix (the file's name under ``dest_dir``).
        """
        self._check_flags(overwrite=overwrite)
        _check_str(key, "key")
        _check_str(dest_dir, "dest_dir", optional=False)
        prefix = self._url(key).rstrip("/") + "/"
        flags = 0 if overwrite else _hoist.NO_OVERWRITE
        out = []
        for url, path, size, status, error in self._store().get_prefix(prefix, os.fspath(dest_dir), flags):
            if status == _ERR_EXISTS:
                continue
            if status != 0:
                raise _item_error(status, error, url)
            out.append(S3Object(prefix, url, path=path, size=size))
        return out

    def get_all(self, return_info: bool = False, into_memory: bool = False) -> List[S3Object]:
        """Downloads everything under the root (needs ``run`` or ``s3root``)."""
        if self._s3root is None:
            raise S3URLError("Can't get_all() when S3 is initialized without a prefix (give run= or s3root=)")
        return self.get_recursive([None], return_info=return_info, into_memory=into_memory)

    def info(self, key: Optional[str] = None, return_missing: bool = False) -> S3Object:
        """Metadata of one object without downloading it (one HEAD); downloaded is False."""
        return self.info_many([key], return_missing=return_missing)[0]

    def info_many(self, keys: Iterable[Optional[str]], return_missing: bool = False) -> List[S3Object]:
        """Metadata of many objects (concurrent HEADs), in input order."""
        self._check_flags(return_missing=return_missing)
        if isinstance(keys, (str, bytes)):
            raise TypeError("keys must be an iterable of keys, not a single %s" % type(keys).__name__)
        urls = [self._url(k) for k in keys]
        if not urls:
            return []
        flags = _hoist.RETURN_MISSING if return_missing else 0
        res = self._store().info_many(urls, flags)
        out = []
        for url, (status, error, info) in zip(urls, res):
            if status in (_ERR_NO_SUCH_KEY, _ERR_NOT_FOUND) and return_missing:
                out.append(S3Object(self._s3root, url))
                continue
            if status != 0:
                raise _item_error(status, error, url)
            _, size, last_modified, _etag, content_type, metadata_json, encryption = info
            out.append(S3Object(self._s3root, url, size=size, content_type=content_type,
                                metadata=self._metadata(metadata_json),
                                last_modified=float(last_modified) if last_modified else None,
                                encryption=encryption))
        return out

    def list_paths(self, keys: Optional[Iterable[Optional[str]]] = None) -> List[S3Object]:
        """Lists one level below each prefix: objects (exists=True) and prefixes (exists=False)."""
        return self._list(keys, recursive=False)

    def list_recursive(self, keys: Optional[Iterable[Optional[str]]] = None) -> List[S3Object]:
        """Lists every object under each prefix (all exists=True, downloaded=False)."""
        return self._list(keys, recursive=True)

    def _list(self, keys: Optional[Iterable[Optional[str]]], recursive: bool) -> List[S3Object]:
        if keys is None:
            keys = [None]
        elif isinstance(keys, (str, bytes)):
            raise TypeError("keys must be an iterable of prefixes, not a single %s" % type(keys).__name__)
        prefixes = [self._url(k).rstrip("/") + "/" for k in keys]
        if not prefixes:
            return []
        out: List[S3Object] = []
        dirs: List[S3Object] = []
        group = None
        for url, prefix, size, last_modified, _etag, is_prefix in self._store().list(prefixes, recursive):
            if prefix != group:
                out.extend(dirs)
                dirs, group = [], prefix
            if is_prefix:
                if not recursive:
                    dirs.append(S3Object(prefix, url))
            else:
                out.append(S3Object(prefix, url, size=size,
                                    last_modified=float(last_modified) if last_modified else None))
        # metaflow.S3 gives a prefix's objects before its subdirectories (S3's
        # Contents, then CommonPrefixes); keep that order for drop-in use.
        out.extend(dirs)
        return out

    # -- writes -------------------------------------------------------------

    @staticmethod
    def _check_flags(**flags: Any) -> None:
        for name, v in flags.items():
            _check_bool(v, name)

    @staticmethod
    def _value(obj: Any, what: str) -> Any:
        """A body the C layer reads in place: str or a contiguous buffer."""
        if isinstance(obj, str):
            return obj
        if isinstance(obj, io.IOBase) or (hasattr(obj, "read") and hasattr(obj, "seek")):
            try:
                ok = obj.readable() and obj.seekable()
            except (AttributeError, ValueError):
                ok = False
            if not ok:
                raise S3InvalidObject("%s: a file object must be readable and seekable" % what)
            # Read from the current position, as boto3's upload_fileobj does.
            return obj.read()
        try:
            view = memoryview(obj)
        except TypeError:
            raise S3InvalidObject("%s must be str, bytes-like or a readable, seekable file object, not %s"
                                  % (what, type(obj).__name__)) from None
        return view if view.c_contiguous else view.tobytes()

    @staticmethod
    def _meta_args(content_type: Any, metadata: Any, what: str) -> Tuple[Optional[str], Optional[str]]:
        if content_type is not None and not isinstance(content_type, str):
            raise TypeError("%scontent_type must be a str, not %s" % (what, type(content_type).__name__))
        if metadata is None:
            return content_type, None
        if not isinstance(metadata, dict):
            raise TypeError("%smetadata must be a dict, not %s" % (what, type(metadata).__name__))
        try:
            return content_type, json.dumps(metadata)
        except (TypeError, ValueError) as e:
            raise ValueError("%smetadata is not JSON-serialisable: %s" % (what, e)) from None

    def _put_items(self, items: List[tuple], keys: List[Any], overwrite: bool) -> List[Tuple[Any, str]]:
        if not items:
            return []
        flags = 0 if overwrite else _hoist.NO_OVERWRITE
        res = self._store().put_many(items, flags)
        out = []
        for key, item, (status, error) in zip(keys, items, res):
            if status in (_ERR_EXISTS, _ERR_PRECONDITION) and not overwrite:
                continue
            if status != 0:
                raise _item_error(status, error, item[0])
            out.append((key, item[0]))
        return out

    def put(
        self,
        key: Union[str, S3PutObject],
        obj: Any,
        overwrite: bool = True,
        content_type: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> str:
        """Uploads one object and returns its URL.

        Args:
            key: key under the root, or a full s3:// URL.
            obj: str (stored as UTF-8), bytes-like (read in place), or a readable, seekable file object.
            overwrite: False never replaces an existing object; the check and the write are one
                atomic conditional PUT. The URL is returned either way, as in metaflow.S3.
            content_type: Content-Type to store.
            metadata: a JSON-serialisable dict, stored as metaflow does (metaflow-user-attributes).
        """
        self._check_flags(overwrite=overwrite)
        value = self._value(obj, "obj")  # metaflow checks the value before the URL
        url = self._url(key)
        ct, meta = self._meta_args(content_type, metadata, "")
        self._put_items([(url, value, None, ct, meta)], [key], overwrite)
        return url

    def put_many(self, key_objs: Iterable[Union[Tuple[str, Any], S3PutObject]],
                 overwrite: bool = True) -> List[Tuple[str, str]]:
        """Uploads many objects concurrently, straight from memory (no temp files).

        Args:
            key_objs: (key, value) tuples or S3PutObject(key, value, content_type=, metadata=).
            overwrite: see :meth:`put`.

        Returns:
            (key, url) of each object uploaded, in input order; with overwrite=False, keys that
            already existed are left out.
        """
        self._check_flags(overwrite=overwrite)
        items, keys = [], []
        for i, ko in enumerate(key_objs):
            if isinstance(ko, S3PutObject):
                key, value, path = ko.key, ko.value, ko.path
                ct, meta = self._meta_args(ko.content_type, ko.metadata, "key_objs[%d]." % i)
            else:
                if not isinstance(ko, (tuple, list)) or len(ko) != 2:
                    raise TypeError("key_objs[%d] must be a (key, value) tuple or an S3PutObject" % i)
                key, value = ko
                path, ct, meta = None, None, None
            # metaflow checks the value before the URL
            data = self._value(value, "key_objs[%d] value" % i) if value is not None else None
            url = self._url(key)
            if value is None and path is not None:
                items.append(self._file_item(key, path, ct, meta))
            elif value is None:
                raise S3InvalidObject("key_objs[%d] (%s): no value to upload" % (i, url))
            else:
                items.append((url, data, None, ct, meta))
            keys.append(key)
        return self._put_items(items, keys, overwrite)

    def _file_item(self, key: Any, path: Any, ct: Optional[str], meta: Optional[str]) -> tuple:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("path for %r must be a str or path, not %s" % (key, type(path).__name__))
        real = os.path.realpath(os.fspath(path))
        if not os.path.isfile(real):
            raise S3NotFound("Local file not found: %s" % os.fspath(path))
        # metaflow checks the local file before the URL
        return (self._url(key), None, real, ct, meta)

    def put_files(self, key_paths: Iterable[Union[Tuple[str, str], S3PutObject]],
                  overwrite: bool = True) -> List[Tuple[str, str]]:
        """Uploads local files concurrently.

        Args:
            key_paths: (key, local_path) tuples or S3PutObject(key, path=, content_type=, metadata=).
            overwrite: see :meth:`put`.

        Returns:
            (key, url) of each object uploaded, in input order.

        Raises:
            MetaflowS3NotFound: a local file does not exist (nothing is uploaded then).
        """
        self._check_flags(overwrite=overwrite)
        items, keys = [], []
        for i, kp in enumerate(key_paths):
            if isinstance(kp, S3PutObject):
                key, path = kp.key, kp.path
                ct, meta = self._meta_args(kp.content_type, kp.metadata, "key_paths[%d]." % i)
            else:
                if not isinstance(kp, (tuple, list)) or len(kp) != 2:
                    raise TypeError("key_paths[%d] must be a (key, path) tuple or an S3PutObject" % i)
                key, path = kp
                ct, meta = None, None
            if path is None:
                raise S3InvalidObject("key_paths[%d]: no path given" % i)
            items.append(self._file_item(key, path, ct, meta))
            keys.append(key)
        return self._put_items(items, keys, overwrite)

    # -- hoist extras ----------------------------------------------------------

    def _copy_url(self, key: Any, what: str) -> str:
        """A copy's end: a key under the root, or a full s3:// URL with or
        without a root (copies often cross prefixes; metaflow.S3 has no copy
        whose rule this would have to follow)."""
        if isinstance(key, bytes):
            key = key.decode("utf-8")
        if not isinstance(key, str):
            raise TypeError("%s must be a str key or s3:// URL, not %s" % (what, type(key).__name__))
        if key.startswith("s3://"):
            parsed = urlparse(key, allow_fragments=False)
            if not parsed.netloc or not parsed.path or parsed.path == "/":
                raise S3URLError("%s %r: a full URL is s3://bucket/key" % (what, key))
            return key
        return self._url(key)

    def copy(self, src: str, dst: str) -> str:
        """Copies one object inside S3 (a hoist extra) and returns the destination URL.

        The store copies the bytes itself (CopyObject, or UploadPartCopy ranges
        in parallel for objects larger than the part size): nothing passes
        through this process, whatever the size. Content type and metadata are
        kept; this client's ``encryption`` applies to the copy. Both ends are
        on this client's endpoint.

        Args:
            src, dst: keys under the root, or full s3:// URLs.

        Raises:
            MetaflowS3NotFound: the source does not exist.
            MetaflowS3AccessDenied: reading the source or writing the destination is denied.
        """
        return self.copy_many([(src, dst)])[0][1]

    def copy_many(self, src_dsts: Iterable[Tuple[str, str]]) -> List[Tuple[str, str]]:
        """Copies many objects inside S3 concurrently (see :meth:`copy`).

        Args:
            src_dsts: (src, dst) pairs of keys under the root or full s3:// URLs.

        Returns:
            (src_url, dst_url) of each copy, in input order. The first failed
            copy raises (the others have been carried out).
        """
        if isinstance(src_dsts, (str, bytes)):
            raise TypeError("src_dsts must be an iterable of (src, dst) pairs, not a single %s"
                            % type(src_dsts).__name__)
        srcs, dsts = [], []
        for i, pair in enumerate(src_dsts):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError("src_dsts[%d] must be a (src, dst) pair" % i)
            srcs.append(self._copy_url(pair[0], "src_dsts[%d] source" % i))
            dsts.append(self._copy_url(pair[1], "src_dsts[%d] destination" % i))
        if not srcs:
            return []
        res = self._store().copy_many(srcs, dsts)
        for src, (status, error, _size) in zip(srcs, res):
            if status != 0:
                raise _item_error(status, error, src)
        return list(zip(srcs, dsts))

    def delete_many(self, keys: Iterable[str]) -> None:
        """Deletes objects (a hoist extra; metaflow.S3 has no delete). Missing keys are fine."""
        if isinstance(keys, (str, bytes)):
            raise TypeError("keys must be an iterable of keys, not a single %s" % type(keys).__name__)
        urls = [self._url(k) for k in keys]
        if urls:
            self._store().delete_many(urls)

