"""pipe.bundle: reproducible zips of a directory, without .git, and their digest."""

import hashlib
import os
import stat
import zipfile

import pytest

from pipe import bundle
from pipe.errors import PipeError


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
