"""hoist: hoist.load_table(hoist.iceberg.table(<catalog URI>, ident), columns=, filter=) — hoist
finds the metadata file in the SQLite catalog (sqlite3), plans the snapshot itself (src/iceberg)
and loads the files; pyiceberg is not imported."""
import _iceberg

uri, ident, workload = _iceberg.parse_args()
import hoist  # noqa: E402

t = hoist.load_table(hoist.iceberg.table(uri, ident), columns=_iceberg.COLUMNS[workload],
                     filter=_iceberg.FILTER_EXPR if workload in _iceberg.FILTERED else None)
_iceberg.report(t.num_rows, t.num_columns, t.nbytes)
