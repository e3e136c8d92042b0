"""CDK_ARGS read the way the CDK CLI reads them (yargs-parser), held to an allow-list.

yargs-parser's rules, from its parse loop:
- `--` ends the options; `--key=value`; `--no-key` sets key to false (boolean negation); `--key value`
  takes the next word unless it starts with `-` (a boolean takes only `true`/`false` after it).
- A key is found by its camelCase form too: `--requireApproval` is `--require-approval`.
- `-abc` is a group of short flags: each letter is set, except that a letter followed by `=` or by a
  non-word character takes the rest as its value (`-a=x`, `-o.out`), and a letter followed by a number
  takes the number; the last letter may take the next word. `-vi` is `-v -i` (`--ec2creds`).

An option not in the table is refused with the list of allowed ones; options that read or write a
path name one inside the clone (pipe.common.private_dir); options that take the session away, load
code from anywhere or never end are refused with their reason.
"""

import re
from pathlib import Path
from typing import NamedTuple

from pipe.common import command_line, private_dir
from pipe.common.errors import PipeError

VARIABLE = "CDK_ARGS"
BOOLEAN, VALUE, ARRAY = "boolean", "value", "array"
DIRECTORY, FILE, APP = "directory", "file", "app"  # what a value names
_NEGATIVE = re.compile(r"^-[0-9]+(\.[0-9]+)?")
_NUMBER = re.compile(r"^-?\d+(\.\d*)?(e-?\d+)?$")


class Option(NamedTuple):
    name: str
    short: str = ""
    kind: str = BOOLEAN
    names: str = ""
    refused: str = ""


_SESSION = "the CDK CLI gets the pipe's session through its environment, and it would replace it"
_GLOBAL = (
    Option("app", "a", VALUE, APP),
    Option("build", "", VALUE),
    Option("context", "c", ARRAY),
    Option("trace"),
    Option("strict"),
    Option("lookups"),
    Option("ignore-errors"),
    Option("json", "j"),
    Option("verbose", "v"),
    Option("debug"),
    Option("proxy", "", VALUE),
    Option("ca-bundle-path", "", VALUE, FILE),
    Option("version-reporting"),
    Option("path-metadata"),
    Option("asset-metadata"),
    Option("role-arn", "r", VALUE),
    Option("staging"),
    Option("output", "o", VALUE, DIRECTORY),
    Option("notices"),
    Option("color"),
    Option("no-color"),
    Option("ci"),
    Option("unstable", "", ARRAY),
    Option("profile", "", VALUE, refused=_SESSION),
    Option("ec2creds", "i", refused=_SESSION),
    Option("plugin", "p", ARRAY, refused="a plugin loads code from wherever node finds it"),
    Option("telemetry-file", "", VALUE, refused="the CLI would write a file the pipe does not check"),
    Option("help", "h", refused="the CLI would print its help and deploy nothing"),
    Option("version", "", refused="the CLI would print its version and deploy nothing"),
)
_STACKS = (Option("all"), Option("exclusively", "e"))
_DEPLOY = (
    *_STACKS,
    Option("build-exclude", "E", ARRAY),
    Option("require-approval", "", VALUE),
    Option("notification-arns", "", ARRAY),
    Option("tags", "t", ARRAY),
    Option("execute"),
    Option("change-set-name", "", VALUE),
    Option("method", "m", VALUE),
    Option("import-existing-resources"),
    Option("force", "f"),
    Option("parameters", "", ARRAY),
    Option("previous-parameters"),
    Option("toolkit-stack-name", "", VALUE),
    Option("progress", "", VALUE),
    Option("rollback"),
    Option("hotswap"),
    Option("hotswap-fallback"),
    Option("logs"),
    Option("concurrency", "", VALUE),
    Option("asset-parallelism"),
    Option("asset-prebuild"),
    Option("ignore-no-stacks"),
    Option("outputs-file", "O", VALUE, refused="the pipe writes the outputs file itself (cdk-outputs.json)"),
    Option("watch", "", refused="a watch never ends"),
)
_DIFF = (
    *_STACKS,
    Option("context-lines", "", VALUE),
    Option("template", "", VALUE, FILE),
    Option("security-only"),
    Option("fail"),
    Option("processed"),
    Option("quiet", "q"),
    Option("change-set"),
    Option("import-existing-resources"),
)
_SYNTH = (*_STACKS, Option("validation"), Option("quiet", "q"))
_BOOTSTRAP = (
    Option("bootstrap-bucket-name", "b", VALUE),
    Option("bootstrap-kms-key-id", "", VALUE),
    Option("example-permissions-boundary"),
    Option("custom-permissions-boundary", "", VALUE),
    Option("bootstrap-customer-key"),
    Option("qualifier", "", VALUE),
    Option("public-access-block-configuration"),
    Option("tags", "t", ARRAY),
    Option("execute"),
    Option("trust", "", ARRAY),
    Option("trust-for-lookup", "", ARRAY),
    Option("untrust", "", ARRAY),
    Option("cloudformation-execution-policies", "", ARRAY),
    Option("force", "f"),
    Option("termination-protection"),
    Option("show-template"),
    Option("toolkit-stack-name", "", VALUE),
    Option("template", "", VALUE, FILE),
    Option("previous-parameters"),
)
COMMANDS = {"deploy": _DEPLOY, "diff": _DIFF, "synth": _SYNTH, "bootstrap": _BOOTSTRAP}


