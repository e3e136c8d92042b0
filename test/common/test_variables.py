"""pipe.common.variables: the parsers, Variable.read's checks and messages, and read_all through the toolkit."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.common.variables import (
    MAX_LIST_ITEMS,
    MAX_VALUE_LENGTH,
    Variable,
    boolean,
    choice,
    integer,
    matching,
    read_all,
    shown,
)
from test.support.encodings import not_utf8

# --- parsers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["true", "TRUE", " yes ", "1", "On"])
def test_boolean_true_spellings(raw):
    assert boolean(raw) is True


@pytest.mark.parametrize("raw", ["false", "False", "no", "0", " off "])
def test_boolean_false_spellings(raw):
    assert boolean(raw) is False


@pytest.mark.parametrize("raw", ["", "y", "2", "truthy", "!!python/object"])
def test_boolean_refuses_anything_else(raw):
    with pytest.raises(ValueError, match=r"^must be true or false$"):
        boolean(raw)


def test_integer_accepts_the_bounds_and_surrounding_spaces():
    parse = integer(900, 43200, "seconds")
    assert parse("900") == 900
    assert parse(" 43200 ") == 43200


@pytest.mark.parametrize("raw", ["899", "43201", "-1000", "1e3", "3600.0", "0x10", ""])
def test_integer_refuses_out_of_range_and_non_decimal_text(raw):
    with pytest.raises(ValueError) as caught:
        integer(900, 43200, "seconds")(raw)
    assert str(caught.value) == "must be a whole number of seconds from 900 to 43200"


def test_integer_without_unit_says_so():
    with pytest.raises(ValueError) as caught:
        integer(1, 5)("6")
    assert str(caught.value) == "must be a whole number from 1 to 5"


def test_choice_accepts_only_the_listed_options():
    parse = choice(("plan", "apply"))
    assert parse(" apply ") == "apply"
    with pytest.raises(ValueError) as caught:
        parse("Apply")
    assert str(caught.value) == "must be one of plan, apply"


def test_matching_needs_the_whole_value_to_match():
    parse = matching(r"\d{12}", "a 12-digit account ID")
    assert parse(" 123456789012 ") == "123456789012"
    for raw in ("1234567890123", "x123456789012", "12345678901"):
        with pytest.raises(ValueError) as caught:
            parse(raw)
        assert str(caught.value) == "must be a 12-digit account ID"


# --- Variable.read ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, ""])
def test_a_missing_required_variable_is_refused(raw):
    with pytest.raises(PipeError) as caught:
        Variable("COMMAND", required=True).read(raw)
    assert caught.value.message == "COMMAND is required."


def test_a_missing_required_variable_says_how_to_fix_it():
    with pytest.raises(PipeError) as caught:
        Variable("COMMAND", required=True, fix="set it to whoami.").read(None)
    assert caught.value.message == "COMMAND is required: set it to whoami."


@pytest.mark.parametrize("raw", [None, ""])
def test_a_missing_optional_variable_takes_its_default(raw):
    assert Variable("DEBUG", parse=boolean, default=False).read(raw) is False
    assert Variable("NAME").read(raw) is None


def test_a_value_is_parsed():
    assert Variable("DEBUG", parse=boolean, default=False).read("true") is True


def test_a_bad_value_is_echoed_quoted_in_the_error():
    with pytest.raises(PipeError) as caught:
        Variable("DEBUG", parse=boolean).read("maybe")
    assert caught.value.message == "DEBUG must be true or false, got 'maybe'."


def test_a_long_bad_value_is_echoed_cut_at_60_characters():
    raw = "x" * 59 + "ABCDEFG"
    with pytest.raises(PipeError) as caught:
        Variable("DEBUG", parse=boolean).read(raw)
    assert caught.value.message == f"DEBUG must be true or false, got '{'x' * 59}A...'."


def test_shown_escapes_what_it_echoes():
    assert shown("a'b\"c\\d\té") == repr("a'b\"c\\d\té")
    assert shown("y" * 60) == repr("y" * 60)
    assert shown("y" * 61) == repr("y" * 60 + "...")


def test_a_bad_secret_value_is_never_echoed():
    raw = "wJalrXUtnFEMI-not-a-number"
    with pytest.raises(PipeError) as caught:
        Variable("AWS_SECRET_ACCESS_KEY", parse=integer(1, 2), secret=True).read(raw)
    assert caught.value.message == "AWS_SECRET_ACCESS_KEY must be a whole number from 1 to 2."
    assert "wJalr" not in str(caught.value) + caught.value.details


@pytest.mark.parametrize("raw", ["a\x07b", "a\x00b", "\x1b[31mred", "line\x0b"])
def test_control_characters_are_refused_without_echoing_the_value(raw):
    with pytest.raises(PipeError) as caught:
        Variable("AWS_ROLE_SESSION_NAME").read(raw)
    assert (
        caught.value.message
        == "AWS_ROLE_SESSION_NAME contains control characters; remove them from the value."
    )


def test_tabs_and_line_breaks_are_not_control_characters_here():
    assert Variable("SCRIPT").read("a\tb\r\nc") == "a\tb\r\nc"


def test_a_value_of_the_maximum_length_is_read():
    assert len(Variable("BIG").read("a" * MAX_VALUE_LENGTH)) == MAX_VALUE_LENGTH


def test_a_value_over_the_maximum_length_is_refused_before_parsing():
    def parse(_raw):
        raise AssertionError("must not be parsed")

    with pytest.raises(PipeError) as caught:
        Variable("BIG", parse=parse).read("a" * (MAX_VALUE_LENGTH + 1))
    assert (
        caught.value.message
        == f"BIG is {MAX_VALUE_LENGTH + 1} characters long; the limit is {MAX_VALUE_LENGTH}."
    )


# --- read_all: values reach the parsers exactly as set ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "[x",
        "{x",
        "*x",
        "&anchor x",
        "!!python/object:os.system",
        "yes",
        "no",
        "010",
        "0x1F",
        "1e3",
        "~",
        "null",
        "- a",
        "a: b",
    ],
)
def test_yaml_looking_values_arrive_as_the_exact_string(raw):
    values = read_all((Variable("VALUE"), Variable("OTHER")), {"VALUE": raw, "OTHER": f" {raw} "})
    assert values == {"VALUE": raw, "OTHER": f" {raw} "}


def test_read_all_reads_only_declared_variables_and_fills_defaults():
    variables = (
        Variable("DEBUG", parse=boolean, default=False),
        Variable("COUNT", parse=integer(1, 9), default=3),
    )
    values = read_all(variables, {"DEBUG": "true", "UNDECLARED": "x", "PATH": "/bin"})
    assert values == {"DEBUG": True, "COUNT": 3}


def test_read_all_stops_at_the_first_bad_value():
    variables = (Variable("DEBUG", parse=boolean), Variable("COUNT", parse=integer(1, 9)))
    with pytest.raises(PipeError) as caught:
        read_all(variables, {"DEBUG": "sometimes", "COUNT": "99"})
    assert caught.value.message == "DEBUG must be true or false, got 'sometimes'."


# --- list variables ----------------------------------------------------------------------------------------------

IDS = Variable("IDS", is_list=True, parse=matching(r"\d{12}", "a list of 12-digit AWS account IDs"))
A, B, C = "111111111111", "222222222222", "333333333333"


def test_a_list_in_count_form():
    env = {"IDS_COUNT": "3", "IDS_0": A, "IDS_1": f" {B} ", "IDS_2": C}
    assert read_all((IDS,), env) == {"IDS": [A, B, C]}


@pytest.mark.parametrize("plain", [f"{A},{B},{C}", f"{A}, {B} {C}", f" {A}\n{B}\t{C} ", f",{A},,{B},{C},"])
def test_a_list_as_one_comma_or_space_separated_value(plain):
    assert read_all((IDS,), {"IDS": plain}) == {"IDS": [A, B, C]}


@pytest.mark.parametrize(
    "env",
    [
        {"IDS": C, "IDS_COUNT": "1", "IDS_0": A},
        {"IDS": C, "IDS_COUNT": "0"},
        {"IDS": f"{A} {C}", "IDS_COUNT": "1", "IDS_0": A},
    ],
    ids=["other-item", "count-0-with-a-plain-value", "plain-has-more"],
)
def test_a_plain_value_and_a_count_form_that_differ_are_refused(env):
    """Before 0.7 the count form silently won: a plain guard-rail value was ignored."""
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), env)
    assert caught.value.message.startswith("IDS is set both as a list (IDS_COUNT=")


def test_a_plain_value_and_a_count_form_that_agree_are_one_list():
    assert read_all((IDS,), {"IDS": f"{A},{B}", "IDS_COUNT": "2", "IDS_0": A, "IDS_1": B}) == {"IDS": [A, B]}


def test_an_empty_count_falls_back_to_the_plain_value():
    assert read_all((IDS,), {"IDS": A, "IDS_COUNT": " "}) == {"IDS": [A]}


@given(st.lists(st.sampled_from([A, B, "", "  ", "\t"]), min_size=1, max_size=6))
def test_an_empty_item_in_count_form_is_refused_naming_it(items):
    """An item from an unset variable (['$UNSET']) is empty: refused, never dropped (fail closed)."""
    env = {"IDS_COUNT": str(len(items))} | {f"IDS_{index}": item for index, item in enumerate(items)}
    empty = [index for index, item in enumerate(items) if not item.strip()]
    if not empty:
        assert read_all((IDS,), env) == {"IDS": items}
        return
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), env)
    assert caught.value.message.startswith(f"IDS_{empty[0]} is empty")


@given(st.text(alphabet=" ,\t\n", min_size=1, max_size=8))
def test_a_set_plain_value_without_items_is_refused(plain):
    if not plain.strip():
        assert read_all((IDS,), {"IDS": plain}) == {"IDS": []}  # blank is unset
        return
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), {"IDS": plain})
    assert caught.value.message == "IDS is set but holds no items; give at least one item or unset it."


@pytest.mark.parametrize("count", ["abc", "-1", "1.5", "1001"])
def test_a_count_that_is_not_a_number_of_items_is_refused(count):
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), {"IDS_COUNT": count, "IDS_0": A})
    assert caught.value.message == f"IDS_COUNT must be the number of items in IDS, got {count!r}."


def test_a_missing_numbered_item_is_refused():
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), {"IDS_COUNT": "3", "IDS_0": A, "IDS_2": C})
    assert caught.value.message == "IDS_COUNT is 3 but IDS_1 is missing."


def test_a_bad_item_is_named_with_its_value():
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), {"IDS": f"{A},12345"})
    assert caught.value.message == "IDS must be a list of 12-digit AWS account IDs, got '12345'."


def test_an_item_with_control_characters_is_refused():
    with pytest.raises(PipeError) as caught:
        read_all((IDS,), {"IDS_COUNT": "1", "IDS_0": f"{A}\x07"})
    assert caught.value.message == "IDS contains control characters; remove them from the value."


@pytest.mark.parametrize("env", [{}, {"IDS": ""}, {"IDS": "  "}, {"IDS_COUNT": "0"}])
def test_an_empty_list_is_empty_or_its_default(env):
    assert read_all((IDS,), env) == {"IDS": []}
    with_default = Variable("IDS", is_list=True, default=[A])
    assert read_all((with_default,), env) == {"IDS": [A]}


def test_an_empty_required_list_is_refused():
    required = Variable("IDS", is_list=True, required=True, fix="list the accounts.")
    with pytest.raises(PipeError) as caught:
        read_all((required,), {"IDS_COUNT": "0"})
    assert caught.value.message == "IDS is required: list the accounts."


@pytest.mark.parametrize("raw", ["３６００", "٣٦٠٠", "3600\u0663"])
def test_integer_refuses_digits_from_other_scripts(raw):
    with pytest.raises(ValueError):
        integer(900, 43200)(raw)


def test_matching_is_ascii_only():
    with pytest.raises(ValueError):
        matching(r"\d{12}", "a 12-digit account ID")("１２３４５６７８９０１２")


def test_a_list_variable_may_split_a_plain_value_its_own_way_and_combine_the_items():
    lines = Variable(
        "RULES", is_list=True, split=lambda raw: raw.splitlines(), combine=lambda items: "|".join(items)
    )
    assert read_all((lines,), {"RULES": "a=1, b\nc"})["RULES"] == "a=1, b|c"
    assert read_all((lines,), {"RULES_COUNT": "2", "RULES_0": "x, y", "RULES_1": "z"})["RULES"] == "x, y|z"


def test_a_combine_that_refuses_the_items_is_one_line():
    def refuse(items):
        raise ValueError("has two defaults")

    with pytest.raises(PipeError, match=r"^RULES has two defaults\.$"):
        read_all((Variable("RULES", is_list=True, combine=refuse),), {"RULES": "a b"})


# --- one rule per limit, whatever form the value came in (issue 29, class 7) ---------------------------


@settings(max_examples=20)
@given(extra=st.integers(min_value=1, max_value=600), separator=st.sampled_from([",", " ", "\n", ", "]))
def test_the_list_limit_holds_for_one_plain_value_as_for_the_count_form(extra, separator):
    items = [f"i{index}" for index in range(MAX_LIST_ITEMS + extra)]
    listed = Variable("PATHS", is_list=True)
    with pytest.raises(PipeError, match=rf"^PATHS holds {len(items)} items; the limit is {MAX_LIST_ITEMS}\."):
        read_all((listed,), {"PATHS": separator.join(items)})
    with pytest.raises(PipeError, match=r"^PATHS_COUNT must be the number of items"):
        read_all((listed,), {"PATHS_COUNT": str(len(items))} | {f"PATHS_{i}": v for i, v in enumerate(items)})
    assert (
        len(read_all((listed,), {"PATHS": separator.join(items[:MAX_LIST_ITEMS])})["PATHS"]) == MAX_LIST_ITEMS
    )


undecodable = not_utf8()


@given(
    prefix=st.text(alphabet="abc/", max_size=5), raw=undecodable, listed=st.booleans(), counted=st.booleans()
)
def test_bytes_that_are_not_utf8_are_refused_in_every_form(prefix, raw, listed, counted):
    # os.environ hands such bytes over as lone surrogates (surrogateescape).
    value = prefix + raw.decode("utf-8", "surrogateescape")
    variable = Variable("NAME", is_list=listed)
    env = {"NAME_COUNT": "1", "NAME_0": value} if listed and counted else {"NAME": value}
    with pytest.raises(PipeError, match=r"^NAME holds bytes that are not UTF-8 text"):
        read_all((variable,), env)
