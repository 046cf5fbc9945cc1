"""CSV reader against pyarrow.csv as the oracle: dialects, every type, nulls,
chunk boundaries (tiny blocks put a cut on every byte), streaming in pieces,
gzip/zstd files, files written by pandas, polars and DuckDB, and bad input."""
import datetime as dt
import gzip
import io
import random

import pyarrow as pa
import pyarrow.csv as pc
import pytest

import csv_ctypes as hc


def norm(t):
    """pyarrow infers timestamp[s]/[ns]; hoist gives [us]: compare in us."""
    cols = []
    for f, col in zip(t.schema, t.columns):
        if pa.types.is_timestamp(f.type):
            col = col.cast(pa.timestamp("us", f.type.tz))
        cols.append(col)
    return pa.table(cols, names=t.column_names).combine_chunks()


def arrow_read(data, parse=None, read=None, convert=None):
    parse = parse or pc.ParseOptions()
    parse.newlines_in_values = True
    return norm(pc.read_csv(io.BytesIO(data), parse_options=parse, read_options=read, convert_options=convert))


def assert_same(h, p):
    h = norm(h)
    assert h.schema == p.schema, f"\nhoist: {h.schema}\narrow: {p.schema}"
    assert h.equals(p), f"\nhoist: {h.to_pydict()}\narrow: {p.to_pydict()}"


# ---- dialects ---------------------------------------------------------------

DIALECT_CASES = [
    ("simple", b"a,b,c\n1,2,3\n4,5,6\n", {}, {}),
    ("crlf", b"a,b\r\n1,x\r\n2,y\r\n", {}, {}),
    ("cr only", b"a,b\r1,x\r2,y\r", {}, {}),
    ("no final newline", b"a,b\n1,x\n2,y", {}, {}),
    ("bom", b"\xef\xbb\xbfa,b\n1,2\n", {}, {}),
    ("blank lines", b"a,b\n\n1,2\n\r\n\n3,4\n\n", {}, {}),
    ("quoted newline", b'a,b\n1,"x\ny"\n2,"p\r\nq"\n', {}, {}),
    ("doubled quotes", b'a,b\n1,"say ""hi"""\n2,""""\n', {}, {}),
    ("quote mid field", b'a,b\n1,x"y\n2,"p"q\n', {}, {}),
    ("quoted delimiter", b'a,b\n"1,5",x\n"2",y\n', {}, {}),
    ("tab", b"a\tb\n1\tx\n", {"delimiter": "\t"}, {"delimiter": "\t"}),
    ("semicolon", b"a;b\n1,5;x\n", {"delimiter": ";"}, {"delimiter": ";"}),
    ("pipe", b"a|b\n1|x\n", {"delimiter": "|"}, {"delimiter": "|"}),
    ("escape", b'a,b\n1,"x\\"y"\n2,p\\,q\n', {"escape": "\\", "double_quote": 0},
     {"escape_char": "\\", "double_quote": False}),
    ("single quote", b"a,b\n1,'x,y'\n", {"quote": "'"}, {"quote_char": "'"}),
    ("no quoting", b'a,b\n1,"x\n', {"quote": 0}, {"quote_char": False}),
    ("empty fields", b"a,b,c\n,,\n1,,x\n", {}, {}),
    ("unicode", "a,b\n1,héllo wörld ✓\n2,日本語\n".encode(), {}, {}),
]


@pytest.mark.parametrize("name,data,hkw,pkw", DIALECT_CASES, ids=[c[0] for c in DIALECT_CASES])
@pytest.mark.parametrize("block", [0, 1, 3])
def test_dialects(name, data, hkw, pkw, block):
    p = arrow_read(data, parse=pc.ParseOptions(**pkw))
    h = hc.read_memory(data, header=1, block_size=block, threads=4 if block else 0, **hkw)
    assert_same(h, p)


def test_comments_and_sniffing():
    data = b"# a comment, with, commas\nx;y\n# another\n1;a\n2;b\n"
    t = hc.read_memory(data, comment="#")
    assert t.column_names == ["x", "y"]
    assert t.column("x").to_pylist() == [1, 2]
    assert t.column("y").to_pylist() == ["a", "b"]


