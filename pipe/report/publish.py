"""The reports of a job that has ended: each written whole to shared storage, and posted as a Code
Insights report on the commit when REPORT is on.

Called by the entry once, after the job, whether it succeeded or failed: a job that failed without
recording a result gets a FAILED result carrying its final line. Posting never changes the job's exit
status: a report that cannot be posted (no proxy, an error answer, no answer) is one warning line,
and all posting together ends within REPORT_LIMIT_SECONDS, however the proxy behaves.
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pipe import __version__, report
from pipe.common import log, shared_storage
from pipe.common.log import logger
from pipe.report import Outcome, Report
from pipe.report import payload as payloads
from pipe.report.settings import Settings

# Every report of a run, posted together (delete, put, annotations), within this many seconds.
REPORT_LIMIT_SECONDS = 20.0


def publish(
    env: Mapping[str, str],
    settings: Settings | None,
    command: str,
    succeeded: bool,
    final_line: str,
    limit_seconds: float = REPORT_LIMIT_SECONDS,
) -> None:
    """Write and (with `settings`) post what the job recorded, then forget it. `final_line` is the
    run's last line as printed (without its mark); `command` the job's name."""
    reports = list(report.recorded())
    report.forget()
    if not any(recorded.phase == "result" for recorded in reports) and (not succeeded or not reports):
        reports.append(_final_result(command, succeeded, final_line))
    try:
        for recorded in reports:
            shared_storage.write_json(env, payloads.shared_file(recorded), document(recorded))
        built = [payloads.build(recorded, settings.environment) for recorded in reports] if settings else []
    except Exception as error:  # a report a job built wrong must not turn its outcome into a bug's
        logger.warning(
            "Reports not published: %s: %s. This is a bug in aws-oidc-deploy %s; the job's outcome is unchanged.",
            type(error).__name__,
            error,
            __version__,
        )
        return
    if settings is not None:
        _post_all(settings, built, limit_seconds)


def code_insights(settings: Settings, deadline: float) -> tuple[Any, Callable[..., Any]]:
    """A CodeInsights instance with a post.BoundedClient, and the toolkit's divide_chunks.

    The toolkit does the API work (the URLs, the PUT of a report, the bulk POST of annotations, its
    `divide_chunks`); three of its habits are taken away: its HTTP handler (see post.BoundedClient);
    the handler its import puts on the ROOT logger (unfiltered, so unredacted: the pipe's log set-up
    runs again right after the import); and going through the auth proxy only when `CI` is set (the
    proxy is given to every request). Imported only here: with requests, ~110 ms of a cold start."""
    from pipe.report import post

    debug = logger.isEnabledFor(logging.DEBUG)
    try:
        from bitbucket_pipes_toolkit import CodeInsights, divide_chunks
    finally:
        log.setup(debug=debug)
    if settings.token:
        insights = CodeInsights(
            settings.repository, settings.workspace, auth_type="access_token", token=settings.token
        )
        proxies: dict[str, str] = {}
    else:
        assert settings.proxy is not None
        insights = CodeInsights(settings.repository, settings.workspace, auth_type="authless")
        proxies = {"http": settings.proxy, "https": settings.proxy}
    insights.http_client = post.BoundedClient(proxies, deadline, trust_env=bool(settings.token))
    return insights, divide_chunks


def _final_result(command: str, succeeded: bool, final_line: str) -> Report:
    """The result of a job that recorded none: what its last line says."""
    outcome: Outcome = "PASSED" if succeeded else "FAILED"
    title = f"{command}: {'done' if succeeded else 'failed'}"
    return Report(command, "result", outcome, title, final_line)


def document(recorded: Report) -> dict[str, Any]:
    """The whole report for later steps, every item (shared_storage redacts every string)."""
    return {
        "job": recorded.job,
        "phase": recorded.phase,
        "outcome": recorded.outcome,
        "title": recorded.title,
        "summary": recorded.summary,
        "fields": [{"title": f.title, "type": f.type, "value": f.value} for f in recorded.fields],
        "items": [item._asdict() for item in recorded.items],
        "document": recorded.document,
    }


def _post_all(settings: Settings, built: list[payloads.Payload], limit_seconds: float) -> None:
    """Post every report from a thread of its own and wait for it within the limit: a request can
    hang where no timeout reaches (a host name that takes long to resolve, an answer that trickles)."""
    from pipe.report import post

    where = f"the auth proxy at {settings.proxy}" if settings.proxy else "api.bitbucket.org"
    deadline = time.monotonic() + limit_seconds
    outcome: dict[str, Any] = {}

    # The toolkit is imported (and the log set up again after it) here, in the pipe's own thread: a
    # poster given up on at the limit must never touch the log set-up later.
    try:
        insights, divide_chunks = code_insights(settings, deadline)
    except Exception as failure:  # reported below as one line, whatever it is
        outcome["error"] = failure

    def work() -> None:
        if "error" in outcome:
            return
        try:
            outcome["requests"] = 0
            for payload in built:
                outcome["requests"] = post.post(insights, divide_chunks, settings.commit, payload)
            outcome["done"] = True
        except BaseException as error:  # reported below as one line, whatever it is
            outcome["error"] = error

    worker = threading.Thread(target=work, name="code-insights", daemon=True)
    try:
        # Started inside: the worker may send its first request before start() returns, and a signal
        # there is a signal while posting all the same.
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()) + 1.0)
    except BaseException:  # a signal while posting: said in one line, then the run stops as it would
        _not_posted(built, "interrupted")
        raise
    if outcome.get("done"):
        annotations = sum(len(payload.annotations) for payload in built)
        logger.info(
            "Code Insights: %s posted on commit %s (%d annotation(s)).",
            ", ".join(payload.report_id for payload in built),
            settings.commit[:12],
            annotations,
        )
        return
    error = outcome.get("error")
    if error is None:
        _quiet_abandoned()
        _not_posted(
            built, f"no answer from {where} within the {limit_seconds:g} s limit (REPORT_LIMIT_SECONDS)"
        )
        return
    _not_posted(built, post.reason(error, where, limit_seconds))


def _not_posted(built: list[payloads.Payload], why: str) -> None:
    names = ", ".join(payload.report_id for payload in built)
    logger.warning(
        "Code Insights report(s) %s not posted: %s. The job's outcome is unchanged; the whole report is in "
        "shared storage (aws-oidc-deploy/report-*.json).",
        names,
        why,
    )


def _quiet_abandoned() -> None:
    """The abandoned request may still end before the process does: nothing it logs may follow."""
    import logging

    for name in ("urllib3", "requests"):
        logging.getLogger(name).disabled = True
