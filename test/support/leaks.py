"""The leak scan: after every pipe run, look for its secrets in its output and in the files it left.

The secrets of a run are the ones in its environment (the OIDC token, an access key's secret, a
session token) and the session credentials moto's STS issued while it ran. Each is searched for as
itself and in base64, standard and URL-safe, at the three alignments a value can have inside a
longer blob (so base64("user:" + secret) in a header or a kubeconfig is found too).

This module does not reuse pipe.common.log's masking: a check that shares the code it checks proves little.
A hit is reported by the secret's name and the form found, never by its value.
"""

import base64
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The pipe masks values of at least this length (pipe.common.log); shorter ones are not secrets it knows.
MIN_SECRET_LENGTH = 8
# Variables whose values are secret when a run starts with them.
SECRET_VARIABLES = ("BITBUCKET_STEP_OIDC_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Directories a run may write to that a later step, an artifact or a cache can see.
SHARED_DIRECTORY_VARIABLES = (
    "BITBUCKET_CLONE_DIR",
    "BITBUCKET_PIPE_STORAGE_DIR",
    "BITBUCKET_PIPE_SHARED_STORAGE_DIR",
)
# An EKS bearer token is a credential by itself (a presigned STS request), whoever's secret signed it.
EKS_BEARER = re.compile(rb"k8s-aws-v1\.[A-Za-z0-9_-]{16,}")
# A file larger than this is not read whole at once (none of the tests makes one; a guard, not a rule).
_READ_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Secret:
    name: str  # where it came from, e.g. "BITBUCKET_STEP_OIDC_TOKEN" or "STS SessionToken (moto)"
    value: str


def base64_cores(raw: bytes) -> dict[str, bytes]:
    """The parts of base64(... + raw + ...) that depend on `raw` alone, for each alignment and alphabet.

    With k bytes before `raw` (k = 0, 1, 2 modulo 3), the first 0, 2 or 3 characters also encode
    the bytes before it, and the last character encodes bytes after it unless the blob ends evenly."""
    cores = {}
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        total = offset + len(raw)
        encoded = base64.b64encode(b"\0" * offset + raw).rstrip(b"=")
        end = len(encoded) - (1 if total % 3 else 0)
        core = encoded[skip:end]
        cores[f"base64 at offset {offset}"] = core
        cores[f"base64url at offset {offset}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return cores


def forms(secret: Secret) -> dict[str, bytes]:
    raw = secret.value.encode()
    return {"as is": raw} | base64_cores(raw)


def hits(data: bytes, secrets: Iterable[Secret]) -> list[str]:
    """What was found where, without the values: e.g. 'AWS_SESSION_TOKEN (base64 at offset 1)'."""
    found = []
    for secret in secrets:
        for form, needle in forms(secret).items():
            if needle and needle in data:
                found.append(f"{secret.name} ({form})")
    if EKS_BEARER.search(data):
        found.append("an EKS bearer token (k8s-aws-v1.…)")
    return found


def environment_secrets(env: Mapping[str, str]) -> list[Secret]:
    return [
        Secret(name, env[name]) for name in SECRET_VARIABLES if len(env.get(name) or "") >= MIN_SECRET_LENGTH
    ]


def _issued_roles() -> list:
    """Every session moto's STS (in this process) has issued, in every account, or [] without moto."""
    models = sys.modules.get("moto.sts.models")
    if models is None:
        return []
    roles = []
    for account in list(models.sts_backends.keys()):
        for backend in list(models.sts_backends[account].values()):
            roles.extend(backend.assumed_roles)
    return roles


def issued_marker() -> set[int]:
    """Identifies the sessions issued so far, so that those of the next run can be told apart."""
    return {id(role) for role in _issued_roles()}


def issued_since(marker: set[int]) -> list[Secret]:
    secrets = []
    for role in _issued_roles():
        if id(role) in marker:
            continue
        secrets.append(Secret(f"STS SecretAccessKey issued to {role.session_name}", role.secret_access_key))
        secrets.append(Secret(f"STS SessionToken issued to {role.session_name}", role.session_token))
    return [secret for secret in secrets if len(secret.value or "") >= MIN_SECRET_LENGTH]


FileState = dict[Path, tuple[int, int]]


def directories(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The clone (the working directory and BITBUCKET_CLONE_DIR) and the pipe's storage directories."""
    found = [Path(cwd).resolve()]
    for name in SHARED_DIRECTORY_VARIABLES:
        value = env.get(name)
        if value and Path(value).is_dir():
            path = Path(value).resolve()
            if path not in found and path != Path("/"):
                found.append(path)
    return found


def snapshot(roots: Iterable[Path]) -> FileState:
    """Size and modification time of every regular file below `roots` (links not followed)."""
    state: FileState = {}
    for root in roots:
        for directory, _dirs, names in os.walk(root):
            for name in names:
                path = Path(directory, name)
                try:
                    info = path.lstat()
                except OSError:
                    continue
                if path.is_file() and not path.is_symlink():
                    state[path] = (info.st_size, info.st_mtime_ns)
    return state


def left_behind(before: FileState, after: FileState) -> list[Path]:
    """Files the run created or changed (what was there before is the test's own)."""
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)


@dataclass
class Tally:
    """What the scan has looked at in this test session, for the summary line."""

    runs: int = 0
    debug_runs: int = 0
    files: int = 0
    secrets: int = 0
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def line(self) -> str:
        return (
            f"leak scan: {self.runs} pipe runs ({self.debug_runs} with DEBUG=true), "
            f"{self.secrets} secrets looked for, {self.files} files left behind scanned, "
            f"{len(self.hits)} hits"
        )


TALLY = Tally()


class Leak(AssertionError):
    """A secret was found; the message names it and where, never its value."""


def check(output: bytes, files: list[Path], secrets: list[Secret], debug: bool, context: str = "") -> None:
    """Fail with Leak when any secret (or an EKS bearer token) is in `output` or in `files`."""
    found = [f"output: {hit}" for hit in hits(output, secrets)]
    for path in files:
        try:
            with path.open("rb") as stream:
                while chunk := stream.read(_READ_CHUNK):
                    found += [f"{path}: {hit}" for hit in hits(chunk, secrets)]
        except OSError:
            continue
    with TALLY.lock:
        TALLY.runs += 1
        TALLY.debug_runs += int(debug)
        TALLY.files += len(files)
        TALLY.secrets += len(secrets)
        TALLY.hits += found
    if found:
        raise Leak(f"secret leaked{' in ' + context if context else ''}: " + "; ".join(sorted(set(found))))
