"""obstore (Rust object_store) side of bench/scenarios/store_transfer.py. Runs in .venv-bench.

    obstore_s3_bench.py put|get s3://BUCKET/PREFIX COUNT SIZE

Same workload as bench/tools/hoist_store_bench.c: objects PREFIX/obj-000000...
put: COUNT uploads of one shared SIZE-byte buffer (obstore.put_async; object_store
switches to multipart above its chunk size); get: COUNT downloads into memory
(obstore.get_async + bytes_async). Both run 32 requests at a time on one asyncio
loop (object_store's own runtime does the I/O), as the boto3 driver uses 32 threads.
Endpoint and credentials from the AWS_* environment. Prints one JSON line like the
hoist driver."""
import asyncio
import json
import os
import sys
import time

import obstore
from obstore.store import S3Store

CONCURRENCY = 32


async def run(op, store, keys, size):
    sem = asyncio.Semaphore(CONCURRENCY)
    data = os.urandom(size) if op == "put" else None
    got = [0] * len(keys)

    async def one(i, k):
        async with sem:
            if op == "put":
                await obstore.put_async(store, k, data)
            else:
                r = await obstore.get_async(store, k)
                got[i] = len(await r.bytes_async())

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))
    t1 = time.perf_counter()
    if op == "get":
        bad = [keys[i] for i in range(len(keys)) if got[i] != size]
        if bad:
            raise SystemExit("obstore_s3_bench: %s: wrong size" % bad[0])
    return t1 - t0


def main():
    op, url, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    bucket, _, prefix = url[len("s3://"):].partition("/")
    prefix = prefix.rstrip("/")
    keys = [f"{prefix}/obj-{i:06d}" if prefix else f"obj-{i:06d}" for i in range(count)]
    ep = os.environ["AWS_ENDPOINT_URL"]
    store = S3Store(bucket, endpoint=ep, access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                    secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                    region=os.environ.get("AWS_REGION", "us-east-1"), virtual_hosted_style_request=False,
                    client_options={"allow_http": ep.startswith("http://")})
    secs = asyncio.run(run(op, store, keys, size))
    print(json.dumps({"op": op, "objects": count, "bytes": count * size, "seconds": round(secs, 6),
                      "gbit_s": round(count * size * 8 / 1e9 / secs, 3)}))


if __name__ == "__main__":
    sys.exit(main())
