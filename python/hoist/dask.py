"""Dask: hoist datasets as a source and a sink (``pip install hoist[dask]``).

    import hoist.dask
    ddf = hoist.dask.read_dataset("s3://bucket/taxi/", filter="fare > 0")
    ddf[["fare", "tip"]].sum().compute()        # only fare and tip are fetched
    hoist.dask.to_dataset(ddf, "s3://bucket/out/", partition_by=["month"])

``read_dataset`` is ``dask.dataframe.from_map`` over ``hoist.shards``: one
partition per shard, ``meta`` from the dataset's schema (nothing is read to
build the graph), and a ``columns`` parameter so Dask's optimizer pushes
column selections into hoist's loader. Dask has no predicate pushdown for
``from_map``: give the filter to ``read_dataset``.

``to_dataset`` writes every partition with ``hoist.write_table(...,
commit="defer")`` in its task (nothing published) and commits once on the
client after all tasks succeeded (``hoist.commit_pending``: one
``_SUCCESS``); a failed job aborts every pending upload of its write id
(``hoist.abort_pending``; hoist._engine.DatasetCommit).
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Sequence

try:
    import dask
    import dask.dataframe as dd
except ImportError as e:  # the optional extra is missing
    raise ImportError("hoist.dask needs the dask extra: pip install 'hoist[dask]' (%s)" % e) from e

from . import _engine
from .table import Shard, load_table

__all__ = ["read_dataset", "to_dataset"]


def _to_pandas(table: Any, dtype_backend: Optional[str], pyarrow_strings: bool) -> Any:
    """One partition's pandas frame. pyarrow_strings: string columns become
    "string[pyarrow]" here, straight from the Arrow column (what Dask's
    string conversion would make of them after a round trip through Python
    objects; the client decides, see read_dataset)."""
    import pandas as pd

    if dtype_backend == "pyarrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype, self_destruct=True)
    mapper = None
    if pyarrow_strings:
        import pyarrow as pa

        strings = pd.StringDtype("pyarrow")
        mapper = lambda t: strings if t in (pa.string(), pa.large_string()) else None  # noqa: E731
    # self_destruct: each column's Arrow buffers are released as soon as it
    # is converted, so the partition's peak is about one copy, not two. The
    # NumPy columns stay copies (pyarrow's zero-copy columns are read-only,
    # and a partition must be writable as Dask's own reader's are).
    return table.to_pandas(types_mapper=mapper, self_destruct=True)


def _pyarrow_strings() -> bool:
    try:
        from dask.dataframe.utils import pyarrow_strings_enabled

        return bool(pyarrow_strings_enabled())
    except ImportError:
        return False


class _ReadShard:
    """The per-partition function (picklable): loads one shard. Its
    ``columns`` parameter is what makes Dask push projections into it."""

    def __init__(self, all_columns: List[str], filter: Optional[str], sample: Optional[float], seed: int,
                 dtype_backend: Optional[str], pyarrow_strings: bool, store: Dict[str, Any]):
        self.all_columns = all_columns
        self.pyarrow_strings = pyarrow_strings
        self.filter = filter
        self.sample = sample
        self.seed = seed
        self.dtype_backend = dtype_backend
        self.store = store

    def __call__(self, shard: Shard, columns: Optional[List[str]] = None) -> Any:
        cols = list(columns) if columns is not None else self.all_columns
        # An empty selection (len(ddf)) still needs the rows: load the first
        # column and drop it.
        load = cols if cols else self.all_columns[:1]
        t = load_table(shard, columns=load, filter=self.filter, sample=self.sample, seed=self.seed, **self.store)
        df = _to_pandas(t.to_pyarrow(), self.dtype_backend, self.pyarrow_strings)
        return df[cols] if not cols else df


def read_dataset(url: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
                 sample: Optional[float] = None, *, seed: int = 0, npartitions: Optional[int] = None,
                 dtype_backend: Optional[str] = None, **store: Any) -> "dd.DataFrame":
    """A lazy ``dask.dataframe.DataFrame`` over a hoist dataset.

    ``npartitions``: how many shards to ask ``hoist.shards`` for (default:
    one per data file or row group up to 4 per worker thread of the current
    client, else 4 x cores); fewer come back for a small dataset.
    ``columns``/``filter``/``sample``/``seed`` as in ``hoist.load_table``.
    ``dtype_backend="pyarrow"`` gives ``pd.ArrowDtype`` columns (what the
    loader decoded, no conversion); the default is pandas' NumPy dtypes.
    Store settings ``endpoint``, ``region``, ``profile``, ``concurrency``
    travel with the tasks; credentials come from the workers' environment."""
    store = _engine.store_options(store)
    if dtype_backend not in (None, "numpy_nullable", "pyarrow"):
        raise ValueError("dtype_backend: None, 'numpy_nullable' or 'pyarrow', got %r" % (dtype_backend,))
    if npartitions is None:
        npartitions = 4 * _threads()
    schema, shards = _engine.plan(url, columns, filter, npartitions, **store)
    # The client's "dataframe.convert-string" setting decides, once, and the
    # tasks apply it while converting. from_map is then told not to add its
    # own conversion: that is a second pass over every partition, and a
    # second layer of tasks that the scheduler may place on another worker
    # than the read (a transfer of the whole partition; seen in the
    # engines_load benchmark's task stream).
    strings = dtype_backend != "pyarrow" and _pyarrow_strings()
    meta = _to_pandas(schema.empty_table(), dtype_backend, strings)
    fn = _ReadShard(list(schema.names), filter, sample, seed, dtype_backend, strings, store)
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(fn, shards, meta=meta, label="hoist-read", enforce_metadata=False)


