"""The dataset writer (hoist_write_dataset, `hoist load --output`, `hoist
convert`): partitioned writes read back by pyarrow equal the input, Hive
escaping as pyarrow writes it, 10,000 partitions in bounded memory, the
existing-data modes, and all-or-nothing under faults, cancel and signals."""
import json
import os
import pathlib
import resource
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import write_ctypes as wc  # noqa: E402
from conftest import pending_uploads, run_cli  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def sorted_rows(table, key="x"):
    return table.sort_by(key).to_pylist()


def read_hive(path, filesystem=None):
    return ds.dataset(path, format="parquet", partitioning="hive", filesystem=filesystem).to_table()


def data_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def hidden_left(root):
    return [p for p in root.rglob(".*") if p.is_file()]


def s3_keys(s3, bucket, prefix=""):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def sample_table(n=3000):
    rng = np.random.default_rng(1)
    month = pa.array([int(v) if v != 13 else None for v in rng.integers(1, 14, n)], pa.int32())
    vendor = pa.array([["a", "b", "c", None][i % 4] for i in range(n)])
    return pa.table({"month": month, "vendor": vendor, "x": pa.array(range(n), pa.int64()),
                     "fare": rng.random(n), "note": pa.array([f"row {i}" if i % 7 else None for i in range(n)])})


# ---- round trips -----------------------------------------------------------------


def test_partitioned_roundtrip_file(tmp_path):
    t = sample_table()
    manifest = json.loads(wc.write_dataset(t, str(tmp_path / "out"), partition_by=["month", "vendor"],
                                           batch_rows=700))
    back = read_hive(tmp_path / "out")
    assert back.num_rows == t.num_rows
    assert set(back.column_names) == set(t.column_names)
    assert sorted_rows(back.select(t.column_names)) == sorted_rows(t.cast(back.select(t.column_names).schema))
    # partition columns are not stored in the files
    one = pq.read_table(tmp_path / "out" / manifest["files"][0]["path"])
    assert one.column_names == ["x", "fare", "note"]
    # the manifest lists exactly the data files, with their rows
    files = [f for f in data_files(tmp_path / "out") if f != "_SUCCESS"]
    assert sorted(f["path"] for f in manifest["files"]) == files
    assert sum(f["rows"] for f in manifest["files"]) == manifest["rows"] == t.num_rows
    assert manifest["format"] == "hoist-manifest" and manifest["partition_by"] == ["month", "vendor"]
    assert [c["name"] for c in manifest["schema"]] == t.column_names
    assert any("month=__HIVE_DEFAULT_PARTITION__" in f for f in files)
    assert not hidden_left(tmp_path / "out")


def test_keep_partition_columns_and_rollover(tmp_path):
    t = sample_table(5000)
    m = json.loads(wc.write_dataset(t, str(tmp_path / "o"), partition_by=["vendor"], keep_partition_columns=1,
                                    max_rows_per_file=400))
    assert all(f["rows"] <= 400 for f in m["files"])
    per_vendor = {}
    for f in m["files"]:
        per_vendor.setdefault(f["partition"]["vendor"], []).append(f["rows"])
    assert set(per_vendor) == {"a", "b", "c", None}
    assert sum(sum(v) for v in per_vendor.values()) == 5000
    f0 = pq.read_table(tmp_path / "o" / m["files"][0]["path"])
    assert "vendor" in f0.column_names


def test_max_bytes_per_file(tmp_path):
    rng = np.random.default_rng(6)
    t = pa.table({"x": pa.array(np.arange(400_000)), "r": rng.random(400_000)})
    m = json.loads(wc.write_dataset(t, str(tmp_path / "o"), max_bytes_per_file=1 << 20, batch_rows=10_000,
                                    parquet={"compression": "none", "row_group_rows": 10_000}))
    assert len(m["files"]) >= 5
    # a file rolls over once past the limit: at most one row group more
    assert all(f["bytes"] < (1 << 20) + 200_000 for f in m["files"])
    assert sorted(read_hive(tmp_path / "o")["x"].to_pylist()) == list(range(400_000))


