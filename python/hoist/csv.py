"""CSV → Arrow (docs/csv.md).

``read_csv(url, ...)`` parses a CSV file or S3 object (plain, ``.gz`` or
``.zst``) on all cores with the GIL released and returns a :class:`hoist.Table`, which
pyarrow, polars, pandas and duckdb take without a copy::

    import pyarrow as pa, hoist
    table = pa.table(hoist.read_csv("trips.csv.gz", columns=["fare"]))
"""

import os
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from . import _hoist
from ._hoist import CsvError
from .table import Table

__all__ = ["read_csv", "write_csv", "CsvError"]


def _byte(name: str, value: Optional[str], none: int) -> int:
    if value is None or value is False:
        return none
    if isinstance(value, str) and len(value.encode()) == 1:
        return value.encode()[0]
    raise ValueError(f"{name} must be one ASCII character, not {value!r}")


def _strs(name: str, values: Optional[Sequence[str]]):
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"{name} must be a list of str, not a str")
    return [str(v) for v in values]


def read_csv(url: Union[str, "os.PathLike[str]"], *, delimiter: Optional[str] = None, quote: Optional[str] = '"',
             escape: Optional[str] = None, double_quote: bool = True, header: Optional[bool] = None,
             comment: Optional[str] = None, null_values: Optional[Sequence[str]] = None,
             true_values: Optional[Sequence[str]] = None, false_values: Optional[Sequence[str]] = None,
             columns: Optional[Sequence[str]] = None, column_names: Optional[Sequence[str]] = None,
             column_types: Optional[Mapping[str, Any]] = None, skip_bad_rows: bool = False,
             strings_can_be_null: bool = False, threads: int = 0) -> Table:
    """Read a CSV file into a hoist.Table.

    url: a local path, file:// URL or s3://bucket/key (credentials and
    endpoint from the environment, as hoist.S3; fetched in ranges and parsed
    as they arrive); gzip and zstd are recognised by their magic bytes. delimiter: None sniffs it among , \\t ; |. quote: the
    quote character (None: no quoting). escape: an escape character (e.g.
    "\\\\"). header: None sniffs whether the first row is a header (a file
    without one gets columns f0, f1, ...). null_values / true_values /
    false_values replace pyarrow's default spellings. columns: the columns to
    return, in order. column_names: names for all columns (a header row, when
    header=True, is then skipped). column_types: {name: type}, a type being a
    pyarrow DataType or its name ("int64", "double", "bool", "date32",
    "timestamp[us]", "timestamp[us, tz=UTC]", "string", "null"); other
    columns are inferred from rows sampled throughout the file.
    skip_bad_rows: leave out rows that cannot be read instead of failing
    (Table.load_stats["bad_rows"] / ["bad_lines"] tell which). threads: 0 =
    all cores.
    Raises CsvError (a ValueError) naming the line and column of bad input,
    KeyError for an unknown column, FileNotFoundError, OSError.
    """
    path = os.fspath(url)
    cap, stats = _hoist.read_csv(
        path, **_option_kwargs(delimiter=delimiter, quote=quote, escape=escape, double_quote=double_quote,
                               header=header, comment=comment, null_values=null_values, true_values=true_values,
                               false_values=false_values, columns=columns, column_names=column_names,
                               column_types=column_types, skip_bad_rows=skip_bad_rows,
                               strings_can_be_null=strings_can_be_null, threads=threads))
    stats_d: Dict[str, Any] = dict(stats)
    return Table(_hoist.TableData.from_stream(cap), stats_d)


_DEFAULTS: Dict[str, Any] = dict(delimiter=None, quote='"', escape=None, double_quote=True, header=None, comment=None,
                                 null_values=None, true_values=None, false_values=None, columns=None,
                                 column_names=None, column_types=None, skip_bad_rows=False,
                                 strings_can_be_null=False, threads=0)


def _option_kwargs(**o: Any) -> Dict[str, Any]:
    """read_csv's keywords, normalised for the C side (bytes as ints, lists of str)."""
    types = None
    if o["column_types"] is not None:
        types = [(str(k), str(v)) for k, v in dict(o["column_types"]).items()]
    header = o["header"]
    return dict(
        delimiter=_byte("delimiter", o["delimiter"], -1), quote=_byte("quote", o["quote"], 0),
        escape=_byte("escape", o["escape"], 0), double_quote=int(bool(o["double_quote"])),
        header=-1 if header is None else int(bool(header)), comment=_byte("comment", o["comment"], 0),
        null_values=_strs("null_values", o["null_values"]), true_values=_strs("true_values", o["true_values"]),
        false_values=_strs("false_values", o["false_values"]), columns=_strs("columns", o["columns"]),
        column_names=_strs("column_names", o["column_names"]), column_types=types,
        skip_bad_rows=int(bool(o["skip_bad_rows"])), strings_can_be_null=int(bool(o["strings_can_be_null"])),
        threads=int(o["threads"]))


def _dataset_options(options: Optional[Mapping[str, Any]]) -> Any:
    """The csv= options of load_table/scan (read_csv's keywords but columns,
    which are load_table's) as the capsule _hoist.Dataset takes."""
    o = dict(_DEFAULTS)
    for k, v in dict(options or {}).items():
        if k not in _DEFAULTS or k == "columns":
            raise TypeError("csv: unexpected option %r (read_csv's keywords, without columns)" % (k,))
        o[k] = v
    return _hoist.csv_options(**_option_kwargs(**o))


def write_csv(data: Any, url: Union[str, "os.PathLike[str]"], *, delimiter: str = ",", quote: Optional[str] = '"',
              header: bool = True, null_string: str = "", quote_strings: bool = False) -> int:
    """Write an Arrow table or stream as one CSV file or S3 object; returns the rows written.

    data: anything with ``__arrow_c_stream__`` (a pyarrow Table or
    RecordBatchReader, a polars DataFrame, a hoist.Table, hoist.scan(...)),
    consumed once. url: a local path, file:// URL or s3://bucket/key; the text
    is uploaded while it is made (S3 multipart parts, or a temp file renamed
    at the end), and nothing appears at url unless the whole stream was
    written. RFC 4180 quoting with ``quote`` (None: no quoting; a value that
    needs it then raises); ``quote_strings=True`` quotes every string as
    pyarrow does. Nulls are written as ``null_string``. Dates, times and
    timestamps are ISO 8601, decimals keep their scale; pyarrow.csv reads the
    text back to equal values (docs/csv.md).
    """
    from .write import _stream_capsule

    if not isinstance(null_string, str):
        raise TypeError("null_string must be a str")
    kw = _option_kwargs(**dict(_DEFAULTS, delimiter=delimiter, quote=quote, header=bool(header),
                               null_values=[null_string]))
    opts = _hoist.csv_options(**kw, quote_strings=int(bool(quote_strings)))
    return int(_hoist.write_csv(_stream_capsule(data), os.fspath(url), opts))
