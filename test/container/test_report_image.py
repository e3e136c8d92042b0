"""Code Insights reports from the built image, posted the way Bitbucket's auth proxy takes them: the
container reaches the host as `host.docker.internal` (port 29418), where the stand-in listens.

The engine these tests use has no bridge (test/container/with-docker.sh: `--network host`), so
`host.docker.internal` is mapped with `--add-host` to the stand-in's own loopback address, which a
container on the host's network reaches as the host; on a bridge network it would be
`--add-host host.docker.internal:host-gateway` with the stand-in on `0.0.0.0`, as Bitbucket wires it.
"""

import json
import os
import subprocess
import time
from pathlib import Path

from test.container.test_image import BUILD, TIMEOUT_SECONDS, pipe_variables
from test.support import aws
from test.support.codeinsights import REFUSE, CodeInsightsStandIn
from test.support.run import Result
from test.support.tokens import make_token

SHARED = ".bitbucket/pipelines/generated/pipeline/pipes/aws-oidc-deploy"
# What publish allows all posting together (pipe.report.publish.REPORT_LIMIT_SECONDS), plus the job.
BOUND_SECONDS = 20 + 40


def run_with_proxy(docker, clone: Path, variables: dict[str, str], proxy_host: str) -> Result:
    cli, image = docker
    command = [cli, "container", "run", "--rm", "--network", "host"]
    command += ["--add-host", f"host.docker.internal:{proxy_host}"]
    command += ["--volume", f"{clone}:{BUILD}", "--workdir", BUILD]
    for name in variables:
        command += ["--env", name]
    completed = subprocess.run(
        [*command, image],
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def invalidation(moto_server) -> dict[str, str]:
    _cdn, distribution_id = aws.new_distribution(moto_server.url)
    return pipe_variables(
        moto_server,
        make_token(),
        COMMAND="cloudfront-invalidate",
        CLOUDFRONT_DISTRIBUTION_ID=distribution_id,
        CLOUDFRONT_PATHS="/index.html /assets/*",
        DEBUG="true",
    )


def test_the_image_posts_its_result_through_host_docker_internal(docker, clone, moto_server):
    variables = invalidation(moto_server)
    with CodeInsightsStandIn() as bitbucket:
        result = run_with_proxy(docker, clone, variables, bitbucket.host)
    assert result.returncode == 0, result.output
    commit = variables["BITBUCKET_COMMIT"]
    names = sorted(report_id for _commit, report_id in bitbucket.reports)
    assert names == ["aws-oidc-deploy-cloudfront-invalidate-production-result"], result.output
    assert all(request.status in (200, 204, 404) for request in bitbucket.requests), result.output
    assert len(bitbucket.annotations(commit, names[0])) == 2
    # The toolkit's root handler did not print the pipe's lines twice, and no line escaped the filter.
    assert result.output.count("Code Insights: ") == 1, result.output
    written = json.loads((clone / SHARED / "report-cloudfront-invalidate-result.json").read_text())
    assert written["outcome"] == "PASSED" and len(written["items"]) == 2


def test_the_image_with_no_proxy_listening_is_one_warning_and_a_green_step(docker, clone, moto_server):
    variables = invalidation(moto_server)
    with CodeInsightsStandIn() as bitbucket:
        bitbucket.fault = REFUSE
        bitbucket.refuse()
        started = time.monotonic()
        result = run_with_proxy(docker, clone, variables, bitbucket.host)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "not posted" in warnings[0], result.output
    assert "Traceback" not in result.output
    assert elapsed < BOUND_SECONDS
