"""`hoist sql` (the C CLI hands the command to `python -m hoist sql`): query output, CTAS
with --output, DuckDB's errors with exit 2, and a clear error when Python is missing."""
import json
import os
import re
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hoist
from conftest import run_cli

pytest.importorskip("duckdb")


@pytest.fixture()
def data(tmp_path):
    for m in (1, 2):
        d = tmp_path / "t" / ("month=%d" % m)
        d.mkdir(parents=True)
        pq.write_table(pa.table({"a": [m, m * 10], "s": ["x", "y"]}), d / "p.parquet")
    return tmp_path


def env():
    # the interpreter running the tests, with the hoist package it imports
    return {"HOIST_PYTHON": sys.executable, "PYTHONPATH": os.path.dirname(os.path.dirname(hoist.__file__))}


def test_query_prints_rows(hoist_cli, data):
    p = run_cli(hoist_cli, "sql", "SELECT month, sum(a) AS a FROM t GROUP BY 1 ORDER BY 1", "--table",
                "t=%s/t/" % data, "--format", "json", env=env(), check=True)
    assert [json.loads(line) for line in p.stdout_text.splitlines()] == [{"month": 1, "a": 11},
                                                                         {"month": 2, "a": 22}]


def test_output_writes_a_dataset(hoist_cli, data):
    out = data / "out"
    p = run_cli(hoist_cli, "sql", "SELECT * FROM t WHERE a > 5", "--table", "t=%s/t/" % data, "--output",
                str(out) + "/", "--partition-by", "month", env=env(), check=True)
    info = json.loads(p.stdout_text)
    assert info["rows"] == 2 and len(info["paths"]) == 2
    m = json.loads((out / "_SUCCESS").read_text())
    assert m["lineage"]["sql"] == "SELECT * FROM t WHERE a > 5"
    assert sorted(hoist.load_table(str(out)).to_pyarrow().to_pylist(), key=lambda r: r["a"]) == [
        {"a": 10, "s": "y", "month": 1}, {"a": 20, "s": "y", "month": 2}]


def test_errors(hoist_cli, data):
    p = run_cli(hoist_cli, "sql", "SELECT * FROM nope", "--table", "t=%s/t/" % data, env=env())
    assert p.returncode == 2
    assert "nope does not exist" in p.stderr_text and "known tables: t" in p.stderr_text
    assert "in query: SELECT * FROM nope" in p.stderr_text
    p = run_cli(hoist_cli, "sql", "SELECT 1", env={"HOIST_PYTHON": "/nonexistent/python"})
    assert p.returncode == 1
    assert "needs Python with the hoist and duckdb packages" in p.stderr_text


def test_help_names_every_option_of_the_python_parser(hoist_cli):
    # `hoist sql --help` is the C CLI's text; the options are argparse's in
    # python/hoist/__main__.py, so the two are compared here.
    long_option = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
    p = subprocess.run([sys.executable, "-m", "hoist", "sql", "--help"], capture_output=True, text=True,
                       env={**os.environ, **env()}, check=True)
    python_opts = set(long_option.findall(p.stdout)) - {"--help"}
    assert {"--table", "--output", "--max-rows"} <= python_opts
    c_help = run_cli(hoist_cli, "sql", "--help", check=True).stdout_text
    assert python_opts - set(long_option.findall(c_help)) == set()
