"""The seeds' TaxiDataLoader on hoist: a Metaflow step writes a Hive-partitioned
Parquet table under its run's S3 prefix (``<DATATOOLS_S3ROOT>/TaxiDataLoader/<run_id>/nyc_taxi/``).

The seeds' version downloads every file with ``S3.get_recursive`` and uploads it again under
``month=M/`` keys with ``S3.put_files``. Here ``hoist.scan`` streams the source's batches and
``S3(run=self).write_table`` encodes and uploads them partitioned by month, all or nothing,
with a ``_SUCCESS`` manifest recording the source (lineage). The ``end`` step reads the table
back, as the seeds' Athena step would.

    METAFLOW_DATATOOLS_S3ROOT=s3://my-bucket/metaflow/data \\
        python examples/taxi_loader.py run --data s3://my-bucket/taxi/
"""
from metaflow import FlowSpec, Parameter, current, step


class TaxiDataLoader(FlowSpec):
    data = Parameter("data", help="Source Parquet dataset (prefix or glob) with a month column "
                                  "or month=M/ directories", required=True)
    table = Parameter("table", help="Table name (the key prefix under the run)", default="nyc_taxi")

    @step
    def start(self):
        import hoist

        with hoist.S3(run=self) as s3:
            res = s3.write_table(hoist.scan(self.data), self.table + "/", partition_by=["month"],
                                 compression="zstd",
                                 lineage={"source": self.data, "pathspec": current.pathspec})
            self.s3_prefix = s3.url(self.table + "/")
        self.paths = res.paths
        self.rows = res.rows
        self.write_id = res.write_id
        print("Wrote %d rows in %d files under %s" % (res.rows, len(res.paths), self.s3_prefix))
        self.next(self.end)

    @step
    def end(self):
        import hoist

        t = hoist.load_table(self.s3_prefix)
        assert t.num_rows == self.rows, (t.num_rows, self.rows)
        print("Read back %d rows, columns %s" % (t.num_rows, ", ".join(t.column_names)))


if __name__ == "__main__":
    TaxiDataLoader()
