"""One engine (ray | dask | spark) on a minimal local cluster, reading the
taxi dataset with hoist's adapter and with the engine's own Parquet reader,
all columns and two columns, interleaved (hoist, own, hoist, own, ...).

Usage: engines_load.py ENGINE S3_URL LOCAL_PARQUET_DIR [--rounds N]

Prints one JSON line per read: engine, reader, workload, round, read_s (the
read alone, the cluster already up), rows, workers_peak_rss_mib (the largest
sum of RSS over the driver's descendant processes -- the engine's workers,
raylet/scheduler/JVM included -- sampled every 0.1 s during the read),
workers_cpu_s (user+system CPU those processes spent during the read) and
driver_cpu_s (the driver's own, planning and scheduling included).

Before the timed reads, each reader reads one column once, untimed (the
workers start and import both readers; the JVM loads its classes), so the
first timed read does not pay for the cluster's warm-up alone. Dask: before
each read the workers drop the previous read's partitions and return freed
heap to the OS. Ray: its object store keeps the shared memory it has used
mapped, so its RSS is a high-water mark over the run (each read's figure
includes the largest earlier one).

The engines' own readers: ray.data.read_parquet and dask.dataframe.read_parquet
over pyarrow's S3FileSystem on the same S3 URL; Spark's spark.read.parquet
over LOCAL_PARQUET_DIR (the same files on local disk: s3a needs the
hadoop-aws jar, which cannot be fetched offline), so Spark's own reader does
no network I/O at all and the comparison favours it.
"""
import json
import os
import sys
import threading
import time

import psutil

TWO = ["trip_distance", "total_amount"]


class Sampler:
    """Peak RSS and CPU-seconds of the driver's descendants during a read.

    Every 0.1 s: the RSS of every descendant process (summed; the peak is
    kept) and each one's user+system CPU time (the last value seen per
    process). CPU of the read = for each process, its last value minus its
    value at the start (0 for a process started during the read), plus the
    driver's own. A process that exits between two samples loses at most
    0.1 s of its CPU; the engines' workers live through the whole run."""

    def __init__(self):
        self.me = psutil.Process()
        self.peak = 0
        self.start_cpu = {}
        self.last_cpu = {}
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def sample(self):
        total = 0
        try:
            kids = self.me.children(recursive=True)
        except psutil.Error:
            kids = []
        for p in kids:
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    c = p.cpu_times()
                    self.last_cpu[(p.pid, p.create_time())] = c.user + c.system
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)

    def run(self):
        while not self.stop.is_set():
            self.sample()
            time.sleep(0.1)

    def __enter__(self):
        self.sample()
        self.start_cpu = dict(self.last_cpu)
        self.peak = 0
        c = self.me.cpu_times()
        self.driver0 = c.user + c.system
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join()
        self.sample()
        c = self.me.cpu_times()
        self.driver_cpu = c.user + c.system - self.driver0
        self.workers_cpu = sum(v - self.start_cpu.get(k, 0.0) for k, v in self.last_cpu.items())


def trim():
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()  # jemalloc/mimalloc keep freed pages for a while
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def s3fs():
    import pyarrow.fs as pafs

    scheme, host = os.environ["AWS_ENDPOINT_URL"].split("://", 1)
    return pafs.S3FileSystem(endpoint_override=host, scheme=scheme, region=os.environ.get("AWS_REGION", "us-east-1"))


def measure(engine, reader, workload, rnd, fn, rows_of=None, settle=None):
    """Times fn() (the read); rows_of(fn's result), untimed, gives the rows
    when counting them would be a second read. settle(), untimed, runs
    first: it waits until the workers let go of the previous read's data, so
    a read's peak RSS is its own, not its predecessor's leftovers."""
    if settle is not None:
        settle()
    with Sampler() as s:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
    rows = rows_of(out) if rows_of else out
    print(json.dumps({"engine": engine, "reader": reader, "workload": workload, "round": rnd, "read_s": round(dt, 3),
                      "rows": int(rows), "workers_peak_rss_mib": round(s.peak / 2**20, 1),
                      "workers_cpu_s": round(s.workers_cpu, 2), "driver_cpu_s": round(s.driver_cpu, 2)}), flush=True)


def run_ray(url, local, rounds):
    import logging

    import ray

    import hoist.ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    key = url[len("s3://"):]

    def own(cols):  # Ray 2.60's way to project (columns= is deprecated)
        ds = ray.data.read_parquet(key, filesystem=s3fs())
        return ds.select_columns(cols) if cols else ds

    try:
        # Untimed: start the worker processes and import both readers in
        # them, so that the first timed read does not pay for it alone.
        hoist.ray.read_dataset(url, columns=TWO[:1]).materialize().count()
        own(TWO[:1]).materialize().count()
        for r in range(rounds):
            for wl, cols in (("all", None), ("two", TWO)):
                measure("ray", "hoist", wl, r, lambda: hoist.ray.read_dataset(url, columns=cols).materialize().count())
                measure("ray", "own", wl, r, lambda: own(cols).materialize().count())
    finally:
        ray.shutdown()


