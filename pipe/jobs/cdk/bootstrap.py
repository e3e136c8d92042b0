"""Is the target environment bootstrapped for the CDK? Checked before a deploy, so that a missing
bootstrap stack is one clear line instead of a CloudFormation error about an SSM parameter.

The bootstrap stack records its version in the SSM parameter /cdk-bootstrap/<qualifier>/version. The
qualifier comes from the context, as the CLI and the app's synthesizer read it: CDK_CONTEXT (the
command line) first, then cdk.json, then cdk.context.json.
"""

from pathlib import Path
from typing import Any

from pipe.aws import errors
from pipe.common import bounded_read
from pipe.common.errors import PipeError
from pipe.common.log import logger

DEFAULT_QUALIFIER = "hnb659fds"
QUALIFIER_KEY = "@aws-cdk/core:bootstrapQualifier"
CONTEXT_FILES = ("cdk.json", "cdk.context.json")


def parameter_name(qualifier: str) -> str:
    return f"/cdk-bootstrap/{qualifier}/version"


def _file_context(path: Path) -> dict[str, Any]:
    try:
        document = bounded_read.load_json(
            bounded_read.read_bytes(path, bounded_read.SETTINGS_FILE_BYTES, path.name), path.name
        )
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    # cdk.json keeps context under "context"; cdk.context.json is the context itself.
    context = document.get("context", {}) if path.name == "cdk.json" else document
    return context if isinstance(context, dict) else {}


def qualifier(app_dir: Path, context: list[tuple[str, str]]) -> str:
    for key, value in context:
        if key == QUALIFIER_KEY and value:
            return value
    for name in CONTEXT_FILES:
        found = _file_context(app_dir / name).get(QUALIFIER_KEY)
        if isinstance(found, str) and found:
            return found
    return DEFAULT_QUALIFIER


def check(ssm: Any, qualifier_value: str, environment: str) -> str | None:
    """The bootstrap version in `environment` (aws://account/region). Missing: PipeError. Not readable
    (a role that may only assume the CDK's roles): None with a warning, and the CLI checks itself."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = parameter_name(qualifier_value)
    try:
        answer = ssm.get_parameter(Name=name)
    except ClientError as error:
        if errors.is_not_found(error):
            raise PipeError(
                f"{environment} is not bootstrapped for the CDK (qualifier {qualifier_value}: no SSM parameter "
                f"{name}). Run the pipe once with CDK_COMMAND: bootstrap, then deploy."
            ) from None
        logger.warning(
            "Could not read %s to check the CDK bootstrap (%s); the CDK CLI checks it during the deploy. "
            "Allow ssm:GetParameter on it for a clearer message when it is missing.",
            name,
            errors.name(error),
        )
        return None
    except BotoCoreError as error:
        logger.warning("Could not read %s to check the CDK bootstrap (%s).", name, error)
        return None
    version = str(answer.get("Parameter", {}).get("Value", ""))
    logger.info("CDK bootstrap version %s in %s (qualifier %s).", version, environment, qualifier_value)
    return version
