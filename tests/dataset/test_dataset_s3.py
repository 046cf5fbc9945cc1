"""Datasets on the local S3 server, written by pyarrow, loaded by hoist and
compared with pyarrow.dataset (issue 5 "Tests")."""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import hoist_ctypes as hc  # noqa: E402

from conftest import ROOT, run_cli  # noqa: E402

HOIST_ERR_SCHEMA_MISMATCH = 500
HOIST_ERR_FILTER = 501
HOIST_ERR_EMPTY_DATASET = 502
HOIST_ERR_COLUMN_NOT_FOUND = 205


def gen_taxi_module():
    spec = importlib.util.spec_from_file_location("gen_taxi", ROOT / "scripts" / "gen-taxi.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


@pytest.fixture()
def s3fs(s3_env):
    ep = s3_env["AWS_ENDPOINT_URL"]
    scheme, host = ep.split("://")
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=s3_env["AWS_ACCESS_KEY_ID"],
                             secret_key=s3_env["AWS_SECRET_ACCESS_KEY"], region=s3_env["AWS_REGION"])


def put_table(fs, path, table, **kw):
    with fs.open_output_stream(path) as f:
        pq.write_table(table, f, **kw)


def put_bytes(fs, path, data):
    with fs.open_output_stream(path) as f:
        f.write(data)


def reference(fs, path, columns=None, filter=None, partitioning="hive", schema=None):
    d = pads.dataset(path, filesystem=fs, format="parquet", partitioning=partitioning, schema=schema)
    return d.to_table(columns=columns, filter=filter)


def sample_table(n, seed=0, offset=0):
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(offset, offset + n), pa.int64()),
        "x": pa.array(rng.integers(-50, 50, n), pa.int32()),
        "y": pa.array(rng.random(n)),
        "s": pa.array(rng.choice(["CRD", "CSH", "NOC", "DIS"], n)),
        "maybe": pa.array([None if i % 7 == 0 else float(i) for i in range(n)], pa.float64()),
        "d": pa.array((rng.integers(0, 3650, n)).astype("int32"), pa.date32()),
        "flag": pa.array(rng.random(n) < 0.3),
    })


@pytest.fixture()
def flat(bucket, s3fs):
    t = sample_table(30000)
    put_table(s3fs, f"{bucket}/flat/part-0.parquet", t.slice(0, 12000), row_group_size=3000)
    put_table(s3fs, f"{bucket}/flat/part-1.parquet", t.slice(12000), row_group_size=5000)
    put_bytes(s3fs, f"{bucket}/flat/_SUCCESS", b"")
    put_bytes(s3fs, f"{bucket}/flat/_committed_123", b"{}")
    put_bytes(s3fs, f"{bucket}/flat/.part-0.parquet.crc", b"crc")
    return f"{bucket}/flat/"


@pytest.fixture()
def hive(bucket, s3fs):
    for m in (1, 2, 3, 11):
        t = sample_table(4000, seed=m, offset=m * 100000)
        for f in range(2):
            put_table(s3fs, f"{bucket}/hive/month={m}/part-{f}.parquet", t.slice(f * 2000, 2000),
                      row_group_size=500)
    return f"{bucket}/hive/"


def test_flat_equals_pyarrow(flat, s3fs):
    got = hc.Dataset("s3://" + flat).load()
    want = reference(s3fs, flat, partitioning=None)
    assert got.equals(want)
    cols = ["s", "y"]
    f = "x > 10 AND s IN ('CRD', 'NOC') OR maybe IS NULL"
    got = hc.Dataset("s3://" + flat, columns=cols, filter=f).load()
    expr = ((pc.field("x") > 10) & pc.field("s").isin(["CRD", "NOC"])) | pc.field("maybe").is_null()
    want = reference(s3fs, flat, columns=cols, filter=expr, partitioning=None)
    assert got.num_rows == want.num_rows > 0
    assert got.equals(want)


