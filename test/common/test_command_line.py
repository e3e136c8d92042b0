"""pipe.common.command_line: a control character in an argument is refused, naming the variable, and
the value is never echoed; text without one passes unchanged."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common import command_line
from pipe.common.errors import PipeError

CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + ["\u2028", "\u2029", "\u202e", "\u2066"]
plain = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@given(plain, st.sampled_from(CONTROLS), plain)
def test_a_control_character_anywhere_is_refused_and_not_echoed(before, control, after):
    text = f"{before}{control}{after}"
    with pytest.raises(PipeError) as raised:
        command_line.check_argument(text, "CDK_ARGS")
    message = raised.value.message
    assert message.startswith("CDK_ARGS holds a control character") and "\n" not in message
    if len(before) >= 4:
        assert before not in message


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")), max_size=30))
def test_text_without_control_characters_passes_unchanged(text):
    assert command_line.check_argument(text, "KUBECTL_ARGS") == text
