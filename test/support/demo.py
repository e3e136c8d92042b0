"""`make demo`: the pipe against the embedded AWS stand-in with a sample token.

Starts moto server on 127.0.0.1, makes a sample Bitbucket OIDC token, runs COMMAND=whoami and
COMMAND=trust-policy as a pipeline step would, and stops the stand-in.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from test.support import aws
from test.support.run import base_environment
from test.support.tokens import make_token


def main() -> int:
    with aws.MotoServer() as server, tempfile.TemporaryDirectory() as scratch:
        print(f"AWS stand-in (moto server) listening on {server.url}\n", flush=True)
        env = base_environment(Path(scratch)) | {
            "AWS_ENDPOINT_URL": server.url,
            "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
            "AWS_OIDC_ROLE_ARN": aws.ROLE_ARN,
            "AWS_DEFAULT_REGION": aws.REGION,
            "BITBUCKET_REPO_SLUG": "demo-repo",
            "BITBUCKET_BUILD_NUMBER": "1",
        }
        for command in ("whoami", "trust-policy"):
            print(f"=== COMMAND={command}", flush=True)
            completed = subprocess.run(
                [sys.executable, "-m", "pipe"], env=env | {"COMMAND": command}, check=False
            )
            print(flush=True)
            if completed.returncode != 0:
                return completed.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
