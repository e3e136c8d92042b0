"""COMMAND: kubectl — run kubectl against an EKS cluster with the pipe's session.

The kubeconfig holds no secret: its user is an exec plugin (pipe.jobs.kubectl.eks_token) that signs a fresh EKS
token from the credentials in kubectl's environment whenever kubectl needs one, so rollouts longer
than a token's 15 minutes keep working. Before kubectl runs, the authorization doctor checks that
the cluster knows the role and allows what the manifests need.
"""

import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

from pipe.common import private_dir, process
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.common.variables import Variable, boolean, integer, matching
from pipe.jobs import Context
from pipe.jobs.kubectl import command_rules, eks, eks_token, kubeconfig, labels, manifests
from pipe.jobs.kubectl.doctor import Doctor

SIGNS_IN = True
DEFAULT_WAIT_TIMEOUT_SECONDS = 300
# A shell would act on these; kubectl never needs them, so they mean the value expects a shell.
_SHELL_CHARACTERS = re.compile(r"[;&|`$<>\\\n]")
# kubectl's words for a wait cut short by credentials or the network rather than by the rollout.
_RESUMABLE = r"Unauthorized|provide credentials|connection (reset|refused)|unexpected EOF|GOAWAY|i/o timeout"
# Resumed waits per rollout: enough for token renewals in a long rollout, not a loop on a broken cluster.
MAX_RESUMES = 20
# A pause before resuming, so that a cluster that is briefly unreachable is not hammered.
RESUME_PAUSE_SECONDS = 1.0
_APPLY_MODES = {"-f": "-f", "--filename": "-f", "-k": "-k", "--kustomize": "-k"}


def _command_line(raw: str) -> list[str]:
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
    command_rules.check_options(words, "KUBECTL_COMMAND")
    command_rules.check_ends(words, [], "KUBECTL_COMMAND")
    return words


def _extra_argument(raw: str) -> str:
    command_rules.check_options([raw.strip()], "KUBECTL_ARGS")
    return raw.strip()


def _apply_arguments(raw: str) -> list[str]:
    words = _command_line(f"apply {raw}")[1:]
    if not words or words[-1] not in _APPLY_MODES:
        raise ValueError("must end with -f or -k, which RESOURCE_PATH follows")
    return [*words[:-1], _APPLY_MODES[words[-1]]]


