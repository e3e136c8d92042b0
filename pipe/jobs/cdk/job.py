"""COMMAND: cdk — run the AWS CDK CLI (deploy, diff, synth, bootstrap) with the pipe's session.

The CLI gets the temporary keys and the region through its environment only: no profile, no
credentials file, no web-identity token file, so none of the CLI's profile quirks apply. Its outputs
file lives in the private directory, outside the clone; a Python app's virtual environment too, or in
CDK_CACHE_DIR (no credentials: installers run without them) to be reused by later runs. The cloud
assembly (cdk.out) stays in the app's directory, where a later step can use it: it holds templates and
asset manifests, no credentials. `bootstrap` needs no app: it installs nothing and runs no app.
"""

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pipe.common import command_line, private_dir, process
from pipe.common.errors import PipeError
from pipe.common.log import emit, logger
from pipe.common.variables import Variable, boolean, choice
from pipe.jobs import SignedIn
from pipe.jobs.cdk import arguments as cdk_arguments
from pipe.jobs.cdk import bootstrap as cdk_bootstrap
from pipe.jobs.cdk import cli as cdk_cli
from pipe.jobs.cdk import context as cdk_context
from pipe.jobs.cdk import dependencies as cdk_dependencies
from pipe.jobs.cdk import messages as cdk_messages
from pipe.jobs.cdk import outputs as cdk_outputs
from pipe.jobs.cdk import plan as cdk_plan
from pipe.jobs.cdk import report as cdk_report
from pipe.jobs.cdk import settings
from pipe.jobs.cdk import stacks as cdk_stacks

SIGNS_IN: Literal[True] = True
COMMANDS = ("deploy", "diff", "synth", "bootstrap")
APPROVALS = ("never", "any-change", "broadening", "destructive")
OUTPUTS_FILE = "cdk-outputs.json"
# The CDK CLI's deadline: far past Bitbucket's 120-minute default step limit, so that only a CLI that
# hangs reaches it, never a long CloudFormation deploy that the step allows.
CLI_LIMIT_SECONDS = 6 * 3600


def _stack(raw: str) -> str:
    text = command_line.check_argument(raw.strip(), "CDK_STACKS")
    # A leading '-' would make the CLI read a stack name as an option.
    if text.startswith("-") or any(character.isspace() for character in text):
        raise ValueError(
            "must be stack names or patterns such as MyStack or 'Prod/*', without spaces or a leading -"
        )
    return text


def _argument(raw: str) -> str:
    # The whole list is checked with CDK_COMMAND in settings.read (pipe.jobs.cdk.arguments).
    return cdk_arguments.check_refused(raw.strip())


VARIABLES = (
    Variable("CDK_COMMAND", parse=choice(COMMANDS), default="deploy"),
    Variable("CDK_APP_PATH"),
    Variable("CDK_STACKS", is_list=True, parse=_stack),
    Variable("CDK_ARGS", is_list=True, parse=_argument),
    Variable(cdk_context.VARIABLE, is_list=True, parse=cdk_context.pair, split=cdk_context.split_plain),
    Variable("CDK_REQUIRE_APPROVAL", parse=choice(APPROVALS), default="never"),
    Variable("CDK_DIFF_FAIL", parse=boolean, default=False),
    Variable("CDK_ALLOW_SECURITY_CHANGES", parse=boolean, default=False),
    Variable("CDK_CACHE_DIR"),
)


