#!/usr/bin/env bash
# the seeds' pipeline on Metaflow's local runtime: load + register (Iceberg), CTAS (DuckDB), plot, regress
# Each flow of examples/ runs against the local S3 server and reads what the one before
# wrote; outputs (PNGs, the lineage manifest) land in demo-out/.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
"$here/.venv/bin/python" "$here/scripts/demo-pipeline.py" s3://hoist/taxi/
