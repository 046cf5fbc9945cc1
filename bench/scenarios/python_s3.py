"""Issue 6's benchmark: hoist.S3 as a drop-in for metaflow.S3.

1. Seed 002's cloud-to-table recipe (list_recursive, get_many to temp files,
   ThreadPoolExecutor of pq.read_table(use_threads=False), concat_tables) run
   twice with the identical code: `from metaflow import S3` vs `from hoist
   import S3`, on a taxi-like Parquet dataset on the local S3 server (~500 MB;
   --quick ~100 MB; generated once into bench/cache/).
2. Many small objects: put_many and get_many of 10,000 x 16 KiB (--quick
   1,000), hoist.S3 vs metaflow.S3.

Each tool is a child Python (bench/tools/s3_recipe.py, s3_many.py) measured
by the harness; ratios are metaflow / hoist (> 1: hoist is faster).
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid

from harness import ROOT

TOOLS = ROOT / "bench" / "tools"


def _last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def run(ctx):
    if not all(os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        ctx.note("skipped: the local S3 server's environment is not set (run through scripts/run-bench)")
        return
    env = {"METAFLOW_S3_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"], "METAFLOW_TEMPDIR": "/tmp",
           "PYTHONPATH": str(TOOLS)}
    prep = subprocess.run([ctx.python, str(TOOLS / "s3_prepare.py")] + (["--quick"] if ctx.quick else []),
                          capture_output=True, text=True, env=dict(os.environ, **env))
    if prep.returncode != 0:
        ctx.note("dataset preparation failed: " + prep.stderr.strip()[-300:])
        return
    ds = _last_json(prep.stdout)
    ctx.note("dataset %s: %d files, %.0f MB, %d rows" % (ds["url"], ds["files"], ds["size"] / 1e6, ds["rows"]))

    repeat = 1 if ctx.quick else 2
    wl = "seed002_recipe"
    for impl in ("hoist", "metaflow"):
        m = ctx.measure("hoist" if impl == "hoist" else "metaflow.S3", wl,
                        [ctx.python, str(TOOLS / "s3_recipe.py"), impl, ds["url"]], bytes=ds["size"],
                        objects=ds["files"], rows=ds["rows"], env=env, repeat=repeat, cwd="/tmp")
        r = _last_json(m.extra.get("stdout_tail", ""))
        if m.ok and r.get("rows") != ds["rows"]:
            ctx.note("%s: recipe returned %s rows, expected %d" % (impl, r.get("rows"), ds["rows"]))
    ctx.compare(wl)

    n = 1000 if ctx.quick else 10000
    size = 16 << 10
    bucket = "hoist-bench-many"
    subprocess.run([ctx.python, "-c", "import boto3,os\ns3=boto3.client('s3',endpoint_url=os.environ"
                    "['AWS_ENDPOINT_URL'])\ntry:\n s3.create_bucket(Bucket=%r)\nexcept Exception:\n pass" % bucket],
                   check=True)
    run_id = uuid.uuid4().hex[:8]
    for op in ("put", "get"):
        wl = "%s_many_%dx16KiB" % (op, n)
        for impl in ("hoist", "metaflow"):
            # Puts go to a fresh prefix per tool; both tools then read the hoist-written one.
            root = "s3://%s/%s/%s" % (bucket, run_id, impl if op == "put" else "hoist")
            ctx.measure("hoist" if impl == "hoist" else "metaflow.S3", wl,
                        [ctx.python, str(TOOLS / "s3_many.py"), impl, op, root, str(n), str(size)],
                        bytes=n * size, objects=n, env=env, cwd="/tmp")
        ctx.compare(wl)
    # Leave the server as we found it: the small objects are not reused between runs.
    subprocess.run([ctx.python, "-c", "import sys\nfrom hoist import S3\nwith S3() as s3:\n"
                    " s3.delete_many([o.url for o in s3.list_recursive([sys.argv[1]])])",
                    "s3://%s/%s" % (bucket, run_id)], env=dict(os.environ, **env))
