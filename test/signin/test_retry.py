"""pipe.signin.retry: which faults are transient, and how call() retries them within attempts and time."""

import time

import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ProxyConnectionError,
    ReadTimeoutError,
)

from pipe.common.log import LOGGER_NAME
from pipe.signin import retry
from pipe.signin.retry import (
    BASE_DELAY_SECONDS,
    MAX_ATTEMPTS,
    MAX_DELAY_SECONDS,
    call,
    describe,
    is_transient,
)
from test.support import aws
from test.support.faults import GATEWAY_KINDS, FaultProxy, Rates

ENDPOINT = "https://sts.eu-west-1.amazonaws.com"


def client_error(code: str = "", status: int = 400, message: str = "text") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "AssumeRoleWithWebIdentity",
    )


# --- is_transient -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(client_error("IDPCommunicationError", 400), id="idp-communication"),
        pytest.param(client_error("Throttling", 400), id="throttling"),
        pytest.param(client_error("ThrottlingException", 400), id="throttling-exception"),
        pytest.param(client_error("RequestLimitExceeded", 400), id="request-limit"),
        pytest.param(client_error("InternalFailure", 500), id="internal-failure"),
        pytest.param(client_error("SomethingNew", 500), id="status-500"),
        pytest.param(client_error("ServiceUnavailable", 503), id="status-503"),
        pytest.param(client_error("", 503), id="status-503-no-code"),
        # A gateway on the way (a load balancer, a proxy) answers with an HTML page: botocore makes
        # the status its code.
        pytest.param(client_error("502", 502, "Bad Gateway"), id="status-502-gateway"),
        pytest.param(client_error("504", 504, "Gateway Timeout"), id="status-504-gateway"),
        pytest.param(client_error("", 502), id="status-502-no-code"),
        pytest.param(client_error("", 504), id="status-504-no-code"),
        pytest.param(client_error("SlowDown", 429), id="status-429"),
        pytest.param(client_error("Unknown", 429), id="status-429-unknown-code"),
        pytest.param(EndpointConnectionError(endpoint_url=ENDPOINT), id="endpoint-connection"),
        pytest.param(ConnectionClosedError(endpoint_url=ENDPOINT), id="connection-closed"),
        pytest.param(ConnectTimeoutError(endpoint_url=ENDPOINT), id="connect-timeout"),
        pytest.param(ReadTimeoutError(endpoint_url=ENDPOINT), id="read-timeout"),
        pytest.param(ProxyConnectionError(proxy_url="http://proxy:3128"), id="proxy"),
    ],
)
def test_transient_faults(error):
    assert is_transient(error) is True


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(client_error("AccessDenied", 403), id="access-denied"),
        pytest.param(client_error("InvalidIdentityToken", 400), id="invalid-token"),
        pytest.param(client_error("ValidationError", 400), id="validation"),
        pytest.param(client_error("ExpiredTokenException", 400), id="expired"),
        pytest.param(client_error("RegionDisabledException", 403), id="region-disabled"),
        pytest.param(client_error("", 404), id="status-404"),
        pytest.param(NoCredentialsError(), id="no-credentials"),
        pytest.param(ParamValidationError(report="RoleArn is too short"), id="param-validation"),
        pytest.param(ValueError("bug"), id="value-error"),
        pytest.param(OSError("disk"), id="os-error"),
    ],
)
def test_faults_that_are_not_transient(error):
    assert is_transient(error) is False


def test_describe_names_the_code_or_status_or_exception_type():
    assert describe(client_error("Throttling", 400)) == "Throttling"
    assert describe(client_error("", 503)) == "HTTP 503"
    assert describe(EndpointConnectionError(endpoint_url=ENDPOINT)) == "EndpointConnectionError"


# --- call -------------------------------------------------------------------------------------------------------


