"""Ray Data: hoist datasets as a source and a sink (``pip install hoist[ray]``).

    import ray, hoist.ray
    ds = hoist.ray.read_dataset("s3://bucket/taxi/", columns=["fare", "tip"], filter="fare > 0")
    ds.filter(expr=col("tip") > 1).sum("fare")           # the filter is pushed into hoist
    ds.write_datasink(hoist.ray.ParquetSink("s3://bucket/out/", partition_by=["month"]))

Read tasks are ``hoist.shards`` (byte-balanced, deterministic); each loads its
shard with hoist's loader and yields Arrow tables. Column selections
(``select_columns``) and filters built from ``ray.data.expressions`` are
pushed into hoist when the installed Ray offers the hooks (2.5x: the
datasource projection/predicate mixins; feature-detected) and the filter
maps onto hoist's filter language; otherwise Ray applies them itself.

The sink writes each task's blocks with ``hoist.write_table(...,
commit="defer")``: a task publishes nothing and returns a
``hoist.PendingWrite``; the driver commits once (``hoist.commit_pending``:
every upload completed, one ``_SUCCESS``) after all tasks succeeded. A failed
job aborts the uploads by write id (``hoist.abort_pending``). Ray calls
``on_write_failed`` without waiting for the other write tasks to stop
(ray/data/dataset.py ``write_datasink``: the executor is shut down with
``force=False``, which cancels running tasks without waiting for them;
ray 2.60); a task still running then cannot publish anything
(hoist._engine.DatasetCommit).
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Iterator, List, Optional, Sequence

try:
    import ray.data
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasink, Datasource, ReadTask
except ImportError as e:  # the optional extra is missing
    raise ImportError("hoist.ray needs the ray extra: pip install 'hoist[ray]' (%s)" % e) from e

from . import _engine
from .table import Shard, scan

__all__ = ["HoistDatasource", "ParquetSink", "read_dataset"]

_DEFAULT_BLOCK_BYTES = 128 << 20


def _read_shard(shard: Shard, columns: Optional[List[str]], filter: Optional[str], sample: Optional[float],
                seed: int, block_bytes: int, first_column: str, store: Dict[str, Any]) -> Iterator[Any]:
    """One read task: the shard's batches, joined into blocks of about
    block_bytes (Ray's target block size)."""
    import pyarrow as pa

    load_cols = columns
    if columns is not None and len(columns) == 0:
        # A row count only (ds.count() projects every column away). Ray
        # counts a table without columns as 0 rows (ArrowBlockAccessor), so
        # the blocks keep one column.
        load_cols = [first_column]
    pending: List[Any] = []
    size = 0
    schema = None
    yielded = False
    with scan(shard, columns=load_cols, filter=filter, sample=sample, seed=seed, **store) as sc:
        for batch in sc:
            schema = batch.schema
            pending.append(batch)
            size += batch.nbytes
            if size >= block_bytes:
                yield pa.Table.from_batches(pending, schema=schema)
                pending, size, yielded = [], 0, True
        if schema is None:
            schema = sc.schema
    if pending or not yielded:  # an empty shard still gives its schema
        yield pa.Table.from_batches(pending, schema=schema)


class _ExprToFilter:
    """A ray.data.expressions tree as hoist's filter text, or None where the
    language cannot say it exactly (arithmetic, UDFs, column-to-column)."""

    def __init__(self):
        from ray.data.expressions import Operation as Op

        self.cmp = {Op.EQ: "=", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}
        self.flip = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
        self.op = Op

    def __call__(self, e: Any) -> Optional[str]:
        from ray.data.expressions import BinaryExpr, ColumnExpr, LiteralExpr, UnaryExpr

        Op = self.op
        if isinstance(e, BinaryExpr):
            if e.op in (Op.AND, Op.OR):
                left, right = self(e.left), self(e.right)
                if left is None or right is None:
                    return None
                return "(%s) %s (%s)" % (left, "AND" if e.op == Op.AND else "OR", right)
            if e.op in self.cmp:
                if isinstance(e.left, ColumnExpr) and isinstance(e.right, LiteralExpr):
                    name, value, op = e.left.name, e.right.value, self.cmp[e.op]
                elif isinstance(e.left, LiteralExpr) and isinstance(e.right, ColumnExpr):
                    name, value, op = e.right.name, e.left.value, self.flip[self.cmp[e.op]]
                else:
                    return None
                q, v = _engine.quote_name(name), _engine.literal(value)
                return None if q is None or v is None else "%s %s %s" % (q, op, v)
            if e.op in (Op.IN, Op.NOT_IN) and isinstance(e.left, ColumnExpr) and isinstance(e.right, LiteralExpr):
                values = e.right.value if isinstance(e.right.value, (list, tuple)) else [e.right.value]
                q, lits = _engine.quote_name(e.left.name), [_engine.literal(v) for v in values]
                if q is None or not lits or any(v is None for v in lits):
                    return None
                return "%s %sIN (%s)" % (q, "NOT " if e.op == Op.NOT_IN else "", ", ".join(lits))
            return None
        if isinstance(e, UnaryExpr):
            if e.op == Op.NOT:
                inner = self(e.operand)
                return None if inner is None else "NOT (%s)" % inner
            if e.op in (Op.IS_NULL, Op.IS_NOT_NULL) and isinstance(e.operand, ColumnExpr):
                q = _engine.quote_name(e.operand.name)
                return None if q is None else "%s IS %sNULL" % (q, "NOT " if e.op == Op.IS_NOT_NULL else "")
            return None
        return None


class HoistDatasource(Datasource):
    """A hoist dataset (prefix, glob, file list) as a Ray Data source. Use
    ``read_dataset``; the options are those of ``hoist.load_table``."""

    def __init__(self, url: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
                 sample: Optional[float] = None, seed: int = 0, **store: Any):
        super().__init__()
        self._url = url
        self._columns = [columns] if isinstance(columns, str) else (list(columns) if columns is not None else None)
        self._filter = filter
        self._sample = sample
        self._seed = seed
        self._store = _engine.store_options(store)
        self._projection_map = None  # the projection mixin's state (None: every column)
        self._pushed: Optional[str] = None  # filter text Ray pushed down
        self._planned: Dict[Any, Any] = {}

    # -- pushdown hooks (feature-detected by Ray's optimizer) -----------------
    def supports_projection_pushdown(self) -> bool:
        return True

    def supports_predicate_pushdown(self) -> bool:
        return True

    def apply_predicate(self, predicate_expr: Any) -> "HoistDatasource":
        text = _ExprToFilter()(predicate_expr)
        if text is None:
            return self  # Ray keeps its Filter above the read
        # hoist applies the filter to rows exactly, so Ray may drop its Filter.
        clone = super().apply_predicate(predicate_expr)
        clone._pushed = _engine.and_filters(self._pushed, text)
        clone._planned = {}
        return clone

    def apply_projection(self, projection_map: Optional[Dict[str, str]]) -> "HoistDatasource":
        clone = super().apply_projection(projection_map)
        clone._planned = {}
        return clone

    # -- planning ---------------------------------------------------------
    def _read_columns(self) -> Optional[List[str]]:
        wanted = self._get_data_columns() if hasattr(self, "_get_data_columns") else None
        if wanted is None:
            return self._columns
        if self._columns is None:
            return list(wanted)
        return [c for c in wanted if c in self._columns]

    def _effective_filter(self) -> Optional[str]:
        return _engine.and_filters(self._filter, self._pushed)

    def _plan(self, n: int):
        cols = self._read_columns()
        what = (tuple(cols) if cols is not None else None, self._effective_filter())
        if (n,) + what not in self._planned:
            schema, shards = _engine.plan(self._url, cols or None, self._effective_filter(), n, **self._store)
            self._planned[(n,) + what] = (schema, shards)
            # Fewer shards than asked (fewer files/row groups): asking for
            # exactly that many gives the same split, without another pass.
            self._planned[(len(shards),) + what] = (schema, shards)
        return self._planned[(n,) + what]

    def _any_plan(self):
        """A plan of the current columns and filter, whatever its shard
        count (the totals do not depend on it): the cached one if any."""
        cols = self._read_columns()
        what = (tuple(cols) if cols is not None else None, self._effective_filter())
        for key, planned in self._planned.items():
            if key[1:] == what:
                return planned
        return self._plan(1)

    def estimate_inmemory_data_size(self) -> Optional[int]:
        # The projected column chunks' bytes from the footers (compressed:
        # a lower bound of the decoded size).
        _, shards = self._any_plan()
        total = sum(s.nbytes for s in shards)
        if self._sample is not None:
            total = int(total * self._sample)
        return total

    def get_read_tasks(self, parallelism: int, per_task_row_limit: Optional[int] = None,
                       data_context: Any = None) -> List[ReadTask]:
        schema, shards = self._plan(max(1, parallelism))
        cols = self._read_columns()
        if cols is not None:
            first = schema.names[0] if schema.names else ""
            keep = [c for c in cols if c in schema.names] or [first]
            schema = schema.empty_table().select(keep).schema
        else:
            first = ""
        target = getattr(data_context, "target_max_block_size", None) or _DEFAULT_BLOCK_BYTES
        exact_rows = self._effective_filter() is None and self._sample is None
        tasks = []
        for s in shards:
            meta = BlockMetadata(num_rows=s.num_rows if exact_rows else None, size_bytes=int(s.nbytes),
                                 exec_stats=None, input_files=list(s.urls))
            fn = functools.partial(_read_shard, s, cols, self._effective_filter(), self._sample, self._seed,
                                   int(target), first, self._store)
            kw = {"per_task_row_limit": per_task_row_limit} if per_task_row_limit is not None else {}
            tasks.append(ReadTask(fn, meta, schema=schema, **kw))
        return tasks

    def get_name(self) -> str:
        return "Hoist"


def read_dataset(url: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None,
                 sample: Optional[float] = None, *, seed: int = 0, override_num_blocks: Optional[int] = None,
                 ray_remote_args: Optional[Dict[str, Any]] = None, **store: Any) -> "ray.data.Dataset":
    """A ``ray.data.Dataset`` over a hoist dataset: one read task per
    ``hoist.shards`` shard (``override_num_blocks`` sets how many shards to
    ask for; the default is 4 per CPU of the cluster, one per 512 MiB of
    the projected columns if that is more, at most one per row group). ``columns``/``filter``/``sample``/``seed``
    as in ``hoist.load_table``; store settings ``endpoint``, ``region``,
    ``profile``, ``concurrency`` travel with the tasks, credentials come from
    the workers' environment."""
    ds = HoistDatasource(url, columns=columns, filter=filter, sample=sample, seed=seed, **store)
    kw: Dict[str, Any] = {}
    if override_num_blocks is None:
        override_num_blocks = _default_read_tasks(ds)
    kw["override_num_blocks"] = override_num_blocks
    if ray_remote_args is not None:
        kw["ray_remote_args"] = ray_remote_args
    return ray.data.read_datasource(ds, **kw)


_BYTES_PER_TASK = 512 << 20


def _default_read_tasks(ds: HoistDatasource) -> int:
    """How many read tasks to ask for when the caller does not say: 4 per
    CPU of the cluster, more for a dataset above 512 MiB per task (a failed
    task is retried whole), and no more than the dataset has shards.

    Left to itself Ray asks a datasource for 200 read tasks and, given
    fewer (a dataset of 24 row groups gives 24 shards), splits every task's
    output into ceil(200 / tasks) slices: 216 objects instead of 24, each
    put in the object store on its own (engines_load: materialize() of the
    taxi dataset took about twice as long as with 8 tasks). Asking for what
    the shards allow avoids the split."""
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0)) if ray.is_initialized() else 0
    except Exception:
        cpus = 0
    if cpus <= 0:
        import os

        cpus = os.cpu_count() or 1
    want = 4 * cpus
    _, shards = ds._plan(want)
    by_size = -(-sum(s.nbytes for s in shards) // _BYTES_PER_TASK)
    if by_size > want:  # a big dataset: plan again, finer
        _, shards = ds._plan(by_size)
    return max(1, len(shards))


class ParquetSink(Datasink):
    """Writes a Ray Dataset as a hoist Parquet dataset, all or nothing:
    ``ds.write_datasink(hoist.ray.ParquetSink(url, partition_by=[...]))``.

    ``existing`` is "error" (default), "append" or "overwrite" (the
    partitions written), as for ``hoist.write_table``; other keyword
    arguments are ``write_table``'s Parquet and layout options plus the
    non-secret store settings. After the write, ``result`` is the
    ``hoist.WriteResult`` (on the driver's copy of the sink)."""

    def __init__(self, url: Any, partition_by: Optional[Sequence[str]] = None, existing: str = "error",
                 **options: Any):
        store = {k: options.pop(k) for k in list(options) if k in _engine.STORE_KEYS}
        self._commit = _engine.DatasetCommit(url, partition_by, existing, options, store)
        self._schema = None
        self.result = None

    def on_write_start(self, schema: Any = None, *args: Any, **kwargs: Any) -> None:
        self._schema = schema
        self._commit.begin()

    def write(self, blocks: Any, ctx: Any) -> Any:
        import pyarrow as pa

        tables = (b if isinstance(b, pa.Table) else pa.Table.from_pandas(b, preserve_index=False) for b in blocks)
        first = next(tables, None)
        if first is None:
            return None

        def batches():  # the task's blocks streamed into the writer, one at a time
            yield from first.to_batches()
            for t in tables:
                yield from t.cast(first.schema).to_batches()

        data = pa.RecordBatchReader.from_batches(first.schema, batches())
        return self._commit.write_part(data, "t%05d" % getattr(ctx, "task_idx", 0))

    def on_write_complete(self, write_result: Any) -> None:
        returns = getattr(write_result, "write_returns", write_result)
        self.result = self._commit.commit(list(returns), schema=self._schema)

    def on_write_failed(self, error: Exception) -> None:
        # Ray gives no task results here: the abort finds the job's pending
        # uploads by write id (tasks may still be running: see the module
        # comment).
        self._commit.abort()

    def get_name(self) -> str:
        return "HoistParquet"
