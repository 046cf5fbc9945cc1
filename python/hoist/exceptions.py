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
    "NotFoundError",
    "AccessDeniedError",
    "InvalidInputError",
    "CorruptDataError",
    "TransientError",
    "UnsupportedError",
    "AlreadyExistsError",
    "LocalIOError",
    "RemoteError",
    "InternalError",
    "DatasetError",
    "DatasetValueError",
    "DatasetNotFoundError",
    "DatasetPermissionError",
    "DatasetExistsError",
    "ParquetError",
    "ParquetNotFoundError",
    "ParquetColumnError",
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
        status_class: the kind of failure (``hoist_status_class_name``: "not_found",
            "access", "invalid_input", "corrupt_data", "transient", ...; "" when raised
            in Python).
    """

    headline = "hoist error"

    def __init__(self, message: str = "", status: int = 0) -> None:
        # One argument to the base: OSError-derived families would otherwise read
        # (message, status) as (errno, strerror).
        super().__init__(message)
        self.message: str = message
        self.status: int = status
        self.status_class: str = _class_name(status) if status else ""


# ---- families, one per status class (hoist_status_class in hoist.h) --------
# Each also derives from the built-in a Python programmer would catch, so
# `except FileNotFoundError` sees a missing S3 key or dataset prefix too.


class NotFoundError(HoistError, FileNotFoundError):
    """The object, bucket, file, column or data does not exist."""

    headline = "not found"


class AccessDeniedError(HoistError, PermissionError):
    """Refused: permissions, credentials, TLS trust."""

    headline = "access denied"


class InvalidInputError(HoistError, ValueError):
    """An argument, URL, expression or data that cannot be used as given."""

    headline = "invalid input"


class CorruptDataError(HoistError):
    """Bytes read (a file, a server response) are malformed."""

    headline = "corrupt data"


class TransientError(HoistError):
    """Network or server trouble that outlasted the retries: try again later."""

    headline = "transient failure"


class UnsupportedError(HoistError):
    """Valid input using a feature hoist does not have."""

    headline = "unsupported"


class AlreadyExistsError(HoistError, FileExistsError):
    """Refused because something already exists there."""

    headline = "already exists"


class LocalIOError(HoistError, OSError):
    """Local file system I/O failed."""

    headline = "I/O error"


class RemoteError(HoistError):
    """The store refused for a reason hoist does not classify."""

    headline = "store error"


class InternalError(HoistError):
    """A bug in hoist: please report it."""

    headline = "internal error"


class S3Error(HoistError):
    """An S3 operation failed (metaflow name: ``MetaflowS3Exception``)."""

    headline = "S3 error"


class S3NotFound(S3Error, NotFoundError):
    """The object (or local file to upload) does not exist (``MetaflowS3NotFound``)."""

    headline = "S3 object not found"


class S3BucketNotFound(S3NotFound):
    """The bucket does not exist. A ``S3NotFound``, as metaflow.S3's ``*_many`` calls treat it."""

    headline = "S3 bucket not found"


class S3AccessDenied(S3Error, AccessDeniedError):
    """403 / AccessDenied (``MetaflowS3AccessDenied``)."""

    headline = "access denied"


class S3CredentialsError(S3AccessDenied):
    """Credentials are missing, unreadable, or rejected (bad key or signature).

    Raised at once, never after retries: a configuration error is not transient.
    """

    headline = "S3 credentials error"


class S3URLError(S3Error, InvalidInputError):
    """A URL or key hoist cannot use (``MetaflowS3URLException``)."""

    headline = "invalid S3 URL"


class S3InvalidObject(S3Error, TypeError):
    """A value to upload is not str, bytes-like or a readable, seekable file (``MetaflowS3InvalidObject``)."""

    headline = "invalid object"


class S3InvalidRange(S3Error, InvalidInputError):
    """The requested byte range is outside the object (``MetaflowS3InvalidRange``)."""

    headline = "invalid range"


class S3ObjectExists(S3Error, AlreadyExistsError):
    """The destination exists and overwriting it was refused."""

    headline = "object exists"


# ---- datasets and Parquet files (hoist.load_table, hoist.read_parquet) -------


