"""The seeds' TaxiRegressionFlow, on hoist.

    python examples/taxi_regression.py run --data s3://my-bucket/taxi/
    python examples/taxi_regression.py run --use_ctas_data True     # TaxiETLFlow's output

start      lists the dataset and splits it into byte-balanced shards (hoist.shards)
preprocess one foreach branch per shard: load only the two feature columns of
           the shard's files, with the row filter pushed down (hoist.load_table),
           drop outliers and sample (hoist.features), keep NumPy arrays
join       concatenates the arrays of all shards
regress    fits scikit-learn's LinearRegression (amount ~ distance) and saves a
           matplotlib scatter plot with the fitted line as a PNG

Differences from the seeds' version: no temp files (the seeds download each
shard with metaflow.S3.get_many and read it with ParquetDataset), only the
projected column chunks are fetched, and each branch's table is handed to the
feature helpers and to NumPy without copies. Runs on Metaflow's local runtime;
add `--with batch` or `--with kubernetes` to run the branches remotely.
"""
from metaflow import FlowSpec, Parameter, step

FIELDS = ["trip_distance", "total_amount"]


def fit(features):
    from sklearn.linear_model import LinearRegression

    d = features["trip_distance"].reshape(-1, 1)
    return LinearRegression().fit(d, features["total_amount"])


def visualize(model, features):
    """The seeds' plot: a scatter of the sample and the fitted line, as PNG bytes."""
    from io import BytesIO

    import matplotlib

    matplotlib.use("Agg")  # no display on workers
    import matplotlib.pyplot as plt
    import numpy

    maxval = float(features["trip_distance"].max()) if len(features["trip_distance"]) else 1.0
    line = numpy.arange(0, maxval, maxval / 1000)
    pred = model.predict(line.reshape(-1, 1))
    plt.rcParams.update({"font.size": 22})
    fig = plt.figure(figsize=(18, 10))
    plt.scatter(data=features, x="trip_distance", y="total_amount", alpha=0.01, linewidth=0.5)
    plt.plot(line, pred, linewidth=2, color="black")
    plt.xlabel("Distance")
    plt.ylabel("Amount")
    buf = BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


class TaxiRegressionFlow(FlowSpec):
    data = Parameter("data", default="s3://hoist-examples/taxi/",
                     help="Prefix (or glob) of a Parquet dataset, e.g. s3://bucket/taxi/")
    sample = Parameter("sample", default=0.1, help="Fraction of rows kept after outlier removal")
    num_shards = Parameter("num_shards", default=4, help="Number of foreach branches")
    row_filter = Parameter("row_filter", default="passenger_count > 0",
                           help="Row filter pushed down to the loader ('' for none)")
    seed = Parameter("seed", default=-1, help="Sampling seed (-1: a fresh random sample)")
    plot = Parameter("plot", default="taxi_regression.png", help="Where to write the PNG ('' to skip)")
    use_ctas = Parameter("use_ctas_data", help="Fit on TaxiETLFlow's CTAS output (its latest run's paths)",
                         default=False)

    @step
    def start(self):
        import hoist

        source = self.data
        if self.use_ctas:
            from metaflow import Flow

            self.paths = list(Flow("TaxiETLFlow").latest_run.data.paths)
            source = self.paths
        # Listing and footers only: the shards are balanced by the bytes of
        # the two columns the branches will fetch, and row groups the filter
        # rules out are not counted.
        self.shards = hoist.shards(source, int(self.num_shards), columns=FIELDS,
                                   filter=self.row_filter or None)
        files = sum(len(s) for s in self.shards)
        print("Processing %d Parquet files in %d shards (%.1f MB of the feature columns)"
              % (files, len(self.shards), sum(s.nbytes for s in self.shards) / 1e6))
        self.next(self.preprocess_data, foreach="shards")

    @step
    def preprocess_data(self):
        import hoist
        from hoist.features import filter_outliers, sample

        table = hoist.load_table(self.input, columns=FIELDS, filter=self.row_filter or None)
        self.num_rows_loaded = table.num_rows
        seed = None if int(self.seed) < 0 else int(self.seed) + self.input.index
        table = sample(filter_outliers(table, FIELDS), float(self.sample), seed=seed)
        # NumPy views of the Arrow columns; Metaflow pickles them as artifacts.
        self.shard = {field: table.to_numpy(field) for field in FIELDS}
        print("shard %d: %d rows loaded, %d kept" % (self.input.index, self.num_rows_loaded, table.num_rows))
        self.next(self.join)

    @step
    def join(self, inputs):
        from numpy import concatenate

        self.features = {}
        for f in FIELDS:
            shards = [inp.shard[f] for inp in inputs if inp.shard]
            self.features[f] = concatenate(shards)
        self.num_rows_loaded = sum(inp.num_rows_loaded for inp in inputs)
        self.next(self.regress)

    @step
    def regress(self):
        self.model = fit(self.features)
        self.coef = float(self.model.coef_[0])
        self.intercept = float(self.model.intercept_)
        self.num_rows_fitted = len(self.features["trip_distance"])
        print("amount = %.3f * distance + %.3f  (%d of %d rows)"
              % (self.coef, self.intercept, self.num_rows_fitted, self.num_rows_loaded))
        self.viz = visualize(self.model, self.features)
        if self.plot:
            with open(self.plot, "wb") as f:
                f.write(self.viz)
            print("wrote %s" % self.plot)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TaxiRegressionFlow()
