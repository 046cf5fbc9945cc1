"""The seeds' ``@profile_memory`` step decorator, on psutil instead of memory_profiler.

The seeds wrap a Metaflow step with ``memory_profiler.memory_usage(..., max_usage=True)`` and keep
the peak in ``self.mem_usage``. memory_profiler is unmaintained; this samples the process's
resident set size with psutil on a background thread while the step runs (every ``interval``
seconds, 50 ms by default) and stores the peak in MiB, the unit memory_profiler reports::

    from metaflow_memory import profile_memory

    @profile_memory
    @step
    def load_csv(self):
        ...
"""
import threading
from functools import wraps


class PeakRSS:
    """Context manager: the peak resident set size of this process while inside, in MiB."""

    def __init__(self, interval=0.05):
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()

    def _sample(self):
        import psutil

        proc = psutil.Process()
        while True:
            self.peak_mib = max(self.peak_mib, proc.memory_info().rss / 2**20)
            if self._stop.wait(self.interval):
                break

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample_once()
        return False

    def _sample_once(self):
        import psutil

        self.peak_mib = max(self.peak_mib, psutil.Process().memory_info().rss / 2**20)


def profile_memory(mf_step):
    @wraps(mf_step)
    def func(self):
        with PeakRSS() as peak:
            mf_step(self)
        self.mem_usage = round(peak.peak_mib, 1)

    return func
