"""Makes the write benchmarks' input tables once, as uncompressed Arrow IPC
files in bench/cache/ (each tool reads one into memory before its clock
starts), and prints one JSON line describing it. Run as a child of the
harness so that the harness process stays small.

--taxi ROWS: the 18-column taxi table of pq_prepare.py (same generator and
    seeds, 1 Mi-row batches), for parquet_write.
--dataset quick|full: the taxi dataset of dataset_load (prepare_taxi.py, its
    Parquet files generated once in bench/cache/taxi-*/) read back into one
    table with its Hive `month` column, for dataset_write.
--dataset-rows ROWS: a small table of the same form (ROWS/12 per month, made
    directly), for developing dataset_write.
--bucket NAME: also makes sure the bucket exists on the S3 server."""
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CACHE = HERE.parent.parent / "bench" / "cache"


def log(msg):
    print("  " + msg, file=sys.stderr, flush=True)


def write_ipc(path, schema, batches):
    import pyarrow as pa
    tmp = path.with_suffix(".tmp")
    with pa.OSFile(str(tmp), "wb") as f, pa.ipc.new_file(f, schema) as w:
        for b in batches:
            w.write_batch(b)
    tmp.rename(path)


def taxi(rows):
    from prepare_taxi import _month_table
    path = CACHE / "pq_write" / ("taxi-%d.arrow" % rows)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        log("generating %s" % path)
        chunk = 1 << 20
        first = _month_table(min(chunk, rows), 7000, 1)

        def batches():
            yield from first.combine_chunks().to_batches()
            for i, start in enumerate(range(chunk, rows, chunk), 1):
                yield from _month_table(min(chunk, rows - start), 7000 + i, 1 + i % 12).combine_chunks().to_batches()
        write_ipc(path, first.schema, batches())
    return path


def dataset(kind):
    import pyarrow.dataset as ds
    from prepare_taxi import ensure_dataset
    root, files, size, rows, _ = ensure_dataset(kind == "quick")
    path = CACHE / "dataset_write" / ("%s.arrow" % root.parent.name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        log("writing %s from %s" % (path, root))
        d = ds.dataset(str(root), format="parquet", partitioning="hive")
        write_ipc(path, d.schema, d.to_batches(batch_size=1 << 20))
    return path, size, root


def small_dataset(rows):
    import pyarrow as pa
    from prepare_taxi import _month_table
    path = CACHE / "dataset_write" / ("taxi-rows-%d.arrow" % rows)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = []
        for month in range(1, 13):
            t = _month_table(rows // 12 + (1 if month <= rows % 12 else 0), month * 1000, month)
            parts.append(t.append_column("month", pa.array([month] * t.num_rows, pa.int32())))
        t = pa.concat_tables(parts).combine_chunks()
        write_ipc(path, t.schema, t.to_batches(max_chunksize=1 << 20))
    return path


def ensure_bucket(bucket):
    import pyarrow.fs as pafs
    scheme, _, host = os.environ["AWS_ENDPOINT_URL"].partition("://")
    fs = pafs.S3FileSystem(endpoint_override=host.rstrip("/"), scheme=scheme, region="us-east-1",
                           access_key=os.environ["AWS_ACCESS_KEY_ID"],
                           secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], allow_bucket_creation=True)
    if fs.get_file_info(bucket).type == pafs.FileType.NotFound:
        fs.create_dir(bucket)


def main():
    import pyarrow as pa
    a = sys.argv[1:]
    out = {}
    if "--taxi" in a:
        path = taxi(int(a[a.index("--taxi") + 1]))
    elif "--dataset-rows" in a:
        path = small_dataset(int(a[a.index("--dataset-rows") + 1]))
    elif "--dataset" in a:
        path, out["source_parquet_bytes"], root = dataset(a[a.index("--dataset") + 1])
        out["source_root"] = str(root)
    else:
        sys.exit("usage: write_prepare.py --taxi ROWS | --dataset quick|full | --dataset-rows ROWS [--bucket NAME]")
    if "--bucket" in a:
        ensure_bucket(a[a.index("--bucket") + 1])
    with pa.memory_map(str(path)) as src:
        r = pa.ipc.open_file(src)
        t = r.read_all()
        out.update({"path": str(path), "rows": t.num_rows, "columns": t.num_columns,
                    "table_bytes": t.nbytes, "file_bytes": path.stat().st_size,
                    "schema": [f"{f.name}: {f.type}" for f in t.schema]})
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