def test_single_file_and_empty_input(tmp_path):
    t = sample_table(1000)
    wc.write_dataset(t, str(tmp_path / "one.parquet"), parquet={"row_group_rows": 300})
    back = pq.read_table(tmp_path / "one.parquet")
    assert back.equals(t)
    assert pq.ParquetFile(tmp_path / "one.parquet").metadata.num_row_groups == 4
    assert sorted(os.listdir(tmp_path)) == ["one.parquet"]
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t, str(tmp_path / "one.parquet"))
    assert e.value.status == 10  # HOIST_ERR_EXISTS
    wc.write_dataset(t.slice(0, 0), str(tmp_path / "empty.parquet"))
    assert pq.read_table(tmp_path / "empty.parquet").schema == t.schema
    with pytest.raises(wc.HoistError):
        wc.write_dataset(t, str(tmp_path / "p.parquet"), partition_by=["month"])
    assert not (tmp_path / "p.parquet").exists()


HOSTILE = ["a/b", "x=y", "50%", "100%25", "é ü", "", None, "a b", "semi;colon", "tab\tnl\n", "..", "~_-.",
           "日本", "q?#&", "back\\slash", "plus+", "__HIVE_DEFAULT_PARTITION__x"]


def test_hostile_partition_values_match_pyarrow(tmp_path):
    t = pa.table({"k": pa.array(HOSTILE * 3), "x": pa.array(range(len(HOSTILE) * 3), pa.int64())})
    wc.write_dataset(t, str(tmp_path / "hoist"), partition_by=["k"])
    ds.write_dataset(t, tmp_path / "pyarrow", format="parquet", partitioning=["k"], partitioning_flavor="hive")
    ours = sorted(d for d in os.listdir(tmp_path / "hoist") if d != "_SUCCESS")
    theirs = sorted(os.listdir(tmp_path / "pyarrow"))
    assert ours == theirs
    back = read_hive(tmp_path / "hoist")
    assert sorted_rows(back) == sorted_rows(t.select(["x", "k"]))


def test_partition_types(tmp_path):
    t = pa.table({"d": pa.array([0, 19000, None, -1], pa.date32()), "b": [True, False, None, True],
                  "u": pa.array([1, 2**63, 3, 4], pa.uint64()),
                  "s": pa.array(["x", "y", "x", "z"]).dictionary_encode(), "x": [1, 2, 3, 4]})
    m = json.loads(wc.write_dataset(t, str(tmp_path / "o"), partition_by=["d", "b", "u", "s"]))
    paths = sorted(f["path"].rsplit("/", 1)[0] for f in m["files"])
    assert "d=1970-01-01/b=true/u=1/s=x" in paths
    assert "d=2022-01-08/b=false/u=9223372036854775808/s=y" in paths
    assert "d=1969-12-31/b=true/u=4/s=z" in paths
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(pa.table({"f": [1.5], "x": [1]}), str(tmp_path / "bad"), partition_by=["f"])
    assert "partition column 'f'" in str(e.value)
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t, str(tmp_path / "bad2"), partition_by=["nope"])
    assert not (tmp_path / "bad").exists() and not (tmp_path / "bad2").exists()
    assert e.value.status == 205  # HOIST_ERR_COLUMN_NOT_FOUND


