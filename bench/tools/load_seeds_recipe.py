"""Seed 002's cloud-to-table recipe, as written there: metaflow.S3.get_many to
temp files, a ThreadPoolExecutor of pq.read_table(use_threads=False), then
concat_tables. Projection and filter go to read_table (the recipe still
downloads whole files)."""
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import pyarrow
import pyarrow.parquet as pq

import _common

url, workload = _common.parse_args()
os.environ.setdefault("METAFLOW_S3_ENDPOINT_URL", _common.endpoint())
from metaflow import S3  # noqa: E402  (reads the endpoint at import)

columns = _common.COLUMNS[workload]
filters = [("passenger_count", ">", 1)] if workload in _common.FILTERED else None
with S3() as s3:
    files = [f for f in s3.list_recursive([url]) if f.url.endswith(".parquet")]
    loaded = s3.get_many([f.url for f in files])
    local_tmp_file_paths = [f.path for f in loaded]
    with ThreadPoolExecutor(max_workers=multiprocessing.cpu_count()) as exe:
        tables = exe.map(lambda f: pq.read_table(f, columns=columns, filters=filters, use_threads=False),
                         local_tmp_file_paths)
        table = pyarrow.concat_tables(tables)
    _common.report(table.num_rows, table.num_columns, table.nbytes)