class Script:
    """An attempt that raises the given errors in turn, then returns "done"; counts its calls."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class Sleeps:
    """Stands in for time.sleep: records each delay instead of waiting."""

    def __init__(self):
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def test_a_first_success_is_returned_without_sleeping(sleeps):
    attempt = Script()
    assert call("AssumeRoleWithWebIdentity", attempt, sleep=sleeps) == "done"
    assert attempt.attempts == 1
    assert sleeps.delays == []


@pytest.fixture
def warnings_logged():
    """The pipe's WARNING records, taken from its logger itself (a handler of this test's own, so that
    nothing another test does to logging's shared state can hide them)."""
    import logging

    class Kept(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.records: list[logging.LogRecord] = []

        def emit(self, record):
            self.records.append(record)

    pipe_logger = logging.getLogger(LOGGER_NAME)
    kept, level, disabled = Kept(), pipe_logger.level, pipe_logger.disabled
    pipe_logger.addHandler(kept)
    pipe_logger.setLevel(logging.INFO)
    pipe_logger.disabled = False
    yield kept.records
    pipe_logger.removeHandler(kept)
    pipe_logger.setLevel(level)
    pipe_logger.disabled = disabled


def test_transient_errors_are_retried_until_success(sleeps, warnings_logged):
    attempt = Script(
        client_error("IDPCommunicationError"),
        client_error("Throttling"),
        EndpointConnectionError(endpoint_url=ENDPOINT),
    )
    assert call("AssumeRoleWithWebIdentity", attempt, sleep=sleeps) == "done"
    assert attempt.attempts == 4
    assert len(sleeps.delays) == 3
    for number, delay in enumerate(sleeps.delays, start=1):
        assert 0 <= delay <= min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**number)
    messages = [record.getMessage() for record in warnings_logged]
    assert [message.split(" in ")[0] for message in messages] == [
        "AssumeRoleWithWebIdentity failed with IDPCommunicationError (transient); retry 1 of 5",
        "AssumeRoleWithWebIdentity failed with Throttling (transient); retry 2 of 5",
        "AssumeRoleWithWebIdentity failed with EndpointConnectionError (transient); retry 3 of 5",
    ]
    assert [message.split(" in ")[1] for message in messages] == [
        f"{delay:.1f} s." for delay in sleeps.delays
    ]


def test_a_non_transient_error_is_raised_at_once(sleeps):
    denied = client_error("AccessDenied", 403)
    attempt = Script(denied)
    with pytest.raises(ClientError) as caught:
        call("AssumeRoleWithWebIdentity", attempt, sleep=sleeps)
    assert caught.value is denied
    assert attempt.attempts == 1
    assert sleeps.delays == []


def test_a_non_transient_error_after_a_transient_one_ends_the_retries(sleeps):
    attempt = Script(
        client_error("Throttling"), client_error("InvalidIdentityToken"), client_error("Throttling")
    )
    with pytest.raises(ClientError, match="InvalidIdentityToken"):
        call("AssumeRoleWithWebIdentity", attempt, sleep=sleeps)
    assert attempt.attempts == 2
    assert len(sleeps.delays) == 1


def test_it_gives_up_after_max_attempts_with_the_last_error(sleeps):
    errors = [
        client_error("ServiceUnavailable", 503, message=f"attempt {n}") for n in range(1, MAX_ATTEMPTS + 2)
    ]
    attempt = Script(*errors)
    with pytest.raises(ClientError) as caught:
        call("GetCallerIdentity", attempt, sleep=sleeps)
    assert caught.value is errors[MAX_ATTEMPTS - 1]
    assert attempt.attempts == MAX_ATTEMPTS == 6
    assert len(sleeps.delays) == MAX_ATTEMPTS - 1
    assert all(0 <= delay <= MAX_DELAY_SECONDS for delay in sleeps.delays)


def test_delays_never_exceed_the_cap(sleeps, monkeypatch):
    # The largest delay random.uniform can pick: its upper bound.
    monkeypatch.setattr(retry.random, "uniform", lambda _low, high: high)
    attempt = Script(*[client_error("Throttling") for _ in range(MAX_ATTEMPTS)])
    with pytest.raises(ClientError):
        call("AssumeRole", attempt, sleep=sleeps)
    assert sleeps.delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert max(sleeps.delays) == MAX_DELAY_SECONDS


