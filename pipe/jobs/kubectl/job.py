"""COMMAND: kubectl — run kubectl against an EKS cluster with the pipe's session.

The kubeconfig holds no secret: its user is an exec plugin (pipe.kube.eks_token) that signs a fresh EKS
token from the credentials in kubectl's environment whenever kubectl needs one, so rollouts longer
than a token's 15 minutes keep working. Before kubectl runs, the authorization doctor checks that
the cluster knows the role and allows what the manifests need.
"""

import re
import shlex
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pipe import report
from pipe.common import command_line, private_dir, process
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.common.variables import Variable, boolean, integer, matching
from pipe.jobs import SignedIn
from pipe.jobs.kubectl import command_rules, kustomization, reports, settings
from pipe.jobs.kubectl.settings import APPLY_MODES
from pipe.kube import cluster as kube_cluster
from pipe.kube import diff, labels, manifests

SIGNS_IN: Literal[True] = True
DEFAULT_WAIT_TIMEOUT_SECONDS = 300
# A shell would act on these; kubectl never needs them, so they mean the value expects a shell.
_SHELL_CHARACTERS = re.compile(r"[;&|`$<>\\\n]")
# Deadline of the kubectl command line the job runs (docs/security.md: limits): an hour, or WAIT_TIMEOUT when
# that is longer.
COMMAND_LIMIT_SECONDS = 3600


def _words(raw: str) -> list[str]:
    if _SHELL_CHARACTERS.search(raw):
        raise ValueError(
            "must be a kubectl command line without shell syntax (; & | ` $ < > \\); it is not run by a shell"
        )
    try:
        words = shlex.split(raw)
    except ValueError:
        raise ValueError("must have balanced quotes") from None
    if words[:1] == ["kubectl"]:
        words = words[1:]
    if not words or words[0].startswith("-"):
        raise ValueError(
            "must start with a kubectl command such as apply, get pods or rollout restart deployment/web"
        )
    return words


def _command_line(raw: str) -> list[str]:
    return command_rules.check(_words(raw), "KUBECTL_COMMAND")


def _extra_argument(raw: str) -> str:
    # Checked as a whole with the command in run(); a refused option is refused here already.
    return command_rules.check_refused(
        command_line.check_argument(raw.strip(), "KUBECTL_ARGS"), "KUBECTL_ARGS"
    )


def _apply_arguments(raw: str) -> list[str]:
    words = _words(f"apply {raw}")[1:]
    if not words or words[-1] not in APPLY_MODES:
        raise ValueError("must end with -f or -k, which RESOURCE_PATH follows")
    command_rules.check(["apply", *words[:-1]], "KUBECTL_APPLY_ARGS")
    return [*words[:-1], APPLY_MODES[words[-1]]]