@pytest.mark.parametrize("expr,pyexpr", [
    ("x >= 0 AND NOT (s = 'CRD')", (pc.field("x") >= 0) & ~(pc.field("s") == "CRD")),
    ("d < DATE '1975-01-01' AND flag = TRUE", (pc.field("d") < pa.scalar(1826, pa.date32())) & (pc.field("flag") == True)),  # noqa: E712
    ("y BETWEEN_IS_NOT_SUPPORTED", None),
    ("maybe IS NOT NULL AND maybe < 100.5", pc.field("maybe").is_valid() & (pc.field("maybe") < 100.5)),
    ("s NOT IN ('CRD', 'CSH') OR x = -50", ~pc.field("s").isin(["CRD", "CSH"]) | (pc.field("x") == -50)),
])
def test_filters_match_pyarrow(flat, s3fs, expr, pyexpr):
    if pyexpr is None:
        with pytest.raises(hc.HoistError) as e:
            hc.Dataset("s3://" + flat, filter=expr)
        assert e.value.status == HOIST_ERR_FILTER
        assert "^" in e.value.message
        return
    got = hc.Dataset("s3://" + flat, filter=expr).load()
    want = reference(s3fs, flat, filter=pyexpr, partitioning=None)
    assert got.equals(want)


def test_hive_partitions_and_pruning(hive, s3fs):
    got = hc.Dataset("s3://" + hive).load()
    want = reference(s3fs, hive)
    assert got.schema.field("month").type == pa.int32()
    assert got.equals(want.select(got.column_names))
    d = hc.Dataset("s3://" + hive, columns=["id", "x", "month"], filter="month IN (2, 11) AND x > 40")
    got = d.load()
    want = reference(s3fs, hive, columns=["id", "x", "month"],
                     filter=pc.field("month").isin([2, 11]) & (pc.field("x") > 40))
    assert got.equals(want)
    st = d.stats()
    # month 1 and 3 are pruned by their partition values before their footers are read
    assert st.files_pruned == 4 and st.files == 4 and st.row_groups == 16
    assert st.rows == got.num_rows


def test_many_row_groups_order_and_limit(bucket, s3fs):
    t = sample_table(50000, seed=5)
    put_table(s3fs, f"{bucket}/rg/a.parquet", t.slice(0, 25000), row_group_size=1000)
    put_table(s3fs, f"{bucket}/rg/b.parquet", t.slice(25000), row_group_size=777)
    d = hc.Dataset(f"s3://{bucket}/rg/", memory_limit=1 << 20)
    got = d.load()
    assert got.equals(t)
    assert d.stats().row_groups == 25 + 33
    got = hc.Dataset(f"s3://{bucket}/rg/", limit=2500, columns=["id"]).load()
    assert got.column("id").to_pylist() == list(range(2500))
    got = hc.Dataset(f"s3://{bucket}/rg/", limit=10, filter="x > 45", columns=["id", "x"]).load()
    want = t.filter(pc.field("x") > 45).select(["id", "x"]).slice(0, 10)
    assert got.equals(want)
    # streaming gives the same rows in the same order
    r = hc.Dataset(f"s3://{bucket}/rg/", memory_limit=1 << 20).scan()
    assert r.read_all().equals(t)


def test_schema_drift(bucket, s3fs):
    a = pa.table({"k": pa.array([1, 2], pa.int32()), "v": pa.array([1.5, 2.5], pa.float32()),
                  "only_a": pa.array(["x", "y"])})
    b = pa.table({"k": pa.array([3, 4], pa.int64()), "v": pa.array([3, 4], pa.int64()),
                  "only_b": pa.array([True, None])})
    put_table(s3fs, f"{bucket}/drift/a.parquet", a)
    put_table(s3fs, f"{bucket}/drift/b.parquet", b)
    got = hc.Dataset(f"s3://{bucket}/drift/").load()
    assert got.schema.names == ["k", "v", "only_a", "only_b"]
    assert got.schema.field("k").type == pa.int64()
    assert got.schema.field("v").type == pa.float64()
    assert got.column("k").to_pylist() == [1, 2, 3, 4]
    assert got.column("v").to_pylist() == [1.5, 2.5, 3.0, 4.0]
    assert got.column("only_a").to_pylist() == ["x", "y", None, None]
    assert got.column("only_b").to_pylist() == [None, None, True, None]
    unified = pa.schema([("k", pa.int64()), ("v", pa.float64()), ("only_a", pa.string()), ("only_b", pa.bool_())])
    want = reference(s3fs, f"{bucket}/drift/", partitioning=None, schema=unified)
    assert got.equals(want)
    # filter on a column missing from one file: nulls there never match
    got = hc.Dataset(f"s3://{bucket}/drift/", filter="only_a = 'y' OR only_b IS NOT NULL").load()
    assert got.column("k").to_pylist() == [2, 3]
    # a real conflict names both files and the column
    put_table(s3fs, f"{bucket}/drift/c.parquet", pa.table({"k": pa.array(["text"])}))
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset(f"s3://{bucket}/drift/")
    assert e.value.status == HOIST_ERR_SCHEMA_MISMATCH
    assert "'k'" in e.value.message and "a.parquet" in e.value.message and "c.parquet" in e.value.message


