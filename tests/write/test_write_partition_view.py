"""Partitioning BY a string-view column (src/write/write_partition.c): polars
hands out utf8 views, and pyarrow tables may hold them too. Directory names
must be those of the same column as plain strings (escaping, nulls as
__HIVE_DEFAULT_PARTITION__), for inline (<= 12 bytes) and long values, views
over several data buffers, and sliced input."""
import os

import pyarrow as pa
import pyarrow.dataset as pads
import pytest

hoist = pytest.importorskip("hoist")
if not hasattr(hoist, "write_table"):
    pytest.skip("hoist built without the writer", allow_module_level=True)

KEYS = ["short", "a value longer than twelve bytes", None, "a/b=c d%", "ünïcode long enough to spill", ""]


def _table(n=600):
    key = [KEYS[i % len(KEYS)] for i in range(n)]
    return pa.table({"id": pa.array(range(n), pa.int64()), "key": pa.array(key, pa.string())})


def _dirs(root):
    return sorted(d for d in os.listdir(root) if d.startswith("key="))


def _back(root):
    t = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    return t.sort_by("id")


def test_partition_by_view_column_names_directories_like_strings(tmp_path):
    t = _table()
    views = t.set_column(1, "key", t["key"].cast(pa.string_view()))
    hoist.write_table(t, str(tmp_path / "s") + "/", partition_by=["key"])
    hoist.write_table(views, str(tmp_path / "v") + "/", partition_by=["key"])
    assert _dirs(tmp_path / "v") == _dirs(tmp_path / "s")
    assert "key=__HIVE_DEFAULT_PARTITION__" in _dirs(tmp_path / "v")
    back = _back(tmp_path / "v")
    assert back["id"].to_pylist() == t["id"].to_pylist()
    assert [None if k in (None, "") else k for k in back["key"].to_pylist()] == \
        [None if k in (None, "") else k for k in t["key"].to_pylist()]


def test_partition_polars_frame_by_its_string_column(tmp_path):
    pl = pytest.importorskip("polars")
    t = _table()
    df = pl.from_arrow(t)
    hoist.write_table(df, str(tmp_path / "p") + "/", partition_by=["key"])
    hoist.write_table(t, str(tmp_path / "s") + "/", partition_by=["key"])
    assert _dirs(tmp_path / "p") == _dirs(tmp_path / "s")
    assert _back(tmp_path / "p")["id"].to_pylist() == t["id"].to_pylist()


def test_sliced_views_over_several_buffers(tmp_path):
    # several record batches of views; pyarrow's builder spreads long strings over data buffers
    t = _table(3000)
    views = t.set_column(1, "key", t["key"].cast(pa.string_view())).slice(7)
    reader = pa.RecordBatchReader.from_batches(views.schema, views.to_batches(max_chunksize=500))
    hoist.write_table(reader, str(tmp_path / "v") + "/", partition_by=["key"])
    back = _back(tmp_path / "v")
    assert back["id"].to_pylist() == list(range(7, 3000))
