import json
import os

import pytest

from pipe.common.errors import PipeError
from pipe.jobs.cdk import cli as cdk_cli


def make_cli(root, version="2.1148.1", name="aws-cdk"):
    package = root / "node_modules" / "aws-cdk"
    (package / "bin").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": name, "version": version}))
    executable = package / "bin" / "cdk"
    executable.write_text("#!/usr/bin/env node\n")
    executable.chmod(0o755)
    (root / "node_modules" / ".bin").mkdir()
    (root / "node_modules" / ".bin" / "cdk").symlink_to("../aws-cdk/bin/cdk")
    return root / "node_modules" / ".bin"


def test_the_apps_own_cli_wins_over_path(tmp_path):
    app, image = tmp_path / "app", tmp_path / "image"
    make_cli(app, "2.1000.0")
    image_bin = make_cli(image, "2.1148.1")
    found = cdk_cli.find(app, str(image_bin))
    assert found == cdk_cli.Cli(app / "node_modules/.bin/cdk", "2.1000.0", own=True)
    assert found.describe() == f"aws-cdk 2.1000.0 (the app's own, {app / 'node_modules/.bin/cdk'})"


def test_without_an_own_cli_the_one_on_path_runs(tmp_path):
    (tmp_path / "app").mkdir()
    image_bin = make_cli(tmp_path / "image")
    found = cdk_cli.find(tmp_path / "app", f"/nonexistent:{image_bin}")
    assert found.path == image_bin / "cdk" and found.version == "2.1148.1" and not found.own


def test_an_own_cli_that_is_not_executable_is_not_used(tmp_path):
    app = tmp_path / "app"
    make_cli(app)
    os.chmod(app / "node_modules/aws-cdk/bin/cdk", 0o644)
    with pytest.raises(PipeError, match="No CDK CLI"):
        cdk_cli.find(app, "/nonexistent")


def test_no_cli_at_all_is_one_clear_error(tmp_path):
    with pytest.raises(PipeError, match="Add aws-cdk to the app's devDependencies"):
        cdk_cli.find(tmp_path, "/nonexistent")


def test_version_unknown_when_the_package_is_not_aws_cdk(tmp_path):
    bin_dir = make_cli(tmp_path, name="something-else")
    assert cdk_cli.version_of(bin_dir / "cdk") == cdk_cli.UNKNOWN_VERSION
    (tmp_path / "node_modules/aws-cdk/package.json").write_text("{not json")
    assert cdk_cli.version_of(bin_dir / "cdk") == cdk_cli.UNKNOWN_VERSION
