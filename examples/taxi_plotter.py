"""The seeds' TaxiPlotterFlow, on hoist.

    python examples/taxi_plotter.py run --data s3://my-bucket/nyc_taxi/
    python examples/taxi_plotter.py run --use_ctas_data True     # TaxiETLFlow's CTAS output

start            takes the files to plot — TaxiETLFlow's CTAS output (``self.paths`` of its
                 latest run in this project's namespace) or a dataset prefix — and splits them
                 into byte-balanced shards (``hoist.shards``) for a ``foreach``;
preprocess_data  each branch loads only the three columns it needs of its shard, with
                 ``passenger_count > 1`` pushed down into the loader (the seeds download whole
                 files with metaflow.S3.get_many, read every column with ParquetDataset, then
                 filter in Python), and keeps the pickup latitude/longitude as NumPy arrays;
join             concatenates them and draws the PNG with datashader (``taxiviz.visualize``);
                 the image is the ``image`` artifact and, with ``--png``, a file.

The seeds pin Python 3.8/pyarrow 5 with ``@conda``; this runs in the current environment.
"""
from metaflow import Flow, FlowSpec, Parameter, project, resources, step

NUM_SHARDS = 4
COLUMNS = ["pickup_latitude", "pickup_longitude", "passenger_count"]
ROW_FILTER = "passenger_count > 1"


@project(name="taxi_nyc")
class TaxiPlotterFlow(FlowSpec):
    use_ctas = Parameter("use_ctas_data", help="Use CTAS data", default=False)
    data = Parameter("data", help="Dataset prefix to plot when not using CTAS data",
                     default="s3://hoist/taxi/")
    num_shards = Parameter("num_shards", help="Number of foreach branches", default=NUM_SHARDS)
    png = Parameter("png", help="Also write the image to this file ('' for none)", default="")

    @step
    def start(self):
        import hoist

        if self.use_ctas:
            self.paths = list(Flow("TaxiETLFlow").latest_run.data.paths)
            source = self.paths
        else:
            source = self.data
        self.shards = hoist.shards(source, int(self.num_shards), columns=COLUMNS, filter=ROW_FILTER)
        files = sum(len(s) for s in self.shards)
        print("Processing %d Parquet files in %d shards" % (files, len(self.shards)))
        self.next(self.preprocess_data, foreach="shards")

    @resources(memory=16000)
    @step
    def preprocess_data(self):
        import hoist

        table = hoist.load_table(self.input, columns=COLUMNS, filter=ROW_FILTER)
        self.num_rows_before = self.input.num_rows  # the shard's rows before the filter
        self.num_rows_after = table.num_rows
        print("selected %d/%d rows" % (self.num_rows_after, self.num_rows_before))
        self.lat = table.to_numpy("pickup_latitude")
        self.lon = table.to_numpy("pickup_longitude")
        self.next(self.join)

    @resources(memory=16000)
    @step
    def join(self, inputs):
        import numpy

        import taxiviz

        lat = numpy.concatenate([inp.lat for inp in inputs])
        lon = numpy.concatenate([inp.lon for inp in inputs])
        self.num_points = len(lat)
        print("Plotting %d locations" % len(lat))
        self.image = taxiviz.visualize(lat, lon)
        if self.png:
            with open(self.png, "wb") as f:
                f.write(self.image)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TaxiPlotterFlow()
