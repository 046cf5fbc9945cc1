"""hoist: hoist.load_table(<pyiceberg Table>, columns=, filter=) — pyiceberg plans, hoist loads."""
import _iceberg

uri, ident, workload = _iceberg.parse_args()
import hoist  # noqa: E402

table = _iceberg.load_table(uri, ident)
t = hoist.load_table(table, columns=_iceberg.COLUMNS[workload],
                     filter=_iceberg.FILTER_EXPR if workload in _iceberg.FILTERED else None)
_iceberg.report(t.num_rows, t.num_columns, t.nbytes)
