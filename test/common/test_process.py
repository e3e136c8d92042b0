import sys

from pipe.common import log, process


def test_output_is_streamed_redacted_and_the_status_returned(tmp_path, capfd):
    secret = "sEcReT-VaLuE-0123456789"
    log.register_secret(secret)
    code = f"import sys; print('one', flush=True); print('{secret}', file=sys.stderr); print('three'); sys.exit(3)"
    status, tail = process.run([sys.executable, "-c", code], {}, tmp_path)
    out = capfd.readouterr().out
    assert status == 3
    assert out.splitlines() == ["one", "****", "three"]
    assert tail == ["one", secret, "three"]


def test_arguments_are_not_interpreted_by_a_shell(tmp_path):
    status, tail = process.run(
        [sys.executable, "-c", "import sys; print(sys.argv[1:])", "$(id)", ";", "|"], {}, tmp_path
    )
    assert status == 0 and tail == ["['$(id)', ';', '|']"]


def test_a_programs_line_quoting_a_url_with_a_password_is_relayed_masked(tmp_path, capfd):
    """kubectl and the CDK CLI quote proxy and endpoint URLs in their errors: the line relayed is
    masked like the pipe's own (pipe.common.log.redact), the tail kept for the ✖ line too."""
    line = "Error: proxyconnect tcp: dial http://deploy:Pr%40xy-pw@proxy.internal:3128: refused"
    status, tail = process.run([sys.executable, "-c", f"print({line!r})"], {}, tmp_path)
    assert status == 0
    assert (
        capfd.readouterr().out == "Error: proxyconnect tcp: dial http://****@proxy.internal:3128: refused\n"
    )
    assert (
        log.final_line(tail[-1]) == "Error: proxyconnect tcp: dial http://****@proxy.internal:3128: refused"
    )


def test_a_program_past_its_limit_is_stopped_and_the_limit_named(tmp_path):
    """A child that never ends (kubectl reading a FIFO, a watch) is stopped at its deadline."""
    import time

    import pytest

    from pipe.common.errors import PipeError

    started = time.monotonic()
    code = "import time; print('waiting', flush=True); time.sleep(600)"
    with pytest.raises(PipeError) as raised:
        process.run([sys.executable, "-c", code], {}, tmp_path, 1.5, "THE_LIMIT")
    assert time.monotonic() - started < 1.5 + process.STOP_GRACE_SECONDS
    assert "did not finish within 1.5 s (THE_LIMIT); the pipe stopped it" in raised.value.message


def test_a_program_that_ignores_sigterm_is_killed(tmp_path):
    import time

    import pytest

    from pipe.common.errors import PipeError

    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('on', flush=True); time.sleep(600)"
    started = time.monotonic()
    with pytest.raises(PipeError, match=r"did not finish within 0.5 s"):
        process.run([sys.executable, "-c", code], {}, tmp_path, 0.5, "L")
    assert time.monotonic() - started < 0.5 + process.STOP_GRACE_SECONDS + 5


def test_a_program_within_its_limit_returns_its_status(tmp_path):
    assert process.run([sys.executable, "-c", "print('done')"], {}, tmp_path, 30, "L") == (0, ["done"])
