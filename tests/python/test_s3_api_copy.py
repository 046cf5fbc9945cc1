"""hoist.S3.copy / copy_many (a hoist extra; metaflow.S3 has none): server-
side copies on the local S3 server behind a counting relay (tests/s3/
checksum_relay.py): CopyObject for small objects, UploadPartCopy ranges above
the part size, no object byte through the client; type, metadata and SSE as
documented; errors as metaflow.S3's exception classes."""
import json
import os
import pathlib
import subprocess
import sys
import urllib.request

import pytest

hoist = pytest.importorskip("hoist")
from hoist import S3  # noqa: E402
from hoist.exceptions import MetaflowS3NotFound, MetaflowS3URLException  # noqa: E402

RELAY = pathlib.Path(__file__).resolve().parent.parent / "s3" / "checksum_relay.py"


@pytest.fixture()
def relay(s3_env, monkeypatch):
    """The relay refuses x-amz-checksum-* headers, so the client sends none."""
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://")[1]
    p = subprocess.Popen([sys.executable, str(RELAY), "--upstream", upstream], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:" + p.stdout.readline().split()[1]
    yield url, lambda: json.loads(urllib.request.urlopen(url + "/_count", timeout=5).read())
    p.stdin.close()
    p.wait(timeout=10)


@pytest.mark.parametrize("size,copies", [(1000, 1), (12 << 20, 3)])
def test_copy_is_server_side(s3_env, bucket, relay, size, copies):
    url, counts = relay
    data = os.urandom(size)
    with S3(s3root=f"s3://{bucket}/run/", endpoint=url, part_size=5 << 20) as s3:
        s3.put("src.bin", data, content_type="application/x-test", metadata={"owner": "ana", "n": 3})
        before = counts()
        assert s3.copy("src.bin", "dst.bin") == f"s3://{bucket}/run/dst.bin"
        c = counts()
        assert c["copies"] - before["copies"] == copies  # CopyObject, or one UploadPartCopy per 5 MiB
        assert c["get_bytes"] == before["get_bytes"]     # no object byte came through the client
        obj = s3.get("dst.bin", return_info=True)
        assert obj.blob == data
        assert obj.content_type == "application/x-test" and obj.metadata == {"owner": "ana", "n": 3}
    import boto3
    assert not boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"]).list_multipart_uploads(
        Bucket=bucket).get("Uploads")


def test_copy_many_keys_and_urls(s3_env, bucket):
    with S3(s3root=f"s3://{bucket}/a/") as s3:
        s3.put_many([("x.txt", "x"), ("y.txt", "y"), ("z.txt", "z")])
        got = s3.copy_many([("x.txt", "x2.txt"), ("y.txt", f"s3://{bucket}/elsewhere/y.txt"),
                            (f"s3://{bucket}/a/z.txt", "sub/z.txt")])
        assert got == [(f"s3://{bucket}/a/x.txt", f"s3://{bucket}/a/x2.txt"),
                       (f"s3://{bucket}/a/y.txt", f"s3://{bucket}/elsewhere/y.txt"),
                       (f"s3://{bucket}/a/z.txt", f"s3://{bucket}/a/sub/z.txt")]
        assert s3.get("x2.txt").text == "x" and s3.get("sub/z.txt").text == "z"
        assert s3.copy_many([]) == []
    with S3() as s3:  # no root: full URLs only
        assert s3.get(f"s3://{bucket}/elsewhere/y.txt").text == "y"
        s3.copy(f"s3://{bucket}/a/x.txt", f"s3://{bucket}/b/x.txt")
        assert s3.get(f"s3://{bucket}/b/x.txt").text == "x"
        with pytest.raises(MetaflowS3URLException):
            s3.copy("x.txt", f"s3://{bucket}/b/y.txt")


def test_copy_with_encryption(s3_env, bucket):
    with S3(s3root=f"s3://{bucket}/e/") as plain, S3(s3root=f"s3://{bucket}/e/", encryption="AES256") as sealed:
        plain.put("a.txt", "a")
        assert plain.info("a.txt").encryption is None
        sealed.copy("a.txt", "b.txt")
        assert sealed.info("b.txt").encryption == "AES256"


def test_copy_errors(s3_env, bucket):
    with S3(s3root=f"s3://{bucket}/r/") as s3:
        s3.put("ok.txt", "ok")
        with pytest.raises(MetaflowS3NotFound, match=f"s3://{bucket}/r/missing.txt"):
            s3.copy("missing.txt", "dst.txt")
        # the other copies of the call are carried out; the failed one raises
        with pytest.raises(MetaflowS3NotFound):
            s3.copy_many([("ok.txt", "ok2.txt"), ("missing.txt", "dst.txt")])
        assert s3.get("ok2.txt").text == "ok"
        assert not s3.info("dst.txt", return_missing=True).exists
        with pytest.raises(TypeError):
            s3.copy_many("ok.txt")
        with pytest.raises(TypeError):
            s3.copy_many([("ok.txt",)])
        with pytest.raises(TypeError):
            s3.copy(1, "x")
        with pytest.raises(MetaflowS3URLException):
            s3.copy("ok.txt", "s3://")
