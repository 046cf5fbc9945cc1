"""hoist's exceptions, with metaflow.S3's names as aliases.

Every error raised from the C library carries its message (``hoist_errmsg``),
which names the object and the cause, and its numeric ``status``
(``enum hoist_status`` in hoist.h).

The classes that stand for bad arguments also derive from the matching
built-in (``S3URLError`` is a ``ValueError``, ``S3InvalidObject`` a
``TypeError``), so generic argument handling works too.
"""
from __future__ import annotations

from typing import Optional

__all__ = [
    "HoistError",
    "S3Error",
    "S3NotFound",
    "S3BucketNotFound",
    "S3AccessDenied",
    "S3CredentialsError",
    "S3URLError",
    "S3InvalidObject",
    "S3InvalidRange",
    "S3ObjectExists",
    "MetaflowS3Exception",
    "MetaflowS3NotFound",
    "MetaflowS3AccessDenied",
    "MetaflowS3URLException",
    "MetaflowS3InvalidObject",
    "MetaflowS3InvalidRange",
    "from_status",
]


class HoistError(Exception):
    """Base of every hoist error.

    Attributes:
        status: the C status code (0 when the error was raised in Python).
        message: the message, as given by the C library where it came from there.
    """

    headline = "hoist error"

    def __init__(self, message: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.message: str = message
        self.status: int = status


class S3Error(HoistError):
    """An S3 operation failed (metaflow name: ``MetaflowS3Exception``)."""

    headline = "S3 error"


class S3NotFound(S3Error):
    """The object (or local file to upload) does not exist (``MetaflowS3NotFound``)."""

    headline = "S3 object not found"


class S3BucketNotFound(S3NotFound):
    """The bucket does not exist. A ``S3NotFound``, as metaflow.S3's ``*_many`` calls treat it."""

    headline = "S3 bucket not found"


class S3AccessDenied(S3Error):
    """403 / AccessDenied (``MetaflowS3AccessDenied``)."""

    headline = "access denied"


class S3CredentialsError(S3AccessDenied):
    """Credentials are missing, unreadable, or rejected (bad key or signature).

    Raised at once, never after retries: a configuration error is not transient.
    """

    headline = "S3 credentials error"


class S3URLError(S3Error, ValueError):
    """A URL or key hoist cannot use (``MetaflowS3URLException``)."""

    headline = "invalid S3 URL"


class S3InvalidObject(S3Error, TypeError):
    """A value to upload is not str, bytes-like or a readable, seekable file (``MetaflowS3InvalidObject``)."""

    headline = "invalid object"


class S3InvalidRange(S3Error):
    """The requested byte range is outside the object (``MetaflowS3InvalidRange``)."""

    headline = "invalid range"


class S3ObjectExists(S3Error):
    """The destination exists and overwriting it was refused."""

    headline = "object exists"


# metaflow.S3's names: the same classes, so `except MetaflowS3NotFound` catches hoist's errors.
MetaflowS3Exception = S3Error
MetaflowS3NotFound = S3NotFound
MetaflowS3AccessDenied = S3AccessDenied
MetaflowS3URLException = S3URLError
MetaflowS3InvalidObject = S3InvalidObject
MetaflowS3InvalidRange = S3InvalidRange

# Status numbers are pinned in hoist.h and never renumbered.
_STATUS_CLASSES = {
    1: MemoryError,  # HOIST_ERR_NOMEM
    9: S3NotFound,  # HOIST_ERR_NOT_FOUND (a local file)
    10: S3ObjectExists,  # HOIST_ERR_EXISTS
    103: S3NotFound,  # HOIST_ERR_S3_NO_SUCH_KEY
    104: S3BucketNotFound,  # HOIST_ERR_S3_NO_SUCH_BUCKET
    105: S3AccessDenied,  # HOIST_ERR_S3_ACCESS_DENIED
    106: S3CredentialsError,  # HOIST_ERR_S3_BAD_SIGNATURE
    107: S3InvalidRange,  # HOIST_ERR_S3_INVALID_RANGE
    111: S3ObjectExists,  # HOIST_ERR_S3_PRECONDITION
    113: S3URLError,  # HOIST_ERR_BAD_URL
    114: S3CredentialsError,  # HOIST_ERR_CREDENTIALS
    115: S3URLError,  # HOIST_ERR_UNSAFE_KEY
}


# domain "dataset": the hoist.DatasetError family (defined by the extension).
_DATASET_VALUE = {2, 8, 205, 501}  # INVALID_ARG, USAGE, COLUMN_NOT_FOUND, FILTER
_DATASET_NOT_FOUND = {9, 103, 104, 502}  # NOT_FOUND, NO_SUCH_KEY, NO_SUCH_BUCKET, EMPTY_DATASET
_DATASET_PERMISSION = {105, 106}  # ACCESS_DENIED, BAD_SIGNATURE


def _dataset_error(status: int, message: str) -> BaseException:
    from . import _hoist

    if status in _DATASET_VALUE:
        cls = _hoist.DatasetValueError
    elif status in _DATASET_NOT_FOUND:
        cls = _hoist.DatasetNotFoundError
    elif status in _DATASET_PERMISSION:
        cls = _hoist.DatasetPermissionError
    else:
        cls = _hoist.DatasetError
    exc = cls(message)
    exc.status = status
    return exc


def from_status(status: int, message: str, domain: str = "s3") -> BaseException:
    """The exception for a C status and message (used by the extension module).

    ``domain`` "s3" (hoist.S3) or "dataset" (write_table: the DatasetError family)."""
    if status == 5:  # HOIST_ERR_CANCELLED: the caller asked to stop
        return KeyboardInterrupt(message)
    if domain == "dataset" and status != 1:
        return _dataset_error(status, message)
    if status == 2:  # HOIST_ERR_INVALID_ARG
        return ValueError(message)
    cls = _STATUS_CLASSES.get(status, S3Error)
    if cls is MemoryError:
        return MemoryError(message)
    return cls(message, status)


def _item_error(status: int, message: Optional[str], url: str) -> BaseException:
    """The exception for one failed item of a *_many call."""
    msg = message or "%s: error %d" % (url, status)
    if url not in msg:
        msg = "%s: %s" % (url, msg)
    return from_status(status, msg)
