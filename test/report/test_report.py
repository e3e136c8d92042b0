"""pipe.report.record's log lines: the plan as a reviewer reads it in the step log, each line in the
colour of its change (colorlog's, through the pipe's one redacting handler)."""

import io
import logging

import pytest

import pipe.report
from pipe.common import log
from pipe.report import Item, Report

GREEN, RED, YELLOW, BLUE, RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[0m"


@pytest.fixture
def coloured(monkeypatch):
    """The pipe's log set up afresh as in a Bitbucket build (colour on, no TTY), written to a string;
    every logger setup() touches is put back afterwards."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("BITBUCKET_BUILD_NUMBER", "42")
    touched = [
        logging.getLogger(name) for name in ("", log.LOGGER_NAME, *log._LIBRARY_LOGGERS, *log._QUIET_LOGGERS)
    ]
    saved = [(list(named.handlers), named.level, named.propagate) for named in touched]
    saved_handler, capturing_warnings = log._handler, logging._warnings_showwarning is not None
    log._handler = None
    log.setup(debug=False)
    stream = io.StringIO()
    log._handler.setStream(stream)
    yield stream
    for named, (handlers, level, propagate) in zip(touched, saved, strict=True):
        named.handlers[:] = handlers
        named.setLevel(level)
        named.propagate = propagate
    log._handler = saved_handler
    logging.captureWarnings(capturing_warnings)
    pipe.report.forget()


def _plan(*items: Item) -> Report:
    return Report(
        "s3-sync", "plan", "PENDING", "Plan for s3://site", "2 new, 1 changed, 1 deleted.", items=items
    )


def test_plan_lines_are_green_red_and_yellow_by_their_change(coloured):
    pipe.report.record(
        _plan(
            Item("added", "index.html", "12 KiB"),
            Item("removed", "old.html"),
            Item("changed", "app.js", "3 KiB"),
            Item("replaced", "Bucket (AWS::S3::Bucket)"),
            Item("unchanged", "robots.txt"),
        )
    )
    assert coloured.getvalue().splitlines() == [
        f"{BLUE}INFO: Plan for s3://site: 2 new, 1 changed, 1 deleted.{RESET}",
        f"{GREEN}INFO:   added index.html (12 KiB){RESET}",
        f"{RED}INFO:   removed old.html{RESET}",
        f"{YELLOW}INFO:   changed app.js (3 KiB){RESET}",
        f"{YELLOW}INFO:   replaced Bucket (AWS::S3::Bucket){RESET}",
        f"{BLUE}INFO:   unchanged robots.txt{RESET}",
    ]
    assert [report.title for report in pipe.report.recorded()] == ["Plan for s3://site"]


def test_a_coloured_plan_line_is_still_escaped_and_redacted(coloured):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY"
    log.register_secret(secret)
    pipe.report.record(_plan(Item("added", f"a\nINFO: forged {secret}.html")))
    lines = coloured.getvalue().splitlines()
    assert len(lines) == 2 and secret not in coloured.getvalue()
    assert lines[1].startswith(f"{GREEN}INFO:   added a") and log.MASK in lines[1]


def test_no_color_leaves_plan_lines_plain(coloured, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    log._handler = None
    log.setup(debug=False)
    plain = io.StringIO()
    log._handler.setStream(plain)
    pipe.report.record(_plan(Item("added", "index.html"), Item("removed", "old.html")))
    assert "\x1b[" not in plain.getvalue()
    assert plain.getvalue().splitlines()[1:] == ["INFO:   added index.html", "INFO:   removed old.html"]


def test_only_the_first_items_are_logged_with_a_count_of_the_rest(coloured):
    items = [Item("added", f"f{number}.html") for number in range(pipe.report.LOGGED_ITEMS + 7)]
    pipe.report.record(_plan(*items))
    lines = coloured.getvalue().splitlines()
    assert len(lines) == 1 + pipe.report.LOGGED_ITEMS + 1
    assert lines[-1] == f"{BLUE}INFO:   … and 7 more (all of them in the shared-storage file).{RESET}"
    assert len(pipe.report.recorded()[0].items) == pipe.report.LOGGED_ITEMS + 7
