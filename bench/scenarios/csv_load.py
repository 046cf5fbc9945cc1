"""Issue 11's benchmark: the seeds' format comparison (ParquetBenchmarkFlow:
one taxi month as CSV read with Python's `csv` module vs Parquet through
Arrow and pandas), reproduced on a generated taxi-like month, next to CSV →
Arrow with hoist and its peers.

Data (generated once into bench/cache/csv_load/ with the 18-column taxi
schema of bench/tools/prepare_taxi.py): one month of 10 M rows (the seeds'
December 2014 has ~13 M; --quick: 1 M), written as CSV by pyarrow
(~1.6 GB; --quick ~160 MB), as the same CSV gzip-compressed (level 1) and
as Parquet (snappy, 1 Mi-row row groups).

Workloads, each tool a child process (this file run as a script) so peak
RSS is its own; the CSV is read warm from the page cache:
- "seeds flow": `for row in csv.reader(f)` (the book's loop), `list(csv.reader)`
  (the book's ~17 GB of Python objects), pandas `read_parquet`, pyarrow
  `pq.read_table`, "hoist" = `hoist.load_table` of the Parquet (the ratios),
  and `hoist.read_csv` of the CSV.
- "CSV -> Arrow, all cores" / "1 thread" (plain) and "gzip, all cores":
  hoist.read_csv vs pyarrow.csv.read_csv, polars.read_csv, duckdb read_csv,
  and daft.read_csv (all cores only). hoist's table is taken with
  Table.to_pyarrow (zero-copy through the C stream; pa.table(obj) would
  import pandas first to ask whether obj is a DataFrame).
- "... from S3, all cores" (plain and gzip): the same files uploaded once
  to s3://hoist-bench-csv/ on the local S3 server; hoist.read_csv(s3://...)
  vs pyarrow (S3FileSystem stream), polars (scan_csv over s3://), duckdb
  (read_csv with the httpfs extension of the duckdb-ext-httpfs wheel) and
  daft (read_csv with an S3 IOConfig). duckdb and daft run in .venv-bench.
- "CSV -> partitioned Parquet on S3": the local CSV read and written back as
  a Hive-partitioned (payment_type), snappy Parquet dataset to a fresh prefix
  of s3://hoist-bench-csv/ each run, end to end in one process: `hoist
  convert` (hoist-cli) and hoist.read_csv + hoist.write_table (hoist) vs
  each peer's own read + write (pyarrow ds.write_dataset, polars
  write_parquet(partition_by), duckdb COPY ... (PARTITION_BY), daft
  write_parquet(partition_cols)). Every output is read back (row count,
  5 partitions) and deleted.
The CSV -> Arrow, S3 and conversion workloads run interleaved, HOIST_BENCH_ROUNDS
rounds (default 3): medians with [min, max] and ratios round by round.
Every child prints {"rows", "table_bytes"}; rows must agree. The book's
figures (16-core machine, real month) are in the notes for scale only.

HOIST_BENCH_PYTHONPATH, if set, is put first on every child's PYTHONPATH
(to measure a development build of the extension).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOOLS = ROOT / "bench" / "tools"

BOOK = ("the book (ParquetBenchmarkFlow, December 2014, 1.6 GB CSV): csv.reader loop 19.5 s, "
        "list(csv.reader) ~17 GB RSS, pyarrow Parquet 0.97 s, pandas Parquet 1.85 s")


# ---- the harness side -------------------------------------------------------

def run(ctx):
    from harness import Job, result_line  # bench/ is on sys.path when the harness runs us
    from scenarios._write_common import selected

    rows = 1_000_000 if ctx.quick else 10_000_000
    base_pp = os.environ.get("PYTHONPATH", "")
    pp = os.pathsep.join(p for p in (os.environ.get("HOIST_BENCH_PYTHONPATH", ""), str(TOOLS), base_pp) if p)
    env = {"PYTHONPATH": pp, "OPENBLAS_NUM_THREADS": "1"}
    me = [ctx.python, str(Path(__file__).resolve())]
    m = ctx.measure("prepare", "prepare (unmeasured)", me + ["prepare", str(rows)], env=env)
    files = result_line(m)
    ctx.measurements.remove(m)
    if not m.ok or not files:
        ctx.note("data preparation failed; nothing measured")
        return
    ctx.note("one taxi-like month: %d rows, CSV %.0f MiB, CSV.gz %.0f MiB, Parquet %.0f MiB"
             % (files["rows"], files["csv_bytes"] / 2**20, files["gz_bytes"] / 2**20, files["pq_bytes"] / 2**20))
    ctx.note(BOOK)
    ctx.note("load average when the scenario started: %.1f on %d cores (other jobs share the machine: with "
             "load above the core count wall times stretch, CPU-s less so)" % (os.getloadavg()[0], os.cpu_count() or 0))
    csv, gz, pq = files["csv"], files["gz"], files["parquet"]
    repeat = 1 if ctx.quick else 2
    # the CSV -> Arrow rows are the targets' figures: on a shared machine one
    # run each is noise, so even a quick run keeps the fastest of three
    repeat_csv = 3 if ctx.quick else 2

    # daft pins versions the test environment must not take: it runs in .venv-bench
    bench_py = ROOT / ".venv-bench" / "bin" / "python"

    def tool(name, workload, path, threads="0", nbytes=0, extra_env=None, label=None, reps=repeat):
        e = dict(env, **(extra_env or {}))
        argv = ([str(bench_py)] + me[1:]) if name == "daft" else me
        m = ctx.measure(label or name, workload, argv + [name, path, threads], bytes=nbytes, env=e, repeat=reps)
        r = result_line(m)
        if m.ok and r:
            m.rows = r["rows"]
            m.extra["table_bytes"] = r.get("table_bytes", 0)
            if r.get("table_bytes"):
                m.extra["peak_rss_over_table"] = round(m.peak_rss_mib * 2**20 / r["table_bytes"], 3)
            if r["rows"] != files["rows"]:
                ctx.note("%s on %s: %d rows, expected %d" % (name, workload, r["rows"], files["rows"]))
        return m

    base = ctx.measure("python + imports", "baseline", [ctx.python, "-c", "import pyarrow, pandas, polars, duckdb, hoist"],
                       env=env)
    ctx.note("CPU-s include starting Python and importing the tool (a process importing pyarrow, pandas, polars, "
             "duckdb and hoist: %.2f CPU-s, %.0f MiB); on a shared machine wall time is noisy, CPU-s steadier"
             % (base.cpu_s, base.peak_rss_mib))
    # The seeds' flow: hoist (its Parquet load) against the book's contenders,
    # and hoist's CSV read next to them.
    flow = "seeds flow"
    for name, label, path, n in (("csv_loop", "csv.reader loop (CSV)", csv, files["csv_bytes"]),
                                 ("csv_list", "list(csv.reader) (CSV)", csv, files["csv_bytes"]),
                                 ("pandas_parquet", "pandas read_parquet", pq, files["pq_bytes"]),
                                 ("pyarrow_parquet", "pyarrow read_table", pq, files["pq_bytes"]),
                                 ("hoist_parquet", "hoist", pq, files["pq_bytes"]),
                                 ("hoist", "hoist read_csv (CSV)", csv, files["csv_bytes"])):
        tool(name, flow, path, nbytes=n, label=label)
    ctx.compare(flow)

    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS", "3"))

    def job(name, workload, argv, nbytes, extra_env=None, expect_rows=files["rows"], after=None):
        def read_result(m, r):
            res = result_line(m)
            if m.ok and expect_rows is None:  # no result line (the CLI): rows are checked by reading back
                m.rows = files["rows"]
            elif m.ok and res:
                m.rows = res["rows"]
                m.extra["table_bytes"] = res.get("table_bytes", 0)
                if res.get("table_bytes"):
                    m.extra["peak_rss_over_table"] = round(m.peak_rss_mib * 2**20 / res["table_bytes"], 3)
                if res["rows"] != expect_rows:
                    m.ok, m.note = False, "%d rows, expected %d" % (res["rows"], expect_rows)
            if after is not None:
                after(m, r)
        return Job(name, workload, argv, env=dict(env, **(extra_env or {})), bytes=nbytes, after=read_result)

    def child(name):
        return ([str(bench_py)] + me[1:]) if name in ("daft",) or (name == "duckdb-s3") else me

    for workload, path, n, threads in (("CSV -> Arrow, all cores", csv, files["csv_bytes"], "0"),
                                       ("CSV -> Arrow, 1 thread", csv, files["csv_bytes"], "1"),
                                       ("CSV.gz -> Arrow, all cores", gz, files["gz_bytes"], "0")):
        # daft has no thread setting for its native runner: all-cores workloads only
        daft = ("daft",) if threads == "0" and bench_py.exists() else ()
        jobs = [job(name, workload, child(name) + [name, path, threads], n,
                    {"POLARS_MAX_THREADS": "1"} if threads == "1" else None)
                for name in ("hoist", "pyarrow", "polars", "duckdb") + daft if selected(name)]
        ctx.measure_interleaved(jobs, rounds=rounds)
        ctx.compare_interleaved(workload)

    if not all(os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")):
        ctx.note("S3 workloads skipped: the local S3 server's environment is not set (run through scripts/run-bench)")
        return
    urls = upload(ctx, [csv, gz])
    if urls is None:
        return
    peers = ("pyarrow", "polars") + (("duckdb-s3", "daft") if bench_py.exists() else ())
    for workload, url, n in (("CSV -> Arrow from S3, all cores", urls[0], files["csv_bytes"]),
                             ("CSV.gz -> Arrow from S3, all cores", urls[1], files["gz_bytes"])):
        jobs = [job(name.replace("-s3", ""), workload, child(name) + ["s3:" + name, url, "0"], n)
                for name in ("hoist",) + peers if selected(name.replace("-s3", ""))]
        ctx.measure_interleaved(jobs, rounds=rounds)
        ctx.compare_interleaved(workload)

    # CSV -> partitioned Parquet on S3, end to end: each run to a fresh prefix,
    # read back (rows, partitions) and deleted unmeasured.
    workload = "CSV -> partitioned Parquet on S3"

    def out_url(name, r):
        return "s3://%s/convert/%s-%d-%d/" % (BUCKET, name.replace(" ", "_"), os.getpid(), r)

    def checked(name):
        def after(m, r):
            if m.ok:
                res = subprocess.run(me + ["check", out_url(name, r)], env={**os.environ, **env},
                                     capture_output=True, text=True, timeout=600)
                got = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else None
                if not got or got["rows"] != files["rows"] or got["partitions"] != 5:
                    m.ok, m.note = False, "read back: %s" % (got or res.stderr.strip()[-300:])
            subprocess.run(me + ["remove", out_url(name, r)], env={**os.environ, **env}, capture_output=True,
                           timeout=600)
        return after

    jobs = []
    if selected("hoist-cli"):
        jobs.append(job("hoist-cli", workload,
                        lambda r: [ctx.hoist, "convert", csv, out_url("hoist-cli", r), "--partition-by",
                                   PARTITION_BY, "-q"],
                        files["csv_bytes"], expect_rows=None, after=checked("hoist-cli")))
    for name in ("hoist",) + peers:
        tool_name = name.replace("-s3", "")
        if selected(tool_name):
            jobs.append(job(tool_name, workload,
                            (lambda nm: lambda r: child(nm) + ["convert:" + nm.replace("-s3", ""), csv,
                                                               out_url(nm, r)])(name),
                            files["csv_bytes"], expect_rows=None, after=checked(name)))
    ctx.measure_interleaved(jobs, rounds=rounds)
    ctx.compare_interleaved(workload)
    ctx.compare_interleaved(workload, ours="hoist-cli")


BUCKET = "hoist-bench-csv"
PARTITION_BY = "payment_type"


def upload(ctx, paths):
    """The local files on s3://BUCKET/ (once: skipped when an object of the
    same size is there). Returns their URLs, or None after a note."""
    env = dict(os.environ)
    subprocess.run([ctx.hoist, "mb", "s3://" + BUCKET], env=env, capture_output=True, timeout=600)
    urls = []
    for p in paths:
        url = "s3://%s/%s" % (BUCKET, os.path.basename(p))
        info = subprocess.run([ctx.hoist, "info", url], env=env, capture_output=True, text=True, timeout=600)
        if info.returncode != 0 or str(os.path.getsize(p)) not in info.stdout.replace(",", ""):
            r = subprocess.run([ctx.hoist, "cp", p, url], env=env, capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                ctx.note("S3 workloads skipped: uploading %s failed: %s" % (p, r.stderr.strip()[-300:]))
                return None
        urls.append(url)
    return urls


# ---- the child side: one tool, one read ------------------------------------------

def prepare(rows: int) -> dict:
    import gzip
    import shutil

    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    sys.path.insert(0, str(TOOLS))
    from prepare_taxi import _month_table

    d = ROOT / "bench" / "cache" / "csv_load"
    d.mkdir(parents=True, exist_ok=True)
    stem = d / ("taxi-%d" % rows)
    csv, gz, parquet = Path(str(stem) + ".csv"), Path(str(stem) + ".csv.gz"), Path(str(stem) + ".parquet")
    if not (csv.exists() and gz.exists() and parquet.exists()):
        step = 1_000_000
        parts = [_month_table(min(step, rows - i), 12000 + i // step, 12) for i in range(0, rows, step)]
        t = pa.concat_tables(parts)
        pq.write_table(t, str(parquet) + ".tmp", row_group_size=1 << 20, compression="snappy")
        pcsv.write_csv(t, str(csv) + ".tmp")
        with open(str(csv) + ".tmp", "rb") as src, gzip.open(str(gz) + ".tmp", "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        for p in (parquet, csv, gz):
            os.rename(str(p) + ".tmp", p)
    return {"rows": rows, "csv": str(csv), "gz": str(gz), "parquet": str(parquet), "csv_bytes": csv.stat().st_size,
            "gz_bytes": gz.stat().st_size, "pq_bytes": parquet.stat().st_size}


def table_bytes(t) -> int:
    return int(t.nbytes) if hasattr(t, "nbytes") else 0


def read(tool: str, path: str, threads: int) -> dict:
    if tool == "csv_loop":
        import csv
        n = 0
        with open(path, newline="") as f:
            for _ in csv.reader(f):
                n += 1
        return {"rows": n - 1}
    if tool == "csv_list":
        import csv
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        return {"rows": len(rows) - 1}
    if tool == "pandas_parquet":
        import pandas as pd
        df = pd.read_parquet(path)
        return {"rows": len(df), "table_bytes": int(df.memory_usage(deep=False).sum())}
    if tool == "pyarrow_parquet":
        import pyarrow.parquet as pq
        t = pq.read_table(path)
        return {"rows": t.num_rows, "table_bytes": table_bytes(t)}
    if tool == "hoist_parquet":
        import hoist
        t = hoist.load_table(path, threads=threads or None).to_pyarrow()
        return {"rows": t.num_rows, "table_bytes": table_bytes(t)}
    if tool == "hoist":
        import hoist
        t = hoist.read_csv(path, threads=threads).to_pyarrow()
        return {"rows": t.num_rows, "table_bytes": table_bytes(t)}
    if tool == "pyarrow":
        import pyarrow.csv as pcsv
        t = pcsv.read_csv(path, read_options=pcsv.ReadOptions(use_threads=threads != 1))
        return {"rows": t.num_rows, "table_bytes": table_bytes(t)}
    if tool == "polars":
        import polars as pl
        df = pl.read_csv(path)
        return {"rows": df.height, "table_bytes": int(df.estimated_size())}
    if tool == "duckdb":
        import duckdb
        con = duckdb.connect()
        if threads:
            con.execute("SET threads=%d" % threads)
        r = con.sql("SELECT * FROM read_csv('%s')" % path.replace("'", "''")).arrow()
        t = r.read_all() if hasattr(r, "read_all") else r
        return {"rows": t.num_rows, "table_bytes": table_bytes(t)}
    if tool == "daft":
        import daft
        t = daft.read_csv(path).to_arrow()  # timestamps stay strings: daft does not infer them
        return {"rows": t.num_rows, "table_bytes": table_bytes(t)}
    raise SystemExit("unknown tool %r" % tool)


def s3_endpoint():
    scheme, _, host = os.environ["AWS_ENDPOINT_URL"].partition("://")
    return scheme, host.rstrip("/")


def pyarrow_s3():
    import pyarrow.fs as pafs
    scheme, host = s3_endpoint()
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, region=os.environ.get("AWS_REGION", "us-east-1"),
                             access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"])


def polars_s3():
    return {"aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"], "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
            "aws_region": os.environ.get("AWS_REGION", "us-east-1"), "aws_allow_http": "true"}


def daft_s3():
    import daft
    return daft.io.IOConfig(s3=daft.io.S3Config(
        endpoint_url=os.environ["AWS_ENDPOINT_URL"], key_id=os.environ["AWS_ACCESS_KEY_ID"],
        access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region_name=os.environ.get("AWS_REGION", "us-east-1"),
        anonymous=False))


def duckdb_s3():
    """A duckdb connection with the httpfs extension of the duckdb-ext-httpfs
    wheel LOADed from its path (nothing downloaded) and the server's secret."""
    import glob

    import duckdb
    import duckdb_ext
    found = glob.glob(os.path.join(list(duckdb_ext.__path__)[0], "extensions", "v" + duckdb.__version__, "*",
                                   "httpfs.duckdb_extension"))
    if not found:
        raise SystemExit("no httpfs extension for duckdb %s" % duckdb.__version__)
    con = duckdb.connect()
    con.execute("LOAD '%s'" % found[0])
    scheme, host = s3_endpoint()
    con.execute("CREATE SECRET (TYPE s3, KEY_ID '%s', SECRET '%s', ENDPOINT '%s', URL_STYLE 'path', USE_SSL %s, "
                "REGION '%s')" % (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], host,
                                  "true" if scheme == "https" else "false", os.environ.get("AWS_REGION", "us-east-1")))
    return con


