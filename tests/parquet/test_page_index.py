"""Page index (ColumnIndex + OffsetIndex) and row-selection decoding:
hoist_pq_file_page_index_range, hoist_pq_page_index_new/pages/field_ranges
and hoist_pq_decode_field_rows, called through ctypes on the shared library
(HOIST_LIB, default build/libhoist.so) and checked against pyarrow."""

import ctypes
import glob
import io
import math
import os
import pathlib
import random
import struct

import pytest

from hoist_lib import ArrowArray, ArrowSchema

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pc = pytest.importorskip("pyarrow.compute")

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = os.environ.get("HOIST_LIB") or str(ROOT / "build" / "libhoist.so")
TESTDATA = os.environ.get("HOIST_TESTDATA", str(ROOT.parent / "shared" / "testdata"))
PQ_DATA = os.path.join(TESTDATA, "parquet-testing", "data")

if not os.path.exists(LIB_PATH):
    pytest.skip("no shared library at " + LIB_PATH, allow_module_level=True)

OK, INVALID_ARG, PARQUET_CORRUPT = 0, 2, 200
STAT_NONE, STAT_INT, STAT_UINT, STAT_DOUBLE, STAT_BYTES, STAT_BOOL, STAT_DECIMAL = range(7)


# ---- ctypes binding ---------------------------------------------------------

class Stats(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("has_null_count", ctypes.c_int), ("null_count", ctypes.c_int64),
                ("num_values", ctypes.c_int64), ("min_i", ctypes.c_int64), ("max_i", ctypes.c_int64),
                ("min_u", ctypes.c_uint64), ("max_u", ctypes.c_uint64), ("min_d", ctypes.c_double),
                ("max_d", ctypes.c_double), ("min_b", ctypes.c_void_p), ("max_b", ctypes.c_void_p),
                ("min_b_len", ctypes.c_size_t), ("max_b_len", ctypes.c_size_t)]


class Page(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_uint64), ("length", ctypes.c_uint64), ("first_row", ctypes.c_int64),
                ("num_rows", ctypes.c_int64), ("null_page", ctypes.c_int), ("stats", Stats)]


class RowRange(ctypes.Structure):
    _fields_ = [("first", ctypes.c_int64), ("count", ctypes.c_int64)]


class ByteRange(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_uint64), ("length", ctypes.c_uint64)]


