"""The release on the cluster: its history, what its deployed revision manages, a pending state left
by a stopped run (recovered only when asked), and Helm's argument lists for each action."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.helm import failures, program
from pipe.jobs.helm.settings import Settings
from pipe.kube import manifests

PENDING_STATES = ("pending-install", "pending-upgrade", "pending-rollback")
# Revisions of history read: enough to find the last deployed one behind failed attempts.
HISTORY_READ = 256
# Helm's wait has its own timeout (WAIT_TIMEOUT); the process gets this grace beyond it.
GRACE_SECONDS = 120


class Revision(NamedTuple):
    number: int
    status: str
    chart: str
    description: str


def history(
    base: list[str], chosen: Settings, env: Mapping[str, str], clone: Path, workdir: Path
) -> list[Revision]:
    """The release's revisions, oldest first; [] when there is no such release."""
    args = [
        *base,
        "history",
        chosen.release,
        "--namespace",
        chosen.namespace,
        "--max",
        str(HISTORY_READ),
        "-o",
        "json",
    ]
    text = program.capture_release(args, env, clone, workdir, "helm history")
    if text is None:
        return []
    try:
        rows = json.loads(text)
    except ValueError:
        raise PipeError("helm history printed JSON the pipe cannot read.") from None
    return [
        Revision(
            int(row.get("revision", 0)),
            str(row.get("status", "")),
            str(row.get("chart", "")),
            str(row.get("description", "")),
        )
        for row in rows
        if isinstance(row, dict)
    ]


def deployed(revisions: list[Revision]) -> Revision | None:
    return next((revision for revision in reversed(revisions) if revision.status == "deployed"), None)


def manifest(
    base: list[str], chosen: Settings, env: Mapping[str, str], clone: Path, workdir: Path
) -> list[dict[str, Any]]:
    """The objects of the release as deployed now (helm get manifest), [] when there is none."""
    args = [*base, "get", "manifest", chosen.release, "--namespace", chosen.namespace]
    text = program.capture_release(args, env, clone, workdir, "helm get manifest")
    if text is None:
        return []
    return manifests.parse(text, f"release {chosen.release}'s manifest")


def settle_pending(
    base: list[str],
    chosen: Settings,
    revisions: list[Revision],
    env: Mapping[str, str],
    clone: Path,
    workdir: Path,
) -> list[Revision]:
    """A release whose last revision is pending: refused with how to recover, or, with RECOVER_PENDING,
    rolled back to its last deployed revision (uninstalled when it never deployed). Returns the history after."""
    if not revisions or revisions[-1].status not in PENDING_STATES:
        return revisions
    last = revisions[-1]
    if not chosen.recover_pending:
        raise PipeError(
            failures.explain(failures.PENDING, chosen.release, None, chosen.namespace).line  # type: ignore[union-attr]
            + f" (revision {last.number} is {last.status}.)"
        )
    good = deployed(revisions)
    limit = chosen.wait_timeout + GRACE_SECONDS
    if good is None:
        logger.warning(
            "Release %s never deployed and revision %d is %s: uninstalling it (RECOVER_PENDING).",
            chosen.release,
            last.number,
            last.status,
        )
        args = [
            *base,
            "uninstall",
            chosen.release,
            "--namespace",
            chosen.namespace,
            "--wait",
            "--timeout",
            f"{chosen.wait_timeout}s",
        ]
    else:
        logger.warning(
            "Release %s: revision %d is %s; rolling back to revision %d, the last deployed (RECOVER_PENDING).",
            chosen.release,
            last.number,
            last.status,
            good.number,
        )
        args = [
            *base,
            "rollback",
            chosen.release,
            str(good.number),
            "--namespace",
            chosen.namespace,
            "--history-max",
            str(chosen.history_max),
            "--wait",
            "--timeout",
            f"{chosen.wait_timeout}s",
        ]
    status, _tail = program_run(args, env, clone, limit)
    if status != 0:
        raise PipeError(
            f"Recovering release {chosen.release} from {last.status} failed (exit status {status}): see Helm's output above."
        )
    return history(base, chosen, env, clone, workdir)


def program_run(args: list[str], env: Mapping[str, str], clone: Path, limit: float) -> tuple[int, list[str]]:
    from pipe.common import process

    return process.run(args, env, clone, limit, "WAIT_TIMEOUT and a grace for Helm itself")


def value_arguments(chosen: Settings) -> list[str]:
    args: list[str] = []
    for path in chosen.values_files:
        args += ["--values", str(path)]
    # --set-literal: the value exactly as written (no commas splitting it, no typing); --set with SET_TYPED.
    flag = "--set" if chosen.set_typed else "--set-literal"
    for name, value in chosen.set_items:
        args += [flag, f"{name}={value}"]
    return args


def template_arguments(base: list[str], chosen: Settings, chart_dir: Path, upgrading: bool) -> list[str]:
    args = [
        *base,
        "template",
        chosen.release,
        str(chart_dir),
        "--namespace",
        chosen.namespace,
        "--skip-tests",
    ]
    if upgrading:
        args.append("--is-upgrade")
    return args + value_arguments(chosen)


def upgrade_arguments(base: list[str], chosen: Settings, chart_dir: Path) -> list[str]:
    args = [
        *base,
        "upgrade",
        chosen.release,
        str(chart_dir),
        "--install",
        "--namespace",
        chosen.namespace,
        "--history-max",
        str(chosen.history_max),
        "--timeout",
        f"{chosen.wait_timeout}s",
    ]
    if chosen.create_namespace:
        args.append("--create-namespace")
    if chosen.rollback_on_failure:
        args.append("--rollback-on-failure")  # Helm 4's --atomic; it waits (the watcher) too
    if chosen.wait:
        args.append("--wait=watcher")
    if chosen.release_labels:
        args += ["--labels", ",".join(f"{name}={value}" for name, value in chosen.release_labels.items())]
    return args + value_arguments(chosen)
