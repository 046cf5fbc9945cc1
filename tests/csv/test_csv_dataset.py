"""CSV datasets (src/dataset/ds_csv_*.c): hoist.load_table(format="csv") /
hoist.scan / the CLI on directories, globs and S3 prefixes of CSV files
(plain, gzip, zstd, bzip2) with Hive partitions, projection, filters,
limits, samples and shards, against pyarrow.dataset(format="csv") and
duckdb's read_csv."""
import bz2
import gzip
import io
import random

import pyarrow as pa
import pyarrow.compute as pcmp
import pyarrow.csv as pc
import pyarrow.dataset as pds
import pytest

from conftest import run_cli

hoist = pytest.importorskip("hoist")


def zstd(data):
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as f:
        f.write(data)
    return sink.getvalue().to_pybytes()


CODECS = {"": lambda d: d, ".gz": gzip.compress, ".zst": zstd, ".bz2": bz2.compress}


def file_text(month, k, n):
    rnd = random.Random(month * 10 + k)
    rows = []
    for i in range(n):
        name = rnd.choice(["a", "b,c", 'say "hi"', "multi\nline", ""])
        fare = "" if i % 17 == 0 else f"{rnd.random() * 100:.4f}"
        rows.append(f'{i},{fare},"{name.replace(chr(34), chr(34) * 2)}",2024-{month:02d}-{k + 10}')
    return ("id,fare,name,day\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """month=1..3 / part{k}.csv{codec}, 1000..3000 rows per file."""
    base = tmp_path_factory.mktemp("csvds")
    plain = tmp_path_factory.mktemp("csvds_plain")  # the same text uncompressed, for the oracle
    for m in (1, 2, 3):
        (base / f"month={m}").mkdir()
        (plain / f"month={m}").mkdir()
        for k, (ext, comp) in enumerate(CODECS.items()):
            (base / f"month={m}" / f"part{k}.csv{ext}").write_bytes(comp(file_text(m, k, 1000 * m)))
            (plain / f"month={m}" / f"part{k}.csv").write_bytes(file_text(m, k, 1000 * m))
    tree.plain = plain
    return base


def oracle(base):
    """pyarrow.dataset over the same text (uncompressed: it does not read .zst)."""
    fmt = pds.CsvFileFormat(parse_options=pc.ParseOptions(newlines_in_values=True))
    t = pds.dataset(str(tree.plain), format=fmt, partitioning="hive").to_table()
    return t.cast(pa.schema([f.with_type(pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f
                             for f in t.schema]))


def sort(t):
    return t.sort_by([("month", "ascending"), ("day", "ascending"), ("id", "ascending")])


def test_load_matches_pyarrow_dataset(tree):
    t = pa.table(hoist.load_table(str(tree), format="csv"))
    ref = oracle(tree)
    assert t.schema == ref.schema
    assert sort(t).equals(sort(ref))
    assert t.num_rows == 4 * (1000 + 2000 + 3000)


def test_format_from_extension_and_glob(tree):
    t = pa.table(hoist.load_table(str(tree / "month=2" / "*.csv*")))
    assert t.num_rows == 4 * 2000
    assert set(t.column("month").to_pylist()) == {2}


def test_projection_filter_prunes_partitions(tree):
    tab = hoist.load_table(str(tree), format="csv", columns=["fare", "month"],
                           filter="month >= 2 AND fare > 50 AND name != 'a'")
    t = pa.table(tab)
    ref = oracle(tree)
    want = ref.filter((pcmp.field("month") >= 2) & (pcmp.field("fare") > 50) & (pcmp.field("name") != "a"))
    assert t.column_names == ["fare", "month"]
    assert sorted(t.column("fare").to_pylist()) == sorted(want.column("fare").to_pylist())
    st = tab.load_stats
    assert st["row_groups"] == 12 and st["row_groups_pruned"] == 4  # month=1's four files never read


def test_filter_only_columns_and_partition_only(tree):
    t = pa.table(hoist.load_table(str(tree), format="csv", columns=["month"], filter="id < 10"))
    assert t.column_names == ["month"] and t.num_rows == 12 * 10
    t = pa.table(hoist.load_table(str(tree), format="csv", columns=["month"]))
    assert t.num_rows == 24000


def test_limit_sample_and_scan(tree):
    t = pa.table(hoist.load_table(str(tree), format="csv", limit=1234))
    assert t.num_rows == 1234
    a = pa.table(hoist.load_table(str(tree), format="csv", sample=0.1, seed=7))
    b = pa.table(hoist.load_table(str(tree), format="csv", sample=0.1, seed=7))
    assert a.equals(b) and 1500 < a.num_rows < 3300
    batches = list(hoist.scan(str(tree), format="csv", columns=["id"], memory_limit=65536))
    assert sum(len(b) for b in batches) == 24000


def test_shards_cover_every_row_once(tree):
    shards = hoist.shards(str(tree), 3, format="csv", filter="month >= 2")
    assert len(shards) == 3
    total = sum(pa.table(hoist.load_table(s, format="csv", filter="month >= 2")).num_rows for s in shards)
    assert total == 4 * (2000 + 3000)


def test_csv_options_and_errors(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"x;y\n1;NA\n2;b\n")
    (tmp_path / "b.csv").write_bytes(b"x;y\n3;c\n")
    t = pa.table(hoist.load_table(str(tmp_path), format="csv", csv={"delimiter": ";", "column_types": {"x": "double"}}))
    assert t.column("x").type == pa.float64() and sorted(t.column("x").to_pylist()) == [1.0, 2.0, 3.0]
    # the schema comes from the first file: a later value that does not fit names its file and line
    (tmp_path / "c.csv").write_bytes(b"x;y\nnot-a-number;d\n")
    with pytest.raises(Exception, match=r"c\.csv.*line 2"):
        hoist.load_table(str(tmp_path), format="csv", csv={"delimiter": ";"})
    with pytest.raises(TypeError):
        hoist.load_table(str(tmp_path), format="csv", csv={"columns": ["x"]})


def test_matches_duckdb(tree):
    duckdb = pytest.importorskip("duckdb")
    plain = sorted(str(p) for p in tree.glob("month=*/*.csv"))
    t = pa.table(hoist.load_table(plain, format="csv", columns=["id", "fare", "month"]))
    d = duckdb.sql(f"select id, fare, month from read_csv({plain!r}, hive_partitioning=true)").arrow()
    d = d.read_all() if hasattr(d, "read_all") else d
    key = [("month", "ascending"), ("id", "ascending")]
    assert t.sort_by(key).column("fare").equals(d.sort_by(key).column("fare"))


def test_cli_load_directory(tree, hoist_cli):
    p = run_cli(hoist_cli, "load", str(tree), "--format", "csv", "--filter", "month = 3", "--columns", "id,month",
                check=True)
    assert "12000" in p.stdout_text
    p = run_cli(hoist_cli, "head", str(tree) + "/", "--format", "csv", "-n", "2", check=True)
    assert "month" in p.stdout_text.splitlines()[0]


def test_s3_prefix(s3_env, bucket, s3, tree):
    for f in sorted(tree.rglob("*.csv*")):
        s3.put_object(Bucket=bucket, Key="raw/" + str(f.relative_to(tree)), Body=f.read_bytes())
    tab = hoist.load_table(f"s3://{bucket}/raw/", format="csv", filter="month = 2")
    t = pa.table(tab)
    ref = oracle(tree).filter(pcmp.field("month") == 2)
    assert sort(t).equals(sort(ref))
    assert tab.load_stats["row_groups_pruned"] == 8
