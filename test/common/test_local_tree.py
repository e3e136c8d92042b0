import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common.local_tree import Filters, Skipped, walk


def files(root, follow=False, filters=None):
    filters = filters or Filters()
    skipped = Skipped()
    return sorted(item.relative for item in walk(root.resolve(), follow, filters, skipped)), skipped


def test_walks_regular_files_with_posix_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c.txt").write_text("c")
    (tmp_path / "top.html").write_text("t")
    assert files(tmp_path)[0] == ["a/b/c.txt", "top.html"]


def test_links_are_skipped_unless_followed_and_never_outside(tmp_path):
    root = tmp_path / "site"
    (root / "real").mkdir(parents=True)
    (root / "real" / "page.html").write_text("p")
    (root / "alias").symlink_to(root / "real")
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "escape").symlink_to(tmp_path)
    (root / "loop").symlink_to(root)
    (root / "broken").symlink_to(root / "nowhere")
    found, skipped = files(root)
    assert found == ["real/page.html"] and skipped.symlinks == 5
    found, skipped = files(root, follow=True)
    assert found == ["alias/page.html", "real/page.html"]
    assert skipped.outside == 2  # passwd, escape


def test_relative_link_that_climbs_out_is_refused(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (tmp_path / "secret").write_text("s")
    os.symlink("../secret", root / "s")
    assert files(root, follow=True)[0] == []


def test_filters():
    filters = Filters(include=("*.html", "assets/*"), exclude=("assets/private/*",))
    assert filters.selects("a/b.html") and filters.selects("assets/x.js")
    assert not filters.selects("assets/private/key.txt") and not filters.selects("readme.md")
    assert Filters().selects("anything")


# --- properties (hypothesis; the profile in test/conftest.py makes them repeatable) ------------------

import fnmatch  # noqa: E402
import re  # noqa: E402

_NAME = st.text(alphabet=st.sampled_from(list("ab.-[]*? é")), min_size=1, max_size=6)
_RELATIVE = st.lists(_NAME, min_size=1, max_size=4).map("/".join)
_GLOBS = st.lists(st.text(alphabet=st.sampled_from(list("ab*?/.[]!")), min_size=1, max_size=6), max_size=3)


def _literal(path: str) -> str:
    """A glob that matches exactly `path` (fnmatch has no escape character: [x] quotes x)."""
    return re.sub(r"([*?\[])", r"[\1]", path)


@given(relative=_RELATIVE, include=_GLOBS, exclude=_GLOBS)
def test_filters_are_include_then_exclude(relative, include, exclude):
    filters = Filters(tuple(include), tuple(exclude))
    included = not include or any(fnmatch.fnmatchcase(relative, glob) for glob in include)
    excluded = any(fnmatch.fnmatchcase(relative, glob) for glob in exclude)
    assert filters.selects(relative) == (included and not excluded)


@given(relative=_RELATIVE, include=_GLOBS)
def test_excluding_a_path_by_name_always_excludes_it(relative, include):
    assert not Filters(tuple(include), (_literal(relative),)).selects(relative)
    assert Filters((_literal(relative),)).selects(relative)


@given(relative=_RELATIVE)
def test_star_dot_extension_matches_in_every_directory(relative):
    name = relative.rsplit("/", 1)[-1]
    if "." in name:
        extension = name.rsplit(".", 1)[1]
        assert Filters(include=(f"*.{_literal(extension)}",)).selects(relative)


def test_a_loop_of_links_is_skipped_with_a_warning_when_links_are_followed(tmp_path, caplog):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("x")
    (root / "self").symlink_to(root / "self")
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    skipped = Skipped()
    found = list(walk(root.resolve(), True, Filters(), skipped))
    assert [item.relative for item in found] == ["index.html"]
    assert skipped.symlinks + skipped.special == 3


# Names that sort around "/" (0x2f): "-" and "." below it, "0" and letters above, non-ASCII far above.
_NAME = st.text(alphabet="a-.0_/Zé€😀", min_size=1, max_size=6).filter(
    lambda name: "/" not in name and name not in (".", "..")
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.lists(st.lists(_NAME, min_size=1, max_size=3), min_size=1, max_size=12))
def test_walks_in_the_order_s3_lists_keys(tmp_path_factory, tree):
    """S3 lists keys in UTF-8 byte order; s3-sync compares the walk with the listing as two sorted
    streams, so the walk must yield relative paths in exactly that order."""
    root = tmp_path_factory.mktemp("tree")
    for parts in tree:
        directory = root.joinpath(*parts[:-1])
        if any(parent.is_file() for parent in [directory, *directory.parents] if parent != root):
            continue
        if (directory / parts[-1]).is_dir():
            continue
        directory.mkdir(parents=True, exist_ok=True)
        (directory / parts[-1]).write_text("x")
    walked = [item.relative for item in walk(root.resolve(), False, Filters(), Skipped())]
    assert walked == sorted(walked, key=lambda relative: relative.encode("utf-8"))
    assert sorted(walked) == sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names
    )
