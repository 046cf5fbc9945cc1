"""Makes the benchmark's taxi-like dataset once (bench/cache/) and uploads it
once to the local S3 server; prints one JSON line describing it. Run as a
child of the harness so that the harness process stays small: a child's peak
RSS (wait4) starts from its parent's high-water mark when it is spawned."""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = ROOT / "bench" / "cache"
BUCKET = "hoist-bench-taxi"
PREFIX = "taxi"
TWO = ["trip_distance", "total_amount"]


def log(msg):
    print("  " + msg, file=sys.stderr, flush=True)


def _month_table(n, seed, month):
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    start = np.datetime64("2014-%02d-01T00:00:00" % month, "us").astype(np.int64)
    pickup = start + rng.integers(0, 28 * 86400 * 10**6, n)
    duration = rng.gamma(2.0, 400.0, n) * 10**6
    dist = np.round(rng.gamma(1.8, 1.6, n), 2)
    fare = np.round(2.5 + dist * 2.5 + rng.normal(0, 1.0, n).clip(-2, 5), 2)
    extra = rng.choice(np.array([0.0, 0.5, 1.0], dtype=np.float32), n)
    tip = np.where(rng.random(n) < 0.55, np.round(fare * rng.uniform(0.1, 0.25, n), 2), 0.0)
    tolls = np.where(rng.random(n) < 0.05, 5.33, 0.0)
    payment = rng.choice(np.array(["CRD", "CSH", "NOC", "DIS", "UNK"]), n, p=[0.55, 0.42, 0.015, 0.01, 0.005])
    lon0, lat0 = -73.97, 40.75
    cols = {
        "vendor_id": pa.array(rng.choice(np.array(["CMT", "VTS"]), n)),
        "pickup_at": pa.array(pickup.astype("datetime64[us]")),
        "dropoff_at": pa.array((pickup + duration.astype(np.int64)).astype("datetime64[us]")),
        "passenger_count": pa.array(rng.choice(np.arange(1, 7, dtype=np.int8), n,
                                               p=[0.7, 0.14, 0.05, 0.03, 0.05, 0.03])),
        "trip_distance": pa.array(dist),
        "pickup_longitude": pa.array(lon0 + rng.normal(0, 0.03, n)),
        "pickup_latitude": pa.array(lat0 + rng.normal(0, 0.03, n)),
        "rate_code_id": pa.array(rng.choice(np.array([1, 2, 5], dtype=np.int8), n, p=[0.97, 0.02, 0.01])),
        "store_and_fwd_flag": pa.array(rng.choice(np.array(["N", "Y"]), n, p=[0.99, 0.01])),
        "dropoff_longitude": pa.array(lon0 + rng.normal(0, 0.04, n)),
        "dropoff_latitude": pa.array(lat0 + rng.normal(0, 0.04, n)),
        "payment_type": pa.array(payment),
        "fare_amount": pa.array(fare.astype(np.float32)),
        "extra": pa.array(extra),
        "mta_tax": pa.array(np.full(n, 0.5, dtype=np.float32)),
        "tip_amount": pa.array(tip.astype(np.float32)),
        "tolls_amount": pa.array(tolls.astype(np.float32)),
        "total_amount": pa.array(np.round(fare + extra + 0.5 + tip + tolls, 2)),
    }
    return pa.table(cols)


def generate(root: Path, csv_root: Path, rows_per_file: int, files_per_month: int, log) -> None:
    """Writes month=M/part-F.parquet (and .csv) for 12 months; deterministic."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    def one(job):
        month, f = job
        d = root / ("month=%d" % month)
        c = csv_root / ("month=%d" % month)
        d.mkdir(parents=True, exist_ok=True)
        c.mkdir(parents=True, exist_ok=True)
        t = _month_table(rows_per_file, month * 1000 + f, month)
        tmp = d / ("part-%d.parquet.tmp" % f)
        pq.write_table(t, tmp, row_group_size=256 * 1024, compression="snappy")
        tmp.rename(d / ("part-%d.parquet" % f))
        tmpc = c / ("part-%d.csv.tmp" % f)
        pcsv.write_csv(t, tmpc)
        tmpc.rename(c / ("part-%d.csv" % f))

    jobs = [(m, f) for m in range(1, 13) for f in range(files_per_month)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for i, _ in enumerate(ex.map(one, jobs), 1):
            if i % 12 == 0:
                log("generated %d/%d files" % (i, len(jobs)))


def parquet_files(root: Path):
    return sorted(p for p in root.rglob("*.parquet"))


def ensure_dataset(quick):
    import pyarrow.parquet as pq

    if quick:
        name, rows, files = "taxi-quick", 200_000, 2      # 12 x 2 x 200k rows, ~0.3 GB
    else:
        name, rows, files = "taxi-2g", 760_000, 4         # 12 x 4 x 760k rows, ~2.1 GiB (62 B/row)
    root = CACHE / name / "parquet"
    csv_root = CACHE / name / "csv"
    done = CACHE / name / "COMPLETE"
    if not done.exists():
        log("generating %s (once; cached in %s)" % (name, CACHE / name))
        generate(root, csv_root, rows, files, log)
        done.write_text(json.dumps({"rows_per_file": rows, "files_per_month": files}))
    files_ = parquet_files(root)
    size = sum(p.stat().st_size for p in files_)
    rows_total = sum(pq.ParquetFile(p).metadata.num_rows for p in files_)
    return root, files_, size, rows_total, "%s/%s" % (PREFIX, name)


def ensure_uploaded(root: Path, files, key_prefix: str) -> str:
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    try:
        s3.head_bucket(Bucket=BUCKET)
    except Exception:
        s3.create_bucket(Bucket=BUCKET)
    have = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=key_prefix + "/"):
        for o in page.get("Contents", []):
            have[o["Key"]] = o["Size"]
    todo = []
    for p in files:
        key = key_prefix + "/" + p.relative_to(root).as_posix()
        if have.get(key) != p.stat().st_size:
            todo.append((p, key))
    if todo:
        log("uploading %d files to s3://%s/%s/" % (len(todo), BUCKET, key_prefix))
        with ThreadPoolExecutor(max_workers=16) as ex:
            list(ex.map(lambda pk: s3.upload_file(str(pk[0]), BUCKET, pk[1]), todo))
    return "s3://%s/%s/" % (BUCKET, key_prefix)


def projected_bytes(files, columns):
    import pyarrow.parquet as pq

    total = 0
    for p in files:
        md = pq.ParquetFile(p).metadata
        names = [md.schema.column(i).name for i in range(md.num_columns)]
        idx = [names.index(c) for c in columns]
        for rg in range(md.num_row_groups):
            for i in idx:
                total += md.row_group(rg).column(i).total_compressed_size
    return total


def main():
    quick = "--quick" in sys.argv[1:]
    root, files, size, rows, key_prefix = ensure_dataset(quick)
    url = ensure_uploaded(root, files, key_prefix)
    print(json.dumps({
        "url": url, "files": len(files), "size": size, "rows": rows,
        "bytes": {"all": size, "two": projected_bytes(files, TWO),
                  "two_filtered": projected_bytes(files, TWO + ["passenger_count"])},
    }), flush=True)


if __name__ == "__main__":
    main()
