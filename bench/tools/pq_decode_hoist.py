"""hoist: hoist.read_parquet(bytes, threads=1|0) then pyarrow.table() (zero copy)."""
from _pqdecode import parse_args, run

path, threads, repeats = parse_args()
import pyarrow as pa  # noqa: E402
import hoist  # noqa: E402

data = open(path, "rb").read()
run(lambda: pa.table(hoist.read_parquet(data, threads=threads)), repeats,
    lambda t: (t.num_rows, t.num_columns, t.nbytes))