def test_a_deadline_already_past_means_no_retry(sleeps, warnings_logged):
    throttled = client_error("Throttling")
    attempt = Script(throttled)
    with pytest.raises(ClientError) as caught:
        call("AssumeRoleWithWebIdentity", attempt, deadline=time.time() - 1, sleep=sleeps)
    assert caught.value is throttled
    assert attempt.attempts == 1
    assert sleeps.delays == []
    assert [record.getMessage() for record in warnings_logged] == [
        "AssumeRoleWithWebIdentity failed with Throttling; no time left to retry."
    ]


def test_no_retry_is_started_that_would_end_after_the_deadline(sleeps, monkeypatch):
    monkeypatch.setattr(retry.random, "uniform", lambda _low, high: high)  # first delay: 1.0 s
    attempt = Script(client_error("Throttling"))
    with pytest.raises(ClientError):
        call("AssumeRoleWithWebIdentity", attempt, deadline=time.time() + 0.5, sleep=sleeps)
    assert attempt.attempts == 1
    assert sleeps.delays == []


def test_a_deadline_far_ahead_still_allows_retries(sleeps):
    attempt = Script(client_error("Throttling"))
    assert call("AssumeRoleWithWebIdentity", attempt, deadline=time.time() + 3600, sleep=sleeps) == "done"
    assert attempt.attempts == 2


def test_no_attempt_is_started_that_could_not_end_within_the_budget(monkeypatch):
    """With attempts that may take `attempt_seconds`, a retry is started only while one more attempt
    still fits in TOTAL_BUDGET_SECONDS: a hung endpoint costs at most the budget."""
    clock = [1000.0]
    monkeypatch.setattr(retry.time, "monotonic", lambda: clock[0])

    def advance(seconds: float) -> None:  # a controllable clock: sleeping moves it, nothing waits
        clock[0] += seconds

    def attempt():
        advance(retry.ATTEMPT_SECONDS)  # each attempt hangs for its whole timeout
        raise ReadTimeoutError(endpoint_url=ENDPOINT)

    with pytest.raises(ReadTimeoutError):
        call("AssumeRoleWithWebIdentity", attempt, sleep=advance, attempt_seconds=retry.ATTEMPT_SECONDS)
    assert clock[0] - 1000.0 <= retry.TOTAL_BUDGET_SECONDS


# The fault proxy's server and gateway errors as STS's client reads them: (kind, status, code).
# A gateway's HTML page is in no service's shape: botocore makes its status the code.
SERVER_AND_GATEWAY_ERRORS = [
    ("500", 500, "InternalFailure"),
    ("503", 503, "503"),
    ("slow_down", 503, "ServiceUnavailable"),
    *((kind, int(kind), kind) for kind in GATEWAY_KINDS),
]


@pytest.mark.parametrize(("kind", "status", "code"), SERVER_AND_GATEWAY_ERRORS)
def test_a_server_or_gateway_error_as_botocore_reads_it_is_transient(moto_server, kind, status, code):
    attribute = kind if kind == "slow_down" else f"http_{kind}"
    proxy = FaultProxy(moto_server.url, Rates(**{attribute: 1.0}))
    sts = aws.client("sts", proxy.url, config=Config(retries={"total_max_attempts": 1}))
    with proxy, pytest.raises(ClientError) as raised:
        sts.get_caller_identity()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert raised.value.response["Error"]["Code"] == code
    assert is_transient(raised.value) is True
    assert describe(raised.value) == code


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_is_retried_until_success(sleeps, status):
    attempt = Script(client_error(str(status), status), client_error("", status))
    assert call("AssumeRoleWithWebIdentity", attempt, sleep=sleeps) == "done"
    assert attempt.attempts == 3 and len(sleeps.delays) == 2
