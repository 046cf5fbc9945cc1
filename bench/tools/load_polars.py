"""polars.scan_parquet over s3:// (object_store) with projection and filter
pushed down by the lazy engine. HOIST_BENCH_POLARS_ENGINE picks collect()'s
engine: "auto" (polars >= 1.3x: the streaming engine) or "in-memory"."""
import os

import polars as pl

import _common

url, workload = _common.parse_args()
opts = {"aws_endpoint_url": _common.endpoint(), "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "aws_region": os.environ.get("AWS_REGION", "us-east-1"), "aws_allow_http": "true"}
lf = pl.scan_parquet(url.rstrip("/") + "/**/*.parquet", storage_options=opts, hive_partitioning=True)
if workload in _common.FILTERED:
    lf = lf.filter(pl.col("passenger_count") > 1)
cols = _common.COLUMNS[workload]
if cols is not None:
    lf = lf.select(cols)
df = lf.collect(engine=os.environ.get("HOIST_BENCH_POLARS_ENGINE", "auto"))
_common.report(df.height, df.width, df.estimated_size())
