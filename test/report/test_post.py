"""pipe.report.post: the CodeInsights instance the pipe makes (its bounded client, its way in) and
why a posting failed, in words."""

import time

import pytest
import requests

from pipe.report import post
from pipe.report.settings import Settings

PROXIED = Settings("team", "repo", "abc", "", "http://host.docker.internal:29418", None)
WITH_TOKEN = Settings("team", "repo", "abc", "", None, "a-token-1234567890")


def test_through_the_auth_proxy_every_request_goes_through_it_and_nothing_else_applies():
    insights, _chunks = post.code_insights(PROXIED, time.monotonic() + 5)
    client = insights.http_client
    assert isinstance(client, post.BoundedClient)
    assert client.proxies == {"http": PROXIED.proxy, "https": PROXIED.proxy}
    assert client.session.trust_env is False and insights.auth is None and insights.url_scheme == "http"


def test_outside_pipelines_the_token_goes_to_the_api_over_https():
    insights, _chunks = post.code_insights(WITH_TOKEN, time.monotonic() + 5)
    prepared = requests.Request("GET", "https://api.bitbucket.org/", auth=insights.auth).prepare()
    assert prepared.headers["Authorization"] == "Bearer a-token-1234567890"
    assert insights.url_scheme == "https" and insights.http_client.proxies == {}


def test_no_request_starts_after_the_deadline():
    client = post.BoundedClient({}, time.monotonic() - 1, trust_env=False)
    with pytest.raises(post.OutOfTime):
        client.make_session_request("GET", "http://api.bitbucket.org/2.0/")
    assert client.requests == 0


def test_the_toolkits_divide_chunks_makes_batches_of_100():
    _insights, divide_chunks = post.code_insights(PROXIED, time.monotonic() + 5)
    assert [len(batch) for batch in divide_chunks(list(range(250)), 100)] == [100, 100, 50]


def test_an_error_answer_is_said_with_bitbuckets_own_message_escaped():
    response = requests.Response()
    response.status_code, response.reason = 400, "Bad Request"
    response._content = b'{"type": "error", "error": {"message": "The summary field\\n\\u2028is bad"}}'
    said = post.reason(requests.HTTPError(response=response), "the proxy", 20)
    assert said == "Bitbucket answered 400 Bad Request (The summary field\\n\\u2028is bad)"
