"""Issue 6's benchmark: hoist.S3 as a drop-in for metaflow.S3.

1. Seed 002's cloud-to-table recipe (list_recursive, get_many to temp files,
   ThreadPoolExecutor of pq.read_table(use_threads=False), concat_tables) run
   twice with the identical code: `from metaflow import S3` vs `from hoist
   import S3`, on a taxi-like Parquet dataset on the local S3 server (~500 MB;
   --quick ~100 MB; generated once into bench/cache/).
2. Many small objects: put_many and get_many of 10,000 x 16 KiB (--quick
   1,000), hoist.S3 vs metaflow.S3.

Each tool is a child Python (bench/tools/s3_recipe.py, s3_many.py) measured
by the harness, the two interleaved over HOIST_BENCH_ROUNDS rounds (default
3; medians with [min, max]); ratios are metaflow / hoist per round (> 1:
hoist is faster).
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid

from harness import ROOT, Job

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

    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS") or 3)

    def recipe_rows(m, _r):
        r = _last_json(m.extra.get("stdout_tail", ""))
        if m.ok and r.get("rows") != ds["rows"]:
            m.ok, m.note = False, "recipe returned %s rows, expected %d" % (r.get("rows"), ds["rows"])
        m.rows = r.get("rows") or 0

    wl = "seed002_recipe"
    ctx.measure_interleaved([Job("hoist" if impl == "hoist" else "metaflow.S3", wl,
                                 [ctx.python, str(TOOLS / "s3_recipe.py"), impl, ds["url"]], env=env,
                                 bytes=ds["size"], objects=ds["files"], after=recipe_rows, cwd="/tmp")
                             for impl in ("hoist", "metaflow")], rounds=rounds)
    ctx.compare_interleaved(wl)

    n = 1000 if ctx.quick else 10000
    size = 16 << 10
    bucket = "hoist-bench-many"
    subprocess.run([ctx.python, "-c", "import boto3,os\ns3=boto3.client('s3',endpoint_url=os.environ"
                    "['AWS_ENDPOINT_URL'])\ntry:\n s3.create_bucket(Bucket=%r)\nexcept Exception:\n pass" % bucket],
                   check=True)
    run_id = uuid.uuid4().hex[:8]
    for op in ("put", "get"):
        wl = "%s_many_%dx16KiB" % (op, n)
        jobs = []
        for impl in ("hoist", "metaflow"):
            # Puts go to a fresh prefix per tool and round; both tools then read
            # the one hoist wrote in the first round.
            def argv(r, impl=impl, op=op):
                root = "s3://%s/%s/%s-%d" % (bucket, run_id, impl, r) if op == "put" else \
                    "s3://%s/%s/hoist-0" % (bucket, run_id)
                return [ctx.python, str(TOOLS / "s3_many.py"), impl, op, root, str(n), str(size)]
            jobs.append(Job("hoist" if impl == "hoist" else "metaflow.S3", wl, argv, env=env, bytes=n * size,
                            objects=n, cwd="/tmp"))
        ctx.measure_interleaved(jobs, rounds=rounds)
        ctx.compare_interleaved(wl)
    # Leave the server as we found it: the small objects are not reused between runs.
    subprocess.run([ctx.python, "-c", "import sys\nfrom hoist import S3\nwith S3() as s3:\n"
                    " s3.delete_many([o.url for o in s3.list_recursive([sys.argv[1]])])",
                    "s3://%s/%s" % (bucket, run_id)], env=dict(os.environ, **env))
