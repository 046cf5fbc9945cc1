"""Benchmark harness: runs each tool as a child process and measures wall time,
CPU-seconds (user + system of the child and its children) and peak RSS, then
writes one JSON file per scenario to bench/results/.

A scenario is a module in bench/scenarios/ with a function
    run(ctx: Context) -> None
that calls ctx.measure(...) for hoist and each peer on the same workload, and
ctx.compare(...) to record ratios. Every figure in the JSON carries the peer
figure from the same run and the ratio, so numbers are never quoted alone.

On a shared machine a tool measured while something else was busy loses for
no fault of its own. ctx.measure_interleaved(jobs, rounds) runs the tools in
rounds, ABCD ABCD ABCD, so that a disturbance lands on every tool alike, and
keeps each round's figures; ctx.compare_interleaved(...) then pairs hoist and a
peer round by round and records the median ratio with its min and max, and
flags a ratio whose spread crosses 1.0 (the winner is not settled).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / "cache"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


@dataclass
class Measurement:
    tool: str
    workload: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    bytes: int = 0
    objects: int = 0
    rows: int = 0
    ok: bool = True
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def gbit_s(self) -> float:
        return self.bytes * 8 / 1e9 / self.wall_s if self.wall_s > 0 and self.bytes else 0.0

    @property
    def cpu_s_per_gib(self) -> float:
        return self.cpu_s / (self.bytes / 2**30) if self.bytes else 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d["gbit_s"] = round(self.gbit_s, 3)
        d["cpu_s_per_gib"] = round(self.cpu_s_per_gib, 3)
        return d


@dataclass
class Job:
    """One tool on one workload for ctx.measure_interleaved. argv may be a
    function of the round number (e.g. to write to a fresh prefix each time).
    after(m, round) runs after each run, unmeasured: it may read the tool's
    result line into m, check the tool's output (set m.ok = False and m.note
    when it is wrong) and clean up."""
    tool: str
    workload: str
    argv: Union[Sequence[str], Callable[[int], Sequence[str]]]
    env: Optional[dict] = None
    bytes: int = 0
    objects: int = 0
    after: Optional[Callable[["Measurement", int], None]] = None
    cwd: Optional[str] = None  # the child's working directory (metaflow.S3 makes its temp dirs there)


def server_pid():
    """The local S3 server's pid, from the state directory scripts/s3-server keeps."""
    from urllib.parse import urlparse
    port = urlparse(os.environ["AWS_ENDPOINT_URL"]).port or 80
    state = os.environ.get("HOIST_S3_STATE") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "hoist-s3-%d" % port)
    try:
        with open(os.path.join(state, "pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class ProcessCPU:
    """A probe for ctx.measure_interleaved: CPU seconds (user + system) that
    another process (and its children), e.g. the S3 server, spent while a tool
    ran; recorded as extra[<name>_cpu_s]. Needs psutil; does nothing without
    it or when the process is gone."""

    def __init__(self, pid: int, name: str = "server"):
        self.name = name
        try:
            import psutil
            self.proc = psutil.Process(pid)
        except Exception:
            self.proc = None
        self._t0 = None

    def _cpu(self):
        if self.proc is None:
            return None
        try:
            procs = [self.proc] + self.proc.children(recursive=True)
            total = 0.0
            for p in procs:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system + t.children_user + t.children_system
                except Exception:
                    pass
            return total
        except Exception:
            return None

    def start(self):
        self._t0 = self._cpu()

    def stop(self) -> dict:
        t1 = self._cpu()
        if self._t0 is None or t1 is None:
            return {}
        return {self.name + "_cpu_s": round(t1 - self._t0, 3)}


def result_line(m) -> dict:
    """The JSON object a tool prints as its last "{" line (from the tail of
    its stdout that the measurement kept); {} when there is none."""
    for line in reversed(m.extra.get("stdout_tail", "").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return {}
    return {}


def run_prepare(ctx, script: str, args: Sequence[str], what: str):
    """Runs bench/tools/<script> with args (unmeasured); returns the JSON it
    prints on its last line, or None after noting that preparing `what` failed."""
    prep = subprocess.run([ctx.python, str(ROOT / "bench" / "tools" / script), *args],
                          stdout=subprocess.PIPE, text=True, timeout=7200)
    if prep.returncode != 0:
        ctx.note("%s preparation failed (exit %d); nothing measured" % (what, prep.returncode))
        return None
    return json.loads(prep.stdout.strip().splitlines()[-1])


def _median_run(runs):
    """The run whose wall time is the median (the lower middle one for an even count)."""
    order = sorted(runs, key=lambda m: m.wall_s)
    return order[(len(order) - 1) // 2]


def _rusage_exec() -> str:
    """Builds bench/tools/rusage_exec.c once (see its comment for why)."""
    exe = CACHE / "rusage_exec"
    src = ROOT / "bench" / "tools" / "rusage_exec.c"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", str(exe), str(src)], check=True)
    return str(exe)


def run_measured(argv, env=None, cwd=None, timeout=3600, input=None):
    """Runs argv as a child; returns (returncode, wall_s, cpu_s, peak_rss_mib,
    stdout, stderr). CPU and RSS are the child's own (and its children's),
    taken by rusage_exec, so other processes (the S3 server) are not counted
    and the harness's own memory does not leak into the figure."""
    import tempfile
    e = dict(os.environ)
    if env:
        e.update(env)
    with tempfile.NamedTemporaryFile("r", suffix=".rusage") as ru_file:
        t0 = time.perf_counter()
        try:
            p = subprocess.run([_rusage_exec(), ru_file.name, *argv], env=e, cwd=cwd,
                               capture_output=True, timeout=timeout, input=input)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as ex:
            rc, out, err = 124, ex.stdout or b"", (ex.stderr or b"") + b"\ntimed out"
        wall = time.perf_counter() - t0
        fields = ru_file.read().split()
    if len(fields) == 3:
        cpu = float(fields[0]) + float(fields[1])
        rss_mib = int(fields[2]) / 1024.0
    else:
        cpu, rss_mib = 0.0, 0.0
    return (rc, wall, cpu, rss_mib, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


class Context:
    def __init__(self, scenario: str, quick: bool = False):
        self.scenario = scenario
        self.quick = quick
        self.measurements: list[Measurement] = []
        self.comparisons: list[dict] = []
        self.notes: list[str] = []
        self.summary: dict = {}  # per workload, a scenario's headline figures (optional)
        self.hoist = str(ROOT / "build" / "hoist")
        self.python = str(ROOT / ".venv" / "bin" / "python")
        CACHE.mkdir(parents=True, exist_ok=True)

    def measure(self, tool: str, workload: str, argv, *, bytes=0, objects=0, rows=0, env=None,
                repeat=1, check=True, cwd=None) -> Measurement:
        """Runs argv `repeat` times and keeps the fastest run (the least
        disturbed by the machine); CPU and RSS are from that run."""
        best = None
        for _ in range(repeat):
            rc, wall, cpu, rss, out, err = run_measured(argv, env=env, cwd=cwd)
            if rc != 0:
                m = Measurement(tool, workload, wall, cpu, rss, bytes, objects, rows, ok=False,
                                note=(err.strip().splitlines() or ["exit %d" % rc])[-1][:300])
                if check:
                    print(f"  {tool:<22} {workload:<28} FAILED: {m.note}", file=sys.stderr)
                best = m
                break
            m = Measurement(tool, workload, wall, cpu, rss, bytes, objects, rows)
            m.extra["stdout_tail"] = out.strip()[-500:]
            if best is None or m.wall_s < best.wall_s:
                best = m
        self.measurements.append(best)
        if best.ok:
            print(f"  {tool:<22} {workload:<28} {best.wall_s:8.3f} s  {best.gbit_s:7.2f} Gbit/s  "
                  f"cpu {best.cpu_s:7.2f} s  rss {best.peak_rss_mib:8.1f} MiB", file=sys.stderr)
        return best

    def compare(self, workload: str, ours: str = "hoist"):
        """Records ratios of `ours` against every other tool on `workload`:
        speedup = peer wall / our wall; cpu_ratio = peer CPU / our CPU;
        rss_ratio = peer RSS / our RSS (all > 1 means hoist is better)."""
        mine = [m for m in self.measurements if m.workload == workload and m.tool == ours and m.ok]
        if not mine:
            return
        me = mine[-1]
        for m in self.measurements:
            if m.workload != workload or m.tool == ours:
                continue
            self.comparisons.append({
                "workload": workload, "hoist": ours, "peer": m.tool, "peer_ok": m.ok,
                "hoist_wall_s": round(me.wall_s, 4), "peer_wall_s": round(m.wall_s, 4),
                "speedup": round(m.wall_s / me.wall_s, 3) if m.ok and me.wall_s else None,
                "hoist_cpu_s": round(me.cpu_s, 3), "peer_cpu_s": round(m.cpu_s, 3),
                "cpu_ratio": round(m.cpu_s / me.cpu_s, 3) if m.ok and me.cpu_s else None,
                "hoist_rss_mib": round(me.peak_rss_mib, 1), "peer_rss_mib": round(m.peak_rss_mib, 1),
                "rss_ratio": round(m.peak_rss_mib / me.peak_rss_mib, 3) if m.ok and me.peak_rss_mib else None,
            })

    def measure_interleaved(self, jobs: Sequence[Job], rounds: int = 3, probes: Sequence = ()) -> list:
        """Runs every job once per round, in order, for `rounds` rounds (ABCD
        ABCD ...). A job that fails is not run again. For each job one
        Measurement is recorded: wall_s, cpu_s and peak_rss_mib are the
        medians over the rounds (whatever job.after set them to), each run's
        figures are in extra["runs"] and the spread in extra["wall_s_min"] /
        ["wall_s_max"]; other extra keys come from the median-wall run.
        Returns the Measurements in the order of `jobs`."""
        runs = {i: [] for i in range(len(jobs))}
        failed = {}
        for r in range(rounds):
            for i, job in enumerate(jobs):
                if i in failed:
                    continue
                argv = job.argv(r) if callable(job.argv) else job.argv
                for p in probes:
                    p.start()
                rc, wall, cpu, rss, out, err = run_measured(list(argv), env=job.env, cwd=job.cwd)
                m = Measurement(job.tool, job.workload, wall, cpu, rss, job.bytes, job.objects)
                for p in probes:
                    m.extra.update(p.stop())
                m.extra["stdout_tail"] = out.strip()[-500:]
                if rc != 0:
                    m.ok = False
                    m.note = (err.strip().splitlines() or ["exit %d" % rc])[-1][:300]
                if job.after is not None:
                    try:
                        job.after(m, r)
                    except Exception as e:  # a checker's own failure fails the run, not the benchmark
                        m.ok, m.note = False, "check failed: %s" % e
                if not m.ok:
                    print(f"  {job.tool:<22} {job.workload:<28} round {r + 1}: FAILED: {m.note}", file=sys.stderr)
                    failed[i] = m
                    continue
                runs[i].append(m)
                print(f"  {job.tool:<22} {job.workload:<28} round {r + 1}: {m.wall_s:8.3f} s  "
                      f"cpu {m.cpu_s:7.2f} s  rss {m.peak_rss_mib:8.1f} MiB", file=sys.stderr)
        out = []
        for i, job in enumerate(jobs):
            if i in failed:
                m = failed[i]
                m.extra["rounds_ok"] = len(runs[i])
            else:
                rs = runs[i]
                med = _median_run(rs)
                m = Measurement(job.tool, job.workload, statistics.median(x.wall_s for x in rs),
                                statistics.median(x.cpu_s for x in rs),
                                statistics.median(x.peak_rss_mib for x in rs),
                                med.bytes, med.objects, med.rows, extra=dict(med.extra))
                m.extra["runs"] = [{"wall_s": round(x.wall_s, 4), "cpu_s": round(x.cpu_s, 3),
                                    "peak_rss_mib": round(x.peak_rss_mib, 1),
                                    **{k: v for k, v in x.extra.items() if k.endswith("_cpu_s")}} for x in rs]
                m.extra["wall_s_min"] = round(min(x.wall_s for x in rs), 4)
                m.extra["wall_s_max"] = round(max(x.wall_s for x in rs), 4)
                m.extra["rounds"] = len(rs)
                # probe figures (e.g. the server's CPU) are medians too
                for k in [k for k in m.extra if k.endswith("_cpu_s")]:
                    vals = [x.extra[k] for x in rs if isinstance(x.extra.get(k), (int, float))]
                    if len(vals) == len(rs):
                        m.extra[k] = round(statistics.median(vals), 3)
            self.measurements.append(m)
            out.append(m)
        return out

    def compare_interleaved(self, workload: str, ours: str = "hoist"):
        """Like compare(), for Measurements from measure_interleaved: each
        ratio is taken per round (peer run r / our run r, > 1 means hoist is
        better) and recorded as its median with "<ratio>_min"/"<ratio>_max";
        "crosses_1" lists the ratios whose min < 1 < max."""
        mine = [m for m in self.measurements if m.workload == workload and m.tool == ours and m.ok]
        if not mine or "runs" not in mine[-1].extra:
            return
        me = mine[-1]
        for m in self.measurements:
            if m.workload != workload or m.tool == ours:
                continue
            c = {"workload": workload, "hoist": ours, "peer": m.tool, "peer_ok": m.ok,
                 "hoist_wall_s": round(me.wall_s, 4), "peer_wall_s": round(m.wall_s, 4),
                 "hoist_cpu_s": round(me.cpu_s, 3), "peer_cpu_s": round(m.cpu_s, 3),
                 "hoist_rss_mib": round(me.peak_rss_mib, 1), "peer_rss_mib": round(m.peak_rss_mib, 1),
                 "interleaved": True, "crosses_1": []}
            for key, fld in (("speedup", "wall_s"), ("cpu_ratio", "cpu_s"), ("rss_ratio", "peak_rss_mib")):
                ratios = []
                if m.ok and "runs" in m.extra:
                    for a, b in zip(me.extra["runs"], m.extra["runs"]):
                        if a[fld] > 0:
                            ratios.append(b[fld] / a[fld])
                c[key] = round(statistics.median(ratios), 3) if ratios else None
                c[key + "_min"] = round(min(ratios), 3) if ratios else None
                c[key + "_max"] = round(max(ratios), 3) if ratios else None
                c[key + "_rounds"] = len(ratios)
                if ratios and min(ratios) < 1.0 < max(ratios):
                    c["crosses_1"].append(key)
            self.comparisons.append(c)

    def note(self, text: str):
        self.notes.append(text)
        print("  note: " + text, file=sys.stderr)

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.scenario}.json"
        doc = {
            "scenario": self.scenario,
            "machine": machine(),
            "quick": self.quick,
            "measurements": [m.to_json() for m in self.measurements],
            "comparisons": self.comparisons,
            "notes": self.notes,
        }
        if self.summary:
            doc["summary"] = self.summary
        path.write_text(json.dumps(doc, indent=2) + "\n")
        return path


def main(argv=None):
    import argparse
    import importlib

    ap = argparse.ArgumentParser(description="run hoist benchmark scenarios")
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--quick", action="store_true", help="smaller workloads (smoke run)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    available = sorted(p.stem for p in (ROOT / "bench" / "scenarios").glob("*.py")
                       if not p.stem.startswith("_"))
    chosen = args.scenarios or available
    for name in chosen:
        if name not in available:
            sys.exit(f"unknown scenario {name!r}; have: {', '.join(available)}")
        mod = importlib.import_module(f"scenarios.{name}")
        print(f"== {name}", file=sys.stderr)
        ctx = Context(name, quick=args.quick)
        mod.run(ctx)
        print(f"  wrote {ctx.write()}", file=sys.stderr)


if __name__ == "__main__":
    main()
