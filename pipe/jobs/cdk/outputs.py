"""Stack outputs after a CDK deploy: read from the CLI's --outputs-file (written in the private
directory), printed, and shared with later steps through $BITBUCKET_PIPE_SHARED_STORAGE_DIR."""

from collections.abc import Mapping
from pathlib import Path

from pipe.common import bounded_read, shared_storage
from pipe.common.errors import PipeError

SHARED_FILE = "aws-oidc-deploy/cdk-outputs.json"

Outputs = dict[str, dict[str, str]]


def read(path: Path) -> Outputs:
    """{stack: {output: value}}; empty when the CLI wrote no file (no stack was deployed)."""
    if not path.is_file():
        return {}
    try:
        document = bounded_read.load_json(
            bounded_read.read_bytes(path, bounded_read.SETTINGS_FILE_BYTES, "The CDK CLI's outputs file"),
            "The CDK CLI's outputs file",
        )
    except (OSError, ValueError) as error:
        raise PipeError(f"The CDK CLI's outputs file could not be read: {error}.") from None
    if not isinstance(document, dict):
        return {}
    return {
        str(stack): {str(name): str(value) for name, value in outputs.items()}
        for stack, outputs in document.items()
        if isinstance(outputs, dict)
    }


def lines(outputs: Outputs) -> list[str]:
    if not any(outputs.values()):
        return ["Stack outputs: none."]
    shown = ["Stack outputs:"]
    for stack, values in sorted(outputs.items()):
        shown += [f"  {stack}.{name} = {value}" for name, value in sorted(values.items())]
    return shown


def share(env: Mapping[str, str], outputs: Outputs) -> Path | None:
    return shared_storage.write_json(env, SHARED_FILE, outputs, sort_keys=True)
