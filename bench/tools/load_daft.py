"""daft.read_parquet over s3:// (its native runner and S3 client), Hive partitions,
the workload's columns and filter, collected to one Arrow table. Runs in .venv-bench."""
import os

import daft

import _common

url, workload = _common.parse_args()
io = daft.io.IOConfig(s3=daft.io.S3Config(
    endpoint_url=_common.endpoint(), key_id=os.environ["AWS_ACCESS_KEY_ID"],
    access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region_name=os.environ.get("AWS_REGION", "us-east-1"),
    anonymous=False))
df = daft.read_parquet((url if url.endswith("/") else url + "/") + "**/*.parquet", io_config=io,
                       hive_partitioning=True)
if workload in _common.FILTERED:
    df = df.where(daft.col("passenger_count") > 1)
cols = _common.COLUMNS[workload]
if cols is not None:
    df = df.select(*cols)
t = df.to_arrow()
_common.report(t.num_rows, t.num_columns, t.nbytes)
