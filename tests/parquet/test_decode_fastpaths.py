"""The reader's fast paths against pyarrow: dictionary strings copied from
16-byte slots (entries of exactly 16 and 17 bytes, large_string, nulls,
fallback to PLAIN), float dictionaries decompressed in place, and the
threaded stream that queues the next row group (many row groups, columns of
very different sizes, and an error in a late row group)."""
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
np = pytest.importorskip("numpy")
hoist = pytest.importorskip("hoist")


def _table(n, seed=1):
    rng = np.random.default_rng(seed)
    words = ["", "a", "x" * 15, "y" * 16, "z" * 17, "é" * 8, "tail-" + "q" * 40]
    short = ["", "a", "x" * 15, "y" * 16, "é" * 8]  # all within a 16-byte slot
    cat = [words[i] for i in rng.integers(0, len(words), n)]
    mask = rng.random(n) < 0.1
    return pa.table({
        "cat": pa.array(cat, mask=mask),
        "cat_large": pa.array(cat, type=pa.large_string()),
        "short": pa.array([short[i] for i in rng.integers(0, len(short), n)], mask=mask),
        "short_large": pa.array([short[i] for i in rng.integers(0, len(short), n)], type=pa.large_string()),
        "f32": pa.array(rng.standard_normal(n).astype(np.float32)),
        "f64": pa.array(np.round(rng.standard_normal(n), 1)),
        "i8": pa.array(rng.integers(-5, 5, n).astype(np.int8)),
        "ts": pa.array(rng.integers(0, 10**15, n).astype("datetime64[us]")),
    })


@pytest.mark.parametrize("codec", ["snappy", "zstd", "none"])
@pytest.mark.parametrize("threads", [0, 1, 3])
def test_fast_paths_match_pyarrow(tmp_path, codec, threads):
    t = _table(20000)
    path = str(tmp_path / "t.parquet")
    # small dictionary pages force fallback to PLAIN within chunks
    pq.write_table(t, path, compression=codec, row_group_size=3000, dictionary_pagesize_limit=4096,
                   data_page_size=8192)
    exp = pq.read_table(path)
    got = pa.table(hoist.read_parquet(path, threads=threads))
    assert got.schema.equals(exp.schema)
    assert got.equals(exp)


def test_error_in_late_row_group_threaded(tmp_path):
    t = _table(6000)
    path = str(tmp_path / "t.parquet")
    pq.write_table(t, path, compression="none", row_group_size=1000, write_page_checksum=True,
                   use_dictionary=False)
    md = pq.ParquetFile(path).metadata
    col = md.row_group(4).column(3)  # f32 of the fifth row group
    data = bytearray(open(path, "rb").read())
    end = col.data_page_offset + col.total_compressed_size
    data[end - 3] ^= 0xFF  # inside the last page's values
    for threads in (0, 1, 2):
        with pytest.raises(hoist.ParquetError, match="row group 4.*CRC mismatch"):
            hoist.read_parquet(bytes(data), threads=threads)


def _plain_table(n, seed=2):
    rng = np.random.default_rng(seed)
    sparse = np.zeros(n, bool)
    sparse[::500] = True  # a null now and then: some pages' levels a few bytes longer
    dense = rng.random(n) < 0.3  # levels bit-packed, far longer than a run
    dense[: n // 2] = False
    return pa.table({
        "i32_req": pa.array(rng.integers(-2**31, 2**31, n).astype(np.int32)),
        "i64": pa.array(rng.integers(-2**62, 2**62, n)),
        "f64_sparse_nulls": pa.array(rng.standard_normal(n), mask=sparse),
        "f32_dense_nulls": pa.array(rng.standard_normal(n).astype(np.float32), mask=dense),
        "all_null_tail": pa.array(rng.standard_normal(n), mask=np.arange(n) >= n - 300),
        "ts": pa.array(rng.integers(0, 10**15, n).astype("datetime64[us]")),
        "flba3": pa.array([bytes(rng.integers(0, 256, 3).astype(np.uint8)) for _ in range(n)], pa.binary(3)),
    }, schema=pa.schema([pa.field("i32_req", pa.int32(), nullable=False), ("i64", pa.int64()),
                         ("f64_sparse_nulls", pa.float64()), ("f32_dense_nulls", pa.float32()),
                         ("all_null_tail", pa.float64()), ("ts", pa.timestamp("us")),
                         ("flba3", pa.binary(3))]))


@pytest.mark.parametrize("codec", ["snappy", "zstd", "gzip", "lz4", "brotli", "none"])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_plain_values_decompressed_in_place(tmp_path, codec, version):
    """PLAIN fixed-width pages are decompressed straight into the output: v1
    pages at the previous page's level size before its end (right, too
    short, too long, or first page), v2 pages at its end; pages of 37-row
    batches so no page boundary falls on a byte of validity bits."""
    t = _plain_table(9000)
    path = str(tmp_path / "t.parquet")
    pq.write_table(t, path, compression=codec, use_dictionary=False, data_page_size=700, write_batch_size=37,
                   data_page_version=version, row_group_size=6000)
    md = pq.ParquetFile(path).metadata
    assert "PLAIN" in md.row_group(0).column(1).encodings
    exp = pq.read_table(path)
    for threads in (1, 0):
        got = pa.table(hoist.read_parquet(path, threads=threads))
        assert got.schema.equals(exp.schema)
        for name in exp.column_names:
            assert got[name].equals(exp[name]), name
