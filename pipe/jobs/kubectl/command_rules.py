"""What a kubectl command line from the user may not do: send the EKS token elsewhere or switch
cluster (refused options), run for ever (commands that never end by design), or read files from
outside the clone (-f/-k paths). Checked through pipe.common.command_line and pipe.common.private_dir.
"""

from pathlib import Path

from pipe.common import command_line, private_dir
from pipe.common.command_line import Refused
from pipe.common.errors import PipeError

_TARGET = "the pipe points kubectl at CLUSTER_NAME with the role's token, and it would change that"
REFUSED_OPTIONS = (
    Refused(("--server", "-s"), f"{_TARGET} (kubectl would send the token to that server)"),
    Refused(("--kubeconfig",), _TARGET),
    Refused(("--context",), _TARGET),
    Refused(("--cluster",), _TARGET),
    Refused(("--user",), _TARGET),
    Refused(("--token",), f"{_TARGET}; a token in a variable would also be printed"),
    Refused(("--username", "--password"), _TARGET),
    Refused(("--client-certificate", "--client-key"), _TARGET),
    Refused(("--certificate-authority",), "the pipe trusts only the cluster's own CA from EKS"),
    Refused(("--insecure-skip-tls-verify",), "the token would go to a server whose identity is not checked"),
    Refused(("--tls-server-name",), "the pipe checks the cluster's TLS name as EKS gives it"),
)
# Commands that never end by design: a step would hang until its own time limit.
ENDLESS_COMMANDS = {
    "proxy": "it serves until stopped",
    "port-forward": "it forwards until stopped",
    "attach": "it stays attached until stopped",
    "edit": "it waits for an editor",
}
# (command or None for any, option spellings, reason)
ENDLESS_OPTIONS = (
    (None, ("--watch", "-w", "--watch-only"), "a watch never ends; use `kubectl wait` or WAIT instead"),
    ("logs", ("--follow", "-f"), "following logs never ends"),
    ("exec", ("--stdin", "-i", "--tty", "-t"), "an interactive session waits for input that never comes"),
    ("run", ("--stdin", "-i", "--tty", "-t", "--attach"), "an attached pod waits for input or runs on"),
)
FILE_OPTIONS = ("--filename", "-f", "--kustomize", "-k")


def check_options(words: list[str], variable: str) -> None:
    command_line.check(words, REFUSED_OPTIONS, variable)


def _short_flags(word: str) -> set[str]:
    # -it is -i and -t; a long option or a value is not a bundle of short flags.
    if word.startswith("-") and not word.startswith("--") and "=" not in word:
        return {f"-{letter}" for letter in word[1:]}
    return set()


def check_ends(command: list[str], extra: list[str], variable: str) -> None:
    """Refuse a command line (KUBECTL_COMMAND plus KUBECTL_ARGS) that would never end."""
    name = command[0]
    if name in ENDLESS_COMMANDS:
        raise PipeError(f"{variable} must not be kubectl {name}: {ENDLESS_COMMANDS[name]}.")
    words = [*command[1:], *extra]
    for applies_to, spellings, reason in ENDLESS_OPTIONS:
        if applies_to not in (None, name):
            continue
        for word in words:
            flags = _short_flags(word) | {word.split("=", 1)[0]}
            hit = next((spelling for spelling in spellings if spelling in flags), None)
            if hit:
                raise PipeError(f"{variable} must not hold {hit} for kubectl {name}: {reason}.")


def check_files(words: list[str], clone: Path, variable: str) -> None:
    """Every file or directory named with -f/-k must be inside the clone once its links are resolved
    (a URL is fetched by kubectl, not read from the runner, and stays allowed)."""
    for value in command_line.values_of(words, FILE_OPTIONS):
        if value == "-" or "://" in value:
            continue
        private_dir.inside_clone(Path(value) if Path(value).is_absolute() else clone / value, clone, variable)


# DRY_RUN fails closed: a command that changes the cluster gets kubectl's server-side dry run, one that
# only reads runs as it is, and any other (a change kubectl cannot dry-run, or a command the pipe does
# not know) is refused rather than run for real. A (command, subcommand) pair names one subcommand.
DRY_RUNNABLE = {
    *("apply", "delete", "create", "replace", "patch", "label", "annotate", "scale", "set", "expose"),
    *("autoscale", "run", "taint", "drain", "cordon", "uncordon", ("rollout", "undo"), ("auth", "reconcile")),
}
READ_ONLY = {
    *("get", "describe", "logs", "top", "explain", "version", "api-resources", "api-versions"),
    *("cluster-info", "diff", "wait", "events", ("rollout", "status"), ("rollout", "history")),
    *(("auth", "can-i"), ("auth", "whoami")),
}
DRY_RUN_FLAG = "--dry-run=server"


def dry_run_arguments(command: list[str]) -> list[str]:
    """What DRY_RUN adds to `command` (kubectl's server-side dry run, or nothing for a command that
    only reads); a PipeError for a command that would change the cluster for real."""
    name = command[0]
    sub = next((word for word in command[1:] if not word.startswith("-")), "")
    if name in READ_ONLY or (name, sub) in READ_ONLY:
        return []
    if name in DRY_RUNNABLE or (name, sub) in DRY_RUNNABLE:
        return [DRY_RUN_FLAG]
    shown = f"{name} {sub}".strip()
    raise PipeError(
        f"DRY_RUN is true, but kubectl {shown} has no server-side dry run, so it would run for real: "
        "leave DRY_RUN false to run it, or use a command kubectl can dry-run (apply, delete, patch, scale, ...)."
    )
