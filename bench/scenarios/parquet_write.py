"""Issue target (a) of the Parquet writer: encode a table held in memory to
one Parquet file on /dev/shm, with hoist and its peers, 1 thread and all
cores, snappy and zstd level 3.

Input: the 18-column taxi table of pq_prepare.py, 10 M rows (--quick: 2 M;
HOIST_BENCH_WRITE_ROWS overrides, for development), made once by
bench/tools/write_prepare.py into an uncompressed Arrow IPC file in
bench/cache/pq_write/. Each tool is a child process (bench/tools/write_*.py)
that reads that file fully into memory, converts it to its own in-memory form
(a polars DataFrame, a DuckDB table, a daft DataFrame) and only then starts the
clock: the Measurement's wall_s and cpu_s are the write alone (CPU of all the
process's threads); the whole process's are in extra.process_*. Peak RSS is
the whole process (input table included; extra.rss_before_write_mib is the
RSS when the write started). `bytes` is the Arrow table's size, the same for
every tool, so CPU-s/GiB and Gbit/s are per GiB of table written.

Tools: hoist (hoist.write_table when the package has it, else the C API
hoist_write_dataset through ctypes: bench/tools/_hoist_write.py), pyarrow
(pq.write_table), polars (write_parquet), duckdb (COPY ... TO (FORMAT
parquet)), daft (write_parquet(single_file=True)). Every tool is asked for
1 Mi-row row groups where it takes the option (daft does not) and zstd level 3
(daft takes no level). The peers run in .venv-bench (scripts/setup-deps
--bench). 1 thread: hoist's encoder threads = 1, pa.set_cpu_count(1),
POLARS_MAX_THREADS=1, SET threads=1, daft.set_runner_native(num_threads=1).

hoist-cli (all cores only): `hoist convert <the same table as Parquet>
/dev/shm/....parquet --compression ...`, when parquet_decode's copy of the table
(bench/cache/pq_decode/taxi-ROWS.parquet, same generator and seeds) exists; run
in the same rounds as its own workload ("..., CLI convert"), not in the
ratios: it decodes that Parquet file too, and its figures are the process's.

The tools run interleaved, HOIST_BENCH_ROUNDS rounds (default 3); figures are
medians with the spread over the rounds, ratios are taken round by round
(harness.measure_interleaved). Every output is read back with pyarrow (all
row groups decoded in the first round, the footers' row counts after) and a
wrong row count fails the tool, so a broken writer cannot win. Outputs are
deleted after each run. ctx.summary has, per workload, hoist against the
fastest peer and its file size against pyarrow's.
"""
from __future__ import annotations

import os
from pathlib import Path

from harness import run_prepare
from scenarios._write_common import PEERS, TOOLS, envs, peer_python, selected, summarize, write_job

SHM = Path("/dev/shm") / ("hoist-bench-pqw-%d" % os.getuid())
COMPRESSIONS = ("snappy", "zstd:3")


def run(ctx):
    rows = int(os.environ.get("HOIST_BENCH_WRITE_ROWS") or (2_000_000 if ctx.quick else 10_000_000))
    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS") or 3)
    info = run_prepare(ctx, "write_prepare.py", ["--taxi", str(rows)], "input")
    if info is None:
        return
    ctx.note("input: taxi table, %d rows, %d columns, %.0f MiB in Arrow, read from %s into memory by each tool"
             % (info["rows"], info["columns"], info["table_bytes"] / 2**20, os.path.basename(info["path"])))
    ctx.note("%d interleaved rounds; figures are medians, [min, max] over the rounds" % rounds)
    peer_py = peer_python(ctx)
    SHM.mkdir(parents=True, exist_ok=True)
    for compression in COMPRESSIONS:
        for threads, label in (("1", "1 thread"), ("0", "all cores")):
            workload = "%s, %s" % (compression.replace(":", " level "), label)
            hoist_env, peer_env = envs(ctx, threads)
            jobs = []
            for tool in ("hoist",) + PEERS:
                py = ctx.python if tool == "hoist" else peer_py
                env = dict(hoist_env if tool == "hoist" else peer_env)
                if tool == "polars" and threads == "1":
                    env["POLARS_MAX_THREADS"] = "1"
                slug = "%s-%s-%s" % (tool, compression.replace(":", ""), threads)

                def output(r, slug=slug):
                    return str(SHM / ("%s-r%d.parquet" % (slug, r)))

                def argv(r, tool=tool, py=py, output=output, threads=threads, compression=compression):
                    return [py, str(TOOLS / ("write_%s.py" % tool)), info["path"], output(r), threads, compression]

                if selected(tool):
                    jobs.append(write_job(ctx, tool, workload, argv, output, env=env, rows=info["rows"],
                                          table_bytes=info["table_bytes"], check_python=peer_py))
            source = TOOLS.parent / "cache" / "pq_decode" / ("taxi-%d.parquet" % info["rows"])
            if threads == "0" and source.exists() and selected("hoist-cli"):
                def cli_output(r, compression=compression):
                    return str(SHM / ("hoist-cli-%s-r%d.parquet" % (compression.replace(":", ""), r)))

                def cli_argv(r, cli_output=cli_output, compression=compression):
                    return [ctx.hoist, "convert", str(source), cli_output(r), "--compression", compression, "-q"]

                jobs.append(write_job(ctx, "hoist-cli", workload + ", CLI convert (decodes a Parquet copy too)",
                                      cli_argv, cli_output, env=hoist_env, rows=info["rows"],
                                      table_bytes=info["table_bytes"], check_python=peer_py, whole_process=True))
            ctx.measure_interleaved(jobs, rounds)
            ctx.compare_interleaved(workload)
            summarize(ctx, workload)
    try:
        SHM.rmdir()
    except OSError:
        pass
