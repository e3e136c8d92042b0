"""pipe.common.secret_forms through redact(): every form a secret takes in text is masked, and the
leak scan (test/support/leaks.py, which decodes with the same module) finds nothing of it afterwards.
The planted forms come from the standard library's encoders (test/support/encodings.py)."""

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipe.common import secret_forms
from pipe.common.log import MASK, redact, register_secret
from test.support import leaks
from test.support.encodings import FORMS, hostile_output

# Unique per test file (registered secrets stay registered): '/' and '+' so that every encoder changes it.
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzFORMS/+XY"
SCANNED = leaks.Secret("AWS_SESSION_TOKEN", SECRET)


# Each test registers them (registering again changes nothing): so every test exercises the
# registration, which is what `make mutate` needs to know which tests to run for it.
@pytest.fixture(autouse=True)
def registered():
    register_secret(SECRET)


@pytest.mark.parametrize("form", FORMS)
def test_each_form_is_masked_in_a_debug_line(form):
    planted = FORMS[form](SECRET)
    assert leaks.hits(planted.encode(), [SCANNED]), "the planted form must be a leak to begin with"
    redacted = redact(f"DEBUG: sent {planted}\nnext line")
    assert leaks.hits(redacted.encode(), [SCANNED]) == []
    assert MASK in redacted and redacted.startswith("DEBUG: sent ") and redacted.endswith("\nnext line")


@given(
    form=st.sampled_from(sorted(FORMS)),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
)
def test_each_form_is_masked_whatever_surrounds_it(form, before, after):
    redacted = redact(before + FORMS[form](SECRET) + after)
    assert leaks.hits(redacted.encode("utf-8", "surrogatepass"), [SCANNED]) == []


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_text_without_the_secret_comes_out_as_it_went_in(text):
    # A property that cannot pass by masking everything: ordinary text stays as it is.
    assert redact(text) == text


def test_ordinary_text_stays_as_it_is_next_to_a_masked_form():
    assert redact(f"url=https://x/?a={FORMS['percent-encoded (quote_plus)'](SECRET)}&b=2") == (
        f"url=https://x/?a={MASK}&b=2"
    )


def test_a_whole_secret_is_masked_whole_not_as_its_cut_short_form():
    assert redact(f"[{SECRET}]") == f"[{MASK}]"


def test_cut_short_forms_of_a_short_secret_are_not_masked():
    # A secret of 17 characters cut by two is 15: too short to tell from an ordinary word.
    short = "a1b2c3d4e5f6g7h8i"
    register_secret(short)
    assert redact(f"[{short[:-2]}]") == f"[{short[:-2]}]"
    assert redact(f"[{short}]") == f"[{MASK}]"


@settings(max_examples=300, deadline=None)
@given(output=hostile_output(SECRET))
def test_whatever_the_scan_finds_in_a_text_redact_has_masked(output):
    """The scan and redact() share the decoder: every form the scan knows, wrapped, escaped, mixed."""
    assert leaks.hits(output.encode(), [SCANNED])
    assert leaks.hits(redact(output).encode(), [SCANNED]) == []


@pytest.mark.parametrize("column", [1, 4, 60, 64, 76, 77])
@pytest.mark.parametrize("encoding", ["base64", "base64url", "hex", "HEX", "plain"])
def test_a_secret_wrapped_at_any_column_is_found_and_masked(column, encoding):
    raw = b"user:" + SECRET.encode()
    text = {
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode(),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "plain": raw.decode(),
    }[encoding]
    wrapped = "\n".join(text[i : i + column] for i in range(0, len(text), column))
    assert leaks.hits(wrapped.encode(), [SCANNED])
    assert leaks.hits(redact(wrapped).encode(), [SCANNED]) == []


@pytest.mark.parametrize(
    "escaped",
    [
        "".join(f"\\u{ord(c):04X}" for c in SECRET),  # JSON, every character
        SECRET.replace("+", "\\u002B").replace("/", "\\/"),  # JSON, as some encoders write it
        "".join(f"%{b:02X}" for b in SECRET.encode()),  # every byte percent-encoded
        SECRET.replace("/", "%2f").replace("M", "%4D"),  # some of them
        "".join(f"\\{c}" if c.isalpha() and c not in "nrtbfvaxuU" else c for c in SECRET),  # backslashes
        "".join(f"\\x{b:02x}" for b in SECRET.encode()),  # C-style hex escapes
    ],
    ids=["json-u-all", "json-u-some", "percent-all", "percent-some", "backslashes", "c-hex"],
)
def test_escapings_no_encoder_list_produced_are_found_and_masked(escaped):
    assert leaks.hits(escaped.encode(), [SCANNED])
    assert leaks.hits(redact(f"x {escaped} y").encode(), [SCANNED]) == []
    assert redact(f"x {escaped} y") == f"x {MASK} y"


def test_a_hit_maps_back_to_the_characters_it_came_from():
    table = secret_forms.Table([("s", SECRET)])
    text = "ab\n  " + SECRET[:10] + "\n  " + SECRET[10:] + " cd"
    (start, end) = secret_forms.spans(text, table)[0]
    assert text[:start] == "ab\n  " and text[end:] == " cd"
