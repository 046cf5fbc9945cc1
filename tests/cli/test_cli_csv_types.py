"""`hoist load --output x.csv` writes decimal and time-of-day cells as their
values (they used to come out as the type's format string, "<d:9,2>"), as
pyarrow's CSV writer does (src/csv/csv_write.c): times carry the unit's
digits of fraction even when zero."""
import csv
import decimal

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import run_cli

D = decimal.Decimal


def time_text(v, per):
    secs, frac = divmod(v, per)
    s = "%02d:%02d:%02d" % (secs // 3600, secs // 60 % 60, secs % 60)
    if per > 1:
        s += ".%0*d" % ({1000: 3, 1000000: 6, 1000000000: 9}[per], frac)
    return s


def test_decimal_and_time_cells(hoist_cli, tmp_path):
    d9 = [D("12.30"), D("-0.05"), None, D("0.00"), D("-9999999.99"), D("3.00")]
    d38 = [D("1.0000000001"), D("-0.0000000001"), D("12345678901234567890.1234567890"), None,
           D("-99999999999999999999999999.9999999999"), D("0E-10")]
    d256 = [D("-1234567890123456789012345678901234567890.12345"), D("0.00001"), None, D("7.00000"),
            D("99999999999999999999999999999999999999999999.99999"), D("-0.50000")]
    d0 = [D(5), D(-5), D(0), None, D(12345678901234567), D(-1)]
    t_ms = [0, 3723004, 86399999, None, 1000, 59]
    t_ns = [0, 3723000000001, 86399999999999, 5, None, 60000000000]
    t = pa.table({
        "d9": pa.array(d9, pa.decimal128(9, 2)),
        "d38": pa.array(d38, pa.decimal128(38, 10)),
        "d256": pa.array(d256, pa.decimal256(50, 5)),
        "d0": pa.array(d0, pa.decimal128(18, 0)),
        "t_ms": pa.array(t_ms, pa.time32("ms")),
        "t_ns": pa.array(t_ns, pa.time64("ns")),
    })
    src = tmp_path / "data"
    src.mkdir()
    pq.write_table(t, src / "part-0.parquet")
    out = tmp_path / "x.csv"
    run_cli(hoist_cli, "load", str(src), "--output", str(out), check=True)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["d9", "d38", "d256", "d0", "t_ms", "t_ns"]
    body = rows[1:]
    assert len(body) == 6
    for col, (vals, fmt) in enumerate([(d9, lambda v: format(v, "f")), (d38, lambda v: format(v, "f")),
                                       (d256, lambda v: format(v, "f")), (d0, lambda v: format(v, "f")),
                                       (t_ms, lambda v: time_text(v, 1000)),
                                       (t_ns, lambda v: time_text(v, 1000000000))]):
        want = ["" if v is None else fmt(v) for v in vals]
        got = [r[col] for r in body]
        assert got == want, (rows[0][col], got, want)
        # and the text reads back to the same value
        if col < 4:
            assert [D(g) if g else None for g in got] == vals
