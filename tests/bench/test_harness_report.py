"""bench/harness.py's interleaved rounds and bench/report.py's one-line
headline: the figures docs/benchmarks.md quotes come from these."""
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
harness = pytest.importorskip("harness")
report = pytest.importorskip("report")


def test_interleaved_rounds_order_medians_and_ratios(tmp_path):
    order = tmp_path / "order"
    ctx = harness.Context("t", quick=True)

    def job(tool, seconds):
        code = "import time,sys; open(sys.argv[1], 'a').write(sys.argv[2]); time.sleep(float(sys.argv[3]))"
        return harness.Job(tool, "w", [sys.executable, "-c", code, str(order), tool[0], str(seconds)])

    ms = ctx.measure_interleaved([job("hoist", 0.05), job("peer", 0.25)], rounds=3)
    assert order.read_text() == "hphphp"  # ABAB..., not AAABBB
    hoist, peer = ms
    assert hoist.extra["rounds"] == peer.extra["rounds"] == 3
    assert hoist.extra["wall_s_min"] <= hoist.wall_s <= hoist.extra["wall_s_max"]
    ctx.compare_interleaved("w")
    (c,) = ctx.comparisons
    assert c["peer"] == "peer" and c["speedup_rounds"] == 3
    assert 2.0 < c["speedup"] < 10.0  # 0.25 s against 0.05 s plus a Python start each
    assert c["speedup_min"] <= c["speedup"] <= c["speedup_max"]


def test_failed_run_is_reported_not_repeated(tmp_path):
    ctx = harness.Context("t", quick=True)
    seen = []
    bad = harness.Job("peer", "w", [sys.executable, "-c", "raise SystemExit('broken tool')"],
                      after=lambda m, r: seen.append(r))
    (m,) = ctx.measure_interleaved([bad], rounds=3)
    assert not m.ok and "broken tool" in m.note
    assert seen == [0]


def _doc(comparisons, measurements=()):
    return {"comparisons": comparisons, "measurements": list(measurements)}


def test_headline_names_the_closest_peer_and_flags_an_unsettled_spread():
    doc = _doc([
        {"workload": "w", "hoist": "hoist", "peer": "polars", "peer_ok": True, "speedup": 1.3,
         "speedup_min": 0.9, "speedup_max": 1.5, "crosses_1": ["speedup"]},
        {"workload": "w", "hoist": "hoist", "peer": "pyarrow", "peer_ok": True, "speedup": 2.0,
         "speedup_min": 1.8, "speedup_max": 2.2, "crosses_1": []},
        # another hoist front-end is not a peer
        {"workload": "w", "hoist": "hoist", "peer": "hoist-cli", "peer_ok": True, "speedup": 0.9},
        # a failed peer does not win
        {"workload": "w", "hoist": "hoist", "peer": "daft", "peer_ok": False, "speedup": None},
    ])
    doc["summary"] = report.summary_from_comparisons(doc)
    line = report.headline(doc)
    assert "**hoist** wins, 1.30× faster than polars" in line
    assert "not settled" in line
    assert "pyarrow" not in line and "daft" not in line


def test_headline_prefers_the_python_package_and_shows_a_losing_hoist():
    doc = _doc([
        {"workload": "w", "hoist": "hoist-cli", "peer": "polars", "peer_ok": True, "speedup": 3.0},
        {"workload": "w", "hoist": "hoist", "peer": "polars", "peer_ok": True, "speedup": 0.5},
    ], [{"workload": "w", "tool": "hoist", "ok": True, "extra": {"server_cores": 1.1}}])
    doc["summary"] = report.summary_from_comparisons(doc)
    line = report.headline(doc)
    assert "**polars** wins, 2.00× faster than hoist" in line
    assert "server-bound" in line
