import random

import pytest

from pipe.jobs.s3_sync import keys as s3_keys

ODD_SEGMENTS = [
    "..",
    ".",
    "",
    "a",
    "é",
    "日本",
    "a b",
    "%2e%2e",
    "...",
    "a..b",
    "~",
    "-",
    "\\",
    "\x00",
    "?",
    "#",
    "*",
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("site", ("site", "")),
        ("site/www", ("site", "www")),
        ("s3://site/www/", ("site", "www")),
        ("my.site-1/a/b", ("my.site-1", "a/b")),
    ],
)
def test_parse_location(raw, expected):
    assert s3_keys.parse_location(raw) == expected


@pytest.mark.parametrize("raw", ["", "Site", "a", "site_1/x", "site/../x", "site/a//b", "site/./a", "-site"])
def test_parse_location_refuses(raw):
    with pytest.raises(ValueError):
        s3_keys.parse_location(raw)


def test_keys_never_escape_the_prefix_whatever_the_segments():
    """Property-style: random paths built from odd segments either are refused or stay under the prefix."""
    rng = random.Random(5)
    for _ in range(5000):
        relative = "/".join(rng.choice(ODD_SEGMENTS) for _ in range(rng.randint(1, 4)))
        for prefix in ("", "www", "a/b"):
            try:
                key = s3_keys.key_for(prefix, relative)
            except s3_keys.UnsafeKey:
                continue
            segments = key.split("/")
            assert ".." not in segments and "." not in segments and "" not in segments, key
            assert not key.startswith("/") and "\\" not in key and "\x00" not in key, key
            assert key.startswith(s3_keys.listing_prefix(prefix)), key
            assert s3_keys.relative_of(prefix, key) == relative


@pytest.mark.parametrize(
    "relative", ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", "a\\..\\b", "a\x00"]
)
def test_unsafe_relative_paths_are_refused(relative):
    with pytest.raises(s3_keys.UnsafeKey):
        s3_keys.key_for("www", relative)


def test_non_ascii_keys_are_kept():
    assert s3_keys.key_for("www", "données/été 1.txt") == "www/données/été 1.txt"


def test_undecodable_file_name_is_refused():
    with pytest.raises(s3_keys.UnsafeKey, match="UTF-8"):
        s3_keys.key_for("", "caf\udce9.txt")  # how os.fsdecode shows a Latin-1 byte name


def test_overlong_key_is_refused():
    with pytest.raises(s3_keys.UnsafeKey, match="1024"):
        s3_keys.key_for("www", "é" * 600)


@pytest.mark.parametrize(
    ("prefix", "key", "expected"),
    [
        ("www", "www/a", "a"),
        ("www", "www-old/a", None),
        ("www", "www", None),
        ("www", "www/", None),
        ("", "a/b", "a/b"),
        ("a/b", "a/bc/d", None),
    ],
)
def test_relative_of(prefix, key, expected):
    assert s3_keys.relative_of(prefix, key) == expected


# --- properties (hypothesis; the profile in test/conftest.py makes them repeatable) ------------------

import posixpath  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Path-like text: the characters that make keys interesting (separators, dots, NUL, non-ASCII).
_PATH_TEXT = st.lists(st.sampled_from([*"ab./\\\x00é %*", "..", "\udc80"]), max_size=30).map("".join)
_SEGMENT = st.text(alphabet=st.sampled_from(list("ab.é %-_")), min_size=1, max_size=8)
_PREFIX = st.lists(_SEGMENT, max_size=4).map("/".join)


@given(prefix=_PREFIX, relative=_PATH_TEXT)
def test_a_key_never_leaves_its_prefix(prefix, relative):
    # Refusing every key would pass the rest: a known-good one must be made.
    assert s3_keys.key_for("site/www", "a/b.html") == "site/www/a/b.html"
    try:
        _, prefix = s3_keys.parse_location(f"bucket/{prefix}")
        key = s3_keys.key_for(prefix, relative)
    except s3_keys.UnsafeKey:
        return
    assert key.startswith(s3_keys.listing_prefix(prefix))
    assert s3_keys.relative_of(prefix, key) == relative
    # However a browser, a CDN or another tool resolves the path, it stays below the prefix.
    resolved = posixpath.normpath("/" + key)
    assert resolved == "/" + key
    assert resolved.startswith("/" + s3_keys.listing_prefix(prefix))
    assert "\\" not in key and "\x00" not in key
    assert len(key.encode()) <= s3_keys.MAX_KEY_BYTES


@given(raw=_PATH_TEXT)
def test_parse_location_gives_a_clean_prefix_or_refuses(raw):
    assert s3_keys.parse_location("s3://my-bucket/site/www") == ("my-bucket", "site/www")
    try:
        bucket, prefix = s3_keys.parse_location(f"s3://my-bucket/{raw}")
    except ValueError:
        return
    assert bucket == "my-bucket"
    assert not prefix.startswith("/") and not prefix.endswith("/")
    assert prefix == "" or posixpath.normpath(prefix) == prefix


@given(prefix=_PREFIX, key=_PATH_TEXT)
def test_relative_of_only_answers_for_keys_inside_the_prefix(prefix, key):
    relative = s3_keys.relative_of(prefix, key)
    if relative is not None:
        assert key == s3_keys.listing_prefix(prefix) + relative and relative


_PLAIN_PATH = st.lists(_SEGMENT.filter(lambda s: s not in (".", "..")), min_size=1, max_size=5).map("/".join)


@given(prefix=_PREFIX.filter(lambda p: all(s not in (".", "..") for s in p.split("/"))), relative=_PLAIN_PATH)
def test_every_plain_relative_path_maps_to_a_key_and_back(prefix, relative):
    key = s3_keys.key_for(prefix, relative)
    assert s3_keys.relative_of(prefix, key) == relative
