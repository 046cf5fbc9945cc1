"""The engine adapters' shared parts without a cluster (hoist._engine): the
multi-task commit on local files (what tasks and driver do, called in
turn), and the translation of Ray expressions and Spark filters into
hoist's filter language, checked by running the translated filter."""
import datetime
import json
import os
import pickle

import pyarrow as pa
import pytest

import hoist
from hoist import _engine


def _parts(n=3, rows=10):
    return [pa.table({"id": list(range(i * rows, (i + 1) * rows)), "k": [j % 2 for j in range(rows)]})
            for i in range(n)]


def _files(d):
    out = []
    for root, _, names in os.walk(d):
        out.extend(os.path.relpath(os.path.join(root, n), d) for n in names)
    return sorted(out)


def test_commit_lists_every_task_once(tmp_path):
    c = _engine.DatasetCommit(str(tmp_path / "out"), partition_by=["k"]).begin()
    results = [c.write_part(t, "t%d" % i) for i, t in enumerate(_parts())]
    # Nothing is visible yet: every file is a hidden temp file until the driver commits.
    assert all(os.path.basename(f).startswith(".") for f in _files(tmp_path / "out"))
    # What a task returns travels through the engine: small, picklable, no secret.
    back = pickle.loads(pickle.dumps(results[0]))
    assert back.text == results[0].text and back.write_id == c.write_id and back.rows == 10
    res = c.commit(results)
    assert res.rows == 30 and res.write_id == c.write_id
    files = _files(tmp_path / "out")
    assert files.count("_SUCCESS") == 1
    assert sorted(f for f in files if f != "_SUCCESS") == sorted(f["path"] for f in res.files)
    back = hoist.load_table(str(tmp_path / "out")).to_pyarrow().sort_by("id")
    assert back["id"].to_pylist() == list(range(30))


def test_commit_drops_files_of_unreported_attempts(tmp_path):
    c = _engine.DatasetCommit(str(tmp_path / "out")).begin()
    t = _parts(1)[0]
    lost = c.write_part(t, "t0")  # an attempt whose result never reached the driver
    kept = c.write_part(t, "t0")  # its retry
    res = c.commit([kept])
    assert res.rows == 10
    assert not os.path.exists(os.path.join(tmp_path, "out", lost.files[0]["path"]))
    # the lost attempt's hidden temp file is swept too
    assert _files(tmp_path / "out") == sorted(["_SUCCESS", kept.files[0]["path"]])


def test_abort_leaves_nothing_and_keeps_old_data(tmp_path):
    out = str(tmp_path / "out")
    first = hoist.write_table(_parts(1)[0], out)
    c = _engine.DatasetCommit(out, existing="append").begin()
    reported = [c.write_part(t, "t%d" % i) for i, t in enumerate(_parts())]
    c.abort(reported[:1])  # two tasks never reported: swept by write id
    assert _files(out) == sorted(["_SUCCESS"] + [f["path"] for f in first.files])
    assert hoist.load_table(out).num_rows == 10


def test_existing_modes(tmp_path):
    out = str(tmp_path / "out")
    base = _engine.DatasetCommit(out, partition_by="k").begin()
    base.commit([base.write_part(_parts(1)[0], "t0")])
    with pytest.raises(hoist.DatasetExistsError):
        _engine.DatasetCommit(out).begin()
    app = _engine.DatasetCommit(out, partition_by="k", existing="append").begin()
    res = app.commit([app.write_part(_parts(2)[1], "t0")])
    assert res.rows == 20 and hoist.load_table(out).num_rows == 20
    # overwrite replaces the partitions written (k=1 only) and keeps k=0.
    ow = _engine.DatasetCommit(out, partition_by="k", existing="overwrite").begin()
    new = pa.table({"id": [100, 101], "k": [1, 1]})
    res = ow.commit([ow.write_part(new, "t0")])
    back = hoist.load_table(out).to_pyarrow()
    assert sorted(back.filter(pa.compute.equal(back["k"], 1))["id"].to_pylist()) == [100, 101]
    assert back.filter(pa.compute.equal(back["k"], 0)).num_rows == 10
    assert res.rows == back.num_rows == 12
    assert all(f.endswith("_SUCCESS") or f.startswith("k=0/") or ow.write_id in f for f in _files(out))


