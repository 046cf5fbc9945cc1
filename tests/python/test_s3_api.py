"""hoist.S3 against the local S3 server: every method and attribute of the
metaflow.S3 API, ranges, missing keys, unicode keys, overwrite, errors."""
import io
import json
import os
import time

import pytest

import hoist
from hoist import (S3, MetaflowS3AccessDenied, MetaflowS3Exception, MetaflowS3InvalidObject,
                   MetaflowS3InvalidRange, MetaflowS3NotFound, MetaflowS3URLException, RangeInfo,
                   S3GetObject, S3Object, S3PutObject)


@pytest.fixture()
def root(bucket, tmp_path):
    return "s3://%s/s3demo" % bucket


@pytest.fixture()
def s3(root, tmp_path):
    with S3(s3root=root, tmproot=str(tmp_path)) as s:
        yield s


def test_exception_names_are_hoists_own_classes():
    assert MetaflowS3NotFound is hoist.S3NotFound
    assert MetaflowS3AccessDenied is hoist.S3AccessDenied
    assert MetaflowS3URLException is hoist.S3URLError
    assert MetaflowS3InvalidObject is hoist.S3InvalidObject
    assert MetaflowS3InvalidRange is hoist.S3InvalidRange
    assert MetaflowS3Exception is hoist.S3Error
    for cls in (MetaflowS3NotFound, MetaflowS3AccessDenied, MetaflowS3URLException,
                MetaflowS3InvalidObject, MetaflowS3InvalidRange):
        assert issubclass(cls, MetaflowS3Exception)
    assert issubclass(MetaflowS3URLException, ValueError)
    assert issubclass(MetaflowS3InvalidObject, TypeError)


def test_put_get_roundtrip_and_attributes(s3, root):
    url = s3.put("fruit", "pineapple")
    assert url == root + "/fruit"
    obj = s3.get("fruit")
    assert isinstance(obj, S3Object)
    assert obj.url == url
    assert obj.key == "fruit"
    assert obj.prefix == root
    assert obj.size == 9
    assert obj.exists and obj.downloaded
    assert obj.blob == b"pineapple"
    assert obj.text == "pineapple"
    assert os.path.isfile(obj.path)
    with open(obj.path, "rb") as f:
        assert f.read() == b"pineapple"
    assert obj.metadata is None
    assert obj.content_type  # the server's default (binary/octet-stream)
    assert obj.range_info == RangeInfo(9, 0, 9)
    assert obj.has_info
    assert isinstance(obj.last_modified, float)
    assert abs(obj.last_modified - time.time()) < 600
    assert obj.encryption is None
    assert str(obj) == "<S3Object %s (9 bytes, local)>" % url
    assert repr(obj) == str(obj)


def test_full_urls_without_root(bucket, tmp_path):
    with S3(tmproot=str(tmp_path)) as s3:
        url = "s3://%s/savin/tmp/external_data" % bucket
        assert s3.put(url, b"I know nothing about Metaflow") == url
        res = s3.get(url)
        assert res.text == "I know nothing about Metaflow"
        assert res.key == url and res.prefix is None
        with pytest.raises(MetaflowS3URLException, match="s3root"):
            s3.get("relative/key")
        with pytest.raises(MetaflowS3URLException):
            s3.get("s3://%s" % bucket)  # no key
        with pytest.raises(MetaflowS3URLException):
            s3.get_all()


def test_absolute_url_with_root_is_refused(s3, bucket):
    with pytest.raises(MetaflowS3URLException, match="absolute"):
        s3.get("s3://%s/x" % bucket)


def test_bad_s3root_scheme():
    with pytest.raises(MetaflowS3URLException):
        S3(s3root="http://bucket/x")


def test_get_returns_none_info_when_not_asked(s3):
    s3.put("a", "x", content_type="text/plain", metadata={"k": "v"})
    obj = s3.get("a", return_info=False)
    assert obj.blob == b"x"
    assert not obj.has_info
    assert obj.content_type is None and obj.metadata is None and obj.range_info is None


