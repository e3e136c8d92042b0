"""COMMAND: helm in the built image, run as Bitbucket runs it: the image's Helm (built from the Go
module proxy in the Dockerfile's helm stage) and exec plugin, against the real kube-apiserver on the
host; the sample chart from the clone, installed, diffed and uninstalled, each run posting its Code
Insights report through `host.docker.internal`."""

import re
import shutil
import subprocess

from test.container.insights import assert_accepted, report_id
from test.container.test_image import TIMEOUT_SECONDS, pipe_variables, run_with_proxy, snapshot
from test.support import aws
from test.support.checks import assert_no_secret
from test.support.run import REPO
from test.support.tokens import make_token

SAMPLE_CHART = REPO / "test" / "jobs" / "helm" / "charts" / "web"


def test_the_image_ships_the_pinned_helm(docker):
    cli, image = docker
    pinned = re.search(r"helm\.sh/helm/v4 (v[0-9.]+)", (REPO / "image/helm/go.mod").read_text()).group(1)
    completed = subprocess.run(
        [
            cli,
            "run",
            "--rm",
            "--entrypoint",
            "helm",
            image,
            "version",
            "--template",
            "{{.Version}} {{.GoVersion}}",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )
    version, go_version = completed.stdout.split()
    assert version == pinned and go_version.startswith("go1.26")
    # Stripped: no symbol table for `go version -m` to be fooled by, no debug sections.
    sections = subprocess.run(
        [cli, "run", "--rm", "--entrypoint", "python3", image, "-c",
         "d=open('/usr/local/bin/helm','rb').read(); print(b'.debug_info' in d, b'.symtab' in d)"],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True,
    )  # fmt: skip
    assert sections.stdout.split() == ["False", "False"]


def test_helm_install_diff_and_uninstall_in_the_container(
    docker, clone, moto_server, cluster_access, bitbucket
):
    cluster = cluster_access("helm-container")
    cluster.allow(aws.ROLE_ARN)
    cluster.grant_cluster_admin()
    shutil.copytree(SAMPLE_CHART, clone / "charts" / "web")
    before = snapshot(clone)
    token = make_token()
    common = {
        "COMMAND": "helm",
        "CLUSTER_NAME": "helm-container",
        "RELEASE_NAME": "web",
        "CHART": "charts/web",
        "NAMESPACE": cluster.namespace,
        "WAIT_TIMEOUT": "120",
        "DEBUG": "true",
    }
    commit = pipe_variables(moto_server, token)["BITBUCKET_COMMIT"]
    plan, result = report_id("helm", "plan"), report_id("helm", "result")
    installed = run_with_proxy(docker, clone, pipe_variables(moto_server, token, **common), bitbucket.host)
    assert installed.returncode == 0, installed.output
    assert "is at revision 1, deployed (web-1.0.0)" in installed.output
    assert cluster.object("apps", "v1", "deployments", "web")["status"]["readyReplicas"] == 2
    # An install records its plan (the objects to create) before the result.
    assert_accepted(bitbucket, commit, {plan: ("PENDING", 4), result: ("PASSED", 4)}, installed.output)

    diffed = run_with_proxy(
        docker,
        clone,
        pipe_variables(moto_server, token, **common, HELM_ACTION="diff", SET="image=nginx:1.28"),
        bitbucket.host,
    )
    assert diffed.returncode == 0, diffed.output
    assert "image web: nginx:1.27 → nginx:1.28" in diffed.output
    # The diff's plan (the one image that changes) replaced the install's; the install's result stays.
    assert_accepted(bitbucket, commit, {plan: ("PENDING", 1), result: ("PASSED", 4)}, diffed.output)

    removed = run_with_proxy(
        docker, clone, pipe_variables(moto_server, token, **common, HELM_ACTION="uninstall"), bitbucket.host
    )
    assert removed.returncode == 0, removed.output
    assert cluster.object("apps", "v1", "deployments", "web") is None
    # uninstall records no report: the publisher posts its last line as the result, replacing the install's.
    assert_accepted(bitbucket, commit, {plan: ("PENDING", 1), result: ("PASSED", 0)}, removed.output)
    for result in (installed, diffed, removed):
        assert "k8s-aws-v1." not in result.output
        assert_no_secret(result.output, token)
    after = snapshot(clone)
    # Nothing changed in the clone but shared storage (Bitbucket puts it inside the clone): the reports.
    assert {name: data for name, data in after.items() if not name.startswith(".bitbucket/")} == before
    written = sorted(name.rsplit("/", 1)[1] for name in after if name.startswith(".bitbucket/"))
    assert written == ["report-helm-plan.json", "report-helm-result.json"], written
