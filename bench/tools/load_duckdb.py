"""duckdb read_parquet over s3:// with the httpfs extension of the duckdb-ext-httpfs
wheel, LOADed from its path (nothing is downloaded; runs in .venv-bench, where
duckdb == the wheel's version). Exits 3 with the reason when it cannot be loaded."""
import glob
import os
import sys
from urllib.parse import urlparse

import duckdb

import _common

url, workload = _common.parse_args()
con = duckdb.connect()
try:
    import duckdb_ext

    found = glob.glob(os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v" + duckdb.__version__, "*",
                                   "httpfs.duckdb_extension"))
    if not found:
        raise RuntimeError("no httpfs extension for duckdb %s in %s" % (duckdb.__version__, duckdb_ext.__path__))
    con.execute("LOAD '%s'" % found[0])
except Exception as e:
    print("httpfs unavailable: %s" % str(e).splitlines()[0], file=sys.stderr)
    sys.exit(3)
ep = urlparse(_common.endpoint())
con.execute("CREATE SECRET (TYPE s3, KEY_ID '%s', SECRET '%s', ENDPOINT '%s', URL_STYLE 'path', USE_SSL %s, "
            "REGION '%s')" % (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], ep.netloc,
                              "true" if ep.scheme == "https" else "false",
                              os.environ.get("AWS_REGION", "us-east-1")))
cols = _common.COLUMNS[workload]
sel = "*" if cols is None else ", ".join(cols)
where = " WHERE " + _common.FILTER_EXPR if workload in _common.FILTERED else ""
t = con.execute("SELECT %s FROM read_parquet('%s**/*.parquet', hive_partitioning=true)%s"
                % (sel, url if url.endswith("/") else url + "/", where)).fetch_arrow_table()
_common.report(t.num_rows, t.num_columns, t.nbytes)
