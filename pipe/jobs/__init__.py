"""The dispatch table: COMMAND names a job's front module, which follows the job protocol below.

Kept light: `python -m pipe.kube.eks_token` (kubectl's credential plugin, run for every
fresh token) imports this package, and must not load the sign-in or the SDK with it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast

from pipe import __version__
from pipe.common.errors import PipeError

if TYPE_CHECKING:
    from pipe.common.variables import Variable
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
    "ecs": "pipe.jobs.ecs.job",
    "helm": "pipe.jobs.helm.job",
}
# Named so that a user who read about them is told they are coming, not that they are unknown.
PLANNED = ()
# Atlassian's Elastic Beanstalk pipe names its sub-command COMMAND; here COMMAND names the job.
BEANSTALK_PIPE_COMMANDS = ("all", "upload-only", "deploy-only")


Settings = TypeVar("Settings")


# Plain classes, not dataclasses: importing dataclasses (and inspect with it) was a sixth of
# trust-policy's start-up (issue 16).
class SignedIn(Generic[Settings]):
    """What run() gets in a job that signs in: its settings, the environment, and the session."""

    def __init__(self, settings: Settings, env: Mapping[str, str], identity: Identity):
        self.settings = settings
        self.env = env
        self.identity = identity


class WithClaims(Generic[Settings]):
    """What run() gets in a job that does not sign in: its settings, the environment, and the claims
    of the step's OIDC token (checked, never sent anywhere)."""

    def __init__(self, settings: Settings, env: Mapping[str, str], claims: Claims):
        self.settings = settings
        self.env = env
        self.claims = claims


# The job protocol. A job's front module declares its variables (the contract), whether it signs in,
# a settings reader that turns the checked values into the job's settings type once, before the sign-in
# (so a check knowable from the input fails before any AWS call), and run(), which returns the final
# line. Read-only members: a module's constants match them however they are written.
class SigningInJob(Protocol[Settings]):
    @property
    def VARIABLES(self) -> tuple[Variable, ...]: ...
    @property
    def SIGNS_IN(self) -> Literal[True]: ...

    def read_settings(self, values: Mapping[str, Any], env: Mapping[str, str], /) -> Settings: ...
    def run(self, context: SignedIn[Settings], /) -> str: ...


class TokenJob(Protocol[Settings]):
    @property
    def VARIABLES(self) -> tuple[Variable, ...]: ...
    @property
    def SIGNS_IN(self) -> Literal[False]: ...

    def read_settings(self, values: Mapping[str, Any], env: Mapping[str, str], /) -> Settings: ...
    def run(self, context: WithClaims[Settings], /) -> str: ...


def no_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> None:
    """The settings reader of a job that reads no variable of its own."""
    return None


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


def load(command: str) -> SigningInJob[Any] | TokenJob[Any]:
    # Imported on demand: a job's heavy libraries load only when that job runs.
    return cast("SigningInJob[Any] | TokenJob[Any]", importlib.import_module(JOBS[command]))
