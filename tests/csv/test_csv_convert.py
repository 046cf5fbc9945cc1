"""CSV → Parquet in one command (src/cli/cli_write.c's input-format dispatch,
src/cli/cli_csv.c's load --output): `hoist convert x.csv[.gz] out.parquet`,
to a partitioned dataset, and `hoist load DIR --format csv --output ...`
with a filter; the Parquet read back by pyarrow equals pyarrow's reading of
the CSV."""
import gzip
import io

import pyarrow as pa
import pyarrow.compute as pcmp
import pyarrow.csv as pc
import pyarrow.dataset as pds
import pyarrow.parquet as pq
import pytest

from conftest import run_cli


def csv_text(n):
    t = pa.table({"id": pa.array(range(n)), "month": pa.array([1 + i % 3 for i in range(n)]),
                  "fare": pa.array([i * 0.5 for i in range(n)]),
                  "note": pa.array([None if i % 5 == 0 else f"n{i}, \"q\"" for i in range(n)])})
    b = io.BytesIO()
    pc.write_csv(t, b)
    return b.getvalue()


def oracle(data):
    return pc.read_csv(io.BytesIO(data))


def test_convert_file(tmp_path, hoist_cli):
    data = csv_text(20000)
    src = tmp_path / "x.csv.gz"
    src.write_bytes(gzip.compress(data))
    out = tmp_path / "x.parquet"
    p = run_cli(hoist_cli, "convert", str(src), str(out), check=True)
    assert "20000 rows" in p.stdout_text
    assert pq.read_table(out).equals(oracle(data))


def test_convert_partitioned(tmp_path, hoist_cli):
    data = csv_text(9000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(data)
    out = tmp_path / "out"
    run_cli(hoist_cli, "convert", str(tmp_path / "in"), str(out) + "/", "--format", "csv", "--partition-by", "month",
            check=True)
    assert sorted(p.name for p in out.iterdir()) == ["_SUCCESS", "month=1", "month=2", "month=3"]
    got = pds.dataset(str(out), format="parquet", partitioning="hive").to_table()
    want = oracle(data)
    key = [("id", "ascending")]
    got = got.select(want.column_names).sort_by(key)
    assert got.column("id").equals(want.column("id"))
    assert got.column("note").equals(want.column("note"))
    assert got.column("month").cast(pa.int64()).equals(want.column("month"))


def test_load_output_with_filter(tmp_path, hoist_cli):
    data = csv_text(6000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(data)
    out = tmp_path / "f.parquet"
    run_cli(hoist_cli, "load", str(tmp_path / "in"), "--format", "csv", "--filter", "fare >= 1000",
            "--columns", "id,fare", "--output", str(out), check=True)
    want = oracle(data).filter(pcmp.field("fare") >= 1000).select(["id", "fare"])
    assert pq.read_table(out).equals(want)


def test_convert_bad_format(tmp_path, hoist_cli):
    p = run_cli(hoist_cli, "convert", "a.csv", str(tmp_path / "o.parquet"), "--format", "json")
    assert p.returncode != 0 and "--format" in p.stderr_text
    assert not (tmp_path / "o.parquet").exists()


def test_convert_to_s3(s3_env, bucket, s3, tmp_path, hoist_cli):
    data = csv_text(5000)
    s3.put_object(Bucket=bucket, Key="raw/a.csv", Body=data)
    run_cli(hoist_cli, "load", f"s3://{bucket}/raw/", "--format", "csv", "--output", f"s3://{bucket}/pq/",
            "--partition-by", "month", check=True)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="pq/")["Contents"])
    assert "pq/_SUCCESS" in keys and any(k.startswith("pq/month=2/") for k in keys)
    import hoist
    t = pa.table(hoist.load_table(f"s3://{bucket}/pq/")).sort_by([("id", "ascending")])
    assert t.column("id").equals(oracle(data).column("id"))
