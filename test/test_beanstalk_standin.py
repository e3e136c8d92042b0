"""The Elastic Beanstalk stand-in answers boto3 as Elastic Beanstalk does: its XML parses, its
errors carry AWS's codes and words, and it refuses what AWS refuses."""

import boto3
import pytest
from botocore.exceptions import ClientError

from test.support import aws
from test.support.beanstalk import FAIL, BeanstalkStandIn


@pytest.fixture
def credentials(moto_server):
    sts = aws.client("sts", moto_server.url)
    return sts.assume_role(RoleArn=aws.ROLE_ARN, RoleSessionName="standin-test")["Credentials"]


def client(service, url, credentials, **overrides):
    settings = {
        "region_name": aws.REGION,
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    } | overrides
    return boto3.client(service, endpoint_url=url, **settings)


@pytest.fixture
def standin(moto_server):
    with BeanstalkStandIn(moto_server.url) as eb:
        eb.state.create_environment("shop", "shop-prod")
        yield eb


@pytest.fixture
def eb(standin, credentials):
    return client("elasticbeanstalk", standin.url, credentials)


def code_and_message(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_storage_location_is_made_on_moto_s3(eb, moto_server, credentials):
    bucket = eb.create_storage_location()["S3Bucket"]
    assert bucket == f"elasticbeanstalk-{aws.REGION}-{aws.ACCOUNT}"
    client("s3", moto_server.url, credentials).head_bucket(Bucket=bucket)


def test_a_version_needs_its_bundle_on_s3_and_a_label_is_made_once(eb, moto_server, credentials):
    bucket = eb.create_storage_location()["S3Bucket"]
    bundle = {"S3Bucket": bucket, "S3Key": "shop/missing.zip"}
    create = lambda: eb.create_application_version(  # noqa: E731
        ApplicationName="shop", VersionLabel="v1", SourceBundle=bundle
    )
    assert code_and_message(create) == (
        "InvalidParameterCombination",
        f"Unable to download from S3 location (Bucket: {bucket}  Key: shop/missing.zip). Reason: Not Found",
    )
    client("s3", moto_server.url, credentials).put_object(Bucket=bucket, Key="shop/missing.zip", Body=b"PK")
    version = create()["ApplicationVersion"]
    assert version["VersionLabel"] == "v1" and version["SourceBundle"] == bundle
    assert code_and_message(create) == ("InvalidParameterValue", "Application Version v1 already exists.")
    found = eb.describe_application_versions(ApplicationName="shop", VersionLabels=["v1"])
    assert [item["VersionLabel"] for item in found["ApplicationVersions"]] == ["v1"]
    other = lambda: eb.create_application_version(  # noqa: E731
        ApplicationName="nope", VersionLabel="v1", SourceBundle=bundle
    )
    assert code_and_message(other) == ("InvalidParameterValue", "No Application named 'nope' found.")


def test_limits_botocore_does_not_check_are_checked(eb):
    code, message = code_and_message(
        lambda: eb.create_application_version(ApplicationName="shop", VersionLabel="v", Description="x" * 201)
    )
    assert code == "ValidationError" and "length less than or equal to 200" in message


def test_update_needs_ready_and_moves_one_step_per_poll(standin, eb, moto_server, credentials):
    bucket = eb.create_storage_location()["S3Bucket"]
    client("s3", moto_server.url, credentials).put_object(Bucket=bucket, Key="k.zip", Body=b"PK")
    eb.create_application_version(
        ApplicationName="shop", VersionLabel="v1", SourceBundle={"S3Bucket": bucket, "S3Key": "k.zip"}
    )
    standin.state.outcomes["v1"] = FAIL
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    assert answer["Status"] == "Updating" and answer["AbortableOperationInProgress"] is True
    assert code_and_message(
        lambda: eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    ) == (
        "InvalidParameterValue",
        "Environment named shop-prod is in an invalid state for this operation. Must be Ready.",
    )
    seen = []
    for _ in range(5):
        environment = eb.describe_environments(EnvironmentNames=["shop-prod"])["Environments"][0]
        seen.append((environment["Status"], environment["Health"]))
    assert seen[0] == ("Updating", "Grey") and seen[-1] == ("Ready", "Red")
    errors = eb.describe_events(
        EnvironmentName="shop-prod", Severity="ERROR", RequestId=answer["ResponseMetadata"]["RequestId"]
    )["Events"]
    assert errors and all(event["Severity"] == "ERROR" for event in errors)
    assert errors[0]["EventDate"] >= errors[-1]["EventDate"]  # newest first
    missing = lambda: eb.update_environment(EnvironmentName="shop-qa", VersionLabel="v1")  # noqa: E731
    assert code_and_message(missing) == (
        "InvalidParameterValue",
        "No Environment found for EnvironmentName = 'shop-qa'.",
    )


def test_events_page_and_filter_by_time(standin, eb):
    environment = standin.state.environments["shop-prod"]
    for number in range(7):
        standin.state.event(environment, "INFO", f"event {number}", None)
    first = eb.describe_events(EnvironmentName="shop-prod", MaxRecords=3)
    assert [event["Message"] for event in first["Events"]] == ["event 6", "event 5", "event 4"]
    rest = eb.describe_events(EnvironmentName="shop-prod", MaxRecords=10, NextToken=first["NextToken"])
    assert len(rest["Events"]) == 5 and "NextToken" not in rest
    newest = first["Events"][0]["EventDate"]
    later = eb.describe_events(EnvironmentName="shop-prod", StartTime=newest)["Events"]
    assert later and all(event["EventDate"] >= newest for event in later)


def test_requests_must_be_signed_by_an_assumed_role_session(standin, credentials):
    stranger = client(
        "elasticbeanstalk", standin.url, credentials, aws_session_token=None, aws_access_key_id="AKIAEXAMPLE"
    )
    assert code_and_message(stranger.describe_environments)[0] == "InvalidClientTokenId"
    wrong_secret = client("elasticbeanstalk", standin.url, credentials, aws_secret_access_key="wrong")
    assert code_and_message(wrong_secret.describe_environments)[0] == "SignatureDoesNotMatch"
    no_token = client("elasticbeanstalk", standin.url, credentials, aws_session_token=None)
    assert code_and_message(no_token.describe_environments)[0] == "MissingAuthenticationToken"
    assert [call.error for call in standin.calls] == [
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
    ]


def test_scripted_faults_come_first(standin, eb):
    standin.faults["DescribeEnvironments"] = [(400, "Throttling", "Rate exceeded")]
    assert eb.describe_environments()["Environments"][0]["EnvironmentName"] == "shop-prod"  # retried
    assert [call.error for call in standin.actions("DescribeEnvironments")] == ["Throttling", None]


# --- as AWS behaves: health that lags, deploy-time bundles, version statuses, quotas, regions --------

from test.support.beanstalk import RECOVERS  # noqa: E402
from test.support.beanstalk.model import HEALTH_COLOURS  # noqa: E402


def _version(eb, moto_server, credentials, label, body=b"PK one", process=False):
    bucket = eb.create_storage_location()["S3Bucket"]
    s3 = client("s3", moto_server.url, credentials)
    s3.put_object(Bucket=bucket, Key=f"{label}.zip", Body=body)
    eb.create_application_version(
        ApplicationName="shop",
        VersionLabel=label,
        SourceBundle={"S3Bucket": bucket, "S3Key": f"{label}.zip"},
        Process=process,
    )
    return s3, bucket


def test_health_lags_the_status_and_every_pair_is_one_aws_reports(standin, eb, moto_server, credentials):
    _version(eb, moto_server, credentials, "v1")
    standin.state.outcomes["v1"] = RECOVERS
    standin.state.recovery_polls = 4
    eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    seen = []
    for _ in range(12):
        item = eb.describe_environments(EnvironmentNames=["shop-prod"])["Environments"][0]
        seen.append((item["Status"], item["Health"], item["HealthStatus"]))
    ready = [entry for entry in seen if entry[0] == "Ready"]
    assert ready[0][1:] == ("Red", "Degraded") and ready[-1][1:] == ("Green", "Ok")
    assert ("Ready", "Yellow", "Warning") in ready
    assert all(HEALTH_COLOURS[status] == colour for _, colour, status in ready)


def test_a_deploy_reads_the_bundle_as_it_is_at_deploy_time(standin, eb, moto_server, credentials):
    s3, bucket = _version(eb, moto_server, credentials, "v1", b"PK first")
    s3.put_object(Bucket=bucket, Key="v1.zip", Body=b"PK overwritten")
    eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    assert standin.state.environments["shop-prod"].bundle == b"PK overwritten"


def test_processing_versions_settle_and_failed_ones_are_not_deployed(standin, eb, moto_server, credentials):
    standin.state.failing_bundles.add("bad")
    for label in ("good", "bad"):
        _version(eb, moto_server, credentials, label, process=True)
    status = lambda label: eb.describe_application_versions(  # noqa: E731
        ApplicationName="shop", VersionLabels=[label]
    )["ApplicationVersions"][0]["Status"]
    refused = lambda: eb.update_environment(EnvironmentName="shop-prod", VersionLabel="good")  # noqa: E731
    assert status("good") == "Processing" and code_and_message(refused)[0] == "InvalidParameterValue"
    assert status("good") == "Processed"
    assert [status("bad"), status("bad")] == ["Processing", "Failed"]
    failed = lambda: eb.update_environment(EnvironmentName="shop-prod", VersionLabel="bad")  # noqa: E731
    assert "status Failed" in code_and_message(failed)[1]
    assert eb.update_environment(EnvironmentName="shop-prod", VersionLabel="good")["Status"] == "Updating"


def test_terminated_environments_stay_listed_beside_a_live_one(standin, eb):
    standin.state.terminate("shop-prod", replaced=True)
    listed = eb.describe_environments(EnvironmentNames=["shop-prod"])["Environments"]
    assert sorted(item["Status"] for item in listed) == ["Ready", "Terminated"]
    live = eb.describe_environments(EnvironmentNames=["shop-prod"], IncludeDeleted=False)["Environments"]
    assert [item["Status"] for item in live] == ["Ready"]


def test_describe_without_permission_answers_empty(standin, eb):
    assert [app["ApplicationName"] for app in eb.describe_applications()["Applications"]] == ["shop"]
    standin.state.describe_denied |= {"DescribeApplications", "DescribeEnvironments"}
    assert eb.describe_applications(ApplicationNames=["shop"])["Applications"] == []
    assert eb.describe_environments(EnvironmentNames=["shop-prod"])["Environments"] == []


def test_quota_and_region_errors_in_aws_words(standin, eb, moto_server, credentials):
    _version(eb, moto_server, credentials, "v1")
    standin.state.version_quota = 1
    code, message = code_and_message(lambda: _version(eb, moto_server, credentials, "v2"))
    assert (code, message) == (
        "TooManyApplicationVersionsException",
        "You cannot have more than 1 Application Versions. Either remove some Application Versions or "
        "request a limit increase.",
    )
    standin.state.version_quota = 1000
    s3 = client("s3", moto_server.url, credentials, region_name="us-west-2")
    s3.create_bucket(Bucket="bundles-far", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket="bundles-far", Key="k.zip", Body=b"PK")
    far = lambda: eb.create_application_version(  # noqa: E731
        ApplicationName="shop", VersionLabel="v3", SourceBundle={"S3Bucket": "bundles-far", "S3Key": "k.zip"}
    )
    assert code_and_message(far) == (
        "InvalidParameterCombination",
        "Unable to download from S3 location (Bucket: bundles-far  Key: k.zip). Reason: Moved Permanently",
    )


def test_an_abort_takes_time_and_may_leave_the_new_version(standin, eb, moto_server, credentials):
    _version(eb, moto_server, credentials, "v1")
    standin.state.outcomes["v1"] = "stuck"
    standin.state.abort_polls, standin.state.abort_keeps_new_version = 4, True
    eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    eb.abort_environment_update(EnvironmentName="shop-prod")
    statuses = [
        eb.describe_environments(EnvironmentNames=["shop-prod"])["Environments"][0]["Status"]
        for _ in range(5)
    ]
    assert statuses == ["Aborting"] * 3 + ["Ready"] * 2
    assert standin.state.environments["shop-prod"].version_label == "v1"


def test_environments_carry_their_platform_and_a_platform_its_lifecycle(
    standin, eb, moto_server, credentials
):
    from test.support.beanstalk.model import PLATFORM_UNDEPLOYABLE

    environment = standin.state.environments["shop-prod"]
    platform = standin.state.put_platform(
        environment, branch="Node.js 14 running on 64bit Amazon Linux 2", branch_lifecycle_state="Retired"
    )
    listed = eb.describe_environments(EnvironmentNames=["shop-prod"])["Environments"][0]
    assert listed["PlatformArn"] == platform.arn
    assert listed["SolutionStackName"] == f"64bit Amazon Linux 2 v{platform.version} running Node.js 14"
    described = eb.describe_platform_version(PlatformArn=platform.arn)["PlatformDescription"]
    assert (described["PlatformStatus"], described["PlatformLifecycleState"]) == ("Ready", "Recommended")
    assert described["PlatformBranchLifecycleState"] == "Retired"
    platform.lifecycle_state = None  # not the newest version of its branch: AWS leaves the field out
    assert (
        "PlatformLifecycleState"
        not in eb.describe_platform_version(PlatformArn=platform.arn)["PlatformDescription"]
    )

    _version(eb, moto_server, credentials, "v1")
    for status in PLATFORM_UNDEPLOYABLE:
        platform.status = status
        update = lambda: eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")  # noqa: E731
        assert f"which is {status}; it cannot be updated" in code_and_message(update)[1]
    standin.state.platform_denied = "InsufficientPrivilegesException"
    denied = lambda: eb.describe_platform_version(PlatformArn=platform.arn)  # noqa: E731
    assert code_and_message(denied)[0] == "InsufficientPrivilegesException"
    standin.state.platform_denied = "AccessDenied"
    code, message = code_and_message(denied)
    assert (
        code == "AccessDenied"
        and "not authorized to perform: elasticbeanstalk:DescribePlatformVersion" in message
    )
