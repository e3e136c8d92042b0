"""Which stacks a deploy or diff took beyond those CDK_STACKS named, and why.

The CLI adds the stacks that a named stack depends on (deploy and diff extend the selection
upstream, `--exclusively` turns that off), so `CDK_STACKS: ['Web']` can deploy or compare two
stacks. The cloud assembly the CLI just wrote says which: its manifest lists every stack with the
artifacts it depends on.
"""

import fnmatch
from pathlib import Path

from pipe.common import bounded_read
from pipe.common.errors import PipeError

MANIFEST = "manifest.json"
DEFAULT_ASSEMBLY = "cdk.out"
_STACK_TYPE = "aws:cloudformation:stack"
_EXCLUSIVELY = ("--exclusively", "-e")
_OUTPUT_OPTIONS = ("--output", "-o")
_APP_OPTIONS = ("--app", "-a")


def assembly_dir(app_dir: Path, arguments: list[str]) -> Path:
    """Where the CLI's cloud assembly is: --output, else an --app that is a directory, else cdk.out."""
    for options in (_OUTPUT_OPTIONS, _APP_OPTIONS):
        value = _option_value(arguments, options)
        if value and (app_dir / value).is_dir():
            return app_dir / value
    return app_dir / DEFAULT_ASSEMBLY


def _option_value(arguments: list[str], options: tuple[str, ...]) -> str | None:
    for index, argument in enumerate(arguments):
        name, separator, value = argument.partition("=")
        if name in options:
            if separator:
                return value
            return arguments[index + 1] if index + 1 < len(arguments) else None
    return None


def read_dependencies(assembly: Path) -> dict[str, set[str]]:
    """{stack name: names of the stacks it depends on} from the assembly's manifest; {} when unreadable."""
    try:
        path = assembly / MANIFEST
        manifest = bounded_read.load_json(
            bounded_read.read_bytes(path, bounded_read.MANIFEST_FILE_BYTES, "the cloud assembly's manifest"),
            "the cloud assembly's manifest",
        )
        artifacts = manifest["artifacts"]
    except (OSError, PipeError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(artifacts, dict):
        return {}
    stacks = {
        artifact_id: artifact
        for artifact_id, artifact in artifacts.items()
        if isinstance(artifact, dict) and artifact.get("type") == _STACK_TYPE
    }
    names = {
        artifact_id: str(artifact.get("displayName") or artifact_id)
        for artifact_id, artifact in stacks.items()
    }
    return {
        names[artifact_id]: {names[d] for d in artifact.get("dependencies") or [] if d in names}
        for artifact_id, artifact in stacks.items()
    }


def added_by_dependencies(
    patterns: list[str], dependencies: dict[str, set[str]]
) -> tuple[list[str], list[str]]:
    """(the stacks the patterns name, the stacks the CLI adds because those depend on them)."""
    named = sorted(name for name in dependencies if any(fnmatch.fnmatchcase(name, p) for p in patterns))
    taken, waiting = set(named), list(named)
    while waiting:
        for dependency in dependencies.get(waiting.pop(), set()):
            if dependency not in taken:
                taken.add(dependency)
                waiting.append(dependency)
    return named, sorted(taken - set(named))


def explanation(command: str, patterns: list[str], arguments: list[str], assembly: Path) -> str | None:
    """A line saying which stacks the CLI took beyond CDK_STACKS and why; None when there are none."""
    if not patterns or any(argument in _EXCLUSIVELY for argument in arguments):
        return None
    named, added = added_by_dependencies(patterns, read_dependencies(assembly))
    if not added:
        return None
    verb = "deployed" if command == "deploy" else "compared"
    return (
        f"CDK_STACKS named {', '.join(named)}; the CDK CLI also {verb} {', '.join(added)}, because "
        f"{'it depends' if len(named) == 1 else 'they depend'} on {'it' if len(added) == 1 else 'them'}. "
        "Add '--exclusively' to CDK_ARGS to take only the stacks named."
    )
