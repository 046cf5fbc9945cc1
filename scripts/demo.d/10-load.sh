#!/usr/bin/env bash
# load a ~1 GiB taxi dataset from S3 into Arrow: all columns, then 2 columns with a filter
# Generated once into demo-data/ (cached), uploaded once with `hoist cp -r`,
# then loaded; every figure printed is measured now.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
hoist=${HOIST:-$here/build/hoist}
py=$here/.venv/bin/python
data=$here/demo-data/taxi
size=${HOIST_DEMO_SIZE:-1G}
url=s3://hoist/taxi/

stamp="$data.complete-$size-$(md5sum "$here/scripts/gen-taxi.py" | cut -c1-8)"
if [ ! -f "$stamp" ]; then
    echo "-- generating a taxi-like dataset of about $size in $data (once)"
    rm -rf "$data" "$data".complete-*
    "$py" "$here/scripts/gen-taxi.py" "$data" --size "$size"
    touch "$stamp"
fi

"$hoist" mb s3://hoist >/dev/null 2>&1 || true
# Upload when the bucket does not hold exactly these files (names and sizes).
local_sig=$(cd "$data" && find . -name '*.parquet' -printf '%s %P\n' | sort)
remote_sig=$("$hoist" ls -r -l "$url" 2>/dev/null | awk -v u="$url" '$4 ~ /\.parquet$/ {sub(u, "", $4); print $3, $4}' | sort || true)
if [ "$local_sig" != "$remote_sig" ]; then
    echo "-- uploading $(echo "$local_sig" | wc -l) files to $url"
    "$hoist" rm -r "$url" >/dev/null 2>&1 || true
    "$hoist" cp -r "$data/" "$url"
fi

echo "-- hoist schema $url"
"$hoist" schema "$url"
echo
echo "-- hoist load $url    (all columns)"
"$hoist" load "$url"
echo
echo "-- hoist load $url --columns passenger_count,fare_amount --filter \"passenger_count > 1\""
"$hoist" load "$url" --columns passenger_count,fare_amount --filter "passenger_count > 1"
echo
echo "-- hoist head $url -n 5 --columns pickup_at,passenger_count,payment_type,total_amount,month"
"$hoist" head "$url" -n 5 --columns pickup_at,passenger_count,payment_type,total_amount,month
