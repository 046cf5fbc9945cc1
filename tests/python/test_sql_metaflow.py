"""hoist.metaflow.ctas in a running step (examples/taxi_etl.py, the seeds' TaxiETLFlow):
the output is mf_ctas_<flow>_<run>_<step>_<task>/ under S3(run=self)'s root; self.ctas and
self.paths are set like the book's athena_ctas; the rows are DuckDB's."""
import json
import os
import subprocess
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hoist
from conftest import ROOT

pytest.importorskip("metaflow")


def test_taxi_etl_flow(s3_env, bucket, tmp_path):
    import boto3
    import datetime

    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    data = tmp_path / "data"
    for m in (1, 2):
        d = data / ("month=%d" % m)
        d.mkdir(parents=True)
        ts = [datetime.datetime(2014, m, 1 + i % 28, i % 24, 0) for i in range(500)]
        pq.write_table(pa.table({"pickup_at": pa.array(ts, pa.timestamp("us")), "x": list(range(500))}),
                       d / "p.parquet")
        s3.upload_file(str(d / "p.parquet"), bucket, "nyc_taxi/month=%d/p.parquet" % m)
    work = tmp_path / "run"
    work.mkdir()
    env = dict(os.environ)
    env.update({
        "METAFLOW_DEFAULT_DATASTORE": "local", "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(work), "METAFLOW_USER": "hoist-test", "USERNAME": "hoist-test",
        "HOME": str(work), "METAFLOW_DATATOOLS_S3ROOT": "s3://%s/mfdata" % bucket,
        "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(hoist.__file__)),
                                       env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    })
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "taxi_etl.py"), "--no-pylint", "run", "--table",
                        "s3://%s/nyc_taxi/" % bucket], cwd=work, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    probe = ("import json\nfrom metaflow import Flow, namespace\nnamespace(None)\n"
             "r = Flow('TaxiETLFlow').latest_run\nt = r['start'].task\n"
             "print(json.dumps({'run': r.id, 'task': t.id, 'ctas': t.data.ctas, 'paths': t.data.paths,"
             " 'rows': t.data.rows, 'lineage': t.data.manifest['lineage']}))\n")
    q = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert q.returncode == 0, q.stderr[-3000:]
    out = json.loads(q.stdout.strip().splitlines()[-1])
    name = "mf_ctas_TaxiETLFlow_%s_start_%s" % (out["run"], out["task"])
    sql = (ROOT / "examples" / "sql" / "taxi_etl.sql").read_text()
    assert out["ctas"] == "CREATE TABLE %s AS %s" % (name, sql)
    prefix = "s3://%s/mfdata/TaxiETLFlow/%s/%s/" % (bucket, out["run"], name)
    assert out["paths"] and all(u.startswith(prefix) for u in out["paths"])
    assert out["lineage"]["sql"] == sql and out["lineage"]["table"] == name
    assert out["lineage"]["pathspec"] == "TaxiETLFlow/%s/start/%s" % (out["run"], out["task"])
    want = duckdb.sql("SELECT count(*) FROM read_parquet('%s/**/*.parquet') WHERE hour(pickup_at) BETWEEN 9 AND 17"
                      % data).fetchall()[0][0]
    assert out["rows"] == want == hoist.load_table(prefix).num_rows
