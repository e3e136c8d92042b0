"""Options in a user's command line (KUBECTL_COMMAND, KUBECTL_ARGS, CDK_ARGS) that the pipe refuses,
whatever their spelling, and the values of the options that name files.

A job declares one tuple of Refused options: those that would send its credentials elsewhere or
change which target is used. Every spelling a CLI accepts is recognised: `--opt`, `--opt=value`,
`--opt value`, and for a short form `-o`, `-o value` and `-ovalue`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from pipe.common.errors import PipeError


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
