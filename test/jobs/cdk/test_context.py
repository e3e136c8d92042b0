import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.jobs.cdk import context as cdk_context


@pytest.mark.parametrize(
    ("item", "pair"),
    [
        ("stage=prod", ("stage", "prod")),
        (" stage = prod ", ("stage", "prod")),
        ("url=https://x.example/?a=b", ("url", "https://x.example/?a=b")),
        ("@aws-cdk/core:bootstrapQualifier=team42", ("@aws-cdk/core:bootstrapQualifier", "team42")),
        ("my-app.env=", ("my-app.env", "")),
    ],
)
def test_key_value_items_are_read(item, pair):
    assert cdk_context.pair(item) == pair


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("stage", "must be a list of key=value items"),
        ("=prod", "must be a list of key=value items"),
        ('["stage=prod"', "keys must be letters, digits"),
        ("--app=x", "keys must be letters, digits"),
        ("aws:cdk:enable-path-metadata=false", "keys must not start with aws:"),
    ],
)
def test_items_the_cdk_would_misread_are_refused(item, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        cdk_context.pair(item)


# Any text that is not a key the CDK accepts, before the first '=', is refused: never passed on.
@given(st.text(min_size=1, max_size=20).filter(lambda key: "=" not in key), st.text(max_size=20))
def test_a_key_outside_the_accepted_characters_is_never_passed_on(key, value):
    try:
        parsed_key, _ = cdk_context.pair(f"{key}={value}")
    except (ValueError, PipeError):  # PipeError: a control character, refused for every argument
        return
    assert re.fullmatch(r"[A-Za-z0-9_@][A-Za-z0-9_@.:/-]*", parsed_key) and not parsed_key.startswith("aws:")


def test_a_plain_value_is_split_on_commas_and_spaces():
    assert cdk_context.split_plain("") == [] and cdk_context.split_plain(" , ") == []
    assert cdk_context.split_plain("stage=prod, stackName=Shop  region=eu") == [
        "stage=prod",
        "stackName=Shop",
        "region=eu",
    ]


def test_a_json_list_in_a_plain_value_is_refused_with_the_yaml_list_form():
    with pytest.raises(PipeError) as raised:
        cdk_context.split_plain('["stage=prod", "stackName=X"]')
    assert str(raised.value) == (
        "CDK_CONTEXT holds a JSON or YAML list in one plain value, which would be split on commas and "
        "spaces; write it in the step as a YAML list instead: CDK_CONTEXT: ['stage=prod', 'stackName=X']"
    )


@given(st.text(max_size=40))
def test_any_list_or_map_looking_plain_value_is_refused_in_one_line(rest):
    for opener in "[{":
        with pytest.raises(PipeError) as raised:
            cdk_context.split_plain(f"  {opener}{rest}")
        message = str(raised.value)
        assert "\n" not in message and "CDK_CONTEXT: [" in message
        # The suggestion repeats the value only when it is a short list of printable strings.
        assert rest not in message or rest == "" or all(32 <= ord(c) < 127 for c in rest)