def test_content_type_and_metadata(s3):
    meta = {"owner": "ü-team", "n": 3, "nested": {"a": [1, 2]}}
    s3.put("m", b"{}", content_type="application/json", metadata=meta)
    for obj in (s3.get("m"), s3.info("m"), s3.get_many(["m"])[0], s3.info_many(["m"])[0]):
        assert obj.content_type == "application/json"
        assert obj.metadata == meta


def test_missing_keys(s3, root):
    s3.put("present", "1")
    with pytest.raises(MetaflowS3NotFound) as e:
        s3.get("absent")
    assert "absent" in str(e.value)
    with pytest.raises(MetaflowS3NotFound):
        s3.get_many(["present", "absent"])
    with pytest.raises(MetaflowS3NotFound):
        s3.info("absent")
    with pytest.raises(MetaflowS3NotFound):
        s3.info_many(["present", "absent"])
    obj = s3.get("absent", return_missing=True)
    assert not obj.exists and not obj.downloaded and obj.size is None and obj.blob is None
    assert obj.url == root + "/absent"
    assert str(obj) == "<S3Object %s (object does not exist)>" % obj.url
    got = s3.get_many(["present", "absent", "present"], return_missing=True)
    assert [o.exists for o in got] == [True, False, True]
    info = s3.info_many(["absent", "present"], return_missing=True)
    assert [o.exists for o in info] == [False, True]
    assert info[1].size == 1 and not info[1].downloaded
    assert s3.info("absent", return_missing=True).exists is False


def test_missing_bucket_is_not_found(tmp_path):
    with S3(s3root="s3://no-such-bucket-hoist-%d" % os.getpid(), tmproot=str(tmp_path)) as s3:
        with pytest.raises(MetaflowS3NotFound) as e:
            s3.get("x")
        assert "bucket" in str(e.value).lower() or "no-such-bucket" in str(e.value)


def test_get_many_order_duplicates_and_memory(s3):
    data = {"k%03d" % i: os.urandom(100 + i) for i in range(50)}
    s3.put_many(list(data.items()))
    keys = list(data)[::-1] + ["k000", "k000"]
    objs = s3.get_many(keys)
    assert [o.key for o in objs] == keys
    assert [o.blob for o in objs] == [data[k] for k in keys]
    assert objs[-1].path == objs[-2].path  # duplicates share one file, as in metaflow.S3
    mem = s3.get_many(keys, into_memory=True)
    assert [o.blob for o in mem] == [data[k] for k in keys]
    assert all(o.path is None and o.downloaded for o in mem)
    assert s3.get_many([]) == []


def test_into_memory_is_zero_copy_and_outlives_close(root, tmp_path):
    payload = os.urandom(3 << 20)
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        s3.put("big", payload)
        obj = s3.get("big", into_memory=True)
        tmpdir = s3._tmpdir
    assert tmpdir is None or not os.path.exists(tmpdir) or os.listdir(tmpdir) == []
    v1, v2 = obj.buffer, obj.buffer
    assert v1.readonly
    # Two views of the same Buffer share memory: no copy per access.
    import numpy as np
    a1, a2 = np.frombuffer(v1, dtype=np.uint8), np.frombuffer(v2, dtype=np.uint8)
    assert a1.__array_interface__["data"][0] == a2.__array_interface__["data"][0]
    assert bytes(v1) == payload
    assert obj.size == len(payload) and obj.range_info == RangeInfo(len(payload), 0, len(payload))


