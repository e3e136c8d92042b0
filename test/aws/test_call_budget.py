"""pipe.aws.call_budget: every AWS call a job makes ends within one time budget, retries included,
and fast transient faults keep their many attempts.

In-process tests run a real botocore client (made by Identity.client, as every job's is) against a
local HTTP server, with a controllable clock: the server moves it on by the time an attempt
"takes", and botocore's backoff sleep moves it on by the delay instead of sleeping. The end-to-end
test runs the pipe against an endpoint that accepts connections and never answers.
"""

import contextlib
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import botocore.endpoint
import pytest

from pipe.aws import call_budget, clients
from pipe.signin.identity import Credentials, Identity
from test.support import job_env
from test.support.checks import assert_one_clear_failure

REPO = Path(__file__).resolve().parents[2]
_START_UP_SLACK_SECONDS = 15  # start-up and sign-in on a loaded machine, on top of the budget
# A budget that never runs out fails the test at this limit instead of hanging the suite.
_BOUNDED_RUN_LIMIT = call_budget.CALL_BUDGET_SECONDS + 120  # the sign-in's own budget is shorter


class _Clock:
    def __init__(self):
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


class _Scripted:
    """A CloudFront stand-in: answers 503 to the first `failures` requests, then 200; each request
    takes `seconds` on the clock. Records when each attempt started."""

    def __init__(self, clock: _Clock, failures: int, seconds: float):
        self.clock, self.failures, self.seconds = clock, failures, seconds
        self.started: list[float] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                script.started.append(script.clock())
                script.clock.advance(script.seconds)
                failing = len(script.started) <= script.failures
                body = b"" if failing else b"<DistributionList><Quantity>0</Quantity></DistributionList>"
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "_Scripted":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(call_budget, "_clock", fake)
    # botocore sleeps its backoff in the endpoint: here the clock moves on instead.
    monkeypatch.setattr(botocore.endpoint.time, "sleep", fake.advance)
    return fake


def _cloudfront(monkeypatch, url: str):
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setattr(clients, "_shared_botocore_session", None)
    identity = Identity(
        Credentials("AKIAEXAMPLEEXAMPLE", "example-secret-key-example"), "us-east-1", "test", None
    )
    return identity.client("cloudfront")


def test_fast_transient_faults_keep_every_attempt(clock, monkeypatch):
    with _Scripted(clock, failures=call_budget.MAX_ATTEMPTS - 1, seconds=0.01) as server:
        answer = _cloudfront(monkeypatch, server.url).list_distributions()
    assert len(server.started) == call_budget.MAX_ATTEMPTS
    assert answer["ResponseMetadata"]["RetryAttempts"] == call_budget.MAX_ATTEMPTS - 1


def test_attempts_run_out_before_time_with_the_services_own_error(clock, monkeypatch):
    from botocore.exceptions import ClientError

    with _Scripted(clock, failures=100, seconds=0.01) as server, pytest.raises(ClientError) as caught:
        _cloudfront(monkeypatch, server.url).list_distributions()
    assert not isinstance(caught.value, call_budget.CallOutOfTime)
    assert len(server.started) == call_budget.MAX_ATTEMPTS


@pytest.mark.parametrize("attempt_seconds", [6.0, 12.5, 19.0, 25.0, 40.0])  # none on a boundary
def test_no_retry_starts_that_could_not_end_within_the_budget(clock, monkeypatch, attempt_seconds):
    with _Scripted(clock, failures=100, seconds=attempt_seconds) as server:
        cloudfront = _cloudfront(monkeypatch, server.url)
        started = clock()
        with pytest.raises(call_budget.CallOutOfTime) as caught:
            cloudfront.list_distributions()
    # Every retry started with a whole attempt's time left; the first one always starts.
    for began in server.started[1:]:
        assert began - started + call_budget.ATTEMPT_SECONDS <= call_budget.CALL_BUDGET_SECONDS
    if attempt_seconds <= call_budget.ATTEMPT_SECONDS:
        assert clock() - started <= call_budget.CALL_BUDGET_SECONDS
    # ...and it stopped only because the next one could not fit.
    assert clock() - started + call_budget.ATTEMPT_SECONDS > call_budget.CALL_BUDGET_SECONDS
    assert len(server.started) < call_budget.MAX_ATTEMPTS
    line = caught.value.message
    assert f"AWS CloudFront at {server.url} could not complete ListDistributions" in line
    assert f"within the {call_budget.CALL_BUDGET_SECONDS:.0f} s budget for one AWS call" in line
    assert f"{len(server.started)} attempt(s)" in line