class Bytes(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_uint64), ("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]


def _load():
    L = ctypes.CDLL(LIB_PATH)
    vp, u64, i64, sz, P = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_size_t, ctypes.POINTER
    L.hoist_errmsg.restype = ctypes.c_char_p
    L.hoist_pq_file_new.argtypes = [vp, sz, u64, ctypes.c_char_p, P(vp)]
    L.hoist_pq_file_free.argtypes = [vp]
    L.hoist_pq_file_schema.argtypes = [vp, ctypes.c_uint, vp]
    L.hoist_pq_file_page_index_range.argtypes = [vp, P(u64), P(u64)]
    L.hoist_pq_page_index_new.argtypes = [vp, vp, u64, sz, P(vp)]
    L.hoist_pq_page_index_free.argtypes = [vp]
    L.hoist_pq_page_index_pages.argtypes = [vp, ctypes.c_int, ctypes.c_int, P(P(Page)), P(sz)]
    L.hoist_pq_page_index_field_ranges.argtypes = [vp, ctypes.c_int, ctypes.c_int, P(RowRange), sz, P(ByteRange),
                                                   sz, P(sz)]
    L.hoist_pq_decode_field_rows.argtypes = [vp, vp, ctypes.c_int, ctypes.c_int, P(Bytes), sz, P(RowRange), sz,
                                             ctypes.c_uint, P(ArrowArray)]
    L.hoist_pq_file_row_group_num_rows.restype = i64
    L.hoist_pq_file_row_group_num_rows.argtypes = [vp, ctypes.c_int]
    L.hoist_pq_file_num_row_groups.argtypes = [vp]
    L.hoist_pq_file_num_fields.argtypes = [vp]
    L.hoist_pq_file_field_stats.argtypes = [vp, ctypes.c_int, ctypes.c_int, P(Stats)]
    return L


if not hasattr(ctypes.CDLL(LIB_PATH), "hoist_pq_decode_field_rows"):
    pytest.skip(LIB_PATH + " predates the page index API", allow_module_level=True)
L = _load()


class HoistError(Exception):
    def __init__(self, status, message):
        super().__init__(f"[{status}] {message}")
        self.status, self.message = status, message


def check(st):
    if st != OK:
        raise HoistError(st, L.hoist_errmsg().decode())


class PqFile:
    """A parsed footer plus (optionally) its page index."""

    def __init__(self, data, name="t.parquet"):
        self.data = data
        self._buf = ctypes.create_string_buffer(data, len(data))
        self.f = ctypes.c_void_p()
        check(L.hoist_pq_file_new(self._buf, len(data), len(data), name.encode(), ctypes.byref(self.f)))
        self.idx = None
        self.num_row_groups = L.hoist_pq_file_num_row_groups(self.f)
        self.num_fields = L.hoist_pq_file_num_fields(self.f)
        self._schemas = {}

    def rg_rows(self, rg):
        return L.hoist_pq_file_row_group_num_rows(self.f, rg)

    def schema(self, flags=0):
        if flags not in self._schemas:
            s = ArrowSchema()
            check(L.hoist_pq_file_schema(self.f, flags, ctypes.byref(s)))
            self._schemas[flags] = pa.Schema._import_from_c(ctypes.addressof(s))
        return self._schemas[flags]

    def index_range(self):
        o, n = ctypes.c_uint64(), ctypes.c_uint64()
        check(L.hoist_pq_file_page_index_range(self.f, ctypes.byref(o), ctypes.byref(n)))
        return o.value, n.value

    def open_index(self, blob=None, offset=None):
        if blob is None:
            o, n = self.index_range()
            blob, offset = self.data[o:o + n], o
        buf = ctypes.create_string_buffer(blob, max(len(blob), 1))
        idx = ctypes.c_void_p()
        check(L.hoist_pq_page_index_new(self.f, buf, offset, len(blob), ctypes.byref(idx)))
        del buf  # the index keeps its own copy
        self.close_index()
        self.idx = idx

    def close_index(self):
        if self.idx:
            L.hoist_pq_page_index_free(self.idx)
            self.idx = None

    def pages(self, rg, field):
        p, n = ctypes.POINTER(Page)(), ctypes.c_size_t()
        check(L.hoist_pq_page_index_pages(self.idx, rg, field, ctypes.byref(p), ctypes.byref(n)))
        return [p[i] for i in range(n.value)]

    def ranges(self, rg, field, rows):
        rr = (RowRange * max(len(rows), 1))(*[RowRange(a, b) for a, b in rows])
        n = ctypes.c_size_t()
        check(L.hoist_pq_page_index_field_ranges(self.idx, rg, field, rr, len(rows), None, 0, ctypes.byref(n)))
        out, n2 = (ByteRange * max(n.value, 1))(), ctypes.c_size_t()
        check(L.hoist_pq_page_index_field_ranges(self.idx, rg, field, rr, len(rows), out, n.value, ctypes.byref(n2)))
        assert n2.value == n.value
        return [(out[i].offset, out[i].length) for i in range(n.value)]

    def decode_rows(self, rg, field, rows, parts=None, flags=0, use_index=True):
        if parts is None:
            parts = [(0, self.data)]
        keep, pp = [], (Bytes * max(len(parts), 1))()
        for i, (off, blob) in enumerate(parts):
            b = ctypes.create_string_buffer(blob, max(len(blob), 1))
            keep.append(b)
            pp[i] = Bytes(off, ctypes.cast(b, ctypes.c_void_p), len(blob))
        rr = (RowRange * max(len(rows), 1))(*[RowRange(a, b) for a, b in rows])
        arr = ArrowArray()
        check(L.hoist_pq_decode_field_rows(self.f, self.idx if use_index else None, rg, field, pp, len(parts), rr,
                                           len(rows), flags, ctypes.byref(arr)))
        return pa.Array._import_from_c(ctypes.addressof(arr), self.schema(flags).field(field).type)

    def close(self):
        self.close_index()
        if self.f:
            L.hoist_pq_file_free(self.f)
            self.f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- a minimal Thrift compact reader: page headers ------------------------------

def _varint(b, p):
    v = s = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, p


def _zz(v):
    return (v >> 1) ^ -(v & 1)


def _skip(b, p, t):
    if t in (1, 2):
        return p
    if t == 3:
        return p + 1
    if t in (4, 5, 6):
        return _varint(b, p)[1]
    if t == 7:
        return p + 8
    if t == 8:
        n, p = _varint(b, p)
        return p + n
    if t in (9, 10):
        h = b[p]
        p += 1
        n, et = h >> 4, h & 15
        if n == 15:
            n, p = _varint(b, p)
        for _ in range(n):
            p = p + 1 if et in (1, 2) else _skip(b, p, et)
        return p
    if t == 12:
        return _struct(b, p)[1]
    raise ValueError(f"thrift type {t}")


def _struct(b, p):
    """Integer and struct fields of a struct: {id: int or dict}, end."""
    out, last = {}, 0
    while True:
        h = b[p]
        p += 1
        t = h & 15
        if t == 0:
            return out, p
        last = last + (h >> 4) if h >> 4 else None
        if last is None:
            v, p = _varint(b, p)
            last = _zz(v)
        if t in (4, 5, 6):
            v, p = _varint(b, p)
            out[last] = _zz(v)
        elif t == 12:
            out[last], p = _struct(b, p)
        else:
            p = _skip(b, p, t)


def page_header(data, off):
    h, end = _struct(data, off)
    return h, end - off


# ---- helpers ---------------------------------------------------------------------

def write(table, **kw):
    b = io.BytesIO()
    opts = dict(write_page_index=True, data_page_size=512, write_batch_size=64, row_group_size=3000)
    opts.update(kw)
    pq.write_table(table, b, **opts)
    return b.getvalue()


def random_rows(rng, n, k=None):
    """Sorted disjoint random row ranges of [0, n)."""
    if n == 0:
        return []
    cuts = sorted(rng.sample(range(n + 1), min(n + 1, k or rng.randint(1, 12) * 2)))
    out = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        if b > a:
            out.append((a, b - a))
    if rng.random() < 0.2:
        out.append((out[-1][0] + out[-1][1], 0) if out and out[-1][0] + out[-1][1] <= n else (0, 0))
        out = sorted(set(out))
        out = [r for i, r in enumerate(out) if i == 0 or r[0] >= out[i - 1][0] + out[i - 1][1]]
    return out


def expected(col, rows):
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    parts = [col.slice(a, c) for a, c in rows]
    return pa.concat_arrays(parts) if parts else col.slice(0, 0)


def same(got, exp):
    """Array equality with NaNs equal to themselves (bit patterns compared)."""
    if pa.types.is_floating(got.type) and got.type == exp.type:
        it = {16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[got.type.bit_width]
        return got.view(it).equals(exp.view(it))
    return got.equals(exp)


def check_pages(f, rg, field, data, flat=True):
    pages = f.pages(rg, field)
    n = f.rg_rows(rg)
    assert pages, "no pages listed"
    assert pages[0].first_row == 0
    for i, p in enumerate(pages):
        h, hl = page_header(data, p.offset)
        assert h[1] in (0, 3), f"page {i}: type {h[1]} at {p.offset} is not a data page"
        assert hl + h[3] == p.length, f"page {i}: header {hl} + body {h[3]} != {p.length}"
        nv = h[5][1] if 5 in h else h[8][1]
        if flat:
            assert nv == p.num_rows, f"page {i}: {nv} values, {p.num_rows} rows"
        nxt = pages[i + 1].first_row if i + 1 < len(pages) else n
        assert p.first_row + p.num_rows == nxt
    return pages


def check_page_stats(pages, col, arrow_type):
    """Each page's min/max bound the values of its rows."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    for p in pages:
        vals = col.slice(p.first_row, p.num_rows)
        nn = vals.null_count
        s = p.stats
        if p.null_page:
            assert nn == p.num_rows and s.kind == STAT_NONE
            continue
        if s.has_null_count:
            assert s.null_count == nn
        assert s.num_values == p.num_rows
        if s.kind == STAT_NONE:
            continue
        if pa.types.is_temporal(vals.type):
            vals = vals.view(pa.int64() if vals.type.bit_width == 64 else pa.int32())
        mm = pc.min_max(vals)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if s.kind == STAT_INT:
            assert s.min_i <= lo and hi <= s.max_i, (s.min_i, lo, hi, s.max_i)
        elif s.kind == STAT_UINT:
            assert s.min_u <= lo and hi <= s.max_u
        elif s.kind == STAT_DOUBLE:
            if lo is None or (isinstance(lo, float) and math.isnan(lo)):
                continue
            assert s.min_d <= lo and hi <= s.max_d
        elif s.kind == STAT_BOOL:
            assert s.min_i <= int(lo) and int(hi) <= s.max_i
        elif s.kind == STAT_BYTES:
            mn = ctypes.string_at(s.min_b, s.min_b_len)
            mx = ctypes.string_at(s.max_b, s.max_b_len)
            enc = (lambda v: v.encode()) if isinstance(lo, str) else (lambda v: v)
            assert mn <= enc(lo) and enc(hi) <= mx, (mn, lo, hi, mx)
        elif s.kind == STAT_DECIMAL:
            mn, mx = decimal_bounds(s)
            scale = vals.type.scale
            assert mn <= int(lo.scaleb(scale)) and int(hi.scaleb(scale)) <= mx, (mn, lo, hi, mx)
        else:
            raise AssertionError("unknown stats kind %d" % s.kind)


def decimal_bounds(s):
    """Unscaled min/max of HOIST_PQ_STAT_DECIMAL stats."""
    if s.min_b:
        return (int.from_bytes(ctypes.string_at(s.min_b, s.min_b_len), "big", signed=True),
                int.from_bytes(ctypes.string_at(s.max_b, s.max_b_len), "big", signed=True))
    return s.min_i, s.max_i


def check_selections(f, table, rng, trials=6, flags=0, parts_from_ranges=True):
    """decode_field_rows over random selections equals pyarrow's slices."""
    offset = 0
    for rg in range(f.num_row_groups):
        n = f.rg_rows(rg)
        for field in range(f.num_fields):
            col = table.column(field).slice(offset, n)
            for t in range(trials):
                rows = random_rows(rng, n) if t else [(0, n)]
                parts = None
                if parts_from_ranges and f.idx:
                    parts = [(o, f.data[o:o + ln]) for o, ln in f.ranges(rg, field, rows)]
                got = f.decode_rows(rg, field, rows, parts=parts, flags=flags)
                exp = expected(col, rows)
                if pa.types.is_dictionary(got.type):
                    got = got.dictionary_decode()
                if pa.types.is_dictionary(exp.type):
                    exp = exp.dictionary_decode()
                if exp.type != got.type:
                    exp = exp.cast(got.type)
                assert got.equals(exp), (rg, field, rows, got.to_pylist()[:10], exp.to_pylist()[:10])
                got.validate(full=True)
        offset += n


def flat_table(n, seed=1):
    rng = random.Random(seed)
    return pa.table({
        "i32": pa.array([rng.randint(-1000, 1000) for _ in range(n)], pa.int32()),
        "i64": pa.array([None if k % 11 == 0 else k * 3 for k in range(n)], pa.int64()),
        "f64": pa.array([None if k % 5 == 0 else rng.uniform(-1, 1) for k in range(n)], pa.float64()),
        "f32": pa.array([rng.uniform(-5, 5) for _ in range(n)], pa.float32()),
        "s": pa.array([None if k % 7 == 0 else f"v{rng.randint(0, 40):03d}" for k in range(n)]),
        "long_s": pa.array(["x" * (k % 90) + str(k) for k in range(n)]),
        "ts": pa.array([1_600_000_000_000_000 + k * 1_000_003 for k in range(n)], pa.timestamp("us", tz="UTC")),
        "b": pa.array([None if k % 13 == 0 else k % 3 == 0 for k in range(n)]),
        "d": pa.array([18000 + k // 10 for k in range(n)], pa.date32()),
        "u8": pa.array([k % 250 for k in range(n)], pa.uint8()),
        "allnull": pa.array([None] * n, pa.int32()),
        "nullblock": pa.array([None if 1000 <= k < 4000 else k for k in range(n)], pa.int64()),
        "ls": pa.array([None if k % 4 == 0 else f"L{k % 333}" for k in range(n)], pa.large_string()),
        "bin": pa.array([bytes([k % 256]) * (k % 5) for k in range(n)], pa.binary()),
        "fsb": pa.array([k.to_bytes(4, "little") for k in range(n)], pa.binary(4)),
        "dec": pa.array([None if k % 3 == 0 else __import__("decimal").Decimal(k * 7) / 100 for k in range(n)], pa.decimal128(12, 2)),
        "u32": pa.array([k * 2654435761 % (1 << 32) for k in range(n)], pa.uint32()),
        "i8": pa.array([k % 200 - 100 for k in range(n)], pa.int8()),
        "t32": pa.array([k * 1000 % 86_400_000 for k in range(n)], pa.time32("ms")),
        "dict": pa.array([None if k % 10 == 0 else f"d{k % 7}" for k in range(n)]).dictionary_encode(),
    })


def nested_table(n, seed=2):
    rng = random.Random(seed)
    lst = [None if k % 9 == 0 else [rng.randint(0, 99) for _ in range(k % 5)] for k in range(n)]
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "l": pa.array(lst, pa.list_(pa.int32())),
        "ls": pa.array([None if v is None else [f"s{x}" if x % 4 else None for x in v] for v in lst],
                       pa.list_(pa.string())),
        "st": pa.array([None if k % 6 == 0 else {"a": k, "b": None if k % 4 == 0 else f"b{k % 17}"}
                        for k in range(n)], pa.struct([("a", pa.int64()), ("b", pa.string())])),
        "m": pa.array([None if k % 8 == 0 else [(f"k{j}", k + j) for j in range(k % 3)] for k in range(n)],
                      pa.map_(pa.string(), pa.int64())),
        "ll": pa.array([None if k % 10 == 0 else [[k] * (j % 3) for j in range(k % 4)] for k in range(n)],
                       pa.list_(pa.list_(pa.int16()))),
    })


# ---- tests -------------------------------------------------------------------------

WRITE_OPTS = [
    dict(),
    dict(use_dictionary=False),
    dict(compression="zstd", data_page_version="2.0"),
    dict(compression="none", max_rows_per_page=100, data_page_size=1 << 20),
    dict(use_dictionary=["s"], compression="gzip", row_group_size=10000),
]


@pytest.mark.parametrize("opts", WRITE_OPTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_flat_pages_stats_and_rows(opts):
    table = flat_table(7000)
    data = write(table, **opts)
    md = pq.ParquetFile(io.BytesIO(data)).metadata
    assert md.row_group(0).column(0).has_offset_index
    rng = random.Random(7)
    with PqFile(data) as f:
        o, n = f.index_range()
        assert n > 0 and o + n <= len(data)
        f.open_index()
        offset = 0
        for rg in range(f.num_row_groups):
            rows = f.rg_rows(rg)
            for field in range(f.num_fields):
                pages = check_pages(f, rg, field, data)
                if opts.get("max_rows_per_page"):
                    assert len(pages) == math.ceil(rows / 100)
                check_page_stats(pages, table.column(field).slice(offset, rows), table.schema.field(field).type)
            offset += rows
        # many pages really are listed
        assert len(f.pages(0, 5)) > 10
        check_selections(f, table, rng)
        # flags: dictionary output
        check_selections(f, table.set_column(4, "s", pc.dictionary_encode(table.column(4))), rng, trials=3, flags=2)


def test_stats_exact_for_ints():
    table = pa.table({"x": pa.array(range(5000), pa.int64()), "y": pa.array([f"{k:05d}" for k in range(5000)])})
    data = write(table, max_rows_per_page=500, data_page_size=1 << 20)
    with PqFile(data) as f:
        f.open_index()
        pages = f.pages(0, 0)
        assert len(pages) == 6  # 3000 rows: 500 each
        for p in pages:
            assert p.stats.kind == STAT_INT
            assert (p.stats.min_i, p.stats.max_i) == (p.first_row, p.first_row + p.num_rows - 1)
            assert p.stats.has_null_count and p.stats.null_count == 0
        sp = f.pages(0, 1)
        assert sp[1].stats.kind == STAT_BYTES
        assert ctypes.string_at(sp[1].stats.min_b, sp[1].stats.min_b_len) == b"00500"


def test_null_pages():
    table = pa.table({"x": pa.array([None if k < 2000 else k for k in range(3000)], pa.int64())})
    data = write(table, max_rows_per_page=500, data_page_size=1 << 20)
    with PqFile(data) as f:
        f.open_index()
        pages = f.pages(0, 0)
        assert [p.null_page for p in pages] == [1, 1, 1, 1, 0, 0]
        assert all(p.stats.kind == STAT_NONE for p in pages[:4])
        assert pages[4].stats.min_i == 2000
        got = f.decode_rows(0, 0, [(1990, 20), (2999, 1)])
        assert got.to_pylist() == [None] * 10 + list(range(2000, 2010)) + [2999]


def test_nested_rows():
    table = nested_table(6000)
    rng = random.Random(3)
    for opts in (dict(), dict(use_dictionary=False, data_page_version="2.0", compression="snappy")):
        data = write(table, **opts)
        with PqFile(data) as f:
            f.open_index()
            for field in range(1, f.num_fields):
                with pytest.raises(HoistError) as e:
                    f.pages(0, field)
                assert e.value.status == INVALID_ARG
            check_selections(f, table, rng, trials=8)


def test_ranges_cover_only_needed_pages():
    table = flat_table(6000)
    data = write(table, row_group_size=6000, use_dictionary=["s"])
    with PqFile(data) as f:
        f.open_index()
        pages = f.pages(0, 0)
        p = pages[len(pages) // 2]
        rows = [(p.first_row + 1, 2)]
        rng = f.ranges(0, 0, rows)
        dict_off = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).dictionary_page_offset
        # the dictionary bytes and one page
        total = sum(ln for _, ln in rng)
        assert total < sum(q.length for q in pages) / 3
        assert any(o <= p.offset < o + ln for o, ln in rng)
        if dict_off is not None:
            assert rng[0][0] == dict_off
        # bytes outside the ranges are never read: poison them
        poisoned = bytearray(b"\xff" * len(data))
        for o, ln in rng:
            poisoned[o:o + ln] = data[o:o + ln]
        got = f.decode_rows(0, 0, rows, parts=[(0, bytes(poisoned))])
        assert got.equals(expected(table.column(0), rows))
        # a whole row group: adjacent ranges merged into one
        assert len(f.ranges(0, 0, [(0, 6000)])) == 1
        assert f.ranges(0, 0, []) == []
        assert f.decode_rows(0, 0, [], parts=[]).to_pylist() == []
        with pytest.raises(HoistError) as e:
            f.decode_rows(0, 0, rows, parts=[(rng[0][0], data[rng[0][0]:rng[0][0] + 10])])
        assert e.value.status == INVALID_ARG
        with PqFile(data) as g:
            with pytest.raises(HoistError) as e:
                L_idx = f.idx
                g.idx = L_idx
                try:
                    g.decode_rows(0, 0, rows)
                finally:
                    g.idx = None
            assert "another file" in e.value.message


def test_bad_row_ranges():
    table = flat_table(1000)
    data = write(table)
    with PqFile(data) as f:
        f.open_index()
        for rows in ([(5, 10), (3, 1)], [(0, 1001)], [(-1, 2)], [(10, -1)], [(0, 10), (9, 2)]):
            with pytest.raises(HoistError) as e:
                f.decode_rows(0, 0, rows)
            assert e.value.status == INVALID_ARG
            with pytest.raises(HoistError):
                f.ranges(0, 0, rows)
        with pytest.raises(HoistError) as e:
            f.pages(1, 0)
        assert e.value.status == INVALID_ARG


def test_without_page_index():
    table = pa.table({**{c: flat_table(4000).column(c) for c in ("i64", "s", "b")},
                      **{c: nested_table(4000).column(c) for c in ("l", "st")}})
    data = write(table, write_page_index=False)
    with PqFile(data) as f:
        assert f.index_range() == (0, 0)
        f.open_index(b"", 0)
        assert f.pages(0, 0) == []
        assert f.ranges(0, 0, [(5, 5)]) == [(o, ln) for o, ln in [_chunk_range(data, 0, 0)]]
        check_selections(f, table, random.Random(4), trials=5)
        f.close_index()
        check_selections(f, table, random.Random(5), trials=5)


def _chunk_range(data, rg, col):
    c = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(rg).column(col)
    start = c.dictionary_page_offset if c.has_dictionary_page else c.data_page_offset
    return start, c.total_compressed_size


def test_index_null_for_decode():
    table = nested_table(3000)
    data = write(table)
    with PqFile(data) as f:
        rng = random.Random(9)
        for field in range(f.num_fields):
            rows = random_rows(rng, 3000)
            assert f.decode_rows(0, field, rows, use_index=False).equals(expected(table.column(field), rows))


def test_empty_row_group_and_tiny():
    table = pa.table({"x": pa.array([], pa.int64()), "l": pa.array([], pa.list_(pa.int64()))})
    data = write(table)
    with PqFile(data) as f:
        f.open_index()
        for rg in range(f.num_row_groups):
            assert f.decode_rows(rg, 1, []).to_pylist() == []
    table = pa.table({"x": pa.array([1], pa.int64())})
    with PqFile(write(table)) as f:
        f.open_index()
        assert f.decode_rows(0, 0, [(0, 1)]).to_pylist() == [1]
        assert f.decode_rows(0, 0, [(0, 0), (1, 0)]).to_pylist() == []


def test_index_bytes_must_cover():
    data = write(flat_table(2000))
    with PqFile(data) as f:
        o, n = f.index_range()
        with pytest.raises(HoistError) as e:
            f.open_index(data[o + 1:o + n], o + 1)
        assert e.value.status == INVALID_ARG
        # a buffer starting before the range and running past it is fine
        f.open_index(data[o - 100:], o - 100)
        assert f.pages(0, 0)


def test_corrupt_page_index_is_clean():
    table = pa.table({"x": pa.array(range(3000), pa.int64()), "s": pa.array([f"{k}" for k in range(3000)]),
                      "l": nested_table(3000).column("l")})
    data = write(table)
    rng = random.Random(11)
    with PqFile(data) as f:
        o, n = f.index_range()
        blob = data[o:o + n]
        # truncations: the structures run off the end of the copied range
        for cut in range(1, n, max(1, n // 40)):
            blob2 = blob[:cut] + b"\x00" * (n - cut)
            try:
                f.open_index(blob2, o)
            except HoistError as e:
                assert e.status == PARQUET_CORRUPT, e
                assert "t.parquet" in e.message and "row group 0" in e.message
        errors = 0
        for trial in range(400):
            b = bytearray(blob)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(n)] = rng.randrange(256)
            try:
                f.open_index(bytes(b), o)
            except HoistError as e:
                errors += 1
                assert e.status == PARQUET_CORRUPT, e
                continue
            # an index that parsed may still lie: decoding must fail cleanly or be right
            for field in range(3):
                rows = random_rows(rng, 3000)
                try:
                    got = f.decode_rows(0, field, rows)
                    got.validate(full=True)
                except HoistError as e:
                    assert e.status in (PARQUET_CORRUPT, INVALID_ARG), e
        assert errors > 50


def _pt_files():
    out = []
    for p in sorted(glob.glob(os.path.join(PQ_DATA, "*.parquet"))):
        try:
            md = pq.ParquetFile(p).metadata
        except Exception:
            continue
        if any(md.row_group(i).column(j).has_offset_index
               for i in range(md.num_row_groups) for j in range(md.num_columns)):
            out.append(os.path.basename(p))
    return out


PT_FILES = _pt_files() if os.path.isdir(PQ_DATA) else []


@pytest.mark.skipif(not PT_FILES, reason="no parquet-testing data")
@pytest.mark.parametrize("name", PT_FILES)
def test_parquet_testing_page_index(name):
    """Files from other writers (parquet-mr, parquet-rs) that carry a page
    index: pages point at page headers, and selections decoded through the
    index equal the same rows of the whole field decoded without it."""
    data = open(os.path.join(PQ_DATA, name), "rb").read()
    rng = random.Random(name)
    try:
        f = PqFile(data, name)
    except HoistError:
        pytest.skip("hoist cannot read this footer")
    with f:
        try:
            f.open_index()
        except HoistError as e:
            pytest.fail(f"page index rejected: {e}")
        try:
            ref_table = pq.read_table(io.BytesIO(data))
        except Exception:
            ref_table = None
        for rg in range(f.num_row_groups):
            n = f.rg_rows(rg)
            for field in range(f.num_fields):
                try:
                    whole = f.decode_rows(rg, field, [(0, n)], use_index=False)
                except HoistError:
                    continue  # e.g. CRC failures on purpose: not a page index matter
                if f.schema().field(field).type.num_fields == 0 and not pa.types.is_list(f.schema().field(field).type):
                    pages = check_pages(f, rg, field, data)
                    col = whole
                    check_page_stats(pages, col, col.type)
                for _ in range(6):
                    rows = random_rows(rng, n)
                    parts = [(o, data[o:o + ln]) for o, ln in f.ranges(rg, field, rows)]
                    got = f.decode_rows(rg, field, rows, parts=parts)
                    assert same(got, expected(whole, rows)), (rg, field, rows)
        if ref_table is not None and f.num_row_groups == 1:
            for field in range(f.num_fields):
                try:
                    whole = f.decode_rows(0, field, [(0, f.rg_rows(0))], use_index=False)
                except HoistError:
                    continue
                ref = ref_table.column(field).combine_chunks()
                if ref.type == whole.type:
                    assert same(whole, ref), field


def test_decimal_statistics():
    """Chunk and page statistics of decimals (INT32, INT64, FLBA storage;
    decimal256) are the unscaled values pyarrow wrote, and bound each page."""
    import decimal
    D = decimal.Decimal
    types = {"d9": pa.decimal128(9, 2), "d18": pa.decimal128(18, 4), "d38": pa.decimal128(38, 10),
             "d50": pa.decimal256(50, 5)}
    rng = random.Random(5)
    n = 3000
    cols = {}
    for name, t in types.items():
        cols[name] = pa.array([None if k % 7 == 0 else
                               (D(rng.randint(-10**6, 10**6)) / 100).quantize(D(1).scaleb(-t.scale))
                               for k in range(n)], t)
    table = pa.table(cols)
    data = write(table, row_group_size=1000, store_decimal_as_integer=True, data_page_size=256)
    f = PqFile(data)
    md = pq.ParquetFile(io.BytesIO(data)).metadata
    f.open_index()
    for rg in range(f.num_row_groups):
        for k, name in enumerate(types):
            s = Stats()
            check(L.hoist_pq_file_field_stats(f.f, rg, k, ctypes.byref(s)))
            assert s.kind == STAT_DECIMAL, name
            want = md.row_group(rg).column(k).statistics
            scale = types[name].scale
            assert decimal_bounds(s) == (int(want.min.scaleb(scale)), int(want.max.scaleb(scale))), name
            assert (s.min_b is None) == (name in ("d9", "d18")), name
            pages = f.pages(rg, k)
            assert len(pages) >= 5
            assert all(p.stats.kind == STAT_DECIMAL for p in pages if not p.null_page)
            check_page_stats(pages, table.column(name).slice(rg * 1000, 1000), types[name])
    f.close_index()
