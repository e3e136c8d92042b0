"""Running Helm: where it is, what it may see of the environment, and its output when the job reads it.

Helm reads HELM_* variables to change where it keeps repositories, registries and plugins, which
driver stores releases, and which kube context it talks to: the step's are dropped, and its homes are
in the private directory (outside the clone), so no login or repository index of the step leaks in
or out. Everything else is kubectl's environment (pipe.kube.cluster.kubectl_environment).
"""

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pipe.common import bounded_read, log
from pipe.common.errors import PipeError

# Deadline of a Helm command that only reads (status, history, template, pull, login).
READ_LIMIT_SECONDS = 300
# Helm's own output the job reads (a rendered chart, a release's manifest, JSON), within this.
MAX_OUTPUT_BYTES = 64 * bounded_read.MIB
_ERROR_TAIL_BYTES = 8192


def find_helm() -> str:
    found = shutil.which("helm")
    if found is None:
        raise PipeError("helm is not on PATH; the image ships it, so this runs outside the image.")
    return found


def environment(kubectl_env: Mapping[str, str], workdir: Path) -> dict[str, str]:
    homes = workdir / "helm"
    kept = {name: value for name, value in kubectl_env.items() if not name.upper().startswith("HELM_")}
    chosen = {
        "HELM_CACHE_HOME": str(homes / "cache"),
        "HELM_CONFIG_HOME": str(homes / "config"),
        "HELM_DATA_HOME": str(homes / "data"),
        # No plugin of the step or the image: Helm 4 runs plugins (post-renderers, getters) as programs.
        "HELM_PLUGINS": str(homes / "plugins"),
        "HELM_DRIVER": "secret",
    }
    for path in chosen.values():
        if path.startswith("/"):
            Path(path).mkdir(parents=True, exist_ok=True, mode=0o700)
    return kept | chosen


class Failed(PipeError):
    """Helm ended with a non-zero status; `said` is the end of what it printed on stderr (redacted)."""

    def __init__(self, message: str, said: str, status: int):
        super().__init__(message, exit_status=1)
        self.said = said
        self.status = status


def capture(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    workdir: Path,
    what: str,
    stdin: str | None = None,
    limit_seconds: float = READ_LIMIT_SECONDS,
) -> str:
    """Run Helm (or kubectl) for its output; `what` names the command in lines: stdout into a file in the private directory, read back within
    MAX_OUTPUT_BYTES; on failure Failed with the end of stderr, redacted. `stdin` (a password for a
    login) is sent on standard input, never as an argument."""
    output_path, errors_path = workdir / "helm-output", workdir / "helm-errors"
    with output_path.open("wb") as output, errors_path.open("w+b") as errors:
        try:
            completed = subprocess.run(
                args,
                env=dict(env),
                cwd=cwd,
                input=None if stdin is None else stdin.encode(),
                stdin=subprocess.DEVNULL if stdin is None else None,
                stdout=output,
                stderr=errors,
                check=False,
                timeout=limit_seconds,
            )
        except subprocess.TimeoutExpired:
            raise PipeError(
                f"{what} did not finish within {limit_seconds:g} s (READ_LIMIT_SECONDS); the pipe stopped it."
            ) from None
        if completed.returncode != 0:
            errors.seek(max(0, errors.tell() - _ERROR_TAIL_BYTES))
            said = log.redact(errors.read().decode("utf-8", "replace").strip())
            raise Failed(f"{what} failed: {said}", said, completed.returncode)
    try:
        return bounded_read.read_text(output_path, MAX_OUTPUT_BYTES, f"{what}'s output")
    except UnicodeDecodeError:
        raise PipeError(f"{what} printed text that is not UTF-8.") from None
    finally:
        output_path.unlink(missing_ok=True)
