"""beanstalk's plan and result (pipe.jobs.beanstalk.reports), in-process: deploy.deploy() against the
Elastic Beanstalk stand-in, then what pipe.report.recorded() holds."""

import time

import pytest

import pipe.report
from pipe.common import log
from pipe.jobs.beanstalk import deploy
from pipe.jobs.beanstalk.settings import Deployment
from test.support import aws
from test.support.beanstalk import FAIL, RED, STUCK, BeanstalkStandIn

# A secret the pipe knows (registered, as the sign-in registers the session's keys) that an
# instance's command output quotes in an event message.
PLANTED = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDEVENT"


@pytest.fixture
def standin(moto_server):
    with BeanstalkStandIn(moto_server.url, require_signature=False) as eb:
        eb.state.create_environment("shop", "shop-prod", "v0")
        for label in ("v0", "v1"):
            eb.state.versions[("shop", label)] = object()
        yield eb


@pytest.fixture
def eb(standin):
    return aws.client("elasticbeanstalk", standin.url)


@pytest.fixture(autouse=True)
def fresh_reports():
    pipe.report.forget()
    yield
    pipe.report.forget()


@pytest.fixture
def shared(tmp_path):
    return {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(tmp_path / "shared")}


def deployment(wait=True, rollback=False, timeout=60, grace=0) -> Deployment:
    return Deployment("shop", "shop-prod", wait, 0.01, timeout, rollback, grace)


def run_deploy(eb, shared, chosen=None, result=None):
    return deploy.deploy(
        eb, chosen or deployment(), "v1", result or {}, shared, time.monotonic(), "Processed"
    )


def reports():
    recorded = pipe.report.recorded()
    assert [report.phase for report in recorded] == ["plan", "result"]
    assert {report.job for report in recorded} == {"beanstalk"}
    return recorded


def fields(report) -> dict:
    return {field.title: (field.value, field.type) for field in report.fields}


def test_a_deploy_records_its_plan_then_a_passed_result(eb, shared):
    run_deploy(eb, shared, result={"uploaded": True, "s3_bucket": "bundles", "s3_key": "shop/v1.zip"})
    plan, result = reports()
    assert plan.outcome == "PENDING"
    assert fields(plan) == {
        "Environment": ("shop-prod", "TEXT"),
        "Version running": ("v0", "TEXT"),
        "Version to deploy": ("v1", "TEXT"),
        "Bundle": ("new", "TEXT"),
        "Health now": ("Green (Ok)", "TEXT"),
    }
    assert [(item.change, item.name, item.detail) for item in plan.items] == [
        ("replaced", "shop-prod: version", "v0 → v1"),
        ("added", "bundle s3://bundles/shop/v1.zip", "new"),
    ]
    assert result.outcome == "PASSED"
    figures = fields(result)
    assert figures["Health"] == ("Green (Ok)", "TEXT")
    assert figures["Rolled back"] == (False, "BOOLEAN")
    assert figures["Version running"] == ("v1", "TEXT")
    assert figures["ERROR events"] == (0, "NUMBER")
    assert figures["Duration"][1] == "DURATION" and isinstance(figures["Duration"][0], int)
    assert [(item.change, item.detail) for item in result.items] == [("done", "v1")]
    assert result.document["rolled_back"] is False and result.document["error_events"] == []


def test_the_plan_is_recorded_before_the_update_is_sent(eb, standin, shared, monkeypatch):
    seen_at_update: list[tuple] = []
    real_update = eb.update_environment

    def update(**kwargs):
        seen_at_update.append(tuple(report.phase for report in pipe.report.recorded()))
        return real_update(**kwargs)

    monkeypatch.setattr(eb, "update_environment", update)
    run_deploy(eb, shared)
    assert seen_at_update == [("plan",)]


def test_a_version_already_there_is_a_reused_bundle(eb, shared):
    run_deploy(eb, shared, result={"uploaded": False, "s3_bucket": "bundles", "s3_key": "shop/v1.zip"})
    plan, _result = reports()
    assert fields(plan)["Bundle"] == ("reused", "TEXT")
    assert plan.items[1].change == "unchanged"


def test_a_failed_deploy_records_a_failed_result_with_its_error_events_masked(eb, standin, shared):
    log.register_secret(PLANTED)
    standin.state.outcomes["v1"] = FAIL
    standin.state.deploy_events["v1"] = [("ERROR", f"Command failed: export KEY={PLANTED}\nexit 1")]
    with pytest.raises(deploy.DeployFailed) as failed:
        run_deploy(eb, shared)
    plan, result = reports()
    assert plan.outcome == "PENDING"
    assert result.outcome == "FAILED"
    assert result.summary.startswith("Deploy of v1 to shop-prod failed: ")
    assert result.summary == log.final_line(failed.value.message)  # one line, redacted, as the last line
    figures = fields(result)
    assert figures["Rolled back"] == (False, "BOOLEAN")
    assert figures["ERROR events"] == (1, "NUMBER")  # the deploy fails at its first ERROR event
    errors = [item for item in result.items if item.name == "ERROR event"]
    assert len(errors) == figures["ERROR events"][0]
    assert all(item.change == "failed" and item.severity == "HIGH" for item in errors)
    planted = [item.detail for item in errors if "Command failed: export KEY=" in item.detail]
    assert planted == [planted[0]] and "\n" not in planted[0] and log.MASK in planted[0]
    everything = repr([(r.title, r.summary, r.fields, r.items, r.document) for r in (plan, result)])
    assert PLANTED not in everything


def test_a_rolled_back_deploy_says_so_with_the_health_after_the_rollback(eb, standin, shared):
    standin.state.outcomes["v1"] = RED
    with pytest.raises(deploy.DeployFailed, match="Rolled back to v0"):
        run_deploy(eb, shared, deployment(rollback=True))
    _plan, result = reports()
    figures = fields(result)
    assert result.outcome == "FAILED"
    assert figures["Rolled back"] == (True, "BOOLEAN")
    assert figures["Version running"] == ("v0", "TEXT")
    assert figures["Health"] == ("Green (Ok)", "TEXT")
    assert result.document["rolled_back"] is True


def test_a_deploy_that_times_out_records_a_failed_result(eb, standin, shared):
    standin.state.outcomes["v1"] = STUCK
    with pytest.raises(deploy.DeployFailed, match="timed out"):
        run_deploy(eb, shared, deployment(timeout=1))
    _plan, result = reports()
    assert result.outcome == "FAILED" and fields(result)["Rolled back"] == (False, "BOOLEAN")
    assert fields(result)["Health"][0].startswith("Grey")


def test_an_aws_error_during_the_deploy_records_a_failed_result(eb, standin, shared):
    standin.faults["UpdateEnvironment"] = [
        (400, "InvalidParameterValue", "No Application Version named 'v1'")
    ]
    with pytest.raises(Exception, match="No Application Version named"):
        run_deploy(eb, shared)
    _plan, result = reports()
    assert result.outcome == "FAILED" and "No Application Version named 'v1'" in result.summary
    assert fields(result)["Health"] == ("unknown", "TEXT")


def test_a_deploy_not_waited_for_records_a_pending_result(eb, shared):
    run_deploy(eb, shared, deployment(wait=False))
    _plan, result = reports()
    assert result.outcome == "PENDING"
    assert "not waited for (WAIT is false)" in result.summary
    assert result.items == ()
