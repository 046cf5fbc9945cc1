"""Shared pytest fixtures: the local S3 server (started by scripts/run-tests)
and paths to the built CLI and test data."""
import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TESTDATA = ROOT.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def hoist_cli():
    path = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    assert os.path.exists(path), f"build the CLI first ({path} missing)"
    return path


def run_cli(cli, *args, input=None, env=None, check=False, timeout=300):
    """Runs the hoist CLI; returns the CompletedProcess (text mode)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([cli, *args], input=input, capture_output=True, env=e, timeout=timeout)
    p.stdout_text = p.stdout.decode("utf-8", "replace")
    p.stderr_text = p.stderr.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise AssertionError(f"hoist {' '.join(args)} failed ({p.returncode}): {p.stderr_text}")
    return p


@pytest.fixture(scope="session")
def s3_env():
    """The local S3 server's settings. make test always starts it, so a missing
    server is a failure, not a skip."""
    if os.environ.get("HOIST_TEST_S3") != "1":
        pytest.skip("needs the local S3 server: run `make test` (or scripts/s3-server start "
                    "and set HOIST_TEST_S3=1 with its env)")
    keys = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]
    return {k: os.environ[k] for k in keys}


@pytest.fixture()
def bucket(s3_env):
    """A fresh, empty bucket for one test, removed afterwards."""
    import boto3
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    name = "t-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    yield name
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objs:
            s3.delete_objects(Bucket=name, Delete={"Objects": objs})
    try:
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


@pytest.fixture()
def tmp_dir(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
