"""kubectl's settings: the checked variables (pipe.jobs.kubectl.job.VARIABLES) as the job uses them,
read once before the sign-in, so that a RESOURCE_PATH that is not there fails before any AWS call."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pipe.common import private_dir
from pipe.common.errors import PipeError
from pipe.jobs.kubectl import command_rules, kustomization
from pipe.kube import labels
from pipe.kube.manifests import Origin

# How KUBECTL_APPLY_ARGS may end, and the mode each spelling means: RESOURCE_PATH follows it.
APPLY_MODES: dict[str, Literal["-f", "-k"]] = {
    "-f": "-f",
    "--filename": "-f",
    "-k": "-k",
    "--kustomize": "-k",
}


class Settings(NamedTuple):
    cluster: str
    command: list[str]  # KUBECTL_COMMAND's words, without a leading "kubectl"
    # Inside the clone and there; None when the command does not use it (see uses_resource_path).
    resource_path: Path | None
    extra_arguments: list[str]  # KUBECTL_ARGS
    # How apply reads RESOURCE_PATH: -f (manifest files) or -k (a kustomization).
    apply_mode: Literal["-f", "-k"]
    apply_arguments: list[str]  # the rest of KUBECTL_APPLY_ARGS, before the mode
    namespace: str | None
    # What every applied object gets: the default labels (unless WITH_DEFAULT_LABELS is false) and LABELS.
    labels: dict[str, str]
    disable_validation: bool
    wait: bool  # WAIT, or by default: whether the command applies RESOURCE_PATH
    wait_timeout: int  # seconds
    dry_run: bool
    # apply -f: RESOURCE_PATH's objects, read, checked and labelled before the sign-in (pipe.jobs.kubectl.job).
    manifest_objects: tuple[dict[str, Any], ...] = ()
    # Where each of manifest_objects starts: its file in the clone and line (for the report's annotations).
    manifest_origins: tuple[Origin, ...] = ()

    @property
    def plans(self) -> bool:
        """A plan, not a change: `diff`, or DRY_RUN with RESOURCE_PATH applied or deleted (the server-side
        diff of pipe.kube.diff, recorded as the plan report)."""
        return self.resource_path is not None and (self.command[0] == "diff" or self.dry_run)


def names_files(words: list[str]) -> bool:
    return any(word.split("=")[0] in APPLY_MODES for word in words)


def uses_resource_path(command: list[str]) -> bool:
    """`apply` or `delete`, maybe with flags, but naming no files or objects: RESOURCE_PATH says what.
    `diff` always takes RESOURCE_PATH (read() refuses one that names files)."""
    flags = command[1:]
    if command[0] == "diff":
        return True
    if command[0] not in ("apply", "delete"):
        return False
    return not names_files(flags) and all(word.startswith("-") for word in flags)


def _resource_path(raw: str | None, env: Mapping[str, str], command: str) -> Path:
    if raw is None or not raw.strip():  # blank is not the whole clone
        raise PipeError(
            f"RESOURCE_PATH is required for KUBECTL_COMMAND {command}: set it to a manifest file or directory."
        )
    path = private_dir.in_clone("RESOURCE_PATH", raw, env)
    if not path.exists():
        raise PipeError(f"RESOURCE_PATH {raw!r} does not exist in the repository.")
    return path


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    command = values["KUBECTL_COMMAND"]
    clone = private_dir.clone_dir(env)
    needs_path = uses_resource_path(command)
    resource_path = _resource_path(values["RESOURCE_PATH"], env, command[0]) if needs_path else None
    # The parser leaves the mode last, in its short spelling (pipe.jobs.kubectl.job._apply_arguments).
    *apply_arguments, apply_mode = values["KUBECTL_APPLY_ARGS"]
    # The command line as kubectl will get it, and every file it names, before any AWS call.
    applies = resource_path is not None and command[0] in ("apply", "diff")
    command_rules.check_all(command, values["KUBECTL_ARGS"], apply_arguments if applies else [], clone)
    # A plan is of RESOURCE_PATH alone: an object from elsewhere would have no line to point at.
    plans = command[0] == "diff" or (values["DRY_RUN"] and needs_path)
    if plans and (names_files(command[1:]) or names_files(values["KUBECTL_ARGS"])):
        raise PipeError(
            f"KUBECTL_{'COMMAND' if names_files(command[1:]) else 'ARGS'} names files for a plan "
            f"({'kubectl diff' if command[0] == 'diff' else 'DRY_RUN'}): the plan is of RESOURCE_PATH (with "
            "KUBECTL_APPLY_ARGS -k for a kustomization); name the manifests there."
        )
    if resource_path is not None and not applies:
        command_rules.check_named(str(resource_path), clone, "RESOURCE_PATH")
    if values["DRY_RUN"]:
        command_rules.dry_run_arguments(command)  # a change kubectl cannot dry-run is refused now
    if resource_path is not None and applies and apply_mode == "-k":
        kustomization.check(resource_path, clone, "RESOURCE_PATH")  # kubectl kustomize runs after the sign-in
    added = labels.defaults(env) if values["WITH_DEFAULT_LABELS"] else {}
    added |= dict(values["LABELS"])
    return Settings(
        cluster=values["CLUSTER_NAME"],
        command=command,
        resource_path=resource_path,
        extra_arguments=list(values["KUBECTL_ARGS"]),
        apply_mode=apply_mode,
        apply_arguments=apply_arguments,
        namespace=values["NAMESPACE"],
        labels=added,
        disable_validation=values["DISABLE_VALIDATION"],
        wait=values["WAIT"] if values["WAIT"] is not None else needs_path and command[0] == "apply",
        wait_timeout=values["WAIT_TIMEOUT"],
        dry_run=values["DRY_RUN"],
    )
