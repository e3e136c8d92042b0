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
