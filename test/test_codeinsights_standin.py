"""The Code Insights stand-in itself (test/support/codeinsights/): a forward proxy on port 29418 that
refuses what Bitbucket refuses, answers what it accepts, fails as scripted, and hands what it
received to the leak scan."""

import pytest
import requests

from test.support import leaks
from test.support.codeinsights import HANG, PORT, REFUSE, CodeInsightsStandIn, rules

COMMIT = "3f2a9c1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b"
REPORTS = f"http://api.bitbucket.org/2.0/repositories/team/repo/commit/{COMMIT}/reports"
GOOD_REPORT = {"title": "Plan", "details": "2 changes.", "report_type": "TEST", "result": "PENDING"}
GOOD_ANNOTATION = {"external_id": "a-1", "annotation_type": "CODE_SMELL", "summary": "changed x"}


@pytest.fixture
def bitbucket():
    with CodeInsightsStandIn() as standin:
        yield standin


def call(standin, method, url, body=None, timeout=5.0):
    proxies = {"http": standin.proxy}
    return requests.request(method, url, json=body, proxies=proxies, timeout=timeout)


def annotations(count: int, start: int = 0) -> list[dict]:
    return [GOOD_ANNOTATION | {"external_id": f"a-{n}"} for n in range(start, start + count)]


def test_a_report_and_its_annotations_as_bitbucket_takes_them_are_accepted(bitbucket):
    assert call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT).status_code == 200
    assert call(bitbucket, "POST", f"{REPORTS}/r1/annotations", annotations(100)).status_code == 200
    assert len(bitbucket.annotations(COMMIT, "r1")) == 100
    assert call(bitbucket, "DELETE", f"{REPORTS}/r1").status_code == 204
    assert call(bitbucket, "GET", f"{REPORTS}/r1").status_code == 404
    assert bitbucket.host.startswith("127.") and bitbucket.proxy.endswith(f":{PORT}")


REFUSED_REPORTS = [
    pytest.param(GOOD_REPORT | {"details": "x" * 451}, "450", id="details-451"),
    pytest.param(GOOD_REPORT | {"details": "\U0001f600" * 226}, "450", id="details-452-utf16-units"),
    pytest.param(GOOD_REPORT | {"colour": "red"}, "unknown field", id="unknown-field"),
    pytest.param({"title": "t", "report_type": "TEST"}, "details", id="no-details"),
    pytest.param(GOOD_REPORT | {"report_type": "DEPLOYMENT"}, "report_type", id="bad-report-type"),
    pytest.param(GOOD_REPORT | {"result": "SKIPPED"}, "result", id="bad-result"),
    pytest.param(
        GOOD_REPORT | {"data": [{"title": "n", "type": "NUMBER", "value": 1}] * 7}, "6 data", id="7-fields"
    ),
    pytest.param(
        GOOD_REPORT | {"data": [{"title": "n", "type": "NUMBER", "value": "1"}]}, "fit", id="text-number"
    ),
    pytest.param(
        GOOD_REPORT | {"data": [{"title": "n", "type": "MONEY", "value": 1}]}, "type", id="bad-type"
    ),
]


@pytest.mark.parametrize(("document", "said"), REFUSED_REPORTS)
def test_a_report_bitbucket_would_refuse_is_answered_400(bitbucket, document, said):
    answer = call(bitbucket, "PUT", f"{REPORTS}/r1", document)
    assert answer.status_code == 400 and said in answer.json()["error"]["message"]


REFUSED_ANNOTATIONS = [
    pytest.param(annotations(101), rules.TOO_MANY_PER_REQUEST, id="101-in-one-request"),
    pytest.param([GOOD_ANNOTATION | {"summary": "x" * 451}], rules.SUMMARY_TOO_LONG, id="summary-451"),
    pytest.param([GOOD_ANNOTATION | {"severity": "BLOCKER"}], "severity", id="bad-severity"),
    pytest.param([GOOD_ANNOTATION | {"annotation_type": "NOTE"}], "annotation_type", id="bad-type"),
    pytest.param([GOOD_ANNOTATION | {"result": "PENDING"}], "result", id="bad-result"),
    pytest.param([GOOD_ANNOTATION | {"line": 0}], "line", id="line-0"),
    pytest.param([GOOD_ANNOTATION | {"column": 3}], "unknown field", id="unknown-field"),
    pytest.param([{"external_id": "a", "annotation_type": "BUG"}], "summary", id="no-summary"),
]


@pytest.mark.parametrize(("batch", "said"), REFUSED_ANNOTATIONS)
def test_annotations_bitbucket_would_refuse_are_answered_400(bitbucket, batch, said):
    call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT)
    answer = call(bitbucket, "POST", f"{REPORTS}/r1/annotations", batch)
    assert answer.status_code == 400 and said in answer.json()["error"]["message"]
    assert bitbucket.annotations(COMMIT, "r1") == []


def test_a_report_holds_at_most_1000_annotations(bitbucket):
    call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT)
    for start in range(0, 1000, 100):
        assert (
            call(bitbucket, "POST", f"{REPORTS}/r1/annotations", annotations(100, start)).status_code == 200
        )
    answer = call(bitbucket, "POST", f"{REPORTS}/r1/annotations", annotations(1, 1000))
    assert answer.status_code == 400 and answer.json()["error"]["message"] == rules.TOO_MANY_PER_REPORT


def test_annotations_need_their_report_first(bitbucket):
    assert call(bitbucket, "POST", f"{REPORTS}/none/annotations", annotations(1)).status_code == 404


def test_only_bitbucket_api_requests_are_forwarded(bitbucket):
    assert call(bitbucket, "GET", "http://example.com/2.0/x").status_code == 502


@pytest.mark.parametrize("status", [400, 500])
def test_a_scripted_status_answers_every_request(bitbucket, status):
    bitbucket.fault = status
    assert call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT).status_code == status


def test_refuse_closes_the_port_and_hang_never_answers(bitbucket):
    bitbucket.fault = HANG
    with pytest.raises(requests.ReadTimeout):
        call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT, timeout=0.5)
    bitbucket.fault = REFUSE
    bitbucket.refuse()
    with pytest.raises(requests.ConnectionError):
        call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT)


def test_what_it_received_is_read_by_the_leak_scan(bitbucket, monkeypatch):
    monkeypatch.setattr(leaks, "TALLY", leaks.Tally())  # the planted hit must not fail the session
    secret = leaks.Secret("BITBUCKET_STEP_OIDC_TOKEN", "planted-Secret/Value+9876543210abcdef")
    marker = leaks.received_marker()
    call(bitbucket, "PUT", f"{REPORTS}/r1", GOOD_REPORT | {"details": f"x {secret.value} y"})
    received = leaks.received_since(marker)
    assert [where for where, _data in received] == [f"Code Insights PUT {REPORTS}/r1"]
    with pytest.raises(leaks.Leak, match="sent to Code Insights PUT"):
        leaks.check(b"", [], [secret], debug=False, received=received)
