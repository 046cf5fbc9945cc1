"""Makes the Iceberg benchmark's table once: the dataset_load taxi data (prepare_taxi.py)
re-written by hoist with the month column kept in the files, under
s3://hoist-bench-iceberg/<name>/, registered as bench.<name> in a SqlCatalog at
bench/cache/iceberg/catalog.db (warehouse s3://hoist-bench-iceberg/warehouse). Prints one JSON
line: the catalog URI, identifier, metadata location, files, bytes and the workloads' bytes."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = ROOT / "bench" / "cache" / "iceberg"
BUCKET = "hoist-bench-iceberg"
TWO = ["trip_distance", "total_amount"]


def main():
    quick = "--quick" in sys.argv
    src = json.loads(subprocess.run([sys.executable, str(ROOT / "bench" / "tools" / "prepare_taxi.py")]
                                    + (["--quick"] if quick else []), check=True, stdout=subprocess.PIPE,
                                    text=True).stdout.strip().splitlines()[-1])
    import pyarrow.parquet as pq

    import hoist

    name = "taxi_quick" if quick else "taxi_full"
    CACHE.mkdir(parents=True, exist_ok=True)
    uri = "sqlite:///%s" % (CACHE / "catalog.db")
    cat = hoist.iceberg.catalog(uri, warehouse="s3://%s/warehouse" % BUCKET)
    ident = "bench." + name
    stamp = CACHE / ("%s.%s.done" % (name, src["url"].replace("/", "_")))
    from pyiceberg.exceptions import NoSuchTableError

    usable = False
    try:
        cat.load_table(ident).inspect.files()
        usable = True
    except NoSuchTableError:
        pass
    except Exception:
        # the catalog is local but the table's metadata lives on the server, which was
        # reset since (scripts/s3-server keeps its data in a temp dir): start it afresh
        (CACHE / "catalog.db").unlink()
        cat = hoist.iceberg.catalog(uri, warehouse="s3://%s/warehouse" % BUCKET)
    if not (stamp.exists() and usable):
        with hoist.S3() as s3:
            try:
                s3.delete_many([o.url for o in s3.list_recursive(["s3://%s/%s/" % (BUCKET, name)])])
            except Exception:
                pass
        subprocess.run([str(ROOT / "build" / "hoist"), "mb", "s3://" + BUCKET], capture_output=True)
        print("  writing %s as an Iceberg table (once)" % ident, file=sys.stderr, flush=True)
        res = hoist.write_table(hoist.scan(src["url"]), "s3://%s/%s/" % (BUCKET, name), partition_by=["month"],
                                keep_partition_columns=True, compression="snappy", existing="overwrite")
        hoist.iceberg.register(cat, ident, res, replace=True)
        stamp.touch()
    table = cat.load_table(ident)
    files = table.inspect.files().to_pylist()
    size = sum(f["file_size_in_bytes"] for f in files)
    # bytes a workload needs: all of it, or the compressed chunks of its columns
    two = two_f = 0
    for f in files:
        with table.io.new_input(f["file_path"]).open() as fh:
            md = pq.ParquetFile(fh).metadata
            for rg in range(md.num_row_groups):
                for c in range(md.num_columns):
                    col = md.row_group(rg).column(c)
                    if col.path_in_schema in TWO:
                        two += col.total_compressed_size
                    if col.path_in_schema in TWO + ["passenger_count"]:
                        two_f += col.total_compressed_size
    print(json.dumps({"catalog": uri, "identifier": ident, "metadata_location": table.metadata_location,
                      "files": len(files), "rows": sum(f["record_count"] for f in files), "size": size,
                      "bytes": {"all": size, "two": two, "two_filtered": two_f}}))


if __name__ == "__main__":
    main()
