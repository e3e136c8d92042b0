"""The fault proxy of the test bench (test/support/faults.py): shapes botocore understands, seeds,
eligibility, counters (TLS in front of kube-apiserver: test/test_controlplane.py)."""

import contextlib

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from test.support import aws
from test.support.faults import LOST, FaultProxy, Rates, first, kubectl_retries

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def client(service, url, region=aws.REGION):
    return aws.client(service, url, region, config=NO_RETRIES)


CALLS = {
    "sts": lambda c: c.get_caller_identity(),  # Query protocol
    "s3": lambda c: c.list_buckets(),  # REST-XML (S3)
    "cloudfront": lambda c: c.list_distributions(),  # REST-XML (ErrorResponse)
    "eks": lambda c: c.list_clusters(),  # REST-JSON
    "ssm": lambda c: c.get_parameter(Name="x"),  # JSON (X-Amz-Target)
    "elasticbeanstalk": lambda c: c.describe_environments(),  # Query
}
THROTTLING_CODES = {
    "sts": "Throttling",
    "s3": "SlowDown",
    "cloudfront": "Throttling",
    "eks": "ThrottlingException",
    "ssm": "ThrottlingException",
    "elasticbeanstalk": "Throttling",
}


@pytest.mark.parametrize("service", CALLS)
def test_throttling_is_answered_in_each_protocols_shape(moto_server, service):
    with FaultProxy(moto_server.url, Rates(throttling=1.0)) as proxy, pytest.raises(ClientError) as raised:
        CALLS[service](client(service, proxy.url))
    assert raised.value.response["Error"]["Code"] == THROTTLING_CODES[service]
    assert proxy.faults["throttling"] == 1


# Server and gateway errors with their status and code: test/signin/test_retry.py
# (test_a_server_or_gateway_error_as_botocore_reads_it_is_transient), with how retries classify them.


def test_a_reset_is_a_dropped_connection_and_the_server_never_sees_the_request(moto_server):
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket="reset-check", CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    proxy = FaultProxy(moto_server.url, Rates(reset=1.0))
    with proxy, pytest.raises(ConnectionClosedError):
        client("s3", proxy.url).put_object(Bucket="reset-check", Key="k", Body=b"x")
    assert "Contents" not in s3.list_objects_v2(Bucket="reset-check")
    assert proxy.log == []


def _faults_of(moto_server, seed):
    s3 = client("s3", moto_server.url)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket="seeded", CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    with FaultProxy(moto_server.url, Rates.mixed(0.5), seed=seed) as proxy:
        faulty = client("s3", proxy.url)
        for number in range(40):
            with contextlib.suppress(ClientError, ConnectionClosedError):
                faulty.put_object(Bucket="seeded", Key=f"k{number}", Body=b"x")
    return proxy.injected


def test_the_same_seed_makes_the_same_faults_and_another_seed_others(moto_server):
    first = _faults_of(moto_server, seed=1)
    assert first == _faults_of(moto_server, seed=1)
    assert first != _faults_of(moto_server, seed=2)
    assert 10 < len(first) < 30  # about half of 40


def _faults_on_one_key(moto_server, script=None):
    """40 PUTs to one key (one method and path: each roll hangs on how many came before), bodies 0..39."""
    s3 = client("s3", moto_server.url)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket="scripted", CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    with FaultProxy(moto_server.url, Rates.mixed(0.5), seed=3, script=script) as proxy:
        faulty = client("s3", proxy.url)
        outcomes = []
        for number in range(40):
            try:
                faulty.put_object(Bucket="scripted", Key="k", Body=str(number).encode())
                outcomes.append(None)
            except (ClientError, ConnectionClosedError) as error:
                outcomes.append(type(error).__name__)
    return outcomes, proxy


def test_a_scripted_fault_takes_its_requests_roll_and_moves_no_other(moto_server):
    rolled, _ = _faults_on_one_key(moto_server)
    seventh = first(LOST, lambda request: request.body == b"7")
    scripted, proxy = _faults_on_one_key(moto_server, seventh)
    # The mix has no lost answers: the one made is the script's, on that request alone.
    assert scripted[7] == "ConnectionClosedError" and proxy.faults[LOST] == 1
    assert [kind for _method, _path, kind in proxy.injected].count(LOST) == 1
    assert scripted[:7] + scripted[8:] == rolled[:7] + rolled[8:]


def test_requests_the_predicate_refuses_pass_untouched(moto_server):
    def only_puts(request):
        return request.method == "PUT"

    with FaultProxy(moto_server.url, Rates(http_500=1.0), eligible=only_puts) as proxy:
        client("sts", proxy.url).get_caller_identity()
    assert proxy.requests == 1 and proxy.eligible_requests == 0 and proxy.faults["500"] == 0


def test_kubectl_retries_resets_only_where_kubectl_or_the_doctor_repeat_them():
    from test.support.faults import Request

    def kinds(method, path):
        return kubectl_retries(Request(method, path, {}, b"", "kubernetes"))

    assert "reset" in kinds("GET", "/api")
    assert "reset" in kinds("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert "reset" not in kinds("POST", "/apis/apps/v1/namespaces/default/deployments")
    assert "slow_down" not in kinds("GET", "/api")
