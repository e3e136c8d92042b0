"""Running Helm: where it is, what it may see of the environment, and its output when the job reads it.

Helm reads HELM_* variables to change where it keeps repositories, registries and plugins, which
driver stores releases, and which kube context it talks to: the step's are dropped, and its homes are
in the private directory (outside the clone), so no login or repository index of the step leaks in
or out. Everything else is kubectl's environment (pipe.kube.cluster.kubectl_environment).
"""

import shutil
from collections.abc import Mapping
from pathlib import Path

from pipe.common import bounded_read, process
from pipe.common.errors import PipeError

# Deadline of a Helm command that only reads (status, history, template, pull, login).
READ_LIMIT_SECONDS = 300
# Helm's own output the job reads (a rendered chart, a release's manifest, JSON), within this.
MAX_OUTPUT_BYTES = 64 * bounded_read.MIB


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
    """Helm ended with a non-zero status; its error output, redacted as one text, is printed framed above
    this line and kept in `said` for the caller to read."""

    def __init__(self, what: str, said: str, status: int):
        super().__init__(f"{what} failed (exit status {status}): see its message above.", exit_status=1)
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
    """Run Helm for its output (pipe.common.process.capture, `what` naming the command in lines):
    stdout into a file in the private directory, read back within MAX_OUTPUT_BYTES; on failure its
    error output printed framed, then Failed. `stdin` (a password for a login) is sent on standard
    input, never as an argument."""
    text = _capture(args, env, cwd, workdir, what, stdin, limit_seconds, missing_ok=False)
    assert text is not None  # missing_ok=False: a missing release is a failure
    return text


def capture_release(
    args: list[str], env: Mapping[str, str], cwd: Path, workdir: Path, what: str
) -> str | None:
    """`capture` of a command about the release (history, manifest): None, and nothing printed, when
    Helm says the release is not found (none installed yet)."""
    return _capture(args, env, cwd, workdir, what, None, READ_LIMIT_SECONDS, missing_ok=True)


def _capture(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    workdir: Path,
    what: str,
    stdin: str | None,
    limit_seconds: float,
    missing_ok: bool,
) -> str | None:
    said: list[str] = []
    output = workdir / "helm-output"
    try:
        status, text = process.capture(
            args,
            env,
            cwd,
            limit_seconds,
            "READ_LIMIT_SECONDS",
            output,
            MAX_OUTPUT_BYTES,
            what=what,
            stdin_text=stdin,
            errors_to=said.extend,
            logged_as=what,  # SET values are in the arguments: a Secret's are masked only once rendered
        )
    finally:
        output.unlink(missing_ok=True)  # a rendered chart: Secret values
    if status == 0:
        # Not shown, as before: a warning of `helm template` is printed before the render tells
        # which SET values are a Secret's.
        return text
    message = "\n".join(said)
    if missing_ok and "not found" in message:
        return None
    process.print_framed(said)
    raise Failed(what, message, status)
