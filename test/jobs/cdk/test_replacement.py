"""CloudFormation's replacement rules, read from the pinned CDK CLI's own service spec."""

import gzip
import json

import pytest

from pipe.jobs.cdk import replacement
from test.support.cdk import npm_cache


@pytest.fixture(scope="module")
def pinned_rules():
    return replacement.read(npm_cache.cli_bin() / "cdk")


def test_the_pinned_cli_knows_which_properties_replace(pinned_rules):
    assert pinned_rules["AWS::S3::Bucket"]["BucketName"] == "yes"
    assert pinned_rules["AWS::EC2::SecurityGroup"]["GroupDescription"] == "yes"
    assert pinned_rules["AWS::SQS::Queue"]["QueueName"] == "yes"
    assert "Tags" not in pinned_rules["AWS::S3::Bucket"]  # an update in place
    assert "maybe" in {rule for rules in pinned_rules.values() for rule in rules.values()}
    assert len(pinned_rules) > 500


def spec(path, document):
    path.mkdir(parents=True)
    (path / "bin").mkdir()
    (path / "bin" / "cdk").write_text("#!/bin/sh\n")
    (path / replacement.SPEC_FILE).write_bytes(gzip.compress(json.dumps(document).encode()))
    return path / "bin" / "cdk"


def test_rules_from_a_small_spec(tmp_path):
    cli = spec(
        tmp_path / "aws-cdk",
        {
            "schema": {
                "resource": {
                    "entities": [
                        {
                            "cloudFormationType": "AWS::X::Y",
                            "properties": {
                                "A": {"causesReplacement": "yes"},
                                "B": {"causesReplacement": "maybe"},
                                "C": {},
                            },
                        },
                        {"cloudFormationType": "AWS::X::Z", "properties": {"C": {}}},
                        "not an entity",
                    ]
                }
            }
        },
    )
    assert replacement.read(cli) == {"AWS::X::Y": {"A": "yes", "B": "maybe"}}


@pytest.mark.parametrize("document", [[], {"schema": {}}, {"schema": {"resource": {"entities": {}}}}])
def test_another_shape_gives_no_rules(tmp_path, document):
    assert replacement.read(spec(tmp_path / "aws-cdk", document)) == {}


def test_a_missing_broken_or_oversized_spec_gives_no_rules(tmp_path, monkeypatch):
    cli = spec(tmp_path / "aws-cdk", {"schema": {}})
    (tmp_path / "aws-cdk" / replacement.SPEC_FILE).write_bytes(b"not gzip")
    assert replacement.read(cli) == {}
    (tmp_path / "aws-cdk" / replacement.SPEC_FILE).write_bytes(gzip.compress(b" " * 2000 + b"{}"))
    monkeypatch.setattr(replacement, "MAX_SPEC_BYTES", 1000)
    assert replacement.read(cli) == {}
    (tmp_path / "aws-cdk" / replacement.SPEC_FILE).unlink()
    assert replacement.read(cli) == {}
