import json
import logging

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from pipe.common.errors import PipeError
from pipe.jobs.cdk import bootstrap as cdk_bootstrap

WHERE = "aws://123456789012/eu-west-1"


def write(path, document):
    path.write_text(json.dumps(document))


def test_qualifier_comes_from_cdk_context_then_cdk_json_then_cdk_context_json(tmp_path):
    key = cdk_bootstrap.QUALIFIER_KEY
    assert cdk_bootstrap.qualifier(tmp_path, []) == "hnb659fds"
    write(tmp_path / "cdk.context.json", {key: "fromcache"})
    assert cdk_bootstrap.qualifier(tmp_path, []) == "fromcache"
    write(tmp_path / "cdk.json", {"app": "node bin/app.js", "context": {key: "fromjson"}})
    assert cdk_bootstrap.qualifier(tmp_path, []) == "fromjson"
    assert cdk_bootstrap.qualifier(tmp_path, [("stage", "prod"), (key, "fromvariable")]) == "fromvariable"


def test_unreadable_context_files_leave_the_default(tmp_path):
    (tmp_path / "cdk.json").write_text("{broken")
    write(tmp_path / "cdk.context.json", ["not", "an", "object"])
    assert cdk_bootstrap.qualifier(tmp_path, []) == cdk_bootstrap.DEFAULT_QUALIFIER


@pytest.fixture
def ssm():
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-1")


def test_a_bootstrapped_environment_reports_its_version(ssm):
    ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
    assert cdk_bootstrap.check(ssm, "hnb659fds", WHERE) == "30"


def test_a_missing_parameter_says_to_run_bootstrap(ssm):
    with pytest.raises(PipeError) as raised:
        cdk_bootstrap.check(ssm, "team42", WHERE)
    assert raised.value.message == (
        f"{WHERE} is not bootstrapped for the CDK (qualifier team42: no SSM parameter "
        "/cdk-bootstrap/team42/version). Run the pipe once with CDK_COMMAND: bootstrap, then deploy."
    )


def test_access_denied_is_a_warning_not_a_failure(caplog):
    client = boto3.client("ssm", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber, caplog.at_level(logging.WARNING):
        stubber.add_client_error("get_parameter", "AccessDeniedException", http_status_code=400)
        assert cdk_bootstrap.check(client, "hnb659fds", WHERE) is None
    assert "(AccessDeniedException); the CDK CLI checks it during the deploy" in caplog.text