def _threads() -> int:
    import os

    try:
        from distributed import get_client

        return max(1, sum(get_client().nthreads().values()))
    except Exception:
        return os.cpu_count() or 1


# Write tasks running in this process (Dask's local schedulers), per write
# id, and the write ids whose job failed: a task that starts after the
# failure writes nothing, and the client aborts only once none is running
# (no task can then start an upload after the abort's sweep).
_local_cv = threading.Condition()
_local_running: Dict[str, int] = {}
_local_aborted: set = set()


def _write_part(df: Any, commit: "_engine.DatasetCommit", index: int) -> Any:
    import pyarrow as pa

    wid = commit.write_id
    with _local_cv:
        if wid in _local_aborted:
            raise RuntimeError("hoist.dask: the write %s was aborted" % wid)
        _local_running[wid] = _local_running.get(wid, 0) + 1
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
        return commit.write_part(table, "p%05d" % index)
    finally:
        with _local_cv:
            _local_running[wid] -= 1
            if not _local_running[wid]:
                del _local_running[wid]
            _local_cv.notify_all()


def _distributed_client() -> Any:
    """The distributed Client dask.compute would use, or None (a local scheduler)."""
    from dask.base import get_scheduler

    sched = get_scheduler()
    owner = getattr(sched, "__self__", None)  # Client.get, bound, when a client is the scheduler
    return owner if owner is not None and hasattr(owner, "compute") and hasattr(owner, "gather") else None


def _run_writes(tasks: List[Any], write_id: str) -> List[Any]:
    """Computes the write tasks. When one fails, returns (raising its error)
    only after no other task can still write: Dask never stops a task that
    is running, and one finishing after the client deleted the job's files
    would leave its file behind."""
    client = _distributed_client()
    if client is not None:
        from distributed import wait
        futures = client.compute(tasks)
        try:
            return client.gather(futures)
        except BaseException:
            wait(futures)  # every task finished or failed: nothing writes after this
            raise
    try:
        return list(dask.compute(*tasks))
    except BaseException:
        with _local_cv:
            _local_aborted.add(write_id)
            _local_cv.wait_for(lambda: write_id not in _local_running)
        raise


def to_dataset(ddf: "dd.DataFrame", url: Any, partition_by: Optional[Sequence[str]] = None,
               existing: str = "error", **options: Any) -> Any:
    """Writes a Dask DataFrame as a hoist Parquet dataset, all or nothing,
    and returns the ``hoist.WriteResult``. Each partition is written by its
    own task (``hoist.write_table`` options: compression, row_group_size,
    ...; the index is not written); the client then commits once. ``existing``
    as for ``hoist.write_table``. If any task fails, the uploads of the
    others are aborted (none was ever visible) and the task's error is
    raised."""
    import pyarrow as pa

    store = {k: options.pop(k) for k in list(options) if k in _engine.STORE_KEYS}
    commit = _engine.DatasetCommit(url, partition_by, existing, options, store).begin()
    tasks = [dask.delayed(_write_part)(part, commit, i) for i, part in enumerate(ddf.to_delayed())]
    try:
        parts = _run_writes(tasks, commit.write_id)
        schema = pa.Schema.from_pandas(ddf._meta, preserve_index=False)
        return commit.commit(list(parts), schema=schema)
    except BaseException:
        commit.abort()
        raise
