"""Code Insights reports from the built image: cloudfront-invalidate's result through
`host.docker.internal` (test/container/insights.py), and a proxy that is not listening."""

import json
import time

from test.container.insights import assert_accepted, report_id
from test.container.test_image import pipe_variables, run_with_proxy
from test.support import aws
from test.support.codeinsights import REFUSE, CodeInsightsStandIn
from test.support.tokens import make_token

SHARED = ".bitbucket/pipelines/generated/pipeline/pipes/aws-oidc-deploy"
# What publish allows all posting together (pipe.report.publish.REPORT_LIMIT_SECONDS), plus the job.
BOUND_SECONDS = 20 + 40


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


def test_the_image_posts_its_result_through_host_docker_internal(docker, clone, moto_server, bitbucket):
    variables = invalidation(moto_server)
    result = run_with_proxy(docker, clone, variables, bitbucket.host)
    assert result.returncode == 0, result.output
    assert_accepted(
        bitbucket,
        variables["BITBUCKET_COMMIT"],
        {report_id("cloudfront-invalidate", "result"): ("PASSED", 2)},
        result.output,
    )
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
