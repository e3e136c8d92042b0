"""The variable contract: how each pipe variable is declared, read and checked.

Values reach the pipe as environment variables (a list variable arrives as NAME_COUNT, NAME_0, ...),
as bitbucket-pipes-toolkit would read them with every value declared a string: the text untouched,
never run through YAML. Read here without the toolkit, whose import costs most of the start-up. Each
Variable turns the text into a checked value or one clear line.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from pipe.common import line_safe
from pipe.common.errors import PipeError

# Enough of a value to recognise it in an error line, short enough to keep the line one line.
_ECHO_LIMIT = 60
# Bitbucket caps a variable's size well below this; anything longer is a mistake, not a value.
MAX_VALUE_LENGTH = 64 * 1024
MAX_LIST_ITEMS = 1000
# os.environ turns bytes that are not UTF-8 into lone surrogates (surrogateescape); no value holds them.
_UNDECODABLE = re.compile("[\ud800-\udfff]")

Parser = Callable[[str], Any]


# The user-info of anything URL-shaped, up to the last @ before the host (a password may hold "/",
# which hides it from urlsplit and so from the log's own URL masking).
_USER_INFO = re.compile(r"(?<=://)\S*@")


def shown(value: str) -> str:
    """A value as it may appear in an error line: its URL user-info masked, quoted, escaped, and cut
    short."""
    masked = _USER_INFO.sub("****@", value)
    text = masked if len(masked) <= _ECHO_LIMIT else masked[:_ECHO_LIMIT] + "..."
    return repr(text)


# A NamedTuple, not a frozen dataclass: importing dataclasses (and inspect with it) was a sixth of
# trust-policy's start-up (issue 16).
class Variable(NamedTuple):
    name: str
    parse: Parser = str
    required: bool = False
    default: Any = None
    secret: bool = False
    is_list: bool = False
    # What to say when a required variable is missing, after "<NAME> is required".
    fix: str = ""
    # Lists only: how one plain NAME value splits into items (default: commas and spaces), and what
    # turns the checked items into the value (default: the list itself).
    split: Callable[[str], list[str]] | None = None
    combine: Callable[[list[Any]], Any] | None = None

    def read(self, raw: Any) -> Any:
        if self.is_list:
            return self._read_list(raw)
        if raw is None or raw == "":
            if self.required:
                raise PipeError(f"{self.name} is required{': ' + self.fix if self.fix else '.'}")
            return self.default
        self._check_text(raw)
        try:
            return self.parse(raw)
        except ValueError as error:
            raise PipeError(self._complaint(str(error), raw)) from None

    def _read_list(self, items: list[str]) -> Any:
        if not items:
            if self.required:
                raise PipeError(f"{self.name} is required{': ' + self.fix if self.fix else '.'}")
            return self.default if self.default is not None else []
        # The limit holds for the value as read, whichever form (NAME_COUNT or one plain NAME) it came in.
        if len(items) > MAX_LIST_ITEMS:
            raise PipeError(f"{self.name} holds {len(items)} items; the limit is {MAX_LIST_ITEMS}.")
        values = []
        for item in items:
            self._check_text(item)
            try:
                values.append(self.parse(item))
            except ValueError as error:
                raise PipeError(self._complaint(str(error), item)) from None
        if self.combine is None:
            return values
        try:
            return self.combine(values)
        except ValueError as error:
            raise PipeError(f"{self.name} {error}.") from None

    def _check_text(self, raw: str) -> None:
        check_text(self.name, raw)

    def _complaint(self, problem: str, raw: str) -> str:
        if self.secret:
            return f"{self.name} {problem}."
        return f"{self.name} {problem}, got {shown(raw)}."


def check_text(name: str, raw: str) -> None:
    """The rules every value meets as read, in whatever form it came: its length, text that is UTF-8,
    and no character that could repaint or reorder a log line."""
    if len(raw) > MAX_VALUE_LENGTH:
        raise PipeError(f"{name} is {len(raw)} characters long; the limit is {MAX_VALUE_LENGTH}.")
    if _UNDECODABLE.search(raw):
        raise PipeError(f"{name} holds bytes that are not UTF-8 text; set it to text.")
    # Line breaks stay allowed (a plain list may be one item a line); every other character that
    # could repaint or reorder a log line (DEL, C1, U+2028, bidi controls) is refused.
    if not line_safe.is_safe(raw.replace("\n", "").replace("\r", "")):
        raise PipeError(f"{name} contains control characters; remove them from the value.")


# Parsers: each returns the value or raises ValueError with "must ..." wording.

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("must be true or false")


def integer(low: int, high: int, unit: str = "") -> Parser:
    def parse(raw: str) -> int:
        text = raw.strip()
        if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
            raise ValueError(f"must be a whole number{' of ' + unit if unit else ''} from {low} to {high}")
        return int(text)

    return parse


def seconds(low: float, high: float) -> Parser:
    """A number of seconds, fractions allowed (a poll interval), from `low` to `high`."""

    def parse(raw: str) -> float:
        text = raw.strip()
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) or not low <= float(text) <= high:
            raise ValueError(f"must be a number of seconds from {low:g} to {high:g}")
        return float(text)

    return parse


def choice(options: tuple[str, ...]) -> Parser:
    def parse(raw: str) -> str:
        text = raw.strip()
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text

    return parse


def matching(pattern: str, expectation: str) -> Parser:
    # ASCII: a digit or letter from another script is a mistake in every value this pipe takes.
    compiled = re.compile(pattern, re.ASCII)

    def parse(raw: str) -> str:
        text = raw.strip()
        if not compiled.fullmatch(text):
            raise ValueError(f"must be {expectation}")
        return text

    return parse


def _words(plain: str) -> list[str]:
    return [item for item in re.split(r"[,\s]+", plain) if item]


def _list_items(name: str, env: Mapping[str, str], split: Callable[[str], list[str]] | None) -> list[str]:
    """A list variable, either as Bitbucket sends YAML lists (NAME_COUNT, NAME_0...) or as one
    comma- or space-separated NAME value (as a repository variable can only be).

    A list that is set must say what it means: an empty item (a YAML item from an unset variable),
    a set value that holds no item (" , ,"), or both forms disagreeing is refused, never read as
    "no list" (for a guard rail such as AWS_ALLOWED_ACCOUNT_IDS that would be "no guard")."""
    plain = env.get(name, "")
    check_text(name, plain)
    from_plain = (split or _words)(plain) if plain.strip() else []
    if plain.strip() and not from_plain:
        raise PipeError(f"{name} is set but holds no items; give at least one item or unset it.")
    count_text = env.get(f"{name}_COUNT")
    if count_text is None or count_text.strip() == "":
        return from_plain
    if not re.fullmatch(r"[0-9]+", count_text.strip()) or int(count_text) > MAX_LIST_ITEMS:
        raise PipeError(f"{name}_COUNT must be the number of items in {name}, got {shown(count_text)}.")
    found = [env.get(f"{name}_{index}") for index in range(int(count_text))]
    if None in found:
        missing = f"{name}_{found.index(None)}"
        raise PipeError(f"{name}_COUNT is {count_text.strip()} but {missing} is missing.")
    items = [item for item in found if item is not None]
    for index, item in enumerate(items):
        if not item.strip():
            raise PipeError(
                f"{name}_{index} is empty (a list item from an unset variable?); remove the item or give it a value."
            )
    items = [item.strip() for item in items]
    if plain.strip() and from_plain != items:
        raise PipeError(
            f"{name} is set both as a list ({name}_COUNT={count_text.strip()}) and as a plain value, and they "
            "differ; set it one way."
        )
    return items


def read_all(variables: tuple[Variable, ...], env: Mapping[str, str]) -> dict[str, Any]:
    """Read and check every declared variable. Raises PipeError on the first bad one."""
    lists = {v.name: _list_items(v.name, env, v.split) for v in variables if v.is_list}
    values = {}
    for variable in variables:
        values[variable.name] = variable.read(
            lists[variable.name] if variable.is_list else env.get(variable.name)
        )
    return values
