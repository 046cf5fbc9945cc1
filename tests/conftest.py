"""Shared pytest fixtures: the local S3 server (started by scripts/run-tests)
and paths to the built CLI and test data."""
import contextlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
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


@contextlib.contextmanager
def temp_bucket(s3_env, prefix="t-"):
    """A fresh, empty bucket, emptied and removed on exit."""
    import boto3
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    name = prefix + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    try:
        yield name
    finally:
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
def bucket(s3_env):
    """A fresh, empty bucket for one test, removed afterwards."""
    with temp_bucket(s3_env) as name:
        yield name


@pytest.fixture(scope="session")
def s3(s3_env):
    """A boto3 client of the local S3 server."""
    import boto3
    return boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="session")
def s3fs(s3_env):
    """A pyarrow S3FileSystem on the local S3 server."""
    import pyarrow.fs as pafs
    scheme, host = s3_env["AWS_ENDPOINT_URL"].split("://", 1)
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=s3_env["AWS_ACCESS_KEY_ID"],
                             secret_key=s3_env["AWS_SECRET_ACCESS_KEY"], region=s3_env["AWS_REGION"])


def pending_uploads(s3, bucket):
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto S3 server of its own: it stores keys the local server refuses."""
    if os.environ.get("HOIST_TEST_S3") != "1":
        pytest.skip("S3 integration tests run under `make test` (HOIST_TEST_S3=1)")
    server = pytest.importorskip("moto.server", reason="moto[server] (python/requirements-test.txt)")
    srv = server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


def interrupt_after_start(args, delay):
    """Runs `python -c *args`, waits for its "started" line and `delay` seconds,
    sends SIGINT; returns (process, stdout, stderr, seconds from signal to exit)."""
    p = subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    time.sleep(delay)
    t_sig = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p, out, err, time.perf_counter() - t_sig


@pytest.fixture()
def tmp_dir(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
