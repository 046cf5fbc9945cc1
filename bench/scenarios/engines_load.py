"""Issue 17's benchmark: each engine's own Parquet reader against hoist's
adapter for it, on the taxi dataset of dataset_load.py (s3://hoist-bench-taxi/,
>= 2 GiB; --quick: ~0.3 GB), all columns and two columns.

Engines on minimal local clusters (bench/tools/engines_load.py): Ray
(ray.init(num_cpus=2)): hoist.ray.read_dataset(...).materialize() vs
ray.data.read_parquet over pyarrow's S3FileSystem; Dask (LocalCluster, 2
workers x 1 thread): hoist.dask.read_dataset vs dask.dataframe.read_parquet
over pyarrow's S3FileSystem, both persisted on the workers; Spark (local[2]):
spark.read.format("hoist") vs spark.read.parquet of the same files on local
disk -- s3a needs the hadoop-aws jar, not reachable offline, so Spark's own
reader does no network I/O and the comparison favours it. Both Spark reads
end in the no-op sink.

Per read: read_s (the cluster already up; the tool's own clock) is recorded
as wall_s; peak RSS is the largest sum over the driver's descendant
processes (the workers and the engine's daemons) during that read; CPU is
the user+system time those processes and the driver spent during the read
(psutil over the process tree, sampled every 0.1 s; the harness's own
rusage cannot see it, the workers are not its waited-for children).
Reads are interleaved (hoist, own, hoist, own) over `rounds`; the fastest
round of each is kept.
"""
from __future__ import annotations

import json
import os
import subprocess

from harness import ROOT, Measurement, run_prepare

TOOL = ROOT / "bench" / "tools" / "engines_load.py"


def run(ctx):
    if not all(os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        ctx.note("skipped: the local S3 server's environment is not set (run through scripts/run-bench)")
        return
    info = run_prepare(ctx, "prepare_taxi.py", ["--quick"] if ctx.quick else [], "dataset")
    if info is None:
        return
    url = info["url"]
    local = ROOT / "bench" / "cache" / ("taxi-quick" if ctx.quick else "taxi") / "parquet"
    ctx.note("dataset %s: %d files, %.2f GiB, %d rows; Spark's own reader reads %s (local disk)"
             % (url, info["files"], info["size"] / 2**30, info["rows"], local))
    nbytes = {"all": info["bytes"]["all"], "two": info["bytes"]["two"]}
    rounds = 2  # best of 2 even in a quick run: one round on a shared machine is mostly noise
    env = dict(os.environ, PYSPARK_PYTHON=ctx.python)
    for engine in ("ray", "dask", "spark"):
        p = subprocess.run([ctx.python, str(TOOL), engine, url, str(local), "--rounds", str(rounds)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=7200)
        lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
        if p.returncode != 0 or not lines:
            ctx.note("%s: not measured (exit %d): %s" % (engine, p.returncode,
                                                          (p.stderr.strip().splitlines() or [""])[-1][:300]))
            continue
        best = {}
        for r in lines:
            k = (r["reader"], r["workload"])
            if k not in best or r["read_s"] < best[k]["read_s"]:
                best[k] = r
        for (reader, wl), r in sorted(best.items()):
            tool = "%s: %s" % (engine, "hoist" if reader == "hoist" else reader)
            cpu = r.get("workers_cpu_s", 0.0) + r.get("driver_cpu_s", 0.0)
            m = Measurement(tool, "%s_%s" % (engine, wl), r["read_s"], cpu, r["workers_peak_rss_mib"],
                            bytes=nbytes[wl], objects=info["files"], rows=r["rows"])
            m.extra["workers_cpu_s"] = r.get("workers_cpu_s")
            m.extra["driver_cpu_s"] = r.get("driver_cpu_s")
            m.extra["rounds"] = [x["read_s"] for x in lines if (x["reader"], x["workload"]) == (reader, wl)]
            ctx.measurements.append(m)
        for wl in nbytes:
            ctx.compare("%s_%s" % (engine, wl), ours="%s: hoist" % engine)
