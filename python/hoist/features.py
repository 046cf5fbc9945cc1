"""Feature-encoding helpers from the seeds' chapter on feature encoding, on Arrow data.

The seeds' ``table_utils`` does::

    def filter_outliers(table, clean_fields):
        valid = numpy.ones(table.num_rows, dtype='bool')
        for field in clean_fields:
            column = table[field].to_numpy()
            minval = numpy.percentile(column, 2)
            maxval = numpy.percentile(column, 98)
            valid &= (column > minval) & (column < maxval)
        return table.filter(valid)

    def sample(table, p):
        return table.filter(numpy.random.random(table.num_rows) < p)

These versions keep the same semantics (linear-interpolated percentiles, as
``numpy.percentile``; strict bounds; a row kept with probability ``p``) but
work on Arrow columns with ``pyarrow.compute``: no pandas, and no NumPy copy
of each column just to compute two percentiles. Input is anything that
exports an Arrow stream (``hoist.Table``, ``pyarrow.Table``, a polars
DataFrame, ...). A ``hoist.Table`` comes back as a ``hoist.Table``; anything
else comes back as a ``pyarrow.Table``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

__all__ = ["filter_outliers", "sample"]


def _to_pyarrow(table: Any):
    import pyarrow as pa

    from .table import Table

    if isinstance(table, pa.Table):
        return table
    if isinstance(table, Table):
        return table.to_pyarrow()
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if hasattr(table, "__arrow_c_stream__"):
        return _without_view_types(pa.table(table))
    raise TypeError("table: expected a hoist.Table, a pyarrow.Table or an object with "
                    "__arrow_c_stream__, got %s" % type(table).__name__)


def _without_view_types(t):
    """polars exports strings as string_view, which pyarrow's filter kernels
    do not take yet; those columns become large_string (a copy of those
    columns only)."""
    import pyarrow as pa

    fields = []
    changed = False
    for f in t.schema:
        if pa.types.is_string_view(f.type):
            fields.append(f.with_type(pa.large_string()))
            changed = True
        elif pa.types.is_binary_view(f.type):
            fields.append(f.with_type(pa.large_binary()))
            changed = True
        else:
            fields.append(f)
    return t.cast(pa.schema(fields, metadata=t.schema.metadata)) if changed else t


def _like_input(original: Any, result):
    from .table import Table

    if isinstance(original, Table):
        return Table._from_arrow(result)
    return result


def filter_outliers(table: Any, fields: Union[str, Sequence[str]], lo: float = 2, hi: float = 98):
    """Keeps the rows whose value in every one of ``fields`` lies strictly
    between that column's ``lo``-th and ``hi``-th percentiles.

    Percentiles interpolate linearly between neighbouring values, as
    ``numpy.percentile`` does by default, so the result equals the seeds'
    ``filter_outliers`` on columns without nulls. Nulls take no part in the
    percentiles, and a row with a null in any of ``fields`` is dropped (the
    seeds' NumPy version turns nulls into NaN, which makes every comparison
    false and drops every row).

    ``fields`` is one column name or a list of them; ``lo`` and ``hi`` are
    percentages with ``0 <= lo < hi <= 100``. Raises ``KeyError`` for a
    column that is not in the table and ``TypeError`` for a non-numeric one.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(fields, str):
        fields = [fields]
    fields = list(fields)
    if not fields:
        raise ValueError("fields: give at least one column name")
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError("%s: expected a number (a percentage), got %s" % (name, type(v).__name__))
    if not (0 <= lo < hi <= 100):
        raise ValueError("lo, hi: need 0 <= lo < hi <= 100, got lo=%r hi=%r" % (lo, hi))
    t = _to_pyarrow(table)
    valid = None
    for field in fields:
        if not isinstance(field, str):
            raise TypeError("fields: column names must be str, got %s" % type(field).__name__)
        if field not in t.column_names:
            raise KeyError("fields: no column %r in the table (columns: %s)" % (field, ", ".join(t.column_names)))
        column = t[field]
        typ = column.type
        if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)):
            raise TypeError("fields: column %r is %s, not numeric" % (field, typ))
        if pa.types.is_decimal(typ):
            column = column.cast(pa.float64())
        if column.null_count == len(column):
            keep = pa.array([False] * len(column), pa.bool_())
        else:
            q = pc.quantile(column, q=[lo / 100.0, hi / 100.0], interpolation="linear")
            minval, maxval = q[0].as_py(), q[1].as_py()
            keep = pc.and_(pc.greater(column, minval), pc.less(column, maxval))
        valid = keep if valid is None else pc.and_(valid, keep)
    # Null comparisons (null values) drop the row, like NaN in NumPy.
    return _like_input(table, t.filter(valid, null_selection_behavior="drop"))


def sample(table: Any, p: float, seed: Optional[int] = None):
    """Keeps each row independently with probability ``p`` (0 <= p <= 1), like
    the seeds' ``sample``. With ``seed`` the choice is reproducible: row i is
    kept when ``numpy.random.default_rng(seed).random(num_rows)[i] < p``.
    """
    import numpy
    import pyarrow as pa

    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError("p: expected a probability (float), got %s" % type(p).__name__)
    if not (0.0 <= p <= 1.0):
        raise ValueError("p: must be between 0 and 1, got %r" % (p,))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError("seed: expected an int or None, got %s" % type(seed).__name__)
    t = _to_pyarrow(table)
    rng = numpy.random.default_rng(seed)
    mask = rng.random(t.num_rows) < p
    return _like_input(table, t.filter(pa.array(mask, pa.bool_())))
