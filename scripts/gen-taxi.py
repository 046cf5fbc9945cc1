#!/usr/bin/env python3
"""Writes a taxi-like Parquet dataset with pyarrow: the 18 columns of the NYC
taxi data as published in s3://ursa-labs-taxi-data (the seeds' example),
with realistic types and distributions, in monthly Hive partitions
(month=1/ .. month=12/), several files each.

    scripts/gen-taxi.py OUT_DIR [--size 1G] [--files-per-month 4] [--seed 42]
                        [--row-group-rows 262144] [--csv]

Deterministic: the same arguments give the same bytes. --size is the
approximate total size of the Parquet files (snappy)."""
import argparse
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BYTES_PER_ROW = 32  # measured with these distributions and snappy (785 MiB for 25.6M rows)
SCHEMA = pa.schema([
    ("vendor_id", pa.string()),
    ("pickup_at", pa.timestamp("us")),
    ("dropoff_at", pa.timestamp("us")),
    ("passenger_count", pa.int8()),
    ("trip_distance", pa.float32()),
    ("pickup_longitude", pa.float32()),
    ("pickup_latitude", pa.float32()),
    ("rate_code_id", pa.string()),
    ("store_and_fwd_flag", pa.string()),
    ("dropoff_longitude", pa.float32()),
    ("dropoff_latitude", pa.float32()),
    ("payment_type", pa.string()),
    ("fare_amount", pa.float32()),
    ("extra", pa.float32()),
    ("mta_tax", pa.float32()),
    ("tip_amount", pa.float32()),
    ("tolls_amount", pa.float32()),
    ("total_amount", pa.float32()),
])


def parse_size(s):
    s = s.strip().upper().rstrip("B").rstrip("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def make_table(rng, n, year, month):
    start = np.datetime64(f"{year}-{month:02d}-01T00:00:00", "us").astype(np.int64)
    end_month = np.datetime64(f"{year + (month == 12)}-{month % 12 + 1:02d}-01T00:00:00", "us").astype(np.int64)
    pickup = np.sort(rng.integers(start, end_month, n))
    distance = np.round(rng.lognormal(0.5, 0.9, n), 2).astype(np.float32)
    minutes = distance * rng.uniform(2.0, 6.0, n) + rng.exponential(3.0, n)
    dropoff = pickup + (minutes * 60e6).astype(np.int64)
    passengers = rng.choice(np.arange(0, 7, dtype=np.int8), n, p=[0.01, 0.70, 0.14, 0.05, 0.03, 0.05, 0.02])
    # Manhattan-ish coordinates with some zeros, as in the real data.
    plon = (-73.98 + rng.normal(0, 0.03, n)).astype(np.float32)
    plat = (40.75 + rng.normal(0, 0.03, n)).astype(np.float32)
    dlon = (plon + rng.normal(0, 0.02, n)).astype(np.float32)
    dlat = (plat + rng.normal(0, 0.02, n)).astype(np.float32)
    zero = rng.random(n) < 0.015
    plon[zero] = 0
    plat[zero] = 0
    fare = np.round(2.5 + distance * 2.5 + minutes * 0.5, 1).astype(np.float32)
    extra = rng.choice(np.array([0, 0.5, 1.0], dtype=np.float32), n, p=[0.5, 0.3, 0.2])
    mta = np.full(n, 0.5, dtype=np.float32)
    payment = rng.choice(np.array(["CRD", "CSH", "NOC", "DIS", "UNK"]), n, p=[0.60, 0.37, 0.015, 0.01, 0.005])
    tip = np.where(payment == "CRD", np.round(fare * rng.uniform(0.1, 0.3, n), 2), 0).astype(np.float32)
    tolls = np.where(rng.random(n) < 0.05, np.float32(5.33), np.float32(0)).astype(np.float32)
    total = (fare + extra + mta + tip + tolls).astype(np.float32)
    vendor = rng.choice(np.array(["CMT", "VTS"]), n)
    rate = rng.choice(np.array(["1", "2", "3", "4", "5"]), n, p=[0.97, 0.02, 0.004, 0.003, 0.003])
    rate_mask = rng.random(n) < 0.01  # some nulls
    flag_mask = rng.random(n) < 0.5
    flag = rng.choice(np.array(["N", "Y"]), n, p=[0.99, 0.01])
    return pa.table([
        pa.array(vendor), pa.array(pickup, pa.timestamp("us")), pa.array(dropoff, pa.timestamp("us")),
        pa.array(passengers), pa.array(distance), pa.array(plon), pa.array(plat),
        pa.array(rate, mask=rate_mask), pa.array(flag, mask=flag_mask), pa.array(dlon), pa.array(dlat),
        pa.array(payment), pa.array(fare), pa.array(extra), pa.array(mta), pa.array(tip),
        pa.array(tolls), pa.array(total),
    ], schema=SCHEMA)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--size", default="1G", help="approximate total Parquet bytes (e.g. 256M, 2G)")
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--files-per-month", type=int, default=4)
    ap.add_argument("--row-group-rows", type=int, default=256 * 1024)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--year", type=int, default=2014)
    ap.add_argument("--csv", action="store_true", help="also write the same rows as CSV (under OUT/csv/)")
    a = ap.parse_args()
    total_rows = max(1, parse_size(a.size) // BYTES_PER_ROW)
    nfiles = a.months * a.files_per_month
    rows_per_file = max(1, total_rows // nfiles)
    written = 0
    for m in range(1, a.months + 1):
        d = os.path.join(a.out, f"month={m}")
        os.makedirs(d, exist_ok=True)
        for f in range(a.files_per_month):
            rng = np.random.default_rng([a.seed, m, f])
            t = make_table(rng, rows_per_file, a.year, m)
            path = os.path.join(d, f"part-{f}.parquet")
            pq.write_table(t, path, row_group_size=a.row_group_rows, compression="snappy")
            written += os.path.getsize(path)
            if a.csv:
                import pyarrow.csv as pc
                cd = os.path.join(a.out, "csv", f"month={m}")
                os.makedirs(cd, exist_ok=True)
                pc.write_csv(t, os.path.join(cd, f"part-{f}.csv"))
        print(f"month={m}: {a.files_per_month} files, {written / 2**20:.0f} MiB so far", file=sys.stderr)
    print(f"{nfiles} files, {rows_per_file * nfiles} rows, {written / 2**30:.2f} GiB in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
