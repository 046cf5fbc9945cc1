"""Benchmark harness: runs each tool as a child process and measures wall time,
CPU-seconds (user + system of the child and its children) and peak RSS, then
writes one JSON file per scenario to bench/results/.

A scenario is a module in bench/scenarios/ with a function
    run(ctx: Context) -> None
that calls ctx.measure(...) for hoist and each peer on the same workload, and
ctx.compare(...) to record ratios. Every figure in the JSON carries the peer
figure from the same run and the ratio, so numbers are never quoted alone.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
