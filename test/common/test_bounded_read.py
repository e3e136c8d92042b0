"""pipe.common.bounded_read: every file the pipe opens is a regular file read within its size limit,
and YAML/JSON load within limits on depth and alias expansion, each refusal one PipeError line."""

import json
import os
import threading
import time

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipe.common import bounded_read
from pipe.common.bounded_read import MAX_EXPANDED_NODES, MAX_NESTING_DEPTH
from pipe.common.errors import PipeError

# Generous for a test on two shared cores; a read that blocked or expanded would take for ever.
BOUND_SECONDS = 10


def _bounded(call):
    """Run `call` in a thread; fail the test (not hang it) if it does not finish within BOUND_SECONDS."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test thread
            outcome["error"] = error

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(BOUND_SECONDS)
    assert not worker.is_alive(), f"did not finish within {BOUND_SECONDS} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_a_regular_file_within_its_limit_is_read(tmp_path):
    path = tmp_path / "token"
    path.write_bytes(b"x" * 100)
    assert bounded_read.read_bytes(path, 100, "TOKEN") == b"x" * 100


def test_a_file_over_its_limit_is_one_line_naming_the_file_and_the_limit(tmp_path):
    path = tmp_path / "token"
    path.write_bytes(b"x" * 101)
    with pytest.raises(PipeError, match=r"^TOKEN is 101 bytes; the limit for this file is 100 bytes\.$"):
        bounded_read.read_bytes(path, 100, "TOKEN")


def test_a_fifo_is_refused_at_once_without_a_writer(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(PipeError, match="TOKEN is not a regular file"):
        _bounded(lambda: bounded_read.read_bytes(fifo, 100, "TOKEN"))


def test_a_device_is_refused_without_reading_it():
    with pytest.raises(PipeError, match="TOKEN is not a regular file"):
        _bounded(lambda: bounded_read.read_bytes("/dev/zero", 100, "TOKEN"))


def test_a_directory_is_refused(tmp_path):
    with pytest.raises((PipeError, IsADirectoryError)):
        bounded_read.read_bytes(tmp_path, 100, "TOKEN")


def _nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_yaml(depth: int, flow: bool) -> str:
    if flow:
        return "{a: " * depth + "1" + "}" * depth
    return "".join("  " * level + "a:\n" for level in range(depth)) + "  " * depth + "1\n"


@given(st.integers(min_value=1, max_value=200_000))
def test_json_nesting_is_accepted_up_to_the_limit_and_one_line_beyond(depth):
    text = _nested_json(depth)
    if depth <= MAX_NESTING_DEPTH:
        assert bounded_read.load_json(text, "cdk.json") == json.loads(text)
    else:
        with pytest.raises(PipeError, match=f"cdk.json nests deeper than {MAX_NESTING_DEPTH} levels"):
            bounded_read.load_json(text, "cdk.json")


@given(st.integers(min_value=1, max_value=200_000), st.booleans())
def test_yaml_nesting_is_accepted_up_to_the_limit_and_one_line_beyond(depth, flow):
    # Block style costs depth² bytes of indentation: deep cases are drawn in flow style.
    text = _nested_yaml(depth, flow or depth > 2 * MAX_NESTING_DEPTH)
    if depth < MAX_NESTING_DEPTH:
        assert bounded_read.load_yaml_documents(text, "k8s/app.yaml") == list(yaml.safe_load_all(text))
    elif depth > MAX_NESTING_DEPTH:
        with pytest.raises(PipeError, match=f"k8s/app.yaml nests deeper than {MAX_NESTING_DEPTH} levels"):
            bounded_read.load_yaml_documents(text, "k8s/app.yaml")


def _laughs(levels: int, fan_out: int, as_list_kind: bool) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"a{level}: &a{level} [{refs}]")
    body = "\n".join(lines)
    if as_list_kind:
        return f"kind: List\napiVersion: v1\nitems:\n- kind: ConfigMap\n  data:\n    {body.replace(chr(10), chr(10) + '    ')}\n"
    return body + "\n"


@given(st.integers(min_value=2, max_value=30), st.integers(min_value=2, max_value=12), st.booleans())
def test_alias_expansion_is_bounded_whatever_the_shape(levels, fan_out, as_list_kind):
    text = _laughs(levels, fan_out, as_list_kind)
    expanded = sum(fan_out**level for level in range(levels + 1))
    started = time.monotonic()
    if expanded * 2 < MAX_EXPANDED_NODES:  # well within: the document loads as PyYAML loads it
        assert bounded_read.load_yaml_documents(text, "m.yaml") == list(yaml.safe_load_all(text))
    elif expanded > MAX_EXPANDED_NODES:
        with pytest.raises(PipeError, match=r"m\.yaml expands to more than 2000000 values"):
            bounded_read.load_yaml_documents(text, "m.yaml")
    assert time.monotonic() - started < BOUND_SECONDS


def test_an_alias_that_refers_to_itself_is_one_line():
    with pytest.raises(PipeError, match="refers to itself"):
        bounded_read.load_yaml_documents("a: &a [*a]\n", "m.yaml")


def test_shared_aliases_that_do_not_loop_are_fine():
    text = "base: &b {x: 1}\none: *b\ntwo: [*b, *b]\n"
    assert bounded_read.load_yaml_documents(text, "m.yaml") == list(yaml.safe_load_all(text))
