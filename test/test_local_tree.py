import os

from pipe.local_tree import Filters, Skipped, walk


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