def read_s3(tool: str, url: str) -> dict:
    """One CSV object read from the S3 server into an Arrow table (or a polars frame)."""
    if tool == "hoist":
        import hoist
        t = hoist.read_csv(url).to_pyarrow()
    elif tool == "pyarrow":
        import pyarrow.csv as pcsv
        # buffered: unbuffered, each of the CSV reader's block reads is its own
        # GET and the read takes ~5x longer
        with pyarrow_s3().open_input_stream(url[5:], compression="detect", buffer_size=8 << 20) as f:
            t = pcsv.read_csv(f)
    elif tool == "polars":
        import polars as pl
        df = pl.scan_csv(url, storage_options=polars_s3()).collect()
        return {"rows": df.height, "table_bytes": int(df.estimated_size())}
    elif tool == "duckdb-s3":
        con = duckdb_s3()  # kept referenced: the relation needs its connection open
        r = con.sql("SELECT * FROM read_csv('%s')" % url.replace("'", "''")).arrow()
        t = r.read_all() if hasattr(r, "read_all") else r
    elif tool == "daft":
        import daft
        t = daft.read_csv(url, io_config=daft_s3()).to_arrow()
    else:
        raise SystemExit("unknown tool %r" % tool)
    return {"rows": t.num_rows, "table_bytes": table_bytes(t)}


