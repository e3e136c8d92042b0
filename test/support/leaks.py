"""The leak scan: after every pipe run, look for its secrets in its output and in the files it left.

The secrets of a run are the ones in its environment (the OIDC token, an access key's secret, a
session token, the token in AWS_WEB_IDENTITY_TOKEN_FILE) and the session credentials moto's STS
issued while it ran. Each is looked for in every form pipe.common.secret_forms knows: the text is
decoded (line breaks taken out, backslash and percent escapes decoded, in combination) and each
view searched for the secret as is, as hex and as base64 at every alignment, whole or cut short.

That decoder is the pipe's own: the pipe masks what this scan finds by construction, one decoder
for both. What keeps the pair honest is apart from both: the planted leaks of test/support/encodings.py,
written with the standard library's encoders, which each must find and mask.
A hit is reported by the secret's name and the form found, never by its value.
"""

import os
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipe.common import secret_forms

# The pipe masks values of at least this length (pipe.common.log); shorter ones are not secrets it knows.
MIN_SECRET_LENGTH = 8
# Variables whose values are secret when a run starts with them.
SECRET_VARIABLES = (
    "BITBUCKET_STEP_OIDC_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "BITBUCKET_ACCESS_TOKEN",
)
# A variable that names a file whose content is a secret (the OIDC token of other CI systems).
TOKEN_FILE_VARIABLE = "AWS_WEB_IDENTITY_TOKEN_FILE"
# Directories a run may write to that a later step, an artifact, a cache or the next pipe can see.
SHARED_DIRECTORY_VARIABLES = (
    "HOME",
    "BITBUCKET_CLONE_DIR",
    "BITBUCKET_PIPE_STORAGE_DIR",
    "BITBUCKET_PIPE_SHARED_STORAGE_DIR",
)
# An EKS bearer token is a credential by itself (a presigned STS request), whoever's secret signed it.
EKS_BEARER = re.compile(r"k8s-aws-v1\.[A-Za-z0-9_-]{16,}")
# The pipe refuses a larger token file (pipe.common.bounded_read.TOKEN_FILE_BYTES) without using it.
TOKEN_FILE_LIMIT = 64 * 1024
# A file larger than this is not read whole at once (none of the tests makes one; a guard, not a rule).
_READ_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Secret:
    name: str  # where it came from, e.g. "BITBUCKET_STEP_OIDC_TOKEN" or "STS SessionToken (moto)"
    value: str


def hits(data: bytes, secrets: Iterable[Secret]) -> list[str]:
    """What was found where, without the values: e.g. 'AWS_SESSION_TOKEN (base64 at offset 1)'.
    Each form is named once, in the first view (the simplest decoding) that holds it."""
    text = data.decode("utf-8", "surrogateescape")
    table = secret_forms.Table((secret.name, secret.value) for secret in secrets)
    seen = secret_forms.views(text, table)
    found: dict[tuple[str, str], str] = {}
    for hit in secret_forms.hits_in(seen, table) if table else []:
        key = (hit.needle.name, hit.needle.form)
        if key in found:
            continue
        where = ", ".join(
            part
            for part in (
                "cut short" if hit.cut_short else "",
                _view_name(hit.view, text[hit.start : hit.end]),
            )
            if part
        )
        found[key] = f"{hit.needle.name} ({hit.needle.form}{', ' + where if where else ''})"
    result = list(found.values())
    if any(EKS_BEARER.search(view.text) for view in seen):
        result.append("an EKS bearer token (k8s-aws-v1.…)")
    return result


def _view_name(view: str, source: str) -> str:
    """The view's name, saying "across line breaks" only when the hit really spans one."""
    if "\n" in source or "\r" in source:
        return view
    return ", ".join(part for part in view.split(", ") if part != "across line breaks")


