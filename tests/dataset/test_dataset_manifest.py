"""Readers honour the dataset writer's `_SUCCESS` manifest (docs/datasets.md):
a directory whose `_SUCCESS` is a hoist manifest holds exactly the files it
lists, in its order, whatever else lies under the prefix; an empty or
foreign `_SUCCESS` changes nothing; a listed file that is missing is an
error naming the manifest and the file. Files are written by pyarrow, the
manifest by hand, on the local S3 server and in a local directory."""
import json
import re

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

import hoist
from conftest import run_cli


def table(first, n):
    return pa.table({"id": pa.array(range(first, first + n), pa.int64()),
                     "v": pa.array([float(i) / 2 for i in range(first, first + n)])})


def manifest(paths, **extra):
    files = [{"path": p, "rows": 10, "bytes": 1234, "row_groups": 1} for p in paths]
    doc = {"format": "hoist-manifest", "version": 1, "write_id": "20261202T061500Z-3f9c2a1b",
           "created": "2026-12-02T06:15:00Z", "created_by": "hoist 0.2.0", "files": files,
           "rows": 10 * len(paths), "bytes": 1234 * len(paths), "partition_by": ["month"],
           "schema": [{"name": "id", "type": "int64"}, {"name": "v", "type": "double"}], "options": {},
           "lineage": {"sql": "SELECT 1"}}
    doc.update(extra)
    return json.dumps(doc).encode()


class Store:
    """Writes Parquet files and raw objects under a dataset root, in S3 or a
    local directory, and gives the URL hoist loads it from."""

    def __init__(self, fs, root, url):
        self.fs, self.root, self.url = fs, root, url

    def parquet(self, rel, t):
        path = f"{self.root}/{rel}"
        self.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with self.fs.open_output_stream(path) as f:
            pq.write_table(t, f)

    def put(self, rel, data):
        with self.fs.open_output_stream(f"{self.root}/{rel}") as f:
            f.write(data)

    def delete(self, rel):
        self.fs.delete_file(f"{self.root}/{rel}")


@pytest.fixture(params=["s3", "local"])
def store(request, tmp_path):
    if request.param == "local":
        root = tmp_path / "ds"
        root.mkdir()
        return Store(pafs.LocalFileSystem(), str(root), str(root) + "/")
    env = request.getfixturevalue("s3_env")
    bucket = request.getfixturevalue("bucket")
    scheme, host = env["AWS_ENDPOINT_URL"].split("://")
    fs = pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=env["AWS_ACCESS_KEY_ID"],
                           secret_key=env["AWS_SECRET_ACCESS_KEY"], region=env["AWS_REGION"])
    return Store(fs, f"{bucket}/ds", f"s3://{bucket}/ds/")


def write_dataset(store):
    """Two committed files (listed in the manifest, not in name order), plus
    leftovers of a crashed write under the same prefix."""
    store.parquet("month=11/part-w1-1.parquet", table(100, 10))
    store.parquet("month=10/part-w1-0.parquet", table(0, 10))
    store.parquet("month=10/part-crashed-0.parquet", table(1000, 7))
    store.parquet("stray.parquet", table(2000, 3))
    store.put("_SUCCESS", manifest(["month=11/part-w1-1.parquet", "month=10/part-w1-0.parquet"]))


def test_reads_exactly_the_listed_files(store):
    write_dataset(store)
    t = hoist.load_table(store.url)
    got = pa.table(t)
    # manifest order: month=11's file first
    assert got.column("id").to_pylist() == list(range(100, 110)) + list(range(0, 10))
    # Hive values still come from the paths
    assert got.column("month").to_pylist() == [11] * 10 + [10] * 10
    # columns and filters work as ever
    t = hoist.load_table(store.url, columns=["id"], filter="month = 10 AND id >= 5")
    got = pa.table(t)
    assert got.column("id").to_pylist() == list(range(5, 10))


def test_cli_reads_exactly_the_listed_files(store, hoist_cli, tmp_path):
    write_dataset(store)
    out = tmp_path / "out.arrow"
    run_cli(hoist_cli, "load", store.url, "--output", str(out), check=True)
    got = ipc.open_file(out).read_all()
    assert got.column("id").to_pylist() == list(range(100, 110)) + list(range(0, 10))
    p = run_cli(hoist_cli, "load", store.url, check=True)
    assert re.search(r"^rows\s+20$", p.stdout_text, re.M), p.stdout_text
    assert re.search(r"^files\s+2 ", p.stdout_text, re.M), p.stdout_text


def test_empty_or_foreign_success_is_ignored(store):
    store.parquet("a.parquet", table(0, 4))
    store.parquet("b.parquet", table(4, 4))
    for marker in (b"", b"{\"name\": \"org.apache.hadoop.fs.s3a.commit.files.SuccessData/1\", \"filenames\": []}",
                   b"not json", b"{\"format\": \"something-else\", \"version\": 1, \"files\": []}"):
        store.put("_SUCCESS", marker)
        got = pa.table(hoist.load_table(store.url))
        assert sorted(got.column("id").to_pylist()) == list(range(8)), marker


def test_missing_listed_file_is_a_clear_error(store, hoist_cli):
    write_dataset(store)
    store.delete("month=10/part-w1-0.parquet")
    with pytest.raises(hoist.DatasetNotFoundError) as e:
        hoist.load_table(store.url)
    msg = str(e.value)
    assert "_SUCCESS lists month=10/part-w1-0.parquet, which is missing" in msg, msg
    p = run_cli(hoist_cli, "load", store.url)
    assert p.returncode != 0
    assert "_SUCCESS lists month=10/part-w1-0.parquet, which is missing" in p.stderr_text, p.stderr_text


def test_unsafe_or_broken_manifest_fails(store):
    store.parquet("a.parquet", table(0, 4))
    store.put("_SUCCESS", manifest(["../outside/a.parquet"]))
    with pytest.raises(hoist.DatasetError) as e:
        hoist.load_table(store.url)
    assert "unsafe" in str(e.value) and "../outside/a.parquet" in str(e.value)
    store.put("_SUCCESS", manifest(["a.parquet"])[:-5])  # truncated JSON that says what it is
    with pytest.raises(hoist.DatasetError) as e:
        hoist.load_table(store.url)
    assert "not a valid hoist manifest" in str(e.value)
    store.put("_SUCCESS", manifest(["a.parquet"], version=2))
    with pytest.raises(hoist.DatasetError) as e:
        hoist.load_table(store.url)
    assert "version 2" in str(e.value)


def test_manifest_only_for_directories(store):
    """A single file or a glob is read as given: the manifest is looked at
    only where the prefix is listed."""
    write_dataset(store)
    got = pa.table(hoist.load_table(store.url + "stray.parquet"))
    assert got.column("id").to_pylist() == [2000, 2001, 2002]
    got = pa.table(hoist.load_table(store.url + "month=10/*.parquet"))
    assert sorted(got.column("id").to_pylist()) == list(range(0, 10)) + list(range(1000, 1007))
