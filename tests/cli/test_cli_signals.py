"""SIGINT and SIGTERM during `hoist cp` (issue 12, finding 3): the command
cancels, aborts its multipart uploads, removes its temp files and exits
128 + the signal — checked on the real CLI against the local S3 server."""
import os
import signal
import subprocess
import time

import pytest

from conftest import pending_uploads

SIGNALS = [(signal.SIGINT, 130), (signal.SIGTERM, 143)]


def wait_for(cond, what, timeout=30.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def stop(p, sig):
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    return err.decode("utf-8", "replace")


@pytest.mark.parametrize("sig,code", SIGNALS)
def test_signal_mid_upload_aborts_multipart(hoist_cli, s3, bucket, tmp_path, sig, code):
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:  # sparse: reading it costs no disk
        f.truncate(768 << 20)
    p = subprocess.Popen([hoist_cli, "cp", "--part-size", "5M", "--concurrency", "2", str(src),
                          f"s3://{bucket}/up/big.bin"], stderr=subprocess.PIPE)
    try:
        wait_for(lambda: pending_uploads(s3, bucket) or p.poll() is not None, "a multipart upload")
        assert p.poll() is None, "the upload ended before the signal: make it longer"
        err = stop(p, sig)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    assert "interrupted" in err, err
    assert pending_uploads(s3, bucket) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("sig,code", SIGNALS)
def test_signal_mid_download_removes_temp_files(hoist_cli, s3, bucket, tmp_path, sig, code):
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        f.truncate(256 << 20)
    subprocess.run([hoist_cli, "cp", str(src), f"s3://{bucket}/big.bin"], check=True)
    dst = tmp_path / "out"
    dst.mkdir()
    p = subprocess.Popen([hoist_cli, "cp", "--part-size", "1M", "--concurrency", "1", f"s3://{bucket}/big.bin",
                          str(dst) + "/"], stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.listdir(dst) or p.poll() is not None, "a temp file")
        assert p.poll() is None, "the download ended before the signal: make it longer"
        err = stop(p, sig)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    assert os.listdir(dst) == []


@pytest.mark.parametrize("sig,code", SIGNALS)
def test_signal_mid_local_copy_removes_temp_files(hoist_cli, tmp_path, sig, code):
    # The file:// backend: many files, one at a time, cancelled between them.
    src = tmp_path / "src"
    src.mkdir()
    for i in range(64):
        with open(src / f"f{i:03d}", "wb") as f:
            f.truncate(32 << 20)
    dst = tmp_path / "dst"
    dst.mkdir()
    p = subprocess.Popen([hoist_cli, "cp", "-r", str(src) + "/", str(dst) + "/"], stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.listdir(dst) or p.poll() is not None, "the copy to start")
        assert p.poll() is None, "the copy ended before the signal: make it longer"
        err = stop(p, sig)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    left = os.listdir(dst)
    assert not [n for n in left if ".hoist-" in n], left
    assert len(left) < 64