class DatasetError(HoistError, RuntimeError):
    """A dataset could not be opened, loaded or written; ``.status`` is hoist's status code."""

    headline = "dataset error"


class DatasetValueError(DatasetError, InvalidInputError):
    """A bad filter, column or argument."""


class DatasetNotFoundError(DatasetError, NotFoundError):
    """A missing prefix, object or bucket, or no data files."""


class DatasetPermissionError(DatasetError, AccessDeniedError):
    """The store refused access."""


class DatasetExistsError(DatasetError, AlreadyExistsError):
    """A write found data where ``existing="error"`` forbids it."""


class ParquetError(HoistError, OSError):
    """A Parquet file could not be read (malformed, encrypted, unsupported)."""

    headline = "Parquet error"


class ParquetNotFoundError(ParquetError, NotFoundError):
    """The Parquet file does not exist."""


class ParquetColumnError(ParquetError, KeyError):
    """A requested column is not in the file's schema."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


# metaflow.S3's names: the same classes, so `except MetaflowS3NotFound` catches hoist's errors.
MetaflowS3Exception = S3Error
MetaflowS3NotFound = S3NotFound
MetaflowS3AccessDenied = S3AccessDenied
MetaflowS3URLException = S3URLError
MetaflowS3InvalidObject = S3InvalidObject
MetaflowS3InvalidRange = S3InvalidRange

# Status numbers are pinned in hoist.h and never renumbered. The S3 client's
# own classes (metaflow's names) are finer than the status classes.
_S3_STATUS_CLASSES = {
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

# hoist.S3's class for a status not named above, by its status class.
_S3_FAMILIES = {"not_found": S3NotFound, "access": S3AccessDenied, "exists": S3ObjectExists}

# Per domain, the class for each status class ("" = the domain's base class).
_FAMILIES = {
    "": {
        "not_found": NotFoundError, "access": AccessDeniedError, "invalid_input": InvalidInputError,
        "corrupt_data": CorruptDataError, "transient": TransientError, "unsupported": UnsupportedError,
        "exists": AlreadyExistsError, "io": LocalIOError, "remote": RemoteError, "internal": InternalError,
        "": HoistError,
    },
    "dataset": {
        "not_found": DatasetNotFoundError, "access": DatasetPermissionError,
        "invalid_input": DatasetValueError, "exists": DatasetExistsError, "": DatasetError,
    },
    "parquet": {"not_found": ParquetNotFoundError, "": ParquetError},
}


def _class_name(status: int) -> str:
    from ._hoist import status_class  # the C library's table, so the two never drift

    return status_class(status)


def from_status(status: int, message: str, domain: str = "s3") -> BaseException:
    """The exception for a C status and message: one mapping for every binding.

    ``domain`` is "s3" (hoist.S3), "dataset" (load_table, scan, shards, write),
    "parquet" (read_parquet) or "" (anything else). Cancellation is
    KeyboardInterrupt and out-of-memory MemoryError everywhere.
    """
    cls_name = _class_name(status)
    if cls_name == "cancelled":  # the caller asked to stop (Ctrl-C)
        return KeyboardInterrupt(message)
    if status == 1:  # HOIST_ERR_NOMEM
        return MemoryError(message)
    if domain == "s3":
        if status == 2:  # HOIST_ERR_INVALID_ARG: metaflow.S3 raises ValueError
            return ValueError(message)
        cls = _S3_STATUS_CLASSES.get(status) or _S3_FAMILIES.get(cls_name, S3Error)
    elif domain == "parquet" and status == 205:  # HOIST_ERR_COLUMN_NOT_FOUND
        cls = ParquetColumnError
    elif domain == "dataset" and status == 205:  # a column to load that is not there: a bad argument
        cls = DatasetValueError
    else:
        fam = _FAMILIES.get(domain, _FAMILIES[""])
        cls = fam.get(cls_name, fam[""])
    return cls(message, status)


def _item_error(status: int, message: Optional[str], url: str) -> BaseException:
    """The exception for one failed item of a *_many call."""
    msg = message or "%s: error %d" % (url, status)
    if url not in msg:
        msg = "%s: %s" % (url, msg)
    return from_status(status, msg)
