"""Spark (pyspark 4 Python Data Source API): the "hoist" format (``pip
install hoist[spark]``). Experimental: the API runs planning, reading and
the commit in Python workers, and its limits are Spark's (below).

    import hoist.spark
    hoist.spark.register(spark)
    df = spark.read.format("hoist").option("filter", "fare > 0").load("s3://bucket/taxi/")
    df.write.format("hoist").option("partition_by", "month").mode("append").save("s3://bucket/out/")

Reading: one Spark partition per ``hoist.shards`` shard; each task loads its
shard with hoist's loader and yields Arrow record batches (cast to the Arrow
form of the Spark schema). Options: ``columns`` (comma-separated; a schema
given with ``.schema(...)`` selects columns too), ``filter`` (hoist's filter
language), ``sample``, ``seed``, ``npartitions`` (shards to ask for; default
2 x ``spark.default.parallelism`` as seen by the planner: 2 x cores),
``endpoint``, ``region``, ``profile``, ``concurrency``.

Filters Spark pushes (``pushFilters``, Spark 4.1+, opt-in with
``register(spark, filter_pushdown=True)`` on a session with
``spark.sql.python.filterPushdown.enabled=true``; see ``register`` for why it
is off by default) are translated into hoist's filter language where it can
say them exactly (comparisons, IN, IS [NOT] NULL, NOT, on top-level columns;
not string prefix/suffix/contains, not timestamps, whose Python values carry
Spark's session time zone) and applied by hoist, which prunes row groups and
filters rows; the others stay with Spark.

What the Python Data Source API cannot do here (pyspark 4.3): prune
columns by itself (no ``pruneColumns`` hook in this version: feature-detected;
a ``select`` after ``load`` still reads every column of the schema, so put
the columns in the ``columns`` option or the schema), push limits or
aggregates, or read without the copy of every batch from the Python worker
to the JVM.

Writing: every task writes its rows with ``hoist.write_table(...,
commit="defer")`` (files named with the job's write id; nothing published:
uncompleted multipart uploads) and returns its ``hoist.PendingWrite`` in
its commit message; Spark's ``commit`` (on the driver) completes every
upload and writes the one ``_SUCCESS`` (``hoist.commit_pending``),
``abort`` aborts the reported uploads and every pending upload of the write
id (``hoist.abort_pending``), so a task still running when Spark aborts
cannot make a file visible (hoist._engine.DatasetCommit). Options:
``partition_by`` (comma-separated), ``existing`` for append mode ("error"
or "append", default "append"; Spark's overwrite mode replaces the
partitions written), ``compression``, ``row_group_size``,
``max_rows_per_file`` and the store settings above.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterator, List, Optional

try:
    from pyspark.sql.datasource import (DataSource, DataSourceArrowWriter, DataSourceReader, InputPartition,
                                        WriterCommitMessage)
except ImportError as e:  # the optional extra is missing
    raise ImportError("hoist.spark needs the spark extra: pip install 'hoist[spark]' (%s)" % e) from e

from . import _engine
from .table import Shard, scan

__all__ = ["HoistDataSource", "register", "PUSHDOWN_CONF"]

PUSHDOWN_CONF = "spark.sql.python.filterPushdown.enabled"

#: Whether this pyspark lets a reader prune columns (a later Spark's hook).
HAS_PRUNE_COLUMNS = hasattr(DataSourceReader, "pruneColumns")
#: Whether this pyspark offers filter pushdown (4.1+).
HAS_PUSH_FILTERS = hasattr(DataSourceReader, "pushFilters")


def _split(value: Optional[str]) -> Optional[List[str]]:
    if value is None or not value.strip():
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


class _Options:
    """The data source options, checked once (picklable)."""

    def __init__(self, options: Dict[str, str]):
        o = {k.lower(): v for k, v in dict(options).items()}
        self.url = o.get("path") or o.get("url")
        if not self.url:
            raise ValueError("hoist: give the dataset URL: .load(url) or .option('url', ...)")
        self.columns = _split(o.get("columns"))
        self.filter = o.get("filter") or None
        self.sample = float(o["sample"]) if o.get("sample") else None
        self.seed = int(o.get("seed", "0"))
        self.npartitions = int(o["npartitions"]) if o.get("npartitions") else None
        store = {k: o[k] for k in ("endpoint", "region", "profile") if o.get(k)}
        if o.get("concurrency"):
            store["concurrency"] = int(o["concurrency"])
        self.store = _engine.store_options(store)
        self.partition_by = _split(o.get("partition_by"))
        self.existing = o.get("existing", "append")
        self.write_options: Dict[str, Any] = {}
        if o.get("compression"):
            self.write_options["compression"] = o["compression"]
        for k in ("row_group_size", "max_rows_per_file"):
            if o.get(k):
                self.write_options[k] = int(o[k])


@dataclasses.dataclass
class _ShardPartition(InputPartition):
    shard: Shard


def _literal(value: Any) -> Optional[str]:
    import datetime

    if isinstance(value, datetime.datetime):
        return None  # Spark hands out timestamps in its session time zone
    return _engine.literal(value)


def _spark_filter_text(f: Any) -> Optional[str]:
    """One pyspark Filter as hoist filter text, or None."""
    from pyspark.sql import datasource as sds

    attr = getattr(f, "attribute", None)
    name = _engine.quote_name(attr[0]) if attr is not None and len(attr) == 1 else None
    if isinstance(f, sds.Not):
        inner = _spark_filter_text(f.child)
        return None if inner is None else "NOT (%s)" % inner
    if name is None:
        return None
    ops = {sds.EqualTo: "=", sds.GreaterThan: ">", sds.GreaterThanOrEqual: ">=", sds.LessThan: "<",
           sds.LessThanOrEqual: "<="}
    for cls, op in ops.items():
        if type(f) is cls:
            v = _literal(f.value)
            return None if v is None else "%s %s %s" % (name, op, v)
    if isinstance(f, sds.EqualNullSafe):
        if f.value is None:
            return "%s IS NULL" % name
        v = _literal(f.value)  # as a row filter, a <=> v keeps the rows a = v keeps
        return None if v is None else "%s = %s" % (name, v)
    if isinstance(f, sds.In):
        # a IN (1, NULL) keeps the rows a IN (1) keeps.
        lits = [_literal(v) for v in f.value if v is not None]
        if not lits or any(v is None for v in lits):
            return None
        return "%s IN (%s)" % (name, ", ".join(lits))
    if isinstance(f, sds.IsNull):
        return "%s IS NULL" % name
    if isinstance(f, sds.IsNotNull):
        return "%s IS NOT NULL" % name
    return None


class HoistReader(DataSourceReader):
    def __init__(self, opts: _Options, schema: Any):
        self.opts = opts
        self.columns = [f.name for f in schema.fields]
        self.spark_schema = schema
        self.pushed: Optional[str] = None

    def _filter(self) -> Optional[str]:
        return _engine.and_filters(self.opts.filter, self.pushed)

    def partitions(self) -> List[InputPartition]:
        import os

        n = self.opts.npartitions or 2 * (os.cpu_count() or 1)
        _, shards = _engine.plan(self.opts.url, self.columns, self._filter(), n, **self.opts.store)
        return [_ShardPartition(s) for s in shards]

    def read(self, partition: InputPartition) -> Iterator[Any]:
        from pyspark.sql.pandas.types import to_arrow_schema

        target = to_arrow_schema(self.spark_schema)
        with scan(partition.shard, columns=self.columns, filter=self._filter(), sample=self.opts.sample,
                  seed=self.opts.seed, **self.opts.store) as sc:
            for batch in sc:
                yield batch if batch.schema.equals(target) else batch.cast(target)


class HoistPushdownReader(HoistReader):
    """The reader when the session allows filter pushdown."""

    def pushFilters(self, filters: List[Any]) -> Iterator[Any]:
        for f in filters:
            text = _spark_filter_text(f)
            if text is None:
                yield f  # Spark evaluates it
            else:
                self.pushed = _engine.and_filters(self.pushed, text)


@dataclasses.dataclass
class _Written(WriterCommitMessage):
    pending: Any  # a hoist.PendingWrite: no secret inside


class HoistWriter(DataSourceArrowWriter):
    def __init__(self, opts: _Options, schema: Any, overwrite: bool):
        existing = "overwrite" if overwrite else opts.existing
        self.commit_ = _engine.DatasetCommit(opts.url, opts.partition_by, existing, opts.write_options,
                                             opts.store).begin()
        self.spark_schema = schema

    def write(self, iterator: Iterator[Any]) -> _Written:
        import pyarrow as pa
        from pyspark import TaskContext
        from pyspark.sql.pandas.types import to_arrow_schema

        ctx = TaskContext.get()
        task = "t%05d" % (ctx.partitionId() if ctx is not None else 0)
        schema = to_arrow_schema(self.spark_schema)
        reader = pa.RecordBatchReader.from_batches(schema, (b.cast(schema) if not b.schema.equals(schema) else b
                                                            for b in iterator))
        return _Written(self.commit_.write_part(reader, task))

    def commit(self, messages: List[Optional[WriterCommitMessage]]) -> None:
        from pyspark.sql.pandas.types import to_arrow_schema

        self.commit_.commit([m.pending for m in messages if isinstance(m, _Written)],
                            schema=to_arrow_schema(self.spark_schema))

    def abort(self, messages: List[Optional[WriterCommitMessage]]) -> None:
        self.commit_.abort([m.pending for m in messages if isinstance(m, _Written)])


class HoistDataSource(DataSource):
    """The "hoist" format (see the module comment)."""

    @classmethod
    def name(cls) -> str:
        return "hoist"

    def schema(self) -> Any:
        from pyspark.sql.pandas.types import from_arrow_schema

        o = _Options(self.options)
        schema, _ = _engine.plan(o.url, o.columns, o.filter, 1, **o.store)
        return from_arrow_schema(schema, prefer_timestamp_ntz=True)

    def reader(self, schema: Any) -> DataSourceReader:
        return HoistReader(_Options(self.options), schema)

    def writer(self, schema: Any, overwrite: bool) -> HoistWriter:
        return HoistWriter(_Options(self.options), schema, overwrite)


class HoistPushdownDataSource(HoistDataSource):
    """The "hoist" format with filter pushdown (registered by ``register``
    when the session enables it)."""

    def reader(self, schema: Any) -> DataSourceReader:
        return HoistPushdownReader(_Options(self.options), schema)


def register(spark: Any, filter_pushdown: bool = False) -> type:
    """Registers the "hoist" format with a SparkSession; returns the class
    registered.

    ``filter_pushdown=True`` registers the reader with ``pushFilters``
    (pyspark 4.1+; the session must have
    ``spark.sql.python.filterPushdown.enabled=true``, Spark refuses the
    reader otherwise). It is off by default because Spark 4.3 keeps the
    reader a pushdown produced in the DataFrame's relation: a later query on
    the same DataFrame without a filter reads with the earlier filter
    (tests/python/test_engines_spark.py pins this). The ``filter`` option is
    always exact and safe."""
    if filter_pushdown:
        if not HAS_PUSH_FILTERS:
            raise RuntimeError("filter_pushdown: this pyspark (%s) has no pushFilters (4.1+)" % _pyspark_version())
        if str(spark.conf.get(PUSHDOWN_CONF, "false")).lower() != "true":
            raise RuntimeError("filter_pushdown: set %s=true on the session first" % PUSHDOWN_CONF)
    cls = HoistPushdownDataSource if filter_pushdown else HoistDataSource
    spark.dataSource.register(cls)
    return cls


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__
