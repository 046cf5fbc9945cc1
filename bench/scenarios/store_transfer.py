"""Issue 3's benchmark: many-object transfer against the local S3 server.

Workloads, each as put (upload from memory) and get (download into memory):
  (a) large: 64 x 64 MiB objects   (quick: 8 x 64 MiB)
  (b) small: 10,000 x 16 KiB       (quick: 1,000 x 16 KiB)
Tools, each a child process the harness measures (wall, CPU, peak RSS):
  hoist     build/hoist_store_bench: ONE hoist_store_put_many / get_many
            (HOIST_DEST_ALLOC), C, public API only
  s5cmd     Go; writes files, so its get lands in (and its put reads from) a
            tmpfs dir under /dev/shm -- memory, like the others' buffers
  awscrt    awscrt.s3.S3Client (bench/tools/crt_s3_bench.py), into memory
  boto3     s3transfer TransferManager, 32 threads (bench/tools/boto3_s3_bench.py)
  obstore   Rust object_store via obstore, 32 requests in flight, into memory
            (bench/tools/obstore_s3_bench.py, from .venv-bench)
  metaflow  metaflow.S3 get_many/put_many, METAFLOW_TEMPDIR on tmpfs
Every get reads the objects hoist's put wrote; every put writes its own prefix.
Then the large objects are served by nginx (static files on tmpfs, loopback)
and fetched by hoist's driver and by curl: the loopback ceiling with no S3
server work in the way.
Each driver also times its transfer alone (process start and imports
excluded); that figure is recorded in each measurement's extra["transfer_s"].
The tools of a workload run interleaved, ABCD ABCD ABCD (HOIST_BENCH_ROUNDS,
default 3): figures are medians over the rounds, ratios are taken round by
round (harness.measure_interleaved), and the S3 server's CPU during each run
is recorded (extra["server_cpu_s"]), so a server-bound workload shows as one.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from harness import ROOT, Job, ProcessCPU
from scenarios._write_common import peer_python
from scenarios.dataset_write import server_pid

MiB = 2**20
KiB = 2**10
SHM = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(os.environ.get("TMPDIR", "/tmp"))


def _transfer_seconds(m):
    for line in reversed(m.extra.get("stdout_tail", "").splitlines()):
        try:
            return json.loads(line)["seconds"]
        except (ValueError, KeyError):
            continue
    return None


def _job(tool, workload, argv, total, count, env=None, cleanup=None):
    """A tool's run for measure_interleaved; its own transfer time (from its
    result line) goes into extra; cleanup(round) runs after each run."""
    def after(m, r):
        t = _transfer_seconds(m) if m.ok else None
        if t:
            m.extra["transfer_s"] = t
            m.extra["transfer_gbit_s"] = round(total * 8 / 1e9 / t, 3)
        if cleanup is not None:
            cleanup(r)
    return Job(tool, workload, argv, env=env, bytes=total, objects=count, after=after)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _delete_prefix(s3, bucket, prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        for i in range(0, len(objs), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objs[i:i + 1000], "Quiet": True})


def _write_files(d: Path, count: int, size: int):
    d.mkdir(parents=True, exist_ok=True)
    block = os.urandom(size)
    for i in range(count):
        (d / f"obj-{i:06d}").write_bytes(block)


def _start_nginx(root: Path, work: Path):
    port = _free_port()
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(f"""
worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon on;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx, "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")], check=True,
                   capture_output=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return port, conf
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def _stop_nginx(work: Path):
    pidfile = work / "nginx.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (OSError, ValueError):
            pass


