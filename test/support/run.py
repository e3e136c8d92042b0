"""Run the pipe as a separate process with a chosen environment, as the container runs it.

Every run is a leak-scan scenario: it runs with DEBUG=true unless the test sets DEBUG itself, and
afterwards its output, every file it created or changed in the clone, $HOME and the pipe's storage
directories, and what it sent the stand-ins (S3 objects, Kubernetes objects, Elastic Beanstalk
calls) are searched for its secrets (test/support/leaks.py). A hit fails the test.
"""

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from test.support import leaks

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
        # Where the pipe makes its private directories, and where the leak scan looks for them (each
        # xdist worker has its own: test/conftest.py).
        "TMPDIR": tempfile.gettempdir(),
    }


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Each relative path in `files` under `root`, with its text (UTF-8); returns `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def with_debug(env: dict[str, str]) -> dict[str, str]:
    """DEBUG=true unless the test chose a value (even an empty one): the most output there is to leak."""
    return env if "DEBUG" in env else env | {"DEBUG": "true"}


def run_pipe(
    env: dict[str, str], cwd: Path, command: list[str] | None = None, leak_scan: bool = True
) -> Result:
    """Run the pipe and leak-scan the run. `leak_scan=False` only for a run that is meant to show a
    secret (there is none in this suite); the default DEBUG=true is skipped with it."""
    if leak_scan:
        env = with_debug(env)
        directories = leaks.directories(env, cwd)
        before = leaks.snapshot(directories)
        marker = leaks.issued_marker()
        received = leaks.received_marker()
        private_before = leaks.private_directories()
    completed = subprocess.run(
        command or [sys.executable, "-m", "pipe"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    if leak_scan:
        secrets = leaks.environment_secrets(env) + leaks.issued_since(marker)
        left = leaks.left_behind(before, leaks.snapshot(directories))
        # A finished run removes its private directory; one left behind is searched like the clone.
        left += leaks.files_below(leaks.private_directories() - private_before)
        debug = env.get("DEBUG", "").strip().lower() in ("true", "yes", "1", "on")
        leaks.check(
            (completed.stdout + completed.stderr).encode(),
            left,
            secrets,
            debug,
            env.get("COMMAND", ""),
            leaks.received_since(received),
        )
    return result
