"""pyiceberg: table.scan(row_filter=, selected_fields=).to_arrow() (pyarrow reads the files)."""
import _iceberg

uri, ident, workload = _iceberg.parse_args()
table = _iceberg.load_table(uri, ident)
kw = {}
if _iceberg.COLUMNS[workload] is not None:
    kw["selected_fields"] = tuple(_iceberg.COLUMNS[workload])
if workload in _iceberg.FILTERED:
    kw["row_filter"] = _iceberg.FILTER_EXPR
t = table.scan(**kw).to_arrow()
_iceberg.report(t.num_rows, t.num_columns, t.nbytes)