def test_empty_job_writes_an_empty_dataset(tmp_path):
    c = _engine.DatasetCommit(str(tmp_path / "out")).begin()
    res = c.commit([], schema=pa.schema([("a", pa.int64())]))
    assert res.rows == 0 and res.files == []
    m = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    assert [c["name"] for c in m["schema"]] == ["a"]


def test_no_secrets_in_tasks():
    with pytest.raises(TypeError, match="never ship secrets"):
        _engine.DatasetCommit("s3://b/x", store={"credentials": ("k", "s")})
    with pytest.raises(TypeError):
        _engine.store_options({"secret_access_key": "s"})


@pytest.mark.parametrize("value,text", [
    (True, "TRUE"), (3, "3"), (2.5, "2.5"), ("it's", "'it''s'"), (datetime.date(2024, 1, 31), "DATE '2024-01-31'"),
    (datetime.datetime(2024, 1, 31, 12, 0, 1), "TIMESTAMP '2024-01-31 12:00:01'"), (None, None),
    (float("nan"), None), (b"x", None), (datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), None)])
def test_literals(value, text):
    assert _engine.literal(value) == text


def _table():
    return pa.table({"a": [1, 2, None, 4, 5], "s": ["x", "y", "z", None, "x"], "my col": [1, 1, 2, 2, 3]})


def _rows(tmp_path, text):
    p = tmp_path / "t.parquet"
    if not p.exists():
        hoist.write_table(_table(), str(p))
    return hoist.load_table(str(p), filter=text).to_pyarrow()["a"].to_pylist()


def test_ray_expressions(tmp_path):
    pytest.importorskip("ray.data")
    from ray.data.expressions import col, lit

    from hoist.ray import _ExprToFilter

    tr = _ExprToFilter()
    cases = [
        ((col("a") > 1) & (col("s") == "x"), [5]),
        ((col("a") < 2) | col("s").is_in(["y"]), [1, 2]),
        (~(col("a") >= 4), [1, 2]),  # Kleene: NOT(null) drops the null row
        (col("a").is_null(), [None]),
        (col("s").not_in(["x", "y"]), [None]),
        (lit(2) < col("a"), [4, 5]),
        (col("my col") == 2, [None, 4]),
    ]
    for expr, want in cases:
        text = tr(expr)
        assert text is not None, expr
        assert _rows(tmp_path, text) == want, (expr, text)
    assert tr((col("a") + 1) > 2) is None
    assert tr(col("a") > col("my col")) is None


def test_spark_filters(tmp_path):
    pytest.importorskip("pyspark")
    from pyspark.sql import datasource as sds

    from hoist.spark import _spark_filter_text

    cases = [
        (sds.GreaterThan(("a",), 1), [2, 4, 5]),
        (sds.EqualNullSafe(("a",), None), [None]),
        (sds.In(("s",), ("x", None)), [1, 5]),
        (sds.Not(sds.EqualTo(("s",), "x")), [2, None]),
        (sds.IsNotNull(("s",)), [1, 2, None, 5]),
        (sds.LessThanOrEqual(("my col",), 1), [1, 2]),
    ]
    for f, want in cases:
        text = _spark_filter_text(f)
        assert text is not None, f
        assert _rows(tmp_path, text) == want, (f, text)
    assert _spark_filter_text(sds.StringStartsWith(("s",), "x")) is None
    assert _spark_filter_text(sds.EqualTo(("st", "a"), 1)) is None
    assert _spark_filter_text(sds.EqualTo(("a",), datetime.datetime(2024, 1, 1))) is None
