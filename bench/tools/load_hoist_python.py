"""hoist.load_table: projection and filter pushed into the C loader."""
import _common
import hoist

url, workload = _common.parse_args()
t = hoist.load_table(url, columns=_common.COLUMNS[workload],
                     filter=_common.FILTER_EXPR if workload in _common.FILTERED else None)
pt = t.to_pyarrow()  # zero-copy view, only to count bytes the same way as the peers
_common.report(t.num_rows, t.num_columns, pt.nbytes, bytes_fetched=t.load_stats["bytes_fetched"])
