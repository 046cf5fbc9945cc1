"""polars: pl.scan_iceberg(<pyiceberg Table>) with the projection and filter, collected to Arrow."""
import _iceberg

uri, ident, workload = _iceberg.parse_args()
import polars as pl  # noqa: E402

table = _iceberg.load_table(uri, ident)
lf = pl.scan_iceberg(table)
if workload in _iceberg.FILTERED:
    lf = lf.filter(pl.col("passenger_count") > 1)
if _iceberg.COLUMNS[workload] is not None:
    lf = lf.select(_iceberg.COLUMNS[workload])
t = lf.collect().to_arrow()
_iceberg.report(t.num_rows, t.num_columns, t.nbytes)
