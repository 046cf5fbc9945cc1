"""hoist.S3's AWS options on the C chain: encryption= (SSE on puts,
S3Object.encryption reported), role= (assumed at moto's STS with the
environment's keys; moto's S3 checks the session)."""
import os
import pathlib
import subprocess
import sys
import json

import pytest

HERE = pathlib.Path(__file__).resolve().parent
hoist = pytest.importorskip("hoist")


def test_encryption_reported(s3_env, bucket):
    from hoist import S3
    with S3(s3root=f"s3://{bucket}/e/", encryption="AES256") as s3:
        s3.put("a.txt", "sealed")
        assert s3.info("a.txt").encryption == "AES256"
        obj = s3.get("a.txt", return_info=True)
        assert obj.text == "sealed" and obj.encryption == "AES256"
    with S3(s3root=f"s3://{bucket}/e/") as s3:
        s3.put("b.txt", "plain")
        assert s3.info("b.txt").encryption is None


def test_encryption_from_metaflow_variable(s3_env, bucket, monkeypatch):
    from hoist import S3
    monkeypatch.setenv("METAFLOW_S3_SERVER_SIDE_ENCRYPTION", "AES256")
    with S3(s3root=f"s3://{bucket}/m/") as s3:
        s3.put("a.txt", "x")
        assert s3.info("a.txt").encryption == "AES256"


@pytest.fixture(scope="module")
def standin():
    pytest.importorskip("moto")
    proc = subprocess.Popen([sys.executable, str(HERE / "cred_standin.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    yield info
    proc.stdin.close()
    proc.wait(timeout=30)


def test_role(standin, monkeypatch):
    from hoist import S3
    for k in list(os.environ):
        if k.startswith("AWS_") or k == "METAFLOW_S3_ENDPOINT_URL":
            monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", standin["user_key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", standin["user_secret"])
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", standin["moto"])
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with S3(s3root=f"s3://{standin['bucket']}/", endpoint=standin["moto"], role=standin["role_arn"]) as s3:
        assert s3.get("hello.txt").blob == b"hello from moto\n"
    # source keys moto's STS refuses: an error naming the role option (another
    # identity, so not the cached session of the user above)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with S3(s3root=f"s3://{standin['bucket']}/", endpoint=standin["moto"], role=standin["role_arn"]) as s3:
        with pytest.raises(Exception, match="role option"):
            s3.get("hello.txt")


@pytest.mark.parametrize("rate", [10, 50, 90])
def test_inject_failure_rate(s3_env, bucket, rate):
    """metaflow.S3(inject_failure_rate=N): N % of first attempts fail before
    anything is sent; the retries absorb them and every call succeeds."""
    from hoist import S3
    blobs = {"k%03d" % i: os.urandom(1000 + i) for i in range(60)}
    big = os.urandom(11 << 20)  # multipart: create, parts, complete all see injected failures
    with S3(s3root=f"s3://{bucket}/inj{rate}/", inject_failure_rate=rate, part_size=5 << 20) as s3:
        s3.put_many(list(blobs.items()))
        s3.put("big", big)
        got = {o.key: o.blob for o in s3.get_many(list(blobs))}
        assert got == blobs
        assert s3.get("big").blob == big
        assert len(s3.list_paths()) == len(blobs) + 1
        assert all(o.exists for o in s3.info_many(list(blobs)))
        stats = s3._store().stats() if hasattr(s3._store(), "stats") else None
    if stats is not None:
        assert stats.get("retries", 0) > 0
    with pytest.raises(ValueError, match="inject_failure_rate"):
        S3(inject_failure_rate=101)


def test_inject_failure_rate_100_exhausts_retries(s3_env, bucket):
    """Rate 100 fails every attempt, as metaflow's does (its suite's
    test_put_many_exhausted_retries expects the call to fail); injected
    failures are retried without backing off (nothing reached the server),
    so exhausting the retries is quick."""
    import time
    from hoist import S3
    from hoist.exceptions import MetaflowS3Exception
    with S3(s3root=f"s3://{bucket}/inj100/", inject_failure_rate=100) as s3:
        t0 = time.monotonic()
        with pytest.raises(MetaflowS3Exception, match="injected failure"):
            s3.put_many([("a", b"1"), ("b", b"2")])
        with pytest.raises(MetaflowS3Exception, match="injected failure"):
            s3.get("a")
        assert time.monotonic() - t0 < 10
    with S3(s3root=f"s3://{bucket}/inj100/") as s3:
        assert not s3.info("a", return_missing=True).exists


def test_put_checks_the_value_before_the_url(tmp_path):
    """metaflow raises MetaflowS3InvalidObject for a bad value even when the
    key is not a URL and there is no root (issue 14, section 3)."""
    from hoist import S3
    from hoist.s3 import S3InvalidObject
    with S3(tmproot=str(tmp_path)) as s3:
        with pytest.raises(S3InvalidObject):
            s3.put("no-root-key", 12345)
        with pytest.raises(S3InvalidObject):
            s3.put_many([("no-root-key", object())])
