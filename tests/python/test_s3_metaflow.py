"""hoist.S3 next to metaflow.S3 itself: objects written by one are read by
the other with the same attributes, and run-scoped roots match Metaflow's.

metaflow reads its configuration once, at import, so every metaflow side runs
in a child Python with its own environment."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from hoist import S3, MetaflowS3URLException

pytest.importorskip("metaflow")

PY = sys.executable


def _child(code, env, cwd=None, timeout=180):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.run([PY, "-c", textwrap.dedent(code)], env=e, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _mf_env(s3_env, bucket, tmp_path, **extra):
    env = {"METAFLOW_S3_ENDPOINT_URL": s3_env["AWS_ENDPOINT_URL"],
           "METAFLOW_DATATOOLS_S3ROOT": "s3://%s/mfdata" % bucket,
           "METAFLOW_TEMPDIR": str(tmp_path), "METAFLOW_S3_RETRY_COUNT": "0",
           "METAFLOW_HOME": str(tmp_path / "mfhome"), "USERNAME": "hoist-test"}
    env.update(extra)
    return env


# A metaflow.S3 reader/writer that prints every attribute as JSON.
DESCRIBE = """
def describe(o):
    return {"url": o.url, "key": o.key, "prefix": o.prefix, "size": o.size, "exists": o.exists,
            "downloaded": o.downloaded, "text": o.text, "metadata": o.metadata,
            "content_type": o.content_type, "range_info": list(o.range_info) if o.range_info else None,
            "last_modified": o.last_modified, "has_info": o.has_info}
"""


def _describe(o):
    return {"url": o.url, "key": o.key, "prefix": o.prefix, "size": o.size, "exists": o.exists,
            "downloaded": o.downloaded, "text": o.text, "metadata": o.metadata,
            "content_type": o.content_type, "range_info": list(o.range_info) if o.range_info else None,
            "last_modified": o.last_modified, "has_info": o.has_info}


def test_metaflow_writes_hoist_reads(s3_env, bucket, tmp_path):
    root = "s3://%s/interop1" % bucket
    code = DESCRIBE + """
import json
from metaflow import S3
from metaflow.plugins.datatools.s3 import S3PutObject, S3GetObject
with S3(s3root=%r) as s3:
    s3.put("plain", "hello")
    s3.put("typed", b"{}", content_type="application/json", metadata={"owner": "ünï", "n": [1, 2]})
    s3.put_many([S3PutObject("many/a", "A" * 100, content_type="text/csv", metadata={"i": 0}),
                 S3PutObject("many/b", "B" * 50)])
    got = s3.get_many(["plain", "typed", "many/a", "many/b", S3GetObject("many/a", 10, 5)])
    infos = s3.info_many(["plain", "typed", "many/a"])
    print(json.dumps({"get": [describe(o) for o in got], "info": [describe(o) for o in infos],
                      "list": [[o.key, o.exists, o.size] for o in s3.list_recursive()]}))
""" % root
    mf = _child(code, _mf_env(s3_env, bucket, tmp_path))
    from hoist import S3GetObject
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        got = s3.get_many(["plain", "typed", "many/a", "many/b", S3GetObject("many/a", 10, 5)])
        mine = [_describe(o) for o in got]
        infos = [_describe(o) for o in s3.info_many(["plain", "typed", "many/a"])]
        listing = [[o.key, o.exists, o.size] for o in s3.list_recursive()]
    assert mine == mf["get"]
    assert infos == mf["info"]
    assert listing == mf["list"]
    assert mine[1]["metadata"] == {"owner": "ünï", "n": [1, 2]}
    assert mine[2]["content_type"] == "text/csv"


def test_hoist_writes_metaflow_reads(s3_env, bucket, tmp_path):
    root = "s3://%s/interop2" % bucket
    from hoist import S3PutObject
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        s3.put("plain", "hello")
        s3.put("typed", b"{}", content_type="application/json", metadata={"owner": "ünï", "n": [1, 2]})
        s3.put_many([S3PutObject("many/a", "A" * 100, content_type="text/csv", metadata={"i": 0}),
                     ("many/b", b"B" * 50)])
        (tmp_path / "f.txt").write_text("from a file")
        s3.put_files([S3PutObject("file", path=str(tmp_path / "f.txt"), metadata={"f": True})])
        keys = ["plain", "typed", "many/a", "many/b", "file"]
        mine = [_describe(o) for o in s3.get_many(keys)]
        infos = [_describe(o) for o in s3.info_many(keys)]
        paths = [[o.key, o.exists, o.size] for o in s3.list_paths()]
    code = DESCRIBE + """
import json
from metaflow import S3
with S3(s3root=%r) as s3:
    keys = %r
    print(json.dumps({"get": [describe(o) for o in s3.get_many(keys)],
                      "info": [describe(o) for o in s3.info_many(keys)],
                      "paths": [[o.key, o.exists, o.size] for o in s3.list_paths()]}))
