"""Page skipping by the page index (issue 5, scope item 4): datasets written
by pyarrow with write_page_index=True and small pages, sorted or clustered on
the filter columns, loaded by hoist with and without page skipping
(HOIST_NO_PAGE_INDEX=1) and compared with pyarrow.dataset."""
import datetime
import os
import pathlib
import re
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import hoist_ctypes as hc  # noqa: E402
from conftest import run_cli, temp_bucket  # noqa: E402

HOIST_ERR_PARQUET_CORRUPT = 200
T0 = datetime.datetime(2024, 1, 1)


def ts_lit(i):
    """The timestamp of row id i, as a hoist literal and as a pyarrow scalar."""
    t = T0 + datetime.timedelta(seconds=int(i))
    return "TIMESTAMP '%s'" % t.strftime("%Y-%m-%d %H:%M:%S"), pa.scalar(t, pa.timestamp("us"))


def make_table(n, offset, seed):
    """Sorted on id and ts, clustered on name and on the nulls of n."""
    rng = np.random.default_rng(seed)
    ids = np.arange(offset, offset + n, dtype=np.int64)
    tags = [None if i % 11 == 0 else list(range(i % 4)) for i in range(n)]
    return pa.table({
        "id": pa.array(ids),
        "ts": pa.array((np.datetime64("2024-01-01T00:00:00", "us") + ids * 1_000_000).astype("datetime64[us]")),
        "name": pa.array(["k%05d" % (i // 1000) for i in ids]),
        "cat": pa.array(rng.choice(["CRD", "CSH", "NOC", "DIS"], n)),
        "v": pa.array(np.where(rng.random(n) < 0.1, np.nan, rng.random(n)), from_pandas=True),
        "n": pa.array([None if (i // 4000) % 3 == 0 else int((i // 1000) % 50) for i in ids], pa.int32()),
        "tags": pa.array(tags, pa.list_(pa.int32())),
        # Random, so it neither compresses nor dictionary-encodes: the bulk of the bytes.
        "payload": pa.array([rng.bytes(16).hex() for _ in range(n)]),
    })


def write(fs, path, table, page_index=True, **kw):
    # Dictionaries only for the low-cardinality columns: a unique column's
    # dictionary page (up to 1 MiB, needed whatever the rows) would hide
    # what skipping its data pages saves.
    opts = dict(row_group_size=50_000, data_page_size=8 * 1024, write_batch_size=1000,
                use_dictionary=["name", "cat", "tags"])
    opts.update(kw)
    with fs.open_output_stream(path) as f:
        pq.write_table(table, f, write_page_index=page_index, **opts)


@pytest.fixture(scope="module")
def mbucket(s3_env):
    """One bucket for the module: the datasets take a few seconds to write."""
    with temp_bucket(s3_env, "t-pi-") as name:
        yield name


@pytest.fixture(scope="module")
def mixed(mbucket, s3fs):
    """Two files with a page index, one without (older writer), in id order."""
    write(s3fs, f"{mbucket}/mixed/part-0.parquet", make_table(100_000, 0, 1))
    write(s3fs, f"{mbucket}/mixed/part-1.parquet", make_table(100_000, 100_000, 2))
    write(s3fs, f"{mbucket}/mixed/part-2.parquet", make_table(60_000, 200_000, 3), page_index=False)
    return f"{mbucket}/mixed/"


@pytest.fixture()
def no_page_index(monkeypatch):
    def set_(on):
        if on:
            monkeypatch.setenv("HOIST_NO_PAGE_INDEX", "1")
        else:
            monkeypatch.delenv("HOIST_NO_PAGE_INDEX", raising=False)
    return set_


def reference(fs, path, columns=None, filter=None):
    d = pads.dataset(path, filesystem=fs, format="parquet", partitioning=None)
    return d.to_table(columns=columns, filter=filter)


def load(path, no_page_index, disabled=False, **kw):
    no_page_index(disabled)
    ds = hc.Dataset("s3://" + path, **kw)
    t = ds.load()
    s = ds.stats()
    ds.close()
    no_page_index(False)
    return t, s


def check(mixed, s3fs, no_page_index, expr, pyexpr, columns=None, expect_skip=True):
    got, s = load(mixed, no_page_index, columns=columns, filter=expr)
    want = reference(s3fs, mixed, columns=columns, filter=pyexpr)
    assert got.num_rows == want.num_rows
    assert got.equals(want), expr
    plain, s0 = load(mixed, no_page_index, disabled=True, columns=columns, filter=expr)
    assert plain.equals(got)
    assert s0.pages_skipped == 0 and s0.rows_skipped_by_page_index == 0
    if expect_skip:
        assert s.pages_skipped > 0 and s.rows_skipped_by_page_index > 0, expr
        # Holes under 512 KiB are still read (DS_MAX_GAP), so a few skipped
        # pages need not save bytes; they never cost any.
        assert s.bytes_fetched <= s0.bytes_fetched, expr
        if expect_skip == "bytes":
            assert s.bytes_fetched < s0.bytes_fetched, expr
    return got, s, s0


ts_a, ts_a_py = ts_lit(123_456)
ts_b, ts_b_py = ts_lit(131_000)


@pytest.mark.parametrize("expr,pyexpr,skips", [
    ("id >= 12345 AND id < 23456", (pc.field("id") >= 12345) & (pc.field("id") < 23456), "bytes"),
    ("name = 'k00042'", pc.field("name") == "k00042", "bytes"),
    (f"ts >= {ts_a} AND ts < {ts_b}", (pc.field("ts") >= ts_a_py) & (pc.field("ts") < ts_b_py), "bytes"),
    ("id IN (5, 77777, 150001, 255555)", pc.field("id").isin([5, 77777, 150001, 255555]), "bytes"),
    ("id < 3000 OR name = 'k00150'", (pc.field("id") < 3000) | (pc.field("name") == "k00150"), "bytes"),
    ("n IS NULL AND id < 60000", pc.field("n").is_null() & (pc.field("id") < 60000), "bytes"),
    ("n IS NULL", pc.field("n").is_null(), "pages"),
    ("n IS NOT NULL AND n < 3", pc.field("n").is_valid() & (pc.field("n") < 3), "bytes"),
    ("v IS NULL AND id BETWEEN_X", None, None),
])
def test_filters_equal_pyarrow(mixed, s3fs, no_page_index, expr, pyexpr, skips):
    if pyexpr is None:  # a syntax error stays a syntax error
        with pytest.raises(hc.HoistError):
            hc.Dataset("s3://" + mixed, filter=expr)
        return
    got, s, _ = check(mixed, s3fs, no_page_index, expr, pyexpr, expect_skip=skips)
    assert got.num_rows > 0


def test_matches_nothing(mixed, s3fs, no_page_index):
    # Every row group's statistics may match (id < 2000 and late ts both
    # occur in row group 0), but no page holds both: the row group is pruned
    # by the page index.
    late, late_py = ts_lit(40_000)
    expr = f"id < 2000 AND ts > {late}"
    got, s, s0 = check(mixed, s3fs, no_page_index, expr, (pc.field("id") < 2000) & (pc.field("ts") > late_py))
    assert got.num_rows == 0
    assert s.row_groups_pruned > s0.row_groups_pruned
    # Statistics alone already prune this one: nothing to skip page-wise.
    got, s, s0 = check(mixed, s3fs, no_page_index, "id > 10000000", pc.field("id") > 10_000_000, expect_skip=False)
    assert got.num_rows == 0 and s.bytes_fetched == s0.bytes_fetched


def test_matches_everything(mixed, s3fs, no_page_index):
    got, s, s0 = check(mixed, s3fs, no_page_index, "id >= 0", pc.field("id") >= 0, expect_skip=False)
    assert got.num_rows == 260_000
    assert s.pages_skipped == 0 and s.rows_skipped_by_page_index == 0
    # Whole chunks, as without the index; only the index itself is extra.
    assert s.bytes_fetched >= s0.bytes_fetched


def test_projection_nulls_and_nested(mixed, s3fs, no_page_index):
    # Filter-only column (name), a nullable double, a list column.
    cols = ["id", "v", "tags", "payload"]
    got, s, _ = check(mixed, s3fs, no_page_index, "name IN ('k00007', 'k00120') OR id >= 259000",
                      pc.field("name").isin(["k00007", "k00120"]) | (pc.field("id") >= 259_000), columns=cols)
    assert got.column_names == cols
    assert got.num_rows == 3000
    assert got.column("v").null_count > 0
    assert got.column("tags").null_count > 0
    cols = ["tags", "cat"]
    check(mixed, s3fs, no_page_index, "id >= 99000 AND id < 101500 AND cat = 'CRD'",
          (pc.field("id") >= 99_000) & (pc.field("id") < 101_500) & (pc.field("cat") == "CRD"), columns=cols)


def test_scan_sample_and_shards_agree(mixed, s3fs, no_page_index):
    expr = "id >= 20000 AND id < 180000 AND name IN ('k00030', 'k00170')"
    for sample in (None, 0.5):
        a, _ = load(mixed, no_page_index, filter=expr, sample=sample, seed=7)
        b, _ = load(mixed, no_page_index, disabled=True, filter=expr, sample=sample, seed=7)
        assert a.equals(b) and a.num_rows > 0
    full = load(mixed, no_page_index, filter=expr)[0]
    assert full.num_rows == 2000
    ds = hc.Dataset("s3://" + mixed, filter=expr, memory_limit=1 << 20)
    streamed = ds.scan().read_all()
    shards = ds.shards(3, row_groups=True)
    ds.close()
    assert streamed.equals(full)
    parts = [hc.Dataset(urls, filter=expr).load() for urls, _, _ in shards]
    assert pa.concat_tables(parts).sort_by("id").equals(full.sort_by("id"))
    # Rows of the row groups kept by their statistics (before the filter and
    # the page index): row group 0 of part-0 and row group 1 of part-1.
    assert sum(r for _, _, r in shards) == 100_000


def test_fetches_fewer_bytes(mbucket, s3fs, no_page_index):
    # One big row group sorted on id: a narrow range needs a few pages of
    # each column instead of whole multi-MB chunks.
    import io
    buf = io.BytesIO()
    pq.write_table(make_table(400_000, 0, 9), buf, write_page_index=True, row_group_size=400_000,
                   data_page_size=8 * 1024, write_batch_size=1000, use_dictionary=["name", "cat", "tags"])
    data = buf.getvalue()
    # The page index is too big for the footer's 64 KiB suffix read: this
    # load also covers fetching it with its own range GET.
    assert len(data) - page_index_span(data)[0] > 65536
    with s3fs.open_output_stream(f"{mbucket}/big/part-0.parquet") as f:
        f.write(data)
    expr = "id >= 200000 AND id < 204000"
    cols = ["id", "name", "payload"]
    got, s = load(f"{mbucket}/big/", no_page_index, columns=cols, filter=expr)
    plain, s0 = load(f"{mbucket}/big/", no_page_index, disabled=True, columns=cols, filter=expr)
    assert got.equals(plain) and got.num_rows == 4000
    assert got.column("id").to_pylist() == list(range(200_000, 204_000))
    assert s.bytes_fetched * 5 < s0.bytes_fetched, (s.bytes_fetched, s0.bytes_fetched)
    assert s.pages_skipped > 100
    assert s.rows_skipped_by_page_index >= 390_000


def page_index_span(data):
    """[start, end) of the page index: after the last column chunk, before the footer."""
    import io
    md = pq.ParquetFile(io.BytesIO(data)).metadata
    end = 0
    for g in range(md.num_row_groups):
        for c in range(md.num_columns):
            cc = md.row_group(g).column(c)
            start = cc.dictionary_page_offset if cc.has_dictionary_page else cc.data_page_offset
            end = max(end, start + cc.total_compressed_size)
    footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    return end, footer


def test_corrupt_page_index(mbucket, s3fs, no_page_index, hoist_cli, s3_env):
    good = make_table(20_000, 0, 4)
    bad = make_table(20_000, 20_000, 5)
    write(s3fs, f"{mbucket}/corrupt/part-0.parquet", good, row_group_size=10_000)
    import io
    buf = io.BytesIO()
    pq.write_table(bad, buf, write_page_index=True, row_group_size=10_000, data_page_size=8 * 1024,
                   write_batch_size=1000)
    data = bytearray(buf.getvalue())
    a, b = page_index_span(bytes(data))
    assert b - a > 100
    data[a:b] = b"\xff" * (b - a)
    with s3fs.open_output_stream(f"{mbucket}/corrupt/part-1.parquet") as f:
        f.write(bytes(data))
    url = f"s3://{mbucket}/corrupt/"
    expr = "id >= 5000 AND id < 35000"
    with pytest.raises(hc.HoistError) as e:
        hc.Dataset(url, filter=expr)
    assert e.value.status == HOIST_ERR_PARQUET_CORRUPT
    assert "part-1.parquet" in e.value.message and "page index" in e.value.message
    # skip_bad: the file is reported, the other one loads.
    ds = hc.Dataset(url, filter=expr, skip_bad=True)
    got = ds.load()
    assert "part-1.parquet" in ds.skipped()
    assert ds.stats().files == 1 and ds.stats().files_skipped == 1
    ds.close()
    assert got.column("id").to_pylist() == list(range(5000, 20_000))
    # Without a filter (or with page skipping off) the index is never read.
    assert hc.Dataset(url).load().num_rows == 40_000
    no_page_index(True)
    assert hc.Dataset(url, filter=expr).load().num_rows == 30_000
    no_page_index(False)
    p = run_cli(hoist_cli, "load", url, "--filter", expr)
    assert p.returncode != 0 and "part-1.parquet" in p.stderr_text
    p = run_cli(hoist_cli, "load", url, "--filter", expr, "--skip-bad", check=True)
    assert "part-1.parquet" in p.stdout_text + p.stderr_text


def test_cli_summary(mixed, hoist_cli):
    p = run_cli(hoist_cli, "load", "s3://" + mixed, "--filter", "id >= 12345 AND id < 23456", check=True)
    out = p.stdout_text + p.stderr_text
    m = re.search(r"pages\s+(\d+) skipped by the page index \(([\d.,]+) rows\)", out)
    assert m, out
    assert int(m.group(1)) > 0
    p = run_cli(hoist_cli, "load", "s3://" + mixed, "--filter", "id >= 12345 AND id < 23456",
                env={"HOIST_NO_PAGE_INDEX": "1"}, check=True)
    assert "skipped by the page index" not in p.stdout_text + p.stderr_text


def random_filter(rng):
    """A random filter over the sorted, clustered and null-holding columns."""
    def leaf():
        k = rng.integers(0, 7)
        a = int(rng.integers(0, 270_000))
        if k == 0:
            return f"id >= {a} AND id < {a + int(rng.integers(1, 20_000))}"
        if k == 1:
            return f"name = 'k{int(rng.integers(0, 270)):05d}'"
        if k == 2:
            lo, hi = ts_lit(a)[0], ts_lit(a + int(rng.integers(1, 9000)))[0]
            return f"ts > {lo} AND ts <= {hi}"
        if k == 3:
            return "n IS NULL" if rng.random() < 0.5 else f"n = {int(rng.integers(0, 60))}"
        if k == 4:
            return "id IN (%s)" % ", ".join(str(int(x)) for x in rng.integers(0, 270_000, 3))
        if k == 5:
            return f"cat = 'CSH' AND id < {a}"
        return f"NOT (id > {a})"
    e = leaf()
    for _ in range(int(rng.integers(0, 3))):
        e = f"({e}) {'AND' if rng.random() < 0.4 else 'OR'} ({leaf()})"
    return e


def test_random_filters_same_with_and_without(mixed, no_page_index):
    rng = np.random.default_rng(2024)
    skipped = 0
    for _ in range(40):
        expr = random_filter(rng)
        cols = None if rng.random() < 0.5 else ["tags", "id", "v"]
        a, s = load(mixed, no_page_index, columns=cols, filter=expr)
        b, _ = load(mixed, no_page_index, disabled=True, columns=cols, filter=expr)
        assert a.equals(b), expr
        skipped += s.pages_skipped > 0
    assert skipped >= 10  # the filters do exercise partial selections


def test_python_load_stats(mixed, s3_env):
    # The Python package reports the counters too (needs the package rebuilt
    # from this tree).
    hoist = pytest.importorskip("hoist")
    t = hoist.load_table("s3://" + mixed, filter="name = 'k00042'")
    s = t.load_stats
    assert s["pages_skipped"] > 0 and s["rows_skipped_by_page_index"] > 0
