"""Each step of pipe.jobs.helm.job.run, on one release: Helm and kubectl with the job's environment,
the plan and result reports, and the failure lines (pipe.jobs.helm.failures)."""

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipe.common import process
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.helm import failures, program, release, sources
from pipe.jobs.helm import plan as planning
from pipe.jobs.helm.settings import Settings
from pipe.kube import cluster as kube_cluster
from pipe.kube import diff as kube_diff
from pipe.report import Field, Item, Report, record

JOB = "helm"


def find_programs() -> None:
    """Both programs the job runs are there, before any AWS call."""
    program.find_helm()
    kube_cluster.find_kubectl()


class Helm:
    def __init__(self, chosen: Settings, connection: kube_cluster.Connection, clone: Path):
        self.chosen = chosen
        self.cluster = connection.cluster
        self.connection = connection
        self.clone = clone
        self.workdir = connection.workdir
        self.env = program.environment(connection.environment, connection.workdir)
        self.base = [program.find_helm(), "--kubeconfig", str(connection.kubeconfig)]
        self.kubectl = [kube_cluster.find_kubectl(), "--cache-dir", str(connection.workdir / "cache")]
        self.where = f"release {chosen.release} in namespace {chosen.namespace} on EKS cluster {connection.cluster.name}"
        self.revisions: list[release.Revision] = []

    # The chart and what it renders to.

    def chart(self, env: Mapping[str, str]) -> Path:
        return sources.prepare(self.base[0], self.chosen, self.env, self.clone, self.workdir)

    def render(self, chart_dir: Path) -> planning.Rendered:
        args = release.template_arguments(self.base[:1], self.chosen, chart_dir, upgrading=False)
        try:
            rendered = planning.render(args, self.env, self.clone, self.workdir)
            # A Secret's values are masked from here on, in any encoding (the plan, Helm's own lines).
            kube_diff.protect(rendered.objects + rendered.hooks)
        except program.Failed as failure:
            raise self._failed("render", failure.said, [], failure.status) from None
        logger.info(
            "The chart renders %d object(s) and %d hook(s).", len(rendered.objects), len(rendered.hooks)
        )
        return rendered

    def check_authorization(self, identity: Any, objects: list[dict[str, Any]]) -> None:
        # Helm keeps each revision of the release in a Secret of the release's namespace.
        record_secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": f"sh.helm.release.v1.{self.chosen.release}.v1",
                "namespace": self.chosen.namespace,
            },
        }
        kube_cluster.check_authorization(
            self.cluster,
            identity,
            self.workdir,
            self.env,
            [*objects, record_secret] if objects else [],
            self.chosen.namespace,
        )

    # The release as it is.

    def _history(self) -> list[release.Revision]:
        try:
            self.revisions = release.history(self.base, self.chosen, self.env, self.clone, self.workdir)
        except program.Failed as failure:
            raise PipeError(
                f"{failure.message}{kube_cluster.forbidden_hint(failure.said.splitlines())}"
            ) from None
        return self.revisions

    def settle_pending(self) -> None:
        self.revisions = release.settle_pending(
            self.base, self.chosen, self._history(), self.env, self.clone, self.workdir
        )

    # Plan, then the change.

    def plan(self, rendered: planning.Rendered, final: bool) -> str:
        """The plan report: the diff against the live objects. `final`: the diff is the job (HELM_ACTION
        diff or DRY_RUN), so the line says what would change."""
        previous = release.manifest(self.base, self.chosen, self.env, self.clone, self.workdir)
        try:
            items = planning.diff(
                self.kubectl[0],
                self.connection,
                self.chosen.release,
                rendered,
                previous,
                self.chosen.namespace,
                self.clone,
            )
        except PipeError as error:
            if final:
                raise
            logger.warning(
                "The plan cannot compare with the live objects (%s); listing what the chart renders.",
                error.message,
            )
            items = [
                Item("changed", planning.describe(obj, self.chosen.namespace), "not compared")
                for obj in rendered.objects
            ]
        counts = {
            change: sum(1 for item in items if item.change == change)
            for change in ("added", "changed", "removed", "unchanged")
        }
        summary = (
            f"{counts['added']} to add, {counts['changed']} to change, {counts['removed']} to remove, "
            f"{counts['unchanged']} unchanged ({self.where})."
        )
        record(
            Report(
                JOB,
                "plan",
                "PENDING",
                f"Helm plan for release {self.chosen.release}",
                summary,
                fields=[
                    Field("Release", self.chosen.release),
                    Field("Namespace", self.chosen.namespace),
                    Field("To add", counts["added"], "NUMBER"),
                    Field("To change", counts["changed"], "NUMBER"),
                    Field("To remove", counts["removed"], "NUMBER"),
                ],
                items=items,
                document={"release": self.chosen.release, "namespace": self.chosen.namespace},
            )
        )
        dry = " (dry run: nothing changed)" if self.chosen.dry_run and self.chosen.action != "diff" else ""
        return f"helm diff{dry}: {summary}"

    def upgrade(self, chart_dir: Path, rendered: planning.Rendered) -> str:
        started = time.monotonic()
        args = release.upgrade_arguments(self.base, self.chosen, chart_dir)
        status, tail = self._run(args)
        revisions = self._history()
        if status != 0:
            raise self._failed("upgrade", "\n".join(tail), rendered.objects, status)
        last = revisions[-1] if revisions else release.Revision(0, "unknown", "", "")
        elapsed = time.monotonic() - started
        record(
            Report(
                JOB,
                "result",
                "PASSED",
                f"Helm release {self.chosen.release}",
                f"Revision {last.number} {last.status} ({last.chart}), {self.where}, in {elapsed:.0f} s.",
                fields=[
                    Field("Release", self.chosen.release),
                    Field("Revision", last.number, "NUMBER"),
                    Field("Status", last.status),
                    Field("Chart", last.chart),
                    Field("Duration", int(elapsed * 1000), "DURATION"),
                ],
                items=[
                    Item("done", planning.describe(obj, self.chosen.namespace)) for obj in rendered.objects
                ],
            )
        )
        return f"helm upgrade: {self.where} is at revision {last.number}, {last.status} ({last.chart})."

    def rollback(self, identity: Any) -> str:
        self.check_authorization(identity, [])
        revisions = self._history()
        if not revisions:
            raise PipeError(f"There is no {self.where} to roll back; check RELEASE_NAME and NAMESPACE.")
        target = self.chosen.revision or _previous(revisions)
        if target not in {revision.number for revision in revisions}:
            kept = ", ".join(str(revision.number) for revision in revisions[-10:])
            raise PipeError(
                f"Release {self.chosen.release} has no revision {target} (kept: {kept}; HISTORY_MAX limits how many): "
                "set ROLLBACK_REVISION to one of them."
            )
        args = self._release_command(
            "rollback", [str(target)], ["--history-max", str(self.chosen.history_max)]
        )
        status, tail = self._run(args)
        if status != 0:
            raise self._failed("rollback", "\n".join(tail), [], status)
        if self.chosen.dry_run:
            return (
                f"helm rollback (dry run: nothing changed): {self.where} would go back to revision {target}."
            )
        last = self._history()[-1]
        self._result(f"Rolled back to revision {target}: now revision {last.number}, {last.status}.", last)
        return f"helm rollback: {self.where} is back at revision {target}'s chart as revision {last.number}, {last.status}."

    def uninstall(self, identity: Any) -> str:
        self.check_authorization(identity, [])
        if not self._history():
            return f"helm uninstall: there is no {self.where}; nothing to uninstall."
        args = self._release_command("uninstall", [], [])
        status, tail = self._run(args)
        if status != 0:
            raise self._failed("uninstall", "\n".join(tail), [], status)
        dry = " (dry run: nothing changed)" if self.chosen.dry_run else ""
        if not self.chosen.dry_run:
            self._result("Uninstalled.", None)
        return f"helm uninstall{dry}: {self.where} is uninstalled."

    # Plumbing.

    def _release_command(self, verb: str, positional: list[str], options: list[str]) -> list[str]:
        """`helm rollback` or `helm uninstall` of the release: its namespace, WAIT_TIMEOUT, and the
        wait and the dry run as the step sets them."""
        args = [*self.base, verb, self.chosen.release, *positional, "--namespace", self.chosen.namespace]
        args += [*options, "--timeout", f"{self.chosen.wait_timeout}s"]
        if self.chosen.wait:
            args.append("--wait=watcher")
        if self.chosen.dry_run:
            args.append("--dry-run")
        return args

    def _run(self, args: list[str]) -> tuple[int, list[str]]:
        limit = self.chosen.wait_timeout + release.GRACE_SECONDS
        return process.run(
            args, self.env, self.clone, limit, f"WAIT_TIMEOUT and a {release.GRACE_SECONDS} s grace"
        )

    def _result(self, summary: str, last: release.Revision | None) -> None:
        fields = [Field("Release", self.chosen.release), Field("Namespace", self.chosen.namespace)]
        if last is not None:
            fields += [Field("Revision", last.number, "NUMBER"), Field("Status", last.status)]
        record(
            Report(
                JOB,
                "result",
                "PASSED",
                f"Helm release {self.chosen.release}",
                f"{summary} ({self.where})",
                fields=fields,
            )
        )

    def _failed(self, step: str, said: str, objects: list[dict[str, Any]], status: int) -> PipeError:
        """The failure line (what Helm's output means), and a FAILED result report to go with it."""
        chart = self.chosen.chart
        explained = failures.explain(said, self.chosen.release, None, self.chosen.namespace)
        if explained is not None:
            line = explained.line
        else:
            hint = kube_cluster.forbidden_hint(said.splitlines())
            line = (
                f"helm {step} failed for {self.where} (exit status {status}): see Helm's output above.{hint}"
            )
        path = None
        if (
            explained is not None
            and explained.file
            and chart is not None
            and chart.source == "clone"
            and chart.path
            and chart.path.is_dir()
        ):
            inner = explained.file.split("/", 1)[1] if "/" in explained.file else explained.file
            path = f"{chart.path.relative_to(self.clone).as_posix()}/{inner}".lstrip("./") or None
        items = [
            Item(
                "failed",
                explained.line if explained else line,
                path=path,
                line=explained.line_number if explained else None,
                severity="HIGH",
            )
        ]
        items += [Item("failed", planning.describe(obj, self.chosen.namespace)) for obj in objects]
        record(Report(JOB, "result", "FAILED", f"Helm release {self.chosen.release}", line, items=items))
        return PipeError(line, exit_status=1)


def _previous(revisions: list[release.Revision]) -> int:
    """The deployed revision before the current one (what `helm rollback` without a revision picks)."""
    current = revisions[-1].number
    earlier = [
        revision
        for revision in revisions
        if revision.number < current and revision.status in ("deployed", "superseded")
    ]
    if not earlier:
        raise PipeError(f"Release has no revision before {current} to roll back to; set ROLLBACK_REVISION.")
    return earlier[-1].number
