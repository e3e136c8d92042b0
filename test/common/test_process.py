"""pipe.common.process: programs run as argument lists, their output redacted as one text and framed."""

import contextlib
import io
import itertools
import logging
import sys
from collections.abc import Iterator

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipe.common import log, process, secret_forms
from test.support import leaks
from test.support.encodings import hostile_output

SECRET = "sEcReT-VaLuE-0123456789"
# Unique per test file (registered secrets stay registered): '/' and '+' so that every encoder changes it.
WRAPPED_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzPROCESS/+"
SCANNED = [leaks.Secret("AWS_SECRET_ACCESS_KEY", WRAPPED_SECRET)]


def setup_module():
    log.register_secret(SECRET)
    log.register_secret(WRAPPED_SECRET)


def _relayed(chunks: list[bytes]) -> tuple[list[str], process.Relay]:
    printed: list[str] = []
    relay = process.Relay(printed.extend)
    for chunk in chunks:
        relay.feed(chunk)
    relay.close()
    return printed, relay


def test_output_is_streamed_redacted_framed_and_the_status_returned(tmp_path, capfd):
    code = f"import sys; print('one', flush=True); print('{SECRET}', file=sys.stderr); print('three'); sys.exit(3)"
    status, tail = process.run([sys.executable, "-c", code], {}, tmp_path, 60, "a test's limit")
    out = capfd.readouterr().out
    assert status == 3
    assert out.splitlines() == ["│ one", "│ ****", "│ three"]
    # The lines kept for the ✖ line are redacted before anything cuts them.
    assert tail == ["one", "****", "three"]


def test_a_crlf_line_end_is_a_line_end_and_a_lone_carriage_return_is_shown_escaped():
    printed, _relay = _relayed([b"one\r\ntwo\rthree\n"])
    assert printed == ["one", "two\rthree"]
    assert process.framed(printed) == "│ one\n│ two\\rthree\n"


def test_arguments_are_not_interpreted_by_a_shell(tmp_path):
    status, tail = process.run(
        [sys.executable, "-c", "import sys; print(sys.argv[1:])", "$(id)", ";", "|"],
        {},
        tmp_path,
        60,
        "a test's limit",
    )
    assert status == 0 and tail == ["['$(id)', ';', '|']"]


def test_a_programs_line_quoting_a_url_with_a_password_is_relayed_masked(tmp_path, capfd):
    """kubectl and the CDK CLI quote proxy and endpoint URLs in their errors: the line relayed is
    masked like the pipe's own (pipe.common.log.redact), the tail kept for the ✖ line too."""
    line = "Error: proxyconnect tcp: dial http://deploy:Pr%40xy-pw@proxy.internal:3128: refused"
    status, tail = process.run([sys.executable, "-c", f"print({line!r})"], {}, tmp_path, 60, "a test's limit")
    assert status == 0
    assert (
        capfd.readouterr().out == "│ Error: proxyconnect tcp: dial http://****@proxy.internal:3128: refused\n"
    )
    assert tail == ["Error: proxyconnect tcp: dial http://****@proxy.internal:3128: refused"]


def test_a_long_line_holding_a_secret_is_masked_before_the_tail_keeps_it(tmp_path):
    """The ✖ line cuts a program's line to 300 characters: only after it is redacted."""
    code = f"print('x' * 290 + '{WRAPPED_SECRET}' + 'y' * 100)"
    status, tail = process.run([sys.executable, "-c", code], {}, tmp_path, 60, "a test's limit")
    assert status == 0 and tail == ["x" * 290 + "****" + "y" * 100]


def test_a_secret_wrapped_over_lines_written_a_byte_at_a_time_is_masked(tmp_path, capfd):
    text = "".join(f"{WRAPPED_SECRET[i : i + 7]}\n" for i in range(0, len(WRAPPED_SECRET), 7))
    code = f"import sys, time\nfor c in {text!r}:\n    sys.stdout.write(c); sys.stdout.flush()"
    assert process.run([sys.executable, "-c", code], {}, tmp_path, 60, "a test's limit")[0] == 0
    out = capfd.readouterr().out
    assert leaks.hits(text.encode(), SCANNED)
    assert leaks.hits(out.encode(), SCANNED) == [], out


# --- Property: whatever the scan finds in a program's output, the pipe's output has masked ----------------


@settings(max_examples=300, deadline=None)
@given(output=hostile_output(WRAPPED_SECRET), cuts=st.lists(st.integers(min_value=0, max_value=4000)))
def test_whatever_the_scan_finds_in_a_programs_output_the_relayed_output_has_masked(output, cuts):
    """Output built from the secret in every encoding, wrapping and escaping the scan knows, mixed
    with noise, arriving in chunks cut anywhere (even inside a character or an escape)."""
    data = output.encode()
    assert leaks.hits(data, SCANNED), "the planted output must hold the secret to begin with"
    bounds = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    printed, relay = _relayed([data[a:b] for a, b in itertools.pairwise(bounds)])
    shown = process.framed(printed)
    assert leaks.hits(shown.encode(), SCANNED) == []
    assert leaks.hits("\n".join(relay.tail).encode(), SCANNED) == []
    # Stronger than the scan: not even the start of the secret is printed before the rest is masked.
    assert _fragments(shown) == []


# Longer than what may be printed of a secret's start before its rest arrives (HOLD_FROM_CHARACTERS).
_FRAGMENT = 8


def _fragments(text: str) -> list[str]:
    """Forms of the secret of which a piece of _FRAGMENT characters is in some view of `text`."""
    table = secret_forms.Table([("secret", WRAPPED_SECRET)])
    return [
        needle.form
        for view in secret_forms.views(text, table)
        for group in table.groups.values()
        for needle in group
        if any(needle.text[i : i + _FRAGMENT] in view.text for i in range(len(needle.text) - _FRAGMENT + 1))
    ]


