"""The progress line of COMMAND=s3-sync (in-process: the interval is shortened)."""

import logging
import time

from pipe.jobs.s3_sync import progress as s3_progress


def test_a_progress_line_every_interval(monkeypatch, caplog):
    monkeypatch.setattr(s3_progress, "PROGRESS_SECONDS", 0.05)
    logger = logging.getLogger("aws-oidc-deploy")
    monkeypatch.setattr(logger, "propagate", True)
    with (
        caplog.at_level(logging.INFO, logger="aws-oidc-deploy"),
        s3_progress.Progress(10, 10 * 2048) as progress,
    ):
        for _ in range(3):
            progress.done(2048)
        time.sleep(0.2)
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("Uploaded")]
    assert lines and lines[-1].startswith("Uploaded 3 of 10 files, 6.0 KB of 20.0 KB")


def test_sizes_read_well():
    assert s3_progress.size(512) == "512 B"
    assert s3_progress.size(8 * 1024 * 1024) == "8.0 MB"
