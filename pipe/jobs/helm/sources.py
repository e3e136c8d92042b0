"""Charts from a chart repository or an OCI registry: pulled by Helm into the private directory as an
archive (a pinned CHART_VERSION, or the newest), then unpacked with the pipe's limits
(pipe.jobs.helm.chart). Credentials go to Helm on standard input, never as an argument, and stay in
Helm's config home in the private directory."""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.helm import chart as charts
from pipe.jobs.helm import failures, program
from pipe.jobs.helm.settings import Settings

_REPOSITORY_ALIAS = "aws-oidc-deploy"


def prepare(helm: str, chosen: Settings, env: Mapping[str, str], clone: Path, workdir: Path) -> Path:
    """The chart as a directory in the private directory, whatever its source."""
    chart = chosen.chart
    assert chart is not None
    if chosen.chart_dir is not None:  # from the clone, prepared with the settings
        return chosen.chart_dir
    pulled = workdir / "pulled"
    pulled.mkdir()
    args = [helm, "pull", "--destination", str(pulled)]
    if chart.source == "oci":
        if chosen.password is not None:
            host = chart.reference.removeprefix("oci://").split("/")[0]
            _login(
                [helm, "registry", "login", host, "--username", chosen.username or ""],
                chosen,
                env,
                clone,
                workdir,
            )
        args.append(chart.reference)
    else:
        assert chart.repository is not None
        if chosen.password is not None:
            _login(
                [
                    helm,
                    "repo",
                    "add",
                    _REPOSITORY_ALIAS,
                    chart.repository,
                    "--username",
                    chosen.username or "",
                ],
                chosen,
                env,
                clone,
                workdir,
            )
            args.append(f"{_REPOSITORY_ALIAS}/{chart.reference}")
        else:
            args += ["--repo", chart.repository, chart.reference]
    if chosen.version:
        args += ["--version", chosen.version]
    shown = _shown(chosen)
    try:
        program.capture(args, env, clone, workdir, f"helm pull {shown}")
    except program.Failed as failure:
        explained = failures.explain(failure.said, chosen.release, None, chosen.namespace)
        if explained is not None:
            raise PipeError(explained.line) from None
        raise
    archives = [path for path in pulled.iterdir() if path.name.endswith(charts.ARCHIVE_SUFFIXES)]
    if len(archives) != 1:
        raise PipeError(f"helm pull {shown} left {len(archives)} chart archives; expected one.")
    logger.info("Pulled %s (%d bytes).", archives[0].name, archives[0].stat().st_size)
    return charts.unpack(archives[0], workdir / "chart", charts.Budget(f"the chart {shown}"))


def _shown(chosen: Settings) -> str:
    chart = chosen.chart
    assert chart is not None
    where = chart.reference if chart.source == "oci" else f"{chart.reference} from {_host(chart.repository)}"
    return f"{where}{' ' + chosen.version if chosen.version else ''}"


def _host(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def _login(args: list[str], chosen: Settings, env: Mapping[str, str], clone: Path, workdir: Path) -> None:
    try:
        program.capture(
            [*args, "--password-stdin"],
            env,
            clone,
            workdir,
            f"helm {args[1]} {args[2]}",
            stdin=chosen.password,
        )
    except program.Failed as failure:
        raise PipeError(
            "The chart repository refused CHART_REPOSITORY_USERNAME and CHART_REPOSITORY_PASSWORD "
            f"(helm {args[1]} {args[2]}, exit status {failure.status}): see its message above."
        ) from None
