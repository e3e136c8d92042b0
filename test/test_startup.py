"""Start-up is a feature: what a run that needs no AWS SDK must not import."""

from test.support.run import base_environment, run_pipe
from test.support.tokens import make_token

# Each costs tens of milliseconds to import; trust-policy makes no AWS call and needs none of them.
HEAVY = {"botocore", "boto3", "awscrt", "s3transfer", "requests", "urllib3", "bitbucket_pipes_toolkit"}


def test_trust_policy_loads_no_aws_sdk_and_no_toolkit(tmp_path):
    env = base_environment(tmp_path) | {
        "COMMAND": "trust-policy",
        "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
        "PYTHONPROFILEIMPORTTIME": "1",
    }
    result = run_pipe(env, cwd=tmp_path)
    assert result.returncode == 0, result.output
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "pipe.signin" in imported  # the probe sees imports at all
    assert not {name.split(".")[0] for name in imported} & HEAVY