def test_each_client_has_one_retry_handler_and_its_quota_is_given_back_once_per_call(clock, monkeypatch):
    """The budget wraps botocore's own handler: one handler asked on `needs-retry`, and the retry
    quota it draws on given back once per successful call (a second handler built beside it came
    with a second release, for a quota nothing drew on)."""
    from botocore.retries import quota

    released = []
    give_back = quota.RetryQuota.release
    monkeypatch.setattr(
        quota.RetryQuota, "release", lambda self, amount: released.append(self) or give_back(self, amount)
    )
    with _Scripted(clock, failures=2, seconds=0.01) as server:
        cloudfront = _cloudfront(monkeypatch, server.url)
        calls = 3
        for _ in range(calls):
            cloudfront.list_distributions()
    assert len(server.started) == calls + 2
    assert len(released) == calls
    assert len(set(map(id, released))) == 1
    asked = [
        answer
        for handler, answer in cloudfront.meta.events.emit(
            "needs-retry.cloudfront",
            response=None,
            endpoint=cloudfront._endpoint,
            operation=cloudfront.meta.service_model.operation_model("ListDistributions"),
            attempts=call_budget.MAX_ATTEMPTS,
            caught_exception=ConnectionError(),
            request_dict={"context": {}},
        )
    ]
    assert asked == [None]  # one handler, and it is the budgeted one's (attempts used up: no retry)


def test_every_client_a_job_makes_is_made_in_one_place():
    """pipe.aws.clients.client (behind Identity.client) applies the budget; a client made anywhere else
    would escape it. Only the sign-in's own STS clients (pipe/signin/__init__.py, bounded by pipe.signin.retry) are made
    elsewhere, and s3transfer's CRT serializer, which builds requests and never sends one."""
    making = re.compile(
        r"\bcreate_client\(|\bboto3\.(client|resource|Session)\(|botocore\.session\.Session\("
    )
    allowed = {"pipe/aws/clients.py", "pipe/signin/__init__.py"}
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "pipe").rglob("*.py"))
        if str(path.relative_to(REPO)) not in allowed
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if making.search(text)
    ]
    assert offenders == []
    # And every job asks for its clients through an Identity.
    calls = [
        f"{path.relative_to(REPO)}: {found}"
        for path in sorted((REPO / "pipe" / "jobs").rglob("*.py"))
        for found in re.findall(r"(\w+)\.client\(", path.read_text())
        if found != "identity"
    ]
    assert calls == []


# job: (the AWS_ENDPOINT_URL_<SERVICE> of its first call of its own, that service's name, that call)
JOBS = {
    "cloudfront-invalidate": ("CLOUDFRONT", "CloudFront", "CreateInvalidation"),
    "s3-sync": ("S3", "S3", "ListObjectsV2"),
    "kubectl": ("EKS", "EKS", "DescribeCluster"),
    "beanstalk": ("ELASTIC_BEANSTALK", "Elastic Beanstalk", "DescribeApplications"),
    "ecs": ("ECS", "ECS", "DescribeClusters"),
}


@contextlib.contextmanager
def _silent_endpoint():
    """The URL of a socket that accepts connections (into the kernel's backlog) and never reads."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}"


@pytest.mark.timeout(_BOUNDED_RUN_LIMIT)
@pytest.mark.parametrize("job", JOBS)
def test_a_job_call_to_an_endpoint_that_never_answers_fails_within_the_budget(run, pipe_env, clone_dir, job):
    """An endpoint that accepts connections (into the kernel's backlog) and never reads: before the
    budget, eight attempts of a 30 s read timeout, about four minutes; now one line within it."""
    service, name, operation = JOBS[job]
    with _silent_endpoint() as endpoint:
        started = time.monotonic()
        result = run(
            job_env.environment(job, pipe_env, clone_dir) | {f"AWS_ENDPOINT_URL_{service}": endpoint}
        )
        took = time.monotonic() - started
    line = assert_one_clear_failure(result, f"AWS {name} at {endpoint} could not complete {operation}")
    assert f"within the {call_budget.CALL_BUDGET_SECONDS:.0f} s budget for one AWS call" in line
    assert took < call_budget.CALL_BUDGET_SECONDS + _START_UP_SLACK_SECONDS, f"{took:.0f} s"


@pytest.mark.timeout(_BOUNDED_RUN_LIMIT)
def test_whoamis_own_sts_call_to_an_endpoint_that_never_answers_fails_within_the_sign_ins_budget(
    run, pipe_env
):
    """With access keys, whoami's GetCallerIdentity is the first call to STS: the sign-in's 30 s."""
    from pipe.signin import retry

    env = {
        name: value
        for name, value in pipe_env.items()
        if name not in ("BITBUCKET_STEP_OIDC_TOKEN", "AWS_OIDC_ROLE_ARN")
    }
    with _silent_endpoint() as endpoint:
        started = time.monotonic()
        result = run(
            env
            | {
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "example-secret-key-for-the-test-0123456789",
                "AWS_ENDPOINT_URL_STS": endpoint,
            }
        )
        took = time.monotonic() - started
    line = assert_one_clear_failure(result, f"AWS STS at {endpoint} could not complete GetCallerIdentity")
    assert f"within the sign-in's {retry.TOTAL_BUDGET_SECONDS:.0f} s budget" in line
    assert took < retry.TOTAL_BUDGET_SECONDS + _START_UP_SLACK_SECONDS, f"{took:.0f} s"
