"""Many small objects through the metaflow.S3 API:
    s3_many.py {metaflow|hoist} {put|get} s3://bucket/prefix N SIZE
put: put_many of N values of SIZE bytes (keys obj-00000...); get: get_many of
those N keys (to temp files, as metaflow.S3 does). Prints one JSON line."""
import json
import os
import sys

impl, op, root, n, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
os.environ.setdefault("METAFLOW_S3_ENDPOINT_URL", os.environ["AWS_ENDPOINT_URL"])
if impl == "metaflow":
    from metaflow import S3
else:
    from hoist import S3

keys = ["obj-%05d" % i for i in range(n)]
with S3(s3root=root) as s3:
    if op == "put":
        payload = os.urandom(size)
        done = s3.put_many([(k, payload) for k in keys])
        count = len(done)
    else:
        objs = s3.get_many(keys)
        count = sum(o.size for o in objs) // size
        assert all(o.size == size for o in objs)
print(json.dumps({"objects": count}), flush=True)