def test_ranges(s3):
    payload = bytes(range(256)) * 40  # 10240 bytes
    s3.put("r", payload)
    reqs = [S3GetObject("r", 0, 1024), S3GetObject("r", 1024, 1024), S3GetObject("r", 10000, None),
            S3GetObject("r", None, -100), S3GetObject("r", 5, 0 + 10), S3GetObject("r")]
    for into_memory in (False, True):
        a, b, c, d, e, f = s3.get_many(reqs, into_memory=into_memory)
        assert a.blob == payload[:1024] and a.range_info == RangeInfo(10240, 0, 1024)
        assert b.blob == payload[1024:2048] and b.range_info == RangeInfo(10240, 1024, 1024)
        assert c.blob == payload[10000:] and c.range_info == RangeInfo(10240, 10000, 240)
        assert d.blob == payload[-100:] and d.range_info == RangeInfo(10240, 10140, 100)
        assert e.blob == payload[5:15] and e.size == 10
        assert f.blob == payload and f.range_info == RangeInfo(10240, 0, 10240)
        if not into_memory:
            assert len({a.path, b.path, c.path, d.path, e.path, f.path}) == 6
    one = s3.get(S3GetObject("r", 100, 50))
    assert one.blob == payload[100:150] and one.size == 50
    # A range past the end of the object.
    with pytest.raises(MetaflowS3InvalidRange):
        s3.get(S3GetObject("r", 20000, 10))
    with pytest.raises(ValueError, match="offset"):
        s3.get(S3GetObject("r", -5, 10))
    with pytest.raises(TypeError, match="length"):
        s3.get(S3GetObject("r", 0, "10"))


def test_unicode_and_odd_keys(s3, root):
    keys = ["ünïcödé/файл.txt", "emoji/😀 space.bin", "hash#frag/q?x=1&y=2", "plus+and%25/tilde~"]
    for k in keys:
        s3.put(k, k)
    for k, o in zip(keys, s3.get_many(keys)):
        assert o.key == k and o.text == k
        assert o.url == root + "/" + k
    listed = sorted(o.key for o in s3.list_recursive())
    assert listed == sorted(keys)
    assert [o.text for o in s3.get_recursive(["emoji"])] == [keys[1]]


def _tree(s3):
    s3.put_many({"first/a/object1": "data", "first/b/x/object2": "data",
                 "second/c/object3": "data", "first/a/empty": b""}.items())


def test_list_paths(s3, root):
    _tree(s3)
    top = s3.list_paths()
    assert [o.key for o in top] == ["first", "second"]
    assert all(not o.exists and not o.downloaded for o in top)
    assert [o.key for o in s3.list_paths(["first", "second"])] == ["a", "b", "c"]
    res = s3.list_paths(["first/a", "first/b"])
    assert [(o.key, o.exists) for o in res] == [("empty", True), ("object1", True), ("x", False)]
    assert res[1].size == 4 and res[1].prefix.rstrip("/") == root + "/first/a"
    assert res[0].size == 0  # metaflow.S3 reports a 0-byte object as a prefix; hoist does not


def test_list_recursive_and_get_recursive(s3, root):
    _tree(s3)
    s3.put("firstborn/not-under-first", "sibling")
    keys = [o.key for o in s3.list_recursive()]
    assert keys == ["first/a/empty", "first/a/object1", "first/b/x/object2",
                    "firstborn/not-under-first", "second/c/object3"]
    lr = s3.list_recursive(["second", "first"])
    assert [o.key for o in lr] == ["c/object3", "a/empty", "a/object1", "b/x/object2"]
    assert all(o.exists and not o.downloaded for o in lr)
    got = s3.get_recursive(["second", "first"])
    assert [o.url for o in got] == [o.url for o in lr]
    assert [o.key for o in got] == [o.key for o in lr]
    assert [o.blob for o in got] == [b"data", b"", b"data", b"data"]
    assert not got[0].has_info  # return_info defaults to False here, as in metaflow.S3
    assert got[0].prefix == root + "/second"
    # The sibling 'firstborn/' shares the string prefix but is not inside 'first/'.
    assert all("firstborn" not in o.url for o in got)
    assert [o.key for o in s3.get_recursive(["first"], into_memory=True, return_info=True)] == \
        ["a/empty", "a/object1", "b/x/object2"]
    everything = s3.get_all()
    assert [o.key for o in everything] == keys
    assert everything[0].prefix == root