def test_projection_fetches_under_a_quarter(bucket, s3fs):
    g = gen_taxi_module()
    rng = np.random.default_rng(7)
    for m in (1, 2):
        for f in range(2):
            t = g.make_table(rng, 150000, 2014, m)
            put_table(s3fs, f"{bucket}/taxi/month={m}/part-{f}.parquet", t, row_group_size=50000)
    sizes = sum(i.size for i in s3fs.get_file_info(pafs.FileSelector(f"{bucket}/taxi", recursive=True))
                if i.type == pafs.FileType.File)
    d = hc.Dataset(f"s3://{bucket}/taxi/", columns=["passenger_count", "fare_amount"])
    got = d.load()
    st = d.stats()
    assert st.dataset_bytes == sizes
    assert st.bytes_fetched < 0.25 * sizes, (st.bytes_fetched, sizes)
    want = reference(s3fs, f"{bucket}/taxi/", columns=["passenger_count", "fare_amount"])
    assert got.equals(want)
    got = hc.Dataset(f"s3://{bucket}/taxi/", columns=["passenger_count", "fare_amount"],
                     filter="passenger_count > 1 AND payment_type = 'CRD'").load()
    want = reference(s3fs, f"{bucket}/taxi/", columns=["passenger_count", "fare_amount"],
                     filter=(pc.field("passenger_count") > 1) & (pc.field("payment_type") == "CRD"))
    assert got.equals(want)


def test_memory_budget_bounds_rss(bucket, s3fs, s3_env, tmp_path):
    g = gen_taxi_module()
    rng = np.random.default_rng(3)
    for f in range(6):
        t = g.make_table(rng, 200000, 2014, 1 + f)
        put_table(s3fs, f"{bucket}/big/part-{f}.parquet", t, row_group_size=25000)
    budget = 24 << 20
    script = textwrap.dedent(f"""
        import resource, sys, json
        sys.path.insert(0, {str(pathlib.Path(__file__).parent)!r})
        import hoist_ctypes as hc
        d = hc.Dataset("s3://{bucket}/big/", memory_limit={budget})
        r = d.scan()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        rows = 0
        for b in r:
            rows += b.num_rows
            del b
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        s = d.stats()
        print(json.dumps(dict(rows=rows, base=base, peak=peak, pipeline=s.peak_pipeline_bytes,
                              out=s.output_bytes, ds=s.dataset_bytes)))
    """)
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["rows"] == 1200000
    # the data decodes to far more than the budget, yet memory stays near it
    assert r["out"] > 3 * budget
    # decoded batches waiting for the consumer are reserved by an estimate
    # (decoded/compressed ratio so far), so the bound is approximate
    assert r["pipeline"] <= budget * 1.3, r
    assert r["peak"] - r["base"] <= budget + (48 << 20), r


def test_shards_cover_every_row_once(hive, s3fs):
    d = hc.Dataset("s3://" + hive, filter="x > -20")
    full = d.load()
    for n, by_rg in ((3, False), (5, True), (100, True)):
        shards = d.shards(n, row_groups=by_rg)
        assert 1 <= len(shards) <= n
        assert shards == d.shards(n, row_groups=by_rg)  # deterministic
        parts = [hc.Dataset(["s3://" + u if not u.startswith("s3://") else u for u in urls],
                            filter="x > -20").load() for urls, _, _ in shards]
        ids = pa.concat_arrays([c for t in parts for c in t.column("id").chunks]).to_pylist()
        assert sorted(ids) == sorted(full.column("id").to_pylist())
        assert len(ids) == len(set(ids))
        # partition columns survive the round trip through shard URLs
        assert all("month" in t.column_names for t in parts)
        if by_rg and n == 5:
            b = [s[1] for s in shards]
            assert max(b) - min(b) <= max(b) * 0.6