def convert(tool: str, src: str, out: str) -> dict:
    """The local CSV read and written to `out` (a fresh s3:// prefix) as a Hive-
    partitioned snappy Parquet dataset, by the tool's own reader and writer."""
    if tool == "hoist":
        import hoist
        t = hoist.read_csv(src)
        hoist.write_table(t, out, partition_by=PARTITION_BY)
        return {"rows": t.num_rows}
    if tool == "pyarrow":
        import pyarrow.csv as pcsv
        import pyarrow.dataset as ds
        t = pcsv.read_csv(src)
        ds.write_dataset(t, out[5:], filesystem=pyarrow_s3(), format="parquet", partitioning=[PARTITION_BY],
                         partitioning_flavor="hive", max_rows_per_group=1 << 20)
        return {"rows": t.num_rows}
    if tool == "polars":
        import polars as pl
        df = pl.read_csv(src)
        df.write_parquet(out, partition_by=[PARTITION_BY], storage_options=polars_s3(), compression="snappy")
        return {"rows": df.height}
    if tool == "duckdb":
        n = duckdb_s3().execute("COPY (SELECT * FROM read_csv('%s')) TO '%s' (FORMAT parquet, COMPRESSION snappy, "
                                "PARTITION_BY (%s))" % (src.replace("'", "''"), out.rstrip("/"), PARTITION_BY))
        return {"rows": n.fetchone()[0]}
    if tool == "daft":
        import daft
        df = daft.read_csv(src)
        df.write_parquet(out, partition_cols=[daft.col(PARTITION_BY)], io_config=daft_s3())
        return {"rows": None}  # daft reports the files written, not rows: the read-back counts them
    raise SystemExit("unknown tool %r" % tool)