def _cache_dir(raw: str | None, env: Mapping[str, str]) -> Path | None:
    """CDK_CACHE_DIR in the clone (the only directory Bitbucket shares with a pipe), created if missing."""
    if not raw:
        return None
    path = private_dir.in_clone("CDK_CACHE_DIR", raw, env)
    if path == private_dir.clone_dir(env) or (path.exists() and not path.is_dir()):
        raise PipeError(
            f"CDK_CACHE_DIR {raw.strip()!r} must be a directory below the clone directory, such as .cdk-cache, "
            "declared as a Bitbucket cache."
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> settings.Settings:
    """The settings (pipe.jobs.cdk.settings), then what else needs no AWS call: the private
    directory's place, the cache directory, the app's command (cdk.json read with its limits) and the
    app's own CLI (inside the clone)."""
    private_dir.base(env)  # a clone that covers every temporary directory, said before any path in it
    chosen = settings.read(values, env)
    if chosen.command != "bootstrap":
        _cache_dir(chosen.cache_dir, env)
        cdk_dependencies.app_command(chosen.app_dir)
    own = chosen.app_dir / cdk_cli.OWN_CLI
    if os.path.lexists(own):
        private_dir.inside_clone(own, private_dir.clone_dir(env), "The CDK app's node_modules/.bin/cdk")
    return chosen


def _arguments(
    cli: cdk_cli.Cli, chosen: settings.Settings, environment: str, outputs_file: Path
) -> list[str]:
    command = chosen.command
    arguments = [str(cli.path), command]
    if command == "bootstrap":
        arguments.append(environment)
        if not chosen.app_given:
            # Given an app, the CLI synthesizes it to look for environments; the pipe names the one.
            arguments.append("--app=")
    elif chosen.stacks:
        arguments += chosen.stacks
    elif command == "deploy":
        arguments.append("--all")  # diff and synth take every stack when none is named
    for key, value in chosen.context:
        arguments += ["--context", f"{key}={value}"]
    if command == "deploy":
        arguments += [
            "--require-approval",
            chosen.require_approval,
            "--outputs-file",
            str(outputs_file),
        ]
    if command == "diff" and chosen.diff_fail:
        arguments.append("--fail")
    arguments.append("--no-notices")
    if logger.isEnabledFor(logging.DEBUG):
        arguments.append("--verbose")
    return arguments + chosen.arguments


def _cli_environment(context: SignedIn[settings.Settings], added: dict[str, str]) -> dict[str, str]:
    identity = context.identity
    env = identity.environment(context.env) | added
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    # A CI step makes no calls the user did not ask for; setting the variable to false turns it back on.
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    if identity.session_name:
        # The roles the CLI assumes (deploy, file publishing) show the pipeline in CloudTrail too.
        env.setdefault("CDK_ROLE_SESSION_NAME", identity.session_name)
    return env


def _deployed(
    context: SignedIn[settings.Settings], outputs_file: Path, environment: str, seconds: float
) -> str:
    outputs = cdk_outputs.read(outputs_file)
    emit(*cdk_outputs.lines(outputs))
    shared = cdk_outputs.share(context.env, outputs)
    if shared is not None:
        logger.info("Stack outputs written to %s.", shared)
    return cdk_report.record(cdk_report.deployed(outputs, environment, seconds)).summary


def _plan(
    context: SignedIn[settings.Settings],
    cli: cdk_cli.Cli,
    assembly: Path,
    environment: str,
    status: int,
    tail: list[str],
) -> None:
    """The diff's plan report: the templates compared when the CLI's diff ran (exit status 0, or 1
    for differences with CDK_DIFF_FAIL), else FAILED with the CLI's failure."""
    chosen = context.settings
    if status == 0 or (chosen.diff_fail and cdk_messages.differences(tail)):
        cdk_report.record_plan(context.identity, chosen, cli.path, assembly, environment)
    else:
        cdk_report.record(cdk_plan.failed(environment, cdk_messages.failure("diff", status, tail)))


def _diffed(diff_fail: bool, status: int, tail: list[str]) -> str:
    count = cdk_messages.differences(tail)
    if status != 0:
        if diff_fail and count:
            raise PipeError(f"{count} stack(s) differ from what is deployed, and CDK_DIFF_FAIL is true.")
        raise PipeError(cdk_messages.failure("diff", status, tail))
    if count is None:
        return "cdk diff finished."
    if count == 0:
        return "No differences: the app matches what is deployed."
    return f"{count} stack(s) differ from what is deployed (CDK_DIFF_FAIL is false, so the step passes)."


def run(context: SignedIn[settings.Settings]) -> str:
    started = time.monotonic()
    identity, chosen = context.identity, context.settings
    command, app_dir = chosen.command, chosen.app_dir
    private = private_dir.create(context.env)
    environment = f"aws://{identity.account}/{identity.region}"

    added = {}
    if command != "bootstrap":
        cache = _cache_dir(chosen.cache_dir, context.env)
        added = cdk_dependencies.prepare(app_dir, context.env, private, cache)
    env = _cli_environment(context, added)
    cli = cdk_cli.find(app_dir, env.get("PATH", ""), private_dir.clone_dir(env))
    logger.info("CDK CLI: %s.", cli.describe())

    qualifier = cdk_bootstrap.qualifier(app_dir, chosen.context)
    if command == "deploy":
        cdk_bootstrap.check(identity.client("ssm"), qualifier, environment)

    outputs_file = private / OUTPUTS_FILE
    status, tail = process.run(
        _arguments(cli, chosen, environment, outputs_file),
        env,
        app_dir,
        CLI_LIMIT_SECONDS,
        "the CDK CLI's limit (CLI_LIMIT_SECONDS)",
    )
    seconds = time.monotonic() - started
    assembly = cdk_stacks.assembly_dir(app_dir, chosen.arguments)
    if command in ("deploy", "diff"):
        explanation = cdk_stacks.explanation(command, chosen.stacks, chosen.arguments, assembly)
        if explanation:
            logger.warning("%s", explanation)
    if command == "diff":
        _plan(context, cli, assembly, environment, status, tail)
        return _diffed(chosen.diff_fail, status, tail)
    if status != 0:
        message = cdk_messages.failure(command, status, tail)
        if command == "deploy":
            cdk_report.record(cdk_report.deploy_failed(message, environment, seconds))
        raise PipeError(message)
    if command == "deploy":
        return _deployed(context, outputs_file, environment, seconds)
    if command == "bootstrap":
        return f"Bootstrapped {environment} for the CDK (qualifier {qualifier})."
    relative = app_dir.relative_to(private_dir.clone_dir(context.env)).as_posix()
    return f"Synthesized the CDK app in {relative}: the cloud assembly is in its cdk.out."
