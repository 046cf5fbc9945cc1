"""Full-object checksums on download, end to end against moto's S3 (which
stores and returns CRC64NVME, CRC32 and full-object or composite multipart
checksums the way S3 does, computing CRC64NVME with the AWS CRT) and against
the local SeaweedFS (which keeps CRC64NVME and FULL_OBJECT ones): objects are
written by boto3 with each kind, read back by the hoist CLI, in one GET or in
several ranged GETs whose CRCs hoist joins; a relay in front of moto flips one
byte of a chosen answer to show a mismatch is caught (and retried when the
whole object came in one answer)."""
import http.client
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_cli

RELAY = os.path.join(os.path.dirname(__file__), "checksum_relay.py")

MiB = 1 << 20


def ok(p):
    assert p.returncode == 0, p.stderr_text
    return p


@pytest.fixture(scope="module")
def moto(moto_endpoint):
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="k",
                      aws_secret_access_key="s")
    s3.create_bucket(Bucket="cksums")
    return s3


class CorruptingRelay:
    """Relays to moto; flips one early byte (byte 1000, or the middle of a
    shorter body) of the next `flips` GET answers whose status is `status`
    (any status when None). The length stays right: only a checksum can
    tell."""

    def __init__(self, upstream):
        host, port = upstream.split("://")[1].rsplit(":", 1)
        self.flips, self.status, self.flipped = 0, 200, 0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body)
                r = conn.getresponse()
                data = bytearray(r.read())
                if self.command == "GET" and relay.status in (None, r.status) and relay.flips > 0 and data:
                    relay.flips -= 1
                    relay.flipped += 1
                    data[min(len(data) // 2, 1000)] ^= 0x01
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                length = r.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]


@pytest.fixture(scope="module")
def relay(moto_endpoint):
    r = CorruptingRelay(moto_endpoint)
    yield r
    r.server.shutdown()


def hoist_get(hoist_cli, endpoint, key, out, *extra, bucket="cksums", env=None):
    env = env or {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"}
    env = dict(env, AWS_ENDPOINT_URL_S3="", AWS_ENDPOINT_URL="", METAFLOW_S3_ENDPOINT_URL="", HOIST_LOG="debug")
    return run_cli(hoist_cli, "cp", "--endpoint", endpoint, *extra, f"s3://{bucket}/{key}", str(out), env=env)


def put_multipart(s3, key, data, part, algorithm, ctype, bucket="cksums"):
    """A multipart upload with per-part checksums of `algorithm` and the
    object checksum type `ctype` (FULL_OBJECT or COMPOSITE)."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm, ChecksumType=ctype)
    parts = []
    for i, off in enumerate(range(0, len(data), part)):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=i + 1,
                           Body=data[off:off + part], ChecksumAlgorithm=algorithm)
        field = "Checksum" + algorithm
        parts.append({"PartNumber": i + 1, "ETag": r["ETag"], field: r[field]})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return head


def test_crc64nvme_single_put(hoist_cli, moto, moto_endpoint, relay, tmp_path):
    data = os.urandom(300_000)
    moto.put_object(Bucket="cksums", Key="one.bin", Body=data, ChecksumAlgorithm="CRC64NVME")
    head = moto.head_object(Bucket="cksums", Key="one.bin", ChecksumMode="ENABLED")
    assert "ChecksumCRC64NVME" in head
    out = tmp_path / "one.bin"
    p = ok(hoist_get(hoist_cli, moto_endpoint, "one.bin", out, "--checksum", "always"))
    assert out.read_bytes() == data
    # one flipped byte in the one answer: caught, and the retry reads it right
    relay.status, relay.flips, relay.flipped = 200, 1, 0
    p = ok(hoist_get(hoist_cli, relay.url, "one.bin", out, "--checksum", "always"))
    assert relay.flipped == 1 and out.read_bytes() == data
    # every answer flipped (the retry is a ranged GET): the download fails and
    # says why (through Python, which can cut the retries to one)
    hoist = pytest.importorskip("hoist")
    relay.status, relay.flips, relay.flipped = None, 100, 0
    try:
        with hoist.S3(s3root="s3://cksums/", endpoint=relay.url, credentials=("k", "s"), region="us-east-1",
                      max_retries=1, tmproot=str(tmp_path)) as s3:
            with pytest.raises(Exception, match="CRC64NVME checksum mismatch"):
                s3.get("one.bin")
    finally:
        relay.flips = 0
    assert relay.flipped == 2


@pytest.mark.parametrize("algorithm", ["CRC64NVME", "CRC32"])
def test_full_object_multipart_over_ranged_gets(hoist_cli, moto, moto_endpoint, relay, tmp_path, algorithm):
    data = os.urandom(13 * MiB)
    key = f"full-{algorithm}.bin"
    head = put_multipart(moto, key, data, 5 * MiB, algorithm, "FULL_OBJECT")
    assert head["ChecksumType"] == "FULL_OBJECT" and "-" not in head["Checksum" + algorithm]
    out = tmp_path / "full.bin"
    # 4 MiB parts: the plain GET is cut after its first 4 MiB and three ranged
    # GETs fetch the rest; their CRCs are joined and checked ("always" fails
    # when there is nothing to check)
    p = ok(hoist_get(hoist_cli, moto_endpoint, key, out, "--checksum", "always", "--part-size", "4M"))
    assert out.read_bytes() == data
    # one byte flipped in a ranged answer: only the joined CRC can see it
    relay.status, relay.flips, relay.flipped = 206, 1, 0
    p = hoist_get(hoist_cli, relay.url, key, tmp_path / "bad.bin", "--part-size", "4M")
    assert relay.flipped == 1
    assert p.returncode != 0, "a corrupted ranged part went unnoticed"
    assert f"{algorithm} checksum mismatch over the object's 4 ranged GETs" in p.stderr_text, p.stderr_text
    assert not (tmp_path / "bad.bin").exists()
    # and in the first (plain) answer, which is cut short after its first part
    relay.status, relay.flips, relay.flipped = 200, 1, 0
    p = hoist_get(hoist_cli, relay.url, key, tmp_path / "bad.bin", "--part-size", "4M")
    assert relay.flipped == 1 and p.returncode != 0 and "checksum mismatch" in p.stderr_text


def test_composite_multipart_is_not_verified_on_moto(hoist_cli, moto, moto_endpoint, tmp_path):
    """moto answers a COMPOSITE object's checksum without the "-N" part
    count S3 gives (and computes CRC32C ones with CRC32, and lists no
    ObjectParts): hoist cannot check it there, the download works, and
    "always" says there is nothing it can verify."""
    data = os.urandom(11 * MiB)
    head = put_multipart(moto, "comp.bin", data, 5 * MiB, "CRC32", "COMPOSITE")
    assert head["ChecksumType"] == "COMPOSITE"
    out = tmp_path / "comp.bin"
    ok(hoist_get(hoist_cli, moto_endpoint, "comp.bin", out))
    assert out.read_bytes() == data
    p = hoist_get(hoist_cli, moto_endpoint, "comp.bin", out, "--checksum", "always")
    assert p.returncode != 0 and "COMPOSITE" in p.stderr_text


def test_ranged_reads_are_not_checked(hoist_cli, moto, moto_endpoint, tmp_path):
    """Only a download of the whole object is checked (no ranged answer
    carries the object's checksum): a range reads fine in "always" mode."""
    data = os.urandom(100_000)
    moto.put_object(Bucket="cksums", Key="r.bin", Body=data, ChecksumAlgorithm="CRC64NVME")
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"}
    p = run_cli(hoist_cli, "cat", "--endpoint", moto_endpoint, "--checksum", "always", "--range", "10-19",
                "s3://cksums/r.bin", env=env)
    assert p.returncode == 0, p.stderr_text
    assert p.stdout == data[10:20]


def test_seaweedfs_crc64nvme(hoist_cli, s3_env, bucket, s3, tmp_path):
    """The same on the local SeaweedFS: a CRC64NVME single put and a
    FULL_OBJECT CRC64NVME multipart object, read in one GET and in four
    ranged GETs, verified ("always"); a flipped byte in a ranged answer is
    caught."""
    small, big = os.urandom(200_000), os.urandom(13 * MiB)
    s3.put_object(Bucket=bucket, Key="one.bin", Body=small, ChecksumAlgorithm="CRC64NVME")
    head = put_multipart(s3, "full.bin", big, 5 * MiB, "CRC64NVME", "FULL_OBJECT", bucket=bucket)
    assert head["ChecksumType"] == "FULL_OBJECT"
    env = dict(s3_env)
    ep = env.pop("AWS_ENDPOINT_URL")
    for key, data in (("one.bin", small), ("full.bin", big)):
        out = tmp_path / key
        ok(hoist_get(hoist_cli, ep, key, out, "--checksum", "always", "--part-size", "4M", bucket=bucket, env=env))
        assert out.read_bytes() == data
    relay = CorruptingRelay(ep)
    try:
        relay.status, relay.flips = 206, 1
        p = hoist_get(hoist_cli, relay.url, "full.bin", tmp_path / "bad.bin", "--part-size", "4M", bucket=bucket,
                      env=env)
        assert relay.flipped == 1 and p.returncode != 0
        assert "CRC64NVME checksum mismatch over the object's 4 ranged GETs" in p.stderr_text, p.stderr_text
    finally:
        relay.server.shutdown()


def crc64nvme(data):
    from awscrt import checksums
    import base64
    return base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode()


def seaweed(s3_env):
    env = dict(s3_env)
    return env.pop("AWS_ENDPOINT_URL"), env


@pytest.mark.parametrize("store", ["moto", "seaweedfs"])
def test_hoist_multipart_is_full_object_and_verified(hoist_cli, moto, moto_endpoint, s3_env, s3, store, tmp_path):
    """hoist's own multipart uploads store a FULL_OBJECT CRC64NVME (the
    parts' CRCs joined) on both stores, so its downloads of them are
    checked: in one GET, over ranged GETs, and a flipped byte is caught."""
    pytest.importorskip("awscrt")
    data = os.urandom(13 * MiB)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    if store == "moto":
        ep, env, client, bkt = moto_endpoint, None, moto, "cksums"
    else:
        (ep, env), client = seaweed(s3_env), s3
        bkt = "hoist-ck-full-%d" % os.getpid()
        client.create_bucket(Bucket=bkt)
    common = ["--endpoint", ep, "--part-size", "5M"]
    p = run_cli(hoist_cli, "cp", *common, str(src), f"s3://{bkt}/hoist-mp.bin",
                env=env or {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"})
    ok(p)
    head = client.head_object(Bucket=bkt, Key="hoist-mp.bin", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "FULL_OBJECT"
    assert head["ChecksumCRC64NVME"] == crc64nvme(data)
    assert head["ETag"].endswith('-3"')
    out = tmp_path / "back.bin"
    for ps in ("64M", "4M"):  # one GET; four ranged GETs joined
        ok(hoist_get(hoist_cli, ep, "hoist-mp.bin", out, "--checksum", "always", "--part-size", ps, bucket=bkt,
                     env=env))
        assert out.read_bytes() == data
    relay = CorruptingRelay(ep)
    try:
        # in a ranged answer: the joined CRC fails the object
        relay.status, relay.flips, relay.flipped = 206, 1, 0
        p = hoist_get(hoist_cli, relay.url, "hoist-mp.bin", tmp_path / "bad.bin", "--part-size", "4M", bucket=bkt,
                      env=env)
        assert relay.flipped == 1 and p.returncode != 0, p.stderr_text
        assert "CRC64NVME checksum mismatch over the object's 4 ranged GETs" in p.stderr_text, p.stderr_text
        assert not (tmp_path / "bad.bin").exists()
        # in the one answer of a single GET: caught, and the retry reads it right
        relay.status, relay.flips, relay.flipped = 200, 1, 0
        ok(hoist_get(hoist_cli, relay.url, "hoist-mp.bin", out, "--part-size", "64M", bucket=bkt, env=env))
        assert relay.flipped == 1 and out.read_bytes() == data
    finally:
        relay.server.shutdown()


@pytest.mark.parametrize("algorithm,sizes", [("CRC32C", [5 * MiB, 5 * MiB, 3 * MiB]),
                                             ("CRC32", [6 * MiB, 5 * MiB + 12345, 7 * MiB, 100])])
def test_composite_verified_on_seaweedfs(hoist_cli, s3_env, bucket, s3, tmp_path, algorithm, sizes):
    """A COMPOSITE checksum written by boto3 ("-N": the CRC of the parts'
    CRCs) is checked when SeaweedFS lists the part sizes
    (GetObjectAttributes): equal parts and unequal ones, in one GET plus
    ranges cut at the parts' ends, whatever hoist's part size; a flipped
    byte in a ranged answer or in the first answer is caught."""
    data = os.urandom(sum(sizes))
    parts, off = [], 0
    for n in sizes:
        parts.append(data[off:off + n])
        off += n
    key = f"comp-{algorithm}.bin"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm, ChecksumType="COMPOSITE")
    refs = []
    for i, part in enumerate(parts):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=i + 1, Body=part,
                           ChecksumAlgorithm=algorithm)
        refs.append({"PartNumber": i + 1, "ETag": r["ETag"], "Checksum" + algorithm: r["Checksum" + algorithm]})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": refs})
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "COMPOSITE" and head["Checksum" + algorithm].endswith(f"-{len(sizes)}")
    ep, env = seaweed(s3_env)
    out = tmp_path / "c.bin"
    for ps in ("64M", "4M", "1M"):
        ok(hoist_get(hoist_cli, ep, key, out, "--checksum", "always", "--part-size", ps, bucket=bucket, env=env))
        assert out.read_bytes() == data
    relay = CorruptingRelay(ep)
    try:
        for status in (206, 200):
            relay.status, relay.flips, relay.flipped = status, 1, 0
            p = hoist_get(hoist_cli, relay.url, key, tmp_path / "bad.bin", "--part-size", "4M", bucket=bucket,
                          env=env)
            assert relay.flipped == 1 and p.returncode != 0, p.stderr_text
            assert f"{algorithm} COMPOSITE checksum mismatch over the object's {len(sizes)} parts" in p.stderr_text, \
                p.stderr_text
            assert not (tmp_path / "bad.bin").exists()
    finally:
        relay.server.shutdown()


def test_store_refusing_full_object_gets_composite(hoist_cli, s3_env, bucket, s3, tmp_path):
    """A store that takes CRC32C but refuses the FULL_OBJECT type and
    CRC64NVME (the relay plays one): the upload is started once more as
    COMPOSITE CRC32C, and the client remembers it (its next upload goes
    that way at once); hoist still verifies the result (COMPOSITE path)."""
    import json
    import subprocess
    import sys
    import urllib.request
    hoist = pytest.importorskip("hoist")
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://")[1]
    relay = subprocess.Popen([sys.executable, RELAY, "--upstream", upstream, "--reject", "full-object"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:" + relay.stdout.readline().split()[1]
    counts = lambda: json.loads(urllib.request.urlopen(url + "/_count", timeout=5).read())  # noqa: E731
    try:
        a, b = os.urandom(12 * MiB), os.urandom(11 * MiB)
        with hoist.S3(s3root=f"s3://{bucket}/", endpoint=url, part_size=5 * MiB,
                      credentials=(s3_env["AWS_ACCESS_KEY_ID"], s3_env["AWS_SECRET_ACCESS_KEY"]),
                      region=s3_env["AWS_REGION"], tmproot=str(tmp_path)) as client:
            client.put("a.bin", a)
            c = counts()
            assert c["rejected"] == 1 and c["creates"] == {"CRC32C": 1}, c
            client.put("b.bin", b)
            c = counts()
            assert c["rejected"] == 1 and c["creates"] == {"CRC32C": 2}, c
        for key, data in (("a.bin", a), ("b.bin", b)):
            head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
            assert head["ChecksumType"] == "COMPOSITE" and head["ChecksumCRC32C"].endswith("-3"), head
            ep, env = seaweed(s3_env)
            ok(hoist_get(hoist_cli, ep, key, tmp_path / key, "--checksum", "always", bucket=bucket, env=env))
            assert (tmp_path / key).read_bytes() == data
    finally:
        relay.stdin.close()
        relay.wait(timeout=10)


def test_streamed_write_to_store_refusing_full_object(s3_env, bucket, s3, tmp_path):
    """The dataset writer's streamed multipart uploads (store_upload_s3.c)
    fall back the same way: a Parquet file larger than a part is written
    through a store that refuses FULL_OBJECT, stored COMPOSITE CRC32C, and
    reads back the same."""
    import json
    import subprocess
    import sys
    import urllib.request
    hoist = pytest.importorskip("hoist")
    pa = pytest.importorskip("pyarrow")
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://")[1]
    relay = subprocess.Popen([sys.executable, RELAY, "--upstream", upstream, "--reject", "full-object"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:" + relay.stdout.readline().split()[1]
    try:
        table = pa.table({"b": [os.urandom(1000) for _ in range(12_000)]})
        # a 30 MiB budget and one open file: 5 MiB parts (write_dataset.c)
        hoist.write_table(table, f"s3://{bucket}/ds/", compression=None, endpoint=url, memory_limit=30 * MiB,
                          max_open_files=1)
        c = json.loads(urllib.request.urlopen(url + "/_count", timeout=5).read())
        assert c["rejected"] >= 1 and c["creates"].get("CRC32C", 0) >= 1 and "CRC64NVME" not in c["creates"], c
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="ds/")["Contents"]]
        data_keys = [k for k in keys if k.endswith(".parquet")]
        assert data_keys
        head = s3.head_object(Bucket=bucket, Key=data_keys[0], ChecksumMode="ENABLED")
        assert head["ChecksumType"] == "COMPOSITE" and "-" in head["ChecksumCRC32C"], head
        back = hoist.load_table(f"s3://{bucket}/ds/", endpoint=s3_env["AWS_ENDPOINT_URL"])
        assert pa.table(back).column("b").to_pylist() == table.column("b").to_pylist()
    finally:
        relay.stdin.close()
        relay.wait(timeout=10)
