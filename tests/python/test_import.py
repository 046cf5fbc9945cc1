"""The Python package imports and reports the C library's version."""
import pytest

import hoist


def test_version_matches_c_library():
    import subprocess, os
    from conftest import ROOT
    cli = os.environ.get("HOIST_CLI") or str(ROOT / "build" / "hoist")
    out = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.split()[1]
    assert hoist.__version__ == out


def _run(code):
    import os, subprocess, sys
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_import_loads_no_submodule_until_used():
    # `import hoist` used to load every submodule and the C extension (45
    # shared libraries): ~0.1 CPU-s before a program did anything.
    out = _run("import sys, hoist\n"
               "print(sorted(m for m in sys.modules if m.startswith('hoist.')))\n"
               "hoist.read_parquet\n"
               "print(sorted(m for m in sys.modules if m.startswith('hoist.')))\n")
    before, after = out.splitlines()
    assert before == "[]"
    assert after == "['hoist._hoist', 'hoist.exceptions', 'hoist.parquet']"


def test_every_public_name_resolves_to_its_definition():
    import importlib
    for name in hoist.__all__:
        value = getattr(hoist, name)
        if name == "__version__":
            assert isinstance(value, str) and value
        elif name in ("features", "iceberg"):
            assert value is importlib.import_module("hoist." + name)
        else:
            mod = importlib.import_module(value.__module__) if hasattr(value, "__module__") else None
            assert mod is not None and getattr(mod, name) is value, name
        assert name in dir(hoist)
    assert len(set(hoist.__all__)) == len(hoist.__all__)
    # the submodules `import hoist` used to load stay reachable as attributes
    for sub in ("exceptions", "table", "parquet", "csv", "s3", "write"):
        assert getattr(hoist, sub) is importlib.import_module("hoist." + sub)
    assert hoist.sql is importlib.import_module("hoist.sql").sql  # the function, as before
    try:
        hoist.no_such_name
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("unknown attribute resolved")


def test_star_import_binds_every_public_name():
    out = _run("from hoist import *\nimport hoist\n"
               "print(all(globals()[n] is getattr(hoist, n) for n in hoist.__all__ if n != '__version__'))")
    assert out.strip() == "True"


def test_loading_a_submodule_first_keeps_the_public_function():
    # hoist.sql is the function; loading the submodule hoist.sql (which binds
    # it on the package) before anything else used to be impossible.
    out = _run("from hoist.sql import ctas\nimport hoist\nprint(callable(hoist.sql), type(hoist.sql).__name__)")
    assert out.split() == ["True", "function"]


def test_extension_reachable_as_attribute_in_a_fresh_process():
    # hoist._hoist was always loaded by import hoist; code reaching it as an
    # attribute (tests, tools) must still find it before any other use.
    out = _run("import hoist\nprint(hoist._hoist.status_class(103))")
    assert out.strip() == "not_found"


def test_package_pickles_by_name():
    """Engines pickle task closures that refer to hoist (Spark with cloudpickle: "cannot
    pickle '_Package' object" failed a Spark write before)."""
    import pickle

    import hoist

    assert pickle.loads(pickle.dumps(hoist)) is hoist
    cloudpickle = pytest.importorskip("cloudpickle")

    def task():
        return hoist.load_table

    assert cloudpickle.loads(cloudpickle.dumps(task))() is hoist.load_table
