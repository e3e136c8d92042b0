"""The leak scan itself (test/support/leaks.py, run by every run_pipe): it must be able to fail."""

import base64
import sys

import pytest

from test.support import leaks
from test.support.run import run_pipe

SECRET = leaks.Secret("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzLEAKSCAN1")


@pytest.fixture(autouse=True)
def own_tally(monkeypatch):
    """The leaks found here are planted: they must not count in the session's summary line."""
    monkeypatch.setattr(leaks, "TALLY", leaks.Tally())


@pytest.mark.parametrize("before", [b"", b"u", b"us", b"user:", b'{\n  "k": "'])
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_a_secret_is_found_inside_a_base64_blob_at_any_alignment(before, encode):
    blob = encode(before + SECRET.value.encode() + b'" }')
    assert leaks.hits(b"header: " + blob + b"\n", [SECRET])


def test_nothing_is_found_in_clean_text_and_a_hit_never_shows_the_value():
    assert leaks.hits(b"nothing here " + base64.b64encode(b"user:other-value-entirely"), [SECRET]) == []
    with pytest.raises(leaks.Leak) as raised:
        leaks.check(b"x " + SECRET.value.encode(), [], [SECRET], debug=True)
    assert SECRET.value not in str(raised.value) and SECRET.value[:8] not in str(raised.value)
    assert "AWS_SECRET_ACCESS_KEY (as is)" in str(raised.value)


def test_an_eks_bearer_token_is_a_hit_by_its_shape():
    assert leaks.hits(b"Bearer k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20v", [])


def _env(tmp_path):
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), SECRET.name: SECRET.value}


def test_run_pipe_fails_a_run_that_prints_a_secret_in_base64(tmp_path):
    program = f"import base64, os; print(base64.b64encode(b'user:' + os.environ['{SECRET.name}'].encode()))"
    with pytest.raises(leaks.Leak, match=r"AWS_SECRET_ACCESS_KEY \(base64 at offset 2\)"):
        run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", program])


def test_run_pipe_fails_a_run_that_leaves_a_secret_in_the_clone(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    program = f"import os; open('deep/creds', 'w').write(os.environ['{SECRET.name}'])"
    (clone / "deep").mkdir()
    with pytest.raises(leaks.Leak, match="deep/creds: AWS_SECRET_ACCESS_KEY"):
        run_pipe(_env(tmp_path), cwd=clone, command=[sys.executable, "-c", program])


def test_files_the_test_put_there_before_the_run_are_not_the_runs_leak(tmp_path):
    (tmp_path / "token-file").write_text(SECRET.value)
    result = run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", "print('clean')"])
    assert result.returncode == 0
    assert leaks.TALLY.runs == 1 and leaks.TALLY.debug_runs == 1 and leaks.TALLY.hits == []


def test_runs_are_debug_runs_unless_the_test_sets_debug(tmp_path):
    program = "import os; print(os.environ['DEBUG'])"
    assert run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", program]).stdout == "true\n"
    explicit = _env(tmp_path) | {"DEBUG": "false"}
    assert run_pipe(explicit, cwd=tmp_path, command=[sys.executable, "-c", program]).stdout == "false\n"
