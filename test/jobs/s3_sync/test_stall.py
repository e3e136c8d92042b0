"""The stall bound of s3-sync's transfer phase (pipe.jobs.s3_sync.stall): unit tests on a clock the
test moves, and both engines end to end against an endpoint that answers the listing and never a PUT."""

import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipe.aws import call_budget
from pipe.jobs.s3_sync import engine, stall
from test.support import aws
from test.support.checks import assert_one_clear_failure
from test.support.faults import FaultProxy, Rates
from test.support.run import write_files

# Start-up, sign-in, listing and the bounded close, on a loaded 2-core machine.
SLACK_SECONDS = 30
# A bound that never fires must fail its test, not hang the suite: the clock-driven tests end in
# moments; the end-to-end ones within the bound, the slack and the run's own start (their marks).
pytestmark = pytest.mark.timeout(60)
END_TO_END_LIMIT = stall.STALL_SECONDS + SLACK_SECONDS + 60


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _waiting_with(clock: Clock, events: list[tuple[float, str]]):
    """A stand-in for Event.wait: time passes on `clock` up to the timeout or the next scripted event
    (("progress" | "rewind" | "done") at a time), which is then delivered to the subscriber."""

    def wait(event: threading.Event, timeout: float) -> bool:
        deadline = clock.now + timeout
        # An event at the deadline itself comes too late: the wait has timed out by then, so a gap
        # that reaches the limit exactly is a stall (the property below says "reaches").
        while events and events[0][0] < deadline:
            at, what = events.pop(0)
            clock.now = max(clock.now, at)
            if what == "done":
                wait.done.on_done(future=None)
                return True
            wait.done.on_progress(future=None, bytes_transferred=-4096 if what == "rewind" else 1)
        clock.now = deadline
        return event.is_set()

    return wait


def _watched(events):
    clock = Clock()
    watch = stall.Watch(clock)
    done = watch.subscriber()
    wait = _waiting_with(clock, list(events))
    wait.done = done
    return clock, watch, done, wait


def test_a_transfer_that_moves_a_byte_now_and_then_is_never_cut_short():
    # A byte every 59 s for ten stall limits: slow, never silent for the limit.
    gap = stall.STALL_SECONDS - 1
    ticks = [(gap * n, "progress") for n in range(1, 11)]
    clock, watch, done, wait = _watched([*ticks, (gap * 11, "done")])
    watch.wait(done, wait)
    assert done.event.is_set() and clock.now == gap * 11 > 10 * stall.STALL_SECONDS


def test_silence_stops_the_transfer_at_the_limit():
    clock, watch, done, wait = _watched([(10, "progress")])
    with pytest.raises(stall.Stalled):
        watch.wait(done, wait)
    assert clock.now == 10 + stall.STALL_SECONDS


def test_a_retry_rewinding_its_body_is_not_progress():
    clock, watch, done, wait = _watched([(30, "rewind"), (50, "rewind")])
    with pytest.raises(stall.Stalled):
        watch.wait(done, wait)
    assert clock.now == stall.STALL_SECONDS


# Quarter seconds: sums of them are exact in binary floating point, so "reaches the limit" is exact.
QUARTERS = st.integers(min_value=1, max_value=int(8 * stall.STALL_SECONDS)).map(lambda quarters: quarters / 4)


@settings(max_examples=200, deadline=None)
@given(st.lists(QUARTERS, min_size=1, max_size=30))
@example([stall.STALL_SECONDS])  # the transfer done exactly at the limit: too late
@example([stall.STALL_SECONDS, stall.STALL_SECONDS + 0.25])
def test_the_run_stops_exactly_when_some_silence_reaches_the_limit(gaps):
    """Progress after each gap, the transfer done after the last: stalled iff a gap reaches the limit."""
    moments, now = [], 0.0
    for gap in gaps:
        now += gap
        moments.append((now, "progress"))
    moments[-1] = (now, "done")
    clock, watch, done, wait = _watched(moments)
    silent = [index for index, gap in enumerate(gaps) if gap >= stall.STALL_SECONDS]
    if silent:
        with pytest.raises(stall.Stalled):
            watch.wait(done, wait)
        assert clock.now == sum(gaps[: silent[0]]) + stall.STALL_SECONDS
    else:
        watch.wait(done, wait)
        assert done.event.is_set()


