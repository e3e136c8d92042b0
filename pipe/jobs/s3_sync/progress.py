"""A line every few seconds while uploads run, and sizes as people read them."""

import threading
import time

from pipe.common.log import logger

PROGRESS_SECONDS = 5


class Progress:
    """A line every few seconds while uploads run (CI logs have no terminal for a bar)."""

    def __init__(self, total_files: int, total_bytes: int):
        self.total_files, self.total_bytes = total_files, total_bytes
        self.files = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report, daemon=True)
        self._started = time.monotonic()

    def done(self, size: int) -> None:
        with self._lock:
            self.files += 1
            self.bytes += size

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _report(self) -> None:
        while not self._stop.wait(PROGRESS_SECONDS):
            with self._lock:
                files, sent = self.files, self.bytes
            logger.info(
                "Uploaded %d of %d files, %s of %s (%.0f s).",
                files,
                self.total_files,
                size(sent),
                size(self.total_bytes),
                time.monotonic() - self._started,
            )


def size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"
