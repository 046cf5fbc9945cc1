"""metaflow.S3 side of bench/scenarios/store_transfer.py.

    metaflow_s3_bench.py put|get s3://BUCKET/PREFIX COUNT SIZE

Same workload as bench/tools/hoist_store_bench.c through metaflow.S3's
get_many/put_many (which fan out to its s3op worker processes). metaflow
downloads into files under METAFLOW_TEMPDIR (the scenario points it at a tmpfs
dir, as @batch(use_tmpfs=True) does) and put_many of bytes writes them to temp
files first; that is how the tool works, so it is measured that way. The
endpoint comes from METAFLOW_S3_ENDPOINT_URL. Prints one JSON line like the
hoist driver."""
import json
import os
import sys
import time

from metaflow import S3


def main():
    op, url, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    root = url.rstrip("/")
    keys = [f"obj-{i:06d}" for i in range(count)]
    tmp = os.environ.get("METAFLOW_TEMPDIR")
    with S3(s3root=root, tmproot=tmp) if tmp else S3(s3root=root) as s3:
        if op == "put":
            data = os.urandom(size)
            t0 = time.perf_counter()
            s3.put_many([(k, data) for k in keys])
            t1 = time.perf_counter()
        else:
            t0 = time.perf_counter()
            objs = s3.get_many(keys)
            t1 = time.perf_counter()
            for o in objs:
                if o.size != size or os.path.getsize(o.path) != size:
                    sys.exit(f"metaflow_s3_bench: {o.url}: wrong size {o.size}")
    secs = t1 - t0
    print(json.dumps({"op": op, "objects": count, "bytes": count * size, "seconds": round(secs, 6),
                      "gbit_s": round(count * size * 8 / 1e9 / secs, 3)}))


if __name__ == "__main__":
    main()
