"""helm's settings: the checked variables (pipe.jobs.helm.job.VARIABLES) as the job uses them, read
once before the sign-in, so that a chart or values file that is not in the clone fails before any AWS
call."""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pipe.common import bounded_read, log, private_dir
from pipe.common.errors import PipeError
from pipe.jobs.helm import chart as charts
from pipe.kube import labels

Action = Literal["upgrade", "diff", "rollback", "uninstall"]
ACTIONS: tuple[Action, ...] = ("upgrade", "diff", "rollback", "uninstall")
# Where a chart comes from: a directory (or .tgz) in the clone, a chart repository, an OCI registry.
Source = Literal["clone", "repository", "oci"]
# Helm's own rule for release names (DNS-1123 subdomain, at most 53 characters).
RELEASE_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
MAX_RELEASE_NAME = 53
# A --set key: Helm's path syntax (names, dots, [index], backslash escapes), nothing a shell or a
# second --set item could hide in.
_SET_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./\-\\\[\]]{0,252}", re.ASCII)
_CHART_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", re.ASCII)
_OCI = re.compile(r"oci://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._/-]{0,250})", re.ASCII)


class Chart(NamedTuple):
    source: Source
    reference: str  # the path in the clone, the chart's name in the repository, or the oci:// URL
    path: Path | None  # source "clone": the resolved directory or archive
    repository: str | None  # source "repository": its URL


class Settings(NamedTuple):
    cluster: str
    action: Action
    release: str
    chart: Chart | None  # None for rollback and uninstall
    version: str | None  # CHART_VERSION
    values_files: tuple[Path, ...]  # VALUES, checked and copied into the private directory, in order
    set_items: tuple[tuple[str, str], ...]  # SET as key, value
    set_typed: bool  # SET_TYPED: --set (Helm types the values) rather than --set-string
    namespace: str
    create_namespace: bool
    wait: bool
    wait_timeout: int  # seconds
    rollback_on_failure: bool
    history_max: int
    dry_run: bool
    revision: int  # ROLLBACK_REVISION; 0: the one before the current
    recover_pending: bool
    username: str | None
    password: str | None  # CHART_REPOSITORY_PASSWORD, registered for redaction
    release_labels: dict[str, str]  # on the release record (helm --labels), not in values
    # A chart in the clone, copied (archives unpacked) into the private directory before the sign-in.
    chart_dir: Path | None = None


def parse_set_item(raw: str) -> tuple[str, str]:
    """`key=value` for SET. The value is taken as written (newlines refused: Helm's --set has no way
    to carry one, and a line break in a value is a mistake in a pipeline variable)."""
    key, separator, value = raw.partition("=")
    key = key.strip()
    if not separator:
        raise ValueError("must be a list of key=value items, such as image.tag=1.4.2")
    if "\n" in value or "\r" in value:
        raise ValueError("must not hold a line break in a value; put multi-line values in a VALUES file")
    if not _SET_KEY.fullmatch(key):
        raise ValueError(
            "must have keys made of letters, digits and _ - . / [ ] (Helm's path syntax, such as image.tag)"
        )
    return key, value


def split_set(plain: str) -> list[str]:
    """A plain SET value (a repository variable): one key=value a line; commas belong to the values."""
    return [line for line in plain.splitlines() if line.strip()]


