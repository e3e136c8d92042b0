"""The test bench's control plane itself: the real kube-apiserver with the EKS-shaped token webhook
(test/support/controlplane), driven by hand-made tokens and the Python kubernetes client (a client
other than kubectl, as Helm will be)."""

import base64
import datetime
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest
from kubernetes import client as kube_client

from test.support import aws
from test.support.faults import FaultProxy, Rates
from test.support.kube import mint_token


@pytest.fixture
def cluster(cluster_access):
    cluster = cluster_access("bench")
    cluster.allow(aws.ROLE_ARN)
    cluster.grant_edit()
    return cluster


@pytest.fixture
def credentials(moto_server):
    sts = aws.client("sts", moto_server.url)
    return sts.assume_role(RoleArn=aws.ROLE_ARN, RoleSessionName="pipeline-42")["Credentials"]


def call(cluster, token: str) -> int:
    """GET the test's ConfigMaps with `token`: the real API server's status code."""
    path = f"/api/v1/namespaces/{cluster.namespace}/configmaps"
    request = urllib.request.Request(cluster.plane.url + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    context = ssl.create_default_context(cadata=cluster.plane.ca_pem)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310 (https to the bench)
            return response.status
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        assert body["kind"] == "Status" and body["code"] == error.code
        return error.code


def test_version_reports_the_pinned_minor_not_master(control_plane):
    answer = json.loads(control_plane.request("GET", "/version").data)
    assert answer["gitVersion"] == "v1.36.3"


def test_tokens_are_checked_like_eks_does(cluster, moto_server, credentials):
    good = mint_token(credentials, "bench", moto_server.url)
    url = base64.urlsafe_b64decode(good[len("k8s-aws-v1.") :] + "==").decode()

    def token_for(changed_url: str) -> str:
        return "k8s-aws-v1." + base64.urlsafe_b64encode(changed_url.encode()).decode().rstrip("=")

    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    cases = {
        token_for(url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])): "signature",
        token_for(url.replace(credentials["AccessKeyId"], "ASIAUNKNOWNKEY000000")): "unknown access key",
        mint_token(credentials, "bench", moto_server.url, expires_in=900): "X-Amz-Expires",
        mint_token(credentials, "another-cluster", moto_server.url): "signature does not match",
        mint_token(credentials, "bench", "https://sts.example.net"): "unexpected hostname",
        "k8s-aws-v1.!!!": "base64",
    }
    assert call(cluster, good) == 200
    assert cluster.tokens_seen[-1]["user"] == "deployer"
    for token, reason in cases.items():
        assert call(cluster, token) == 401, reason
        assert reason in cluster.tokens_seen[-1]["reason"]


def test_a_token_older_than_its_lifetime_gets_the_servers_401(cluster, moto_server, credentials):
    cluster.webhook.token_lifetime_seconds = 2
    five_seconds_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    assert call(cluster, mint_token(credentials, "bench", moto_server.url, signed_at=five_seconds_ago)) == 401
    assert "expired" in cluster.tokens_seen[-1]["reason"]
    assert call(cluster, mint_token(credentials, "bench", moto_server.url)) == 200


def test_the_role_not_the_session_is_mapped_and_rbac_decides(cluster, moto_server, credentials, tmp_path):
    """The Python kubernetes client: SelfSubjectReview names the user and the role's ARNs;
    SelfSubjectAccessReview answers from the RBAC binding (edit in one namespace)."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(cluster.plane.ca_pem)
    configuration = kube_client.Configuration()
    configuration.host = cluster.plane.url
    configuration.ssl_ca_cert = str(ca_file)
    token = mint_token(credentials, "bench", moto_server.url)
    # As pipe/kube/doctor.py: newer clients read "BearerToken", kubernetes 35 "authorization".
    configuration.api_key = {"BearerToken": token, "authorization": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer", "authorization": "Bearer"}
    with kube_client.ApiClient(configuration) as api:
        review = kube_client.AuthenticationV1Api(api).create_self_subject_review(
            kube_client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
        )
        user = review.status.user_info
        assert user.username == "deployer"
        assert user.extra["canonicalArn"] == [aws.ROLE_ARN]
        assert user.extra["sessionName"] == ["pipeline-42"]

        def allowed(verb: str, resource: str, namespace: str | None) -> bool:
            attributes = kube_client.V1ResourceAttributes(verb=verb, resource=resource, namespace=namespace)
            spec = kube_client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
            answer = kube_client.AuthorizationV1Api(api).create_self_subject_access_review(
                kube_client.V1SelfSubjectAccessReview(spec=spec)
            )
            return answer.status.allowed

        assert allowed("create", "configmaps", cluster.namespace)
        assert not allowed("create", "configmaps", "kube-system")
        assert not allowed("create", "namespaces", None)


def test_the_fault_proxy_answers_with_the_api_servers_certificate(control_plane):
    context = ssl.create_default_context(cadata=control_plane.ca_pem)
    with (
        FaultProxy(control_plane.url, tls=control_plane.credentials) as proxy,
        urllib.request.urlopen(f"{proxy.url}/version", context=context, timeout=10) as answer,  # noqa: S310
    ):
        assert json.loads(answer.read())["gitVersion"] == "v1.36.3"
    throttled = FaultProxy(control_plane.url, Rates(throttling=1.0), tls=control_plane.credentials)
    with throttled, pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{throttled.url}/version", context=context, timeout=10)  # noqa: S310
    assert raised.value.code == 429 and raised.value.headers["Retry-After"] == "1"
    assert json.loads(raised.value.read())["reason"] == "TooManyRequests"
