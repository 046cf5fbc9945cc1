"""scripts/s3-server: env output, status, and a clear error when the port is taken."""
import os
import socket
import subprocess

import pytest

from conftest import ROOT

SCRIPT = str(ROOT / "scripts" / "s3-server")


def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=e, timeout=120)


def test_env_prints_exports_usable_by_any_client():
    out = run("env").stdout
    for var in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]:
        assert f"export {var}=" in out


def test_running_server_answers_boto3(s3_env):
    import boto3
    assert run("status").returncode == 0
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "hoist" in names


def test_port_taken_by_something_else_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run("start", env={"HOIST_S3_PORT": str(port), "HOIST_S3_STATE": str(tmp_path / "st")})
        assert p.returncode == 1
        assert f"port {port} is taken" in p.stderr


def test_bad_subcommand():
    assert run("bogus").returncode == 2
