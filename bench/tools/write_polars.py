"""polars: DataFrame.write_parquet (to s3:// with storage_options and
partition_by for a dataset). The table becomes a polars DataFrame before the
clock starts. THREADS=1: the scenario sets POLARS_MAX_THREADS=1.
Arguments: see _pqwrite.py."""
import os

import _pqwrite

a = _pqwrite.parse_args()
import polars as pl  # noqa: E402

t = _pqwrite.load_table(a["input"])
df = pl.from_arrow(t)
rows = t.num_rows
del t
kw = {"compression": a["codec"], "row_group_size": _pqwrite.ROW_GROUP_ROWS}
if a["level"] is not None:
    kw["compression_level"] = a["level"]
out = a["output"]
if out.startswith("s3://"):
    kw["storage_options"] = {"aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"],
                             "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
                             "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
                             "aws_region": "us-east-1", "aws_allow_http": "true"}
if a["partition_by"]:
    kw["partition_by"] = [a["partition_by"]]
_pqwrite.timed(lambda: df.write_parquet(out, **kw), rows)
