"""duckdb read_parquet over s3:// with the httpfs extension (which duckdb
downloads on first use; exits 3 with the reason when it cannot be loaded)."""
import os
import sys
from urllib.parse import urlparse

import duckdb

import _common

url, workload = _common.parse_args()
con = duckdb.connect()
try:
    con.execute("LOAD httpfs")
except Exception as first:
    try:
        con.execute("INSTALL httpfs")
        con.execute("LOAD httpfs")
    except Exception as e:
        print("httpfs unavailable: %s" % str(e).splitlines()[0], file=sys.stderr)
        sys.exit(3)
ep = urlparse(_common.endpoint())
con.execute("SET s3_endpoint='%s'" % ep.netloc)
con.execute("SET s3_use_ssl=%s" % ("true" if ep.scheme == "https" else "false"))
con.execute("SET s3_url_style='path'")
con.execute("SET s3_access_key_id='%s'" % os.environ["AWS_ACCESS_KEY_ID"])
con.execute("SET s3_secret_access_key='%s'" % os.environ["AWS_SECRET_ACCESS_KEY"])
con.execute("SET s3_region='%s'" % os.environ.get("AWS_REGION", "us-east-1"))
cols = _common.COLUMNS[workload]
sel = "*" if cols is None else ", ".join(cols)
where = " WHERE passenger_count > 1" if workload in _common.FILTERED else ""
t = con.execute("SELECT %s FROM read_parquet('%s**/*.parquet', hive_partitioning=true)%s"
                % (sel, url if url.endswith("/") else url + "/", where)).fetch_arrow_table()
_common.report(t.num_rows, t.num_columns, t.nbytes)
