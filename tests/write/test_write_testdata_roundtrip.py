"""Round trip of the shared conformance files through hoist's writer: every
Parquet file of parquet-testing and arrow-testing that hoist reads is written
again by hoist (hoist.write_table, default options and a second pass with
page v2 + zstd + dictionary off), then

  - pyarrow reads hoist's file equal to what pyarrow reads from the original;
  - hoist reads its own file equal to what it read from the original.

Files hoist cannot read are not skipped silently: each is in NOT_READABLE
with the reason (or in a category with one: encrypted files, fuzzer crash
reproducers), and the test checks that hoist still refuses it (a file that
starts to read must be moved out of the list)."""

import glob
import os

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
hoist = pytest.importorskip("hoist")
if not hasattr(hoist, "write_table"):
    pytest.skip("hoist built without the writer", allow_module_level=True)

TESTDATA = os.environ.get(
    "HOIST_TESTDATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "testdata"))
if not os.path.isdir(TESTDATA):
    pytest.skip("no test data at " + TESTDATA, allow_module_level=True)


def _files():
    out = []
    for root in ("parquet-testing", "arrow-testing"):
        for p in glob.glob(os.path.join(TESTDATA, root, "**", "*"), recursive=True):
            name = os.path.basename(p)
            if os.path.isfile(p) and (name.endswith((".parquet", ".parquet.encrypted")) or "fuzzing" in p):
                out.append(os.path.relpath(p, TESTDATA))
    return sorted(out)


FILES = _files()

# Files hoist refuses to read (and pyarrow too), each with the reason. The
# test asserts the refusal, so the list cannot go stale silently.
NOT_READABLE = {
    "ARROW-GH-41317.parquet": "corrupt: column chunk holds 0 of its 3 values",
    "ARROW-GH-41321.parquet": "corrupt: level run with bit width 254",
    "ARROW-GH-45185.parquet": "corrupt: a record starts with repetition level 1",
    "ARROW-GH-47662.parquet": "corrupt: PLAIN values overrun the page",
    "ARROW-RS-GH-6229-DICTHEADER.parquet": "corrupt: dictionary page header",
    "ARROW-RS-GH-6229-LEVELS.parquet": "corrupt: page holds more values than the chunk",
    "PARQUET-1481.parquet": "corrupt: unknown physical type",
    "incorrect_map_schema.parquet": "invalid schema: map keys not annotated required (pyarrow refuses too)",
}
ENCRYPTED_REASON = "Parquet Modular Encryption: hoist has no decryption keys support"
FUZZ_REASON = "crash reproducer, corrupt on purpose: a clean refusal is expected, a file that reads must round-trip"

# Files whose round trip is not attempted, with the reason.
NOT_ATTEMPTED = {
    "large_string_map.brotli.parquet": "two 1 GiB strings: > 4 GiB peak RSS to read, write and read back",
}

# Files with pages whose CRCs are wrong on purpose: hoist reads them with
# verify_crc=False (the conformance test checks the refusal).
BAD_CRC = {"datapage_v1-corrupt-checksum.parquet", "rle-dict-uncompressed-corrupt-checksum.parquet"}


def _equal(got, exp):
    if got.equals(exp):
        return True
    # NaN != NaN in Table.equals: compare the values' text instead.
    return repr(got.to_pylist()) == repr(exp.to_pylist())


def _check_same(what, got, exp):
    assert got.schema.equals(exp.schema, check_metadata=False), \
        f"{what}: schema differs:\ngot:\n{got.schema}\nexpected:\n{exp.schema}"
    if _equal(got, exp):
        return
    for name in exp.column_names:
        g, e = got[name], exp[name]
        if not (g.equals(e) or repr(g.to_pylist()) == repr(e.to_pylist())):
            pytest.fail(f"{what}: column {name} differs: got {g.to_pylist()[:8]} expected {e.to_pylist()[:8]}")
    pytest.fail(f"{what}: tables differ")


OPTIONS = {
    "default": {},
    "v2-zstd-plain": {"data_page_version": 2, "compression": "zstd", "dictionary": False},
}


@pytest.mark.parametrize("opts", sorted(OPTIONS))
@pytest.mark.parametrize("rel", FILES)
def test_roundtrip(rel, opts, tmp_path):
    path = os.path.join(TESTDATA, rel)
    name = os.path.basename(rel)
    if name in NOT_ATTEMPTED:
        pytest.skip(NOT_ATTEMPTED[name])
    kwargs = {"verify_crc": False} if name in BAD_CRC else {}
    reason = NOT_READABLE.get(name) or (ENCRYPTED_REASON if name.endswith(".encrypted") else None)
    if reason:
        with pytest.raises(hoist.ParquetError) as info:
            hoist.read_parquet(path, **kwargs)
        assert str(info.value), reason
        return
    try:
        first = pa.table(hoist.read_parquet(path, **kwargs))
    except hoist.ParquetError as e:
        if "fuzzing" in rel:
            assert str(e), FUZZ_REASON
            return
        pytest.fail(f"hoist cannot read {rel} ({e}); list it in NOT_READABLE with the reason")
    exp = pq.read_table(path)  # whatever hoist reads, pyarrow reads (test_conformance.py)
    out = tmp_path / "out.parquet"
    hoist.write_table(first, str(out), **OPTIONS[opts])
    _check_same("pyarrow reads hoist's file", pq.read_table(out), exp)
    _check_same("hoist reads its own file", pa.table(hoist.read_parquet(str(out))), first)
