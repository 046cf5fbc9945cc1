"""Filters nested or chained far beyond the limits (docs/datasets.md: 1,000
levels, 100,000 terms and operators) fail with a clear HOIST_ERR_FILTER
error and a position, through hoist.load_table and the CLI; they used to
overflow the stack and kill the interpreter. Each load runs in a child
process so a crash fails one test rather than the whole session."""
import os
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_cli

DEEP_PARENS = "(" * 40000 + "x = 1" + ")" * 40000
DEEP_NOT = "NOT " * 40000 + "x = 1"
LONG_AND = "x = 1" + " AND x = 1" * 300000


@pytest.fixture()
def data_dir(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    pq.write_table(pa.table({"x": pa.array(range(20), pa.int64())}), d / "a.parquet")
    return d


def load_in_child(url, expr):
    """Runs hoist.load_table(url, filter=expr) in a child interpreter; returns
    (returncode, what it printed: the exception's type and message, or the
    ids loaded)."""
    code = textwrap.dedent("""
        import sys, hoist, pyarrow as pa
        expr = sys.stdin.read()
        try:
            t = pa.table(hoist.load_table(sys.argv[1], filter=expr))
            print("rows", t.column("x").to_pylist())
        except Exception as e:
            print(type(e).__name__, str(e)[:2000])
    """)
    p = subprocess.run([sys.executable, "-c", code, url], input=expr.encode(), capture_output=True,
                       timeout=300, env=dict(os.environ))
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("expr,position", [(DEEP_PARENS, 1001), (DEEP_NOT, 4001), (LONG_AND, 500001)],
                         ids=["parentheses", "not", "and-chain"])
def test_load_table_rejects_huge_filters(data_dir, expr, position):
    rc, out = load_in_child(str(data_dir) + "/", expr)
    assert rc == 0, out  # no crash
    assert out.startswith("DatasetValueError"), out
    assert ("nested too deeply" in out) or ("expression too large" in out), out
    assert f"at position {position}" in out, out
    assert "^" in out and len(out) < 2000, out


def test_load_table_large_filters_within_limits(data_dir):
    # 20,000 ORs (an ID list) and 900 levels of nesting still work
    ids = " OR ".join(f"x = {i}" for i in range(3, 20003, 4))
    rc, out = load_in_child(str(data_dir) + "/", ids)
    assert rc == 0 and out.strip() == "rows [3, 7, 11, 15, 19]", out
    nested = "(" * 900 + "x < 2 OR x > 17" + ")" * 900
    rc, out = load_in_child(str(data_dir) + "/", "NOT NOT " + nested)
    assert rc == 0 and out.strip() == "rows [0, 1, 18, 19]", out
    # a tree 990 levels deep, pruned and evaluated on the decode workers:
    # x = 0 OR (x != 1 AND (x = 2 OR (x != 3 AND ... FALSE))) keeps the even rows
    deep = "".join(("x = %d OR (" if i % 2 == 0 else "x != %d AND (") % i for i in range(990)) + "FALSE" + ")" * 990
    rc, out = load_in_child(str(data_dir) + "/", deep)
    assert rc == 0 and out.strip() == "rows %s" % list(range(0, 20, 2)), out


def test_cli_rejects_huge_filters(data_dir, hoist_cli):
    # one argv string is at most 128 KiB: the nesting cases fit, the long chain as 12,000 terms does
    for expr, needle in ((DEEP_PARENS[:60000] + "x = 1" + ")" * 30000, "nested too deeply"),
                         ("NOT " * 30000 + "x = 1", "nested too deeply")):
        p = run_cli(hoist_cli, "load", str(data_dir) + "/", "--filter", expr)
        assert p.returncode == 2, (p.returncode, p.stderr_text[:500])
        assert needle in p.stderr_text and "^" in p.stderr_text, p.stderr_text[:500]
        assert len(p.stderr_text) < 2000
    chain = "x=1" + " AND x<99" * 12000
    p = run_cli(hoist_cli, "load", str(data_dir) + "/", "--filter", chain, check=True)
    assert "rows        1" in p.stdout_text, p.stdout_text