def test_sample_is_reproducible_and_shard_independent(hive):
    a = hc.Dataset("s3://" + hive, sample=0.25, seed=9, columns=["id"]).load()
    b = hc.Dataset("s3://" + hive, sample=0.25, seed=9, columns=["id"]).load()
    c = hc.Dataset("s3://" + hive, sample=0.25, seed=10, columns=["id"]).load()
    assert a.equals(b)
    assert not a.equals(c)
    assert 0.18 * 16000 < a.num_rows < 0.32 * 16000
    d = hc.Dataset("s3://" + hive, sample=0.25, seed=9, columns=["id"])
    ids = []
    for urls, _, _ in d.shards(4, row_groups=True):
        ids += hc.Dataset(urls, sample=0.25, seed=9, columns=["id"]).load().column("id").to_pylist()
    assert sorted(ids) == sorted(a.column("id").to_pylist())


def test_errors(bucket, s3fs, flat):
    # missing prefix
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset(f"s3://{bucket}/nothing-here/")
    assert e.value.status == HOIST_ERR_EMPTY_DATASET
    assert "nothing-here" in e.value.message
    # unknown column
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset("s3://" + flat, columns=["nope"])
    assert e.value.status == HOIST_ERR_COLUMN_NOT_FOUND
    # a filter naming an unknown column points at it
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset("s3://" + flat, filter="x > 1 AND nope = 2")
    assert e.value.status == HOIST_ERR_FILTER and "nope" in e.value.message
    # a corrupt file is named; skip_bad skips and reports it
    put_bytes(s3fs, f"{flat}zz-bad.parquet", b"this is not parquet at all, not even close")
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset("s3://" + flat)
    assert "zz-bad.parquet" in e.value.message
    d = hc.Dataset("s3://" + flat, skip_bad=True)
    assert d.load().num_rows == 30000
    assert d.stats().files_skipped == 1
    assert "zz-bad.parquet" in d.skipped()
    # a file whose column chunk is corrupt (valid footer) fails the load, naming it
    good = pq.read_table(s3fs.open_input_file(f"{flat}part-0.parquet"))
    buf = pa.BufferOutputStream()
    pq.write_table(good, buf, row_group_size=3000, compression="zstd")
    data = bytearray(buf.getvalue().to_pybytes())
    col = pq.ParquetFile(pa.BufferReader(bytes(data))).metadata.row_group(1).column(2)
    start = col.dictionary_page_offset or col.data_page_offset
    data[start:start + 24] = b"\xff" * 24  # the first page header of 'y' in row group 1
    put_bytes(s3fs, f"{bucket}/corrupt/f.parquet", bytes(data))
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset(f"s3://{bucket}/corrupt/").load()
    assert "f.parquet" in e.value.message
    with pytest.raises(OSError) as e:  # a stream ends with the error, never early without one
        hc.Dataset(f"s3://{bucket}/corrupt/").scan().read_all()
    assert "f.parquet: row group 1, column 'y'" in str(e.value)


