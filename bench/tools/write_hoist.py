"""hoist: hoist.write_table when the package has it, else hoist_write_dataset
through ctypes (_hoist_write.py). Arguments: see _pqwrite.py."""
import _hoist_write
import _pqwrite

a = _pqwrite.parse_args()
t = _pqwrite.load_table(a["input"])
wt = _hoist_write.python_write_table()
if wt is not None:
    path = "hoist.write_table"
    run = lambda: _hoist_write.write_python(wt, t, a["output"], a["threads"], a["compression"],  # noqa: E731
                                            a["partition_by"], _pqwrite.ROW_GROUP_ROWS)
else:
    path = "C API hoist_write_dataset via ctypes"
    run = lambda: _hoist_write.write_capi(t, a["output"], a["threads"], a["compression"],  # noqa: E731
                                          a["partition_by"], _pqwrite.ROW_GROUP_ROWS)
_pqwrite.timed(run, t.num_rows, call_path=path)
