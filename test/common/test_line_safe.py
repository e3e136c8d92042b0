"""pipe.common.line_safe: outside text never adds, ends or repaints a line, on every path that prints it.

The values are drawn from a hostile alphabet (every character a terminal or a log viewer takes as a
line break, a carriage return, escape sequences, C1 controls, bidi overrides, and the pipe's own ✔ and
✖), and every path is checked to print exactly the lines it means to.
"""

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common import line_safe, log, process
from pipe.jobs.beanstalk import deploy
from test.common.test_log import logging_state, output  # noqa: F401 (fixtures)
from test.support import aws
from test.support.run import write_files
from test.support.tokens import make_token

# Everything str.splitlines() breaks on, which is what a log viewer may break on too.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
HOSTILE = LINE_BREAKS + "\x00\x07\x08\x1b\x7f\x9b\u202e\u2066\u200f\t\\✔✖ [0m;aZ9é漢"
hostile_text = st.text(alphabet=st.sampled_from(HOSTILE), max_size=40) | st.text(max_size=40)


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _assert_shown_on_one_line(text: str) -> None:
    assert len(_lines(text)) <= 1, repr(text)
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text, repr(text)


@given(hostile_text)
def test_escaped_text_is_one_line_without_controls(value):
    shown = line_safe.escape(value)
    _assert_shown_on_one_line(shown)
    assert line_safe.is_safe(shown)


@given(hostile_text)
def test_escaping_twice_changes_nothing_and_safe_text_is_unchanged(value):
    once = line_safe.escape(value)
    assert line_safe.escape(once) == once
    if line_safe.is_safe(value):
        assert once == value


@given(hostile_text)
def test_every_character_of_the_value_is_still_readable(value):
    """Escaped, not dropped: each unsafe character becomes its escape, the rest stay as they are."""
    shown = line_safe.escape(value)
    for character in value:
        assert character in shown or line_safe.escape(character)[1:] in shown


def test_the_escapes_are_the_familiar_ones():
    assert line_safe.escape("a\nb\r\x1b[31m\x85\u2028\t") == "a\\nb\\r\\x1b[31m\\x85\\u2028\t"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the stream is emptied per example
@given(value=hostile_text)
def test_each_log_call_prints_exactly_one_line_whatever_its_values(value, output):  # noqa: F811
    output.seek(0)
    output.truncate()
    log.setup(debug=True)
    log.logger.info("Uploaded %s (%d bytes).", value, 3)
    log.logger.warning("Skipped %s: %s", value, ValueError(value))
    log.logger.debug("Running: %s", [value, "--flag"])
    log.logger.error("%(name)s failed", {"name": value})
    lines = _lines(output.getvalue())
    assert len(lines) == 4, repr(output.getvalue())
    assert lines[0].startswith("INFO: Uploaded ") and lines[0].endswith(" (3 bytes).")
    assert [line.split(":")[0] for line in lines] == ["INFO", "WARNING", "DEBUG", "ERROR"]
    for line in lines:
        _assert_shown_on_one_line(line)


@given(hostile_text)
def test_a_document_prints_one_line_per_argument(value):
    stream = io.StringIO()
    stdout, sys.stdout = sys.stdout, stream
    try:
        log.emit(f"Plan for {value}:", f"  upload (new): {value}", "")
    finally:
        sys.stdout = stdout
    assert len(stream.getvalue().split("\n")) == 4  # three lines and the final newline
    assert len(_lines(stream.getvalue())) == 3, repr(stream.getvalue())


@given(hostile_text)
def test_the_final_line_is_one_line(value):
    _assert_shown_on_one_line(log.final_line(f"Deployed {value} to shop-prod."))


@pytest.mark.parametrize("value", ["ok\n✔ Deployed forged", "x\r✔ Done", "\x1b[2K\x1b[1G✔", "a\u2028b\x85c"])
def test_the_output_of_a_program_the_pipe_runs_is_one_line_per_line_it_printed(value, capsys, tmp_path):
    status, _tail = process.run(
        [sys.executable, "-c", "import sys; sys.stdout.write(sys.argv[1] + '\\nsecond\\n')", value],
        env={"PATH": "/usr/bin:/bin"},
        cwd=Path(tmp_path),
        limit_seconds=60,
        limit_name="a test's limit",
    )
    assert status == 0
    printed = capsys.readouterr().out
    lines = _lines(printed)
    assert lines[-1] == f"{process.PROGRAM_FRAME}second"
    assert len(lines) == len(value.split("\n")) + 1, repr(printed)
    # Framed: no line the program printed can pass for one of the pipe's own (✔, ✖, INFO:).
    assert all(line.startswith(process.PROGRAM_FRAME) and log.pipe_mark(line) is None for line in lines)


# --- End to end: no value from outside forges or splits a line of a real run -------------------------
# Each run must print exactly one ✔ or ✖ line, the real last one. The values are every character of
# HOSTILE, each followed by a forged `✔ Deployed` line.

FORGED = "✔ Deployed everything"


def _status_lines(text: str) -> list[str]:
    # splitlines: every separator a log viewer may break a line on, not only "\n".
    return [line for line in text.splitlines() if line.lstrip().startswith(("✔", "✖"))]


def test_file_names_cannot_forge_lines_in_the_s3_sync_plan(run, pipe_env, clone_dir, s3):
    bucket = "forged-lines"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    names = {
        f"f{ord(character):x}{character}{FORGED}.html": "x" for character in HOSTILE if character != "\x00"
    }
    write_files(clone_dir / "build", names)
    env = pipe_env | {
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "DRY_RUN": "true",
    }
    result = run(env)
    assert result.returncode == 0, result.output
    assert _status_lines(result.output) == [result.last_line], result.output
    assert result.last_line.startswith("✔")


def test_token_claims_cannot_forge_lines_when_they_are_logged(run, pipe_env):
    token = make_token(branchName=f"main{LINE_BREAKS}{FORGED}", sub=f"\x1b[2K\r{FORGED}\u2028{FORGED}")
    result = run(pipe_env | {"BITBUCKET_STEP_OIDC_TOKEN": token})
    assert result.returncode == 0, result.output
    assert _status_lines(result.output) == [result.last_line], result.output
    assert "branchName=main\\n\\r" in result.output


def test_event_messages_cannot_add_lines_to_the_beanstalk_failure_details():
    events = [
        {"EventDate": datetime(2026, 1, 1, tzinfo=UTC), "Severity": "ERROR", "Message": f"x{c}{FORGED}"}
        for c in HOSTILE
    ]
    details = deploy._events_detail(events)
    assert len(details.split("\n")) == len(events) + 1
    for line in details.split("\n"):
        assert line_safe.is_safe(line)
