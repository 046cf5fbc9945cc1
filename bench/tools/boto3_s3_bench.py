"""boto3 + s3transfer side of bench/scenarios/store_transfer.py.

    boto3_s3_bench.py put|get s3://BUCKET/PREFIX COUNT SIZE [CONCURRENCY]

Same workload as bench/tools/hoist_store_bench.c, through one
s3transfer TransferManager (threads; max_request_concurrency CONCURRENCY,
default 32, with a connection pool as large): put uploads from memory
(BytesIO over one shared buffer), get downloads into BytesIO objects (s3transfer
splits large objects into ranged GETs at its multipart threshold of 8 MiB).
Prints one JSON line like the hoist driver."""
import io
import json
import os
import sys
import time

import boto3
import botocore.config
from s3transfer.manager import TransferConfig, TransferManager


def main():
    op, url, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    conc = int(sys.argv[5]) if len(sys.argv) > 5 else 32
    bucket, _, prefix = url[len("s3://"):].partition("/")
    prefix = prefix.rstrip("/")
    keys = [f"{prefix}/obj-{i:06d}" if prefix else f"obj-{i:06d}" for i in range(count)]
    client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                          config=botocore.config.Config(max_pool_connections=conc))
    tm = TransferManager(client, TransferConfig(max_request_concurrency=conc))
    if op == "put":
        data = os.urandom(size)
        t0 = time.perf_counter()
        futs = [tm.upload(io.BytesIO(data), bucket, k) for k in keys]
        for f in futs:
            f.result()
        t1 = time.perf_counter()
    else:
        outs = [io.BytesIO() for _ in keys]
        t0 = time.perf_counter()
        futs = [tm.download(bucket, k, outs[i]) for i, k in enumerate(keys)]
        for f in futs:
            f.result()
        t1 = time.perf_counter()
        for k, o in zip(keys, outs):
            if o.getbuffer().nbytes != size:
                sys.exit(f"boto3_s3_bench: {k}: wrong size {o.getbuffer().nbytes}")
    tm.shutdown()
    secs = t1 - t0
    print(json.dumps({"op": op, "objects": count, "bytes": count * size, "seconds": round(secs, 6),
                      "gbit_s": round(count * size * 8 / 1e9 / secs, 3)}))


if __name__ == "__main__":
    main()
