"""Shared by the write tools (pqw_*.py, dsw_*.py): load the input table into
memory before the clock starts, time only the write (wall and CPU of the
whole process, all threads), and print the one JSON result line the
scenarios read.

Usage of every tool: TOOL INPUT.arrow OUTPUT THREADS COMPRESSION [PARTITION_BY]
  THREADS: 1, or 0 for all cores; COMPRESSION: snappy, or zstd:LEVEL;
  PARTITION_BY: a column name (dataset writes), or absent (one file)."""
import json
import os
import resource
import sys
import time

ROW_GROUP_ROWS = 1 << 20  # pyarrow's default; every tool is asked for it where it can be


def parse_args():
    a = sys.argv[1:]
    if len(a) not in (4, 5) or a[2] not in ("0", "1"):
        sys.exit("usage: %s INPUT.arrow OUTPUT THREADS(1|0) COMPRESSION [PARTITION_BY]" % sys.argv[0])
    codec, _, level = a[3].partition(":")
    return {"input": a[0], "output": a[1], "threads": int(a[2]), "codec": codec,
            "level": int(level) if level else None, "compression": a[3],
            "partition_by": a[4] if len(a) == 5 else None}


def load_table(path):
    """The Arrow IPC file read fully into anonymous memory (not mapped), so
    the write does not pay for page faults on its input; the table's buffers
    point into that one allocation (no copy)."""
    import pyarrow as pa
    with open(path, "rb") as f:
        buf = pa.py_buffer(f.read())
    return pa.ipc.open_file(pa.BufferReader(buf)).read_all()


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(write, rows, **extra):
    """Runs write() once and prints the result line: the write's wall and CPU
    seconds, the RSS just before it (the input table and the libraries) and
    the row count the tool was given."""
    before = rss_mib()
    c0, t0 = _cpu(), time.perf_counter()
    write()
    t1, c1 = time.perf_counter(), _cpu()
    d = {"write_s": round(t1 - t0, 4), "write_cpu_s": round(c1 - c0, 3),
         "rss_before_write_mib": round(before, 1), "rows": int(rows)}
    d.update(extra)
    print(json.dumps(d), flush=True)


def s3_endpoint():
    """(scheme, host:port) of AWS_ENDPOINT_URL."""
    ep = os.environ["AWS_ENDPOINT_URL"]
    scheme, _, host = ep.partition("://")
    return scheme, host.rstrip("/")


def split_s3(url):
    assert url.startswith("s3://"), url
    return url[5:].partition("/")[0], url[5:].partition("/")[2]
