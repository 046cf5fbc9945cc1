"""Filters on decimal columns, on the local S3 server: decimal128 stored as
INT32 (precision 9), INT64 (18) and FIXED_LEN_BYTE_ARRAY (38), and decimal256
(precision 50), with nulls and negative values, loaded by hoist with a filter
and compared with pyarrow.dataset's filtering and with exact Python Decimal
arithmetic."""
import decimal
import pathlib
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import hoist_ctypes as hc  # noqa: E402

D = decimal.Decimal
decimal.getcontext().prec = 100

TYPES = {
    "d9": pa.decimal128(9, 2),
    "d18": pa.decimal128(18, 4),
    "d38": pa.decimal128(38, 10),
    "d256": pa.decimal256(50, 5),
}


@pytest.fixture()
def s3fs(s3_env):
    scheme, host = s3_env["AWS_ENDPOINT_URL"].split("://")
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=s3_env["AWS_ACCESS_KEY_ID"],
                             secret_key=s3_env["AWS_SECRET_ACCESS_KEY"], region=s3_env["AWS_REGION"])


def decimal_table(n, seed, offset):
    rng = np.random.default_rng(seed)
    cols = {"id": pa.array(np.arange(offset, offset + n), pa.int64())}
    for name, t in TYPES.items():
        # Unscaled integers spread over the precision, both signs, with some
        # values sitting exactly on the literals the tests use.
        digits = min(t.precision, 30)
        mag = rng.integers(0, 10 ** min(digits, 18), n).astype(object)
        if digits > 18:
            mag = mag * (10 ** (digits - 18)) + rng.integers(0, 10 ** (digits - 18), n).astype(object)
        sign = np.where(rng.random(n) < 0.4, -1, 1).astype(object)
        vals = []
        for i in range(n):
            if i % 11 == 3:
                vals.append(None)
            elif i % 13 == 5:
                vals.append(D("12.35").quantize(D(1).scaleb(-t.scale)) * (1 if i % 2 else -1))
            elif i % 17 == 6:
                vals.append(D("3").quantize(D(1).scaleb(-t.scale)))
            elif i % 19 == 7:
                vals.append(D(0))
            else:
                vals.append(D(int(mag[i] * sign[i])).scaleb(-t.scale))
        cols[name] = pa.array(vals, t)
    return pa.table(cols)


@pytest.fixture()
def decimals(bucket, s3fs):
    t = decimal_table(6000, 7, 0)
    # pyarrow stores precision <= 18 decimals as INT32/INT64 only when asked.
    with s3fs.open_output_stream(f"{bucket}/dec/part-0.parquet") as f:
        pq.write_table(t.slice(0, 3500), f, row_group_size=1000, store_decimal_as_integer=True)
    with s3fs.open_output_stream(f"{bucket}/dec/part-1.parquet") as f:
        pq.write_table(t.slice(3500), f, row_group_size=1200)
    return f"{bucket}/dec", t


def test_physical_types(decimals, s3fs):
    path, _ = decimals
    md = pq.ParquetFile(s3fs.open_input_file(path + "/part-0.parquet")).metadata
    phys = {md.schema.column(i).name: md.schema.column(i).physical_type for i in range(md.num_columns)}
    assert phys["d9"] == "INT32" and phys["d18"] == "INT64"
    assert phys["d38"] == "FIXED_LEN_BYTE_ARRAY" and phys["d256"] == "FIXED_LEN_BYTE_ARRAY"


LITERALS = ["12.345", "12.35", "-12.345", "-12.35", "3", "0", "-0.001", "1e3", "123456.78901",
            "-98765432109876543210.123456789", "1e100", "-1e100"]
OPS = [">", ">=", "<", "<=", "=", "!="]
PYOPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
         "<=": lambda a, b: a <= b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b}


def exact_ids(table, column, op, lit):
    want = D(lit)
    ids = table.column("id").to_pylist()
    vals = table.column(column).to_pylist()
    return sorted(i for i, v in zip(ids, vals) if v is not None and PYOPS[op](v, want))