def test_nested_and_sliced_columns_split_by_partition(tmp_path):
    import datetime
    import decimal
    n = 80
    t = pa.table({
        "k": pa.array([i % 3 for i in range(n)], pa.int8()),
        "b": pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(n)]),
        "l": pa.array([None if i % 4 == 0 else list(range(i % 3)) for i in range(n)], pa.list_(pa.int32())),
        "st": pa.array([None if i % 6 == 0 else {"a": i, "b": str(i)} for i in range(n)],
                       pa.struct([("a", pa.int64()), ("b", pa.string())])),
        "ls": pa.array([str(i) * 3 for i in range(n)], pa.large_string()),
        "d": pa.array([str(i % 4) for i in range(n)]).dictionary_encode(),
        "fsb": pa.array([bytes([i]) * 4 for i in range(n)], pa.binary(4)),
        "dec": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
        "ts": pa.array([datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=i) for i in range(n)],
                       pa.timestamp("us", tz="UTC")),
        "x": pa.array(range(n), pa.int64()),
    }).slice(3)  # offsets everywhere
    wc.write_dataset(t, str(tmp_path / "o"), partition_by=["k"], batch_rows=17)
    back = read_hive(tmp_path / "o")
    cols = [c for c in t.column_names if c != "k"]
    got, want = back.sort_by("x").select(cols), t.sort_by("x").select(cols)
    for c in cols:
        assert got[c].to_pylist() == want[c].to_pylist(), c
    assert back.schema.field("ts").type == pa.timestamp("us", tz="UTC")


def test_hoist_reads_what_it_wrote(hoist_cli, tmp_path):
    t = sample_table(1000)
    wc.write_dataset(t, str(tmp_path / "o"), partition_by=["vendor"])
    p = run_cli(hoist_cli, "load", str(tmp_path / "o") + "/", "--output", str(tmp_path / "back.parquet"), "-q")
    assert p.returncode == 0, p.stderr_text
    back = pq.read_table(tmp_path / "back.parquet")
    assert sorted(back["x"].to_pylist()) == list(range(1000))
    # hoist's reader follows the manifest: a stray file is not part of the dataset
    pq.write_table(t.slice(0, 5), tmp_path / "o" / "vendor=a" / "stray.parquet")
    p = run_cli(hoist_cli, "load", str(tmp_path / "o") + "/", "--output", str(tmp_path / "back2.parquet"), "-q")
    assert p.returncode == 0, p.stderr_text
    assert pq.read_table(tmp_path / "back2.parquet").num_rows == 1000
    # ... and after an overwrite of one partition, the new manifest
    wc.write_dataset(pa.table({"vendor": ["a"], "x": pa.array([-1], pa.int64())}), str(tmp_path / "o"),
                     partition_by=["vendor"], existing="overwrite")
    p = run_cli(hoist_cli, "load", str(tmp_path / "o") + "/", "--output", str(tmp_path / "back3.parquet"), "-q")
    assert p.returncode == 0, p.stderr_text
    xs = pq.read_table(tmp_path / "back3.parquet")["x"].to_pylist()
    assert len(xs) == 1 + sum(1 for v in t["vendor"].to_pylist() if v != "a") and -1 in xs
    assert not (tmp_path / "o" / "vendor=a" / "stray.parquet").exists()  # replaced partition: all old objects go


def test_cancel_leaves_nothing(tmp_path):
    t = sample_table(20000)
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t, str(tmp_path / "c"), partition_by=["month"], batch_rows=1000, cancel_after=5)
    assert e.value.status == 5  # HOIST_ERR_CANCELLED
    assert not (tmp_path / "c").exists()  # not even the directories it made


def test_cancel_inside_one_batch_of_many_partitions(tmp_path):
    t = pa.table({"k": pa.array(np.arange(4000) % 2000), "x": pa.array(np.arange(4000))})
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t, str(tmp_path / "c"), partition_by=["k"], cancel_after=3)  # one batch
    assert e.value.status == 5
    assert not (tmp_path / "c").exists()


# ---- existing data ----------------------------------------------------------------