def test_get_recursive_stays_inside_prefix_like_list_recursive(bucket, tmp_path):
    """metaflow.S3 bug (notes 7.3): get_recursive(['s3://b/log']) also returns log_other/ and logx."""
    with S3(tmproot=str(tmp_path)) as s3:
        b = "s3://%s/" % bucket
        s3.put_many([(b + "log/a.txt", "a"), (b + "log_other/b.txt", "b"), (b + "logx", "x")])
        assert [o.url for o in s3.get_recursive([b + "log"])] == [b + "log/a.txt"]
        assert [o.url for o in s3.list_recursive([b + "log"])] == [b + "log/a.txt"]
    with S3(s3root="s3://%s/log" % bucket, tmproot=str(tmp_path)) as s3:
        assert [o.key for o in s3.get_all()] == ["a.txt"]


def test_put_many_forms_and_results(s3, root):
    res = s3.put_many([("t1", "text"), ("t2", b"bytes"), ("t3", bytearray(b"ba")),
                       ("t4", memoryview(b"mv")), S3PutObject("t5", "put-object", content_type="text/plain",
                                                             metadata={"a": 1}),
                       ("t6", io.BytesIO(b"file-like"))])
    assert res == [("t%d" % i, root + "/t%d" % i) for i in range(1, 7)]
    got = s3.get_many(["t1", "t2", "t3", "t4", "t5", "t6"])
    assert [o.blob for o in got] == [b"text", b"bytes", b"ba", b"mv", b"put-object", b"file-like"]
    assert got[4].content_type == "text/plain" and got[4].metadata == {"a": 1}
    assert s3.put_many([]) == []
    import numpy as np
    arr = np.arange(1000, dtype=np.int64)
    s3.put_many([("np", arr)])
    assert s3.get("np").blob == arr.tobytes()
    with pytest.raises(MetaflowS3InvalidObject):
        s3.put_many([("bad", 12345)])
    with pytest.raises(MetaflowS3InvalidObject):
        s3.put("bad", object())
    with pytest.raises(TypeError, match="key_objs"):
        s3.put_many(["just-a-key"])
    with pytest.raises(TypeError, match="metadata"):
        s3.put("x", "y", metadata="not-a-dict")
    with pytest.raises(TypeError, match="content_type"):
        s3.put("x", "y", content_type=5)


def test_put_file_object_must_be_readable_and_seekable(s3, tmp_path):
    class Unseekable(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

    with pytest.raises(MetaflowS3InvalidObject, match="seekable"):
        s3.put("x", Unseekable())
    p = tmp_path / "f.bin"
    p.write_bytes(b"0123456789")
    with open(p, "rb") as f:
        f.seek(4)
        s3.put("fromfile", f)
    assert s3.get("fromfile").blob == b"456789"


def test_put_files(s3, root, tmp_path):
    (tmp_path / "1").write_text("first datum")
    (tmp_path / "2").write_text("second datum")
    res = s3.put_files([("first_file", str(tmp_path / "1")),
                        S3PutObject("second_file", path=str(tmp_path / "2"), content_type="text/x",
                                    metadata={"m": True})])
    assert res == [("first_file", root + "/first_file"), ("second_file", root + "/second_file")]
    a, b = s3.get_many(["first_file", "second_file"])
    assert a.text == "first datum" and b.text == "second datum"
    assert b.content_type == "text/x" and b.metadata == {"m": True}
    with pytest.raises(MetaflowS3NotFound, match="Local file not found"):
        s3.put_files([("x", str(tmp_path / "nope"))])
    assert s3.info("x", return_missing=True).exists is False


def test_overwrite_false(s3, root):
    s3.put("k", "v1")
    assert s3.put("k", "v2", overwrite=False) == root + "/k"  # URL returned even when skipped
    assert s3.get("k").text == "v1"
    res = s3.put_many([("k", "v3"), ("new", "n")], overwrite=False)
    assert res == [("new", root + "/new")]
    assert s3.get("k").text == "v1" and s3.get("new").text == "n"
    s3.put("k", "v4")  # overwrite=True replaces
    assert s3.get("k").text == "v4"


def test_overwrite_false_is_atomic_under_races(root, tmp_path):
    """Eight writers race to create one key with overwrite=False: exactly one wins."""
    from concurrent.futures import ThreadPoolExecutor

    def write(i):
        with S3(s3root=root, tmproot=str(tmp_path)) as s3:
            return s3.put_many([("race", "writer-%d" % i)], overwrite=False)

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(write, range(8)))
    winners = [i for i, r in enumerate(results) if r]
    assert len(winners) == 1, results
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        assert s3.get("race").text == "writer-%d" % winners[0]


