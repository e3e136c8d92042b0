"""A pipe run killed the way a dying step container kills it: every process of the run at once, with
no clean-up; then what it left behind is checked."""

import contextlib
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


PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def _become_subreaper() -> None:
    """Orphans of a killed run are re-parented to this process instead of PID 1 (Linux 3.4+)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_orphans_of_group(group: int) -> None:
    """waitpid() each process of `group` that is this process's child and has ended; no other child
    (the test's own servers) is touched."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after ")".
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, parent, process_group = fields[0], int(fields[1]), int(fields[2])
        if state == "Z" and parent == os.getpid() and process_group == group:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(entry.name), os.WNOHANG)


class Killed:
    """The pipe in its own session (so the kill takes its children with it), killed with SIGKILL at a
    moment the test chooses."""

    def __init__(self, env: dict, clone_dir: Path):
        self.env, self.clone_dir = env, clone_dir
        self._private_before = leaks.private_directories()
        self._issued_before = leaks.issued_marker()
        self._clone_before = leaks.snapshot([clone_dir])
        _become_subreaper()
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
        run's children (the CDK CLI's read lock in cdk.out names a PID and waits while it exists).

        The test process is the children's subreaper, so it reaps the orphans itself: the test does
        not depend on PID 1 reaping them (a plain `sh` as PID 1, as in some local runners, never does)."""
        deadline = time.monotonic() + REAP_LIMIT_SECONDS
        while time.monotonic() < deadline:
            _reap_orphans_of_group(self.process.pid)
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)  # polling a state with a deadline, not waiting for one to happen
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
