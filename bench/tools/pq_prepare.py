"""Makes the Parquet decode benchmark's two files once (bench/cache/pq_decode/)
and copies them to /dev/shm for duckdb; prints one JSON line describing them.
Run as a child of the harness so that the harness process stays small.

(a) taxi: the 18 columns of the NYC taxi schema (dictionary strings,
    timestamps, float32/float64, int8), written by pyarrow with snappy and its
    default row groups (1 Mi rows).
(b) wide: 300 float32 columns of normal noise (like the seeds' Ubiquant
    features), snappy, default row groups."""
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = ROOT / "bench" / "cache" / "pq_decode"
SHM = Path("/dev/shm") / ("hoist-bench-pq-%d" % os.getuid())


def log(msg):
    print("  " + msg, file=sys.stderr, flush=True)


def make_taxi(path, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq
    sys.path.insert(0, str(HERE))
    from prepare_taxi import _month_table

    chunk = 1 << 20
    w = None
    try:
        for i, start in enumerate(range(0, rows, chunk)):
            t = _month_table(min(chunk, rows - start), 7000 + i, 1 + i % 12)
            if w is None:
                w = pq.ParquetWriter(path, t.schema, compression="snappy")
            w.write_table(t, row_group_size=chunk)
    finally:
        if w is not None:
            w.close()
    del pa


def make_wide(path, rows, ncols=300):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(42)
    schema = pa.schema([("f_%d" % i, pa.float32()) for i in range(ncols)])
    chunk = 1 << 18
    with pq.ParquetWriter(path, schema, compression="snappy") as w:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            cols = [pa.array(rng.standard_normal(n, dtype=np.float32)) for _ in range(ncols)]
            # one row group per 1 Mi rows, as pyarrow's default would cut it
            w.write_table(pa.table(cols, schema=schema), row_group_size=1 << 20)


def main():
    quick = "--quick" in sys.argv
    taxi_rows = 2_000_000 if quick else 10_000_000
    wide_rows = 200_000 if quick else 1_000_000
    CACHE.mkdir(parents=True, exist_ok=True)
    SHM.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, rows, make in (("taxi", taxi_rows, make_taxi), ("wide", wide_rows, make_wide)):
        path = CACHE / ("%s-%d.parquet" % (name, rows))
        if not path.exists():
            log("generating %s (%d rows)" % (path, rows))
            tmp = path.with_suffix(".tmp")
            make(str(tmp), rows)
            tmp.rename(path)
        shm = SHM / path.name
        if not shm.exists() or shm.stat().st_size != path.stat().st_size:
            shutil.copyfile(path, shm)
        import pyarrow.parquet as pq
        md = pq.ParquetFile(str(path)).metadata
        out[name] = {"path": str(path), "shm_path": str(shm), "rows": md.num_rows, "columns": md.num_columns,
                     "row_groups": md.num_row_groups, "size": path.stat().st_size,
                     "uncompressed": sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
