"""Shared by the iceberg_load_* tools: arguments (catalog URI, identifier, workload) and the
workloads of dataset_load (all columns; two; two with passenger_count > 1)."""
import sys

from _common import COLUMNS, FILTER_EXPR, FILTERED, report  # noqa: F401


def parse_args():
    if len(sys.argv) != 4 or sys.argv[3] not in COLUMNS:
        sys.exit("usage: %s CATALOG_URI|METADATA_LOCATION IDENTIFIER {%s}" % (sys.argv[0], "|".join(COLUMNS)))
    return sys.argv[1], sys.argv[2], sys.argv[3]


def load_table(uri, ident):
    import hoist

    return hoist.iceberg.catalog(uri).load_table(ident)
