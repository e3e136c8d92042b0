"""COMMAND: cdk in the built image, run as Bitbucket runs it: the image's pinned CDK CLI and Node.js
synthesize the sample app, bootstrap an environment on the moto server and deploy the stack, each
run posting its Code Insights report through `host.docker.internal`."""

import json
import shutil

import pytest

from test.container.insights import assert_accepted, report_id
from test.container.test_image import pipe_variables, run_with_proxy
from test.support import aws
from test.support.cdk import moto_fixes, npm_cache
from test.support.checks import assert_no_secret
from test.support.tokens import make_token

# A region of its own: the moto server is shared with every other test of the session.
REGION = "ca-central-1"
STACK = "ContainerSampleStack"


@pytest.fixture
def cdk_clone(tmp_path):
    """A clone holding the sample app with its node_modules (copied from the cache, so the container
    needs no registry), as after an earlier `npm ci` step."""
    clone = tmp_path / "clone"
    app = clone / "infra"
    shutil.copytree(npm_cache.SAMPLE_APP, app, ignore=shutil.ignore_patterns("cdk.out", "node_modules"))
    shutil.copytree(npm_cache.installed(npm_cache.SAMPLE_APP), app / "node_modules", symlinks=True)
    return clone


def cdk_variables(moto_server, **extra: str) -> dict[str, str]:
    port = moto_server.url.rsplit(":", 1)[1]
    return pipe_variables(
        moto_server,
        make_token(),
        COMMAND="cdk",
        AWS_DEFAULT_REGION=REGION,
        CDK_APP_PATH="infra",
        CDK_CONTEXT=f"stackName={STACK}",
        AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION=f"http://localhost:{port}",
        **extra,
    )


def test_cdk_synth_bootstrap_and_deploy_in_the_container(docker, cdk_clone, moto_server, bitbucket):
    cli_pin = json.loads((npm_cache.CLI_PACKAGE / "package.json").read_text())["dependencies"]["aws-cdk"]
    synth = run_with_proxy(docker, cdk_clone, cdk_variables(moto_server, CDK_COMMAND="synth"), bitbucket.host)
    assert synth.returncode == 0, synth.output
    assert f"CDK CLI: aws-cdk {cli_pin} (from PATH, /opt/aws-cdk/node_modules/.bin/cdk)" in synth.output
    assert "Type: AWS::S3::Bucket" in synth.output
    assert (cdk_clone / "infra" / "cdk.out" / f"{STACK}.template.json").is_file()

    with moto_fixes.applied():
        bootstrap = run_with_proxy(
            docker, cdk_clone, cdk_variables(moto_server, CDK_COMMAND="bootstrap"), bitbucket.host
        )
        assert bootstrap.returncode == 0, bootstrap.output
        session = "bitbucket-my-repo-42-container-cdk"
        variables = cdk_variables(moto_server, DEBUG="true", AWS_ROLE_SESSION_NAME=session)
        deploy = run_with_proxy(docker, cdk_clone, variables, bitbucket.host)
    assert deploy.returncode == 0, deploy.output
    # The deploy's result replaced synth's and bootstrap's (one report per job, environment and phase).
    reports = assert_accepted(
        bitbucket, variables["BITBUCKET_COMMIT"], {report_id("cdk", "result"): ("PASSED", 3)}, deploy.output
    )
    assert STACK in repr(reports)
    cloudformation = aws.client("cloudformation", moto_server.url, REGION)
    [stack] = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert f"  {STACK}.Message = first version" in deploy.stdout
    shared = cdk_clone / ".bitbucket/pipelines/generated/pipeline/pipes/aws-oidc-deploy/cdk-outputs.json"
    assert json.loads(shared.read_text())[STACK]["Message"] == "first version"
    # Nothing secret in the output nor in what the run wrote to the clone (cdk.out, the outputs file).
    written = [p for p in cdk_clone.rglob("*") if p.is_file() and "node_modules" not in p.parts]
    texts = [deploy.output, repr(reports)] + [p.read_text(errors="replace") for p in written]
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == session]
    assert issued
    for role in issued:
        for text in texts:
            assert_no_secret(
                text, variables["BITBUCKET_STEP_OIDC_TOKEN"], role.secret_access_key, role.session_token
            )