@pytest.mark.parametrize("delim", [",", "\t", ";", "|"])
def test_sniff_delimiter_and_header(delim):
    rows = [["id", "name", "score"]] + [[str(i), f"n{i}", f"{i * 1.5}"] for i in range(20)]
    data = "\n".join(delim.join(r) for r in rows).encode()
    t = hc.read_memory(data)
    assert t.column_names == ["id", "name", "score"]
    assert t.num_rows == 20
    t = hc.read_memory("\n".join(delim.join(r) for r in rows[1:]).encode())
    assert t.column_names == ["f0", "f1", "f2"]
    assert t.num_rows == 20
    assert t.column("f0").type == pa.int64()


def test_header_sniff_all_text():
    assert hc.read_memory(b"name,city\nann,paris\nbob,rome\n").column_names == ["name", "city"]
    assert hc.read_memory(b"ann,paris\nbob,paris\n", header=0).num_rows == 2


# ---- types and nulls ----------------------------------------------------------

def random_table(rng, n):
    def maybe(v):
        return None if rng.random() < 0.1 else v
    texts = ["plain", "with,comma", 'with "quote"', "line\nbreak", "crlf\r\nbreak", "ünïcödé ✓", " lead",
             "trail ", "#hash", "", "x" * 300]
    return pa.table({
        "i": pa.array([maybe(rng.randint(-2**63, 2**63 - 1)) for _ in range(n)], pa.int64()),
        "small": pa.array([maybe(rng.randint(-5, 5)) for _ in range(n)], pa.int64()),
        "f": pa.array([maybe(rng.choice([rng.uniform(-1e6, 1e6), rng.random() * 1e-300, 1e300 * rng.random(),
                                         float(rng.randint(0, 9)), 0.1, 2.5e-8])) for _ in range(n)],
                      pa.float64()),
        "b": pa.array([maybe(rng.random() < 0.5) for _ in range(n)], pa.bool_()),
        "d": pa.array([maybe(dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 80000))) for _ in range(n)],
                      pa.date32()),
        "ts": pa.array([maybe(dt.datetime(1950, 1, 1) + dt.timedelta(microseconds=rng.randint(0, 3 * 10**15)))
                        for _ in range(n)], pa.timestamp("us")),
        "tz": pa.array([maybe(dt.datetime(2000, 1, 1) + dt.timedelta(seconds=rng.randint(0, 10**9)))
                        for _ in range(n)], pa.timestamp("s", "UTC")),
        "s": pa.array([maybe(rng.choice(texts) + str(rng.randint(0, 99))) for _ in range(n)], pa.string()),
        "nulls": pa.array([None] * n, pa.null()),
    })


def write_csv(t, **kw):
    buf = io.BytesIO()
    pc.write_csv(t, buf, pc.WriteOptions(**kw))
    return buf.getvalue()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("block,threads", [(0, 0), (97, 4), (1000, 2), (5, 1)])
def test_random_tables(seed, block, threads):
    rng = random.Random(seed)
    data = write_csv(random_table(rng, 300 + seed * 50))
    p = arrow_read(data)
    h = hc.read_memory(data, block_size=block, threads=threads)
    assert_same(h, p)


@pytest.mark.parametrize("feed", [1, 7, 4096])
def test_streaming_matches_one_shot(feed):
    data = write_csv(random_table(random.Random(9), 400))
    one = hc.read_memory(data)
    st = hc.read_streaming(data, feed, block_size=64, threads=2)
    assert st.schema == one.schema
    assert st.combine_chunks().equals(one.combine_chunks())


def test_every_split_point():
    """Tiny blocks cut the input at every byte: quotes, doubled quotes, CRLF
    and escaped bytes land on every boundary, and the result never changes."""
    data = (b'a,b,c\r\n"x\r\ny",1,"q""\n"\r\n"",2,","\r\n'
            b'plain,3,"""a""b"\r\n\r\n"\n\n",4,z\r\n"e,\r\n",5,"\r"\n')
    p = arrow_read(data)
    for block in range(1, len(data) + 1):
        for threads in (1, 3):
            assert_same(hc.read_memory(data, block_size=block, threads=threads), p)
    for feed in range(1, 12):
        assert_same(hc.read_streaming(data, feed, block_size=1, threads=2), p)


def test_escape_on_every_split_point():
    data = b'a,b\n"x\\"\\\\y",1\nq\\,r,2\n"\\\n",3\n'
    p = arrow_read(data, parse=pc.ParseOptions(escape_char="\\", double_quote=False))
    for block in range(1, len(data) + 1):
        h = hc.read_memory(data, escape="\\", double_quote=0, block_size=block, threads=2)
        assert_same(h, p)


