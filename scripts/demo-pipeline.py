#!/usr/bin/env python3
"""The seeds' chapter-7 pipeline, end to end on the local S3 server (`make demo`, step 20).

Runs the book's flows from examples/ on Metaflow's local runtime, one after the other, each
reading what the one before wrote, and prints each flow's wall time and the bytes it moved:

  TaxiDataLoader     re-lays the demo's taxi dataset as nyc_taxi/month=M/ under the run's
                     S3 prefix (hoist.scan -> S3(run=self).write_table, all or nothing,
                     with a _SUCCESS manifest recording the source) and registers it as the
                     Iceberg table taxi.nyc_taxi in demo-out/catalog.db (the seeds use Glue)
  TaxiETLFlow        runs the book's project SQL as CTAS on an embedded DuckDB over the table
                     (hoist.metaflow.ctas: only the columns and rows the query needs are
                     fetched; the result written all or nothing with the SQL in its manifest)
  TaxiPlotterFlow    shards the CTAS output over a foreach (--use_ctas_data), loads 3 columns
                     with the filter pushed down, draws the pickups with datashader
  TaxiRegressionFlow shards it again, loads 2 columns, fits amount ~ distance

Outputs land in demo-out/: the two PNGs and the loader's and the CTAS's _SUCCESS manifests
(the lineage from raw data to results).
Metaflow's local datastore and metadata live in demo-out/.metaflow.

    scripts/demo-pipeline.py s3://hoist/taxi/
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"


def flow_env():
    env = dict(os.environ)
    env.update({
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(OUT),
        "METAFLOW_DATATOOLS_S3ROOT": "s3://hoist/metaflow",
        "METAFLOW_USER": env.get("USER") or "demo",
        "USERNAME": env.get("USER") or "demo",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "examples"), env.get("PYTHONPATH", "")) if p),
    })
    return env


def run(flow_file, *args):
    """Runs one flow; returns its wall time. On failure prints the tail of its output and exits."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(ROOT / "examples" / flow_file), "--no-pylint", "run", *args],
                       cwd=OUT, env=flow_env(), capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stdout.write((p.stdout + p.stderr)[-4000:])
        sys.exit("demo-pipeline: %s failed" % flow_file)
    return secs


def latest(flow, *names):
    """Artifacts of the flow's latest run, {name: value} from the steps that set them last."""
    from metaflow import Flow, namespace

    namespace(None)
    run = Flow(flow).latest_run
    out = {}
    for step in run:  # newest step first: keep the first value seen
        for task in step:
            for n in names:
                if n not in out and n in task:
                    out[n] = task[n].data
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "s3://hoist/taxi/"
    OUT.mkdir(exist_ok=True)
    os.environ.update({k: v for k, v in flow_env().items() if k.startswith("METAFLOW_")})
    import hoist

    catalog = "sqlite:///%s" % (OUT / "catalog.db")
    secs = run("taxi_loader.py", "--data", src, "--catalog", catalog)
    a = latest("TaxiDataLoader", "s3_prefix", "rows", "paths", "snapshot_id")
    prefix = a["s3_prefix"]
    with hoist.S3() as s3:
        manifest = s3.get(prefix.rstrip("/") + "/_SUCCESS").blob
    (OUT / "nyc_taxi_SUCCESS.json").write_bytes(manifest)
    m = json.loads(manifest)
    written = sum(f["bytes"] for f in m["files"])
    print("-- TaxiDataLoader    %6.1f s  wrote %d rows, %d files, %.0f MiB under %s (manifest: demo-out/nyc_taxi_SUCCESS.json);"
          " registered as Iceberg table taxi.nyc_taxi, snapshot %d (demo-out/catalog.db)"
          % (secs, a["rows"], len(a["paths"]), written / 2**20, prefix, a["snapshot_id"]))

    secs = run("taxi_etl.py", "--table", prefix)
    a = latest("TaxiETLFlow", "rows", "paths", "manifest")
    ctas_manifest = a["manifest"]
    (OUT / "ctas_SUCCESS.json").write_text(json.dumps(ctas_manifest, indent=1))
    print("-- TaxiETLFlow       %6.1f s  CTAS wrote %d rows, %d files, %.0f MiB (SQL and inputs in demo-out/ctas_SUCCESS.json)"
          % (secs, a["rows"], len(a["paths"]), sum(f["bytes"] for f in ctas_manifest["files"]) / 2**20))

    png = OUT / "taxi_plot.png"
    secs = run("taxi_plotter.py", "--use_ctas_data", "True", "--png", str(png))
    a = latest("TaxiPlotterFlow", "num_points", "shards")
    fetched = sum(s.nbytes for s in a["shards"])
    print("-- TaxiPlotterFlow   %6.1f s  %d shards, %.0f MiB of 3 columns fetched, %d pickups drawn -> demo-out/%s"
          % (secs, len(a["shards"]), fetched / 2**20, a["num_points"], png.name))

    png = OUT / "taxi_regression.png"
    secs = run("taxi_regression.py", "--use_ctas_data", "True", "--plot", str(png), "--num_shards", "4")
    a = latest("TaxiRegressionFlow", "coef", "intercept", "num_rows_fitted", "shards")
    fetched = sum(s.nbytes for s in a["shards"])
    print("-- TaxiRegressionFlow %5.1f s  %.0f MiB of 2 columns fetched, fitted amount = %.2f * distance + %.2f "
          "on %d rows -> demo-out/%s" % (secs, fetched / 2**20, a["coef"], a["intercept"], a["num_rows_fitted"],
                                        png.name))


if __name__ == "__main__":
    main()
