"""pipe.jobs.beanstalk.watch against the stand-in: events shown once, deadlines kept, verdicts."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.deadline import Deadline
from pipe.common.line_safe import is_safe
from pipe.jobs.beanstalk.watch import EventStream, WaitFailed, Watcher, event_line
from test.support import aws
from test.support.beanstalk import RED, STUCK, BeanstalkStandIn


@pytest.fixture
def standin(moto_server):
    with BeanstalkStandIn(moto_server.url, require_signature=False) as eb:
        eb.state.create_environment("shop", "shop-prod", "v0")
        for label in ("v1", "v2"):
            eb.state.versions[("shop", label)] = object()
        yield eb


@pytest.fixture
def eb(standin):
    return aws.client("elasticbeanstalk", standin.url)


@given(message=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_an_event_line_is_one_line_whatever_the_message(message):
    event = {"EventDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), "Message": message}
    line = event_line(event)
    assert line.startswith("00:00:00 INFO  ") and len(line.splitlines()) == 1
    if is_safe(message):
        assert line.removeprefix("00:00:00 INFO  ") == message


def test_events_at_the_watermark_time_are_old_and_each_new_one_is_shown_once(standin, eb):
    environment = standin.state.environments["shop-prod"]
    for message in ("old 1", "old 2", "old 3"):
        standin.state.event(environment, "INFO", message, None)
    stream = EventStream(eb, "shop", "shop-prod")
    stream.mark()
    assert stream.poll() == []
    standin.state.event(environment, "INFO", "new 1", None)
    standin.state.event(environment, "WARN", "new 2", None)
    assert [event["Message"] for event in stream.poll()] == ["new 1", "new 2"]
    assert stream.poll() == []


def test_ready_but_red_is_a_failure(standin, eb):
    standin.state.outcomes["v1"] = RED
    watcher = Watcher(eb, "shop", "shop-prod", interval=0.01)
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    with pytest.raises(WaitFailed, match=r"health is Red \(Severe\)"):
        watcher.until_deployed(Deadline(5), answer["ResponseMetadata"]["RequestId"], "v1")


def test_errors_of_another_request_do_not_fail_this_deploy(standin, eb):
    environment = standin.state.environments["shop-prod"]
    watcher = Watcher(eb, "shop", "shop-prod", interval=0.01)
    watcher.events.mark()
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v2")
    standin.state.event(environment, "ERROR", "an old deploy's error", "another-request")
    state = watcher.until_deployed(Deadline(5), answer["ResponseMetadata"]["RequestId"], "v2")
    assert (state.status, state.health, state.version_label) == ("Ready", "Green", "v2")


class FakeClock:
    """A monotonic clock that moves only when the wait sleeps: the wait's timing, measured exactly."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def deadline(self, seconds: float) -> Deadline:
        return Deadline(seconds, clock=self.monotonic, sleep=self.sleep)


@pytest.mark.parametrize(("seconds", "interval"), [(1, 0.3), (2, 1.5), (3, 5.0), (1, 1.0)])
def test_a_stuck_deploy_wakes_at_the_deadline_not_an_interval_later(standin, eb, seconds, interval):
    standin.state.outcomes["v1"] = STUCK
    clock = FakeClock()
    watcher = Watcher(eb, "shop", "shop-prod", interval=interval)
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    with pytest.raises(WaitFailed) as caught:
        watcher.until_deployed(clock.deadline(seconds), answer["ResponseMetadata"]["RequestId"], "v1")
    assert caught.value.timed_out and caught.value.state.status == "Updating"
    # The last sleep is cut to what was left, and the verdict comes on the wake-up at the deadline.
    assert clock.now == pytest.approx(seconds)
    assert all(slept <= interval for slept in clock.sleeps)
    assert len(clock.sleeps) == -(-seconds // interval)  # ceil: every full interval, then the rest


def test_a_wait_for_ready_wakes_at_the_deadline_not_an_interval_later(standin, eb):
    standin.state.outcomes["v1"] = STUCK
    eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    clock = FakeClock()
    watcher = Watcher(eb, "shop", "shop-prod", interval=0.75)
    with pytest.raises(WaitFailed, match=r"still Updating.* after 2 s") as caught:
        watcher.until_ready(clock.deadline(2), "before the deploy")
    assert caught.value.timed_out
    assert clock.now == pytest.approx(2) and clock.sleeps == pytest.approx([0.75, 0.75, 0.5])


def test_a_wait_that_ends_in_ready_sleeps_no_more_than_its_polls_needed(standin, eb):
    clock = FakeClock()
    watcher = Watcher(eb, "shop", "shop-prod", interval=0.4)
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v2")
    state = watcher.until_deployed(clock.deadline(60), answer["ResponseMetadata"]["RequestId"], "v2")
    assert state.status == "Ready"
    assert clock.sleeps == [0.4] * len(clock.sleeps) and clock.now < 60


def test_the_health_grace_period_runs_on_the_deploys_clock_and_ends_in_a_verdict(standin, eb):
    standin.state.outcomes["v1"] = RED
    clock = FakeClock()
    watcher = Watcher(eb, "shop", "shop-prod", interval=5.0, grace=30)
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    with pytest.raises(
        WaitFailed, match=r"health is Red \(Severe\) at the end of the 30 s health grace"
    ) as caught:
        watcher.until_deployed(clock.deadline(600), answer["ResponseMetadata"]["RequestId"], "v1")
    assert not caught.value.timed_out  # Red at the end of the grace period is a verdict, not a timeout
    ready_at = sum(clock.sleeps[: standin.state.polls_per_deploy - 1])
    assert clock.now == pytest.approx(ready_at + 30)  # no real sleep: the test took no 30 s


def test_an_environment_terminated_during_the_grace_period_is_a_failure_not_a_warning(standin, eb):
    from collections import deque

    from test.support.beanstalk.model import Step, settled

    environment = standin.state.environments["shop-prod"]
    answer = eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    environment.timeline = deque(
        [settled([], "Warning", "v1"), Step(status="Terminating", health="Grey", health_status="")]
    )
    clock = FakeClock()
    watcher = Watcher(eb, "shop", "shop-prod", interval=1.0, grace=60)
    with pytest.raises(WaitFailed, match="environment shop-prod is Terminating"):
        watcher.until_deployed(clock.deadline(600), answer["ResponseMetadata"]["RequestId"], "v1")
    assert clock.now < 60
