"""What DRY_RUN does to a kubectl command line (pipe.jobs.kubectl.command_rules.dry_run_arguments):
every command that changes the cluster is a server-side dry run or refused, never run for real."""

import pytest

from pipe.common.errors import PipeError
from pipe.jobs.kubectl.command_rules import DRY_RUN_FLAG, dry_run_arguments

# Each kubectl command that changes the cluster and has --dry-run (kubectl 1.36 `--help`).
CHANGES = [
    "apply",
    "delete",
    "delete deployment web",
    "create configmap extra --from-literal=a=b",
    "replace -f k8s/app/deployment.yaml",
    "patch deployment web -p {}",
    "label deployment web tier=front",
    "annotate deployment web note=x",
    "scale deployment web --replicas=5",
    "set image deployment/web web=nginx:1.28",
    "expose deployment web --port=80",
    "autoscale deployment web --max=3",
    "run one-off --image=busybox",
    "taint nodes node-1 dedicated=x:NoSchedule",
    "drain node-1",
    "cordon node-1",
    "uncordon node-1",
    "rollout undo deployment/web",
    "auth reconcile -f rbac.yaml",
]
READS = [
    "get pods",
    "describe deployment web",
    "logs deployment/web",
    "top pods",
    "explain pods",
    "version",
    "api-resources",
    "cluster-info",
    "diff -f k8s",
    "wait --for=condition=Available deployment/web",
    "rollout status deployment/web",
    "rollout history deployment/web",
    "auth can-i create deployments",
]
# Changes kubectl cannot dry-run, and commands the pipe does not know: refused, not run for real.
REFUSED = [
    "rollout restart deployment/web",
    "rollout pause deployment/web",
    "rollout resume deployment/web",
    "certificate approve csr-1",
    "exec web-0 -- rm -rf /data",
    "cp local.txt web-0:/data",
    "debug web-0 --image=busybox",
    "my-plugin do-something",
]


@pytest.mark.parametrize("command", CHANGES)
def test_a_change_becomes_a_server_side_dry_run(command):
    assert dry_run_arguments(command.split()) == [DRY_RUN_FLAG]


@pytest.mark.parametrize("command", READS)
def test_a_command_that_only_reads_runs_as_it_is(command):
    assert dry_run_arguments(command.split()) == []


@pytest.mark.parametrize("command", REFUSED)
def test_a_change_without_a_dry_run_is_refused(command):
    name = " ".join(word for word in command.split()[:2] if not word.startswith("-"))
    with pytest.raises(PipeError, match="has no server-side dry run, so it would run for real") as raised:
        dry_run_arguments(command.split())
    assert f"kubectl {name.split()[0]}" in str(raised.value)
