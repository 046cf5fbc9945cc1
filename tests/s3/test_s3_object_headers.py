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
