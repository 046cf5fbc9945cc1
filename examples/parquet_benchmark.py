"""The seeds' ParquetBenchmarkFlow, on hoist: CSV vs Parquet, and who reads them fastest.

    python examples/parquet_benchmark.py run --url s3://my-bucket/taxi/month=12/part-0.parquet \\
        --max-workers 1

start         fetches one Parquet file from S3 (``hoist.S3().get``, as the seeds do with
              metaflow.S3) and writes the same table as CSV next to it;
load_*        one branch per reader, each timed with Metaflow's ``profile`` and measured for
              peak memory with ``@profile_memory`` (examples/metaflow_memory.py);
join          prints each branch's time and peak memory, like the book.

The seeds' branches are Python's csv module, ``pyarrow.parquet.read_table`` and
``pandas.read_parquet``; this adds hoist's readers of the same two files,
``hoist.read_parquet`` and ``hoist.read_csv``. ``--max-workers 1`` runs the branches one
after the other so they do not compete for cores (the book's advice). The seeds read
``s3://ursa-labs-taxi-data/2014/12/data.parquet``; offline, any Parquet file on the local S3
server works (``make demo`` leaves a taxi dataset at s3://hoist/taxi/).
"""
import os

from metaflow import FlowSpec, Parameter, profile, step

from metaflow_memory import profile_memory

PARQUET = "taxi.parquet"
CSV = "taxi.csv"


class ParquetBenchmarkFlow(FlowSpec):
    url = Parameter("url", help="One Parquet object on S3 (the seeds: a month of NYC taxi data)",
                    default="s3://hoist/taxi/month=12/part-0.parquet")
    workdir = Parameter("workdir", help="Where the branches find the two files", default=os.getcwd())

    @step
    def start(self):
        import pyarrow.csv
        import pyarrow.parquet as pq

        import hoist

        with hoist.S3() as s3:
            res = s3.get(self.url)
            os.replace(res.path, os.path.join(self.workdir, PARQUET))
        table = pq.read_table(os.path.join(self.workdir, PARQUET))
        pyarrow.csv.write_csv(table, os.path.join(self.workdir, CSV))
        self.rows = table.num_rows
        self.sizes = {f: os.path.getsize(os.path.join(self.workdir, f)) for f in (PARQUET, CSV)}
        print("%d rows: %s" % (self.rows, ", ".join("%s %.1f MB" % (f, n / 1e6) for f, n in self.sizes.items())))
        self.stats = {}
        self.next(self.load_csv, self.load_parquet, self.load_pandas, self.load_hoist, self.load_hoist_csv)

    def _path(self, name):
        return os.path.join(self.workdir, name)

    @profile_memory
    @step
    def load_csv(self):
        import csv

        with profile("load_csv", stats_dict=self.stats):
            with open(self._path(CSV), newline="") as f:
                n = sum(1 for _ in csv.reader(f)) - 1
        assert n == self.rows, (n, self.rows)
        self.next(self.join)

    @profile_memory
    @step
    def load_parquet(self):
        with profile("load_parquet", stats_dict=self.stats):
            import pyarrow.parquet as pq

            table = pq.read_table(self._path(PARQUET))
        assert table.num_rows == self.rows
        self.next(self.join)

    @profile_memory
    @step
    def load_pandas(self):
        with profile("load_pandas", stats_dict=self.stats):
            import pandas as pd

            df = pd.read_parquet(self._path(PARQUET))
        assert len(df) == self.rows
        self.next(self.join)

    @profile_memory
    @step
    def load_hoist(self):
        with profile("load_hoist", stats_dict=self.stats):
            import hoist

            table = hoist.read_parquet(self._path(PARQUET))
        assert table.num_rows == self.rows
        self.next(self.join)

    @profile_memory
    @step
    def load_hoist_csv(self):
        with profile("load_hoist_csv", stats_dict=self.stats):
            import hoist

            table = hoist.read_csv(self._path(CSV))
        assert table.num_rows == self.rows
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = {}
        for inp in inputs:
            name, ms = list(inp.stats.items())[0]
            self.results[name] = {"ms": ms, "peak_mib": inp.mem_usage}
            print("%-15s %8d ms  peak %7.1f MiB" % (name, ms, inp.mem_usage))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParquetBenchmarkFlow()