def test_existing_modes_file(tmp_path):
    out = str(tmp_path / "o")
    t1 = pa.table({"p": [1, 1, 2, 2], "x": [1, 2, 3, 4]})
    m1 = json.loads(wc.write_dataset(t1, out, partition_by=["p"]))
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t1, out, partition_by=["p"])
    assert e.value.status == 10
    # overwrite replaces exactly the partitions written (2, 3); 1 stays
    t2 = pa.table({"p": [2, 3], "x": [30, 40]})
    m2 = json.loads(wc.write_dataset(t2, out, partition_by=["p"], existing="overwrite"))
    back = read_hive(out)
    assert sorted(zip(back["p"].to_pylist(), back["x"].to_pylist())) == [(1, 1), (1, 2), (2, 30), (3, 40)]
    old_p1 = [f["path"] for f in m1["files"] if f["partition"]["p"] == "1"]
    assert sorted(f["path"] for f in m2["files"]) == sorted(old_p1 + [f["path"] for f in m2["files"]
                                                                      if f["partition"]["p"] != "1"])
    assert m2["rows"] == 4
    assert len(data_files(pathlib.Path(out))) == 4  # 3 data files + _SUCCESS
    # append keeps everything and lists old + new
    t3 = pa.table({"p": [1], "x": [50]})
    m3 = json.loads(wc.write_dataset(t3, out, partition_by=["p"], existing="append"))
    assert m3["rows"] == 5 and len(m3["files"]) == 4
    assert sorted(read_hive(out)["x"].to_pylist()) == [1, 2, 30, 40, 50]


# ---- S3 --------------------------------------------------------------------------------


def test_s3_roundtrip_multipart_and_existing(s3, s3fs, bucket):
    rng = np.random.default_rng(2)
    n = 1_500_000
    t = pa.table({"k": pa.array(rng.integers(0, 3, n), pa.int16()), "x": pa.array(np.arange(n)),
                  "r": rng.random(n)})
    m = json.loads(wc.write_dataset(t, f"s3://{bucket}/out/", partition_by=["k"], memory_limit=48 << 20,
                                    parquet={"compression": "none"}, batch_rows=100_000))
    assert max(f["bytes"] for f in m["files"]) > 5 << 20  # multipart files
    assert pending_uploads(s3, bucket) == []
    back = read_hive(f"{bucket}/out", s3fs)
    assert back.num_rows == n
    assert np.array_equal(np.sort(back["x"].to_numpy()), np.arange(n))
    keys = s3_keys(s3, bucket, "out/")
    assert sorted(keys) == sorted(["out/_SUCCESS"] + ["out/" + f["path"] for f in m["files"]])
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t.slice(0, 10), f"s3://{bucket}/out/", partition_by=["k"])
    assert e.value.status == 10
    # overwrite partition k=1 only
    small = pa.table({"k": pa.array([1], pa.int16()), "x": [-1], "r": [0.5]})
    wc.write_dataset(small, f"s3://{bucket}/out", partition_by=["k"], existing="overwrite")
    back = read_hive(f"{bucket}/out", s3fs)
    assert back.filter(pa.compute.equal(back["k"], 1)).num_rows == 1
    assert back.num_rows == n - int((t["k"].to_numpy() == 1).sum()) + 1


def test_s3_single_file_and_append(s3, s3fs, bucket):
    t = sample_table(2000)
    url = f"s3://{bucket}/one/t.parquet"
    wc.write_dataset(t, url)
    assert pq.read_table(f"{bucket}/one/t.parquet", filesystem=s3fs).equals(t)
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(t, url)
    assert e.value.status == 10
    wc.write_dataset(t.slice(0, 10), url, existing="overwrite")
    assert pq.read_table(f"{bucket}/one/t.parquet", filesystem=s3fs).num_rows == 10
    assert s3_keys(s3, bucket) == ["one/t.parquet"]
    # append to a dataset: both writes listed, nothing overwritten
    m1 = json.loads(wc.write_dataset(t, f"s3://{bucket}/ds/", partition_by=["vendor"]))
    m2 = json.loads(wc.write_dataset(t, f"s3://{bucket}/ds/", partition_by=["vendor"], existing="append"))
    assert m2["rows"] == 2 * t.num_rows and len(m2["files"]) == 2 * len(m1["files"])
    assert read_hive(f"{bucket}/ds", s3fs).num_rows == 2 * t.num_rows
    assert pending_uploads(s3, bucket) == []


def test_s3_cancel_leaves_nothing(s3, bucket):
    n = 600_000
    t = pa.table({"k": pa.array(np.arange(n) % 2), "r": np.random.default_rng(3).random(n)})
    with pytest.raises(wc.HoistError):
        wc.write_dataset(t, f"s3://{bucket}/c/", partition_by=["k"], parquet={"compression": "none"},
                         memory_limit=32 << 20, batch_rows=50_000, cancel_after=8)
    assert s3_keys(s3, bucket) == []
    assert pending_uploads(s3, bucket) == []


