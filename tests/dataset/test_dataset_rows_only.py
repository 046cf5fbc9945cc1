"""columns=[] loads no column, only the rows the filter and sample keep
(hoist_dataset_config_set_rows_only): the counts must equal pyarrow.dataset's, and
the scan must fetch the least that gives them: footers alone on a Hive-partitioned
dataset, else the filter's columns, else the file column with the fewest stored bytes."""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import hoist


def write_months(root, months=range(1, 5), rows=2000):
    for m in months:
        d = root / f"month={m}"
        d.mkdir(parents=True)
        rng = np.random.default_rng(m)
        pq.write_table(pa.table({
            "text": pa.array(["row %d of month %d, padded to cost bytes" % (i, m) for i in range(rows)]),
            "x": rng.random(rows),
            "flag": pa.array(rng.integers(0, 2, rows).astype(bool)),
        }), d / "part-0.parquet", row_group_size=500)
    return str(root) + "/"


def count(url, filter=None, **kw):
    t = hoist.load_table(url, columns=[], filter=filter, **kw)
    assert t.num_columns == 0 and t.column_names == []
    arrow = t.to_pyarrow()
    assert arrow.num_columns == 0 and arrow.num_rows == t.num_rows
    return t.num_rows, t.load_stats


def footer_bytes(url):
    with hoist.scan(url) as sc:  # an open reads the footers and nothing else
        return sc.stats["bytes_fetched"]


def test_partitioned_counts_from_footers_alone(tmp_path):
    url = write_months(tmp_path / "ds")
    n, st = count(url)
    assert n == pads.dataset(url, partitioning="hive").count_rows() == 8000
    assert st["columns"] == 0 and st["bytes_fetched"] == footer_bytes(url)


def test_partition_filter_counts_from_footers_alone(tmp_path):
    url = write_months(tmp_path / "ds")
    n, st = count(url, "month IN (2, 3)")
    assert n == pads.dataset(url, partitioning="hive").count_rows(filter=pc.field("month").isin([2, 3]))
    assert n == 4000 and st["files_pruned"] == 2


def test_unpartitioned_reads_the_cheapest_column(tmp_path):
    url = write_months(tmp_path / "ds")
    files = [str(p) for p in sorted((tmp_path / "ds").rglob("*.parquet"))]
    n, st = count(files, hive=False)
    assert n == 8000
    fetched = {c: hoist.load_table(files, columns=[c], hive=False).load_stats["bytes_fetched"]
               for c in ("text", "x", "flag")}
    # flag (bits) is the fewest stored bytes: the count costs what loading it costs
    assert st["bytes_fetched"] == fetched["flag"] == min(fetched.values())


def test_filter_columns_are_read_and_not_output(tmp_path):
    url = write_months(tmp_path / "ds")
    n, st = count(url, "x > 0.25 AND flag = TRUE")
    want = pads.dataset(url, partitioning="hive").count_rows(filter=(pc.field("x") > 0.25) & (pc.field("flag") == True))
    assert n == want and 0 < n < 8000
    assert st["columns"] == 0 and st["rows"] == n


def test_sample_keeps_the_same_rows_as_a_column_load(tmp_path):
    url = write_months(tmp_path / "ds")
    n, _ = count(url, sample=0.3, seed=7)
    assert n == hoist.load_table(url, columns=["x"], sample=0.3, seed=7).num_rows
    assert 0 < n < 8000


def test_scan_streams_row_counts(tmp_path):
    url = write_months(tmp_path / "ds")
    with hoist.scan(url, columns=[], filter="month = 4") as sc:
        reader = pa.RecordBatchReader.from_stream(sc)
        batches = list(reader)
    assert reader.schema.names == [] and sum(b.num_rows for b in batches) == 2000


def test_csv_dataset(tmp_path):
    d = tmp_path / "csv"
    d.mkdir()
    for i in range(3):
        pacsv.write_csv(pa.table({"a": list(range(100 * i, 100 * i + 100)), "b": ["v"] * 100}), d / f"{i}.csv")
    t = hoist.load_table(str(d) + "/", format="csv", columns=[], filter="a >= 150")
    assert t.num_columns == 0 and t.num_rows == 150


@pytest.mark.parametrize("bad", [["nope"], ["x", "x"]])
def test_nonempty_lists_are_still_checked(tmp_path, bad):
    url = write_months(tmp_path / "ds")
    with pytest.raises((hoist.HoistError, ValueError)):
        hoist.load_table(url, columns=bad)