def pyarrow_ids(s3fs, path, column, op, lit):
    """pyarrow.dataset's own filtering, when its decimal casts can express
    the comparison (a literal wider than the column's precision cannot)."""
    t = TYPES[column]
    want = D(lit)
    exp = want.as_tuple().exponent
    scale = max(t.scale, -exp if exp < 0 else 0)
    digits = max(want.adjusted() + 1, 1) + scale if want != 0 else 1
    prec = max(digits, t.precision - t.scale + scale, 1)
    if prec > 76 or (isinstance(t, pa.Decimal128Type) and prec > 38):
        return None
    ltype = pa.decimal256(prec, scale) if isinstance(t, pa.Decimal256Type) or prec > 38 else pa.decimal128(prec, scale)
    f = pc.field(column)
    try:
        lit_s = pa.scalar(want, ltype)
        expr = {">": f > lit_s, ">=": f >= lit_s, "<": f < lit_s, "<=": f <= lit_s, "=": f == lit_s,
                "!=": f != lit_s}[op]
        got = pads.dataset(path, filesystem=s3fs, format="parquet").to_table(columns=["id"], filter=expr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return sorted(got.column("id").to_pylist())


@pytest.mark.parametrize("column", list(TYPES))
def test_compare_matches_pyarrow(decimals, s3fs, column):
    path, table = decimals
    compared = 0
    for lit in LITERALS:
        for op in OPS:
            expr = f"{column} {op} {lit}"
            got = hc.Dataset("s3://" + path, columns=["id", column], filter=expr).load()
            got_ids = sorted(got.column("id").to_pylist())
            want = exact_ids(table, column, op, lit)
            assert got_ids == want, expr
            ref = pyarrow_ids(s3fs, path, column, op, lit)
            if ref is not None:
                assert got_ids == ref, expr
                compared += 1
            # The loaded values are the table's own, unchanged.
            assert got.schema.field(column).type == TYPES[column]
    print(column, "compared with pyarrow:", compared, "of", len(LITERALS) * len(OPS))
    assert compared >= len(LITERALS) * len(OPS) // 2


def test_in_null_and_boolean_logic(decimals, s3fs):
    path, table = decimals
    rows = table.to_pylist()
    cases = [
        ("d9 IN (12.35, -12.35, 3, 7.777)", lambda r: r["d9"] is not None and r["d9"] in (D("12.35"), D("-12.35"), D(3))),
        ("d18 NOT IN (0, 3)", lambda r: r["d18"] is not None and r["d18"] not in (D(0), D(3))),
        ("d38 IS NULL", lambda r: r["d38"] is None),
        ("d256 IS NOT NULL AND d256 < -12.345", lambda r: r["d256"] is not None and r["d256"] < D("-12.345")),
        ("NOT (d9 > 12.345) OR d256 = 3", lambda r: (r["d9"] is not None and not r["d9"] > D("12.345"))
         or (r["d256"] is not None and r["d256"] == 3)),
        ("12.345 < d38 AND d18 >= -0.00005", lambda r: r["d38"] is not None and r["d38"] > D("12.345")
         and r["d18"] is not None and r["d18"] >= D("-0.00005")),
    ]
    for expr, pred in cases:
        got = hc.Dataset("s3://" + path, columns=["id"], filter=expr).load()
        assert sorted(got.column("id").to_pylist()) == sorted(r["id"] for r in rows if pred(r)), expr
    ref = pads.dataset(path, filesystem=s3fs, format="parquet").to_table(
        columns=["id"], filter=pc.field("d9").isin(pa.array([D("12.35"), D("-12.35"), D("3.00")], TYPES["d9"])))
    got = hc.Dataset("s3://" + path, columns=["id"], filter="d9 IN (12.35, -12.35, 3)").load()
    assert sorted(got.column("id").to_pylist()) == sorted(ref.column("id").to_pylist())


def test_type_errors(decimals):
    path, _ = decimals
    for expr in ["d9 = 'abc'", "d18 = TRUE", "d38 > DATE '2024-01-01'"]:
        with pytest.raises(hc.HoistError) as e:
            hc.Dataset("s3://" + path, filter=expr)
        assert e.value.status == 501, expr
        assert "does not match the type of column" in e.value.message


@pytest.mark.parametrize("column", list(TYPES))
def test_row_groups_pruned_by_decimal_statistics(bucket, s3fs, column):
    """Sorted decimals in many row groups: a range filter skips the row groups
    whose min/max (INT32/INT64 or big-endian FLBA statistics) rule them out,
    and the rows still equal the exact answer."""
    t = TYPES[column]
    n = 4000
    vals = [(D(k - 2000) * D("1.25")).quantize(D(1).scaleb(-t.scale)) for k in range(n)]
    table = pa.table({"id": pa.array(range(n), pa.int64()), column: pa.array(vals, t)})
    path = f"{bucket}/sorted-{column}"
    with s3fs.open_output_stream(f"{path}/part-0.parquet") as f:
        pq.write_table(table, f, row_group_size=500, store_decimal_as_integer=True)
    for op, lit in [(">", "2000.5"), ("<=", "-2400"), ("=", "12.50"), (">=", "-0.001")]:
        expr = f"{column} {op} {lit}"
        ds = hc.Dataset("s3://" + path, columns=["id", column], filter=expr)
        got = sorted(ds.load().column("id").to_pylist())
        assert got == exact_ids(table, column, op, lit), expr
        kept = {i // 500 for i in got}
        # sorted data: every row group without a matching row is ruled out
        assert ds.stats().row_groups_pruned == 8 - len(kept), (expr, kept)
        ds.close()
