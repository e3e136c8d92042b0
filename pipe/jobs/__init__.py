"""The dispatch table: COMMAND names a job's front module; each has VARIABLES, SIGNS_IN and run(context),
and may have check_before_sign_in(values, env): every check that needs no AWS, run before the sign-in.

Kept light: `python -m pipe.jobs.kubectl.eks_token` (kubectl's credential plugin, run for every
fresh token) imports this package, and must not load the sign-in or the SDK with it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pipe import __version__
from pipe.common.errors import PipeError

if TYPE_CHECKING:
    from pipe.signin import Identity
    from pipe.signin.claims import Claims

JOBS = {
    "whoami": "pipe.jobs.whoami",
    "trust-policy": "pipe.jobs.trust_policy",
    "kubectl": "pipe.jobs.kubectl.job",
    "s3-sync": "pipe.jobs.s3_sync.job",
    "beanstalk": "pipe.jobs.beanstalk.job",
    "cdk": "pipe.jobs.cdk.job",
    "cloudfront-invalidate": "pipe.jobs.cloudfront_invalidate",
}
# Named so that a user who read about them is told they are coming, not that they are unknown.
PLANNED = ()
# Atlassian's Elastic Beanstalk pipe names its sub-command COMMAND; here COMMAND names the job.
BEANSTALK_PIPE_COMMANDS = ("all", "upload-only", "deploy-only")


class Context:
    """What a job's run() gets. A plain class: importing dataclasses (and inspect with it) was a sixth
    of trust-policy's start-up (issue 16)."""

    def __init__(
        self,
        values: Mapping[str, Any],
        env: Mapping[str, str],
        identity: Identity | None = None,
        claims: Claims | None = None,
    ):
        self.values = values
        self.env = env
        self.identity = identity
        self.claims = claims
        # What the job's check_before_sign_in(values, env) returned, if it has one (pipe.main).
        self.checked: Any = None


def parse_command(raw: str) -> str:
    command = raw.strip().lower()
    if command in JOBS:
        return command
    choices = ", ".join(JOBS)
    if command in PLANNED:
        raise PipeError(
            f"COMMAND {command!r} is not in version {__version__} of this pipe yet; choose one of: {choices}."
        )
    if command in BEANSTALK_PIPE_COMMANDS:
        raise ValueError(
            f"must be one of: {choices}; Atlassian's Elastic Beanstalk pipe's COMMAND is "
            f"BEANSTALK_COMMAND here, with COMMAND: 'beanstalk'"
        )
    raise ValueError(f"must be one of: {choices}")


def load(command: str) -> ModuleType:
    # Imported on demand: a job's heavy libraries load only when that job runs.
    return importlib.import_module(JOBS[command])
