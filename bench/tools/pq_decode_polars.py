"""polars: polars.read_parquet(BytesIO). The harness sets POLARS_MAX_THREADS=1
for the single-threaded run (polars reads it once, at import)."""
import io

from _pqdecode import parse_args, run

path, threads, repeats = parse_args()
import polars as pl  # noqa: E402

data = open(path, "rb").read()
run(lambda: pl.read_parquet(io.BytesIO(data)), repeats,
    lambda df: (df.height, df.width, df.estimated_size()))
