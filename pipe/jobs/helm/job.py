"""COMMAND: helm — a Helm 4 release on an EKS cluster with the pipe's session.

Cluster access is the kubectl job's (pipe.kube): a kubeconfig whose user is the in-process token
plugin, and the authorization doctor before a change. The chart Helm gets is always a copy in the
private directory, made with the pipe's limits (pipe.jobs.helm.chart, .sources). The values are the
user's own: VALUES files from the clone and SET items, nothing of Bitbucket's.

  read_settings  the variables, the chart and values paths in the clone (before any AWS call)
  run            connect → the chart → render → authorization → pending release → plan → action → result
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pipe.common import private_dir
from pipe.common.variables import Variable, boolean, choice, integer, matching
from pipe.jobs import SignedIn
from pipe.jobs.helm import actions, settings
from pipe.jobs.helm.settings import ACTIONS
from pipe.kube import cluster as kube_cluster

SIGNS_IN: Literal[True] = True
DEFAULT_WAIT_TIMEOUT_SECONDS = 300
DEFAULT_HISTORY_MAX = 10

VARIABLES = (
    kube_cluster.CLUSTER_NAME,
    Variable(
        "RELEASE_NAME",
        required=True,
        parse=settings.parse_release,
        fix="set it to the Helm release to install, upgrade, diff, roll back or uninstall.",
    ),
    Variable("HELM_ACTION", parse=choice(ACTIONS), default="upgrade"),
    Variable("CHART"),
    Variable("CHART_VERSION", parse=settings.parse_version),
    Variable("CHART_REPOSITORY", parse=settings.parse_repository),
    Variable("CHART_REPOSITORY_USERNAME"),
    Variable("CHART_REPOSITORY_PASSWORD", secret=True),
    Variable("VALUES", is_list=True),
    Variable("SET", is_list=True, parse=settings.parse_set_item, split=settings.split_set),
    Variable("SET_TYPED", parse=boolean, default=False),
    Variable(
        "NAMESPACE",
        parse=matching(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a Kubernetes namespace name"),
        default="default",
    ),
    Variable("CREATE_NAMESPACE", parse=boolean, default=False),
    Variable("WAIT", parse=boolean, default=True),
    Variable("WAIT_TIMEOUT", parse=integer(1, 86400, "seconds"), default=DEFAULT_WAIT_TIMEOUT_SECONDS),
    Variable("ROLLBACK_ON_FAILURE", parse=boolean, default=True),
    Variable("HISTORY_MAX", parse=integer(0, 1000, "revisions"), default=DEFAULT_HISTORY_MAX),
    Variable("ROLLBACK_REVISION", parse=integer(1, 1_000_000, "a revision number")),
    Variable("RECOVER_PENDING", parse=boolean, default=False),
    Variable("WITH_DEFAULT_LABELS", parse=boolean, default=False),
    Variable("DRY_RUN", parse=boolean, default=False),
)


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> settings.Settings:
    private_dir.base(env)  # a clone that covers every temporary directory, said before any path in it
    chosen = settings.read(values, env)
    actions.find_programs()
    return chosen


def run(context: SignedIn[settings.Settings]) -> str:
    chosen, env, identity = context.settings, context.env, context.identity
    clone = private_dir.clone_dir(env)
    connection = kube_cluster.connect(identity, env, chosen.cluster)
    helm = actions.Helm(chosen, connection, clone)
    if chosen.action == "rollback":
        return helm.rollback(identity)
    if chosen.action == "uninstall":
        return helm.uninstall(identity)
    chart_dir: Path = helm.chart(env)
    rendered = helm.render(chart_dir)
    helm.check_authorization(identity, rendered.objects + rendered.hooks)
    if chosen.action == "diff" or chosen.dry_run:
        return helm.plan(rendered, final=True)
    helm.settle_pending()
    helm.plan(rendered, final=False)
    return helm.upgrade(chart_dir, rendered)
