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
]
