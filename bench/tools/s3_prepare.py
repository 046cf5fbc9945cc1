"""Prepares the python_s3 scenario's data once: a taxi-like Parquet dataset
(~500 MB; --quick ~100 MB) generated with pyarrow into bench/cache/ and
uploaded to the local S3 server (reusing prepare_taxi's generator and
uploader). Prints one JSON line: url, files, size, rows."""
import json
import sys

import prepare_taxi as pt


def main():
    quick = "--quick" in sys.argv[1:]
    # ~62 bytes per row (prepare_taxi's schema, snappy): 12 months x files x rows.
    name, rows, files = ("taxi-100m", 140_000, 1) if quick else ("taxi-500m", 340_000, 2)
    root = pt.CACHE / name / "parquet"
    done = pt.CACHE / name / "COMPLETE"
    if not done.exists():
        pt.log("generating %s (once; cached in %s)" % (name, pt.CACHE / name))
        pt.generate(root, pt.CACHE / name / "csv", rows, files, pt.log)
        done.write_text(json.dumps({"rows_per_file": rows, "files_per_month": files}))
    paths = pt.parquet_files(root)
    url = pt.ensure_uploaded(root, paths, "%s/%s" % (pt.PREFIX, name))
    print(json.dumps({"url": url, "files": len(paths), "size": sum(p.stat().st_size for p in paths),
                      "rows": 12 * files * rows}), flush=True)


if __name__ == "__main__":
    main()
