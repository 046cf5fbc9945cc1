"""duckdb: COPY ... TO (FORMAT parquet, ...), PARTITION_BY for a dataset, to
s3:// with the httpfs extension from the duckdb-ext-httpfs wheel (LOADed from
its path: nothing is downloaded). The table is copied into a DuckDB table
before the clock starts (DuckDB writes from its own storage, as a DuckDB user
would). Arguments: see _pqwrite.py."""
import glob
import os

import _pqwrite

a = _pqwrite.parse_args()
import duckdb  # noqa: E402

con = duckdb.connect()
con.execute("SET threads=%d" % (1 if a["threads"] == 1 else (os.cpu_count() or 1)))
out = a["output"]
if out.startswith("s3://"):
    import duckdb_ext
    found = glob.glob(os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v" + duckdb.__version__,
                                   "*", "httpfs.duckdb_extension"))
    if not found:
        raise SystemExit("httpfs extension for duckdb %s not in %s" % (duckdb.__version__, duckdb_ext.__path__))
    con.execute("LOAD '%s'" % found[0])
    scheme, host = _pqwrite.s3_endpoint()
    con.execute("CREATE SECRET (TYPE s3, KEY_ID '%s', SECRET '%s', ENDPOINT '%s', URL_STYLE 'path', "
                "USE_SSL %s, REGION 'us-east-1')" % (os.environ["AWS_ACCESS_KEY_ID"],
                                                     os.environ["AWS_SECRET_ACCESS_KEY"], host,
                                                     "true" if scheme == "https" else "false"))
t = _pqwrite.load_table(a["input"])
rows = t.num_rows
con.register("src", t)
con.execute("CREATE TABLE tbl AS SELECT * FROM src")
con.unregister("src")
del t
opts = ["FORMAT parquet", "COMPRESSION %s" % a["codec"], "ROW_GROUP_SIZE %d" % _pqwrite.ROW_GROUP_ROWS]
if a["level"] is not None:
    opts.append("COMPRESSION_LEVEL %d" % a["level"])
if a["partition_by"]:
    opts.append("PARTITION_BY (%s)" % a["partition_by"])
target = out.rstrip("/") if a["partition_by"] else out
_pqwrite.timed(lambda: con.execute("COPY tbl TO '%s' (%s)" % (target, ", ".join(opts))), rows)
