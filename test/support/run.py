"""Run the pipe as a separate process with a chosen environment, as the container runs it."""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMEOUT_SECONDS = 120


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr, colours removed: what a user reads in the step log."""
        return _ANSI.sub("", self.stdout + self.stderr)

    @property
    def last_line(self) -> str:
        lines = [line for line in _ANSI.sub("", self.stdout).splitlines() if line.strip()]
        return lines[-1] if lines else ""


def base_environment(home: Path) -> dict[str, str]:
    """Only what a pipe container would have: no AWS variables leak in from the machine running the tests."""
    return {
        # The virtual environment's bin first: the pinned kubectl (the image's) lives there.
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO),
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def run_pipe(env: dict[str, str], cwd: Path, command: list[str] | None = None) -> Result:
    completed = subprocess.run(
        command or [sys.executable, "-m", "pipe"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)
