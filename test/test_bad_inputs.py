"""The bad-input catalogue: one table of wrong values across every variable of every job.

Each row runs the pipe as a process (DEBUG=true, leak-scanned, as every run_pipe run) and must end
with exit status 1, exactly one `✖` line that says `expected`, no traceback, and neither the token
nor the row's own secret value anywhere in the output. (No row holds NUL: an environment cannot.)

A job joins by adding its happy-path environment to test/support/job_env.py (and, here, hostile files
beside it) and its rows to ROWS.
"""

import base64
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipe import jobs, main, signin
from test.support import job_env
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.faults import FaultProxy
from test.support.run import write_files
from test.support.tokens import make_token

# aliases nested ten deep, ten to a level, inside a `kind: List`: 10^10 values once expanded.
_BILLION_LAUGHS = (
    "kind: List\napiVersion: v1\nitems:\n- kind: ConfigMap\n  apiVersion: v1\n  data:\n"
    + "".join(
        f"    l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10) if level else 'lol'}]\n"
        for level in range(11)
    )
)
HUGE = "x" * 70_000  # past pipe.common.variables.MAX_VALUE_LENGTH (64 KiB)
# A value that must never be echoed, used where a row puts something secret-looking in a variable.
PLANTED = "planted-Secret/Value+9876543210abcdef"
# A proxy's password as a URL holds it (`@` percent-encoded), and as the proxy gets it.
PROXY_PASSWORD = "Proxy-Pass%40word+9876543210"
PROXY_SECRETS = (PROXY_PASSWORD, PROXY_PASSWORD.replace("%40", "@"))
# A port nothing listens on: the proxy refuses every connection.
CLOSED_PROXY = "127.0.0.1:9"


# Each job's happy-path environment (test/support/job_env.py), with hostile files and dead ends beside
# it for the rows to point at.
def _whoami(env: dict, clone: Path) -> dict:
    # Token files no reader may wait on or read whole: a FIFO without a writer, and 2 MiB (sparse).
    os.mkfifo(clone / "token.fifo")
    with (clone / "token.huge").open("wb") as huge:
        huge.truncate(2 * 1024 * 1024)
    return job_env.environment("whoami", env, clone)


