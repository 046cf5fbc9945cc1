"""Shared by the pq_decode_* tools: argument parsing, self-timing and the
one-line JSON result. Each tool reads the whole file into memory first and
times only the decode, so the figure excludes interpreter start-up, imports
and file I/O; wall and CPU (all threads of the process) are both taken. The
decode is repeated N times (the table released in between): "first" is the
first decode in the process (the allocator has no memory yet: every output
page is faulted in, as when a program reads a file once), "best" is the
fastest repeat (allocators that keep freed memory, like jemalloc/mimalloc in
pyarrow and polars, then skip the page faults)."""
import json
import sys
import time


def parse_args():
    if len(sys.argv) < 3 or sys.argv[2] not in ("1", "0"):
        sys.exit("usage: %s FILE THREADS(1|0=all) [REPEATS]" % sys.argv[0])
    return sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 3


def run(decode, repeats, describe):
    """decode() returns the table; describe(table) -> (rows, columns, bytes)."""
    best = first = None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        t = decode()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if first is None:
            first = (wall, cpu)
        if best is None or wall < best[0]:
            best = (wall, cpu)
        rows, cols, nbytes = describe(t)
        del t
    print(json.dumps({"first_s": first[0], "first_cpu_s": first[1], "best_s": best[0], "best_cpu_s": best[1],
                      "rows": rows, "columns": cols,
                      "table_bytes": nbytes}), flush=True)
