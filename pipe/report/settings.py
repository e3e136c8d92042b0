"""Whether and where a job's reports are posted: REPORT, and the commit, repository and credentials
the Code Insights report goes to. Read before the sign-in with the job's variables, so that a report
that cannot be addressed is bad input, not a surprise after the deploy.

Light on purpose (the entry imports it for every job that changes something): no toolkit, no requests.
"""

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from pipe.common import log
from pipe.common.errors import PipeError
from pipe.common.variables import Variable, boolean

# Bitbucket's build variables: with all of them the run is a Pipelines step, and the auth proxy is there.
BUILD_VARIABLES = ("BITBUCKET_BUILD_NUMBER", "BITBUCKET_WORKSPACE", "BITBUCKET_REPO_SLUG", "BITBUCKET_COMMIT")
TOKEN_VARIABLE = "BITBUCKET_ACCESS_TOKEN"  # noqa: S105  (a name, not a value)
# The Pipelines auth proxy's port; the host is the pipe container's way to the build container.
PROXY_PORT = 29418
DEFAULT_PROXY_HOST = "host.docker.internal"
PROXY_HOST_VARIABLE = "BITBUCKET_DOCKER_HOST_INTERNAL"

_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", re.ASCII)

VARIABLES = (
    # None: worked out from the build (on inside Pipelines).
    Variable("REPORT", parse=boolean),
    Variable(TOKEN_VARIABLE, secret=True),
)


class Settings(NamedTuple):
    """Where a run's reports go. `token` is None when they go through the auth proxy at `proxy`."""

    workspace: str
    repository: str
    commit: str
    environment: str  # BITBUCKET_DEPLOYMENT_ENVIRONMENT, '' outside a deployment step
    proxy: str | None
    token: str | None


def inside_pipelines(env: Mapping[str, str]) -> bool:
    return all((env.get(name) or "").strip() for name in BUILD_VARIABLES)


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings | None:
    """The settings when reports are posted, None when they are not (REPORT false, or unset outside
    Pipelines). Raises PipeError when REPORT is true but the report has no commit or no way in."""
    token = values.get(TOKEN_VARIABLE) or None
    log.register_secret(token)
    wanted = values.get("REPORT")
    if wanted is None:
        wanted = inside_pipelines(env)
    if not wanted:
        return None
    missing = [name for name in BUILD_VARIABLES[1:] if not (env.get(name) or "").strip()]
    if missing:
        raise PipeError(
            f"REPORT is true but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: a "
            "Code Insights report is put on a commit of a repository. Run the pipe in Bitbucket Pipelines, "
            "set them, or set REPORT: 'false'."
        )
    if token is None and not inside_pipelines(env):
        raise PipeError(
            f"REPORT is true outside Bitbucket Pipelines, where there is no auth proxy: set {TOKEN_VARIABLE} "
            "(a repository access token allowed to write pull requests) or REPORT: 'false'."
        )
    host = (env.get(PROXY_HOST_VARIABLE) or "").strip() or DEFAULT_PROXY_HOST
    if not _HOST.fullmatch(host):
        raise PipeError(f"{PROXY_HOST_VARIABLE} must be a host name or an IP address, got {host[:60]!r}.")
    return Settings(
        workspace=env["BITBUCKET_WORKSPACE"].strip(),
        repository=env["BITBUCKET_REPO_SLUG"].strip(),
        commit=env["BITBUCKET_COMMIT"].strip(),
        environment=(env.get("BITBUCKET_DEPLOYMENT_ENVIRONMENT") or "").strip(),
        proxy=None if token else f"http://{host}:{PROXY_PORT}",
        token=token,
    )
