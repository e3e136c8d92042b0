"""pipe.common.block_yaml: every document it writes reads back, with PyYAML, as written."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipe.common.block_yaml import block_yaml

# Text a YAML reader could take for something else: numbers, dates, booleans, nulls, indicators,
# comments, line breaks of every kind, quotes, escapes, control and bidi characters, astral planes.
_AWKWARD = st.sampled_from(
    [
        "",
        " ",
        "true",
        "No",
        "null",
        "~",
        "0x1F",
        "1_000",
        "2010-09-09",
        "12:30",
        ".inf",
        "-",
        "- a",
        "? x",
        "a: b",
        "a #c",
        "a:",
        "#",
        "&a",
        "*a",
        "!t",
        "%x",
        "@x",
        "`x",
        "'",
        '"',
        "\\",
        "{a: 1}",
        "[1]",
        "|",
        ">",
        "a\nb",
        "\r",
        "\x85",
        "\u2028",
        "\x7f",
        "\x00",
        "\ufeff",
        "\U0001f600",
        "\ud800",
        "<<",
        "=",
    ]
)
_TEXT = st.one_of(
    _AWKWARD, st.text(max_size=30), st.from_regex(r"[A-Za-z][A-Za-z0-9 _./:@${}()+=*,-]*", fullmatch=True)
)
_SCALARS = st.one_of(_TEXT, st.integers(), st.booleans(), st.none())
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_TEXT, children, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=150)  # PyYAML's pure-Python reader is slow; the writer is not
@given(st.dictionaries(_TEXT, _DOCUMENTS, max_size=5))
def test_the_yaml_writer_reads_back_as_written(document):
    text = block_yaml(document)
    assert text.isascii()
    assert yaml.safe_load(text) == (document or None)


@pytest.mark.parametrize("value", ["plain", "", [1, ["a"]], {"b": {"c": None}}])
def test_a_key_longer_than_yaml_reads_inline_is_written_explicitly(value):
    # An issuer path can be long: YAML reads `key: value` only up to 1024 characters of key.
    document = {"x" * 1500 + ":aud": value, "after": "é\n"}
    assert yaml.safe_load(block_yaml(document)) == document
