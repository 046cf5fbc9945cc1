"""Issue 4's benchmark: decode a Parquet file held in memory into Arrow, with
hoist and its peers, single-threaded and with all cores.

Files (bench/tools/pq_prepare.py, generated once into bench/cache/pq_decode/):
(a) taxi: the 18 columns of the NYC taxi schema, 10 M rows (--quick: 2 M),
    snappy, 1 Mi-row row groups; (b) wide: 300 float32 columns, 1 M rows
    (--quick: 200 k), snappy, 256 Ki-row row groups. Both are written by
    pyarrow with its defaults, so (b)'s chunks are dictionary-encoded floats
    (18-bit indices) as a pandas/pyarrow user's file would be.

Tools, each a child process (bench/tools/pq_decode_*.py) so that peak RSS is
its own: hoist (`hoist.read_parquet(bytes, threads=1|0)` imported zero copy
with `pa.RecordBatchReader.from_stream(...).read_all()`; not `pa.table(obj)`,
whose first call imports pandas -- 0.25-0.4 CPU-s that had been counted in
hoist's cold decode alone until 2026-12-02), pyarrow (`pq.read_table(BufferReader, use_threads=False|True)`),
polars (`pl.read_parquet(BytesIO)`, POLARS_MAX_THREADS=1 for single) and
duckdb (`SELECT *` from the file on /dev/shm to an Arrow table, `SET
threads=1` for single) and daft (`daft.read_parquet(path).to_arrow()` of the
/dev/shm copy, native runner with num_threads=1 for single; from .venv-bench).

Each child reads the file into memory, then times only the decode, repeated
in-process (the table released in between). The tools run interleaved
(ABCDE ABCDE ...), HOIST_BENCH_ROUNDS rounds (default 3): medians with
[min, max], ratios round by round, for cold and warm alike. Two workloads per file and
thread count: "cold" is the first decode in the process (the allocator holds
no memory yet, every output page is faulted in: a program reading a file
once) and "warm" the fastest repeat (allocators that keep freed memory, as
pyarrow's jemalloc and polars' do, then skip the page faults). The
Measurement's wall_s/cpu_s are that decode's wall time and CPU time (all
threads); the whole process's are in extra.process_wall_s/process_cpu_s.
Peak RSS is the whole process (the input bytes, the interpreter and the
decoded table), the same figure for both workloads. `bytes` is the file size.
On a shared machine wall time is noisy; CPU-s is the steadier figure.

HOIST_BENCH_PYTHONPATH, if set, is put first on the hoist child's
PYTHONPATH (to measure a development build of the extension).
"""
from __future__ import annotations

import os
import statistics
import sys

from harness import ROOT, Job, Measurement, result_line, run_prepare
from scenarios._write_common import peer_python

TOOLS = ROOT / "bench" / "tools"
PEERS = ("pyarrow", "polars", "duckdb", "daft")
SHM_TOOLS = ("duckdb", "daft")  # they read files, not bytes: given the tmpfs copy


