"""pipe.common.secret_forms through redact(): every form a secret takes in text is masked, and the
leak scan (test/support/leaks.py, written apart from the pipe) finds nothing of it afterwards."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common import secret_forms
from pipe.common.log import MASK, redact, register_secret
from test.support import leaks
from test.support.encodings import FORMS

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
    assert all(len(form) >= secret_forms.MIN_CUT_SHORT_LENGTH for form in secret_forms.plain_forms("a" * 17))
    assert "a" * 15 not in secret_forms.plain_forms("a" * 17)