def _kubectl(env: dict, clone: Path) -> dict:
    write_files(
        clone,
        {
            "bomb/laughs.yaml": _BILLION_LAUGHS,
            "deep/deep.yaml": "kind: ConfigMap\napiVersion: v1\ndata: " + "[" * 5000 + "]" * 5000 + "\n",
            "malformed/labels.yaml": "kind: ConfigMap\napiVersion: v1\nmetadata: {name: x, labels: [a]}\n",
            "malformed-list/list.yaml": "kind: List\napiVersion: v1\nitems: {a: 1}\n",
        },
    )
    outside = clone.parent / "outside-manifests"
    outside.mkdir(exist_ok=True)
    (outside / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n")
    (clone / "linked").mkdir()
    (clone / "linked" / "cm.yaml").symlink_to(outside / "secret.yaml")
    (clone / "loop").symlink_to(clone / "loop")
    (clone / "huge").mkdir()
    with (clone / "huge" / "big.yaml").open("wb") as big:
        big.truncate(9 * 1024 * 1024)  # over MANIFEST_FILE_BYTES, sparse: cheap to make
    # Files kubectl would wait on for ever, and kustomizations that load from outside the clone.
    os.mkfifo(clone / "fifo.yaml")
    (clone / "fifo-dir").mkdir()
    os.mkfifo(clone / "fifo-dir" / "cm.yaml")
    (clone / "kust-fifo").mkdir()
    os.mkfifo(clone / "kust-fifo" / "kustomization.yaml")
    write_files(
        clone,
        {
            "kust-up/kustomization.yaml": "resources: [../../outside-manifests]\n",
            "kust-url/kustomization.yaml": "resources: ['https://example.invalid/x.yaml']\n",
            "kust-git/kustomization.yaml": "resources: ['github.com/org/repo//deploy?ref=main']\n",
            "kust-env/kustomization.yaml": "configMapGenerator: [{name: c, envs: [/etc/passwd]}]\n",
            "kust-patch/kustomization.yaml": "resources: [cm.yaml]\npatches: [{path: fifo.yaml}]\n",
            "kust-patch/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        },
    )
    os.mkfifo(clone / "kust-patch" / "fifo.yaml")
    return job_env.environment("kubectl", env, clone)


def _tgz(path: Path, members: list[tuple[str, bytes]]) -> None:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _helm(env: dict, clone: Path) -> dict:
    chart_yaml = b"apiVersion: v2\nname: web\nversion: 1.0.0\n"
    outside = clone.parent / "outside-chart"
    outside.mkdir(exist_ok=True)
    (outside / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n")
    (outside / "values.yaml").write_text("password: stolen\n")
    write_files(clone, {"linked-chart/Chart.yaml": chart_yaml.decode(), "values/list.yaml": "- a\n- b\n"})
    (clone / "linked-chart" / "templates").mkdir()
    (clone / "linked-chart" / "templates" / "stolen.yaml").symlink_to(outside / "secret.yaml")
    (clone / "values").mkdir(exist_ok=True)
    (clone / "values" / "linked.yaml").symlink_to(outside / "values.yaml")
    (clone / "values" / "laughs.yaml").write_text(_BILLION_LAUGHS.replace("kind: List\napiVersion: v1\n", ""))
    with (clone / "values" / "huge.yaml").open("wb") as huge:
        huge.truncate(5 * 1024 * 1024)  # over SETTINGS_FILE_BYTES (4 MiB), sparse
    os.mkfifo(clone / "values" / "fifo.yaml")
    _tgz(clone / "escape.tgz", [("web/Chart.yaml", chart_yaml), ("web/../../../escaped.yaml", b"x: 1\n")])
    _tgz(clone / "absolute.tgz", [("/tmp/web/Chart.yaml", chart_yaml)])
    (clone / "charts-dep" / "web" / "charts").mkdir(parents=True)
    (clone / "charts-dep" / "web" / "Chart.yaml").write_bytes(chart_yaml)
    _tgz(clone / "charts-dep" / "web" / "charts" / "lib.tgz", [("lib/../../x", b"x")])
    (clone / "chart-link").symlink_to(outside, target_is_directory=True)
    return job_env.environment("helm", env, clone)


def _beanstalk(env: dict, clone: Path) -> dict:
    (clone / "empty").mkdir(exist_ok=True)
    (clone / "badnames").mkdir(exist_ok=True)
    (clone / "badnames" / os.fsdecode(b"page-\xff.html")).write_text("x")
    # Links that lead out of the clone: to its parent directory, and to a file outside it.
    outside = clone.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "bundle.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    (clone / "escape").symlink_to(clone.parent, target_is_directory=True)
    (clone / "bundle-link.zip").symlink_to(outside / "bundle.zip")
    # Nothing listens there: a row that got past the checks would not reach any stand-in.
    return job_env.environment("beanstalk", env, clone) | {
        "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": "http://127.0.0.1:9"
    }


def _cdk(env: dict, clone: Path) -> dict:
    (clone / "not-an-app").mkdir(exist_ok=True)
    write_files(
        clone,
        {
            "deep-app/cdk.json": '{"app": ' + "[" * 5000 + "]" * 5000 + "}",
            "linked-cli/cdk.json": '{"app": "node bin/app.js"}',
        },
    )
    # The app's own CLI, a link to a program outside the clone.
    (clone / "linked-cli" / "node_modules" / ".bin").mkdir(parents=True)
    (clone / "linked-cli" / "node_modules" / ".bin" / "cdk").symlink_to("/bin/true")
    outside = clone.parent / "outside-app"
    outside.mkdir(exist_ok=True)
    (outside / "cdk.json").write_text('{"app": "node bin/app.js"}')
    (clone / "app-link").symlink_to(outside, target_is_directory=True)
    # No CDK CLI on PATH: a row that got past the checks would fail with another line.
    return job_env.environment("cdk", env, clone) | {"PATH": "/usr/bin:/bin"}


def _ecs(env: dict, clone: Path) -> dict:
    base = '{"family": "shop", "containerDefinitions": [{"name": "web", "image": "repo/shop:1", "memory": 256%s}]%s}'
    write_files(
        clone,
        {
            "ecs/deep.json": "[" * 5000 + "]" * 5000,
            "ecs/not-json.json": "family: shop\n",
            "ecs/list.json": "[]",
            "ecs/unknown-field.json": base % ("", ', "secretValue": "' + PLANTED + '"'),
            "ecs/bad-type.json": base % (', "environment": [{"name": "K", "value": 42}]', ""),
            "ecs/bad-env.json": base % (', "environment": "' + PLANTED + '"', ""),
            "ecs/no-memory.json": '{"family": "shop", "containerDefinitions": [{"name": "web", "image": "r/s:1"}]}',
            "ecs/bad-family.json": base.replace('"shop"', '"shop.prod"') % ("", ""),
            "ecs/tags.json": base % ("", ', "tags": [{"key": "a", "value": "b"}]'),
        },
    )
    (clone / "ecs" / "latin1.json").write_bytes(b'{"family": "caf\xe9"}')
    os.mkfifo(clone / "ecs" / "fifo.json")
    with (clone / "ecs" / "huge.json").open("wb") as huge:
        huge.truncate(2 * 1024 * 1024)
    outside = clone.parent / "outside-ecs"
    outside.mkdir(exist_ok=True)
    (outside / "task.json").write_text('{"family": "stolen"}')
    (clone / "ecs" / "link.json").symlink_to(outside / "task.json")
    # Nothing listens there: a row that got past the checks would not reach any stand-in.
    return job_env.environment("ecs", env, clone) | {"AWS_ENDPOINT_URL_ECS": "http://127.0.0.1:9"}


# job -> its environment for the rows (from the pipe_env fixture and the clone directory).
JOB_ENVIRONMENTS: dict[str, Callable[[dict, Path], dict]] = {
    job: functools.partial(job_env.environment, job) for job in job_env.JOBS
} | {
    "whoami": _whoami,
    "kubectl": _kubectl,
    "helm": _helm,
    "beanstalk": _beanstalk,
    "cdk": _cdk,
    "ecs": _ecs,
}


@dataclass(frozen=True)
class Bad:
    job: str
    changes: dict
    expected: str  # in the one ✖ line
    secrets: tuple[str, ...] = field(default=())  # values that must not appear in the output
    # What the ✖ line names when it is not one of the changed variables (a file, the token's claim).
    names: str | None = None
    # Only AWS can tell (STS refuses the role, the account is not allowed): every other row is refused
    # before the first AWS call, the sign-in included (each job's settings reader runs before it).
    needs_aws: bool = False


def _declared_secrets() -> set[str]:
    declared = main.COMMON_VARIABLES + signin.VARIABLES
    for command in jobs.JOBS:
        declared += jobs.load(command).VARIABLES + main.report_variables(command)
    return {variable.name for variable in declared if variable.secret}


# Variables declared secret (pipe.common.variables): whatever a row puts in one must never be echoed.
SECRET_VARIABLES = _declared_secrets()
# Shorter values would be found in ordinary text by chance.
MIN_PLANTED_LENGTH = 12


def _secrets_of(row: "Bad") -> tuple[str, ...]:
    planted = tuple(
        value
        for name, value in row.changes.items()
        if name in SECRET_VARIABLES and len(value.strip()) >= MIN_PLANTED_LENGTH
    )
    return row.secrets + planted


def _subjects(row: "Bad") -> set[str]:
    """What the ✖ line must name: the row's `names`, else a changed variable (a list's NAME for its
    NAME_COUNT / NAME_n form), so that a user knows which variable to fix."""
    if row.names is not None:
        return {row.names}
    return {name for changed in row.changes for name in (changed, re.sub(r"_(COUNT|[0-9]+)$", "", changed))}


def _token_with_claims(payload: str) -> str:
    """A JWT-shaped token whose claims are `payload` (JSON text)."""
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{encoded}.c2lnbmF0dXJl"


def _list(name: str, *items: str) -> dict:
    return {f"{name}_COUNT": str(len(items))} | {f"{name}_{i}": item for i, item in enumerate(items)}


ROWS = [
    # --- COMMAND and DEBUG (every job) -------------------------------------------------------------
    Bad("whoami", {"COMMAND": ""}, "COMMAND is required"),
    Bad("whoami", {"COMMAND": "deploy"}, "COMMAND must be one of: whoami, trust-policy"),
    Bad("whoami", {"COMMAND": "[x"}, "COMMAND must be one of"),
    Bad("whoami", {"COMMAND": "!!python/object:os.system"}, "COMMAND must be one of"),
    Bad("whoami", {"COMMAND": "whoami\x07"}, "COMMAND contains control characters"),
    Bad("whoami", {"COMMAND": HUGE}, "COMMAND is 70000 characters long"),
    Bad("whoami", {"DEBUG": "maybe"}, "DEBUG must be true or false"),
    Bad("whoami", {"DEBUG": "{x"}, "DEBUG must be true or false"),
    Bad("whoami", {"DEBUG": "*anchor"}, "DEBUG must be true or false"),
    # --- sign-in --------------------------------------------------------------------------------------
    Bad("whoami", {"AWS_OIDC_ROLE_ARN": "deploy"}, "AWS_OIDC_ROLE_ARN must be an IAM role ARN"),
    Bad("whoami", {"AWS_OIDC_ROLE_ARN": "[x"}, "AWS_OIDC_ROLE_ARN must be an IAM role ARN"),
    Bad(
        "whoami",
        {"AWS_OIDC_ROLE_ARN": "arn:aws:iam::12345:role/x"},
        "AWS_OIDC_ROLE_ARN must contain a 12-digit",
    ),
    Bad(
        "whoami",
        {"AWS_OIDC_ROLE_ARN": "arn:aws:iam::123456789012:user/x"},
        "AWS_OIDC_ROLE_ARN must be an IAM role",
    ),
    Bad(
        "whoami",
        {"AWS_OIDC_ROLE_ARN": "arn:aws-xx:iam::123456789012:role/x"},
        "AWS_OIDC_ROLE_ARN must be in partition",
    ),
    Bad("whoami", {"AWS_OIDC_ROLE_ARN": "arn:aws:iam::123456789012:role/x\x1b[31m"}, "control characters"),
    Bad(
        "whoami", {"BITBUCKET_STEP_OIDC_TOKEN": ""}, "BITBUCKET_STEP_OIDC_TOKEN is not set: add `oidc: true`"
    ),
    Bad("whoami", {"BITBUCKET_STEP_OIDC_TOKEN": PLANTED}, "is not an OIDC token", (PLANTED,)),
    Bad(
        "whoami",
        {"BITBUCKET_STEP_OIDC_TOKEN": "eyJ" + PLANTED + ".e30.sig"},
        "has no valid expiry",
        (PLANTED,),
    ),
    Bad(
        "whoami",
        {"BITBUCKET_STEP_OIDC_TOKEN": PLANTED + "\x1f"},
        "BITBUCKET_STEP_OIDC_TOKEN contains control",
        (PLANTED,),
    ),
    Bad(
        "whoami",
        {"BITBUCKET_STEP_OIDC_TOKEN": make_token(expires_in=-60)},
        "BITBUCKET_STEP_OIDC_TOKEN expired",
    ),
    Bad("whoami", {"AWS_DEFAULT_REGION": ""}, "AWS_DEFAULT_REGION is required"),
    Bad("whoami", {"AWS_DEFAULT_REGION": "Ireland"}, "AWS_DEFAULT_REGION must be an AWS region name"),
    Bad(
        "whoami",
        {"AWS_DEFAULT_REGION": "eu-west-1; rm -rf /"},
        "AWS_DEFAULT_REGION must be an AWS region name",
    ),
    Bad(
        "whoami",
        {"AWS_DEFAULT_REGION": "cn-north-1"},
        "is in partition aws but region cn-north-1 is in aws-cn",
    ),
    Bad("whoami", {"AWS_REGION": "!!str eu"}, "AWS_REGION must be an AWS region name"),
    Bad("whoami", {"AWS_ROLE_SESSION_NAME": "x"}, "AWS_ROLE_SESSION_NAME must be 2-64 characters"),
    Bad("whoami", {"AWS_ROLE_SESSION_NAME": "name with spaces"}, "AWS_ROLE_SESSION_NAME must be 2-64"),
    Bad("whoami", {"AWS_ROLE_SESSION_NAME": "s" * 65}, "AWS_ROLE_SESSION_NAME must be 2-64"),
    Bad(
        "whoami",
        {"AWS_ROLE_DURATION_SECONDS": "1h"},
        "AWS_ROLE_DURATION_SECONDS must be a whole number of seconds",
    ),
    Bad("whoami", {"AWS_ROLE_DURATION_SECONDS": "60"}, "from 900 to 43200"),
    Bad("whoami", {"AWS_ROLE_DURATION_SECONDS": "-3600"}, "from 900 to 43200"),
    Bad("whoami", {"AWS_ROLE_DURATION_SECONDS": "3600.0"}, "from 900 to 43200"),
    Bad("whoami", {"AWS_ROLE_DURATION_SECONDS": "010"}, "from 900 to 43200"),
    Bad("whoami", {"ROLE_ARN": "{x"}, "ROLE_ARN must be an IAM role ARN"),
    Bad(
        "whoami",
        _list("AWS_ALLOWED_ACCOUNT_IDS", "12345"),
        "AWS_ALLOWED_ACCOUNT_IDS must be a list of 12-digit",
    ),
    Bad(
        "whoami",
        {"AWS_ALLOWED_ACCOUNT_IDS": "123456789012,abc"},
        "AWS_ALLOWED_ACCOUNT_IDS must be a list of 12",
    ),
    Bad(
        "whoami",
        {"AWS_ALLOWED_ACCOUNT_IDS_COUNT": "abc"},
        "AWS_ALLOWED_ACCOUNT_IDS_COUNT must be the number of",
    ),
    Bad(
        "whoami",
        {"AWS_ALLOWED_ACCOUNT_IDS_COUNT": "2", "AWS_ALLOWED_ACCOUNT_IDS_0": "123456789012"},
        "AWS_ALLOWED_ACCOUNT_IDS_1 is missing",
    ),
    Bad(
        "whoami",
        {"AWS_ALLOWED_ACCOUNT_IDS": "210987654321"},
        "not in AWS_ALLOWED_ACCOUNT_IDS",
        needs_aws=True,
    ),
    # Standard SDK variables, checked up front like the pipe's own (issue 13, class 6).
    Bad("whoami", {"AWS_ENDPOINT_URL": "not a url"}, "AWS_ENDPOINT_URL must be an http:// or https:// URL"),
    Bad(
        "whoami",
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:port"},
        "AWS_ENDPOINT_URL must be an http:// or https://",
    ),
    Bad(
        "s3-sync",
        {"AWS_ENDPOINT_URL_S3": "ftp://example.com"},
        "AWS_ENDPOINT_URL_S3 must be an http:// or https://",
    ),
    # A proxy with a password in its URL, unreachable: the password is never printed, DEBUG included.
    Bad(
        "whoami",
        {"HTTP_PROXY": f"http://deploy:{PROXY_PASSWORD}@{CLOSED_PROXY}"},
        "through the proxy",
        PROXY_SECRETS,
        names="HTTP_PROXY",
    ),
    Bad(
        "whoami",
        {"http_proxy": f"deploy:{PROXY_PASSWORD}@{CLOSED_PROXY}"},  # no scheme: clients assume http://
        "through the proxy",
        PROXY_SECRETS,
        names="HTTP_PROXY",
    ),
    Bad(
        "whoami",
        {
            "HTTPS_PROXY": f"http://deploy:{PROXY_PASSWORD}@{CLOSED_PROXY}",
            "AWS_ENDPOINT_URL_STS": "https://sts.eu-west-1.amazonaws.com",
        },
        "through the proxy",
        PROXY_SECRETS,
        names="HTTPS_PROXY",
    ),
    Bad(
        "s3-sync",
        {"HTTP_PROXY": f"http://{PROXY_PASSWORD}@{CLOSED_PROXY}"},  # a token as the user name
        "through the proxy",
        PROXY_SECRETS,
        names="HTTP_PROXY",
    ),
    Bad(
        "whoami",
        {"AWS_ENDPOINT_URL": f"http://deploy:{PLANTED}@127.0.0.1:9"},
        "AWS_ENDPOINT_URL must not hold a user name or password",
        (PLANTED,),
    ),
    Bad("whoami", {"AWS_RETRY_MODE": "bogus"}, "AWS_RETRY_MODE must be one of standard, adaptive, legacy"),
    Bad(
        "whoami",
        {"AWS_MAX_ATTEMPTS": "1000"},
        "AWS_MAX_ATTEMPTS must be a whole number of attempts from 1 to 10",
    ),
    # A guard rail that is set never means "no guard" (issue 13, class 5): each of these signed in before.
    Bad("whoami", _list("AWS_ALLOWED_ACCOUNT_IDS", ""), "AWS_ALLOWED_ACCOUNT_IDS_0 is empty"),
    Bad(
        "whoami", _list("AWS_ALLOWED_ACCOUNT_IDS", "210987654321", " "), "AWS_ALLOWED_ACCOUNT_IDS_1 is empty"
    ),
    Bad(
        "whoami",
        {"AWS_ALLOWED_ACCOUNT_IDS": "210987654321", "AWS_ALLOWED_ACCOUNT_IDS_COUNT": "0"},
        "AWS_ALLOWED_ACCOUNT_IDS is set both as a list (AWS_ALLOWED_ACCOUNT_IDS_COUNT=0)",
    ),
    Bad("whoami", {"AWS_ALLOWED_ACCOUNT_IDS": " , ,"}, "AWS_ALLOWED_ACCOUNT_IDS is set but holds no items"),
    Bad("kubectl", _list("LABELS", "team=web", ""), "LABELS_1 is empty"),
    Bad("cdk", {"CDK_STACKS": ",", "CDK_STACKS_COUNT": "1", "CDK_STACKS_0": "Web"}, "CDK_STACKS is set"),
    Bad(
        "whoami",
        {"AWS_OIDC_ROLE_ARN": "", "BITBUCKET_STEP_OIDC_TOKEN": "", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"},
        "AWS_SECRET_ACCESS_KEY is required with AWS_ACCESS_KEY_ID",
    ),
    Bad(
        "whoami",
        {
            "AWS_OIDC_ROLE_ARN": "",
            "BITBUCKET_STEP_OIDC_TOKEN": "",
            "AWS_ACCESS_KEY_ID": "AK",
            "AWS_SECRET_ACCESS_KEY": PLANTED + "\x01",
        },
        "AWS_SECRET_ACCESS_KEY contains control characters",
        (PLANTED,),
    ),
    Bad(
        "whoami",
        {
            "AWS_OIDC_ROLE_ARN": "",
            "BITBUCKET_STEP_OIDC_TOKEN": "",
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token",
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/deploy",
        },
        "AWS_WEB_IDENTITY_TOKEN_FILE '/nonexistent/token' cannot be read",
    ),
    *(
        Bad(
            "whoami",
            {
                "AWS_OIDC_ROLE_ARN": "",
                "BITBUCKET_STEP_OIDC_TOKEN": "",
                "AWS_WEB_IDENTITY_TOKEN_FILE": path,
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/deploy",
            },
            expected,
        )
        for path, expected in (
            ("token.fifo", "AWS_WEB_IDENTITY_TOKEN_FILE 'token.fifo' is not a regular file"),
            ("/dev/zero", "AWS_WEB_IDENTITY_TOKEN_FILE '/dev/zero' is not a regular file"),
            (
                "token.huge",
                "AWS_WEB_IDENTITY_TOKEN_FILE 'token.huge' is 2097152 bytes; the limit for this file is 65536",
            ),
        )
    ),
    Bad(
        "whoami",
        {"BITBUCKET_STEP_OIDC_TOKEN": _token_with_claims("[" * 5000 + "]" * 5000)},
        "BITBUCKET_STEP_OIDC_TOKEN's claims nests deeper than 64 levels",
    ),
    Bad(
        "trust-policy",
        {"BITBUCKET_STEP_OIDC_TOKEN": _token_with_claims('{"sub": ' + "[" * 5000 + "]" * 5000 + "}")},
        "claims nests deeper than 64 levels",
    ),
    Bad("trust-policy", {"BITBUCKET_STEP_OIDC_TOKEN": ""}, "BITBUCKET_STEP_OIDC_TOKEN is not set"),
    # A trust policy needs a real issuer, audience and subject (issue 13, "also").
    *(
        Bad(
            "trust-policy",
            {"BITBUCKET_STEP_OIDC_TOKEN": make_token(**{claim: value})},
            expected,
            names="OIDC token",
        )
        for claim, value, expected in (
            ("iss", None, "The OIDC token has no usable iss claim"),
            ("iss", 42, "The OIDC token has no usable iss claim"),
            ("iss", "", "The OIDC token has no usable iss claim"),
            ("iss", "http://idp.example.com", "The OIDC token's iss claim is not an https:// URL"),
            ("aud", {"a": 1}, "The OIDC token has no usable aud claim"),
            ("aud", [], "The OIDC token has no usable aud claim"),
            ("sub", ["x"], "The OIDC token has no usable sub claim"),
        )
    ),
    Bad("trust-policy", {"BITBUCKET_STEP_OIDC_TOKEN": "[x"}, "is not an OIDC token"),
    Bad(
        "trust-policy",
        _list("POLICY_FOR_JOBS", "s3-sync", "deploy"),
        "POLICY_FOR_JOBS must name jobs among: whoami",
    ),
    Bad("trust-policy", {"POLICY_FOR_JOBS": "kubectl,[x"}, "POLICY_FOR_JOBS must name jobs among"),
    # --- kubectl --------------------------------------------------------------------------------------
    Bad("kubectl", {"CLUSTER_NAME": ""}, "CLUSTER_NAME is required"),
    # Files and links out of the clone, and loops (issue 13, class 3).
    Bad("kubectl", {"RESOURCE_PATH": "linked"}, "RESOURCE_PATH names 'linked/cm.yaml', which leads outside"),
    Bad("kubectl", {"RESOURCE_PATH": "loop"}, "RESOURCE_PATH 'loop' is a loop of symbolic links"),
    Bad(
        "kubectl",
        {"KUBECTL_COMMAND": "apply -f /etc/hosts"},
        "KUBECTL_COMMAND names '/etc/hosts', which leads",
    ),
    Bad("kubectl", {"KUBECTL_COMMAND": "diff --filename=../x"}, "KUBECTL_COMMAND names '../x', which leads"),
    Bad(
        "kubectl", {"KUBECTL_COMMAND": "diff -f k8s"}, "KUBECTL_COMMAND names files for a plan (kubectl diff)"
    ),
    Bad(
        "kubectl",
        {"DRY_RUN": "true", **_list("KUBECTL_ARGS", "-f", "k8s/cm.yaml")},
        "KUBECTL_ARGS names files for a plan (DRY_RUN)",
    ),
    Bad(
        "kubectl", {"KUBECTL_COMMAND": "apply -k linked/../.."}, "KUBECTL_COMMAND names 'linked/../..', which"
    ),
    Bad("kubectl", _list("KUBECTL_ARGS", "-f", "/etc/hosts"), "KUBECTL_ARGS names '/etc/hosts', which leads"),
    # Options that move the token or the target, in every spelling, and commands that never end (class 4).
    *(
        Bad("kubectl", {"KUBECTL_COMMAND": f"get pods {option}"}, f"KUBECTL_COMMAND must not hold {name}")
        for option, name in (
            ("--server=http://127.0.0.1:9", "--server"),
            ("-s http://127.0.0.1:9", "-s"),
            ("-shttp://127.0.0.1:9", "-s"),
            ("--kubeconfig /tmp/k", "--kubeconfig"),
            ("--context=other", "--context"),
            ("--cluster other", "--cluster"),
            ("--user=admin", "--user"),
            ("--insecure-skip-tls-verify", "--insecure-skip-tls-verify"),
            ("--certificate-authority=/tmp/ca", "--certificate-authority"),
        )
    ),
    Bad(
        "kubectl",
        _list("KUBECTL_ARGS", f"--token={PLANTED}"),
        "KUBECTL_ARGS must not hold --token",
        (PLANTED,),
    ),
    Bad(
        "kubectl", _list("KUBECTL_ARGS", "--token", PLANTED), "KUBECTL_ARGS must not hold --token", (PLANTED,)
    ),
    Bad(
        "kubectl",
        {"KUBECTL_ARGS": "--insecure-skip-tls-verify=true"},
        "KUBECTL_ARGS must not hold --insecure",
    ),
    *(
        Bad("kubectl", {"KUBECTL_COMMAND": command}, expected)
        for command, expected in (
            ("proxy", "KUBECTL_COMMAND must not be kubectl proxy: it serves until stopped"),
            ("port-forward svc/web 8080:80", "KUBECTL_COMMAND must not be kubectl port-forward"),
            ("attach web-0", "KUBECTL_COMMAND must not be kubectl attach"),
            ("edit deployment/web", "KUBECTL_COMMAND must not be kubectl edit"),
            ("logs -f deployment/web", "KUBECTL_COMMAND must not hold -f for kubectl logs"),
            ("logs --follow=true deployment/web", "KUBECTL_COMMAND must not hold --follow for kubectl logs"),
            ("get pods -w", "KUBECTL_COMMAND must not hold -w for kubectl get"),
            ("get pods --watch-only", "KUBECTL_COMMAND must not hold --watch-only"),
            ("exec -it web-0 -- sh", "KUBECTL_COMMAND must not hold -i for kubectl exec"),
            ("run debug --image=busybox --stdin", "KUBECTL_COMMAND must not hold --stdin for kubectl run"),
        )
    ),
    Bad(
        "kubectl",
        {"KUBECTL_COMMAND": "get pods", "KUBECTL_ARGS": "--watch"},
        "KUBECTL_ARGS must not hold --watch",
    ),
    # Read as kubectl's flag parser reads them, held to an allow-list (issue 29, classes 4 and 5).
    *(
        Bad("kubectl", {"KUBECTL_COMMAND": command}, expected)
        for command, expected in (
            ("get pods -As http://127.0.0.1:9", "KUBECTL_COMMAND must not hold -s for kubectl get"),
            ("get pods -Aw", "KUBECTL_COMMAND must not hold -w for kubectl get"),
            ("get --raw /api/v1/pods?watch=true", "KUBECTL_COMMAND must give --raw an API path"),
            ("get --raw /api/v1/pods?watch=1", "KUBECTL_COMMAND must give --raw an API path"),
            ("get --raw /api/v1/watch/pods", "KUBECTL_COMMAND must give --raw an API path"),
            ("get pods -v=9", "KUBECTL_COMMAND holds -v, which the pipe does not allow for kubectl get"),
            ("cp web-0:/etc/passwd x", "KUBECTL_COMMAND must start with a kubectl command the pipe allows"),
            ("get pods -o jsonpath-file=/etc/x", "KUBECTL_COMMAND must not hold -o jsonpath-file"),
            ("delete -- --dry-run=server", "KUBECTL_COMMAND must not hold `--` for kubectl delete"),
            ("apply --server-side --field-manager", "KUBECTL_COMMAND ends with --field-manager"),
            ("apply -f fifo.yaml", "KUBECTL_COMMAND names 'fifo.yaml', which is not a regular file"),
            ("apply -R -f fifo-dir", "KUBECTL_COMMAND names 'fifo-dir/cm.yaml', which is not a regular"),
            ("apply -f k8s,/etc/hosts", "KUBECTL_COMMAND names '/etc/hosts', which leads outside"),
            ("apply -f x://../../etc", "KUBECTL_COMMAND names 'x:/../../etc', which leads outside"),
            ("create configmap c --from-file=k=/etc/passwd", "KUBECTL_COMMAND names '/etc/passwd', which"),
            (
                "create secret generic s --from-env-file=fifo.yaml",
                "names 'fifo.yaml', which is not a regular",
            ),
            ("kustomize ..", "KUBECTL_COMMAND names '..', which leads outside"),
            ("apply -k kust-up", "KUBECTL_COMMAND names 'kust-up/../../outside-manifests', which leads"),
            (
                "diff -k kust-url",
                "KUBECTL_COMMAND: the kustomization 'kust-url' names 'https://example.invalid",
            ),
            ("diff -k kust-git", "KUBECTL_COMMAND: the kustomization 'kust-git' names 'github.com/org"),
            ("apply -k kust-env", "KUBECTL_COMMAND names '/etc/passwd', which leads outside"),
            (
                "apply -k kust-patch",
                "the kustomization 'kust-patch' names 'fifo.yaml' in patches, which is not",
            ),
        )
    ),
    Bad(
        "kubectl",
        {"KUBECTL_APPLY_ARGS": "-k", "RESOURCE_PATH": "kust-fifo"},
        "RESOURCE_PATH: the kustomization kust-fifo/kustomization.yaml is not a regular file",
    ),
    Bad(
        "kubectl",
        {"KUBECTL_APPLY_ARGS": "-k", "RESOURCE_PATH": "kust-up"},
        "RESOURCE_PATH names 'kust-up/../../outside-manifests', which leads outside",
    ),
    Bad(
        "kubectl",
        {"KUBECTL_COMMAND": "delete", "RESOURCE_PATH": "fifo-dir"},
        "RESOURCE_PATH names 'fifo-dir/cm",
    ),
    Bad(
        "kubectl",
        {"KUBECTL_COMMAND": "get pods", **_list("KUBECTL_ARGS", "-A", "-s", "http://127.0.0.1:9")},
        "KUBECTL_ARGS must not hold -s for kubectl get",
    ),
    Bad(
        "kubectl", _list("KUBECTL_ARGS", "--selector=a\n✔ Deployed"), "KUBECTL_ARGS holds a control character"
    ),
    Bad("kubectl", _list("KUBECTL_ARGS", "--selector=a\tb"), "KUBECTL_ARGS holds a control character"),
    Bad(
        "kubectl",
        {"RESOURCE_PATH": "bomb"},
        "laughs.yaml expands to more than 2000000 values",
        names="laughs.yaml",
    ),
    Bad(
        "kubectl",
        {"RESOURCE_PATH": "deep"},
        "deep/deep.yaml nests deeper than 64 levels",
        names="deep/deep.yaml",
    ),
    Bad(
        "kubectl",
        {"RESOURCE_PATH": "huge"},
        "huge/big.yaml is 9437184 bytes; the limit for this file is 8388608",
        names="huge/big.yaml",
    ),
    Bad("kubectl", {"CLUSTER_NAME": "../prod"}, "CLUSTER_NAME must be an EKS cluster name"),
    Bad("kubectl", {"CLUSTER_NAME": "[x"}, "CLUSTER_NAME must be an EKS cluster name"),
    Bad("kubectl", {"KUBECTL_COMMAND": ""}, "KUBECTL_COMMAND is required"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods; cat /etc/passwd"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods | grep web"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods && echo hi"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods `id`"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get secret ${TOKEN}"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods > /tmp/out"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods\nrm -rf /"}, "without shell syntax"),
    Bad("kubectl", {"KUBECTL_COMMAND": "get 'pods"}, "KUBECTL_COMMAND must have balanced quotes"),
    Bad("kubectl", {"KUBECTL_COMMAND": "--kubeconfig=/etc/x get pods"}, "must start with a kubectl command"),
    Bad("kubectl", {"KUBECTL_COMMAND": "kubectl"}, "must start with a kubectl command"),
    Bad(
        "kubectl",
        {"RESOURCE_PATH": "../../etc"},
        "RESOURCE_PATH '../../etc' leads outside the clone directory",
    ),
    Bad("kubectl", {"RESOURCE_PATH": "/etc/passwd"}, "RESOURCE_PATH must be relative to the clone directory"),
    Bad("kubectl", {"RESOURCE_PATH": "k8s/../../../root"}, "'k8s/../../../root' leads outside the clone"),
    Bad("kubectl", {"RESOURCE_PATH": "no/such/dir"}, "RESOURCE_PATH 'no/such/dir' does not exist"),
    Bad("kubectl", {"RESOURCE_PATH": "k8s\x07"}, "RESOURCE_PATH contains control characters"),
    Bad("kubectl", {"KUBECTL_APPLY_ARGS": "--prune"}, "KUBECTL_APPLY_ARGS must end with -f or -k"),
    Bad("kubectl", {"KUBECTL_APPLY_ARGS": "-f; id"}, "without shell syntax"),
    Bad("kubectl", {"NAMESPACE": "Prod_1"}, "NAMESPACE must be a Kubernetes namespace name"),
    Bad("kubectl", {"NAMESPACE": "n" * 64}, "NAMESPACE must be a Kubernetes namespace name"),
    Bad("kubectl", _list("LABELS", "team"), "LABELS must be a list of key=value items"),
    Bad("kubectl", _list("LABELS", "team=pay ments"), "LABELS must have label values"),
    Bad("kubectl", _list("LABELS", "Example.com/team=x"), "LABELS must have label keys whose prefix"),
    Bad("kubectl", _list("LABELS", "t" * 64 + "=x"), "LABELS must have label keys of at most 63"),
    Bad("kubectl", {"WITH_DEFAULT_LABELS": "si"}, "WITH_DEFAULT_LABELS must be true or false"),
    Bad("kubectl", {"DISABLE_VALIDATION": "[true]"}, "DISABLE_VALIDATION must be true or false"),
    Bad("kubectl", {"WAIT": "!!bool true"}, "WAIT must be true or false"),
    Bad("kubectl", {"WAIT_TIMEOUT": "0"}, "WAIT_TIMEOUT must be a whole number of seconds from 1 to 86400"),
    Bad("kubectl", {"WAIT_TIMEOUT": "5m"}, "WAIT_TIMEOUT must be a whole number"),
    Bad("kubectl", {"WAIT_TIMEOUT": "9" * 30}, "WAIT_TIMEOUT must be a whole number"),
    Bad("kubectl", {"DRY_RUN": "client"}, "DRY_RUN must be true or false"),
    # --- helm ---------------------------------------------------------------------------------------
    Bad("helm", {"CLUSTER_NAME": ""}, "CLUSTER_NAME is required"),
    Bad("helm", {"RELEASE_NAME": ""}, "RELEASE_NAME is required"),
    Bad("helm", {"RELEASE_NAME": "Web_App"}, "RELEASE_NAME must be a Helm release name"),
    Bad("helm", {"RELEASE_NAME": "a" * 54}, "RELEASE_NAME must be a Helm release name"),
    Bad("helm", {"HELM_ACTION": "install"}, "HELM_ACTION must be one of upgrade, diff, rollback, uninstall"),
    Bad("helm", {"CHART": ""}, "CHART is required for HELM_ACTION upgrade"),
    Bad("helm", {"CHART": "charts/none"}, "CHART 'charts/none' does not exist in the repository"),
    Bad("helm", {"CHART": "../outside-chart"}, "CHART '../outside-chart' leads outside the clone directory"),
    Bad("helm", {"CHART": "/etc"}, "CHART must be relative to the clone directory"),
    Bad("helm", {"CHART": "chart-link"}, "CHART 'chart-link' leads outside the clone directory"),
    Bad("helm", {"CHART": "linked-chart"}, "names 'linked-chart/templates/stolen.yaml', which leads outside"),
    Bad(
        "helm",
        {"CHART": "escape.tgz"},
        "holds the entry 'web/../../../escaped.yaml', which would be unpacked outside",
    ),
    Bad(
        "helm",
        {"CHART": "absolute.tgz"},
        "holds the entry '/tmp/web/Chart.yaml', which would be unpacked outside",
    ),
    Bad(
        "helm", {"CHART": "charts-dep/web"}, "holds the entry 'lib/../../x', which would be unpacked outside"
    ),
    Bad("helm", {"CHART": "values/prod.yaml"}, "CHART 'values/prod.yaml' is neither a chart directory nor"),
    Bad("helm", {"CHART": "oci://"}, "is not an OCI chart reference"),
    Bad(
        "helm", {"CHART": "a/b/c", "CHART_REPOSITORY": "https://charts.example.com"}, "must be a chart's name"
    ),
    Bad(
        "helm",
        {"CHART_REPOSITORY": "ftp://charts.example.com"},
        "CHART_REPOSITORY must be the chart repository's URL",
    ),
    Bad("helm", {"CHART_VERSION": "1.0.0"}, "CHART_VERSION pins a chart from a repository or registry"),
    Bad("helm", {"CHART_VERSION": "1.0;rm -rf"}, "CHART_VERSION must be a chart version"),
    Bad(
        "helm",
        {
            "CHART_REPOSITORY_PASSWORD": PLANTED,
            "CHART": "web",
            "CHART_REPOSITORY": "https://charts.example.com",
        },
        "CHART_REPOSITORY_USERNAME and CHART_REPOSITORY_PASSWORD go together",
    ),
    Bad(
        "helm",
        {"CHART_REPOSITORY_USERNAME": "deployer", "CHART_REPOSITORY_PASSWORD": PLANTED},
        "CHART_REPOSITORY_PASSWORD is set but the chart is not fetched",
    ),
    Bad("helm", {"VALUES": "../outside-chart/values.yaml"}, "leads outside the clone directory"),
    Bad(
        "helm",
        {"VALUES": "values/linked.yaml"},
        "VALUES 'values/linked.yaml' leads outside the clone directory",
    ),
    Bad("helm", {"VALUES": "values/none.yaml"}, "VALUES 'values/none.yaml' does not exist in the repository"),
    Bad("helm", {"VALUES": "values/huge.yaml"}, "the limit for this file is 4194304 bytes"),
    Bad("helm", {"VALUES": "values/fifo.yaml"}, "is not a regular file (a pipe, device or socket)"),
    Bad("helm", {"VALUES": "values/laughs.yaml"}, "VALUES 'values/laughs.yaml'"),
    Bad("helm", {"VALUES": "values/list.yaml"}, "must hold one YAML mapping of values"),
    Bad("helm", _list("VALUES", "values/prod.yaml", ""), "VALUES_1 is empty"),
    Bad("helm", _list("SET", "image.tag=1.0\nreplicas=9"), "SET must not hold a line break in a value"),
    Bad("helm", _list("SET", "image.tag"), "SET must be a list of key=value items"),
    Bad("helm", _list("SET", "a;b=1"), "SET must have keys made of letters, digits"),
    Bad("helm", {"SET": "x" * 70_000}, "SET is 70000 characters long"),
    Bad("helm", {"SET_TYPED": "maybe"}, "SET_TYPED must be true or false"),
    Bad("helm", {"NAMESPACE": "Prod_1"}, "NAMESPACE must be a Kubernetes namespace name"),
    Bad("helm", {"CREATE_NAMESPACE": "sure"}, "CREATE_NAMESPACE must be true or false"),
    Bad("helm", {"WAIT_TIMEOUT": "0"}, "WAIT_TIMEOUT must be a whole number of seconds from 1 to 86400"),
    Bad("helm", {"HISTORY_MAX": "-1"}, "HISTORY_MAX must be a whole number of revisions from 0 to 1000"),
    Bad("helm", {"ROLLBACK_REVISION": "2"}, "ROLLBACK_REVISION is for HELM_ACTION rollback"),
    Bad("helm", {"ROLLBACK_ON_FAILURE": "2"}, "ROLLBACK_ON_FAILURE must be true or false"),
    Bad("helm", {"RECOVER_PENDING": "please"}, "RECOVER_PENDING must be true or false"),
    # --- s3-sync --------------------------------------------------------------------------------------
    Bad("s3-sync", {"S3_BUCKET": ""}, "S3_BUCKET is required"),
    Bad("s3-sync", {"S3_BUCKET": "My_Bucket"}, "S3_BUCKET must be a bucket name"),
    Bad("s3-sync", {"S3_BUCKET": "my-site/../other-site"}, "S3_BUCKET has a prefix that has a '..' segment"),
    Bad("s3-sync", {"S3_BUCKET": "my-site/www/./x"}, "S3_BUCKET has a prefix that has a '.' segment"),
    Bad("s3-sync", {"S3_BUCKET": "my-site/a//b"}, "S3_BUCKET has a prefix that has an empty segment"),
    Bad("s3-sync", {"S3_BUCKET": "my-site/a\\..\\b"}, "S3_BUCKET has a prefix that contains a backslash"),
    Bad(
        "s3-sync",
        {"S3_BUCKET": "s3://my-site/" + "p" * 1100},
        "S3_BUCKET has a prefix that is longer than 1024",
    ),
    Bad("s3-sync", {"S3_BUCKET": "[x"}, "S3_BUCKET must be a bucket name"),
    Bad("s3-sync", {"LOCAL_PATH": ""}, "LOCAL_PATH is required"),
    Bad("s3-sync", {"LOCAL_PATH": "../"}, "leads outside the clone directory"),
    Bad("s3-sync", {"LOCAL_PATH": "build/../../.."}, "leads outside the clone directory"),
    Bad("s3-sync", {"LOCAL_PATH": "/etc"}, "LOCAL_PATH must be relative to the clone directory"),
    Bad("s3-sync", {"LOCAL_PATH": "missing"}, "LOCAL_PATH 'missing' does not exist"),
    Bad("s3-sync", {"LOCAL_PATH": "build\x1b"}, "LOCAL_PATH contains control characters"),
    Bad("s3-sync", {"DELETE_FLAG": "yes please"}, "DELETE_FLAG must be true or false"),
    Bad(
        "s3-sync",
        {"DELETE_GUARD_PERCENT": "101"},
        "DELETE_GUARD_PERCENT must be a whole number from 0 to 100",
    ),
    Bad(
        "s3-sync",
        {"DELETE_GUARD_PERCENT": "50%"},
        "DELETE_GUARD_PERCENT must be a whole number from 0 to 100",
    ),
    Bad("s3-sync", {"DELETE_GUARD_PERCENT": "-1"}, "DELETE_GUARD_PERCENT must be a whole number"),
    Bad("s3-sync", {"DELETE_GUARD_PERCENT": "0.5"}, "DELETE_GUARD_PERCENT must be a whole number"),
    Bad("s3-sync", {"DELETE_GUARD_PERCENT": "half"}, "DELETE_GUARD_PERCENT must be a whole number"),
    Bad("s3-sync", {"ACL": "public"}, "ACL must be one of private, public-read"),
    Bad("s3-sync", {"STORAGE_CLASS": "standard"}, "STORAGE_CLASS must be one of STANDARD"),
    Bad("s3-sync", {"SSE": "kms"}, "SSE must be one of AES256"),
    Bad("s3-sync", {"SSE_KMS_KEY_ID": "alias/key"}, "SSE_KMS_KEY_ID needs SSE: 'aws:kms'"),
    Bad(
        "s3-sync",
        {"SSE": "aws:kms", "SSE_KMS_KEY_ID": "key id with spaces"},
        "SSE_KMS_KEY_ID must be a KMS key id",
    ),
    Bad("s3-sync", {"EXPIRES": "tomorrow"}, "EXPIRES must be a date such as 2030-01-01T00:00:00Z"),
    Bad("s3-sync", {"CONTENT_ENCODING": "gzip; rm"}, "CONTENT_ENCODING must be such as gzip or br"),
    Bad(
        "s3-sync",
        _list("CACHE_CONTROL", "*.html=no-cache", "max-age=1", "no-store"),
        "CACHE_CONTROL has two values",
    ),
    Bad(
        "s3-sync",
        _list("CACHE_CONTROL", "max-age=60\x7f"),
        # DEL is refused for every variable since 0.7 (pipe.common.line_safe), before the header check.
        "CACHE_CONTROL contains control characters",
    ),
    Bad(
        "s3-sync",
        _list("CACHE_CONTROL", "max-age=60é"),
        "CACHE_CONTROL must be printable ASCII header values",
    ),
    # Characters that end or repaint a log line though they are not below 32: NEL, C1 CSI, U+2028/9, bidi.
    Bad("s3-sync", {"S3_BUCKET": "my-site\x85✔ Deployed"}, "S3_BUCKET contains control characters"),
    Bad("s3-sync", {"LOCAL_PATH": "build\x9b2K"}, "LOCAL_PATH contains control characters"),
    Bad(
        "beanstalk",
        {"APPLICATION_NAME": "shop\u2028✔ Deployed"},
        "APPLICATION_NAME contains control characters",
    ),
    Bad("kubectl", {"KUBECTL_COMMAND": "get pods\u2029"}, "KUBECTL_COMMAND contains control characters"),
    Bad("cdk", {"CDK_STACKS": "Web\u202eboP"}, "CDK_STACKS contains control characters"),
    Bad("s3-sync", _list("CONTENT_TYPE", "*.txt=plain"), "CONTENT_TYPE must be glob=type/subtype rules"),
    Bad(
        "s3-sync",
        _list("CONTENT_TYPE", "*.txt=text/plain; charset=\u20ac"),
        "CONTENT_TYPE must be printable ASCII",
    ),
    Bad("s3-sync", {"MAX_CONCURRENCY": "0"}, "MAX_CONCURRENCY must be a whole number from 1 to 128"),
    Bad("s3-sync", {"MAX_CONCURRENCY": "1e3"}, "MAX_CONCURRENCY must be a whole number"),
    Bad("s3-sync", {"FOLLOW_SYMLINKS": "~"}, "FOLLOW_SYMLINKS must be true or false"),
    Bad(
        "s3-sync",
        {"CLOUDFRONT_DISTRIBUTION_ID": "e2example"},
        "CLOUDFRONT_DISTRIBUTION_ID must be a distribution id",
    ),
    Bad(
        "s3-sync", _list("CLOUDFRONT_PATHS", "index.html"), "CLOUDFRONT_PATHS must be paths that start with /"
    ),
    Bad("s3-sync", {"CLOUDFRONT_WAIT": "true"}, "CLOUDFRONT_WAIT needs CLOUDFRONT_DISTRIBUTION_ID"),
    Bad("s3-sync", _list("INCLUDE", HUGE), "INCLUDE is 70000 characters long"),
    Bad("s3-sync", {"S3_TRANSFER_CLIENT": "fast"}, "S3_TRANSFER_CLIENT must be one of auto, crt, classic"),
    Bad("s3-sync", {"S3_TRANSFER_CLIENT": "CRT"}, "S3_TRANSFER_CLIENT must be one of auto, crt, classic"),
    Bad("s3-sync", {"S3_TRANSFER_CLIENT": "[crt]"}, "S3_TRANSFER_CLIENT must be one of"),
    Bad("s3-sync", {"S3_TRANSFER_CLIENT": "crt\x1b"}, "S3_TRANSFER_CLIENT contains control characters"),
    # --- beanstalk ------------------------------------------------------------------------------------
    Bad("beanstalk", {"APPLICATION_NAME": ""}, "APPLICATION_NAME is required"),
    Bad("beanstalk", {"APPLICATION_NAME": "a" * 101}, "APPLICATION_NAME must be 1 to 100 characters"),
    Bad(
        "beanstalk",
        {"APPLICATION_NAME": "shop/web"},
        "APPLICATION_NAME must be 1 to 100 characters without /",
    ),
    Bad("beanstalk", {"APPLICATION_NAME": "shop\nprod"}, "APPLICATION_NAME must be 1 to 100 characters"),
    Bad("beanstalk", {"APPLICATION_NAME": HUGE}, "APPLICATION_NAME is 70000 characters long"),
    Bad("beanstalk", {"ENVIRONMENT_NAME": ""}, "ENVIRONMENT_NAME is required"),
    Bad("beanstalk", {"ENVIRONMENT_NAME": "!!tag"}, "ENVIRONMENT_NAME must be 4 to 40 letters"),
    Bad("beanstalk", {"ENVIRONMENT_NAME": "e" * 41}, "ENVIRONMENT_NAME must be 4 to 40 letters"),
    Bad("beanstalk", {"ENVIRONMENT_NAME": "shop_prod"}, "ENVIRONMENT_NAME must be 4 to 40 letters"),
    Bad("beanstalk", {"SOURCE_PATH": ""}, "ZIP_FILE or SOURCE_PATH is required"),
    Bad("beanstalk", {"SOURCE_PATH": "../"}, "SOURCE_PATH '../' leads outside the clone directory"),
    Bad("beanstalk", {"SOURCE_PATH": "app/../../.."}, "leads outside the clone directory"),
    Bad("beanstalk", {"SOURCE_PATH": "/etc"}, "SOURCE_PATH must be relative to the clone directory"),
    Bad("beanstalk", {"SOURCE_PATH": "escape"}, "SOURCE_PATH 'escape' leads outside the clone directory"),
    Bad("beanstalk", {"SOURCE_PATH": "app\x1b[31m"}, "SOURCE_PATH contains control characters"),
    Bad("beanstalk", {"SOURCE_PATH": "missing"}, "SOURCE_PATH 'missing' does not exist"),
    Bad("beanstalk", {"SOURCE_PATH": "app/application.py"}, "is not a directory; use ZIP_FILE"),
    Bad("beanstalk", {"SOURCE_PATH": "empty"}, "SOURCE_PATH 'empty' holds no files to deploy"),
    Bad("beanstalk", {"ZIP_FILE": "bundle-link.zip"}, "Set ZIP_FILE or SOURCE_PATH, not both"),
    Bad("beanstalk", {"SOURCE_PATH": "", "ZIP_FILE": "../outside/bundle.zip"}, "leads outside the clone"),
    Bad("beanstalk", {"SOURCE_PATH": "", "ZIP_FILE": "/etc/passwd"}, "ZIP_FILE must be relative"),
    Bad("beanstalk", {"SOURCE_PATH": "", "ZIP_FILE": "bundle-link.zip"}, "leads outside the clone"),
    Bad("beanstalk", {"SOURCE_PATH": "", "ZIP_FILE": "app"}, "ZIP_FILE 'app' is not a zip archive"),
    Bad("beanstalk", {"SOURCE_PATH": "", "ZIP_FILE": "[x"}, "ZIP_FILE '[x' does not exist"),
    Bad("beanstalk", {"S3_BUCKET": "My_Bundles"}, "S3_BUCKET must be a bucket name"),
    Bad("beanstalk", {"S3_BUCKET": "s3://my-bundles"}, "S3_BUCKET must be a bucket name"),
    Bad("beanstalk", {"S3_BUCKET": "my-bundles/releases"}, "the key goes in S3_KEY"),
    Bad("beanstalk", {"S3_KEY": "../other-app/x.zip"}, "S3_KEY must be an S3 key"),
    Bad("beanstalk", {"S3_KEY": "/releases/x.zip"}, "S3_KEY must be an S3 key"),
    Bad("beanstalk", {"S3_KEY": "k" * 1025}, "S3_KEY must be an S3 key of at most 1024 bytes"),
    Bad("beanstalk", {"S3_KEY": "releases/x.zip\nrm"}, "S3_KEY must be an S3 key"),
    Bad("beanstalk", {"VERSION_LABEL": "v" * 101}, "VERSION_LABEL must be 1 to 100 characters"),
    Bad("beanstalk", {"VERSION_LABEL": "release/7"}, "VERSION_LABEL must be 1 to 100 characters without /"),
    Bad("beanstalk", {"VERSION_LABEL": "v7\x07"}, "VERSION_LABEL contains control characters"),
    Bad("beanstalk", {"VERSION_LABEL": "v7\n✔ Deployed"}, "VERSION_LABEL must be 1 to 100 characters"),
    Bad("beanstalk", {"BITBUCKET_COMMIT": ""}, "VERSION_LABEL is required here"),
    Bad("beanstalk", {"DESCRIPTION": HUGE}, "DESCRIPTION is 70000 characters long"),
    Bad("beanstalk", {"DESCRIPTION": "d" * 201}, "DESCRIPTION must be at most 200 characters"),
    Bad("beanstalk", {"DESCRIPTION": "release\x1b[2J"}, "DESCRIPTION contains control characters"),
    Bad(
        "beanstalk",
        {"APPLICATION_NAME": ".."},
        "The default S3_KEY '../..-42-3f2a9c1.zip' (APPLICATION_NAME/VERSION_LABEL.zip) is not a safe S3 key",
    ),
    Bad("beanstalk", {"BEANSTALK_COMMAND": "deploy"}, "BEANSTALK_COMMAND must be one of all, upload-only"),
    Bad("beanstalk", {"BEANSTALK_COMMAND": "[x"}, "BEANSTALK_COMMAND must be one of"),
    Bad("beanstalk", {"BEANSTALK_COMMAND": "deploy-only"}, "deploy-only deploys an existing VERSION_LABEL"),
    Bad("beanstalk", {"WAIT": "!!bool true"}, "WAIT must be true or false"),
    Bad("beanstalk", {"DRY_RUN": "plan"}, "DRY_RUN must be true or false"),
    Bad("beanstalk", {"WAIT_INTERVAL": "0.01"}, "WAIT_INTERVAL must be a number of seconds from 0.1 to 300"),
    Bad("beanstalk", {"WAIT_INTERVAL": "1e3"}, "WAIT_INTERVAL must be a number of seconds"),
    Bad("beanstalk", {"WAIT_INTERVAL": "nan"}, "WAIT_INTERVAL must be a number of seconds"),
    Bad("beanstalk", {"WAIT_INTERVAL": "10s"}, "WAIT_INTERVAL must be a number of seconds"),
    Bad("beanstalk", {"DEPLOY_TIMEOUT": "30m"}, "DEPLOY_TIMEOUT must be a whole number of seconds"),
    Bad("beanstalk", {"DEPLOY_TIMEOUT": "86401"}, "DEPLOY_TIMEOUT must be a whole number of seconds from 1"),
    Bad("beanstalk", {"DEPLOY_TIMEOUT": "{x"}, "DEPLOY_TIMEOUT must be a whole number"),
    Bad("beanstalk", {"ROLLBACK_ON_FAILURE": "*anchor"}, "ROLLBACK_ON_FAILURE must be true or false"),
    Bad("beanstalk", {"ROLLBACK_ON_FAILURE": "sometimes"}, "ROLLBACK_ON_FAILURE must be true or false"),
    # --- cdk ------------------------------------------------------------------------------------------
    Bad("cdk", {"CDK_COMMAND": "destroy"}, "CDK_COMMAND must be one of deploy, diff, synth, bootstrap"),
    Bad("cdk", {"CDK_COMMAND": "[x"}, "CDK_COMMAND must be one of"),
    Bad("cdk", {"CDK_COMMAND": "deploy; rm -rf /"}, "CDK_COMMAND must be one of"),
    Bad("cdk", {"CDK_COMMAND": "!!python/object:os.system"}, "CDK_COMMAND must be one of"),
    Bad("cdk", {"CDK_APP_PATH": "../elsewhere"}, "CDK_APP_PATH '../elsewhere' leads outside the clone"),
    Bad("cdk", {"CDK_APP_PATH": "/etc"}, "CDK_APP_PATH must be relative to the clone directory"),
    Bad("cdk", {"CDK_APP_PATH": "app-link"}, "CDK_APP_PATH 'app-link' leads outside the clone"),
    Bad("cdk", {"CDK_APP_PATH": "missing"}, "CDK_APP_PATH 'missing' is not a directory"),
    Bad("cdk", {"CDK_APP_PATH": "not-an-app"}, "No cdk.json in"),
    Bad(
        "cdk",
        {"CDK_APP_PATH": "deep-app"},
        "cdk.json in the CDK app nests deeper than 64 levels",
        names="cdk.json",
    ),
    Bad("cdk", {"CDK_APP_PATH": "infra\x07"}, "CDK_APP_PATH contains control characters"),
    Bad("cdk", {"CDK_APP_PATH": HUGE}, "CDK_APP_PATH is 70000 characters long"),
    Bad("cdk", {"CDK_STACKS": "--all"}, "CDK_STACKS must be stack names or patterns"),
    Bad("cdk", _list("CDK_STACKS", "Web", "Prod Web"), "CDK_STACKS must be stack names or patterns"),
    Bad(
        "cdk",
        {"CDK_STACKS": "", "CDK_COMMAND": "bootstrap", "CDK_STACKS_COUNT": "1", "CDK_STACKS_0": "Web"},
        "CDK_STACKS does not apply to CDK_COMMAND bootstrap",
    ),
    Bad("cdk", {"CDK_ARGS": "--profile=prod"}, "CDK_ARGS must not hold --profile"),
    Bad("cdk", _list("CDK_ARGS", "--profile", "prod"), "CDK_ARGS must not hold --profile"),
    Bad("cdk", {"CDK_ARGS": "--ec2creds"}, "CDK_ARGS must not hold --ec2creds"),
    Bad("cdk", {"CDK_ARGS": "-i"}, "CDK_ARGS must not hold -i"),
    # Read as yargs-parser reads them, held to an allow-list (issue 29, class 4).
    Bad("cdk", {"CDK_ARGS": "-vi"}, "CDK_ARGS must not hold -i"),
    Bad("cdk", {"CDK_ARGS": "--no-ec2creds"}, "CDK_ARGS must not hold --no-ec2creds"),
    Bad("cdk", _list("CDK_ARGS", "--app", "/etc"), "CDK_ARGS --app names '/etc', which leads outside"),
    Bad("cdk", {"CDK_ARGS": "-a/etc"}, "CDK_ARGS --app names '/etc', which leads outside"),
    Bad(
        "cdk",
        {"CDK_ARGS": "--ca-bundle-path=/etc/ssl/x.pem"},
        "CDK_ARGS --ca-bundle-path names '/etc/ssl/x.pem'",
    ),
    Bad("cdk", {"CDK_ARGS": "--outputsFile=/tmp/x"}, "CDK_ARGS must not hold --outputsFile"),
    Bad("cdk", {"CDK_ARGS": "--plugin=x"}, "CDK_ARGS must not hold --plugin"),
    Bad("cdk", {"CDK_ARGS": "--telemetry-file=/tmp/x"}, "CDK_ARGS must not hold --telemetry-file"),
    Bad("cdk", {"CDK_ARGS": "--watch"}, "CDK_ARGS must not hold --watch"),
    Bad("cdk", {"CDK_ARGS": "--role-arn-x"}, "CDK_ARGS holds --role-arn-x, which the pipe does not allow"),
    Bad("cdk", _list("CDK_ARGS", "--context", "a=b\n✔ Deployed"), "CDK_ARGS holds a control character"),
    Bad("cdk", _list("CDK_CONTEXT", "stage=a\tb"), "CDK_CONTEXT holds a control character"),
    Bad(
        "cdk",
        {"CDK_APP_PATH": "linked-cli"},
        "The CDK app's node_modules/.bin/cdk names 'linked-cli/node_modules/.bin/cdk', which leads outside",
        names="node_modules/.bin/cdk",
    ),
    Bad("cdk", {"CDK_CONTEXT": "stage"}, "CDK_CONTEXT must be a list of key=value items"),
    Bad("cdk", {"CDK_CONTEXT": "=prod"}, "CDK_CONTEXT must be a list of key=value items"),
    Bad("cdk", {"CDK_CONTEXT": "[x"}, "CDK_CONTEXT holds a JSON or YAML list in one plain value"),
    Bad(
        "cdk", {"CDK_CONTEXT": '["stage=prod", "stackName=X"]'}, "CDK_CONTEXT: ['stage=prod', 'stackName=X']"
    ),
    Bad("cdk", {"CDK_CONTEXT": "aws:cdk:x=1"}, "CDK_CONTEXT keys must not start with aws:"),
    Bad("cdk", {"CDK_CONTEXT": "stage=prod [env=x"}, "CDK_CONTEXT keys must be letters, digits"),
    Bad("cdk", {"CDK_CACHE_DIR": "../cache"}, "CDK_CACHE_DIR '../cache' leads outside the clone"),
    Bad("cdk", {"CDK_CACHE_DIR": "."}, "CDK_CACHE_DIR '.' must be a directory below the clone"),
    Bad("cdk", {"CDK_APP_PATH": ""}, "No cdk.json in the clone directory: set CDK_APP_PATH"),
    Bad("cdk", {"CDK_REQUIRE_APPROVAL": "always"}, "CDK_REQUIRE_APPROVAL must be one of never"),
    Bad("cdk", {"CDK_REQUIRE_APPROVAL": "!!str never"}, "CDK_REQUIRE_APPROVAL must be one of never"),
    Bad("cdk", {"CDK_DIFF_FAIL": "maybe"}, "CDK_DIFF_FAIL must be true or false"),
    Bad("cdk", {"CDK_DIFF_FAIL": "{x"}, "CDK_DIFF_FAIL must be true or false"),
    Bad(
        "cdk",
        {"CDK_ALLOW_SECURITY_CHANGES": "yes please"},
        "CDK_ALLOW_SECURITY_CHANGES must be true or false",
    ),
    Bad("cdk", {"CDK_ALLOW_SECURITY_CHANGES": "[x"}, "CDK_ALLOW_SECURITY_CHANGES must be true or false"),
    # --- cloudfront-invalidate ------------------------------------------------------------------------
    Bad(
        "cloudfront-invalidate", {"CLOUDFRONT_DISTRIBUTION_ID": ""}, "CLOUDFRONT_DISTRIBUTION_ID is required"
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_DISTRIBUTION_ID": "e2example"},
        "CLOUDFRONT_DISTRIBUTION_ID must be a distribution id",
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_DISTRIBUTION_ID": "E2EXAMPLE/../../2020-05-31/distribution"},
        "CLOUDFRONT_DISTRIBUTION_ID must be a distribution id",
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_DISTRIBUTION_ID": "[E2EXAMPLE]"},
        "CLOUDFRONT_DISTRIBUTION_ID must be a distribution id",
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_DISTRIBUTION_ID": "E2EXAMPLE\x1b[31m"},
        "CLOUDFRONT_DISTRIBUTION_ID contains control characters",
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_PATHS": "index.html"},
        "CLOUDFRONT_PATHS must be paths that start",
    ),
    Bad("cloudfront-invalidate", {"CLOUDFRONT_PATHS": "/ok *"}, "CLOUDFRONT_PATHS must be paths that start"),
    Bad(
        "cloudfront-invalidate",
        _list("CLOUDFRONT_PATHS", "/index.html", "/a b.html"),
        "CLOUDFRONT_PATHS must be paths that start with /",
    ),
    Bad("cloudfront-invalidate", _list("CLOUDFRONT_PATHS", "/x\x07"), "CLOUDFRONT_PATHS contains control"),
    Bad(
        "cloudfront-invalidate", _list("CLOUDFRONT_PATHS", "/" + HUGE), "CLOUDFRONT_PATHS is 70001 characters"
    ),
    Bad(
        "cloudfront-invalidate", {"CLOUDFRONT_PATHS_COUNT": "x"}, "CLOUDFRONT_PATHS_COUNT must be the number"
    ),
    Bad("cloudfront-invalidate", {"CLOUDFRONT_WAIT": "!!bool true"}, "CLOUDFRONT_WAIT must be true or false"),
    Bad("cloudfront-invalidate", {"CLOUDFRONT_WAIT": "[true]"}, "CLOUDFRONT_WAIT must be true or false"),
    # --- REPORT (issue 24): every job that changes something -------------------------------------------
    Bad("cloudfront-invalidate", {"REPORT": "maybe"}, "REPORT must be true or false"),
    Bad("s3-sync", {"REPORT": "!!bool yes"}, "REPORT must be true or false"),
    Bad(
        "cloudfront-invalidate",
        {"REPORT": "true"},
        "REPORT is true but BITBUCKET_WORKSPACE, BITBUCKET_COMMIT are not set",
    ),
    Bad(
        "cloudfront-invalidate",
        {
            "REPORT": "true",
            "BITBUCKET_WORKSPACE": "ws",
            "BITBUCKET_COMMIT": "abc",
            "BITBUCKET_BUILD_NUMBER": "",
        },
        "REPORT is true outside Bitbucket Pipelines, where there is no auth proxy: set BITBUCKET_ACCESS_TOKEN",
    ),
    Bad(
        "cloudfront-invalidate",
        {"BITBUCKET_ACCESS_TOKEN": "planted-Secret\x07Value+9876543210abcdef"},
        "BITBUCKET_ACCESS_TOKEN contains control characters",
    ),
    Bad(
        "cloudfront-invalidate",
        {
            "REPORT": "true",
            "BITBUCKET_WORKSPACE": "ws",
            "BITBUCKET_COMMIT": "abc",
            "BITBUCKET_DOCKER_HOST_INTERNAL": "user@proxy/x",
        },
        "BITBUCKET_DOCKER_HOST_INTERNAL must be a host name or an IP address",
        names="BITBUCKET_DOCKER_HOST_INTERNAL",
    ),
    # --- issue 29: SDK variables as botocore reads them, limits in every form, checks before sign-in ----
    Bad("whoami", {"AWS_RETRY_MODE": " standard"}, "AWS_RETRY_MODE must not start or end with spaces"),
    Bad(
        "whoami",
        {"AWS_DEFAULT_REGION": "eu-west-1\t"},
        "AWS_DEFAULT_REGION must not start or end with spaces",
    ),
    Bad("whoami", {"AWS_REGION": " eu-west-1"}, "AWS_REGION must not start or end with spaces"),
    Bad("whoami", {"AWS_MAX_ATTEMPTS": "abc"}, "AWS_MAX_ATTEMPTS must be a whole number"),
    Bad("whoami", {"AWS_USE_FIPS_ENDPOINT": "maybe"}, "AWS_USE_FIPS_ENDPOINT must be true or false"),
    Bad("whoami", {"AWS_STS_REGIONAL_ENDPOINTS": "Regional"}, "AWS_STS_REGIONAL_ENDPOINTS must be one of"),
    Bad("whoami", {"HTTPS_PROXY": "http://proxy:port"}, "HTTPS_PROXY must be a proxy URL"),
    Bad("whoami", {"AWS_CA_BUNDLE": "/no/such/ca.pem"}, "AWS_CA_BUNDLE '/no/such/ca.pem' cannot be read"),
    Bad(
        "whoami", {"BOTOCORE_EXPERIMENTAL__PLUGINS": "x=os"}, "BOTOCORE_EXPERIMENTAL__PLUGINS must not be set"
    ),
    Bad(
        "whoami", {"AWS_ENDPOINT_URL_EKS": " http://localhost"}, "AWS_ENDPOINT_URL_EKS must not start or end"
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_PATHS": " ".join(f"/p{index}" for index in range(1500))},
        "CLOUDFRONT_PATHS holds 1500 items; the limit is 1000",
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_PATHS": "/a\u00a0b.html"},
        "CLOUDFRONT_PATHS must be paths that start with /",
    ),
    Bad(
        "cloudfront-invalidate",
        {"CLOUDFRONT_PATHS": os.fsdecode(b"/caf\xe9.html")},
        "CLOUDFRONT_PATHS holds bytes that are not UTF-8 text",
    ),
    Bad("s3-sync", {"INCLUDE": ",".join(["*.html"] * 1001)}, "INCLUDE holds 1001 items; the limit is 1000"),
    Bad(
        "kubectl",
        {"RESOURCE_PATH": "malformed"},
        "malformed/labels.yaml holds a ConfigMap whose shape Kubernetes would refuse: its metadata.labels",
        names="malformed/labels.yaml",
    ),
    Bad(
        "kubectl",
        {"RESOURCE_PATH": "malformed-list"},
        "malformed-list/list.yaml holds a List whose shape Kubernetes would refuse: its items are not a list",
        names="malformed-list/list.yaml",
    ),
    Bad(
        "kubectl",
        {"BITBUCKET_CLONE_DIR": "/"},
        "The clone directory / (BITBUCKET_CLONE_DIR, or the working directory) covers every temporary",
    ),
    Bad(
        "beanstalk",
        {"SOURCE_PATH": "badnames"},
        "SOURCE_PATH 'badnames' holds 1 file name(s) that are not UTF-8",
    ),
    # --- ecs ------------------------------------------------------------------------------------------
    Bad("ecs", {"CLUSTER_NAME": ""}, "CLUSTER_NAME is required: set it to the ECS cluster's name"),
    Bad(
        "ecs",
        {"CLUSTER_NAME": "arn:aws:ecs:eu-west-1:1:cluster/prod"},
        "CLUSTER_NAME must be 1 to 255 letters",
    ),
    Bad("ecs", {"CLUSTER_NAME": "prod\n✔ Deployed"}, "CLUSTER_NAME must be 1 to 255 letters"),
    Bad("ecs", {"CLUSTER_NAME": "c" * 256}, "CLUSTER_NAME must be 1 to 255 letters"),
    Bad("ecs", {"SERVICE_NAME": ""}, "SERVICE_NAME is required"),
    Bad("ecs", {"SERVICE_NAME": "shop/prod"}, "SERVICE_NAME must be 1 to 255 letters"),
    Bad("ecs", {"SERVICE_NAME": "shop\x1b[2J"}, "SERVICE_NAME contains control characters"),
    Bad("ecs", {"TASK_DEFINITION": ""}, "Nothing to deploy: set TASK_DEFINITION"),
    Bad("ecs", {"TASK_DEFINITION": "missing.json"}, "TASK_DEFINITION 'missing.json' does not exist"),
    Bad("ecs", {"TASK_DEFINITION": "/etc/passwd"}, "TASK_DEFINITION must be relative to the clone directory"),
    Bad("ecs", {"TASK_DEFINITION": "../task.json"}, "TASK_DEFINITION '../task.json' leads outside the clone"),
    Bad(
        "ecs", {"TASK_DEFINITION": "ecs/link.json"}, "TASK_DEFINITION 'ecs/link.json' leads outside the clone"
    ),
    Bad("ecs", {"TASK_DEFINITION": "ecs"}, "TASK_DEFINITION 'ecs' is a directory"),
    Bad("ecs", {"TASK_DEFINITION": "ecs/fifo.json"}, "TASK_DEFINITION 'ecs/fifo.json' is not a regular file"),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "ecs/huge.json"},
        "TASK_DEFINITION 'ecs/huge.json' is 2097152 bytes; the limit",
    ),
    Bad("ecs", {"TASK_DEFINITION": "ecs/deep.json"}, "TASK_DEFINITION 'ecs/deep.json' nests deeper than 64"),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "ecs/not-json.json"},
        "TASK_DEFINITION 'ecs/not-json.json' is not JSON text",
    ),
    Bad("ecs", {"TASK_DEFINITION": "ecs/latin1.json"}, "TASK_DEFINITION 'ecs/latin1.json' is not JSON text"),
    Bad("ecs", {"TASK_DEFINITION": "ecs/list.json"}, "must hold a JSON object (the task definition)"),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "ecs/unknown-field.json"},
        "is not valid for RegisterTaskDefinition: secretValue is not a field RegisterTaskDefinition takes",
        secrets=(PLANTED,),
    ),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "ecs/bad-type.json"},
        "containerDefinitions[0].environment[0].value must be a string",
    ),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "ecs/bad-env.json"},
        "containerDefinitions[0].environment must be a list",
        secrets=(PLANTED,),
    ),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "ecs/no-memory.json"},
        "containerDefinitions[0] needs memory or memoryReservation",
    ),
    Bad("ecs", {"TASK_DEFINITION": "ecs/bad-family.json"}, "family must be 1 to 255 letters, digits"),
    Bad("ecs", {"TASK_DEFINITION": "ecs/tags.json"}, "holds tags: set them with TASK_DEFINITION_TAGS"),
    Bad("ecs", {"TASK_DEFINITION": "ecs/task.json\x07"}, "TASK_DEFINITION contains control characters"),
    Bad("ecs", {"IMAGES": "web"}, "IMAGES must be container=image items"),
    Bad("ecs", {"IMAGES": "web=repo/shop:1 with spaces"}, "IMAGES must be container=image items"),
    Bad("ecs", _list("IMAGES", "web=repo/shop:1;rm -rf"), "IMAGES must be container=image items"),
    Bad("ecs", _list("IMAGES", "web=a:1", "web=b:2"), "IMAGES names 'web' twice"),
    Bad("ecs", _list("IMAGES", "api=repo/api:2"), "IMAGES names container 'api', which TASK_DEFINITION"),
    Bad("ecs", _list("IMAGES", "web=" + "i" * 256), "IMAGES must be container=image items"),
    Bad("ecs", {"IMAGES_COUNT": "x"}, "IMAGES_COUNT must be the number of items in IMAGES"),
    Bad("ecs", {"FORCE_NEW_DEPLOYMENT": "[true]"}, "FORCE_NEW_DEPLOYMENT must be true or false"),
    Bad("ecs", {"WAIT": "!!bool true"}, "WAIT must be true or false"),
    Bad("ecs", {"WAIT_INTERVAL": "0"}, "WAIT_INTERVAL must be a number of seconds from 0.1 to 300"),
    Bad("ecs", {"DEPLOY_TIMEOUT": "0"}, "DEPLOY_TIMEOUT must be a whole number of seconds from 1 to 86400"),
    Bad("ecs", {"DEPLOY_TIMEOUT": "1e9"}, "DEPLOY_TIMEOUT must be a whole number"),
    Bad("ecs", {"ROLLBACK_ON_FAILURE": "previous"}, "ROLLBACK_ON_FAILURE must be true or false"),
    Bad("ecs", {"TASK_DEFINITION_TAGS": "team"}, "TASK_DEFINITION_TAGS must be key=value items"),
    Bad("ecs", {"TASK_DEFINITION_TAGS": "aws:owner=me"}, "TASK_DEFINITION_TAGS must be key=value items"),
    Bad("ecs", _list("TASK_DEFINITION_TAGS", "k=" + "v" * 257), "TASK_DEFINITION_TAGS must be key=value"),
    Bad("ecs", {"DRY_RUN": "yes please"}, "DRY_RUN must be true or false"),
    Bad(
        "ecs",
        {"TASK_DEFINITION_TAGS": " ".join(f"k{i}=v" for i in range(51))},
        "TASK_DEFINITION_TAGS holds 51 tags; ECS takes at most 50",
    ),
    Bad(
        "ecs",
        {"TASK_DEFINITION": "", "FORCE_NEW_DEPLOYMENT": "true", "TASK_DEFINITION_TAGS": "team=shop"},
        "TASK_DEFINITION_TAGS tag a new revision",
    ),
    # --- a step moved over from Atlassian's Elastic Beanstalk pipe (MIGRATING.md) -----------------------
    Bad(
        "beanstalk",
        {"COMMAND": "upload-only"},
        "COMMAND is BEANSTALK_COMMAND here, with COMMAND: 'beanstalk'",
    ),
]


