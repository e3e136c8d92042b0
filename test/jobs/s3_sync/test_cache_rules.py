import pytest

from pipe.jobs.s3_sync import cache_rules


def test_rules_and_a_default_value_with_equals_signs():
    rules = cache_rules.cache_control(
        ["*.html=no-cache", "assets/*=public, max-age=31536000, immutable", "public, max-age=3600"]
    )
    assert rules.value_for("index.html") == "no-cache"
    assert rules.value_for("docs/a/page.html") == "no-cache"
    assert rules.value_for("assets/js/app.js") == "public, max-age=31536000, immutable"
    assert rules.value_for("img/logo.png") == "public, max-age=3600"


@pytest.mark.parametrize("value", ["max-age=3600", "s-maxage=60, public", "public, max-age=3600", "no-cache"])
def test_a_single_directive_value_is_not_mistaken_for_a_rule(value):
    rules = cache_rules.cache_control([value])
    assert rules.rules == () and rules.value_for("x") == value


def test_first_matching_rule_wins_and_no_default_means_no_header():
    rules = cache_rules.cache_control(["index.html=no-store", "*.html=no-cache"])
    assert rules.value_for("index.html") == "no-store"
    assert rules.value_for("a.html") == "no-cache"
    assert rules.value_for("a.css") is None


def test_lines_of_a_plain_value():
    assert cache_rules.split_items("*.html=no-cache\n\n public, max-age=60 \n") == [
        "*.html=no-cache",
        "public, max-age=60",
    ]


@pytest.mark.parametrize(
    "items",
    [
        ["max-age=1", "no-cache"],
        ["*.html="],
        ["*.html=caf\u00e9"],
        ["*.html=no-cache, *.css=max-age=60"],
        ["max-age=60\x7f"],  # found by the property below: DEL is no header character
    ],
)
def test_bad_cache_control(items):
    with pytest.raises(ValueError):
        cache_rules.cache_control(items)


def test_content_type_rules_with_parameters():
    rules = cache_rules.content_type(["*.txt=text/plain; charset=utf-8", "feed=application/rss+xml"])
    assert rules.value_for("a/b.txt") == "text/plain; charset=utf-8"
    assert rules.value_for("feed") == "application/rss+xml"
    assert rules.value_for("a.css") is None


@pytest.mark.parametrize(
    "item",
    # The last two found by the property below: a parameter value must be a header value too.
    ["*.txt", "*.txt=plain", "=text/plain", "*.txt=text/plain; charset=\u20ac", "*.txt=text/plain; a=\x7f"],
)
def test_bad_content_type(item):
    with pytest.raises(ValueError):
        cache_rules.content_type([item])


# --- properties (hypothesis; the profile in test/conftest.py makes them repeatable) ------------------

import fnmatch  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_GLOB = st.text(alphabet=st.sampled_from(list("ab*?[]!/.-")), min_size=1, max_size=8)
_VALUE = st.text(alphabet=st.sampled_from(list("az09 ,=-*;/é\t\x7f€")), max_size=20) | st.text(max_size=20)
_PATH = st.text(alphabet=st.sampled_from(list("ab/.[]*-")), min_size=1, max_size=12)


@given(items=st.lists(st.one_of(_VALUE, st.tuples(_GLOB, _VALUE).map("=".join)), max_size=5), path=_PATH)
def test_cache_control_rules_parse_or_refuse_cleanly_and_the_first_match_wins(items, path):
    # Refusing every rule would pass the rest: known-good rules must be taken.
    known_good = cache_rules.cache_control(["*.html=no-cache", "max-age=60"])
    assert (known_good.value_for("a.html"), known_good.value_for("a.js")) == ("no-cache", "max-age=60")
    try:
        rules = cache_rules.cache_control(items)
    except ValueError:
        return
    for value in [value for _, value in rules.rules] + ([rules.default] if rules.default else []):
        assert value and value.isascii() and value.isprintable() and "*" not in value, repr(value)
    expected = next((value for glob, value in rules.rules if fnmatch.fnmatchcase(path, glob)), rules.default)
    assert rules.value_for(path) == expected


_TYPE = st.sampled_from(["text/plain", "application/json", "text/html; charset=utf-8", "x"])


@given(
    items=st.lists(
        st.text(max_size=30) | st.tuples(_GLOB, _TYPE, _VALUE).map(lambda t: f"{t[0]}={t[1]}{t[2]}"),
        max_size=5,
    )
)
def test_content_type_rules_parse_or_refuse_cleanly(items):
    assert cache_rules.content_type(["*.txt=text/plain; charset=utf-8"]).rules == (
        ("*.txt", "text/plain; charset=utf-8"),
    )
    try:
        rules = cache_rules.content_type(items)
    except ValueError:
        return
    for glob, value in rules.rules:
        # A header value: printable ASCII only (http.client cannot send others; S3 refuses them).
        assert glob and "/" in value and value == value.strip()
        assert value.isascii() and value.isprintable(), repr(value)


@given(raw=st.text(max_size=80))
def test_a_plain_value_splits_into_trimmed_non_empty_lines(raw):
    items = cache_rules.split_items(raw)
    assert all(item and item == item.strip() for item in items)
    assert "".join(items) == "".join(line.strip() for line in raw.splitlines())
