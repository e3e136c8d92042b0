"""pipe.common.shared_storage: JSON for later steps, only where Bitbucket gives a shared directory."""

import json

from pipe.common import shared_storage


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