def _token_file_text(path: str) -> str | None:
    """The token a token file holds, as the pipe reads it (white space around it is not part of it).
    Only a regular file, opened without blocking and read up to TOKEN_FILE_LIMIT: the bad-input rows
    point the variable at a FIFO, /dev/zero and oversized files, which the pipe refuses unread."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:  # a run about a missing or unreadable token file
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return handle.read(TOKEN_FILE_LIMIT).decode(errors="replace").strip()


def environment_secrets(env: Mapping[str, str]) -> list[Secret]:
    """The secrets a run starts with: the variables, and the token AWS_WEB_IDENTITY_TOKEN_FILE names."""
    found = [Secret(name, env[name]) for name in SECRET_VARIABLES if env.get(name)]
    token_file = env.get(TOKEN_FILE_VARIABLE)
    if token_file:
        token = _token_file_text(token_file)
        if token:
            found.append(Secret(TOKEN_FILE_VARIABLE, token))
    return [secret for secret in found if len(secret.value) >= MIN_SECRET_LENGTH]


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


# --- What the pipe sent to the stand-ins and they kept ------------------------------------------------------------
# Each item a stand-in holds: (a stamp that changes when the item does, where it is, its bytes when asked).
Received = tuple[Hashable, str, Callable[[], bytes]]
# Stand-ins add a function listing what they hold while they run (KubeStandIn, BeanstalkStandIn, CodeInsightsStandIn).
RECEIVERS: list[Callable[[], Iterable[Received]]] = []


def _moto_s3_objects() -> Iterable[Received]:
    """Every object version in moto's S3 (in this process): body, metadata and tags."""
    models = sys.modules.get("moto.s3.models")
    if models is None:
        return
    for account in list(models.s3_backends.keys()):
        for backend in list(models.s3_backends[account].values()):
            for bucket in list(backend.buckets.values()):
                for name, versions in bucket.keys.iterlists():
                    for key in list(versions):
                        stamp = ("s3", bucket.name, name, key.version_id, key.etag, key.last_modified)

                        def content(key=key, backend=backend) -> bytes:
                            extra = repr((dict(key.metadata), backend.get_object_tagging(key))).encode()
                            return key.value + b"\n" + extra

                        yield stamp, f"s3://{bucket.name}/{name}", content


def _received() -> Iterable[Received]:
    yield from _moto_s3_objects()
    for receiver in list(RECEIVERS):
        yield from receiver()


def received_marker() -> set[Hashable]:
    """Identifies what the stand-ins hold now, so that what a run sends them can be told apart."""
    return {stamp for stamp, _where, _content in _received()}


def received_since(marker: set[Hashable]) -> list[tuple[str, bytes]]:
    return [(where, content()) for stamp, where, content in _received() if stamp not in marker]


FileState = dict[Path, tuple[int, int]]
# The pipe's private directories (pipe.common.private_dir), in the system's temporary directory.
PRIVATE_DIRECTORY_PATTERN = "aws-oidc-deploy-*"


def private_directories() -> set[Path]:
    """The pipe's private directories that exist now: a finished run removes its own, a killed one cannot."""
    return set(Path(tempfile.gettempdir()).glob(PRIVATE_DIRECTORY_PATTERN))


def files_below(directories: Iterable[Path]) -> list[Path]:
    """Regular files below `directories`; one removed meanwhile (another run's clean-up) is skipped."""
    return [
        Path(folder, name)
        for directory in directories
        for folder, _dirs, names in os.walk(directory)
        for name in names
        if Path(folder, name).is_file()
    ]


def directories(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The clone (the working directory and BITBUCKET_CLONE_DIR), $HOME and the pipe's storage directories."""
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

    def as_dict(self) -> dict:
        """The counts and hits (a hit names a secret and where, never its value), for another process."""
        with self.lock:
            return {
                "runs": self.runs,
                "debug_runs": self.debug_runs,
                "files": self.files,
                "secrets": self.secrets,
                "hits": list(self.hits),
            }

    def add(self, other: Mapping) -> None:
        """Add another process's tally (an xdist worker's, from as_dict) to this one."""
        with self.lock:
            self.runs += other["runs"]
            self.debug_runs += other["debug_runs"]
            self.files += other["files"]
            self.secrets += other["secrets"]
            self.hits += other["hits"]


TALLY = Tally()


class Leak(AssertionError):
    """A secret was found; the message names it and where, never its value."""


def check(
    output: bytes,
    files: list[Path],
    secrets: list[Secret],
    debug: bool,
    context: str = "",
    received: list[tuple[str, bytes]] = (),
) -> None:
    """Fail with Leak when any secret (or an EKS bearer token) is in `output`, in `files` or in what
    the stand-ins `received` (where, bytes)."""
    found = [f"output: {hit}" for hit in hits(output, secrets)]
    for where, data in received:
        found += [f"sent to {where}: {hit}" for hit in hits(data, secrets)]
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
