"""Shared by the write scenarios (parquet_write, dataset_write): which Python
runs which tool, the per-run step that reads a write tool's result line and
checks its output with pyarrow, and the summary against the fastest peer."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from harness import ROOT, Job, result_line

TOOLS = ROOT / "bench" / "tools"
PEERS = ("pyarrow", "polars", "duckdb", "daft")


def peer_python(ctx) -> str:
    """The peers run in .venv-bench (scripts/setup-deps --bench): daft and the
    DuckDB httpfs wheel pin versions the test environment must not take."""
    bench = ROOT / ".venv-bench" / "bin" / "python"
    if bench.exists():
        return str(bench)
    ctx.note("no .venv-bench (run scripts/setup-deps --bench): the peers run in .venv, where daft and "
             "duckdb's httpfs may be missing")
    return ctx.python


def envs(ctx, threads: str):
    """(hoist env, peer env): hoist's Python may come from HOIST_BENCH_PYTHONPATH
    (a development build of the extension); numpy's OpenBLAS threads spin after
    import and would count in CPU-s."""
    base = os.environ.get("PYTHONPATH", "")
    hoist_pp = os.pathsep.join(p for p in (os.environ.get("HOIST_BENCH_PYTHONPATH", ""), str(TOOLS), base) if p)
    peer_pp = os.pathsep.join(p for p in (str(TOOLS), base) if p)
    common = {"OPENBLAS_NUM_THREADS": "1"}
    return {**common, "PYTHONPATH": hoist_pp}, {**common, "PYTHONPATH": peer_pp}


def selected(tool) -> bool:
    """HOIST_BENCH_TOOLS=hoist,polars,... limits a run to those tools (development)."""
    only = os.environ.get("HOIST_BENCH_TOOLS")
    return not only or tool in only.split(",")


def write_job(ctx, tool, workload, argv_for_round, output_for_round, *, env, rows, table_bytes,
              check_python, expect_partitions=0, whole_process=False):
    """A Job whose after-step turns the measurement into the write's own
    figures (the process's are kept in extra), then reads the output back with
    pyarrow (every row group decoded in the first round, footers after) and
    deletes it. A wrong row count or partition count fails the run.
    whole_process: the tool prints no result line (the CLI); its figures are
    the whole process's."""

    def after(m, r):
        out = output_for_round(r)
        try:
            res = {} if whole_process else result_line(m)
            if m.ok and not res and not whole_process:
                m.ok, m.note = False, "no result line"
            if not m.ok:
                return
            m.extra["process_wall_s"] = round(m.wall_s, 4)
            m.extra["process_cpu_s"] = round(m.cpu_s, 3)
            if whole_process:
                m.rows = rows
                m.extra["measured"] = "whole process"
            else:
                m.wall_s, m.cpu_s, m.rows = res["write_s"], res["write_cpu_s"], res["rows"]
            for k in ("rss_before_write_mib", "call_path", "compression_level"):
                if res.get(k) is not None:
                    m.extra[k] = res[k]
            argv = [check_python, str(TOOLS / "write_check.py"), out] + (["--full"] if r == 0 else [])
            p = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
            if p.returncode != 0:
                m.ok, m.note = False, "read back failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:250]
                return
            chk = json.loads(p.stdout.strip().splitlines()[-1])
            m.extra.update({"output_bytes": chk["bytes"], "output_files": chk["files"],
                            "output_partitions": chk["partitions"]})
            if chk["rows"] != rows:
                m.ok, m.note = False, "read back %d rows, expected %d" % (chk["rows"], rows)
            elif chk["partitions"] != expect_partitions:
                m.ok, m.note = False, "%d partition directories, expected %d" % (chk["partitions"], expect_partitions)
        finally:
            remove(check_python, out)

    return Job(tool, workload, argv_for_round, env=env, bytes=table_bytes, after=after)


def remove(check_python, out):
    if out.startswith("s3://"):
        code = ("import os,sys,pyarrow.fs as f;s,_,h=os.environ['AWS_ENDPOINT_URL'].partition('://');"
                "fs=f.S3FileSystem(endpoint_override=h.rstrip('/'),scheme=s,region='us-east-1',"
                "access_key=os.environ['AWS_ACCESS_KEY_ID'],secret_key=os.environ['AWS_SECRET_ACCESS_KEY']);"
                "p=sys.argv[1][5:].rstrip('/');"
                "fs.get_file_info(p).type!=f.FileType.NotFound and fs.delete_dir(p)")
        subprocess.run([check_python, "-c", code, out], capture_output=True, timeout=600)
    elif os.path.isdir(out):
        shutil.rmtree(out, ignore_errors=True)
    elif os.path.exists(out):
        os.unlink(out)


def summarize(ctx, workload, ours="hoist", size_base="pyarrow"):
    """Records in ctx.summary[workload]: the fastest peer (median write wall
    time), hoist's speed-up over it with its spread over the rounds, and every
    tool's output size relative to `size_base`'s."""
    ms = {m.tool: m for m in ctx.measurements if m.workload == workload and m.ok}
    sizes = {t: m.extra.get("output_bytes") for t, m in ms.items()}
    base = sizes.get(size_base)
    for t, m in ms.items():
        if base and sizes.get(t):
            m.extra["size_vs_" + size_base] = round(sizes[t] / base, 3)
    s = {"fastest_peer": None}
    peers = [m for t, m in ms.items() if t != ours]
    if peers:
        fastest = min(peers, key=lambda m: m.wall_s)
        s["fastest_peer"] = fastest.tool
        for c in ctx.comparisons:
            if c["workload"] == workload and c["peer"] == fastest.tool and c["hoist"] == ours:
                s.update({k: c.get(k) for k in ("speedup", "speedup_min", "speedup_max", "cpu_ratio",
                                                "rss_ratio", "crosses_1")})
    if ours in ms and base and sizes.get(ours):
        s["hoist_size_vs_" + size_base] = round(sizes[ours] / base, 3)
    # how busy the S3 server was (dataset writes): about a core or more means
    # the server, not the client, set the pace
    cores = {t: m.extra["server_cores"] for t, m in ms.items() if m.extra.get("server_cores") is not None}
    if cores:
        s["server_cores"] = cores
    ctx.summary[workload] = s
    if s.get("speedup") is not None:
        flag = " (spread crosses 1.0: not settled)" if "speedup" in (s.get("crosses_1") or []) else ""
        print("  %s: hoist vs fastest peer %s: %.2fx (min %.2f, max %.2f)%s"
              % (workload, s["fastest_peer"], s["speedup"], s["speedup_min"], s["speedup_max"], flag),
              file=sys.stderr)
