"""End to end: COMMAND=helm as a process, Helm 4 built from the Go module proxy, moto's EKS, and the
real Kubernetes control plane the kubectl tests use (test/support/controlplane); charts from the clone,
a chart repository over HTTPS and an OCI registry (test/support/helm)."""

import base64
import json
import shutil
import time
from pathlib import Path

import pytest

from test.support import aws
from test.support import helm as bench
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.helm.registry import OciRegistry
from test.support.helm.repository import ChartRepository
from test.support.interrupts import Killed

KILL_WAIT_SECONDS = 60


def releases(cluster, name="web"):
    """Helm's release records (Secrets) in the test's namespace, newest last: (revision, status)."""
    found = []
    for secret in cluster.list("", "v1", "secrets"):
        labels = secret["metadata"].get("labels") or {}
        if labels.get("owner") == "helm" and labels.get("name") == name:
            found.append((int(labels["version"]), labels["status"]))
    return sorted(found)


def image(cluster):
    deployment = cluster.object("apps", "v1", "deployments", "web")
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"] if deployment else None


def test_install_then_upgrade_to_revision_two(run, helm_env, cluster):
    result = run(helm_env)
    assert result.returncode == 0, result.output
    assert "is at revision 1, deployed (web-1.0.0)" in result.last_line
    deployment = cluster.object("apps", "v1", "deployments", "web")
    assert deployment["status"]["readyReplicas"] == 2
    assert cluster.object("", "v1", "configmaps", "web-lib")["data"] == {"FROM": "lib"}  # the dependency
    assert cluster.object("", "v1", "configmaps", "web-before-deploy")["data"]["revision"] == "1"  # the hook
    # No Bitbucket metadata in the values, so none on the objects either.
    assert not any(key.startswith("bitbucket.org/") for key in deployment["metadata"].get("labels", {}))
    assert "4 to add, 0 to change, 0 to remove" in result.output  # the hook is listed, not added
    assert (
        "ConfigMap web-before-deploy (namespace" in result.output
        and "hook, runs on pre-install" in result.output
    )

    upgraded = run(helm_env | {"SET_COUNT": "2", "SET_0": "image=nginx:1.28", "SET_1": "greeting=hi, there"})
    assert upgraded.returncode == 0, upgraded.output
    assert "is at revision 2, deployed" in upgraded.last_line
    assert image(cluster) == "nginx:1.28"
    # --set-literal: the comma stays in the value.
    assert cluster.object("", "v1", "configmaps", "web-settings")["data"]["GREETING"] == "hi, there"
    assert releases(cluster) == [(1, "superseded"), (2, "deployed")]
    assert (
        "changed Deployment web" in upgraded.output
        and "image web: nginx:1.27 → nginx:1.28" in upgraded.output
    )


def test_a_failing_upgrade_is_rolled_back_and_names_the_workload(run, helm_env, cluster, clone_dir):
    assert run(helm_env).returncode == 0
    (clone_dir / "stuck.yaml").write_text("unschedulable: true\n")
    result = run(helm_env | {"VALUES": "stuck.yaml", "WAIT_TIMEOUT": "8"})
    line = assert_one_clear_failure(
        result, f"Deployment web in namespace {cluster.namespace} did not become ready"
    )
    assert "status InProgress" in line and "rolled the release back" in line and "\\n" not in line
    assert releases(cluster)[-1][1] == "deployed"
    assert (
        "nodeSelector" not in cluster.object("apps", "v1", "deployments", "web")["spec"]["template"]["spec"]
    )


def test_diff_lists_the_objects_and_masks_secret_data(run, helm_env, cluster):
    assert run(helm_env).returncode == 0
    changed_password = "changed-password-value-0042"
    result = run(
        helm_env
        | {
            "HELM_ACTION": "diff",
            "SET_COUNT": "2",
            "SET_0": f"password={changed_password}",
            "SET_1": "replicas=3",
        }
        | {"SET_TYPED": "true"}
    )
    assert result.returncode == 0, result.output
    assert "changed Secret web-credentials" in result.output
    assert "data.password (value hidden)" in result.output
    assert "changed Deployment web" in result.output and "replicas 2 → 3" in result.output
    assert "unchanged ConfigMap web-settings" in result.output
    assert "0 to add, 2 to change, 0 to remove" in result.last_line
    assert_no_secret(result.output, changed_password, "initial-password-value")
    assert releases(cluster) == [(1, "deployed")]  # nothing changed
    assert cluster.object("apps", "v1", "deployments", "web")["spec"]["replicas"] == 2


