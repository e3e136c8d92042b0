"""COMMAND: beanstalk in the built image, run as Bitbucket runs it, against the Elastic Beanstalk
stand-in on this machine (--network host) and S3 on the moto server: a DRY_RUN that plans, then the
deploy, each posting its Code Insights report through `host.docker.internal`."""

import contextlib
import uuid

from test.container.insights import assert_accepted, report_id
from test.container.test_image import pipe_variables, run_with_proxy
from test.support import aws
from test.support.beanstalk import BeanstalkStandIn
from test.support.beanstalk.model import Version
from test.support.tokens import make_token

STORAGE_BUCKET = f"elasticbeanstalk-{aws.REGION}-{aws.ACCOUNT}"


def test_beanstalk_plans_then_deploys_in_the_container(docker, clone, moto_server, s3, bitbucket):
    application, name = f"web-{uuid.uuid4().hex[:8]}", f"web-prod-{uuid.uuid4().hex[:8]}"
    (clone / "app").mkdir()
    (clone / "app" / "application.py").write_text("def application(environ, start):\n    return [b'v1']\n")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=STORAGE_BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    with BeanstalkStandIn(moto_server.url) as eb:
        environment = eb.state.create_environment(application, name, "v-old")
        eb.state.versions[(application, "v-old")] = Version(
            application, "v-old", "", STORAGE_BUCKET, f"{application}/v-old.zip", "etag"
        )
        variables = pipe_variables(
            moto_server,
            make_token(),
            COMMAND="beanstalk",
            AWS_ENDPOINT_URL_ELASTIC_BEANSTALK=eb.url,
            APPLICATION_NAME=application,
            ENVIRONMENT_NAME=name,
            SOURCE_PATH="app",
            VERSION_LABEL="release-9",
            WAIT_INTERVAL="0.1",
        )
        planned = run_with_proxy(docker, clone, variables | {"DRY_RUN": "true"}, bitbucket.host)
        assert planned.returncode == 0, planned.output
        assert planned.last_line.endswith("nothing changed (dry run)."), planned.output
        assert environment.version_label == "v-old" and not eb.actions("UpdateEnvironment")
        commit, plan, result = (
            variables["BITBUCKET_COMMIT"],
            report_id("beanstalk", "plan"),
            report_id("beanstalk", "result"),
        )
        assert_accepted(bitbucket, commit, {plan: ("PENDING", 2)}, planned.output)

        deployed = run_with_proxy(docker, clone, variables, bitbucket.host)
    assert deployed.returncode == 0, deployed.output
    assert environment.version_label == "release-9" and environment.health == "Green"
    reports = assert_accepted(
        bitbucket, commit, {plan: ("PENDING", 2), result: ("PASSED", 1)}, deployed.output
    )
    assert {"title": "Version running", "type": "TEXT", "value": "release-9"} in reports[result]["data"]
