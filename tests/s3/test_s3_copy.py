"""Server-side copy through the CLI (`hoist cp s3://… s3://…`), against the
local S3 server behind a counting relay: CopyObject for small objects,
parallel UploadPartCopy ranges above the part size, no object byte through
the client, type and metadata kept, SSE applied, no pending upload left."""
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from conftest import run_cli


@pytest.fixture()
def relay(s3_env):
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://")[1]
    p = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "checksum_relay.py"),
                          "--upstream", upstream], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:" + p.stdout.readline().split()[1]
    yield url, lambda: json.loads(urllib.request.urlopen(url + "/_count", timeout=5).read())
    p.stdin.close()
    p.wait(timeout=10)


@pytest.fixture()
def s3(s3_env):
    import boto3
    return boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])


META = json.dumps({"owner": "ana", "n": 3})


@pytest.mark.parametrize("size,copies", [(1000, 1), (12 << 20, 3)])
def test_server_side_copy(hoist_cli, bucket, s3, relay, size, copies):
    url, counts = relay
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key="src/a.bin", Body=data, ContentType="application/x-test",
                  Metadata={"metaflow-user-attributes": META})
    p = run_cli(hoist_cli, "cp", "--endpoint", url, "--checksum", "when_required", "--part-size", "5M",
                f"s3://{bucket}/src/a.bin", f"s3://{bucket}/dst/a.bin")
    assert p.returncode == 0, p.stderr_text
    c = counts()
    assert c["copies"] == copies  # one CopyObject, or one UploadPartCopy per 5 MiB part
    assert c["get_bytes"] == 0     # nothing came through the client
    got = s3.get_object(Bucket=bucket, Key="dst/a.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-test"
    assert json.loads(got["Metadata"]["metaflow-user-attributes"]) == json.loads(META)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_recursive_copy_with_sse(hoist_cli, bucket, s3):
    for k in ("p/x.txt", "p/sub/y.txt", "p/sub/z.bin"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    p = run_cli(hoist_cli, "cp", "-r", "--sse", "AES256", f"s3://{bucket}/p/", f"s3://{bucket}/q/")
    assert p.returncode == 0, p.stderr_text
    for k in ("x.txt", "sub/y.txt", "sub/z.bin"):
        assert s3.get_object(Bucket=bucket, Key="q/" + k)["Body"].read() == ("p/" + k).encode()
        doc = json.loads(run_cli(hoist_cli, "info", "--json", f"s3://{bucket}/q/{k}").stdout_text)
        assert doc["encryption"] == "AES256"


def test_copy_missing_source(hoist_cli, bucket):
    p = run_cli(hoist_cli, "cp", f"s3://{bucket}/nope", f"s3://{bucket}/x")
    assert p.returncode == 1
    assert f"s3://{bucket}/nope" in p.stderr_text and "NoSuchKey" in p.stderr_text
    assert f"s3://{bucket}/x:" not in p.stderr_text