@given(
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="\n"), max_size=200).map(
        lambda t: t.rstrip("\r")
    )
)
def test_text_without_a_secret_is_relayed_as_it_came_one_line_each(line):
    assume("://" not in line and ":\\/" not in line)  # a URL's user-info is masked by its shape
    printed, _relay = _relayed([f"{line}\n{line}\n".encode()])
    assert printed == [line, line]


# --- Property: no program line can pass for one of the pipe's own lines ---------------------------------------


@given(st.binary(max_size=300))
def test_no_program_output_prints_a_line_the_pipe_could_have_printed(data):
    printed, _relay = _relayed([data])
    for line in process.framed(printed).splitlines():
        assert line.startswith(process.PROGRAM_FRAME)
        assert log.pipe_mark(line) is None


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_a_real_program_echoing_anything_prints_only_framed_lines(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("echo")
    (directory / "output").write_bytes(data)
    code = "import sys; sys.stdout.buffer.write(open('output', 'rb').read())"
    # What the pipe prints goes to sys.stdout (under pytest, a capture object, not file descriptor 1).
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        process.run([sys.executable, "-c", code], {}, directory, 60, "a test's limit")
    shown = printed.getvalue()
    assert shown, "the program's output was printed"
    for line in shown.splitlines():
        assert line.startswith(process.PROGRAM_FRAME) and log.pipe_mark(line) is None, line


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


# --- capture: a program run for its output ---------------------------------------------------------------

# Any text a login could be given (no surrogates: standard input carries UTF-8), long enough to search for.
_STDIN_TEXTS = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200).map(
    lambda text: f"stdin-{text}"
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_STDIN_TEXTS)
def test_capture_gives_stdin_text_to_the_program_and_never_prints_or_logs_it(tmp_path, capfd, text):
    """`helm registry login --password-stdin`: the password reaches the program whole, on standard
    input, and no line the pipe prints or logs (DEBUG included) holds it."""
    capfd.readouterr()  # one example's output apart from the last's
    code = "import sys; data = sys.stdin.buffer.read(); sys.stdout.buffer.write(data); sys.stderr.write('read\\n')"
    with _debug_lines() as logged:
        status, output = process.capture(
            [sys.executable, "-c", code], {}, tmp_path, 60, "L", tmp_path / "out", 4096, stdin_text=text
        )
    shown = capfd.readouterr()
    assert (status, output) == (0, text)
    assert shown.out == "│ read\n"  # stderr printed as before; the text itself nowhere
    assert text not in shown.err
    assert any(line.startswith("Running: ") for line in logged)
    assert not any(text in line for line in logged), logged


def test_capture_logged_as_replaces_the_arguments_in_the_debug_line(tmp_path):
    """Helm's SET values are in its arguments before the render shows which are a Secret's."""
    argument = "password=not-registered-yet-0451"
    with _debug_lines() as logged:
        status, _output = process.capture(
            [sys.executable, "-c", "pass", argument],
            {},
            tmp_path,
            60,
            "L",
            tmp_path / "out",
            64,
            logged_as="helm x",
        )
    assert status == 0
    assert "Running: helm x" in logged
    assert not any(argument in line for line in logged), logged


@contextlib.contextmanager
def _debug_lines() -> Iterator[list[str]]:
    """The pipe logger's messages while in the block, DEBUG included (as with DEBUG=true)."""
    records: list[logging.LogRecord] = []
    collector = logging.Handler()
    collector.emit = records.append  # type: ignore[method-assign]
    pipe_logger = logging.getLogger(log.LOGGER_NAME)
    level = pipe_logger.level
    pipe_logger.addHandler(collector)
    pipe_logger.setLevel(logging.DEBUG)
    logged: list[str] = []
    try:
        yield logged
    finally:
        pipe_logger.removeHandler(collector)
        pipe_logger.setLevel(level)
        logged.extend(record.getMessage() for record in records)


def test_capture_without_stdin_text_gives_the_program_no_standard_input(tmp_path):
    code = "import sys; print(repr(sys.stdin.read()))"
    assert process.capture([sys.executable, "-c", code], {}, tmp_path, 60, "L", tmp_path / "out", 4096) == (
        0,
        "''\n",
    )


def test_capture_hands_stderr_redacted_as_one_text_to_errors_to_and_prints_none_of_it(tmp_path, capfd):
    """A caller that reads the program's error output (Helm's "not found") gets it instead of the
    printer: redacted across lines, as printing would have, and nothing printed."""
    wrapped = "".join(f"{WRAPPED_SECRET[i : i + 7]}\n" for i in range(0, len(WRAPPED_SECRET), 7))
    code = f"import sys; sys.stderr.write('Error: denied\\n' + {wrapped!r} + 'not found\\n'); sys.exit(4)"
    said: list[str] = []
    status, output = process.capture(
        [sys.executable, "-c", code], {}, tmp_path, 60, "L", tmp_path / "out", 4096, errors_to=said.extend
    )
    assert (status, output) == (4, "")
    assert capfd.readouterr().out == ""
    assert leaks.hits(wrapped.encode(), SCANNED)
    assert leaks.hits("\n".join(said).encode(), SCANNED) == [], said
    assert said[0] == "Error: denied" and said[-1] == "not found" and log.MASK in "\n".join(said)
    # The default, for every other caller: the same lines printed framed.
    printing = process.capture([sys.executable, "-c", code], {}, tmp_path, 60, "L", tmp_path / "out", 4096)
    assert printing == (4, "")
    assert capfd.readouterr().out == process.framed(said)
