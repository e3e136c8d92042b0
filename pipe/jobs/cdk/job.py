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
from pathlib import Path

from pipe.common import command_line, private_dir, process
from pipe.common.command_line import Refused
from pipe.common.errors import PipeError
from pipe.common.log import emit, logger
from pipe.common.variables import Variable, boolean, choice
from pipe.jobs import Context
from pipe.jobs.cdk import bootstrap as cdk_bootstrap
from pipe.jobs.cdk import cli as cdk_cli
from pipe.jobs.cdk import context as cdk_context
from pipe.jobs.cdk import dependencies as cdk_dependencies
from pipe.jobs.cdk import messages as cdk_messages
from pipe.jobs.cdk import outputs as cdk_outputs
from pipe.jobs.cdk import stacks as cdk_stacks

SIGNS_IN = True
COMMANDS = ("deploy", "diff", "synth", "bootstrap")
APPROVALS = ("never", "any-change", "broadening", "destructive")
OUTPUTS_FILE = "cdk-outputs.json"
# Options that would take the session away from the environment the pipe gives the CLI.
_SESSION = "the CDK CLI gets the pipe's session through its environment, and it would replace it"
REFUSED_OPTIONS = (
    Refused(("--profile",), _SESSION),
    Refused(("--ec2creds", "-i"), _SESSION),
)
_APP_OPTIONS = ("--app", "-a")


def _stack(raw: str) -> str:
    text = raw.strip()
    # A leading '-' would make the CLI read a stack name as an option.
    if text.startswith("-") or any(character.isspace() for character in text):
        raise ValueError(
            "must be stack names or patterns such as MyStack or 'Prod/*', without spaces or a leading -"
        )
    return text


def _argument(raw: str) -> str:
    text = raw.strip()
    command_line.check([text], REFUSED_OPTIONS, "CDK_ARGS")
    return text


VARIABLES = (
    Variable("CDK_COMMAND", parse=choice(COMMANDS), default="deploy"),
    Variable("CDK_APP_PATH"),
    Variable("CDK_STACKS", is_list=True, parse=_stack),
    Variable("CDK_ARGS", is_list=True, parse=_argument),
    Variable(cdk_context.VARIABLE, is_list=True, parse=cdk_context.pair, split=cdk_context.split_plain),
    Variable("CDK_REQUIRE_APPROVAL", parse=choice(APPROVALS), default="never"),
    Variable("CDK_DIFF_FAIL", parse=boolean, default=False),
    Variable("CDK_CACHE_DIR"),
)


def _app_dir(raw: str | None, env) -> Path:
    clone = private_dir.clone_dir(env)
    if not raw:
        return clone
    path = private_dir.in_clone("CDK_APP_PATH", raw, env)
    if not path.is_dir():
        raise PipeError(
            f"CDK_APP_PATH {raw.strip()!r} is not a directory in {clone}; set it to your CDK app's directory."
        )
    return path


def _cache_dir(raw: str | None, env) -> Path | None:
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


def _check(values, app_dir: Path, env) -> None:
    command = values["CDK_COMMAND"]
    if command == "bootstrap" and values["CDK_STACKS"]:
        raise PipeError(
            "CDK_STACKS does not apply to CDK_COMMAND bootstrap: it bootstraps the signed-in account and region."
        )
    if values["CDK_DIFF_FAIL"] and command != "diff":
        logger.warning("CDK_DIFF_FAIL only applies to CDK_COMMAND diff; ignored for %s.", command)
    if command != "bootstrap" and not _app_given(values) and not (app_dir / "cdk.json").is_file():
        where = values["CDK_APP_PATH"] or "the clone directory"
        raise PipeError(
            f"No cdk.json in {where}: set CDK_APP_PATH to your CDK app's directory (where cdk.json is), "
            "or pass the app in CDK_ARGS (['--app', 'cdk.out'])."
        )


def _app_given(values) -> bool:
    return any(argument.split("=", 1)[0] in _APP_OPTIONS for argument in values["CDK_ARGS"])


def _arguments(cli: cdk_cli.Cli, values, environment: str, outputs_file: Path) -> list[str]:
    command = values["CDK_COMMAND"]
    arguments = [str(cli.path), command]
    if command == "bootstrap":
        arguments.append(environment)
        if not _app_given(values):
            # Given an app, the CLI synthesizes it to look for environments; the pipe names the one.
            arguments.append("--app=")
    elif values["CDK_STACKS"]:
        arguments += values["CDK_STACKS"]
    elif command == "deploy":
        arguments.append("--all")  # diff and synth take every stack when none is named
    for key, value in values["CDK_CONTEXT"]:
        arguments += ["--context", f"{key}={value}"]
    if command == "deploy":
        arguments += [
            "--require-approval",
            values["CDK_REQUIRE_APPROVAL"],
            "--outputs-file",
            str(outputs_file),
        ]
    if command == "diff" and values["CDK_DIFF_FAIL"]:
        arguments.append("--fail")
    arguments.append("--no-notices")
    if logger.isEnabledFor(logging.DEBUG):
        arguments.append("--verbose")
    return arguments + list(values["CDK_ARGS"])


