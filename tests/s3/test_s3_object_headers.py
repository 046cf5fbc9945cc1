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
