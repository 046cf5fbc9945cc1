"""gzip CSV input (src/dataset/ds_csv_file.c) against pyarrow.csv on the same
text, from a local file and from the local S3 server: one member, many
small members (each inflated by libdeflate), a member boundary inside a
quoted field, a member too big for libdeflate's block amid small ones, an
empty gzip; truncated, corrupt (wrong CRC) and trailing-junk files fail
naming the file. The text is past the 8 MiB a local file is inflated whole
below, so local reads stream too."""
import gzip
import random
import zlib

import pytest

import csv_ctypes as hc
from test_csv import arrow_read, assert_same, random_table, write_csv


@pytest.fixture(scope="module")
def text():
    data = write_csv(random_table(random.Random(7), 75000))
    assert len(data) > 9 << 20
    return data


def members(data, cuts):
    """gzip members of data cut at the given offsets, back to back."""
    out, prev = [], 0
    for c in list(cuts) + [len(data)]:
        out.append(gzip.compress(data[prev:c], compresslevel=1))
        prev = c
    return b"".join(out)


def in_quotes(data, start):
    """An offset inside a quoted field with a line break, after start."""
    q = data.index(b'"line\nbreak', start)
    return q + 6  # right after the line break, before the closing quote


def variants(data):
    small = list(range(65536, len(data), 65536))
    quoted = sorted({in_quotes(data, 1000), in_quotes(data, len(data) // 2)} | set(range(1 << 20, len(data), 1 << 20)))
    big = list(range(50000, 1 << 20, 50000)) + [(1 << 20) + (3 << 20)] + list(
        range((1 << 20) + (3 << 20) + 40000, len(data), 40000))
    return {
        "one": gzip.compress(data, compresslevel=1),
        "small_members": members(data, small),
        "boundary_in_quotes": members(data, quoted),
        "empty_member_inside": members(data, [in_quotes(data, 5000)] * 2),
        "big_member_amid_small": members(data, big),
    }


def put(s3_env, bucket, key, body):
    import boto3
    boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"]).put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


@pytest.mark.parametrize("kind", ["one", "small_members", "boundary_in_quotes", "empty_member_inside",
                                  "big_member_amid_small"])
def test_gzip_variants_local(tmp_path, text, kind):
    path = tmp_path / f"{kind}.csv.gz"
    path.write_bytes(variants(text)[kind])
    h = hc.read_file(path, threads=2)
    assert_same(h, arrow_read(text))


def test_gzip_variants_s3(s3_env, bucket, text):
    want = arrow_read(text)
    for kind, body in variants(text).items():
        h = hc.read_url(put(s3_env, bucket, f"{kind}.csv.gz", body), threads=2)
        assert_same(h, want), kind


def bad_files(data):
    one = gzip.compress(data, compresslevel=1)
    many = members(data, range(65536, len(data), 65536))
    first = len(gzip.compress(data[:65536], compresslevel=1))
    crc_small = bytearray(many)
    crc_small[first - 8] ^= 1  # the first member's CRC-32 (RFC 1952 2.3.1)
    crc_big = bytearray(one)
    crc_big[-7] ^= 0x20
    return {
        "truncated": (one[:len(one) // 2], "gzip data is truncated"),
        "truncated_trailer": (many[:-5], "gzip data is truncated"),
        "crc_small_member": (bytes(crc_small), "gzip data is corrupt (incorrect "),
        "crc_one_member": (bytes(crc_big), "gzip data is corrupt (incorrect "),
        "trailing_junk": (many + b"not a gzip member at all", "gzip data is corrupt"),
    }


@pytest.mark.parametrize("kind", ["truncated", "truncated_trailer", "crc_small_member", "crc_one_member",
                                  "trailing_junk"])
def test_gzip_bad_local(tmp_path, text, kind):
    body, why = bad_files(text)[kind]
    path = tmp_path / f"{kind}.csv.gz"
    path.write_bytes(body)
    with pytest.raises(hc.HoistError) as e:
        hc.read_file(path, threads=2)
    assert e.value.status == 3  # HOIST_ERR_IO
    assert f"{kind}.csv.gz: " in e.value.message and why in e.value.message, e.value.message


def test_gzip_bad_s3(s3_env, bucket, text):
    for kind, (body, why) in bad_files(text).items():
        url = put(s3_env, bucket, f"{kind}.csv.gz", body)
        with pytest.raises(hc.HoistError) as e:
            hc.read_url(url, threads=2)
        assert e.value.status == 3
        assert f"{url}: " in e.value.message and why in e.value.message, (kind, e.value.message)


def test_gzip_empty(tmp_path):
    """gzip of no text reads as an empty file does: no rows, no columns."""
    path = tmp_path / "e.csv.gz"
    path.write_bytes(gzip.compress(b""))
    plain = tmp_path / "e.csv"
    plain.write_bytes(b"")
    h = hc.read_file(path)
    assert h.num_rows == 0 and h.schema == hc.read_file(plain).schema


def test_gzip_small_file_whole(tmp_path):
    """A small file (inflated whole by libdeflate) and the same text in
    small members agree with pyarrow; zlib's raw deflate wrapped by hand
    (header with a file name) reads too."""
    data = write_csv(random_table(random.Random(8), 2000))
    want = arrow_read(data)
    for name, body in {"whole": gzip.compress(data), "members": members(data, range(3000, len(data), 3000))}.items():
        path = tmp_path / f"{name}.csv.gz"
        path.write_bytes(body)
        assert_same(hc.read_file(path, threads=2), want)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = c.compress(data) + c.flush()
    hdr = b"\x1f\x8b\x08\x08\0\0\0\0\0\xff" + b"orig.csv\0"
    trailer = zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xffffffff).to_bytes(4, "little")
    path = tmp_path / "named.csv.gz"
    path.write_bytes(hdr + raw + trailer)
    assert_same(hc.read_file(path), want)
