"""The entry point: read the variables, sign in, run the job named by COMMAND, end with one line.

Every failure a user can cause ends as one line and exit status 1. Nothing is printed before it
passes the redacting filter, and no traceback is shown unless DEBUG is on (and then redacted).
"""

import os
import re
import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pipe import __version__, jobs, signin
from pipe.common import crt, log, signals
from pipe.common.errors import PipeError
from pipe.common.log import fail, logger, success
from pipe.common.variables import Variable, boolean, read_all

COMMON_VARIABLES = (
    Variable(
        "COMMAND",
        parse=jobs.parse_command,
        required=True,
        fix=f"set it to the job to run, one of: {', '.join(jobs.JOBS)}.",
    ),
    Variable("DEBUG", parse=boolean, default=False),
)


def _unique(variables: tuple[Variable, ...]) -> tuple[Variable, ...]:
    seen: dict[str, Variable] = {}
    for variable in variables:
        seen.setdefault(variable.name, variable)
    return tuple(seen.values())


def variables_of(command: str) -> tuple[Variable, ...]:
    """What a job reads besides COMMON_VARIABLES: its own, the sign-in's (the token alone for a job
    that does not sign in), and REPORT's for a job that reports."""
    job = jobs.load(command)
    own = job.VARIABLES + (signin.VARIABLES if job.SIGNS_IN else (signin.TOKEN,))
    return _unique(own + report_variables(command))


def run(env: Mapping[str, str]) -> str:
    common = read_all(COMMON_VARIABLES, env)
    log.setup(debug=common["DEBUG"])
    logger.debug("aws-oidc-deploy %s, Python %s", __version__, sys.version.split()[0])
    job = jobs.load(common["COMMAND"])
    reporting = report_variables(common["COMMAND"])
    values = read_all(variables_of(common["COMMAND"]), env)

    # Before the sign-in: a setting that is wrong on its own fails before any AWS call.
    settings = job.read_settings(values, env)
    if reporting:
        from pipe.report import settings as report_settings

        _reports.update(command=common["COMMAND"], settings=report_settings.read(values, env))
    if job.SIGNS_IN is True:
        started = time.monotonic()
        identity = signin.sign_in(values, env)
        logger.info("Signed in with the %s in %.2f s.", identity.source, time.monotonic() - started)
        return job.run(jobs.SignedIn(settings, env, identity))
    return job.run(jobs.WithClaims(settings, env, signin.oidc_token(values).claims))


# Jobs that change nothing: they record no report and read no REPORT.
READ_ONLY_JOBS = ("whoami", "trust-policy")
# The job whose reports are published when it ends (set by run(), emptied by _publish()).
_reports: dict[str, Any] = {}


def report_variables(command: str) -> tuple[Variable, ...]:
    """REPORT and its token, for every job that changes something (imported for those alone)."""
    if command in READ_ONLY_JOBS:
        return ()
    from pipe.report import settings as report_settings

    return report_settings.VARIABLES


def _publish(env: Mapping[str, str], succeeded: bool, final_line: str) -> None:
    """The job's reports, once, after the job (pipe.report.publish): never a change of exit status."""
    if not _reports:
        return
    command, settings = _reports.pop("command"), _reports.pop("settings")
    from pipe.report.publish import publish

    try:
        publish(env, settings, command, succeeded, final_line)
    except (KeyboardInterrupt, signals.Stopped):
        if succeeded:
            raise  # the run ends as interrupted, as any signal before the final line does
        # A failed job's line and status stand: the signal only cut the posting short (one warning said so).


def main() -> None:
    crt.hold_back()
    signin.sdk_settings.drop_empty(os.environ)
    env = dict(os.environ)
    for name in signin.SECRET_ENVIRONMENT:
        # Bytes that are not UTF-8 (lone surrogates in os.environ) have no printed form; the text
        # around them does. The value itself is refused later without being echoed.
        for part in re.split("[\ud800-\udfff]", env.get(name) or ""):
            log.register_secret(part)
    log.register_url_passwords(env)
    log.setup(debug=False)
    sys.excepthook = _last_resort
    signals.install()
    try:
        message = run(env)
        _publish(env, True, log.final_line(message))
    except PipeError as error:
        if error.details:
            log.emit(*error.details.split("\n"))
        _publish(env, False, log.final_line(error.message))
        fail(log.final_line(error.message), do_exit=False)
        sys.exit(error.exit_status)
    except KeyboardInterrupt:
        _publish(env, False, "Interrupted.")
        fail("Interrupted.", do_exit=False)
        sys.exit(signals.EXIT_INTERRUPTED)
    except signals.Stopped as stop:
        _publish(env, False, signals.stopped_line(stop))
        fail(signals.stopped_line(stop), do_exit=False)
        sys.exit(128 + stop.signum)
    except Exception as error:  # the last line of defence: a bug must not become a traceback with secrets
        logger.debug("Unexpected error", exc_info=True)
        fail(
            log.final_line(
                f"Unexpected error ({type(error).__name__}: {error}). This is a bug in aws-oidc-deploy "
                f"{__version__}: re-run with DEBUG: 'true' and report the (redacted) output."
            )
        )
    success(log.final_line(message))


def _last_resort(kind: type[BaseException], value: BaseException, _traceback: TracebackType | None) -> None:
    print(log.final_line(f"✖ Unexpected error ({kind.__name__}: {value})."), file=sys.stderr)


if TYPE_CHECKING:
    # Each front module in jobs.JOBS, held to the job protocol by the type checker (never imported at
    # run time). Here, in the entry, the one layer above every job: the dispatch table may not import one.
    from pipe.jobs import cloudfront_invalidate, trust_policy, whoami
    from pipe.jobs.beanstalk import job as beanstalk
    from pipe.jobs.beanstalk import settings as beanstalk_settings
    from pipe.jobs.cdk import job as cdk
    from pipe.jobs.cdk import settings as cdk_settings
    from pipe.jobs.ecs import job as ecs
    from pipe.jobs.ecs import settings as ecs_settings
    from pipe.jobs.helm import job as helm
    from pipe.jobs.helm import settings as helm_settings
    from pipe.jobs.kubectl import job as kubectl
    from pipe.jobs.kubectl import settings as kubectl_settings
    from pipe.jobs.s3_sync import job as s3_sync
    from pipe.jobs.s3_sync import settings as s3_sync_settings

    _whoami: jobs.SigningInJob[None] = whoami
    _trust_policy: jobs.TokenJob[trust_policy.Settings] = trust_policy
    _kubectl: jobs.SigningInJob[kubectl_settings.Settings] = kubectl
    _helm: jobs.SigningInJob[helm_settings.Settings] = helm
    _s3_sync: jobs.SigningInJob[s3_sync_settings.Settings] = s3_sync
    _beanstalk: jobs.SigningInJob[beanstalk_settings.Settings] = beanstalk
    _cdk: jobs.SigningInJob[cdk_settings.Settings] = cdk
    _cloudfront_invalidate: jobs.SigningInJob[cloudfront_invalidate.Settings] = cloudfront_invalidate
    _ecs: jobs.SigningInJob[ecs_settings.Settings] = ecs


if __name__ == "__main__":
    main()