""" % (root, keys)
    mf = _child(code, _mf_env(s3_env, bucket, tmp_path))
    assert mf["get"] == mine
    assert mf["info"] == infos
    assert mf["paths"] == paths
    assert mf["get"][4]["metadata"] == {"f": True}


ROOT_CASES = [
    {"METAFLOW_DATATOOLS_S3ROOT": "s3://bkt/some/root"},
    {"METAFLOW_DATATOOLS_S3ROOT": "s3://bkt/some/root/"},
    {"METAFLOW_DATASTORE_SYSROOT_S3": "s3://bkt2/metaflow"},
    {"METAFLOW_DATASTORE_SYSROOT_S3": "s3://bkt2/metaflow", "METAFLOW_DATATOOLS_SUFFIX": "userdata"},
]


@pytest.mark.parametrize("env", ROOT_CASES)
@pytest.mark.parametrize("override", [{}, {"bucket": "other"}, {"prefix": "/my/prefix"},
                                      {"bucket": "other", "prefix": "p"}])
def test_run_roots_match_metaflow(env, override, monkeypatch, tmp_path):
    """S3(run='Flow/run_id') roots exactly where metaflow.S3(run=<that Run>) does."""
    for k in ("METAFLOW_DATATOOLS_S3ROOT", "METAFLOW_DATASTORE_SYSROOT_S3", "METAFLOW_DATATOOLS_SUFFIX"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with S3(run="RootFlow/42", tmproot=str(tmp_path), **override) as s3:
        mine = s3._s3root
    key = (tuple(sorted(env.items())), tuple(sorted(override.items())))
    assert mine == _metaflow_roots()[key], (env, override)


_ROOTS = {}


def _metaflow_roots():
    # One child per environment, all overrides at once (metaflow is slow to import).
    if _ROOTS:
        return _ROOTS
    overrides = [{}, {"bucket": "other"}, {"prefix": "/my/prefix"}, {"bucket": "other", "prefix": "p"}]
    for env in ROOT_CASES:
        code = """
import json, types
from metaflow import S3
run = types.SimpleNamespace(id="42", parent=types.SimpleNamespace(id="RootFlow"))
out = []
for ov in %r:
    with S3(run=run, **ov) as s3:
        out.append(s3._s3root)
print(json.dumps(out))
""" % (overrides,)
        e = {k: "" for k in ("METAFLOW_DATATOOLS_S3ROOT", "METAFLOW_DATASTORE_SYSROOT_S3")}
        e.update(env)
        e["METAFLOW_TEMPDIR"] = "/tmp"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("METAFLOW_")}
        clean.update({k: v for k, v in e.items() if v})
        p = subprocess.run([PY, "-c", code], env=clean, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        for ov, root in zip(overrides, json.loads(p.stdout.strip().splitlines()[-1])):
            _ROOTS[(tuple(sorted(env.items())), tuple(sorted(ov.items())))] = root
    return _ROOTS


def test_run_without_root_and_bad_run(monkeypatch, tmp_path):
    for k in ("METAFLOW_DATATOOLS_S3ROOT", "METAFLOW_DATASTORE_SYSROOT_S3"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("METAFLOW_HOME", str(tmp_path))  # no ~/.metaflowconfig
    import hoist.s3 as hs3
    if hs3._datatools_s3root() is None:
        with pytest.raises(MetaflowS3URLException, match="DATATOOLS_S3ROOT"):
            S3(run="F/1")
    monkeypatch.setenv("METAFLOW_DATATOOLS_S3ROOT", "s3://b/r")
    with pytest.raises(ValueError, match="run"):
        S3(run="no-slash")
    with pytest.raises(TypeError, match="run"):
        S3(run=12)
    from metaflow import FlowSpec

    class NotRunning(FlowSpec):
        pass

    obj = NotRunning.__new__(NotRunning)  # a FlowSpec outside a running flow
    with pytest.raises(MetaflowS3URLException, match="outside of a running flow"):
        S3(run=obj)


FLOW = '''
import json
from metaflow import FlowSpec, step, S3 as MetaflowS3
from hoist.metaflow import S3


class HoistS3Flow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            self.hoist_root = s3._s3root
            s3.put("from_hoist", json.dumps({"message": "hello world!"}), metadata={"who": "hoist"})
        with MetaflowS3(run=self) as s3:
            self.mf_root = s3._s3root
            s3.put("from_metaflow", "mf", content_type="text/plain", metadata={"who": "metaflow"})
            o = s3.get("from_hoist")
            self.hoist_seen_by_mf = [o.text, o.metadata]
        with S3(run=self) as s3:
            o = s3.get("from_metaflow")
            self.mf_seen_by_hoist = [o.text, o.metadata, o.content_type]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HoistS3Flow()
'''


def test_run_self_in_a_running_flow_and_a_real_run(s3_env, bucket, tmp_path):
    flow = tmp_path / "hoist_s3_flow.py"
    flow.write_text(FLOW)
    env = _mf_env(s3_env, bucket, tmp_path, METAFLOW_DEFAULT_DATASTORE="local",
                  METAFLOW_DEFAULT_METADATA="local", METAFLOW_DATASTORE_SYSROOT_LOCAL=str(tmp_path / "mf"))
    e = dict(os.environ)
    e.update(env)
    p = subprocess.run([PY, str(flow), "--no-pylint", "run"], env=e, cwd=str(tmp_path), capture_output=True,
                       text=True, timeout=240)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    code = """
import json
from metaflow import Flow
from hoist import S3
run = Flow("HoistS3Flow").latest_run
d = run["start"].task.data
with S3(run=run, tmproot=%r) as s3:
    o = s3.get("from_metaflow")
    print(json.dumps({"run_id": run.id, "hoist_root": d.hoist_root, "mf_root": d.mf_root,
                      "hoist_seen_by_mf": d.hoist_seen_by_mf, "mf_seen_by_hoist": d.mf_seen_by_hoist,
                      "root_from_run": s3._s3root, "text": o.text}))
""" % str(tmp_path)
    out = _child(code, env, cwd=str(tmp_path))
    expect = "s3://%s/mfdata/HoistS3Flow/%s" % (bucket, out["run_id"])
    assert out["hoist_root"] == out["mf_root"] == out["root_from_run"] == expect
    assert out["hoist_seen_by_mf"] == ['{"message": "hello world!"}', {"who": "hoist"}]
    assert out["mf_seen_by_hoist"] == ["mf", {"who": "metaflow"}, "text/plain"]
    assert out["text"] == "mf"
