"""pyarrow: pq.write_table for one file; pyarrow.dataset.write_dataset over
pyarrow.fs.S3FileSystem (Hive partitions) for a dataset. THREADS=1 sets
pyarrow's CPU and I/O pools to one thread. Arguments: see _pqwrite.py."""
import os

import _pqwrite

a = _pqwrite.parse_args()
import pyarrow as pa  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

if a["threads"] == 1:
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
t = _pqwrite.load_table(a["input"])
rg = _pqwrite.ROW_GROUP_ROWS
out = a["output"]

if out.startswith("s3://"):
    import pyarrow.fs as pafs
    scheme, host = _pqwrite.s3_endpoint()
    fs = pafs.S3FileSystem(endpoint_override=host, scheme=scheme, region="us-east-1",
                           access_key=os.environ["AWS_ACCESS_KEY_ID"],
                           secret_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    opts = ds.ParquetFileFormat().make_write_options(compression=a["codec"], compression_level=a["level"])

    def run():
        # min = max rows per group: row groups as large as the other writers'
        # (else each input batch's share of a partition becomes a row group)
        ds.write_dataset(t, out[5:].rstrip("/"), filesystem=fs, format="parquet", file_options=opts,
                         partitioning=[a["partition_by"]] if a["partition_by"] else None,
                         partitioning_flavor="hive", min_rows_per_group=rg, max_rows_per_group=rg,
                         existing_data_behavior="overwrite_or_ignore", use_threads=a["threads"] != 1)
else:
    def run():
        pq.write_table(t, out, compression=a["codec"], compression_level=a["level"], row_group_size=rg)

_pqwrite.timed(run, t.num_rows)
