"""The seeds' TaxiETLFlow on hoist: project-specific SQL runs as CTAS inside the flow, on an
embedded DuckDB over the hoist dataset (no Athena, no Glue). ``hoist.metaflow.ctas`` writes the
result under the run's prefix as ``mf_ctas_<flow>_<run>_<step>_<task>/`` (all or nothing, with a
``_SUCCESS`` manifest holding the SQL and the ETags of what was read) and sets ``self.ctas`` and
``self.paths`` like the book's ``athena_ctas``.

    METAFLOW_DATATOOLS_S3ROOT=s3://my-bucket/metaflow/data \\
        python examples/taxi_etl.py --package-suffixes .sql run --table s3://my-bucket/nyc_taxi/

``--table`` defaults to the table of the latest TaxiDataLoader run (examples/taxi_loader.py).
"""
import os

from metaflow import FlowSpec, Parameter, resources, step


class TaxiETLFlow(FlowSpec):
    table = Parameter("table", help="The nyc_taxi dataset (default: the latest TaxiDataLoader run's)", default="")

    @resources(memory=4000, cpu=2)
    @step
    def start(self):
        from hoist.metaflow import ctas

        url = self.table
        if not url:
            from metaflow import Flow

            url = Flow("TaxiDataLoader").latest_successful_run.data.s3_prefix
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sql", "taxi_etl.sql")) as f:
            # files of at most 2 M rows, so the plotting and regression flows have shards to
            # spread over their foreach (Athena's CTAS writes many files as well)
            res = ctas(self, f.read(), tables={"nyc_taxi": url}, max_rows_per_file=2_000_000)
        self.rows = res.rows
        self.manifest = res.manifest
        print("CTAS wrote %d rows in %d files (%.1f s, %d bytes read)"
              % (res.rows, len(self.paths), res.timings["total"], res.scans["bytes_fetched"]))
        self.next(self.end)

    @step
    def end(self):
        print(self.ctas)
        print("%d files, first %s" % (len(self.paths), self.paths[0] if self.paths else "-"))


if __name__ == "__main__":
    TaxiETLFlow()
