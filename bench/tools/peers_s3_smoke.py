"""Checks that the write benchmarks' peers in .venv-bench reach the local S3
server (run it with .venv-bench/bin/python after `eval "$(scripts/s3-server
env)"`): writes a small table with pyarrow, reads it back with daft and with
DuckDB's httpfs (LOADed from the duckdb-ext-httpfs wheel), then deletes it.
Prints one line per peer and exits non-zero if one fails."""
import glob
import os
import sys

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

BUCKET, KEY = "hoist-bench-write", "smoke/peers.parquet"
scheme, _, host = os.environ["AWS_ENDPOINT_URL"].partition("://")
key_id, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
fs = pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=key_id, secret_key=secret,
                       region="us-east-1", allow_bucket_creation=True)
if fs.get_file_info(BUCKET).type == pafs.FileType.NotFound:
    fs.create_dir(BUCKET)
t = pa.table({"a": list(range(1000)), "month": [i % 12 + 1 for i in range(1000)]})
pq.write_table(t, "%s/%s" % (BUCKET, KEY), filesystem=fs)
url = "s3://%s/%s" % (BUCKET, KEY)
failed = 0


def check(name, fn):
    global failed
    try:
        n = fn()
        ok = n == t.num_rows
        print("%-8s %s: %d rows%s" % (name, "ok" if ok else "WRONG", n, "" if ok else ", expected %d" % t.num_rows))
        failed += not ok
    except Exception as e:  # report every peer, not just the first failure
        print("%-8s FAILED: %s" % (name, str(e).splitlines()[0] if str(e) else type(e).__name__))
        failed += 1


def duck():
    import duckdb
    import duckdb_ext
    ext = glob.glob(os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v" + duckdb.__version__, "*",
                                 "httpfs.duckdb_extension"))
    con = duckdb.connect()
    con.execute("LOAD '%s'" % ext[0])
    con.execute("CREATE SECRET (TYPE s3, KEY_ID '%s', SECRET '%s', ENDPOINT '%s', URL_STYLE 'path', USE_SSL %s, "
                "REGION 'us-east-1')" % (key_id, secret, host, "true" if scheme == "https" else "false"))
    return con.execute("SELECT count(*) FROM read_parquet('%s')" % url).fetchone()[0]


def daft_read():
    import daft
    io = daft.io.IOConfig(s3=daft.io.S3Config(endpoint_url=os.environ["AWS_ENDPOINT_URL"], key_id=key_id,
                                              access_key=secret, region_name="us-east-1", anonymous=False))
    return daft.read_parquet(url, io_config=io).count_rows()


def polars_read():
    import polars as pl
    so = {"aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"], "aws_access_key_id": key_id,
          "aws_secret_access_key": secret, "aws_region": "us-east-1", "aws_allow_http": "true"}
    return pl.scan_parquet(url, storage_options=so).select(pl.len()).collect().item()


check("duckdb", duck)
check("daft", daft_read)
check("polars", polars_read)
fs.delete_dir("%s/%s" % (BUCKET, KEY.split("/")[0]))
sys.exit(1 if failed else 0)
