"""A kubectl command line read the way kubectl reads it: cobra hands the words to spf13/pflag.

pflag's rules, from its parseArgs, parseLongArg and parseSingleShortArg:
- `--` ends the options: every later word is an argument; `-` and words not starting with `-` are
  arguments, and options may follow arguments (interspersed).
- `--name=value`; `--name value` unless the option has a default for a bare use (NoOptDefVal: bools,
  `--dry-run`, `--validate`, `--cascade`), which then takes a value only after `=`. kubectl normalises
  `_` to `-` in long names (cliflag.WordSepNormalizeFunc): `--dry_run` is `--dry-run`.
- `-abc` is a bundle read letter by letter: a letter whose option takes no bare value is set alone;
  the first letter that takes a value takes the rest of the word (`-nprod`, `-n=prod`: after a `=`
  the text after it), or the next word when it is last (`-An prod`).
- A list option (stringSlice) splits its value as CSV: `-f a.yaml,b.yaml` names two files.

Nothing here knows what is allowed: pipe.jobs.kubectl.allowed says that, command_rules acts on it.
"""

from typing import NamedTuple

# How an option's value names something on the runner: kubectl opens it, so it is checked.
FILE = "file"  # a regular file
PATHS = "paths"  # files or directories, or an http(s) URL (-f)
DIRECTORY = "directory"  # a kustomization directory (-k)
KEYED_FILE = "keyed-file"  # [key=]file or directory (--from-file)


class Option(NamedTuple):
    name: str  # long name, without dashes
    short: str = ""
    takes_value: bool = False  # False: a bool or an option with a bare default (NoOptDefVal)
    names: str = ""  # FILE, PATHS, DIRECTORY, KEYED_FILE, or "" for a plain value
    is_list: bool = False  # a stringSlice: the value is comma-separated
    refused: str = ""  # why the pipe refuses it; "" when allowed

    @property
    def spelling(self) -> str:
        return f"--{self.name}"


class Given(NamedTuple):
    option: Option
    spelling: str  # as written: "--server", "-s" (a bundle's letter), "--dry_run"
    value: str | None  # None for a bare flag
    word: int  # index of the word it came from


class Unknown(Exception):
    """An option word the table does not know (pflag: unknown flag), or bad syntax (`---x`, `--=x`)."""

    def __init__(self, spelling: str):
        super().__init__(spelling)
        self.spelling = spelling


class Line(NamedTuple):
    given: list[Given]
    arguments: list[str]  # before `--`
    after_dashes: list[str] | None  # None when there is no `--`
    needs_value: str | None  # the spelling of a last option that waits for a value the line lacks


def _long(word: str, rest: list[str], table: dict[str, Option], index: int) -> tuple[Given, int]:
    name = word[2:]
    if not name or name[0] in "-=":
        raise Unknown(word)
    name, has_value, value = name.partition("=")
    option = table.get(name.replace("_", "-"))
    if option is None:
        raise Unknown(f"--{name}")
    if has_value:
        return Given(option, f"--{name}", value, index), 0
    if not option.takes_value:
        return Given(option, f"--{name}", None, index), 0
    if rest:
        return Given(option, f"--{name}", rest[0], index), 1
    return Given(option, f"--{name}", None, index), -1


def _shorts(word: str, rest: list[str], shorts: dict[str, Option], index: int) -> tuple[list[Given], int]:
    found: list[Given] = []
    letters = word[1:]
    while letters:
        letter, letters = letters[0], letters[1:]
        option = shorts.get(letter)
        if option is None:
            raise Unknown(f"-{letter}")
        if len(letters) > 1 and letters[0] == "=":
            found.append(Given(option, f"-{letter}", letters[1:], index))
            return found, 0
        if not option.takes_value:
            found.append(Given(option, f"-{letter}", None, index))
        elif letters:
            found.append(Given(option, f"-{letter}", letters, index))
            return found, 0
        elif rest:
            found.append(Given(option, f"-{letter}", rest[0], index))
            return found, 1
        else:
            found.append(Given(option, f"-{letter}", None, index))
            return found, -1
    return found, 0


def parse(words: list[str], options: list[Option]) -> Line:
    table = {option.name: option for option in options}
    shorts = {option.short: option for option in options if option.short}
    given: list[Given] = []
    arguments: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        rest = words[index + 1 :]
        if len(word) < 2 or word[0] != "-":
            arguments.append(word)
            index += 1
            continue
        if word == "--":
            return Line(given, arguments, rest, None)
        if word.startswith("--"):
            one, used = _long(word, rest, table, index)
            found = [one]
        else:
            found, used = _shorts(word, rest, shorts, index)
        given += found
        if used < 0:
            return Line(given, arguments, None, found[-1].spelling)
        index += 1 + used
    return Line(given, arguments, None, None)


def list_items(value: str) -> list[str]:
    """A stringSlice's items: pflag reads the value as one CSV record. A quote would make a CSV
    field of its own (`"a,b"` is one item), so a value holding one is refused by the caller."""
    return value.split(",") if value else []
