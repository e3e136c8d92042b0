"""cdk's settings: the checked variables (pipe.jobs.cdk.job.VARIABLES) as the job uses them, read once
before the sign-in, so that an app that is not there fails before any AWS call."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pipe.common import private_dir
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.cdk import arguments as cdk_arguments
from pipe.jobs.cdk import context as cdk_context

_APP_OPTIONS = ("--app", "-a")


class Settings(NamedTuple):
    command: str  # deploy, diff, synth or bootstrap
    app_dir: Path  # CDK_APP_PATH resolved inside the clone (the clone itself when not set)
    stacks: list[str]
    arguments: list[str]  # CDK_ARGS, passed on last
    # Whether CDK_ARGS names the app (--app/-a): then no cdk.json is needed, and bootstrap synthesizes it.
    app_given: bool
    context: list[tuple[str, str]]
    require_approval: str
    diff_fail: bool
    allow_security_changes: bool  # a diff's IAM and security-group changes leave its plan PASSED
    cache_dir: str | None  # as given; created inside the clone when the app's dependencies are installed


def _app_dir(raw: str | None, env: Mapping[str, str]) -> Path:
    clone = private_dir.clone_dir(env)
    if not raw:
        return clone
    path = private_dir.in_clone("CDK_APP_PATH", raw, env)
    if not path.is_dir():
        raise PipeError(
            f"CDK_APP_PATH {raw.strip()!r} is not a directory in {clone}; set it to your CDK app's directory."
        )
    return path


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    command = values["CDK_COMMAND"]
    app_dir = _app_dir(values["CDK_APP_PATH"], env)
    cdk_arguments.check(values["CDK_ARGS"], command, app_dir, private_dir.clone_dir(env))
    if command == "bootstrap" and values["CDK_STACKS"]:
        raise PipeError(
            "CDK_STACKS does not apply to CDK_COMMAND bootstrap: it bootstraps the signed-in account and region."
        )
    if values["CDK_DIFF_FAIL"] and command != "diff":
        logger.warning("CDK_DIFF_FAIL only applies to CDK_COMMAND diff; ignored for %s.", command)
    if values["CDK_ALLOW_SECURITY_CHANGES"] and command != "diff":
        logger.warning(
            "CDK_ALLOW_SECURITY_CHANGES only applies to CDK_COMMAND diff; ignored for %s.", command
        )
    app_given = any(argument.split("=", 1)[0] in _APP_OPTIONS for argument in values["CDK_ARGS"])
    if command != "bootstrap" and not app_given and not (app_dir / "cdk.json").is_file():
        where = values["CDK_APP_PATH"] or "the clone directory"
        raise PipeError(
            f"No cdk.json in {where}: set CDK_APP_PATH to your CDK app's directory (where cdk.json is), "
            "or pass the app in CDK_ARGS (['--app', 'cdk.out'])."
        )
    return Settings(
        command=command,
        app_dir=app_dir,
        stacks=list(values["CDK_STACKS"]),
        arguments=list(values["CDK_ARGS"]),
        app_given=app_given,
        context=list(values[cdk_context.VARIABLE]),
        require_approval=values["CDK_REQUIRE_APPROVAL"],
        diff_fail=values["CDK_DIFF_FAIL"],
        allow_security_changes=values["CDK_ALLOW_SECURITY_CHANGES"],
        cache_dir=values["CDK_CACHE_DIR"],
    )