def test_a_close_that_hangs_is_left_behind_within_its_bound():
    release = threading.Event()
    started = time.monotonic()
    assert stall.close_within(lambda: release.wait(60), seconds=0.2) is False
    assert time.monotonic() - started < 5
    release.set()
    assert stall.close_within(lambda: None) is True


def test_the_stall_limit_is_one_aws_calls_budget():
    assert stall.STALL_SECONDS == call_budget.CALL_BUDGET_SECONDS


def test_the_crt_client_connects_within_the_call_budgets_connect_timeout(monkeypatch):
    import awscrt.s3

    made = {}
    monkeypatch.setattr(awscrt.s3, "S3Client", lambda **kwargs: made.update(kwargs))
    s3 = SimpleNamespace(meta=SimpleNamespace(endpoint_url="https://s3.eu-west-1.amazonaws.com"))
    credentials = SimpleNamespace(access_key_id="a", secret_access_key="b", session_token="c")
    engine._crt_client(s3, SimpleNamespace(credentials=credentials, region="eu-west-1"), 4, {})
    assert made["connect_timeout_ms"] == call_budget.CONNECT_TIMEOUT_SECONDS * 1000


def _puts_only(request) -> bool:
    return request.method == "PUT"


def _sync_env(pipe_env, clone_dir, s3, client: str, files: dict) -> dict:
    bucket = f"stall-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    write_files(clone_dir / "build", files)
    return pipe_env | {
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "S3_TRANSFER_CLIENT": client,
    }


def _run_through(run, env, moto_server, rates: Rates):
    with FaultProxy(moto_server.url, rates, eligible=_puts_only) as proxy:
        started = time.monotonic()
        result = run(env | {"AWS_ENDPOINT_URL": proxy.url})
        took = time.monotonic() - started
    line = assert_one_clear_failure(result, "Upload of ")
    assert proxy.url.split("//", 1)[1] in line, line
    assert sum(proxy.faults.values()) > 0, proxy.faults
    assert took < stall.STALL_SECONDS + SLACK_SECONDS, f"{took:.0f} s"
    return line


STALLED = f"stalled: no byte was sent and no upload finished for {stall.STALL_SECONDS:.0f} s"


@pytest.mark.timeout(END_TO_END_LIMIT)
@pytest.mark.parametrize("client", ["crt", "classic"])
def test_an_endpoint_that_never_answers_a_put_ends_the_sync_in_bounded_time(
    run, pipe_env, clone_dir, s3, moto_server, client
):
    files = {"index.html": "<html></html>", "app.js": "x", "big.bin": "b" * 100_000}
    line = _run_through(
        run, _sync_env(pipe_env, clone_dir, s3, client, files), moto_server, Rates(silent=1.0)
    )
    if client == "crt":  # no read timeout: the stall bound ends it
        assert STALLED in line, line
    else:  # botocore's read timeout within the call budget ends the PUT first; the stall bound is behind it
        assert STALLED in line or f"{call_budget.CALL_BUDGET_SECONDS:.0f} s budget for one AWS call" in line


@pytest.mark.timeout(END_TO_END_LIMIT)
def test_an_upload_stopped_mid_body_ends_the_crt_sync_in_bounded_time(
    run, pipe_env, clone_dir, s3, moto_server
):
    # 6 MiB, one PUT (below the multipart threshold): more than the loopback's socket buffers take
    # once the proxy stops reading, so the CRT's writes block part way.
    files = {"index.html": "<html></html>", "video.bin": "v" * (6 * 1024 * 1024)}
    env = _sync_env(pipe_env, clone_dir, s3, "crt", files)
    line = _run_through(run, env, moto_server, Rates(mid_body=1.0))
    assert STALLED in line, line
