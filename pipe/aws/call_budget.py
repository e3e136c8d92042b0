"""One time budget for every AWS call a job makes, retries included: botocore's standard retry handler
of each client is asked only while a retry's backoff and a whole attempt still fit in
CALL_BUDGET_SECONDS, counted from the call's start (why: docs/decisions.md, "The call budget").
An attempt that has started is never cut short. Sign-in's own STS calls have a tighter budget of
their own (pipe.signin.retry).
"""

import time
from typing import Any

from botocore.exceptions import BotoCoreError

from pipe.aws import errors, sdk_private
from pipe.common.errors import PipeError
from pipe.common.log import logger

# A user waits about a minute for one AWS call before being told it cannot be made.
CALL_BUDGET_SECONDS = 60.0
# A TCP (and TLS) connection to AWS is made in milliseconds; seconds mean a firewall drops packets.
CONNECT_TIMEOUT_SECONDS = 5
# The longest silence between bytes of an answer the pipe's calls see from AWS is a few seconds
# (S3 sends whitespace while it completes a multipart upload); 20 s leaves room for two attempts
# against a silent endpoint inside the budget.
READ_TIMEOUT_SECONDS = 20
# The most one attempt against a silent endpoint takes: no retry starts that could not end in time.
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
# Attempts for fast transient faults (throttling, 5xx, resets): botocore's standard mode, raised
# from its default of 3 so that a 30 % fault rate almost never fails a sync of thousands of files.
MAX_ATTEMPTS = 8

RETRIES = {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
_STARTED = "aws-oidc-deploy-call-started"
_clock = time.monotonic


class CallOutOfTime(BotoCoreError, PipeError):
    """A call that could not succeed within CALL_BUDGET_SECONDS. A BotoCoreError, so that a job's own
    handling of a failed call (its message, a rollback) applies; a PipeError, so that where no job
    handles it the run still ends in one line."""

    fmt = "{message}"

    def __init__(self, message: str):
        BotoCoreError.__init__(self, message=message)
        self.message = message
        self.details = ""
        self.exit_status = 1


def _what_failed(response: Any, caught: Exception | None) -> str:
    if caught is not None:
        return type(caught).__name__
    http, parsed = response
    return errors.name_in_answer(http.status_code, parsed)


class _Budgeted:
    """botocore's standard retry handler, asked only while a retry still fits in the budget."""

    def __init__(self, handler: Any, budget: float, attempt_seconds: float):
        self._handler = handler
        self._budget = budget
        self._attempt_seconds = attempt_seconds

    def start(self, context: dict[str, Any], **_kwargs: Any) -> None:
        context[_STARTED] = _clock()

    def needs_retry(self, **kwargs: Any) -> Any:
        delay = self._handler.needs_retry(**kwargs)
        if delay is None or delay is False:  # no retry wanted: the attempts are used up, or not transient
            return delay
        context = kwargs["request_dict"]["context"]
        started = context.get(_STARTED, _clock())
        spent = _clock() - started
        if spent + delay + self._attempt_seconds <= self._budget:
            return delay
        operation = kwargs["operation"]
        service = operation.service_model.service_id
        failed = _what_failed(kwargs["response"], kwargs["caught_exception"])
        logger.debug(
            "%s %s: %s after %.1f s; no time left for another attempt.",
            service,
            operation.name,
            failed,
            spent,
        )
        raise CallOutOfTime(
            f"AWS {service} at {kwargs['endpoint'].host} could not complete {operation.name} within the "
            f"{self._budget:.0f} s budget for one AWS call ({kwargs['attempts']} attempt(s) in {spent:.0f} s, "
            f"the last: {failed}). Check that the endpoint is reachable from the step (a firewall, a proxy, "
            "AWS_ENDPOINT_URL), then run the step again."
        )


def apply(client: Any, budget: float = CALL_BUDGET_SECONDS, attempt_seconds: float = ATTEMPT_SECONDS) -> Any:
    """`client` with its retries bounded by the budget: botocore's standard retry handler, with the
    client's total_max_attempts, asked only while another attempt can end within `budget`."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    event, unique_id = f"needs-retry.{service}", f"retry-config-{service}"
    handler = sdk_private.standard_retry_handler(events, unique_id)
    # The handler itself is kept, and with it the one retry quota that botocore's own `after-call`
    # release gives back: a handler built anew would need a second quota and a second release.
    events.unregister(event, unique_id=unique_id)
    budgeted = _Budgeted(handler, budget, attempt_seconds)
    events.register(f"before-call.{service}", budgeted.start, unique_id=f"call-budget-start-{service}")
    events.register(event, budgeted.needs_retry, unique_id=unique_id)
    return client
