"""daft: DataFrame.write_parquet on the native runner (single_file=True for
one file; partition_cols and an IOConfig for an s3:// dataset). daft takes
no compression level: zstd is its default level. THREADS=1:
set_runner_native(num_threads=1). Arguments: see _pqwrite.py."""
import os

import _pqwrite

a = _pqwrite.parse_args()
import daft  # noqa: E402

daft.set_runner_native(num_threads=1 if a["threads"] == 1 else None)
t = _pqwrite.load_table(a["input"])
df = daft.from_arrow(t).collect()
rows = t.num_rows
del t
out = a["output"]
kw = {"compression": a["codec"]}
if out.startswith("s3://"):
    kw["io_config"] = daft.io.IOConfig(s3=daft.io.S3Config(
        endpoint_url=os.environ["AWS_ENDPOINT_URL"], key_id=os.environ["AWS_ACCESS_KEY_ID"],
        access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1", anonymous=False))
if a["partition_by"]:
    kw["partition_cols"] = [a["partition_by"]]
else:
    kw["single_file"] = True
_pqwrite.timed(lambda: df.write_parquet(out, **kw), rows,
               compression_level="daft default" if a["level"] is not None else None)