def parse_release(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_RELEASE_NAME or not re.fullmatch(RELEASE_NAME, text, re.ASCII):
        raise ValueError(
            f"must be a Helm release name: at most {MAX_RELEASE_NAME} lower-case letters, digits, - and ., "
            "starting and ending with a letter or digit"
        )
    return text


def parse_version(raw: str) -> str:
    text = raw.strip()
    # An exact version (1.4.2, v1.4.2-rc.1) or a constraint Helm understands (~1.4, ^2, >=1.0 <2.0).
    if not re.fullmatch(
        r"[~^<>=]*\s*v?[0-9x*][0-9A-Za-z.+\-*]*(\s*,?\s*[~^<>=|]+\s*v?[0-9x*][0-9A-Za-z.+\-*]*)*", text
    ):
        raise ValueError("must be a chart version such as 1.4.2, or a constraint such as ~1.4")
    return text


def parse_repository(raw: str) -> str:
    text = raw.strip()
    if not re.fullmatch(r"https?://[^\s\\]+", text, re.ASCII):
        raise ValueError("must be the chart repository's URL, starting with https:// (or http://)")
    return text


def _chart(raw: str | None, repository: str | None, env: Mapping[str, str], action: Action) -> Chart | None:
    if action in ("rollback", "uninstall"):
        return None
    if raw is None or not raw.strip():
        raise PipeError(
            f"CHART is required for HELM_ACTION {action}: set it to a chart directory in the repository, "
            "repo/name with CHART_REPOSITORY, or an oci:// reference."
        )
    text = raw.strip()
    if text.startswith("oci://"):
        if not _OCI.fullmatch(text):
            raise PipeError(
                f"CHART {text[:80]!r} is not an OCI chart reference such as oci://registry.example.com/charts/web."
            )
        return Chart("oci", text, None, None)
    if repository is not None:
        name = text.rpartition("/")[2]  # repo/name as `helm repo add` users write it, or just the name
        if text.count("/") > 1 or not _CHART_NAME.fullmatch(name):
            raise PipeError(
                f"CHART {text[:80]!r} must be a chart's name (or repo/name) in CHART_REPOSITORY, such as bitnami/nginx."
            )
        return Chart("repository", name, None, repository)
    path = private_dir.in_clone("CHART", text, env)
    if not path.exists():
        raise PipeError(
            f"CHART {text[:80]!r} does not exist in the repository; for a chart from a chart repository, "
            "set CHART_REPOSITORY to its URL."
        )
    if not (path.is_dir() or path.name.endswith((".tgz", ".tar.gz"))):
        raise PipeError(f"CHART {text[:80]!r} is neither a chart directory nor a .tgz chart archive.")
    return Chart("clone", text, path, None)


def _values_files(raw: list[str], env: Mapping[str, str], workdir: Path) -> tuple[Path, ...]:
    """Each VALUES file read within the limits of a settings file, checked as one YAML mapping (depth
    and alias expansion bounded), and copied into the private directory: Helm reads the copy, which no
    link or later write in the clone can change."""
    import yaml

    files = []
    for index, item in enumerate(raw):
        path = private_dir.in_clone("VALUES", item, env)
        shown = f"VALUES {item.strip()[:80]!r}"
        if not path.exists():
            raise PipeError(f"{shown} does not exist in the repository.")
        try:
            text = bounded_read.read_text(path, bounded_read.SETTINGS_FILE_BYTES, shown)
            documents = bounded_read.load_yaml_documents(text, shown)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise PipeError(f"{shown} cannot be read as YAML: {type(error).__name__}.") from None
        if len(documents) > 1 or not isinstance(documents[0] if documents else {}, dict | None):
            raise PipeError(f"{shown} must hold one YAML mapping of values (key: value).")
        copy = workdir / f"values-{index}.yaml"
        copy.write_text(text, encoding="utf-8")
        files.append(copy)
    return tuple(files)


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    action: Action = values["HELM_ACTION"]
    password = values["CHART_REPOSITORY_PASSWORD"]
    log.register_secret(password)
    chart = _chart(values["CHART"], values["CHART_REPOSITORY"], env, action)
    if (values["CHART_REPOSITORY_USERNAME"] is None) != (password is None):
        raise PipeError(
            "CHART_REPOSITORY_USERNAME and CHART_REPOSITORY_PASSWORD go together: set both or neither."
        )
    if password is not None and (chart is None or chart.source == "clone"):
        raise PipeError(
            "CHART_REPOSITORY_PASSWORD is set but the chart is not fetched (CHART is in the clone, or "
            "HELM_ACTION takes no chart): remove it."
        )
    if values["CHART_VERSION"] is not None and (chart is None or chart.source == "clone"):
        raise PipeError(
            "CHART_VERSION pins a chart from a repository or registry; a chart in the clone has the "
            "version in its Chart.yaml: remove CHART_VERSION."
        )
    if values["ROLLBACK_REVISION"] and action != "rollback":
        raise PipeError(
            "ROLLBACK_REVISION is for HELM_ACTION rollback: remove it or set HELM_ACTION: rollback."
        )
    release_labels = labels.defaults(env) if values["WITH_DEFAULT_LABELS"] else {}
    workdir = private_dir.create(env)
    chart_dir = None
    if chart is not None and chart.path is not None:
        clone = private_dir.clone_dir(env)
        chart_dir = charts.from_clone(chart.path, clone, workdir, f"CHART {chart.reference!r}")
    return Settings(
        cluster=values["CLUSTER_NAME"],
        action=action,
        release=values["RELEASE_NAME"],
        chart=chart,
        version=values["CHART_VERSION"],
        values_files=_values_files(values["VALUES"], env, workdir),
        set_items=tuple(values["SET"]),
        set_typed=values["SET_TYPED"],
        namespace=values["NAMESPACE"],
        create_namespace=values["CREATE_NAMESPACE"],
        wait=values["WAIT"],
        wait_timeout=values["WAIT_TIMEOUT"],
        rollback_on_failure=values["ROLLBACK_ON_FAILURE"],
        history_max=values["HISTORY_MAX"],
        dry_run=values["DRY_RUN"],
        revision=values["ROLLBACK_REVISION"] or 0,
        recover_pending=values["RECOVER_PENDING"],
        username=values["CHART_REPOSITORY_USERNAME"],
        password=password,
        release_labels=release_labels,
        chart_dir=chart_dir,
    )
