"""The seeds' S3BenchmarkFlow, on hoist.

    python examples/s3benchmark.py run --url s3://my-bucket/some/prefix/ --num_files 10
    python examples/s3benchmark.py run --num_files 10 --local_dir local_data

Measures the two halves of "getting data into memory" the way the seeds' flow does:

downloading  S3 -> local files with ``hoist.S3().get_many`` (the seeds use metaflow.S3; the
             calls and return values are the same), timed with Metaflow's ``profile``;
reading      the files -> bytes in memory with ``parallel_map`` over all cores.

and, reading from S3, a third line the seeds could not have: the same objects fetched straight
into memory (``get_many(..., into_memory=True)``), without the file round trip. Throughputs are
printed in Gb/s like the book's and kept as artifacts (``self.stats``) for the Metaflow client.

The seeds read a public Common Crawl prefix; offline, point ``--url`` at any prefix of the
local S3 server (``make demo`` leaves one at s3://hoist/taxi/).
"""
import os

from metaflow import FlowSpec, Parameter, parallel_map, profile, step


def load_s3(s3, url, num, stats):
    """Lists ``url``, downloads the first ``num`` objects to local files; returns their paths."""
    files = list(s3.list_recursive([url]))[:num]
    total_gb = sum(f.size for f in files) / 1024**3
    with profile("downloading", stats_dict=stats):
        loaded = s3.get_many([f.url for f in files])
    secs = max(stats["downloading"], 1) / 1000.0
    print("S3->local throughput: %2.1f Gb/s (%.3f GiB in %.2f s)" % (total_gb * 8 / secs, total_gb, secs))
    return [obj.path for obj in loaded], total_gb


class S3BenchmarkFlow(FlowSpec):
    url = Parameter("url", help="S3 prefix to read (the seeds: a Common Crawl prefix)",
                    default="s3://hoist/taxi/")
    local_dir = Parameter("local_dir", help="Read local files from this directory instead of S3")
    num = Parameter("num_files", help="Maximum number of files to read", default=50)

    @step
    def start(self):
        import hoist

        self.stats = {}
        with hoist.S3() as s3:
            with profile("Loading and processing"):
                if self.local_dir:
                    files = [os.path.join(self.local_dir, f) for f in sorted(os.listdir(self.local_dir))][: self.num]
                else:
                    files, self.downloaded_gb = load_s3(s3, self.url, int(self.num), self.stats)
                print("Reading %d objects" % len(files))
                with profile("reading", stats_dict=self.stats):
                    size = sum(parallel_map(lambda x: len(open(x, "rb").read()), files)) / 1024**3
                secs = max(self.stats["reading"], 1) / 1000.0
                print("Read %2.3f GB. Throughput: %2.1f Gb/s" % (size, size * 8 / secs))
                self.read_gb = size
                self.num_files = len(files)
                if not self.local_dir:
                    # hoist's own path: the same objects, straight into memory, no files.
                    urls = [o.url for o in s3.list_recursive([self.url])][: self.num]
                    with profile("in_memory", stats_dict=self.stats):
                        got = sum(len(o.buffer) for o in s3.get_many(urls, into_memory=True))
                    secs = max(self.stats["in_memory"], 1) / 1000.0
                    print("S3->memory throughput: %2.1f Gb/s" % (got / 1024**3 * 8 / secs))
                    assert got == int(round(size * 1024**3)), (got, size)
        self.next(self.end)

    @step
    def end(self):
        print("timings (ms):", ", ".join("%s=%d" % kv for kv in sorted(self.stats.items())))


if __name__ == "__main__":
    S3BenchmarkFlow()