def run_dask(url, local, rounds):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import hoist.dask

    from distributed import wait

    key = url[len("s3://"):]

    def persisted(ddf):
        # The partitions stay in the workers (as Ray's materialize keeps
        # blocks in its object store): what is timed is the read, not a
        # transfer of every row to the client.
        p = client.persist(ddf)
        wait(p)
        return p

    def rows(p):  # counted on the persisted partitions themselves (no new graph)
        return sum(client.gather(client.map(len, client.futures_of(p))))

    def settle():
        # Releasing a persisted collection is asynchronous: wait until the
        # workers hold no keys, then hand freed heap back to the OS in each
        # (both readers alike: glibc keeps freed arenas, Arrow's jemalloc
        # its freed pages for a while, and the next read would be charged).
        deadline = time.time() + 30
        while time.time() < deadline and any(client.run(lambda dask_worker: len(dask_worker.data)).values()):
            time.sleep(0.1)
        client.run(trim)

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c, Client(c) as client:
        for warm in (hoist.dask.read_dataset(url, columns=TWO[:1]), dd.read_parquet(key, columns=TWO[:1],
                                                                                    filesystem=s3fs())):
            len(warm)  # untimed: both readers imported in the workers
        for r in range(rounds):
            for wl, cols in (("all", None), ("two", TWO)):
                measure("dask", "hoist", wl, r, lambda: persisted(hoist.dask.read_dataset(url, columns=cols)),
                        rows, settle)
                measure("dask", "own", wl, r, lambda: persisted(dd.read_parquet(key, columns=cols, filesystem=s3fs())),
                        rows, settle)


def floor_source(ipc_dir):
    """A Python data source with no I/O and no decoding: each partition
    memory-maps one Arrow IPC file (written, untimed, from hoist's scan of the
    same shard: the same batches hoist's reader yields) and yields its
    batches. What it costs is what Spark's Python data source API costs by
    itself: the Python worker, the Arrow stream to the JVM, the JVM's rows."""
    import glob

    import pyarrow as pa
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
    from pyspark.sql.pandas.types import from_arrow_schema

    files = sorted(glob.glob(os.path.join(ipc_dir, "*.arrow")))
    with pa.memory_map(files[0]) as f:
        schema = pa.ipc.open_file(f).schema

    class Part(InputPartition):
        def __init__(self, path):
            self.path = path

    class Reader(DataSourceReader):
        def partitions(self):
            return [Part(f) for f in files]

        def read(self, part):
            import pyarrow as pa

            with pa.memory_map(part.path) as f:
                r = pa.ipc.open_file(f)
                for i in range(r.num_record_batches):
                    yield r.get_batch(i)

    class Floor(DataSource):
        @classmethod
        def name(cls):
            return "hoist_bench_floor"

        def schema(self):
            return from_arrow_schema(schema, prefer_timestamp_ntz=True)

        def reader(self, schema):
            return Reader()

    return Floor


def write_floor_files(url, cols, ipc_dir, n):
    """hoist's batches of each of the n shards the Spark reader plans, as
    Arrow IPC files, cast to the Arrow form of the Spark schema (as the
    reader casts them)."""
    import shutil

    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    import hoist

    shutil.rmtree(ipc_dir, ignore_errors=True)
    os.makedirs(ipc_dir)
    for i, sh in enumerate(hoist.shards(url, n, columns=cols)):
        with hoist.scan(sh, columns=cols) as sc:
            target = to_arrow_schema(from_arrow_schema(sc.schema, prefer_timestamp_ntz=True))
            with pa.OSFile(os.path.join(ipc_dir, "%03d.arrow" % i), "wb") as f, pa.ipc.new_file(f, target) as w:
                for b in sc:
                    w.write_batch(b if b.schema.equals(target) else b.cast(target))


def run_spark(url, local, rounds):
    import tempfile

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import hoist.spark

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    hoist.spark.register(spark)
    noop = "noop"  # Spark's no-op sink: every row is produced, nothing is kept
    nshards = 2 * (os.cpu_count() or 1)  # what hoist.spark's reader asks for by default
    tmp = tempfile.mkdtemp(prefix="hoist-spark-floor-")
    floors = {}
    for wl, cols in (("all", None), ("two", TWO)):
        d = os.path.join(tmp, wl)
        write_floor_files(url, cols, d, nshards)
        floors[wl] = floor_source(d)
    try:
        # Untimed: the JVM's first queries (class loading, JIT) and the
        # Python workers' start, for both readers.
        spark.read.format("hoist").option("columns", TWO[0]).load(url).write.format(noop).mode("overwrite").save()
        spark.read.parquet(local).select(TWO[0]).write.format(noop).mode("overwrite").save()
        for r in range(rounds):
            for wl, cols in (("all", None), ("two", TWO)):
                def ours():
                    rd = spark.read.format("hoist")
                    if cols:
                        rd = rd.option("columns", ",".join(cols))
                    df = rd.load(url)
                    df.write.format(noop).mode("overwrite").save()
                    return df

                def own():
                    df = spark.read.parquet(local)
                    if cols:
                        df = df.select(*cols)
                    df.write.format(noop).mode("overwrite").save()
                    return df

                def floor():
                    spark.dataSource.register(floors[wl])
                    df = spark.read.format("hoist_bench_floor").load()
                    df.write.format(noop).mode("overwrite").save()
                    return df

                measure("spark", "hoist", wl, r, ours, lambda df: df.count())
                measure("spark", "own (local files)", wl, r, own, lambda df: df.count())
                measure("spark", "floor (Python source, batches from memory)", wl, r, floor, lambda df: df.count())
    finally:
        spark.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def main():
    engine, url, local = sys.argv[1:4]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 1
    {"ray": run_ray, "dask": run_dask, "spark": run_spark}[engine](url, local, rounds)


if __name__ == "__main__":
    main()
