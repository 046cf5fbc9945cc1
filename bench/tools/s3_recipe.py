"""Seed 002's cloud-to-table code, verbatim apart from the import:
    s3_recipe.py {metaflow|hoist} s3://bucket/prefix/
list_recursive, get_many to temp files, a ThreadPoolExecutor of
pq.read_table(use_threads=False), concat_tables. Prints one JSON line."""
import json
import os
import sys

impl, url = sys.argv[1], sys.argv[2]
os.environ.setdefault("METAFLOW_S3_ENDPOINT_URL", os.environ["AWS_ENDPOINT_URL"])
if impl == "metaflow":
    from metaflow import S3
elif impl == "hoist":
    from hoist import S3
else:
    sys.exit("usage: s3_recipe.py {metaflow|hoist} s3://bucket/prefix/")

import multiprocessing  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import pyarrow  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

with S3() as s3:
    files = list(s3.list_recursive([url]))
    total_size = sum(f.size for f in files) / 1024**3
    loaded = s3.get_many([f.url for f in files])
    local_tmp_file_paths = [f.path for f in loaded]
    with ThreadPoolExecutor(max_workers=multiprocessing.cpu_count()) as exe:
        tables = exe.map(lambda f: pq.read_table(f, use_threads=False), local_tmp_file_paths)
        table = pyarrow.concat_tables(tables)
    print(json.dumps({"rows": table.num_rows, "columns": table.num_columns, "table_bytes": table.nbytes,
                      "files": len(files)}), flush=True)
