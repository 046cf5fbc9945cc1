"""duckdb: iceberg_scan('<metadata.json>') with the iceberg, avro and httpfs extensions of the
duckdb-ext-* wheels, LOADed from their paths (runs in .venv-bench; nothing is downloaded).
First argument: the table's metadata location (duckdb reads Iceberg metadata itself)."""
import glob
import os
import sys
from urllib.parse import urlparse

import _common

if len(sys.argv) != 4 or sys.argv[3] not in _common.COLUMNS:
    sys.exit("usage: %s METADATA_LOCATION IDENTIFIER WORKLOAD" % sys.argv[0])
metadata, _, workload = sys.argv[1:]
import duckdb  # noqa: E402
import duckdb_ext  # noqa: E402

con = duckdb.connect()
for ext in ("httpfs", "avro", "iceberg"):
    found = glob.glob(os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v" + duckdb.__version__, "*",
                                   ext + ".duckdb_extension"))
    if not found:
        sys.exit("%s extension for duckdb %s not installed (scripts/setup-deps --bench)" % (ext, duckdb.__version__))
    con.execute("LOAD '%s'" % found[0])
ep = urlparse(_common.endpoint())
con.execute("CREATE SECRET (TYPE s3, KEY_ID '%s', SECRET '%s', ENDPOINT '%s', URL_STYLE 'path', USE_SSL %s, "
            "REGION '%s')" % (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], ep.netloc,
                              "true" if ep.scheme == "https" else "false", os.environ.get("AWS_REGION", "us-east-1")))
cols = _common.COLUMNS[workload]
sel = "*" if cols is None else ", ".join(cols)
where = " WHERE " + _common.FILTER_EXPR if workload in _common.FILTERED else ""
t = con.execute("SELECT %s FROM iceberg_scan('%s')%s" % (sel, metadata, where)).fetch_arrow_table()
_common.report(t.num_rows, t.num_columns, t.nbytes)
