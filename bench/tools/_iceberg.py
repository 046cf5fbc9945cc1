"""Shared by the iceberg_load_* tools: arguments (catalog URI, identifier, workload) and the
workloads of dataset_load (all columns; two; two with passenger_count > 1)."""
import sys

from _common import COLUMNS, FILTER_EXPR, FILTERED, report  # noqa: F401


def parse_args():
    if len(sys.argv) != 4 or sys.argv[3] not in COLUMNS:
        sys.exit("usage: %s CATALOG_URI|METADATA_LOCATION IDENTIFIER {%s}" % (sys.argv[0], "|".join(COLUMNS)))
    return sys.argv[1], sys.argv[2], sys.argv[3]


def load_table(uri, ident):
    """The pyiceberg Table, through pyiceberg's own SqlCatalog (the peers do not import hoist):
    the catalog name and the FileIO settings hoist.iceberg.catalog() gives it."""
    import os

    from pyiceberg.catalog.sql import SqlCatalog

    props = {"uri": uri}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if endpoint:
        props["s3.endpoint"] = endpoint
    if region:
        props["s3.region"] = region
    return SqlCatalog("hoist", **props).load_table(ident)