VARIABLES = (
    kube_cluster.CLUSTER_NAME,
    Variable(
        "KUBECTL_COMMAND",
        required=True,
        parse=_command_line,
        fix="set it to apply, or to a kubectl command line such as 'get pods' or 'rollout restart deployment/web'.",
    ),
    Variable("RESOURCE_PATH"),
    Variable("KUBECTL_ARGS", is_list=True, parse=_extra_argument),
    Variable("KUBECTL_APPLY_ARGS", parse=_apply_arguments, default=["-f"]),
    Variable(
        "NAMESPACE", parse=matching(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a Kubernetes namespace name")
    ),
    Variable("LABELS", is_list=True, parse=labels.parse),
    Variable("WITH_DEFAULT_LABELS", parse=boolean, default=True),
    Variable("DISABLE_VALIDATION", parse=boolean, default=False),
    Variable("WAIT", parse=boolean),
    Variable("WAIT_TIMEOUT", parse=integer(1, 86400, "seconds"), default=DEFAULT_WAIT_TIMEOUT_SECONDS),
    Variable("DRY_RUN", parse=boolean, default=False),
)


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> settings.Settings:
    """The settings (pipe.jobs.kubectl.settings), then what else needs no AWS call: the private
    directory's place, kubectl itself, and the manifest files read, checked and labelled (-f; a
    kustomization's output only after the sign-in, since kubectl renders it)."""
    private_dir.base(env)  # a clone that covers every temporary directory, said before any path in it
    chosen = settings.read(values, env)
    kubectl = kube_cluster.find_kubectl()
    applies = chosen.command[0] in ("apply", "diff")
    if chosen.resource_path is not None and chosen.apply_mode == "-f" and (applies or chosen.plans):
        clone = private_dir.clone_dir(env)
        added = chosen.labels if applies else {}  # delete finds the objects by name, not by label
        origins: list[manifests.Origin] = []
        objects = _prepared_objects(chosen.resource_path, "-f", added, clone, kubectl, env, origins)
        chosen = chosen._replace(manifest_objects=tuple(objects), manifest_origins=tuple(origins))
    return chosen


def _arguments(chosen: settings.Settings, path: Path | None) -> list[str]:
    """kubectl's arguments after the global flags: the command, its path, and the pipe's options."""
    command = chosen.command
    if path is None:
        args = list(command)
    elif command[0] == "apply":
        args = ["apply", "-f", str(path), *chosen.apply_arguments, *command[1:]]
    else:
        args = ["delete", "-f", str(path), *(["--recursive"] if path.is_dir() else []), *command[1:]]
    if chosen.dry_run:
        args += command_rules.dry_run_arguments(command)
    if chosen.disable_validation and command[0] == "apply":
        args.append("--validate=false")
    if chosen.namespace:
        args += ["--namespace", chosen.namespace]
    if "--" in args:  # exec ... -- its command: the options go before the command run in the container
        at = args.index("--")
        return [*args[:at], *args[len(command) :], *chosen.extra_arguments, *command[at:]]
    return args + chosen.extra_arguments


def _plan_options(chosen: settings.Settings) -> list[str]:
    """The apply options a plan's dry run gets: those the apply itself would (`diff`'s own, but for
    --concurrency, which only diff has)."""
    words = [*chosen.apply_arguments, *chosen.command[1:], *chosen.extra_arguments]
    if chosen.disable_validation:
        words.append("--validate=false")
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("--concurrency"):
            skip = "=" not in word
        else:
            kept.append(word)
    return kept


def run(context: SignedIn[settings.Settings]) -> str:
    chosen, env, identity = context.settings, context.env, context.identity
    command = chosen.command
    clone = private_dir.clone_dir(env)
    path = chosen.resource_path
    # What apply applies (RESOURCE_PATH); None for any other command. The command line, its files
    # and a kustomization were checked with the settings, before the sign-in.
    to_apply = path if command[0] in ("apply", "diff") else None
    dry_run = chosen.dry_run and bool(command_rules.dry_run_arguments(command))
    kubectl = kube_cluster.find_kubectl()
    # Manifest files are read and checked before any AWS call (kustomize output only after).
    objects, origins = list(chosen.manifest_objects), list(chosen.manifest_origins)

    connection = kube_cluster.connect(identity, env, chosen.cluster)
    cluster, workdir, kubectl_env = connection.cluster, connection.workdir, connection.environment

    if to_apply is not None and chosen.apply_mode == "-k":
        objects = _prepared_objects(to_apply, "-k", chosen.labels, clone, kubectl, kubectl_env, origins)
    diff.protect(objects)  # a Secret's values are masked wherever kubectl might print them
    to_check = objects if to_apply is not None else []
    kube_cluster.check_authorization(cluster, identity, workdir, kubectl_env, to_check, chosen.namespace)

    if chosen.plans:
        deleting = command[0] == "delete"
        what = f"kubectl {command[0]}"
        try:
            changes = diff.plan(
                [] if deleting else objects,
                kubectl,
                connection,
                chosen.namespace,
                clone,
                _plan_options(chosen),
                removing=objects if deleting else [],
            )
        except PipeError as error:
            report.record(reports.failed_plan(error.message, cluster.name, chosen.namespace, what))
            raise
        report.record(reports.plan(changes, origins, cluster.name, chosen.namespace, what))
        counted = reports.counted(changes)
        return f"{what} plan (server-side dry run) on EKS cluster {cluster.name}: {counted}."

    if to_apply is not None:
        path = manifests.write(objects, workdir / "manifests.yaml")
    args = [kubectl, "--cache-dir", str(workdir / "cache"), *_arguments(chosen, path)]
    started = time.monotonic()
    limit = max(COMMAND_LIMIT_SECONDS, chosen.wait_timeout)
    status, tail = process.run(
        args, kubectl_env, clone, limit, "a kubectl command line's limit; a longer WAIT_TIMEOUT raises it"
    )
    if status != 0:
        failure = f"kubectl {command[0]} failed (exit status {status}).{kube_cluster.forbidden_hint(tail)}"
        if to_apply is not None:
            _record_result(chosen, connection, objects, origins, [], started, failure)
        raise PipeError(failure, exit_status=status)

    targets = (
        manifests.rollout_targets(objects, chosen.namespace) if chosen.wait and not chosen.dry_run else []
    )
    try:
        kube_cluster.wait_for_rollouts(args[:3], targets, chosen.wait_timeout, kubectl_env, clone)
    except PipeError as error:
        if to_apply is not None and not dry_run:
            _record_result(chosen, connection, objects, origins, targets, started, error.message, clone)
        raise
    dry = " (server-side dry run)" if dry_run else ""
    if to_apply is not None:
        if not dry_run:
            _record_result(chosen, connection, objects, origins, targets, started, None, clone)
        waited = f"; {len(targets)} rollout(s) finished" if targets else ""
        return f"kubectl apply{dry}: {len(objects)} object(s) applied to EKS cluster {cluster.name}{waited}."
    return f"kubectl {shlex.join(command)}{dry} succeeded on EKS cluster {cluster.name}."


def _record_result(
    chosen: settings.Settings,
    connection: kube_cluster.Connection,
    objects: list[dict[str, Any]],
    origins: list[manifests.Origin],
    targets: list[manifests.RolloutTarget],
    started: float,
    failure: str | None,
    clone: Path | None = None,
) -> None:
    """The result report of an apply: the images are read from the workloads as they are now (one
    kubectl), after the rollouts; a failed apply is recorded without reading anything."""
    images: list[tuple[str, str, str]] = []
    failed_rollout = None
    if clone is not None:
        try:
            live = diff.live(objects, kube_cluster.find_kubectl(), connection, chosen.namespace, clone)
            images = diff.running_images(live)
        except PipeError as error:  # the result is told without them; a failure's own line stays
            logger.warning("The images running could not be read: %s", error.message)
        if failure is not None:
            failed_rollout = next((t for t in targets if failure.startswith(f"The rollout of {t} ")), None)
    finished = (
        targets if failure is None else targets[: targets.index(failed_rollout)] if failed_rollout else []
    )
    milliseconds = int((time.monotonic() - started) * 1000)
    report.record(
        reports.result(
            objects,
            origins,
            connection.cluster.name,
            chosen.namespace,
            finished,
            images,
            milliseconds,
            failure,
            failed_rollout,
        )
    )


def _prepared_objects(
    path: Path,
    apply_mode: str,
    added: dict[str, str],
    clone: Path,
    kubectl: str,
    kubectl_env: Mapping[str, str],
    origins: list[manifests.Origin],
) -> list[dict[str, Any]]:
    """The objects to apply (manifest files with -f, a kustomization's output with -k, rendered into
    a private directory), with the `added` labels added to each one's metadata; `origins` gets where
    each starts (a rendered object has no line of its own: its kustomization directory)."""
    if apply_mode == "-k":
        source = path.relative_to(clone).as_posix() or "."
        rendered = kustomization.render(path, clone, kubectl, kubectl_env, private_dir.create(kubectl_env))
        objects = manifests.parse(rendered, source)
        origins[:] = [manifests.Origin(source, None)] * len(objects)
    else:
        objects = manifests.load(manifests.find(path), clone, origins)
    manifests.add_labels(objects, added)
    return objects
