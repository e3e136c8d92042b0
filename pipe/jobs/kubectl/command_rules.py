"""What a kubectl command line from the user (KUBECTL_COMMAND, KUBECTL_ARGS, KUBECTL_APPLY_ARGS) may
hold: an allowed command (pipe.jobs.kubectl.allowed) with its allowed options, read the way kubectl
reads them (pipe.jobs.kubectl.pflag), every file or directory an option names inside the clone and
a regular file (pipe.common.private_dir), every kustomization checked (pipe.jobs.kubectl.kustomization).
Anything else is one line naming what is allowed.
"""

import os
import stat
import urllib.parse
from pathlib import Path

from pipe.common import command_line, private_dir
from pipe.common.errors import PipeError
from pipe.jobs.kubectl import allowed, kustomization, pflag
from pipe.jobs.kubectl.pflag import Line, Option

# Commands refused with their own reason rather than the list.
ENDLESS_COMMANDS = {
    "proxy": "it serves until stopped",
    "port-forward": "it forwards until stopped",
    "attach": "it stays attached until stopped",
    "edit": "it waits for an editor",
    "debug": "it starts an interactive session",
}
# `-o` formats that make kubectl read a template file.
_FILE_FORMATS = ("jsonpath-file", "go-template-file", "custom-columns-file", "templatefile")
# Query parameters a `get --raw` path may carry: none of them makes the server stream for ever.
_RAW_QUERY = {"labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "pretty", "timeout"}
# Entries a directory named with -f or --from-file may hold before the check gives up.
MAX_DIRECTORY_ENTRIES = 10_000
_URL_PREFIXES = ("http://", "https://")  # what kubectl's -f fetches; any other text is a path
# Commands that take no argument: cobra would read the first one as a subcommand the table does not
# hold (`create token` prints a token, `apply edit-last-applied` waits for an editor, `cluster-info dump`).
NO_ARGUMENTS = {
    ("apply",),
    ("create",),
    ("cluster-info",),
    ("api-versions",),
    ("version",),
    ("api-resources",),
}


def command_of(words: list[str], variable: str) -> tuple[tuple[str, ...], list[str]]:
    """The allowed command at the start of `words` (its words, aliases resolved) and the rest."""
    first = words[0] if words else ""
    if first in ENDLESS_COMMANDS:
        raise PipeError(f"{variable} must not be kubectl {first}: {ENDLESS_COMMANDS[first]}.")
    for length in (3, 2, 1):
        named = tuple(
            allowed.ALIASES.get(word, word) if at else word for at, word in enumerate(words[:length])
        )
        if len(named) == length and named in allowed.COMMANDS:
            return named, words[length:]
    raise PipeError(
        f"{variable} must start with a kubectl command the pipe allows ({_commands()}); "
        f"{first!r} is not one of them (docs/kubectl.md: kubectl command lines)."
    )


def _commands() -> str:
    return ", ".join(sorted({" ".join(command) for command in allowed.COMMANDS}))


def _allowed_options(command: tuple[str, ...]) -> str:
    shown = []
    for option in allowed.options_of(command):
        if not option.refused and option.spelling not in shown:
            shown.append(f"-{option.short}/{option.spelling}" if option.short else option.spelling)
    return ", ".join(dict.fromkeys(shown)) or "none"


def parse(command: tuple[str, ...], words: list[str], variable: str, complete: bool = True) -> Line:
    """`words` (after the command's own words) read as kubectl reads them; a refused or unknown option
    is one line. `complete`: the words are followed by others (the pipe's), so they must not end
    waiting for a value nor with `--` (the pipe's options would become values or arguments)."""
    name = " ".join(command)
    for word in words:
        command_line.check_argument(word, variable)
    try:
        line = pflag.parse(words, allowed.options_of(command))
    except pflag.Unknown as unknown:
        raise PipeError(
            f"{variable} holds {unknown.spelling}, which the pipe does not allow for kubectl {name}; "
            f"allowed: {_allowed_options(command)}."
        ) from None
    for given in line.given:
        if given.option.refused:
            raise PipeError(
                f"{variable} must not hold {given.spelling} for kubectl {name}: {given.option.refused}."
            )
        _check_value(given.option, given.value or "", given.spelling, variable)
    if line.arguments and command in NO_ARGUMENTS:
        raise PipeError(
            f"{variable} must not give kubectl {name} the argument {line.arguments[0]!r}: kubectl would take it "
            f"for a command the pipe does not allow; allowed: {_commands()}."
        )
    if line.needs_value and complete:
        raise PipeError(f"{variable} ends with {line.needs_value}, which needs a value; give it one.")
    if line.after_dashes is not None and (command != ("exec",) or not complete):
        raise PipeError(
            f"{variable} must not hold `--` for kubectl {name}: it would turn the options after it into "
            "arguments (only KUBECTL_COMMAND's `exec ... -- command` may hold it)."
        )
    return line


def _check_value(option: Option, value: str, spelling: str, variable: str) -> None:
    if option.name == "output" and value.split("=", 1)[0].strip().lower() in _FILE_FORMATS:
        raise PipeError(
            f"{variable} must not hold {spelling} {value.split('=', 1)[0]}: kubectl would read a template "
            "file; give the template itself (jsonpath=..., go-template=..., custom-columns=...)."
        )
    if option.name == "raw":
        _check_raw(value, variable)
    if option.is_list and option.names and '"' in value:
        raise PipeError(
            f"{variable} must not hold quotes in the list given to {spelling}; name each file plainly."
        )


def _check_raw(value: str, variable: str) -> None:
    """`get --raw PATH`: a path of the API with a query that cannot make the server stream for ever."""
    path, _, query = value.partition("?")
    segments = urllib.parse.unquote(path).lower().split("/")
    keys = {key for key, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)}
    if not value.startswith("/") or "watch" in segments or keys - _RAW_QUERY:
        raise PipeError(
            f"{variable} must give --raw an API path such as /api/v1/namespaces, with no query but "
            f"{', '.join(sorted(_RAW_QUERY))} (a watch or a follow never ends)."
        )


