"""Renders bench/results/*.json into docs/benchmarks.md with tables and PNG
plots (bench/results/<scenario>.png)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def plot(doc: dict, png: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms = [m for m in doc["measurements"] if m["ok"]]
    workloads = list(dict.fromkeys(m["workload"] for m in ms))
    if not workloads:
        return False
    fig, axes = plt.subplots(len(workloads), 3, figsize=(13, 2.2 + 1.6 * len(workloads)),
                             squeeze=False)
    for row, w in enumerate(workloads):
        rows = [m for m in ms if m["workload"] == w]
        tools = [m["tool"] for m in rows]
        colors = ["#d62728" if t.startswith("hoist") else "#7f7f7f" for t in tools]
        for col, (key, label) in enumerate([("wall_s", "wall time (s)"), ("cpu_s", "CPU (s)"),
                                            ("peak_rss_mib", "peak RSS (MiB)")]):
            ax = axes[row][col]
            xerr = None
            if key == "wall_s" and all("wall_s_min" in m["extra"] for m in rows):
                # interleaved rounds: the bar is the median, the whisker the min..max
                # (clamped: the median is rounded where min/max are not)
                xerr = [[max(0.0, m[key] - m["extra"]["wall_s_min"]) for m in rows],
                        [max(0.0, m["extra"]["wall_s_max"] - m[key]) for m in rows]]
            ax.barh(tools, [m[key] for m in rows], color=colors, xerr=xerr, capsize=3 if xerr else 0)
            ax.set_xlabel(label)
            if col == 0:
                ax.set_title(w, loc="left", fontsize=10)
            ax.invert_yaxis()
    fig.suptitle(f"{doc['scenario']} — lower is better; hoist in red", fontsize=11)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return True


def _spread(v, lo, hi, fmt="{:.2f}"):
    if v is None:
        return "n/a"
    if lo is None or hi is None:
        return fmt.format(v)
    return (fmt + " [" + fmt + "–" + fmt + "]").format(v, lo, hi)


def headline(doc: dict) -> str:
    """One line: per workload, who is fastest and by how much (median over the
    interleaved rounds, [min–max] of the per-round ratio); flagged when the
    spread crosses 1.0."""
    parts = []
    for w, s in doc["summary"].items():
        if s.get("speedup") is None:
            fastest = s.get("fastest_peer")
            parts.append(f"{w}: hoist failed, fastest peer {fastest}" if fastest
                         else f"{w}: no comparison (every peer failed)")
            continue
        sp, lo, hi = s["speedup"], s.get("speedup_min"), s.get("speedup_max")
        if sp >= 1:
            txt = f"{w}: **hoist** wins, {sp:.2f}× faster than {s['fastest_peer']} (the fastest peer)"
        else:
            txt = f"{w}: **{s['fastest_peer']}** wins, {1 / sp:.2f}× faster than hoist"
        txt += f" [hoist/peer speed ratio {lo:.2f}–{hi:.2f}]" if lo is not None else ""
        if "speedup" in (s.get("crosses_1") or []):
            txt += " ⚠ not settled (the spread crosses 1.0)"
        if s.get("hoist_size_vs_pyarrow"):
            txt += f"; hoist's output {s['hoist_size_vs_pyarrow']:.2f}× pyarrow's size"
        cores = s.get("server_cores") or {}
        if cores:
            busiest = max(cores.values())
            txt += (f"; S3 server busy {min(cores.values()):.2f}–{busiest:.2f} cores during the runs"
                    + (" (server-bound)" if busiest >= 0.8 else ""))
        parts.append(txt)
    return "Who wins: " + "; ".join(parts) + "."


def summary_from_comparisons(doc: dict) -> dict:
    """The headline's figures for scenarios that record no summary: per
    workload, hoist (the Python package, else the first hoist tool compared)
    against the peer that came closest to it, and how busy the S3 server was
    when the scenario recorded that."""
    out = {}
    for c in doc["comparisons"]:
        w = c["workload"]
        if c["peer"].startswith("hoist") or not c.get("peer_ok", True) or c.get("speedup") is None:
            continue
        if w in out and out[w]["_hoist"] != c["hoist"]:
            if c["hoist"] != "hoist":
                continue
            del out[w]  # the Python package's comparison wins over the CLI's
        best = out.get(w)
        if best is None or c["speedup"] < best["speedup"]:
            out[w] = {"_hoist": c["hoist"], "fastest_peer": c["peer"],
                      **{k: c.get(k) for k in ("speedup", "speedup_min", "speedup_max", "crosses_1")}}
    for w, s in out.items():
        cores = {m["tool"]: m["extra"]["server_cores"] for m in doc["measurements"]
                 if m["workload"] == w and m["ok"] and m["extra"].get("server_cores") is not None}
        if cores:
            s["server_cores"] = cores
        del s["_hoist"]
    return out


def write_table(doc: dict) -> list:
    """Measurements from interleaved rounds: medians with [min–max] wall, and
    output size (and the S3 server's CPU) when the scenario recorded them."""
    ms = doc["measurements"]
    has_size = any("output_bytes" in m["extra"] for m in ms)
    has_server = any("server_cpu_s" in m["extra"] for m in ms)
    head = ["workload", "tool", "wall s, median [min–max]", "CPU s", "CPU s/GiB", "peak RSS MiB"]
    if has_size:
        head += ["output MiB", "size vs pyarrow"]
    if has_server:
        head += ["server CPU s", "server cores"]
    out = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for m in ms:
        e = m["extra"]
        if not m["ok"]:
            out.append(f"| {m['workload']} | {m['tool']} | failed: {m['note']} |" + " |" * (len(head) - 3))
            continue
        cells = [m["workload"], m["tool"], _spread(m["wall_s"], e.get("wall_s_min"), e.get("wall_s_max"), "{:.3f}"),
                 f"{m['cpu_s']:.2f}", f"{m['cpu_s_per_gib']:.2f}", f"{m['peak_rss_mib']:.0f}"]
        if has_size:
            ob = e.get("output_bytes")
            cells += [f"{ob / 2**20:.1f}" if ob else "", f"{e['size_vs_pyarrow']:.3f}" if e.get("size_vs_pyarrow") else ""]
        if has_server:
            cells += [f"{e['server_cpu_s']:.2f}" if e.get("server_cpu_s") is not None else "",
                      f"{e['server_cores']:.2f}" if e.get("server_cores") is not None else ""]
        out.append("| " + " | ".join(cells) + " |")
    return out


def interleaved_comparisons(doc: dict) -> list:
    out = ["", "Ratios are peer / hoist per round (> 1: hoist better), median [min–max] over the rounds; "
               "⚠ marks a ratio whose spread crosses 1.0.", "",
           "| workload | vs peer | speedup | CPU ratio | RSS ratio |", "|---|---|---:|---:|---:|"]
    for c in doc["comparisons"]:
        cells = []
        for k in ("speedup", "cpu_ratio", "rss_ratio"):
            v = c.get(k)
            txt = "n/a" if v is None else _spread(v, c.get(k + "_min"), c.get(k + "_max")).replace(" [", "× [", 1)
            if v is not None and "[" not in txt:
                txt += "×"
            if k in (c.get("crosses_1") or []):
                txt += " ⚠"
            cells.append(txt)
        out.append(f"| {c['workload']} | {c['peer']} | " + " | ".join(cells) + " |")
    return out


def render() -> str:
    out = ["# Benchmarks", "",
           "Generated by `make bench` (bench/harness.py, bench/report.py) from "
           "`bench/results/*.json`. Every figure is measured in the same run as its peers; "
           "ratios > 1 mean hoist is better (faster, less CPU, less memory). CPU is user + "
           "system seconds of the client process only (the local S3 server is not counted); "
           "peak RSS is the client's maximum resident set.", ""]
    docs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    if not docs:
        out.append("No results yet: run `make bench`.")
    for doc in docs:
        m0 = doc["machine"]
        out += [f"## {doc['scenario']}", "",
                f"Machine: {m0['cpu']}, {m0['cores']} cores, {m0['memory_gib']} GiB; "
                f"run {m0['date']}{' (quick run)' if doc.get('quick') else ''}.", ""]
        if not doc.get("summary"):
            doc["summary"] = summary_from_comparisons(doc)
        if doc.get("summary"):
            out += [headline(doc), ""]
        if any("runs" in m["extra"] for m in doc["measurements"]):
            out += write_table(doc)
        else:
            out += ["| workload | tool | wall s | Gbit/s | CPU s | CPU s/GiB | peak RSS MiB | rows |",
                    "|---|---|---:|---:|---:|---:|---:|---:|"]
            for m in doc["measurements"]:
                if not m["ok"]:
                    out.append(f"| {m['workload']} | {m['tool']} | failed: {m['note']} | | | | | |")
                    continue
                out.append(f"| {m['workload']} | {m['tool']} | {m['wall_s']:.3f} | {m['gbit_s']:.2f} | "
                           f"{m['cpu_s']:.2f} | {m['cpu_s_per_gib']:.2f} | {m['peak_rss_mib']:.0f} | "
                           f"{m['rows'] or ''} |")
        if any(c.get("interleaved") for c in doc["comparisons"]):
            out += interleaved_comparisons(doc)
        elif doc["comparisons"]:
            out += ["", "| workload | vs peer | speedup | CPU ratio | RSS ratio |",
                    "|---|---|---:|---:|---:|"]
            for c in doc["comparisons"]:
                f = lambda v: "n/a" if v is None else f"{v:.2f}×"
                out.append(f"| {c['workload']} | {c['peer']} | {f(c['speedup'])} | "
                           f"{f(c['cpu_ratio'])} | {f(c['rss_ratio'])} |")
        png = RESULTS / f"{doc['scenario']}.png"
        if plot(doc, png):
            out += ["", f"![{doc['scenario']}](../bench/results/{png.name})"]
        for n in doc.get("notes", []):
            out += ["", f"Note: {n}"]
        out.append("")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC}")
