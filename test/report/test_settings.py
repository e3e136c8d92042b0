"""pipe.report.settings: REPORT's default (on inside Pipelines only), where reports go, and what is
bad input before the sign-in; and that only posting loads the toolkit."""

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.report import settings
from test.support.run import REPO

PIPELINES = {
    "BITBUCKET_BUILD_NUMBER": "42",
    "BITBUCKET_WORKSPACE": "my-team",
    "BITBUCKET_REPO_SLUG": "my-repo",
    "BITBUCKET_COMMIT": "3f2a9c1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b",
}


def test_report_is_on_inside_pipelines_through_the_auth_proxy():
    chosen = settings.read({}, PIPELINES)
    assert chosen == settings.Settings(
        "my-team", "my-repo", PIPELINES["BITBUCKET_COMMIT"], "", "http://host.docker.internal:29418", None
    )


def test_a_self_hosted_runner_names_the_proxy_host():
    chosen = settings.read({}, PIPELINES | {"BITBUCKET_DOCKER_HOST_INTERNAL": "172.17.0.1"})
    assert chosen is not None and chosen.proxy == "http://172.17.0.1:29418"


@given(st.sets(st.sampled_from(sorted(PIPELINES)), min_size=1))
def test_report_is_off_by_default_when_any_build_variable_is_missing(missing):
    assert settings.read({}, {k: v for k, v in PIPELINES.items() if k not in missing}) is None


def test_report_false_turns_it_off_inside_pipelines():
    assert settings.read({"REPORT": False}, PIPELINES) is None


def test_outside_pipelines_report_needs_a_token_and_then_goes_to_the_api_with_it():
    outside = {k: v for k, v in PIPELINES.items() if k != "BITBUCKET_BUILD_NUMBER"}
    with pytest.raises(PipeError, match="set BITBUCKET_ACCESS_TOKEN"):
        settings.read({"REPORT": True}, outside)
    chosen = settings.read({"REPORT": True, "BITBUCKET_ACCESS_TOKEN": "a-token-1234567890"}, outside)
    assert chosen is not None and chosen.proxy is None and chosen.token == "a-token-1234567890"


@pytest.mark.parametrize("host", ["user@proxy", "proxy/x", "-x", "pröxy", "a b"])
def test_a_proxy_host_that_is_not_a_host_is_bad_input(host):
    with pytest.raises(PipeError, match="BITBUCKET_DOCKER_HOST_INTERNAL must be a host name"):
        settings.read({}, PIPELINES | {"BITBUCKET_DOCKER_HOST_INTERNAL": host})


def test_only_posting_loads_the_toolkit_and_requests_and_trust_policy_loads_no_report_code():
    probe = (
        "import sys\n"
        "from pipe import main\n"
        "assert main.report_variables('trust-policy') == () and 'pipe.report' not in sys.modules\n"
        "main.report_variables('s3-sync')\n"
        "from pipe.report import publish\n"
        "publish.publish({}, None, 's3-sync', True, 'Done.')\n"
        "print(sorted(m for m in ('bitbucket_pipes_toolkit', 'requests', 'urllib3') if m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert completed.stdout.strip() == "[]", completed.stderr
