"""Checks what a write tool wrote, so that a broken writer cannot win: reads
it back with pyarrow and prints one JSON line {rows, files, bytes,
partitions}, then deletes it (--delete). OUTPUT is a local .parquet file or
directory, or an s3:// prefix. --full decodes every row group (the row count
is then what pyarrow decoded); otherwise rows come from the footers.
`bytes` counts the .parquet files only (not markers such as _SUCCESS).

usage: write_check.py OUTPUT [--full] [--delete]"""
import json
import os
import shutil
import sys

import pyarrow.fs as pafs
import pyarrow.parquet as pq


def filesystem(out):
    if out.startswith("s3://"):
        scheme, _, host = os.environ["AWS_ENDPOINT_URL"].partition("://")
        fs = pafs.S3FileSystem(endpoint_override=host.rstrip("/"), scheme=scheme, region="us-east-1",
                               access_key=os.environ["AWS_ACCESS_KEY_ID"],
                               secret_key=os.environ["AWS_SECRET_ACCESS_KEY"])
        return fs, out[5:].rstrip("/")
    return pafs.LocalFileSystem(), os.path.abspath(out)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__.strip().splitlines()[-1])
    out = args[0]
    full, delete = "--full" in sys.argv, "--delete" in sys.argv
    fs, base = filesystem(out)
    info = fs.get_file_info(base)
    if info.type == pafs.FileType.File:
        files = [info]
    elif info.type == pafs.FileType.Directory:
        files = [f for f in fs.get_file_info(pafs.FileSelector(base, recursive=True))
                 if f.type == pafs.FileType.File and f.path.endswith(".parquet")]
    else:
        sys.exit("%s: nothing was written" % out)
    if not files:
        sys.exit("%s: no .parquet file under it" % out)
    partitions = sorted({os.path.dirname(f.path)[len(base):].strip("/") for f in files} - {""})
    if full:
        rows = 0
        for f in files:
            with fs.open_input_file(f.path) as fh:
                pf = pq.ParquetFile(fh)
                for i in range(pf.num_row_groups):
                    rows += pf.read_row_group(i).num_rows
    else:
        rows = sum(pq.ParquetFile(fs.open_input_file(f.path)).metadata.num_rows for f in files)
    print(json.dumps({"rows": rows, "files": len(files), "bytes": sum(f.size for f in files),
                      "partitions": len(partitions)}), flush=True)
    if delete:
        if info.type == pafs.FileType.File:
            fs.delete_file(base)
        elif out.startswith("s3://"):
            fs.delete_dir(base)
        else:
            shutil.rmtree(base)


if __name__ == "__main__":
    main()
