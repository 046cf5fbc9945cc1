"""Issue 5's benchmark: load a taxi-like, Hive-partitioned Parquet dataset from
the local S3 server into Arrow, three ways, with hoist and its peers.

Dataset: 12 monthly partitions (month=1..12), several files each, 18 columns,
written by pyarrow (snappy, 256 Ki-row row groups), >= 2 GiB (--quick: ~300 MB),
plus the same rows as CSV for the CSV work to come. Generated once into
bench/cache/ and uploaded once to s3://hoist-bench-taxi/taxi/.

Workloads: (a) all columns; (b) trip_distance, total_amount; (c) those two
with `passenger_count > 1`; (d) issue 13's overlap measure: the CLI's
all-columns load against its two halves done alone (see measure_overlap).
polars runs twice: collect()'s default engine (streaming, polars >= 1.3x)
and its in-memory engine. The S3 server's CPU seconds during each run are
recorded (extra.server_cpu_s, server_cores): client and server share the
machine's cores, so a load that keeps the server busy is bound by it.

Tools (each a child Python process from bench/tools/, measured by the
harness: wall, CPU-s, peak RSS): hoist CLI (`hoist load`), hoist Python
(`hoist.load_table`), the seeds' recipe (seed 002: metaflow.S3.get_many to temp
files + ThreadPoolExecutor of pq.read_table(use_threads=False) +
concat_tables), pyarrow.dataset over pyarrow's S3FileSystem,
polars.scan_parquet over s3://, and in .venv-bench (scripts/setup-deps --bench,
pins that must not move the test environment): daft.read_parquet over s3://
and duckdb read_parquet with the httpfs extension of the duckdb-ext-httpfs
wheel (LOADed from its path; nothing is downloaded).

`bytes` (hence Gbit/s) is what the workload logically needs from storage:
the whole dataset for (a); the compressed column chunks of the projected
columns (plus passenger_count for (c)) for (b) and (c). Every tool in a
workload is credited the same bytes, so Gbit/s ratios equal speed ratios.
Each measurement's extra has the resulting table size (pyarrow's nbytes) and
peak RSS / table size.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import ROOT, Job, ProcessCPU, result_line, run_prepare, server_pid
from scenarios._write_common import peer_python, selected

TOOLS = ROOT / "bench" / "tools"
WORKLOADS = {"all": "a_all_columns", "two": "b_two_columns", "two_filtered": "c_two_columns_filtered"}
TWO = ["trip_distance", "total_amount"]  # must match bench/tools/_common.py
FILTER = "passenger_count > 1"


# --------------------------------------------------------------------------
# run

def run(ctx):
    env_keys = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    if not all(os.environ.get(k) for k in env_keys):
        ctx.note("skipped: the local S3 server's environment is not set (run through scripts/run-bench)")
        return
    # Everything that needs pyarrow/boto3 runs in a child: a measured child's
    # peak RSS starts at the harness's own high-water mark (vfork + exec).
    info = run_prepare(ctx, "prepare_taxi.py", ["--quick"] if ctx.quick else [], "dataset")
    if info is None:
        return
    url, nbytes = info["url"], info["bytes"]
    files = range(info["files"])
    ctx.note("dataset %s: %d files, %.2f GiB, %d rows, 12 monthly partitions, 18 columns"
             % (url, info["files"], info["size"] / 2**30, info["rows"]))

    py = ctx.python
    env = {"PYTHONPATH": os.pathsep.join([str(TOOLS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "METAFLOW_S3_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"]}
    # The interpreter and libraries alone take memory: recorded so that peak
    # RSS / table size can be read for what it is on small tables.
    base = ctx.measure("python+pyarrow baseline", "baseline",
                       [py, "-c", "import pyarrow, pyarrow.parquet, pyarrow.dataset, hoist"], env=env)
    ctx.note("baseline RSS of a Python process with pyarrow and hoist imported: %.0f MiB" % base.peak_rss_mib)

    # Warm the server's page cache so the first tool measured is not penalised.
    subprocess.run([py, str(TOOLS / "load_pyarrow_dataset.py"), url, "all"], env={**os.environ, **env},
                   capture_output=True, timeout=3600)

    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS", "3"))
    # the S3 server's CPU during each run, beside the client's: on a machine
    # they share, a load that keeps the server busy is bound by it
    pid = server_pid()
    probes = [ProcessCPU(pid, "server")] if pid else []
    peer_py = peer_python(ctx)

    def read_result(m, _round):
        r = result_line(m)
        if r:
            m.rows = r["rows"]
            m.extra["table_bytes"] = r["table_bytes"]
            m.extra["columns"] = r["columns"]
            if "bytes_fetched" in r:
                m.extra["bytes_fetched"] = r["bytes_fetched"]

    for wl, workload in WORKLOADS.items():
        b = nbytes[wl]
        cli = [ctx.hoist, "load", url]
        if wl != "all":
            cli += ["--columns", ",".join(TWO)]
        if wl == "two_filtered":
            cli += ["--filter", FILTER]
        tools = [
            ("hoist", [py, str(TOOLS / "load_hoist_python.py"), url, wl]),
            ("hoist-cli", cli),
            ("seeds-recipe (metaflow.S3)", [py, str(TOOLS / "load_seeds_recipe.py"), url, wl]),
            ("pyarrow.dataset", [py, str(TOOLS / "load_pyarrow_dataset.py"), url, wl]),
            ("polars", [py, str(TOOLS / "load_polars.py"), url, wl]),
            ("polars (in-memory engine)", [py, str(TOOLS / "load_polars.py"), url, wl],
             {"HOIST_BENCH_POLARS_ENGINE": "in-memory"}),
            ("daft", [peer_py, str(TOOLS / "load_daft.py"), url, wl]),
            ("duckdb+httpfs", [peer_py, str(TOOLS / "load_duckdb.py"), url, wl]),
        ]
        # Interleaved (ABCD ABCD ...), medians over the rounds: a slow moment of the
        # machine hits every tool alike instead of one.
        jobs = [Job(t[0], workload, t[1], env={**env, **(t[2] if len(t) > 2 else {})}, bytes=b,
                    objects=len(files), after=read_result)
                for t in tools if selected(t[0])]
        for m in ctx.measure_interleaved(jobs, rounds=rounds, probes=probes):
            cpu = m.extra.get("server_cpu_s")
            if m.ok and isinstance(cpu, (int, float)) and m.wall_s > 0:
                m.extra["server_cores"] = round(cpu / m.wall_s, 2)
        table_bytes = next((m.extra.get("table_bytes") for m in ctx.measurements
                            if m.workload == workload and m.tool == "hoist" and m.ok), None)
        for m in ctx.measurements:
            if m.workload == workload and m.ok:
                tb = m.extra.get("table_bytes") or table_bytes
                if tb:
                    m.extra["peak_rss_over_table"] = round(m.peak_rss_mib * 2**20 / tb, 3)
        ctx.compare_interleaved(workload, ours="hoist")
        ctx.compare_interleaved(workload, ours="hoist-cli")
        rows = {m.tool: m.rows for m in ctx.measurements if m.workload == workload and m.ok and m.rows}
        if len(set(rows.values())) > 1:
            ctx.note("row counts differ on %s: %s" % (workload, rows))

    if selected("hoist-cli"):
        measure_overlap(ctx, url, nbytes["all"], len(files), env, rounds, probes)


def measure_overlap(ctx, url, nbytes, nfiles, env, rounds, probes):
    """Issue 13's overlap measure: the all-columns load's wall time over the
    slower of its two halves done alone -- downloading the same objects
    (`hoist cp -r` into tmpfs, i.e. into memory) and decoding them
    (`hoist load` of that tmpfs copy, page cache warm). 1.0 means download
    and decode overlap perfectly; 2.0 that they run one after the other.
    All three are the CLI (no interpreter start-up in any of them)."""
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-overlap-", dir=shm))
    local, dl = work / "local", work / "download"
    try:
        r = subprocess.run([ctx.hoist, "cp", "-r", url, str(local) + "/"], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=3600)
        if r.returncode != 0:
            ctx.note("overlap not measured: copying the dataset to %s failed: %s" % (local, r.stderr.strip()[-300:]))
            return

        def fresh_download(_round):
            shutil.rmtree(dl, ignore_errors=True)
            return [ctx.hoist, "cp", "-r", url, str(dl) + "/"]

        def drop_download(_m, _round):
            shutil.rmtree(dl, ignore_errors=True)

        workload = "d_overlap"
        jobs = [Job("hoist-cli load (S3)", workload, [ctx.hoist, "load", url], env=env, bytes=nbytes, objects=nfiles),
                Job("download alone (hoist cp -r to tmpfs)", workload, fresh_download, env=env, bytes=nbytes,
                    objects=nfiles, after=drop_download),
                Job("decode alone (hoist load of the tmpfs copy)", workload, [ctx.hoist, "load", str(local) + "/"],
                    env=env, bytes=nbytes, objects=nfiles)]
        load, down, dec = ctx.measure_interleaved(jobs, rounds=rounds, probes=probes)
        if not (load.ok and down.ok and dec.ok):
            ctx.note("overlap not measured: a step failed")
            return
        for m in (load, down, dec):
            cpu = m.extra.get("server_cpu_s")
            if isinstance(cpu, (int, float)) and m.wall_s > 0:
                m.extra["server_cores"] = round(cpu / m.wall_s, 2)
        ratio = load.wall_s / max(down.wall_s, dec.wall_s)
        load.extra["overlap_ratio"] = round(ratio, 3)
        ctx.note("overlap (issue 13 target <= 1.1): load %.3f s / max(download alone %.3f s, decode alone %.3f s)"
                 " = %.2f (medians of %d rounds)" % (load.wall_s, down.wall_s, dec.wall_s, ratio, rounds))
    finally:
        shutil.rmtree(work, ignore_errors=True)
