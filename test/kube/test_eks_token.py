"""pipe.kube.eks_token: the token EKS accepts, signed like botocore signs it, and the exec plugin's output."""

import base64
import datetime
import json
import subprocess
import sys
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from pipe.kube import eks_token
from test.support.run import REPO

NOW = datetime.datetime(2026, 11, 24, 9, 30, 5, tzinfo=datetime.UTC)
CREDENTIALS = ("ASIAEXAMPLEKEY", "secret/key+with=chars", "session/token+=")
ENDPOINT = "https://sts.eu-west-1.amazonaws.com"


def botocore_presigned(cluster: str, region: str, endpoint: str, credentials=CREDENTIALS) -> str:
    """What aws-cli's get-token does: botocore's SigV4 query signing with the cluster header added."""
    request = AWSRequest(
        method="GET",
        url=endpoint + "/",
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
        headers={eks_token.CLUSTER_ID_HEADER: cluster},
    )
    signer = SigV4QueryAuth(Credentials(*credentials), "sts", region, expires=eks_token.PRESIGN_SECONDS)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(request)
    return request.prepare().url


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.parametrize(
    ("cluster", "region", "endpoint", "credentials"),
    [
        ("my-cluster", "eu-west-1", ENDPOINT, CREDENTIALS),
        ("prod_2", "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn", CREDENTIALS),
        ("local", "us-east-1", "http://127.0.0.1:43211", CREDENTIALS),
        ("keys-only", "us-east-1", ENDPOINT.replace("eu-west-1", "us-east-1"), (*CREDENTIALS[:2], None)),
    ],
)
def test_signature_matches_botocore(cluster, region, endpoint, credentials):
    ours = eks_token.presigned_url(cluster, region, *credentials, endpoint, NOW)
    theirs = botocore_presigned(cluster, region, endpoint, credentials)
    assert query(ours) == query(theirs)
    assert urlsplit(ours)[:3] == urlsplit(theirs)[:3]


def test_signature_covers_the_cluster_name():
    one = query(eks_token.presigned_url("one", "eu-west-1", *CREDENTIALS, ENDPOINT, NOW))
    other = query(eks_token.presigned_url("other", "eu-west-1", *CREDENTIALS, ENDPOINT, NOW))
    assert one["X-Amz-Signature"] != other["X-Amz-Signature"]
    assert one["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert one["X-Amz-Expires"] == "60"


def test_token_is_the_prefixed_unpadded_base64url_of_the_url():
    env = dict(
        zip(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), CREDENTIALS, strict=True)
    )
    token = eks_token.make_token("my-cluster", "eu-west-1", env, NOW)
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    assert url == eks_token.presigned_url("my-cluster", "eu-west-1", *CREDENTIALS, ENDPOINT, NOW)


def test_endpoint_follows_the_sdk_environment():
    assert eks_token.sts_endpoint("eu-west-1", {}) == ENDPOINT
    assert eks_token.sts_endpoint("cn-north-1", {}) == "https://sts.cn-north-1.amazonaws.com.cn"
    assert (
        eks_token.sts_endpoint("eu-west-1", {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000/"})
        == "http://127.0.0.1:5000"
    )
    specific = {"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_STS": "http://b"}
    assert eks_token.sts_endpoint("eu-west-1", specific) == "http://b"
    ignored = specific | {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert eks_token.sts_endpoint("eu-west-1", ignored) == ENDPOINT


@pytest.mark.parametrize(
    ("exec_info", "expected"),
    [
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential"}',
            "client.authentication.k8s.io/v1",
        ),
        ('{"apiVersion": "client.authentication.k8s.io/v1beta1"}', "client.authentication.k8s.io/v1beta1"),
        ('{"apiVersion": "client.authentication.k8s.io/v9"}', "client.authentication.k8s.io/v1beta1"),
        ("not json", "client.authentication.k8s.io/v1beta1"),
        (None, "client.authentication.k8s.io/v1beta1"),
    ],
)
def test_exec_credential_version_follows_kubernetes_exec_info(exec_info, expected):
    env = {} if exec_info is None else {"KUBERNETES_EXEC_INFO": exec_info}
    assert eks_token.requested_api_version(env) == expected


def run_plugin(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-P",
        "-m",
        "pipe.kube.eks_token",
        "--cluster",
        "my-cluster",
        "--region",
        "eu-west-1",
    ]
    return subprocess.run(
        command, env=env | {"PYTHONPATH": str(REPO)}, cwd=cwd, capture_output=True, text=True, check=False
    )


def test_plugin_prints_an_exec_credential_expiring_in_14_minutes(tmp_path):
    env = {
        "AWS_ACCESS_KEY_ID": CREDENTIALS[0],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS[1],
        "AWS_SESSION_TOKEN": CREDENTIALS[2],
        "KUBERNETES_EXEC_INFO": '{"apiVersion": "client.authentication.k8s.io/v1", "spec": {"interactive": false}}',
    }
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    completed = run_plugin(env, tmp_path)
    assert completed.returncode == 0, completed.stderr
    credential = json.loads(completed.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert credential["kind"] == "ExecCredential"
    assert credential["status"]["token"].startswith("k8s-aws-v1.")
    expires = datetime.datetime.strptime(credential["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    lifetime = expires.replace(tzinfo=datetime.UTC) - started
    assert datetime.timedelta(minutes=14) <= lifetime <= datetime.timedelta(minutes=14, seconds=5)


def test_plugin_without_credentials_fails_in_one_line(tmp_path):
    completed = run_plugin({}, tmp_path)
    assert completed.returncode == 1
    assert (
        completed.stderr.strip()
        == "aws-oidc-deploy EKS token helper: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set."
    )


def test_plugin_is_not_shadowed_by_a_pipe_folder_in_the_working_directory(tmp_path):
    (tmp_path / "pipe").mkdir()
    (tmp_path / "pipe" / "__init__.py").write_text("raise SystemExit('shadowed')\n")
    env = {"AWS_ACCESS_KEY_ID": CREDENTIALS[0], "AWS_SECRET_ACCESS_KEY": CREDENTIALS[1]}
    completed = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "pipe.kube.eks_token",
            "--cluster",
            "c",
            "--region",
            "eu-west-1",
        ],
        env=env | {"PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_plugin_does_not_import_botocore(tmp_path):
    code = "import sys, runpy; sys.argv=['x','--cluster','c','--region','eu-west-1']\n"
    code += "try:\n    runpy.run_module('pipe.kube.eks_token', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3', 'colorlog', 'yaml')))"
    env = {"AWS_ACCESS_KEY_ID": "a" * 16, "AWS_SECRET_ACCESS_KEY": "b" * 16, "PYTHONPATH": str(REPO)}
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip().splitlines()[-1] == "[]"
