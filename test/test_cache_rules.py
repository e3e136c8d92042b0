import pytest

from pipe import cache_rules


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
    [["max-age=1", "no-cache"], ["*.html="], ["*.html=caf\u00e9"], ["*.html=no-cache, *.css=max-age=60"]],
)
def test_bad_cache_control(items):
    with pytest.raises(ValueError):
        cache_rules.cache_control(items)


def test_content_type_rules_with_parameters():
    rules = cache_rules.content_type(["*.txt=text/plain; charset=utf-8", "feed=application/rss+xml"])
    assert rules.value_for("a/b.txt") == "text/plain; charset=utf-8"
    assert rules.value_for("feed") == "application/rss+xml"
    assert rules.value_for("a.css") is None


@pytest.mark.parametrize("item", ["*.txt", "*.txt=plain", "=text/plain"])
def test_bad_content_type(item):
    with pytest.raises(ValueError):
        cache_rules.content_type([item])