def run(ctx):
    files = run_prepare(ctx, "pq_prepare.py", ["--quick"] if ctx.quick else [], "data")
    if files is None:
        return
    for name, f in files.items():
        ctx.note("%s: %s, %d rows, %d columns, %d row groups, %.0f MiB on disk, %.0f MiB uncompressed pages"
                 % (name, os.path.basename(f["path"]), f["rows"], f["columns"], f["row_groups"],
                    f["size"] / 2**20, f["uncompressed"] / 2**20))

    py = ctx.python
    base_pp = os.environ.get("PYTHONPATH", "")
    hoist_pp = os.pathsep.join(p for p in (os.environ.get("HOIST_BENCH_PYTHONPATH", ""), str(TOOLS), base_pp) if p)
    peer_pp = os.pathsep.join(p for p in (str(TOOLS), base_pp) if p)
    base = ctx.measure("python+pyarrow baseline", "baseline", [py, "-c", "import pyarrow, pyarrow.parquet, hoist"],
                       env={"PYTHONPATH": hoist_pp})
    ctx.note("baseline RSS of a Python process with pyarrow and hoist imported: %.0f MiB" % base.peak_rss_mib)

    repeats = "3"
    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS") or 3)
    daft_py = peer_python(ctx)
    for name, f in files.items():
        for threads, label in (("1", "1 thread"), ("0", "all cores")):
            cold, warm = "%s, %s, cold" % (name, label), "%s, %s, warm" % (name, label)
            warm_runs = {}  # tool -> [(best_s, best_cpu_s, peak_rss_mib)] round by round

            def after(m, r, f=f, warm_runs=warm_runs):
                """The child's own timings replace the process's: the first
                decode is the cold figure; the fastest repeat is kept for warm."""
                res = result_line(m)
                if not m.ok or not res:
                    if m.ok:
                        m.ok, m.note = False, "no result line"
                    return
                m.extra["process_wall_s"] = round(m.wall_s, 4)
                m.extra["process_cpu_s"] = round(m.cpu_s, 3)
                m.rows = res["rows"]
                m.extra["table_bytes"] = res["table_bytes"]
                m.extra["peak_rss_over_table"] = round(m.peak_rss_mib * 2**20 / res["table_bytes"], 3)
                m.wall_s, m.cpu_s = res["first_s"], res["first_cpu_s"]
                m.extra["rows_per_s"] = round(m.rows / m.wall_s) if m.wall_s else None
                warm_runs.setdefault(m.tool, []).append((res["best_s"], res["best_cpu_s"], m.peak_rss_mib))
                if res["rows"] != f["rows"]:
                    m.ok, m.note = False, "%d rows, expected %d" % (res["rows"], f["rows"])

            jobs = []
            for tool in ("hoist",) + PEERS:
                path = f["shm_path"] if tool in SHM_TOOLS else f["path"]
                # numpy's OpenBLAS threads spin after import and would count in CPU-s
                env = {"PYTHONPATH": hoist_pp if tool == "hoist" else peer_pp, "OPENBLAS_NUM_THREADS": "1"}
                if tool == "polars" and threads == "1":
                    env["POLARS_MAX_THREADS"] = "1"
                tool_py = daft_py if tool == "daft" else py
                jobs.append(Job(tool, cold, [tool_py, str(TOOLS / ("pq_decode_%s.py" % tool)), path, threads, repeats],
                                env=env, bytes=f["size"], after=after))
            for m in ctx.measure_interleaved(jobs, rounds=rounds):
                runs = warm_runs.get(m.tool) if m.ok else None
                if not runs:
                    continue
                w = Measurement(m.tool, warm, statistics.median(x[0] for x in runs),
                                statistics.median(x[1] for x in runs), m.peak_rss_mib, m.bytes, rows=m.rows,
                                extra={k: v for k, v in m.extra.items() if k not in ("runs", "wall_s_min", "wall_s_max")})
                w.extra["runs"] = [{"wall_s": round(x[0], 4), "cpu_s": round(x[1], 3), "peak_rss_mib": round(x[2], 1)}
                                   for x in runs]
                w.extra["wall_s_min"] = round(min(x[0] for x in runs), 4)
                w.extra["wall_s_max"] = round(max(x[0] for x in runs), 4)
                w.extra["rows_per_s"] = round(w.rows / w.wall_s) if w.wall_s else None
                ctx.measurements.append(w)
                print("    %s %s: decode cold %.3f s (cpu %.3f s), warm %.3f s (cpu %.3f s), medians"
                      % (m.tool, label, m.wall_s, m.cpu_s, w.wall_s, w.cpu_s), file=sys.stderr)
            ctx.compare_interleaved(cold)
            ctx.compare_interleaved(warm)
    # the tmpfs copies for duckdb hold RAM on a shared machine; pq_prepare.py
    # makes them again next time
    for f in files.values():
        try:
            os.unlink(f["shm_path"])
        except OSError:
            pass
