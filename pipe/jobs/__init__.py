"""The dispatch table: COMMAND names a job module; each has VARIABLES, SIGNS_IN and run(context)."""

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pipe import __version__
from pipe.claims import Claims
from pipe.errors import PipeError
from pipe.signin import Identity

JOBS = {
    "whoami": "pipe.jobs.whoami",
    "trust-policy": "pipe.jobs.trust_policy",
    "kubectl": "pipe.jobs.kubectl",
    "s3-sync": "pipe.jobs.s3_sync",
    "beanstalk": "pipe.jobs.beanstalk",
    "cdk": "pipe.jobs.cdk",
}
# Named so that a user who read about them is told they are coming, not that they are unknown.
PLANNED = ()


@dataclass
class Context:
    values: Mapping[str, Any]
    env: Mapping[str, str]
    identity: Identity | None = None
    claims: Claims | None = None


def parse_command(raw: str) -> str:
    command = raw.strip().lower()
    if command in JOBS:
        return command
    choices = ", ".join(JOBS)
    if command in PLANNED:
        raise PipeError(
            f"COMMAND {command!r} is not in version {__version__} of this pipe yet; choose one of: {choices}."
        )
    raise ValueError(f"must be one of: {choices}")


def load(command: str) -> ModuleType:
    # Imported on demand: a job's heavy libraries load only when that job runs.
    return importlib.import_module(JOBS[command])