def _row_id(row: Bad) -> str:
    changed = ",".join(row.changes)
    return f"{row.job}:{changed}"[:60]


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(row) for row in ROWS])
def test_a_bad_input_is_one_clear_line(row, run, pipe_env, clone_dir):
    env = JOB_ENVIRONMENTS[row.job](pipe_env, clone_dir) | row.changes
    # Every AWS call goes through a counting proxy (no faults): input refused before the sign-in
    # starts must not have reached AWS at all.
    with FaultProxy(pipe_env["AWS_ENDPOINT_URL"]) as aws_calls:
        if "AWS_ENDPOINT_URL" not in row.changes:
            env["AWS_ENDPOINT_URL"] = aws_calls.url
        result = run(env)
    line = assert_one_clear_failure(result, row.expected)
    assert any(subject in line for subject in _subjects(row)), (sorted(_subjects(row)), line)
    assert_no_secret(result.output, pipe_env["BITBUCKET_STEP_OIDC_TOKEN"], *_secrets_of(row))
    if not row.needs_aws:
        assert aws_calls.requests == 0, (
            f"knowable before sign-in, yet {aws_calls.requests} AWS call(s) were made"
        )


def test_the_catalogue_covers_every_job_with_at_least_fifty_rows():
    assert len(ROWS) >= 50
    assert {row.job for row in ROWS} == set(JOB_ENVIRONMENTS)