def test_close_removes_temp_files(root, tmp_path):
    s3 = S3(s3root=root, tmproot=str(tmp_path))
    s3.put("a", "1")
    obj = s3.get("a")
    assert os.path.exists(obj.path)
    s3.close()
    assert not os.path.exists(obj.path)
    assert os.listdir(tmp_path) == []
    s3.close()  # twice is fine


def test_info(s3, root):
    s3.put("i", b"12345", content_type="text/csv")
    o = s3.info("i")
    assert o.size == 5 and o.exists and not o.downloaded and o.path is None and o.blob is None
    assert o.content_type == "text/csv" and o.range_info is None
    assert o.key == "i" and o.url == root + "/i"
    assert str(o) == "<S3Object %s (5 bytes, in S3)>" % o.url
    assert s3.info_many([]) == []


def test_bad_arguments_name_the_argument(root, tmp_path):
    with pytest.raises(TypeError, match="tmproot"):
        S3(tmproot=3)
    with pytest.raises(TypeError, match="s3root"):
        S3(s3root=b"s3://x")
    with pytest.raises(TypeError, match="concurrency"):
        S3(concurrency="8")
    with pytest.raises(ValueError, match="concurrency"):
        S3(concurrency=-1)
    with pytest.raises(TypeError, match="bogus"):
        S3(bogus=1)
    with pytest.raises(ValueError, match="role"):
        S3(role="my-role")  # not an ARN
    with pytest.raises(ValueError, match="encryption"):
        S3(encryption="rot13")
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        with pytest.raises(TypeError, match="return_missing"):
            s3.get("x", return_missing="yes")
        with pytest.raises(TypeError, match="keys"):
            s3.get_many("single-string")
        with pytest.raises(TypeError, match="key"):
            s3.get(42)
        with pytest.raises(TypeError, match="overwrite"):
            s3.put("x", "y", overwrite=None)


def test_hoist_options_and_client_params(bucket, tmp_path, s3_env):
    root = "s3://%s/opts" % bucket
    with S3(s3root=root, tmproot=str(tmp_path), endpoint=s3_env["AWS_ENDPOINT_URL"], region="us-east-1",
            concurrency=4, part_size=8 << 20) as s3:
        s3.put("a", "1")
        assert s3.get("a").text == "1"
    cp = {"endpoint_url": s3_env["AWS_ENDPOINT_URL"], "aws_access_key_id": s3_env["AWS_ACCESS_KEY_ID"],
          "aws_secret_access_key": s3_env["AWS_SECRET_ACCESS_KEY"], "region_name": "us-east-1"}
    with S3(s3root=root, tmproot=str(tmp_path), client_params=cp) as s3:
        assert s3.get("a").text == "1"


