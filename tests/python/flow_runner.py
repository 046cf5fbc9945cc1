"""Runs the flows of examples/ on Metaflow's local runtime for the tests, and reads their
artifacts back with Metaflow's client, both in child processes that import the same hoist
as the test."""
import os
import pickle
import subprocess
import sys

import hoist

from conftest import ROOT

EXAMPLES = ROOT / "examples"


def flow_env(work, **extra):
    """The environment of a flow run whose local datastore and metadata live under work."""
    env = dict(os.environ)
    env.update({
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(work),
        "METAFLOW_USER": "hoist-test",
        "USERNAME": "hoist-test",
        "HOME": str(work),
        "MPLBACKEND": "Agg",
        # the child imports the same hoist as this test, and the examples' helper modules
        "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(hoist.__file__)), str(EXAMPLES),
                                       env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    })
    env.update(extra)
    return env


def run_example(work, script, *args, timeout=600, **extra_env):
    """Runs examples/<script> ... run <args> in work; returns (env, combined output)."""
    work.mkdir(exist_ok=True)
    env = flow_env(work, **extra_env)
    p = subprocess.run([sys.executable, str(EXAMPLES / script), "--no-pylint", "run", *args],
                       cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    return env, out


def artifacts(work, env, flow, names):
    """{step: {name: [value per task]}} of the flow's latest run (which must have succeeded)."""
    probe = ("import pickle, sys\n"
             "from metaflow import Flow, namespace\n"
             "namespace(None)\n"
             "r = Flow(%r).latest_run\n"
             "assert r.successful\n"
             "out = {}\n"
             "for step in r:\n"
             "    for task in step:\n"
             "        for n in %r:\n"
             "            if n in task: out.setdefault(step.id, {}).setdefault(n, []).append(task[n].data)\n"
             "sys.stdout.buffer.write(pickle.dumps(out))\n" % (flow, list(names)))
    p = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    return pickle.loads(p.stdout)
