"""pipe.signin.session_name: STS's rule for role session names, and the default made from the build."""

import random
import re

import pytest

from pipe.signin.session_name import FALLBACK, MAX_LENGTH, default, validate

# STS: RoleSessionName must match [\w+=,.@-]* and be 2 to 64 characters long (\w is ASCII).
STS_RULE = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")
MESSAGE = "must be 2-64 characters of letters, digits and + = , . @ _ -"


@pytest.mark.parametrize(
    "raw",
    ["ab", "a" * 64, "bitbucket-my-repo-42", "A+b=c,d.e@f_g-h", "__", "12", "--"],
)
def test_validate_accepts_what_sts_accepts(raw):
    assert validate(raw) == raw


def test_validate_drops_surrounding_whitespace():
    assert validate("  deploy-42\n") == "deploy-42"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a",
        " a ",
        "a" * 65,
        "my session",
        "a/b",
        "a:b",
        "a*b",
        "dé",
        "名前",
        "a١",
        "ａｂ",
        "tab\there",
        "a\u00a0b",
    ],
)
def test_validate_refuses_what_sts_refuses(raw):
    with pytest.raises(ValueError) as caught:
        validate(raw)
    assert str(caught.value) == MESSAGE


@pytest.mark.parametrize(
    ("slug", "build", "expected"),
    [
        ("my-repo", "42", "bitbucket-my-repo-42"),
        ("my.repo_2", "7", "bitbucket-my.repo_2-7"),
        ("my repo", "42", "bitbucket-my-repo-42"),
        ("my  /repo!", "42", "bitbucket-my-repo-42"),
        ("dépôt", "42", "bitbucket-d-p-t-42"),
        ("-repo-", "-42-", "bitbucket-repo-42"),
        ("repo", "4 2", "bitbucket-repo-4-2"),
        (None, "42", "bitbucket-42"),
        ("", "42", "bitbucket-42"),
        ("!!!", "42", "bitbucket-42"),
        ("repo", None, "bitbucket-repo"),
        ("repo", "", "bitbucket-repo"),
    ],
)
def test_default_is_bitbucket_slug_build_cleaned_to_sts_rules(slug, build, expected):
    assert default(slug, build) == expected


@pytest.mark.parametrize(("slug", "build"), [(None, None), ("", ""), ("///", "   "), ("名前", "")])
def test_default_without_slug_or_build_is_the_fallback(slug, build):
    assert default(slug, build) == FALLBACK


@pytest.mark.parametrize("build", ["1", "42", "123456"])
def test_a_long_slug_is_cut_and_the_build_number_survives(build):
    name = default("r" * 100, build)
    assert len(name) == MAX_LENGTH
    assert name == "bitbucket-" + "r" * (MAX_LENGTH - len("bitbucket-") - len(build) - 1) + "-" + build


def test_a_cut_does_not_leave_a_dash_before_the_build_number():
    # The cut falls just after the dash in "aaa-bbb": it must not give "...aaa--42".
    slug = "a" * 50 + "-" + "b" * 50
    name = default(slug, "42")
    assert name == "bitbucket-" + "a" * 50 + "-42"
    assert "--" not in name


ODD_TEXT = [
    "",
    " ",
    "-",
    "--",
    "a",
    "my repo",
    "dépôt-ünïcödé",
    "名前",
    "🙂🙂",
    "a/b\\c:d*e?f",
    "\t\n",
    "x" * 200,
    "-" * 100,
    "a-" * 60,
    "1" * 80,
    "${BITBUCKET_REPO_SLUG}",
    "'; DROP TABLE--",
]


def _random_text(rng: random.Random) -> str:
    alphabet = "ab-_.+=,@ /:é名🙂\t" + "0123456789"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 90)))


def test_every_default_is_a_valid_session_name():
    rng = random.Random(1234)
    cases = [(slug, build) for slug in [None, *ODD_TEXT] for build in [None, *ODD_TEXT]]
    cases += [(_random_text(rng), _random_text(rng)) for _ in range(2000)]
    for slug, build in cases:
        name = default(slug, build)
        assert STS_RULE.fullmatch(name), (slug, build, name)
        assert validate(name) == name


def test_a_build_number_always_ends_the_default():
    rng = random.Random(5678)
    for _ in range(500):
        slug, build = _random_text(rng), str(rng.randrange(1, 10**7))
        name = default(slug, build)
        assert name.endswith(f"-{build}"), (slug, build, name)
        assert len(name) <= MAX_LENGTH


# --- properties (hypothesis; the profile in test/conftest.py makes them repeatable) ------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SLUG = st.text(max_size=120) | st.text(alphabet=st.sampled_from(list("ab-_.9 é/=@")), max_size=120)
_BUILD = st.from_regex(r"[0-9]{0,12}", fullmatch=True) | st.text(max_size=20)


@given(slug=st.none() | _SLUG, build=st.none() | _BUILD)
def test_the_default_always_satisfies_sts(slug, build):
    name = default(slug, build)
    assert STS_RULE.fullmatch(name), name
    assert validate(name) == name


@given(slug=_SLUG, build=st.from_regex(r"[1-9][0-9]{0,9}", fullmatch=True))
def test_the_build_number_survives_any_shortening(slug, build):
    assert default(slug, build).endswith(f"-{build}")


@given(raw=st.text(max_size=80))
def test_validate_accepts_exactly_what_sts_accepts(raw):
    try:
        accepted = validate(raw)
    except ValueError as error:
        assert str(error) == MESSAGE
        assert not STS_RULE.fullmatch(raw.strip())
        return
    assert accepted == raw.strip() and STS_RULE.fullmatch(accepted)
