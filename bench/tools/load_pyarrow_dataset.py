"""pyarrow.dataset over pyarrow's own S3FileSystem (Hive partitioning)."""
import os
from urllib.parse import urlparse

import pyarrow.compute as pc
import pyarrow.dataset as ds
from pyarrow import fs

import _common

url, workload = _common.parse_args()
ep = urlparse(_common.endpoint())
s3 = fs.S3FileSystem(endpoint_override=ep.netloc, scheme=ep.scheme or "http",
                     access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     region=os.environ.get("AWS_REGION", "us-east-1"))
bucket, key = _common.split_url(url)
d = ds.dataset("%s/%s" % (bucket, key.rstrip("/")), filesystem=s3, format="parquet", partitioning="hive")
flt = pc.field("passenger_count") > 1 if workload in _common.FILTERED else None
t = d.to_table(columns=_common.COLUMNS[workload], filter=flt)
_common.report(t.num_rows, t.num_columns, t.nbytes)
