"""pyarrow: pyarrow.parquet.read_table(BufferReader, use_threads=False|True)."""
from _pqdecode import parse_args, run

path, threads, repeats = parse_args()
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

buf = pa.py_buffer(open(path, "rb").read())
run(lambda: pq.read_table(pa.BufferReader(buf), use_threads=threads != 1), repeats,
    lambda t: (t.num_rows, t.num_columns, t.nbytes))
