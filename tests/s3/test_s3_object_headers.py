"""What every object-creating request carries, through the CLI against the
local S3 server (SeaweedFS): server-side encryption (--sse, reported by
`hoist info`) on single and multipart puts, and the default content type
binary/octet-stream when none is given (what AWS stores)."""
import json
import os

import pytest

from conftest import run_cli


def ok(p):
    assert p.returncode == 0, p.stderr_text
    return p


def info(cli, url, *opts):
    return json.loads(ok(run_cli(cli, "info", "--json", *opts, url)).stdout_text)


@pytest.mark.parametrize("size", [100, 12 << 20])  # one PUT; a multipart upload (5 MiB parts)
def test_sse_aes256(hoist_cli, bucket, tmp_path, size):
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(size))
    url = f"s3://{bucket}/enc.bin"
    ok(run_cli(hoist_cli, "cp", "--sse", "AES256", "--part-size", "5M", str(src), url))
    doc = info(hoist_cli, url)
    assert doc["encryption"] == "AES256"
    assert doc["size"] == size
    out = tmp_path / "back.bin"
    ok(run_cli(hoist_cli, "cp", url, str(out)))
    assert out.read_bytes() == src.read_bytes()
    text = ok(run_cli(hoist_cli, "info", url)).stdout_text
    assert "encryption:    AES256" in text


def test_no_sse_requested(hoist_cli, bucket, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("plain\n")
    url = f"s3://{bucket}/plain.txt"
    ok(run_cli(hoist_cli, "cp", str(src), url))
    assert info(hoist_cli, url)["encryption"] is None


def test_default_content_type(hoist_cli, bucket, tmp_path):
    """No type given: binary/octet-stream, as AWS stores (SeaweedFS would
    otherwise sniff text/plain); single and multipart."""
    small, big = tmp_path / "s.txt", tmp_path / "b.txt"
    small.write_text("just some text\n")
    big.write_bytes(b"text " * (3 << 20))
    for f in (small, big):
        url = f"s3://{bucket}/{f.name}"
        ok(run_cli(hoist_cli, "cp", "--part-size", "5M", str(f), url))
        assert info(hoist_cli, url)["content_type"] == "binary/octet-stream"


def test_sse_usage_errors(hoist_cli, bucket, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("x")
    p = run_cli(hoist_cli, "cp", "--sse", "rot13", str(src), f"s3://{bucket}/x")
    assert p.returncode == 2 and "--sse" in p.stderr_text
    p = run_cli(hoist_cli, "cp", "--sse-kms-key-id", "alias/k", str(src), f"s3://{bucket}/x")
    assert p.returncode == 1 and "aws:kms" in p.stderr_text


# ---- AWS_CA_BUNDLE ------------------------------------------------------------


@pytest.fixture()
def tls_endpoint(s3_env, tmp_path):
    """https://127.0.0.1:PORT in front of the local S3 server, with a
    certificate from a throwaway CA; yields (url, ca_file)."""
    import subprocess
    import sys
    ca_key, ca, key, csr, cert = (tmp_path / n for n in ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem"))
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "1", "-subj", "/CN=hoist test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "1", "-extfile", str(ext))
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://")[1]
    relay = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "tls_relay.py"),
                              "--upstream", upstream, "--cert", str(cert), "--key", str(key)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = relay.stdout.readline().split()[1]
    yield f"https://127.0.0.1:{port}", str(ca)
    relay.stdin.close()
    relay.wait(timeout=10)


def test_ca_bundle(hoist_cli, bucket, tmp_path, tls_endpoint):
    url, ca = tls_endpoint
    src = tmp_path / "f.txt"
    src.write_text("over tls\n")
    ok(run_cli(hoist_cli, "cp", str(src), f"s3://{bucket}/tls.txt"))
    env = {"AWS_ENDPOINT_URL_S3": url, "METAFLOW_S3_ENDPOINT_URL": "", "AWS_ENDPOINT_URL": ""}
    # the system's trust store does not know the throwaway CA
    p = run_cli(hoist_cli, "cat", "--endpoint", url, f"s3://{bucket}/tls.txt", env=env)
    assert p.returncode == 1 and "certificate" in p.stderr_text.lower(), p.stderr_text
    p = ok(run_cli(hoist_cli, "cat", "--endpoint", url, f"s3://{bucket}/tls.txt", env=dict(env, AWS_CA_BUNDLE=ca)))
    assert p.stdout_text == "over tls\n"
    p = run_cli(hoist_cli, "cat", "--endpoint", url, f"s3://{bucket}/tls.txt",
                env=dict(env, AWS_CA_BUNDLE=str(tmp_path / "missing.pem")))
    assert p.returncode != 0 and "AWS_CA_BUNDLE" in p.stderr_text


# ---- checksum modes -------------------------------------------------------------


@pytest.fixture()
def strict_store(s3_env):
    """http://127.0.0.1:PORT in front of the local S3 server that rejects
    x-amz-checksum-* headers, as B2 and R2 do; yields (url, counts())."""
    import subprocess
    import sys
    import urllib.request
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://")[1]
    relay = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "checksum_relay.py"),
                              "--upstream", upstream], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:" + relay.stdout.readline().split()[1]
    yield url, lambda: json.loads(urllib.request.urlopen(url + "/_count", timeout=5).read())
    relay.stdin.close()
    relay.wait(timeout=10)