# ---- streaming: row groups reach their uploads while the stream goes on ------------


def grouped_batches(parts, rows=60_000, seed=5):
    """One batch per entry of parts (its partition key), incompressible
    doubles: about 0.5 MB of Parquet per batch."""
    rng = np.random.default_rng(seed)
    x0 = 0
    for k in parts:
        yield pa.record_batch({"k": pa.array(np.full(rows, k), pa.int32()), "x": pa.array(np.arange(x0, x0 + rows)),
                               "r": rng.random(rows)})
        x0 += rows


GROUPED_SCHEMA = pa.schema({"k": pa.int32(), "x": pa.int64(), "r": pa.float64()})


def test_s3_held_bytes_reported_and_bounded(s3, s3fs, bucket):
    """The writer reports the most bytes it held at once (the progress field
    bytes_buffered_peak): encoded pages, upload buffers, parts in flight.
    With the default budget (256 MiB) and two connections, parts in flight
    are bounded by the connections: about two parts of 5 MiB in flight, one
    filling per open file and the encoders' row groups of 64 Ki rows. Before,
    parts waited in memory for a connection up to half the budget (here most
    of the 61 MB written). A 16 MiB budget holds under 16 MiB."""
    parts = [1] * 32 + [2] * 32
    for budget, bound in ((None, 26 << 20), (16 << 20, 16 << 20)):
        out = "out-%s/" % (budget or "default")
        seen = {}
        opts = {"memory_limit": budget} if budget else {}
        m = json.loads(wc.write_dataset(pa.RecordBatchReader.from_batches(GROUPED_SCHEMA, grouped_batches(parts)),
                                        f"s3://{bucket}/{out}", partition_by=["k"], progress=seen,
                                        store_opts={"concurrency": 2},
                                        parquet={"compression": "none", "row_group_rows": 65536}, **opts))
        assert m["rows"] == 64 * 60_000
        peak = seen["bytes_buffered_peak"]
        assert 5 << 20 <= peak <= bound, (budget, peak)
        back = read_hive(f"{bucket}/{out.rstrip('/')}", s3fs)
        assert back.num_rows == 64 * 60_000
    assert pending_uploads(s3, bucket) == []


def test_idle_file_ends_its_row_group(tmp_path):
    """Input grouped by partition: a file the next batch does not write to
    hands its row group on (before: a partition's rows stayed one row group
    in memory until the file closed at the end of the stream). When that
    batch writes one partition only (input sorted by it) the idle file is
    finished, its last part sent; once a finished partition comes back
    (here k=1 in the fifth batch: one more file for it) idle files are only
    flushed."""

    def layout(parts, out):
        m = json.loads(wc.write_dataset(pa.RecordBatchReader.from_batches(GROUPED_SCHEMA,
                                                                          grouped_batches(parts, 1000)),
                                        f"file://{tmp_path}/{out}/", partition_by=["k"]))
        groups = {}
        for f in m["files"]:
            md = pq.ParquetFile(tmp_path / out / f["path"]).metadata
            groups.setdefault(f["path"].split("/")[0], []).append(
                [md.row_group(i).num_rows for i in range(md.num_row_groups)])
        back = read_hive(tmp_path / out)
        assert sorted(back["x"].to_pylist()) == list(range(1000 * len(parts)))
        return groups

    assert layout([1, 1, 2, 2, 1, 2], "alt") == {"k=1": [[2000], [1000]], "k=2": [[2000, 1000]]}
    assert layout([1, 1, 2, 2, 3, 3], "sorted") == {"k=1": [[2000]], "k=2": [[2000]], "k=3": [[2000]]}


