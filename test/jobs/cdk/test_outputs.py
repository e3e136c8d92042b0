import json

import pytest

from pipe.common.errors import PipeError
from pipe.jobs.cdk import outputs as cdk_outputs


def test_outputs_are_read_printed_sorted_and_shared(tmp_path):
    written = tmp_path / "outputs.json"
    written.write_text(json.dumps({"Web": {"Url": "https://x", "Bucket": "b"}, "Db": {"Port": 5432}}))
    outputs = cdk_outputs.read(written)
    assert outputs == {"Web": {"Url": "https://x", "Bucket": "b"}, "Db": {"Port": "5432"}}
    assert cdk_outputs.lines(outputs) == [
        "Stack outputs:",
        "  Db.Port = 5432",
        "  Web.Bucket = b",
        "  Web.Url = https://x",
    ]
    shared = cdk_outputs.share({"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(tmp_path / "shared")}, outputs)
    assert shared == tmp_path / "shared" / "aws-oidc-deploy" / "cdk-outputs.json"
    assert json.loads(shared.read_text()) == outputs


def test_no_file_no_outputs_and_no_shared_directory(tmp_path):
    assert cdk_outputs.read(tmp_path / "missing.json") == {}
    assert cdk_outputs.lines({"Web": {}}) == ["Stack outputs: none."]
    assert cdk_outputs.share({}, {"Web": {}}) is None


def test_a_broken_outputs_file_is_one_clear_error(tmp_path):
    (tmp_path / "outputs.json").write_text("{")
    with pytest.raises(PipeError, match="outputs file could not be read"):
        cdk_outputs.read(tmp_path / "outputs.json")
