"""pipe.jobs.beanstalk.checks against the stand-in: the environment's platform, every state AWS
reports, decides refusal or warning; the end-to-end runs are in test_job.py."""

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.common.line_safe import LineSafeFilter, is_safe
from pipe.common.log import logger
from pipe.jobs.beanstalk import checks
from test.support import aws
from test.support.beanstalk import BeanstalkStandIn
from test.support.beanstalk.model import PLATFORM_BRANCH_STATES, PLATFORM_STATUSES, PLATFORM_UNDEPLOYABLE


class Lines(logging.Handler):
    """The pipe's log records as its handler words them (values escaped), without the colours."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(LineSafeFilter())
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelname, record.getMessage()))


@pytest.fixture(scope="module")
def standin(moto_server):
    with BeanstalkStandIn(moto_server.url, require_signature=False) as eb:
        eb.state.create_environment("shop", "shop-prod", "v0")
        yield eb


@pytest.fixture(scope="module")
def eb(standin):
    return aws.client("elasticbeanstalk", standin.url)


@pytest.fixture(scope="module")
def lines():
    handler = Lines()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def fresh_platform(standin, **description):
    """The environment back on a Ready, supported platform of its own (the stand-in is shared)."""
    return standin.state.put_platform(standin.state.environments["shop-prod"], **description)


# Branch names come from AWS: any text XML carries, with line breaks, C1 and bidirectional controls.
_BRANCH = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from(["\n", "\t", "\x85", "\x9b", "\u2028", "\u202e"]),
    max_size=80,
)


@given(
    status=st.sampled_from(PLATFORM_STATUSES),
    lifecycle=st.sampled_from(["Recommended", None]),
    branch_state=st.sampled_from((*PLATFORM_BRANCH_STATES, None)),
    branch=_BRANCH,
)
def test_the_platform_state_decides_refusal_or_warning_and_no_value_adds_a_line(
    standin, eb, lines, status, lifecycle, branch_state, branch
):
    environment = standin.state.environments["shop-prod"]
    platform = standin.state.platforms[environment.platform_arn]
    platform.status, platform.lifecycle_state = status, lifecycle
    platform.branch_lifecycle_state, platform.branch = branch_state, branch
    lines.lines.clear()
    try:
        checks.environment(eb, "shop", "shop-prod")
    except PipeError as refused:
        assert status in PLATFORM_UNDEPLOYABLE
        assert f"runs on platform {platform.arn}, whose status is {status}" in str(refused)
        assert "ENVIRONMENT_NAME" in str(refused)
        return
    assert status not in PLATFORM_UNDEPLOYABLE
    warnings = [text for level, text in lines.lines if level == "WARNING"]
    if branch_state in ("Deprecated", "Retired"):
        assert len(warnings) == 1 and f"which Elastic Beanstalk has marked {branch_state}" in warnings[0]
        assert is_safe(warnings[0])
    else:
        assert warnings == []


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException", "InsufficientPrivilegesException"])
def test_a_platform_that_may_not_be_described_is_a_warning(standin, eb, lines, code):
    fresh_platform(standin, status="Deleted")
    standin.state.platform_denied = code
    lines.lines.clear()
    try:
        checks.environment(eb, "shop", "shop-prod")
    finally:
        standin.state.platform_denied = None
    assert [level for level, _ in lines.lines] == ["WARNING"]
    assert "elasticbeanstalk:DescribePlatformVersion" in lines.lines[0][1]


def test_other_errors_of_the_platform_check_are_not_swallowed(standin, eb):
    from botocore.exceptions import ClientError

    fresh_platform(standin)
    standin.faults["DescribePlatformVersion"] = [(400, "InvalidParameterValue", "No Platform found.")]
    with pytest.raises(ClientError, match="No Platform found"):
        checks.environment(eb, "shop", "shop-prod")


def test_an_environment_without_a_platform_arn_is_not_asked_about(standin, eb):
    environment = standin.state.environments["shop-prod"]
    fresh_platform(standin, status="Failed")
    saved, environment.platform_arn = environment.platform_arn, None
    before = len(standin.actions("DescribePlatformVersion"))
    try:
        checks.environment(eb, "shop", "shop-prod")
    finally:
        environment.platform_arn = saved
    assert len(standin.actions("DescribePlatformVersion")) == before
