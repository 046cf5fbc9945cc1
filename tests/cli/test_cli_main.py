"""The CLI skeleton: version, help, dispatch and exit codes, and help texts that say what
each command takes."""
import pathlib
import re

from conftest import run_cli


def test_version(hoist_cli):
    p = run_cli(hoist_cli, "--version")
    assert p.returncode == 0
    assert p.stdout_text.startswith("hoist ")
    assert run_cli(hoist_cli, "version").stdout_text == p.stdout_text


def test_unknown_command_is_usage_error(hoist_cli):
    p = run_cli(hoist_cli, "bogus")
    assert p.returncode == 2
    assert "unknown command 'bogus'" in p.stderr_text
    assert p.stdout_text == ""


def test_unknown_option_is_usage_error(hoist_cli):
    p = run_cli(hoist_cli, "--bogus")
    assert p.returncode == 2


def test_no_arguments_prints_help_and_exits_2(hoist_cli):
    p = run_cli(hoist_cli)
    assert p.returncode == 2
    assert "usage: hoist" in p.stderr_text


def test_help_lists_commands(hoist_cli):
    p = run_cli(hoist_cli, "--help")
    assert p.returncode == 0
    assert "version" in p.stdout_text


def test_command_help(hoist_cli):
    p = run_cli(hoist_cli, "version", "--help")
    assert p.returncode == 0
    assert p.stdout_text.startswith("usage: hoist version")
    assert run_cli(hoist_cli, "help", "version").stdout_text == p.stdout_text


# ---- every help text is true to its command --------------------------------------------

ROOT = pathlib.Path(__file__).resolve().parents[2]
LONG_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
# version takes no options (any argument is "unexpected"); sql runs Python
# (tests/python/test_sql_cli.py checks its help against the Python parser).
PROBED = ["ls", "cp", "cat", "info", "rm", "mb", "rb", "load", "schema", "head", "convert"]


def _commands(cli):
    text = run_cli(cli, "--help", check=True).stdout_text
    return dict(re.findall(r"^  (\S+)\s+(.*)$", text.split("commands:\n", 1)[1], re.M))


def _help_options(cli, cmd):
    p = run_cli(cli, cmd, "--help", check=True)
    return set(LONG_OPTION.findall(p.stdout_text))


def _accepts(cli, cmd, opt, missing):
    """True when some form of `hoist cmd ... opt 1` gets past option parsing.
    The inputs are missing local paths (or, for mb/rb, not a bucket), so
    nothing is read or written and no request is made; the trailing "1" is the
    value of an option that takes one and an extra argument otherwise. load,
    schema and head are tried with a Parquet and with a CSV input, the two
    parsers behind them."""
    inputs = {"cp": [[missing + "/a", missing + "/b"]], "convert": [[missing + "/a", missing + "/b"]],
              "mb": [["file:///x"]], "rb": [["file:///x"]],
              "load": [[missing + "/x"], [missing + "/x.csv"]]}
    inputs["schema"] = inputs["head"] = inputs["load"]
    for args in inputs.get(cmd, [[missing + "/x"]]):
        p = run_cli(cli, cmd, *args, opt, "1", timeout=60)
        if "unknown option" not in p.stderr_text:
            return True
    return False


def test_command_summaries_name_csv_input(hoist_cli):
    # load, schema and head read CSV (plain, .gz, .zst, .bz2) as well as Parquet
    summaries = _commands(hoist_cli)
    for cmd in ("load", "schema", "head"):
        assert "CSV" in summaries[cmd], summaries[cmd]
        text = run_cli(hoist_cli, cmd, "--help", check=True).stdout_text
        for word in ("--format csv", ".csv", ".tsv", ".gz", ".zst", ".bz2"):
            assert word in text, (cmd, word)


def test_every_option_in_a_help_text_is_accepted(hoist_cli, tmp_path):
    assert set(PROBED) | {"version", "sql"} == set(_commands(hoist_cli))
    for cmd in PROBED:
        for opt in sorted(_help_options(hoist_cli, cmd) - {"--help"}):
            assert _accepts(hoist_cli, cmd, opt, str(tmp_path / "missing")), f"'hoist {cmd} --help' names {opt}"


def test_every_option_a_command_takes_is_in_its_help(hoist_cli, tmp_path):
    # Candidates: every long option of any help text or of the CLI docs.
    known = set()
    for cmd in _commands(hoist_cli):
        known |= _help_options(hoist_cli, cmd)
    for doc in ("cli.md", "csv.md"):
        known |= set(LONG_OPTION.findall((ROOT / "docs" / doc).read_text()))
    known -= {"--help", "--version"}
    for cmd in PROBED:
        documented = _help_options(hoist_cli, cmd)
        for opt in sorted(known - documented):
            assert not _accepts(hoist_cli, cmd, opt, str(tmp_path / "missing")), \
                f"'hoist {cmd}' takes {opt} but its --help does not say so"