def test_rollback_to_a_revision_then_uninstall(run, helm_env, cluster):
    assert run(helm_env).returncode == 0
    assert run(helm_env | {"SET": "image=nginx:1.28"}).returncode == 0
    result = run(helm_env | {"HELM_ACTION": "rollback", "ROLLBACK_REVISION": "1"})
    assert result.returncode == 0, result.output
    assert "back at revision 1's chart as revision 3, deployed" in result.last_line
    assert image(cluster) == "nginx:1.27"
    missing = run(helm_env | {"HELM_ACTION": "rollback", "ROLLBACK_REVISION": "9"})
    assert_one_clear_failure(missing, "Release web has no revision 9")

    removed = run(helm_env | {"HELM_ACTION": "uninstall"})
    assert removed.returncode == 0, removed.output
    assert cluster.object("apps", "v1", "deployments", "web") is None
    assert releases(cluster) == []


def test_template_errors_name_the_file_and_line(run, helm_env, clone_dir, cluster):
    template = clone_dir / "charts" / "web" / "templates" / "configmap.yaml"
    template.write_text(template.read_text() + "  BROKEN: {{ .Values.greeting | nosuchfunction }}\n")
    result = run(helm_env)
    line = assert_one_clear_failure(result, "The chart does not render: web/templates/configmap.yaml line 7")
    assert "nosuchfunction" in line


def test_values_that_break_the_schema_name_the_path(run, helm_env, cluster):
    # --set-literal keeps "3" a string, which the schema refuses for an integer.
    result = run(helm_env | {"SET": "replicas=3"})
    line = assert_one_clear_failure(result, "The values do not meet the chart's values.schema.json")
    assert "/replicas" in line


def test_a_chart_from_the_repository_pinned_with_credentials(
    run, helm_env, cluster, helm_bin, tools_env, certificates, tmp_path
):
    served = tmp_path / "served"
    for version in ("1.0.0", "1.1.0"):
        chart = tmp_path / "src" / version / "web"
        shutil.copytree(helm_env["BITBUCKET_CLONE_DIR"] + "/charts/web", chart)
        (chart / "Chart.yaml").write_text(
            (chart / "Chart.yaml").read_text().replace("version: 1.0.0", f"version: {version}")
        )
        bench.package(helm_bin, tools_env, chart, served)
    password = "repo-Password-0123456789"
    with ChartRepository(served, certificates, auth=("deployer", password)) as repository:
        bench.helm(helm_bin, tools_env, "repo", "index", str(served), "--url", repository.url)
        env = helm_env | {
            "CHART": "bench/web",
            "CHART_REPOSITORY": repository.url,
            "CHART_VERSION": "1.0.0",
            "CHART_REPOSITORY_USERNAME": "deployer",
            "CHART_REPOSITORY_PASSWORD": password,
        }
        result = run(env)
        assert result.returncode == 0, result.output
        assert "(web-1.0.0)" in result.last_line  # pinned, not the newest 1.1.0
        missing = run(env | {"CHART_VERSION": "9.9.9"})
        assert_one_clear_failure(missing, "Chart web has no version 9.9.9 in the repository")
        wrong = "wrong-Password-9876543210"
        refused = run(env | {"CHART_REPOSITORY_PASSWORD": wrong})
        line = assert_one_clear_failure(
            refused, "The chart repository refused CHART_REPOSITORY_USERNAME and CHART_REPOSITORY_PASSWORD"
        )
        assert line.endswith("(helm repo add, exit status 1): see its message above."), line
        # Helm's own words (the 401) framed above the line, as every program's error output.
        assert any(shown.startswith("│ ") and "401" in shown for shown in refused.output.splitlines())
        assert_no_secret(refused.output, wrong)
        for text in (
            result.output,
            missing.output,
            refused.output,
            json.dumps([s for s in cluster.list("", "v1", "secrets")]),
        ):
            assert_no_secret(text, password, base64.b64encode(password.encode()).decode())
        assert any("Authorization: Basic" in request for request in repository.received)


def test_a_chart_from_the_oci_registry(run, helm_env, cluster, helm_bin, tools_env, certificates, tmp_path):
    password = "registry-Token-0123456789"
    registry = OciRegistry(helm_bin, certificates, tmp_path / "registry", "deployer", password)
    try:
        archive = bench.package(helm_bin, tools_env, _chart(helm_env), tmp_path / "pkg")
        bench.helm(
            helm_bin,
            tools_env,
            "registry",
            "login",
            registry.host,
            "--username",
            "deployer",
            "--password-stdin",
            stdin=password,
        )
        bench.helm(helm_bin, tools_env, "push", str(archive), f"oci://{registry.host}/charts")
        env = helm_env | {
            "CHART": f"oci://{registry.host}/charts/web",
            "CHART_VERSION": "1.0.0",
            "CHART_REPOSITORY_USERNAME": "deployer",
            "CHART_REPOSITORY_PASSWORD": password,
        }
        result = run(env)
        assert result.returncode == 0, result.output
        assert "(web-1.0.0)" in result.last_line
        assert_no_secret(result.output, password)
    finally:
        registry.close()


