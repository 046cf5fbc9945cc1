"""``python -m hoist sql ...``: the Python half of the CLI's ``hoist sql`` (the C CLI execs
this, since SQL runs on DuckDB's Python package; docs/sql.md).

    python -m hoist sql "SELECT month, count(*) FROM nyc_taxi GROUP BY 1" --table nyc_taxi=s3://b/nyc_taxi/
    python -m hoist sql "SELECT * FROM nyc_taxi WHERE month = 11" --table nyc_taxi=s3://b/nyc_taxi/ \\
        --output s3://b/nov/ --partition-by month

Exit status as the C CLI's: 0 ok, 1 failed, 2 a bad command line or query, 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def _sql_main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="hoist sql", description="Run SQL over hoist datasets on DuckDB.")
    p.add_argument("query", help="the SQL query")
    p.add_argument("--table", "-t", action="append", default=[], metavar="NAME=URL",
                   help="a table: a name and a dataset URL (prefix, file or glob); repeatable")
    p.add_argument("--output", "-o", metavar="URL", help="write the result there as a dataset (CTAS)")
    p.add_argument("--partition-by", metavar="COL,...", help="with --output: Hive partition columns")
    p.add_argument("--existing", choices=("error", "overwrite", "append"), default="error",
                   help="with --output: what to do with data already there (default: error)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="result format on stdout")
    p.add_argument("--max-rows", type=int, default=40, help="rows shown by --format table (default 40)")
    for opt in ("endpoint", "region", "profile"):
        p.add_argument("--" + opt)
    args = p.parse_args(argv)
    tables = {}
    for spec in args.table:
        name, sep, url = spec.partition("=")
        if not sep or not name or not url:
            p.error("--table: expected NAME=URL, got %r" % spec)
        tables[name] = url
    store = {k: getattr(args, k) for k in ("endpoint", "region", "profile") if getattr(args, k)}
    try:
        import duckdb  # noqa: F401
    except ImportError:
        print("hoist: sql: the duckdb Python package is missing (pip install duckdb) in %s" % sys.executable,
              file=sys.stderr)
        return 1
    import hoist

    try:
        if args.output:
            part = [c for c in args.partition_by.split(",") if c] if args.partition_by else None
            res = hoist.ctas(args.query, args.output, tables=tables, partition_by=part, existing=args.existing,
                             **store)
            print(json.dumps({"output": res.url, "rows": res.rows, "bytes": res.bytes, "write_id": res.write_id,
                              "paths": res.paths, "timings": res.timings}, indent=1))
            return 0
        if args.partition_by:
            p.error("--partition-by needs --output")
        t = hoist.sql(args.query, tables=tables, **store).to_pyarrow()
    except hoist.SQLError as e:
        print("hoist: %s" % e, file=sys.stderr)
        return 2
    except hoist.DatasetValueError as e:
        print("hoist: %s" % e, file=sys.stderr)
        return 2
    except hoist.HoistError as e:
        print("hoist: %s" % e, file=sys.stderr)
        return 1
    if args.format == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(t, sys.stdout.buffer)
    elif args.format == "json":
        import decimal

        def plain(v):  # an integral DECIMAL (DuckDB's sum of integers) as a JSON number
            if isinstance(v, decimal.Decimal) and v == v.to_integral_value():
                return int(v)
            return str(v)

        for row in t.to_pylist():
            print(json.dumps(row, default=plain))
    else:
        import duckdb as ddb

        con = ddb.connect()
        con.register("result", t)
        con.sql("SELECT * FROM result").show(max_rows=args.max_rows)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m hoist sql QUERY --table NAME=URL [...] (see python -m hoist sql --help)")
        return 0 if argv else 2
    if argv[0] != "sql":
        print("hoist: python -m hoist knows one command, 'sql' (the others are the C CLI's)", file=sys.stderr)
        return 2
    try:
        return _sql_main(argv[1:])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