def check(out: str) -> dict:
    """Rows and Hive partitions of the dataset under `out`, read back with pyarrow."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq
    fs = pyarrow_s3()
    root = out[5:].rstrip("/")
    # file by file (footers only): the peers disagree on whether the files
    # also hold the partition column, and in which string type
    rows, parts = 0, set()
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        if info.type == pafs.FileType.File and info.path.endswith(".parquet"):
            with fs.open_input_file(info.path) as f:
                rows += pq.ParquetFile(f).metadata.num_rows
            top = info.path[len(root) + 1:].split("/")[0]
            if "=" in top:
                parts.add(top)
    return {"rows": rows, "partitions": len(parts)}


def remove(out: str) -> None:
    import pyarrow.fs as pafs
    fs = pyarrow_s3()
    p = out[5:].rstrip("/")
    if fs.get_file_info(p).type != pafs.FileType.NotFound:
        fs.delete_dir(p)


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        print(json.dumps(prepare(int(sys.argv[2]))))
    elif sys.argv[1].startswith("s3:"):
        print(json.dumps(read_s3(sys.argv[1][3:], sys.argv[2])))
    elif sys.argv[1].startswith("convert:"):
        print(json.dumps(convert(sys.argv[1][8:], sys.argv[2], sys.argv[3])))
    elif sys.argv[1] == "check":
        print(json.dumps(check(sys.argv[2])))
    elif sys.argv[1] == "remove":
        remove(sys.argv[2])
    else:
        print(json.dumps(read(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