def _cli_environment(context: Context, added: dict[str, str]) -> dict[str, str]:
    identity = context.identity
    assert identity is not None
    env = identity.environment(context.env) | added
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    # A CI step makes no calls the user did not ask for; setting the variable to false turns it back on.
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    if identity.session_name:
        # The roles the CLI assumes (deploy, file publishing) show the pipeline in CloudTrail too.
        env.setdefault("CDK_ROLE_SESSION_NAME", identity.session_name)
    return env


def _deployed(context: Context, outputs_file: Path, environment: str, seconds: float) -> str:
    outputs = cdk_outputs.read(outputs_file)
    emit(*cdk_outputs.lines(outputs))
    shared = cdk_outputs.share(context.env, outputs)
    if shared is not None:
        logger.info("Stack outputs written to %s.", shared)
    names = ", ".join(sorted(outputs)) or "no stack"
    return f"Deployed {names} to {environment} in {seconds:.0f} s."


def _diffed(values, status: int, tail: list[str]) -> str:
    count = cdk_messages.differences(tail)
    if status != 0:
        if values["CDK_DIFF_FAIL"] and count:
            raise PipeError(f"{count} stack(s) differ from what is deployed, and CDK_DIFF_FAIL is true.")
        raise PipeError(cdk_messages.failure("diff", status, tail))
    if count is None:
        return "cdk diff finished."
    if count == 0:
        return "No differences: the app matches what is deployed."
    return f"{count} stack(s) differ from what is deployed (CDK_DIFF_FAIL is false, so the step passes)."


def check_before_sign_in(values, env) -> Path:
    """The app's directory, its cdk.json (read with its limits), the cache directory and the app's
    own CLI (inside the clone): all before the sign-in, so that a wrong path costs no AWS call."""
    app_dir = _app_dir(values["CDK_APP_PATH"], env)
    _check(values, app_dir, env)
    private_dir.base(env)
    if values["CDK_COMMAND"] != "bootstrap":
        _cache_dir(values["CDK_CACHE_DIR"], env)
        cdk_dependencies.app_command(app_dir)
    own = app_dir / cdk_cli.OWN_CLI
    if os.path.lexists(own):
        private_dir.inside_clone(own, private_dir.clone_dir(env), "The CDK app's node_modules/.bin/cdk")
    return app_dir


def run(context: Context) -> str:
    started = time.monotonic()
    identity = context.identity
    assert identity is not None
    values = dict(context.values)
    command = values["CDK_COMMAND"]
    app_dir = context.checked or check_before_sign_in(values, context.env)
    private = private_dir.create(context.env)
    environment = f"aws://{identity.account}/{identity.region}"

    added = {}
    if command != "bootstrap":
        cache = _cache_dir(values["CDK_CACHE_DIR"], context.env)
        added = cdk_dependencies.prepare(app_dir, context.env, private, cache)
    env = _cli_environment(context, added)
    cli = cdk_cli.find(app_dir, env.get("PATH", ""), private_dir.clone_dir(env))
    logger.info("CDK CLI: %s.", cli.describe())

    qualifier = cdk_bootstrap.qualifier(app_dir, values["CDK_CONTEXT"])
    if command == "deploy":
        cdk_bootstrap.check(identity.client("ssm"), qualifier, environment)

    outputs_file = private / OUTPUTS_FILE
    status, tail = process.run(_arguments(cli, values, environment, outputs_file), env, app_dir)
    seconds = time.monotonic() - started
    if command in ("deploy", "diff"):
        assembly = cdk_stacks.assembly_dir(app_dir, values["CDK_ARGS"])
        explanation = cdk_stacks.explanation(command, values["CDK_STACKS"], values["CDK_ARGS"], assembly)
        if explanation:
            logger.warning("%s", explanation)
    if command == "diff":
        return _diffed(values, status, tail)
    if status != 0:
        raise PipeError(cdk_messages.failure(command, status, tail))
    if command == "deploy":
        return _deployed(context, outputs_file, environment, seconds)
    if command == "bootstrap":
        return f"Bootstrapped {environment} for the CDK (qualifier {qualifier})."
    relative = app_dir.relative_to(private_dir.clone_dir(context.env)).as_posix()
    return f"Synthesized the CDK app in {relative}: the cloud assembly is in its cdk.out."
