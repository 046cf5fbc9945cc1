"""One error model across the bindings (python/hoist/exceptions.py): every
exception hoist raises derives from hoist.HoistError, the family follows the
C library's status class, and a missing object is the same NotFoundError
family from hoist.S3, load_table and read_parquet."""
import ctypes
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hoist
from hoist import exceptions as E

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _statuses():
    """Every status the C library knows (hoist_strerror gives a real text)."""
    import os
    lib = ctypes.CDLL(str(pathlib.Path(os.environ.get("HOIST_CLI", ROOT / "build" / "hoist")).parent / "libhoist.so"))
    lib.hoist_strerror.restype = ctypes.c_char_p
    unknown = lib.hoist_strerror(999)
    return [s for s in range(1, 600) if lib.hoist_strerror(s) != unknown]


def test_status_class_comes_from_the_c_library():
    assert hoist._hoist.status_class(103) == "not_found"
    assert hoist._hoist.status_class(105) == "access"
    assert hoist._hoist.status_class(200) == "corrupt_data"
    assert hoist._hoist.status_class(110) == "transient"
    assert hoist._hoist.status_class(5) == "cancelled"
    assert hoist._hoist.status_class(12345) == "internal"


@pytest.mark.parametrize("domain", ["s3", "dataset", "parquet", ""])
def test_every_status_maps_into_the_hierarchy(domain):
    for status in _statuses():
        e = E.from_status(status, "x", domain)
        if status == 5:
            assert isinstance(e, KeyboardInterrupt)
        elif status == 1:
            assert isinstance(e, MemoryError)
        elif domain == "s3" and status == 2:
            assert type(e) is ValueError  # metaflow.S3 raises a plain ValueError there
        else:
            assert isinstance(e, hoist.HoistError), (domain, status, type(e))
            assert e.status == status and str(e) == "x"
            families = {"not_found": hoist.NotFoundError, "access": hoist.AccessDeniedError,
                        "exists": hoist.AlreadyExistsError}
            if domain == "parquet":  # reading a file: only a missing one has its own class
                families = {"not_found": hoist.NotFoundError}
            if status == 205 and domain in ("dataset", "parquet"):  # a missing column keeps its built-in type
                assert isinstance(e, KeyError if domain == "parquet" else ValueError), (domain, type(e))
                continue
            family = families.get(e.status_class)
            if family is not None:
                assert isinstance(e, family), (domain, status, type(e))


def test_domain_bases():
    assert issubclass(hoist.DatasetError, hoist.HoistError)
    assert issubclass(hoist.ParquetError, hoist.HoistError)
    assert issubclass(hoist.S3Error, hoist.HoistError)
    assert issubclass(hoist.DatasetNotFoundError, hoist.NotFoundError)
    assert issubclass(hoist.S3NotFound, hoist.NotFoundError)
    assert issubclass(hoist.NotFoundError, FileNotFoundError)
    assert issubclass(hoist.InvalidInputError, ValueError)


def test_missing_local_file_is_not_found_everywhere(tmp_path):
    missing = str(tmp_path / "nope.parquet")
    with pytest.raises(hoist.NotFoundError) as a:
        hoist.load_table(missing)
    assert isinstance(a.value, hoist.DatasetError) and missing in str(a.value)
    with pytest.raises(hoist.NotFoundError) as b:
        hoist.read_parquet(missing)
    assert isinstance(b.value, hoist.ParquetError) and isinstance(b.value, FileNotFoundError)


def test_missing_key_is_not_found_from_s3_and_load_table(s3_env, bucket):
    url = f"s3://{bucket}/no/such/key.parquet"
    with hoist.S3(endpoint=s3_env["AWS_ENDPOINT_URL"]) as s3:
        with pytest.raises(hoist.NotFoundError) as a:
            s3.get(url)
    assert isinstance(a.value, hoist.MetaflowS3NotFound)
    with pytest.raises(hoist.NotFoundError) as b:
        hoist.load_table(url, endpoint=s3_env["AWS_ENDPOINT_URL"])
    assert isinstance(b.value, hoist.DatasetError)
    assert a.value.status_class == b.value.status_class == "not_found"


def test_corrupt_file_is_corrupt_data_class(tmp_path):
    p = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"a": list(range(1000))}), p)
    data = bytearray(p.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
    p.write_bytes(bytes(data))
    with pytest.raises(hoist.HoistError) as e:
        hoist.load_table(str(p))
    assert e.value.status_class in ("corrupt_data", "unsupported")


def test_column_errors_keep_their_builtin_types(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [1]}), p)
    with pytest.raises(KeyError):
        hoist.read_parquet(str(p), columns=["zz"])
    with pytest.raises(ValueError):
        hoist.load_table(str(p), columns=["zz"])
