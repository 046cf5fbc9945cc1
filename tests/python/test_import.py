"""The Python package imports and reports the C library's version."""
import hoist


def test_version_matches_c_library():
    import subprocess, os
    from conftest import ROOT
    cli = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    out = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.split()[1]
    assert hoist.__version__ == out
