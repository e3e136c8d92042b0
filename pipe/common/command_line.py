"""Options in a user's command line (KUBECTL_COMMAND, KUBECTL_ARGS, CDK_ARGS) that the pipe refuses,
whatever their spelling, and the values of the options that name files.

A job declares one tuple of Refused options: those that would send its credentials elsewhere or
change which target is used. Every spelling a CLI accepts is recognised: `--opt`, `--opt=value`,
`--opt value`, and for a short form `-o`, `-o value` and `-ovalue`.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipe.common.errors import PipeError

# Every C0 control (tab and line breaks too), DEL, every C1 control (NEL), the line and paragraph
# separators and the bidirectional controls: none belongs in a program's argument, and a program that
# echoes its arguments (an error message, verbose output) would print them as lines of its own.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Refused:
    spellings: tuple[str, ...]  # long ("--server") and short ("-s") forms
    reason: str


def _is_spelling(word: str, spelling: str) -> bool:
    if word == spelling:
        return True
    if spelling.startswith("--"):
        return word.startswith(spelling + "=")
    # A short form may carry its value attached (-shttp://x, -s=x); "--..." words are long options.
    return not word.startswith("--") and word.startswith(spelling)


def check(words: Iterable[str], refused: tuple[Refused, ...], variable: str) -> None:
    """One line naming the first refused option in `words` and why; the value is never echoed
    (`--token=...` holds a credential)."""
    for word in words:
        for option in refused:
            for spelling in option.spellings:
                if _is_spelling(word, spelling):
                    raise PipeError(f"{variable} must not hold {spelling}: {option.reason}.")


def values_of(words: list[str], spellings: tuple[str, ...]) -> list[str]:
    """The values given to the options spelt `spellings` (e.g. -f/--filename) in `words`."""
    found = []
    for index, word in enumerate(words):
        for spelling in spellings:
            if word == spelling:
                if index + 1 < len(words):
                    found.append(words[index + 1])
            elif spelling.startswith("--") and word.startswith(spelling + "="):
                found.append(word[len(spelling) + 1 :])
            elif not spelling.startswith("--") and not word.startswith("--") and word.startswith(spelling):
                found.append(word[len(spelling) :].removeprefix("="))
    return found


def check_argument(text: str, variable: str) -> str:
    """`text`, one item of `variable` that becomes a program's argument, refused if it holds a control
    character. The value is not echoed: an argument may be a credential (`--token=...`)."""
    if _CONTROL.search(text):
        raise PipeError(
            f"{variable} holds a control character (a line break, tab or other control) in an argument; "
            "a program would get it in its arguments and could print it as a line of its own: remove it."
        )
    return text
