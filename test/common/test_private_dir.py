import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common import private_dir
from pipe.common.errors import PipeError
from test.support.run import REPO


def test_is_private_and_outside_the_clone(tmp_path):
    clone = tmp_path / "build"
    clone.mkdir()
    path = private_dir.create({"BITBUCKET_CLONE_DIR": str(clone)})
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert clone not in path.parents


def test_tmpdir_inside_the_clone_is_not_used(tmp_path, monkeypatch):
    clone = tmp_path / "build"
    (clone / "tmp").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(clone / "tmp"))
    monkeypatch.setattr(private_dir.tempfile, "tempdir", None)  # re-read TMPDIR
    path = private_dir.create({"BITBUCKET_CLONE_DIR": str(clone)})
    assert clone.resolve() not in path.resolve().parents
    assert path.parent == private_dir.FALLBACK_BASE


def test_is_removed_when_the_process_exits(tmp_path):
    code = "from pipe.common import private_dir; p = private_dir.create({}); (p / 'secret').write_text('x'); print(p)"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    path = Path(completed.stdout.strip())
    assert path.name.startswith("aws-oidc-deploy-")
    assert not path.exists()


def test_in_clone_resolves_a_path_and_refuses_one_that_leaves_the_clone(tmp_path):
    clone = tmp_path / "clone"
    (clone / "site").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (clone / "link-out").symlink_to(tmp_path / "outside", target_is_directory=True)
    env = {"BITBUCKET_CLONE_DIR": str(clone)}
    assert private_dir.in_clone("LOCAL_PATH", " site ", env) == (clone / "site").resolve()
    assert private_dir.in_clone("LOCAL_PATH", "not-yet", env) == (clone / "not-yet").resolve()
    for raw, expected in [
        ("/etc", "LOCAL_PATH must be relative to the clone directory, got '/etc'."),
        ("../outside", "LOCAL_PATH '../outside' leads outside the clone directory"),
        ("site/../../outside", "LOCAL_PATH 'site/../../outside' leads outside"),
        ("link-out", "LOCAL_PATH 'link-out' leads outside the clone directory"),
    ]:
        with pytest.raises(PipeError) as refused:
            private_dir.in_clone("LOCAL_PATH", raw, env)
        assert str(refused.value).startswith(expected)


# Spellings of a clone directory that covers /tmp (the fallback) and, with TMPDIR below it, the
# system's temporary directory too.
_covering = st.sampled_from(["/", "//", "/.", "/tmp/..", "/tmp", "/tmp/", "/tmp/.", "/tmp//", "/usr/../tmp"])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(clone=_covering, below=st.sampled_from(["", "sub", "a/b"]))
def test_a_clone_directory_that_covers_every_temporary_directory_is_one_line(
    clone, below, monkeypatch_tmpdir
):
    monkeypatch_tmpdir(str(Path(clone, below)) if below else None)
    env = {"BITBUCKET_CLONE_DIR": clone}
    expected = r"^The clone directory .* \(BITBUCKET_CLONE_DIR, or the working directory\) covers every"
    with pytest.raises(PipeError, match=expected):
        private_dir.create(env)


@pytest.fixture
def monkeypatch_tmpdir(monkeypatch):
    """Set TMPDIR (None: the system's default) for tempfile, which caches what it found."""

    def set_to(value):
        if value is None:
            monkeypatch.delenv("TMPDIR", raising=False)
        else:
            monkeypatch.setenv("TMPDIR", value)
        monkeypatch.setattr(private_dir.tempfile, "tempdir", None)

    return set_to