def test_widening_past_the_sample():
    """A value that breaks the inferred type far from any sampled row widens
    the column (int -> double -> string), in every chunk alike."""
    rows = [str(i) for i in range(200000)]
    rows[150001] = "2.5"
    data = ("a\n" + "\n".join(rows) + "\n").encode()
    t = hc.read_memory(data, block_size=4096, threads=2)
    assert t.column("a").type == pa.float64()
    assert t.column("a").to_pylist()[150001] == 2.5
    assert t.column("a").to_pylist()[7] == 7.0
    rows[170003] = "oops"
    data = ("a\n" + "\n".join(rows) + "\n").encode()
    t = hc.read_memory(data, block_size=4096, threads=2)
    assert t.column("a").type == pa.string()
    assert t.column("a").to_pylist()[170003] == "oops"
    assert t.column("a").to_pylist()[150001] == "2.5"
    assert t.column("a").to_pylist()[5] == "5"


def test_nulls_and_bools_configurable():
    data = b"a,b,c\n-,yes,x\n1,no,-\n"
    t = hc.read_memory(data, null_values=["-"], true_values=["yes"], false_values=["no"], strings_can_be_null=1)
    assert t.column("a").to_pylist() == [None, 1]
    assert t.column("b").to_pylist() == [True, False]
    assert t.column("c").to_pylist() == ["x", None]
    p = arrow_read(data, convert=pc.ConvertOptions(null_values=["-"], true_values=["yes"], false_values=["no"],
                                                   strings_can_be_null=True))
    assert_same(t, p)


def test_projection_types_and_names():
    data = b"a,b,c\n1,2,x\n3,4,y\n"
    t = hc.read_memory(data, columns=["c", "a"], column_types={"a": "double"})
    assert t.column_names == ["c", "a"]
    assert t.column("a").type == pa.float64()
    t = hc.read_memory(data, column_names=["x", "y", "z"], header=1)
    assert t.column_names == ["x", "y", "z"] and t.num_rows == 2
    t = hc.read_memory(data, column_names=["x", "y", "z"])
    assert t.num_rows == 3 and t.column("x").type == pa.string()
    t = hc.read_memory(data, column_types={"b": "string", "a": "timestamp[us]"} if False else {"b": "string"})
    assert t.column("b").to_pylist() == ["2", "4"]
    with pytest.raises(hc.HoistError) as e:
        hc.read_memory(data, columns=["nope"])
    assert e.value.status == 205 and "nope" in e.value.message


def test_wide_and_long():
    wide = pa.table({f"c{i}": pa.array([i, None, -i]) for i in range(2000)})
    assert_same(hc.read_memory(write_csv(wide)), arrow_read(write_csv(wide)))
    n = 300000
    long = pa.table({"k": pa.array(range(n)), "v": pa.array([f"v{i % 97}" for i in range(n)])})
    data = write_csv(long)
    assert_same(hc.read_memory(data, threads=2), arrow_read(data))


def test_huge_field():
    big = ('"' + 'x"",\n' * 400000 + '"').encode()
    data = b"a,b\n1," + big + b"\n2,short\n"
    p = arrow_read(data)
    assert_same(hc.read_memory(data, block_size=65536, threads=2), p)
    assert_same(hc.read_streaming(data, 100000), p)


def test_empty_and_header_only():
    t = hc.read_memory(b"")
    assert t.num_columns == 0 and t.num_rows == 0
    t = hc.read_memory(b"a,b\n", header=1)
    assert t.column_names == ["a", "b"] and t.num_rows == 0
    assert t.schema.field("a").type == pa.null()
    t = hc.read_memory(b"a,b\n", header=1, column_types={"a": "int64"})
    assert t.schema.field("a").type == pa.int64()


# ---- other writers ---------------------------------------------------------------

def sample_frame(n=2000):
    import pandas as pd
    rng = random.Random(5)
    return pd.DataFrame({
        "id": range(n),
        "price": [round(rng.uniform(0, 100), 2) for _ in range(n)],
        "flag": [rng.random() < 0.3 for _ in range(n)],
        "name": [rng.choice(["a,b", 'q"t', "plain", "multi\nline", "é"]) for _ in range(n)],
        "day": [dt.date(2020, 1, 1) + dt.timedelta(days=i % 400) for i in range(n)],
        "when": [dt.datetime(2021, 5, 1, 12, 0, 0) + dt.timedelta(seconds=37 * i) for i in range(n)],
    })


