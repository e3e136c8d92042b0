"""A pipe run killed the way a dying step container kills it: every process of the run at once, with
no clean-up; then what it left behind is checked."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from test.support import leaks

# How long a killed run's processes (kubectl, the CDK CLI, the app) may take to be reaped.
REAP_LIMIT_SECONDS = 30


class Killed:
    """The pipe in its own session (so the kill takes its children with it), killed with SIGKILL at a
    moment the test chooses."""

    def __init__(self, env: dict, clone_dir: Path):
        self.env, self.clone_dir = env, clone_dir
        self._private_before = leaks.private_directories()
        self._issued_before = leaks.issued_marker()
        self._clone_before = leaks.snapshot([clone_dir])
        self._received_before = leaks.received_marker()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipe"],
            env=env,
            cwd=env.get("BITBUCKET_CLONE_DIR", clone_dir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._wait_until_reaped()

    def _wait_until_reaped(self) -> None:
        """Until no process of the group is left, zombies included: a rerun must not meet the killed
        run's children (the CDK CLI's read lock in cdk.out names a PID and waits while it exists)."""
        deadline = time.monotonic() + REAP_LIMIT_SECONDS
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise AssertionError(f"processes of the killed group {self.process.pid} are still there")

    def check_left_behind(self, job: str, may_write_in_clone: Path | None = None) -> None:
        """What the killed run left in its private directory, and in the clone, holds no secret; in
        the clone it wrote nothing, or only below `may_write_in_clone` (cdk.out)."""
        left = leaks.private_directories() - self._private_before
        in_clone = leaks.left_behind(self._clone_before, leaks.snapshot([self.clone_dir]))
        files = leaks.files_below(left) + in_clone
        secrets = leaks.environment_secrets(self.env) + leaks.issued_since(self._issued_before)
        leaks.check(
            b"",
            files,
            secrets,
            debug=False,
            context=f"what the killed {job} run left behind",
            received=leaks.received_since(self._received_before),
        )
        unexpected = [path for path in in_clone if may_write_in_clone not in path.parents]
        assert unexpected == [], f"the killed {job} run wrote in the clone: {unexpected}"
        for directory in left:  # no atexit ran: the test clears up what a killed container would lose
            shutil.rmtree(directory, ignore_errors=True)
