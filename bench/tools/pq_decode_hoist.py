"""hoist: hoist.read_parquet(bytes, threads=1|0), imported into pyarrow zero
copy through the Arrow C stream (pa.RecordBatchReader.from_stream().read_all()).

Not pa.table(obj): pyarrow's table() asks "is this a pandas DataFrame?" before
it looks for __arrow_c_stream__, and that question imports pandas (0.25-0.4
CPU-s here) the first time it is asked -- which would land inside the timed
first ("cold") decode of this tool only; the peers' tools never import pandas."""
from _pqdecode import parse_args, run

path, threads, repeats = parse_args()
import pyarrow as pa  # noqa: E402
import hoist  # noqa: E402

data = open(path, "rb").read()
run(lambda: pa.RecordBatchReader.from_stream(hoist.read_parquet(data, threads=threads)).read_all(), repeats,
    lambda t: (t.num_rows, t.num_columns, t.nbytes))
