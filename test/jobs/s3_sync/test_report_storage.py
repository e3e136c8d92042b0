"""s3-sync's plan and result as pipe.report.publish writes them to shared storage and posts them to the Code Insights stand-in."""

import json
import uuid

from test.jobs.s3_sync.test_report import PLANTED_KEY, SITE
from test.support import aws
from test.support.checks import assert_no_secret
from test.support.run import write_files


def test_the_whole_plan_in_shared_storage_with_a_secret_name_masked(run, pipe_env, clone_dir, tmp_path, s3):
    bucket = f"store-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    site = write_files(clone_dir / "build", SITE | {f"many/{n:03d}.txt": "x" for n in range(120)})
    (site / f"report-{PLANTED_KEY}.html").write_text("x")
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {k: v for k, v in pipe_env.items() if k != "AWS_OIDC_ROLE_ARN"} | {
        "AWS_ACCESS_KEY_ID": "AKIAPLANTEDKEY000001",
        "AWS_SECRET_ACCESS_KEY": PLANTED_KEY,
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "DRY_RUN": "true",
    }
    result = run(env)
    assert result.returncode == 0, result.output
    text = (shared / "aws-oidc-deploy" / "report-s3-sync-plan.json").read_text()
    written = json.loads(text)
    assert written["outcome"] == "PENDING" and len(written["items"]) == len(SITE) + 121
    assert "www/report-****.html" in [item["name"] for item in written["items"]]
    assert_no_secret(text, PLANTED_KEY)



def test_a_plan_of_1500_files_and_a_sync_are_accepted_by_the_stand_in(run, pipe_env, clone_dir, tmp_path, s3):
    from test.report.test_publish import pipelines
    from test.support.codeinsights import CodeInsightsStandIn
    from test.support.job_env import COMMIT

    bucket = f"store-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    write_files(clone_dir / "build", {f"many/{n:04d}.txt": "x" * (n % 50) for n in range(1500)})
    shared = tmp_path / "shared"
    shared.mkdir()
    with CodeInsightsStandIn() as bitbucket:
        env = pipe_env | pipelines(bitbucket, "production") | {
            "COMMAND": "s3-sync",
            "BITBUCKET_CLONE_DIR": str(clone_dir),
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
            "S3_BUCKET": f"{bucket}/www",
            "LOCAL_PATH": "build",
        }
        planned = run(env | {"DRY_RUN": "true"})
        assert planned.returncode == 0, planned.output
        synced = run(env)
        assert synced.returncode == 0, synced.output
        print(sorted(bitbucket.reports), [r.status for r in bitbucket.requests][:8])
        plan = bitbucket.reports[(COMMIT, "aws-oidc-deploy-s3-sync-production-plan")]
        result = bitbucket.reports[(COMMIT, "aws-oidc-deploy-s3-sync-production-result")]
        print(plan["details"], len(bitbucket.annotations(COMMIT, "aws-oidc-deploy-s3-sync-production-plan")))
        print(result["details"], result["data"])
        assert result["result"] == "PASSED" and plan["result"] == "PENDING"
