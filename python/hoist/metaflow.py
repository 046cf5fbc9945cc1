"""Metaflow integration: ``from hoist.metaflow import S3`` in a flow.

The names ``metaflow.plugins.datatools.s3`` exports, so a flow switches by
changing one import line::

    from metaflow import FlowSpec, step
    from hoist.metaflow import S3

    class MyFlow(FlowSpec):
        @step
        def start(self):
            with S3(run=self) as s3:          # <DATATOOLS_S3ROOT>/MyFlow/<run_id>
                s3.put("example_object", "hello")
            self.next(self.end)

Inside a running step, ``S3(run=self)`` roots keys exactly where
``metaflow.S3(run=self)`` does, so objects written by either are read by the
other (with the same metadata and content type). Temp files go to
``METAFLOW_TEMPDIR`` (the tmpfs that ``@batch(use_tmpfs=True)`` and
``@kubernetes(use_tmpfs=True)`` mount), as with metaflow.S3.

``ctas(self, sql, tables=...)`` is the book's ``athena_ctas`` (TaxiETLFlow) on hoist: the
query runs in-process on DuckDB over hoist datasets and its result is written under
``S3(run=self)``'s root as ``mf_ctas_<flow>_<run>_<step>_<task>/`` (docs/sql.md).

Importing this module does not import metaflow; ``run=self`` does, when given.
"""
from __future__ import annotations

from .exceptions import (
    MetaflowS3AccessDenied,
    MetaflowS3Exception,
    MetaflowS3InvalidObject,
    MetaflowS3InvalidRange,
    MetaflowS3NotFound,
    MetaflowS3URLException,
)
from .s3 import S3, RangeInfo, S3GetObject, S3Object, S3PutObject
from typing import Any, Mapping, Optional

__all__ = [
    "S3",
    "S3Object",
    "S3GetObject",
    "S3PutObject",
    "RangeInfo",
    "MetaflowS3Exception",
    "MetaflowS3NotFound",
    "MetaflowS3AccessDenied",
    "MetaflowS3URLException",
    "MetaflowS3InvalidObject",
    "MetaflowS3InvalidRange",
    "ctas",
]


def ctas(flow: Any, sql: str, tables: Optional[Mapping[str, Any]] = None, **kwargs: Any):
    """Runs ``sql`` as CREATE TABLE AS SELECT inside a running step, like the book's
    ``athena_ctas``: the output is ``mf_ctas_<flow>_<run>_<step>_<task>/`` under
    ``S3(run=flow)``'s root (the task's pathspec with '/' as '_'), written all or nothing
    by ``hoist.ctas``. Sets ``flow.ctas`` (the statement, as
    ``CREATE TABLE mf_ctas_... AS <sql>``) and ``flow.paths`` (the output files' URLs);
    returns the ``hoist.CTASResult`` (manifest, inputs with ETags, timings). ``tables``
    and ``kwargs`` (``partition_by``, ``lineage``, store settings, writer options) go to
    ``hoist.ctas``; the lineage also records the pathspec."""
    from metaflow import current

    from .sql import ctas as _ctas

    name = "mf_ctas_%s" % current.pathspec.replace("/", "_")
    with S3(run=flow) as s3:
        output = s3.url(name + "/")
    lineage = dict(kwargs.pop("lineage", None) or {})
    lineage.setdefault("pathspec", current.pathspec)
    lineage.setdefault("table", name)
    res = _ctas(sql, output, tables=tables, lineage=lineage, **kwargs)
    flow.ctas = "CREATE TABLE %s AS %s" % (name, sql)
    flow.paths = res.paths
    return res