def test_cli_load_schema_head(hoist_cli, flat, hive, s3_env, tmp_path, s3fs):
    p = run_cli(hoist_cli, "load", "s3://" + flat, check=True)
    for word in ("rows", "30,000", "fetched", "Gbit/s", "footers", "download", "decode", "peak RSS"):
        assert word in p.stdout_text, p.stdout_text
    p = run_cli(hoist_cli, "schema", "s3://" + hive, check=True)
    assert "month: int32" in p.stdout_text and "s: string" in p.stdout_text
    p = run_cli(hoist_cli, "head", "s3://" + hive, "-n", "3", "--columns", "id,s,month", check=True)
    lines = p.stdout_text.splitlines()
    assert len(lines) == 5 and lines[0].split() == ["id", "s", "month"]
    out = tmp_path / "x.csv"
    run_cli(hoist_cli, "load", "s3://" + flat, "--columns", "id,s,y", "--filter", "x > 40", "--output", str(out),
            check=True)
    import pyarrow.csv as pcsv
    got = pcsv.read_csv(out)
    want = reference(s3fs, flat, columns=["id", "s", "y"], filter=pc.field("x") > 40, partitioning=None)
    assert got.column("id").to_pylist() == want.column("id").to_pylist()
    assert got.column("y").to_pylist() == want.column("y").to_pylist()
    arrow = tmp_path / "x.arrow"
    run_cli(hoist_cli, "load", "s3://" + hive, "--filter", "x > 0", "--limit", "5000", "--output", str(arrow),
            check=True)
    import pyarrow.ipc as ipc
    got = ipc.open_file(arrow).read_all()
    want = reference(s3fs, hive, filter=pc.field("x") > 0).slice(0, 5000)
    assert got.equals(want.select(got.column_names))
    # Parquet output (the dataset writer): one file, equal to the source
    run_cli(hoist_cli, "load", "s3://" + flat, "--output", str(tmp_path / "x.parquet"), check=True)
    assert pq.read_table(tmp_path / "x.parquet").equals(reference(s3fs, flat, partitioning=None))
    p = run_cli(hoist_cli, "load", "s3://" + flat, "--filter", "x > AND y")
    assert p.returncode == 2
    assert "^" in p.stderr_text and "position 5" in p.stderr_text
    p = run_cli(hoist_cli, "load", f"s3://{flat}missing/")
    assert p.returncode == 1 and "no data files" in p.stderr_text


def test_server_dying_mid_load_is_an_error(bucket, s3fs, s3_env):
    """A relay in front of the server forwards ~1 MiB of responses, then cuts
    every connection and stops listening: the load must fail (after the
    store's retries) with a message naming an object, never return a
    partial table."""
    import socket
    import threading
    g = gen_taxi_module()
    rng = np.random.default_rng(11)
    for f in range(3):
        put_table(s3fs, f"{bucket}/dying/part-{f}.parquet", g.make_table(rng, 100000, 2014, 1 + f),
                  row_group_size=20000)
    host, port = s3_env["AWS_ENDPOINT_URL"].split("://")[1].split(":")
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    relay_port = lsock.getsockname()[1]
    state = {"sent": 0, "dead": False}
    conns = []
    lock = threading.Lock()

    def die():
        state["dead"] = True
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        lsock.close()

    def pump(src, dst, count):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with lock:
                    if state["dead"]:
                        break
                    if count:
                        state["sent"] += len(data)
                        if state["sent"] > (1 << 20):
                            die()
                            break
                dst.sendall(data)
        except OSError:
            pass

    def accept():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            u = socket.create_connection((host, int(port)))
            with lock:
                conns.extend([c, u])
            threading.Thread(target=pump, args=(c, u, False), daemon=True).start()
            threading.Thread(target=pump, args=(u, c, True), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(pathlib.Path(__file__).parent)!r})
        import hoist_ctypes as hc
        d = hc.Dataset("s3://{bucket}/dying/", endpoint="http://127.0.0.1:{relay_port}", max_retries=2)
        try:
            t = d.load()
            print("LOADED", t.num_rows)
        except hc.HoistError as e:
            print("ERROR", e.status, e.message)
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("ERROR"), p.stdout
    assert f"s3://{bucket}/dying/part-" in p.stdout


def test_big_footer_takes_a_second_read(bucket, s3fs):
    t = sample_table(5000)
    t = t.replace_schema_metadata({"blob": "x" * 200000})  # a 200 KB footer
    put_table(s3fs, f"{bucket}/bigfoot/a.parquet", t, row_group_size=1000)
    put_table(s3fs, f"{bucket}/bigfoot/b.parquet", sample_table(100, offset=5000))
    d = hc.Dataset(f"s3://{bucket}/bigfoot/", columns=["id"])
    got = d.load()
    assert got.column("id").to_pylist() == list(range(5100))
    st = d.stats()
    # 2 suffix reads + 1 second read for a.parquet's footer + 5 + 1 row groups
    assert st.requests == 3 + 6, st.requests
