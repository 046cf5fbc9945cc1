"""hoist load / schema / head on local CSV files (src/cli/cli_csv.c)."""
import gzip

from conftest import run_cli

DATA = b"id,name,price,day\n1,ann,1.5,2020-01-01\n2,\"b,c\",,2020-01-02\n3,dan,-2,2020-01-03\n"


def test_schema_head_load(hoist_cli, tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(DATA)
    p = run_cli(hoist_cli, "schema", str(path))
    assert p.returncode == 0, p.stderr_text
    assert p.stdout_text.splitlines()[:4] == ["id: int64", "name: string", "price: double", "day: date32"]
    assert "3 rows" in p.stdout_text
    p = run_cli(hoist_cli, "head", str(path), "-n", "2")
    assert p.returncode == 0, p.stderr_text
    lines = p.stdout_text.splitlines()
    assert len(lines) == 4 and lines[0].split() == ["id", "name", "price", "day"]
    assert set(lines[1]) == {"-", " "}
    assert "b,c" in lines[3] and "null" in lines[3]
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(DATA))
    p = run_cli(hoist_cli, "load", str(gz), "--columns", "price,id", "--types", "id:string")
    assert p.returncode == 0, p.stderr_text
    assert "rows        3" in p.stdout_text and "2 columns" in p.stdout_text


def test_format_flag_and_dialect(hoist_cli, tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(b"a|b\n1|x\n")
    p = run_cli(hoist_cli, "schema", str(path), "--format", "csv", "--delimiter", "|")
    assert p.returncode == 0, p.stderr_text
    assert p.stdout_text.startswith("a: int64\nb: string\n")


def test_bad_csv_fails_with_line(hoist_cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,2\n3\n")
    p = run_cli(hoist_cli, "load", str(path))
    assert p.returncode == 1
    assert "line 3" in p.stderr_text and "expected 2 fields" in p.stderr_text
    p = run_cli(hoist_cli, "load", str(path), "--skip-bad-rows")
    assert p.returncode == 0 and "bad rows    1 skipped, lines 3" in p.stdout_text
    p = run_cli(hoist_cli, "load", str(path), "--delimiter", "ab")
    assert p.returncode == 2


def test_csv_output_value_is_not_csv_input(hoist_cli, tmp_path):
    """--output x.csv names the output: a Parquet load stays a Parquet load
    (regression: the value was taken for a CSV input)."""
    p = run_cli(hoist_cli, "load", str(tmp_path / "nothing-here"), "--output", str(tmp_path / "x.csv"))
    assert p.returncode != 0
    assert "CSV file" not in p.stderr_text


def test_output_targets_as_for_parquet(hoist_cli, tmp_path):
    """CSV input takes the --output targets a Parquet load takes (cli_load_output_check):
    '-' is CSV on stdout, in the input's dialect, and a name of no known kind is a
    usage error (regression: both became a Parquet dataset directory of that name)."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"a;b\n1;x\n2;y\n")
    p = run_cli(hoist_cli, "load", str(path), "--delimiter", ";", "--output", "-")
    assert p.returncode == 0, p.stderr_text
    assert p.stdout_text == "a;b\n1;x\n2;y\n"
    p = run_cli(hoist_cli, "load", str(path), "--output", str(tmp_path / "out.json"))
    assert p.returncode == 2 and "--output" in p.stderr_text
    assert not (tmp_path / "out.json").exists()


def test_options_of_one_command_only(hoist_cli, tmp_path):
    """-n is head's, -q and --limit load's, as for Parquet input."""
    path = tmp_path / "t.csv"
    path.write_bytes(DATA)
    for args in (("load", "-n", "2"), ("schema", "-q"), ("head", "--limit", "1"), ("schema", "--output", "x.csv")):
        p = run_cli(hoist_cli, args[0], str(path), *args[1:])
        assert p.returncode == 2 and "unknown option" in p.stderr_text, args


def test_head_prints_csv_as_it_prints_parquet(hoist_cli, tmp_path):
    """One table printer (src/cli/cli_table.c): the same values read the same
    whether they came from CSV or Parquet. The CSV route used to print a
    double with 17 digits where 16 read back (-73.958176398489343) and no
    rule under the header."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = tmp_path / "t.csv"
    path.write_bytes(
        b"id,name,lon,at\n"
        b"1,ann,-73.95817639848934,2014-12-18 17:49:28.410423\n"
        b"2,,40.701558338925125,2014-12-18 18:01:19\n"
        b"3,dan,,\n"
    )
    # hoist infers microseconds where pyarrow infers nanoseconds
    us = pacsv.ConvertOptions(column_types={"at": pa.timestamp("us")})
    pq.write_table(pacsv.read_csv(path, convert_options=us), tmp_path / "t.parquet")
    from_csv = run_cli(hoist_cli, "head", str(path))
    from_parquet = run_cli(hoist_cli, "head", str(tmp_path / "t.parquet"))
    assert from_csv.returncode == 0 and from_parquet.returncode == 0, from_csv.stderr_text + from_parquet.stderr_text
    assert from_csv.stdout_text == from_parquet.stdout_text
    assert "-73.95817639848934 " in from_csv.stdout_text


def test_head_rows_without_a_value_is_one_error(hoist_cli, tmp_path):
    """`head URL --rows` used to print two errors ("needs a value", then
    "unknown option" or "-n: a row count")."""
    csv = tmp_path / "t.csv"
    csv.write_bytes(DATA)
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    pq.write_table(pacsv.read_csv(csv), tmp_path / "t.parquet")
    for path in (csv, tmp_path / "t.parquet"):
        p = run_cli(hoist_cli, "head", str(path), "--rows")
        assert p.returncode == 2, p.stderr_text
        errors = [line for line in p.stderr_text.splitlines() if line.startswith("hoist head:")]
        assert errors == ["hoist head: option '--rows' needs a value"], p.stderr_text
        p = run_cli(hoist_cli, "head", str(path), "--rows", "1")
        assert p.returncode == 0 and len(p.stdout_text.splitlines()) == 3, p.stderr_text
