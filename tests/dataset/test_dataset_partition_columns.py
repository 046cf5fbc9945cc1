"""A Hive key that is also a column of the files (hoist.write_table(..., keep_partition_columns=True),
what Iceberg's add_files needs) reads back as the files' column — it used to fail with
"partition key 'month' ... is also a column in the files"."""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import hoist


def test_kept_partition_columns_read_back(tmp_path):
    n = 3000
    rng = np.random.default_rng(7)
    t = pa.table({"id": np.arange(n, dtype=np.int64), "month": rng.integers(1, 4, n).astype(np.int32),
                  "x": rng.random(n)})
    out = tmp_path / "ds"
    hoist.write_table(t, str(out) + "/", partition_by=["month"], keep_partition_columns=True)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["month=1", "month=2", "month=3"]
    got = hoist.load_table(str(out) + "/").to_pyarrow()
    assert got.column_names == ["id", "month", "x"]
    assert got.schema.field("month").type == pa.int32()  # the file's type, not an inferred partition type
    assert got.sort_by("id").equals(t)
    got = hoist.load_table(str(out) + "/", columns=["id"], filter="month = 2")
    assert sorted(got.to_pyarrow()["id"].to_pylist()) == t.filter(pc.equal(t["month"], 2))["id"].to_pylist()
