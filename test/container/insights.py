"""Code Insights from the built image, posted the way Bitbucket's auth proxy takes them: the container
reaches the host as `host.docker.internal` (port 29418), where the stand-in
(test/support/codeinsights, the `bitbucket` fixture) listens. Every image test of a job runs through
`test_image.run_with_proxy` and checks what the stand-in accepted with `assert_accepted`.

The engine these tests use has no bridge (test/container/with-docker.sh: `--network host`), so
`host.docker.internal` is mapped with `--add-host` to the stand-in's own loopback address, which a
container on the host's network reaches as the host; on a bridge network it would be
`--add-host host.docker.internal:host-gateway` with the stand-in on `0.0.0.0`, as Bitbucket wires it.
"""

from test.support.codeinsights import CodeInsightsStandIn

# The deployment environment test_image.bitbucket_variables sets: every report id carries it.
ENVIRONMENT = "production"


def report_id(job: str, phase: str) -> str:
    return f"aws-oidc-deploy-{job}-{ENVIRONMENT}-{phase}"


def assert_accepted(
    bitbucket: CodeInsightsStandIn, commit: str, expected: dict[str, tuple[str, int]], output: str = ""
) -> dict[str, dict]:
    """The stand-in holds exactly the reports `expected` names ({report id: (result, annotations)}) on
    `commit`, and refused nothing: every answer 2xx, but the 404 to the DELETE a post starts with when
    there is no earlier report to replace; annotation paths relative to the clone. Returns the reports
    as stored."""
    refused = [
        (request.method, request.url, request.status)
        for request in bitbucket.requests
        if request.status >= 400 and not (request.status == 404 and request.method == "DELETE")
    ]
    assert not refused, f"refused: {refused}\n{output[-4000:]}"
    assert all(posted == commit for posted, _id in bitbucket.reports), list(bitbucket.reports)
    stored = {report_id: report for (_commit, report_id), report in bitbucket.reports.items()}
    seen = {
        report_id: (report["result"], len(bitbucket.annotations(commit, report_id)))
        for report_id, report in stored.items()
    }
    assert seen == expected, f"accepted {seen}, expected {expected}\n{output[-4000:]}"
    # An annotation's path is relative to the clone, as Bitbucket shows it beside the diff.
    paths = [
        a["path"] for report_id in stored for a in bitbucket.annotations(commit, report_id) if "path" in a
    ]
    assert all(not path.startswith("/") and ".." not in path.split("/") for path in paths), paths
    return stored
