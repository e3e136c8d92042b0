"""One process of a benchmark, measured on its own: its CPU seconds, wall seconds, exit status, output
and (when asked) peak memory, within a time bound.

CPU comes from os.wait4 on that one process (user+sys, the children it reaped included): the bench's
own process runs moto in threads, and getrusage(RUSAGE_CHILDREN) would also count every other child
it ever reaped. wait4 reaps the child itself (Popen.wait would lose its rusage), so it blocks under a
watchdog timer that kills a child past its bound: a blocking wait adds nothing to the wall time,
where a polling loop would add up to its interval (most of a 80 ms start-up goal).
"""

import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import IO, NamedTuple

# How often a running child's memory high-water mark is read.
MEMORY_POLL_SECONDS = 0.005


class SampleFailed(RuntimeError):
    """A sample that did not succeed: the bench stops, its figures would mean nothing."""


class Child(NamedTuple):
    cpu: float
    wall: float
    exit_status: int
    output: str  # stdout and stderr, interleaved as written
    peak_rss_mb: float  # 0.0 unless watched (watch_memory, progress_every)


def run(
    label: str,
    command: Sequence[str],
    env: dict[str, str],
    cwd: os.PathLike | str,
    timeout: float,
    watch_memory: bool = False,
    progress_every: float | None = None,
) -> Child:
    """Run `command` to its end and measure it; SampleFailed when it exits non-zero or outlives
    `timeout`. `watch_memory` polls its peak RSS; `progress_every` seconds, a long run says on
    stderr how far it got (elapsed time, peak RSS so far, the child's last output line)."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, kill)
        watching = watch_memory or progress_every is not None
        watcher = _Watcher(label, process.pid, started, output, progress_every) if watching else None
        watchdog.start()
        if watcher:
            watcher.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
            if watcher:
                watcher.stop()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if timed_out.is_set():
        raise SampleFailed(f"{label} did not finish in {timeout:g} s\n{text[-3000:]}")
    if process.returncode != 0:
        raise SampleFailed(f"{label} exited {process.returncode}\n{text[-3000:]}")
    peak_mb = watcher.peak_kib / 1024 if watcher else 0.0
    return Child(usage.ru_utime + usage.ru_stime, wall, process.returncode, text, peak_mb)


class _Watcher(threading.Thread):
    """Reads the child's peak RSS while it runs: the kernel's high-water mark VmHWM of that process
    (wait4's ru_maxrss would count this large process as it was when forked, before the exec)."""

    def __init__(self, label: str, pid: int, started: float, output: IO[bytes], progress_every: float | None):
        super().__init__(daemon=True)
        self.label, self.pid, self.started, self.output = label, pid, started, output
        self.progress_every = progress_every
        self.peak_kib = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        every = self.progress_every or math.inf
        next_progress = self.started + every
        while True:
            self.peak_kib = max(self.peak_kib, _high_water_kib(self.pid))
            if time.perf_counter() > next_progress:
                next_progress += every
                self._say_progress()
            # Sampling the child's memory, not synchronising with it: stop() ends the wait at once.
            if self._stopped.wait(MEMORY_POLL_SECONDS):
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join()

    def _say_progress(self) -> None:
        """pread leaves the file offset alone: the child appends through a descriptor that shares it."""
        end = os.fstat(self.output.fileno()).st_size
        tail = os.pread(self.output.fileno(), 400, max(0, end - 400)).decode("utf-8", "replace").splitlines()
        last = tail[-1].strip() if tail else ""
        elapsed = time.perf_counter() - self.started
        print(
            f"  {self.label}: {elapsed:.0f} s, peak RSS so far {self.peak_kib / 1024:.0f} MB; {last}",
            file=sys.stderr,
        )


def _high_water_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # exited (a zombie has no memory figures) or not yet exec'd
