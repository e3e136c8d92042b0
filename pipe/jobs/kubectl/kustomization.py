"""A kustomization, checked before kubectl renders it: everything it loads is in the clone.

kustomize follows `resources`, `bases` and `components` to other kustomizations (its root-only load
restriction covers files, not those), fetches a URL or a git repository it is given, and reads patch,
generator and replacement files. Each reference is resolved with the clone's one path rule
(pipe.common.private_dir.inside_clone): a URL or a path out of the clone is refused, a file must be
a regular file (a FIFO would block kustomize for ever), and the walk is bounded in depth and count.
"""

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pipe.common import bounded_read, private_dir, process
from pipe.common.errors import PipeError

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Kustomizations nested through resources/components: real overlays nest 3 or 4 deep.
MAX_DEPTH = 16
# Kustomizations in one render, each read once.
MAX_KUSTOMIZATIONS = 256
# `kubectl kustomize` renders the kustomization after the sign-in: bounded in time, and its output
# written to a file in the private directory and read within a size cap, never held whole unbounded.
KUSTOMIZE_LIMIT_SECONDS = 120
MAX_RENDERED_BYTES = 64 * bounded_read.MIB
# Fields whose items name a file or a kustomization directory (or hold an inline document).
_PATH_LISTS = (
    "resources",
    "bases",
    "components",
    "crds",
    "configurations",
    "patchesStrategicMerge",
    "generators",
    "transformers",
    "validators",
)
_PATH_MAPS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
_REFUSED_FIELDS = {
    "helmCharts": "kustomize would fetch Helm charts from the network",
    "helmGlobals": "kustomize would fetch Helm charts from the network",
    "helmChartInflationGenerator": "kustomize would fetch Helm charts from the network",
}


def _remote(text: str) -> bool:
    lowered = text.lower()
    return "://" in lowered or lowered.startswith(("git@", "github.com/", "gitlab.com/", "bitbucket.org/"))


def _is_inline(text: str) -> bool:
    # kustomize takes an item that is not a path as an inline document (a patch, a generator).
    return "\n" in text or text.lstrip().startswith(("{", "apiVersion:", "kind:"))


class _Walk:
    def __init__(self, clone: Path, what: str):
        self.clone = clone
        self.what = what
        self.seen: set[Path] = set()

    def _fail(self, source: Path, problem: str) -> PipeError:
        shown = source.relative_to(self.clone) if source.is_relative_to(self.clone) else source
        return PipeError(f"{self.what}: the kustomization {str(shown)!r} {problem}")

    def root(self, directory: Path, depth: int) -> None:
        real = private_dir.inside_clone(directory, self.clone, self.what)
        if real in self.seen:
            return
        if depth > MAX_DEPTH or len(self.seen) >= MAX_KUSTOMIZATIONS:
            raise self._fail(real, f"nests over {MAX_DEPTH} levels or {MAX_KUSTOMIZATIONS} kustomizations.")
        self.seen.add(real)
        files = [real / name for name in FILE_NAMES if (real / name).exists()]
        if not files:
            names = ", ".join(FILE_NAMES)
            raise self._fail(real, f"is not a kustomization directory (none of {names}).")
        file = private_dir.inside_clone(files[0], self.clone, self.what)
        shown = str(file.relative_to(self.clone))
        try:
            named = f"{self.what}: the kustomization {shown}"
            text = bounded_read.read_text(file, bounded_read.SETTINGS_FILE_BYTES, named)
            documents = bounded_read.load_yaml_documents(text, named)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise PipeError(f"{self.what}: {shown} cannot be read as YAML: {type(error).__name__}.") from None
        document = documents[0] if documents else None
        if not isinstance(document, dict):
            raise PipeError(f"{self.what}: {shown} is not a kustomization (a YAML mapping).")
        self.fields(document, real, depth)

    def fields(self, document: dict[str, Any], directory: Path, depth: int) -> None:
        for field, reason in _REFUSED_FIELDS.items():
            if field in document:
                raise self._fail(directory, f"holds {field}: {reason}; render it before the pipe runs.")
        for field in _PATH_LISTS:
            for item in _items(document, field):
                if isinstance(item, str) and not _is_inline(item):
                    self.reference(item, directory, depth, field)
        for field in _PATH_MAPS:
            for item in _items(document, field):
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    self.reference(item["path"], directory, depth, field)
        openapi = document.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self.reference(openapi["path"], directory, depth, "openapi")
        for field in _GENERATORS:
            for generator in _items(document, field):
                if not isinstance(generator, dict):
                    continue
                sources = [*_items(generator, "files"), *_items(generator, "envs")]
                if isinstance(generator.get("env"), str):
                    sources.append(generator["env"])
                for source in sources:
                    if isinstance(source, str):
                        self.reference(source.split("=", 1)[-1], directory, depth, field)

    def reference(self, text: str, directory: Path, depth: int, field: str) -> None:
        if _remote(text):
            raise self._fail(
                directory, f"names {text!r} in {field}: the pipe does not fetch remote resources."
            )
        path = private_dir.inside_clone(directory / text, self.clone, self.what)
        try:
            mode = path.stat().st_mode
        except OSError:
            raise self._fail(directory, f"names {text!r} in {field}, which does not exist.") from None
        if stat.S_ISDIR(mode):
            self.root(path, depth + 1)
        elif not stat.S_ISREG(mode):
            raise self._fail(
                directory,
                f"names {text!r} in {field}, which is not a regular file (a pipe, device or socket).",
            )


def _items(document: dict[str, Any], field: str) -> list[Any]:
    value = document.get(field)
    return value if isinstance(value, list) else []


def check(directory: Path, clone: Path, what: str) -> None:
    """Refuse the kustomization in `directory` if anything it loads is outside the clone, remote or
    not a regular file. `what` names the variable in the line."""
    _Walk(clone, what).root(directory, 1)


def render(directory: Path, clone: Path, kubectl: str, env: Mapping[str, str], workdir: Path) -> str:
    """`kubectl kustomize directory` (already checked), run as every program the pipe reads the output
    of (pipe.common.process.capture): its output read within MAX_RENDERED_BYTES, its error output
    printed redacted and framed above the failure line."""
    source = str(directory.relative_to(clone)) or "."
    status, rendered = process.capture(
        [kubectl, "kustomize", str(directory)],
        env,
        clone,
        KUSTOMIZE_LIMIT_SECONDS,
        "KUSTOMIZE_LIMIT_SECONDS",
        workdir / "kustomized.yaml",
        MAX_RENDERED_BYTES,
        what=f"kubectl kustomize {source}",
    )
    if status != 0:
        raise PipeError(f"kubectl kustomize {source} failed (exit status {status}): see its message above.")
    return rendered
