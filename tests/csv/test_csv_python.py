"""hoist.read_csv (the Python package) against pyarrow.csv: values, options,
zero-copy export to pyarrow and polars, compressed files, errors."""
import gzip
import io

import pyarrow as pa
import pyarrow.csv as pc
import pytest

hoist = pytest.importorskip("hoist")
if not hasattr(hoist, "read_csv"):
    pytest.skip("this hoist build has no read_csv", allow_module_level=True)

DATA = (b'id,name,price,day,when,ok\n1,"a,b",1.5,2020-01-01,2020-01-01 10:00:00,true\n'
        b'2,"multi\nline",,2020-01-02,2020-01-02T11:30:00.25,false\n3,plain,-2e3,,,\n')


def oracle(data, **conv):
    t = pc.read_csv(io.BytesIO(data), parse_options=pc.ParseOptions(newlines_in_values=True),
                    convert_options=pc.ConvertOptions(**conv))
    return pa.table([c.cast(pa.timestamp("us", f.type.tz)) if pa.types.is_timestamp(f.type) else c
                     for f, c in zip(t.schema, t.columns)], names=t.column_names)


@pytest.mark.parametrize("suffix", ["csv", "csv.gz"])
def test_read_csv_matches_pyarrow(tmp_path, suffix):
    path = tmp_path / f"t.{suffix}"
    path.write_bytes(gzip.compress(DATA) if suffix.endswith("gz") else DATA)
    t = hoist.read_csv(path)
    assert pa.table(t).equals(oracle(DATA))
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(t)
    assert df["id"].to_list() == [1, 2, 3]
    assert t.load_stats["rows"] == 3


def test_read_csv_options(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"x;y;z\n1;NA;-\n2;b;c\n")
    t = pa.table(hoist.read_csv(path, delimiter=";", columns=["z", "x"], null_values=["-"],
                                column_types={"x": pa.float64()}, strings_can_be_null=True))
    assert t.column_names == ["z", "x"]
    assert t.column("x").type == pa.float64()
    assert t.column("z").to_pylist() == [None, "c"]
    t = pa.table(hoist.read_csv(path, header=False, delimiter=";"))
    assert t.column_names == ["f0", "f1", "f2"] and t.num_rows == 3


def test_read_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,2\n3\n4,5\n")
    with pytest.raises(hoist.CsvError, match="line 3"):
        hoist.read_csv(path)
    t = hoist.read_csv(path, skip_bad_rows=True)
    assert t.load_stats["bad_rows"] == 1 and t.load_stats["bad_lines"] == [3]
    assert pa.table(t).column("a").to_pylist() == [1, 4]
    with pytest.raises(KeyError):
        hoist.read_csv(path, columns=["nope"])
    with pytest.raises(FileNotFoundError):
        hoist.read_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError):
        hoist.read_csv(path, delimiter=",,")
