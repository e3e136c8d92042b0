"""Access to an EKS cluster as the kubectl and helm jobs need it: the cluster described, a kubeconfig
whose user is the pipe's token plugin (no secret in it), the environment a Kubernetes program gets,
the authorization doctor before a change, and rollout waits that outlive a token."""

import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pipe.common import private_dir, process
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.common.variables import Variable, matching
from pipe.kube import eks, eks_token, kubeconfig, manifests
from pipe.kube.doctor import Doctor
from pipe.signin import Identity

# The EKS cluster both Kubernetes jobs deploy to: one variable, EKS's rule for a cluster's name.
CLUSTER_NAME = Variable(
    "CLUSTER_NAME",
    required=True,
    parse=matching(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", "an EKS cluster name"),
    fix="set it to the name of the EKS cluster to deploy to.",
)

# kubectl's words for a wait cut short by credentials or the network rather than by the rollout.
_RESUMABLE = r"Unauthorized|provide credentials|connection (reset|refused)|unexpected EOF|GOAWAY|i/o timeout"
# Resumed waits per rollout: enough for token renewals in a long rollout, not a loop on a broken cluster.
MAX_RESUMES = 20
# A pause before resuming, so that a cluster that is briefly unreachable is not hammered.
RESUME_PAUSE_SECONDS = 1.0
# Deadline of a rollout wait (docs/security.md: limits): its share of WAIT_TIMEOUT and this grace.
ROLLOUT_GRACE_SECONDS = 30
# Prefixes of the variables kubectl reads from its environment (and of the pipe's own, which it ignores).
_KUBECTL_OWN = ("KUBECTL_", "KUBE_", "KUBECONFIG", "KUBERC", "KUBECACHEDIR")


def kubectl_environment(env: Mapping[str, str], config: Path) -> dict[str, str]:
    """What kubectl gets: `env` without the variables kubectl itself reads to change what it runs or
    where it connects (KUBECTL_EXTERNAL_DIFF names a program `kubectl diff` runs; KUBE_EDITOR, its
    feature switches), the pipe's kubeconfig, and KUBERC=off: a kuberc file's default options would
    reach kubectl without the allow-list."""
    kept = {name: value for name, value in env.items() if not name.upper().startswith(_KUBECTL_OWN)}
    return kept | {"KUBECONFIG": str(config), "KUBERC": "off"}


def find_kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise PipeError("kubectl is not on PATH; the image ships it, so this runs outside the image.")
    return found


def forbidden_hint(tail: list[str]) -> str:
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


def check_authorization(
    cluster: Any,
    identity: Any,
    workdir: Path,
    kubectl_env: Mapping[str, str],
    objects: list[dict[str, Any]],
    namespace: str | None,
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


def resumable(tail: list[str]) -> bool:
    """kubectl stopped waiting because its token or connection went stale, not because the rollout failed."""
    return any(re.search(_RESUMABLE, line, re.IGNORECASE) for line in tail)


def wait_for_rollouts(
    base: list[str],
    targets: list[manifests.RolloutTarget],
    timeout: int,
    kubectl_env: Mapping[str, str],
    clone: Path,
) -> None:
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
            status, tail = process.run(
                args,
                kubectl_env,
                clone,
                remaining + ROLLOUT_GRACE_SECONDS,
                f"WAIT_TIMEOUT's share and a {ROLLOUT_GRACE_SECONDS} s grace",
            )
            if status == 0:
                break
            if resumable(tail) and resumed < MAX_RESUMES and deadline - time.monotonic() > 1:
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


class Connection(NamedTuple):
    """A cluster ready for kubectl or helm: what EKS says of it, the private directory, the kubeconfig,
    and the environment those programs run with (credentials for the token plugin, no KUBE* of the step)."""

    cluster: Any
    workdir: Path
    kubeconfig: Path
    environment: dict[str, str]


def connect(identity: Identity, env: Mapping[str, str], cluster_name: str) -> Connection:
    cluster = eks.describe(identity, cluster_name)
    logger.info("EKS cluster %s (Kubernetes %s) at %s.", cluster.name, cluster.version, cluster.endpoint)
    workdir = private_dir.create(env)
    config = kubeconfig.write(
        workdir, cluster.name, identity.region, cluster.endpoint, cluster.certificate_authority
    )
    return Connection(cluster, workdir, config, kubectl_environment(identity.environment(env), config))
