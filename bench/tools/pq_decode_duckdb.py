"""duckdb: SELECT * FROM read_parquet(file on /dev/shm) into an Arrow table
(the same output as the others); SET threads=1 for the single-threaded run.
duckdb cannot scan a Python bytes object, so its input is a tmpfs file: the
page cache plays the part of the in-memory buffer."""
from _pqdecode import parse_args, run

path, threads, repeats = parse_args()
import duckdb  # noqa: E402

con = duckdb.connect()
if threads == 1:
    con.execute("SET threads=1")
q = "SELECT * FROM read_parquet('%s')" % path.replace("'", "''")


def decode():
    rel = con.sql(q)
    # duckdb 2 renamed fetch_arrow_table to to_arrow_table
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()


run(decode, repeats, lambda t: (t.num_rows, t.num_columns, t.nbytes))