def test_pandas_polars_duckdb_files(tmp_path):
    import duckdb
    import polars as pl
    df = sample_frame()
    paths = {}
    paths["pandas"] = tmp_path / "pandas.csv"
    df.to_csv(paths["pandas"], index=False)
    paths["polars"] = tmp_path / "polars.csv"
    pl.from_pandas(df).write_csv(paths["polars"])
    paths["duckdb"] = tmp_path / "duckdb.csv"
    con = duckdb.connect()
    con.register("df", df)
    con.execute(f"COPY df TO '{paths['duckdb']}' (HEADER, DELIMITER ',')")
    for who, path in paths.items():
        data = path.read_bytes()
        h = hc.read_file(path, threads=2, block_size=8192)
        p = arrow_read(data)
        assert_same(h, p), who


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_compressed_files(tmp_path, codec):
    data = write_csv(random_table(random.Random(3), 3000))
    path = tmp_path / f"t.csv.{codec}"
    if codec == "gzip":
        # two members: readers must go on after the first
        path.write_bytes(gzip.compress(data[:5000]) + gzip.compress(data[5000:]))
    else:
        with pa.CompressedOutputStream(str(path), "zstd") as f:
            f.write(data)
    h = hc.read_file(path, threads=2)
    assert_same(h, arrow_read(data))
    plain = tmp_path / "t.csv"
    plain.write_bytes(data)
    assert_same(hc.read_file(plain), arrow_read(data))


def test_compressed_truncated(tmp_path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 10000)[:-30])
    with pytest.raises(hc.HoistError) as e:
        hc.read_file(path)
    assert "truncated" in e.value.message or "corrupt" in e.value.message


# ---- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("block", [0, 4])
def test_errors_name_line_and_column(block):
    kw = dict(block_size=block, threads=2)
    with pytest.raises(hc.HoistError) as e:
        hc.read_memory(b"a,b\n1,2\n3\n4,5\n", **kw)
    assert e.value.status == 300 and "line 3" in e.value.message and "expected 2 fields, found 1" in e.value.message
    with pytest.raises(hc.HoistError) as e:
        hc.read_memory(b'a,b\n1,2\n3,"open\n4,5\n', **kw)
    assert "line 3" in e.value.message and "unterminated" in e.value.message
    with pytest.raises(hc.HoistError) as e:
        hc.read_memory(b"a,b\n1,x\n2,\xff\xfe\n", **kw)
    assert "line 3, column 2 ('b')" in e.value.message and "UTF-8" in e.value.message
    with pytest.raises(hc.HoistError) as e:
        hc.read_memory(b"a,b\n1,x\n2,y\nz,w\n", column_types={"a": "int64"}, **kw)
    assert "line 4, column 1 ('a')" in e.value.message and "'z' is not a valid int64" in e.value.message
    with pytest.raises(hc.HoistError) as e:
        hc.read_memory(bytes(range(256)) * 20, **kw)
    assert e.value.status == 300


def test_skip_bad_rows_counts_and_lines():
    data = b"a,b\n1,x\n2\n3,y\n4,y,z\n5,\xff\n6,w\n"
    st = {}
    t = hc.read_memory(data, skip_bad_rows=1, stats=st, block_size=3, threads=2)
    assert t.column("a").to_pylist() == [1, 3, 6]
    assert st["bad_rows"] == 3 and st["bad_lines"] == [3, 5, 6]
    assert st["rows"] == 3


def test_streaming_refuses_to_widen_after_first_block():
    data = b"a\n" + b"1\n" * 3000000 + b"x\n"
    with pytest.raises(hc.HoistError) as e:
        hc.read_streaming(data, 1 << 20, block_size=65536, threads=1)
    assert "line 3000002" in e.value.message and "set the column's type" in e.value.message
    t = hc.read_streaming(data, 1 << 20, block_size=65536, threads=1, column_types={"a": "string"})
    assert t.num_rows == 3000001


