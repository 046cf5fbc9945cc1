"""hoist_csv_read_url on the local S3 server: plain, gzip and zstd objects
larger than one ranged GET, read as they arrive, equal to pyarrow's reading
of the same text; a missing key; the Python and CLI front ends."""
import gzip
import io

import pyarrow as pa
import pyarrow.csv as pc
import pytest

import csv_ctypes as hc
from conftest import run_cli


def sample_csv(n):
    t = pa.table({"id": pa.array(range(n)), "x": pa.array([i * 0.25 for i in range(n)]),
                  "s": pa.array([f"row {i}, with \"quotes\"\nand a line break" for i in range(n)])})
    buf = io.BytesIO()
    pc.write_csv(t, buf)
    return buf.getvalue()


def compress(data, codec):
    if codec == "gzip":
        return gzip.compress(data, compresslevel=1)
    if codec == "zstd":
        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, "zstd") as f:
            f.write(data)
        return sink.getvalue().to_pybytes()
    return data


@pytest.mark.parametrize("codec", ["plain", "gzip", "zstd"])
def test_read_url(s3_env, bucket, codec):
    import boto3
    data = sample_csv(300000)  # ~20 MB of text: several 8 MiB ranges when plain
    body = compress(data, codec)
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    s3.put_object(Bucket=bucket, Key=f"t.csv.{codec}", Body=body)
    st = {}
    h = hc.read_url(f"s3://{bucket}/t.csv.{codec}", stats=st, threads=2)
    p = pc.read_csv(io.BytesIO(data), parse_options=pc.ParseOptions(newlines_in_values=True))
    assert h.schema == p.schema
    assert h.combine_chunks().equals(p.combine_chunks())
    assert st["bytes"] == len(data)


def test_read_url_missing(s3_env, bucket):
    with pytest.raises(hc.HoistError) as e:
        hc.read_url(f"s3://{bucket}/nope.csv")
    assert e.value.status == 103 and "nope.csv" in e.value.message


def test_cli_and_python_on_s3(s3_env, bucket, hoist_cli):
    import boto3
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    s3.put_object(Bucket=bucket, Key="d/t.csv.gz", Body=gzip.compress(b"a,b\n1,x\n2,y\n"))
    p = run_cli(hoist_cli, "schema", f"s3://{bucket}/d/t.csv.gz")
    assert p.returncode == 0, p.stderr_text
    assert p.stdout_text.startswith("a: int64\nb: string\n")
    hoist = pytest.importorskip("hoist")
    if not hasattr(hoist, "read_csv"):
        pytest.skip("no hoist.read_csv in this build")
    t = pa.table(hoist.read_csv(f"s3://{bucket}/d/t.csv.gz"))
    assert t.column("a").to_pylist() == [1, 2]
