"""Run the pipe in the test's own process (pipe.main.run) to read what pipe.report kept for the
publisher: the reports as objects, before any output is made of them. A process run (run_pipe) is
what a user sees; this is what the publisher gets."""

import os
from pathlib import Path

import pytest

from pipe import main, report
from pipe.common import log


def run(
    env: dict[str, str], clone_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, tuple[report.Report, ...]]:
    """The final message and the reports recorded, with `env` as the whole AWS_*/BITBUCKET_* environment
    (botocore reads os.environ too) and the clone as the working directory."""
    for name in [name for name in os.environ if name.startswith(("AWS_", "BITBUCKET_"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(clone_dir)
    report.forget()
    try:
        return main.run(env), report.recorded()
    finally:
        report.forget()
        log.setup()
