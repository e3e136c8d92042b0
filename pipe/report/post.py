"""Posting one report with bitbucket-pipes-toolkit's CodeInsights (made in pipe.report.publish),
bounded and quiet: BoundedClient stands in for the toolkit's HTTP handler, which retries, waits 10 s
per request and calls sys.exit(1) with a `✖` line of its own on a network error; this one raises, and
every request ends by the posting's deadline. Imported only when a report is posted.
"""

import time
from collections.abc import Callable
from typing import Any

from pipe.common import line_safe
from pipe.report.payload import Payload

# Each request: a connection within 5 s, each read within 10 s, and never past the deadline.
CONNECT_SECONDS = 5.0
READ_SECONDS = 10.0


class OutOfTime(Exception):
    """The posting's deadline has passed before a request could start."""


class BoundedClient:
    """The toolkit's HttpRequestsHandler interface (`make_session_request`), without its retries and
    its sys.exit: one session, no retry, every wait within the deadline, errors raised."""

    def __init__(self, proxies: dict[str, str], deadline: float, trust_env: bool):
        import requests

        self.session = requests.Session()
        # Through the auth proxy, the environment's proxies (and NO_PROXY, and ~/.netrc) do not apply.
        self.session.trust_env = trust_env
        self.proxies = proxies
        self.deadline = deadline
        self.requests = 0

    def make_session_request(self, method: str, url: str, *_args: Any, **kwargs: Any) -> Any:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OutOfTime()
        kwargs.pop("timeout", None)
        kwargs["proxies"] = self.proxies
        self.requests += 1
        return self.session.request(
            method,
            url,
            timeout=(min(CONNECT_SECONDS, remaining), min(READ_SECONDS, remaining)),
            allow_redirects=False,
            **kwargs,
        )

    def close(self) -> None:
        self.session.close()


def post(insights: Any, divide_chunks: Callable[..., Any], commit: str, payload: Payload) -> int:
    """Replace the report `payload.report_id` on `commit` (delete, then put: a rerun's annotations
    go with its old report) and add its annotations 100 at a time. The number of requests made."""
    from requests import HTTPError

    try:
        insights.delete_report(commit, payload.report_id)
    except HTTPError as error:
        if error.response is None or error.response.status_code != 404:
            raise
    insights.create_report(commit, payload.report)
    for batch in divide_chunks(payload.annotations, 100):
        insights.create_bulk_annotations(commit, payload.report_id, batch)
    return int(insights.http_client.requests)


def reason(error: BaseException, where: str, limit_seconds: float) -> str:
    """Why posting failed, in a few words (never a traceback; the answer's own text escaped)."""
    import requests

    if isinstance(error, (OutOfTime, requests.Timeout)):
        return f"no answer from {where} within the {limit_seconds:g} s limit (REPORT_LIMIT_SECONDS)"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        response = error.response
        said = _message(response)
        return f"Bitbucket answered {response.status_code} {response.reason or ''}".rstrip() + (
            f" ({said})" if said else ""
        )
    if isinstance(error, requests.ConnectionError):
        return f"could not connect to {where}"
    return f"{type(error).__name__}: {line_safe.escape(error)}"


def _message(response: Any) -> str:
    try:
        document = response.json()
    except ValueError:
        return ""
    found = document.get("error", document) if isinstance(document, dict) else None
    if isinstance(found, dict):
        found = found.get("message")
    return line_safe.escape(found)[:200] if isinstance(found, str) else ""
