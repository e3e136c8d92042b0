"""pipe.common.shared_storage: JSON for later steps, only where Bitbucket gives a shared directory,
which lies inside the clone: no link followed, nothing written outside, everything redacted."""

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common import log, shared_storage
from test.support import leaks
from test.support.encodings import hostile_output


def test_writes_json_under_the_shared_directory(tmp_path):
    env = {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(tmp_path)}
    target = shared_storage.write_json(env, "aws-oidc-deploy/x.json", {"b": 1, "a": 2}, sort_keys=True)
    assert target == tmp_path / "aws-oidc-deploy" / "x.json"
    assert target.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    assert json.loads(target.read_text()) == {"a": 2, "b": 1}


def test_writes_nothing_outside_pipelines(tmp_path):
    assert shared_storage.write_json({}, "aws-oidc-deploy/x.json", {}) is None
    assert shared_storage.write_json({"BITBUCKET_PIPE_SHARED_STORAGE_DIR": ""}, "x.json", {}) is None


def test_a_directory_that_cannot_take_the_result_is_a_warning_naming_it(tmp_path, caplog):
    """The deploy is done by then: a file or a read-only place in the variable must not fail the step."""
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    # (A read-only directory fails the same way; tests may run as root, which writes anyway.)
    for directory in (not_a_directory, tmp_path / "file" / "below"):
        env = {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(directory)}
        with caplog.at_level("WARNING", logger="aws-oidc-deploy"):
            assert shared_storage.write_json(env, "aws-oidc-deploy/x.json", {}) is None
        assert f"BITBUCKET_PIPE_SHARED_STORAGE_DIR {directory}" in caplog.text
        caplog.clear()


# --- Treated like the clone: no link followed, nothing written outside, everything redacted -----------------

RESULT = "aws-oidc-deploy/result.json"
# Each level of the way to a result: the shared directory, the pipe's folder below it, the file.
_LEVELS = ("shared", "aws-oidc-deploy", "result.json")
# What each level can be: missing, itself, or a link to a place inside or outside (existing or not).
_KINDS = ("missing", "real", "link-inside", "link-outside", "link-dangling")


def _snapshot(root: Path) -> dict[str, bytes | str]:
    state: dict[str, bytes | str] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            relative = str(path.relative_to(root))
            if path.is_symlink():
                state[relative] = "-> " + os.readlink(path)
            elif path.is_file():
                state[relative] = path.read_bytes()
            else:
                state[relative] = "dir"
    return state


def _build(base: Path, kinds: tuple[str, ...]) -> tuple[Path, Path, Path]:
    """A clone and a place outside it; the way to the result laid out as `kinds` says."""
    clone, outside = base / "clone", base / "outside"
    (outside / "aws-oidc-deploy").mkdir(parents=True)
    (outside / "result.json").write_text("outside, untouched")
    (outside / "aws-oidc-deploy" / "result.json").write_text("outside, untouched")
    (clone / "elsewhere" / "aws-oidc-deploy").mkdir(parents=True)
    at = clone
    for level, kind in zip(_LEVELS, kinds, strict=True):
        path = at / level
        if kind == "missing":
            break
        if kind == "real":
            if level.endswith(".json"):
                path.write_text("old result")
            else:
                path.mkdir()
        else:
            target = {
                "link-inside": clone / "elsewhere" / (level if level != "shared" else ""),
                "link-outside": outside / (level if level != "shared" else ""),
                "link-dangling": base / "nowhere",
            }[kind]
            path.symlink_to(target)
            break
        at = path
    return clone, outside, clone / "shared"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(kinds=st.tuples(*[st.sampled_from(_KINDS)] * 3))
def test_no_layout_of_links_makes_a_result_land_outside_or_through_a_link(tmp_path_factory, kinds, caplog):
    base = tmp_path_factory.mktemp("layout")
    clone, outside, shared = _build(base, kinds)
    before_outside, before_clone = _snapshot(outside), _snapshot(clone / "elsewhere")
    caplog.clear()
    with caplog.at_level("WARNING", logger="aws-oidc-deploy"):
        written = shared_storage.write_json(
            {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared)}, RESULT, {"a": 1}
        )
    assert _snapshot(outside) == before_outside
    assert _snapshot(clone / "elsewhere") == before_clone
    # The levels that exist: up to the first missing one (nothing below it is made).
    existing = kinds[: (*kinds, "missing").index("missing") + 1]
    linked = any(kind.startswith("link") for kind in existing)
    if linked:
        assert written is None and "symbolic link" in caplog.text
    else:
        assert written == shared / RESULT
        assert not written.is_symlink() and json.loads(written.read_text()) == {"a": 1}
    # No temporary file is left behind, whatever happened.
    assert not [path for path in base.rglob(".*.tmp")]


def test_a_link_to_the_outside_at_each_level_of_a_real_path_is_refused(tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    for depth in range(3):
        real = tmp_path / f"real{depth}"
        parts = [real / "a", real / "a" / "b", real / "a" / "b" / "c"]
        parts[0].parent.mkdir()
        for index, part in enumerate(parts):
            if index == depth:
                part.symlink_to(outside)
                break
            part.mkdir()
        env = {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(parts[2])}
        assert shared_storage.write_json(env, RESULT, {"x": 1}) is None
    assert list(outside.iterdir()) == []


SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzSHARED/+"


@given(value=hostile_output(SECRET), key=st.sampled_from(["Output", SECRET]))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_a_secret_in_any_form_in_a_value_or_a_key_is_masked_in_the_file(tmp_path, value, key):
    log.register_secret(SECRET)
    env = {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(tmp_path)}
    written = shared_storage.write_json(env, RESULT, {"Stack": {key: value, "path": f"dist/{SECRET}.js"}})
    assert written is not None
    data = written.read_bytes()
    assert leaks.hits(data, [leaks.Secret("a stack output", SECRET)]) == []
    assert "Stack" in json.loads(data)
