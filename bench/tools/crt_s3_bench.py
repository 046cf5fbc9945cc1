"""AWS CRT S3 client (awscrt.s3.S3Client) side of bench/scenarios/store_transfer.py.

    crt_s3_bench.py put|get s3://BUCKET/PREFIX COUNT SIZE

Same workload as bench/tools/hoist_store_bench.c: objects PREFIX/obj-000000...
put: COUNT uploads from memory (one shared SIZE-byte buffer), all submitted at
once so the CRT schedules them. get: COUNT downloads into memory, each into a
preallocated bytearray written at the offsets on_body reports (the CRT splits
large objects into ranged parts). Endpoint and credentials from the AWS_*
environment; throughput target 10 Gbit/s (the s3transfer/aws-cli default).
Prints one JSON line like the hoist driver."""
import json
import os
import sys
import time
from urllib.parse import urlparse

from awscrt import auth, http, io
from awscrt import s3 as crts3


def main():
    op, url, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    endpoint = urlparse(os.environ["AWS_ENDPOINT_URL"])
    bucket, _, prefix = url[len("s3://"):].partition("/")
    prefix = prefix.rstrip("/")
    keys = [f"{prefix}/obj-{i:06d}" if prefix else f"obj-{i:06d}" for i in range(count)]
    creds = auth.AwsCredentialsProvider.new_static(os.environ["AWS_ACCESS_KEY_ID"],
                                                   os.environ["AWS_SECRET_ACCESS_KEY"])
    signing = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4,
        signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        service="s3", region=os.environ.get("AWS_REGION", "us-east-1"), credentials_provider=creds,
        signed_body_value=auth.AwsSignedBodyValue.UNSIGNED_PAYLOAD,
        signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256)
    tls = crts3.S3RequestTlsMode.ENABLED if endpoint.scheme == "https" else crts3.S3RequestTlsMode.DISABLED
    elg = io.EventLoopGroup(os.cpu_count())
    bootstrap = io.ClientBootstrap(elg, io.DefaultHostResolver(elg))
    client = crts3.S3Client(bootstrap=bootstrap, region=os.environ.get("AWS_REGION", "us-east-1"),
                            tls_mode=tls, signing_config=signing, throughput_target_gbps=10.0)
    host = endpoint.netloc

    errors = []
    if op == "put":
        data = os.urandom(size)
        t0 = time.perf_counter()
        reqs = []
        for k in keys:
            headers = http.HttpHeaders([("Host", host), ("Content-Length", str(size)),
                                        ("Content-Type", "application/octet-stream")])
            import io as pyio
            req = http.HttpRequest("PUT", f"/{bucket}/{k}", headers, pyio.BytesIO(data))

            def done(error=None, status_code=None, k=k, **kw):
                if error:
                    errors.append(f"{k}: {error} ({status_code})")
            reqs.append(client.make_request(type=crts3.S3RequestType.PUT_OBJECT, request=req, on_done=done))
        for r in reqs:
            r.finished_future.result()
        t1 = time.perf_counter()
    else:
        bufs = [bytearray(size) for _ in keys]
        got = [0] * count
        t0 = time.perf_counter()
        reqs = []
        for i, k in enumerate(keys):
            view = memoryview(bufs[i])

            def on_body(chunk, offset, view=view, i=i, **kw):
                n = len(chunk)
                view[offset:offset + n] = chunk
                got[i] += n

            def done(error=None, status_code=None, k=k, **kw):
                if error:
                    errors.append(f"{k}: {error} ({status_code})")
            req = http.HttpRequest("GET", f"/{bucket}/{k}", http.HttpHeaders([("Host", host)]))
            reqs.append(client.make_request(type=crts3.S3RequestType.GET_OBJECT, request=req,
                                            on_body=on_body, on_done=done))
        for r in reqs:
            r.finished_future.result()
        t1 = time.perf_counter()
        bad = [keys[i] for i in range(count) if got[i] != size]
        if bad and not errors:
            errors.append(f"{bad[0]}: wrong size")
    if errors:
        print(f"crt_s3_bench: {len(errors)} failed; first: {errors[0]}", file=sys.stderr)
        sys.exit(1)
    secs = t1 - t0
    print(json.dumps({"op": op, "objects": count, "bytes": count * size, "seconds": round(secs, 6),
                      "gbit_s": round(count * size * 8 / 1e9 / secs, 3)}))


if __name__ == "__main__":
    main()