@pytest.mark.parametrize("block", [700, 1000, 4096])
def test_sample_taken_inside_a_quoted_field_is_discarded(block):
    """A chunk starting inside a long quoted field sees its lines as rows
    ("x,y": text in an int column); once the start proves wrong, the types
    are picked again without that sample, so column a stays int64."""
    data = ("a,b\n" + "1,p\n" * 300 + '2,"' + "x,y\n" * 600 + '"\n' + "3,q\n" * 300).encode()
    p = arrow_read(data)
    assert p.schema.field("a").type == pa.int64()
    assert_same(hc.read_memory(data, block_size=block, threads=2), p)


def test_doubles_round_exactly():
    """Every spelling reads as the correctly rounded double (Python's float
    is the reference): short decimals take the exact fast path, long ones
    strtod."""
    rng = random.Random(11)
    texts = []
    for _ in range(3000):
        x = rng.choice([rng.random(), rng.uniform(-1e9, 1e9), rng.random() * 10 ** rng.randint(-320, 308)])
        texts += [repr(x), "%.17g" % x, "%.3e" % x, "%.25f" % x, "%.10f" % x]
    texts += ["0000.5000", "1" * 19, "1" * 25, "9" * 30 + ".5", "0." + "0" * 30 + "1", "123456789012345678e-5",
              "1e-400", "2e308", ".5", "5.", "-0.0", "+3.25", "4.9e-324", "2.2250738585072011e-308"]
    data = ("x\n" + "\n".join(texts) + "\n").encode()
    got = hc.read_memory(data, column_types={"x": "double"}).column("x").to_pylist()
    want = [float(t) for t in texts]
    bad = [(t, g, w) for t, g, w in zip(texts, got, want) if g != w and not (g != g and w != w)]
    assert not bad, bad[:5]


def test_compressed_file_in_several_blocks(tmp_path):
    """A gzip file bigger than the streaming reader's buffer is parsed block
    by block; the result is the same as parsing the text in one piece."""
    data = write_csv(random_table(random.Random(4), 30000))
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(data))
    assert len(data) > 3 * (1 << 20)
    h = hc.read_file(path, threads=2, block_size=65536)
    assert h.num_rows == 30000 and len(h.to_batches()) > 3
    assert_same(h, arrow_read(data))


@pytest.mark.parametrize("codec", ["plain", "gzip", "zstd"])
def test_taxi_shaped_file_against_pyarrow(tmp_path, codec):
    """The shapes the fast paths take (17-digit coordinates, money with two
    decimals, 'YYYY-MM-DD HH:MM:SS[.ffffff]' timestamps, short quoted
    strings) read from a file — plain (mapped, pages dropped), gzip
    (inflated whole) or zstd (decompressed on its own thread) — with small
    chunks, equal pyarrow's reading bit for bit."""
    rng = random.Random(21)
    n = 20000
    base = dt.datetime(2014, 12, 1)
    t = pa.table({
        "vendor": pa.array([rng.choice(["VTS", "CMT", "DDS"]) for _ in range(n)]),
        "pickup": pa.array([base + dt.timedelta(microseconds=rng.randint(0, 31 * 86400 * 10**6)) for _ in range(n)],
                           pa.timestamp("us")),
        "dropoff": pa.array([base + dt.timedelta(seconds=rng.randint(0, 31 * 86400)) for _ in range(n)],
                            pa.timestamp("s")),
        "lon": pa.array([-74 + rng.random() * 0.5 for _ in range(n)]),
        "lat": pa.array([40.5 + rng.random() * 0.4 for _ in range(n)]),
        "fare": pa.array([round(rng.random() * 60, 2) for _ in range(n)]),
        "tiny": pa.array([rng.random() * 10.0 ** rng.randint(-30, 30) for _ in range(n)]),
        "count": pa.array([rng.randint(0, 6) for _ in range(n)]),
    })
    data = write_csv(t)
    path = tmp_path / "taxi.csv"
    if codec == "gzip":
        path = tmp_path / "taxi.csv.gz"
        path.write_bytes(gzip.compress(data, 1))
    elif codec == "zstd":
        zstd = pytest.importorskip("zstandard")
        path = tmp_path / "taxi.csv.zst"
        path.write_bytes(zstd.ZstdCompressor().compress(data))
    else:
        path.write_bytes(data)
    h = hc.read_file(path, threads=2, block_size=65536 + 7)
    assert h.num_rows == n and len(h.to_batches()) > 3
    assert_same(h, arrow_read(data))
