"""What the s3-sync tests that run the job against the moto server share: a bucket of their own and
the step's environment syncing `build/` in the clone to its `www/` prefix."""

import uuid

import pytest

from test.support import aws


@pytest.fixture
def bucket(s3):
    name = f"site-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    return name


@pytest.fixture
def sync_env(pipe_env, clone_dir, bucket, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    return pipe_env | {
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
    }