VARIABLES = (
    Variable(
        "CLUSTER_NAME",
        required=True,
        parse=matching(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", "an EKS cluster name"),
        fix="set it to the name of the EKS cluster to deploy to.",
    ),
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


def _resource_path(raw: str | None, clone: Path, command: str) -> Path:
    if not raw:
        raise PipeError(
            f"RESOURCE_PATH is required for KUBECTL_COMMAND {command}: set it to a manifest file or directory."
        )
    path = private_dir.resolved(clone / raw, "RESOURCE_PATH")
    if not private_dir.inside(path, clone):
        raise PipeError("RESOURCE_PATH must be inside the repository (the clone directory).")
    if not path.exists():
        raise PipeError(f"RESOURCE_PATH {raw!r} does not exist in the repository.")
    return path


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise PipeError("kubectl is not on PATH; the image ships it, so this runs outside the image.")
    return found


def _forbidden_hint(tail: list[str]) -> str:
    for line in tail:
        match = re.search(r'User "([^"]+)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?', line)
        if match:
            user, verb, resource, group = match.groups()
            resource = f"{resource}.{group}" if group else resource
            return (
                f" Kubernetes refused user {user!r} to {verb} {resource}: grant it through an EKS access policy "
                "(aws eks associate-access-policy) or RBAC."
            )
    return ""


def uses_resource_path(command: list[str]) -> bool:
    """`apply` or `delete`, maybe with flags, but naming no files or objects: RESOURCE_PATH says what."""
    if command[0] not in ("apply", "delete"):
        return False
    flags = command[1:]
    names_files = any(word.split("=")[0] in _APPLY_MODES for word in flags)
    return not names_files and all(word.startswith("-") for word in flags)


def _arguments(values, path: Path | None) -> list[str]:
    """kubectl's arguments after the global flags: the command, its path, and the pipe's options."""
    command = values["KUBECTL_COMMAND"]
    if path is None:
        args = list(command)
    elif command[0] == "apply":
        args = ["apply", "-f", str(path), *values["KUBECTL_APPLY_ARGS"][:-1], *command[1:]]
    else:
        args = ["delete", "-f", str(path), *(["--recursive"] if path.is_dir() else []), *command[1:]]
    if values["DRY_RUN"] and command[0] in ("apply", "delete"):
        args.append("--dry-run=server")
    if values["DISABLE_VALIDATION"] and command[0] == "apply":
        args.append("--validate=false")
    if values["NAMESPACE"]:
        args += ["--namespace", values["NAMESPACE"]]
    return args + list(values["KUBECTL_ARGS"])


def _check_authorization(
    cluster, identity, workdir: Path, kubectl_env, objects: list[dict], namespace
) -> None:
    role = str(identity.role) if identity.role else str(identity.assumed_role_arn)
    token = eks_token.make_token(cluster.name, identity.region, kubectl_env)
    doctor = Doctor(cluster.endpoint, kubeconfig.write_ca(workdir, cluster.certificate_authority), token)
    try:
        doctor.whoami(cluster.name, identity.region, role)
        refused = doctor.refused(doctor.needs_for_apply(objects, namespace)) if objects else []
    finally:
        doctor.close()
    if refused:
        raise PipeError(
            f"The cluster would refuse this apply: the role may not {'; '.join(str(need) for need in refused)}. "
            "Grant it through an EKS access policy (aws eks associate-access-policy) or RBAC."
        )


def _resumable(tail: list[str]) -> bool:
    """kubectl stopped waiting because its token or connection went stale, not because the rollout failed."""
    return any(re.search(_RESUMABLE, line, re.IGNORECASE) for line in tail)


def _wait_for_rollouts(base: list[str], targets, timeout: int, kubectl_env, clone: Path) -> None:
    """`kubectl rollout status` for each target, all within one WAIT_TIMEOUT.

    A wait that kubectl gives up on for a stale token or a dropped connection is resumed by a new
    kubectl, which asks the exec plugin for a fresh token: waiting never depends on one token living
    as long as the rollout."""
    deadline = time.monotonic() + timeout
    for target in targets:
        resumed = 0
        while True:
            remaining = max(1, int(deadline - time.monotonic()))
            logger.info(
                "Waiting up to %d s for the rollout of %s in namespace %s.",
                remaining,
                target,
                target.namespace,
            )
            args = [
                *base,
                "rollout",
                "status",
                str(target),
                "--namespace",
                target.namespace,
                f"--timeout={remaining}s",
            ]
            status, tail = process.run(args, kubectl_env, clone)
            if status == 0:
                break
            if _resumable(tail) and resumed < MAX_RESUMES and deadline - time.monotonic() > 1:
                resumed += 1
                logger.warning(
                    "kubectl lost its token or connection while waiting; resuming with a fresh token."
                )
                continue
            raise PipeError(
                f"The rollout of {target} in namespace {target.namespace} did not finish within WAIT_TIMEOUT "
                f"({timeout} s in all): see kubectl's message above.",
                exit_status=status,
            )


class Prepared(NamedTuple):
    path: Path | None
    kubectl: str
    objects: list[dict]


def check_before_sign_in(values, env) -> Prepared:
    """RESOURCE_PATH, the files the command line names, kubectl itself and the manifest files (read,
    checked and labelled): all before the sign-in (kustomize's output only after it)."""
    command = values["KUBECTL_COMMAND"]
    clone = private_dir.clone_dir(env)
    private_dir.base(env)
    needs_path = uses_resource_path(command)
    path = _resource_path(values["RESOURCE_PATH"], clone, command[0]) if needs_path else None
    command_rules.check_ends(command, values["KUBECTL_ARGS"], "KUBECTL_ARGS")
    command_rules.check_files(command, clone, "KUBECTL_COMMAND")
    command_rules.check_files(values["KUBECTL_ARGS"], clone, "KUBECTL_ARGS")
    kubectl = _kubectl()
    from_files = needs_path and command[0] == "apply" and values["KUBECTL_APPLY_ARGS"][-1] != "-k"
    objects: list[dict] = _prepared_objects(values, env, path, clone, kubectl, env) if from_files else []
    return Prepared(path, kubectl, objects)


def run(context: Context) -> str:
    values, env, identity = context.values, context.env, context.identity
    assert identity is not None
    command = values["KUBECTL_COMMAND"]
    clone = private_dir.clone_dir(env)
    is_apply = uses_resource_path(command) and command[0] == "apply"
    path, kubectl, objects = context.checked or check_before_sign_in(values, env)
    from_files = is_apply and values["KUBECTL_APPLY_ARGS"][-1] != "-k"

    cluster = eks.describe(identity, values["CLUSTER_NAME"])
    logger.info("EKS cluster %s (Kubernetes %s) at %s.", cluster.name, cluster.version, cluster.endpoint)
    workdir = private_dir.create(env)
    config = kubeconfig.write(
        workdir, cluster.name, identity.region, cluster.endpoint, cluster.certificate_authority
    )
    kubectl_env = identity.environment(env) | {"KUBECONFIG": str(config)}

    if is_apply:
        assert path is not None
        if not from_files:
            objects = _prepared_objects(values, env, path, clone, kubectl, kubectl_env)
        path = manifests.write(objects, workdir / "manifests.yaml")
    args = [kubectl, "--cache-dir", str(workdir / "cache"), *_arguments(values, path)]

    _check_authorization(cluster, identity, workdir, kubectl_env, objects, values["NAMESPACE"])

    status, tail = process.run(args, kubectl_env, clone)
    if status != 0:
        raise PipeError(
            f"kubectl {command[0]} failed (exit status {status}).{_forbidden_hint(tail)}", exit_status=status
        )

    wait = values["WAIT"] if values["WAIT"] is not None else is_apply
    targets = (
        manifests.rollout_targets(objects, values["NAMESPACE"]) if wait and not values["DRY_RUN"] else []
    )
    _wait_for_rollouts(args[:3], targets, values["WAIT_TIMEOUT"], kubectl_env, clone)
    if is_apply:
        dry = " (server-side dry run)" if values["DRY_RUN"] else ""
        waited = f"; {len(targets)} rollout(s) finished" if targets else ""
        return f"kubectl apply{dry}: {len(objects)} object(s) applied to EKS cluster {cluster.name}{waited}."
    return f"kubectl {shlex.join(command)} succeeded on EKS cluster {cluster.name}."


def _prepared_objects(values, env, path: Path, clone: Path, kubectl: str, kubectl_env) -> list[dict]:
    """The objects to apply, with the default and LABELS labels added to each one's metadata."""
    source = str(path.relative_to(clone)) or "."
    if values["KUBECTL_APPLY_ARGS"][-1] == "-k":
        completed = subprocess.run(
            [kubectl, "kustomize", str(path)],
            env=kubectl_env,
            cwd=clone,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise PipeError(f"kubectl kustomize {source} failed: {completed.stderr.strip()}")
        objects = manifests.parse(completed.stdout, source)
    else:
        objects = manifests.load(manifests.find(path), clone)
    added = labels.defaults(env) if values["WITH_DEFAULT_LABELS"] else {}
    added |= dict(values["LABELS"])
    manifests.add_labels(objects, added)
    return objects