def _put_all(ctx, s3, bucket, name, count, size, total, label, w_put, src, driver, scratch, s5cmd, endpoint,
             py, tools_dir, mf_env, rounds, probes):
    files = scratch / f"{name}-files"
    _write_files(files, count, size)
    jobs = [_job("hoist", w_put, [str(driver), "put", src, str(count), str(size)], total, count),
            _job("s5cmd", w_put,
                 [s5cmd, "--endpoint-url", endpoint, "cp", f"{files}/*", f"s3://{bucket}/{name}/s5cmd/"],
                 total, count)]
    for tool, script in (("awscrt", "crt_s3_bench.py"), ("boto3", "boto3_s3_bench.py"),
                         ("obstore", "obstore_s3_bench.py")):
        tool_py = peer_python(ctx) if tool == "obstore" else py
        jobs.append(_job(tool, w_put, [tool_py, str(tools_dir / script), "put",
                                       f"s3://{bucket}/{name}/{tool}/", str(count), str(size)], total, count))
    jobs.append(_job("metaflow.S3", w_put, [py, str(tools_dir / "metaflow_s3_bench.py"), "put",
                                            f"s3://{bucket}/{name}/metaflow/", str(count), str(size)],
                     total, count, env=mf_env))
    ctx.measure_interleaved(jobs, rounds, probes=probes)
    shutil.rmtree(files)
    for tool in ("s5cmd", "awscrt", "boto3", "obstore", "metaflow"):
        _delete_prefix(s3, bucket, f"{name}/{tool}/")
    ctx.compare_interleaved(w_put)


