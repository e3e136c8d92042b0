"""s3-sync's settings: what each object gets, and the invalidation only with a distribution."""

import pytest

from pipe.common.errors import PipeError
from pipe.common.variables import read_all
from pipe.jobs.s3_sync import job as s3_sync_job
from pipe.jobs.s3_sync import settings as s3_sync_settings


def _read(**variables: str) -> s3_sync_settings.Settings:
    env = {"S3_BUCKET": "site-bucket/www", "LOCAL_PATH": "build"} | variables
    return s3_sync_settings.read(read_all(s3_sync_job.VARIABLES, env), env)


def test_only_the_object_arguments_that_are_set_go_to_every_object():
    assert _read().metadata.common == {}
    chosen = _read(ACL="private", SSE="aws:kms", SSE_KMS_KEY_ID="alias/site")
    assert chosen.metadata.common == {
        "ACL": "private",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/site",
    }
    assert (chosen.bucket, chosen.prefix) == ("site-bucket", "www")


def test_an_invalidation_needs_a_distribution():
    assert _read().invalidation is None
    chosen = _read(CLOUDFRONT_DISTRIBUTION_ID="E2EXAMPLE", CLOUDFRONT_WAIT="true")
    assert chosen.invalidation == s3_sync_settings.Invalidation("E2EXAMPLE", [], True)
    with pytest.raises(PipeError, match="CLOUDFRONT_PATHS needs CLOUDFRONT_DISTRIBUTION_ID"):
        _read(CLOUDFRONT_PATHS="/index.html")