def check(words: list[str], variable: str) -> list[str]:
    """KUBECTL_COMMAND (or KUBECTL_APPLY_ARGS after `apply`): an allowed command with allowed options."""
    command, rest = command_of(words, variable)
    parse(command, rest, variable)
    return words


def check_extra(command_words: list[str], extra: list[str], variable: str) -> None:
    """KUBECTL_ARGS, appended last to KUBECTL_COMMAND's command: allowed options for that command."""
    command, _ = command_of(command_words, "KUBECTL_COMMAND")
    parse(command, extra, variable, complete=False)


def check_files(command_words: list[str], words: list[str], clone: Path, variable: str) -> None:
    """Every file or directory the options in `words` name (and `kustomize`'s directory) is inside the
    clone, of the kind kubectl reads (a FIFO would block it for ever), every kustomization checked.
    `words` are KUBECTL_COMMAND's after the command, KUBECTL_ARGS or KUBECTL_APPLY_ARGS."""
    command, _ = command_of(command_words, "KUBECTL_COMMAND")
    line = parse(command, words, variable, complete=False)
    for given in line.given:
        if given.option.names and given.value is not None:
            items = pflag.list_items(given.value) if given.option.is_list else [given.value]
            for item in items:
                _check_path(given.option.names, item, clone, variable)
    if command == ("kustomize",):
        for argument in line.arguments:
            _check_path(pflag.DIRECTORY, argument, clone, variable)


def _check_path(kind: str, value: str, clone: Path, variable: str) -> None:
    if kind == pflag.PATHS and (value == "-" or value.startswith(_URL_PREFIXES)):
        return  # stdin (none: kubectl's is empty) or a URL kubectl fetches, within its deadline
    if kind == pflag.KEYED_FILE:
        value = value.split("=", 1)[-1]
    if kind == pflag.DIRECTORY and "://" in value:
        raise PipeError(f"{variable} names a remote kustomization; the pipe renders only the repository's.")
    path = Path(value) if Path(value).is_absolute() else clone / value
    real = private_dir.inside_clone(path, clone, variable)
    try:
        mode = real.stat().st_mode
    except OSError:
        return  # missing: kubectl says so itself
    if kind == pflag.DIRECTORY:
        if not stat.S_ISDIR(mode):
            raise PipeError(f"{variable} names {value!r} for a kustomization, which is not a directory.")
        kustomization.check(real, clone, variable)
    elif stat.S_ISDIR(mode) and kind != pflag.FILE:
        _check_tree(real, clone, variable, value)
    elif not stat.S_ISREG(mode):
        raise _not_regular(variable, value)


def _not_regular(variable: str, value: str) -> PipeError:
    return PipeError(
        f"{variable} names {value!r}, which is not a regular file (a pipe, device or socket): "
        "kubectl would wait on it for ever. Name a file of the repository."
    )


def _check_tree(root: Path, clone: Path, variable: str, value: str) -> None:
    """Every entry below a directory kubectl reads is inside the clone and a file or directory."""
    count = 0
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories:  # a link kubectl would open as a file: held to the clone too
            private_dir.inside_clone(Path(directory) / name, clone, variable)
        for name in files:
            count += 1
            if count > MAX_DIRECTORY_ENTRIES:
                raise PipeError(
                    f"{variable} names {value!r}, which holds over {MAX_DIRECTORY_ENTRIES} files."
                )
            entry = Path(directory) / name
            real = private_dir.inside_clone(entry, clone, variable)
            try:
                mode = real.stat().st_mode
            except OSError:
                continue  # a dangling link: kubectl skips or reports it
            if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
                raise _not_regular(variable, str(entry.relative_to(clone)))


def check_refused(word: str, variable: str) -> str:
    """One KUBECTL_ARGS item: a long option refused for every command is refused as soon as it is read
    (before sign-in); the whole list is checked with its command by check_all."""
    name = word[2:].partition("=")[0].replace("_", "-") if word.startswith("--") else ""
    for option in allowed.GLOBAL_REFUSED:
        if name == option.name:
            raise PipeError(f"{variable} must not hold --{name}: {option.refused}.")
    return word


def check_all(command_words: list[str], extra: list[str], apply_words: list[str], clone: Path) -> None:
    """The command line as kubectl gets it: KUBECTL_ARGS allowed for the command, and every file named
    in KUBECTL_COMMAND, KUBECTL_ARGS and KUBECTL_APPLY_ARGS checked."""
    _, rest = command_of(command_words, "KUBECTL_COMMAND")
    for variable, words in (
        ("KUBECTL_COMMAND", rest),
        ("KUBECTL_ARGS", extra),
        ("KUBECTL_APPLY_ARGS", apply_words),
    ):
        check_files(command_words, words, clone, variable)


def check_named(path: str, clone: Path, variable: str) -> None:
    """A file or directory the pipe names with -f itself (RESOURCE_PATH for delete)."""
    _check_path(pflag.PATHS, path, clone, variable)


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