def run(ctx):
    need = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    if any(k not in os.environ for k in need):
        ctx.note("store_transfer skipped: export the local server's env (eval \"$(scripts/s3-server env)\")")
        return
    driver = Path(os.environ.get("HOIST_STORE_BENCH") or ROOT / "build" / "hoist_store_bench")
    if not driver.exists():
        ctx.note(f"store_transfer skipped: {driver} missing (build with `make build`)")
        return
    import boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bucket = "bench-store-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=bucket)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    py = ctx.python
    tools_dir = ROOT / "bench" / "tools"
    s5cmd = str(ROOT / ".venv" / "bin" / "s5cmd")
    if not os.path.exists(s5cmd):
        s5cmd = shutil.which("s5cmd") or s5cmd
    scratch = SHM / f"hoist-bench-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    mf_env = {"METAFLOW_S3_ENDPOINT_URL": endpoint,
              "METAFLOW_DATATOOLS_S3ROOT": f"s3://{bucket}/metaflow-root",
              "METAFLOW_TEMPDIR": str(scratch / "metaflow-tmp")}
    (scratch / "metaflow-tmp").mkdir()
    rounds = int(os.environ.get("HOIST_BENCH_ROUNDS") or 3)
    pid = server_pid()
    probes = [ProcessCPU(pid, "server")] if pid else []
    ctx.note(f"{rounds} interleaved rounds per workload; figures are medians, ratios per round"
             + ("" if probes else "; the S3 server's pid is unknown: its CPU is not recorded"))
    ctx.note(f"local S3 server: SeaweedFS at {endpoint}; client and server share this machine's "
             f"{os.cpu_count()} cores, so the server's CPU limits everyone. s5cmd and metaflow write files: "
             f"their downloads land in (and s5cmd's uploads read from) tmpfs {SHM}.")

    # STORE_TRANSFER_OPS=get re-measures only the gets (the objects are then
    # uploaded unmeasured), e.g. after a shared server was restarted mid-run.
    ops = [o.strip() for o in os.environ.get("STORE_TRANSFER_OPS", "put,get").split(",") if o.strip()]
    workloads = [("large", 8 if ctx.quick else 64, 64 * MiB),
                 ("small", 1000 if ctx.quick else 10000, 16 * KiB)]
    nginx_root = None
    try:
        for name, count, size in workloads:
            total = count * size
            label = f"{count}x{size // MiB}MiB" if size >= MiB else f"{count}x{size // KiB}KiB"
            w_put, w_get = f"put {label}", f"get {label}"
            src = f"s3://{bucket}/{name}/hoist/"

            # ---- put: each tool into its own prefix --------------------------------
            if "put" in ops:
                _put_all(ctx, s3, bucket, name, count, size, total, label, w_put, src, driver, scratch,
                         s5cmd, endpoint, py, tools_dir, mf_env, rounds, probes)
            else:
                ctx.note(f"{name}: puts not measured in this run (STORE_TRANSFER_OPS={','.join(ops)})")

            # ---- get: everyone reads what hoist wrote --------------------------------
            # The server is shared (make test restarts it): make sure the objects
            # are all there before timing reads of them.
            have = sum(len(pg.get("Contents", [])) for pg in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=f"{name}/hoist/"))
            if have != count:
                ctx.note(f"{name}: {have} of {count} objects were present before the gets (server restarted "
                         f"or cleaned by someone else?); re-uploaded them, unmeasured")
                try:
                    s3.create_bucket(Bucket=bucket)
                except Exception:
                    pass
                subprocess.run([str(driver), "put", src, str(count), str(size)], check=True,
                               capture_output=True)
            def s5cmd_dir(r, name=name):
                return scratch / f"{name}-s5cmd-{r}"

            def s5cmd_get(r, src=src, s5cmd_dir=s5cmd_dir):
                s5cmd_dir(r).mkdir(parents=True, exist_ok=True)
                return [s5cmd, "--endpoint-url", endpoint, "cp", f"{src}*", f"{s5cmd_dir(r)}/"]

            def s5cmd_clean(r, name=name, s5cmd_dir=s5cmd_dir):
                # the large objects of round 1 stay: nginx serves them below
                if not (name == "large" and r == 0):
                    shutil.rmtree(s5cmd_dir(r), ignore_errors=True)

            def metaflow_clean(r):
                shutil.rmtree(scratch / "metaflow-tmp", ignore_errors=True)
                (scratch / "metaflow-tmp").mkdir()

            jobs = [_job("hoist", w_get, [str(driver), "get", src, str(count), str(size)], total, count),
                    _job("s5cmd", w_get, s5cmd_get, total, count, cleanup=s5cmd_clean)]
            for tool, script in (("awscrt", "crt_s3_bench.py"), ("boto3", "boto3_s3_bench.py"),
                                 ("obstore", "obstore_s3_bench.py")):
                tool_py = peer_python(ctx) if tool == "obstore" else py
                jobs.append(_job(tool, w_get, [tool_py, str(tools_dir / script), "get", src, str(count), str(size)],
                                 total, count))
            jobs.append(_job("metaflow.S3", w_get, [py, str(tools_dir / "metaflow_s3_bench.py"), "get", src,
                                                    str(count), str(size)], total, count, env=mf_env,
                             cleanup=metaflow_clean))
            ctx.measure_interleaved(jobs, rounds, probes=probes)
            kept = s5cmd_dir(0)
            if name == "large" and kept.is_dir() and len(list(kept.iterdir())) == count:
                nginx_root = scratch / "www"
                (nginx_root / bucket / name).mkdir(parents=True)
                kept.rename(nginx_root / bucket / name / "hoist")
            ctx.compare_interleaved(w_get)

        # ---- the loopback ceiling: the same large objects from nginx ----------------
        name, count, size = workloads[0]
        if nginx_root is not None:
            work = scratch / "nginx"
            port, _ = _start_nginx(nginx_root, work)
            try:
                label = f"get {count}x{size // MiB}MiB from nginx"
                ep = f"http://127.0.0.1:{port}"
                src = f"s3://{bucket}/{name}/hoist/"
                urls = [f"{ep}/{bucket}/{name}/hoist/obj-{i:06d}" for i in range(count)]
                argv = ["curl", "-sS", "--fail", "-Z", "--parallel-max", "32"]
                for u in urls:
                    argv += [u, "-o", "/dev/null"]
                ctx.measure_interleaved([
                    _job("hoist", label, [str(driver), "get", src, str(count), str(size), "--endpoint", ep],
                         count * size, count),
                    _job("curl (parallel)", label, argv, count * size, count)], rounds)
                ctx.compare_interleaved(label)
                ctx.note(f"nginx ({ep}) serves the large objects from tmpfs with sendfile: the GET path's "
                         f"loopback ceiling on this machine, with no S3 server work. curl discards the bytes "
                         f"(-o /dev/null); hoist's driver keeps them in memory.")
            finally:
                _stop_nginx(work)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            _delete_prefix(s3, bucket, "")
            s3.delete_bucket(Bucket=bucket)
        except Exception as e:  # the numbers are already recorded
            ctx.note(f"cleanup of s3://{bucket} failed: {e}")
