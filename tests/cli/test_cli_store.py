"""The object store commands (ls, cp, cat, info, rm, mb, rb) against the local
S3 server, file:// paths, and moto for keys SeaweedFS refuses to store."""
import json
import os
import pathlib
import pty
import subprocess
import time
import uuid

import pytest

from conftest import run_cli


@pytest.fixture()
def s3(s3_env):
    import boto3
    return boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])


def body(n, seed=0):
    """n deterministic, non-repeating-looking bytes."""
    import hashlib
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def ok(p):
    assert p.returncode == 0, p.stderr_text
    return p


def lines(p):
    return p.stdout_text.splitlines()


def one_error_line(p, *needles):
    assert p.returncode == 1, (p.returncode, p.stderr_text)
    err = p.stderr_text.strip()
    assert "\n" not in err, f"expected one line on stderr, got: {err!r}"
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    return err


def tree(root: pathlib.Path):
    """{relative posix path: bytes} of every file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---- help and usage ------------------------------------------------------


@pytest.mark.parametrize("cmd", ["ls", "cp", "cat", "info", "rm", "mb", "rb"])
def test_command_help_and_listing(hoist_cli, cmd):
    p = ok(run_cli(hoist_cli, cmd, "--help"))
    assert p.stdout_text.startswith(f"usage: hoist {cmd}")
    assert "--endpoint" in p.stdout_text
    assert f"  {cmd} " in run_cli(hoist_cli, "--help").stdout_text


@pytest.mark.parametrize("args", [
    ["cp", "only-one"],
    ["cp", "a", "b", "c"],
    ["ls"],
    ["ls", "--bogus", "s3://x/"],
    ["cat", "--range", "5-2", "s3://x/y"],
    ["cat", "--range", "abc", "s3://x/y"],
    ["cat", "--range"],
    ["ls", "--part-size", "lots", "s3://x/"],
    ["ls", "--part-size", "1.5", "s3://x/"],
    ["ls", "--concurrency", "-3", "s3://x/"],
    ["ls", "http://example.com/x"],
    ["rm", "s3://some-bucket"],
    ["mb", "s3://b/key"],
    ["rb", "/tmp/x"],
])
def test_usage_errors_exit_2(hoist_cli, args):
    p = run_cli(hoist_cli, *args)
    assert p.returncode == 2, (args, p.returncode, p.stderr_text)
    assert p.stdout_text == ""
    assert f"hoist {args[0]}:" in p.stderr_text


# ---- ls ------------------------------------------------------------------


def put_tree(s3, bucket, keys):
    for k, v in keys.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)


def test_ls_one_level_recursive_and_prefix_semantics(hoist_cli, s3, bucket):
    put_tree(s3, bucket, {"a.txt": b"1", "d/b.txt": b"22", "d/e/c.txt": b"333",
                          "log/x": b"x", "log_other/y": b"y"})
    p = ok(run_cli(hoist_cli, "ls", f"s3://{bucket}/"))
    assert sorted(lines(p)) == sorted([f"s3://{bucket}/a.txt", f"s3://{bucket}/d/",
                                       f"s3://{bucket}/log/", f"s3://{bucket}/log_other/"])
    assert p.stderr_text == ""
    p = ok(run_cli(hoist_cli, "ls", "-r", f"s3://{bucket}/d"))
    assert lines(p) == [f"s3://{bucket}/d/b.txt", f"s3://{bucket}/d/e/c.txt"]
    # a prefix is a directory: log must not match log_other
    p = ok(run_cli(hoist_cli, "ls", "--recursive", f"s3://{bucket}/log"))
    assert lines(p) == [f"s3://{bucket}/log/x"]
    # the bucket root without a slash
    p = ok(run_cli(hoist_cli, "ls", "-r", f"s3://{bucket}"))
    assert len(lines(p)) == 5


def test_ls_long_and_json(hoist_cli, s3, bucket):
    put_tree(s3, bucket, {"k/one": body(1234), "k/sub/two": b""})
    p = ok(run_cli(hoist_cli, "ls", "-l", f"s3://{bucket}/k/"))
    rows = lines(p)
    assert len(rows) == 2
    obj = [r for r in rows if r.endswith("/one")][0].split()
    # date, time, size, url
    assert len(obj) == 4 and obj[2] == "1234" and obj[3] == f"s3://{bucket}/k/one"
    assert obj[0].startswith("20") and obj[1].count(":") == 2
    pre = [r for r in rows if r.endswith("/sub/")][0].split()
    assert pre == ["PRE", f"s3://{bucket}/k/sub/"]
    # -rl combined short flags
    p = ok(run_cli(hoist_cli, "ls", "-rl", f"s3://{bucket}/k"))
    sizes = sorted(int(r.split()[2]) for r in lines(p))
    assert sizes == [0, 1234]

    p = ok(run_cli(hoist_cli, "ls", "-r", "--json", f"s3://{bucket}/k/"))
    docs = [json.loads(x) for x in lines(p)]
    assert {d["url"]: d["size"] for d in docs} == {f"s3://{bucket}/k/one": 1234,
                                                  f"s3://{bucket}/k/sub/two": 0}
    assert all(d["type"] == "object" and d["last_modified"].endswith("Z") for d in docs)
    p = ok(run_cli(hoist_cli, "ls", "--json", f"s3://{bucket}/k/"))
    types = {json.loads(x)["url"]: json.loads(x)["type"] for x in lines(p)}
    assert types[f"s3://{bucket}/k/sub/"] == "prefix"


def test_ls_of_one_object_and_missing(hoist_cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="solo.bin", Body=b"abc")
    p = ok(run_cli(hoist_cli, "ls", "-l", f"s3://{bucket}/solo.bin"))
    assert lines(p)[0].split()[2:] == ["3", f"s3://{bucket}/solo.bin"]
    p = run_cli(hoist_cli, "ls", f"s3://{bucket}/nothing-here")
    one_error_line(p, f"s3://{bucket}/nothing-here")
    assert p.stdout_text == ""
    # an empty bucket lists nothing, successfully
    p = ok(run_cli(hoist_cli, "ls", f"s3://{bucket}/empty/"))
    assert p.stdout_text == ""


def test_ls_missing_bucket(hoist_cli, s3_env):
    name = "t-missing-" + uuid.uuid4().hex[:10]
    p = run_cli(hoist_cli, "ls", f"s3://{name}/")
    one_error_line(p, name)


def test_ls_pipes_into_other_tools(hoist_cli, s3, bucket):
    put_tree(s3, bucket, {f"p/{i:03d}": b"x" * i for i in range(30)})
    p = ok(run_cli(hoist_cli, "ls", "-r", f"s3://{bucket}/p/"))
    assert p.stdout_text.endswith("\n")
    assert lines(p) == [f"s3://{bucket}/p/{i:03d}" for i in range(30)]


def test_ls_local_dir(hoist_cli, tmp_dir):
    (tmp_dir / "sub").mkdir()
    (tmp_dir / "sub" / "f.txt").write_bytes(b"hello")
    (tmp_dir / "g.txt").write_bytes(b"")
    p = ok(run_cli(hoist_cli, "ls", "-r", "--json", f"file://{tmp_dir}/"))
    got = {json.loads(x)["url"].rsplit("/", 1)[-1]: json.loads(x)["size"] for x in lines(p)}
    assert got == {"f.txt": 5, "g.txt": 0}


# ---- cp: single objects ----------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 3 * 2**20 + 7])
def test_cp_round_trip_byte_exact(hoist_cli, s3, bucket, tmp_dir, size):
    data = body(size, seed=size)
    src = tmp_dir / "in.bin"
    src.write_bytes(data)
    ok(run_cli(hoist_cli, "cp", str(src), f"s3://{bucket}/rt/in.bin"))
    assert s3.get_object(Bucket=bucket, Key="rt/in.bin")["Body"].read() == data
    out = tmp_dir / "out.bin"
    ok(run_cli(hoist_cli, "cp", f"s3://{bucket}/rt/in.bin", str(out)))
    assert out.read_bytes() == data
    # no temp files left next to the result
    assert sorted(x.name for x in tmp_dir.iterdir()) == ["in.bin", "out.bin"]


def test_cp_into_directory_appends_name(hoist_cli, s3, bucket, tmp_dir):
    s3.put_object(Bucket=bucket, Key="x/name.txt", Body=b"payload")
    ok(run_cli(hoist_cli, "cp", f"s3://{bucket}/x/name.txt", str(tmp_dir)))
    assert (tmp_dir / "name.txt").read_bytes() == b"payload"
    ok(run_cli(hoist_cli, "cp", f"s3://{bucket}/x/name.txt", str(tmp_dir / "new") + "/"))
    assert (tmp_dir / "new" / "name.txt").read_bytes() == b"payload"
    ok(run_cli(hoist_cli, "cp", str(tmp_dir / "name.txt"), f"s3://{bucket}/y/"))
    assert s3.get_object(Bucket=bucket, Key="y/name.txt")["Body"].read() == b"payload"
    ok(run_cli(hoist_cli, "cp", str(tmp_dir / "name.txt"), f"s3://{bucket}"))
    assert s3.get_object(Bucket=bucket, Key="name.txt")["Body"].read() == b"payload"


def test_cp_prefix_without_r_is_an_error(hoist_cli, s3, bucket, tmp_dir):
    s3.put_object(Bucket=bucket, Key="dir/a", Body=b"a")
    one_error_line(run_cli(hoist_cli, "cp", f"s3://{bucket}/dir/", str(tmp_dir)), "-r")
    one_error_line(run_cli(hoist_cli, "cp", str(tmp_dir), f"s3://{bucket}/z"), "-r")


def test_cp_missing_key_names_url(hoist_cli, bucket, tmp_dir):
    url = f"s3://{bucket}/no/such/key.bin"
    p = run_cli(hoist_cli, "cp", url, str(tmp_dir / "out"))
    one_error_line(p, url)
    assert not (tmp_dir / "out").exists()
    assert list(tmp_dir.iterdir()) == [] or all(x.is_dir() for x in tmp_dir.iterdir())


def test_cp_missing_local_file(hoist_cli, bucket, tmp_dir):
    p = run_cli(hoist_cli, "cp", str(tmp_dir / "nope.bin"), f"s3://{bucket}/k")
    one_error_line(p, "nope.bin")


def test_cp_s3_to_s3_keeps_bytes_and_content_type(hoist_cli, s3, bucket):
    data = body(5 * 2**20 + 1, seed=3)
    s3.put_object(Bucket=bucket, Key="src/big.bin", Body=data, ContentType="application/x-test")
    ok(run_cli(hoist_cli, "cp", f"s3://{bucket}/src/big.bin", f"s3://{bucket}/dst/big.bin"))
    got = s3.get_object(Bucket=bucket, Key="dst/big.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-test"


def test_cp_local_to_local_via_file_urls(hoist_cli, tmp_dir):
    data = body(70000, seed=9)
    (tmp_dir / "a.bin").write_bytes(data)
    ok(run_cli(hoist_cli, "cp", f"file://{tmp_dir}/a.bin", f"file://{tmp_dir}/b.bin"))
    assert (tmp_dir / "b.bin").read_bytes() == data
    ok(run_cli(hoist_cli, "cp", str(tmp_dir / "a.bin"), str(tmp_dir / "c.bin")))
    assert (tmp_dir / "c.bin").read_bytes() == data


def test_cp_stdin_and_stdout(hoist_cli, s3, bucket, tmp_dir):
    data = body(300_000, seed=4)
    ok(run_cli(hoist_cli, "cp", "-", f"s3://{bucket}/from-stdin.bin", input=data))
    assert s3.get_object(Bucket=bucket, Key="from-stdin.bin")["Body"].read() == data
    p = ok(run_cli(hoist_cli, "cp", f"s3://{bucket}/from-stdin.bin", "-"))
    assert p.stdout == data
    ok(run_cli(hoist_cli, "cp", "-", str(tmp_dir / "local.bin"), input=b""))
    assert (tmp_dir / "local.bin").read_bytes() == b""
    assert run_cli(hoist_cli, "cp", "-r", "-", f"s3://{bucket}/x").returncode == 2


def test_cp_no_overwrite(hoist_cli, s3, bucket, tmp_dir):
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"old")
    (tmp_dir / "new.txt").write_bytes(b"new")
    p = ok(run_cli(hoist_cli, "cp", "--no-overwrite", str(tmp_dir / "new.txt"), f"s3://{bucket}/keep.txt"))
    assert "not overwritten" in p.stderr_text
    assert s3.get_object(Bucket=bucket, Key="keep.txt")["Body"].read() == b"old"
    # without the flag it replaces
    ok(run_cli(hoist_cli, "cp", str(tmp_dir / "new.txt"), f"s3://{bucket}/keep.txt"))
    assert s3.get_object(Bucket=bucket, Key="keep.txt")["Body"].read() == b"new"
    # local destinations too
    (tmp_dir / "local.txt").write_bytes(b"mine")
    p = ok(run_cli(hoist_cli, "cp", "-n", f"s3://{bucket}/keep.txt", str(tmp_dir / "local.txt")))
    assert "not overwritten" in p.stderr_text
    assert (tmp_dir / "local.txt").read_bytes() == b"mine"
    # recursive: only missing files arrive
    s3.put_object(Bucket=bucket, Key="r/a", Body=b"A")
    s3.put_object(Bucket=bucket, Key="r/b", Body=b"B")
    dest = tmp_dir / "rdest"
    dest.mkdir()
    (dest / "a").write_bytes(b"local-a")
    ok(run_cli(hoist_cli, "cp", "-r", "--no-overwrite", f"s3://{bucket}/r/", str(dest)))
    assert tree(dest) == {"a": b"local-a", "b": b"B"}


# ---- cp -r -------------------------------------------------------------------

UNICODE_TREE = {
    "top.txt": b"top",
    "empty.bin": b"",
    "nested/deeper/deepest/leaf.bin": None,  # filled with a few MiB below
    "nested/sibling.txt": b"sib",
    "unicodé/日本語 ファイル.txt": "こんにちは".encode(),
    "unicodé/emoji 🎉 + plus%.txt": b"party",
    "spaces in/name with spaces.csv": b"a,b\n1,2\n",
}


def make_local_tree(root: pathlib.Path):
    want = {}
    for rel, data in UNICODE_TREE.items():
        data = body(2 * 2**20 + 5, seed=11) if data is None else data
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        want[rel] = data
    return want


def test_cp_recursive_both_ways_nested_unicode(hoist_cli, s3, bucket, tmp_dir):
    src = tmp_dir / "src"
    want = make_local_tree(src)
    ok(run_cli(hoist_cli, "cp", "-r", str(src), f"s3://{bucket}/up"))
    keys = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"up/{k}": len(v) for k, v in want.items()}
    for k, v in want.items():
        assert s3.get_object(Bucket=bucket, Key=f"up/{k}")["Body"].read() == v

    down = tmp_dir / "down"
    ok(run_cli(hoist_cli, "cp", "-r", f"s3://{bucket}/up/", str(down)))
    assert tree(down) == want
    # a trailing slash on the source and an existing destination dir change nothing
    down2 = tmp_dir / "down2"
    down2.mkdir()
    ok(run_cli(hoist_cli, "cp", "--recursive", f"s3://{bucket}/up", f"file://{down2}/"))
    assert tree(down2) == want


def test_cp_recursive_s3_to_s3_and_local_to_local(hoist_cli, s3, bucket, tmp_dir):
    want = {f"d{i % 3}/f{i}.bin": body(100 + i * 37, seed=i) for i in range(40)}
    put_tree(s3, bucket, {f"a/{k}": v for k, v in want.items()})
    ok(run_cli(hoist_cli, "cp", "-r", f"s3://{bucket}/a/", f"s3://{bucket}/b/"))
    for k, v in want.items():
        assert s3.get_object(Bucket=bucket, Key=f"b/{k}")["Body"].read() == v

    src = tmp_dir / "l1"
    want_local = make_local_tree(src)
    ok(run_cli(hoist_cli, "cp", "-r", f"file://{src}", f"file://{tmp_dir}/l2"))
    assert tree(tmp_dir / "l2") == want_local


def test_cp_recursive_many_small_files(hoist_cli, s3, bucket, tmp_dir):
    src = tmp_dir / "many"
    want = {}
    for i in range(300):
        rel = f"g{i % 7}/obj-{i:04d}.dat"
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        data = body(i * 13 % 4096, seed=i)
        (src / rel).write_bytes(data)
        want[rel] = data
    t0 = time.time()
    ok(run_cli(hoist_cli, "cp", "-r", str(src), f"s3://{bucket}/many/"))
    ok(run_cli(hoist_cli, "cp", "-r", f"s3://{bucket}/many/", str(tmp_dir / "back")))
    assert tree(tmp_dir / "back") == want
    assert time.time() - t0 < 60


def test_cp_recursive_empty_prefix_is_an_error(hoist_cli, bucket, tmp_dir):
    p = run_cli(hoist_cli, "cp", "-r", f"s3://{bucket}/nothing/", str(tmp_dir / "x"))
    one_error_line(p, f"s3://{bucket}/nothing")


# ---- hostile keys (moto stores keys SeaweedFS refuses) ---------------------


@pytest.mark.parametrize("key", ["a/../../evil", "p/../../../tmp-evil", "/abs/evil", "a//evil",
                                 "./evil", "x/./evil", "x/.."])
def test_cp_recursive_refuses_hostile_keys(hoist_cli, moto_endpoint, tmp_dir, key):
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id="k",
                      aws_secret_access_key="s", region_name="us-east-1")
    b = "hostile-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="good.txt", Body=b"good")
    s3.put_object(Bucket=b, Key=key, Body=b"EVIL")
    assert key in [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
    work = tmp_dir / "w1" / "w2"
    dest = work / "dest"
    dest.mkdir(parents=True)
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": moto_endpoint}
    p = run_cli(hoist_cli, "cp", "-r", "--endpoint", moto_endpoint, f"s3://{b}/", str(dest), env=env)
    err = one_error_line(p, "unsafe key")
    assert key in err
    # nothing written anywhere: not outside, and not the good object either
    everything = [x for x in tmp_dir.rglob("*") if x.is_file()]
    assert everything == [], everything
    assert not pathlib.Path("/abs/evil").exists()


def test_cp_single_hostile_name_into_dir(hoist_cli, moto_endpoint, tmp_dir):
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id="k",
                      aws_secret_access_key="s", region_name="us-east-1")
    b = "hostile-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="x/..", Body=b"EVIL")
    dest = tmp_dir / "d"
    dest.mkdir()
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    p = run_cli(hoist_cli, "cp", "--endpoint", moto_endpoint, f"s3://{b}/x/..", str(dest), env=env)
    one_error_line(p, "unsafe key")
    assert [x for x in tmp_dir.rglob("*") if x.is_file()] == []


# ---- cat ---------------------------------------------------------------------


def test_cat_whole_and_ranges(hoist_cli, s3, bucket):
    data = body(100_000, seed=5)
    s3.put_object(Bucket=bucket, Key="c.bin", Body=data)
    url = f"s3://{bucket}/c.bin"
    assert ok(run_cli(hoist_cli, "cat", url)).stdout == data
    assert ok(run_cli(hoist_cli, "cat", "--range", "10-19", url)).stdout == data[10:20]
    assert ok(run_cli(hoist_cli, "cat", "--range=0-0", url)).stdout == data[:1]
    assert ok(run_cli(hoist_cli, "cat", "--range", "99990-", url)).stdout == data[99990:]
    assert ok(run_cli(hoist_cli, "cat", "--range", "-7", url)).stdout == data[-7:]
    # a range past the end is clipped, like HTTP
    assert ok(run_cli(hoist_cli, "cat", "--range", "99999-200000", url)).stdout == data[-1:]
    assert ok(run_cli(hoist_cli, "cat", "--range", "-500000", url)).stdout == data
    one_error_line(run_cli(hoist_cli, "cat", "--range", "100000-", url), url)


def test_cat_large_and_empty_and_many(hoist_cli, s3, bucket):
    big = body(70 * 2**20 + 3, seed=8)  # more than one 64 MiB chunk
    s3.put_object(Bucket=bucket, Key="big", Body=big)
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert ok(run_cli(hoist_cli, "cat", f"s3://{bucket}/big")).stdout == big
    assert ok(run_cli(hoist_cli, "cat", f"s3://{bucket}/empty")).stdout == b""
    p = ok(run_cli(hoist_cli, "cat", "--range", f"{64 * 2**20 - 5}-{64 * 2**20 + 4}", f"s3://{bucket}/big"))
    assert p.stdout == big[64 * 2**20 - 5:64 * 2**20 + 5]


def test_cat_missing_and_local(hoist_cli, bucket, tmp_dir):
    url = f"s3://{bucket}/missing.txt"
    p = run_cli(hoist_cli, "cat", url)
    one_error_line(p, url)
    assert p.stdout == b""
    (tmp_dir / "l.txt").write_bytes(b"local bytes")
    assert ok(run_cli(hoist_cli, "cat", "--range", "6-", f"file://{tmp_dir}/l.txt")).stdout == b"bytes"


# ---- info --------------------------------------------------------------------


def test_info_text_and_json(hoist_cli, s3, bucket):
    attrs = json.dumps({"owner": "ünïcode", "n": 3})
    s3.put_object(Bucket=bucket, Key="i.json", Body=b"{}" * 50, ContentType="application/json",
                  Metadata={"metaflow-user-attributes": attrs})
    url = f"s3://{bucket}/i.json"
    p = ok(run_cli(hoist_cli, "info", url))
    text = p.stdout_text
    assert f"url:           {url}" in text
    assert "size:          100 (100 B)" in text
    assert "content_type:  application/json" in text
    p = ok(run_cli(hoist_cli, "info", "--json", url))
    doc = json.loads(p.stdout_text)
    assert doc["url"] == url and doc["size"] == 100
    assert doc["content_type"] == "application/json"
    assert doc["etag"]
    assert doc["last_modified"].endswith("Z")
    assert doc["metadata"] == {"owner": "ünïcode", "n": 3}


def test_info_missing_names_url(hoist_cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="here", Body=b"x")
    url = f"s3://{bucket}/not-here"
    p = run_cli(hoist_cli, "info", "--json", f"s3://{bucket}/here", url)
    one_error_line(p, url)
    assert json.loads(p.stdout_text)["size"] == 1


# ---- rm, mb, rb --------------------------------------------------------------


def keys_of(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_rm_single_missing_and_recursive(hoist_cli, s3, bucket):
    put_tree(s3, bucket, {"keep": b"1", "gone": b"2", "pre/a": b"3", "pre/b/c": b"4", "prefix_other/x": b"5"})
    ok(run_cli(hoist_cli, "rm", f"s3://{bucket}/gone"))
    ok(run_cli(hoist_cli, "rm", f"s3://{bucket}/never-existed"))
    assert keys_of(s3, bucket) == ["keep", "pre/a", "pre/b/c", "prefix_other/x"]
    ok(run_cli(hoist_cli, "rm", "-r", f"s3://{bucket}/pre"))
    assert keys_of(s3, bucket) == ["keep", "prefix_other/x"]


def test_rm_local_file(hoist_cli, tmp_dir):
    f = tmp_dir / "x.bin"
    f.write_bytes(b"x")
    ok(run_cli(hoist_cli, "rm", f"file://{f}"))
    assert not f.exists()


def test_mb_rb(hoist_cli, s3, s3_env):
    name = "t-mb-" + uuid.uuid4().hex[:12]
    ok(run_cli(hoist_cli, "mb", f"s3://{name}"))
    s3.head_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="x", Body=b"x")
    p = run_cli(hoist_cli, "rb", f"s3://{name}")
    assert p.returncode == 1 and name in p.stderr_text
    s3.head_bucket(Bucket=name)
    ok(run_cli(hoist_cli, "rb", "--force", f"s3://{name}"))
    with pytest.raises(Exception):
        s3.head_bucket(Bucket=name)


# ---- options, credentials, progress ----------------------------------------


def test_common_options_accepted(hoist_cli, s3, bucket, s3_env, tmp_dir):
    data = body(3 * 2**20, seed=21)
    (tmp_dir / "f").write_bytes(data)
    env = {"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "", "METAFLOW_S3_ENDPOINT_URL": "",
           "AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
    common = ["--endpoint", s3_env["AWS_ENDPOINT_URL"], "--region=us-east-1", "--concurrency", "4",
              "--part-size", "1MiB"]
    ok(run_cli(hoist_cli, "cp", *common, str(tmp_dir / "f"), f"s3://{bucket}/opt/f", env=env))
    ok(run_cli(hoist_cli, "cp", *common, f"s3://{bucket}/opt/f", str(tmp_dir / "g"), env=env))
    assert (tmp_dir / "g").read_bytes() == data
    p = ok(run_cli(hoist_cli, "ls", "--endpoint=" + s3_env["AWS_ENDPOINT_URL"], "--part-size", "8M",
                   f"s3://{bucket}/opt/", env=env))
    assert lines(p) == [f"s3://{bucket}/opt/f"]


def test_profile_option(hoist_cli, bucket, s3_env, tmp_dir):
    aws = tmp_dir / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[bench]\naws_access_key_id = {s3_env['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {s3_env['AWS_SECRET_ACCESS_KEY']}\n")
    (aws / "config").write_text("[profile bench]\nregion = us-east-1\n")
    e = {k: v for k, v in os.environ.items()
         if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE")}
    e["HOME"] = str(tmp_dir)
    p = subprocess.run([hoist_cli, "ls", "--profile", "bench", f"s3://{bucket}/"], env=e,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([hoist_cli, "ls", "--profile", "no-such-profile", f"s3://{bucket}/"], env=e,
                       capture_output=True, timeout=60)
    assert p.returncode == 1 and b"no-such-profile" in p.stderr, p.stderr


def test_wrong_credentials_fail_fast_and_clearly(hoist_cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for args in (["ls", f"s3://{bucket}/"], ["cat", f"s3://{bucket}/k"]):
        t0 = time.time()
        p = run_cli(hoist_cli, *args, env={"AWS_SECRET_ACCESS_KEY": "wrongSecret42"}, timeout=60)
        elapsed = time.time() - t0
        err = one_error_line(p, bucket)
        assert "credentials" in err.lower() or "signature" in err.lower(), err
        assert "wrongSecret42" not in err, "the secret must not be echoed"
        assert elapsed < 5, f"took {elapsed:.1f} s: permanent errors must not be retried"


def test_no_sign_request_is_anonymous(hoist_cli, bucket, s3):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    p = run_cli(hoist_cli, "cat", "--no-sign-request", f"s3://{bucket}/k", timeout=60)
    # the local server does not allow anonymous reads: the request went out unsigned
    one_error_line(p, f"s3://{bucket}/k")


def run_with_tty_stderr(cli, args):
    master, slave = pty.openpty()
    p = subprocess.Popen([cli, *args], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    p.wait(timeout=120)
    os.close(master)
    return p.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_only_on_a_terminal(hoist_cli, s3, bucket, tmp_dir):
    src = tmp_dir / "src"
    src.mkdir()
    for i in range(20):
        (src / f"f{i}").write_bytes(body(200_000, seed=i))
    rc, err = run_with_tty_stderr(hoist_cli, ["cp", "-r", str(src), f"s3://{bucket}/pb/"])
    assert rc == 0, err
    assert "obj" in err and "/s" in err and "\r" in err
    # not a terminal: silent
    p = ok(run_cli(hoist_cli, "cp", "-r", f"s3://{bucket}/pb/", str(tmp_dir / "back")))
    assert p.stderr_text == ""
    assert len(list((tmp_dir / "back").iterdir())) == 20


# ---- local trees with symlinks (issue 12, finding 9) -------------------------


def test_ls_and_cp_local_tree_skip_symlinks(hoist_cli, bucket, s3, tmp_dir):
    tree = tmp_dir / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    os.symlink(".", tree / "loop")         # walked forever before
    os.symlink("/etc", tree / "etc")       # uploaded /etc before
    p = ok(run_cli(hoist_cli, "ls", "-r", str(tree), timeout=60))
    assert sorted(os.path.relpath(x, tree) for x in lines(p)) == ["a.txt", "sub/b.txt"]
    ok(run_cli(hoist_cli, "cp", "-r", str(tree), f"s3://{bucket}/t/", timeout=60))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys == ["t/a.txt", "t/sub/b.txt"]
    # Asked to follow: /etc's files are listed, the loop is cut at once.
    p = ok(run_cli(hoist_cli, "ls", "-r", "--follow-symlinks", str(tree), timeout=60))
    listed = lines(p)
    assert any("/etc/" in x for x in listed)
    assert not any("/loop/" in x for x in listed)


def test_cp_no_overwrite_keeps_local_file_and_mode(hoist_cli, bucket, tmp_dir):
    src = tmp_dir / "src.txt"
    src.write_text("new")
    dst = tmp_dir / "dst.txt"
    ok(run_cli(hoist_cli, "cp", str(src), f"s3://{bucket}/k"))
    dst.write_text("old")
    os.chmod(dst, 0o600)
    p = ok(run_cli(hoist_cli, "cp", "--no-overwrite", f"s3://{bucket}/k", str(dst)))
    assert "not overwritten" in p.stderr_text
    assert dst.read_text() == "old"
    ok(run_cli(hoist_cli, "cp", "--fsync", f"s3://{bucket}/k", str(dst)))
    assert dst.read_text() == "new"
    assert os.stat(dst).st_mode & 0o7777 == 0o600  # overwriting keeps the mode


def test_ls_and_errors_escape_control_characters(hoist_cli, moto_endpoint, tmp_dir):
    # issue 12, finding 10: a key is any bytes; printed raw, "\x1b]0;pwned\x07"
    # retitles the terminal (moto refuses "\n" in a key; \t stands for the rest).
    import boto3
    env = {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_REGION": "us-east-1"}
    c = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="x",
                     aws_secret_access_key="x")
    b = "esc-" + uuid.uuid4().hex[:8]
    c.create_bucket(Bucket=b)
    c.put_object(Bucket=b, Key="a\x1b]0;pwned\x07\tfake\u009b2J", Body=b"x")
    for args in (["ls", f"s3://{b}/"], ["ls", "-l", f"s3://{b}/"]):
        p = ok(run_cli(hoist_cli, *args, env=env))
        out = p.stdout_text
        assert "\x1b" not in out and "\x07" not in out and "\u009b" not in out, repr(out)
        assert len(lines(p)) == 1, repr(out)
        assert "a\\x1b]0;pwned\\x07\\tfake\\x9b2J" in out, repr(out)
    # an error naming such a key: one escaped line
    p = run_cli(hoist_cli, "cp", f"s3://{b}/zz\x1b[2Jmissing", str(tmp_dir / "x"), env=env)
    err = one_error_line(p, "zz\\x1b[2Jmissing")
    assert "\x1b" not in err


# ---- upload sources opened lazily (issue 12, finding 4) ----------------------


def test_cp_many_files_does_not_map_them_all(hoist_cli, s3, bucket, tmp_dir):
    # Every source used to be mapped before the first request: > ~65,000 files
    # hit vm.max_map_count. The process's mappings now stay bounded.
    src = tmp_dir / "many"
    src.mkdir()
    n = 4000
    for i in range(n):
        (src / f"f{i:05d}").write_bytes(b"%05d" % i * 800)
    p = subprocess.Popen([hoist_cli, "cp", "-r", "--concurrency", "4", str(src), f"s3://{bucket}/many/"],
                         stderr=subprocess.PIPE)
    peak = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/maps") as f:
                peak = max(peak, sum(1 for _ in f))
        except OSError:
            break
        time.sleep(0.01)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert len(s3.list_objects_v2(Bucket=bucket, Prefix="many/", MaxKeys=1000)["Contents"]) == 1000
    print("peak mappings:", peak)
    assert 0 < peak < 1000, peak


def test_cp_source_truncated_mid_upload_is_an_error(hoist_cli, s3, bucket, tmp_dir):
    # A mapped source truncated under the upload killed the process (SIGBUS).
    src = tmp_dir / "shrinks.bin"
    with open(src, "wb") as f:
        f.truncate(512 << 20)
    p = subprocess.Popen([hoist_cli, "cp", "--part-size", "5M", "--concurrency", "1", str(src),
                          f"s3://{bucket}/shrinks.bin"], stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while not s3.list_multipart_uploads(Bucket=bucket).get("Uploads") and p.poll() is None:
        assert time.monotonic() - t0 < 30
        time.sleep(0.005)
    assert p.poll() is None, "the upload ended before the truncation: make it longer"
    os.truncate(src, 1 << 20)
    _, err = p.communicate(timeout=120)
    err = err.decode("utf-8", "replace")
    assert p.returncode == 1, (p.returncode, err)
    assert str(src) in err and "shrank" in err, err
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
