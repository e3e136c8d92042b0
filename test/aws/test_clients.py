"""pipe.aws.clients: the jobs' clients are made by boto3 over the one botocore session, with the
credentials given, the pipe's user agent and the call budget, as the botocore clients were."""

import uuid
from datetime import datetime

import pytest

from pipe.aws import call_budget, clients
from pipe.signin.identity import Credentials, Identity
from test.support import aws


class _Sent(Exception):
    """Raised by a before-send hook: the request was built and is not sent anywhere."""


def _request_of(client, call) -> dict:
    seen: dict = {}

    def capture(request, **_kwargs):
        seen.update(request.headers)
        raise _Sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Sent):
        call()
    return {name: (value.decode() if isinstance(value, bytes) else value) for name, value in seen.items()}


KEYS = Credentials(
    "ASIAPLANTEDKEYID12345", "planted-secret-access-key-0123456789abcd", "planted-session-token"
)


def test_a_jobs_client_is_made_by_boto3_over_the_shared_botocore_session():
    import boto3.session

    made = Identity(KEYS, "eu-west-1", "test", None).client("sts")
    session = clients.boto3_session()
    assert isinstance(session, boto3.session.Session)
    assert session._session is clients.botocore_session()
    assert made.meta.region_name == "eu-west-1"


def test_the_credentials_and_user_agent_are_those_a_botocore_client_sends():
    through_boto3 = clients.client("sts", "eu-west-1", KEYS)
    straight = clients.botocore_session().create_client(
        "sts",
        region_name="eu-west-1",
        aws_access_key_id=KEYS.access_key_id,
        aws_secret_access_key=KEYS.secret_access_key,
        aws_session_token=KEYS.session_token,
        config=clients.client_config(),
    )
    sent = _request_of(through_boto3, through_boto3.get_caller_identity)
    expected = _request_of(straight, straight.get_caller_identity)
    assert f"Credential={KEYS.access_key_id}/" in sent["Authorization"]
    assert sent["X-Amz-Security-Token"] == KEYS.session_token
    assert sent["User-Agent"] == expected["User-Agent"]
    assert "app/aws-oidc-deploy-" in sent["User-Agent"] and "Boto3" not in sent["User-Agent"]


def test_the_call_budget_bounds_a_boto3_made_client(monkeypatch):
    applied = []
    real_apply = call_budget.apply
    monkeypatch.setattr(call_budget, "apply", lambda made: applied.append(made) or real_apply(made))
    made = clients.client("cloudfront", "us-east-1", KEYS)
    assert applied == [made]
    assert made.meta.config.retries == call_budget.RETRIES
    assert made.meta.config.connect_timeout == call_budget.CONNECT_TIMEOUT_SECONDS


def test_dates_stay_text_on_a_boto3_made_client_that_asks_for_it(moto_server, s3, monkeypatch):
    bucket = f"dates-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    lean = clients.client("s3", aws.REGION, KEYS, parse_timestamps=False)
    parsed = clients.client("s3", aws.REGION, KEYS)
    assert isinstance(lean.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"], str)
    assert isinstance(parsed.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"], datetime)
