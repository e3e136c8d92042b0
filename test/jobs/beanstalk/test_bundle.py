"""pipe.jobs.beanstalk.bundle: reproducible zips of a directory, without .git, and their digest."""

import hashlib
import os
import stat
import zipfile

import pytest

from pipe.common.errors import PipeError
from pipe.jobs.beanstalk import bundle


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "app"
    (root / "bin").mkdir(parents=True)
    (root / "application.py").write_text("print('hi')\n")
    (root / "bin" / "start.sh").write_text("#!/bin/sh\nexec gunicorn\n")
    (root / "bin" / "start.sh").chmod(0o755)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("secret remote\n")
    (root / "vendor" / ".git").mkdir(parents=True)
    (root / "vendor" / ".git" / "HEAD").write_text("x\n")
    (root / "vendor" / "lib.py").write_text("x = 1\n")
    return root


def test_same_files_give_the_same_bytes_whatever_their_times(source, tmp_path):
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    bundle.make_zip(source, first)
    for path in source.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    bundle.make_zip(source, second)
    assert first.read_bytes() == second.read_bytes()
    assert bundle.digest(first).md5 == hashlib.md5(first.read_bytes(), usedforsecurity=False).hexdigest()


def test_git_is_left_out_and_modes_are_kept(source, tmp_path):
    target = tmp_path / "bundle.zip"
    assert bundle.make_zip(source, target) == 3
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ["application.py", "bin/start.sh", "vendor/lib.py"]
        mode = archive.getinfo("bin/start.sh").external_attr >> 16
        assert stat.S_IMODE(mode) == 0o755
        assert stat.S_IMODE(archive.getinfo("application.py").external_attr >> 16) == 0o644
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_change_changes_the_digest(source, tmp_path):
    bundle.make_zip(source, tmp_path / "one.zip")
    (source / "application.py").write_text("print('HI')\n")
    bundle.make_zip(source, tmp_path / "two.zip")
    assert bundle.digest(tmp_path / "one.zip").md5 != bundle.digest(tmp_path / "two.zip").md5


def test_links_leading_out_are_left_out(source, tmp_path):
    (source / "passwd").symlink_to("/etc/passwd")
    (source / "same.py").symlink_to(source / "application.py")
    target = tmp_path / "bundle.zip"
    bundle.make_zip(source, target)
    with zipfile.ZipFile(target) as archive:
        assert "passwd" not in archive.namelist()
        assert archive.read("same.py") == b"print('hi')\n"


def test_an_empty_directory_is_refused(tmp_path):
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    (tmp_path / "empty" / ".git" / "HEAD").write_text("x")
    with pytest.raises(PipeError, match="holds no files to deploy"):
        bundle.make_zip(tmp_path / "empty", tmp_path / "bundle.zip")


# --- properties (hypothesis; the profile in test/conftest.py makes them repeatable) ------------------

import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from test.support.encodings import decodes_as_utf8  # noqa: E402

_SEGMENT = st.sampled_from(["a", "B", "é", "日本", "x y", ".git", "git", ".hidden", "..x", "-", "_"])
_TREE = st.dictionaries(
    st.lists(_SEGMENT, min_size=1, max_size=3).map(tuple),
    st.binary(max_size=64),
    min_size=1,
    max_size=8,
)


def _write(root: Path, tree: dict, order_seed: int) -> None:
    items = list(tree.items())
    random.Random(order_seed).shuffle(items)  # creation order and times must not matter
    for parts, content in items:
        path = root.joinpath(*parts)
        if any(parent.is_file() for parent in path.parents) or path.is_dir():
            continue  # a file where another entry needs a directory: not a tree
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        stamp = random.Random(f"{order_seed}{parts}").randrange(10**9, 2 * 10**9)
        os.utime(path, (stamp, stamp))


def _expected(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@given(tree=_TREE, first_seed=st.integers(0, 999), second_seed=st.integers(0, 999))
def test_any_tree_zips_to_the_same_bytes_with_exactly_its_files_and_no_git(tree, first_seed, second_seed):
    work = Path(tempfile.mkdtemp())
    try:
        one, two = work / "one", work / "two"
        _write(one, tree, first_seed)
        _write(two, tree, second_seed)
        expected = _expected(one)
        if not expected or expected != _expected(two):
            return  # only .git in it (refused, tested above), or the two orders kept different files
        bundle.make_zip(one, work / "one.zip")
        bundle.make_zip(two, work / "two.zip")
        assert (work / "one.zip").read_bytes() == (work / "two.zip").read_bytes()
        with zipfile.ZipFile(work / "one.zip") as archive:
            names = archive.namelist()
            assert names == sorted(names)
            assert {name: archive.read(name) for name in names} == expected
            assert all(not name.startswith("/") and ".." not in name.split("/") for name in names)
    finally:
        shutil.rmtree(work)


@given(
    good=st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=6), max_size=3, unique=True),
    bad=st.binary(min_size=1, max_size=6).filter(
        lambda b: b"/" not in b and b"\0" not in b and not decodes_as_utf8(b)
    ),
)
def test_a_file_name_that_is_not_utf8_is_one_line_naming_it(good, bad):
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "app"
        source.mkdir()
        for name in good:
            (source / name).write_text("x")
        with open(os.path.join(os.fsencode(source), b"bad-" + bad), "wb") as stream:
            stream.write(b"x")
        with pytest.raises(
            PipeError, match=r"^SOURCE_PATH 'app' holds 1 file name\(s\) that are not UTF-8 text"
        ):
            bundle.make_zip(source, Path(scratch) / "bundle.zip")
