"""Shared by the dataset-load tools: the workloads and the one-line JSON
result each tool prints last (rows, columns, bytes of the resulting table)."""
import json
import os
import sys

# (a) all columns, (b) two columns, (c) two columns with a filter
COLUMNS = {"all": None, "two": ["trip_distance", "total_amount"], "two_filtered": ["trip_distance", "total_amount"]}
FILTERED = {"two_filtered"}
FILTER_EXPR = "passenger_count > 1"


def parse_args():
    if len(sys.argv) != 3 or sys.argv[2] not in COLUMNS:
        sys.exit("usage: %s s3://bucket/prefix/ {%s}" % (sys.argv[0], "|".join(COLUMNS)))
    return sys.argv[1], sys.argv[2]


def split_url(url):
    assert url.startswith("s3://"), url
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def endpoint():
    return os.environ["AWS_ENDPOINT_URL"]


def report(table_rows, table_columns, table_bytes, **extra):
    d = {"rows": int(table_rows), "columns": int(table_columns), "table_bytes": int(table_bytes)}
    d.update(extra)
    print(json.dumps(d), flush=True)
