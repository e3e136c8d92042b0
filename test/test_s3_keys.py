import random

import pytest

from pipe import s3_keys

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