def test_partition_runs_sliced_not_copied_match_pyarrow(tmp_path):
    """Runs of one partition inside a batch are written as slices (with the
    batch's offset), mixed rows by take; both read back as the input."""
    n = 50_000
    rng = np.random.default_rng(6)
    k = np.sort(rng.integers(0, 4, n))
    k[::97] = 9  # breaks runs: some groups are contiguous, 9's is not
    t = pa.table({"k": pa.array(k, pa.int32()), "x": pa.array(np.arange(n)),
                  "s": pa.array([f"v{i}" if i % 5 else None for i in range(n)])}).slice(7, n - 7)
    wc.write_dataset(t, f"file://{tmp_path}/out/", partition_by=["k"], batch_rows=8192)
    back = read_hive(tmp_path / "out")
    assert sorted_rows(back.select(["x", "s"])) == sorted_rows(t.select(["x", "s"]))
    assert sorted(back["k"].to_pylist()) == sorted(t["k"].to_pylist())


def upload_parts_of(s3, bucket, prefix):
    """{key: number of parts uploaded} of the pending multipart uploads under prefix."""
    out = {}
    for u in s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []):
        parts = s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", [])
        out[u["Key"]] = len(parts)
    return out


def wait_for_parts(s3, bucket, prefix, key_part, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        seen = upload_parts_of(s3, bucket, prefix)
        if any(key_part in k and n > 0 for k, n in seen.items()):
            return seen
        time.sleep(0.1)
    return upload_parts_of(s3, bucket, prefix)


def streaming_batches(s3, bucket, prefix, seen, fail=False):
    """k=1's rows (about 7 MB of Parquet: more than a 5 MiB part), then
    k=2's; while k=2's come, k=1's parts must reach the server."""
    gen = grouped_batches([1] * 14 + [2] * 6)
    for i, b in enumerate(gen):
        if i == 16:
            seen.update(wait_for_parts(s3, bucket, prefix, "k=1/"))
            if fail:
                raise RuntimeError("the input failed")
        yield b


def test_s3_parts_upload_before_the_stream_ends(s3, s3fs, bucket):
    seen = {}
    reader = pa.RecordBatchReader.from_batches(GROUPED_SCHEMA, streaming_batches(s3, bucket, "out/", seen))
    m = json.loads(wc.write_dataset(reader, f"s3://{bucket}/out/", partition_by=["k"],
                                    parquet={"compression": "none"}))
    assert any("k=1/" in k and n > 0 for k, n in seen.items()), seen
    assert not any("k=2/" in k and n > 1 for k, n in seen.items()), seen  # k=2 was still encoding
    assert pending_uploads(s3, bucket) == []
    assert sorted(s3_keys(s3, bucket)) == sorted(["out/_SUCCESS"] + ["out/" + f["path"] for f in m["files"]])
    back = read_hive(f"{bucket}/out", s3fs)
    assert sorted(back["x"].to_pylist()) == list(range(20 * 60_000))


def test_s3_failure_after_streamed_parts_leaves_nothing(s3, bucket):
    seen = {}
    reader = pa.RecordBatchReader.from_batches(GROUPED_SCHEMA,
                                               streaming_batches(s3, bucket, "out/", seen, fail=True))
    with pytest.raises(wc.HoistError) as e:
        wc.write_dataset(reader, f"s3://{bucket}/out/", partition_by=["k"], parquet={"compression": "none"})
    assert "input" in str(e.value) or e.value.status != 0
    assert any("k=1/" in k and n > 0 for k, n in seen.items()), seen  # parts were on the server
    assert pending_uploads(s3, bucket) == []  # ListMultipartUploads: every upload aborted
    assert s3_keys(s3, bucket) == []


# ---- 10,000 partitions in bounded memory ----------------------------------------------


def peak_rss_of(cmd, env=None):
    """(returncode, peak RSS bytes) of one command, measured alone."""
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "sys.stderr.write(p.stderr.decode(errors='replace'))\n"
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n")
    e = dict(os.environ)
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, env=e, timeout=900)
    rc, rss = out.stdout.decode().split()
    return int(rc), int(rss), out.stderr.decode()