@pytest.mark.parametrize("size", [1000, 11 << 20])
def test_when_required_for_stores_that_reject_checksums(hoist_cli, bucket, tmp_path, strict_store, size):
    url, counts = strict_store
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(size))
    dst = f"s3://{bucket}/ck.bin"
    common = ["--endpoint", url, "--part-size", "5M"]
    # the default sends CRC32C: this store refuses it (and says so)
    p = run_cli(hoist_cli, "cp", *common, str(src), dst)
    assert p.returncode == 1 and "InvalidArgument" in p.stderr_text
    p = ok(run_cli(hoist_cli, "cp", *common, "--checksum", "when_required", str(src), dst))
    parts = 1 if size < (5 << 20) else 3
    assert counts()["md5_uploads"] == parts
    out = tmp_path / "back.bin"
    ok(run_cli(hoist_cli, "cp", *common, "--checksum", "when_required", dst, str(out)))
    assert out.read_bytes() == src.read_bytes()
    # the same settings from the SDK's variable
    ok(run_cli(hoist_cli, "cp", "--endpoint", url, str(src), dst,
               env={"AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED"}))


def test_when_required_upload_is_checked_by_md5(hoist_cli, bucket, tmp_path, s3_env):
    """Content-MD5 is real protection: a wrong one is refused (BadDigest).
    Shown with boto3 on the same server, since hoist computes it right."""
    import base64
    import boto3
    import botocore
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"abc",
                      ContentMD5=base64.b64encode(b"0" * 16).decode())
    assert e.value.response["Error"]["Code"] in ("BadDigest", "InvalidDigest")


def test_always_needs_a_checksum_to_verify(hoist_cli, bucket, tmp_path, s3_env):
    import boto3
    src = tmp_path / "f.txt"
    src.write_text("with crc\n")
    ok(run_cli(hoist_cli, "cp", str(src), f"s3://{bucket}/with.txt"))
    out = tmp_path / "out.txt"
    ok(run_cli(hoist_cli, "cp", "--checksum", "always", f"s3://{bucket}/with.txt", str(out)))
    assert out.read_text() == "with crc\n"
    # an object stored without any checksum (an old client, or when_required)
    ok(run_cli(hoist_cli, "cp", "--checksum", "when_required", str(src), f"s3://{bucket}/without.txt"))
    head = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"]).head_object(
        Bucket=bucket, Key="without.txt", ChecksumMode="ENABLED")
    if any(k.startswith("Checksum") and k != "ChecksumType" for k in head):
        pytest.skip("this server computes checksums itself")
    p = run_cli(hoist_cli, "cp", "--checksum", "always", f"s3://{bucket}/without.txt", str(out))
    assert p.returncode == 1 and "checksum mode" in p.stderr_text
    ok(run_cli(hoist_cli, "cp", f"s3://{bucket}/without.txt", str(out)))
    assert out.read_text() == "with crc\n"
