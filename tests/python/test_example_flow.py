"""examples/taxi_regression.py runs end to end on Metaflow's local runtime
against the local S3 server, on a small taxi-like dataset made here."""
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from flow_runner import run_example

SLOPE, INTERCEPT = 2.2, 2.5


def make_dataset(root, months=2, files=3, rows=6000):
    rng = np.random.default_rng(11)
    total = 0
    for m in range(1, months + 1):
        d = os.path.join(root, "month=%d" % m)
        os.makedirs(d)
        for f in range(files):
            dist = rng.gamma(2.0, 1.5, rows)
            t = pa.table({
                "passenger_count": pa.array(rng.integers(0, 5, rows).astype(np.int8)),
                "trip_distance": dist,
                "fare_amount": 2.0 + dist * 2.0,
                "total_amount": INTERCEPT + SLOPE * dist + rng.normal(0, 0.5, rows),
                "payment_type": pa.array(["CRD"] * rows),
            })
            pq.write_table(t, os.path.join(d, "part-%d.parquet" % f), row_group_size=2000)
            total += rows
    return total


def test_taxi_regression_flow_runs_locally(bucket, tmp_path):
    import boto3

    data = tmp_path / "data"
    data.mkdir()
    total = make_dataset(str(data))
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    for dirpath, _, names in os.walk(data):
        for n in names:
            p = os.path.join(dirpath, n)
            s3.upload_file(p, bucket, "taxi/" + os.path.relpath(p, data))

    work = tmp_path / "run"
    png = work / "plot.png"
    env, out = run_example(work, "taxi_regression.py", "--data", "s3://%s/taxi/" % bucket, "--num_shards", "3",
                           "--sample", "0.5", "--seed", "3", "--plot", str(png))
    assert "Processing 6 Parquet files in 3 shards" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Read the artifacts back with Metaflow's client, from the same datastore.
    probe = ("from metaflow import Flow, namespace\n"
             "namespace(None)\n"
             "r = Flow('TaxiRegressionFlow').latest_run\n"
             "assert r.successful\n"
             "d = r.data\n"
             "print(d.coef, d.intercept, d.num_rows_fitted, d.num_rows_loaded, len(d.viz))\n")
    q = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True,
                       timeout=300)
    assert q.returncode == 0, q.stderr[-3000:]
    coef, intercept, fitted, loaded, viz = q.stdout.split()
    assert abs(float(coef) - SLOPE) < 0.05
    assert abs(float(intercept) - INTERCEPT) < 0.2
    # passenger_count > 0 keeps ~4/5 of the rows; outliers drop ~8%; sample 0.5
    loaded, fitted = int(loaded), int(fitted)
    assert 0.75 * total < loaded < 0.85 * total
    assert 0.40 * loaded < fitted < 0.50 * loaded
    assert int(viz) > 1000