@pytest.mark.parametrize("where", ["file", "s3"])
def test_ten_thousand_partitions_bounded_memory(hoist_cli, tmp_path, where, request):
    n_parts, per = 10_000, 20
    rng = np.random.default_rng(4)
    k = np.repeat(np.arange(n_parts), per)
    rng.shuffle(k)
    t = pa.table({"k": pa.array(k, pa.int32()), "x": pa.array(np.arange(k.size)), "r": rng.random(k.size)})
    src = tmp_path / "in.parquet"
    pq.write_table(t, src, row_group_size=k.size)  # one batch: one file per partition
    if where == "file":
        dst = str(tmp_path / "out") + "/"
    else:
        if os.environ.get("HOIST_TEST_S3") != "1":
            pytest.skip("needs the local S3 server")
        bucket = request.getfixturevalue("bucket")
        dst = f"s3://{bucket}/many/"
    rc, rss, err = peak_rss_of([hoist_cli, "convert", str(src), dst, "--partition-by", "k", "--write-memory",
                                "32M", "--max-open-files", "16", "-q"])
    assert rc == 0, err
    if "asan" not in hoist_cli:  # ASan's quarantine and shadow memory inflate RSS
        assert rss < 160 << 20, f"peak RSS {rss >> 20} MiB"
    if where == "file":
        back = read_hive(str(tmp_path / "out"))
        m = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    else:
        s3c = request.getfixturevalue("s3")
        back = read_hive(f"{bucket}/many", request.getfixturevalue("s3fs"))
        m = json.loads(s3c.get_object(Bucket=bucket, Key="many/_SUCCESS")["Body"].read())
        assert pending_uploads(s3c, bucket) == []
    assert back.num_rows == k.size
    assert len({f["partition"]["k"] for f in m["files"]}) == n_parts
    assert np.array_equal(np.sort(back["x"].to_numpy()), np.arange(k.size))


# ---- faults and signals -----------------------------------------------------------------


def start_relay(upstream, rate, seed, kinds="slowdown,cut"):
    p = subprocess.Popen([sys.executable, str(HERE.parent / "store" / "fault_relay.py"), "--upstream", upstream,
                          "--rate", str(rate), "--seed", str(seed), "--kinds", kinds], stdout=subprocess.PIPE)
    line = p.stdout.readline().decode()
    assert line.startswith("PORT "), line
    return p, int(line.split()[1])


def check_all_or_nothing(s3, bucket, prefix, ok, n):
    keys = s3_keys(s3, bucket)
    assert pending_uploads(s3, bucket) == []
    if ok:
        m = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/_SUCCESS")["Body"].read())
        assert sorted(keys) == sorted([f"{prefix}/_SUCCESS"] + [f"{prefix}/" + f["path"] for f in m["files"]])
        assert m["rows"] == n
    else:
        assert keys == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fault_relay_all_or_nothing(hoist_cli, s3, s3_env, bucket, tmp_path, seed):
    """503s and connections cut mid-answer (after the server acted: lost
    initiates, completes, parts) with the default retries: the write commits
    whole, with nothing pending."""
    rng = np.random.default_rng(seed)
    n = 1_500_000
    t = pa.table({"k": pa.array(rng.integers(0, 2, n)), "r": rng.random(n), "x": np.arange(n)})
    src = tmp_path / "in.parquet"
    pq.write_table(t, src, row_group_size=100_000, compression="none")
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://", 1)[1]
    relay, port = start_relay(upstream, 0.3, seed)
    try:
        p = run_cli(hoist_cli, "convert", str(src), f"s3://{bucket}/f/", "--partition-by", "k",
                    "--compression", "none", "--write-memory", "32M", "-q",
                    "--endpoint", f"http://127.0.0.1:{port}", timeout=600)
    finally:
        relay.kill()
        relay.wait()
    check_all_or_nothing(s3, bucket, "f", p.returncode == 0, n)


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_fault_relay_failing_write_leaves_nothing(s3, s3_env, bucket, seed):
    """With one retry the faults win: the write fails part way and its
    rollback (aborts, deletes, the sweep of lost initiates) leaves nothing."""
    rng = np.random.default_rng(seed)
    n = 1_200_000
    t = pa.table({"k": pa.array(rng.integers(0, 3, n)), "r": rng.random(n), "x": np.arange(n)})
    upstream = s3_env["AWS_ENDPOINT_URL"].split("://", 1)[1]
    relay, port = start_relay(upstream, 0.25, seed)
    try:
        try:
            wc.write_dataset(t, f"s3://{bucket}/g/", partition_by=["k"], parquet={"compression": "none"},
                             memory_limit=32 << 20, batch_rows=100_000,
                             store_opts={"endpoint": f"http://127.0.0.1:{port}", "max_retries": 1})
            ok = True
        except wc.HoistError as e:
            print("write failed as expected:", e)
            ok = False
    finally:
        relay.kill()
        relay.wait()
    check_all_or_nothing(s3, bucket, "g", ok, n)


