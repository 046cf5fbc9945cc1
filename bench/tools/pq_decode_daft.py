"""daft: daft.read_parquet(path).to_arrow() on the native runner (num_threads=1 for the
single-threaded run). daft reads files, not bytes in memory: the harness gives it the
/dev/shm copy, as it does duckdb. Runs in .venv-bench."""
from _pqdecode import parse_args, run

path, threads, repeats = parse_args()
import daft  # noqa: E402

daft.set_runner_native(num_threads=1 if threads == 1 else None)
run(lambda: daft.read_parquet(path).to_arrow(), repeats, lambda t: (t.num_rows, t.num_columns, t.nbytes))