def _chart(helm_env):
    return Path(helm_env["BITBUCKET_CLONE_DIR"]) / "charts" / "web"


def test_a_killed_upgrade_is_pending_until_recovered(run, helm_env, cluster, clone_dir):
    assert run(helm_env).returncode == 0
    (clone_dir / "stuck.yaml").write_text("unschedulable: true\n")
    killed = Killed(helm_env | {"VALUES": "stuck.yaml", "WAIT_TIMEOUT": "300"}, clone_dir)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while releases(cluster)[-1][1] != "pending-upgrade":  # polling a state with a deadline
        assert killed.running() and time.monotonic() < deadline, "the upgrade never became pending"
        time.sleep(0.2)
    killed.kill()
    killed.check_left_behind("helm")
    assert releases(cluster)[-1] == (2, "pending-upgrade")

    refused = run(helm_env)
    line = assert_one_clear_failure(refused, "is stuck in a pending state")
    assert "RECOVER_PENDING" in line

    recovered = run(helm_env | {"RECOVER_PENDING": "true"})
    assert recovered.returncode == 0, recovered.output
    assert "rolling back to revision 1, the last deployed" in recovered.output
    assert releases(cluster)[-1] == (4, "deployed")


@pytest.mark.parametrize("action", ["diff", "upgrade"])
def test_dry_run_and_diff_change_nothing(run, helm_env, cluster, action):
    result = run(helm_env | {"HELM_ACTION": action, "DRY_RUN": "true"})
    assert result.returncode == 0, result.output
    assert "4 to add, 0 to change, 0 to remove" in result.last_line
    assert releases(cluster) == []
    assert cluster.object("apps", "v1", "deployments", "web") is None


def test_an_unmapped_role_gets_the_doctors_access_entry_commands(run, helm_env, eks_cluster):
    result = run(helm_env)  # the role has no access entry on this cluster
    assert_one_clear_failure(result, f"EKS cluster 'prod' does not know role {aws.ROLE_ARN}")
    assert f"aws eks create-access-entry --region {aws.REGION} --cluster-name prod" in result.output
    assert releases(eks_cluster) == []


def test_a_role_that_may_not_create_deployments_is_refused_before_helm_runs(run, helm_env, eks_cluster):
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant(
        "deployer",
        [{"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["get", "create", "patch"]}],
    )
    result = run(helm_env)
    line = assert_one_clear_failure(result, "The cluster would refuse this apply")
    assert f"create deployments.apps in namespace {eks_cluster.namespace}" in line
    assert releases(eks_cluster) == []


def test_the_steps_helm_variables_do_not_reach_helm_and_labels_go_on_the_release(run, helm_env, cluster):
    # The step's HELM_DRIVER would keep the release in memory only, its HELM_NAMESPACE elsewhere.
    result = run(
        helm_env | {"HELM_DRIVER": "memory", "HELM_NAMESPACE": "kube-system", "WITH_DEFAULT_LABELS": "true"}
    )
    assert result.returncode == 0, result.output
    assert releases(cluster) == [(1, "deployed")]
    [record] = [
        s
        for s in cluster.list("", "v1", "secrets")
        if (s["metadata"].get("labels") or {}).get("owner") == "helm"
    ]
    assert record["metadata"]["labels"]["bitbucket.org/bitbucket_commit"] == "4f2c1a9d0b8e"
    deployment = cluster.object("apps", "v1", "deployments", "web")
    assert not any(key.startswith("bitbucket.org/") for key in deployment["metadata"].get("labels", {}))


def test_a_chart_archive_in_the_clone_with_an_archived_dependency(
    run, helm_env, cluster, helm_bin, tools_env, clone_dir
):
    chart = clone_dir / "charts" / "web"
    lib = bench.package(helm_bin, tools_env, chart / "charts" / "lib", chart / "charts")
    shutil.rmtree(chart / "charts" / "lib")  # the dependency only as charts/lib-0.1.0.tgz
    archive = bench.package(helm_bin, tools_env, chart, clone_dir / "dist")
    assert lib.name == "lib-0.1.0.tgz"
    result = run(helm_env | {"CHART": str(archive.relative_to(clone_dir))})
    assert result.returncode == 0, result.output
    assert cluster.object("", "v1", "configmaps", "web-lib")["data"] == {"FROM": "lib"}
