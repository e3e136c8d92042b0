"""Child processes of the control plane: started with their output in a log file, waited for by
polling a readiness check against a deadline, stopped by their own pid (SIGTERM, then SIGKILL)."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import urllib3

POLL_SECONDS = 0.1
STOP_SECONDS = 10.0


class StartFailed(RuntimeError):
    pass


def free_port() -> int:
    """A port nobody listens on now (the kernel's choice); the process binds it a moment later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    def __init__(self, name: str, argv: list[str], log_dir: Path):
        self.name = name
        self.argv = argv
        self.log = log_dir / f"{name}.log"
        self._popen: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> "Process":
        self.started_at = time.monotonic()
        with self.log.open("wb") as log:
            # A session of its own: Ctrl-C in pytest reaches pytest, which then stops us in order.
            self._popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self._popen is not None
        return self._popen.pid

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll `ready` until it holds; return the seconds since start. Fail with the log's tail if
        the process exits or the deadline passes first."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise StartFailed(f"{self.name} exited before {what}:\n{self.tail()}")
            try:
                if ready():
                    return time.monotonic() - self.started_at
            except (OSError, urllib3.exceptions.HTTPError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise StartFailed(f"{self.name}: no {what} within {timeout:g} s:\n{self.tail()}")
            time.sleep(POLL_SECONDS)

    def rss_megabytes(self) -> float:
        """Resident memory now (VmRSS), for the figures."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> None:
        if self._popen is None or self._popen.poll() is not None:
            return
        os.kill(self._popen.pid, signal.SIGTERM)
        try:
            self._popen.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.kill(self._popen.pid, signal.SIGKILL)
            self._popen.wait()
