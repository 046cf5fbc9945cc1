"""The CLI skeleton: version, help, dispatch and exit codes."""
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
