"""Recursive downloads into a directory: hoist.S3.download_prefix and the
extension's Store.get_prefix (both hoist_store_get_prefix) against the local
S3 server, and hostile keys (which SeaweedFS refuses to store) through moto."""
import pathlib
import uuid

import pytest

from hoist import S3, MetaflowS3URLException, S3Object


@pytest.fixture()
def root(bucket):
    return "s3://%s/dl-%s" % (bucket, uuid.uuid4().hex[:8])


def tree(base: pathlib.Path):
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def test_download_prefix_keeps_relative_names(root, tmp_path):
    with S3(s3root=root, tmproot=str(tmp_path / "tmp")) as s3:
        s3.put_many([("d/top.txt", "top"), ("d/nested/deeper/leaf.bin", b"\x00\x01"),
                     ("d/unicodé/日本 ファイル.txt", "こんにちは"), ("d_other/no.txt", "no")])
        dest = tmp_path / "dest"
        objs = s3.download_prefix("d", str(dest))
        # keys are relative to the prefix, as the files are to dest
        assert [o.key for o in objs] == ["nested/deeper/leaf.bin", "top.txt", "unicodé/日本 ファイル.txt"]
        assert objs[1].url == root + "/d/top.txt" and objs[1].prefix == root + "/d/"
        assert all(isinstance(o, S3Object) and o.downloaded for o in objs)
        assert tree(dest) == {"top.txt": b"top", "nested/deeper/leaf.bin": b"\x00\x01",
                              "unicodé/日本 ファイル.txt": "こんにちは".encode()}
        assert objs[1].path == str(dest / "top.txt") and objs[1].size == 3
    # the files are the caller's: close() leaves them
    assert (dest / "top.txt").read_bytes() == b"top"


def test_download_prefix_no_overwrite_and_empty(root, tmp_path):
    with S3(s3root=root, tmproot=str(tmp_path / "tmp")) as s3:
        s3.put_many([("p/a", "A"), ("p/b", "B")])
        dest = tmp_path / "dest"
        dest.mkdir()
        (dest / "a").write_bytes(b"mine")
        objs = s3.download_prefix("p/", str(dest), overwrite=False)
        assert [o.key for o in objs] == ["b"]
        assert tree(dest) == {"a": b"mine", "b": b"B"}
        assert len(s3.download_prefix("p", str(dest))) == 2
        assert tree(dest) == {"a": b"A", "b": b"B"}
        assert s3.download_prefix("nothing", str(tmp_path / "empty")) == []
        assert not (tmp_path / "empty").exists()
        with pytest.raises(TypeError):
            s3.download_prefix("p", None)


def test_store_get_prefix_tuples(root, tmp_path):
    import hoist._hoist as _hoist
    with S3(s3root=root, tmproot=str(tmp_path / "tmp")) as s3:
        s3.put("x/y.txt", "yy")
        store = s3._store()
        rows = store.get_prefix(root + "/x", str(tmp_path / "o"))
        assert rows == [(root + "/x/y.txt", str(tmp_path / "o" / "y.txt"), 2, 0, None)]
        rows = store.get_prefix(root + "/x/", str(tmp_path / "o"), _hoist.NO_OVERWRITE)
        assert rows[0][3] == _hoist.ERR_EXISTS and "not overwritten" in rows[0][4]


@pytest.mark.parametrize("key", ["a/../../evil", "../evil", "/abs/evil", "a//evil", "./evil", "x/.."])
def test_download_prefix_refuses_hostile_keys(moto_endpoint, tmp_path, monkeypatch, key):
    import boto3
    for name, value in (("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s"),
                        ("AWS_ENDPOINT_URL", moto_endpoint), ("AWS_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    b = "hostile-" + uuid.uuid4().hex[:8]
    client.create_bucket(Bucket=b)
    client.put_object(Bucket=b, Key="good.txt", Body=b"good")
    client.put_object(Bucket=b, Key=key, Body=b"EVIL")
    dest = tmp_path / "w1" / "w2" / "dest"
    with S3(s3root="s3://%s" % b, endpoint=moto_endpoint, tmproot=str(tmp_path / "tmp")) as s3:
        with pytest.raises(MetaflowS3URLException) as e:
            s3.download_prefix(None, str(dest))
    assert "unsafe key" in str(e.value) and key in str(e.value)
    assert [x for x in tmp_path.rglob("*") if x.is_file()] == []
