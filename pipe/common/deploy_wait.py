"""The variables of a job that starts a deployment and follows it until it ends (beanstalk, ecs): one
meaning, one range and one default for both, as the 1.x contract lists them together."""

from pipe.common.variables import Variable, boolean, integer, seconds

DEFAULT_WAIT_INTERVAL_SECONDS = 10.0
# Below this a poll loop is a busy loop; both services throttle their Describe calls (botocore retries
# throttling).
MIN_WAIT_INTERVAL_SECONDS = 0.1
MAX_WAIT_INTERVAL_SECONDS = 300.0
DEFAULT_DEPLOY_TIMEOUT_SECONDS = 1800
# A day: the one cap, documented (`aws ecs wait services-stable` stops at 10 minutes, unsaid).
MAX_DEPLOY_TIMEOUT_SECONDS = 86400

VARIABLES = (
    Variable("WAIT", parse=boolean, default=True),
    Variable(
        "WAIT_INTERVAL",
        parse=seconds(MIN_WAIT_INTERVAL_SECONDS, MAX_WAIT_INTERVAL_SECONDS),
        default=DEFAULT_WAIT_INTERVAL_SECONDS,
    ),
    Variable(
        "DEPLOY_TIMEOUT",
        parse=integer(1, MAX_DEPLOY_TIMEOUT_SECONDS, "seconds"),
        default=DEFAULT_DEPLOY_TIMEOUT_SECONDS,
    ),
    Variable("ROLLBACK_ON_FAILURE", parse=boolean, default=False),
)