class Given(NamedTuple):
    option: Option
    spelling: str
    value: str | None


def _kebab(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda match: "-" + match.group(1).lower(), key)


class _Reader:
    def __init__(self, command: str):
        self.command = command
        options = (*_GLOBAL, *COMMANDS[command])
        self.long = {option.name: option for option in options}
        self.short = {option.short: option for option in options if option.short}
        self.given: list[Given] = []

    def _lookup(self, key: str, spelling: str) -> Option:
        option = self.short.get(key) if len(key) == 1 else self.long.get(_kebab(key))
        if option is None:
            raise _unknown(self.command, spelling)
        return option

    def _set(self, key: str, spelling: str, value: str | None) -> None:
        self.given.append(Given(self._lookup(key, spelling), spelling, value))

    def _takes(self, key: str, spelling: str, following: str | None, short: bool = False) -> bool:
        """Whether an option written without `=` takes the next word as its value."""
        option = self._lookup(key, spelling)
        if following is None:
            return False
        if option.kind == BOOLEAN:
            return following in ("true", "false")
        looks_like_option = re.match(r"^(-|--)[^-]", following) if short else following.startswith("-")
        return not looks_like_option or bool(_NEGATIVE.match(following))

    def read(self, words: list[str]) -> list[str]:
        positional: list[str] = []
        index = 0
        while index < len(words):
            word = words[index]
            following = words[index + 1] if index + 1 < len(words) else None
            index += 1
            if word == "--":
                return positional + words[index:]
            if (
                re.match(r"^---+(=|$)", word)
                or not word.startswith("-")
                or word == "-"
                or _NEGATIVE.match(word)
            ):
                positional.append(word)
            elif match := re.match(r"^--([^=]+)=([\s\S]*)$", word):
                self._set(match.group(1), f"--{match.group(1)}", match.group(2))
            elif word.startswith("--no-") and len(word) > 5 and _kebab(word[2:]) not in self.long:
                self._set(word[5:], f"--{word[5:]}", "false")
            elif word.startswith("--"):
                taken = self._takes(word[2:], word, following)
                self._set(word[2:], word, following if taken else None)
                index += taken
            else:
                index += self._group(word, following)
        return positional

    def _group(self, word: str, following: str | None) -> int:
        letters = word[1:-1]
        for at, letter in enumerate(letters):
            rest = word[at + 2 :]
            if at + 1 < len(letters) and letters[at + 1] == "=":
                self._set(letter, f"-{letter}", word[at + 3 :])
                return 0
            if rest == "-":
                self._set(letter, f"-{letter}", rest)
                continue
            if letter.isascii() and letter.isalpha() and _NUMBER.match(rest):
                self._set(letter, f"-{letter}", rest)
                return 0
            if at + 1 < len(letters) and re.match(r"\W", letters[at + 1]):
                self._set(letter, f"-{letter}", rest)
                return 0
            self._set(letter, f"-{letter}", None)
        last = word[-1]
        if last == "-":
            return 0
        taken = self._takes(last, f"-{last}", following, short=True)
        self._set(last, f"-{last}", following if taken else None)
        return int(taken)


def _unknown(command: str, spelling: str) -> PipeError:
    options = (*_GLOBAL, *COMMANDS[command])
    shown = [f"-{o.short}/--{o.name}" if o.short else f"--{o.name}" for o in options if not o.refused]
    return PipeError(
        f"{VARIABLE} holds {spelling}, which the pipe does not allow for cdk {command}; "
        f"allowed: {', '.join(dict.fromkeys(shown))}."
    )


def check(arguments: list[str], command: str, app_dir: Path, clone: Path) -> None:
    """CDK_ARGS for CDK_COMMAND `command`: every option allowed, every path it names (relative to the
    app's directory, where the CLI runs) in the clone."""
    for argument in arguments:
        command_line.check_argument(argument, VARIABLE)
    reader = _Reader(command)
    reader.read(arguments)
    for given in reader.given:
        if given.option.refused:
            raise PipeError(f"{VARIABLE} must not hold {given.spelling}: {given.option.refused}.")
        if given.option.names and given.value not in (None, "", "false", "true"):
            _check_path(given.option, given.value, app_dir, clone)


def check_refused(argument: str) -> str:
    """One item as it is read (before sign-in): control characters, and a long option refused for every
    command. The whole list is checked with CDK_COMMAND by check()."""
    command_line.check_argument(argument, VARIABLE)
    if argument.startswith("--"):
        key = argument[2:].partition("=")[0]
        for option in _GLOBAL:
            if option.refused and _kebab(key) in (option.name, f"no-{option.name}"):
                raise PipeError(f"{VARIABLE} must not hold --{key}: {option.refused}.")
    return argument


def _check_path(option: Option, value: str, app_dir: Path, clone: Path) -> None:
    if option.names == APP and any(character.isspace() for character in value):
        return  # a command line, as cdk.json's "app" holds: the repository's own code
    path = Path(value) if Path(value).is_absolute() else app_dir / value
    real = private_dir.inside_clone(path, clone, f"{VARIABLE} --{option.name}")
    if option.names == FILE and real.exists() and not real.is_file():
        raise PipeError(f"{VARIABLE} --{option.name} names {value!r}, which is not a regular file.")
