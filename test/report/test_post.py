"""pipe.report.post: the bounded client and why a posting failed, in words."""

import time

import pytest
import requests

from pipe.report import post


def test_no_request_starts_after_the_deadline():
    client = post.BoundedClient({}, time.monotonic() - 1, trust_env=False)
    with pytest.raises(post.OutOfTime):
        client.make_session_request("GET", "http://api.bitbucket.org/2.0/")
    assert client.requests == 0


def test_an_error_answer_is_said_with_bitbuckets_own_message_escaped():
    response = requests.Response()
    response.status_code, response.reason = 400, "Bad Request"
    response._content = b'{"type": "error", "error": {"message": "The summary field\\n\\u2028is bad"}}'
    said = post.reason(requests.HTTPError(response=response), "the proxy", 20)
    assert said == "Bitbucket answered 400 Bad Request (The summary field\\n\\u2028is bad)"