def big_input(tmp_path, n=4_000_000):
    rng = np.random.default_rng(5)
    t = pa.table({"k": pa.array(rng.integers(0, 8, n)), "r": rng.random(n), "s": rng.random(n)})
    src = tmp_path / "big.parquet"
    pq.write_table(t, src, row_group_size=100_000, compression="none")
    return src


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("where", ["file", "s3"])
def test_signal_mid_write_leaves_nothing(hoist_cli, tmp_path, sig, code, where, request):
    src = big_input(tmp_path)
    if where == "s3":
        if os.environ.get("HOIST_TEST_S3") != "1":
            pytest.skip("needs the local S3 server")
        bucket = request.getfixturevalue("bucket")
        dst = f"s3://{bucket}/sig/"
    else:
        dst = str(tmp_path / "sig") + "/"
    # zstd level 19 encodes at a few MB/s, so the write is still running when the signal comes
    # however fast the machine (at level 3 a quiet machine finished the 96 MB before it did).
    p = subprocess.Popen([hoist_cli, "convert", str(src), dst, "--partition-by", "k", "--compression", "zstd:19",
                          "--max-rows-per-file", "300000", "-q"], stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.send_signal(sig)
    _, err = p.communicate(timeout=300)
    assert p.returncode == code, err.decode()
    if where == "s3":
        s3c = request.getfixturevalue("s3")
        assert s3_keys(s3c, bucket) == []
        assert pending_uploads(s3c, bucket) == []
    else:
        assert not (tmp_path / "sig").exists()


def test_cli_load_output_and_usage(hoist_cli, tmp_path):
    t = sample_table(2000)
    pq.write_table(t, tmp_path / "in.parquet")
    p = run_cli(hoist_cli, "load", str(tmp_path / "in.parquet"), "--columns", "month,x", "--filter", "x < 1000",
                "--output", str(tmp_path / "o") + "/", "--partition-by", "month", "--compression", "zstd:3",
                "--row-group-size", "100")
    assert p.returncode == 0, p.stderr_text
    assert "wrote" in p.stdout_text
    back = read_hive(tmp_path / "o")
    assert sorted(back["x"].to_pylist()) == list(range(1000))
    f = pq.ParquetFile(next((tmp_path / "o").rglob("*.parquet")))
    assert f.metadata.row_group(0).column(0).compression == "ZSTD"
    p = run_cli(hoist_cli, "load", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "o") + "/")
    assert p.returncode == 1 and "exist" in p.stderr_text
    p = run_cli(hoist_cli, "load", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "x") + "/",
                "--existing", "sideways")
    assert p.returncode == 2
    # convert SRC... DST: several sources, one output
    pq.write_table(t, tmp_path / "in2.parquet")
    p = run_cli(hoist_cli, "convert", str(tmp_path / "in.parquet"), str(tmp_path / "in2.parquet"),
                str(tmp_path / "both.parquet"), "-q")
    assert p.returncode == 0, p.stderr_text
    assert pq.read_table(tmp_path / "both.parquet").num_rows == 2 * t.num_rows
    assert run_cli(hoist_cli, "convert", str(tmp_path / "in.parquet")).returncode == 2
