"""Issue 16's Iceberg benchmark: load an Apache Iceberg table of the taxi data from the local
S3 server into Arrow, with hoist and its peers.

Table (bench/tools/iceberg_prepare.py, made once): dataset_load's taxi data re-written by hoist
with the month column kept in the files, registered as bench.taxi_quick / bench.taxi_full in a
pyiceberg SqlCatalog (SQLite, bench/cache/iceberg/catalog.db), identity-partitioned by month.

Workloads as dataset_load's: (a) all columns; (b) trip_distance, total_amount; (c) those two
with passenger_count > 1.

Tools (child processes, interleaved over HOIST_BENCH_ROUNDS rounds, medians):
  hoist      hoist.load_table(hoist.iceberg.table(<catalog URI>, ident), columns=, filter=): the
             metadata file from the SQLite catalog (sqlite3), hoist's own planning (src/iceberg),
             hoist loads; pyiceberg is not imported
  pyiceberg  table.scan(row_filter=, selected_fields=).to_arrow() (pyarrow reads the files)
  polars     pl.scan_iceberg(<pyiceberg Table>) + select/filter, collected
  duckdb     iceberg_scan('<metadata.json>') with the iceberg/avro/httpfs extensions of the
             duckdb-ext-* wheels (.venv-bench; nothing downloaded). duckdb reads the Iceberg
             metadata itself; pyiceberg and polars open the catalog with pyiceberg's SqlCatalog
             (SQLAlchemy + the metadata JSON) and plan with pyiceberg inside the measured
             process, as a user's job would; hoist reads the same catalog row and plans natively.
"""
from __future__ import annotations

import os

from harness import ROOT, Job, result_line, run_prepare
from scenarios._write_common import peer_python, selected

TOOLS = ROOT / "bench" / "tools"
WORKLOADS = {"all": "a_all_columns", "two": "b_two_columns", "two_filtered": "c_two_columns_filtered"}


def run(ctx):
    if not all(os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        ctx.note("skipped: the local S3 server's environment is not set (run through scripts/run-bench)")
        return
    info = run_prepare(ctx, "iceberg_prepare.py", ["--quick"] if ctx.quick else [], "Iceberg table")
    if info is None:
        return
    ctx.note("Iceberg table %s: %d files, %.2f GiB, %d rows, identity-partitioned by month; catalog %s"
             % (info["identifier"], info["files"], info["size"] / 2**30, info["rows"], info["catalog"]))
    py, peer_py = ctx.python, peer_python(ctx)
    env = {"PYTHONPATH": os.pathsep.join([str(TOOLS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "POLARS_ICEBERG_PLANNER": "pyiceberg", "OPENBLAS_NUM_THREADS": "1"}
    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS", "3"))
    cat, ident = info["catalog"], info["identifier"]

    def read_result(m, _round):
        r = result_line(m)
        if r:
            m.rows = r["rows"]
            m.extra["table_bytes"] = r["table_bytes"]

    for wl, workload in WORKLOADS.items():
        tools = [("hoist", [py, str(TOOLS / "iceberg_load_hoist.py"), cat, ident, wl]),
                 ("pyiceberg", [py, str(TOOLS / "iceberg_load_pyiceberg.py"), cat, ident, wl]),
                 ("polars", [py, str(TOOLS / "iceberg_load_polars.py"), cat, ident, wl]),
                 ("duckdb", [peer_py, str(TOOLS / "iceberg_load_duckdb.py"), info["metadata_location"], ident, wl])]
        jobs = [Job(tool, workload, argv, env=env, bytes=info["bytes"][wl], objects=info["files"], after=read_result)
                for tool, argv in tools if selected(tool)]
        ctx.measure_interleaved(jobs, rounds=rounds)
        ctx.compare_interleaved(workload, ours="hoist")
        rows = {m.tool: m.rows for m in ctx.measurements if m.workload == workload and m.ok and m.rows}
        if len(set(rows.values())) > 1:
            ctx.note("row counts differ on %s: %s" % (workload, rows))
