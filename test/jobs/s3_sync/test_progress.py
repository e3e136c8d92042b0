"""The progress line of COMMAND=s3-sync (in-process: the interval is shortened)."""

import logging
import threading

from pipe.jobs.s3_sync import progress as s3_progress

# How long the progress thread may take to write its line on a loaded machine (it is due in 0.05 s).
LINE_LIMIT_SECONDS = 30


class LineSeen(logging.Handler):
    """Sets `seen` when a line starting with `prefix` is logged: the test waits on it, not on a clock."""

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix
        self.seen = threading.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if record.getMessage().startswith(self.prefix):
            self.seen.set()


def test_a_progress_line_every_interval(monkeypatch, request):
    monkeypatch.setattr(s3_progress, "PROGRESS_SECONDS", 0.05)
    logger = logging.getLogger("aws-oidc-deploy")
    handler = LineSeen("Uploaded 3 of 10 files, 6.0 KB of 20.0 KB")
    monkeypatch.setattr(logger, "handlers", [handler])
    # setLevel, not the attribute: the logger caches "is INFO enabled" from earlier tests' calls, and
    # only setLevel clears that cache.
    level = logger.level
    logger.setLevel(logging.INFO)
    request.addfinalizer(lambda: logger.setLevel(level))
    with s3_progress.Progress(10, 10 * 2048) as progress:
        for _ in range(3):
            progress.done(2048)
        assert handler.seen.wait(LINE_LIMIT_SECONDS), handler.lines
    assert all(line.startswith("Uploaded ") for line in handler.lines)


def test_sizes_read_well():
    assert s3_progress.size(512) == "512 B"
    assert s3_progress.size(8 * 1024 * 1024) == "8.0 MB"
