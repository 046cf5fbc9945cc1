"""The seeds' TaxiDataLoader on hoist: a Metaflow step writes a Hive-partitioned
Parquet table under its run's S3 prefix (``<DATATOOLS_S3ROOT>/TaxiDataLoader/<run_id>/nyc_taxi/``).

The seeds' version downloads every file with ``S3.get_recursive`` and uploads it again under
``month=M/`` keys with ``S3.put_files``. Here ``hoist.scan`` streams the source's batches and
``S3(run=self).write_table`` encodes and uploads them partitioned by month, all or nothing,
with a ``_SUCCESS`` manifest recording the source (lineage). Where the seeds register the table
in Glue, ``--catalog`` registers it in an Apache Iceberg catalog (pyiceberg's SqlCatalog on a
SQLite file: ``hoist.iceberg.register`` adds exactly the written files, nothing is copied) as
``--iceberg_table`` (default ``taxi.nyc_taxi``), replacing the previous run's data in one commit.
The ``end`` step reads the table back — through the catalog when there is one — as the seeds'
Athena step would.

    METAFLOW_DATATOOLS_S3ROOT=s3://my-bucket/metaflow/data \\
        python examples/taxi_loader.py run --data s3://my-bucket/taxi/ [--catalog sqlite:////tmp/cat.db]
"""
from metaflow import FlowSpec, Parameter, current, step


class TaxiDataLoader(FlowSpec):
    data = Parameter("data", help="Source Parquet dataset (prefix or glob) with a month column "
                                  "or month=M/ directories", required=True)
    table = Parameter("table", help="Table name (the key prefix under the run)", default="nyc_taxi")
    catalog = Parameter("catalog", help="Iceberg SqlCatalog URI to register the table in ('' for none), "
                                        "e.g. sqlite:////tmp/catalog.db", default="")
    iceberg_table = Parameter("iceberg_table", help="Iceberg identifier (namespace.table)",
                              default="taxi.nyc_taxi")
    warehouse = Parameter("warehouse", help="Where the catalog keeps new tables' metadata "
                                            "(default: <DATATOOLS_S3ROOT>/iceberg)", default="")

    @step
    def start(self):
        import hoist

        with hoist.S3(run=self) as s3:
            # Iceberg reads each file's partition value from the file's statistics: keep the
            # partition column inside the files when registering.
            res = s3.write_table(hoist.scan(self.data), self.table + "/", partition_by=["month"],
                                 compression="zstd", keep_partition_columns=bool(self.catalog),
                                 lineage={"source": self.data, "pathspec": current.pathspec})
            self.s3_prefix = s3.url(self.table + "/")
        self.paths = res.paths
        self.rows = res.rows
        self.write_id = res.write_id
        print("Wrote %d rows in %d files under %s" % (res.rows, len(res.paths), self.s3_prefix))
        if self.catalog:
            from metaflow.metaflow_config import DATATOOLS_S3ROOT

            cat = hoist.iceberg.catalog(self.catalog, warehouse=self.warehouse or DATATOOLS_S3ROOT + "/iceberg")
            table = hoist.iceberg.register(cat, self.iceberg_table, res, replace=True)
            self.snapshot_id = table.current_snapshot().snapshot_id
            print("Registered %s (snapshot %d) in %s" % (self.iceberg_table, self.snapshot_id, self.catalog))
        self.next(self.end)

    @step
    def end(self):
        import hoist

        if self.catalog:
            t = hoist.load_table(hoist.iceberg.catalog(self.catalog).load_table(self.iceberg_table))
        else:
            t = hoist.load_table(self.s3_prefix)
        assert t.num_rows == self.rows, (t.num_rows, self.rows)
        print("Read back %d rows, columns %s" % (t.num_rows, ", ".join(t.column_names)))


if __name__ == "__main__":
    TaxiDataLoader()
