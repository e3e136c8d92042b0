"""beanstalk's settings: BEANSTALK_COMMAND is in the shape (upload-only has no deployment, deploy-only
no upload), and the default label, key and description are filled in before the sign-in."""

import pytest

from pipe.common import deploy_wait
from pipe.common.errors import PipeError
from pipe.common.variables import read_all
from pipe.jobs.beanstalk import job as beanstalk_job
from pipe.jobs.beanstalk import settings as beanstalk_settings

_STEP = {"BITBUCKET_BUILD_NUMBER": "42", "BITBUCKET_COMMIT": "3f2a9c1d0b8e", "APPLICATION_NAME": "shop"}


def _read(**variables: str) -> beanstalk_settings.Settings:
    env = _STEP | variables
    return beanstalk_settings.read(read_all(beanstalk_job.VARIABLES, env), env)


def test_all_uploads_then_deploys_with_the_defaults_filled_in():
    chosen = _read(ENVIRONMENT_NAME="shop-prod", SOURCE_PATH="app")
    assert chosen.label == "shop-42-3f2a9c1"
    assert chosen.upload == beanstalk_settings.Upload(
        beanstalk_settings.BundleSource("SOURCE_PATH", "app"),
        "shop/shop-42-3f2a9c1.zip",
        "Uploaded by aws-oidc-deploy",
    )
    assert chosen.deployment is not None and chosen.deployment.environment == "shop-prod"
    assert (chosen.deployment.wait, chosen.deployment.timeout) == (
        True,
        deploy_wait.DEFAULT_DEPLOY_TIMEOUT_SECONDS,
    )


def test_upload_only_has_no_deployment_and_deploy_only_no_upload():
    upload_only = _read(BEANSTALK_COMMAND="upload-only", ZIP_FILE="app.zip", S3_KEY="bundles/a.zip")
    assert upload_only.deployment is None
    assert upload_only.upload is not None and upload_only.upload.source.is_zip
    assert upload_only.upload.key == "bundles/a.zip"
    deploy_only = _read(BEANSTALK_COMMAND="deploy-only", ENVIRONMENT_NAME="shop-prod", VERSION_LABEL="v7")
    assert (deploy_only.upload, deploy_only.label) == (None, "v7")
    assert deploy_only.deployment is not None


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"SOURCE_PATH": "app"}, "ENVIRONMENT_NAME is required"),
        ({"ENVIRONMENT_NAME": "shop-prod"}, "ZIP_FILE or SOURCE_PATH is required"),
        ({"ENVIRONMENT_NAME": "shop-prod", "ZIP_FILE": "a.zip", "SOURCE_PATH": "app"}, "not both"),
    ],
)
def test_a_command_without_what_it_needs_is_refused(variables, expected):
    with pytest.raises(PipeError, match=expected):
        _read(**variables)
