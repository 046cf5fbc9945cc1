"""Issue target (b) of the Parquet writer: write a table held in memory as a
Hive-partitioned Parquet dataset (by month) to the local S3 server, with
hoist and its peers.

Input: the taxi dataset that dataset_load reads (prepare_taxi.py: 12 months,
18 columns, >= 2 GiB of Parquet; --quick: ~300 MB), read back once into one
Arrow table with its `month` column and kept as an uncompressed Arrow IPC
file in bench/cache/dataset_write/ (bench/tools/write_prepare.py;
HOIST_BENCH_WRITE_ROWS=N makes a small table of N rows instead, for
development). Each tool is a child process (bench/tools/write_*.py) that reads
that file into memory and converts it to its own form before the clock
starts; wall_s and cpu_s are the write alone (the process's are in
extra.process_*), peak RSS the whole process. `bytes` is the Arrow table's
size, so CPU-s/GiB is per GiB of table written, the same base for all.

Tools: hoist (hoist.write_table when the package has it, else the C API
hoist_write_dataset through ctypes, the call `hoist load --output` makes),
pyarrow (ds.write_dataset over pyarrow.fs.S3FileSystem, row groups of up to
1 Mi rows), polars (write_parquet(partition_by=..., storage_options)),
duckdb (COPY ... TO 's3://...' (FORMAT parquet, PARTITION_BY (month)) with
the httpfs extension of the duckdb-ext-httpfs wheel), daft
(write_parquet(partition_cols=...) with an S3 IOConfig). All cores; snappy
(HOIST_BENCH_DSW_COMPRESSION=zstd:3,... picks others). The peers run in
.venv-bench (scripts/setup-deps --bench).

hoist-cli: `hoist convert <the source Parquet files in bench/cache> s3://...
--partition-by month`, run in the same rounds but as its own workload ("...,
CLI convert"), not in the ratios: it reads and decodes the source Parquet too,
and its figures are the whole process's. Skipped with HOIST_BENCH_WRITE_ROWS
(no source files then).

The S3 server's CPU seconds during each run (psutil on its process, from
scripts/s3-server's pid file) are in extra.server_cpu_s and
extra.server_cores (server CPU-s / write wall time): a write whose server
uses about a core or more is bound by the server, not by the client.

Each run writes to a fresh prefix of s3://hoist-bench-write/, which is read
back with pyarrow (every row group decoded in the first round, footers after;
12 partition directories and every row expected) and then deleted. The tools
run interleaved, HOIST_BENCH_ROUNDS rounds (default 3): medians with
[min, max], ratios round by round (harness.measure_interleaved).
"""
from __future__ import annotations

import os
import time

from harness import ProcessCPU, run_prepare, server_pid
from scenarios._write_common import (PEERS, TOOLS, envs, peer_python, remove, selected, summarize,
                                     write_job)

BUCKET = "hoist-bench-write"


def run(ctx):
    if not all(os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        ctx.note("skipped: the local S3 server's environment is not set (run through scripts/run-bench)")
        return
    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS") or 3)
    small = os.environ.get("HOIST_BENCH_WRITE_ROWS")
    src = ["--dataset-rows", small] if small else ["--dataset", "quick" if ctx.quick else "full"]
    info = run_prepare(ctx, "write_prepare.py", [*src, "--bucket", BUCKET], "input")
    if info is None:
        return
    ctx.note("input: taxi dataset as one table, %d rows, %d columns (month included), %.0f MiB in Arrow%s; "
             "written partitioned by month (12 partitions)"
             % (info["rows"], info["columns"], info["table_bytes"] / 2**20,
                ", %.2f GiB as the source Parquet" % (info["source_parquet_bytes"] / 2**30)
                if info.get("source_parquet_bytes") else ""))
    ctx.note("%d interleaved rounds; figures are medians, [min, max] over the rounds" % rounds)
    pid = server_pid()
    probes = [ProcessCPU(pid, "server")] if pid else []
    if not probes:
        ctx.note("the S3 server's pid is unknown: its CPU is not recorded")
    peer_py = peer_python(ctx)
    run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-%d" % os.getpid()
    comps = (os.environ.get("HOIST_BENCH_DSW_COMPRESSION") or "snappy").split(",")
    for compression in comps:
        workload = "by month, %s, all cores" % compression.replace(":", " level ")
        hoist_env, peer_env = envs(ctx, "0")
        jobs = []
        for tool in ("hoist",) + PEERS:
            py = ctx.python if tool == "hoist" else peer_py
            env = dict(hoist_env if tool == "hoist" else peer_env)
            slug = "%s-%s" % (tool, compression.replace(":", ""))

            def output(r, slug=slug):
                return "s3://%s/%s/%s-r%d/" % (BUCKET, run_id, slug, r)

            def argv(r, tool=tool, py=py, output=output, compression=compression):
                return [py, str(TOOLS / ("write_%s.py" % tool)), info["path"], output(r), "0", compression, "month"]

            if selected(tool):
                jobs.append(write_job(ctx, tool, workload, argv, output, env=env, rows=info["rows"],
                                      table_bytes=info["table_bytes"], check_python=peer_py, expect_partitions=12))
        if info.get("source_root") and selected("hoist-cli"):
            def cli_output(r, compression=compression):
                return "s3://%s/%s/hoist-cli-%s-r%d/" % (BUCKET, run_id, compression.replace(":", ""), r)

            def cli_argv(r, cli_output=cli_output, compression=compression):
                return [ctx.hoist, "convert", info["source_root"] + "/", cli_output(r), "--partition-by", "month",
                        "--compression", compression, "-q"]

            jobs.append(write_job(ctx, "hoist-cli", workload + ", CLI convert (reads the source Parquet too)",
                                  cli_argv, cli_output, env=hoist_env, rows=info["rows"],
                                  table_bytes=info["table_bytes"], check_python=peer_py, expect_partitions=12,
                                  whole_process=True))
        for m in ctx.measure_interleaved(jobs, rounds, probes=probes):
            s = m.extra.get("server_cpu_s")
            if m.ok and s is not None and m.wall_s:
                m.extra["server_cores"] = round(s / m.wall_s, 2)
                m.extra["server_cpu_s_per_gib"] = round(s / (m.bytes / 2**30), 3) if m.bytes else None
        ctx.compare_interleaved(workload)
        summarize(ctx, workload)
    remove(peer_py, "s3://%s/%s/" % (BUCKET, run_id))