def test_wrong_credentials_fail_fast_and_say_so(bucket, tmp_path, s3_env):
    import boto3
    import botocore.exceptions
    bad = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"], aws_access_key_id=s3_env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key="wrong-secret")
    try:
        bad.head_bucket(Bucket=bucket)
        pytest.skip("this S3 server does not check signatures (moto)")
    except botocore.exceptions.ClientError:
        pass
    t0 = time.perf_counter()
    with S3(s3root="s3://%s/x" % bucket, tmproot=str(tmp_path),
            credentials=(s3_env["AWS_ACCESS_KEY_ID"], "wrong-secret")) as s3:
        with pytest.raises(MetaflowS3AccessDenied) as e:
            s3.get_many(["a"])
    elapsed = time.perf_counter() - t0
    print("wrong secret failed in %.3f s: %s" % (elapsed, e.value))
    assert elapsed < 5
    assert isinstance(e.value, hoist.S3CredentialsError) or "ccess" in str(e.value)
    assert e.value.status != 0


def test_missing_credentials_fail_fast(bucket, tmp_path, monkeypatch, s3_env):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    t0 = time.perf_counter()
    with pytest.raises(MetaflowS3Exception) as e:
        with S3(s3root="s3://%s/x" % bucket, tmproot=str(tmp_path)) as s3:
            s3.get_many(["a"])
    elapsed = time.perf_counter() - t0
    print("no credentials failed in %.3f s: %s" % (elapsed, e.value))
    assert elapsed < 15
    assert "credential" in str(e.value).lower()


def test_one_object_get_many_takes_milliseconds(s3):
    s3.put("tiny", b"x" * 1024)
    s3.get_many(["tiny"])  # warm the connection
    best = min(_timed(lambda: s3.get_many(["tiny"])) for _ in range(5))
    info = min(_timed(lambda: s3.info_many(["tiny"])) for _ in range(5))
    print("one-object get_many: %.2f ms, info_many: %.2f ms (metaflow.S3: ~800 ms)" % (best * 1e3, info * 1e3))
    assert best < 0.2 and info < 0.2


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_large_object_multipart_roundtrip(s3):
    payload = os.urandom(20 << 20) + b"tail"
    s3.put_many([("big/blob", memoryview(payload))])
    o = s3.get("big/blob")
    assert o.size == len(payload)
    with open(o.path, "rb") as f:
        assert f.read() == payload
    m = s3.get("big/blob", into_memory=True)
    assert m.buffer == memoryview(payload)
    part = s3.get(S3GetObject("big/blob", (20 << 20) - 3, 7))
    assert part.blob == payload[-7:]


def test_threads_share_one_client(s3):
    from concurrent.futures import ThreadPoolExecutor
    s3.put_many([("th/%d" % i, str(i)) for i in range(40)])
    with ThreadPoolExecutor(8) as ex:
        out = list(ex.map(lambda i: s3.get("th/%d" % i, into_memory=True).text, range(40)))
    assert out == [str(i) for i in range(40)]


def test_checks_without_a_root_come_in_metaflows_order(tmp_path):
    """metaflow.S3 checks the value (put, put_many) or the local file
    (put_files) before the URL, so without a root a bad value or a missing
    file is reported as such, not as a URL error (metaflow's own
    test_put_exceptions, which runs without any S3 server)."""
    from hoist import MetaflowS3NotFound, MetaflowS3URLException
    with S3() as s3:
        with pytest.raises(MetaflowS3InvalidObject):
            s3.put_many([("a", 1)])
        with pytest.raises(MetaflowS3InvalidObject):
            s3.put("a", 1)
        with pytest.raises(MetaflowS3NotFound):
            s3.put_files([("a", str(tmp_path / "non-existent"))])
        with pytest.raises(MetaflowS3NotFound):
            s3.put_files([hoist.S3PutObject("a", path=str(tmp_path / "non-existent"))])
        f = tmp_path / "exists"
        f.write_text("x")
        with pytest.raises(MetaflowS3URLException):
            s3.put_files([("a", str(f))])
        with pytest.raises(MetaflowS3URLException):
            s3.put_many([("foo", "bar")])
