"""pipe.common.command_line: a refused option is found whatever its spelling, and never echoed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common import command_line
from pipe.common.command_line import Refused
from pipe.common.errors import PipeError

REFUSED = (Refused(("--server", "-s"), "it would send the token elsewhere"), Refused(("--token",), "secret"))
value = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
other_word = st.text(alphabet="abcdefgz0123456789-=/.:", max_size=12).filter(
    lambda word: not word.startswith(("-s", "--server", "--token"))
)


def _spellings(option: str, given_value: str) -> list[list[str]]:
    forms = [[option], [option, given_value], [f"{option}={given_value}"]]
    if not option.startswith("--"):
        forms.append([f"{option}{given_value}"])
    return forms


@given(
    option=st.sampled_from(["--server", "-s", "--token"]),
    given_value=value,
    before=st.lists(other_word, max_size=4),
    after=st.lists(other_word, max_size=4),
    form=st.integers(min_value=0, max_value=3),
)
def test_a_refused_option_is_one_line_in_every_spelling_and_its_value_is_not_echoed(
    option, given_value, before, after, form
):
    forms = _spellings(option, given_value)
    words = [*before, *forms[form % len(forms)], *after]
    with pytest.raises(PipeError) as raised:
        command_line.check(words, REFUSED, "KUBECTL_ARGS")
    message = raised.value.message
    assert message.startswith(f"KUBECTL_ARGS must not hold {option}: ")
    assert "\n" not in message
    if len(given_value) >= 4:
        assert given_value not in message


@given(st.lists(other_word, max_size=8))
def test_words_without_a_refused_option_pass(words):
    command_line.check(words, REFUSED, "KUBECTL_ARGS")


def test_a_longer_option_that_only_starts_like_a_refused_one_passes():
    command_line.check(["--server-side", "--tokens-file=x"], REFUSED, "KUBECTL_ARGS")


@given(st.sampled_from(["-f", "--filename"]), st.text(alphabet="abc/._", min_size=1, max_size=10))
def test_file_values_are_found_in_every_spelling(option, path):
    for words in _spellings(option, path)[1:]:
        assert command_line.values_of(["apply", *words], ("--filename", "-f")) == [path]
