"""Generates tests/iceberg/data: small Iceberg tables written by pyiceberg, for the C planner test
(tests/iceberg/test_ice_plan.c). Run from the source dir with the test venv:

    .venv/bin/python tests/iceberg/make_fixtures.py

pyiceberg writes absolute locations into the metadata and Avro files, so the tables are made under
ROOT (/tmp/hoist-iceberg-fixture); the C test copies the metadata and manifests back there before
planning (the planner reads no data file). Only metadata JSON and Avro are kept in the repo.

expected.tsv: what pyiceberg's own planning says, one line per case:
    table <TAB> metadata file <TAB> snapshot ("-" = current) <TAB> filter ("-" = none) <TAB> outcome
where outcome is the sorted data file names joined by "," (possibly empty), or "ERROR:<text the
message must contain>".
"""
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = "/tmp/hoist-iceberg-fixture"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")


def main():
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.expressions.parser import parse
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import IdentityTransform
    from pyiceberg.typedef import Record
    from pyiceberg.types import (DateType, DoubleType, IntegerType, LongType, NestedField, StringType,
                                 TimestampType)

    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    cat = SqlCatalog("fixture", uri="sqlite:///%s/catalog.db" % ROOT, warehouse="file://%s/warehouse" % ROOT)
    cat.create_namespace("db")
    schema = Schema(NestedField(1, "id", LongType(), required=False),
                    NestedField(2, "month", IntegerType(), required=False),
                    NestedField(3, "vendor", StringType(), required=False),
                    NestedField(4, "fare", DoubleType(), required=False),
                    NestedField(5, "day", DateType(), required=False),
                    NestedField(6, "ts", TimestampType(), required=False))
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="month"))

    def batch(ids, month, vendor):
        n = len(ids)
        return pa.table({
            "id": pa.array(ids, pa.int64()), "month": pa.array([month] * n, pa.int32()),
            "vendor": pa.array([vendor] * n, pa.large_string()),
            "fare": pa.array([float(i) for i in ids], pa.float64()),
            "day": pa.array([19000 + month] * n, pa.date32()),
            "ts": pa.array([1_700_000_000_000_000 + i for i in ids], pa.timestamp("us"))})

    cases = []

    def expect(name, table, snapshot=None, filt=None):
        kw = {}
        if snapshot is not None:
            kw["snapshot_id"] = snapshot
        if filt is not None:
            kw["row_filter"] = parse(filt)
        tasks = table.scan(**kw).plan_files()
        if any(t.delete_files for t in tasks):
            outcome = "ERROR:carry delete files"
        else:
            outcome = ",".join(sorted(os.path.basename(t.file.file_path) for t in tasks))
        cases.append((name, os.path.basename(table.metadata_location), "-" if snapshot is None else str(snapshot),
                      filt or "-", outcome))

    # v2, partitioned by month: two appends, then a copy-on-write delete (DELETED entries)
    t = cat.create_table("db.parted", schema=schema, partition_spec=spec)
    t.append(pa.concat_tables([batch([1, 2, 3], 1, "CMT"), batch([4, 5], 2, "VTS")]))
    first = t.current_snapshot().snapshot_id
    t.append(batch([10, 11, 12], 3, "CMT"))
    t = cat.load_table("db.parted")
    for f in (None, "month = 2", "month > 1", "month = 7", "id > 11", "id < 3", "vendor = 'VTS'",
              "fare > 100", "ts < '2023-11-14T22:13:20'", "day = '2022-01-06'"):
        expect("parted", t, filt=f)
    expect("parted", t, snapshot=first)
    t.delete("month = 1")
    t = cat.load_table("db.parted")
    expect("parted", t)
    expect("parted", t, filt="month = 1")
    expect("parted", t, snapshot=first)

    # v1, unpartitioned
    t = cat.create_table("db.v1", schema=schema, properties={"format-version": "1"})
    t.append(batch([1, 2], 1, "CMT"))
    t.append(batch([3], 2, "VTS"))
    t = cat.load_table("db.v1")
    expect("v1", t)
    expect("v1", t, filt="id = 3")

    # a table without snapshots
    t = cat.create_table("db.empty", schema=schema)
    expect("empty", t)

    # a renamed column
    t = cat.create_table("db.renamed", schema=schema)
    t.append(batch([1], 1, "CMT"))
    with t.update_schema() as upd:
        upd.rename_column("fare", "fare_amount")
    t = cat.load_table("db.renamed")
    cases.append(("renamed", os.path.basename(t.metadata_location), "-", "-", "ERROR:renamed"))

    # a positional delete file committed through a fast append (merge-on-read, as Spark writes)
    t = cat.create_table("db.mor", schema=schema, partition_spec=spec)
    t.append(pa.concat_tables([batch([1, 2], 1, "CMT"), batch([3], 2, "VTS")]))
    t = cat.load_table("db.mor")
    month1 = [f for f in t.inspect.files().to_pylist() if f["partition"]["month"] == 1][0]["file_path"]
    path = "%s/deletes/pos-1.parquet" % ROOT
    os.makedirs(os.path.dirname(path))
    pq.write_table(pa.table({"file_path": [month1], "pos": pa.array([0], pa.int64())}), path)
    delete = DataFile.from_args(content=DataFileContent.POSITION_DELETES, file_path="file://" + path,
                                file_format=FileFormat.PARQUET, partition=Record(1), record_count=1,
                                file_size_in_bytes=os.path.getsize(path))
    delete.spec_id = 0
    with t.transaction() as txn:
        with txn.update_snapshot().fast_append() as append:
            append.append_data_file(delete)
    t = cat.load_table("db.mor")
    expect("mor", t)
    expect("mor", t, filt="month = 2")  # the delete applies to month 1 only

    # keep metadata JSON and Avro (not data, not the catalog)
    shutil.rmtree(OUT, ignore_errors=True)
    for dirpath, _dirs, files in os.walk(os.path.join(ROOT, "warehouse")):
        for f in files:
            if f.endswith((".json", ".avro")):
                rel = os.path.relpath(os.path.join(dirpath, f), ROOT)
                os.makedirs(os.path.join(OUT, os.path.dirname(rel)), exist_ok=True)
                shutil.copy(os.path.join(dirpath, f), os.path.join(OUT, rel))
    with open(os.path.join(OUT, "expected.tsv"), "w") as fh:
        for c in cases:
            fh.write("\t".join(c) + "\n")


if __name__ == "__main__":
    main()
