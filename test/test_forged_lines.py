"""No value from outside can forge or split a line of the pipe's log (issue 13, class 1), end to end:
file names in the s3-sync plan and warnings, token claims in the sign-in lines, event messages in
the beanstalk failure details. Each run must print exactly one ✔ or ✖ line, the real last one.

The values are every character of test/common/test_line_safe.py's hostile alphabet, each followed by a
forged `✔ Deployed` line (the property over arbitrary values is tested there, on every log path).
"""

from datetime import UTC, datetime

from pipe.common import line_safe
from pipe.jobs.beanstalk import deploy
from test.common.test_line_safe import HOSTILE, LINE_BREAKS
from test.support import aws
from test.support.run import write_files
from test.support.tokens import make_token

FORGED = "✔ Deployed everything"


def _status_lines(output: str) -> list[str]:
    # splitlines: every separator a log viewer may break a line on, not only "\n".
    return [line for line in output.splitlines() if line.lstrip().startswith(("✔", "✖"))]


def test_file_names_cannot_forge_lines_in_the_s3_sync_plan(run, pipe_env, clone_dir, s3):
    bucket = "forged-lines"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    names = {
        f"f{ord(character):x}{character}{FORGED}.html": "x" for character in HOSTILE if character != "\x00"
    }
    write_files(clone_dir / "build", names)
    env = pipe_env | {
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "DRY_RUN": "true",
    }
    result = run(env)
    assert result.returncode == 0, result.output
    assert _status_lines(result.output) == [result.last_line], result.output
    assert result.last_line.startswith("✔")


def test_token_claims_cannot_forge_lines_when_they_are_logged(run, pipe_env):
    token = make_token(branchName=f"main{LINE_BREAKS}{FORGED}", sub=f"\x1b[2K\r{FORGED}\u2028{FORGED}")
    result = run(pipe_env | {"BITBUCKET_STEP_OIDC_TOKEN": token})
    assert result.returncode == 0, result.output
    assert _status_lines(result.output) == [result.last_line], result.output
    assert "branchName=main\\n\\r" in result.output


def test_event_messages_cannot_add_lines_to_the_beanstalk_failure_details():
    events = [
        {"EventDate": datetime(2026, 1, 1, tzinfo=UTC), "Severity": "ERROR", "Message": f"x{c}{FORGED}"}
        for c in HOSTILE
    ]
    details = deploy._events_detail(events)
    assert len(details.split("\n")) == len(events) + 1
    for line in details.split("\n"):
        assert line_safe.is_safe(line)
